/* SPDX-License-Identifier: MIT */
/*
 * The device database: opening (create, missing, corrupt, foreign, newer,
 * read-only), storing and loading dictionaries field by field (tables
 * included), idempotent imports, the resolution rules with their reasons,
 * SQL-looking text, corrupt rows, and concurrent use.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, nftw, realpath, setuid */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "axlink/axlink.h"
#include "axlink/db.h"
#include "axlink/plugin.h"
#include "db.h"
#include "dict.h"
#include "xdf.h"

/* ---- fixture: a fresh folder per test ---- */

struct fx {
	char dir[64];
	char path[128]; /* dir/devices.db */
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/axlink-db-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->path, sizeof(fx->path), "%s/devices.db", fx->dir);
	*state = fx;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)chmod(path, 0700); /* folders a test made read-only */
	return remove(path) < 0 ? -1 : 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	(void)chmod(fx->dir, 0700);
	(void)nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static ax_db *open_new(const struct fx *fx)
{
	ax_db *db = NULL;
	int err = ax_db_open(&db, fx->path, AX_DB_CREATE);

	if (err < 0)
		fail_msg("ax_db_open('%s'): %d %s", fx->path, err, ax_error_last());
	return db;
}

/* ---- dictionaries built in memory ---- */

struct model_spec {
	uint32_t vendor, product, revision;
	const char *iface, *name, *firmware;
	size_t n_regs;
};

static const int dtypes[] = {
        AX_DTYPE_U8,  AX_DTYPE_S8,  AX_DTYPE_U16,   AX_DTYPE_S16, AX_DTYPE_U32,  AX_DTYPE_S32,
        AX_DTYPE_U64, AX_DTYPE_S64, AX_DTYPE_FLOAT, AX_DTYPE_STR, AX_DTYPE_BOOL, AX_DTYPE_BYTES,
};

static void ok(int err)
{
	if (err < 0)
		fail_msg("%d: %s", err, ax_error_last());
}

/*
 * A dictionary using every field of the model, with the optional ones set
 * on some registers and absent (NULL) on others, so a round trip that
 * mixes up "absent" and "" or drops a field shows.
 */
static ax_dict *make_dict(const struct model_spec *m)
{
	ax_dict *d = ax__dict_new("memory");
	int can;

	assert_non_null(d);
	can = !strcmp(m->iface, "CAN") || !strcmp(m->iface, "ECAT");
	d->identity.vendor_id = m->vendor;
	d->identity.product_code = m->product;
	d->identity.revision = m->revision;
	d->identity.format_version = 3;
	d->identity.axes = 2;
	d->identity.addr_space = can ? AX_ADDR_CANOPEN : AX_ADDR_MCB;
	ok(ax__dict_set_identity(d, "PN-0042-A", m->firmware, m->iface, "Summit", m->name));
	ok(ax__dict_add_category(d, "MOTION", "Motion", NULL));
	ok(ax__dict_add_category(d, "MOTION_LIMITS", "Limits", "MOTION"));
	ok(ax__dict_add_error(d, 0x00003241, "Over-voltage", "cyclic", "Power stage"));
	ok(ax__dict_add_error(d, 0x06010000, "Unsupported access to an object", NULL, NULL));

	for (size_t i = 0; i < m->n_regs; i++) {
		int dtype = dtypes[i % (sizeof(dtypes) / sizeof(dtypes[0]))];
		struct ax_reg *r;
		char id[32], text[64];

		(void)snprintf(id, sizeof(id), "REG_%03zu", i);
		ok(ax__dict_add_reg(d, id, 1 + (unsigned)(i % 2),
		                    can ? 0x200000u + ((uint32_t)i << 8) : 0x010u + (uint32_t)i,
		                    dtype, 1 + (int)(i % 3), &r));
		if (i % 3) {
			ok(ax__dict_reg_set_str(r, &r->units, "mA"));
			ok(ax__dict_reg_set_str(r, &r->cyclic, i % 2 ? "CYCLIC_TX" : "CONFIG"));
			ok(ax__dict_reg_set_str(r, &r->address_type, "NVM"));
			ok(ax__dict_reg_set_str(r, &r->category, "MOTION"));
			(void)snprintf(text, sizeof(text), "Description of register %zu", i);
			ok(ax__dict_reg_set_str(r, &r->description, text));
		}
		if (i % 2)
			ok(ax__dict_reg_set_str(r, &r->subcategory, "MOTION_LIMITS"));
		if (i == 4) /* present but empty: must not come back as absent */
			ok(ax__dict_reg_set_str(r, &r->units, ""));
		(void)snprintf(text, sizeof(text), "Register %zu", i);
		ok(ax__dict_reg_add_label(r, "en_US", text));
		if (i % 2 == 0) {
			(void)snprintf(text, sizeof(text), "Registro %zu", i);
			ok(ax__dict_reg_add_label(r, "es_ES", text));
		}
		if (i % 4 == 1)
			ok(ax__dict_reg_set_range(r, "-9223372036854775808",
			                          "18446744073709551615"));
		if (i % 5 != 0) {
			static const uint8_t bytes[8] = {1, 0, 0xa0, 0x41, 0xff, 0x7f, 0, 9};
			size_t size = ax_dtype_size(dtype);

			if (dtype == AX_DTYPE_STR)
				ok(ax__dict_reg_set_default(r, (const uint8_t *)"abc", 4));
			else
				ok(ax__dict_reg_set_default(r, bytes, size ? size : 3));
		}
		if (i % 4 == 2) {
			ok(ax__dict_reg_add_enum(r, 0, "Off"));
			ok(ax__dict_reg_add_enum(r, 1, "On"));
			ok(ax__dict_reg_add_enum(r, -1, "Fault"));
			ok(ax__dict_reg_add_enum(r, INT64_MIN, "Lowest"));
		}
		if (i % 4 == 3) {
			ok(ax__dict_reg_add_bitfield(r, "ENABLE", 0, 0));
			ok(ax__dict_reg_add_bitfield(r, "MODE", 1, 4));
			ok(ax__dict_reg_add_bitfield(r, "TOP", 60, 63));
		}
	}
	/* Tables on each axis under one id, and one that names no axis. */
	if (m->n_regs >= 4) {
		ok(ax__dict_add_table(d, "TABLE_A", 1, "REG_000", "REG_002"));
		ok(ax__dict_add_table(d, "TABLE_A", 2, "REG_001", "REG_003"));
		ok(ax__dict_add_table(d, "TABLE_B", -1, "REG_003", "REG_000"));
	}
	ok(ax__dict_seal(d));
	return d;
}

static void assert_same_str(const char *what, size_t i, const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL))
		fail_msg("%s [%zu]: %s vs %s", what, i, a ? a : "(absent)", b ? b : "(absent)");
	if (a && strcmp(a, b))
		fail_msg("%s [%zu]: '%s' vs '%s'", what, i, a, b);
}

/* Every field of the model, compared through the structs so NULL and "" differ. */
static void assert_dict_equal(const ax_dict *a, const ax_dict *b)
{
	const ax_dict_identity *x = &a->identity, *y = &b->identity;

	assert_int_equal(x->vendor_id, y->vendor_id);
	assert_int_equal(x->product_code, y->product_code);
	assert_int_equal(x->revision, y->revision);
	assert_int_equal(x->addr_space, y->addr_space);
	assert_int_equal(x->format_version, y->format_version);
	assert_int_equal(x->axes, y->axes);
	assert_same_str("part_number", 0, x->part_number, y->part_number);
	assert_same_str("firmware_version", 0, x->firmware_version, y->firmware_version);
	assert_same_str("interface", 0, x->interface, y->interface);
	assert_same_str("family", 0, x->family, y->family);
	assert_same_str("name", 0, x->name, y->name);

	assert_int_equal(a->n_regs, b->n_regs);
	for (size_t i = 0; i < a->n_regs; i++) {
		const struct ax_reg *r = &a->regs[i], *s = &b->regs[i];
		const ax_reg *found = NULL;

		assert_same_str("id", i, r->id, s->id);
		assert_int_equal(r->subnode, s->subnode);
		assert_int_equal(r->address, s->address);
		assert_int_equal(r->dtype, s->dtype);
		assert_int_equal(r->access, s->access);
		assert_int_equal(r->unreachable, s->unreachable);
		/* Where monitoring reaches it (MonDistV3, or the version 2 rule). */
		assert_int_equal(r->mon_set, s->mon_set);
		assert_int_equal(r->mon_address, s->mon_address);
		assert_int_equal(r->mon_subnode, s->mon_subnode);
		assert_same_str("units", i, r->units, s->units);
		assert_same_str("cyclic", i, r->cyclic, s->cyclic);
		assert_same_str("address_type", i, r->address_type, s->address_type);
		assert_same_str("description", i, r->description, s->description);
		assert_same_str("category", i, r->category, s->category);
		assert_same_str("subcategory", i, r->subcategory, s->subcategory);
		assert_same_str("range_min", i, r->range_min, s->range_min);
		assert_same_str("range_max", i, r->range_max, s->range_max);
		assert_int_equal(r->def_len, s->def_len);
		assert_int_equal(r->def == NULL, s->def == NULL);
		if (r->def_len)
			assert_memory_equal(r->def, s->def, r->def_len);
		assert_int_equal(r->n_labels, s->n_labels);
		for (size_t k = 0; k < r->n_labels; k++) {
			assert_same_str("label lang", i, r->labels[k].lang, s->labels[k].lang);
			assert_same_str("label text", i, r->labels[k].text, s->labels[k].text);
		}
		assert_int_equal(r->n_enums, s->n_enums);
		for (size_t k = 0; k < r->n_enums; k++) {
			assert_true(r->enums[k].value == s->enums[k].value);
			assert_same_str("enum label", i, r->enums[k].label, s->enums[k].label);
		}
		assert_int_equal(r->n_bitfields, s->n_bitfields);
		for (size_t k = 0; k < r->n_bitfields; k++) {
			assert_same_str("bitfield", i, r->bitfields[k].name, s->bitfields[k].name);
			assert_int_equal(r->bitfields[k].start, s->bitfields[k].start);
			assert_int_equal(r->bitfields[k].end, s->bitfields[k].end);
		}
		/* The loaded copy is sealed: its indexes find each register again. */
		ok(ax_dict_find(b, s->id, s->subnode, &found));
		assert_string_equal(ax_reg_id(found), s->id);
		ok(ax_dict_find_address(b, s->subnode, s->address, &found));
		assert_int_equal(ax_reg_address(found), s->address);
	}
	assert_int_equal(a->n_categories, b->n_categories);
	for (size_t i = 0; i < a->n_categories; i++) {
		assert_same_str("category id", i, a->categories[i].id, b->categories[i].id);
		assert_same_str("category label", i, a->categories[i].label,
		                b->categories[i].label);
		assert_same_str("category parent", i, a->categories[i].parent,
		                b->categories[i].parent);
	}
	assert_int_equal(a->n_errors, b->n_errors);
	for (size_t i = 0; i < a->n_errors; i++) {
		assert_int_equal(a->errors[i].code, b->errors[i].code);
		assert_same_str("error text", i, a->errors[i].text, b->errors[i].text);
		assert_same_str("error type", i, a->errors[i].type, b->errors[i].type);
		assert_same_str("error module", i, a->errors[i].module, b->errors[i].module);
	}
	assert_int_equal(a->n_tables, b->n_tables);
	for (size_t i = 0; i < a->n_tables; i++) {
		const struct ax_dict_table *t = &a->tables[i], *u = &b->tables[i];
		const ax_reg *index = NULL, *value = NULL;

		assert_same_str("table id", i, t->id, u->id);
		assert_int_equal(t->axis, u->axis);
		assert_same_str("table index", i, t->index_id, u->index_id);
		assert_same_str("table value", i, t->value_id, u->value_id);
		/* The loaded copy's seal found the same registers again. */
		assert_int_equal(t->index_reg, u->index_reg);
		assert_int_equal(t->value_reg, u->value_reg);
		ok(ax_dict_table_at(b, i, NULL, NULL, &index, &value));
		assert_string_equal(ax_reg_id(index), t->index_id);
		assert_string_equal(ax_reg_id(value), t->value_id);
	}
}

static const char sha_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char sha_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* Store the models of @specs as the file @source; returns "replaced". */
static int insert_specs(ax_db *db, const struct model_spec *specs, size_t n, const char *source,
                        const char *sha)
{
	ax_dict *dicts[8];
	int replaced = -1, err;

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		dicts[i] = make_dict(&specs[i]);
	err = ax__db_insert_dicts(db, dicts, n, source, sha, &replaced);
	for (size_t i = 0; i < n; i++)
		ax_dict_unref(dicts[i]);
	ok(err);
	return replaced;
}

static int64_t sql_count(const char *path, const char *sql)
{
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	assert_int_equal(sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(s);
	return n;
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *s = NULL;

	assert_int_equal(
	        sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	        SQLITE_OK);
	if (sqlite3_exec(s, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(s));
	sqlite3_close(s);
}

/* Make the database at @path what schema 3 was, no images: @user_version stays to be set. */
static void drop_images(const char *path)
{
	static const char *const tables[] = {"registers",  "labels", "enums",      "bitfields",
	                                     "categories", "errors", "dict_tables"};
	static const char *const events[] = {"insert", "update", "delete"};
	char sql[128];

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (size_t e = 0; e < 3; e++) {
			(void)snprintf(sql, sizeof(sql), "DROP TRIGGER %s_%s_drops_image",
			               tables[t], events[e]);
			sql_exec(path, sql);
		}
	sql_exec(path, "ALTER TABLE models DROP COLUMN image");
}

/* ---- opening ---- */

static void test_db__create_makes_folders(void **state)
{
	struct fx *fx = *state;
	ax_db_model_list *models = (ax_db_model_list *)(uintptr_t)1;
	char path[192];
	struct stat st;
	ax_db *db = NULL;

	(void)snprintf(path, sizeof(path), "%s/a/b/c/devices.db", fx->dir);
	ok(ax_db_open(&db, path, AX_DB_CREATE));
	assert_non_null(db);
	assert_string_equal(ax_db_path(db), path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(ax_db_list(db, &models), 0);
	assert_null(models);
	db = ax_db_unref(db);
	assert_null(db);

	/* Our identity is in the header; the file opens again without AX_DB_CREATE. */
	assert_int_equal(sql_count(path, "PRAGMA application_id"), AX__DB_APPLICATION_ID);
	assert_int_equal(sql_count(path, "PRAGMA user_version"), AX__DB_SCHEMA_VERSION);
	ok(ax_db_open(&db, path, 0));
	assert_ptr_equal(ax_db_ref(db), db);
	ax_db_unref(db);
	ax_db_unref(db);
	ok(ax_db_open(&db, path, AX_DB_READONLY));
	ax_db_unref(db);
}

static void test_db__open_errors(void **state)
{
	struct fx *fx = *state;
	ax_db *db = (ax_db *)(uintptr_t)1;

	assert_int_equal(ax_db_open(&db, fx->path, 0), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), fx->path));
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_READONLY), AX_ENOTFOUND);
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_READONLY | AX_DB_CREATE), AX_EINVAL);
	assert_int_equal(ax_db_open(&db, fx->path, 0x80), AX_EINVAL);
	assert_int_equal(ax_db_open(&db, "", AX_DB_CREATE), AX_EINVAL);
	assert_int_equal(ax_db_open(&db, fx->dir, 0), AX_ECORRUPT);
	assert_ptr_equal(db, (ax_db *)(uintptr_t)1);  /* untouched on failure */
	assert_int_equal(access(fx->path, F_OK), -1); /* and nothing created */
}

static void fill_random(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		buf[i] = (uint8_t)seed;
	}
}

static void test_db__corrupt_file_is_eproto(void **state)
{
	struct fx *fx = *state;
	uint8_t junk[8192];
	ax_db *db = NULL;

	/* Random bytes: not an SQLite file at all. */
	fill_random(junk, sizeof(junk), 0x2545f491u);
	write_file(fx->path, junk, sizeof(junk));
	assert_int_equal(ax_db_open(&db, fx->path, 0), AX_ECORRUPT);
	assert_non_null(strstr(ax_error_last(), fx->path));
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_CREATE), AX_ECORRUPT);
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_READONLY), AX_ECORRUPT);
	assert_null(db);

	/* The SQLite magic followed by garbage. */
	memcpy(junk, "SQLite format 3", 16);
	write_file(fx->path, junk, sizeof(junk));
	assert_int_equal(ax_db_open(&db, fx->path, 0), AX_ECORRUPT);
	assert_non_null(strstr(ax_error_last(), fx->path));
	assert_null(db);
}

static void test_db__truncated_file_is_eproto(void **state)
{
	static const struct model_spec spec = {0, 0x100, 0x1, "ETH", "m", "1.0", 300};
	struct fx *fx = *state;
	ax_db_model_list *models = NULL;
	ax_dict *dict = NULL;
	ax_db *db = open_new(fx);
	struct stat st;
	int err;

	assert_int_equal(insert_specs(db, &spec, 1, "/x/m.xdf", sha_a), 0);
	ax_db_unref(db);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(st.st_size > 8 * 4096);
	/* Keep the first pages (the header and the schema), lose the rows. */
	assert_int_equal(truncate(fx->path, 4 * 4096), 0);

	err = ax_db_open(&db, fx->path, 0);
	if (err == 0) {
		/* SQLite reads lazily: the damage shows on the first query that reaches it. */
		int n = ax_db_list(db, &models);

		if (n >= 0)
			err = ax_db_load(db, ax_db_model_list_at(models, 0)->id, &dict);
		else
			err = n;
		ax_db_model_list_free(models);
		ax_db_unref(db);
	}
	assert_int_equal(err, AX_ECORRUPT);
	assert_non_null(strstr(ax_error_last(), fx->path));
	assert_null(dict);
}

static void test_db__foreign_sqlite_is_eproto(void **state)
{
	struct fx *fx = *state;
	ax_db *db = NULL;

	sql_exec(fx->path, "CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')");
	assert_int_equal(ax_db_open(&db, fx->path, 0), AX_ECORRUPT);
	assert_non_null(strstr(ax_error_last(), "is an SQLite database but not an axlink"));
	assert_non_null(strstr(ax_error_last(), fx->path));
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_CREATE), AX_ECORRUPT);
	assert_null(db);
	/* Refused, and left alone: no tables of ours were added. */
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM sqlite_master"), 1);

	/* Another application's id, even without tables, is not ours either. */
	assert_int_equal(remove(fx->path), 0);
	sql_exec(fx->path, "PRAGMA application_id = 1234");
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_CREATE), AX_ECORRUPT);
	assert_null(db);
}

static void test_db__newer_schema_is_eproto(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);

	ax_db_unref(db);
	db = NULL;
	sql_exec(fx->path, "PRAGMA user_version = 5");
	assert_int_equal(ax_db_open(&db, fx->path, 0), AX_ECORRUPT);
	assert_non_null(
	        strstr(ax_error_last(), "schema version 5 is newer than this library (max 4)"));
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_READONLY), AX_ECORRUPT);
	assert_null(db);
}

static void test_db__empty_file_gets_schema(void **state)
{
	struct fx *fx = *state;
	ax_db *db = NULL;

	/* A zero-length file is an empty SQLite database: it becomes ours... */
	write_file(fx->path, "", 0);
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_READONLY), AX_ECORRUPT);
	assert_null(db);
	ok(ax_db_open(&db, fx->path, 0));
	ax_db_unref(db);
	assert_int_equal(sql_count(fx->path, "PRAGMA user_version"), AX__DB_SCHEMA_VERSION);
}

static void test_db__readonly_refuses_import(void **state)
{
	static const struct model_spec spec = {0, 0x100, 0x1, "ETH", "m", "1.0", 3};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_import_report *rep = (ax_db_import_report *)(uintptr_t)1;
	ax_dict *d = make_dict(&spec);
	ax_db_model_list *models = NULL;

	ax_db_unref(db);
	ok(ax_db_open(&db, fx->path, AX_DB_READONLY));
	assert_int_equal(ax__db_insert_dicts(db, &d, 1, "/x/m.xdf", sha_a, NULL), AX_EACCESS);
	assert_non_null(strstr(ax_error_last(), fx->path));
	/* Refused before the file is even read. */
	assert_int_equal(ax_db_import(db, "/nonexistent/m.xdf", NULL, &rep), AX_EACCESS);
	assert_ptr_equal(rep, (ax_db_import_report *)(uintptr_t)1);
	assert_int_equal(ax_db_list(db, &models), 0);
	ax_dict_unref(d);
	ax_db_unref(db);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models"), 0);
}

static void test_db__readonly_location_is_eaccess(void **state)
{
	char path[96];
	ax_db *db = NULL;
	int err;

	(void)state;
	/* sysfs refuses new folders even to root, so this fails for every user. */
	(void)snprintf(path, sizeof(path), "/sys/axlink-test-%ld/devices.db", (long)getpid());
	err = ax_db_open(&db, path, AX_DB_CREATE);
	if (err == AX_ENOTFOUND && access("/sys", F_OK) < 0)
		skip();
	assert_int_equal(err, AX_EACCESS);
	assert_non_null(strstr(ax_error_last(), "/sys/axlink-test-"));
	assert_null(db);
}

/*
 * Permissions as an ordinary user. Root ignores file modes, so when the
 * tests run as root a child drops to nobody first; the checks run there
 * and the exit status says which one failed.
 */
static int child_checks(const char *ro_path, const char *empty_path, const char *locked_dir)
{
	static const struct model_spec spec = {0, 0x100, 0x1, "ETH", "m", "1.0", 3};
	ax_db_model_list *models = NULL;
	char path[192];
	ax_dict *d;
	ax_db *db = NULL;
	int err, n;

	if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
		return 77;
	/* A write-protected database still opens, for reading only. */
	err = ax_db_open(&db, ro_path, 0);
	if (err < 0)
		return 1;
	d = make_dict(&spec);
	err = ax__db_insert_dicts(db, &d, 1, "/x/m.xdf", sha_b, NULL);
	ax_dict_unref(d);
	if (err != AX_EACCESS || !strstr(ax_error_last(), ro_path))
		return 2;
	n = ax_db_list(db, &models);
	ax_db_model_list_free(models);
	ax_db_unref(db);
	if (n != 1)
		return 3;
	/* A new file in a folder we may not write to. */
	(void)snprintf(path, sizeof(path), "%s/new.db", locked_dir);
	if (ax_db_open(&db, path, AX_DB_CREATE) != AX_EACCESS || !strstr(ax_error_last(), path))
		return 4;
	/* Nor may we make a folder there. */
	(void)snprintf(path, sizeof(path), "%s/sub/new.db", locked_dir);
	if (ax_db_open(&db, path, AX_DB_CREATE) != AX_EACCESS)
		return 5;
	/* An empty write-protected file would need its schema written. */
	if (ax_db_open(&db, empty_path, 0) != AX_EACCESS || !strstr(ax_error_last(), empty_path))
		return 6;
	return 0;
}

static void test_db__readonly_file_is_eaccess(void **state)
{
	static const struct model_spec spec = {0, 0x100, 0x1, "ETH", "m", "1.0", 3};
	struct fx *fx = *state;
	char empty[160], locked[160];
	ax_db *db = open_new(fx);
	pid_t pid;
	int status = -1;

	assert_int_equal(insert_specs(db, &spec, 1, "/x/m.xdf", sha_a), 0);
	ax_db_unref(db);
	(void)snprintf(empty, sizeof(empty), "%s/empty.db", fx->dir);
	(void)snprintf(locked, sizeof(locked), "%s/locked", fx->dir);
	write_file(empty, "", 0);
	assert_int_equal(mkdir(locked, 0555), 0);
	assert_int_equal(chmod(locked, 0555), 0);
	assert_int_equal(chmod(fx->path, 0444), 0);
	assert_int_equal(chmod(empty, 0444), 0);
	assert_int_equal(chmod(fx->dir, 0755), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_checks(fx->path, empty, locked));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip(); /* root without the right to become nobody */
	if (WEXITSTATUS(status) != 0)
		fail_msg("read-only check %d failed in the child", WEXITSTATUS(status));
	/* And the protected file still holds exactly what it held. */
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models"), 1);
}

/* ---- storing, listing, loading ---- */

static void test_db__store_list_load_equal(void **state)
{
	static const struct model_spec specs[] = {
	        {0, 0x00020001, 0x00000003, "ETH", "axd-2", "2.0.1", 40},
	        {0x29c, 0x00010064, 0x00010002, "CAN", "axs-100", "1.2.0", 25},
	        {0, 0x00010064, 0x00010001, "EoE", "axs-100", "", 0},
	};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_model_list *models = NULL;
	ax_dict *dicts[3];
	int replaced = -1;

	for (size_t i = 0; i < 3; i++)
		dicts[i] = make_dict(&specs[i]);
	ok(ax__db_insert_dicts(db, dicts, 3, "/dicts/three.xdf", sha_a, &replaced));
	assert_int_equal(replaced, 0);

	/* Listed by product, then revision, whatever the file order. */
	assert_int_equal(ax_db_list(db, &models), 3);
	/* The caller never indexes an array: count and accessor, NULL past the end. */
	assert_int_equal(ax_db_model_list_count(models), 3);
	assert_null(ax_db_model_list_at(models, 3));
	assert_int_equal(ax_db_model_list_count(NULL), 0);
	assert_null(ax_db_model_list_at(NULL, 0));
	assert_int_equal(ax_db_model_list_at(models, 0)->product_code, 0x00010064);
	assert_int_equal(ax_db_model_list_at(models, 0)->revision, 0x00010001);
	assert_string_equal(ax_db_model_list_at(models, 0)->interface, "EoE");
	assert_string_equal(ax_db_model_list_at(models, 0)->firmware_version, "");
	assert_int_equal(ax_db_model_list_at(models, 0)->registers, 0);
	assert_int_equal(ax_db_model_list_at(models, 1)->revision, 0x00010002);
	assert_int_equal(ax_db_model_list_at(models, 1)->vendor_id, 0x29c);
	assert_string_equal(ax_db_model_list_at(models, 1)->name, "axs-100");
	assert_string_equal(ax_db_model_list_at(models, 1)->part_number, "PN-0042-A");
	assert_string_equal(ax_db_model_list_at(models, 1)->family, "Summit");
	assert_int_equal(ax_db_model_list_at(models, 1)->registers, 25);
	assert_int_equal(ax_db_model_list_at(models, 2)->product_code, 0x00020001);
	assert_int_equal(ax_db_model_list_at(models, 2)->registers, 40);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(ax_db_model_list_at(models, i)->source, "/dicts/three.xdf");
		assert_string_equal(ax_db_model_list_at(models, i)->sha256, sha_a);
		assert_int_equal(ax_db_model_list_at(models, i)->format_version, 3);
	}

	/* Each model loads back equal, field by field, and says where it came from. */
	for (size_t i = 0; i < 3; i++) {
		const ax_db_model *m = ax_db_model_list_at(models, i);
		const ax_dict *want = NULL;
		ax_dict *got = NULL;
		char source[192];

		for (size_t k = 0; k < 3; k++)
			if (dicts[k]->identity.product_code == m->product_code &&
			    dicts[k]->identity.revision == m->revision)
				want = dicts[k];
		assert_non_null(want);
		ok(ax_db_load(db, m->id, &got));
		assert_dict_equal(want, got);
		(void)snprintf(source, sizeof(source), "db:%s#%lld", fx->path, (long long)m->id);
		assert_string_equal(ax_dict_source(got), source);
		ax_dict_unref(got);
	}
	for (size_t i = 0; i < 3; i++)
		ax_dict_unref(dicts[i]);
	ax_db_model_list_free(models);
	ax_db_unref(db);
}

/* A table row no import writes: its model does not load, and the message says why. */
static void test_db__corrupt_table_rows(void **state)
{
	static const struct model_spec spec = {0,         0x00010064, 0x00010002, "ETH",
	                                       "axs-100", "1.2.0",    8};
	static const struct {
		const char *sql, *needle;
	} cases[] = {
	        {"UPDATE dict_tables SET axis = 256 WHERE ord = 0", "corrupt row in 'dict_tables'"},
	        {"UPDATE dict_tables SET axis = -1 WHERE ord = 0", "corrupt row in 'dict_tables'"},
	        {"UPDATE dict_tables SET value_id = 'NOPE' WHERE ord = 1",
	         "table 'TABLE_A': no value register 'NOPE' on axis 2"},
	        {"UPDATE dict_tables SET axis = 1 WHERE ord = 1",
	         "table 'TABLE_A': no index register 'REG_001' on axis 1"},
	        {"UPDATE dict_tables SET index_id = 'NOPE' WHERE ord = 2",
	         "table 'TABLE_B': no index register 'NOPE' in dictionary 'db:"},
	};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_model_list *models = NULL;
	int64_t id;

	assert_int_equal(insert_specs(db, &spec, 1, "/x/axs.xdf", sha_a), 0);
	assert_int_equal(ax_db_list(db, &models), 1);
	id = ax_db_model_list_at(models, 0)->id;
	ax_db_model_list_free(models);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM dict_tables"), 3);
	/* Axis NULL stands for "none". */
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM dict_tables WHERE axis IS NULL"),
	                 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ax_dict *dict = (ax_dict *)(uintptr_t)1;
		int err;

		sql_exec(fx->path, cases[i].sql);
		err = ax_db_load(db, id, &dict);
		if (err != AX_ECORRUPT || !strstr(ax_error_last(), cases[i].needle))
			fail_msg("%s: got %d '%s', want AX_ECORRUPT '%s'", cases[i].sql, err,
			         ax_error_last(), cases[i].needle);
		assert_ptr_equal(dict, (ax_dict *)(uintptr_t)1);
		/* Put the rows back for the next case. */
		sql_exec(fx->path,
		         "UPDATE dict_tables SET axis = CASE ord WHEN 0 THEN 1 WHEN 1 THEN 2 END, "
		         "index_id = CASE ord WHEN 0 THEN 'REG_000' WHEN 1 THEN 'REG_001' "
		         "ELSE 'REG_003' END, value_id = CASE ord WHEN 0 THEN 'REG_002' "
		         "WHEN 1 THEN 'REG_003' ELSE 'REG_000' END");
	}
	/* Restored, the model loads again with its three tables. */
	{
		ax_dict *dict = NULL;

		ok(ax_db_load(db, id, &dict));
		assert_int_equal(ax_dict_table_count(dict), 3);
		ax_dict_unref(dict);
	}
	ax_db_unref(db);
}

static void test_db__load_missing_model(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_dict *dict = (ax_dict *)(uintptr_t)1;

	assert_int_equal(ax_db_load(db, 42, &dict), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "42"));
	assert_ptr_equal(dict, (ax_dict *)(uintptr_t)1);
	ax_db_unref(db);
}

static int64_t model_id_of(ax_db *db, uint32_t product, uint32_t revision)
{
	ax_db_model_list *models = NULL;
	int n = ax_db_list(db, &models);
	int64_t id = -1;

	ok(n);
	for (size_t i = 0; i < (size_t)n; i++) {
		const ax_db_model *m = ax_db_model_list_at(models, i);

		if (m->product_code == product && m->revision == revision)
			id = m->id;
	}
	ax_db_model_list_free(models);
	return id;
}

static void test_db__same_sha_changes_nothing(void **state)
{
	static const struct model_spec specs[] = {
	        {0, 0x100, 0x1, "ETH", "m1", "1.0", 10},
	        {0, 0x100, 0x2, "ETH", "m2", "1.1", 10},
	};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	int64_t id1, id2;

	assert_int_equal(insert_specs(db, specs, 2, "/x/m.xdf", sha_a), 0);
	id1 = model_id_of(db, 0x100, 0x1);
	id2 = model_id_of(db, 0x100, 0x2);
	assert_int_equal(insert_specs(db, specs, 2, "/x/m.xdf", sha_a), 0);
	/* The same rows, not equal copies: nothing was rewritten. */
	assert_int_equal(model_id_of(db, 0x100, 0x1), id1);
	assert_int_equal(model_id_of(db, 0x100, 0x2), id2);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM registers"), 20);
	ax_db_unref(db);
}

static void test_db__changed_file_replaces(void **state)
{
	static const struct model_spec before[] = {
	        {0, 0x100, 0x1, "ETH", "m1", "1.0", 10},
	        {0, 0x100, 0x2, "ETH", "m2", "1.1", 10},
	};
	static const struct model_spec after[] = {
	        {0, 0x100, 0x1, "ETH", "m1", "1.0.1", 12},
	};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_model_list *models = NULL;
	int64_t id1;

	assert_int_equal(insert_specs(db, before, 2, "/x/m.xdf", sha_a), 0);
	id1 = model_id_of(db, 0x100, 0x1);
	assert_int_equal(insert_specs(db, after, 1, "/x/m.xdf", sha_b), 1);
	assert_int_equal(ax_db_list(db, &models), 1);
	assert_true(ax_db_model_list_at(models, 0)->id != id1);
	assert_string_equal(ax_db_model_list_at(models, 0)->firmware_version, "1.0.1");
	assert_string_equal(ax_db_model_list_at(models, 0)->sha256, sha_b);
	assert_int_equal(ax_db_model_list_at(models, 0)->registers, 12);
	ax_db_model_list_free(models);
	/* The old rows went with their models, down to the labels. */
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM registers"), 12);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM labels"), 12 + 6);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM sources"), 1);

	/* Going back to the first content is a change too. */
	assert_int_equal(insert_specs(db, before, 2, "/x/m.xdf", sha_a), 1);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models"), 2);
	ax_db_unref(db);
}

static void test_db__other_file_takes_over_model(void **state)
{
	static const struct model_spec a[] = {{0, 0x100, 0x1, "ETH", "from-a", "1.0", 4}};
	static const struct model_spec b[] = {
	        {0, 0x100, 0x1, "ETH", "from-b", "1.0", 5},
	        {0, 0x100, 0x1, "CAN", "from-b", "1.0", 5},
	};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_model_list *models = NULL;

	assert_int_equal(insert_specs(db, a, 1, "/x/a.xdf", sha_a), 0);
	assert_int_equal(insert_specs(db, b, 2, "/x/b.xdf", sha_b), 1);
	assert_int_equal(ax_db_list(db, &models), 2);
	/* ETH before CAN for one revision */
	assert_string_equal(ax_db_model_list_at(models, 0)->interface, "ETH");
	assert_string_equal(ax_db_model_list_at(models, 0)->name, "from-b");
	assert_string_equal(ax_db_model_list_at(models, 1)->interface, "CAN");
	ax_db_model_list_free(models);
	/* a.xdf lost its only model, so its record went too... */
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM sources"), 1);
	/* ...and importing it again is a change that takes the model back. */
	assert_int_equal(insert_specs(db, a, 1, "/x/a.xdf", sha_a), 1);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models"), 2);
	/* b.xdf owns one model of its two now: the same hash stores it again. */
	assert_int_equal(insert_specs(db, b, 2, "/x/b.xdf", sha_b), 1);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM sources"), 1);
	ax_db_unref(db);
}

static void test_db__same_model_twice_in_file(void **state)
{
	static const struct model_spec ok_spec[] = {{0, 0x7, 0x1, "ETH", "keep", "1", 2}};
	static const struct model_spec twice[] = {
	        {0, 0x100, 0x1, "ETH", "first", "1.0", 4},
	        {0, 0x100, 0x1, "ETH", "second", "1.0", 4},
	};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_dict *dicts[2];
	int replaced = -1;

	assert_int_equal(insert_specs(db, ok_spec, 1, "/x/keep.xdf", sha_a), 0);
	for (size_t i = 0; i < 2; i++)
		dicts[i] = make_dict(&twice[i]);
	assert_int_equal(ax__db_insert_dicts(db, dicts, 2, "/x/dup.xdf", sha_b, &replaced),
	                 AX_EFORMAT);
	assert_non_null(strstr(ax_error_last(), "/x/dup.xdf"));
	assert_non_null(strstr(ax_error_last(), "more than once"));
	assert_int_equal(replaced, -1);
	/* All or nothing: the first of the two is not left behind. */
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models"), 1);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM sources"), 1);
	for (size_t i = 0; i < 2; i++)
		ax_dict_unref(dicts[i]);
	ax_db_unref(db);
}

static void test_db__sql_text_stored_verbatim(void **state)
{
	static const char evil[] = "x'); DROP TABLE models;--";
	static const char *const texts[] = {
	        evil,
	        "\"; DELETE FROM registers; --",
	        "Robert'); DROP TABLE sources;--",
	        "50% off \\ %s %n ?1 :name @x $y",
	        "\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
	};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_dict *d = ax__dict_new("memory"), *got = NULL;
	const ax_reg *reg = NULL;
	ax_db_model_list *models = NULL;
	struct ax_reg *r;

	d->identity.product_code = 0x500;
	d->identity.revision = 0x1;
	d->identity.format_version = 2;
	ok(ax__dict_set_identity(d, texts[1], texts[2], "ETH", texts[3], evil));
	ok(ax__dict_add_category(d, evil, texts[1], NULL));
	ok(ax__dict_add_error(d, 0x1, texts[2], NULL, NULL));
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ok(ax__dict_add_reg(d, texts[i], 1, (uint32_t)i, AX_DTYPE_U16, AX_REG_RW, &r));
		ok(ax__dict_reg_set_str(r, &r->description, texts[(i + 1) % 5]));
		ok(ax__dict_reg_set_str(r, &r->units, texts[(i + 2) % 5]));
		ok(ax__dict_reg_add_label(r, texts[(i + 3) % 5], texts[(i + 4) % 5]));
		ok(ax__dict_reg_add_enum(r, 7, texts[i]));
		ok(ax__dict_reg_add_bitfield(r, texts[i], 2, 3));
		ok(ax__dict_reg_set_range(r, texts[i], texts[(i + 1) % 5]));
	}
	ok(ax__dict_add_table(d, evil, 1, texts[1], texts[2]));
	ok(ax__dict_add_table(d, texts[3], -1, texts[4], evil));
	ok(ax__dict_seal(d));
	ok(ax__db_insert_dicts(db, &d, 1, evil, sha_a, NULL));

	assert_int_equal(ax_db_list(db, &models), 1);
	assert_string_equal(ax_db_model_list_at(models, 0)->name, evil);
	assert_string_equal(ax_db_model_list_at(models, 0)->source, evil);
	assert_string_equal(ax_db_model_list_at(models, 0)->family, texts[3]);
	ok(ax_db_load(db, ax_db_model_list_at(models, 0)->id, &got));
	assert_dict_equal(d, got);
	ok(ax_dict_find(got, evil, -1, &reg));
	assert_string_equal(ax_reg_id(reg), evil);
	assert_int_equal(ax_dict_table_count(got), 2);
	ax_db_model_list_free(models);
	ax_dict_unref(got);
	ax_dict_unref(d);
	ax_db_unref(db);
	/* Every table is still there. */
	assert_int_equal(sql_count(fx->path,
	                           "SELECT count(*) FROM sqlite_master WHERE name IN ('sources', "
	                           "'models', 'registers', 'labels', 'enums', 'bitfields', "
	                           "'categories', 'errors', 'dict_tables')"),
	                 9);
}

/* ---- resolving ---- */

struct resolve_case {
	const char *name;
	int space; /* 0: AX_ADDR_MCB */
	uint32_t vendor, product, revision;
	int match;
	uint32_t want_rev;
	const char *want_iface, *want_name;
	const char *reason;
};

static const struct model_spec resolve_models[] = {
        /* CAN first, so file order does not make ETH win by accident. */
        {0, 0x00010064, 0x00010002, "CAN", "axs-100", "1.2.0", 2},
        {0, 0x00010064, 0x00010002, "ETH", "axs-100", "1.2.0", 2},
        {0, 0x00010064, 0x00010004, "ECAT", "axs-100", "1.4.0", 2},
        {0, 0x00010064, 0x00010004, "EoE", "axs-100", "1.4.0", 2},
        {0, 0x00010064, 0x00010008, "ETH", "axs-100", "1.8.0", 2},
        {0, 0x00020001, 0x00000100, "ETH", "", "", 2},
        {0x29c, 0x00030001, 0x00000001, "ETH", "vendor-a", "3.0", 2},
        {0, 0x00030001, 0x00000001, "CAN", "anyone", "3.0", 2},
};

static const struct resolve_case resolve_cases[] = {
        /* An MCB link never gets the CAN model, even at its exact revision. */
        {"exact_prefers_eth", 0, 0, 0x00010064, 0x00010002, AX_MATCH_EXACT, 0x00010002, "ETH",
         "axs-100",
         "product 0x00010064 rev 0x00010002: exact match, axs-100 (ETH, firmware 1.2.0)"},
        {"exact_prefers_eoe_over_ecat", 0, 0, 0x00010064, 0x00010004, AX_MATCH_EXACT, 0x00010004,
         "EoE", "axs-100",
         "product 0x00010064 rev 0x00010004: exact match, axs-100 (EoE, firmware 1.4.0)"},
        {"lower_is_the_nearest", 0, 0, 0x00010064, 0x00010007, AX_MATCH_LOWER_REVISION, 0x00010004,
         "EoE", "axs-100",
         "product 0x00010064 rev 0x00010007: no dictionary for revision 0x00010007, using "
         "nearest lower revision 0x00010004, axs-100 (EoE, firmware 1.4.0)"},
        {"lower_just_below", 0, 0, 0x00010064, 0x00010003, AX_MATCH_LOWER_REVISION, 0x00010002,
         "ETH", "axs-100",
         "product 0x00010064 rev 0x00010003: no dictionary for revision 0x00010003, using "
         "nearest lower revision 0x00010002, axs-100 (ETH, firmware 1.2.0)"},
        {"lower_above_all", 0, 0, 0x00010064, 0xffffffff, AX_MATCH_LOWER_REVISION, 0x00010008,
         "ETH", "axs-100",
         "product 0x00010064 rev 0xffffffff: no dictionary for revision 0xffffffff, using "
         "nearest lower revision 0x00010008, axs-100 (ETH, firmware 1.8.0)"},
        {"any_takes_highest", 0, 0, 0x00010064, 0x00010001, AX_MATCH_ANY_REVISION, 0x00010008,
         "ETH", "axs-100",
         "product 0x00010064 rev 0x00010001: no dictionary for revision 0x00010001 or lower, "
         "using revision 0x00010008, axs-100 (ETH, firmware 1.8.0)"},
        {"any_unnamed_model", 0, 0, 0x00020001, 0x00000001, AX_MATCH_ANY_REVISION, 0x00000100,
         "ETH", "",
         "product 0x00020001 rev 0x00000001: no dictionary for revision 0x00000001 or lower, "
         "using revision 0x00000100, PN-0042-A (ETH)"},
        {"none", 0, 0, 0x00000999, 0x00010002, AX_MATCH_NONE, 0, NULL, NULL,
         "product 0x00000999 rev 0x00010002: no dictionary for product 0x00000999"},
        {"none_names_vendor", 0, 0x29c, 0x00000999, 0x1, AX_MATCH_NONE, 0, NULL, NULL,
         "product 0x00000999 rev 0x00000001: no dictionary for product 0x00000999 of vendor "
         "0x0000029c"},
        {"vendorless_model_fits_any_vendor", 0, 0x1234, 0x00010064, 0x00010002, AX_MATCH_EXACT,
         0x00010002, "ETH", "axs-100",
         "product 0x00010064 rev 0x00010002: exact match, axs-100 (ETH, firmware 1.2.0)"},
        {"own_vendor_wins", 0, 0x29c, 0x00030001, 0x1, AX_MATCH_EXACT, 0x1, "ETH", "vendor-a",
         "product 0x00030001 rev 0x00000001: exact match, vendor-a (ETH, firmware 3.0)"},
        {"other_vendor_skipped", AX_ADDR_CANOPEN, 0x777, 0x00030001, 0x1, AX_MATCH_EXACT, 0x1,
         "CAN", "anyone",
         "product 0x00030001 rev 0x00000001: exact match, anyone (CAN, firmware 3.0)"},
        {"canopen_space_gets_can", AX_ADDR_CANOPEN, 0, 0x00010064, 0x00010002, AX_MATCH_EXACT,
         0x00010002, "CAN", "axs-100",
         "product 0x00010064 rev 0x00010002: exact match, axs-100 (CAN, firmware 1.2.0)"},
        {"canopen_space_lower_is_ecat", AX_ADDR_CANOPEN, 0, 0x00010064, 0x00010007,
         AX_MATCH_LOWER_REVISION, 0x00010004, "ECAT", "axs-100",
         "product 0x00010064 rev 0x00010007: no CANopen dictionary for revision 0x00010007, "
         "using nearest lower revision 0x00010004, axs-100 (ECAT, firmware 1.4.0)"},
        {"can_only_is_none_for_mcb", 0, 0x777, 0x00030001, 0x1, AX_MATCH_NONE, 0, NULL, NULL,
         "product 0x00030001 rev 0x00000001: no dictionary for product 0x00030001 of vendor "
         "0x00000777 (only CANopen dictionaries of it: CAN, ECAT)"},
        {"mcb_only_is_none_for_canopen", AX_ADDR_CANOPEN, 0, 0x00020001, 0x00000100, AX_MATCH_NONE,
         0, NULL, NULL,
         "product 0x00020001 rev 0x00000100: no CANopen dictionary for product 0x00020001 "
         "(only MCB dictionaries of it: ETH, EoE)"},
};

static void test_db__resolve_rules(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);

	assert_int_equal(insert_specs(db, resolve_models, 5, "/x/axs.xdf", sha_a), 0);
	assert_int_equal(insert_specs(db, resolve_models + 5, 3, "/x/other.xdf", sha_b), 0);
	for (size_t i = 0; i < sizeof(resolve_cases) / sizeof(resolve_cases[0]); i++) {
		const struct resolve_case *c = &resolve_cases[i];
		ax_dict *dict = (ax_dict *)(uintptr_t)1;
		char *reason = NULL;
		int match = -1;
		int err = ax_db_resolve(db, c->vendor, c->product, c->revision,
		                        c->space ? c->space : AX_ADDR_MCB, &dict, &match, &reason);

		if (err < 0)
			fail_msg("%s: %d %s", c->name, err, ax_error_last());
		if (match != c->match)
			fail_msg("%s: match %s, want %s", c->name, ax_match_name(match),
			         ax_match_name(c->match));
		if (strcmp(reason, c->reason))
			fail_msg("%s: reason\n  '%s'\nwant\n  '%s'", c->name, reason, c->reason);
		if (c->match == AX_MATCH_NONE) {
			assert_null(dict);
		} else {
			const ax_dict_identity *id = ax_dict_identity_get(dict);

			if (id->revision != c->want_rev || strcmp(id->interface, c->want_iface) ||
			    strcmp(id->name, c->want_name))
				fail_msg("%s: got rev 0x%08x %s '%s'", c->name, id->revision,
				         id->interface, id->name);
			assert_int_equal(ax_dict_reg_count(dict), 2);
		}
		ax_free(reason);
		ax_dict_unref(dict);
	}
	ax_db_unref(db);
}

static void test_db__resolve_reason_optional(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_dict *dict = NULL;
	int match = -1;

	assert_int_equal(insert_specs(db, resolve_models, 2, "/x/axs.xdf", sha_a), 0);
	ok(ax_db_resolve(db, 0, 0x00010064, 0x00010002, AX_ADDR_MCB, &dict, &match, NULL));
	assert_int_equal(match, AX_MATCH_EXACT);
	assert_non_null(dict);
	ax_dict_unref(dict);
	ax_db_unref(db);
}

/* ---- ranges: parsed once, when the dictionary is sealed ---- */

struct range_check {
	const char *id;
	int kind;      /* AX__RANGE_* after the seal */
	int64_t value; /* as the register's integer type; float registers use fvalue */
	float fvalue;
	int outside;
};

static int range_outside_of(const struct ax_reg *r, int64_t v, float f)
{
	uint8_t b[8];
	uint64_t u = (uint64_t)v;
	size_t size = ax_dtype_size(r->dtype);

	if (r->dtype == AX_DTYPE_FLOAT) {
		uint32_t bits;

		memcpy(&bits, &f, sizeof(bits));
		u = bits;
	}
	for (size_t i = 0; i < sizeof(b); i++, u >>= 8)
		b[i] = (uint8_t)u;
	return ax__reg_range_outside(r, b, size ? size : 1);
}

static void test_db__ranges_parsed_at_seal(void **state)
{
	static const struct range_check checks[] = {
	        {"S32", AX__RANGE_S64, -100, 0, 0},
	        {"S32", AX__RANGE_S64, -101, 0, 1},
	        {"S32", AX__RANGE_S64, 100, 0, 0},
	        {"S32", AX__RANGE_S64, 101, 0, 1},
	        {"U16", AX__RANGE_U64, 10, 0, 0},
	        {"U16", AX__RANGE_U64, 9, 0, 1},
	        {"U16", AX__RANGE_U64, 4097, 0, 1},
	        {"FLOAT", AX__RANGE_FLOAT, 0, 0.7f, 0},
	        {"FLOAT", AX__RANGE_FLOAT, 0, 0.69f, 1},
	        {"FLOAT", AX__RANGE_FLOAT, 0, 12.3f, 0},
	        {"NEGATIVE_UNSIGNED", AX__RANGE_NONE, 0xFFFF, 0, 0},
	        {"JUNK", AX__RANGE_NONE, 0, 99.0f, 0},
	        {"UPSIDE_DOWN", AX__RANGE_NONE, 3, 0, 0},
	        {"TEXT", AX__RANGE_NONE, 'a', 0, 0},
	        {"NO_RANGE", AX__RANGE_NONE, -1, 0, 0},
	};
	static const struct {
		const char *id;
		int dtype;
		const char *lo, *hi;
	} regs[] = {
	        {"S32", AX_DTYPE_S32, "-100", "0x64"},
	        {"U16", AX_DTYPE_U16, "10", " 4096 "},
	        {"FLOAT", AX_DTYPE_FLOAT, "0.7", "12.3"},
	        {"NEGATIVE_UNSIGNED", AX_DTYPE_U16, "-5", "-1"},
	        {"JUNK", AX_DTYPE_FLOAT, "abc", "1.0"},
	        {"UPSIDE_DOWN", AX_DTYPE_S32, "5", "1"},
	        {"TEXT", AX_DTYPE_STR, "0", "1"},
	        {"NO_RANGE", AX_DTYPE_S32, NULL, NULL},
	};
	ax_dict *d = ax__dict_new("memory");
	const ax_reg *found;
	struct ax_reg *r;

	(void)state;
	assert_non_null(d);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		ok(ax__dict_add_reg(d, regs[i].id, 1, 0x100 + (uint32_t)i, regs[i].dtype, AX_REG_RW,
		                    &r));
		if (regs[i].lo)
			ok(ax__dict_reg_set_range(r, regs[i].lo, regs[i].hi));
	}
	/* Before the seal the text is parsed on each check, with the same answers. */
	for (int sealed = 0; sealed < 2; sealed++) {
		ok(sealed ? ax__dict_seal(d) : ax__dict_index(d));
		for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
			const struct range_check *c = &checks[i];

			ok(ax_dict_find(d, c->id, -1, &found));
			if (found->range_kind != (sealed ? c->kind : AX__RANGE_UNPARSED))
				fail_msg("%s (sealed %d): range kind %d", c->id, sealed,
				         found->range_kind);
			if (range_outside_of(found, c->value, c->fvalue) != c->outside)
				fail_msg("%s (sealed %d): %lld / %g should be %s", c->id, sealed,
				         (long long)c->value, (double)c->fvalue,
				         c->outside ? "outside" : "inside");
		}
	}
	/* Sealed: the numbers, not the text, decide (the text is for messages). */
	ok(ax_dict_find(d, "S32", -1, &found));
	assert_int_equal(found->range_lo.s, -100);
	assert_int_equal(found->range_hi.s, 100);
	r = &d->regs[0];
	ok(ax__dict_reg_set_range(r, "0", "1"));
	assert_int_equal(range_outside_of(found, -50, 0), 0);
	ax_dict_unref(d);
}

static void test_db__match_names(void **state)
{
	(void)state;
	assert_string_equal(ax_match_name(AX_MATCH_NONE), "none");
	assert_string_equal(ax_match_name(AX_MATCH_EXACT), "exact");
	assert_string_equal(ax_match_name(AX_MATCH_LOWER_REVISION), "lower-revision");
	assert_string_equal(ax_match_name(AX_MATCH_ANY_REVISION), "any-revision");
	assert_string_equal(ax_match_name(AX_MATCH_FILE), "file");
	assert_string_equal(ax_match_name(99), "unknown");
}

/* ---- importing real files ---- */

/*
 * A version 3 file with an Ethernet and an EtherCAT device, whose model
 * name and first register id are SQL; @firmware and @n_regs vary it.
 */
static void write_xdf(const char *path, const char *firmware, int n_regs)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<IngeniaDictionary>\n"
	        " <Header><Version>3.0</Version></Header>\n"
	        " <Body>\n"
	        "  <Categories><Category id=\"MOTION\"><Labels><Label lang=\"en_US\">Motion"
	        "</Label></Labels></Category></Categories>\n"
	        "  <Devices>\n"
	        "   <ETHDevice firmwareVersion=\"%s\" ProductCode=\"0x00010064\" "
	        "PartNumber=\"AXS-100\" RevisionNumber=\"0x00010002\" "
	        "name=\"x&apos;); DROP TABLE models;--\">\n"
	        "    <MCBRegisters>\n"
	        "     <MCBRegister address=\"0x010\" subnode=\"1\" access=\"rw\" dtype=\"u16\" "
	        "id=\"x&apos;); DROP TABLE models;--\" default=\"0100\" cat_id=\"MOTION\"/>\n",
	        firmware);
	for (int i = 0; i < n_regs; i++)
		fprintf(f,
		        "     <MCBRegister address=\"0x%03x\" subnode=\"1\" access=\"r\" "
		        "dtype=\"s32\" id=\"REG_%d\" units=\"cnt\"/>\n",
		        0x100 + i, i);
	fprintf(f,
	        "    </MCBRegisters>\n"
	        "   </ETHDevice>\n"
	        "   <ECATDevice firmwareVersion=\"%s\" ProductCode=\"0x00010064\" "
	        "RevisionNumber=\"0x00010002\">\n"
	        "    <CANopenObjects>\n"
	        "     <CANopenObject index=\"0x2010\" datatype=\"VAR\"><Subitems>"
	        "<Subitem subindex=\"0\" access=\"rw\" dtype=\"u16\" id=\"REG_CAN\" "
	        "default=\"0100\"/></Subitems></CANopenObject>\n"
	        "    </CANopenObjects>\n"
	        "   </ECATDevice>\n"
	        "  </Devices>\n"
	        " </Body>\n"
	        "</IngeniaDictionary>\n",
	        firmware);
	assert_int_equal(fclose(f), 0);
}

/* The SHA-256 as coreutils computes it, to check ours against. */
static void sha256sum(const char *path, char out[65])
{
	char cmd[256];
	FILE *p;

	(void)snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	if (!p)
		skip();
	if (fscanf(p, "%64s", out) != 1) {
		(void)pclose(p);
		skip(); /* no sha256sum here */
	}
	(void)pclose(p);
}

/* Import @path and check every model the report lists loads back equal to the file's. */
static void import_and_compare(ax_db *db, const char *path)
{
	ax_db_import_report *rep = NULL;
	ax_dict **dicts = NULL;
	size_t n = 0, skipped = 0, warnings = 0;
	char *canon = realpath(path, NULL);
	int got;

	assert_non_null(canon);
	/* As the import reads it: with a warning for each gap of a version 3 file. */
	{
		char *buf = NULL;
		size_t len = 0;

		got = ax__xdf_read_file(path, &buf, &len);
		if (got >= 0)
			got = ax__xdf_load_buffer_flags(&dicts, &n, path, buf, len,
			                                AX__XDF_CHECK_V3, NULL);
		free(buf);
	}
	if (got < 0)
		fail_msg("%s: %s", path, ax_error_last());
	got = ax_db_import(db, path, NULL, &rep);
	if (got < 0)
		fail_msg("import %s: %s", path, ax_error_last());
	assert_int_equal(got, (int)n);
	assert_non_null(rep);
	assert_string_equal(rep->file, path);
	assert_int_equal(rep->n_models, n);
	assert_int_equal(rep->format_version, dicts[0]->identity.format_version);
	for (size_t i = 0; i < n; i++) {
		const ax_db_model *m = ax_db_model_list_at(rep->models, i);
		ax_dict *loaded = NULL;

		/* Reported in file order, with the fields the CLI prints. */
		assert_int_equal(m->product_code, dicts[i]->identity.product_code);
		assert_int_equal(m->revision, dicts[i]->identity.revision);
		assert_int_equal(m->vendor_id, dicts[i]->identity.vendor_id);
		assert_string_equal(m->interface, dicts[i]->identity.interface);
		assert_string_equal(m->part_number, dicts[i]->identity.part_number);
		assert_int_equal(m->registers, dicts[i]->n_regs);
		assert_string_equal(m->source, canon);
		assert_int_equal(strlen(m->sha256), 64);
		ok(ax_db_load(db, m->id, &loaded));
		assert_dict_equal(dicts[i], loaded);
		ax_dict_unref(loaded);
		skipped += dicts[i]->n_skipped;
		warnings += dicts[i]->n_warnings;
	}
	assert_int_equal(rep->skipped, skipped);
	assert_int_equal(rep->n_warnings, warnings);
	for (size_t i = 0; i < n; i++)
		ax_dict_unref(dicts[i]);
	ax_free(dicts);
	ax_db_import_report_free(rep);
	free(canon);
}

static void test_db__import_equals_file(void **state)
{
	static const char *const fixtures[] = {"v2_axes.xdf",
	                                       "v2_can.xdf",
	                                       "v3_multi.xdf",
	                                       "skipped.xdf",
	                                       "v3_tables.xdf",
	                                       "v3_pdo_access.xdf",
	                                       "v3_missing_pdo_access.xdf",
	                                       "addresses_beyond_mcb.xdf",
	                                       "axes_beyond_mcb.xdf",
	                                       "subnodes_beyond_mcb.xdf"};
	static const char *const devices[] = {"axs-100.xdf", "axs-200.xdf", "axs-900.xdf"};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	char path[256];

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_TEST_DATA_DIR, fixtures[i]);
		import_and_compare(db, path);
	}
	/* Our own drive models, the largest with over a thousand registers. */
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_DEVICES_DIR, devices[i]);
		if (access(path, R_OK) == 0)
			import_and_compare(db, path);
	}
	ax_db_unref(db);
}

static void test_db__import_report_and_hash(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_import_report *rep = NULL;
	char path[192], want[65];

	(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_TEST_DATA_DIR, "skipped.xdf");
	assert_int_equal(ax_db_import(db, path, NULL, &rep), 1);
	/* Registers the importer left out are counted and explained, file:line first. */
	assert_true(rep->skipped > 0);
	assert_true(rep->n_warnings >= rep->skipped);
	for (size_t i = 0; i < rep->n_warnings; i++) {
		const char *w = rep->warnings[i];

		if (strncmp(w, path, strlen(path)) || w[strlen(path)] != ':' ||
		    w[strlen(path) + 1] < '1' || w[strlen(path) + 1] > '9')
			fail_msg("warning %zu is not 'file:line: ...': %s", i, w);
	}
	assert_int_equal(rep->replaced, 0);
	assert_int_equal(rep->format_version, 3);
	sha256sum(path, want);
	assert_string_equal(ax_db_model_list_at(rep->models, 0)->sha256, want);
	ax_db_import_report_free(rep);
	ax_db_unref(db);
}

static void test_db__import_again_and_changed(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_import_report *rep = NULL;
	ax_db_model_list *models = NULL;
	char path[160], other[192];
	int64_t ids[2];

	(void)snprintf(path, sizeof(path), "%s/m.xdf", fx->dir);
	write_xdf(path, "1.2.0", 3);
	assert_int_equal(ax_db_import(db, path, NULL, &rep), 2);
	assert_int_equal(rep->replaced, 0);
	assert_int_equal(rep->n_models, 2);
	assert_string_equal(ax_db_model_list_at(rep->models, 0)->interface, "ETH");
	assert_string_equal(ax_db_model_list_at(rep->models, 0)->name, "x'); DROP TABLE models;--");
	assert_string_equal(ax_db_model_list_at(rep->models, 1)->interface, "ECAT");
	ids[0] = ax_db_model_list_at(rep->models, 0)->id;
	ids[1] = ax_db_model_list_at(rep->models, 1)->id;
	ax_db_import_report_free(rep);

	/* Same bytes, even through another spelling of the path: nothing changes. */
	(void)snprintf(other, sizeof(other), "%s/./m.xdf", fx->dir);
	assert_int_equal(ax_db_import(db, other, NULL, &rep), 2);
	assert_int_equal(rep->replaced, 0);
	assert_int_equal(ax_db_model_list_at(rep->models, 0)->id, ids[0]);
	assert_int_equal(ax_db_model_list_at(rep->models, 1)->id, ids[1]);
	ax_db_import_report_free(rep);
	/* The report is optional. */
	assert_int_equal(ax_db_import(db, path, NULL, NULL), 2);
	assert_int_equal(model_id_of(db, 0x00010064, 0x00010002), ids[1]);

	/* Changed bytes: both models are replaced by the new ones. */
	write_xdf(path, "1.3.0", 5);
	assert_int_equal(ax_db_import(db, path, NULL, &rep), 2);
	assert_int_equal(rep->replaced, 1);
	assert_true(ax_db_model_list_at(rep->models, 0)->id != ids[0] &&
	            ax_db_model_list_at(rep->models, 0)->id != ids[1]);
	assert_int_equal(ax_db_model_list_at(rep->models, 0)->registers, 6);
	ax_db_import_report_free(rep);
	assert_int_equal(ax_db_list(db, &models), 2);
	for (int i = 0; i < 2; i++)
		assert_string_equal(ax_db_model_list_at(models, i)->firmware_version, "1.3.0");
	ax_db_model_list_free(models);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM registers"), 7);
	ax_db_unref(db);
}

static void test_db__import_bad_file_changes_nothing(void **state)
{
	static const char *const bad[] = {"malformed.xdf", "wrong_root.xdf", "version4.xdf",
	                                  "entity_external.xdf"};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_import_report *rep = (ax_db_import_report *)(uintptr_t)1;
	char path[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ax_dict **dicts = NULL;
		size_t n = 0;
		int want, got;

		(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_TEST_DATA_DIR, bad[i]);
		want = ax_dict_load_file(&dicts, &n, path, NULL);
		if (want >= 0)
			fail_msg("%s: the importer took it (%d models)", bad[i], want);
		got = ax_db_import(db, path, NULL, &rep);
		if (got != want)
			fail_msg("%s: %d, want %d (%s)", bad[i], got, want, ax_error_last());
		assert_non_null(strstr(ax_error_last(), bad[i]));
	}
	(void)snprintf(path, sizeof(path), "%s/missing.xdf", fx->dir);
	assert_int_equal(ax_db_import(db, path, NULL, &rep), AX_ENOTFOUND);
	assert_ptr_equal(rep, (ax_db_import_report *)(uintptr_t)1);
	ax_db_unref(db);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models"), 0);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM sources"), 0);
}

/*
 * A version 3 file of model 0x00010064 rev 0x00010002 (ETH) with @n
 * registers, each lacking its dtype when @broken; with @second, an EoE
 * device of the same product whose registers are all fine.
 */
static void write_model_xdf(const char *path, int n, int broken, int second)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<IngeniaDictionary>\n"
	        " <Header><Version>3.0</Version></Header>\n"
	        " <Body>\n"
	        "  <Devices>\n"
	        "   <ETHDevice ProductCode=\"0x00010064\" RevisionNumber=\"0x00010002\" "
	        "PartNumber=\"AXS-100\" name=\"axs-100\" firmwareVersion=\"%s\">\n"
	        "    <MCBRegisters>\n",
	        broken ? "9.9.9" : "1.2.0");
	for (int i = 0; i < n; i++)
		fprintf(f,
		        "     <MCBRegister address=\"0x%03x\" subnode=\"1\" access=\"r\" %s"
		        "id=\"REG_%d\"/>\n",
		        0x100 + i, broken ? "" : "dtype=\"u16\" ", i);
	fprintf(f, "    </MCBRegisters>\n"
	           "   </ETHDevice>\n");
	if (second)
		fprintf(f, "   <EoEDevice ProductCode=\"0x00010064\" "
		           "RevisionNumber=\"0x00010002\">\n"
		           "    <MCBRegisters>\n"
		           "     <MCBRegister address=\"0x010\" access=\"r\" dtype=\"u16\" "
		           "id=\"FINE\"/>\n"
		           "    </MCBRegisters>\n"
		           "   </EoEDevice>\n");
	fprintf(f, "  </Devices>\n"
	           " </Body>\n"
	           "</IngeniaDictionary>\n");
	assert_int_equal(fclose(f), 0);
}

/* The one model in @db: its id, register count and firmware, and the source count. */
static void assert_one_model(const struct fx *fx, ax_db *db, int64_t id, size_t registers,
                             const char *source)
{
	ax_db_model_list *models = NULL;

	assert_int_equal(ax_db_list(db, &models), 1);
	assert_int_equal(ax_db_model_list_at(models, 0)->id, id);
	assert_int_equal(ax_db_model_list_at(models, 0)->registers, registers);
	assert_string_equal(ax_db_model_list_at(models, 0)->firmware_version, "1.2.0");
	assert_string_equal(ax_db_model_list_at(models, 0)->source, source);
	ax_db_model_list_free(models);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM registers"), (int64_t)registers);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM sources"), 1);
}

/*
 * A file in which every register of a model is refused must not replace
 * the good import of that model with an empty one: the import fails, names
 * the model and the first reason, and the database stays as it was.
 */
static void test_db__import_all_registers_refused_keeps_earlier(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_import_report *rep = (ax_db_import_report *)(uintptr_t)1;
	char good[160], bad[160], mixed[160], *canon;
	char want[512];
	int64_t id;

	(void)snprintf(good, sizeof(good), "%s/good.xdf", fx->dir);
	(void)snprintf(bad, sizeof(bad), "%s/bad.xdf", fx->dir);
	(void)snprintf(mixed, sizeof(mixed), "%s/mixed.xdf", fx->dir);
	write_model_xdf(good, 3, 0, 0);
	write_model_xdf(bad, 3, 1, 0);
	write_model_xdf(mixed, 2, 1, 1);
	canon = realpath(good, NULL);
	assert_non_null(canon);
	assert_int_equal(ax_db_import(db, good, NULL, NULL), 1);
	id = model_id_of(db, 0x00010064, 0x00010002);
	assert_one_model(fx, db, id, 3, canon);

	/* Another file of the same model, all of whose registers lack their dtype. */
	assert_int_equal(ax_db_import(db, bad, NULL, &rep), AX_EFORMAT);
	(void)snprintf(want, sizeof(want),
	               "%s: model 'axs-100' (product 0x00010064 rev 0x00010002, ETH) has no "
	               "register to import (3 skipped, first: %s:8: register 'REG_0': missing "
	               "attribute 'dtype', skipped); nothing was imported",
	               bad, bad);
	assert_string_equal(ax_error_last(), want);
	assert_ptr_equal(rep, (ax_db_import_report *)(uintptr_t)1);
	assert_one_model(fx, db, id, 3, canon);

	/* A file where one device is fine and the other has nothing: refused whole. */
	assert_int_equal(ax_db_import(db, mixed, NULL, &rep), AX_EFORMAT);
	assert_non_null(strstr(ax_error_last(), "(2 skipped, first: "));
	assert_one_model(fx, db, id, 3, canon);

	/* The good file itself, changed into a bad one: the earlier import stays. */
	write_model_xdf(good, 3, 1, 0);
	assert_int_equal(ax_db_import(db, good, NULL, &rep), AX_EFORMAT);
	assert_one_model(fx, db, id, 3, canon);
	{
		ax_dict *dict = NULL;

		ok(ax_db_load(db, id, &dict));
		assert_int_equal(ax_dict_reg_count(dict), 3);
		ax_dict_unref(dict);
	}
	free(canon);
	ax_db_unref(db);
}

/*
 * A configuration file (XCF: saved register values, no addresses, some
 * without a dtype) is not a dictionary: refused with a message saying what
 * it is, and the earlier import of the same model stays as it was.
 */
static void test_db__import_configuration_refused(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_import_report *rep = (ax_db_import_report *)(uintptr_t)1;
	char good[160], xcf[256], want[512], *canon;
	ax_dict **dicts = (ax_dict **)(uintptr_t)1;
	size_t n = 0;
	int64_t id;

	(void)snprintf(good, sizeof(good), "%s/good.xdf", fx->dir);
	(void)snprintf(xcf, sizeof(xcf), "%s/config_v2.xcf", AXLINK_TEST_DATA_DIR);
	write_model_xdf(good, 3, 0, 0);
	canon = realpath(good, NULL);
	assert_non_null(canon);
	assert_int_equal(ax_db_import(db, good, NULL, NULL), 1);
	id = model_id_of(db, 0x00010064, 0x00010002);
	assert_one_model(fx, db, id, 3, canon);

	assert_int_equal(ax_db_import(db, xcf, NULL, &rep), AX_EFORMAT);
	(void)snprintf(want, sizeof(want),
	               "%s:15: a configuration file (XCF), not a dictionary: its 5 register(s) "
	               "carry saved values without an address or a dtype; load it onto a drive "
	               "with ax_config_load() ('axlink config load')",
	               xcf);
	assert_string_equal(ax_error_last(), want);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_DICT);
	assert_ptr_equal(rep, (ax_db_import_report *)(uintptr_t)1);
	assert_one_model(fx, db, id, 3, canon);

	/* The dictionary loader refuses it the same way. */
	assert_int_equal(ax_dict_load_file(&dicts, &n, xcf, NULL), AX_EFORMAT);
	assert_string_equal(ax_error_last(), want);
	assert_ptr_equal(dicts, (ax_dict **)(uintptr_t)1);
	free(canon);
	ax_db_unref(db);
}

/*
 * A version 1 database (errors without type and module) is brought to the
 * current schema on open, every step of it, and then stores those fields.
 */
static void test_db__schema_1_migrates(void **state)
{
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_model_list *models = NULL;
	ax_dict *dict = NULL;
	ax_dict_error_entry e;
	char file[256];
	int64_t id = -1;
	int n;

	ax_db_unref(db);
	drop_images(fx->path);
	sql_exec(fx->path, "ALTER TABLE registers DROP COLUMN mon_subnode;"
	                   "ALTER TABLE registers DROP COLUMN mon_address;"
	                   "ALTER TABLE errors DROP COLUMN affected_module;"
	                   "ALTER TABLE errors DROP COLUMN error_type;"
	                   "PRAGMA user_version = 1");
	ok(ax_db_open(&db, fx->path, 0));
	assert_int_equal(sql_count(fx->path, "PRAGMA user_version"), AX__DB_SCHEMA_VERSION);
	(void)snprintf(file, sizeof(file), "%s/v3_multi.xdf", AXLINK_TEST_DATA_DIR);
	assert_int_equal(ax_db_import(db, file, NULL, NULL), 2);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM errors WHERE code = 12928 "
	                                     "AND error_type = 'cyclic' AND "
	                                     "affected_module = 'Power stage'"),
	                 1);
	n = ax_db_list(db, &models);
	ok(n);
	for (size_t i = 0; i < (size_t)n; i++)
		if (!strcmp(ax_db_model_list_at(models, i)->interface, "ETH"))
			id = ax_db_model_list_at(models, i)->id;
	ax_db_model_list_free(models);
	assert_true(id > 0);
	ok(ax_db_load(db, id, &dict));
	ok(ax_dict_error_lookup(dict, 0x3280, &e));
	assert_string_equal(e.text, "STO is active");
	assert_string_equal(e.type, "cyclic");
	assert_string_equal(e.module, "Power stage");
	ax_dict_unref(dict);
	ax_db_unref(db);
}

/*
 * Integer columns holding something else (a hand-edited or damaged file):
 * SQLite would read 'abc' as 0, a register at 0x000. The model is refused
 * instead, naming the database, the model, the table, the row and column.
 */
static void test_db__load_refuses_non_integer_columns(void **state)
{
	static const struct model_spec spec = {0,         0x00010064, 0x00010002, "ETH",
	                                       "axs-100", "1.2.0",    8};
	static const struct {
		const char *sql, *where;
	} cases[] = {
	        {"UPDATE registers SET address = 'abc' WHERE ord = 3",
	         "table 'registers', row 3 (register 'REG_003'): column 'address' holds text "
	         "'abc', not an integer"},
	        {"UPDATE registers SET address = '0x10' WHERE ord = 0",
	         "table 'registers', row 0 (register 'REG_000'): column 'address' holds text "
	         "'0x10', not an integer"},
	        {"UPDATE registers SET address = 16.5 WHERE ord = 1",
	         "table 'registers', row 1 (register 'REG_001'): column 'address' holds a real "
	         "'16.5', not an integer"},
	        {"UPDATE registers SET subnode = 'one' WHERE ord = 2",
	         "row 2 (register 'REG_002'): column 'subnode' holds text 'one'"},
	        {"UPDATE registers SET dtype = x'01' WHERE ord = 4",
	         "row 4 (register 'REG_004'): column 'dtype' holds a blob, not an integer"},
	        {"UPDATE registers SET access = 'rw' WHERE ord = 5",
	         "row 5 (register 'REG_005'): column 'access' holds text 'rw'"},
	        {"UPDATE enums SET value = 'On' WHERE reg_ord = 2 AND ord = 1",
	         "table 'enums', row 1 (register 'REG_002'): column 'value' holds text 'On', "
	         "not an integer"},
	        {"UPDATE bitfields SET start_bit = 0.5 WHERE reg_ord = 3 AND ord = 1",
	         "table 'bitfields', row 1 (register 'REG_003'): column 'start_bit' holds a "
	         "real '0.5'"},
	        {"UPDATE bitfields SET end_bit = 'four' WHERE reg_ord = 7 AND ord = 0",
	         "table 'bitfields', row 3 (register 'REG_007'): column 'end_bit' holds text "
	         "'four'"},
	        {"UPDATE labels SET reg_ord = 'x' WHERE reg_ord = 0 AND ord = 0",
	         "column 'reg_ord' holds text 'x', not an integer"},
	        {"UPDATE errors SET code = '0x3241' WHERE ord = 0",
	         "table 'errors', row 0: column 'code' holds text '0x3241', not an integer"},
	        {"UPDATE dict_tables SET axis = 'one' WHERE ord = 0",
	         "table 'dict_tables', row 0: column 'axis' holds text 'one', not an integer"},
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ax_dict *dict = (ax_dict *)(uintptr_t)1;
		ax_db_model_list *models = NULL;
		char path[160], want[512];
		ax_db *db = NULL;
		int64_t id;
		int err;

		/* A fresh database per case, changed behind the library's back. */
		(void)snprintf(path, sizeof(path), "%s/case%zu.db", fx->dir, i);
		ok(ax_db_open(&db, path, AX_DB_CREATE));
		assert_int_equal(insert_specs(db, &spec, 1, "/x/axs.xdf", sha_a), 0);
		assert_int_equal(ax_db_list(db, &models), 1);
		id = ax_db_model_list_at(models, 0)->id;
		ax_db_model_list_free(models);
		ok(ax_db_load(db, id, &dict));
		ax_dict_unref(dict);
		dict = (ax_dict *)(uintptr_t)1;

		sql_exec(path, cases[i].sql);
		err = ax_db_load(db, id, &dict);
		(void)snprintf(want, sizeof(want), "'%s': model %lld, ", path, (long long)id);
		if (err != AX_ECORRUPT || strncmp(ax_error_last(), want, strlen(want)) != 0 ||
		    !strstr(ax_error_last(), cases[i].where))
			fail_msg("%s: got %d '%s', want AX_ECORRUPT '%s...%s'", cases[i].sql, err,
			         ax_error_last(), want, cases[i].where);
		assert_ptr_equal(dict, (ax_dict *)(uintptr_t)1);
		ax_db_unref(db);
	}

	/* A model row: listing says which, rather than listing product 0x00000000. */
	{
		static const char *const list_cases[][2] = {
		        {"UPDATE models SET product = 'abc'",
		         "table 'models', row 0: column 'product' holds text 'abc', not an "
		         "integer"},
		        {"UPDATE models SET revision = 1.5",
		         "table 'models', row 0: column 'revision' holds a real '1.5'"},
		        {"UPDATE models SET vendor = 4294967296", "has a corrupt row in 'models'"},
		};

		for (size_t i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
			ax_db_model_list *models = (ax_db_model_list *)(uintptr_t)1;
			char path[160], want[256];
			ax_db *db = NULL;
			int err;

			(void)snprintf(path, sizeof(path), "%s/list%zu.db", fx->dir, i);
			ok(ax_db_open(&db, path, AX_DB_CREATE));
			assert_int_equal(insert_specs(db, &spec, 1, "/x/axs.xdf", sha_a), 0);
			sql_exec(path, list_cases[i][0]);
			err = ax_db_list(db, &models);
			(void)snprintf(want, sizeof(want), "'%s': model 1", path);
			if (err != AX_ECORRUPT ||
			    strncmp(ax_error_last(), want, strlen(want)) != 0 ||
			    !strstr(ax_error_last(), list_cases[i][1]))
				fail_msg("%s: got %d '%s', want AX_ECORRUPT '%s...%s'",
				         list_cases[i][0], err, ax_error_last(), want,
				         list_cases[i][1]);
			assert_ptr_equal(models, (ax_db_model_list *)(uintptr_t)1);
			ax_db_unref(db);
		}
	}
}

/* ---- the model's image (schema 4) ---- */

/* The image of model @id in *out (malloc'd), its length returned. */
static size_t image_get(const char *path, int64_t id, uint8_t **out)
{
	sqlite3 *s = NULL;
	sqlite3_stmt *st = NULL;
	size_t len = 0;

	assert_int_equal(sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
	        sqlite3_prepare_v2(s, "SELECT image FROM models WHERE id = ?1", -1, &st, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(st, 1, id), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(st, 0), SQLITE_BLOB);
	len = (size_t)sqlite3_column_bytes(st, 0);
	*out = malloc(len);
	assert_non_null(*out);
	memcpy(*out, sqlite3_column_blob(st, 0), len);
	sqlite3_finalize(st);
	sqlite3_close(s);
	return len;
}

/* Store @len bytes at @image (NULL: SQL NULL) as model @id's image, through connection @s. */
static void image_put(sqlite3 *s, int64_t id, const uint8_t *image, size_t len)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(
	        sqlite3_prepare_v2(s, "UPDATE models SET image = ?2 WHERE id = ?1", -1, &st, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_bind_int64(st, 1, id), SQLITE_OK);
	if (image)
		assert_int_equal(sqlite3_bind_blob(st, 2, len ? (const void *)image : "", (int)len,
		                                   SQLITE_TRANSIENT),
		                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static int64_t only_model_id(ax_db *db)
{
	ax_db_model_list *models = NULL;
	int64_t id;

	assert_int_equal(ax_db_list(db, &models), 1);
	id = ax_db_model_list_at(models, 0)->id;
	ax_db_model_list_free(models);
	return id;
}

/*
 * Every model loads the same from its image as from its rows (the path of
 * a model stored before schema 4): our drive models and the fixtures.
 */
static void test_db__image_and_rows_load_alike(void **state)
{
	static const char *const files[] = {"v2_axes.xdf", "v3_multi.xdf", "v3_tables.xdf",
	                                    "skipped.xdf", "addresses_beyond_mcb.xdf"};
	static const char *const devices[] = {"axs-100.xdf", "axs-200.xdf", "axs-900.xdf"};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_model_list *models = NULL;
	ax_dict *from_image[32];
	char path[256];
	int n;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_TEST_DATA_DIR, files[i]);
		if (ax_db_import(db, path, NULL, NULL) < 0)
			fail_msg("import %s: %s", path, ax_error_last());
	}
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_DEVICES_DIR, devices[i]);
		if (access(path, R_OK) == 0 && ax_db_import(db, path, NULL, NULL) < 0)
			fail_msg("import %s: %s", path, ax_error_last());
	}
	n = ax_db_list(db, &models);
	ok(n);
	assert_true(n >= 6 && n <= 32);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models WHERE image IS NULL"), 0);
	for (int i = 0; i < n; i++) {
		ok(ax_db_load(db, ax_db_model_list_at(models, i)->id, &from_image[i]));
		assert_non_null(from_image[i]->pool); /* read from the image */
	}
	sql_exec(fx->path, "UPDATE models SET image = NULL");
	for (int i = 0; i < n; i++) {
		ax_dict *from_rows = NULL;

		ok(ax_db_load(db, ax_db_model_list_at(models, i)->id, &from_rows));
		assert_null(from_rows->pool); /* read from the rows */
		assert_dict_equal(from_rows, from_image[i]);
		assert_string_equal(ax_dict_source(from_rows), ax_dict_source(from_image[i]));
		ax_dict_unref(from_rows);
		ax_dict_unref(from_image[i]);
	}
	ax_db_model_list_free(models);
	ax_db_unref(db);
}

/*
 * A database written before images (schema 3) is upgraded on a writable
 * open: every model gets its image from its rows and loads as it was
 * stored; a model whose rows are damaged gets none and still says why.
 */
static void test_db__schema_3_migrates_with_images(void **state)
{
	static const struct model_spec specs[] = {
	        {0, 0x00020001, 0x00000003, "ETH", "axd-2", "2.0.1", 40},
	        {0x29c, 0x00010064, 0x00010002, "CAN", "axs-100", "1.2.0", 25},
	};
	static const struct model_spec damaged = {0, 0x00030001, 0x1, "ETH", "axd-3", "1.0", 8};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_model_list *models = NULL;
	ax_dict *dict = NULL;
	int64_t damaged_id;
	char sql[160];

	assert_int_equal(insert_specs(db, specs, 2, "/x/two.xdf", sha_a), 0);
	assert_int_equal(insert_specs(db, &damaged, 1, "/x/damaged.xdf", sha_b), 0);
	damaged_id = model_id_of(db, damaged.product, damaged.revision);
	ax_db_unref(db);
	db = NULL;
	/* What schema 3 was: this one without models.image. */
	drop_images(fx->path);
	sql_exec(fx->path, "PRAGMA user_version = 3");
	(void)snprintf(sql, sizeof(sql),
	               "UPDATE registers SET address = 'abc' WHERE model_id = %lld AND ord = 3",
	               (long long)damaged_id);
	sql_exec(fx->path, sql);

	/* Read-only, the schema cannot be written: refused as before, saying so. */
	assert_int_equal(ax_db_open(&db, fx->path, AX_DB_READONLY), AX_EACCESS);
	assert_non_null(strstr(ax_error_last(), "version 3 to 4"));
	assert_null(db);

	ok(ax_db_open(&db, fx->path, 0));
	assert_int_equal(sql_count(fx->path, "PRAGMA user_version"), 4);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models WHERE image IS NOT NULL"),
	                 2);
	assert_int_equal(ax_db_list(db, &models), 3);
	for (size_t i = 0; i < 2; i++) {
		ax_dict *want = make_dict(&specs[i]);

		ok(ax_db_load(db, model_id_of(db, specs[i].product, specs[i].revision), &dict));
		assert_non_null(dict->pool); /* from the image the upgrade wrote */
		assert_dict_equal(want, dict);
		ax_dict_unref(dict);
		ax_dict_unref(want);
	}
	dict = (ax_dict *)(uintptr_t)1;
	assert_int_equal(ax_db_load(db, damaged_id, &dict), AX_ECORRUPT);
	assert_non_null(strstr(ax_error_last(), "column 'address' holds text 'abc'"));
	assert_ptr_equal(dict, (ax_dict *)(uintptr_t)1);
	ax_db_model_list_free(models);
	ax_db_unref(db);
}

/*
 * The image stands for the rows only while they are unchanged: any edit of
 * a model's rows (insert, update, delete, in any of its tables) drops it,
 * so loading reads the rows as edited, and checks them.
 */
static void test_db__row_edit_drops_image(void **state)
{
	static const struct model_spec spec = {0,         0x00010064, 0x00010002, "ETH",
	                                       "axs-100", "1.2.0",    8};
	static const char *const edits[] = {
	        "UPDATE registers SET address = 153 WHERE ord = 3",
	        "UPDATE labels SET text = 'Edited' WHERE reg_ord = 1 AND ord = 0",
	        "INSERT INTO enums (model_id, reg_ord, ord, value, label) "
	        "SELECT model_id, 2, 9, 7, 'Seven' FROM registers WHERE ord = 2",
	        "DELETE FROM bitfields WHERE reg_ord = 3 AND ord = 2",
	        "UPDATE categories SET label = 'Edited' WHERE ord = 0",
	        "DELETE FROM errors WHERE ord = 1",
	        "UPDATE dict_tables SET axis = NULL WHERE ord = 0",
	};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);

	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		ax_dict *dict = NULL;
		const ax_reg *r;
		const char *text = NULL;

		/* Stored again (another hash): a fresh model with its image. */
		(void)insert_specs(db, &spec, 1, "/x/axs.xdf", i % 2 ? sha_a : sha_b);
		assert_int_equal(
		        sql_count(fx->path, "SELECT count(*) FROM models WHERE image IS NOT NULL"),
		        1);
		sql_exec(fx->path, edits[i]);
		assert_int_equal(
		        sql_count(fx->path, "SELECT count(*) FROM models WHERE image IS NULL"), 1);
		ok(ax_db_load(db, only_model_id(db), &dict));
		assert_null(dict->pool); /* from the rows */
		switch (i) {
		case 0:
			assert_int_equal(ax_reg_address(ax_dict_reg_at(dict, 3)), 153);
			break;
		case 1:
			assert_string_equal(ax_reg_label(ax_dict_reg_at(dict, 1), "en_US"),
			                    "Edited");
			break;
		case 2:
			assert_string_equal(ax_reg_enum_label(ax_dict_reg_at(dict, 2), 7), "Seven");
			break;
		case 3:
			assert_int_equal(ax_dict_reg_at(dict, 3)->n_bitfields, 2);
			break;
		case 4:
			ok(ax_dict_category_at(dict, 0, NULL, &text));
			assert_string_equal(text, "Edited");
			break;
		case 5:
			assert_int_equal(ax_dict_error_count(dict), 1);
			break;
		default:
			/* No axis: the first REG_000 in file order, on subnode 1. */
			ok(ax_dict_find(dict, "REG_000", -1, &r));
			assert_int_equal(dict->tables[0].axis, -1);
			break;
		}
		ax_dict_unref(dict);
	}
	ax_db_unref(db);
}

static void assert_image_refused(ax_db *db, int64_t id, const char *what, const char *needle)
{
	ax_dict *dict = (ax_dict *)(uintptr_t)1;
	int err = ax_db_load(db, id, &dict);

	if (err != AX_ECORRUPT || !strstr(ax_error_last(), needle))
		fail_msg("%s: got %d '%s', want AX_ECORRUPT '%s'", what, err, ax_error_last(),
		         needle);
	assert_ptr_equal(dict, (ax_dict *)(uintptr_t)1);
}

/*
 * A damaged image is AX_ECORRUPT naming the model, never a dictionary with
 * a wrong value: any changed byte, a cut, a value that is not a blob.
 */
static void test_db__corrupt_image_is_ecorrupt(void **state)
{
	static const struct model_spec spec = {0,         0x00010064, 0x00010002, "ETH",
	                                       "axs-100", "1.2.0",    8};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	uint8_t *image = NULL;
	size_t len;
	int64_t id;
	sqlite3 *s = NULL;
	char want[256], what[64];

	assert_int_equal(insert_specs(db, &spec, 1, "/x/axs.xdf", sha_a), 0);
	id = only_model_id(db);
	len = image_get(fx->path, id, &image);
	assert_true(len > 48);
	assert_int_equal(sqlite3_open_v2(fx->path, &s, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(s, "PRAGMA synchronous = OFF", NULL, NULL, NULL), SQLITE_OK);
	(void)snprintf(want, sizeof(want), "'%s': model %lld has a corrupt dictionary image",
	               fx->path, (long long)id);

	/* One flipped bit anywhere: header, counts, records, pool. */
	for (size_t i = 0; i < len; i += i < 64 ? 1 : 5) {
		image[i] ^= 0x10;
		image_put(s, id, image, len);
		(void)snprintf(what, sizeof(what), "bit 4 of byte %zu flipped", i);
		assert_image_refused(db, id, what, want);
		image[i] ^= 0x10;
	}
	/* Cut short, or only its header, or nothing. */
	image_put(s, id, image, len - 1);
	assert_image_refused(db, id, "last byte cut", want);
	image_put(s, id, image, 47);
	assert_image_refused(db, id, "header cut", "(no image header)");
	image_put(s, id, image, 0);
	assert_image_refused(db, id, "empty", "empty dictionary image");
	/* Not a blob at all. */
	assert_int_equal(sqlite3_exec(s, "UPDATE models SET image = 'AXDI'", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_image_refused(db, id, "text", "dictionary image that is not a blob");

	/* Put back whole, it loads again. */
	image_put(s, id, image, len);
	{
		ax_dict *dict = NULL, *want_dict = make_dict(&spec);

		ok(ax_db_load(db, id, &dict));
		assert_dict_equal(want_dict, dict);
		ax_dict_unref(dict);
		ax_dict_unref(want_dict);
	}
	sqlite3_close(s);
	free(image);
	ax_db_unref(db);
}

/*
 * Past the checksum (a damage it cannot see, or a forged image), every
 * count, offset and field is checked as it is read: any byte changed to
 * any of several values decodes to a dictionary or to AX_ECORRUPT, and
 * never reads outside the image (ASan and valgrind watch this test).
 */
static void test_db__image_checked_past_checksum(void **state)
{
	static const struct model_spec spec = {0,         0x00010064, 0x00010002, "ETH",
	                                       "axs-100", "1.2.0",    6};
	static const uint8_t values[] = {0x00, 0x01, 0x3f, 0x40, 0x80, 0xfe, 0xff};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	uint8_t *image = NULL, *copy;
	size_t len, refused = 0;
	int64_t id;

	assert_int_equal(insert_specs(db, &spec, 1, "/x/axs.xdf", sha_a), 0);
	id = only_model_id(db);
	len = image_get(fx->path, id, &image);
	copy = malloc(len);
	assert_non_null(copy);
	for (size_t i = 16; i < len; i++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			ax_dict *d;
			int err;

			if (image[i] == values[v])
				continue;
			memcpy(copy, image, len);
			copy[i] = values[v];
			ax__db_image_seal(copy, len);
			d = ax__dict_new("image");
			assert_non_null(d);
			err = ax__db_image_decode(db, id, copy, len, d);
			if (err >= 0)
				err = ax__dict_seal(d);
			if (err < 0 && err != AX_ECORRUPT && err != AX_EFORMAT)
				fail_msg("byte %zu = 0x%02x: %d '%s'", i, values[v], err,
				         ax_error_last());
			refused += err < 0;
			ax_dict_unref(d);
		}
	}
	/* Most changes are caught, not only those to text. */
	assert_true(refused > len);
	free(copy);
	free(image);
	ax_db_unref(db);
}

/* ---- threads ---- */

#define THREAD_ROUNDS 40

struct thread_arg {
	ax_db *db;
	int role; /* 0 stores built dictionaries, 1 resolves them, 2 imports a file */
	const char *file;
	int failures;
	char msg[256];
};

static void *thread_main(void *p)
{
	static const struct model_spec v1[] = {{0, 0x900, 0x10, "ETH", "t", "1.0", 30}};
	static const struct model_spec v2[] = {{0, 0x900, 0x10, "ETH", "t", "2.0", 31}};
	struct thread_arg *a = p;

	for (int i = 0; i < THREAD_ROUNDS && !a->failures; i++) {
		if (a->role == 0) {
			ax_dict *d = make_dict(i % 2 ? v2 : v1);
			int replaced = -1;
			int err = ax__db_insert_dicts(a->db, &d, 1, "/x/t.xdf",
			                              i % 2 ? sha_b : sha_a, &replaced);

			ax_dict_unref(d);
			if (err < 0 || replaced != 1) {
				a->failures++;
				(void)snprintf(a->msg, sizeof(a->msg), "store %d: %d %s", i, err,
				               ax_error_last());
			}
		} else if (a->role == 2) {
			ax_db_import_report *rep = NULL;
			int n = ax_db_import(a->db, a->file, NULL, &rep);

			if (n != 1 || rep->replaced != 0 || rep->n_models != 1) {
				a->failures++;
				(void)snprintf(a->msg, sizeof(a->msg), "import %d: %d %s", i, n,
				               ax_error_last());
			}
			ax_db_import_report_free(rep);
		} else {
			ax_dict *dict = NULL;
			char *reason = NULL;
			int match = -1;
			int err = ax_db_resolve(a->db, 0, 0x900, 0x10, AX_ADDR_MCB, &dict, &match,
			                        &reason);
			size_t n = dict ? ax_dict_reg_count(dict) : 0;
			const char *fw = dict ? ax_dict_identity_get(dict)->firmware_version : "";

			/* Never a half-imported model: the old one or the new one, whole. */
			if (err < 0 || match != AX_MATCH_EXACT ||
			    !((n == 30 && !strcmp(fw, "1.0")) || (n == 31 && !strcmp(fw, "2.0")))) {
				a->failures++;
				(void)snprintf(a->msg, sizeof(a->msg),
				               "resolve %d: %d match %d, %zu regs fw '%s': %s", i,
				               err, match, n, fw, err < 0 ? ax_error_last() : "");
			}
			ax_free(reason);
			ax_dict_unref(dict);
		}
	}
	return NULL;
}

static void test_db__threads_import_and_resolve(void **state)
{
	static const struct model_spec v0[] = {{0, 0x900, 0x10, "ETH", "t", "2.0", 31}};
	struct fx *fx = *state;
	ax_db *shared = open_new(fx), *second = NULL;
	struct thread_arg args[5];
	pthread_t threads[5];
	char file[256];

	(void)snprintf(file, sizeof(file), "%s/v2_axes.xdf", AXLINK_TEST_DATA_DIR);
	assert_int_equal(insert_specs(shared, v0, 1, "/x/t.xdf", sha_b), 0);
	assert_int_equal(ax_db_import(shared, file, NULL, NULL), 1);
	ok(ax_db_open(&second, fx->path, 0));
	/*
	 * On one handle: a thread storing, one resolving, one importing a file
	 * (unchanged, so a no-op each time); on a second connection to the
	 * same file: two more resolving.
	 */
	for (int i = 0; i < 5; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].db = i >= 3 ? second : shared;
		args[i].role = i == 0 ? 0 : i == 2 ? 2 : 1;
		args[i].file = file;
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &args[i]), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	for (int i = 0; i < 5; i++)
		if (args[i].failures)
			fail_msg("thread %d: %s", i, args[i].msg);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models"), 2);
	ax_db_unref(second);
	ax_db_unref(shared);
}

/*
 * A version 3 file that lacks what the format makes mandatory: imported with
 * a warning per gap, or with AX_DB_IMPORT_STRICT refused (file:line and the
 * attribute named, the database untouched). The PDO access of a complete
 * file survives the database.
 */
static void test_db__import_strict(void **state)
{
	static const char *const devices[] = {"axs-100.xdf", "axs-200.xdf", "axs-900.xdf"};
	struct fx *fx = *state;
	ax_db *db = open_new(fx);
	ax_db_import_report *rep = (ax_db_import_report *)(uintptr_t)1;
	ax_db_model_list *list = NULL;
	const ax_reg *r = NULL;
	ax_dict *d = NULL;
	char bad[256], good[256], want[512];
	size_t gaps = 0;

	(void)snprintf(bad, sizeof(bad), "%s/v3_missing_pdo_access.xdf", AXLINK_TEST_DATA_DIR);
	(void)snprintf(good, sizeof(good), "%s/v3_pdo_access.xdf", AXLINK_TEST_DATA_DIR);
	assert_int_equal(ax_db_import_flags(db, bad, AX_DB_IMPORT_STRICT, NULL, &rep), AX_EFORMAT);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_DICT);
	(void)snprintf(want, sizeof(want),
	               "%s:20: ETHDevice: no attribute 'PartNumber', which "
	               "format version 3 requires (7 missing attributes in the file); a strict "
	               "import refuses it",
	               bad);
	assert_string_equal(ax_error_last(), want);
	assert_ptr_equal(rep, (ax_db_import_report *)(uintptr_t)1);
	assert_int_equal(ax_db_import_flags(db, good, 0x80, NULL, &rep), AX_EINVAL);
	assert_ptr_equal(rep, (ax_db_import_report *)(uintptr_t)1);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM models"), 0);
	assert_int_equal(sql_count(fx->path, "SELECT count(*) FROM sources"), 0);

	/* Without the flag: every register, and a warning per gap. */
	rep = NULL;
	assert_int_equal(ax_db_import(db, bad, NULL, &rep), 1);
	assert_int_equal(rep->skipped, 0);
	assert_int_equal(ax_db_model_list_at(rep->models, 0)->registers, 3);
	for (size_t i = 0; i < rep->n_warnings; i++)
		gaps += strstr(rep->warnings[i], "which format version 3 requires") != NULL;
	assert_int_equal(gaps, 6);
	(void)snprintf(want, sizeof(want),
	               "%s:26: MCBRegister 'DRV_STATE_CONTROL': no attribute "
	               "'pdo_access', which format version 3 requires (nor in 1 more "
	               "MCBRegister elements of this device)",
	               bad);
	for (gaps = 0; gaps < rep->n_warnings && strcmp(rep->warnings[gaps], want); gaps++)
		;
	if (gaps == rep->n_warnings)
		fail_msg("no warning '%s'", want);
	ax_db_import_report_free(rep);

	/* A complete file, and our own drive models, pass the strict import. */
	rep = NULL;
	assert_int_equal(ax_db_import_flags(db, good, AX_DB_IMPORT_STRICT, NULL, &rep), 2);
	assert_int_equal(rep->n_warnings, 0);
	ax_db_import_report_free(rep);
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		(void)snprintf(bad, sizeof(bad), "%s/%s", AXLINK_DEVICES_DIR, devices[i]);
		if (ax_db_import_flags(db, bad, AX_DB_IMPORT_STRICT, NULL, NULL) < 0)
			fail_msg("%s: %s", devices[i], ax_error_last());
	}

	/* What pdo_access says comes back from the database. */
	assert_true(ax_db_list(db, &list) > 0);
	for (size_t i = 0; i < ax_db_model_list_count(list) && !d; i++) {
		const ax_db_model *m = ax_db_model_list_at(list, i);

		if (strcmp(m->part_number, "AXT-PDO") == 0 && strcmp(m->interface, "ETH") == 0)
			ok(ax_db_load(db, m->id, &d));
	}
	assert_non_null(d);
	ok(ax_dict_find(d, "CL_POS_SET_POINT_VALUE", 1, &r));
	assert_string_equal(ax_reg_cyclic(r), "CYCLIC_RXTX");
	ok(ax_dict_find(d, "DRV_DIAG_ERROR_LAST_COM", 0, &r));
	assert_string_equal(ax_reg_cyclic(r), "CYCLIC_TX");
	ax_dict_unref(d);
	ax_db_model_list_free(list);
	ax_db_unref(db);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_db__##name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	        T(create_makes_folders),
	        T(open_errors),
	        T(corrupt_file_is_eproto),
	        T(truncated_file_is_eproto),
	        T(foreign_sqlite_is_eproto),
	        T(newer_schema_is_eproto),
	        T(empty_file_gets_schema),
	        T(readonly_refuses_import),
	        T(readonly_location_is_eaccess),
	        T(readonly_file_is_eaccess),
	        T(store_list_load_equal),
	        T(load_missing_model),
	        T(corrupt_table_rows),
	        T(same_sha_changes_nothing),
	        T(changed_file_replaces),
	        T(other_file_takes_over_model),
	        T(same_model_twice_in_file),
	        T(sql_text_stored_verbatim),
	        T(import_equals_file),
	        T(import_report_and_hash),
	        T(import_again_and_changed),
	        T(import_bad_file_changes_nothing),
	        T(import_all_registers_refused_keeps_earlier),
	        T(import_strict),
	        T(import_configuration_refused),
	        T(schema_1_migrates),
	        T(load_refuses_non_integer_columns),
	        T(image_and_rows_load_alike),
	        T(schema_3_migrates_with_images),
	        T(row_edit_drops_image),
	        T(corrupt_image_is_ecorrupt),
	        T(image_checked_past_checksum),
	        T(resolve_rules),
	        T(resolve_reason_optional),
	        cmocka_unit_test(test_db__match_names),
	        cmocka_unit_test(test_db__ranges_parsed_at_seal),
	        T(threads_import_and_resolve),
	};
#undef T
	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
