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
#include "scope_priv.h"
#include "util.h"

/* ---- registers by id -------------------------------------------------------- */

const ax_reg *ax__scope_reg_opt(ax_drive *drive, const char *id)
{
	const ax_dict *dict = ax_drive_dict(drive);
	const ax_reg *reg = NULL;

	if (!dict || ax_dict_find(dict, id, MON_SUBNODE, &reg) < 0)
		return NULL;
	return reg;
}

int ax__scope_reg_need(ax_drive *drive, const char *id, const ax_reg **out)
{
	const ax_reg *reg = ax__scope_reg_opt(drive, id);

	if (!reg)
		return ax__error_set(
		        AX_EUNSUPPORTED,
		        "drive '%s': its dictionary has no register '%s' on subnode 0: "
		        "no drive-side monitoring or disturbance",
		        ax_drive_uri(drive), id);
	*out = reg;
	return 0;
}

int ax__scope_put(ax_drive *drive, const char *id, int64_t value)
{
	const ax_reg *reg = NULL;
	int err = ax__scope_reg_need(drive, id, &reg);

	return err < 0 ? err : ax__drive_reg_write_i64(drive, reg, value);
}

int ax__scope_put_opt(ax_drive *drive, const char *id, int64_t value)
{
	const ax_reg *reg = ax__scope_reg_opt(drive, id);

	return reg ? ax__drive_reg_write_i64(drive, reg, value) : 0;
}

static int get(ax_drive *drive, const char *id, int64_t *out)
{
	const ax_reg *reg = NULL;
	int err = ax__scope_reg_need(drive, id, &reg);

	return err < 0 ? err : ax__drive_reg_read_i64(drive, reg, out);
}

/*
 * The sampling base period of the drive in microseconds: monitoring and
 * disturbance run at the position and velocity loop rate (Hz) divided by
 * their prescaler.
 */
int ax__scope_base_period_us(ax_drive *drive, double *out)
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
int ax__scope_channel_limit(ax_drive *drive, const char *prefix, const char *limit_id,
                            unsigned *out)
{
	char id[48];
	unsigned n = 0;
	const ax_reg *reg = NULL;
	int64_t limit;
	int err;

	while (n < AX_SCOPE_MAX_CHANNELS) {
		snprintf(id, sizeof(id), "%s%u_MAP", prefix, n);
		if (!ax__scope_reg_opt(drive, id))
			break;
		n++;
	}
	if (n == 0)
		return ax__error_set(AX_EUNSUPPORTED,
		                     "drive '%s': its dictionary has no register '%s0_MAP': no "
		                     "drive-side %s",
		                     ax_drive_uri(drive), prefix,
		                     prefix[0] == 'M' ? "monitoring" : "disturbance");
	reg = limit_id ? ax__scope_reg_opt(drive, limit_id) : NULL;
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
int ax__scope_channel_make(struct scope_channel *c, const ax_reg *reg, const char *what)
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
int ax__scope_prescaler_for(double base_us, double period_us, uint32_t *out)
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
	s->version = ax__scope_reg_opt(drive, "MON_DIST_VERSION") ? 3 : 2;
	err = ax__scope_channel_limit(drive, "MON_CFG_REG", "MON_CFG_MAX_MAP", &s->max_channels);
	if (err < 0)
		goto fail;
	err = ax__scope_base_period_us(drive, &s->base_us);
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
	err = ax__scope_channel_make(&c, reg, "monitored");
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
	err = ax__scope_prescaler_for(scope->base_us, period_us, &k);
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
	const ax_reg *reg = ax__scope_reg_opt(s->drive, "MON_MAX_SIZE");
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

void ax__scope_sleep_ms(int ms)
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
	int err = ax__scope_reg_need(s->drive, "MON_DIST_STATUS", &st);

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
		ax__scope_sleep_ms(1);
	}
}

/* Write the scope's configuration; enable when @enable. */
int ax__scope_configure(ax_scope *s, int enable)
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
	err = ax__scope_put(d, "MON_DIST_ENABLE", 0);
	if (err < 0)
		return err;
	err = ax__scope_put_opt(d, "MON_REMOVE_DATA", 1);
	if (err < 0)
		return err;
	reg = ax__scope_reg_opt(d, "MON_CFG_TOTAL_MAP");
	if (reg && (ax_reg_access(reg) & AX_REG_WRITE)) {
		err = ax__drive_reg_write_i64(d, reg, 0);
		if (err < 0)
			return err;
	}
	err = ax__scope_put(d, "MON_DIST_FREQ_DIV", s->prescaler);
	if (err < 0)
		return err;
	for (unsigned i = 0; i < s->n_ch; i++) {
		snprintf(id, sizeof(id), "MON_CFG_REG%u_MAP", i);
		err = ax__scope_put(d, id, s->ch[i].map);
		if (err < 0)
			return err;
	}
	if (reg && (ax_reg_access(reg) & AX_REG_WRITE)) {
		err = ax__drive_reg_write_i64(d, reg, s->n_ch);
		if (err < 0)
			return err;
	}
	if (s->trigger == AX_SCOPE_TRIGGER_IMMEDIATE) {
		err = ax__scope_put(d, "MON_CFG_SOC_TYPE", SOC_AUTO);
	} else {
		static const int eoc[] = {0, EOC_RISING, EOC_FALLING, EOC_EITHER};

		err = ax__scope_put(d, "MON_CFG_SOC_TYPE", SOC_EDGE);
		if (err == 0)
			err = ax__scope_put(d, "MON_CFG_EOC_TYPE", eoc[s->trigger]);
		if (err == 0)
			err = level_bits(&s->ch[s->trig_ch], s->level, bits);
		if (err == 0)
			err = ax__scope_reg_need(d, "MON_CFG_RISING_CONDITION", &reg);
		/* Raw bits of the channel's type: the register's own type does not apply. */
		if (err == 0)
			err = ax_link_write(s->link, ax_reg_subnode(reg), ax_reg_address(reg), bits,
			                    4);
		if (err == 0)
			err = ax__scope_put(d, "MON_IDX_CHECK", s->trig_ch);
	}
	if (err < 0)
		return err;
	err = ax__scope_put(d, "MON_CFG_TRIGGER_DELAY", s->pre);
	if (err < 0)
		return err;
	err = ax__scope_put(d, "MON_CFG_WINDOW_SAMP", s->samples);
	if (err < 0)
		return err;
	if (enable) {
		err = ax__scope_put(d, "MON_DIST_ENABLE", 1);
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
	return ax__scope_configure(scope, 1);
}

int ax_scope_rearm(ax_scope *scope)
{
	const ax_reg *reg = NULL;
	int err;

	AX_ASSERT_ARG(scope);
	reg = ax__scope_reg_opt(scope->drive, "MON_REARM");
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
	err = ax__scope_put(scope->drive, "MON_DIST_ENABLE", 0);
	return err < 0 ? err : ax__scope_put_opt(scope->drive, "MON_REMOVE_DATA", 1);
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
	err = ax__scope_reg_need(scope->drive, "MON_DIST_STATUS", &st);
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
		ax__scope_sleep_ms(POLL_MS);
	}
}

/* Bytes the drive still holds: MON_CFG_BYTES_VALUE, else samples x block. */
static int scope_available(ax_scope *s, uint64_t *out)
{
	const ax_reg *reg = ax__scope_reg_opt(s->drive, "MON_CFG_BYTES_VALUE");
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
	err = ax__scope_reg_need(scope->drive, "MON_DATA_VALUE", &data);
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
