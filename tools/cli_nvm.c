/* SPDX-License-Identifier: MIT */
/*
 * axlink store | restore URI [--axis N] [--json]: a drive's non-volatile
 * memory (ax_drive_store(), ax_drive_restore()). Without --axis, the
 * communication core and every axis; with it, that axis only (--axis 0: the
 * communication core). SIGINT or SIGTERM ends the wait for the drive (the
 * drive may still finish) instead of killing the command mid-request.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "axlink/axlink.h"
#include "cli.h"

enum {
	OPT_NVM_AXIS = 700,
};

static int cmd_store(struct cli *cli);
static int cmd_restore(struct cli *cli);
static int nvm_option(struct cli *cli, int c, const char *arg);

static const struct option nvm_options[] = {
        CLI_COMMON_OPTIONS,
        {"axis", required_argument, NULL, OPT_NVM_AXIS},
        {"dict", required_argument, NULL, OPT_DICT},
        {NULL, 0, NULL, 0},
};

#define NVM_COMMON_HELP                                                                            \
	"  --axis N   that axis only (0: the communication core); default: the\n"                  \
	"             communication core and every axis\n"                                         \
	"  --dict F   the dictionary file F instead of the device databases\n"                     \
	"The registers are the dictionary's (DRV_STORE_COCO_ALL / DRV_STORE_MOCO_ALL,\n"           \
	"DRV_RESTORE_COCO_ALL); the command waits until the drive has cleared the\n"               \
	"signature, within 10 s. A refusal names the register and the drive's reason,\n"           \
	"e.g. 0x08000022 when the drive does not store in its present state.\n"                    \
	"JSON: {uri, operation, subnode} (subnode null: all). Exit 0 when done,\n"                 \
	"1 when the drive refused or did not finish.\n"

static const struct command nvm_commands[] = {
        {
                .name = "store",
                .synopsis = "URI [--axis N] [--json]",
                .summary = "keep a drive's parameters over a power cycle",
                .help = "Store the drive's parameters in its non-volatile memory (store all:\n"
                        "the signature 0x65766173, \"save\"), so they are in use after the\n"
                        "next power cycle.\n" NVM_COMMON_HELP
                        "Example: axlink write eth://127.0.0.2 PROF_MAX_VEL 20 && "
                        "axlink store eth://127.0.0.2\n",
                .arg_names = {"URI", NULL},
                .opts = nvm_options,
                .run = cmd_store,
                .option = nvm_option,
        },
        {
                .name = "restore",
                .synopsis = "URI [--axis N] [--json]",
                .summary = "put a drive's parameters back to their defaults",
                .help = "Restore the defaults in the drive's non-volatile memory (restore all:\n"
                        "the signature 0x64616F6C, \"load\"); most drives use them at once,\n"
                        "others after the next power cycle. DRV_RESTORE_COCO_ALL covers every\n"
                        "axis; --axis N needs an axis register of its own.\n" NVM_COMMON_HELP
                        "Example: axlink restore eth://127.0.0.2\n",
                .arg_names = {"URI", NULL},
                .opts = nvm_options,
                .run = cmd_restore,
                .option = nvm_option,
        },
};

const struct cli_group cli_nvm_group = {
        nvm_commands,
        sizeof(nvm_commands) / sizeof(nvm_commands[0]),
};

/* The options of this group; a command runs once per process. */
static int nvm_subnode = AX_DRIVE_ALL_SUBNODES;

static int nvm_option(struct cli *cli, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_NVM_AXIS:
		if (parse_uint(arg, SUBNODE_MAX, &v) < 0)
			return usage_error(cli->cmd, "--axis '%s': expected 0..%u", arg,
			                   SUBNODE_MAX);
		nvm_subnode = (int)v;
		return 0;
	default:
		return usage_error(cli->cmd, "unhandled option");
	}
}

/* What SIGINT and SIGTERM trigger while the command waits (set before the handlers). */
static ax_cancel *nvm_interrupt;

static void nvm_on_signal(int sig)
{
	(void)sig;
	ax_cancel_trigger(nvm_interrupt); /* one atomic store: async-signal-safe */
}

static int run_nvm(struct cli *cli, int store)
{
	struct sigaction sa, old_int, old_term;
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	ax_cancel *cancel = NULL;
	const char *verb = store ? "store" : "restore";
	int rc, err;

	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		return rc;
	rc = open_drive(cli, ctx, cli->pos[0], &drive);
	if (rc != 0)
		goto out;
	if (ax_cancel_new(&cancel) < 0) {
		rc = fail_last();
		goto out;
	}
	nvm_interrupt = cancel;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nvm_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, &old_int);
	(void)sigaction(SIGTERM, &sa, &old_term);
	err = store ? ax_drive_store(drive, nvm_subnode, 0, cancel)
	            : ax_drive_restore(drive, nvm_subnode, 0, cancel);
	(void)sigaction(SIGINT, &old_int, NULL);
	(void)sigaction(SIGTERM, &old_term, NULL);
	nvm_interrupt = NULL;
	if (err < 0) {
		rc = fail_last();
		goto out;
	}
	if (cli->json) {
		json_t *o =
		        json_pack("{s:o, s:s, s:o}", "uri", json_text(ax_drive_uri(drive)),
		                  "operation", verb, "subnode",
		                  nvm_subnode == AX_DRIVE_ALL_SUBNODES ? json_null()
		                                                       : json_integer(nvm_subnode));

		rc = o ? print_json(o) : fail_oom();
		json_decref(o);
		goto out;
	}
	fputs(store ? "stored: " : "restored: ", stdout);
	(void)put_safe(stdout, ax_drive_uri(drive));
	if (nvm_subnode == AX_DRIVE_ALL_SUBNODES)
		fputs(" (communication core and every axis)\n", stdout);
	else if (nvm_subnode == 0)
		fputs(" (communication core)\n", stdout);
	else
		printf(" (axis %d)\n", nvm_subnode);
	rc = finish_stdout(EXIT_SUCCESS);
out:
	ax_cancel_unref(cancel);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return rc;
}

static int cmd_store(struct cli *cli)
{
	return run_nvm(cli, 1);
}

static int cmd_restore(struct cli *cli)
{
	return run_nvm(cli, 0);
}
