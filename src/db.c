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
 *
 * This file opens and closes a database and owns its schema and its SQL,
 * with the helpers the other db files share (src/db.h): db_store.c stores
 * dictionaries (import), db_load.c loads, lists and resolves them,
 * db_image.c turns a model's dictionary into one record and back.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DB /* errors set here; see src/error.h */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "error.h"

/* Listing order only: MCB interfaces first. Resolution filters on addr_space instead. */
#define DB_IFACE_RANK "CASE upper(m.interface) WHEN 'ETH' THEN 0 WHEN 'EOE' THEN 1 ELSE 2 END"

#define DB_MODEL_COLUMNS                                                                           \
	"m.id, m.vendor, m.product, m.revision, m.name, m.part_number, m.firmware_version, "       \
	"m.interface, m.family, s.path, s.sha256, m.format_version, "                              \
	"(SELECT count(*) FROM registers r WHERE r.model_id = m.id) "                              \
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
        [ST_MODEL_IMAGE_SET] = "UPDATE models SET image = ?2 WHERE id = ?1",
        [ST_REG_INSERT] = "INSERT INTO registers (model_id, ord, id, subnode, address, dtype, "
                          "access, units, cyclic, address_type, description, category, "
                          "subcategory, range_min, range_max, default_value, mon_address, "
                          "mon_subnode) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                          "?12, ?13, ?14, ?15, ?16, ?17, ?18)",
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
                         "interface, family, format_version, addr_space, axes, image "
                         "FROM models WHERE id = ?1",
        [ST_REG_SELECT] = "SELECT ord, id, subnode, address, dtype, access, units, cyclic, "
                          "address_type, description, category, subcategory, range_min, "
                          "range_max, default_value, mon_address, mon_subnode FROM registers "
                          "WHERE model_id = ?1 "
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
 * A model's image stands for its rows only while they are as it was
 * written from: any change to a row of the model (a hand edit, another
 * tool) drops the image, so loading reads the rows and checks them.
 * Our own imports write the rows first and the image after them.
 */
#define DB_IMAGE_TRIGGERS(t)                                                                       \
	"CREATE TRIGGER " t "_insert_drops_image AFTER INSERT ON " t " BEGIN "                     \
	"UPDATE models SET image = NULL WHERE id = NEW.model_id AND image IS NOT NULL; END;"       \
	"CREATE TRIGGER " t "_update_drops_image AFTER UPDATE ON " t " BEGIN "                     \
	"UPDATE models SET image = NULL WHERE id IN (OLD.model_id, NEW.model_id) "                 \
	"AND image IS NOT NULL; END;"                                                              \
	"CREATE TRIGGER " t "_delete_drops_image AFTER DELETE ON " t " BEGIN "                     \
	"UPDATE models SET image = NULL WHERE id = OLD.model_id AND image IS NOT NULL; END;"

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
        /*
         * 2 -> 3: where monitoring reaches a register (ax_reg_monitoring():
         * XDF MonDistV3, or the version 2 rule), both NULL when it cannot be
         * monitored. Models imported before keep NULL until imported again.
         */
        "ALTER TABLE registers ADD COLUMN mon_address INTEGER;"
        "ALTER TABLE registers ADD COLUMN mon_subnode INTEGER;",
        /*
         * 3 -> 4: the model's whole dictionary as one record (db_image.c),
         * what loading reads instead of the rows while they are unchanged
         * (DB_IMAGE_TRIGGERS). db_migrate writes it for the models stored
         * before, from their rows.
         */
        "ALTER TABLE models ADD COLUMN image BLOB;" DB_IMAGE_TRIGGERS("registers")
                DB_IMAGE_TRIGGERS("labels") DB_IMAGE_TRIGGERS("enums")
                        DB_IMAGE_TRIGGERS("bitfields") DB_IMAGE_TRIGGERS("categories")
                                DB_IMAGE_TRIGGERS("errors") DB_IMAGE_TRIGGERS("dict_tables"),
};

/* Map an SQLite result to our codes; the message names the file and what we were doing. */
int ax__db_error(ax_db *db, int rc, const char *what)
{
	const char *msg = db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc);
	int code;

	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return ax__error_oom();
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return ax__error_set(AX_ECORRUPT,
		                     "'%s' is not an SQLite database or is corrupt (%s)", db->path,
		                     msg);
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

int ax__db_errno_code(int e)
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

int ax__db_stmt(ax_db *db, enum ax__db_stmt_id id, sqlite3_stmt **out)
{
	sqlite3_stmt *st = db->stmts[id];
	int rc;

	if (!st) {
		rc = sqlite3_prepare_v3(db->sql, db_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
		                        NULL);
		if (rc != SQLITE_OK)
			return ax__db_error(db, rc, "preparing a query");
		db->stmts[id] = st;
	} else {
		(void)sqlite3_reset(st);
		(void)sqlite3_clear_bindings(st);
	}
	*out = st;
	return 0;
}

int ax__db_exec(ax_db *db, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : ax__db_error(db, rc, what);
}

const char *ax__db_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

const char *ax__db_col_str(sqlite3_stmt *st, int i)
{
	const char *s = ax__db_col_text(st, i);

	return s ? s : "";
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
		err = ax__db_error(db, rc, "reading the schema");
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

	err = ax__db_exec(db, "BEGIN IMMEDIATE", "starting the schema update");
	if (err < 0)
		return err;
	/* Read again inside the write lock: another process may have just done it. */
	err = db_header_read(db, &h);
	if (err >= 0)
		err = db_header_check(db, &h);
	/* err is 1 (update needed) until a step fails; each step returns 0. */
	for (int64_t v = h.version; err > 0 && v < AX__DB_SCHEMA_VERSION; v++) {
		err = ax__db_exec(db, db_migrations[v], "creating the schema");
		if (err == 0)
			err = 1;
	}
	/* Models stored before images existed get theirs, in the same transaction. */
	if (err > 0 && h.version > 0 && h.version < 4)
		err = ax__db_images_fill(db);
	if (err >= 0) {
		(void)snprintf(pragmas, sizeof(pragmas),
		               "PRAGMA application_id = %d; PRAGMA user_version = %d",
		               AX__DB_APPLICATION_ID, AX__DB_SCHEMA_VERSION);
		err = ax__db_exec(db, pragmas, "writing the schema version");
	}
	if (err >= 0)
		err = ax__db_exec(db, "COMMIT", "committing the schema");
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
				err = ax__error_set(ax__db_errno_code(errno),
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
		err = ax__error_set(ax__db_errno_code(errno), "cannot create '%s': %s", path,
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
			return ax__error_set(ax__db_errno_code(errno), "'%s': %s", path,
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
			err = ax__error_set(ax__db_errno_code(e), "cannot %s '%s': %s",
			                    exists ? "open" : "create", path, strerror(e));
		else
			err = ax__db_error(db, rc, exists ? "opening" : "creating");
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
	err = ax__db_exec(db, "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF",
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
