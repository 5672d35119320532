/* SPDX-License-Identifier: MIT */
/*
 * axlink scope URI REGISTER... --period-us P --samples N [--trigger REG:EDGE:LEVEL]
 *              [--pre N] [--axis N] [--timeout-ms T] [--csv FILE] [--json]
 * axlink disturb URI REGISTER --waveform FILE.csv [--period-us P] [--scope REG...]
 *
 * Drive-side capture (axlink/scope.h): the drive samples the registers in
 * its own loop and the command reads the buffer afterwards, so the sample
 * rate is the drive's, not the bus round trip's. A SIGINT or SIGTERM
 * during the wait triggers the scope's cancel token: the wait stops within
 * one request, the drive's monitoring is disabled and the command exits
 * 128 + the signal.
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
	OPT_PERIOD_US = 700,
	OPT_SAMPLES,
	OPT_TRIGGER,
	OPT_PRE,
	OPT_AXIS,
	OPT_CSV,
	OPT_WAVEFORM,
	OPT_SCOPE,
};

#define SCOPE_DEFAULT_TIMEOUT_MS 10000
#define SCOPE_MAX_SCOPE_REGS AX_SCOPE_MAX_CHANNELS

static const struct option scope_options[] = {
        CLI_COMMON_OPTIONS,
        {"dict", required_argument, NULL, OPT_DICT},
        {"period-us", required_argument, NULL, OPT_PERIOD_US},
        {"samples", required_argument, NULL, OPT_SAMPLES},
        {"trigger", required_argument, NULL, OPT_TRIGGER},
        {"pre", required_argument, NULL, OPT_PRE},
        {"axis", required_argument, NULL, OPT_AXIS},
        {"csv", required_argument, NULL, OPT_CSV},
        {NULL, 0, NULL, 0},
};

static const struct option disturb_options[] = {
        CLI_COMMON_OPTIONS,
        {"dict", required_argument, NULL, OPT_DICT},
        {"period-us", required_argument, NULL, OPT_PERIOD_US},
        {"samples", required_argument, NULL, OPT_SAMPLES},
        {"axis", required_argument, NULL, OPT_AXIS},
        {"csv", required_argument, NULL, OPT_CSV},
        {"waveform", required_argument, NULL, OPT_WAVEFORM},
        {"scope", required_argument, NULL, OPT_SCOPE},
        {NULL, 0, NULL, 0},
};

/* The options of these commands; one command runs per process. */
static struct {
	double period_us;      /* 0: the drive's base period */
	unsigned long samples; /* 0: the default (scope 1000, disturb the waveform's length) */
	const char *trigger;   /* REG:EDGE:LEVEL, or NULL */
	unsigned long pre;
	int axis; /* -1: the first register of each id */
	const char *csv;
	const char *waveform;
	const char *scope_regs[SCOPE_MAX_SCOPE_REGS];
	size_t n_scope_regs;
} sc = {0.0, 0, NULL, 0, -1, NULL, NULL, {NULL}, 0};

/* What SIGINT and SIGTERM trigger during a wait (set before the handlers). */
static ax_cancel *scope_cancel;
static volatile sig_atomic_t scope_signal;

static void scope_on_signal(int sig)
{
	static const char again[] = "\naxlink: interrupted again, exiting at once\n";

	if (scope_signal) {
		ssize_t n = write(STDERR_FILENO, again, sizeof(again) - 1);

		(void)n;
		_exit(128 + sig);
	}
	scope_signal = sig;
	ax_cancel_trigger(scope_cancel); /* one atomic store: async-signal-safe */
}

/* A finite number, all of @text (a leading '-' allowed). */
static int scope_parse_number(const char *text, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !isfinite(v) || strpbrk(text, "xXnNiI"))
		return -1;
	*out = v;
	return 0;
}

static int scope_option(struct cli *cli, int c, const char *arg)
{
	unsigned long u;
	double d;

	switch (c) {
	case OPT_PERIOD_US:
		if (scope_parse_number(arg, &d) < 0 || !(d > 0.0) || d > 1e7)
			return usage_error(cli->cmd,
			                   "--period-us '%s': expected microseconds above 0", arg);
		sc.period_us = d;
		return 0;
	case OPT_SAMPLES:
		if (parse_uint(arg, 100000000ul, &u) < 0 || u == 0)
			return usage_error(cli->cmd, "--samples '%s': expected 1..100000000", arg);
		sc.samples = u;
		return 0;
	case OPT_PRE:
		if (parse_uint(arg, 100000000ul, &u) < 0)
			return usage_error(cli->cmd, "--pre '%s': expected a number of samples",
			                   arg);
		sc.pre = u;
		return 0;
	case OPT_AXIS:
		if (parse_uint(arg, SUBNODE_MAX, &u) < 0)
			return usage_error(cli->cmd, "--axis '%s': expected 0..%u", arg,
			                   SUBNODE_MAX);
		sc.axis = (int)u;
		return 0;
	case OPT_TRIGGER:
		sc.trigger = arg;
		return 0;
	case OPT_CSV:
		if (!arg[0])
			return usage_error(cli->cmd,
			                   "--csv: expected a file name, or - for stdout");
		sc.csv = arg;
		return 0;
	case OPT_WAVEFORM:
		sc.waveform = arg;
		return 0;
	case OPT_SCOPE:
		/* Repeated, or comma-separated: --scope A,B --scope C. */
		for (char *tok = (char *)arg, *comma; tok; tok = comma) {
			comma = strchr(tok, ',');
			if (comma)
				*comma++ = '\0'; /* argv is ours to cut */
			if (!tok[0])
				return usage_error(cli->cmd, "--scope '%s': an empty register",
				                   arg);
			if (sc.n_scope_regs == SCOPE_MAX_SCOPE_REGS)
				return usage_error(cli->cmd, "--scope: at most %d registers",
				                   SCOPE_MAX_SCOPE_REGS);
			sc.scope_regs[sc.n_scope_regs++] = tok;
		}
		return 0;
	default:
		return usage_error(cli->cmd, "unhandled option");
	}
}

/* A register the library refused: its reason, and the nearest id for an unknown one. */
static int scope_add_failed(ax_drive *drive, const char *id)
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

/* Add register @id as a channel; its index, or -1 with the failure reported in *rc. */
static int scope_add(ax_scope *scope, const char *id, int *rc)
{
	int ch = ax_scope_add_channel(scope, id, sc.axis);

	if (ch < 0)
		*rc = scope_add_failed(ax_scope_drive(scope), id);
	return ch;
}

/*
 * --trigger REG:EDGE:LEVEL on @scope: REG a channel (added when not one),
 * EDGE rising|falling|either, LEVEL a number in REG's units.
 */
static int scope_trigger(const struct cli *cli, ax_scope *scope)
{
	static const struct {
		const char *name;
		int trigger;
	} edges[] = {
	        {"rising", AX_SCOPE_TRIGGER_RISING},
	        {"falling", AX_SCOPE_TRIGGER_FALLING},
	        {"either", AX_SCOPE_TRIGGER_EITHER},
	};
	char *copy = strdup(sc.trigger), *edge, *level;
	int trigger = -1, ch = -1, rc = 0;
	double lv;

	if (!copy)
		return fail_oom();
	edge = strchr(copy, ':');
	level = edge ? strchr(edge + 1, ':') : NULL;
	if (!edge || !level || edge == copy) {
		rc = usage_error(cli->cmd,
		                 "--trigger '%s': expected REGISTER:EDGE:LEVEL "
		                 "(EDGE rising, falling or either)",
		                 sc.trigger);
		goto out;
	}
	*edge++ = '\0';
	*level++ = '\0';
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		if (strcmp(edge, edges[i].name) == 0)
			trigger = edges[i].trigger;
	if (trigger < 0) {
		rc = usage_error(cli->cmd,
		                 "--trigger '%s': edge '%s' is not rising, falling or "
		                 "either",
		                 sc.trigger, edge);
		goto out;
	}
	if (scope_parse_number(level, &lv) < 0) {
		rc = usage_error(cli->cmd, "--trigger '%s': level '%s' is not a number", sc.trigger,
		                 level);
		goto out;
	}
	for (unsigned i = 0; i < ax_scope_channel_count(scope); i++)
		if (strcmp(ax_reg_id(ax_scope_channel_reg(scope, i)), copy) == 0)
			ch = (int)i;
	if (ch < 0) {
		ch = scope_add(scope, copy, &rc);
		if (ch < 0)
			goto out;
	}
	if (ax_scope_set_trigger(scope, trigger, (unsigned)ch, lv) < 0)
		rc = fail_last();
out:
	free(copy);
	return rc;
}

/* A value as text: exact for integers, 9 digits for floats. */
static void scope_format(char *buf, size_t cap, double v, int dtype)
{
	(void)snprintf(buf, cap, "%.*g", dtype == AX_DTYPE_FLOAT ? 9 : 17, v);
}

static int scope_write_csv(const ax_scope *scope)
{
	size_t n = ax_scope_sample_count(scope);
	unsigned nch = ax_scope_channel_count(scope);
	const double *t = ax_scope_time(scope);
	FILE *f = strcmp(sc.csv, "-") == 0 ? stdout : fopen(sc.csv, "w");
	char num[64];

	if (!f)
		return cli_fail(AX_EIO, AX_ERRCLASS_INTERNAL, "cannot write '%s': %s", sc.csv,
		                strerror(errno));
	fputs("t_s", f);
	for (unsigned c = 0; c < nch; c++)
		fprintf(f, ",%s", ax_reg_id(ax_scope_channel_reg(scope, c)));
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%.9g", t[i]);
		for (unsigned c = 0; c < nch; c++) {
			scope_format(num, sizeof(num), ax_scope_data(scope, c)[i],
			             ax_reg_dtype(ax_scope_channel_reg(scope, c)));
			fprintf(f, ",%s", num);
		}
		fputc('\n', f);
	}
	if ((f == stdout ? fflush(f) : fclose(f)) != 0 || (f == stdout && ferror(f)))
		return cli_fail(AX_EIO, AX_ERRCLASS_INTERNAL, "writing '%s': %s", sc.csv,
		                strerror(errno));
	return 0;
}

static json_t *scope_json(const ax_scope *scope, uint32_t pre)
{
	size_t n = ax_scope_sample_count(scope);
	unsigned nch = ax_scope_channel_count(scope);
	const double *t = ax_scope_time(scope);
	json_t *root = json_object(), *chans = json_array(), *ts = json_array();

	if (!root || !chans || !ts)
		goto oom;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(ts, json_real(t[i])) != 0)
			goto oom;
	for (unsigned c = 0; c < nch; c++) {
		const ax_reg *reg = ax_scope_channel_reg(scope, c);
		const double *v = ax_scope_data(scope, c);
		int dtype = ax_reg_dtype(reg);
		json_t *o = json_object(), *vals = json_array();

		if (!o || !vals || json_array_append_new(chans, o) != 0) {
			json_decref(vals);
			goto oom;
		}
		json_object_set_new(o, "register", json_text(ax_reg_id(reg)));
		json_object_set_new(o, "subnode", json_integer(ax_reg_subnode(reg)));
		json_object_set_new(o, "dtype", json_string(ax_dtype_name(dtype)));
		json_object_set_new(o, "units", json_text(ax_reg_units(reg)));
		for (size_t i = 0; i < n; i++) {
			json_t *x = dtype == AX_DTYPE_FLOAT ? json_real(v[i])
			                                    : json_integer((json_int_t)v[i]);

			if (json_array_append_new(vals, x) != 0) {
				json_decref(vals);
				goto oom;
			}
		}
		json_object_set_new(o, "values", vals);
	}
	json_object_set_new(root, "samples", json_integer((json_int_t)n));
	json_object_set_new(root, "period_us", json_real(ax_scope_period_us(scope)));
	json_object_set_new(root, "base_period_us", json_real(ax_scope_base_period_us(scope)));
	json_object_set_new(root, "pre", json_integer(pre));
	json_object_set_new(root, "wire_bytes",
	                    json_integer((json_int_t)ax_scope_wire_bytes(scope)));
	json_object_set_new(root, "t_s", ts);
	json_object_set_new(root, "channels", chans);
	return root;
oom:
	json_decref(root);
	json_decref(chans);
	json_decref(ts);
	return NULL;
}

/* The capture as CSV, JSON or a summary, as the options say. */
static int scope_output(const struct cli *cli, const ax_scope *scope, uint32_t pre)
{
	size_t n = ax_scope_sample_count(scope);
	unsigned nch = ax_scope_channel_count(scope);
	int rc;

	if (sc.csv) {
		rc = scope_write_csv(scope);
		if (rc != 0)
			return rc;
	}
	if (cli->json) {
		json_t *root = scope_json(scope, pre);

		if (!root)
			return fail_oom();
		rc = print_json(root);
		json_decref(root);
		return rc;
	}
	if (sc.csv && strcmp(sc.csv, "-") == 0)
		return EXIT_SUCCESS;
	printf("%zu samples x %u channels every %g us (base %g us), %llu bytes on the wire\n", n,
	       nch, ax_scope_period_us(scope), ax_scope_base_period_us(scope),
	       (unsigned long long)ax_scope_wire_bytes(scope));
	for (unsigned c = 0; c < nch && n > 0; c++) {
		const ax_reg *reg = ax_scope_channel_reg(scope, c);
		const double *v = ax_scope_data(scope, c);
		double lo = v[0], hi = v[0];
		char a[64], b[64], first[64], last[64];
		int dtype = ax_reg_dtype(reg);

		for (size_t i = 1; i < n; i++) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
		scope_format(a, sizeof(a), lo, dtype);
		scope_format(b, sizeof(b), hi, dtype);
		scope_format(first, sizeof(first), v[0], dtype);
		scope_format(last, sizeof(last), v[n - 1], dtype);
		printf("  %-28s first %s  last %s  min %s  max %s %s\n", ax_reg_id(reg), first,
		       last, a, b, ax_reg_units(reg));
	}
	return EXIT_SUCCESS;
}

struct sig_guard {
	struct sigaction old_int, old_term;
};

static void guard_on(struct sig_guard *g, ax_cancel *cancel)
{
	struct sigaction sa;

	scope_cancel = cancel;
	scope_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = scope_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, &g->old_int);
	(void)sigaction(SIGTERM, &sa, &g->old_term);
}

static void guard_off(struct sig_guard *g)
{
	(void)sigaction(SIGINT, &g->old_int, NULL);
	(void)sigaction(SIGTERM, &g->old_term, NULL);
	scope_cancel = NULL;
}

/* Wait for and fetch the armed capture; on a signal disable it and return 128 + signal. */
static int scope_wait_fetch(const struct cli *cli, ax_scope *scope, ax_cancel *cancel)
{
	int timeout = cli->timeout_ms > 0 ? cli->timeout_ms : SCOPE_DEFAULT_TIMEOUT_MS;
	struct sig_guard g;
	int err;

	guard_on(&g, cancel);
	err = ax_scope_wait(scope, timeout, cancel);
	guard_off(&g);
	if (err == AX_ECANCELED && scope_signal) {
		int sig = scope_signal;

		(void)ax_scope_disable(scope);
		cli_note_error(AX_ECANCELED, ax_error_last_class(),
		               "interrupted: capture abandoned");
		fprintf(stderr, "\naxlink: interrupted: the drive's monitoring is disabled\n");
		return 128 + sig;
	}
	if (err < 0) {
		int rc = fail_last();

		(void)ax_scope_disable(scope);
		return rc;
	}
	if (ax_scope_fetch(scope) < 0) {
		int rc = fail_last();

		(void)ax_scope_disable(scope);
		return rc;
	}
	(void)ax_scope_disable(scope);
	return 0;
}

static int cmd_scope(struct cli *cli)
{
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	ax_scope *scope = NULL;
	ax_cancel *cancel = NULL;
	unsigned long samples = sc.samples ? sc.samples : 1000;
	int rc;

	if (cli->json && sc.csv && strcmp(sc.csv, "-") == 0)
		return usage_error(cli->cmd, "--csv - and --json would both write to stdout");
	if (sc.pre >= samples)
		return usage_error(cli->cmd, "--pre %lu: must be below --samples (%lu)", sc.pre,
		                   samples);
	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		goto out;
	rc = open_drive(cli, ctx, cli->pos[0], &drive);
	if (rc != 0)
		goto out;
	rc = EXIT_FAILURE;
	if (ax_cancel_new(&cancel) < 0 || ax_scope_new(&scope, drive) < 0) {
		rc = fail_last();
		goto out;
	}
	for (size_t i = 1; i < cli->n_pos; i++) {
		if (scope_add(scope, cli->pos[i], &rc) < 0)
			goto out;
	}
	if (sc.trigger) {
		rc = scope_trigger(cli, scope);
		if (rc != 0)
			goto out;
		rc = EXIT_FAILURE;
	}
	if ((sc.period_us > 0.0 && ax_scope_set_period_us(scope, sc.period_us) < 0) ||
	    ax_scope_set_samples(scope, (uint32_t)samples, (uint32_t)sc.pre) < 0 ||
	    ax_scope_arm(scope) < 0) {
		rc = fail_last();
		goto out;
	}
	rc = scope_wait_fetch(cli, scope, cancel);
	if (rc == 0)
		rc = scope_output(cli, scope, (uint32_t)sc.pre);
out:
	ax_scope_unref(scope);
	ax_cancel_unref(cancel);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return finish_stdout(rc);
}

/*
 * The waveform file: one sample per line, the first field of a CSV line;
 * a first line that is not a number is a header. *out is malloc'ed.
 */
static int read_waveform(const char *path, double **out, size_t *n_out)
{
	FILE *f = fopen(path, "r");
	char line[512];
	double *v = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	int rc = 0;

	if (!f)
		return cli_fail(AX_ENOTFOUND, AX_ERRCLASS_ARGUMENT, "cannot read '%s': %s", path,
		                strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *field = line, *end;
		double d;

		lineno++;
		field[strcspn(field, ",;\t\r\n")] = '\0';
		while (*field == ' ')
			field++;
		end = field + strlen(field);
		while (end > field && end[-1] == ' ')
			*--end = '\0';
		if (!field[0])
			continue;
		if (scope_parse_number(field, &d) < 0) {
			if (lineno == 1)
				continue; /* a header */
			rc = cli_fail(AX_EINVAL, AX_ERRCLASS_ARGUMENT,
			              "%s:%zu: '%s' is not a number", path, lineno, field);
			goto out;
		}
		if (n == cap) {
			double *nv = realloc(v, (cap ? cap * 2 : 256) * sizeof(*v));

			if (!nv) {
				rc = fail_oom();
				goto out;
			}
			v = nv;
			cap = cap ? cap * 2 : 256;
		}
		v[n++] = d;
	}
	if (n == 0) {
		rc = cli_fail(AX_EINVAL, AX_ERRCLASS_ARGUMENT, "%s: no samples in the file", path);
		goto out;
	}
	*out = v;
	*n_out = n;
	v = NULL;
out:
	free(v);
	fclose(f);
	return rc;
}

static int cmd_disturb(struct cli *cli)
{
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	ax_disturbance *dist = NULL;
	ax_scope *scope = NULL;
	ax_cancel *cancel = NULL;
	double *wave = NULL;
	size_t n = 0;
	int ch, rc;

	if (!sc.waveform)
		return usage_error(cli->cmd, "--waveform FILE is required");
	if (cli->json && sc.csv && strcmp(sc.csv, "-") == 0)
		return usage_error(cli->cmd, "--csv - and --json would both write to stdout");
	if (cli->n_pos != 2)
		return usage_error(cli->cmd, "one target REGISTER (got %zu)", cli->n_pos - 1);
	rc = read_waveform(sc.waveform, &wave, &n);
	if (rc != 0)
		return rc;
	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		goto out;
	rc = open_drive(cli, ctx, cli->pos[0], &drive);
	if (rc != 0)
		goto out;
	rc = EXIT_FAILURE;
	if (ax_cancel_new(&cancel) < 0 || ax_disturbance_new(&dist, drive) < 0) {
		rc = fail_last();
		goto out;
	}
	ch = ax_disturbance_add_channel(dist, cli->pos[1], sc.axis);
	if (ch < 0) {
		rc = scope_add_failed(drive, cli->pos[1]);
		goto out;
	}
	if ((sc.period_us > 0.0 && ax_disturbance_set_period_us(dist, sc.period_us) < 0) ||
	    ax_disturbance_set_waveform(dist, (unsigned)ch, wave, n) < 0) {
		rc = fail_last();
		goto out;
	}
	if (sc.n_scope_regs) {
		unsigned long samples = sc.samples ? sc.samples : n;

		if (ax_scope_new(&scope, drive) < 0) {
			rc = fail_last();
			goto out;
		}
		for (size_t i = 0; i < sc.n_scope_regs; i++)
			if (scope_add(scope, sc.scope_regs[i], &rc) < 0)
				goto out;
		if (ax_scope_set_samples(scope, (uint32_t)samples, 0) < 0) {
			rc = fail_last();
			goto out;
		}
	}
	if (ax_disturbance_load(dist) < 0 || ax_disturbance_start(dist, scope) < 0) {
		rc = fail_last();
		goto out;
	}
	if (scope) {
		rc = scope_wait_fetch(cli, scope, cancel);
		(void)ax_disturbance_stop(dist);
		if (rc == 0)
			rc = scope_output(cli, scope, 0);
		goto out;
	}
	/* No capture: let the waveform play once, then stop it. */
	{
		struct sig_guard g;
		double period = sc.period_us > 0.0 ? sc.period_us : 0.0;
		int timeout = cli->timeout_ms > 0 ? cli->timeout_ms : SCOPE_DEFAULT_TIMEOUT_MS;
		int err;

		if (period == 0.0) {
			ax_scope *probe = NULL;

			/* The base period, which the disturbance plays at by default. */
			if (ax_scope_new(&probe, drive) == 0)
				period = ax_scope_base_period_us(probe);
			ax_scope_unref(probe);
		}
		guard_on(&g, cancel);
		err = ax_disturbance_wait(dist, timeout + (int)(period * (double)n / 1e3), cancel);
		guard_off(&g);
		if (err < 0 && !scope_signal) {
			rc = fail_last();
			(void)ax_disturbance_stop(dist);
			goto out;
		}
		if (ax_disturbance_stop(dist) < 0) {
			rc = fail_last();
			goto out;
		}
		if (scope_signal) {
			fprintf(stderr, "\naxlink: interrupted: the disturbance is stopped\n");
			rc = 128 + scope_signal;
			goto out;
		}
		if (cli->json) {
			json_t *o = json_pack("{s:o, s:I, s:f, s:I}", "register",
			                      json_text(cli->pos[1]), "samples", (json_int_t)n,
			                      "period_us", period, "wire_bytes",
			                      (json_int_t)ax_disturbance_wire_bytes(dist));

			if (!o) {
				rc = fail_oom();
				goto out;
			}
			rc = print_json(o);
			json_decref(o);
		} else {
			printf("played %zu samples into %s every %g us (%llu bytes on the wire)\n",
			       n, cli->pos[1], period,
			       (unsigned long long)ax_disturbance_wire_bytes(dist));
			rc = EXIT_SUCCESS;
		}
	}
out:
	free(wave);
	ax_scope_unref(scope);
	ax_disturbance_unref(dist);
	ax_cancel_unref(cancel);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return finish_stdout(rc);
}

static const struct command scope_commands[] = {
        {
                .name = "scope",
                .synopsis = "URI REGISTER... [--period-us P] [--samples N] "
                            "[--trigger REG:EDGE:LEVEL] [--pre N] [--csv FILE]",
                .summary = "capture registers inside the drive (its oscilloscope)",
                .help = "Map the registers into the drive's monitoring, let the drive sample\n"
                        "them at its own loop rate, then read the buffer (extended frames of\n"
                        "512 bytes). The sample rate does not depend on the bus.\n"
                        "  REGISTER         a register id of the drive's dictionary (a cyclic,\n"
                        "                   numeric one)\n"
                        "  --period-us P    time between samples: a multiple of the drive's base\n"
                        "                   period (default: the base period)\n"
                        "  --samples N      samples per channel (default 1000)\n"
                        "  --trigger REG:EDGE:LEVEL  start at an edge of REG (added as a channel\n"
                        "                   when not one) through LEVEL in its units; EDGE is\n"
                        "                   rising, falling or either (default: at once)\n"
                        "  --pre N          samples kept before the trigger (default 0)\n"
                        "  --axis N         look the registers up on subnode N\n"
                        "  --timeout-ms T   how long to wait for the capture (default 10000);\n"
                        "                   also the request timeout\n"
                        "  --csv FILE       write t_s (0 at the trigger) and one column per\n"
                        "                   register; - = stdout\n"
                        "  --dict FILE      dictionary file instead of the device databases\n"
                        "Without --csv or --json a summary per channel goes to stdout. --json:\n"
                        "{samples, period_us, base_period_us, pre, wire_bytes, t_s: [...],\n"
                        "channels: [{register, subnode, dtype, units, values: [...]}]}.\n"
                        "Ctrl-C during the wait disables the drive's monitoring and exits 130.\n"
                        "Example: axlink scope eth://127.0.0.2 CL_POS_FBK_VALUE "
                        "CL_VEL_FBK_VALUE\n"
                        "         --period-us 50 --samples 2000 --trigger "
                        "CL_VEL_FBK_VALUE:rising:1\n",
                .arg_names = {"URI", "REGISTER", NULL},
                .variadic = 1,
                .opts = scope_options,
                .run = cmd_scope,
                .option = scope_option,
        },
        {
                .name = "disturb",
                .synopsis = "URI REGISTER --waveform FILE.csv [--period-us P] [--scope REG...]",
                .summary = "play a waveform into a register inside the drive",
                .help = "Load a waveform into the drive's disturbance buffer and play it into\n"
                        "REGISTER (a writable cyclic register) at the drive's loop rate.\n"
                        "  --waveform FILE  one sample per line (the first field of a CSV line;\n"
                        "                   a first line that is not a number is a header), in\n"
                        "                   REGISTER's units; each must fit its type and range\n"
                        "  --period-us P    time between samples: a multiple of the drive's base\n"
                        "                   period (default: the base period)\n"
                        "  --scope REG,...  capture these registers with the waveform, from its\n"
                        "                   first sample (repeat or separate with commas); the\n"
                        "                   output is then as 'axlink scope' prints it\n"
                        "  --samples N      samples to capture (default: the waveform's length)\n"
                        "  --csv FILE       with --scope: the capture as CSV\n"
                        "  --axis N         look the registers up on subnode N\n"
                        "Without --scope the waveform plays once and stops; --json then prints\n"
                        "{register, samples, period_us, wire_bytes}.\n"
                        "Example: axlink disturb eth://127.0.0.2 CL_CUR_Q_SET_POINT --waveform "
                        "step.csv\n"
                        "         --scope CL_CUR_Q_VALUE --csv response.csv\n",
                .arg_names = {"URI", "REGISTER", NULL},
                .variadic = 1,
                .opts = disturb_options,
                .run = cmd_disturb,
                .option = scope_option,
        },
};

const struct cli_group cli_scope_group = {
        scope_commands,
        sizeof(scope_commands) / sizeof(scope_commands[0]),
};
