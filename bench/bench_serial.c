/* SPDX-License-Identifier: MIT */
/*
 * Register reads through the `serial` transport on an emulated USB-serial
 * port (umockdev, tests/support/serial_rig.c; run under umockdev-wrapper,
 * as bench/run does), served by axlink-sim --tty on the port's pty master.
 *
 * Paced: the simulator holds the line to 115200 baud (--baud), so every
 * read costs 28 bytes x 10 bits on the wire: 411 transactions/s at most.
 * The figure is the plugin's rate next to that limit, and the ratio.
 *
 * Unpaced: a pty moves bytes at memory speed, which leaves the software:
 *   raw-frame  a pre-encoded 14-byte MCB read written with plain write()
 *              and its reply read with poll()/read() on the same port and
 *              simulator: the cost of the simulator, the pty and umockdev;
 *   axlink     ax_link_read_u32() through the plugin and libserialport.
 * Their difference is the per-transaction overhead of axlink and
 * libserialport. Medians of several rounds, rounds of the two interleaved.
 *
 * usage: bench_serial [READS_PER_ROUND] [ROUNDS]
 *        (paced rounds make a fifth as many reads: they are 50x slower)
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "serial_rig.h"
#include "simproc.h"

#define BAUD 115200
#define REG_SERIAL 0x6E6
#define MAX_ROUNDS 64

static const struct serial_rig_port rig_port = {
        "ttyUSB0", 0x0403, 0x6001, "BENCH", "Acme", "SimServo RS485",
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_serial: %s: %s\n", what, ax_error_last());
	exit(1);
}

static simproc *start_sim(const char *fd_path, const char *baud)
{
	const char *args[] = {"--tty", fd_path, baud ? "--baud" : NULL, baud, NULL};
	simproc *p = NULL;

	if (simproc_start(&p, args, 1, 10000) < 0) {
		fprintf(stderr, "bench_serial: cannot start axlink-sim --tty\n");
		exit(1);
	}
	return p;
}

static ax_link *open_link(ax_ctx *ctx)
{
	ax_link *link = NULL;
	char uri[64];

	(void)snprintf(uri, sizeof(uri), "serial:/dev/ttyUSB0?baud=%d", BAUD);
	if (ax_link_open(&link, ctx, uri, NULL) < 0)
		die(uri);
	return link;
}

/* Seconds per read through the plugin; each read's own time into @each (if not NULL). */
static double time_axlink(ax_link *link, int reads, double *each)
{
	double t0 = now_s(), t = t0;
	uint32_t v;

	for (int i = 0; i < reads; i++) {
		if (ax_link_read_u32(link, 0, REG_SERIAL, &v) < 0)
			die("read");
		if (each) {
			double t1 = now_s();

			each[i] = t1 - t;
			t = t1;
		}
	}
	return (now_s() - t0) / reads;
}

static int read_exactly(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 1000) <= 0)
			return -1;
		r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Seconds per read with plain write()/read() of pre-encoded frames. */
static double time_raw(int reads)
{
	uint8_t req[AX_MCB_FRAME_SIZE], rep[AX_MCB_FRAME_SIZE];
	struct termios tio;
	double t0;
	int fd = open("/dev/ttyUSB0", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 || tcgetattr(fd, &tio) < 0) {
		fprintf(stderr, "bench_serial: open /dev/ttyUSB0: %s\n", strerror(errno));
		exit(1);
	}
	cfmakeraw(&tio);
	(void)tcsetattr(fd, TCSANOW, &tio);
	(void)tcflush(fd, TCIOFLUSH);
	if (ax_mcb_encode_read(req, 0, REG_SERIAL) < 0)
		die("encode");
	t0 = now_s();
	for (int i = 0; i < reads; i++) {
		if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req) ||
		    read_exactly(fd, rep, sizeof(rep)) < 0) {
			fprintf(stderr, "bench_serial: raw frame %d: no reply\n", i);
			exit(1);
		}
	}
	t0 = (now_s() - t0) / reads;
	close(fd);
	return t0;
}

int main(int argc, char **argv)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	double paced[MAX_ROUNDS], raw[MAX_ROUNDS], ax[MAX_ROUNDS];
	double limit, pace, pace_p50, r, a, *each;
	int reads = 2000, rounds = 5, paced_reads;
	char fd_path[32], baud[16];
	serial_rig *rig = NULL;
	ax_ctx *ctx = NULL;
	ax_link *link;
	simproc *sim;

	if (argc > 1)
		reads = (int)strtol(argv[1], NULL, 10);
	if (argc > 2)
		rounds = (int)strtol(argv[2], NULL, 10);
	if (reads < 5 || rounds < 1 || rounds > MAX_ROUNDS || argc > 3) {
		fprintf(stderr, "usage: bench_serial [READS_PER_ROUND >= 5] [ROUNDS 1..%d]\n",
		        MAX_ROUNDS);
		return 2;
	}
	paced_reads = reads / 5;
	each = calloc((size_t)rounds * (size_t)paced_reads, sizeof(*each));
	if (!each)
		return 1;

	if (serial_rig_new(&rig, &rig_port, 1) < 0)
		return 1;
	/* The simulator inherits the pty master as /dev/fd/N. */
	if (fcntl(serial_rig_master(rig, 0), F_SETFD, 0) < 0)
		return 1;
	(void)snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", serial_rig_master(rig, 0));
	(void)snprintf(baud, sizeof(baud), "%d", BAUD);
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = dirs;
	if (ax_ctx_new(&ctx, &opts) < 0)
		die("context");

	/* Paced at the line rate. */
	sim = start_sim(fd_path, baud);
	link = open_link(ctx);
	(void)time_axlink(link, 20, NULL); /* warm-up */
	for (int i = 0; i < rounds; i++)
		paced[i] = 1.0 / time_axlink(link, paced_reads, each + (size_t)i * paced_reads);
	ax_link_unref(link);
	if (simproc_stop(sim) != 0)
		fprintf(stderr, "bench_serial: the paced simulator did not stop cleanly\n");

	/* Unpaced: the software alone. */
	sim = start_sim(fd_path, NULL);
	(void)time_raw(200);
	for (int i = 0; i < rounds; i++) {
		raw[i] = time_raw(reads);
		link = open_link(ctx);
		(void)time_axlink(link, 20, NULL);
		ax[i] = time_axlink(link, reads, NULL);
		ax_link_unref(link);
	}
	if (simproc_stop(sim) != 0)
		fprintf(stderr, "bench_serial: the unpaced simulator did not stop cleanly\n");

	limit = BAUD / (28.0 * 10.0);
	pace = median(paced, rounds);
	pace_p50 = 1.0 / median(each, rounds * paced_reads);
	r = median(raw, rounds);
	a = median(ax, rounds);

	printf("bench_serial: %d rounds x %d paced / %d unpaced reads, median per round, "
	       "serial:/dev/ttyUSB0 (umockdev) -> axlink-sim --tty\n",
	       rounds, paced_reads, reads);
	printf("%-12s %12s %12s %10s\n", "what", "tx/s", "us/tx", "ratio");
	printf("%-12s %12.1f %12.1f %10s\n", "line-limit", limit, 1e6 / limit, "baseline");
	printf("%-12s %12.1f %12.1f %10.3f\n", "paced", pace, 1e6 / pace, pace / limit);
	printf("%-12s %12.1f %12.1f %10.3f\n", "paced-p50", pace_p50, 1e6 / pace_p50,
	       pace_p50 / limit);
	printf("paced / line-limit = %.3f (goal >= 0.90): 28 bytes x 10 bits at %d baud per "
	       "transaction; paced-p50: one over the median single transaction, which "
	       "stalls from other load do not move\n",
	       pace / limit, BAUD);
	printf("\n");
	printf("%-12s %12s %12s %10s\n", "what", "us/tx", "tx/s", "ratio");
	printf("%-12s %12.2f %12.0f %10s\n", "raw-frame", r * 1e6, 1 / r, "baseline");
	printf("%-12s %12.2f %12.0f %10.2f\n", "axlink", a * 1e6, 1 / a, a / r);
	printf("axlink - raw-frame = %.2f us per transaction (software overhead of the plugin, "
	       "libserialport and the library)\n",
	       (a - r) * 1e6);

	free(each);
	ax_ctx_unref(ctx);
	serial_rig_free(rig);
	return 0;
}
