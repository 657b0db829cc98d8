/* config_values.h: paths as the configuration resolves them (sizes and
 * durations are declared in config.h, beside the configuration). */
#ifndef CORRAL_CONFIG_VALUES_H
#define CORRAL_CONFIG_VALUES_H

/* The absolute directory of `file`: canonical if it exists (realpath),
 * else resolved lexically against the working directory. NULL: out of
 * memory. */
char *corral_config_directory(const char *file);
/* `path` made absolute against `dir` and normalized lexically
 * ("/etc/corral/../x/./y/" is "/etc/x/y"). NULL: out of memory. */
char *corral_config_resolve_path(const char *dir, const char *path);

#endif
