/* SPDX-License-Identifier: MIT */
/*
 * axlink scan SPEC [--json]: probe a transport's targets for drives
 * (ax_scan) and print each one found, with its identity, as it answers.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "axlink/axlink.h"
#include "cli.h"

static int cmd_scan(struct cli *cli);

static const struct option scan_options[] = {
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
};

static const struct command scan_commands[] = {
        {
                .name = "scan",
                .synopsis = "SPEC [--timeout-ms N] [--json]",
                .summary = "probe a transport's targets for drives",
                .help = "Probe the targets SPEC names for drives and print each one found with\n"
                        "its identity, as it answers. The scan ends within about --timeout-ms\n"
                        "(default 2000) whatever the number of targets.\n"
                        "  SPEC       eth://127.0.0.2 (one host), eth://127.0.0.0/28 (a range),\n"
                        "             eth://127.0.0.2,127.0.0.7 (a list), optional :PORT; or\n"
                        "             a stable identity (axlink://A71C/00010064/1005): the\n"
                        "             place the drive is found at (see 'axlink info --help')\n"
                        "JSON: an array of {uri, detail, access, message, vendor_id,\n"
                        "product_code, revision, serial_number, firmware_version}; ids are \"0x\"\n"
                        "hex strings, absent values null (the keys of 'axlink list').\n"
                        "Exit 0 when the scan ran, even if it found nothing.\n"
                        "Example: axlink scan eth://127.0.0.0/28\n",
                .arg_names = {"SPEC", NULL},
                .opts = scan_options,
                .run = cmd_scan,
        },
};

const struct cli_group cli_scan_group = {
        scan_commands,
        sizeof(scan_commands) / sizeof(scan_commands[0]),
};

struct scan_out {
	const struct cli *cli;
	json_t *arr; /* --json: results collected here, printed at the end */
	int failed;  /* out of memory or a write error while collecting */
};

static json_t *scan_result_json(const ax_scan_result *r)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (json_object_set_new(o, "uri", json_text(r->uri)) != 0 ||
	    json_object_set_new(o, "detail", text_or_null(r->detail)) != 0 ||
	    json_object_set_new(o, "access", json_text(ax_access_state_name(r->access))) != 0 ||
	    json_object_set_new(o, "message", text_or_null(r->message)) != 0 ||
	    json_object_set_new(o, "vendor_id",
	                        (r->known & AX_SCAN_HAS_VENDOR) ? hex32(r->vendor_id)
	                                                        : json_null()) != 0 ||
	    json_object_set_new(o, "product_code",
	                        (r->known & AX_SCAN_HAS_PRODUCT) ? hex32(r->product_code)
	                                                         : json_null()) != 0 ||
	    json_object_set_new(o, "revision",
	                        (r->known & AX_SCAN_HAS_REVISION) ? hex32(r->revision)
	                                                          : json_null()) != 0 ||
	    json_object_set_new(o, "serial_number",
	                        (r->known & AX_SCAN_HAS_SERIAL) ? json_integer(r->serial)
	                                                        : json_null()) != 0 ||
	    json_object_set_new(o, "firmware_version",
	                        (r->known & AX_SCAN_HAS_SW_VERSION) ? text_or_null(r->sw_version)
	                                                            : json_null()) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Called by ax_scan() on this thread for each drive, as it answers. */
static int scan_found(const ax_scan_result *r, void *userdata)
{
	struct scan_out *out = userdata;

	if (out->arr) {
		if (json_array_append_new(out->arr, scan_result_json(r)) != 0) {
			out->failed = 1;
			return -1;
		}
		return 0;
	}
	(void)put_safe(stdout, r->uri);
	if (r->access != AX_ACCESS_OK) {
		printf("  %s: ", ax_access_state_name(r->access));
		(void)put_safe(stdout, r->message);
	}
	if (r->known & AX_SCAN_HAS_VENDOR)
		printf("  vendor 0x%08X", (unsigned)r->vendor_id);
	if (r->known & AX_SCAN_HAS_PRODUCT)
		printf("  product 0x%08X", (unsigned)r->product_code);
	if (r->known & AX_SCAN_HAS_REVISION)
		printf("  revision 0x%08X", (unsigned)r->revision);
	if (r->known & AX_SCAN_HAS_SERIAL)
		printf("  serial %u", (unsigned)r->serial);
	if (r->known & AX_SCAN_HAS_SW_VERSION) {
		fputs("  software '", stdout);
		(void)put_safe(stdout, r->sw_version);
		putchar('\'');
	}
	putchar('\n');
	/* Stream: a script reading us sees each drive as soon as it answers. */
	if (fflush(stdout) != 0) {
		out->failed = 1;
		return -1;
	}
	return 0;
}

static int cmd_scan(struct cli *cli)
{
	struct scan_out out = {.cli = cli};
	ax_ctx *ctx = NULL;
	char *location = NULL;
	int rc, found;

	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		return rc;
	if (cli->json) {
		out.arr = json_array();
		if (!out.arr) {
			ax_ctx_unref(ctx);
			return fail_oom();
		}
	}
	/* A stable URI names one drive: scan the place it is found at. */
	rc = cli_locate_stable(ctx, cli->pos[0], &location);
	if (rc != 0) {
		json_decref(out.arr);
		ax_ctx_unref(ctx);
		return rc;
	}
	found = ax_scan(ctx, location ? location : cli->pos[0], cli->timeout_ms, scan_found, &out);
	ax_free(location);
	if (out.failed)
		rc = out.arr ? fail_oom() : finish_stdout(EXIT_FAILURE);
	else if (found < 0)
		rc = fail_last();
	else if (out.arr)
		rc = print_json(out.arr);
	else
		fprintf(stderr, "axlink: %d drive(s) found\n", found);
	json_decref(out.arr);
	ax_ctx_unref(ctx);
	return rc;
}
