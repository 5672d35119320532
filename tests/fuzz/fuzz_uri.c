/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the connection-string parser and the typed key access the transports
 * use on it: ax_uri_parse() either refuses the text with AX_EINVAL and a
 * message, or gives a URI whose parts are all there (never NULL), whose
 * scheme is lower case, whose port is -1 or 0..65535 and whose every key
 * can be found again; checking keys and reading them as integers or text
 * against an options table then never fails in an undocumented way.
 */
#include <string.h>

#include "axlink/error.h"
#include "axlink/uri.h"
#include "fuzz.h"
#include "uri.h"

/* A table like the transports declare: integer and text keys, with and without defaults. */
static const ax_option_desc fuzz_options[] = {
        {"timeout_ms", AX_OPT_INT, "1000", "reply timeout"},
        {"baud", AX_OPT_INT, NULL, "line rate"},
        {"model", AX_OPT_STRING, "axs-100", "model"},
        {"serial", AX_OPT_STRING, NULL, "serial number"},
        {NULL, 0, NULL, NULL},
};

static void check_parsed(const ax_uri *u, const char *text)
{
	FUZZ_CHECK(u->text && !strcmp(u->text, text), "text not kept");
	FUZZ_CHECK(u->scheme && u->scheme[0], "empty scheme");
	for (const char *p = u->scheme; *p; p++)
		FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'), "scheme '%s' not lower case", u->scheme);
	FUZZ_CHECK(u->host && u->path, "NULL host or path");
	FUZZ_CHECK(u->port >= -1 && u->port <= 65535, "port %d", u->port);
	FUZZ_CHECK(u->n_params == 0 || u->params, "params missing");
	for (size_t i = 0; i < u->n_params; i++) {
		const char *key = u->params[i].key;

		FUZZ_CHECK(key && u->params[i].value, "param %zu has NULL text", i);
		FUZZ_CHECK(ax_uri_get(u, key) != NULL, "key '%s' not found again", key);
	}
}

static void check_options(const ax_uri *u)
{
	int err = ax__uri_check_keys(u, "fuzz", fuzz_options);

	FUZZ_CHECK(err == 0 || err == AX_EUNKNOWNKEY, "check_keys gave %d", err);
	FUZZ_CHECK(ax__uri_check_keys(u, NULL, NULL) == (u->n_params ? AX_EUNKNOWNKEY : 0),
	           "no keys accepted, but %zu given", u->n_params);
	for (const ax_option_desc *o = fuzz_options; o->name; o++) {
		long long v = -12345;
		const char *s;

		err = ax__uri_int(u, fuzz_options, o->name, 1, 60000, &v);
		FUZZ_CHECK(err == 0 || err == AX_EINVAL || err == AX_ENOTFOUND,
		           "uri_int('%s') gave %d", o->name, err);
		if (err == 0)
			FUZZ_CHECK(v >= 1 && v <= 60000, "'%s' = %lld outside its range", o->name,
			           v);
		else
			FUZZ_CHECK(v == -12345, "'%s' written on failure", o->name);
		s = ax__uri_str(u, fuzz_options, o->name);
		FUZZ_CHECK(s != NULL || (o->def == NULL && ax_uri_get(u, o->name) == NULL),
		           "'%s' lost", o->name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ax_uri *u = NULL;
	char *text = malloc(size + 1);
	int err;

	FUZZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	err = ax_uri_parse(&u, text);
	if (err < 0) {
		FUZZ_CHECK(err == AX_EINVAL, "parse gave %d (%s)", err, ax_error_last());
		FUZZ_CHECK(u == NULL, "out param written on failure");
		FUZZ_CHECK(ax_error_last()[0] != '\0', "no message");
	} else {
		FUZZ_CHECK(err == 0 && u != NULL, "parse gave %d", err);
		check_parsed(u, text);
		check_options(u);
		ax_uri_free(u);
	}
	free(text);
	return 0;
}
