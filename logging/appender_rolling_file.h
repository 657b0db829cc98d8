/* appender_rolling_file.h: the `rolling-file` appender: a file appender
 * that rolls when its policy says so (policy.h), renaming files with its
 * strategy (strategy.h). Rolling happens between two whole lines. */
#ifndef CORRAL_APPENDER_ROLLING_FILE_H
#define CORRAL_APPENDER_ROLLING_FILE_H

#include "appender.h"
#include "policy.h"
#include "strategy.h"

/* Takes the layout, the policy and the strategy (all destroyed on
 * failure). NULL with *error set (free it) if the file cannot be opened. */
corral_appender_t *corral_appender_rolling_file_new(const char *name, corral_layout_t *layout,
                                                    const char *file_name,
                                                    corral_policy_t *policy,
                                                    corral_strategy_t *strategy,
                                                    char **error);

/* Rolls now (flushing first). Returns 0, or -1 (warned on stderr). */
int corral_appender_rolling_file_roll(corral_appender_t *self);

#endif
