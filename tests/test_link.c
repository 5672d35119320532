/* SPDX-License-Identifier: MIT */
/*
 * Links end to end: the real loader, the real `virtual` plugin and the
 * simulated drive behind MCB frames. Typed round trips, every error reply,
 * threads sharing one link, and releasing objects in any order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "testctx.h"

#define VENDOR_ID 0x0000A71Cu
#define AXS100_PRODUCT 0x00010064u
#define AXS200_PRODUCT 0x000100C8u

#define REG_VENDOR 0x6E0
#define REG_PRODUCT 0x6E1
#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6
#define REG_AXES 0x0A0
#define REG_CONTROL 0x010
#define REG_STATUS 0x011
#define REG_POS_SET 0x020
#define REG_VEL_SET 0x021
#define REG_RESTORE 0x6DC
#define REG_USER_DATA 0x6F0

struct fixture {
	ax_ctx *ctx;
	ax_link *link;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ctx = new_ctx();
	if (ax_link_open(&f->link, f->ctx, "virtual:?serial=4242", NULL) < 0)
		fail_msg("open virtual: %s", ax_error_last());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->link = ax_link_unref(f->link);
	f->ctx = ax_ctx_unref(f->ctx);
	free(f);
	return 0;
}

/*
 * A register the dictionary keeps but no MCB frame can carry (address past
 * 12 bits, subnode past 4) is refused before anything goes on the wire,
 * naming it, its address and why; a reachable one of the same file reads.
 */
static void test_link__unreachable_register_refused(void **state)
{
	static const struct {
		const char *file, *id;
		int subnode;
		const char *why;
	} rows[] = {
	        {"addresses_beyond_mcb.xdf", "FIRST_PAST_MCB", 1,
	         "register 'FIRST_PAST_MCB' (subnode 1, address 0x1000) is out of reach: an MCB "
	         "frame carries 12-bit addresses 0..0xFFF only"},
	        {"addresses_beyond_mcb.xdf", "ETH_ONLY_SETTING", 0,
	         "register 'ETH_ONLY_SETTING' (subnode 0, address 0x58AA) is out of reach: an "
	         "MCB frame carries 12-bit addresses 0..0xFFF only"},
	        {"axes_beyond_mcb.xdf", "DRV_STATE_CONTROL", 16,
	         "register 'DRV_STATE_CONTROL' (subnode 16, address 0x10) is out of reach: an "
	         "MCB frame carries subnodes 0..15 only"},
	};
	struct fixture *f = *state;
	char path[512];
	uint8_t buf[8] = {0};
	size_t len;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ax_dict **dicts = NULL;
		size_t n = 0;
		const ax_reg *r = NULL, *near = NULL;

		len = 99;
		(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_TEST_DATA_DIR, rows[i].file);
		assert_true(ax_dict_load_file(&dicts, &n, path, NULL) > 0);
		assert_int_equal(ax_dict_find(dicts[0], rows[i].id, rows[i].subnode, &r), 0);
		assert_int_equal(ax_reg_reachable(r), 0);
		assert_int_equal(ax_link_read_reg(f->link, r, buf, sizeof(buf), &len),
		                 AX_EUNSUPPORTED);
		assert_string_equal(ax_error_last(), rows[i].why);
		assert_int_equal(len, 99);
		if (ax_reg_access(r) & AX_REG_WRITE) {
			assert_int_equal(
			        ax_link_write_reg(f->link, r, buf, ax_dtype_size(ax_reg_dtype(r))),
			        AX_EUNSUPPORTED);
			assert_string_equal(ax_error_last(), rows[i].why);
		}
		/* The reachable status word of the same file reads from the drive. */
		assert_int_equal(ax_dict_find(dicts[0], "DRV_STATE_STATUS", 1, &near), 0);
		assert_int_equal(ax_reg_reachable(near), 1);
		assert_int_equal(ax_link_read_reg(f->link, near, buf, sizeof(buf), &len), 0);
		assert_int_equal(len, 2);
		for (size_t k = 0; k < n; k++)
			ax_dict_unref(dicts[k]);
		ax_free(dicts);
	}
}

static void test_link__identity(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;
	uint16_t axes = 0;
	char *sw = NULL;

	assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &v), 0);
	assert_int_equal(v, VENDOR_ID);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_PRODUCT, &v), 0);
	assert_int_equal(v, AXS100_PRODUCT);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(ax_link_read_u16(f->link, 0, REG_AXES, &axes), 0);
	assert_int_equal(axes, 1);
	/* The version string is longer than 8 bytes: an extended reply. */
	assert_int_equal(ax_link_read_str(f->link, 0, REG_SW_VERSION, &sw), 0);
	assert_true(strlen(sw) > 8);
	ax_free(sw);
	assert_string_equal(ax_link_scheme(f->link), "virtual");
	assert_string_equal(ax_link_uri(f->link), "virtual:?serial=4242");
	assert_ptr_equal(ax_link_ctx(f->link), f->ctx);
}

static void test_link__model_key_selects_drive(void **state)
{
	struct fixture *f = *state;
	ax_link *link = NULL;
	uint32_t product = 0;
	uint16_t axes = 0;

	assert_int_equal(ax_link_open(&link, f->ctx, "virtual:?model=axs-200", NULL), 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &product), 0);
	assert_int_equal(product, AXS200_PRODUCT);
	assert_int_equal(ax_link_read_u16(link, 0, REG_AXES, &axes), 0);
	assert_int_equal(axes, 2);
	link = ax_link_unref(link);

	assert_int_equal(ax_link_open(&link, f->ctx, "virtual:?model=nope", NULL), AX_ENOTFOUND);
	assert_null(link);
	assert_non_null(strstr(ax_error_last(), "nope"));
	assert_non_null(strstr(ax_error_last(), "axs-100"));
}

/* Every integer width through one s32 register: the drive keeps the low bytes. */
static void test_link__typed_round_trips(void **state)
{
	struct fixture *f = *state;
	uint8_t u8;
	int8_t s8;
	uint16_t u16;
	int16_t s16;
	uint32_t u32;
	int32_t s32;
	float fl;

	assert_int_equal(ax_link_write_u8(f->link, 1, REG_POS_SET, 0xFE), 0);
	assert_int_equal(ax_link_read_u8(f->link, 1, REG_POS_SET, &u8), 0);
	assert_int_equal(u8, 0xFE);
	assert_int_equal(ax_link_write_s8(f->link, 1, REG_POS_SET, -100), 0);
	assert_int_equal(ax_link_read_s8(f->link, 1, REG_POS_SET, &s8), 0);
	assert_int_equal(s8, -100);
	assert_int_equal(ax_link_write_u16(f->link, 1, REG_POS_SET, 0xBEEF), 0);
	assert_int_equal(ax_link_read_u16(f->link, 1, REG_POS_SET, &u16), 0);
	assert_int_equal(u16, 0xBEEF);
	assert_int_equal(ax_link_write_s16(f->link, 1, REG_POS_SET, -30000), 0);
	assert_int_equal(ax_link_read_s16(f->link, 1, REG_POS_SET, &s16), 0);
	assert_int_equal(s16, -30000);
	assert_int_equal(ax_link_write_u32(f->link, 1, REG_POS_SET, 0xDEADBEEFu), 0);
	assert_int_equal(ax_link_read_u32(f->link, 1, REG_POS_SET, &u32), 0);
	assert_int_equal(u32, 0xDEADBEEFu);
	assert_int_equal(ax_link_write_s32(f->link, 1, REG_POS_SET, -123456789), 0);
	assert_int_equal(ax_link_read_s32(f->link, 1, REG_POS_SET, &s32), 0);
	assert_int_equal(s32, -123456789);
	assert_int_equal(ax_link_write_float(f->link, 1, REG_VEL_SET, 12.5f), 0);
	assert_int_equal(ax_link_read_float(f->link, 1, REG_VEL_SET, &fl), 0);
	assert_true(fl == 12.5f);
}

static void test_link__bytes_round_trip_extended(void **state)
{
	struct fixture *f = *state;
	uint8_t out[AX_VALUE_MAX], in[AX_VALUE_MAX];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, out, sizeof(out)), 0);
	assert_int_equal(ax_link_read(f->link, 0, REG_USER_DATA, in, sizeof(in), &len), 0);
	assert_int_equal(len, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	/* A buffer too small for the reply is an error, not a truncation. */
	len = 99;
	assert_int_equal(ax_link_read(f->link, 0, REG_USER_DATA, in, 16, &len), AX_ETOOBIG);
	assert_int_equal(len, 99);
	/* More than the protocol carries is refused before anything is sent. */
	assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, out, 0), 0);
	{
		uint8_t big[AX_VALUE_MAX + 1] = {0};

		assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, big, sizeof(big)),
		                 AX_ETOOBIG);
	}
}

struct drive_error_case {
	const char *name;
	int write;
	unsigned subnode;
	uint32_t address;
	size_t len;
	uint32_t want_code;
};

static const struct drive_error_case drive_error_cases[] = {
        {"read unknown address", 0, 0, 0x7FF, 4, 0x06020000u},
        {"read subnode beyond axes", 0, 5, REG_STATUS, 2, 0x06020000u},
        {"write read-only status word", 1, 1, REG_STATUS, 2, 0x06010000u},
        {"write read-only product code", 1, 0, REG_PRODUCT, 4, 0x06010000u},
        {"read write-only restore", 0, 0, REG_RESTORE, 4, 0x06010000u},
        {"extended write to a numeric register", 1, 1, REG_POS_SET, 16, 0x06070010u},
};

static void test_link__drive_error_replies(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(drive_error_cases) / sizeof(drive_error_cases[0]); i++) {
		const struct drive_error_case *c = &drive_error_cases[i];
		uint8_t buf[16] = {1, 2, 3, 4};
		size_t len = 77;
		int err;

		if (c->write)
			err = ax_link_write(f->link, c->subnode, c->address, buf, c->len);
		else
			err = ax_link_read(f->link, c->subnode, c->address, buf, sizeof(buf), &len);
		if (err != AX_EDRIVE)
			fail_msg("%s: got %d (%s), want AX_EDRIVE", c->name, err, ax_error_last());
		if (ax_error_last_drive_code() != c->want_code)
			fail_msg("%s: drive code 0x%08X, want 0x%08X", c->name,
			         ax_error_last_drive_code(), c->want_code);
		if (!c->write && len != 77)
			fail_msg("%s: len_out written on failure", c->name);
	}
}

static void test_link__local_errors(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0xAAAAAAAAu;
	ax_link *link = NULL;

	assert_int_equal(ax_link_read_u32(f->link, 0, 0x1000, &v), AX_EINVAL);
	assert_int_equal(v, 0xAAAAAAAAu);
	assert_non_null(strstr(ax_error_last(), "0x1000"));
	assert_int_equal(ax_link_read_u32(f->link, 16, 0x10, &v), AX_EINVAL);
	assert_int_equal(ax_link_read_u32(NULL, 0, 0x10, &v), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "invalid argument"));

	assert_int_equal(ax_link_open(&link, f->ctx, "virtual:?bogus=1", NULL), AX_EUNKNOWNKEY);
	assert_non_null(strstr(ax_error_last(), "bogus"));
	assert_non_null(strstr(ax_error_last(), "model"));
	assert_int_equal(ax_link_open(&link, f->ctx, "nope:", NULL), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "nope"));
	assert_int_equal(ax_link_open(&link, f->ctx, "not a uri", NULL), AX_EINVAL);
	assert_null(link);

	assert_int_equal(ax_link_set_timeout(f->link, 0), AX_EINVAL);
	assert_int_equal(ax_link_set_timeout(f->link, 250), 0);
	assert_int_equal(ax_link_get_timeout(f->link), 250);
	assert_int_equal(ax_link_cancel(f->link), AX_EUNSUPPORTED);
}

/* CiA 402 through raw register access: the drive's status word follows the control word. */
static void test_link__state_machine_through_link(void **state)
{
	struct fixture *f = *state;
	uint16_t sw = 0;

	assert_int_equal(ax_link_read_u16(f->link, 1, REG_STATUS, &sw), 0);
	assert_int_equal(sw & 0x4F, 0x40); /* switch on disabled */
	assert_int_equal(ax_link_write_u16(f->link, 1, REG_CONTROL, 0x06), 0);
	assert_int_equal(ax_link_read_u16(f->link, 1, REG_STATUS, &sw), 0);
	assert_int_equal(sw & 0x6F, 0x21); /* ready to switch on */
	assert_int_equal(ax_link_write_u16(f->link, 1, REG_CONTROL, 0x07), 0);
	assert_int_equal(ax_link_read_u16(f->link, 1, REG_STATUS, &sw), 0);
	assert_int_equal(sw & 0x6F, 0x23); /* switched on */
	assert_int_equal(ax_link_write_u16(f->link, 1, REG_CONTROL, 0x0F), 0);
	assert_int_equal(ax_link_read_u16(f->link, 1, REG_STATUS, &sw), 0);
	assert_int_equal(sw & 0x6F, 0x27); /* operation enabled */
}

struct worker {
	ax_link *link;
	int32_t value;
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 400; i++) {
		uint32_t product = 0;
		int32_t v;

		if (ax_link_write_s32(w->link, 1, REG_POS_SET, w->value) < 0)
			w->errors++;
		if (ax_link_read_s32(w->link, 1, REG_POS_SET, &v) < 0)
			w->errors++;
		if (ax_link_read_u32(w->link, 0, REG_PRODUCT, &product) < 0 ||
		    product != AXS100_PRODUCT)
			w->errors++;
	}
	return NULL;
}

/* Requests from several threads are serialized whole: each reply matches its request. */
static void test_link__threads_share_one_link(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];
	int32_t last = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.link = ax_link_ref(f->link), .value = 1000 * (i + 1)};
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].errors, 0);
		w[i].link = ax_link_unref(w[i].link);
	}
	assert_int_equal(ax_link_read_s32(f->link, 1, REG_POS_SET, &last), 0);
	assert_true(last == 1000 || last == 2000 || last == 3000 || last == 4000);
}

/*
 * A float register never gets NaN or infinity from the typed call, and a
 * refused value leaves the register as it was. The raw-bytes call is the
 * explicit way to write any bit pattern.
 */
static void test_link__write_float_refuses_nonfinite(void **state)
{
	static const float bad[] = {NAN, -NAN, INFINITY, -INFINITY};
	static const uint8_t nan_bytes[4] = {0x00, 0x00, 0xc0, 0x7f};
	struct fixture *f = *state;
	float fl = 0;

	assert_int_equal(ax_link_write_float(f->link, 1, REG_VEL_SET, 2.5f), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ax_link_write_float(f->link, 1, REG_VEL_SET, bad[i]) != AX_ERANGE)
			fail_msg("%g was written", (double)bad[i]);
		if (!strstr(ax_error_last(), "0x021") || !strstr(ax_error_last(), "not finite"))
			fail_msg("%g: message '%s' names no register", (double)bad[i],
			         ax_error_last());
		assert_int_equal(ax_link_read_float(f->link, 1, REG_VEL_SET, &fl), 0);
		assert_true(fl == 2.5f);
	}
	/* Subnormal and the extremes are values like any other. */
	assert_int_equal(ax_link_write_float(f->link, 1, REG_VEL_SET, FLT_TRUE_MIN), 0);
	assert_int_equal(ax_link_read_float(f->link, 1, REG_VEL_SET, &fl), 0);
	assert_true(fl == FLT_TRUE_MIN);
	assert_int_equal(ax_link_write_float(f->link, 1, REG_VEL_SET, -FLT_MAX), 0);
	assert_int_equal(ax_link_read_float(f->link, 1, REG_VEL_SET, &fl), 0);
	assert_true(fl == -FLT_MAX);
	assert_int_equal(ax_link_write(f->link, 1, REG_VEL_SET, nan_bytes, 4), 0);
	assert_int_equal(ax_link_read_float(f->link, 1, REG_VEL_SET, &fl), 0);
	assert_true(isnan(fl));
}

/* Objects can go in any order; the link keeps the context (and so its plugin) alive. */
static void test_link__release_orders(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		ax_ctx *ctx = new_ctx();
		ax_link *a = NULL, *b = NULL;
		uint32_t v = 0;

		assert_int_equal(ax_link_open(&a, ctx, "virtual:", NULL), 0);
		assert_int_equal(ax_link_open(&b, ctx, "virtual:?model=axs-200", NULL), 0);
		assert_ptr_equal(ax_link_ref(a), a);
		(void)ax_link_unref(a); /* drops the extra reference; ours remains */
		if (order == 0) {
			ctx = ax_ctx_unref(ctx);
			assert_int_equal(ax_link_read_u32(a, 0, REG_PRODUCT, &v), 0);
			assert_int_equal(v, AXS100_PRODUCT);
			a = ax_link_unref(a);
			assert_int_equal(ax_link_read_u32(b, 0, REG_PRODUCT, &v), 0);
			assert_int_equal(v, AXS200_PRODUCT);
			b = ax_link_unref(b);
		} else {
			b = ax_link_unref(b);
			a = ax_link_unref(a);
			ctx = ax_ctx_unref(ctx);
		}
		assert_null(a);
		assert_null(b);
		assert_null(ctx);
	}
	assert_null(ax_link_unref(NULL));
	assert_null(ax_ctx_unref(NULL));
}

/*
 * log.h: a log callback never runs under a library lock. The plugin logs
 * each frame at TRACE while the link's lock is held; a callback that uses
 * the same link from there deadlocked before those lines were held until
 * the unlock. alarm() turns a regression into a failure, not a hang.
 */
struct reuse {
	ax_link *link;
	int depth, reads, nested_ok;
	uint32_t product;
};

static void reuse_log(int level, const char *origin, const char *message, void *userdata)
{
	struct reuse *r = userdata;

	(void)message;
	if (level != AX_LOG_TRACE || strcmp(origin, "virtual") != 0 || r->depth > 0)
		return;
	r->depth++;
	r->reads++;
	if (ax_link_read_u32(r->link, 0, REG_PRODUCT, &r->product) == 0)
		r->nested_ok++;
	r->depth--;
}

static void test_link__log_callback_reuses_the_link(void **state)
{
	struct fixture *f = *state;
	struct reuse r = {.link = f->link};
	uint32_t vendor = 0;

	ax_ctx_set_log(f->ctx, AX_LOG_TRACE, reuse_log, &r);
	alarm(20);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &vendor), 0);
	alarm(0);
	ax_ctx_set_log(f->ctx, AX_LOG_WARN, NULL, NULL);
	assert_int_equal(vendor, VENDOR_ID);
	assert_true(r.reads > 0);
	assert_int_equal(r.nested_ok, r.reads);
	assert_int_equal(r.product, AXS100_PRODUCT);
}

static void count_log(int level, const char *origin, const char *message, void *userdata)
{
	(void)level;
	(void)origin;
	(void)message;
	(*(int *)userdata)++;
}

/*
 * Lines held during a request go out after the unlock, and the caller's
 * error with them: a drive's refusal keeps its code as well as its message.
 */
static void test_link__held_log_lines_keep_the_drive_code(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;
	int lines = 0;
	int err;

	ax_ctx_set_log(f->ctx, AX_LOG_TRACE, count_log, &lines);
	err = ax_link_read_u32(f->link, 0, 0x7FF, &v);
	ax_ctx_set_log(f->ctx, AX_LOG_WARN, NULL, NULL);
	assert_int_equal(err, AX_EDRIVE);
	assert_true(lines > 0);
	assert_int_equal(ax_error_last_drive_code(), 0x06020000u);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_DRIVE);
	assert_non_null(strstr(ax_error_last(), "0x06020000"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_link__identity, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_link__unreachable_register_refused, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_link__model_key_selects_drive, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_link__typed_round_trips, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_link__bytes_round_trip_extended, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_link__drive_error_replies, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_link__local_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_link__state_machine_through_link, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_link__threads_share_one_link, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_link__write_float_refuses_nonfinite, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_link__log_callback_reuses_the_link, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_link__held_log_lines_keep_the_drive_code,
	                                        setup, teardown),
	        cmocka_unit_test(test_link__release_orders),
	};
	return cmocka_run_group_tests_name("link", tests, NULL, NULL);
}
