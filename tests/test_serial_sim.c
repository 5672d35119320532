/* SPDX-License-Identifier: MIT */
/*
 * axlink-sim on serial lines (--tty, --pty, --baud), through the real tool.
 *
 * --tty: the simulator takes over the pty master behind an emulated
 * /dev/ttyUSB0 (tests/support/serial_rig.c, under umockdev-wrapper),
 * inherited as /dev/fd/N, and the `serial` transport talks to it through
 * libserialport: identity, typed and extended transfers, a scan, the
 * simulator's fault injection acting on the line, and the line rate that
 * --baud holds it to.
 * --pty: the simulator makes its own pty; this test speaks MCB on the
 * slave with plain read()/write(), noise included (the transport on it,
 * through termios, is test_serial_pty.c's).
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
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "serial_rig.h"
#include "simdrive.h"
#include "simproc.h"
#include "support/timing.h"

#define REG_VENDOR 0x6E0
#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6
#define REG_POS_SET 0x020
#define REG_USER_DATA 0x6F0

#define SIM_START_MS 10000

extern char **environ;

static const struct serial_rig_port rig_port = {
        "ttyUSB0", 0x0403, 0x6001, "SIMTTY", "Acme", "SimServo RS485",
};

struct fixture {
	serial_rig *rig;
	ax_ctx *ctx;
	char fd_path[32];    /* /dev/fd/N of the master, for --tty */
	char sw_version[64]; /* what the simulated model reports */
};

static const simdrive_codec codec = {ax_mcb_encode, ax_mcb_decode};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int group_setup(void **state)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct fixture *f = calloc(1, sizeof(*f));
	int master;

	assert_non_null(f);
	*state = f;
	if (serial_rig_new(&f->rig, &rig_port, 1) < 0)
		fail_msg("cannot set up the emulated serial port (see stderr)");
	master = serial_rig_master(f->rig, 0);
	/* The simulator inherits the master: it must survive exec. */
	assert_int_equal(fcntl(master, F_SETFD, 0), 0);
	(void)snprintf(f->fd_path, sizeof(f->fd_path), "/dev/fd/%d", master);
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = dirs;
	if (ax_ctx_new(&f->ctx, &opts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	{
		/* The simulator serves the same simulated drive as this one. */
		simdrive *d = NULL;
		uint32_t code = 0;
		size_t len = 0;

		assert_int_equal(simdrive_new(&d, &codec, "axs-100", 1), 0);
		assert_int_equal(simdrive_read(d, 0, REG_SW_VERSION, (uint8_t *)f->sw_version,
		                               sizeof(f->sw_version) - 1, &len, &code),
		                 0);
		f->sw_version[len] = '\0';
		simdrive_free(d);
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	ax_ctx_unref(f->ctx);
	serial_rig_free(f->rig);
	free(f);
	return 0;
}

/* axlink-sim --tty /dev/fd/N [extra...]: serving on the emulated port's master. */
static simproc *start_tty_sim(struct fixture *f, const char *const *extra)
{
	const char *args[16] = {"--tty", f->fd_path};
	size_t n = 2;
	simproc *p = NULL;

	for (size_t i = 0; extra && extra[i] && n + 1 < sizeof(args) / sizeof(args[0]); i++)
		args[n++] = extra[i];
	args[n] = NULL;
	if (simproc_start(&p, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim --tty (see stderr)");
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

struct found {
	int n, ok;
	char uri[128];
	uint32_t serial;
};

static int on_found(const ax_scan_result *r, void *userdata)
{
	struct found *fd = userdata;

	fd->n++;
	if (r->access == AX_ACCESS_OK) {
		fd->ok++;
		fd->serial = r->serial;
		(void)snprintf(fd->uri, sizeof(fd->uri), "%s", r->uri);
	}
	return 0;
}

static void test_serial_sim__tty_serves_the_plugin(void **state)
{
	static const char *const extra[] = {"--serial", "6000", NULL};
	struct fixture *f = *state;
	simproc *sim = start_tty_sim(f, extra);
	uint8_t out[AX_MCB_MAX_PAYLOAD], in[AX_MCB_MAX_PAYLOAD];
	struct found fd = {0, 0, "", 0};
	ax_link *link;
	uint32_t v = 0;
	int32_t pos = 0;
	size_t len = 0;
	char *sw = NULL;
	char want[64];

	/* It names the line's other end: the slave that /dev/ttyUSB0 stands for. */
	(void)snprintf(want, sizeof(want), "serial:%s", serial_rig_slave(f->rig, 0));
	assert_string_equal(simproc_uri(sim, 0), want);

	link = open_link(f->ctx, "serial:/dev/ttyUSB0", 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, 6000);
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), 0);
	assert_int_equal(v, SIMDRIVE_VENDOR_ID);
	assert_int_equal(ax_link_write_s32(link, 1, REG_POS_SET, -98765), 0);
	assert_int_equal(ax_link_read_s32(link, 1, REG_POS_SET, &pos), 0);
	assert_int_equal(pos, -98765);
	assert_int_equal(ax_link_read_str(link, 0, REG_SW_VERSION, &sw), 0);
	assert_string_equal(sw, f->sw_version);
	ax_free(sw);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(255 - i);
	assert_int_equal(ax_link_write(link, 0, REG_USER_DATA, out, sizeof(out)), 0);
	assert_int_equal(ax_link_read(link, 0, REG_USER_DATA, in, sizeof(in), &len), 0);
	assert_int_equal(len, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	ax_link_unref(link);

	/* Discovery finds it with its identity. */
	assert_int_equal(ax_scan(f->ctx, "serial:", 2000, on_found, &fd), 1);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.uri, "serial:/dev/ttyUSB0");
	assert_int_equal(fd.serial, 6000);

	assert_int_equal(simproc_stop(sim), 0);
}

/* The simulator's fault injection acts on the serial line as on the others. */
static void test_serial_sim__faults_on_the_line(void **state)
{
	static const char *const drop[] = {"--drop-first", "1", NULL};
	static const char *const corrupt[] = {"--corrupt", "100", NULL};
	struct fixture *f = *state;
	simproc *sim;
	ax_link *link;
	uint32_t v = 0;

	/* The first request is lost: the resend gets the answer. */
	sim = start_tty_sim(f, drop);
	link = open_link(f->ctx, "serial:/dev/ttyUSB0?timeout_ms=100", 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), 0);
	assert_int_equal(v, SIMDRIVE_VENDOR_ID);
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);

	/* Every reply corrupted: a CRC error naming the line settings. */
	sim = start_tty_sim(f, corrupt);
	link = open_link(f->ctx, "serial:/dev/ttyUSB0?timeout_ms=500", 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_VENDOR, &v), AX_ECRC);
	assert_non_null(strstr(ax_error_last(), "115200 8N1"));
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
}

/* Median seconds per register read over @n reads. */
static double time_reads(ax_link *link, uint32_t address, int n)
{
	double t[64];
	uint8_t buf[AX_MCB_MAX_PAYLOAD];

	assert_true(n > 0 && n <= 64);
	for (int i = 0; i < n; i++) {
		size_t len = 0;
		double t0 = now_s();

		assert_int_equal(ax_link_read(link, 0, address, buf, sizeof(buf), &len), 0);
		t[i] = now_s() - t0;
	}
	/* Insertion sort: n is tiny. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return t[n / 2];
}

/*
 * --baud holds the line to its rate: a 28-byte transaction takes 28 byte
 * times, not less. What the pacing adds is measured against the same reads
 * from an unpaced simulator, so the overhead a loaded machine or valgrind
 * adds to every request (the same paced or not) cancels out: the pacing
 * must add about the wire time, and without --baud nothing.
 */
static void check_pacing(const char *what, double paced, double unpaced, double wire)
{
	/* What a busy scheduler may add to one median, beyond the common overhead. */
	double slack = (double)test_ms(5) / 1e3;

	if (paced < wire * 0.97)
		fail_msg("%s took %.2f ms; the line needs %.2f ms", what, paced * 1e3, wire * 1e3);
	if (paced - unpaced < wire * 0.8 || paced - unpaced > wire * 1.5 + slack)
		fail_msg("%s took %.2f ms paced, %.2f ms unpaced; the line needs %.2f ms", what,
		         paced * 1e3, unpaced * 1e3, wire * 1e3);
}

static void test_serial_sim__baud_paces_the_line(void **state)
{
	static const char *const paced[] = {"--baud", "9600", NULL};
	struct fixture *f = *state;
	simproc *sim = start_tty_sim(f, NULL);
	ax_link *link = open_link(f->ctx, "serial:/dev/ttyUSB0", 1000);
	double byte_s = 10.0 / 9600.0, plain0, ext0, plain, ext, ext_bytes;

	plain0 = time_reads(link, REG_SERIAL, 9);
	ext0 = time_reads(link, REG_SW_VERSION, 5);
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);

	sim = start_tty_sim(f, paced);
	link = open_link(f->ctx, "serial:/dev/ttyUSB0?baud=9600", 1000);
	plain = time_reads(link, REG_SERIAL, 9);
	check_pacing("a 14+14-byte read", plain, plain0, 28 * byte_s);
	/* An extended reply carries its payload too. */
	ext = time_reads(link, REG_SW_VERSION, 5);
	ext_bytes = 28.0 + (double)strlen(f->sw_version);
	check_pacing("an extended read", ext, ext0, ext_bytes * byte_s);
	ax_link_unref(link);
	assert_int_equal(simproc_stop(sim), 0);
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

static int open_raw(const char *path)
{
	struct termios tio;
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_int_equal(tcgetattr(fd, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(fd, TCSANOW, &tio), 0);
	return fd;
}

/* --pty: a new pty, its slave named on stdout; frames after noise are answered. */
static void test_serial_sim__pty(void **state)
{
	static const char *const args[] = {"--pty", "--serial", "6100", NULL};
	static const uint8_t noise[] = {0x00, 0xFF, 0xA1, 0x00, 0x12};
	simproc *sim = NULL;
	uint8_t req[AX_MCB_FRAME_SIZE], rep[AX_MCB_FRAME_SIZE];
	ax_mcb_frame frame;
	const char *uri;
	int fd;

	(void)state;
	if (simproc_start(&sim, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim --pty (see stderr)");
	uri = simproc_uri(sim, 0);
	assert_non_null(uri);
	assert_true(strncmp(uri, "serial:/dev/pts/", 16) == 0);
	fd = open_raw(uri + strlen("serial:"));

	assert_int_equal(ax_mcb_encode_read(req, 0, REG_SERIAL), 0);
	assert_int_equal(write(fd, noise, sizeof(noise)), (ssize_t)sizeof(noise));
	assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
	assert_int_equal(read_for(fd, rep, sizeof(rep), 2000), sizeof(rep));
	assert_int_equal(ax_mcb_decode(&frame, rep, sizeof(rep)), 0);
	assert_int_equal(ax_mcb_check_reply(&frame, 0, REG_SERIAL), 0);
	assert_int_equal(frame.data[0] | frame.data[1] << 8, 6100);
	/* Nothing else came: the noise was dropped, not answered. */
	assert_int_equal(read_for(fd, rep, 1, 100), 0);

	/* The line outlives a client: closing and reopening the slave goes on working. */
	close(fd);
	fd = open_raw(uri + strlen("serial:"));
	assert_int_equal(write(fd, req, sizeof(req)), (ssize_t)sizeof(req));
	assert_int_equal(read_for(fd, rep, sizeof(rep), 2000), sizeof(rep));
	assert_int_equal(ax_mcb_decode(&frame, rep, sizeof(rep)), 0);
	close(fd);
	assert_int_equal(simproc_stop(sim), 0);
}

/* Run axlink-sim with @args to completion; returns its exit status (-1 if it did not exit). */
static int run_sim(const char *const *args)
{
	char *argv[16];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0, n = 0;

	argv[n++] = (char *)(uintptr_t)AXLINK_SIM_PATH;
	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = (char *)(uintptr_t)args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

struct usage_case {
	const char *name;
	const char *args[6];
	int want;
};

static void test_serial_sim__bad_options(void **state)
{
	static const struct usage_case cases[] = {
	        {"baud without a line", {"--eth", "127.0.12.1", "--baud", "9600", NULL}, 2},
	        {"baud too low", {"--pty", "--baud", "10", NULL}, 2},
	        {"two lines", {"--pty", "--tty", "/dev/ptmx", NULL}, 2},
	        {"missing terminal", {"--tty", "/nonexistent/tty", NULL}, 1},
	        {"not a terminal", {"--tty", "/dev/null", NULL}, 1},
	        {"descriptor not open", {"--tty", "/dev/fd/999", NULL}, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = run_sim(cases[i].args);

		if (rc != cases[i].want)
			fail_msg("%s: exit status %d, want %d", cases[i].name, rc, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_serial_sim__tty_serves_the_plugin),
	        cmocka_unit_test(test_serial_sim__faults_on_the_line),
	        cmocka_unit_test(test_serial_sim__baud_paces_the_line),
	        cmocka_unit_test(test_serial_sim__pty),
	        cmocka_unit_test(test_serial_sim__bad_options),
	};
	return cmocka_run_group_tests_name("serial_sim", tests, group_setup, group_teardown);
}
