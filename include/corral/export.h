/* corral/export.h: CORRAL_EXPORT, the mark of libcorral's public functions.
 *
 * libcorral is built with -fvisibility=hidden: only the functions declared
 * with CORRAL_EXPORT in include/corral/ are in libcorral.so's dynamic
 * symbol table, so a program can reach nothing else, and the library's
 * own code (and the protobuf-c, czmq and jansson code it links) cannot
 * clash with a program's (tests/abi checks both). */
#ifndef CORRAL_EXPORT_H
#define CORRAL_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define CORRAL_EXPORT __attribute__((visibility("default")))
#else
#define CORRAL_EXPORT
#endif

#endif
