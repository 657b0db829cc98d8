/* strategy.h: Kibana's `numeric` rolling strategy: the current file is
 * renamed with `pattern` (default "-%i") before its extension,
 * corral.log -> corral-1.log, older ones shift up, and at most `max`
 * (1..100) rolled files are kept: the oldest is deleted. */
#ifndef CORRAL_STRATEGY_H
#define CORRAL_STRATEGY_H

#include <stddef.h>

#define CORRAL_STRATEGY_MAX_FILES 100
/* Kibana's defaults (logging.appenders.NAME.strategy). */
#define CORRAL_STRATEGY_DEFAULT_PATTERN "-%i"
#define CORRAL_STRATEGY_DEFAULT_MAX 7

typedef struct corral_strategy corral_strategy_t;

/* pattern: must contain %i exactly once; NULL for "-%i". Returns NULL
 * (with *error set, free it) if the pattern or max is invalid. */
corral_strategy_t *corral_strategy_numeric_new(const char *file_name, const char *pattern,
                                               unsigned max, char **error);
void corral_strategy_destroy(corral_strategy_t **self_p);

/* The name of rolled file `index` (1 = newest) into out. */
void corral_strategy_rolled_name(const corral_strategy_t *self, unsigned index,
                                 char *out, size_t size);

/* Shifts the rolled files and renames the current file to index 1.
 * Returns 0, or -1 with errno set (the current file is then left as is). */
int corral_strategy_roll(corral_strategy_t *self);

#endif
