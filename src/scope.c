/* SPDX-License-Identifier: MIT */
/*
 * Drive-side capture: the MON_* (monitoring) and DIST_* (disturbance)
 * registers of MCB drives, protocol version 3 (v1/v2 status bits are
 * understood too). Everything goes through the drive's dictionary by
 * register id, so the addresses are the dictionary's; values are written
 * through the value module's checks.
 *
 * A channel is mapped by a u32: high half the register's monitoring address
 * | subnode << 12, low half dtype code << 8 | size. The captured data is one
 * block per sample instant, the channels packed in map order, each
 * little-endian; disturbance data is laid out the same way.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/link.h"
#include "axlink/scope.h"
#include "axlink/value.h"
#include "drive.h"
#include "error.h"
#include "util.h"

/* Status bits (MON_DIST_STATUS): v3, and v1/v2 where they differ. */
#define MON_ST_ENABLED 0x1u
#define MON_ST_STAGE_V3 0x0Eu
#define MON_ST_STAGE_V2 0x06u
#define MON_ST_FRAME_V3 0x10u
#define MON_ST_FRAME_V2 0x800u
#define MON_STAGE_WAIT_TRIGGER 0x4u
#define MON_STAGE_END 0x8u

/* MON_CFG_SOC_TYPE and MON_CFG_EOC_TYPE values. */
#define SOC_AUTO 0
#define SOC_EDGE 2
#define EOC_EITHER 0
#define EOC_RISING 1
#define EOC_FALLING 2

#define MCB_HEADER 14u   /* bytes of an MCB frame before an extended payload */
#define EXT_PAYLOAD 512u /* the most an extended frame carries */
#define POLL_MS 2        /* status poll period of ax_scope_wait() */
#define MON_SUBNODE 0

struct scope_channel {
	const ax_reg *reg;
	int dtype;    /* decoding type (bool decodes as u8) */
	size_t size;  /* bytes in a block */
	size_t off;   /* offset in a block */
	uint32_t map; /* the MON_CFG_REGn_MAP word */
};

struct ax_scope {
	atomic_int refs;
	ax_drive *drive; /* one reference */
	ax_link *link;   /* borrowed from drive */
	unsigned max_channels;
	double base_us;
	int version; /* 3, or 2 without MON_DIST_VERSION */
	struct scope_channel ch[AX_SCOPE_MAX_CHANNELS];
	unsigned n_ch;
	size_t block;
	uint32_t prescaler;
	int trigger;
	unsigned trig_ch;
	double level;
	uint32_t samples, pre;
	uint32_t t0; /* the sample at time 0: pre, or 0 for a capture synchronised to a waveform */
	int armed;
	/* the last fetch */
	uint8_t *raw;
	size_t raw_len;
	size_t count;
	double *data; /* n_ch arrays of count, then the time axis */
	uint64_t wire;
};

struct ax_disturbance {
	atomic_int refs;
	ax_drive *drive; /* one reference */
	ax_link *link;
	unsigned max_channels;
	double base_us;
	struct scope_channel ch[AX_SCOPE_MAX_CHANNELS];
	uint8_t *wave[AX_SCOPE_MAX_CHANNELS]; /* n samples of each channel, in its dtype */
	unsigned n_ch;
	size_t block;
	size_t n;
	uint32_t prescaler;
	int loaded;
	uint64_t wire;
};

/* ---- registers by id -------------------------------------------------------- */

static const ax_reg *reg_opt(ax_drive *drive, const char *id)
{
	const ax_dict *dict = ax_drive_dict(drive);
	const ax_reg *reg = NULL;

	if (!dict || ax_dict_find(dict, id, MON_SUBNODE, &reg) < 0)
		return NULL;
	return reg;
}

static int reg_need(ax_drive *drive, const char *id, const ax_reg **out)
{
	const ax_reg *reg = reg_opt(drive, id);

	if (!reg)
		return ax__error_set(
		        AX_EUNSUPPORTED,
		        "drive '%s': its dictionary has no register '%s' on subnode 0: "
		        "no drive-side monitoring or disturbance",
		        ax_drive_uri(drive), id);
	*out = reg;
	return 0;
}

static int put(ax_drive *drive, const char *id, int64_t value)
{
	const ax_reg *reg = NULL;
	int err = reg_need(drive, id, &reg);

	return err < 0 ? err : ax__drive_reg_write_i64(drive, reg, value);
}

static int put_opt(ax_drive *drive, const char *id, int64_t value)
{
	const ax_reg *reg = reg_opt(drive, id);

	return reg ? ax__drive_reg_write_i64(drive, reg, value) : 0;
}

static int get(ax_drive *drive, const char *id, int64_t *out)
{
	const ax_reg *reg = NULL;
	int err = reg_need(drive, id, &reg);

	return err < 0 ? err : ax__drive_reg_read_i64(drive, reg, out);
}

/*
 * The sampling base period of the drive in microseconds: monitoring and
 * disturbance run at the position and velocity loop rate (Hz) divided by
 * their prescaler.
 */
static int base_period_us(ax_drive *drive, double *out)
{
	static const struct {
		const char *id;
		int subnode;
	} src[] = {
	        {"DRV_POS_VEL_RATE", 1}, /* the position and velocity loop rate */
	};
	const ax_dict *dict = ax_drive_dict(drive);
	const ax_reg *reg = NULL;
	double hz;
	int err;

	for (size_t i = 0; dict && i < AX__ARRAY_SIZE(src); i++) {
		if (ax_dict_find(dict, src[i].id, src[i].subnode, &reg) < 0)
			continue;
		err = ax__drive_reg_read_f64(drive, reg, &hz);
		if (err < 0)
			return err;
		if (!(hz >= 1.0 && hz <= 1e7))
			return ax__error_set(AX_EPROTO,
			                     "drive '%s': base frequency '%s' = %g Hz is not a "
			                     "sampling rate",
			                     ax_drive_uri(drive), ax_reg_id(reg), hz);
		*out = 1e6 / hz;
		return 0;
	}
	return ax__error_set(AX_EUNSUPPORTED,
	                     "drive '%s': its dictionary gives no monitoring base frequency "
	                     "(DRV_POS_VEL_RATE)",
	                     ax_drive_uri(drive));
}

/*
 * How many channels the drive maps: the MON_CFG_REG<n>_MAP registers of its
 * dictionary (@prefix "MON_CFG_REG" or "DIST_CFG_REG"), bounded by the
 * limit register @limit_id when the dictionary has one.
 */
static int channel_limit(ax_drive *drive, const char *prefix, const char *limit_id, unsigned *out)
{
	char id[48];
	unsigned n = 0;
	const ax_reg *reg = NULL;
	int64_t limit;
	int err;

	while (n < AX_SCOPE_MAX_CHANNELS) {
		snprintf(id, sizeof(id), "%s%u_MAP", prefix, n);
		if (!reg_opt(drive, id))
			break;
		n++;
	}
	if (n == 0)
		return ax__error_set(AX_EUNSUPPORTED,
		                     "drive '%s': its dictionary has no register '%s0_MAP': no "
		                     "drive-side %s",
		                     ax_drive_uri(drive), prefix,
		                     prefix[0] == 'M' ? "monitoring" : "disturbance");
	reg = limit_id ? reg_opt(drive, limit_id) : NULL;
	if (reg) {
		err = ax__drive_reg_read_i64(drive, reg, &limit);
		if (err < 0)
			return err;
		if (limit >= 1 && limit < (int64_t)n)
			n = (unsigned)limit;
	}
	*out = n;
	return 0;
}

/* ---- channels ----------------------------------------------------------------- */

/* The dtype code of the map word (u8 0 ... float 8), or -1 when not monitorable. */
static int map_code(int dtype)
{
	switch (dtype) {
	case AX_DTYPE_U8:
	case AX_DTYPE_BOOL:
		return 0;
	case AX_DTYPE_S8:
		return 1;
	case AX_DTYPE_U16:
		return 2;
	case AX_DTYPE_S16:
		return 3;
	case AX_DTYPE_U32:
		return 4;
	case AX_DTYPE_S32:
		return 5;
	case AX_DTYPE_U64:
		return 6;
	case AX_DTYPE_S64:
		return 7;
	case AX_DTYPE_FLOAT:
		return 8;
	default:
		return -1;
	}
}

/*
 * Fill @c for register @reg: its map word from its monitoring address. A
 * register that cannot be monitored fails with a message naming it and why.
 */
static int channel_make(struct scope_channel *c, const ax_reg *reg, const char *what)
{
	int dtype = ax_reg_dtype(reg), code = map_code(dtype);
	uint32_t mon = 0;
	unsigned sub = 0;

	if (code < 0)
		return ax__error_set(
		        AX_EUNSUPPORTED, "register '%s' is a %s: only numbers can be %s",
		        ax_reg_id(reg), ax_dtype_name(dtype) ? ax_dtype_name(dtype) : "?", what);
	/* The dictionary's monitoring address: MonDistV3 (v3), the cyclic rule (v2). */
	if (!ax_reg_monitoring(reg, &mon, &sub)) {
		if (strcmp(ax_reg_cyclic(reg), "CONFIG") == 0)
			return ax__error_set(AX_EUNSUPPORTED,
			                     "register '%s' is a configuration register (cyclic "
			                     "CONFIG): it cannot be %s; take a cyclic one",
			                     ax_reg_id(reg), what);
		return ax__error_set(AX_EUNSUPPORTED,
		                     "register '%s' cannot be %s: its dictionary gives it no "
		                     "monitoring address",
		                     ax_reg_id(reg), what);
	}
	c->reg = reg;
	c->dtype = dtype == AX_DTYPE_BOOL ? AX_DTYPE_U8 : dtype;
	c->size = ax_dtype_size(c->dtype);
	c->map = (mon | (uint32_t)sub << 12) << 16 | (uint32_t)code << 8 | (uint32_t)c->size;
	return 0;
}

/* The prescaler for @period_us over base @base_us, or AX_ERANGE naming both. */
static int prescaler_for(double base_us, double period_us, uint32_t *out)
{
	double ratio, k;

	if (!isfinite(period_us) || period_us <= 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
		                           "sample period %g us is not a positive number",
		                           period_us);
	ratio = period_us / base_us;
	k = floor(ratio + 0.5);
	if (ratio < 1.0 - 1e-9)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
		                           "sample period %g us is below the drive's base period "
		                           "%g us (the fastest it samples)",
		                           period_us, base_us);
	if (fabs(ratio - k) > 1e-6 * k || k > UINT16_MAX)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
		                           "sample period %g us is not a multiple of the drive's "
		                           "base period %g us (nearest: %g us or %g us)",
		                           period_us, base_us, floor(ratio) * base_us,
		                           ceil(ratio) * base_us);
	*out = (uint32_t)k;
	return 0;
}

/* ---- the scope ------------------------------------------------------------------ */

int ax_scope_new(ax_scope **out, ax_drive *drive)
{
	ax_scope *s;
	int err;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(drive);
	if (!ax_drive_dict(drive))
		return ax__error_set(AX_EUNSUPPORTED,
		                     "drive '%s' has no dictionary: the monitoring registers are "
		                     "found by name",
		                     ax_drive_uri(drive));
	s = calloc(1, sizeof(*s));
	if (!s)
		return ax__error_oom();
	atomic_init(&s->refs, 1);
	s->drive = ax_drive_ref(drive);
	s->link = ax_drive_link(drive);
	s->prescaler = 1;
	s->samples = 1000;
	s->version = reg_opt(drive, "MON_DIST_VERSION") ? 3 : 2;
	err = channel_limit(drive, "MON_CFG_REG", "MON_CFG_MAX_MAP", &s->max_channels);
	if (err < 0)
		goto fail;
	err = base_period_us(drive, &s->base_us);
	if (err < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	ax_scope_unref(s);
	return err;
}

ax_scope *ax_scope_ref(ax_scope *scope)
{
	if (scope)
		atomic_fetch_add(&scope->refs, 1);
	return scope;
}

ax_scope *ax_scope_unref(ax_scope *scope)
{
	if (scope && atomic_fetch_sub(&scope->refs, 1) == 1) {
		free(scope->raw);
		free(scope->data);
		ax_drive_unref(scope->drive);
		free(scope);
	}
	return NULL;
}

ax_drive *ax_scope_drive(const ax_scope *scope)
{
	return scope ? scope->drive : NULL;
}

unsigned ax_scope_max_channels(const ax_scope *scope)
{
	return scope ? scope->max_channels : 0;
}

double ax_scope_base_period_us(const ax_scope *scope)
{
	return scope ? scope->base_us : 0.0;
}

static void scope_drop_data(ax_scope *s)
{
	free(s->raw);
	free(s->data);
	s->raw = NULL;
	s->data = NULL;
	s->raw_len = 0;
	s->count = 0;
}

int ax_scope_add_channel_reg(ax_scope *scope, const ax_reg *reg)
{
	struct scope_channel c = {0};
	int err;

	AX_ASSERT_ARG(scope);
	AX_ASSERT_ARG(reg);
	if (scope->armed)
		return ax__error_set(AX_EBUSY, "the scope is armed: disable it to change channels");
	if (scope->n_ch >= scope->max_channels)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
		                           "too many channels: drive '%s' samples at most %u "
		                           "registers, '%s' would be channel %u",
		                           ax_drive_uri(scope->drive), scope->max_channels,
		                           ax_reg_id(reg), scope->n_ch + 1);
	err = channel_make(&c, reg, "monitored");
	if (err < 0)
		return err;
	c.off = scope->block;
	scope->ch[scope->n_ch] = c;
	scope->block += c.size;
	scope_drop_data(scope);
	return (int)scope->n_ch++;
}

int ax_scope_add_channel(ax_scope *scope, const char *id, int subnode)
{
	const ax_reg *reg = NULL;
	int err;

	AX_ASSERT_ARG(scope);
	AX_ASSERT_ARG(id);
	err = ax_drive_find(scope->drive, id, subnode, &reg);
	return err < 0 ? err : ax_scope_add_channel_reg(scope, reg);
}

void ax_scope_clear_channels(ax_scope *scope)
{
	if (!scope || scope->armed)
		return;
	scope->n_ch = 0;
	scope->block = 0;
	scope->trigger = AX_SCOPE_TRIGGER_IMMEDIATE;
	scope_drop_data(scope);
}

unsigned ax_scope_channel_count(const ax_scope *scope)
{
	return scope ? scope->n_ch : 0;
}

const ax_reg *ax_scope_channel_reg(const ax_scope *scope, unsigned channel)
{
	return scope && channel < scope->n_ch ? scope->ch[channel].reg : NULL;
}

int ax_scope_set_period_us(ax_scope *scope, double period_us)
{
	uint32_t k;
	int err;

	AX_ASSERT_ARG(scope);
	err = prescaler_for(scope->base_us, period_us, &k);
	if (err < 0)
		return err;
	scope->prescaler = k;
	return 0;
}

double ax_scope_period_us(const ax_scope *scope)
{
	return scope ? scope->base_us * scope->prescaler : 0.0;
}

/*
 * The 32 bits the drive compares an edge trigger's samples with: the level
 * in the channel's type, sign-extended for the signed integers, the bits of
 * the float for a float.
 */
static int level_bits(const struct scope_channel *c, double level, uint8_t out[4])
{
	uint8_t buf[8];
	size_t len = 0;
	int64_t v;
	int err;

	if (c->size > 4)
		return ax__error_set(AX_EUNSUPPORTED,
		                     "trigger channel '%s' is a %s: the drive compares 32 bits; "
		                     "trigger on a register of 32 bits or fewer",
		                     ax_reg_id(c->reg), ax_dtype_name(c->dtype));
	err = ax_value_from_f64(c->dtype, level, 0, buf, sizeof(buf), &len);
	if (err < 0) {
		ax__error_prefix("trigger level for '%s'", ax_reg_id(c->reg));
		return ax__error_recode(AX_ERRCLASS_ARGUMENT, err);
	}
	if (c->dtype == AX_DTYPE_FLOAT) {
		memcpy(out, buf, 4);
		return 0;
	}
	err = ax_value_to_i64(c->dtype, buf, len, &v);
	if (err < 0)
		return err;
	ax__le_put(out, (uint64_t)v, 4);
	return 0;
}

int ax_scope_set_trigger(ax_scope *scope, int trigger, unsigned channel, double level)
{
	uint8_t bits[4];
	int err;

	AX_ASSERT_ARG(scope);
	if (trigger < AX_SCOPE_TRIGGER_IMMEDIATE || trigger > AX_SCOPE_TRIGGER_EITHER)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "unknown scope trigger %d", trigger);
	if (trigger != AX_SCOPE_TRIGGER_IMMEDIATE) {
		if (channel >= scope->n_ch)
			return ax__error_set_class(
			        AX_ERRCLASS_ARGUMENT, AX_EINVAL,
			        "trigger channel %u is not mapped (the scope has "
			        "%u channels)",
			        channel, scope->n_ch);
		err = level_bits(&scope->ch[channel], level, bits);
		if (err < 0)
			return err;
	}
	scope->trigger = trigger;
	scope->trig_ch = channel;
	scope->level = level;
	return 0;
}

int ax_scope_set_samples(ax_scope *scope, uint32_t samples, uint32_t pre)
{
	AX_ASSERT_ARG(scope);
	if (samples == 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
		                           "a capture needs at least one sample");
	if (pre >= samples)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
		                           "%u pre-trigger samples leave none of the %u after the "
		                           "trigger",
		                           pre, samples);
	scope->samples = samples;
	scope->pre = pre;
	scope->t0 = pre;
	return 0;
}

/* Refuse a capture the drive's buffer cannot hold (when it says its size). */
static int scope_check_buffer(ax_scope *s)
{
	const ax_reg *reg = reg_opt(s->drive, "MON_MAX_SIZE");
	uint64_t need = (uint64_t)s->samples * s->block;
	int64_t max;
	int err;

	if (!reg)
		return 0;
	err = ax__drive_reg_read_i64(s->drive, reg, &max);
	if (err < 0)
		return err;
	if (max > 0 && need > (uint64_t)max)
		return ax__error_set_class(
		        AX_ERRCLASS_ARGUMENT, AX_ERANGE,
		        "%u samples of %zu bytes (%llu bytes) exceed the drive's "
		        "monitoring buffer of %lld bytes: at most %llu samples",
		        s->samples, s->block, (unsigned long long)need, (long long)max,
		        (unsigned long long)((uint64_t)max / s->block));
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * After an edge-triggered arm: wait until the drive has its pre-trigger
 * samples and compares with the level (stage "waiting for the trigger" or
 * later), so that an edge the caller causes after ax_scope_arm() returns is
 * seen, not swallowed while the pre-trigger buffer fills.
 */
static int scope_until_watching(ax_scope *s)
{
	uint32_t stage_mask = s->version >= 3 ? MON_ST_STAGE_V3 : MON_ST_STAGE_V2;
	uint32_t frame = s->version >= 3 ? MON_ST_FRAME_V3 : MON_ST_FRAME_V2;
	int64_t status = 0, deadline;
	const ax_reg *st = NULL;
	int err = reg_need(s->drive, "MON_DIST_STATUS", &st);

	if (err < 0)
		return err;
	deadline = ax__now_ms() + 2000 + (int64_t)(s->pre * ax_scope_period_us(s) / 1e3);
	for (;;) {
		err = ax__drive_reg_read_i64(s->drive, st, &status);
		if (err < 0)
			return err;
		if (((uint64_t)status & stage_mask) >= MON_STAGE_WAIT_TRIGGER ||
		    ((uint64_t)status & frame))
			return 0;
		if (ax__now_ms() >= deadline)
			return ax__error_set(AX_ETIMEDOUT,
			                     "scope on '%s': the drive took no pre-trigger samples "
			                     "(status 0x%llX)",
			                     ax_drive_uri(s->drive), (unsigned long long)status);
		sleep_ms(1);
	}
}

/* Write the scope's configuration; enable when @enable. */
static int scope_configure(ax_scope *s, int enable)
{
	ax_drive *d = s->drive;
	const ax_reg *reg = NULL;
	char id[48];
	uint8_t bits[4];
	int err;

	if (s->n_ch == 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "the scope has no channels: add a register first");
	err = scope_check_buffer(s);
	if (err < 0)
		return err;
	s->armed = 0;
	scope_drop_data(s);
	err = put(d, "MON_DIST_ENABLE", 0);
	if (err < 0)
		return err;
	err = put_opt(d, "MON_REMOVE_DATA", 1);
	if (err < 0)
		return err;
	reg = reg_opt(d, "MON_CFG_TOTAL_MAP");
	if (reg && (ax_reg_access(reg) & AX_REG_WRITE)) {
		err = ax__drive_reg_write_i64(d, reg, 0);
		if (err < 0)
			return err;
	}
	err = put(d, "MON_DIST_FREQ_DIV", s->prescaler);
	if (err < 0)
		return err;
	for (unsigned i = 0; i < s->n_ch; i++) {
		snprintf(id, sizeof(id), "MON_CFG_REG%u_MAP", i);
		err = put(d, id, s->ch[i].map);
		if (err < 0)
			return err;
	}
	if (reg && (ax_reg_access(reg) & AX_REG_WRITE)) {
		err = ax__drive_reg_write_i64(d, reg, s->n_ch);
		if (err < 0)
			return err;
	}
	if (s->trigger == AX_SCOPE_TRIGGER_IMMEDIATE) {
		err = put(d, "MON_CFG_SOC_TYPE", SOC_AUTO);
	} else {
		static const int eoc[] = {0, EOC_RISING, EOC_FALLING, EOC_EITHER};

		err = put(d, "MON_CFG_SOC_TYPE", SOC_EDGE);
		if (err == 0)
			err = put(d, "MON_CFG_EOC_TYPE", eoc[s->trigger]);
		if (err == 0)
			err = level_bits(&s->ch[s->trig_ch], s->level, bits);
		if (err == 0)
			err = reg_need(d, "MON_CFG_RISING_CONDITION", &reg);
		/* Raw bits of the channel's type: the register's own type does not apply. */
		if (err == 0)
			err = ax_link_write(s->link, ax_reg_subnode(reg), ax_reg_address(reg), bits,
			                    4);
		if (err == 0)
			err = put(d, "MON_IDX_CHECK", s->trig_ch);
	}
	if (err < 0)
		return err;
	err = put(d, "MON_CFG_TRIGGER_DELAY", s->pre);
	if (err < 0)
		return err;
	err = put(d, "MON_CFG_WINDOW_SAMP", s->samples);
	if (err < 0)
		return err;
	if (enable) {
		err = put(d, "MON_DIST_ENABLE", 1);
		if (err < 0)
			return err;
		s->armed = 1;
		if (s->trigger != AX_SCOPE_TRIGGER_IMMEDIATE)
			return scope_until_watching(s);
	}
	return 0;
}

int ax_scope_arm(ax_scope *scope)
{
	AX_ASSERT_ARG(scope);
	return scope_configure(scope, 1);
}

int ax_scope_rearm(ax_scope *scope)
{
	const ax_reg *reg = NULL;
	int err;

	AX_ASSERT_ARG(scope);
	reg = reg_opt(scope->drive, "MON_REARM");
	if (!scope->armed || !reg)
		return ax_scope_arm(scope);
	err = ax__drive_reg_write_i64(scope->drive, reg, 1);
	if (err < 0)
		return err;
	scope_drop_data(scope);
	return 0;
}

int ax_scope_disable(ax_scope *scope)
{
	int err;

	AX_ASSERT_ARG(scope);
	scope->armed = 0;
	err = put(scope->drive, "MON_DIST_ENABLE", 0);
	return err < 0 ? err : put_opt(scope->drive, "MON_REMOVE_DATA", 1);
}

static const char *stage_name(unsigned stage)
{
	switch (stage) {
	case 0x0:
		return "init";
	case 0x2:
		return "filling pre-trigger data";
	case MON_STAGE_WAIT_TRIGGER:
		return "waiting for the trigger";
	case 0x6:
		return "acquiring";
	case MON_STAGE_END:
		return "end";
	default:
		return "unknown";
	}
}

int ax_scope_wait(ax_scope *scope, int timeout_ms, ax_cancel *cancel)
{
	int64_t deadline;
	uint32_t frame, stage_mask;
	const ax_reg *st = NULL;
	int64_t status = 0;
	int err;

	AX_ASSERT_ARG(scope);
	if (!scope->armed)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "the scope is not armed: ax_scope_arm() first");
	err = reg_need(scope->drive, "MON_DIST_STATUS", &st);
	if (err < 0)
		return err;
	frame = scope->version >= 3 ? MON_ST_FRAME_V3 : MON_ST_FRAME_V2;
	stage_mask = scope->version >= 3 ? MON_ST_STAGE_V3 : MON_ST_STAGE_V2;
	deadline = timeout_ms > 0 ? ax__now_ms() + timeout_ms : INT64_MAX;
	for (;;) {
		if (ax_cancel_requested(cancel))
			return ax__error_set(AX_ECANCELED, "scope wait on '%s': cancelled",
			                     ax_drive_uri(scope->drive));
		err = ax__drive_reg_read_i64(scope->drive, st, &status);
		if (err < 0)
			return err;
		if ((uint64_t)status & frame)
			return 0;
		if (!((uint64_t)status & MON_ST_ENABLED))
			return ax__error_set(AX_EPROTO,
			                     "scope on '%s': the drive's monitoring stopped before "
			                     "the capture was complete (status 0x%llX)",
			                     ax_drive_uri(scope->drive),
			                     (unsigned long long)status);
		if (ax__now_ms() >= deadline) {
			unsigned stage = (unsigned)status & stage_mask;

			return ax__error_set(AX_ETIMEDOUT,
			                     "scope on '%s': no complete capture within %d ms (%s, "
			                     "status 0x%llX)",
			                     ax_drive_uri(scope->drive), timeout_ms,
			                     stage == MON_STAGE_WAIT_TRIGGER
			                             ? "the trigger never came"
			                             : stage_name(stage),
			                     (unsigned long long)status);
		}
		sleep_ms(POLL_MS);
	}
}

/* Bytes the drive still holds: MON_CFG_BYTES_VALUE, else samples x block. */
static int scope_available(ax_scope *s, uint64_t *out)
{
	const ax_reg *reg = reg_opt(s->drive, "MON_CFG_BYTES_VALUE");
	int64_t v;
	int err;

	if (reg) {
		err = ax__drive_reg_read_i64(s->drive, reg, &v);
		*out = v > 0 ? (uint64_t)v : 0;
	} else {
		err = get(s->drive, "MON_CFG_CYCLES_VALUE", &v);
		*out = v > 0 ? (uint64_t)v * s->block : 0;
	}
	s->wire += 2 * MCB_HEADER;
	return err;
}

static int scope_decode(ax_scope *s)
{
	size_t n = s->raw_len / s->block;
	double period = ax_scope_period_us(s) * 1e-6, *t;
	int err;

	s->data = malloc(((size_t)s->n_ch + 1) * (n ? n : 1) * sizeof(double));
	if (!s->data)
		return ax__error_oom();
	t = s->data + (size_t)s->n_ch * n;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = s->raw + i * s->block;

		for (unsigned c = 0; c < s->n_ch; c++) {
			err = ax_value_to_f64(s->ch[c].dtype, b + s->ch[c].off, s->ch[c].size,
			                      &s->data[(size_t)c * n + i]);
			if (err < 0)
				return err;
		}
		t[i] = ((double)i - (double)s->t0) * period;
	}
	s->count = n;
	return 0;
}

int ax_scope_fetch(ax_scope *scope)
{
	const ax_reg *data = NULL;
	uint64_t avail = 0, cap;
	uint8_t buf[EXT_PAYLOAD + 1];
	size_t len;
	int err;

	AX_ASSERT_ARG(scope);
	if (scope->n_ch == 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "the scope has no channels: add a register first");
	err = reg_need(scope->drive, "MON_DATA_VALUE", &data);
	if (err < 0)
		return err;
	scope_drop_data(scope);
	scope->wire = 0;
	cap = (uint64_t)scope->samples * scope->block;
	scope->raw = malloc(cap ? cap : 1);
	if (!scope->raw)
		return ax__error_oom();
	err = scope_available(scope, &avail);
	while (err == 0 && avail > 0) {
		while (avail > 0) {
			err = ax_link_read(scope->link, ax_reg_subnode(data), ax_reg_address(data),
			                   buf, sizeof(buf), &len);
			if (err < 0)
				goto fail;
			scope->wire += 2 * MCB_HEADER + (len > 8 ? len : 0);
			if (len == 0 || len > EXT_PAYLOAD)
				return ax__error_set(
				        AX_EPROTO,
				        "drive '%s': a read of '%s' returned %zu bytes "
				        "with %llu still available",
				        ax_drive_uri(scope->drive), ax_reg_id(data), len,
				        (unsigned long long)avail);
			if (len > avail)
				len = (size_t)avail; /* a plain reply pads to 8 bytes */
			if (scope->raw_len + len > cap)
				return ax__error_set(
				        AX_EPROTO,
				        "drive '%s': the capture holds more than the %llu "
				        "bytes of %u samples",
				        ax_drive_uri(scope->drive), (unsigned long long)cap,
				        scope->samples);
			memcpy(scope->raw + scope->raw_len, buf, len);
			scope->raw_len += len;
			avail -= len;
		}
		err = scope_available(scope, &avail);
	}
	if (err < 0)
		goto fail;
	if (scope->raw_len % scope->block)
		return ax__error_set(AX_EPROTO,
		                     "drive '%s': the capture has %zu bytes, not whole samples of "
		                     "%zu bytes",
		                     ax_drive_uri(scope->drive), scope->raw_len, scope->block);
	err = scope_decode(scope);
	if (err < 0)
		goto fail;
	return (int)scope->count;
fail:
	scope_drop_data(scope);
	return err;
}

int ax_scope_capture(ax_scope *scope, int timeout_ms, ax_cancel *cancel)
{
	int err = ax_scope_arm(scope);

	if (err == 0)
		err = ax_scope_wait(scope, timeout_ms, cancel);
	return err < 0 ? err : ax_scope_fetch(scope);
}

size_t ax_scope_sample_count(const ax_scope *scope)
{
	return scope ? scope->count : 0;
}

const double *ax_scope_data(const ax_scope *scope, unsigned channel)
{
	if (!scope || channel >= scope->n_ch || !scope->data)
		return NULL;
	return scope->data + (size_t)channel * scope->count;
}

const double *ax_scope_time(const ax_scope *scope)
{
	if (!scope || !scope->data)
		return NULL;
	return scope->data + (size_t)scope->n_ch * scope->count;
}

const uint8_t *ax_scope_raw(const ax_scope *scope, size_t *len_out)
{
	if (len_out)
		*len_out = scope && scope->data ? scope->count * scope->block : 0;
	return scope && scope->data ? scope->raw : NULL;
}

size_t ax_scope_block_size(const ax_scope *scope)
{
	return scope ? scope->block : 0;
}

size_t ax_scope_channel_offset(const ax_scope *scope, unsigned channel)
{
	return scope && channel < scope->n_ch ? scope->ch[channel].off : 0;
}

uint64_t ax_scope_wire_bytes(const ax_scope *scope)
{
	return scope ? scope->wire : 0;
}

/* ---- disturbance ------------------------------------------------------------------ */

int ax_disturbance_new(ax_disturbance **out, ax_drive *drive)
{
	ax_disturbance *d;
	const ax_reg *reg = NULL;
	int err;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(drive);
	if (!ax_drive_dict(drive))
		return ax__error_set(AX_EUNSUPPORTED,
		                     "drive '%s' has no dictionary: the disturbance registers are "
		                     "found by name",
		                     ax_drive_uri(drive));
	d = calloc(1, sizeof(*d));
	if (!d)
		return ax__error_oom();
	atomic_init(&d->refs, 1);
	d->drive = ax_drive_ref(drive);
	d->link = ax_drive_link(drive);
	d->prescaler = 1;
	err = reg_need(drive, "DIST_DATA_VALUE", &reg);
	if (err < 0)
		goto fail;
	err = channel_limit(drive, "DIST_CFG_REG", "DIST_CFG_MAX_MAP", &d->max_channels);
	if (err < 0)
		goto fail;
	err = base_period_us(drive, &d->base_us);
	if (err < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	ax_disturbance_unref(d);
	return err;
}

ax_disturbance *ax_disturbance_ref(ax_disturbance *dist)
{
	if (dist)
		atomic_fetch_add(&dist->refs, 1);
	return dist;
}

ax_disturbance *ax_disturbance_unref(ax_disturbance *dist)
{
	if (dist && atomic_fetch_sub(&dist->refs, 1) == 1) {
		for (unsigned i = 0; i < dist->n_ch; i++)
			free(dist->wave[i]);
		ax_drive_unref(dist->drive);
		free(dist);
	}
	return NULL;
}

int ax_disturbance_add_channel(ax_disturbance *dist, const char *id, int subnode)
{
	struct scope_channel c = {0};
	const ax_reg *reg = NULL;
	int err;

	AX_ASSERT_ARG(dist);
	AX_ASSERT_ARG(id);
	err = ax_drive_find(dist->drive, id, subnode, &reg);
	if (err < 0)
		return err;
	if (dist->n_ch >= dist->max_channels)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
		                           "too many channels: drive '%s' drives at most %u "
		                           "registers with a disturbance",
		                           ax_drive_uri(dist->drive), dist->max_channels);
	if (!(ax_reg_access(reg) & AX_REG_WRITE))
		return ax__error_set(AX_EACCESS,
		                     "register '%s' is read-only: a disturbance writes its target",
		                     ax_reg_id(reg));
	err = channel_make(&c, reg, "driven by a disturbance");
	if (err < 0)
		return err;
	c.off = dist->block;
	dist->ch[dist->n_ch] = c;
	dist->block += c.size;
	dist->loaded = 0;
	return (int)dist->n_ch++;
}

int ax_disturbance_set_period_us(ax_disturbance *dist, double period_us)
{
	uint32_t k;
	int err;

	AX_ASSERT_ARG(dist);
	err = prescaler_for(dist->base_us, period_us, &k);
	if (err < 0)
		return err;
	dist->prescaler = k;
	return 0;
}

/* The dictionary's range of @reg as doubles; 0 when it has none. */
static int reg_range_f64(const ax_reg *reg, double *lo, double *hi)
{
	const char *min, *max;
	char *e1, *e2;

	if (!ax_reg_range(reg, &min, &max))
		return 0;
	*lo = strtod(min, &e1);
	*hi = strtod(max, &e2);
	return *e1 == '\0' && *e2 == '\0' && e1 != min && e2 != max;
}

int ax_disturbance_set_waveform(ax_disturbance *dist, unsigned channel, const double *samples,
                                size_t n)
{
	const struct scope_channel *c;
	uint8_t *w;
	double lo = 0, hi = 0;
	int ranged, err;
	size_t len;

	AX_ASSERT_ARG(dist);
	AX_ASSERT_ARG(samples || n == 0);
	if (channel >= dist->n_ch)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "disturbance channel %u does not exist (%u channels)",
		                           channel, dist->n_ch);
	if (n == 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "a waveform needs at least one sample");
	for (unsigned i = 0; i < dist->n_ch; i++)
		if (i != channel && dist->wave[i] && dist->n != n)
			return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
			                           "waveform of %zu samples for channel %u, but "
			                           "channel %u has %zu: all channels play together",
			                           n, channel, i, dist->n);
	c = &dist->ch[channel];
	ranged = reg_range_f64(c->reg, &lo, &hi);
	w = malloc(n * c->size);
	if (!w)
		return ax__error_oom();
	for (size_t i = 0; i < n; i++) {
		err = ax_value_from_f64(c->dtype, samples[i], 0, w + i * c->size, c->size, &len);
		if (err == 0 && ranged && !(samples[i] >= lo && samples[i] <= hi))
			err = ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
			                          "%g is outside the range %g..%g", samples[i], lo,
			                          hi);
		if (err < 0) {
			free(w);
			ax__error_prefix("waveform sample %zu for register '%s'", i,
			                 ax_reg_id(c->reg));
			return ax__error_recode(AX_ERRCLASS_ARGUMENT, err);
		}
	}
	free(dist->wave[channel]);
	dist->wave[channel] = w;
	dist->n = n;
	dist->loaded = 0;
	return 0;
}

int ax_disturbance_load(ax_disturbance *dist)
{
	ax_drive *d;
	const ax_reg *reg, *data = NULL;
	uint8_t *buf = NULL;
	size_t total, chunk;
	int64_t max;
	char id[48];
	int err;

	AX_ASSERT_ARG(dist);
	d = dist->drive;
	if (dist->n_ch == 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "the disturbance has no channels: add a register first");
	for (unsigned i = 0; i < dist->n_ch; i++)
		if (!dist->wave[i])
			return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
			                           "disturbance channel %u ('%s') has no waveform",
			                           i, ax_reg_id(dist->ch[i].reg));
	total = dist->n * dist->block;
	reg = reg_opt(d, "DIST_MAX_SIZE");
	if (reg) {
		err = ax__drive_reg_read_i64(d, reg, &max);
		if (err < 0)
			return err;
		if (max > 0 && total > (uint64_t)max)
			return ax__error_set_class(
			        AX_ERRCLASS_ARGUMENT, AX_ERANGE,
			        "a waveform of %zu samples x %zu bytes exceeds the "
			        "drive's disturbance buffer of %lld bytes",
			        dist->n, dist->block, (long long)max);
	}
	err = reg_need(d, "DIST_DATA_VALUE", &data);
	if (err < 0)
		return err;
	dist->loaded = 0;
	dist->wire = 0;
	err = put_opt(d, "DIST_ENABLE", 0);
	if (err == 0)
		err = put_opt(d, "DIST_REMOVE_DATA", 1);
	if (err == 0)
		err = put_opt(d, "DIST_CFG_MAP_REGS", 0);
	if (err == 0)
		err = put(d, reg_opt(d, "DIST_FREQ_DIV") ? "DIST_FREQ_DIV" : "MON_DIST_FREQ_DIV",
		          dist->prescaler);
	for (unsigned i = 0; err == 0 && i < dist->n_ch; i++) {
		snprintf(id, sizeof(id), "DIST_CFG_REG%u_MAP", i);
		err = put(d, id, dist->ch[i].map);
	}
	if (err == 0)
		err = put_opt(d, "DIST_CFG_MAP_REGS", dist->n_ch);
	if (err == 0)
		err = put(d, "DIST_CFG_SAMPLES", (int64_t)dist->n);
	if (err < 0)
		return err;
	buf = malloc(total);
	if (!buf)
		return ax__error_oom();
	for (size_t i = 0; i < dist->n; i++)
		for (unsigned c = 0; c < dist->n_ch; c++)
			memcpy(buf + i * dist->block + dist->ch[c].off,
			       dist->wave[c] + i * dist->ch[c].size, dist->ch[c].size);
	/* Whole samples per write, as many as 512 bytes hold. */
	chunk = EXT_PAYLOAD / dist->block * dist->block;
	for (size_t off = 0; off < total; off += chunk) {
		size_t len = total - off < chunk ? total - off : chunk;

		err = ax_link_write(dist->link, ax_reg_subnode(data), ax_reg_address(data),
		                    buf + off, len);
		if (err < 0)
			break;
		dist->wire += 2 * MCB_HEADER + (len > 8 ? len : 0);
	}
	free(buf);
	if (err < 0)
		return err;
	dist->loaded = 1;
	return 0;
}

/*
 * Arm @scope so that its first sample is the waveform's first: the capture
 * triggers on the first change of the first target's waveform (sample k >= 1
 * differs from sample k - 1), on the edge that change makes through the
 * level of sample k, with k pre-trigger samples. The target holds a constant
 * value before the waveform and the same one from sample 0 to k - 1, so no
 * earlier crossing of that level in that direction exists; both engines run
 * at one prescaler and the drive samples after it plays a sample in a tick,
 * so sample k of the capture is sample k of the waveform. A waveform that
 * never changes has no edge: the capture then starts at once.
 */
static int dist_sync_scope(ax_disturbance *dist, ax_scope *scope)
{
	const struct scope_channel *t = &dist->ch[0];
	int ch = -1, err;
	size_t k;
	double prev = 0, now = 0;

	for (unsigned i = 0; i < scope->n_ch; i++)
		if (scope->ch[i].reg == t->reg)
			ch = (int)i;
	if (ch < 0) {
		ch = ax_scope_add_channel_reg(scope, t->reg);
		if (ch < 0)
			return ch;
	}
	scope->prescaler = dist->prescaler;
	for (k = 1; k < dist->n; k++) {
		err = ax_value_to_f64(t->dtype, dist->wave[0] + (k - 1) * t->size, t->size, &prev);
		if (err == 0)
			err = ax_value_to_f64(t->dtype, dist->wave[0] + k * t->size, t->size, &now);
		if (err < 0)
			return err;
		if (prev != now)
			break;
	}
	if (k == dist->n || t->size > 4) {
		scope->trigger = AX_SCOPE_TRIGGER_IMMEDIATE;
		scope->pre = 0;
	} else {
		if (k >= scope->samples)
			return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_ERANGE,
			                           "the waveform first changes at sample %zu, past "
			                           "the %u samples of the capture",
			                           k, scope->samples);
		scope->trigger = now > prev ? AX_SCOPE_TRIGGER_RISING : AX_SCOPE_TRIGGER_FALLING;
		scope->trig_ch = (unsigned)ch;
		scope->level = now;
		scope->pre = (uint32_t)k;
	}
	scope->t0 = 0;
	return 0;
}

int ax_disturbance_start(ax_disturbance *dist, ax_scope *scope)
{
	int err;

	AX_ASSERT_ARG(dist);
	if (!dist->loaded)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "the disturbance is not loaded: ax_disturbance_load() "
		                           "first");
	if (scope && scope->drive != dist->drive)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "the scope is on drive '%s', the disturbance on '%s'",
		                           ax_drive_uri(scope->drive), ax_drive_uri(dist->drive));
	if (scope) {
		err = dist_sync_scope(dist, scope);
		if (err == 0)
			err = scope_configure(scope, 1); /* armed before the waveform starts */
		if (err < 0)
			return err;
	}
	/* Without a DIST_ENABLE (before v3) the one enable starts both engines. */
	return put(dist->drive,
	           reg_opt(dist->drive, "DIST_ENABLE") ? "DIST_ENABLE" : "MON_DIST_ENABLE", 1);
}

int ax_disturbance_wait(ax_disturbance *dist, int timeout_ms, ax_cancel *cancel)
{
	const ax_reg *st;
	int64_t deadline, end, status = 0;
	uint64_t playing = 0;
	int err;

	AX_ASSERT_ARG(dist);
	if (!dist->loaded)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "the disturbance is not loaded: ax_disturbance_load() "
		                           "first");
	deadline = timeout_ms > 0 ? ax__now_ms() + timeout_ms : INT64_MAX;
	/* Without a "playing" bit the waveform's own length, in wall time. */
	end = ax__now_ms() + (int64_t)ceil((double)dist->n * dist->base_us * dist->prescaler / 1e3);
	st = reg_opt(dist->drive, "DIST_STATUS");
	if (st && ax_reg_bitfield_get(st, "DISTURBANCE_PLAYING", 0, &playing) < 0)
		st = NULL;
	for (;;) {
		if (ax_cancel_requested(cancel))
			return ax__error_set(AX_ECANCELED, "disturbance wait on '%s': cancelled",
			                     ax_drive_uri(dist->drive));
		if (st) {
			err = ax__drive_reg_read_i64(dist->drive, st, &status);
			if (err < 0)
				return err;
			err = ax_reg_bitfield_get(st, "DISTURBANCE_PLAYING", (uint64_t)status,
			                          &playing);
			if (err < 0 || !playing || !(status & 1))
				return 0;
		} else if (ax__now_ms() >= end) {
			return 0;
		}
		if (ax__now_ms() >= deadline)
			return ax__error_set(AX_ETIMEDOUT,
			                     "disturbance on '%s': still playing after %d ms",
			                     ax_drive_uri(dist->drive), timeout_ms);
		sleep_ms(POLL_MS);
	}
}

int ax_disturbance_stop(ax_disturbance *dist)
{
	int err;

	AX_ASSERT_ARG(dist);
	err = put_opt(dist->drive, "DIST_ENABLE", 0);
	return err < 0 ? err : put_opt(dist->drive, "DIST_REMOVE_DATA", 1);
}

uint64_t ax_disturbance_wire_bytes(const ax_disturbance *dist)
{
	return dist ? dist->wire : 0;
}
