/* router.h: the resolved logging configuration (a corral.v1.LogConfig):
 * each logger's level and appenders by hierarchical name
 * (`plugins.migrations` inherits from `plugins`, then from root), and the
 * appenders themselves. The coordinator and a classic worker build one
 * with appenders; a clustered worker builds one for the levels only. */
#ifndef CORRAL_ROUTER_H
#define CORRAL_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "appender.h"
#include "corral/v1/corral.pb-c.h"
#include "record.h"

typedef struct corral_log_router corral_log_router_t;

typedef struct {
    bool with_appenders;        /* false: levels only */
    bool clustered;             /* the default pattern shows %worker */
} corral_log_router_options_t;

/* NULL with *error set (free it) if an appender cannot be created, e.g.
 * "appender file: cannot open /x/corral.log: Permission denied". */
corral_log_router_t *corral_log_router_new(const Corral__V1__LogConfig *config,
                                           const corral_log_router_options_t *options,
                                           char **error);
void corral_log_router_destroy(corral_log_router_t **self_p);

/* The level of `logger` (its own, or its nearest configured ancestor's). */
corral_level_t corral_log_router_level(const corral_log_router_t *self, const char *logger);
/* The lowest level any logger logs at. */
corral_level_t corral_log_router_min_level(const corral_log_router_t *self);

/* Hands the record to its logger's appenders (buffered; see flush). */
void corral_log_router_write(corral_log_router_t *self, const corral_log_record_t *record);
void corral_log_router_flush(corral_log_router_t *self);
/* Reopens every file appender (SIGUSR1). */
void corral_log_router_reopen(corral_log_router_t *self);
/* Its appenders (with_appenders), for their counters. */
size_t corral_log_router_appender_count(const corral_log_router_t *self);
const corral_appender_t *corral_log_router_appender(const corral_log_router_t *self,
                                                   size_t index);
/* Failed writes and lines lost, summed over the appenders. */
uint64_t corral_log_router_write_errors(const corral_log_router_t *self);
uint64_t corral_log_router_lines_lost(const corral_log_router_t *self);

/* A copy of `config` in one piece: free it with
 * corral__v1__log_config__free_unpacked. NULL when out of memory. */
Corral__V1__LogConfig *corral_log_config_copy(const Corral__V1__LogConfig *config);

#endif
