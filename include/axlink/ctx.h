/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_CTX_H
#define AXLINK_CTX_H

/**
 * @file axlink/ctx.h
 * @brief The library context: plugin registry, settings and logging.
 * @defgroup ax_ctx Context
 *
 * Everything starts from an ax_ctx. A context owns the transport plugins it
 * loaded and its settings; nothing is global, so two contexts with different
 * plugin folders coexist in one process.
 *
 * Plugin search order (the first plugin for a scheme wins, later ones are
 * reported as shadowed): the folders in ax_ctx_options.plugin_paths, the
 * folders in the `AXLINK_PLUGIN_PATH` environment variable (':'-separated),
 * then the plugin folder beside the library itself (found with dladdr(), so
 * an installed tree or a wheel can move), which is also where a build tree
 * keeps its plugins. Within one folder files load in name order.
 *
 * Trust: a folder anyone may write to (mode o+w, sticky or not) or owned by
 * another user, and a plugin file writable by group or others or owned by
 * another user, are not loaded ("untrusted" in the report, with the chmod
 * or chown that fixes it); "another user" is neither root nor the
 * effective uid. Only regular files are opened (a FIFO would block). A
 * descriptor whose strings, options or ops lie outside the plugin's own
 * loaded image is refused as "invalid".
 *
 * Log callbacks never run with the context's lock held: lines logged while
 * plugins load are emitted when loading is done, so a callback may call any
 * ax_ctx_* function.
 * @{
 */

#include "axlink/common.h"
#include "axlink/log.h"

AX_BEGIN_DECLS

/** A library context. Thread safety: safe. */
typedef struct ax_ctx ax_ctx;

/** Do not read AXLINK_PLUGIN_PATH. */
#define AX_CTX_NO_ENV_PATHS 0x1u
/** Do not load the plugins beside the library (only the listed folders). */
#define AX_CTX_NO_DEFAULT_PATHS 0x2u
/** Do not read AXLINK_LOG. */
#define AX_CTX_NO_ENV_LOG 0x4u

#define AX_CTX_OPTIONS_VERSION 1

/** Options for ax_ctx_new(). */
typedef struct ax_ctx_options {
	unsigned int version;            /**< AX_CTX_OPTIONS_VERSION */
	unsigned int flags;              /**< AX_CTX_* flags */
	const char *const *plugin_paths; /**< NULL-terminated folders searched first, or NULL */
	int timeout_ms; /**< default request timeout for links; 0 = per transport */
} ax_ctx_options;

#define AX_CTX_OPTIONS_INIT                                                                        \
	{                                                                                          \
		AX_CTX_OPTIONS_VERSION, 0, NULL, 0                                                 \
	}

/** What happened to one plugin file. */
typedef enum ax_plugin_status {
	AX_PLUGIN_LOADED = 0,      /**< loaded and serving its scheme */
	AX_PLUGIN_REFUSED_ABI = 1, /**< other ABI major, or a newer minor */
	AX_PLUGIN_NO_ENTRY = 2,    /**< no entry symbol in the file */
	AX_PLUGIN_DLOPEN_ERROR =
	        3,               /**< dlopen() failed (not a shared object, missing library...) */
	AX_PLUGIN_SHADOWED = 4,  /**< an earlier plugin already serves the scheme */
	AX_PLUGIN_INVALID = 5,   /**< descriptor missing, malformed or pointing outside the
	                          plugin; or the file is not a regular file */
	AX_PLUGIN_UNTRUSTED = 6, /**< file or folder writable by others, or owned by another
	                          user (not root, not the effective uid) */
} ax_plugin_status;

/**
 * ax_plugin_record.flags: a loaded plugin serves a scheme that a plugin
 * beside the library (a built-in transport) also serves, so it replaces
 * the built-in one. Loaded, but worth a warning: the message says which.
 * @since 0.1
 */
#define AX_PLUGIN_FLAG_OVERRIDES_BUILTIN 0x1u

/**
 * One row of the load report. Strings are borrowed for the context's life.
 * The caller sets `size` to sizeof(ax_plugin_record) (AX_PLUGIN_RECORD_INIT);
 * the library writes only the fields that size covers.
 */
typedef struct ax_plugin_record {
	uint32_t size;           /**< sizeof(ax_plugin_record) the caller has (@since 0.2) */
	const char *path;        /**< the file */
	const char *scheme;      /**< URI scheme, or "" when unknown */
	const char *name;        /**< human name, or "" */
	const char *version;     /**< plugin version, or "" */
	const char *description; /**< one line, or "" */
	unsigned int abi_major;  /**< ABI the plugin was built for (0 when unknown) */
	unsigned int abi_minor;
	int status;          /**< an ax_plugin_status */
	const char *message; /**< why, in one line ("" when loaded without a warning) */
	unsigned int flags;  /**< AX_PLUGIN_FLAG_* warnings about a row */
} ax_plugin_record;

/** Initialiser of an ax_plugin_record to fill: sets `size`. @since 0.2 */
#define AX_PLUGIN_RECORD_INIT                                                                      \
	{                                                                                          \
		sizeof(ax_plugin_record), NULL, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, 0           \
	}

/**
 * Create a context and load the transport plugins.
 *
 * Ownership: *out gets one reference (ax_ctx_unref()); untouched on failure.
 * Plugins that fail to load are not an error: they appear in the load report.
 * Thread safety: safe.
 *
 * @param[out] out  the new context
 * @param opts      NULL, or initialised with AX_CTX_OPTIONS_INIT
 * @return 0, or another negative ax_error_code; see ax_error_last().
 * @since 0.1
 */
AX_API int ax_ctx_new(ax_ctx **out, const ax_ctx_options *opts);

/**
 * Take a reference. Returns @p ctx.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API ax_ctx *ax_ctx_ref(ax_ctx *ctx);

/**
 * Drop a reference; the context goes when the last holder (links, drives,
 * the caller) lets go. Accepts NULL. Returns NULL.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API ax_ctx *ax_ctx_unref(ax_ctx *ctx);

/**
 * Load every `axlink-transport-*.so` in @p dir now, after what is already
 * loaded (existing schemes shadow new ones).
 *
 * Thread safety: safe.
 * @return the number of plugins loaded (>= 0), AX_ENOTFOUND when the folder
 *         cannot be read, or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_ctx_add_plugin_dir(ax_ctx *ctx, const char *dir);

/**
 * Load one plugin file now. Its outcome is added to the load report.
 *
 * Thread safety: safe.
 * @return 0 when loaded, or the negative code matching its report status
 *         (AX_EABI, AX_ENOTFOUND for no entry symbol, AX_EIO for dlopen,
 *         AX_EBUSY when shadowed, AX_EINVAL for a bad descriptor or a file
 *         that is not a regular file, AX_EACCESS when untrusted).
 * @since 0.1
 */
AX_API int ax_ctx_load_plugin(ax_ctx *ctx, const char *path);

/**
 * Number of rows in the load report.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API size_t ax_ctx_plugin_count(ax_ctx *ctx);

/**
 * Copy row @p index of the load report into @p out.
 *
 * Ownership: strings in *out are borrowed for the context's life.
 * Thread safety: safe.
 * @param[out] out  its `size` set to sizeof(ax_plugin_record) (AX_PLUGIN_RECORD_INIT)
 * @return 0, AX_ENOTFOUND when @p index is past the end, or AX_EINVAL when
 *         out->size is below the first version's size.
 * @since 0.1
 */
AX_API int ax_ctx_plugin_record(ax_ctx *ctx, size_t index, ax_plugin_record *out);

/**
 * Name of a plugin status ("loaded", "refused-abi", "no-entry-symbol",
 * "dlopen-error", "shadowed", "invalid", "untrusted"), or NULL.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_plugin_status_name(int status);

/**
 * Set the context's log level and sink.
 *
 * @param level     messages above this level are dropped before formatting
 * @param cb        NULL = write to stderr
 * @param userdata  passed to @p cb
 * Thread safety: safe; messages in flight may still reach the old sink.
 * @since 0.1
 */
AX_API void ax_ctx_set_log(ax_ctx *ctx, int level, ax_log_cb cb, void *userdata);

/**
 * The context's current log level.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_ctx_get_log_level(ax_ctx *ctx);

AX_END_DECLS

/** @} */
#endif
