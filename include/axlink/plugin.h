/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_PLUGIN_H
#define AXLINK_PLUGIN_H

/**
 * @file axlink/plugin.h
 * @brief The transport plugin ABI: what a third party implements to add a bus.
 * @defgroup ax_plugin Transport plugin ABI
 *
 * A transport is one shared object named `axlink-transport-<scheme>.so`
 * that exports exactly one symbol, the entry function AX_PLUGIN_ENTRY_NAME:
 *
 * @code
 * AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void)
 * {
 *	return &my_desc;   // static const, lives as long as the object is loaded
 * }
 * @endcode
 *
 * Build it with `-fvisibility=hidden` and `-Wl,--no-undefined`, and do not
 * link it against libaxlink: the core hands every call an ::ax_host table
 * (logging, errors, clock, allocation, the MCB codec), so the plugin has no
 * undefined symbols into the library and loads the same from C and Python.
 *
 * **Versioning.** The descriptor starts with its own size and the ABI
 * major/minor the plugin was compiled against. The core loads a plugin when
 * the major equals AX_PLUGIN_ABI_MAJOR and the minor is not newer than
 * AX_PLUGIN_ABI_MINOR; anything else is refused and reported (see
 * ax_ctx_plugin_record()). Within a major, structures only grow at the end
 * and the core reads only the fields that a plugin's sizes cover; an ops
 * entry that is NULL means "not supported".
 *
 * **Threads.** The core serializes requests per open endpoint: `read`,
 * `write` and `close` of one ::ax_transport_priv never run concurrently.
 * `cancel` may be called from another thread while a request runs. Distinct
 * endpoints may be used from distinct threads at once.
 *
 * **Errors.** Ops return 0 or a negative ax_error_code. Set the message with
 * `return host->error(host, AX_ETIMEDOUT, "no reply from %s after %d tries", ...)`;
 * report a drive's error reply with host->drive_error().
 *
 * ABI history:
 * - 1.0 — descriptor, open/close/read/write/cancel, URI key schema.
 * - 1.1 — ops->scan; host->scan_emit, host->scan_cancelled, host->mcb_request,
 *   host->mcb_reply_value.
 * @{
 */

#include "axlink/common.h"
#include "axlink/error.h"
#include "axlink/log.h"
#include "axlink/mcb.h"
#include "axlink/scan.h"
#include "axlink/uri.h"

AX_BEGIN_DECLS

#define AX_PLUGIN_ABI_MAJOR 1
#define AX_PLUGIN_ABI_MINOR 1

/** Name of the exported entry function. */
#define AX_PLUGIN_ENTRY_NAME "axlink_transport_entry"
/** File name prefix and suffix the loader looks for. */
#define AX_PLUGIN_FILE_PREFIX "axlink-transport-"
#define AX_PLUGIN_FILE_SUFFIX ".so"

#if defined(__GNUC__)
#define AX_PLUGIN_EXPORT __attribute__((visibility("default")))
#define AX_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define AX_PLUGIN_EXPORT
#define AX_PRINTF_LIKE(f, a)
#endif

/** Capability bits of a transport. */
#define AX_TRANSPORT_CAP_CANCEL 0x1u   /**< ops->cancel aborts a blocking request */
#define AX_TRANSPORT_CAP_STREAM 0x2u   /**< byte stream (serial): frames need resynchronising */
#define AX_TRANSPORT_CAP_SCAN 0x4u     /**< ops->scan probes targets for drives */

/** Register address spaces a transport speaks. */
typedef enum ax_addr_space {
	AX_ADDR_MCB = 1,     /**< subnode + 12-bit register address */
	AX_ADDR_CANOPEN = 2, /**< index << 8 | subindex */
} ax_addr_space;

/** Types of URI keys. */
typedef enum ax_option_type {
	AX_OPT_STRING = 1,
	AX_OPT_INT = 2,
	AX_OPT_BOOL = 3,
} ax_option_type;

/** One URI key a transport accepts. Arrays end with a zeroed entry. */
typedef struct ax_option_desc {
	const char *name;   /**< key, e.g. "timeout_ms" */
	int type;           /**< an ax_option_type */
	const char *def;    /**< default as text, or NULL */
	const char *help;   /**< one line */
} ax_option_desc;

/** The host table: everything a plugin may call in the core. */
typedef struct ax_host ax_host;

/** State of one open endpoint, defined by each plugin. */
typedef struct ax_transport_priv ax_transport_priv;

struct ax_host {
	uint32_t size;          /**< sizeof(ax_host) of the core; check before using a newer field */
	uint16_t abi_major;     /**< the core's AX_PLUGIN_ABI_MAJOR */
	uint16_t abi_minor;     /**< the core's AX_PLUGIN_ABI_MINOR */
	void *core;             /**< the core's own data; do not touch */

	/** True when @p level would be logged; test before costly formatting. */
	int (*log_enabled)(const ax_host *host, int level);
	/** Log one line at @p level; the origin is the plugin's name. */
	void (*log)(const ax_host *host, int level, const char *fmt, ...) AX_PRINTF_LIKE(3, 4);
	/** Set this thread's last error and return @p code (negative). */
	int (*error)(const ax_host *host, int code, const char *fmt, ...) AX_PRINTF_LIKE(3, 4);
	/**
	 * Record an error reply from the drive (its u32 @p drive_code, for the
	 * request @p command at @p subnode / @p address) and return AX_EDRIVE.
	 */
	int (*drive_error)(const ax_host *host, uint32_t drive_code, int command, unsigned subnode,
			   uint32_t address);
	/** Monotonic clock in nanoseconds. */
	uint64_t (*now_ns)(void);
	void *(*alloc)(size_t size);
	void *(*calloc)(size_t n, size_t size);
	void (*free)(void *p);
	/**
	 * Integer value of URI key @p key, or the key's declared default; checks
	 * [@p min, @p max]. Returns 0, AX_EINVAL with a message naming the key,
	 * or AX_ENOTFOUND when the key is absent and has no default.
	 */
	int (*uri_int)(const ax_host *host, const ax_uri *uri, const char *key, long long min,
		       long long max, long long *out);
	/** String value of @p key, or its declared default, or NULL. */
	const char *(*uri_str)(const ax_host *host, const ax_uri *uri, const char *key);
	/** The MCB codec (axlink/mcb.h). */
	int (*mcb_encode)(uint8_t *buf, size_t cap, size_t *len_out, const ax_mcb_frame *f);
	int (*mcb_decode)(ax_mcb_frame *out, const uint8_t *buf, size_t len);
	int (*mcb_check_reply)(const ax_mcb_frame *reply, unsigned subnode, unsigned address);

	/* ABI 1.1 */
	/**
	 * Report one scan result to the scan's @p sink (as given to ops->scan).
	 * Strings are copied as needed before it returns. Returns 0 to go on, or
	 * a negative value: stop scanning and return that value from ops->scan.
	 */
	int (*scan_emit)(const ax_host *host, void *sink, const ax_scan_result *result);
	/** True once the scan behind @p sink should stop (cancelled or past its deadline). */
	int (*scan_cancelled)(const ax_host *host, void *sink);
	/** Build a request frame and take a reply's value (axlink/mcb.h). */
	int (*mcb_request)(ax_mcb_frame *f, int command, unsigned subnode, unsigned address,
			   const void *value, size_t len);
	int (*mcb_reply_value)(const ax_mcb_frame *reply, void *buf, size_t cap, size_t *len_out);
};

/** Operations of a transport; NULL = not supported. Grows only at the end. */
typedef struct ax_transport_ops {
	uint32_t size; /**< sizeof(ax_transport_ops) the plugin was built with */

	/**
	 * Open the endpoint named by @p uri (keys already checked against the
	 * descriptor's options). Required.
	 * @param timeout_ms  request timeout the caller asked for, or 0 for the
	 *                    transport's default (or the URI's `timeout_ms` key)
	 */
	int (*open)(ax_transport_priv **out, const ax_host *host, const ax_uri *uri, int timeout_ms);
	/** Close and free the endpoint. Required. */
	void (*close)(ax_transport_priv *priv);
	/**
	 * Read register (@p subnode, @p address) into @p buf (up to @p cap
	 * bytes); store the byte count in *len_out. Required.
	 * @param timeout_ms  > 0: this request's deadline in milliseconds;
	 *                    0: the endpoint's own default (its URI, or the transport's)
	 */
	int (*read)(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
		    size_t cap, size_t *len_out, int timeout_ms);
	/** Write @p len bytes to register (@p subnode, @p address). Required. */
	int (*write)(ax_transport_priv *priv, unsigned subnode, uint32_t address, const void *buf,
		     size_t len, int timeout_ms);
	/**
	 * Abort a request running on another thread (it returns AX_ECANCELED).
	 * Optional; may be called while the endpoint's request lock is held.
	 */
	int (*cancel)(ax_transport_priv *priv);

	/* ABI 1.1 */
	/**
	 * Probe @p target (a URI of this scheme; its host/path/keys name what to
	 * probe, e.g. a CIDR range) for drives and report each through
	 * host->scan_emit(host, sink, ...). Finish within @p timeout_ms (> 0).
	 * Returns the number of drives reported as AX_ACCESS_OK, or a negative
	 * ax_error_code. Optional. May run concurrently with other ops.
	 */
	int (*scan)(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink);
} ax_transport_ops;

/** What the entry function returns. Must stay valid while the object is loaded. */
typedef struct ax_transport_desc {
	uint32_t size;           /**< sizeof(ax_transport_desc) the plugin was built with */
	uint16_t abi_major;      /**< AX_PLUGIN_ABI_MAJOR at build time */
	uint16_t abi_minor;      /**< AX_PLUGIN_ABI_MINOR at build time */
	const char *scheme;      /**< URI scheme, lower case: [a-z][a-z0-9+.-]* */
	const char *name;        /**< human name */
	const char *version;     /**< the plugin's own version */
	const char *description; /**< one line */
	const char *license;     /**< SPDX id */
	uint32_t caps;           /**< AX_TRANSPORT_CAP_* */
	uint32_t addr_space;     /**< an ax_addr_space */
	const ax_option_desc *options; /**< URI keys, zero-terminated; NULL = none */
	const ax_transport_ops *ops;
} ax_transport_desc;

/** Initialiser for the descriptor's version fields. */
#define AX_TRANSPORT_DESC_HEADER \
	.size = sizeof(ax_transport_desc), .abi_major = AX_PLUGIN_ABI_MAJOR, \
	.abi_minor = AX_PLUGIN_ABI_MINOR

/** Type of the entry function. */
typedef const ax_transport_desc *(*ax_transport_entry_fn)(void);

AX_END_DECLS

/** @} */
#endif
