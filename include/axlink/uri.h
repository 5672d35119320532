/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_URI_H
#define AXLINK_URI_H

/**
 * @file axlink/uri.h
 * @brief Connection strings: `scheme:path?key=value&...` and `scheme://authority/path?...`.
 * @defgroup ax_uri URIs
 *
 * The scheme names the transport plugin. Path, host and query values are
 * percent-decoded. Examples: `eth://127.0.0.2:1061`, `serial:/dev/ttyUSB0?baud=115200`,
 * `usb:?vid=1209&pid=0001`, `virtual:?model=axs-100`, `eth://[::1]:1061`.
 * Which query keys are valid is up to the transport: ax_link_open() rejects
 * a key the plugin does not declare, listing the keys it accepts.
 * @{
 */

#include "axlink/common.h"

AX_BEGIN_DECLS

/** One `key=value` of the query; value is "" for a bare `key`. */
typedef struct ax_uri_param {
	const char *key;
	const char *value;
} ax_uri_param;

/**
 * A parsed URI. Immutable once parsed; all strings are owned by the URI.
 * Thread safety: immutable.
 */
typedef struct ax_uri {
	const char *text;           /**< the original text */
	const char *scheme;         /**< lower-cased scheme, never NULL */
	const char *authority;      /**< raw authority after "//", or NULL when absent */
	const char *host;           /**< decoded host ("" when none; no brackets for IPv6) */
	int port;                   /**< port, or -1 when not given */
	const char *path;           /**< decoded path ("" when none) */
	const ax_uri_param *params; /**< query parameters in order */
	size_t n_params;
} ax_uri;

/**
 * Parse @p text.
 *
 * Ownership: *out is freed with ax_uri_free(); untouched on failure.
 * Thread safety: safe.
 * @return 0, or AX_EINVAL with a message naming the offending position.
 * @since 0.1
 */
AX_API int ax_uri_parse(ax_uri **out, const char *text);

/**
 * Free a URI from ax_uri_parse(). Accepts NULL.
 * @since 0.1
 */
AX_API void ax_uri_free(ax_uri *uri);

/**
 * Value of query key @p key, or NULL when absent.
 *
 * Ownership: borrowed for the URI's life.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_uri_get(const ax_uri *uri, const char *key);

AX_END_DECLS

/** @} */
#endif
