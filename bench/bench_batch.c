/* SPDX-License-Identifier: MIT */
/*
 * One register of each of 16 simulated drives (issue 21): a batch
 * (axlink/batch.h, one request in flight on every link at once) against
 * the same reads one after the other, measured in the same run:
 *
 *   sequential  ax_link_read_u32() on each of the 16 links in turn: the
 *               baseline, 16 round trips;
 *   batch       one ax_batch_run() of the same 16 reads.
 *
 * Two sets of drives: answering after 1 ms (axlink-sim --delay 1, the
 * turnaround of a drive on a real network, where a round trip is mostly
 * waiting: the goal, batch >= 8x faster), and answering at once on
 * loopback (where a round trip is mostly CPU: goal, batch no slower than
 * sequential). eth has split reads (plugin ABI 1.4), so both batches run
 * on the calling thread with one poll() over all sockets, not on worker
 * threads. Medians of several rounds.
 *
 * usage: bench_batch [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/axlink.h"
#include "simproc.h"

#define DRIVES 16
#define REG_SERIAL 0x6E6
#define ROUNDS_MAX 64

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
	fprintf(stderr, "bench_batch: %s: %s\n", what, ax_error_last());
	exit(1);
}

/* Seconds for @reps passes of one read on each link, one after the other. */
static double sequential(ax_link **links, int reps)
{
	double t0 = now_s();
	uint32_t v;

	for (int r = 0; r < reps; r++)
		for (int i = 0; i < DRIVES; i++)
			if (ax_link_read_u32(links[i], 0, REG_SERIAL, &v) < 0)
				die("sequential read");
	return (now_s() - t0) / reps;
}

/* Seconds for @reps runs of the batch of one read on each link. */
static double batched(ax_batch *b, int reps)
{
	double t0 = now_s();

	for (int r = 0; r < reps; r++) {
		int rc = ax_batch_run(b, 2000, NULL);

		if (rc != 0) {
			fprintf(stderr, "bench_batch: %d reads failed, first: %s\n", rc,
			        ax_batch_error(b, 0) ? ax_batch_error(b, 0) : "?");
			exit(1);
		}
	}
	return (now_s() - t0) / reps;
}

/* One table: 16 drives from @first (axlink-sim @delay_ms); returns batch speed-up. */
static double measure(ax_ctx *ctx, const char *title, const char *first, const char *delay_ms,
                      int rounds, int reps)
{
	const char *args[] = {"--eth", first, "--count", "16", "--delay", delay_ms, NULL};
	double t_seq[ROUNDS_MAX], t_batch[ROUNDS_MAX], seq, bat;
	ax_link *links[DRIVES];
	ax_batch *b = NULL;
	simproc *sim = NULL;

	if (simproc_start(&sim, args, DRIVES, 10000) < 0)
		exit(1);
	if (ax_batch_new(&b, 0) < 0)
		die("ax_batch_new");
	for (int i = 0; i < DRIVES; i++) {
		if (ax_link_open(&links[i], ctx, simproc_uri(sim, (size_t)i), NULL) < 0)
			die("open");
		if (ax_batch_add_read(b, links[i], 0, REG_SERIAL, NULL) < 0)
			die("add");
	}
	(void)sequential(links, 2);
	(void)batched(b, 2);
	for (int r = 0; r < rounds; r++) {
		t_seq[r] = sequential(links, reps);
		t_batch[r] = batched(b, reps);
	}
	seq = median(t_seq, rounds);
	bat = median(t_batch, rounds);

	printf("%s\n", title);
	printf("%-12s %12s %12s %10s\n", "what", "us/16reads", "passes/s", "ratio");
	printf("%-12s %12.1f %12.0f %10s\n", "sequential", seq * 1e6, 1 / seq, "baseline");
	printf("%-12s %12.1f %12.0f %10.3f\n", "batch", bat * 1e6, 1 / bat, bat / seq);

	for (int i = 0; i < DRIVES; i++)
		ax_link_unref(links[i]);
	ax_batch_free(b);
	if (simproc_stop(sim) != 0)
		exit(1);
	return seq / bat;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
	double slow, fast;
	ax_ctx *ctx = NULL;

	if (rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: bench_batch [ROUNDS 1..%d]\n", ROUNDS_MAX);
		return 2;
	}
	if (ax_ctx_new(&ctx, NULL) < 0)
		die("ax_ctx_new");
	printf("bench_batch: one register of each of %d drives, %d rounds, median per pass\n",
	       DRIVES, rounds);
	slow = measure(ctx, "drives answering after 1 ms (axlink-sim --delay 1, 127.0.23.1-16)",
	               "127.0.23.1", "1", rounds, 20);
	printf("\n");
	fast = measure(ctx, "drives answering at once (loopback, 127.0.23.33-48)", "127.0.23.33",
	               "0", rounds, 200);
	printf("\nbatch speed-up, 1 ms drives = %.1fx (goal >= 8x)\n", slow);
	printf("batch speed-up, loopback at once = %.1fx (goal >= 1x)\n", fast);
	ax_ctx_unref(ctx);
	return 0;
}
