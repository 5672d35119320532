/* SPDX-License-Identifier: MIT */
/*
 * axlink table URI NAME [--axis N] [--entry I [--set V]] [--json]: a table
 * of the drive's dictionary (ax_drive_table_read/write);
 * axlink errors URI [--axis N] [--json]: the drive's error history newest
 * first with the dictionary's texts (ax_drive_errors).
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "axlink/axlink.h"
#include "cli.h"

enum {
	OPT_TABLE_AXIS = 800,
	OPT_TABLE_ENTRY,
	OPT_TABLE_SET,
};

static int cmd_table(struct cli *cli);
static int cmd_errors(struct cli *cli);
static int table_option(struct cli *cli, int c, const char *arg);

static const struct option table_options[] = {
        CLI_COMMON_OPTIONS,
        {"axis", required_argument, NULL, OPT_TABLE_AXIS},
        {"entry", required_argument, NULL, OPT_TABLE_ENTRY},
        {"set", required_argument, NULL, OPT_TABLE_SET},
        {"dict", required_argument, NULL, OPT_DICT},
        {NULL, 0, NULL, 0},
};

static const struct option errors_options[] = {
        CLI_COMMON_OPTIONS,
        {"axis", required_argument, NULL, OPT_TABLE_AXIS},
        {"dict", required_argument, NULL, OPT_DICT},
        {NULL, 0, NULL, 0},
};

static const struct command table_commands[] = {
        {
                .name = "table",
                .synopsis = "URI NAME [--axis N] [--entry I [--set V]] [--json]",
                .summary = "read or write a register table of a drive",
                .help = "Read every entry of table NAME of the drive's dictionary (e.g.\n"
                        "DRV_DIAG_ERROR_LIST), or one with --entry I; --set V writes V to\n"
                        "that entry. Each entry is selected by writing its number to the\n"
                        "table's index register, then read or written through its value\n"
                        "register.\n"
                        "  --axis N   the table the dictionary gives axis N (default: the first)\n"
                        "  --entry I  entry I only (the drive's entry number)\n"
                        "  --set V    write V to entry I (needs --entry)\n"
                        "  --dict F   the dictionary file F instead of the device databases\n"
                        "JSON: {uri, table, entries: [{entry, value}]}.\n"
                        "Example: axlink table eth://127.0.0.2 DRV_DIAG_ERROR_LIST --entry 0\n",
                .arg_names = {"URI", "NAME", NULL},
                .opts = table_options,
                .run = cmd_table,
                .option = table_option,
        },
        {
                .name = "errors",
                .synopsis = "URI [--axis N] [--json]",
                .summary = "a drive's error history, newest first",
                .help = "List the codes in the drive's error list (DRV_DIAG_ERROR_LIST),\n"
                        "newest first, with the text, error type and affected module the\n"
                        "dictionary's Errors section gives them.\n"
                        "  --axis N   the error list the dictionary gives axis N\n"
                        "  --dict F   the dictionary file F instead of the device databases\n"
                        "JSON: {uri, errors: [{code, text, type, module}]} (code as hex text).\n"
                        "Example: axlink errors eth://127.0.0.2\n",
                .arg_names = {"URI", NULL},
                .opts = errors_options,
                .run = cmd_errors,
                .option = table_option,
        },
};

const struct cli_group cli_table_group = {
        table_commands,
        sizeof(table_commands) / sizeof(table_commands[0]),
};

/* The options of this group; a command runs once per process. */
static struct {
	int axis; /* -1 unless --axis */
	int have_entry, have_set;
	int64_t entry, value;
} to = {-1, 0, 0, 0, 0};

/* An integer by the value module's grammar (decimal, or 0x hex), as read and write take. */
static int parse_i64(const char *text, int64_t *out)
{
	uint8_t b[8];
	size_t len;

	if (ax_value_parse(AX_DTYPE_S64, text, b, sizeof(b), &len) < 0)
		return -1;
	return ax_value_to_i64(AX_DTYPE_S64, b, len, out);
}

static int table_option(struct cli *cli, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_TABLE_AXIS:
		if (parse_uint(arg, SUBNODE_MAX, &v) < 0)
			return usage_error(cli->cmd, "--axis '%s': expected 0..%u", arg,
			                   SUBNODE_MAX);
		to.axis = (int)v;
		return 0;
	case OPT_TABLE_ENTRY:
		if (parse_i64(arg, &to.entry) < 0)
			return usage_error(cli->cmd, "--entry '%s': expected an integer", arg);
		to.have_entry = 1;
		return 0;
	case OPT_TABLE_SET:
		if (parse_i64(arg, &to.value) < 0)
			return usage_error(cli->cmd, "--set '%s': expected an integer", arg);
		to.have_set = 1;
		return 0;
	default:
		return usage_error(cli->cmd, "unhandled option");
	}
}

static int cmd_table(struct cli *cli)
{
	const char *name = cli->pos[1];
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	json_t *entries = NULL;
	int64_t first = 0, value;
	uint64_t count = 0;
	int rc;

	if (to.have_set && !to.have_entry)
		return usage_error(cli->cmd, "--set needs --entry");
	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		return rc;
	rc = open_drive(cli, ctx, cli->pos[0], &drive);
	if (rc != 0)
		goto out;
	if (ax_drive_table_size(drive, name, to.axis, &first, &count) < 0) {
		rc = fail_last();
		goto out;
	}
	if (to.have_entry) {
		first = to.entry;
		count = 1;
	}
	if (to.have_set && ax_drive_table_write(drive, name, to.axis, to.entry, to.value) < 0) {
		rc = fail_last();
		goto out;
	}
	entries = json_array();
	if (!entries) {
		rc = fail_oom();
		goto out;
	}
	for (uint64_t i = 0; i < count; i++) {
		int64_t entry = first + (int64_t)i;

		if (ax_drive_table_read(drive, name, to.axis, entry, &value) < 0) {
			rc = fail_last();
			goto out;
		}
		if (cli->json) {
			if (json_array_append_new(entries, json_pack("{s:I, s:I}", "entry",
			                                             (json_int_t)entry, "value",
			                                             (json_int_t)value)) < 0) {
				rc = fail_oom();
				goto out;
			}
		} else {
			printf("%" PRId64 "\t%" PRId64 "\n", entry, value);
		}
	}
	if (cli->json) {
		json_t *o = json_pack("{s:o, s:o, s:O}", "uri", json_text(ax_drive_uri(drive)),
		                      "table", json_text(name), "entries", entries);

		rc = o ? print_json(o) : fail_oom();
		json_decref(o);
		goto out;
	}
	rc = finish_stdout(EXIT_SUCCESS);
out:
	json_decref(entries);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return rc;
}

static int cmd_errors(struct cli *cli)
{
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	ax_dict_error_entry *list = NULL;
	json_t *arr = NULL;
	size_t n = 0, cap;
	int rc;

	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		return rc;
	rc = open_drive(cli, ctx, cli->pos[0], &drive);
	if (rc != 0)
		goto out;
	if (ax_drive_errors(drive, to.axis, NULL, 0, &n) < 0) {
		rc = fail_last();
		goto out;
	}
	cap = n;
	list = calloc(cap ? cap : 1, sizeof(*list));
	arr = json_array();
	if (!list || !arr) {
		rc = fail_oom();
		goto out;
	}
	if (ax_drive_errors(drive, to.axis, list, cap, &n) < 0) {
		rc = fail_last();
		goto out;
	}
	if (n > cap)
		n = cap; /* a fault raised between the two reads waits for the next call */
	for (size_t i = 0; i < n; i++) {
		const ax_dict_error_entry *e = &list[i];

		if (cli->json) {
			if (json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o}", "code",
			                                         hex32(e->code), "text",
			                                         json_text(e->text), "type",
			                                         json_text(e->type), "module",
			                                         json_text(e->module))) < 0) {
				rc = fail_oom();
				goto out;
			}
			continue;
		}
		printf("0x%08" PRIX32 "  ", e->code);
		(void)put_safe(stdout, *e->text ? e->text : "(no text in the dictionary)");
		if (*e->type || *e->module) {
			fputs(" [", stdout);
			(void)put_safe(stdout, e->type);
			fputs(*e->type && *e->module ? ", " : "", stdout);
			(void)put_safe(stdout, e->module);
			fputc(']', stdout);
		}
		fputc('\n', stdout);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:o, s:O}", "uri", json_text(ax_drive_uri(drive)), "errors",
		                      arr);

		rc = o ? print_json(o) : fail_oom();
		json_decref(o);
		goto out;
	}
	if (n == 0)
		puts("no errors recorded");
	rc = finish_stdout(EXIT_SUCCESS);
out:
	json_decref(arr);
	free(list);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return rc;
}
