/* worker_secret.h: the secret the coordinator makes for each worker it
 * spawns (docs/architecture.md section 1). It reaches the worker on an inherited pipe
 * (fd CORRAL_SECRET_FD of base/launch_contract.h, named in $CORRAL_SECRET_FD),
 * never in argv or the environment, so no other process of the same user
 * can read it; the worker presents it in its Hello on desk and in every LogBatch on logs. */
#ifndef CORRAL_WORKER_SECRET_H
#define CORRAL_WORKER_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORRAL_SECRET_LENGTH 64         /* 32 random bytes, in hex */

/* A LogBatch carries at most this many records (one frame on logs writes
 * a bounded number of lines); a worker seals its batch at this count. */
#define CORRAL_LOG_BATCH_MAX_RECORDS 4096

/* Compares in constant time: `given` (any length) against the secret. */
static inline bool
corral_secret_matches(const char *secret, const uint8_t *given, size_t length)
{
    if (length != CORRAL_SECRET_LENGTH)
        return false;
    unsigned char difference = 0;
    for (size_t i = 0; i < CORRAL_SECRET_LENGTH; i++)
        difference |= (unsigned char) secret[i] ^ given[i];
    return difference == 0;
}

#endif
