/* log_losses.h: the coordinator's log lines lost, by appender and reason,
 * for the life of the instance. A logging reload (SIGHUP, a tool's
 * `level`) replaces the appenders and their counters with them: the
 * retiring router's counts are banked here first, so that what is
 * reported (/api/stats, /api/metrics, the stop line) only ever grows. The
 * log path pays nothing for it: appenders count as they always did, and
 * the ledger is read when someone asks. */
#ifndef CORRAL_LOG_LOSSES_H
#define CORRAL_LOG_LOSSES_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"

typedef struct corral_log_losses corral_log_losses_t;

typedef struct {
    const char *name;           /* the appender's */
    uint64_t write_errors;      /* failed writes (each may lose several lines) */
    uint64_t lost_writing;      /* lines those writes lost */
    uint64_t lost_formatting;   /* records the layout could not format */
} corral_appender_losses_t;

corral_log_losses_t *corral_log_losses_new(void);
void corral_log_losses_destroy(corral_log_losses_t **self_p);

/* `router` is about to be destroyed: its appenders' counts are kept. */
void corral_log_losses_bank(corral_log_losses_t *self, const corral_log_router_t *router);

/* The banked counts plus those of `live` (the router in use; may be NULL),
 * one entry per appender name, in the order first seen. The list is valid
 * until the next call, its names as long as the ledger (a sample may be
 * packed after a logging reload destroyed the appenders); *count is the
 * number of entries. */
const corral_appender_losses_t *corral_log_losses_now(corral_log_losses_t *self,
                                                      const corral_log_router_t *live,
                                                      size_t *count);
/* The sums over `list` (name NULL). */
corral_appender_losses_t corral_log_losses_sum(const corral_appender_losses_t *list,
                                               size_t count);

#endif
