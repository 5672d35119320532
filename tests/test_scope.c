/* SPDX-License-Identifier: MIT */
/*
 * Drive-side capture (axlink/scope.h) end to end: the library against the
 * real axlink-sim over UDP on 127.0.19.1-9 (this file's range; the CLI
 * tests of scope use 127.0.19.10-19, the Python ones 127.0.19.20-29).
 *
 * The simulator samples at 20 kHz of drive time from its axes' kinematics,
 * so a capture of a move shows the profile the drive really ran; the
 * assertions are on that data, never on how long anything took.
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

#include "axlink/axlink.h"
#include "testctx.h"
#include "simproc.h"
#include "support/timing.h"

#define RES 4096.0   /* FBK_DIGENC1_RESOLUTION of every model */
#define BASE_US 50.0 /* DRV_POS_VEL_RATE of the simulated drives: 20 kHz */
#define MAX_CH 16    /* MON_CFG_REG0_MAP .. MON_CFG_REG15_MAP */

struct fixture {
	simproc *sim;
	ax_ctx *ctx;
};

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

static int group_up(void **state)
{
	static const char *const args[] = {"--eth",    "127.0.19.1", "--count", "4",
	                                   "--serial", "1901",       NULL};
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || simproc_start(&f->sim, args, 4, 5000) < 0) {
		free(f);
		return -1;
	}
	f->ctx = new_ctx();
	*state = f;
	return 0;
}

static int group_down(void **state)
{
	struct fixture *f = *state;
	int rc = simproc_stop(f->sim);

	ax_ctx_unref(f->ctx);
	free(f);
	return rc == 0 ? 0 : -1;
}

static ax_drive *open_drive(struct fixture *f, size_t i)
{
	ax_drive_options o = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;

	o.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	if (ax_drive_open(&d, f->ctx, simproc_uri(f->sim, i), &o) < 0)
		fail_msg("open '%s': %s", simproc_uri(f->sim, i), ax_error_last());
	return d;
}

static ax_axis *enabled_axis(ax_drive *d)
{
	ax_axis *a = NULL;

	OK(ax_axis_open(&a, d, 1, NULL));
	OK(ax_axis_set_units(a, AX_UNIT_REV, 0));
	OK(ax_axis_enable(a, 2000));
	return a;
}

static ax_scope *new_scope(ax_drive *d)
{
	ax_scope *s = NULL;

	OK(ax_scope_new(&s, d));
	assert_int_equal(ax_scope_max_channels(s), MAX_CH);
	assert_true(ax_scope_base_period_us(s) == BASE_US);
	return s;
}

/* Index of the first sample at or above @level, or -1. */
static long first_at_or_above(const double *v, size_t n, double level)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] >= level)
			return (long)i;
	return -1;
}

/* ---- captures of motion ---------------------------------------------------- */

/*
 * 2 channels x 2000 samples at 50 us (0.1 s) while the axis turns at a
 * commanded 10 rev/s: the position's derivative is the commanded velocity
 * within 1 %, over the window and over every 5 ms of it, and agrees with
 * the velocity channel sampled at the same instants.
 */
static void test_scope__move_derivative_matches_velocity(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, 0);
	ax_axis *a = enabled_axis(d);
	ax_scope *s = new_scope(d);
	const double v_cmd = 10.0, period = 50e-6;
	const double *pos, *vel, *t;
	size_t raw_len = 0;
	int n;

	OK(ax_axis_move_velocity(a, v_cmd, NULL)); /* waits until reached */
	assert_int_equal(ax_scope_add_channel(s, "CL_POS_FBK_VALUE", 1), 0);
	assert_int_equal(ax_scope_add_channel(s, "CL_VEL_FBK_VALUE", 1), 1);
	OK(ax_scope_set_period_us(s, 50));
	OK(ax_scope_set_samples(s, 2000, 0));
	n = ax_scope_capture(s, 5000, NULL);
	if (n < 0)
		fail_msg("capture: %s", ax_error_last());
	assert_int_equal(n, 2000);
	assert_int_equal(ax_scope_sample_count(s), 2000);
	assert_int_equal(ax_scope_block_size(s), 8);
	assert_non_null(ax_scope_raw(s, &raw_len));
	assert_int_equal(raw_len, 2000 * 8);
	pos = ax_scope_data(s, 0);
	vel = ax_scope_data(s, 1);
	t = ax_scope_time(s);
	assert_non_null(pos);
	assert_non_null(vel);
	assert_null(ax_scope_data(s, 2));
	assert_true(t[0] == 0.0);
	assert_true(fabs(t[1999] - 1999 * period) < 1e-12);

	/* Over the whole window, and over every 5 ms (100 samples) of it. */
	{
		double dv = (pos[1999] - pos[0]) / (t[1999] - t[0]) / RES;

		if (fabs(dv - v_cmd) > 0.01 * v_cmd)
			fail_msg("position derivative %.4f rev/s, commanded %.1f", dv, v_cmd);
	}
	for (size_t i = 0; i + 100 < 2000; i += 100) {
		double dv = (pos[i + 100] - pos[i]) / (t[i + 100] - t[i]) / RES, mean = 0;

		for (size_t j = i; j <= i + 100; j++)
			mean += vel[j] / 101.0;
		if (fabs(dv - v_cmd) > 0.01 * v_cmd || fabs(dv - mean) > 0.01 * v_cmd)
			fail_msg("samples %zu..%zu: dp/dt %.4f rev/s, velocity channel %.4f, "
			         "commanded %.1f",
			         i, i + 100, dv, mean, v_cmd);
	}
	/* The bytes on the wire: the payload plus a few frame headers per 512 bytes. */
	assert_true(ax_scope_wire_bytes(s) > raw_len);
	assert_true(ax_scope_wire_bytes(s) < raw_len + (raw_len / 512 + 4) * 28 + 64);
	OK(ax_scope_disable(s));
	OK(ax_axis_halt(a, 2000));
	ax_scope_unref(s);
	ax_axis_unref(a);
	ax_drive_unref(d);
}

/*
 * A trapezoidal move captured from its start: the derivative of the
 * position follows the velocity channel (1 % of the commanded velocity)
 * through acceleration, cruise and deceleration, and the cruise is the
 * commanded velocity.
 */
static void test_scope__trapezoid_profile(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, 1);
	ax_axis *a = enabled_axis(d);
	ax_scope *s = new_scope(d);
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	const double v_cmd = 10.0;
	const double *pos, *vel, *t;
	double start, vmax = 0;
	int n;

	OK(ax_axis_position(a, &start));
	assert_int_equal(ax_scope_add_channel(s, "CL_POS_FBK_VALUE", 1), 0);
	assert_int_equal(ax_scope_add_channel(s, "CL_VEL_FBK_VALUE", 1), 1);
	OK(ax_scope_set_period_us(s, 250)); /* prescaler 5: 0.5 s in the 2048-sample buffer */
	OK(ax_scope_set_samples(s, 2000, 100));
	/* Start at the first movement: rising through 0.01 rev/s. */
	OK(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_RISING, 1, 0.01));
	OK(ax_scope_arm(s));
	mo.flags = AX_MOVE_NO_WAIT;
	mo.velocity = v_cmd;
	mo.acceleration = 100.0; /* 0.1 s ramps of 0.5 rev */
	mo.deceleration = 100.0;
	OK(ax_axis_move(a, start + 3.0, &mo)); /* 0.1 + 0.2 + 0.1 s */
	OK(ax_scope_wait(s, 5000, NULL));
	n = ax_scope_fetch(s);
	assert_int_equal(n, 2000);
	pos = ax_scope_data(s, 0);
	vel = ax_scope_data(s, 1);
	t = ax_scope_time(s);
	assert_true(fabs(ax_scope_period_us(s) - 250.0) < 1e-9);
	assert_true(fabs(t[100]) < 1e-12 && fabs(t[0] + 100 * 250e-6) < 1e-9);
	for (size_t i = 0; i + 20 < 2000; i += 20) {
		double dv = (pos[i + 20] - pos[i]) / (t[i + 20] - t[i]) / RES, mean = 0;

		for (size_t j = i; j <= i + 20; j++)
			mean += vel[j] / 21.0;
		if (fabs(dv - mean) > 0.01 * v_cmd)
			fail_msg("samples %zu..%zu: dp/dt %.4f rev/s, velocity channel %.4f", i,
			         i + 20, dv, mean);
		vmax = mean > vmax ? mean : vmax;
	}
	if (fabs(vmax - v_cmd) > 0.01 * v_cmd)
		fail_msg("cruise velocity %.4f rev/s, commanded %.1f", vmax, v_cmd);
	/* It stopped at the target within the window. */
	assert_true(fabs(pos[1999] / RES - (start + 3.0)) < 1e-3);
	OK(ax_axis_wait_target_reached(a, 3000, NULL, NULL));
	OK(ax_scope_disable(s));
	ax_scope_unref(s);
	ax_axis_unref(a);
	ax_drive_unref(d);
}

/*
 * An edge trigger on the position while the axis turns: the capture starts
 * at the crossing (within one sample), the pre-trigger samples before it,
 * and the time axis is 0 at the trigger.
 */
static void test_scope__trigger_starts_at_crossing(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, 2);
	ax_axis *a = enabled_axis(d);
	ax_scope *s = new_scope(d);
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	const uint32_t pre = 40;
	const double *pos, *t;
	double here, level;
	long at;

	mo.flags = AX_MOVE_NO_WAIT;
	assert_int_equal(ax_scope_add_channel(s, "CL_VEL_FBK_VALUE", 1), 0);
	assert_int_equal(ax_scope_add_channel(s, "CL_POS_FBK_VALUE", 1), 1);
	/* At rest; armed (the drive watches the level); then the axis turns. */
	OK(ax_axis_position(a, &here));
	level = floor(here * RES) + 0.25 * RES;
	OK(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_RISING, 1, level));
	OK(ax_scope_set_samples(s, 400, pre));
	OK(ax_scope_arm(s));
	OK(ax_axis_move_velocity(a, 5.0, &mo));
	OK(ax_scope_wait(s, 5000, NULL));
	assert_int_equal(ax_scope_fetch(s), 400);
	pos = ax_scope_data(s, 1);
	t = ax_scope_time(s);
	at = first_at_or_above(pos, 400, level);
	if (at < (long)pre - 1 || at > (long)pre + 1)
		fail_msg("level %.0f first reached at sample %ld, the trigger is sample %u", level,
		         at, pre);
	assert_true(pos[0] < level);
	assert_true(fabs(t[pre]) < 1e-12);
	assert_true(fabs(t[0] + pre * BASE_US * 1e-6) < 1e-12);

	/* Falling: stopped, then turning the other way through a level below. */
	OK(ax_axis_halt(a, 3000));
	OK(ax_axis_position(a, &here));
	level = ceil(here * RES) - 0.25 * RES;
	OK(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_FALLING, 1, level));
	OK(ax_scope_set_samples(s, 400, 5));
	OK(ax_scope_arm(s));
	OK(ax_axis_move_velocity(a, -5.0, &mo));
	OK(ax_scope_wait(s, 5000, NULL));
	assert_int_equal(ax_scope_fetch(s), 400);
	pos = ax_scope_data(s, 1);
	at = -1;
	for (size_t i = 0; i < 400 && at < 0; i++)
		if (pos[i] <= level)
			at = (long)i;
	if (at < 4 || at > 6)
		fail_msg("level %.0f first reached at sample %ld, the trigger is sample 5", level,
		         at);
	OK(ax_axis_halt(a, 3000));
	OK(ax_scope_disable(s));
	ax_scope_unref(s);
	ax_axis_unref(a);
	ax_drive_unref(d);
}

/* Pre-trigger samples show what came before: the axis at rest, then the ramp. */
static void test_scope__pre_trigger_samples(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, 3);
	ax_axis *a = enabled_axis(d);
	ax_scope *s = new_scope(d);
	ax_move_options mo = AX_MOVE_OPTIONS_INIT;
	const uint32_t pre = 500;
	const double *vel, *t;

	assert_int_equal(ax_scope_add_channel(s, "CL_VEL_FBK_VALUE", 1), 0);
	OK(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_EITHER, 0, 0.2));
	OK(ax_scope_set_samples(s, 1000, pre));
	OK(ax_scope_arm(s));
	mo.flags = AX_MOVE_NO_WAIT;
	mo.acceleration = 10.0; /* 0.2 rev/s after 20 ms */
	OK(ax_axis_move_velocity(a, 5.0, &mo));
	OK(ax_scope_wait(s, 5000, NULL));
	assert_int_equal(ax_scope_fetch(s), 1000);
	vel = ax_scope_data(s, 0);
	t = ax_scope_time(s);
	assert_true(vel[pre - 1] < 0.2 && vel[pre] >= 0.2);
	/* 25 ms of pre-trigger samples: the first 5 ms at rest, then the ramp. */
	for (size_t i = 0; i < 100; i++)
		assert_true(vel[i] == 0.0);
	for (size_t i = 1; i < 1000; i++)
		assert_true(vel[i] >= vel[i - 1] - 1e-6);
	assert_true(vel[999] > 0.4);
	assert_true(fabs(t[0] + pre * BASE_US * 1e-6) < 1e-12);
	assert_true(fabs(t[pre]) < 1e-12);
	OK(ax_axis_halt(a, 2000));

	/* Re-arm with the same configuration: the next capture comes. */
	OK(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_IMMEDIATE, 0, 0));
	OK(ax_scope_arm(s));
	OK(ax_scope_wait(s, 5000, NULL));
	assert_int_equal(ax_scope_fetch(s), 1000);
	OK(ax_scope_rearm(s));
	assert_int_equal(ax_scope_sample_count(s), 0); /* dropped with the re-arm */
	OK(ax_scope_wait(s, 5000, NULL));
	assert_int_equal(ax_scope_fetch(s), 1000);
	OK(ax_scope_disable(s));
	ax_scope_unref(s);
	ax_axis_unref(a);
	ax_drive_unref(d);
}

/* ---- disturbance ------------------------------------------------------------ */

/*
 * A waveform played into a set point and captured with it: the record
 * starts with the waveform's first sample and holds every sample in order
 * (float bits exact), then the last value the target keeps.
 */
static void test_scope__disturbance_round_trip(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, 0);
	ax_disturbance *dist = NULL;
	ax_scope *s = new_scope(d);
	double wave[300];
	const double *got, *t;
	const size_t n = sizeof(wave) / sizeof(wave[0]);
	int ch;

	for (size_t i = 0; i < n; i++) /* flat, then a sine of 1.5 A */
		wave[i] = i < 10 ? 0.0 : (double)(float)(1.5 * sin((double)(i - 10) * 0.05));
	OK(ax_disturbance_new(&dist, d));
	ch = ax_disturbance_add_channel(dist, "CL_CUR_Q_SET_POINT", 1);
	assert_int_equal(ch, 0);
	OK(ax_disturbance_set_period_us(dist, 100));
	OK(ax_disturbance_set_waveform(dist, 0, wave, n));
	OK(ax_disturbance_load(dist));
	assert_true(ax_disturbance_wire_bytes(dist) >= n * 4);
	assert_int_equal(ax_scope_add_channel(s, "CL_POS_FBK_VALUE", 1), 0);
	OK(ax_scope_set_samples(s, 400, 0));
	OK(ax_disturbance_start(dist, s));
	/* The target became a channel; the period is the disturbance's. */
	assert_int_equal(ax_scope_channel_count(s), 2);
	assert_string_equal(ax_reg_id(ax_scope_channel_reg(s, 1)), "CL_CUR_Q_SET_POINT");
	assert_true(fabs(ax_scope_period_us(s) - 100.0) < 1e-9);
	OK(ax_scope_wait(s, 5000, NULL));
	assert_int_equal(ax_scope_fetch(s), 400);
	got = ax_scope_data(s, 1);
	t = ax_scope_time(s);
	for (size_t i = 0; i < 400; i++) {
		double want = i < n ? wave[i] : wave[n - 1];

		if (got[i] != want)
			fail_msg("sample %zu: captured %.9g, played %.9g", i, got[i], want);
	}
	assert_true(t[0] == 0.0);
	OK(ax_disturbance_stop(dist));
	OK(ax_scope_disable(s));
	ax_disturbance_unref(dist);
	ax_scope_unref(s);
	ax_drive_unref(d);
}

static void test_scope__disturbance_bad_input(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, 0);
	ax_disturbance *dist = NULL;
	double big[] = {0.0, 1e40}, ok[] = {0.0, 1.0, 2.0}, frac[] = {0.5};

	OK(ax_disturbance_new(&dist, d));
	expect_error(ax_disturbance_add_channel(dist, "CL_POS_FBK_VALUE", 1), AX_EACCESS,
	             "read-only", NULL);
	expect_error(ax_disturbance_add_channel(dist, "NO_SUCH_REGISTER", 1), AX_ENOTFOUND,
	             "NO_SUCH_REGISTER", NULL);
	expect_error(ax_disturbance_load(dist), AX_EINVAL, "no channels", NULL);
	expect_error(ax_disturbance_start(dist, NULL), AX_EINVAL, "not loaded", NULL);
	assert_int_equal(ax_disturbance_add_channel(dist, "CL_CUR_Q_SET_POINT", 1), 0);
	assert_int_equal(ax_disturbance_add_channel(dist, "CL_POS_SET_POINT_VALUE", 1), 1);
	expect_error(ax_disturbance_load(dist), AX_EINVAL, "no waveform", NULL);
	expect_error(ax_disturbance_set_waveform(dist, 0, big, 2), AX_ERANGE, "sample 1",
	             "CL_CUR_Q_SET_POINT", NULL);
	expect_error(ax_disturbance_set_waveform(dist, 1, frac, 1), AX_ERANGE, "sample 0",
	             "CL_POS_SET_POINT_VALUE", NULL);
	expect_error(ax_disturbance_set_waveform(dist, 2, ok, 3), AX_EINVAL, "channel 2", NULL);
	OK(ax_disturbance_set_waveform(dist, 0, ok, 3));
	expect_error(ax_disturbance_set_waveform(dist, 1, ok, 2), AX_EINVAL, "all channels", NULL);
	expect_error(ax_disturbance_set_period_us(dist, 25), AX_ERANGE, "below", NULL);
	ax_disturbance_unref(dist);
	ax_drive_unref(d);
}

/* ---- bad input -------------------------------------------------------------- */

static void test_scope__bad_input(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, 0), *bare = NULL;
	ax_drive_options nodict = AX_DRIVE_OPTIONS_INIT;
	ax_scope *s = new_scope(d), *none = (ax_scope *)0x1;
	ax_ctx *other;

	/* Nothing to capture yet. */
	expect_error(ax_scope_arm(s), AX_EINVAL, "no channels", NULL);
	expect_error(ax_scope_wait(s, 100, NULL), AX_EINVAL, "not armed", NULL);
	assert_int_equal(ax_scope_sample_count(s), 0);
	assert_null(ax_scope_time(s));

	/* Registers that cannot be sampled. */
	expect_error(ax_scope_add_channel(s, "DRV_ID_SOFTWARE_VERSION", 1), AX_EUNSUPPORTED,
	             "DRV_ID_SOFTWARE_VERSION", "str", NULL);
	expect_error(ax_scope_add_channel(s, "PROF_MAX_VEL", 1), AX_EUNSUPPORTED, "PROF_MAX_VEL",
	             NULL);
	expect_error(ax_scope_add_channel(s, "NO_SUCH_REGISTER", 1), AX_ENOTFOUND,
	             "NO_SUCH_REGISTER", NULL);
	assert_int_equal(ax_scope_channel_count(s), 0);

	/* Too many channels: the limit is named. */
	for (int i = 0; i < MAX_CH; i++)
		assert_int_equal(ax_scope_add_channel(s, "CL_POS_FBK_VALUE", 1), i);
	expect_error(ax_scope_add_channel(s, "CL_VEL_FBK_VALUE", 1), AX_ERANGE, "at most 16",
	             "CL_VEL_FBK_VALUE", NULL);
	assert_int_equal(ax_scope_channel_count(s), MAX_CH);
	ax_scope_clear_channels(s);
	assert_int_equal(ax_scope_channel_count(s), 0);

	/* Periods: a multiple of the base, not below it. */
	expect_error(ax_scope_set_period_us(s, 10), AX_ERANGE, "below", "50 us", NULL);
	expect_error(ax_scope_set_period_us(s, 75), AX_ERANGE, "not a multiple", "50 us", "100 us",
	             NULL);
	expect_error(ax_scope_set_period_us(s, -50), AX_ERANGE, NULL);
	expect_error(ax_scope_set_period_us(s, NAN), AX_ERANGE, NULL);
	assert_true(ax_scope_period_us(s) == BASE_US); /* untouched */
	OK(ax_scope_set_period_us(s, 150));
	assert_true(fabs(ax_scope_period_us(s) - 150.0) < 1e-9);

	/* Samples and triggers. */
	expect_error(ax_scope_set_samples(s, 0, 0), AX_ERANGE, NULL);
	expect_error(ax_scope_set_samples(s, 100, 100), AX_ERANGE, "pre-trigger", NULL);
	assert_int_equal(ax_scope_add_channel(s, "DRV_STATE_STATUS", 1), 0);
	expect_error(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_RISING, 3, 1.0), AX_EINVAL,
	             "channel 3", NULL);
	expect_error(ax_scope_set_trigger(s, 9, 0, 1.0), AX_EINVAL, "trigger 9", NULL);
	expect_error(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_RISING, 0, -1.0), AX_ERANGE,
	             "DRV_STATE_STATUS", NULL);
	expect_error(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_RISING, 0, 0.5), AX_ERANGE, NULL);

	/* A window the drive's buffer cannot hold (16384 bytes of 2-byte samples). */
	OK(ax_scope_set_samples(s, 9000, 0));
	expect_error(ax_scope_arm(s), AX_ERANGE, "16384", "at most 8192", NULL);

	/* Misuse, and a drive without a dictionary (another context: not the same drive). */
	expect_error(ax_scope_new(NULL, d), AX_EINVAL, NULL);
	nodict.flags = AX_DRIVE_NO_DICT;
	other = new_ctx();
	OK(ax_drive_open(&bare, other, simproc_uri(f->sim, 0), &nodict));
	expect_error(ax_scope_new(&none, bare), AX_EUNSUPPORTED, "no dictionary", NULL);
	assert_ptr_equal(none, (ax_scope *)0x1); /* untouched */
	assert_null(ax_scope_unref(NULL));
	ax_drive_unref(bare);
	ax_ctx_unref(other);
	ax_scope_unref(s);
	ax_drive_unref(d);
}

/* ---- waiting -------------------------------------------------------------------- */

struct canceller {
	ax_cancel *cancel;
	int delay_ms;
};

static void *cancel_later(void *arg)
{
	struct canceller *c = arg;
	struct timespec ts = {0, (long)c->delay_ms * 1000000L};

	nanosleep(&ts, NULL);
	ax_cancel_trigger(c->cancel);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A trigger that never comes: the wait ends at its deadline saying so, and
 * a cancel from another thread ends it within one request timeout.
 */
static void test_scope__cancel_and_timeout(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, 1);
	ax_scope *s = new_scope(d);
	struct canceller c = {NULL, 200};
	pthread_t th;
	double t0, took;
	int64_t status = 0;

	OK(ax_link_set_timeout(ax_drive_link(d), 500));
	OK(ax_cancel_new(&c.cancel));
	assert_int_equal(ax_scope_add_channel(s, "DRV_STATE_STATUS", 1), 0);
	OK(ax_scope_set_trigger(s, AX_SCOPE_TRIGGER_RISING, 0, 65535)); /* never */
	OK(ax_scope_set_samples(s, 100, 0));
	OK(ax_scope_arm(s));

	t0 = now_s();
	expect_error(ax_scope_wait(s, 300, NULL), AX_ETIMEDOUT, "trigger never came", NULL);
	took = now_s() - t0;
	/* Its own 300 ms, and then no more than about a request (500 ms) on a slow machine. */
	if (took < 0.29 || took > 0.3 + 0.5 + (double)test_ms(500) / 1e3)
		fail_msg("a 300 ms wait took %.3f s", took);

	assert_int_equal(pthread_create(&th, NULL, cancel_later, &c), 0);
	t0 = now_s();
	expect_error(ax_scope_wait(s, 0, c.cancel), AX_ECANCELED, "cancelled", NULL);
	took = now_s() - t0;
	assert_int_equal(pthread_join(th, NULL), 0);
	/* (A wait of 0 waits forever: ending at all is the cancel's doing.) */
	if (took < 0.19 || took > 0.2 + 0.5 + (double)test_ms(500) / 1e3)
		fail_msg("the cancel took %.3f s to end the wait", took);

	/* Disabling leaves the drive's monitoring off. */
	OK(ax_scope_disable(s));
	OK(ax_drive_read_i64(d, "MON_DIST_STATUS", 0, &status));
	assert_int_equal(status & 1, 0);
	ax_cancel_unref(c.cancel);
	ax_scope_unref(s);
	ax_drive_unref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_scope__move_derivative_matches_velocity),
	        cmocka_unit_test(test_scope__trapezoid_profile),
	        cmocka_unit_test(test_scope__trigger_starts_at_crossing),
	        cmocka_unit_test(test_scope__pre_trigger_samples),
	        cmocka_unit_test(test_scope__disturbance_round_trip),
	        cmocka_unit_test(test_scope__disturbance_bad_input),
	        cmocka_unit_test(test_scope__bad_input),
	        cmocka_unit_test(test_scope__cancel_and_timeout),
	};

	return cmocka_run_group_tests_name("scope", tests, group_up, group_down);
}
