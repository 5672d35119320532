/* SPDX-License-Identifier: MIT */
/*
 * The `serial` transport on bare pseudo-terminals, which libserialport
 * cannot open (no /sys/class/tty entry, no modem lines): the plugin drives
 * them through termios. No umockdev here: real ptys from the kernel, the
 * real simulator (axlink-sim --pty), and ptys of our own whose master this
 * test holds, silent or answering by hand. One case bind-mounts a pty over
 * /dev/ttyS0 in a mount namespace of its own (root only, TEST-RIGS.md).
 */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "simproc.h"

#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6
#define REG_POS_SET 0x020
#define REG_USER_DATA 0x6F0

#define SIM_START_MS 10000

struct fixture {
	ax_ctx *ctx;
	pthread_mutex_t log_lock;
	char log_text[8192]; /* what the context logged at debug level; under log_lock */
	int master;          /* a pty of our own, or -1 */
	char slave[64];
	char uri[160];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_capture(int level, const char *origin, const char *message, void *userdata)
{
	struct fixture *f = userdata;
	size_t have;

	(void)level;
	pthread_mutex_lock(&f->log_lock);
	have = strlen(f->log_text);
	(void)snprintf(f->log_text + have, sizeof(f->log_text) - have, "%s: %s\n", origin, message);
	pthread_mutex_unlock(&f->log_lock);
}

static int logged(struct fixture *f, const char *text)
{
	int found;

	pthread_mutex_lock(&f->log_lock);
	found = strstr(f->log_text, text) != NULL;
	pthread_mutex_unlock(&f->log_lock);
	return found;
}

static int setup(void **state)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pthread_mutex_init(&f->log_lock, NULL);
	f->master = -1;
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = dirs;
	if (ax_ctx_new(&f->ctx, &opts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	ax_ctx_set_log(f->ctx, AX_LOG_DEBUG, log_capture, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ax_ctx_unref(f->ctx);
	if (f->master >= 0)
		close(f->master);
	pthread_mutex_destroy(&f->log_lock);
	free(f);
	return 0;
}

/* A new pty whose master the test holds; f->uri names its slave, with @query appended. */
static void new_pty(struct fixture *f, const char *query)
{
	f->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(f->master >= 0);
	assert_int_equal(grantpt(f->master), 0);
	assert_int_equal(unlockpt(f->master), 0);
	assert_int_equal(ptsname_r(f->master, f->slave, sizeof(f->slave)), 0);
	(void)snprintf(f->uri, sizeof(f->uri), "serial:%s%s", f->slave, query);
}

static ax_link *open_link(ax_ctx *ctx, const char *uri)
{
	ax_link *link = NULL;

	if (ax_link_open(&link, ctx, uri, NULL) < 0)
		fail_msg("open %s: %s", uri, ax_error_last());
	return link;
}

/* Wait up to @ms for @want bytes on @fd. Returns the count read. */
static size_t read_for(int fd, uint8_t *buf, size_t want, int ms)
{
	double until = now_s() + ms / 1000.0;
	size_t got = 0;

	while (got < want) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int left = (int)((until - now_s()) * 1000);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		r = read(fd, buf + got, want - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/*
 * Write the ack of a read of @address with @value to @fd, as a drive would.
 * Returns 0 or -1 (no cmocka asserts: threads call it).
 */
static int write_ack(int fd, unsigned subnode, unsigned address, uint32_t value)
{
	ax_mcb_frame r = {0};
	uint8_t buf[AX_MCB_MAX_FRAME];
	size_t len = 0;

	r.node = AX_MCB_NODE;
	r.subnode = (uint8_t)subnode;
	r.address = (uint16_t)address;
	r.command = AX_MCB_ACK;
	for (int i = 0; i < 4; i++)
		r.data[i] = (uint8_t)(value >> (8 * i));
	if (ax_mcb_encode(buf, sizeof(buf), &len, &r) < 0)
		return -1;
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

/* axlink-sim --pty, as the README shows it: the URI it prints opens and serves. */
static void test_serial_pty__sim_serves_the_link(void **state)
{
	static const char *const args[] = {"--pty", "--serial", "6200", NULL};
	struct fixture *f = *state;
	uint8_t out[AX_MCB_MAX_PAYLOAD], in[AX_MCB_MAX_PAYLOAD];
	simproc *sim = NULL;
	ax_link *link;
	uint32_t v = 0;
	int32_t pos = 0;
	size_t len = 0;
	char *sw = NULL;

	if (simproc_start(&sim, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim --pty (see stderr)");
	assert_true(strncmp(simproc_uri(sim, 0), "serial:/dev/pts/", 16) == 0);

	link = open_link(f->ctx, simproc_uri(sim, 0));
	/* The debug log says which way the port was opened, and why. */
	assert_true(logged(f, "libserialport does not know '/dev/pts/"));
	assert_true(logged(f, "through termios"));
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, 6200);
	assert_int_equal(ax_link_write_s32(link, 1, REG_POS_SET, -4321), 0);
	assert_int_equal(ax_link_read_s32(link, 1, REG_POS_SET, &pos), 0);
	assert_int_equal(pos, -4321);
	assert_int_equal(ax_link_read_str(link, 0, REG_SW_VERSION, &sw), 0);
	assert_true(strlen(sw) > 0);
	ax_free(sw);
	/* Extended frames: a full payload each way. */
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(ax_link_write(link, 0, REG_USER_DATA, out, sizeof(out)), 0);
	assert_int_equal(ax_link_read(link, 0, REG_USER_DATA, in, sizeof(in), &len), 0);
	assert_int_equal(len, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	ax_link_unref(link);

	/* The port was let go: it opens again. */
	link = open_link(f->ctx, simproc_uri(sim, 0));
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, 6200);
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
}

/* The URI's line settings reach the terminal; what a pty cannot take is refused by name. */
static void test_serial_pty__line_settings(void **state)
{
	static const struct {
		const char *query;
		const char *says;
	} refused[] = {
	        {"?parity=even", "does not support the parity of 115200 8E1"},
	        {"?data_bits=7", "does not support the data bits of 115200 7N1"},
	        /* Not a termios rate; 4097 is also B57600's value, which must not pass. */
	        {"?baud=4097", "does not support the baud rate of 4097 8N1"},
	        {"?baud=250000", "does not support the baud rate of 250000 8N1"},
	};
	struct fixture *f = *state;
	struct termios tio;
	ax_link *link = NULL;

	new_pty(f, "?baud=9600&stop_bits=2");
	link = open_link(f->ctx, f->uri);
	/* A pty's termios is the slave's, seen from the master too. */
	assert_int_equal(tcgetattr(f->master, &tio), 0);
	assert_int_equal(cfgetospeed(&tio), B9600);
	assert_int_equal(cfgetispeed(&tio), B9600);
	assert_true(tio.c_cflag & CSTOPB);
	assert_int_equal(tio.c_cflag & CSIZE, CS8);
	/* Raw: no echo, no line editing, no CR/NL translation. */
	assert_false(tio.c_lflag & (ECHO | ICANON | ISIG));
	assert_false(tio.c_iflag & (ICRNL | IXON));
	assert_false(tio.c_oflag & OPOST);
	ax_link_unref(link);

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char uri[200];
		int err;

		(void)snprintf(uri, sizeof(uri), "serial:%s%s", f->slave, refused[i].query);
		link = NULL;
		err = ax_link_open(&link, f->ctx, uri, NULL);
		if (err != AX_EUNSUPPORTED || !strstr(ax_error_last(), refused[i].says))
			fail_msg("%s: got %d '%s', want AX_EUNSUPPORTED '%s'", uri, err,
			         ax_error_last(), refused[i].says);
		assert_null(link);
	}
	/* A character device that is no terminal is no serial port either. */
	assert_int_equal(ax_link_open(&link, f->ctx, "serial:/dev/null", NULL), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "not a terminal"));
	assert_null(link);
}

/*
 * In a child with a mount namespace of its own: @slave bind-mounted over
 * /dev/ttyS0, which sysfs knows, so that libserialport finds the port but
 * cannot open it (a pty answers ENOTTY to the modem-line ioctls). Returns
 * the exit status: 0 when serial:/dev/ttyS0 served serial number @want
 * through termios, else a code for what failed (on stderr).
 */
static int child_reads_ttys0(const char *slave, uint32_t want)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct fixture f = {.master = -1};
	ax_ctx *ctx = NULL;
	ax_link *link = NULL;
	uint32_t v = 0;
	int rc = 0;

	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(slave, "/dev/ttyS0", "none", MS_BIND, NULL) < 0) {
		fprintf(stderr, "cannot bind-mount %s over /dev/ttyS0 (needs root): %s\n", slave,
		        strerror(errno));
		return 2;
	}
	pthread_mutex_init(&f.log_lock, NULL);
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = dirs;
	if (ax_ctx_new(&ctx, &opts) < 0)
		return 3;
	ax_ctx_set_log(ctx, AX_LOG_DEBUG, log_capture, &f);
	if (ax_link_open(&link, ctx, "serial:/dev/ttyS0", NULL) < 0) {
		fprintf(stderr, "open serial:/dev/ttyS0: %s\n", ax_error_last());
		rc = 4;
	} else if (ax_link_read_u32(link, 0, REG_SERIAL, &v) < 0 || v != want) {
		fprintf(stderr, "read: %s (got %u)\n", ax_error_last(), (unsigned)v);
		rc = 5;
	} else if (!logged(&f, "libserialport cannot open '/dev/ttyS0'") ||
	           !logged(&f, "opened /dev/ttyS0 at 115200 8N1 through termios")) {
		fprintf(stderr, "the debug log does not say termios:\n%s", f.log_text);
		rc = 6;
	}
	ax_link_unref(link);
	ax_ctx_unref(ctx);
	pthread_mutex_destroy(&f.log_lock);
	return rc;
}

/* A pty under a name libserialport knows: it cannot open it, termios can. */
static void test_serial_pty__known_port_without_modem_lines(void **state)
{
	static const char *const args[] = {"--pty", "--serial", "6201", NULL};
	simproc *sim = NULL;
	int status = -1;
	pid_t pid;

	(void)state;
	if (simproc_start(&sim, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim --pty (see stderr)");
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_reads_ttys0(simproc_uri(sim, 0) + strlen("serial:"), 6201));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(simproc_stop(sim), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the child reading serial:/dev/ttyS0 failed (status 0x%x; see stderr)",
		         (unsigned)status);
}

/* Nobody answers: two tries of timeout_ms, then AX_ETIMEDOUT, both requests on the line. */
static void test_serial_pty__silent_pty_times_out(void **state)
{
	struct fixture *f = *state;
	uint8_t got[3 * AX_MCB_FRAME_SIZE];
	ax_mcb_frame req;
	ax_link *link;
	uint32_t v = 7;
	double t0, took;

	new_pty(f, "?timeout_ms=80");
	link = open_link(f->ctx, f->uri);
	t0 = now_s();
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), AX_ETIMEDOUT);
	took = now_s() - t0;
	assert_non_null(strstr(ax_error_last(), "no reply from"));
	assert_int_equal(v, 7);
	/* Within the deadline: 2 x 80 ms, and not much more. */
	if (took < 0.155 || took > 0.160 + 0.4)
		fail_msg("a silent pty took %.0f ms to time out; want 160 ms", took * 1e3);
	/* Both sends reached the line, the same read request each time. */
	assert_int_equal(read_for(f->master, got, sizeof(got), 200), 2 * AX_MCB_FRAME_SIZE);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		        ax_mcb_decode(&req, got + i * AX_MCB_FRAME_SIZE, AX_MCB_FRAME_SIZE), 0);
		assert_int_equal(req.command, AX_MCB_READ);
		assert_int_equal(req.address, REG_SERIAL);
	}
	ax_link_unref(link);
}

struct canceller {
	ax_link *link;
	int delay_ms;
	int result;
};

static void *cancel_later(void *arg)
{
	struct canceller *c = arg;
	struct timespec ts = {0, (long)c->delay_ms * 1000000L};

	nanosleep(&ts, NULL);
	c->result = ax_link_cancel(c->link);
	return NULL;
}

/* A request waiting on a silent pty ends at once when another thread cancels it. */
static void test_serial_pty__cancel(void **state)
{
	struct fixture *f = *state;
	struct canceller c = {NULL, 50, -1};
	pthread_t thread;
	ax_link *link;
	uint32_t v = 0;
	double t0, took;

	new_pty(f, "?timeout_ms=5000");
	link = open_link(f->ctx, f->uri);
	c.link = link;
	t0 = now_s();
	assert_int_equal(pthread_create(&thread, NULL, cancel_later, &c), 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), AX_ECANCELED);
	took = now_s() - t0;
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(c.result, 0);
	if (took > 1.0)
		fail_msg("cancel took %.0f ms to end a 5000 ms wait", took * 1e3);
	ax_link_unref(link);
}

/* A drive on the master *@arg: answer one read of REG_SERIAL with 2222. NULL if none came. */
static void *answer_once(void *arg)
{
	int master = *(int *)arg;
	uint8_t q[AX_MCB_FRAME_SIZE];
	ax_mcb_frame req;

	if (read_for(master, q, sizeof(q), 2000) != sizeof(q) ||
	    ax_mcb_decode(&req, q, sizeof(q)) < 0 || req.command != AX_MCB_READ ||
	    req.address != REG_SERIAL)
		return NULL;
	return write_ack(master, 0, REG_SERIAL, 2222) == 0 ? arg : NULL;
}

/* What sat in the input queue before a request is flushed, not taken for its answer. */
static void test_serial_pty__stale_input_is_flushed(void **state)
{
	struct fixture *f = *state;
	uint8_t got[AX_MCB_FRAME_SIZE];
	void *answered = NULL;
	pthread_t thread;
	ax_link *link;
	uint32_t v = 0;
	int watch, queued = 0;
	double until;

	new_pty(f, "?timeout_ms=200");
	link = open_link(f->ctx, f->uri);
	/* A stale answer for the very register about to be read... */
	assert_int_equal(write_ack(f->master, 0, REG_SERIAL, 1111), 0);
	/* ...in the slave's input queue (pty input arrives through a work queue). */
	watch = open(f->slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(watch >= 0);
	until = now_s() + 2.0;
	while (queued < AX_MCB_FRAME_SIZE && now_s() < until)
		assert_int_equal(ioctl(watch, FIONREAD, &queued), 0);
	assert_int_equal(queued, AX_MCB_FRAME_SIZE);
	close(watch);

	/* The request goes out; a drive answers it with the true value. */
	assert_int_equal(pthread_create(&thread, NULL, answer_once, &f->master), 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(pthread_join(thread, &answered), 0);
	assert_non_null(answered);
	assert_int_equal(v, 2222);
	/* Exactly one request: the stale frame was not an answer, nor resent for. */
	assert_int_equal(read_for(f->master, got, sizeof(got), 50), 0);
	ax_link_unref(link);
}

/* The master goes away: the request ends with AX_EDISCONNECTED, and so do later ones. */
static void test_serial_pty__hang_up(void **state)
{
	struct fixture *f = *state;
	ax_link *link;
	uint32_t v = 0;
	double t0;

	new_pty(f, "?timeout_ms=2000");
	link = open_link(f->ctx, f->uri);
	close(f->master);
	f->master = -1;
	t0 = now_s();
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), AX_EDISCONNECTED);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), AX_EDISCONNECTED);
	assert_non_null(strstr(ax_error_last(), "is gone"));
	ax_link_unref(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_serial_pty__sim_serves_the_link, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_serial_pty__line_settings, setup, teardown),
	        cmocka_unit_test(test_serial_pty__known_port_without_modem_lines),
	        cmocka_unit_test_setup_teardown(test_serial_pty__silent_pty_times_out, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_serial_pty__cancel, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_serial_pty__stale_input_is_flushed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_serial_pty__hang_up, setup, teardown),
	};
	return cmocka_run_group_tests_name("serial_pty", tests, NULL, NULL);
}
