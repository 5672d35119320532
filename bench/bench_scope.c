/* SPDX-License-Identifier: MIT */
/*
 * Drive-side capture (ax_scope) against the host poller on the same
 * simulated drive (axlink-sim over UDP loopback on 127.0.19.30), 2 channels
 * (CL_POS_FBK_VALUE, CL_VEL_FBK_VALUE):
 *
 *   poller-Nus  the poller at a period of N us for RUN_S seconds: samples
 *               per second per channel it delivered (lost ones not
 *               counted), and bytes on the wire per sample (a request and
 *               a reply of 14 bytes per channel): the baseline;
 *   scope-50us  back-to-back captures of the drive's whole buffer at its
 *               base period (arm, wait, fetch) for RUN_S seconds: samples
 *               per second per channel end to end, and bytes on the wire
 *               per sample (the fetch's frames, headers included).
 *
 * usage: bench_scope [RUN_S] (default 1)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/axlink.h"
#include "simproc.h"

#define N_CH 2
#define MCB_FRAME 14 /* bytes of a plain MCB frame */

static const char *const channels[N_CH] = {"CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static int fail(void)
{
	fprintf(stderr, "bench: %s\n", ax_error_last());
	return -1;
}

/* Samples per second per channel the poller delivered at @period_us. */
static int bench_poller(ax_drive *d, uint32_t period_us, double run_s, double *rate)
{
	ax_poller *p = NULL;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	double t[256], v[256 * N_CH];
	uint64_t got = 0;
	double t0;
	int n;

	if (ax_poller_new(&p, period_us, 1u << 16) < 0)
		return fail();
	for (int c = 0; c < N_CH; c++)
		if (ax_poller_add(p, d, channels[c], 1) < 0)
			goto fail;
	if (ax_poller_start(p) < 0)
		goto fail;
	t0 = now_s();
	while (now_s() - t0 < run_s) {
		sleep_s(0.02);
		while ((n = ax_poller_read(p, t, v, 256)) > 0)
			got += (uint64_t)n;
	}
	(void)ax_poller_stop(p);
	while ((n = ax_poller_read(p, t, v, 256)) > 0)
		got += (uint64_t)n;
	if (ax_poller_stats_get(p, &st) < 0)
		goto fail;
	*rate = (double)(st.samples - st.lost) / st.elapsed_s;
	(void)got;
	ax_poller_free(p);
	return 0;
fail:
	ax_poller_free(p);
	return fail();
}

/* Samples per second per channel of back-to-back whole-buffer captures; wire bytes per sample. */
static int bench_capture(ax_drive *d, double run_s, double *rate, double *bytes)
{
	ax_scope *s = NULL;
	uint64_t samples = 0, wire = 0;
	double t0, el;
	int n;

	if (ax_scope_new(&s, d) < 0)
		return fail();
	for (int c = 0; c < N_CH; c++)
		if (ax_scope_add_channel(s, channels[c], 1) < 0)
			goto fail;
	/* The whole buffer: MON_MAX_SIZE bytes of 8-byte samples. */
	if (ax_scope_set_samples(s, 2048, 0) < 0)
		goto fail;
	t0 = now_s();
	do {
		n = ax_scope_capture(s, 5000, NULL);
		if (n < 0)
			goto fail;
		samples += (uint64_t)n;
		wire += ax_scope_wire_bytes(s);
	} while (now_s() - t0 < run_s);
	el = now_s() - t0;
	(void)ax_scope_disable(s);
	*rate = (double)samples / el;
	*bytes = (double)wire / (double)samples;
	ax_scope_unref(s);
	return 0;
fail:
	ax_scope_unref(s);
	return fail();
}

int main(int argc, char **argv)
{
	static const char *const args[] = {"--eth", "127.0.19.30", "--serial", "1930", NULL};
	static const uint32_t periods[] = {1000, 500, 200};
	double run_s = argc > 1 ? atof(argv[1]) : 1.0;
	double best = 0, rate = 0, bytes = 0;
	ax_drive_options o = AX_DRIVE_OPTIONS_INIT;
	simproc *sim = NULL;
	ax_ctx *ctx = NULL;
	ax_drive *d = NULL;
	int rc = 1;

	if (!(run_s >= 0.1 && run_s <= 60)) {
		fprintf(stderr, "usage: bench_scope [RUN_S 0.1..60]\n");
		return 2;
	}
	if (simproc_start(&sim, args, 1, 5000) < 0)
		return 1;
	o.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	if (ax_ctx_new(&ctx, NULL) < 0 || ax_drive_open(&d, ctx, simproc_uri(sim, 0), &o) < 0) {
		(void)fail();
		goto out;
	}
	printf("bench_scope: 2 channels, drive-side capture against the host poller (%s, %.1f s "
	       "each)\n",
	       simproc_uri(sim, 0), run_s);
	{
		size_t np = sizeof(periods) / sizeof(periods[0]), bi = 0;
		double rates[sizeof(periods) / sizeof(periods[0])];

		for (size_t i = 0; i < np; i++) {
			if (bench_poller(d, periods[i], run_s, &rates[i]) < 0)
				goto out;
			if (rates[i] > best) {
				best = rates[i];
				bi = i;
			}
		}
		if (bench_capture(d, run_s, &rate, &bytes) < 0)
			goto out;
		printf("%-12s %14s %14s %10s\n", "what", "samples/s/ch", "bytes/sample", "ratio");
		for (size_t i = 0; i < np; i++) {
			char what[32], ratio[32];

			(void)snprintf(what, sizeof(what), "poller-%uus", periods[i]);
			if (i == bi)
				(void)snprintf(ratio, sizeof(ratio), "baseline");
			else
				(void)snprintf(ratio, sizeof(ratio), "%.2f", rates[i] / best);
			printf("%-12s %14.0f %14d %10s\n", what, rates[i], N_CH * 2 * MCB_FRAME,
			       ratio);
		}
	}
	printf("%-12s %14.0f %14.2f %10.2f\n", "scope-50us", rate, bytes, rate / best);
	printf("scope / best poller = %.1f (the drive samples 20000/s/ch; wire bytes per sample "
	       "%.2f vs %d)\n",
	       rate / best, bytes, N_CH * 2 * MCB_FRAME);
	rc = 0;
out:
	ax_drive_unref(d);
	ax_ctx_unref(ctx);
	if (simproc_stop(sim) != 0)
		rc = 1;
	return rc;
}
