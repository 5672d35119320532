/* SPDX-License-Identifier: MIT */
/*
 * The poller with 4 channels, in process (virtual:) and over UDP loopback
 * (axlink-sim on 127.0.11.30), against a baseline measured in the same run:
 *
 *   4-reads   the four ax_link_read_reg() calls of one sample back to back,
 *             median over many: the floor of any period on that transport;
 *   poll-Nus  the poller at a period of N us for TRY_MS each, from 2 ms
 *             down: the achieved period and the share of lost samples;
 *             the smallest period under 1% lost is named as the fastest
 *             sustained one (a busy machine's wake-up delays count as lost);
 *   at 1 ms   lost samples in RUN_1MS_S seconds at a 1 ms period.
 *
 * usage: bench_poller [TRY_MS] (default 500)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/axlink.h"
#include "simproc.h"

#define RUN_1MS_S 2.0
#define N_CH 4

static const char *const channels[N_CH] = {
        "CL_POS_FBK_VALUE",
        "CL_VEL_FBK_VALUE",
        "DRV_STATE_STATUS",
        "DRV_ID_SERIAL_NUMBER",
};

/* Periods tried, in microseconds, slowest first. */
static const uint32_t periods_us[] = {
        2000, 1500, 1000, 750, 500, 400, 300, 250, 200, 150, 120, 100,
};

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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median time of one round of the four reads. */
static double four_reads(ax_drive *d, int rounds)
{
	const ax_reg *regs[N_CH];
	uint8_t buf[AX_VALUE_MAX + 1];
	double *t = calloc((size_t)rounds, sizeof(double)), m;
	size_t len;

	if (!t)
		return -1;
	for (int c = 0; c < N_CH; c++)
		if (ax_drive_find(d, channels[c], 1, &regs[c]) < 0)
			goto fail;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_s();

		for (int c = 0; c < N_CH; c++)
			if (ax_link_read_reg(ax_drive_link(d), regs[c], buf, sizeof(buf), &len) < 0)
				goto fail;
		t[r] = now_s() - t0;
	}
	qsort(t, (size_t)rounds, sizeof(double), cmp_double);
	m = t[rounds / 2];
	free(t);
	return m;
fail:
	fprintf(stderr, "bench: %s\n", ax_error_last());
	free(t);
	return -1;
}

/* Run the poller at @period_us for @secs; 0, or -1 on an error. */
static int run_poller(ax_drive *d, uint32_t period_us, double secs, ax_poller_stats *st)
{
	double t[1024], v[1024 * N_CH], end;
	ax_poller *p = NULL;

	if (ax_poller_new(&p, period_us, 1 << 16) < 0)
		goto fail;
	for (int c = 0; c < N_CH; c++)
		if (ax_poller_add(p, d, channels[c], 1) < 0)
			goto fail;
	if (ax_poller_start(p) < 0)
		goto fail;
	end = now_s() + secs;
	while (now_s() < end) {
		sleep_s(0.01);
		while (ax_poller_read(p, t, v, 1024) > 0)
			;
	}
	ax_poller_stop(p);
	st->size = sizeof(*st);
	ax_poller_stats_get(p, st);
	ax_poller_free(p);
	return 0;
fail:
	fprintf(stderr, "bench: %s\n", ax_error_last());
	ax_poller_free(p);
	return -1;
}

static double lost_pct(const ax_poller_stats *st)
{
	double all = (double)(st->samples + st->overflows + st->lost);

	return all > 0 ? 100.0 * (double)(st->lost + st->overflows) / all : 100.0;
}

static int bench(const char *name, ax_drive *d, double try_s)
{
	ax_poller_stats st[sizeof(periods_us) / sizeof(periods_us[0])], at1;
	double floor_s = four_reads(d, 2000);
	size_t n = sizeof(periods_us) / sizeof(periods_us[0]);
	uint32_t best = 0;

	if (floor_s < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (run_poller(d, periods_us[i], try_s, &st[i]) < 0)
			return -1;
		if (lost_pct(&st[i]) < 1.0)
			best = periods_us[i];
	}
	if (run_poller(d, 1000, RUN_1MS_S, &at1) < 0)
		return -1;

	printf("%s: 4 channels (%s)\n", name, ax_drive_uri(d));
	printf("%-12s %12s %12s %10s %10s\n", "what", "us/sample", "samples/s", "lost_pct",
	       "ratio");
	printf("%-12s %12.1f %12.0f %10.2f %10s\n", "4-reads", floor_s * 1e6, 1 / floor_s, 0.0,
	       "baseline");
	for (size_t i = 0; i < n; i++) {
		char what[32];

		(void)snprintf(what, sizeof(what), "poll-%uus", periods_us[i]);
		printf("%-12s %12.1f %12.0f %10.2f %10.2f\n", what, st[i].period_s * 1e6,
		       st[i].period_s > 0 ? 1 / st[i].period_s : 0.0, lost_pct(&st[i]),
		       st[i].period_s / floor_s);
	}
	if (best)
		printf("%s: fastest period with < 1%% lost: %u us\n", name, best);
	else
		printf("%s: no period down from %u us kept lost samples under 1%%\n", name,
		       periods_us[0]);
	printf("%s at 1 ms for %.0f s: %llu samples, %llu lost (%.2f%%), period %.1f us\n", name,
	       RUN_1MS_S, (unsigned long long)at1.samples, (unsigned long long)at1.lost,
	       lost_pct(&at1), at1.period_s * 1e6);
	printf("\n");
	return 0;
}

static ax_drive *open_drive(ax_ctx *ctx, const char *uri)
{
	ax_drive_options o = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;

	o.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	if (ax_drive_open(&d, ctx, uri, &o) < 0) {
		fprintf(stderr, "bench: %s\n", ax_error_last());
		return NULL;
	}
	return d;
}

int main(int argc, char **argv)
{
	static const char *const sim_args[] = {"--eth", "127.0.11.30", NULL};
	double try_s = 0.5;
	simproc *sim = NULL;
	ax_drive *virt = NULL, *udp = NULL;
	ax_ctx *ctx = NULL;
	int rc = 1;

	if (argc > 1) {
		char *end = NULL;
		long ms = strtol(argv[1], &end, 10);

		if (!end || *end || ms < 50 || ms > 60000) {
			fprintf(stderr, "usage: bench_poller [TRY_MS 50..60000]\n");
			return 2;
		}
		try_s = (double)ms / 1000.0;
	}
	printf("bench_poller: fastest period with < 1%% lost (%.1f s per try), lost at 1 ms\n\n",
	       try_s);
	if (ax_ctx_new(&ctx, NULL) < 0) {
		fprintf(stderr, "bench: %s\n", ax_error_last());
		return 1;
	}
	virt = open_drive(ctx, "virtual:?serial=30");
	if (!virt || bench("virtual", virt, try_s) < 0)
		goto out;
	if (simproc_start(&sim, sim_args, 1, 5000) < 0)
		goto out;
	udp = open_drive(ctx, simproc_uri(sim, 0));
	if (!udp || bench("udp", udp, try_s) < 0)
		goto out;
	rc = 0;
out:
	ax_drive_unref(udp);
	ax_drive_unref(virt);
	ax_ctx_unref(ctx);
	if (sim && simproc_stop(sim) != 0)
		rc = 1;
	return rc;
}
