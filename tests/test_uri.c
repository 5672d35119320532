/* SPDX-License-Identifier: MIT */
/*
 * URI parsing, query key checks and typed option access (the internal
 * ax__uri_* calls: this test links the static twin of the core).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "axlink/error.h"
#include "axlink/plugin.h"
#include "axlink/uri.h"
#include "uri.h"

#define MAX_PARAMS 3

struct accept_case {
	const char *name;
	const char *text;
	const char *scheme;
	const char *authority; /* NULL = absent */
	const char *host;
	int port;
	const char *path;
	size_t n_params;
	ax_uri_param params[MAX_PARAMS];
};

/* clang-format off */
static const struct accept_case accepts[] = {
	/* name, text,
	  *	scheme, authority, host, port, path, n_params, params */
	{ "virtual_bare", "virtual:",
		"virtual", NULL, "", -1, "", 0, { { 0 } } },
	{ "virtual_query", "virtual:?model=axs-100&serial=7",
		"virtual", NULL, "", -1, "", 2, { { "model", "axs-100" }, { "serial", "7" } } },
	{ "eth_host", "eth://127.0.0.2",
		"eth", "127.0.0.2", "127.0.0.2", -1, "", 0, { { 0 } } },
	{ "eth_port_query", "eth://127.0.0.2:1061?timeout_ms=200",
		"eth", "127.0.0.2:1061", "127.0.0.2", 1061, "", 1, { { "timeout_ms", "200" } } },
	{ "eth_ipv6", "eth://[::1]:1061",
		"eth", "[::1]:1061", "::1", 1061, "", 0, { { 0 } } },
	{ "eth_ipv6_zone", "eth://[fe80::1%25eth0]",
		"eth", "[fe80::1%25eth0]", "fe80::1%eth0", -1, "", 0, { { 0 } } },
	{ "serial_path", "serial:/dev/ttyUSB0?baud=115200",
		"serial", NULL, "", -1, "/dev/ttyUSB0", 1, { { "baud", "115200" } } },
	{ "usb_query", "usb:?vid=1209&pid=0001",
		"usb", NULL, "", -1, "", 2, { { "vid", "1209" }, { "pid", "0001" } } },
	{ "usb_bus_addr", "usb:1.4",
		"usb", NULL, "", -1, "1.4", 0, { { 0 } } },
	{ "percent_path", "serial:/dev/tty%55SB0",
		"serial", NULL, "", -1, "/dev/ttyUSB0", 0, { { 0 } } },
	{ "port_0", "eth://h:0",
		"eth", "h:0", "h", 0, "", 0, { { 0 } } },
	{ "port_65535", "eth://h:65535",
		"eth", "h:65535", "h", 65535, "", 0, { { 0 } } },
	{ "scheme_lowered", "ETH://H",
		"eth", "H", "H", -1, "", 0, { { 0 } } },
	{ "scheme_chars", "a1+b.c-d:x",
		"a1+b.c-d", NULL, "", -1, "x", 0, { { 0 } } },
	{ "authority_path", "eth://h:5/a/b",
		"eth", "h:5", "h", 5, "/a/b", 0, { { 0 } } },
	{ "empty_authority", "eth://",
		"eth", "", "", -1, "", 0, { { 0 } } },
	{ "empty_query", "x:?",
		"x", NULL, "", -1, "", 0, { { 0 } } },
	{ "bare_key", "x:?flag&b=",
		"x", NULL, "", -1, "", 2, { { "flag", "" }, { "b", "" } } },
	{ "value_with_equals", "x:?a=b=c",
		"x", NULL, "", -1, "", 1, { { "a", "b=c" } } },
	{ "decoded_query", "x:?k%20ey=v%26l%3d",
		"x", NULL, "", -1, "", 1, { { "k ey", "v&l=" } } },
	{ "decoded_host", "eth://my%2Dhost:7",
		"eth", "my%2Dhost:7", "my-host", 7, "", 0, { { 0 } } },
};
/* clang-format on */

static void check_str(const char *name, const char *field, const char *got, const char *want)
{
	if (!want ? got != NULL : !got || strcmp(got, want) != 0)
		fail_msg("%s: %s is '%s', want '%s'", name, field, got ? got : "(null)",
		         want ? want : "(null)");
}

static void test_uri__accept_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(accepts) / sizeof(accepts[0]); i++) {
		const struct accept_case *c = &accepts[i];
		ax_uri *uri = NULL;
		int err = ax_uri_parse(&uri, c->text);

		if (err != 0)
			fail_msg("%s: '%s' refused with %d: %s", c->name, c->text, err,
			         ax_error_last());
		check_str(c->name, "text", uri->text, c->text);
		check_str(c->name, "scheme", uri->scheme, c->scheme);
		check_str(c->name, "authority", uri->authority, c->authority);
		check_str(c->name, "host", uri->host, c->host);
		check_str(c->name, "path", uri->path, c->path);
		if (uri->port != c->port)
			fail_msg("%s: port %d, want %d", c->name, uri->port, c->port);
		if (uri->n_params != c->n_params)
			fail_msg("%s: %zu params, want %zu", c->name, uri->n_params, c->n_params);
		for (size_t k = 0; k < c->n_params; k++) {
			check_str(c->name, "key", uri->params[k].key, c->params[k].key);
			check_str(c->name, "value", uri->params[k].value, c->params[k].value);
			check_str(c->name, "ax_uri_get", ax_uri_get(uri, c->params[k].key),
			          c->params[k].value);
		}
		ax_uri_free(uri);
	}
}

struct reject_case {
	const char *name;
	const char *text;
	const char *want_text; /* the message must hold this */
	int names_uri;         /* and quote the URI */
};

/* clang-format off */
static const struct reject_case rejects[] = {
	{ "empty", "", "empty URI", 0 },
	{ "no_scheme", "noscheme", "no scheme", 1 },
	{ "empty_scheme", ":x", "empty scheme", 1 },
	{ "scheme_digit_first", "1eth://x", "start with a letter", 1 },
	{ "scheme_bad_char", "e th:x", "invalid character ' ' in scheme at offset 1", 1 },
	{ "port_65536", "eth://h:65536", "port 65536 at offset 8 is out of range 0..65535", 1 },
	{ "port_huge", "eth://h:99999999999999999999999", "out of range", 1 },
	{ "port_junk", "eth://h:12a", "port '12a' at offset 8 is not a decimal number", 1 },
	{ "port_negative", "eth://h:-1", "not a decimal number", 1 },
	{ "port_empty", "eth://h:", "empty port", 1 },
	{ "ipv6_unclosed", "eth://[::1", "never closed", 1 },
	{ "ipv6_junk_after", "eth://[::1]x", "unexpected 'x' after ']' at offset 11", 1 },
	{ "empty_key", "x:?=v", "empty key in query at offset 3", 1 },
	{ "empty_key_trailing_amp", "x:?a=1&", "empty key in query at offset 7", 1 },
	{ "duplicate_key", "x:?a=1&a=2", "duplicate key 'a' in query at offset 7", 1 },
	{ "duplicate_key_decoded", "x:?a=1&%61=2", "duplicate key 'a'", 1 },
	{ "bad_escape", "x:%zz", "invalid percent escape '%zz' in path at offset 2", 1 },
	{ "short_escape", "x:ab%4", "invalid percent escape '%4' in path at offset 4", 1 },
	{ "escape_cut_by_query", "x:%4?a=1", "invalid percent escape '%4' in path", 1 },
	{ "nul_escape", "x:a%00b", "'%00' (NUL) in path at offset 3", 1 },
	{ "bad_escape_key", "x:?%g1=2", "in query key at offset 3", 1 },
	{ "bad_escape_value", "x:?a=%", "in query value at offset 5", 1 },
	{ "bad_escape_host", "eth://a%zz", "in host at offset 7", 1 },
	{ "control_char", "x:a\nb", "control character 0x0A at offset 3", 0 },
};
/* clang-format on */

static void test_uri__reject_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		const struct reject_case *c = &rejects[i];
		ax_uri *sentinel = (ax_uri *)(uintptr_t)0x1;
		ax_uri *uri = sentinel;
		int err = ax_uri_parse(&uri, c->text);

		if (err != AX_EINVAL)
			fail_msg("%s: '%s' gave %d, want AX_EINVAL (%s)", c->name, c->text, err,
			         ax_error_last());
		if (uri != sentinel)
			fail_msg("%s: out param written on failure", c->name);
		if (!strstr(ax_error_last(), c->want_text))
			fail_msg("%s: message '%s' lacks '%s'", c->name, ax_error_last(),
			         c->want_text);
		if (c->names_uri) {
			char quoted[128];

			(void)snprintf(quoted, sizeof(quoted), "'%s'", c->text);
			if (!strstr(ax_error_last(), quoted))
				fail_msg("%s: message '%s' does not quote the URI", c->name,
				         ax_error_last());
		}
	}
}

/* The one-block layout must hold its worst cases: long hosts, many tiny params. */
static void test_uri__large_inputs(void **state)
{
	static char text[8192];
	ax_uri *uri = NULL;
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "eth://[");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "a");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "]:1/p?");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%c", i ? "&" : "",
		                      (char)('a' + i % 26) /* duplicates checked below */);
	assert_int_equal(ax_uri_parse(&uri, text), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "duplicate key 'a'"));
	assert_non_null(strstr(ax_error_last(), "aaa...':")); /* long URI quoted, cut short */

	/* Distinct keys this time: k0, k1, ... */
	n = (size_t)snprintf(text, sizeof(text), "x://%%41%%42?");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sk%d", i ? "&" : "", i);
	assert_true(n < sizeof(text) - 1);
	assert_int_equal(ax_uri_parse(&uri, text), 0);
	assert_string_equal(uri->host, "AB");
	assert_int_equal(uri->n_params, 1000);
	assert_string_equal(uri->params[999].key, "k999");
	assert_string_equal(uri->params[999].value, "");
	ax_uri_free(uri);
}

static void test_uri__get_and_free_null(void **state)
{
	ax_uri *uri = NULL;

	(void)state;
	assert_int_equal(ax_uri_parse(&uri, "x:?a=1&b=2"), 0);
	assert_string_equal(ax_uri_get(uri, "b"), "2");
	assert_null(ax_uri_get(uri, "c"));
	assert_null(ax_uri_get(uri, "A")); /* keys are case-sensitive */
	assert_null(ax_uri_get(NULL, "a"));
	ax_uri_free(uri);
	ax_uri_free(NULL);
	assert_int_equal(ax_uri_parse(NULL, "x:"), AX_EINVAL);
	assert_int_equal(ax_uri_parse(&uri, NULL), AX_EINVAL);
}

static const ax_option_desc eth_options[] = {
        {"timeout_ms", AX_OPT_INT, "1000", "request timeout"},
        {"port", AX_OPT_INT, "1061", "UDP port"},
        {"iface", AX_OPT_STRING, NULL, "network interface"},
        {"bad_default", AX_OPT_INT, "12x", "a plugin bug"},
        {NULL, 0, NULL, NULL},
};

static const ax_option_desc no_options[] = {{NULL, 0, NULL, NULL}};

struct keys_case {
	const char *name;
	const char *text;
	const ax_option_desc *options;
	int want;
	const char *want_text;
};

/* clang-format off */
static const struct keys_case keys_cases[] = {
	{ "known_keys", "eth://h?timeout_ms=5&port=7", eth_options, 0, NULL },
	{ "no_keys_no_options", "eth://h", NULL, 0, NULL },
	{ "unknown_key", "eth://h?timeout_ms=5&bogus=1", eth_options, AX_EUNKNOWNKEY,
	  "unknown key 'bogus' for scheme 'eth' (valid keys: timeout_ms, port, iface, "
	  "bad_default)" },
	{ "null_options", "eth://h?x=1", NULL, AX_EUNKNOWNKEY,
	  "unknown key 'x' for scheme 'eth' (this transport accepts no keys)" },
	{ "empty_options", "eth://h?x", no_options, AX_EUNKNOWNKEY,
	  "(this transport accepts no keys)" },
	{ "case_matters", "eth://h?Port=1", eth_options, AX_EUNKNOWNKEY, "unknown key 'Port'" },
};
/* clang-format on */

static void test_uri__check_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(keys_cases) / sizeof(keys_cases[0]); i++) {
		const struct keys_case *c = &keys_cases[i];
		ax_uri *uri = NULL;
		int err;

		assert_int_equal(ax_uri_parse(&uri, c->text), 0);
		err = ax__uri_check_keys(uri, "eth", c->options);
		if (err != c->want)
			fail_msg("%s: got %d, want %d (%s)", c->name, err, c->want,
			         ax_error_last());
		if (c->want_text && !strstr(ax_error_last(), c->want_text))
			fail_msg("%s: message '%s' lacks '%s'", c->name, ax_error_last(),
			         c->want_text);
		ax_uri_free(uri);
	}
}

/* A huge option table still gives one bounded, readable line. */
static void test_uri__check_keys_long_list(void **state)
{
	static char names[100][24];
	static ax_option_desc many[101];
	ax_uri *uri = NULL;

	(void)state;
	for (int i = 0; i < 100; i++) {
		(void)snprintf(names[i], sizeof(names[i]), "option_number_%d", i);
		many[i].name = names[i];
		many[i].type = AX_OPT_INT;
	}
	assert_int_equal(ax_uri_parse(&uri, "x:?nope=1"), 0);
	assert_int_equal(ax__uri_check_keys(uri, NULL, many), AX_EUNKNOWNKEY);
	assert_non_null(strstr(ax_error_last(), "unknown key 'nope' for scheme 'x'"));
	assert_non_null(strstr(ax_error_last(), "option_number_0, option_number_1"));
	assert_non_null(strstr(ax_error_last(), ", ...)"));
	ax_uri_free(uri);
}

struct int_case {
	const char *name;
	const char *text;
	const char *key;
	long long min, max;
	int want;
	long long want_value;
	const char *want_text;
};

/* clang-format off */
static const struct int_case int_cases[] = {
	{ "given", "eth://h?timeout_ms=200", "timeout_ms", 1, 60000, 0, 200, NULL },
	{ "default", "eth://h", "timeout_ms", 1, 60000, 0, 1000, NULL },
	{ "hex", "eth://h?port=0x425", "port", 0, 65535, 0, 0x425, NULL },
	{ "hex_upper", "eth://h?port=0X1F", "port", 0, 65535, 0, 31, NULL },
	{ "negative", "eth://h?timeout_ms=-5", "timeout_ms", -10, 10, 0, -5, NULL },
	{ "negative_hex", "eth://h?timeout_ms=-0x10", "timeout_ms", -100, 0, 0, -16, NULL },
	{ "at_min", "eth://h?port=0", "port", 0, 65535, 0, 0, NULL },
	{ "at_max", "eth://h?port=65535", "port", 0, 65535, 0, 65535, NULL },
	{ "llong_min", "eth://h?port=-9223372036854775808", "port", LLONG_MIN, LLONG_MAX, 0,
	  LLONG_MIN, NULL },
	{ "llong_max", "eth://h?port=9223372036854775807", "port", LLONG_MIN, LLONG_MAX, 0,
	  LLONG_MAX, NULL },
	{ "over_llong", "eth://h?port=9223372036854775808", "port", LLONG_MIN, LLONG_MAX, AX_EINVAL,
	  0, "out of range" },
	{ "over_ull", "eth://h?port=99999999999999999999999", "port", 0, 10, AX_EINVAL, 0,
	  "out of range" },
	{ "above_max", "eth://h?timeout_ms=70000", "timeout_ms", 1, 60000, AX_EINVAL, 0,
	  "URI key 'timeout_ms': value '70000' is out of range 1..60000" },
	{ "below_min", "eth://h?timeout_ms=0", "timeout_ms", 1, 60000, AX_EINVAL, 0,
	  "value '0' is out of range 1..60000" },
	{ "junk", "eth://h?timeout_ms=12x", "timeout_ms", 1, 60000, AX_EINVAL, 0,
	  "URI key 'timeout_ms': '12x' is not an integer" },
	{ "empty", "eth://h?timeout_ms", "timeout_ms", 1, 60000, AX_EINVAL, 0,
	  "'' is not an integer" },
	{ "plus_sign", "eth://h?timeout_ms=%2B5", "timeout_ms", 1, 60000, AX_EINVAL, 0,
	  "not an integer" },
	{ "leading_space", "eth://h?timeout_ms=%205", "timeout_ms", 1, 60000, AX_EINVAL, 0,
	  "not an integer" },
	{ "bare_0x", "eth://h?timeout_ms=0x", "timeout_ms", 1, 60000, AX_EINVAL, 0,
	  "not an integer" },
	{ "double_minus", "eth://h?timeout_ms=--5", "timeout_ms", -10, 10, AX_EINVAL, 0,
	  "not an integer" },
	{ "no_default", "eth://h", "iface", 0, 1, AX_ENOTFOUND, 0,
	  "URI key 'iface' is not given and has no default" },
	{ "undeclared", "eth://h", "nothing", 0, 1, AX_ENOTFOUND, 0, "'nothing'" },
	{ "bad_default", "eth://h", "bad_default", 0, 100, AX_EINVAL, 0,
	  "default of URI key 'bad_default'" },
	{ "default_out_of_range", "eth://h", "timeout_ms", 1, 500, AX_EINVAL, 0,
	  "default of URI key 'timeout_ms': value '1000' is out of range 1..500" },
};
/* clang-format on */

static void test_uri__int_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
		const struct int_case *c = &int_cases[i];
		ax_uri *uri = NULL;
		long long v = 4242;
		int err;

		assert_int_equal(ax_uri_parse(&uri, c->text), 0);
		err = ax__uri_int(uri, eth_options, c->key, c->min, c->max, &v);
		if (err != c->want)
			fail_msg("%s: got %d, want %d (%s)", c->name, err, c->want,
			         ax_error_last());
		if (err == 0 && v != c->want_value)
			fail_msg("%s: value %lld, want %lld", c->name, v, c->want_value);
		if (err < 0 && v != 4242)
			fail_msg("%s: out param written on failure", c->name);
		if (c->want_text && !strstr(ax_error_last(), c->want_text))
			fail_msg("%s: message '%s' lacks '%s'", c->name, ax_error_last(),
			         c->want_text);
		ax_uri_free(uri);
	}
}

static void test_uri__str_values(void **state)
{
	ax_uri *uri = NULL;

	(void)state;
	assert_int_equal(ax_uri_parse(&uri, "eth://h?iface=eth%301&timeout_ms=5"), 0);
	assert_string_equal(ax__uri_str(uri, eth_options, "iface"), "eth01");
	assert_string_equal(ax__uri_str(uri, eth_options, "timeout_ms"), "5");
	assert_string_equal(ax__uri_str(uri, eth_options, "port"), "1061"); /* default */
	assert_null(ax__uri_str(uri, eth_options, "nothing"));
	assert_null(ax__uri_str(uri, NULL, "port"));
	ax_uri_free(uri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_uri__accept_table),
	        cmocka_unit_test(test_uri__reject_table),
	        cmocka_unit_test(test_uri__large_inputs),
	        cmocka_unit_test(test_uri__get_and_free_null),
	        cmocka_unit_test(test_uri__check_keys),
	        cmocka_unit_test(test_uri__check_keys_long_list),
	        cmocka_unit_test(test_uri__int_values),
	        cmocka_unit_test(test_uri__str_values),
	};

	return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
