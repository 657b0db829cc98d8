/* fsutil.h: small file-system and string helpers the coordinator shares. */
#ifndef CORRAL_FSUTIL_H
#define CORRAL_FSUTIL_H

/* The mode of every directory corral_make_dirs creates, whatever the
 * umask: others may look in (a log shipper reads log files under
 * path.data); what is private in it is made 0600 or 0700 itself. */
#define CORRAL_DIR_MODE 0755

/* mkdir -p for the directory that will hold `path`. Returns 0 or -1. */
int corral_make_parent_dirs(const char *path);
/* mkdir -p `dir`. Returns 0 or -1. */
int corral_make_dirs(const char *dir);
/* A malloc'd printf. */
char *corral_format(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
