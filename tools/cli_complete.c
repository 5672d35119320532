/* SPDX-License-Identifier: MIT */
/*
 * What shell completion (tools/completion/axlink.bash) asks the tool for:
 *
 *   axlink registers [URI] [--dict FILE] [--subnode N] [--json]
 *       the register ids of a drive's dictionary (or of an XDF file), one
 *       per line, sorted, each once;
 *
 * and where it finds the URIs of the last discovery: 'axlink list' writes
 * them (location and stable URI of each drive found, one per line) to
 * $XDG_CACHE_HOME/axlink/last-discovery (default ~/.cache/axlink/), so
 * completing a URI never probes a bus on its own.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "axlink/axlink.h"
#include "cli.h"

static int cmd_registers(struct cli *cli);

static const struct option registers_options[] = {
        CLI_COMMON_OPTIONS,
        {"subnode", required_argument, NULL, OPT_SUBNODE},
        {"dict", required_argument, NULL, OPT_DICT},
        {NULL, 0, NULL, 0},
};

static const struct command complete_commands[] = {
        {
                .name = "registers",
                .synopsis = "[URI] [--dict FILE] [--subnode N] [--json]",
                .summary = "the register ids of a drive's dictionary or an XDF file",
                .help = "Print the register ids of the dictionary of the drive at URI (found\n"
                        "as 'axlink read' finds it), or of the XDF file --dict names, one per\n"
                        "line, sorted, each once. Shell completion uses it.\n"
                        "  URI        a drive; may be left out when --dict is given\n"
                        "  --dict FILE  the dictionary file instead of the device databases\n"
                        "  --subnode N  only the registers of subnode N (0 = communication\n"
                        "             core, 1.. = axis)\n"
                        "JSON: [{id, subnode, address, type, units}], every register of the\n"
                        "dictionary (or of the subnode) in file order.\n"
                        "Examples: axlink registers virtual:\n"
                        "          axlink registers --dict devices/axs-100.xdf --subnode 0\n",
                .arg_names = {NULL},
                .variadic = 1,
                .opts = registers_options,
                .run = cmd_registers,
        },
};

const struct cli_group cli_complete_group = {
        complete_commands,
        sizeof(complete_commands) / sizeof(complete_commands[0]),
};

static int id_cmp(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

static int print_ids(const struct cli *cli, const ax_dict *const *dicts, size_t n_dicts)
{
	const char **ids;
	size_t n = 0, cap = 0;

	for (size_t d = 0; d < n_dicts; d++)
		cap += ax_dict_reg_count(dicts[d]);
	ids = calloc(cap ? cap : 1, sizeof(*ids));
	if (!ids)
		return fail_oom();
	for (size_t d = 0; d < n_dicts; d++)
		for (size_t i = 0; i < ax_dict_reg_count(dicts[d]); i++) {
			const ax_reg *r = ax_dict_reg_at(dicts[d], i);

			if (!cli->subnode_set || ax_reg_subnode(r) == cli->subnode)
				ids[n++] = ax_reg_id(r);
		}
	qsort(ids, n, sizeof(*ids), id_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
			continue;
		(void)put_safe(stdout, ids[i]);
		putchar('\n');
	}
	free(ids);
	return EXIT_SUCCESS;
}

static int print_json_regs(const struct cli *cli, const ax_dict *const *dicts, size_t n_dicts)
{
	json_t *arr = json_array();
	int rc;

	if (!arr)
		return fail_oom();
	for (size_t d = 0; d < n_dicts; d++)
		for (size_t i = 0; i < ax_dict_reg_count(dicts[d]); i++) {
			const ax_reg *r = ax_dict_reg_at(dicts[d], i);
			json_t *o;

			if (cli->subnode_set && ax_reg_subnode(r) != cli->subnode)
				continue;
			o = json_pack("{s:o, s:I, s:I, s:s, s:o}", "id", json_text(ax_reg_id(r)),
			              "subnode", (json_int_t)ax_reg_subnode(r), "address",
			              (json_int_t)ax_reg_address(r), "type",
			              ax_dtype_name(ax_reg_dtype(r)), "units",
			              json_text(ax_reg_units(r)));
			if (!o || json_array_append_new(arr, o) != 0) {
				json_decref(arr);
				return fail_oom();
			}
		}
	rc = print_json(arr);
	json_decref(arr);
	return rc;
}

static int print_regs(const struct cli *cli, const ax_dict *const *dicts, size_t n_dicts)
{
	return cli->json ? print_json_regs(cli, dicts, n_dicts) : print_ids(cli, dicts, n_dicts);
}

static int cmd_registers(struct cli *cli)
{
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	ax_dict **dicts = NULL;
	const ax_dict *dict;
	size_t n_dicts = 0;
	int rc;

	if (cli->n_pos > 1)
		return usage_error(cli->cmd, "unexpected argument '%s'", cli->pos[1]);
	if (cli->n_pos == 0 && !cli->dict_path)
		return usage_error(cli->cmd, "missing URI (or --dict FILE)");
	rc = open_ctx(cli, &ctx);
	if (rc != 0)
		return rc;
	if (cli->n_pos == 0) {
		if (ax_dict_load_file(&dicts, &n_dicts, cli->dict_path, ctx) < 0) {
			rc = fail_last();
			goto out;
		}
		rc = print_regs(cli, (const ax_dict *const *)dicts, n_dicts);
		goto out;
	}
	rc = open_drive(cli, ctx, cli->pos[0], &drive);
	if (rc != 0)
		goto out;
	dict = ax_drive_dict(drive);
	if (!dict) {
		rc = cli_fail(AX_ENOTFOUND, AX_ERRCLASS_DICT,
		              "no dictionary for the drive at %s: %s", cli->pos[0],
		              or_dash(ax_drive_match_reason(drive)));
		goto out;
	}
	rc = print_regs(cli, &dict, 1);
out:
	for (size_t i = 0; i < n_dicts; i++)
		ax_dict_unref(dicts[i]);
	ax_free(dicts);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return rc;
}

/* mkdir -p of the folder part of @path (modified in place and restored). */
static int make_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

void cli_remember_uris(const json_t *rows)
{
	const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char path[4096], tmp[4200];
	FILE *f;
	int n;

	if (cache && cache[0] == '/')
		n = snprintf(path, sizeof(path), "%s/axlink/last-discovery", cache);
	else if (home && home[0] == '/')
		n = snprintf(path, sizeof(path), "%s/.cache/axlink/last-discovery", home);
	else
		return;
	if (n < 0 || (size_t)n >= sizeof(path) || make_parents(path) != 0)
		return;
	(void)snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	f = fopen(tmp, "w");
	if (!f)
		return;
	for (size_t i = 0; i < json_array_size(rows); i++) {
		const json_t *row = json_array_get(rows, i);
		const char *keys[] = {"uri", "stable_uri"};

		for (size_t k = 0; k < 2; k++) {
			const char *s = json_string_value(json_object_get(row, keys[k]));

			/* URIs only: one per line, nothing a shell would split or expand. */
			if (s && *s && !strpbrk(s, " \t\n\r'\"\\$`"))
				fprintf(f, "%s\n", s);
		}
	}
	/* A cache: best effort, and the old list stays until a whole new one is there. */
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		(void)remove(tmp);
}
