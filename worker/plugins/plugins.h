/* plugins.h: the plugins of corral-worker, the reference worker. They use
 * only libcorral's public API (include/corral/), as a plugin of your own
 * would; the test worker (tests/plugins/) serves them too. */
#ifndef CORRAL_PLUGINS_H
#define CORRAL_PLUGINS_H

#include "corral/plugin.h"

/* the store in path.data, migrated by the main worker (RFC 5.3, 5.4) */
extern const corral_plugin_t corral_migrations_plugin;
/* GET /api/hello, the application */
extern const corral_plugin_t corral_hello_plugin;

#endif
