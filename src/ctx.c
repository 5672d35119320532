/* SPDX-License-Identifier: MIT */
/*
 * The library context: creation, reference counting, the plugin search
 * order and the load report.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_PLUGIN /* errors set here; see src/error.h */

#include <stdlib.h>
#include <string.h>

#include "ctx.h"

static void ctx_destroy(ax_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_plugins; i++)
		ax__plugin_free(ctx->plugins[i]);
	free(ctx->plugins);
	for (size_t i = 0; i < ctx->n_rows; i++) {
		struct plugin_row *r = &ctx->rows[i];

		free(r->path);
		free(r->scheme);
		free(r->name);
		free(r->version);
		free(r->description);
		free(r->message);
	}
	free(ctx->rows);
	for (size_t i = 0; i < ctx->n_dirs; i++)
		free(ctx->dirs[i]);
	free(ctx->dirs);
	for (size_t i = 0; i < AX__CTX_NSLOTS; i++) {
		if (ctx->slots[i].state && ctx->slots[i].free)
			ctx->slots[i].free(ctx->slots[i].state);
		pthread_mutex_destroy(&ctx->slots[i].lock);
	}
	pthread_mutex_destroy(&ctx->lock);
	pthread_mutex_destroy(&ctx->log_lock);
	free(ctx);
}

/* Load each folder of a ':'-separated list; empty entries are skipped. */
static void ctx_load_path_list(ax_ctx *ctx, const char *list)
{
	char *copy = strdup(list);
	char *p, *next;

	if (!copy)
		return;
	for (p = copy; p; p = next) {
		next = strchr(p, ':');
		if (next)
			*next++ = '\0';
		if (*p)
			(void)ax__loader_load_dir(ctx, p, 0);
	}
	free(copy);
}

int ax_ctx_new(ax_ctx **out, const ax_ctx_options *opts)
{
	static const ax_ctx_options defaults = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx;
	const char *env;

	AX_ASSERT_ARG(out);
	AX_CHECK_VERSION(opts, AX_CTX_OPTIONS_VERSION, "ax_ctx_options");
	if (!opts)
		opts = &defaults;
	if (opts->timeout_ms < 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "ax_ctx_options.timeout_ms %d is negative",
		                           opts->timeout_ms);

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return ax__error_oom();
	atomic_init(&ctx->refs, 1);
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_init(&ctx->log_lock, NULL);
	for (size_t i = 0; i < AX__CTX_NSLOTS; i++)
		pthread_mutex_init(&ctx->slots[i].lock, NULL);
	atomic_init(&ctx->log_level,
	            (opts->flags & AX_CTX_NO_ENV_LOG) ? AX_LOG_WARN : ax__log_level_from_env());
	ctx->timeout_ms = opts->timeout_ms;

	/* Search order, DESIGN §3: API folders, AXLINK_PLUGIN_PATH, beside the library. */
	ax__ctx_lock(ctx);
	for (const char *const *dir = opts->plugin_paths; dir && *dir; dir++)
		(void)ax__loader_load_dir(ctx, *dir, 0);
	env = getenv("AXLINK_PLUGIN_PATH");
	if (!(opts->flags & AX_CTX_NO_ENV_PATHS) && env)
		ctx_load_path_list(ctx, env);
	if (!(opts->flags & AX_CTX_NO_DEFAULT_PATHS)) {
		char *dir = ax__loader_default_dir();

		if (dir)
			(void)ax__loader_load_dir(ctx, dir, AX__LOADER_BUILTIN);
		else
			AX_LOG_AT(ctx, AX_LOG_WARN, "core",
			          "cannot locate libaxlink on disk; no default plugin folder");
		free(dir);
	}
	ax__ctx_unlock(ctx);
	ax_error_clear(); /* a folder that failed is in the report and the log, not an error */

	AX_LOG_DEBUG(ctx, "core", "context ready: %zu plugin(s) loaded, %zu in the report",
	             ctx->n_plugins, ctx->n_rows);
	*out = ctx;
	return 0;
}

ax_ctx *ax_ctx_ref(ax_ctx *ctx)
{
	if (ctx)
		atomic_fetch_add(&ctx->refs, 1);
	return ctx;
}

ax_ctx *ax_ctx_unref(ax_ctx *ctx)
{
	if (ctx && atomic_fetch_sub(&ctx->refs, 1) == 1)
		ctx_destroy(ctx);
	return NULL;
}

int ax_ctx_add_plugin_dir(ax_ctx *ctx, const char *dir)
{
	int n;

	AX_ASSERT_ARG(ctx);
	AX_ASSERT_ARG(dir);
	ax__ctx_lock(ctx);
	n = ax__loader_load_dir(ctx, dir, AX__LOADER_MISSING_IS_ERROR);
	ax__ctx_unlock(ctx);
	return n;
}

int ax_ctx_load_plugin(ax_ctx *ctx, const char *path)
{
	int err;

	AX_ASSERT_ARG(ctx);
	AX_ASSERT_ARG(path);
	ax__ctx_lock(ctx);
	err = ax__loader_load_file(ctx, path);
	ax__ctx_unlock(ctx);
	return err;
}

size_t ax_ctx_plugin_count(ax_ctx *ctx)
{
	size_t n;

	if (!ctx)
		return 0;
	ax__ctx_lock(ctx);
	n = ctx->n_rows;
	ax__ctx_unlock(ctx);
	return n;
}

int ax_ctx_plugin_record(ax_ctx *ctx, size_t index, ax_plugin_record *out)
{
	ax_plugin_record rec = {.size = sizeof(rec)};
	int err = 0;

	AX_ASSERT_ARG(ctx);
	AX_ASSERT_ARG(out);
	AX_CHECK_SIZE(out, AX__SIZE_THROUGH(ax_plugin_record, flags), "ax_plugin_record");
	ax__ctx_lock(ctx);
	if (index >= ctx->n_rows) {
		err = ax__error_set(AX_ENOTFOUND, "load report has %zu row(s), no row %zu",
		                    ctx->n_rows, index);
	} else {
		const struct plugin_row *r = &ctx->rows[index];

		rec.path = r->path;
		rec.scheme = r->scheme;
		rec.name = r->name;
		rec.version = r->version;
		rec.description = r->description;
		rec.abi_major = r->abi_major;
		rec.abi_minor = r->abi_minor;
		rec.status = r->status;
		rec.message = r->message;
		rec.flags = r->flags;
		ax__sized_copy(out, &rec, sizeof(rec));
	}
	ax__ctx_unlock(ctx);
	return err;
}

const char *ax_plugin_status_name(int status)
{
	static const char *const names[] = {"loaded",       "refused-abi", "no-entry-symbol",
	                                    "dlopen-error", "shadowed",    "invalid",
	                                    "untrusted"};

	if (status < 0 || (size_t)status >= AX__ARRAY_SIZE(names))
		return NULL;
	return names[status];
}

int ax__ctx_find_plugin(ax_ctx *ctx, const char *scheme, struct ax_plugin **out)
{
	struct ax_plugin *found = NULL;

	ax__ctx_lock(ctx);
	for (size_t i = 0; i < ctx->n_plugins && !found; i++)
		if (!strcmp(ctx->plugins[i]->desc.scheme, scheme))
			found = ctx->plugins[i];
	ax__ctx_unlock(ctx);
	if (!found) {
		return ax__error_set(AX_ENOTFOUND,
		                     "no transport plugin for scheme '%s' (see 'axlink plugins')",
		                     scheme);
	}
	*out = found;
	return 0;
}
