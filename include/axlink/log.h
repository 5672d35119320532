/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_LOG_H
#define AXLINK_LOG_H

/**
 * @file axlink/log.h
 * @brief Log levels and the log callback.
 * @defgroup ax_log Logging
 *
 * Each context has its own log level and sink (ax_ctx_set_log()). Without a
 * callback, messages at the context's level and above go to stderr. The
 * initial level is WARN, or what `AXLINK_LOG=debug|info|warn|error|trace|none`
 * says when the context is created.
 * @{
 */

#include "axlink/common.h"

AX_BEGIN_DECLS

/** Log levels, least verbose first. */
typedef enum ax_log_level {
	AX_LOG_NONE = 0,
	AX_LOG_ERROR = 1,
	AX_LOG_WARN = 2,
	AX_LOG_INFO = 3,
	AX_LOG_DEBUG = 4,
	AX_LOG_TRACE = 5,
} ax_log_level;

/**
 * Receives one formatted log line (no trailing newline).
 *
 * @param level     the message's level
 * @param origin    who logs: "core", a plugin name or a URI
 * @param message   the text; borrowed for the call
 * @param userdata  as given to ax_ctx_set_log()
 *
 * Thread safety: may be called concurrently from any thread, including
 * plugin worker threads; never with a library lock held.
 */
typedef void (*ax_log_cb)(int level, const char *origin, const char *message, void *userdata);

/**
 * Name of a level ("debug"), or NULL for an unknown one.
 *
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_log_level_name(int level);

/**
 * Parse a level name ("debug", "INFO", "warning", "3").
 *
 * @return the level (>= 0), or AX_EINVAL for an unknown name.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_log_level_parse(const char *name);

AX_END_DECLS

/** @} */
#endif
