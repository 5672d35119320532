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
#include "host.h"
#include "log.h"

/* One loaded plugin. Immutable after loading; owned by its context. */
struct ax_plugin {
	ax_ctx *ctx; /* borrowed: the context owns us */
	void *dl;    /* dlopen handle */
	char *path;
	ax_transport_desc desc;    /* the plugin's descriptor, fields past its size zeroed */
	ax_transport_ops ops;      /* likewise for the ops table */
	struct ax__host_core core; /* what its host table knows of it */
	ax_host host;              /* the host table handed to this plugin; host.core = &core */
	int builtin;               /* loaded from the folder beside the library */
};

struct plugin_row {
	char *path, *scheme, *name, *version, *description, *message;
	unsigned int abi_major, abi_minor;
	int status;
	unsigned int flags; /* AX_PLUGIN_FLAG_* */
};

/*
 * State another module keeps per context (the drive registry in drive.c,
 * the device databases and sealed dictionaries in resolve.c): created by
 * that module on first use, opaque here, freed with the context through
 * the hook the module set. The lock is the module's, guarding `state`.
 */
struct ax__ctx_slot {
	pthread_mutex_t lock;
	void *state;
	void (*free)(void *state);
};

enum ax__ctx_slot_id {
	AX__CTX_DRIVES, /* drive.c: open drives by normalised URI */
	AX__CTX_DBS,    /* resolve.c: device databases and the dictionary cache */
	AX__CTX_NSLOTS
};

struct ax_ctx {
	atomic_int refs;
	pthread_mutex_t lock;       /* guards the registry: plugins, rows, dirs */
	struct ax_plugin **plugins; /* loaded plugins, in load order */
	size_t n_plugins;
	struct plugin_row *rows; /* the load report */
	size_t n_rows;
	char **dirs; /* real paths of folders already scanned */
	size_t n_dirs;
	atomic_int log_level;
	pthread_mutex_t log_lock; /* guards log_cb and log_userdata */
	ax_log_cb log_cb;
	void *log_userdata;
	int timeout_ms;
	struct ax__ctx_slot slots[AX__CTX_NSLOTS];
};

/* Take ctx->lock with log lines held until ax__ctx_unlock() (log.h). */
void ax__ctx_lock(ax_ctx *ctx);
/* Release ctx->lock, then emit the lines logged under it, in order. */
void ax__ctx_unlock(ax_ctx *ctx);

/* ax__loader_load_dir() flags. */
#define AX__LOADER_MISSING_IS_ERROR 0x1u /* a folder that cannot be read is an error */
#define AX__LOADER_BUILTIN 0x2u          /* the folder beside the library */

/* Loader (loader.c). Caller holds ctx->lock (ax__ctx_lock()) for both. */
int ax__loader_load_file(ax_ctx *ctx, const char *path);
int ax__loader_load_dir(ax_ctx *ctx, const char *dir, unsigned int flags);
void ax__plugin_free(struct ax_plugin *p);

/* Folder of the plugins installed beside libaxlink; malloc'ed, NULL if unknown. */
char *ax__loader_default_dir(void);

/* The plugin serving @scheme, or NULL (AX_ENOTFOUND set). Takes ctx->lock. */
int ax__ctx_find_plugin(ax_ctx *ctx, const char *scheme, struct ax_plugin **out);

#endif
