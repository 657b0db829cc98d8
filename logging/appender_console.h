/* appender_console.h: the `console` appender: standard output. */
#ifndef CORRAL_APPENDER_CONSOLE_H
#define CORRAL_APPENDER_CONSOLE_H

#include "appender.h"

/* Takes the layout. */
corral_appender_t *corral_appender_console_new(const char *name, corral_layout_t *layout);

#endif
