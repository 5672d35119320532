/* SPDX-License-Identifier: MIT */
/*
 * Motion: the simulated drive's kinematics on a fake clock (exact, fast),
 * then the library's axes against the `virtual` transport and against the
 * real axlink-sim over UDP on 127.0.4.1-9 (this file's range; the CLI tests
 * of motion use 127.0.4.10-19).
 *
 * Against real time nothing asserts how long a move takes, only what the
 * drive reports at the end; the fake-clock tests pin the profiles instead.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "testctx.h"
#include "support/timing.h"
#include "simdrive.h"
#include "simproc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000ull

/* Registers (DESIGN §5, devices/gen_xdf.py). */
#define R_DIAG_ERROR_LAST 0x00F
#define R_CONTROL 0x010
#define R_STATUS 0x011
#define R_OP_CMD 0x014
#define R_POS_SP 0x020
#define R_VEL_SP 0x021
#define R_MAX_VEL 0x025
#define R_POS_FBK 0x030
#define R_VEL_FBK 0x031
#define R_CUR_Q_SP 0x01A
#define R_CUR_Q_FBK 0x03B
#define R_POS_MAX 0x4B1
#define R_HOM_MODE 0x450
#define R_HOM_OFFSET 0x451
#define R_HOM_SPEED 0x452
#define R_HOM_SPEED_ZERO 0x453
#define R_HOM_ACC 0x454
#define R_HOM_TIMEOUT 0x455
#define R_SIM_FAULT_INJECT 0x7E0
#define R_SIM_FAULT_ARM 0x7E1
#define R_SIM_FREEZE 0x7E2
#define R_SIM_HOME_SWITCH 0x7E3
#define R_SIM_POS_LIMIT 0x7E4
#define R_SIM_NEG_LIMIT 0x7E5

#define SW_TARGET_REACHED 0x0400u
#define SW_LIMIT 0x0800u
#define SW_ACK 0x1000u
#define SW_HOMING_ERROR 0x2000u

#define RES 4096.0 /* FBK_DIGENC1_RESOLUTION of every model */

static const simdrive_codec codec = {ax_mcb_encode, ax_mcb_decode};

/* ==== the simulated drive on a fake clock ================================ */

struct simclock {
	simdrive *d;
	uint64_t t; /* ns */
};

static int sim_up(void **state)
{
	struct simclock *c = calloc(1, sizeof(*c));

	if (!c || simdrive_new(&c->d, &codec, "axs-100", 1) < 0) {
		free(c);
		return -1;
	}
	c->t = 1000 * MS;
	simdrive_tick(c->d, c->t); /* sets the clock */
	*state = c;
	return 0;
}

static int sim_down(void **state)
{
	struct simclock *c = *state;

	simdrive_free(c->d);
	free(c);
	return 0;
}

static void advance(struct simclock *c, uint64_t ms)
{
	c->t += ms * MS;
	simdrive_tick(c->d, c->t);
}

static uint64_t sim_get(simdrive *d, unsigned sub, unsigned addr)
{
	uint8_t buf[8] = {0};
	uint32_t code = 0;
	size_t len = 0;
	uint64_t v = 0;

	if (simdrive_read(d, sub, addr, buf, sizeof(buf), &len, &code) < 0)
		fail_msg("read %u:0x%03X refused, code 0x%08X", sub, addr, (unsigned)code);
	for (size_t i = len; i-- > 0;)
		v = v << 8 | buf[i];
	return v;
}

static void sim_put(simdrive *d, unsigned sub, unsigned addr, uint64_t v, size_t len)
{
	uint8_t buf[8];
	uint32_t code = 0;

	for (size_t i = 0; i < len; i++, v >>= 8)
		buf[i] = (uint8_t)v;
	if (simdrive_write(d, sub, addr, buf, len, &code) < 0)
		fail_msg("write %u:0x%03X refused, code 0x%08X", sub, addr, (unsigned)code);
}

static void sim_putf(simdrive *d, unsigned sub, unsigned addr, float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	sim_put(d, sub, addr, u, 4);
}

static float sim_getf(simdrive *d, unsigned sub, unsigned addr)
{
	uint32_t u = (uint32_t)sim_get(d, sub, addr);
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static uint16_t sw_of(simdrive *d)
{
	return (uint16_t)sim_get(d, 1, R_STATUS);
}

static int32_t pos_of(simdrive *d)
{
	return (int32_t)(uint32_t)sim_get(d, 1, R_POS_FBK);
}

static void cw(simdrive *d, unsigned v)
{
	sim_put(d, 1, R_CONTROL, v, 2);
}

static void expect_sim_state(simdrive *d, int want, const char *step)
{
	uint16_t sw = sw_of(d);

	if (ax_cia402_decode(sw) != want)
		fail_msg("%s: status word 0x%04X is '%s', want '%s'", step, sw,
		         ax_cia402_state_name(ax_cia402_decode(sw)), ax_cia402_state_name(want));
}

static void sim_enable(struct simclock *c, unsigned mode)
{
	sim_put(c->d, 1, R_OP_CMD, mode, 2);
	cw(c->d, 0x06);
	cw(c->d, 0x07);
	cw(c->d, 0x0F);
	expect_sim_state(c->d, AX_CIA402_OPERATION_ENABLED, "enable");
}

/* Start a profile position move to @target with the bit 4 handshake. */
static void sim_pp_start(simdrive *d, int32_t target, unsigned extra)
{
	sim_put(d, 1, R_POS_SP, (uint32_t)target, 4);
	cw(d, 0x2F | extra);
	cw(d, 0x3F | extra);
	assert_true(sw_of(d) & SW_ACK);
	assert_false(sw_of(d) & SW_TARGET_REACHED);
	cw(d, 0x2F | extra);
	assert_false(sw_of(d) & SW_ACK);
}

/* Step 1 ms at a time until target reached; returns the ms it took. */
static unsigned sim_run_to_target(struct simclock *c, unsigned max_ms)
{
	for (unsigned ms = 1; ms <= max_ms; ms++) {
		advance(c, 1);
		if (sw_of(c->d) & SW_TARGET_REACHED)
			return ms;
	}
	fail_msg("target not reached in %u ms: position %d, status 0x%04X", max_ms, pos_of(c->d),
	         sw_of(c->d));
	return 0;
}

static void test_motion__sim_trapezoid(void **state)
{
	struct simclock *c = *state;
	unsigned arrived = 0, reached = 0;
	float vmax_seen = 0.0f;

	sim_enable(c, 0x14);
	/* Writing the target alone does nothing in profile position: the handshake starts it. */
	sim_put(c->d, 1, R_POS_SP, 20480, 4);
	advance(c, 10);
	assert_int_equal(pos_of(c->d), 0);
	assert_true(sw_of(c->d) & SW_TARGET_REACHED);

	/* 5 rev at 10 rev/s with 100 rev/s^2 ramps: 0.1 s up, 0.4 s cruise, 0.1 s down. */
	sim_pp_start(c->d, 20480, 0);
	for (unsigned ms = 1; ms <= 700 && !reached; ms++) {
		float v;
		uint16_t sw;

		advance(c, 1);
		v = sim_getf(c->d, 1, R_VEL_FBK);
		sw = sw_of(c->d);
		if (v > vmax_seen)
			vmax_seen = v;
		if (ms == 50)
			assert_float_equal(v, 5.0f, 0.15f); /* halfway up the ramp */
		if (ms == 300)
			assert_float_equal(v, 10.0f, 1e-4f); /* cruising */
		if (!arrived && pos_of(c->d) == 20480)
			arrived = ms;
		if (sw & SW_TARGET_REACHED)
			reached = ms;
	}
	assert_true(vmax_seen <= 10.0f + 1e-4f);
	if (arrived < 590 || arrived > 615)
		fail_msg("arrived after %u ms, the profile takes 600", arrived);
	/* Target reached once the position stayed PROF_POS_WINDOW_TIME (5 ms) in the window. */
	assert_in_range(reached - arrived, 4, 6);
	assert_int_equal(pos_of(c->d), 20480);
	assert_true(sim_getf(c->d, 1, R_VEL_FBK) == 0.0f);

	/* Backwards, from 10 rev/s down to a short triangle: 0.25 rev peaks at 5 rev/s. */
	sim_pp_start(c->d, 20480 - 1024, 0);
	reached = sim_run_to_target(c, 200);
	assert_in_range(reached, 95, 112);
	assert_int_equal(pos_of(c->d), 20480 - 1024);
}

static void test_motion__sim_relative_latch_limits(void **state)
{
	struct simclock *c = *state;

	sim_enable(c, 0x14);
	sim_pp_start(c->d, 1000, 0x40); /* relative to the target 0 enabling set */
	sim_run_to_target(c, 1000);
	assert_int_equal(pos_of(c->d), 1000);
	sim_pp_start(c->d, -300, 0x40);
	sim_run_to_target(c, 1000);
	assert_int_equal(pos_of(c->d), 700);

	/* The MCB target latch (bit 9) takes a target too. */
	sim_put(c->d, 1, R_POS_SP, 2000, 4);
	cw(c->d, 0x20F);
	assert_false(sw_of(c->d) & SW_TARGET_REACHED);
	cw(c->d, 0x0F);
	sim_run_to_target(c, 1000);
	assert_int_equal(pos_of(c->d), 2000);

	/* A software limit cuts the target and says so (bit 11). */
	sim_put(c->d, 1, R_POS_MAX, 1500, 4);
	sim_pp_start(c->d, 5000, 0);
	assert_true(sw_of(c->d) & SW_LIMIT);
	sim_run_to_target(c, 1000);
	assert_int_equal(pos_of(c->d), 1500);
}

static void test_motion__sim_profile_velocity_and_halt(void **state)
{
	struct simclock *c = *state;
	int32_t p0;

	sim_enable(c, 0x13);
	sim_putf(c->d, 1, R_VEL_SP, 5.0f);
	assert_false(sw_of(c->d) & SW_TARGET_REACHED);
	advance(c, 20);
	assert_float_equal(sim_getf(c->d, 1, R_VEL_FBK), 2.0f, 1e-3f); /* 100 rev/s^2 */
	assert_false(sw_of(c->d) & SW_TARGET_REACHED);
	advance(c, 40);
	assert_float_equal(sim_getf(c->d, 1, R_VEL_FBK), 5.0f, 1e-4f);
	assert_true(sw_of(c->d) & SW_TARGET_REACHED);

	/* Over PROF_MAX_VEL: clamped to 10 rev/s. */
	sim_putf(c->d, 1, R_VEL_SP, 50.0f);
	advance(c, 200);
	assert_float_equal(sim_getf(c->d, 1, R_VEL_FBK), 10.0f, 1e-4f);

	/* Halt brakes at PROF_MAX_DEC; target reached once stopped. */
	cw(c->d, 0x10F);
	advance(c, 50);
	assert_float_equal(sim_getf(c->d, 1, R_VEL_FBK), 5.0f, 1e-3f);
	assert_false(sw_of(c->d) & SW_TARGET_REACHED);
	advance(c, 60);
	assert_true(sim_getf(c->d, 1, R_VEL_FBK) == 0.0f);
	assert_true(sw_of(c->d) & SW_TARGET_REACHED);
	p0 = pos_of(c->d);
	advance(c, 100);
	assert_int_equal(pos_of(c->d), p0);
	cw(c->d, 0x0F); /* released: off again */
	advance(c, 30);
	assert_true(sim_getf(c->d, 1, R_VEL_FBK) > 2.0f);
}

static void test_motion__sim_quick_stop_ramps(void **state)
{
	struct simclock *c = *state;
	int32_t p0, p1;

	sim_enable(c, 0x13);
	sim_putf(c->d, 1, R_VEL_SP, 10.0f);
	advance(c, 200);
	p0 = pos_of(c->d);
	cw(c->d, 0x0B); /* quick stop */
	expect_sim_state(c->d, AX_CIA402_QUICK_STOP_ACTIVE, "quick stop");
	advance(c, 5);
	/* PROF_QUICK_STOP_DEC 1000 rev/s^2: half the speed gone in 5 ms. */
	assert_float_equal(sim_getf(c->d, 1, R_VEL_FBK), 5.0f, 1e-3f);
	advance(c, 20);
	assert_true(sim_getf(c->d, 1, R_VEL_FBK) == 0.0f);
	assert_true(sw_of(c->d) & SW_TARGET_REACHED);
	p1 = pos_of(c->d);
	/* v^2 / 2a = 0.05 rev = 204.8 counts */
	assert_in_range(p1 - p0, 204, 206);
	advance(c, 100);
	assert_int_equal(pos_of(c->d), p1);
	expect_sim_state(c->d, AX_CIA402_QUICK_STOP_ACTIVE, "stopped in quick stop");
	cw(c->d, 0x0F);
	expect_sim_state(c->d, AX_CIA402_OPERATION_ENABLED, "enable from quick stop");
}

static void test_motion__sim_fault_reaction(void **state)
{
	struct simclock *c = *state;

	sim_enable(c, 0x13);
	sim_putf(c->d, 1, R_VEL_SP, 10.0f);
	advance(c, 200);
	assert_int_equal(simdrive_fault(c->d, 1, 0x4210), 0);
	expect_sim_state(c->d, AX_CIA402_FAULT_REACTION_ACTIVE, "fault while moving");
	cw(c->d, 0x80); /* no way out while the reaction runs */
	expect_sim_state(c->d, AX_CIA402_FAULT_REACTION_ACTIVE, "reset during reaction");
	advance(c, 20);
	expect_sim_state(c->d, AX_CIA402_FAULT, "reaction over");
	assert_true(sim_getf(c->d, 1, R_VEL_FBK) == 0.0f);
	assert_int_equal(sim_get(c->d, 1, R_DIAG_ERROR_LAST), 0x4210);
	cw(c->d, 0x0F);
	expect_sim_state(c->d, AX_CIA402_FAULT, "enable refused in fault");
	cw(c->d, 0x00);
	cw(c->d, 0x80);
	expect_sim_state(c->d, AX_CIA402_SWITCH_ON_DISABLED, "fault reset");
}

static void test_motion__sim_test_hooks(void **state)
{
	struct simclock *c = *state;

	/* Inject: at once, the code kept. */
	sim_put(c->d, 1, R_SIM_FAULT_INJECT, 0x2310, 4);
	expect_sim_state(c->d, AX_CIA402_FAULT, "injected");
	assert_int_equal(sim_get(c->d, 1, R_DIAG_ERROR_LAST), 0x2310);
	assert_int_equal(sim_get(c->d, 1, R_SIM_FAULT_INJECT), 0x2310);
	cw(c->d, 0x80);
	expect_sim_state(c->d, AX_CIA402_SWITCH_ON_DISABLED, "reset");
	sim_put(c->d, 1, R_SIM_FAULT_INJECT, 0, 4); /* 0 injects nothing */
	expect_sim_state(c->d, AX_CIA402_SWITCH_ON_DISABLED, "inject 0");

	/* Armed: the next state change faults instead, once. */
	sim_put(c->d, 1, R_SIM_FAULT_ARM, 0x3210, 4);
	cw(c->d, 0x80); /* no state change: not fired */
	expect_sim_state(c->d, AX_CIA402_SWITCH_ON_DISABLED, "armed, no change");
	cw(c->d, 0x06);
	expect_sim_state(c->d, AX_CIA402_FAULT, "armed, shutdown");
	assert_int_equal(sim_get(c->d, 1, R_DIAG_ERROR_LAST), 0x3210);
	assert_int_equal(sim_get(c->d, 1, R_SIM_FAULT_ARM), 0);
	cw(c->d, 0x00);
	cw(c->d, 0x80);
	cw(c->d, 0x06);
	expect_sim_state(c->d, AX_CIA402_READY_TO_SWITCH_ON, "fired once only");

	/* Frozen: the machine goes on, the status word does not tell. */
	sim_put(c->d, 1, R_SIM_FREEZE, 1, 2);
	cw(c->d, 0x07);
	expect_sim_state(c->d, AX_CIA402_READY_TO_SWITCH_ON, "frozen");
	sim_put(c->d, 1, R_SIM_FREEZE, 0, 2);
	expect_sim_state(c->d, AX_CIA402_SWITCHED_ON, "thawed");
}

static void test_motion__sim_fault_at(void **state)
{
	struct simclock *c = *state;
	uint64_t t0 = c->t;

	assert_int_equal(simdrive_fault_at(c->d, 2, 1, t0), -1); /* axs-100 has one axis */
	assert_int_equal(simdrive_fault_at(NULL, 0, 1, t0), -1);
	assert_int_equal(simdrive_fault_at(c->d, 0, 0x3220, t0 + 100 * MS), 0);
	advance(c, 99);
	expect_sim_state(c->d, AX_CIA402_SWITCH_ON_DISABLED, "before the time");
	advance(c, 1);
	expect_sim_state(c->d, AX_CIA402_FAULT, "at the time");
	assert_int_equal(sim_get(c->d, 1, R_DIAG_ERROR_LAST), 0x3220);
	cw(c->d, 0x80);
	advance(c, 1000);
	expect_sim_state(c->d, AX_CIA402_SWITCH_ON_DISABLED, "fires once");

	/* An hour of standstill passes in one tick, and a fault due in it still fires. */
	assert_int_equal(simdrive_fault_at(c->d, 0, 0x3220, c->t + 1800000 * MS), 0);
	advance(c, 3600000);
	expect_sim_state(c->d, AX_CIA402_FAULT, "after an hour");
}

static void test_motion__sim_idle_gap_then_move(void **state)
{
	struct simclock *c = *state;

	sim_enable(c, 0x14);
	advance(c, 3600000);
	assert_int_equal(pos_of(c->d), 0);
	sim_pp_start(c->d, 20480, 0);
	advance(c, 300); /* the move starts from the handshake, not from the last tick */
	assert_in_range(pos_of(c->d), 2 * 4096, 3 * 4096);
	assert_in_range(sim_run_to_target(c, 1000), 290, 320);
}

struct homing_case {
	const char *name;
	unsigned method;
	int32_t home_switch;
	int32_t offset;
	int ok;
};

static const struct homing_case homing_cases[] = {
        {"current position", 0, 3000, 123, 1},
        {"home switch ahead", 1, 3000, -50, 1},
        {"home switch behind, negative search", 2, -3000, 10, 1},
        {"home switch behind a positive search", 1, -3000, 0, 0},
        {"positive limit", 3, 0, 0, 1},
        {"negative limit", 4, 0, 77, 1},
        {"positive limit then index", 5, 0, 0, 1},
        {"negative limit then index", 6, 0, 0, 1},
        {"index positive", 7, 0, 5, 1},
        {"index negative", 8, 0, 5, 1},
        {"mechanical stop positive", 9, 0, 1, 1},
        {"mechanical stop negative", 10, 0, 1, 1},
        {"no such method", 11, 0, 0, 0},
};

static void homing_setup(struct simclock *c, unsigned method, int32_t sw, int32_t offset)
{
	sim_putf(c->d, 1, R_HOM_SPEED, 20.0f);
	sim_putf(c->d, 1, R_HOM_SPEED_ZERO, 5.0f);
	sim_putf(c->d, 1, R_HOM_ACC, 1000.0f);
	sim_put(c->d, 1, R_HOM_MODE, method, 2);
	sim_put(c->d, 1, R_HOM_OFFSET, (uint32_t)offset, 4);
	sim_put(c->d, 1, R_SIM_HOME_SWITCH, (uint32_t)sw, 4);
	sim_put(c->d, 1, R_SIM_POS_LIMIT, 8192, 4);
	sim_put(c->d, 1, R_SIM_NEG_LIMIT, (uint32_t)-8192, 4);
	sim_enable(c, 0x113);
}

static void test_motion__sim_homing_methods(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(homing_cases); i++) {
		const struct homing_case *hc = &homing_cases[i];
		struct simclock *c = NULL;
		void *st = NULL;
		uint16_t sw = 0;
		unsigned ms;

		assert_int_equal(sim_up(&st), 0);
		c = st;
		homing_setup(c, hc->method, hc->home_switch, hc->offset);
		cw(c->d, 0x0F);
		cw(c->d, 0x1F);
		for (ms = 0; ms < 5000; ms++) {
			sw = sw_of(c->d);
			if ((sw & (SW_ACK | SW_TARGET_REACHED)) == (SW_ACK | SW_TARGET_REACHED) ||
			    (sw & SW_HOMING_ERROR))
				break;
			advance(c, 1);
		}
		if (hc->ok) {
			if (sw & SW_HOMING_ERROR || ms == 5000)
				fail_msg("%s: status 0x%04X after %u ms", hc->name, sw, ms);
			if (pos_of(c->d) != hc->offset)
				fail_msg("%s: position %d, want the offset %d", hc->name,
				         pos_of(c->d), hc->offset);
			if (hc->method == 0 && ms != 0)
				fail_msg("%s: took %u ms", hc->name, ms);
			if (hc->method != 0 && ms < 50)
				fail_msg("%s: done in %u ms without searching", hc->name, ms);
		} else if (!(sw & SW_HOMING_ERROR)) {
			fail_msg("%s: no homing error, status 0x%04X", hc->name, sw);
		}
		expect_sim_state(c->d, AX_CIA402_OPERATION_ENABLED, hc->name);
		assert_int_equal(sim_down(&st), 0);
	}
}

/* Run homing until bit 12 rises: the position just before and just after re-zeroing. */
static void homing_until_found(struct simclock *c, int32_t *before, int32_t *after)
{
	cw(c->d, 0x0F);
	cw(c->d, 0x1F);
	for (unsigned ms = 0; ms < 5000; ms++) {
		*before = pos_of(c->d);
		advance(c, 1);
		if (sw_of(c->d) & SW_ACK) {
			*after = pos_of(c->d);
			return;
		}
	}
	fail_msg("home not found, status 0x%04X", sw_of(c->d));
}

/* Searches end where the switch and the index pulses sit, in the frame the axis started in. */
static void test_motion__sim_homing_finds_the_switch(void **state)
{
	struct simclock *c = *state;
	int32_t before = 0, after = 0;

	homing_setup(c, 1, 3000, 0);
	homing_until_found(c, &before, &after);
	/* 20 rev/s is 82 counts a step: found on the step that crossed 3000 (as read: rounded). */
	assert_in_range(before, 3000 - 83, 3000);
	assert_in_range(after, 0, 83);
	sim_run_to_target(c, 2000);
	assert_int_equal(pos_of(c->d), 0);

	/* Home (0) is the world's 3000 now: the next index ahead is the world's 4096. */
	sim_put(c->d, 1, R_HOM_MODE, 7, 2);
	homing_until_found(c, &before, &after);
	assert_in_range(before, 1096 - 22, 1096); /* 5 rev/s zero speed: 21 counts a step */
	assert_in_range(after, 0, 22);
	sim_run_to_target(c, 2000);
	assert_int_equal(pos_of(c->d), 0);
}

static void test_motion__sim_homing_timeout_and_interrupt(void **state)
{
	struct simclock *c = *state;
	unsigned ms;

	homing_setup(c, 1, 3000, 0);
	sim_put(c->d, 1, R_SIM_HOME_SWITCH, 100000, 4);
	sim_put(c->d, 1, R_SIM_POS_LIMIT, 200000, 4);
	sim_put(c->d, 1, R_HOM_TIMEOUT, 100, 4);
	cw(c->d, 0x1F);
	for (ms = 0; ms < 1000 && !(sw_of(c->d) & SW_HOMING_ERROR); ms++)
		advance(c, 1);
	assert_in_range(ms, 100, 102);
	advance(c, 100);
	assert_true(sim_getf(c->d, 1, R_VEL_FBK) == 0.0f);
	assert_int_equal(sw_of(c->d) & (SW_HOMING_ERROR | SW_TARGET_REACHED | SW_ACK),
	                 SW_HOMING_ERROR | SW_TARGET_REACHED);

	/* Bit 4 falling interrupts: no error, no home, standstill. */
	sim_put(c->d, 1, R_HOM_TIMEOUT, 30000, 4);
	cw(c->d, 0x0F);
	cw(c->d, 0x1F);
	advance(c, 50);
	assert_int_equal(sw_of(c->d) & (SW_HOMING_ERROR | SW_TARGET_REACHED | SW_ACK), 0);
	cw(c->d, 0x0F);
	advance(c, 100);
	assert_int_equal(sw_of(c->d) & (SW_HOMING_ERROR | SW_TARGET_REACHED | SW_ACK),
	                 SW_TARGET_REACHED);
}

static void test_motion__sim_current(void **state)
{
	struct simclock *c = *state;

	sim_enable(c, 0x02);
	sim_putf(c->d, 1, R_CUR_Q_SP, 1.5f);
	advance(c, 1);
	assert_true(sim_getf(c->d, 1, R_CUR_Q_FBK) == 1.5f);
	cw(c->d, 0x06);
	assert_true(sim_getf(c->d, 1, R_CUR_Q_FBK) == 0.0f);
}

/* ==== the library: names and tables ====================================== */

static void test_motion__decode_states(void **state)
{
	static const struct {
		uint16_t sw;
		int want;
	} cases[] = {
	        {0x0000, AX_CIA402_NOT_READY},
	        {0x0050, AX_CIA402_SWITCH_ON_DISABLED},
	        {0x0040, AX_CIA402_SWITCH_ON_DISABLED},
	        {0x0031, AX_CIA402_READY_TO_SWITCH_ON},
	        {0x0033, AX_CIA402_SWITCHED_ON},
	        {0x0037, AX_CIA402_OPERATION_ENABLED},
	        {0x1637, AX_CIA402_OPERATION_ENABLED}, /* mode bits do not change the state */
	        {0x0017, AX_CIA402_QUICK_STOP_ACTIVE},
	        {0x001F, AX_CIA402_FAULT_REACTION_ACTIVE},
	        {0x0018, AX_CIA402_FAULT},
	        {0x0038, AX_CIA402_FAULT},
	        {0x0001, AX_CIA402_UNKNOWN}, /* ready, quick stop bit low: no state */
	        {0x0041, AX_CIA402_UNKNOWN},
	};
	static const char *const names[] = {
	        "not_ready",         "switch_on_disabled", "ready_to_switch_on",    "switched_on",
	        "operation_enabled", "quick_stop_active",  "fault_reaction_active", "fault"};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (ax_cia402_decode(cases[i].sw) != cases[i].want)
			fail_msg("0x%04X decodes to %d, want %d", cases[i].sw,
			         ax_cia402_decode(cases[i].sw), cases[i].want);
	for (int s = 0; s < (int)ARRAY_SIZE(names); s++)
		assert_string_equal(ax_cia402_state_name(s), names[s]);
	assert_string_equal(ax_cia402_state_name(AX_CIA402_UNKNOWN), "unknown");
	assert_string_equal(ax_cia402_state_name(8), "unknown");
}

static void test_motion__mode_tables(void **state)
{
	static const struct {
		int mode;
		int mcb, cia402;
	} codes[] = {
	        {AX_OP_MODE_VOLTAGE, 0x00, AX_EUNSUPPORTED},
	        {AX_OP_MODE_CURRENT, 0x02, AX_EUNSUPPORTED},
	        {AX_OP_MODE_VELOCITY, 0x03, AX_EUNSUPPORTED},
	        {AX_OP_MODE_PROFILE_VELOCITY, 0x13, 3},
	        {AX_OP_MODE_POSITION, 0x04, AX_EUNSUPPORTED},
	        {AX_OP_MODE_PROFILE_POSITION, 0x14, 1},
	        {AX_OP_MODE_CYCLIC_POSITION, 0x24, 8},
	        {AX_OP_MODE_HOMING, 0x113, 6},
	        {AX_OP_MODE_TORQUE, 0x05, 4},
	        {AX_OP_MODE_CYCLIC_VELOCITY, AX_EUNSUPPORTED, 9},
	        {AX_OP_MODE_CYCLIC_TORQUE, AX_EUNSUPPORTED, 10},
	};

	(void)state;
	assert_int_equal(ARRAY_SIZE(codes), AX_OP_MODE_COUNT);
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		int m = codes[i].mode;
		const char *name = ax_op_mode_name(m);

		assert_non_null(name);
		assert_int_equal(ax_op_mode_parse(name), m);
		assert_int_equal(ax_op_mode_code(m, AX_MODE_CODES_MCB), codes[i].mcb);
		assert_int_equal(ax_op_mode_code(m, AX_MODE_CODES_CIA402), codes[i].cia402);
		if (codes[i].mcb >= 0)
			assert_int_equal(
			        ax_op_mode_from_code((uint32_t)codes[i].mcb, AX_MODE_CODES_MCB), m);
		if (codes[i].cia402 >= 0)
			assert_int_equal(ax_op_mode_from_code((uint32_t)codes[i].cia402,
			                                      AX_MODE_CODES_CIA402),
			                 m);
	}
	assert_int_equal(ax_op_mode_parse("PP"), AX_OP_MODE_PROFILE_POSITION);
	assert_int_equal(ax_op_mode_parse("hm"), AX_OP_MODE_HOMING);
	assert_int_equal(ax_op_mode_parse("Profile_Velocity"), AX_OP_MODE_PROFILE_VELOCITY);
	assert_int_equal(ax_op_mode_parse("jog"), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "'jog'"));
	assert_int_equal(ax_op_mode_parse(""), AX_EINVAL);
	assert_int_equal(ax_op_mode_from_code(0x01, AX_MODE_CODES_MCB), AX_ENOTFOUND);
	assert_int_equal(ax_op_mode_from_code(0x14, AX_MODE_CODES_CIA402), AX_ENOTFOUND);
	assert_int_equal(ax_op_mode_code(AX_OP_MODE_COUNT, AX_MODE_CODES_MCB), AX_EINVAL);
	assert_int_equal(ax_op_mode_code(AX_OP_MODE_HOMING, AX_MODE_CODES_AUTO), AX_EINVAL);
	assert_null(ax_op_mode_name(-1));
	assert_null(ax_op_mode_name(AX_OP_MODE_COUNT));

	for (int u = AX_UNIT_COUNTS; u <= AX_UNIT_MM; u++)
		assert_int_equal(ax_unit_parse(ax_unit_name(u)), u);
	assert_int_equal(ax_unit_parse("CNT"), AX_UNIT_COUNTS);
	assert_int_equal(ax_unit_parse("inch"), AX_EINVAL);
	assert_null(ax_unit_name(5));
	for (int r = 0; r < (AX_ROLE_LAST_ERROR + 1); r++)
		assert_non_null(ax_axis_role_name(r));
	assert_null(ax_axis_role_name((AX_ROLE_LAST_ERROR + 1)));
	assert_string_equal(ax_axis_role_name(AX_ROLE_STATUSWORD), "statusword");
}

/* ==== the library against the virtual drive ============================== */

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

/* The drive at @uri with the dictionary file @model.xdf of devices/ (no database needed). */
static ax_drive *open_drive_dict(ax_ctx *ctx, const char *uri, const char *path)
{
	ax_drive_options o = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;

	o.dictionary = path;
	if (ax_drive_open(&d, ctx, uri, &o) < 0)
		fail_msg("open '%s': %s", uri, ax_error_last());
	return d;
}

static ax_drive *open_drive(ax_ctx *ctx, const char *uri, const char *model)
{
	char path[1024];
	int n = snprintf(path, sizeof(path), "%s/%s.xdf", AXLINK_DEVICES_DIR, model);

	assert_true(n > 0 && (size_t)n < sizeof(path));
	return open_drive_dict(ctx, uri, path);
}

static ax_axis *open_axis(ax_drive *d, unsigned n)
{
	ax_axis *a = NULL;

	if (ax_axis_open(&a, d, n, NULL) < 0)
		fail_msg("axis %u: %s", n, ax_error_last());
	return a;
}

static int state_of(ax_axis *a)
{
	int st = -99;

	if (ax_axis_state(a, &st, NULL) < 0)
		fail_msg("state: %s", ax_error_last());
	return st;
}

#define OK(call)                                                                                   \
	do {                                                                                       \
		if ((call) < 0)                                                                    \
			fail_msg("%s: %s", #call, ax_error_last());                                \
	} while (0)

/* The last error must be @code and its message must hold each of the NULL-ended texts. */
static void expect_error(int got, int code, ...)
{
	const char *msg = ax_error_last();
	va_list ap;

	if (got != code)
		fail_msg("got %d (%s), want %d", got, msg, code);
	va_start(ap, code);
	for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
		if (!strstr(msg, s)) {
			va_end(ap);
			fail_msg("message '%s' lacks '%s'", msg, s);
		}
	va_end(ap);
}

static void test_motion__axis_open_errors(void **state)
{
	ax_drive_options nodict = AX_DRIVE_OPTIONS_INIT;
	ax_axis_options o = AX_AXIS_OPTIONS_INIT;
	ax_axis_role_map bad = {0, 0, (AX_ROLE_LAST_ERROR + 1), "X"};
	ax_drive *d = open_drive(*state, "virtual:?serial=701", "axs-100"), *bare = NULL;
	ax_axis *a = (ax_axis *)&a;

	expect_error(ax_axis_open(&a, d, 0, NULL), AX_ENOTFOUND, "axes 1..1", NULL);
	expect_error(ax_axis_open(&a, d, 2, NULL), AX_ENOTFOUND, "axis 2", NULL);
	assert_ptr_equal(a, (ax_axis *)&a);
	o.version = 0;
	expect_error(ax_axis_open(&a, d, 1, &o), AX_EINVAL, "ax_axis_options", NULL);
	o = (ax_axis_options)AX_AXIS_OPTIONS_INIT;
	o.roles = &bad;
	o.n_roles = 1;
	expect_error(ax_axis_open(&a, d, 1, &o), AX_EINVAL, "invalid role", NULL);
	o.n_roles = 1;
	o.roles = NULL;
	expect_error(ax_axis_open(&a, d, 1, &o), AX_EINVAL, "roles", NULL);
	o = (ax_axis_options)AX_AXIS_OPTIONS_INIT;
	o.mode_codes = 7;
	expect_error(ax_axis_open(&a, d, 1, &o), AX_EINVAL, "mode codes", NULL);
	assert_ptr_equal(a, (ax_axis *)&a);

	nodict.flags = AX_DRIVE_NO_DICT;
	OK(ax_drive_open(&bare, *state, "virtual:?serial=702", &nodict));
	expect_error(ax_axis_open(&a, bare, 1, NULL), AX_ENOTFOUND, "no dictionary", NULL);
	bare = ax_drive_unref(bare);

	a = open_axis(d, 1);
	assert_ptr_equal(ax_axis_drive(a), d);
	assert_int_equal(ax_axis_subnode(a), 1);
	assert_int_equal(ax_axis_mode_codes(a), AX_MODE_CODES_MCB);
	assert_string_equal(ax_reg_id(ax_axis_role_register(a, AX_ROLE_CONTROLWORD)),
	                    "DRV_STATE_CONTROL");
	assert_string_equal(ax_reg_id(ax_axis_role_register(a, AX_ROLE_HOMING_METHOD)), "HOM_MODE");
	assert_null(ax_axis_role_register(a, (AX_ROLE_LAST_ERROR + 1)));
	assert_true(ax_axis_resolution(a) == RES);
	/* The axis keeps the drive: dropping the caller's reference first is fine. */
	d = ax_drive_unref(d);
	assert_int_equal(state_of(a), AX_CIA402_SWITCH_ON_DISABLED);
	assert_ptr_equal(ax_axis_ref(a), a);
	assert_null(ax_axis_unref(a)); /* the reference ax_axis_ref() took */
	assert_int_equal(state_of(a), AX_CIA402_SWITCH_ON_DISABLED);
	assert_null(ax_axis_unref(a));
	assert_null(ax_axis_unref(NULL));
}

/* Write a simulator hook (or any register) of axis 1 by name. */
static void put(ax_drive *d, const char *id, unsigned sub, int64_t v)
{
	if (ax_drive_write_i64(d, id, (int)sub, v) < 0)
		fail_msg("write %s: %s", id, ax_error_last());
}

static void test_motion__enable_from_every_state(void **state)
{
	static const struct {
		const char *name;
		unsigned cw[3];
		int start;
	} starts[] = {
	        {"switch on disabled", {0x00, 0x00, 0x00}, AX_CIA402_SWITCH_ON_DISABLED},
	        {"ready to switch on", {0x06, 0x06, 0x06}, AX_CIA402_READY_TO_SWITCH_ON},
	        {"switched on", {0x06, 0x07, 0x07}, AX_CIA402_SWITCHED_ON},
	        {"operation enabled", {0x06, 0x07, 0x0F}, AX_CIA402_OPERATION_ENABLED},
	        {"quick stop active", {0x06, 0x0F, 0x02}, AX_CIA402_QUICK_STOP_ACTIVE},
	};
	ax_drive *d = open_drive(*state, "virtual:?serial=703", "axs-100");
	ax_axis *a = open_axis(d, 1);
	uint16_t sw = 0;
	int st;

	for (size_t i = 0; i < ARRAY_SIZE(starts); i++) {
		for (int k = 0; k < 3; k++)
			put(d, "DRV_STATE_CONTROL", 1, starts[i].cw[k]);
		if (state_of(a) != starts[i].start)
			fail_msg("%s: set-up reached '%s'", starts[i].name,
			         ax_cia402_state_name(state_of(a)));
		if (ax_axis_enable(a, 0) < 0)
			fail_msg("enable from %s: %s", starts[i].name, ax_error_last());
		OK(ax_axis_state(a, &st, &sw));
		assert_int_equal(st, AX_CIA402_OPERATION_ENABLED);
		assert_int_equal(sw & 0x6F, 0x27);
		put(d, "DRV_STATE_CONTROL", 1, 0x00);
	}
	/* From fault: reset first. */
	put(d, "SIM_FAULT_INJECT", 1, 0x3220);
	assert_int_equal(state_of(a), AX_CIA402_FAULT);
	OK(ax_axis_enable(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);

	/* A drive that starts in fault (virtual's fault=1). */
	d = open_drive(*state, "virtual:?serial=704&fault=1", "axs-100");
	a = open_axis(d, 1);
	assert_int_equal(state_of(a), AX_CIA402_FAULT);
	OK(ax_axis_enable(a, 500));
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

static int64_t elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A drive that ignores switch on (0x07) in ready to switch on: 0x0F goes straight on. */
static void test_motion__enable_skip_switched_on(void **state)
{
	static const struct {
		const char *name;
		unsigned cw[3];
		int start;
	} starts[] = {
	        {"switch on disabled", {0x00, 0x00, 0x00}, AX_CIA402_SWITCH_ON_DISABLED},
	        {"ready to switch on", {0x06, 0x07, 0x07}, AX_CIA402_READY_TO_SWITCH_ON},
	        {"switched on", {0x06, 0x0F, 0x07}, AX_CIA402_SWITCHED_ON},
	        {"quick stop active", {0x06, 0x0F, 0x02}, AX_CIA402_QUICK_STOP_ACTIVE},
	};
	ax_drive *d = open_drive(*state, "virtual:?serial=720&quirk=skip-switched-on", "axs-100");
	ax_axis *a = open_axis(d, 1);
	struct timespec t0;
	uint16_t sw = 0;
	int st;

	for (size_t i = 0; i < ARRAY_SIZE(starts); i++) {
		for (int k = 0; k < 3; k++)
			put(d, "DRV_STATE_CONTROL", 1, starts[i].cw[k]);
		if (state_of(a) != starts[i].start)
			fail_msg("%s: set-up reached '%s'", starts[i].name,
			         ax_cia402_state_name(state_of(a)));
		/* Well inside the timeout: no waiting for a switch on that never comes. */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (ax_axis_enable(a, 3000) < 0)
			fail_msg("enable from %s: %s", starts[i].name, ax_error_last());
		assert_true(elapsed_ms(&t0) < 1500);
		OK(ax_axis_state(a, &st, &sw));
		assert_int_equal(st, AX_CIA402_OPERATION_ENABLED);
		assert_int_equal(sw & 0x6F, 0x27);
		put(d, "DRV_STATE_CONTROL", 1, 0x00);
	}
	/* Off and on again, and from fault. */
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_disable(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_READY_TO_SWITCH_ON);
	OK(ax_axis_enable(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED);
	put(d, "SIM_FAULT_INJECT", 1, 0x3220);
	OK(ax_axis_enable(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED);

	/* Failures still name the transition, the state reached and the status word. */
	put(d, "DRV_STATE_CONTROL", 1, 0x06);
	put(d, "SIM_FAULT_ARM", 1, 0x4210);
	expect_error(ax_axis_enable(a, 0), AX_ERROR, "enable", "'switch on'", "'fault'", "0x0018",
	             "0x00004210", "over-temperature", NULL);
	OK(ax_axis_fault_reset(a, 0));
	put(d, "DRV_STATE_CONTROL", 1, 0x06);
	put(d, "SIM_STATUS_FREEZE", 1, 1);
	expect_error(ax_axis_enable(a, 100), AX_ETIMEDOUT, "enable", "'switch on'",
	             "'ready_to_switch_on'", "0x0031", "100 ms", NULL);
	put(d, "SIM_STATUS_FREEZE", 1, 0);
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED); /* it did happen, unseen */
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

static void test_motion__disable_quick_stop_reset(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=705", "axs-100");
	ax_axis *a = open_axis(d, 1);

	/* Nothing to do from switch on disabled, and no harm. */
	OK(ax_axis_disable(a, 0));
	OK(ax_axis_quick_stop(a, 0));
	OK(ax_axis_fault_reset(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_SWITCH_ON_DISABLED);

	OK(ax_axis_enable(a, 0));
	OK(ax_axis_disable(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_READY_TO_SWITCH_ON);
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_quick_stop(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_QUICK_STOP_ACTIVE);
	OK(ax_axis_disable(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_SWITCH_ON_DISABLED);
	put(d, "DRV_STATE_CONTROL", 1, 0x06);
	OK(ax_axis_quick_stop(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_SWITCH_ON_DISABLED);

	put(d, "SIM_FAULT_INJECT", 1, 0x4310);
	OK(ax_axis_disable(a, 0)); /* in fault the power stage is off already */
	assert_int_equal(state_of(a), AX_CIA402_FAULT);
	OK(ax_axis_fault_reset(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_SWITCH_ON_DISABLED);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

static void test_motion__failure_paths(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=706", "axs-100");
	ax_axis *a = open_axis(d, 1);
	struct timespec t0;

	/* A fault on the way: the transition, the state, the status word, the drive's error. */
	put(d, "SIM_FAULT_ARM", 1, 0x3220);
	expect_error(ax_axis_enable(a, 0), AX_ERROR, "enable", "'fault'", "'shutdown'", "0x0018",
	             "0x00003220", "DC bus under-voltage", NULL);
	assert_int_equal(state_of(a), AX_CIA402_FAULT);

	/* Later in the sequence: reset, shutdown, then switch on faults. */
	OK(ax_axis_fault_reset(a, 0));
	put(d, "DRV_STATE_CONTROL", 1, 0x06);
	put(d, "SIM_FAULT_ARM", 1, 0x4210);
	expect_error(ax_axis_enable(a, 0), AX_ERROR, "'switch on'", "0x00004210",
	             "over-temperature", NULL);

	/* A drive that never confirms: timeout, with the state it stays in. */
	put(d, "SIM_STATUS_FREEZE", 1, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_error(ax_axis_fault_reset(a, 150), AX_ETIMEDOUT, "'fault reset'", "'fault'",
	             "0x0018", "150 ms", "0x00004210", NULL);
	assert_true(elapsed_ms(&t0) >= 145); /* the whole timeout, give or take clock rounding */
	put(d, "SIM_STATUS_FREEZE", 1, 0);
	OK(ax_axis_fault_reset(a, 0));
	put(d, "SIM_STATUS_FREEZE", 1, 1);
	expect_error(ax_axis_enable(a, 100), AX_ETIMEDOUT, "enable", "'shutdown'",
	             "'switch_on_disabled'", "0x0050", "100 ms", NULL);
	put(d, "SIM_STATUS_FREEZE", 1, 0);
	assert_int_equal(state_of(a), AX_CIA402_READY_TO_SWITCH_ON); /* it did happen, unseen */
	OK(ax_axis_enable(a, 0));
	put(d, "SIM_STATUS_FREEZE", 1, 1);
	expect_error(ax_axis_disable(a, 100), AX_ETIMEDOUT, "'shutdown'", "'operation_enabled'",
	             NULL);
	put(d, "SIM_STATUS_FREEZE", 1, 0);

	/* A set point the drive never acknowledges. */
	OK(ax_axis_enable(a, 0));
	put(d, "SIM_STATUS_FREEZE", 1, 1);
	{
		ax_axis_options o = AX_AXIS_OPTIONS_INIT;
		ax_axis *quick = NULL;

		o.timeout_ms = 100;
		OK(ax_axis_open(&quick, d, 1, &o));
		expect_error(ax_axis_move(quick, 100, NULL), AX_ETIMEDOUT,
		             "'set-point acknowledge' did not happen within 100 ms", "bit 12 low",
		             NULL);
		quick = ax_axis_unref(quick);
	}
	put(d, "SIM_STATUS_FREEZE", 1, 0);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

static void test_motion__modes(void **state)
{
	static const int mcb_modes[] = {
	        AX_OP_MODE_VOLTAGE,          AX_OP_MODE_CURRENT,  AX_OP_MODE_VELOCITY,
	        AX_OP_MODE_PROFILE_VELOCITY, AX_OP_MODE_POSITION, AX_OP_MODE_PROFILE_POSITION,
	        AX_OP_MODE_CYCLIC_POSITION,  AX_OP_MODE_HOMING,   AX_OP_MODE_TORQUE,
	};
	ax_drive *d = open_drive(*state, "virtual:?serial=707", "axs-100");
	ax_axis *a = open_axis(d, 1);
	uint32_t code = 0;
	int64_t raw = 0;
	int mode = -99;

	for (size_t i = 0; i < ARRAY_SIZE(mcb_modes); i++) {
		if (ax_axis_set_mode(a, mcb_modes[i], 0) < 0)
			fail_msg("set %s: %s", ax_op_mode_name(mcb_modes[i]), ax_error_last());
		OK(ax_axis_get_mode(a, &mode, &code));
		assert_int_equal(mode, mcb_modes[i]);
		assert_int_equal(code, (uint32_t)ax_op_mode_code(mcb_modes[i], AX_MODE_CODES_MCB));
		OK(ax_drive_read_i64(d, "DRV_OP_CMD", 1, &raw));
		assert_int_equal(raw, code);
	}
	mode = -99;
	expect_error(ax_axis_set_mode(a, AX_OP_MODE_CYCLIC_VELOCITY, 0), AX_EUNSUPPORTED,
	             "cyclic_velocity", NULL);
	expect_error(ax_axis_set_mode(a, 99, 0), AX_EINVAL, NULL);
	OK(ax_axis_get_mode(a, &mode, NULL));
	assert_int_equal(mode, AX_OP_MODE_TORQUE); /* refusals changed nothing */
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

/*
 * A drive whose dictionary names the roles differently and lists only two
 * operation modes: the same simulated drive, described by this file.
 */
static const char mapped_xdf[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<IngeniaDictionary><Header><Version>2</Version></Header><Body>\n"
        "<Device Interface=\"ETH\" ProductCode=\"65636\" RevisionNumber=\"65538\" "
        "VendorID=\"42780\" name=\"renamed\"><Axes>\n"
        "<Axis subnode=\"1\"><Registers>\n"
        "<Register id=\"CONTROLWORD\" address=\"0x010\" subnode=\"1\" dtype=\"u16\" "
        "access=\"rw\"/>\n"
        "<Register id=\"STATUSWORD\" address=\"0x011\" subnode=\"1\" dtype=\"u16\" "
        "access=\"r\"/>\n"
        "<Register id=\"MODES_OF_OPERATION\" address=\"0x014\" subnode=\"1\" dtype=\"u16\" "
        "access=\"rw\"><Enumerations><Enum value=\"20\">PP</Enum><Enum value=\"19\">PV</Enum>"
        "</Enumerations></Register>\n"
        "<Register id=\"MODES_DISPLAY\" address=\"0x015\" subnode=\"1\" dtype=\"u16\" "
        "access=\"r\"/>\n"
        "<Register id=\"TARGET_POSITION\" address=\"0x020\" subnode=\"1\" dtype=\"s32\" "
        "access=\"rw\" units=\"cnt\"/>\n"
        "<Register id=\"POSITION_ACTUAL\" address=\"0x030\" subnode=\"1\" dtype=\"s32\" "
        "access=\"r\" units=\"cnt\"/>\n"
        "</Registers></Axis></Axes></Device></Body></IngeniaDictionary>\n";

static void test_motion__role_map_and_listed_modes(void **state)
{
	static const ax_axis_role_map other_model[] = {
	        {0x0000A71Cu, 0x12345678u, AX_ROLE_CONTROLWORD, "CONTROLWORD"},
	};
	static const ax_axis_role_map roles[] = {
	        {0x0000A71Cu, 0x12345678u, AX_ROLE_STATUSWORD, "NOT_THIS_ONE"},
	        {0, 0x00010064u, AX_ROLE_CONTROLWORD, "CONTROLWORD"},
	        {0x0000A71Cu, 0, AX_ROLE_STATUSWORD, "STATUSWORD"},
	        {0, 0, AX_ROLE_OP_MODE, "MODES_OF_OPERATION"},
	        {0, 0, AX_ROLE_OP_MODE_DISPLAY, "MODES_DISPLAY"},
	        {0, 0, AX_ROLE_POSITION_SET_POINT, "TARGET_POSITION"},
	        {0, 0, AX_ROLE_POSITION, "POSITION_ACTUAL"},
	};
	ax_axis_options o = AX_AXIS_OPTIONS_INIT;
	char path[] = "/tmp/axlink-test-motion-XXXXXX";
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	ax_axis_role_map missing = {0, 0, AX_ROLE_HOMING_METHOD, "NO_SUCH_REGISTER"};
	ax_axis_role_map *grown;
	ax_axis *a = NULL;
	ax_drive *d;
	double pos = 0.0;
	FILE *f;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(mapped_xdf, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	d = open_drive_dict(*state, "virtual:?serial=708", path);
	unlink(path);

	/* The default ids are not in this dictionary,
	and a map for another product does not apply. */
	expect_error(ax_axis_open(&a, d, 1, NULL), AX_ENOTFOUND, "DRV_STATE_CONTROL", "controlword",
	             NULL);
	o.roles = other_model;
	o.n_roles = ARRAY_SIZE(other_model);
	expect_error(ax_axis_open(&a, d, 1, &o), AX_ENOTFOUND, "DRV_STATE_CONTROL", NULL);
	o.roles = roles;
	o.n_roles = ARRAY_SIZE(roles);
	OK(ax_axis_open(&a, d, 1, &o));
	assert_string_equal(ax_reg_id(ax_axis_role_register(a, AX_ROLE_STATUSWORD)), "STATUSWORD");
	assert_null(ax_axis_role_register(a, AX_ROLE_PROFILE_VELOCITY));
	assert_true(ax_axis_resolution(a) == 0.0);

	/* What the dictionary does not list is refused, naming what it does. */
	expect_error(ax_axis_set_mode(a, AX_OP_MODE_HOMING, 0), AX_EUNSUPPORTED, "'homing'",
	             "MODES_OF_OPERATION", "profile_position (0x14)", "profile_velocity (0x13)",
	             NULL);
	OK(ax_axis_set_mode(a, AX_OP_MODE_PROFILE_VELOCITY, 0));

	/* Without a resolution only counts work; the move works through the mapped names. */
	expect_error(ax_axis_set_units(a, AX_UNIT_DEG, 0.0), AX_EUNSUPPORTED, "resolution", NULL);
	expect_error(ax_axis_velocity(a, &pos), AX_EUNSUPPORTED, "velocity", "CL_VEL_FBK_VALUE",
	             NULL);
	OK(ax_axis_enable(a, 0));
	mo.timeout_ms = 5000;
	OK(ax_axis_move(a, 300, &mo));
	OK(ax_axis_position(a, &pos));
	assert_true(fabs(pos - 300) <= 10);
	expect_error(ax_axis_move_velocity(a, 1.0, NULL), AX_EUNSUPPORTED, "velocity_set_point",
	             NULL);
	expect_error(ax_axis_home(a, NULL), AX_EUNSUPPORTED, NULL);
	a = ax_axis_unref(a);

	/* A map naming a register the dictionary lacks is an error, not a silent absence. */
	grown = calloc(ARRAY_SIZE(roles) + 1, sizeof(*grown));
	assert_non_null(grown);
	memcpy(grown, roles, sizeof(roles));
	grown[ARRAY_SIZE(roles)] = missing;
	o.roles = grown;
	o.n_roles = ARRAY_SIZE(roles) + 1;
	expect_error(ax_axis_open(&a, d, 1, &o), AX_ENOTFOUND, "NO_SUCH_REGISTER", "homing_method",
	             NULL);
	free(grown);
	d = ax_drive_unref(d);
}

static void test_motion__units(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=709", "axs-100");
	ax_axis *a = open_axis(d, 1);
	double v = 0.0, back = 0.0;

	assert_int_equal(ax_axis_units(a), AX_UNIT_COUNTS);
	expect_error(ax_axis_set_units(a, AX_UNIT_MM, 0.0), AX_EINVAL, "feed", NULL);
	expect_error(ax_axis_set_units(a, AX_UNIT_MM, NAN), AX_EINVAL, NULL);
	expect_error(ax_axis_set_units(a, 9, 0.0), AX_EINVAL, NULL);
	assert_int_equal(ax_axis_units(a), AX_UNIT_COUNTS);

	OK(ax_axis_set_units(a, AX_UNIT_DEG, 0.0));
	OK(ax_axis_to_counts(a, 90.0, &v));
	assert_true(v == 1024.0);
	OK(ax_axis_set_units(a, AX_UNIT_RAD, 0.0));
	OK(ax_axis_to_counts(a, 3.14159265358979323846, &v));
	assert_float_equal(v, 2048.0, 1e-9);
	OK(ax_axis_set_units(a, AX_UNIT_MM, 5.0)); /* a 5 mm lead screw */
	OK(ax_axis_to_counts(a, 10.0, &v));
	assert_true(v == 8192.0);
	expect_error(ax_axis_to_counts(a, INFINITY, &v), AX_EINVAL, NULL);

	/* Round trips, every unit, both ways, over the s32 range. */
	for (int u = AX_UNIT_COUNTS; u <= AX_UNIT_MM; u++) {
		OK(ax_axis_set_units(a, u, 3.7));
		for (int64_t c = -2147483648LL; c <= 2147483647LL; c += 7919 * 1021 + 13) {
			OK(ax_axis_from_counts(a, (double)c, &v));
			OK(ax_axis_to_counts(a, v, &back));
			if (llround(back) != c)
				fail_msg("%s: %lld counts -> %.17g -> %.17g", ax_unit_name(u),
				         (long long)c, v, back);
		}
		for (double x = -1000.0; x <= 1000.0; x += 0.37) {
			double one = 0.0;

			OK(ax_axis_to_counts(a, x, &v));
			OK(ax_axis_from_counts(a, (double)llround(v), &back));
			OK(ax_axis_from_counts(a, 1.0, &one));
			if (fabs(back - x) > one * 0.5 + 1e-9)
				fail_msg("%s: %g -> %lld counts -> %g", ax_unit_name(u), x,
				         llround(v), back);
		}
	}
	/* Another resolution, set by hand, then read back from the drive. */
	OK(ax_axis_set_units(a, AX_UNIT_REV, 0.0));
	OK(ax_axis_set_resolution(a, 1000.0));
	OK(ax_axis_to_counts(a, 2.5, &v));
	assert_true(v == 2500.0);
	expect_error(ax_axis_set_resolution(a, -1.0), AX_EINVAL, NULL);
	put(d, "FBK_DIGENC1_RESOLUTION", 1, 10000);
	OK(ax_axis_set_resolution(a, 0.0));
	assert_true(ax_axis_resolution(a) == 10000.0);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

/* |position - target| within the drive's position window. */
static void expect_in_window(ax_drive *d, ax_axis *a, double target_counts)
{
	int64_t window = 0;
	double pos = 0.0;
	int unit = ax_axis_units(a);

	OK(ax_drive_read_i64(d, "PROF_POS_WINDOW", (int)ax_axis_subnode(a), &window));
	OK(ax_axis_set_units(a, AX_UNIT_COUNTS, 0.0));
	OK(ax_axis_position(a, &pos));
	OK(ax_axis_set_units(a, unit, 5.0));
	if (fabs(pos - target_counts) > (double)window)
		fail_msg("axis %u at %g counts, target %g, window %lld", ax_axis_subnode(a), pos,
		         target_counts, (long long)window);
}

struct poll_count {
	unsigned polls;
	int stop_at;
	uint16_t last_sw;
};

static int count_polls(ax_axis *axis, uint16_t sw, void *userdata)
{
	struct poll_count *pc = userdata;

	(void)axis;
	/* Called after every read: only the last one says target reached. */
	assert_false(pc->last_sw & SW_TARGET_REACHED);
	pc->last_sw = sw;
	pc->polls++;
	return pc->stop_at && (int)pc->polls >= pc->stop_at ? -1234 : 0;
}

static void test_motion__moves(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=710", "axs-100");
	ax_axis *a = open_axis(d, 1);
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	struct poll_count pc = {0, 0, 0};
	uint16_t sw = 0;
	int st, mode;

	/* Not enabled: refused, naming the state. */
	expect_error(ax_axis_move(a, 100, NULL), AX_ERROR, "'switch_on_disabled'", "0x0050",
	             "enable", NULL);
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_set_mode(a, AX_OP_MODE_VELOCITY, 0));

	/* Absolute: switches to profile position, ends in the window, reached. */
	OK(ax_axis_move(a, 2048, NULL));
	OK(ax_axis_state(a, &st, &sw));
	assert_true(sw & SW_TARGET_REACHED);
	OK(ax_axis_get_mode(a, &mode, NULL));
	assert_int_equal(mode, AX_OP_MODE_PROFILE_POSITION);
	expect_in_window(d, a, 2048);

	/* Relative, with its own limits, from the previous target. */
	mo.flags = AX_MOVE_RELATIVE | AX_MOVE_NO_WAIT;
	mo.velocity = 20000;   /* counts/s */
	mo.acceleration = 4e5; /* counts/s^2 */
	mo.deceleration = 2e5;
	OK(ax_axis_move(a, -1000, &mo));
	{
		double vmax = 0.0;

		OK(ax_drive_read_f64(d, "PROF_MAX_VEL", 1, &vmax));
		assert_float_equal(vmax, 20000.0 / RES, 1e-5); /* written in the drive's rev/s */
		OK(ax_axis_wait_target_reached(a, 0, NULL, NULL));
		expect_in_window(d, a, 1048);
		/* For this move only: the drive's own limit is back once it ends. */
		OK(ax_drive_read_f64(d, "PROF_MAX_VEL", 1, &vmax));
		assert_float_equal(vmax, 10.0, 1e-5);
	}

	/* In degrees. */
	OK(ax_axis_set_units(a, AX_UNIT_DEG, 0.0));
	mo = (ax_move_options)AX_MOVE_OPTIONS_INIT;
	mo.velocity = 3600; /* 10 rev/s */
	OK(ax_axis_move(a, -90, &mo));
	expect_in_window(d, a, -1024);

	/* No wait: the set point is taken; the wait calls back until reached. */
	mo.flags = AX_MOVE_NO_WAIT;
	mo.velocity = 360;
	OK(ax_axis_move(a, 90, &mo));
	OK(ax_axis_wait_target_reached(a, 0, count_polls, &pc));
	assert_true(pc.polls > 1);
	/* The last read, the one that ended the wait, reached the callback too. */
	assert_true(pc.last_sw & SW_TARGET_REACHED);
	expect_in_window(d, a, 1024);
	/* A callback stops the wait with its own value. */
	OK(ax_axis_move(a, 0, &mo));
	pc.polls = 0;
	pc.last_sw = 0;
	pc.stop_at = 2;
	assert_int_equal(ax_axis_wait_target_reached(a, 0, count_polls, &pc), -1234);
	OK(ax_axis_wait_target_reached(a, 0, NULL, NULL));

	/* Too short a wait: the position and the status word are told. */
	mo.flags = AX_MOVE_NO_WAIT;
	mo.velocity = 36;
	OK(ax_axis_move(a, 3600, &mo));
	expect_error(ax_axis_wait_target_reached(a, 50, NULL, NULL), AX_ETIMEDOUT, "50 ms",
	             "position", "status word 0x", NULL);
	/* A fault during the move. */
	put(d, "SIM_FAULT_INJECT", 1, 0x8611);
	expect_error(ax_axis_wait_target_reached(a, 0, NULL, NULL), AX_ERROR, "fault", "0x00008611",
	             "Following error", NULL);
	OK(ax_axis_enable(a, 0));

	/* Targets the registers cannot hold, and bad options. */
	OK(ax_axis_set_units(a, AX_UNIT_COUNTS, 0.0));
	expect_error(ax_axis_move(a, 3e9, NULL), AX_ERANGE, NULL);
	expect_error(ax_axis_move(a, 1e30, NULL), AX_ERANGE, NULL);
	expect_error(ax_axis_move(a, NAN, NULL), AX_EINVAL, NULL);
	mo = (ax_move_options)AX_MOVE_OPTIONS_INIT;
	mo.velocity = -1;
	expect_error(ax_axis_move(a, 0, &mo), AX_EINVAL, "velocity -1", NULL);
	mo.velocity = 0;
	mo.flags = 0x80;
	expect_error(ax_axis_move(a, 0, &mo), AX_EINVAL, "flags 0x80", NULL);
	mo.flags = 0;
	mo.version = 2;
	expect_error(ax_axis_move(a, 0, &mo), AX_EINVAL, "version", NULL);
	expect_error(ax_axis_wait_target_reached(a, -1, NULL, NULL), AX_EINVAL, NULL);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

/*
 * One vocabulary: an integer operation mode is the drive's own code (MCB
 * 0x14 = profile position, 2 = current, 5 = torque), never the library's
 * enum value; names, abbreviations and the dictionary's labels parse too.
 */
static void test_motion__mode_integers_are_drive_codes(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=721", "axs-100");
	ax_axis *a = open_axis(d, 1);
	static const struct {
		const char *text;
		int mode;
	} parsed[] = {
	        {"20", AX_OP_MODE_PROFILE_POSITION},
	        {"0x14", AX_OP_MODE_PROFILE_POSITION},
	        {"2", AX_OP_MODE_CURRENT},
	        {"5", AX_OP_MODE_TORQUE},
	        {"19", AX_OP_MODE_PROFILE_VELOCITY},
	        {"3", AX_OP_MODE_VELOCITY},
	        {"0x113", AX_OP_MODE_HOMING},
	        {"0", AX_OP_MODE_VOLTAGE},
	        {"pp", AX_OP_MODE_PROFILE_POSITION},
	        {"profile_velocity", AX_OP_MODE_PROFILE_VELOCITY},
	        {"Profile velocity", AX_OP_MODE_PROFILE_VELOCITY},
	        {"cyclic POSITION", AX_OP_MODE_CYCLIC_POSITION},
	};
	uint32_t code = 0;
	int mode;

	assert_int_equal(ax_axis_mode_codes(a), AX_MODE_CODES_MCB);
	for (size_t i = 0; i < ARRAY_SIZE(parsed); i++) {
		mode = ax_axis_mode_parse(a, parsed[i].text);
		if (mode != parsed[i].mode)
			fail_msg("'%s': got %d (%s), want %s", parsed[i].text, mode,
			         ax_error_last(), ax_op_mode_name(parsed[i].mode));
	}
	assert_int_equal(ax_axis_mode_from_code(a, 0x14), AX_OP_MODE_PROFILE_POSITION);
	assert_int_equal(ax_axis_mode_from_code(a, 2), AX_OP_MODE_CURRENT);
	assert_int_equal(ax_axis_mode_from_code(a, 5), AX_OP_MODE_TORQUE);
	/* A CiA 402 code on an MCB drive is refused, never taken for another mode. */
	expect_error(ax_axis_mode_from_code(a, 1), AX_EINVAL, "MCB codes",
	             "CiA 402 code of 'profile_position'", "profile_position (0x14)", NULL);
	expect_error(ax_axis_mode_parse(a, "6"), AX_EINVAL, "CiA 402 code of 'homing'", NULL);
	expect_error(ax_axis_mode_from_code(a, -1), AX_EINVAL, "-1", NULL);
	expect_error(ax_axis_mode_parse(a, "sideways"), AX_EINVAL, "'sideways'", "MCB code",
	             "torque (0x5)", NULL);
	expect_error(ax_axis_mode_parse(a, "2x"), AX_EINVAL, "'2x'", NULL);

	/* The code a mode is set by is the code the drive shows. */
	OK(ax_axis_set_mode(a, ax_axis_mode_parse(a, "5"), 0));
	OK(ax_axis_get_mode(a, &mode, &code));
	assert_int_equal(mode, AX_OP_MODE_TORQUE);
	assert_int_equal(code, 5);

	/* Homing methods: the drive's number or its dictionary label. */
	assert_int_equal(ax_axis_home_method_parse(a, "0"), 0);
	assert_int_equal(ax_axis_home_method_parse(a, "current position is home"), 0);
	assert_int_equal(ax_axis_home_method_parse(a, "Home switch, negative direction"), 2);
	assert_int_equal(ax_axis_home_method_parse(a, "0x3"), 3);
	expect_error(ax_axis_home_method_parse(a, "upwards"), AX_EINVAL, "'upwards'", "HOM_MODE",
	             "0 (Current position is home)", NULL);
	expect_error(ax_axis_home_method_parse(a, "99"), AX_EINVAL, "HOM_MODE", NULL);
	expect_error(ax_axis_home_method_parse(a, "-2"), AX_EINVAL, "-2", NULL);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

/* A dictionary whose operation-mode enumeration speaks CiA 402 codes. */
static const char cia402_xdf[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<IngeniaDictionary><Header><Version>2</Version></Header><Body>\n"
        "<Device Interface=\"ETH\" ProductCode=\"65636\" RevisionNumber=\"65538\" "
        "VendorID=\"42780\" name=\"cia\"><Axes>\n"
        "<Axis subnode=\"1\"><Registers>\n"
        "<Register id=\"DRV_STATE_CONTROL\" address=\"0x010\" subnode=\"1\" dtype=\"u16\" "
        "access=\"rw\"/>\n"
        "<Register id=\"DRV_STATE_STATUS\" address=\"0x011\" subnode=\"1\" dtype=\"u16\" "
        "access=\"r\"/>\n"
        "<Register id=\"DRV_OP_CMD\" address=\"0x014\" subnode=\"1\" dtype=\"u16\" "
        "access=\"rw\"><Enumerations><Enum value=\"1\">Profile position</Enum>"
        "<Enum value=\"3\">Profile velocity</Enum><Enum value=\"6\">Homing</Enum>"
        "</Enumerations></Register>\n"
        "</Registers></Axis></Axes></Device></Body></IngeniaDictionary>\n";

static void test_motion__mode_family_from_the_dictionary(void **state)
{
	char path[] = "/tmp/axlink-test-motion-XXXXXX";
	ax_axis_options o = AX_AXIS_OPTIONS_INIT;
	ax_axis *a = NULL;
	ax_drive *d;
	FILE *f;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(cia402_xdf, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	d = open_drive_dict(*state, "virtual:?serial=722", path);
	unlink(path);

	/* An MCB address space, but the enumeration's labels are CiA 402 codes. */
	OK(ax_axis_open(&a, d, 1, NULL));
	assert_int_equal(ax_axis_mode_codes(a), AX_MODE_CODES_CIA402);
	assert_int_equal(ax_axis_mode_from_code(a, 1), AX_OP_MODE_PROFILE_POSITION);
	assert_int_equal(ax_axis_mode_parse(a, "3"), AX_OP_MODE_PROFILE_VELOCITY);
	assert_int_equal(ax_axis_mode_parse(a, "homing"), AX_OP_MODE_HOMING);
	expect_error(ax_axis_mode_from_code(a, 0x14), AX_EINVAL, "CiA 402 codes",
	             "MCB code of 'profile_position'", NULL);
	/* A CiA 402 mode the dictionary does not list. */
	expect_error(ax_axis_mode_from_code(a, 8), AX_EUNSUPPORTED, "cyclic_position", "DRV_OP_CMD",
	             "profile_position (0x1)", NULL);
	a = ax_axis_unref(a);
	/* Asked for explicitly, the family is the caller's. */
	o.mode_codes = AX_MODE_CODES_MCB;
	OK(ax_axis_open(&a, d, 1, &o));
	assert_int_equal(ax_axis_mode_codes(a), AX_MODE_CODES_MCB);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

/*
 * Parameters that do not leak: a move's velocity, acceleration and a homing
 * speed apply to that command only; velocity mode reaches the velocity asked
 * for or says why not.
 */
static void test_motion__limits_apply_to_one_command(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=723", "axs-100");
	ax_axis *a = open_axis(d, 1);
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	ax_home_options ho = AX_HOME_OPTIONS_INIT;
	double v = 0.0, vmax0 = 0.0, acc0 = 0.0, hs0 = 0.0;

	OK(ax_axis_enable(a, 0));
	OK(ax_axis_set_units(a, AX_UNIT_REV, 0.0));
	OK(ax_drive_read_f64(d, "PROF_MAX_VEL", 1, &vmax0));
	OK(ax_drive_read_f64(d, "PROF_MAX_ACC", 1, &acc0));
	OK(ax_drive_read_f64(d, "HOM_SPEED_SEARCH", 1, &hs0));
	assert_true(vmax0 > 5.0);

	/* A slow move, then velocity mode faster than it: reached at the faster speed. */
	mo.velocity = 1.0;
	mo.acceleration = 20.0;
	OK(ax_axis_move(a, 0.5, &mo));
	OK(ax_drive_read_f64(d, "PROF_MAX_VEL", 1, &v));
	assert_float_equal(v, vmax0, 1e-6);
	OK(ax_drive_read_f64(d, "PROF_MAX_ACC", 1, &v));
	assert_float_equal(v, acc0, 1e-6);
	OK(ax_axis_move_velocity(a, 5.0, NULL));
	OK(ax_axis_velocity(a, &v));
	assert_float_equal(v, 5.0, 1e-3);

	/* A move that does not wait keeps its limits until a halt ends it. */
	mo = (ax_move_options)AX_MOVE_OPTIONS_INIT;
	mo.velocity = 2.0;
	mo.flags = AX_MOVE_NO_WAIT;
	OK(ax_axis_move(a, 40.0, &mo));
	OK(ax_drive_read_f64(d, "PROF_MAX_VEL", 1, &v));
	assert_float_equal(v, 2.0, 1e-6);
	OK(ax_axis_halt(a, 0));
	OK(ax_drive_read_f64(d, "PROF_MAX_VEL", 1, &v));
	assert_float_equal(v, vmax0, 1e-6);

	/* Beyond the drive's own limit: refused, naming it, and nothing moves. */
	OK(ax_drive_write_f64(d, "PROF_MAX_VEL", 1, 1.0));
	OK(ax_axis_move_velocity(a, 0.0, NULL));
	expect_error(ax_axis_move_velocity(a, 2.0, NULL), AX_ERANGE, "2 rev/s",
	             "limited by PROF_MAX_VEL = 1 rev/s", NULL);
	OK(ax_axis_velocity(a, &v));
	assert_true(v == 0.0);

	/* The limit lowered under a running velocity: "reached" at the cap is no success. */
	OK(ax_drive_write_f64(d, "PROF_MAX_VEL", 1, 3.0));
	mo = (ax_move_options)AX_MOVE_OPTIONS_INIT;
	mo.flags = AX_MOVE_NO_WAIT;
	OK(ax_axis_move_velocity(a, 2.5, &mo));
	OK(ax_drive_write_f64(d, "PROF_MAX_VEL", 1, 1.0));
	expect_error(ax_axis_wait_target_reached(a, 5000, NULL, NULL), AX_ERANGE,
	             "velocity 2.5 rev/s not reached", "at 1 rev/s",
	             "limited by PROF_MAX_VEL = 1 rev/s", NULL);
	OK(ax_drive_write_f64(d, "PROF_MAX_VEL", 1, vmax0));
	OK(ax_axis_move_velocity(a, 0.0, NULL));

	/* A homing speed is for that homing only. */
	ho.method = 0;
	ho.speed = 0.25;
	OK(ax_axis_home(a, &ho));
	OK(ax_drive_read_f64(d, "HOM_SPEED_SEARCH", 1, &v));
	assert_float_equal(v, hs0, 1e-6);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

static void test_motion__velocity_current_torque(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=711", "axs-100");
	ax_axis *a = open_axis(d, 1);
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	double v = 0.0, i = 0.0;
	int mode;

	expect_error(ax_axis_move_velocity(a, 1.0, NULL), AX_ERROR, "not operation_enabled", NULL);
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_set_units(a, AX_UNIT_REV, 0.0));
	mo.acceleration = 50;
	mo.deceleration = 50;
	mo.flags = AX_MOVE_NO_WAIT;
	OK(ax_axis_move_velocity(a, 5.0, &mo));
	OK(ax_drive_read_f64(d, "PROF_MAX_ACC", 1, &v));
	assert_float_equal(v, 50.0, 1e-4);
	OK(ax_axis_wait_target_reached(a, 0, NULL, NULL));
	OK(ax_axis_get_mode(a, &mode, NULL));
	assert_int_equal(mode, AX_OP_MODE_PROFILE_VELOCITY);
	OK(ax_axis_velocity(a, &v));
	assert_float_equal(v, 5.0, 1e-4);
	/* This command's acceleration only: the drive's is back once it ends. */
	OK(ax_drive_read_f64(d, "PROF_MAX_ACC", 1, &v));
	assert_float_equal(v, 100.0, 1e-4);
	mo.flags = 0;
	OK(ax_axis_move_velocity(a, -2.0, NULL));
	OK(ax_axis_velocity(a, &v));
	assert_float_equal(v, -2.0, 1e-4);
	OK(ax_axis_move_velocity(a, 0.0, NULL));
	OK(ax_axis_velocity(a, &v));
	assert_true(v == 0.0);
	mo.flags = AX_MOVE_RELATIVE;
	expect_error(ax_axis_move_velocity(a, 1.0, &mo), AX_EINVAL, "relative", NULL);

	OK(ax_axis_set_current(a, 1.5));
	OK(ax_axis_get_mode(a, &mode, NULL));
	assert_int_equal(mode, AX_OP_MODE_CURRENT);
	{
		struct timespec ts = {0, 5000000L}; /* the drive follows at its next step */

		nanosleep(&ts, NULL);
	}
	OK(ax_axis_current(a, &i));
	assert_float_equal(i, 1.5, 1e-6);
	OK(ax_axis_set_torque(a, 0.3)); /* MOT_TORQUE_CONSTANT 0.1 N·m/A */
	OK(ax_drive_read_f64(d, "CL_CUR_Q_SET_POINT", 1, &i));
	assert_float_equal(i, 3.0, 1e-5);
	put(d, "MOT_TORQUE_CONSTANT", 1, 0);
	expect_error(ax_axis_set_torque(a, 0.3), AX_EUNSUPPORTED, "MOT_TORQUE_CONSTANT", NULL);
	expect_error(ax_axis_set_current(a, NAN), AX_EINVAL, NULL);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

static void test_motion__homing(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=712", "axs-100");
	ax_axis *a = open_axis(d, 1);
	ax_home_options ho = AX_HOME_OPTIONS_INIT;
	double pos = 0.0;
	int64_t m = 0;
	int mode;

	expect_error(ax_axis_home(a, NULL), AX_ERROR, "not operation_enabled", NULL);
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_move(a, 777, NULL));

	/* On the present position: it becomes the offset. */
	ho.method = 0;
	ho.flags = AX_HOME_SET_OFFSET;
	ho.offset = 500;
	OK(ax_axis_home(a, &ho));
	OK(ax_axis_position(a, &pos));
	assert_true(pos == 500.0);
	OK(ax_axis_get_mode(a, &mode, NULL));
	assert_int_equal(mode, AX_OP_MODE_HOMING);

	/*
	 * The home switch, searched at a given speed, in revolutions. Switches sit
	 * in the frame the axis started in, where it stands at 777 now.
	 */
	put(d, "SIM_HOME_SWITCH_POSITION", 1, -2048);
	put(d, "HOM_ACC", 1, 1000);
	OK(ax_axis_set_units(a, AX_UNIT_REV, 0.0));
	ho.method = 2; /* negative direction */
	ho.offset = 1.0;
	ho.speed = 20.0;
	OK(ax_axis_home(a, &ho));
	OK(ax_axis_position(a, &pos));
	assert_true(pos == 1.0);
	OK(ax_drive_read_i64(d, "HOM_OFFSET", 1, &m));
	assert_int_equal(m, 4096);
	OK(ax_drive_read_i64(d, "HOM_MODE", 1, &m));
	assert_int_equal(m, 2);

	/* Behind a positive search lies the limit switch: a homing error, named. */
	put(d, "SIM_POS_LIMIT_SWITCH_POSITION", 1, 20000);
	ho.method = 1;
	ho.flags = 0;
	expect_error(ax_axis_home(a, &ho), AX_ERROR, "homing error", "method 1",
	             "Home switch, positive direction", NULL);
	/* Methods the dictionary does not list, and bad options. */
	ho.method = 35;
	expect_error(ax_axis_home(a, &ho), AX_EUNSUPPORTED, "method 35", "HOM_MODE", NULL);
	ho.method = -2;
	expect_error(ax_axis_home(a, &ho), AX_EINVAL, NULL);
	/* The drive's own method, with a timeout too short for it. */
	put(d, "SIM_POS_LIMIT_SWITCH_POSITION", 1, 2000000000);
	put(d, "SIM_HOME_SWITCH_POSITION", 1, 1000000000);
	ho = (ax_home_options)AX_HOME_OPTIONS_INIT;
	ho.timeout_ms = 100;
	expect_error(ax_axis_home(a, &ho), AX_ETIMEDOUT, "method 1", "100 ms", NULL);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

struct axis_job {
	ax_axis *axis;
	double target;
	int err;
	char msg[256];
};

static void *axis_job_run(void *arg)
{
	struct axis_job *j = arg;

	j->err = ax_axis_move(j->axis, j->target, NULL);
	if (j->err < 0)
		(void)snprintf(j->msg, sizeof(j->msg), "%s", ax_error_last());
	return NULL;
}

/* The two axes of axs-200: their own state machines, moving at once. */
static void test_motion__two_axes_independent(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?model=axs-200&serial=713", "axs-200");
	ax_axis *a1 = open_axis(d, 1), *a2 = open_axis(d, 2);
	struct axis_job j[2] = {{a1, 4096, 0, ""}, {a2, -2048, 0, ""}};
	pthread_t t[2];

	OK(ax_axis_enable(a1, 0));
	assert_int_equal(state_of(a2), AX_CIA402_SWITCH_ON_DISABLED);
	OK(ax_axis_enable(a2, 0));
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, axis_job_run, &j[i]), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (j[i].err < 0)
			fail_msg("axis %d: %s", i + 1, j[i].msg);
	}
	expect_in_window(d, a1, 4096);
	expect_in_window(d, a2, -2048);

	/* A fault and a disable on one axis leave the other moving and enabled. */
	OK(ax_axis_disable(a1, 0));
	assert_int_equal(state_of(a2), AX_CIA402_OPERATION_ENABLED);
	OK(ax_axis_move(a2, 0, NULL));
	expect_in_window(d, a1, 4096);
	put(d, "SIM_FAULT_INJECT", 2, 0x3210);
	assert_int_equal(state_of(a2), AX_CIA402_FAULT);
	assert_int_equal(state_of(a1), AX_CIA402_READY_TO_SWITCH_ON);
	a1 = ax_axis_unref(a1);
	a2 = ax_axis_unref(a2);
	d = ax_drive_unref(d);
}

/* ==== stopping: halt, quick stop, a cancelled wait ======================= */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double counts_at(ax_axis *a)
{
	double pos = 0.0;

	OK(ax_axis_position(a, &pos));
	return pos;
}

/*
 * Travel allowed between reading the position and a stop taking effect: a
 * few requests, generous for valgrind (the simulated axis moves in real time).
 */
#define LATENCY_S 0.25

/* At rest: velocity 0 and the same position twice, 30 ms apart. */
static double expect_at_rest(ax_axis *a)
{
	double v = 1.0, p1, p2;

	OK(ax_axis_velocity(a, &v));
	assert_float_equal(v, 0.0, 1e-9);
	p1 = counts_at(a);
	sleep_ms(30);
	p2 = counts_at(a);
	if (p1 != p2)
		fail_msg("axis %u still moving: %g then %g counts", ax_axis_subnode(a), p1, p2);
	return p2;
}

/*
 * Halt decelerates on PROF_MAX_DEC (100 rev/s^2 here) and stays enabled; the
 * next move goes to its own target, not the halted one. Quick stop brakes on
 * the steeper quick stop ramp (1000 rev/s^2) into quick stop active.
 */
static void test_motion__halt_and_quick_stop(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=714", "axs-100");
	ax_axis *a = open_axis(d, 1);
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	double at_halt, stopped, v = 0.0;
	uint16_t sw = 0;
	int st;

	/* Nothing to stop while the power stage is off. */
	OK(ax_axis_halt(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_SWITCH_ON_DISABLED);
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_move(a, 0, NULL));

	/* 10 rev/s toward 100 rev away: halt, and the axis stops within v^2/2dec = 2048 counts. */
	mo.flags = AX_MOVE_NO_WAIT;
	mo.velocity = 10 * RES;
	OK(ax_axis_move(a, 100 * RES, &mo));
	sleep_ms(300);
	at_halt = counts_at(a);
	assert_true(at_halt > 0.0);
	OK(ax_axis_halt(a, 0));
	OK(ax_axis_state(a, &st, &sw));
	assert_int_equal(st, AX_CIA402_OPERATION_ENABLED);
	assert_true(sw & SW_TARGET_REACHED);
	stopped = expect_at_rest(a);
	assert_true(stopped >= at_halt && stopped <= at_halt + 2048 + 10 * RES * LATENCY_S);
	sleep_ms(50); /* the halt holds: no resuming toward 100 rev */
	assert_true(counts_at(a) == stopped);

	/* The next move is released from the halt and goes to its own target. */
	OK(ax_axis_move(a, 1000, NULL));
	expect_in_window(d, a, 1000);
	expect_at_rest(a);

	/* Profile velocity: halt ramps to 0; the next velocity releases it. */
	OK(ax_axis_move_velocity(a, 5 * RES, NULL));
	OK(ax_axis_halt(a, 0));
	expect_at_rest(a);
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED);
	OK(ax_axis_move_velocity(a, 2 * RES, NULL));
	OK(ax_axis_velocity(a, &v));
	assert_float_equal(v, 2 * RES, 1.0);
	OK(ax_axis_halt(a, 0));
	expect_at_rest(a);

	/* Quick stop from a move: quick stop active, braking on the quick stop ramp. */
	mo.velocity = 10 * RES;
	OK(ax_axis_move(a, 100 * RES, &mo));
	sleep_ms(300);
	at_halt = counts_at(a);
	OK(ax_axis_quick_stop(a, 0));
	assert_int_equal(state_of(a), AX_CIA402_QUICK_STOP_ACTIVE);
	for (int i = 0; i < 200; i++) {
		OK(ax_axis_velocity(a, &v));
		if (v == 0.0)
			break;
		sleep_ms(5);
	}
	stopped = expect_at_rest(a);
	assert_true(stopped >= at_halt && stopped <= at_halt + 205 + 10 * RES * LATENCY_S);
	OK(ax_axis_halt(a, 0)); /* not enabled: nothing to do */
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_move(a, 0, NULL));
	expect_in_window(d, a, 0);

	/* A drive that never shows the standstill: a timeout that says so; bad timeouts refused. */
	OK(ax_axis_move(a, 100 * RES, &mo));
	put(d, "SIM_STATUS_FREEZE", 1, 1);
	expect_error(ax_axis_halt(a, 100), AX_ETIMEDOUT, "halt", "100 ms", "velocity",
	             "status word 0x", NULL);
	put(d, "SIM_STATUS_FREEZE", 1, 0);
	expect_error(ax_axis_halt(a, -1), AX_EINVAL, NULL);
	OK(ax_axis_halt(a, 0));
	expect_at_rest(a);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

struct trigger_job {
	ax_cancel *cancel;
	int after_ms;
	int64_t at_ms;
};

static void *trigger_run(void *arg)
{
	struct trigger_job *j = arg;

	sleep_ms(j->after_ms);
	j->at_ms = now_ms();
	ax_cancel_trigger(j->cancel);
	return NULL;
}

/* A token triggered from another thread ends a wait within about a poll period. */
static void test_motion__cancelled_wait(void **state)
{
	ax_drive *d = open_drive(*state, "virtual:?serial=715", "axs-100");
	ax_axis *a = open_axis(d, 1);
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	ax_home_options ho = AX_HOME_OPTIONS_INIT;
	ax_cancel *c = NULL;
	struct trigger_job j;
	pthread_t t;
	double v = 0.0;

	OK(ax_cancel_new(&c));
	ax_axis_set_cancel(a, c);
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_move(a, 0, NULL));

	/* While waiting for a 100 rev move: cancelled, and the axis is not stopped for us. */
	mo.flags = AX_MOVE_NO_WAIT;
	mo.velocity = 10 * RES;
	OK(ax_axis_move(a, 100 * RES, &mo));
	j = (struct trigger_job){c, 150, 0};
	assert_int_equal(pthread_create(&t, NULL, trigger_run, &j), 0);
	expect_error(ax_axis_wait_target_reached(a, 0, NULL, NULL), AX_ECANCELED, "cancelled",
	             NULL);
	{
		int64_t late = now_ms() - j.at_ms;

		assert_int_equal(pthread_join(t, NULL), 0);
		if (late > (int64_t)test_ms(500)) /* a poll period; the move lasts 10 s */
			fail_msg("the wait ended %lld ms after the trigger", (long long)late);
	}
	OK(ax_axis_velocity(a, &v));
	assert_true(v > 0.0);
	/* Halt and quick stop do not watch the token: they still stop the axis. */
	OK(ax_axis_halt(a, 0));
	expect_at_rest(a);

	/* Still triggered: every wait ends at once; a move with its wait too. */
	expect_error(ax_axis_move(a, 10 * RES, NULL), AX_ECANCELED, NULL);
	OK(ax_axis_halt(a, 0));
	mo = (ax_move_options)AX_MOVE_OPTIONS_INIT;
	mo.acceleration = RES; /* 1 s to 1 rev/s: reached is no race for the token */
	expect_error(ax_axis_move_velocity(a, RES, &mo), AX_ECANCELED, NULL);
	OK(ax_axis_halt(a, 0));
	OK(ax_drive_write_f64(d, "PROF_MAX_ACC", 1, 100.0)); /* the model's */
	ho.method = 0;
	OK(ax_axis_home(a, &ho)); /* method 0 ends before the first check */
	put(d, "SIM_HOME_SWITCH_POSITION", 1, 1000000);
	ho.method = 1;
	expect_error(ax_axis_home(a, &ho), AX_ECANCELED, "home", NULL);
	OK(ax_axis_halt(a, 0));
	expect_at_rest(a);

	/* Reset, the waits run to the end; without a token, nothing is watched. */
	ax_cancel_reset(c);
	OK(ax_axis_move(a, 2048, NULL));
	expect_in_window(d, a, 2048);
	ax_cancel_trigger(c);
	ax_axis_set_cancel(a, NULL);
	OK(ax_axis_move(a, 0, NULL));
	expect_in_window(d, a, 0);
	ax_axis_set_cancel(NULL, c); /* accepted, nothing to do */
	c = ax_cancel_unref(c);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
}

/* ==== the library against axlink-sim over UDP ============================ */

static void test_motion__udp(void **state)
{
	static const char *const args[] = {"--eth", "127.0.4.1", "--model", "axs-200", NULL};
	simproc *p = NULL;
	ax_drive *d;
	ax_axis *a, *b;
	double pos = 0.0;

	if (simproc_start(&p, args, 1, 5000) < 0)
		fail_msg("axlink-sim did not start");
	d = open_drive(*state, simproc_uri(p, 0), "axs-200");
	a = open_axis(d, 1);
	b = open_axis(d, 2);
	OK(ax_axis_enable(a, 0));
	OK(ax_axis_set_units(a, AX_UNIT_DEG, 0.0));
	OK(ax_axis_move(a, 90, NULL));
	expect_in_window(d, a, 1024);
	OK(ax_axis_position(a, &pos));
	assert_true(fabs(pos - 90.0) <= 10 * 360.0 / RES);
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED);
	assert_int_equal(state_of(b), AX_CIA402_SWITCH_ON_DISABLED);

	put(d, "SIM_FAULT_ARM", 2, 0x3220);
	expect_error(ax_axis_enable(b, 0), AX_ERROR, "'shutdown'", "0x00003220", NULL);
	put(d, "SIM_STATUS_FREEZE", 2, 1);
	expect_error(ax_axis_enable(b, 100), AX_ETIMEDOUT, "'fault reset'", "'fault'", NULL);
	a = ax_axis_unref(a);
	b = ax_axis_unref(b);
	d = ax_drive_unref(d);
	assert_int_equal(simproc_stop(p), 0);
}

/* axlink-sim --quirk skip-switched-on: both axes enable and move over UDP. */
static void test_motion__udp_skip_switched_on(void **state)
{
	static const char *const args[] = {"--eth",   "127.0.4.3",        "--model", "axs-200",
	                                   "--quirk", "skip-switched-on", NULL};
	simproc *p = NULL;
	ax_drive *d;
	ax_axis *a, *b;

	if (simproc_start(&p, args, 1, 5000) < 0)
		fail_msg("axlink-sim did not start");
	d = open_drive(*state, simproc_uri(p, 0), "axs-200");
	a = open_axis(d, 1);
	b = open_axis(d, 2);
	/* The quirk is there: 0x07 leaves axis 2 in ready to switch on. */
	put(d, "DRV_STATE_CONTROL", 2, 0x06);
	put(d, "DRV_STATE_CONTROL", 2, 0x07);
	assert_int_equal(state_of(b), AX_CIA402_READY_TO_SWITCH_ON);

	OK(ax_axis_enable(a, 0));
	OK(ax_axis_enable(b, 0));
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED);
	assert_int_equal(state_of(b), AX_CIA402_OPERATION_ENABLED);
	OK(ax_axis_move(a, 2048, NULL));
	expect_in_window(d, a, 2048);
	OK(ax_axis_disable(b, 0));
	assert_int_equal(state_of(b), AX_CIA402_READY_TO_SWITCH_ON);
	OK(ax_axis_enable(b, 0));
	assert_int_equal(state_of(b), AX_CIA402_OPERATION_ENABLED);

	OK(ax_axis_disable(b, 0));
	put(d, "SIM_FAULT_ARM", 2, 0x3220);
	expect_error(ax_axis_enable(b, 0), AX_ERROR, "'switch on'", "'fault'", "0x00003220", NULL);
	a = ax_axis_unref(a);
	b = ax_axis_unref(b);
	d = ax_drive_unref(d);
	assert_int_equal(simproc_stop(p), 0);
}

/* axlink-sim --fault-after: the axis faults by itself while it moves. */
static void test_motion__udp_fault_after(void **state)
{
	static const char *const args[] = {"--eth", "127.0.4.2", "--fault-after", "400", NULL};
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	simproc *p = NULL;
	ax_drive *d;
	ax_axis *a;
	int st = -1;

	if (simproc_start(&p, args, 1, 5000) < 0)
		fail_msg("axlink-sim did not start");
	d = open_drive(*state, simproc_uri(p, 0), "axs-100");
	a = open_axis(d, 1);
	OK(ax_axis_enable(a, 0));
	mo.velocity = 4096; /* 1 rev/s: 100 rev take longer than the test */
	expect_error(ax_axis_move(a, 409600, &mo), AX_ERROR, "fault", "0x00003220", "under-voltage",
	             NULL);
	OK(ax_axis_state(a, &st, NULL));
	assert_true(st == AX_CIA402_FAULT || st == AX_CIA402_FAULT_REACTION_ACTIVE);
	OK(ax_axis_enable(a, 0)); /* reset, and on again: it fires once */
	assert_int_equal(state_of(a), AX_CIA402_OPERATION_ENABLED);
	a = ax_axis_unref(a);
	d = ax_drive_unref(d);
	assert_int_equal(simproc_stop(p), 0);
}

#define TS(name) cmocka_unit_test_setup_teardown(test_motion__##name, sim_up, sim_down)
#define TC(name) cmocka_unit_test_setup_teardown(test_motion__##name, ctx_up, ctx_down)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        TS(sim_trapezoid),
	        TS(sim_relative_latch_limits),
	        TS(sim_profile_velocity_and_halt),
	        TS(sim_quick_stop_ramps),
	        TS(sim_fault_reaction),
	        TS(sim_test_hooks),
	        TS(sim_fault_at),
	        TS(sim_idle_gap_then_move),
	        cmocka_unit_test(test_motion__sim_homing_methods),
	        TS(sim_homing_finds_the_switch),
	        TS(sim_homing_timeout_and_interrupt),
	        TS(sim_current),
	        cmocka_unit_test(test_motion__decode_states),
	        cmocka_unit_test(test_motion__mode_tables),
	        TC(axis_open_errors),
	        TC(enable_from_every_state),
	        TC(enable_skip_switched_on),
	        TC(disable_quick_stop_reset),
	        TC(failure_paths),
	        TC(modes),
	        TC(role_map_and_listed_modes),
	        TC(units),
	        TC(moves),
	        TC(velocity_current_torque),
	        TC(mode_integers_are_drive_codes),
	        TC(mode_family_from_the_dictionary),
	        TC(limits_apply_to_one_command),
	        TC(homing),
	        TC(two_axes_independent),
	        TC(halt_and_quick_stop),
	        TC(cancelled_wait),
	        TC(udp),
	        TC(udp_fault_after),
	        TC(udp_skip_switched_on),
	};

	return cmocka_run_group_tests_name("motion", tests, NULL, NULL);
}
