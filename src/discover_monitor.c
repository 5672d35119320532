/* SPDX-License-Identifier: MIT */
/*
 * Hot-plug events from repeated discoveries: every period one round over
 * the same plan; drives are keyed by location URI, added when first seen
 * (or seen with another identity), changed when the same place turns busy,
 * answers again or is identified, removed when the target that found them
 * completed enough rounds in a row without them. A round in which that
 * target failed, timed out or was still busy says nothing either way, so a
 * hung transport never removes its drives.
 *
 * A transport with its own monitor op (ABI 1.2, e.g. USB hot-plug) is not
 * scanned every round: one thread per such target runs ops->monitor for
 * the whole monitor, its arrivals and removals are queued and turned into
 * the same events on the caller's thread, between rounds. Should the op
 * fail (no hot-plug on this system, say), that target is scanned every
 * round like the others from then on.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "discover.h"
#include "sink.h"
#include "util.h"

/* How often a sleeping monitor looks at the cancel token. */
#define CANCEL_POLL_NS 10000000u

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

/* ---- transports' own monitors -------------------------------------------------------- */

/* One arrival or removal, deep copied off the plugin's thread. */
struct native_event {
	struct native_event *next;
	size_t target;
	int event; /* AX_PLUGIN_MONITOR_* */
	ax_scan_result r;
	char text[];
};

/* What the native threads share with the monitor's thread. */
struct native_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* an event was queued or a thread ended */
	struct native_event *head, *tail;
	atomic_int stop;
	ax_cancel *cancel; /* borrowed from the options */
};

struct native {
	struct ax__sink sink; /* first: what the plugin reports to */
	struct native_queue *q;
	struct ax_plugin *plugin; /* borrowed: the session's context keeps it */
	const ax_uri *uri;        /* the plan's */
	size_t target;
	pthread_t thread;
	int running; /* started and not joined */
	/* Guarded by q->lock. */
	int done, error;
	char *message;
};

static int native_stopped(struct ax__sink *sink)
{
	struct native *n = (struct native *)sink;

	return atomic_load(&n->q->stop) || ax_cancel_requested(n->q->cancel);
}

/* A native monitor's sink: queue a deep copy of an adopted event. */
static int native_emit(struct ax__sink *sink, int event, const ax_scan_result *r)
{
	struct native *n = (struct native *)sink;
	struct native_queue *q = n->q;
	struct native_event *ev;

	ev = malloc(sizeof(*ev) + ax__scan_result_text_size(r));
	if (!ev)
		return ax__error_oom();
	ev->next = NULL;
	ev->target = n->target;
	ev->event = event;
	ax__scan_result_copy(&ev->r, r, ev->text);
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = ev;
	else
		q->head = ev;
	q->tail = ev;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* A plugin's ops->scan is never handed this sink, only ops->monitor. */
static int native_scan_emit(struct ax__sink *sink, const ax_scan_result *r)
{
	(void)sink;
	return ax__error_set(AX_EINVAL, "'%s' reported as a scan result to a monitor", r->uri);
}

static const struct ax__sink_ops native_sink_ops = {
        .emit = native_scan_emit,
        .cancelled = native_stopped,
        .monitor_emit = native_emit,
};

static void *native_main(void *arg)
{
	struct native *n = arg;
	int rc;

	rc = n->plugin->ops.monitor(&n->plugin->host, n->uri, AX_PLUGIN_MONITOR_ENUMERATE,
	                            &n->sink);
	pthread_mutex_lock(&n->q->lock);
	n->done = 1;
	n->error = rc < 0 ? rc : 0;
	if (rc < 0)
		n->message = strdup(ax_error_last());
	pthread_cond_signal(&n->q->cond);
	pthread_mutex_unlock(&n->q->lock);
	return NULL;
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
	struct native_queue q;
	struct native *natives; /* one per plan target; running = watched natively */
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

	/* Skipped by the rounds because its own monitor watches it: no news. */
	if (m->natives[target].running)
		return 0;
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

/* A transport's own monitor reported @ev: the same events as the rounds give. */
static int native_event(struct ax__discover_session *s, struct monitor *m,
                        const struct native_event *ev)
{
	if (ev->event == AX_PLUGIN_MONITOR_ARRIVED)
		return ax__discover_session_resolve(s, ev->target, &ev->r, monitor_result);
	for (size_t i = 0; i < m->n; i++) {
		int ret;

		if (strcmp(m->e[i].kept.r.uri, ev->r.uri) != 0)
			continue;
		ret = m->on_event ? m->on_event(AX_MONITOR_REMOVED, &m->e[i].kept.r, m->userdata)
		                  : 0;
		monitor_drop(m, i);
		return ret;
	}
	return 0; /* it left before it was ever reported */
}

/* Join @n's thread; when it failed, its target goes back to the rounds. */
static void native_end(struct ax__discover_session *s, struct native *n)
{
	struct ax__discover_target *t = &s->plan.targets[n->target];

	(void)pthread_join(n->thread, NULL);
	n->running = 0;
	/* Failed, or returned unasked: either way nothing watches it any more. */
	if (n->error < 0 || !native_stopped(&n->sink)) {
		AX_LOG_WARN(s->ctx, "discover",
		            "monitor of '%s' stopped (%s); scanning it every "
		            "period instead",
		            t->text,
		            n->message ? n->message : "it returned while the monitor runs");
		free(t->skip);
		t->skip = NULL;
	}
	free(n->message);
	n->message = NULL;
}

/* The queue and a (not yet running) slot per plan target. */
static int natives_init(struct monitor *m, size_t n_targets, ax_cancel *cancel)
{
	pthread_condattr_t ca;

	m->natives = calloc(n_targets ? n_targets : 1, sizeof(*m->natives));
	if (!m->natives)
		return ax__error_oom();
	pthread_mutex_init(&m->q.lock, NULL);
	/* Deadlines are monotonic, like everything else here. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->q.cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&m->q.stop, 0);
	m->q.cancel = cancel;
	return 0;
}

/* Start a thread for every target whose transport monitors by itself. */
static void natives_start(struct ax__discover_session *s, struct monitor *m)
{
	for (size_t i = 0; i < s->plan.n; i++) {
		struct ax__discover_target *t = &s->plan.targets[i];
		struct native *n = &m->natives[i];
		char *skip;

		n->q = &m->q;
		n->target = i;
		if (t->skip || !t->uri || !t->plugin->ops.monitor)
			continue;
		skip = strdup("watched by its transport's own monitor");
		if (!skip)
			continue; /* scanned every round, then */
		n->plugin = t->plugin;
		n->uri = t->uri;
		n->sink.ops = &native_sink_ops;
		if (pthread_create(&n->thread, NULL, native_main, n) != 0) {
			free(skip);
			continue;
		}
		t->skip = skip;
		n->running = 1;
		AX_LOG_DEBUG(s->ctx, "discover", "'%s' watched by its transport's monitor",
		             t->text);
	}
}

static void natives_stop(struct ax__discover_session *s, struct monitor *m)
{
	atomic_store(&m->q.stop, 1);
	for (size_t i = 0; i < s->plan.n; i++)
		if (m->natives[i].running)
			native_end(s, &m->natives[i]);
	while (m->q.head) {
		struct native_event *ev = m->q.head;

		m->q.head = ev->next;
		free(ev);
	}
	m->q.tail = NULL;
}

/*
 * Until @until (monotonic ns): hand over what the transports' own monitors
 * report, and put a failed one's target back into the rounds. Returns 1
 * when the token fired, 0 at @until, or a callback's negative value.
 */
static int wait_until(struct ax__discover_session *s, struct monitor *m, uint64_t until,
                      ax_cancel *cancel)
{
	pthread_mutex_lock(&m->q.lock);
	for (;;) {
		struct native_event *ev = m->q.head;
		uint64_t now = ax__now_ns(), wake;
		struct timespec ts;
		int ret;

		if (ax_cancel_requested(cancel)) {
			pthread_mutex_unlock(&m->q.lock);
			return 1;
		}
		if (ev) {
			m->q.head = ev->next;
			if (!m->q.head)
				m->q.tail = NULL;
			pthread_mutex_unlock(&m->q.lock);
			ret = native_event(s, m, ev);
			free(ev);
			if (ret < 0)
				return ret;
			pthread_mutex_lock(&m->q.lock);
			continue;
		}
		for (size_t i = 0; i < s->plan.n; i++) {
			struct native *n = &m->natives[i];

			if (n->running && n->done) {
				pthread_mutex_unlock(&m->q.lock);
				native_end(s, n);
				pthread_mutex_lock(&m->q.lock);
			}
		}
		if (m->q.head)
			continue;
		if (now >= until) {
			pthread_mutex_unlock(&m->q.lock);
			return 0;
		}
		wake = until;
		if (cancel && now + CANCEL_POLL_NS < wake)
			wake = now + CANCEL_POLL_NS;
		ts.tv_sec = (time_t)(wake / 1000000000u);
		ts.tv_nsec = (long)(wake % 1000000000u);
		(void)pthread_cond_timedwait(&m->q.cond, &m->q.lock, &ts);
	}
}

int ax_monitor(ax_ctx *ctx, const char *spec, const ax_monitor_options *opts,
               ax_monitor_cb on_event, void *userdata)
{
	static const ax_monitor_options defaults = AX_MONITOR_OPTIONS_INIT;
	struct monitor m;
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
	memset(&m, 0, sizeof(m));
	m.on_event = on_event;
	m.userdata = userdata;
	m.misses = opts->misses ? (unsigned)opts->misses : AX_MONITOR_DEFAULT_MISSES;
	ret = ax__discover_session_init(&s, ctx, spec, opts->flags, opts->db, opts->cancel);
	if (ret < 0)
		return ret;
	s.on_result = monitor_result;
	s.on_outcome = monitor_outcome;
	s.user_outcome = opts->on_transport;
	s.userdata = &m;
	ret = natives_init(&m, s.plan.n, opts->cancel);
	if (ret < 0) {
		ax__discover_session_done(&s);
		return ret;
	}
	natives_start(&s, &m);
	AX_LOG_DEBUG(ctx, "discover", "monitoring '%s': %zu target(s), every %d ms", nz(spec),
	             s.plan.n, period);
	for (;;) {
		uint64_t start = ax__now_ns();

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
		ret = wait_until(&s, &m, start + (uint64_t)period * 1000000u, opts->cancel);
		if (ret != 0) {
			ret = ret > 0 ? 0 : ret;
			break;
		}
	}
	natives_stop(&s, &m);
	free(m.natives);
	pthread_cond_destroy(&m.q.cond);
	pthread_mutex_destroy(&m.q.lock);
	for (size_t i = 0; i < m.n; i++)
		kept_clear(&m.e[i].kept);
	free(m.e);
	ax__discover_session_done(&s);
	if (ret == 0)
		ax_error_clear();
	return ret;
}
