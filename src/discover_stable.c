/* SPDX-License-Identifier: MIT */
/*
 * Stable identity URIs (axlink://VENDOR/PRODUCT/SERIAL): parsing, and
 * finding where the drive one names is now, by a discovery that stops at
 * the first drive with that identity. (Discovery formats them.)
 */
#define AX__ERROR_CLASS AX_ERRCLASS_ARGUMENT /* errors set here; see src/error.h */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discover.h"
#include "uri.h"

/* The callback value locate() stops a discovery with; never an ax_error_code. */
#define LOCATE_FOUND (-0x4000)

static const ax_option_desc stable_keys[] = {
        {"via", AX_OPT_STRING, NULL, "discovery spec to search (default: every default target)"},
        {"timeout_ms", AX_OPT_INT, NULL, "deadline of the search in milliseconds"},
        {NULL, 0, NULL, NULL},
};

int ax__discover_is_stable_uri(const char *uri)
{
	return uri && strncasecmp(uri, "axlink:", 7) == 0;
}

/* 1..8 hex digits, optional 0x: the whole of [s, s+len). */
static int parse_hex32(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 8)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static int parse_dec32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int ax__discover_stable_parse(const ax_uri *u, struct ax__stable_id *id)
{
	const char *path = u->path, *slash;
	long long timeout = 0;
	int err;

	if (strcmp(u->scheme, "axlink") != 0 || !u->authority)
		return ax__error_set(
		        AX_EINVAL,
		        "'%s' is not a stable identity URI (expected "
		        "axlink://VENDOR/PRODUCT/SERIAL, e.g. axlink://A71C/00010064/1005)",
		        u->text);
	if (u->port >= 0 || parse_hex32(u->host, strlen(u->host), &id->vendor) < 0)
		return ax__error_set(AX_EINVAL, "'%s': vendor '%s' is not 1 to 8 hex digits",
		                     u->text, u->authority);
	slash = path[0] == '/' ? strchr(path + 1, '/') : NULL;
	if (!slash || parse_hex32(path + 1, (size_t)(slash - path - 1), &id->product) < 0)
		return ax__error_set(AX_EINVAL,
		                     "'%s': expected /PRODUCT/SERIAL after the vendor, the product "
		                     "code in 1 to 8 hex digits",
		                     u->text);
	if (parse_dec32(slash + 1, &id->serial) < 0)
		return ax__error_set(AX_EINVAL,
		                     "'%s': serial number '%s' is not a decimal number up to %u",
		                     u->text, slash + 1, (unsigned)UINT32_MAX);
	err = ax__uri_check_keys(u, "axlink", stable_keys);
	if (err == 0 && ax_uri_get(u, "timeout_ms"))
		err = ax__uri_int(u, stable_keys, "timeout_ms", 1, INT_MAX, &timeout);
	if (err < 0)
		return err;
	id->via = ax_uri_get(u, "via");
	id->timeout_ms = (int)timeout;
	return 0;
}

/* ---- finding the drive a stable URI names --------------------------------------- */

struct locate_state {
	struct ax__stable_id id;
	char *found;
	char searched[256];
	size_t used;
};

static int locate_found(const ax_discover_result *r, void *userdata)
{
	struct locate_state *st = userdata;
	const uint32_t need = AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_SERIAL;

	if (r->access != AX_ACCESS_OK || (r->known & need) != need ||
	    r->vendor_id != st->id.vendor || r->product_code != st->id.product ||
	    r->serial != st->id.serial)
		return 0;
	st->found = strdup(r->uri);
	return st->found ? LOCATE_FOUND : ax__error_oom();
}

/* Remember what was searched, for the message when nothing matched. */
static int locate_outcome(const ax_discover_transport *t, void *userdata)
{
	struct locate_state *st = userdata;
	int n;

	if (st->used >= sizeof(st->searched))
		return 0;
	n = snprintf(st->searched + st->used, sizeof(st->searched) - st->used, "%s%s (%s%s%s)",
	             st->used ? ", " : "", t->target, ax_discover_status_name(t->status),
	             *t->message ? ": " : "", t->message);
	if (n > 0)
		st->used += (size_t)n;
	return 0;
}

int ax_discover_locate(char **out, ax_ctx *ctx, const char *stable_uri, int timeout_ms)
{
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct locate_state st;
	ax_uri *u = NULL;
	int ret;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(ctx);
	AX_ASSERT_ARG(stable_uri);
	ret = ax__discover_check_timeout(timeout_ms, "locate timeout");
	if (ret < 0)
		return ret;
	memset(&st, 0, sizeof(st));
	ret = ax_uri_parse(&u, stable_uri);
	if (ret < 0)
		return ret;
	ret = ax__discover_stable_parse(u, &st.id);
	if (ret < 0)
		goto out;
	o.timeout_ms = st.id.timeout_ms ? st.id.timeout_ms : timeout_ms;
	o.flags = AX_DISCOVER_NO_RESOLVE; /* only the identity matters here */
	o.on_transport = locate_outcome;
	ret = ax_discover(ctx, st.id.via, &o, locate_found, &st);
	if (ret == LOCATE_FOUND) {
		AX_LOG_DEBUG(ctx, "discover", "'%s' is at '%s'", stable_uri, st.found);
		*out = st.found;
		st.found = NULL;
		ret = 0;
	} else if (ret >= 0) {
		ret = ax__error_set(AX_ENOTFOUND,
		                    "no drive with vendor 0x%04X, product 0x%08X and serial %u "
		                    "answered; searched: %s",
		                    (unsigned)st.id.vendor, (unsigned)st.id.product,
		                    (unsigned)st.id.serial, st.used ? st.searched : "nothing");
	}
out:
	free(st.found);
	ax_uri_free(u);
	return ret;
}
