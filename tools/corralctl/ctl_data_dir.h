/* ctl_data_dir.h: the data directory (path.data) of a configuration file,
 * which is all corralctl needs to find that file's running instance. */
#ifndef CORRALCTL_DATA_DIR_H
#define CORRALCTL_DATA_DIR_H

/* path.data of `file`, resolved as corral resolves it. A file the full
 * parser refuses (a typo while its instance runs) is read leniently: its
 * YAML up to the first syntax error, for `path: { data: DIR }` alone
 * (else the default, `data` beside the file), with a note on stderr
 * naming the error. NULL, with a message on stderr and *exit_code 78,
 * when the file cannot be read at all. Free the result. */
char *ctl_data_dir(const char *file, int *exit_code);

#endif
