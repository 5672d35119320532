/* SPDX-License-Identifier: MIT */
/*
 * axlink plugins [--json]: the load report of a fresh context, one row per
 * transport plugin file (ax_ctx_plugin_record).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "axlink/axlink.h"
#include "cli.h"

static int cmd_plugins(struct cli *cli);

static const struct option plugins_options[] = {
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
};

static const struct command plugins_commands[] = {
        {
                .name = "plugins",
                .synopsis = "[--json]",
                .summary = "list the transport plugins and how each one loaded",
                .help = "Show the load report of a fresh context: one row per plugin file with\n"
                        "its status, scheme, version, path and, when it was not loaded, why.\n"
                        "A loaded plugin that replaces a built-in transport is marked\n"
                        "'warning:'. Plugins in a folder others can write, or writable or\n"
                        "owned by another user, are 'untrusted' and not loaded.\n"
                        "JSON: an array of {path, scheme, name, version, abi, status, message,\n"
                        "warnings} (warnings: a list, e.g. [\"overrides-builtin\"]).\n",
                .arg_names = {NULL},
                .opts = plugins_options,
                .run = cmd_plugins,
        },
};

const struct cli_group cli_plugins_group = {
        plugins_commands,
        sizeof(plugins_commands) / sizeof(plugins_commands[0]),
};

static int plugins_text(ax_ctx *ctx, size_t n)
{
	ax_plugin_record rec = AX_PLUGIN_RECORD_INIT;
	int wstatus = 0, wscheme = 0, wversion = 0, w;

	/* Two passes: align the short columns, leave the long path and message free. */
	for (size_t i = 0; i < n; i++) {
		if (ax_ctx_plugin_record(ctx, i, &rec) < 0)
			return fail_last();
		w = (int)strlen(or_dash(ax_plugin_status_name(rec.status)));
		wstatus = w > wstatus ? w : wstatus;
		w = safe_width(or_dash(rec.scheme));
		wscheme = w > wscheme ? w : wscheme;
		w = safe_width(or_dash(rec.version));
		wversion = w > wversion ? w : wversion;
	}
	/* Scheme, version and message come from the plugin file: escaped. */
	for (size_t i = 0; i < n; i++) {
		if (ax_ctx_plugin_record(ctx, i, &rec) < 0)
			return fail_last();
		printf("%-*s  ", wstatus, or_dash(ax_plugin_status_name(rec.status)));
		(void)put_safe_cell(stdout, or_dash(rec.scheme), wscheme);
		fputs("  ", stdout);
		(void)put_safe_cell(stdout, or_dash(rec.version), wversion);
		fputs("  ", stdout);
		(void)put_safe(stdout, or_dash(rec.path));
		if (rec.message && *rec.message) {
			fputs(rec.flags ? "  warning: " : "  ", stdout);
			(void)put_safe(stdout, rec.message);
		}
		putchar('\n');
	}
	return EXIT_SUCCESS;
}

/* Names of the AX_PLUGIN_FLAG_* bits of a row, as --json lists them. */
static json_t *plugin_warnings_json(unsigned int flags)
{
	json_t *arr = json_array();

	if (arr && (flags & AX_PLUGIN_FLAG_OVERRIDES_BUILTIN) &&
	    json_array_append_new(arr, json_string("overrides-builtin")) != 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static json_t *plugin_record_json(const ax_plugin_record *rec)
{
	json_t *o = json_object();
	char abi[32];

	if (!o)
		return NULL;
	(void)snprintf(abi, sizeof(abi), "%u.%u", rec->abi_major, rec->abi_minor);
	if (json_object_set_new(o, "path", text_or_null(rec->path)) != 0 ||
	    json_object_set_new(o, "scheme", json_text(rec->scheme)) != 0 ||
	    json_object_set_new(o, "name", text_or_null(rec->name)) != 0 ||
	    json_object_set_new(o, "version", text_or_null(rec->version)) != 0 ||
	    json_object_set_new(o, "abi", json_string(abi)) != 0 ||
	    json_object_set_new(o, "status", json_text(ax_plugin_status_name(rec->status))) != 0 ||
	    json_object_set_new(o, "message", text_or_null(rec->message)) != 0 ||
	    json_object_set_new(o, "warnings", plugin_warnings_json(rec->flags)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int plugins_json(ax_ctx *ctx, size_t n)
{
	json_t *arr = json_array();
	ax_plugin_record rec = AX_PLUGIN_RECORD_INIT;
	int rc;

	if (!arr)
		return fail_oom();
	for (size_t i = 0; i < n; i++) {
		if (ax_ctx_plugin_record(ctx, i, &rec) < 0) {
			json_decref(arr);
			return fail_last();
		}
		if (json_array_append_new(arr, plugin_record_json(&rec)) != 0) {
			json_decref(arr);
			return fail_oom();
		}
	}
	rc = print_json(arr);
	json_decref(arr);
	return rc;
}

static int cmd_plugins(struct cli *cli)
{
	ax_ctx *ctx = NULL;
	size_t n;
	int rc;

	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		return rc;
	n = ax_ctx_plugin_count(ctx);
	if (n == 0)
		fprintf(stderr, "axlink: no transport plugins found; see --plugin-dir and "
		                "AXLINK_PLUGIN_PATH\n");
	rc = cli->json ? plugins_json(ctx, n) : plugins_text(ctx, n);
	ax_ctx_unref(ctx);
	return rc;
}
