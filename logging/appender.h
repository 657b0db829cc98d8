/* appender.h: where formatted records go: `console` (standard output),
 * `file` and `rolling-file` (appender_*.h). Lines are buffered whole and
 * written when the buffer fills or on corral_appender_flush, so a line is
 * never split between two write(2) calls' worth of interleaving. A write
 * error (disk full) drops what was buffered, is counted and is warned
 * about once on stderr; the appender keeps trying with later lines. */
#ifndef CORRAL_APPENDER_H
#define CORRAL_APPENDER_H

#include <stdint.h>

#include "layout.h"
#include "record.h"

typedef struct corral_appender corral_appender_t;

/* Formats the record into the buffer (flushing first when it is full).
 * Returns 0, or -1 if the record was lost (counted). */
int corral_appender_append(corral_appender_t *self, const corral_log_record_t *record);
/* Writes what is buffered. Returns 0, or -1 (counted). */
int corral_appender_flush(corral_appender_t *self);
/* Flushes, then closes and reopens the file by its name (after logrotate
 * renamed it). Console: only flushes. Returns 0, or -1. */
int corral_appender_reopen(corral_appender_t *self);

/* Log files are created readable by the owner's group (for a log shipper)
 * and no one else, unless configured otherwise. */
#define CORRAL_LOG_FILE_MODE 0640
/* The permission bits of the file from now on (the open one is changed
 * too, and every file created later). Returns 0, or -1 with errno set. */
int corral_appender_set_mode(corral_appender_t *self, unsigned mode);
void corral_appender_destroy(corral_appender_t **self_p);

const char *corral_appender_name(const corral_appender_t *self);
/* Failed writes (each may have lost several lines), and lines lost (all
 * of them: those failed writes lost, and those the layout could not
 * format, counted apart as well). */
uint64_t corral_appender_write_errors(const corral_appender_t *self);
uint64_t corral_appender_lines_lost(const corral_appender_t *self);
uint64_t corral_appender_lines_unformatted(const corral_appender_t *self);

#endif
