/* SPDX-License-Identifier: MIT */
/*
 * axlink list | info | watch: discovery from the shell.
 *
 *   axlink list [SPEC...] [--timeout-ms MS] [--db PATH] [--json]
 *   axlink info URI [--dict FILE] [--json]
 *   axlink watch [SPEC...] [--period-ms MS] [--misses N] [--db PATH] [--json]
 *
 * list runs one discovery (ax_discover) and prints what it found; on a
 * terminal a progress line on stderr shows it working. watch streams
 * hot-plug events (ax_monitor) until SIGINT or SIGTERM, one line (or one
 * JSON object) each, flushed at once so a pipe sees them as they happen.
 * Notes about transports that failed, hung or were skipped go to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* DRV_STATE_STATUS: the CiA 402 status word of each axis (DESIGN §5, §7). */
#define REG_STATUS_WORD 0x011

enum {
	OPT_PERIOD = 500,
	OPT_MISSES,
};

static const struct option list_options[] = {
        CLI_COMMON_OPTIONS,
        {"db", required_argument, NULL, OPT_DB},
        {NULL, 0, NULL, 0},
};

static const struct option info_options[] = {
        CLI_COMMON_OPTIONS,
        {"dict", required_argument, NULL, OPT_DICT},
        {NULL, 0, NULL, 0},
};

static const struct option watch_options[] = {
        CLI_COMMON_OPTIONS,
        {"db", required_argument, NULL, OPT_DB},
        {"period-ms", required_argument, NULL, OPT_PERIOD},
        {"misses", required_argument, NULL, OPT_MISSES},
        {NULL, 0, NULL, 0},
};

/* watch's own settings; a command runs once per process. */
static int watch_period_ms;
static int watch_misses;

static int discover_option(struct cli *cli, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_PERIOD:
		if (parse_uint(arg, INT_MAX, &v) < 0 || v == 0)
			return usage_error(cli->cmd,
			                   "--period-ms '%s': expected 1..%d milliseconds", arg,
			                   INT_MAX);
		watch_period_ms = (int)v;
		return 0;
	case OPT_MISSES:
		if (parse_uint(arg, 1000, &v) < 0 || v == 0)
			return usage_error(cli->cmd, "--misses '%s': expected 1..1000", arg);
		watch_misses = (int)v;
		return 0;
	default:
		return usage_error(cli->cmd, "unhandled option");
	}
}

/* ---- shared ------------------------------------------------------------ */

/* SPEC arguments joined by commas (NULL when none: every transport's defaults). */
static char *join_specs(const struct cli *cli)
{
	size_t len = 0, at = 0;
	char *s;

	if (cli->n_pos == 0)
		return NULL;
	for (size_t i = 0; i < cli->n_pos; i++)
		len += strlen(cli->pos[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < cli->n_pos; i++) {
		size_t n = strlen(cli->pos[i]);

		if (i)
			s[at++] = ',';
		memcpy(s + at, cli->pos[i], n);
		at += n;
	}
	s[at] = '\0';
	return s;
}

/* The JSON object of a result (keys documented in the commands' help). */
static json_t *result_json(const ax_discover_result *r)
{
	json_t *o = json_object();
	int ok = 0;

	if (!o)
		return NULL;
	ok |= json_object_set_new(o, "uri", json_text(r->uri));
	ok |= json_object_set_new(o, "stable_uri", text_or_null(r->stable_uri));
	ok |= json_object_set_new(o, "transport", json_text(r->transport));
	ok |= json_object_set_new(o, "detail", text_or_null(r->detail));
	ok |= json_object_set_new(
	        o, "vendor_id", r->known & AX_SCAN_HAS_VENDOR ? hex32(r->vendor_id) : json_null());
	ok |= json_object_set_new(o, "product_code",
	                          r->known & AX_SCAN_HAS_PRODUCT ? hex32(r->product_code)
	                                                         : json_null());
	ok |= json_object_set_new(
	        o, "revision", r->known & AX_SCAN_HAS_REVISION ? hex32(r->revision) : json_null());
	ok |= json_object_set_new(o, "serial_number",
	                          r->known & AX_SCAN_HAS_SERIAL ? json_integer(r->serial)
	                                                        : json_null());
	ok |= json_object_set_new(o, "firmware_version",
	                          r->known & AX_SCAN_HAS_SW_VERSION ? text_or_null(r->sw_version)
	                                                            : json_null());
	ok |= json_object_set_new(o, "model", text_or_null(r->model));
	ok |= json_object_set_new(o, "dictionary", text_or_null(r->dictionary));
	ok |= json_object_set_new(
	        o, "match",
	        json_string(ax_match_name(r->match) ? ax_match_name(r->match) : "none"));
	ok |= json_object_set_new(o, "match_reason", text_or_null(r->match_reason));
	ok |= json_object_set_new(o, "access",
	                          json_string(ax_access_state_name(r->access)
	                                              ? ax_access_state_name(r->access)
	                                              : "error"));
	ok |= json_object_set_new(o, "message", text_or_null(r->message));
	ok |= json_object_set_new(o, "hint", text_or_null(r->hint));
	if (ok != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* "axlink: TARGET: TEXT" on stderr, both escaped: a plugin's text may quote a drive's. */
static void note(const char *target, const char *sep, const char *text)
{
	fputs("axlink: ", stderr);
	(void)put_safe(stderr, target);
	fputs(sep, stderr);
	(void)put_safe(stderr, text);
	fputc('\n', stderr);
}

/* A transport that did not simply finish: one line on stderr. */
static void note_outcome(const ax_discover_transport *t)
{
	char text[96];

	switch (t->status) {
	case AX_DISCOVER_FAILED:
		note(t->target, ": ", t->message);
		break;
	case AX_DISCOVER_TIMED_OUT:
		(void)snprintf(text, sizeof(text),
		               "still scanning at the deadline (%u found so far)", t->found);
		note(t->target, ": ", text);
		break;
	case AX_DISCOVER_SKIPPED:
		note(t->target, " skipped: ", t->message);
		break;
	default:
		break;
	}
}

static int open_db(const struct cli *cli, ax_db **out)
{
	*out = NULL;
	if (!cli->db_path)
		return 0;
	if (ax_db_open(out, cli->db_path, AX_DB_READONLY) < 0)
		return fail_last();
	return 0;
}

/* ---- list ------------------------------------------------------------------ */

struct listing {
	json_t *rows; /* array of result objects */
	size_t found; /* rows with access ok */
	size_t targets_done;
	int progress; /* a progress line is on the terminal */
	int failed;   /* out of memory while collecting */
};

static void progress_show(struct listing *l)
{
	if (!l->progress)
		return;
	fprintf(stderr, "\r\033[Kscanning... %zu drive(s) found, %zu target(s) done", l->found,
	        l->targets_done);
	fflush(stderr);
}

static void progress_clear(struct listing *l)
{
	if (!l->progress)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

static int list_found(const ax_discover_result *r, void *userdata)
{
	struct listing *l = userdata;
	json_t *o = result_json(r);

	if (!o || json_array_append_new(l->rows, o) != 0) {
		l->failed = 1;
		return -1;
	}
	l->found += r->access == AX_ACCESS_OK;
	progress_show(l);
	return 0;
}

static int list_outcome(const ax_discover_transport *t, void *userdata)
{
	struct listing *l = userdata;

	l->targets_done++;
	if (t->status != AX_DISCOVER_DONE) {
		progress_clear(l);
		note_outcome(t);
	}
	progress_show(l);
	return 0;
}

/* Order "eth://127.0.0.10" after "eth://127.0.0.9": digit runs compare as numbers. */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;
			size_t la, lb;
			int c;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			if (la != lb)
				return la < lb ? -1 : 1;
			c = memcmp(a, b, la);
			if (c)
				return c;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

static int row_cmp(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;

	return natural_cmp(jstr(a, "uri"), jstr(b, "uri"));
}

/* Rows in URI order: the order drives answered in is not worth keeping. */
static int sort_rows(json_t *rows, json_t **sorted_out)
{
	size_t n = json_array_size(rows);
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	json_t *sorted = json_array();

	if (!v || !sorted) {
		free(v);
		json_decref(sorted);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(rows, i);
	qsort(v, n, sizeof(*v), row_cmp);
	for (size_t i = 0; i < n; i++)
		if (json_array_append(sorted, v[i]) != 0) {
			free(v);
			json_decref(sorted);
			return -1;
		}
	free(v);
	*sorted_out = sorted;
	return 0;
}

static void serial_text(const json_t *o, char *buf, size_t cap)
{
	const json_t *s = json_object_get(o, "serial_number");

	if (json_is_integer(s))
		(void)snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(s));
	else
		(void)snprintf(buf, cap, "-");
}

/* Every cell but the last of a row holds a drive's or a file's text: escaped and padded. */
static void list_table(const json_t *rows)
{
	int w_model = 5, w_serial = 6, w_fw = 8, w_uri = 3, w_match = 5, len;
	size_t n = json_array_size(rows);
	char serial[24];

	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(rows, i);

		serial_text(o, serial, sizeof(serial));
#define WIDEN(w, s) ((len = safe_width(s)) > (w) ? (w) = len : (w))
		WIDEN(w_model, or_dash(jstr(o, "model")));
		WIDEN(w_serial, serial);
		WIDEN(w_fw, or_dash(jstr(o, "firmware_version")));
		WIDEN(w_uri, jstr(o, "uri"));
		WIDEN(w_match, jstr(o, "match"));
#undef WIDEN
	}
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w_model, "MODEL", w_serial, "SERIAL", w_fw,
	       "FIRMWARE", w_uri, "URI", w_match, "MATCH", "ACCESS");
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(rows, i);

		serial_text(o, serial, sizeof(serial));
		(void)put_safe_cell(stdout, or_dash(jstr(o, "model")), w_model);
		printf("  %-*s  ", w_serial, serial);
		(void)put_safe_cell(stdout, or_dash(jstr(o, "firmware_version")), w_fw);
		fputs("  ", stdout);
		(void)put_safe_cell(stdout, jstr(o, "uri"), w_uri);
		fputs("  ", stdout);
		(void)put_safe_cell(stdout, jstr(o, "match"), w_match);
		fputs("  ", stdout);
		(void)put_safe(stdout, jstr(o, "access"));
		putchar('\n');
	}
	/*
	 * What is wrong with a row, and what to do about it: notes, not data,
	 * so on stderr, after the table, where a pipe of stdout does not get them.
	 */
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(rows, i);
		const char *msg = jstr(o, "message"), *hint = jstr(o, "hint");

		if (*msg) {
			fputs("axlink: ", stderr);
			(void)put_safe(stderr, jstr(o, "uri"));
			fputs(": ", stderr);
			(void)put_safe(stderr, msg);
			fputc('\n', stderr);
		}
		if (*hint) {
			fputs("axlink: ", stderr);
			(void)put_safe(stderr, jstr(o, "uri"));
			fputs(": hint: ", stderr);
			(void)put_safe(stderr, hint);
			fputc('\n', stderr);
		}
	}
}

static int cmd_list(struct cli *cli)
{
	ax_discover_options opts = AX_DISCOVER_OPTIONS_INIT;
	struct listing l = {0};
	json_t *sorted = NULL;
	ax_ctx *ctx = NULL;
	ax_db *db = NULL;
	char *spec = join_specs(cli);
	int rc, ret;

	if (cli->n_pos && !spec)
		return fail_oom();
	rc = open_ctx(cli, &ctx);
	if (rc == 0)
		rc = open_db(cli, &db);
	if (rc != 0)
		goto out;
	l.rows = json_array();
	if (!l.rows) {
		rc = fail_oom();
		goto out;
	}
	/* Progress is for a person watching, never for a pipe or a log. */
	l.progress = !cli->json && isatty(STDERR_FILENO) && !cli->verbose;
	opts.timeout_ms = cli->timeout_ms;
	opts.db = db;
	opts.on_transport = list_outcome;
	progress_show(&l);
	ret = ax_discover(ctx, spec, &opts, list_found, &l);
	progress_clear(&l);
	if (l.failed) {
		rc = fail_oom();
		goto out;
	}
	if (ret < 0) {
		rc = fail_last();
		goto out;
	}
	if (sort_rows(l.rows, &sorted) != 0) {
		rc = fail_oom();
		goto out;
	}
	cli_remember_uris(sorted);
	if (cli->json) {
		rc = print_json(sorted);
	} else {
		if (json_array_size(sorted))
			list_table(sorted);
		else
			fprintf(stderr, "axlink: no drives found\n");
		rc = EXIT_SUCCESS;
	}
	rc = finish_stdout(rc);
out:
	json_decref(sorted);
	json_decref(l.rows);
	ax_db_unref(db);
	ax_ctx_unref(ctx);
	free(spec);
	return rc;
}

/* ---- info ------------------------------------------------------------------ */

struct axis_state {
	unsigned axis;
	int have; /* the status word was read */
	uint16_t word;
	const char *state; /* ax_cia402_state_name(), or NULL when it matches none */
	char error[256];
	int faulted; /* in fault with a code: fault holds it and its text */
	ax_dict_error_entry fault;
};

static void read_axis(ax_drive *d, unsigned axis, struct axis_state *out)
{
	uint32_t address = REG_STATUS_WORD;
	const ax_reg *reg;

	memset(out, 0, sizeof(*out));
	out->axis = axis;
	/* Elsewhere than MCB (CANopen: 0x6041) the status word is where the dictionary says. */
	if (ax_link_addr_space(ax_drive_link(d)) != AX_ADDR_MCB && ax_drive_dict(d) &&
	    ax_dict_find(ax_drive_dict(d), "DRV_STATE_STATUS", (int)axis, &reg) == 0)
		address = ax_reg_address(reg);
	if (ax_link_read_u16(ax_drive_link(d), axis, address, &out->word) < 0) {
		(void)snprintf(out->error, sizeof(out->error), "%s", ax_error_last());
		return;
	}
	out->have = 1;
	out->state = ax_cia402_state_name(ax_cia402_decode(out->word));
	if (ax_cia402_decode(out->word) == AX_CIA402_FAULT ||
	    ax_cia402_decode(out->word) == AX_CIA402_FAULT_REACTION_ACTIVE) {
		if (ax_drive_fault(d, (int)axis, &out->fault) == 0 && out->fault.code)
			out->faulted = 1;
		else
			ax_error_clear(); /* no DRV_DIAG_ERROR_LAST: the state says enough */
	}
}

static int info_json(ax_drive *d, const char *stable, const struct axis_state *ax, unsigned n_axes)
{
	const ax_identity *id = ax_drive_identity(d);
	const ax_dict *dict = ax_drive_dict(d);
	json_t *root = json_object(), *axes = json_array();
	int bad = !root || !axes;

	if (!bad) {
		bad |= json_object_set_new(root, "uri", json_text(ax_drive_uri(d)));
		bad |= json_object_set_new(root, "stable_uri", text_or_null(stable));
		bad |= json_object_set_new(root, "transport",
		                           json_text(ax_link_scheme(ax_drive_link(d))));
		/* A drive opened with --dict may report no identity: null, as in list. */
		bad |= json_object_set_new(root, "vendor_id",
		                           id->known & AX_SCAN_HAS_VENDOR ? hex32(id->vendor_id)
		                                                          : json_null());
		bad |= json_object_set_new(root, "product_code",
		                           id->known & AX_SCAN_HAS_PRODUCT ? hex32(id->product_code)
		                                                           : json_null());
		bad |= json_object_set_new(root, "revision",
		                           id->known & AX_SCAN_HAS_REVISION ? hex32(id->revision)
		                                                            : json_null());
		bad |= json_object_set_new(root, "serial_number",
		                           id->known & AX_SCAN_HAS_SERIAL ? json_integer(id->serial)
		                                                          : json_null());
		bad |= json_object_set_new(root, "firmware_version",
		                           id->known & AX_SCAN_HAS_SW_VERSION
		                                   ? text_or_null(id->sw_version)
		                                   : json_null());
		bad |= json_object_set_new(root, "model",
		                           dict ? text_or_null(ax_dict_identity_get(dict)->name)
		                                : json_null());
		bad |= json_object_set_new(root, "dictionary",
		                           dict ? text_or_null(ax_dict_source(dict)) : json_null());
		bad |= json_object_set_new(root, "match",
		                           json_string(ax_match_name(ax_drive_match(d))));
		bad |= json_object_set_new(root, "match_reason",
		                           text_or_null(ax_drive_match_reason(d)));
	}
	for (unsigned i = 0; !bad && i < n_axes; i++) {
		json_t *a = json_object();

		bad |= !a;
		if (bad)
			break;
		bad |= json_object_set_new(a, "axis", json_integer(ax[i].axis));
		bad |= json_object_set_new(a, "statusword",
		                           ax[i].have ? json_integer(ax[i].word) : json_null());
		bad |= json_object_set_new(a, "state",
		                           ax[i].have && ax[i].state ? json_string(ax[i].state)
		                                                     : json_null());
		bad |= json_object_set_new(a, "error",
		                           ax[i].have ? json_null() : json_text(ax[i].error));
		bad |= json_object_set_new(
		        a, "fault",
		        ax[i].faulted ? json_pack("{s:o, s:o}", "code", hex32(ax[i].fault.code),
		                                  "text", json_text(ax[i].fault.text))
		                      : json_null());
		bad |= json_array_append_new(axes, a);
	}
	if (!bad)
		bad |= json_object_set_new(root, "axes", axes) != 0;
	else
		json_decref(axes);
	if (bad) {
		json_decref(root);
		return fail_oom();
	}
	bad = print_json(root);
	json_decref(root);
	return bad;
}

/* "label  text\n" with the text escaped: it is the drive's, or a file's. */
static void info_line(const char *label, const char *text)
{
	printf("%-15s", label);
	(void)put_safe(stdout, text);
	putchar('\n');
}

/* An identity field: hex, or "-" when the drive did not report it. */
static void id_line(const char *label, uint32_t known, uint32_t value)
{
	char num[16];

	(void)snprintf(num, sizeof(num), "0x%08X", (unsigned)value);
	info_line(label, known ? num : "-");
}

static void info_text(ax_drive *d, const char *stable, const struct axis_state *ax, unsigned n_axes)
{
	const ax_identity *id = ax_drive_identity(d);
	const ax_dict *dict = ax_drive_dict(d);
	char num[32];

	info_line("uri:", ax_drive_uri(d));
	info_line("stable uri:", or_dash(stable));
	id_line("vendor:", id->known & AX_SCAN_HAS_VENDOR, id->vendor_id);
	id_line("product code:", id->known & AX_SCAN_HAS_PRODUCT, id->product_code);
	id_line("revision:", id->known & AX_SCAN_HAS_REVISION, id->revision);
	(void)snprintf(num, sizeof(num), "%u", (unsigned)id->serial);
	info_line("serial number:", id->known & AX_SCAN_HAS_SERIAL ? num : "-");
	info_line("firmware:", or_dash(id->known & AX_SCAN_HAS_SW_VERSION ? id->sw_version : ""));
	info_line("model:", dict ? or_dash(ax_dict_identity_get(dict)->name) : "-");
	info_line("dictionary:", dict ? or_dash(ax_dict_source(dict)) : "-");
	printf("%-15s%s (", "match:", ax_match_name(ax_drive_match(d)));
	(void)put_safe(stdout, ax_drive_match_reason(d));
	printf(")\n");
	printf("axes:          %u\n", n_axes);
	for (unsigned i = 0; i < n_axes; i++) {
		if (!ax[i].have) {
			printf("axis %-2u        unknown (", ax[i].axis);
			(void)put_safe(stdout, ax[i].error);
			printf(")\n");
		} else {
			printf("axis %-2u        %s (status word 0x%04X)\n", ax[i].axis,
			       ax[i].state ? ax[i].state : "no CiA 402 state",
			       (unsigned)ax[i].word);
			if (ax[i].faulted) {
				printf("  fault        0x%08X ", (unsigned)ax[i].fault.code);
				(void)put_safe(stdout, *ax[i].fault.text
				                               ? ax[i].fault.text
				                               : "(no text in the dictionary)");
				putchar('\n');
			}
		}
	}
}

static int cmd_info(struct cli *cli)
{
	struct axis_state *axes = NULL;
	const ax_identity *id;
	ax_drive *d = NULL;
	ax_ctx *ctx = NULL;
	char stable[64] = "";
	unsigned n_axes;
	int rc;

	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		return rc;
	rc = open_drive(cli, ctx, cli->pos[0], &d);
	if (rc != 0)
		goto out;
	id = ax_drive_identity(d);
	if (id->known & AX_SCAN_HAS_SERIAL)
		(void)ax_discover_stable_uri(stable, sizeof(stable), id->vendor_id,
		                             id->product_code, id->serial);
	n_axes = ax_drive_axes(d);
	axes = calloc(n_axes ? n_axes : 1, sizeof(*axes));
	if (!axes) {
		rc = fail_oom();
		goto out;
	}
	for (unsigned i = 0; i < n_axes; i++)
		read_axis(d, i + 1, &axes[i]);
	if (cli->json) {
		rc = info_json(d, stable, axes, n_axes);
	} else {
		info_text(d, stable, axes, n_axes);
		rc = EXIT_SUCCESS;
	}
	rc = finish_stdout(rc);
out:
	free(axes);
	ax_drive_unref(d);
	ax_ctx_unref(ctx);
	return rc;
}

/* ---- watch ------------------------------------------------------------------ */

/* The token SIGINT and SIGTERM trigger; set before the handlers go in. */
static ax_cancel *watch_cancel;

static void watch_signal(int sig)
{
	(void)sig;
	ax_cancel_trigger(watch_cancel); /* one atomic store: async-signal-safe */
}

/* Each target's last status, so a transport's trouble is told once, not every round. */
struct watch_state {
	const struct cli *cli;
	char **targets;
	int *status;
	size_t n;
	int failed;
};

static int watch_event(int event, const ax_discover_result *r, void *userdata)
{
	struct watch_state *w = userdata;
	const char *name = ax_monitor_event_name(event);

	if (w->cli->json) {
		size_t flags = json_out_flags(JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_t *o = result_json(r);

		if (!o || json_object_set_new(o, "event", json_string(name)) != 0) {
			json_decref(o);
			w->failed = 1;
			return -1;
		}
		/* One object per line: a stream a script reads as it comes. */
		if (json_dumpf(o, stdout, flags) != 0) {
			json_decref(o);
			w->failed = 1;
			return -1;
		}
		json_decref(o);
		putchar('\n');
	} else {
		char serial[16] = "-";

		if (r->known & AX_SCAN_HAS_SERIAL)
			(void)snprintf(serial, sizeof(serial), "%u", (unsigned)r->serial);
		printf("%-7s  ", name);
		(void)put_safe(stdout, r->uri);
		fputs("  ", stdout);
		(void)put_safe(stdout, or_dash(r->model));
		printf("  serial %s  firmware ", serial);
		(void)put_safe(stdout, or_dash(r->sw_version));
		printf("  match %s  access %s\n",
		       ax_match_name(r->match) ? ax_match_name(r->match) : "none",
		       ax_access_state_name(r->access) ? ax_access_state_name(r->access) : "error");
	}
	if (fflush(stdout) != 0) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

static int watch_outcome(const ax_discover_transport *t, void *userdata)
{
	struct watch_state *w = userdata;
	size_t i;

	for (i = 0; i < w->n; i++)
		if (!strcmp(w->targets[i], t->target))
			break;
	if (i == w->n) {
		char **tg = realloc(w->targets, (w->n + 1) * sizeof(*tg));
		int *st;

		if (tg)
			w->targets = tg;
		st = tg ? realloc(w->status, (w->n + 1) * sizeof(*st)) : NULL;
		if (!st)
			return 0; /* only the notes suffer */
		w->status = st;
		w->targets[w->n] = strdup(t->target);
		if (!w->targets[w->n])
			return 0;
		w->status[w->n] = AX_DISCOVER_DONE;
		w->n++;
	}
	/* "still running" skips follow a time-out: the time-out was the news. */
	if (t->status != w->status[i] && t->status != AX_DISCOVER_CANCELLED &&
	    !(t->status == AX_DISCOVER_SKIPPED && w->status[i] == AX_DISCOVER_TIMED_OUT)) {
		if (t->status == AX_DISCOVER_DONE)
			fprintf(stderr, "axlink: %s: scanning again\n", t->target);
		else
			note_outcome(t);
	}
	w->status[i] = t->status;
	return 0;
}

static int cmd_watch(struct cli *cli)
{
	ax_monitor_options opts = AX_MONITOR_OPTIONS_INIT;
	struct watch_state w = {cli, NULL, NULL, 0, 0};
	struct sigaction sa, old_int, old_term;
	ax_ctx *ctx = NULL;
	ax_db *db = NULL;
	char *spec = join_specs(cli);
	int rc, ret;

	if (cli->n_pos && !spec)
		return fail_oom();
	rc = open_ctx(cli, &ctx);
	if (rc == 0)
		rc = open_db(cli, &db);
	if (rc == 0 && ax_cancel_new(&watch_cancel) < 0)
		rc = fail_last();
	if (rc != 0)
		goto out;
	opts.period_ms = watch_period_ms;
	opts.timeout_ms = cli->timeout_ms;
	opts.misses = watch_misses;
	opts.cancel = watch_cancel;
	opts.db = db;
	opts.on_transport = watch_outcome;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	ret = ax_monitor(ctx, spec, &opts, watch_event, &w);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (w.failed)
		rc = EXIT_FAILURE;
	else if (ret < 0)
		rc = fail_last();
	else
		rc = EXIT_SUCCESS;
	rc = finish_stdout(rc);
out:
	for (size_t i = 0; i < w.n; i++)
		free(w.targets[i]);
	free(w.targets);
	free(w.status);
	watch_cancel = ax_cancel_unref(watch_cancel);
	ax_db_unref(db);
	ax_ctx_unref(ctx);
	free(spec);
	return rc;
}

/* ---- the table ------------------------------------------------------------------ */

#define SPEC_HELP                                                                                  \
	"  SPEC       what to search; several are joined with commas. A transport's\n"             \
	"             name searches its default targets (serial, usb); a URI names a\n"            \
	"             target (eth://192.168.1.0/24, eth://10.0.0.2,10.0.0.9,\n"                    \
	"             serial:/dev/ttyUSB0). Without SPEC: every transport that can\n"              \
	"             scan. Ethernet is searched only where told: a URI, the list in\n"            \
	"             AXLINK_ETH_TARGETS (e.g. 192.168.1.0/24,10.0.0.7), or eth://local\n"         \
	"             for this machine's own subnets.\n"

#define RESULT_KEYS_HELP                                                                           \
	"{uri, stable_uri, transport, detail, vendor_id, product_code, revision,\n"                \
	"serial_number, firmware_version, model, dictionary, match, match_reason,\n"               \
	"access, message, hint}; ids are \"0x\" hex strings, unknown values null; match\n"         \
	"is none, exact, lower-revision or any-revision; access is ok,\n"                          \
	"permission-denied, busy, no-reply or error.\n"

static const struct command discover_commands[] = {
        {
                .name = "list",
                .synopsis = "[SPEC...] [--timeout-ms MS] [--db PATH] [--json]",
                .summary = "find every drive on every bus, with its dictionary",
                .help = "Search every transport SPEC names at once and list each drive found:\n"
                        "model, serial number, firmware, location URI, how its dictionary was\n"
                        "matched, and whether it can be used. The search ends within\n"
                        "--timeout-ms (default 2000) whatever a transport does; on a terminal a\n"
                        "progress line shows it working. Transports that failed, hung or were\n"
                        "skipped are noted on stderr. Exit 0 when the search ran, even if it\n"
                        "found nothing.\n" SPEC_HELP
                        "  --timeout-ms MS  the whole search's deadline\n"
                        "  --db PATH  match dictionaries in this database only\n"
                        "JSON: an array, in URI order, of objects with the keys\n" RESULT_KEYS_HELP
                        "A stable_uri (axlink://VENDOR/PRODUCT/SERIAL) finds the same drive\n"
                        "wherever it is plugged: 'axlink info' and the library open it.\n"
                        "The URIs found are kept for shell completion in\n"
                        "$XDG_CACHE_HOME/axlink/last-discovery (default ~/.cache/axlink/).\n"
                        "Examples: axlink list eth://192.168.1.0/24 serial\n"
                        "          AXLINK_ETH_TARGETS=10.0.0.0/24 axlink list --json\n",
                .arg_names = {NULL},
                .variadic = 1,
                .opts = list_options,
                .run = cmd_list,
                .option = discover_option,
        },
        {
                .name = "info",
                .synopsis = "URI [--dict FILE] [--json]",
                .summary = "show a drive's identity, dictionary and axis states",
                .help = "Open the drive at URI and show its identity, the dictionary found for\n"
                        "it and why, its axes, and the CiA 402 state of each axis decoded from\n"
                        "its status word (DRV_STATE_STATUS).\n"
                        "  URI        a location (eth://192.168.2.22, virtual:) or a stable\n"
                        "             identity (axlink://A71C/00010064/1005), which is searched\n"
                        "             for as 'axlink list' does (key via=SPEC narrows it)\n"
                        "  --dict FILE  use this XDF file, not the device databases\n"
                        "JSON: {uri, stable_uri, transport, vendor_id, product_code, revision,\n"
                        "serial_number, firmware_version, model, dictionary, match,\n"
                        "match_reason, axes: [{axis, statusword, state, error, fault}]}; fault\n"
                        "is {code, text} (DRV_DIAG_ERROR_LAST) in fault, else null; state is\n"
                        "null when the status word matches no state, statusword null (and\n"
                        "error set) when it could not be read.\n"
                        "Example: axlink info eth://192.168.2.22\n",
                .arg_names = {"URI", NULL},
                .opts = info_options,
                .run = cmd_info,
                .option = discover_option,
        },
        {
                .name = "watch",
                .synopsis = "[SPEC...] [--period-ms MS] [--misses N] [--json]",
                .summary = "report drives as they appear, change and disappear",
                .help = "Search like 'axlink list' every --period-ms (default 2000) and print a\n"
                        "line for each drive added, changed or removed, until SIGINT or SIGTERM\n"
                        "(exit 0). Drives present at the start are added first. A drive is\n"
                        "removed when its transport finished --misses searches in a row\n"
                        "(default 2) without it; a transport that fails or hangs removes\n"
                        "nothing. Changed: the same place, now busy, answering again, or\n"
                        "identified.\n" SPEC_HELP
                        "  --period-ms MS   from one search's start to the next\n"
                        "  --timeout-ms MS  each search's deadline (default: the period, at\n"
                        "             most 2000)\n"
                        "  --misses N   searches a drive may be missing before it is removed\n"
                        "  --db PATH  match dictionaries in this database only\n"
                        "Text: 'added', 'changed' or 'removed', URI, model, serial, firmware,\n"
                        "match, access. JSON: one object per line (not an array), the keys of\n"
                        "'list' plus event: \"added\", \"changed\" or \"removed\".\n"
                        "Example: axlink watch eth://192.168.1.0/24 --json\n",
                .arg_names = {NULL},
                .variadic = 1,
                .opts = watch_options,
                .run = cmd_watch,
                .option = discover_option,
        },
};

const struct cli_group cli_discover_group = {
        discover_commands,
        sizeof(discover_commands) / sizeof(discover_commands[0]),
};
