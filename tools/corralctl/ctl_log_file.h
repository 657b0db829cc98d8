/* ctl_log_file.h: `corralctl logs` without -f: the last lines of the log
 * file the running instance writes. */
#ifndef CORRALCTL_LOG_FILE_H
#define CORRALCTL_LOG_FILE_H

#include <stdio.h>

#include "ctl_instance.h"

/* Prints the last `lines` lines of the instance's log file: the first
 * file or rolling-file appender of the root logger (else of any logger),
 * as the configuration it runs names it (asked on desk, so a file being
 * edited does not matter). 0; 1 (message on stderr) when it has no log
 * file or it cannot be read; 69 when the instance does not answer. */
int ctl_log_file_tail(ctl_instance_t *instance, long lines, FILE *out);

#endif
