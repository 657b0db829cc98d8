/* corral/version.h: the version of the headers a program was built with.
 *
 * The numbers are CMake's project version (CMakeLists.txt); configuring
 * the tree fails when they differ. corral_version() is the library's
 * version, which may be newer than the headers' when the program runs
 * against a newer libcorral with the same SONAME (docs/abi.md). */
#ifndef CORRAL_VERSION_H
#define CORRAL_VERSION_H

#include "corral/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CORRAL_VERSION_MAJOR 0
#define CORRAL_VERSION_MINOR 1
#define CORRAL_VERSION_PATCH 0
#define CORRAL_VERSION_STRING "0.1.0"
/* One number that compares: 0x000100 for 0.1.0. */
#define CORRAL_VERSION_HEX \
    ((CORRAL_VERSION_MAJOR << 16) | (CORRAL_VERSION_MINOR << 8) | CORRAL_VERSION_PATCH)

/* The library's CORRAL_VERSION_HEX and CORRAL_VERSION_STRING. */
CORRAL_EXPORT unsigned corral_version(void);
CORRAL_EXPORT const char *corral_version_string(void);

#ifdef __cplusplus
}
#endif

#endif
