/* SPDX-License-Identifier: MIT */
/*
 * axlink db import|list|show|resolve: the device databases from the shell.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const struct option db_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"verbose", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {"db", required_argument, NULL, OPT_DB},
        {NULL, 0, NULL, 0},
};

/* Options of this group beyond the common ones. */
enum {
	OPT_STRICT = 300,
};

static const struct option import_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"verbose", no_argument, NULL, 'v'},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
        {"db", required_argument, NULL, OPT_DB},
        {"strict", no_argument, NULL, OPT_STRICT},
        {NULL, 0, NULL, 0},
};

/* AX_DB_IMPORT_* flags of db import, set by its options; a command runs once per process. */
static unsigned int import_flags;

static int import_option(struct cli *cli, int c, const char *arg)
{
	(void)arg;
	if (c == OPT_STRICT) {
		import_flags |= AX_DB_IMPORT_STRICT;
		return 0;
	}
	return usage_error(cli->cmd, "unhandled option");
}

/* ---- device databases -------------------------------------------------- */

/* Column and JSON names of the search order's databases, by ax_db_location. */
static const char *const location_names[] = {"env", "user", "installed"};
/* The same in messages. */
static const char *const location_texts[] = {
        "the database AXLINK_DB names",
        "the user database",
        "the installed database",
};

struct db_source {
	const char *location; /* a location_names entry, or "db" for --db */
	const char *path;
	char *owned; /* path from ax_db_location_path(), freed with ax_free() */
	ax_db *db;
};

struct db_set {
	struct db_source src[3];
	size_t n;
};

static void db_set_close(struct db_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		ax_db_unref(set->src[i].db);
		ax_free(set->src[i].owned);
	}
	set->n = 0;
}

/*
 * The databases to read: the one --db names (which must open), else each
 * database of the search order whose file exists. A broken one is reported
 * and skipped, as reading by name skips it. Returns 0 or an exit status.
 */
static int db_set_open(const struct cli *cli, struct db_set *set)
{
	memset(set, 0, sizeof(*set));
	if (cli->db_path) {
		if (ax_db_open(&set->src[0].db, cli->db_path, AX_DB_READONLY) < 0)
			return fail_last();
		set->src[0].location = "db";
		set->src[0].path = cli->db_path;
		set->n = 1;
		return 0;
	}
	for (int loc = AX_DB_LOCATION_ENV; loc <= AX_DB_LOCATION_INSTALLED; loc++) {
		struct db_source *s = &set->src[set->n];
		char *path = NULL;
		int err, seen = 0;

		err = ax_db_location_path(loc, &path);
		if (err == AX_ENOTFOUND) {
			/* AXLINK_DB unset, or no home folder: nothing to search there. */
			ax_error_clear();
			continue;
		}
		if (err < 0) {
			fprintf(stderr, "axlink: skipping %s: %s\n", location_texts[loc],
			        ax_error_last());
			continue;
		}
		/* AXLINK_DB may name the user or the installed database itself. */
		for (size_t i = 0; i < set->n; i++)
			seen |= strcmp(set->src[i].path, path) == 0;
		err = seen ? 0 : ax_db_open(&s->db, path, AX_DB_READONLY);
		if (seen || err < 0) {
			/* Only AXLINK_DB naming a missing file is worth a word. */
			if (err < 0 && (err != AX_ENOTFOUND || loc == AX_DB_LOCATION_ENV))
				fprintf(stderr, "axlink: skipping %s: %s\n", location_texts[loc],
				        ax_error_last());
			ax_error_clear();
			ax_free(path);
			continue;
		}
		s->location = location_names[loc];
		s->path = path;
		s->owned = path;
		set->n++;
	}
	return 0;
}

/* "installed (/usr/share/axlink/devices.db), user (...)" for messages. */
static void print_db_set(FILE *f, const struct db_set *set)
{
	if (set->n == 0) {
		fprintf(f, "no device database");
		return;
	}
	for (size_t i = 0; i < set->n; i++) {
		fprintf(f, "%s%s (", i ? ", " : "", set->src[i].location);
		(void)put_safe(f, set->src[i].path);
		fputc(')', f);
	}
}

static const char *access_name(int access)
{
	switch (access & AX_REG_RW) {
	case AX_REG_RW:
		return "rw";
	case AX_REG_READ:
		return "r";
	case AX_REG_WRITE:
		return "w";
	default:
		return "-";
	}
}

/* A register's default as text (ax_free()), or NULL when the dictionary gives none. */
static char *default_text(const ax_reg *reg)
{
	const uint8_t *bytes = NULL;
	size_t n = ax_reg_default(reg, &bytes);
	int dtype = ax_reg_dtype(reg);
	char *text = NULL;

	if (n == 0 || n < ax_dtype_size(dtype))
		return NULL;
	if (ax_value_format(dtype, bytes, n, &text) < 0) {
		ax_error_clear();
		return NULL;
	}
	return text;
}

/* A model as 'db list --json' shows it; NULL when out of memory. */
static json_t *model_json(const struct db_source *src, const ax_db_model *m)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (json_object_set_new(o, "location", json_string(src->location)) != 0 ||
	    json_object_set_new(o, "database", json_text(src->path)) != 0 ||
	    json_object_set_new(o, "name", json_text(m->name)) != 0 ||
	    json_object_set_new(o, "vendor_id", hex32(m->vendor_id)) != 0 ||
	    json_object_set_new(o, "product_code", hex32(m->product_code)) != 0 ||
	    json_object_set_new(o, "revision", hex32(m->revision)) != 0 ||
	    json_object_set_new(o, "part_number", text_or_null(m->part_number)) != 0 ||
	    json_object_set_new(o, "interface", text_or_null(m->interface)) != 0 ||
	    json_object_set_new(o, "firmware_version", text_or_null(m->firmware_version)) != 0 ||
	    json_object_set_new(o, "family", text_or_null(m->family)) != 0 ||
	    json_object_set_new(o, "format_version", json_integer(m->format_version)) != 0 ||
	    json_object_set_new(o, "registers", json_integer((json_int_t)m->registers)) != 0 ||
	    json_object_set_new(o, "source", text_or_null(m->source)) != 0 ||
	    json_object_set_new(o, "sha256", text_or_null(m->sha256)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The models of one database of a set (ax_db_list()), kept for printing. */
struct db_models {
	ax_db_model_list *models;
	size_t n;
};

static int list_text(const struct db_set *set, const struct db_models *lists)
{
	int wname = 4, wif = 9, wfw = 8, wloc = 8, w;

	for (size_t i = 0; i < set->n; i++) {
		for (size_t k = 0; k < lists[i].n; k++) {
			const ax_db_model *m = ax_db_model_list_at(lists[i].models, k);

			w = safe_width(or_dash(m->name));
			wname = w > wname ? w : wname;
			w = safe_width(or_dash(m->interface));
			wif = w > wif ? w : wif;
			w = safe_width(or_dash(m->firmware_version));
			wfw = w > wfw ? w : wfw;
		}
		w = (int)strlen(set->src[i].location);
		wloc = w > wloc ? w : wloc;
	}
	printf("%-*s  %-10s  %-10s  %-*s  %-*s  %9s  %-*s  %s\n", wname, "NAME", "PRODUCT",
	       "REVISION", wif, "INTERFACE", wfw, "FIRMWARE", "REGISTERS", wloc, "DATABASE",
	       "SOURCE");
	for (size_t i = 0; i < set->n; i++) {
		for (size_t k = 0; k < lists[i].n; k++) {
			const ax_db_model *m = ax_db_model_list_at(lists[i].models, k);

			/* The texts come from the imported files: escaped. */
			(void)put_safe_cell(stdout, or_dash(m->name), wname);
			printf("  0x%08" PRIX32 "  0x%08" PRIX32 "  ", m->product_code,
			       m->revision);
			(void)put_safe_cell(stdout, or_dash(m->interface), wif);
			fputs("  ", stdout);
			(void)put_safe_cell(stdout, or_dash(m->firmware_version), wfw);
			printf("  %9zu  %-*s  ", m->registers, wloc, set->src[i].location);
			(void)put_safe(stdout, or_dash(m->source));
			putchar('\n');
		}
	}
	return EXIT_SUCCESS;
}

static int list_json(const struct db_set *set, const struct db_models *lists)
{
	json_t *arr = json_array();
	int rc;

	if (!arr)
		return fail_oom();
	for (size_t i = 0; i < set->n; i++) {
		for (size_t k = 0; k < lists[i].n; k++) {
			const ax_db_model *m = ax_db_model_list_at(lists[i].models, k);

			if (json_array_append_new(arr, model_json(&set->src[i], m)) != 0) {
				json_decref(arr);
				return fail_oom();
			}
		}
	}
	rc = print_json(arr);
	json_decref(arr);
	return rc;
}

static int cmd_db_list(struct cli *cli)
{
	struct db_models lists[3] = {{NULL, 0}};
	struct db_set set;
	size_t total = 0;
	int rc, n;

	rc = db_set_open(cli, &set);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < set.n; i++) {
		n = ax_db_list(set.src[i].db, &lists[i].models);
		if (n >= 0) {
			lists[i].n = (size_t)n;
			total += lists[i].n;
			continue;
		}
		if (cli->db_path) {
			rc = fail_last();
			goto out;
		}
		fprintf(stderr, "axlink: skipping the %s database: %s\n", set.src[i].location,
		        ax_error_last());
	}
	rc = cli->json ? list_json(&set, lists) : list_text(&set, lists);
	if (rc == EXIT_SUCCESS && !cli->json) {
		fprintf(stderr, "axlink: %zu model(s) in ", total);
		print_db_set(stderr, &set);
		fputc('\n', stderr);
	}
out:
	for (size_t i = 0; i < set.n; i++)
		ax_db_model_list_free(lists[i].models);
	db_set_close(&set);
	return rc;
}

/* 1..8 hex digits, with or without "0x". */
static int parse_hex32(const char *text, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		text += 2;
		len -= 2;
	}
	if (len == 0 || len > 8)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)text[i]))
			return -1;
		v = v << 4 | (uint32_t)(isdigit((unsigned char)text[i])
		                                ? text[i] - '0'
		                                : tolower((unsigned char)text[i]) - 'a' + 10);
	}
	*out = v;
	return 0;
}

/* What MODEL names: a name or part number, or PRODUCT[:REVISION] in hex. */
struct model_key {
	const char *text;
	int is_hex;
	int has_revision;
	uint32_t product;
	uint32_t revision;
};

static void parse_model_key(const char *text, struct model_key *key)
{
	const char *colon = strchr(text, ':');
	size_t plen = colon ? (size_t)(colon - text) : strlen(text);

	memset(key, 0, sizeof(*key));
	key->text = text;
	if (parse_hex32(text, plen, &key->product) < 0)
		return;
	if (colon && parse_hex32(colon + 1, strlen(colon + 1), &key->revision) < 0)
		return;
	key->is_hex = 1;
	key->has_revision = colon != NULL;
}

/* Names first: "100" is a part number before it is product 0x100. */
static int model_matches(const ax_db_model *m, const struct model_key *key, int by_number)
{
	if (!by_number)
		return (*m->name && strcasecmp(m->name, key->text) == 0) ||
		       (*m->part_number && strcasecmp(m->part_number, key->text) == 0);
	return key->is_hex && m->product_code == key->product &&
	       (!key->has_revision || m->revision == key->revision);
}

/* A table of a dictionary, as 'db show' prints it. */
struct table_view {
	const char *id;
	int axis; /* -1: the file names none */
	const ax_reg *index, *value;
	int has_entries; /* the index register's Range gives them */
	int64_t first;
	uint64_t count;
};

static int table_view_get(const ax_dict *dict, size_t i, struct table_view *v)
{
	if (ax_dict_table_at(dict, i, &v->id, &v->axis, &v->index, &v->value) < 0) {
		ax_error_clear();
		return -1;
	}
	/* A count past INT64_MAX would not survive JSON: report it as unknown. */
	v->has_entries =
	        ax_dict_table_entries(dict, i, &v->first, &v->count) == 0 && v->count <= INT64_MAX;
	if (!v->has_entries)
		ax_error_clear();
	return 0;
}

static void show_tables_text(const ax_dict *dict)
{
	size_t n = ax_dict_table_count(dict);
	int wid = 2, windex = 5, wvalue = 5, w;
	struct table_view v;

	for (size_t i = 0; i < n; i++) {
		if (table_view_get(dict, i, &v) < 0)
			continue;
		w = safe_width(v.id);
		wid = w > wid ? w : wid;
		w = safe_width(ax_reg_id(v.index));
		windex = w > windex ? w : windex;
		w = safe_width(ax_reg_id(v.value));
		wvalue = w > wvalue ? w : wvalue;
	}
	printf("\nTables (%zu):\n", n);
	if (n == 0)
		return;
	printf("  %-*s  %4s  %7s  %-*s  %-*s  %s\n", wid, "ID", "AXIS", "SUBNODE", windex, "INDEX",
	       wvalue, "VALUE", "ENTRIES");
	for (size_t i = 0; i < n; i++) {
		char axis[16], entries[64];

		if (table_view_get(dict, i, &v) < 0)
			continue;
		(void)snprintf(axis, sizeof(axis), "%d", v.axis);
		if (v.has_entries)
			(void)snprintf(entries, sizeof(entries),
			               "%" PRIu64 " (%" PRId64 "..%" PRId64 ")", v.count, v.first,
			               v.first + (int64_t)(v.count - 1));
		else
			(void)snprintf(entries, sizeof(entries), "-");
		fputs("  ", stdout);
		(void)put_safe_cell(stdout, v.id, wid);
		printf("  %4s  %7u  ", v.axis < 0 ? "-" : axis, ax_reg_subnode(v.index));
		(void)put_safe_cell(stdout, ax_reg_id(v.index), windex);
		fputs("  ", stdout);
		(void)put_safe_cell(stdout, ax_reg_id(v.value), wvalue);
		printf("  %s\n", entries);
	}
}

/* "  label  text" of 'db show', the text escaped. */
static void show_line(const char *label, const char *text)
{
	printf("  %-12s  ", label);
	(void)put_safe(stdout, or_dash(text));
	putchar('\n');
}

static void show_text(const struct db_source *src, const ax_db_model *m, const ax_dict *dict)
{
	const ax_dict_identity *id = ax_dict_identity_get(dict);
	size_t n_regs = ax_dict_reg_count(dict), n_cats = ax_dict_category_count(dict);
	int wid = 2, wunits = 5, wpdo = 3, wcat = 2, w;
	const char *cid, *clabel, *units;

	/* Every text here comes from the imported file: escaped. */
	(void)put_safe(stdout, or_dash(m->name));
	fputs(" (", stdout);
	(void)put_safe(stdout, or_dash(m->interface));
	printf("), %s database ", src->location);
	(void)put_safe(stdout, src->path);
	putchar('\n');
	printf("  vendor id     0x%08" PRIX32 "\n", m->vendor_id);
	printf("  product code  0x%08" PRIX32 "\n", m->product_code);
	printf("  revision      0x%08" PRIX32 "\n", m->revision);
	show_line("part number", m->part_number);
	show_line("firmware", m->firmware_version);
	show_line("family", m->family);
	show_line("interface", m->interface);
	printf("  format        XDF v%u\n", m->format_version);
	printf("  axes          %u\n", id->axes);
	show_line("source", m->source);
	show_line("sha256", m->sha256);

	for (size_t i = 0; i < n_cats; i++) {
		if (ax_dict_category_at(dict, i, &cid, &clabel) == 0) {
			w = safe_width(cid);
			wcat = w > wcat ? w : wcat;
		}
	}
	printf("\nCategories (%zu):\n", n_cats);
	for (size_t i = 0; i < n_cats; i++)
		if (ax_dict_category_at(dict, i, &cid, &clabel) == 0) {
			fputs("  ", stdout);
			(void)put_safe_cell(stdout, cid, wcat);
			fputs("  ", stdout);
			(void)put_safe(stdout, or_dash(clabel));
			putchar('\n');
		}
	show_tables_text(dict);

	for (size_t i = 0; i < n_regs; i++) {
		const ax_reg *r = ax_dict_reg_at(dict, i);

		w = safe_width(ax_reg_id(r));
		wid = w > wid ? w : wid;
		w = safe_width(or_dash(ax_reg_units(r)));
		wunits = w > wunits ? w : wunits;
		w = safe_width(or_dash(ax_reg_cyclic(r)));
		wpdo = w > wpdo ? w : wpdo;
	}
	printf("\nRegisters (%zu):\n", n_regs);
	printf("  %-*s  %7s  %7s  %-5s  %-6s  %-*s  %-*s  %s\n", wid, "ID", "SUBNODE", "ADDRESS",
	       "TYPE", "ACCESS", wpdo, "PDO", wunits, "UNITS", "DEFAULT");
	for (size_t i = 0; i < n_regs; i++) {
		const ax_reg *r = ax_dict_reg_at(dict, i);
		char *def = default_text(r);
		/* A 512-byte array's default would be a 1024-digit line: show its start. */
		int cut = def && ax_reg_dtype(r) == AX_DTYPE_BYTES && strlen(def) > 16;
		char addr[16];

		(void)snprintf(addr, sizeof(addr), "0x%03" PRIX32, ax_reg_address(r));
		units = or_dash(ax_reg_units(r));
		if (cut)
			def[16] = '\0';
		fputs("  ", stdout);
		(void)put_safe_cell(stdout, ax_reg_id(r), wid);
		printf("  %7u  %7s  %-5s  %-6s  ", ax_reg_subnode(r), addr,
		       or_dash(ax_dtype_name(ax_reg_dtype(r))), access_name(ax_reg_access(r)));
		(void)put_safe_cell(stdout, or_dash(ax_reg_cyclic(r)), wpdo);
		fputs("  ", stdout);
		(void)put_safe_cell(stdout, units, wunits);
		fputs("  ", stdout);
		(void)put_safe(stdout, def ? def : "-");
		printf("%s\n", cut ? "..." : "");
		ax_free(def);
	}
}

/* The default of 'db show --json': as read would print the value, or null. */
static json_t *default_json(const ax_reg *r)
{
	const uint8_t *bytes = NULL;
	char *text = default_text(r);
	json_t *def;

	if (!text)
		return json_null();
	(void)ax_reg_default(r, &bytes);
	def = value_to_json(ax_reg_dtype(r), bytes, text);
	if (!def) /* a str default that is not UTF-8 */
		def = json_text(text);
	ax_free(text);
	return def;
}

static json_t *reg_json(const ax_reg *r)
{
	json_t *o = json_object();
	char addr[16];

	(void)snprintf(addr, sizeof(addr), "0x%03" PRIX32, ax_reg_address(r));
	if (!o || json_object_set_new(o, "id", json_text(ax_reg_id(r))) != 0 ||
	    json_object_set_new(o, "subnode", json_integer(ax_reg_subnode(r))) != 0 ||
	    json_object_set_new(o, "address", json_string(addr)) != 0 ||
	    json_object_set_new(o, "type", json_text(ax_dtype_name(ax_reg_dtype(r)))) != 0 ||
	    json_object_set_new(o, "access", json_string(access_name(ax_reg_access(r)))) != 0 ||
	    json_object_set_new(o, "pdo_access", text_or_null(ax_reg_cyclic(r))) != 0 ||
	    json_object_set_new(o, "units", text_or_null(ax_reg_units(r))) != 0 ||
	    json_object_set_new(o, "default", default_json(r)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *table_json(const struct table_view *v)
{
	json_t *o = json_object();

	if (!o || json_object_set_new(o, "id", json_text(v->id)) != 0 ||
	    json_object_set_new(o, "axis", v->axis < 0 ? json_null() : json_integer(v->axis)) !=
	            0 ||
	    json_object_set_new(o, "subnode", json_integer(ax_reg_subnode(v->index))) != 0 ||
	    json_object_set_new(o, "index_register", json_text(ax_reg_id(v->index))) != 0 ||
	    json_object_set_new(o, "value_register", json_text(ax_reg_id(v->value))) != 0 ||
	    json_object_set_new(o, "first_entry",
	                        v->has_entries ? json_integer(v->first) : json_null()) != 0 ||
	    json_object_set_new(o, "entries",
	                        v->has_entries ? json_integer((json_int_t)v->count)
	                                       : json_null()) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *show_json(const struct db_source *src, const ax_db_model *m, const ax_dict *dict)
{
	json_t *o = model_json(src, m), *cats = json_array(), *regs = json_array();
	json_t *tables = json_array();
	struct table_view v;
	const char *cid, *clabel;
	int err;

	if (!o || !cats || !regs || !tables)
		goto oom;
	for (size_t i = 0; i < ax_dict_category_count(dict); i++) {
		json_t *c = json_object();

		if (ax_dict_category_at(dict, i, &cid, &clabel) < 0) {
			json_decref(c);
			continue;
		}
		if (!c || json_object_set_new(c, "id", json_text(cid)) != 0 ||
		    json_object_set_new(c, "label", text_or_null(clabel)) != 0 ||
		    json_array_append_new(cats, c) != 0) {
			json_decref(c);
			goto oom;
		}
	}
	for (size_t i = 0; i < ax_dict_reg_count(dict); i++)
		if (json_array_append_new(regs, reg_json(ax_dict_reg_at(dict, i))) != 0)
			goto oom;
	for (size_t i = 0; i < ax_dict_table_count(dict); i++)
		if (table_view_get(dict, i, &v) == 0 &&
		    json_array_append_new(tables, table_json(&v)) != 0)
			goto oom;
	if (json_object_set_new(o, "axes", json_integer(ax_dict_identity_get(dict)->axes)) != 0)
		goto oom;
	/* set_new takes the reference even when it fails. */
	err = json_object_set_new(o, "categories", cats);
	cats = NULL;
	if (err == 0)
		err = json_object_set_new(o, "tables", tables);
	tables = NULL;
	if (err == 0)
		err = json_object_set_new(o, "registers", regs);
	regs = NULL;
	if (err != 0)
		goto oom;
	return o;
oom:
	json_decref(o);
	json_decref(cats);
	json_decref(tables);
	json_decref(regs);
	return NULL;
}

static int cmd_db_show(struct cli *cli)
{
	struct model_key key;
	struct db_set set;
	ax_db_model_list *models = NULL;
	json_t *arr = NULL;
	size_t shown = 0;
	int rc, n = 0;

	parse_model_key(cli->pos[0], &key);
	rc = db_set_open(cli, &set);
	if (rc != 0)
		return rc;
	if (cli->json && !(arr = json_array())) {
		rc = fail_oom();
		goto out;
	}
	for (size_t i = 0; i < set.n && shown == 0; i++) {
		n = ax_db_list(set.src[i].db, &models);
		if (n < 0) {
			rc = fail_last();
			goto out;
		}
		for (int by_number = 0; by_number < 2 && shown == 0; by_number++) {
			for (int k = 0; k < n; k++) {
				const ax_db_model *m = ax_db_model_list_at(models, (size_t)k);
				ax_dict *dict = NULL;
				json_t *j;

				if (!model_matches(m, &key, by_number))
					continue;
				if (ax_db_load(set.src[i].db, m->id, &dict) < 0) {
					rc = fail_last();
					goto out;
				}
				j = arr ? show_json(&set.src[i], m, dict) : NULL;

				if (arr && json_array_append_new(arr, j) != 0) {
					ax_dict_unref(dict);
					rc = fail_oom();
					goto out;
				}
				if (!arr) {
					if (shown)
						putchar('\n');
					show_text(&set.src[i], m, dict);
				}
				ax_dict_unref(dict);
				shown++;
			}
		}
		ax_db_model_list_free(models);
		models = NULL;
	}
	if (shown == 0) {
		char note[512];

		(void)snprintf(note, sizeof(note),
		               "no model '%s' (a name, a part number or PRODUCT[:REVISION] in hex)",
		               key.text);
		cli_note_error(AX_ENOTFOUND, AX_ERRCLASS_DB, note);
		fprintf(stderr,
		        "axlink: no model '%s' (a name, a part number or PRODUCT[:REVISION] in "
		        "hex) in ",
		        key.text);
		print_db_set(stderr, &set);
		fputc('\n', stderr);
		rc = EXIT_FAILURE;
	} else if (arr) {
		rc = print_json(arr);
	}
out:
	ax_db_model_list_free(models);
	json_decref(arr);
	db_set_close(&set);
	return rc;
}

/* The model a resolution picked, for 'db resolve --json'. */
static json_t *resolved_json(const ax_dict *dict)
{
	const ax_dict_identity *id = ax_dict_identity_get(dict);
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (json_object_set_new(o, "name", json_text(id->name)) != 0 ||
	    json_object_set_new(o, "part_number", text_or_null(id->part_number)) != 0 ||
	    json_object_set_new(o, "interface", text_or_null(id->interface)) != 0 ||
	    json_object_set_new(o, "firmware_version", text_or_null(id->firmware_version)) != 0 ||
	    json_object_set_new(o, "product_code", hex32(id->product_code)) != 0 ||
	    json_object_set_new(o, "revision", hex32(id->revision)) != 0 ||
	    json_object_set_new(o, "source", text_or_null(ax_dict_source(dict))) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int cmd_db_resolve(struct cli *cli)
{
	static const char *const what[] = {"VENDOR", "PRODUCT", "REVISION"};
	unsigned long v[3];
	ax_ctx *ctx = NULL;
	ax_db *db = NULL;
	ax_dict *dict = NULL;
	char *reason = NULL;
	json_t *root = NULL;
	int match = AX_MATCH_NONE, rc, err;

	for (int i = 0; i < 3; i++)
		if (parse_uint(cli->pos[i], UINT32_MAX, &v[i]) < 0)
			return usage_error(cli->cmd,
			                   "%s '%s': expected 0..0xFFFFFFFF, hex with 0x or "
			                   "decimal",
			                   what[i], cli->pos[i]);
	if (cli->db_path) {
		if (ax_db_open(&db, cli->db_path, AX_DB_READONLY) < 0)
			return fail_last();
		err = ax_db_resolve(db, (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2], AX_ADDR_MCB,
		                    &dict, &match, &reason);
	} else {
		rc = open_ctx(cli, &ctx);
		if (rc != 0)
			return rc;
		err = ax_ctx_resolve(ctx, (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2],
		                     AX_ADDR_MCB, &dict, &match, &reason);
	}
	if (err < 0) {
		rc = fail_last();
		goto out;
	}
	if (!cli->json) {
		printf("%s: ", ax_match_name(match));
		(void)put_safe(stdout, or_dash(reason));
		putchar('\n');
		rc = EXIT_SUCCESS;
		goto out;
	}
	root = json_object();
	if (!root || json_object_set_new(root, "vendor_id", hex32((uint32_t)v[0])) != 0 ||
	    json_object_set_new(root, "product_code", hex32((uint32_t)v[1])) != 0 ||
	    json_object_set_new(root, "revision", hex32((uint32_t)v[2])) != 0 ||
	    json_object_set_new(root, "match", json_string(ax_match_name(match))) != 0 ||
	    json_object_set_new(root, "reason", json_text(reason)) != 0 ||
	    json_object_set_new(root, "model", dict ? resolved_json(dict) : json_null()) != 0) {
		rc = fail_oom();
		goto out;
	}
	rc = print_json(root);
out:
	json_decref(root);
	ax_free(reason);
	ax_dict_unref(dict);
	ax_db_unref(db);
	ax_ctx_unref(ctx);
	return rc;
}

/* Registers per interface of the models a file brought, in file order. */
struct iface_count {
	const char *interface;
	size_t registers;
};

static size_t count_by_interface(const ax_db_import_report *rep, struct iface_count *out)
{
	size_t n = 0, k;

	for (size_t i = 0; i < rep->n_models; i++) {
		const ax_db_model *m = ax_db_model_list_at(rep->models, i);

		for (k = 0; k < n && strcmp(out[k].interface, m->interface) != 0; k++)
			;
		if (k == n)
			out[n++] = (struct iface_count){m->interface, 0};
		out[k].registers += m->registers;
	}
	return n;
}

static void import_text(const ax_db_import_report *rep, struct iface_count *counts,
                        int print_warnings)
{
	size_t n = count_by_interface(rep, counts);

	/* Names and interfaces come from the file: escaped. */
	(void)put_safe(stdout, rep->file);
	printf(": XDF v%u, %zu model(s) (", rep->format_version, rep->n_models);
	for (size_t i = 0; i < rep->n_models; i++) {
		const ax_db_model *m = ax_db_model_list_at(rep->models, i);

		fputs(i ? ", " : "", stdout);
		(void)put_safe(stdout, *m->name ? m->name : or_dash(m->part_number));
		putchar(' ');
		(void)put_safe(stdout, or_dash(m->interface));
	}
	printf("), registers");
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : " ", stdout);
		(void)put_safe(stdout, or_dash(counts[i].interface));
		printf(" %zu", counts[i].registers);
	}
	printf(", %zu skipped, %zu warning(s)%s\n", rep->skipped, rep->n_warnings,
	       rep->replaced ? ", replacing an earlier import" : "");
	if (print_warnings)
		for (size_t i = 0; i < rep->n_warnings; i++) {
			fputs("axlink: warning: ", stderr);
			(void)put_safe(stderr, rep->warnings[i]);
			fputc('\n', stderr);
		}
}

static json_t *import_json(const ax_db_import_report *rep, struct iface_count *counts)
{
	json_t *o = json_object(), *models = json_array(), *regs = json_object();
	json_t *warnings = json_array();
	size_t n = count_by_interface(rep, counts);
	int err;

	if (!o || !models || !regs || !warnings)
		goto oom;
	for (size_t i = 0; i < rep->n_models; i++) {
		const ax_db_model *m = ax_db_model_list_at(rep->models, i);
		json_t *jm = json_object();

		if (!jm || json_array_append_new(models, jm) != 0 ||
		    json_object_set_new(jm, "product_code", hex32(m->product_code)) != 0 ||
		    json_object_set_new(jm, "revision", hex32(m->revision)) != 0 ||
		    json_object_set_new(jm, "part_number", text_or_null(m->part_number)) != 0 ||
		    json_object_set_new(jm, "interface", text_or_null(m->interface)) != 0 ||
		    json_object_set_new(jm, "name", json_text(m->name)) != 0)
			goto oom;
	}
	for (size_t i = 0; i < n; i++)
		if (json_object_set_new(regs, counts[i].interface,
		                        json_integer((json_int_t)counts[i].registers)) != 0)
			goto oom;
	for (size_t i = 0; i < rep->n_warnings; i++)
		if (json_array_append_new(warnings, json_text(rep->warnings[i])) != 0)
			goto oom;
	if (json_object_set_new(o, "file", json_text(rep->file)) != 0 ||
	    json_object_set_new(o, "format_version", json_integer(rep->format_version)) != 0)
		goto oom;
	/* set_new takes the reference even when it fails. */
	err = json_object_set_new(o, "models", models);
	models = NULL;
	if (err == 0)
		err = json_object_set_new(o, "registers", regs);
	regs = NULL;
	if (err == 0)
		err = json_object_set_new(o, "skipped", json_integer((json_int_t)rep->skipped));
	if (err == 0)
		err = json_object_set_new(o, "warnings", warnings);
	warnings = NULL;
	if (err != 0)
		goto oom;
	return o;
oom:
	json_decref(o);
	json_decref(models);
	json_decref(regs);
	json_decref(warnings);
	return NULL;
}

/*
 * Whether @file is there; if not, say so (naming it) and note the error.
 * Checked before the database is opened, so that a file that is not there
 * does not create an empty database on its way to failing. Whatever else
 * is wrong with a file (a folder, a FIFO, no permission) the import says.
 */
static int import_file_exists(const char *file)
{
	char msg[1024];
	struct stat st;
	int e;

	if (stat(file, &st) == 0)
		return 1;
	e = errno;
	if (e == ENOENT || e == ENOTDIR) {
		(void)snprintf(msg, sizeof(msg), "'%s': file not found", file);
		cli_note_error(AX_ENOTFOUND, AX_ERRCLASS_DICT, msg);
	} else {
		(void)snprintf(msg, sizeof(msg), "'%s': %s", file, strerror(e));
		cli_note_error(AX_EIO, AX_ERRCLASS_DICT, msg);
	}
	fprintf(stderr, "axlink: %s\n", msg);
	return 0;
}

static int cmd_db_import(struct cli *cli)
{
	const char *path = cli->db_path;
	char *user = NULL;
	ax_ctx *ctx = NULL;
	ax_db *db = NULL;
	json_t *arr = NULL;
	size_t imported = 0;
	int rc = EXIT_SUCCESS, existed;

	if (!path) {
		if (ax_db_location_path(AX_DB_LOCATION_USER, &user) < 0)
			return fail_last();
		path = user;
	}
	/* The library logs warnings through a context: only -v asks for its log. */
	if (cli->verbose) {
		rc = open_ctx(cli, &ctx);
		if (rc != 0)
			goto out;
	}
	if (cli->json && !(arr = json_array())) {
		rc = fail_oom();
		goto out;
	}
	existed = access(path, F_OK) == 0;
	for (size_t i = 0; i < cli->n_pos; i++) {
		const char *file = cli->pos[i];
		ax_db_import_report *rep = NULL;
		struct iface_count *counts;

		if (!import_file_exists(file)) {
			rc = EXIT_FAILURE; /* one failed file does not stop the others */
			continue;
		}
		/* Opened (created when missing) once there is a file to import. */
		if (!db && ax_db_open(&db, path, AX_DB_CREATE) < 0) {
			rc = fail_last();
			goto out;
		}
		if (ax_db_import_flags(db, file, import_flags, ctx, &rep) < 0) {
			const char *msg = ax_error_last();

			cli_note_error(ax_error_last_code(), ax_error_last_class(), msg);
			/* One failed file does not stop the others. */
			if (strstr(msg, file))
				fprintf(stderr, "axlink: %s\n", msg);
			else
				fprintf(stderr, "axlink: '%s': %s\n", file, msg);
			rc = EXIT_FAILURE;
			continue;
		}
		imported++;
		counts = calloc(rep->n_models + 1, sizeof(*counts));
		if (!counts) {
			ax_db_import_report_free(rep);
			rc = fail_oom();
			goto out;
		}
		if (!arr) {
			import_text(rep, counts, ctx == NULL);
		} else if (json_array_append_new(arr, import_json(rep, counts)) != 0) {
			free(counts);
			ax_db_import_report_free(rep);
			rc = fail_oom();
			goto out;
		}
		free(counts);
		ax_db_import_report_free(rep);
	}
	if (arr && imported > 0) {
		if (print_json(arr) != EXIT_SUCCESS)
			rc = EXIT_FAILURE;
	} else if (!arr && (db || existed)) {
		fprintf(stderr, "axlink: %zu of %zu file(s) imported into %s\n", imported,
		        cli->n_pos, path);
	} else if (!arr) {
		fprintf(stderr, "axlink: 0 of %zu file(s) imported; no database created at %s\n",
		        cli->n_pos, path);
	}
out:
	json_decref(arr);
	ax_db_unref(db);
	ax_ctx_unref(ctx);
	ax_free(user);
	return rc;
}

static const struct command cli_db_commands[] = {
        {
                .name = "db import",
                .synopsis = "FILE... [--db PATH] [--strict] [--json]",
                .summary = "import XDF dictionary files into a device database",
                .help = "Import each XDF file (IngeniaDictionary version 2 or 3) into the\n"
                        "database PATH, by default the user database (created when missing,\n"
                        "not when no FILE is there).\n"
                        "Importing a file again changes nothing; a changed file replaces its\n"
                        "models. Prints one line per file: models, registers per interface,\n"
                        "registers skipped for a missing attribute, warnings (on stderr). A\n"
                        "file that fails is reported on stderr and the others are still\n"
                        "imported; the exit status is then 1. A file with a model none of\n"
                        "whose registers could be read fails, leaving the database as it was.\n"
                        "A version 3 file that lacks an attribute the format makes mandatory\n"
                        "(pdo_access, desc, default, ... of a register) is imported with a\n"
                        "warning per missing attribute.\n"
                        "  --db PATH  the database to import into\n"
                        "  --strict   refuse such a file instead, naming file:line and the\n"
                        "             attribute; the database stays as it was\n"
                        "JSON: an array, one object per file imported: {file, format_version,\n"
                        "models: [{product_code, revision, part_number, interface, name}],\n"
                        "registers: {INTERFACE: count}, skipped, warnings: [text]}; ids are\n"
                        "\"0x\" hex strings. It is printed also when another file failed.\n"
                        "Example: axlink db import drive.xdf\n",
                .arg_names = {"FILE", NULL},
                .variadic = 1,
                .opts = import_options,
                .run = cmd_db_import,
                .option = import_option,
        },

        {
                .name = "db list",
                .synopsis = "[--db PATH] [--json]",
                .summary = "list the models of the device databases",
                .help = "List the models of database PATH or, without --db, of every database\n"
                        "in the search order: the file AXLINK_DB names, the user database\n"
                        "($XDG_DATA_HOME/axlink/devices.db), the installed one. Missing files\n"
                        "are skipped; each row says which database it comes from.\n"
                        "  --db PATH  list only this database\n"
                        "JSON: an array of {location, database, name, vendor_id, product_code,\n"
                        "revision, part_number, interface, firmware_version, family,\n"
                        "format_version, registers, source, sha256}; location is env, user,\n"
                        "installed or db (--db), database the file's path.\n",
                .arg_names = {NULL},
                .opts = db_options,
                .run = cmd_db_list,
        },

        {
                .name = "db show",
                .synopsis = "MODEL [--db PATH] [--json]",
                .summary = "show a model's identity, categories, tables and registers",
                .help = "Show the models MODEL names in the first database (search order, or\n"
                        "--db) that has any: identity, categories, tables (values inside the\n"
                        "drive reached through an index and a value register: id, axis, the\n"
                        "registers' subnode, both registers, the entries the index allows) and\n"
                        "the register table (id, subnode, address, type, access, PDO access\n"
                        "(CONFIG, CYCLIC_RX, CYCLIC_TX, ...: a version 3 file's pdo_access, a\n"
                        "version 2 file's cyclic; - when the file gives none), units, default).\n"
                        "  MODEL      a model name (axs-100), a part number (AXS-100), or\n"
                        "             PRODUCT[:REVISION] in hex (0x00010064:0x00010002)\n"
                        "  --db PATH  look only in this database\n"
                        "JSON: an array of models, each with the keys of 'db list --json' and\n"
                        "axes, categories: [{id, label}], tables: [{id, axis, subnode,\n"
                        "index_register, value_register, first_entry, entries}] and registers:\n"
                        "[{id, subnode, address, type, access, pdo_access, units, default}];\n"
                        "pdo_access is \"\" when the file gives none, a default is\n"
                        "null when there is none, axis when the file names none, first_entry\n"
                        "and entries when the index register has no integer range.\n",
                .arg_names = {"MODEL", NULL},
                .opts = db_options,
                .run = cmd_db_show,
        },

        {
                .name = "db resolve",
                .synopsis = "VENDOR PRODUCT REVISION [--db PATH] [--json]",
                .summary = "say which dictionary a drive identity gets, and why",
                .help = "Resolve a drive identity as reading by name does: the exact product\n"
                        "and revision; else the product's nearest lower revision; else any\n"
                        "revision of it; else none. Prints the rule and the reason in one line;\n"
                        "exit 0 whatever the rule, none included. Only MCB dictionaries (ETH,\n"
                        "EoE) count, the register space of the links this tool opens.\n"
                        "  VENDOR PRODUCT REVISION  numbers, hex with 0x or decimal\n"
                        "  --db PATH  resolve in this database only (default: the search order)\n"
                        "JSON: {vendor_id, product_code, revision, match, reason, model}; model\n"
                        "is null for none, else {name, part_number, interface,\n"
                        "firmware_version, product_code, revision, source}.\n"
                        "Example: axlink db resolve 0xA71C 0x00010064 0x00010002\n",
                .arg_names = {"VENDOR", "PRODUCT", "REVISION", NULL},
                .opts = db_options,
                .run = cmd_db_resolve,
        },
};

const struct cli_group cli_db_group = {
        cli_db_commands,
        sizeof(cli_db_commands) / sizeof(cli_db_commands[0]),
};
