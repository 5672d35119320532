/* SPDX-License-Identifier: MIT */
/*
 * The poller: a sampler thread reads a fixed set of registers once per
 * period, on absolute CLOCK_MONOTONIC deadlines, into a single-producer /
 * single-consumer ring. The sampler owns `head`, the reader owns `tail`;
 * each publishes its index with a release store and reads the other's with
 * an acquire load, so neither ever waits for the other and no lock is held
 * during bus I/O.
 *
 * Stopping is bounded by a request, not by a sample: the sampler looks at
 * `running` before every read, and ax_poller_stop() cancels the read in
 * flight. The sampler tags its requests (src/link_priv.h), so the cancel
 * reaches its own read only, never the request of another user of the
 * same link; the cancel is repeated until the sampler has gone, because a
 * transport drops a cancel that lands before it started waiting. The
 * sample that a stop interrupts is dropped, not stored half-read.
 *
 * Channels on several links (several drives) are read at once, through a
 * batch (axlink/batch.h): a sample then costs about one round trip, not
 * one per drive. The batch's workers tag their own reads; a stop triggers
 * the token the batch run watches, which cancels them.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/batch.h"
#include "axlink/poller.h"
#include "axlink/value.h"
#include "error.h"
#include "link_priv.h"
#include "util.h"

#define POLLER_PERIOD_MIN_US 100u
#define POLLER_PERIOD_MAX_US 60000000u
#define POLLER_CAPACITY_MAX ((size_t)1 << 24)
#define NS_PER_S 1000000000LL
/* How often ax_poller_stop() repeats its cancel while the sampler is still in a read. */
#define POLLER_CANCEL_EVERY_NS (5 * 1000000LL)

struct poller_channel {
	ax_drive *drive; /* one reference */
	ax_link *link;   /* borrowed from drive */
	const ax_reg *reg;
	int dtype;
	size_t size;
	atomic_uint_fast64_t errors;
};

struct ax_poller {
	struct poller_channel ch[AX_POLLER_MAX_CHANNELS];
	size_t n_ch;
	int64_t period_ns;

	/* Ring of `capacity` slots of (1 + n_ch) doubles: time, then values. */
	double *ring;
	size_t capacity;
	size_t stride;      /* fixed at first start (channels cannot change after) */
	atomic_size_t head; /* next slot the sampler writes; sampler only */
	atomic_size_t tail; /* next slot the reader takes; reader only */

	pthread_t thread;
	int thread_live;      /* a thread to join; touched by the controlling thread only */
	atomic_int running;   /* 1 while the sampler should go on */
	pthread_mutex_t lock; /* guards exited; with cond, wakes the sampler's sleep and stop */
	pthread_cond_t cond;  /* on CLOCK_MONOTONIC; signalled by stop and by the sampler's end */
	int exited;           /* the sampler of the current run has returned */
	int64_t t0_ns;        /* monotonic time of the first start, or -1 */
	ax_batch *batch;      /* channels on several links: read together; else NULL */
	ax_cancel *stop;      /* triggered by ax_poller_stop(): ends a batch run */

	atomic_uint_fast64_t samples, lost, overflows, taken;
	atomic_int_fast64_t elapsed_ns;   /* of finished runs */
	atomic_int_fast64_t run_start_ns; /* start of the current run, 0 when stopped */
	atomic_int_fast64_t first_take_ns, last_take_ns; /* for the achieved period */
};

static int64_t poller_now(void)
{
	return (int64_t)ax__now_ns();
}

/* The lock and the CLOCK_MONOTONIC condition variable. Returns 0 or -1. */
static int poller_sync_init(ax_poller *p)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return -1;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&p->cond, &attr);
	(void)pthread_condattr_destroy(&attr);
	if (rc != 0)
		return -1;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		pthread_cond_destroy(&p->cond);
		return -1;
	}
	return 0;
}

static struct timespec poller_timespec(int64_t t_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(t_ns / NS_PER_S);
	ts.tv_nsec = (long)(t_ns % NS_PER_S);
	return ts;
}

int ax_poller_new(ax_poller **out, uint32_t period_us, size_t capacity)
{
	ax_poller *p;

	AX_ASSERT_ARG(out);
	if (period_us < POLLER_PERIOD_MIN_US || period_us > POLLER_PERIOD_MAX_US)
		return ax__error_set(AX_EINVAL, "poller period %u us outside %u..%u us", period_us,
		                     POLLER_PERIOD_MIN_US, POLLER_PERIOD_MAX_US);
	if (capacity < 2 || capacity > POLLER_CAPACITY_MAX)
		return ax__error_set(AX_EINVAL, "poller capacity %zu outside 2..%zu samples",
		                     capacity, POLLER_CAPACITY_MAX);
	p = calloc(1, sizeof(*p));
	if (!p)
		return ax__error_oom();
	if (poller_sync_init(p) < 0) {
		free(p);
		return ax__error_set(AX_ERROR, "poller: cannot set up its condition variable");
	}
	p->period_ns = (int64_t)period_us * 1000;
	p->capacity = capacity;
	p->t0_ns = -1;
	atomic_init(&p->head, 0);
	atomic_init(&p->tail, 0);
	atomic_init(&p->running, 0);
	atomic_init(&p->samples, 0);
	atomic_init(&p->lost, 0);
	atomic_init(&p->overflows, 0);
	atomic_init(&p->taken, 0);
	atomic_init(&p->elapsed_ns, 0);
	atomic_init(&p->run_start_ns, 0);
	atomic_init(&p->first_take_ns, 0);
	atomic_init(&p->last_take_ns, 0);
	*out = p;
	return 0;
}

ax_poller *ax_poller_free(ax_poller *poller)
{
	if (!poller)
		return NULL;
	(void)ax_poller_stop(poller);
	ax_batch_free(poller->batch); /* before the drives: it holds their links */
	ax_cancel_unref(poller->stop);
	for (size_t i = 0; i < poller->n_ch; i++)
		ax_drive_unref(poller->ch[i].drive);
	pthread_cond_destroy(&poller->cond);
	pthread_mutex_destroy(&poller->lock);
	free(poller->ring);
	free(poller);
	return NULL;
}

int ax_poller_add(ax_poller *poller, ax_drive *drive, const char *id, int subnode)
{
	struct poller_channel *c;
	const ax_reg *reg;
	size_t size;
	int err, dtype;

	AX_ASSERT_ARG(poller);
	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(id);
	if (poller->thread_live)
		return ax__error_set(AX_EBUSY, "poller: cannot add '%s' while running", id);
	if (poller->ring)
		return ax__error_set(AX_EBUSY,
		                     "poller: cannot add '%s' after the first start (the ring "
		                     "holds rows of %zu channels)",
		                     id, poller->n_ch);
	if (poller->n_ch >= AX_POLLER_MAX_CHANNELS)
		return ax__error_set(AX_ERANGE, "poller: cannot add '%s': at most %d channels", id,
		                     AX_POLLER_MAX_CHANNELS);
	err = ax_drive_find(drive, id, subnode, &reg);
	if (err < 0)
		return err;
	dtype = ax_reg_dtype(reg);
	size = ax_dtype_size(dtype);
	if (!size || size > 8)
		return ax__error_set(AX_ETYPE, "poller: register '%s' is a %s, not a number", id,
		                     ax_dtype_name(dtype) ? ax_dtype_name(dtype) : "unknown type");
	c = &poller->ch[poller->n_ch];
	c->drive = ax_drive_ref(drive);
	c->link = ax_drive_link(drive);
	c->reg = reg;
	c->dtype = dtype;
	c->size = size;
	atomic_init(&c->errors, 0);
	return (int)poller->n_ch++;
}

size_t ax_poller_channels(const ax_poller *poller)
{
	return poller ? poller->n_ch : 0;
}

const ax_reg *ax_poller_channel_reg(const ax_poller *poller, size_t channel)
{
	return poller && channel < poller->n_ch ? poller->ch[channel].reg : NULL;
}

static int poller_running(ax_poller *p)
{
	return atomic_load_explicit(&p->running, memory_order_acquire);
}

/*
 * One sample into @row (1 + n_ch doubles). Returns 1 when every read
 * succeeded, 0 when one failed, -1 when the poller was stopped meanwhile
 * (the row is incomplete; a cancelled read is not the channel's error).
 */
static int poller_take(ax_poller *p, double *row, int64_t t_ns)
{
	uint8_t buf[AX_VALUE_MAX + 1];
	int ok = 1;

	row[0] = (double)(t_ns - p->t0_ns) / (double)NS_PER_S;
	/* Several drives: every channel in flight at once (the batch's reads, in order). */
	if (p->batch && (ax_batch_run(p->batch, 0, p->stop) < 0 || !poller_running(p)))
		return -1;
	for (size_t i = 0; i < p->n_ch; i++) {
		struct poller_channel *c = &p->ch[i];
		size_t len = 0;
		int err;

		if (!poller_running(p))
			return -1;
		if (p->batch) {
			const void *data = NULL;

			err = ax_batch_result(p->batch, i, &data, &len);
			if (err == 0 && len <= sizeof(buf))
				memcpy(buf, data, len);
		} else {
			err = ax_link_read_reg(c->link, c->reg, buf, sizeof(buf), &len);
		}
		if (!poller_running(p))
			return -1;
		if (err < 0 || len < c->size) {
			atomic_fetch_add_explicit(&c->errors, 1, memory_order_relaxed);
			row[1 + i] = NAN;
			ok = 0;
			continue;
		}
		/* The value module's codec, as ax_drive_read_f64() converts. */
		if (ax_value_to_f64(c->dtype, buf, len, &row[1 + i]) < 0) {
			atomic_fetch_add_explicit(&c->errors, 1, memory_order_relaxed);
			row[1 + i] = NAN;
			ok = 0;
		}
	}
	return ok;
}

/* Sleep until the absolute @deadline, or until ax_poller_stop() wakes us. */
static void poller_sleep_until(ax_poller *p, int64_t deadline)
{
	struct timespec ts = poller_timespec(deadline);

	pthread_mutex_lock(&p->lock);
	while (poller_running(p) && poller_now() < deadline)
		if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&p->lock);
}

static void *poller_main(void *arg)
{
	ax_poller *p = arg;
	/* From the thread's own start: its start-up delay is not a missed period. */
	int64_t deadline = poller_now();

	/* Our reads carry our tag: ax_poller_stop() cancels them and nobody else's. */
	(void)ax__link_tag_set(p);
	while (poller_running(p)) {
		size_t head = atomic_load_explicit(&p->head, memory_order_relaxed);
		size_t tail = atomic_load_explicit(&p->tail, memory_order_acquire);
		double scratch[1 + AX_POLLER_MAX_CHANNELS];
		int full = head - tail >= p->capacity;
		double *row = full ? scratch : &p->ring[(head % p->capacity) * p->stride];
		int64_t now = poller_now();
		int took = poller_take(p, row, now);

		if (took < 0)
			break;
		if (!took)
			atomic_fetch_add_explicit(&p->lost, 1, memory_order_relaxed);
		if (!atomic_load_explicit(&p->first_take_ns, memory_order_relaxed))
			atomic_store(&p->first_take_ns, now);
		atomic_store(&p->last_take_ns, now);
		atomic_fetch_add_explicit(&p->taken, 1, memory_order_relaxed);
		if (full) {
			atomic_fetch_add_explicit(&p->overflows, 1, memory_order_relaxed);
		} else {
			atomic_store_explicit(&p->head, head + 1, memory_order_release);
			atomic_fetch_add_explicit(&p->samples, 1, memory_order_relaxed);
		}

		/*
		 * The next deadline is the previous one plus a period, so the
		 * time reads take does not accumulate; deadlines already past
		 * are skipped and counted as lost.
		 */
		deadline += p->period_ns;
		now = poller_now();
		if (now >= deadline) {
			int64_t missed = (now - deadline) / p->period_ns + 1;

			atomic_fetch_add_explicit(&p->lost, (uint64_t)missed, memory_order_relaxed);
			deadline += missed * p->period_ns;
		}
		poller_sleep_until(p, deadline);
	}
	(void)ax__link_tag_set(NULL);
	pthread_mutex_lock(&p->lock);
	p->exited = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Cancel the sampler's read in flight, once per link the channels use. */
static void poller_cancel_reads(ax_poller *p)
{
	for (size_t i = 0; i < p->n_ch; i++) {
		size_t j = 0;

		while (j < i && p->ch[j].link != p->ch[i].link)
			j++;
		if (j == i)
			(void)ax__link_cancel_tagged(p->ch[i].link, p);
	}
}

/*
 * Channels on more than one link: a batch of their reads (made once, at the
 * first start: the channels are fixed from then on) and the token that
 * stops its runs. One link: nothing, the reads take turns anyway.
 */
static int poller_batch_init(ax_poller *p)
{
	size_t links = 0;
	int err;

	for (size_t i = 0; i < p->n_ch; i++) {
		size_t j = 0;

		while (j < i && p->ch[j].link != p->ch[i].link)
			j++;
		links += j == i;
	}
	if (links < 2 || p->batch)
		return 0;
	err = ax_cancel_new(&p->stop);
	if (err == 0)
		err = ax_batch_new(&p->batch, (unsigned)links);
	for (size_t i = 0; err == 0 && i < p->n_ch; i++)
		err = ax_batch_add_reg(p->batch, p->ch[i].link, p->ch[i].reg, NULL);
	if (err < 0) {
		p->batch = ax_batch_free(p->batch);
		p->stop = ax_cancel_unref(p->stop);
	}
	return err;
}

int ax_poller_start(ax_poller *poller)
{
	int64_t now;
	int rc;

	AX_ASSERT_ARG(poller);
	if (poller->thread_live)
		return ax__error_set(AX_EBUSY, "poller already running");
	if (!poller->n_ch)
		return ax__error_set(AX_EINVAL, "poller has no channels to sample");
	if (!poller->ring) {
		rc = poller_batch_init(poller);
		if (rc < 0)
			return rc;
		poller->stride = 1 + poller->n_ch;
		poller->ring = calloc(poller->capacity, poller->stride * sizeof(double));
		if (!poller->ring)
			return ax__error_oom();
	}
	if (poller->stop)
		ax_cancel_reset(poller->stop);
	now = poller_now();
	if (poller->t0_ns < 0)
		poller->t0_ns = now;
	atomic_store(&poller->run_start_ns, now);
	poller->exited = 0; /* no sampler runs: nobody else touches it */
	atomic_store_explicit(&poller->running, 1, memory_order_release);
	rc = pthread_create(&poller->thread, NULL, poller_main, poller);
	if (rc != 0) {
		atomic_store(&poller->running, 0);
		atomic_store(&poller->run_start_ns, 0);
		return ax__error_set(AX_ERROR, "poller: cannot start its thread: %s", strerror(rc));
	}
	poller->thread_live = 1;
	return 0;
}

int ax_poller_stop(ax_poller *poller)
{
	int64_t start;

	AX_ASSERT_ARG(poller);
	if (!poller->thread_live)
		return 0;
	pthread_mutex_lock(&poller->lock);
	atomic_store_explicit(&poller->running, 0, memory_order_release);
	pthread_cond_broadcast(&poller->cond);
	/* A batch run in progress watches this token (within 5 ms), then cancels its reads. */
	if (poller->stop)
		ax_cancel_trigger(poller->stop);
	/*
	 * The sampler sees `running` before its next read; the read it may be
	 * in now is cancelled, again and again, since a cancel that lands
	 * before the transport waits is dropped. Transports that cannot cancel
	 * end the read at its deadline.
	 */
	while (!poller->exited) {
		struct timespec ts;

		pthread_mutex_unlock(&poller->lock);
		poller_cancel_reads(poller);
		ts = poller_timespec(poller_now() + POLLER_CANCEL_EVERY_NS);
		pthread_mutex_lock(&poller->lock);
		if (!poller->exited)
			(void)pthread_cond_timedwait(&poller->cond, &poller->lock, &ts);
	}
	pthread_mutex_unlock(&poller->lock);
	pthread_join(poller->thread, NULL);
	poller->thread_live = 0;
	start = atomic_exchange(&poller->run_start_ns, 0);
	atomic_fetch_add(&poller->elapsed_ns, poller_now() - start);
	return 0;
}

int ax_poller_running(const ax_poller *poller)
{
	return poller && atomic_load(&((ax_poller *)poller)->running);
}

int ax_poller_read(ax_poller *poller, double *times, double *values, size_t max)
{
	size_t head, tail, n;

	AX_ASSERT_ARG(poller);
	AX_ASSERT_ARG(times || !max);
	AX_ASSERT_ARG(values || !max);
	if (!poller->ring)
		return 0;
	tail = atomic_load_explicit(&poller->tail, memory_order_relaxed);
	head = atomic_load_explicit(&poller->head, memory_order_acquire);
	n = head - tail;
	if (n > max)
		n = max;
	if (n > INT32_MAX)
		n = INT32_MAX;
	for (size_t i = 0; i < n; i++) {
		const double *row = &poller->ring[((tail + i) % poller->capacity) * poller->stride];

		times[i] = row[0];
		memcpy(&values[i * poller->n_ch], &row[1], poller->n_ch * sizeof(double));
	}
	atomic_store_explicit(&poller->tail, tail + n, memory_order_release);
	return (int)n;
}

int ax_poller_stats_get(const ax_poller *poller, ax_poller_stats *caller_out)
{
	ax_poller *p = (ax_poller *)poller; /* atomics are loaded, never changed */
	ax_poller_stats stats, *out = &stats;
	int64_t elapsed, start, first, last;
	uint64_t taken;

	AX_ASSERT_ARG(poller);
	AX_ASSERT_ARG(caller_out);
	AX_CHECK_SIZE(caller_out, AX__SIZE_THROUGH(ax_poller_stats, period_s), "ax_poller_stats");
	elapsed = atomic_load(&p->elapsed_ns);
	start = atomic_load(&p->run_start_ns);
	if (start)
		elapsed += poller_now() - start;
	taken = atomic_load(&p->taken);
	first = atomic_load(&p->first_take_ns);
	last = atomic_load(&p->last_take_ns);
	memset(out, 0, sizeof(*out));
	out->samples = atomic_load(&p->samples);
	out->lost = atomic_load(&p->lost);
	out->overflows = atomic_load(&p->overflows);
	out->elapsed_s = (double)elapsed / (double)NS_PER_S;
	/* Over all runs the gaps between runs count too; good enough for a summary. */
	if (taken >= 2)
		out->period_s = (double)(last - first) / (double)NS_PER_S / (double)(taken - 1);
	ax__sized_copy(caller_out, out, sizeof(*out));
	return 0;
}

uint64_t ax_poller_channel_errors(const ax_poller *poller, size_t channel)
{
	if (!poller || channel >= poller->n_ch)
		return 0;
	return atomic_load(&((ax_poller *)poller)->ch[channel].errors);
}
