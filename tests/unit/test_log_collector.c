/* test_log_collector.c: what the coordinator does with LogBatch frames
 * from a worker that holds its secret (issue 15): a seq that jumps past
 * the records the worker said it dropped is invalid input, not loss; a
 * frame of more than CORRAL_LOG_BATCH_MAX_RECORDS records writes nothing;
 * no counter wraps; and a batch without the secret is forged. While it
 * holds (a binary upgrade's successor), nothing reaches the file until it
 * is released, then everything, in order, within the bound. A real
 * collector (a real `logs` socket in a temporary runtime directory) writes
 * to a real file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "envelope.h"
#include "log.h"
#include "log_collector.h"
#include "worker_secret.h"

#define SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct {
    char dir[64];
    char file[96];
    zloop_t *loop;
    corral_log_collector_t *collector;
} fixture_t;

static int
setup(void **state)
{
    fixture_t *self = calloc(1, sizeof *self);
    strcpy(self->dir, "/tmp/corral-collector-XXXXXX");
    assert_non_null(mkdtemp(self->dir));
    snprintf(self->file, sizeof self->file, "%s/out.log", self->dir);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "logging:\n"
             "  appenders: { out: { type: file, fileName: %s,\n"
             "                      layout: { type: pattern, pattern: \"%%message\" } } }\n"
             "  root: { appenders: [out], level: all }\n", self->file);
    char *error = NULL;
    corral_config_t *config = corral_config_parse("/t/corral.yml", yaml, strlen(yaml), &error);
    assert_non_null(config);
    corral_log_router_options_t options = { .with_appenders = true, .clustered = true };
    corral_log_router_t *router = corral_log_router_new(config->logging.config, &options, &error);
    assert_non_null(router);
    corral_config_destroy(&config);
    zsys_handler_set(NULL);
    self->loop = zloop_new();
    self->collector = corral_log_collector_new(self->loop, self->dir, 2, router);
    assert_non_null(self->collector);
    corral_log_set_sink(NULL, NULL);
    corral_log_collector_set_secret(self->collector, 1, SECRET);
    *state = self;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *self = *state;
    corral_log_collector_destroy(&self->collector);
    zloop_destroy(&self->loop);
    unlink(self->file);
    rmdir(self->dir);
    free(self);
    return 0;
}

/* A LogBatch of `count` records with seqs from `first`, as one frame. */
static void
take(fixture_t *self, uint32_t worker, uint64_t first, size_t count, uint64_t dropped,
     const char *secret)
{
    Corral__V1__LogRecord *records = calloc(count, sizeof *records);
    Corral__V1__LogRecord **pointers = calloc(count, sizeof *pointers);
    for (size_t i = 0; i < count; i++) {
        corral__v1__log_record__init(&records[i]);
        records[i].level = CORRAL_LEVEL_INFO;
        records[i].logger = "t";
        records[i].message = "line";
        records[i].seq = first + i;
        pointers[i] = &records[i];
    }
    Corral__V1__LogBatch batch = CORRAL__V1__LOG_BATCH__INIT;
    batch.worker_id = worker;
    batch.n_records = count;
    batch.records = pointers;
    batch.dropped = dropped;
    if (secret)
        batch.secret = (ProtobufCBinaryData) { strlen(secret), (uint8_t *) secret };
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_LOG_BATCH;
    envelope.log_batch = &batch;
    size_t size = corral__v1__envelope__get_packed_size(&envelope);
    uint8_t *bytes = malloc(size);
    corral__v1__envelope__pack(&envelope, bytes);
    corral_log_collector_take_frame(self->collector, bytes, size);
    free(bytes);
    free(pointers);
    free(records);
}

static corral_log_counters_t
counters(fixture_t *self)
{
    corral_log_counters_t out;
    corral_log_collector_counters(self->collector, &out);
    return out;
}

static void
test_seq_jump_is_invalid_not_loss(void **state)
{
    fixture_t *self = *state;
    take(self, 1, 1, 10, 0, SECRET);
    assert_int_equal(counters(self).received, 10);
    take(self, 1, 1000000, 1, 0, SECRET);          /* a jump of a million */
    corral_log_counters_t after = counters(self);
    assert_int_equal(after.received, 10);
    assert_int_equal(after.invalid, 1);
    assert_int_equal(after.dropped, 0);
    assert_int_equal(after.gaps, 0);
    /* what the worker said it dropped may be missing: that is its own loss */
    take(self, 1, 11 + 5000, 1, 5000, SECRET);
    after = counters(self);
    assert_int_equal(after.received, 11);
    assert_int_equal(after.invalid, 1);
    /* the stream goes on from where it really was */
    take(self, 1, 5012, 3, 5000, SECRET);
    assert_int_equal(counters(self).received, 14);
}

static void
test_a_frame_writes_a_bounded_number_of_lines(void **state)
{
    fixture_t *self = *state;
    take(self, 1, 1, CORRAL_LOG_BATCH_MAX_RECORDS + 1, 0, SECRET);
    corral_log_counters_t after = counters(self);
    assert_int_equal(after.received, 0);
    assert_int_equal(after.invalid, 1);
    take(self, 1, 1, CORRAL_LOG_BATCH_MAX_RECORDS, 0, SECRET);
    assert_int_equal(counters(self).received, CORRAL_LOG_BATCH_MAX_RECORDS);
}

static void
test_no_counter_wraps(void **state)
{
    fixture_t *self = *state;
    take(self, 1, 1, 1, UINT64_MAX - 2, SECRET);   /* the worker's own count, at the top */
    take(self, 1, UINT64_MAX, 1, UINT64_MAX, SECRET);
    corral_log_counters_t after = counters(self);
    assert_true(after.dropped >= UINT64_MAX - 2);  /* saturated, never small */
}

static void
test_without_the_secret_nothing_is_taken(void **state)
{
    fixture_t *self = *state;
    take(self, 1, 1, 5, 0, NULL);
    take(self, 1, 1, 5, 0, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeX");
    take(self, 2, 1, 5, 0, SECRET);     /* worker 2 has no secret yet: nothing is accepted */
    corral_log_counters_t after = counters(self);
    assert_int_equal(after.received, 0);
    assert_int_equal(after.forged, 3);
    assert_int_equal(after.dropped, 0);
}

static int
lines_in(const fixture_t *self)
{
    FILE *file = fopen(self->file, "r");
    int lines = 0, c;
    while (file && (c = fgetc(file)) != EOF)
        lines += c == '\n';
    if (file)
        fclose(file);
    return lines;
}

static void
flush(fixture_t *self)
{
    corral_log_collector_drain_worker(self->collector, 0, 0, 0);
}

static void
test_held_records_are_written_at_release(void **state)
{
    fixture_t *self = *state;
    take(self, 1, 1, 3, 0, SECRET);
    flush(self);
    assert_int_equal(lines_in(self), 3);
    corral_log_collector_hold(self->collector, 1 << 20);
    take(self, 1, 4, 4, 0, SECRET);
    flush(self);
    assert_int_equal(lines_in(self), 3);        /* another process writes the file */
    assert_int_equal(counters(self).received, 7);
    corral_log_collector_release(self->collector);
    assert_int_equal(lines_in(self), 7);
    take(self, 1, 8, 1, 0, SECRET);
    flush(self);
    assert_int_equal(lines_in(self), 8);
}

static void
test_hold_is_bounded(void **state)
{
    fixture_t *self = *state;
    corral_log_collector_hold(self->collector, 1000);
    take(self, 1, 1, 100, 0, SECRET);
    corral_log_collector_release(self->collector);
    int written = lines_in(self);
    assert_true(written > 0 && written < 100);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seq_jump_is_invalid_not_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_frame_writes_a_bounded_number_of_lines, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_counter_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_the_secret_nothing_is_taken, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_held_records_are_written_at_release, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hold_is_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
