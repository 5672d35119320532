/* SPDX-License-Identifier: MIT */
/*
 * Tests of ax_drive_store() and ax_drive_restore() against the simulated
 * drive through the `virtual` transport: the registers found by dictionary
 * id, the wait for the drive, the refusal of a drive that will not store,
 * and the argument checks. Persistence across a simulator restart is in
 * tests/cli (axlink store) and python/tests (drive.store()).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "axlink/axlink.h"
#include "testctx.h"
#include "support/timing.h"

#define CODE_STATE 0x08000022u

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

static ax_drive *open_drive(void **state, const char *uri, unsigned flags)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;

	opts.flags = flags;
	if (ax_drive_open(&d, *state, uri, &opts) < 0)
		fail_msg("ax_drive_open '%s': %s", uri, ax_error_last());
	return d;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double read_f64(ax_drive *d, const char *id, int sub)
{
	double v = -1;

	if (ax_drive_read_f64(d, id, sub, &v) < 0)
		fail_msg("read %s: %s", id, ax_error_last());
	return v;
}

static void enable_axis(ax_drive *d, int axis)
{
	static const int64_t words[] = {0x06, 0x07, 0x0F};
	int64_t sw = 0;

	for (size_t i = 0; i < 3; i++)
		assert_int_equal(ax_drive_write_i64(d, "DRV_STATE_CONTROL", axis, words[i]), 0);
	assert_int_equal(ax_drive_read_i64(d, "DRV_STATE_STATUS", axis, &sw), 0);
	assert_int_equal(sw & 0x6F, 0x27);
}

static void test_nvm__store_and_restore(void **state)
{
	ax_drive *d = open_drive(state, "virtual:?model=axs-200&serial=71", 0);

	assert_int_equal(ax_drive_axes(d), 2);
	assert_int_equal(ax_drive_write_f64(d, "PROF_MAX_VEL", 2, 12.5), 0);
	assert_int_equal(ax_drive_store(d, AX_DRIVE_ALL_SUBNODES, 0, NULL), 0);
	assert_int_equal(ax_drive_store(d, 0, 0, NULL), 0);
	assert_int_equal(ax_drive_store(d, 2, 1000, NULL), 0);
	assert_true(read_f64(d, "PROF_MAX_VEL", 2) == 12.5);
	/* The drive uses the defaults again at once. */
	assert_int_equal(ax_drive_restore(d, AX_DRIVE_ALL_SUBNODES, 0, NULL), 0);
	assert_true(read_f64(d, "PROF_MAX_VEL", 2) == 10.0);
	assert_int_equal(ax_drive_write_f64(d, "PROF_MAX_VEL", 1, 3.0), 0);
	assert_int_equal(ax_drive_restore(d, 0, 0, NULL), 0);
	assert_true(read_f64(d, "PROF_MAX_VEL", 1) == 10.0);
	ax_drive_unref(d);
}

static void test_nvm__refusal_names_register(void **state)
{
	ax_drive *d = open_drive(state, "virtual:?quirk=store-needs-disabled", 0);
	int err;

	assert_int_equal(ax_drive_store(d, AX_DRIVE_ALL_SUBNODES, 0, NULL), 0);
	enable_axis(d, 1);
	err = ax_drive_store(d, 1, 0, NULL);
	assert_int_equal(err, AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), CODE_STATE);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_DRIVE);
	if (!strstr(ax_error_last(), "store: ") || !strstr(ax_error_last(), "DRV_STORE_MOCO_ALL") ||
	    !strstr(ax_error_last(), "(subnode 1)") || !strstr(ax_error_last(), "0x08000022") ||
	    !strstr(ax_error_last(), "present drive state") /* the dictionary's text */)
		fail_msg("message: %s", ax_error_last());
	/* All: the first register refused stops it, and is the one named. */
	assert_int_equal(ax_drive_store(d, AX_DRIVE_ALL_SUBNODES, 0, NULL), AX_EDRIVE);
	assert_non_null(strstr(ax_error_last(), "DRV_STORE_COCO_ALL"));
	assert_int_equal(ax_drive_restore(d, AX_DRIVE_ALL_SUBNODES, 0, NULL), AX_EDRIVE);
	assert_non_null(strstr(ax_error_last(), "refused DRV_RESTORE_COCO_ALL"));
	assert_int_equal(ax_error_last_drive_code(), CODE_STATE);
	ax_drive_unref(d);
}

static void test_nvm__waits_for_drive(void **state)
{
	ax_drive *d = open_drive(state, "virtual:?quirk=slow-store", 0);
	int64_t t0;
	int err;

	/* The register shows the signature for 300 ms: a shorter timeout says so. */
	t0 = now_ms();
	err = ax_drive_store(d, 1, 100, NULL);
	assert_int_equal(err, AX_ETIMEDOUT);
	if (!strstr(ax_error_last(), "DRV_STORE_MOCO_ALL (subnode 1) still reads the signature"))
		fail_msg("message: %s", ax_error_last());
	assert_true(now_ms() - t0 >= 100);
	assert_true(now_ms() - t0 < (int64_t)test_ms(1000)); /* ends, at its timeout */

	/* Wait it out (the busy store is over within 300 ms), then a full store waits. */
	t0 = now_ms();
	while (now_ms() - t0 < 350)
		assert_int_equal(ax_drive_read_f64(d, "PROF_MAX_VEL", 1, &(double){0}), 0);
	t0 = now_ms();
	assert_int_equal(ax_drive_store(d, AX_DRIVE_ALL_SUBNODES, 0, NULL), 0);
	/* Two stores (core, axis), 300 ms each. */
	assert_true(now_ms() - t0 >= 600);
	ax_drive_unref(d);
}

static void test_nvm__cancel(void **state)
{
	ax_drive *d = open_drive(state, "virtual:?quirk=slow-store", 0);
	ax_cancel *c = NULL;

	assert_int_equal(ax_cancel_new(&c), 0);
	ax_cancel_trigger(c);
	assert_int_equal(ax_drive_store(d, 0, 0, c), AX_ECANCELED);
	assert_non_null(strstr(ax_error_last(), "DRV_STORE_COCO_ALL"));
	ax_cancel_reset(c);
	assert_int_equal(ax_drive_store(d, 0, 0, c), 0);
	ax_cancel_unref(c);
	ax_drive_unref(d);
}

static void test_nvm__bad_arguments(void **state)
{
	ax_drive *d = open_drive(state, "virtual:", 0);
	ax_drive *bare = open_drive(state, "virtual:?serial=72", AX_DRIVE_NO_DICT);

	assert_int_equal(ax_drive_store(d, 2, 0, NULL), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "subnode 2"));
	assert_int_equal(ax_drive_store(d, -2, 0, NULL), AX_EINVAL);
	assert_int_equal(ax_drive_restore(d, 16, 0, NULL), AX_EINVAL);
	assert_int_equal(ax_drive_store(d, 0, -1, NULL), AX_EINVAL);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_ARGUMENT);
	/* axs-100 has no restore register on the axis: say what to use instead. */
	assert_int_equal(ax_drive_restore(d, 1, 0, NULL), AX_ENOTFOUND);
	if (!strstr(ax_error_last(), "no DRV_RESTORE_MOCO_ALL on subnode 1") ||
	    !strstr(ax_error_last(), "subnode 0, or all"))
		fail_msg("message: %s", ax_error_last());
	assert_int_equal(ax_drive_store(bare, AX_DRIVE_ALL_SUBNODES, 0, NULL), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "no dictionary"));
	assert_int_equal(ax_drive_store(NULL, 0, 0, NULL), AX_EINVAL);
	ax_drive_unref(bare);
	ax_drive_unref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_nvm__store_and_restore),
	        cmocka_unit_test(test_nvm__refusal_names_register),
	        cmocka_unit_test(test_nvm__waits_for_drive),
	        cmocka_unit_test(test_nvm__cancel),
	        cmocka_unit_test(test_nvm__bad_arguments),
	};

	return cmocka_run_group_tests_name("nvm", tests, ctx_up, ctx_down);
}
