/* SPDX-License-Identifier: MIT */
/*
 * axlink monitor URI REGISTER... [--period-ms P] [--duration-s D] [--csv FILE] [--json]
 *
 * Samples registers at a fixed period with an ax_poller (axlink/poller.h).
 * On a terminal the latest values refresh on one line of stderr; --csv
 * writes every sample (header `t_s`, then one column per register); at the
 * end a summary says how many samples were taken, how many were lost and
 * the period achieved (stderr, or stdout as JSON with --json). Without
 * --duration-s it runs until interrupted (Ctrl-C).
 *
 * The first SIGINT or SIGTERM ends sampling as if the duration were over:
 * the poller stops at once (its read in flight is cancelled), and the CSV
 * and the summary are finished. A second one exits at once, 128 + signal.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_PERIOD_MS = 600,
	OPT_DURATION_S,
	OPT_CSV,
};

static const struct option monitor_options[] = {
        CLI_COMMON_OPTIONS,
        {"subnode", required_argument, NULL, OPT_SUBNODE},
        {"dict", required_argument, NULL, OPT_DICT},
        {"period-ms", required_argument, NULL, OPT_PERIOD_MS},
        {"duration-s", required_argument, NULL, OPT_DURATION_S},
        {"csv", required_argument, NULL, OPT_CSV},
        {NULL, 0, NULL, 0},
};

/* The options of this command; it runs once per process. */
static struct {
	double period_ms;
	double duration_s; /* 0: until interrupted */
	const char *csv;   /* NULL: no CSV; "-": stdout */
} mon = {10.0, 0.0, NULL};

/* Set by SIGINT/SIGTERM: finish as if the duration were over. */
static volatile sig_atomic_t monitor_interrupted;

static void monitor_on_signal(int sig)
{
	static const char msg[] = "\naxlink: interrupted again, exiting at once\n";

	if (monitor_interrupted) {
		/* The user insists: no summary, no waiting. Only async-signal-safe calls. */
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nothing to do about it */
		}
		_exit(128 + sig);
	}
	monitor_interrupted = 1;
}

/* A finite number, all of @text. */
static int monitor_parse_number(const char *text, double *out)
{
	char *end = NULL;
	double v;

	if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '.' || text[0] == '+'))
		return -1;
	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !isfinite(v) || strpbrk(text, "xXnNiI"))
		return -1;
	*out = v;
	return 0;
}

static int monitor_option(struct cli *cli, int c, const char *arg)
{
	double d;

	switch (c) {
	case OPT_PERIOD_MS:
		if (monitor_parse_number(arg, &d) < 0 || d < 0.1 || d > 60000.0)
			return usage_error(cli->cmd, "--period-ms '%s': expected 0.1..60000", arg);
		mon.period_ms = d;
		return 0;
	case OPT_DURATION_S:
		if (monitor_parse_number(arg, &d) < 0 || !(d > 0.0) || d > 1e7)
			return usage_error(cli->cmd, "--duration-s '%s': expected seconds above 0",
			                   arg);
		mon.duration_s = d;
		return 0;
	case OPT_CSV:
		if (!arg[0])
			return usage_error(cli->cmd,
			                   "--csv: expected a file name, or - for stdout");
		mon.csv = arg;
		return 0;
	default:
		return usage_error(cli->cmd, "unhandled option");
	}
}

static double monitor_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A value as text: exact for integers, 9 digits for float registers, empty for a failed read. */
static void monitor_format(char *buf, size_t cap, double v, int dtype)
{
	if (isnan(v))
		buf[0] = '\0';
	else
		(void)snprintf(buf, cap, "%.*g", dtype == AX_DTYPE_FLOAT ? 9 : 17, v);
}

struct monitor {
	ax_poller *poller;
	size_t n;
	int dtypes[AX_POLLER_MAX_CHANNELS];
	FILE *csv;
	int live; /* refresh a line on stderr */
	double last_t, last[AX_POLLER_MAX_CHANNELS];
	int have_last;
	double last_shown;
	double t[256];
	double v[256 * AX_POLLER_MAX_CHANNELS];
};

/* Take what the poller has: CSV rows, and the latest values. Returns 0 or -1 (write error). */
static int monitor_drain(struct monitor *m)
{
	char num[64];
	int got;

	while ((got = ax_poller_read(m->poller, m->t, m->v, 256)) > 0) {
		for (int i = 0; m->csv && i < got; i++) {
			fprintf(m->csv, "%.6f", m->t[i]);
			for (size_t c = 0; c < m->n; c++) {
				monitor_format(num, sizeof(num), m->v[(size_t)i * m->n + c],
				               m->dtypes[c]);
				fprintf(m->csv, ",%s", num);
			}
			fputc('\n', m->csv);
		}
		m->last_t = m->t[got - 1];
		memcpy(m->last, &m->v[(size_t)(got - 1) * m->n], m->n * sizeof(double));
		m->have_last = 1;
	}
	return m->csv && ferror(m->csv) ? -1 : 0;
}

static void monitor_show(struct monitor *m, char *const *names)
{
	char num[64];

	if (!m->live || !m->have_last)
		return;
	fprintf(stderr, "\r\033[K%9.3f s", m->last_t);
	for (size_t c = 0; c < m->n; c++) {
		monitor_format(num, sizeof(num), m->last[c], m->dtypes[c]);
		fprintf(stderr, "  %s=%s", names[c], num[0] ? num : "?");
	}
	fflush(stderr);
}

static int monitor_summary(const struct cli *cli, struct monitor *m, char *const *names,
                           const ax_poller_stats *st)
{
	json_t *root, *chans;
	int rc;

	if (!cli->json) {
		fprintf(stderr,
		        "%llu samples, %llu lost, %llu dropped (ring full), period %.3f ms "
		        "achieved (%.3f ms asked) over %.3f s\n",
		        (unsigned long long)st->samples, (unsigned long long)st->lost,
		        (unsigned long long)st->overflows, st->period_s * 1e3, mon.period_ms,
		        st->elapsed_s);
		for (size_t c = 0; c < m->n; c++) {
			uint64_t e = ax_poller_channel_errors(m->poller, c);

			if (e)
				fprintf(stderr, "  %s: %llu failed reads\n", names[c],
				        (unsigned long long)e);
		}
		return EXIT_SUCCESS;
	}
	root = json_object();
	chans = json_array();
	if (!root || !chans) {
		json_decref(root);
		json_decref(chans);
		return fail_oom();
	}
	json_object_set_new(root, "samples", json_integer((json_int_t)st->samples));
	json_object_set_new(root, "lost", json_integer((json_int_t)st->lost));
	json_object_set_new(root, "dropped", json_integer((json_int_t)st->overflows));
	json_object_set_new(root, "period_ms", json_real(mon.period_ms));
	json_object_set_new(root, "achieved_period_ms", json_real(st->period_s * 1e3));
	json_object_set_new(root, "duration_s", json_real(st->elapsed_s));
	for (size_t c = 0; c < m->n; c++) {
		json_t *o = json_object();

		if (!o)
			break;
		json_object_set_new(o, "register", json_text(names[c]));
		json_object_set_new(
		        o, "errors",
		        json_integer((json_int_t)ax_poller_channel_errors(m->poller, c)));
		json_object_set_new(o, "last",
		                    m->have_last && !isnan(m->last[c]) ? json_real(m->last[c])
		                                                       : json_null());
		json_array_append_new(chans, o);
	}
	json_object_set_new(root, "channels", chans);
	rc = print_json(root);
	json_decref(root);
	return rc;
}

/*
 * ADDRESS:TYPE as read takes it, on --subnode (default 1): the dictionary's
 * register at that address, whose id goes into *id. The poller samples a
 * dictionary's registers, so an address the dictionary lacks, or a TYPE
 * other than the register's, is refused with what the dictionary says.
 */
static int monitor_address(const struct cli *cli, ax_drive *drive, const char *arg, const char **id)
{
	struct reg_arg ra = {.subnode = cli->subnode};
	const ax_dict *dict = ax_drive_dict(drive);
	const ax_reg *reg;
	int rc = parse_reg_arg(cli->cmd, arg, &ra);

	if (rc != 0)
		return rc;
	if (!dict || ax_dict_find_address(dict, ra.subnode, ra.address, &reg) < 0)
		return cli_fail(AX_ENOTFOUND, AX_ERRCLASS_DICT,
		                "'%s': the drive's dictionary has no register at 0x%03X on "
		                "subnode %u (monitor samples a dictionary's registers)",
		                arg, (unsigned)ra.address, ra.subnode);
	if (ax_reg_dtype(reg) != ra.dtype)
		return usage_error(cli->cmd, "'%s': register %s at 0x%03X is a %s, not a %s", arg,
		                   ax_reg_id(reg), (unsigned)ra.address,
		                   ax_dtype_name(ax_reg_dtype(reg)), ax_dtype_name(ra.dtype));
	*id = ax_reg_id(reg);
	return 0;
}

/* A register the poller refused: the library's reason, and the nearest id when it has none. */
static int monitor_add_failed(ax_drive *drive, const char *id)
{
	const char *near;
	char *msg;
	int code = ax_error_last_code(), cls = ax_error_last_class();

	if (code != AX_ENOTFOUND)
		return fail_last();
	msg = strdup(ax_error_last());
	near = nearest_register(ax_drive_dict(drive), id);
	(void)cli_fail(code, cls, "%s%s%s%s", msg ? msg : "no such register",
	               near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	free(msg);
	return EXIT_FAILURE;
}

static int cmd_monitor(struct cli *cli)
{
	char *const *names = &cli->pos[1];
	struct monitor *m = NULL;
	ax_poller_stats st = AX_POLLER_STATS_INIT;
	ax_drive *drive = NULL;
	ax_ctx *ctx = NULL;
	double start, next_show = 0.0;
	uint32_t period_us;
	size_t capacity;
	struct sigaction sa, old_int, old_term;
	int rc = EXIT_FAILURE;

	if (cli->json && mon.csv && strcmp(mon.csv, "-") == 0)
		return usage_error(cli->cmd, "--csv - and --json would both write to stdout");
	if (cli->n_pos - 1 > AX_POLLER_MAX_CHANNELS)
		return usage_error(cli->cmd, "%zu registers: at most %d", cli->n_pos - 1,
		                   AX_POLLER_MAX_CHANNELS);
	m = calloc(1, sizeof(*m));
	if (!m)
		return fail_oom();
	m->n = cli->n_pos - 1;
	period_us = (uint32_t)(mon.period_ms * 1000.0 + 0.5);
	/* Two seconds of samples: the loop below drains far more often. */
	capacity = (size_t)(2e6 / period_us) + 64;

	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		goto out;
	rc = open_drive(cli, ctx, cli->pos[0], &drive);
	if (rc != 0)
		goto out;
	rc = EXIT_FAILURE;
	if (ax_poller_new(&m->poller, period_us, capacity) < 0) {
		rc = fail_last();
		goto out;
	}
	for (size_t c = 0; c < m->n; c++) {
		int sub = cli->subnode_set ? (int)cli->subnode : -1;
		const char *id = names[c];

		if (strchr(names[c], ':')) {
			rc = monitor_address(cli, drive, names[c], &id);
			if (rc != 0)
				goto out;
			rc = EXIT_FAILURE;
			sub = (int)cli->subnode;
		}
		if (ax_poller_add(m->poller, drive, id, sub) < 0) {
			rc = monitor_add_failed(drive, id);
			goto out;
		}
		m->dtypes[c] = ax_reg_dtype(ax_poller_channel_reg(m->poller, c));
	}

	if (mon.csv && strcmp(mon.csv, "-") == 0) {
		m->csv = stdout;
	} else if (mon.csv) {
		m->csv = fopen(mon.csv, "w");
		if (!m->csv) {
			rc = cli_fail(AX_EIO, AX_ERRCLASS_INTERNAL, "cannot write '%s': %s",
			              mon.csv, strerror(errno));
			goto out;
		}
	}
	if (m->csv) {
		fputs("t_s", m->csv);
		for (size_t c = 0; c < m->n; c++)
			fprintf(m->csv, ",%s", names[c]);
		fputc('\n', m->csv);
	}
	m->live = isatty(STDERR_FILENO) && !cli->json;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = monitor_on_signal;
	sigemptyset(&sa.sa_mask);
	/*
	 * Restart writes: a signal that comes while a CSV reader is slow must
	 * not cut a row in half. The loop's nanosleep() still wakes at once.
	 */
	sa.sa_flags = SA_RESTART;
	(void)sigaction(SIGINT, &sa, &old_int);
	(void)sigaction(SIGTERM, &sa, &old_term);

	if (ax_poller_start(m->poller) < 0) {
		rc = fail_last();
		goto restore;
	}
	start = monitor_now();
	while (!monitor_interrupted) {
		struct timespec nap = {0, 20 * 1000000L};
		double now = monitor_now();

		if (mon.duration_s > 0.0 && now - start >= mon.duration_s)
			break;
		if (monitor_drain(m) < 0)
			break;
		if (now >= next_show) {
			monitor_show(m, names);
			next_show = now + 0.1;
		}
		(void)nanosleep(&nap, NULL);
	}
	(void)ax_poller_stop(m->poller);
	if (monitor_drain(m) < 0 || (m->csv && fflush(m->csv) != 0)) {
		fputc('\n', stderr);
		rc = cli_fail(AX_EIO, AX_ERRCLASS_INTERNAL, "writing '%s': %s", mon.csv,
		              strerror(errno));
		goto restore;
	}
	if (m->live) {
		monitor_show(m, names);
		fputc('\n', stderr);
	}
	(void)ax_poller_stats_get(m->poller, &st);
	rc = monitor_summary(cli, m, names, &st);
restore:
	(void)sigaction(SIGINT, &old_int, NULL);
	(void)sigaction(SIGTERM, &old_term, NULL);
out:
	if (m) {
		m->poller = ax_poller_free(m->poller);
		if (m->csv && m->csv != stdout && fclose(m->csv) != 0 && rc == EXIT_SUCCESS) {
			rc = cli_fail(AX_EIO, AX_ERRCLASS_INTERNAL, "writing '%s': %s", mon.csv,
			              strerror(errno));
		}
		free(m);
	}
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return finish_stdout(rc);
}

static const struct command monitor_commands[] = {
        {
                .name = "monitor",
                .synopsis = "URI REGISTER... [--period-ms P] [--duration-s D] [--csv FILE]",
                .summary = "sample registers at a fixed period",
                .help = "Read up to 16 registers of the drive once per period in a background\n"
                        "thread (absolute deadlines), until --duration-s is over or Ctrl-C.\n"
                        "Ctrl-C (or SIGTERM) stops sampling at once and still writes the CSV\n"
                        "and the summary; a second Ctrl-C exits at once (status 130).\n"
                        "On a terminal the latest values refresh on one line of stderr.\n"
                        "  REGISTER       a register id of the drive's dictionary, or\n"
                        "                 ADDRESS:TYPE as 'axlink read' takes it (on --subnode,\n"
                        "                 default 1) of a register the dictionary has\n"
                        "  --period-ms P  time between samples (default 10; 0.1..60000)\n"
                        "  --duration-s D how long to sample (default: until interrupted)\n"
                        "  --csv FILE     write every sample: header t_s, then one column per\n"
                        "                 register; empty field for a failed read; - = stdout\n"
                        "  --subnode N    look the registers up on subnode N\n"
                        "  --dict FILE    dictionary file instead of the device databases\n"
                        "The summary (samples, lost = missed periods or failed reads, dropped,\n"
                        "achieved period) goes to stderr, or to stdout with --json:\n"
                        "{samples, lost, dropped, period_ms, achieved_period_ms, duration_s,\n"
                        "channels: [{register, errors, last}]}.\n"
                        "Example: axlink monitor eth://127.0.0.2 CL_POS_FBK_VALUE "
                        "CL_VEL_FBK_VALUE\n"
                        "         --period-ms 1 --duration-s 2 --csv out.csv\n",
                .arg_names = {"URI", "REGISTER", NULL},
                .variadic = 1,
                .opts = monitor_options,
                .run = cmd_monitor,
                .option = monitor_option,
        },
};

const struct cli_group cli_monitor_group = {
        monitor_commands,
        sizeof(monitor_commands) / sizeof(monitor_commands[0]),
};
