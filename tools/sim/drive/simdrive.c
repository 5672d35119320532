/* SPDX-License-Identifier: MIT */
/*
 * The simulated MCB drive behind the `virtual` transport and the simulator.
 *
 * A model's register space is its dictionary in devices/: gen_simmodels
 * turns each one into a table (simmodels.h) at build time, with every
 * register's subnode, address, type, access, size and default. A drive keeps
 * its values in one byte blob laid out by that table, little-endian as on
 * the wire, so a read is a copy. The registers the drive gives a meaning to
 * (SIMMODEL_BEHAVIOUR: control word, operation mode, set points, store and
 * restore, identity) get a hook after the generic checks. Requests arrive as
 * frames and leave as frames built with the codec the creator hands in, so
 * the simulator never disagrees with the library about framing or CRC.
 *
 * Motion advances in fixed steps of SIMDRIVE_STEP_NS whatever the request
 * rate, so a run depends only on the times the ticks give, not on how often
 * they come: tests with a fake clock get exact, repeatable trajectories.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axlink/error.h"
#include "axlink/value.h"
#include "simdrive.h"
#include "simmodels.h"
#include "simmon.h"

/* Addresses of the registers the drive gives a meaning to: REG_CONTROL, ... */
enum {
#define SIM_REG_ADDRESS(name, where, address, dtype, required) REG_##name = address,
	SIMMODEL_BEHAVIOUR(SIM_REG_ADDRESS)
#undef SIM_REG_ADDRESS
};

/*
 * Registers the motion also uses (devices/gen_xdf.py). The generator does not
 * vouch for them, so each counts only where the dictionary gives it the type
 * below (see opt_get()); elsewhere its default applies.
 */
#define REG_MAX_ACC 0x026         /* float rev/s^2 */
#define REG_MAX_DEC 0x027         /* float rev/s^2 */
#define REG_QUICK_STOP_DEC 0x028  /* float rev/s^2 */
#define REG_POS_WINDOW 0x02A      /* u32 cnt */
#define REG_POS_WINDOW_TIME 0x02B /* u16 ms */
#define REG_POS_REF 0x032         /* s32 cnt: position demand */
#define REG_VEL_REF 0x033         /* float rev/s: velocity demand */
#define REG_POS_MIN 0x4B0         /* s32 cnt: software limits */
#define REG_POS_MAX 0x4B1
#define REG_VEL_LIMIT 0x4B2        /* float rev/s */
#define REG_HOM_MODE 0x450         /* u16 method */
#define REG_HOM_OFFSET 0x451       /* s32 cnt */
#define REG_HOM_SPEED 0x452        /* float rev/s */
#define REG_HOM_SPEED_ZERO 0x453   /* float rev/s */
#define REG_HOM_ACC 0x454          /* float rev/s^2 */
#define REG_HOM_TIMEOUT 0x455      /* u32 ms */
#define REG_SIM_FAULT_INJECT 0x7E0 /* u32: the test hooks, see simdrive.h */
#define REG_SIM_FAULT_ARM 0x7E1    /* u32 */
#define REG_SIM_FREEZE 0x7E2       /* u16 */
#define REG_SIM_HOME_SWITCH 0x7E3  /* s32 cnt */
#define REG_SIM_POS_LIMIT 0x7E4    /* s32 cnt */
#define REG_SIM_NEG_LIMIT 0x7E5    /* s32 cnt */

/* Entries the simulated error list keeps (the dictionaries' DRV_DIAG_ERROR_LIST_IDX range). */
#define SIM_ERROR_LIST_MAX 32

/* Signatures of store all ("save") and restore all ("load"), as ASCII in a u32. */
#define SIG_STORE 0x65766173u
#define SIG_RESTORE 0x64616F6Cu
/* CiA 301 answer to a store/restore without the right signature. */
#define CODE_NOT_STORED 0x08000020u

/* CiA 402 states the simulation visits ("not ready to switch on" passes at power-on). */
enum axis_state {
	ST_SWITCH_ON_DISABLED,
	ST_READY,
	ST_SWITCHED_ON,
	ST_OP_ENABLED,
	ST_QUICK_STOP,
	ST_FAULT_REACTION,
	ST_FAULT,
};

/*
 * Status word of each state: DESIGN §7 bits, with bit 4 (voltage enabled)
 * set because the simulated bus is always powered. Bit 5 (quick stop) is
 * active low, so it is clear only in quick stop active and the fault states.
 */
static const uint16_t state_status[] = {
        [ST_SWITCH_ON_DISABLED] = 0x0050,
        [ST_READY] = 0x0031,
        [ST_SWITCHED_ON] = 0x0033,
        [ST_OP_ENABLED] = 0x0037,
        [ST_QUICK_STOP] = 0x0017,
        [ST_FAULT_REACTION] = 0x001F,
        [ST_FAULT] = 0x0018,
};

#define SW_TARGET_REACHED 0x0400u
#define SW_INTERNAL_LIMIT 0x0800u
#define SW_SET_POINT_ACK 0x1000u /* profile position; homing attained in homing */
#define SW_HOMING_ERROR 0x2000u
#define CW_NEW_SET_POINT 0x0010u /* also starts homing */
#define CW_RELATIVE 0x0040u
#define CW_FAULT_RESET 0x0080u
#define CW_HALT 0x0100u
#define CW_TARGET_LATCH 0x0200u

/* Operation modes (DESIGN §7). */
#define MODE_CURRENT 0x02
#define MODE_VELOCITY 0x03
#define MODE_POSITION 0x04
#define MODE_TORQUE 0x05
#define MODE_PROFILE_VELOCITY 0x13
#define MODE_PROFILE_POSITION 0x14
#define MODE_CYCLIC_POSITION 0x24
#define MODE_HOMING 0x113

/*
 * An acceleration the profile treats as a step (no ramp), for a limit of 0 or
 * nonsense; large but finite, so no inf - inf appears in the arithmetic.
 */
#define ACC_INSTANT 1e12

enum homing {
	HOM_IDLE,   /* not started, or interrupted */
	HOM_SEARCH, /* running toward the switch, limit, stop or index */
	HOM_INDEX,  /* methods 5 and 6: back from the limit to the next index pulse */
	HOM_RETURN, /* home found: moving onto it ("attained, target not reached") */
	HOM_DONE,
	HOM_FAILED,
};

struct sim_axis {
	enum axis_state state;
	uint16_t last_control; /* for the edges of bits 4, 7 and 9 */
	double pos;            /* actual position in counts, with the fraction the register drops */
	double vel;            /* counts/s */
	double prev_pos; /* pos and vel when the present step began (monitoring interpolates) */
	double prev_vel;
	double origin;      /* world position of position 0; homing moves it */
	double target;      /* where the position modes go, counts */
	int moving;         /* a position profile is under way */
	uint64_t window_ns; /* time inside the position window since the profile ended */
	int at_target;      /* status bit 10 */
	int limited;        /* status bit 11: the target was clamped to a software limit */
	int sp_ack;         /* status bit 12 in profile position */
	enum homing hom;
	int hom_method;
	int hom_dir;      /* +1 or -1 */
	double hom_event; /* world position of what the search looks for */
	uint64_t hom_ns;  /* time spent homing */
};

struct simdrive {
	pthread_mutex_t lock; /* guards everything below */
	simdrive_codec codec;
	const simdrive_model *model;
	const simmodel_table *table; /* the model's register space */
	uint64_t last_ns;            /* time of the last step */
	int have_time;               /* last_ns is valid */
	struct sim_axis *axes;       /* model->axes entries, axis n at [n - 1] */
	uint8_t *store;              /* table->store_size bytes, each register at its offset */
	/* A fault scheduled by simdrive_fault_at(). */
	int fault_due;
	uint64_t fault_at_ns;
	unsigned fault_axis;
	uint32_t fault_code;
	unsigned quirks; /* SIMDRIVE_QUIRK_* bits */
	/* Non-volatile memory: what a store kept, laid out as store (stored registers only). */
	uint8_t *nvm;
	char *state_dir;           /* simdrive_set_state_dir(), or NULL: nvm lives in memory */
	uint32_t serial;           /* names the file in state_dir */
	int store_busy;            /* SIMDRIVE_QUIRK_SLOW_STORE: a store under way ... */
	unsigned store_busy_sub;   /* ... on this subnode ... */
	uint64_t store_busy_until; /* ... until this drive time */
	/* The error list (DRV_DIAG_ERROR_LIST): codes newest first; a fault reset keeps it. */
	uint32_t err_list[SIM_ERROR_LIST_MAX];
	unsigned err_n;     /* entries in err_list */
	unsigned err_total; /* errors since power-on (DRV_DIAG_ERROR_TOTAL_COM) */
	simmon *mon;        /* monitoring and disturbance (simmon.c) */
	uint64_t mon_still; /* steps run for it with every axis idle, since the last write */
};

const simdrive_model *simdrive_models(void)
{
	return simmodel_models;
}

static int name_equal_nocase(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;

		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return 0;
		if (!ca)
			return 1;
	}
}

const simdrive_model *simdrive_model_find(const char *name)
{
	if (!name)
		return NULL;
	for (const simdrive_model *m = simmodel_models; m->name; m++)
		if (name_equal_nocase(m->name, name))
			return m;
	return NULL;
}

/* ---- values ------------------------------------------------------------ */

static int reg_is_numeric(const simmodel_reg *r)
{
	return r->dtype != AX_DTYPE_STR && r->dtype != AX_DTYPE_BYTES;
}

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

static uint32_t float_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static float bits_float(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* The register at (@subnode, @address), or NULL: a binary search of the sorted table. */
static const simmodel_reg *reg_lookup(const simdrive *d, unsigned subnode, unsigned address)
{
	const simmodel_reg *regs = d->table->regs;
	size_t lo = 0, hi = d->table->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (regs[mid].subnode < subnode ||
		    (regs[mid].subnode == subnode && regs[mid].address < address))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < d->table->count && regs[lo].subnode == subnode && regs[lo].address == address)
		return &regs[lo];
	return NULL;
}

static uint8_t *reg_slot(simdrive *d, const simmodel_reg *r)
{
	return d->store + r->offset;
}

static void reg_reset(simdrive *d, const simmodel_reg *r)
{
	uint8_t *p = reg_slot(d, r);

	memset(p, 0, r->size);
	if (r->def_len)
		memcpy(p, r->def, r->def_len);
}

/*
 * Raw value of a behaviour register. The generator vouched for the type of
 * those the dictionary has; an optional one it lacks reads 0 and ignores writes.
 */
static uint64_t num_get(simdrive *d, unsigned subnode, unsigned address)
{
	const simmodel_reg *r = reg_lookup(d, subnode, address);

	return r ? le_get(reg_slot(d, r), r->size) : 0;
}

static void num_set(simdrive *d, unsigned subnode, unsigned address, uint64_t v)
{
	const simmodel_reg *r = reg_lookup(d, subnode, address);

	if (r)
		le_put(reg_slot(d, r), r->size, v);
}

/* Set @address on every subnode that has it (identity registers). */
static void num_set_everywhere(simdrive *d, unsigned address, uint64_t v)
{
	for (size_t i = 0; i < d->table->count; i++) {
		const simmodel_reg *r = &d->table->regs[i];

		if (r->address == address && reg_is_numeric(r))
			le_put(reg_slot(d, r), r->size, v);
	}
}

static float flt_get(simdrive *d, unsigned subnode, unsigned address)
{
	return bits_float((uint32_t)num_get(d, subnode, address));
}

static void flt_set(simdrive *d, unsigned subnode, unsigned address, float f)
{
	num_set(d, subnode, address, float_bits(f));
}

/*
 * A register outside SIMMODEL_BEHAVIOUR, as a double: its value when the
 * dictionary has it with type @dtype, else @def (a model without software
 * limits has none, and a dictionary of another vendor might type it otherwise).
 */
static double opt_get(simdrive *d, unsigned n, unsigned address, int dtype, double def)
{
	const simmodel_reg *r = reg_lookup(d, n, address);
	uint64_t raw;

	if (!r || r->dtype != dtype)
		return def;
	raw = le_get(reg_slot(d, r), r->size);
	switch (dtype) {
	case AX_DTYPE_FLOAT: {
		double f = bits_float((uint32_t)raw);

		return isfinite(f) ? f : def;
	}
	case AX_DTYPE_S32:
		return (int32_t)(uint32_t)raw;
	default:
		return (double)raw;
	}
}

static void opt_set(simdrive *d, unsigned n, unsigned address, int dtype, uint64_t raw)
{
	const simmodel_reg *r = reg_lookup(d, n, address);

	if (r && r->dtype == dtype)
		le_put(reg_slot(d, r), r->size, raw);
}

/* ---- CiA 402 and motion ------------------------------------------------ */

static int mode_is_profile_position(unsigned mode)
{
	return mode == MODE_PROFILE_POSITION;
}

/* Position modes without a profiler: the set point is followed as written. */
static int mode_is_follow_position(unsigned mode)
{
	return mode == MODE_POSITION || mode == MODE_CYCLIC_POSITION;
}

static int mode_is_valid(unsigned mode)
{
	static const uint16_t modes[] = {0x00, 0x02, 0x03, 0x13, 0x04, 0x14, 0x24, 0x113, 0x05};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (modes[i] == mode)
			return 1;
	return 0;
}

/* Round to the nearest count, saturating at the s32 range of the registers. */
static int32_t counts_of(double pos)
{
	if (!(pos >= -2147483648.0))
		return pos != pos ? 0 : INT32_MIN;
	if (pos >= 2147483647.0)
		return INT32_MAX;
	return (int32_t)(pos < 0 ? pos - 0.5 : pos + 0.5);
}

static unsigned axis_mode(simdrive *d, unsigned n)
{
	return (unsigned)num_get(d, n, REG_OP_VALUE);
}

/* The profile limits of axis @n, in counts: what every step needs. */
struct limits {
	double res;              /* counts per revolution; 0 stops all motion */
	double vmax;             /* counts/s */
	double acc, dec, qs_dec; /* counts/s^2 */
};

/* A rate limit in rev/s or rev/s^2 as counts: 0 or nonsense means no limit. */
static double rate_of(double rev, double res, double none)
{
	if (!(rev > 0.0) || rev > 1e9)
		return none;
	return rev * res;
}

static void axis_limits(simdrive *d, unsigned n, struct limits *l)
{
	double vmax = flt_get(d, n, REG_MAX_VEL);
	double vlim = opt_get(d, n, REG_VEL_LIMIT, AX_DTYPE_FLOAT, 0.0);

	l->res = (double)(uint32_t)num_get(d, n, REG_ENC_RESOLUTION);
	/* Written floats may be anything: NaN, infinite, negative. */
	if (!(vmax > 0.0 && vmax < 1e6))
		vmax = 0.0;
	if (vlim > 0.0 && vlim < vmax)
		vmax = vlim;
	l->vmax = vmax * l->res;
	l->acc = rate_of(opt_get(d, n, REG_MAX_ACC, AX_DTYPE_FLOAT, 0.0), l->res, ACC_INSTANT);
	l->dec = rate_of(opt_get(d, n, REG_MAX_DEC, AX_DTYPE_FLOAT, 0.0), l->res, ACC_INSTANT);
	l->qs_dec = rate_of(opt_get(d, n, REG_QUICK_STOP_DEC, AX_DTYPE_FLOAT, 0.0), l->res,
	                    ACC_INSTANT);
}

/* Keep the position where an s32 register can count it; a stop there is a hard stop. */
static void axis_clamp(struct sim_axis *a)
{
	if (a->pos > 2147483647.0 || a->pos < -2147483648.0) {
		a->pos = counts_of(a->pos);
		a->vel = 0.0;
	}
}

/*
 * Change the velocity toward @want by at most @acc (speeding up) or @dec,
 * then move by the step's mean velocity: exact under constant acceleration.
 */
static void ramp_velocity(struct sim_axis *a, double want, double acc, double dec, double dt)
{
	int speeding_up =
	        fabs(want) > fabs(a->vel) && (a->vel == 0.0 || (a->vel > 0) == (want > 0));
	double dv = (speeding_up ? acc : dec) * dt, v0 = a->vel;

	if (fabs(want - a->vel) <= dv)
		a->vel = want;
	else
		a->vel += want > a->vel ? dv : -dv;
	a->pos += (v0 + a->vel) / 2.0 * dt;
	axis_clamp(a);
}

/*
 * One step of a trapezoidal move to @target: speed up at @acc to @vmax,
 * brake at @dec so as to stop on the target. The speed never exceeds what
 * still allows a stop at the target (sqrt(2 dec d)); when a new target is
 * too close to stop for, the axis brakes, overshoots and comes back.
 * Returns 1 once the axis stands on the target.
 */
static int profile_step(struct sim_axis *a, double target, double vmax, double acc, double dec,
                        double dt)
{
	double diff = target - a->pos, dist = fabs(diff);
	double dir = diff > 0 ? 1.0 : diff < 0 ? -1.0 : (a->vel > 0 ? -1.0 : 1.0);
	double u = a->vel * dir; /* speed toward the target; negative: moving away */
	double stop = sqrt(2.0 * dec * dist);

	if (dist == 0.0 && a->vel == 0.0)
		return 1;
	if (u < 0.0) {
		u = fmin(u + dec * dt, 0.0);
	} else if (u > stop + dec * dt) {
		u -= dec * dt;
	} else {
		double next = u > vmax ? fmax(vmax, u - dec * dt) : fmin(vmax, u + acc * dt);

		u = fmin(next, stop);
	}
	if (u >= 0.0 && u * dt >= dist) {
		a->pos = target;
		a->vel = 0.0;
		return 1;
	}
	a->vel = u * dir;
	a->pos += a->vel * dt;
	axis_clamp(a);
	return 0;
}

/* Target reached in the position modes: inside the window for the window time. */
static void axis_window(simdrive *d, unsigned n, uint64_t dt_ns)
{
	struct sim_axis *a = &d->axes[n - 1];
	double window = opt_get(d, n, REG_POS_WINDOW, AX_DTYPE_U32, 0.0);
	double time_ms = opt_get(d, n, REG_POS_WINDOW_TIME, AX_DTYPE_U16, 0.0);

	if (a->moving || fabs(a->pos - a->target) > window) {
		a->window_ns = 0;
		a->at_target = 0;
		return;
	}
	if (a->window_ns < UINT64_MAX - dt_ns)
		a->window_ns += dt_ns;
	a->at_target = (double)a->window_ns >= time_ms * 1e6;
}

/* A position target within the software limits; bit 11 says when it was cut. */
static double axis_limit_target(simdrive *d, unsigned n, double t)
{
	struct sim_axis *a = &d->axes[n - 1];
	double lo = opt_get(d, n, REG_POS_MIN, AX_DTYPE_S32, -2147483648.0);
	double hi = opt_get(d, n, REG_POS_MAX, AX_DTYPE_S32, 2147483647.0);

	a->limited = 0;
	if (lo <= hi && (t < lo || t > hi)) {
		a->limited = 1;
		t = t < lo ? lo : hi;
	}
	if (t < -2147483648.0 || t > 2147483647.0) {
		a->limited = 1;
		t = counts_of(t);
	}
	return t;
}

/* A velocity set point in counts/s within +-vmax. */
static double axis_velocity_demand(simdrive *d, unsigned n, const struct limits *l)
{
	double v = flt_get(d, n, REG_VEL_SP) * l->res;

	if (v != v)
		return 0.0;
	return v > l->vmax ? l->vmax : v < -l->vmax ? -l->vmax : v;
}

static void axis_publish(simdrive *d, unsigned n)
{
	const struct sim_axis *a = &d->axes[n - 1];
	uint16_t sw = state_status[a->state];
	unsigned mode = axis_mode(d, n);

	if (a->state == ST_OP_ENABLED || a->state == ST_QUICK_STOP) {
		if (a->at_target)
			sw |= SW_TARGET_REACHED;
		if (a->limited)
			sw |= SW_INTERNAL_LIMIT;
	}
	if (a->state == ST_OP_ENABLED && mode_is_profile_position(mode) && a->sp_ack)
		sw |= SW_SET_POINT_ACK;
	if (a->state == ST_OP_ENABLED && mode == MODE_HOMING) {
		if (a->hom == HOM_RETURN || a->hom == HOM_DONE)
			sw |= SW_SET_POINT_ACK;
		if (a->hom == HOM_FAILED)
			sw |= SW_HOMING_ERROR;
	}
	/* A frozen status word is how a test makes a drive that never confirms. */
	if (opt_get(d, n, REG_SIM_FREEZE, AX_DTYPE_U16, 0.0) == 0.0)
		num_set(d, n, REG_STATUS, sw);
	num_set(d, n, REG_POS_FBK, (uint32_t)counts_of(a->pos));
	opt_set(d, n, REG_POS_REF, AX_DTYPE_S32, (uint32_t)counts_of(a->pos));
}

/* Feedback registers after a step. */
static void axis_feedback(simdrive *d, unsigned n, const struct limits *l)
{
	const struct sim_axis *a = &d->axes[n - 1];
	float v = l->res > 0.0 ? (float)(a->vel / l->res) : 0.0f;

	flt_set(d, n, REG_VEL_FBK, v);
	opt_set(d, n, REG_VEL_REF, AX_DTYPE_FLOAT, float_bits(v));
	axis_publish(d, n);
}

/*
 * Take the present position as the set point and stand still, so that
 * enabling the axis or changing its mode never sends it racing to a stale target.
 */
static void axis_hold(simdrive *d, unsigned n)
{
	struct sim_axis *a = &d->axes[n - 1];

	a->vel = 0.0;
	a->target = counts_of(a->pos);
	a->moving = 0;
	a->limited = 0;
	a->sp_ack = 0;
	a->hom = HOM_IDLE;
	a->window_ns = UINT64_MAX / 2; /* already settled */
	a->at_target = 1;
	num_set(d, n, REG_POS_SP, (uint32_t)counts_of(a->pos));
	flt_set(d, n, REG_VEL_FBK, 0.0f);
	axis_publish(d, n);
}

static void axis_enter(simdrive *d, unsigned n, enum axis_state next)
{
	struct sim_axis *a = &d->axes[n - 1];

	if (a->state == next)
		return;
	a->state = next;
	a->moving = 0;
	a->sp_ack = 0;
	a->hom = HOM_IDLE;
	if (next == ST_OP_ENABLED) {
		axis_hold(d, n);
		return;
	}
	/* Quick stop and fault reaction brake along a ramp; the other states stop dead. */
	if (next != ST_QUICK_STOP && next != ST_FAULT_REACTION) {
		a->vel = 0.0;
		flt_set(d, n, REG_VEL_FBK, 0.0f);
		flt_set(d, n, REG_CUR_Q_FBK, 0.0f);
	}
	a->at_target = a->vel == 0.0;
	axis_publish(d, n);
}

/* The register @id on @subnode, or NULL: the error list's, found by dictionary id. */
static const simmodel_reg *reg_by_id(const simdrive *d, unsigned subnode, const char *id)
{
	for (size_t i = 0; i < d->table->count; i++) {
		const simmodel_reg *r = &d->table->regs[i];

		if (r->subnode == subnode && reg_is_numeric(r) && strcmp(r->id, id) == 0)
			return r;
	}
	return NULL;
}

/* DRV_DIAG_ERROR_LIST_CODE shows the entry DRV_DIAG_ERROR_LIST_IDX selects (0: newest). */
static void error_list_publish(simdrive *d)
{
	const simmodel_reg *idx = reg_by_id(d, 0, "DRV_DIAG_ERROR_LIST_IDX");
	const simmodel_reg *code = reg_by_id(d, 0, "DRV_DIAG_ERROR_LIST_CODE");
	const simmodel_reg *total = reg_by_id(d, 0, "DRV_DIAG_ERROR_TOTAL_COM");
	uint64_t i = idx ? le_get(reg_slot(d, idx), idx->size) : 0;

	if (code)
		le_put(reg_slot(d, code), code->size, i < d->err_n ? d->err_list[i] : 0);
	if (total)
		le_put(reg_slot(d, total), total->size, d->err_total);
}

/* Record error @code of axis @n in the error list and the axis's count. */
static void error_list_push(simdrive *d, unsigned n, uint32_t code)
{
	const simmodel_reg *axis_total = reg_by_id(d, n, "DRV_DIAG_ERROR_TOTAL");

	if (d->err_n < SIM_ERROR_LIST_MAX)
		d->err_n++;
	memmove(&d->err_list[1], &d->err_list[0], (d->err_n - 1) * sizeof(d->err_list[0]));
	d->err_list[0] = code;
	if (d->err_total < 0xFFFFu)
		d->err_total++;
	if (axis_total) {
		uint64_t v = le_get(reg_slot(d, axis_total), axis_total->size);

		if (v < 0xFFFFu)
			le_put(reg_slot(d, axis_total), axis_total->size, v + 1);
	}
	error_list_publish(d);
}

/* A fault: moving axes brake first (fault reaction active), standing ones fault at once. */
static void axis_fault(simdrive *d, unsigned n, uint32_t code)
{
	struct sim_axis *a = &d->axes[n - 1];

	d->mon_still = 0; /* the status word changes: a capture samples it */
	num_set(d, n, REG_DIAG_ERROR_LAST, code);
	if (code)
		error_list_push(d, n, code);
	if ((a->state == ST_OP_ENABLED || a->state == ST_QUICK_STOP) && a->vel != 0.0)
		axis_enter(d, n, ST_FAULT_REACTION);
	else if (a->state != ST_FAULT_REACTION)
		axis_enter(d, n, ST_FAULT);
}

/* The CiA 402 state a control word leads to from @s, on a drive with @quirks. */
static enum axis_state control_next(enum axis_state s, uint16_t cw, uint16_t prev, unsigned quirks)
{
	if (s == ST_FAULT)
		return (cw & CW_FAULT_RESET) && !(prev & CW_FAULT_RESET) ? ST_SWITCH_ON_DISABLED
		                                                         : ST_FAULT;
	if (s == ST_FAULT_REACTION || (cw & CW_FAULT_RESET))
		return s; /* a fault reset outside fault changes nothing */
	if (!(cw & 0x02)) /* disable voltage */
		return ST_SWITCH_ON_DISABLED;
	if (!(cw & 0x04)) { /* quick stop */
		if (s == ST_OP_ENABLED)
			return ST_QUICK_STOP;
		if (s == ST_READY || s == ST_SWITCHED_ON)
			return ST_SWITCH_ON_DISABLED;
		return s;
	}
	if (!(cw & 0x01)) { /* shutdown */
		if (s == ST_SWITCH_ON_DISABLED || s == ST_SWITCHED_ON || s == ST_OP_ENABLED)
			return ST_READY;
		return s;
	}
	if (!(cw & 0x08)) { /* switch on, or disable operation */
		if (s == ST_READY && (quirks & SIMDRIVE_QUIRK_SKIP_SWITCHED_ON))
			return s; /* such a drive switches on only together with enable */
		if (s == ST_READY || s == ST_OP_ENABLED)
			return ST_SWITCHED_ON;
		return s;
	}
	/* enable operation; from ready it is switch on + enable at once */
	if (s == ST_READY || s == ST_SWITCHED_ON || s == ST_QUICK_STOP)
		return ST_OP_ENABLED;
	return s;
}

/* Where homing looks: the next index pulse from world position @w in direction @dir. */
static double next_index(double w, int dir, double res)
{
	double k = dir > 0 ? floor(w / res) + 1.0 : ceil(w / res) - 1.0;

	return k * res;
}

/* Homing error (status bit 13): the axis brakes and stays enabled, as CiA 402 has it. */
static void homing_fail(simdrive *d, unsigned n)
{
	struct sim_axis *a = &d->axes[n - 1];

	a->hom = HOM_FAILED;
	a->moving = 0;
}

/* Home found at world position @event: it becomes HOM_OFFSET, and the axis returns onto it. */
static void homing_found(simdrive *d, unsigned n, double event)
{
	struct sim_axis *a = &d->axes[n - 1];
	double world = a->pos + a->origin;
	double offset = opt_get(d, n, REG_HOM_OFFSET, AX_DTYPE_S32, 0.0);

	a->origin = event - offset;
	a->pos = world - a->origin;
	a->target = offset;
	a->hom = HOM_RETURN;
	a->moving = 1;
}

/* Rising edge of bit 4 in homing mode: start the method HOM_MODE names. */
static void homing_start(simdrive *d, unsigned n)
{
	struct sim_axis *a = &d->axes[n - 1];
	int method = (int)opt_get(d, n, REG_HOM_MODE, AX_DTYPE_U16, 0.0);
	double res = (double)(uint32_t)num_get(d, n, REG_ENC_RESOLUTION);
	double world = a->pos + a->origin;

	a->hom_method = method;
	a->hom_ns = 0;
	a->at_target = 0;
	a->hom_dir = method % 2 ? 1 : -1; /* odd methods search in the positive direction */
	switch (method) {
	case 0: /* the present position is home */
		homing_found(d, n, world);
		a->target = a->pos;
		a->moving = 0;
		a->hom = HOM_DONE;
		a->at_target = 1;
		return;
	case 1:
	case 2:
		a->hom_event = opt_get(d, n, REG_SIM_HOME_SWITCH, AX_DTYPE_S32, 0.0);
		break;
	case 3:
	case 5:
	case 9:
		a->hom_event = opt_get(d, n, REG_SIM_POS_LIMIT, AX_DTYPE_S32, 2147483647.0);
		break;
	case 4:
	case 6:
	case 10:
		a->hom_event = opt_get(d, n, REG_SIM_NEG_LIMIT, AX_DTYPE_S32, -2147483648.0);
		break;
	case 7:
	case 8:
		if (!(res > 0.0)) {
			homing_fail(d, n);
			return;
		}
		a->hom_event = next_index(world, a->hom_dir, res);
		break;
	default:
		homing_fail(d, n);
		return;
	}
	a->hom = HOM_SEARCH;
}

/* Did the step from world @w0 to @w1, heading @dir, reach @e? */
static int crossed(double w0, double w1, int dir, double e)
{
	return dir > 0 ? w0 < e && w1 >= e : w0 > e && w1 <= e;
}

static void homing_step(simdrive *d, unsigned n, const struct limits *l, double dt)
{
	struct sim_axis *a = &d->axes[n - 1];
	double speed = rate_of(opt_get(d, n, REG_HOM_SPEED, AX_DTYPE_FLOAT, 1.0), l->res, 0.0);
	double zero = rate_of(opt_get(d, n, REG_HOM_SPEED_ZERO, AX_DTYPE_FLOAT, 0.1), l->res, 0.0);
	double acc = rate_of(opt_get(d, n, REG_HOM_ACC, AX_DTYPE_FLOAT, 0.0), l->res, ACC_INSTANT);
	double timeout_ms = opt_get(d, n, REG_HOM_TIMEOUT, AX_DTYPE_U32, 0.0);
	double pos_limit = opt_get(d, n, REG_SIM_POS_LIMIT, AX_DTYPE_S32, 2147483647.0);
	double neg_limit = opt_get(d, n, REG_SIM_NEG_LIMIT, AX_DTYPE_S32, -2147483648.0);
	int m = a->hom_method, index = a->hom == HOM_INDEX || m == 7 || m == 8;
	double w0, w1;

	if (a->hom != HOM_SEARCH && a->hom != HOM_INDEX) {
		if (a->hom == HOM_RETURN &&
		    profile_step(a, a->target, speed > 0.0 ? speed : l->vmax, acc, acc, dt)) {
			a->hom = HOM_DONE;
			a->moving = 0;
		} else if (a->hom != HOM_RETURN) {
			ramp_velocity(a, 0.0, acc, acc, dt);
		}
		a->at_target = (a->hom == HOM_DONE || a->hom == HOM_FAILED || a->hom == HOM_IDLE) &&
		               a->vel == 0.0;
		return;
	}
	a->hom_ns += (uint64_t)(dt * 1e9 + 0.5);
	if (timeout_ms > 0.0 && (double)a->hom_ns > timeout_ms * 1e6) {
		homing_fail(d, n);
		return;
	}
	w0 = a->pos + a->origin;
	ramp_velocity(a, a->hom_dir * (index ? zero : speed), acc, acc, dt);
	w1 = a->pos + a->origin;
	if (crossed(w0, w1, a->hom_dir, a->hom_event)) {
		if (m == 9 || m == 10) { /* a mechanical stop does not let the axis past */
			a->pos = a->hom_event - a->origin;
			a->vel = 0.0;
		}
		if ((m == 5 || m == 6) && a->hom == HOM_SEARCH) {
			a->hom = HOM_INDEX;
			a->hom_dir = -a->hom_dir;
			if (!(l->res > 0.0)) {
				homing_fail(d, n);
				return;
			}
			a->hom_event = next_index(a->hom_event, a->hom_dir, l->res);
			return;
		}
		homing_found(d, n, a->hom_event);
		return;
	}
	/* Searching for a switch or index, a limit switch ends the search. */
	if ((m == 1 || m == 2 || m == 7 || m == 8) &&
	    (crossed(w0, w1, 1, pos_limit) || crossed(w0, w1, -1, neg_limit)))
		homing_fail(d, n);
}

/* One fixed step of axis @n. */
static void axis_step(simdrive *d, unsigned n, double dt, uint64_t dt_ns)
{
	struct sim_axis *a = &d->axes[n - 1];
	unsigned mode = axis_mode(d, n);
	int halt = (a->last_control & CW_HALT) != 0;
	struct limits l;

	axis_limits(d, n, &l);
	switch (a->state) {
	case ST_FAULT_REACTION:
		ramp_velocity(a, 0.0, l.qs_dec, l.qs_dec, dt);
		axis_feedback(d, n, &l);
		if (a->vel == 0.0)
			axis_enter(d, n, ST_FAULT);
		return;
	case ST_QUICK_STOP:
		ramp_velocity(a, 0.0, l.qs_dec, l.qs_dec, dt);
		a->at_target = a->vel == 0.0;
		axis_feedback(d, n, &l);
		return;
	case ST_OP_ENABLED:
		break;
	default:
		return;
	}
	if (!(l.res > 0.0) && mode != MODE_CURRENT && mode != MODE_TORQUE)
		return; /* without a resolution nothing can move */

	if (mode_is_profile_position(mode)) {
		if (halt) {
			ramp_velocity(a, 0.0, l.acc, l.dec, dt);
			a->at_target = a->vel == 0.0;
		} else {
			if (a->moving && profile_step(a, a->target, l.vmax, l.acc, l.dec, dt))
				a->moving = 0;
			axis_window(d, n, dt_ns);
		}
	} else if (mode_is_follow_position(mode)) {
		/* No profiler: straight at the set point at PROF_MAX_VEL, no ramps. */
		double step = l.vmax * dt, diff;

		a->target = axis_limit_target(d, n, (int32_t)(uint32_t)num_get(d, n, REG_POS_SP));
		diff = a->target - a->pos;
		if (diff <= step && diff >= -step) {
			a->pos = a->target;
		} else {
			diff = diff > 0 ? step : -step;
			a->pos += diff;
		}
		a->vel = diff / dt;
		a->moving = a->pos != a->target;
		axis_window(d, n, dt_ns);
	} else if (mode == MODE_PROFILE_VELOCITY) {
		double want = halt ? 0.0 : axis_velocity_demand(d, n, &l);

		ramp_velocity(a, want, l.acc, l.dec, dt);
		a->at_target = a->vel == want;
	} else if (mode == MODE_VELOCITY) {
		a->vel = axis_velocity_demand(d, n, &l);
		a->pos += a->vel * dt;
		axis_clamp(a);
		a->at_target = 1;
	} else if (mode == MODE_HOMING) {
		homing_step(d, n, &l, dt);
	} else {
		a->vel = 0.0;
		if (mode == MODE_CURRENT || mode == MODE_TORQUE)
			flt_set(d, n, REG_CUR_Q_FBK, flt_get(d, n, REG_CUR_Q_SP));
		a->at_target = 1;
	}
	axis_feedback(d, n, &l);
}

/* Would a step of axis @n change nothing but the time? Then steps can be skipped. */
static int axis_idle(simdrive *d, unsigned n)
{
	const struct sim_axis *a = &d->axes[n - 1];
	unsigned mode;
	struct limits l;

	if (a->state == ST_QUICK_STOP)
		return a->vel == 0.0;
	if (a->state != ST_OP_ENABLED)
		return a->state != ST_FAULT_REACTION;
	if (a->vel != 0.0)
		return 0;
	mode = axis_mode(d, n);
	axis_limits(d, n, &l);
	if (!(l.res > 0.0) && mode != MODE_CURRENT && mode != MODE_TORQUE)
		return 1;
	if (mode_is_profile_position(mode) || mode_is_follow_position(mode)) {
		double sp = (int32_t)(uint32_t)num_get(d, n, REG_POS_SP);

		if (a->moving || (mode_is_follow_position(mode) && sp != a->pos))
			return 0;
		/* Settled in the window, or out of it for good. */
		return a->at_target ||
		       fabs(a->pos - a->target) > opt_get(d, n, REG_POS_WINDOW, AX_DTYPE_U32, 0.0);
	}
	if (mode == MODE_PROFILE_VELOCITY || mode == MODE_VELOCITY)
		return ((a->last_control & CW_HALT) && mode == MODE_PROFILE_VELOCITY) ||
		       axis_velocity_demand(d, n, &l) == 0.0;
	if (mode == MODE_HOMING)
		return a->hom == HOM_IDLE || a->hom == HOM_DONE || a->hom == HOM_FAILED;
	if (mode == MODE_CURRENT || mode == MODE_TORQUE)
		return num_get(d, n, REG_CUR_Q_FBK) == num_get(d, n, REG_CUR_Q_SP);
	return 1;
}

static void drive_fire_scheduled(simdrive *d)
{
	if (!d->fault_due || d->fault_at_ns > d->last_ns)
		return;
	d->fault_due = 0;
	for (unsigned n = 1; n <= d->model->axes; n++)
		if (!d->fault_axis || n == d->fault_axis)
			axis_fault(d, n, d->fault_code);
}

void simdrive_tick(simdrive *d, uint64_t now_ns)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if (!d->have_time) {
		d->last_ns = now_ns;
		d->have_time = 1;
	}
	while (now_ns > d->last_ns && now_ns - d->last_ns >= SIMDRIVE_STEP_NS) {
		uint64_t steps = (now_ns - d->last_ns) / SIMDRIVE_STEP_NS;
		int idle = 1, mon = simmon_active(d->mon);

		for (unsigned n = 1; n <= d->model->axes && idle; n++)
			idle = axis_idle(d, n);
		/*
		 * A capture needs every step, unless it only waits for a trigger
		 * that values standing still cannot give: one step after the
		 * last change has given it their values, the rest may go at once.
		 */
		if (mon && idle && (!d->mon_still || !simmon_quiet(d->mon)))
			idle = 0;
		if (idle) {
			/* Skip the quiet stretch at once (up to a scheduled fault). */
			if (d->fault_due && d->fault_at_ns > d->last_ns &&
			    (d->fault_at_ns - d->last_ns) / SIMDRIVE_STEP_NS + 1 < steps)
				steps = (d->fault_at_ns - d->last_ns) / SIMDRIVE_STEP_NS + 1;
			d->last_ns += steps * SIMDRIVE_STEP_NS;
			if (mon)
				simmon_skip(d->mon, steps);
		} else {
			uint64_t t0 = d->last_ns;

			d->mon_still = 1;
			for (unsigned n = 1; n <= d->model->axes && d->mon_still; n++)
				d->mon_still = (uint64_t)axis_idle(d, n);

			d->last_ns += SIMDRIVE_STEP_NS;
			for (unsigned n = 1; n <= d->model->axes; n++) {
				d->axes[n - 1].prev_pos = d->axes[n - 1].pos;
				d->axes[n - 1].prev_vel = d->axes[n - 1].vel;
				axis_step(d, n, SIMDRIVE_STEP_NS / 1e9, SIMDRIVE_STEP_NS);
			}
			simmon_step(d->mon, t0);
		}
		drive_fire_scheduled(d);
	}
	drive_fire_scheduled(d);
	pthread_mutex_unlock(&d->lock);
}

/* The edges of bits 4 and 9 while operation is enabled: new targets, homing start. */
static void axis_set_point(simdrive *d, unsigned n, uint16_t cw, uint16_t prev)
{
	struct sim_axis *a = &d->axes[n - 1];
	unsigned mode = axis_mode(d, n);
	int rise4 = (cw & CW_NEW_SET_POINT) && !(prev & CW_NEW_SET_POINT);
	int rise9 = (cw & CW_TARGET_LATCH) && !(prev & CW_TARGET_LATCH);

	if (mode == MODE_HOMING) {
		if (rise4)
			homing_start(d, n);
		else if (!(cw & CW_NEW_SET_POINT) &&
		         (a->hom == HOM_SEARCH || a->hom == HOM_INDEX || a->hom == HOM_RETURN)) {
			a->hom = HOM_IDLE;            /* bit 4 falling interrupts homing */
			a->at_target = a->vel == 0.0; /* else the braking step says when */
		}
		return;
	}
	if (!mode_is_profile_position(mode))
		return;
	if (rise4 || rise9) {
		double t = (int32_t)(uint32_t)num_get(d, n, REG_POS_SP);

		if (cw & CW_RELATIVE)
			t += a->target;
		a->target = axis_limit_target(d, n, t);
		a->moving = 1;
		a->at_target = 0;
		a->window_ns = 0;
		a->sp_ack = 1;
	} else if (!(cw & (CW_NEW_SET_POINT | CW_TARGET_LATCH))) {
		a->sp_ack = 0;
	}
}

/*
 * Bit 8 (halt) as the status word shows it at once, before the next step:
 * halted at a standstill is target reached (CiA 402: "velocity is 0" under
 * halt), and a release lets a position move go on or a profile velocity
 * ramp to its set point again.
 */
static void axis_halt_edge(simdrive *d, unsigned n, uint16_t cw, uint16_t prev)
{
	struct sim_axis *a = &d->axes[n - 1];
	unsigned mode = axis_mode(d, n);

	if (cw & CW_HALT) {
		if (a->vel == 0.0)
			a->at_target = 1;
	} else if (prev & CW_HALT) {
		if (mode_is_profile_position(mode) && a->moving) {
			a->at_target = 0;
		} else if (mode == MODE_PROFILE_VELOCITY) {
			struct limits l;

			axis_limits(d, n, &l);
			a->at_target = a->vel == axis_velocity_demand(d, n, &l);
		}
	}
}

/* CiA 402 transitions driven by a control word write, then the motion bits. */
static void axis_control(simdrive *d, unsigned n, uint16_t cw)
{
	struct sim_axis *a = &d->axes[n - 1];
	uint16_t prev = a->last_control;
	enum axis_state next = control_next(a->state, cw, prev, d->quirks);
	uint32_t armed = (uint32_t)opt_get(d, n, REG_SIM_FAULT_ARM, AX_DTYPE_U32, 0.0);

	a->last_control = cw;
	if (next != a->state && armed) {
		opt_set(d, n, REG_SIM_FAULT_ARM, AX_DTYPE_U32, 0);
		axis_fault(d, n, armed);
		return;
	}
	axis_enter(d, n, next);
	if (a->state == ST_OP_ENABLED) {
		axis_set_point(d, n, cw, prev);
		axis_halt_edge(d, n, cw, prev);
	}
	axis_publish(d, n);
}

/* After a write to a set point or a limit: what the status word shows at once. */
static void axis_refresh(simdrive *d, unsigned n)
{
	struct sim_axis *a = &d->axes[n - 1];
	unsigned mode = axis_mode(d, n);

	if (a->state == ST_OP_ENABLED && mode_is_follow_position(mode)) {
		double t = axis_limit_target(d, n, (int32_t)(uint32_t)num_get(d, n, REG_POS_SP));

		if (t != a->target || t != a->pos) {
			a->target = t;
			a->moving = t != a->pos;
			a->window_ns = 0;
			a->at_target = 0;
		}
	} else if (a->state == ST_OP_ENABLED && mode == MODE_PROFILE_VELOCITY) {
		struct limits l;

		axis_limits(d, n, &l);
		a->at_target = a->vel ==
		               ((a->last_control & CW_HALT) ? 0.0 : axis_velocity_demand(d, n, &l));
	}
	axis_publish(d, n);
}

/* ---- register access --------------------------------------------------- */

static int on_axis(const simdrive *d, unsigned subnode)
{
	return subnode >= 1 && subnode <= d->model->axes;
}

/* Operation mode display follows the command; a new mode holds the axis where it is. */
static void axis_set_mode(simdrive *d, unsigned n, uint64_t mode)
{
	if (mode == num_get(d, n, REG_OP_VALUE))
		return;
	num_set(d, n, REG_OP_VALUE, mode);
	d->axes[n - 1].hom = HOM_IDLE;
	if (d->axes[n - 1].state == ST_OP_ENABLED)
		axis_hold(d, n);
	else
		axis_publish(d, n);
}

static void restore_defaults(simdrive *d)
{
	for (size_t i = 0; i < d->table->count; i++)
		if (d->table->regs[i].flags & SIMMODEL_NVM)
			reg_reset(d, &d->table->regs[i]);
	/* A restored parameter may be one the axes act on. */
	for (unsigned n = 1; n <= d->model->axes; n++) {
		axis_set_mode(d, n, num_get(d, n, REG_OP_CMD));
		axis_refresh(d, n);
	}
}

/* ---- non-volatile memory ----------------------------------------------- */

/* A register a store keeps: the dictionary stores it and it can change. */
static int reg_is_stored(const simmodel_reg *r)
{
	return (r->flags & SIMMODEL_NVM) && (r->access & SIMMODEL_WRITE);
}

/* Is the value in @nvm (at @r's place) the register's default? */
static int nvm_is_default(const simmodel_reg *r, const uint8_t *nvm)
{
	const uint8_t *p = nvm + r->offset;

	if (r->def_len && memcmp(p, r->def, r->def_len) != 0)
		return 0;
	for (size_t i = r->def_len; i < r->size; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The stored values that differ from the defaults, in the format of simdrive.h. */
static int nvm_put_file(simdrive *d, FILE *f)
{
	if (fprintf(f, "# axlink-sim non-volatile memory\nmodel %s\nserial %lu\n", d->model->name,
	            (unsigned long)d->serial) < 0)
		return -1;
	for (size_t i = 0; i < d->table->count; i++) {
		const simmodel_reg *r = &d->table->regs[i];
		const uint8_t *p = d->nvm + r->offset;

		if (!reg_is_stored(r) || nvm_is_default(r, d->nvm))
			continue;
		if (fprintf(f, "%u 0x%03X ", (unsigned)r->subnode, (unsigned)r->address) < 0)
			return -1;
		for (size_t j = 0; j < r->size; j++)
			if (fprintf(f, "%02x", p[j]) < 0)
				return -1;
		if (fputc('\n', f) == EOF)
			return -1;
	}
	return 0;
}

/*
 * Write the memory to DIR/<serial>.nvm: a new file beside it, synced, then
 * renamed over the old one, so a crash leaves the old memory or the new,
 * never half of one. Returns 0 or -1.
 */
static int nvm_write_file(simdrive *d)
{
	size_t n = strlen(d->state_dir) + 64;
	char *tmp = malloc(n), *path = malloc(n);
	FILE *f = NULL;
	int fd, ok = 0;

	if (!tmp || !path)
		goto out;
	(void)snprintf(path, n, "%s/%lu.nvm", d->state_dir, (unsigned long)d->serial);
	(void)snprintf(tmp, n, "%s/.%lu.nvm.XXXXXX", d->state_dir, (unsigned long)d->serial);
	fd = mkstemp(tmp);
	if (fd < 0)
		goto out;
	f = fdopen(fd, "w");
	if (!f) {
		(void)close(fd);
		(void)unlink(tmp);
		goto out;
	}
	ok = nvm_put_file(d, f) == 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	ok = ok && rename(tmp, path) == 0;
	if (!ok)
		(void)unlink(tmp);
out:
	free(tmp);
	free(path);
	return ok ? 0 : -1;
}

/* May the drive store or restore now? Not with the quirk and an axis concerned enabled. */
static int nvm_state_allows(simdrive *d, unsigned sub)
{
	if (!(d->quirks & SIMDRIVE_QUIRK_STORE_NEEDS_DISABLED))
		return 1;
	for (unsigned n = 1; n <= d->model->axes; n++)
		if ((sub == 0 || n == sub) && d->axes[n - 1].state == ST_OP_ENABLED)
			return 0;
	return 1;
}

/* Keep the stored registers of subnode @sub (store all of that core). */
static int nvm_store(simdrive *d, unsigned sub, uint32_t *code)
{
	if (!nvm_state_allows(d, sub) || (d->store_busy && d->last_ns < d->store_busy_until)) {
		*code = SIMDRIVE_CODE_STATE;
		return -1;
	}
	for (size_t i = 0; i < d->table->count; i++) {
		const simmodel_reg *r = &d->table->regs[i];

		if (r->subnode == sub && reg_is_stored(r))
			memcpy(d->nvm + r->offset, reg_slot(d, r), r->size);
	}
	if (d->state_dir && nvm_write_file(d) < 0) {
		*code = CODE_NOT_STORED;
		return -1;
	}
	if (d->quirks & SIMDRIVE_QUIRK_SLOW_STORE) {
		d->store_busy = 1;
		d->store_busy_sub = sub;
		d->store_busy_until = d->last_ns + SIMDRIVE_SLOW_STORE_NS;
	}
	return 0;
}

/* Every stored register back to its default, in use and in the memory. */
static int nvm_restore(simdrive *d, uint32_t *code)
{
	if (!nvm_state_allows(d, 0)) {
		*code = SIMDRIVE_CODE_STATE;
		return -1;
	}
	restore_defaults(d);
	for (size_t i = 0; i < d->table->count; i++) {
		const simmodel_reg *r = &d->table->regs[i];

		if (reg_is_stored(r))
			memcpy(d->nvm + r->offset, reg_slot(d, r), r->size);
	}
	if (d->state_dir && nvm_write_file(d) < 0) {
		*code = CODE_NOT_STORED;
		return -1;
	}
	return 0;
}

/* Store a numeric value, applying the register's meaning. */
static int write_numeric(simdrive *d, const simmodel_reg *r, uint64_t v, uint32_t *code)
{
	unsigned sub = r->subnode;
	int taken = sub == 0 ? simmon_write(d->mon, r, v, code) : 0;

	if (taken)
		return taken < 0 ? -1 : 0;

	if (r->address == REG_STORE_ALL) {
		if (v != SIG_STORE)
			goto not_stored;
		return nvm_store(d, sub, code);
	}
	if (r->address == REG_RESTORE_ALL && sub == 0) {
		if (v != SIG_RESTORE)
			goto not_stored;
		/* A real drive restores on the next boot; here at once, and in the memory. */
		return nvm_restore(d, code);
	}
	if (on_axis(d, sub) && r->address == REG_OP_CMD && !mode_is_valid((unsigned)v)) {
		*code = AX_MCB_CODE_RANGE;
		return -1;
	}
	le_put(reg_slot(d, r), r->size, v);
	if (sub == 0 && strcmp(r->id, "DRV_DIAG_ERROR_LIST_IDX") == 0)
		error_list_publish(d);
	if (!on_axis(d, sub))
		return 0;
	switch (r->address) {
	case REG_CONTROL:
		axis_control(d, sub, (uint16_t)v);
		break;
	case REG_OP_CMD:
		axis_set_mode(d, sub, v);
		break;
	case REG_POS_SP:
	case REG_VEL_SP:
	case REG_MAX_VEL:
	case REG_POS_MIN:
	case REG_POS_MAX:
	case REG_SIM_FREEZE: /* unfrozen, the status word catches up at once */
		axis_refresh(d, sub);
		break;
	case REG_SIM_FAULT_INJECT:
		if (v && r->dtype == AX_DTYPE_U32)
			axis_fault(d, sub, (uint32_t)v);
		break;
	default:
		break;
	}
	return 0;
not_stored:
	*code = CODE_NOT_STORED;
	return -1;
}

/*
 * Write @len bytes. Numeric registers take their width from the start of
 * the value (a plain frame's 8 bytes); an extended frame carries only str
 * and bytes values. A bytes register keeps what lies past @len.
 */
static int reg_write(simdrive *d, unsigned subnode, unsigned address, const uint8_t *buf,
                     size_t len, int extended, uint32_t *code)
{
	const simmodel_reg *r = reg_lookup(d, subnode, address);
	uint8_t *dst;

	d->mon_still = 0; /* a write may change what a capture samples */

	if (!r) {
		*code = AX_MCB_CODE_NO_OBJECT;
		return -1;
	}
	if (!(r->access & SIMMODEL_WRITE)) {
		*code = AX_MCB_CODE_ACCESS;
		return -1;
	}
	if (reg_is_numeric(r)) {
		if (extended || len < r->size || len > 8) {
			*code = AX_MCB_CODE_WRONG_SIZE;
			return -1;
		}
		return write_numeric(d, r, le_get(buf, r->size), code);
	}
	/* A str must keep room for its NUL unless the value brings one. */
	if (len > r->size || (r->dtype == AX_DTYPE_STR && len == r->size && !memchr(buf, 0, len))) {
		*code = AX_MCB_CODE_WRONG_SIZE;
		return -1;
	}
	if (subnode == 0) {
		int taken = simmon_write_bytes(d->mon, r, buf, len, extended, code);

		if (taken)
			return taken < 0 ? -1 : 0;
	}
	dst = reg_slot(d, r);
	if (r->dtype == AX_DTYPE_STR)
		memset(dst, 0, r->size);
	if (len)
		memcpy(dst, buf, len);
	return 0;
}

/* Copy the value out: numeric its width, str its text and NUL, bytes all of it. */
static int reg_read(simdrive *d, unsigned subnode, unsigned address, uint8_t *buf, size_t cap,
                    size_t *len_out, const simmodel_reg **reg_out, uint32_t *code)
{
	const simmodel_reg *r = reg_lookup(d, subnode, address);
	const uint8_t *src;
	size_t len;

	if (!r) {
		*code = AX_MCB_CODE_NO_OBJECT;
		return -1;
	}
	if (!(r->access & SIMMODEL_READ)) {
		*code = AX_MCB_CODE_ACCESS;
		return -1;
	}
	if (subnode == 0) {
		int taken = simmon_read(d->mon, r, buf, cap, &len, code);

		if (taken < 0)
			return -1;
		if (taken) {
			*len_out = len;
			*reg_out = r;
			return 0;
		}
	}
	src = reg_slot(d, r);
	len = r->size;
	if (r->dtype == AX_DTYPE_STR)
		len = strnlen((const char *)src, len - 1) + 1;
	if (len > cap) {
		*code = AX_MCB_CODE_WRONG_SIZE;
		return -1;
	}
	memcpy(buf, src, len);
	/* A slow store under way: its register reads the signature until done. */
	if (r->address == REG_STORE_ALL && reg_is_numeric(r) && d->store_busy &&
	    r->subnode == d->store_busy_sub && d->last_ns < d->store_busy_until)
		le_put(buf, len, SIG_STORE);
	*len_out = len;
	*reg_out = r;
	return 0;
}

/* ---- monitoring and disturbance (simmon.c) ------------------------------ */

/*
 * The value of @r at fraction @frac of the step that just ran: the position
 * on the parabola through both ends of the step with the step's
 * acceleration, the velocity on the line between them; everything else as
 * the step left it (the drive's other values change once per step).
 */
void simdrive__sample(simdrive *d, const simmodel_reg *r, double frac, uint8_t *out)
{
	const struct sim_axis *a;
	double res;

	memcpy(out, reg_slot(d, r), r->size);
	if (!on_axis(d, r->subnode) || frac >= 1.0)
		return;
	a = &d->axes[r->subnode - 1];
	if ((r->address == REG_POS_FBK || r->address == REG_POS_REF) && r->dtype == AX_DTYPE_S32) {
		double dt = SIMDRIVE_STEP_NS / 1e9;
		double p = a->prev_pos + (a->pos - a->prev_pos) * frac +
		           0.5 * (a->vel - a->prev_vel) * dt * (frac * frac - frac);

		le_put(out, 4, (uint32_t)counts_of(p));
	} else if ((r->address == REG_VEL_FBK || r->address == REG_VEL_REF) &&
	           r->dtype == AX_DTYPE_FLOAT) {
		res = (double)(uint32_t)num_get(d, r->subnode, REG_ENC_RESOLUTION);
		if (res > 0.0)
			le_put(out, 4,
			       float_bits((float)((a->prev_vel + (a->vel - a->prev_vel) * frac) /
			                          res)));
	}
}

/*
 * A disturbance sample into @r, as a client's write. The current loop runs
 * far above the base rate: in current and torque modes the actual current
 * follows its set point at once, not at the next step.
 */
void simdrive__disturb(simdrive *d, const simmodel_reg *r, uint64_t raw)
{
	uint32_t code;
	unsigned n = r->subnode, mode;

	if (write_numeric(d, r, raw, &code) < 0 || !on_axis(d, n) || r->address != REG_CUR_Q_SP)
		return;
	mode = axis_mode(d, n);
	if (d->axes[n - 1].state == ST_OP_ENABLED && (mode == MODE_CURRENT || mode == MODE_TORQUE))
		num_set(d, n, REG_CUR_Q_FBK, raw);
}

int simdrive_read(simdrive *d, unsigned subnode, unsigned address, uint8_t *buf, size_t cap,
                  size_t *len_out, uint32_t *drive_code)
{
	const simmodel_reg *r;
	uint32_t code = 0;
	size_t len = 0;
	int err;

	if (!d || !buf || !len_out) {
		if (drive_code)
			*drive_code = AX_MCB_CODE_NOT_EXECUTED;
		return -1;
	}
	pthread_mutex_lock(&d->lock);
	err = reg_read(d, subnode, address, buf, cap, &len, &r, &code);
	pthread_mutex_unlock(&d->lock);
	if (err < 0) {
		if (drive_code)
			*drive_code = code;
		return -1;
	}
	*len_out = len;
	return 0;
}

int simdrive_write(simdrive *d, unsigned subnode, unsigned address, const uint8_t *buf, size_t len,
                   uint32_t *drive_code)
{
	uint32_t code = 0;
	int err;

	if (!d || (!buf && len)) {
		if (drive_code)
			*drive_code = AX_MCB_CODE_NOT_EXECUTED;
		return -1;
	}
	pthread_mutex_lock(&d->lock);
	err = reg_write(d, subnode, address, buf, len, len > 8, &code);
	pthread_mutex_unlock(&d->lock);
	if (err < 0 && drive_code)
		*drive_code = code;
	return err;
}

int simdrive_set_firmware(simdrive *d, const char *text)
{
	int found = 0;

	if (!d || !text)
		return -1;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->table->count; i++) {
		const simmodel_reg *r = &d->table->regs[i];
		uint8_t *dst;

		if (r->address != SIMDRIVE_REG_FIRMWARE || r->dtype != AX_DTYPE_STR || !r->size)
			continue;
		dst = reg_slot(d, r);
		memset(dst, 0, r->size);
		memcpy(dst, text, strnlen(text, r->size - 1));
		found = 1;
	}
	pthread_mutex_unlock(&d->lock);
	return found ? 0 : -1;
}

/* ---- quirks ------------------------------------------------------------ */

static const simdrive_quirk quirk_table[] = {
        {"skip-switched-on", SIMDRIVE_QUIRK_SKIP_SWITCHED_ON,
         "0x07 stays in ready to switch on, 0x0F enables at once"},
        {"slow-store", SIMDRIVE_QUIRK_SLOW_STORE,
         "a store takes 300 ms; its register reads the signature until done"},
        {"store-needs-disabled", SIMDRIVE_QUIRK_STORE_NEEDS_DISABLED,
         "store and restore are refused (0x08000022) while an axis is enabled"},
        {NULL, 0, NULL},
};

const simdrive_quirk *simdrive_quirks(void)
{
	return quirk_table;
}

/* The quirk named by the @len bytes at @name (case-insensitive), or NULL. */
static const simdrive_quirk *quirk_find(const char *name, size_t len)
{
	for (const simdrive_quirk *q = quirk_table; q->name; q++) {
		size_t i = 0;

		while (i < len && q->name[i] &&
		       (name[i] == q->name[i] ||
		        (name[i] >= 'A' && name[i] <= 'Z' && name[i] - 'A' + 'a' == q->name[i])))
			i++;
		if (i == len && !q->name[i])
			return q;
	}
	return NULL;
}

int simdrive_quirks_parse(const char *text, unsigned *quirks_out, char *bad, size_t bad_cap)
{
	unsigned bits = 0;
	const char *p = text;

	if (!text || !quirks_out)
		return -1;
	for (;;) {
		size_t len = strcspn(p, ",");
		const simdrive_quirk *q = quirk_find(p, len);

		if (!q) {
			if (bad && bad_cap) {
				size_t n = len < bad_cap - 1 ? len : bad_cap - 1;

				memcpy(bad, p, n);
				bad[n] = '\0';
			}
			return -1;
		}
		bits |= q->bit;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*quirks_out |= bits;
	return 0;
}

int simdrive_set_quirks(simdrive *d, unsigned quirks)
{
	unsigned known = 0;

	for (const simdrive_quirk *q = quirk_table; q->name; q++)
		known |= q->bit;
	if (!d || (quirks & ~known))
		return -1;
	pthread_mutex_lock(&d->lock);
	d->quirks = quirks;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

unsigned simdrive_get_quirks(simdrive *d)
{
	unsigned quirks;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	quirks = d->quirks;
	pthread_mutex_unlock(&d->lock);
	return quirks;
}

/* ---- faults ------------------------------------------------------------ */

int simdrive_fault(simdrive *d, unsigned axis, uint32_t error_code)
{
	if (!d || axis > d->model->axes)
		return -1;
	pthread_mutex_lock(&d->lock);
	for (unsigned n = 1; n <= d->model->axes; n++)
		if (!axis || n == axis)
			axis_fault(d, n, error_code);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int simdrive_fault_at(simdrive *d, unsigned axis, uint32_t error_code, uint64_t at_ns)
{
	if (!d || axis > d->model->axes)
		return -1;
	pthread_mutex_lock(&d->lock);
	d->fault_due = 1;
	d->fault_at_ns = at_ns;
	d->fault_axis = axis;
	d->fault_code = error_code;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- frames ------------------------------------------------------------ */

static size_t drop(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return 0;
}

static const char *decode_why(int err)
{
	switch (err) {
	case AX_ETRUNC:
		return "truncated frame";
	case AX_ECRC:
		return "CRC mismatch";
	case AX_ETOOBIG:
		return "extended length over 512 bytes";
	case AX_EPROTO:
		return "bad node or command";
	default:
		return "undecodable frame";
	}
}

static const char *code_why(uint32_t code)
{
	switch (code) {
	case AX_MCB_CODE_NO_OBJECT:
		return "object does not exist";
	case AX_MCB_CODE_ACCESS:
		return "incorrect access";
	case AX_MCB_CODE_WRONG_SIZE:
		return "wrong size";
	case AX_MCB_CODE_RANGE:
		return "value out of range";
	case CODE_NOT_STORED:
		return "wrong store/restore signature, or the memory cannot be written";
	case SIMDRIVE_CODE_STATE:
		return "not in a state that allows storing";
	default:
		return "refused";
	}
}

size_t simdrive_handle(simdrive *d, const uint8_t *req, size_t req_len, uint8_t *reply,
                       size_t reply_cap, const char **why)
{
	uint8_t value[AX_VALUE_MAX];
	const simmodel_reg *r = NULL;
	const char *reason = NULL;
	ax_mcb_frame rq, rp;
	size_t len = 0, out_len = 0;
	uint32_t code = 0;
	int err;

	if (why)
		*why = NULL;
	if (!d || !req || !reply)
		return drop(why, "invalid argument");
	err = d->codec.decode(&rq, req, req_len);
	if (err < 0)
		return drop(why, decode_why(err));
	if (rq.node != AX_MCB_NODE)
		return drop(why, "frame for another node");
	if (rq.command != AX_MCB_READ && rq.command != AX_MCB_WRITE)
		return drop(why, "not a request");

	memset(&rp, 0, sizeof(rp));
	rp.node = rq.node;
	rp.subnode = rq.subnode;
	rp.address = rq.address;
	rp.command = AX_MCB_ACK;

	pthread_mutex_lock(&d->lock);
	if (rq.command == AX_MCB_READ) {
		err = reg_read(d, rq.subnode, rq.address, value, sizeof(value), &len, &r, &code);
	} else if (rq.extended) {
		err = reg_write(d, rq.subnode, rq.address, rq.payload, rq.payload_len, 1, &code);
	} else {
		err = reg_write(d, rq.subnode, rq.address, rq.data, sizeof(rq.data), 0, &code);
		memcpy(rp.data, rq.data, sizeof(rp.data)); /* the ack echoes the value */
	}
	pthread_mutex_unlock(&d->lock);

	if (err < 0) {
		rp.command = rq.command == AX_MCB_READ ? AX_MCB_ERR_READ : AX_MCB_ERR_WRITE;
		memset(rp.data, 0, sizeof(rp.data));
		le_put(rp.data, 4, code);
		reason = code_why(code);
	} else if (rq.command == AX_MCB_READ) {
		if (reg_is_numeric(r) || (r->dtype == AX_DTYPE_STR && len <= sizeof(rp.data))) {
			memcpy(rp.data, value, len);
		} else {
			rp.extended = 1;
			rp.payload = value;
			rp.payload_len = len;
		}
	}
	err = d->codec.encode(reply, reply_cap, &out_len, &rp);
	if (err < 0)
		return drop(why, "reply does not fit the reply buffer");
	if (why)
		*why = reason;
	return out_len;
}

/* ---- life cycle -------------------------------------------------------- */

int simdrive_new(simdrive **out, const simdrive_codec *codec, const char *model, uint32_t serial)
{
	const simdrive_model *m = model ? simdrive_model_find(model) : &simmodel_models[0];
	simdrive *d;

	if (!out || !codec || !codec->encode || !codec->decode || !m)
		return -1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	d->codec = *codec;
	d->model = m;
	d->table = &simmodel_tables[m - simmodel_models];
	d->store = calloc(1, d->table->store_size ? d->table->store_size : 1);
	d->nvm = calloc(1, d->table->store_size ? d->table->store_size : 1);
	d->axes = calloc(m->axes, sizeof(*d->axes));
	if (!d->store || !d->nvm || !d->axes || simmon_new(&d->mon, d, d->table, d->store) < 0 ||
	    pthread_mutex_init(&d->lock, NULL) != 0) {
		simmon_free(d->mon);
		free(d->store);
		free(d->nvm);
		free(d->axes);
		free(d);
		return -1;
	}

	for (size_t i = 0; i < d->table->count; i++)
		reg_reset(d, &d->table->regs[i]);
	memcpy(d->nvm, d->store, d->table->store_size); /* nothing stored yet: the defaults */
	d->serial = serial;
	/* The identity is the model's and the unit's; the version text stays the default. */
	num_set_everywhere(d, REG_VENDOR_ID, m->vendor_id);
	num_set_everywhere(d, REG_PRODUCT_CODE, m->product_code);
	num_set_everywhere(d, REG_REVISION, m->revision);
	num_set_everywhere(d, REG_SERIAL, serial);
	num_set(d, 0, REG_AXIS_NUMBER, m->axes);
	for (unsigned n = 1; n <= m->axes; n++) {
		struct sim_axis *a = &d->axes[n - 1];

		a->state = ST_SWITCH_ON_DISABLED;
		a->pos = (int32_t)(uint32_t)num_get(d, n, REG_POS_FBK);
		a->target = a->pos;
		a->hom = HOM_IDLE;
		num_set(d, n, REG_OP_VALUE, num_get(d, n, REG_OP_CMD));
		axis_publish(d, n);
	}
	*out = d;
	return 0;
}

void simdrive_free(simdrive *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	simmon_free(d->mon);
	free(d->store);
	free(d->nvm);
	free(d->state_dir);
	free(d->axes);
	free(d);
}

/* ---- state folder ------------------------------------------------------ */

static int nvm_fail(char *err, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int nvm_fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err && cap) {
		va_start(ap, fmt);
		(void)vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One register line "SUBNODE 0xADDRESS HEX" into the memory @nvm. Returns 0
 * (also for a register the model does not store: ignored), or -1 with @why.
 */
static int nvm_parse_line(simdrive *d, char *line, uint8_t *nvm, const char **why)
{
	char *end, *hex;
	unsigned long sub, addr;
	const simmodel_reg *r;
	size_t n;

	errno = 0;
	sub = strtoul(line, &end, 10);
	if (end == line || *end != ' ' || errno || sub > AX_MCB_MAX_SUBNODE) {
		*why = "expected a subnode 0..15";
		return -1;
	}
	line = end + 1;
	addr = strtoul(line, &end, 16);
	if (end == line || *end != ' ' || errno || addr > 0xFFF) {
		*why = "expected an address 0x000..0xFFF";
		return -1;
	}
	hex = end + 1;
	n = strspn(hex, "0123456789abcdefABCDEF");
	if (n == 0 || n % 2 || hex[n] != '\0') {
		*why = "expected the value as an even number of hex digits";
		return -1;
	}
	r = reg_lookup(d, (unsigned)sub, (unsigned)addr);
	if (!r || !reg_is_stored(r))
		return 0; /* the dictionary changed: the drive no longer stores it */
	if (n / 2 > r->size) {
		*why = "value longer than the register";
		return -1;
	}
	memset(nvm + r->offset, 0, r->size);
	for (size_t i = 0; i < n / 2; i++)
		nvm[r->offset + i] =
		        (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	return 0;
}

/* Read @path into @nvm (a copy of the memory); a missing file is an empty memory. */
static int nvm_read_file(simdrive *d, const char *path, uint8_t *nvm, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t line_cap = 0, lineno = 0;
	int rc = 0;
	ssize_t len;

	if (!f)
		return errno == ENOENT ? 0 : nvm_fail(err, cap, "%s: %s", path, strerror(errno));
	while ((len = getline(&line, &line_cap, f)) >= 0) {
		const char *why = NULL;
		char *v;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (!strncmp(line, "model ", 6)) {
			if (strcmp(line + 6, d->model->name) != 0)
				why = "stored by another model";
		} else if (!strncmp(line, "serial ", 7)) {
			errno = 0;
			if (strtoul(line + 7, &v, 10) != d->serial || *v || errno)
				why = "stored by a drive with another serial number";
		} else {
			(void)nvm_parse_line(d, line, nvm, &why);
		}
		if (why) {
			rc = nvm_fail(err, cap, "%s:%zu: %s", path, lineno, why);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = nvm_fail(err, cap, "%s: %s", path, strerror(errno));
	free(line);
	(void)fclose(f);
	return rc;
}

int simdrive_set_state_dir(simdrive *d, const char *dir, char *err, size_t err_cap)
{
	uint8_t *nvm = NULL;
	char *copy = NULL, *path = NULL;
	size_t n;
	int rc = -1;

	if (!d)
		return nvm_fail(err, err_cap, "no drive");
	if (dir) {
		n = strlen(dir) + 32;
		copy = strdup(dir);
		path = malloc(n);
		nvm = malloc(d->table->store_size ? d->table->store_size : 1);
		if (!copy || !path || !nvm) {
			rc = nvm_fail(err, err_cap, "out of memory");
			goto out;
		}
		(void)snprintf(path, n, "%s/%lu.nvm", dir, (unsigned long)d->serial);
	}
	pthread_mutex_lock(&d->lock);
	if (nvm) {
		/* Start from the defaults: the file holds what differs from them. */
		for (size_t i = 0; i < d->table->count; i++) {
			const simmodel_reg *r = &d->table->regs[i];

			memset(nvm + r->offset, 0, r->size);
			if (r->def_len)
				memcpy(nvm + r->offset, r->def, r->def_len);
		}
		if (nvm_read_file(d, path, nvm, err, err_cap) < 0) {
			pthread_mutex_unlock(&d->lock);
			goto out;
		}
		/* As after a power cycle: what was stored is in use. */
		for (size_t i = 0; i < d->table->count; i++) {
			const simmodel_reg *r = &d->table->regs[i];

			if (reg_is_stored(r)) {
				memcpy(d->nvm + r->offset, nvm + r->offset, r->size);
				memcpy(reg_slot(d, r), nvm + r->offset, r->size);
			}
		}
		for (unsigned a = 1; a <= d->model->axes; a++) {
			axis_set_mode(d, a, num_get(d, a, REG_OP_CMD));
			axis_refresh(d, a);
		}
	}
	free(d->state_dir);
	d->state_dir = copy;
	copy = NULL;
	pthread_mutex_unlock(&d->lock);
	rc = 0;
out:
	free(copy);
	free(path);
	free(nvm);
	return rc;
}
