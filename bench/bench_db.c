/* SPDX-License-Identifier: MIT */
/*
 * Time to make a drive's dictionary ready, from the device database versus
 * from its XML, on the largest dictionary of devices/ (axs-900, over 1,000
 * registers), in the same run on the same machine:
 *
 *   xml          ax_dict_load_file() of the .xdf: parse, check, index;
 *   db-open      ax_db_open() + ax_db_resolve() of the drive's identity on a
 *                database built for this run: what a new process pays;
 *   db-resolve   ax_db_resolve() on a database kept open: what a process
 *                that already has its database pays for one more drive;
 *   cached-open  ax_ctx_resolve() of a model the context resolved before
 *                (AXLINK_DB naming the same database): what the second drive
 *                of a model, or a discovery or monitor round, pays. The
 *                database is still asked which model wins; the dictionary
 *                comes from the context, sealed and shared.
 *
 * Prints one row per measurement with the ratio to xml (time per load;
 * below 1.00 = faster than parsing the XML). Medians of several rounds, so
 * one busy moment does not decide the figure; the rounds interleave the
 * four so drift hits all alike.
 *
 * usage: bench_db [LOADS_PER_ROUND] [ROUNDS] [FILE.xdf]
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"

#ifndef AXLINK_DEVICES_DIR
#error "AXLINK_DEVICES_DIR must name the devices/ folder (bench/CMakeLists.txt)"
#endif

#define MAX_ROUNDS 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_db: %s: %s\n", what, ax_error_last());
	exit(1);
}

/* The identity the benchmark resolves: the file's first dictionary. */
struct target {
	const char *path;
	ax_dict_identity id; /* strings borrowed from @dict */
	ax_dict *dict;
	size_t registers;
};

static void load_target(struct target *t)
{
	ax_dict **dicts = NULL;
	size_t n = 0;

	if (ax_dict_load_file(&dicts, &n, t->path, NULL) < 0)
		die("loading the dictionary");
	t->dict = ax_dict_ref(dicts[0]);
	t->id = *ax_dict_identity_get(t->dict);
	t->registers = ax_dict_reg_count(t->dict);
	for (size_t i = 0; i < n; i++)
		ax_dict_unref(dicts[i]);
	ax_free(dicts);
}

/* Seconds per ax_dict_load_file() of the whole file. */
static double xml_round(const struct target *t, int loads)
{
	double t0 = now_s();

	for (int i = 0; i < loads; i++) {
		ax_dict **dicts = NULL;
		size_t n = 0;

		if (ax_dict_load_file(&dicts, &n, t->path, NULL) < 0)
			die("parsing the XML");
		for (size_t k = 0; k < n; k++)
			ax_dict_unref(dicts[k]);
		ax_free(dicts);
	}
	return (now_s() - t0) / loads;
}

/* One resolution that must find the target's dictionary again, whole. */
static void resolve_once(ax_db *db, const struct target *t)
{
	ax_dict *dict = NULL;
	int match = AX_MATCH_NONE;

	if (ax_db_resolve(db, t->id.vendor_id, t->id.product_code, t->id.revision, AX_ADDR_MCB,
	                  &dict, &match, NULL) < 0)
		die("resolving");
	/* A fast answer that is not the dictionary would measure nothing. */
	if (match != AX_MATCH_EXACT || ax_dict_reg_count(dict) != t->registers) {
		fprintf(stderr,
		        "bench_db: the database gave match '%s' with %zu registers, "
		        "want exact with %zu\n",
		        ax_match_name(match), dict ? ax_dict_reg_count(dict) : 0, t->registers);
		exit(1);
	}
	ax_dict_unref(dict);
}

/* Seconds per ax_db_open() + ax_db_resolve() + close. */
static double db_open_round(const char *db_path, const struct target *t, int loads)
{
	double t0 = now_s();

	for (int i = 0; i < loads; i++) {
		ax_db *db = NULL;

		if (ax_db_open(&db, db_path, AX_DB_READONLY) < 0)
			die("opening the database");
		resolve_once(db, t);
		ax_db_unref(db);
	}
	return (now_s() - t0) / loads;
}

/* One resolution through the context, which must give its cached dictionary. */
static void ctx_resolve_once(ax_ctx *ctx, const struct target *t, const ax_dict *want)
{
	ax_dict *dict = NULL;
	int match = AX_MATCH_NONE;

	if (ax_ctx_resolve(ctx, t->id.vendor_id, t->id.product_code, t->id.revision, AX_ADDR_MCB,
	                   &dict, &match, NULL) < 0)
		die("resolving through the context");
	if (match != AX_MATCH_EXACT || ax_dict_reg_count(dict) != t->registers ||
	    (want && dict != want)) {
		fprintf(stderr,
		        "bench_db: the context gave match '%s' with %zu registers%s, want exact "
		        "with %zu\n",
		        ax_match_name(match), dict ? ax_dict_reg_count(dict) : 0,
		        want && dict != want ? " (not the cached dictionary)" : "", t->registers);
		exit(1);
	}
	ax_dict_unref(dict);
}

/* Seconds per ax_ctx_resolve() of a model the context has already resolved. */
static double cached_round(ax_ctx *ctx, const struct target *t, const ax_dict *want, int loads)
{
	double t0 = now_s();

	for (int i = 0; i < loads; i++)
		ctx_resolve_once(ctx, t, want);
	return (now_s() - t0) / loads;
}

/* Seconds per ax_db_resolve() on an open database. */
static double db_resolve_round(ax_db *db, const struct target *t, int loads)
{
	double t0 = now_s();

	for (int i = 0; i < loads; i++)
		resolve_once(db, t);
	return (now_s() - t0) / loads;
}

int main(int argc, char **argv)
{
	int loads = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20;
	int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 7;
	struct target t = {.path = argc > 3 ? argv[3] : AXLINK_DEVICES_DIR "/axs-900.xdf"};
	double t_xml[MAX_ROUNDS], t_open[MAX_ROUNDS], t_res[MAX_ROUNDS], t_cache[MAX_ROUNDS];
	double m_xml, m_open, m_res, m_cache;
	ax_ctx_options copts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;
	ax_dict *cached = NULL;
	int match = AX_MATCH_NONE;
	char dir[] = "/tmp/axlink-bench-db.XXXXXX";
	char db_path[sizeof(dir) + 16], side[sizeof(db_path) + 16];
	ax_db *db = NULL;
	int rc = 0;

	if (loads < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr,
		        "usage: bench_db [LOADS_PER_ROUND >= 1] [ROUNDS 1..%d] "
		        "[FILE.xdf]\n",
		        MAX_ROUNDS);
		return 2;
	}
	load_target(&t);

	/* A database of this file alone, made for this run and removed after it. */
	if (!mkdtemp(dir)) {
		perror("bench_db: mkdtemp");
		return 1;
	}
	(void)snprintf(db_path, sizeof(db_path), "%s/devices.db", dir);
	if (ax_db_open(&db, db_path, AX_DB_CREATE) < 0 ||
	    ax_db_import(db, t.path, NULL, NULL) < 0) {
		fprintf(stderr, "bench_db: building %s: %s\n", db_path, ax_error_last());
		rc = 1;
		goto out;
	}

	/*
	 * A context that searches this database first and no user database;
	 * no plugins, resolving needs none. Its first resolution loads and
	 * keeps the dictionary.
	 */
	if (setenv("AXLINK_DB", db_path, 1) < 0 ||
	    setenv("XDG_DATA_HOME", "/nonexistent/axlink-bench-xdg", 1) < 0) {
		perror("bench_db: setenv");
		rc = 1;
		goto out;
	}
	copts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS | AX_CTX_NO_ENV_LOG;
	if (ax_ctx_new(&ctx, &copts) < 0)
		die("making a context");
	if (ax_ctx_resolve(ctx, t.id.vendor_id, t.id.product_code, t.id.revision, AX_ADDR_MCB,
	                   &cached, &match, NULL) < 0 ||
	    !cached)
		die("the first resolution through the context");

	/* Warm up every path (page cache, SQLite, allocator), then the rounds. */
	(void)xml_round(&t, 1);
	(void)db_open_round(db_path, &t, 1);
	(void)db_resolve_round(db, &t, 1);
	(void)cached_round(ctx, &t, cached, 1);
	for (int r = 0; r < rounds; r++) {
		t_xml[r] = xml_round(&t, loads);
		t_open[r] = db_open_round(db_path, &t, loads);
		t_res[r] = db_resolve_round(db, &t, loads);
		t_cache[r] = cached_round(ctx, &t, cached, loads);
	}
	m_xml = median(t_xml, rounds);
	m_open = median(t_open, rounds);
	m_res = median(t_res, rounds);
	m_cache = median(t_cache, rounds);

	printf("bench_db: %d rounds x %d loads, median per round, %s (%s, %zu registers)\n", rounds,
	       loads, t.path, t.id.name && *t.id.name ? t.id.name : "?", t.registers);
	printf("%-11s %12s %12s %10s\n", "what", "ms/load", "loads/s", "ratio");
	printf("%-11s %12.3f %12.1f %10s\n", "xml", m_xml * 1e3, 1 / m_xml, "baseline");
	printf("%-11s %12.3f %12.1f %10.2f\n", "db-open", m_open * 1e3, 1 / m_open, m_open / m_xml);
	printf("%-11s %12.3f %12.1f %10.2f\n", "db-resolve", m_res * 1e3, 1 / m_res, m_res / m_xml);
	printf("%-11s %12.3f %12.1f %10.4f\n", "cached-open", m_cache * 1e3, 1 / m_cache,
	       m_cache / m_xml);
	printf("xml / db-open = %.2f (times faster to make the dictionary ready from the "
	       "database)\n",
	       m_xml / m_open);
	printf("xml / cached-open = %.1f (times faster for a model the context has resolved "
	       "before)\n",
	       m_xml / m_cache);
	/* Issue 21's goals, as ratios to the same run's XML parse. */
	printf("first open from the database = %.3f x parsing the XML (goal <= 0.10)\n",
	       m_open / m_xml);
	printf("second drive of the model (cached) = %.1f us = %.4f x parsing the XML "
	       "(goal: microseconds)\n",
	       m_cache * 1e6, m_cache / m_xml);
out:
	cached = ax_dict_unref(cached);
	ctx = ax_ctx_unref(ctx);
	db = ax_db_unref(db);
	t.dict = ax_dict_unref(t.dict);
	(void)unlink(db_path);
	/* SQLite's side files, should a journal mode leave any. */
	for (size_t i = 0; i < 3; i++) {
		static const char *const ext[] = {"-journal", "-wal", "-shm"};

		(void)snprintf(side, sizeof(side), "%s%s", db_path, ext[i]);
		(void)unlink(side);
	}
	(void)rmdir(dir);
	return rc;
}
