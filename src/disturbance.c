/* SPDX-License-Identifier: MIT */
/*
 * Disturbance: the DIST_* registers of MCB drives play a waveform into
 * mapped registers, one sample per base period times the prescaler,
 * started together with a monitoring capture (scope.c) for a synchronous
 * stimulus/response record. The waveform is laid out as captured data is:
 * one block per sample instant, the channels packed in map order, each
 * little-endian in its dtype.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axlink/link.h"
#include "axlink/scope.h"
#include "axlink/value.h"
#include "drive.h"
#include "error.h"
#include "scope_priv.h"
#include "util.h"

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
	err = ax__scope_reg_need(drive, "DIST_DATA_VALUE", &reg);
	if (err < 0)
		goto fail;
	err = ax__scope_channel_limit(drive, "DIST_CFG_REG", "DIST_CFG_MAX_MAP", &d->max_channels);
	if (err < 0)
		goto fail;
	err = ax__scope_base_period_us(drive, &d->base_us);
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
	err = ax__scope_channel_make(&c, reg, "driven by a disturbance");
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
	err = ax__scope_prescaler_for(dist->base_us, period_us, &k);
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
	reg = ax__scope_reg_opt(d, "DIST_MAX_SIZE");
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
	err = ax__scope_reg_need(d, "DIST_DATA_VALUE", &data);
	if (err < 0)
		return err;
	dist->loaded = 0;
	dist->wire = 0;
	err = ax__scope_put_opt(d, "DIST_ENABLE", 0);
	if (err == 0)
		err = ax__scope_put_opt(d, "DIST_REMOVE_DATA", 1);
	if (err == 0)
		err = ax__scope_put_opt(d, "DIST_CFG_MAP_REGS", 0);
	if (err == 0)
		err = ax__scope_put(d,
		                    ax__scope_reg_opt(d, "DIST_FREQ_DIV") ? "DIST_FREQ_DIV"
		                                                          : "MON_DIST_FREQ_DIV",
		                    dist->prescaler);
	for (unsigned i = 0; err == 0 && i < dist->n_ch; i++) {
		snprintf(id, sizeof(id), "DIST_CFG_REG%u_MAP", i);
		err = ax__scope_put(d, id, dist->ch[i].map);
	}
	if (err == 0)
		err = ax__scope_put_opt(d, "DIST_CFG_MAP_REGS", dist->n_ch);
	if (err == 0)
		err = ax__scope_put(d, "DIST_CFG_SAMPLES", (int64_t)dist->n);
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
			err = ax__scope_configure(scope, 1); /* armed before the waveform starts */
		if (err < 0)
			return err;
	}
	/* Without a DIST_ENABLE (before v3) the one enable starts both engines. */
	return ax__scope_put(dist->drive,
	                     ax__scope_reg_opt(dist->drive, "DIST_ENABLE") ? "DIST_ENABLE"
	                                                                   : "MON_DIST_ENABLE",
	                     1);
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
	st = ax__scope_reg_opt(dist->drive, "DIST_STATUS");
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
		ax__scope_sleep_ms(POLL_MS);
	}
}

int ax_disturbance_stop(ax_disturbance *dist)
{
	int err;

	AX_ASSERT_ARG(dist);
	err = ax__scope_put_opt(dist->drive, "DIST_ENABLE", 0);
	return err < 0 ? err : ax__scope_put_opt(dist->drive, "DIST_REMOVE_DATA", 1);
}

uint64_t ax_disturbance_wire_bytes(const ax_disturbance *dist)
{
	return dist ? dist->wire : 0;
}
