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
 * The installed CMake package does all of this in one call,
 * `axlink_add_transport_plugin(<scheme> SOURCES ...)`, and pkg-config names
 * the plugin folder (`pkg-config --variable=plugindir axlink`). A complete
 * out-of-tree example is examples/transport-tcp; docs/plugins.md walks
 * through it.
 *
 * **Loading.** A context (ax_ctx_new()) looks for plugin files in the
 * folders given through the API, then `AXLINK_PLUGIN_PATH`, then the
 * `axlink-<ABI major>` folder beside the library itself; the first file for
 * a scheme wins and later ones are reported as shadowed. Each file is
 * opened with `dlopen(RTLD_NOW | RTLD_LOCAL)` and its entry function called
 * once, on the thread creating the context, with a context lock held: it
 * must only return the descriptor (no I/O, no threads, no host calls; there
 * is no host table yet). Every outcome — loaded, refused and why — is in the
 * load report (ax_ctx_plugin_record(), `axlink plugins`), and with
 * `AXLINK_LOG=debug` in the log. The object stays loaded until the context
 * is destroyed; links, drives and scans hold a context reference, so no op
 * can be running or called after that.
 *
 * **Versioning.** The descriptor starts with its own size and the ABI
 * major/minor the plugin was compiled against. The core loads a plugin when
 * the major equals AX_PLUGIN_ABI_MAJOR and the minor is not newer than
 * AX_PLUGIN_ABI_MINOR; anything else is refused and reported (see
 * ax_ctx_plugin_record()). Within a major, structures only grow at the end
 * and the core reads only the fields that a plugin's sizes cover; an ops
 * entry that is NULL means "not supported".
 *
 * **Version policy.** The ABI version is separate from the library version
 * (AX_VERSION_*, the CMake package and the soname); a release may change
 * either without the other.
 * - The *minor* goes up for additions an older plugin cannot notice: a new
 *   field at the end of ::ax_host, ::ax_transport_ops, ::ax_transport_desc
 *   or ax_scan_result; a new capability bit, address space or option type;
 *   a new error code a host function may return. A plugin built for 1.N
 *   keeps loading into every core 1.M with M >= N, unchanged and unrebuilt.
 * - The *major* goes up for anything that would make an existing plugin
 *   wrong: removing, reordering or retyping a field or an op; changing what
 *   an op or a host function means, who owns a buffer, which thread calls
 *   what or what may block; changing the entry symbol, the file naming or
 *   the layout of a type passed across (ax_mcb_frame, ax_uri,
 *   ax_option_desc); renumbering an error code, log level or constant. The
 *   plugin folder carries the major (`lib/axlink-1/`), so plugins of two
 *   majors never meet one library.
 * - A plugin that wants to run on older cores of its major sets `abi_minor`
 *   to the oldest minor whose features it needs instead of using
 *   AX_TRANSPORT_DESC_HEADER's, and checks `host->size` before calling a
 *   host function newer than that minor (see the ABI history below).
 *
 * **Threads.** The core serializes requests per open endpoint: `read`,
 * `write` and `close` of one ::ax_transport_priv never run concurrently
 * (the link's lock is held around `read` and `write`; `close` runs when the
 * last reference goes, so nothing else is running on that endpoint then).
 * `cancel` is called from another thread without that lock, at any moment:
 * while a request runs, between requests, or racing with one's start.
 * Distinct endpoints, and `scan`, may run on distinct threads at once, so
 * any state shared between endpoints (a global table, a cache) needs the
 * plugin's own lock. Never hold such a lock while calling host->log(): it
 * may run the application's log callback.
 *
 * **Blocking.** An op may block on its own I/O up to its deadline (and
 * `open` also on name resolution or an OS open call), never indefinitely:
 * every wait must end at the deadline or on `cancel`. An op must not wait
 * for another endpoint or call back into libaxlink (it has no way to, other
 * than the host table, which never blocks except host->log() on the
 * application's log callback).
 *
 * **Memory.** Everything the core passes in (URIs, buffers, the host table
 * during a scan) is borrowed for the call only; copy what you keep.
 * Everything the plugin returns (the descriptor and what it points to) must
 * stay valid while the object is loaded. Nothing crosses the boundary to be
 * freed by the other side, so host->alloc() is a convenience (it makes the
 * core's allocation-failure tests reach the plugin), not a requirement.
 *
 * **Errors.** Ops return 0 or a negative ax_error_code. Set the message with
 * `return host->error(host, AX_ETIMEDOUT, "no reply from %s after %d tries", ...)`;
 * report a drive's error reply with host->drive_error(). A message says what
 * failed and where (the endpoint, the register), in one line, without a
 * trailing period; the core adds nothing but, for AX_EDRIVE and AX_ETOOBIG,
 * the link's URI in front. The codec host functions set the message
 * themselves on failure, so their codes can be returned as they are. An op
 * that fails leaves its out parameters untouched and frees what it
 * allocated. Expected codes: AX_EINVAL (a bad URI or argument), AX_ENOTFOUND
 * (no such device or host), AX_EACCESS, AX_EBUSY (someone else holds the
 * device), AX_ETIMEDOUT, AX_ECANCELED, AX_EDISCONNECTED (the device went
 * away), AX_EIO (other I/O failures), AX_EDRIVE, and the codec's AX_ECRC,
 * AX_EPROTO, AX_EADDR, AX_ETRUNC, AX_ETOOBIG.
 *
 * ABI history:
 * - 1.0 — descriptor, open/close/read/write/cancel, URI key schema.
 * - 1.1 — ops->scan; host->scan_emit, host->scan_cancelled, host->mcb_request,
 *   host->mcb_reply_value.
 * - 1.2 — ops->monitor (native arrival/removal events for ax_monitor());
 *   host->monitor_emit, host->monitor_stopped; AX_TRANSPORT_CAP_MONITOR,
 *   AX_PLUGIN_MONITOR_*. A 1.2 plugin that also runs on 1.1 cores checks
 *   host->size before using them (a 1.1 core never calls ops->monitor).
 * - 1.3 — ax_scan_result.os_port: the OS port a result is, as data, so
 *   discovery no longer reads it out of the human-readable detail;
 *   host->mcb_identity_take, so every MCB transport reads a drive's
 *   identity registers (AX_MCB_REG_*, axlink/mcb.h) the same way;
 *   host->mcb_check_answer: a reply must answer its own request (command,
 *   echoed write value, one frame per datagram), and drive error messages
 *   are worded after the request.
 * - 1.4 — optional split reads for batches: ops->submit_read,
 *   ops->pollfd, ops->complete_read, ops->abandon (all four or none), and
 *   AX_PLUGIN_PENDING. A core of 1.3 or older never calls them, so a 1.4
 *   plugin runs there unchanged (reads then go through ops->read).
 * @{
 */

#include "axlink/common.h"
#include "axlink/dict.h"
#include "axlink/error.h"
#include "axlink/log.h"
#include "axlink/mcb.h"
#include "axlink/scan.h"
#include "axlink/uri.h"

AX_BEGIN_DECLS

#define AX_PLUGIN_ABI_MAJOR 1
#define AX_PLUGIN_ABI_MINOR 4

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

/** Capability bits of a transport (ax_transport_desc.caps); informational, shown to users. */
#define AX_TRANSPORT_CAP_CANCEL 0x1u  /**< ops->cancel aborts a blocking request */
#define AX_TRANSPORT_CAP_STREAM 0x2u  /**< byte stream (serial): frames need resynchronising */
#define AX_TRANSPORT_CAP_SCAN 0x4u    /**< ops->scan probes targets for drives */
#define AX_TRANSPORT_CAP_MONITOR 0x8u /**< ops->monitor reports drives coming and going (1.2) */

/** Returned by ops->complete_read while the reply has not come yet (ABI 1.4). */
#define AX_PLUGIN_PENDING 1

/** Events of ops->monitor, given to host->monitor_emit() (ABI 1.2). */
#define AX_PLUGIN_MONITOR_ARRIVED 1 /**< a drive appeared: its scan record */
#define AX_PLUGIN_MONITOR_LEFT 2    /**< it went: the record it arrived with (same uri) */

/** Flags of ops->monitor (ABI 1.2). */
#define AX_PLUGIN_MONITOR_ENUMERATE 0x1u /**< first report what is there already, as arrivals */

/*
 * ax_addr_space (AX_ADDR_MCB, AX_ADDR_CANOPEN), the register address space a
 * transport speaks (ax_transport_desc.addr_space), is declared in
 * axlink/dict.h, included above: dictionaries, links and resolution name it
 * too. The values are unchanged. The core takes a register's address in
 * this space from the dictionary and range-checks it before calling
 * read/write: for AX_ADDR_MCB, subnode 0..AX_MCB_MAX_SUBNODE and address
 * 0..AX_MCB_MAX_ADDRESS.
 */

/** Types of URI keys. */
typedef enum ax_option_type {
	AX_OPT_STRING = 1,
	AX_OPT_INT = 2,
	AX_OPT_BOOL = 3,
} ax_option_type;

/**
 * One URI key a transport accepts. Arrays end with a zeroed entry.
 * ax_link_open() and ax_scan() refuse a URI with a key not in the array
 * (listing the valid ones) before the plugin sees it; host->uri_int() and
 * host->uri_str() fall back to `def`. `axlink plugins` shows name and help.
 * Static data: must stay valid while the object is loaded.
 */
typedef struct ax_option_desc {
	const char *name; /**< key, e.g. "timeout_ms" */
	int type;         /**< an ax_option_type */
	const char *def;  /**< default as text, or NULL */
	const char *help; /**< one line */
} ax_option_desc;

/** The host table: everything a plugin may call in the core. */
typedef struct ax_host ax_host;

/**
 * State of one open endpoint, defined by each plugin (`struct
 * ax_transport_priv { ... };` in its source). The core only passes the
 * pointer that ops->open returned back to the other ops.
 */
typedef struct ax_transport_priv ax_transport_priv;

/**
 * The host table.
 *
 * One table per loaded plugin, owned by the core. The pointer given to
 * ops->open stays valid until the context unloads the plugin, which is
 * after ops->close of its last endpoint, so an endpoint may keep it. The
 * pointer given to ops->scan may be a per-scan copy (discovery redirects
 * scan_emit and scan_cancelled): use it only during that call.
 *
 * Every function may be called from any thread, concurrently, and none of
 * them blocks except log(), which may run the application's log callback.
 * Fields after `mcb_check_reply` exist when `size` covers them (ABI 1.1 and
 * later; `monitor_emit` and `monitor_stopped` from 1.2, `mcb_identity_take`
 * and `mcb_check_answer` from 1.3); since a plugin never loads into a core
 * of an older minor than its own `abi_minor`, a plugin declaring 1.3 may
 * use them all unchecked.
 */
struct ax_host {
	uint32_t size;      /**< sizeof(ax_host) of the core; check before using a newer field */
	uint16_t abi_major; /**< the core's AX_PLUGIN_ABI_MAJOR */
	uint16_t abi_minor; /**< the core's AX_PLUGIN_ABI_MINOR */
	void *core;         /**< the core's own data; do not touch */

	/** True when @p level would be logged; test before costly formatting. */
	int (*log_enabled)(const ax_host *host, int level);
	/**
	 * Log one line at @p level (an ax_log_level); the origin is the plugin's
	 * scheme. No trailing newline. Goes to the context's log callback, on
	 * the calling thread, or to stderr; `AXLINK_LOG=debug` (or trace) shows
	 * a plugin's debug (or trace) lines. Do not log the errors you return.
	 */
	void (*log)(const ax_host *host, int level, const char *fmt, ...) AX_PRINTF_LIKE(3, 4);
	/**
	 * Set this thread's last error (ax_error_last()) to the formatted message
	 * and return @p code (negative; a code >= 0 becomes AX_ERROR), so that
	 * `return host->error(host, AX_EIO, "...", ...);` both reports and returns.
	 */
	int (*error)(const ax_host *host, int code, const char *fmt, ...) AX_PRINTF_LIKE(3, 4);
	/**
	 * Record an error reply from the drive (its u32 @p drive_code, for the
	 * request @p command at @p subnode / @p address) and return AX_EDRIVE.
	 * The message names the register and the code's meaning; the code is in
	 * ax_error_last_drive_code(). MCB plugins get this from
	 * mcb_check_reply() already.
	 */
	int (*drive_error)(const ax_host *host, uint32_t drive_code, int command, unsigned subnode,
	                   uint32_t address);
	/** Monotonic clock (CLOCK_MONOTONIC) in nanoseconds: the time base for deadlines. */
	uint64_t (*now_ns)(void);
	/** malloc()/calloc()/free() of the core. Optional to use; see "Memory" above. */
	void *(*alloc)(size_t size);
	void *(*calloc)(size_t n, size_t size);
	void (*free)(void *p);
	/**
	 * Integer value of URI key @p key, or the key's declared default; checks
	 * [@p min, @p max]. Returns 0, AX_EINVAL with a message naming the key,
	 * or AX_ENOTFOUND when the key is absent and has no default. The key must
	 * be declared in the descriptor's options.
	 */
	int (*uri_int)(const ax_host *host, const ax_uri *uri, const char *key, long long min,
	               long long max, long long *out);
	/**
	 * String value of @p key, or its declared default, or NULL. Borrowed from
	 * @p uri or the descriptor: valid as long as they are.
	 */
	const char *(*uri_str)(const ax_host *host, const ax_uri *uri, const char *key);
	/**
	 * The MCB codec (axlink/mcb.h): ax_mcb_encode(), ax_mcb_decode(),
	 * ax_mcb_check_reply(). Pure functions; on failure they set the message
	 * and return the code. A decoded frame's payload points into the buffer
	 * that was decoded.
	 */
	int (*mcb_encode)(uint8_t *buf, size_t cap, size_t *len_out, const ax_mcb_frame *f);
	int (*mcb_decode)(ax_mcb_frame *out, const uint8_t *buf, size_t len);
	int (*mcb_check_reply)(const ax_mcb_frame *reply, unsigned subnode, unsigned address);

	/* ABI 1.1 */
	/**
	 * Report one scan result to the scan's @p sink (as given to ops->scan).
	 * Strings are copied as needed before it returns. Returns 0 to go on, or
	 * a negative value: stop scanning and return that value from ops->scan.
	 * Only during ops->scan, from the thread running it (or threads it waits
	 * for before returning).
	 */
	int (*scan_emit)(const ax_host *host, void *sink, const ax_scan_result *result);
	/**
	 * True once the scan behind @p sink should stop (cancelled or past its
	 * deadline). Cheap: poll it at least every 50 ms while waiting.
	 */
	int (*scan_cancelled)(const ax_host *host, void *sink);
	/**
	 * Build a request frame and take a reply's value (axlink/mcb.h:
	 * ax_mcb_request(), ax_mcb_reply_value()). A write request's payload
	 * points at @p value, which must outlive the encoding.
	 */
	int (*mcb_request)(ax_mcb_frame *f, int command, unsigned subnode, unsigned address,
	                   const void *value, size_t len);
	int (*mcb_reply_value)(const ax_mcb_frame *reply, void *buf, size_t cap, size_t *len_out);

	/* ABI 1.2 */
	/**
	 * Report one event of a running ops->monitor to its @p sink:
	 * AX_PLUGIN_MONITOR_ARRIVED with the drive's scan record (probed as a
	 * scan would), or AX_PLUGIN_MONITOR_LEFT with the record it arrived with
	 * (same `uri`: that is how the core pairs the two). Strings are copied
	 * before it returns. Returns 0 to go on, or a negative value: stop and
	 * return that value from ops->monitor. Only during ops->monitor, from
	 * the thread running it.
	 */
	int (*monitor_emit)(const ax_host *host, void *sink, int event,
	                    const ax_scan_result *result);
	/**
	 * True once the monitor behind @p sink should return (the application
	 * stopped it). Cheap: poll it at least every 100 ms while waiting.
	 */
	int (*monitor_stopped)(const ax_host *host, void *sink);

	/* ABI 1.3 */
	/**
	 * Take an identity register's reply value into a scan record
	 * (axlink/mcb.h: ax_mcb_identity_take()): the field, its AX_SCAN_HAS_*
	 * bit, and the software version cleaned into @p sw.
	 */
	int (*mcb_identity_take)(ax_scan_result *r, char *sw, size_t sw_cap, unsigned address,
	                         const void *value, size_t len);
	/**
	 * ax_mcb_check_answer(): check that a decoded reply answers @p request
	 * (as built by mcb_request()) and nothing else: same register, an ack
	 * of the request's kind, exactly one frame in @p wire_len bytes (0 when
	 * the transport knows no frame boundary). Use it instead of
	 * mcb_check_reply(), which cannot tell a read's ack from a write's.
	 */
	int (*mcb_check_answer)(const ax_mcb_frame *reply, size_t wire_len,
	                        const ax_mcb_frame *request);
};

/**
 * Operations of a transport; NULL = not supported. Grows only at the end.
 * Static data: must stay valid while the object is loaded.
 */
typedef struct ax_transport_ops {
	uint32_t size; /**< sizeof(ax_transport_ops) the plugin was built with */

	/**
	 * Open the endpoint named by @p uri (keys already checked against the
	 * descriptor's options). Required.
	 *
	 * Called by ax_link_open() on the caller's thread; several opens (even
	 * of the same URI) may run at once on different threads. May block for
	 * the connection or device open and name resolution, bounded by the
	 * timeout. Verify what can be verified now (parse the URI, open the
	 * device, connect) so that a wrong URI fails here, with a message that
	 * names it, rather than at the first read.
	 *
	 * Ownership: @p uri and @p host are borrowed; @p uri only for the call
	 * (copy what you keep), @p host until close (see ::ax_host). On success
	 * store a non-NULL state in *out, which the core hands to every other op
	 * and finally to close. On failure leave *out alone, free everything and
	 * return the error.
	 * @param timeout_ms  request timeout the caller asked for, or 0 for the
	 *                    transport's default (or the URI's `timeout_ms` key)
	 * @return 0, or AX_EINVAL (bad URI), AX_ENOTFOUND, AX_EACCESS, AX_EBUSY,
	 *         AX_ETIMEDOUT, AX_EIO, AX_ENOMEM ...
	 */
	int (*open)(ax_transport_priv **out, const ax_host *host, const ax_uri *uri,
	            int timeout_ms);
	/**
	 * Close and free the endpoint. Required; cannot fail.
	 *
	 * Called once per successful open, when the link's last reference goes,
	 * on whichever thread drops it (a garbage collector's, say); no other op
	 * of this endpoint runs then or later. Must not block for long (no
	 * goodbye exchange with a device that may be gone) and must leave no
	 * thread of its own running.
	 */
	void (*close)(ax_transport_priv *priv);
	/**
	 * Read register (@p subnode, @p address) into @p buf (up to @p cap
	 * bytes); store the byte count in *len_out. Required.
	 *
	 * Called by the link functions on the caller's thread with the link's
	 * lock held: one request per endpoint at a time. May block until its
	 * deadline or a cancel, not longer. Retries (a resend, a reconnect) are
	 * the transport's business and happen within this call.
	 *
	 * Ownership: @p buf belongs to the caller; write at most @p cap bytes
	 * and store the count only on success. A value larger than @p cap is
	 * AX_ETOOBIG (mcb_reply_value() does this).
	 * @param timeout_ms  > 0: this request's deadline in milliseconds;
	 *                    0: the endpoint's own default (its URI, or the transport's)
	 * @return 0, AX_ETIMEDOUT, AX_ECANCELED (cancel() was called),
	 *         AX_EDRIVE (the drive's error reply), AX_EDISCONNECTED, AX_EIO,
	 *         the codec's AX_ECRC / AX_EPROTO / AX_EADDR / AX_ETOOBIG ...
	 */
	int (*read)(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
	            size_t cap, size_t *len_out, int timeout_ms);
	/**
	 * Write @p len bytes to register (@p subnode, @p address). Required.
	 *
	 * Same thread, lock, blocking and error rules as read. @p buf is
	 * borrowed for the call; @p len is 0..AX_VALUE_MAX (the core checks).
	 * Success means the drive acknowledged the write.
	 */
	int (*write)(ax_transport_priv *priv, unsigned subnode, uint32_t address, const void *buf,
	             size_t len, int timeout_ms);
	/**
	 * Abort a request running on another thread (it returns AX_ECANCELED).
	 * Optional; may be called while the endpoint's request lock is held.
	 *
	 * Called by ax_link_cancel() on any thread, without the link's lock
	 * (the request holds it), so it must not wait for the request: signal
	 * it (an eventfd or pipe the request polls, an atomic flag it checks at
	 * least every few milliseconds) and return at once. It may arrive when
	 * no request runs: it must then not abort the next, unrelated request
	 * (drain the signal when a request starts). Returns 0, or an error when
	 * the signal could not be given. Set AX_TRANSPORT_CAP_CANCEL when it is
	 * implemented.
	 */
	int (*cancel)(ax_transport_priv *priv);

	/* ABI 1.1 */
	/**
	 * Probe @p target (a URI of this scheme; its host/path/keys name what to
	 * probe, e.g. a CIDR range) for drives and report each through
	 * host->scan_emit(host, sink, ...). Finish within @p timeout_ms (> 0).
	 * Returns the number of drives reported as AX_ACCESS_OK, or a negative
	 * ax_error_code. Optional. May run concurrently with other ops.
	 *
	 * Called by ax_scan() on the caller's thread, or by discovery on a
	 * worker thread of its own, possibly several scans of this plugin at
	 * once; there is no endpoint state. Poll host->scan_cancelled() while
	 * waiting and return soon after it turns true: a scan that overruns is
	 * abandoned by discovery (its thread detached) and its late results are
	 * dropped. Use only the @p host given here, only during the call.
	 * Results' strings are borrowed by scan_emit() for the call.
	 */
	int (*scan)(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink);

	/* ABI 1.2 */
	/**
	 * Watch @p target (a URI of this scheme, as for scan) for drives coming
	 * and going, reporting each through host->monitor_emit(host, sink, ...)
	 * (see there for the events), until host->monitor_stopped(host, sink)
	 * turns true or monitor_emit() returns a negative value. @p flags:
	 * AX_PLUGIN_MONITOR_*; with AX_PLUGIN_MONITOR_ENUMERATE the drives
	 * attached at the start are reported first, as arrivals. Returns 0 when
	 * stopped, monitor_emit()'s negative value, or a negative ax_error_code
	 * (AX_EUNSUPPORTED when this system cannot report arrivals: the core
	 * then falls back to repeated scans). Optional; set
	 * AX_TRANSPORT_CAP_MONITOR when implemented.
	 *
	 * Called by ax_monitor() on a thread the core owns, for as long as the
	 * monitor runs: it blocks by design, but must look at monitor_stopped()
	 * at least every 100 ms and return soon after it turns true. Use only
	 * the @p host given here, only during the call.
	 */
	int (*monitor)(const ax_host *host, const ax_uri *target, unsigned flags, void *sink);

	/* ABI 1.4 */
	/**
	 * Split reads: one read as a request sent now and a reply taken later,
	 * so that one core thread can keep a read in flight on each of many
	 * endpoints (ax_batch_run(), axlink/batch.h) and wait for all of them
	 * with a single poll(). Optional, all four or none; without them a
	 * batch runs ops->read on worker threads.
	 *
	 * The sequence for one read is submit_read(), then pollfd() and
	 * complete_read() until complete_read() returns something other than
	 * AX_PLUGIN_PENDING, or abandon() instead at any point after a
	 * successful submit_read(). The core holds the link's lock from
	 * submit_read() until that end, all on one thread, so the rules of
	 * ops->read apply to the whole sequence: one request per endpoint,
	 * cancel() from any thread at any moment (complete_read() then returns
	 * AX_ECANCELED), and a reply answers only its own request (the same
	 * checks as read, the same care for late replies after an abandoned
	 * or timed-out request). None of the four may block: submit_read() may
	 * wait briefly for a full send buffer, no more.
	 *
	 * submit_read(): send the read of register (@p subnode, @p address).
	 * @p timeout_ms as for read (each try; 0: the endpoint's default);
	 * retries are still the transport's business, done in complete_read().
	 * Returns 0 (a request is in flight) or a negative error (none is; the
	 * sequence is over).
	 */
	int (*submit_read)(ax_transport_priv *priv, unsigned subnode, uint32_t address,
	                   int timeout_ms);
	/**
	 * The file descriptor to poll() for POLLIN while the read is in flight,
	 * and in *@p wake_ns (host->now_ns() time base) when complete_read()
	 * must be called even if nothing arrives (a resend is due, or the
	 * read's deadline). The core polls the fd and calls complete_read()
	 * when it is readable (or reports an error or hang-up) or at
	 * *@p wake_ns, whichever comes first. Returns the fd (>= 0).
	 */
	int (*pollfd)(ax_transport_priv *priv, uint64_t *wake_ns);
	/**
	 * Take the reply without waiting: AX_PLUGIN_PENDING while it has not
	 * come (datagrams that are not its answer consumed and skipped, a
	 * resend sent when due), else the outcome of the read, exactly as
	 * ops->read would return it (0 with the value in @p buf, up to @p cap
	 * bytes, and its length in *@p len_out; AX_ETIMEDOUT once the tries
	 * are used up; AX_ECANCELED; AX_EDRIVE; ...), and the sequence is over.
	 */
	int (*complete_read)(ax_transport_priv *priv, void *buf, size_t cap, size_t *len_out);
	/**
	 * The core gives up the read in flight (its batch's deadline passed,
	 * the batch was cancelled). Treat it like a read that timed out: its
	 * reply may still come and must never pass for the answer to a later
	 * request (the eth transport takes a fresh socket). Cannot fail.
	 */
	void (*abandon)(ax_transport_priv *priv);
} ax_transport_ops;

/**
 * What the entry function returns. Must stay valid while the object is loaded.
 * The core copies the fields its `size` covers when loading, then uses the
 * strings, `options` and `ops` through their pointers: keep them all in
 * static storage.
 */
typedef struct ax_transport_desc {
	uint32_t size;                 /**< sizeof(ax_transport_desc) the plugin was built with */
	uint16_t abi_major;            /**< AX_PLUGIN_ABI_MAJOR at build time */
	uint16_t abi_minor;            /**< AX_PLUGIN_ABI_MINOR at build time */
	const char *scheme;            /**< URI scheme, lower case: [a-z][a-z0-9+.-]* */
	const char *name;              /**< human name */
	const char *version;           /**< the plugin's own version */
	const char *description;       /**< one line */
	const char *license;           /**< SPDX id */
	uint32_t caps;                 /**< AX_TRANSPORT_CAP_* */
	uint32_t addr_space;           /**< an ax_addr_space */
	const ax_option_desc *options; /**< URI keys, zero-terminated; NULL = none */
	const ax_transport_ops *ops;
} ax_transport_desc;

/** Initialiser for the descriptor's version fields. */
#define AX_TRANSPORT_DESC_HEADER                                                                   \
	.size = sizeof(ax_transport_desc), .abi_major = AX_PLUGIN_ABI_MAJOR,                       \
	.abi_minor = AX_PLUGIN_ABI_MINOR

/** Type of the entry function. */
typedef const ax_transport_desc *(*ax_transport_entry_fn)(void);

AX_END_DECLS

/** @} */
#endif
