/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_ERROR_H
#define AXLINK_SRC_ERROR_H

/*
 * Internal side of axlink/error.h: the detecting function sets the
 * thread-local message once and returns the code; callers pass it up.
 */

#include <stdarg.h>
#include <assert.h>

#include "axlink/error.h"

#if defined(__GNUC__)
#define AX__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AX__PRINTF(f, a)
#endif

/* Set this thread's last error to @code with a printf-style message; returns @code. */
int ax__error_set(int code, const char *fmt, ...) AX__PRINTF(2, 3);
int ax__error_vset(int code, const char *fmt, va_list ap) AX__PRINTF(2, 0);

/* Out of memory: sets a static message without allocating; returns AX_ENOMEM. */
int ax__error_oom(void);

/*
 * Record the drive's error reply @drive_code for @command at @subnode/@address;
 * returns AX_EDRIVE. The message names the register and the code's meaning.
 */
int ax__error_drive(uint32_t drive_code, int command, unsigned subnode, uint32_t address);

/*
 * Like ax__error_drive(), with a message the caller words (the MCB codec
 * quotes the request and what came back); returns AX_EDRIVE.
 */
int ax__error_drive_fmt(uint32_t drive_code, const char *fmt, ...) AX__PRINTF(2, 3);

/* Prefix the current message with "context: " (keeps code and drive code). */
void ax__error_prefix(const char *fmt, ...) AX__PRINTF(1, 2);

/*
 * Misuse of a public call: "invalid argument: 'expr'". Aborts in debug builds
 * (AXLINK_DEBUG_ASSERT), returns AX_EINVAL otherwise.
 */
#ifdef AXLINK_DEBUG_ASSERT
#define AX_ASSERT_ARG(expr)                                                                    \
	do {                                                                                   \
		assert(expr);                                                                  \
	} while (0)
#else
#define AX_ASSERT_ARG(expr)                                                                    \
	do {                                                                                   \
		if (!(expr))                                                                   \
			return ax__error_set(AX_EINVAL, "invalid argument: '%s'", #expr);      \
	} while (0)
#endif

/* Check an options struct's version: NULL is fine, 0 < version <= latest. */
#define AX_CHECK_VERSION(opts, latest, name)                                                    \
	do {                                                                                   \
		if ((opts) && ((opts)->version == 0 || (opts)->version > (latest)))             \
			return ax__error_set(AX_EINVAL, "%s version %u not supported (max %u)", \
					     name, (opts)->version, (unsigned)(latest));       \
	} while (0)

/*
 * Defensive branches (SQLite's ALWAYS/NEVER): `if (AX_NEVER(p == NULL)) return ...`
 * handles a case that cannot happen. With AXLINK_ASSERTIONS (or a debug build)
 * reaching it aborts, so tests find it; in release builds it is a plain test.
 */
#if defined(AXLINK_ASSERTIONS) || !defined(NDEBUG)
#define AX_ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define AX_NEVER(x) ((x) ? (assert(0), 1) : 0)
#else
#define AX_ALWAYS(x) (!!(x))
#define AX_NEVER(x) (!!(x))
#endif

#define AX__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
