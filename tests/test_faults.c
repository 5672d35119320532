/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: the real eth transport against axlink-sim losing 10 % of
 * the requests it receives and corrupting 1 % of its replies (one bit under
 * the CRC), and against a simulator whose replies come late enough to
 * cross the next request. Each typed read must give the register's correct
 * value or a reported error, never a wrong value, and the number of errors
 * must fit the fault rates.
 *
 * Why the expected error count: a try fails when its request is dropped
 * (p = 0.10) or its reply arrives corrupted and is ignored (0.90 x 0.01), so
 * p_try ~ 0.109; a read fails only when its resend fails too, p_try^2 ~
 * 0.0119, i.e. ~119 in 10^4 (Poisson, sd ~11). The bounds below (12 and
 * 1000) are far outside anything but a broken transport or simulator.
 *
 * The registers read hold distinct known values (identity, per-drive
 * serial, and values this test writes first), so a reply that answered
 * another request, or a corrupted one taken for good, shows as a wrong value.
 *
 * Which transports: the rows of fault_cases, one per way axlink-sim serves
 * drives. eth is there; a transport whose simulator front-end lands (the
 * serial one over --pty, USB) adds a row with its arguments, and the same
 * checks run on it.
 *
 * Addresses: 127.0.7.0/24, the robustness tests' range.
 *   127.0.7.1-4   four drives with --drop 10 --corrupt 1 (eth row)
 *   127.0.7.8     one drive with --delay (per test)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/axlink.h"
#include "simproc.h"

#define VENDOR_ID 0x0000A71Cu
#define AXS100_PRODUCT 0x00010064u
#define AXS100_AXES 1

#define REG_AXES 0x0A0
#define REG_POS_SET 0x020
#define REG_MAX_VEL 0x025
#define REG_VENDOR 0x6E0
#define REG_PRODUCT 0x6E1
#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6

#define MAX_DRIVES 4
#define FIRST_SERIAL 7100u
#define READS_TOTAL 10000
#define SIM_START_MS 10000

/* One way of reaching drives that lose and corrupt frames. */
struct fault_case {
	const char *name;
	const char *const *sim_args; /* axlink-sim arguments: drives and faults */
	size_t n_drives;             /* URIs it prints; each gets a link and a thread */
	int try_ms;                  /* the links' timeout per try */
};

/* clang-format off */
static const char *const eth_fault_args[] = {
	"--eth", "127.0.7.1", "--count", "4", "--serial", "7100",
	"--drop", "10", "--corrupt", "1", "--seed", "20240611", NULL,
};
/* clang-format on */

static const struct fault_case fault_cases[] = {
        /* A loopback round trip takes well under 1 ms, even under ASan or valgrind. */
        {"eth", eth_fault_args, 4, 15},
};

/* One read of the mix: what kind, and the counters it feeds. */
enum read_kind { RK_VENDOR, RK_PRODUCT, RK_SERIAL, RK_AXES, RK_POS, RK_VEL, RK_SW, RK_COUNT };

/* clang-format off */
static const char *const kind_names[RK_COUNT] = {
	"vendor u32", "product u32", "serial u32", "axes u16", "position s32", "velocity float",
	"version str",
};
/* clang-format on */

struct expect {
	uint32_t serial;
	int32_t pos;
	float vel;
	const char *sw;
};

struct tally {
	long ok;
	long wrong; /* must stay 0 */
	long timedout;
	long stale;      /* AX_EADDR: a late reply crossed the request, reported */
	long other;      /* any other code: must stay 0 */
	long no_message; /* an error without its endpoint in the message: must stay 0 */
	char first_wrong[256];
	char first_other[256];
};

struct worker {
	ax_link *link;
	const char *uri;
	char endpoint[128]; /* the URI without scheme and query: what messages quote */
	struct expect want;
	int reads;
	struct tally t;
};

struct fixture {
	ax_ctx *ctx;
	char sw[128]; /* the simulated axs-100's version text */
};

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

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	ax_link *virt = NULL;
	char *sw = NULL;

	assert_non_null(f);
	*state = f;
	f->ctx = new_ctx();
	/* The version text is the simulated drive's, the same in process as over UDP. */
	if (ax_link_open(&virt, f->ctx, "virtual:?model=axs-100", NULL) < 0 ||
	    ax_link_read_str(virt, 0, REG_SW_VERSION, &sw) < 0)
		fail_msg("virtual drive: %s", ax_error_last());
	(void)snprintf(f->sw, sizeof(f->sw), "%s", sw);
	ax_free(sw);
	ax_link_unref(virt);
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return -1;
	f->ctx = ax_ctx_unref(f->ctx);
	free(f);
	return 0;
}

/* A write that may be lost: retried until it is acknowledged. */
static void write_s32_until_acked(ax_link *link, unsigned subnode, uint32_t address, int32_t v)
{
	for (int i = 0; i < 50; i++)
		if (ax_link_write_s32(link, subnode, address, v) == 0)
			return;
	fail_msg("write of %d to 0x%03X not acknowledged in 50 tries: %s", v, (unsigned)address,
	         ax_error_last());
}

static void write_float_until_acked(ax_link *link, unsigned subnode, uint32_t address, float v)
{
	for (int i = 0; i < 50; i++)
		if (ax_link_write_float(link, subnode, address, v) == 0)
			return;
	fail_msg("write of %g to 0x%03X not acknowledged in 50 tries: %s", (double)v,
	         (unsigned)address, ax_error_last());
}

static void note(char *slot, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void note(char *slot, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (slot[0])
		return; /* the first one tells the story */
	va_start(ap, fmt);
	(void)vsnprintf(slot, cap, fmt, ap);
	va_end(ap);
}

/* Count one outcome: @good says whether a successful read gave the expected value. */
static void count(struct worker *w, enum read_kind k, int err, int good, const char *got)
{
	struct tally *t = &w->t;

	if (err == 0 && good) {
		t->ok++;
		return;
	}
	if (err == 0) {
		t->wrong++;
		note(t->first_wrong, sizeof(t->first_wrong), "%s on %s read %s", kind_names[k],
		     w->uri, got);
		return;
	}
	/* Every error names the endpoint, so a machine with 16 drives says which one. */
	if (!strstr(ax_error_last(), w->endpoint))
		t->no_message++;
	if (err == AX_ETIMEDOUT)
		t->timedout++;
	else if (err == AX_EADDR)
		t->stale++;
	else {
		t->other++;
		note(t->first_other, sizeof(t->first_other), "%s on %s: %s (%s)", kind_names[k],
		     w->uri, ax_error_name(err), ax_error_last());
	}
}

static void read_one(struct worker *w, enum read_kind k)
{
	char got[96] = "";
	int err = 0, good = 0;

	switch (k) {
	case RK_VENDOR:
	case RK_PRODUCT:
	case RK_SERIAL: {
		static const uint32_t addr[] = {REG_VENDOR, REG_PRODUCT, REG_SERIAL};
		uint32_t want = k == RK_VENDOR    ? VENDOR_ID
		                : k == RK_PRODUCT ? AXS100_PRODUCT
		                                  : w->want.serial;
		uint32_t v = 0;

		err = ax_link_read_u32(w->link, 0, addr[k], &v);
		good = v == want;
		(void)snprintf(got, sizeof(got), "0x%X, want 0x%X", (unsigned)v, (unsigned)want);
		break;
	}
	case RK_AXES: {
		uint16_t v = 0;

		err = ax_link_read_u16(w->link, 0, REG_AXES, &v);
		good = v == AXS100_AXES;
		(void)snprintf(got, sizeof(got), "%u, want %u", (unsigned)v, AXS100_AXES);
		break;
	}
	case RK_POS: {
		int32_t v = 0;

		err = ax_link_read_s32(w->link, 1, REG_POS_SET, &v);
		good = v == w->want.pos;
		(void)snprintf(got, sizeof(got), "%d, want %d", v, w->want.pos);
		break;
	}
	case RK_VEL: {
		float v = 0;

		err = ax_link_read_float(w->link, 1, REG_MAX_VEL, &v);
		good = v == w->want.vel;
		(void)snprintf(got, sizeof(got), "%g, want %g", (double)v, (double)w->want.vel);
		break;
	}
	case RK_SW:
	default: {
		char *s = NULL;

		err = ax_link_read_str(w->link, 0, REG_SW_VERSION, &s);
		good = err == 0 && !strcmp(s, w->want.sw);
		(void)snprintf(got, sizeof(got), "'%.30s', want '%.30s'", s ? s : "", w->want.sw);
		ax_free(s);
		break;
	}
	}
	count(w, k, err, good, got);
}

/* "eth://127.0.7.1:1061?x=1" -> "127.0.7.1:1061"; "serial:/dev/pts/3" -> "/dev/pts/3". */
static void set_endpoint(struct worker *w)
{
	const char *p = strstr(w->uri, "://");

	p = p ? p + 3 : strchr(w->uri, ':') + 1;
	(void)snprintf(w->endpoint, sizeof(w->endpoint), "%.*s", (int)strcspn(p, "?"), p);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	set_endpoint(w);
	for (int i = 0; i < w->reads; i++)
		read_one(w, (enum read_kind)(i % RK_COUNT));
	return NULL;
}

static void assert_clean(const struct tally *t, const char *what)
{
	if (t->wrong)
		fail_msg("%s: %ld wrong value(s); first: %s", what, t->wrong, t->first_wrong);
	if (t->other)
		fail_msg("%s: %ld unexpected error(s); first: %s", what, t->other, t->first_other);
	if (t->no_message)
		fail_msg("%s: %ld error(s) without the endpoint in the message", what,
		         t->no_message);
}

/*
 * 10^4 typed reads spread over the case's drives, one link and one thread
 * each (so the timeouts overlap and the test takes seconds, not a minute).
 */
static void run_fault_case(struct fixture *f, const struct fault_case *c)
{
	struct worker w[MAX_DRIVES];
	pthread_t th[MAX_DRIVES];
	struct tally sum = {0};
	simproc *sim = NULL;
	long errors;

	assert_true(c->n_drives >= 1 && c->n_drives <= MAX_DRIVES);
	if (simproc_start(&sim, c->sim_args, c->n_drives, SIM_START_MS) < 0)
		fail_msg("%s: cannot start axlink-sim (see stderr)", c->name);
	for (size_t i = 0; i < c->n_drives; i++) {
		w[i] = (struct worker){
		        .uri = simproc_uri(sim, i),
		        .reads = READS_TOTAL / (int)c->n_drives,
		        .want = {FIRST_SERIAL + (uint32_t)i, -100000 - 7 * (int32_t)i,
		                 2.5f + (float)i, f->sw},
		};
		w[i].link = open_link(f->ctx, w[i].uri, c->try_ms);
		write_s32_until_acked(w[i].link, 1, REG_POS_SET, w[i].want.pos);
		write_float_until_acked(w[i].link, 1, REG_MAX_VEL, w[i].want.vel);
	}
	for (size_t i = 0; i < c->n_drives; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	for (size_t i = 0; i < c->n_drives; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (size_t i = 0; i < c->n_drives; i++) {
		assert_clean(&w[i].t, w[i].uri);
		sum.ok += w[i].t.ok;
		sum.timedout += w[i].t.timedout;
		sum.stale += w[i].t.stale;
		w[i].link = ax_link_unref(w[i].link);
	}
	assert_int_equal(simproc_stop(sim), 0);
	errors = sum.timedout + sum.stale;
	print_message("faults (%s): %d reads: %ld correct, %ld timed out, %ld late-reply "
	              "errors (expected ~119 errors)\n",
	              c->name, w[0].reads * (int)c->n_drives, sum.ok, sum.timedout, sum.stale);
	assert_int_equal(sum.ok + errors, (long)w[0].reads * (long)c->n_drives);
	/* The faults happened: with p ~ 0.0119 per read, fewer than 12 is not chance. */
	if (errors < 12)
		fail_msg("%s: only %ld errors in %d reads: is --drop/--corrupt in effect?", c->name,
		         errors, READS_TOTAL);
	/* And the transport recovers what one resend can: over 10 % would mean it does not. */
	if (errors > READS_TOTAL / 10)
		fail_msg("%s: %ld errors in %d reads: the resend does not recover lost frames",
		         c->name, errors, READS_TOTAL);
}

static void test_faults__drop_and_corrupt(void **state)
{
	for (size_t i = 0; i < sizeof(fault_cases) / sizeof(fault_cases[0]); i++)
		run_fault_case(*state, &fault_cases[i]);
}

/*
 * Replies 6 ms late on a 4 ms timeout: every first try times out, the answer
 * to it arrives during the resend, and the answer to the resend arrives
 * during the next request (for another register). Late replies must be
 * taken for what they answer: the right value, or a reported error, never
 * the value of another register.
 */
static void test_faults__late_replies_never_give_a_wrong_value(void **state)
{
	/* clang-format off */
	static const char *const args[] = {
		"--eth", "127.0.7.8", "--serial", "7108", "--delay", "6", NULL,
	};
	/* clang-format on */
	struct fixture *f = *state;
	struct worker w = {.reads = 280};
	simproc *sim = NULL;

	if (simproc_start(&sim, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	w.uri = simproc_uri(sim, 0);
	w.want = (struct expect){7108, 424242, 0.75f, f->sw};
	w.link = open_link(f->ctx, w.uri, 4);
	write_s32_until_acked(w.link, 1, REG_POS_SET, w.want.pos);
	write_float_until_acked(w.link, 1, REG_MAX_VEL, w.want.vel);
	(void)worker_main(&w);
	print_message("late replies: %d reads: %ld correct, %ld timed out, %ld late-reply "
	              "errors\n",
	              w.reads, w.t.ok, w.t.timedout, w.t.stale);
	assert_clean(&w.t, w.uri);
	assert_int_equal(w.t.ok + w.t.timedout + w.t.stale, w.reads);
	/* The resend's wait is where the first answer lands: most reads get through. */
	assert_true(w.t.ok > 0);
	w.link = ax_link_unref(w.link);
	assert_int_equal(simproc_stop(sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_faults__drop_and_corrupt),
	        cmocka_unit_test(test_faults__late_replies_never_give_a_wrong_value),
	};

	return cmocka_run_group_tests_name("faults", tests, group_setup, group_teardown);
}
