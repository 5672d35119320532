/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_DISCOVER_H
#define AXLINK_DISCOVER_H

/**
 * @file axlink/discover.h
 * @brief Find every drive on every bus with one call, and watch drives come and go.
 * @defgroup ax_discover Discovery
 *
 * ax_discover() runs the scan of every loaded transport that can scan, each
 * in a worker thread of its own, under one overall deadline, and streams
 * what they find to the caller: each drive with its location URI, a stable
 * identity URI, its identity, the dictionary the device databases hold for
 * it and how that was matched, and whether it can be used. A transport that
 * fails or hangs never holds up the others past the deadline. Transports
 * added later (a plugin with a scan op) join without any change here.
 *
 * ## Search spec
 * A comma-separated list; NULL or "" means every loaded transport with a
 * scan op, each with its default targets.
 * - a bare scheme (`serial`, `usb`, `eth`): that transport's default targets;
 * - a URI (`eth://127.0.0.0/28`, `serial:/dev/ttyUSB0`): that target.
 *
 * Since an Ethernet host list has commas too (`eth://10.0.0.2,10.0.0.9`), a
 * piece starts a new item only when it contains "://", or when it is a
 * loaded transport's scheme alone or followed by ':'; any other piece
 * continues the URI before it. `eth://127.0.0.2,127.0.0.9,serial` is one
 * Ethernet list of two hosts and the serial transport.
 *
 * Default targets: a transport's default target is `SCHEME:` (the plugin
 * decides what that means: every serial port, every USB device...), unless
 * the environment variable `AXLINK_<SCHEME>_TARGETS` (scheme upper-cased)
 * names a comma list of targets: each item is a URI, or what follows
 * `SCHEME:` in one (`/dev/ttyUSB0` for serial), or for Ethernet what
 * follows `eth://` (a host or a CIDR range). Ethernet has no
 * implicit targets: without `AXLINK_ETH_TARGETS` it is skipped (reported
 * with status AX_DISCOVER_SKIPPED and a hint), so a discovery never sends
 * datagrams to networks nobody named. `eth://local` names the machine's own
 * IPv4 subnets: every interface that is up, not loopback, each subnet
 * narrowed to the /24 around the interface's address when it is wider; its
 * URI keys (port, timeout_ms) carry over to each subnet.
 *
 * ## Stable identity URIs
 * `axlink://VENDOR/PRODUCT/SERIAL` (vendor and product code in hex, serial
 * number in decimal: `axlink://A71C/00010064/1005`) names one drive by
 * what it is, not where it is plugged. ax_drive_open() accepts it: it runs
 * a discovery (ax_discover_locate()) and opens the first drive that reports
 * that identity. Keys: `via=SPEC` narrows the search (percent-encode '&'
 * and '#'), `timeout_ms=N` bounds it (default 2000).
 *
 * ## Hot-plug
 * ax_monitor() repeats discoveries and reports drives added and removed,
 * comparing rounds by location URI: a drive that stops answering (an
 * Ethernet drive switched off, a serial port unplugged) is removed. A
 * transport with native hot-plug events (USB) can feed the same events
 * later without changing this API.
 * @{
 */

#include "axlink/common.h"
#include "axlink/cancel.h"
#include "axlink/ctx.h"
#include "axlink/db.h"
#include "axlink/dict.h"
#include "axlink/scan.h"

AX_BEGIN_DECLS

/* ---- results ------------------------------------------------------------ */

/**
 * One endpoint a discovery found. All strings are borrowed for the callback
 * only (never NULL; "" when unknown); copy what you keep.
 */
typedef struct ax_discover_result {
	uint32_t size;          /**< sizeof(ax_discover_result) of the library */
	const char *uri;        /**< location URI: ax_drive_open() reopens this drive here */
	const char *stable_uri; /**< axlink://VENDOR/PRODUCT/SERIAL, or "" without a serial */
	const char *transport;  /**< scheme of the transport that found it */
	const char *target;     /**< the scan target that found it ("eth://127.0.0.0/28") */
	const char *detail;     /**< transport detail: IP and port, port name, USB ids... */
	int access;             /**< an ax_access_state (axlink/scan.h) */
	const char *message;    /**< what went wrong ("" when access is ok) */
	const char *hint;       /**< how to fix it, or how to get a missing dictionary */
	uint32_t known;         /**< AX_SCAN_HAS_* bits: which identity fields were read */
	uint32_t vendor_id;
	uint32_t product_code;
	uint32_t revision;
	uint32_t serial;
	const char *sw_version; /**< firmware version text */
	int match; /**< an ax_match (axlink/db.h); AX_MATCH_NONE without a dictionary */
	const char *match_reason; /**< one line saying how the dictionary was found, or why not */
	const char *model;        /**< the dictionary's model name */
	const char *dictionary;   /**< where the dictionary comes from (ax_dict_source()) */
	ax_dict *dict;            /**< the dictionary (borrowed; ax_dict_ref() to keep), or NULL */
	uint32_t elapsed_ms;      /**< from the start of the discovery to this result */
} ax_discover_result;

/** How the scan of one target ended. */
typedef enum ax_discover_status {
	AX_DISCOVER_DONE = 0,      /**< finished in time */
	AX_DISCOVER_FAILED = 1,    /**< the scan failed: see error and message */
	AX_DISCOVER_TIMED_OUT = 2, /**< still running at the deadline; later results dropped */
	AX_DISCOVER_CANCELLED = 3, /**< the discovery was cancelled first */
	AX_DISCOVER_SKIPPED = 4,   /**< not run: see message (no targets, still busy...) */
} ax_discover_status;

/** The outcome of one scan target, for progress, diagnostics and timing. */
typedef struct ax_discover_transport {
	uint32_t size;         /**< sizeof(ax_discover_transport) of the library */
	const char *transport; /**< scheme */
	const char *target;    /**< the target URI scanned */
	int status;            /**< an ax_discover_status */
	int error;             /**< the scan's negative ax_error_code when FAILED, else 0 */
	const char *message;   /**< why it failed, timed out or was skipped; "" when done */
	unsigned int found;    /**< results it reported with AX_ACCESS_OK */
	unsigned int reported; /**< every result it reported */
	uint32_t elapsed_ms;   /**< from the start of the discovery to its outcome */
} ax_discover_transport;

/**
 * Receives one discovery result.
 *
 * Called on the thread that called ax_discover() (or ax_monitor()), one
 * call at a time, never with a library lock held, while the scans go on in
 * their workers. Return 0 to go on, or a negative value to stop: the call
 * returns that value.
 */
typedef int (*ax_discover_cb)(const ax_discover_result *result, void *userdata);

/**
 * Receives the outcome of one scan target once it is known: when it
 * finishes, fails, or is abandoned at the deadline. Same thread and rules
 * as ax_discover_cb; gets the userdata of the call. Every result a target
 * reported has been delivered before its outcome.
 */
typedef int (*ax_discover_transport_cb)(const ax_discover_transport *transport, void *userdata);

/** Do not look for dictionaries: results carry AX_MATCH_NONE and no dict. */
#define AX_DISCOVER_NO_RESOLVE 0x1u

#define AX_DISCOVER_DEFAULT_TIMEOUT_MS 2000
#define AX_DISCOVER_OPTIONS_VERSION 1

/** Options for ax_discover(). */
typedef struct ax_discover_options {
	unsigned int version; /**< AX_DISCOVER_OPTIONS_VERSION */
	unsigned int flags;   /**< AX_DISCOVER_* */
	int timeout_ms;       /**< overall deadline; 0 = AX_DISCOVER_DEFAULT_TIMEOUT_MS */
	ax_cancel *cancel;    /**< stops the discovery when triggered; NULL = none */
	ax_db *db;            /**< resolve dictionaries in this database only; NULL = the
	                           context's search order (ax_ctx_resolve()) */
	ax_discover_transport_cb on_transport; /**< outcome of each target, or NULL */
} ax_discover_options;

#define AX_DISCOVER_OPTIONS_INIT                                                                   \
	{                                                                                          \
		AX_DISCOVER_OPTIONS_VERSION, 0, 0, NULL, NULL, NULL                                \
	}

/**
 * Find the drives on every transport @p spec names (see the file comment).
 *
 * Every target is scanned in a worker thread of its own, all at once; the
 * results stream to @p on_found on the calling thread as they arrive, each
 * with its dictionary resolved, each location once (targets may overlap:
 * the first report wins). A callback that stops the discovery gives the
 * other scans up to 100 ms to wind down. The call returns when every scan
 * finished, or at the deadline, whichever comes first: a scan still running
 * then is reported AX_DISCOVER_TIMED_OUT and left to finish on its own (its
 * transport is asked to stop; the context and its plugins stay loaded until
 * it has, whatever the caller releases meanwhile).
 *
 * Thread safety: safe; the callbacks run on the calling thread.
 *
 * @param spec      targets, or NULL / "" for every transport's defaults; parsed
 *                  and checked in full before any scan starts
 * @param opts      NULL, or initialised with AX_DISCOVER_OPTIONS_INIT
 * @param on_found  receives each result (may be NULL)
 * @return the number of results with AX_ACCESS_OK (>= 0); AX_EINVAL (bad
 *         spec or timeout), AX_ENOTFOUND (a scheme with no transport, or
 *         nothing to scan), AX_EUNSUPPORTED (a named transport cannot
 *         scan), AX_ECANCELED (the token was triggered; results delivered
 *         before stay delivered), a callback's negative value, the first
 *         scan's error when every target failed, or another negative
 *         ax_error_code.
 * @since 0.1
 */
AX_API int ax_discover(ax_ctx *ctx, const char *spec, const ax_discover_options *opts,
                       ax_discover_cb on_found, void *userdata);

/**
 * Find where the drive of a stable identity URI is now.
 *
 * Runs a discovery (the URI's `via` key, or every default target) and
 * stops at the first drive with that vendor, product code and serial.
 * Ownership: *out is the location URI, freed with ax_free(); untouched on
 * failure.
 * Thread safety: safe.
 * @param timeout_ms  deadline when the URI has no timeout_ms key; 0 = 2000
 * @return 0, AX_EINVAL (not an axlink:// URI, or malformed), AX_ENOTFOUND
 *         (no such drive answered: the message names what was searched),
 *         or what ax_discover() returns.
 * @since 0.1
 */
AX_API int ax_discover_locate(char **out, ax_ctx *ctx, const char *stable_uri, int timeout_ms);

/**
 * Write the stable identity URI of (@p vendor_id, @p product_code,
 * @p serial) into @p buf. Returns the length it needs (like snprintf).
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_discover_stable_uri(char *buf, size_t cap, uint32_t vendor_id, uint32_t product_code,
                                  uint32_t serial);

/**
 * Name of an ax_discover_status ("done", "failed", "timed-out", "cancelled",
 * "skipped"), or NULL.
 * @since 0.1
 */
AX_API const char *ax_discover_status_name(int status);

/* ---- hot-plug ------------------------------------------------------------ */

/** What happened to a drive. */
typedef enum ax_monitor_event {
	AX_MONITOR_ADDED = 1,   /**< appeared (or was there when monitoring started) */
	AX_MONITOR_REMOVED = 2, /**< went away; the record is the last one seen */
	AX_MONITOR_CHANGED = 3, /**< still there, but its access state changed or its
	                             identity became known or unknown (a port that was busy
	                             answers now): the new record */
} ax_monitor_event;

/**
 * Receives one hot-plug event. Same thread and rules as ax_discover_cb: on
 * the thread that called ax_monitor(), one at a time; a negative return
 * stops the monitor, which returns that value.
 */
typedef int (*ax_monitor_cb)(int event, const ax_discover_result *result, void *userdata);

#define AX_MONITOR_DEFAULT_PERIOD_MS 2000
#define AX_MONITOR_DEFAULT_MISSES 2
#define AX_MONITOR_OPTIONS_VERSION 1

/** Options for ax_monitor(). */
typedef struct ax_monitor_options {
	unsigned int version; /**< AX_MONITOR_OPTIONS_VERSION */
	unsigned int flags;   /**< AX_DISCOVER_* */
	int period_ms;        /**< from the start of one round to the next; 0 = default */
	int timeout_ms;       /**< deadline of each round; 0 = the period (at most 2000) */
	int misses;           /**< rounds a drive must be missing to be removed; 0 = default
	                           (2, so one lost datagram does not remove a drive) */
	ax_cancel *cancel;    /**< stops the monitor; NULL = only a callback can */
	ax_db *db;            /**< as in ax_discover_options */
	ax_discover_transport_cb on_transport; /**< outcome of each target in each round */
} ax_monitor_options;

#define AX_MONITOR_OPTIONS_INIT                                                                    \
	{                                                                                          \
		AX_MONITOR_OPTIONS_VERSION, 0, 0, 0, 0, NULL, NULL, NULL                           \
	}

/**
 * Report drives added and removed until cancelled.
 *
 * Runs a discovery of @p spec every period. A drive found at a location
 * not seen before is AX_MONITOR_ADDED at once (drives present at the start
 * included). A drive is AX_MONITOR_REMOVED when the target that found it
 * completed @p misses rounds in a row without it; rounds in which that
 * target failed or timed out say nothing either way. A location whose
 * identity changed (another drive at that address) is removed, then added;
 * one whose access state changed, or whose identity became known (a port
 * that was busy answers now), is AX_MONITOR_CHANGED.
 * A scan still running from an earlier round is not started again
 * (reported AX_DISCOVER_SKIPPED), so a hung transport costs one thread, not
 * one per round.
 *
 * Thread safety: safe; the callbacks run on the calling thread.
 * @return 0 once @p opts->cancel is triggered, a callback's negative value,
 *         or the errors of ax_discover() for a bad spec (before any event).
 * @since 0.1
 */
AX_API int ax_monitor(ax_ctx *ctx, const char *spec, const ax_monitor_options *opts,
                      ax_monitor_cb on_event, void *userdata);

/** Name of an ax_monitor_event ("added", "removed", "changed"), or NULL. @since 0.1 */
AX_API const char *ax_monitor_event_name(int event);

AX_END_DECLS

/** @} */
#endif
