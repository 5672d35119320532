/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_COMMON_H
#define AXLINK_COMMON_H

/**
 * @file axlink/common.h
 * @brief Export macros, library version and the small helpers every header needs.
 * @defgroup ax_common Common definitions
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define AX_BEGIN_DECLS extern "C" {
#define AX_END_DECLS }
#else
#define AX_BEGIN_DECLS
#define AX_END_DECLS
#endif

/* AX_API marks exported symbols; the cffi cdef generator defines AX_CDEF to drop it. */
#if defined(AX_CDEF)
#define AX_API
#elif defined(AXLINK_BUILDING_LIBRARY)
#define AX_API __attribute__((visibility("default")))
#else
#define AX_API
#endif

/**
 * Library version, compile time. While the major is 0 each minor may change
 * the ABI (bump the minor when it does; .ci/abi-check.sh compares the
 * exported ABI with the recorded baseline); from 1.0 only a major may.
 */
#define AX_VERSION_MAJOR 0
#define AX_VERSION_MINOR 3
#define AX_VERSION_PATCH 0
#define AX_VERSION_HEX ((AX_VERSION_MAJOR << 16) | (AX_VERSION_MINOR << 8) | AX_VERSION_PATCH)

AX_BEGIN_DECLS

/**
 * The library's version as "MAJOR.MINOR.PATCH".
 *
 * Ownership: static string.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_version(void);

/**
 * The library's version as AX_VERSION_HEX of the library actually loaded.
 *
 * Thread safety: safe.
 * @since 0.1
 */
AX_API unsigned int ax_version_hex(void);

/**
 * Free memory that the library handed to the caller through a `char **out`.
 *
 * Accepts NULL. Never use free() on such memory, nor ax_free() on anything else.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API void ax_free(void *p);

AX_END_DECLS

/** @} */
#endif
