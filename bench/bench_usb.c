/* SPDX-License-Identifier: MIT */
/*
 * Register reads per second over USB (an emulated drive, see
 * tests/support/usbemu.h) next to the same simulated drive over UDP
 * loopback (axlink-sim), each with its own baseline measured in the same
 * run:
 *
 *   usb  raw     a pre-encoded 14-byte MCB read as one bulk OUT and one bulk
 *                IN transfer through plain libusb: the emulation's cost
 *                (umockdev forwards every usbfs ioctl over a socket to a
 *                handler thread), without axlink;
 *   usb  axlink  ax_link_read_u32() through the usb transport plugin;
 *   udp  raw     the same frame with sendto/recv to axlink-sim on 127.0.8.1;
 *   udp  axlink  ax_link_read_u32() through the eth transport plugin.
 *
 * The emulation dominates the USB figures; the point is the plugin's
 * overhead over raw libusb (axlink/raw), next to the same ratio over UDP.
 * Medians of several rounds, rounds interleaved so drift hits all alike.
 * Run it under umockdev-wrapper (bench/run does).
 *
 * usage: bench_usb [READS_PER_ROUND] [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <libusb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "simproc.h"
#include "usbemu.h"

#define SIM_ADDR "127.0.8.1"
#define MAX_ROUNDS 64
#define REG_PRODUCT 0x6E1

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

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_usb: %s: %s\n", what, why);
	exit(1);
}

static int udp_socket_to(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 2};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("udp socket", strerror(errno));
	return fd;
}

/* Seconds per round trip of @frame over connected UDP socket @fd. */
static double udp_raw_round(int fd, const uint8_t *frame, int reads)
{
	uint8_t reply[AX_MCB_MAX_FRAME];
	double t0 = now_s();

	for (int i = 0; i < reads; i++)
		if (send(fd, frame, AX_MCB_FRAME_SIZE, 0) != AX_MCB_FRAME_SIZE ||
		    recv(fd, reply, sizeof(reply), 0) < AX_MCB_FRAME_SIZE)
			die("udp round trip", "no reply from the simulator");
	return (now_s() - t0) / reads;
}

/* Seconds per bulk OUT + bulk IN round trip through plain libusb. */
static double usb_raw_round(libusb_device_handle *h, const uint8_t *frame, int reads)
{
	uint8_t req[AX_MCB_FRAME_SIZE], reply[2048];
	double t0 = now_s();
	int n = 0;

	memcpy(req, frame, sizeof(req));
	for (int i = 0; i < reads; i++) {
		int r = libusb_bulk_transfer(h, 0x02, req, sizeof(req), &n, 1000);

		if (r == 0)
			r = libusb_bulk_transfer(h, 0x81, reply, sizeof(reply), &n, 1000);
		if (r < 0 || n < AX_MCB_FRAME_SIZE)
			die("usb round trip", r < 0 ? libusb_error_name(r) : "short reply");
	}
	return (now_s() - t0) / reads;
}

static double axlink_round(ax_link *link, int reads)
{
	double t0 = now_s();
	uint32_t v;

	for (int i = 0; i < reads; i++)
		if (ax_link_read_u32(link, 0, REG_PRODUCT, &v) < 0)
			die("read", ax_error_last());
	return (now_s() - t0) / reads;
}

/* One row in the layout bench/report.py reads (a table per bus, raw as its baseline). */
static void row(const char *what, double t, double base)
{
	if (base > 0)
		printf("%-12s %12.1f %12.0f %10.2f\n", what, t * 1e6, 1 / t, t / base);
	else
		printf("%-12s %12.1f %12.0f %10s\n", what, t * 1e6, 1 / t, "baseline");
}

static void header(void)
{
	printf("%-12s %12s %12s %10s\n", "what", "us/read", "reads/s", "ratio");
}

int main(int argc, char **argv)
{
	static const char *const sim_args[] = {"--eth", SIM_ADDR, NULL};
	const usbemu_dev_config cfg = {
	        .vid = 0x1209,
	        .pid = 0x0001,
	        .manufacturer = "axlink",
	        .product = "bench drive",
	        .serial = "SN-BENCH",
	        .model = "axs-100",
	        .drive_serial = 1,
	};
	int reads = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 2000;
	int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
	double t_usb_raw[MAX_ROUNDS], t_usb_ax[MAX_ROUNDS], t_udp_raw[MAX_ROUNDS];
	double t_udp_ax[MAX_ROUNDS], usb_raw, usb_ax, udp_raw, udp_ax;
	libusb_context *uctx = NULL;
	libusb_device_handle *h = NULL;
	ax_link *usb_link = NULL, *udp_link = NULL;
	uint8_t frame[AX_MCB_FRAME_SIZE];
	simproc *sim = NULL;
	usbemu *emu = NULL;
	usbemu_dev *dev = NULL;
	ax_ctx *ctx = NULL;
	int udp_fd, rc;

	if (reads < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_usb [READS_PER_ROUND >= 1] [ROUNDS 1..%d]\n",
		        MAX_ROUNDS);
		return 2;
	}
	/* The simulator first: it must not inherit the testbed's environment. */
	if (simproc_start(&sim, sim_args, 1, 5000) < 0)
		return 1;
	if (usbemu_new(&emu) < 0 || usbemu_add(emu, &cfg, &dev) < 0)
		return 1;
	ax_mcb_encode_read(frame, 0, REG_PRODUCT);

	if (ax_ctx_new(&ctx, NULL) < 0 ||
	    ax_link_open(&usb_link, ctx, "usb:?vid=1209&pid=0001", NULL) < 0 ||
	    ax_link_open(&udp_link, ctx, simproc_uri(sim, 0), NULL) < 0)
		die("open", ax_error_last());
	rc = libusb_init(&uctx);
	if (rc == 0) {
		h = libusb_open_device_with_vid_pid(uctx, 0x1209, 0x0001);
		rc = h ? libusb_claim_interface(h, 0) : LIBUSB_ERROR_NOT_FOUND;
	}
	if (rc < 0)
		die("libusb", libusb_error_name(rc));
	udp_fd = udp_socket_to(SIM_ADDR, AX_MCB_UDP_PORT);

	/* Warm up every path, then interleave the rounds. */
	(void)usb_raw_round(h, frame, reads / 10 + 1);
	(void)axlink_round(usb_link, reads / 10 + 1);
	(void)udp_raw_round(udp_fd, frame, reads / 10 + 1);
	(void)axlink_round(udp_link, reads / 10 + 1);
	for (int r = 0; r < rounds; r++) {
		t_usb_raw[r] = usb_raw_round(h, frame, reads);
		t_usb_ax[r] = axlink_round(usb_link, reads);
		t_udp_raw[r] = udp_raw_round(udp_fd, frame, reads);
		t_udp_ax[r] = axlink_round(udp_link, reads);
	}
	usb_raw = median(t_usb_raw, rounds);
	usb_ax = median(t_usb_ax, rounds);
	udp_raw = median(t_udp_raw, rounds);
	udp_ax = median(t_udp_ax, rounds);

	printf("bench_usb: %d rounds x %d reads of 0x6E1, median per round; usb: emulated "
	       "1209:0001 (umockdev), udp: axlink-sim %s\n",
	       rounds, reads, simproc_uri(sim, 0));
	header();
	row("usb-raw", usb_raw, 0);
	row("usb-axlink", usb_ax, usb_raw);
	header();
	row("udp-raw", udp_raw, 0);
	row("udp-axlink", udp_ax, udp_raw);
	printf("side by side through axlink: usb %.0f reads/s, udp %.0f reads/s (the emulation "
	       "dominates usb)\n",
	       1 / usb_ax, 1 / udp_ax);
	printf("plugin overhead over raw: usb %+.1f us/read (x%.2f), udp %+.1f us/read (x%.2f)\n",
	       (usb_ax - usb_raw) * 1e6, usb_ax / usb_raw, (udp_ax - udp_raw) * 1e6,
	       udp_ax / udp_raw);

	close(udp_fd);
	libusb_release_interface(h, 0);
	libusb_close(h);
	libusb_exit(uctx);
	usb_link = ax_link_unref(usb_link);
	udp_link = ax_link_unref(udp_link);
	ctx = ax_ctx_unref(ctx);
	usbemu_free(emu);
	return simproc_stop(sim) == 0 ? 0 : 1;
}
