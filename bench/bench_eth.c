/* SPDX-License-Identifier: MIT */
/*
 * Register reads per second over UDP loopback, against baselines measured
 * in the same run on the same machine:
 *
 *   udp-echo   a 14-byte datagram to an in-process echo thread and back:
 *              the floor any UDP request/reply can reach here;
 *   raw-frame  a pre-encoded 14-byte MCB read sent with plain sendto/recv
 *              to the same simulator the library talks to: the cost of the
 *              simulator and the kernel, without axlink;
 *   axlink     ax_link_read_u32() through the eth transport plugin.
 *
 * Prints one row per measurement and the ratios axlink/raw-frame and
 * axlink/udp-echo (time per read; 1.00 = no overhead), and the throughput
 * ratio of issue 21's goal (axlink reads/s over raw-frame reads/s >= 0.95). Medians of several
 * rounds, so one busy moment does not decide the figure.
 *
 * usage: bench_eth [READS_PER_ROUND] [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "simproc.h"

#define SIM_ADDR "127.0.9.1"
#define ECHO_ADDR "127.0.9.2"
#define ECHO_PORT 41061

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

static int udp_socket_to(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 2};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		perror("bench: udp socket");
		exit(1);
	}
	return fd;
}

struct echo {
	int fd;
	volatile int stop;
};

static void *echo_main(void *arg)
{
	struct echo *e = arg;
	uint8_t buf[64];
	struct sockaddr_in from;
	socklen_t fl;

	while (!e->stop) {
		ssize_t n;

		fl = sizeof(from);
		n = recvfrom(e->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n > 0)
			(void)sendto(e->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

/* Round trips of @frame over connected socket @fd; seconds per round trip. */
static double raw_round(int fd, const uint8_t *frame, int reads)
{
	uint8_t reply[AX_MCB_MAX_FRAME];
	double t0 = now_s();

	for (int i = 0; i < reads; i++) {
		if (send(fd, frame, AX_MCB_FRAME_SIZE, 0) != AX_MCB_FRAME_SIZE ||
		    recv(fd, reply, sizeof(reply), 0) < AX_MCB_FRAME_SIZE) {
			perror("bench: raw round trip");
			exit(1);
		}
	}
	return (now_s() - t0) / reads;
}

static double axlink_round(ax_link *link, int reads)
{
	double t0 = now_s();
	uint32_t v;

	for (int i = 0; i < reads; i++) {
		if (ax_link_read_u32(link, 0, 0x6E1, &v) < 0) {
			fprintf(stderr, "bench: read: %s\n", ax_error_last());
			exit(1);
		}
	}
	return (now_s() - t0) / reads;
}

int main(int argc, char **argv)
{
	int reads = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20000;
	int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
	const char *sim_args[] = {"--eth", SIM_ADDR, NULL};
	double t_echo[64], t_raw[64], t_ax[64], echo, raw, ax;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(ECHO_PORT)};
	struct timeval tv = {.tv_usec = 200000};
	struct echo e = {0};
	uint8_t frame[AX_MCB_FRAME_SIZE];
	pthread_t echo_thread;
	simproc *sim = NULL;
	ax_ctx *ctx = NULL;
	ax_link *link = NULL;
	int echo_fd, raw_fd;
	char uri[64];

	if (reads < 1 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: bench_eth [READS_PER_ROUND >= 1] [ROUNDS 1..64]\n");
		return 2;
	}
	/* The echo baseline: a thread with its own socket, replying at once. */
	e.fd = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, ECHO_ADDR, &sa.sin_addr);
	if (e.fd < 0 || bind(e.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(e.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		perror("bench: echo socket");
		return 1;
	}
	pthread_create(&echo_thread, NULL, echo_main, &e);
	echo_fd = udp_socket_to(ECHO_ADDR, ECHO_PORT);

	if (simproc_start(&sim, sim_args, 1, 5000) < 0)
		return 1;
	raw_fd = udp_socket_to(SIM_ADDR, AX_MCB_UDP_PORT);
	ax_mcb_encode_read(frame, 0, 0x6E1);
	if (ax_ctx_new(&ctx, NULL) < 0 || ax_link_open(&link, ctx, simproc_uri(sim, 0), NULL) < 0) {
		fprintf(stderr, "bench: %s\n", ax_error_last());
		return 1;
	}
	snprintf(uri, sizeof(uri), "%s", simproc_uri(sim, 0));

	/* Warm up every path, then interleave the rounds so drift hits all alike. */
	(void)raw_round(echo_fd, frame, 500);
	(void)raw_round(raw_fd, frame, 500);
	(void)axlink_round(link, 500);
	for (int r = 0; r < rounds; r++) {
		t_echo[r] = raw_round(echo_fd, frame, reads);
		t_raw[r] = raw_round(raw_fd, frame, reads);
		t_ax[r] = axlink_round(link, reads);
	}
	echo = median(t_echo, rounds);
	raw = median(t_raw, rounds);
	ax = median(t_ax, rounds);

	printf("bench_eth: %d rounds x %d reads, median per round, %s\n", rounds, reads, uri);
	printf("%-10s %12s %12s %10s\n", "what", "us/read", "reads/s", "ratio");
	printf("%-10s %12.2f %12.0f %10s\n", "udp-echo", echo * 1e6, 1 / echo, "baseline");
	printf("%-10s %12.2f %12.0f %10.2f\n", "raw-frame", raw * 1e6, 1 / raw, raw / echo);
	printf("%-10s %12.2f %12.0f %10.2f\n", "axlink", ax * 1e6, 1 / ax, ax / echo);
	printf("axlink / raw-frame = %.2f (library overhead over the same simulator)\n", ax / raw);
	printf("axlink throughput / raw-frame throughput = %.2f (goal >= 0.95)\n", raw / ax);

	link = ax_link_unref(link);
	ctx = ax_ctx_unref(ctx);
	close(raw_fd);
	close(echo_fd);
	e.stop = 1;
	pthread_join(echo_thread, NULL);
	close(e.fd);
	return simproc_stop(sim) == 0 ? 0 : 1;
}
