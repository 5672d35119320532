/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_URI_H
#define AXLINK_SRC_URI_H

/*
 * Internal side of axlink/uri.h: checking a URI's query keys against a
 * transport's declared options, and typed access with defaults. The core
 * uses these before opening a link; the plugin host table wraps them.
 */

#include "axlink/plugin.h"
#include "axlink/uri.h"

/*
 * Check every query key of @uri against @options (zero-terminated; NULL =
 * none accepted). An unknown key gives AX_EUNKNOWNKEY, e.g.
 * "unknown key 'x' for scheme 'eth' (valid keys: timeout_ms, port)", or
 * "... (this transport accepts no keys)" when none.
 */
int ax__uri_check_keys(const ax_uri *uri, const char *scheme, const ax_option_desc *options);

/*
 * Integer value of @key (decimal or 0x hex, optional '-'), else the option's
 * default from @options, else AX_ENOTFOUND. Checks [@min, @max]: AX_EINVAL
 * naming key, value and range. *out is written only on success.
 */
int ax__uri_int(const ax_uri *uri, const ax_option_desc *options, const char *key, long long min,
                long long max, long long *out);

/* String value of @key, else the option's default, else NULL. */
const char *ax__uri_str(const ax_uri *uri, const ax_option_desc *options, const char *key);

/*
 * The normal form of @uri, the same text for every spelling of one
 * endpoint: scheme and host lower-cased, the default port filled in (the
 * "port" option's default in @options, else the scheme's well-known port,
 * e.g. eth 1061), query keys sorted and those equal to their declared
 * default left out. For comparing, not for display. *out is malloc'ed.
 */
int ax__uri_normalize(const ax_uri *uri, const ax_option_desc *options, char **out);

#endif
