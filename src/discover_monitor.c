/* SPDX-License-Identifier: MIT */
/*
 * Hot-plug events from repeated discoveries: every period one round over
 * the same plan; drives are keyed by location URI, added when first seen
 * (or seen with another identity), changed when the same place turns busy,
 * answers again or is identified, removed when the target that found them
 * completed enough rounds in a row without them. A round in which that
 * target failed, timed out or was still busy says nothing either way, so a
 * hung transport never removes its drives.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "discover.h"

/* How often a sleeping monitor looks at the cancel token. */
#define CANCEL_POLL_NS 10000000u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

const char *ax_monitor_event_name(int event)
{
	switch (event) {
	case AX_MONITOR_ADDED:
		return "added";
	case AX_MONITOR_REMOVED:
		return "removed";
	case AX_MONITOR_CHANGED:
		return "changed";
	default:
		return NULL;
	}
}

/* A result kept across rounds: the record and the storage its strings point into. */
struct kept {
	ax_discover_result r;
	char *text;
};

static void kept_clear(struct kept *k)
{
	ax_dict_unref(k->r.dict);
	free(k->text);
	memset(k, 0, sizeof(*k));
}

static size_t text_size(const char *s)
{
	return strlen(nz(s)) + 1;
}

static const char *text_put(char **cursor, const char *s)
{
	size_t n = text_size(s);
	char *at = *cursor;

	memcpy(at, nz(s), n);
	*cursor += n;
	return at;
}

static int kept_set(struct kept *k, const ax_discover_result *r)
{
	const char *const *fields[] = {
	        &r->uri,  &r->stable_uri, &r->transport,    &r->target, &r->detail,    &r->message,
	        &r->hint, &r->sw_version, &r->match_reason, &r->model,  &r->dictionary};
	const char **dst[AX__ARRAY_SIZE(fields)];
	struct kept n;
	size_t size = 0;
	char *cursor;

	n.r = *r;
	dst[0] = &n.r.uri;
	dst[1] = &n.r.stable_uri;
	dst[2] = &n.r.transport;
	dst[3] = &n.r.target;
	dst[4] = &n.r.detail;
	dst[5] = &n.r.message;
	dst[6] = &n.r.hint;
	dst[7] = &n.r.sw_version;
	dst[8] = &n.r.match_reason;
	dst[9] = &n.r.model;
	dst[10] = &n.r.dictionary;
	for (size_t i = 0; i < AX__ARRAY_SIZE(fields); i++)
		size += text_size(*fields[i]);
	n.text = malloc(size);
	if (!n.text)
		return ax__error_oom();
	cursor = n.text;
	for (size_t i = 0; i < AX__ARRAY_SIZE(fields); i++)
		*dst[i] = text_put(&cursor, *fields[i]);
	n.r.dict = r->dict ? ax_dict_ref(r->dict) : NULL;
	kept_clear(k);
	*k = n;
	return 0;
}

struct mon_entry {
	struct kept kept;
	size_t target;   /* the plan target that found it last */
	unsigned misses; /* rounds in a row its target completed without it */
	int seen;        /* found in the current round */
};

struct monitor {
	struct mon_entry *e;
	size_t n;
	unsigned misses;
	ax_monitor_cb on_event;
	void *userdata;
};

#define DRIVE_ID_BITS (AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_SERIAL)

/* What a new record at a known location means. */
enum sameness {
	SAME,        /* nothing worth telling */
	CHANGED,     /* the same place, now in another state (busy, identified...) */
	OTHER_DRIVE, /* two full identities that differ: one drive went, another came */
};

static enum sameness compare(const ax_discover_result *a, const ax_discover_result *b)
{
	uint32_t ka = a->known & DRIVE_ID_BITS, kb = b->known & DRIVE_ID_BITS;

	if (ka == DRIVE_ID_BITS && kb == DRIVE_ID_BITS &&
	    (a->vendor_id != b->vendor_id || a->product_code != b->product_code ||
	     a->serial != b->serial))
		return OTHER_DRIVE;
	/* A port that was busy and now answers (or the reverse) is news, not a new drive. */
	if (ka != kb || a->access != b->access)
		return CHANGED;
	return SAME;
}

static void monitor_drop(struct monitor *m, size_t i)
{
	kept_clear(&m->e[i].kept);
	m->e[i] = m->e[--m->n];
}

static int monitor_result(struct ax__discover_session *s, size_t target,
                          const ax_discover_result *r)
{
	struct monitor *m = s->userdata;
	struct mon_entry *e = NULL, *grown;
	enum sameness sameness;
	int ret;

	for (size_t i = 0; i < m->n && !e; i++)
		if (!strcmp(m->e[i].kept.r.uri, r->uri))
			e = &m->e[i];
	sameness = e ? compare(&e->kept.r, r) : OTHER_DRIVE;
	if (e && sameness != OTHER_DRIVE) {
		e->seen = 1;
		e->misses = 0;
		e->target = target;
		/* The newest record, for later events; when out of memory the old one does. */
		(void)kept_set(&e->kept, r);
		if (sameness == CHANGED && m->on_event)
			return m->on_event(AX_MONITOR_CHANGED, r, m->userdata);
		return 0;
	}
	if (e) {
		/* Another drive answers at this location: the old one went. */
		ret = m->on_event ? m->on_event(AX_MONITOR_REMOVED, &e->kept.r, m->userdata) : 0;
		monitor_drop(m, (size_t)(e - m->e));
		if (ret < 0)
			return ret;
	}
	grown = realloc(m->e, (m->n + 1) * sizeof(*grown));
	if (!grown)
		return ax__error_oom();
	m->e = grown;
	e = &m->e[m->n];
	memset(e, 0, sizeof(*e));
	ret = kept_set(&e->kept, r);
	if (ret < 0)
		return ret;
	m->n++;
	e->seen = 1;
	e->target = target;
	return m->on_event ? m->on_event(AX_MONITOR_ADDED, r, m->userdata) : 0;
}

static int monitor_outcome(struct ax__discover_session *s, size_t target,
                           const ax_discover_transport *t)
{
	struct monitor *m = s->userdata;

	(void)target;
	return s->user_outcome ? s->user_outcome(t, m->userdata) : 0;
}

/* After a round: what its target completed without, @misses times in a row, is gone. */
static int monitor_sweep(struct ax__discover_session *s, struct monitor *m)
{
	int ret = 0;

	for (size_t i = 0; i < m->n && ret == 0;) {
		struct mon_entry *e = &m->e[i];

		if (e->seen || s->target_status[e->target] != AX_DISCOVER_DONE) {
			e->seen = 0;
			i++;
			continue;
		}
		if (++e->misses < m->misses) {
			i++;
			continue;
		}
		ret = m->on_event ? m->on_event(AX_MONITOR_REMOVED, &e->kept.r, m->userdata) : 0;
		monitor_drop(m, i);
	}
	return ret;
}

/* Sleep until @until (monotonic ns); 1 when the token fired meanwhile. */
static int sleep_until(uint64_t until, ax_cancel *cancel)
{
	for (;;) {
		uint64_t now = now_ns(), step;
		struct timespec ts;

		if (ax_cancel_requested(cancel))
			return 1;
		if (now >= until)
			return 0;
		step = until - now;
		if (cancel && step > CANCEL_POLL_NS)
			step = CANCEL_POLL_NS;
		ts.tv_sec = (time_t)(step / 1000000000u);
		ts.tv_nsec = (long)(step % 1000000000u);
		(void)nanosleep(&ts, NULL);
	}
}

int ax_monitor(ax_ctx *ctx, const char *spec, const ax_monitor_options *opts,
               ax_monitor_cb on_event, void *userdata)
{
	static const ax_monitor_options defaults = AX_MONITOR_OPTIONS_INIT;
	struct monitor m = {NULL, 0, 0, on_event, userdata};
	int ret, all_failed, period, timeout;
	struct ax__discover_session s;

	AX_ASSERT_ARG(ctx);
	AX_CHECK_VERSION(opts, AX_MONITOR_OPTIONS_VERSION, "ax_monitor_options");
	if (!opts)
		opts = &defaults;
	ret = ax__discover_check_timeout(opts->period_ms, "monitor period");
	if (ret == 0)
		ret = ax__discover_check_timeout(opts->timeout_ms, "monitor round timeout");
	if (ret == 0 && opts->misses < 0)
		ret = ax__error_set(AX_EINVAL, "monitor misses %d is negative", opts->misses);
	if (ret < 0)
		return ret;
	period = opts->period_ms ? opts->period_ms : AX_MONITOR_DEFAULT_PERIOD_MS;
	timeout = opts->timeout_ms                          ? opts->timeout_ms
	          : period < AX_DISCOVER_DEFAULT_TIMEOUT_MS ? period
	                                                    : AX_DISCOVER_DEFAULT_TIMEOUT_MS;
	m.misses = opts->misses ? (unsigned)opts->misses : AX_MONITOR_DEFAULT_MISSES;
	ret = ax__discover_session_init(&s, ctx, spec, opts->flags, opts->db, opts->cancel);
	if (ret < 0)
		return ret;
	s.on_result = monitor_result;
	s.on_outcome = monitor_outcome;
	s.user_outcome = opts->on_transport;
	s.userdata = &m;
	AX_LOG_DEBUG(ctx, "discover", "monitoring '%s': %zu target(s), every %d ms", nz(spec),
	             s.plan.n, period);
	for (;;) {
		uint64_t start = now_ns();

		ret = ax__discover_session_round(&s, timeout, &all_failed);
		if (ret == AX_ECANCELED && ax_cancel_requested(opts->cancel)) {
			ret = 0;
			break;
		}
		if (ret < 0)
			break;
		ret = monitor_sweep(&s, &m);
		if (ret < 0)
			break;
		if (sleep_until(start + (uint64_t)period * 1000000u, opts->cancel)) {
			ret = 0;
			break;
		}
	}
	for (size_t i = 0; i < m.n; i++)
		kept_clear(&m.e[i].kept);
	free(m.e);
	ax__discover_session_done(&s);
	if (ret == 0)
		ax_error_clear();
	return ret;
}
