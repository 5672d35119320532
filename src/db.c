/* SPDX-License-Identifier: MIT */
/*
 * The device database: dictionaries stored in SQLite so a drive's
 * dictionary loads without XML, and found again from the identity the
 * drive reports.
 *
 * Every value reaches SQL through a bound parameter; the only SQL text we
 * format ourselves is the schema version pragma, from our own constants.
 * A connection is used by one thread at a time (db->lock) and its
 * statements are prepared once and kept. Each import is one transaction.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DB /* errors set here; see src/error.h */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "ctx.h"
#include "db.h"
#include "dict.h"
#include "error.h"
#include "xdf.h"

/* Statements kept prepared for the connection's life, by index into db_sql. */
enum db_stmt_id {
	ST_SOURCE_GET,
	ST_SOURCE_INSERT,
	ST_SOURCE_UPDATE,
	ST_SOURCE_PRUNE,
	ST_MODELS_DELETE_SOURCE,
	ST_MODEL_DELETE_KEY,
	ST_MODEL_INSERT,
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

/* Listing order only: MCB interfaces first. Resolution filters on addr_space instead. */
#define DB_IFACE_RANK                                                                          \
	"CASE upper(m.interface) WHEN 'ETH' THEN 0 WHEN 'EOE' THEN 1 ELSE 2 END"

#define DB_MODEL_COLUMNS                                                                       \
	"m.id, m.vendor, m.product, m.revision, m.name, m.part_number, m.firmware_version, "   \
	"m.interface, m.family, s.path, s.sha256, m.format_version, "                          \
	"(SELECT count(*) FROM registers r WHERE r.model_id = m.id) "                          \
	"FROM models m JOIN sources s ON s.id = m.source_id "

static const char *const db_sql[ST__COUNT] = {
	[ST_SOURCE_GET] = "SELECT id, sha256, (SELECT count(*) FROM models WHERE source_id = "
			  "sources.id) FROM sources WHERE path = ?1",
	[ST_SOURCE_INSERT] = "INSERT INTO sources (path, sha256, imported_at) VALUES (?1, ?2, ?3)",
	[ST_SOURCE_UPDATE] = "UPDATE sources SET sha256 = ?2, imported_at = ?3 WHERE id = ?1",
	[ST_SOURCE_PRUNE] = "DELETE FROM sources WHERE NOT EXISTS "
			    "(SELECT 1 FROM models WHERE models.source_id = sources.id)",
	[ST_MODELS_DELETE_SOURCE] = "DELETE FROM models WHERE source_id = ?1",
	[ST_MODEL_DELETE_KEY] = "DELETE FROM models WHERE vendor = ?1 AND product = ?2 "
				"AND revision = ?3 AND interface = ?4",
	[ST_MODEL_INSERT] = "INSERT INTO models (vendor, product, revision, name, part_number, "
			    "firmware_version, interface, family, format_version, addr_space, "
			    "axes, source_id) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_REG_INSERT] = "INSERT INTO registers (model_id, ord, id, subnode, address, dtype, "
			  "access, units, cyclic, address_type, description, category, "
			  "subcategory, range_min, range_max, default_value) VALUES (?1, ?2, ?3, "
			  "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[ST_LABEL_INSERT] = "INSERT INTO labels (model_id, reg_ord, ord, lang, text) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_ENUM_INSERT] = "INSERT INTO enums (model_id, reg_ord, ord, value, label) "
			   "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_BITFIELD_INSERT] = "INSERT INTO bitfields (model_id, reg_ord, ord, name, start_bit, "
			       "end_bit) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_CATEGORY_INSERT] = "INSERT INTO categories (model_id, ord, id, label, parent) "
			       "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_ERROR_INSERT] = "INSERT INTO errors (model_id, ord, code, text, error_type, "
			    "affected_module) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_TABLE_INSERT] = "INSERT INTO dict_tables (model_id, ord, id, axis, index_id, "
			    "value_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_MODEL_LIST] = "SELECT " DB_MODEL_COLUMNS
			  "ORDER BY m.product, m.revision, " DB_IFACE_RANK ", m.interface, m.id",
	[ST_MODEL_LIST_SOURCE] = "SELECT " DB_MODEL_COLUMNS "WHERE m.source_id = ?1 ORDER BY m.id",
	[ST_MODEL_GET] = "SELECT vendor, product, revision, name, part_number, firmware_version, "
			 "interface, family, format_version, addr_space, axes "
			 "FROM models WHERE id = ?1",
	[ST_REG_SELECT] = "SELECT ord, id, subnode, address, dtype, access, units, cyclic, "
			  "address_type, description, category, subcategory, range_min, "
			  "range_max, default_value FROM registers WHERE model_id = ?1 "
			  "ORDER BY ord",
	[ST_LABEL_SELECT] = "SELECT reg_ord, lang, text FROM labels WHERE model_id = ?1 "
			    "ORDER BY reg_ord, ord",
	[ST_ENUM_SELECT] = "SELECT reg_ord, value, label FROM enums WHERE model_id = ?1 "
			   "ORDER BY reg_ord, ord",
	[ST_BITFIELD_SELECT] = "SELECT reg_ord, name, start_bit, end_bit FROM bitfields "
			       "WHERE model_id = ?1 ORDER BY reg_ord, ord",
	[ST_CATEGORY_SELECT] = "SELECT id, label, parent FROM categories WHERE model_id = ?1 "
			       "ORDER BY ord",
	[ST_ERROR_SELECT] = "SELECT code, text, error_type, affected_module FROM errors "
			    "WHERE model_id = ?1 ORDER BY ord",
	[ST_TABLE_SELECT] = "SELECT id, axis, index_id, value_id FROM dict_tables "
			    "WHERE model_id = ?1 ORDER BY ord",
	/*
	 * Only models of the link's address space (?4): a CANopen dictionary
	 * never describes an MCB link, whatever its revision. Then rule 1
	 * exact, 2 lower revision (nearest first), 3 any other (highest first).
	 * Files rarely name their vendor, so a model of vendor 0 fits any vendor
	 * (as does a query for vendor 0); an exact vendor wins ties, then the
	 * model imported first (ETH before EoE in a file that has both).
	 */
	[ST_RESOLVE] = "SELECT m.id, m.revision, m.name, m.part_number, m.interface, "
		       "m.firmware_version, "
		       "CASE WHEN m.revision = ?3 THEN 1 WHEN m.revision < ?3 THEN 2 ELSE 3 END "
		       "AS rule FROM models m "
		       "WHERE m.product = ?2 AND (m.vendor = ?1 OR m.vendor = 0 OR ?1 = 0) "
		       "AND m.addr_space = ?4 "
		       "ORDER BY rule, m.revision DESC, m.vendor = ?1 DESC, m.id LIMIT 1",
	[ST_DATA_VERSION] = "PRAGMA data_version",
};

/*
 * Schema migrations: db_migrations[v] takes a database from user_version v
 * to v + 1. Child tables are keyed by their owner first and clustered
 * (WITHOUT ROWID) so loading a model reads contiguous rows in file order.
 *
 * dict_tables (a dictionary's Tables: index and value register ids, the
 * axis NULL when the file gives none) was added to version 1 in place, not
 * as a version 2, because no database had shipped yet. From the first
 * release on, a change is a new entry here.
 */
static const char *const db_migrations[AX__DB_SCHEMA_VERSION] = {
	"CREATE TABLE sources ("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT NOT NULL UNIQUE,"
	"  sha256 TEXT NOT NULL,"
	"  imported_at INTEGER NOT NULL);"
	/* AUTOINCREMENT: a replaced model's id never comes back for another one. */
	"CREATE TABLE models ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  vendor INTEGER NOT NULL,"
	"  product INTEGER NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  part_number TEXT NOT NULL,"
	"  firmware_version TEXT NOT NULL,"
	"  interface TEXT NOT NULL,"
	"  family TEXT NOT NULL,"
	"  format_version INTEGER NOT NULL,"
	"  addr_space INTEGER NOT NULL,"
	"  axes INTEGER NOT NULL,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),"
	"  UNIQUE (vendor, product, revision, interface));"
	"CREATE INDEX models_by_product ON models(product, revision);"
	"CREATE INDEX models_by_source ON models(source_id);"
	"CREATE TABLE registers ("
	"  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
	"  ord INTEGER NOT NULL,"
	"  id TEXT NOT NULL,"
	"  subnode INTEGER NOT NULL,"
	"  address INTEGER NOT NULL,"
	"  dtype INTEGER NOT NULL,"
	"  access INTEGER NOT NULL,"
	"  units TEXT, cyclic TEXT, address_type TEXT, description TEXT,"
	"  category TEXT, subcategory TEXT,"
	"  range_min TEXT, range_max TEXT,"
	"  default_value BLOB,"
	"  PRIMARY KEY (model_id, ord)) WITHOUT ROWID;"
	"CREATE TABLE labels ("
	"  model_id INTEGER NOT NULL, reg_ord INTEGER NOT NULL, ord INTEGER NOT NULL,"
	"  lang TEXT NOT NULL, text TEXT NOT NULL,"
	"  PRIMARY KEY (model_id, reg_ord, ord),"
	"  FOREIGN KEY (model_id, reg_ord) REFERENCES registers(model_id, ord)"
	"    ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE TABLE enums ("
	"  model_id INTEGER NOT NULL, reg_ord INTEGER NOT NULL, ord INTEGER NOT NULL,"
	"  value INTEGER NOT NULL, label TEXT NOT NULL,"
	"  PRIMARY KEY (model_id, reg_ord, ord),"
	"  FOREIGN KEY (model_id, reg_ord) REFERENCES registers(model_id, ord)"
	"    ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE TABLE bitfields ("
	"  model_id INTEGER NOT NULL, reg_ord INTEGER NOT NULL, ord INTEGER NOT NULL,"
	"  name TEXT NOT NULL, start_bit INTEGER NOT NULL, end_bit INTEGER NOT NULL,"
	"  PRIMARY KEY (model_id, reg_ord, ord),"
	"  FOREIGN KEY (model_id, reg_ord) REFERENCES registers(model_id, ord)"
	"    ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE TABLE categories ("
	"  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
	"  ord INTEGER NOT NULL, id TEXT NOT NULL, label TEXT NOT NULL, parent TEXT,"
	"  PRIMARY KEY (model_id, ord)) WITHOUT ROWID;"
	"CREATE TABLE errors ("
	"  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
	"  ord INTEGER NOT NULL, code INTEGER NOT NULL, text TEXT NOT NULL,"
	"  PRIMARY KEY (model_id, ord)) WITHOUT ROWID;"
	"CREATE TABLE dict_tables ("
	"  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
	"  ord INTEGER NOT NULL, id TEXT NOT NULL, axis INTEGER,"
	"  index_id TEXT NOT NULL, value_id TEXT NOT NULL,"
	"  PRIMARY KEY (model_id, ord)) WITHOUT ROWID;",
	/*
	 * 1 -> 2: an error's type and affected module (XDF error_type,
	 * affected_module), NULL when the file gives none. Models imported
	 * before keep NULL until their file is imported again.
	 */
	"ALTER TABLE errors ADD COLUMN error_type TEXT;"
	"ALTER TABLE errors ADD COLUMN affected_module TEXT;",
};

struct ax_db {
	atomic_int refs;
	char *path;
	int readonly;                   /* opened read-only, by request or by permission */
	pthread_mutex_t lock;           /* guards sql, stmts and the connection's error text */
	sqlite3 *sql;
	sqlite3_stmt *stmts[ST__COUNT]; /* prepared on first use */
};

/* Map an SQLite result to our codes; the message names the file and what we were doing. */
static int db_error(ax_db *db, int rc, const char *what)
{
	const char *msg = db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc);
	int code;

	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return ax__error_oom();
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return ax__error_set(AX_ECORRUPT,
				     "'%s' is not an SQLite database or is corrupt (%s)",
				     db->path, msg);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = AX_EACCESS;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = AX_EBUSY;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
		code = AX_EIO;
		break;
	case SQLITE_TOOBIG:
		code = AX_ETOOBIG;
		break;
	default:
		code = AX_ERROR;
		break;
	}
	return ax__error_set(code, "'%s': %s: %s", db->path, what, msg);
}

static int db_errno_code(int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
	case EROFS:
		return AX_EACCESS;
	case ENOENT:
	case ENOTDIR:
		return AX_ENOTFOUND;
	case ENOMEM:
		return AX_ENOMEM;
	default:
		return AX_ERROR;
	}
}

static int db_stmt(ax_db *db, enum db_stmt_id id, sqlite3_stmt **out)
{
	sqlite3_stmt *st = db->stmts[id];
	int rc;

	if (!st) {
		rc = sqlite3_prepare_v3(db->sql, db_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
					NULL);
		if (rc != SQLITE_OK)
			return db_error(db, rc, "preparing a query");
		db->stmts[id] = st;
	} else {
		(void)sqlite3_reset(st);
		(void)sqlite3_clear_bindings(st);
	}
	*out = st;
	return 0;
}

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
		err = db_error(db, rc, what);
	(void)sqlite3_reset(b->st);
	return err;
}

static int db_exec(ax_db *db, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_error(db, rc, what);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static const char *col_str(sqlite3_stmt *st, int i)
{
	const char *s = col_text(st, i);

	return s ? s : "";
}

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
		text = type == SQLITE_TEXT || type == SQLITE_FLOAT ? col_text(st, cols[i]) : NULL;
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

/* ---- opening and the schema ---- */

static int db_query_int(ax_db *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
	int err = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		err = db_error(db, rc, "reading the schema");
	(void)sqlite3_finalize(st);
	return err;
}

struct db_header {
	int64_t app_id, version, tables;
};

/* Reading sqlite_master first makes SQLite read the file: a non-SQLite file fails here. */
static int db_header_read(ax_db *db, struct db_header *h)
{
	int err = db_query_int(db, "SELECT count(*) FROM sqlite_master", &h->tables);

	if (err >= 0)
		err = db_query_int(db, "PRAGMA application_id", &h->app_id);
	if (err >= 0)
		err = db_query_int(db, "PRAGMA user_version", &h->version);
	return err;
}

/* Tell foreign and future files apart; returns 1 when the schema must be created/upgraded. */
static int db_header_check(ax_db *db, const struct db_header *h)
{
	if (h->app_id != AX__DB_APPLICATION_ID && (h->app_id != 0 || h->tables > 0))
		return ax__error_set(AX_ECORRUPT,
				     "'%s' is an SQLite database but not an axlink device database",
				     db->path);
	if (h->version > AX__DB_SCHEMA_VERSION)
		return ax__error_set(AX_ECORRUPT,
				     "'%s': schema version %" PRId64
				     " is newer than this library (max %d)",
				     db->path, h->version, AX__DB_SCHEMA_VERSION);
	if (h->version < 0)
		return ax__error_set(AX_ECORRUPT, "'%s': schema version %" PRId64 " is not valid",
				     db->path, h->version);
	if (h->version == 0 && h->tables > 0)
		return ax__error_set(AX_ECORRUPT,
				     "'%s' is damaged: tables without a schema version", db->path);
	return h->version < AX__DB_SCHEMA_VERSION;
}

static int db_migrate(ax_db *db)
{
	struct db_header h;
	char pragmas[128];
	int err;

	err = db_exec(db, "BEGIN IMMEDIATE", "starting the schema update");
	if (err < 0)
		return err;
	/* Read again inside the write lock: another process may have just done it. */
	err = db_header_read(db, &h);
	if (err >= 0)
		err = db_header_check(db, &h);
	/* err is 1 (update needed) until a step fails; each step returns 0. */
	for (int64_t v = h.version; err > 0 && v < AX__DB_SCHEMA_VERSION; v++) {
		err = db_exec(db, db_migrations[v], "creating the schema");
		if (err == 0)
			err = 1;
	}
	if (err >= 0) {
		(void)snprintf(pragmas, sizeof(pragmas),
			       "PRAGMA application_id = %d; PRAGMA user_version = %d",
			       AX__DB_APPLICATION_ID, AX__DB_SCHEMA_VERSION);
		err = db_exec(db, pragmas, "writing the schema version");
	}
	if (err >= 0)
		err = db_exec(db, "COMMIT", "committing the schema");
	if (err < 0)
		(void)sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return err < 0 ? err : 0;
}

/* mkdir -p of the folder holding @path. */
static int db_make_parent(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	struct stat st;
	int err = 0;

	if (!dir)
		return ax__error_oom();
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	for (char *p = dir + 1; err == 0; p++) {
		int end = *p == '\0';

		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(dir, 0777) < 0) {
			if (errno != EEXIST)
				err = ax__error_set(db_errno_code(errno),
						    "cannot create folder '%s' for '%s': %s", dir,
						    path, strerror(errno));
			else if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
				err = ax__error_set(AX_ERROR, "'%s' is not a folder (for '%s')",
						    dir, path);
		}
		if (end)
			break;
		*p = '/';
	}
	free(dir);
	return err;
}

/*
 * SQLite reports only its last attempt (a read-only open, ENOENT) when it
 * cannot create a file, so ask the folder ourselves.
 */
static int db_check_creatable(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int err = 0;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return ax__error_oom();
	if (access(dir, W_OK | X_OK) < 0)
		err = ax__error_set(db_errno_code(errno), "cannot create '%s': %s", path,
				    strerror(errno));
	free(dir);
	return err;
}

static void db_destroy(ax_db *db)
{
	for (size_t i = 0; i < ST__COUNT; i++)
		(void)sqlite3_finalize(db->stmts[i]);
	(void)sqlite3_close(db->sql);
	pthread_mutex_destroy(&db->lock);
	free(db->path);
	free(db);
}

int ax_db_open(ax_db **out, const char *path, unsigned int flags)
{
	struct db_header h;
	struct stat st;
	int oflags, rc, err, exists = 1;
	ax_db *db;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(path);
	if (!*path)
		return ax__error_set(AX_EINVAL, "empty device database path");
	if (flags & ~(AX_DB_READONLY | AX_DB_CREATE))
		return ax__error_set(AX_EINVAL, "unknown ax_db_open flags 0x%x", flags);
	if ((flags & AX_DB_READONLY) && (flags & AX_DB_CREATE))
		return ax__error_set(AX_EINVAL,
				     "AX_DB_READONLY and AX_DB_CREATE exclude each other");

	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return ax__error_set(db_errno_code(errno), "'%s': %s", path,
					     strerror(errno));
		if (!(flags & AX_DB_CREATE))
			return ax__error_set(AX_ENOTFOUND, "device database '%s' does not exist",
					     path);
		exists = 0;
		err = db_make_parent(path);
		if (err >= 0)
			err = db_check_creatable(path);
		if (err < 0)
			return err;
	} else if (!S_ISREG(st.st_mode)) {
		/* A FIFO would block the open, and a folder is plainly not a database. */
		return ax__error_set(AX_ECORRUPT,
				     "'%s' is not a regular file, not a device database", path);
	}

	db = calloc(1, sizeof(*db));
	if (!db)
		return ax__error_oom();
	atomic_init(&db->refs, 1);
	pthread_mutex_init(&db->lock, NULL);
	db->path = strdup(path);
	if (!db->path) {
		err = ax__error_oom();
		goto fail;
	}

	/* Our own lock serializes the connection; SQLite's would be a second one. */
	oflags = SQLITE_OPEN_NOMUTEX;
	if (flags & AX_DB_READONLY)
		oflags |= SQLITE_OPEN_READONLY;
	else
		oflags |= SQLITE_OPEN_READWRITE | (flags & AX_DB_CREATE ? SQLITE_OPEN_CREATE : 0);
	rc = sqlite3_open_v2(path, &db->sql, oflags, NULL);
	if (rc != SQLITE_OK) {
		int e = db->sql ? sqlite3_system_errno(db->sql) : 0;

		if ((rc & 0xff) == SQLITE_CANTOPEN && e)
			err = ax__error_set(db_errno_code(e), "cannot %s '%s': %s",
					    exists ? "open" : "create", path, strerror(e));
		else
			err = db_error(db, rc, exists ? "opening" : "creating");
		goto fail;
	}
	(void)sqlite3_extended_result_codes(db->sql, 1);
	(void)sqlite3_busy_timeout(db->sql, 5000);
	/* SQLite quietly opens a write-protected file read-only: note it for imports. */
	db->readonly = sqlite3_db_readonly(db->sql, "main") == 1;

	err = db_header_read(db, &h);
	if (err < 0)
		goto fail;
	err = db_header_check(db, &h);
	if (err > 0 && (flags & AX_DB_READONLY) && h.version == 0)
		err = ax__error_set(AX_ECORRUPT, "'%s' is empty, not an axlink device database",
				    path);
	else if (err > 0 && db->readonly)
		err = ax__error_set(AX_EACCESS,
				    "'%s' needs its schema written (version %" PRId64
				    " to %d) but is read-only",
				    path, h.version, AX__DB_SCHEMA_VERSION);
	else if (err > 0)
		err = db_migrate(db);
	if (err < 0)
		goto fail;
	/*
	 * Cascading deletes need foreign keys on. The file may come from
	 * anywhere: functions with side effects stay out of its schema.
	 */
	err = db_exec(db, "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF",
		      "configuring the connection");
	if (err < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	db_destroy(db);
	return err;
}

ax_db *ax_db_ref(ax_db *db)
{
	if (db)
		atomic_fetch_add(&db->refs, 1);
	return db;
}

ax_db *ax_db_unref(ax_db *db)
{
	if (db && atomic_fetch_sub(&db->refs, 1) == 1)
		db_destroy(db);
	return NULL;
}

const char *ax_db_path(const ax_db *db)
{
	return db ? db->path : "";
}

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

/* ---- storing ---- */

static int db_insert_reg(ax_db *db, int64_t model_id, int64_t ord, const struct ax_reg *r)
{
	sqlite3_stmt *st = NULL;
	struct db_bind b;
	int err;

	err = db_stmt(db, ST_REG_INSERT, &st);
	if (err < 0)
		return err;
	b = (struct db_bind){ st, SQLITE_OK };
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
	err = db_run(db, &b, "storing a register");

	for (size_t i = 0; err >= 0 && i < r->n_labels; i++) {
		err = db_stmt(db, ST_LABEL_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){ st, SQLITE_OK };
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, ord);
		bind_i64(&b, 3, (int64_t)i);
		bind_text(&b, 4, r->labels[i].lang);
		bind_text(&b, 5, r->labels[i].text);
		err = db_run(db, &b, "storing a label");
	}
	for (size_t i = 0; err >= 0 && i < r->n_enums; i++) {
		err = db_stmt(db, ST_ENUM_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){ st, SQLITE_OK };
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, ord);
		bind_i64(&b, 3, (int64_t)i);
		bind_i64(&b, 4, r->enums[i].value);
		bind_text(&b, 5, r->enums[i].label);
		err = db_run(db, &b, "storing an enum");
	}
	for (size_t i = 0; err >= 0 && i < r->n_bitfields; i++) {
		err = db_stmt(db, ST_BITFIELD_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){ st, SQLITE_OK };
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

static const char *nz(const char *s)
{
	return s ? s : "";
}

static int db_insert_model(ax_db *db, const ax_dict *d, const char *source_path,
			   int64_t source_id)
{
	const ax_dict_identity *id = &d->identity;
	sqlite3_stmt *st = NULL;
	struct db_bind b;
	int64_t model_id;
	int err, rc;

	err = db_stmt(db, ST_MODEL_INSERT, &st);
	if (err < 0)
		return err;
	b = (struct db_bind){ st, SQLITE_OK };
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
		err = db_error(db, rc, "storing a model");
	(void)sqlite3_reset(st);
	if (err < 0)
		return err;
	model_id = sqlite3_last_insert_rowid(db->sql);

	for (size_t i = 0; err >= 0 && i < d->n_regs; i++)
		err = db_insert_reg(db, model_id, (int64_t)i, &d->regs[i]);
	for (size_t i = 0; err >= 0 && i < d->n_categories; i++) {
		err = db_stmt(db, ST_CATEGORY_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){ st, SQLITE_OK };
		bind_i64(&b, 1, model_id);
		bind_i64(&b, 2, (int64_t)i);
		bind_text(&b, 3, d->categories[i].id);
		bind_text(&b, 4, d->categories[i].label);
		bind_text(&b, 5, d->categories[i].parent);
		err = db_run(db, &b, "storing a category");
	}
	for (size_t i = 0; err >= 0 && i < d->n_errors; i++) {
		err = db_stmt(db, ST_ERROR_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){ st, SQLITE_OK };
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

		err = db_stmt(db, ST_TABLE_INSERT, &st);
		if (err < 0)
			break;
		b = (struct db_bind){ st, SQLITE_OK };
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
	return err;
}

static int db_models_locked(ax_db *db, int64_t source_id, ax_db_model **out, size_t *n_out);
static void db_models_free(ax_db_model *models, size_t n);

/*
 * Caller holds db->lock. The body of ax__db_insert_dicts; with @models_out
 * it also lists the file's models as the import left them, before the
 * commit, so no other connection's change slips in between.
 */
static int db_insert_locked(ax_db *db, ax_dict *const *dicts, size_t n, const char *source_path,
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
	err = db_exec(db, "BEGIN IMMEDIATE", "starting an import");
	if (err < 0)
		return err;

	err = db_stmt(db, ST_SOURCE_GET, &st);
	if (err < 0)
		goto fail;
	rc = sqlite3_bind_text(st, 1, source_path, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		found = 1;
		source_id = sqlite3_column_int64(st, 0);
		/* A model since replaced by another file's import makes the file "changed". */
		unchanged = !strcmp(col_str(st, 1), sha256) &&
			    sqlite3_column_int64(st, 2) == (int64_t)n;
	} else if (rc != SQLITE_DONE) {
		err = db_error(db, rc, "looking up the source");
	}
	(void)sqlite3_reset(st);
	if (err < 0)
		goto fail;
	if (unchanged)
		goto done;

	if (found) {
		err = db_stmt(db, ST_MODELS_DELETE_SOURCE, &st);
		if (err < 0)
			goto fail;
		b = (struct db_bind){ st, SQLITE_OK };
		bind_i64(&b, 1, source_id);
		err = db_run(db, &b, "removing the file's earlier models");
		if (err < 0)
			goto fail;
		deleted += sqlite3_changes(db->sql);
	}
	for (size_t i = 0; i < n; i++) {
		const ax_dict_identity *id = &dicts[i]->identity;

		err = db_stmt(db, ST_MODEL_DELETE_KEY, &st);
		if (err < 0)
			goto fail;
		b = (struct db_bind){ st, SQLITE_OK };
		bind_i64(&b, 1, id->vendor_id);
		bind_i64(&b, 2, id->product_code);
		bind_i64(&b, 3, id->revision);
		bind_text(&b, 4, nz(id->interface));
		err = db_run(db, &b, "removing an earlier model");
		if (err < 0)
			goto fail;
		deleted += sqlite3_changes(db->sql);
	}

	err = db_stmt(db, found ? ST_SOURCE_UPDATE : ST_SOURCE_INSERT, &st);
	if (err < 0)
		goto fail;
	b = (struct db_bind){ st, SQLITE_OK };
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
	err = db_stmt(db, ST_SOURCE_PRUNE, &st);
	if (err < 0)
		goto fail;
	b = (struct db_bind){ st, SQLITE_OK };
	err = db_run(db, &b, "removing sources without models");
	if (err < 0)
		goto fail;
done:
	if (models_out) {
		err = db_models_locked(db, source_id, models_out, n_models_out);
		if (err < 0)
			goto fail;
	}
	err = db_exec(db, "COMMIT", "committing an import");
	if (err < 0) {
		if (models_out)
			db_models_free(*models_out, *n_models_out);
		goto fail;
	}
	if (replaced_out)
		*replaced_out = deleted > 0;
	return 0;
fail:
	(void)sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
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

/* ---- reading ---- */

static char *dup_or_null(const char *s, int *failed)
{
	char *c = strdup(s ? s : "");

	if (!c)
		*failed = 1;
	return c;
}

static void db_models_free(ax_db_model *models, size_t n)
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
static int db_model_list_new(ax_db_model_list **out, ax_db_model *models, size_t n)
{
	ax_db_model_list *list;

	if (n == 0) { /* an empty list is NULL */
		db_models_free(models, n);
		*out = NULL;
		return 0;
	}
	list = malloc(sizeof(*list));
	if (!list) {
		db_models_free(models, n);
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
	db_models_free(list->models, list->n);
	free(list);
}

/* A listed model's vendor, product, revision and format version, checked. */
static int db_model_ids(ax_db *db, sqlite3_stmt *st, int64_t row, ax_db_model *m)
{
	static const int cols[] = { 1, 2, 3, 11 };
	struct db_row where = { m->id, "models", row, NULL };
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
static int db_models_locked(ax_db *db, int64_t source_id, ax_db_model **out, size_t *n_out)
{
	ax_db_model *models = NULL, *m;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int err, rc, failed = 0;

	err = db_stmt(db, source_id > 0 ? ST_MODEL_LIST_SOURCE : ST_MODEL_LIST, &st);
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
		m->name = dup_or_null(col_text(st, 4), &failed);
		m->part_number = dup_or_null(col_text(st, 5), &failed);
		m->firmware_version = dup_or_null(col_text(st, 6), &failed);
		m->interface = dup_or_null(col_text(st, 7), &failed);
		m->family = dup_or_null(col_text(st, 8), &failed);
		m->source = dup_or_null(col_text(st, 9), &failed);
		m->sha256 = dup_or_null(col_text(st, 10), &failed);
		m->registers = (size_t)sqlite3_column_int64(st, 12);
		if (failed)
			break;
	}
	/* err < 0: a corrupt row, already said. */
	if (err >= 0 && failed)
		err = ax__error_oom();
	else if (err >= 0 && rc != SQLITE_DONE)
		err = db_error(db, rc, "listing models");
	(void)sqlite3_reset(st);
	if (err < 0) {
		db_models_free(models, n);
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
	err = db_models_locked(db, 0, &models, &n);
	pthread_mutex_unlock(&db->lock);
	if (err < 0)
		return err;
	if (n > INT_MAX) {
		db_models_free(models, n);
		return ax__error_set(AX_ETOOBIG, "'%s' holds more models than a list can count",
				     db->path);
	}
	err = db_model_list_new(out, models, n);
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
		err = db_error(db, rc, what);
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
	static const int col[] = { 0 };
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

	err = db_stmt(db, ST_REG_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	while (err >= 0 && db_next(st, &rc)) {
		/* ord, subnode, address, dtype, access */
		static const int cols[] = { 0, 2, 3, 4, 5 };
		const char *id = col_text(st, 1);
		struct db_row where = { model_id, "registers", (int64_t)d->n_regs, id };
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
		if (err >= 0 && col_text(st, 6))
			err = ax__dict_reg_set_str(r, &r->units, col_text(st, 6));
		if (err >= 0 && col_text(st, 7))
			err = ax__dict_reg_set_str(r, &r->cyclic, col_text(st, 7));
		if (err >= 0 && col_text(st, 8))
			err = ax__dict_reg_set_str(r, &r->address_type, col_text(st, 8));
		if (err >= 0 && col_text(st, 9))
			err = ax__dict_reg_set_str(r, &r->description, col_text(st, 9));
		if (err >= 0 && col_text(st, 10))
			err = ax__dict_reg_set_str(r, &r->category, col_text(st, 10));
		if (err >= 0 && col_text(st, 11))
			err = ax__dict_reg_set_str(r, &r->subcategory, col_text(st, 11));
		if (err >= 0 && col_text(st, 12) && col_text(st, 13))
			err = ax__dict_reg_set_range(r, col_text(st, 12), col_text(st, 13));
		if (err >= 0 && sqlite3_column_type(st, 14) != SQLITE_NULL) {
			const uint8_t *bytes = sqlite3_column_blob(st, 14);
			int len = sqlite3_column_bytes(st, 14);

			err = ax__dict_reg_set_default(r, bytes ? bytes : (const uint8_t *)"",
						       (size_t)len);
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

	err = db_stmt(db, ST_LABEL_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){ model_id, "labels", 0, NULL };
	     err >= 0 && db_next(st, &rc); where.row++) {
		err = db_row_reg(db, &where, d, st, &r);
		if (err >= 0)
			err = r ? ax__dict_reg_add_label(r, col_str(st, 1), col_str(st, 2))
				: db_corrupt(db, model_id, "labels");
	}
	err = db_rows_end(db, st, rc, err, "reading labels");
	if (err < 0)
		return err;

	err = db_stmt(db, ST_ENUM_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){ model_id, "enums", 0, NULL };
	     err >= 0 && db_next(st, &rc); where.row++) {
		static const int col[] = { 1 };
		int64_t value;

		err = db_row_reg(db, &where, d, st, &r);
		if (err >= 0)
			err = db_row_ints(db, &where, st, col, 1, &value);
		if (err >= 0)
			err = r ? ax__dict_reg_add_enum(r, value, col_str(st, 2))
				: db_corrupt(db, model_id, "enums");
	}
	err = db_rows_end(db, st, rc, err, "reading enums");
	if (err < 0)
		return err;

	err = db_stmt(db, ST_BITFIELD_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){ model_id, "bitfields", 0, NULL };
	     err >= 0 && db_next(st, &rc); where.row++) {
		static const int cols[] = { 2, 3 };
		int64_t bits[2]; /* start, end */

		err = db_row_reg(db, &where, d, st, &r);
		if (err >= 0)
			err = db_row_ints(db, &where, st, cols, 2, bits);
		if (err < 0)
			break;
		if (!r || bits[0] < 0 || bits[1] < bits[0] || bits[1] > 63)
			err = db_corrupt(db, model_id, "bitfields");
		else
			err = ax__dict_reg_add_bitfield(r, col_str(st, 1), (unsigned)bits[0],
							(unsigned)bits[1]);
	}
	return db_rows_end(db, st, rc, err, "reading bitfields");
}

static int db_load_model_children(ax_db *db, int64_t model_id, ax_dict *d)
{
	sqlite3_stmt *st = NULL;
	struct db_row where;
	int err, rc;

	err = db_stmt(db, ST_CATEGORY_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	while (err >= 0 && db_next(st, &rc))
		err = ax__dict_add_category(d, col_str(st, 0), col_str(st, 1), col_text(st, 2));
	err = db_rows_end(db, st, rc, err, "reading categories");
	if (err < 0)
		return err;

	err = db_stmt(db, ST_ERROR_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){ model_id, "errors", 0, NULL };
	     err >= 0 && db_next(st, &rc); where.row++) {
		static const int col[] = { 0 };
		int64_t code;

		err = db_row_ints(db, &where, st, col, 1, &code);
		if (err >= 0)
			err = code < 0 || code > UINT32_MAX
				      ? db_corrupt(db, model_id, "errors")
				      : ax__dict_add_error(d, (uint32_t)code, col_str(st, 1),
							   col_text(st, 2), col_text(st, 3));
	}
	err = db_rows_end(db, st, rc, err, "reading errors");
	if (err < 0)
		return err;

	/* Whether a table's registers exist is the seal's check, after this. */
	err = db_stmt(db, ST_TABLE_SELECT, &st);
	if (err < 0)
		return err;
	rc = sqlite3_bind_int64(st, 1, model_id);
	for (where = (struct db_row){ model_id, "dict_tables", 0, NULL };
	     err >= 0 && db_next(st, &rc); where.row++) {
		static const int col[] = { 1 };
		int null_axis = sqlite3_column_type(st, 1) == SQLITE_NULL;
		int64_t axis = -1;

		if (!null_axis)
			err = db_row_ints(db, &where, st, col, 1, &axis);
		if (err < 0)
			break;
		if (!col_text(st, 0) || !col_text(st, 2) || !col_text(st, 3) ||
		    (!null_axis && (axis < 0 || axis > UINT8_MAX)))
			err = db_corrupt(db, model_id, "dict_tables");
		else
			err = ax__dict_add_table(d, col_text(st, 0), (int)axis, col_text(st, 2),
						 col_text(st, 3));
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
	int err, rc;

	source = malloc(len);
	if (!source)
		return ax__error_oom();
	(void)snprintf(source, len, "db:%s#%" PRId64, db->path, model_id);
	d = ax__dict_new(source);
	free(source);
	if (!d)
		return AX_ENOMEM;

	err = db_stmt(db, ST_MODEL_GET, &st);
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
		err = ax__dict_set_identity(d, col_str(st, 4), col_str(st, 5), col_str(st, 6),
					    col_str(st, 7), col_str(st, 3));
	} else if (rc == SQLITE_DONE) {
		err = ax__error_set(AX_ENOTFOUND, "'%s' has no model %" PRId64, db->path,
				    model_id);
	} else {
		err = db_error(db, rc, "reading a model");
	}
	(void)sqlite3_reset(st);
	if (err >= 0)
		err = db_load_regs(db, model_id, d);
	/* Registers are all in place now, so pointers into d->regs stay valid. */
	if (err >= 0)
		err = db_load_reg_children(db, model_id, d);
	if (err >= 0)
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

/*
 * A model is read with several queries: one read transaction around them
 * keeps another connection's import from landing in between.
 */
static int db_read_begin(ax_db *db)
{
	return db_exec(db, "BEGIN", "starting a read");
}

static int db_read_end(ax_db *db, int err)
{
	int rc = sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK && err >= 0) {
		err = db_error(db, rc, "ending a read");
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
		return ax__error_set_class(AX_ERRCLASS_DICT, AX_EFORMAT,
				     "%s: model '%s' (product 0x%08" PRIX32 " rev 0x%08" PRIX32
				     ", %s) has no register to import (%zu skipped%s%s); nothing "
				     "was imported",
				     path, *nz(id->name) ? id->name : nz(id->part_number),
				     id->product_code, id->revision, nz(id->interface),
				     d->n_skipped, why ? ", first: " : "", why ? why : "");
	}
	return 0;
}

int ax_db_import(ax_db *db, const char *path, ax_ctx *ctx, ax_db_import_report **report_out)
{
	ax_db_import_report *rep = NULL;
	ax_db_model *models = NULL;
	ax_dict **dicts = NULL;
	size_t n = 0, n_models = 0, len = 0;
	char sha[65], *canon = NULL, *buf = NULL;
	int err, replaced = 0;

	AX_ASSERT_ARG(db);
	AX_ASSERT_ARG(path);
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
		err = ax__error_set(db_errno_code(errno), "cannot import '%s': %s", path,
				    strerror(errno));
		goto out;
	}
	err = ax__db_sha256_hex(buf, len, sha);
	if (err < 0)
		goto out;
	err = ax__xdf_load_buffer(&dicts, &n, path, buf, len, ctx);
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
		err = db_model_list_new((ax_db_model_list **)&rep->models, models, n_models);
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
	db_models_free(models, n_models);
	for (size_t i = 0; i < n; i++)
		ax_dict_unref(dicts[i]);
	ax_free(dicts);
	free(canon);
	free(buf);
	return err;
}

/* ---- resolving ---- */

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
static int64_t db_count_other_space(ax_db *db, uint32_t vendor_id, uint32_t product,
				    int addr_space)
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
static int db_pick_locked(ax_db *db, uint32_t vendor_id, uint32_t product_code,
			  uint32_t revision, int addr_space, struct ax__db_pick *pick)
{
	sqlite3_stmt *st = NULL;
	int err = 0, rc;

	err = db_stmt(db, ST_RESOLVE, &st);
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
		pick->model = db_describe(col_str(st, 2), col_str(st, 3), col_str(st, 4),
					  col_str(st, 5));
		if (!pick->model)
			err = ax__error_oom();
	} else if (rc != SQLITE_DONE) {
		err = db_error(db, rc, "resolving a drive identity");
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
	err = db_stmt(db, ST_DATA_VERSION, &st);
	if (err < 0)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		pick->data_version = sqlite3_column_int64(st, 0);
	else
		err = db_error(db, rc, "reading the data version");
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
	struct ax__db_pick pick = { .match = AX_MATCH_NONE };
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

char *ax__db_pick_reason(const struct ax__db_pick *pick, uint32_t vendor_id,
			 uint32_t product_code, uint32_t revision, int addr_space)
{
	return db_reason(pick->match, vendor_id, product_code, revision, addr_space,
			 pick->found_rev, pick->model ? pick->model : "");
}

int ax_db_resolve(ax_db *db, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
		  int addr_space, ax_dict **dict_out, int *match_out, char **reason_out)
{
	struct ax__db_pick pick = { .match = AX_MATCH_NONE };
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
