/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TOOLS_CLI_H
#define AXLINK_TOOLS_CLI_H

/*
 * What the axlink command's files share: the parsed command line, the
 * command table entry, and the helpers for messages, output and opening
 * things. axlink.c holds main(), option parsing and opening things,
 * cli_output.c the messages and output; each group of commands lives in
 * its own cli_<group>.c and exports its table (struct cli_group), listed
 * once in axlink.c.
 */

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "axlink/axlink.h"

#define EXIT_USAGE 2

/* MCB register addresses are 12 bits and subnodes 4 bits (DESIGN §5). */
#define ADDRESS_MAX 0xFFFu
#define SUBNODE_MAX 15u
#define DEFAULT_SUBNODE 1u

/* Options shared by every command; filled by both option passes. */
struct cli {
	const struct command *cmd;
	int json;
	int verbose;
	int timeout_ms; /* 0 = the transport's default */
	unsigned subnode;
	int subnode_set;     /* --subnode given: a register id is looked up on that subnode only */
	const char *db_path; /* --db: one database instead of the search order */
	const char *dict_path;    /* --dict: a dictionary file instead of the databases */
	const char **plugin_dirs; /* NULL-terminated; strings borrowed from argv */
	size_t n_plugin_dirs;
	char **pos; /* positional arguments after the command name */
	size_t n_pos;
};

/* The register a read or write addresses: ADDRESS:TYPE, or a dictionary's register. */
struct reg_arg {
	unsigned subnode;
	uint32_t address;
	int dtype;
	const ax_reg *named; /* the dictionary's register when named by id, else NULL */
};

struct command {
	const char *name;      /* "read", or "db import" for a db subcommand */
	const char *synopsis;  /* after "axlink <name> " */
	const char *synopsis2; /* a second form, or NULL */
	const char *summary;
	const char *help;         /* body of --help */
	const char *arg_names[4]; /* positional arguments, NULL-terminated */
	int variadic;             /* the last positional takes one or more arguments */
	const struct option *opts;
	int (*run)(struct cli *cli);
	/*
	 * Options of this command beyond the common ones (ids from the group's
	 * own range, see below), or NULL. Returns 0, or an exit status.
	 */
	int (*option)(struct cli *cli, int c, const char *arg);
};

/*
 * Option ids: the common ones here; each command group numbers its own from
 * its range (registers 290.., db 300.., motion 400.., discovery 500..,
 * monitor 600.., scope 700..).
 */
enum {
	OPT_JSON = 256,
	OPT_TIMEOUT,
	OPT_PLUGIN_DIR,
	OPT_SUBNODE,
	OPT_DB,
	OPT_DICT,
};

/* The options every command takes; a command's table starts with these. */
#define CLI_COMMON_OPTIONS                                                                         \
	{"help", no_argument, NULL, 'h'}, {"verbose", no_argument, NULL, 'v'},                     \
	        {"json", no_argument, NULL, OPT_JSON},                                             \
	        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},                              \
	{                                                                                          \
		"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR                              \
	}

/* A group of commands defined in its own file. */
struct cli_group {
	const struct command *commands;
	size_t count;
};

extern const struct cli_group cli_plugins_group;   /* cli_plugins.c */
extern const struct cli_group cli_registers_group; /* cli_registers.c */
extern const struct cli_group cli_scan_group;      /* cli_scan.c */

extern const struct cli_group cli_db_group;       /* cli_db.c */
extern const struct cli_group cli_discover_group; /* cli_discover.c */
extern const struct cli_group cli_motion_group;   /* cli_motion.c */
extern const struct cli_group cli_monitor_group;  /* cli_monitor.c */
extern const struct cli_group cli_nvm_group;      /* cli_nvm.c */
extern const struct cli_group cli_config_group;   /* cli_config.c */
extern const struct cli_group cli_table_group;    /* cli_table.c */
extern const struct cli_group cli_scope_group;    /* cli_scope.c */
extern const struct cli_group cli_python_group;   /* cli_python.c: web, opcua */
extern const struct cli_group cli_complete_group; /* cli_complete.c */

/* Keep the URIs of 'axlink list' rows for shell completion (cli_complete.c); best effort. */
void cli_remember_uris(const json_t *rows);

/* True when @name is a command of the Python package (web, opcua). */
int cli_python_command(const char *name);

/*
 * "axlink NAME ARGS" for a command of the Python package: run its module
 * (axlink.web, axlink.opcua) with @argv (the arguments after NAME) in
 * place of this process. Returns only on failure, with the exit status.
 */
int cli_python_exec(const struct cli *cli, const char *name, int argc, char **argv);

/* ---- messages (exit statuses): usage_error in axlink.c, the rest in cli_output.c ---- */
int usage_error(const struct command *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
int fail_last(void);
int fail_oom(void);
int cli_fail(int code, int error_class, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* With --json, a failure prints {"error": {code, name, class, message, exit_status}}. */
void cli_report_json(int on);
void cli_note_error(int code, int error_class, const char *message);
int cli_report_finish(int rc);

/* ---- did you mean (cli_output.c) ---- */
struct suggest {
	const char *word;
	const char *best; /* the nearest candidate within the limit, or NULL */
	size_t limit, distance;
};
void suggest_init(struct suggest *s, const char *word);
void suggest_add(struct suggest *s, const char *candidate);
/* The register id of @dict nearest to @id by edit distance, or NULL when none is close. */
const char *nearest_register(const ax_dict *dict, const char *id);

/* ---- argument parsing (axlink.c) ---- */
int parse_uint(const char *text, unsigned long max, unsigned long *out);
/* "0x6E1:u32": address and type into @out (cli_registers.c); 0, or EXIT_USAGE. */
int parse_reg_arg(const struct command *cmd, const char *arg, struct reg_arg *out);

/* ---- context and link (axlink.c) ---- */
int open_ctx(const struct cli *cli, ax_ctx **out);
/* A stable identity URI (axlink://...) located in *out (ax_free()); NULL for a location. */
int cli_locate_stable(ax_ctx *ctx, const char *uri, char **out);
int open_link(const struct cli *cli, const char *uri, ax_ctx **ctx_out, ax_link **link_out);
int open_drive(const struct cli *cli, ax_ctx *ctx, const char *uri, ax_drive **out);

/*
 * ---- text from drives and files (cli_output.c) ----
 * Every string a drive or a file provided (firmware text, str values,
 * names, descriptions, messages that quote them) reaches the terminal
 * through safe_text(): control characters and invalid UTF-8 as escapes.
 */
size_t safe_text(char *out, const char *s);
char *safe_dup(const char *s);
int put_safe(FILE *f, const char *s);
int put_safe_cell(FILE *f, const char *s, int width);
int safe_width(const char *s);

/* ---- output (cli_output.c) ---- */
int finish_stdout(int rc);
size_t json_out_flags(size_t flags);
int print_json(json_t *root);
json_t *json_text(const char *s);
json_t *text_or_null(const char *s);
json_t *hex32(uint32_t v);
/* A value of @dtype as JSON: number, string, bool, or hex digits for bytes; @text is its text form.
 */
json_t *value_to_json(int dtype, const uint8_t *buf, const char *text);
const char *or_dash(const char *s);

#endif
