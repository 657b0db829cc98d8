/* test_supervisor.c: the supervisor's decisions (broker/supervision/
 * supervisor.h), driven through corral_supervisor_ops_t with a fake clock,
 * fake timers and fake processes: nothing is forked and nothing waits.
 * Each test tells the supervisor what happened (a process became ready,
 * reported, was reaped with some wait status) and asserts what it decided:
 * restart or not and after which backoff, which signals it sent, whether
 * the instance must stop, which process a slot shows, who holds the main
 * role. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor.h"

#define KILLED_BY(signal_number) (signal_number)      /* wait statuses */
#define EXITED_WITH(code) ((code) << 8)
#define TIMERS_MAX 64
#define PROCESSES_MAX 64
#define SIGNALS_MAX 64
#define FIRST_PID 1000

/* --- The fake world the supervisor acts on -------------------------------------- */

typedef struct {
    bool active;
    int64_t due;
    uint64_t delay;
    bool repeat;
    zloop_timer_fn *fn;
    void *arg;
} fake_timer_t;

typedef struct {
    int64_t now;
    fake_timer_t timers[TIMERS_MAX];
    corral_process_t *processes[PROCESSES_MAX];     /* by pid - FIRST_PID; NULL once freed */
    int spawned;
    struct { pid_t pid; int signal_number; } signals[SIGNALS_MAX];
    int signal_count;
    const corral_process_t *shown[8];               /* what each slot shows, by slot id */
    const corral_process_t *told_main;              /* the last one told it is main */
    int stop_code;                                  /* -1: the instance goes on */
    char stop_why[128];
    bool all_ready;
    bool oom_killed[PROCESSES_MAX];                 /* by pid - FIRST_PID */
    int replaced_calls;
    bool replaced;
} world_t;

static world_t world;

static pid_t
fake_spawn(void *arg, corral_process_t *process, char **error)
{
    pid_t pid = FIRST_PID + world.spawned;
    world.processes[world.spawned++] = process;
    return pid;
}

static void
fake_slot_changed(void *arg, int slot_id, const corral_process_t *process)
{
    world.shown[slot_id] = process;
}

static void
fake_tell_main(void *arg, const corral_process_t *process, bool main)
{
    if (main)
        world.told_main = process;
}

static void
fake_stop_instance(void *arg, int exit_code, const char *why)
{
    if (exit_code > world.stop_code)
        world.stop_code = exit_code;
    snprintf(world.stop_why, sizeof world.stop_why, "%s", why);
}

static void
fake_all_ready(void *arg)
{
    world.all_ready = true;
}

static void
fake_forget(void *arg, corral_process_t *process)
{
    for (int i = 0; i < world.spawned; i++)
        if (world.processes[i] == process)
            world.processes[i] = NULL;
}

static bool
fake_killed_for_memory(void *arg, const corral_process_t *process, int status)
{
    return world.oom_killed[corral_process_pid(process) - FIRST_PID];
}

static int64_t
fake_now(void *arg)
{
    return world.now;
}

static int
fake_timer(void *arg, uint64_t delay_ms, bool repeat, zloop_timer_fn *fn, void *fn_arg)
{
    for (int id = 0; id < TIMERS_MAX; id++)
        if (!world.timers[id].active) {
            world.timers[id] = (fake_timer_t) { true, world.now + (int64_t) delay_ms, delay_ms,
                                                repeat, fn, fn_arg };
            return id;
        }
    fail_msg("out of fake timers");
    return -1;
}

static void
fake_timer_end(void *arg, int timer_id)
{
    assert_true(timer_id >= 0 && timer_id < TIMERS_MAX && world.timers[timer_id].active);
    world.timers[timer_id].active = false;
}

static int
fake_signal(void *arg, pid_t pid, int signal_number)
{
    assert_true(world.signal_count < SIGNALS_MAX);
    world.signals[world.signal_count].pid = pid;
    world.signals[world.signal_count++].signal_number = signal_number;
    return 0;
}

static const corral_supervisor_ops_t fake_ops = {
    .spawn = fake_spawn, .slot_changed = fake_slot_changed, .tell_main = fake_tell_main,
    .stop_instance = fake_stop_instance, .all_ready = fake_all_ready, .forget = fake_forget,
    .killed_for_memory = fake_killed_for_memory,
    .now_ms = fake_now, .timer = fake_timer, .timer_end = fake_timer_end,
    .signal = fake_signal,
};

/* Time passes: due timers fire in order, each at its own time. */
static void
advance(int64_t ms)
{
    int64_t until = world.now + ms;
    for (;;) {
        int next = -1;
        for (int id = 0; id < TIMERS_MAX; id++)
            if (world.timers[id].active && world.timers[id].due <= until
                && (next < 0 || world.timers[id].due < world.timers[next].due))
                next = id;
        if (next < 0)
            break;
        fake_timer_t *timer = &world.timers[next];
        world.now = timer->due;
        if (timer->repeat)
            timer->due += (int64_t) (timer->delay ? timer->delay : 1);
        else
            timer->active = false;
        timer->fn(NULL, next, timer->arg);
    }
    world.now = until;
}

/* The one-shot timer due soonest: its delay from now, or -1. */
static int64_t
next_one_shot_in(void)
{
    int64_t soonest = -1;
    for (int id = 0; id < TIMERS_MAX; id++)
        if (world.timers[id].active && !world.timers[id].repeat
            && (soonest < 0 || world.timers[id].due - world.now < soonest))
            soonest = world.timers[id].due - world.now;
    return soonest;
}

/* Signals sent to `pid` so far, the last one first; 0 if none. */
static int
last_signal_to(pid_t pid)
{
    for (int i = world.signal_count - 1; i >= 0; i--)
        if (world.signals[i].pid == pid)
            return world.signals[i].signal_number;
    return 0;
}

static int
signals_to(pid_t pid)
{
    int count = 0;
    for (int i = 0; i < world.signal_count; i++)
        count += world.signals[i].pid == pid;
    return count;
}

/* --- Slots and policies ------------------------------------------------------- */

static corral_supervision_t
policy(void)
{
    return (corral_supervision_t) {
        .policy = CORRAL_RESTART_ALWAYS, .max_restarts = 5, .window_ms = 60000,
        .backoff_initial_ms = 100, .backoff_max_ms = 10000, .heartbeat_timeout_ms = 1000,
        .ready_timeout_ms = 3000, .shutdown_timeout_ms = 5000,
    };
}

static corral_slot_spec_t specs[4];

static corral_supervisor_t *
supervisor_with(const corral_supervision_t *policy, int slots)
{
    memset(&world, 0, sizeof world);
    world.stop_code = -1;
    world.now = 1000000;
    for (int i = 0; i < slots; i++) {
        specs[i] = (corral_slot_spec_t) { .http = true, .listen_index = 1, .may_be_main = true,
                                          .config_generation = 1 };
        snprintf(specs[i].name, sizeof specs[i].name, "worker-%d", i + 1);
    }
    corral_supervisor_t *supervisor = corral_supervisor_new(NULL, policy, specs, slots,
                                                            &fake_ops, NULL);
    assert_non_null(supervisor);
    return supervisor;
}

/* Every slot started and ready: the instance is up. */
static corral_supervisor_t *
running(const corral_supervision_t *policy, int slots)
{
    corral_supervisor_t *supervisor = supervisor_with(policy, slots);
    assert_int_equal(corral_supervisor_start(supervisor), 0);
    assert_int_equal(world.spawned, slots);
    for (int id = 1; id <= slots; id++)
        corral_supervisor_ready(supervisor, corral_supervisor_current(supervisor, id));
    assert_true(world.all_ready);
    return supervisor;
}

static const char *
state_of(corral_supervisor_t *supervisor, int slot_id)
{
    Corral__V1__WorkerView view = CORRAL__V1__WORKER_VIEW__INIT;
    corral_supervisor_fill_view(supervisor, slot_id, &view);
    return view.state;
}

static const char *
last_reason(corral_supervisor_t *supervisor, int slot_id)
{
    Corral__V1__WorkerView view = CORRAL__V1__WORKER_VIEW__INIT;
    corral_supervisor_fill_view(supervisor, slot_id, &view);
    return view.last_exit ? view.last_exit->reason : "";
}

static void
assert_restarts(corral_supervisor_t *supervisor, const char *expected)
{
    char text[128];
    corral_supervisor_describe_restarts(supervisor, text, sizeof text);
    assert_string_equal(text, expected);
}

/* Reaps the process slot `slot_id` shows; returns its pid. */
static pid_t
reap_current(corral_supervisor_t *supervisor, int slot_id, int status)
{
    corral_process_t *process = corral_supervisor_current(supervisor, slot_id);
    assert_non_null(process);
    pid_t pid = corral_process_pid(process);
    corral_supervisor_reaped(supervisor, process, status);
    return pid;
}

static void
reap_pid(corral_supervisor_t *supervisor, pid_t pid, int status)
{
    corral_process_t *process = corral_supervisor_process(supervisor, pid);
    assert_non_null(process);
    corral_supervisor_reaped(supervisor, process, status);
}

static void
stop_all(corral_supervisor_t **supervisor_p)
{
    corral_supervisor_destroy(supervisor_p);
    assert_null(*supervisor_p);
}

/* --- Crashes ------------------------------------------------------------------ */

static void
test_a_crash_restarts_after_the_backoff(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = running(&rules, 2);
    pid_t crashed = reap_current(supervisor, 2, KILLED_BY(SIGSEGV));
    assert_int_equal(world.stop_code, -1);
    assert_null(world.shown[2]);
    assert_string_equal(state_of(supervisor, 2), "waiting");
    assert_string_equal(last_reason(supervisor, 2), "crashed");
    /* the backoff: the initial delay, less up to 20% */
    int64_t delay = next_one_shot_in();
    assert_true(delay >= 80 && delay <= 100);
    advance(delay - 1);
    assert_int_equal(world.spawned, 2);
    advance(1);
    assert_int_equal(world.spawned, 3);
    corral_process_t *restarted = corral_supervisor_current(supervisor, 2);
    assert_ptr_equal(world.shown[2], restarted);
    assert_int_not_equal(corral_process_pid(restarted), crashed);
    assert_int_equal(corral_process_generation(restarted), 2);
    assert_true(corral_process_starting(restarted));
    corral_supervisor_ready(supervisor, restarted);
    assert_string_equal(state_of(supervisor, 2), "ready");
    assert_restarts(supervisor, "1 crashed, 0 hung, 0 memory, 0 recycled");
    stop_all(&supervisor);
}

static void
test_a_crash_loop_stops_the_instance(void **state)
{
    corral_supervision_t rules = policy();
    rules.max_restarts = 2;
    corral_supervisor_t *supervisor = running(&rules, 1);
    int64_t delays[2];
    for (int i = 0; i < 2; i++) {
        reap_current(supervisor, 1, EXITED_WITH(1));
        assert_int_equal(world.stop_code, -1);
        delays[i] = next_one_shot_in();
        advance(delays[i]);
        /* it dies again before it is ready: failures in a row */
    }
    /* the backoff doubles with failures in a row */
    assert_true(delays[0] >= 80 && delays[0] <= 100);
    assert_true(delays[1] >= 160 && delays[1] <= 200);
    reap_current(supervisor, 1, KILLED_BY(SIGSEGV));
    assert_int_equal(world.stop_code, 1);
    assert_non_null(strstr(world.stop_why, "crash-looping"));
    assert_string_equal(state_of(supervisor, 1), "exited");
    assert_int_equal(next_one_shot_in(), -1);   /* no restart pending */
    stop_all(&supervisor);
}

static void
test_exits_that_are_never_restarted(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = running(&rules, 2);
    reap_current(supervisor, 2, EXITED_WITH(78));          /* its configuration refused */
    assert_int_equal(world.stop_code, 78);
    assert_string_equal(state_of(supervisor, 2), "exited");
    stop_all(&supervisor);

    /* a worker that exits before it was ever ready at boot: a boot failure */
    supervisor = supervisor_with(&rules, 2);
    assert_int_equal(corral_supervisor_start(supervisor), 0);
    corral_supervisor_ready(supervisor, corral_supervisor_current(supervisor, 1));
    reap_current(supervisor, 2, EXITED_WITH(1));
    assert_int_equal(world.stop_code, 1);
    assert_non_null(strstr(world.stop_why, "boot"));
    assert_false(world.all_ready);
    stop_all(&supervisor);

    /* under on-failure, a clean exit is left alone */
    rules.policy = CORRAL_RESTART_ON_FAILURE;
    supervisor = running(&rules, 2);
    reap_current(supervisor, 2, EXITED_WITH(0));
    assert_int_equal(world.stop_code, -1);
    assert_string_equal(state_of(supervisor, 2), "exited");
    assert_int_equal(next_one_shot_in(), -1);
    stop_all(&supervisor);
}

static void
test_an_oom_kill_is_memory(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = running(&rules, 2);
    world.oom_killed[corral_process_pid(corral_supervisor_current(supervisor, 2)) - FIRST_PID]
        = true;
    reap_current(supervisor, 2, KILLED_BY(SIGKILL));
    assert_string_equal(last_reason(supervisor, 2), "memory");
    reap_current(supervisor, 1, KILLED_BY(SIGKILL));      /* anyone's kill -9 */
    assert_string_equal(last_reason(supervisor, 1), "crashed");
    stop_all(&supervisor);
}

/* --- Hung ----------------------------------------------------------------------- */

static void
test_a_silent_worker_is_hung(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = running(&rules, 2);
    corral_process_t *quiet = corral_supervisor_current(supervisor, 2);
    pid_t pid = corral_process_pid(quiet);
    /* worker-1 reports; worker-2 falls silent */
    for (int i = 0; i < 6; i++) {
        advance(250);
        corral_supervisor_heard(supervisor, corral_supervisor_current(supervisor, 1), 0, 0);
    }
    assert_int_equal(last_signal_to(pid), SIGABRT);
    assert_int_equal(signals_to(FIRST_PID), 0);
    /* still there 2 s after SIGABRT: SIGKILL */
    advance(2000);
    assert_int_equal(last_signal_to(pid), SIGKILL);
    assert_int_equal(signals_to(pid), 2);
    reap_current(supervisor, 2, KILLED_BY(SIGKILL));
    assert_string_equal(last_reason(supervisor, 2), "hung");
    assert_string_equal(state_of(supervisor, 2), "waiting");
    advance(next_one_shot_in());
    assert_int_equal(world.spawned, 3);
    assert_restarts(supervisor, "0 crashed, 1 hung, 0 memory, 0 recycled");
    stop_all(&supervisor);
}

static void
test_a_restart_that_hangs_before_it_is_ready_is_hung(void **state)
{
    corral_supervision_t rules = policy();
    rules.heartbeat_timeout_ms = 0;     /* the others are silent here: only the ready bound */
    corral_supervisor_t *supervisor = running(&rules, 2);
    reap_current(supervisor, 2, KILLED_BY(SIGSEGV));
    advance(next_one_shot_in());
    corral_process_t *restarted = corral_supervisor_current(supervisor, 2);
    pid_t pid = corral_process_pid(restarted);
    assert_true(corral_process_starting(restarted));
    /* it never says Ready, never reports: within the ready timeout it is
     * left alone, past it it is hung */
    advance(rules.ready_timeout_ms - 250);
    assert_int_equal(signals_to(pid), 0);
    advance(1000);
    assert_int_equal(last_signal_to(pid), SIGABRT);
    reap_current(supervisor, 2, KILLED_BY(SIGABRT));
    assert_string_equal(last_reason(supervisor, 2), "hung");
    assert_int_equal(world.stop_code, -1);
    assert_string_equal(state_of(supervisor, 2), "waiting");

    stop_all(&supervisor);

    /* a slot's first process at boot has the boot's bound, not this one */
    corral_supervisor_t *booting = supervisor_with(&rules, 1);
    assert_int_equal(corral_supervisor_start(booting), 0);
    advance(10 * (int64_t) rules.ready_timeout_ms);
    assert_int_equal(world.signal_count, 0);
    stop_all(&booting);
}

/* --- Replacements -------------------------------------------------------------- */

static void
test_recycle_starts_the_replacement_beside_the_old_one(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = supervisor_with(&rules, 2);
    specs[1].recycle_max_requests = 100;
    corral_supervisor_set_spec(supervisor, 2, &specs[1]);
    assert_int_equal(corral_supervisor_start(supervisor), 0);
    for (int id = 1; id <= 2; id++)
        corral_supervisor_ready(supervisor, corral_supervisor_current(supervisor, id));
    corral_process_t *old = corral_supervisor_current(supervisor, 2);
    pid_t old_pid = corral_process_pid(old);
    corral_supervisor_heard(supervisor, old, 0, 99);
    assert_int_equal(world.spawned, 2);
    corral_supervisor_heard(supervisor, old, 0, 100);
    assert_int_equal(world.spawned, 3);
    /* the new one starts beside it: the slot still shows the old one */
    corral_process_t *incoming = world.processes[2];
    assert_ptr_equal(corral_supervisor_current(supervisor, 2), old);
    assert_ptr_equal(world.shown[2], old);
    assert_int_equal(signals_to(old_pid), 0);
    corral_supervisor_heard(supervisor, old, 0, 500);      /* no second replacement */
    assert_int_equal(world.spawned, 3);
    /* ready: it is the slot's now, and the old one stops gracefully */
    corral_supervisor_ready(supervisor, incoming);
    assert_ptr_equal(corral_supervisor_current(supervisor, 2), incoming);
    assert_ptr_equal(world.shown[2], incoming);
    assert_int_equal(last_signal_to(old_pid), SIGTERM);
    reap_pid(supervisor, old_pid, EXITED_WITH(0));
    assert_int_equal(world.stop_code, -1);
    assert_int_equal(next_one_shot_in(), -1);               /* nothing to restart */
    assert_restarts(supervisor, "0 crashed, 0 hung, 0 memory, 1 recycled");
    stop_all(&supervisor);
}

static void
on_replaced(void *arg, int slot_id, bool replaced)
{
    world.replaced_calls++;
    world.replaced = replaced;
}

static void
test_a_replacement_that_dies_leaves_the_old_one_serving(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = running(&rules, 2);
    corral_process_t *old = corral_supervisor_current(supervisor, 1);
    assert_int_equal(corral_supervisor_replace(supervisor, 1, "a reload", on_replaced, NULL), 0);
    /* one replacement at a time */
    assert_int_equal(corral_supervisor_replace(supervisor, 1, "again", on_replaced, NULL), -1);
    pid_t incoming = FIRST_PID + world.spawned - 1;
    reap_pid(supervisor, incoming, KILLED_BY(SIGSEGV));
    assert_int_equal(world.replaced_calls, 1);
    assert_false(world.replaced);
    assert_ptr_equal(corral_supervisor_current(supervisor, 1), old);
    assert_int_equal(signals_to(corral_process_pid(old)), 0);
    assert_int_equal(world.stop_code, -1);
    assert_int_equal(next_one_shot_in(), -1);
    stop_all(&supervisor);
}

/* A reload's rollback: the replacement still starting is stopped, and the
 * old process keeps the slot; once done, a replacement reports success. */
static void
test_a_cancelled_replacement_is_rolled_back(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = running(&rules, 2);
    corral_process_t *old = corral_supervisor_current(supervisor, 2);
    assert_int_equal(corral_supervisor_replace(supervisor, 2, "a reload", on_replaced, NULL), 0);
    pid_t incoming = FIRST_PID + world.spawned - 1;
    corral_supervisor_cancel(supervisor, 2);
    assert_int_equal(last_signal_to(incoming), SIGTERM);
    assert_ptr_equal(corral_supervisor_current(supervisor, 2), old);
    reap_pid(supervisor, incoming, EXITED_WITH(0));
    assert_int_equal(world.replaced_calls, 0);               /* cancelled: told nothing */
    assert_int_equal(world.stop_code, -1);
    assert_restarts(supervisor, "0 crashed, 0 hung, 0 memory, 1 recycled");

    /* the same slot can be replaced again, and this time it works */
    assert_int_equal(corral_supervisor_replace(supervisor, 2, "the rollback", on_replaced, NULL),
                     0);
    corral_process_t *next = world.processes[world.spawned - 1];
    corral_supervisor_ready(supervisor, next);
    assert_int_equal(world.replaced_calls, 1);
    assert_true(world.replaced);
    assert_ptr_equal(corral_supervisor_current(supervisor, 2), next);
    assert_int_equal(last_signal_to(corral_process_pid(old)), SIGTERM);
    stop_all(&supervisor);
}

/* --- The main role ----------------------------------------------------------- */

static void
test_the_main_role_moves_to_the_lowest_ready_slot(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = running(&rules, 3);
    corral_process_t *first = corral_supervisor_current(supervisor, 1);
    assert_true(corral_process_main(first));
    assert_false(corral_process_main(corral_supervisor_current(supervisor, 2)));
    reap_current(supervisor, 1, KILLED_BY(SIGSEGV));
    /* slot 2's process holds it now, told over desk */
    corral_process_t *second = corral_supervisor_current(supervisor, 2);
    assert_ptr_equal(world.told_main, second);
    assert_true(corral_process_main(second));
    /* slot 1 comes back without it: never two holders */
    advance(next_one_shot_in());
    corral_process_t *back = corral_supervisor_current(supervisor, 1);
    corral_supervisor_ready(supervisor, back);
    assert_false(corral_process_main(back));
    assert_ptr_equal(world.told_main, second);
    stop_all(&supervisor);
}

/* --- A stop ---------------------------------------------------------------------- */

static void
test_a_stop_restarts_nothing_and_kills_stragglers(void **state)
{
    corral_supervision_t rules = policy();
    corral_supervisor_t *supervisor = running(&rules, 2);
    pid_t one = corral_process_pid(corral_supervisor_current(supervisor, 1));
    pid_t two = corral_process_pid(corral_supervisor_current(supervisor, 2));
    corral_supervisor_stop(supervisor);
    assert_int_equal(last_signal_to(one), SIGTERM);
    assert_int_equal(last_signal_to(two), SIGTERM);
    reap_current(supervisor, 1, EXITED_WITH(0));
    assert_int_equal(next_one_shot_in(), rules.shutdown_timeout_ms);    /* worker-2's SIGKILL */
    advance(rules.shutdown_timeout_ms);
    assert_int_equal(last_signal_to(two), SIGKILL);
    reap_current(supervisor, 2, KILLED_BY(SIGKILL));
    assert_int_equal(corral_supervisor_live(supervisor), 0);
    assert_int_equal(world.spawned, 2);
    assert_int_equal(world.stop_code, -1);      /* killed stragglers do not fail the stop */
    stop_all(&supervisor);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_crash_restarts_after_the_backoff),
        cmocka_unit_test(test_a_crash_loop_stops_the_instance),
        cmocka_unit_test(test_exits_that_are_never_restarted),
        cmocka_unit_test(test_an_oom_kill_is_memory),
        cmocka_unit_test(test_a_silent_worker_is_hung),
        cmocka_unit_test(test_a_restart_that_hangs_before_it_is_ready_is_hung),
        cmocka_unit_test(test_recycle_starts_the_replacement_beside_the_old_one),
        cmocka_unit_test(test_a_replacement_that_dies_leaves_the_old_one_serving),
        cmocka_unit_test(test_a_cancelled_replacement_is_rolled_back),
        cmocka_unit_test(test_the_main_role_moves_to_the_lowest_ready_slot),
        cmocka_unit_test(test_a_stop_restarts_nothing_and_kills_stragglers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
