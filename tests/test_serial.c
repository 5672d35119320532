/* SPDX-License-Identifier: MIT */
/*
 * The `serial` transport end to end, through the real libserialport, on
 * USB-serial ports that umockdev emulates (tests/support/serial_rig.c; run
 * under umockdev-wrapper). Each port's pty master is served by a simulated
 * drive in a thread of this test (a "peer"), whose misbehaviour the tests
 * choose: garbage before the reply, corrupted replies, silence, a reply
 * that trickles in byte by byte, an echo of the request, a late reply for
 * another register, a reply that comes after its request gave up, and a
 * port that is unplugged mid-request. The peers
 * count every byte they receive, which is how the probe policy is checked:
 * a port the policy excludes must receive nothing.
 *
 * Ports (all 115200 8N1):
 *   ttyUSB0  0403:6001 'Acme' 'SimServo RS485' SER123  drive, serial 4100
 *   ttyUSB1  2341:0043 (not a known adapter)           drive, serial 4101
 *   ttyUSB2  0403:6015                                 nothing answers
 *   ttyUSB3  1209:0001                                 drive 4103; unplugged by the last test
 *   ttyUSB4  1209:A71C                                 drive 4104; permission test
 */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "serial_rig.h"
#include "simdrive.h"
#include "support/timing.h"

#define REG_VENDOR 0x6E0
#define REG_PRODUCT 0x6E1
#define REG_REVISION 0x6E2
#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6
#define REG_CONTROL 0x010
#define REG_STATUS 0x011
#define REG_POS_SET 0x020
#define REG_VEL_SET 0x021
#define REG_USER_DATA 0x6F0

#define N_PORTS 5
#define P_MAIN 0
#define P_UNKNOWN 1
#define P_SILENT 2
#define P_VANISH 3
#define P_LOCKED 4
#define FIRST_SERIAL 4100u

static const struct serial_rig_port rig_ports[N_PORTS] = {
        {"ttyUSB0", 0x0403, 0x6001, "SER123", "Acme", "SimServo RS485"},
        {"ttyUSB1", 0x2341, 0x0043, "ARD1", "Arduino (www.arduino.cc)", "Uno"},
        {"ttyUSB2", 0x0403, 0x6015, "QUIET", NULL, NULL},
        {"ttyUSB3", 0x1209, 0x0001, "GONE", NULL, "Unplugged soon"},
        {"ttyUSB4", 0x1209, 0xA71C, "LOCK", NULL, NULL},
};

/* What a peer does with each request. */
enum peer_mode {
	PEER_NORMAL,        /* answer */
	PEER_SILENT,        /* never answer */
	PEER_GARBAGE,       /* stray bytes, then the reply */
	PEER_CORRUPT_BURST, /* a corrupted copy of the reply, then the reply */
	PEER_CORRUPT_FIRST, /* the first reply in this mode corrupted, the others intact */
	PEER_CORRUPT_ALL,   /* every reply corrupted */
	PEER_TRICKLE,       /* the reply one byte at a time */
	PEER_ECHO_STALE,    /* echo the request, a reply for another register, the reply */
	PEER_UNPLUG,        /* unplug the port instead of answering */
	PEER_LATE_FIRST,    /* the first request answered 250 ms late, its resend never */
};

/* Noise that ends in something like a frame start (a1 00), as a real line might carry. */
static const uint8_t garbage[] = {0x55, 0xAA, 0x00, 0xFF, 0x13, 0x37, 0x42, 0xA1, 0x00};

struct peer {
	serial_rig *rig;
	size_t port;
	int master;
	int stop_fd;
	simdrive *drive;
	pthread_t thread;
	int running;
	atomic_int mode;
	atomic_ulong rx_bytes;  /* every byte that arrived */
	atomic_ulong requests;  /* frames that decoded */
	atomic_ulong corrupted; /* PEER_CORRUPT_FIRST: replies corrupted so far */
	atomic_ulong late;      /* PEER_LATE_FIRST: requests seen so far */
	uint8_t buf[2 * AX_MCB_MAX_FRAME];
	size_t len;
};

struct fixture {
	serial_rig *rig;
	ax_ctx *ctx;
	struct peer peers[N_PORTS];
	ax_link *links[4]; /* open in the running test; closed by its teardown */
};

/* What the simulated drives report as their software version. */
static char sw_version[64];

/* Lines the context logged, for the resynchronisation checks. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];

static void log_capture(int level, const char *origin, const char *message, void *userdata)
{
	size_t have;

	(void)level;
	(void)userdata;
	pthread_mutex_lock(&log_lock);
	have = strlen(log_text);
	(void)snprintf(log_text + have, sizeof(log_text) - have, "%s: %s\n", origin, message);
	pthread_mutex_unlock(&log_lock);
}

static void log_clear(void)
{
	pthread_mutex_lock(&log_lock);
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

static int log_has(const char *needle)
{
	int found;

	pthread_mutex_lock(&log_lock);
	found = strstr(log_text, needle) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}

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

static void peer_write(struct peer *p, const uint8_t *b, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = write(p->master, b + off, n - off);

		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			sleep_ms(1);
			continue;
		}
		if (r <= 0)
			return;
		off += (size_t)r;
	}
}

/* One request frame: answer it the way the mode says. Returns 0, or -1 to stop serving. */
static int peer_answer(struct peer *p, const uint8_t *req, size_t len)
{
	uint8_t reply[AX_MCB_MAX_FRAME], bad[AX_MCB_MAX_FRAME], stale[AX_MCB_FRAME_SIZE];
	int mode = atomic_load(&p->mode);
	size_t n;

	if (mode == PEER_SILENT)
		return 0;
	if (mode == PEER_UNPLUG) {
		(void)serial_rig_unplug(p->rig, p->port);
		return -1;
	}
	n = simdrive_handle(p->drive, req, len, reply, sizeof(reply), NULL);
	if (n == 0)
		return 0;
	memcpy(bad, reply, n);
	bad[4] ^= 0x10; /* under the CRC */

	switch (mode) {
	case PEER_GARBAGE:
		peer_write(p, garbage, sizeof(garbage));
		peer_write(p, reply, n);
		break;
	case PEER_CORRUPT_BURST:
		peer_write(p, bad, n);
		peer_write(p, reply, n);
		break;
	case PEER_CORRUPT_FIRST:
		if (atomic_fetch_add(&p->corrupted, 1) == 0)
			peer_write(p, bad, n);
		else
			peer_write(p, reply, n);
		break;
	case PEER_CORRUPT_ALL:
		peer_write(p, bad, n);
		break;
	case PEER_LATE_FIRST: {
		/* The answer reflects the drive when the request came, as a busy drive's would. */
		unsigned long k = atomic_fetch_add(&p->late, 1);

		if (k == 0) {
			sleep_ms(250);
			peer_write(p, reply, n);
		} else if (k > 1) {
			peer_write(p, reply, n);
		}
		break;
	}
	case PEER_TRICKLE:
		for (size_t i = 0; i < n; i++) {
			peer_write(p, reply + i, 1);
			sleep_ms(1);
		}
		break;
	case PEER_ECHO_STALE:
		peer_write(p, req, len);
		/* A late answer for another register (the status word of axis 1). */
		{
			ax_mcb_frame f;
			size_t slen = 0;

			memset(&f, 0, sizeof(f));
			f.node = AX_MCB_NODE;
			f.subnode = 1;
			f.address = REG_STATUS;
			f.command = AX_MCB_ACK;
			if (ax_mcb_encode(stale, sizeof(stale), &slen, &f) == 0)
				peer_write(p, stale, slen);
		}
		peer_write(p, reply, n);
		break;
	default:
		peer_write(p, reply, n);
		break;
	}
	return 0;
}

/* Cut frames from what arrived, sliding past noise, as a drive on a line does. */
static int peer_parse(struct peer *p)
{
	while (p->len >= AX_MCB_FRAME_SIZE) {
		ax_mcb_frame f;
		int err = ax_mcb_decode(&f, p->buf, p->len);
		size_t used;

		if (err == AX_ETRUNC)
			return 0;
		if (err < 0) {
			memmove(p->buf, p->buf + 1, --p->len);
			continue;
		}
		used = f.frame_len;
		atomic_fetch_add(&p->requests, 1);
		if (peer_answer(p, p->buf, used) < 0)
			return -1;
		p->len -= used;
		memmove(p->buf, p->buf + used, p->len);
	}
	return 0;
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;

	for (;;) {
		struct pollfd pfd[2] = {
		        {.fd = p->master, .events = POLLIN},
		        {.fd = p->stop_fd, .events = POLLIN},
		};
		ssize_t r;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			return NULL;
		/* No one holds the slave (between links): the master reports a hang-up. */
		if (!(pfd[0].revents & POLLIN)) {
			sleep_ms(2);
			continue;
		}
		r = read(p->master, p->buf + p->len, sizeof(p->buf) - p->len);
		if (r <= 0) {
			sleep_ms(2);
			continue;
		}
		atomic_fetch_add(&p->rx_bytes, (unsigned long)r);
		p->len += (size_t)r;
		if (p->len == sizeof(p->buf))
			p->len = 0;
		if (peer_parse(p) < 0)
			return NULL;
	}
}

static const simdrive_codec peer_codec = {ax_mcb_encode, ax_mcb_decode};

static void peer_start(struct fixture *f, size_t i, int mode)
{
	struct peer *p = &f->peers[i];

	p->rig = f->rig;
	p->port = i;
	p->master = serial_rig_master(f->rig, i);
	p->stop_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(p->stop_fd >= 0);
	assert_int_equal(
	        simdrive_new(&p->drive, &peer_codec, "axs-100", FIRST_SERIAL + (uint32_t)i), 0);
	atomic_init(&p->mode, mode);
	atomic_init(&p->rx_bytes, 0);
	atomic_init(&p->requests, 0);
	atomic_init(&p->corrupted, 0);
	atomic_init(&p->late, 0);
	assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
	p->running = 1;
}

static void peer_stop(struct peer *p)
{
	uint64_t one = 1;

	if (!p->running)
		return;
	assert_int_equal(write(p->stop_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	pthread_join(p->thread, NULL);
	close(p->stop_fd);
	simdrive_free(p->drive);
	p->running = 0;
}

/*
 * The peer's request count once it has caught up: a request that gets no
 * answer is counted whenever the peer thread next runs, maybe after the
 * client gave up on it (a loaded machine).
 */
static unsigned long peer_requests(struct peer *p, unsigned long want)
{
	for (int i = 0; i < 200 && atomic_load(&p->requests) < want; i++)
		sleep_ms(10);
	return atomic_load(&p->requests);
}

/* Set a peer's mode and zero its counters. */
static void peer_reset(struct peer *p, int mode)
{
	atomic_store(&p->mode, mode);
	atomic_store(&p->rx_bytes, 0);
	atomic_store(&p->requests, 0);
	atomic_store(&p->corrupted, 0);
	atomic_store(&p->late, 0);
}

static ax_ctx *new_ctx(void)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;

	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = dirs;
	if (ax_ctx_new(&ctx, &opts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	return ctx;
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	if (serial_rig_new(&f->rig, rig_ports, N_PORTS) < 0)
		fail_msg("cannot set up the emulated serial ports (see stderr)");
	for (size_t i = 0; i < N_PORTS; i++)
		peer_start(f, i, i == P_SILENT ? PEER_SILENT : PEER_NORMAL);
	f->ctx = new_ctx();
	ax_ctx_set_log(f->ctx, AX_LOG_DEBUG, log_capture, NULL);
	{
		uint8_t buf[sizeof(sw_version)];
		uint32_t code = 0;
		size_t len = 0;

		assert_int_equal(simdrive_read(f->peers[P_MAIN].drive, 0, REG_SW_VERSION, buf,
		                               sizeof(buf) - 1, &len, &code),
		                 0);
		memcpy(sw_version, buf, len);
		sw_version[len] = '\0';
		assert_true(strlen(sw_version) > 8);
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	for (size_t i = 0; i < N_PORTS; i++)
		peer_stop(&f->peers[i]);
	ax_ctx_unref(f->ctx);
	serial_rig_free(f->rig);
	free(f);
	return 0;
}

/* Every peer back to its normal behaviour before each test. */
static int test_setup(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < N_PORTS; i++)
		peer_reset(&f->peers[i], i == P_SILENT ? PEER_SILENT : PEER_NORMAL);
	log_clear();
	return 0;
}

/* Open a link the test teardown closes, even when the test fails half-way. */
static ax_link *open_link(struct fixture *f, const char *uri, int timeout_ms)
{
	ax_link_options opts = AX_LINK_OPTIONS_INIT;
	ax_link *link = NULL;
	size_t i = 0;

	while (i < sizeof(f->links) / sizeof(f->links[0]) && f->links[i])
		i++;
	assert_true(i < sizeof(f->links) / sizeof(f->links[0]));
	opts.timeout_ms = timeout_ms;
	if (ax_link_open(&link, f->ctx, uri, &opts) < 0)
		fail_msg("open %s: %s", uri, ax_error_last());
	f->links[i] = link;
	return link;
}

static void close_link(struct fixture *f, ax_link *link)
{
	for (size_t i = 0; i < sizeof(f->links) / sizeof(f->links[0]); i++)
		if (f->links[i] == link)
			f->links[i] = NULL;
	ax_link_unref(link);
}

static int test_teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(f->links) / sizeof(f->links[0]); i++)
		f->links[i] = ax_link_unref(f->links[i]);
	return 0;
}

/* Scan results, copied out of the callback. */
struct result {
	char uri[128];
	char detail[160];
	int access;
	char message[320];
	char hint[256];
	uint32_t known, vendor, product, serial;
	char sw[64];
};

struct results {
	struct result r[16];
	size_t n;
};

static int collect(const ax_scan_result *r, void *userdata)
{
	struct results *rs = userdata;
	struct result *o;

	if (rs->n == sizeof(rs->r) / sizeof(rs->r[0]))
		return 0;
	o = &rs->r[rs->n++];
	(void)snprintf(o->uri, sizeof(o->uri), "%s", r->uri);
	(void)snprintf(o->detail, sizeof(o->detail), "%s", r->detail);
	(void)snprintf(o->message, sizeof(o->message), "%s", r->message);
	(void)snprintf(o->hint, sizeof(o->hint), "%s", r->hint);
	(void)snprintf(o->sw, sizeof(o->sw), "%s", r->sw_version);
	o->access = r->access;
	o->known = r->known;
	o->vendor = r->vendor_id;
	o->product = r->product_code;
	o->serial = r->serial;
	return 0;
}

static const struct result *find_result(const struct results *rs, const char *uri)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->r[i].uri, uri) == 0)
			return &rs->r[i];
	return NULL;
}

static void check_drive(const struct result *r, uint32_t serial)
{
	const simdrive_model *m = simdrive_model_find("axs-100");

	assert_non_null(m);
	assert_non_null(r);
	if (r->access != AX_ACCESS_OK)
		fail_msg("%s: access %d (%s)", r->uri, r->access, r->message);
	assert_int_equal(r->known &
	                         (AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_REVISION |
	                          AX_SCAN_HAS_SERIAL | AX_SCAN_HAS_SW_VERSION),
	                 AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_REVISION |
	                         AX_SCAN_HAS_SERIAL | AX_SCAN_HAS_SW_VERSION);
	assert_int_equal(r->vendor, SIMDRIVE_VENDOR_ID);
	assert_int_equal(r->product, m->product_code);
	assert_int_equal(r->serial, serial);
	assert_string_equal(r->sw, sw_version);
	assert_string_equal(r->message, "");
}

/* The default policy: known adapters are probed and identified, the others left alone. */
static void test_serial__enumerate_default_policy(void **state)
{
	struct fixture *f = *state;
	struct results rs = {.n = 0};
	const struct result *r;
	int n;

	n = ax_scan(f->ctx, "serial:?timeout_ms=100", 3000, collect, &rs);
	if (n < 0)
		fail_msg("scan: %s", ax_error_last());
	/* Known adapters with a drive: ttyUSB0, ttyUSB3, ttyUSB4. */
	assert_int_equal(n, 3);
	assert_int_equal(rs.n, N_PORTS);
	/* Sorted by path. */
	assert_string_equal(rs.r[0].uri, "serial:/dev/ttyUSB0");
	assert_string_equal(rs.r[4].uri, "serial:/dev/ttyUSB4");

	r = find_result(&rs, "serial:/dev/ttyUSB0");
	assert_non_null(r);
	assert_string_equal(r->detail,
	                    "USB VID:PID 0403:6001 serial SER123 'Acme' 'SimServo RS485'");
	check_drive(r, FIRST_SERIAL + P_MAIN);

	r = find_result(&rs, "serial:/dev/ttyUSB1");
	assert_non_null(r);
	assert_string_equal(r->detail,
	                    "USB VID:PID 2341:0043 serial ARD1 'Arduino (www.arduino.cc)' 'Uno'");
	assert_int_equal(r->access, AX_ACCESS_ERROR);
	assert_non_null(strstr(r->message, "not probed"));
	assert_non_null(strstr(r->message, "2341:0043"));
	assert_non_null(strstr(r->hint, "probe=all"));
	assert_int_equal(r->known, 0);

	r = find_result(&rs, "serial:/dev/ttyUSB2");
	assert_non_null(r);
	assert_string_equal(r->detail, "USB VID:PID 0403:6015 serial QUIET");
	assert_int_equal(r->access, AX_ACCESS_NO_REPLY);
	assert_non_null(strstr(r->message, "no drive answered"));
	assert_non_null(strstr(r->message, "115200 8N1"));

	/* The policy is a promise: the excluded port received nothing, the silent one was asked. */
	assert_int_equal(atomic_load(&f->peers[P_UNKNOWN].rx_bytes), 0);
	assert_int_equal(atomic_load(&f->peers[P_UNKNOWN].requests), 0);
	assert_int_equal(peer_requests(&f->peers[P_SILENT], 2), 2);
}

/* probe=all opts into every port, the unknown adapter included. */
static void test_serial__enumerate_probe_all(void **state)
{
	struct fixture *f = *state;
	struct results rs = {.n = 0};
	int n;

	n = ax_scan(f->ctx, "serial:?probe=all&timeout_ms=100", 3000, collect, &rs);
	if (n < 0)
		fail_msg("scan: %s", ax_error_last());
	assert_int_equal(n, 4);
	assert_int_equal(rs.n, N_PORTS);
	check_drive(find_result(&rs, "serial:/dev/ttyUSB1"), FIRST_SERIAL + P_UNKNOWN);
	assert_true(atomic_load(&f->peers[P_UNKNOWN].requests) >= 5);
}

/* A port named in the target is probed whatever its ids; line keys carry into its URI. */
static void test_serial__scan_named_port(void **state)
{
	struct fixture *f = *state;
	struct results rs = {.n = 0};

	assert_int_equal(ax_scan(f->ctx, "serial:/dev/ttyUSB1", 2000, collect, &rs), 1);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].uri, "serial:/dev/ttyUSB1");
	check_drive(&rs.r[0], FIRST_SERIAL + P_UNKNOWN);

	rs.n = 0;
	assert_int_equal(ax_scan(f->ctx,
	                         "serial:/dev/ttyUSB0?baud=57600&parity=even&timeout_ms=200", 2000,
	                         collect, &rs),
	                 1);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].uri, "serial:/dev/ttyUSB0?baud=57600&parity=even");

	/* A named port that is not there is reported, not skipped. */
	rs.n = 0;
	assert_int_equal(ax_scan(f->ctx, "serial:/dev/ttyUSB9", 2000, collect, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].access, AX_ACCESS_ERROR);
	assert_non_null(strstr(rs.r[0].message, "/dev/ttyUSB9"));
	assert_non_null(strstr(rs.r[0].message, "not there"));
}

static int stop_at_first(const ax_scan_result *r, void *userdata)
{
	int *seen = userdata;

	(void)r;
	(*seen)++;
	return -42;
}

/* A scan keeps to its deadline, and stops (cancelling its probes) when the callback says so. */
static void test_serial__scan_deadline_and_stop(void **state)
{
	struct fixture *f = *state;
	struct results rs = {.n = 0};
	uint64_t t0, took;
	int seen = 0;

	/* A silent port with 1 s tries, in a 300 ms scan: the tries shrink to fit. */
	t0 = now_ms();
	assert_int_equal(ax_scan(f->ctx, "serial:/dev/ttyUSB2?timeout_ms=1000", 300, collect, &rs),
	                 0);
	took = now_ms() - t0;
	assert_true(took < 1000);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].access, AX_ACCESS_NO_REPLY);

	/* Every port with 2 s tries; the first result stops it, the silent probe is cut short. */
	t0 = now_ms();
	assert_int_equal(
	        ax_scan(f->ctx, "serial:?probe=all&timeout_ms=2000", 10000, stop_at_first, &seen),
	        -42);
	took = now_ms() - t0;
	assert_int_equal(seen, 1);
	assert_true(took < 2000);
}

struct bad_spec {
	const char *spec;
	int want;
	const char *says;
};

static void test_serial__scan_bad_targets(void **state)
{
	static const struct bad_spec cases[] = {
	        {"serial://host", AX_EINVAL, "names a host"},
	        {"serial:?probe=some", AX_EINVAL, "probe 'some'"},
	        {"serial:dev/ttyUSB0", AX_EINVAL, "not an absolute path"},
	        {"serial:?baud=-1", AX_EINVAL, "baud"},
	        {"serial:?speed=1", AX_EUNKNOWNKEY, "speed"},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct results rs = {.n = 0};
		int err = ax_scan(f->ctx, cases[i].spec, 1000, collect, &rs);

		if (err != cases[i].want)
			fail_msg("%s: got %d, want %d (%s)", cases[i].spec, err, cases[i].want,
			         ax_error_last());
		if (!strstr(ax_error_last(), cases[i].says))
			fail_msg("%s: message '%s' lacks '%s'", cases[i].spec, ax_error_last(),
			         cases[i].says);
		assert_int_equal(rs.n, 0);
	}
}

static void test_serial__typed_round_trips(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0?baud=115200", 0);
	const simdrive_model *m = simdrive_model_find("axs-100");
	uint32_t u32 = 0;
	int32_t s32 = 0;
	uint16_t u16 = 0;
	int16_t s16 = 0;
	uint8_t u8 = 0;
	float fl = 0;
	char *sw = NULL;

	assert_string_equal(ax_link_scheme(link), "serial");
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &u32), 0);
	assert_int_equal(u32, SIMDRIVE_VENDOR_ID);
	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &u32), 0);
	assert_int_equal(u32, m->product_code);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &u32), 0);
	assert_int_equal(u32, FIRST_SERIAL + P_MAIN);
	assert_int_equal(ax_link_write_u8(link, 1, REG_POS_SET, 0xFE), 0);
	assert_int_equal(ax_link_read_u8(link, 1, REG_POS_SET, &u8), 0);
	assert_int_equal(u8, 0xFE);
	assert_int_equal(ax_link_write_s16(link, 1, REG_POS_SET, -30000), 0);
	assert_int_equal(ax_link_read_s16(link, 1, REG_POS_SET, &s16), 0);
	assert_int_equal(s16, -30000);
	assert_int_equal(ax_link_write_s32(link, 1, REG_POS_SET, -123456789), 0);
	assert_int_equal(ax_link_read_s32(link, 1, REG_POS_SET, &s32), 0);
	assert_int_equal(s32, -123456789);
	assert_int_equal(ax_link_write_float(link, 1, REG_VEL_SET, -12.5f), 0);
	assert_int_equal(ax_link_read_float(link, 1, REG_VEL_SET, &fl), 0);
	assert_true(fl == -12.5f);
	/* The drive acts on what it is sent: shutdown makes it ready to switch on. */
	assert_int_equal(ax_link_write_u16(link, 1, REG_CONTROL, 0x06), 0);
	assert_int_equal(ax_link_read_u16(link, 1, REG_STATUS, &u16), 0);
	assert_int_equal(u16 & 0x6F, 0x21);
	/* Longer than 8 bytes: an extended reply. */
	assert_int_equal(ax_link_read_str(link, 0, REG_SW_VERSION, &sw), 0);
	assert_string_equal(sw, sw_version);
	ax_free(sw);
	/* One request per transfer: nothing was resent. */
	assert_int_equal(atomic_load(&f->peers[P_MAIN].requests), 14);
	close_link(f, link);
}

/* 512 bytes each way: an extended write, then an extended reply. */
static void test_serial__extended_frames(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0", 0);
	uint8_t out[AX_MCB_MAX_PAYLOAD], in[AX_MCB_MAX_PAYLOAD];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(ax_link_write(link, 0, REG_USER_DATA, out, sizeof(out)), 0);
	memset(in, 0, sizeof(in));
	assert_int_equal(ax_link_read(link, 0, REG_USER_DATA, in, sizeof(in), &len), 0);
	assert_int_equal(len, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	/* A buffer smaller than the reply is an error, never a truncation. */
	assert_int_equal(ax_link_read(link, 0, REG_USER_DATA, in, 100, &len), AX_ETOOBIG);
	/* An error reply is the drive's answer, not a line problem. */
	assert_int_equal(ax_link_read(link, 0, 0x7FF, in, sizeof(in), &len), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_NO_OBJECT);
	assert_int_equal(atomic_load(&f->peers[P_MAIN].requests), 4);
	close_link(f, link);
}

/* Stray bytes before the reply: the window slides to it, no resend needed. */
static void test_serial__resync_after_garbage(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0", 0);
	uint32_t v = 0;

	peer_reset(&f->peers[P_MAIN], PEER_GARBAGE);
	for (int i = 0; i < 5; i++) {
		v = 0;
		assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
		assert_int_equal(v, FIRST_SERIAL + P_MAIN);
	}
	assert_int_equal(atomic_load(&f->peers[P_MAIN].requests), 5);
	assert_true(log_has("resynchronised on /dev/ttyUSB0: skipped 9 byte(s)"));
	close_link(f, link);
}

/* A corrupted reply followed by an intact one: resynchronised past the bad CRC. */
static void test_serial__resync_after_crc_error(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0", 0);
	uint32_t v = 0;

	peer_reset(&f->peers[P_MAIN], PEER_CORRUPT_BURST);
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), 0);
	assert_int_equal(v, SIMDRIVE_VENDOR_ID);
	assert_int_equal(atomic_load(&f->peers[P_MAIN].requests), 1);
	assert_true(log_has("skipped 14 byte(s)"));
	close_link(f, link);
}

/* Only a corrupted reply: the request times out and the resend gets through. */
static void test_serial__crc_error_then_resend(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0?timeout_ms=100", 0);
	uint64_t t0;
	uint32_t v = 0;

	peer_reset(&f->peers[P_MAIN], PEER_CORRUPT_FIRST);
	t0 = now_ms();
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), 0);
	assert_true(now_ms() - t0 >= 100);
	assert_int_equal(v, SIMDRIVE_VENDOR_ID);
	assert_int_equal(atomic_load(&f->peers[P_MAIN].requests), 2);
	assert_true(log_has("sending again"));
	close_link(f, link);
}

/* Nothing but bad frames: a CRC error that points at the line settings. */
static void test_serial__crc_errors_only(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0?timeout_ms=80", 0);
	uint32_t v = 77;

	peer_reset(&f->peers[P_MAIN], PEER_CORRUPT_ALL);
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), AX_ECRC);
	assert_int_equal(v, 77);
	assert_non_null(strstr(ax_error_last(), "/dev/ttyUSB0"));
	assert_non_null(strstr(ax_error_last(), "no valid MCB frame"));
	assert_non_null(strstr(ax_error_last(), "115200 8N1"));
	assert_int_equal(peer_requests(&f->peers[P_MAIN], 2), 2);
	close_link(f, link);
}

/* A silent drive: two tries of the timeout, then a timeout error; never longer. */
static void test_serial__timeout_when_silent(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0", 100);
	uint64_t t0, took;
	uint32_t v = 77;

	peer_reset(&f->peers[P_MAIN], PEER_SILENT);
	t0 = now_ms();
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), AX_ETIMEDOUT);
	took = now_ms() - t0;
	assert_int_equal(v, 77);
	assert_true(took >= 200);
	assert_true(took < test_ms(1500)); /* it ends: no third try, no hang */
	assert_non_null(
	        strstr(ax_error_last(), "no reply from /dev/ttyUSB0 after 2 tries of 100 ms"));
	assert_int_equal(peer_requests(&f->peers[P_MAIN], 2), 2);
	/* The line recovers with the drive. */
	peer_reset(&f->peers[P_MAIN], PEER_NORMAL);
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), 0);
	assert_int_equal(v, SIMDRIVE_VENDOR_ID);
	close_link(f, link);
}

/* A reply that arrives a byte at a time is assembled, extended ones included. */
static void test_serial__reply_in_pieces(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0", 0);
	uint32_t v = 0;
	char *sw = NULL;

	peer_reset(&f->peers[P_MAIN], PEER_TRICKLE);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, FIRST_SERIAL + P_MAIN);
	assert_int_equal(ax_link_read_str(link, 0, REG_SW_VERSION, &sw), 0);
	assert_string_equal(sw, sw_version);
	ax_free(sw);
	assert_int_equal(atomic_load(&f->peers[P_MAIN].requests), 2);
	close_link(f, link);
}

/* An RS485 echo of the request and a late reply for another register are skipped. */
static void test_serial__echo_and_late_reply_skipped(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0", 0);
	int32_t pos = 0;

	peer_reset(&f->peers[P_MAIN], PEER_ECHO_STALE);
	assert_int_equal(ax_link_write_s32(link, 1, REG_POS_SET, 4242), 0);
	assert_int_equal(ax_link_read_s32(link, 1, REG_POS_SET, &pos), 0);
	assert_int_equal(pos, 4242);
	assert_int_equal(atomic_load(&f->peers[P_MAIN].requests), 2);
	assert_true(log_has("not a reply"));
	assert_true(log_has("a late reply, skipped"));
	close_link(f, link);
}

/*
 * A read gives up (the drive is busy), and its answer comes 250 ms late,
 * after the value changed: the next read of the register waits for the line
 * to go quiet and returns the new value, never the first read's answer.
 */
static void test_serial__late_reply_never_answers_the_next_read(void **state)
{
	static const uint8_t v5[4] = {5, 0, 0, 0}, v99[4] = {99, 0, 0, 0};
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0", 100);
	uint32_t code = 0;
	int32_t pos = 0;

	assert_int_equal(simdrive_write(f->peers[P_MAIN].drive, 1, REG_POS_SET, v5, 4, &code), 0);
	peer_reset(&f->peers[P_MAIN], PEER_LATE_FIRST);
	assert_int_equal(ax_link_read_s32(link, 1, REG_POS_SET, &pos), AX_ETIMEDOUT);
	assert_int_equal(simdrive_write(f->peers[P_MAIN].drive, 1, REG_POS_SET, v99, 4, &code), 0);
	if (ax_link_read_s32(link, 1, REG_POS_SET, &pos) != 0)
		fail_msg("read after a timeout: %s", ax_error_last());
	if (pos != 99)
		fail_msg("read returned %d, the answer to the read that gave up", (int)pos);
	assert_true(log_has("resynchronised /dev/ttyUSB0 after an unanswered request"));
	close_link(f, link);
}

/* The late answer is a read's ack: it never acknowledges a write the drive refuses. */
static void test_serial__late_read_ack_never_acks_a_refused_write(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB0", 100);
	uint16_t status = 0;
	int err;

	peer_reset(&f->peers[P_MAIN], PEER_LATE_FIRST);
	assert_int_equal(ax_link_read_u16(link, 1, REG_STATUS, &status), AX_ETIMEDOUT);
	/* The status word is read-only: the drive refuses the write. */
	err = ax_link_write_u16(link, 1, REG_STATUS, 0x1234);
	if (err != AX_EDRIVE)
		fail_msg("refused write gave %d (%s), want AX_EDRIVE", err, ax_error_last());
	assert_int_equal(ax_error_last_drive_code(), 0x06010000u);
	assert_non_null(strstr(ax_error_last(), "write of subnode 1 register 0x011 refused"));
	close_link(f, link);
}

struct canceller {
	ax_link *link;
	int rc;
};

static void *cancel_later(void *arg)
{
	struct canceller *c = arg;

	sleep_ms(100);
	c->rc = ax_link_cancel(c->link);
	return NULL;
}

static void test_serial__cancel_from_another_thread(void **state)
{
	struct fixture *f = *state;
	struct canceller c;
	pthread_t th;
	uint64_t t0, took;
	uint32_t v = 0;

	c.link = open_link(f, "serial:/dev/ttyUSB0", 5000);
	c.rc = -1;
	peer_reset(&f->peers[P_MAIN], PEER_SILENT);
	t0 = now_ms();
	assert_int_equal(pthread_create(&th, NULL, cancel_later, &c), 0);
	assert_int_equal(ax_link_read_u32(c.link, 0, REG_VENDOR, &v), AX_ECANCELED);
	took = now_ms() - t0;
	pthread_join(th, NULL);
	assert_int_equal(c.rc, 0);
	assert_true(took < 2000);
	assert_non_null(strstr(ax_error_last(), "cancelled"));
	close_link(f, c.link);
}

/* A port one link holds is busy for everyone else, scans included (which send nothing to it). */
static void test_serial__busy_port(void **state)
{
	struct fixture *f = *state;
	ax_link *holder = open_link(f, "serial:/dev/ttyUSB0", 0);
	ax_link *second = NULL;
	struct results rs = {.n = 0};
	uint32_t v = 0;

	assert_int_equal(ax_link_open(&second, f->ctx, "serial:/dev/ttyUSB0", NULL), AX_EBUSY);
	assert_null(second);
	assert_non_null(strstr(ax_error_last(), "'/dev/ttyUSB0' is busy"));
	assert_non_null(strstr(ax_error_last(), "another program"));

	assert_int_equal(ax_scan(f->ctx, "serial:/dev/ttyUSB0", 1000, collect, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].access, AX_ACCESS_BUSY);
	assert_non_null(strstr(rs.r[0].hint, "another program"));
	assert_int_equal(atomic_load(&f->peers[P_MAIN].rx_bytes), 0);

	/* The holder is unaffected, and once it lets go the port opens again. */
	assert_int_equal(ax_link_read_u32(holder, 0, REG_VENDOR, &v), 0);
	close_link(f, holder);
	second = open_link(f, "serial:/dev/ttyUSB0", 0);
	assert_int_equal(ax_link_read_u32(second, 0, REG_VENDOR, &v), 0);
	close_link(f, second);
}

/* Effective capabilities of this thread (threads started later inherit them). */
static int caps_get(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	memset(h, 0, sizeof(*h));
	h->version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(SYS_capget, h, d);
}

static int caps_set(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return (int)syscall(SYS_capset, h, d);
}

/* The OS refuses the port: permission-denied, with the dialout hint, and no bytes sent. */
static void test_serial__permission_denied(void **state)
{
	struct fixture *f = *state;
	const char *slave = serial_rig_slave(f->rig, P_LOCKED);
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct saved[2], dropped[2];
	struct results rs = {.n = 0};
	ax_link *link = NULL;
	struct stat st;
	int err;

	assert_int_equal(stat(slave, &st), 0);
	assert_int_equal(chmod(slave, 0), 0);
	/* Root opens anything; without CAP_DAC_OVERRIDE it meets the file mode like anyone. */
	if (geteuid() == 0) {
		assert_int_equal(caps_get(&h, saved), 0);
		memcpy(dropped, saved, sizeof(dropped));
		dropped[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
		assert_int_equal(caps_set(&h, dropped), 0);
	}

	err = ax_link_open(&link, f->ctx, "serial:/dev/ttyUSB4", NULL);
	assert_int_equal(ax_scan(f->ctx, "serial:/dev/ttyUSB4", 1000, collect, &rs), 0);

	if (geteuid() == 0)
		assert_int_equal(caps_set(&h, saved), 0);
	assert_int_equal(chmod(slave, st.st_mode & 07777), 0);

	assert_int_equal(err, AX_EACCESS);
	assert_null(link);
	assert_non_null(strstr(ax_error_last(), "permission denied"));
	assert_non_null(strstr(ax_error_last(), "dialout"));
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].access, AX_ACCESS_PERMISSION_DENIED);
	assert_non_null(strstr(rs.r[0].message, "permission denied"));
	assert_non_null(strstr(rs.r[0].hint, "dialout"));
	assert_non_null(strstr(rs.r[0].hint, "udev rule"));
	assert_int_equal(atomic_load(&f->peers[P_LOCKED].rx_bytes), 0);
	/* With the mode back, the same port works. */
	link = open_link(f, "serial:/dev/ttyUSB4", 0);
	close_link(f, link);
}

struct open_case {
	const char *uri;
	int want;
	const char *says;
};

static void test_serial__open_errors(void **state)
{
	static const struct open_case cases[] = {
	        {"serial:", AX_EINVAL, "names no port"},
	        {"serial:dev/ttyUSB0", AX_EINVAL, "not an absolute path"},
	        {"serial://host/dev/ttyUSB0", AX_EINVAL, "names a host"},
	        {"serial:/dev/ttyUSB0?baud=0", AX_EINVAL, "baud"},
	        {"serial:/dev/ttyUSB0?baud=fast", AX_EINVAL, "baud"},
	        {"serial:/dev/ttyUSB0?data_bits=9", AX_EINVAL, "data_bits"},
	        {"serial:/dev/ttyUSB0?stop_bits=3", AX_EINVAL, "stop_bits"},
	        {"serial:/dev/ttyUSB0?parity=mark", AX_EINVAL, "parity 'mark'"},
	        {"serial:/dev/ttyUSB0?flow=dtrdsr", AX_EINVAL, "flow 'dtrdsr'"},
	        {"serial:/dev/ttyUSB0?timeout_ms=0", AX_EINVAL, "timeout_ms"},
	        {"serial:/dev/ttyUSB0?probe=all", AX_EINVAL, "applies to scans"},
	        {"serial:/dev/ttyUSB0?speed=9600", AX_EUNKNOWNKEY, "speed"},
	        {"serial:/dev/ttyUSB9", AX_ENOTFOUND, "'/dev/ttyUSB9' is not there"},
	        {"serial:/tmp", AX_EINVAL, "not a character device"},
	        {"serial:/dev/null", AX_ENOTFOUND, "does not know '/dev/null'"},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ax_link *link = NULL;
		int err = ax_link_open(&link, f->ctx, cases[i].uri, NULL);

		if (err != cases[i].want)
			fail_msg("%s: got %d, want %d (%s)", cases[i].uri, err, cases[i].want,
			         ax_error_last());
		if (!strstr(ax_error_last(), cases[i].says))
			fail_msg("%s: message '%s' lacks '%s'", cases[i].uri, ax_error_last(),
			         cases[i].says);
		assert_null(link);
	}
	/* None of it reached a port. */
	assert_int_equal(atomic_load(&f->peers[P_MAIN].rx_bytes), 0);
}

/*
 * The URI's line settings reach the terminal (a pty shares them with its
 * master). A pty forces 8 data bits and no parity; libserialport 0.1.1
 * reads back only some settings, and 7 data bits is one it notices: the
 * error any port gives for a setting its driver does not take.
 */
static void test_serial__line_settings(void **state)
{
	static const struct open_case refused[] = {
	        {"serial:/dev/ttyUSB0?data_bits=7", AX_EUNSUPPORTED,
	         "'/dev/ttyUSB0' does not support the data bits of 115200 7N1"},
	        {"serial:/dev/ttyUSB0?data_bits=7&parity=odd&baud=57600", AX_EUNSUPPORTED,
	         "does not support the data bits of 57600 7O1"},
	};
	struct fixture *f = *state;
	int master = serial_rig_master(f->rig, P_MAIN);
	struct termios tio;
	ax_link *link;
	uint32_t v = 0;

	link = open_link(f, "serial:/dev/ttyUSB0?baud=9600&stop_bits=2&flow=rtscts", 0);
	assert_int_equal(tcgetattr(master, &tio), 0);
	assert_int_equal(cfgetospeed(&tio), B9600);
	assert_int_equal(tio.c_cflag & CSIZE, CS8);
	assert_true(tio.c_cflag & CSTOPB);
	/*
	 * Not asserted: CRTSCTS. libserialport 0.1.1 accepts RTS/CTS flow
	 * control on this pty without setting it (the pty itself keeps the flag).
	 */
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), 0);
	close_link(f, link);

	link = open_link(f, "serial:/dev/ttyUSB0?baud=230400&flow=xonxoff", 0);
	assert_int_equal(tcgetattr(master, &tio), 0);
	assert_int_equal(cfgetospeed(&tio), B230400);
	assert_false(tio.c_cflag & CSTOPB);
	assert_true(tio.c_iflag & IXON);
	assert_true(tio.c_iflag & IXOFF);
	close_link(f, link);

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int err;

		link = NULL;
		err = ax_link_open(&link, f->ctx, refused[i].uri, NULL);
		if (err != refused[i].want || !strstr(ax_error_last(), refused[i].says))
			fail_msg("%s: got %d (%s)", refused[i].uri, err, ax_error_last());
		assert_null(link);
	}
	/* A refused open leaves the port free. */
	link = open_link(f, "serial:/dev/ttyUSB0", 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), 0);
	close_link(f, link);
}

/* Unplugged mid-request: a clear error at once, not a timeout, and every later request too. */
static void test_serial__port_vanishes_mid_request(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f, "serial:/dev/ttyUSB3", 3000);
	struct results rs = {.n = 0};
	uint64_t t0, took;
	uint32_t v = 0;

	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, FIRST_SERIAL + P_VANISH);
	peer_reset(&f->peers[P_VANISH], PEER_UNPLUG);
	t0 = now_ms();
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), AX_EDISCONNECTED);
	took = now_ms() - t0;
	assert_true(took < 1000);
	assert_non_null(strstr(ax_error_last(), "serial port /dev/ttyUSB3 went away"));
	assert_non_null(strstr(ax_error_last(), "register 0x6E0"));

	t0 = now_ms();
	assert_int_equal(ax_link_write_u32(link, 1, REG_POS_SET, 1), AX_EDISCONNECTED);
	assert_true(now_ms() - t0 < 3000 / 2); /* at once, not after the 3 s timeout */
	assert_non_null(strstr(ax_error_last(), "is gone"));
	close_link(f, link);

	/* The port has left the listing, and reopening it says it is not there. */
	assert_true(ax_scan(f->ctx, "serial:?timeout_ms=50", 2000, collect, &rs) >= 0);
	assert_int_equal(rs.n, N_PORTS - 1);
	assert_null(find_result(&rs, "serial:/dev/ttyUSB3"));
	assert_int_equal(ax_link_open(&link, f->ctx, "serial:/dev/ttyUSB3", NULL), AX_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_serial__enumerate_default_policy, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__enumerate_probe_all, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__scan_named_port, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__scan_bad_targets, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__scan_deadline_and_stop, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__typed_round_trips, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__extended_frames, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__resync_after_garbage, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__resync_after_crc_error, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__crc_error_then_resend, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__crc_errors_only, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__timeout_when_silent, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__reply_in_pieces, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__echo_and_late_reply_skipped,
	                                        test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__late_reply_never_answers_the_next_read,
	                                        test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(
	                test_serial__late_read_ack_never_acks_a_refused_write, test_setup,
	                test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__cancel_from_another_thread, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__busy_port, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__permission_denied, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__open_errors, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_serial__line_settings, test_setup,
	                                        test_teardown),
	        /* Last: it unplugs ttyUSB3 for good. */
	        cmocka_unit_test_setup_teardown(test_serial__port_vanishes_mid_request, test_setup,
	                                        test_teardown),
	};
	return cmocka_run_group_tests_name("serial", tests, group_setup, group_teardown);
}
