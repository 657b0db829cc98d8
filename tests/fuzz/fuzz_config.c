/* fuzz_config.c: libFuzzer target: the configuration parser on a file's
 * text (config.c and config_logging.c: YAML, the schema, sizes, durations,
 * paths, the logging section, the input limits). */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *error = NULL;
    corral_config_t *config =
        corral_config_parse("/fuzz/corral.yml", (const char *) data, size, &error);
    if (!config == !error)
        abort();            /* exactly one of a configuration and an error */
    corral_config_destroy(&config);
    free(error);
    return 0;
}
