/* SPDX-License-Identifier: MIT */
/*
 * axlink: the command line over the public C API.
 *
 *   axlink plugins [--json]
 *   axlink read  URI ADDRESS:TYPE|REGISTER [--subnode N] [--dict FILE] [--json]
 *   axlink write URI ADDRESS:TYPE|REGISTER VALUE [--subnode N] [--dict FILE] [--json]
 *   axlink scan SPEC [--json]
 *   axlink db import FILE... [--db PATH] [--json]
 *   axlink db list [--db PATH] [--json]
 *   axlink db show MODEL [--db PATH] [--json]
 *   axlink db resolve VENDOR PRODUCT REVISION [--db PATH] [--json]
 *
 * Exit status: 0 success, 1 failure (message from ax_error_last() on
 * stderr), 2 usage error (message and a usage line on stderr). With --json,
 * stdout carries exactly one JSON document: the result on success, and on
 * failure {"error": {code, name, class, message, exit_status}} (the
 * library's code and class, ax_error_name() and ax_error_class_name()) as
 * well as the text on stderr, so scripts parse both outcomes. The one
 * exception is "db import" of several files of which some failed: the
 * database did change, so the files imported are listed instead (exit 1).
 * A mistyped command, option or register name gets "did you mean" the
 * nearest one by edit distance.
 *
 * Only the public headers (include/axlink/axlink.h) are used: the tool must
 * work against an installed library exactly as a third-party program would.
 *
 * This file holds main(): option parsing, the help, the context and link
 * the options ask for, and dispatch to the commands. Each group of
 * commands lives in its own tools/cli_<group>.c (read and write in
 * cli_registers.c) and is listed once in groups[] below; the output
 * helpers they share are in cli_output.c (tools/cli.h).
 */

/*
 * setenv(), stat() and strcasecmp() are POSIX; getopt_long() comes from
 * glibc's <getopt.h>.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "axlink/axlink.h"
#include "axlink/plugin.h"
#include "cli.h"

static const char common_help[] =
        "Common options:\n"
        "  --json             print one JSON document on stdout; on failure\n"
        "                     {\"error\": {code, name, class, message, exit_status}}\n"
        "  --timeout-ms N     request timeout in milliseconds (default: the transport's)\n"
        "  --plugin-dir DIR   search DIR for transport plugins first (repeatable)\n"
        "  -v, --verbose      log to stderr: -v info, -vv debug, -vvv trace\n"
        "  -h, --help         show this help\n";

static const struct option global_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"verbose", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {NULL, 0, NULL, 0},
};

/* ---- version ----------------------------------------------------------- */

/*
 * The tool's version (the headers it was built with), the library's (the
 * one loaded now, which may be newer) and the plugin ABI the library's
 * headers define: what a plugin must be built for.
 */
static int print_version(int json)
{
	char cli_version[32], abi[32];
	json_t *o;
	int rc;

	(void)snprintf(cli_version, sizeof(cli_version), "%d.%d.%d", AX_VERSION_MAJOR,
	               AX_VERSION_MINOR, AX_VERSION_PATCH);
	(void)snprintf(abi, sizeof(abi), "%d.%d", AX_PLUGIN_ABI_MAJOR, AX_PLUGIN_ABI_MINOR);
	if (!json) {
		printf("axlink %s\nlibaxlink %s\nplugin ABI %s\n", cli_version, ax_version(), abi);
		return EXIT_SUCCESS;
	}
	o = json_pack("{s:s, s:s, s:s}", "cli", cli_version, "library", ax_version(), "plugin_abi",
	              abi);
	if (!o)
		return fail_oom();
	rc = print_json(o);
	json_decref(o);
	return rc;
}

static int cmd_version(struct cli *cli)
{
	return print_version(cli->json);
}

static const struct option version_options[] = {
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
};

static const struct command version_commands[] = {
        {
                .name = "version",
                .synopsis = "[--json]",
                .summary = "the tool's, the library's and the plugin ABI's versions",
                .help = "Print the version of this axlink tool, of the libaxlink it runs\n"
                        "with, and the plugin ABI (major.minor) that library loads plugins\n"
                        "of. JSON: {cli, library, plugin_abi}, all strings.\n",
                .arg_names = {NULL},
                .opts = version_options,
                .run = cmd_version,
        },
};

static const struct cli_group cli_version_group = {
        version_commands,
        sizeof(version_commands) / sizeof(version_commands[0]),
};

/* Every command group; a new cli_<group>.c adds its table here. */
static const struct cli_group *const groups[] = {
        &cli_version_group, &cli_plugins_group,  &cli_registers_group, &cli_scan_group,
        &cli_db_group,      &cli_discover_group, &cli_motion_group,    &cli_monitor_group,
        &cli_nvm_group,     &cli_config_group,   &cli_table_group,     &cli_scope_group,
        &cli_python_group,  &cli_complete_group,
};

/* ---- messages ---------------------------------------------------------- */

static void print_usage_line(FILE *f, const struct command *cmd)
{
	if (!cmd) {
		fprintf(f, "usage: axlink [--help] [--version] COMMAND [ARGS] [options]\n");
		return;
	}
	fprintf(f, "usage: axlink %s %s [options]\n", cmd->name, cmd->synopsis);
	if (cmd->synopsis2)
		fprintf(f, "   or: axlink %s %s [options]\n", cmd->name, cmd->synopsis2);
}

/* A usage error: what is wrong, the usage line, where to look. Returns EXIT_USAGE. */
int usage_error(const struct command *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_note_error(AX_EINVAL, AX_ERRCLASS_ARGUMENT, msg);
	fprintf(stderr, "axlink: %s\n", msg);
	print_usage_line(stderr, cmd);
	if (cmd)
		fprintf(stderr, "Try 'axlink %s --help' for more.\n", cmd->name);
	else
		fprintf(stderr, "Try 'axlink --help' for more.\n");
	return EXIT_USAGE;
}

static void print_main_help(void)
{
	int width = 0;

	/* Two blanks at least between name and summary: "config save" is one name. */
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < groups[g]->count; i++)
			if ((int)strlen(groups[g]->commands[i].name) > width)
				width = (int)strlen(groups[g]->commands[i].name);
	print_usage_line(stdout, NULL);
	printf("\nFind servo drives and talk to them through libaxlink.\n\nCommands:\n");
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < groups[g]->count; i++)
			printf("  %-*s  %s\n", width, groups[g]->commands[i].name,
			       groups[g]->commands[i].summary);
	printf("\nGlobal options:\n"
	       "  -V, --version      print the tool's and the library's version\n"
	       "%s"
	       "\nRun 'axlink COMMAND --help' for a command's arguments.\n"
	       "Exit status: 0 success, 1 failure, 2 usage error.\n",
	       common_help);
}

static void print_command_help(const struct command *cmd)
{
	print_usage_line(stdout, cmd);
	printf("\n%s\n%s", cmd->help, common_help);
}

/* "axlink db --help": the db subcommands and where the databases are. */
static void print_db_help(void)
{
	printf("usage: axlink db COMMAND [ARGS] [options]\n"
	       "\nThe device databases hold the dictionaries of drive models, so a drive's\n"
	       "registers can be read by name. Reading by name searches, in this order:\n"
	       "the file AXLINK_DB names, the user database ($XDG_DATA_HOME/axlink/\n"
	       "devices.db, where imports go), and the database installed with the\n"
	       "library (share/axlink/devices.db).\n\nCommands:\n");
	for (size_t i = 0; i < cli_db_group.count; i++)
		printf("  %-11s %s\n", cli_db_group.commands[i].name,
		       cli_db_group.commands[i].summary);
	printf("\nRun 'axlink db COMMAND --help' for a command's arguments.\n");
}

/* "axlink config --help": the commands named "<group> ...". */
static void print_group_help(const char *group)
{
	size_t len = strlen(group);

	printf("usage: axlink %s COMMAND [ARGS] [options]\n\nCommands:\n", group);
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < groups[g]->count; i++)
			if (!strncmp(groups[g]->commands[i].name, group, len) &&
			    groups[g]->commands[i].name[len] == ' ')
				printf("  %-11s %s\n", groups[g]->commands[i].name,
				       groups[g]->commands[i].summary);
	printf("\nRun 'axlink %s COMMAND --help' for a command's arguments.\n", group);
}

/* ---- argument parsing -------------------------------------------------- */

/*
 * Parse an unsigned number: decimal, or hex after "0x"/"0X". No sign, no
 * blanks, no trailing text. Returns 0, -1 when not a number, -2 when above @max.
 */
int parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	unsigned base = 10;
	unsigned long v = 0;
	const char *p = text;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (*p == '\0')
		return -1;
	for (; *p; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -1;
		/* Keep scanning after an overflow so that junk still reads as "not a number". */
		if (v <= max)
			v = v * base + d;
	}
	if (v > max)
		return -2;
	*out = v;
	return 0;
}

/* A value such as "-5" or "-.5": a positional argument, not an option. */
static int looks_negative_number(const char *arg)
{
	return arg[0] == '-' && ((arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.');
}

/* Handle one option shared by the global and the command pass. */
static int handle_option(struct cli *cli, int c, const char *arg)
{
	unsigned long v;
	struct stat st;

	switch (c) {
	case 'v':
		cli->verbose++;
		return 0;
	case OPT_JSON:
		cli->json = 1;
		return 0;
	case OPT_TIMEOUT:
		if (parse_uint(arg, INT_MAX, &v) < 0 || v == 0)
			return usage_error(cli->cmd, "--timeout-ms '%s': expected 1..%d", arg,
			                   INT_MAX);
		cli->timeout_ms = (int)v;
		return 0;
	case OPT_SUBNODE:
		if (parse_uint(arg, SUBNODE_MAX, &v) < 0)
			return usage_error(cli->cmd, "--subnode '%s': expected 0..%u", arg,
			                   SUBNODE_MAX);
		cli->subnode = (unsigned)v;
		cli->subnode_set = 1;
		return 0;
	case OPT_DB:
		if (!*arg)
			return usage_error(cli->cmd, "--db needs a file path");
		cli->db_path = arg;
		return 0;
	case OPT_DICT:
		if (!*arg)
			return usage_error(cli->cmd, "--dict needs a file path");
		cli->dict_path = arg;
		return 0;
	case OPT_PLUGIN_DIR:
		/* A mistyped folder would otherwise just leave a plugin missing. */
		if (stat(arg, &st) != 0)
			return cli_fail(AX_ENOTFOUND, AX_ERRCLASS_PLUGIN, "--plugin-dir '%s': %s",
			                arg, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return cli_fail(AX_ENOTFOUND, AX_ERRCLASS_PLUGIN,
			                "--plugin-dir '%s': not a folder", arg);
		cli->plugin_dirs[cli->n_plugin_dirs++] = arg;
		return 0;
	default:
		if (cli->cmd && cli->cmd->option)
			return cli->cmd->option(cli, c, arg);
		return usage_error(cli->cmd, "unhandled option");
	}
}

/* The long option of @opts nearest to @tok ("--jsno", "--timeout=5"), or NULL. */
static const char *nearest_option(const struct option *opts, const char *tok)
{
	char word[64];
	struct suggest s;
	size_t len;

	while (*tok == '-')
		tok++;
	len = strcspn(tok, "=");
	if (len == 0 || len >= sizeof(word))
		return NULL;
	memcpy(word, tok, len);
	word[len] = '\0';
	suggest_init(&s, word);
	for (; opts->name; opts++)
		suggest_add(&s, opts->name);
	return s.best;
}

/* Report a getopt failure ('?' or ':') with the offending option. */
static int option_error(const struct command *cmd, int c, char **argv)
{
	const char *tok = argv[optind - 1];
	const char *near;

	if (c == ':') {
		if (optopt && optopt < 256)
			return usage_error(cmd, "option '-%c' needs a value", optopt);
		return usage_error(cmd, "option '%s' needs a value", tok);
	}
	if (optopt && optopt < 256)
		return usage_error(cmd, "unknown option '-%c'", optopt);
	near = strncmp(tok, "--", 2) == 0 ? nearest_option(cmd ? cmd->opts : global_options, tok)
	                                  : NULL;
	if (near)
		return usage_error(cmd, "unknown option '%s'; did you mean '--%s'?", tok, near);
	return usage_error(cmd, "unknown or ambiguous option '%s'", tok);
}

/* "plugins, read, ..., db": each command's first word once, in table order. */
static void command_names(char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		for (size_t i = 0; i < groups[g]->count; i++) {
			const char *name = groups[g]->commands[i].name;
			size_t len = strcspn(name, " ");
			int n;

			if (i > 0 && !strncmp(groups[g]->commands[i - 1].name, name, len) &&
			    strcspn(groups[g]->commands[i - 1].name, " ") == len)
				continue; /* "db list" after "db import": "db" once */
			n = snprintf(buf + used, cap - used, "%s%.*s", used ? ", " : "", (int)len,
			             name);
			if (n < 0 || (size_t)n >= cap - used)
				return;
			used += (size_t)n;
		}
	}
}

static const struct command *find_command(const char *name)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < groups[g]->count; i++)
			if (strcmp(groups[g]->commands[i].name, name) == 0)
				return &groups[g]->commands[i];
	return NULL;
}

/*
 * Options before the command: stop at the first non-option ('+'), which
 * names the command. Returns -1 to go on, else an exit status.
 */
static int parse_global(struct cli *cli, int argc, char **argv)
{
	int c, rc;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+:hVv", global_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_main_help();
			return EXIT_SUCCESS;
		case 'V':
			return print_version(cli->json);
		case '?':
		case ':':
			return option_error(NULL, c, argv);
		default:
			rc = handle_option(cli, c, optarg);
			if (rc != 0)
				return rc;
		}
	}
	return -1;
}

/*
 * Options and positional arguments after the command, in any order ('-'
 * returns positionals in place). Negative numbers are positionals: getopt
 * would take "-5" for option '5', and a negative position is an ordinary
 * thing to write to a drive.
 */
static int parse_command(struct cli *cli, int argc, char **argv)
{
	const struct option *opts = cli->cmd->opts;
	size_t n_args = 0;
	int c, rc;

	opterr = 0;
	optind = 0; /* 0 makes glibc re-read the '-' ordering flag */
	for (;;) {
		if (optind > 0 && optind < argc && looks_negative_number(argv[optind])) {
			cli->pos[cli->n_pos++] = argv[optind++];
			continue;
		}
		c = getopt_long(argc, argv, "-:hv", opts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 1:
			cli->pos[cli->n_pos++] = optarg;
			break;
		case 'h':
			print_command_help(cli->cmd);
			return EXIT_SUCCESS;
		case '?':
		case ':':
			return option_error(cli->cmd, c, argv);
		default:
			rc = handle_option(cli, c, optarg);
			if (rc != 0)
				return rc;
		}
	}
	for (; optind < argc; optind++)
		cli->pos[cli->n_pos++] = argv[optind];

	while (n_args < sizeof(cli->cmd->arg_names) / sizeof(cli->cmd->arg_names[0]) &&
	       cli->cmd->arg_names[n_args])
		n_args++;
	if (cli->n_pos < n_args)
		return usage_error(cli->cmd, "missing %s", cli->cmd->arg_names[cli->n_pos]);
	if (cli->n_pos > n_args && !cli->cmd->variadic)
		return usage_error(cli->cmd, "unexpected argument '%s'", cli->pos[n_args]);
	return -1;
}

/* ---- context and link -------------------------------------------------- */

/*
 * The context reads AXLINK_LOG when it is created, which is when plugins
 * load: raising it here lets -vv show why a plugin was refused. Never
 * lowers what the user already asked for.
 */
static int requested_log_level(const struct cli *cli)
{
	int level = AX_LOG_WARN + cli->verbose;

	return level > AX_LOG_TRACE ? AX_LOG_TRACE : level;
}

static void raise_env_log_level(const struct cli *cli)
{
	const char *env = getenv("AXLINK_LOG");
	int want = requested_log_level(cli);
	int have = env ? ax_log_level_parse(env) : AX_LOG_WARN;

	ax_error_clear(); /* an unparsable AXLINK_LOG is the library's to report */
	if (cli->verbose && want > have && ax_log_level_name(want))
		(void)setenv("AXLINK_LOG", ax_log_level_name(want), 1);
}

/*
 * The library's log lines, as its own stderr sink writes them but with the
 * message escaped (it may quote a drive's text) and "warning" spelt out.
 * Called from the library's threads too: one locked write per line.
 */
static void log_to_stderr(int level, const char *origin, const char *message, void *userdata)
{
	const char *name = level == AX_LOG_WARN ? "warning" : ax_log_level_name(level);

	(void)userdata;
	flockfile(stderr);
	fprintf(stderr, "axlink: %s: %s: ", or_dash(name), or_dash(origin));
	(void)put_safe(stderr, message);
	fputc('\n', stderr);
	funlockfile(stderr);
}

int open_ctx(const struct cli *cli, ax_ctx **out)
{
	ax_ctx_options copts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;
	int have;

	raise_env_log_level(cli);
	copts.plugin_paths = cli->n_plugin_dirs ? cli->plugin_dirs : NULL;
	if (ax_ctx_new(&ctx, &copts) < 0)
		return fail_last();
	have = ax_ctx_get_log_level(ctx);
	if (cli->verbose && requested_log_level(cli) > have)
		have = requested_log_level(cli);
	ax_ctx_set_log(ctx, have, log_to_stderr, NULL);
	*out = ctx;
	return 0;
}

/*
 * Where the drive of @uri is now: a stable identity URI (axlink://...) is
 * searched for as ax_drive_open() does; a location is itself. *out is
 * NULL for a location, else the location found (ax_free()).
 */
int cli_locate_stable(ax_ctx *ctx, const char *uri, char **out)
{
	*out = NULL;
	if (strncasecmp(uri, "axlink:", 7) != 0)
		return 0;
	return ax_discover_locate(out, ctx, uri, 0) < 0 ? fail_last() : 0;
}

int open_link(const struct cli *cli, const char *uri, ax_ctx **ctx_out, ax_link **link_out)
{
	ax_link_options lopts = AX_LINK_OPTIONS_INIT;
	ax_ctx *ctx = NULL;
	char *location = NULL;
	int rc;

	rc = open_ctx(cli, &ctx);
	if (rc == 0)
		rc = cli_locate_stable(ctx, uri, &location);
	if (rc != 0) {
		ax_ctx_unref(ctx);
		return rc;
	}
	lopts.timeout_ms = cli->timeout_ms;
	if (ax_link_open(link_out, ctx, location ? location : uri, &lopts) < 0) {
		rc = fail_last();
		ax_free(location);
		ax_ctx_unref(ctx);
		return rc;
	}
	ax_free(location);
	*ctx_out = ctx;
	return 0;
}

/*
 * Every command that needs a drive's identity or dictionary opens it here,
 * with the library's one policy (ax_drive_open()): a stable URI is located,
 * --dict names the dictionary (and then a drive that reports no identity
 * is still usable), else the device databases find it.
 */
int open_drive(const struct cli *cli, ax_ctx *ctx, const char *uri, ax_drive **out)
{
	ax_drive_options dopts = AX_DRIVE_OPTIONS_INIT;

	dopts.timeout_ms = cli->timeout_ms;
	dopts.dictionary = cli->dict_path;
	if (cli->dict_path)
		dopts.flags |= AX_DRIVE_IDENTITY_OPTIONAL;
	if (ax_drive_open(out, ctx, uri, &dopts) < 0)
		return fail_last();
	return 0;
}

/* ---- main -------------------------------------------------------------- */

/*
 * The command name nearest to @word, or NULL when none is close: among the
 * commands' first words ("db" once) when @prefix is NULL, else among the
 * second words of the commands that start with @prefix ("db ").
 */
static const char *nearest_command(const char *word, const char *prefix)
{
	/* Besides the commands of one word: help, and the groups of two-word ones. */
	static const char *const extra[] = {"help", "db", "config"};
	struct suggest s;

	suggest_init(&s, word);
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		for (size_t i = 0; i < groups[g]->count; i++) {
			const char *name = groups[g]->commands[i].name;

			if (prefix && strncmp(name, prefix, strlen(prefix)) == 0)
				suggest_add(&s, name + strlen(prefix));
			else if (!prefix && !strchr(name, ' '))
				suggest_add(&s, name);
		}
	}
	for (size_t i = 0; !prefix && i < sizeof(extra) / sizeof(extra[0]); i++)
		suggest_add(&s, extra[i]);
	return s.best;
}

/*
 * The command that argv[0] names, with argv[1] after "db". *words gets the
 * words it took. NULL with *rc set: a usage error, or the db help printed.
 */
static const struct command *lookup_command(int argc, char **argv, int *words, int *rc)
{
	/* Commands of two words: "db import", "config save". */
	const char *sub = strcmp(argv[0], "db") == 0       ? "import, list, show, resolve"
	                  : strcmp(argv[0], "config") == 0 ? "save, load, diff"
	                                                   : NULL;
	const struct command *cmd = NULL;
	char name[32];

	*words = 1;
	if (!sub) {
		/* "db import" is two words on the command line, never one. */
		if (!strchr(argv[0], ' '))
			cmd = find_command(argv[0]);
		if (!cmd) {
			char names[512];
			const char *near = nearest_command(argv[0], NULL);

			command_names(names, sizeof(names));
			if (near)
				*rc = usage_error(NULL, "unknown command '%s'; did you mean '%s'?",
				                  argv[0], near);
			else
				*rc = usage_error(NULL, "unknown command '%s' (commands: %s)",
				                  argv[0], names);
		}
		return cmd;
	}
	if (argc < 2) {
		*rc = usage_error(NULL, "missing %s command (%s)", argv[0], sub);
		return NULL;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		if (strcmp(argv[0], "db") == 0)
			print_db_help();
		else
			print_group_help(argv[0]);
		*rc = EXIT_SUCCESS;
		return NULL;
	}
	if (strlen(argv[0]) + strlen(argv[1]) + 2 <= sizeof(name) && !strchr(argv[1], ' ')) {
		size_t n = strlen(argv[0]);

		memcpy(name, argv[0], n);
		name[n] = ' ';
		memcpy(name + n + 1, argv[1], strlen(argv[1]) + 1);
		cmd = find_command(name);
	}
	if (!cmd) {
		char prefix[16];
		const char *near;

		(void)snprintf(prefix, sizeof(prefix), "%s ", argv[0]);
		near = nearest_command(argv[1], prefix);
		if (near)
			*rc = usage_error(NULL, "unknown %s command '%s'; did you mean '%s %s'?",
			                  argv[0], argv[1], argv[0], near);
		else
			*rc = usage_error(NULL, "unknown %s command '%s' (%s)", argv[0], argv[1],
			                  sub);
		return NULL;
	}
	*words = 2;
	return cmd;
}

/* "axlink help [COMMAND]" is the same as --help; people type it. */
static int run_help(int argc, char **argv)
{
	const struct command *cmd;
	int words, rc;

	if (argc < 2) {
		print_main_help();
		return EXIT_SUCCESS;
	}
	if (argc == 2 && strcmp(argv[1], "db") == 0) {
		print_db_help();
		return EXIT_SUCCESS;
	}
	if (argc == 2 && strcmp(argv[1], "config") == 0) {
		print_group_help("config");
		return EXIT_SUCCESS;
	}
	cmd = lookup_command(argc - 1, argv + 1, &words, &rc);
	if (!cmd)
		return rc;
	if (argc > 1 + words)
		return usage_error(cmd, "unexpected argument '%s'", argv[1 + words]);
	print_command_help(cmd);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	struct cli cli = {.subnode = DEFAULT_SUBNODE};
	int rc, cargc, words;
	char **cargv;

	/* Each argument is at most one folder or one positional: argc bounds both. */
	cli.plugin_dirs = calloc((size_t)argc + 1, sizeof(*cli.plugin_dirs));
	cli.pos = calloc((size_t)argc + 1, sizeof(*cli.pos));
	if (!cli.plugin_dirs || !cli.pos) {
		rc = fail_oom();
		goto out;
	}

	/*
	 * A usage error can come before the option parser reaches --json: look
	 * for it first, so that every failure of a --json run is a JSON object.
	 */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			cli.json = 1;
	cli_report_json(cli.json);
	rc = parse_global(&cli, argc, argv);
	if (rc >= 0)
		goto out;
	if (optind >= argc) {
		rc = usage_error(NULL, "no command given");
		goto out;
	}
	if (strcmp(argv[optind], "help") == 0) {
		rc = run_help(argc - optind, argv + optind);
		goto out;
	}
	/* Web and opcua take the Python program's options: every argument goes to it. */
	if (cli_python_command(argv[optind])) {
		cli.cmd = find_command(argv[optind]);
		raise_env_log_level(&cli);
		rc = cli_python_exec(&cli, argv[optind], argc - optind - 1, argv + optind + 1);
		goto out;
	}
	cli.cmd = lookup_command(argc - optind, argv + optind, &words, &rc);
	if (!cli.cmd)
		goto out;
	/* The command pass sees the command's last word as its argv[0]. */
	cargc = argc - optind - (words - 1);
	cargv = argv + optind + (words - 1);
	rc = parse_command(&cli, cargc, cargv);
	if (rc >= 0)
		goto out;
	rc = cli.cmd->run(&cli);
out:
	free(cli.plugin_dirs);
	free(cli.pos);
	return finish_stdout(cli_report_finish(rc));
}
