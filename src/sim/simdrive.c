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
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axlink/error.h"
#include "axlink/value.h"
#include "simdrive.h"
#include "simmodels.h"

/* Addresses of the registers the drive gives a meaning to: REG_CONTROL, ... */
enum {
#define SIM_REG_ADDRESS(name, where, address, dtype, required) REG_##name = address,
	SIMMODEL_BEHAVIOUR(SIM_REG_ADDRESS)
#undef SIM_REG_ADDRESS
};

/* Signatures of store all ("save") and restore all ("load"), as ASCII in a u32. */
#define SIG_STORE 0x65766173u
#define SIG_RESTORE 0x64616F6Cu
/* CiA 301 answer to a store/restore without the right signature. */
#define CODE_NOT_STORED 0x08000020u

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
	const simmodel_table *table; /* the model's register space */
	uint64_t last_ns; /* time of the last tick */
	int have_time;    /* last_ns is valid */
	struct sim_axis *axes; /* model->axes entries, axis n at [n - 1] */
	uint8_t *store;        /* table->store_size bytes, each register at its offset */
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
	if (d->axes[n - 1].state == ST_OP_ENABLED)
		axis_hold(d, n);
}

static void restore_defaults(simdrive *d)
{
	for (size_t i = 0; i < d->table->count; i++)
		if (d->table->regs[i].flags & SIMMODEL_NVM)
			reg_reset(d, &d->table->regs[i]);
	/* A restored parameter may be one the axes act on. */
	for (unsigned n = 1; n <= d->model->axes; n++) {
		axis_set_mode(d, n, num_get(d, n, REG_OP_CMD));
		axis_update_target(d, n);
	}
}

/* Store a numeric value, applying the register's meaning. */
static int write_numeric(simdrive *d, const simmodel_reg *r, uint64_t v, uint32_t *code)
{
	unsigned sub = r->subnode;

	if (r->address == REG_STORE_ALL) {
		/* Nothing survives the process, so a store only checks its signature. */
		if (v != SIG_STORE)
			goto not_stored;
		return 0;
	}
	if (r->address == REG_RESTORE_ALL && sub == 0) {
		if (v != SIG_RESTORE)
			goto not_stored;
		/* A real drive restores on the next boot; the simulator never reboots. */
		restore_defaults(d);
		return 0;
	}
	if (on_axis(d, sub) && r->address == REG_OP_CMD && !mode_is_valid((unsigned)v)) {
		*code = AX_MCB_CODE_RANGE;
		return -1;
	}
	le_put(reg_slot(d, r), r->size, v);
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
		axis_update_target(d, sub);
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
	if (len > r->size ||
	    (r->dtype == AX_DTYPE_STR && len == r->size && !memchr(buf, 0, len))) {
		*code = AX_MCB_CODE_WRONG_SIZE;
		return -1;
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
	src = reg_slot(d, r);
	len = r->size;
	if (r->dtype == AX_DTYPE_STR)
		len = strnlen((const char *)src, len - 1) + 1;
	if (len > cap) {
		*code = AX_MCB_CODE_WRONG_SIZE;
		return -1;
	}
	memcpy(buf, src, len);
	*len_out = len;
	*reg_out = r;
	return 0;
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
	d->axes = calloc(m->axes, sizeof(*d->axes));
	if (!d->store || !d->axes || pthread_mutex_init(&d->lock, NULL) != 0) {
		free(d->store);
		free(d->axes);
		free(d);
		return -1;
	}

	for (size_t i = 0; i < d->table->count; i++)
		reg_reset(d, &d->table->regs[i]);
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
	free(d->store);
	free(d->axes);
	free(d);
}
