/* SPDX-License-Identifier: MIT */
/*
 * The simulated MCB drive behind the `virtual` transport and the simulator.
 *
 * One static table describes every register once (scope, address, type,
 * access, default); each drive keeps its values in one byte blob laid out
 * after that table, little-endian as on the wire, so a read is a copy.
 * Registers with side effects (control word, operation mode, set points,
 * store/restore) get a hook after the generic checks. Requests arrive as
 * frames and leave as frames built with the codec the creator hands in, so
 * the simulator never disagrees with the library about framing or CRC.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axlink/error.h"
#include "axlink/value.h"
#include "simdrive.h"

/* Models. Product codes and revisions are ours (vendor SIMDRIVE_VENDOR_ID). */
static const simdrive_model sim_models[] = {
	{ "axs-100", 0x00010064u, 0x00010002u, 1, "1.2.0" },
	{ "axs-200", 0x000100C8u, 0x00010001u, 2, "1.1.4" },
	{ NULL, 0, 0, 0, NULL },
};

#define ACC_R 0x1
#define ACC_W 0x2
#define ACC_RW (ACC_R | ACC_W)

/* Restored to its default by "restore all" (a configuration parameter). */
#define F_NVM 0x1

#define SCOPE_COCO 0 /* subnode 0 only */
#define SCOPE_AXIS 1 /* every axis subnode 1..axes */

/* Capacity of str registers, NUL included. */
#define SIM_STR_SIZE 64
/* Size of the byte-array register (DRV_USER_DATA). */
#define SIM_BYTES_SIZE 512

/* Addresses the drive gives a meaning to. */
#define REG_DIAG_ERROR_LAST 0x00F
#define REG_CONTROL 0x010
#define REG_STATUS 0x011
#define REG_OP_CMD 0x014
#define REG_OP_VALUE 0x015
#define REG_CUR_Q_SP 0x01A
#define REG_POS_SP 0x020
#define REG_VEL_SP 0x021
#define REG_MAX_VEL 0x025
#define REG_POS_FBK 0x030
#define REG_VEL_FBK 0x031
#define REG_CUR_Q_FBK 0x03B
#define REG_AXIS_NUMBER 0x0A0
#define REG_ENC_RESOLUTION 0x388
#define REG_STORE_ALL 0x6DB
#define REG_RESTORE_ALL 0x6DC
#define REG_VENDOR_ID 0x6E0
#define REG_PRODUCT_CODE 0x6E1
#define REG_REVISION 0x6E2
#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6

/* Signatures of store all ("save") and restore all ("load"), as ASCII in a u32. */
#define SIG_STORE 0x65766173u
#define SIG_RESTORE 0x64616F6Cu
/* CiA 301 answer to a store/restore without the right signature. */
#define CODE_NOT_STORED 0x08000020u

struct reg_def {
	const char *id;   /* dictionary id */
	uint8_t scope;    /* SCOPE_COCO or SCOPE_AXIS */
	uint16_t address;
	uint8_t dtype;    /* ax_dtype */
	uint8_t access;   /* ACC_* */
	uint8_t flags;    /* F_* */
	int64_t idef;     /* default of integer registers */
	double fdef;      /* default of float registers */
};

#define C SCOPE_COCO
#define A SCOPE_AXIS
#define U16 AX_DTYPE_U16
#define U32 AX_DTYPE_U32
#define S32 AX_DTYPE_S32
#define FLT AX_DTYPE_FLOAT
#define STR AX_DTYPE_STR
#define BYTES AX_DTYPE_BYTES

/*
 * Identity values (vendor, product, revision, serial, versions, axis count)
 * depend on the model and the instance; simdrive_new() fills them in.
 * Store all reads back 1 (CiA 301: "saves on command") whatever was written.
 */
static const struct reg_def reg_table[] = {
	/* id                          scope addr   dtype access flags idef  fdef */
	{ "DRV_ID_VENDOR_ID_COCO",       C, 0x6E0, U32, ACC_R, 0, 0, 0 },
	{ "DRV_ID_PRODUCT_CODE_COCO",    C, 0x6E1, U32, ACC_R, 0, 0, 0 },
	{ "DRV_ID_REVISION_NUMBER_COCO", C, 0x6E2, U32, ACC_R, 0, 0, 0 },
	{ "DRV_APP_COCO_VERSION",        C, 0x6E4, STR, ACC_R, 0, 0, 0 },
	{ "DRV_ID_SERIAL_NUMBER_COCO",   C, 0x6E6, U32, ACC_R, 0, 0, 0 },
	{ "DRV_AXIS_NUMBER",             C, 0x0A0, U16, ACC_R, 0, 0, 0 },
	{ "DRV_DIAG_ERROR_LAST_COM",     C, 0x00F, S32, ACC_R, 0, 0, 0 },
	{ "DRV_STORE_COCO_ALL",          C, 0x6DB, U32, ACC_RW, 0, 1, 0 },
	{ "DRV_RESTORE_COCO_ALL",        C, 0x6DC, U32, ACC_W, 0, 0, 0 },
	{ "DRV_USER_DATA",               C, 0x6F0, BYTES, ACC_RW, F_NVM, 0, 0 },

	{ "DRV_ID_VENDOR_ID",            A, 0x6E0, U32, ACC_R, 0, 0, 0 },
	{ "DRV_ID_PRODUCT_CODE",         A, 0x6E1, U32, ACC_R, 0, 0, 0 },
	{ "DRV_ID_REVISION_NUMBER",      A, 0x6E2, U32, ACC_R, 0, 0, 0 },
	{ "DRV_ID_SOFTWARE_VERSION",     A, 0x6E4, STR, ACC_R, 0, 0, 0 },
	{ "DRV_ID_SERIAL_NUMBER",        A, 0x6E6, U32, ACC_R, 0, 0, 0 },
	{ "DRV_DIAG_ERROR_LAST",         A, 0x00F, S32, ACC_R, 0, 0, 0 },
	{ "DRV_STATE_CONTROL",           A, 0x010, U16, ACC_RW, 0, 0, 0 },
	{ "DRV_STATE_STATUS",            A, 0x011, U16, ACC_R, 0, 0, 0 },
	{ "DRV_OP_CMD",                  A, 0x014, U16, ACC_RW, 0, 0x14, 0 },
	{ "DRV_OP_VALUE",                A, 0x015, U16, ACC_R, 0, 0x14, 0 },
	{ "CL_CUR_Q_SET_POINT",          A, 0x01A, FLT, ACC_RW, 0, 0, 0.0 },
	{ "CL_POS_SET_POINT_VALUE",      A, 0x020, S32, ACC_RW, 0, 0, 0 },
	{ "CL_VEL_SET_POINT_VALUE",      A, 0x021, FLT, ACC_RW, 0, 0, 0.0 },
	{ "PROF_POS_OPTION_CODE",        A, 0x024, U16, ACC_RW, F_NVM, 0, 0 },
	{ "PROF_MAX_VEL",                A, 0x025, FLT, ACC_RW, F_NVM, 0, 10.0 },
	{ "PROF_MAX_ACC",                A, 0x026, FLT, ACC_RW, F_NVM, 0, 100.0 },
	{ "PROF_MAX_DEC",                A, 0x027, FLT, ACC_RW, F_NVM, 0, 100.0 },
	{ "CL_POS_FBK_VALUE",            A, 0x030, S32, ACC_R, 0, 0, 0 },
	{ "CL_VEL_FBK_VALUE",            A, 0x031, FLT, ACC_R, 0, 0, 0.0 },
	{ "CL_CUR_Q_VALUE",              A, 0x03B, FLT, ACC_R, 0, 0, 0.0 },
	{ "DRV_PROT_VBUS_VALUE",         A, 0x060, FLT, ACC_R, 0, 0, 48.0 },
	{ "FBK_DIGENC1_RESOLUTION",      A, 0x388, U32, ACC_RW, F_NVM, 4096, 0 },
	{ "HOM_MODE",                    A, 0x450, U16, ACC_RW, F_NVM, 0, 0 },
	{ "HOM_OFFSET",                  A, 0x451, S32, ACC_RW, F_NVM, 0, 0 },
	{ "DRV_STORE_MOCO_ALL",          A, 0x6DB, U32, ACC_RW, 0, 1, 0 },
};

#undef C
#undef A
#undef U16
#undef U32
#undef S32
#undef FLT
#undef STR
#undef BYTES

#define REG_COUNT (sizeof(reg_table) / sizeof(reg_table[0]))

/* CiA 402 states the simulation visits (the transient ones are skipped). */
enum axis_state {
	ST_SWITCH_ON_DISABLED,
	ST_READY,
	ST_SWITCHED_ON,
	ST_OP_ENABLED,
	ST_QUICK_STOP,
	ST_FAULT,
};

/*
 * Status word of each state: DESIGN §7 bits, with bit 4 (voltage enabled)
 * set because the simulated bus is always powered. Bit 5 (quick stop) is
 * active low, so it is clear only in quick stop active and fault.
 */
static const uint16_t state_status[] = {
	[ST_SWITCH_ON_DISABLED] = 0x0050,
	[ST_READY] = 0x0031,
	[ST_SWITCHED_ON] = 0x0033,
	[ST_OP_ENABLED] = 0x0037,
	[ST_QUICK_STOP] = 0x0017,
	[ST_FAULT] = 0x0018,
};

#define SW_TARGET_REACHED 0x0400u
#define CW_FAULT_RESET 0x0080u

struct sim_axis {
	enum axis_state state;
	uint16_t last_control; /* for the rising edge of the fault reset bit */
	double pos;            /* position in counts, with the fraction the register drops */
	int at_target;         /* bit 10 of the status word while operation is enabled */
};

struct simdrive {
	pthread_mutex_t lock; /* guards everything below */
	simdrive_codec codec;
	const simdrive_model *model;
	uint64_t last_ns; /* time of the last tick */
	int have_time;    /* last_ns is valid */
	struct sim_axis *axes; /* model->axes entries, axis n at [n - 1] */
	size_t offset[REG_COUNT]; /* where each row's values start in store */
	uint8_t *store;
};

const simdrive_model *simdrive_models(void)
{
	return sim_models;
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
	for (const simdrive_model *m = sim_models; m->name; m++)
		if (name_equal_nocase(m->name, name))
			return m;
	return NULL;
}

/* ---- values ------------------------------------------------------------ */

static size_t reg_size(const struct reg_def *r)
{
	switch (r->dtype) {
	case AX_DTYPE_U8:
	case AX_DTYPE_S8:
	case AX_DTYPE_BOOL:
		return 1;
	case AX_DTYPE_U16:
	case AX_DTYPE_S16:
		return 2;
	case AX_DTYPE_U32:
	case AX_DTYPE_S32:
	case AX_DTYPE_FLOAT:
		return 4;
	case AX_DTYPE_U64:
	case AX_DTYPE_S64:
		return 8;
	case AX_DTYPE_STR:
		return SIM_STR_SIZE;
	default:
		return SIM_BYTES_SIZE;
	}
}

static int reg_is_numeric(const struct reg_def *r)
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

/* The row of (@scope, @address), or NULL. */
static const struct reg_def *reg_row(unsigned scope, unsigned address)
{
	for (size_t i = 0; i < REG_COUNT; i++)
		if (reg_table[i].address == address && reg_table[i].scope == scope)
			return &reg_table[i];
	return NULL;
}

/* The row a request for (@subnode, @address) names on this drive, or NULL. */
static const struct reg_def *reg_lookup(const simdrive *d, unsigned subnode, unsigned address)
{
	if (subnode > d->model->axes)
		return NULL;
	return reg_row(subnode ? SCOPE_AXIS : SCOPE_COCO, address);
}

static uint8_t *reg_slot(simdrive *d, const struct reg_def *r, unsigned subnode)
{
	size_t index = r->scope == SCOPE_AXIS ? subnode - 1u : 0;

	return d->store + d->offset[r - reg_table] + index * reg_size(r);
}

static void reg_reset(simdrive *d, const struct reg_def *r, unsigned subnode)
{
	uint8_t *p = reg_slot(d, r, subnode);

	if (r->dtype == AX_DTYPE_FLOAT)
		le_put(p, 4, float_bits((float)r->fdef));
	else if (reg_is_numeric(r))
		le_put(p, reg_size(r), (uint64_t)r->idef);
	else
		memset(p, 0, reg_size(r));
}

/* Raw value of a numeric register the drive itself defines (never missing). */
static uint64_t num_get(simdrive *d, unsigned subnode, unsigned address)
{
	const struct reg_def *r = reg_row(subnode ? SCOPE_AXIS : SCOPE_COCO, address);

	return le_get(reg_slot(d, r, subnode), reg_size(r));
}

static void num_set(simdrive *d, unsigned subnode, unsigned address, uint64_t v)
{
	const struct reg_def *r = reg_row(subnode ? SCOPE_AXIS : SCOPE_COCO, address);

	le_put(reg_slot(d, r, subnode), reg_size(r), v);
}

static float flt_get(simdrive *d, unsigned subnode, unsigned address)
{
	return bits_float((uint32_t)num_get(d, subnode, address));
}

static void flt_set(simdrive *d, unsigned subnode, unsigned address, float f)
{
	num_set(d, subnode, address, float_bits(f));
}

static void str_set(simdrive *d, unsigned subnode, unsigned address, const char *s)
{
	const struct reg_def *r = reg_row(subnode ? SCOPE_AXIS : SCOPE_COCO, address);
	uint8_t *p = reg_slot(d, r, subnode);

	memset(p, 0, SIM_STR_SIZE);
	memcpy(p, s, strnlen(s, SIM_STR_SIZE - 1));
}

/* ---- CiA 402 and motion ------------------------------------------------ */

static int mode_is_position(unsigned mode)
{
	return mode == 0x04 || mode == 0x14 || mode == 0x24;
}

static int mode_is_velocity(unsigned mode)
{
	return mode == 0x03 || mode == 0x13;
}

static int mode_is_valid(unsigned mode)
{
	static const uint16_t modes[] = { 0x00, 0x02, 0x03, 0x13, 0x04, 0x14, 0x24, 0x113, 0x05 };

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

static void axis_publish(simdrive *d, unsigned n)
{
	const struct sim_axis *a = &d->axes[n - 1];
	uint16_t sw = state_status[a->state];

	if (a->state == ST_OP_ENABLED && a->at_target)
		sw |= SW_TARGET_REACHED;
	num_set(d, n, REG_STATUS, sw);
}

static void axis_update_target(simdrive *d, unsigned n)
{
	struct sim_axis *a = &d->axes[n - 1];
	unsigned mode = (unsigned)num_get(d, n, REG_OP_VALUE);

	if (mode_is_position(mode))
		a->at_target = counts_of(a->pos) == (int32_t)(uint32_t)num_get(d, n, REG_POS_SP);
	else
		a->at_target = mode_is_velocity(mode);
	axis_publish(d, n);
}

/*
 * Take the present position as the set point, so that enabling the axis or
 * changing its mode never sends it racing to a stale target.
 */
static void axis_hold(simdrive *d, unsigned n)
{
	num_set(d, n, REG_POS_SP, (uint32_t)counts_of(d->axes[n - 1].pos));
	axis_update_target(d, n);
}

static void axis_enter(simdrive *d, unsigned n, enum axis_state next)
{
	struct sim_axis *a = &d->axes[n - 1];

	if (a->state == next)
		return;
	a->state = next;
	if (next == ST_OP_ENABLED) {
		axis_hold(d, n);
		return;
	}
	/* Outside operation enabled the axis stands still (no deceleration ramp). */
	flt_set(d, n, REG_VEL_FBK, 0.0f);
	flt_set(d, n, REG_CUR_Q_FBK, 0.0f);
	axis_publish(d, n);
}

/* CiA 402 transitions driven by a control word write. */
static void axis_control(simdrive *d, unsigned n, uint16_t cw)
{
	struct sim_axis *a = &d->axes[n - 1];
	uint16_t prev = a->last_control;
	enum axis_state s = a->state;

	a->last_control = cw;
	if (s == ST_FAULT) {
		if ((cw & CW_FAULT_RESET) && !(prev & CW_FAULT_RESET))
			axis_enter(d, n, ST_SWITCH_ON_DISABLED);
		return;
	}
	if (cw & CW_FAULT_RESET)
		return; /* a fault reset outside fault changes nothing */
	if (!(cw & 0x02)) { /* disable voltage */
		axis_enter(d, n, ST_SWITCH_ON_DISABLED);
	} else if (!(cw & 0x04)) { /* quick stop */
		if (s == ST_OP_ENABLED)
			axis_enter(d, n, ST_QUICK_STOP);
		else if (s == ST_READY || s == ST_SWITCHED_ON)
			axis_enter(d, n, ST_SWITCH_ON_DISABLED);
	} else if (!(cw & 0x01)) { /* shutdown */
		if (s == ST_SWITCH_ON_DISABLED || s == ST_SWITCHED_ON || s == ST_OP_ENABLED)
			axis_enter(d, n, ST_READY);
	} else if (!(cw & 0x08)) { /* switch on, or disable operation */
		if (s == ST_READY || s == ST_OP_ENABLED)
			axis_enter(d, n, ST_SWITCHED_ON);
	} else { /* enable operation; from ready it is switch on + enable at once */
		if (s == ST_READY || s == ST_SWITCHED_ON || s == ST_QUICK_STOP)
			axis_enter(d, n, ST_OP_ENABLED);
	}
}

/*
 * Move axis @n for @dt seconds. Position modes travel toward the set point
 * at PROF_MAX_VEL, velocity modes run at the (clamped) velocity set point,
 * current mode follows its set point. No acceleration ramps yet.
 */
static void axis_move(simdrive *d, unsigned n, double dt)
{
	struct sim_axis *a = &d->axes[n - 1];
	unsigned mode = (unsigned)num_get(d, n, REG_OP_VALUE);
	double res = (double)(uint32_t)num_get(d, n, REG_ENC_RESOLUTION);
	double vmax = flt_get(d, n, REG_MAX_VEL);
	double vel = 0.0;

	if (a->state != ST_OP_ENABLED)
		return;
	/* Written floats may be anything: NaN, infinite, negative. */
	if (!(vmax > 0.0 && vmax < 1e6))
		vmax = 0.0;
	if (mode_is_position(mode)) {
		double target = (double)(int32_t)(uint32_t)num_get(d, n, REG_POS_SP);
		double step = vmax * res * dt;
		double diff = target - a->pos;

		if (diff <= step && diff >= -step) {
			a->pos = target;
		} else {
			diff = diff > 0 ? step : -step;
			a->pos += diff;
		}
		if (res > 0.0)
			vel = diff / res / dt;
	} else if (mode_is_velocity(mode)) {
		double v = flt_get(d, n, REG_VEL_SP);

		if (v != v)
			v = 0.0;
		vel = v > vmax ? vmax : v < -vmax ? -vmax : v;
		a->pos += vel * res * dt;
		if (a->pos > 2147483647.0 || a->pos < -2147483648.0)
			a->pos = counts_of(a->pos); /* an s32 register cannot count further */
	} else if (mode == 0x02) {
		flt_set(d, n, REG_CUR_Q_FBK, flt_get(d, n, REG_CUR_Q_SP));
	}
	num_set(d, n, REG_POS_FBK, (uint32_t)counts_of(a->pos));
	flt_set(d, n, REG_VEL_FBK, (float)vel);
	axis_update_target(d, n);
}

void simdrive_tick(simdrive *d, uint64_t now_ns)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if (d->have_time && now_ns > d->last_ns) {
		double dt = (double)(now_ns - d->last_ns) / 1e9;

		for (unsigned n = 1; n <= d->model->axes; n++)
			axis_move(d, n, dt);
	}
	if (!d->have_time || now_ns > d->last_ns) {
		d->last_ns = now_ns;
		d->have_time = 1;
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- register access --------------------------------------------------- */

static void restore_defaults(simdrive *d)
{
	for (size_t i = 0; i < REG_COUNT; i++) {
		const struct reg_def *r = &reg_table[i];

		if (!(r->flags & F_NVM))
			continue;
		if (r->scope == SCOPE_COCO)
			reg_reset(d, r, 0);
		else
			for (unsigned n = 1; n <= d->model->axes; n++)
				reg_reset(d, r, n);
	}
}

/* Store a numeric value, applying the register's meaning. */
static int write_numeric(simdrive *d, const struct reg_def *r, unsigned subnode, uint64_t v,
			 uint32_t *code)
{
	switch (r->address) {
	case REG_STORE_ALL:
		/* Nothing survives the process, so a store only checks its signature. */
		if (v != SIG_STORE)
			goto not_stored;
		return 0;
	case REG_RESTORE_ALL:
		if (v != SIG_RESTORE)
			goto not_stored;
		/* A real drive restores on the next boot; the simulator never reboots. */
		restore_defaults(d);
		return 0;
	default:
		break;
	}
	if (r->scope == SCOPE_AXIS && r->address == REG_OP_CMD && !mode_is_valid((unsigned)v)) {
		*code = AX_MCB_CODE_RANGE;
		return -1;
	}
	le_put(reg_slot(d, r, subnode), reg_size(r), v);
	if (r->scope != SCOPE_AXIS)
		return 0;
	switch (r->address) {
	case REG_CONTROL:
		axis_control(d, subnode, (uint16_t)v);
		break;
	case REG_OP_CMD:
		if (v != num_get(d, subnode, REG_OP_VALUE)) {
			num_set(d, subnode, REG_OP_VALUE, v);
			if (d->axes[subnode - 1].state == ST_OP_ENABLED)
				axis_hold(d, subnode);
		}
		break;
	case REG_POS_SP:
		axis_update_target(d, subnode);
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
	const struct reg_def *r = reg_lookup(d, subnode, address);
	size_t size;
	uint8_t *dst;

	if (!r) {
		*code = AX_MCB_CODE_NO_OBJECT;
		return -1;
	}
	if (!(r->access & ACC_W)) {
		*code = AX_MCB_CODE_ACCESS;
		return -1;
	}
	size = reg_size(r);
	if (reg_is_numeric(r)) {
		if (extended || len < size || len > 8) {
			*code = AX_MCB_CODE_WRONG_SIZE;
			return -1;
		}
		return write_numeric(d, r, subnode, le_get(buf, size), code);
	}
	/* A str must keep room for its NUL unless the value brings one. */
	if (len > size || (r->dtype == AX_DTYPE_STR && len == size && !memchr(buf, 0, len))) {
		*code = AX_MCB_CODE_WRONG_SIZE;
		return -1;
	}
	dst = reg_slot(d, r, subnode);
	if (r->dtype == AX_DTYPE_STR)
		memset(dst, 0, size);
	if (len)
		memcpy(dst, buf, len);
	return 0;
}

/* Copy the value out: numeric its width, str its text and NUL, bytes all of it. */
static int reg_read(simdrive *d, unsigned subnode, unsigned address, uint8_t *buf, size_t cap,
		    size_t *len_out, const struct reg_def **row_out, uint32_t *code)
{
	const struct reg_def *r = reg_lookup(d, subnode, address);
	const uint8_t *src;
	size_t len;

	if (!r) {
		*code = AX_MCB_CODE_NO_OBJECT;
		return -1;
	}
	if (!(r->access & ACC_R)) {
		*code = AX_MCB_CODE_ACCESS;
		return -1;
	}
	src = reg_slot(d, r, subnode);
	len = reg_size(r);
	if (r->dtype == AX_DTYPE_STR)
		len = strnlen((const char *)src, len - 1) + 1;
	if (len > cap) {
		*code = AX_MCB_CODE_WRONG_SIZE;
		return -1;
	}
	memcpy(buf, src, len);
	*len_out = len;
	*row_out = r;
	return 0;
}

int simdrive_read(simdrive *d, unsigned subnode, unsigned address, uint8_t *buf, size_t cap,
		  size_t *len_out, uint32_t *drive_code)
{
	const struct reg_def *r;
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

int simdrive_write(simdrive *d, unsigned subnode, unsigned address, const uint8_t *buf,
		   size_t len, uint32_t *drive_code)
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

int simdrive_fault(simdrive *d, unsigned axis, uint32_t error_code)
{
	if (!d || axis > d->model->axes)
		return -1;
	pthread_mutex_lock(&d->lock);
	for (unsigned n = 1; n <= d->model->axes; n++) {
		if (axis && n != axis)
			continue;
		num_set(d, n, REG_DIAG_ERROR_LAST, error_code);
		axis_enter(d, n, ST_FAULT);
	}
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
		return "wrong store/restore signature";
	default:
		return "refused";
	}
}

size_t simdrive_handle(simdrive *d, const uint8_t *req, size_t req_len, uint8_t *reply,
		       size_t reply_cap, const char **why)
{
	uint8_t value[SIM_BYTES_SIZE];
	const struct reg_def *r = NULL;
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
	const simdrive_model *m = model ? simdrive_model_find(model) : &sim_models[0];
	char version[SIM_STR_SIZE];
	size_t total = 0;
	simdrive *d;

	if (!out || !codec || !codec->encode || !codec->decode || !m)
		return -1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	d->codec = *codec;
	d->model = m;
	for (size_t i = 0; i < REG_COUNT; i++) {
		size_t copies = reg_table[i].scope == SCOPE_AXIS ? m->axes : 1u;

		d->offset[i] = total;
		total += reg_size(&reg_table[i]) * copies;
	}
	d->store = calloc(1, total);
	d->axes = calloc(m->axes, sizeof(*d->axes));
	if (!d->store || !d->axes || pthread_mutex_init(&d->lock, NULL) != 0) {
		free(d->store);
		free(d->axes);
		free(d);
		return -1;
	}

	for (size_t i = 0; i < REG_COUNT; i++) {
		if (reg_table[i].scope == SCOPE_COCO)
			reg_reset(d, &reg_table[i], 0);
		else
			for (unsigned n = 1; n <= m->axes; n++)
				reg_reset(d, &reg_table[i], n);
	}
	/* Long enough to need an extended frame, like real version strings. */
	(void)snprintf(version, sizeof(version), "%s fw %s-sim", m->name, m->sw_version);
	for (unsigned n = 0; n <= m->axes; n++) {
		num_set(d, n, REG_VENDOR_ID, SIMDRIVE_VENDOR_ID);
		num_set(d, n, REG_PRODUCT_CODE, m->product_code);
		num_set(d, n, REG_REVISION, m->revision);
		num_set(d, n, REG_SERIAL, serial);
		str_set(d, n, REG_SW_VERSION, version);
	}
	num_set(d, 0, REG_AXIS_NUMBER, m->axes);
	for (unsigned n = 1; n <= m->axes; n++) {
		d->axes[n - 1].state = ST_SWITCH_ON_DISABLED;
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
	free(d->store);
	free(d->axes);
	free(d);
}
