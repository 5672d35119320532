/* SPDX-License-Identifier: MIT */
/*
 * The plugin loader: finds axlink-transport-*.so files, checks each
 * descriptor against the ABI rule, and records every outcome in the
 * context's load report. Nothing a plugin file does can end the process
 * short of crashing in its own entry function.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_PLUGIN /* errors set here; see src/error.h */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

/* Smallest descriptor and ops table a 1.0 plugin can have. */
#define DESC_MIN_SIZE (offsetof(ax_transport_desc, ops) + sizeof(void *))
#define OPS_MIN_SIZE (offsetof(ax_transport_ops, write) + sizeof(void *))
#define DESC_VERSION_END (offsetof(ax_transport_desc, abi_minor) + sizeof(uint16_t))

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/*
 * Append a row to the report. Returns the code matching @status (0 for
 * loaded) with the message set as the thread's last error.
 */
static int report_add(ax_ctx *ctx, const char *path, const ax_transport_desc *d, int status,
		      const char *fmt, ...) AX__PRINTF(5, 6);

static int report_add(ax_ctx *ctx, const char *path, const ax_transport_desc *d, int status,
		      const char *fmt, ...)
{
	static const int status_code[] = {
		[AX_PLUGIN_LOADED] = 0,
		[AX_PLUGIN_REFUSED_ABI] = AX_EABI,
		[AX_PLUGIN_NO_ENTRY] = AX_ENOTFOUND,
		[AX_PLUGIN_DLOPEN_ERROR] = AX_EIO,
		[AX_PLUGIN_SHADOWED] = AX_EBUSY,
		[AX_PLUGIN_INVALID] = AX_EINVAL,
	};
	struct plugin_row *rows, *r;
	char msg[1024] = "";
	va_list ap;
	int code = status_code[status];

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	rows = realloc(ctx->rows, (ctx->n_rows + 1) * sizeof(*rows));
	if (!rows)
		return ax__error_oom();
	ctx->rows = rows;
	r = &rows[ctx->n_rows];
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->path = strdup(path);
	r->message = strdup(msg);
	if (d) {
		r->abi_major = d->abi_major;
		r->abi_minor = d->abi_minor;
	}
	/*
	 * Only trust the strings of a descriptor whose layout we know: one that
	 * passed its checks, or a newer minor of our major (fields only grow).
	 */
	if (d && (status == AX_PLUGIN_LOADED || status == AX_PLUGIN_SHADOWED ||
		  (status == AX_PLUGIN_REFUSED_ABI && d->abi_major == AX_PLUGIN_ABI_MAJOR &&
		   d->size >= DESC_MIN_SIZE))) {
		r->scheme = dup_or_empty(d->scheme);
		r->name = dup_or_empty(d->name);
		r->version = dup_or_empty(d->version);
		r->description = dup_or_empty(d->description);
	} else {
		r->scheme = strdup("");
		r->name = strdup("");
		r->version = strdup("");
		r->description = strdup("");
	}
	if (!r->path || !r->message || !r->scheme || !r->name || !r->version || !r->description) {
		free(r->path);
		free(r->message);
		free(r->scheme);
		free(r->name);
		free(r->version);
		free(r->description);
		return ax__error_oom();
	}
	ctx->n_rows++;

	if (status == AX_PLUGIN_LOADED) {
		AX_LOG_DEBUG(ctx, "loader", "loaded '%s' (scheme '%s')", path, d->scheme);
		return 0;
	}
	if (status == AX_PLUGIN_SHADOWED)
		AX_LOG_INFO(ctx, "loader", "'%s': %s", path, msg);
	else
		AX_LOG_WARN(ctx, "loader", "'%s' not loaded (%s): %s", path,
			    ax_plugin_status_name(status), msg);
	return ax__error_set(code, "plugin '%s' %s: %s", path, ax_plugin_status_name(status), msg);
}

static int scheme_valid(const char *s)
{
	if (!s || !((*s >= 'a' && *s <= 'z')))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '+' ||
		      *s == '-' || *s == '.'))
			return 0;
	return 1;
}

void ax__plugin_free(struct ax_plugin *p)
{
	if (!p)
		return;
	if (p->dl)
		dlclose(p->dl);
	free(p->path);
	free(p);
}

static int dl_flags(void)
{
#ifdef AXLINK_SANITIZE
	/* Keep unloaded plugins mapped so leak reports can still name their symbols. */
	return RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE;
#else
	return RTLD_NOW | RTLD_LOCAL;
#endif
}

int ax__loader_load_file(ax_ctx *ctx, const char *path)
{
	struct ax_plugin *p = NULL, **grown;
	const ax_transport_desc *d;
	ax_transport_entry_fn entry;
	void *dl;
	int err;

	dl = dlopen(path, dl_flags());
	if (!dl) {
		const char *why = dlerror();

		return report_add(ctx, path, NULL, AX_PLUGIN_DLOPEN_ERROR, "dlopen: %s",
				  why ? why : "unknown error");
	}
	*(void **)(&entry) = dlsym(dl, AX_PLUGIN_ENTRY_NAME);
	if (!entry) {
		dlclose(dl);
		return report_add(ctx, path, NULL, AX_PLUGIN_NO_ENTRY,
				  "no exported symbol '%s'", AX_PLUGIN_ENTRY_NAME);
	}
	d = entry();
	if (!d) {
		err = report_add(ctx, path, NULL, AX_PLUGIN_INVALID, "%s() returned NULL",
				 AX_PLUGIN_ENTRY_NAME);
		goto fail;
	}
	if (d->size < DESC_VERSION_END) {
		err = report_add(ctx, path, NULL, AX_PLUGIN_INVALID,
				 "descriptor size %u is too small to hold its ABI version",
				 (unsigned)d->size);
		goto fail;
	}
	if (d->abi_major != AX_PLUGIN_ABI_MAJOR || d->abi_minor > AX_PLUGIN_ABI_MINOR) {
		err = report_add(ctx, path, d, AX_PLUGIN_REFUSED_ABI,
				 "plugin ABI %u.%u, library ABI %u.%u (needs the same major and a "
				 "minor not newer)",
				 d->abi_major, d->abi_minor, AX_PLUGIN_ABI_MAJOR, AX_PLUGIN_ABI_MINOR);
		goto fail;
	}
	if (d->size < DESC_MIN_SIZE) {
		err = report_add(ctx, path, d, AX_PLUGIN_INVALID,
				 "descriptor size %u is smaller than ABI %u.0 needs (%zu)",
				 (unsigned)d->size, AX_PLUGIN_ABI_MAJOR, DESC_MIN_SIZE);
		goto fail;
	}

	p = calloc(1, sizeof(*p));
	if (!p) {
		err = ax__error_oom();
		goto fail;
	}
	/* Read only what the plugin's sizes cover; newer fields stay zero (= absent). */
	memcpy(&p->desc, d, d->size < sizeof(p->desc) ? d->size : sizeof(p->desc));
	if (!scheme_valid(p->desc.scheme)) {
		err = report_add(ctx, path, &p->desc, AX_PLUGIN_INVALID,
				 "scheme '%s' is not [a-z][a-z0-9+.-]*",
				 p->desc.scheme ? p->desc.scheme : "(null)");
		goto fail;
	}
	if (!p->desc.ops || p->desc.ops->size < OPS_MIN_SIZE) {
		err = report_add(ctx, path, &p->desc, AX_PLUGIN_INVALID,
				 "scheme '%s': ops table %s", p->desc.scheme,
				 p->desc.ops ? "is smaller than ABI 1.0 needs" : "is missing");
		goto fail;
	}
	memcpy(&p->ops, p->desc.ops,
	       p->desc.ops->size < sizeof(p->ops) ? p->desc.ops->size : sizeof(p->ops));
	if (!p->ops.open || !p->ops.close || !p->ops.read || !p->ops.write) {
		err = report_add(ctx, path, &p->desc, AX_PLUGIN_INVALID,
				 "scheme '%s': a required op (open, close, read, write) is NULL",
				 p->desc.scheme);
		goto fail;
	}
	for (size_t i = 0; i < ctx->n_plugins; i++) {
		if (!strcmp(ctx->plugins[i]->desc.scheme, p->desc.scheme)) {
			err = report_add(ctx, path, &p->desc, AX_PLUGIN_SHADOWED,
					 "scheme '%s' is already served by '%s'", p->desc.scheme,
					 ctx->plugins[i]->path);
			goto fail;
		}
	}

	grown = realloc(ctx->plugins, (ctx->n_plugins + 1) * sizeof(*grown));
	p->path = strdup(path);
	if (!grown || !p->path) {
		if (grown)
			ctx->plugins = grown;
		err = ax__error_oom();
		goto fail;
	}
	ctx->plugins = grown;
	p->ctx = ctx;
	p->dl = dl;
	ax__host_init(&p->host, p);
	err = report_add(ctx, path, &p->desc, AX_PLUGIN_LOADED, "%s", "");
	if (err < 0) {
		p->dl = NULL;
		goto fail;
	}
	ctx->plugins[ctx->n_plugins++] = p;
	return 0;

fail:
	if (p)
		free(p->path);
	free(p);
	dlclose(dl);
	return err;
}

static int is_plugin_name(const char *name)
{
	size_t n = strlen(name), pre = strlen(AX_PLUGIN_FILE_PREFIX),
	       suf = strlen(AX_PLUGIN_FILE_SUFFIX);

	return n > pre + suf && !strncmp(name, AX_PLUGIN_FILE_PREFIX, pre) &&
	       !strcmp(name + n - suf, AX_PLUGIN_FILE_SUFFIX);
}

static int plugin_filter(const struct dirent *e)
{
	return is_plugin_name(e->d_name);
}

int ax__loader_load_dir(ax_ctx *ctx, const char *dir, int missing_is_error)
{
	struct dirent **list = NULL;
	char real[PATH_MAX], path[PATH_MAX];
	char **dirs;
	int n, loaded = 0;

	if (!realpath(dir, real)) {
		int e = errno;

		if (missing_is_error)
			return ax__error_set(AX_ENOTFOUND, "plugin folder '%s': %s", dir,
					     strerror(e));
		AX_LOG_DEBUG(ctx, "loader", "plugin folder '%s': %s, skipping", dir, strerror(e));
		return 0;
	}
	/* The same folder reached twice (say, AXLINK_PLUGIN_PATH naming the default) loads once. */
	for (size_t i = 0; i < ctx->n_dirs; i++) {
		if (!strcmp(ctx->dirs[i], real)) {
			AX_LOG_DEBUG(ctx, "loader", "plugin folder '%s' already scanned", real);
			return 0;
		}
	}
	n = scandir(real, &list, plugin_filter, alphasort);
	if (n < 0) {
		int e = errno;

		if (missing_is_error)
			return ax__error_set(e == EACCES ? AX_EACCESS : AX_ENOTFOUND,
					     "plugin folder '%s': %s", dir, strerror(e));
		AX_LOG_WARN(ctx, "loader", "plugin folder '%s': %s, ignoring", dir, strerror(e));
		return 0;
	}
	dirs = realloc(ctx->dirs, (ctx->n_dirs + 1) * sizeof(*dirs));
	if (dirs) {
		ctx->dirs = dirs;
		ctx->dirs[ctx->n_dirs] = strdup(real);
		if (ctx->dirs[ctx->n_dirs])
			ctx->n_dirs++;
	}
	AX_LOG_DEBUG(ctx, "loader", "scanning '%s': %d candidate(s)", real, n);
	for (int i = 0; i < n; i++) {
		int len = snprintf(path, sizeof(path), "%s/%s", real, list[i]->d_name);

		if (len > 0 && (size_t)len < sizeof(path) && ax__loader_load_file(ctx, path) == 0)
			loaded++;
		free(list[i]);
	}
	free(list);
	ax_error_clear(); /* individual failures live in the report */
	return loaded;
}

/* Any object inside libaxlink will do for dladdr(); a function pointer is not an object pointer. */
static const char loader_anchor;

char *ax__loader_default_dir(void)
{
	Dl_info info;
	char real[PATH_MAX];
	char *slash, *dir;
	size_t len;

	if (!dladdr(&loader_anchor, &info) || !info.dli_fname)
		return NULL;
	if (!realpath(info.dli_fname, real))
		return NULL;
	slash = strrchr(real, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	len = strlen(real) + 1 + strlen(AXLINK_PLUGIN_DIRNAME) + 1;
	dir = malloc(len);
	if (dir)
		(void)snprintf(dir, len, "%s/%s", real, AXLINK_PLUGIN_DIRNAME);
	return dir;
}
