/* SPDX-License-Identifier: MIT */
/*
 * Threads on one eth link, against the real simulator: a link serializes
 * whole requests, so with 8 threads doing 10^4 mixed reads and writes each,
 * every reply must match its request. Each thread owns one axis of an
 * 8-axis drive (axs-900) and writes values only it writes, so reading one
 * back proves the reply was its own; the identity registers read in
 * between have known values that differ from each other.
 *
 * Then what must not deadlock or crash: ax_link_cancel() from other threads
 * while requests wait (on the drive and on the link's lock), references
 * dropped while requests run, and links opened and closed in parallel on
 * one context.
 *
 * The shared-link test runs once per row of shared_link_cases: eth today;
 * a transport whose simulator front-end lands (serial over --pty, USB) adds
 * a row serving an axs-900 and gets the same 8 x 10^4 check.
 *
 * Addresses: 127.0.7.0/24, the robustness tests' range.
 *   127.0.7.20   the axs-900 (whole run)
 *   127.0.7.21   a drive that answers nothing (--drop 100, per test)
 *   127.0.7.22   the axs-900 of the eth row of shared_link_cases
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/axlink.h"
#include "simproc.h"

#define VENDOR_ID 0x0000A71Cu
#define AXS900_AXES 8
#define SERIAL 7200u

#define REG_AXES 0x0A0
#define REG_POS_SET 0x020
#define REG_MAX_VEL 0x025
#define REG_VENDOR 0x6E0
#define REG_PRODUCT 0x6E1
#define REG_SERIAL 0x6E6

#define N_THREADS 8
#define OPS_PER_THREAD 10000
#define SIM_START_MS 10000

/* A simulator serving one axs-900, and how its drive is reached. */
struct link_case {
	const char *name;
	const char *const *sim_args;
};

/* clang-format off */
static const char *const eth_axs900_args[] = {
	"--eth", "127.0.7.22", "--model", "axs-900", "--serial", "7200", NULL,
};
/* clang-format on */

static const struct link_case shared_link_cases[] = {
        {"eth", eth_axs900_args},
};

struct fixture {
	ax_ctx *ctx;
	simproc *sim;
	const char *uri; /* eth://127.0.7.20:1061 */
	ax_link *link;
	uint32_t product; /* read once, before the threads start */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static ax_ctx *new_ctx(void)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;

	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = dirs;
	if (ax_ctx_new(&ctx, &opts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	return ctx;
}

static ax_link *open_link(ax_ctx *ctx, const char *uri, int timeout_ms)
{
	ax_link_options opts = AX_LINK_OPTIONS_INIT;
	ax_link *link = NULL;

	opts.timeout_ms = timeout_ms;
	if (ax_link_open(&link, ctx, uri, &opts) < 0)
		fail_msg("open %s: %s", uri, ax_error_last());
	return link;
}

/* Open the case's drive and check it is the 8-axis model the threads need. */
static ax_link *open_axs900(ax_ctx *ctx, const char *uri, uint32_t *product)
{
	/* Long enough that a busy CI machine never turns a slow reply into a failure. */
	ax_link *link = open_link(ctx, uri, 2000);
	uint16_t axes = 0;

	if (ax_link_read_u16(link, 0, REG_AXES, &axes) < 0 ||
	    ax_link_read_u32(link, 0, REG_PRODUCT, product) < 0)
		fail_msg("%s: %s", uri, ax_error_last());
	if (axes != AXS900_AXES)
		fail_msg("%s reports %u axes, the test needs %d", uri, axes, AXS900_AXES);
	return link;
}

static int group_setup(void **state)
{
	/* clang-format off */
	static const char *const args[] = {
		"--eth", "127.0.7.20", "--model", "axs-900", "--serial", "7200", NULL,
	};
	/* clang-format on */
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	f->ctx = new_ctx();
	if (simproc_start(&f->sim, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	f->uri = simproc_uri(f->sim, 0);
	f->link = open_axs900(f->ctx, f->uri, &f->product);
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return -1;
	f->link = ax_link_unref(f->link);
	f->ctx = ax_ctx_unref(f->ctx);
	rc = simproc_stop(f->sim);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* ---- 8 threads x 10^4 requests on one link ------------------------------------------ */

struct mixer {
	ax_link *link;
	unsigned axis; /* 1..8: the subnode only this thread writes */
	uint32_t product;
	int ops;         /* requests made */
	int mismatches;  /* replies that were not this request's */
	int failures;    /* requests that failed */
	char first[200]; /* the first problem, for the failure message */
};

static void mixer_note(struct mixer *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mixer_note(struct mixer *m, const char *fmt, ...)
{
	va_list ap;

	if (m->first[0])
		return;
	va_start(ap, fmt);
	(void)vsnprintf(m->first, sizeof(m->first), fmt, ap);
	va_end(ap);
}

/* A request failed: count it, and keep the first message. */
static void mixer_failed(struct mixer *m, const char *what)
{
	m->failures++;
	mixer_note(m, "axis %u: %s: %s", m->axis, what, ax_error_last());
}

static void *mixer_main(void *arg)
{
	struct mixer *m = arg;
	/* Values only this thread writes: the axis in the top bits, a counter below. */
	int32_t base = (int32_t)(m->axis << 24);

	/* Ten problems tell the story; going on would only wait out timeouts. */
	for (int i = 0; m->ops < OPS_PER_THREAD && m->failures + m->mismatches < 10; i++) {
		int32_t pos = base + i, got_pos = 0;
		float vel = (float)m->axis + (float)(i % 1000) / 1024.0f, got_vel = 0;
		uint32_t u = 0;

		switch (i % 4) {
		case 0: /* write, read back: the reply is this thread's */
			m->ops += 2;
			if (ax_link_write_s32(m->link, m->axis, REG_POS_SET, pos) < 0)
				mixer_failed(m, "write position");
			else if (ax_link_read_s32(m->link, m->axis, REG_POS_SET, &got_pos) < 0)
				mixer_failed(m, "read position");
			else if (got_pos != pos) {
				m->mismatches++;
				mixer_note(m, "axis %u: wrote %d, read back %d", m->axis, pos,
				           got_pos);
			}
			break;
		case 1:
			m->ops += 2;
			if (ax_link_write_float(m->link, m->axis, REG_MAX_VEL, vel) < 0)
				mixer_failed(m, "write velocity");
			else if (ax_link_read_float(m->link, m->axis, REG_MAX_VEL, &got_vel) < 0)
				mixer_failed(m, "read velocity");
			else if (got_vel != vel) {
				m->mismatches++;
				mixer_note(m, "axis %u: wrote %g, read back %g", m->axis,
				           (double)vel, (double)got_vel);
			}
			break;
		case 2: /* identity registers: known, different from each other */
			m->ops++;
			if (ax_link_read_u32(m->link, 0, REG_VENDOR, &u) < 0)
				mixer_failed(m, "read vendor");
			else if (u != VENDOR_ID) {
				m->mismatches++;
				mixer_note(m, "axis %u: vendor read 0x%X", m->axis, (unsigned)u);
			}
			break;
		default:
			m->ops++;
			if (ax_link_read_u32(m->link, 0, (i / 4) % 2 ? REG_SERIAL : REG_PRODUCT,
			                     &u) < 0)
				mixer_failed(m, "read identity");
			else if (u != ((i / 4) % 2 ? SERIAL : m->product)) {
				m->mismatches++;
				mixer_note(m, "axis %u: %s read 0x%X", m->axis,
				           (i / 4) % 2 ? "serial" : "product", (unsigned)u);
			}
			break;
		}
	}
	return NULL;
}

static void hammer(ax_ctx *ctx, const struct link_case *c)
{
	struct mixer m[N_THREADS];
	pthread_t th[N_THREADS];
	simproc *sim = NULL;
	uint32_t product = 0;
	uint64_t t0;
	ax_link *link;
	long total = 0;

	if (simproc_start(&sim, c->sim_args, 1, SIM_START_MS) < 0)
		fail_msg("%s: cannot start axlink-sim (see stderr)", c->name);
	link = open_axs900(ctx, simproc_uri(sim, 0), &product);
	t0 = now_ms();
	for (int i = 0; i < N_THREADS; i++) {
		m[i] = (struct mixer){.link = link, .axis = (unsigned)i + 1, .product = product};
		assert_int_equal(pthread_create(&th[i], NULL, mixer_main, &m[i]), 0);
	}
	/* Every thread joined before any check can end the test. */
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < N_THREADS; i++) {
		if (m[i].mismatches || m[i].failures)
			fail_msg("%s: %d mismatched, %d failed of %d requests; first: %s", c->name,
			         m[i].mismatches, m[i].failures, m[i].ops, m[i].first);
		total += m[i].ops;
	}
	print_message("concurrency (%s): %ld requests from %d threads in %llu ms, all matched\n",
	              c->name, total, N_THREADS, (unsigned long long)(now_ms() - t0));
	assert_true(total >= (long)N_THREADS * OPS_PER_THREAD);
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
}

static void test_concurrency__threads_share_one_link(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(shared_link_cases) / sizeof(shared_link_cases[0]); i++)
		hammer(f->ctx, &shared_link_cases[i]);
}

/* ---- cancel ---------------------------------------------------------------------- */

struct waiter {
	ax_link *link;
	int live; /* the drive answers: vendor and serial reads alternate */
	int reads;
	int canceled, correct, stale, wrong, other;
	int last_err;
	atomic_int *done;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	for (int i = 0; i < w->reads; i++) {
		/* Two registers, so a late reply for the other one shows as a wrong value. */
		uint32_t reg = i % 2 ? REG_SERIAL : REG_VENDOR, want = i % 2 ? SERIAL : VENDOR_ID;
		uint32_t v = 0;
		int err = ax_link_read_u32(w->link, 0, reg, &v);

		if (err == AX_ECANCELED)
			w->canceled++;
		else if (err == AX_EADDR)
			w->stale++; /* reported: two cancelled requests' replies crossed this one */
		else if (err == 0 && w->live && v == want)
			w->correct++;
		else if (err == 0)
			w->wrong++;
		else {
			w->other++;
			w->last_err = err;
		}
	}
	atomic_fetch_add(w->done, 1);
	return NULL;
}

/*
 * Four threads read from a drive that never answers, on one link with a 3 s
 * timeout: one waits on the socket, three on the link's lock. Cancelling
 * from the main thread must release each in turn; without cancel they would
 * take 4 x 2 tries x 3 s = 24 s.
 */
static void test_concurrency__cancel_releases_every_waiter(void **state)
{
	static const char *const args[] = {"--eth", "127.0.7.21", "--drop", "100", NULL};
	struct fixture *f = *state;
	simproc *sim = NULL;
	ax_link *link;
	struct waiter w[4];
	pthread_t th[4];
	atomic_int done;
	uint64_t t0;
	uint32_t v = 0;

	if (simproc_start(&sim, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	link = open_link(f->ctx, simproc_uri(sim, 0), 3000);
	atomic_init(&done, 0);
	t0 = now_ms();
	for (int i = 0; i < 4; i++) {
		w[i] = (struct waiter){.link = link, .reads = 1, .done = &done};
		assert_int_equal(pthread_create(&th[i], NULL, waiter_main, &w[i]), 0);
	}
	/* A cancel reaching no request is dropped by design: keep cancelling until all return. */
	while (atomic_load(&done) < 4 && now_ms() - t0 < 10000) {
		assert_int_equal(ax_link_cancel(link), 0);
		sleep_ms(5);
	}
	if (atomic_load(&done) < 4)
		fail_msg("%d of 4 readers still blocked 10 s after the first cancel: deadlock",
		         4 - atomic_load(&done));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (w[i].canceled != 1)
			fail_msg("reader %d: %s, want AX_ECANCELED", i,
			         ax_error_name(w[i].last_err));
	}
	print_message("cancel: 4 blocked readers released in %llu ms\n",
	              (unsigned long long)(now_ms() - t0));
	assert_true(now_ms() - t0 < 6000);

	/* The link is still usable: the next request waits its full course again. */
	assert_int_equal(ax_link_set_timeout(link, 50), 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), AX_ETIMEDOUT);
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
}

struct storm {
	ax_link *link;
	atomic_int *stop;
	long cancels;
};

static void *storm_main(void *arg)
{
	struct storm *s = arg;

	while (!atomic_load(s->stop)) {
		if (ax_link_cancel(s->link) == 0)
			s->cancels++;
		sleep_ms(1);
	}
	return NULL;
}

/*
 * Two threads cancel in a loop while four read from a live drive: each read
 * gives the right value or a reported error (AX_ECANCELED, or AX_EADDR when
 * late replies to cancelled requests cross it), never a wrong value: a
 * cancelled request's reply must not answer the next one. Nothing hangs,
 * and once the storm stops every read succeeds again.
 */
static void test_concurrency__cancel_storm_never_gives_a_wrong_value(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f->ctx, f->uri, 2000);
	struct waiter w[4];
	struct storm s[2];
	pthread_t rt[4], st[2];
	atomic_int stop, done;
	int canceled = 0, correct = 0, stale = 0;
	uint32_t v = 0;

	atomic_init(&stop, 0);
	atomic_init(&done, 0);
	for (int i = 0; i < 2; i++) {
		s[i] = (struct storm){.link = link, .stop = &stop};
		assert_int_equal(pthread_create(&st[i], NULL, storm_main, &s[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		w[i] = (struct waiter){.link = link, .live = 1, .reads = 1500, .done = &done};
		assert_int_equal(pthread_create(&rt[i], NULL, waiter_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(rt[i], NULL), 0);
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(st[i], NULL), 0);
	for (int i = 0; i < 4; i++) {
		if (w[i].wrong)
			fail_msg("reader %d: %d wrong value(s)", i, w[i].wrong);
		if (w[i].other)
			fail_msg("reader %d: %d read(s) neither right nor cancelled; last %s", i,
			         w[i].other, ax_error_name(w[i].last_err));
		canceled += w[i].canceled;
		correct += w[i].correct;
		stale += w[i].stale;
	}
	print_message("cancel storm: %d reads right, %d cancelled, %d crossed by late replies, "
	              "%ld cancels sent\n",
	              correct, canceled, stale, s[0].cancels + s[1].cancels);
	assert_int_equal(correct + canceled + stale, 4 * 1500);
	assert_true(correct > 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), 0);
		assert_int_equal(v, VENDOR_ID);
	}
	ax_link_unref(link);
}

/* ---- references dropped while requests run -------------------------------------------- */

struct holder {
	ax_link *link; /* this thread's own reference, dropped by the thread */
	unsigned axis;
	int ops;
	int bad;
};

static void *holder_main(void *arg)
{
	struct holder *h = arg;

	for (int i = 0; i < h->ops; i++) {
		int32_t v = 0;

		if (ax_link_write_s32(h->link, h->axis, REG_POS_SET, -i) < 0 ||
		    ax_link_read_s32(h->link, h->axis, REG_POS_SET, &v) < 0 || v != -i)
			h->bad++;
	}
	/* Dropped while the others still run; whichever thread is last closes the link. */
	h->link = ax_link_unref(h->link);
	return NULL;
}

/*
 * The opener drops its reference, and the context's, as soon as the threads
 * start; each thread stops after a different number of requests and drops
 * its own. The endpoint closes with the last reference, never under a
 * running request (ASan and valgrind see a use after free if it did).
 */
static void test_concurrency__references_dropped_while_requests_run(void **state)
{
	struct fixture *f = *state;
	ax_ctx *ctx = new_ctx();
	ax_link *link = open_link(ctx, f->uri, 2000);
	struct holder h[N_THREADS];
	pthread_t th[N_THREADS];

	for (int i = 0; i < N_THREADS; i++) {
		h[i] = (struct holder){
		        .link = ax_link_ref(link), .axis = (unsigned)i + 1, .ops = 50 + 40 * i};
		assert_int_equal(pthread_create(&th[i], NULL, holder_main, &h[i]), 0);
	}
	link = ax_link_unref(link);
	ctx = ax_ctx_unref(ctx); /* the links keep it alive */
	assert_null(link);
	assert_null(ctx);
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < N_THREADS; i++) {
		assert_int_equal(h[i].bad, 0);
		assert_null(h[i].link);
	}
}

/* ---- links opened and closed in parallel ------------------------------------------ */

struct churner {
	ax_ctx *ctx;
	const char *uri;
	int rounds;
	int bad;
	char first[200];
};

static void *churner_main(void *arg)
{
	struct churner *c = arg;

	for (int i = 0; i < c->rounds; i++) {
		ax_link_options opts = AX_LINK_OPTIONS_INIT;
		ax_link *link = NULL;
		uint32_t v = 0;

		opts.timeout_ms = 2000;
		if (ax_link_open(&link, c->ctx, c->uri, &opts) < 0 ||
		    ax_link_read_u32(link, 0, REG_SERIAL, &v) < 0 || v != SERIAL) {
			if (!c->bad++)
				(void)snprintf(c->first, sizeof(c->first), "round %d: %s (0x%X)", i,
				               ax_error_last(), (unsigned)v);
		}
		ax_link_unref(link);
	}
	return NULL;
}

/* One context, eight threads opening, using and closing their own links. */
static void test_concurrency__open_close_in_parallel(void **state)
{
	struct fixture *f = *state;
	struct churner c[N_THREADS];
	pthread_t th[N_THREADS];

	for (int i = 0; i < N_THREADS; i++) {
		c[i] = (struct churner){.ctx = f->ctx, .uri = f->uri, .rounds = 200};
		assert_int_equal(pthread_create(&th[i], NULL, churner_main, &c[i]), 0);
	}
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < N_THREADS; i++) {
		if (c[i].bad)
			fail_msg("thread %d: %d bad round(s); first: %s", i, c[i].bad, c[i].first);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_concurrency__threads_share_one_link),
	        cmocka_unit_test(test_concurrency__cancel_releases_every_waiter),
	        cmocka_unit_test(test_concurrency__cancel_storm_never_gives_a_wrong_value),
	        cmocka_unit_test(test_concurrency__references_dropped_while_requests_run),
	        cmocka_unit_test(test_concurrency__open_close_in_parallel),
	};

	return cmocka_run_group_tests_name("concurrency", tests, group_setup, group_teardown);
}
