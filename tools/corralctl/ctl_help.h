/* ctl_help.h: corralctl's commands: their arguments, and the help that
 * `corralctl help [COMMAND]` and `COMMAND --help` print, with each
 * command's exit statuses. */
#ifndef CORRALCTL_HELP_H
#define CORRALCTL_HELP_H

#include <stdbool.h>
#include <stdio.h>

#define CTL_EXIT_UNHEALTHY 1
#define CTL_EXIT_STILL_RUNNING 75       /* EX_TEMPFAIL: stop's --timeout passed */
#define CTL_EXIT_USAGE 64
#define CTL_EXIT_NO_INSTANCE 69         /* EX_UNAVAILABLE */

/* Whether `name` is a command taking `argc` arguments. */
bool ctl_command_known(const char *name, int argc);
/* The general usage (every command, the options). */
void ctl_usage(FILE *out, int default_timeout_ms);
/* One command's help; false if there is no such command. */
bool ctl_command_help(FILE *out, const char *name);

#endif
