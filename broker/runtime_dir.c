/* runtime_dir.c: creating and removing the runtime directory. */
#include "runtime_dir.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

#define IPC_PATH_MAX 100    /* sun_path is 108 bytes; leave room for "/desk" etc. */

char *
corral_runtime_dir_create(void)
{
    const char *candidates[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"), "/tmp" };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        if (!candidates[i] || !*candidates[i])
            continue;
        char *path = corral_format("%s/corral.XXXXXX", candidates[i]);
        if (path && strlen(path) < IPC_PATH_MAX && mkdtemp(path))
            return path;        /* mkdtemp makes it 0700 */
        free(path);
    }
    return NULL;
}

void
corral_runtime_dir_remove(const char *path)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *entry;
        while ((entry = readdir(dir)))
            if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
                unlinkat(dirfd(dir), entry->d_name, 0);
        closedir(dir);
    }
    rmdir(path);
}
