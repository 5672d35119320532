/* SPDX-License-Identifier: MIT */
/*
 * Storing dictionaries in the device database: ax_db_import() parses an
 * XDF file and stores its models, ax__db_insert_dicts() stores
 * dictionaries built in memory; each import is one transaction. Opening
 * and the schema are db.c's.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DB /* errors set here; see src/error.h */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "ctx.h"
#include "db.h"
#include "dict.h"
#include "error.h"
#include "xdf.h"

/* Binding collects the first failure so a row's binds read as one block. */
struct db_bind {
	sqlite3_stmt *st;
	int rc;
};

static void bind_i64(struct db_bind *b, int i, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->st, i, v);
}

/* NULL binds SQL NULL, so "absent" and "" stay apart. */
static void bind_text(struct db_bind *b, int i, const char *s)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_text(b->st, i, s, -1, SQLITE_STATIC);
}

static void bind_blob(struct db_bind *b, int i, const void *p, size_t n)
{
	if (b->rc != SQLITE_OK)
		return;
	if (!p)
		b->rc = sqlite3_bind_null(b->st, i);
	else if (n > INT_MAX)
		b->rc = SQLITE_TOOBIG;
	else
		b->rc = sqlite3_bind_blob(b->st, i, n ? p : "", (int)n, SQLITE_STATIC);
}

/* Run a bound statement that returns no rows. */
static int db_run(ax_db *db, struct db_bind *b, const char *what)
{
	int rc = b->rc;
	int err = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(b->st);
	if (rc != SQLITE_DONE)
		err = ax__db_error(db, rc, what);
	(void)sqlite3_reset(b->st);
	return err;
}

/* ---- storing ---- */

static int db_insert_reg(ax_db *db, int64_t model_id, int64_t ord, const struct ax_reg *r)
{
	sqlite3_stmt *st = NULL;
	struct db_bind b;
	int err;

	err = ax__db_stmt(db, ST_REG_INSERT, &st);
	if (err < 0)
		return err;
	b = (struct db_bind){st, SQLITE_OK};
	bind_i64(&b, 1, model_id);
	bind_i64(&b, 2, ord);
	bind_text(&b, 3, r->id);
	bind_i64(&b, 4, r->subnode);
	bind_i64(&b, 5, r->address);
	bind_i64(&b, 6, r->dtype);
	bind_i64(&b, 7, r->access);
	bind_text(&b, 8, r->units);
	bind_text(&b, 9, r->cyclic);
	bind_text(&b, 10, r->address_type);
	bind_text(&b, 11, r->description);
	bind_text(&b, 12, r->category);
	bind_text(&b, 13, r->subcategory);
	bind_text(&b, 14, r->range_min);
	bind_text(&b, 15, r->range_max);
	bind_blob(&b, 16, r->def, r->def_len);
	if (r->mon_set) {
		bind_i64(&b, 17, r->mon_address);
		bind_i64(&b, 18, r->mon_subnode);
	} else {
		bind_blob(&b, 17, NULL, 0);
		bind_blob(&b, 18, NULL, 0);
	}
	err = db_run(db, &b, "storing a register");

	for (size_t i = 0; err >= 0 && i < r->n_labels; i++) {
		err = ax__db_stmt(db, ST_LABEL_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, ord);
		bind_i64(&b, 3, (int64_t)i);
		bind_text(&b, 4, r->labels[i].lang);
		bind_text(&b, 5, r->labels[i].text);
		err = db_run(db, &b, "storing a label");
	}
	for (size_t i = 0; err >= 0 && i < r->n_enums; i++) {
		err = ax__db_stmt(db, ST_ENUM_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, ord);
		bind_i64(&b, 3, (int64_t)i);
		bind_i64(&b, 4, r->enums[i].value);
		bind_text(&b, 5, r->enums[i].label);
		err = db_run(db, &b, "storing an enum");
	}
	for (size_t i = 0; err >= 0 && i < r->n_bitfields; i++) {
		err = ax__db_stmt(db, ST_BITFIELD_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, ord);
		bind_i64(&b, 3, (int64_t)i);
		bind_text(&b, 4, r->bitfields[i].name);
		bind_i64(&b, 5, r->bitfields[i].start);
		bind_i64(&b, 6, r->bitfields[i].end);
		err = db_run(db, &b, "storing a bitfield");
	}
	return err;
}

int ax__db_image_store(ax_db *db, int64_t model_id, const ax_dict *d)
{
	sqlite3_stmt *st = NULL;
	struct db_bind b;
	uint8_t *image = NULL;
	size_t len = 0;
	int err;

	err = ax__db_image_encode(d, &image, &len);
	if (err < 0)
		return err;
	err = ax__db_stmt(db, ST_MODEL_IMAGE_SET, &st);
	if (err >= 0) {
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, model_id);
		bind_blob(&b, 2, image, len);
		err = db_run(db, &b, "storing a model's image");
		(void)sqlite3_clear_bindings(st); /* bound SQLITE_STATIC: freed below */
	}
	free(image);
	return err;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

static int db_insert_model(ax_db *db, const ax_dict *d, const char *source_path, int64_t source_id)
{
	const ax_dict_identity *id = &d->identity;
	sqlite3_stmt *st = NULL;
	struct db_bind b;
	int64_t model_id;
	int err, rc;

	err = ax__db_stmt(db, ST_MODEL_INSERT, &st);
	if (err < 0)
		return err;
	b = (struct db_bind){st, SQLITE_OK};
	bind_i64(&b, 1, id->vendor_id);
	bind_i64(&b, 2, id->product_code);
	bind_i64(&b, 3, id->revision);
	bind_text(&b, 4, nz(id->name));
	bind_text(&b, 5, nz(id->part_number));
	bind_text(&b, 6, nz(id->firmware_version));
	bind_text(&b, 7, nz(id->interface));
	bind_text(&b, 8, nz(id->family));
	bind_i64(&b, 9, id->format_version);
	bind_i64(&b, 10, id->addr_space);
	bind_i64(&b, 11, id->axes);
	bind_i64(&b, 12, source_id);
	rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		err = ax__error_set(AX_EFORMAT,
		                    "'%s' describes vendor 0x%08" PRIx32 " product 0x%08" PRIx32
		                    " rev 0x%08" PRIx32 " interface '%s' more than once",
		                    source_path, id->vendor_id, id->product_code, id->revision,
		                    nz(id->interface));
	else if (rc != SQLITE_DONE)
		err = ax__db_error(db, rc, "storing a model");
	(void)sqlite3_reset(st);
	if (err < 0)
		return err;
	model_id = sqlite3_last_insert_rowid(db->sql);

	for (size_t i = 0; err >= 0 && i < d->n_regs; i++)
		err = db_insert_reg(db, model_id, (int64_t)i, &d->regs[i]);
	for (size_t i = 0; err >= 0 && i < d->n_categories; i++) {
		err = ax__db_stmt(db, ST_CATEGORY_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, (int64_t)i);
		bind_text(&b, 3, d->categories[i].id);
		bind_text(&b, 4, d->categories[i].label);
		bind_text(&b, 5, d->categories[i].parent);
		err = db_run(db, &b, "storing a category");
	}
	for (size_t i = 0; err >= 0 && i < d->n_errors; i++) {
		err = ax__db_stmt(db, ST_ERROR_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, (int64_t)i);
		bind_i64(&b, 3, d->errors[i].code);
		bind_text(&b, 4, d->errors[i].text);
		bind_text(&b, 5, d->errors[i].type);
		bind_text(&b, 6, d->errors[i].module);
		err = db_run(db, &b, "storing an error");
	}
	for (size_t i = 0; err >= 0 && i < d->n_tables; i++) {
		const struct ax_dict_table *t = &d->tables[i];

		err = ax__db_stmt(db, ST_TABLE_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, (int64_t)i);
		bind_text(&b, 3, t->id);
		if (t->axis >= 0)
			bind_i64(&b, 4, t->axis);
		/* else ?4 stays NULL (bindings are cleared): the file names no axis */
		bind_text(&b, 5, t->index_id);
		bind_text(&b, 6, t->value_id);
		err = db_run(db, &b, "storing a table");
	}
	/* Last, as the rows' triggers drop an image written before them. */
	if (err >= 0)
		err = ax__db_image_store(db, model_id, d);
	return err;
}

/* db_insert_locked without the triggers' switch. */
static int db_insert_rows(ax_db *db, ax_dict *const *dicts, size_t n, const char *source_path,
                          const char *sha256, int *replaced_out, ax_db_model **models_out,
                          size_t *n_models_out)
{
	sqlite3_stmt *st = NULL;
	struct db_bind b;
	int64_t source_id = 0, deleted = 0;
	int found = 0, unchanged = 0;
	int err, rc;

	if (db->readonly)
		return ax__error_set(AX_EACCESS, "'%s' is read-only: cannot import '%s'", db->path,
		                     source_path);
	err = ax__db_exec(db, "BEGIN IMMEDIATE", "starting an import");
	if (err < 0)
		return err;

	err = ax__db_stmt(db, ST_SOURCE_GET, &st);
	if (err < 0)
		goto fail;
	rc = sqlite3_bind_text(st, 1, source_path, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = 1;
		source_id = sqlite3_column_int64(st, 0);
		/* A model since replaced by another file's import makes the file "changed". */
		unchanged = !strcmp(ax__db_col_str(st, 1), sha256) &&
		            sqlite3_column_int64(st, 2) == (int64_t)n;
	} else if (rc != SQLITE_DONE) {
		err = ax__db_error(db, rc, "looking up the source");
	}
	(void)sqlite3_reset(st);
	if (err < 0)
		goto fail;
	if (unchanged)
		goto done;

	if (found) {
		err = ax__db_stmt(db, ST_MODELS_DELETE_SOURCE, &st);
		if (err < 0)
			goto fail;
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, source_id);
		err = db_run(db, &b, "removing the file's earlier models");
		if (err < 0)
			goto fail;
		deleted += sqlite3_changes(db->sql);
	}
	for (size_t i = 0; i < n; i++) {
		const ax_dict_identity *id = &dicts[i]->identity;

		err = ax__db_stmt(db, ST_MODEL_DELETE_KEY, &st);
		if (err < 0)
			goto fail;
		b = (struct db_bind){st, SQLITE_OK};
		bind_i64(&b, 1, id->vendor_id);
		bind_i64(&b, 2, id->product_code);
		bind_i64(&b, 3, id->revision);
		bind_text(&b, 4, nz(id->interface));
		err = db_run(db, &b, "removing an earlier model");
		if (err < 0)
			goto fail;
		deleted += sqlite3_changes(db->sql);
	}

	err = ax__db_stmt(db, found ? ST_SOURCE_UPDATE : ST_SOURCE_INSERT, &st);
	if (err < 0)
		goto fail;
	b = (struct db_bind){st, SQLITE_OK};
	if (found)
		bind_i64(&b, 1, source_id);
	else
		bind_text(&b, 1, source_path);
	bind_text(&b, 2, sha256);
	bind_i64(&b, 3, (int64_t)time(NULL));
	err = db_run(db, &b, "recording the source");
	if (err < 0)
		goto fail;
	if (!found)
		source_id = sqlite3_last_insert_rowid(db->sql);

	for (size_t i = 0; i < n; i++) {
		err = db_insert_model(db, dicts[i], source_path, source_id);
		if (err < 0)
			goto fail;
	}
	err = ax__db_stmt(db, ST_SOURCE_PRUNE, &st);
	if (err < 0)
		goto fail;
	b = (struct db_bind){st, SQLITE_OK};
	err = db_run(db, &b, "removing sources without models");
	if (err < 0)
		goto fail;
done:
	if (models_out) {
		err = ax__db_models_locked(db, source_id, models_out, n_models_out);
		if (err < 0)
			goto fail;
	}
	err = ax__db_exec(db, "COMMIT", "committing an import");
	if (err < 0) {
		if (models_out)
			ax__db_models_free(*models_out, *n_models_out);
		goto fail;
	}
	if (replaced_out)
		*replaced_out = deleted > 0;
	return 0;
fail:
	(void)sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

/*
 * Caller holds db->lock. The body of ax__db_insert_dicts; with @models_out
 * it also lists the file's models as the import left them, before the
 * commit, so no other connection's change slips in between.
 *
 * The rows' triggers (DB_IMAGE_TRIGGERS, db.c) are off meanwhile, on this
 * connection only: an import writes every row of a model and then its
 * image, and deletes models whole, so they would only cost time (a
 * statement per row, a sixth of the import). Switching them makes SQLite
 * prepare the kept statements again, once per import.
 */
static int db_insert_locked(ax_db *db, ax_dict *const *dicts, size_t n, const char *source_path,
                            const char *sha256, int *replaced_out, ax_db_model **models_out,
                            size_t *n_models_out)
{
	int err, on = 1;

	if (sqlite3_db_config(db->sql, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &on) != SQLITE_OK)
		return ax__db_error(db, SQLITE_ERROR, "turning triggers off for an import");
	err = db_insert_rows(db, dicts, n, source_path, sha256, replaced_out, models_out,
	                     n_models_out);
	(void)sqlite3_db_config(db->sql, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, &on);
	return err;
}

int ax__db_insert_dicts(ax_db *db, ax_dict *const *dicts, size_t n, const char *source_path,
                        const char *sha256, int *replaced_out)
{
	int err;

	AX_ASSERT_ARG(db);
	AX_ASSERT_ARG(dicts || n == 0);
	AX_ASSERT_ARG(source_path);
	AX_ASSERT_ARG(sha256);
	pthread_mutex_lock(&db->lock);
	err = db_insert_locked(db, dicts, n, source_path, sha256, replaced_out, NULL, NULL);
	pthread_mutex_unlock(&db->lock);
	return err;
}

int ax__db_sha256_hex(const void *buf, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	/* libcrypto's EVP digest, not a hand-written SHA-256. */
	if (EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
		return ax__error_set(AX_ERROR, "libcrypto could not compute a SHA-256");
	for (unsigned int i = 0; i < md_len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
	return 0;
}

/* ---- importing ---- */

void ax_db_import_report_free(ax_db_import_report *report)
{
	if (!report)
		return;
	free((char *)report->file);
	ax_db_model_list_free((ax_db_model_list *)report->models);
	for (size_t i = 0; i < report->n_warnings; i++)
		free((char *)report->warnings[i]);
	free((char **)report->warnings);
	free(report);
}

static int db_report_new(ax_db_import_report **out, const char *path, ax_dict *const *dicts,
                         size_t n, int replaced)
{
	ax_db_import_report *rep = calloc(1, sizeof(*rep));
	char **warnings;
	size_t total = 0;

	if (!rep)
		return ax__error_oom();
	rep->file = strdup(path);
	if (!rep->file)
		goto oom;
	rep->format_version = n ? dicts[0]->identity.format_version : 0;
	rep->replaced = replaced;

	/* Each device carries its own warnings (the file's go with the first): concatenate. */
	for (size_t i = 0; i < n; i++) {
		rep->skipped += dicts[i]->n_skipped;
		total += dicts[i]->n_warnings;
	}
	if (total) {
		warnings = calloc(total, sizeof(*warnings));
		if (!warnings)
			goto oom;
		rep->warnings = (const char *const *)warnings;
		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; k < dicts[i]->n_warnings; k++) {
				warnings[rep->n_warnings] = strdup(dicts[i]->warnings[k]);
				if (!warnings[rep->n_warnings])
					goto oom;
				rep->n_warnings++;
			}
		}
	}
	*out = rep;
	return 0;
oom:
	ax_db_import_report_free(rep);
	return ax__error_oom();
}

/*
 * A model none of whose registers could be read is not a dictionary: storing
 * it would replace a good earlier import of the model with an empty one.
 * The whole file is refused, before the database is touched.
 */
static int db_check_models(const char *path, ax_dict *const *dicts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const ax_dict *d = dicts[i];
		const ax_dict_identity *id = &d->identity;
		const char *why = NULL;

		if (d->n_regs > 0)
			continue;
		/* The first register skipped says why, with its line. */
		for (size_t k = 0; k < d->n_warnings && !why; k++)
			if (strstr(d->warnings[k], ", skipped"))
				why = d->warnings[k];
		return ax__error_set_class(
		        AX_ERRCLASS_DICT, AX_EFORMAT,
		        "%s: model '%s' (product 0x%08" PRIX32 " rev 0x%08" PRIX32
		        ", %s) has no register to import (%zu skipped%s%s); nothing "
		        "was imported",
		        path, *nz(id->name) ? id->name : nz(id->part_number), id->product_code,
		        id->revision, nz(id->interface), d->n_skipped, why ? ", first: " : "",
		        why ? why : "");
	}
	return 0;
}

int ax_db_import(ax_db *db, const char *path, ax_ctx *ctx, ax_db_import_report **report_out)
{
	return ax_db_import_flags(db, path, 0, ctx, report_out);
}

int ax_db_import_flags(ax_db *db, const char *path, unsigned int flags, ax_ctx *ctx,
                       ax_db_import_report **report_out)
{
	ax_db_import_report *rep = NULL;
	ax_db_model *models = NULL;
	ax_dict **dicts = NULL;
	size_t n = 0, n_models = 0, len = 0;
	char sha[65], *canon = NULL, *buf = NULL;
	int err, replaced = 0;

	AX_ASSERT_ARG(db);
	AX_ASSERT_ARG(path);
	if (flags & ~AX_DB_IMPORT_STRICT)
		return ax__error_set(AX_EINVAL, "unknown import flags 0x%x",
		                     flags & ~AX_DB_IMPORT_STRICT);
	if (db->readonly)
		return ax__error_set(AX_EACCESS, "'%s' is read-only: cannot import '%s'", db->path,
		                     path);
	/* The bytes hashed are the bytes parsed, so the recorded hash never lies. */
	err = ax__xdf_read_file(path, &buf, &len);
	if (err < 0)
		return err;
	/* Sources are keyed by canonical path, so "./a.xdf" and "/x/a.xdf" are one file. */
	canon = realpath(path, NULL);
	if (!canon) {
		err = ax__error_set(ax__db_errno_code(errno), "cannot import '%s': %s", path,
		                    strerror(errno));
		goto out;
	}
	err = ax__db_sha256_hex(buf, len, sha);
	if (err < 0)
		goto out;
	/* What a version 3 file lacks is a warning of the report, or refuses it. */
	err = ax__xdf_load_buffer_flags(
	        &dicts, &n, path, buf, len,
	        flags & AX_DB_IMPORT_STRICT ? AX__XDF_STRICT : AX__XDF_CHECK_V3, ctx);
	if (err < 0)
		goto out;
	err = db_check_models(path, dicts, n);
	if (err < 0)
		goto out;

	pthread_mutex_lock(&db->lock);
	err = db_insert_locked(db, dicts, n, canon, sha, &replaced, report_out ? &models : NULL,
	                       &n_models);
	pthread_mutex_unlock(&db->lock);
	if (err < 0)
		goto out;
	AX_LOG_INFO(ctx, "db", "'%s': %zu model(s) from '%s'%s", db->path, n, path,
	            replaced ? ", replacing earlier ones" : "");
	if (report_out) {
		err = db_report_new(&rep, path, dicts, n, replaced);
		if (err < 0)
			goto out;
		err = ax__db_model_list_new((ax_db_model_list **)&rep->models, models, n_models);
		models = NULL;
		if (err < 0) {
			ax_db_import_report_free(rep);
			goto out;
		}
		rep->n_models = n_models;
		*report_out = rep;
	}
	err = n > INT_MAX ? INT_MAX : (int)n;
out:
	ax__db_models_free(models, n_models);
	for (size_t i = 0; i < n; i++)
		ax_dict_unref(dicts[i]);
	ax_free(dicts);
	free(canon);
	free(buf);
	return err;
}
