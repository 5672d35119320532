/* SPDX-License-Identifier: MIT */
/*
 * The per-request system-call budget of the eth transport (issue 21): in
 * the steady state a request costs a send and a blocking receive, nothing
 * more: no poll, no drain, no cancel bookkeeping, no socket option set
 * again. Counted with the interposer in tests/support/syscount.c (I/O
 * calls and socket set-up calls alike) against the real simulator on
 * 127.0.21.1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "axlink/axlink.h"
#include "testctx.h"
#include "simproc.h"
#include "syscount.h"

#define SIM_ADDR "127.0.21.1"
#define SIM_START_MS 10000
#define REQUESTS 200
#define BUDGET 2 /* send, receive */

#define REG_VENDOR 0x6E0
#define REG_USER_DATA 0x6F0
#define VENDOR_ID 0x0000A71Cu

struct fixture {
	ax_ctx *ctx;
	simproc *sim;
	ax_link *link;
};

static int group_setup(void **state)
{
	static const char *const args[] = {"--eth", SIM_ADDR, "--count", "1", NULL};
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	f->ctx = new_ctx();
	if (simproc_start(&f->sim, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	if (ax_link_open(&f->link, f->ctx, "eth://" SIM_ADDR, NULL) < 0)
		fail_msg("open eth://%s: %s", SIM_ADDR, ax_error_last());
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	ax_link_unref(f->link);
	(void)simproc_stop(f->sim);
	ax_ctx_unref(f->ctx);
	free(f);
	return 0;
}

static void report(const char *what, long total)
{
	print_message("%s: %ld calls for %d requests (send %ld, poll %ld, receive %ld, read %ld, "
	              "write %ld, socket set-up %ld)\n",
	              what, total, REQUESTS, syscount_get(SYSCOUNT_SEND),
	              syscount_get(SYSCOUNT_POLL), syscount_get(SYSCOUNT_RECV),
	              syscount_get(SYSCOUNT_READ), syscount_get(SYSCOUNT_WRITE),
	              syscount_get(SYSCOUNT_SOCKET));
}

/* Reads in the steady state: a send and a receive each. */
static void test_syscalls__read_within_budget(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;
	long total;

	/* Warm up: the first request may set things up. */
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &v), 0);
	syscount_reset();
	for (int i = 0; i < REQUESTS; i++) {
		v = 0;
		assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &v), 0);
		assert_int_equal(v, VENDOR_ID);
	}
	total = syscount_total();
	report("read", total);
	/* The counter sees the transport at all: one send per request. */
	assert_int_equal(syscount_get(SYSCOUNT_SEND), REQUESTS);
	assert_true(syscount_get(SYSCOUNT_RECV) >= REQUESTS);
	assert_int_equal(syscount_get(SYSCOUNT_POLL), 0);
	assert_true(total <= (long)BUDGET * REQUESTS);
}

/* Writes cost the same: the ack is received like a read's reply. */
static void test_syscalls__write_within_budget(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;
	long total;

	assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, &v, sizeof(v)), 0);
	syscount_reset();
	for (int i = 0; i < REQUESTS; i++) {
		v = (uint32_t)i;
		assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, &v, sizeof(v)), 0);
	}
	total = syscount_total();
	report("write", total);
	assert_int_equal(syscount_get(SYSCOUNT_SEND), REQUESTS);
	assert_true(total <= (long)BUDGET * REQUESTS);
}

/* A cancel that arrived while no request ran costs the next request nothing. */
static void test_syscalls__stale_cancel_costs_nothing(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;

	assert_int_equal(ax_link_cancel(f->link), 0);
	syscount_reset();
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &v), 0);
	assert_int_equal(v, VENDOR_ID);
	report("after a stale cancel", syscount_total());
	assert_true(syscount_total() <= BUDGET);
}

/*
 * A new timeout is given to the socket once (one setsockopt), not per
 * request; the requests after it are back at the budget.
 */
static void test_syscalls__new_timeout_costs_one_call(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;

	assert_int_equal(ax_link_set_timeout(f->link, 750), 0);
	syscount_reset();
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &v), 0);
	assert_int_equal(syscount_get(SYSCOUNT_SOCKET), 1);
	assert_true(syscount_total() <= BUDGET + 1);
	syscount_reset();
	for (int i = 0; i < REQUESTS; i++)
		assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &v), 0);
	report("after a new timeout", syscount_total());
	assert_int_equal(syscount_get(SYSCOUNT_SOCKET), 0);
	assert_true(syscount_total() <= (long)BUDGET * REQUESTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_syscalls__read_within_budget),
	        cmocka_unit_test(test_syscalls__write_within_budget),
	        cmocka_unit_test(test_syscalls__stale_cancel_costs_nothing),
	        cmocka_unit_test(test_syscalls__new_timeout_costs_one_call),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
