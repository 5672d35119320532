/* SPDX-License-Identifier: MIT */
/*
 * The plugin loader against the folder of purpose-built plugins in
 * tests/plugins (AXLINK_TEST_PLUGIN_DIR): the exact load report, the error
 * code of each refusal, a link through the good plugin, several contexts
 * side by side, release order, and the default and environment search paths.
 */
#define _XOPEN_SOURCE 700 /* realpath, setenv */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "axlink/plugin.h"

#ifndef AXLINK_TEST_PLUGIN_DIR
#error "AXLINK_TEST_PLUGIN_DIR must name the folder of the test plugins"
#endif
#ifndef AXLINK_BUILD_PLUGIN_DIR
#error "AXLINK_BUILD_PLUGIN_DIR must name the build tree's plugin folder"
#endif

#define NO_OBJECT 0x06020000u

/* Both folders as the loader records them (it resolves symlinks). */
static char test_dir[PATH_MAX];
static char build_plugin_dir[PATH_MAX];

/* What the message of a report row must mention, beyond its literal needle. */
#define MSG_VERSIONS 0x1u /* the plugin's ABI and the library's, as "M.m" */
#define MSG_WINNER 0x2u   /* the path of the plugin that serves the scheme */
#define MSG_DLERROR 0x4u  /* what dlerror() says about the file */

struct row_case {
	const char *file; /* the part of axlink-transport-<file>.so */
	int status;
	const char *scheme;
	unsigned abi_major, abi_minor;
	const char *needle; /* in the message; NULL = message must be "" */
	unsigned msg;       /* MSG_* */
};

/*
 * Every axlink-transport-*.so of tests/plugins, in name order; not-a-plugin.so
 * and README.txt are absent on purpose. Rows with a broken descriptor keep
 * the ABI version when the descriptor's header could be read, and report no
 * scheme: only a descriptor that passed its checks (or a newer minor of our
 * major, whose layout is known) is trusted for its strings.
 */
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

#define MAJ AX_PLUGIN_ABI_MAJOR
#define MIN AX_PLUGIN_ABI_MINOR

static const struct row_case rows[] = {
        {"testbadscheme", AX_PLUGIN_INVALID, "", MAJ, MIN, "test_bad", 0},
        {"testbroken", AX_PLUGIN_DLOPEN_ERROR, "", 0, 0, "dlopen", MSG_DLERROR},
        {"testgood", AX_PLUGIN_LOADED, "testgood", MAJ, MIN, NULL, 0},
        {"testgood2", AX_PLUGIN_SHADOWED, "testgood", MAJ, MIN, "testgood", MSG_WINNER},
        {"testmajor", AX_PLUGIN_REFUSED_ABI, "", MAJ + 1, MIN, "ABI", MSG_VERSIONS},
        {"testnewer", AX_PLUGIN_REFUSED_ABI, "testnewer", MAJ, MIN + 1, "ABI", MSG_VERSIONS},
        {"testnoentry", AX_PLUGIN_NO_ENTRY, "", 0, 0, AX_PLUGIN_ENTRY_NAME, 0},
        {"testnoops", AX_PLUGIN_INVALID, "", MAJ, MIN, "ops", 0},
        {"testnoread", AX_PLUGIN_INVALID, "", MAJ, MIN, "read", 0},
        {"testnoscheme", AX_PLUGIN_INVALID, "", MAJ, MIN, "scheme", 0},
        {"testnull", AX_PLUGIN_INVALID, "", 0, 0, "NULL", 0},
        {"testolder", AX_PLUGIN_LOADED, "testolder", MAJ, MIN - 1, NULL, 0},
        {"testsmall", AX_PLUGIN_INVALID, "", MAJ, MIN, "size 8", 0},
};

/* The code ax_ctx_load_plugin() returns for each report status. */
static int status_code(int status)
{
	switch (status) {
	case AX_PLUGIN_LOADED:
		return 0;
	case AX_PLUGIN_REFUSED_ABI:
		return AX_EABI;
	case AX_PLUGIN_NO_ENTRY:
		return AX_ENOTFOUND;
	case AX_PLUGIN_DLOPEN_ERROR:
		return AX_EIO;
	case AX_PLUGIN_SHADOWED:
		return AX_EBUSY;
	default:
		return AX_EINVAL;
	}
}

static void plugin_path(char *buf, size_t cap, const char *dir, const char *file)
{
	int n = snprintf(buf, cap, "%s/axlink-transport-%s.so", dir, file);

	assert_true(n > 0 && (size_t)n < cap);
}

static void assert_contains(const char *what, const char *haystack, const char *needle)
{
	if (!haystack || !strstr(haystack, needle))
		fail_msg("%s: '%s' does not contain '%s'", what, haystack ? haystack : "(null)",
		         needle);
}

/* A context that searches only @dir (NULL: no folder at all). */
static ax_ctx *ctx_only(const char *dir)
{
	const char *paths[] = {dir, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;
	int err;

	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = dir ? paths : NULL;
	err = ax_ctx_new(&ctx, &opts);
	if (err != 0)
		fail_msg("ax_ctx_new: %d (%s)", err, ax_error_last());
	assert_non_null(ctx);
	return ctx;
}

/* Index of the first row with @scheme and @status, or -1. */
static long find_row(ax_ctx *ctx, const char *scheme, int status, ax_plugin_record *out)
{
	size_t n = ax_ctx_plugin_count(ctx);

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ax_ctx_plugin_record(ctx, i, out), 0);
		if (!strcmp(out->scheme, scheme) && out->status == status)
			return (long)i;
	}
	return -1;
}

/* The message must carry the dynamic linker's own reason for @path. */
static void assert_has_dlerror(const char *what, const char *message, const char *path)
{
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const char *why = dlerror();

	if (dl) {
		dlclose(dl);
		fail_msg("%s: '%s' opens fine", what, path);
	}
	assert_non_null(why);
	assert_contains(what, message, why);
}

/* True when @path names a file inside folder @dir. */
static int in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && path[n] == '/';
}

static int group_setup(void **state)
{
	if (!realpath(AXLINK_TEST_PLUGIN_DIR, test_dir)) {
		fprintf(stderr, "test plugin folder '%s' is missing\n", AXLINK_TEST_PLUGIN_DIR);
		return -1;
	}
	if (!realpath(AXLINK_BUILD_PLUGIN_DIR, build_plugin_dir)) {
		fprintf(stderr, "build plugin folder '%s' is missing\n", AXLINK_BUILD_PLUGIN_DIR);
		return -1;
	}
	/* Contexts with the default search must not pick up the caller's folders. */
	unsetenv("AXLINK_PLUGIN_PATH");
	/*
	 * Every context here warns about the folder's refusals; the report
	 * asserts them, and on stderr they would only bury cmocka's output.
	 */
	setenv("AXLINK_LOG", "error", 1);
	*state = NULL;
	return 0;
}

static int ctx_setup(void **state)
{
	*state = ctx_only(AXLINK_TEST_PLUGIN_DIR);
	return 0;
}

static int ctx_teardown(void **state)
{
	*state = ax_ctx_unref(*state);
	return 0;
}

static int env_teardown(void **state)
{
	(void)state;
	unsetenv("AXLINK_PLUGIN_PATH");
	return 0;
}

static void test_loader__status_names(void **state)
{
	static const char *const names[] = {"loaded",       "refused-abi", "no-entry-symbol",
	                                    "dlopen-error", "shadowed",    "invalid",
	                                    "untrusted"};

	(void)state;
	for (int s = 0; s < (int)(sizeof(names) / sizeof(names[0])); s++)
		assert_string_equal(ax_plugin_status_name(s), names[s]);
	assert_int_equal(AX_PLUGIN_UNTRUSTED, 6);
	assert_null(ax_plugin_status_name(-1));
	assert_null(ax_plugin_status_name(AX_PLUGIN_UNTRUSTED + 1));
}

static void test_loader__report_rows(void **state)
{
	ax_ctx *ctx = *state;
	size_t n = ax_ctx_plugin_count(ctx);
	char path[PATH_MAX + 64], winner[PATH_MAX + 64], ver[32];

	plugin_path(winner, sizeof(winner), test_dir, "testgood");
	if (n != sizeof(rows) / sizeof(rows[0])) {
		for (size_t i = 0; i < n; i++) {
			ax_plugin_record r = AX_PLUGIN_RECORD_INIT;

			if (ax_ctx_plugin_record(ctx, i, &r) == 0)
				fprintf(stderr, "row %zu: %s %s\n", i, r.path,
				        ax_plugin_status_name(r.status));
		}
		fail_msg("%zu rows in the report, want %zu", n, sizeof(rows) / sizeof(rows[0]));
	}
	for (size_t i = 0; i < n; i++) {
		const struct row_case *c = &rows[i];
		ax_plugin_record r = AX_PLUGIN_RECORD_INIT;

		assert_int_equal(ax_ctx_plugin_record(ctx, i, &r), 0);
		plugin_path(path, sizeof(path), test_dir, c->file);
		if (strcmp(r.path, path))
			fail_msg("row %zu: path '%s', want '%s'", i, r.path, path);
		if (r.status != c->status)
			fail_msg("%s: status %s, want %s (%s)", c->file,
			         ax_plugin_status_name(r.status), ax_plugin_status_name(c->status),
			         r.message);
		if (strcmp(r.scheme, c->scheme))
			fail_msg("%s: scheme '%s', want '%s'", c->file, r.scheme, c->scheme);
		if (r.abi_major != c->abi_major || r.abi_minor != c->abi_minor)
			fail_msg("%s: ABI %u.%u, want %u.%u", c->file, r.abi_major, r.abi_minor,
			         c->abi_major, c->abi_minor);
		assert_non_null(r.name);
		assert_non_null(r.version);
		assert_non_null(r.description);
		if (!c->needle) {
			if (strcmp(r.message, ""))
				fail_msg("%s: message '%s', want none", c->file, r.message);
			continue;
		}
		assert_contains(c->file, r.message, c->needle);
		if (c->msg & MSG_VERSIONS) {
			(void)snprintf(ver, sizeof(ver), "%u.%u", c->abi_major, c->abi_minor);
			assert_contains(c->file, r.message, ver);
			(void)snprintf(ver, sizeof(ver), "%d.%d", AX_PLUGIN_ABI_MAJOR,
			               AX_PLUGIN_ABI_MINOR);
			assert_contains(c->file, r.message, ver);
		}
		if (c->msg & MSG_WINNER)
			assert_contains(c->file, r.message, winner);
		if (c->msg & MSG_DLERROR)
			assert_has_dlerror(c->file, r.message, path);
	}
}

static void test_loader__loaded_row_fields(void **state)
{
	ax_ctx *ctx = *state;
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;

	assert_true(find_row(ctx, "testgood", AX_PLUGIN_LOADED, &r) >= 0);
	assert_string_equal(r.name, "axlink test transport");
	assert_string_equal(r.version, "0.0.1-test");
	assert_string_equal(r.description, "in-memory u32 cells for the loader tests");
	/* A newer minor is refused but still says what it is. */
	assert_true(find_row(ctx, "testnewer", AX_PLUGIN_REFUSED_ABI, &r) >= 0);
	assert_string_equal(r.version, "0.0.1-test");
}

static void test_loader__record_past_end(void **state)
{
	ax_ctx *ctx = *state;
	ax_plugin_record r = {.size = sizeof(r), .path = "untouched"};
	size_t n = ax_ctx_plugin_count(ctx);

	assert_int_equal(ax_ctx_plugin_record(ctx, n, &r), AX_ENOTFOUND);
	assert_string_equal(r.path, "untouched");
	assert_int_equal(ax_ctx_plugin_record(ctx, SIZE_MAX, &r), AX_ENOTFOUND);
	assert_string_equal(r.path, "untouched");
}

static void test_loader__link_cells(void **state)
{
	ax_ctx *ctx = *state;
	ax_link *link = NULL;
	uint8_t raw[16];
	size_t len = 0;
	uint32_t v = 0;
	int err;

	err = ax_link_open(&link, ctx, "testgood:", NULL);
	if (err != 0)
		fail_msg("open testgood: %d (%s)", err, ax_error_last());
	assert_string_equal(ax_link_scheme(link), "testgood");
	assert_ptr_equal(ax_link_ctx(link), ctx);

	assert_int_equal(ax_link_write_u32(link, 1, 3, 0xdeadbeefu), 0);
	assert_int_equal(ax_link_write_u32(link, 1, 15, 0x01020304u), 0);
	assert_int_equal(ax_link_read_u32(link, 1, 3, &v), 0);
	assert_int_equal(v, 0xdeadbeefu);
	assert_int_equal(ax_link_read_u32(link, 1, 15, &v), 0);
	assert_int_equal(v, 0x01020304u);
	/* Raw bytes are the cell little-endian, as the plugin stores them. */
	assert_int_equal(ax_link_read(link, 1, 3, raw, sizeof(raw), &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(raw[0], 0xef);
	assert_int_equal(raw[3], 0xde);
	/* An unwritten cell reads zero: the endpoint's state is its own. */
	assert_int_equal(ax_link_read_u32(link, 1, 0, &v), 0);
	assert_int_equal(v, 0);

	/* A failure the plugin reports through host->error keeps code and text. */
	err = ax_link_write(link, 1, 3, raw, 5);
	assert_int_equal(err, AX_ETOOBIG);
	assert_contains("write 5 bytes", ax_error_last(), "cell 3");
	assert_int_equal(ax_link_read_u32(link, 1, 3, &v), 0);
	assert_int_equal(v, 0xdeadbeefu);

	link = ax_link_unref(link);
	assert_null(link);
}

static void test_loader__link_drive_error(void **state)
{
	ax_ctx *ctx = *state;
	ax_link *link = NULL;
	uint32_t v = 0x5a5a5a5au;
	int err;

	err = ax_link_open(&link, ctx, "testgood:?cells=4", NULL);
	if (err != 0)
		fail_msg("open testgood cells=4: %d (%s)", err, ax_error_last());
	assert_int_equal(ax_link_write_u32(link, 1, 3, 7), 0);

	/* Cell 4 exists only without cells=4: the key reached the plugin. */
	err = ax_link_read_u32(link, 1, 4, &v);
	assert_int_equal(err, AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), NO_OBJECT);
	assert_int_equal(v, 0x5a5a5a5au);

	err = ax_link_write_u32(link, 2, 0, 1);
	assert_int_equal(err, AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), NO_OBJECT);

	/* The link still works after error replies. */
	assert_int_equal(ax_link_read_u32(link, 1, 3, &v), 0);
	assert_int_equal(v, 7);
	link = ax_link_unref(link);
}

static void test_loader__link_uri_keys(void **state)
{
	static const struct {
		const char *uri;
		int want;
		const char *needle[2]; /* both in the message */
	} cases[] = {
	        /* An unknown key is named, with the keys the plugin accepts. */
	        {"testgood:?bogus=1", AX_EUNKNOWNKEY, {"bogus", "cells"}},
	        {"testgood:?cells=0", AX_EINVAL, {"cells", "0"}},
	        {"testgood:?cells=17", AX_EINVAL, {"cells", "17"}},
	        {"testgood:?cells=4x", AX_EINVAL, {"cells", "4x"}},
	        {"nope:", AX_ENOTFOUND, {"nope", "nope"}},
	        /* File names and refused plugins' schemes serve nothing. */
	        {"testgood2:", AX_ENOTFOUND, {"testgood2", "testgood2"}},
	        {"testnewer:", AX_ENOTFOUND, {"testnewer", "testnewer"}},
	};
	static char sentinel;
	ax_ctx *ctx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ax_link *link = (ax_link *)(void *)&sentinel; /* must stay untouched */
		int err = ax_link_open(&link, ctx, cases[i].uri, NULL);

		if (err != cases[i].want)
			fail_msg("%s: got %d, want %d (%s)", cases[i].uri, err, cases[i].want,
			         ax_error_last());
		assert_ptr_equal(link, (ax_link *)(void *)&sentinel);
		assert_contains(cases[i].uri, ax_error_last(), cases[i].needle[0]);
		assert_contains(cases[i].uri, ax_error_last(), cases[i].needle[1]);
	}
}

struct log_capture {
	int hits;
	int level;
	char origin[64];
	char message[256];
};

static void capture_log(int level, const char *origin, const char *message, void *userdata)
{
	struct log_capture *cap = userdata;

	/* Only the plugin's own line ("...: 2 cells") counts; the core logs the open too. */
	if (!strstr(message, ": 2 cells"))
		return;
	cap->hits++;
	cap->level = level;
	(void)snprintf(cap->origin, sizeof(cap->origin), "%s", origin);
	(void)snprintf(cap->message, sizeof(cap->message), "%s", message);
}

static void test_loader__plugin_log(void **state)
{
	ax_ctx *ctx = *state;
	struct log_capture cap = {0};
	ax_link *link = NULL;

	/* At WARN the plugin's debug line is dropped. */
	ax_ctx_set_log(ctx, AX_LOG_WARN, capture_log, &cap);
	assert_int_equal(ax_link_open(&link, ctx, "testgood:?cells=2", NULL), 0);
	link = ax_link_unref(link);
	assert_int_equal(cap.hits, 0);

	ax_ctx_set_log(ctx, AX_LOG_DEBUG, capture_log, &cap);
	assert_int_equal(ax_ctx_get_log_level(ctx), AX_LOG_DEBUG);
	assert_int_equal(ax_link_open(&link, ctx, "testgood:?cells=2", NULL), 0);
	link = ax_link_unref(link);
	ax_ctx_set_log(ctx, AX_LOG_WARN, NULL, NULL);

	assert_int_equal(cap.hits, 1);
	assert_int_equal(cap.level, AX_LOG_DEBUG);
	assert_string_equal(cap.origin, "testgood");
	assert_contains("plugin log", cap.message, "2 cells");
}

/* Load @file by path into @ctx; check the code, the new row and the message. */
static void load_one(ax_ctx *ctx, const char *dir, const struct row_case *c, int want_status)
{
	char path[PATH_MAX + 64];
	size_t before = ax_ctx_plugin_count(ctx);
	int want = status_code(want_status);
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	int err;

	plugin_path(path, sizeof(path), dir, c->file);
	err = ax_ctx_load_plugin(ctx, path);
	if (err != want)
		fail_msg("%s: got %d, want %d (%s)", c->file, err, want, ax_error_last());
	assert_int_equal(ax_ctx_plugin_count(ctx), before + 1);
	assert_int_equal(ax_ctx_plugin_record(ctx, before, &r), 0);
	assert_string_equal(r.path, path);
	assert_int_equal(r.status, want_status);
	if (want == 0)
		return;
	/* The error message names the file, so it explains itself in a log. */
	assert_contains(c->file, ax_error_last(), path);
	if (c->msg & MSG_VERSIONS) {
		char ver[32];

		(void)snprintf(ver, sizeof(ver), "%u.%u", c->abi_major, c->abi_minor);
		assert_contains(c->file, ax_error_last(), ver);
		(void)snprintf(ver, sizeof(ver), "%d.%d", AX_PLUGIN_ABI_MAJOR, AX_PLUGIN_ABI_MINOR);
		assert_contains(c->file, ax_error_last(), ver);
	}
	if (c->msg & MSG_DLERROR)
		assert_has_dlerror(c->file, r.message, path);
}

static void test_loader__load_plugin_codes(void **state)
{
	static const struct row_case good = {
	        "testgood", AX_PLUGIN_LOADED, "testgood", MAJ, MIN, NULL, 0};
	static const struct row_case missing = {
	        "testmissing", AX_PLUGIN_DLOPEN_ERROR, "", 0, 0, "dlopen", MSG_DLERROR};
	ax_ctx *ctx = ctx_only(NULL);
	ax_link *link = NULL;

	(void)state;
	assert_int_equal(ax_ctx_plugin_count(ctx), 0);
	load_one(ctx, test_dir, &good, AX_PLUGIN_LOADED);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].file, "testgood"))
			load_one(ctx, test_dir, &rows[i], rows[i].status);
	/* The same file again: its scheme is taken, by itself. */
	load_one(ctx, test_dir, &good, AX_PLUGIN_SHADOWED);
	load_one(ctx, test_dir, &missing, AX_PLUGIN_DLOPEN_ERROR);
	assert_int_equal(ax_ctx_plugin_count(ctx), sizeof(rows) / sizeof(rows[0]) + 2);

	assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), 0);
	assert_int_equal(ax_link_write_u32(link, 1, 0, 42), 0);
	link = ax_link_unref(link);
	ax_ctx_unref(ctx);
}

static void test_loader__add_plugin_dir(void **state)
{
	ax_ctx *ctx = ctx_only(NULL);
	ax_link *link = NULL;
	size_t n;

	(void)state;
	assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), AX_ENOTFOUND);
	assert_null(link);
	/* testgood and testolder are the plugins of the folder that load. */
	assert_int_equal(ax_ctx_add_plugin_dir(ctx, test_dir), 2);
	n = ax_ctx_plugin_count(ctx);
	assert_int_equal(n, sizeof(rows) / sizeof(rows[0]));
	/* A folder already scanned is not scanned again. */
	assert_int_equal(ax_ctx_add_plugin_dir(ctx, AXLINK_TEST_PLUGIN_DIR), 0);
	assert_int_equal(ax_ctx_plugin_count(ctx), n);

	assert_int_equal(ax_ctx_add_plugin_dir(ctx, "/nonexistent/axlink-test-folder"),
	                 AX_ENOTFOUND);
	assert_contains("missing folder", ax_error_last(), "/nonexistent/axlink-test-folder");
	assert_int_equal(ax_ctx_plugin_count(ctx), n);

	assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), 0);
	link = ax_link_unref(link);
	ax_ctx_unref(ctx);
}

static void test_loader__ctx_options(void **state)
{
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = (ax_ctx *)&opts; /* must stay untouched */
	const char *paths[] = {"/nonexistent/axlink-test-folder", NULL};

	(void)state;
	opts.version = 0;
	assert_int_equal(ax_ctx_new(&ctx, &opts), AX_EINVAL);
	assert_contains("version 0", ax_error_last(), "ax_ctx_options");
	opts.version = AX_CTX_OPTIONS_VERSION + 1;
	assert_int_equal(ax_ctx_new(&ctx, &opts), AX_EINVAL);
	assert_ptr_equal(ctx, (ax_ctx *)&opts);

	/* A listed folder that does not exist is skipped, not an error. */
	opts.version = AX_CTX_OPTIONS_VERSION;
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = paths;
	assert_int_equal(ax_ctx_new(&ctx, &opts), 0);
	assert_int_equal(ax_ctx_plugin_count(ctx), 0);
	ax_ctx_unref(ctx);
}

static void test_loader__two_contexts(void **state)
{
	ax_ctx *with = ctx_only(test_dir);
	ax_ctx *without = ctx_only(NULL);
	ax_link *link = NULL, *none = NULL;
	uint32_t v = 0;

	(void)state;
	assert_int_equal(ax_ctx_plugin_count(with), sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(ax_ctx_plugin_count(without), 0);

	assert_int_equal(ax_link_open(&link, with, "testgood:", NULL), 0);
	assert_int_equal(ax_link_open(&none, without, "testgood:", NULL), AX_ENOTFOUND);
	assert_contains("no plugin", ax_error_last(), "testgood");
	assert_null(none);
	/* The failure in one context leaves the other's link alone. */
	assert_int_equal(ax_link_write_u32(link, 1, 1, 11), 0);
	assert_int_equal(ax_link_read_u32(link, 1, 1, &v), 0);
	assert_int_equal(v, 11);

	/* Dropping the context without plugins first changes nothing for the other. */
	without = ax_ctx_unref(without);
	assert_null(without);
	assert_int_equal(ax_link_read_u32(link, 1, 1, &v), 0);
	assert_int_equal(v, 11);
	link = ax_link_unref(link);
	with = ax_ctx_unref(with);
}

/* The link keeps its context (and so its plugin) alive past the caller's unref. */
static void test_loader__ctx_unref_before_link(void **state)
{
	ax_ctx *ctx = ctx_only(test_dir);
	ax_link *link = NULL, *again;
	uint32_t v = 0;

	(void)state;
	assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), 0);
	ctx = ax_ctx_unref(ctx);
	assert_null(ctx);

	assert_int_equal(ax_link_write_u32(link, 1, 9, 0xabcdu), 0);
	assert_int_equal(ax_link_read_u32(link, 1, 9, &v), 0);
	assert_int_equal(v, 0xabcdu);
	assert_int_equal(ax_link_read_u32(link, 1, 16, &v), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), NO_OBJECT);
	/* A second reference through the orphaned context's plugin. */
	again = ax_link_ref(link);
	assert_ptr_equal(again, link);
	link = ax_link_unref(link);
	assert_int_equal(ax_link_read_u32(again, 1, 9, &v), 0);
	assert_string_equal(ax_link_scheme(again), "testgood");
	again = ax_link_unref(again);
	assert_null(again);
}

/* Without options the library finds the plugins beside itself: the build tree's. */
static void test_loader__default_search(void **state)
{
	ax_ctx *ctx = NULL;
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	size_t n;

	(void)state;
	assert_int_equal(ax_ctx_new(&ctx, NULL), 0);
	n = ax_ctx_plugin_count(ctx);
	if (find_row(ctx, "virtual", AX_PLUGIN_LOADED, &r) < 0)
		fail_msg("no loaded 'virtual' row among %zu; is it built in '%s'?", n,
		         build_plugin_dir);
	if (!in_dir(r.path, build_plugin_dir))
		fail_msg("virtual plugin from '%s', want under '%s'", r.path, build_plugin_dir);
	/* Nothing from the test folder: it is on no search path. No overrides either. */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ax_ctx_plugin_record(ctx, i, &r), 0);
		if (in_dir(r.path, test_dir))
			fail_msg("row %zu '%s' comes from the test folder", i, r.path);
		if (r.flags)
			fail_msg("row %zu '%s' has flags 0x%x", i, r.path, r.flags);
	}
	ax_ctx_unref(ctx);
}

static void test_loader__env_path(void **state)
{
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	char list[2 * PATH_MAX];
	ax_ctx *ctx = NULL;
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	ax_link *link = NULL;
	long good, virt;

	(void)state;
	/* A missing entry and an empty one in the list are skipped. */
	(void)snprintf(list, sizeof(list), "/nonexistent/axlink-test-folder::%s", test_dir);
	assert_int_equal(setenv("AXLINK_PLUGIN_PATH", list, 1), 0);

	assert_int_equal(ax_ctx_new(&ctx, NULL), 0);
	good = find_row(ctx, "testgood", AX_PLUGIN_LOADED, &r);
	assert_true(good >= 0);
	assert_true(in_dir(r.path, test_dir));
	virt = find_row(ctx, "virtual", AX_PLUGIN_LOADED, &r);
	assert_true(virt >= 0);
	assert_true(in_dir(r.path, build_plugin_dir));
	/* The environment's folders come before the one beside the library. */
	assert_true(good < virt);
	assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), 0);
	link = ax_link_unref(link);
	ctx = ax_ctx_unref(ctx);

	/* AX_CTX_NO_ENV_PATHS ignores the variable. */
	opts.flags = AX_CTX_NO_ENV_PATHS;
	assert_int_equal(ax_ctx_new(&ctx, &opts), 0);
	assert_true(find_row(ctx, "testgood", AX_PLUGIN_LOADED, &r) < 0);
	assert_true(find_row(ctx, "virtual", AX_PLUGIN_LOADED, &r) >= 0);
	assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), AX_ENOTFOUND);
	ctx = ax_ctx_unref(ctx);
}

/*
 * An older-minor plugin is served with only the ops its table's size covers:
 * testolder's ops end before `scan`, so ax_scan() must refuse rather than
 * call the function pointer that lies past that size.
 */
static void test_loader__older_minor_served(void **state)
{
	ax_ctx *ctx = *state;
	ax_link *link = NULL;
	uint32_t v = 0;

	assert_int_equal(ax_link_open(&link, ctx, "testolder:", NULL), 0);
	assert_int_equal(ax_link_write_u32(link, 1, 3, 77), 0);
	assert_int_equal(ax_link_read_u32(link, 1, 3, &v), 0);
	assert_int_equal(v, 77);
	link = ax_link_unref(link);

	assert_int_equal(ax_scan(ctx, "testolder:", 100, NULL, NULL), AX_EUNSUPPORTED);
	assert_contains("scan message", ax_error_last(), "testolder");
	assert_int_equal(ax_scan(ctx, "testgood:", 100, NULL, NULL), AX_EUNSUPPORTED);
	assert_int_equal(ax_scan(ctx, "nope:", 100, NULL, NULL), AX_ENOTFOUND);
}

/* ---- pointers out of the plugin's image, overrides, log re-entry ---------------------- */

/*
 * tests/plugins/baddesc: every descriptor pointer that leads out of the
 * plugin's own loaded image is refused as invalid before the loader reads
 * through it. A loader that trusts them crashes here (wild addresses) or
 * reports a string of libc as the plugin's version (bdversion).
 */
static void test_loader__descriptor_outside_image(void **state)
{
	static const struct {
		const char *file, *needle;
	} bad[] = {
	        {"bdcancel", "op 'cancel' is not code of the plugin"},
	        {"bdentryforeign", "not in the plugin's own image"},
	        {"bdentrywild", "not in the plugin's own image"},
	        {"bdname", "field 'name' points outside"},
	        {"bdops", "ops table"},
	        {"bdoptions", "options entry 0 lies outside"},
	        {"bdscheme", "field 'scheme' points outside"},
	        {"bdversion", "field 'version' points outside"},
	};
	char dir[PATH_MAX + 16], path[PATH_MAX + 64];
	ax_ctx *ctx, *one;
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	ax_link *link = NULL;
	uint32_t v = 0;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/baddesc", test_dir);
	ctx = ctx_only(dir);
	assert_int_equal(ax_ctx_plugin_count(ctx), COUNT_OF(bad) + 1);
	for (size_t i = 0; i < COUNT_OF(bad); i++) {
		plugin_path(path, sizeof(path), dir, bad[i].file);
		assert_int_equal(ax_ctx_plugin_record(ctx, i + (i >= 3), &r), 0);
		assert_string_equal(r.path, path);
		if (r.status != AX_PLUGIN_INVALID)
			fail_msg("%s: status %s, want invalid (%s)", bad[i].file,
			         ax_plugin_status_name(r.status), r.message);
		assert_contains(bad[i].file, r.message, bad[i].needle);
		/* Nothing read through a refused descriptor reaches the report. */
		assert_string_equal(r.scheme, "");
		assert_string_equal(r.name, "");
		assert_string_equal(r.version, "");

		/* Loaded by path: the same refusal, as a code. */
		one = ctx_only(NULL);
		assert_int_equal(ax_ctx_load_plugin(one, path), AX_EINVAL);
		assert_contains(bad[i].file, ax_error_last(), path);
		assert_contains(bad[i].file, ax_error_last(), bad[i].needle);
		ax_ctx_unref(one);
	}
	/* The good plugin among them still loads and serves. */
	assert_int_equal(ax_ctx_plugin_record(ctx, 3, &r), 0);
	assert_int_equal(r.status, AX_PLUGIN_LOADED);
	assert_string_equal(r.scheme, "bdgood");
	assert_int_equal(ax_link_open(&link, ctx, "bdgood:", NULL), 0);
	assert_int_equal(ax_link_write_u32(link, 1, 2, 5), 0);
	assert_int_equal(ax_link_read_u32(link, 1, 2, &v), 0);
	assert_int_equal(v, 5);
	ax_link_unref(link);
	for (size_t i = 0; i < COUNT_OF(bad); i++) {
		char uri[64];

		(void)snprintf(uri, sizeof(uri), "%s:", bad[i].file);
		assert_int_equal(ax_link_open(&link, ctx, uri, NULL), AX_ENOTFOUND);
	}
	ax_ctx_unref(ctx);
}

/*
 * A plugin folder searched before the library's own serves "virtual": it
 * wins, as documented, but its row carries AX_PLUGIN_FLAG_OVERRIDES_BUILTIN
 * and a message naming the built-in it replaces, and a warning (not an
 * info line) goes to the log: stderr here, the only sink while a context
 * is being created, captured through a temporary file.
 */
/*
 * Split reads (ABI 1.4) are used only from a plugin of 1.4 or later that
 * sets all four ops: a batch on a 1.3 plugin that sets them anyway, or on
 * a 1.4 plugin with only submit_read, reads through ops->read (the split
 * ops of these plugins fail every read they are given).
 */
static void test_loader__split_reads_only_when_all_four_and_1_4(void **state)
{
	static const char *const uris[] = {"splitold:?cells=2", "splitpart:?cells=2"};
	char dir[PATH_MAX + 16];
	ax_ctx *ctx;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/split", test_dir);
	ctx = ctx_only(dir);
	for (size_t i = 0; i < 2; i++) {
		ax_link *link = NULL;
		ax_batch *b = NULL;
		const void *data = NULL;
		size_t len = 0;
		uint32_t v = 0;

		if (ax_link_open(&link, ctx, uris[i], NULL) != 0)
			fail_msg("open %s: %s", uris[i], ax_error_last());
		assert_int_equal(ax_link_write_u32(link, 1, 1, 0xC0FFEEu), 0);
		assert_int_equal(ax_batch_new(&b, 1), 0);
		assert_int_equal(ax_batch_add_read(b, link, 1, 1, NULL), 0);
		assert_int_equal(ax_batch_add_read(b, link, 1, 0, NULL), 0);
		if (ax_batch_run(b, 1000, NULL) != 0)
			fail_msg("%s: %s", uris[i],
			         ax_batch_error(b, 0) ? ax_batch_error(b, 0)
			                              : ax_batch_error(b, 1));
		assert_int_equal(ax_batch_result(b, 0, &data, &len), 0);
		assert_int_equal(len, 4);
		for (int k = 3; k >= 0; k--)
			v = v << 8 | ((const uint8_t *)data)[k];
		assert_int_equal(v, 0xC0FFEEu);
		ax_batch_free(b);
		ax_link_unref(link);
	}
	ax_ctx_unref(ctx);
}

static void test_loader__override_builtin_warned(void **state)
{
	char dir[PATH_MAX + 16], mine[PATH_MAX + 64], logged[8192];
	const char *paths[] = {dir, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	FILE *tmp = tmpfile();
	int saved, err;
	size_t got;

	(void)state;
	assert_non_null(tmp);
	(void)snprintf(dir, sizeof(dir), "%s/override", test_dir);
	plugin_path(mine, sizeof(mine), dir, "ovvirtual");
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_ENV_LOG; /* log level WARN */
	opts.plugin_paths = paths;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	err = ax_ctx_new(&ctx, &opts);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	assert_int_equal(err, 0);
	rewind(tmp);
	got = fread(logged, 1, sizeof(logged) - 1, tmp);
	logged[got] = '\0';
	fclose(tmp);
	assert_contains("stderr", logged, "warn: loader:");
	assert_contains("stderr", logged, "overrides the built-in 'virtual'");
	assert_contains("stderr", logged, mine);

	assert_true(find_row(ctx, "virtual", AX_PLUGIN_LOADED, &r) >= 0);
	assert_string_equal(r.path, mine);
	assert_int_equal(r.flags, AX_PLUGIN_FLAG_OVERRIDES_BUILTIN);
	assert_contains("override row", r.message, "overrides the built-in 'virtual'");
	assert_contains("override row", r.message, build_plugin_dir);
	assert_true(find_row(ctx, "virtual", AX_PLUGIN_SHADOWED, &r) >= 0);
	assert_true(in_dir(r.path, build_plugin_dir));
	assert_int_equal(r.flags, 0);
	ax_ctx_unref(ctx);
}

struct reenter {
	ax_ctx *ctx;
	int calls;
	size_t max_rows;
};

/* A log callback that uses the context it logs for, as log.h allows. */
static void reenter_log(int level, const char *origin, const char *message, void *userdata)
{
	struct reenter *re = userdata;
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	size_t n;

	(void)level;
	(void)origin;
	(void)message;
	re->calls++;
	n = ax_ctx_plugin_count(re->ctx);
	if (n > re->max_rows)
		re->max_rows = n;
	if (n)
		(void)ax_ctx_plugin_record(re->ctx, n - 1, &r);
	/* And one that fails: it must not replace the caller's error. */
	(void)ax_ctx_plugin_record(re->ctx, (size_t)-1, &r);
}

/*
 * Issue 15: the loader logged with ctx->lock held, so a callback calling
 * back into the context deadlocked. alarm() turns a regression into a
 * failure (SIGALRM ends the test) instead of a hung suite.
 */
static void test_loader__log_callback_reenters(void **state)
{
	struct reenter re = {0};
	char path[PATH_MAX + 64];
	int n;

	(void)state;
	re.ctx = ctx_only(NULL);
	ax_ctx_set_log(re.ctx, AX_LOG_DEBUG, reenter_log, &re);
	alarm(20);
	n = ax_ctx_add_plugin_dir(re.ctx, test_dir);
	assert_int_equal(n, 2); /* testgood and testolder */
	plugin_path(path, sizeof(path), test_dir, "testmajor");
	assert_int_equal(ax_ctx_load_plugin(re.ctx, path), AX_EABI);
	/* The error is the load's, not the callback's failed record lookup. */
	assert_int_equal(ax_error_last_code(), AX_EABI);
	assert_contains("error after callbacks", ax_error_last(), path);
	alarm(0);
	assert_true(re.calls > 0);
	assert_int_equal(re.max_rows, COUNT_OF(rows) + 1);
	ax_ctx_set_log(re.ctx, AX_LOG_WARN, NULL, NULL);
	ax_ctx_unref(re.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_loader__status_names),
	        cmocka_unit_test_setup_teardown(test_loader__report_rows, ctx_setup, ctx_teardown),
	        cmocka_unit_test_setup_teardown(test_loader__loaded_row_fields, ctx_setup,
	                                        ctx_teardown),
	        cmocka_unit_test_setup_teardown(test_loader__record_past_end, ctx_setup,
	                                        ctx_teardown),
	        cmocka_unit_test_setup_teardown(test_loader__link_cells, ctx_setup, ctx_teardown),
	        cmocka_unit_test_setup_teardown(test_loader__link_drive_error, ctx_setup,
	                                        ctx_teardown),
	        cmocka_unit_test_setup_teardown(test_loader__link_uri_keys, ctx_setup,
	                                        ctx_teardown),
	        cmocka_unit_test_setup_teardown(test_loader__plugin_log, ctx_setup, ctx_teardown),
	        cmocka_unit_test_setup_teardown(test_loader__older_minor_served, ctx_setup,
	                                        ctx_teardown),
	        cmocka_unit_test(test_loader__load_plugin_codes),
	        cmocka_unit_test(test_loader__add_plugin_dir),
	        cmocka_unit_test(test_loader__ctx_options),
	        cmocka_unit_test(test_loader__two_contexts),
	        cmocka_unit_test(test_loader__ctx_unref_before_link),
	        cmocka_unit_test(test_loader__default_search),
	        cmocka_unit_test_teardown(test_loader__env_path, env_teardown),
	        cmocka_unit_test(test_loader__descriptor_outside_image),
	        cmocka_unit_test(test_loader__split_reads_only_when_all_four_and_1_4),
	        cmocka_unit_test(test_loader__override_builtin_warned),
	        cmocka_unit_test(test_loader__log_callback_reenters),
	};
	return cmocka_run_group_tests_name("loader", tests, group_setup, NULL);
}
