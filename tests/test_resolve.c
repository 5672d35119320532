/* SPDX-License-Identifier: MIT */
/*
 * Finding a drive's dictionary and using its registers by name: the
 * database locations, ax_ctx_resolve() over several databases (rules,
 * ties, broken and missing files), a drive's identity, and register
 * access through a dictionary (access, size and range checks) against the
 * simulated drive of the `virtual` transport.
 *
 * Every test runs with AXLINK_DB unset and XDG_DATA_HOME and HOME pointing
 * into its own folder, so the user's real databases never take part. The
 * installed database (beside the build tree's libaxlink) may or may not
 * exist; tests that could see it either look at it or make it lose.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, nftw, realpath */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "axlink/axlink.h"

#define AXS100_VENDOR 0x0000A71Cu
#define AXS100_PRODUCT 0x00010064u
#define AXS100_REVISION 0x00010002u
/* Products no dictionary of devices/ has. */
#define UNKNOWN_PRODUCT 0x0BADBEEFu
#define EDGE_PRODUCT 0x00E0D6E5u
#define EDGE_REVISION 0x00000001u

/* ---- environment and databases shared by every test ---- */

static const char *const env_names[] = {"AXLINK_DB", "XDG_DATA_HOME", "HOME"};
static char *env_saved[3];

static char g_dir[64];     /* group folder */
static char g_all_db[128]; /* every dictionary of devices/ */
static char g_old_db[128]; /* axs-100 at the revision before the current one */
static char g_edge_xdf[128];
static char g_edge_db[128]; /* registers with unusual ranges, at addresses the simulator has */

static void ok(int err, const char *what)
{
	if (err < 0)
		fail_msg("%s: %d %s", what, err, ax_error_last());
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		fail_msg("cannot write '%s'", path);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	if (!in || !out)
		fail_msg("cannot copy '%s' to '%s'", from, to);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	assert_int_equal(fclose(in), 0);
	assert_int_equal(fclose(out), 0);
}

/* Import @n files into a new database at @path. */
static void build_db(const char *path, const char *const *files, size_t n)
{
	ax_db *db = NULL;

	ok(ax_db_open(&db, path, AX_DB_CREATE), path);
	for (size_t i = 0; i < n; i++) {
		int got = ax_db_import(db, files[i], NULL, NULL);

		if (got <= 0)
			fail_msg("import '%s': %d %s", files[i], got, ax_error_last());
	}
	ax_db_unref(db);
}

/*
 * A small version 3 dictionary: one ETH device of the given identity with
 * @regs (MCBRegister elements) as its registers.
 */
static void write_xdf(const char *path, const char *name, uint32_t product, uint32_t revision,
                      const char *regs)
{
	char text[8192];
	int n = snprintf(text, sizeof(text),
	                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                 "<IngeniaDictionary>\n"
	                 "  <Header><Version>3.0</Version>"
	                 "<DefaultLanguage>en_US</DefaultLanguage></Header>\n"
	                 "  <Body>\n"
	                 "    <Categories><Category id=\"OTHERS\"><Labels>"
	                 "<Label lang=\"en_US\">Others</Label></Labels></Category></Categories>\n"
	                 "    <Devices>\n"
	                 "      <ETHDevice name=\"%s\" family=\"test\" PartNumber=\"%s\" "
	                 "ProductCode=\"0x%08X\" RevisionNumber=\"0x%08X\" VendorId=\"0x%08X\" "
	                 "firmwareVersion=\"0.0.1\">\n"
	                 "        <Subnodes><Subnode index=\"0\">Communication</Subnode>"
	                 "<Subnode index=\"1\">Motion</Subnode></Subnodes>\n"
	                 "        <MCBRegisters>\n%s        </MCBRegisters>\n"
	                 "      </ETHDevice>\n"
	                 "    </Devices>\n"
	                 "  </Body>\n"
	                 "</IngeniaDictionary>\n",
	                 name, name, (unsigned)product, (unsigned)revision, (unsigned)AXS100_VENDOR,
	                 regs);

	assert_true(n > 0 && (size_t)n < sizeof(text));
	write_file(path, text, (size_t)n);
}

#define EDGE_REG(addr, sub, id, dtype, range)                                                      \
	"          <MCBRegister address=\"" addr "\" subnode=\"" sub "\" id=\"" id                 \
	"\" access=\"rw\" dtype=\"" dtype "\" cat_id=\"OTHERS\">" range "</MCBRegister>\n"
#define RANGE(lo, hi) "<Range min=\"" lo "\" max=\"" hi "\"/>"

/*
 * Registers at addresses the simulated drive has with that type (so a
 * write the checks let through reaches it and reads back), with ranges a
 * dictionary may hold: hex and blanks, float bounds that are not exact in
 * binary, and ranges that must not block anything because they make no
 * sense. EDGE_BOOL and EDGE_TEXT only meet checks made before sending.
 */
static const char edge_regs[] = EDGE_REG("0x020", "1", "EDGE_S32", "s32", RANGE("-100", "0x64"))
        EDGE_REG("0x388", "1", "EDGE_U32", "u32", RANGE("10", " 4096 "))
                EDGE_REG("0x025", "1", "EDGE_FLOAT", "float", RANGE("0.7", "12.3")) EDGE_REG(
                        "0x024", "1", "EDGE_NEGATIVE_UNSIGNED", "u16", RANGE("-5", "-1"))
                        EDGE_REG("0x021", "1", "EDGE_JUNK", "float", RANGE("abc", "1.0"))
                                EDGE_REG("0x451", "1", "EDGE_UPSIDE_DOWN", "s32", RANGE("5", "1"))
                                        EDGE_REG("0x023", "1", "EDGE_BOOL", "bool", "")
                                                EDGE_REG("0x6F0", "0", "EDGE_TEXT", "str", "");

static int group_setup(void **state)
{
	char old_xdf[128], path[PATH_MAX], *files[16];
	size_t n = 0;
	DIR *dir;
	struct dirent *e;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(env_names[i]);

		env_saved[i] = v ? strdup(v) : NULL;
	}
	(void)snprintf(g_dir, sizeof(g_dir), "/tmp/axlink-resolve-XXXXXX");
	assert_non_null(mkdtemp(g_dir));

	dir = opendir(AXLINK_DEVICES_DIR);
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 4 && !strcmp(e->d_name + len - 4, ".xdf")) {
			assert_true(n < 16);
			(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_DEVICES_DIR, e->d_name);
			files[n++] = strdup(path);
		}
	}
	assert_int_equal(closedir(dir), 0);
	assert_true(n > 0);
	(void)snprintf(g_all_db, sizeof(g_all_db), "%s/all.db", g_dir);
	build_db(g_all_db, (const char *const *)files, n);
	for (size_t i = 0; i < n; i++)
		free(files[i]);

	(void)snprintf(old_xdf, sizeof(old_xdf), "%s/old.xdf", g_dir);
	write_xdf(old_xdf, "axs-100-old", AXS100_PRODUCT, AXS100_REVISION - 1,
	          EDGE_REG("0x020", "1", "CL_POS_SET_POINT_VALUE", "s32", ""));
	(void)snprintf(g_old_db, sizeof(g_old_db), "%s/old.db", g_dir);
	build_db(g_old_db, (const char *const[]){old_xdf}, 1);

	(void)snprintf(g_edge_xdf, sizeof(g_edge_xdf), "%s/edge.xdf", g_dir);
	write_xdf(g_edge_xdf, "edge", EDGE_PRODUCT, EDGE_REVISION, edge_regs);
	(void)snprintf(g_edge_db, sizeof(g_edge_db), "%s/edge.db", g_dir);
	build_db(g_edge_db, (const char *const[]){g_edge_xdf}, 1);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static void env_restore(void)
{
	for (size_t i = 0; i < 3; i++) {
		if (env_saved[i])
			assert_int_equal(setenv(env_names[i], env_saved[i], 1), 0);
		else
			assert_int_equal(unsetenv(env_names[i]), 0);
	}
}

static int group_teardown(void **state)
{
	(void)state;
	env_restore();
	for (size_t i = 0; i < 3; i++)
		free(env_saved[i]);
	(void)nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- per test: a folder, a context, captured warnings ---- */

struct fx {
	char dir[64];
	char user_db[192]; /* where ax_db_location_path() puts the user database */
	ax_ctx *ctx;
	pthread_mutex_t lock; /* guards the warnings: the log may come from any thread */
	int warnings;
	int loads; /* "loaded model" DEBUG lines: dictionaries read from a database */
	char warning[1024];
	ax_link *link;
	ax_dict *dict;
};

static void log_cb(int level, const char *origin, const char *message, void *userdata)
{
	struct fx *fx = userdata;

	(void)origin;
	if (level == AX_LOG_DEBUG && !strncmp(message, "loaded model ", 13)) {
		pthread_mutex_lock(&fx->lock);
		fx->loads++;
		pthread_mutex_unlock(&fx->lock);
	}
	if (level != AX_LOG_WARN)
		return;
	pthread_mutex_lock(&fx->lock);
	fx->warnings++;
	(void)snprintf(fx->warning, sizeof(fx->warning), "%s", message);
	pthread_mutex_unlock(&fx->lock);
}

static int warnings(struct fx *fx)
{
	int n;

	pthread_mutex_lock(&fx->lock);
	n = fx->warnings;
	pthread_mutex_unlock(&fx->lock);
	return n;
}

/* A context that loads only the build tree's plugins, whatever the environment says. */
static ax_ctx *new_ctx(void)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;

	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS | AX_CTX_NO_ENV_LOG;
	opts.plugin_paths = dirs;
	ok(ax_ctx_new(&ctx, &opts), "ax_ctx_new");
	return ctx;
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char path[128];

	assert_non_null(fx);
	pthread_mutex_init(&fx->lock, NULL);
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/axlink-resolve-t-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(path, sizeof(path), "%s/xdg", fx->dir);
	assert_int_equal(setenv("XDG_DATA_HOME", path, 1), 0);
	(void)snprintf(path, sizeof(path), "%s/home", fx->dir);
	assert_int_equal(setenv("HOME", path, 1), 0);
	assert_int_equal(unsetenv("AXLINK_DB"), 0);
	(void)snprintf(fx->user_db, sizeof(fx->user_db), "%s/xdg/axlink/devices.db", fx->dir);
	fx->ctx = new_ctx();
	ax_ctx_set_log(fx->ctx, AX_LOG_WARN, log_cb, fx);
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	ax_dict_unref(fx->dict);
	ax_link_unref(fx->link);
	ax_ctx_unref(fx->ctx);
	(void)nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_destroy(&fx->lock);
	free(fx);
	env_restore();
	return 0;
}

/* Put a copy of @db where the user database goes. */
static void put_user_db(struct fx *fx, const char *db)
{
	char path[192];

	(void)snprintf(path, sizeof(path), "%s/xdg", fx->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/xdg/axlink", fx->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	copy_file(db, fx->user_db);
}

struct result {
	ax_dict *dict;
	int match;
	char *reason;
};

static struct result resolve(struct fx *fx, uint32_t product, uint32_t revision)
{
	struct result r = {(ax_dict *)&r, -1, NULL}; /* outputs must be written */

	ok(ax_ctx_resolve(fx->ctx, AXS100_VENDOR, product, revision, AX_ADDR_MCB, &r.dict, &r.match,
	                  &r.reason),
	   "ax_ctx_resolve");
	assert_non_null(r.reason);
	assert_true((r.match == AX_MATCH_NONE) == (r.dict == NULL));
	return r;
}

static void result_free(struct result *r)
{
	ax_dict_unref(r->dict);
	ax_free(r->reason);
}

/* The reason ends with " (from PATH)": the database that answered. */
static void assert_from(const struct result *r, const char *path)
{
	char tail[256];
	size_t n = strlen(r->reason), t;

	(void)snprintf(tail, sizeof(tail), " (from %s)", path);
	t = strlen(tail);
	if (n < t || strcmp(r->reason + n - t, tail))
		fail_msg("reason '%s' does not end with '%s'", r->reason, tail);
}

static void assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("'%s' does not contain '%s'", text, part);
}

static char *installed_path(void)
{
	char *path = NULL;

	ok(ax_db_location_path(AX_DB_LOCATION_INSTALLED, &path), "installed path");
	return path;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- locations ---- */

struct location_case {
	const char *name;
	const char *axlink_db, *xdg, *home; /* NULL: unset */
	int location;
	int want;         /* return code */
	const char *path; /* expected *out when want == 0 */
};

static const struct location_case location_cases[] = {
        {"env_unset", NULL, "/x", "/h", AX_DB_LOCATION_ENV, AX_ENOTFOUND, NULL},
        {"env_empty", "", "/x", "/h", AX_DB_LOCATION_ENV, AX_ENOTFOUND, NULL},
        {"env_as_given", "rel/my.db", NULL, NULL, AX_DB_LOCATION_ENV, 0, "rel/my.db"},
        {"xdg", NULL, "/data", "/h", AX_DB_LOCATION_USER, 0, "/data/axlink/devices.db"},
        {"xdg_trailing_slash", NULL, "/data//", "/h", AX_DB_LOCATION_USER, 0,
         "/data/axlink/devices.db"},
        {"xdg_relative_ignored", NULL, "data", "/h", AX_DB_LOCATION_USER, 0,
         "/h/.local/share/axlink/devices.db"},
        {"xdg_empty_ignored", NULL, "", "/h", AX_DB_LOCATION_USER, 0,
         "/h/.local/share/axlink/devices.db"},
        {"home", NULL, NULL, "/home/u/", AX_DB_LOCATION_USER, 0,
         "/home/u/.local/share/axlink/devices.db"},
        {"no_home", NULL, NULL, NULL, AX_DB_LOCATION_USER, AX_ENOTFOUND, NULL},
        {"empty_home", NULL, "rel", "", AX_DB_LOCATION_USER, AX_ENOTFOUND, NULL},
        {"unknown_location", NULL, NULL, NULL, 3, AX_EINVAL, NULL},
        {"negative_location", NULL, NULL, NULL, -1, AX_EINVAL, NULL},
};

static void set_or_unset(const char *name, const char *value)
{
	if (value)
		assert_int_equal(setenv(name, value, 1), 0);
	else
		assert_int_equal(unsetenv(name), 0);
}

static void test_resolve__location_paths(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(location_cases) / sizeof(location_cases[0]); i++) {
		const struct location_case *c = &location_cases[i];
		char sentinel, *out = &sentinel;
		int err;

		set_or_unset("AXLINK_DB", c->axlink_db);
		set_or_unset("XDG_DATA_HOME", c->xdg);
		set_or_unset("HOME", c->home);
		err = ax_db_location_path(c->location, &out);
		if (err != c->want)
			fail_msg("%s: got %d, want %d (%s)", c->name, err, c->want,
			         ax_error_last());
		if (err < 0) {
			if (out != &sentinel)
				fail_msg("%s: *out written on failure", c->name);
			continue;
		}
		if (strcmp(out, c->path))
			fail_msg("%s: got '%s', want '%s'", c->name, out, c->path);
		ax_free(out);
	}
}

/* The build tree mirrors an installation: <libdir>/axlink/ holds the plugins. */
static void test_resolve__installed_path_beside_library(void **state)
{
	char libdir[PATH_MAX], want[PATH_MAX + 32], *slash, *path;

	(void)state;
	assert_non_null(realpath(AXLINK_BUILD_PLUGIN_DIR "/..", libdir));
	slash = strrchr(libdir, '/');
	assert_non_null(slash);
	*slash = '\0';
	(void)snprintf(want, sizeof(want), "%s/share/axlink/devices.db", libdir);
	path = installed_path();
	assert_string_equal(path, want);
	assert_null(strstr(path, "/../"));
	ax_free(path);
}

/* ---- resolving over the databases ---- */

static void test_resolve__exact_names_database(void **state)
{
	struct fx *fx = *state;
	struct result r;
	const ax_dict_identity *id;

	assert_int_equal(setenv("AXLINK_DB", g_all_db, 1), 0);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	id = ax_dict_identity_get(r.dict);
	assert_int_equal(id->product_code, AXS100_PRODUCT);
	assert_int_equal(id->revision, AXS100_REVISION);
	assert_contains(r.reason, "exact match");
	assert_from(&r, g_all_db);
	assert_int_equal(ax_error_last_code(), 0);
	result_free(&r);

	/* The reason is optional. */
	{
		ax_dict *dict = NULL;
		int match = -1;

		ok(ax_ctx_resolve(fx->ctx, AXS100_VENDOR, AXS100_PRODUCT, AXS100_REVISION,
		                  AX_ADDR_MCB, &dict, &match, NULL),
		   "resolve without reason");
		assert_int_equal(match, AX_MATCH_EXACT);
		assert_non_null(dict);
		ax_dict_unref(dict);
	}
	assert_int_equal(warnings(fx), 0);
}

static void test_resolve__revision_rules(void **state)
{
	struct fx *fx = *state;
	struct result r;

	assert_int_equal(setenv("AXLINK_DB", g_all_db, 1), 0);
	/* A newer drive than any dictionary: the nearest lower revision. */
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION + 1);
	assert_int_equal(r.match, AX_MATCH_LOWER_REVISION);
	assert_int_equal(ax_dict_identity_get(r.dict)->revision, AXS100_REVISION);
	assert_from(&r, g_all_db);
	result_free(&r);

	/* An older drive: only another revision of the product is left. */
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION - 1);
	assert_int_equal(r.match, AX_MATCH_ANY_REVISION);
	assert_int_equal(ax_dict_identity_get(r.dict)->revision, AXS100_REVISION);
	assert_from(&r, g_all_db);
	result_free(&r);
}

static void test_resolve__unknown_product_lists_databases(void **state)
{
	struct fx *fx = *state;
	char *installed = installed_path(), part[PATH_MAX + 32];
	struct result r;

	assert_int_equal(setenv("AXLINK_DB", g_all_db, 1), 0);
	put_user_db(fx, g_old_db);
	r = resolve(fx, UNKNOWN_PRODUCT, 1);
	assert_int_equal(r.match, AX_MATCH_NONE);
	assert_null(r.dict);
	(void)snprintf(part, sizeof(part), "searched '%s', '%s'", g_all_db, fx->user_db);
	assert_contains(r.reason, part);
	/* The installed database is searched or said missing, but named either way. */
	(void)snprintf(part, sizeof(part), "'%s'", installed);
	assert_contains(r.reason, part);
	result_free(&r);
	ax_free(installed);
}

static void test_resolve__no_database_says_so(void **state)
{
	struct fx *fx = *state;
	char *installed = installed_path(), part[PATH_MAX + 256];
	struct result r;

	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	if (!file_exists(installed)) {
		/* Nothing anywhere. */
		assert_int_equal(r.match, AX_MATCH_NONE);
		assert_contains(r.reason, "no device database");
		(void)snprintf(part, sizeof(part), "not found: '%s', '%s'", fx->user_db, installed);
		assert_contains(r.reason, part);
	} else {
		/* The installed one is the only one: it answers. */
		assert_from(&r, installed);
	}
	result_free(&r);
	ax_free(installed);
}

static void test_resolve__better_rule_in_later_database_wins(void **state)
{
	struct fx *fx = *state;
	struct result r;

	/* AXLINK_DB only has the older revision: a lower-revision match. */
	assert_int_equal(setenv("AXLINK_DB", g_old_db, 1), 0);
	put_user_db(fx, g_all_db);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, fx->user_db);
	result_free(&r);
}

static void test_resolve__tie_goes_to_earlier_database(void **state)
{
	struct fx *fx = *state;
	struct result r;

	assert_int_equal(setenv("AXLINK_DB", g_all_db, 1), 0);
	put_user_db(fx, g_all_db);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, g_all_db);
	result_free(&r);

	/* Two lower-revision matches: still the earlier one, whichever revision is nearer. */
	assert_int_equal(setenv("AXLINK_DB", g_old_db, 1), 0);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION + 1);
	assert_int_equal(r.match, AX_MATCH_LOWER_REVISION);
	assert_int_equal(ax_dict_identity_get(r.dict)->revision, AXS100_REVISION - 1);
	assert_from(&r, g_old_db);
	result_free(&r);
}

static void test_resolve__user_before_installed(void **state)
{
	struct fx *fx = *state;
	char *installed = installed_path();
	struct result r;

	put_user_db(fx, g_all_db);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, fx->user_db);
	result_free(&r);

	if (file_exists(installed)) {
		/* Make sure that was a tie: the installed database matches exactly too. */
		ax_db *db = NULL;
		ax_dict *dict = NULL;
		int match = -1;

		ok(ax_db_open(&db, installed, AX_DB_READONLY), installed);
		ok(ax_db_resolve(db, AXS100_VENDOR, AXS100_PRODUCT, AXS100_REVISION, AX_ADDR_MCB,
		                 &dict, &match, NULL),
		   "resolve in the installed database");
		assert_int_equal(match, AX_MATCH_EXACT);
		ax_dict_unref(dict);
		ax_db_unref(db);
	} else {
		print_message("note: no installed database at '%s'; the tie was not exercised\n",
		              installed);
	}
	ax_free(installed);
}

static void test_resolve__same_file_twice_searched_once(void **state)
{
	struct fx *fx = *state;
	char part[512];
	struct result r;

	put_user_db(fx, g_old_db);
	assert_int_equal(setenv("AXLINK_DB", fx->user_db, 1), 0);
	r = resolve(fx, UNKNOWN_PRODUCT, 1);
	(void)snprintf(part, sizeof(part), "'%s', '%s'", fx->user_db, fx->user_db);
	if (strstr(r.reason, part))
		fail_msg("'%s' lists the database twice", r.reason);
	result_free(&r);
}

static void test_resolve__corrupt_database_skipped(void **state)
{
	struct fx *fx = *state;
	char corrupt[128], garbage[4096];
	struct result r;

	(void)snprintf(corrupt, sizeof(corrupt), "%s/corrupt.db", fx->dir);
	memset(garbage, 'x', sizeof(garbage));
	write_file(corrupt, garbage, sizeof(garbage));
	assert_int_equal(setenv("AXLINK_DB", corrupt, 1), 0);
	put_user_db(fx, g_all_db);

	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, fx->user_db);
	result_free(&r);
	assert_int_equal(ax_error_last_code(), 0);
	assert_int_equal(warnings(fx), 1);
	assert_contains(fx->warning, corrupt);

	/* Remembered: not opened, nor warned about, again. */
	r = resolve(fx, UNKNOWN_PRODUCT, 1);
	assert_int_equal(r.match, AX_MATCH_NONE);
	assert_contains(r.reason, "skipped broken");
	assert_contains(r.reason, corrupt);
	result_free(&r);
	assert_int_equal(warnings(fx), 1);

	/* Until the file changes: then it is tried again, and now answers first. */
	copy_file(g_all_db, corrupt);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, corrupt);
	result_free(&r);
	assert_int_equal(warnings(fx), 1);
}

static void test_resolve__missing_database_appears_later(void **state)
{
	struct fx *fx = *state;
	char later[128], part[160];
	struct result r;

	(void)snprintf(later, sizeof(later), "%s/later.db", fx->dir);
	assert_int_equal(setenv("AXLINK_DB", later, 1), 0);
	r = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r.match, AX_MATCH_NONE);
	(void)snprintf(part, sizeof(part), "not found: '%s'", later);
	assert_contains(r.reason, part);
	result_free(&r);

	build_db(later, (const char *const[]){g_edge_xdf}, 1);
	r = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, later);
	result_free(&r);
	assert_int_equal(warnings(fx), 0);
}

static void test_resolve__follows_environment_changes(void **state)
{
	struct fx *fx = *state;
	struct result r;

	assert_int_equal(setenv("AXLINK_DB", g_edge_db, 1), 0);
	r = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, g_edge_db);
	result_free(&r);

	/* The same context, another AXLINK_DB: the old handle goes. */
	assert_int_equal(setenv("AXLINK_DB", g_all_db, 1), 0);
	r = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r.match, AX_MATCH_NONE);
	result_free(&r);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_from(&r, g_all_db);
	result_free(&r);
}

/* An import that renames a new file into place: the context opens the new one. */
static void test_resolve__replaced_database_reopened(void **state)
{
	struct fx *fx = *state;
	char env[128], next[128];
	struct result r;

	(void)snprintf(env, sizeof(env), "%s/env.db", fx->dir);
	(void)snprintf(next, sizeof(next), "%s/next.db", fx->dir);
	copy_file(g_all_db, env);
	assert_int_equal(setenv("AXLINK_DB", env, 1), 0);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_from(&r, env);
	result_free(&r);

	copy_file(g_edge_db, next);
	assert_int_equal(rename(next, env), 0);
	r = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, env);
	result_free(&r);

	/* Gone: not searched any more, said missing. */
	assert_int_equal(remove(env), 0);
	r = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r.match, AX_MATCH_NONE);
	assert_contains(r.reason, "not found: '");
	assert_contains(r.reason, env);
	result_free(&r);
	assert_int_equal(warnings(fx), 0);
}

static int loads(struct fx *fx)
{
	int n;

	pthread_mutex_lock(&fx->lock);
	n = fx->loads;
	pthread_mutex_unlock(&fx->lock);
	return n;
}

/* ---- the address space ---- */

/*
 * A database with only the CAN interface of axs-100, the model the virtual
 * drive is: its exact identity must not give the MCB link that dictionary.
 */
static void test_resolve__can_dictionary_never_for_mcb_drive(void **state)
{
	struct fx *fx = *state;
	char can_db[128], *installed = installed_path();
	ax_drive *d = NULL;
	ax_dict *dict = NULL;
	int64_t v = 0;
	int match = -1;

	(void)snprintf(can_db, sizeof(can_db), "%s/can.db", fx->dir);
	build_db(can_db, (const char *const[]){AXLINK_TEST_DATA_DIR "/axs100_can.xdf"}, 1);
	assert_int_equal(setenv("AXLINK_DB", can_db, 1), 0);

	ok(ax_drive_open(&d, fx->ctx, "virtual:?model=axs-100", NULL), "open the drive");
	assert_int_equal(ax_link_addr_space(ax_drive_link(d)), AX_ADDR_MCB);
	if (ax_drive_dict(d)) {
		/* Only the installed database can answer, with its ETH dictionary. */
		const ax_dict_identity *id = ax_dict_identity_get(ax_drive_dict(d));

		assert_true(file_exists(installed));
		assert_int_equal(id->addr_space, AX_ADDR_MCB);
		assert_contains(ax_drive_match_reason(d), installed);
		ok(ax_drive_read_i64(d, "CL_POS_FBK_VALUE", 1, &v), "named read");
	} else {
		assert_false(file_exists(installed));
		assert_int_equal(ax_drive_match(d), AX_MATCH_NONE);
		assert_contains(ax_drive_match_reason(d), "only CANopen dictionaries");
		assert_int_equal(ax_drive_read_i64(d, "CL_POS_FBK_VALUE", 1, &v), AX_ENOTFOUND);
	}
	if (strstr(ax_drive_match_reason(d), can_db))
		fail_msg("the CAN database answered: '%s'", ax_drive_match_reason(d));
	d = ax_drive_unref(d);

	/* Asked for CANopen, the same database gives it. */
	ok(ax_ctx_resolve(fx->ctx, AXS100_VENDOR, AXS100_PRODUCT, AXS100_REVISION, AX_ADDR_CANOPEN,
	                  &dict, &match, NULL),
	   "resolve CANopen");
	assert_int_equal(match, AX_MATCH_EXACT);
	assert_int_equal(ax_dict_identity_get(dict)->addr_space, AX_ADDR_CANOPEN);
	assert_string_equal(ax_dict_identity_get(dict)->interface, "CAN");
	ax_dict_unref(dict);
	/* Neither 0 nor another number is an address space. */
	assert_int_equal(ax_ctx_resolve(fx->ctx, AXS100_VENDOR, AXS100_PRODUCT, AXS100_REVISION, 0,
	                                &dict, &match, NULL),
	                 AX_EINVAL);
	assert_contains(ax_error_last(), "address space");
	ax_free(installed);
}

/* Both interfaces imported (CAN first): the MCB link gets the ETH one, and reads by name. */
static void test_resolve__mcb_dictionary_chosen_beside_can(void **state)
{
	struct fx *fx = *state;
	char both_db[128];
	ax_drive *d = NULL;
	int64_t v = -1;

	(void)snprintf(both_db, sizeof(both_db), "%s/both.db", fx->dir);
	build_db(both_db,
	         (const char *const[]){AXLINK_TEST_DATA_DIR "/axs100_can.xdf",
	                               AXLINK_DEVICES_DIR "/axs-100.xdf"},
	         2);
	assert_int_equal(setenv("AXLINK_DB", both_db, 1), 0);
	ok(ax_drive_open(&d, fx->ctx, "virtual:?model=axs-100", NULL), "open the drive");
	assert_int_equal(ax_drive_match(d), AX_MATCH_EXACT);
	assert_non_null(ax_drive_dict(d));
	assert_int_equal(ax_dict_identity_get(ax_drive_dict(d))->addr_space, AX_ADDR_MCB);
	assert_string_equal(ax_dict_identity_get(ax_drive_dict(d))->interface, "ETH");
	assert_contains(ax_drive_match_reason(d), both_db);
	ok(ax_drive_read_i64(d, "CL_POS_FBK_VALUE", 1, &v), "named read");
	d = ax_drive_unref(d);
}

/* ---- the context's dictionaries ---- */

/* Only the winner is read from its database, once; later resolutions reuse it. */
static void test_resolve__ranks_before_load(void **state)
{
	struct fx *fx = *state;
	struct result r, again;

	/* AXLINK_DB answers first but worse (an older revision); the user database exactly. */
	assert_int_equal(setenv("AXLINK_DB", g_old_db, 1), 0);
	put_user_db(fx, g_all_db);
	ax_ctx_set_log(fx->ctx, AX_LOG_DEBUG, log_cb, fx);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, fx->user_db);
	assert_int_equal(loads(fx), 1);

	again = resolve(fx, AXS100_PRODUCT, AXS100_REVISION);
	assert_ptr_equal(again.dict, r.dict);
	assert_string_equal(again.reason, r.reason);
	assert_int_equal(loads(fx), 1);
	result_free(&again);
	result_free(&r);

	/* A model not asked for before is read once. */
	r = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r.match, AX_MATCH_NONE);
	result_free(&r);
	r = resolve(fx, AXS100_PRODUCT, AXS100_REVISION - 1);
	assert_int_equal(r.match, AX_MATCH_EXACT);
	assert_from(&r, g_old_db);
	assert_int_equal(loads(fx), 2);
	result_free(&r);
	assert_int_equal(warnings(fx), 0);
}

/* A second register for the edge model, so a re-import is told apart. */
#define EDGE_EXTRA EDGE_REG("0x6F1", "0", "EDGE_ADDED", "u32", "")

/* An import into a database the context has open: the next resolution reads it again. */
static void test_resolve__reimport_seen(void **state)
{
	struct fx *fx = *state;
	char env[128], xdf[128];
	char regs[sizeof(edge_regs) + 256];
	struct result r1, r2, r3;
	ax_db *db = NULL;

	(void)snprintf(env, sizeof(env), "%s/env.db", fx->dir);
	build_db(env, (const char *const[]){g_edge_xdf}, 1);
	assert_int_equal(setenv("AXLINK_DB", env, 1), 0);
	r1 = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r1.match, AX_MATCH_EXACT);
	r2 = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_ptr_equal(r1.dict, r2.dict);
	result_free(&r2);

	/* The same model again with one more register, into the same file, in place. */
	(void)snprintf(regs, sizeof(regs), "%s%s", edge_regs, EDGE_EXTRA);
	(void)snprintf(xdf, sizeof(xdf), "%s/edge2.xdf", fx->dir);
	write_xdf(xdf, "edge", EDGE_PRODUCT, EDGE_REVISION, regs);
	ok(ax_db_open(&db, env, 0), env);
	assert_int_equal(ax_db_import(db, xdf, NULL, NULL), 1);
	db = ax_db_unref(db);

	r3 = resolve(fx, EDGE_PRODUCT, EDGE_REVISION);
	assert_int_equal(r3.match, AX_MATCH_EXACT);
	assert_ptr_not_equal(r3.dict, r1.dict);
	assert_int_equal(ax_dict_reg_count(r3.dict), ax_dict_reg_count(r1.dict) + 1);
	/* The dictionary handed out before stays valid for who holds it. */
	{
		const ax_reg *reg = NULL;

		ok(ax_dict_find(r1.dict, "EDGE_S32", -1, &reg), "old dictionary");
		assert_int_equal(ax_dict_find(r1.dict, "EDGE_ADDED", -1, &reg), AX_ENOTFOUND);
		ok(ax_dict_find(r3.dict, "EDGE_ADDED", -1, &reg), "new dictionary");
	}
	result_free(&r3);
	result_free(&r1);
}

static void test_resolve__bad_arguments(void **state)
{
	struct fx *fx = *state;
	ax_dict *dict = NULL;
	int match = -1;

	assert_int_equal(
	        ax_ctx_resolve(NULL, 0, AXS100_PRODUCT, 0, AX_ADDR_MCB, &dict, &match, NULL),
	        AX_EINVAL);
	assert_int_equal(
	        ax_ctx_resolve(fx->ctx, 0, AXS100_PRODUCT, 0, AX_ADDR_MCB, NULL, &match, NULL),
	        AX_EINVAL);
	assert_int_equal(
	        ax_ctx_resolve(fx->ctx, 0, AXS100_PRODUCT, 0, AX_ADDR_MCB, &dict, NULL, NULL),
	        AX_EINVAL);
	assert_null(dict);
	assert_int_equal(match, -1);
}

struct thread_arg {
	ax_ctx *ctx;
	int failures;
};

static void *resolve_thread(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 25; i++) {
		ax_dict *dict = NULL;
		char *reason = NULL;
		int match = -1;

		if (ax_ctx_resolve(a->ctx, AXS100_VENDOR, AXS100_PRODUCT, AXS100_REVISION,
		                   AX_ADDR_MCB, &dict, &match, &reason) < 0 ||
		    match != AX_MATCH_EXACT || !strstr(reason, g_all_db))
			a->failures++;
		ax_dict_unref(dict);
		ax_free(reason);
	}
	return NULL;
}

/* The first resolve opens the databases: threads racing for it share one context. */
static void test_resolve__threads_share_context(void **state)
{
	struct fx *fx = *state;
	struct thread_arg args[4];
	pthread_t t[4];

	assert_int_equal(setenv("AXLINK_DB", g_all_db, 1), 0);
	for (size_t i = 0; i < 4; i++) {
		args[i].ctx = fx->ctx;
		args[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, resolve_thread, &args[i]), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
}

/* ---- a drive's identity and its registers by name ---- */

static int drive_setup(void **state)
{
	struct fx *fx;
	ax_identity id = AX_IDENTITY_INIT;
	int match = -1;

	fx_setup(state);
	fx = *state;
	assert_int_equal(setenv("AXLINK_DB", g_all_db, 1), 0);
	ok(ax_link_open(&fx->link, fx->ctx, "virtual:?serial=77", NULL), "open virtual");
	ok(ax_link_identify(fx->link, &id), "identify");
	ok(ax_ctx_resolve(fx->ctx, id.vendor_id, id.product_code, id.revision, AX_ADDR_MCB,
	                  &fx->dict, &match, NULL),
	   "resolve the drive");
	assert_int_equal(match, AX_MATCH_EXACT);
	return 0;
}

static const ax_reg *reg(struct fx *fx, const char *id)
{
	const ax_reg *r = NULL;

	ok(ax_dict_find(fx->dict, id, -1, &r), id);
	return r;
}

static void test_resolve__identify_virtual(void **state)
{
	struct fx *fx = *state;
	const ax_dict_identity *want = ax_dict_identity_get(fx->dict);
	ax_identity id = AX_IDENTITY_INIT;
	char *sw = NULL;

	memset(&id, 0xAB, sizeof(id));
	ok(ax_link_identify(fx->link, &id), "identify");
	assert_int_equal(id.known, AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_REVISION |
	                                   AX_SCAN_HAS_SERIAL | AX_SCAN_HAS_SW_VERSION);
	assert_int_equal(id.vendor_id, AXS100_VENDOR);
	assert_int_equal(id.product_code, want->product_code);
	assert_int_equal(id.revision, want->revision);
	assert_int_equal(id.product_code, AXS100_PRODUCT);
	assert_int_equal(id.revision, AXS100_REVISION);
	assert_int_equal(id.serial, 77);
	ok(ax_link_read_str(fx->link, 0, 0x6E4, &sw), "read version");
	assert_string_equal(id.sw_version, sw);
	/* The simulated firmware reports the version its dictionary describes. */
	assert_contains(id.sw_version, want->firmware_version);
	ax_free(sw);
}

/* A required identity register the drive refuses: the failure comes back, *out untouched. */
static void test_resolve__identify_needs_identity_registers(void **state)
{
	struct fx *fx = *state;
	ax_identity id = AX_IDENTITY_INIT, before;
	ax_link *link = NULL;

	ok(ax_ctx_load_plugin(fx->ctx, AXLINK_TEST_PLUGIN_DIR "/axlink-transport-testgood.so"),
	   "load testgood");
	ok(ax_link_open(&link, fx->ctx, "testgood:", NULL), "open testgood");
	memset(&id, 0xAB, sizeof(id));
	before = id;
	assert_int_equal(ax_link_identify(link, &id), AX_EDRIVE);
	assert_memory_equal(&id, &before, sizeof(id));
	assert_int_equal(ax_error_last_code(), AX_EDRIVE);
	ax_link_unref(link);
	assert_int_equal(ax_link_identify(NULL, &id), AX_EINVAL);
	assert_int_equal(ax_link_identify(fx->link, NULL), AX_EINVAL);
}

static void test_resolve__read_by_register(void **state)
{
	struct fx *fx = *state;
	const ax_reg *pos = reg(fx, "CL_POS_FBK_VALUE"), *vbus = reg(fx, "DRV_PROT_VBUS_VALUE");
	const uint8_t *def = NULL;
	uint8_t buf[8];
	size_t len = 0;
	int32_t direct = 1, got;
	float volts, want;

	ok(ax_link_read_reg(fx->link, pos, buf, sizeof(buf), &len), "read position");
	assert_int_equal(len, 4);
	memcpy(&got, buf, sizeof(got)); /* host is little-endian, like the wire */
	ok(ax_link_read_s32(fx->link, ax_reg_subnode(pos), ax_reg_address(pos), &direct),
	   "read position by address");
	assert_int_equal(got, direct);

	ok(ax_link_read_reg(fx->link, vbus, buf, sizeof(buf), &len), "read bus voltage");
	assert_int_equal(len, 4);
	memcpy(&volts, buf, sizeof(volts));
	assert_int_equal(ax_reg_default(vbus, &def), 4);
	memcpy(&want, def, sizeof(want));
	assert_true(volts == want);
	assert_true(volts == 48.0f);
}

static void test_resolve__write_by_register_reads_back(void **state)
{
	struct fx *fx = *state;
	const ax_reg *sp = reg(fx, "CL_POS_SET_POINT_VALUE");
	int32_t value = -123456, back = 0;
	uint8_t buf[4];
	size_t len = 0;

	memcpy(buf, &value, sizeof(value));
	ok(ax_link_write_reg(fx->link, sp, buf, sizeof(buf)), "write set point");
	memset(buf, 0, sizeof(buf));
	ok(ax_link_read_reg(fx->link, sp, buf, sizeof(buf), &len), "read set point");
	assert_int_equal(len, 4);
	memcpy(&back, buf, sizeof(back));
	assert_int_equal(back, value);
}

static void test_resolve__access_refused(void **state)
{
	struct fx *fx = *state;
	const ax_reg *ro = reg(fx, "CL_POS_FBK_VALUE"), *wo = reg(fx, "DRV_RESTORE_COCO_ALL");
	uint8_t buf[8] = {0};
	size_t len = 99;

	assert_int_equal(ax_reg_access(ro), AX_REG_READ);
	assert_int_equal(ax_reg_access(wo), AX_REG_WRITE);
	assert_int_equal(ax_link_write_reg(fx->link, ro, buf, 4), AX_EACCESS);
	assert_string_equal(ax_error_last(), "register 'CL_POS_FBK_VALUE' is read-only");
	assert_int_equal(ax_link_read_reg(fx->link, wo, buf, sizeof(buf), &len), AX_EACCESS);
	assert_string_equal(ax_error_last(), "register 'DRV_RESTORE_COCO_ALL' is write-only");
	assert_int_equal(len, 99);
}

static void test_resolve__wrong_size_refused(void **state)
{
	struct fx *fx = *state;
	const ax_reg *sp = reg(fx, "CL_POS_SET_POINT_VALUE"), *data = reg(fx, "DRV_USER_DATA");
	static uint8_t big[AX_VALUE_MAX + 1];
	int32_t before = 0, after = 1, v = 99;
	uint8_t buf[8];

	ok(ax_link_read_s32(fx->link, ax_reg_subnode(sp), ax_reg_address(sp), &before), "read");
	memcpy(buf, &v, sizeof(v));
	assert_int_equal(ax_link_write_reg(fx->link, sp, buf, 2), AX_ETYPE);
	assert_contains(ax_error_last(), "CL_POS_SET_POINT_VALUE");
	assert_int_equal(ax_link_write_reg(fx->link, sp, buf, 8), AX_ETYPE);
	/* Nothing reached the drive. */
	ok(ax_link_read_s32(fx->link, ax_reg_subnode(sp), ax_reg_address(sp), &after), "read");
	assert_int_equal(after, before);

	/* Variable-length registers: 1 up to the capacity. */
	assert_int_equal(ax_reg_dtype(data), AX_DTYPE_BYTES);
	assert_int_equal(ax_link_write_reg(fx->link, data, big, 0), AX_ETYPE);
	assert_int_equal(ax_link_write_reg(fx->link, data, big, sizeof(big)), AX_ETYPE);
	assert_contains(ax_error_last(), "DRV_USER_DATA");
}

static int64_t parse_int(const char *text)
{
	char *end;
	long long v = strtoll(text, &end, 0);

	if (end == text)
		fail_msg("range bound '%s' is not an integer", text);
	return v;
}

/* Write @text as a value of @r's type; returns what ax_link_write_reg() said. */
static int write_text(struct fx *fx, const ax_reg *r, const char *text)
{
	uint8_t buf[8];
	size_t len = 0;

	ok(ax_value_parse(ax_reg_dtype(r), text, buf, sizeof(buf), &len), text);
	return ax_link_write_reg(fx->link, r, buf, len);
}

/* @text was accepted: the drive holds it now (read back in the same text form). */
static void assert_reads_back(struct fx *fx, const ax_reg *r, const char *text)
{
	uint8_t buf[8], want[8];
	size_t len = 0, want_len = 0;

	ok(ax_link_read_reg(fx->link, r, buf, sizeof(buf), &len), ax_reg_id(r));
	ok(ax_value_parse(ax_reg_dtype(r), text, want, sizeof(want), &want_len), text);
	assert_int_equal(len, want_len);
	if (memcmp(buf, want, len))
		fail_msg("'%s' did not read back %s", ax_reg_id(r), text);
}

/*
 * Registers of axs-100 with a range, of three types. The bounds come from
 * the dictionary; just outside each is refused with both in the message,
 * and the bounds themselves pass the check. The simulator may not have the
 * register: a drive error then shows the write got past the check.
 */
static void test_resolve__range_refused_bounds_accepted(void **state)
{
	static const char *const ids[] = {"MOT_PAIR_POLES", "HOM_MAX_SEARCH_TIME",
	                                  "HOM_SPEED_SEARCH"};
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const ax_reg *r = reg(fx, ids[i]);
		const char *lo, *hi;
		char below[64], above[64], msg[256];
		const char *bounds[2];
		int err;

		if (ax_reg_range(r, &lo, &hi) != 1)
			fail_msg("%s has no range in the dictionary", ids[i]);
		if (ax_reg_dtype(r) == AX_DTYPE_FLOAT) {
			(void)snprintf(below, sizeof(below), "%.9g", strtod(lo, NULL) - 1.0);
			(void)snprintf(above, sizeof(above), "%.9g", strtod(hi, NULL) + 1.0);
		} else {
			assert_true(parse_int(lo) >
			            0); /* so that below is a valid unsigned value */
			(void)snprintf(below, sizeof(below), "%lld", (long long)parse_int(lo) - 1);
			(void)snprintf(above, sizeof(above), "%lld", (long long)parse_int(hi) + 1);
		}
		assert_int_equal(write_text(fx, r, below), AX_ERANGE);
		(void)snprintf(msg, sizeof(msg), "value %s is outside '%s' range [%s, %s]", below,
		               ids[i], lo, hi);
		assert_string_equal(ax_error_last(), msg);
		assert_int_equal(write_text(fx, r, above), AX_ERANGE);
		(void)snprintf(msg, sizeof(msg), "value %s is outside '%s' range [%s, %s]", above,
		               ids[i], lo, hi);
		assert_string_equal(ax_error_last(), msg);

		bounds[0] = lo;
		bounds[1] = hi;
		for (size_t b = 0; b < 2; b++) {
			err = write_text(fx, r, bounds[b]);
			if (err != 0 && err != AX_EDRIVE)
				fail_msg("%s = %s: %d %s", ids[i], bounds[b], err, ax_error_last());
			if (err == 0)
				assert_reads_back(fx, r, bounds[b]);
		}
	}
}

struct edge_case {
	const char *id;
	const char *value;
	int want; /* 0: accepted and read back */
};

static const struct edge_case edge_cases[] = {
        {"EDGE_S32", "-101", AX_ERANGE},
        {"EDGE_S32", "-100", 0},
        {"EDGE_S32", "100", 0}, /* max is "0x64" */
        {"EDGE_S32", "101", AX_ERANGE},
        {"EDGE_U32", "9", AX_ERANGE},
        {"EDGE_U32", "10", 0},
        {"EDGE_U32", "4096", 0}, /* max is " 4096 " */
        {"EDGE_U32", "4097", AX_ERANGE},
        /* 0.7f is below 0.7 and 12.3f above 12.3 as doubles: bounds are compared as floats. */
        {"EDGE_FLOAT", "0.69999993", AX_ERANGE},
        {"EDGE_FLOAT", "0.7", 0},
        {"EDGE_FLOAT", "12.3", 0},
        {"EDGE_FLOAT", "12.300001", AX_ERANGE},
        {"EDGE_NEGATIVE_UNSIGNED", "500", 0}, /* "-5" is no bound of a u16: not checked */
        {"EDGE_JUNK", "3.5", 0},              /* "abc": not checked */
        {"EDGE_UPSIDE_DOWN", "100", 0},       /* min > max: not checked */
        {"EDGE_BOOL", "1", AX_EDRIVE},        /* the check let it through to the drive */
};

static int edge_setup(void **state)
{
	struct fx *fx;
	int match = -1;

	fx_setup(state);
	fx = *state;
	assert_int_equal(setenv("AXLINK_DB", g_edge_db, 1), 0);
	ok(ax_link_open(&fx->link, fx->ctx, "virtual:", NULL), "open virtual");
	ok(ax_ctx_resolve(fx->ctx, AXS100_VENDOR, EDGE_PRODUCT, EDGE_REVISION, AX_ADDR_MCB,
	                  &fx->dict, &match, NULL),
	   "resolve the edge dictionary");
	assert_int_equal(match, AX_MATCH_EXACT);
	return 0;
}

static void test_resolve__range_texts(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]); i++) {
		const struct edge_case *c = &edge_cases[i];
		const ax_reg *r = reg(fx, c->id);
		int err = write_text(fx, r, c->value);

		if (err != c->want)
			fail_msg("%s = %s: got %d, want %d (%s)", c->id, c->value, err, c->want,
			         ax_error_last());
		if (err == AX_ERANGE && !strstr(ax_error_last(), c->id))
			fail_msg("%s = %s: message '%s' does not name the register", c->id,
			         c->value, ax_error_last());
		if (err == 0)
			assert_reads_back(fx, r, c->value);
	}
}

static void test_resolve__value_checks_without_range(void **state)
{
	struct fx *fx = *state;
	const ax_reg *flt = reg(fx, "EDGE_FLOAT"), *flag = reg(fx, "EDGE_BOOL");
	const ax_reg *text = reg(fx, "EDGE_TEXT");
	static const uint8_t nan_bits[4] = {0x00, 0x00, 0xC0, 0x7F};
	static char big[AX_VALUE_MAX + 1];
	uint8_t two = 2;

	/* NaN lies in no range. */
	assert_int_equal(ax_link_write_reg(fx->link, flt, nan_bits, 4), AX_ERANGE);
	assert_int_equal(ax_link_write_reg(fx->link, flag, &two, 1), AX_ERANGE);
	assert_contains(ax_error_last(), "EDGE_BOOL");
	/* A str register holds up to AX_VALUE_MAX bytes, and at least one. */
	assert_int_equal(ax_reg_dtype(text), AX_DTYPE_STR);
	assert_int_equal(ax_link_write_reg(fx->link, text, big, 0), AX_ETYPE);
	memset(big, 'a', sizeof(big));
	assert_int_equal(ax_link_write_reg(fx->link, text, big, sizeof(big)), AX_ETYPE);
	assert_contains(ax_error_last(), "EDGE_TEXT");
	assert_int_equal(ax_link_write_reg(NULL, text, big, 1), AX_EINVAL);
	assert_int_equal(ax_link_write_reg(fx->link, NULL, big, 1), AX_EINVAL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_resolve__##name, fx_setup, fx_teardown)
#define D(name) cmocka_unit_test_setup_teardown(test_resolve__##name, drive_setup, fx_teardown)
#define E(name) cmocka_unit_test_setup_teardown(test_resolve__##name, edge_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	        T(location_paths),
	        T(installed_path_beside_library),
	        T(exact_names_database),
	        T(revision_rules),
	        T(unknown_product_lists_databases),
	        T(no_database_says_so),
	        T(better_rule_in_later_database_wins),
	        T(tie_goes_to_earlier_database),
	        T(user_before_installed),
	        T(same_file_twice_searched_once),
	        T(corrupt_database_skipped),
	        T(missing_database_appears_later),
	        T(follows_environment_changes),
	        T(replaced_database_reopened),
	        T(can_dictionary_never_for_mcb_drive),
	        T(mcb_dictionary_chosen_beside_can),
	        T(ranks_before_load),
	        T(reimport_seen),
	        T(bad_arguments),
	        T(threads_share_context),
	        D(identify_virtual),
	        D(identify_needs_identity_registers),
	        D(read_by_register),
	        D(write_by_register_reads_back),
	        D(access_refused),
	        D(wrong_size_refused),
	        D(range_refused_bounds_accepted),
	        E(range_texts),
	        E(value_checks_without_range),
	};
#undef T
#undef D
#undef E
	return cmocka_run_group_tests_name("resolve", tests, group_setup, group_teardown);
}
