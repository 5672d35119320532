/* SPDX-License-Identifier: MIT */
/*
 * Tests of the drive-side tables (ax_drive_table_read/write/size) and the
 * error history (ax_drive_errors, ax_drive_fault) against the simulated
 * drive through the `virtual` transport: faults injected with
 * SIM_FAULT_INJECT land in the error list newest first, with the texts of
 * the dictionary's Errors section, and stay there across a fault reset.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "axlink/axlink.h"
#include "testctx.h"

#define CODE_I2T 0x00002310u  /* "Continuous over-current (I2t)", Power stage */
#define CODE_TEMP 0x00004310u /* "Motor over-temperature", Motor */

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

static ax_drive *open_drive(void **state, const char *uri)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;

	if (ax_drive_open(&d, *state, uri, &opts) < 0)
		fail_msg("ax_drive_open '%s': %s", uri, ax_error_last());
	return d;
}

static void inject(ax_drive *d, int axis, uint32_t code)
{
	if (ax_drive_write_i64(d, "SIM_FAULT_INJECT", axis, code) < 0)
		fail_msg("inject: %s", ax_error_last());
}

static void test_table__errors_newest_first_with_texts(void **state)
{
	ax_drive *d = open_drive(state, "virtual:?model=axs-100&serial=81");
	ax_dict_error_entry e[4], fault;
	size_t n = 99;

	assert_int_equal(ax_drive_errors(d, -1, e, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ax_drive_fault(d, 1, &fault), 0);
	assert_int_equal(fault.code, 0);
	assert_string_equal(fault.text, "");

	inject(d, 1, CODE_I2T);
	assert_int_equal(ax_drive_fault(d, 1, &fault), 0);
	assert_int_equal(fault.code, CODE_I2T);
	assert_string_equal(fault.text, "Continuous over-current (I2t)");
	/* A fault reset leaves the history as a drive does. */
	assert_int_equal(ax_drive_write_i64(d, "DRV_STATE_CONTROL", 1, 0x80), 0);
	inject(d, 1, CODE_TEMP);

	assert_int_equal(ax_drive_errors(d, -1, e, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].code, CODE_TEMP);
	assert_string_equal(e[0].text, "Motor over-temperature");
	assert_string_equal(e[0].module, "Motor");
	assert_string_equal(e[0].type, "cyclic");
	assert_int_equal(e[1].code, CODE_I2T);
	assert_string_equal(e[1].text, "Continuous over-current (I2t)");
	assert_string_equal(e[1].module, "Power stage");
	/* The axis's own view is the drive's list; a short buffer still counts all. */
	assert_int_equal(ax_drive_errors(d, 1, e, 1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].code, CODE_TEMP);
	ax_drive_unref(d);
}

static void test_table__read_and_write(void **state)
{
	ax_drive *d = open_drive(state, "virtual:?model=axs-100&serial=82");
	int64_t first = -1, v = -1;
	uint64_t count = 0;

	assert_int_equal(ax_drive_table_size(d, "DRV_DIAG_ERROR_LIST", -1, &first, &count), 0);
	assert_int_equal(first, 0);
	assert_int_equal(count, 32);
	inject(d, 1, CODE_I2T);
	inject(d, 1, CODE_TEMP);
	assert_int_equal(ax_drive_table_read(d, "DRV_DIAG_ERROR_LIST", -1, 1, &v), 0);
	assert_int_equal(v, CODE_I2T);
	assert_int_equal(ax_drive_table_read(d, "DRV_DIAG_ERROR_LIST", -1, 0, &v), 0);
	assert_int_equal(v, CODE_TEMP);
	assert_int_equal(ax_drive_table_read(d, "DRV_DIAG_ERROR_LIST", -1, 2, &v), 0);
	assert_int_equal(v, 0);
	/* The dictionaries have no writable table: the value register refuses. */
	assert_true(ax_drive_table_write(d, "DRV_DIAG_ERROR_LIST", -1, 0, 5) < 0);
	assert_non_null(strstr(ax_error_last(), "DRV_DIAG_ERROR_LIST"));
	assert_int_equal(ax_drive_table_read(d, "DRV_DIAG_ERROR_LIST", -1, 0, &v), 0);
	assert_int_equal(v, CODE_TEMP);

	assert_int_equal(ax_drive_table_read(d, "DRV_DIAG_ERROR_LIST", -1, 32, &v), AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "entry 32 out of range 0..31"));
	assert_int_equal(ax_drive_table_read(d, "NO_SUCH_TABLE", -1, 0, &v), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "NO_SUCH_TABLE"));
	assert_int_equal(ax_drive_table_read(NULL, "DRV_DIAG_ERROR_LIST", -1, 0, &v), AX_EINVAL);
	ax_drive_unref(d);
}

struct reader {
	ax_drive *drive;
	int64_t entry, want;
	int wrong;
};

static void *read_entry_often(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < 300; i++) {
		int64_t v = -1;

		if (ax_drive_table_read(r->drive, "DRV_DIAG_ERROR_LIST", -1, r->entry, &v) < 0 ||
		    v != r->want)
			r->wrong++;
	}
	return NULL;
}

static void test_table__threads_get_their_own_entries(void **state)
{
	ax_drive *d = open_drive(state, "virtual:?model=axs-100&serial=84");
	struct reader r[2] = {{d, 0, CODE_TEMP, 0}, {d, 1, CODE_I2T, 0}};
	pthread_t t[2];

	inject(d, 1, CODE_I2T);
	inject(d, 1, CODE_TEMP);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, read_entry_often, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* Without the drive's table lock one thread's select lands between the other's. */
	assert_int_equal(r[0].wrong, 0);
	assert_int_equal(r[1].wrong, 0);
	ax_drive_unref(d);
}

/*
 * Two drives of one endpoint, one with the database's dictionary and one
 * with a named file (other views share the link): their table exchanges
 * must not interleave either.
 */
static void test_table__views_of_one_endpoint_get_their_own_entries(void **state)
{
	static const char uri[] = "virtual:?model=axs-100&serial=85";
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	ax_drive *a = open_drive(state, uri), *b = NULL;
	struct reader r[2];
	pthread_t t[2];

	opts.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	if (ax_drive_open(&b, *state, uri, &opts) < 0)
		fail_msg("ax_drive_open with a file: %s", ax_error_last());
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(ax_drive_link(a), ax_drive_link(b));
	inject(a, 1, CODE_I2T);
	inject(a, 1, CODE_TEMP);
	r[0] = (struct reader){a, 0, CODE_TEMP, 0};
	r[1] = (struct reader){b, 1, CODE_I2T, 0};
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, read_entry_often, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* A lock per drive would let one view's select land inside the other's. */
	assert_int_equal(r[0].wrong, 0);
	assert_int_equal(r[1].wrong, 0);
	ax_drive_unref(b);
	ax_drive_unref(a);
}

static void test_table__dictionary_without_tables(void **state)
{
	/* axs-200 is a version 2 dictionary: no Tables, so no error list. */
	ax_drive *d = open_drive(state, "virtual:?model=axs-200&serial=83");
	ax_dict_error_entry e[2];
	size_t n = 0;

	assert_int_equal(ax_drive_errors(d, -1, e, 2, &n), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "DRV_DIAG_ERROR_LIST"));
	ax_drive_unref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table__errors_newest_first_with_texts),
	        cmocka_unit_test(test_table__read_and_write),
	        cmocka_unit_test(test_table__threads_get_their_own_entries),
	        cmocka_unit_test(test_table__views_of_one_endpoint_get_their_own_entries),
	        cmocka_unit_test(test_table__dictionary_without_tables),
	};

	return cmocka_run_group_tests_name("table", tests, ctx_up, ctx_down);
}
