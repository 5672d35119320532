/* SPDX-License-Identifier: MIT */
/*
 * Tests of the simulated drive. Every request goes in as a frame built by
 * libaxlink's MCB codec and every reply is decoded and checked by it, so
 * these tests also pin the simulator to the library's view of the wire.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axlink/ctx.h"
#include "axlink/dict.h"
#include "axlink/error.h"
#include "axlink/link.h"
#include "axlink/mcb.h"
#include "axlink/value.h"
#include "simdrive.h"
#include "simmodels.h"
#include "testctx.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Registers the tests touch (DESIGN §5). */
#define R_DIAG_ERROR_LAST 0x00F
#define R_CONTROL 0x010
#define R_STATUS 0x011
#define R_OP_CMD 0x014
#define R_OP_VALUE 0x015
#define R_POS_SP 0x020
#define R_VEL_SP 0x021
#define R_MAX_VEL 0x025
#define R_POS_FBK 0x030
#define R_VEL_FBK 0x031
#define R_VBUS 0x060
#define R_AXIS_NUMBER 0x0A0
#define R_ENC_RES 0x388
#define R_HOM_OFFSET 0x451
#define R_COMMS_WATCHDOG 0x0A8
#define R_STORE 0x6DB
#define R_RESTORE 0x6DC
#define R_VENDOR 0x6E0
#define R_PRODUCT 0x6E1
#define R_REVISION 0x6E2
#define R_SW_VERSION 0x6E4
#define R_SERIAL 0x6E6
#define R_USER_DATA 0x6F0

#define SW_TARGET_REACHED 0x0400u
#define SW_SET_POINT_ACK 0x1000u
#define MS 1000000ull

static const simdrive_codec codec = {ax_mcb_encode, ax_mcb_decode};

static int drive_up(void **state)
{
	simdrive *d = NULL;

	if (simdrive_new(&d, &codec, "axs-100", 4242) < 0)
		return -1;
	*state = d;
	return 0;
}

static int drive_up_200(void **state)
{
	simdrive *d = NULL;

	if (simdrive_new(&d, &codec, "axs-200", 99) < 0)
		return -1;
	*state = d;
	return 0;
}

static int drive_down(void **state)
{
	simdrive_free(*state);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

struct xfer {
	uint8_t buf[AX_MCB_MAX_FRAME];
	size_t len;
	ax_mcb_frame f;
	const char *why;
};

static uint64_t le_get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static void le_put(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Send the raw request @req and decode the reply, which must come. */
static void xfer_raw(simdrive *d, const uint8_t *req, size_t len, struct xfer *x)
{
	x->len = simdrive_handle(d, req, len, x->buf, sizeof(x->buf), &x->why);
	if (!x->len)
		fail_msg("request dropped: %s", x->why ? x->why : "(no reason)");
	assert_in_range(x->len, AX_MCB_FRAME_SIZE, AX_MCB_MAX_FRAME);
	if (ax_mcb_decode(&x->f, x->buf, x->len) < 0)
		fail_msg("reply does not decode: %s", ax_error_last());
	assert_int_equal(x->f.frame_len, x->len);
	assert_int_equal(x->f.node, AX_MCB_NODE);
}

static void xfer_frame(simdrive *d, const ax_mcb_frame *req, struct xfer *x)
{
	uint8_t buf[AX_MCB_MAX_FRAME];
	size_t len = 0;

	assert_int_equal(ax_mcb_encode(buf, sizeof(buf), &len, req), 0);
	xfer_raw(d, buf, len, x);
	assert_int_equal(x->f.subnode, req->subnode);
	assert_int_equal(x->f.address, req->address);
}

static void do_read(simdrive *d, unsigned sub, unsigned addr, struct xfer *x)
{
	ax_mcb_frame f;

	memset(&f, 0, sizeof(f));
	f.node = AX_MCB_NODE;
	f.subnode = (uint8_t)sub;
	f.address = (uint16_t)addr;
	f.command = AX_MCB_READ;
	xfer_frame(d, &f, x);
}

/* Write @len bytes; extended when @len > 8 or @extended. */
static void do_write(simdrive *d, unsigned sub, unsigned addr, const void *val, size_t len,
                     int extended, struct xfer *x)
{
	ax_mcb_frame f;

	memset(&f, 0, sizeof(f));
	f.node = AX_MCB_NODE;
	f.subnode = (uint8_t)sub;
	f.address = (uint16_t)addr;
	f.command = AX_MCB_WRITE;
	if (extended || len > 8) {
		f.extended = 1;
		f.payload = val;
		f.payload_len = len;
	} else {
		memcpy(f.data, val, len);
	}
	xfer_frame(d, &f, x);
}

static void expect_ack(const struct xfer *x, unsigned sub, unsigned addr, const char *what)
{
	if (ax_mcb_check_reply(&x->f, sub, addr) != 0)
		fail_msg("%s of %u:0x%03X: %s", what, sub, addr, ax_error_last());
	assert_null(x->why);
}

static uint64_t read_num(simdrive *d, unsigned sub, unsigned addr)
{
	struct xfer x;

	do_read(d, sub, addr, &x);
	expect_ack(&x, sub, addr, "read");
	assert_false(x.f.extended);
	return le_get(x.f.data, 8);
}

static void write_num(simdrive *d, unsigned sub, unsigned addr, uint64_t v)
{
	uint8_t val[8];
	struct xfer x;

	le_put(val, sizeof(val), v);
	do_write(d, sub, addr, val, sizeof(val), 0, &x);
	expect_ack(&x, sub, addr, "write");
	/* The ack carries the written value (DESIGN §5, golden "write control"). */
	assert_memory_equal(x.f.data, val, sizeof(val));
}

static float read_float(simdrive *d, unsigned sub, unsigned addr)
{
	uint32_t u = (uint32_t)read_num(d, sub, addr);
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static void write_float(simdrive *d, unsigned sub, unsigned addr, float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	write_num(d, sub, addr, u);
}

/* The reply must be an error reply of @command's kind carrying @code. */
static void expect_refusal(const char *name, const struct xfer *x, int command, unsigned sub,
                           unsigned addr, uint32_t code)
{
	int want = command == AX_MCB_READ ? AX_MCB_ERR_READ : AX_MCB_ERR_WRITE;

	if (x->f.command != want)
		fail_msg("%s: reply command %d, want %d", name, x->f.command, want);
	if (le_get(x->f.data, 4) != code)
		fail_msg("%s: code 0x%08X, want 0x%08X", name, (unsigned)le_get(x->f.data, 4),
		         (unsigned)code);
	assert_int_equal(le_get(x->f.data + 4, 4), 0);
	assert_false(x->f.extended);
	if (ax_mcb_check_reply(&x->f, sub, addr) != AX_EDRIVE)
		fail_msg("%s: check_reply did not report a drive error", name);
	assert_int_equal(ax_error_last_drive_code(), code);
	if (!x->why)
		fail_msg("%s: no reason given", name);
}

/* ---- CiA 402 decoding with the masks of DESIGN §7 ----------------------- */

static const struct {
	uint16_t mask, value;
	const char *name;
} cia_states[] = {
        {0x4F, 0x00, "not ready to switch on"}, {0x4F, 0x40, "switch on disabled"},
        {0x6F, 0x21, "ready to switch on"},     {0x6F, 0x23, "switched on"},
        {0x6F, 0x27, "operation enabled"},      {0x6F, 0x07, "quick stop active"},
        {0x4F, 0x0F, "fault reaction active"},  {0x4F, 0x08, "fault"},
};

/* The one state @sw decodes to, or "ambiguous" / "no state". */
static const char *cia_state(uint16_t sw)
{
	const char *found = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(cia_states); i++) {
		if ((sw & cia_states[i].mask) != cia_states[i].value)
			continue;
		if (found)
			return "ambiguous";
		found = cia_states[i].name;
	}
	return found ? found : "no state";
}

static void expect_state(simdrive *d, unsigned axis, const char *want, const char *step)
{
	uint16_t sw = (uint16_t)read_num(d, axis, R_STATUS);

	if (strcmp(cia_state(sw), want) != 0)
		fail_msg("%s: status 0x%04X is '%s', want '%s'", step, sw, cia_state(sw), want);
}

static void enable_axis(simdrive *d, unsigned axis)
{
	write_num(d, axis, R_CONTROL, 0x06);
	write_num(d, axis, R_CONTROL, 0x07);
	write_num(d, axis, R_CONTROL, 0x0F);
	expect_state(d, axis, "operation enabled", "enable");
}

/* ---- models and identity ----------------------------------------------- */

static void test_simdrive__models(void **state)
{
	const simdrive_model *m = simdrive_models();
	simdrive *d = (simdrive *)&d; /* must stay untouched on failure */
	size_t n = 0;

	(void)state;
	while (m[n].name)
		n++;
	/* One model per dictionary in devices/, sorted by name. */
	assert_int_equal(n, 3);
	assert_string_equal(m[0].name, "axs-100");
	assert_int_equal(m[0].axes, 1);
	assert_string_equal(m[1].name, "axs-200");
	assert_int_equal(m[1].axes, 2);
	assert_string_equal(m[2].name, "axs-900");
	assert_int_equal(m[2].axes, 8);
	assert_ptr_equal(simdrive_model_find("AXS-200"), &m[1]);
	assert_ptr_equal(simdrive_model_find("axs-900"), &m[2]);
	assert_null(simdrive_model_find("axs-300"));
	assert_null(simdrive_model_find("axs-10"));
	assert_null(simdrive_model_find(NULL));

	assert_int_equal(simdrive_new(&d, &codec, "axs-300", 1), -1);
	assert_ptr_equal(d, (simdrive *)&d);
	assert_int_equal(simdrive_new(&d, NULL, "axs-100", 1), -1);
	assert_ptr_equal(d, (simdrive *)&d);

	/* No model name: the first model. */
	assert_int_equal(simdrive_new(&d, &codec, NULL, 1), 0);
	assert_int_equal(read_num(d, 0, R_AXIS_NUMBER), m[0].axes);
	assert_int_equal(read_num(d, 0, R_PRODUCT), m[0].product_code);
	simdrive_free(d);
	simdrive_free(NULL);
}

static void check_identity(const char *name, uint32_t serial)
{
	const simdrive_model *m = simdrive_model_find(name);
	char want[64];
	simdrive *d;

	assert_non_null(m);
	assert_int_equal(simdrive_new(&d, &codec, name, serial), 0);
	(void)snprintf(want, sizeof(want), "%s fw %s-sim", m->name, m->sw_version);

	assert_int_equal(read_num(d, 0, R_AXIS_NUMBER), m->axes);
	/* The comm core and every axis carry the identity. */
	for (unsigned sub = 0; sub <= m->axes; sub++) {
		struct xfer x;

		assert_int_equal(read_num(d, sub, R_VENDOR), SIMDRIVE_VENDOR_ID);
		assert_int_equal(read_num(d, sub, R_PRODUCT), m->product_code);
		assert_int_equal(read_num(d, sub, R_REVISION), m->revision);
		assert_int_equal(read_num(d, sub, R_SERIAL), serial);
		do_read(d, sub, R_SW_VERSION, &x);
		expect_ack(&x, sub, R_SW_VERSION, "read version");
		assert_true(x.f.extended);
		assert_int_equal(x.f.payload_len, strlen(want) + 1);
		assert_string_equal((const char *)x.f.payload, want);
	}
	for (unsigned axis = 1; axis <= m->axes; axis++) {
		assert_true(read_float(d, axis, R_VBUS) == 48.0f);
		assert_int_equal(read_num(d, axis, R_ENC_RES), 4096);
		expect_state(d, axis, "switch on disabled", name);
	}
	simdrive_free(d);
}

static void test_simdrive__identity(void **state)
{
	(void)state;
	check_identity("axs-100", 4242);
	check_identity("axs-200", 0xFFFFFFFFu);
	check_identity("axs-200", 0);
}

static void test_simdrive__instances_are_independent(void **state)
{
	simdrive *a = *state, *b;

	assert_int_equal(simdrive_new(&b, &codec, "axs-100", 7), 0);
	write_num(a, 1, R_HOM_OFFSET, 1234);
	enable_axis(a, 1);
	assert_int_equal(read_num(b, 1, R_HOM_OFFSET), 0);
	expect_state(b, 1, "switch on disabled", "other instance");
	assert_int_equal(read_num(b, 0, R_SERIAL), 7);
	assert_int_equal(read_num(a, 0, R_SERIAL), 4242);
	simdrive_free(b);
}

/* ---- golden frames of DESIGN §5 ---------------------------------------- */

static void test_simdrive__golden_frames(void **state)
{
	static const uint8_t read_status[] = {0xa1, 0x00, 0x12, 0x01, 0, 0,    0,
	                                      0,    0,    0,    0,    0, 0x4b, 0x66};
	static const uint8_t write_control[] = {0xa1, 0x00, 0x04, 0x01, 0x0f, 0,    0,
	                                        0,    0,    0,    0,    0,    0xa0, 0x58};
	static const uint8_t write_control_ack[] = {0xa1, 0x00, 0x06, 0x01, 0x0f, 0,    0,
	                                            0,    0,    0,    0,    0,    0x2a, 0x86};
	static const uint8_t write_0a1[] = {0xa0, 0x00, 0x14, 0x0a, 0x78, 0x56, 0x34,
	                                    0x12, 0,    0,    0,    0,    0xaa, 0x9e};
	uint8_t ext_write[14 + 16] = {0xa0, 0x00, 0x45, 0x0b, 0x10, 0,    0,
	                              0,    0,    0,    0,    0,    0x64, 0x4d};
	simdrive *d = *state;
	struct xfer x;

	xfer_raw(d, read_status, sizeof(read_status), &x);
	assert_int_equal(x.len, AX_MCB_FRAME_SIZE);
	assert_memory_equal(x.buf, "\xa1\x00\x16\x01", 4); /* ack of subnode 1, 0x011 */
	assert_string_equal(cia_state((uint16_t)le_get(x.f.data, 2)), "switch on disabled");
	assert_int_equal(le_get(x.f.data + 2, 6), 0);

	xfer_raw(d, write_control, sizeof(write_control), &x);
	assert_int_equal(x.len, sizeof(write_control_ack));
	assert_memory_equal(x.buf, write_control_ack, sizeof(write_control_ack));

	/*
	 * The golden register 0x0A1 is not in axs-100; 0x0B4 is DIST_DATA_VALUE,
	 * whose data a drive refuses before a disturbance map says what it is.
	 */
	xfer_raw(d, write_0a1, sizeof(write_0a1), &x);
	expect_refusal("golden u32 write", &x, AX_MCB_WRITE, 0, 0x0A1, AX_MCB_CODE_NO_OBJECT);
	for (unsigned i = 0; i < 16; i++)
		ext_write[14 + i] = (uint8_t)i;
	xfer_raw(d, ext_write, sizeof(ext_write), &x);
	expect_refusal("golden extended write", &x, AX_MCB_WRITE, 0, 0x0B4,
	               AX_MCB_CODE_NOT_EXECUTED);
}

/* ---- error replies ----------------------------------------------------- */

struct refusal_case {
	const char *name;
	int command;
	unsigned sub, addr;
	uint64_t value;
	size_t len; /* bytes written; > 8 or extended: extended frame */
	int extended;
	uint32_t code;
};

static const struct refusal_case refusal_cases[] = {
        {"unknown address", AX_MCB_READ, 1, 0x123, 0, 0, 0, AX_MCB_CODE_NO_OBJECT},
        {"unknown address, write", AX_MCB_WRITE, 0, 0x7FF, 1, 8, 0, AX_MCB_CODE_NO_OBJECT},
        {"subnode beyond axes", AX_MCB_READ, 2, R_STATUS, 0, 0, 0, AX_MCB_CODE_NO_OBJECT},
        {"subnode 15", AX_MCB_READ, 15, R_VENDOR, 0, 0, 0, AX_MCB_CODE_NO_OBJECT},
        {"axis register on subnode 0", AX_MCB_READ, 0, R_STATUS, 0, 0, 0, AX_MCB_CODE_NO_OBJECT},
        {"comm register on an axis", AX_MCB_READ, 1, R_AXIS_NUMBER, 0, 0, 0, AX_MCB_CODE_NO_OBJECT},
        {"restore on an axis", AX_MCB_WRITE, 1, R_RESTORE, 0x64616F6C, 8, 0, AX_MCB_CODE_NO_OBJECT},
        {"write read-only status word", AX_MCB_WRITE, 1, R_STATUS, 0x27, 8, 0, AX_MCB_CODE_ACCESS},
        {"write read-only vendor", AX_MCB_WRITE, 0, R_VENDOR, 1, 8, 0, AX_MCB_CODE_ACCESS},
        {"write read-only position", AX_MCB_WRITE, 1, R_POS_FBK, 5, 8, 0, AX_MCB_CODE_ACCESS},
        {"write read-only version", AX_MCB_WRITE, 0, R_SW_VERSION, 0x41, 16, 0, AX_MCB_CODE_ACCESS},
        {"read write-only restore", AX_MCB_READ, 0, R_RESTORE, 0, 0, 0, AX_MCB_CODE_ACCESS},
        {"extended write to u16", AX_MCB_WRITE, 1, R_CONTROL, 0x0F, 16, 0, AX_MCB_CODE_WRONG_SIZE},
        {"extended write of 2 bytes to u16", AX_MCB_WRITE, 1, R_CONTROL, 0x0F, 2, 1,
         AX_MCB_CODE_WRONG_SIZE},
        {"extended write of 4 bytes to float", AX_MCB_WRITE, 1, R_MAX_VEL, 0x40000000, 4, 1,
         AX_MCB_CODE_WRONG_SIZE},
        {"operation mode out of range", AX_MCB_WRITE, 1, R_OP_CMD, 0x01, 8, 0, AX_MCB_CODE_RANGE},
        {"store without signature", AX_MCB_WRITE, 0, R_STORE, 1, 8, 0, 0x08000020u},
        {"restore without signature", AX_MCB_WRITE, 0, R_RESTORE, 0x64616F6D, 8, 0, 0x08000020u},
};

static void test_simdrive__refusals(void **state)
{
	simdrive *d = *state;

	for (size_t i = 0; i < ARRAY_SIZE(refusal_cases); i++) {
		const struct refusal_case *c = &refusal_cases[i];
		uint8_t val[32];
		struct xfer x;

		memset(val, 0, sizeof(val));
		le_put(val, 8, c->value);
		if (c->command == AX_MCB_READ)
			do_read(d, c->sub, c->addr, &x);
		else
			do_write(d, c->sub, c->addr, val, c->len, c->extended, &x);
		expect_refusal(c->name, &x, c->command, c->sub, c->addr, c->code);
	}
	/* Nothing refused left a trace. */
	expect_state(d, 1, "switch on disabled", "after refusals");
	assert_int_equal(read_num(d, 1, R_CONTROL), 0);
	assert_int_equal(read_num(d, 1, R_OP_VALUE), 0x14);
	assert_true(read_float(d, 1, R_MAX_VEL) == 10.0f);
}

/* ---- str and byte-array values ----------------------------------------- */

static void test_simdrive__byte_array_round_trip(void **state)
{
	uint8_t pattern[512], got[512], eight[8], sixteen[16];
	simdrive *d = *state;
	struct xfer x;

	do_read(d, 0, R_USER_DATA, &x);
	expect_ack(&x, 0, R_USER_DATA, "read user data");
	assert_true(x.f.extended);
	assert_int_equal(x.f.payload_len, 512);
	memset(got, 0, sizeof(got));
	assert_memory_equal(x.f.payload, got, 512);

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	do_write(d, 0, R_USER_DATA, pattern, sizeof(pattern), 0, &x);
	expect_ack(&x, 0, R_USER_DATA, "write user data");
	assert_false(x.f.extended);
	memset(eight, 0, sizeof(eight));
	assert_memory_equal(x.f.data, eight, 8); /* extended writes are acked with zeros */

	do_read(d, 0, R_USER_DATA, &x);
	expect_ack(&x, 0, R_USER_DATA, "read back");
	assert_int_equal(x.f.payload_len, 512);
	assert_memory_equal(x.f.payload, pattern, 512);

	/* A plain frame writes the first 8 bytes, a short extended one its length. */
	memset(eight, 0xAA, sizeof(eight));
	do_write(d, 0, R_USER_DATA, eight, sizeof(eight), 0, &x);
	expect_ack(&x, 0, R_USER_DATA, "plain write");
	memset(sixteen, 0x55, sizeof(sixteen));
	do_write(d, 0, R_USER_DATA, sixteen + 8, 4, 1, &x);
	expect_ack(&x, 0, R_USER_DATA, "4-byte extended write");
	memcpy(got, pattern, sizeof(got));
	memcpy(got, eight, sizeof(eight));
	memcpy(got, sixteen, 4);
	do_read(d, 0, R_USER_DATA, &x);
	expect_ack(&x, 0, R_USER_DATA, "read after partial writes");
	assert_memory_equal(x.f.payload, got, 512);
}

static void test_simdrive__register_api(void **state)
{
	simdrive *d = *state;
	uint8_t buf[512], four[4] = {0x00, 0x10, 0, 0};
	uint32_t code = 0;
	size_t len = 0;

	assert_int_equal(simdrive_read(d, 0, R_VENDOR, buf, sizeof(buf), &len, &code), 0);
	assert_int_equal(len, 4);
	assert_int_equal(le_get(buf, 4), SIMDRIVE_VENDOR_ID);

	assert_int_equal(simdrive_read(d, 0, R_SW_VERSION, buf, sizeof(buf), &len, &code), 0);
	assert_int_equal(len, strlen("axs-100 fw 1.2.0-sim") + 1);
	assert_string_equal((const char *)buf, "axs-100 fw 1.2.0-sim");

	/* Too small a buffer is refused, not truncated. */
	len = 99;
	assert_int_equal(simdrive_read(d, 0, R_SW_VERSION, buf, 8, &len, &code), -1);
	assert_int_equal(code, AX_MCB_CODE_WRONG_SIZE);
	assert_int_equal(len, 99);
	assert_int_equal(simdrive_read(d, 3, R_VENDOR, buf, sizeof(buf), &len, &code), -1);
	assert_int_equal(code, AX_MCB_CODE_NO_OBJECT);

	assert_int_equal(simdrive_write(d, 1, R_ENC_RES, four, 2, &code), -1);
	assert_int_equal(code, AX_MCB_CODE_WRONG_SIZE);
	assert_int_equal(simdrive_write(d, 1, R_ENC_RES, four, 4, &code), 0);
	assert_int_equal(read_num(d, 1, R_ENC_RES), 0x1000);
	four[1] = 0x20;
	assert_int_equal(simdrive_write(d, 1, R_ENC_RES, four, 4, &code), 0);
	assert_int_equal(read_num(d, 1, R_ENC_RES), 0x2000);
	assert_int_equal(simdrive_write(d, 0, R_RESTORE, four, 4, &code), -1);
	assert_int_equal(code, 0x08000020u);

	assert_int_equal(simdrive_read(NULL, 0, R_VENDOR, buf, sizeof(buf), &len, &code), -1);
	assert_int_equal(simdrive_write(NULL, 0, R_VENDOR, buf, 4, &code), -1);
	assert_int_equal(simdrive_fault(d, 2, 1), -1);
	simdrive_tick(NULL, 1);
}

static void test_simdrive__store_restore(void **state)
{
	uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8}, zeros[512];
	simdrive *d = *state;
	struct xfer x;

	write_float(d, 1, R_MAX_VEL, 3.5f);
	write_num(d, 1, R_HOM_OFFSET, (uint32_t)-100);
	write_num(d, 1, R_ENC_RES, 1000);
	write_num(d, 1, R_POS_SP, 777);
	do_write(d, 0, R_USER_DATA, data, sizeof(data), 0, &x);
	expect_ack(&x, 0, R_USER_DATA, "user data");

	assert_int_equal(read_num(d, 0, R_STORE), 1);
	write_num(d, 0, R_STORE, 0x65766173); /* "save" */
	write_num(d, 1, R_STORE, 0x65766173);
	assert_int_equal(read_num(d, 0, R_STORE), 1);
	/* Storing changes no value. */
	assert_true(read_float(d, 1, R_MAX_VEL) == 3.5f);
	assert_int_equal((int32_t)read_num(d, 1, R_HOM_OFFSET), -100);

	write_num(d, 0, R_RESTORE, 0x64616F6C); /* "load" */
	assert_true(read_float(d, 1, R_MAX_VEL) == 10.0f);
	assert_int_equal(read_num(d, 1, R_HOM_OFFSET), 0);
	assert_int_equal(read_num(d, 1, R_ENC_RES), 4096);
	do_read(d, 0, R_USER_DATA, &x);
	memset(zeros, 0, sizeof(zeros));
	assert_memory_equal(x.f.payload, zeros, 512);
	/* Set points are not parameters: restore leaves them. */
	assert_int_equal(read_num(d, 1, R_POS_SP), 777);
}

/* ---- non-volatile memory in a state folder ----------------------------- */

#define SIG_SAVE 0x65766173u /* "save" */
#define SIG_LOAD 0x64616F6Cu /* "load" */

struct nvm_dir {
	char path[64];
	char file[96];
};

/* A new empty state folder; the file of serial @serial in it. */
static void nvm_dir_new(struct nvm_dir *t, uint32_t serial)
{
	(void)snprintf(t->path, sizeof(t->path), "/tmp/axlink-test-nvm-XXXXXX");
	if (!mkdtemp(t->path))
		fail_msg("mkdtemp: %s", strerror(errno));
	(void)snprintf(t->file, sizeof(t->file), "%s/%u.nvm", t->path, (unsigned)serial);
}

static void nvm_dir_free(struct nvm_dir *t)
{
	(void)unlink(t->file);
	assert_int_equal(rmdir(t->path), 0); /* nothing else left behind: no temp files */
}

/* A drive of axs-100, serial @serial, on the state folder @t ("power on"). */
static simdrive *nvm_power_on(const struct nvm_dir *t, uint32_t serial)
{
	char why[256] = "";
	simdrive *d = NULL;

	assert_int_equal(simdrive_new(&d, &codec, "axs-100", serial), 0);
	if (simdrive_set_state_dir(d, t->path, why, sizeof(why)) < 0)
		fail_msg("simdrive_set_state_dir: %s", why);
	return d;
}

static void nvm_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_simdrive__store_survives_power_cycle(void **state)
{
	struct nvm_dir t;
	simdrive *d;

	(void)state;
	nvm_dir_new(&t, 515);
	d = nvm_power_on(&t, 515);
	write_float(d, 1, R_MAX_VEL, 42.5f);
	write_num(d, 0, R_COMMS_WATCHDOG, 250);
	write_num(d, 1, R_POS_SP, 777);     /* not a parameter: never stored */
	write_num(d, 1, R_STORE, SIG_SAVE); /* the axis only */
	simdrive_free(d);

	d = nvm_power_on(&t, 515);
	assert_true(read_float(d, 1, R_MAX_VEL) == 42.5f);
	assert_int_equal(read_num(d, 0, R_COMMS_WATCHDOG), 0); /* subnode 0 was not stored */
	assert_int_equal(read_num(d, 1, R_POS_SP), 0);
	write_num(d, 0, R_COMMS_WATCHDOG, 250);
	write_num(d, 0, R_STORE, SIG_SAVE);
	simdrive_free(d);

	/* Another unit on the same folder has a memory of its own. */
	{
		struct nvm_dir other = t;
		simdrive *o;

		(void)snprintf(other.file, sizeof(other.file), "%s/516.nvm", t.path);
		o = nvm_power_on(&other, 516);
		assert_true(read_float(o, 1, R_MAX_VEL) == 10.0f);
		simdrive_free(o);
		(void)unlink(other.file);
	}

	d = nvm_power_on(&t, 515);
	assert_true(read_float(d, 1, R_MAX_VEL) == 42.5f);
	assert_int_equal(read_num(d, 0, R_COMMS_WATCHDOG), 250);
	/* Restore: the defaults at once, and after the next power cycle. */
	write_num(d, 0, R_RESTORE, SIG_LOAD);
	assert_true(read_float(d, 1, R_MAX_VEL) == 10.0f);
	simdrive_free(d);
	d = nvm_power_on(&t, 515);
	assert_true(read_float(d, 1, R_MAX_VEL) == 10.0f);
	assert_int_equal(read_num(d, 0, R_COMMS_WATCHDOG), 0);
	simdrive_free(d);
	nvm_dir_free(&t);
}

static void test_simdrive__store_without_folder_lives_with_drive(void **state)
{
	simdrive *d = *state;

	/* Restore brings back what is in the memory: the defaults, not a store's. */
	write_float(d, 1, R_MAX_VEL, 7.0f);
	write_num(d, 1, R_STORE, SIG_SAVE);
	write_num(d, 0, R_RESTORE, SIG_LOAD);
	assert_true(read_float(d, 1, R_MAX_VEL) == 10.0f);
	/* Dropping the folder is allowed and keeps the values in use. */
	write_float(d, 1, R_MAX_VEL, 8.0f);
	assert_int_equal(simdrive_set_state_dir(d, NULL, NULL, 0), 0);
	assert_true(read_float(d, 1, R_MAX_VEL) == 8.0f);
}

struct bad_file {
	const char *name;
	const char *text;
	const char *why; /* in the message, after "FILE:LINE: " */
	int line;
};

static const struct bad_file bad_files[] = {
        {"other model", "model axs-200\nserial 520\n", "another model", 1},
        {"other serial", "model axs-100\nserial 521\n", "another serial", 2},
        {"bad subnode", "# c\n16 0x025 00002041\n", "subnode", 2},
        {"bad address", "1 0x1025 00002041\n", "address", 1},
        {"odd hex", "1 0x025 0000204\n", "hex digits", 1},
        {"not hex", "1 0x025 zz\n", "hex digits", 1},
        {"too long", "1 0x025 0000204100\n", "longer than the register", 1},
        {"no value", "1 0x025\n", "address", 1},
};

static void test_simdrive__state_file_errors(void **state)
{
	struct nvm_dir t;

	(void)state;
	nvm_dir_new(&t, 520);
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad_file *c = &bad_files[i];
		char why[256] = "", want[160];
		simdrive *d = NULL;

		nvm_write_file(t.file, c->text);
		assert_int_equal(simdrive_new(&d, &codec, "axs-100", 520), 0);
		if (simdrive_set_state_dir(d, t.path, why, sizeof(why)) != -1)
			fail_msg("%s: accepted", c->name);
		(void)snprintf(want, sizeof(want), "%s:%d: ", t.file, c->line);
		if (strncmp(why, want, strlen(want)) != 0 || !strstr(why, c->why))
			fail_msg("%s: message '%s', want '%s...%s'", c->name, why, want, c->why);
		/* Nothing applied: the drive keeps its defaults. */
		assert_true(read_float(d, 1, R_MAX_VEL) == 10.0f);
		simdrive_free(d);
	}
	/* Registers the model does not have or does not store are skipped, CRLF too. */
	nvm_write_file(t.file, "model axs-100\r\nserial 520\r\n1 0x7FF 01\r\n1 0x011 3700\r\n"
	                       "1 0x025 00002842\r\n\r\n");
	{
		simdrive *d = nvm_power_on(&t, 520);

		assert_true(read_float(d, 1, R_MAX_VEL) == 42.0f);
		assert_int_equal(read_num(d, 1, R_STATUS) & 0x6F, 0x40); /* still disabled */
		simdrive_free(d);
	}
	nvm_dir_free(&t);
}

static void test_simdrive__store_refused_when_enabled(void **state)
{
	simdrive *d = *state;
	uint8_t sig[4] = {0x73, 0x61, 0x76, 0x65}; /* "save" */
	uint32_t code = 0;

	assert_int_equal(simdrive_set_quirks(d, SIMDRIVE_QUIRK_STORE_NEEDS_DISABLED), 0);
	write_num(d, 1, R_STORE, SIG_SAVE); /* disabled: fine */
	enable_axis(d, 1);
	assert_int_equal(simdrive_write(d, 1, R_STORE, sig, sizeof(sig), &code), -1);
	assert_int_equal(code, SIMDRIVE_CODE_STATE);
	code = 0;
	assert_int_equal(simdrive_write(d, 0, R_STORE, sig, sizeof(sig), &code), -1);
	assert_int_equal(code, SIMDRIVE_CODE_STATE);
	/* Without the quirk the drive stores whatever its state. */
	assert_int_equal(simdrive_set_quirks(d, 0), 0);
	assert_int_equal(simdrive_write(d, 1, R_STORE, sig, sizeof(sig), &code), 0);
}

static void test_simdrive__slow_store_reads_signature(void **state)
{
	simdrive *d = *state;

	assert_int_equal(simdrive_set_quirks(d, SIMDRIVE_QUIRK_SLOW_STORE), 0);
	simdrive_tick(d, 1000 * MS);
	write_num(d, 1, R_STORE, SIG_SAVE);
	assert_int_equal(read_num(d, 1, R_STORE), SIG_SAVE);
	assert_int_equal(read_num(d, 0, R_STORE), 1); /* the other core is not busy */
	simdrive_tick(d, 1000 * MS + SIMDRIVE_SLOW_STORE_NS - MS);
	assert_int_equal(read_num(d, 1, R_STORE), SIG_SAVE);
	simdrive_tick(d, 1000 * MS + SIMDRIVE_SLOW_STORE_NS);
	assert_int_equal(read_num(d, 1, R_STORE), 1);
}

/* ---- garbage in -------------------------------------------------------- */

static size_t good_read_frame(uint8_t *buf, unsigned sub, unsigned addr)
{
	assert_int_equal(ax_mcb_encode_read(buf, sub, addr), 0);
	return AX_MCB_FRAME_SIZE;
}

static void set_crc(uint8_t *buf)
{
	uint16_t crc = ax_mcb_crc16(buf, 12);

	buf[12] = (uint8_t)crc;
	buf[13] = (uint8_t)(crc >> 8);
}

/* @frame must be dropped: no reply, a reason containing @why_part, buffer untouched. */
static void expect_drop(simdrive *d, const char *name, const uint8_t *frame, size_t len,
                        const char *why_part)
{
	uint8_t reply[AX_MCB_MAX_FRAME], untouched[AX_MCB_MAX_FRAME];
	const char *why = NULL;
	size_t n;

	memset(reply, 0xCC, sizeof(reply));
	memset(untouched, 0xCC, sizeof(untouched));
	n = simdrive_handle(d, frame, len, reply, sizeof(reply), &why);
	if (n != 0)
		fail_msg("%s: answered with %zu bytes", name, n);
	if (!why || !why[0])
		fail_msg("%s: dropped without a reason", name);
	if (why_part && !strstr(why, why_part))
		fail_msg("%s: reason '%s' does not mention '%s'", name, why, why_part);
	assert_memory_equal(reply, untouched, sizeof(reply));
}

static void test_simdrive__garbage_dropped(void **state)
{
	uint8_t frame[AX_MCB_MAX_FRAME + 100];
	ax_mcb_frame ack;
	simdrive *d = *state;
	uint64_t rnd = 0x9E3779B97F4A7C15ull;
	size_t len;

	for (int i = 0; i < 8; i++) {
		for (size_t j = 0; j < AX_MCB_FRAME_SIZE; j++) {
			rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
			frame[j] = (uint8_t)rnd;
		}
		/* Random bytes pass a 16-bit CRC once in 65536: these do not. */
		expect_drop(d, "random bytes", frame, AX_MCB_FRAME_SIZE, "CRC");
	}

	len = good_read_frame(frame, 1, R_STATUS);
	frame[5] ^= 0x01;
	expect_drop(d, "bad CRC", frame, len, "CRC");

	len = good_read_frame(frame, 1, R_STATUS);
	expect_drop(d, "13 bytes", frame, len - 1, "truncated");
	expect_drop(d, "empty", frame, 0, "truncated");

	/* An extended frame claiming 600 bytes, with all 600 present. */
	memset(frame, 0x5A, sizeof(frame));
	len = good_read_frame(frame, 0, R_USER_DATA);
	frame[2] = (uint8_t)(frame[2] & ~0x0Fu) | 0x05; /* extended write */
	memset(frame + 4, 0, 8);
	le_put(frame + 4, 8, 600);
	set_crc(frame);
	expect_drop(d, "extended length 600", frame, 14 + 600, "512");

	/* An extended frame whose payload is cut short. */
	le_put(frame + 4, 8, 16);
	set_crc(frame);
	expect_drop(d, "short payload", frame, 14 + 4, "truncated");

	len = good_read_frame(frame, 1, R_STATUS);
	frame[0] = (uint8_t)(0xB << 4 | 1);
	set_crc(frame);
	expect_drop(d, "node 0xB", frame, len, "node");

	memset(&ack, 0, sizeof(ack));
	ack.node = AX_MCB_NODE;
	ack.subnode = 1;
	ack.address = R_STATUS;
	ack.command = AX_MCB_ACK;
	assert_int_equal(ax_mcb_encode(frame, sizeof(frame), &len, &ack), 0);
	expect_drop(d, "ack command", frame, len, "not a request");
	ack.command = AX_MCB_ERR_READ;
	assert_int_equal(ax_mcb_encode(frame, sizeof(frame), &len, &ack), 0);
	expect_drop(d, "error reply command", frame, len, "not a request");

	/* A reply buffer too small for the reply: dropped, not overflowed. */
	{
		uint8_t small[AX_MCB_FRAME_SIZE + 8];
		const char *why = NULL;

		len = good_read_frame(frame, 0, R_USER_DATA);
		memset(small, 0xCC, sizeof(small));
		assert_int_equal(simdrive_handle(d, frame, len, small, sizeof(small), &why), 0);
		assert_non_null(why);
		assert_int_equal(simdrive_handle(NULL, frame, len, small, sizeof(small), &why), 0);
		assert_non_null(why);
	}
	/* The drive still answers. */
	expect_state(d, 1, "switch on disabled", "after garbage");
}

/* xorshift64: a fixed sequence on every platform. */
static uint64_t fuzz_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_simdrive__fuzz(void **state)
{
	static const uint16_t known[] = {0x00F, 0x010, 0x011, 0x014, 0x015, 0x01A, 0x020,
	                                 0x021, 0x024, 0x025, 0x026, 0x027, 0x030, 0x031,
	                                 0x03B, 0x060, 0x0A0, 0x388, 0x450, 0x451, 0x6DB,
	                                 0x6DC, 0x6E0, 0x6E1, 0x6E2, 0x6E4, 0x6E6, 0x6F0};
	uint8_t req[AX_MCB_MAX_FRAME + 64], reply[AX_MCB_MAX_FRAME];
	uint64_t s = 0x2545F4914F6CDD1Dull, now = 1;
	unsigned answered = 0, acked = 0;
	simdrive *d = *state;

	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(fuzz_next(&s) % 4 ? AX_MCB_FRAME_SIZE : fuzz_next(&s) % 80);
		const char *why = NULL;
		size_t n;

		for (size_t j = 0; j < sizeof(req); j++)
			req[j] = (uint8_t)fuzz_next(&s);
		if (i % 2 == 0) {
			uint64_t r = fuzz_next(&s);
			unsigned cmd = (unsigned)(r % 8 < 6 ? 1 + r % 2 : r % 8);
			unsigned addr = (unsigned)(r >> 8 & 1 ? known[(r >> 16) % ARRAY_SIZE(known)]
			                                      : (r >> 16) & 0xFFF);
			unsigned ext = (r >> 32) % 4 == 0;

			unsigned node = (unsigned)((r >> 40) % 8 ? AX_MCB_NODE : r >> 44 & 0xFFF);
			unsigned sub = (unsigned)((r >> 56) % 8 ? (r >> 59) % 3 : r >> 60);

			le_put(req, 2, node << 4 | sub);
			le_put(req + 2, 2, ext | cmd << 1 | addr << 4);
			if (ext) {
				uint64_t plen = (r >> 48) % 600;

				le_put(req + 4, 8, plen);
				len = AX_MCB_FRAME_SIZE + (size_t)(plen <= 512 ? plen : 0);
			} else if ((r >> 34) % 2) {
				memset(req + 6, 0, 6); /* small values reach the state machine */
			}
			set_crc(req);
		}
		n = simdrive_handle(d, req, len, reply, sizeof(reply), &why);
		if (n) {
			ax_mcb_frame rq, rp;

			answered++;
			assert_true(n <= sizeof(reply));
			assert_int_equal(ax_mcb_decode(&rq, req, len), 0);
			assert_int_equal(ax_mcb_decode(&rp, reply, n), 0);
			assert_int_equal(rp.frame_len, n);
			if (ax_mcb_check_reply(&rp, rq.subnode, rq.address) == 0)
				acked++;
			else
				assert_int_equal(ax_error_last_code(), AX_EDRIVE);
		} else {
			assert_non_null(why);
		}
		if (i % 16 == 0)
			simdrive_tick(d, now += 3 * MS);
	}
	/* The valid half must mostly get through, or the loop tested nothing. */
	assert_true(answered > 5000);
	assert_true(acked > 1000);
}

/* ---- CiA 402 ----------------------------------------------------------- */

struct cia_step {
	const char *name;
	uint16_t control;
	const char *want;
};

static void walk(simdrive *d, unsigned axis, const struct cia_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		write_num(d, axis, R_CONTROL, steps[i].control);
		assert_int_equal(read_num(d, axis, R_CONTROL), steps[i].control);
		expect_state(d, axis, steps[i].want, steps[i].name);
	}
}

static void test_simdrive__cia402_walk(void **state)
{
	static const struct cia_step steps[] = {
	        {"switch on before shutdown", 0x07, "switch on disabled"},
	        {"enable before shutdown", 0x0F, "switch on disabled"},
	        {"shutdown", 0x06, "ready to switch on"},
	        {"switch on", 0x07, "switched on"},
	        {"enable operation", 0x0F, "operation enabled"},
	        {"disable operation", 0x07, "switched on"},
	        {"enable again", 0x0F, "operation enabled"},
	        {"shutdown from enabled", 0x06, "ready to switch on"},
	        {"switch on and enable at once", 0x0F, "operation enabled"},
	        {"disable voltage", 0x00, "switch on disabled"},
	        {"shutdown again", 0x06, "ready to switch on"},
	        {"quick stop from ready", 0x02, "switch on disabled"},
	        {"fault reset outside fault", 0x80, "switch on disabled"},
	};
	simdrive *d = *state;

	expect_state(d, 1, "switch on disabled", "initial");
	walk(d, 1, steps, ARRAY_SIZE(steps));
}

/* skip-switched-on: 0x07 does not leave ready to switch on; 0x0F goes straight on. */
static void test_simdrive__quirk_skip_switched_on(void **state)
{
	static const struct cia_step steps[] = {
	        {"shutdown", 0x06, "ready to switch on"},
	        {"switch on ignored", 0x07, "ready to switch on"},
	        {"switch on held", 0x07, "ready to switch on"},
	        {"switch on and enable at once", 0x0F, "operation enabled"},
	        {"disable operation", 0x07, "switched on"},
	        {"enable from switched on", 0x0F, "operation enabled"},
	        {"shutdown from enabled", 0x06, "ready to switch on"},
	        {"switch on ignored again", 0x07, "ready to switch on"},
	        {"quick stop from ready", 0x02, "switch on disabled"},
	        {"switch on before shutdown", 0x07, "switch on disabled"},
	};
	simdrive *d = *state;

	assert_int_equal(simdrive_get_quirks(d), 0);
	assert_int_equal(simdrive_set_quirks(d, SIMDRIVE_QUIRK_SKIP_SWITCHED_ON), 0);
	assert_int_equal(simdrive_get_quirks(d), SIMDRIVE_QUIRK_SKIP_SWITCHED_ON);
	walk(d, 1, steps, ARRAY_SIZE(steps));
	/* Axis 2 of the same drive has the quirk too. */
	write_num(d, 2, R_CONTROL, 0x06);
	write_num(d, 2, R_CONTROL, 0x07);
	expect_state(d, 2, "ready to switch on", "axis 2 switch on ignored");

	/* Without the quirk again, 0x07 switches on as before. */
	assert_int_equal(simdrive_set_quirks(d, 0), 0);
	write_num(d, 2, R_CONTROL, 0x07);
	expect_state(d, 2, "switched on", "no quirk: switch on");

	/* A fault armed for the next state change does not fire on an ignored 0x07. */
	assert_int_equal(simdrive_set_quirks(d, SIMDRIVE_QUIRK_SKIP_SWITCHED_ON), 0);
	write_num(d, 1, R_CONTROL, 0x06);
	write_num(d, 1, 0x7E1, 0x4210); /* SIM_FAULT_ARM */
	write_num(d, 1, R_CONTROL, 0x07);
	expect_state(d, 1, "ready to switch on", "armed, switch on ignored");
	write_num(d, 1, R_CONTROL, 0x0F);
	expect_state(d, 1, "fault", "armed, enable");
	assert_int_equal(read_num(d, 1, R_DIAG_ERROR_LAST), 0x4210);

	assert_int_equal(simdrive_set_quirks(d, 0x80000000u), -1);
	assert_int_equal(simdrive_get_quirks(d), SIMDRIVE_QUIRK_SKIP_SWITCHED_ON);
	assert_int_equal(simdrive_set_quirks(NULL, 0), -1);
	assert_int_equal(simdrive_get_quirks(NULL), 0);
}

static void test_simdrive__quirk_names(void **state)
{
	const simdrive_quirk *q = simdrive_quirks();
	unsigned bits = 0;
	char bad[8];

	(void)state;
	assert_string_equal(q[0].name, "skip-switched-on");
	assert_int_equal(q[0].bit, SIMDRIVE_QUIRK_SKIP_SWITCHED_ON);
	assert_non_null(q[0].help);
	assert_string_equal(q[1].name, "slow-store");
	assert_int_equal(q[1].bit, SIMDRIVE_QUIRK_SLOW_STORE);
	assert_string_equal(q[2].name, "store-needs-disabled");
	assert_int_equal(q[2].bit, SIMDRIVE_QUIRK_STORE_NEEDS_DISABLED);
	assert_null(q[3].name);

	assert_int_equal(simdrive_quirks_parse("skip-switched-on", &bits, bad, sizeof(bad)), 0);
	assert_int_equal(bits, SIMDRIVE_QUIRK_SKIP_SWITCHED_ON);
	bits = 0;
	assert_int_equal(simdrive_quirks_parse("Skip-Switched-On,skip-switched-on", &bits, NULL, 0),
	                 0);
	assert_int_equal(bits, SIMDRIVE_QUIRK_SKIP_SWITCHED_ON);

	/* Unknown, empty and partial names: refused, the name reported (cut to fit), no bits. */
	bits = 0;
	assert_int_equal(simdrive_quirks_parse("skip-switched-on,warp", &bits, bad, sizeof(bad)),
	                 -1);
	assert_string_equal(bad, "warp");
	assert_int_equal(bits, 0);
	assert_int_equal(simdrive_quirks_parse("skip-switched-onward", &bits, bad, sizeof(bad)),
	                 -1);
	assert_string_equal(bad, "skip-sw");
	assert_int_equal(simdrive_quirks_parse("skip-switched", &bits, bad, sizeof(bad)), -1);
	assert_int_equal(simdrive_quirks_parse("", &bits, bad, sizeof(bad)), -1);
	assert_string_equal(bad, "");
	assert_int_equal(simdrive_quirks_parse("skip-switched-on,", &bits, bad, sizeof(bad)), -1);
	assert_string_equal(bad, "");
	assert_int_equal(simdrive_quirks_parse(",skip-switched-on", &bits, NULL, 0), -1);
	assert_int_equal(simdrive_quirks_parse(NULL, &bits, NULL, 0), -1);
	assert_int_equal(bits, 0);
}

/* The virtual transport's `quirk` key gives the drive the quirk; a bad name is refused. */
static void test_simdrive__quirk_through_virtual(void **state)
{
	ax_ctx *ctx = new_ctx();
	ax_link *link = NULL;
	uint16_t sw = 0;

	(void)state;
	if (ax_link_open(&link, ctx, "virtual:?quirk=skip-switched-on", NULL) < 0)
		fail_msg("open: %s", ax_error_last());
	assert_int_equal(ax_link_write_u16(link, 1, R_CONTROL, 0x06), 0);
	assert_int_equal(ax_link_write_u16(link, 1, R_CONTROL, 0x07), 0);
	assert_int_equal(ax_link_read_u16(link, 1, R_STATUS, &sw), 0);
	assert_string_equal(cia_state(sw), "ready to switch on");
	assert_int_equal(ax_link_write_u16(link, 1, R_CONTROL, 0x0F), 0);
	assert_int_equal(ax_link_read_u16(link, 1, R_STATUS, &sw), 0);
	assert_string_equal(cia_state(sw & 0xFF), "operation enabled");
	link = ax_link_unref(link);

	/* The same URI without the key: the standard walk. */
	assert_int_equal(ax_link_open(&link, ctx, "virtual:?serial=2", NULL), 0);
	assert_int_equal(ax_link_write_u16(link, 1, R_CONTROL, 0x06), 0);
	assert_int_equal(ax_link_write_u16(link, 1, R_CONTROL, 0x07), 0);
	assert_int_equal(ax_link_read_u16(link, 1, R_STATUS, &sw), 0);
	assert_string_equal(cia_state(sw), "switched on");
	link = ax_link_unref(link);

	assert_int_equal(ax_link_open(&link, ctx, "virtual:?quirk=skip-switched-on,warp", NULL),
	                 AX_EINVAL);
	assert_null(link);
	if (!strstr(ax_error_last(), "quirk 'warp'") ||
	    !strstr(ax_error_last(), "known: skip-switched-on"))
		fail_msg("message '%s'", ax_error_last());
	ctx = ax_ctx_unref(ctx);
}

static void test_simdrive__cia402_quick_stop(void **state)
{
	static const struct cia_step steps[] = {
	        {"quick stop", 0x02, "quick stop active"},
	        {"quick stop held", 0x02, "quick stop active"},
	        {"shutdown ignored", 0x06, "quick stop active"},
	        {"enable from quick stop", 0x0F, "operation enabled"},
	        {"quick stop again", 0x0B, "quick stop active"},
	        {"disable voltage", 0x00, "switch on disabled"},
	};
	simdrive *d = *state;

	enable_axis(d, 1);
	walk(d, 1, steps, ARRAY_SIZE(steps));
}

static void test_simdrive__cia402_fault(void **state)
{
	static const struct cia_step steps[] = {
	        {"shutdown ignored in fault", 0x06, "fault"},
	        {"enable ignored in fault", 0x0F, "fault"},
	        {"fault reset", 0x80, "switch on disabled"},
	        {"fault reset held", 0x80, "switch on disabled"},
	        {"shutdown after reset", 0x06, "ready to switch on"},
	};
	simdrive *d = *state;

	enable_axis(d, 2);
	assert_int_equal(simdrive_fault(d, 0, SIMDRIVE_FAULT_UNDERVOLTAGE), 0);
	for (unsigned axis = 1; axis <= 2; axis++) {
		expect_state(d, axis, "fault", "fault start");
		assert_int_equal(read_num(d, axis, R_DIAG_ERROR_LAST), SIMDRIVE_FAULT_UNDERVOLTAGE);
	}
	walk(d, 1, steps, ARRAY_SIZE(steps));
	expect_state(d, 2, "fault", "other axis stays in fault");
	write_num(d, 2, R_CONTROL, 0x80);
	expect_state(d, 2, "switch on disabled", "reset of axis 2");
	assert_int_equal(read_num(d, 2, R_DIAG_ERROR_LAST), SIMDRIVE_FAULT_UNDERVOLTAGE);

	/* Bit 7 already set when the fault comes: only a new rising edge resets. */
	write_num(d, 1, R_CONTROL, 0x80);
	expect_state(d, 1, "ready to switch on", "fault reset outside fault");
	assert_int_equal(simdrive_fault(d, 1, 0x2220), 0);
	expect_state(d, 1, "fault", "single axis fault");
	expect_state(d, 2, "switch on disabled", "single axis fault, other axis");
	assert_int_equal(read_num(d, 1, R_DIAG_ERROR_LAST), 0x2220);
	write_num(d, 1, R_CONTROL, 0x80);
	expect_state(d, 1, "fault", "bit 7 held");
	write_num(d, 1, R_CONTROL, 0x00);
	expect_state(d, 1, "fault", "bit 7 falls");
	write_num(d, 1, R_CONTROL, 0x80);
	expect_state(d, 1, "switch on disabled", "bit 7 rises");
	assert_int_equal(simdrive_fault(d, 3, 0x2220), -1);
}

static void test_simdrive__op_mode(void **state)
{
	static const uint16_t valid[] = {0x00, 0x02, 0x03, 0x13, 0x04, 0x14, 0x24, 0x113, 0x05};
	static const uint16_t invalid[] = {0x01, 0x06, 0x10, 0x23, 0x114, 0x213, 0xFFFF};
	simdrive *d = *state;

	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		write_num(d, 1, R_OP_CMD, valid[i]);
		assert_int_equal(read_num(d, 1, R_OP_CMD), valid[i]);
		assert_int_equal(read_num(d, 1, R_OP_VALUE), valid[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		uint8_t val[8] = {0};
		struct xfer x;
		char name[32];

		(void)snprintf(name, sizeof(name), "mode 0x%X", invalid[i]);
		le_put(val, 2, invalid[i]);
		do_write(d, 1, R_OP_CMD, val, sizeof(val), 0, &x);
		expect_refusal(name, &x, AX_MCB_WRITE, 1, R_OP_CMD, AX_MCB_CODE_RANGE);
		assert_int_equal(read_num(d, 1, R_OP_CMD), 0x05);
		assert_int_equal(read_num(d, 1, R_OP_VALUE), 0x05);
	}
	/* The value is u16: what lies past the first two bytes does not count. */
	write_num(d, 1, R_OP_CMD, 0xABCD0000ull | 0x13);
	assert_int_equal(read_num(d, 1, R_OP_VALUE), 0x13);
}

/* ---- motion ------------------------------------------------------------ */

static void test_simdrive__profile_move(void **state)
{
	const uint64_t t0 = 5000 * MS;
	simdrive *d = *state;
	uint16_t sw;

	write_num(d, 1, R_OP_CMD, 0x14);
	write_float(d, 1, R_MAX_VEL, 10.0f); /* 10 rev/s * 4096 cnt/rev = 40960 cnt/s */
	write_num(d, 1, R_POS_SP, 999);      /* stale: enabling must not chase it */
	enable_axis(d, 1);
	assert_int_equal(read_num(d, 1, R_POS_SP), 0);
	simdrive_tick(d, t0);
	assert_true(read_num(d, 1, R_STATUS) & SW_TARGET_REACHED);

	/* A target alone starts nothing: the set-point handshake does (simdrive.h). */
	write_num(d, 1, R_POS_SP, 20480);
	simdrive_tick(d, t0 + 100 * MS);
	assert_int_equal((int32_t)read_num(d, 1, R_POS_FBK), 0);
	write_num(d, 1, R_CONTROL, 0x3F); /* enabled + new set point + change immediately */
	sw = (uint16_t)read_num(d, 1, R_STATUS);
	assert_true(sw & SW_SET_POINT_ACK);
	assert_false(sw & SW_TARGET_REACHED);
	write_num(d, 1, R_CONTROL, 0x2F);
	assert_false(read_num(d, 1, R_STATUS) & SW_SET_POINT_ACK);

	/* 5 rev at 10 rev/s with 100 rev/s^2 ramps: 0.1 s up, 0.4 s cruise, 0.1 s down. */
	simdrive_tick(d, t0 + 400 * MS); /* 0.3 s in: 0.5 rev ramp + 2 rev cruise */
	assert_in_range((int32_t)read_num(d, 1, R_POS_FBK), 10240 - 50, 10240 + 50);
	assert_float_equal(read_float(d, 1, R_VEL_FBK), 10.0f, 1e-3);
	sw = (uint16_t)read_num(d, 1, R_STATUS);
	assert_false(sw & SW_TARGET_REACHED);
	assert_string_equal(cia_state(sw), "operation enabled");

	simdrive_tick(d, t0 + 400 * MS); /* same time: nothing moves */
	simdrive_tick(d, t0 + 50 * MS);  /* time going back is ignored */
	assert_in_range((int32_t)read_num(d, 1, R_POS_FBK), 10240 - 50, 10240 + 50);

	simdrive_tick(d, t0 + 800 * MS);
	assert_int_equal((int32_t)read_num(d, 1, R_POS_FBK), 20480);
	assert_float_equal(read_float(d, 1, R_VEL_FBK), 0.0f, 1e-6);
	sw = (uint16_t)read_num(d, 1, R_STATUS);
	assert_true(sw & SW_TARGET_REACHED);
	assert_string_equal(cia_state(sw), "operation enabled");

	/* Disabled, the axis stands still whatever the set point says. */
	write_num(d, 1, R_POS_SP, (uint32_t)-1000);
	write_num(d, 1, R_CONTROL, 0x3F);
	write_num(d, 1, R_CONTROL, 0x06);
	simdrive_tick(d, t0 + 5000 * MS);
	assert_int_equal((int32_t)read_num(d, 1, R_POS_FBK), 20480);
	assert_float_equal(read_float(d, 1, R_VEL_FBK), 0.0f, 1e-6);
	assert_false(read_num(d, 1, R_STATUS) & SW_TARGET_REACHED);
}

static void test_simdrive__velocity_move(void **state)
{
	simdrive *d = *state;

	write_num(d, 1, R_OP_CMD, 0x03);
	enable_axis(d, 1);
	write_float(d, 1, R_VEL_SP, 2.5f);
	simdrive_tick(d, 1000 * MS);
	simdrive_tick(d, 2000 * MS);
	assert_int_equal((int32_t)read_num(d, 1, R_POS_FBK), 10240);
	assert_float_equal(read_float(d, 1, R_VEL_FBK), 2.5f, 1e-6);

	write_float(d, 1, R_VEL_SP, -50.0f); /* over PROF_MAX_VEL: clamped to -10 */
	simdrive_tick(d, 2500 * MS);
	assert_int_equal((int32_t)read_num(d, 1, R_POS_FBK), 10240 - 20480);
	assert_float_equal(read_float(d, 1, R_VEL_FBK), -10.0f, 1e-6);

	/* Quick stop brakes at PROF_QUICK_STOP_DEC, 1000 rev/s^2: 10 rev/s^2 / 2000 = 0.05 rev. */
	write_num(d, 1, R_CONTROL, 0x02);
	simdrive_tick(d, 3500 * MS);
	assert_int_equal((int32_t)read_num(d, 1, R_POS_FBK), 10240 - 20480 - 205);
	assert_float_equal(read_float(d, 1, R_VEL_FBK), 0.0f, 1e-6);
	expect_state(d, 1, "quick stop active", "stopped");
}

/* ---- the register space is the dictionary ------------------------------ */

/* Codes of DESIGN §5 the dictionaries name too. */
#define CODE_ACCESS 0x06010000u
#define CODE_NO_OBJECT 0x06020000u
#define CODE_NOT_STORED 0x08000020u
#define SIG_RESTORE 0x64616F6Cu

/*
 * Registers whose start value the drive's behaviour sets instead of the
 * dictionary's default: the state machine publishes "switch on disabled"
 * (default 0), and the serial number is the creator's (default 0).
 */
static const char *const owned_ids[] = {
        "DRV_STATE_STATUS",
        "DRV_ID_SERIAL_NUMBER_COCO",
        "DRV_ID_SERIAL_NUMBER",
};

static int is_owned(const ax_reg *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(owned_ids); i++)
		if (strcmp(ax_reg_id(r), owned_ids[i]) == 0)
			return 1;
	return 0;
}

/*
 * The data registers of monitoring and disturbance (test_simmon.c): a read
 * of MON_DATA_VALUE takes captured bytes, so a new drive, which has none,
 * refuses it; DIST_DATA_VALUE refuses a waveform before a map says what
 * it holds. Both with "not executed".
 */
#define CODE_NOT_EXECUTED 0x08000000u

static int is_engine_data(const ax_reg *r)
{
	return ax_reg_subnode(r) == 0 && (strcmp(ax_reg_id(r), "MON_DATA_VALUE") == 0 ||
	                                  strcmp(ax_reg_id(r), "DIST_DATA_VALUE") == 0);
}

/* Store and restore check a signature and keep nothing: writing a default is refused. */
static int is_signature(const ax_reg *r)
{
	return ax_reg_address(r) == R_STORE || ax_reg_address(r) == R_RESTORE;
}

/* devices/<model>.xdf of the source tree (devices/ sits beside tests/). */
static void devices_path(char *buf, size_t cap, const char *model)
{
#ifdef AXLINK_DEVICES_DIR
	int n = snprintf(buf, cap, "%s/%s.xdf", AXLINK_DEVICES_DIR, model);
#else
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__) : 1;
	int n = snprintf(buf, cap, "%.*s/../devices/%s.xdf", dir, slash ? __FILE__ : ".", model);
#endif
	assert_true(n > 0 && (size_t)n < cap);
}

struct model_dict {
	ax_dict **all;
	size_t n;
	const ax_dict *dict; /* the ETH device: the one the simulator serves */
};

/* Load @m's dictionary and check that the model's identity is the file's. */
static void model_dict_load(struct model_dict *md, const simdrive_model *m)
{
	const ax_dict_identity *id;
	char path[1024];

	devices_path(path, sizeof(path), m->name);
	if (ax_dict_load_file(&md->all, &md->n, path, NULL) < 0)
		fail_msg("%s: %s", path, ax_error_last());
	md->dict = NULL;
	for (size_t i = 0; i < md->n && !md->dict; i++)
		if (strcmp(ax_dict_identity_get(md->all[i])->interface, "ETH") == 0)
			md->dict = md->all[i];
	if (!md->dict)
		fail_msg("%s: no ETH device", path);
	id = ax_dict_identity_get(md->dict);
	assert_string_equal(id->name, m->name);
	assert_int_equal(id->product_code, m->product_code);
	assert_int_equal(id->revision, m->revision);
	assert_int_equal(id->axes, m->axes);
	assert_string_equal(id->firmware_version, m->sw_version);
	assert_int_equal(id->vendor_id, m->vendor_id);
	assert_int_equal(m->vendor_id, SIMDRIVE_VENDOR_ID);
	assert_true(ax_dict_reg_count(md->dict) > 100);
}

static void model_dict_free(struct model_dict *md)
{
	for (size_t i = 0; i < md->n; i++)
		md->all[i] = ax_dict_unref(md->all[i]);
	ax_free(md->all);
	md->all = NULL;
	md->n = 0;
}

/*
 * Every simulated model carries its dictionary's error table, all fields, in
 * file order, so the simulator has a text for each code it may report; a
 * code the dictionary does not name has none.
 */
static void test_simdrive__models_carry_error_texts(void **state)
{
	size_t n = 0;

	(void)state;
	for (const simdrive_model *m = simmodel_models; m->name; m++, n++) {
		const simmodel_table *t = &simmodel_tables[n];
		struct model_dict md;

		model_dict_load(&md, m);
		assert_true(ax_dict_error_count(md.dict) > 0);
		assert_int_equal(t->n_errors, ax_dict_error_count(md.dict));
		for (size_t i = 0; i < t->n_errors; i++) {
			ax_dict_error_entry e;

			assert_int_equal(ax_dict_error_entry_at(md.dict, i, &e), 0);
			assert_int_equal(t->errors[i].code, e.code);
			assert_string_equal(t->errors[i].text, e.text);
			assert_string_equal(t->errors[i].type, e.type);
			assert_string_equal(t->errors[i].module, e.module);
			assert_true(*e.text && *e.type && *e.module);
			assert_ptr_equal(simmodel_error_find(t, e.code), &t->errors[i]);
		}
		assert_null(simmodel_error_find(t, 0x7FFFFFF1));
		model_dict_free(&md);
	}
	assert_true(n >= 3);
}

/*
 * What a read of @r returns on a new drive: its default's bytes, zeros where
 * the file gives none; a str its text and one NUL, bytes all 512.
 */
static size_t expected_value(const ax_reg *r, uint8_t *buf)
{
	const uint8_t *def;
	size_t n = ax_reg_default(r, &def), size = ax_dtype_size(ax_reg_dtype(r));

	memset(buf, 0, AX_VALUE_MAX);
	if (n)
		memcpy(buf, def, n);
	if (ax_reg_dtype(r) == AX_DTYPE_STR)
		return strnlen((const char *)buf, AX_VALUE_MAX - 1) + 1;
	if (ax_reg_dtype(r) == AX_DTYPE_BYTES)
		return AX_VALUE_MAX;
	assert_true(n == 0 || n == size);
	return size;
}

/* Hex of the first (up to 8) bytes of a value, for failure messages. */
static void hex8(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 8; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * i] = '\0';
	if (n > 8)
		memcpy(out + 16, "..", 3);
}

/* @r must read back @want (@want_len bytes) through the register API. */
static void expect_reads(simdrive *d, const char *model, const ax_reg *r, const uint8_t *want,
                         size_t want_len, const char *step)
{
	uint8_t got[AX_VALUE_MAX];
	uint32_t code = 0;
	size_t len = 0;

	if (simdrive_read(d, ax_reg_subnode(r), ax_reg_address(r), got, sizeof(got), &len, &code) <
	    0)
		fail_msg("%s %s: %s (%u:0x%03X) refused, code 0x%08X", model, step, ax_reg_id(r),
		         ax_reg_subnode(r), (unsigned)ax_reg_address(r), (unsigned)code);
	if (len != want_len || memcmp(got, want, len) != 0) {
		char hg[20], hw[20];

		hex8(hg, got, len);
		hex8(hw, want, want_len);
		fail_msg("%s %s: %s (%u:0x%03X) reads %zu bytes %s, want %zu bytes %s", model, step,
		         ax_reg_id(r), ax_reg_subnode(r), (unsigned)ax_reg_address(r), len, hg,
		         want_len, hw);
	}
}

static void expect_code(const char *model, const char *what, const ax_reg *r, unsigned sub,
                        unsigned addr, int err, uint32_t code, uint32_t want)
{
	if (err != -1 || code != want)
		fail_msg("%s: %s of %s %u:0x%03X gave %d, code 0x%08X, want 0x%08X", model, what,
		         r ? ax_reg_id(r) : "(none)", sub, addr, err, (unsigned)code,
		         (unsigned)want);
}

/* Every dictionary register is served with its default, type and access. */
static void check_dictionary_registers(simdrive *d, const simdrive_model *m, const ax_dict *dict,
                                       uint32_t serial)
{
	size_t owned = 0;

	for (size_t i = 0; i < ax_dict_reg_count(dict); i++) {
		const ax_reg *r = ax_dict_reg_at(dict, i);
		unsigned sub = ax_reg_subnode(r), addr = (unsigned)ax_reg_address(r);
		uint8_t want[AX_VALUE_MAX], got[AX_VALUE_MAX];
		size_t want_len = expected_value(r, want), len = 0;
		uint32_t code = 0;
		int err;

		if (!(ax_reg_access(r) & AX_REG_READ)) {
			err = simdrive_read(d, sub, addr, got, sizeof(got), &len, &code);
			expect_code(m->name, "read", r, sub, addr, err, code, CODE_ACCESS);
		} else if (is_engine_data(r)) {
			err = simdrive_read(d, sub, addr, got, sizeof(got), &len, &code);
			expect_code(m->name, "read", r, sub, addr, err, code, CODE_NOT_EXECUTED);
		} else if (is_owned(r)) {
			owned++;
			if (ax_reg_address(r) == R_STATUS)
				expect_state(d, sub, "switch on disabled", ax_reg_id(r));
			else
				assert_int_equal(read_num(d, sub, addr), serial);
		} else {
			expect_reads(d, m->name, r, want, want_len, "new drive");
		}
		if (!(ax_reg_access(r) & AX_REG_WRITE)) {
			memset(got, 0, sizeof(got));
			err = simdrive_write(d, sub, addr, got, want_len, &code);
			expect_code(m->name, "write", r, sub, addr, err, code, CODE_ACCESS);
		}
	}
	/* Every owned register exists: the list is not stale. */
	assert_int_equal(owned, m->axes + 1u + m->axes);
}

/* Writable registers take their default back and keep it (store/restore refuse it). */
static void check_dictionary_writes(simdrive *d, const simdrive_model *m, const ax_dict *dict)
{
	for (size_t i = 0; i < ax_dict_reg_count(dict); i++) {
		const ax_reg *r = ax_dict_reg_at(dict, i);
		unsigned sub = ax_reg_subnode(r), addr = (unsigned)ax_reg_address(r);
		uint8_t want[AX_VALUE_MAX];
		size_t want_len = expected_value(r, want);
		uint32_t code = 0;
		int err;

		if (!(ax_reg_access(r) & AX_REG_WRITE))
			continue;
		err = simdrive_write(d, sub, addr, want, want_len, &code);
		if (is_engine_data(r)) {
			expect_code(m->name, "write of the default", r, sub, addr, err, code,
			            CODE_NOT_EXECUTED);
			continue;
		}
		if (is_signature(r)) {
			expect_code(m->name, "write of the default", r, sub, addr, err, code,
			            CODE_NOT_STORED);
			continue;
		}
		if (err < 0)
			fail_msg("%s: write of %s's default refused, code 0x%08X", m->name,
			         ax_reg_id(r), (unsigned)code);
		if ((ax_reg_access(r) & AX_REG_READ) && !is_owned(r))
			expect_reads(d, m->name, r, want, want_len, "after writing the default");
	}
}

/* Addresses the dictionary does not have do not exist, on any subnode. */
static void check_absent_addresses(simdrive *d, const simdrive_model *m, const ax_dict *dict)
{
	size_t absent = 0;

	for (unsigned sub = 0; sub <= 15; sub++) {
		for (unsigned addr = 0; addr <= 0xFFF; addr++) {
			const ax_reg *r = NULL;
			uint8_t buf[AX_VALUE_MAX] = {0};
			uint32_t code = 0;
			size_t len = 0;
			int err;

			if (ax_dict_find_address(dict, sub, addr, &r) == 0)
				continue;
			absent++;
			err = simdrive_read(d, sub, addr, buf, sizeof(buf), &len, &code);
			expect_code(m->name, "read", NULL, sub, addr, err, code, CODE_NO_OBJECT);
			code = 0;
			err = simdrive_write(d, sub, addr, buf, 8, &code);
			expect_code(m->name, "write", NULL, sub, addr, err, code, CODE_NO_OBJECT);
		}
	}
	assert_int_equal(absent, 16u * 0x1000u - ax_dict_reg_count(dict));
}

static void test_simdrive__serves_dictionaries(void **state)
{
	const simdrive_model *models = simdrive_models();

	(void)state;
	for (size_t i = 0; models[i].name; i++) {
		const simdrive_model *m = &models[i];
		uint32_t serial = 0x5EED0000u + (uint32_t)i;
		struct model_dict md;
		simdrive *d = NULL;

		model_dict_load(&md, m);
		assert_int_equal(simdrive_new(&d, &codec, m->name, serial), 0);
		check_dictionary_registers(d, m, md.dict, serial);
		check_absent_addresses(d, m, md.dict);
		check_dictionary_writes(d, m, md.dict);
		simdrive_free(d);
		model_dict_free(&md);
	}
}

/* "restore all" puts back every NVM register (address_type "NVM"), and only those. */
static void test_simdrive__restore_resets_nvm(void **state)
{
	const simdrive_model *models = simdrive_models();
	static const uint8_t sig[4] = {0x6C, 0x6F, 0x61, 0x64}; /* "load" */

	(void)state;
	assert_int_equal(le_get(sig, 4), SIG_RESTORE);
	for (size_t i = 0; models[i].name; i++) {
		const simdrive_model *m = &models[i];
		struct model_dict md;
		simdrive *d = NULL;
		size_t changed = 0;
		uint32_t code = 0;

		model_dict_load(&md, m);
		assert_int_equal(simdrive_new(&d, &codec, m->name, 1), 0);
		for (size_t j = 0; j < ax_dict_reg_count(md.dict); j++) {
			const ax_reg *r = ax_dict_reg_at(md.dict, j);
			uint8_t val[AX_VALUE_MAX];
			size_t len = expected_value(r, val);

			if (strcmp(ax_reg_address_type(r), "NVM") != 0 ||
			    !(ax_reg_access(r) & AX_REG_WRITE))
				continue;
			if (ax_reg_dtype(r) == AX_DTYPE_STR) {
				memcpy(val, "changed", 8);
				len = 8;
			} else {
				val[0] ^= 0x01; /* a different value of any type */
			}
			if (simdrive_write(d, ax_reg_subnode(r), ax_reg_address(r), val, len,
			                   &code) < 0)
				fail_msg("%s: write of %s refused, code 0x%08X", m->name,
				         ax_reg_id(r), (unsigned)code);
			changed++;
		}
		assert_true(changed > 10);
		assert_int_equal(simdrive_write(d, 0, R_RESTORE, sig, sizeof(sig), &code), 0);
		for (size_t j = 0; j < ax_dict_reg_count(md.dict); j++) {
			const ax_reg *r = ax_dict_reg_at(md.dict, j);
			uint8_t want[AX_VALUE_MAX];
			size_t len = expected_value(r, want);

			if (strcmp(ax_reg_address_type(r), "NVM") == 0 &&
			    (ax_reg_access(r) & AX_REG_READ))
				expect_reads(d, m->name, r, want, len, "after restore");
		}
		simdrive_free(d);
		model_dict_free(&md);
	}
}

/* The virtual plugin serves the 8-axis axs-900, every register through MCB frames. */
static void test_simdrive__axs900_through_virtual(void **state)
{
	const simdrive_model *m = simdrive_model_find("axs-900");
	ax_ctx *ctx = new_ctx();
	ax_link *link = NULL;
	struct model_dict md;
	uint16_t u16 = 0;

	(void)state;
	assert_non_null(m);
	model_dict_load(&md, m);
	if (ax_link_open(&link, ctx, "virtual:?model=axs-900&serial=900", NULL) < 0)
		fail_msg("open virtual axs-900: %s", ax_error_last());

	assert_int_equal(ax_link_read_u16(link, 0, R_AXIS_NUMBER, &u16), 0);
	assert_int_equal(u16, 8);
	for (size_t i = 0; i < ax_dict_reg_count(md.dict); i++) {
		const ax_reg *r = ax_dict_reg_at(md.dict, i);
		unsigned sub = ax_reg_subnode(r), addr = (unsigned)ax_reg_address(r);
		uint8_t want[AX_VALUE_MAX], got[AX_VALUE_MAX];
		size_t want_len = expected_value(r, want), len = 0;
		int err = ax_link_read(link, sub, addr, got, sizeof(got), &len);

		if (!(ax_reg_access(r) & AX_REG_READ) || is_engine_data(r)) {
			assert_int_equal(err, AX_EDRIVE);
			assert_int_equal(ax_error_last_drive_code(), ax_reg_access(r) & AX_REG_READ
			                                                     ? CODE_NOT_EXECUTED
			                                                     : CODE_ACCESS);
			continue;
		}
		if (err < 0)
			fail_msg("read of %s (%u:0x%03X): %s", ax_reg_id(r), sub, addr,
			         ax_error_last());
		if (is_owned(r))
			continue;
		/* Values of up to 8 bytes come in a plain reply, zero-padded. */
		if (want_len <= 8 && ax_reg_dtype(r) != AX_DTYPE_BYTES)
			want_len = 8;
		if (len != want_len || memcmp(got, want, len) != 0) {
			char hg[20], hw[20];

			hex8(hg, got, len);
			hex8(hw, want, want_len);
			fail_msg("%s (%u:0x%03X): %zu bytes %s, want %zu bytes %s", ax_reg_id(r),
			         sub, addr, len, hg, want_len, hw);
		}
	}
	/* Eight axes, each with its own state machine; no ninth. */
	for (unsigned axis = 1; axis <= 8; axis++) {
		assert_int_equal(ax_link_read_u16(link, axis, R_STATUS, &u16), 0);
		assert_string_equal(cia_state(u16), "switch on disabled");
	}
	assert_int_equal(ax_link_write_u16(link, 8, R_CONTROL, 0x06), 0);
	assert_int_equal(ax_link_write_u16(link, 8, R_CONTROL, 0x0F), 0);
	assert_int_equal(ax_link_read_u16(link, 8, R_STATUS, &u16), 0);
	assert_string_equal(cia_state(u16 & 0xFF), "operation enabled");
	assert_int_equal(ax_link_read_u16(link, 7, R_STATUS, &u16), 0);
	assert_string_equal(cia_state(u16), "switch on disabled");
	assert_int_equal(ax_link_read_u16(link, 9, R_STATUS, &u16), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), CODE_NO_OBJECT);

	link = ax_link_unref(link);
	ctx = ax_ctx_unref(ctx);
	model_dict_free(&md);
}

/* ---- threads ----------------------------------------------------------- */

struct hammer {
	simdrive *d;
	unsigned id;
	unsigned failures;
};

/* One request from a worker thread; counts instead of asserting (cmocka is not thread-safe). */
static int hammer_xfer(struct hammer *h, const ax_mcb_frame *req, ax_mcb_frame *rp, uint8_t *reply,
                       size_t cap)
{
	uint8_t buf[AX_MCB_MAX_FRAME];
	size_t len = 0, n;

	if (ax_mcb_encode(buf, sizeof(buf), &len, req) < 0)
		return -1;
	n = simdrive_handle(h->d, buf, len, reply, cap, NULL);
	if (!n || ax_mcb_decode(rp, reply, n) < 0)
		return -1;
	return ax_mcb_check_reply(rp, req->subnode, req->address);
}

/*
 * Writers fill the 512-byte user data with their own byte and read it back;
 * a torn value (two writers' bytes mixed) means a request ran unlocked.
 */
static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	uint8_t mine[512], reply[AX_MCB_MAX_FRAME];

	memset(mine, (int)(0x11 * (h->id + 1)), sizeof(mine));
	for (unsigned i = 0; i < 2000; i++) {
		ax_mcb_frame req, rp;

		memset(&req, 0, sizeof(req));
		req.node = AX_MCB_NODE;
		req.address = R_USER_DATA;
		req.command = (uint8_t)(i % 2 ? AX_MCB_READ : AX_MCB_WRITE);
		if (req.command == AX_MCB_WRITE) {
			req.payload = mine;
			req.payload_len = sizeof(mine);
		}
		if (hammer_xfer(h, &req, &rp, reply, sizeof(reply)) < 0) {
			h->failures++;
			continue;
		}
		if (req.command == AX_MCB_READ) {
			if (rp.payload_len != 512)
				h->failures++;
			else
				for (size_t j = 1; j < 512; j++)
					h->failures += rp.payload[j] != rp.payload[0];
		}
		/* Meanwhile drive the state machine and the motion of axis 1. */
		memset(&req, 0, sizeof(req));
		req.node = AX_MCB_NODE;
		req.subnode = 1;
		req.address = h->id % 2 ? R_CONTROL : R_STATUS;
		req.command = (uint8_t)(h->id % 2 ? AX_MCB_WRITE : AX_MCB_READ);
		req.data[0] = (uint8_t)(i % 3 ? 0x0F : 0x06);
		if (hammer_xfer(h, &req, &rp, reply, sizeof(reply)) < 0)
			h->failures++;
		if (h->id == 0)
			simdrive_tick(h->d, (uint64_t)(i + 1) * MS);
	}
	return NULL;
}

static void test_simdrive__concurrent_requests(void **state)
{
	struct hammer h[4];
	pthread_t t[4];

	for (unsigned i = 0; i < 4; i++) {
		h[i].d = *state;
		h[i].id = i;
		h[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(h[i].failures, 0);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(test_simdrive__##name, drive_up, drive_down)
#define T200(name) cmocka_unit_test_setup_teardown(test_simdrive__##name, drive_up_200, drive_down)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_simdrive__models),
	        cmocka_unit_test(test_simdrive__identity),
	        T(instances_are_independent),
	        T(golden_frames),
	        T(refusals),
	        T(byte_array_round_trip),
	        T(register_api),
	        T(store_restore),
	        T(garbage_dropped),
	        T200(fuzz),
	        T(cia402_walk),
	        T200(quirk_skip_switched_on),
	        cmocka_unit_test(test_simdrive__quirk_names),
	        cmocka_unit_test(test_simdrive__quirk_through_virtual),
	        T(cia402_quick_stop),
	        T200(cia402_fault),
	        T(op_mode),
	        T(profile_move),
	        T(velocity_move),
	        T(concurrent_requests),
	        cmocka_unit_test(test_simdrive__serves_dictionaries),
	        cmocka_unit_test(test_simdrive__models_carry_error_texts),
	        cmocka_unit_test(test_simdrive__restore_resets_nvm),
	        cmocka_unit_test(test_simdrive__store_survives_power_cycle),
	        T(store_without_folder_lives_with_drive),
	        cmocka_unit_test(test_simdrive__state_file_errors),
	        T(store_refused_when_enabled),
	        T(slow_store_reads_signature),
	        cmocka_unit_test(test_simdrive__axs900_through_virtual),
	};

	return cmocka_run_group_tests_name("simdrive", tests, NULL, NULL);
}
