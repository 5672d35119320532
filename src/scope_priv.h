/* SPDX-License-Identifier: MIT */
/*
 * Internal to the drive-side capture (scope.c: monitoring, disturbance.c:
 * disturbance): the protocol's constants, the channel and scope structs,
 * and the helpers both use. Not installed.
 */
#ifndef AXLINK_SRC_SCOPE_PRIV_H
#define AXLINK_SRC_SCOPE_PRIV_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "axlink/drive.h"
#include "axlink/link.h"
#include "axlink/scope.h"

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

/*
 * Helpers of scope.c that disturbance.c uses too: registers by id (the
 * dictionary's; reg_need sets a clear error for a missing one), the base
 * period and channel limit of the drive, a channel's map word, a period as
 * a prescaler, and writing the monitoring configuration.
 */
const ax_reg *ax__scope_reg_opt(ax_drive *drive, const char *id);
int ax__scope_reg_need(ax_drive *drive, const char *id, const ax_reg **out);
int ax__scope_put(ax_drive *drive, const char *id, int64_t value);
int ax__scope_put_opt(ax_drive *drive, const char *id, int64_t value);
int ax__scope_base_period_us(ax_drive *drive, double *out);
int ax__scope_channel_limit(ax_drive *drive, const char *prefix, const char *limit_id,
                            unsigned *out);
int ax__scope_channel_make(struct scope_channel *c, const ax_reg *reg, const char *what);
int ax__scope_prescaler_for(double base_us, double period_us, uint32_t *out);
void ax__scope_sleep_ms(int ms);
int ax__scope_configure(ax_scope *s, int enable);

#endif
