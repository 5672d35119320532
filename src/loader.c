/* SPDX-License-Identifier: MIT */
/*
 * The plugin loader: finds axlink-transport-*.so files, checks who may
 * have written them, checks each descriptor against the ABI rule and
 * against the plugin's own loaded image, and records every outcome in the
 * context's load report. Nothing a plugin file does can end the process
 * short of crashing in its own entry function.
 *
 * Everything here runs with ctx->lock held, so log lines are queued
 * (held, log.h) and emitted by the caller's ax__ctx_unlock().
 */
#define AX__ERROR_CLASS AX_ERRCLASS_PLUGIN /* errors set here; see src/error.h */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
 * Append a row to the report. @abi (or NULL) gives the ABI version, @text
 * (or NULL) the strings: only pass a descriptor whose strings were checked
 * to lie in the plugin's image. Returns the code matching @status (0 for
 * loaded) with the message set as the thread's last error.
 */
static int report_add(ax_ctx *ctx, const char *path, const ax_transport_desc *abi,
                      const ax_transport_desc *text, int status, const char *fmt, ...)
        AX__PRINTF(6, 7);

static int report_add(ax_ctx *ctx, const char *path, const ax_transport_desc *abi,
                      const ax_transport_desc *text, int status, const char *fmt, ...)
{
	static const int status_code[] = {
	        [AX_PLUGIN_LOADED] = 0,
	        [AX_PLUGIN_REFUSED_ABI] = AX_EABI,
	        [AX_PLUGIN_NO_ENTRY] = AX_ENOTFOUND,
	        [AX_PLUGIN_DLOPEN_ERROR] = AX_EIO,
	        [AX_PLUGIN_SHADOWED] = AX_EBUSY,
	        [AX_PLUGIN_INVALID] = AX_EINVAL,
	        [AX_PLUGIN_UNTRUSTED] = AX_EACCESS,
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
	if (abi) {
		r->abi_major = abi->abi_major;
		r->abi_minor = abi->abi_minor;
	}
	r->scheme = dup_or_empty(text ? text->scheme : NULL);
	r->name = dup_or_empty(text ? text->name : NULL);
	r->version = dup_or_empty(text ? text->version : NULL);
	r->description = dup_or_empty(text ? text->description : NULL);
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
		AX_LOG_AT(ctx, AX_LOG_DEBUG, "loader", "loaded '%s' (scheme '%s')", path,
		          r->scheme);
		return 0;
	}
	if (status == AX_PLUGIN_SHADOWED)
		AX_LOG_AT(ctx, AX_LOG_INFO, "loader", "'%s': %s", path, msg);
	else
		AX_LOG_AT(ctx, AX_LOG_WARN, "loader", "'%s' not loaded (%s): %s", path,
		          ax_plugin_status_name(status), msg);
	return ax__error_set(code, "plugin '%s' %s: %s", path, ax_plugin_status_name(status), msg);
}

/* ----- the plugin's loaded image -------------------------------------------------------- */

#define IMAGE_MAX_SEGMENTS 16

/* The PT_LOAD segments of one loaded object, as mapped. */
struct image {
	uintptr_t base;   /* load bias (link_map l_addr) */
	const char *name; /* link_map l_name */
	int found;
	size_t n;
	struct segment {
		uintptr_t lo, hi; /* [lo, hi) */
		unsigned flags;   /* PF_R, PF_W, PF_X */
	} seg[IMAGE_MAX_SEGMENTS];
};

static int image_collect(struct dl_phdr_info *info, size_t size, void *data)
{
	struct image *img = data;

	(void)size;
	if (info->dlpi_addr != img->base || !info->dlpi_name || strcmp(info->dlpi_name, img->name))
		return 0;
	for (size_t i = 0; i < info->dlpi_phnum && img->n < IMAGE_MAX_SEGMENTS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		img->seg[img->n].lo = info->dlpi_addr + ph->p_vaddr;
		img->seg[img->n].hi = img->seg[img->n].lo + ph->p_memsz;
		img->seg[img->n].flags = ph->p_flags;
		img->n++;
	}
	img->found = 1;
	return 1;
}

/* The segments of the object @dl names itself (not of its dependencies). */
static int image_of(void *dl, struct image *img)
{
	struct link_map *lm = NULL;

	memset(img, 0, sizeof(*img));
	if (dlinfo(dl, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
		return -1;
	img->base = lm->l_addr;
	img->name = lm->l_name ? lm->l_name : "";
	(void)dl_iterate_phdr(image_collect, img);
	return img->found && img->n ? 0 : -1;
}

/* The segment holding @addr with every bit of @flags, or NULL. Never reads @addr. */
static const struct segment *image_segment(const struct image *img, uintptr_t addr, unsigned flags)
{
	for (size_t i = 0; i < img->n; i++)
		if (addr >= img->seg[i].lo && addr < img->seg[i].hi &&
		    (img->seg[i].flags & flags) == flags)
			return &img->seg[i];
	return NULL;
}

/* True when the @len bytes at @p are readable memory of the image. */
static int image_holds(const struct image *img, const void *p, size_t len)
{
	const struct segment *s = image_segment(img, (uintptr_t)p, PF_R);

	return s && len <= s->hi - (uintptr_t)p;
}

/* True when @s is a string ending inside a readable segment of the image. */
static int image_holds_str(const struct image *img, const char *s)
{
	const struct segment *seg = image_segment(img, (uintptr_t)s, PF_R);

	return seg && memchr(s, '\0', seg->hi - (uintptr_t)s) != NULL;
}

/* True when @fn is code of the image. */
static int image_holds_code(const struct image *img, uintptr_t fn)
{
	return image_segment(img, fn, PF_X) != NULL;
}

/* The first string field of @d that is neither NULL nor in the image, or NULL. */
static const char *desc_bad_string(const struct image *img, const ax_transport_desc *d)
{
	const struct {
		const char *field, *value;
	} f[] = {
	        {"scheme", d->scheme},           {"name", d->name},       {"version", d->version},
	        {"description", d->description}, {"license", d->license},
	};

	for (size_t i = 0; i < AX__ARRAY_SIZE(f); i++)
		if (f[i].value && !image_holds_str(img, f[i].value))
			return f[i].field;
	return NULL;
}

/* Longest options table believed; a longer one has lost its terminator. */
#define OPTIONS_MAX 1024

/* 0 when the options table of @d lies in the image, else -1 with @why filled. */
static int desc_check_options(const struct image *img, const ax_transport_desc *d, char *why,
                              size_t cap)
{
	const ax_option_desc *o = d->options;

	if (!o)
		return 0;
	for (size_t i = 0; i < OPTIONS_MAX; i++, o++) {
		if (!image_holds(img, o, sizeof(*o))) {
			(void)snprintf(why, cap, "options entry %zu lies outside the plugin", i);
			return -1;
		}
		if (!o->name)
			return 0;
		if (!image_holds_str(img, o->name) || (o->def && !image_holds_str(img, o->def)) ||
		    (o->help && !image_holds_str(img, o->help))) {
			(void)snprintf(why, cap,
			               "a string of options entry %zu lies outside the "
			               "plugin",
			               i);
			return -1;
		}
	}
	(void)snprintf(why, cap, "options table has no end within %d entries", OPTIONS_MAX);
	return -1;
}

/* The first op of @ops that is set but not code of the image, or NULL. */
static const char *ops_bad_function(const struct image *img, const ax_transport_ops *ops)
{
	const struct {
		const char *name;
		uintptr_t fn;
	} f[] = {
	        {"open", (uintptr_t)ops->open},
	        {"close", (uintptr_t)ops->close},
	        {"read", (uintptr_t)ops->read},
	        {"write", (uintptr_t)ops->write},
	        {"cancel", (uintptr_t)ops->cancel},
	        {"scan", (uintptr_t)ops->scan},
	        {"monitor", (uintptr_t)ops->monitor},
	        {"submit_read", (uintptr_t)ops->submit_read},
	        {"pollfd", (uintptr_t)ops->pollfd},
	        {"complete_read", (uintptr_t)ops->complete_read},
	        {"abandon", (uintptr_t)ops->abandon},
	};

	for (size_t i = 0; i < AX__ARRAY_SIZE(f); i++)
		if (f[i].fn && !image_holds_code(img, f[i].fn))
			return f[i].name;
	return NULL;
}

/* ----- who may have written the plugin ---------------------------------------------------- */

/*
 * Why a folder (@is_dir) or plugin file with status @st at @path cannot be
 * trusted, in @why; 0 when it can. Anyone who can write the file, or the
 * folder holding it, can run code in every process that loads it.
 */
static int trust_check(const struct stat *st, int is_dir, const char *path, char *why, size_t cap)
{
	uid_t me = geteuid();

	if (is_dir && (st->st_mode & S_IWOTH)) {
		(void)snprintf(why, cap,
		               "folder '%s' is writable by anyone (mode %04o); fix with "
		               "'chmod o-w %s' or move the plugins to a folder only you can write",
		               path, (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	if (!is_dir && (st->st_mode & (S_IWGRP | S_IWOTH))) {
		(void)snprintf(why, cap,
		               "'%s' is writable by %s (mode %04o); fix with "
		               "'chmod go-w %s'",
		               path, (st->st_mode & S_IWOTH) ? "anyone" : "its group",
		               (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != me) {
		(void)snprintf(why, cap,
		               "%s '%s' is owned by uid %u, neither root nor you (uid %u);"
		               " fix with 'chown %u %s', or remove it",
		               is_dir ? "folder" : "file", path, (unsigned)st->st_uid, (unsigned)me,
		               (unsigned)me, path);
		return -1;
	}
	return 0;
}

/* The folder holding @path, checked like a plugin folder; 0 when trusted or unknown. */
static int trust_check_parent(const char *path, char *why, size_t cap)
{
	char real[PATH_MAX];
	char *slash;
	struct stat st;

	if (!realpath(path, real))
		return 0; /* dlopen() says why it cannot open it */
	slash = strrchr(real, '/');
	if (!slash)
		return 0;
	if (slash == real)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(real, &st) < 0)
		return 0;
	return trust_check(&st, 1, real, why, cap);
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

/*
 * The winner @w of a scheme that the built-in plugin at @builtin_path also
 * serves: flag its row and say so at warning level, since a plugin folder
 * earlier in the search order now replaces a transport of the library.
 */
static void report_override(ax_ctx *ctx, const struct ax_plugin *w, const char *builtin_path)
{
	for (size_t i = 0; i < ctx->n_rows; i++) {
		struct plugin_row *r = &ctx->rows[i];
		char *msg;
		int len;

		if (r->status != AX_PLUGIN_LOADED || strcmp(r->path, w->path) ||
		    (r->flags & AX_PLUGIN_FLAG_OVERRIDES_BUILTIN))
			continue;
		r->flags |= AX_PLUGIN_FLAG_OVERRIDES_BUILTIN;
		len = snprintf(NULL, 0, "overrides the built-in '%s' transport '%s'",
		               w->desc.scheme, builtin_path);
		msg = len > 0 ? malloc((size_t)len + 1) : NULL;
		if (msg) {
			(void)snprintf(msg, (size_t)len + 1,
			               "overrides the built-in '%s' transport '%s'", w->desc.scheme,
			               builtin_path);
			free(r->message);
			r->message = msg;
		}
		break;
	}
	AX_LOG_AT(ctx, AX_LOG_WARN, "loader",
	          "'%s' overrides the built-in '%s' transport '%s'; if that is not meant, "
	          "remove it from the plugin search path",
	          w->path, w->desc.scheme, builtin_path);
}

static int load_file(ax_ctx *ctx, const char *path, int builtin)
{
	struct ax_plugin *p = NULL, **grown;
	const ax_transport_desc *d;
	const char *bad;
	ax_transport_entry_fn entry;
	struct image img;
	struct stat st;
	char why[PATH_MAX + 256];
	void *dl;
	int err, text_ok;

	/*
	 * Before anything opens it: dlopen() of a FIFO blocks until a writer
	 * comes, and a file others may write is code others choose. A file
	 * that cannot be stat()ed goes on to dlopen(), which says why.
	 */
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return report_add(ctx, path, NULL, NULL, AX_PLUGIN_INVALID,
			                  "not a regular file (%s); not opened",
			                  S_ISFIFO(st.st_mode)  ? "a FIFO"
			                  : S_ISDIR(st.st_mode) ? "a folder"
			                  : S_ISSOCK(st.st_mode)
			                          ? "a socket"
			                          : "a device or other special file");
		if (trust_check(&st, 0, path, why, sizeof(why)) < 0 ||
		    trust_check_parent(path, why, sizeof(why)) < 0)
			return report_add(ctx, path, NULL, NULL, AX_PLUGIN_UNTRUSTED, "%s", why);
	}

	dl = dlopen(path, dl_flags());
	if (!dl) {
		const char *dlwhy = dlerror();

		return report_add(ctx, path, NULL, NULL, AX_PLUGIN_DLOPEN_ERROR, "dlopen: %s",
		                  dlwhy ? dlwhy : "unknown error");
	}
	*(void **)(&entry) = dlsym(dl, AX_PLUGIN_ENTRY_NAME);
	if (!entry) {
		dlclose(dl);
		return report_add(ctx, path, NULL, NULL, AX_PLUGIN_NO_ENTRY,
		                  "no exported symbol '%s'", AX_PLUGIN_ENTRY_NAME);
	}
	/*
	 * Every pointer the plugin hands over is checked against its own
	 * mapped segments before it is read: a stray one would crash the
	 * process (and `axlink plugins` with it) instead of refusing a plugin.
	 */
	if (image_of(dl, &img) < 0) {
		err = report_add(ctx, path, NULL, NULL, AX_PLUGIN_INVALID,
		                 "cannot find the plugin's segments in the process");
		goto fail;
	}
	if (!image_holds_code(&img, (uintptr_t)entry)) {
		err = report_add(ctx, path, NULL, NULL, AX_PLUGIN_INVALID,
		                 "'%s' is not code of the plugin itself", AX_PLUGIN_ENTRY_NAME);
		goto fail;
	}
	d = entry();
	if (!d) {
		err = report_add(ctx, path, NULL, NULL, AX_PLUGIN_INVALID, "%s() returned NULL",
		                 AX_PLUGIN_ENTRY_NAME);
		goto fail;
	}
	if (!image_holds(&img, d, DESC_VERSION_END)) {
		err = report_add(ctx, path, NULL, NULL, AX_PLUGIN_INVALID,
		                 "%s() returned %p, which is not in the plugin's own image",
		                 AX_PLUGIN_ENTRY_NAME, (const void *)d);
		goto fail;
	}
	if (d->size < DESC_VERSION_END) {
		err = report_add(ctx, path, NULL, NULL, AX_PLUGIN_INVALID,
		                 "descriptor size %u is too small to hold its ABI version",
		                 (unsigned)d->size);
		goto fail;
	}
	if (!image_holds(&img, d, d->size < sizeof(*d) ? d->size : sizeof(*d))) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "descriptor of %u bytes runs past the plugin's image",
		                 (unsigned)d->size);
		goto fail;
	}
	/* Only trust the strings of a descriptor whose layout we know and that stay inside. */
	text_ok = d->abi_major == AX_PLUGIN_ABI_MAJOR && d->size >= DESC_MIN_SIZE &&
	          !desc_bad_string(&img, d);
	if (d->abi_major != AX_PLUGIN_ABI_MAJOR || d->abi_minor > AX_PLUGIN_ABI_MINOR) {
		err = report_add(ctx, path, d, text_ok ? d : NULL, AX_PLUGIN_REFUSED_ABI,
		                 "plugin ABI %u.%u, library ABI %u.%u (needs the same major and a "
		                 "minor not newer)",
		                 d->abi_major, d->abi_minor, AX_PLUGIN_ABI_MAJOR,
		                 AX_PLUGIN_ABI_MINOR);
		goto fail;
	}
	if (d->size < DESC_MIN_SIZE) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
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
	bad = desc_bad_string(&img, &p->desc);
	if (bad) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "descriptor field '%s' points outside the plugin's own image",
		                 bad);
		goto fail;
	}
	if (!scheme_valid(p->desc.scheme)) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "scheme '%s' is not [a-z][a-z0-9+.-]*",
		                 p->desc.scheme ? p->desc.scheme : "(null)");
		goto fail;
	}
	if (desc_check_options(&img, &p->desc, why, sizeof(why)) < 0) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID, "scheme '%s': %s",
		                 p->desc.scheme, why);
		goto fail;
	}
	if (!p->desc.ops) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "scheme '%s': ops table is missing", p->desc.scheme);
		goto fail;
	}
	if (!image_holds(&img, p->desc.ops, sizeof(p->desc.ops->size))) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "scheme '%s': ops table %p is not in the plugin's own image",
		                 p->desc.scheme, (const void *)p->desc.ops);
		goto fail;
	}
	if (p->desc.ops->size < OPS_MIN_SIZE) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "scheme '%s': ops table is smaller than ABI 1.0 needs",
		                 p->desc.scheme);
		goto fail;
	}
	if (!image_holds(&img, p->desc.ops,
	                 p->desc.ops->size < sizeof(p->ops) ? p->desc.ops->size : sizeof(p->ops))) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "scheme '%s': ops table of %u bytes runs past the plugin's image",
		                 p->desc.scheme, (unsigned)p->desc.ops->size);
		goto fail;
	}
	memcpy(&p->ops, p->desc.ops,
	       p->desc.ops->size < sizeof(p->ops) ? p->desc.ops->size : sizeof(p->ops));
	if (!p->ops.open || !p->ops.close || !p->ops.read || !p->ops.write) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "scheme '%s': a required op (open, close, read, write) is NULL",
		                 p->desc.scheme);
		goto fail;
	}
	/* Split reads (1.4) are all four or none; a partial set is not used. */
	if (p->desc.abi_minor < 4 || !p->ops.submit_read || !p->ops.pollfd ||
	    !p->ops.complete_read || !p->ops.abandon) {
		p->ops.submit_read = NULL;
		p->ops.pollfd = NULL;
		p->ops.complete_read = NULL;
		p->ops.abandon = NULL;
	}
	bad = ops_bad_function(&img, &p->ops);
	if (bad) {
		err = report_add(ctx, path, d, NULL, AX_PLUGIN_INVALID,
		                 "scheme '%s': op '%s' is not code of the plugin itself",
		                 p->desc.scheme, bad);
		goto fail;
	}
	for (size_t i = 0; i < ctx->n_plugins; i++) {
		if (!strcmp(ctx->plugins[i]->desc.scheme, p->desc.scheme)) {
			err = report_add(ctx, path, &p->desc, &p->desc, AX_PLUGIN_SHADOWED,
			                 "scheme '%s' is already served by '%s'", p->desc.scheme,
			                 ctx->plugins[i]->path);
			if (builtin && !ctx->plugins[i]->builtin)
				report_override(ctx, ctx->plugins[i], path);
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
	p->builtin = builtin;
	p->core = (struct ax__host_core){ctx, p->desc.scheme, p->desc.options,
	                                 (int)p->desc.addr_space};
	ax__host_init(&p->host, &p->core);
	err = report_add(ctx, path, &p->desc, &p->desc, AX_PLUGIN_LOADED, "%s", "");
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

int ax__loader_load_file(ax_ctx *ctx, const char *path)
{
	return load_file(ctx, path, 0);
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

int ax__loader_load_dir(ax_ctx *ctx, const char *dir, unsigned int flags)
{
	struct dirent **list = NULL;
	char real[PATH_MAX], path[PATH_MAX], why[PATH_MAX + 256];
	char **dirs;
	struct stat st;
	int n, loaded = 0, untrusted = 0;
	int missing_is_error = (flags & AX__LOADER_MISSING_IS_ERROR) != 0;

	if (!realpath(dir, real)) {
		int e = errno;

		if (missing_is_error)
			return ax__error_set(AX_ENOTFOUND, "plugin folder '%s': %s", dir,
			                     strerror(e));
		AX_LOG_AT(ctx, AX_LOG_DEBUG, "loader", "plugin folder '%s': %s, skipping", dir,
		          strerror(e));
		return 0;
	}
	/* The same folder reached twice (say, AXLINK_PLUGIN_PATH naming the default) loads once. */
	for (size_t i = 0; i < ctx->n_dirs; i++) {
		if (!strcmp(ctx->dirs[i], real)) {
			AX_LOG_AT(ctx, AX_LOG_DEBUG, "loader", "plugin folder '%s' already scanned",
			          real);
			return 0;
		}
	}
	n = scandir(real, &list, plugin_filter, alphasort);
	if (n < 0) {
		int e = errno;

		if (missing_is_error)
			return ax__error_set(e == EACCES ? AX_EACCESS : AX_ENOTFOUND,
			                     "plugin folder '%s': %s", dir, strerror(e));
		AX_LOG_AT(ctx, AX_LOG_WARN, "loader", "plugin folder '%s': %s, ignoring", dir,
		          strerror(e));
		return 0;
	}
	dirs = realloc(ctx->dirs, (ctx->n_dirs + 1) * sizeof(*dirs));
	if (dirs) {
		ctx->dirs = dirs;
		ctx->dirs[ctx->n_dirs] = strdup(real);
		if (ctx->dirs[ctx->n_dirs])
			ctx->n_dirs++;
	}
	/* A folder others may write: none of its files is what its owner put there. */
	if (stat(real, &st) == 0 && trust_check(&st, 1, real, why, sizeof(why)) < 0) {
		untrusted = 1;
		AX_LOG_AT(ctx, AX_LOG_WARN, "loader", "plugin folder not used: %s", why);
	}
	AX_LOG_AT(ctx, AX_LOG_DEBUG, "loader", "scanning '%s': %d candidate(s)", real, n);
	for (int i = 0; i < n; i++) {
		int len = snprintf(path, sizeof(path), "%s/%s", real, list[i]->d_name);

		if (len > 0 && (size_t)len < sizeof(path)) {
			if (untrusted)
				(void)report_add(ctx, path, NULL, NULL, AX_PLUGIN_UNTRUSTED, "%s",
				                 why);
			else if (load_file(ctx, path, (flags & AX__LOADER_BUILTIN) != 0) == 0)
				loaded++;
		}
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
