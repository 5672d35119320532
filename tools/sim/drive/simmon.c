/* SPDX-License-Identifier: MIT */
/*
 * Monitoring and disturbance of the simulated drive (protocol version 3).
 *
 * The engine keeps its configuration where a client writes it, in the
 * drive's registers, and checks it where a real drive does: a map word
 * naming a register that cannot be monitored is refused when written, an
 * enable that cannot run is refused when written. Everything it reports
 * (status, counts, block sizes) it writes into the drive's registers as it
 * changes, so reads need no help from here except MON_DATA_VALUE, whose
 * every read takes bytes out of the buffer.
 *
 * Time: simdrive_tick() steps the axes 1 ms at a time; after each step this
 * engine runs the step's 20 base ticks (20 kHz). At each tick a playing
 * disturbance writes its next sample, then a running capture takes one,
 * both counted from their start so that a disturbance started with the
 * capture plays sample i at the instant the capture takes sample i.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axlink/value.h"
#include "simmon.h"

#define SIMMON_CHANNELS 16
#define SIMMON_MAX_BLOCK (SIMMON_CHANNELS * 8)

/* Stages of a capture: MON_DIST_STATUS bits 1-3 (v3 mask 0x0E holds stage << 1). */
enum {
	STAGE_INIT = 0,
	STAGE_FILLING = 1, /* taking the pre-trigger samples */
	STAGE_WAITING = 2, /* waiting for the trigger */
	STAGE_ACQUIRING = 3,
	STAGE_END = 4,
};
#define STATUS_ENABLED 0x01u
#define STATUS_FRAME 0x10u
#define DIST_STATUS_ENABLED 0x01u
#define DIST_STATUS_PLAYING 0x02u

/* MON_CFG_SOC_TYPE and MON_CFG_EOC_TYPE values. */
enum { SOC_AUTO = 0, SOC_FORCED = 1, SOC_EDGE = 2 };
enum { EDGE_BOTH = 0, EDGE_RISING = 1, EDGE_FALLING = 2 };

/* Map word type codes (0 u8 .. 8 float) are the ax_dtype values U8..FLOAT minus 1. */
#define CODE_OF(dtype) ((unsigned)(dtype)-AX_DTYPE_U8)

struct chan {
	const simmodel_reg *reg;
	unsigned code; /* map word type code */
	unsigned size; /* bytes */
};

/* One engine's channels: the map words as checked, and the block they make. */
struct map {
	struct chan ch[SIMMON_CHANNELS];
	unsigned n;
	unsigned block; /* bytes of one sample of every channel */
};

struct simmon {
	simdrive *drive;
	const simmodel_table *table;
	uint8_t *store;
	int present; /* the model has the registers */
	/* The registers (NULL when the dictionary lacks one: it then reads nothing). */
	const simmodel_reg *status, *cycles, *data, *bytes, *max_size, *enable, *div, *delay,
	        *window, *total, *block, *remove, *soc, *eoc, *force, *level, *idx, *rearm;
	const simmodel_reg *d_status, *d_cycles, *d_data, *d_bytes, *d_max_size, *d_enable, *d_div,
	        *d_samples, *d_total, *d_block, *d_remove;
	const simmodel_reg *mon_word[SIMMON_CHANNELS], *dist_word[SIMMON_CHANNELS];

	/* The capture. */
	int enabled;
	int stage;
	struct map mon;
	uint32_t s_div, pre, s_window, s_level; /* the configuration the capture runs with */
	unsigned s_soc, s_eoc, s_idx, idx_offset;
	uint64_t tick; /* base ticks since the capture started */
	uint8_t *buf;  /* window blocks */
	uint8_t *ring; /* the last pre blocks before the trigger, oldest at ring_at */
	uint32_t ring_n, ring_at;
	uint32_t taken;  /* blocks in buf */
	uint8_t last[8]; /* the trigger channel's previous sample */
	int have_last;
	uint8_t last_block[SIMMON_MAX_BLOCK]; /* the previous sample of every channel */
	int have_block;
	int forced;            /* MON_CMD_FORCE_TRIGGER while waiting */
	size_t avail, read_at; /* bytes of buf still to read, and where they start */

	/* The disturbance. */
	int d_enabled, playing;
	struct map dist;
	uint8_t *wave;
	size_t wave_len;
	uint32_t d_prescale, d_n; /* prescaler, samples to play */
	uint64_t d_tick;
	uint32_t d_at; /* next sample */
};

/* ---- registers -------------------------------------------------------- */

static uint64_t le_get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void le_put(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static int numeric(const simmodel_reg *r)
{
	return r && r->dtype >= AX_DTYPE_U8 && r->dtype <= AX_DTYPE_FLOAT;
}

static uint64_t get(const simmon *m, const simmodel_reg *r)
{
	return numeric(r) ? le_get(m->store + r->offset, r->size) : 0;
}

static void put(simmon *m, const simmodel_reg *r, uint64_t v)
{
	if (numeric(r))
		le_put(m->store + r->offset, r->size, v);
}

static const simmodel_reg *find(const simmodel_table *t, const char *id)
{
	for (size_t i = 0; i < t->count && t->regs[i].subnode == 0; i++)
		if (strcmp(t->regs[i].id, id) == 0)
			return &t->regs[i];
	return NULL;
}

static const simmodel_reg *find_at(const simmodel_table *t, unsigned subnode, unsigned address)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->regs[i].subnode == subnode && t->regs[i].address == address)
			return &t->regs[i];
	return NULL;
}

/* What a client reads: status word, counts, block sizes. */
static void mon_publish(simmon *m)
{
	uint32_t st = (m->enabled ? STATUS_ENABLED : 0) | (uint32_t)m->stage << 1;

	if (m->avail)
		st |= STATUS_FRAME;
	put(m, m->status, st);
	put(m, m->bytes, m->avail);
	put(m, m->cycles, m->mon.block ? (m->avail + m->mon.block - 1) / m->mon.block : 0);
	put(m, m->block, m->mon.block);
}

static void dist_publish(simmon *m)
{
	put(m, m->d_status,
	    (m->d_enabled ? DIST_STATUS_ENABLED : 0) | (m->playing ? DIST_STATUS_PLAYING : 0));
	put(m, m->d_bytes, m->wave_len);
	put(m, m->d_cycles, m->dist.block ? m->wave_len / m->dist.block : 0);
	put(m, m->d_block, m->dist.block);
}

int simmon_new(simmon **out, simdrive *d, const simmodel_table *t, uint8_t *store)
{
	simmon *m = calloc(1, sizeof(*m));
	char id[32];

	if (!m)
		return -1;
	m->drive = d;
	m->table = t;
	m->store = store;
	m->status = find(t, "MON_DIST_STATUS");
	m->cycles = find(t, "MON_CFG_CYCLES_VALUE");
	m->data = find(t, "MON_DATA_VALUE");
	m->bytes = find(t, "MON_CFG_BYTES_VALUE");
	m->max_size = find(t, "MON_MAX_SIZE");
	m->enable = find(t, "MON_DIST_ENABLE");
	m->div = find(t, "MON_DIST_FREQ_DIV");
	m->delay = find(t, "MON_CFG_TRIGGER_DELAY");
	m->window = find(t, "MON_CFG_WINDOW_SAMP");
	m->total = find(t, "MON_CFG_TOTAL_MAP");
	m->block = find(t, "MON_CFG_BYTES_PER_BLOCK");
	m->remove = find(t, "MON_REMOVE_DATA");
	m->soc = find(t, "MON_CFG_SOC_TYPE");
	m->eoc = find(t, "MON_CFG_EOC_TYPE");
	m->force = find(t, "MON_CMD_FORCE_TRIGGER");
	m->level = find(t, "MON_CFG_RISING_CONDITION");
	m->idx = find(t, "MON_IDX_CHECK");
	m->rearm = find(t, "MON_REARM");
	m->d_status = find(t, "DIST_STATUS");
	m->d_cycles = find(t, "DIST_CFG_CYCLES");
	m->d_data = find(t, "DIST_DATA_VALUE");
	m->d_bytes = find(t, "DIST_CFG_BYTES");
	m->d_max_size = find(t, "DIST_MAX_SIZE");
	m->d_enable = find(t, "DIST_ENABLE");
	m->d_div = find(t, "DIST_FREQ_DIV");
	m->d_samples = find(t, "DIST_CFG_SAMPLES");
	m->d_total = find(t, "DIST_CFG_MAP_REGS");
	m->d_block = find(t, "DIST_CFG_BYTES_PER_BLOCK");
	m->d_remove = find(t, "DIST_REMOVE_DATA");
	for (unsigned i = 0; i < SIMMON_CHANNELS; i++) {
		snprintf(id, sizeof(id), "MON_CFG_REG%u_MAP", i);
		m->mon_word[i] = find(t, id);
		snprintf(id, sizeof(id), "DIST_CFG_REG%u_MAP", i);
		m->dist_word[i] = find(t, id);
	}
	m->present = numeric(m->status) && numeric(m->enable) && numeric(m->total) && m->data &&
	             m->data->dtype == AX_DTYPE_BYTES && numeric(m->mon_word[0]);
	if (m->present) {
		mon_publish(m);
		dist_publish(m);
	}
	*out = m;
	return 0;
}

void simmon_free(simmon *m)
{
	if (!m)
		return;
	free(m->buf);
	free(m->ring);
	free(m->wave);
	free(m);
}

/* ---- the map ---------------------------------------------------------- */

/*
 * Check map word @v: the register whose monitoring address and subnode are
 * its high half, of the type code and size of its low half. A disturbance
 * target must also be writable. Returns 0 with *out filled, or -1 with the
 * MCB code: no object (nothing there), access (a register that cannot be
 * mapped), range (another type), wrong size (another size).
 */
static int map_word_check(const simmon *m, uint64_t v, int target, struct chan *out, uint32_t *code)
{
	unsigned key = (unsigned)(v >> 16) & 0xFFFFu, type = (unsigned)(v >> 8) & 0xFFu;
	unsigned size = (unsigned)v & 0xFFu;
	const simmodel_reg *r = NULL;

	for (size_t i = 0; i < m->table->count && !r; i++)
		if ((m->table->regs[i].flags & SIMMODEL_MON) && m->table->regs[i].mon_key == key)
			r = &m->table->regs[i];
	if (!r) {
		*code = find_at(m->table, key >> 12, key & 0xFFFu) ? AX_MCB_CODE_ACCESS
		                                                   : AX_MCB_CODE_NO_OBJECT;
		return -1;
	}
	if (target && !(r->access & SIMMODEL_WRITE)) {
		*code = AX_MCB_CODE_ACCESS;
		return -1;
	}
	if (!numeric(r) || type != CODE_OF(r->dtype)) {
		*code = AX_MCB_CODE_RANGE;
		return -1;
	}
	if (size != r->size) {
		*code = AX_MCB_CODE_WRONG_SIZE;
		return -1;
	}
	out->reg = r;
	out->code = type;
	out->size = size;
	return 0;
}

/*
 * The channels of the first @n map words (checked when written). Returns 0,
 * or -1 when one of them is empty.
 */
static int map_build(const simmon *m, const simmodel_reg *const *words, unsigned n, int target,
                     struct map *out)
{
	struct map map = {0};
	uint32_t code;

	for (unsigned i = 0; i < n; i++) {
		uint64_t v = get(m, words[i]);

		if (!words[i] || v == 0 || map_word_check(m, v, target, &map.ch[i], &code) < 0)
			return -1;
		map.block += map.ch[i].size;
	}
	map.n = n;
	*out = map;
	return 0;
}

/* ---- the capture ------------------------------------------------------ */

/*
 * Start a capture with the configuration in the registers (an enable or a
 * re-arm). Returns 0, or -1 with the MCB code: not executed without a map,
 * out of range for a window that the buffer cannot hold, pre-trigger
 * samples that leave no room for the trigger, or a trigger channel past the map.
 */
static int mon_start(simmon *m, uint32_t *code)
{
	struct map map;
	uint64_t div = get(m, m->div), pre = get(m, m->delay), window = get(m, m->window);
	uint64_t cap = m->max_size ? get(m, m->max_size) : 0;
	unsigned soc = (unsigned)get(m, m->soc), idx = (unsigned)get(m, m->idx);
	uint8_t *buf, *ring = NULL;

	if (map_build(m, m->mon_word, (unsigned)get(m, m->total), 0, &map) < 0 || map.n == 0) {
		*code = AX_MCB_CODE_NOT_EXECUTED;
		return -1;
	}
	if (div == 0 || window == 0 || pre >= window || window * map.block > cap ||
	    (soc == SOC_EDGE && idx >= map.n)) {
		*code = AX_MCB_CODE_RANGE;
		return -1;
	}
	buf = malloc(window * map.block);
	if (pre)
		ring = malloc(pre * map.block);
	if (!buf || (pre && !ring)) {
		free(buf);
		free(ring);
		*code = AX_MCB_CODE_NOT_EXECUTED;
		return -1;
	}
	free(m->buf);
	free(m->ring);
	m->buf = buf;
	m->ring = ring;
	m->mon = map;
	m->s_div = (uint32_t)div;
	m->pre = (uint32_t)pre;
	m->s_window = (uint32_t)window;
	m->s_soc = soc;
	m->s_eoc = (unsigned)get(m, m->eoc);
	m->s_level = (uint32_t)get(m, m->level);
	m->s_idx = idx;
	m->idx_offset = 0;
	for (unsigned i = 0; i < idx && i < map.n; i++)
		m->idx_offset += map.ch[i].size;
	m->enabled = 1;
	m->stage = pre ? STAGE_FILLING : STAGE_WAITING;
	m->tick = 0;
	m->ring_n = m->ring_at = m->taken = 0;
	m->have_last = 0;
	m->have_block = 0;
	m->forced = 0;
	m->avail = m->read_at = 0;
	/* A disturbance enabled before starts again with the capture: a synchronous record. */
	if (m->d_enabled) {
		m->playing = m->d_n > 0;
		m->d_tick = 0;
		m->d_at = 0;
		dist_publish(m);
	}
	mon_publish(m);
	return 0;
}

static void mon_stop(simmon *m)
{
	m->enabled = 0;
	m->stage = STAGE_INIT;
	mon_publish(m);
}

/* Sign of (sample - level), the sample of channel type @code at @p; 2: unordered (NaN). */
static int trig_compare(unsigned code, unsigned size, const uint8_t *p, uint32_t level)
{
	uint64_t raw = le_get(p, size);

	switch (code) {
	case 1: /* s8 */
	case 3: /* s16 */
	case 5: /* s32 */
	case 7: /* s64 */
	{
		unsigned bits = size * 8;
		int64_t v = bits < 64 && (raw >> (bits - 1) & 1) ? (int64_t)(raw | ~0ULL << bits)
		                                                 : (int64_t)raw;
		int64_t l = (int32_t)level;

		return v < l ? -1 : v > l;
	}
	case 8: {
		float v, l;
		uint32_t u = (uint32_t)raw;

		memcpy(&v, &u, 4);
		memcpy(&l, &level, 4);
		if (v != v || l != l)
			return 2;
		return v < l ? -1 : v > l;
	}
	default: /* unsigned */
		return raw < level ? -1 : raw > level;
	}
}

/* Does the trigger channel cross the level from the previous sample to @block? */
static int mon_crossed(simmon *m, const uint8_t *block)
{
	const struct chan *c = &m->mon.ch[m->s_idx];
	const uint8_t *now = block + m->idx_offset;
	int was, is, up, down;

	if (!m->have_last)
		return 0;
	was = trig_compare(c->code, c->size, m->last, m->s_level);
	is = trig_compare(c->code, c->size, now, m->s_level);
	if (was == 2 || is == 2)
		return 0;
	up = was < 0 && is >= 0;
	down = was > 0 && is <= 0;
	if (m->s_eoc == EDGE_RISING)
		return up;
	if (m->s_eoc == EDGE_FALLING)
		return down;
	return up || down;
}

static void mon_ring_push(simmon *m, const uint8_t *block)
{
	if (!m->pre)
		return;
	memcpy(m->ring + (size_t)m->ring_at * m->mon.block, block, m->mon.block);
	m->ring_at = (m->ring_at + 1) % m->pre;
	if (m->ring_n < m->pre)
		m->ring_n++;
}

static void mon_append(simmon *m, const uint8_t *block)
{
	memcpy(m->buf + (size_t)m->taken * m->mon.block, block, m->mon.block);
	if (++m->taken == m->s_window) {
		m->stage = STAGE_END;
		m->avail = (size_t)m->s_window * m->mon.block;
		m->read_at = 0;
		mon_publish(m);
	}
}

/* One sample instant of the capture, at fraction @frac of the axis step. */
static void mon_sample(simmon *m, double frac)
{
	uint8_t block[SIMMON_MAX_BLOCK];
	size_t at = 0;
	int fire = 0;

	for (unsigned i = 0; i < m->mon.n; i++) {
		simdrive__sample(m->drive, m->mon.ch[i].reg, frac, block + at);
		at += m->mon.ch[i].size;
	}
	switch (m->stage) {
	case STAGE_FILLING:
		mon_ring_push(m, block);
		if (m->ring_n == m->pre) {
			m->stage = STAGE_WAITING;
			mon_publish(m);
		}
		break;
	case STAGE_WAITING:
		if (m->s_soc == SOC_AUTO)
			fire = 1;
		else if (m->s_soc == SOC_FORCED)
			fire = m->forced;
		else if (m->s_soc == SOC_EDGE)
			fire = mon_crossed(m, block);
		if (!fire) {
			mon_ring_push(m, block);
			break;
		}
		/* The trigger sample is the first after the pre-trigger ones. */
		for (uint32_t i = 0; i < m->pre; i++)
			memcpy(m->buf + (size_t)i * m->mon.block,
			       m->ring + (size_t)((m->ring_at + i) % m->pre) * m->mon.block,
			       m->mon.block);
		m->taken = m->pre;
		m->stage = STAGE_ACQUIRING;
		mon_publish(m);
		mon_append(m, block);
		break;
	case STAGE_ACQUIRING:
		mon_append(m, block);
		break;
	default:
		return;
	}
	memcpy(m->last_block, block, m->mon.block);
	m->have_block = 1;
	if (m->s_soc == SOC_EDGE && m->s_idx < m->mon.n) {
		memcpy(m->last, block + m->idx_offset, m->mon.ch[m->s_idx].size);
		m->have_last = 1;
	}
}

/* ---- the disturbance -------------------------------------------------- */

/*
 * Enable: the waveform must be whole blocks of the map, as many as
 * DIST_CFG_SAMPLES says when it says (0: what was written). Returns 0, or
 * -1 with code not executed.
 */
static int dist_start(simmon *m, uint32_t *code)
{
	struct map map;
	uint64_t samples = get(m, m->d_samples), div = m->d_div ? get(m, m->d_div) : 1;

	if (map_build(m, m->dist_word, (unsigned)get(m, m->d_total), 1, &map) < 0 || map.n == 0 ||
	    m->wave_len < map.block || m->wave_len % map.block ||
	    (samples && samples * map.block != m->wave_len) || div == 0) {
		*code = AX_MCB_CODE_NOT_EXECUTED;
		return -1;
	}
	m->dist = map;
	m->d_prescale = (uint32_t)div;
	m->d_n = (uint32_t)(m->wave_len / map.block);
	m->d_enabled = 1;
	m->playing = 1;
	m->d_tick = 0;
	m->d_at = 0;
	dist_publish(m);
	return 0;
}

static void dist_play(simmon *m)
{
	const uint8_t *p = m->wave + (size_t)m->d_at * m->dist.block;

	for (unsigned i = 0; i < m->dist.n; i++) {
		simdrive__disturb(m->drive, m->dist.ch[i].reg, le_get(p, m->dist.ch[i].size));
		p += m->dist.ch[i].size;
	}
	if (++m->d_at >= m->d_n) {
		m->playing = 0; /* the targets keep the last sample */
		dist_publish(m);
	}
}

/* ---- requests --------------------------------------------------------- */

static int is_word(const simmodel_reg *const *words, const simmodel_reg *r)
{
	for (unsigned i = 0; i < SIMMON_CHANNELS; i++)
		if (words[i] == r)
			return 1;
	return 0;
}

static int refuse(uint32_t *code, uint32_t what)
{
	*code = what;
	return -1;
}

/* The block size the map words 0..n-1 give now (what MON_CFG_BYTES_PER_BLOCK shows). */
static unsigned block_of(const simmon *m, const simmodel_reg *const *words, unsigned n)
{
	unsigned block = 0;

	for (unsigned i = 0; i < n && i < SIMMON_CHANNELS; i++)
		block += (unsigned)(get(m, words[i]) & 0xFFu);
	return block;
}

static int mon_write(simmon *m, const simmodel_reg *r, uint64_t v, uint32_t *code)
{
	struct chan c;

	if (r == m->enable) {
		if (v > 1)
			return refuse(code, AX_MCB_CODE_RANGE);
		if (v && !m->enabled && mon_start(m, code) < 0)
			return -1;
		if (!v && m->enabled)
			mon_stop(m);
		put(m, r, v);
		return 1;
	}
	if (r == m->force) {
		if (m->enabled && m->stage == STAGE_WAITING && m->s_soc == SOC_FORCED && v)
			m->forced = 1;
		return 1;
	}
	if (r == m->remove) {
		if (v) {
			m->avail = 0;
			mon_publish(m);
		}
		return 1;
	}
	if (r == m->rearm) {
		if (!v)
			return 1;
		if (!m->enabled)
			return refuse(code, AX_MCB_CODE_NOT_EXECUTED);
		return mon_start(m, code) < 0 ? -1 : 1;
	}
	/* The rest is configuration: fixed while a capture runs. */
	if (r == m->total || is_word(m->mon_word, r) || r == m->div || r == m->delay ||
	    r == m->window || r == m->soc || r == m->eoc || r == m->level || r == m->idx) {
		if (m->enabled)
			return refuse(code, AX_MCB_CODE_NOT_EXECUTED);
	} else {
		return 0;
	}
	if (r == m->total) {
		unsigned n = 0;

		while (n < SIMMON_CHANNELS && m->mon_word[n])
			n++;
		if (v > n)
			return refuse(code, AX_MCB_CODE_RANGE);
		if (v == 0) {
			for (unsigned i = 0; i < n; i++)
				put(m, m->mon_word[i], 0);
		} else {
			for (unsigned i = 0; i < v; i++)
				if (!get(m, m->mon_word[i]))
					return refuse(code, AX_MCB_CODE_NOT_EXECUTED);
		}
		put(m, r, v);
		m->mon.block = block_of(m, m->mon_word, (unsigned)v);
		put(m, m->block, m->mon.block);
		return 1;
	}
	if (is_word(m->mon_word, r)) {
		if (v && map_word_check(m, v, 0, &c, code) < 0)
			return -1;
		put(m, r, v);
		m->mon.block = block_of(m, m->mon_word, (unsigned)get(m, m->total));
		put(m, m->block, m->mon.block);
		return 1;
	}
	if ((r == m->div && v == 0) || (r == m->soc && v > SOC_EDGE) ||
	    (r == m->eoc && v > EDGE_FALLING) || (r == m->idx && v >= SIMMON_CHANNELS))
		return refuse(code, AX_MCB_CODE_RANGE);
	return 0; /* stored as written */
}

static int dist_write(simmon *m, const simmodel_reg *r, uint64_t v, uint32_t *code)
{
	struct chan c;

	if (r == m->d_enable) {
		if (v > 1)
			return refuse(code, AX_MCB_CODE_RANGE);
		if (v && !m->d_enabled && dist_start(m, code) < 0)
			return -1;
		if (!v && m->d_enabled) {
			m->d_enabled = m->playing = 0;
			dist_publish(m);
		}
		put(m, r, v);
		return 1;
	}
	if (r == m->d_remove) {
		if (v) {
			m->wave_len = 0;
			m->d_enabled = m->playing = 0;
			put(m, m->d_enable, 0);
			dist_publish(m);
		}
		return 1;
	}
	if (r == m->d_total || is_word(m->dist_word, r) || r == m->d_div || r == m->d_samples) {
		if (m->d_enabled)
			return refuse(code, AX_MCB_CODE_NOT_EXECUTED);
	} else {
		return 0;
	}
	if (r == m->d_total) {
		unsigned n = 0;

		while (n < SIMMON_CHANNELS && m->dist_word[n])
			n++;
		if (v > n)
			return refuse(code, AX_MCB_CODE_RANGE);
		if (v == 0) {
			for (unsigned i = 0; i < n; i++)
				put(m, m->dist_word[i], 0);
		} else {
			for (unsigned i = 0; i < v; i++)
				if (!get(m, m->dist_word[i]))
					return refuse(code, AX_MCB_CODE_NOT_EXECUTED);
		}
		put(m, r, v);
		m->dist.block = block_of(m, m->dist_word, (unsigned)v);
		dist_publish(m);
		return 1;
	}
	if (is_word(m->dist_word, r)) {
		if (v && map_word_check(m, v, 1, &c, code) < 0)
			return -1;
		put(m, r, v);
		m->dist.block = block_of(m, m->dist_word, (unsigned)get(m, m->d_total));
		dist_publish(m);
		return 1;
	}
	if (r == m->d_div && v == 0)
		return refuse(code, AX_MCB_CODE_RANGE);
	return 0;
}

int simmon_write(simmon *m, const simmodel_reg *r, uint64_t v, uint32_t *code)
{
	int rc;

	if (!m || !m->present || !r || r->subnode != 0)
		return 0;
	rc = mon_write(m, r, v, code);
	if (rc == 0)
		rc = dist_write(m, r, v, code);
	return rc;
}

int simmon_write_bytes(simmon *m, const simmodel_reg *r, const uint8_t *buf, size_t len,
                       int extended, uint32_t *code)
{
	uint64_t cap, samples;
	uint8_t *p;

	if (!m || !m->present || !r || r != m->d_data)
		return 0;
	if (!extended)
		return refuse(code, AX_MCB_CODE_WRONG_SIZE);
	if (m->d_enabled || !m->dist.block)
		return refuse(code, AX_MCB_CODE_NOT_EXECUTED);
	cap = m->d_max_size ? get(m, m->d_max_size) : 0;
	samples = get(m, m->d_samples);
	if (samples && samples * m->dist.block < cap)
		cap = samples * m->dist.block;
	if (len > cap || m->wave_len > cap - len)
		return refuse(code, AX_MCB_CODE_RANGE);
	if (!len)
		return 1;
	p = realloc(m->wave, m->wave_len + len);
	if (!p)
		return refuse(code, AX_MCB_CODE_NOT_EXECUTED);
	memcpy(p + m->wave_len, buf, len);
	m->wave = p;
	m->wave_len += len;
	dist_publish(m);
	return 1;
}

int simmon_read(simmon *m, const simmodel_reg *r, uint8_t *buf, size_t cap, size_t *len_out,
                uint32_t *code)
{
	size_t n;

	if (!m || !m->present || !r || r != m->data)
		return 0;
	if (!m->avail)
		return refuse(code, AX_MCB_CODE_NOT_EXECUTED);
	n = m->avail < AX_MCB_MAX_PAYLOAD ? m->avail : AX_MCB_MAX_PAYLOAD;
	if (n > cap)
		n = cap;
	memcpy(buf, m->buf + m->read_at, n);
	m->read_at += n;
	m->avail -= n;
	mon_publish(m);
	*len_out = n;
	return 1;
}

/* ---- time ------------------------------------------------------------- */

int simmon_active(const simmon *m)
{
	if (!m || !m->present)
		return 0;
	return m->playing || (m->enabled && m->stage != STAGE_END && m->stage != STAGE_INIT);
}

int simmon_quiet(const simmon *m)
{
	return simmon_active(m) && !m->playing && m->have_block && !m->forced &&
	       m->s_soc != SOC_AUTO && (m->stage == STAGE_FILLING || m->stage == STAGE_WAITING);
}

void simmon_skip(simmon *m, uint64_t steps)
{
	uint64_t ticks = steps * SIMMON_TICKS_PER_STEP, div = m->s_div, n;

	if (!simmon_quiet(m))
		return;
	/* Sample instants among the ticks: those whose count is a multiple of the prescaler. */
	n = (m->tick + ticks + div - 1) / div - (m->tick + div - 1) / div;
	m->tick += ticks;
	if (n > m->pre)
		n = m->pre;
	while (n--) {
		mon_ring_push(m, m->last_block);
		if (m->stage == STAGE_FILLING && m->ring_n == m->pre) {
			m->stage = STAGE_WAITING;
			mon_publish(m);
		}
	}
}

void simmon_step(simmon *m, uint64_t t0_ns)
{
	(void)t0_ns; /* the ticks are counted, not timed: each step holds the same 20 */
	if (!simmon_active(m))
		return;
	for (unsigned k = 1; k <= SIMMON_TICKS_PER_STEP; k++) {
		double frac = (double)k / SIMMON_TICKS_PER_STEP;

		if (m->playing && m->d_tick++ % m->d_prescale == 0)
			dist_play(m);
		if (m->enabled && m->stage != STAGE_END && m->stage != STAGE_INIT &&
		    m->tick++ % m->s_div == 0)
			mon_sample(m, frac);
	}
}
