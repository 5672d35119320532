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
 * stdout carries exactly one JSON document on success and nothing on
 * failure, so scripts can tell the two apart without parsing stderr. The
 * one exception is "db import" of several files of which some failed: the
 * database did change, so the files imported are still listed (exit 1).
 *
 * Only the public headers (include/axlink/axlink.h) are used: the tool must
 * work against an installed library exactly as a third-party program would.
 *
 * This file holds main(), option parsing, the shared helpers (tools/cli.h)
 * and the register commands; each further group of commands lives in its
 * own tools/cli_<group>.c and is listed once in groups[] below.
 */

/*
 * setenv(), stat() and strcasecmp() are POSIX; getopt_long() comes from
 * glibc's <getopt.h>.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "axlink/axlink.h"
#include "cli.h"

static int cmd_plugins(struct cli *cli);
static int cmd_read(struct cli *cli);
static int cmd_write(struct cli *cli);
static int cmd_scan(struct cli *cli);

static const char common_help[] =
        "Common options:\n"
        "  --json             print one JSON document on stdout (nothing on failure)\n"
        "  --timeout-ms N     request timeout in milliseconds (default: the transport's)\n"
        "  --plugin-dir DIR   search DIR for transport plugins first (repeatable)\n"
        "  -v, --verbose      log to stderr: -v info, -vv debug, -vvv trace\n"
        "  -h, --help         show this help\n";

static const struct option common_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"verbose", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {NULL, 0, NULL, 0},
};

static const struct option link_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"verbose", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {"subnode", required_argument, NULL, OPT_SUBNODE},
        {"dict", required_argument, NULL, OPT_DICT},
        {NULL, 0, NULL, 0},
};

/* Options of the core commands beyond cli.h's common ones (the groups number theirs from 300). */
enum {
	OPT_ALLOW_NONFINITE = 290,
};

static const struct option write_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"verbose", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {"subnode", required_argument, NULL, OPT_SUBNODE},
        {"dict", required_argument, NULL, OPT_DICT},
        {"allow-nonfinite", no_argument, NULL, OPT_ALLOW_NONFINITE},
        {NULL, 0, NULL, 0},
};

/* AX_VALUE_* flags of write, set by its options; a command runs once per process. */
static unsigned int write_flags;

static int write_option(struct cli *cli, int c, const char *arg)
{
	(void)arg;
	if (c == OPT_ALLOW_NONFINITE) {
		write_flags |= AX_VALUE_ALLOW_NONFINITE;
		return 0;
	}
	return usage_error(cli->cmd, "unhandled option");
}

static const struct option global_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"verbose", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {NULL, 0, NULL, 0},
};

static const struct command commands[] = {
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
                .opts = common_options,
                .run = cmd_plugins,
        },
        {
                .name = "read",
                .synopsis = "URI ADDRESS:TYPE [--subnode N] [--json]",
                .synopsis2 = "URI REGISTER [--subnode N] [--dict FILE] [--json]",
                .summary = "read one register, by address or by name",
                .help = "Read register ADDRESS of subnode N (default 1) on the drive at URI and\n"
                        "print its value as TYPE; or read the register the drive's dictionary\n"
                        "names REGISTER, with the dictionary's address, subnode and type.\n"
                        "  URI        e.g. virtual:, virtual:?model=axs-200, eth://192.168.2.22,\n"
                        "             or a stable identity axlink://VENDOR/PRODUCT/SERIAL\n"
                        "  ADDRESS    0x000..0xFFF, hex with 0x or decimal\n"
                        "  TYPE       u8 s8 u16 s16 u32 s32 u64 s64 float str bool bytes\n"
                        "  REGISTER   a register id, e.g. CL_POS_FBK_VALUE, DRV_PROT_VBUS_VALUE\n"
                        "  --subnode N  0 = communication core, 1.. = axis (default 1); with\n"
                        "             REGISTER, the subnode to look the id up on (default: the\n"
                        "             first one that has it)\n"
                        "  --dict FILE  take REGISTER from this XDF file, not from the device\n"
                        "             databases\n"
                        "A REGISTER's dictionary is found from the identity the drive reports\n"
                        "(vendor, product code, revision) in the device databases: AXLINK_DB,\n"
                        "the user database, the installed one (see 'axlink db --help').\n"
                        "JSON: {uri, subnode, address, type, value}; value is a number for\n"
                        "integer and float types (a u64 above 2^63-1 and a non-finite float are\n"
                        "strings), a string for str, a boolean for bool, hex digits for bytes.\n"
                        "By REGISTER it adds register and units, and label for a register with\n"
                        "an enumeration (null when the value has no label).\n"
                        "Examples: axlink read virtual: 0x6E1:u32 --subnode 0\n"
                        "          axlink read virtual: DRV_PROT_VBUS_VALUE --json\n",
                .arg_names = {"URI", "ADDRESS:TYPE or REGISTER", NULL},
                .opts = link_options,
                .run = cmd_read,
        },
        {
                .name = "write",
                .synopsis = "URI ADDRESS:TYPE VALUE [--subnode N] [--json]",
                .synopsis2 = "URI REGISTER VALUE [--subnode N] [--dict FILE] [--json]",
                .summary = "write one register, by address or by name",
                .help = "Write VALUE, converted to TYPE, to register ADDRESS of subnode N\n"
                        "(default 1) on the drive at URI; or write the register the drive's\n"
                        "dictionary names REGISTER (see 'axlink read --help'), converted to its\n"
                        "type and checked against its access and range. Print \"ok\", or with\n"
                        "--json the object that read prints, holding the value written.\n"
                        "  VALUE      integers in decimal or 0x hex, floats, true/false/0/1 for\n"
                        "             bool, hex digits for bytes, the text itself for str. A\n"
                        "             negative number may be given as is; any other value that\n"
                        "             starts with '-' goes after '--'. A float must keep its\n"
                        "             value: 1e39 (beyond float) and 1e-50 (stored as 0) are\n"
                        "             refused, and so are nan and inf unless --allow-nonfinite.\n"
                        "  --dict FILE  take REGISTER from this XDF file, not from the device\n"
                        "             databases\n"
                        "  --allow-nonfinite  write nan, inf or -inf to a float register (a\n"
                        "             dictionary's range still applies)\n"
                        "Examples: axlink write virtual: 0x020:s32 -1000\n"
                        "          axlink write virtual: CL_POS_SET_POINT_VALUE -1000\n"
                        "          axlink write virtual: CL_VEL_SET_POINT_VALUE nan "
                        "--allow-nonfinite\n",
                .arg_names = {"URI", "ADDRESS:TYPE or REGISTER", "VALUE", NULL},
                .opts = write_options,
                .run = cmd_write,
                .option = write_option,
        },
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
                        "product_code, revision, serial, sw_version}; ids are \"0x\" hex strings.\n"
                        "Exit 0 when the scan ran, even if it found nothing.\n"
                        "Example: axlink scan eth://127.0.0.0/28\n",
                .arg_names = {"SPEC", NULL},
                .opts = common_options,
                .run = cmd_scan,
        },
};

static const struct cli_group core_group = {
        commands, sizeof(commands) / sizeof(commands[0]),
};

/* Every command group; a new cli_<group>.c adds its table here. */
static const struct cli_group *const groups[] = {
        &core_group,
        &cli_db_group,
        &cli_discover_group,
        &cli_motion_group,
        &cli_monitor_group,
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
	va_list ap;

	fputs("axlink: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage_line(stderr, cmd);
	if (cmd)
		fprintf(stderr, "Try 'axlink %s --help' for more.\n", cmd->name);
	else
		fprintf(stderr, "Try 'axlink --help' for more.\n");
	return EXIT_USAGE;
}

/* A failed library call: its own message says what and where. */
/* The library's last message: it may quote a drive's or a file's text. */
int fail_last(void)
{
	fputs("axlink: ", stderr);
	(void)put_safe(stderr, ax_error_last());
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

int fail_oom(void)
{
	fprintf(stderr, "axlink: out of memory\n");
	return EXIT_FAILURE;
}

static void print_main_help(void)
{
	print_usage_line(stdout, NULL);
	printf("\nFind servo drives and talk to them through libaxlink.\n\nCommands:\n");
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t i = 0; i < groups[g]->count; i++)
			printf("  %-11s %s\n", groups[g]->commands[i].name,
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

/* "0x6E1:u32" -> address and dtype; usage error on anything else. */
static int parse_reg_arg(const struct command *cmd, const char *arg, struct reg_arg *out)
{
	const char *colon = strchr(arg, ':');
	char addr[32];
	size_t alen;
	unsigned long v;
	int rc, dtype;

	if (!colon)
		return usage_error(cmd, "'%s': expected ADDRESS:TYPE, e.g. 0x6E1:u32", arg);
	alen = (size_t)(colon - arg);
	if (alen == 0 || alen >= sizeof(addr))
		return usage_error(cmd, "'%s': address must be 0x000..0xFFF or 0..4095", arg);
	memcpy(addr, arg, alen);
	addr[alen] = '\0';
	rc = parse_uint(addr, ADDRESS_MAX, &v);
	if (rc == -1)
		return usage_error(cmd, "address '%s' is not a number (use hex 0x6E1 or decimal)",
		                   addr);
	if (rc == -2)
		return usage_error(cmd, "address '%s' out of range 0x000..0x%03X", addr,
		                   ADDRESS_MAX);
	if (colon[1] == '\0')
		return usage_error(cmd, "'%s': missing TYPE after ':', e.g. 0x6E1:u32", arg);
	dtype = ax_dtype_parse(colon + 1);
	if (dtype <= 0)
		return usage_error(cmd, "%s", ax_error_last());
	out->address = (uint32_t)v;
	out->dtype = dtype;
	return 0;
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
		if (stat(arg, &st) != 0) {
			fprintf(stderr, "axlink: --plugin-dir '%s': %s\n", arg, strerror(errno));
			return EXIT_FAILURE;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "axlink: --plugin-dir '%s': not a folder\n", arg);
			return EXIT_FAILURE;
		}
		cli->plugin_dirs[cli->n_plugin_dirs++] = arg;
		return 0;
	default:
		if (cli->cmd && cli->cmd->option)
			return cli->cmd->option(cli, c, arg);
		return usage_error(cli->cmd, "unhandled option");
	}
}

/* Report a getopt failure ('?' or ':') with the offending option. */
static int option_error(const struct command *cmd, int c, char **argv)
{
	const char *tok = argv[optind - 1];

	if (c == ':') {
		if (optopt && optopt < 256)
			return usage_error(cmd, "option '-%c' needs a value", optopt);
		return usage_error(cmd, "option '%s' needs a value", tok);
	}
	if (optopt && optopt < 256)
		return usage_error(cmd, "unknown option '-%c'", optopt);
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
			printf("axlink %d.%d.%d (libaxlink %s)\n", AX_VERSION_MAJOR,
			       AX_VERSION_MINOR, AX_VERSION_PATCH, ax_version());
			return EXIT_SUCCESS;
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
static int locate_stable(ax_ctx *ctx, const char *uri, char **out)
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
		rc = locate_stable(ctx, uri, &location);
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

/* ---- output ------------------------------------------------------------ */

/* Everything on stdout must have reached it, or the command failed. */
int finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (rc != EXIT_SUCCESS)
			return rc;
		fprintf(stderr, "axlink: writing the output: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	return rc;
}

/*
 * Flags for JSON on stdout. jansson escapes C0 controls but writes C1
 * controls and bidirectional overrides from a drive's text as they are: on
 * a terminal, which may act on them, every non-ASCII character is escaped
 * (\u009b); a pipe gets plain UTF-8.
 */
size_t json_out_flags(size_t flags)
{
	return isatty(STDOUT_FILENO) ? flags | JSON_ENSURE_ASCII : flags;
}

int print_json(json_t *root)
{
	/* 9 significant digits: every float32 survives the round trip. */
	size_t flags = json_out_flags(JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	                              JSON_REAL_PRECISION(9));

	if (json_dumpf(root, stdout, flags) != 0) {
		fprintf(stderr, "axlink: writing JSON: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	putchar('\n');
	return EXIT_SUCCESS;
}

/* ---- text from drives and files --------------------------------------- */

/*
 * The length of the valid UTF-8 sequence at @p (1..4) and its code point
 * in *cp, or 0 when the bytes there are not one (a stray continuation byte,
 * an overlong form, a surrogate, past U+10FFFF, cut short by the NUL).
 */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
	uint32_t v, min;
	size_t n;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2, v = p[0] & 0x1Fu, min = 0x80;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3, v = p[0] & 0x0Fu, min = 0x800;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4, v = p[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/* Characters a terminal acts on, or that reorder or break the text around them. */
static int is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The one rule for printing text that came from a drive or a file (firmware
 * strings, str registers, names, descriptions, messages quoting them):
 * control characters (C0 with tab, CR and LF, DEL, C1) and bidirectional
 * overrides become visible escapes (\x1b, \u009b, \u202e), each byte of
 * invalid UTF-8 becomes \xNN, everything else stays as it is. So a drive can
 * neither drive the terminal (set its title, clear it) nor forge lines.
 * Writes the escaped text and its NUL into @out when not NULL; returns its
 * length either way (call with NULL to size the buffer).
 */
size_t safe_text(char *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = 0, n;
	uint32_t cp;
	char esc[8];

	while (*p) {
		n = utf8_seq(p, &cp);
		if (n && !is_control(cp)) {
			if (out)
				memcpy(out + len, p, n);
			len += n;
			p += n;
			continue;
		}
		if (n && cp >= 0x80)
			(void)snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)cp);
		else
			(void)snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)p[0]);
		if (out)
			memcpy(out + len, esc, strlen(esc));
		len += strlen(esc);
		p += n ? n : 1;
	}
	if (out)
		out[len] = '\0';
	return len;
}

/* safe_text() of @s in a new string (free()), or NULL when out of memory. */
char *safe_dup(const char *s)
{
	char *out = malloc(safe_text(NULL, s) + 1);

	if (out)
		(void)safe_text(out, s);
	return out;
}

/* Write safe_text() of @s to @f; 0, or EOF on a write error or out of memory. */
int put_safe(FILE *f, const char *s)
{
	char *text = safe_dup(s);
	int rc = text ? fputs(text, f) : EOF;

	free(text);
	return rc < 0 ? EOF : 0;
}

/* Columns safe_text() of @s takes on a terminal (UTF-8 characters, not bytes). */
int safe_width(const char *s)
{
	char *text = safe_dup(s);
	int w = 0;

	for (const char *c = text ? text : ""; *c; c++)
		w += ((unsigned char)*c & 0xC0) != 0x80;
	free(text);
	return w;
}

/* put_safe(), then spaces up to @width columns: a left-aligned table cell. */
int put_safe_cell(FILE *f, const char *s, int width)
{
	int pad = width - safe_width(s);

	if (put_safe(f, s) != 0)
		return EOF;
	return pad > 0 && fprintf(f, "%*s", pad, "") < 0 ? EOF : 0;
}

/*
 * A JSON string for text from a drive, a file or the library. jansson
 * escapes control characters itself but refuses text that is not UTF-8:
 * each invalid byte then becomes U+FFFD, so the text is still there.
 */
json_t *json_text(const char *s)
{
	const unsigned char *p;
	json_t *j;
	char *copy;
	size_t n, at = 0, k;
	uint32_t cp;

	if (!s)
		s = "";
	j = json_string(s);
	if (j)
		return j;
	n = strlen(s);
	copy = malloc(3 * n + 1); /* each byte at worst one U+FFFD */
	if (!copy)
		return NULL;
	for (p = (const unsigned char *)s; *p; p += k ? k : 1) {
		k = utf8_seq(p, &cp);
		if (k) {
			memcpy(copy + at, p, k);
			at += k;
		} else {
			memcpy(copy + at, "\xEF\xBF\xBD", 3);
			at += 3;
		}
	}
	copy[at] = '\0';
	j = json_string(copy);
	free(copy);
	return j;
}

static uint64_t load_le(const uint8_t *b, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = (v << 8) | b[i - 1];
	return v;
}

/* The JSON form of a value; @text is its ax_value_format() text. NULL when out of memory. */
json_t *value_to_json(int dtype, const uint8_t *buf, const char *text)
{
	size_t size = ax_dtype_size(dtype);
	uint64_t u = size ? load_le(buf, size) : 0;
	uint32_t bits;
	float f;
	double d;
	char *end;
	char dec[24];

	switch (dtype) {
	case AX_DTYPE_U8:
	case AX_DTYPE_U16:
	case AX_DTYPE_U32:
		return json_integer((json_int_t)u);
	case AX_DTYPE_U64:
		if (u <= (uint64_t)INT64_MAX)
			return json_integer((json_int_t)u);
		/* JSON parsers commonly stop at int64; keep every digit in a string. */
		(void)snprintf(dec, sizeof(dec), "%" PRIu64, u);
		return json_string(dec);
	case AX_DTYPE_S8:
		return json_integer((int8_t)(uint8_t)u);
	case AX_DTYPE_S16:
		return json_integer((int16_t)(uint16_t)u);
	case AX_DTYPE_S32:
		return json_integer((int32_t)(uint32_t)u);
	case AX_DTYPE_S64: {
		int64_t s;

		memcpy(&s, &u, sizeof(s));
		return json_integer((json_int_t)s);
	}
	case AX_DTYPE_FLOAT:
		bits = (uint32_t)u;
		memcpy(&f, &bits, sizeof(f));
		/* JSON has no NaN or infinity: give the text rather than a wrong number. */
		if (!isfinite(f))
			return json_string(text);
		/*
		 * The text is the shortest form that reads back as this float; with
		 * 9-digit printing the JSON then shows the same digits as text mode
		 * (1.2, not 1.20000005) and still reads back as the same float.
		 */
		d = strtod(text, &end);
		if (end == text || *end != '\0')
			d = (double)f;
		return json_real(d);
	case AX_DTYPE_BOOL:
		return json_boolean(buf[0] != 0);
	case AX_DTYPE_STR:
		return json_text(text);
	default:
		return json_string(text); /* bytes: hex digits */
	}
}

json_t *hex32(uint32_t v)
{
	char text[16];

	(void)snprintf(text, sizeof(text), "0x%08X", (unsigned)v);
	return json_string(text);
}

const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* An integer register value as int64 (u64 wraps), for enum labels; 0 when not an integer. */
static int value_as_int(int dtype, const uint8_t *buf, int64_t *out)
{
	uint64_t u = load_le(buf, ax_dtype_size(dtype));

	switch (dtype) {
	case AX_DTYPE_S8:
		*out = (int8_t)(uint8_t)u;
		return 1;
	case AX_DTYPE_S16:
		*out = (int16_t)(uint16_t)u;
		return 1;
	case AX_DTYPE_S32:
		*out = (int32_t)(uint32_t)u;
		return 1;
	case AX_DTYPE_S64:
	case AX_DTYPE_U64:
		memcpy(out, &u, sizeof(*out));
		return 1;
	case AX_DTYPE_U8:
	case AX_DTYPE_U16:
	case AX_DTYPE_U32:
	case AX_DTYPE_BOOL:
		*out = (int64_t)u;
		return 1;
	default:
		return 0;
	}
}

/* The keys a register read by name adds: register, units, and label for an enum. */
static int add_named_keys(json_t *root, const ax_reg *reg, int dtype, const uint8_t *buf)
{
	const char *label = NULL;
	int64_t v;

	if (json_object_set_new(root, "register", json_text(ax_reg_id(reg))) != 0 ||
	    json_object_set_new(root, "units", json_text(ax_reg_units(reg))) != 0)
		return -1;
	if (ax_reg_enum_count(reg) == 0)
		return 0;
	if (value_as_int(dtype, buf, &v))
		label = ax_reg_enum_label(reg, v);
	return json_object_set_new(root, "label", label ? json_text(label) : json_null());
}

/* Print a register value (read, or echoed by write) as text or JSON. */
static int print_value(const struct cli *cli, const char *uri, const struct reg_arg *reg,
                       const uint8_t *buf, size_t len)
{
	size_t size = ax_dtype_size(reg->dtype);
	char *text = NULL;
	char addr[16];
	json_t *root = NULL, *val;
	int rc = EXIT_FAILURE;

	if (size && len < size) {
		fprintf(stderr, "axlink: %zu bytes are too few for a %s\n", len,
		        ax_dtype_name(reg->dtype));
		return EXIT_FAILURE;
	}
	if (ax_value_format(reg->dtype, buf, size ? size : len, &text) < 0)
		return fail_last();
	if (!cli->json) {
		/* A str is the drive's text: escaped; read it as bytes for every byte. */
		rc = put_safe(stdout, text) != 0 || putchar('\n') == EOF ? EXIT_FAILURE
		                                                            : EXIT_SUCCESS;
		goto out;
	}

	val = value_to_json(reg->dtype, buf, text);
	if (!val) {
		rc = fail_oom();
		goto out;
	}
	root = json_object();
	(void)snprintf(addr, sizeof(addr), "0x%03" PRIX32, reg->address);
	if (!root || json_object_set_new(root, "uri", json_text(uri)) != 0 ||
	    json_object_set_new(root, "subnode", json_integer(reg->subnode)) != 0 ||
	    json_object_set_new(root, "address", json_string(addr)) != 0 ||
	    json_object_set_new(root, "type", json_string(ax_dtype_name(reg->dtype))) != 0) {
		json_decref(val);
		rc = fail_oom();
		goto out;
	}
	if (json_object_set_new(root, "value", val) != 0 ||
	    (reg->named && add_named_keys(root, reg->named, reg->dtype, buf) != 0)) {
		rc = fail_oom();
		goto out;
	}
	rc = print_json(root);
out:
	json_decref(root);
	ax_free(text);
	return rc;
}

/* ---- registers by name ------------------------------------------------- */

/*
 * A register id rather than ADDRESS:TYPE: ids have no ':' and start with a
 * letter or '_', where an address starts with a digit. Anything else stays
 * ADDRESS:TYPE, so a mistyped address still gets the ADDRESS:TYPE message.
 */
static int is_register_id(const char *arg)
{
	return !strchr(arg, ':') && (isalpha((unsigned char)arg[0]) || arg[0] == '_');
}

/* The second argument of read and write: parsed now when ADDRESS:TYPE. */
static int parse_target(const struct cli *cli, const char *arg, struct reg_arg *reg)
{
	if (is_register_id(arg))
		return 0;
	if (cli->dict_path)
		return usage_error(cli->cmd,
		                   "--dict is for a register id, not for ADDRESS:TYPE '%s'", arg);
	return parse_reg_arg(cli->cmd, arg, reg);
}

/*
 * Register @id of the dictionary of the drive at @uri into @reg. The drive
 * is opened by open_drive(); *drive_out keeps it and the register alive.
 */
static int named_reg(const struct cli *cli, ax_ctx *ctx, const char *uri, const char *id,
                     ax_drive **drive_out, struct reg_arg *reg)
{
	const ax_dict_identity *ident;
	const ax_dict *dict;
	const ax_reg *r;
	const char *reason;
	ax_drive *d = NULL;
	int rc, match;

	rc = open_drive(cli, ctx, uri, &d);
	if (rc != 0)
		return rc;
	dict = ax_drive_dict(d);
	match = ax_drive_match(d);
	reason = ax_drive_match_reason(d);
	if (!dict) {
		fprintf(stderr, "axlink: no dictionary for the drive at ");
		(void)put_safe(stderr, uri);
		fprintf(stderr, ": ");
		(void)put_safe(stderr, or_dash(reason));
		fprintf(stderr, "\naxlink: import one with 'axlink db import FILE.xdf', or name "
		                "the file with --dict FILE.xdf\n");
		goto fail;
	}
	ident = ax_dict_identity_get(dict);
	if (ident->addr_space != AX_ADDR_MCB) {
		fprintf(stderr, "axlink: the dictionary for the drive at ");
		(void)put_safe(stderr, uri);
		fprintf(stderr, " is not one of MCB registers: ");
		(void)put_safe(stderr, or_dash(reason));
		fprintf(stderr, "\naxlink: name an ETH or EoE dictionary with --dict FILE.xdf\n");
		goto fail;
	}
	/* Another revision's registers may differ: say which dictionary serves. */
	if (match == AX_MATCH_LOWER_REVISION || match == AX_MATCH_ANY_REVISION ||
	    cli->verbose) {
		fprintf(stderr, "axlink: %s", match == AX_MATCH_LOWER_REVISION ||
		                                      match == AX_MATCH_ANY_REVISION
		                                      ? "warning: "
		                                      : "");
		(void)put_safe(stderr, or_dash(reason));
		fputc('\n', stderr);
	}
	if (ax_dict_find(dict, id, cli->subnode_set ? (int)cli->subnode : -1, &r) < 0) {
		fputs("axlink: ", stderr);
		(void)put_safe(stderr, ax_error_last());
		fputs(" (model ", stderr);
		(void)put_safe(stderr, or_dash(ident->name));
		fputs(", ", stderr);
		(void)put_safe(stderr, or_dash(ident->interface));
		fputs(")\n", stderr);
		goto fail;
	}
	reg->named = r;
	reg->subnode = ax_reg_subnode(r);
	reg->address = ax_reg_address(r);
	reg->dtype = ax_reg_dtype(r);
	*drive_out = d;
	return 0;
fail:
	ax_drive_unref(d);
	return EXIT_FAILURE;
}

/*
 * Open what a read or write of @target needs: the drive with its dictionary
 * for a register id, the link alone for ADDRESS:TYPE. *link_out is the one
 * to use either way; release_target() drops all three.
 */
static int open_target(const struct cli *cli, const char *uri, const char *target,
                       ax_ctx **ctx_out, ax_drive **drive_out, ax_link **link_out,
                       struct reg_arg *reg)
{
	int rc;

	if (!is_register_id(target))
		return open_link(cli, uri, ctx_out, link_out);
	rc = open_ctx(cli, ctx_out);
	if (rc == 0)
		rc = named_reg(cli, *ctx_out, uri, target, drive_out, reg);
	if (rc != 0) {
		*ctx_out = ax_ctx_unref(*ctx_out);
		return rc;
	}
	*link_out = ax_link_ref(ax_drive_link(*drive_out));
	return 0;
}

static void release_target(ax_ctx *ctx, ax_drive *drive, ax_link *link)
{
	ax_link_unref(link);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
}

/* ---- commands ---------------------------------------------------------- */

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
	if (json_object_set_new(o, "path", json_text(rec->path)) != 0 ||
	    json_object_set_new(o, "scheme", json_text(rec->scheme)) != 0 ||
	    json_object_set_new(o, "name", json_text(rec->name)) != 0 ||
	    json_object_set_new(o, "version", json_text(rec->version)) != 0 ||
	    json_object_set_new(o, "abi", json_string(abi)) != 0 ||
	    json_object_set_new(o, "status", json_text(ax_plugin_status_name(rec->status))) != 0 ||
	    json_object_set_new(o, "message", json_text(rec->message)) != 0 ||
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

static int cmd_read(struct cli *cli)
{
	const char *uri = cli->pos[0];
	const char *target = cli->pos[1];
	struct reg_arg reg = {.subnode = cli->subnode};
	ax_ctx *ctx = NULL;
	ax_link *link = NULL;
	ax_drive *drive = NULL;
	/* +1: a str of the full extended payload still gets its NUL. */
	uint8_t buf[AX_VALUE_MAX + 1];
	size_t len = 0;
	int rc, err;

	rc = parse_target(cli, target, &reg);
	if (rc != 0)
		return rc;
	rc = open_target(cli, uri, target, &ctx, &drive, &link, &reg);
	if (rc != 0)
		return rc;
	memset(buf, 0, sizeof(buf));
	if (reg.named)
		err = ax_link_read_reg(link, reg.named, buf, sizeof(buf), &len);
	else
		err = ax_link_read_value(link, reg.subnode, reg.address, reg.dtype, buf,
		                         sizeof(buf), &len);
	rc = err < 0 ? fail_last() : print_value(cli, uri, &reg, buf, len);
	release_target(ctx, drive, link);
	return rc;
}

/*
 * VALUE as the register's type, by the library's rule; a usage error that
 * quotes it otherwise, and says when --allow-nonfinite would take it.
 */
static int write_parse(struct cli *cli, const char *value, const struct reg_arg *reg,
                       const char *named, uint8_t *buf, size_t *len)
{
	uint8_t probe[AX_VALUE_MAX + 1];
	char msg[512];
	size_t n;
	int hint;

	if (ax_value_parse_flags(reg->dtype, value, write_flags, buf, AX_VALUE_MAX, len) == 0)
		return 0;
	(void)snprintf(msg, sizeof(msg), "%s", ax_error_last());
	hint = !(write_flags & AX_VALUE_ALLOW_NONFINITE) &&
	       ax_value_parse_flags(reg->dtype, value, AX_VALUE_ALLOW_NONFINITE, probe,
	                            AX_VALUE_MAX, &n) == 0;
	if (named)
		return usage_error(cli->cmd, "%s (register %s has type %s)%s", msg, named,
		                   ax_dtype_name(reg->dtype),
		                   hint ? "; --allow-nonfinite writes it" : "");
	return usage_error(cli->cmd, "%s%s", msg, hint ? "; --allow-nonfinite writes it" : "");
}

static int cmd_write(struct cli *cli)
{
	const char *uri = cli->pos[0];
	const char *target = cli->pos[1];
	const char *value = cli->pos[2];
	struct reg_arg reg = {.subnode = cli->subnode};
	ax_ctx *ctx = NULL;
	ax_link *link = NULL;
	ax_drive *drive = NULL;
	uint8_t buf[AX_VALUE_MAX + 1];
	size_t len = 0;
	int rc, err;

	rc = parse_target(cli, target, &reg);
	if (rc != 0)
		return rc;
	/* Convert before touching the bus: a bad value must not cost a connection. */
	memset(buf, 0, sizeof(buf));
	if (!is_register_id(target)) {
		rc = write_parse(cli, value, &reg, NULL, buf, &len);
		if (rc != 0)
			return rc;
	}
	rc = open_target(cli, uri, target, &ctx, &drive, &link, &reg);
	if (rc != 0)
		return rc;
	if (is_register_id(target)) {
		/* A register's type is known only once its dictionary is. */
		rc = write_parse(cli, value, &reg, target, buf, &len);
		if (rc != 0)
			goto out;
	}
	if (reg.named)
		err = ax_link_write_reg_flags(link, reg.named, buf, len, write_flags);
	else
		err = ax_link_write(link, reg.subnode, reg.address, buf, len);
	if (err < 0)
		rc = fail_last();
	else if (cli->json)
		rc = print_value(cli, uri, &reg, buf, len);
	else
		rc = printf("ok\n") < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
out:
	release_target(ctx, drive, link);
	return rc;
}

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
	    json_object_set_new(o, "detail", json_text(r->detail)) != 0 ||
	    json_object_set_new(o, "access", json_text(ax_access_state_name(r->access))) != 0 ||
	    json_object_set_new(o, "message", json_text(r->message)) != 0 ||
	    json_object_set_new(o, "vendor_id", (r->known & AX_SCAN_HAS_VENDOR) ?
	                                                hex32(r->vendor_id) : json_null()) != 0 ||
	    json_object_set_new(o, "product_code", (r->known & AX_SCAN_HAS_PRODUCT) ?
	                                                   hex32(r->product_code) : json_null()) != 0 ||
	    json_object_set_new(o, "revision", (r->known & AX_SCAN_HAS_REVISION) ?
	                                               hex32(r->revision) : json_null()) != 0 ||
	    json_object_set_new(o, "serial", (r->known & AX_SCAN_HAS_SERIAL) ?
	                                             json_integer(r->serial) : json_null()) != 0 ||
	    json_object_set_new(o, "sw_version", (r->known & AX_SCAN_HAS_SW_VERSION) ?
	                                                 json_text(r->sw_version) : json_null()) != 0) {
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
	rc = locate_stable(ctx, cli->pos[0], &location);
	if (rc != 0) {
		json_decref(out.arr);
		ax_ctx_unref(ctx);
		return rc;
	}
	found = ax_scan(ctx, location ? location : cli->pos[0], cli->timeout_ms, scan_found,
	                &out);
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


/* ---- main -------------------------------------------------------------- */

/*
 * The command that argv[0] names, with argv[1] after "db". *words gets the
 * words it took. NULL with *rc set: a usage error, or the db help printed.
 */
static const struct command *lookup_command(int argc, char **argv, int *words, int *rc)
{
	const struct command *cmd = NULL;
	char name[32];

	*words = 1;
	if (strcmp(argv[0], "db") != 0) {
		/* "db import" is two words on the command line, never one. */
		if (!strchr(argv[0], ' '))
			cmd = find_command(argv[0]);
		if (!cmd) {
			char names[512];

			command_names(names, sizeof(names));
			*rc = usage_error(NULL, "unknown command '%s' (commands: %s)", argv[0],
			                  names);
		}
		return cmd;
	}
	if (argc < 2) {
		*rc = usage_error(NULL, "missing db command (import, list, show, resolve)");
		return NULL;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_db_help();
		*rc = EXIT_SUCCESS;
		return NULL;
	}
	if (strlen(argv[1]) + 4 <= sizeof(name) && !strchr(argv[1], ' ')) {
		(void)snprintf(name, sizeof(name), "db %s", argv[1]);
		cmd = find_command(name);
	}
	if (!cmd) {
		*rc = usage_error(NULL, "unknown db command '%s' (import, list, show, resolve)",
		                  argv[1]);
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
	return finish_stdout(rc);
}
