/* instance_uuid.h: the instance's UUID, created once under path.data by
 * the coordinator (never by the workers, so there is no race) and read on
 * every later start. A worker's id on the node service is
 * "<uuid>-<worker id>". */
#ifndef CORRAL_INSTANCE_UUID_H
#define CORRAL_INSTANCE_UUID_H

#define CORRAL_UUID_FILE "uuid"     /* under path.data */

/* Reads <data_dir>/uuid, or creates it (a random version-4 UUID, written
 * to a temporary file and renamed into place). Returns the UUID (free it),
 * or NULL with *error set (free it): the file cannot be read or written,
 * or it does not hold exactly one UUID. */
char *corral_instance_uuid_load(const char *data_dir, char **error);

#endif
