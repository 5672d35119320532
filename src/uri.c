/* SPDX-License-Identifier: MIT */
/*
 * Connection strings.
 *
 *   uri       = scheme ":" ( "//" authority [ path ] / path ) [ "?" query ]
 *   scheme    = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )     (lower-cased)
 *   authority = host [ ":" port ]       host = name / "[" IPv6 "]"
 *   query     = param *( "&" param )    param = key [ "=" value ]
 *
 * Host, path, keys and values are percent-decoded; "%00" is refused because
 * the parts are C strings and a NUL would silently cut them short.
 *
 * A parsed URI is one allocation: the ax_uri, its params array, then every
 * string, so ax_uri_free() is a single free().
 */
#define AX__ERROR_CLASS AX_ERRCLASS_ARGUMENT /* errors set here; see src/error.h */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "uri.h"
#include "axlink/value.h"
#include "util.h"

#define URI_MAX_PORT 65535

/* Bump allocator over the string area of the URI's block. */
struct uri_strings {
	char *next;
	char *end;
};

/* What is being parsed, for error messages. */
struct uri_src {
	const char *text;
	int quote_len;        /* how much of text a message quotes */
	const char *ellipsis; /* "..." when that is not all of it */
};

/* Quote at most this much of a URI, so the fault itself still fits the message. */
#define URI_QUOTE_MAX 96
#define URI_FMT "URI '%.*s%s'"
#define URI_ARGS(src) (src)->quote_len, (src)->text, (src)->ellipsis

static int uri_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int uri_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char *uri_take(struct uri_strings *s, size_t n)
{
	char *p = s->next;

	/* The block was sized for the worst case; running out is a bug here. */
	assert(n <= (size_t)(s->end - s->next));
	s->next += n;
	return p;
}

static char *uri_copy(struct uri_strings *s, const char *src, size_t n)
{
	char *p = uri_take(s, n + 1);

	memcpy(p, src, n);
	p[n] = '\0';
	return p;
}

/*
 * Percent-decode text[off .. off+n) into a new string of @s; @part names the
 * part ("host", "path", "query key", "query value") for messages.
 */
static int uri_decode(char **out, struct uri_strings *s, const struct uri_src *src, size_t off,
                      size_t n, const char *part)
{
	const char *in = src->text + off;
	char *p = uri_take(s, n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (in[i] != '%') {
			p[o++] = in[i];
			continue;
		}
		hi = i + 1 < n ? ax__hex_digit(in[i + 1]) : -1;
		lo = i + 2 < n ? ax__hex_digit(in[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return ax__error_set(
			        AX_EINVAL,
			        URI_FMT ": invalid percent escape '%.*s' in %s at offset "
			                "%zu (expected '%%' and two hex digits)",
			        URI_ARGS(src), (int)(n - i < 3 ? n - i : 3), in + i, part, off + i);
		if (hi == 0 && lo == 0)
			return ax__error_set(AX_EINVAL,
			                     URI_FMT
			                     ": percent escape '%%00' (NUL) in %s at offset %zu "
			                     "is not allowed",
			                     URI_ARGS(src), part, off + i);
		p[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	p[o] = '\0';
	*out = p;
	return 0;
}

static int uri_parse_scheme(size_t *len_out, const struct uri_src *src)
{
	const char *text = src->text;
	size_t i = 0;

	if (text[0] == ':')
		return ax__error_set(AX_EINVAL, URI_FMT " has an empty scheme before ':'",
		                     URI_ARGS(src));
	if (!strchr(text, ':'))
		return ax__error_set(AX_EINVAL,
		                     URI_FMT " has no scheme (expected 'scheme:...', e.g. "
		                             "'eth://192.168.2.22')",
		                     URI_ARGS(src));
	if (!uri_is_alpha(text[0]))
		return ax__error_set(
		        AX_EINVAL, URI_FMT ": scheme must start with a letter, not '%c' (offset 0)",
		        URI_ARGS(src), text[0]);
	for (i = 1; text[i] != ':'; i++) {
		char c = text[i];

		if (!uri_is_alpha(c) && !uri_is_digit(c) && c != '+' && c != '-' && c != '.')
			return ax__error_set(AX_EINVAL,
			                     URI_FMT
			                     ": invalid character '%c' in scheme at offset %zu",
			                     URI_ARGS(src), c, i);
	}
	*len_out = i;
	return 0;
}

/* Port digits text[off .. off+n): decimal, 0..65535. */
static int uri_parse_port(int *out, const struct uri_src *src, size_t off, size_t n)
{
	const char *p = src->text + off;
	unsigned long long v;
	char *end;

	if (n == 0)
		return ax__error_set(AX_EINVAL, URI_FMT ": empty port after ':' at offset %zu",
		                     URI_ARGS(src), off);
	for (size_t i = 0; i < n; i++)
		if (!uri_is_digit(p[i]))
			return ax__error_set(AX_EINVAL,
			                     URI_FMT ": port '%.*s' at offset %zu is not a decimal "
			                             "number",
			                     URI_ARGS(src), (int)n, p, off);
	/* The digits are followed by '/', '?' or NUL, so strtoull stops exactly at off + n. */
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno == ERANGE || end != p + n || v > URI_MAX_PORT)
		return ax__error_set(AX_EINVAL,
		                     URI_FMT ": port %.*s at offset %zu is out of range 0..%d",
		                     URI_ARGS(src), (int)n, p, off, URI_MAX_PORT);
	*out = (int)v;
	return 0;
}

/* Authority text[off .. off+n): host[:port], host may be "[IPv6]". */
static int uri_parse_authority(ax_uri *uri, struct uri_strings *s, const struct uri_src *src,
                               size_t off, size_t n)
{
	const char *a = src->text + off;
	size_t host_off, host_len, port_off = 0;
	int has_port = 0;
	char *host;
	int err;

	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);

		if (!close)
			return ax__error_set(AX_EINVAL,
			                     URI_FMT
			                     ": '[' at offset %zu opens an IPv6 host that is "
			                     "never closed with ']'",
			                     URI_ARGS(src), off);
		host_off = off + 1;
		host_len = (size_t)(close - a) - 1;
		if ((size_t)(close - a) + 1 < n) {
			if (close[1] != ':')
				return ax__error_set(
				        AX_EINVAL,
				        URI_FMT ": unexpected '%c' after ']' at offset "
				                "%zu (expected ':port')",
				        URI_ARGS(src), close[1], off + (size_t)(close - a) + 1);
			has_port = 1;
			port_off = off + (size_t)(close - a) + 2;
		}
	} else {
		const char *colon = memchr(a, ':', n);

		host_off = off;
		host_len = colon ? (size_t)(colon - a) : n;
		if (colon) {
			has_port = 1;
			port_off = off + host_len + 1;
		}
	}

	err = uri_decode(&host, s, src, host_off, host_len, "host");
	if (err < 0)
		return err;
	uri->host = host;
	if (has_port) {
		err = uri_parse_port(&uri->port, src, port_off, off + n - port_off);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Query text[off .. off+n) into @params (sized by the caller from the '&' count). */
static int uri_parse_query(ax_uri_param *params, size_t *count, struct uri_strings *s,
                           const struct uri_src *src, size_t off, size_t n)
{
	size_t i = 0;

	*count = 0;
	if (n == 0)
		return 0;
	for (;;) {
		const char *seg = src->text + off + i;
		const char *amp = memchr(seg, '&', n - i);
		size_t seg_len = amp ? (size_t)(amp - seg) : n - i;
		const char *eq = memchr(seg, '=', seg_len);
		size_t key_len = eq ? (size_t)(eq - seg) : seg_len;
		char *key, *value;
		int err;

		if (key_len == 0)
			return ax__error_set(AX_EINVAL,
			                     URI_FMT ": empty key in query at offset %zu "
			                             "(expected key=value)",
			                     URI_ARGS(src), off + i);
		err = uri_decode(&key, s, src, off + i, key_len, "query key");
		if (err < 0)
			return err;
		if (eq) {
			err = uri_decode(&value, s, src, off + i + key_len + 1,
			                 seg_len - key_len - 1, "query value");
			if (err < 0)
				return err;
		} else {
			value = uri_copy(s, "", 0);
		}
		for (size_t k = 0; k < *count; k++)
			if (strcmp(params[k].key, key) == 0)
				return ax__error_set(AX_EINVAL,
				                     URI_FMT ": duplicate key '%.64s' in query at "
				                             "offset %zu",
				                     URI_ARGS(src), key, off + i);
		params[*count].key = key;
		params[*count].value = value;
		(*count)++;
		if (!amp)
			return 0;
		i += seg_len + 1;
	}
}

int ax_uri_parse(ax_uri **out, const char *text)
{
	struct uri_src src;
	struct uri_strings s;
	size_t len, scheme_len = 0, pos, path_end, query_off, n_params = 0;
	const char *qmark;
	ax_uri_param *params;
	ax_uri *uri;
	char *scheme, *path, *block;
	size_t block_size, str_size;
	int err;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(text);

	len = strlen(text);
	if (len == 0)
		return ax__error_set(
		        AX_EINVAL, "empty URI (expected 'scheme:...', e.g. 'eth://192.168.2.22')");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		/* Do not echo the text: it holds the control character. */
		if (c < 0x20 || c == 0x7F)
			return ax__error_set(AX_EINVAL,
			                     "URI has control character 0x%02X at offset %zu "
			                     "(percent-encode it)",
			                     c, i);
	}
	src.text = text;
	src.quote_len = len > URI_QUOTE_MAX ? URI_QUOTE_MAX : (int)len;
	src.ellipsis = len > URI_QUOTE_MAX ? "..." : "";
	err = uri_parse_scheme(&scheme_len, &src);
	if (err < 0)
		return err;

	qmark = strchr(text + scheme_len, '?');
	path_end = qmark ? (size_t)(qmark - text) : len;
	query_off = qmark ? path_end + 1 : len;
	if (query_off < len) {
		n_params = 1;
		for (size_t i = query_off; i < len; i++)
			n_params += text[i] == '&';
	}

	/*
	 * Strings: the text copy, then scheme, authority, host, path and every
	 * key and value, each no longer than its raw text (decoding only
	 * shrinks), plus their NULs. Host repeats part of authority.
	 */
	if (len > SIZE_MAX / 8)
		return ax__error_oom();
	str_size = 3 * len + 5 + 2 * n_params;
	block_size = sizeof(ax_uri) + n_params * sizeof(ax_uri_param) + str_size;
	block = calloc(1, block_size);
	if (!block)
		return ax__error_oom();
	uri = (ax_uri *)(void *)block;
	params = (ax_uri_param *)(void *)(block + sizeof(ax_uri));
	s.next = block + sizeof(ax_uri) + n_params * sizeof(ax_uri_param);
	s.end = block + block_size;

	uri->text = uri_copy(&s, text, len);
	scheme = uri_copy(&s, text, scheme_len);
	for (char *c = scheme; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	uri->scheme = scheme;
	uri->authority = NULL;
	uri->host = "";
	uri->port = -1;

	pos = scheme_len + 1;
	if (path_end - pos >= 2 && text[pos] == '/' && text[pos + 1] == '/') {
		size_t a_off = pos + 2, a_len;
		const char *slash = memchr(text + a_off, '/', path_end - a_off);

		a_len = slash ? (size_t)(slash - (text + a_off)) : path_end - a_off;
		uri->authority = uri_copy(&s, text + a_off, a_len);
		err = uri_parse_authority(uri, &s, &src, a_off, a_len);
		if (err < 0)
			goto fail;
		pos = a_off + a_len;
	}
	err = uri_decode(&path, &s, &src, pos, path_end - pos, "path");
	if (err < 0)
		goto fail;
	uri->path = path;

	err = uri_parse_query(params, &uri->n_params, &s, &src, query_off, len - query_off);
	if (err < 0)
		goto fail;
	uri->params = uri->n_params ? params : NULL;

	*out = uri;
	return 0;
fail:
	free(block);
	return err;
}

void ax_uri_free(ax_uri *uri)
{
	free(uri);
}

const char *ax_uri_get(const ax_uri *uri, const char *key)
{
	if (!uri || !key)
		return NULL;
	for (size_t i = 0; i < uri->n_params; i++)
		if (strcmp(uri->params[i].key, key) == 0)
			return uri->params[i].value;
	return NULL;
}

static const ax_option_desc *uri_option_find(const ax_option_desc *options, const char *key)
{
	if (!options)
		return NULL;
	for (; options->name; options++)
		if (strcmp(options->name, key) == 0)
			return options;
	return NULL;
}

int ax__uri_check_keys(const ax_uri *uri, const char *scheme, const ax_option_desc *options)
{
	assert(uri);
	if (!scheme)
		scheme = uri->scheme;

	for (size_t i = 0; i < uri->n_params; i++) {
		const char *key = uri->params[i].key;
		char valid[320];
		size_t used = 0;

		if (uri_option_find(options, key))
			continue;
		if (!options || !options->name)
			return ax__error_set(
			        AX_EUNKNOWNKEY,
			        "unknown key '%s' for scheme '%s' (this transport accepts "
			        "no keys)",
			        key, scheme);
		valid[0] = '\0';
		for (const ax_option_desc *o = options; o->name; o++) {
			size_t room = sizeof(valid) - used;
			int n = snprintf(valid + used, room, "%s%s", o == options ? "" : ", ",
			                 o->name);

			/* Keep the message one readable line even for a huge table. */
			if (n < 0 || (size_t)n >= room - 4) {
				valid[used] = '\0';
				(void)snprintf(valid + used, sizeof(valid) - used, ", ...");
				break;
			}
			used += (size_t)n;
		}
		return ax__error_set(AX_EUNKNOWNKEY,
		                     "unknown key '%s' for scheme '%s' (valid keys: %s)", key,
		                     scheme, valid);
	}
	return 0;
}

/*
 * Decimal or 0x hex with an optional leading '-'; nothing else. The value
 * module owns integer text: the same grammar as register values.
 */
static int uri_parse_ll(const char *text, long long *out)
{
	uint8_t b[8];
	uint64_t v = 0;
	size_t len;
	int err = ax_value_parse(AX_DTYPE_S64, text, b, sizeof(b), &len);

	if (err < 0)
		return err;
	v = ax__le_get(b, sizeof(b));
	*out = (long long)(int64_t)v;
	return 0;
}

int ax__uri_int(const ax_uri *uri, const ax_option_desc *options, const char *key, long long min,
                long long max, long long *out)
{
	const ax_option_desc *opt = uri_option_find(options, key);
	const char *text = ax_uri_get(uri, key);
	const char *from = "URI key";
	long long v;
	int err;

	assert(key);
	assert(out);
	if (!text && opt && opt->def) {
		text = opt->def;
		from = "default of URI key";
	}
	if (!text)
		return ax__error_set(AX_ENOTFOUND, "URI key '%s' is not given and has no default",
		                     key);
	err = uri_parse_ll(text, &v);
	if (err == AX_EINVAL)
		return ax__error_set(AX_EINVAL,
		                     "%s '%s': '%s' is not an integer (decimal or 0x hex)", from,
		                     key, text);
	if (err < 0 || v < min || v > max)
		return ax__error_set(AX_EINVAL, "%s '%s': value '%s' is out of range %lld..%lld",
		                     from, key, text, min, max);
	*out = v;
	return 0;
}

const char *ax__uri_str(const ax_uri *uri, const ax_option_desc *options, const char *key)
{
	const char *v = ax_uri_get(uri, key);
	const ax_option_desc *opt;

	if (v)
		return v;
	opt = uri_option_find(options, key);
	return opt ? opt->def : NULL;
}

/* ---- normal form ---- */

/* Well-known ports of schemes whose plugins do not declare a "port" option. */
static const struct {
	const char *scheme;
	int port;
} uri_known_ports[] = {
        {"eth", AX_MCB_UDP_PORT},
};

static int uri_default_port(const char *scheme, const ax_option_desc *options)
{
	const ax_option_desc *opt = uri_option_find(options, "port");
	long long v;

	if (opt && opt->def && uri_parse_ll(opt->def, &v) == 0 && v > 0 && v <= URI_MAX_PORT)
		return (int)v;
	for (size_t i = 0; i < sizeof(uri_known_ports) / sizeof(uri_known_ports[0]); i++)
		if (!strcmp(uri_known_ports[i].scheme, scheme))
			return uri_known_ports[i].port;
	return -1;
}

/* Append @s percent-encoding what would change the meaning of the normal form. */
static void uri_put(char *buf, size_t *len, const char *s, int lower)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '%' || c == '&' || c == '=' || c == '?' || c == '#' || c <= 0x20 ||
		    c >= 0x7F) {
			buf[(*len)++] = '%';
			buf[(*len)++] = hex[c >> 4];
			buf[(*len)++] = hex[c & 15];
		} else {
			if (lower && c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			buf[(*len)++] = (char)c;
		}
	}
}

static int uri_param_cmp(const void *a, const void *b)
{
	const ax_uri_param *const *x = a, *const *y = b;
	int c = strcmp((*x)->key, (*y)->key);

	return c ? c : strcmp((*x)->value, (*y)->value);
}

int ax__uri_normalize(const ax_uri *uri, const ax_option_desc *options, char **out)
{
	const ax_uri_param **params = NULL;
	size_t cap = 32, len = 0, n = 0;
	int port;
	char *buf;

	assert(uri && out);
	cap += 3 * (strlen(uri->scheme) + strlen(uri->host) + strlen(uri->path));
	for (size_t i = 0; i < uri->n_params; i++)
		cap += 3 * (strlen(uri->params[i].key) + strlen(uri->params[i].value)) + 2;
	buf = malloc(cap);
	if (uri->n_params)
		params = malloc(uri->n_params * sizeof(*params));
	if (!buf || (uri->n_params && !params)) {
		free(buf);
		free(params);
		return ax__error_oom();
	}
	uri_put(buf, &len, uri->scheme, 1);
	buf[len++] = ':';
	if (uri->authority) {
		buf[len++] = '/';
		buf[len++] = '/';
		if (strchr(uri->host, ':'))
			buf[len++] = '[';
		uri_put(buf, &len, uri->host, 1); /* host names ignore case */
		if (strchr(uri->host, ':'))
			buf[len++] = ']';
		port = uri->port >= 0 ? uri->port : uri_default_port(uri->scheme, options);
		if (port >= 0)
			len += (size_t)snprintf(buf + len, cap - len, ":%d", port);
	}
	uri_put(buf, &len, uri->path, 0);
	/* Keys in order; a key given its declared default says nothing. */
	for (size_t i = 0; i < uri->n_params; i++) {
		const ax_option_desc *opt = uri_option_find(options, uri->params[i].key);

		if (!opt || !opt->def || strcmp(opt->def, uri->params[i].value))
			params[n++] = &uri->params[i];
	}
	if (n)
		qsort(params, n, sizeof(*params), uri_param_cmp);
	for (size_t i = 0; i < n; i++) {
		buf[len++] = i ? '&' : '?';
		uri_put(buf, &len, params[i]->key, 0);
		buf[len++] = '=';
		uri_put(buf, &len, params[i]->value, 0);
	}
	buf[len] = '\0';
	free(params);
	*out = buf;
	return 0;
}
