/* SPDX-License-Identifier: MIT */
/*
 * The poller against the in-process virtual drive and against axlink-sim
 * over UDP (127.0.11.1-9). Timing bounds are generous: these tests check
 * that sampling happens, is counted and is timestamped in order, not how
 * precisely a loaded CI machine keeps a period.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "support/simproc.h"

#define OK(expr)                                                                                   \
	do {                                                                                       \
		int ok_err_ = (expr);                                                              \
		if (ok_err_ < 0)                                                                   \
			fail_msg("%s: %d (%s)", #expr, ok_err_, ax_error_last());                  \
	} while (0)

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

static int ctx_up(void **state)
{
	*state = new_ctx();
	return 0;
}

static int ctx_down(void **state)
{
	ax_ctx_unref(*state);
	return 0;
}

static ax_drive *open_drive(ax_ctx *ctx, const char *uri)
{
	ax_drive_options o = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;

	o.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	if (ax_drive_open(&d, ctx, uri, &o) < 0)
		fail_msg("open '%s': %s", uri, ax_error_last());
	return d;
}

static simproc *sim_start(const char *addr, const char *delay_ms)
{
	const char *args[] = {"--eth", addr, "--serial", "4711", NULL, NULL, NULL};
	simproc *p = NULL;

	if (delay_ms) {
		args[4] = "--delay";
		args[5] = delay_ms;
	}
	if (simproc_start(&p, args, 1, 5000) < 0)
		fail_msg("axlink-sim did not start on %s", addr);
	return p;
}

/*
 * Make the drive behind @uri (eth://A.B.C.D:PORT, served by @sim) silent:
 * stop the simulator and bind a UDP socket in its place that never reads,
 * so requests neither get an answer nor a port-unreachable. Returns the
 * socket, to close.
 */
static int go_silent(simproc *sim, const char *uri)
{
	struct sockaddr_in sa;
	char host[32];
	unsigned port = 0;
	int fd;

	if (sscanf(uri, "eth://%31[0-9.]:%u", host, &port) != 2)
		fail_msg("unexpected simulator URI '%s'", uri);
	assert_int_equal(simproc_stop(sim), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("cannot bind the silent drive on %s:%u", host, port);
	return fd;
}

/* Drain the ring; checks that timestamps rise and returns the count. */
static size_t drain(ax_poller *p, double *last_t, double *col0_out)
{
	double t[64], v[64 * AX_POLLER_MAX_CHANNELS];
	size_t total = 0;
	int n;

	while ((n = ax_poller_read(p, t, v, 64)) > 0) {
		for (int i = 0; i < n; i++) {
			if (!(t[i] > *last_t))
				fail_msg("timestamp %.9f after %.9f", t[i], *last_t);
			*last_t = t[i];
		}
		if (col0_out)
			*col0_out = v[(size_t)(n - 1) * ax_poller_channels(p)];
		total += (size_t)n;
	}
	assert_true(n == 0);
	return total;
}

/* ==== arguments and channels ============================================ */

static void test_poller__bad_arguments(void **state)
{
	ax_poller *p = (ax_poller *)&p; /* must stay untouched */

	(void)state;
	assert_int_equal(ax_poller_new(&p, 0, 100), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "period"));
	assert_int_equal(ax_poller_new(&p, 99, 100), AX_EINVAL);
	assert_int_equal(ax_poller_new(&p, 60000001, 100), AX_EINVAL);
	assert_int_equal(ax_poller_new(&p, 1000, 1), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "capacity"));
	assert_ptr_equal(p, (ax_poller *)&p);
	p = NULL;
	OK(ax_poller_new(&p, 100, 2));
	assert_int_equal(ax_poller_start(p), AX_EINVAL); /* no channels */
	assert_non_null(strstr(ax_error_last(), "no channels"));
	assert_int_equal(ax_poller_stop(p), 0); /* not running: nothing to do */
	assert_null(ax_poller_free(p));
	assert_null(ax_poller_free(NULL));
}

static void test_poller__bad_register(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=1101");
	ax_poller *p = NULL;

	OK(ax_poller_new(&p, 1000, 16));
	assert_int_equal(ax_poller_add(p, d, "NO_SUCH_REGISTER", -1), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "NO_SUCH_REGISTER"));
	assert_int_equal(ax_poller_add(p, d, "DRV_APP_COCO_VERSION", -1), AX_ETYPE);
	assert_non_null(strstr(ax_error_last(), "'DRV_APP_COCO_VERSION' is a str"));
	assert_int_equal(ax_poller_channels(p), 0);
	assert_int_equal(ax_poller_add(p, d, "CL_POS_FBK_VALUE", 1), 0);
	assert_string_equal(ax_reg_id(ax_poller_channel_reg(p, 0)), "CL_POS_FBK_VALUE");
	assert_null(ax_poller_channel_reg(p, 1));
	p = ax_poller_free(p);
	d = ax_drive_unref(d);
}

static void test_poller__seventeen_channels_refused(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=1102");
	ax_poller *p = NULL;

	OK(ax_poller_new(&p, 1000, 16));
	for (int i = 0; i < AX_POLLER_MAX_CHANNELS; i++)
		assert_int_equal(ax_poller_add(p, d, "CL_POS_FBK_VALUE", 1), i);
	assert_int_equal(ax_poller_add(p, d, "CL_VEL_FBK_VALUE", 1), AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "at most 16 channels"));
	assert_int_equal(ax_poller_channels(p), AX_POLLER_MAX_CHANNELS);
	p = ax_poller_free(p);
	d = ax_drive_unref(d);
}

/* ==== sampling ============================================================ */

/* Two drives on one poller: a simulator over UDP and the in-process one. */
static void test_poller__udp_counts_and_timestamps(void **state)
{
	simproc *sim = sim_start("127.0.11.1", NULL);
	ax_drive *udp = open_drive(*state, simproc_uri(sim, 0));
	ax_drive *virt = open_drive(*state, "virtual:?serial=1103");
	double t[512], v[512 * 3], t_start, t_stop;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_poller *p = NULL;
	int n;

	OK(ax_poller_new(&p, 5000, 512));
	assert_int_equal(ax_poller_add(p, udp, "DRV_ID_SERIAL_NUMBER", 1), 0);
	assert_int_equal(ax_poller_add(p, udp, "CL_POS_FBK_VALUE", 1), 1);
	assert_int_equal(ax_poller_add(p, virt, "DRV_ID_SERIAL_NUMBER", 1), 2);
	t_start = now_s();
	OK(ax_poller_start(p));
	assert_true(ax_poller_running(p));
	assert_int_equal(ax_poller_start(p), AX_EBUSY);
	assert_int_equal(ax_poller_add(p, udp, "CL_VEL_FBK_VALUE", 1), AX_EBUSY);
	sleep_ms(500);
	OK(ax_poller_stop(p));
	t_stop = now_s();
	assert_false(ax_poller_running(p));

	n = ax_poller_read(p, t, v, 512);
	OK(ax_poller_stats_get(p, &st));
	/*
	 * Absolute deadlines: samples and lost deadlines together never
	 * outnumber the 5 ms periods of the run, however busy the machine (it
	 * only turns samples into lost deadlines).
	 */
	if (n < 5 || (double)(st.samples + st.lost) > st.elapsed_s / 0.005 + 3)
		fail_msg("%d samples, %llu lost in %.3f s at 5 ms", n, (unsigned long long)st.lost,
		         st.elapsed_s);
	assert_true(t[0] >= 0.0 && t[0] < 0.1);
	for (int i = 1; i < n; i++)
		if (!(t[i] > t[i - 1]))
			fail_msg("sample %d: %.9f after %.9f", i, t[i], t[i - 1]);
	/* The mean gap is the period, stretched only by the periods lost. */
	assert_int_equal(st.samples, (uint64_t)n);
	if (st.period_s < 0.004 || fabs(st.period_s - st.elapsed_s / (double)n) > 0.001)
		fail_msg("mean period %.6f s, %d samples in %.3f s", st.period_s, n, st.elapsed_s);
	/* It ran while it was running: between start and stop, at least the 500 ms slept. */
	assert_true(st.elapsed_s > 0.4 && st.elapsed_s <= t_stop - t_start + 0.001);
	assert_true(t[n - 1] - t[0] > 0.3);
	for (int i = 0; i < n; i++) {
		assert_true(v[i * 3 + 0] == 4711.0);
		assert_true(v[i * 3 + 2] == 1103.0);
		assert_false(isnan(v[i * 3 + 1]));
	}
	for (size_t c = 0; c < 3; c++)
		assert_int_equal(ax_poller_channel_errors(p, c), 0);
	assert_int_equal(ax_poller_read(p, t, v, 512), 0); /* drained */
	p = ax_poller_free(p);
	udp = ax_drive_unref(udp);
	virt = ax_drive_unref(virt);
	assert_int_equal(simproc_stop(sim), 0);
}

static void test_poller__read_while_sampling(void **state)
{
	simproc *sim = sim_start("127.0.11.2", NULL);
	ax_drive *d = open_drive(*state, simproc_uri(sim, 0));
	double last_t = -1.0;
	size_t total = 0, reads_with_data = 0;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_poller *p = NULL;

	/* A small ring: only reading while it samples keeps up with 2 ms for 400 ms. */
	OK(ax_poller_new(&p, 2000, 32));
	OK(ax_poller_add(p, d, "CL_POS_FBK_VALUE", 1));
	OK(ax_poller_start(p));
	for (int i = 0; i < 40; i++) {
		size_t got = drain(p, &last_t, NULL);

		total += got;
		reads_with_data += got > 0;
		sleep_ms(10);
	}
	OK(ax_poller_stop(p));
	total += drain(p, &last_t, NULL);
	OK(ax_poller_stats_get(p, &st));
	assert_int_equal(st.samples, total);
	assert_true(total > 32); /* more than the ring holds: the reads made room */
	assert_true(reads_with_data >= 10);
	assert_int_equal(st.overflows, 0);
	p = ax_poller_free(p);
	d = ax_drive_unref(d);
	assert_int_equal(simproc_stop(sim), 0);
}

static void test_poller__stop_and_restart(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=1104");
	double last_t = -1.0, end_first;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_poller *p = NULL;
	size_t n1, n2;
	uint64_t s1;

	OK(ax_poller_new(&p, 2000, 4096));
	OK(ax_poller_add(p, d, "DRV_ID_SERIAL_NUMBER", 1));
	OK(ax_poller_start(p));
	sleep_ms(100);
	OK(ax_poller_stop(p));
	OK(ax_poller_stop(p)); /* twice is harmless */
	OK(ax_poller_stats_get(p, &st));
	s1 = st.samples;
	assert_true(s1 >= 5);
	sleep_ms(100);
	OK(ax_poller_stats_get(p, &st));
	assert_int_equal(st.samples, s1); /* stopped means stopped */
	n1 = drain(p, &last_t, NULL);
	assert_int_equal(n1, s1);
	end_first = last_t;

	OK(ax_poller_start(p));
	sleep_ms(100);
	OK(ax_poller_stop(p));
	{
		double t[1], v[1];

		/* The first sample of the second run comes after the pause. */
		assert_int_equal(ax_poller_read(p, t, v, 1), 1);
		assert_true(t[0] - end_first > 0.09);
		last_t = t[0];
	}
	n2 = 1 + drain(p, &last_t, NULL);
	assert_true(n2 >= 5);
	OK(ax_poller_stats_get(p, &st));
	assert_int_equal(st.samples, n1 + n2);
	assert_true(st.elapsed_s > 0.18 && st.elapsed_s < 0.19 + 5.0);
	p = ax_poller_free(p);
	d = ax_drive_unref(d);
}

/* A 60 s period: the first sample comes at once, and stop does not wait the period out. */
static void test_poller__stop_is_prompt_with_long_period(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=1107");
	double t[4], v[4];
	ax_poller *p = NULL;
	double t0;

	OK(ax_poller_new(&p, 60000000, 4));
	OK(ax_poller_add(p, d, "DRV_ID_SERIAL_NUMBER", 1));
	OK(ax_poller_start(p));
	sleep_ms(50);
	t0 = now_s();
	OK(ax_poller_stop(p));
	assert_true(now_s() - t0 < 60.0 / 2); /* not the period out */
	assert_int_equal(ax_poller_read(p, t, v, 4), 1);
	assert_true(v[0] == 1107.0);
	p = ax_poller_free(p);
	d = ax_drive_unref(d);
}

/* The ring is full: further samples are dropped and counted, the oldest kept. */
static void test_poller__overflow_counted(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=1105");
	double t[8], v[8];
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_poller *p = NULL;

	OK(ax_poller_new(&p, 1000, 4));
	OK(ax_poller_add(p, d, "DRV_ID_SERIAL_NUMBER", 1));
	OK(ax_poller_start(p));
	sleep_ms(100);
	OK(ax_poller_stop(p));
	OK(ax_poller_stats_get(p, &st));
	assert_int_equal(st.samples, 4);
	assert_true(st.overflows > 10);
	assert_int_equal(ax_poller_read(p, t, v, 8), 4);
	/* A full ring drops the newest: what is kept are the run's first samples. */
	assert_true(t[0] < t[1] && t[1] < t[2] && t[2] < t[3]);
	assert_true(t[3] < st.elapsed_s / 2); /* from the start of the run, not its end */
	assert_true(v[3] == 1105.0);
	p = ax_poller_free(p);
	d = ax_drive_unref(d);
}

/* Replies 50 ms late against a 5 ms period: most deadlines are missed. */
static void test_poller__lost_when_simulator_stalls(void **state)
{
	simproc *sim = sim_start("127.0.11.3", "50");
	ax_drive *d = open_drive(*state, simproc_uri(sim, 0));
	double last_t = -1.0;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_poller *p = NULL;
	size_t n;

	OK(ax_link_set_timeout(ax_drive_link(d), 1000));
	OK(ax_poller_new(&p, 5000, 1024));
	OK(ax_poller_add(p, d, "CL_POS_FBK_VALUE", 1));
	OK(ax_poller_start(p));
	sleep_ms(600);
	OK(ax_poller_stop(p));
	n = drain(p, &last_t, NULL);
	OK(ax_poller_stats_get(p, &st));
	/* About 12 samples of 120 periods; bounds wide enough for any machine. */
	assert_true(n >= 3 && n <= 40);
	assert_true(st.lost >= 40);
	assert_true(st.period_s > 0.03);
	assert_int_equal(ax_poller_channel_errors(p, 0), 0); /* late, not failed */
	p = ax_poller_free(p);
	d = ax_drive_unref(d);
	assert_int_equal(simproc_stop(sim), 0);
}

/* A drive that stops answering: NaN values, channel errors, lost samples. */
static void test_poller__read_errors_counted(void **state)
{
	simproc *sim = sim_start("127.0.11.4", NULL);
	ax_drive *d = open_drive(*state, simproc_uri(sim, 0));
	ax_drive *virt = open_drive(*state, "virtual:?serial=1106");
	double t[256], v[256 * 2];
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_poller *p = NULL;
	int n;

	assert_int_equal(simproc_stop(sim), 0);
	OK(ax_link_set_timeout(ax_drive_link(d), 20));
	OK(ax_poller_new(&p, 10000, 256));
	OK(ax_poller_add(p, d, "CL_POS_FBK_VALUE", 1));
	OK(ax_poller_add(p, virt, "DRV_ID_SERIAL_NUMBER", 1));
	OK(ax_poller_start(p));
	/* Three samples of 2 x 20 ms timeouts: wait for them, however slow the machine. */
	for (int i = 0; i < 500; i++) {
		OK(ax_poller_stats_get(p, &st));
		if (st.samples >= 3)
			break;
		sleep_ms(20);
	}
	OK(ax_poller_stop(p));
	n = ax_poller_read(p, t, v, 256);
	assert_true(n >= 3);
	for (int i = 0; i < n; i++) {
		assert_true(isnan(v[i * 2]));
		assert_true(v[i * 2 + 1] == 1106.0); /* the other channel is unaffected */
	}
	OK(ax_poller_stats_get(p, &st));
	assert_true(ax_poller_channel_errors(p, 0) >= (uint64_t)n);
	assert_int_equal(ax_poller_channel_errors(p, 1), 0);
	assert_true(st.lost >= (uint64_t)n);
	p = ax_poller_free(p);
	d = ax_drive_unref(d);
	virt = ax_drive_unref(virt);
}

/* ==== stopping ============================================================= */

/*
 * A drive that stops answering, 4 channels, 2 s timeout: one sample takes
 * 4 channels x 2 tries x 2 s = 16 s. Stopping cancels the read in flight
 * and reads no further channel, so it takes far less than one timeout.
 */
static void test_poller__stop_cancels_read_in_flight(void **state)
{
	static const char *const regs[] = {"CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE",
	                                   "DRV_ID_SERIAL_NUMBER", "DRV_STATE_STATUS"};
	simproc *sim = sim_start("127.0.11.5", NULL);
	ax_drive *d = open_drive(*state, simproc_uri(sim, 0));
	int silent = go_silent(sim, ax_link_uri(ax_drive_link(d)));
	double t[4], v[4 * 4], t0, took;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_poller *p = NULL;

	OK(ax_link_set_timeout(ax_drive_link(d), 2000));
	OK(ax_poller_new(&p, 10000, 4));
	for (int i = 0; i < 4; i++)
		assert_int_equal(ax_poller_add(p, d, regs[i], 1), i);
	OK(ax_poller_start(p));
	sleep_ms(300); /* well into the first read */
	t0 = now_s();
	OK(ax_poller_stop(p));
	took = now_s() - t0;
	if (took > 1.0)
		fail_msg("ax_poller_stop took %.3f s with a 2 s timeout (bound 1 s)", took);
	assert_false(ax_poller_running(p));
	/* The interrupted sample is dropped, and the cancel is no channel's error. */
	assert_int_equal(ax_poller_read(p, t, v, 4), 0);
	OK(ax_poller_stats_get(p, &st));
	assert_int_equal(st.samples, 0);
	for (size_t c = 0; c < 4; c++)
		assert_int_equal(ax_poller_channel_errors(p, c), 0);

	/* Restarting and freeing while a read hangs are just as quick. */
	OK(ax_poller_start(p));
	sleep_ms(100);
	t0 = now_s();
	p = ax_poller_free(p);
	took = now_s() - t0;
	if (took > 1.0)
		fail_msg("ax_poller_free took %.3f s with a 2 s timeout (bound 1 s)", took);
	d = ax_drive_unref(d);
	close(silent);
}

struct other_user {
	ax_drive *drive;
	atomic_int stop;
	int reads, failures;
	int first_err;
	char first_msg[256];
};

static void *other_user_main(void *arg)
{
	struct other_user *u = arg;

	while (!atomic_load(&u->stop)) {
		uint32_t serial = 0;
		int err = ax_link_read_u32(ax_drive_link(u->drive), 1, 0x6E6, &serial);

		u->reads++;
		if (err < 0 || serial != 4711) {
			if (!u->failures++) {
				u->first_err = err;
				(void)snprintf(u->first_msg, sizeof(u->first_msg), "%s",
				               err < 0 ? ax_error_last() : "wrong value");
			}
		}
		/* A breath between requests: the link's lock is not fair, see below. */
		sleep_ms(2);
	}
	return NULL;
}

/*
 * Another thread reads through the same link while the poller is started
 * and stopped over and over: the poller's cancel must reach the poller's
 * own read only, never the other thread's request. (The other thread
 * pauses between requests: a thread that relocks the link back to back can
 * keep the poller waiting for the link's lock, which no cancel shortens.)
 */
static void test_poller__stop_spares_other_users_of_the_link(void **state)
{
	simproc *sim = sim_start("127.0.11.6", "30");
	struct other_user u;
	ax_poller *p = NULL;
	pthread_t th;
	double worst = 0.0;

	memset(&u, 0, sizeof(u));
	u.drive = open_drive(*state, simproc_uri(sim, 0));
	atomic_init(&u.stop, 0);
	OK(ax_link_set_timeout(ax_drive_link(u.drive), 2000));
	OK(ax_poller_new(&p, 1000, 1024));
	OK(ax_poller_add(p, u.drive, "CL_POS_FBK_VALUE", 1));
	assert_int_equal(pthread_create(&th, NULL, other_user_main, &u), 0);
	for (int i = 0; i < 30; i++) {
		double t0;

		OK(ax_poller_start(p));
		sleep_ms(45 + (i % 4) * 5); /* at most one cancelled read per request of u */
		t0 = now_s();
		OK(ax_poller_stop(p));
		if (now_s() - t0 > worst)
			worst = now_s() - t0;
	}
	atomic_store(&u.stop, 1);
	pthread_join(th, NULL);
	if (u.failures)
		fail_msg("%d of %d reads of the other user failed; first: %d (%s)", u.failures,
		         u.reads, u.first_err, u.first_msg);
	assert_true(u.reads >= 10);
	/* A stop waits for the other user's request (30 ms), not for a timeout. */
	if (worst > 1.0)
		fail_msg("the slowest stop took %.3f s", worst);
	p = ax_poller_free(p);
	u.drive = ax_drive_unref(u.drive);
	assert_int_equal(simproc_stop(sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_poller__bad_arguments),
	        cmocka_unit_test_setup_teardown(test_poller__bad_register, ctx_up, ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__seventeen_channels_refused, ctx_up,
	                                        ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__udp_counts_and_timestamps, ctx_up,
	                                        ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__read_while_sampling, ctx_up, ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__stop_and_restart, ctx_up, ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__overflow_counted, ctx_up, ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__stop_is_prompt_with_long_period,
	                                        ctx_up, ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__lost_when_simulator_stalls, ctx_up,
	                                        ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__read_errors_counted, ctx_up, ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__stop_cancels_read_in_flight, ctx_up,
	                                        ctx_down),
	        cmocka_unit_test_setup_teardown(test_poller__stop_spares_other_users_of_the_link,
	                                        ctx_up, ctx_down),
	};
	return cmocka_run_group_tests_name("poller", tests, NULL, NULL);
}
