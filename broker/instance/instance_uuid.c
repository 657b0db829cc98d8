/* instance_uuid.c: reading and creating <path.data>/uuid. */
#include "instance_uuid.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fsutil.h"

#define UUID_LENGTH 36

static bool
is_uuid(const char *text)
{
    if (strlen(text) != UUID_LENGTH)
        return false;
    for (int i = 0; i < UUID_LENGTH; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !isxdigit((unsigned char) text[i]))
            return false;
    }
    return true;
}

/* The file's content: a UUID, optionally followed by one newline. */
static char *
read_uuid(const char *file, char **error)
{
    FILE *in = fopen(file, "r");
    if (!in) {
        *error = corral_format("cannot read the instance UUID %s: %s", file, strerror(errno));
        return NULL;
    }
    char text[UUID_LENGTH + 3] = "";
    size_t length = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    if (length > 0 && text[length - 1] == '\n')
        text[--length] = '\0';
    if (!is_uuid(text)) {
        *error = corral_format("%s is not a valid instance UUID file (expected one UUID "
                               "like 0f8fad5b-d9cb-469f-a165-70867728950e); fix or remove it",
                               file);
        return NULL;
    }
    return strdup(text);
}

static char *
random_uuid(void)
{
    unsigned char bytes[16];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t) sizeof bytes)
        return NULL;
    bytes[6] = (unsigned char) ((bytes[6] & 0x0f) | 0x40);     /* version 4 */
    bytes[8] = (unsigned char) ((bytes[8] & 0x3f) | 0x80);     /* RFC 4122 variant */
    return corral_format("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                         "%02x%02x%02x%02x%02x%02x",
                         bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5],
                         bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
                         bytes[12], bytes[13], bytes[14], bytes[15]);
}

char *
corral_instance_uuid_load(const char *data_dir, char **error)
{
    *error = NULL;
    char *file = corral_format("%s/%s", data_dir, CORRAL_UUID_FILE);
    if (!file)
        return NULL;
    char *uuid = NULL;
    if (access(file, F_OK) == 0)
        uuid = read_uuid(file, error);
    else if (!(uuid = random_uuid()))
        *error = corral_format("cannot make an instance UUID: %s", strerror(errno));
    else {
        char *line = corral_format("%s\n", uuid);
        if (!line || corral_atomic_write(file, line, strlen(line)) != 0) {
            *error = corral_format("cannot write the instance UUID %s: %s", file,
                                   strerror(errno));
            free(uuid);
            uuid = NULL;
        }
        free(line);
    }
    free(file);
    return uuid;
}
