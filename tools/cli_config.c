/* SPDX-License-Identifier: MIT */
/*
 * axlink config save | load | diff: a drive's configuration as an XCF file
 * (axlink/config.h).
 *
 *   axlink config save URI FILE [--axis N] [--update] [--json]
 *   axlink config load URI FILE [--axis N] [--allow-revision] [--json]
 *   axlink config diff URI FILE [--axis N] [--allow-revision] [--json]
 *
 * load and diff print the library's report: every register that was not
 * simply unchanged (or skipped), then a count per outcome. load exits 1
 * when a register was not applied; diff exits 1 when the drive differs
 * from the file.
 *
 * SIGINT or SIGTERM during a load stops it between two registers (the
 * handler only triggers the load's cancel token): the report is printed as
 * far as it got, the message counts the registers written, and the exit
 * status is 1. A second signal exits at once.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_AXIS = 700,
	OPT_ALLOW_REVISION,
	OPT_UPDATE,
};

static const struct option save_options[] = {
        CLI_COMMON_OPTIONS,
        {"axis", required_argument, NULL, OPT_AXIS},
        {"update", no_argument, NULL, OPT_UPDATE},
        {"dict", required_argument, NULL, OPT_DICT},
        {NULL, 0, NULL, 0},
};

static const struct option load_options[] = {
        CLI_COMMON_OPTIONS,
        {"axis", required_argument, NULL, OPT_AXIS},
        {"dict", required_argument, NULL, OPT_DICT},
        {"allow-revision", no_argument, NULL, OPT_ALLOW_REVISION},
        {NULL, 0, NULL, 0},
};

/* The options of this group; a command runs once per process. */
static struct {
	int axis; /* AX_CONFIG_ALL unless --axis */
	unsigned flags;
} co = {AX_CONFIG_ALL, 0};

static int config_option(struct cli *cli, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_AXIS:
		if (parse_uint(arg, 255, &v) < 0)
			return usage_error(cli->cmd,
			                   "--axis '%s': expected 0..255 (0 = the "
			                   "communication core)",
			                   arg);
		co.axis = (int)v;
		return 0;
	case OPT_ALLOW_REVISION:
		co.flags |= AX_CONFIG_ALLOW_REVISION;
		return 0;
	case OPT_UPDATE:
		co.flags |= AX_CONFIG_UPDATE;
		return 0;
	default:
		return usage_error(cli->cmd, "unexpected option");
	}
}

static int session_open(struct cli *cli, ax_ctx **ctx, ax_drive **drive)
{
	int rc;

	*drive = NULL;
	if (open_ctx(cli, ctx) < 0)
		return fail_last();
	rc = open_drive(cli, *ctx, cli->pos[0], drive);
	if (rc != 0) {
		*ctx = ax_ctx_unref(*ctx);
		return rc;
	}
	return 0;
}

static int cmd_save(struct cli *cli)
{
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	int rc = session_open(cli, &ctx, &drive), n;

	if (rc != 0)
		return rc;
	n = ax_config_save(drive, cli->pos[1], co.axis, co.flags);
	if (n < 0) {
		rc = fail_last();
	} else if (cli->json) {
		json_t *root = json_pack("{s:o, s:o, s:i}", "uri", json_text(cli->pos[0]), "file",
		                         json_text(cli->pos[1]), "registers", n);

		if (root && co.axis != AX_CONFIG_ALL)
			(void)json_object_set_new(root, "axis", json_integer(co.axis));
		rc = root ? print_json(root) : fail_oom();
		json_decref(root);
	} else {
		printf("saved %d registers to ", n);
		(void)put_safe(stdout, cli->pos[1]);
		fputc('\n', stdout);
	}
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return rc;
}

static const int statuses[] = {
        AX_CONFIG_WRITTEN,     AX_CONFIG_UNCHANGED,   AX_CONFIG_DIFFERENT,
        AX_CONFIG_REFUSED,     AX_CONFIG_MISMATCH,    AX_CONFIG_INVALID,
        AX_CONFIG_NOT_IN_DICT, AX_CONFIG_NOT_IN_FILE, AX_CONFIG_SKIPPED,
};

static json_t *report_json(const struct cli *cli, const ax_config_report *r)
{
	json_t *root = json_object(), *entries = json_array(), *counts = json_object();

	if (!root || !entries || !counts)
		goto oom;
	for (size_t i = 0; i < ax_config_report_count(r); i++) {
		const char *id, *fv = ax_config_report_file_value(r, i);
		const char *dv = ax_config_report_drive_value(r, i);
		int sn, st, err = ax_config_report_error(r, i);
		json_t *e;

		(void)ax_config_report_at(r, i, &id, &sn, &st);
		e = json_pack("{s:o, s:i, s:s, s:o, s:o}", "id", json_text(id), "subnode", sn,
		              "status", ax_config_status_name(st), "file_value",
		              fv ? json_text(fv) : json_null(), "drive_value",
		              dv ? json_text(dv) : json_null());
		if (!e)
			goto oom;
		if (err) {
			(void)json_object_set_new(e, "error", json_string(ax_error_name(err)));
			(void)json_object_set_new(e, "message",
			                          json_text(ax_config_report_message(r, i)));
			if (ax_config_report_drive_code(r, i))
				(void)json_object_set_new(e, "drive_code",
				                          hex32(ax_config_report_drive_code(r, i)));
		}
		if (json_array_append_new(entries, e) < 0)
			goto oom;
	}
	for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
		(void)json_object_set_new(
		        counts, ax_config_status_name(statuses[k]),
		        json_integer((json_int_t)ax_config_report_tally(r, statuses[k])));
	(void)json_object_set_new(root, "uri", json_text(cli->pos[0]));
	(void)json_object_set_new(root, "file", json_text(cli->pos[1]));
	(void)json_object_set_new(root, "counts", counts);
	(void)json_object_set_new(root, "registers", entries);
	return root;
oom:
	json_decref(root);
	json_decref(entries);
	json_decref(counts);
	return NULL;
}

static void report_text(const ax_config_report *r)
{
	const char *sep = "";

	for (size_t i = 0; i < ax_config_report_count(r); i++) {
		const char *id, *fv = ax_config_report_file_value(r, i);
		const char *dv = ax_config_report_drive_value(r, i);
		int sn, st;

		(void)ax_config_report_at(r, i, &id, &sn, &st);
		/* Skipped ones (not tried: a cancel, a lost link) only count; --json lists them. */
		if (st == AX_CONFIG_UNCHANGED || st == AX_CONFIG_SKIPPED)
			continue;
		printf("%-11s %3d  ", ax_config_status_name(st), sn);
		(void)put_safe(stdout, id);
		if (st == AX_CONFIG_DIFFERENT || st == AX_CONFIG_WRITTEN) {
			fputs(": drive ", stdout);
			(void)put_safe(stdout, or_dash(dv));
			fputs(st == AX_CONFIG_WRITTEN ? " -> " : ", file ", stdout);
			(void)put_safe(stdout, or_dash(fv));
		} else if (ax_config_report_message(r, i)[0]) {
			fputs(": ", stdout);
			(void)put_safe(stdout, ax_config_report_message(r, i));
		}
		fputc('\n', stdout);
	}
	for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++) {
		size_t n = ax_config_report_tally(r, statuses[k]);

		if (!n)
			continue;
		printf("%s%zu %s", sep, n, ax_config_status_name(statuses[k]));
		sep = ", ";
	}
	fputc('\n', stdout);
}

/* ---- interrupting a load ---------------------------------------------- */

/* What SIGINT and SIGTERM trigger while a load runs (set before the handlers). */
static ax_cancel *load_cancel;
static volatile sig_atomic_t load_signal; /* the first signal, 0 = none */

static void load_on_signal(int sig)
{
	static const char again[] = "\naxlink: interrupted again: exiting at once; the drive "
	                            "may hold a partial configuration\n";

	if (load_signal) {
		ssize_t n = write(STDERR_FILENO, again, sizeof(again) - 1);

		(void)n;
		_exit(128 + sig);
	}
	load_signal = sig;
	ax_cancel_trigger(load_cancel); /* one atomic store: async-signal-safe */
}

/* ax_config_load() with SIGINT and SIGTERM cancelling it rather than ending the process. */
static int load_interruptible(ax_drive *drive, const char *path, ax_config_report **r)
{
	struct sigaction sa, old_int, old_term;
	ax_cancel *cancel = NULL;
	int err;

	err = ax_cancel_new(&cancel);
	if (err < 0)
		return err;
	load_cancel = cancel;
	load_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = load_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, &old_int);
	(void)sigaction(SIGTERM, &sa, &old_term);
	err = ax_config_load_cancel(drive, path, co.axis, co.flags, cancel, r);
	(void)sigaction(SIGINT, &old_int, NULL);
	(void)sigaction(SIGTERM, &old_term, NULL);
	load_cancel = NULL;
	ax_cancel_unref(cancel);
	return err;
}

static int run_report(struct cli *cli, int load)
{
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	ax_config_report *r = NULL;
	int rc = session_open(cli, &ctx, &drive), err;

	if (rc != 0)
		return rc;
	if (load)
		err = load_interruptible(drive, cli->pos[1], &r);
	else
		err = ax_config_diff(drive, cli->pos[1], co.axis, co.flags, &r);
	if (!r) {
		rc = fail_last();
		goto out;
	}
	if (cli->json) {
		json_t *root = report_json(cli, r);

		rc = root ? print_json(root) : fail_oom();
		json_decref(root);
	} else {
		report_text(r);
	}
	/* After the report, so that a terminal shows it last (e.g. what a cancel left). */
	if (err < 0)
		(void)fail_last();
	if (rc == 0 && err != 0)
		rc = EXIT_FAILURE;
out:
	ax_config_report_free(r);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return rc;
}

static int cmd_load(struct cli *cli)
{
	return run_report(cli, 1);
}

static int cmd_diff(struct cli *cli)
{
	return run_report(cli, 0);
}

#define CONFIG_HELP                                                                                \
	"  URI        the drive, e.g. virtual:, eth://192.168.2.22\n"                              \
	"  FILE       the configuration file (XCF)\n"                                              \
	"  --axis N   only subnode N (0 = the communication core); default every subnode\n"        \
	"  --dict FILE  the drive's dictionary from this XDF file, not the databases\n"

static const struct command config_commands[] = {
        {
                .name = "config save",
                .synopsis = "URI FILE [--axis N] [--update] [--json]",
                .summary = "save a drive's configuration to a file",
                .help = "Read every configuration register (read-write, kept in non-volatile\n"
                        "memory) and write them to FILE in the XCF format, with the drive's\n"
                        "product code, revision and firmware version. Register tables are\n"
                        "not saved yet.\n" CONFIG_HELP
                        "  --update   FILE exists: update its values and keep the rest of it\n"
                        "             (other attributes, tables, registers this drive lacks)\n"
                        "JSON: {uri, file, registers[, axis]}.\n"
                        "Example: axlink config save eth://127.0.0.2 tuned.xcf\n",
                .arg_names = {"URI", "FILE", NULL},
                .opts = save_options,
                .run = cmd_save,
                .option = config_option,
        },
        {
                .name = "config load",
                .synopsis = "URI FILE [--axis N] [--allow-revision] [--json]",
                .summary = "load a configuration file into a drive",
                .help = "Check that FILE is for this product (and revision), then write each\n"
                        "of its registers that differs, in dictionary order, and read it back.\n"
                        "Prints every register not unchanged and a count per outcome:\n"
                        "written, unchanged, refused (with the drive's error), mismatch,\n"
                        "invalid, not_in_dict. Exit status 1 when any was not applied.\n"
                        "Ctrl-C (SIGINT, SIGTERM) stops the load between two registers: the\n"
                        "message says how many were written (the drive then holds part of\n"
                        "FILE), the rest are skipped, and the exit status is 1.\n" CONFIG_HELP
                        "  --allow-revision  accept a file saved from another firmware revision\n"
                        "JSON: {uri, file, counts, registers: [{id, subnode, status, file_value,\n"
                        "drive_value[, error, message, drive_code]}]}.\n",
                .arg_names = {"URI", "FILE", NULL},
                .opts = load_options,
                .run = cmd_load,
                .option = config_option,
        },
        {
                .name = "config diff",
                .synopsis = "URI FILE [--axis N] [--allow-revision] [--json]",
                .summary = "compare a drive with a configuration file",
                .help = "Read each register FILE names and print those whose value differs,\n"
                        "and the drive's configuration registers FILE lacks (not_in_file).\n"
                        "Writes nothing. Exit status 0 when the drive matches, 1 "
                        "otherwise.\n" CONFIG_HELP
                        "  --allow-revision  accept a file saved from another firmware revision\n"
                        "JSON: as config load.\n",
                .arg_names = {"URI", "FILE", NULL},
                .opts = load_options,
                .run = cmd_diff,
                .option = config_option,
        },
};

const struct cli_group cli_config_group = {
        config_commands,
        sizeof(config_commands) / sizeof(config_commands[0]),
};
