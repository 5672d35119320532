/* SPDX-License-Identifier: MIT */
/*
 * The `eth` transport end to end: the real plugin against the real
 * simulator (axlink-sim) on loopback. Typed and extended transfers, every
 * drive error reply, timeouts and the resend, a closed port, cancel from
 * another thread, threads sharing a link, and discovery of a /28.
 *
 * Addresses: 127.0.1.0/24 only (the simulator's own tests use 127.0.2.x).
 *   127.0.1.1-3    three drives, serials MAIN_SERIAL..+2 (whole run)
 *   127.0.1.9      a drive that drops everything (per test)
 *   127.0.1.10     a drive that drops its first datagram (per test)
 *   127.0.1.11     a drive whose replies all fail their CRC (per test)
 *   127.0.1.12     a drive that answers 500 ms late (per test)
 *   127.0.1.30     a scripted drive in a thread of this test (per test)
 *   127.0.1.17-19  three drives for the scan of 127.0.1.16/28 (whole run)
 *   127.0.1.200    nothing listens there
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
#include "testctx.h"
#include "simproc.h"
#include "support/timing.h"

/* Identity of the simulated axs-100 (tools/sim/drive/simdrive.c). */
#define VENDOR_ID 0x0000A71Cu
#define AXS100_PRODUCT 0x00010064u
#define AXS100_REVISION 0x00010002u

#define REG_VENDOR 0x6E0
#define REG_PRODUCT 0x6E1
#define REG_REVISION 0x6E2
#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6
#define REG_CONTROL 0x010
#define REG_STATUS 0x011
#define REG_POS_SET 0x020
#define REG_VEL_SET 0x021
#define REG_RESTORE 0x6DC
#define REG_USER_DATA 0x6F0

#define MAIN_SERIAL 5000u
#define SCAN_SERIAL 7000u
#define SIM_START_MS 10000

struct peer;

struct fixture {
	ax_ctx *ctx;
	struct peer *peer;    /* a scripted drive, per test (peer_teardown stops it) */
	simproc *main_sim;    /* 127.0.1.1-3 */
	simproc *scan_sim;    /* 127.0.1.17-19 */
	ax_link *link;        /* eth://127.0.1.1 */
	char sw_version[128]; /* what the in-process simulated drive reports */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static simproc *start_sim(const char *const *args, size_t n_uris)
{
	simproc *p = NULL;

	if (simproc_start(&p, args, n_uris, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	return p;
}

static ax_link *open_link(ax_ctx *ctx, const char *uri, int timeout_ms)
{
	ax_link_options opts = AX_LINK_OPTIONS_INIT;
	ax_link *link = NULL;

	opts.timeout_ms = timeout_ms;
	if (ax_link_open(&link, ctx, uri, &opts) < 0)
		fail_msg("open %s: %s", uri, ax_error_last());
	return link;
}

static int group_setup(void **state)
{
	static const char *const main_args[] = {"--eth",    "127.0.1.1", "--count", "3",
	                                        "--serial", "5000",      NULL};
	static const char *const scan_args[] = {"--eth",    "127.0.1.17", "--count", "3",
	                                        "--serial", "7000",       NULL};
	struct fixture *f = calloc(1, sizeof(*f));
	ax_link *virt = NULL;
	char *sw = NULL;

	assert_non_null(f);
	*state = f; /* before anything can fail: the teardown stops what did start */
	f->ctx = new_ctx();
	f->main_sim = start_sim(main_args, 3);
	f->scan_sim = start_sim(scan_args, 3);
	f->link = open_link(f->ctx, "eth://127.0.1.1", 0);

	/* The simulator runs the same simulated drive as the virtual transport. */
	if (ax_link_open(&virt, f->ctx, "virtual:?model=axs-100", NULL) < 0 ||
	    ax_link_read_str(virt, 0, REG_SW_VERSION, &sw) < 0)
		fail_msg("virtual drive: %s", ax_error_last());
	(void)snprintf(f->sw_version, sizeof(f->sw_version), "%s", sw);
	ax_free(sw);
	ax_link_unref(virt);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	int main_rc, scan_rc;

	if (!f)
		return -1;
	f->link = ax_link_unref(f->link);
	f->ctx = ax_ctx_unref(f->ctx);
	main_rc = simproc_stop(f->main_sim);
	scan_rc = simproc_stop(f->scan_sim);
	free(f);
	/* A clean exit on SIGTERM is part of the simulator's contract. */
	return main_rc == 0 && scan_rc == 0 ? 0 : -1;
}

static void test_eth__simulator_prints_uris(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(simproc_uri(f->main_sim, 0), "eth://127.0.1.1:1061");
	assert_string_equal(simproc_uri(f->main_sim, 2), "eth://127.0.1.3:1061");
	assert_null(simproc_uri(f->main_sim, 3));
	assert_string_equal(ax_link_scheme(f->link), "eth");
}

static void test_eth__identity(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;
	char *sw = NULL;

	assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &v), 0);
	assert_int_equal(v, VENDOR_ID);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_PRODUCT, &v), 0);
	assert_int_equal(v, AXS100_PRODUCT);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_REVISION, &v), 0);
	assert_int_equal(v, AXS100_REVISION);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, MAIN_SERIAL);
	/* Longer than 8 bytes: the reply is an extended frame. */
	assert_int_equal(ax_link_read_str(f->link, 0, REG_SW_VERSION, &sw), 0);
	assert_true(strlen(sw) > 8);
	assert_string_equal(sw, f->sw_version);
	ax_free(sw);
}

/* Serials are consecutive per drive, and each address is its own drive. */
static void test_eth__serials_per_drive(void **state)
{
	struct fixture *f = *state;
	static const char *const uris[] = {"eth://127.0.1.2", "eth://127.0.1.3:1061"};

	for (size_t i = 0; i < 2; i++) {
		ax_link *link = open_link(f->ctx, uris[i], 0);
		uint32_t serial = 0;
		int32_t pos = 0;

		assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &serial), 0);
		assert_int_equal(serial, MAIN_SERIAL + 1 + i);
		/* A write to this drive does not show on the first one. */
		assert_int_equal(ax_link_write_s32(link, 1, REG_POS_SET, -77 - (int32_t)i), 0);
		assert_int_equal(ax_link_read_s32(link, 1, REG_POS_SET, &pos), 0);
		assert_int_equal(pos, -77 - (int32_t)i);
		assert_int_equal(ax_link_write_s32(f->link, 1, REG_POS_SET, 123), 0);
		assert_int_equal(ax_link_read_s32(link, 1, REG_POS_SET, &pos), 0);
		assert_int_equal(pos, -77 - (int32_t)i);
		ax_link_unref(link);
	}
}

static void test_eth__typed_round_trips(void **state)
{
	struct fixture *f = *state;
	uint16_t u16 = 0;
	int16_t s16 = 0;
	uint32_t u32 = 0;
	int32_t s32 = 0;
	uint8_t u8 = 0;
	float fl = 0;

	assert_int_equal(ax_link_write_u8(f->link, 1, REG_POS_SET, 0xFE), 0);
	assert_int_equal(ax_link_read_u8(f->link, 1, REG_POS_SET, &u8), 0);
	assert_int_equal(u8, 0xFE);
	assert_int_equal(ax_link_write_s16(f->link, 1, REG_POS_SET, -30000), 0);
	assert_int_equal(ax_link_read_s16(f->link, 1, REG_POS_SET, &s16), 0);
	assert_int_equal(s16, -30000);
	assert_int_equal(ax_link_write_u32(f->link, 1, REG_POS_SET, 0xDEADBEEFu), 0);
	assert_int_equal(ax_link_read_u32(f->link, 1, REG_POS_SET, &u32), 0);
	assert_int_equal(u32, 0xDEADBEEFu);
	assert_int_equal(ax_link_write_s32(f->link, 1, REG_POS_SET, -123456789), 0);
	assert_int_equal(ax_link_read_s32(f->link, 1, REG_POS_SET, &s32), 0);
	assert_int_equal(s32, -123456789);
	assert_int_equal(ax_link_write_float(f->link, 1, REG_VEL_SET, -12.5f), 0);
	assert_int_equal(ax_link_read_float(f->link, 1, REG_VEL_SET, &fl), 0);
	assert_true(fl == -12.5f);
	/* The drive acts on what it is sent: shutdown makes it ready to switch on. */
	assert_int_equal(ax_link_write_u16(f->link, 1, REG_CONTROL, 0x06), 0);
	assert_int_equal(ax_link_read_u16(f->link, 1, REG_STATUS, &u16), 0);
	assert_int_equal(u16 & 0x6F, 0x21);
}

/* 512 bytes each way: an extended write, then an extended reply. */
static void test_eth__extended_both_ways(void **state)
{
	struct fixture *f = *state;
	uint8_t out[AX_VALUE_MAX], in[AX_VALUE_MAX];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, out, sizeof(out)), 0);
	memset(in, 0, sizeof(in));
	assert_int_equal(ax_link_read(f->link, 0, REG_USER_DATA, in, sizeof(in), &len), 0);
	assert_int_equal(len, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	/*
	 * A short value travels in a plain frame, whose 8 value bytes the drive
	 * takes: the first 8 bytes change, the rest stays.
	 */
	assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, "\x01\x02\x03", 3), 0);
	assert_int_equal(ax_link_read(f->link, 0, REG_USER_DATA, in, sizeof(in), &len), 0);
	assert_int_equal(len, sizeof(out));
	assert_memory_equal(in, "\x01\x02\x03\0\0\0\0\0", 8);
	assert_memory_equal(in + 8, out + 8, sizeof(out) - 8);
	/* A buffer smaller than the reply is an error, never a truncation. */
	assert_int_equal(ax_link_read(f->link, 0, REG_USER_DATA, in, 100, &len), AX_ETOOBIG);
	assert_non_null(strstr(ax_error_last(), "eth://127.0.1.1"));
	assert_non_null(strstr(ax_error_last(), "0x6F0"));
}

struct drive_error_case {
	const char *name;
	int write;
	unsigned subnode;
	uint32_t address;
	size_t len;
	uint32_t want_code;
};

static const struct drive_error_case drive_error_cases[] = {
        {"read unknown address", 0, 0, 0x7FF, 4, 0x06020000u},
        {"write unknown address", 1, 1, 0x7FE, 4, 0x06020000u},
        {"read write-only restore", 0, 0, REG_RESTORE, 4, 0x06010000u},
        {"write read-only status word", 1, 1, REG_STATUS, 2, 0x06010000u},
        {"extended write to a numeric register", 1, 1, REG_POS_SET, 16, 0x06070010u},
};

static void test_eth__drive_error_replies(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(drive_error_cases) / sizeof(drive_error_cases[0]); i++) {
		const struct drive_error_case *c = &drive_error_cases[i];
		uint8_t buf[16] = {1, 2, 3, 4};
		char code[16];
		size_t len = 77;
		int err;

		if (c->write)
			err = ax_link_write(f->link, c->subnode, c->address, buf, c->len);
		else
			err = ax_link_read(f->link, c->subnode, c->address, buf, sizeof(buf), &len);
		if (err != AX_EDRIVE)
			fail_msg("%s: got %d (%s), want AX_EDRIVE", c->name, err, ax_error_last());
		if (ax_error_last_drive_code() != c->want_code)
			fail_msg("%s: drive code 0x%08X, want 0x%08X", c->name,
			         ax_error_last_drive_code(), c->want_code);
		(void)snprintf(code, sizeof(code), "0x%08X", c->want_code);
		if (!strstr(ax_error_last(), code))
			fail_msg("%s: message '%s' lacks the code", c->name, ax_error_last());
		if (!c->write && len != 77)
			fail_msg("%s: len_out written on failure", c->name);
	}
	/* The link still works after error replies. */
	{
		uint32_t v = 0;

		assert_int_equal(ax_link_read_u32(f->link, 0, REG_PRODUCT, &v), 0);
		assert_int_equal(v, AXS100_PRODUCT);
	}
}

/* A drive that never answers: two tries of the link's timeout, then AX_ETIMEDOUT. */
static void test_eth__timeout_silent_drive(void **state)
{
	static const char *const args[] = {"--eth", "127.0.1.9", "--drop", "100", NULL};
	struct fixture *f = *state;
	simproc *sim = start_sim(args, 1);
	ax_link *link = open_link(f->ctx, "eth://127.0.1.9", 100);
	uint64_t t0, took;
	uint32_t v = 0x5A5A5A5Au;
	int err;

	t0 = now_ms();
	err = ax_link_read_u32(link, 0, REG_PRODUCT, &v);
	took = now_ms() - t0;
	assert_int_equal(err, AX_ETIMEDOUT);
	assert_int_equal(v, 0x5A5A5A5Au);
	assert_non_null(strstr(ax_error_last(), "127.0.1.9:1061"));
	assert_non_null(strstr(ax_error_last(), "2 tries"));
	assert_non_null(strstr(ax_error_last(), "100 ms"));
	assert_non_null(strstr(ax_error_last(), "0x6E1"));
	assert_true(took >= 190);
	/* Two tries, not more: a third would not fit a slow machine's budget either. */
	assert_true(took < test_ms(2000));

	/* The URI's timeout_ms applies when the link sets none. */
	ax_link_unref(link);
	link = open_link(f->ctx, "eth://127.0.1.9?timeout_ms=60", 0);
	assert_int_equal(ax_link_write_u32(link, 1, REG_POS_SET, 1), AX_ETIMEDOUT);
	assert_non_null(strstr(ax_error_last(), "60 ms"));
	assert_non_null(strstr(ax_error_last(), "write"));
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
}

/* The first datagram is lost: the resend after one timeout gets the answer. */
static void test_eth__resend_after_lost_request(void **state)
{
	static const char *const args[] = {"--eth", "127.0.1.10", "--drop-first", "1", "--serial",
	                                   "4321",  NULL};
	struct fixture *f = *state;
	simproc *sim = start_sim(args, 1);
	/* Long enough that no scheduler delay passes for one (a read takes microseconds). */
	const uint64_t timeout = 500;
	ax_link *link = open_link(f->ctx, "eth://127.0.1.10", (int)timeout);
	uint64_t t0, took;
	uint32_t v = 0;

	t0 = now_ms();
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	took = now_ms() - t0;
	assert_int_equal(v, 4321);
	/* It took one timeout: the answer came to the second try. */
	assert_true(took >= timeout - 10);
	/* Only the first was dropped: the next read answers on its first try. */
	t0 = now_ms();
	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &v), 0);
	assert_int_equal(v, AXS100_PRODUCT);
	assert_true(now_ms() - t0 < timeout - 10);
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
}

/* Replies that fail their CRC are skipped while waiting: a timeout, not AX_ECRC. */
static void test_eth__corrupt_replies_are_ignored(void **state)
{
	static const char *const args[] = {"--eth", "127.0.1.11", "--corrupt", "100", NULL};
	struct fixture *f = *state;
	simproc *sim = start_sim(args, 1);
	ax_link *link = open_link(f->ctx, "eth://127.0.1.11", 100);
	uint32_t v = 0;

	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &v), AX_ETIMEDOUT);
	assert_non_null(strstr(ax_error_last(), "2 tries"));
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
}

/*
 * Late replies meet a closed port: a read times out (both tries), and its
 * answers, 500 ms late, arrive while the next read waits. The link took a
 * fresh socket, so they never reach it: the next read waits for its own
 * answer (and gets it once the link waits long enough), never the first's.
 *   t=0 read A, t=200 resend A, t=400 A times out;
 *   B sent from a new port, answered at +500 (A's answers hit the old port).
 */
static void test_eth__late_replies_meet_a_closed_port(void **state)
{
	static const char *const args[] = {"--eth",    "127.0.1.12", "--delay", "500",
	                                   "--serial", "4242",       NULL};
	struct fixture *f = *state;
	simproc *sim = start_sim(args, 1);
	ax_link *link = open_link(f->ctx, "eth://127.0.1.12", 200);
	uint32_t v = 0;

	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &v), AX_ETIMEDOUT);
	assert_int_equal(ax_link_set_timeout(link, 800), 0);
	if (ax_link_read_u32(link, 0, REG_SERIAL, &v) != 0)
		fail_msg("read after a timeout: %s", ax_error_last());
	assert_int_equal(v, 4242);
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
}

/* ---- a scripted drive: replies the simulator would never send ---------- */

#define PEER_IP "127.0.1.30"
#define PEER_URI "eth://" PEER_IP "?timeout_ms=100"
#define PEER_HELD 4

enum peer_mode {
	/* Hold the first two requests (a read and its resend); when the third
	 * comes, answer the held ones (value OLD_VALUE), then the third: a read
	 * with NEW_VALUE, a write with a write-error. */
	PEER_LATE_FIRST,
	/* Answer a write with a read's ack (another value), then a write-error. */
	PEER_READ_ACK_FOR_WRITE,
	/* Answer a read with a write-error. */
	PEER_WRITE_ERROR_FOR_READ,
	/* Answer a read with a plain ack and 6 bytes more in the datagram. */
	PEER_TRAILING_BYTES,
	/* Answer a read with an extended ack declaring 4 bytes but carrying 16. */
	PEER_EXT_DECLARES_FEWER,
	/* Answer a read with an extended ack declaring 16 bytes but carrying 8. */
	PEER_EXT_DECLARES_MORE,
	/* Answer a read with a well-formed extended ack of 512 bytes. */
	PEER_EXT_512,
};

#define OLD_VALUE 0x11111111u
#define NEW_VALUE 0x22222222u

struct peer {
	int fd;
	int stop[2];
	enum peer_mode mode;
	pthread_t thread;
	atomic_int requests;
	struct sockaddr_in held[PEER_HELD];
	ax_mcb_frame held_req[PEER_HELD];
	int n_held;
};

static void peer_send(struct peer *p, const struct sockaddr_in *to, const uint8_t *buf, size_t len)
{
	/* The old port of a client may be closed: that is the point. */
	(void)sendto(p->fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to));
}

/* Send @f to @to with @extra bytes after it, or with its payload cut by @cut bytes. */
static void peer_reply(struct peer *p, const struct sockaddr_in *to, const ax_mcb_frame *f,
                       size_t extra, size_t cut)
{
	uint8_t buf[AX_MCB_MAX_FRAME + 16];
	size_t len = 0;

	if (ax_mcb_encode(buf, sizeof(buf), &len, f) < 0)
		return;
	memset(buf + len, 0xA5, extra);
	peer_send(p, to, buf, len + extra - cut);
}

static void peer_ack(struct peer *p, const struct sockaddr_in *to, const ax_mcb_frame *req,
                     uint32_t value)
{
	ax_mcb_frame f = *req;

	f.command = AX_MCB_ACK;
	f.extended = 0;
	f.payload = NULL;
	f.payload_len = 0;
	memset(f.data, 0, sizeof(f.data));
	for (int i = 0; i < 4; i++)
		f.data[i] = (uint8_t)(value >> (8 * i));
	peer_reply(p, to, &f, 0, 0);
}

static void peer_error(struct peer *p, const struct sockaddr_in *to, const ax_mcb_frame *req,
                       int command, uint32_t code)
{
	ax_mcb_frame f = *req;

	f.command = (uint8_t)command;
	f.extended = 0;
	f.payload = NULL;
	f.payload_len = 0;
	memset(f.data, 0, sizeof(f.data));
	for (int i = 0; i < 4; i++)
		f.data[i] = (uint8_t)(code >> (8 * i));
	peer_reply(p, to, &f, 0, 0);
}

static void peer_extended(struct peer *p, const struct sockaddr_in *to, const ax_mcb_frame *req,
                          size_t declared, size_t carried)
{
	static const uint8_t payload[AX_MCB_MAX_PAYLOAD] = {0x44, 0x33, 0x22, 0x11};
	ax_mcb_frame f = *req;

	f.command = AX_MCB_ACK;
	f.extended = 1;
	f.payload = payload;
	f.payload_len = declared;
	if (carried >= declared)
		peer_reply(p, to, &f, carried - declared, 0);
	else
		peer_reply(p, to, &f, 0, declared - carried);
}

static void peer_answer(struct peer *p, const struct sockaddr_in *from, const ax_mcb_frame *req)
{
	int n = atomic_fetch_add(&p->requests, 1);

	switch (p->mode) {
	case PEER_LATE_FIRST:
		if (n < 2 && p->n_held < PEER_HELD) {
			p->held[p->n_held] = *from;
			p->held_req[p->n_held++] = *req;
			return;
		}
		for (int i = 0; i < p->n_held; i++)
			peer_ack(p, &p->held[i], &p->held_req[i], OLD_VALUE);
		p->n_held = 0;
		if (req->command == AX_MCB_READ)
			peer_ack(p, from, req, NEW_VALUE);
		else
			peer_error(p, from, req, AX_MCB_ERR_WRITE, AX_MCB_CODE_ACCESS);
		return;
	case PEER_READ_ACK_FOR_WRITE:
		peer_ack(p, from, req, OLD_VALUE);
		peer_error(p, from, req, AX_MCB_ERR_WRITE, AX_MCB_CODE_RANGE);
		return;
	case PEER_WRITE_ERROR_FOR_READ:
		peer_error(p, from, req, AX_MCB_ERR_WRITE, AX_MCB_CODE_ACCESS);
		return;
	case PEER_TRAILING_BYTES: {
		ax_mcb_frame f = *req;

		f.command = AX_MCB_ACK;
		f.data[0] = 0x2A;
		peer_reply(p, from, &f, 6, 0);
		return;
	}
	case PEER_EXT_DECLARES_FEWER:
		peer_extended(p, from, req, 4, 16);
		return;
	case PEER_EXT_DECLARES_MORE:
		peer_extended(p, from, req, 16, 8);
		return;
	case PEER_EXT_512:
		peer_extended(p, from, req, AX_MCB_MAX_PAYLOAD, AX_MCB_MAX_PAYLOAD);
		return;
	}
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;

	for (;;) {
		struct pollfd pfd[2] = {
		        {.fd = p->fd, .events = POLLIN},
		        {.fd = p->stop[0], .events = POLLIN},
		};
		uint8_t buf[AX_MCB_MAX_FRAME];
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ax_mcb_frame req;
		ssize_t r;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			return NULL;
		r = recvfrom(p->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (r <= 0 || ax_mcb_decode(&req, buf, (size_t)r) < 0)
			continue;
		peer_answer(p, &from, &req);
	}
}

static void peer_start(struct fixture *f, enum peer_mode mode)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct sockaddr_in a;

	assert_non_null(p);
	p->mode = mode;
	atomic_init(&p->requests, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(AX_MCB_UDP_PORT);
	assert_int_equal(inet_pton(AF_INET, PEER_IP, &a.sin_addr), 1);
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(p->fd >= 0);
	if (bind(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("bind %s:%d: %s", PEER_IP, AX_MCB_UDP_PORT, strerror(errno));
	assert_int_equal(pipe(p->stop), 0);
	assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
	f->peer = p;
}

/* Stop the scripted drive; returns how many requests it saw. */
static int peer_stop(struct fixture *f)
{
	struct peer *p = f->peer;
	int n;

	if (!p)
		return -1;
	f->peer = NULL;

	(void)!write(p->stop[1], "x", 1);
	pthread_join(p->thread, NULL);
	close(p->stop[0]);
	close(p->stop[1]);
	close(p->fd);
	n = atomic_load(&p->requests);
	free(p);
	return n;
}

/* After each test: a test that failed half-way leaves its peer running. */
static int peer_teardown(void **state)
{
	(void)peer_stop(*state);
	return 0;
}

/*
 * A read that timed out is answered late, while the next read of the same
 * register waits: the next read returns its own value, not the first's.
 */
static void test_eth__late_reply_never_answers_the_next_read(void **state)
{
	struct fixture *f = *state;
	peer_start(f, PEER_LATE_FIRST);
	ax_link *link = open_link(f->ctx, PEER_URI, 0);
	uint32_t v = 0;

	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), AX_ETIMEDOUT);
	if (ax_link_read_u32(link, 0, REG_SERIAL, &v) != 0)
		fail_msg("second read: %s", ax_error_last());
	if (v != NEW_VALUE)
		fail_msg("second read returned 0x%08X, the first read's late answer", v);
	ax_link_unref(link);
	assert_int_equal(peer_stop(f), 3);
}

/*
 * A read that timed out is answered late, while a write of the same register
 * waits for its ack, and the drive refuses the write: the write fails; the
 * read's late ack is no write ack.
 */
static void test_eth__late_read_ack_never_acks_a_refused_write(void **state)
{
	struct fixture *f = *state;
	peer_start(f, PEER_LATE_FIRST);
	ax_link *link = open_link(f->ctx, PEER_URI, 0);
	uint32_t v = 0;
	int err;

	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), AX_ETIMEDOUT);
	err = ax_link_write_u32(link, 0, REG_SERIAL, 5);
	if (err != AX_EDRIVE)
		fail_msg("refused write gave %d (%s), want AX_EDRIVE", err, ax_error_last());
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_ACCESS);
	assert_non_null(strstr(ax_error_last(), "write of subnode 0 register 0x6E6 refused"));
	ax_link_unref(link);
	assert_int_equal(peer_stop(f), 3);
}

/*
 * On the same socket (a straggler that beat the fresh one), a read's ack of
 * the register is skipped while a write waits: its value is not the one
 * written. The drive's refusal that follows is the answer.
 */
static void test_eth__read_ack_is_no_write_ack(void **state)
{
	struct fixture *f = *state;
	peer_start(f, PEER_READ_ACK_FOR_WRITE);
	ax_link *link = open_link(f->ctx, PEER_URI, 0);
	int err;

	err = ax_link_write_u32(link, 1, REG_POS_SET, 7);
	if (err != AX_EDRIVE)
		fail_msg("refused write gave %d (%s), want AX_EDRIVE", err, ax_error_last());
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_RANGE);
	ax_link_unref(link);
	assert_int_equal(peer_stop(f), 1);
}

/* The message names the request and quotes what came back. */
static void test_eth__error_reply_worded_after_the_request(void **state)
{
	struct fixture *f = *state;
	peer_start(f, PEER_WRITE_ERROR_FOR_READ);
	ax_link *link = open_link(f->ctx, PEER_URI, 0);
	uint32_t v = 0;

	assert_int_equal(ax_link_read_u32(link, 1, REG_STATUS, &v), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_ACCESS);
	assert_string_equal(ax_error_last(),
	                    PEER_URI ": read of subnode 1 register 0x011 refused: drive answered "
	                             "write-error 0x06010000 (unsupported access to an object)");
	ax_link_unref(link);
	assert_int_equal(peer_stop(f), 1);
}

/* A datagram is one frame: anything else is refused as malformed, at once. */
struct malformed_case {
	const char *name;
	enum peer_mode mode;
	int want;
	const char *says;
};

static const struct malformed_case malformed_cases[] = {
        {"trailing bytes", PEER_TRAILING_BYTES, AX_EPROTO,
         "the 20-byte datagram holds a 14-byte plain frame"},
        {"extended, declares fewer", PEER_EXT_DECLARES_FEWER, AX_EPROTO,
         "the 30-byte datagram holds a 18-byte extended frame"},
        {"extended, declares more", PEER_EXT_DECLARES_MORE, AX_ETRUNC,
         "the 22-byte datagram is shorter than the frame its header declares"},
        {"512 bytes for a u32", PEER_EXT_512, AX_ETYPE, "512 byte(s)"},
};

static void test_eth__datagram_is_one_frame(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(malformed_cases) / sizeof(malformed_cases[0]); i++) {
		const struct malformed_case *c = &malformed_cases[i];
		peer_start(f, c->mode);
		ax_link *link = open_link(f->ctx, PEER_URI, 0);
		uint64_t t0 = now_ms();
		uint32_t v = 0x5A5A5A5Au;
		int err;

		err = ax_link_read_u32(link, 0, REG_SERIAL, &v);
		if (err != c->want)
			fail_msg("%s: got %d (%s), want %d", c->name, err, ax_error_last(),
			         c->want);
		if (!strstr(ax_error_last(), c->says) || !strstr(ax_error_last(), "0x6E6"))
			fail_msg("%s: message '%s' lacks '%s'", c->name, ax_error_last(), c->says);
		if (c->want != AX_ETYPE && !strstr(ax_error_last(), PEER_IP ":1061"))
			fail_msg("%s: message '%s' lacks the peer", c->name, ax_error_last());
		if (v != 0x5A5A5A5Au)
			fail_msg("%s: value written on failure", c->name);
		/* Refused when it came, not after waiting out the 1 s UDP default: half of it. */
		if (now_ms() - t0 >= 1000 / 2)
			fail_msg("%s: took %llu ms", c->name, (unsigned long long)(now_ms() - t0));
		ax_link_unref(link);
		assert_int_equal(peer_stop(f), 1);
	}
}

/* Nothing listens: the ICMP port-unreachable ends the request with a clear message. */
static void test_eth__closed_port(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f->ctx, "eth://127.0.1.200:1061", 300);
	uint32_t v = 0;
	int err;

	err = ax_link_read_u32(link, 0, REG_PRODUCT, &v);
	if (err != AX_EIO && err != AX_ETIMEDOUT)
		fail_msg("got %d (%s), want AX_EIO or AX_ETIMEDOUT", err, ax_error_last());
	assert_non_null(strstr(ax_error_last(), "127.0.1.200:1061"));
	if (err == AX_EIO)
		assert_non_null(strstr(ax_error_last(), "port unreachable"));
	ax_link_unref(link);
}

struct canceller {
	ax_link *link;
	atomic_int done;
	int err;
};

static void *cancel_reader(void *arg)
{
	struct canceller *c = arg;
	uint32_t v = 0;

	c->err = ax_link_read_u32(c->link, 0, REG_PRODUCT, &v);
	atomic_store(&c->done, 1);
	return NULL;
}

/* Cancel from another thread ends a read long before its 5 s timeout. */
static void test_eth__cancel_from_another_thread(void **state)
{
	static const char *const args[] = {"--eth", "127.0.1.9", "--drop", "100", NULL};
	struct fixture *f = *state;
	simproc *sim = start_sim(args, 1);
	struct canceller c = {.link = open_link(f->ctx, "eth://127.0.1.9", 5000)};
	uint64_t t0, took;
	pthread_t t;

	atomic_init(&c.done, 0);
	t0 = now_ms();
	assert_int_equal(pthread_create(&t, NULL, cancel_reader, &c), 0);
	/*
	 * A cancel that arrives before the read starts is dropped (by design), so
	 * keep cancelling until the read returns.
	 */
	while (!atomic_load(&c.done) && now_ms() - t0 < 5000) {
		sleep_ms(20);
		assert_int_equal(ax_link_cancel(c.link), 0);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	took = now_ms() - t0;
	assert_int_equal(c.err, AX_ECANCELED);
	assert_true(took < 5000);
	ax_link_unref(c.link);
	assert_int_equal(simproc_stop(sim), 0);
}

/* A cancel while nothing runs does not kill the next request. */
static void test_eth__cancel_between_requests_is_dropped(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;

	assert_int_equal(ax_link_cancel(f->link), 0);
	assert_int_equal(ax_link_cancel(f->link), 0);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_PRODUCT, &v), 0);
	assert_int_equal(v, AXS100_PRODUCT);
}

struct worker {
	ax_link *link;
	int32_t value;
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200; i++) {
		uint32_t product = 0, serial = 0, vendor = 0;

		if (ax_link_write_s32(w->link, 1, REG_POS_SET, w->value) < 0)
			w->errors++;
		if (ax_link_read_u32(w->link, 0, REG_PRODUCT, &product) < 0 ||
		    product != AXS100_PRODUCT)
			w->errors++;
		if (ax_link_read_u32(w->link, 0, REG_SERIAL, &serial) < 0 || serial != MAIN_SERIAL)
			w->errors++;
		if (ax_link_read_u32(w->link, 0, REG_VENDOR, &vendor) < 0 || vendor != VENDOR_ID)
			w->errors++;
	}
	return NULL;
}

/* Requests from several threads share one socket; every reply matches its request. */
static void test_eth__threads_share_one_link(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];
	int32_t last = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.link = ax_link_ref(f->link), .value = 1000 * (i + 1)};
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].errors, 0);
		w[i].link = ax_link_unref(w[i].link);
	}
	assert_int_equal(ax_link_read_s32(f->link, 1, REG_POS_SET, &last), 0);
	assert_true(last == 1000 || last == 2000 || last == 3000 || last == 4000);
}

static void test_eth__bad_link_uris(void **state)
{
	struct fixture *f = *state;
	ax_link *link = NULL;

	assert_int_equal(ax_link_open(&link, f->ctx, "eth://127.0.1.1?bogus=1", NULL),
	                 AX_EUNKNOWNKEY);
	assert_non_null(strstr(ax_error_last(), "bogus"));
	assert_non_null(strstr(ax_error_last(), "timeout_ms"));
	assert_int_equal(ax_link_open(&link, f->ctx, "eth://127.0.1.1?timeout_ms=0", NULL),
	                 AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "timeout_ms"));
	assert_int_equal(ax_link_open(&link, f->ctx, "eth://127.0.1.1?timeout_ms=60001", NULL),
	                 AX_EINVAL);
	assert_int_equal(ax_link_open(&link, f->ctx, "eth://127.0.1.1?timeout_ms=abc", NULL),
	                 AX_EINVAL);
	assert_int_equal(ax_link_open(&link, f->ctx, "eth://", NULL), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "no host"));
	assert_int_equal(ax_link_open(&link, f->ctx, "eth://127.0.1.1:0", NULL), AX_EINVAL);
	assert_int_equal(ax_link_open(&link, f->ctx, "eth://127.0.1.16/28", NULL), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "range"));
	assert_int_equal(ax_link_open(&link, f->ctx, "eth://127.0.1.1,127.0.1.2", NULL), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "several hosts"));
	assert_int_equal(ax_link_open(&link, f->ctx, "eth://127.0.1.1/x", NULL), AX_EINVAL);
	assert_null(link);
}

/* Scan results, copied out of the callback. */
#define MAX_FOUND 16

struct found {
	char uri[64];
	char detail[64];
	char sw[128];
	int access;
	uint32_t known, vendor, product, revision, serial;
};

struct collector {
	struct found items[MAX_FOUND];
	int n;
	int calls;
	int stop_after; /* > 0: return -1 once this many were seen */
};

static int collect(const ax_scan_result *r, void *userdata)
{
	struct collector *c = userdata;

	c->calls++;
	if (c->n < MAX_FOUND) {
		struct found *it = &c->items[c->n++];

		(void)snprintf(it->uri, sizeof(it->uri), "%s", r->uri);
		(void)snprintf(it->detail, sizeof(it->detail), "%s", r->detail);
		(void)snprintf(it->sw, sizeof(it->sw), "%s", r->sw_version);
		it->access = r->access;
		it->known = r->known;
		it->vendor = r->vendor_id;
		it->product = r->product_code;
		it->revision = r->revision;
		it->serial = r->serial;
	}
	return c->stop_after > 0 && c->calls >= c->stop_after ? -1 : 0;
}

static int found_cmp(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->uri, ((const struct found *)b)->uri);
}

#define ALL_KNOWN                                                                                  \
	(AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_REVISION | AX_SCAN_HAS_SERIAL |    \
	 AX_SCAN_HAS_SW_VERSION)

static void check_scan_drive(const struct fixture *f, const struct found *it, const char *ip,
                             uint32_t serial)
{
	char want[64];

	(void)snprintf(want, sizeof(want), "eth://%s:1061", ip);
	assert_string_equal(it->uri, want);
	assert_string_equal(it->detail, want + strlen("eth://"));
	assert_int_equal(it->access, AX_ACCESS_OK);
	assert_int_equal(it->known, ALL_KNOWN);
	assert_int_equal(it->vendor, VENDOR_ID);
	assert_int_equal(it->product, AXS100_PRODUCT);
	assert_int_equal(it->revision, AXS100_REVISION);
	assert_int_equal(it->serial, serial);
	assert_string_equal(it->sw, f->sw_version);
}

/* A /28 with drives on three of its fourteen hosts: exactly those, within the deadline. */
static void test_eth__scan_cidr_finds_exactly_the_drives(void **state)
{
	struct fixture *f = *state;
	struct collector c;
	uint64_t t0, took;
	int ret;

	memset(&c, 0, sizeof(c));
	t0 = now_ms();
	ret = ax_scan(f->ctx, "eth://127.0.1.16/28", 1000, collect, &c);
	took = now_ms() - t0;
	if (ret != 3)
		fail_msg("ax_scan returned %d (%s)", ret, ax_error_last());
	assert_int_equal(c.n, 3);
	/* One deadline for the whole range, not one per silent host (eleven of them). */
	assert_true(took < 3 * 1000);
	qsort(c.items, (size_t)c.n, sizeof(c.items[0]), found_cmp);
	check_scan_drive(f, &c.items[0], "127.0.1.17", SCAN_SERIAL);
	check_scan_drive(f, &c.items[1], "127.0.1.18", SCAN_SERIAL + 1);
	check_scan_drive(f, &c.items[2], "127.0.1.19", SCAN_SERIAL + 2);

	/* The same range with the port spelled out. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(ax_scan(f->ctx, "eth://127.0.1.16:1061/28", 1000, collect, &c), 3);
	/* Another port: nobody there. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(ax_scan(f->ctx, "eth://127.0.1.16:1062/28", 300, collect, &c), 0);
	assert_int_equal(c.calls, 0);
}

/* Hosts and lists: every target answered, so the scan ends early. */
static void test_eth__scan_hosts_and_lists(void **state)
{
	struct fixture *f = *state;
	struct collector c;
	uint64_t t0;

	memset(&c, 0, sizeof(c));
	t0 = now_ms();
	assert_int_equal(ax_scan(f->ctx, "eth://127.0.1.18", 4000, collect, &c), 1);
	assert_true(now_ms() - t0 < 4000 / 2); /* not at the deadline */
	check_scan_drive(f, &c.items[0], "127.0.1.18", SCAN_SERIAL + 1);

	/* Duplicates are probed and reported once. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	        ax_scan(f->ctx, "eth://127.0.1.19,127.0.1.2,127.0.1.19", 4000, collect, &c), 2);
	qsort(c.items, (size_t)c.n, sizeof(c.items[0]), found_cmp);
	check_scan_drive(f, &c.items[0], "127.0.1.19", SCAN_SERIAL + 2);
	check_scan_drive(f, &c.items[1], "127.0.1.2", MAIN_SERIAL + 1);

	/* A silent host in the list is left out; the URI's timeout_ms shortens the scan. */
	memset(&c, 0, sizeof(c));
	t0 = now_ms();
	assert_int_equal(
	        ax_scan(f->ctx, "eth://127.0.1.17,127.0.1.200?timeout_ms=300", 10000, collect, &c),
	        1);
	assert_true(now_ms() - t0 < 10000 / 2); /* the URI's 300 ms, not the call's 10 s */
	check_scan_drive(f, &c.items[0], "127.0.1.17", SCAN_SERIAL);
}

/* The callback's negative value stops the scan and is what ax_scan returns. */
static void test_eth__scan_stopped_by_callback(void **state)
{
	struct fixture *f = *state;
	struct collector c;

	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(ax_scan(f->ctx, "eth://127.0.1.16/28", 1000, collect, &c), -1);
	assert_int_equal(c.calls, 1);
}

static void test_eth__scan_bad_specs(void **state)
{
	static const char *const bad[] = {
	        "eth://127.0.1.0/8",
	        "eth://127.0.1.0/15",
	        "eth://127.0.1.0/33",
	        "eth://127.0.1.0/abc",
	        "eth://127.0.1.0/24x",
	        "eth://127.0.1.0/-24",
	        "eth://127.0.1.0//24",
	        "eth://[::1]/120",
	        "eth://127.0.1.1,127.0.1.2/30",
	        "eth://127.0.1.1,,127.0.1.2",
	        "eth://",
	        "eth://localhost/24",
	        "eth://127.0.1.1?timeout_ms=0",
	};
	struct fixture *f = *state;
	struct collector c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		memset(&c, 0, sizeof(c));
		ret = ax_scan(f->ctx, bad[i], 500, collect, &c);
		if (ret != AX_EINVAL)
			fail_msg("'%s': got %d (%s), want AX_EINVAL", bad[i], ret, ax_error_last());
		if (c.calls != 0)
			fail_msg("'%s': callback called", bad[i]);
	}
	assert_int_equal(ax_scan(f->ctx, "eth://127.0.1.0/8", 500, collect, &c), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "/8"));
	assert_int_equal(ax_scan(f->ctx, "eth://127.0.1.16/28?bogus=1", 500, collect, &c),
	                 AX_EUNKNOWNKEY);
	assert_non_null(strstr(ax_error_last(), "bogus"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_eth__simulator_prints_uris),
	        cmocka_unit_test(test_eth__identity),
	        cmocka_unit_test(test_eth__serials_per_drive),
	        cmocka_unit_test(test_eth__typed_round_trips),
	        cmocka_unit_test(test_eth__extended_both_ways),
	        cmocka_unit_test(test_eth__drive_error_replies),
	        cmocka_unit_test(test_eth__timeout_silent_drive),
	        cmocka_unit_test(test_eth__resend_after_lost_request),
	        cmocka_unit_test(test_eth__corrupt_replies_are_ignored),
	        cmocka_unit_test(test_eth__late_replies_meet_a_closed_port),
	        cmocka_unit_test_teardown(test_eth__late_reply_never_answers_the_next_read,
	                                  peer_teardown),
	        cmocka_unit_test_teardown(test_eth__late_read_ack_never_acks_a_refused_write,
	                                  peer_teardown),
	        cmocka_unit_test_teardown(test_eth__read_ack_is_no_write_ack, peer_teardown),
	        cmocka_unit_test_teardown(test_eth__error_reply_worded_after_the_request,
	                                  peer_teardown),
	        cmocka_unit_test_teardown(test_eth__datagram_is_one_frame, peer_teardown),
	        cmocka_unit_test(test_eth__closed_port),
	        cmocka_unit_test(test_eth__cancel_from_another_thread),
	        cmocka_unit_test(test_eth__cancel_between_requests_is_dropped),
	        cmocka_unit_test(test_eth__threads_share_one_link),
	        cmocka_unit_test(test_eth__bad_link_uris),
	        cmocka_unit_test(test_eth__scan_cidr_finds_exactly_the_drives),
	        cmocka_unit_test(test_eth__scan_hosts_and_lists),
	        cmocka_unit_test(test_eth__scan_stopped_by_callback),
	        cmocka_unit_test(test_eth__scan_bad_specs),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
