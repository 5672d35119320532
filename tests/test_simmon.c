/* SPDX-License-Identifier: MIT */
/*
 * Tests of the simulated drive's monitoring (scope) and disturbance
 * engines, protocol version 3 (tools/sim/drive/simmon.c). Requests go in
 * as frames built by libaxlink's MCB codec and replies are decoded by it;
 * drive time is given explicitly (simdrive_tick()), so every capture is
 * deterministic. Registers are found by their ids in the generated model
 * tables, so the tests also pin the ids the dictionaries must have.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/ctx.h"
#include "axlink/error.h"
#include "axlink/link.h"
#include "axlink/mcb.h"
#include "axlink/value.h"
#include "simdrive.h"
#include "simmodels.h"
#include "support/timing.h"
#include "testctx.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000ull
#define BASE_NS 50000ull /* 20 kHz */

/* Map word type codes (PROTOCOL-NOTES: u8 0 ... float 8). */
#define T_U16 2
#define T_S32 5
#define T_FLOAT 8

static const simdrive_codec codec = {ax_mcb_encode, ax_mcb_decode};

struct fx {
	simdrive *d;
	const simdrive_model *model;
	const simmodel_table *table;
	uint64_t now; /* drive time given to simdrive_tick() */
};

static int fx_up(void **state, const char *model)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx || simdrive_new(&fx->d, &codec, model, 7) < 0)
		return -1;
	fx->model = simdrive_model_find(model);
	fx->table = &simmodel_tables[fx->model - simdrive_models()];
	fx->now = 1000 * MS;
	simdrive_tick(fx->d, fx->now); /* sets the clock */
	*state = fx;
	return 0;
}

static int up_100(void **state)
{
	return fx_up(state, "axs-100");
}

static int up_200(void **state)
{
	return fx_up(state, "axs-200");
}

static int fx_down(void **state)
{
	struct fx *fx = *state;

	simdrive_free(fx->d);
	free(fx);
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

static uint32_t fbits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float bitsf(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* The register @id on @subnode of the fixture's model; fails the test when absent. */
static const simmodel_reg *reg(const struct fx *fx, unsigned subnode, const char *id)
{
	for (size_t i = 0; i < fx->table->count; i++)
		if (fx->table->regs[i].subnode == subnode && strcmp(fx->table->regs[i].id, id) == 0)
			return &fx->table->regs[i];
	fail_msg("%s has no register %s on subnode %u", fx->model->name, id, subnode);
	return NULL;
}

static unsigned addr(const struct fx *fx, unsigned subnode, const char *id)
{
	return reg(fx, subnode, id)->address;
}

static void xfer_frame(struct fx *fx, const ax_mcb_frame *req, struct xfer *x)
{
	uint8_t buf[AX_MCB_MAX_FRAME];
	size_t len = 0;

	assert_int_equal(ax_mcb_encode(buf, sizeof(buf), &len, req), 0);
	x->len = simdrive_handle(fx->d, buf, len, x->buf, sizeof(x->buf), &x->why);
	if (!x->len)
		fail_msg("request dropped: %s", x->why ? x->why : "(no reason)");
	if (ax_mcb_decode(&x->f, x->buf, x->len) < 0)
		fail_msg("reply does not decode: %s", ax_error_last());
	assert_int_equal(x->f.subnode, req->subnode);
	assert_int_equal(x->f.address, req->address);
}

static void req_read(struct fx *fx, unsigned sub, unsigned address, struct xfer *x)
{
	ax_mcb_frame f;

	memset(&f, 0, sizeof(f));
	f.node = AX_MCB_NODE;
	f.subnode = (uint8_t)sub;
	f.address = (uint16_t)address;
	f.command = AX_MCB_READ;
	xfer_frame(fx, &f, x);
}

static void req_write(struct fx *fx, unsigned sub, unsigned address, const void *val, size_t len,
                      int extended, struct xfer *x)
{
	ax_mcb_frame f;

	memset(&f, 0, sizeof(f));
	f.node = AX_MCB_NODE;
	f.subnode = (uint8_t)sub;
	f.address = (uint16_t)address;
	f.command = AX_MCB_WRITE;
	if (extended) {
		f.extended = 1;
		f.payload = val;
		f.payload_len = len;
	} else {
		memcpy(f.data, val, len);
	}
	xfer_frame(fx, &f, x);
}

static void expect_ack(const struct xfer *x, unsigned sub, unsigned address, const char *what)
{
	if (ax_mcb_check_reply(&x->f, sub, address) != 0)
		fail_msg("%s of %u:0x%03X: %s", what, sub, address, ax_error_last());
}

static uint64_t rd(struct fx *fx, unsigned sub, const char *id)
{
	unsigned a = addr(fx, sub, id);
	struct xfer x;

	req_read(fx, sub, a, &x);
	expect_ack(&x, sub, a, id);
	assert_false(x.f.extended);
	return le_get(x.f.data, 8);
}

static void wr(struct fx *fx, unsigned sub, const char *id, uint64_t v)
{
	unsigned a = addr(fx, sub, id);
	uint8_t val[8];
	struct xfer x;

	le_put(val, sizeof(val), v);
	req_write(fx, sub, a, val, sizeof(val), 0, &x);
	expect_ack(&x, sub, a, id);
}

/* A write the drive must refuse with @code. */
static void wr_refused(struct fx *fx, unsigned sub, const char *id, uint64_t v, uint32_t code,
                       const char *why)
{
	unsigned a = addr(fx, sub, id);
	uint8_t val[8];
	struct xfer x;

	le_put(val, sizeof(val), v);
	req_write(fx, sub, a, val, sizeof(val), 0, &x);
	if (x.f.command != AX_MCB_ERR_WRITE)
		fail_msg("%s: %s = 0x%llX accepted", why, id, (unsigned long long)v);
	if (le_get(x.f.data, 4) != code)
		fail_msg("%s: %s refused with 0x%08X, want 0x%08X", why, id,
		         (unsigned)le_get(x.f.data, 4), (unsigned)code);
}

/* The map word of register @id on @sub: its monitoring address as the dictionary gives it. */
static uint32_t map_word(const struct fx *fx, unsigned sub, const char *id)
{
	const simmodel_reg *r = reg(fx, sub, id);

	if (!(r->flags & SIMMODEL_MON))
		fail_msg("%s of %s cannot be monitored", id, fx->model->name);
	return (uint32_t)r->mon_key << 16 | (uint32_t)(r->dtype - AX_DTYPE_U8) << 8 | r->size;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void tick_ms(struct fx *fx, uint64_t ms)
{
	fx->now += ms * MS;
	simdrive_tick(fx->d, fx->now);
}

static void enable_axis(struct fx *fx, unsigned axis)
{
	wr(fx, axis, "DRV_STATE_CONTROL", 0x06);
	wr(fx, axis, "DRV_STATE_CONTROL", 0x07);
	wr(fx, axis, "DRV_STATE_CONTROL", 0x0F);
	assert_int_equal(rd(fx, axis, "DRV_STATE_STATUS") & 0x6F, 0x27);
}

/* A profile position move of axis 1 to @target counts (10 rev/s, 100 rev/s^2, 4096 cnt/rev). */
static void start_move(struct fx *fx, int32_t target)
{
	wr(fx, 1, "CL_POS_SET_POINT_VALUE", (uint32_t)target);
	wr(fx, 1, "DRV_STATE_CONTROL", 0x3F);
	wr(fx, 1, "DRV_STATE_CONTROL", 0x2F);
}

/* Map @n registers (ids on axis 1, or "0:ID" style not needed here) as a client does. */
static void map_channels(struct fx *fx, const char *const *ids, const unsigned *subs, unsigned n)
{
	char id[32];

	wr(fx, 0, "MON_CFG_TOTAL_MAP", 0);
	for (unsigned i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "MON_CFG_REG%u_MAP", i);
		wr(fx, 0, id, map_word(fx, subs ? subs[i] : 1, ids[i]));
		wr(fx, 0, "MON_CFG_TOTAL_MAP", i + 1);
	}
}

struct capture {
	uint8_t *bytes;
	size_t len;
	unsigned reads;
};

/* Stage bits 1..3 of MON_DIST_STATUS, as the v3 mask 0x0E gives them. */
static unsigned stage(struct fx *fx)
{
	return (unsigned)rd(fx, 0, "MON_DIST_STATUS") & 0x0E;
}

/*
 * Wait (in drive time) for a frame, then read MON_DATA_VALUE until the
 * available count is 0, checking every read's size and the counts on the way.
 */
static void drain(struct fx *fx, unsigned block, struct capture *c)
{
	unsigned a = addr(fx, 0, "MON_DATA_VALUE");
	size_t avail;
	int waited = 0;

	while (!(rd(fx, 0, "MON_DIST_STATUS") & 0x10)) {
		if (++waited > 10000)
			fail_msg("no frame after 10 s of drive time (status 0x%llX)",
			         (unsigned long long)rd(fx, 0, "MON_DIST_STATUS"));
		tick_ms(fx, 1);
	}
	assert_int_equal(stage(fx), 0x8); /* end */
	avail = (size_t)rd(fx, 0, "MON_CFG_BYTES_VALUE");
	assert_int_equal(avail % block, 0);
	assert_int_equal(rd(fx, 0, "MON_CFG_CYCLES_VALUE"), avail / block);
	c->bytes = malloc(avail ? avail : 1);
	c->len = 0;
	c->reads = 0;
	while (avail) {
		size_t want = avail < 512 ? avail : 512;
		struct xfer x;

		req_read(fx, 0, a, &x);
		expect_ack(&x, 0, a, "MON_DATA_VALUE");
		assert_true(x.f.extended);
		assert_int_equal(x.f.payload_len, want);
		memcpy(c->bytes + c->len, x.f.payload, want);
		c->len += want;
		c->reads++;
		avail -= want;
		assert_int_equal(rd(fx, 0, "MON_CFG_BYTES_VALUE"), avail);
		assert_int_equal(rd(fx, 0, "MON_CFG_CYCLES_VALUE"), (avail + block - 1) / block);
	}
	/* Drained: no frame, and a further read is refused. */
	assert_int_equal(rd(fx, 0, "MON_DIST_STATUS") & 0x10, 0);
	{
		struct xfer x;

		req_read(fx, 0, a, &x);
		assert_int_equal(x.f.command, AX_MCB_ERR_READ);
		assert_int_equal(le_get(x.f.data, 4), AX_MCB_CODE_NOT_EXECUTED);
	}
}

static int32_t s32_at(const struct capture *c, unsigned block, unsigned i, unsigned off)
{
	return (int32_t)(uint32_t)le_get(c->bytes + (size_t)i * block + off, 4);
}

static float f32_at(const struct capture *c, unsigned block, unsigned i, unsigned off)
{
	return bitsf((uint32_t)le_get(c->bytes + (size_t)i * block + off, 4));
}

/* ---- the dictionaries ---------------------------------------------------- */

static const char *const v3_ids[] = {
        "MON_DIST_VERSION",    "MON_DIST_STATUS",
        "MON_DIST_ENABLE",     "MON_DIST_FREQ_DIV",
        "MON_CFG_TOTAL_MAP",   "MON_CFG_SOC_TYPE",
        "MON_CFG_EOC_TYPE",    "MON_CFG_RISING_CONDITION",
        "MON_IDX_CHECK",       "MON_CFG_TRIGGER_DELAY",
        "MON_CFG_WINDOW_SAMP", "MON_CMD_FORCE_TRIGGER",
        "MON_REARM",           "MON_CFG_BYTES_PER_BLOCK",
        "MON_CFG_BYTES_VALUE", "MON_CFG_CYCLES_VALUE",
        "MON_MAX_SIZE",        "MON_DATA_VALUE",
        "MON_REMOVE_DATA",     "DIST_STATUS",
        "DIST_ENABLE",         "DIST_REMOVE_DATA",
        "DIST_MAX_SIZE",       "DIST_CFG_MAP_REGS",
        "DIST_CFG_SAMPLES",    "DIST_DATA_VALUE",
        "DIST_FREQ_DIV",       "MON_CFG_REG0_MAP",
        "MON_CFG_REG15_MAP",   "DIST_CFG_REG0_MAP",
        "DIST_CFG_REG15_MAP",
};

/* Every model serves the whole version 3 set, and its base rate on every axis. */
static void test_simmon__registers_on_every_model(void **state)
{
	(void)state;
	for (const simdrive_model *m = simdrive_models(); m->name; m++) {
		struct fx *fx;
		void *p;

		assert_int_equal(fx_up(&p, m->name), 0);
		fx = p;
		for (size_t i = 0; i < ARRAY_SIZE(v3_ids); i++)
			(void)reg(fx, 0, v3_ids[i]);
		assert_int_equal(reg(fx, 0, "MON_DATA_VALUE")->dtype, AX_DTYPE_BYTES);
		assert_int_equal(reg(fx, 0, "DIST_DATA_VALUE")->access, SIMMODEL_WRITE);
		assert_int_equal(rd(fx, 0, "MON_DIST_VERSION"), 3);
		assert_true(rd(fx, 0, "MON_MAX_SIZE") >= 16384);
		assert_int_equal(rd(fx, 0, "MON_DIST_STATUS"), 0);
		for (unsigned n = 1; n <= m->axes; n++) {
			assert_int_equal(rd(fx, n, "DRV_POS_VEL_RATE"), 20000);
			/* Every axis is reachable: map its position (checked when written). */
			wr(fx, 0, "MON_CFG_REG0_MAP", map_word(fx, n, "CL_POS_FBK_VALUE"));
		}
		/* Feedbacks and set points are monitorable, configuration is not. */
		assert_true(reg(fx, 1, "CL_POS_FBK_VALUE")->flags & SIMMODEL_MON);
		assert_true(reg(fx, 1, "CL_CUR_Q_SET_POINT")->flags & SIMMODEL_MON);
		assert_true(reg(fx, 1, "DRV_STATE_STATUS")->flags & SIMMODEL_MON);
		assert_false(reg(fx, 1, "PROF_MAX_VEL")->flags & SIMMODEL_MON);
		fx_down(&p);
	}
}

/* ---- captures ------------------------------------------------------------ */

/*
 * The acceptance capture: 2 channels x 2,000 samples at 50 us across
 * a move. The position's derivative must match the commanded velocity (the
 * cruise at PROF_MAX_VEL, 10 rev/s) within 1 %, sample after sample. At
 * 4096 counts per revolution a 50 us sample moves 2 counts, too coarse for
 * 1 % from one sample to the next: the encoder counts 2^20 here (524 counts
 * a sample); test_simmon__capture_move_trapezoid checks the default 4096
 * over spans of samples.
 */
static void test_simmon__capture_move_cruise(void **state)
{
	static const char *const ids[] = {"CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"};
	struct fx *fx = *state;
	struct capture c;
	unsigned block = 8;
	double res = 1048576.0;

	wr(fx, 1, "FBK_DIGENC1_RESOLUTION", (uint64_t)res);
	enable_axis(fx, 1);
	map_channels(fx, ids, NULL, 2);
	assert_int_equal(rd(fx, 0, "MON_CFG_BYTES_PER_BLOCK"), block);
	wr(fx, 0, "MON_DIST_FREQ_DIV", 1);
	wr(fx, 0, "MON_CFG_SOC_TYPE", 0); /* auto: at once */
	wr(fx, 0, "MON_CFG_TRIGGER_DELAY", 0);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", 2000);

	start_move(fx, (int32_t)(res * 10)); /* 10 rev: 0.1 s ramp, 0.9 s cruise, 0.1 s ramp */
	tick_ms(fx, 200);                    /* in the cruise */
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	assert_int_equal(rd(fx, 0, "MON_DIST_STATUS") & 0x01, 1);
	tick_ms(fx, 50);
	assert_int_equal(stage(fx), 0x6); /* acquiring, half way */
	assert_int_equal(rd(fx, 0, "MON_CFG_BYTES_VALUE"), 0);
	drain(fx, block, &c);
	assert_int_equal(c.len, 2000 * block);
	assert_int_equal(c.reads, (2000 * block + 511) / 512);
	for (unsigned i = 1; i < 2000; i++) {
		double dp = s32_at(&c, block, i, 0) - s32_at(&c, block, i - 1, 0);
		double rev_s = dp / res / (BASE_NS / 1e9);

		if (fabs(rev_s - 10.0) > 0.1)
			fail_msg("sample %u: position derivative %.4f rev/s, commanded 10", i,
			         rev_s);
		assert_float_equal(f32_at(&c, block, i, 4), 10.0f, 0.1f);
	}
	free(c.bytes);
}

/*
 * A capture of the start of a move at a prescaler of 4 (5 kHz), 4096
 * counts per revolution: the velocity ramps at PROF_MAX_ACC from 0, then
 * holds. Over every span of 25 samples (5 ms, about 50 counts in the
 * cruise, so a count of rounding is 2 %) the position's derivative matches
 * the captured velocity's mean within 2 % of the cruise velocity.
 */
static void test_simmon__capture_move_trapezoid(void **state)
{
	static const char *const ids[] = {"CL_VEL_FBK_VALUE", "CL_POS_FBK_VALUE"};
	struct fx *fx = *state;
	struct capture c;
	unsigned block = 8, n = 2000, div = 4, span = 25, ramp = 0, cruise = 0;
	double period = div * BASE_NS / 1e9;

	enable_axis(fx, 1);
	map_channels(fx, ids, NULL, 2);
	wr(fx, 0, "MON_DIST_FREQ_DIV", div);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", n);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	start_move(fx, 4096 * 8);
	drain(fx, block, &c);
	assert_int_equal(c.len, n * block);
	for (unsigned i = span; i < n; i++) {
		double dp = s32_at(&c, block, i, 4) - s32_at(&c, block, i - span, 4);
		double deriv = dp / 4096.0 / (span * period), mean = 0.0;

		for (unsigned j = i - span; j <= i; j++)
			mean += f32_at(&c, block, j, 0) * (j == i - span || j == i ? 0.5 : 1.0);
		mean /= span;
		if (fabs(deriv - mean) > 0.2)
			fail_msg("samples %u..%u: derivative %.4f rev/s, velocity %.4f", i - span,
			         i, deriv, mean);
	}
	for (unsigned i = 1; i < n; i++) {
		float v0 = f32_at(&c, block, i - 1, 0), v1 = f32_at(&c, block, i, 0);

		if (v1 > 0.5f && v1 < 9.5f) {
			/* On the ramp: 100 rev/s^2, so the velocity grows 0.02 rev/s per sample. */
			assert_float_equal(v1 - v0, 100.0 * period, 1e-3);
			ramp++;
		} else if (v1 >= 9.999f) {
			cruise++;
		}
	}
	/* 0.1 s of ramp, then cruise to the end of the 0.4 s window. */
	assert_in_range(ramp, 450, 500);
	assert_in_range(cruise, 1450, 1550);
	free(c.bytes);
}

/*
 * Edge triggers: the first sample after the pre-trigger ones is the one that
 * crossed the level; the pre-trigger samples are the ones just before.
 */
static void edge_case(struct fx *fx, unsigned edge, int32_t from, int32_t to, int32_t level)
{
	static const char *const ids[] = {"DRV_STATE_STATUS", "CL_POS_FBK_VALUE"};
	struct capture c;
	unsigned block = 6, pre = 100, n = 400;
	int32_t before, at;

	map_channels(fx, ids, NULL, 2);
	assert_int_equal(rd(fx, 0, "MON_CFG_BYTES_PER_BLOCK"), block);
	wr(fx, 0, "MON_DIST_FREQ_DIV", 1);
	wr(fx, 0, "MON_CFG_SOC_TYPE", 2);
	wr(fx, 0, "MON_CFG_EOC_TYPE", edge);
	wr(fx, 0, "MON_IDX_CHECK", 1);
	wr(fx, 0, "MON_CFG_RISING_CONDITION", (uint32_t)level);
	wr(fx, 0, "MON_CFG_TRIGGER_DELAY", pre);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", n);
	assert_int_equal(rd(fx, 1, "CL_POS_FBK_VALUE"), (uint32_t)from);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	tick_ms(fx, 4);
	assert_int_equal(stage(fx), 0x2); /* filling the pre-trigger samples (5 ms) */
	tick_ms(fx, 10);
	assert_int_equal(stage(fx), 0x4); /* waiting */
	tick_ms(fx, 100);
	assert_int_equal(stage(fx), 0x4); /* standing still crosses nothing */
	start_move(fx, to);
	drain(fx, block, &c);
	assert_int_equal(c.len, n * block);
	before = s32_at(&c, block, pre - 1, 2);
	at = s32_at(&c, block, pre, 2);
	if (to > from) {
		if (!(before < level && at >= level))
			fail_msg("rising through %d: samples %d, %d at the trigger", level, before,
			         at);
	} else if (!(before > level && at <= level)) {
		fail_msg("falling through %d: samples %d, %d at the trigger", level, before, at);
	}
	/* The pre-trigger samples come in time order, ending at the trigger. */
	for (unsigned i = 1; i < n; i++) {
		int32_t p0 = s32_at(&c, block, i - 1, 2), p1 = s32_at(&c, block, i, 2);

		assert_true(to > from ? p1 >= p0 : p1 <= p0);
	}
	/* Channel 0, the u16 status word, came along in its 2 bytes: operation enabled. */
	assert_int_equal(le_get(c.bytes + (size_t)pre * block, 2) & 0x6F, 0x27);
	free(c.bytes);
	wr(fx, 0, "MON_DIST_ENABLE", 0);
	assert_int_equal(stage(fx), 0x0);
	/* Let the move end. */
	tick_ms(fx, 1500);
	assert_int_equal((int32_t)rd(fx, 1, "CL_POS_FBK_VALUE"), to);
}

static void test_simmon__edge_trigger(void **state)
{
	struct fx *fx = *state;

	enable_axis(fx, 1);
	edge_case(fx, 1, 0, 20480, 10000);   /* rising */
	edge_case(fx, 2, 20480, 0, 5000);    /* falling */
	edge_case(fx, 0, 0, -8192, -3000);   /* either, here falling through a negative level */
	edge_case(fx, 0, -8192, 4096, 1234); /* either, rising */
}

/* A rising edge of the velocity through a float level (the level's IEEE bits). */
static void test_simmon__edge_trigger_float(void **state)
{
	static const char *const ids[] = {"CL_VEL_FBK_VALUE"};
	struct fx *fx = *state;
	struct capture c;
	unsigned pre = 10;

	enable_axis(fx, 1);
	map_channels(fx, ids, NULL, 1);
	wr(fx, 0, "MON_CFG_SOC_TYPE", 2);
	wr(fx, 0, "MON_CFG_EOC_TYPE", 1);
	wr(fx, 0, "MON_IDX_CHECK", 0);
	wr(fx, 0, "MON_CFG_RISING_CONDITION", fbits(2.5f));
	wr(fx, 0, "MON_CFG_TRIGGER_DELAY", pre);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", 50);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	tick_ms(fx, 20);
	start_move(fx, 40960);
	drain(fx, 4, &c);
	assert_true(f32_at(&c, 4, pre - 1, 0) < 2.5f);
	assert_true(f32_at(&c, 4, pre, 0) >= 2.5f);
	/* 100 rev/s^2 at 20 kHz: the crossing sample is within one sample's step of it. */
	assert_float_equal(f32_at(&c, 4, pre, 0), 2.5f, 0.005f + 1e-4f);
	free(c.bytes);
}

/*
 * An edge-triggered capture armed for an hour of drive time while nothing
 * moves: the drive does not grind through 72 million samples of the same
 * values (it takes one step after the last change, then the rest at once),
 * yet the trigger and the pre-trigger samples come out as if it had.
 */
static void test_simmon__long_wait_for_trigger(void **state)
{
	static const char *const ids[] = {"CL_POS_FBK_VALUE", "DRV_STATE_STATUS"};
	struct fx *fx = *state;
	struct capture c;
	unsigned pre = 500, block = 6;
	uint16_t status;
	uint64_t t0;
	double spent;

	enable_axis(fx, 1);
	map_channels(fx, ids, NULL, 2);
	wr(fx, 0, "MON_CFG_SOC_TYPE", 2);
	wr(fx, 0, "MON_CFG_EOC_TYPE", 1);
	wr(fx, 0, "MON_CFG_RISING_CONDITION", 100);
	wr(fx, 0, "MON_CFG_TRIGGER_DELAY", pre);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", 1000);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	t0 = mono_ns();
	tick_ms(fx, 3600 * 1000);
	spent = (double)(mono_ns() - t0) / 1e6;
	/*
	 * Natively some 10 ms; stepping through it all takes some 10 s. Both are
	 * CPU time, so both scale alike under valgrind: the bound scales too.
	 */
	if (spent > (double)test_ms(2000))
		fail_msg("an hour of standing still took %.0f ms to simulate", spent);
	assert_int_equal(stage(fx), 0x4); /* the pre-trigger samples are full */
	start_move(fx, 4096);
	drain(fx, block, &c);
	/* The pre-trigger samples: standing at 0, then the start of the move below the level. */
	assert_int_equal(s32_at(&c, block, 0, 0), 0);
	for (unsigned i = 1; i < pre; i++) {
		assert_true(s32_at(&c, block, i, 0) >= s32_at(&c, block, i - 1, 0));
		assert_true(s32_at(&c, block, i, 0) < 100);
	}
	assert_true(s32_at(&c, block, pre, 0) >= 100);
	free(c.bytes);
	wr(fx, 0, "MON_DIST_ENABLE", 0);
	tick_ms(fx, 2000); /* the move ends */

	/* A write while everything stands still is sampled, however long the wait was. */
	status = (uint16_t)rd(fx, 1, "DRV_STATE_STATUS");
	wr(fx, 0, "MON_CFG_EOC_TYPE", 2);
	wr(fx, 0, "MON_IDX_CHECK", 1);
	wr(fx, 0, "MON_CFG_RISING_CONDITION", status - 1u);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	t0 = mono_ns();
	tick_ms(fx, 3600 * 1000);
	assert_true(mono_ns() - t0 < 2000 * MS);
	wr(fx, 1, "DRV_STATE_CONTROL", 0x07); /* switched on: bit 2 falls */
	tick_ms(fx, 100);
	drain(fx, block, &c);
	assert_int_equal(le_get(c.bytes + (size_t)(pre - 1) * block + 4, 2), status);
	assert_int_equal(le_get(c.bytes + (size_t)pre * block + 4, 2),
	                 rd(fx, 1, "DRV_STATE_STATUS"));
	assert_int_equal(rd(fx, 1, "DRV_STATE_STATUS") & 0x6F, 0x23);
	for (unsigned i = 0; i < pre; i++)
		assert_int_equal(s32_at(&c, block, i, 0), 4096);
	free(c.bytes);
}

/* Forced trigger: nothing until MON_CMD_FORCE_TRIGGER, then the window. */
static void test_simmon__forced_trigger_and_rearm(void **state)
{
	static const char *const ids[] = {"CL_POS_FBK_VALUE"};
	struct fx *fx = *state;
	struct capture c;

	map_channels(fx, ids, NULL, 1);
	wr(fx, 0, "MON_CFG_SOC_TYPE", 1);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", 300);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	tick_ms(fx, 500);
	assert_int_equal(stage(fx), 0x4);
	wr(fx, 0, "MON_CMD_FORCE_TRIGGER", 1);
	tick_ms(fx, 5);
	assert_int_equal(stage(fx), 0x6);
	drain(fx, 4, &c);
	assert_int_equal(c.len, 1200);
	assert_int_equal(c.reads, 3); /* 512 + 512 + 176 */
	free(c.bytes);

	/* Re-arm: the same configuration waits for the next force. */
	wr(fx, 0, "MON_REARM", 1);
	tick_ms(fx, 50);
	assert_int_equal(stage(fx), 0x4);
	wr(fx, 0, "MON_CMD_FORCE_TRIGGER", 1);
	tick_ms(fx, 20);
	assert_true(rd(fx, 0, "MON_DIST_STATUS") & 0x10);
	assert_int_equal(rd(fx, 0, "MON_CFG_BYTES_VALUE"), 1200);
	/* Discarded, nothing is left to read. */
	wr(fx, 0, "MON_REMOVE_DATA", 1);
	assert_int_equal(rd(fx, 0, "MON_CFG_BYTES_VALUE"), 0);
	assert_int_equal(rd(fx, 0, "MON_DIST_STATUS") & 0x10, 0);
	wr(fx, 0, "MON_DIST_ENABLE", 0);
	wr_refused(fx, 0, "MON_REARM", 1, AX_MCB_CODE_NOT_EXECUTED, "re-arm while disabled");
}

/* ---- refusals ------------------------------------------------------------ */

static void test_simmon__bad_maps_refused(void **state)
{
	struct fx *fx = *state;
	uint32_t pos = map_word(fx, 1, "CL_POS_FBK_VALUE");
	uint32_t cfg = (uint32_t)(addr(fx, 1, "PROF_MAX_VEL") | 1u << 12) << 16 | T_FLOAT << 8 | 4;

	wr(fx, 0, "MON_CFG_TOTAL_MAP", 0);
	wr_refused(fx, 0, "MON_CFG_REG0_MAP", (uint32_t)(0x7FF | 1u << 12) << 16 | T_S32 << 8 | 4,
	           AX_MCB_CODE_NO_OBJECT, "no register there");
	wr_refused(fx, 0, "MON_CFG_REG0_MAP", cfg, AX_MCB_CODE_ACCESS, "a CONFIG register");
	wr_refused(fx, 0, "MON_CFG_REG0_MAP", (pos & ~0xFF00u) | T_FLOAT << 8, AX_MCB_CODE_RANGE,
	           "another type");
	wr_refused(fx, 0, "MON_CFG_REG0_MAP", (pos & ~0xFFu) | 2, AX_MCB_CODE_WRONG_SIZE,
	           "another size");
	wr_refused(fx, 0, "MON_CFG_TOTAL_MAP", 17, AX_MCB_CODE_RANGE, "17 channels");
	wr_refused(fx, 0, "MON_CFG_TOTAL_MAP", 1, AX_MCB_CODE_NOT_EXECUTED, "an empty channel");
	wr_refused(fx, 0, "MON_DIST_ENABLE", 1, AX_MCB_CODE_NOT_EXECUTED, "no map");
	assert_int_equal(rd(fx, 0, "MON_DIST_STATUS"), 0);

	wr(fx, 0, "MON_CFG_REG0_MAP", pos);
	wr(fx, 0, "MON_CFG_TOTAL_MAP", 1);
	wr_refused(fx, 0, "MON_DIST_FREQ_DIV", 0, AX_MCB_CODE_RANGE, "prescaler 0");
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", rd(fx, 0, "MON_MAX_SIZE") / 4 + 1);
	wr_refused(fx, 0, "MON_DIST_ENABLE", 1, AX_MCB_CODE_RANGE, "window past the buffer");
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", rd(fx, 0, "MON_MAX_SIZE") / 4);
	wr(fx, 0, "MON_CFG_TRIGGER_DELAY", rd(fx, 0, "MON_MAX_SIZE") / 4);
	wr_refused(fx, 0, "MON_DIST_ENABLE", 1, AX_MCB_CODE_RANGE, "no room after pre-trigger");
	wr(fx, 0, "MON_CFG_TRIGGER_DELAY", 0);
	wr(fx, 0, "MON_CFG_SOC_TYPE", 2);
	wr(fx, 0, "MON_IDX_CHECK", 1);
	wr_refused(fx, 0, "MON_DIST_ENABLE", 1, AX_MCB_CODE_RANGE, "trigger channel unmapped");
	wr(fx, 0, "MON_IDX_CHECK", 0);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	/* Running, the configuration is fixed. */
	wr_refused(fx, 0, "MON_CFG_TOTAL_MAP", 0, AX_MCB_CODE_NOT_EXECUTED, "map while running");
	wr_refused(fx, 0, "MON_CFG_REG1_MAP", pos, AX_MCB_CODE_NOT_EXECUTED, "word while running");
	wr_refused(fx, 0, "MON_DIST_FREQ_DIV", 2, AX_MCB_CODE_NOT_EXECUTED, "rate while running");
	wr_refused(fx, 0, "MON_CFG_WINDOW_SAMP", 10, AX_MCB_CODE_NOT_EXECUTED,
	           "window while running");
	wr_refused(fx, 0, "MON_DIST_ENABLE", 2, AX_MCB_CODE_RANGE, "enable 2");
	wr(fx, 0, "MON_DIST_ENABLE", 0);
	/* Stopped, it may change again; clearing the map empties every word. */
	wr(fx, 0, "MON_CFG_TOTAL_MAP", 0);
	assert_int_equal(rd(fx, 0, "MON_CFG_REG0_MAP"), 0);
	assert_int_equal(rd(fx, 0, "MON_CFG_BYTES_PER_BLOCK"), 0);
}

/*
 * axs-200 is a version 2 dictionary: its second axis is monitored at the
 * register's address + 0x800, subnode 2; the plain address is refused.
 */
static void test_simmon__v2_second_axis(void **state)
{
	static const char *const ids[] = {"CL_POS_FBK_VALUE", "CL_POS_FBK_VALUE"};
	static const unsigned subs[] = {1, 2};
	struct fx *fx = *state;
	uint32_t w2 = map_word(fx, 2, "CL_POS_FBK_VALUE");
	struct capture c;

	assert_int_equal(w2 >> 16, (0x030 + 0x800) | 2u << 12);
	wr(fx, 0, "MON_CFG_TOTAL_MAP", 0);
	wr_refused(fx, 0, "MON_CFG_REG0_MAP", (uint32_t)(0x030 | 2u << 12) << 16 | T_S32 << 8 | 4,
	           AX_MCB_CODE_ACCESS, "axis 2 without the offset");
	map_channels(fx, ids, subs, 2);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", 20);
	enable_axis(fx, 2);
	wr(fx, 2, "CL_POS_SET_POINT_VALUE", 4096);
	wr(fx, 2, "DRV_STATE_CONTROL", 0x3F);
	tick_ms(fx, 300);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	drain(fx, 8, &c);
	/* Axis 1 stood still, axis 2 moved. */
	assert_int_equal(s32_at(&c, 8, 19, 0), 0);
	assert_true(s32_at(&c, 8, 19, 4) > 0);
	free(c.bytes);
}

/* ---- disturbance --------------------------------------------------------- */

static void write_wave(struct fx *fx, const uint8_t *data, size_t len)
{
	unsigned a = addr(fx, 0, "DIST_DATA_VALUE");

	for (size_t at = 0; at < len;) {
		size_t n = len - at < 512 ? len - at : 512;
		struct xfer x;

		req_write(fx, 0, a, data + at, n, 1, &x);
		expect_ack(&x, 0, a, "DIST_DATA_VALUE");
		at += n;
	}
}

/*
 * A waveform into the current set point in current mode, started before a
 * capture of the set point and the actual current: the capture shows
 * waveform sample i at its sample i, in both channels.
 */
static void test_simmon__disturbance_into_current(void **state)
{
	static const char *const ids[] = {"CL_CUR_Q_VALUE", "CL_CUR_Q_SET_POINT"};
	struct fx *fx = *state;
	enum { N = 300 };
	uint8_t wave[N * 4];
	struct capture c;

	wr(fx, 1, "DRV_OP_CMD", 0x02);
	enable_axis(fx, 1);
	for (unsigned i = 0; i < N; i++)
		le_put(wave + 4 * i, 4, fbits((float)(1.5 * sin(i * 0.05))));
	wr(fx, 0, "DIST_CFG_MAP_REGS", 0);
	wr(fx, 0, "DIST_CFG_REG0_MAP", map_word(fx, 1, "CL_CUR_Q_SET_POINT"));
	wr(fx, 0, "DIST_CFG_MAP_REGS", 1);
	assert_int_equal(rd(fx, 0, "DIST_CFG_BYTES_PER_BLOCK"), 4);
	wr(fx, 0, "DIST_CFG_SAMPLES", N);
	write_wave(fx, wave, sizeof(wave));
	assert_int_equal(rd(fx, 0, "DIST_CFG_BYTES"), sizeof(wave));
	assert_int_equal(rd(fx, 0, "DIST_CFG_CYCLES"), N);
	wr(fx, 0, "DIST_ENABLE", 1);
	assert_int_equal(rd(fx, 0, "DIST_STATUS"), 3); /* enabled, playing */

	map_channels(fx, ids, NULL, 2);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", N);
	tick_ms(fx, 3);                  /* the disturbance plays on its own ... */
	wr(fx, 0, "MON_DIST_ENABLE", 1); /* ... and starts again with the capture */
	drain(fx, 8, &c);
	for (unsigned i = 0; i < N; i++) {
		uint32_t want = (uint32_t)le_get(wave + 4 * i, 4);

		if ((uint32_t)le_get(c.bytes + 8 * i, 4) != want ||
		    (uint32_t)le_get(c.bytes + 8 * i + 4, 4) != want)
			fail_msg("sample %u: current %g, set point %g, waveform %g", i,
			         f32_at(&c, 8, i, 0), f32_at(&c, 8, i, 4), bitsf(want));
	}
	free(c.bytes);
	/* Played out: the target keeps the last sample. */
	assert_int_equal(rd(fx, 0, "DIST_STATUS"), 1);
	assert_int_equal(rd(fx, 1, "CL_CUR_Q_SET_POINT"), le_get(wave + 4 * (N - 1), 4));
	wr(fx, 0, "DIST_ENABLE", 0);
	assert_int_equal(rd(fx, 0, "DIST_STATUS"), 0);
}

/* A velocity step at a prescaler of 2 moves the axis; the capture sees the feedback follow. */
static void test_simmon__disturbance_velocity_step(void **state)
{
	static const char *const ids[] = {"CL_VEL_SET_POINT_VALUE", "CL_VEL_FBK_VALUE"};
	struct fx *fx = *state;
	enum { N = 200 };
	uint8_t wave[N * 4];
	struct capture c;
	unsigned first = 0;

	wr(fx, 1, "DRV_OP_CMD", 0x03); /* velocity: the set point applies at once */
	enable_axis(fx, 1);
	for (unsigned i = 0; i < N; i++)
		le_put(wave + 4 * i, 4, fbits(i < N / 2 ? 0.0f : 4.0f));
	wr(fx, 0, "DIST_CFG_MAP_REGS", 0);
	wr(fx, 0, "DIST_CFG_REG0_MAP", map_word(fx, 1, "CL_VEL_SET_POINT_VALUE"));
	wr(fx, 0, "DIST_CFG_MAP_REGS", 1);
	wr(fx, 0, "DIST_FREQ_DIV", 2);
	wr(fx, 0, "DIST_CFG_SAMPLES", N);
	write_wave(fx, wave, sizeof(wave));
	wr(fx, 0, "DIST_ENABLE", 1);
	map_channels(fx, ids, NULL, 2);
	wr(fx, 0, "MON_DIST_FREQ_DIV", 2);
	wr(fx, 0, "MON_CFG_WINDOW_SAMP", N);
	wr(fx, 0, "MON_DIST_ENABLE", 1);
	drain(fx, 8, &c);
	for (unsigned i = 0; i < N; i++) {
		assert_float_equal(f32_at(&c, 8, i, 0), i < N / 2 ? 0.0f : 4.0f, 0.0f);
		if (!first && f32_at(&c, 8, i, 4) > 3.99f)
			first = i;
	}
	/*
	 * The 1 kHz velocity loop takes the step at its next cycle (10 samples of
	 * 100 us at most), and the samples of a cycle see the change spread over it.
	 */
	assert_in_range(first, N / 2, N / 2 + 20);
	assert_float_equal(f32_at(&c, 8, N - 1, 4), 4.0f, 1e-4f);
	free(c.bytes);
}

static void test_simmon__disturbance_refusals(void **state)
{
	struct fx *fx = *state;
	unsigned a = addr(fx, 0, "DIST_DATA_VALUE");
	uint8_t data[512] = {0};
	struct xfer x;

	/* Data before a map says what it is. */
	req_write(fx, 0, a, data, 16, 1, &x);
	assert_int_equal(x.f.command, AX_MCB_ERR_WRITE);
	assert_int_equal(le_get(x.f.data, 4), AX_MCB_CODE_NOT_EXECUTED);
	/* A target the drive cannot write. */
	wr(fx, 0, "DIST_CFG_MAP_REGS", 0);
	wr_refused(fx, 0, "DIST_CFG_REG0_MAP", map_word(fx, 1, "CL_POS_FBK_VALUE"),
	           AX_MCB_CODE_ACCESS, "a read-only target");
	wr(fx, 0, "DIST_CFG_REG0_MAP", map_word(fx, 1, "CL_CUR_Q_SET_POINT"));
	wr(fx, 0, "DIST_CFG_MAP_REGS", 1);
	/* A plain frame carries no waveform. */
	req_write(fx, 0, a, data, 8, 0, &x);
	assert_int_equal(x.f.command, AX_MCB_ERR_WRITE);
	assert_int_equal(le_get(x.f.data, 4), AX_MCB_CODE_WRONG_SIZE);
	/* More than DIST_CFG_SAMPLES blocks. */
	wr(fx, 0, "DIST_CFG_SAMPLES", 10);
	req_write(fx, 0, a, data, 44, 1, &x);
	assert_int_equal(x.f.command, AX_MCB_ERR_WRITE);
	assert_int_equal(le_get(x.f.data, 4), AX_MCB_CODE_RANGE);
	/* Fewer: the enable is refused until the waveform is whole. */
	req_write(fx, 0, a, data, 38, 1, &x);
	expect_ack(&x, 0, a, "DIST_DATA_VALUE");
	wr_refused(fx, 0, "DIST_ENABLE", 1, AX_MCB_CODE_NOT_EXECUTED, "a partial waveform");
	req_write(fx, 0, a, data, 2, 1, &x);
	expect_ack(&x, 0, a, "DIST_DATA_VALUE");
	wr(fx, 0, "DIST_ENABLE", 1);
	wr_refused(fx, 0, "DIST_CFG_MAP_REGS", 0, AX_MCB_CODE_NOT_EXECUTED, "map while playing");
	req_write(fx, 0, a, data, 4, 1, &x);
	assert_int_equal(x.f.command, AX_MCB_ERR_WRITE);
	/* Discarded, the disturbance stops and holds nothing. */
	wr(fx, 0, "DIST_REMOVE_DATA", 1);
	assert_int_equal(rd(fx, 0, "DIST_STATUS"), 0);
	assert_int_equal(rd(fx, 0, "DIST_CFG_BYTES"), 0);
	/* The buffer's capacity. */
	wr(fx, 0, "DIST_CFG_SAMPLES", 0);
	for (uint64_t left = rd(fx, 0, "DIST_MAX_SIZE"); left; left -= left < 512 ? left : 512) {
		req_write(fx, 0, a, data, left < 512 ? left : 512, 1, &x);
		expect_ack(&x, 0, a, "DIST_DATA_VALUE");
	}
	req_write(fx, 0, a, data, 4, 1, &x);
	assert_int_equal(x.f.command, AX_MCB_ERR_WRITE);
	assert_int_equal(le_get(x.f.data, 4), AX_MCB_CODE_RANGE);
}

/* ---- in real time -------------------------------------------------------- */

/*
 * Through the virtual transport, whose drive takes the monotonic clock as
 * its time: a capture of 2 channels x 2,000 samples at 50 us is 100 ms of
 * drive time, so its frame is there no sooner than 100 ms after the enable,
 * and soon after (some 105 ms, natively or under valgrind). Then it drains in 32 reads.
 */
static void test_simmon__real_time_through_virtual(void **state)
{
	struct fx *fx = *state; /* for the model's addresses */
	ax_ctx *ctx = new_ctx();
	ax_link *link = NULL;
	uint8_t buf[AX_MCB_MAX_PAYLOAD];
	uint64_t t0, t1;
	uint32_t status = 0, avail = 0;
	unsigned reads = 0;
	size_t len = 0;

	if (ax_link_open(&link, ctx, "virtual:?model=axs-100", NULL) < 0)
		fail_msg("open virtual: %s", ax_error_last());
	assert_int_equal(ax_link_write_u16(link, 0, addr(fx, 0, "MON_CFG_TOTAL_MAP"), 0), 0);
	assert_int_equal(ax_link_write_u32(link, 0, addr(fx, 0, "MON_CFG_REG0_MAP"),
	                                   map_word(fx, 1, "CL_POS_FBK_VALUE")),
	                 0);
	assert_int_equal(ax_link_write_u32(link, 0, addr(fx, 0, "MON_CFG_REG1_MAP"),
	                                   map_word(fx, 1, "CL_VEL_FBK_VALUE")),
	                 0);
	assert_int_equal(ax_link_write_u16(link, 0, addr(fx, 0, "MON_CFG_TOTAL_MAP"), 2), 0);
	assert_int_equal(ax_link_write_u32(link, 0, addr(fx, 0, "MON_CFG_WINDOW_SAMP"), 2000), 0);
	t0 = mono_ns();
	assert_int_equal(ax_link_write_u16(link, 0, addr(fx, 0, "MON_DIST_ENABLE"), 1), 0);
	do {
		struct timespec nap = {0, 2 * 1000000};

		assert_int_equal(ax_link_read_u32(link, 0, addr(fx, 0, "MON_DIST_STATUS"), &status),
		                 0);
		t1 = mono_ns();
		if (t1 - t0 > 5000 * MS)
			fail_msg("no frame after 5 s (status 0x%X)", (unsigned)status);
		nanosleep(&nap, NULL);
	} while (!(status & 0x10));
	/* One step (1 ms) of drive time may lie between the request and the enable. */
	if (t1 - t0 < 99 * MS)
		fail_msg("a 100 ms capture was ready after %.1f ms", (double)(t1 - t0) / 1e6);
	assert_true(t1 - t0 < 3000 * MS); /* a busy machine, valgrind */
	print_message("capture of 100 ms ready after %.1f ms\n", (double)(t1 - t0) / 1e6);
	assert_int_equal(ax_link_read_u32(link, 0, addr(fx, 0, "MON_CFG_BYTES_VALUE"), &avail), 0);
	assert_int_equal(avail, 16000);
	while (avail) {
		assert_int_equal(ax_link_read(link, 0, addr(fx, 0, "MON_DATA_VALUE"), buf,
		                              sizeof(buf), &len),
		                 0);
		assert_int_equal(len, avail < 512 ? avail : 512);
		avail -= (uint32_t)len;
		reads++;
		assert_int_equal(
		        ax_link_read_u32(link, 0, addr(fx, 0, "MON_CFG_BYTES_VALUE"), &status), 0);
		assert_int_equal(status, avail);
	}
	assert_int_equal(reads, 32);
	ax_link_unref(link);
	ax_ctx_unref(ctx);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_simmon__##name, up_100, fx_down)
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_simmon__registers_on_every_model),
	        T(capture_move_cruise),
	        T(capture_move_trapezoid),
	        T(edge_trigger),
	        T(edge_trigger_float),
	        T(long_wait_for_trigger),
	        T(forced_trigger_and_rearm),
	        T(bad_maps_refused),
	        cmocka_unit_test_setup_teardown(test_simmon__v2_second_axis, up_200, fx_down),
	        T(disturbance_into_current),
	        T(disturbance_velocity_step),
	        T(disturbance_refusals),
	        T(real_time_through_virtual),
	};
#undef T
	return cmocka_run_group_tests_name("simmon", tests, NULL, NULL);
}
