/* SPDX-License-Identifier: MIT */
/*
 * Batches (axlink/batch.h, issue 21): reads on many links at once against
 * the real simulator over UDP loopback.
 *
 *   127.0.22.1-8    eight drives, serials 3000..3007 (whole run)
 *   127.0.22.9      a drive that loses every request (--drop 100 there only)
 *   127.0.22.30-33  four drives answering 40 ms late (poller test)
 *   127.0.22.50     a scripted drive (this file): late and duplicate replies
 *   127.0.22.100    nothing: port unreachable
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "axlink/mcb.h"
#include "syscount.h"
#include "testctx.h"
#include "simproc.h"
#include "support/timing.h"

#define SIM_START_MS 10000
#define DRIVES 8
#define SERIAL0 3000u
#define REG_SERIAL 0x6E6
#define REG_UNKNOWN 0x7FF
/* The link timeout of the drive that never answers: what a prompt end is told from. */
#define DEAD_TIMEOUT_MS 5000

struct fixture {
	ax_ctx *ctx;
	simproc *sim;
	ax_link *links[DRIVES];
	ax_link *dead;   /* 127.0.22.9: never answers; 5 s timeout */
	ax_link *nobody; /* 127.0.22.100: port unreachable */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static ax_link *open_link(ax_ctx *ctx, const char *uri, int timeout_ms)
{
	ax_link_options o = AX_LINK_OPTIONS_INIT;
	ax_link *link = NULL;

	o.timeout_ms = timeout_ms;
	if (ax_link_open(&link, ctx, uri, &o) < 0)
		fail_msg("open %s: %s", uri, ax_error_last());
	return link;
}

static int group_setup(void **state)
{
	static const char *const args[] = {"--eth",        "127.0.22.1", "--count", "9",
	                                   "--serial",     "3000",       "--drop",  "100",
	                                   "--fault-only", "127.0.22.9", NULL};
	struct fixture *f = calloc(1, sizeof(*f));
	char uri[64];

	assert_non_null(f);
	*state = f;
	f->ctx = new_ctx();
	if (simproc_start(&f->sim, args, 9, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	for (int i = 0; i < DRIVES; i++) {
		(void)snprintf(uri, sizeof(uri), "eth://127.0.22.%d", i + 1);
		f->links[i] = open_link(f->ctx, uri, 1000);
	}
	f->dead = open_link(f->ctx, "eth://127.0.22.9", DEAD_TIMEOUT_MS);
	f->nobody = open_link(f->ctx, "eth://127.0.22.100", 1000);
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	for (int i = 0; i < DRIVES; i++)
		ax_link_unref(f->links[i]);
	ax_link_unref(f->dead);
	ax_link_unref(f->nobody);
	(void)simproc_stop(f->sim);
	ax_ctx_unref(f->ctx);
	free(f);
	return 0;
}

static uint32_t le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* One read on each drive: every result is that drive's own serial number. */
static void test_batch__reads_each_drive(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	for (int i = 0; i < DRIVES; i++) {
		size_t index = 99;

		assert_int_equal(ax_batch_add_read(b, f->links[i], 0, REG_SERIAL, &index), 0);
		assert_int_equal(index, (size_t)i);
	}
	assert_int_equal(ax_batch_count(b), DRIVES);
	/* Twice: a batch runs again with the same reads and the threads it has. */
	for (int run = 0; run < 2; run++) {
		assert_int_equal(ax_batch_run(b, 2000, NULL), 0);
		for (int i = 0; i < DRIVES; i++) {
			const void *data = NULL;
			size_t len = 0;

			assert_int_equal(ax_batch_result(b, (size_t)i, &data, &len), 0);
			assert_non_null(data);
			assert_true(len >= 4);
			assert_int_equal(le32(data), SERIAL0 + (uint32_t)i);
			assert_null(ax_batch_error(b, (size_t)i));
		}
	}
	/* Past the end: no result, no crash. */
	assert_int_equal(ax_batch_result(b, DRIVES, NULL, NULL), AX_EINVAL);
	ax_batch_clear(b);
	assert_int_equal(ax_batch_count(b), 0);
	assert_int_equal(ax_batch_run(b, 100, NULL), 0);
	b = ax_batch_free(b);
}

/* Several reads on one link take turns and all succeed, in order. */
static void test_batch__reads_on_one_link_take_turns(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;
	int rc;

	assert_int_equal(ax_batch_new(&b, 4), 0);
	for (int i = 0; i < 12; i++)
		assert_int_equal(ax_batch_add_read(b, f->links[i % 2], 0, REG_SERIAL, NULL), 0);
	rc = ax_batch_run(b, 2000, NULL);
	for (int i = 0; i < 12; i++)
		if (ax_batch_error(b, (size_t)i))
			print_message("read %d: %s\n", i, ax_batch_error(b, (size_t)i));
	assert_int_equal(rc, 0);
	for (int i = 0; i < 12; i++) {
		const void *data = NULL;

		assert_int_equal(ax_batch_result(b, (size_t)i, &data, NULL), 0);
		assert_int_equal(le32(data), SERIAL0 + (uint32_t)(i % 2));
	}
	ax_batch_free(b);
}

/* Each read fails on its own, with its own code and message; the others succeed. */
static void test_batch__per_item_errors(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;
	const void *data = (const void *)1;
	size_t len = 7;
	const char *msg;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[0], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[1], 0, REG_UNKNOWN, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->nobody, 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[2], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_run(b, 3000, NULL), 2);

	assert_int_equal(ax_batch_result(b, 0, &data, &len), 0);
	assert_int_equal(le32(data), SERIAL0);
	assert_int_equal(ax_batch_result(b, 3, &data, &len), 0);
	assert_int_equal(le32(data), SERIAL0 + 2);

	/* The drive's error reply: its code, and the message names the drive. */
	assert_int_equal(ax_batch_result(b, 1, &data, &len), AX_EDRIVE);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(ax_batch_drive_code(b, 1), 0x06020000u);
	assert_int_equal(ax_batch_error_class(b, 1), AX_ERRCLASS_DRIVE);
	msg = ax_batch_error(b, 1);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "127.0.22.2"));

	/* Nothing at that address: the kernel says so, the read fails at once. */
	assert_int_equal(ax_batch_result(b, 2, &data, &len), AX_EIO);
	msg = ax_batch_error(b, 2);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "127.0.22.100"));
	assert_non_null(strstr(msg, "port unreachable"));
	assert_int_equal(ax_batch_drive_code(b, 2), 0);
	ax_batch_free(b);
}

/*
 * A drive that never answers (5 s link timeout) fails at the batch's
 * deadline with AX_ETIMEDOUT; the others have their values, and the run
 * does not wait for the dead link's own timeout.
 */
static void test_batch__dead_drive_ends_at_deadline(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;
	uint64_t t0, took;
	uint32_t v = 0;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, f->dead, 0, REG_SERIAL, NULL), 0);
	for (int i = 0; i < DRIVES; i++)
		assert_int_equal(ax_batch_add_read(b, f->links[i], 0, REG_SERIAL, NULL), 0);
	t0 = now_ms();
	assert_int_equal(ax_batch_run(b, 300, NULL), 1);
	took = now_ms() - t0;
	print_message("dead drive: run took %llu ms (deadline 300 ms)\n", (unsigned long long)took);
	assert_true(took >= 290);
	/* Not the dead link's own 5 s: half of it is far from any slow machine's 300 ms. */
	assert_true(took < DEAD_TIMEOUT_MS / 2);
	assert_int_equal(ax_batch_result(b, 0, NULL, NULL), AX_ETIMEDOUT);
	assert_non_null(strstr(ax_batch_error(b, 0), "127.0.22.9"));
	assert_non_null(strstr(ax_batch_error(b, 0), "300 ms"));
	for (int i = 0; i < DRIVES; i++) {
		const void *data = NULL;

		assert_int_equal(ax_batch_result(b, (size_t)i + 1, &data, NULL), 0);
		assert_int_equal(le32(data), SERIAL0 + (uint32_t)i);
	}
	ax_batch_free(b);
	/* The good links are unharmed by the batch's cancel. */
	assert_int_equal(ax_link_read_u32(f->links[0], 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, SERIAL0);
}

struct trigger {
	ax_cancel *cancel;
	int after_ms;
};

static void *trigger_main(void *arg)
{
	struct trigger *t = arg;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)t->after_ms * 1000000L};

	nanosleep(&ts, NULL);
	ax_cancel_trigger(t->cancel);
	return NULL;
}

/* A cancel token ends the run early: what did not finish fails with AX_ECANCELED. */
static void test_batch__cancel(void **state)
{
	struct fixture *f = *state;
	struct trigger t = {.after_ms = 100};
	ax_batch *b = NULL;
	pthread_t thread;
	uint64_t t0, took;
	uint32_t v = 0;
	const void *data = NULL;

	assert_int_equal(ax_cancel_new(&t.cancel), 0);
	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[3], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->dead, 0, REG_SERIAL, NULL), 0);
	t0 = now_ms();
	assert_int_equal(pthread_create(&thread, NULL, trigger_main, &t), 0);
	/* No deadline of its own: only the token (or the dead link's 10 s) ends it. */
	assert_int_equal(ax_batch_run(b, 0, t.cancel), AX_ECANCELED);
	took = now_ms() - t0;
	assert_int_equal(pthread_join(thread, NULL), 0);
	for (size_t i = 0; i < 2; i++)
		if (ax_batch_error(b, i))
			print_message("read %zu: %s\n", i, ax_batch_error(b, i));
	print_message("cancel after 100 ms: run took %llu ms\n", (unsigned long long)took);
	/* The token's 100 ms, not the dead link's 5 s timeout (then its resend). */
	assert_true(took < DEAD_TIMEOUT_MS / 2);
	assert_int_equal(ax_batch_result(b, 0, &data, NULL), 0);
	assert_int_equal(le32(data), SERIAL0 + 3);
	assert_int_equal(ax_batch_result(b, 1, NULL, NULL), AX_ECANCELED);
	assert_non_null(strstr(ax_batch_error(b, 1), "cancelled"));
	ax_batch_free(b);
	ax_cancel_unref(t.cancel);
	/* A cancelled link serves the next request (a fresh socket). */
	assert_int_equal(ax_link_read_u32(f->links[3], 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, SERIAL0 + 3);
}

/*
 * A poller with channels on four drives that answer 40 ms late reads them
 * at once: a sample takes one round trip (~40 ms), so a 100 ms period is
 * kept; read one after the other (160 ms) it lost most periods.
 */
static void test_batch__poller_reads_drives_at_once(void **state)
{
	static const char *const args[] = {"--eth",   "127.0.22.30", "--count", "4",
	                                   "--delay", "40",          NULL};
	struct fixture *f = *state;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_drive_options o = AX_DRIVE_OPTIONS_INIT;
	ax_drive *drives[4] = {NULL};
	ax_poller *p = NULL;
	simproc *sim = NULL;
	double t[16], v[16 * 4];
	uint64_t t0;
	char uri[64];
	int n;

	if (simproc_start(&sim, args, 4, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	o.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_poller_new(&p, 100000, 64), 0);
	for (int i = 0; i < 4; i++) {
		(void)snprintf(uri, sizeof(uri), "eth://127.0.22.%d", 30 + i);
		if (ax_drive_open(&drives[i], f->ctx, uri, &o) < 0)
			fail_msg("open %s: %s", uri, ax_error_last());
		assert_int_equal(ax_poller_add(p, drives[i], "DRV_ID_SERIAL_NUMBER_COCO", -1), i);
	}
	assert_int_equal(ax_poller_start(p), 0);
	t0 = now_ms();
	while (now_ms() - t0 < 1050) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000L};

		nanosleep(&ts, NULL);
	}
	t0 = now_ms();
	assert_int_equal(ax_poller_stop(p), 0);
	/* A stop ends the batched sample in flight promptly. */
	assert_true(now_ms() - t0 < test_ms(300));
	assert_int_equal(ax_poller_stats_get(p, &st), 0);
	print_message("poller over 4 drives 40 ms late: %llu samples, %llu lost in ~1 s\n",
	              (unsigned long long)st.samples, (unsigned long long)st.lost);
	assert_true(st.samples >= 8);
	assert_true(st.lost <= 3);
	n = ax_poller_read(p, t, v, 16);
	assert_true(n >= 8);
	for (int k = 0; k < n; k++)
		for (int i = 0; i < 4; i++)
			assert_true(v[k * 4 + i] == (double)(1000 + i));
	ax_poller_free(p);
	for (int i = 0; i < 4; i++)
		ax_drive_unref(drives[i]);
	assert_int_equal(simproc_stop(sim), 0);
}

/*
 * Every link speaks eth, whose transport has split reads (plugin ABI 1.4):
 * the run sends and receives on the calling thread itself, one send and
 * one receive per read and a few polls for all of them, no worker thread
 * (those would make the calls, and the caller none).
 */
static void test_batch__eth_reads_run_on_the_calling_thread(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;
	long sends, recvs, polls;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	for (int i = 0; i < DRIVES; i++)
		assert_int_equal(ax_batch_add_read(b, f->links[i], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_run(b, 2000, NULL), 0);
	syscount_reset();
	assert_int_equal(ax_batch_run(b, 2000, NULL), 0);
	sends = syscount_get(SYSCOUNT_SEND);
	recvs = syscount_get(SYSCOUNT_RECV);
	polls = syscount_get(SYSCOUNT_POLL);
	print_message("batch of %d eth reads on the caller: %ld sends, %ld receives, %ld polls\n",
	              DRIVES, sends, recvs, polls);
	assert_int_equal(sends, DRIVES);
	assert_true(recvs >= DRIVES && recvs <= 2 * DRIVES);
	assert_true(polls >= 1 && polls <= DRIVES + 1);
	for (int i = 0; i < DRIVES; i++) {
		const void *data = NULL;

		assert_int_equal(ax_batch_result(b, (size_t)i, &data, NULL), 0);
		assert_int_equal(le32(data), SERIAL0 + (uint32_t)i);
	}
	ax_batch_free(b);
}

/*
 * Registers by dictionary on eth (split reads shape the value as
 * ax_link_read_reg() does), mixed in one batch with a virtual link (no
 * split reads: the run takes the worker threads) and raw reads.
 */
static void test_batch__mixes_eth_and_virtual_links(void **state)
{
	struct fixture *f = *state;
	const ax_reg *serial = NULL, *vendor = NULL;
	ax_dict **dicts = NULL;
	size_t n_dicts = 0, len = 0;
	const void *data = NULL;
	uint32_t vendor_id = 0;
	ax_link *virt = open_link(f->ctx, "virtual:?serial=4242", 0);
	ax_batch *b = NULL;

	assert_true(ax_dict_load_file(&dicts, &n_dicts, AXLINK_DEVICES_DIR "/axs-100.xdf", f->ctx) >
	            0);
	assert_true(n_dicts >= 1);
	assert_int_equal(ax_dict_find(dicts[0], "DRV_ID_SERIAL_NUMBER_COCO", 0, &serial), 0);
	assert_int_equal(ax_dict_find(dicts[0], "DRV_ID_VENDOR_ID_COCO", 0, &vendor), 0);
	/* The vendor id, read the ordinary way, to compare. */
	assert_int_equal(ax_link_read_u32(f->links[5], 0, ax_reg_address(vendor), &vendor_id), 0);
	assert_true(vendor_id != 0);

	/* eth only, by register: split reads. */
	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_reg(b, f->links[4], serial, NULL), 0);
	assert_int_equal(ax_batch_add_reg(b, f->links[5], serial, NULL), 0);
	assert_int_equal(ax_batch_add_reg(b, f->links[5], vendor, NULL), 0);
	assert_int_equal(ax_batch_run(b, 2000, NULL), 0);
	assert_int_equal(ax_batch_result(b, 0, &data, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(le32(data), SERIAL0 + 4);
	assert_int_equal(ax_batch_result(b, 1, &data, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(le32(data), SERIAL0 + 5);
	assert_int_equal(ax_batch_result(b, 2, &data, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(le32(data), vendor_id);

	/* Add a virtual link: the same reads and more, all with their own answers. */
	assert_int_equal(ax_batch_add_read(b, virt, 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_reg(b, virt, serial, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[6], 0, REG_SERIAL, NULL), 0);
	for (int run = 0; run < 2; run++) {
		assert_int_equal(ax_batch_run(b, 2000, NULL), 0);
		assert_int_equal(ax_batch_result(b, 0, &data, &len), 0);
		assert_int_equal(le32(data), SERIAL0 + 4);
		assert_int_equal(ax_batch_result(b, 1, &data, &len), 0);
		assert_int_equal(le32(data), SERIAL0 + 5);
		assert_int_equal(ax_batch_result(b, 2, &data, &len), 0);
		assert_int_equal(le32(data), vendor_id);
		assert_int_equal(ax_batch_result(b, 3, &data, &len), 0);
		assert_int_equal(le32(data), 4242u);
		assert_int_equal(ax_batch_result(b, 4, &data, &len), 0);
		assert_int_equal(len, 4);
		assert_int_equal(le32(data), 4242u);
		assert_int_equal(ax_batch_result(b, 5, &data, &len), 0);
		assert_int_equal(le32(data), SERIAL0 + 6);
	}
	ax_batch_free(b);
	ax_link_unref(virt);
	for (size_t i = 0; i < n_dicts; i++)
		ax_dict_unref(dicts[i]);
	ax_free(dicts);
}

struct link_canceller {
	ax_link *link;
	int after_ms;
	atomic_int done; /* the run returned: stop */
};

/*
 * Cancel after @after_ms, and again every 20 ms until the run returns (a
 * cancel before the request starts is dropped, as ax_link_cancel() says).
 */
static void *link_cancel_main(void *arg)
{
	struct link_canceller *c = arg;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)c->after_ms * 1000000L};
	struct timespec again = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};

	nanosleep(&ts, NULL);
	while (!atomic_load(&c->done)) {
		(void)ax_link_cancel(c->link);
		nanosleep(&again, NULL);
	}
	return NULL;
}

/*
 * ax_link_cancel() from another thread reaches a split read in flight: that
 * read fails with AX_ECANCELED at once, the batch's other reads are done,
 * and the link serves the next request.
 */
static void test_batch__link_cancel_reaches_a_split_read(void **state)
{
	struct fixture *f = *state;
	struct link_canceller c = {.link = f->dead, .after_ms = 100, .done = 0};
	const void *data = NULL;
	ax_batch *b = NULL;
	pthread_t thread;
	uint64_t t0, took;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, f->dead, 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[2], 0, REG_SERIAL, NULL), 0);
	t0 = now_ms();
	assert_int_equal(pthread_create(&thread, NULL, link_cancel_main, &c), 0);
	assert_int_equal(ax_batch_run(b, 0, NULL), 1);
	took = now_ms() - t0;
	atomic_store(&c.done, 1);
	assert_int_equal(pthread_join(thread, NULL), 0);
	print_message("link cancel after 100 ms: run took %llu ms\n", (unsigned long long)took);
	assert_true(took >= 90 && took < 1000);
	assert_int_equal(ax_batch_result(b, 0, NULL, NULL), AX_ECANCELED);
	assert_non_null(strstr(ax_batch_error(b, 0), "127.0.22.9"));
	assert_int_equal(ax_batch_result(b, 1, &data, NULL), 0);
	assert_int_equal(le32(data), SERIAL0 + 2);
	/* The next run on the links: the good one answers, the dead one times out. */
	assert_int_equal(ax_batch_run(b, 200, NULL), 1);
	assert_int_equal(ax_batch_result(b, 0, NULL, NULL), AX_ETIMEDOUT);
	assert_int_equal(ax_batch_result(b, 1, &data, NULL), 0);
	assert_int_equal(le32(data), SERIAL0 + 2);
	ax_batch_free(b);
}

/* ---- a scripted drive on 127.0.22.50: replies the simulator never sends ---- */

#define PEER_IP "127.0.22.50"

enum peer_mode {
	/* Hold the first request; when the next comes, answer the held one, then it. */
	PEER_LATE_FIRST,
	/* Answer every request twice. */
	PEER_TWICE,
};

struct peer {
	int fd;
	int stop[2];
	enum peer_mode mode;
	pthread_t thread;
	atomic_int requests;
	int held;
	struct sockaddr_in held_from;
	ax_mcb_frame held_req;
};

/* Ack @req to @to with the value @value (4 bytes). */
static void peer_ack(struct peer *p, const struct sockaddr_in *to, const ax_mcb_frame *req,
                     uint32_t value)
{
	uint8_t buf[AX_MCB_MAX_FRAME];
	ax_mcb_frame fr = *req;
	size_t len = 0;

	fr.command = AX_MCB_ACK;
	fr.extended = 0;
	fr.payload = NULL;
	fr.payload_len = 0;
	memset(fr.data, 0, sizeof(fr.data));
	for (int i = 0; i < 4; i++)
		fr.data[i] = (uint8_t)(value >> (8 * i));
	if (ax_mcb_encode(buf, sizeof(buf), &len, &fr) < 0)
		return;
	/* The port of a client that gave up may be closed: that is the point. */
	(void)sendto(p->fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to));
}

/* The value the peer answers its @n-th request (from 1) with. */
#define PEER_VALUE(n) (0x5EED0000u + (uint32_t)(n))

static void *peer_main(void *arg)
{
	struct peer *p = arg;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = p->fd, .events = POLLIN},
		                        {.fd = p->stop[0], .events = POLLIN}};
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		uint8_t buf[AX_MCB_MAX_FRAME];
		ax_mcb_frame req;
		ssize_t r;
		int n;

		if (poll(pfd, 2, -1) < 0 || pfd[1].revents)
			break;
		r = recvfrom(p->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (r <= 0 || ax_mcb_decode(&req, buf, (size_t)r) < 0)
			continue;
		n = atomic_fetch_add(&p->requests, 1) + 1;
		if (p->mode == PEER_LATE_FIRST && n == 1) {
			p->held = 1;
			p->held_from = from;
			p->held_req = req;
			continue;
		}
		if (p->held) {
			p->held = 0;
			peer_ack(p, &p->held_from, &p->held_req, PEER_VALUE(1));
		}
		peer_ack(p, &from, &req, PEER_VALUE(n));
		if (p->mode == PEER_TWICE)
			peer_ack(p, &from, &req, PEER_VALUE(n));
	}
	return NULL;
}

static struct peer *peer_start(enum peer_mode mode)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(AX_MCB_UDP_PORT)};

	assert_non_null(p);
	p->mode = mode;
	atomic_init(&p->requests, 0);
	assert_int_equal(inet_pton(AF_INET, PEER_IP, &a.sin_addr), 1);
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(p->fd >= 0);
	if (bind(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("bind %s: %s", PEER_IP, strerror(errno));
	assert_int_equal(pipe(p->stop), 0);
	assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
	return p;
}

static void peer_stop(struct peer *p)
{
	assert_int_equal(write(p->stop[1], "x", 1), 1);
	assert_int_equal(pthread_join(p->thread, NULL), 0);
	close(p->fd);
	close(p->stop[0]);
	close(p->stop[1]);
	free(p);
}

/*
 * A read that the batch's deadline gave up is answered late, just before
 * the next request's answer. That late reply names the same register, so
 * only the fresh socket the transport took after the abandoned read keeps
 * it from passing as the next run's value; the other link in the batch
 * keeps its own answers throughout.
 */
static void test_batch__late_reply_never_answers_the_next_run(void **state)
{
	struct fixture *f = *state;
	struct peer *p = peer_start(PEER_LATE_FIRST);
	ax_link *link = open_link(f->ctx, "eth://" PEER_IP, 2000);
	const void *data = NULL;
	ax_batch *b = NULL;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, link, 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[7], 0, REG_SERIAL, NULL), 0);
	/* Run 1: the peer holds the request; the run's deadline abandons it. */
	assert_int_equal(ax_batch_run(b, 150, NULL), 1);
	assert_int_equal(ax_batch_result(b, 0, NULL, NULL), AX_ETIMEDOUT);
	assert_non_null(strstr(ax_batch_error(b, 0), "150 ms"));
	assert_int_equal(ax_batch_result(b, 1, &data, NULL), 0);
	assert_int_equal(le32(data), SERIAL0 + 7);
	/* Run 2: the answer to run 1 comes first, to the old socket's port. */
	assert_int_equal(ax_batch_run(b, 2000, NULL), 0);
	assert_int_equal(atomic_load(&p->requests), 2);
	assert_int_equal(ax_batch_result(b, 0, &data, NULL), 0);
	assert_int_equal(le32(data), PEER_VALUE(2));
	assert_int_equal(ax_batch_result(b, 1, &data, NULL), 0);
	assert_int_equal(le32(data), SERIAL0 + 7);
	ax_batch_free(b);
	ax_link_unref(link);
	peer_stop(p);
}

/*
 * A drive that answers every read twice: the duplicate waits in the socket
 * and comes before the next read's answer. It names another register, so
 * it is skipped; each read gets the answer to its own request.
 */
static void test_batch__duplicate_reply_never_answers_the_next_read(void **state)
{
	struct fixture *f = *state;
	struct peer *p = peer_start(PEER_TWICE);
	ax_link *link = open_link(f->ctx, "eth://" PEER_IP, 2000);
	const void *data = NULL;
	ax_batch *b = NULL;

	assert_int_equal(ax_batch_new(&b, 0), 0);
	assert_int_equal(ax_batch_add_read(b, link, 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, f->links[0], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, link, 0, 0x6E0, NULL), 0);
	assert_int_equal(ax_batch_add_read(b, link, 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_run(b, 2000, NULL), 0);
	assert_int_equal(atomic_load(&p->requests), 3);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ax_batch_result(b, i, &data, NULL), 0);
		if (i == 1)
			assert_int_equal(le32(data), SERIAL0);
		else
			assert_int_equal(le32(data), PEER_VALUE(i == 0 ? 1 : i));
	}
	ax_batch_free(b);
	ax_link_unref(link);
	peer_stop(p);
}

/* Bad arguments are refused with a message, never a crash. */
static void test_batch__bad_arguments(void **state)
{
	struct fixture *f = *state;
	ax_batch *b = NULL;

	assert_int_equal(ax_batch_new(&b, 100000), AX_EINVAL);
	assert_null(b);
	assert_int_equal(ax_batch_new(&b, 1), 0);
	assert_int_equal(ax_batch_add_read(b, NULL, 0, REG_SERIAL, NULL), AX_EINVAL);
	assert_int_equal(ax_batch_add_read(b, f->links[0], 0, REG_SERIAL, NULL), 0);
	assert_int_equal(ax_batch_run(b, -1, NULL), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "-1"));
	/* Not run yet: no result. */
	assert_int_equal(ax_batch_result(b, 0, NULL, NULL), AX_EINVAL);
	assert_null(ax_batch_error(b, 0));
	assert_null(ax_batch_free(b));
	assert_null(ax_batch_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_batch__reads_each_drive),
	        cmocka_unit_test(test_batch__reads_on_one_link_take_turns),
	        cmocka_unit_test(test_batch__per_item_errors),
	        cmocka_unit_test(test_batch__dead_drive_ends_at_deadline),
	        cmocka_unit_test(test_batch__cancel),
	        cmocka_unit_test(test_batch__poller_reads_drives_at_once),
	        cmocka_unit_test(test_batch__eth_reads_run_on_the_calling_thread),
	        cmocka_unit_test(test_batch__mixes_eth_and_virtual_links),
	        cmocka_unit_test(test_batch__link_cancel_reaches_a_split_read),
	        cmocka_unit_test(test_batch__late_reply_never_answers_the_next_run),
	        cmocka_unit_test(test_batch__duplicate_reply_never_answers_the_next_read),
	        cmocka_unit_test(test_batch__bad_arguments),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
