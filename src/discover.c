/* SPDX-License-Identifier: MIT */
/*
 * Discovery: every target of the plan scanned at once, one worker thread
 * each, results streamed to the caller's thread, under one deadline.
 *
 * Threads. A worker runs one plugin's ops->scan. What it finds goes, deep
 * copied, into the run's queue; the calling thread (the collector) waits on
 * the run's condition variable, takes results off the queue, resolves each
 * one's dictionary and calls the user back. So callbacks run one at a time
 * on the caller's thread, no lock is held while they run, and a slow
 * callback never stalls a scan's event loop.
 *
 * Sinks. A plugin reports through host->scan_emit and polls
 * host->scan_cancelled with the sink it was given; each worker is that
 * sink (struct ax__sink first, scan.h), so the plugin keeps its own host
 * table and its log lines still carry its scheme.
 *
 * Lifetimes. A run is reference-counted: the collector holds one
 * reference, each worker another. At the deadline the collector closes the
 * run (nothing more is queued, scan_cancelled turns true) and returns;
 * workers that finished are joined, the others detached. A detached worker
 * still holds its run and a reference on the context, so the plugin it is
 * inside stays loaded however the caller releases things; when its scan
 * finally returns it drops both. A hung plugin thus costs one thread, never
 * a crash or a wait.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "discover.h"
#include "sink.h"
#include "util.h"

/* How often a waiting collector looks at the cancel token (it cannot signal us). */
#define CANCEL_POLL_NS 10000000u
/* What a scan keeps of the deadline to hand its last results over in time. */
#define SCAN_MARGIN_MAX_MS 200
/* How long a discovery its callback stopped waits for the other scans to wind down. */
#define STOP_GRACE_MS 100

/* Worker threads alive in the process, detached ones included (for tests). */
static atomic_int workers_alive;

int ax__discover_workers_alive(void)
{
	return atomic_load(&workers_alive);
}

/* ---- small helpers ---------------------------------------------------------- */

static uint32_t ms_between(uint64_t from, uint64_t to)
{
	uint64_t ms = to > from ? (to - from) / 1000000u : 0;

	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* ---- stable identity URIs, as discovery reports them ---------------------------- */

int ax_discover_stable_uri(char *buf, size_t cap, uint32_t vendor_id, uint32_t product_code,
                           uint32_t serial)
{
	return snprintf(buf, cap, "axlink://%04X/%08X/%u", (unsigned)vendor_id,
	                (unsigned)product_code, (unsigned)serial);
}

/* ---- names ------------------------------------------------------------------------ */

const char *ax_discover_status_name(int status)
{
	static const char *const names[] = {"done", "failed", "timed-out", "cancelled", "skipped"};

	if (status < 0 || (size_t)status >= AX__ARRAY_SIZE(names))
		return NULL;
	return names[status];
}

/* ---- one round: workers and their queue ------------------------------------- */

/* A result as a plugin reported it, deep copied into one allocation. */
struct disc_item {
	struct disc_item *next;
	size_t target;    /* index in the plan */
	uint64_t at_ns;   /* when it was reported */
	ax_scan_result r; /* strings point into text[] */
	char text[];
};

struct disc_worker {
	struct ax__sink sink; /* first: what the plugin reports to */
	struct ax__discover_run *run;
	size_t target;            /* index in the plan */
	struct ax_plugin *plugin; /* borrowed: @ctx keeps it loaded */
	ax_ctx *ctx;              /* a reference, for as long as the thread runs */
	const ax_uri *uri;        /* = uri_own */
	ax_uri *uri_own;          /* its own copy: a detached worker outlives the plan */
	int timeout_ms;
	pthread_t thread;
	int started;
	/* Guarded by run->lock. */
	int finished;
	int error;
	char *message;
	uint64_t t1;                      /* when its scan returned */
	unsigned delivered, delivered_ok; /* counted by the collector */
	int outcome_sent;
};

struct ax__discover_run {
	atomic_int refs;
	pthread_mutex_t lock; /* guards the queue, closed, and the workers' guarded fields */
	pthread_cond_t cond;  /* a result was queued or a worker finished */
	struct disc_item *head, *tail;
	int closed;      /* nothing more is queued; scans should stop */
	atomic_int stop; /* mirror of closed that scan_cancelled reads without the lock */
	uint64_t t0, deadline;
	ax_cancel *cancel; /* a reference, or NULL */
	struct disc_worker *workers;
	size_t n_workers;
};

static struct ax__discover_run *run_ref(struct ax__discover_run *run)
{
	atomic_fetch_add(&run->refs, 1);
	return run;
}

static void run_unref(struct ax__discover_run *run)
{
	struct disc_item *it, *next;

	if (!run || atomic_fetch_sub(&run->refs, 1) != 1)
		return;
	for (it = run->head; it; it = next) {
		next = it->next;
		free(it);
	}
	for (size_t i = 0; i < run->n_workers; i++) {
		free(run->workers[i].message);
		ax_uri_free(run->workers[i].uri_own);
	}
	free(run->workers);
	ax_cancel_unref(run->cancel);
	pthread_cond_destroy(&run->cond);
	pthread_mutex_destroy(&run->lock);
	free(run);
}

static int run_new(struct ax__discover_run **out, size_t n_workers, ax_cancel *cancel)
{
	pthread_condattr_t ca;
	struct ax__discover_run *run = calloc(1, sizeof(*run));

	if (!run)
		return ax__error_oom();
	run->workers = n_workers ? calloc(n_workers, sizeof(*run->workers)) : NULL;
	if (n_workers && !run->workers) {
		free(run);
		return ax__error_oom();
	}
	atomic_init(&run->refs, 1);
	atomic_init(&run->stop, 0);
	run->n_workers = n_workers;
	run->cancel = ax_cancel_ref(cancel);
	pthread_mutex_init(&run->lock, NULL);
	/* Deadlines are monotonic: a clock step must not stretch or cut a discovery. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&run->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = run;
	return 0;
}

static int run_should_stop(struct ax__discover_run *run)
{
	return atomic_load(&run->stop) || ax__now_ns() >= run->deadline ||
	       ax_cancel_requested(run->cancel);
}

/* A worker's sink: should its scan stop? */
static int worker_cancelled(struct ax__sink *sink)
{
	struct disc_worker *w = (struct disc_worker *)sink;

	return run_should_stop(w->run);
}

/* A worker's sink: queue a deep copy of an adopted result for the collector. */
static int worker_emit(struct ax__sink *sink, const ax_scan_result *r)
{
	struct disc_worker *w = (struct disc_worker *)sink;
	struct ax__discover_run *run = w->run;
	struct disc_item *it;

	it = malloc(sizeof(*it) + ax__scan_result_text_size(r));
	if (!it)
		return ax__error_oom();
	it->next = NULL;
	it->target = w->target;
	it->at_ns = ax__now_ns();
	ax__scan_result_copy(&it->r, r, it->text);

	pthread_mutex_lock(&run->lock);
	if (run->closed) {
		pthread_mutex_unlock(&run->lock);
		free(it);
		return ax__error_set(AX_ECANCELED, "discovery over: result for '%s' dropped",
		                     r->uri);
	}
	if (run->tail)
		run->tail->next = it;
	else
		run->head = it;
	run->tail = it;
	pthread_cond_signal(&run->cond);
	pthread_mutex_unlock(&run->lock);
	return 0;
}

static const struct ax__sink_ops worker_sink_ops = {
        .emit = worker_emit,
        .cancelled = worker_cancelled,
};

static void *worker_main(void *arg)
{
	struct disc_worker *w = arg;
	struct ax__discover_run *run = w->run;
	ax_ctx *ctx = w->ctx;
	const char *scheme = w->plugin->desc.scheme;
	char *message = NULL;
	int err, late;

	err = w->plugin->ops.scan(&w->plugin->host, w->uri, w->timeout_ms, &w->sink);
	if (err < 0)
		message = strdup(ax_error_last());
	pthread_mutex_lock(&run->lock);
	w->finished = 1;
	w->error = err < 0 ? err : 0;
	w->message = message;
	w->t1 = ax__now_ns();
	late = run->closed;
	pthread_cond_signal(&run->cond);
	pthread_mutex_unlock(&run->lock);
	if (late)
		AX_LOG_DEBUG(ctx, scheme,
		             "scan of '%s' returned %u ms after its discovery gave "
		             "up on it",
		             w->uri->text, ms_between(run->deadline, w->t1));
	run_unref(run);
	ax_ctx_unref(ctx);
	atomic_fetch_sub(&workers_alive, 1);
	return NULL;
}

/* ---- dictionaries -------------------------------------------------------------- */

/* One identity's dictionary, resolved once per round. */
struct ax__discover_resolved {
	uint32_t vendor, product, revision, known;
	int addr_space; /* of the transport that found it: part of what is resolved */
	ax_dict *dict;
	int match;
	char *reason;
};

static void cache_clear(struct ax__discover_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		ax_dict_unref(c->v[i].dict);
		free(c->v[i].reason);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

#define ID_BITS (AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_REVISION)

/*
 * The dictionary of @r's identity. Never fails the discovery: a database
 * that cannot answer is a reason, not an error.
 */
static const struct ax__discover_resolved *cache_get(struct ax__discover_cache *c, ax_ctx *ctx,
                                                     ax_db *db, unsigned flags, int addr_space,
                                                     const ax_scan_result *r)
{
	static const struct ax__discover_resolved none_oom = {
	        0, 0, 0, 0, 0, NULL, AX_MATCH_NONE, (char *)"out of memory"};
	uint32_t known = r->known & ID_BITS;
	struct ax__discover_resolved e, *grown;
	char *reason = NULL;
	char line[160];
	int err = 0;

	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].known == known && c->v[i].addr_space == addr_space &&
		    c->v[i].vendor == r->vendor_id && c->v[i].product == r->product_code &&
		    c->v[i].revision == r->revision)
			return &c->v[i];
	memset(&e, 0, sizeof(e));
	e.vendor = r->vendor_id;
	e.product = r->product_code;
	e.revision = r->revision;
	e.known = known;
	e.addr_space = addr_space;
	e.match = AX_MATCH_NONE;
	if (flags & AX_DISCOVER_NO_RESOLVE) {
		(void)snprintf(line, sizeof(line), "dictionary lookup not asked for");
	} else if (!(known & AX_SCAN_HAS_PRODUCT)) {
		(void)snprintf(line, sizeof(line), "the drive did not report its product code");
	} else {
		uint32_t rev = known & AX_SCAN_HAS_REVISION ? r->revision : 0;

		err = db ? ax_db_resolve(db, r->vendor_id, r->product_code, rev, addr_space,
		                         &e.dict, &e.match, &reason)
		         : ax_ctx_resolve(ctx, r->vendor_id, r->product_code, rev, addr_space,
		                          &e.dict, &e.match, &reason);
		if (err < 0) {
			(void)snprintf(line, sizeof(line), "dictionary lookup failed: %s",
			               ax_error_last());
			ax_error_clear();
			e.dict = NULL;
			e.match = AX_MATCH_NONE;
		}
	}
	e.reason = reason ? strdup(reason) : strdup(line);
	ax_free(reason);
	grown = e.reason ? realloc(c->v, (c->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		ax_dict_unref(e.dict);
		free(e.reason);
		return &none_oom;
	}
	c->v = grown;
	c->v[c->n] = e;
	return &c->v[c->n++];
}

/* ---- a session: the plan, and the rounds run over it ----------------------------- */

int ax__discover_session_init(struct ax__discover_session *s, ax_ctx *ctx, const char *spec,
                              unsigned flags, ax_db *db, ax_cancel *cancel)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->flags = flags;
	s->db = db;
	s->cancel = cancel;
	err = ax__discover_plan_build(ctx, spec, &s->plan);
	if (err < 0)
		return err;
	s->target_status = calloc(s->plan.n ? s->plan.n : 1, sizeof(*s->target_status));
	if (!s->target_status) {
		ax__discover_plan_free(&s->plan);
		return ax__error_oom();
	}
	return 0;
}

void ax__discover_session_done(struct ax__discover_session *s)
{
	for (size_t i = 0; i < s->n_lingering; i++)
		run_unref(s->lingering[i]);
	free(s->lingering);
	cache_clear(&s->cache);
	ax__discover_seen_clear(&s->seen);
	free(s->target_status);
	ax__discover_plan_free(&s->plan);
}

/* Forget lingering rounds whose workers all returned; is @target busy in one still? */
static int session_target_busy(struct ax__discover_session *s, size_t target)
{
	int busy = 0;

	for (size_t i = 0; i < s->n_lingering && !busy; i++) {
		struct ax__discover_run *run = s->lingering[i];

		pthread_mutex_lock(&run->lock);
		for (size_t k = 0; k < run->n_workers && !busy; k++)
			busy = run->workers[k].target == target && run->workers[k].started &&
			       !run->workers[k].finished;
		pthread_mutex_unlock(&run->lock);
	}
	return busy;
}

static void session_prune_lingering(struct ax__discover_session *s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->n_lingering; i++) {
		struct ax__discover_run *run = s->lingering[i];
		int running = 0;

		pthread_mutex_lock(&run->lock);
		for (size_t k = 0; k < run->n_workers && !running; k++)
			running = run->workers[k].started && !run->workers[k].finished;
		pthread_mutex_unlock(&run->lock);
		if (running)
			s->lingering[kept++] = run;
		else
			run_unref(run);
	}
	s->n_lingering = kept;
}

static int session_outcome(struct ax__discover_session *s, size_t target, int status, int error,
                           const char *message, unsigned found, unsigned reported, uint32_t ms)
{
	ax_discover_transport t = {
	        .size = sizeof(t),
	        .transport = s->plan.targets[target].plugin->desc.scheme,
	        .target = s->plan.targets[target].text,
	        .status = status,
	        .error = error,
	        .message = nz(message),
	        .found = found,
	        .reported = reported,
	        .elapsed_ms = ms,
	};

	s->target_status[target] = status;
	return s->on_outcome ? s->on_outcome(s, target, &t) : 0;
}

/* ---- locations already reported in this round (a set of strings) ------------ */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

void ax__discover_seen_clear(struct ax__discover_seen *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* Add @uri; 1 when it was there already, 0 when added, AX_ENOMEM. */
static int seen_add(struct ax__discover_seen *set, const char *uri)
{
	size_t i;

	if (2 * (set->n + 1) > set->cap) {
		struct ax__discover_seen grown = {NULL, set->cap ? 2 * set->cap : 64, 0};

		grown.slot = calloc(grown.cap, sizeof(*grown.slot));
		if (!grown.slot)
			return ax__error_oom();
		for (size_t k = 0; k < set->cap; k++) {
			if (!set->slot[k])
				continue;
			for (i = hash_str(set->slot[k]) % grown.cap; grown.slot[i];
			     i = (i + 1) % grown.cap)
				;
			grown.slot[i] = set->slot[k];
			grown.n++;
		}
		free(set->slot);
		*set = grown;
	}
	for (i = hash_str(uri) % set->cap; set->slot[i]; i = (i + 1) % set->cap)
		if (!strcmp(set->slot[i], uri))
			return 1;
	set->slot[i] = strdup(uri);
	if (!set->slot[i])
		return ax__error_oom();
	set->n++;
	return 0;
}

/*
 * Resolve and hand over one queued result, once per location: targets may
 * overlap (a range and a host in it), and the caller asked for drives, not
 * for how many ways there are to reach them.
 */
/* What the caller gets for @r, found by @target: identity resolved, strings borrowed. */
static int session_resolve(struct ax__discover_session *s, size_t target, const ax_scan_result *r,
                           uint32_t elapsed_ms, ax__discover_result_fn fn)
{
	const struct ax__discover_target *t = &s->plan.targets[target];
	const struct ax__discover_resolved *res;
	char stable[64] = "", hint[192];
	ax_discover_result d;

	res = cache_get(&s->cache, s->ctx, s->db, s->flags, (int)t->plugin->desc.addr_space, r);
	if ((r->known & (AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_SERIAL)) ==
	    (AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_SERIAL))
		(void)ax_discover_stable_uri(stable, sizeof(stable), r->vendor_id, r->product_code,
		                             r->serial);
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.uri = r->uri;
	d.stable_uri = stable;
	d.transport = t->plugin->desc.scheme;
	d.target = t->text;
	d.detail = r->detail;
	d.access = r->access;
	d.message = r->message;
	d.hint = r->hint;
	d.known = r->known;
	d.vendor_id = r->vendor_id;
	d.product_code = r->product_code;
	d.revision = r->revision;
	d.serial = r->serial;
	d.sw_version = r->sw_version;
	d.match = res->match;
	d.match_reason = nz(res->reason);
	d.dict = res->dict;
	d.model = res->dict ? nz(ax_dict_identity_get(res->dict)->name) : "";
	d.dictionary = res->dict ? nz(ax_dict_source(res->dict)) : "";
	d.elapsed_ms = elapsed_ms;
	/* A drive that answers but has no dictionary: say how to give it one. */
	if (!*d.hint && d.access == AX_ACCESS_OK && !res->dict &&
	    !(s->flags & AX_DISCOVER_NO_RESOLVE) && (r->known & AX_SCAN_HAS_PRODUCT)) {
		(void)snprintf(hint, sizeof(hint),
		               "no dictionary for product 0x%08X: import its XDF file with "
		               "'axlink db import FILE'",
		               (unsigned)r->product_code);
		d.hint = hint;
	}
	return fn ? fn(s, target, &d) : 0;
}

static int session_deliver(struct ax__discover_session *s, struct ax__discover_run *run,
                           const struct disc_item *it)
{
	struct disc_worker *w = &run->workers[it->target];
	int dup;

	dup = seen_add(&s->seen, it->r.uri);
	if (dup != 0)
		return dup < 0 ? dup : 0;
	/* Workers are indexed by target: one per target of the plan. */
	w->delivered++;
	w->delivered_ok += it->r.access == AX_ACCESS_OK;
	return session_resolve(s, it->target, &it->r, ms_between(run->t0, it->at_ns), s->on_result);
}

int ax__discover_session_resolve(struct ax__discover_session *s, size_t target,
                                 const ax_scan_result *r, ax__discover_result_fn fn)
{
	return session_resolve(s, target, r, 0, fn);
}

/*
 * One drive, two transports. A USB drive whose kernel tty driver is bound
 * is also a serial port: the usb transport reports it unprobed (access
 * busy) with the port in os_port, and a transport that opens ports itself
 * (serial) names the port it probed in os_port too. An unprobed result
 * that names a port is held while other scans of the round are running,
 * and dropped when one of them reported that port: the drive is listed
 * once, by the transport that can talk to it. Ports are kept in the seen
 * set under "port PATH", which no URI can be.
 */
#define PORT_KEY "port "

/* "port /dev/ttyACM0" for a result that names an OS port, into @out. */
static int item_port_key(const struct disc_item *it, char *out, size_t cap)
{
	int n;

	if (!*it->r.os_port)
		return 0;
	n = snprintf(out, cap, PORT_KEY "%s", it->r.os_port);
	return n > 0 && (size_t)n < cap;
}

/* True while a scan of this round other than @target's may still report. Needs run->lock. */
static int others_scanning_locked(const struct ax__discover_run *run, size_t target)
{
	for (size_t i = 0; i < run->n_workers; i++)
		if (i != target && run->workers[i].started && !run->workers[i].finished)
			return 1;
	return 0;
}

static int others_scanning(struct ax__discover_run *run, size_t target)
{
	int ret;

	pthread_mutex_lock(&run->lock);
	ret = others_scanning_locked(run, target);
	pthread_mutex_unlock(&run->lock);
	return ret;
}

static int held_has(const struct disc_item *held, size_t target)
{
	for (; held; held = held->next)
		if (held->target == target)
			return 1;
	return 0;
}

/*
 * Deliver @it (and free it), or hold it on @held while other scans may
 * still report the port it names unprobed (@may_hold). A held or delivered
 * result's port is remembered; an unprobed result for a port already
 * listed is dropped.
 */
static int session_offer(struct ax__discover_session *s, struct ax__discover_run *run,
                         struct disc_item *it, struct disc_item **held, int may_hold)
{
	char key[sizeof(PORT_KEY) + 512];
	int ret;

	if (item_port_key(it, key, sizeof(key))) {
		if (it->r.access != AX_ACCESS_BUSY) {
			/* Out of memory here only costs the deduplication. */
			(void)seen_add(&s->seen, key);
		} else if (may_hold && others_scanning(run, it->target)) {
			it->next = *held;
			*held = it;
			return 0;
		} else {
			ret = seen_add(&s->seen, key);
			if (ret != 0) {
				free(it);
				return ret < 0 ? ret : 0;
			}
		}
	}
	ret = session_deliver(s, run, it);
	free(it);
	return ret;
}

/* Deliver what was held while other scans ran, oldest first. */
static int session_flush_held(struct ax__discover_session *s, struct ax__discover_run *run,
                              struct disc_item **held)
{
	struct disc_item *rev = NULL;
	int ret = 0;

	while (*held) {
		struct disc_item *it = *held;

		*held = it->next;
		it->next = rev;
		rev = it;
	}
	while (rev) {
		struct disc_item *it = rev;

		rev = it->next;
		if (ret == 0)
			ret = session_offer(s, run, it, held, 0);
		else
			free(it);
	}
	return ret;
}

static void held_free(struct disc_item *held)
{
	while (held) {
		struct disc_item *next = held->next;

		free(held);
		held = next;
	}
}

/* Take the queue's head off. Collector only, with the lock. */
static struct disc_item *run_pop(struct ax__discover_run *run)
{
	struct disc_item *it = run->head;

	if (!it)
		return NULL;
	run->head = it->next;
	if (!run->head)
		run->tail = NULL;
	return it;
}

/*
 * The collector: deliver results and outcomes until every worker is done,
 * the deadline passes, the token fires or a callback says stop. Called and
 * returns with run->lock held; drops it around every callback.
 */
static int collect(struct ax__discover_session *s, struct ax__discover_run *run, int *cancelled,
                   struct disc_item **held)
{
	size_t pending = 0;
	int ret = 0;

	for (size_t i = 0; i < run->n_workers; i++)
		pending += !run->workers[i].outcome_sent;
	while (pending > 0) {
		struct disc_item *it = run->head;
		uint64_t now, wake;
		struct timespec ts;

		if (ax_cancel_requested(s->cancel)) {
			*cancelled = 1;
			return 0;
		}
		/* At the deadline the caller gets control back, even from a chatty plugin. */
		if (ax__now_ns() >= run->deadline)
			break;
		if (it) {
			run_pop(run);
			pthread_mutex_unlock(&run->lock);
			ret = session_offer(s, run, it, held, 1);
			pthread_mutex_lock(&run->lock);
			if (ret < 0)
				return ret;
			continue;
		}
		if (*held && !others_scanning_locked(run, SIZE_MAX)) {
			pthread_mutex_unlock(&run->lock);
			ret = session_flush_held(s, run, held);
			pthread_mutex_lock(&run->lock);
			if (ret < 0)
				return ret;
		}
		/* The queue is empty under the lock: a finished worker's results are all out. */
		for (size_t i = 0; i < run->n_workers; i++) {
			struct disc_worker *w = &run->workers[i];

			if (w->outcome_sent || !w->finished)
				continue;
			/* Its results held for the other scans are not out yet. */
			if (held_has(*held, w->target))
				continue;
			w->outcome_sent = 1;
			pending--;
			pthread_mutex_unlock(&run->lock);
			ret = session_outcome(s, w->target,
			                      w->error ? AX_DISCOVER_FAILED : AX_DISCOVER_DONE,
			                      w->error, w->message, w->delivered_ok, w->delivered,
			                      ms_between(run->t0, w->t1));
			pthread_mutex_lock(&run->lock);
			if (ret < 0)
				return ret;
		}
		if (pending == 0 || run->head)
			continue;
		now = ax__now_ns();
		if (now >= run->deadline)
			break;
		wake = run->deadline;
		if (s->cancel && now + CANCEL_POLL_NS < wake)
			wake = now + CANCEL_POLL_NS;
		ts.tv_sec = (time_t)(wake / 1000000000u);
		ts.tv_nsec = (long)(wake % 1000000000u);
		(void)pthread_cond_timedwait(&run->cond, &run->lock, &ts);
	}
	return 0;
}

static int run_all_finished(const struct ax__discover_run *run)
{
	for (size_t i = 0; i < run->n_workers; i++)
		if (run->workers[i].started && !run->workers[i].finished)
			return 0;
	return 1;
}

/*
 * Close @run: stop the workers, join those that returned, let the others
 * go. @grace_ms: how long to wait for them first (a caller that stopped
 * early lets well-behaved scans wind down instead of leaving threads).
 */
static void run_close(struct ax__discover_session *s, struct ax__discover_run *run,
                      unsigned grace_ms)
{
	uint64_t until = ax__now_ns() + (uint64_t)grace_ms * 1000000u;
	int lingers = 0;

	pthread_mutex_lock(&run->lock);
	run->closed = 1;
	atomic_store(&run->stop, 1);
	while (grace_ms && !run_all_finished(run) && ax__now_ns() < until) {
		struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};

		(void)pthread_cond_timedwait(&run->cond, &run->lock, &ts);
	}
	pthread_mutex_unlock(&run->lock);
	for (size_t i = 0; i < run->n_workers; i++) {
		struct disc_worker *w = &run->workers[i];
		int finished;

		if (!w->started)
			continue;
		pthread_mutex_lock(&run->lock);
		finished = w->finished;
		pthread_mutex_unlock(&run->lock);
		if (finished) {
			(void)pthread_join(w->thread, NULL);
		} else {
			(void)pthread_detach(w->thread);
			lingers = 1;
		}
	}
	if (lingers) {
		struct ax__discover_run **grown =
		        realloc(s->lingering, (s->n_lingering + 1) * sizeof(*grown));

		/* Without room to remember it, a busy target may just be started again. */
		if (grown) {
			s->lingering = grown;
			s->lingering[s->n_lingering++] = run_ref(run);
		}
	}
}

/*
 * One discovery over the session's plan within @timeout_ms. Returns the
 * number of results with AX_ACCESS_OK, AX_ECANCELED, or a callback's value.
 * @all_failed_out: set when every target that ran failed (and one did).
 */
int ax__discover_session_round(struct ax__discover_session *s, int timeout_ms, int *all_failed_out)
{
	struct ax__discover_run *run = NULL;
	struct disc_item *held = NULL;
	size_t n_run = 0, n_failed = 0;
	int ret, cancelled = 0, found = 0;
	int margin = timeout_ms / 10;
	uint64_t t0;

	*all_failed_out = 0;
	cache_clear(&s->cache);
	ax__discover_seen_clear(&s->seen);
	session_prune_lingering(s);
	ret = run_new(&run, s->plan.n, s->cancel);
	if (ret < 0)
		return ret;
	if (margin > SCAN_MARGIN_MAX_MS)
		margin = SCAN_MARGIN_MAX_MS;
	t0 = ax__now_ns();
	run->t0 = t0;
	run->deadline = t0 + (uint64_t)timeout_ms * 1000000u;

	/* Start every scan first, then report the targets that do not run. */
	for (size_t i = 0; i < s->plan.n; i++) {
		struct ax__discover_target *t = &s->plan.targets[i];
		struct disc_worker *w = &run->workers[i];
		int rc;

		w->run = run;
		w->target = i;
		w->plugin = t->plugin;
		w->outcome_sent = 1; /* until it is started */
		if (t->skip || session_target_busy(s, i))
			continue;
		/* The plan goes with the session; a detached worker must not need it. */
		rc = ax_uri_parse(&w->uri_own, t->text);
		if (rc < 0) {
			ret = rc;
			break;
		}
		w->uri = w->uri_own;
		w->sink.ops = &worker_sink_ops;
		w->timeout_ms = timeout_ms - margin > 0 ? timeout_ms - margin : 1;
		w->ctx = ax_ctx_ref(s->ctx);
		w->outcome_sent = 0;
		run_ref(run);
		atomic_fetch_add(&workers_alive, 1);
		rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != 0) {
			atomic_fetch_sub(&workers_alive, 1);
			run_unref(run);
			ax_ctx_unref(w->ctx);
			w->ctx = NULL;
			w->finished = 1;
			w->error = AX_ERROR;
			w->message = strdup("cannot start a scan thread");
			w->t1 = ax__now_ns();
			n_run++;
			continue;
		}
		w->started = 1;
		n_run++;
	}
	if (ret < 0)
		goto close;
	for (size_t i = 0; i < s->plan.n && ret == 0; i++) {
		const struct ax__discover_target *t = &s->plan.targets[i];
		int idle;

		/* finished is the worker's to write, under run->lock. */
		pthread_mutex_lock(&run->lock);
		idle = !run->workers[i].started && !run->workers[i].finished;
		pthread_mutex_unlock(&run->lock);
		if (t->skip)
			ret = session_outcome(s, i, AX_DISCOVER_SKIPPED, 0, t->skip, 0, 0, 0);
		else if (idle)
			ret = session_outcome(s, i, AX_DISCOVER_SKIPPED, 0,
			                      "its scan from an earlier round is still running", 0,
			                      0, 0);
	}
	if (ret < 0)
		goto close;

	pthread_mutex_lock(&run->lock);
	ret = collect(s, run, &cancelled, &held);
	/* From now on nothing is queued; what was queued by the deadline still counts. */
	run->closed = 1;
	atomic_store(&run->stop, 1);
	pthread_mutex_unlock(&run->lock);
	while (ret == 0 && !cancelled && run->head) {
		struct disc_item *it = run_pop(run);

		ret = session_offer(s, run, it, &held, 1);
	}
	/* The other scans had their time; what they did not report is listed. */
	if (ret == 0 && !cancelled)
		ret = session_flush_held(s, run, &held);
	for (size_t i = 0; i < run->n_workers && ret == 0; i++) {
		struct disc_worker *w = &run->workers[i];
		int finished, status;

		if (w->outcome_sent)
			continue;
		pthread_mutex_lock(&run->lock);
		finished = w->finished;
		pthread_mutex_unlock(&run->lock);
		w->outcome_sent = 1;
		status = cancelled  ? AX_DISCOVER_CANCELLED
		         : finished ? (w->error ? AX_DISCOVER_FAILED : AX_DISCOVER_DONE)
		                    : AX_DISCOVER_TIMED_OUT;
		ret = session_outcome(
		        s, w->target, status, status == AX_DISCOVER_FAILED ? w->error : 0,
		        status == AX_DISCOVER_TIMED_OUT   ? "still scanning at the deadline"
		        : status == AX_DISCOVER_CANCELLED ? "cancelled"
		                                          : w->message,
		        w->delivered_ok, w->delivered,
		        finished ? ms_between(run->t0, w->t1) : ms_between(run->t0, ax__now_ns()));
	}
	for (size_t i = 0; i < run->n_workers; i++) {
		found += (int)run->workers[i].delivered_ok;
		n_failed += s->target_status[i] == AX_DISCOVER_FAILED && !s->plan.targets[i].skip;
	}
	*all_failed_out = n_run > 0 && n_failed == n_run && found == 0;
close:
	held_free(held);
	/* Stopped by a callback: the others were told to stop, give them a moment. */
	run_close(s, run, ret < 0 && !cancelled ? STOP_GRACE_MS : 0);
	run_unref(run);
	if (ret < 0)
		return ret;
	if (cancelled)
		return ax__error_set(AX_ECANCELED, "discovery cancelled");
	return found;
}

/* ---- ax_discover ------------------------------------------------------------------- */

struct discover_user {
	ax_discover_cb on_found;
	void *userdata;
	int first_error;
	char *first_message;
	const char *first_target;
};

static int discover_result(struct ax__discover_session *s, size_t target,
                           const ax_discover_result *r)
{
	struct discover_user *u = s->userdata;

	(void)target;
	return u->on_found ? u->on_found(r, u->userdata) : 0;
}

static int discover_outcome(struct ax__discover_session *s, size_t target,
                            const ax_discover_transport *t)
{
	struct discover_user *u = s->userdata;

	(void)target;
	if (t->status == AX_DISCOVER_FAILED && !u->first_error) {
		u->first_error = t->error ? t->error : AX_ERROR;
		u->first_message = strdup(t->message);
		u->first_target = t->target;
	}
	return s->user_outcome ? s->user_outcome(t, u->userdata) : 0;
}

int ax__discover_check_timeout(int timeout_ms, const char *what)
{
	if (timeout_ms < 0)
		return ax__error_set(AX_EINVAL, "%s %d ms is negative", what, timeout_ms);
	return 0;
}

int ax_discover(ax_ctx *ctx, const char *spec, const ax_discover_options *opts,
                ax_discover_cb on_found, void *userdata)
{
	static const ax_discover_options defaults = AX_DISCOVER_OPTIONS_INIT;
	struct discover_user u = {on_found, userdata, 0, NULL, NULL};
	struct ax__discover_session s;
	int ret, all_failed = 0, timeout_ms;

	AX_ASSERT_ARG(ctx);
	AX_CHECK_VERSION(opts, AX_DISCOVER_OPTIONS_VERSION, "ax_discover_options");
	if (!opts)
		opts = &defaults;
	ret = ax__discover_check_timeout(opts->timeout_ms, "discovery timeout");
	if (ret < 0)
		return ret;
	timeout_ms = opts->timeout_ms ? opts->timeout_ms : AX_DISCOVER_DEFAULT_TIMEOUT_MS;
	ret = ax__discover_session_init(&s, ctx, spec, opts->flags, opts->db, opts->cancel);
	if (ret < 0)
		return ret;
	s.on_result = discover_result;
	s.on_outcome = discover_outcome;
	s.user_outcome = opts->on_transport;
	s.userdata = &u;
	AX_LOG_DEBUG(ctx, "discover", "'%s': %zu target(s) within %d ms", nz(spec), s.plan.n,
	             timeout_ms);
	ret = ax__discover_session_round(&s, timeout_ms, &all_failed);
	if (ret >= 0 && all_failed)
		ret = ax__error_set(u.first_error, "%s: %s", u.first_target, nz(u.first_message));
	free(u.first_message);
	ax__discover_session_done(&s);
	return ret;
}
