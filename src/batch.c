/* SPDX-License-Identifier: MIT */
/*
 * Batches: many reads, on many links, in flight at once (issue 21).
 *
 * The batch owns a set of worker threads, started when a run first needs
 * them and kept until ax_batch_free(). A run hands the reads out in order
 * under the batch's lock; each worker does one read through the ordinary
 * link functions (so the link's lock keeps one request per link in flight,
 * and any transport works), stores the outcome in the read's own slot and
 * takes the next. The run waits on a condition variable until every read
 * has a result, or until its deadline or cancel token: then no new read
 * starts, and the reads in the transports are cancelled. The workers tag
 * their requests with the batch (src/link_priv.h), so that cancel reaches
 * the batch's own reads only, never another user's request on a shared
 * link; it is repeated until each returns, because a transport may drop a
 * cancel that races with a request's start.
 *
 * Lock order: batch->lock, then a link's tag lock (ax__link_cancel_tagged);
 * a worker never holds batch->lock inside a link call.
 *
 * Split reads: when every link of a run implements plugin ABI 1.4's split
 * reads (eth does), no worker runs at all. The calling thread sends a read
 * on each link (ax__link_submit_read, which keeps the link's lock until
 * the read ends, so reads on one link still take turns), waits for all of
 * their sockets in one poll() and takes each reply as it comes. Thread
 * hand-offs cost more than a read on loopback; this costs two system calls
 * per read plus a poll per wake-up. At the run's end the reads still in
 * flight are abandoned (the transport treats them as timed out: a late
 * reply never answers a later request).
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/batch.h"
#include "axlink/plugin.h"
#include "axlink/value.h"
#include "error.h"
#include "link_priv.h"
#include "util.h"

#define BATCH_THREADS_MAX 1024u
/* How often a run that is ending repeats its cancels, and looks at its token. */
#define BATCH_SLICE_NS (5 * 1000000LL)

enum batch_state { ITEM_NEW, ITEM_QUEUED, ITEM_RUNNING, ITEM_DONE };

struct batch_item {
	ax_link *link;     /* one reference */
	const ax_reg *reg; /* a dictionary register, or NULL: raw (subnode, address) */
	unsigned subnode;
	uint32_t address;
	enum batch_state state;
	int err;             /* 0 or the read's ax_error_code */
	int err_class;       /* its ax_error_class */
	uint32_t drive_code; /* with AX_EDRIVE: the drive's code */
	char *msg;           /* its message (malloc), or NULL */
	size_t len;
	uint8_t data[AX_VALUE_MAX + 1];
};

struct ax_batch {
	pthread_mutex_t lock;
	pthread_cond_t work; /* workers: reads to take, or stop */
	pthread_cond_t done; /* the run: every read has its result */
	struct batch_item *items;
	size_t n, cap;
	size_t avail;    /* reads to hand out in this run (0 between runs) */
	size_t next;     /* next read to hand out in this run */
	size_t finished; /* reads of this run with their result */
	int ending;      /* 0, or why the run ends early: AX_ETIMEDOUT, AX_ECANCELED */
	int timeout_ms;  /* this run's, for messages */
	int in_run;
	int stop; /* workers exit */
	pthread_t *threads;
	size_t n_threads, max_threads;
};

int ax_batch_new(ax_batch **out, unsigned max_threads)
{
	pthread_condattr_t ca;
	ax_batch *b;

	AX_ASSERT_ARG(out);
	if (max_threads > BATCH_THREADS_MAX)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "a batch of %u threads: at most %u", max_threads,
		                           BATCH_THREADS_MAX);
	b = calloc(1, sizeof(*b));
	if (!b)
		return ax__error_oom();
	b->max_threads = max_threads ? max_threads : AX_BATCH_THREADS_DEFAULT;
	b->threads = calloc(b->max_threads, sizeof(*b->threads));
	if (!b->threads) {
		free(b);
		return ax__error_oom();
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->work, &ca);
	pthread_cond_init(&b->done, &ca);
	pthread_condattr_destroy(&ca);
	*out = b;
	return 0;
}

static void item_reset(struct batch_item *it)
{
	free(it->msg);
	it->msg = NULL;
	it->err = 0;
	it->err_class = 0;
	it->drive_code = 0;
	it->len = 0;
}

void ax_batch_clear(ax_batch *batch)
{
	if (!batch || batch->in_run)
		return;
	for (size_t i = 0; i < batch->n; i++) {
		item_reset(&batch->items[i]);
		ax_link_unref(batch->items[i].link);
	}
	batch->n = 0;
}

ax_batch *ax_batch_free(ax_batch *batch)
{
	if (!batch)
		return NULL;
	pthread_mutex_lock(&batch->lock);
	batch->stop = 1;
	pthread_cond_broadcast(&batch->work);
	pthread_mutex_unlock(&batch->lock);
	for (size_t i = 0; i < batch->n_threads; i++)
		pthread_join(batch->threads[i], NULL);
	batch->in_run = 0;
	ax_batch_clear(batch);
	free(batch->items);
	free(batch->threads);
	pthread_cond_destroy(&batch->work);
	pthread_cond_destroy(&batch->done);
	pthread_mutex_destroy(&batch->lock);
	free(batch);
	return NULL;
}

static int batch_add(ax_batch *b, ax_link *link, const ax_reg *reg, unsigned subnode,
                     uint32_t address, size_t *index_out)
{
	struct batch_item *it;

	if (b->in_run)
		return ax__error_set(AX_EBUSY, "cannot add to a batch while it runs");
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct batch_item *items = realloc(b->items, cap * sizeof(*items));

		if (!items)
			return ax__error_oom();
		b->items = items;
		b->cap = cap;
	}
	it = &b->items[b->n];
	memset(it, 0, offsetof(struct batch_item, data));
	it->link = ax_link_ref(link);
	it->reg = reg;
	it->subnode = subnode;
	it->address = address;
	it->state = ITEM_NEW;
	if (index_out)
		*index_out = b->n;
	b->n++;
	return 0;
}

int ax_batch_add_read(ax_batch *batch, ax_link *link, unsigned subnode, uint32_t address,
                      size_t *index_out)
{
	AX_ASSERT_ARG(batch);
	AX_ASSERT_ARG(link);
	return batch_add(batch, link, NULL, subnode, address, index_out);
}

int ax_batch_add_reg(ax_batch *batch, ax_link *link, const ax_reg *reg, size_t *index_out)
{
	AX_ASSERT_ARG(batch);
	AX_ASSERT_ARG(link);
	AX_ASSERT_ARG(reg);
	return batch_add(batch, link, reg, ax_reg_subnode(reg), ax_reg_address(reg), index_out);
}

size_t ax_batch_count(const ax_batch *batch)
{
	return batch ? batch->n : 0;
}

/* Keep the calling thread's last error as @it's outcome. */
static void item_take_error(struct batch_item *it, int err)
{
	const char *msg = ax_error_last();

	it->err = err;
	it->err_class = ax_error_last_class();
	it->drive_code = err == AX_EDRIVE ? ax_error_last_drive_code() : 0;
	it->msg = strdup(msg && *msg ? msg : ax_strerror(err));
}

/* The outcome of a read the run's end (deadline or cancel) stopped, or kept from starting. */
static void item_ended(const ax_batch *b, struct batch_item *it)
{
	char buf[320];

	free(it->msg);
	it->err = b->ending;
	it->err_class = AX_ERRCLASS_TRANSPORT;
	it->drive_code = 0;
	it->len = 0;
	if (b->ending == AX_ETIMEDOUT)
		(void)snprintf(buf, sizeof(buf),
		               "read subnode %u register 0x%03X on %s: no reply within the batch's "
		               "%d ms",
		               it->subnode, (unsigned)it->address, ax_link_uri(it->link),
		               b->timeout_ms);
	else
		(void)snprintf(buf, sizeof(buf),
		               "read subnode %u register 0x%03X on %s: the batch was cancelled",
		               it->subnode, (unsigned)it->address, ax_link_uri(it->link));
	it->msg = strdup(buf);
}

static void item_read(struct batch_item *it)
{
	size_t len = 0;
	int err;

	if (it->reg)
		err = ax_link_read_reg(it->link, it->reg, it->data, sizeof(it->data), &len);
	else
		err = ax_link_read(it->link, it->subnode, it->address, it->data, AX_VALUE_MAX,
		                   &len);
	if (err < 0) {
		item_take_error(it, err);
		return;
	}
	it->err = 0;
	it->len = len;
}

static void *batch_worker(void *arg)
{
	ax_batch *b = arg;

	/* Our reads carry the batch's tag: its cancel reaches them and nobody else's. */
	(void)ax__link_tag_set(b);
	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct batch_item *it;

		while (!b->stop && b->next >= b->avail)
			pthread_cond_wait(&b->work, &b->lock);
		if (b->stop)
			break;
		it = &b->items[b->next++];
		if (!b->ending) {
			it->state = ITEM_RUNNING;
			pthread_mutex_unlock(&b->lock);
			item_read(it);
			pthread_mutex_lock(&b->lock);
			/* Cancelled by the run's end: say so, not "cancelled while waiting". */
			if (b->ending && it->err == AX_ECANCELED)
				item_ended(b, it);
		} else {
			item_ended(b, it);
		}
		it->state = ITEM_DONE;
		if (++b->finished == b->avail)
			pthread_cond_broadcast(&b->done);
	}
	pthread_mutex_unlock(&b->lock);
	(void)ax__link_tag_set(NULL);
	return NULL;
}

/* Start workers up to @want (at most max_threads). With none at all, an error. */
static int batch_workers(ax_batch *b, size_t want)
{
	int rc = 0;

	if (want > b->max_threads)
		want = b->max_threads;
	while (b->n_threads < want) {
		rc = pthread_create(&b->threads[b->n_threads], NULL, batch_worker, b);
		if (rc != 0)
			break;
		b->n_threads++;
	}
	if (b->n_threads == 0)
		return ax__error_set_class(AX_ERRCLASS_INTERNAL, rc == EAGAIN ? AX_ENOMEM : AX_EIO,
		                           "cannot start a batch worker thread: %s", strerror(rc));
	/* Fewer than wanted: the ones there take turns. */
	return 0;
}

static struct timespec batch_timespec(int64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000LL),
	                      .tv_nsec = (long)(ns % 1000000000LL)};

	return ts;
}

/* Cancel the batch's reads in the transports; with b->lock held. */
static void batch_cancel_running(ax_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].state == ITEM_RUNNING)
			(void)ax__link_cancel_tagged(b->items[i].link, b);
}

/* True when every link of the batch implements split reads. */
static int batch_can_split(const ax_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (!ax__link_can_split(b->items[i].link))
			return 0;
	return 1;
}

/* The outcome of a split read that ended: @err from ax__link_complete_read(). */
static void item_split_done(struct batch_item *it, int err, size_t len)
{
	if (err == 0 && it->reg)
		err = ax__link_value_shape(it->subnode, it->address, ax_reg_dtype(it->reg),
		                           it->data, len, it->data, sizeof(it->data), &len);
	if (err < 0)
		item_take_error(it, err);
	else
		it->len = len;
	it->state = ITEM_DONE;
}

/* True when an item before @i on the same link has not finished. */
static int item_waits_turn(const ax_batch *b, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (b->items[j].link == b->items[i].link && b->items[j].state != ITEM_DONE)
			return 1;
	return 0;
}

/*
 * Start what can start: each queued read whose link is free. Returns the
 * number of reads waiting for someone else's request on their link.
 */
static size_t batch_split_start(ax_batch *b, size_t *running)
{
	size_t blocked = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct batch_item *it = &b->items[i];
		int err;

		if (it->state != ITEM_QUEUED || item_waits_turn(b, i))
			continue;
		err = it->reg ? ax__link_reg_check_read(it->link, it->reg) : 0;
		if (err == 0)
			err = ax__link_submit_read(it->link, it->subnode, it->address);
		if (err == 1) {
			blocked++;
		} else if (err < 0) {
			item_take_error(it, err);
			it->state = ITEM_DONE;
		} else {
			it->state = ITEM_RUNNING;
			(*running)++;
		}
	}
	return blocked;
}

/* The run on the calling thread, with split reads. Returns why it ended early, or 0. */
static int batch_run_split(ax_batch *b, int64_t deadline, ax_cancel *cancel)
{
	struct pollfd *pfd;
	size_t *which, running = 0;
	int ending = 0;

	pfd = malloc(b->n * sizeof(*pfd));
	which = malloc(b->n * sizeof(*which));
	if (!pfd || !which) {
		free(pfd);
		free(which);
		return ax__error_oom();
	}
	for (;;) {
		size_t blocked = batch_split_start(b, &running), np = 0, left = 0;
		int64_t now, until = 0;
		int ms;

		for (size_t i = 0; i < b->n; i++)
			if (b->items[i].state != ITEM_DONE)
				left++;
		if (left == 0)
			break;
		now = (int64_t)ax__now_ns();
		if (cancel && ax_cancel_requested(cancel))
			ending = AX_ECANCELED;
		else if (deadline && now >= deadline)
			ending = AX_ETIMEDOUT;
		if (ending)
			break;
		until = deadline;
		if ((cancel || blocked) && (!until || until > now + BATCH_SLICE_NS))
			until = now + (blocked ? BATCH_SLICE_NS / 5 : BATCH_SLICE_NS);
		for (size_t i = 0; i < b->n; i++) {
			uint64_t wake = 0;

			if (b->items[i].state != ITEM_RUNNING)
				continue;
			pfd[np].fd = ax__link_pollfd(b->items[i].link, &wake);
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			which[np++] = i;
			if (wake && (!until || (int64_t)wake < until))
				until = (int64_t)wake;
		}
		if (!until)
			ms = np ? -1 : 1; /* nothing to poll: look again shortly, never hang */
		else if (until <= now)
			ms = 0;
		else
			ms = (int)((until - now + 999999) / 1000000);
		if (poll(pfd, np, ms) < 0 && errno != EINTR) {
			ending = ax__error_set(AX_EIO, "batch: poll failed: %s", strerror(errno));
			break;
		}
		now = (int64_t)ax__now_ns();
		for (size_t k = 0; k < np; k++) {
			struct batch_item *it = &b->items[which[k]];
			uint64_t wake = 0;
			size_t len = 0;
			int err;

			if (!pfd[k].revents) {
				(void)ax__link_pollfd(it->link, &wake);
				if (!wake || (int64_t)wake > now)
					continue;
			}
			err = ax__link_complete_read(it->link, it->data, AX_VALUE_MAX, &len);
			if (err == AX_PLUGIN_PENDING)
				continue;
			running--;
			item_split_done(it, err, len);
		}
	}
	/* Deadline or cancel: give up the reads in flight, and those not started. */
	b->ending = ending;
	for (size_t i = 0; i < b->n; i++) {
		struct batch_item *it = &b->items[i];

		if (it->state == ITEM_DONE)
			continue;
		if (it->state == ITEM_RUNNING)
			ax__link_abandon(it->link);
		it->state = ITEM_DONE;
		if (ending == AX_ETIMEDOUT || ending == AX_ECANCELED) {
			item_ended(b, it);
		} else {
			item_take_error(it, ending);
		}
	}
	free(pfd);
	free(which);
	return ending;
}

int ax_batch_run(ax_batch *batch, int timeout_ms, ax_cancel *cancel)
{
	ax_batch *b = batch;
	int64_t deadline;
	size_t failed = 0;
	int err, ending;

	AX_ASSERT_ARG(batch);
	if (timeout_ms < 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "batch timeout %d ms: must be >= 0", timeout_ms);
	if (b->in_run)
		return ax__error_set(AX_EBUSY, "the batch is already running");
	if (b->n == 0)
		return 0;
	for (size_t i = 0; i < b->n; i++) {
		item_reset(&b->items[i]);
		b->items[i].state = ITEM_QUEUED;
	}
	deadline = timeout_ms > 0 ? (int64_t)ax__now_ns() + (int64_t)timeout_ms * 1000000LL : 0;
	if (batch_can_split(b)) {
		b->in_run = 1;
		b->timeout_ms = timeout_ms;
		b->ending = 0;
		ending = batch_run_split(b, deadline, cancel);
		b->in_run = 0;
		if (ending < 0 && ending != AX_ECANCELED && ending != AX_ETIMEDOUT)
			return ending;
		goto finish;
	}
	err = batch_workers(b, b->n);
	if (err < 0)
		return err;

	pthread_mutex_lock(&b->lock);
	b->in_run = 1;
	b->timeout_ms = timeout_ms;
	b->ending = 0;
	b->next = 0;
	b->finished = 0;
	b->avail = b->n;
	pthread_cond_broadcast(&b->work);
	while (b->finished < b->avail) {
		int64_t now = (int64_t)ax__now_ns();
		int64_t until = deadline;
		struct timespec ts;

		if (!b->ending) {
			if (cancel && ax_cancel_requested(cancel))
				b->ending = AX_ECANCELED;
			else if (deadline && now >= deadline)
				b->ending = AX_ETIMEDOUT;
		}
		if (b->ending) {
			batch_cancel_running(b);
			until = now + BATCH_SLICE_NS;
		} else if (cancel && (!until || until > now + BATCH_SLICE_NS)) {
			until = now + BATCH_SLICE_NS;
		}
		if (!until) {
			pthread_cond_wait(&b->done, &b->lock);
			continue;
		}
		ts = batch_timespec(until);
		(void)pthread_cond_timedwait(&b->done, &b->lock, &ts);
	}
	ending = b->ending;
	b->avail = 0;
	b->next = 0;
	b->in_run = 0;
	pthread_mutex_unlock(&b->lock);

finish:
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].err < 0)
			failed++;
	if (ending == AX_ECANCELED)
		return ax__error_set(AX_ECANCELED,
		                     "batch of %zu reads cancelled (%zu did not finish)", b->n,
		                     failed);
	return failed > INT32_MAX ? INT32_MAX : (int)failed;
}

static const struct batch_item *batch_done_item(const ax_batch *b, size_t index)
{
	if (!b || index >= b->n || b->in_run || b->items[index].state != ITEM_DONE)
		return NULL;
	return &b->items[index];
}

int ax_batch_result(const ax_batch *batch, size_t index, const void **data_out, size_t *len_out)
{
	const struct batch_item *it = batch_done_item(batch, index);

	if (!it) {
		if (data_out)
			*data_out = NULL;
		if (len_out)
			*len_out = 0;
		return AX_EINVAL;
	}
	if (data_out)
		*data_out = it->err < 0 ? NULL : it->data;
	if (len_out)
		*len_out = it->err < 0 ? 0 : it->len;
	return it->err;
}

const char *ax_batch_error(const ax_batch *batch, size_t index)
{
	const struct batch_item *it = batch_done_item(batch, index);

	return it && it->err < 0 ? (it->msg ? it->msg : ax_strerror(it->err)) : NULL;
}

uint32_t ax_batch_drive_code(const ax_batch *batch, size_t index)
{
	const struct batch_item *it = batch_done_item(batch, index);

	return it ? it->drive_code : 0;
}

int ax_batch_error_class(const ax_batch *batch, size_t index)
{
	const struct batch_item *it = batch_done_item(batch, index);

	return it && it->err < 0 ? it->err_class : 0;
}
