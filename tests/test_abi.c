/* SPDX-License-Identifier: MIT */
/*
 * The public structs a caller allocates carry their size, so the library
 * writes only what the caller's struct holds; through the shared library,
 * as users link it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "axlink/axlink.h"
#include "testctx.h"

#define FILL 0xCD

/* A caller built against a newer header: its struct is longer than ours. */
#define NEWER(type)                                                                                \
	struct {                                                                                   \
		type s;                                                                            \
		uint8_t tail[32];                                                                  \
	}

static int all_bytes(const void *p, size_t n, uint8_t value)
{
	for (size_t i = 0; i < n; i++)
		if (((const uint8_t *)p)[i] != value)
			return 0;
	return 1;
}

static void test_abi__identity_size(void **state)
{
	ax_ctx *ctx = new_ctx();
	ax_link *link = NULL;
	ax_identity id = AX_IDENTITY_INIT, small;
	NEWER(ax_identity) big;

	(void)state;
	assert_int_equal(id.size, sizeof(ax_identity));
	assert_int_equal(ax_link_open(&link, ctx, "virtual:?serial=4242", NULL), 0);
	assert_int_equal(ax_link_identify(link, &id), 0);
	assert_int_equal(id.size, sizeof(ax_identity));
	assert_int_equal(id.serial, 4242);

	/* A longer struct: our fields written, its own tail untouched. */
	memset(&big, FILL, sizeof(big));
	big.s.size = sizeof(big);
	assert_int_equal(ax_link_identify(link, &big.s), 0);
	assert_int_equal(big.s.size, sizeof(big));
	assert_int_equal(big.s.serial, 4242);
	assert_string_equal(big.s.sw_version, id.sw_version);
	assert_true(all_bytes(big.tail, sizeof(big.tail), FILL));

	/* Too small for the first version (or never set): refused, nothing written. */
	memset(&small, FILL, sizeof(small));
	small.size = offsetof(ax_identity, sw_version);
	assert_int_equal(ax_link_identify(link, &small), AX_EINVAL);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_ARGUMENT);
	assert_non_null(strstr(ax_error_last(), "ax_identity.size"));
	assert_true(all_bytes((uint8_t *)&small + sizeof(small.size),
	                      sizeof(small) - sizeof(small.size), FILL));
	small.size = 0;
	assert_int_equal(ax_link_identify(link, &small), AX_EINVAL);
	ax_link_unref(link);
	ax_ctx_unref(ctx);
}

static void test_abi__plugin_record_size(void **state)
{
	ax_ctx *ctx = new_ctx();
	ax_plugin_record rec = AX_PLUGIN_RECORD_INIT, small;
	NEWER(ax_plugin_record) big;

	(void)state;
	assert_true(ax_ctx_plugin_count(ctx) > 0);
	assert_int_equal(ax_ctx_plugin_record(ctx, 0, &rec), 0);
	assert_int_equal(rec.size, sizeof(rec));
	assert_non_null(rec.path);
	assert_non_null(rec.message);

	memset(&big, FILL, sizeof(big));
	big.s.size = sizeof(big);
	assert_int_equal(ax_ctx_plugin_record(ctx, 0, &big.s), 0);
	assert_string_equal(big.s.path, rec.path);
	assert_ptr_equal(big.s.message, rec.message);
	assert_int_equal(big.s.status, rec.status);
	assert_true(all_bytes(big.tail, sizeof(big.tail), FILL));

	memset(&small, FILL, sizeof(small));
	small.size = sizeof(uint32_t);
	assert_int_equal(ax_ctx_plugin_record(ctx, 0, &small), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "ax_plugin_record.size 4"));
	assert_true(all_bytes(&small.path, sizeof(small.path), FILL));
	ax_ctx_unref(ctx);
}

static void test_abi__poller_stats_size(void **state)
{
	ax_poller_stats st = AX_POLLER_STATS_INIT, small;
	NEWER(ax_poller_stats) big;
	ax_poller *p = NULL;

	(void)state;
	assert_int_equal(ax_poller_new(&p, 1000, 16), 0);
	memset(&st.samples, FILL, sizeof(st.samples));
	assert_int_equal(ax_poller_stats_get(p, &st), 0);
	assert_int_equal(st.size, sizeof(st));
	assert_int_equal(st.samples, 0);

	memset(&big, FILL, sizeof(big));
	big.s.size = sizeof(big);
	assert_int_equal(ax_poller_stats_get(p, &big.s), 0);
	assert_int_equal(big.s.samples, 0);
	assert_true(big.s.period_s == 0.0);
	assert_true(all_bytes(big.tail, sizeof(big.tail), FILL));

	memset(&small, FILL, sizeof(small));
	small.size = offsetof(ax_poller_stats, period_s);
	assert_int_equal(ax_poller_stats_get(p, &small), AX_EINVAL);
	assert_true(all_bytes(&small.samples, sizeof(small.samples), FILL));
	ax_poller_free(p);
}

static void test_abi__a_borrowed_dictionary_can_be_kept(void **state)
{
	ax_ctx *ctx = new_ctx();
	ax_drive *d = NULL;
	const ax_dict *borrowed;
	ax_dict *kept;

	(void)state;
	assert_int_equal(ax_drive_open(&d, ctx, "virtual:?serial=4243", NULL), 0);
	borrowed = ax_drive_dict(d);
	assert_non_null(borrowed);
	/* ax_drive_dict() gives a const dictionary; ax_dict_ref() takes it without a cast. */
	kept = ax_dict_ref(borrowed);
	assert_ptr_equal(kept, borrowed);
	ax_drive_unref(d);
	ax_ctx_unref(ctx);
	assert_true(ax_dict_reg_count(kept) > 0);
	ax_dict_unref(kept);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_abi__identity_size),
	        cmocka_unit_test(test_abi__plugin_record_size),
	        cmocka_unit_test(test_abi__poller_stats_size),
	        cmocka_unit_test(test_abi__a_borrowed_dictionary_can_be_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
