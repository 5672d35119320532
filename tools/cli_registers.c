/* SPDX-License-Identifier: MIT */
/*
 * axlink read | write: one register, by address (ADDRESS:TYPE) or by the
 * id the drive's dictionary gives it, and its value printed as text or
 * JSON.
 *
 *   axlink read  URI ADDRESS:TYPE|REGISTER [--subnode N] [--dict FILE] [--json]
 *   axlink write URI ADDRESS:TYPE|REGISTER VALUE [--subnode N] [--dict FILE] [--json]
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "axlink/axlink.h"
#include "cli.h"

static int cmd_read(struct cli *cli);
static int cmd_write(struct cli *cli);

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

/* Options of write beyond cli.h's common ones (the other groups number theirs from 300). */
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

static const struct command register_commands[] = {
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
                        "an enumeration (null when the value has no label); so does the text\n"
                        "output by REGISTER: \"48.2 V\", \"20 (Profile position)\".\n"
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
                        "A register with an enumeration also takes its labels, case-insensitive\n"
                        "('axlink write URI DRV_OP_CMD \"Profile velocity\"').\n"
                        "Examples: axlink write virtual: 0x020:s32 -1000\n"
                        "          axlink write virtual: CL_POS_SET_POINT_VALUE -1000\n"
                        "          axlink write virtual: CL_VEL_SET_POINT_VALUE nan "
                        "--allow-nonfinite\n",
                .arg_names = {"URI", "ADDRESS:TYPE or REGISTER", "VALUE", NULL},
                .opts = write_options,
                .run = cmd_write,
                .option = write_option,
        },
};

const struct cli_group cli_registers_group = {
        register_commands,
        sizeof(register_commands) / sizeof(register_commands[0]),
};

/* ---- argument parsing -------------------------------------------------- */

/* "0x6E1:u32" -> address and dtype; usage error on anything else (cli.h). */
int parse_reg_arg(const struct command *cmd, const char *arg, struct reg_arg *out)
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

/* ---- values ------------------------------------------------------------ */

/* The enum label of an integer register value; NULL for none. */
static const char *value_label(const ax_reg *reg, int dtype, const uint8_t *buf)
{
	int64_t v;

	if (ax_reg_enum_count(reg) == 0 || dtype == AX_DTYPE_FLOAT ||
	    ax_value_to_i64(dtype, buf, ax_dtype_size(dtype), &v) < 0) {
		ax_error_clear();
		return NULL;
	}
	return ax_reg_enum_label(reg, v);
}

/* The units a value is shown with in text: NULL for none ("", "none", "-"). */
static const char *shown_units(const ax_reg *reg)
{
	const char *u = ax_reg_units(reg);

	return u && u[0] && strcmp(u, "none") != 0 && strcmp(u, "-") != 0 ? u : NULL;
}

/* The keys a register read by name adds: register, units, and label for an enum. */
static int add_named_keys(json_t *root, const ax_reg *reg, int dtype, const uint8_t *buf)
{
	const char *label;

	if (json_object_set_new(root, "register", json_text(ax_reg_id(reg))) != 0 ||
	    json_object_set_new(root, "units", text_or_null(ax_reg_units(reg))) != 0)
		return -1;
	if (ax_reg_enum_count(reg) == 0)
		return 0;
	label = value_label(reg, dtype, buf);
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
		return cli_fail(AX_EPROTO, AX_ERRCLASS_TRANSPORT, "%zu bytes are too few for a %s",
		                len, ax_dtype_name(reg->dtype));
	}
	if (ax_value_format(reg->dtype, buf, size ? size : len, &text) < 0)
		return fail_last();
	if (!cli->json) {
		/* By name: "48.2 V", "20 (Profile position)"; the units and label as in JSON. */
		const char *units = reg->named ? shown_units(reg->named) : NULL;
		const char *label = reg->named ? value_label(reg->named, reg->dtype, buf) : NULL;

		/* A str is the drive's text: escaped; read it as bytes for every byte. */
		rc = put_safe(stdout, text) != 0 ||
		                     (units &&
		                      (putchar(' ') == EOF || put_safe(stdout, units) != 0)) ||
		                     (label &&
		                      (fputs(" (", stdout) == EOF || put_safe(stdout, label) != 0 ||
		                       putchar(')') == EOF)) ||
		                     putchar('\n') == EOF
		             ? EXIT_FAILURE
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
		cli_note_error(AX_ENOTFOUND, AX_ERRCLASS_DICT, or_dash(reason));
		fprintf(stderr, "axlink: no dictionary for the drive at ");
		(void)put_safe(stderr, uri);
		fprintf(stderr, ": ");
		(void)put_safe(stderr, or_dash(reason));
		fprintf(stderr, "\naxlink: import one with 'axlink db import FILE.xdf', or name "
		                "the file with --dict FILE.xdf\n");
		goto fail;
	}
	ident = ax_dict_identity_get(dict);
	/* The dictionary must address registers as the link does (MCB, or CANopen objects). */
	if (ident->addr_space != ax_link_addr_space(ax_drive_link(d))) {
		int mcb = ax_link_addr_space(ax_drive_link(d)) == AX_ADDR_MCB;

		cli_note_error(AX_ENOTFOUND, AX_ERRCLASS_DICT,
		               mcb ? "the drive's dictionary is not one of MCB registers"
		                   : "the drive's dictionary is not one of CANopen objects");
		fprintf(stderr, "axlink: the dictionary for the drive at ");
		(void)put_safe(stderr, uri);
		fprintf(stderr, " is not one of %s: ", mcb ? "MCB registers" : "CANopen objects");
		(void)put_safe(stderr, or_dash(reason));
		fprintf(stderr, "\naxlink: name %s dictionary with --dict FILE.xdf\n",
		        mcb ? "an ETH or EoE" : "a CAN or ECAT");
		goto fail;
	}
	/* Another revision's registers may differ: say which dictionary serves. */
	if (match == AX_MATCH_LOWER_REVISION || match == AX_MATCH_ANY_REVISION || cli->verbose) {
		fprintf(stderr, "axlink: %s",
		        match == AX_MATCH_LOWER_REVISION || match == AX_MATCH_ANY_REVISION
		                ? "warning: "
		                : "");
		(void)put_safe(stderr, or_dash(reason));
		fputc('\n', stderr);
	}
	if (ax_dict_find(dict, id, cli->subnode_set ? (int)cli->subnode : -1, &r) < 0) {
		const char *near = nearest_register(dict, id);
		int code = ax_error_last_code(), cls = ax_error_last_class();
		char *msg = strdup(ax_error_last());

		(void)cli_fail(code, cls, "%s (model %s, %s)%s%s%s", msg ? msg : "no such register",
		               or_dash(ident->name), or_dash(ident->interface),
		               near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		free(msg);
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
static int open_target(const struct cli *cli, const char *uri, const char *target, ax_ctx **ctx_out,
                       ax_drive **drive_out, ax_link **link_out, struct reg_arg *reg)
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
	char msg[512], number[32];
	size_t n, count = reg->named ? ax_reg_enum_count(reg->named) : 0;
	int hint;

	/* An enumerated register takes its labels, case-insensitive, as Python does. */
	for (size_t i = 0; i < count && reg->dtype != AX_DTYPE_FLOAT; i++) {
		const char *label = NULL;
		int64_t v = 0;

		if (ax_reg_enum_at(reg->named, i, &v, &label) < 0 || !label ||
		    strcasecmp(label, value) != 0)
			continue;
		(void)snprintf(number, sizeof(number), "%" PRId64, v);
		value = number;
		break;
	}
	ax_error_clear();
	if (ax_value_parse_flags(reg->dtype, value, write_flags, buf, AX_VALUE_MAX, len) == 0)
		return 0;
	if (count && reg->dtype != AX_DTYPE_FLOAT && value != number &&
	    !isdigit((unsigned char)value[0]) && value[0] != '-' && value[0] != '+') {
		char labels[400];
		size_t used = 0;

		labels[0] = '\0';
		for (size_t i = 0; i < count; i++) {
			const char *label = NULL;
			int64_t v = 0;
			int w;

			if (ax_reg_enum_at(reg->named, i, &v, &label) < 0 || !label)
				continue;
			w = snprintf(labels + used, sizeof(labels) - used, "%s'%s' (%" PRId64 ")",
			             used ? ", " : "", label, v);
			if (w < 0 || (size_t)w >= sizeof(labels) - used)
				break;
			used += (size_t)w;
		}
		ax_error_clear();
		return usage_error(cli->cmd,
		                   "'%s' is no label of %s: it takes a number or one of "
		                   "%s",
		                   value, named, labels);
	}
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
