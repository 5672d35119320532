/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_CTX_H
#define AXLINK_SRC_CTX_H

/*
 * Internal view of the context: the plugin registry and the log sink.
 *
 * Lifetimes: a context owns its plugins and frees (dlcloses) them when it
 * goes. Links hold a reference on the context, so a plugin outlives every
 * endpoint opened through it whatever order the caller releases things in.
 */

#include <pthread.h>
#include <stdatomic.h>

#include "axlink/ctx.h"
#include "axlink/plugin.h"
#include "error.h"

/* One loaded plugin. Immutable after loading; owned by its context. */
struct ax_plugin {
	ax_ctx *ctx;              /* borrowed: the context owns us */
	void *dl;                 /* dlopen handle */
	char *path;
	ax_transport_desc desc;   /* the plugin's descriptor, fields past its size zeroed */
	ax_transport_ops ops;     /* likewise for the ops table */
	ax_host host;             /* the host table handed to this plugin; host.core = this */
	int builtin;              /* loaded from the folder beside the library */
};

struct plugin_row {
	char *path, *scheme, *name, *version, *description, *message;
	unsigned int abi_major, abi_minor;
	int status;
	unsigned int flags;         /* AX_PLUGIN_FLAG_* */
};

/* A log line formatted under a library lock, emitted once it is released. */
struct ax__log_line {
	int level;
	const char *origin;         /* a string literal */
	char *msg;
};

struct ax_ctx {
	atomic_int refs;
	pthread_mutex_t lock;       /* guards the registry: plugins, rows, dirs */
	struct ax_plugin **plugins; /* loaded plugins, in load order */
	size_t n_plugins;
	struct plugin_row *rows;    /* the load report */
	size_t n_rows;
	char **dirs;                /* real paths of folders already scanned */
	size_t n_dirs;
	struct ax__log_line *deferred; /* logged by ax__ctx_unlock(), never under the lock */
	size_t n_deferred;
	atomic_int log_level;
	pthread_mutex_t log_lock;   /* guards log_cb and log_userdata */
	ax_log_cb log_cb;
	void *log_userdata;
	int timeout_ms;
	/*
	 * Device databases searched by ax_ctx_resolve(), opened on first use
	 * (resolve.c). A lock of their own: a slow SQLite open must not hold up
	 * link opens on the plugin registry.
	 */
	pthread_mutex_t drives_lock; /* guards drives, n_drives and every drive's last unref */
	struct ax_drive **drives;    /* open drives by URI (borrowed: each removes itself) */
	size_t n_drives;
	pthread_mutex_t db_lock;    /* guards dbs */
	struct ax__ctx_dbs *dbs;    /* NULL until the first resolve */
};

/* Logging with the level tested before formatting. */
int ax__log_enabled(ax_ctx *ctx, int level);
void ax__log(ax_ctx *ctx, int level, const char *origin, const char *fmt, ...) AX__PRINTF(4, 5);
void ax__vlog(ax_ctx *ctx, int level, const char *origin, const char *fmt, va_list ap)
	AX__PRINTF(4, 0);
/* Initial level from AXLINK_LOG, or WARN. */
int ax__log_level_from_env(void);

#define AX_LOG_AT(ctx, lvl, origin, ...)                                                       \
	do {                                                                                   \
		if (ax__log_enabled((ctx), (lvl)))                                             \
			ax__log((ctx), (lvl), (origin), __VA_ARGS__);                          \
	} while (0)
#define AX_LOG_ERROR(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_ERROR, origin, __VA_ARGS__)
#define AX_LOG_WARN(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_WARN, origin, __VA_ARGS__)
#define AX_LOG_INFO(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_INFO, origin, __VA_ARGS__)
#define AX_LOG_DEBUG(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_DEBUG, origin, __VA_ARGS__)
#define AX_LOG_TRACE(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_TRACE, origin, __VA_ARGS__)

/*
 * Logging with ctx->lock held: log.h promises callbacks never run under a
 * library lock (a callback may well call back into the context), so the
 * line is queued on the context and emitted by ax__ctx_unlock().
 */
void ax__log_defer(ax_ctx *ctx, int level, const char *origin, const char *fmt, ...)
	AX__PRINTF(4, 5);
#define AX_LOG_DEFER(ctx, lvl, origin, ...)                                                    \
	do {                                                                                   \
		if (ax__log_enabled((ctx), (lvl)))                                             \
			ax__log_defer((ctx), (lvl), (origin), __VA_ARGS__);                    \
	} while (0)
/* Release ctx->lock, then emit the lines queued under it, in order. */
void ax__ctx_unlock(ax_ctx *ctx);

/* ax__loader_load_dir() flags. */
#define AX__LOADER_MISSING_IS_ERROR 0x1u /* a folder that cannot be read is an error */
#define AX__LOADER_BUILTIN 0x2u          /* the folder beside the library */

/*
 * Loader (loader.c). Caller holds ctx->lock for both and releases it with
 * ax__ctx_unlock(): the loader only queues its log lines.
 */
int ax__loader_load_file(ax_ctx *ctx, const char *path);
int ax__loader_load_dir(ax_ctx *ctx, const char *dir, unsigned int flags);
void ax__plugin_free(struct ax_plugin *p);

/* Folder of the plugins installed beside libaxlink; malloc'ed, NULL if unknown. */
char *ax__loader_default_dir(void);

/* Fill the host table of a plugin (host.c). */
void ax__host_init(ax_host *host, struct ax_plugin *plugin);

/* Close the context's device databases and free their state (resolve.c); accepts NULL. */
void ax__ctx_dbs_free(struct ax__ctx_dbs *dbs);

/* The plugin serving @scheme, or NULL (AX_ENOTFOUND set). Takes ctx->lock. */
int ax__ctx_find_plugin(ax_ctx *ctx, const char *scheme, struct ax_plugin **out);

#endif
