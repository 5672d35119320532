/* SPDX-License-Identifier: MIT */
/*
 * Batches (axlink/batch.h, issue 21): reads on many links at once against
 * the real simulator over UDP loopback.
 *
 *   127.0.22.1-8    eight drives, serials 3000..3007 (whole run)
 *   127.0.22.9      a drive that loses every request (--drop 100 there only)
 *   127.0.22.30-33  four drives answering 40 ms late (poller test)
 *   127.0.22.100    nothing: port unreachable
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
#include "testctx.h"
#include "simproc.h"
#include "support/timing.h"

#define SIM_START_MS 10000
#define DRIVES 8
#define SERIAL0 3000u
#define REG_SERIAL 0x6E6
#define REG_UNKNOWN 0x7FF
/* The link timeout of the drive that never answers: what a prompt end is told from. */
#define DEAD_TIMEOUT_MS 5000

struct fixture {
	ax_ctx *ctx;
	simproc *sim;
	ax_link *links[DRIVES];
	ax_link *dead;   /* 127.0.22.9: never answers; 5 s timeout */
	ax_link *nobody; /* 127.0.22.100: port unreachable */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static ax_link *open_link(ax_ctx *ctx, const char *uri, int timeout_ms)
{
	ax_link_options o = AX_LINK_OPTIONS_INIT;
	ax_link *link = NULL;

	o.timeout_ms = timeout_ms;
	if (ax_link_open(&link, ctx, uri, &o) < 0)
		fail_msg("open %s: %s", uri, ax_error_last());
	return link;
}

static int group_setup(void **state)
{
	static const char *const args[] = {"--eth",        "127.0.22.1", "--count", "9",
	                                   "--serial",     "3000",       "--drop",  "100",
	                                   "--fault-only", "127.0.22.9", NULL};
	struct fixture *f = calloc(1, sizeof(*f));
	char uri[64];

	assert_non_null(f);
	*state = f;
	f->ctx = new_ctx();
	if (simproc_start(&f->sim, args, 9, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	for (int i = 0; i < DRIVES; i++) {
		(void)snprintf(uri, sizeof(uri), "eth://127.0.22.%d", i + 1);
		f->links[i] = open_link(f->ctx, uri, 1000);
	}
	f->dead = open_link(f->ctx, "eth://127.0.22.9", DEAD_TIMEOUT_MS);
	f->nobody = open_link(f->ctx, "eth://127.0.22.100", 1000);
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	for (int i = 0; i < DRIVES; i++)
		ax_link_unref(f->links[i]);
	ax_link_unref(f->dead);
	ax_link_unref(f->nobody);
	(void)simproc_stop(f->sim);
	ax_ctx_unref(f->ctx);
	free(f);
	return 0;
}

static uint32_t le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* One read on each drive: every result is that drive's own serial number. */
static void test_batch__reads_each_drive(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	for (int i = 0; i < DRIVES; i++) {
		size_t index = 99;

		assert_int_equal(ax_batch_add_read(b, f->links[i], 0, REG_SERIAL, &index), 0);
		assert_int_equal(index, (size_t)i);
	}
	assert_int_equal(ax_batch_count(b), DRIVES);
	/* Twice: a batch runs again with the same reads and the threads it has. */
	for (int run = 0; run < 2; run++) {
		assert_int_equal(ax_batch_run(b, 2000, NULL), 0);
		for (int i = 0; i < DRIVES; i++) {
			const void *data = NULL;
			size_t len = 0;

			assert_int_equal(ax_batch_result(b, (size_t)i, &data, &len), 0);
			assert_non_null(data);
			assert_true(len >= 4);
			assert_int_equal(le32(data), SERIAL0 + (uint32_t)i);
			assert_null(ax_batch_error(b, (size_t)i));
		}
	}
	/* Past the end: no result, no crash. */
	assert_int_equal(ax_batch_result(b, DRIVES, NULL, NULL), AX_EINVAL);
	ax_batch_clear(b);
	assert_int_equal(ax_batch_count(b), 0);
	assert_int_equal(ax_batch_run(b, 100, NULL), 0);
	b = ax_batch_free(b);
}

/* Several reads on one link take turns and all succeed, in order. */
static void test_batch__reads_on_one_link_take_turns(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;
	int rc;

	assert_int_equal(ax_batch_new(&b, 4), 0);
	for (int i = 0; i < 12; i++)
		assert_int_equal(ax_batch_add_read(b, f->links[i % 2], 0, REG_SERIAL, NULL), 0);
	rc = ax_batch_run(b, 2000, NULL);
	for (int i = 0; i < 12; i++)
		if (ax_batch_error(b, (size_t)i))
			print_message("read %d: %s\n", i, ax_batch_error(b, (size_t)i));
	assert_int_equal(rc, 0);
	for (int i = 0; i < 12; i++) {
		const void *data = NULL;

		assert_int_equal(ax_batch_result(b, (size_t)i, &data, NULL), 0);
		assert_int_equal(le32(data), SERIAL0 + (uint32_t)(i % 2));
	}
	ax_batch_free(b);
}

/* Each read fails on its own, with its own code and message; the others succeed. */
static void test_batch__per_item_errors(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;
	const void *data = (const void *)1;
	size_t len = 7;
	const char *msg;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[0], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[1], 0, REG_UNKNOWN, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->nobody, 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[2], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_run(b, 3000, NULL), 2);

	assert_int_equal(ax_batch_result(b, 0, &data, &len), 0);
	assert_int_equal(le32(data), SERIAL0);
	assert_int_equal(ax_batch_result(b, 3, &data, &len), 0);
	assert_int_equal(le32(data), SERIAL0 + 2);

	/* The drive's error reply: its code, and the message names the drive. */
	assert_int_equal(ax_batch_result(b, 1, &data, &len), AX_EDRIVE);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(ax_batch_drive_code(b, 1), 0x06020000u);
	assert_int_equal(ax_batch_error_class(b, 1), AX_ERRCLASS_DRIVE);
	msg = ax_batch_error(b, 1);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "127.0.22.2"));

	/* Nothing at that address: the kernel says so, the read fails at once. */
	assert_int_equal(ax_batch_result(b, 2, &data, &len), AX_EIO);
	msg = ax_batch_error(b, 2);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "127.0.22.100"));
	assert_non_null(strstr(msg, "port unreachable"));
	assert_int_equal(ax_batch_drive_code(b, 2), 0);
	ax_batch_free(b);
}

/*
 * A drive that never answers (5 s link timeout) fails at the batch's
 * deadline with AX_ETIMEDOUT; the others have their values, and the run
 * does not wait for the dead link's own timeout.
 */
static void test_batch__dead_drive_ends_at_deadline(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;
	uint64_t t0, took;
	uint32_t v = 0;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, f->dead, 0, REG_SERIAL, NULL), 0);
	for (int i = 0; i < DRIVES; i++)
		assert_int_equal(ax_batch_add_read(b, f->links[i], 0, REG_SERIAL, NULL), 0);
	t0 = now_ms();
	assert_int_equal(ax_batch_run(b, 300, NULL), 1);
	took = now_ms() - t0;
	print_message("dead drive: run took %llu ms (deadline 300 ms)\n", (unsigned long long)took);
	assert_true(took >= 290);
	/* Not the dead link's own 5 s: half of it is far from any slow machine's 300 ms. */
	assert_true(took < DEAD_TIMEOUT_MS / 2);
	assert_int_equal(ax_batch_result(b, 0, NULL, NULL), AX_ETIMEDOUT);
	assert_non_null(strstr(ax_batch_error(b, 0), "127.0.22.9"));
	assert_non_null(strstr(ax_batch_error(b, 0), "300 ms"));
	for (int i = 0; i < DRIVES; i++) {
		const void *data = NULL;

		assert_int_equal(ax_batch_result(b, (size_t)i + 1, &data, NULL), 0);
		assert_int_equal(le32(data), SERIAL0 + (uint32_t)i);
	}
	ax_batch_free(b);
	/* The good links are unharmed by the batch's cancel. */
	assert_int_equal(ax_link_read_u32(f->links[0], 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, SERIAL0);
}

struct trigger {
	ax_cancel *cancel;
	int after_ms;
};

static void *trigger_main(void *arg)
{
	struct trigger *t = arg;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)t->after_ms * 1000000L};

	nanosleep(&ts, NULL);
	ax_cancel_trigger(t->cancel);
	return NULL;
}

/* A cancel token ends the run early: what did not finish fails with AX_ECANCELED. */
static void test_batch__cancel(void **state)
{
	struct fixture *f = *state;
	struct trigger t = {.after_ms = 100};
	ax_batch *b = NULL;
	pthread_t thread;
	uint64_t t0, took;
	uint32_t v = 0;
	const void *data = NULL;

	assert_int_equal(ax_cancel_new(&t.cancel), 0);
	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[3], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->dead, 0, REG_SERIAL, NULL), 0);
	t0 = now_ms();
	assert_int_equal(pthread_create(&thread, NULL, trigger_main, &t), 0);
	/* No deadline of its own: only the token (or the dead link's 10 s) ends it. */
	assert_int_equal(ax_batch_run(b, 0, t.cancel), AX_ECANCELED);
	took = now_ms() - t0;
	assert_int_equal(pthread_join(thread, NULL), 0);
	for (size_t i = 0; i < 2; i++)
		if (ax_batch_error(b, i))
			print_message("read %zu: %s\n", i, ax_batch_error(b, i));
	print_message("cancel after 100 ms: run took %llu ms\n", (unsigned long long)took);
	/* The token's 100 ms, not the dead link's 5 s timeout (then its resend). */
	assert_true(took < DEAD_TIMEOUT_MS / 2);
	assert_int_equal(ax_batch_result(b, 0, &data, NULL), 0);
	assert_int_equal(le32(data), SERIAL0 + 3);
	assert_int_equal(ax_batch_result(b, 1, NULL, NULL), AX_ECANCELED);
	assert_non_null(strstr(ax_batch_error(b, 1), "cancelled"));
	ax_batch_free(b);
	ax_cancel_unref(t.cancel);
	/* A cancelled link serves the next request (a fresh socket). */
	assert_int_equal(ax_link_read_u32(f->links[3], 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, SERIAL0 + 3);
}

/*
 * A poller with channels on four drives that answer 40 ms late reads them
 * at once: a sample takes one round trip (~40 ms), so a 100 ms period is
 * kept; read one after the other (160 ms) it lost most periods.
 */
static void test_batch__poller_reads_drives_at_once(void **state)
{
	static const char *const args[] = {"--eth",   "127.0.22.30", "--count", "4",
	                                   "--delay", "40",          NULL};
	struct fixture *f = *state;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_drive_options o = AX_DRIVE_OPTIONS_INIT;
	ax_drive *drives[4] = {NULL};
	ax_poller *p = NULL;
	simproc *sim = NULL;
	double t[16], v[16 * 4];
	uint64_t t0;
	char uri[64];
	int n;

	if (simproc_start(&sim, args, 4, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	o.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_poller_new(&p, 100000, 64), 0);
	for (int i = 0; i < 4; i++) {
		(void)snprintf(uri, sizeof(uri), "eth://127.0.22.%d", 30 + i);
		if (ax_drive_open(&drives[i], f->ctx, uri, &o) < 0)
			fail_msg("open %s: %s", uri, ax_error_last());
		assert_int_equal(ax_poller_add(p, drives[i], "DRV_ID_SERIAL_NUMBER_COCO", -1), i);
	}
	assert_int_equal(ax_poller_start(p), 0);
	t0 = now_ms();
	while (now_ms() - t0 < 1050) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000L};

		nanosleep(&ts, NULL);
	}
	t0 = now_ms();
	assert_int_equal(ax_poller_stop(p), 0);
	/* A stop ends the batched sample in flight promptly. */
	assert_true(now_ms() - t0 < test_ms(300));
	assert_int_equal(ax_poller_stats_get(p, &st), 0);
	print_message("poller over 4 drives 40 ms late: %llu samples, %llu lost in ~1 s\n",
	              (unsigned long long)st.samples, (unsigned long long)st.lost);
	assert_true(st.samples >= 8);
	assert_true(st.lost <= 3);
	n = ax_poller_read(p, t, v, 16);
	assert_true(n >= 8);
	for (int k = 0; k < n; k++)
		for (int i = 0; i < 4; i++)
			assert_true(v[k * 4 + i] == (double)(1000 + i));
	ax_poller_free(p);
	for (int i = 0; i < 4; i++)
		ax_drive_unref(drives[i]);
	assert_int_equal(simproc_stop(sim), 0);
}

/* Bad arguments are refused with a message, never a crash. */
static void test_batch__bad_arguments(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;

	assert_int_equal(ax_batch_new(&b, 100000), AX_EINVAL);
	assert_null(b);
	assert_int_equal(ax_batch_new(&b, 1), 0);
	assert_int_equal(ax_batch_add_read(b, NULL, 0, REG_SERIAL, NULL), AX_EINVAL);
	assert_int_equal(ax_batch_add_read(b, f->links[0], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_run(b, -1, NULL), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "-1"));
	/* Not run yet: no result. */
	assert_int_equal(ax_batch_result(b, 0, NULL, NULL), AX_EINVAL);
	assert_null(ax_batch_error(b, 0));
	assert_null(ax_batch_free(b));
	assert_null(ax_batch_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_batch__reads_each_drive),
	        cmocka_unit_test(test_batch__reads_on_one_link_take_turns),
	        cmocka_unit_test(test_batch__per_item_errors),
	        cmocka_unit_test(test_batch__dead_drive_ends_at_deadline),
	        cmocka_unit_test(test_batch__cancel),
	        cmocka_unit_test(test_batch__poller_reads_drives_at_once),
	        cmocka_unit_test(test_batch__bad_arguments),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
