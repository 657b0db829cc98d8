/* fsutil.h: small file-system and string helpers the coordinator shares. */
#ifndef CORRAL_FSUTIL_H
#define CORRAL_FSUTIL_H

/* mkdir -p for the directory that will hold `path`. Returns 0 or -1. */
int corral_make_parent_dirs(const char *path);
/* mkdir -p `dir`. Returns 0 or -1. */
int corral_make_dirs(const char *dir);
/* A malloc'd printf. */
char *corral_format(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
