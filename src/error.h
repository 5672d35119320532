/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_ERROR_H
#define AXLINK_SRC_ERROR_H

/*
 * Internal side of axlink/error.h: the detecting function sets the
 * thread-local message once and returns the code; callers pass it up.
 */

#include <stdarg.h>
#include <stddef.h>
#include <assert.h>

#include "axlink/error.h"

#if defined(__GNUC__)
#define AX__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AX__PRINTF(f, a)
#endif

/*
 * The ax_error_class of the errors a source file sets: each library source
 * defines it once, before its first #include, e.g.
 *     #define AX__ERROR_CLASS AX_ERRCLASS_DB
 * ax__error_set() and friends pass it along, so the detecting site records
 * its class without saying so at every call. A library source that forgets
 * does not compile; elsewhere (the simulator, tools) the class is INTERNAL.
 */
#ifndef AX__ERROR_CLASS
#ifdef AXLINK_BUILDING_LIBRARY
#error "define AX__ERROR_CLASS (an ax_error_class) before the first #include"
#endif
#define AX__ERROR_CLASS AX_ERRCLASS_INTERNAL
#endif

/*
 * Set this thread's last error to @code of @error_class with a printf-style
 * message; returns @code.
 */
int ax__error_set_class(int error_class, int code, const char *fmt, ...) AX__PRINTF(3, 4);
int ax__error_vset_class(int error_class, int code, const char *fmt, va_list ap) AX__PRINTF(3, 0);
#define ax__error_set(...) ax__error_set_class(AX__ERROR_CLASS, __VA_ARGS__)
#define ax__error_vset(code, fmt, ap) ax__error_vset_class(AX__ERROR_CLASS, code, fmt, ap)

/* Out of memory: sets a static message without allocating; returns AX_ENOMEM. */
int ax__error_oom_class(int error_class);
#define ax__error_oom() ax__error_oom_class(AX__ERROR_CLASS)

/*
 * Record the drive's error reply @drive_code for @command at @subnode/@address;
 * returns AX_EDRIVE. The message names the register and the code's meaning.
 */
int ax__error_drive(uint32_t drive_code, int command, unsigned subnode, uint32_t address);

/*
 * Give the current error another class and code, keeping its message, when a
 * caller knows better what it means (a dictionary that fails to seal from a
 * database's rows is a corrupt database); returns @code.
 */
int ax__error_recode(int error_class, int code);

/*
 * Like ax__error_drive(), with a message the caller words (the MCB codec
 * quotes the request and what came back); returns AX_EDRIVE.
 */
int ax__error_drive_fmt(uint32_t drive_code, const char *fmt, ...) AX__PRINTF(2, 3);

/*
 * The whole error state of this thread (code, class, drive code, message),
 * taken before running code that may set another (a log callback) and put
 * back after; ax__error_restore() frees it, and of NULL (no memory to
 * save) leaves AX_ENOMEM.
 */
struct ax__error_saved;
struct ax__error_saved *ax__error_save(void);
void ax__error_restore(struct ax__error_saved *saved);

/* Prefix the current message with "context: " (keeps code and drive code). */
void ax__error_prefix(const char *fmt, ...) AX__PRINTF(1, 2);

/*
 * Misuse of a public call: "invalid argument: 'expr'". Aborts in debug builds
 * (AXLINK_DEBUG_ASSERT), returns AX_EINVAL otherwise.
 */
#ifdef AXLINK_DEBUG_ASSERT
#define AX_ASSERT_ARG(expr)                                                                        \
	do {                                                                                       \
		assert(expr);                                                                      \
	} while (0)
#else
#define AX_ASSERT_ARG(expr)                                                                        \
	do {                                                                                       \
		if (!(expr))                                                                       \
			return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,                \
			                           "invalid argument: '%s'", #expr);               \
	} while (0)
#endif

/* Check an options struct's version: NULL is fine, 0 < version <= latest. */
#define AX_CHECK_VERSION(opts, latest, name)                                                       \
	do {                                                                                       \
		if ((opts) && ((opts)->version == 0 || (opts)->version > (latest)))                \
			return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,                \
			                           "%s version %u not supported (max %u)", name,   \
			                           (opts)->version, (unsigned)(latest));           \
	} while (0)

/*
 * Caller-allocated structs that may grow start with `uint32_t size`, which
 * the caller sets to the sizeof it was compiled with. AX__SIZE_THROUGH gives
 * the size of a struct's first version (through its last member then);
 * AX_CHECK_SIZE refuses a smaller size with AX_EINVAL (before any work);
 * ax__sized_copy writes the part of @full (@full_size bytes) that the
 * caller's size covers, leaving its size field as the caller set it.
 */
#define AX__SIZE_THROUGH(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#define AX_CHECK_SIZE(out, min_size, name)                                                         \
	do {                                                                                       \
		if ((out)->size < (min_size))                                                      \
			return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,                \
			                           "%s.size %u is below %zu, the size of its "     \
			                           "first version (set it to sizeof(%s))",         \
			                           name, (unsigned)(out)->size,                    \
			                           (size_t)(min_size), name);                      \
	} while (0)
void ax__sized_copy(void *out, const void *full, size_t full_size);

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
