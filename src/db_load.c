/* SPDX-License-Identifier: MIT */
/*
 * Reading the device database: a model loaded as a dictionary
 * (ax_db_load), the models listed (ax_db_list), and the model picked for a
 * drive's identity (ax__db_pick, ax_db_resolve). A model is read from its
 * image (db_image.c) when it has one, else from its rows: stored before
 * schema 4, or rows changed since (their triggers drop the image). A row
 * that is not what was stored is reported as corrupt, naming where it is.
 * Opening and the schema are db.c's.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DB /* errors set here; see src/error.h */

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "dict.h"
#include "error.h"

static int db_corrupt(ax_db *db, int64_t model_id, const char *table)
{
	return ax__error_set(AX_ECORRUPT, "'%s': model %" PRId64 " has a corrupt row in '%s'",
	                     db->path, model_id, table);
}

/* Where a row being loaded is: its model, table, position in order, and register. */
struct db_row {
	int64_t model_id;
	const char *table;
	int64_t row;        /* 0-based, in the order the model's rows are read */
	const char *reg_id; /* the register the row is or belongs to, when known */
};

/*
 * Read integer columns @cols of the current row into @v. SQLite reads a
 * text or a real as an integer without complaint ('abc' as 0), so the
 * type is checked first: anything but an integer makes the row corrupt.
 */
static int db_row_ints(ax_db *db, const struct db_row *where, sqlite3_stmt *st, const int *cols,
                       size_t n, int64_t *v)
{
	for (size_t i = 0; i < n; i++) {
		int type = sqlite3_column_type(st, cols[i]);
		const char *text;

		if (type == SQLITE_INTEGER) {
			v[i] = sqlite3_column_int64(st, cols[i]);
			continue;
		}
		text = type == SQLITE_TEXT || type == SQLITE_FLOAT ? ax__db_col_text(st, cols[i])
		                                                   : NULL;
		return ax__error_set(AX_ECORRUPT,
		                     "'%s': model %" PRId64 ", table '%s', row %" PRId64
		                     "%s%s%s: column '%s' holds %s%s%.*s%s, not an integer",
		                     db->path, where->model_id, where->table, where->row,
		                     where->reg_id ? " (register '" : "",
		                     where->reg_id ? where->reg_id : "", where->reg_id ? "')" : "",
		                     sqlite3_column_name(st, cols[i]),
		                     type == SQLITE_TEXT    ? "text"
		                     : type == SQLITE_FLOAT ? "a real"
		                     : type == SQLITE_BLOB  ? "a blob"
		                                            : "NULL",
		                     text ? " '" : "", 64, text ? text : "", text ? "'" : "");
	}
	return 0;
}

/* ---- reading ---- */

static char *dup_or_null(const char *s, int *failed)
{
	char *c = strdup(s ? s : "");

	if (!c)
		*failed = 1;
	return c;
}

void ax__db_models_free(ax_db_model *models, size_t n)
{
	if (!models)
		return;
	for (size_t i = 0; i < n; i++) {
		free((char *)models[i].name);
		free((char *)models[i].part_number);
		free((char *)models[i].firmware_version);
		free((char *)models[i].interface);
		free((char *)models[i].family);
		free((char *)models[i].source);
		free((char *)models[i].sha256);
	}
	free(models);
}

struct ax_db_model_list {
	ax_db_model *models;
	size_t n;
};

/* A list that owns @models (@n of them) on success; frees them on failure. */
int ax__db_model_list_new(ax_db_model_list **out, ax_db_model *models, size_t n)
{
	ax_db_model_list *list;

	if (n == 0) { /* an empty list is NULL */
		ax__db_models_free(models, n);
		*out = NULL;
		return 0;
	}
	list = malloc(sizeof(*list));
	if (!list) {
		ax__db_models_free(models, n);
		return ax__error_oom();
	}
	list->models = models;
	list->n = n;
	*out = list;
	return 0;
}

size_t ax_db_model_list_count(const ax_db_model_list *list)
{
	return list ? list->n : 0;
}

const ax_db_model *ax_db_model_list_at(const ax_db_model_list *list, size_t index)
{
	return list && index < list->n ? &list->models[index] : NULL;
}

void ax_db_model_list_free(ax_db_model_list *list)
{
	if (!list)
		return;
	ax__db_models_free(list->models, list->n);
	free(list);
}

/* A listed model's vendor, product, revision and format version, checked. */
static int db_model_ids(ax_db *db, sqlite3_stmt *st, int64_t row, ax_db_model *m)
{
	static const int cols[] = {1, 2, 3, 11};
	struct db_row where = {m->id, "models", row, NULL};
	int64_t v[4];
	int err = db_row_ints(db, &where, st, cols, 4, v);

	if (err < 0)
		return err;
	for (size_t i = 0; i < 4; i++)
		if (v[i] < 0 || v[i] > UINT32_MAX)
			return db_corrupt(db, m->id, "models");
	m->vendor_id = (uint32_t)v[0];
	m->product_code = (uint32_t)v[1];
	m->revision = (uint32_t)v[2];
	m->format_version = (unsigned int)v[3];
	return 0;
}

/* Caller holds db->lock. Runs ST_MODEL_LIST or, for @source_id > 0, ST_MODEL_LIST_SOURCE. */
int ax__db_models_locked(ax_db *db, int64_t source_id, ax_db_model **out, size_t *n_out)
{
	ax_db_model *models = NULL, *m;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int err, rc, failed = 0;

	err = ax__db_stmt(db, source_id > 0 ? ST_MODEL_LIST_SOURCE : ST_MODEL_LIST, &st);
	if (err < 0)
		return err;
	rc = source_id > 0 ? sqlite3_bind_int64(st, 1, source_id) : SQLITE_OK;
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			ax_db_model *grown = realloc(models, ncap * sizeof(*models));

			if (!grown) {
				failed = 1;
				break;
			}
			models = grown;
			cap = ncap;
		}
		m = &models[n++];
		memset(m, 0, sizeof(*m));
		m->id = sqlite3_column_int64(st, 0); /* the rowid: always an integer */
		err = db_model_ids(db, st, (int64_t)n - 1, m);
		if (err < 0)
			break;
		m->name = dup_or_null(ax__db_col_text(st, 4), &failed);
		m->part_number = dup_or_null(ax__db_col_text(st, 5), &failed);
		m->firmware_version = dup_or_null(ax__db_col_text(st, 6), &failed);
		m->interface = dup_or_null(ax__db_col_text(st, 7), &failed);
		m->family = dup_or_null(ax__db_col_text(st, 8), &failed);
		m->source = dup_or_null(ax__db_col_text(st, 9), &failed);
		m->sha256 = dup_or_null(ax__db_col_text(st, 10), &failed);
		m->registers = (size_t)sqlite3_column_int64(st, 12);
		if (failed)
			break;
	}
	/* err < 0: a corrupt row, already said. */
	if (err >= 0 && failed)
		err = ax__error_oom();
	else if (err >= 0 && rc != SQLITE_DONE)
		err = ax__db_error(db, rc, "listing models");
	(void)sqlite3_reset(st);
	if (err < 0) {
		ax__db_models_free(models, n);
		return err;
	}
	*out = models;
	*n_out = n;
	return 0;
}

int ax_db_list(ax_db *db, ax_db_model_list **out)
{
	ax_db_model *models = NULL;
	size_t n = 0;
	int err;

	AX_ASSERT_ARG(db);
	AX_ASSERT_ARG(out);
	pthread_mutex_lock(&db->lock);
	err = ax__db_models_locked(db, 0, &models, &n);
	pthread_mutex_unlock(&db->lock);
	if (err < 0)
		return err;
	if (n > INT_MAX) {
		ax__db_models_free(models, n);
		return ax__error_set(AX_ETOOBIG, "'%s' holds more models than a list can count",
		                     db->path);
	}
	err = ax__db_model_list_new(out, models, n);
	return err < 0 ? err : (int)n;
}

/* Step a bound query: 1 for a row; 0 at the end or on an error, left in *rc. */
static int db_next(sqlite3_stmt *st, int *rc)
{
	if (*rc != SQLITE_OK && *rc != SQLITE_ROW)
		return 0;
	*rc = sqlite3_step(st);
	return *rc == SQLITE_ROW;
}

/* After a db_next loop: 0 when it reached the end, else the error. */
static int db_rows_end(ax_db *db, sqlite3_stmt *st, int rc, int err, const char *what)
{
	if (err >= 0 && rc != SQLITE_DONE)
		err = ax__db_error(db, rc, what);
	(void)sqlite3_reset(st);
	return err;
}

/*
 * The register a child row belongs to (reg_ord in column 0) in *@out, NULL
 * for a row that points nowhere; < 0 for a reg_ord that is not an integer.
 * Names the register in @where for later messages about the row.
 */
static int db_row_reg(ax_db *db, struct db_row *where, ax_dict *d, sqlite3_stmt *st,
                      struct ax_reg **out)
{
	static const int col[] = {0};
	int64_t ord;
	int err = db_row_ints(db, where, st, col, 1, &ord);

	if (err < 0)
		return err;
	*out = ord >= 0 && (uint64_t)ord < d->n_regs ? &d->regs[ord] : NULL;
	where->reg_id = *out ? (*out)->id : NULL;
	return 0;
}

static int db_load_regs(ax_db *db, int64_t model_id, ax_dict *d)
{
	sqlite3_stmt *st = NULL;
	struct ax_reg *r;
	int err, rc;

	err = ax__db_stmt(db, ST_REG_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	while (err >= 0 && db_next(st, &rc)) {
		/* ord, subnode, address, dtype, access */
		static const int cols[] = {0, 2, 3, 4, 5};
		const char *id = ax__db_col_text(st, 1);
		struct db_row where = {model_id, "registers", (int64_t)d->n_regs, id};
		int64_t v[5], ord, subnode, address, dtype, access;

		err = db_row_ints(db, &where, st, cols, 5, v);
		if (err < 0)
			break;
		ord = v[0];
		subnode = v[1];
		address = v[2];
		dtype = v[3];
		access = v[4];
		if (ord != (int64_t)d->n_regs || !id || subnode < 0 || subnode > UINT8_MAX ||
		    address < 0 || address > UINT32_MAX || dtype < 0 || dtype > UINT8_MAX ||
		    access < 0 || access > UINT8_MAX) {
			err = db_corrupt(db, model_id, "registers");
			break;
		}
		err = ax__dict_add_reg(d, id, (unsigned)subnode, (uint32_t)address, (int)dtype,
		                       (int)access, &r);
		if (err >= 0 && ax__db_col_text(st, 6))
			err = ax__dict_reg_set_str(r, &r->units, ax__db_col_text(st, 6));
		if (err >= 0 && ax__db_col_text(st, 7))
			err = ax__dict_reg_set_str(r, &r->cyclic, ax__db_col_text(st, 7));
		if (err >= 0 && ax__db_col_text(st, 8))
			err = ax__dict_reg_set_str(r, &r->address_type, ax__db_col_text(st, 8));
		if (err >= 0 && ax__db_col_text(st, 9))
			err = ax__dict_reg_set_str(r, &r->description, ax__db_col_text(st, 9));
		if (err >= 0 && ax__db_col_text(st, 10))
			err = ax__dict_reg_set_str(r, &r->category, ax__db_col_text(st, 10));
		if (err >= 0 && ax__db_col_text(st, 11))
			err = ax__dict_reg_set_str(r, &r->subcategory, ax__db_col_text(st, 11));
		if (err >= 0 && ax__db_col_text(st, 12) && ax__db_col_text(st, 13))
			err = ax__dict_reg_set_range(r, ax__db_col_text(st, 12),
			                             ax__db_col_text(st, 13));
		if (err >= 0 && sqlite3_column_type(st, 14) != SQLITE_NULL) {
			const uint8_t *bytes = sqlite3_column_blob(st, 14);
			int len = sqlite3_column_bytes(st, 14);

			err = ax__dict_reg_set_default(r, bytes ? bytes : (const uint8_t *)"",
			                               (size_t)len);
		}
		if (err >= 0 && sqlite3_column_type(st, 15) != SQLITE_NULL) {
			int64_t ma = sqlite3_column_int64(st, 15);
			int64_t ms = sqlite3_column_int64(st, 16);

			if (sqlite3_column_type(st, 16) == SQLITE_NULL || ma < 0 || ma > 0xFFF ||
			    ms < 0 || ms > 15) {
				err = db_corrupt(db, model_id, "registers");
				break;
			}
			r->mon_set = 1;
			r->mon_address = (uint16_t)ma;
			r->mon_subnode = (uint8_t)ms;
		}
	}
	return db_rows_end(db, st, rc, err, "reading registers");
}

static int db_load_reg_children(ax_db *db, int64_t model_id, ax_dict *d)
{
	sqlite3_stmt *st = NULL;
	struct ax_reg *r;
	struct db_row where;
	int err, rc;

	err = ax__db_stmt(db, ST_LABEL_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){model_id, "labels", 0, NULL}; err >= 0 && db_next(st, &rc);
	     where.row++) {
		err = db_row_reg(db, &where, d, st, &r);
		if (err >= 0)
			err = r ? ax__dict_reg_add_label(r, ax__db_col_str(st, 1),
			                                 ax__db_col_str(st, 2))
			        : db_corrupt(db, model_id, "labels");
	}
	err = db_rows_end(db, st, rc, err, "reading labels");
	if (err < 0)
		return err;

	err = ax__db_stmt(db, ST_ENUM_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){model_id, "enums", 0, NULL}; err >= 0 && db_next(st, &rc);
	     where.row++) {
		static const int col[] = {1};
		int64_t value;

		err = db_row_reg(db, &where, d, st, &r);
		if (err >= 0)
			err = db_row_ints(db, &where, st, col, 1, &value);
		if (err >= 0)
			err = r ? ax__dict_reg_add_enum(r, value, ax__db_col_str(st, 2))
			        : db_corrupt(db, model_id, "enums");
	}
	err = db_rows_end(db, st, rc, err, "reading enums");
	if (err < 0)
		return err;

	err = ax__db_stmt(db, ST_BITFIELD_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){model_id, "bitfields", 0, NULL}; err >= 0 && db_next(st, &rc);
	     where.row++) {
		static const int cols[] = {2, 3};
		int64_t bits[2]; /* start, end */

		err = db_row_reg(db, &where, d, st, &r);
		if (err >= 0)
			err = db_row_ints(db, &where, st, cols, 2, bits);
		if (err < 0)
			break;
		if (!r || bits[0] < 0 || bits[1] < bits[0] || bits[1] > 63)
			err = db_corrupt(db, model_id, "bitfields");
		else
			err = ax__dict_reg_add_bitfield(r, ax__db_col_str(st, 1), (unsigned)bits[0],
			                                (unsigned)bits[1]);
	}
	return db_rows_end(db, st, rc, err, "reading bitfields");
}

static int db_load_model_children(ax_db *db, int64_t model_id, ax_dict *d)
{
	sqlite3_stmt *st = NULL;
	struct db_row where;
	int err, rc;

	err = ax__db_stmt(db, ST_CATEGORY_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	while (err >= 0 && db_next(st, &rc))
		err = ax__dict_add_category(d, ax__db_col_str(st, 0), ax__db_col_str(st, 1),
		                            ax__db_col_text(st, 2));
	err = db_rows_end(db, st, rc, err, "reading categories");
	if (err < 0)
		return err;

	err = ax__db_stmt(db, ST_ERROR_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){model_id, "errors", 0, NULL}; err >= 0 && db_next(st, &rc);
	     where.row++) {
		static const int col[] = {0};
		int64_t code;

		err = db_row_ints(db, &where, st, col, 1, &code);
		if (err >= 0)
			err = code < 0 || code > UINT32_MAX
			              ? db_corrupt(db, model_id, "errors")
			              : ax__dict_add_error(d, (uint32_t)code, ax__db_col_str(st, 1),
			                                   ax__db_col_text(st, 2),
			                                   ax__db_col_text(st, 3));
	}
	err = db_rows_end(db, st, rc, err, "reading errors");
	if (err < 0)
		return err;

	/* Whether a table's registers exist is the seal's check, after this. */
	err = ax__db_stmt(db, ST_TABLE_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){model_id, "dict_tables", 0, NULL};
	     err >= 0 && db_next(st, &rc); where.row++) {
		static const int col[] = {1};
		int null_axis = sqlite3_column_type(st, 1) == SQLITE_NULL;
		int64_t axis = -1;

		if (!null_axis)
			err = db_row_ints(db, &where, st, col, 1, &axis);
		if (err < 0)
			break;
		if (!ax__db_col_text(st, 0) || !ax__db_col_text(st, 2) || !ax__db_col_text(st, 3) ||
		    (!null_axis && (axis < 0 || axis > UINT8_MAX)))
			err = db_corrupt(db, model_id, "dict_tables");
		else
			err = ax__dict_add_table(d, ax__db_col_text(st, 0), (int)axis,
			                         ax__db_col_text(st, 2), ax__db_col_text(st, 3));
	}
	return db_rows_end(db, st, rc, err, "reading tables");
}

/* Caller holds db->lock. */
static int db_load_locked(ax_db *db, int64_t model_id, ax_dict **out)
{
	ax_dict *d = NULL;
	sqlite3_stmt *st = NULL;
	char *source;
	size_t len = strlen(db->path) + 32;
	int err, rc, image_type;

	source = malloc(len);
	if (!source)
		return ax__error_oom();
	(void)snprintf(source, len, "db:%s#%" PRId64, db->path, model_id);
	d = ax__dict_new(source);
	free(source);
	if (!d)
		return AX_ENOMEM;

	err = ax__db_stmt(db, ST_MODEL_GET, &st);
	if (err < 0)
		goto fail;
	rc = sqlite3_bind_int64(st, 1, model_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		d->identity.vendor_id = (uint32_t)sqlite3_column_int64(st, 0);
		d->identity.product_code = (uint32_t)sqlite3_column_int64(st, 1);
		d->identity.revision = (uint32_t)sqlite3_column_int64(st, 2);
		d->identity.format_version = (unsigned int)sqlite3_column_int64(st, 8);
		d->identity.addr_space = (int)sqlite3_column_int64(st, 9);
		d->identity.axes = (unsigned int)sqlite3_column_int64(st, 10);
		err = ax__dict_set_identity(d, ax__db_col_str(st, 4), ax__db_col_str(st, 5),
		                            ax__db_col_str(st, 6), ax__db_col_str(st, 7),
		                            ax__db_col_str(st, 3));
		/* The image when the model has one: one record instead of thousands of rows. */
		image_type = sqlite3_column_type(st, 11);
		if (err >= 0 && image_type == SQLITE_BLOB) {
			const void *image = sqlite3_column_blob(st, 11);
			int image_len = sqlite3_column_bytes(st, 11);

			err = image ? ax__db_image_decode(db, model_id, image, (size_t)image_len, d)
			            : ax__error_set(AX_ECORRUPT,
			                            "'%s': model %" PRId64
			                            " has an empty dictionary image",
			                            db->path, model_id);
		} else if (err >= 0 && image_type != SQLITE_BLOB && image_type != SQLITE_NULL) {
			err = ax__error_set(AX_ECORRUPT,
			                    "'%s': model %" PRId64
			                    " has a dictionary image that is not a blob",
			                    db->path, model_id);
		}
	} else if (rc == SQLITE_DONE) {
		err = ax__error_set(AX_ENOTFOUND, "'%s' has no model %" PRId64, db->path, model_id);
	} else {
		err = ax__db_error(db, rc, "reading a model");
	}
	(void)sqlite3_reset(st);
	/* A model stored before images existed (a read that could not write one): its rows. */
	if (err >= 0 && !d->pool)
		err = db_load_regs(db, model_id, d);
	/* Registers are all in place now, so pointers into d->regs stay valid. */
	if (err >= 0 && !d->pool)
		err = db_load_reg_children(db, model_id, d);
	if (err >= 0 && !d->pool)
		err = db_load_model_children(db, model_id, d);
	if (err >= 0)
		err = ax__dict_seal(d);
	if (err == AX_EFORMAT) /* rows that sealed when stored were damaged since */
		err = ax__error_recode(AX_ERRCLASS_DB, AX_ECORRUPT);
	if (err < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	ax_dict_unref(d);
	return err;
}

int ax__db_images_fill(ax_db *db)
{
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int err = 0, rc;

	rc = sqlite3_prepare_v2(db->sql, "SELECT id FROM models WHERE image IS NULL ORDER BY id",
	                        -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			int64_t *grown = realloc(ids, ncap * sizeof(*ids));

			if (!grown) {
				err = ax__error_oom();
				break;
			}
			ids = grown;
			cap = ncap;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	if (err >= 0 && rc != SQLITE_DONE)
		err = ax__db_error(db, rc, "listing models without an image");
	(void)sqlite3_finalize(st);
	for (size_t i = 0; err >= 0 && i < n; i++) {
		ax_dict *d = NULL;

		err = db_load_locked(db, ids[i], &d);
		if (err == AX_ECORRUPT || err == AX_ENOTFOUND) {
			/* Damaged rows: no image, so loading it keeps saying what is wrong. */
			err = 0;
			continue;
		}
		if (err >= 0)
			err = ax__db_image_store(db, ids[i], d);
		ax_dict_unref(d);
	}
	free(ids);
	return err;
}

/*
 * A model is read with several queries: one read transaction around them
 * keeps another connection's import from landing in between.
 */
static int db_read_begin(ax_db *db)
{
	return ax__db_exec(db, "BEGIN", "starting a read");
}

static int db_read_end(ax_db *db, int err)
{
	int rc = sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK && err >= 0) {
		err = ax__db_error(db, rc, "ending a read");
		(void)sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	}
	return err;
}

int ax_db_load(ax_db *db, int64_t model_id, ax_dict **out)
{
	ax_dict *d = NULL;
	int err;

	AX_ASSERT_ARG(db);
	AX_ASSERT_ARG(out);
	pthread_mutex_lock(&db->lock);
	err = db_read_begin(db);
	if (err >= 0) {
		err = db_load_locked(db, model_id, &d);
		err = db_read_end(db, err);
	}
	pthread_mutex_unlock(&db->lock);
	if (err < 0) {
		ax_dict_unref(d);
		return err;
	}
	*out = d;
	return 0;
}

/* ---- resolving ---- */

const char *ax_match_name(int match)
{
	switch (match) {
	case AX_MATCH_NONE:
		return "none";
	case AX_MATCH_EXACT:
		return "exact";
	case AX_MATCH_LOWER_REVISION:
		return "lower-revision";
	case AX_MATCH_ANY_REVISION:
		return "any-revision";
	case AX_MATCH_FILE:
		return "file";
	default:
		return "unknown";
	}
}

/* "axs-100 (ETH, firmware 1.2.0)": what a reason line says about the model it picked. */
static char *db_describe(const char *name, const char *part_number, const char *interface,
                         const char *firmware)
{
	const char *what = *name ? name : *part_number ? part_number : "unnamed model";
	size_t len = strlen(what) + strlen(interface) + strlen(firmware) + 32;
	char *s = malloc(len);

	if (!s)
		return NULL;
	if (*interface && *firmware)
		(void)snprintf(s, len, "%s (%s, firmware %s)", what, interface, firmware);
	else if (*interface || *firmware)
		(void)snprintf(s, len, "%s (%s%s)", what, *firmware ? "firmware " : "",
		               *interface ? interface : firmware);
	else
		(void)snprintf(s, len, "%s", what);
	return s;
}

static char *db_reason(int match, uint32_t vendor_id, uint32_t product, uint32_t revision,
                       int addr_space, uint32_t found_rev, const char *model)
{
	char head[64], none[64], *s = NULL;
	int len;

	(void)snprintf(head, sizeof(head), "product 0x%08" PRIx32 " rev 0x%08" PRIx32, product,
	               revision);
	/* Only a space other than MCB is worth a word: MCB is what nearly every link speaks. */
	(void)snprintf(none, sizeof(none), "no %sdictionary",
	               addr_space == AX_ADDR_CANOPEN ? "CANopen " : "");
	for (int pass = 0; pass < 2; pass++) {
		char *buf = pass ? s : NULL;
		size_t cap = pass ? (size_t)len + 1 : 0;

		switch (match) {
		case AX_MATCH_EXACT:
			len = snprintf(buf, cap, "%s: exact match, %s", head, model);
			break;
		case AX_MATCH_LOWER_REVISION:
			len = snprintf(buf, cap,
			               "%s: %s for revision 0x%08" PRIx32
			               ", using nearest lower revision 0x%08" PRIx32 ", %s",
			               head, none, revision, found_rev, model);
			break;
		case AX_MATCH_ANY_REVISION:
			len = snprintf(buf, cap,
			               "%s: %s for revision 0x%08" PRIx32
			               " or lower, using revision 0x%08" PRIx32 ", %s",
			               head, none, revision, found_rev, model);
			break;
		default:
			if (vendor_id)
				len = snprintf(buf, cap,
				               "%s: %s for product 0x%08" PRIx32
				               " of vendor 0x%08" PRIx32 "%s",
				               head, none, product, vendor_id, model);
			else
				len = snprintf(buf, cap, "%s: %s for product 0x%08" PRIx32 "%s",
				               head, none, product, model);
			break;
		}
		if (len < 0)
			return NULL;
		if (!pass) {
			s = malloc((size_t)len + 1);
			if (!s)
				return NULL;
		}
	}
	return s;
}

void ax__db_pick_clear(struct ax__db_pick *pick)
{
	free(pick->model);
	memset(pick, 0, sizeof(*pick));
	pick->match = AX_MATCH_NONE;
}

/*
 * How many models of product @product another address space has, for the
 * reason line of a miss ("the database has a CANopen one"). Caller holds
 * db->lock inside a read; 0 when the query fails (it only adds words).
 */
static int64_t db_count_other_space(ax_db *db, uint32_t vendor_id, uint32_t product, int addr_space)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db->sql,
	                       "SELECT count(*) FROM models WHERE product = ?1 "
	                       "AND addr_space != ?2 AND (vendor = ?3 OR vendor = 0 OR ?3 = 0)",
	                       -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_bind_int64(st, 1, product) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 2, addr_space) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 3, vendor_id) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	(void)sqlite3_finalize(st);
	return n;
}

/* The pick for one identity; caller holds db->lock inside a read transaction. */
static int db_pick_locked(ax_db *db, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
                          int addr_space, struct ax__db_pick *pick)
{
	sqlite3_stmt *st = NULL;
	int err = 0, rc;

	err = ax__db_stmt(db, ST_RESOLVE, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, vendor_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, product_code);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, revision);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, addr_space);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		pick->model_id = sqlite3_column_int64(st, 0);
		pick->found_rev = (uint32_t)sqlite3_column_int64(st, 1);
		switch (sqlite3_column_int(st, 6)) {
		case 1:
			pick->match = AX_MATCH_EXACT;
			break;
		case 2:
			pick->match = AX_MATCH_LOWER_REVISION;
			break;
		default:
			pick->match = AX_MATCH_ANY_REVISION;
			break;
		}
		pick->model = db_describe(ax__db_col_str(st, 2), ax__db_col_str(st, 3),
		                          ax__db_col_str(st, 4), ax__db_col_str(st, 5));
		if (!pick->model)
			err = ax__error_oom();
	} else if (rc != SQLITE_DONE) {
		err = ax__db_error(db, rc, "resolving a drive identity");
	}
	(void)sqlite3_reset(st);
	if (err >= 0 && pick->match == AX_MATCH_NONE &&
	    db_count_other_space(db, vendor_id, product_code, addr_space) > 0) {
		pick->model = strdup(addr_space == AX_ADDR_CANOPEN
		                             ? " (only MCB dictionaries of it: ETH, EoE)"
		                             : " (only CANopen dictionaries of it: CAN, ECAT)");
		if (!pick->model)
			err = ax__error_oom();
	}
	if (err < 0)
		return err;

	/* In the same read: what the file held when the pick was made. */
	err = ax__db_stmt(db, ST_DATA_VERSION, &st);
	if (err < 0)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		pick->data_version = sqlite3_column_int64(st, 0);
	else
		err = ax__db_error(db, rc, "reading the data version");
	(void)sqlite3_reset(st);
	return err;
}

static int db_check_space(int addr_space)
{
	if (addr_space != AX_ADDR_MCB && addr_space != AX_ADDR_CANOPEN)
		return ax__error_set(AX_EINVAL,
		                     "unknown address space %d (expected AX_ADDR_MCB %d or "
		                     "AX_ADDR_CANOPEN %d)",
		                     addr_space, AX_ADDR_MCB, AX_ADDR_CANOPEN);
	return 0;
}

int ax__db_pick(ax_db *db, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
                int addr_space, struct ax__db_pick *out)
{
	struct ax__db_pick pick = {.match = AX_MATCH_NONE};
	int err;

	assert(db && out);
	err = db_check_space(addr_space);
	if (err < 0)
		return err;
	pthread_mutex_lock(&db->lock);
	err = db_read_begin(db);
	if (err >= 0) {
		err = db_pick_locked(db, vendor_id, product_code, revision, addr_space, &pick);
		err = db_read_end(db, err);
	}
	pthread_mutex_unlock(&db->lock);
	if (err < 0) {
		ax__db_pick_clear(&pick);
		return err;
	}
	*out = pick;
	return 0;
}

char *ax__db_pick_reason(const struct ax__db_pick *pick, uint32_t vendor_id, uint32_t product_code,
                         uint32_t revision, int addr_space)
{
	return db_reason(pick->match, vendor_id, product_code, revision, addr_space,
	                 pick->found_rev, pick->model ? pick->model : "");
}

int ax_db_resolve(ax_db *db, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
                  int addr_space, ax_dict **dict_out, int *match_out, char **reason_out)
{
	struct ax__db_pick pick = {.match = AX_MATCH_NONE};
	ax_dict *dict = NULL;
	char *reason = NULL;
	int match, err;

	AX_ASSERT_ARG(db);
	AX_ASSERT_ARG(dict_out);
	AX_ASSERT_ARG(match_out);
	err = db_check_space(addr_space);
	if (err < 0)
		return err;
	pthread_mutex_lock(&db->lock);
	err = db_read_begin(db);
	if (err >= 0) {
		/* Pick and load in one read: an import cannot land in between. */
		err = db_pick_locked(db, vendor_id, product_code, revision, addr_space, &pick);
		if (err >= 0 && pick.match != AX_MATCH_NONE)
			err = db_load_locked(db, pick.model_id, &dict);
		err = db_read_end(db, err);
	}
	pthread_mutex_unlock(&db->lock);
	if (err >= 0 && reason_out) {
		reason = ax__db_pick_reason(&pick, vendor_id, product_code, revision, addr_space);
		if (!reason)
			err = ax__error_oom();
	}
	match = pick.match;
	ax__db_pick_clear(&pick);
	if (err < 0) {
		ax_dict_unref(dict);
		return err;
	}
	*dict_out = dict;
	*match_out = match;
	if (reason_out)
		*reason_out = reason;
	return 0;
}
