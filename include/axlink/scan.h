/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SCAN_H
#define AXLINK_SCAN_H

/**
 * @file axlink/scan.h
 * @brief Probe one transport's targets for drives and report what answers.
 * @defgroup ax_scan Scanning
 *
 * A scan asks one transport to probe the targets a spec names — for
 * Ethernet a host, a list or a CIDR range (`eth://127.0.0.0/28`) — and
 * reports each drive found with its identity. Discovery across every
 * transport builds on this.
 * @{
 */

#include "axlink/common.h"
#include "axlink/ctx.h"

AX_BEGIN_DECLS

/** Can the endpoint be used, and if not, why. */
typedef enum ax_access_state {
	AX_ACCESS_OK = 0,                /**< answered; identity read */
	AX_ACCESS_PERMISSION_DENIED = 1, /**< the OS refused to open it */
	AX_ACCESS_BUSY = 2,              /**< another program holds it */
	AX_ACCESS_NO_REPLY = 3,          /**< opened, but no drive answered */
	AX_ACCESS_ERROR = 4,             /**< something else; see message */
} ax_access_state;

/** Bits of ax_scan_result.known: which identity fields were read. */
#define AX_SCAN_HAS_VENDOR 0x01u
#define AX_SCAN_HAS_PRODUCT 0x02u
#define AX_SCAN_HAS_REVISION 0x04u
#define AX_SCAN_HAS_SERIAL 0x08u
#define AX_SCAN_HAS_SW_VERSION 0x10u

/**
 * One endpoint a scan reports. Strings are borrowed for the callback only;
 * copy what you keep. Plugins fill it in the same way (axlink/plugin.h).
 */
typedef struct ax_scan_result {
	uint32_t size;       /**< sizeof(ax_scan_result) of the producer */
	const char *uri;     /**< location URI: ax_link_open() reopens this drive */
	const char *detail;  /**< transport detail, e.g. "127.0.0.3:1061" ("" if none) */
	int access;          /**< an ax_access_state */
	const char *message; /**< what went wrong ("" when ok) */
	const char *hint;    /**< how to fix it ("" when none) */
	uint32_t known;      /**< AX_SCAN_HAS_* */
	uint32_t vendor_id;
	uint32_t product_code;
	uint32_t revision;
	uint32_t serial;
	const char *sw_version; /**< "" when unknown */
	/**
	 * The operating-system port this endpoint is, when another transport
	 * can reach the same drive through it: a USB drive whose kernel tty
	 * driver is bound names "/dev/ttyACM0", and the serial transport names
	 * the port it probed. Discovery lists a drive seen on one port once.
	 * "" when none. @since plugin ABI 1.3 (older producers: "").
	 */
	const char *os_port;
} ax_scan_result;

/**
 * Receives one scan result.
 *
 * Called on the thread that runs ax_scan(), never with a library lock held.
 * Return 0 to go on, a negative value to stop the scan: ax_scan() then
 * returns that value.
 */
typedef int (*ax_scan_cb)(const ax_scan_result *result, void *userdata);

/**
 * Scan the targets named by @p spec (its scheme selects the transport).
 *
 * Results stream to @p cb as they arrive. Finishes within about
 * @p timeout_ms whatever the number of targets.
 * Thread safety: safe; one scan per call.
 *
 * @param spec        e.g. "eth://127.0.0.0/28", "eth://127.0.0.2,127.0.0.9"
 * @param timeout_ms  overall deadline; 0 = the transport's default
 * @return the number of drives reported with AX_ACCESS_OK (>= 0),
 *         AX_ENOTFOUND (no transport for the scheme), AX_EUNSUPPORTED (the
 *         transport cannot scan), AX_EINVAL (bad spec), the callback's
 *         negative value, or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_scan(ax_ctx *ctx, const char *spec, int timeout_ms, ax_scan_cb cb, void *userdata);

/**
 * Name of an access state ("ok", "permission-denied", "busy", "no-reply",
 * "error"), or NULL.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_access_state_name(int state);

AX_END_DECLS

/** @} */
#endif
