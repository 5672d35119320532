/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_DB_H
#define AXLINK_SRC_DB_H

/*
 * Internal side of axlink/db.h: the storing half of an import, apart from
 * the XML parsing, so dictionaries built in memory can be stored too; the
 * pick that ax_ctx_resolve() compares across databases; and, at the end,
 * what the database's own files (db.c, db_store.c, db_load.c) share.
 */

#include <pthread.h>
#include <stdatomic.h>

#include <sqlite3.h>

#include "axlink/db.h"

/* PRAGMA application_id of our files: "AXLK". */
#define AX__DB_APPLICATION_ID 0x41584C4B
/* PRAGMA user_version this library writes and the newest it reads. */
#define AX__DB_SCHEMA_VERSION 4

/*
 * Store @n dictionaries as the models of the file @source_path (stored as
 * given: callers pass a canonical path) whose SHA-256 is @sha256 (64 hex
 * digits), in one transaction.
 *
 * When @source_path is recorded with the same @sha256 and still owns @n
 * models, nothing changes. Otherwise the models the path held before and
 * the models with the same (vendor, product, revision, interface) are
 * deleted and @dicts inserted.
 * *replaced_out (may be NULL): 1 when earlier models were deleted, else 0.
 * Returns 0, AX_EACCESS (read-only database), AX_EFORMAT (the same model
 * twice in @dicts), AX_ECORRUPT (a corrupt database), or another negative code.
 */
int ax__db_insert_dicts(ax_db *db, ax_dict *const *dicts, size_t n, const char *source_path,
                        const char *sha256, int *replaced_out);

/*
 * What the resolution rules choose in one database, before anything is
 * loaded: ax_ctx_resolve() compares picks across databases and loads only
 * the winner (or finds it in the context's cache).
 */
struct ax__db_pick {
	int64_t model_id;     /* the model to load; 0 when match is AX_MATCH_NONE */
	int match;            /* an ax_match */
	uint32_t found_rev;   /* the model's revision */
	int64_t data_version; /* PRAGMA data_version read with the pick: changes on a commit */
	char *model;          /* "axs-100 (ETH, firmware 1.2.0)" or a miss's note; may be NULL */
};

/*
 * Pick the model for (@vendor_id, @product_code, @revision) among those of
 * @addr_space (an ax_addr_space), in one read. *out is owned by the caller
 * (ax__db_pick_clear). Returns 0 (also for no match), AX_EINVAL (unknown
 * space) or a database error.
 */
int ax__db_pick(ax_db *db, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
                int addr_space, struct ax__db_pick *out);
/* The reason line for @pick, as ax_db_resolve() gives it; NULL when out of memory. */
char *ax__db_pick_reason(const struct ax__db_pick *pick, uint32_t vendor_id, uint32_t product_code,
                         uint32_t revision, int addr_space);
void ax__db_pick_clear(struct ax__db_pick *pick);

/* SHA-256 of @len bytes at @buf as 64 lowercase hex digits plus NUL, into @hex. */
int ax__db_sha256_hex(const void *buf, size_t len, char hex[65]);

/*
 * ---- shared by db.c, db_store.c and db_load.c only ----
 * The connection, its prepared statements, and the helpers that map
 * SQLite's results to ours.
 */

/* Statements kept prepared for the connection's life, by index into db_sql (db.c). */
enum ax__db_stmt_id {
	ST_SOURCE_GET,
	ST_SOURCE_INSERT,
	ST_SOURCE_UPDATE,
	ST_SOURCE_PRUNE,
	ST_MODELS_DELETE_SOURCE,
	ST_MODEL_DELETE_KEY,
	ST_MODEL_INSERT,
	ST_MODEL_IMAGE_SET,
	ST_REG_INSERT,
	ST_LABEL_INSERT,
	ST_ENUM_INSERT,
	ST_BITFIELD_INSERT,
	ST_CATEGORY_INSERT,
	ST_ERROR_INSERT,
	ST_TABLE_INSERT,
	ST_MODEL_LIST,
	ST_MODEL_LIST_SOURCE,
	ST_MODEL_GET,
	ST_REG_SELECT,
	ST_LABEL_SELECT,
	ST_ENUM_SELECT,
	ST_BITFIELD_SELECT,
	ST_CATEGORY_SELECT,
	ST_ERROR_SELECT,
	ST_TABLE_SELECT,
	ST_RESOLVE,
	ST_DATA_VERSION,
	ST__COUNT
};

struct ax_db {
	atomic_int refs;
	char *path;
	int readonly;         /* opened read-only, by request or by permission */
	pthread_mutex_t lock; /* guards sql, stmts and the connection's error text */
	sqlite3 *sql;
	sqlite3_stmt *stmts[ST__COUNT]; /* prepared on first use */
};

/* db.c */
/* An SQLite result @rc as our code and message, naming the file and @what we were doing. */
int ax__db_error(ax_db *db, int rc, const char *what);
/* The ax_error_code for errno @e. */
int ax__db_errno_code(int e);
/* Statement @id in *out: prepared on first use, else reset with its bindings cleared. */
int ax__db_stmt(ax_db *db, enum ax__db_stmt_id id, sqlite3_stmt **out);
/* Run @sql, which returns no rows; @what names the step in an error. */
int ax__db_exec(ax_db *db, const char *sql, const char *what);
/* Column @i of the current row as text: NULL for SQL NULL (_text), or "" (_str). */
const char *ax__db_col_text(sqlite3_stmt *st, int i);
const char *ax__db_col_str(sqlite3_stmt *st, int i);

/* db_image.c: a model's dictionary as one record (models.image) */
/* @d's content as an image in *out (malloc'd, @len_out bytes). */
int ax__db_image_encode(const ax_dict *d, uint8_t **out, size_t *len_out);
/*
 * Fill the empty, unsealed @d with the registers, categories, errors and
 * tables of @image (@len bytes) of model @model_id; @d's strings then point
 * into its pool. AX_ECORRUPT names the model and what is wrong; on any
 * error @d is only fit to be freed.
 */
int ax__db_image_decode(ax_db *db, int64_t model_id, const void *image, size_t len, ax_dict *d);
/* Write the checksum of @image (@len bytes) into its header; the encoder's last step. */
void ax__db_image_seal(uint8_t *image, size_t len);

/* db_store.c */
/* Write model @model_id's image, of @d; after its rows (their triggers drop an older one). */
int ax__db_image_store(ax_db *db, int64_t model_id, const ax_dict *d);

/* db_load.c */
/*
 * Write the image of every model that has none (stored before schema
 * version 4), from its rows; a model whose rows do not load keeps none
 * (loading it says why). Caller holds the write transaction.
 */
int ax__db_images_fill(ax_db *db);
/* The models of source @source_id (all for 0) as ax_db_list() lists them; caller holds db->lock. */
int ax__db_models_locked(ax_db *db, int64_t source_id, ax_db_model **out, size_t *n_out);
void ax__db_models_free(ax_db_model *models, size_t n);
/* A list that owns @models (@n of them) on success; frees them on failure. */
int ax__db_model_list_new(ax_db_model_list **out, ax_db_model *models, size_t n);

#endif
