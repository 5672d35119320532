/* SPDX-License-Identifier: MIT */
/*
 * How long an eth scan waits for targets that do not answer (issue 21):
 * not for addresses the network says nobody is at (ICMP port unreachable),
 * an adaptive while for silent ones, and long enough for a slow drive
 * within the deadline. The real simulator on 127.0.24.x:
 *
 *   127.0.24.1-16   sixteen drives, serials 2400..2415 (whole run)
 *   127.0.24.40     a drive answering 300 ms late (per test)
 *   127.0.24.41     a drive that drops every datagram (per test)
 *   127.0.24.100-   nothing listens there
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/axlink.h"
#include "testctx.h"
#include "simproc.h"

#define SIM_START_MS 10000
#define SERIAL0 2400u

struct fixture {
	ax_ctx *ctx;
	simproc *sim16;
};

struct found {
	int n;
	char uri[32][64];
	unsigned known[32];
	uint32_t serial[32];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int collect(const ax_scan_result *r, void *userdata)
{
	struct found *f = userdata;

	if (f->n < 32) {
		(void)snprintf(f->uri[f->n], sizeof(f->uri[0]), "%s", r->uri);
		f->known[f->n] = r->known;
		f->serial[f->n] = r->serial;
	}
	f->n++;
	return 0;
}

static int group_setup(void **state)
{
	static const char *const args[] = {"--eth",    "127.0.24.1", "--count", "16",
	                                   "--serial", "2400",       NULL};
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	f->ctx = new_ctx();
	if (simproc_start(&f->sim16, args, 16, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	(void)simproc_stop(f->sim16);
	ax_ctx_unref(f->ctx);
	free(f);
	return 0;
}

/*
 * The /27 around sixteen drives: fourteen addresses answer port
 * unreachable, so the scan ends when the sixteenth drive is identified,
 * not at half its deadline (4000 ms here) as it did.
 */
static void test_eth_scan__range_ends_when_drives_are_done(void **state)
{
	struct fixture *f = *state;
	struct found c;
	uint64_t t0, took;
	int ret;

	memset(&c, 0, sizeof(c));
	t0 = now_ms();
	/* A long deadline: what it ends by is told apart from half of it by far. */
	ret = ax_scan(f->ctx, "eth://127.0.24.0/27", 8000, collect, &c);
	took = now_ms() - t0;
	print_message("/27 with 16 drives: %llu ms\n", (unsigned long long)took);
	if (ret != 16)
		fail_msg("ax_scan returned %d (%s)", ret, ax_error_last());
	assert_int_equal(c.n, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(c.known[i] & AX_SCAN_HAS_SERIAL, AX_SCAN_HAS_SERIAL);
	assert_true(took < 8000 / 4);
}

/* Addresses with nothing there end at once (they took half the deadline). */
static void test_eth_scan__refused_targets_end_at_once(void **state)
{
	struct fixture *f = *state;
	struct found c;
	uint64_t t0, took;

	memset(&c, 0, sizeof(c));
	t0 = now_ms();
	assert_int_equal(
	        ax_scan(f->ctx, "eth://127.0.24.100,127.0.24.101,127.0.24.102", 8000, collect, &c),
	        0);
	took = now_ms() - t0;
	print_message("3 refused targets: %llu ms\n", (unsigned long long)took);
	assert_int_equal(c.n, 0);
	assert_true(took < 8000 / 4); /* half the deadline would be 4000 ms */
}

/*
 * A target that drops everything (no ICMP either) is waited for the floor
 * (T/8: 500 ms here) or four times the slowest reply, not T/2 (2000 ms).
 */
static void test_eth_scan__silent_target_adaptive_wait(void **state)
{
	static const char *const args[] = {"--eth", "127.0.24.41", "--drop", "100", NULL};
	struct fixture *f = *state;
	simproc *silent = NULL;
	struct found c;
	uint64_t t0, took;

	if (simproc_start(&silent, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	memset(&c, 0, sizeof(c));
	t0 = now_ms();
	assert_int_equal(ax_scan(f->ctx, "eth://127.0.24.3,127.0.24.41", 4000, collect, &c), 1);
	took = now_ms() - t0;
	print_message("a drive and a silent target: %llu ms\n", (unsigned long long)took);
	assert_string_equal(c.uri[0], "eth://127.0.24.3:1061");
	assert_int_equal(c.serial[0], SERIAL0 + 2);
	assert_true(took >= 450);
	/* Between the floor (500 ms) and T/2 (2000 ms), with a second for a slow machine. */
	assert_true(took < 1500);
	assert_int_equal(simproc_stop(silent), 0);
}

/*
 * A drive far slower than the others (300 ms a reply against well under a
 * millisecond) but within the deadline is still found and fully
 * identified: the wait stretches to four times the slowest reply.
 */
static void test_eth_scan__slow_drive_within_deadline_found(void **state)
{
	static const char *const args[] = {"--eth",    "127.0.24.40", "--delay", "300",
	                                   "--serial", "2440",        NULL};
	struct fixture *f = *state;
	simproc *slow = NULL;
	struct found c;
	uint64_t t0, took;
	int ret;

	if (simproc_start(&slow, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	memset(&c, 0, sizeof(c));
	t0 = now_ms();
	ret = ax_scan(f->ctx, "eth://127.0.24.0/26", 4000, collect, &c);
	took = now_ms() - t0;
	print_message("/26 with 16 fast drives and a slow one: %llu ms\n",
	              (unsigned long long)took);
	assert_int_equal(ret, 17);
	for (int i = 0; i < c.n; i++) {
		if (strcmp(c.uri[i], "eth://127.0.24.40:1061") != 0)
			continue;
		assert_int_equal(c.serial[i], 2440);
		assert_int_equal(c.known[i] & AX_SCAN_HAS_SW_VERSION, AX_SCAN_HAS_SW_VERSION);
		ret = -1;
	}
	assert_int_equal(ret, -1); /* the slow one was among them */
	assert_true(took < 4000);
	assert_int_equal(simproc_stop(slow), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_eth_scan__range_ends_when_drives_are_done),
	        cmocka_unit_test(test_eth_scan__refused_targets_end_at_once),
	        cmocka_unit_test(test_eth_scan__silent_target_adaptive_wait),
	        cmocka_unit_test(test_eth_scan__slow_drive_within_deadline_found),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
