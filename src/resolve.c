/* SPDX-License-Identifier: MIT */
/*
 * Finding a drive's dictionary without being told where to look: the
 * database locations (AXLINK_DB, the user database, the installed one) and
 * ax_ctx_resolve(), which asks each of them and keeps the opened handles in
 * the context.
 *
 * Each location has a slot in the context. A slot follows its location's
 * path: when AXLINK_DB or XDG_DATA_HOME changes between calls, or another
 * file is renamed over the path, the old handle is dropped and the new file
 * opened. A file that does not exist is
 * looked for again on every call (an import may create it); a file that
 * exists but fails to open is logged once and then left alone until it
 * changes on disk (size, mtime or inode), so a broken database costs one
 * stat() per call, not one SQLite open and one warning.
 *
 * The context also keeps the dictionaries it loaded, sealed and shared:
 * one per (open handle, PRAGMA data_version, model id). A handle stands for
 * one file (another file at the path opens another handle, with a new
 * serial); data_version changes whenever another connection commits to
 * it, so an import is seen on the next call; and model ids are never
 * reused. Resolution compares every database's pick first and loads only
 * the winner, and only when the cache does not have it.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DB /* errors set here; see src/error.h */

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "axlink/db.h"
#include "ctx.h"
#include "db.h"

#define LOCATION_COUNT 3
#define DB_SUBPATH "axlink/devices.db"
#define USER_FALLBACK "/.local/share/" DB_SUBPATH
/* From the library's folder to the data folder, set by the build (e.g. "../share"). */
#ifndef AXLINK_LIB_TO_DATA
#define AXLINK_LIB_TO_DATA "../share"
#endif
#define INSTALLED_SUBPATH "/" AXLINK_LIB_TO_DATA "/" DB_SUBPATH
/* Dictionaries a context keeps at most; past this the oldest goes. */
#define DICT_CACHE_MAX 64
/* Picks made again when the chosen model is replaced before it could be loaded. */
#define RESOLVE_TRIES 3

/* What identifies a file's content well enough to know it changed. */
struct file_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct db_slot {
	char *path;              /* the path last looked at; NULL when never or none */
	struct ax_db *db;        /* open handle, or NULL */
	uint64_t serial;         /* names @db in the dictionary cache; new for each handle */
	int failed;              /* the file at @path failed to open as it was at @stamp */
	struct file_stamp stamp; /* the file @db was opened from, or that failed */
};

/* A dictionary loaded from the database open as @serial when it was at @data_version. */
struct dict_entry {
	uint64_t serial;
	int64_t data_version;
	int64_t model_id;
	ax_dict *dict; /* one reference, held by the cache */
};

struct ax__ctx_dbs {
	struct db_slot slots[LOCATION_COUNT]; /* indexed by ax_db_location */
	uint64_t next_serial;                 /* last serial handed to a slot */
	struct dict_entry *dicts;             /* oldest first, DICT_CACHE_MAX allocated */
	size_t n_dicts;
};

/* What one location gave for the current call. */
enum slot_state {
	SLOT_NONE, /* no path (AXLINK_DB unset, no HOME...) or the same file as an earlier slot */
	SLOT_MISSING, /* no file at the path */
	SLOT_BROKEN,  /* exists but does not open; skipped */
	SLOT_OPEN,    /* searched */
};

static void slot_clear(struct db_slot *s)
{
	s->db = ax_db_unref(s->db);
	free(s->path);
	s->path = NULL;
	s->failed = 0;
}

static void ctx_dbs_free(void *state)
{
	struct ax__ctx_dbs *dbs = state;

	if (!dbs)
		return;
	for (size_t i = 0; i < LOCATION_COUNT; i++)
		slot_clear(&dbs->slots[i]);
	for (size_t i = 0; i < dbs->n_dicts; i++)
		ax_dict_unref(dbs->dicts[i].dict);
	free(dbs->dicts);
	free(dbs);
}

/* The context's databases (its AX__CTX_DBS slot), or NULL before the first resolve. */
static struct ax__ctx_dbs *ctx_dbs(ax_ctx *ctx)
{
	return ctx->slots[AX__CTX_DBS].state;
}

/* ---- locations ---- */

static int join_path(char **out, const char *dir, size_t dir_len, const char *tail)
{
	size_t len = dir_len + strlen(tail) + 1;
	char *s = malloc(len);

	if (!s)
		return ax__error_oom();
	(void)snprintf(s, len, "%.*s%s", (int)dir_len, dir, tail);
	*out = s;
	return 0;
}

/* Length of @dir without trailing slashes, keeping a lone "/" as the root ("" + tail). */
static size_t trim_slashes(const char *dir)
{
	size_t len = strlen(dir);

	while (len > 0 && dir[len - 1] == '/')
		len--;
	return len;
}

/* Something inside libaxlink whose address dladdr() can map back to the file. */
static const char resolve_anchor;

/*
 * Fold "." and ".." in an absolute path, in place, lexically. Safe here
 * because the folder part came from realpath(): no symbolic links remain.
 */
static void fold_dots(char *path)
{
	char *w = path, *r = path;

	while (*r) {
		while (*r == '/')
			r++;
		if (r[0] == '.' && (r[1] == '/' || !r[1])) {
			r++;
		} else if (r[0] == '.' && r[1] == '.' && (r[2] == '/' || !r[2])) {
			r += 2;
			while (w > path && *--w != '/')
				;
		} else if (*r) {
			*w++ = '/';
			while (*r && *r != '/')
				*w++ = *r++;
		}
	}
	if (w == path)
		*w++ = '/';
	*w = '\0';
}

static int installed_path(char **out)
{
	Dl_info info;
	char real[PATH_MAX];
	char *slash;
	int err;

	if (!dladdr(&resolve_anchor, &info) || !info.dli_fname)
		return ax__error_set(
		        AX_ENOTFOUND,
		        "cannot locate libaxlink on disk: no installed device database");
	if (!realpath(info.dli_fname, real))
		return ax__error_set(AX_ENOTFOUND, "cannot locate libaxlink on disk ('%s': %s)",
		                     info.dli_fname, strerror(errno));
	/* realpath() resolved every link: the library's folder, then the build's relative path. */
	slash = strrchr(real, '/');
	if (!slash)
		return ax__error_set(AX_ENOTFOUND, "libaxlink path '%s' is not absolute",
		                     info.dli_fname);
	*slash = '\0';
	err = join_path(out, real, strlen(real), INSTALLED_SUBPATH);
	if (err == 0)
		fold_dots(*out);
	return err;
}

int ax_db_location_path(int location, char **out)
{
	const char *env;

	AX_ASSERT_ARG(out);
	switch (location) {
	case AX_DB_LOCATION_ENV:
		env = getenv("AXLINK_DB");
		if (!env || !*env)
			return ax__error_set(AX_ENOTFOUND, "AXLINK_DB is not set");
		return join_path(out, env, strlen(env), "");
	case AX_DB_LOCATION_USER:
		/* XDG: a relative XDG_DATA_HOME is invalid and must be ignored. */
		env = getenv("XDG_DATA_HOME");
		if (env && env[0] == '/')
			return join_path(out, env, trim_slashes(env), "/" DB_SUBPATH);
		env = getenv("HOME");
		if (!env || !*env)
			return ax__error_set(
			        AX_ENOTFOUND,
			        "no user device database: neither XDG_DATA_HOME (absolute) "
			        "nor HOME is set");
		return join_path(out, env, trim_slashes(env), USER_FALLBACK);
	case AX_DB_LOCATION_INSTALLED:
		return installed_path(out);
	default:
		return ax__error_set(AX_EINVAL, "unknown device database location %d", location);
	}
}

/* ---- the context's slots ---- */

static int stamp_equal(const struct file_stamp *a, const struct file_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void stamp_of(struct file_stamp *s, const struct stat *st)
{
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtime = st->st_mtim;
}

/*
 * Bring slot @s up to date with @path (NULL: the location has none) and say
 * what it gives this call. Caller holds the context's database slot lock. *db_out gets a
 * reference when the slot is open. A file that fails to open leaves its
 * message in @warn (empty otherwise): logged by the caller, unlocked.
 * Returns 0 or AX_ENOMEM (a failure that is not the file's fault).
 */
static int slot_update(struct db_slot *s, uint64_t *next_serial, char *path, struct ax_db **db_out,
                       enum slot_state *state, char *warn, size_t warn_cap)
{
	struct file_stamp now;
	struct stat st;
	struct ax_db *db = NULL;
	int err;

	warn[0] = '\0';
	*db_out = NULL;
	if (!path) {
		slot_clear(s);
		*state = SLOT_NONE;
		return 0;
	}
	if (!s->path || strcmp(s->path, path)) {
		char *copy = strdup(path);

		if (!copy)
			return ax__error_oom();
		slot_clear(s);
		s->path = copy;
	}
	if (stat(path, &st) < 0) {
		/* Not there (yet, or any more): look again next time. */
		s->db = ax_db_unref(s->db);
		s->failed = 0;
		*state = SLOT_MISSING;
		return 0;
	}
	stamp_of(&now, &st);
	if (s->db && s->stamp.dev == now.dev && s->stamp.ino == now.ino) {
		/* The same file; SQLite sees what was written to it since. */
		*db_out = ax_db_ref(s->db);
		*state = SLOT_OPEN;
		return 0;
	}
	/* Another file now (an import that renames its result into place): open that. */
	s->db = ax_db_unref(s->db);
	if (s->failed && stamp_equal(&s->stamp, &now)) {
		*state = SLOT_BROKEN;
		return 0;
	}
	err = ax_db_open(&db, path, AX_DB_READONLY);
	if (err == AX_ENOMEM)
		return err;
	if (err == AX_ENOTFOUND) { /* removed between stat() and open */
		s->failed = 0;
		*state = SLOT_MISSING;
		return 0;
	}
	if (err < 0) {
		(void)snprintf(warn, warn_cap, "%s", ax_error_last());
		s->failed = 1;
		s->stamp = now;
		*state = SLOT_BROKEN;
		return 0;
	}
	s->failed = 0;
	s->stamp = now;
	s->db = db;
	s->serial = ++*next_serial;
	*db_out = ax_db_ref(db);
	*state = SLOT_OPEN;
	return 0;
}

/*
 * A database that opened but failed a query is treated as one that failed
 * to open: closed, and not tried again until the file changes.
 */
static void slot_mark_failed(ax_ctx *ctx, size_t loc, struct ax_db *db)
{
	struct db_slot *s;
	struct stat st;

	pthread_mutex_lock(&ctx->slots[AX__CTX_DBS].lock);
	s = ctx_dbs(ctx) ? &ctx_dbs(ctx)->slots[loc] : NULL;
	if (s && s->db == db && stat(s->path, &st) == 0) {
		s->db = ax_db_unref(s->db);
		s->failed = 1;
		stamp_of(&s->stamp, &st);
	}
	pthread_mutex_unlock(&ctx->slots[AX__CTX_DBS].lock);
}

/* ---- the reason line ---- */

struct text {
	char *s;
	size_t len, cap;
	int oom;
};

static void text_add(struct text *t, const char *fmt, ...) AX__PRINTF(2, 3);

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->oom = 1;
		return;
	}
	if (t->len + (size_t)n + 1 > t->cap) {
		size_t cap = (t->len + (size_t)n + 1) * 2;
		char *s = realloc(t->s, cap);

		if (!s) {
			t->oom = 1;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
	va_start(ap, fmt);
	(void)vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* "'a', 'b'" for the locations in state @want; returns how many there were. */
static size_t text_add_paths(struct text *t, const char *label, char *const *paths,
                             const enum slot_state *states, enum slot_state want, size_t groups)
{
	size_t n = 0;

	for (size_t i = 0; i < LOCATION_COUNT; i++) {
		if (states[i] != want)
			continue;
		if (n++ == 0)
			text_add(t, "%s%s '%s'", groups ? "; " : "", label, paths[i]);
		else
			text_add(t, ", '%s'", paths[i]);
	}
	return n;
}

/*
 * Reason when nothing matched: what a database said (they all say the same
 * thing about an identity) or that there was none, then where we looked.
 */
static char *none_reason(const char *db_reason, uint32_t product_code, uint32_t revision,
                         char *const *paths, const enum slot_state *states)
{
	struct text t = {0};
	size_t groups = 0;

	if (db_reason)
		text_add(&t, "%s", db_reason);
	else
		text_add(&t, "product 0x%08" PRIx32 " rev 0x%08" PRIx32 ": no device database",
		         product_code, revision);
	text_add(&t, " (");
	groups += text_add_paths(&t, "searched", paths, states, SLOT_OPEN, groups);
	groups += text_add_paths(&t, "skipped broken", paths, states, SLOT_BROKEN, groups);
	groups += text_add_paths(&t, "not found:", paths, states, SLOT_MISSING, groups);
	if (!groups)
		text_add(&t, "AXLINK_DB unset, no HOME, libaxlink's folder unknown");
	text_add(&t, ")");
	if (t.oom) {
		free(t.s);
		return NULL;
	}
	return t.s;
}

/* ---- resolving ---- */

/* Lower is better; AX_MATCH_NONE never wins. */
static int match_rank(int match)
{
	switch (match) {
	case AX_MATCH_EXACT:
		return 0;
	case AX_MATCH_LOWER_REVISION:
		return 1;
	case AX_MATCH_ANY_REVISION:
		return 2;
	default:
		return 3;
	}
}

/*
 * Open what can be opened; references to the open ones go to @dbs, their
 * cache serials to @serials. Warnings logged.
 */
static int ctx_open_dbs(ax_ctx *ctx, char *const *paths, struct ax_db **dbs, uint64_t *serials,
                        enum slot_state *states)
{
	char warn[LOCATION_COUNT][512];
	int err = 0;

	pthread_mutex_lock(&ctx->slots[AX__CTX_DBS].lock);
	if (!ctx_dbs(ctx)) {
		ctx->slots[AX__CTX_DBS].state = calloc(1, sizeof(struct ax__ctx_dbs));
		ctx->slots[AX__CTX_DBS].free = ctx_dbs_free;
		if (!ctx_dbs(ctx))
			err = ax__error_oom();
	}
	for (size_t i = 0; i < LOCATION_COUNT && err >= 0; i++) {
		char *path = paths[i];

		/* AXLINK_DB naming the user database is one database, searched once. */
		for (size_t j = 0; j < i && path; j++)
			if (paths[j] && !strcmp(paths[j], path))
				path = NULL;
		err = slot_update(&ctx_dbs(ctx)->slots[i], &ctx_dbs(ctx)->next_serial, path,
		                  &dbs[i], &states[i], warn[i], sizeof(warn[i]));
		serials[i] = ctx_dbs(ctx)->slots[i].serial;
	}
	pthread_mutex_unlock(&ctx->slots[AX__CTX_DBS].lock);
	if (err < 0)
		return err;
	for (size_t i = 0; i < LOCATION_COUNT; i++)
		if (warn[i][0])
			AX_LOG_WARN(ctx, "db", "device database '%s': %s, ignoring", paths[i],
			            warn[i]);
	return 0;
}

/* ---- the dictionary cache (caller holds the context's database slot lock) ---- */

static ax_dict *cache_find(struct ax__ctx_dbs *dbs, uint64_t serial, int64_t data_version,
                           int64_t model_id)
{
	for (size_t i = 0; i < dbs->n_dicts; i++) {
		struct dict_entry *e = &dbs->dicts[i];

		if (e->serial == serial && e->data_version == data_version &&
		    e->model_id == model_id)
			return e->dict;
	}
	return NULL;
}

static int cache_entry_current(const struct ax__ctx_dbs *dbs, const struct dict_entry *e,
                               uint64_t serial, int64_t data_version)
{
	if (e->serial == serial)
		return e->data_version == data_version;
	for (size_t i = 0; i < LOCATION_COUNT; i++)
		if (dbs->slots[i].db && dbs->slots[i].serial == e->serial)
			return 1;
	return 0;
}

/*
 * Keep @dict (the cache takes its own reference). Entries of a database
 * that changed since (@serial now at @data_version) or that is closed are
 * dropped: nobody asks for them again. Drives that hold them keep them.
 */
static int cache_put(struct ax__ctx_dbs *dbs, uint64_t serial, int64_t data_version,
                     int64_t model_id, ax_dict *dict)
{
	size_t w = 0;

	for (size_t i = 0; i < dbs->n_dicts; i++) {
		if (cache_entry_current(dbs, &dbs->dicts[i], serial, data_version))
			dbs->dicts[w++] = dbs->dicts[i];
		else
			ax_dict_unref(dbs->dicts[i].dict);
	}
	dbs->n_dicts = w;
	if (dbs->n_dicts == DICT_CACHE_MAX) {
		ax_dict_unref(dbs->dicts[0].dict);
		memmove(dbs->dicts, dbs->dicts + 1, --dbs->n_dicts * sizeof(*dbs->dicts));
	}
	if (!dbs->dicts) {
		dbs->dicts = malloc(DICT_CACHE_MAX * sizeof(*dbs->dicts));
		if (!dbs->dicts)
			return ax__error_oom();
	}
	dbs->dicts[dbs->n_dicts++] =
	        (struct dict_entry){serial, data_version, model_id, ax_dict_ref(dict)};
	return 0;
}

/*
 * The dictionary of @pick in database @i: the cached one, or loaded now
 * and cached. AX_ENOTFOUND when the model went between pick and load.
 */
static int ctx_dict_get(ax_ctx *ctx, struct ax_db *db, uint64_t serial,
                        const struct ax__db_pick *pick, ax_dict **out)
{
	ax_dict *dict, *other;
	int err;

	pthread_mutex_lock(&ctx->slots[AX__CTX_DBS].lock);
	dict = ax_dict_ref(cache_find(ctx_dbs(ctx), serial, pick->data_version, pick->model_id));
	pthread_mutex_unlock(&ctx->slots[AX__CTX_DBS].lock);
	if (dict) {
		*out = dict;
		return 0;
	}
	/* Load without the lock: reading a large model takes a while. */
	err = ax_db_load(db, pick->model_id, &dict);
	if (err < 0)
		return err;
	AX_LOG_DEBUG(ctx, "db", "loaded model %" PRId64 " from '%s': %zu registers", pick->model_id,
	             ax_db_path(db), ax_dict_reg_count(dict));
	pthread_mutex_lock(&ctx->slots[AX__CTX_DBS].lock);
	/* Another thread may have loaded it meanwhile: share one. */
	other = cache_find(ctx_dbs(ctx), serial, pick->data_version, pick->model_id);
	if (other) {
		ax_dict_unref(dict);
		dict = ax_dict_ref(other);
	} else {
		err = cache_put(ctx_dbs(ctx), serial, pick->data_version, pick->model_id, dict);
	}
	pthread_mutex_unlock(&ctx->slots[AX__CTX_DBS].lock);
	if (err < 0) {
		ax_dict_unref(dict);
		return err;
	}
	*out = dict;
	return 0;
}

/*
 * Ask every open database for its pick; the best goes to @best (index in
 * @best_loc), the first miss's reason to *none_reason. Databases whose
 * query fails are logged and marked broken.
 */
static int ctx_pick(ax_ctx *ctx, char *const *paths, struct ax_db *const *dbs,
                    enum slot_state *states, uint32_t vendor_id, uint32_t product_code,
                    uint32_t revision, int addr_space, struct ax__db_pick *best, size_t *best_loc,
                    char **none_reason)
{
	for (size_t i = 0; i < LOCATION_COUNT && match_rank(best->match) > 0; i++) {
		struct ax__db_pick pick;
		int err;

		if (!dbs[i])
			continue;
		err = ax__db_pick(dbs[i], vendor_id, product_code, revision, addr_space, &pick);
		if (err == AX_ENOMEM || err == AX_EINVAL)
			return err;
		if (err < 0) {
			AX_LOG_WARN(ctx, "db", "device database '%s': %s, ignoring", paths[i],
			            ax_error_last());
			slot_mark_failed(ctx, i, dbs[i]);
			states[i] = SLOT_BROKEN;
			continue;
		}
		/* Strictly better only: on a tie the earlier database keeps it. */
		if (match_rank(pick.match) < match_rank(best->match)) {
			ax__db_pick_clear(best);
			*best = pick;
			*best_loc = i;
			continue;
		}
		if (pick.match == AX_MATCH_NONE && !*none_reason) {
			*none_reason = ax__db_pick_reason(&pick, vendor_id, product_code, revision,
			                                  addr_space);
			if (!*none_reason) {
				ax__db_pick_clear(&pick);
				return ax__error_oom();
			}
		}
		ax__db_pick_clear(&pick);
	}
	return 0;
}

int ax_ctx_resolve(ax_ctx *ctx, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
                   int addr_space, ax_dict **dict_out, int *match_out, char **reason_out)
{
	char *paths[LOCATION_COUNT] = {NULL};
	struct ax_db *dbs[LOCATION_COUNT] = {NULL};
	uint64_t serials[LOCATION_COUNT] = {0};
	enum slot_state states[LOCATION_COUNT] = {SLOT_NONE, SLOT_NONE, SLOT_NONE};
	struct ax__db_pick best = {.match = AX_MATCH_NONE};
	ax_dict *dict = NULL;
	char *none_db_reason = NULL, *reason = NULL;
	size_t best_loc = 0;
	int err = 0;

	AX_ASSERT_ARG(ctx);
	AX_ASSERT_ARG(dict_out);
	AX_ASSERT_ARG(match_out);
	if (addr_space != AX_ADDR_MCB && addr_space != AX_ADDR_CANOPEN)
		return ax__error_set(AX_EINVAL,
		                     "unknown address space %d (expected AX_ADDR_MCB %d or "
		                     "AX_ADDR_CANOPEN %d)",
		                     addr_space, AX_ADDR_MCB, AX_ADDR_CANOPEN);

	for (size_t i = 0; i < LOCATION_COUNT && err >= 0; i++) {
		err = ax_db_location_path((int)i, &paths[i]);
		if (err == AX_ENOTFOUND)
			err = 0;
	}
	if (err >= 0)
		err = ctx_open_dbs(ctx, paths, dbs, serials, states);
	for (int tries = 0; err >= 0 && tries < RESOLVE_TRIES; tries++) {
		ax__db_pick_clear(&best);
		free(none_db_reason);
		none_db_reason = NULL;
		err = ctx_pick(ctx, paths, dbs, states, vendor_id, product_code, revision,
		               addr_space, &best, &best_loc, &none_db_reason);
		if (err < 0 || best.match == AX_MATCH_NONE)
			break;
		err = ctx_dict_get(ctx, dbs[best_loc], serials[best_loc], &best, &dict);
		if (err != AX_ENOTFOUND)
			break;
		/* Replaced by an import since the pick: pick again. */
		AX_LOG_DEBUG(ctx, "db",
		             "model %" PRId64 " of '%s' went before it was read, "
		             "picking again",
		             best.model_id, paths[best_loc]);
		err = 0;
	}
	if (err < 0)
		goto out;
	if (best.match != AX_MATCH_NONE && !dict) {
		err = ax__error_set(AX_EBUSY,
		                    "device database '%s' kept changing while product "
		                    "0x%08" PRIx32 " was read",
		                    paths[best_loc], product_code);
		goto out;
	}

	if (reason_out) {
		if (dict) {
			char *why = ax__db_pick_reason(&best, vendor_id, product_code, revision,
			                               addr_space);
			struct text t = {0};

			if (why)
				text_add(&t, "%s (from %s)", why, paths[best_loc]);
			free(why);
			reason = why && !t.oom ? t.s : NULL;
			if (!reason)
				free(t.s);
		} else {
			reason = none_reason(none_db_reason, product_code, revision, paths, states);
		}
		if (!reason) {
			err = ax__error_oom();
			goto out;
		}
	}
	AX_LOG_DEBUG(ctx, "db", "resolved product 0x%08" PRIx32 " rev 0x%08" PRIx32 ": %s%s%s",
	             product_code, revision, ax_match_name(best.match), dict ? " from " : "",
	             dict ? paths[best_loc] : "");
	/*
	 * A location without a path or a database skipped is in the log and
	 * the reason, not an error of this call.
	 */
	ax_error_clear();
	*dict_out = dict;
	*match_out = dict ? best.match : AX_MATCH_NONE;
	if (reason_out)
		*reason_out = reason;
	dict = NULL;
	reason = NULL;
out:
	ax_dict_unref(dict);
	free(reason);
	ax__db_pick_clear(&best);
	free(none_db_reason);
	for (size_t i = 0; i < LOCATION_COUNT; i++) {
		ax_db_unref(dbs[i]);
		free(paths[i]);
	}
	return err;
}
