/* SPDX-License-Identifier: MIT */
/*
 * Discovery time for 16 simulated drives on UDP loopback (plus 2 drives on
 * emulated USB-serial ports when run under umockdev-wrapper, which the
 * serial test rig needs), against a baseline measured in the same run:
 *
 *   raw-ident      the identity reads discovery needs (product, vendor,
 *                  revision, serial, firmware: 5 per drive, one in flight
 *                  per drive, all drives at once) with plain sendto/recv:
 *                  the floor for finding and identifying these drives here;
 *   scan           ax_scan() of the 16 addresses (eth transport alone);
 *   discover       ax_discover() of the same: worker threads, queue,
 *                  dictionary resolution;
 *   discover-last  ax_discover() of the /27 around them: until the 16th
 *                  drive is reported;
 *   discover-/27   the same until the call returns (the 14 addresses without
 *                  a drive end on ICMP port unreachable, issue 21);
 *   discover-mixed the 16 and the 2 serial drives in one call.
 *
 * A second table sets the /27 against the old fixed wait, which held every
 * scan with a silent address open until half its deadline (1000 ms of the
 * default 2 s): discover-/27 and the whole `axlink list` command of the
 * range (a process of its own, every drive listed; issue 21's goal: under
 * 300 ms).
 *
 * Medians of several rounds, so one busy moment does not decide the figure.
 *
 * usage: bench_discover [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "simproc.h"
#ifdef BENCH_SERIAL_RIG
#include <fcntl.h>

#include "serial_rig.h"
#else
typedef struct serial_rig serial_rig;
#endif

/* Inside 127.0.10.0/25 (the discovery tests' range), where no test binds. */
#define FIRST_ADDR "127.0.10.65"
#define FIRST_OCTET 65
#define N_DRIVES 16
#define RANGE "eth://127.0.10.64/27"
#define N_SERIAL 2
#define SIM_START_MS 10000
#define MAX_ROUNDS 64
/* What the old scan waited for silent addresses: half the default 2 s deadline. */
#define OLD_FIXED_WAIT_MS (AX_DISCOVER_DEFAULT_TIMEOUT_MS / 2)

static const uint16_t ident_regs[] = {0x6E1, 0x6E0, 0x6E2, 0x6E6, 0x6E4};
#define N_IDENT (sizeof(ident_regs) / sizeof(ident_regs[0]))

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

/* The baseline: every drive's identity reads, over one socket, all drives at once. */
static int raw_ident(double *out)
{
	struct sockaddr_in to[N_DRIVES];
	uint8_t frames[N_IDENT][AX_MCB_FRAME_SIZE];
	unsigned step[N_DRIVES] = {0};
	size_t done = 0;
	double t0, limit;
	int fd, err = 0;

	for (size_t r = 0; r < N_IDENT; r++)
		if (ax_mcb_encode_read(frames[r], 0, ident_regs[r]) < 0)
			return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	for (int i = 0; i < N_DRIVES; i++) {
		char addr[32];

		memset(&to[i], 0, sizeof(to[i]));
		to[i].sin_family = AF_INET;
		to[i].sin_port = htons(AX_MCB_UDP_PORT);
		(void)snprintf(addr, sizeof(addr), "127.0.10.%d", FIRST_OCTET + i);
		(void)inet_pton(AF_INET, addr, &to[i].sin_addr);
	}
	t0 = now_s();
	limit = t0 + 2.0;
	for (int i = 0; i < N_DRIVES; i++)
		(void)sendto(fd, frames[0], AX_MCB_FRAME_SIZE, 0, (struct sockaddr *)&to[i],
		             sizeof(to[i]));
	while (done < N_DRIVES) {
		struct pollfd p = {fd, POLLIN, 0};
		uint8_t buf[AX_MCB_MAX_FRAME];
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ax_mcb_frame f;
		ssize_t n;
		int i;

		if (now_s() > limit) {
			err = -1;
			break;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			continue;
		i = (int)(ntohl(from.sin_addr.s_addr) & 0xFF) - FIRST_OCTET;
		if (i < 0 || i >= N_DRIVES || step[i] >= N_IDENT ||
		    ax_mcb_decode(&f, buf, (size_t)n) < 0 ||
		    ax_mcb_check_reply(&f, 0, ident_regs[step[i]]) < 0)
			continue;
		if (++step[i] == N_IDENT) {
			done++;
			continue;
		}
		(void)sendto(fd, frames[step[i]], AX_MCB_FRAME_SIZE, 0, (struct sockaddr *)&to[i],
		             sizeof(to[i]));
	}
	close(fd);
	*out = now_s() - t0;
	return err;
}

struct tally {
	int ok;
	double t0, last;
	char why[160]; /* the first result that was not usable, and why */
};

static int count_found(const ax_discover_result *r, void *userdata)
{
	struct tally *t = userdata;

	if (r->access == AX_ACCESS_OK) {
		t->ok++;
		t->last = now_s() - t->t0;
	} else if (!t->why[0]) {
		(void)snprintf(t->why, sizeof(t->why), "%s: %s", r->uri, r->message);
	}
	return 0;
}

static int count_scanned(const ax_scan_result *r, void *userdata)
{
	struct tally *t = userdata;

	t->ok += r->access == AX_ACCESS_OK;
	return 0;
}

/* One discovery of @spec; *ret_s until it returned, *last_s until the last drive. */
static int timed_discover(ax_ctx *ctx, const char *spec, int want, double *ret_s, double *last_s)
{
	struct tally t = {0, now_s(), 0, ""};
	int n = ax_discover(ctx, spec, NULL, count_found, &t);

	*ret_s = now_s() - t.t0;
	if (last_s)
		*last_s = t.last;
	if (n != want || t.ok != want) {
		fprintf(stderr, "bench: '%s' found %d of %d (%s)\n", spec, t.ok, want,
		        n < 0 ? ax_error_last() : "ok");
		return -1;
	}
	return 0;
}

/*
 * Seconds `axlink list RANGE` takes, as a process of its own; -1 when it
 * failed or did not list every drive.
 */
static double cli_list(void)
{
	char cmd[512], line[512];
	double t0 = now_s(), t;
	int found = 0;
	FILE *p;

	(void)snprintf(cmd, sizeof(cmd), "'%s' list '%s' 2>&1", AXLINK_CLI_PATH, RANGE);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		found += strstr(line, "eth://127.0.10.") != NULL;
	if (pclose(p) != 0)
		return -1;
	t = now_s() - t0;
	if (found != N_DRIVES) {
		fprintf(stderr, "bench: axlink list %s listed %d of %d drives\n", RANGE, found,
		        N_DRIVES);
		return -1;
	}
	return t;
}

#ifdef BENCH_SERIAL_RIG
/* USB ids the serial transport probes by default. */
static const struct serial_rig_port rig_ports[N_SERIAL] = {
        {"ttyUSB0", 0x0403, 0x6001, "BENCH0", "Acme", "SimServo RS485"},
        {"ttyUSB1", 0x0403, 0x6015, "BENCH1", "Acme", "SimServo RS232"},
};
#endif

/*
 * Two drives on emulated USB-serial ports (tests/support/serial_rig.h),
 * which need umockdev-wrapper around this process. Returns the spec naming
 * them, checked by one discovery, or "" with the reason in @why.
 */
static void serial_start(ax_ctx *ctx, serial_rig **rig, simproc **sims, char *spec, size_t cap,
                         char *why, size_t why_cap)
{
	spec[0] = '\0';
#ifdef BENCH_SERIAL_RIG
	struct tally t = {0, now_s(), 0, ""};
	int n;

	if (serial_rig_new(rig, rig_ports, N_SERIAL) < 0) {
		(void)snprintf(why, why_cap,
		               "the emulated ports need umockdev-wrapper around "
		               "bench_discover");
		return;
	}
	for (int i = 0; i < N_SERIAL; i++) {
		char fd_path[32], serial[16];
		const char *args[] = {"--tty", fd_path, "--serial", serial, NULL};
		int master = serial_rig_master(*rig, (size_t)i);

		/* The simulator inherits the master: it must survive exec. */
		(void)fcntl(master, F_SETFD, 0);
		(void)snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", master);
		(void)snprintf(serial, sizeof(serial), "%d", 2000 + i);
		if (simproc_start(&sims[i], args, 1, SIM_START_MS) < 0) {
			(void)snprintf(why, why_cap, "axlink-sim --tty did not start");
			return;
		}
	}
	(void)snprintf(spec, cap, "serial:/dev/ttyUSB0,serial:/dev/ttyUSB1");
	n = ax_discover(ctx, spec, NULL, count_found, &t);
	if (n < 0 || t.ok != N_SERIAL) {
		(void)snprintf(why, why_cap, "%d of %d answered (%s)", t.ok, N_SERIAL,
		               n < 0 ? ax_error_last() : t.why);
		spec[0] = '\0';
	}
#else
	(void)ctx, (void)rig, (void)sims, (void)cap;
	(void)snprintf(why, why_cap, "built without the serial test rig (umockdev)");
#endif
}

int main(int argc, char **argv)
{
	static const char *const eth_args[] = {"--eth",    FIRST_ADDR, "--count", "16",
	                                       "--serial", "1000",     NULL};
	double raw[MAX_ROUNDS], scan[MAX_ROUNDS], disc[MAX_ROUNDS], last[MAX_ROUNDS],
	        range[MAX_ROUNDS], mixed[MAX_ROUNDS], cli[MAX_ROUNDS];
	simproc *eth = NULL, *tty[N_SERIAL] = {NULL};
	serial_rig *rig = NULL;
	char list[512], serial[256], why[256] = "", mixed_spec[1024];
	ax_ctx *ctx = NULL;
	int rounds = 10, rc = 1, have_serial = 0;
	size_t used = 0;

	if (argc > 2 || (argc == 2 && (sscanf(argv[1], "%d", &rounds) != 1 || rounds < 1 ||
	                               rounds > MAX_ROUNDS))) {
		fprintf(stderr, "usage: bench_discover [ROUNDS 1..%d]\n", MAX_ROUNDS);
		return 2;
	}
	if (simproc_start(&eth, eth_args, N_DRIVES, SIM_START_MS) < 0)
		return 1;
	if (ax_ctx_new(&ctx, NULL) < 0) {
		fprintf(stderr, "bench: %s\n", ax_error_last());
		goto out;
	}
	/* The 16 addresses as one Ethernet list: the same targets for scan and discover. */
	used = (size_t)snprintf(list, sizeof(list), "eth://");
	for (int i = 0; i < N_DRIVES; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s127.0.10.%d",
		                         i ? "," : "", FIRST_OCTET + i);
	serial_start(ctx, &rig, tty, serial, sizeof(serial), why, sizeof(why));
	have_serial = serial[0] != '\0';
	(void)snprintf(mixed_spec, sizeof(mixed_spec), "%s,%s", list, serial);

	for (int r = 0; r < rounds; r++) {
		struct tally t = {0, 0, 0, ""};
		double t0;

		if (raw_ident(&raw[r]) < 0) {
			fprintf(stderr, "bench: the raw identity reads did not complete\n");
			goto out;
		}
		t0 = now_s();
		if (ax_scan(ctx, list, 0, count_scanned, &t) != N_DRIVES || t.ok != N_DRIVES) {
			fprintf(stderr, "bench: scan found %d (%s)\n", t.ok, ax_error_last());
			goto out;
		}
		scan[r] = now_s() - t0;
		if (timed_discover(ctx, list, N_DRIVES, &disc[r], NULL) < 0 ||
		    timed_discover(ctx, RANGE, N_DRIVES, &range[r], &last[r]) < 0)
			goto out;
		cli[r] = cli_list();
		if (cli[r] < 0) {
			fprintf(stderr, "bench: axlink list %s failed\n", RANGE);
			goto out;
		}
		mixed[r] = 0;
		if (have_serial &&
		    timed_discover(ctx, mixed_spec, N_DRIVES + N_SERIAL, &mixed[r], NULL) < 0)
			goto out;
	}
	{
		double b = median(raw, rounds), s = median(scan, rounds), d = median(disc, rounds);
		double l = median(last, rounds), g = median(range, rounds);

		printf("bench_discover: %d rounds, %d drives on UDP loopback%s, median per round\n",
		       rounds, N_DRIVES, have_serial ? " + 2 on emulated serial ports" : "");
		printf("%-15s %10s %10s\n", "what", "ms", "ratio");
		printf("%-15s %10.2f %10s\n", "raw-ident", b * 1e3, "baseline");
		printf("%-15s %10.2f %10.2f\n", "scan", s * 1e3, s / b);
		printf("%-15s %10.2f %10.2f\n", "discover", d * 1e3, d / b);
		printf("%-15s %10.2f %10.2f\n", "discover-last", l * 1e3, l / b);
		printf("%-15s %10.2f %10.2f\n", "discover-/27", g * 1e3, g / b);
		if (have_serial) {
			double m = median(mixed, rounds);

			printf("%-15s %10.2f %10.2f\n", "discover-mixed", m * 1e3, m / b);
		} else {
			printf("serial drives not measured: %s\n", why);
		}
		printf("discover / scan = %.2f (threads, queue and dictionaries over the bare "
		       "scan)\n",
		       d / s);
		printf("\nthe /27 against the old fixed wait for silent addresses (half the %d ms "
		       "deadline)\n",
		       AX_DISCOVER_DEFAULT_TIMEOUT_MS);
		printf("%-15s %10s %10s\n", "what", "ms", "ratio");
		printf("%-15s %10d %10s\n", "old-fixed-wait", OLD_FIXED_WAIT_MS, "baseline");
		printf("%-15s %10.2f %10.3f\n", "discover-/27", g * 1e3,
		       g * 1e3 / OLD_FIXED_WAIT_MS);
		printf("%-15s %10.2f %10.3f\n", "cli-list-/27", median(cli, rounds) * 1e3,
		       median(cli, rounds) * 1e3 / OLD_FIXED_WAIT_MS);
		printf("axlink list %s: %.0f ms, all %d drives listed (goal < 300 ms)\n", RANGE,
		       median(cli, rounds) * 1e3, N_DRIVES);
	}
	rc = 0;
out:
	ax_ctx_unref(ctx);
	for (int i = 0; i < N_SERIAL; i++)
		(void)simproc_stop(tty[i]);
#ifdef BENCH_SERIAL_RIG
	serial_rig_free(rig);
#endif
	(void)simproc_stop(eth);
	return rc;
}
