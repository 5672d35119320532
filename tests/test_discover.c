/* SPDX-License-Identifier: MIT */
/*
 * Discovery across transports: the spec, default targets, results with
 * identity and dictionary, the deadline against silent and hung scans,
 * cancellation, stable identity URIs, and hot-plug events.
 *
 * Transports: the real eth plugin against axlink-sim on loopback, and the
 * testscan plugin (tests/discover_testscan.c), whose scans fail, hang or
 * report unknown products on demand.
 *
 * Addresses: 127.0.10.0/25 only (the CLI tests of discovery use 127.0.10.128/25).
 *   127.0.10.1-16    sixteen axs-100 drives, serials 1000..1015 (whole run)
 *   127.0.10.40      a drive that drops every datagram (per test: silent, cancel)
 *   127.0.10.49-62   nothing listens there
 *   127.0.10.100-101 two drives, serials 2000..2001 (hot-plug test)
 *   127.0.10.102     a drive that comes and goes, serial 3000 (hot-plug test)
 *   127.0.10.120-121 nothing listens there
 */
#define _POSIX_C_SOURCE 200809L
/* IFF_UP and IFF_LOOPBACK (net/if.h) are BSD names. */
#define _DEFAULT_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "discover.h"
#include "simproc.h"
#include "support/timing.h"

#define VENDOR_ID 0x0000A71Cu
#define AXS100_PRODUCT 0x00010064u
#define AXS100_REVISION 0x00010002u
#define UNKNOWN_PRODUCT 0x00DEAD00u

#define SIM16_SERIAL 1000u
#define SIM_START_MS 10000
/*
 * What a loaded CI machine may add to a deadline (thread wake-ups), on an
 * idle machine: scaled for valgrind and sanitizers (support/timing.h).
 */
#define SLACK_MS test_ms(400)

#define MAX_FOUND 64
#define MAX_OUTCOMES 16

struct found {
	char uri[64], stable[64], transport[16], target[128], detail[64];
	char model[32], dictionary[512], reason[256], hint[256], message[256], sw[64];
	uint32_t known, vendor, product, revision, serial, elapsed_ms;
	uint64_t arrived_ms; /* when the callback saw it, from seen.t0 */
	int access, match;
	int has_dict;
};

struct outcome {
	char transport[16], target[128], message[256];
	int status, error;
	unsigned found, reported;
	uint32_t elapsed_ms;
};

/* What the callbacks saw; they run on the discovering thread only. */
struct seen {
	struct found f[MAX_FOUND];
	size_t n;
	struct outcome o[MAX_OUTCOMES];
	size_t n_o;
	pthread_t thread;
	uint64_t t0; /* test_now_ms() when made */
	int wrong_thread;
	atomic_int inside; /* callbacks never overlap */
	int overlapped;
	int stop_with;              /* when nonzero: the first result returns this */
	ax_cancel *cancel_on_first; /* triggered by the first result... */
	size_t cancel_after;        /* ...or by the one that makes this many */
};

struct fixture {
	ax_ctx *ctx;
	simproc *sim16;
};

static uint64_t now_ms(void)
{
	return test_now_ms();
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void copy(char *dst, size_t cap, const char *src)
{
	(void)snprintf(dst, cap, "%s", src ? src : "(null)");
}

static void load_plugin(ax_ctx *ctx, const char *dir, const char *scheme)
{
	char path[512];

	(void)snprintf(path, sizeof(path), "%s/axlink-transport-%s.so", dir, scheme);
	if (ax_ctx_load_plugin(ctx, path) < 0)
		fail_msg("load %s: %s", path, ax_error_last());
}

/*
 * A context with exactly the plugins named, whatever else the build made:
 * a discovery without a spec runs every loaded transport, and the serial
 * and USB ones would scan this machine's real ports.
 */
static ax_ctx *new_ctx(void)
{
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;

	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	if (ax_ctx_new(&ctx, &opts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	load_plugin(ctx, AXLINK_BUILD_PLUGIN_DIR, "eth");
	load_plugin(ctx, AXLINK_BUILD_PLUGIN_DIR, "virtual");
	load_plugin(ctx, AXLINK_DISCOVER_PLUGIN_DIR, "testscan");
	return ctx;
}

static simproc *start_sim(const char *const *args, size_t n_uris)
{
	simproc *p = NULL;

	if (simproc_start(&p, args, n_uris, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	return p;
}

static int enter(struct seen *s)
{
	if (!pthread_equal(pthread_self(), s->thread))
		s->wrong_thread++;
	if (atomic_fetch_add(&s->inside, 1) != 0)
		s->overlapped++;
	return 0;
}

static void leave(struct seen *s)
{
	atomic_fetch_sub(&s->inside, 1);
}

static void record(struct found *f, const ax_discover_result *r)
{
	copy(f->uri, sizeof(f->uri), r->uri);
	copy(f->stable, sizeof(f->stable), r->stable_uri);
	copy(f->transport, sizeof(f->transport), r->transport);
	copy(f->target, sizeof(f->target), r->target);
	copy(f->detail, sizeof(f->detail), r->detail);
	copy(f->model, sizeof(f->model), r->model);
	copy(f->dictionary, sizeof(f->dictionary), r->dictionary);
	copy(f->reason, sizeof(f->reason), r->match_reason);
	copy(f->hint, sizeof(f->hint), r->hint);
	copy(f->message, sizeof(f->message), r->message);
	copy(f->sw, sizeof(f->sw), r->sw_version);
	f->known = r->known;
	f->vendor = r->vendor_id;
	f->product = r->product_code;
	f->revision = r->revision;
	f->serial = r->serial;
	f->elapsed_ms = r->elapsed_ms;
	f->access = r->access;
	f->match = r->match;
	f->has_dict = r->dict != NULL;
}

static int on_found(const ax_discover_result *r, void *userdata)
{
	struct seen *s = userdata;
	int ret = 0;

	enter(s);
	assert_int_equal(r->size, sizeof(*r));
	if (s->n < MAX_FOUND) {
		record(&s->f[s->n], r);
		s->f[s->n++].arrived_ms = now_ms() - s->t0;
	}
	if (s->stop_with)
		ret = s->stop_with;
	if (s->cancel_on_first && s->n >= s->cancel_after)
		ax_cancel_trigger(s->cancel_on_first);
	leave(s);
	return ret;
}

static int on_transport(const ax_discover_transport *t, void *userdata)
{
	struct seen *s = userdata;

	enter(s);
	if (s->n_o < MAX_OUTCOMES) {
		struct outcome *o = &s->o[s->n_o++];

		copy(o->transport, sizeof(o->transport), t->transport);
		copy(o->target, sizeof(o->target), t->target);
		copy(o->message, sizeof(o->message), t->message);
		o->status = t->status;
		o->error = t->error;
		o->found = t->found;
		o->reported = t->reported;
		o->elapsed_ms = t->elapsed_ms;
	}
	leave(s);
	return 0;
}

static struct seen *seen_new(void)
{
	struct seen *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->thread = pthread_self();
	s->t0 = now_ms();
	atomic_init(&s->inside, 0);
	return s;
}

static void seen_check_threads(const struct seen *s)
{
	assert_int_equal(s->wrong_thread, 0);
	assert_int_equal(s->overlapped, 0);
}

static const struct outcome *outcome_of(const struct seen *s, const char *target)
{
	for (size_t i = 0; i < s->n_o; i++)
		if (!strcmp(s->o[i].target, target))
			return &s->o[i];
	fail_msg("no outcome for target '%s' (%zu outcomes)", target, s->n_o);
	return NULL;
}

static const struct found *found_uri(const struct seen *s, const char *uri)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].uri, uri))
			return &s->f[i];
	return NULL;
}

static int discover(ax_ctx *ctx, const char *spec, ax_discover_options *o, struct seen *s)
{
	ax_discover_options local = AX_DISCOVER_OPTIONS_INIT;

	if (!o)
		o = &local;
	o->on_transport = on_transport;
	return ax_discover(ctx, spec, o, on_found, s);
}

/* ---- fixtures ---------------------------------------------------------- */

static int group_setup(void **state)
{
	static const char *const args[] = {"--eth",    "127.0.10.1", "--count", "16",
	                                   "--serial", "1000",       NULL};
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	/* Only the build tree's installed-location database; no user or AXLINK_DB file. */
	unsetenv("AXLINK_DB");
	setenv("XDG_DATA_HOME", "/nonexistent/axlink-test-xdg", 1);
	f->sim16 = start_sim(args, 16);
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return -1;
	rc = simproc_stop(f->sim16);
	free(f);
	return rc == 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct fixture *f = *state;

	unsetenv("AXLINK_ETH_TARGETS");
	unsetenv("AXLINK_TESTSCAN_TARGETS");
	f->ctx = new_ctx();
	return 0;
}

/*
 * Scans abandoned at a deadline finish on their own threads: wait for them,
 * so none outlives its test (and the leak checkers see every thread end).
 */
static int wait_workers_done(void)
{
	for (uint64_t i = 0; i < test_ms(1000) && ax__discover_workers_alive() > 0; i++)
		sleep_ms(10);
	return ax__discover_workers_alive() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	f->ctx = ax_ctx_unref(f->ctx);
	rc = wait_workers_done();
	unsetenv("AXLINK_ETH_TARGETS");
	unsetenv("AXLINK_TESTSCAN_TARGETS");
	return rc;
}

/* ---- the spec ------------------------------------------------------------ */

struct spec_case {
	const char *name;
	const char *spec;
	int want;
	const char *in_message;
};

static const struct spec_case spec_cases[] = {
        {"unknown_bare", "nosuch", AX_ENOTFOUND, "'nosuch' is neither"},
        {"unknown_uri", "nosuch://x", AX_ENOTFOUND, "no transport for scheme 'nosuch'"},
        {"unknown_lists_loaded", "nosuch", AX_ENOTFOUND, "testscan"},
        {"cannot_scan_bare", "virtual", AX_EUNSUPPORTED, "'virtual' cannot scan"},
        {"cannot_scan_uri", "virtual:?model=axs-100", AX_EUNSUPPORTED, "cannot scan"},
        {"empty_item", "testscan,,eth://127.0.10.1", AX_EINVAL, "empty item"},
        {"trailing_comma", "testscan,", AX_EINVAL, "empty item"},
        {"unknown_key", "testscan:?bogus=1", AX_EUNKNOWNKEY, "bogus"},
        {"bad_uri", "eth://[::1", AX_EINVAL, "discovery spec item 1"},
        {"local_with_path", "eth://local/24", AX_EINVAL, "takes no path"},
        {"second_item_named", "testscan,nosuch://x", AX_ENOTFOUND, "item 2"},
};

static void test_discover__spec_errors(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(spec_cases) / sizeof(spec_cases[0]); i++) {
		const struct spec_case *c = &spec_cases[i];
		struct seen *s = seen_new();
		int ret = discover(f->ctx, c->spec, NULL, s);

		if (ret != c->want)
			fail_msg("%s: got %d, want %d (%s)", c->name, ret, c->want,
			         ax_error_last());
		if (!strstr(ax_error_last(), c->in_message))
			fail_msg("%s: message '%s' lacks '%s'", c->name, ax_error_last(),
			         c->in_message);
		/* A spec that fails runs nothing and calls nobody. */
		if (s->n || s->n_o)
			fail_msg("%s: %zu results, %zu outcomes", c->name, s->n, s->n_o);
		free(s);
	}
}

static void test_discover__bad_options(void **state)
{
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct seen *s = seen_new();

	o.timeout_ms = -1;
	assert_int_equal(discover(f->ctx, "testscan", &o, s), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "-1"));
	o.timeout_ms = 0;
	o.version = 99;
	assert_int_equal(ax_discover(f->ctx, "testscan", &o, on_found, s), AX_EINVAL);
	assert_int_equal(ax_discover(NULL, "testscan", NULL, on_found, s), AX_EINVAL);
	assert_int_equal(s->n, 0);
	free(s);
}

/*
 * Host lists keep their commas: a piece joins the URI before it unless it
 * starts a new one, so this is two targets, not four.
 */
static void test_discover__spec_split(void **state)
{
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct seen *s = seen_new();
	int ret;

	/* Time for the silent hosts' scan to end by itself under valgrind on a busy machine. */
	o.timeout_ms = 1500;
	ret = discover(f->ctx,
	               " eth://127.0.10.120,127.0.10.121 , testscan:?count=1&serial=5,"
	               "testscan",
	               &o, s);
	assert_int_equal(ret, 3);
	assert_int_equal(s->n_o, 3);
	assert_int_equal(outcome_of(s, "eth://127.0.10.120,127.0.10.121")->status,
	                 AX_DISCOVER_DONE);
	assert_int_equal(outcome_of(s, "eth://127.0.10.120,127.0.10.121")->found, 0);
	assert_int_equal(outcome_of(s, "testscan:?count=1&serial=5")->found, 1);
	assert_int_equal(outcome_of(s, "testscan:")->found, 2);
	assert_non_null(found_uri(s, "testscan:5"));
	assert_non_null(found_uri(s, "testscan:100"));
	assert_non_null(found_uri(s, "testscan:101"));
	seen_check_threads(s);
	free(s);
}

/* NULL spec: every transport that scans, with its defaults; Ethernet only when named. */
static void test_discover__default_targets(void **state)
{
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct seen *s = seen_new();
	const struct outcome *eth;
	int ret;

	o.timeout_ms = 500;
	ret = discover(f->ctx, NULL, &o, s);
	assert_int_equal(ret, 2);
	assert_int_equal(s->n_o, 2); /* eth and testscan; virtual cannot scan */
	eth = outcome_of(s, "eth");
	assert_int_equal(eth->status, AX_DISCOVER_SKIPPED);
	assert_non_null(strstr(eth->message, "AXLINK_ETH_TARGETS"));
	assert_int_equal(outcome_of(s, "testscan:")->status, AX_DISCOVER_DONE);
	free(s);

	/* The environment names targets, for any transport. */
	s = seen_new();
	setenv("AXLINK_ETH_TARGETS", "127.0.10.0/27", 1);
	setenv("AXLINK_TESTSCAN_TARGETS", "testscan:?count=1&serial=7 , testscan:?mode=fail", 1);
	ret = discover(f->ctx, "", &o, s);
	/* One target failing does not fail the discovery. */
	assert_int_equal(ret, 16 + 1);
	assert_int_equal(outcome_of(s, "eth://127.0.10.0/27")->found, 16);
	assert_int_equal(outcome_of(s, "testscan:?count=1&serial=7")->found, 1);
	assert_int_equal(outcome_of(s, "testscan:?mode=fail")->status, AX_DISCOVER_FAILED);
	assert_non_null(found_uri(s, "testscan:7"));
	free(s);

	s = seen_new();
	setenv("AXLINK_TESTSCAN_TARGETS", "testscan:?mode=fail", 1);
	ret = discover(f->ctx, "testscan", &o, s);
	/* Every target failed and nothing was found: the failure is the result. */
	assert_int_equal(ret, AX_EIO);
	assert_non_null(strstr(ax_error_last(), "test failure scanning 'testscan:?mode=fail'"));
	assert_int_equal(outcome_of(s, "testscan:?mode=fail")->status, AX_DISCOVER_FAILED);
	assert_int_equal(outcome_of(s, "testscan:?mode=fail")->error, AX_EIO);
	free(s);

	/* An item without its scheme gets "SCHEME:" (Ethernet's "eth://"). */
	setenv("AXLINK_TESTSCAN_TARGETS", "?count=1&serial=3", 1);
	s = seen_new();
	assert_int_equal(discover(f->ctx, "testscan", &o, s), 1);
	assert_int_equal(outcome_of(s, "testscan:?count=1&serial=3")->found, 1);
	assert_non_null(found_uri(s, "testscan:3"));
	free(s);

	setenv("AXLINK_TESTSCAN_TARGETS", "testscan:?bogus=1", 1);
	s = seen_new();
	assert_int_equal(discover(f->ctx, "testscan", &o, s), AX_EUNKNOWNKEY);
	assert_non_null(strstr(ax_error_last(), "AXLINK_TESTSCAN_TARGETS"));
	free(s);
}

/* A fake interface list: eth://local must never be scanned by a test, only planned. */
static void test_discover__local_subnets(void **state)
{
	struct sockaddr_in addr[6], mask[6];
	struct ifaddrs ifa[6];
	static const struct {
		const char *name, *addr, *mask;
		unsigned flags;
	} rows[] = {
	        {"lo", "127.0.0.1", "255.0.0.0", IFF_UP | IFF_LOOPBACK},
	        {"eth0", "192.168.5.17", "255.255.0.0", IFF_UP},     /* wide: narrowed */
	        {"wlan0", "10.1.2.3", "255.255.255.0", 0},           /* down */
	        {"eth1", "172.16.8.130", "255.255.255.128", IFF_UP}, /* /25 kept */
	        {"eth0:1", "192.168.5.99", "255.255.255.0", IFF_UP}, /* same /24 as eth0 */
	        {"ptp", "10.9.9.9", "255.255.255.255", IFF_UP},      /* /32: only us */
	};
	char **nets = NULL;
	size_t n = 0;

	(void)state;
	memset(ifa, 0, sizeof(ifa));
	for (size_t i = 0; i < 6; i++) {
		memset(&addr[i], 0, sizeof(addr[i]));
		memset(&mask[i], 0, sizeof(mask[i]));
		addr[i].sin_family = AF_INET;
		mask[i].sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, rows[i].addr, &addr[i].sin_addr), 1);
		assert_int_equal(inet_pton(AF_INET, rows[i].mask, &mask[i].sin_addr), 1);
		ifa[i].ifa_name = (char *)rows[i].name;
		ifa[i].ifa_flags = rows[i].flags;
		ifa[i].ifa_addr = (struct sockaddr *)&addr[i];
		ifa[i].ifa_netmask = (struct sockaddr *)&mask[i];
		ifa[i].ifa_next = i + 1 < 6 ? &ifa[i + 1] : NULL;
	}
	assert_int_equal(ax__discover_local_subnets(ifa, &nets, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(nets[0], "192.168.5.0/24");
	assert_string_equal(nets[1], "172.16.8.128/25");
	ax__discover_strings_free(nets, n);

	/* Only loopback: nothing to scan (the plan reports it skipped). */
	ifa[0].ifa_next = NULL;
	assert_int_equal(ax__discover_local_subnets(ifa, &nets, &n), 0);
	assert_int_equal(n, 0);
	ax__discover_strings_free(nets, n);
}

/* ---- drives over UDP ---------------------------------------------------------- */

static void check_sim_drive(const struct found *d)
{
	char want[64];

	assert_string_equal(d->transport, "eth");
	assert_int_equal(d->access, AX_ACCESS_OK);
	assert_int_equal(d->vendor, VENDOR_ID);
	assert_int_equal(d->product, AXS100_PRODUCT);
	assert_int_equal(d->revision, AXS100_REVISION);
	assert_true(d->serial >= SIM16_SERIAL && d->serial < SIM16_SERIAL + 16);
	/* Drive i sits on 127.0.10.(i+1) with serial 1000+i. */
	(void)snprintf(want, sizeof(want), "eth://127.0.10.%u:1061",
	               (unsigned)(d->serial - SIM16_SERIAL + 1));
	assert_string_equal(d->uri, want);
	(void)snprintf(want, sizeof(want), "127.0.10.%u:1061",
	               (unsigned)(d->serial - SIM16_SERIAL + 1));
	assert_string_equal(d->detail, want);
	(void)snprintf(want, sizeof(want), "axlink://A71C/00010064/%u", (unsigned)d->serial);
	assert_string_equal(d->stable, want);
	assert_true(strlen(d->sw) > 0);
	assert_int_equal(d->match, AX_MATCH_EXACT);
	assert_string_equal(d->model, "axs-100");
	assert_true(d->has_dict);
	assert_non_null(strstr(d->dictionary, "devices.db"));
	assert_non_null(strstr(d->reason, "exact"));
	assert_string_equal(d->hint, "");
}

static void test_discover__sixteen_drives(void **state)
{
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct seen *s = seen_new();
	unsigned serials = 0;
	uint64_t t0 = now_ms(), took;
	int ret;

	/* The default deadline, on an idle machine (scaled under valgrind). */
	o.timeout_ms = (int)test_ms(AX_DISCOVER_DEFAULT_TIMEOUT_MS);
	ret = discover(f->ctx, "eth://127.0.10.0/27", &o, s);
	took = now_ms() - t0;
	assert_int_equal(ret, 16);
	assert_int_equal(s->n, 16);
	for (size_t i = 0; i < s->n; i++) {
		check_sim_drive(&s->f[i]);
		serials |= 1u << (s->f[i].serial - SIM16_SERIAL);
		/*
		 * Stamped when identified, so before it was handed over and
		 * before the scan ended. (That results are handed over while
		 * a scan still runs is shown against a deadline in
		 * test_discover__silent_and_hung_targets.)
		 */
		if (s->f[i].elapsed_ms > s->f[i].arrived_ms ||
		    s->f[i].elapsed_ms > s->o[0].elapsed_ms)
			fail_msg("drive %zu: identified at %u ms, handed over at %u ms, scan "
			         "ended at %u ms",
			         i, (unsigned)s->f[i].elapsed_ms, (unsigned)s->f[i].arrived_ms,
			         (unsigned)s->o[0].elapsed_ms);
	}
	assert_int_equal(serials, 0xFFFF); /* each once */
	/* All scans done: the call ends then, not at its deadline. */
	if (took >= (uint64_t)o.timeout_ms)
		fail_msg("took %u ms, the deadline is %d ms", (unsigned)took, o.timeout_ms);
	assert_int_equal(s->n_o, 1);
	assert_int_equal(s->o[0].status, AX_DISCOVER_DONE);
	assert_int_equal(s->o[0].found, 16);
	assert_int_equal(s->o[0].reported, 16);
	seen_check_threads(s);
	free(s);
}

/*
 * Results are handed over as they are identified, while other scans still
 * run: the callback that sees the sixteenth drive cancels the discovery,
 * whose other target only waits for that (or for 30 s). Held back to the
 * end, the sixteen would arrive at the deadline, the waiting scan would time
 * out, and the call would last its 30 s. No bound but half the deadline.
 */
static void test_discover__results_arrive_while_scans_run(void **state)
{
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct seen *s = seen_new();
	ax_cancel *cancel = NULL;
	uint64_t t0 = now_ms(), took;
	int ret;

	assert_int_equal(ax_cancel_new(&cancel), 0);
	s->cancel_on_first = cancel;
	s->cancel_after = 16;
	o.timeout_ms = 30000;
	o.cancel = cancel;
	ret = discover(f->ctx, "eth://127.0.10.0/27,testscan:?mode=wait&ms=30000&count=0", &o, s);
	took = now_ms() - t0;
	if (ret != AX_ECANCELED)
		fail_msg("returned %d after %u ms; the sixteenth drive identified at %u ms, "
		         "handed over at %u ms",
		         ret, (unsigned)took, s->n >= 16 ? (unsigned)s->f[15].elapsed_ms : 0,
		         s->n >= 16 ? (unsigned)s->f[15].arrived_ms : 0);
	assert_int_equal(s->n, 16);
	/* (The eth scan may still have been probing empty addresses: either outcome.) */
	assert_int_equal(outcome_of(s, "testscan:?mode=wait&ms=30000&count=0")->status,
	                 AX_DISCOVER_CANCELLED);
	if (took >= (uint64_t)o.timeout_ms / 2)
		fail_msg("took %u ms of a %d ms deadline", (unsigned)took, o.timeout_ms);
	seen_check_threads(s);
	free(s);
	ax_cancel_unref(cancel);
}

/* Overlapping targets: each drive is reported once, by whichever target found it first. */
static void test_discover__overlapping_targets(void **state)
{
	struct fixture *f = *state;
	struct seen *s = seen_new();
	unsigned serials = 0;

	assert_int_equal(
	        discover(f->ctx, "eth://127.0.10.0/27,eth://127.0.10.5,127.0.10.6", NULL, s), 16);
	assert_int_equal(s->n, 16);
	for (size_t i = 0; i < s->n; i++)
		serials |= 1u << (s->f[i].serial - SIM16_SERIAL);
	assert_int_equal(serials, 0xFFFF);
	assert_int_equal(outcome_of(s, "eth://127.0.10.0/27")->found +
	                         outcome_of(s, "eth://127.0.10.5,127.0.10.6")->found,
	                 16);
	free(s);
}

/*
 * A drive that never answers and a plugin that hangs deaf to cancellation:
 * the sixteen still arrive at once, and the call ends at its deadline.
 */
static void test_discover__silent_and_hung_targets(void **state)
{
	static const char *const silent_args[] = {"--eth",    "127.0.10.40", "--drop", "100",
	                                          "--serial", "4000",        NULL};
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	simproc *silent = start_sim(silent_args, 1);
	struct seen *s = seen_new();
	const struct outcome *hung;
	/* The hung scan outlasts the deadline by far more than any wake-up takes. */
	uint64_t deadline = test_ms(1000), hang_ms = deadline + 2 * SLACK_MS;
	char hang[64], spec[160];
	uint64_t t0 = now_ms(), took;
	size_t eth = 0;
	int ret;

	(void)snprintf(hang, sizeof(hang), "testscan:?mode=hang&ms=%u", (unsigned)hang_ms);
	(void)snprintf(spec, sizeof(spec), "eth://127.0.10.0/27,eth://127.0.10.40,%s", hang);
	o.timeout_ms = (int)deadline;
	ret = discover(f->ctx, spec, &o, s);
	took = now_ms() - t0;
	assert_int_equal(ret, 16 + 2);
	/* It ends at its deadline: not before, and not when the hung scan returns. */
	if (took < deadline - 5 || took >= deadline + SLACK_MS)
		fail_msg("took %u ms, deadline %u ms, the hung scan returns after %u ms",
		         (unsigned)took, (unsigned)deadline, (unsigned)hang_ms);
	/* The sixteen are handed over as they come, not at the deadline the hung scan holds. */
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->f[i].transport, "eth"))
			continue;
		eth++;
		if (s->f[i].arrived_ms >= deadline)
			fail_msg("%s identified at %u ms, handed over at %u ms, the deadline is "
			         "%u ms",
			         s->f[i].uri, (unsigned)s->f[i].elapsed_ms,
			         (unsigned)s->f[i].arrived_ms, (unsigned)deadline);
	}
	assert_int_equal(eth, 16);
	assert_int_equal(outcome_of(s, "eth://127.0.10.0/27")->found, 16);
	assert_int_equal(outcome_of(s, "eth://127.0.10.40")->status, AX_DISCOVER_DONE);
	assert_int_equal(outcome_of(s, "eth://127.0.10.40")->found, 0);
	hung = outcome_of(s, hang);
	assert_int_equal(hung->status, AX_DISCOVER_TIMED_OUT);
	assert_int_equal(hung->found, 2); /* what it reported before hanging counts */
	assert_non_null(strstr(hung->message, "deadline"));
	assert_true(hung->elapsed_ms + 1 >= deadline);
	seen_check_threads(s);
	free(s);
	assert_int_equal(simproc_stop(silent), 0);
}

static atomic_int late_scan_logged;

static void log_sink(int level, const char *origin, const char *message, void *userdata)
{
	(void)level;
	(void)userdata;
	if (!strcmp(origin, "testscan") && strstr(message, "gave up on it"))
		atomic_store(&late_scan_logged, 1);
}

/*
 * The caller lets go of the context while a hung scan still runs in it: the
 * worker keeps the context (and the plugin's code) alive until it returns.
 */
static void test_discover__hung_scan_outlives_caller(void **state)
{
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct seen *s = seen_new();
	/* The scan hangs well past the deadline plus any wake-up: the call must not wait. */
	uint64_t deadline = test_ms(150), hang_ms = deadline + 2 * SLACK_MS;
	char spec[96];
	uint64_t t0, took;

	atomic_store(&late_scan_logged, 0);
	ax_ctx_set_log(f->ctx, AX_LOG_DEBUG, log_sink, NULL);
	(void)snprintf(spec, sizeof(spec), "testscan:?mode=hang&ms=%u&count=1", (unsigned)hang_ms);
	o.timeout_ms = (int)deadline;
	t0 = now_ms();
	assert_int_equal(discover(f->ctx, spec, &o, s), 1);
	took = now_ms() - t0;
	if (took >= deadline + SLACK_MS)
		fail_msg("took %u ms, deadline %u ms, the scan hangs %u ms", (unsigned)took,
		         (unsigned)deadline, (unsigned)hang_ms);
	assert_int_equal(s->o[0].status, AX_DISCOVER_TIMED_OUT);
	f->ctx = ax_ctx_unref(f->ctx);
	for (uint64_t i = 0; i < (hang_ms + SLACK_MS) / 10 && !atomic_load(&late_scan_logged); i++)
		sleep_ms(10);
	assert_true(atomic_load(&late_scan_logged));
	free(s);
}

struct canceller {
	ax_cancel *cancel;
	long after_ms;
};

static void *cancel_later(void *arg)
{
	struct canceller *c = arg;

	sleep_ms(c->after_ms);
	ax_cancel_trigger(c->cancel);
	return NULL;
}

static void test_discover__cancel(void **state)
{
	static const char *const silent_args[] = {"--eth",    "127.0.10.40", "--drop", "100",
	                                          "--serial", "4000",        NULL};
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct canceller c = {NULL, 0};
	simproc *silent = start_sim(silent_args, 1);
	struct seen *s = seen_new();
	pthread_t th;
	uint64_t t0, took;
	int ret;

	assert_int_equal(ax_cancel_new(&c.cancel), 0);
	assert_false(ax_cancel_requested(c.cancel));
	/* Late enough for the first result to arrive, far before the 20 s of the scans. */
	c.after_ms = (long)test_ms(150);
	o.timeout_ms = 20000;
	o.cancel = c.cancel;
	assert_int_equal(pthread_create(&th, NULL, cancel_later, &c), 0);
	t0 = now_ms();
	/*
	 * Long scans on both transports: a drive that never answers (addresses
	 * with nothing there end at once: port unreachable), and a wait of 20 s.
	 */
	ret = discover(f->ctx, "eth://127.0.10.40,testscan:?mode=wait&ms=20000&count=1", &o, s);
	took = now_ms() - t0;
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(ret, AX_ECANCELED);
	/* It stops at the cancel: not before, and not when the scans would end. */
	if (took + 10 < (uint64_t)c.after_ms || took >= (uint64_t)c.after_ms + SLACK_MS)
		fail_msg("took %u ms, cancelled after %ld ms", (unsigned)took, c.after_ms);
	assert_int_equal(s->n, 1); /* delivered before the cancel: stays delivered */
	assert_int_equal(outcome_of(s, "eth://127.0.10.40")->status, AX_DISCOVER_CANCELLED);
	assert_int_equal(outcome_of(s, "testscan:?mode=wait&ms=20000&count=1")->status,
	                 AX_DISCOVER_CANCELLED);
	free(s);

	/* Triggered before the call: nothing runs long. */
	s = seen_new();
	t0 = now_ms();
	assert_int_equal(discover(f->ctx, "testscan:?mode=wait&ms=20000", &o, s), AX_ECANCELED);
	assert_true(now_ms() - t0 < SLACK_MS);
	free(s);

	/* Reset, and cancelled from inside a callback. */
	ax_cancel_reset(c.cancel);
	assert_false(ax_cancel_requested(c.cancel));
	s = seen_new();
	s->cancel_on_first = c.cancel;
	t0 = now_ms();
	assert_int_equal(
	        discover(f->ctx, "testscan:?mode=wait&ms=20000&count=3&delay_ms=50", &o, s),
	        AX_ECANCELED);
	assert_true(now_ms() - t0 < 50 + SLACK_MS);
	assert_int_equal(s->n, 1);
	free(s);
	ax_cancel_unref(c.cancel);
	assert_null(ax_cancel_unref(NULL));
	assert_int_equal(simproc_stop(silent), 0);
}

static void test_discover__callback_stops(void **state)
{
	struct fixture *f = *state;
	struct seen *s = seen_new();

	s->stop_with = -77;
	assert_int_equal(discover(f->ctx, "testscan:?count=5,eth://127.0.10.0/27", NULL, s), -77);
	assert_int_equal(s->n, 1);
	free(s);
}

/* ---- dictionaries ---------------------------------------------------------------- */

static void test_discover__unknown_model(void **state)
{
	struct fixture *f = *state;
	ax_discover_options o = AX_DISCOVER_OPTIONS_INIT;
	struct seen *s = seen_new();
	char dir[] = "/tmp/axlink-discover-XXXXXX", path[64];
	ax_db *empty = NULL;

	/* A product no database knows. */
	assert_int_equal(discover(f->ctx, "testscan:?count=1&product=0x00DEAD00", NULL, s), 1);
	assert_int_equal(s->f[0].product, UNKNOWN_PRODUCT);
	assert_int_equal(s->f[0].match, AX_MATCH_NONE);
	assert_false(s->f[0].has_dict);
	assert_string_equal(s->f[0].model, "");
	assert_string_equal(s->f[0].dictionary, "");
	assert_non_null(strstr(s->f[0].hint, "axlink db import"));
	assert_string_equal(s->f[0].stable, "axlink://A71C/00DEAD00/100");
	free(s);

	/* The sixteen, resolved against an empty database only. */
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/empty.db", dir);
	assert_int_equal(ax_db_open(&empty, path, AX_DB_CREATE), 0);
	o.db = empty;
	s = seen_new();
	assert_int_equal(discover(f->ctx, "eth://127.0.10.0/27", &o, s), 16);
	for (size_t i = 0; i < s->n; i++) {
		assert_int_equal(s->f[i].match, AX_MATCH_NONE);
		assert_false(s->f[i].has_dict);
		assert_int_equal(s->f[i].access, AX_ACCESS_OK);
		assert_int_equal(s->f[i].product, AXS100_PRODUCT);
	}
	free(s);
	ax_db_unref(empty);
	unlink(path);
	rmdir(dir);

	/* Not asked for: no lookup, and no hint to import one. */
	o.db = NULL;
	o.flags = AX_DISCOVER_NO_RESOLVE;
	s = seen_new();
	assert_int_equal(discover(f->ctx, "testscan:?count=1", &o, s), 1);
	assert_int_equal(s->f[0].match, AX_MATCH_NONE);
	assert_non_null(strstr(s->f[0].reason, "not asked"));
	assert_string_equal(s->f[0].hint, "");
	free(s);
}

static void test_discover__access_denied(void **state)
{
	struct fixture *f = *state;
	struct seen *s = seen_new();

	/* Reported, with the plugin's hint, but not counted as usable. */
	assert_int_equal(discover(f->ctx, "testscan:?mode=denied", NULL, s), 0);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->f[0].access, AX_ACCESS_PERMISSION_DENIED);
	assert_string_equal(s->f[0].hint, "add yourself to group 'dialout'");
	assert_non_null(strstr(s->f[0].message, "permission denied"));
	assert_string_equal(s->f[0].stable, "");
	assert_int_equal(s->f[0].match, AX_MATCH_NONE);
	assert_int_equal(outcome_of(s, "testscan:?mode=denied")->reported, 1);
	assert_int_equal(outcome_of(s, "testscan:?mode=denied")->found, 0);
	free(s);
}

/* ---- stable identity URIs ----------------------------------------------------------- */

struct stable_case {
	const char *name;
	const char *uri;
	int want;
	const char *in_message;
};

static const struct stable_case stable_cases[] = {
        {"not_axlink", "eth://127.0.10.1", AX_EINVAL, "not a stable identity URI"},
        {"no_authority", "axlink:A71C/1/2", AX_EINVAL, "not a stable identity URI"},
        {"bad_vendor", "axlink://XYZ/00010064/1000", AX_EINVAL, "vendor 'XYZ'"},
        {"vendor_too_long", "axlink://123456789/00010064/1000", AX_EINVAL, "vendor"},
        {"port", "axlink://A71C:5/00010064/1000", AX_EINVAL, "vendor"},
        {"no_serial", "axlink://A71C/00010064", AX_EINVAL, "/PRODUCT/SERIAL"},
        {"bad_product", "axlink://A71C/0001006G/1000", AX_EINVAL, "/PRODUCT/SERIAL"},
        {"serial_hex", "axlink://A71C/00010064/0x10", AX_EINVAL, "serial number '0x10'"},
        {"serial_too_big", "axlink://A71C/00010064/4294967296", AX_EINVAL, "serial number"},
        {"unknown_key", "axlink://A71C/00010064/1000?x=1", AX_EUNKNOWNKEY, "valid keys: via"},
        {"bad_timeout", "axlink://A71C/00010064/1000?timeout_ms=0", AX_EINVAL, "timeout_ms"},
        {"bad_via", "axlink://A71C/00010064/1000?via=nosuch", AX_ENOTFOUND, "nosuch"},
};

static void test_discover__stable_uri(void **state)
{
	struct fixture *f = *state;
	char buf[64], *loc = NULL;
	ax_drive *d = NULL, *again = NULL;
	uint64_t t0, took;

	assert_int_equal(ax_discover_stable_uri(buf, sizeof(buf), VENDOR_ID, AXS100_PRODUCT, 1005),
	                 (int)strlen("axlink://A71C/00010064/1005"));
	assert_string_equal(buf, "axlink://A71C/00010064/1005");
	assert_int_equal(ax_discover_stable_uri(buf, sizeof(buf), 0x12345678u, 1, UINT32_MAX),
	                 (int)strlen("axlink://12345678/00000001/4294967295"));

	for (size_t i = 0; i < sizeof(stable_cases) / sizeof(stable_cases[0]); i++) {
		const struct stable_case *c = &stable_cases[i];
		int ret = ax_discover_locate(&loc, f->ctx, c->uri, 300);

		if (ret != c->want || !strstr(ax_error_last(), c->in_message))
			fail_msg("%s: got %d '%s', want %d with '%s'", c->name, ret,
			         ax_error_last(), c->want, c->in_message);
		assert_null(loc);
	}

	/* Found where it is, as soon as it answers. */
	t0 = now_ms();
	assert_int_equal(ax_discover_locate(&loc, f->ctx,
	                                    "axlink://a71c/0x00010064/1005?via=eth://127.0.10.0/27",
	                                    0),
	                 0);
	/* Before its deadline: the search stops at the drive. */
	took = now_ms() - t0;
	if (took >= test_ms(AX_DISCOVER_DEFAULT_TIMEOUT_MS))
		fail_msg("took %u ms", (unsigned)took);
	assert_string_equal(loc, "eth://127.0.10.6:1061");
	ax_free(loc);
	loc = NULL;

	/* Not there: the message says what was searched. */
	assert_int_equal(ax_discover_locate(&loc, f->ctx,
	                                    "axlink://A71C/00010064/999?via=eth://127.0.10.0/27"
	                                    "&timeout_ms=400",
	                                    0),
	                 AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "serial 999"));
	assert_non_null(strstr(ax_error_last(), "eth://127.0.10.0/27 (done)"));
	assert_null(loc);

	/* ax_drive_open() takes it, searching the default targets. */
	setenv("AXLINK_ETH_TARGETS", "127.0.10.0/27", 1);
	assert_int_equal(ax_drive_open(&d, f->ctx, "axlink://A71C/00010064/1003", NULL), 0);
	assert_string_equal(ax_drive_uri(d), "eth://127.0.10.4:1061");
	assert_int_equal(ax_drive_identity(d)->serial, 1003);
	assert_int_equal(ax_drive_match(d), AX_MATCH_EXACT);
	/* The same drive by its location is the same ax_drive. */
	assert_int_equal(ax_drive_open(&again, f->ctx, "eth://127.0.10.4:1061", NULL), 0);
	assert_ptr_equal(d, again);
	again = ax_drive_unref(again);
	d = ax_drive_unref(d);
	assert_int_equal(
	        ax_drive_open(&d, f->ctx, "axlink://A71C/00010064/77?timeout_ms=300", NULL),
	        AX_ENOTFOUND);
	assert_null(d);
}

/* ---- hot-plug --------------------------------------------------------------------------- */

struct event {
	int type;
	char uri[64];
	uint32_t serial;
};

struct watch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct event ev[64];
	size_t n;
	unsigned skipped_busy; /* outcomes saying a scan from an earlier round still runs */
	ax_ctx *ctx;
	const char *spec;
	ax_monitor_options opts;
	int ret;
};

static int on_event(int type, const ax_discover_result *r, void *userdata)
{
	struct watch *w = userdata;

	pthread_mutex_lock(&w->lock);
	if (w->n < 64) {
		w->ev[w->n].type = type;
		copy(w->ev[w->n].uri, sizeof(w->ev[w->n].uri), r->uri);
		w->ev[w->n].serial = r->serial;
		w->n++;
	}
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static int on_round_target(const ax_discover_transport *t, void *userdata)
{
	struct watch *w = userdata;

	pthread_mutex_lock(&w->lock);
	if (t->status == AX_DISCOVER_SKIPPED && strstr(t->message, "still running"))
		w->skipped_busy++;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static void *monitor_main(void *arg)
{
	struct watch *w = arg;

	w->ret = ax_monitor(w->ctx, w->spec, &w->opts, on_event, w);
	return NULL;
}

/* Wait until @count events of @type for @uri (NULL = any) were seen; 1 when they were. */
static int wait_events(struct watch *w, int type, const char *uri, size_t count, long ms)
{
	struct timespec ts;
	int ok = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	for (;;) {
		size_t k = 0;

		for (size_t i = 0; i < w->n; i++)
			k += w->ev[i].type == type && (!uri || !strcmp(w->ev[i].uri, uri));
		if (k >= count) {
			ok = 1;
			break;
		}
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&w->lock);
	return ok;
}

static size_t count_events(struct watch *w, int type)
{
	size_t k = 0;

	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->n; i++)
		k += w->ev[i].type == type;
	pthread_mutex_unlock(&w->lock);
	return k;
}

static void test_discover__hotplug(void **state)
{
	static const char *const a_args[] = {"--eth",    "127.0.10.100", "--count", "2",
	                                     "--serial", "2000",         NULL};
	static const char *const b_args[] = {"--eth", "127.0.10.102", "--serial", "3000", NULL};
	struct fixture *f = *state;
	struct watch *w = calloc(1, sizeof(*w));
	simproc *a, *b;
	pthread_t th;

	assert_non_null(w);
	a = start_sim(a_args, 2);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->ctx = f->ctx;
	/* The testscan target hangs through rounds: its drives must not flap. */
	w->spec = "eth://127.0.10.96/28,testscan:?mode=hang&ms=700&count=1&serial=9";
	w->opts = (ax_monitor_options)AX_MONITOR_OPTIONS_INIT;
	w->opts.period_ms = 250;
	w->opts.timeout_ms = 250;
	w->opts.misses = 1;
	w->opts.on_transport = on_round_target;
	assert_int_equal(ax_cancel_new(&w->opts.cancel), 0);
	assert_int_equal(pthread_create(&th, NULL, monitor_main, w), 0);

	/* Present at the start: added. */
	assert_true(wait_events(w, AX_MONITOR_ADDED, "eth://127.0.10.100:1061", 1, 3000));
	assert_true(wait_events(w, AX_MONITOR_ADDED, "eth://127.0.10.101:1061", 1, 3000));
	assert_true(wait_events(w, AX_MONITOR_ADDED, "testscan:9", 1, 3000));

	/* Appears. */
	b = start_sim(b_args, 1);
	assert_true(wait_events(w, AX_MONITOR_ADDED, "eth://127.0.10.102:1061", 1, 3000));
	/* Disappears: a drive that stops answering is removed, with its last record. */
	assert_int_equal(simproc_stop(b), 0);
	assert_true(wait_events(w, AX_MONITOR_REMOVED, "eth://127.0.10.102:1061", 1, 3000));
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->n; i++)
		if (w->ev[i].type == AX_MONITOR_REMOVED)
			assert_int_equal(w->ev[i].serial, 3000);
	pthread_mutex_unlock(&w->lock);
	/* Comes back: added again. */
	b = start_sim(b_args, 1);
	assert_true(wait_events(w, AX_MONITOR_ADDED, "eth://127.0.10.102:1061", 2, 3000));

	ax_cancel_trigger(w->opts.cancel);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w->ret, 0);
	/* Only .102 came and went; the hung target was skipped, not taken for empty. */
	assert_int_equal(count_events(w, AX_MONITOR_REMOVED), 1);
	assert_int_equal(count_events(w, AX_MONITOR_ADDED), 5);
	assert_true(w->skipped_busy > 0);
	assert_int_equal(simproc_stop(b), 0);
	assert_int_equal(simproc_stop(a), 0);
	ax_cancel_unref(w->opts.cancel);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

struct changes {
	int type[16];
	int access[16];
	int n;
	ax_cancel *cancel;
};

static int on_change(int type, const ax_discover_result *r, void *userdata)
{
	struct changes *c = userdata;

	assert_string_equal(r->uri, "testscan:flip");
	if (c->n < 16) {
		c->type[c->n] = type;
		c->access[c->n] = r->access;
		c->n++;
	}
	if (c->n == 3)
		ax_cancel_trigger(c->cancel);
	return 0;
}

/* A place that turns busy and back is changed, not removed and added. */
static void test_discover__monitor_changed(void **state)
{
	struct fixture *f = *state;
	ax_monitor_options o = AX_MONITOR_OPTIONS_INIT;
	struct changes c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(ax_cancel_new(&c.cancel), 0);
	o.period_ms = 20;
	o.misses = 1;
	o.cancel = c.cancel;
	assert_int_equal(ax_monitor(f->ctx, "testscan:?mode=flip&serial=77", &o, on_change, &c), 0);
	assert_int_equal(c.n, 3);
	/* The plugin's scans alternate, whichever the first one here was. */
	assert_int_equal(c.type[0], AX_MONITOR_ADDED);
	assert_int_equal(c.type[1], AX_MONITOR_CHANGED);
	assert_int_equal(c.type[2], AX_MONITOR_CHANGED);
	assert_int_not_equal(c.access[0], c.access[1]);
	assert_int_equal(c.access[0], c.access[2]);
	assert_true(c.access[0] == AX_ACCESS_OK || c.access[0] == AX_ACCESS_BUSY);
	assert_true(c.access[1] == AX_ACCESS_OK || c.access[1] == AX_ACCESS_BUSY);
	ax_cancel_unref(c.cancel);
}

static void test_discover__monitor_bad_input(void **state)
{
	struct fixture *f = *state;
	ax_monitor_options o = AX_MONITOR_OPTIONS_INIT;

	o.period_ms = -5;
	assert_int_equal(ax_monitor(f->ctx, "testscan", &o, on_event, NULL), AX_EINVAL);
	o.period_ms = 0;
	o.misses = -1;
	assert_int_equal(ax_monitor(f->ctx, "testscan", &o, on_event, NULL), AX_EINVAL);
	o.misses = 0;
	assert_int_equal(ax_monitor(f->ctx, "nosuch", &o, on_event, NULL), AX_ENOTFOUND);
	assert_string_equal(ax_monitor_event_name(AX_MONITOR_ADDED), "added");
	assert_string_equal(ax_monitor_event_name(AX_MONITOR_REMOVED), "removed");
	assert_string_equal(ax_monitor_event_name(AX_MONITOR_CHANGED), "changed");
	assert_null(ax_monitor_event_name(0));
	assert_null(ax_monitor_event_name(4));
	assert_string_equal(ax_discover_status_name(AX_DISCOVER_TIMED_OUT), "timed-out");
	assert_null(ax_discover_status_name(5));
	assert_null(ax_discover_status_name(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_discover__spec_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__bad_options, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__spec_split, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__default_targets, setup, teardown),
	        cmocka_unit_test(test_discover__local_subnets),
	        cmocka_unit_test_setup_teardown(test_discover__sixteen_drives, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__results_arrive_while_scans_run,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__overlapping_targets, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_discover__silent_and_hung_targets, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_discover__hung_scan_outlives_caller, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_discover__cancel, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__callback_stops, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__unknown_model, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__access_denied, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__stable_uri, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__hotplug, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__monitor_changed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_discover__monitor_bad_input, setup, teardown),
	};

	return cmocka_run_group_tests_name("discover", tests, group_setup, group_teardown);
}
