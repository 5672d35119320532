/* SPDX-License-Identifier: MIT */
/*
 * The standalone simulator (axlink-sim) as a black box: the real binary is
 * started on 127.0.2.x and spoken to with plain UDP sockets and frames
 * built by libaxlink's MCB codec (not the eth plugin), so these tests pin
 * the simulator itself: URIs on stdout, identities, error replies, extended
 * frames, fault injection, surviving garbage, signals and argument errors.
 *
 * Most tests use --port 0 (the system picks a free port per drive, printed
 * in the URIs), so parallel test runs never fight over a port; one test
 * checks the default port 1061.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "simdrive.h"
#include "simproc.h"

extern char **environ;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define REG_AXIS_NUMBER 0x0A0
#define REG_CONTROL 0x010
#define REG_VENDOR 0x6E0
#define REG_PRODUCT 0x6E1
#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6
#define REG_USER_DATA 0x6F0

/* Defaults axlink-sim documents in --help. */
#define SIM_DEFAULT_SERIAL 1000u
#define SIM_DEFAULT_MODEL "axs-100"

/* How long a test waits for a reply that must come (generous: loaded CI machines). */
#define REPLY_MS 2000
/* How long a test waits to be sure a reply does not come. */
#define SILENCE_MS 200
#define START_MS 5000

/* ---- fixture ------------------------------------------------------------ */

struct fixture {
	simproc *sim;
};

static int fx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	return 0;
}

/* Stops a simulator a failed test left running, so no orphan keeps its address. */
static int fx_teardown(void **state)
{
	struct fixture *f = *state;

	(void)simproc_stop(f->sim);
	free(f);
	return 0;
}

static simproc *sim_start(struct fixture *f, const char *const *args, size_t n_uris)
{
	assert_null(f->sim);
	if (simproc_start(&f->sim, args, n_uris, START_MS) < 0)
		fail_msg("axlink-sim did not start (see the messages above)");
	return f->sim;
}

/* Stop it and check the exit status: 0 means a clean stop (and no leak under ASan). */
static void sim_stop_clean(struct fixture *f)
{
	int rc = simproc_stop(f->sim);

	f->sim = NULL;
	assert_int_equal(rc, 0);
}

/* ---- time, sockets, URIs ------------------------------------------------ */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* "eth://A.B.C.D:PORT" -> socket address; fails the test on anything else. */
static struct sockaddr_in uri_addr(const char *uri)
{
	struct sockaddr_in sa;
	const char *colon;
	char host[INET_ADDRSTRLEN];
	char *end = NULL;
	unsigned long port;

	assert_non_null(uri);
	colon = strrchr(uri, ':');
	if (strncmp(uri, "eth://", 6) != 0 || !colon || colon < uri + 6 ||
	    (size_t)(colon - (uri + 6)) >= sizeof(host))
		fail_msg("'%s' is not eth://ADDR:PORT", uri);
	memcpy(host, uri + 6, (size_t)(colon - (uri + 6)));
	host[colon - (uri + 6)] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		fail_msg("'%s': host '%s' is not an IPv4 address", uri, host);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || !end || *end || colon[1] == '\0' || port == 0 || port > 65535)
		fail_msg("'%s': bad port", uri);
	sa.sin_port = htons((uint16_t)port);
	return sa;
}

static unsigned uri_port(const char *uri)
{
	struct sockaddr_in sa = uri_addr(uri);

	return ntohs(sa.sin_port);
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	return fd;
}

static void udp_send(int fd, const struct sockaddr_in *to, const void *buf, size_t len)
{
	ssize_t r = sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to));

	if (r != (ssize_t)len)
		fail_msg("sendto %zu bytes: %s", len, r < 0 ? strerror(errno) : "short");
}

/* Receive one datagram within @ms; returns its length, or -1 on timeout. */
static ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, int ms, struct sockaddr_in *from)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	socklen_t flen = sizeof(*from);
	struct sockaddr_in dummy;
	int rc;

	if (!from)
		from = &dummy;
	do
		rc = poll(&pfd, 1, ms);
	while (rc < 0 && errno == EINTR);
	assert_true(rc >= 0);
	if (rc == 0)
		return -1;
	return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &flen);
}

static int same_endpoint(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* ---- frames ------------------------------------------------------------- */

/* A request built by libaxlink's codec; returns its length. */
static size_t make_read(uint8_t *buf, unsigned subnode, unsigned address)
{
	assert_int_equal(ax_mcb_encode_read(buf, subnode, address), 0);
	return AX_MCB_FRAME_SIZE;
}

/* Send a request and wait for the one reply; fails the test when none comes. */
static ax_mcb_frame transact(int fd, const struct sockaddr_in *to, const uint8_t *req, size_t len,
                             uint8_t *reply, size_t cap)
{
	ax_mcb_frame f;
	ssize_t n;

	udp_send(fd, to, req, len);
	n = udp_recv(fd, reply, cap, REPLY_MS, NULL);
	if (n < 0)
		fail_msg("no reply within %d ms", REPLY_MS);
	if (ax_mcb_decode(&f, reply, (size_t)n) < 0)
		fail_msg("undecodable reply: %s", ax_error_last());
	assert_int_equal(f.frame_len, (size_t)n);
	return f;
}

/* Read a u32 register; the reply must be an ack for exactly that register. */
static uint32_t read_u32(int fd, const struct sockaddr_in *to, unsigned subnode, unsigned address)
{
	uint8_t req[AX_MCB_FRAME_SIZE], reply[AX_MCB_MAX_FRAME];
	ax_mcb_frame f;
	uint32_t v;

	f = transact(fd, to, req, make_read(req, subnode, address), reply, sizeof(reply));
	if (ax_mcb_check_reply(&f, subnode, address) < 0)
		fail_msg("read of %u:0x%03X: %s", subnode, address, ax_error_last());
	assert_false(f.extended);
	memcpy(&v, f.data, sizeof(v)); /* little-endian host assumed, like the codec tests */
	return v;
}

static const simdrive_model *model(const char *name)
{
	const simdrive_model *m = simdrive_model_find(name);

	assert_non_null(m);
	return m;
}

/* ---- running the binary to completion ----------------------------------- */

static const char *sim_path(void)
{
	const char *env = getenv("AXLINK_SIM");

	return env && *env ? env : AXLINK_SIM_PATH;
}

struct run {
	int status; /* exit status, or -1 when killed by a signal */
	char out[8192];
	char err[8192];
};

/* Run axlink-sim with @args until it exits (10 s at most) and capture both outputs. */
static void run_sim(const char *const *args, struct run *r)
{
	posix_spawn_file_actions_t fa;
	char *argv[32];
	int po[2], pe[2], status = 0;
	size_t n_out = 0, n_err = 0, n = 0;
	uint64_t deadline = now_ms() + 10000;
	pid_t pid;
	int open_fds = 2;

	memset(r, 0, sizeof(*r));
	argv[n++] = (char *)(uintptr_t)sim_path();
	for (size_t i = 0; args[i]; i++) {
		assert_true(n < ARRAY_SIZE(argv) - 1);
		argv[n++] = (char *)(uintptr_t)args[i];
	}
	argv[n] = NULL;

	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pe[1], STDERR_FILENO);
	posix_spawn_file_actions_addclose(&fa, po[0]);
	posix_spawn_file_actions_addclose(&fa, pe[0]);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);

	while (open_fds > 0) {
		struct pollfd pfd[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
		uint64_t now = now_ms();
		int rc;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("axlink-sim did not exit within 10 s");
		}
		rc = poll(pfd, 2, (int)(deadline - now));
		if (rc <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t *used = i ? &n_err : &n_out;
			char tmp[1024];
			ssize_t got;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			got = read(pfd[i].fd, tmp, sizeof(tmp));
			if (got <= 0) {
				close(i ? pe[0] : po[0]);
				if (i)
					pe[0] = -1;
				else
					po[0] = -1;
				open_fds--;
				continue;
			}
			for (ssize_t k = 0; k < got && *used < sizeof(r->out) - 1; k++)
				buf[(*used)++] = tmp[k];
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- URIs, identities, replies ------------------------------------------ */

static void test_sim__three_drives_default_port(void **state)
{
	static const char *const args[] = {"--eth", "127.0.2.1", "--count", "3", NULL};
	static const char *const want[] = {
	        "eth://127.0.2.1:1061",
	        "eth://127.0.2.2:1061",
	        "eth://127.0.2.3:1061",
	};
	const simdrive_model *m = model(SIM_DEFAULT_MODEL);
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 3);
	int fd = udp_socket();

	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(simproc_uri(p, i), want[i]);
	assert_null(simproc_uri(p, 3));

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct sockaddr_in sa = uri_addr(simproc_uri(p, i));

		assert_int_equal(read_u32(fd, &sa, 0, REG_PRODUCT), m->product_code);
		assert_int_equal(read_u32(fd, &sa, 1, REG_PRODUCT), m->product_code);
		assert_int_equal(read_u32(fd, &sa, 0, REG_VENDOR), SIMDRIVE_VENDOR_ID);
		assert_int_equal(read_u32(fd, &sa, 0, REG_SERIAL), SIM_DEFAULT_SERIAL + i);
	}
	close(fd);
	sim_stop_clean(f);
}

static void test_sim__model_and_serials(void **state)
{
	static const char *const args[] = {"--eth",    "127.0.2.20", "--count", "2",
	                                   "--port",   "0",          "--model", "AXS-200",
	                                   "--serial", "0xFFFFFFFE", NULL};
	const simdrive_model *m = model("axs-200");
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 2);
	int fd = udp_socket();

	for (size_t i = 0; i < 2; i++) {
		struct sockaddr_in sa = uri_addr(simproc_uri(p, i));
		char want[32];

		/* Each drive on the next address, every one on its own port. */
		(void)snprintf(want, sizeof(want), "eth://127.0.2.%zu:", 20 + i);
		assert_true(strncmp(simproc_uri(p, i), want, strlen(want)) == 0);
		assert_int_equal(read_u32(fd, &sa, 0, REG_PRODUCT), m->product_code);
		assert_int_equal(read_u32(fd, &sa, m->axes, REG_PRODUCT), m->product_code);
		assert_int_equal(read_u32(fd, &sa, 0, REG_SERIAL), 0xFFFFFFFEu + i);
		assert_int_equal(read_u32(fd, &sa, 0, REG_AXIS_NUMBER) & 0xFFFFu, m->axes);
	}
	close(fd);
	sim_stop_clean(f);
}

static void test_sim__error_replies(void **state)
{
	static const char *const args[] = {"--eth", "127.0.2.25", "--port", "0", NULL};
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 1);
	struct sockaddr_in sa = uri_addr(simproc_uri(p, 0));
	uint8_t req[AX_MCB_MAX_FRAME], reply[AX_MCB_MAX_FRAME];
	uint32_t value = 7, code;
	ax_mcb_frame r;
	size_t len;
	int fd = udp_socket();

	/* An unknown register: read-error reply carrying "object does not exist". */
	r = transact(fd, &sa, req, make_read(req, 1, 0x777), reply, sizeof(reply));
	assert_int_equal(r.command, AX_MCB_ERR_READ);
	assert_int_equal(r.subnode, 1);
	assert_int_equal(r.address, 0x777);
	memcpy(&code, r.data, sizeof(code));
	assert_int_equal(code, AX_MCB_CODE_NO_OBJECT);
	assert_int_equal(ax_mcb_check_reply(&r, 1, 0x777), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_NO_OBJECT);

	/* A write to a read-only register: write-error reply, "incorrect access". */
	assert_int_equal(
	        ax_mcb_encode_write(req, sizeof(req), &len, 0, REG_SERIAL, &value, sizeof(value)),
	        0);
	r = transact(fd, &sa, req, len, reply, sizeof(reply));
	assert_int_equal(r.command, AX_MCB_ERR_WRITE);
	memcpy(&code, r.data, sizeof(code));
	assert_int_equal(code, AX_MCB_CODE_ACCESS);
	/* And the serial is untouched. */
	assert_int_equal(read_u32(fd, &sa, 0, REG_SERIAL), SIM_DEFAULT_SERIAL);
	close(fd);
	sim_stop_clean(f);
}

static void test_sim__extended_frames(void **state)
{
	static const char *const args[] = {"--eth", "127.0.2.30", "--port", "0", NULL};
	const simdrive_model *m = model(SIM_DEFAULT_MODEL);
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 1);
	struct sockaddr_in sa = uri_addr(simproc_uri(p, 0));
	uint8_t req[AX_MCB_MAX_FRAME], reply[AX_MCB_MAX_FRAME], data[100];
	ax_mcb_frame r;
	size_t len;
	int fd = udp_socket();

	/* The software version does not fit 8 bytes: an extended reply. */
	r = transact(fd, &sa, req, make_read(req, 1, REG_SW_VERSION), reply, sizeof(reply));
	assert_int_equal(ax_mcb_check_reply(&r, 1, REG_SW_VERSION), 0);
	assert_true(r.extended);
	assert_true(r.payload_len > 8);
	assert_int_equal(r.payload[r.payload_len - 1], '\0');
	assert_int_equal(strlen((const char *)r.payload) + 1, r.payload_len);
	assert_non_null(strstr((const char *)r.payload, m->sw_version));

	/* An extended write, then the whole 512-byte register back: the largest frame. */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(
	        ax_mcb_encode_write(req, sizeof(req), &len, 0, REG_USER_DATA, data, sizeof(data)),
	        0);
	r = transact(fd, &sa, req, len, reply, sizeof(reply));
	assert_int_equal(ax_mcb_check_reply(&r, 0, REG_USER_DATA), 0);
	r = transact(fd, &sa, req, make_read(req, 0, REG_USER_DATA), reply, sizeof(reply));
	assert_int_equal(ax_mcb_check_reply(&r, 0, REG_USER_DATA), 0);
	assert_true(r.extended);
	assert_int_equal(r.payload_len, AX_MCB_MAX_PAYLOAD);
	assert_memory_equal(r.payload, data, sizeof(data));
	close(fd);
	sim_stop_clean(f);
}

/* ---- robustness --------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static unsigned rnd_below(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

/* A raw header with any node, command and value field, and a correct CRC. */
static void raw_frame(uint8_t *b, unsigned node, unsigned subnode, unsigned cmd, unsigned ext,
                      unsigned address, uint64_t value)
{
	uint16_t w0 = (uint16_t)((node << 4) | (subnode & 0xF));
	uint16_t w1 = (uint16_t)((ext & 1) | ((cmd & 7) << 1) | ((address & 0xFFF) << 4));
	uint16_t crc;

	b[0] = (uint8_t)w0;
	b[1] = (uint8_t)(w0 >> 8);
	b[2] = (uint8_t)w1;
	b[3] = (uint8_t)(w1 >> 8);
	for (int i = 0; i < 8; i++)
		b[4 + i] = (uint8_t)(value >> (8 * i));
	crc = ax_mcb_crc16(b, 12);
	b[12] = (uint8_t)crc;
	b[13] = (uint8_t)(crc >> 8);
}

static void rnd_fill(uint64_t *s, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd(s);
}

/* Registers worth hitting, besides random addresses. */
static const uint16_t hot_regs[] = {0x00F, 0x010, 0x011, 0x014, 0x020, 0x021, 0x025, 0x0A0,
                                    0x388, 0x6DB, 0x6DC, 0x6E1, 0x6E4, 0x6E6, 0x6F0};

static unsigned rnd_address(uint64_t *s)
{
	return rnd_below(s, 2) ? hot_regs[rnd_below(s, ARRAY_SIZE(hot_regs))]
	                       : rnd_below(s, 0x1000);
}

/* A well-formed request (read, write, extended write); the drive must answer it. */
static size_t make_valid(uint64_t *s, uint8_t *b, size_t cap, unsigned *sub, unsigned *addr)
{
	uint8_t value[AX_MCB_MAX_PAYLOAD];
	size_t len = 0;

	*sub = rnd_below(s, 4) ? rnd_below(s, 2) : rnd_below(s, 16);
	*addr = rnd_address(s);
	switch (rnd_below(s, 3)) {
	case 0:
		return make_read(b, *sub, *addr);
	case 1:
		len = 1 + rnd_below(s, 8);
		break;
	default:
		len = 9 + rnd_below(s, AX_MCB_MAX_PAYLOAD - 8);
		break;
	}
	rnd_fill(s, value, len);
	assert_int_equal(ax_mcb_encode_write(b, cap, &len, *sub, *addr, value, len), 0);
	return len;
}

/* A datagram the simulator must drop without a reply. Returns its length. */
static size_t make_silent(uint64_t *s, uint8_t *b, size_t cap)
{
	unsigned sub, addr, bit, node, len;
	size_t n;

	switch (rnd_below(s, 7)) {
	case 0: /* a valid request with one bit flipped under the CRC */
		n = make_valid(s, b, cap, &sub, &addr);
		bit = rnd_below(s, AX_MCB_FRAME_SIZE * 8);
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		return n;
	case 1: { /* a correct CRC over an absurd extended length, a little payload after it */
		static const uint64_t huge[] = {513, 0x10000, 0x80000000ull, 1ull << 63,
		                                UINT64_MAX};
		uint64_t plen = rnd_below(s, 2) ? huge[rnd_below(s, ARRAY_SIZE(huge))]
		                                : 513 + rnd(s) % (UINT64_MAX - 513);

		raw_frame(b, 0xA, rnd_below(s, 16), 1 + rnd_below(s, 2), 1, rnd_address(s), plen);
		n = AX_MCB_FRAME_SIZE + rnd_below(s, 100);
		rnd_fill(s, b + AX_MCB_FRAME_SIZE, n - AX_MCB_FRAME_SIZE);
		return n;
	}
	case 2: /* another node */
		node = rnd_below(s, 0xFFF);
		node += node >= 0xA; /* anything but 0xA */
		raw_frame(b, node, rnd_below(s, 2), 1 + rnd_below(s, 2), 0, rnd_address(s), rnd(s));
		return AX_MCB_FRAME_SIZE;
	case 3: /* replies and unknown commands: 0, 3..7 */
		raw_frame(b, 0xA, rnd_below(s, 2), rnd_below(s, 2) ? 3 + rnd_below(s, 5) : 0, 0,
		          rnd_address(s), rnd(s));
		return AX_MCB_FRAME_SIZE;
	case 4: /* an extended write whose payload is cut short */
		len = 1 + rnd_below(s, AX_MCB_MAX_PAYLOAD);
		raw_frame(b, 0xA, rnd_below(s, 2), 2, 1, rnd_address(s), len);
		n = AX_MCB_FRAME_SIZE + rnd_below(s, len);
		rnd_fill(s, b + AX_MCB_FRAME_SIZE, n - AX_MCB_FRAME_SIZE);
		return n;
	case 5: /* shorter than a header, including the empty datagram */
		n = rnd_below(s, AX_MCB_FRAME_SIZE);
		if (n >= 12 && rnd_below(s, 2)) {
			raw_frame(b, 0xA, 1, 1, 0, 0x011, 0); /* a real header, cut */
		} else {
			rnd_fill(s, b, n);
		}
		return n;
	default: /* longer than the longest frame: a valid request, padded */
		n = make_valid(s, b, cap, &sub, &addr);
		len = AX_MCB_MAX_FRAME + 1 + rnd_below(s, 2100 - AX_MCB_MAX_FRAME);
		rnd_fill(s, b + n, len - n);
		return len;
	}
}

struct expect {
	unsigned subnode, address;
};

/* Everything queued on @fd now, without waiting. */
static ssize_t udp_try_recv(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from)
{
	return udp_recv(fd, buf, cap, 0, from);
}

#define ROBUST_DATAGRAMS 10000
#define ROBUST_DRIVES 3
/* Per drive and batch: small enough that the simulator's socket buffer never overflows. */
#define ROBUST_BATCH 8

static void test_sim__survives_garbage(void **state)
{
	static const char *const args[] = {"--eth",  "127.0.2.40", "--count", "3",
	                                   "--port", "0",          NULL};
	const simdrive_model *m = model(SIM_DEFAULT_MODEL);
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, ROBUST_DRIVES);
	struct sockaddr_in sa[ROBUST_DRIVES];
	struct expect want[ROBUST_DRIVES][ROBUST_BATCH];
	size_t n_want[ROBUST_DRIVES], got[ROBUST_DRIVES];
	int silent = udp_socket(), valid = udp_socket(), noise = udp_socket(), sync = udp_socket();
	uint8_t buf[2200], reply[2200];
	uint64_t seed = 0x5EED5EEDull;
	size_t sent = 0, n_valid = 0, n_noise_replies = 0;

	for (size_t d = 0; d < ROBUST_DRIVES; d++)
		sa[d] = uri_addr(simproc_uri(p, d));

	while (sent < ROBUST_DATAGRAMS) {
		struct sockaddr_in from;
		ssize_t n;

		memset(n_want, 0, sizeof(n_want));
		memset(got, 0, sizeof(got));
		for (size_t d = 0; d < ROBUST_DRIVES; d++) {
			for (size_t k = 0; k < ROBUST_BATCH && sent < ROBUST_DATAGRAMS; k++) {
				unsigned kind = rnd_below(&seed, 4);
				size_t len;

				if (kind == 0) {
					/* Pure noise: any length up to 600. */
					len = rnd_below(&seed, 601);
					rnd_fill(&seed, buf, len);
					udp_send(noise, &sa[d], buf, len);
				} else if (kind == 1) {
					struct expect *e = &want[d][n_want[d]++];

					len = make_valid(&seed, buf, sizeof(buf), &e->subnode,
					                 &e->address);
					udp_send(valid, &sa[d], buf, len);
					n_valid++;
				} else {
					len = make_silent(&seed, buf, sizeof(buf));
					udp_send(silent, &sa[d], buf, len);
				}
				sent++;
			}
		}
		/*
		 * One socket per drive is served in order, so once the sync read is
		 * answered every earlier datagram to that drive has been handled.
		 */
		for (size_t d = 0; d < ROBUST_DRIVES; d++)
			assert_int_equal(read_u32(sync, &sa[d], 0, REG_SERIAL),
			                 SIM_DEFAULT_SERIAL + d);

		n = udp_try_recv(silent, reply, sizeof(reply), &from);
		if (n >= 0)
			fail_msg("datagram %zu: a %zd-byte reply to a datagram that must be "
			         "dropped",
			         sent, n);

		/* Valid requests: exactly one reply each, in order, for that register. */
		while ((n = udp_try_recv(valid, reply, sizeof(reply), &from)) >= 0) {
			ax_mcb_frame r;
			size_t d = 0;
			int rc;

			while (d < ROBUST_DRIVES && !same_endpoint(&from, &sa[d]))
				d++;
			assert_true(d < ROBUST_DRIVES);
			if (got[d] >= n_want[d])
				fail_msg("drive %zu: more replies than requests", d);
			if (ax_mcb_decode(&r, reply, (size_t)n) < 0)
				fail_msg("drive %zu: bad reply: %s", d, ax_error_last());
			rc = ax_mcb_check_reply(&r, want[d][got[d]].subnode,
			                        want[d][got[d]].address);
			if (rc != 0 && rc != AX_EDRIVE)
				fail_msg("drive %zu: reply does not answer %u:0x%03X: %s", d,
				         want[d][got[d]].subnode, want[d][got[d]].address,
				         ax_error_last());
			got[d]++;
		}
		for (size_t d = 0; d < ROBUST_DRIVES; d++)
			if (got[d] != n_want[d])
				fail_msg("drive %zu: %zu replies to %zu valid requests", d, got[d],
				         n_want[d]);

		/* Noise may be answered only by a well-formed reply. */
		while ((n = udp_try_recv(noise, reply, sizeof(reply), &from)) >= 0) {
			ax_mcb_frame r;

			if (ax_mcb_decode(&r, reply, (size_t)n) < 0 ||
			    (r.command != AX_MCB_ACK && r.command != AX_MCB_ERR_READ &&
			     r.command != AX_MCB_ERR_WRITE))
				fail_msg("malformed reply to noise: %s", ax_error_last());
			n_noise_replies++;
		}
	}
	/* Mostly garbage went in, but valid requests were part of the mix. */
	assert_true(n_valid > ROBUST_DATAGRAMS / 8);
	print_message("%zu datagrams, %zu valid requests, %zu replies to noise\n", sent, n_valid,
	              n_noise_replies);

	/* Still alive, and still the same drives. */
	assert_int_equal(waitpid(simproc_pid(p), NULL, WNOHANG), 0);
	for (size_t d = 0; d < ROBUST_DRIVES; d++) {
		assert_int_equal(read_u32(sync, &sa[d], 0, REG_PRODUCT), m->product_code);
		assert_int_equal(read_u32(sync, &sa[d], 1, REG_PRODUCT), m->product_code);
		assert_int_equal(read_u32(sync, &sa[d], 0, REG_SERIAL), SIM_DEFAULT_SERIAL + d);
	}
	close(silent);
	close(valid);
	close(noise);
	close(sync);
	sim_stop_clean(f);
}

/* ---- fault injection ---------------------------------------------------- */

static void test_sim__drop_first(void **state)
{
	static const char *const args[] = {"--eth", "127.0.2.50",   "--count", "2", "--port",
	                                   "0",     "--drop-first", "1",       NULL};
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 2);
	uint8_t req[AX_MCB_FRAME_SIZE], reply[AX_MCB_MAX_FRAME];
	int fd = udp_socket();

	for (size_t d = 0; d < 2; d++) {
		struct sockaddr_in sa = uri_addr(simproc_uri(p, d));
		ax_mcb_frame r;

		/* Frames that are not requests must not use up the drop budget. */
		make_read(req, 0, REG_SERIAL);
		req[4] ^= 1; /* CRC mismatch */
		udp_send(fd, &sa, req, sizeof(req));
		raw_frame(req, AX_MCB_NODE, 0, AX_MCB_ACK, 0, REG_SERIAL, 0);
		udp_send(fd, &sa, req, sizeof(req));

		make_read(req, 0, REG_SERIAL);
		udp_send(fd, &sa, req, sizeof(req));
		assert_true(udp_recv(fd, reply, sizeof(reply), SILENCE_MS, NULL) < 0);
		/* The identical resend is answered. */
		r = transact(fd, &sa, req, sizeof(req), reply, sizeof(reply));
		assert_int_equal(ax_mcb_check_reply(&r, 0, REG_SERIAL), 0);
		assert_int_equal(read_u32(fd, &sa, 0, REG_SERIAL), SIM_DEFAULT_SERIAL + d);
	}
	close(fd);
	sim_stop_clean(f);
}

static void test_sim__drop_all(void **state)
{
	static const char *const args[] = {"--eth",  "127.0.2.52", "--port", "0",
	                                   "--drop", "100",        NULL};
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 1);
	struct sockaddr_in sa = uri_addr(simproc_uri(p, 0));
	uint8_t req[AX_MCB_FRAME_SIZE], reply[AX_MCB_MAX_FRAME];
	int fd = udp_socket();

	make_read(req, 0, REG_SERIAL);
	for (int i = 0; i < 3; i++)
		udp_send(fd, &sa, req, sizeof(req));
	assert_true(udp_recv(fd, reply, sizeof(reply), SILENCE_MS, NULL) < 0);
	close(fd);
	sim_stop_clean(f);
}

static void test_sim__corrupt_all(void **state)
{
	static const char *const args[] = {"--eth", "127.0.2.54", "--port", "0", "--corrupt",
	                                   "100",   "--seed",     "42",     NULL};
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 1);
	struct sockaddr_in sa = uri_addr(simproc_uri(p, 0));
	uint8_t req[AX_MCB_FRAME_SIZE], reply[AX_MCB_MAX_FRAME];
	ax_mcb_frame r;
	int fd = udp_socket();

	make_read(req, 0, REG_SERIAL);
	for (int i = 0; i < 20; i++) {
		ssize_t n;

		udp_send(fd, &sa, req, sizeof(req));
		n = udp_recv(fd, reply, sizeof(reply), REPLY_MS, NULL);
		assert_int_equal(n, AX_MCB_FRAME_SIZE);
		/* One flipped bit under the CRC: the receiver always sees it. */
		assert_int_equal(ax_mcb_decode(&r, reply, (size_t)n), AX_ECRC);
	}
	close(fd);
	sim_stop_clean(f);
}

static void test_sim__delay_does_not_block(void **state)
{
	static const char *const args[] = {"--eth",        "127.0.2.60", "--count", "2",
	                                   "--port",       "0",          "--delay", "150",
	                                   "--fault-only", "127.0.2.60", NULL};
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 2);
	struct sockaddr_in slow = uri_addr(simproc_uri(p, 0)), fast = uri_addr(simproc_uri(p, 1));
	uint8_t req[AX_MCB_FRAME_SIZE], reply[AX_MCB_MAX_FRAME];
	struct sockaddr_in from;
	ax_mcb_frame r;
	uint64_t t0;
	ssize_t n;
	int fd = udp_socket();

	make_read(req, 0, REG_SERIAL);
	t0 = now_ms();
	udp_send(fd, &slow, req, sizeof(req));
	udp_send(fd, &fast, req, sizeof(req));

	/* The undelayed drive answers while the other reply still waits. */
	n = udp_recv(fd, reply, sizeof(reply), REPLY_MS, &from);
	assert_true(n > 0);
	assert_true(same_endpoint(&from, &fast));
	assert_int_equal(ax_mcb_decode(&r, reply, (size_t)n), 0);
	assert_int_equal(ax_mcb_check_reply(&r, 0, REG_SERIAL), 0);

	n = udp_recv(fd, reply, sizeof(reply), REPLY_MS, &from);
	assert_true(n > 0);
	assert_true(now_ms() - t0 >= 150);
	assert_true(same_endpoint(&from, &slow));
	assert_int_equal(ax_mcb_decode(&r, reply, (size_t)n), 0);
	assert_int_equal(ax_mcb_check_reply(&r, 0, REG_SERIAL), 0);
	close(fd);
	sim_stop_clean(f);
}

/* ---- process life ------------------------------------------------------- */

static void test_sim__sigint_exits_cleanly(void **state)
{
	static const char *const args[] = {"--eth", "127.0.2.65", "--port", "0", NULL};
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 1);

	assert_int_equal(kill(simproc_pid(p), SIGINT), 0);
	sim_stop_clean(f); /* the exit status of the SIGINT stop */
}

static void test_sim__stop_with_replies_pending(void **state)
{
	static const char *const args[] = {"--eth",   "127.0.2.66", "--port", "0",
	                                   "--delay", "60000",      NULL};
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 1);
	struct sockaddr_in sa = uri_addr(simproc_uri(p, 0));
	uint8_t req[AX_MCB_FRAME_SIZE], reply[AX_MCB_MAX_FRAME];
	int fd = udp_socket();

	/* Replies queued for a minute: SIGTERM must still stop at once and free them. */
	make_read(req, 0, REG_SERIAL);
	for (int i = 0; i < 5; i++)
		udp_send(fd, &sa, req, sizeof(req));
	assert_true(udp_recv(fd, reply, sizeof(reply), 100, NULL) < 0);
	close(fd);
	sim_stop_clean(f);
}

static void test_sim__address_in_use(void **state)
{
	static const char *const args[] = {"--eth", "127.0.2.70", "--port", "0", NULL};
	struct fixture *f = *state;
	simproc *p = sim_start(f, args, 1);
	char port[16], where[48];
	const char *second[] = {"--eth", "127.0.2.70", "--port", port, NULL};
	struct run r;

	(void)snprintf(port, sizeof(port), "%u", uri_port(simproc_uri(p, 0)));
	(void)snprintf(where, sizeof(where), "127.0.2.70:%s", port);
	run_sim(second, &r);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	if (!strstr(r.err, where))
		fail_msg("stderr does not name %s: '%s'", where, r.err);
	/* The first one still serves. */
	{
		struct sockaddr_in sa = uri_addr(simproc_uri(p, 0));
		int fd = udp_socket();

		assert_int_equal(read_u32(fd, &sa, 0, REG_SERIAL), SIM_DEFAULT_SERIAL);
		close(fd);
	}
	sim_stop_clean(f);
}

/* -v: every rejected datagram is logged with its reason; stdout stays URIs only. */
static void test_sim__verbose_log(void **state)
{
	static const char *const args[] = {"--eth", "127.0.2.75", "--port", "0", "-v", NULL};
	struct fixture *f = *state;
	static const char *const want[] = {
	        "dropped 3-byte datagram", "shorter than the 14-byte header", "CRC mismatch",
	        "object does not exist",   "longer than the 526-byte",        "bad node or command",
	};
	char path[] = "/tmp/axlink-test-sim-XXXXXX";
	uint8_t req[AX_MCB_MAX_FRAME + 10], reply[AX_MCB_MAX_FRAME];
	char log[16384];
	struct sockaddr_in sa;
	int tmp, saved, fd;
	simproc *p;
	ssize_t n;

	/* The child inherits stderr: point it at a file while it starts. */
	tmp = mkstemp(path);
	assert_true(tmp >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(tmp, STDERR_FILENO) >= 0);
	if (simproc_start(&f->sim, args, 1, START_MS) < 0)
		f->sim = NULL;
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	assert_non_null(f->sim);
	p = f->sim;

	sa = uri_addr(simproc_uri(p, 0));
	fd = udp_socket();
	udp_send(fd, &sa, "abc", 3);
	make_read(req, 0, REG_SERIAL);
	req[5] ^= 0x10;
	udp_send(fd, &sa, req, AX_MCB_FRAME_SIZE);
	memset(req, 0, sizeof(req));
	udp_send(fd, &sa, req, sizeof(req));
	raw_frame(req, 0x3, 0, 1, 0, REG_SERIAL, 0);
	udp_send(fd, &sa, req, AX_MCB_FRAME_SIZE);
	make_read(req, 1, 0x777);
	(void)transact(fd, &sa, req, AX_MCB_FRAME_SIZE, reply, sizeof(reply));
	close(fd);
	sim_stop_clean(f);

	n = pread(tmp, log, sizeof(log) - 1, 0);
	close(tmp);
	assert_true(n > 0);
	log[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(log, want[i]))
			fail_msg("debug log lacks '%s':\n%s", want[i], log);
}

/* ---- arguments ---------------------------------------------------------- */

struct arg_case {
	const char *name;
	const char *args[12];
	int status;
	const char *stderr_has; /* a part of the message that says what is wrong */
};

static const struct arg_case arg_cases[] = {
        {"no_drives", {NULL}, 2, "--eth"},
        {"bad_address", {"--eth", "127.0.2.300", NULL}, 2, "'127.0.2.300'"},
        {"not_an_address", {"--eth", "localhost", NULL}, 2, "not an IPv4 address"},
        {"outside_loopback", {"--eth", "10.1.2.3", NULL}, 2, "--allow-any-address"},
        {"any_address", {"--eth", "0.0.0.0", "--allow-any-address", NULL}, 2, "0.0.0.0"},
        {"unknown_model", {"--eth", "127.0.2.80", "--model", "nope", NULL}, 2, "axs-100"},
        {"count_zero", {"--eth", "127.0.2.80", "--count", "0", NULL}, 2, "--count '0'"},
        {"count_over_1024", {"--eth", "127.0.2.80", "--count", "1025", NULL}, 2, "1..1024"},
        {"count_wraps", {"--eth", "127.0.2.250", "--count", "7", NULL}, 2, "127.0.2.250"},
        {"count_first", {"--count", "3", "--eth", "127.0.2.80", NULL}, 2, "before it"},
        {"count_twice",
         {"--eth", "127.0.2.80", "--count", "2", "--count", "2", NULL},
         2,
         "already has a --count"},
        {"duplicate",
         {"--eth", "127.0.2.80", "--count", "2", "--eth", "127.0.2.81", NULL},
         2,
         "127.0.2.81: address given twice"},
        {"port_over", {"--eth", "127.0.2.80", "--port", "65536", NULL}, 2, "0..65535"},
        {"port_text", {"--eth", "127.0.2.80", "--port", "1061x", NULL}, 2, "not a number"},
        {"drop_over", {"--eth", "127.0.2.80", "--drop", "100.5", NULL}, 2, "--drop"},
        {"drop_negative", {"--eth", "127.0.2.80", "--drop", "-1", NULL}, 2, "--drop"},
        {"corrupt_nan", {"--eth", "127.0.2.80", "--corrupt", "nan", NULL}, 2, "--corrupt"},
        {"delay_over", {"--eth", "127.0.2.80", "--delay", "60001", NULL}, 2, "--delay"},
        {"serial_wraps",
         {"--eth", "127.0.2.80", "--count", "2", "--serial", "0xFFFFFFFF", NULL},
         2,
         "--serial"},
        {"fault_only_unknown",
         {"--eth", "127.0.2.80", "--fault-only", "127.0.2.81", NULL},
         2,
         "127.0.2.81"},
        {"missing_value", {"--eth", NULL}, 2, "needs a value"},
        {"unknown_option", {"--eth", "127.0.2.80", "--frobnicate", NULL}, 2, "--frobnicate"},
        {"stray_argument", {"--eth", "127.0.2.80", "extra", NULL}, 2, "'extra'"},
        /* Allowed, but nothing here owns 192.0.2.1 (TEST-NET-1): a bind error naming it. */
        {"allow_any_unbindable",
         {"--allow-any-address", "--eth", "192.0.2.1", "--port", "0", NULL},
         1,
         "192.0.2.1:0"},
};

static void test_sim__argument_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(arg_cases); i++) {
		const struct arg_case *c = &arg_cases[i];
		struct run r;

		run_sim(c->args, &r);
		if (r.status != c->status)
			fail_msg("%s: exit status %d, want %d (stderr: '%s')", c->name, r.status,
			         c->status, r.err);
		if (r.out[0])
			fail_msg("%s: stdout must stay empty, got '%s'", c->name, r.out);
		if (!strstr(r.err, c->stderr_has))
			fail_msg("%s: stderr lacks '%s': '%s'", c->name, c->stderr_has, r.err);
	}
}

static void test_sim__help_and_version(void **state)
{
	static const char *const help[] = {"--help", NULL};
	static const char *const version[] = {"--version", NULL};
	struct run r;

	(void)state;
	run_sim(help, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "usage: axlink-sim"));
	for (const simdrive_model *m = simdrive_models(); m->name; m++)
		assert_non_null(strstr(r.out, m->name));

	run_sim(version, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "axlink-sim"));
	assert_non_null(strstr(r.out, ax_version()));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_sim__three_drives_default_port, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__model_and_serials, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__error_replies, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__extended_frames, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__survives_garbage, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__drop_first, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__drop_all, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__corrupt_all, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__delay_does_not_block, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__sigint_exits_cleanly, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__stop_with_replies_pending, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__address_in_use, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_sim__verbose_log, fx_setup, fx_teardown),
	        cmocka_unit_test(test_sim__argument_errors),
	        cmocka_unit_test(test_sim__help_and_version),
	};

	/* A simulator that died must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("sim", tests, NULL, NULL);
}
