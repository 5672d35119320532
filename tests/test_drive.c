/* SPDX-License-Identifier: MIT */
/*
 * Drives end to end: the virtual plugin, the identity it reports, the
 * dictionary found in the build tree's devices.db or named as a file, and
 * register access by name with conversions.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "axlink/axlink.h"
#include "testctx.h"

#define AXS100_PRODUCT 0x00010064u

static int setup(void **state)
{
	/* Only the build tree's installed-location database: no user or AXLINK_DB file. */
	unsetenv("AXLINK_DB");
	setenv("XDG_DATA_HOME", "/nonexistent/axlink-test-xdg", 1);
	*state = new_ctx();
	return 0;
}

static int teardown(void **state)
{
	ax_ctx_unref(*state);
	return 0;
}

static void test_drive__open_resolves_dictionary(void **state)
{
	ax_drive *d = NULL;
	const ax_dict_identity *di;

	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=31", NULL), 0);
	assert_int_equal(ax_drive_identity(d)->product_code, AXS100_PRODUCT);
	assert_int_equal(ax_drive_identity(d)->serial, 31);
	assert_non_null(ax_drive_dict(d));
	di = ax_dict_identity_get(ax_drive_dict(d));
	assert_int_equal(di->product_code, AXS100_PRODUCT);
	assert_int_equal(ax_drive_match(d), AX_MATCH_EXACT);
	assert_non_null(strstr(ax_drive_match_reason(d), "exact"));
	assert_int_equal(ax_drive_axes(d), 1);
	assert_string_equal(ax_drive_uri(d), "virtual:?serial=31");
	assert_string_equal(ax_link_scheme(ax_drive_link(d)), "virtual");
	d = ax_drive_unref(d);

	assert_int_equal(ax_drive_open(&d, *state, "virtual:?model=axs-200", NULL), 0);
	assert_int_equal(ax_drive_axes(d), 2);
	assert_string_equal(ax_dict_identity_get(ax_drive_dict(d))->name, "axs-200");
	d = ax_drive_unref(d);
}

static void test_drive__same_uri_same_drive(void **state)
{
	ax_drive *a = NULL, *b = NULL, *c = NULL;

	assert_int_equal(ax_drive_open(&a, *state, "virtual:?serial=5", NULL), 0);
	assert_int_equal(ax_drive_open(&b, *state, "virtual:?serial=5", NULL), 0);
	assert_ptr_equal(a, b);
	/* State written through one handle is seen through the other: one drive. */
	assert_int_equal(ax_drive_write_i64(a, "CL_POS_SET_POINT_VALUE", 1, 1234), 0);
	{
		int64_t v = 0;

		assert_int_equal(ax_drive_read_i64(b, "CL_POS_SET_POINT_VALUE", 1, &v), 0);
		assert_int_equal(v, 1234);
	}
	assert_int_equal(ax_drive_open(&c, *state, "virtual:?serial=6", NULL), 0);
	assert_ptr_not_equal(a, c);
	a = ax_drive_unref(a);
	/* b still holds it: still usable. */
	assert_int_equal(ax_drive_identity(b)->serial, 5);
	b = ax_drive_unref(b);
	c = ax_drive_unref(c);
	assert_null(ax_drive_unref(NULL));
}

static void test_drive__numbers_by_name(void **state)
{
	ax_drive *d = NULL;
	int64_t i = 0;
	double f = 0;

	assert_int_equal(ax_drive_open(&d, *state, "virtual:", NULL), 0);
	assert_int_equal(ax_drive_read_f64(d, "DRV_PROT_VBUS_VALUE", 1, &f), 0);
	assert_true(f == 48.0);
	assert_int_equal(ax_drive_read_i64(d, "DRV_PROT_VBUS_VALUE", 1, &i), 0);
	assert_int_equal(i, 48);
	assert_int_equal(ax_drive_write_i64(d, "CL_POS_SET_POINT_VALUE", 1, -5), 0);
	assert_int_equal(ax_drive_read_i64(d, "CL_POS_SET_POINT_VALUE", 1, &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, 2.5), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(f == 2.5);
	/* Integers of the float register and floats of an integer one. */
	assert_int_equal(ax_drive_write_i64(d, "CL_VEL_SET_POINT_VALUE", 1, 3), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(f == 3.0);
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, 7.0), 0);
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, 7.5), AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "CL_POS_SET_POINT_VALUE"));
	/* What does not fit the register's type never reaches the drive. */
	assert_int_equal(ax_drive_write_i64(d, "CL_POS_SET_POINT_VALUE", 1, 1LL << 40), AX_ERANGE);
	assert_int_equal(ax_drive_read_i64(d, "CL_POS_SET_POINT_VALUE", 1, &i), 0);
	assert_int_equal(i, 7);
	assert_int_equal(ax_drive_write_i64(d, "DRV_STATE_CONTROL", 1, -1), AX_ERANGE);
	/* Strings are not numbers; unknown ids are named. */
	assert_int_equal(ax_drive_read_i64(d, "DRV_APP_COCO_VERSION", 0, &i), AX_ETYPE);
	assert_int_equal(ax_drive_read_i64(d, "NO_SUCH_REGISTER", -1, &i), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "NO_SUCH_REGISTER"));
	d = ax_drive_unref(d);
}

/*
 * What a float register cannot hold never reaches it by name: NaN and
 * infinity unless asked for, values beyond float, and values that would be
 * stored as 0. The register keeps what it had.
 */
static void test_drive__float_values_that_would_be_lost(void **state)
{
	static const double bad[] = { NAN, INFINITY, -INFINITY, 1e39, -1e39, 1e-50, -1e-50 };
	ax_drive *d = NULL;
	double f = 0;

	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=41", NULL), 0);
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, 2.5), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, bad[i]) != AX_ERANGE)
			fail_msg("%g was written", bad[i]);
		if (!strstr(ax_error_last(), "CL_VEL_SET_POINT_VALUE"))
			fail_msg("%g: message '%s' names no register", bad[i], ax_error_last());
		assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
		assert_true(f == 2.5);
	}
	/* A subnormal keeps some of the value: written as the float nearest. */
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, 1e-40), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(f == (double)1e-40f && f != 0.0);
	/* Integers of an integer register given as doubles: exact, or refused. */
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, -2147483648.0), 0);
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, 2147483648.0),
			 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "CL_POS_SET_POINT_VALUE"));
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, NAN), AX_ERANGE);
	d = ax_drive_unref(d);
}

/*
 * Bytes written to a float register by its dictionary entry: NaN and
 * infinity refused with or without a range, unless the caller passes
 * AX_VALUE_ALLOW_NONFINITE; the range still applies then.
 */
static void test_drive__nonfinite_bytes_by_register(void **state)
{
	static const uint8_t nan_bytes[4] = { 0x00, 0x00, 0xc0, 0x7f };
	static const uint8_t inf_bytes[4] = { 0x00, 0x00, 0x80, 0x7f };
	static const uint8_t ninf_bytes[4] = { 0x00, 0x00, 0x80, 0xff };
	const uint8_t *bad[] = { nan_bytes, inf_bytes, ninf_bytes };
	const ax_reg *vel = NULL, *qs = NULL;
	const char *lo, *hi;
	ax_drive *d = NULL;
	ax_link *link;
	double f = 0;

	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=42", NULL), 0);
	link = ax_drive_link(d);
	assert_int_equal(ax_drive_find(d, "CL_VEL_SET_POINT_VALUE", 1, &vel), 0);
	assert_int_equal(ax_drive_find(d, "PROF_QUICK_STOP_DEC", 1, &qs), 0);
	assert_false(ax_reg_range(vel, &lo, &hi)); /* one without a range ... */
	assert_true(ax_reg_range(qs, &lo, &hi));   /* ... and one with */
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, 2.5), 0);
	assert_int_equal(ax_drive_write_f64(d, "PROF_QUICK_STOP_DEC", 1, 500.0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ax_link_write_reg(link, vel, bad[i], 4), AX_ERANGE);
		assert_non_null(strstr(ax_error_last(), "CL_VEL_SET_POINT_VALUE"));
		assert_non_null(strstr(ax_error_last(), "not finite"));
		assert_int_equal(ax_link_write_reg(link, qs, bad[i], 4), AX_ERANGE);
		assert_non_null(strstr(ax_error_last(), "PROF_QUICK_STOP_DEC"));
		assert_non_null(strstr(ax_error_last(), "not finite"));
		assert_int_equal(ax_link_write_reg_flags(link, vel, bad[i], 4, 0), AX_ERANGE);
	}
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(f == 2.5);
	assert_int_equal(ax_drive_read_f64(d, "PROF_QUICK_STOP_DEC", 1, &f), 0);
	assert_true(f == 500.0);

	/* Asked for explicitly: written, and read back as such. */
	assert_int_equal(
		ax_link_write_reg_flags(link, vel, nan_bytes, 4, AX_VALUE_ALLOW_NONFINITE), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(isnan(f));
	assert_int_equal(
		ax_link_write_reg_flags(link, vel, ninf_bytes, 4, AX_VALUE_ALLOW_NONFINITE), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(isinf(f) && f < 0);
	/* The dictionary's range is not waived: NaN and infinity lie in no finite range. */
	assert_int_equal(
		ax_link_write_reg_flags(link, qs, inf_bytes, 4, AX_VALUE_ALLOW_NONFINITE),
		AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "range"));
	assert_int_equal(ax_link_write_reg_flags(link, vel, nan_bytes, 4, 0x100), AX_EINVAL);
	d = ax_drive_unref(d);
}

static void test_drive__no_dictionary(void **state)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;
	const ax_reg *reg = NULL;

	opts.flags = AX_DRIVE_NO_DICT;
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=8", &opts), 0);
	assert_null(ax_drive_dict(d));
	assert_int_equal(ax_drive_match(d), AX_MATCH_NONE);
	assert_int_equal(ax_drive_find(d, "CL_POS_FBK_VALUE", 1, &reg), AX_ENOTFOUND);
	assert_null(reg);
	assert_non_null(strstr(ax_error_last(), "axlink db import"));
	/* The axis count still comes from the drive itself. */
	assert_int_equal(ax_drive_axes(d), 1);
	d = ax_drive_unref(d);
}

static void test_drive__dictionary_file(void **state)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;

	opts.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=9", &opts), 0);
	assert_int_equal(ax_drive_match(d), AX_MATCH_FILE);
	assert_non_null(strstr(ax_drive_match_reason(d), "matches"));
	assert_string_equal(ax_dict_source(ax_drive_dict(d)), opts.dictionary);
	d = ax_drive_unref(d);

	/* Another model's file: a warning by default, an error when strict. */
	opts.dictionary = AXLINK_DEVICES_DIR "/axs-200.xdf";
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=10", &opts), 0);
	assert_non_null(strstr(ax_drive_match_reason(d), "differs"));
	d = ax_drive_unref(d);
	opts.flags = AX_DRIVE_STRICT;
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=11", &opts), AX_ETYPE);
	assert_null(d);
	assert_non_null(strstr(ax_error_last(), "0x000100C8"));
	assert_non_null(strstr(ax_error_last(), "0x00010064"));

	opts.dictionary = "/nonexistent/x.xdf";
	opts.flags = 0;
	assert_int_equal(ax_drive_open(&d, *state, "virtual:", &opts), AX_ENOTFOUND);
	assert_int_equal(ax_drive_open(&d, *state, "nope:", NULL), AX_ENOTFOUND);
	assert_null(d);
}

/*
 * A drive without identity registers (the test transport answers "object
 * does not exist" for them) opens with a named file only when the caller
 * allows it; it is then used by name through that file.
 */
static void test_drive__identity_optional_with_file(void **state)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	const char *uri = "testgood:?cells=16";
	uint8_t cell[4] = { 0x78, 0x56, 0x34, 0x12 };
	ax_drive *d = NULL;
	int64_t v = 0;

	assert_int_equal(ax_ctx_load_plugin(*state, AXLINK_TEST_PLUGIN_DIR
					    "/axlink-transport-testgood.so"), 0);
	opts.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_drive_open(&d, *state, uri, &opts), AX_EDRIVE);
	assert_null(d);
	/* The flag alone does not do: without a file the identity finds the dictionary. */
	opts.flags = AX_DRIVE_IDENTITY_OPTIONAL;
	opts.dictionary = NULL;
	assert_int_equal(ax_drive_open(&d, *state, uri, &opts), AX_EDRIVE);
	assert_null(d);

	opts.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_drive_open(&d, *state, uri, &opts), 0);
	assert_int_equal(ax_drive_identity(d)->known, 0);
	assert_int_equal(ax_drive_identity(d)->product_code, 0);
	assert_int_equal(ax_drive_match(d), AX_MATCH_FILE);
	assert_non_null(strstr(ax_drive_match_reason(d), "no identity"));
	assert_string_equal(ax_dict_source(ax_drive_dict(d)), opts.dictionary);
	assert_int_equal(ax_drive_axes(d), 1);
	/* DRV_DIAG_ERROR_LAST: subnode 1, 0x00F, s32, one of the transport's cells. */
	assert_int_equal(ax_link_write(ax_drive_link(d), 1, 0x00F, cell, sizeof(cell)), 0);
	assert_int_equal(ax_drive_read_i64(d, "DRV_DIAG_ERROR_LAST", 1, &v), 0);
	assert_int_equal(v, 0x12345678);
	d = ax_drive_unref(d);

	/* A drive that does report its identity is still checked against the file. */
	opts.flags = AX_DRIVE_IDENTITY_OPTIONAL | AX_DRIVE_STRICT;
	opts.dictionary = AXLINK_DEVICES_DIR "/axs-200.xdf";
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=12", &opts), AX_ETYPE);
	assert_null(d);
}

struct opener {
	ax_ctx *ctx;
	ax_drive *drive;
	int err;
};

static void *opener_main(void *arg)
{
	struct opener *o = arg;

	o->err = ax_drive_open(&o->drive, o->ctx, "virtual:?serial=77", NULL);
	return NULL;
}

/* Racing opens of one URI end with one drive, whoever wins. */
static void test_drive__concurrent_open(void **state)
{
	struct opener o[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		o[i] = (struct opener){ .ctx = *state };
		assert_int_equal(pthread_create(&t[i], NULL, opener_main, &o[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(o[i].err, 0);
		assert_ptr_equal(o[i].drive, o[0].drive);
	}
	for (int i = 0; i < 4; i++)
		o[i].drive = ax_drive_unref(o[i].drive);
}

/* The drive keeps its link and context alive; any release order is fine. */
static void test_drive__release_order(void **state)
{
	ax_ctx *ctx = new_ctx();
	ax_drive *d = NULL;
	double f = 0;

	(void)state;
	assert_int_equal(ax_drive_open(&d, ctx, "virtual:", NULL), 0);
	ctx = ax_ctx_unref(ctx);
	assert_int_equal(ax_drive_read_f64(d, "DRV_PROT_VBUS_VALUE", 1, &f), 0);
	assert_true(f == 48.0);
	d = ax_drive_unref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drive__open_resolves_dictionary),
		cmocka_unit_test(test_drive__same_uri_same_drive),
		cmocka_unit_test(test_drive__numbers_by_name),
		cmocka_unit_test(test_drive__float_values_that_would_be_lost),
		cmocka_unit_test(test_drive__nonfinite_bytes_by_register),
		cmocka_unit_test(test_drive__no_dictionary),
		cmocka_unit_test(test_drive__dictionary_file),
		cmocka_unit_test(test_drive__identity_optional_with_file),
		cmocka_unit_test(test_drive__concurrent_open),
		cmocka_unit_test(test_drive__release_order),
	};
	return cmocka_run_group_tests_name("drive", tests, setup, teardown);
}
