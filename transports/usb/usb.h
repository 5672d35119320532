/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TRANSPORT_USB_H
#define AXLINK_TRANSPORT_USB_H

/*
 * Pieces the `usb` transport's files share. Internal to the plugin: nothing
 * here is exported from the shared object. The tests link these files
 * directly (a static library) to drive the hot-plug detection on its own;
 * ops->monitor (usb.c) runs it for ax_monitor().
 *
 *   usb_ids.c      the VID:PID pairs of drives we know (the one table)
 *   usb_dev.c      URIs, device description, string descriptors, the data
 *                  interface, libusb errors -> axlink errors
 *   usb_io.c       an open endpoint: claim, bulk transfers with deadlines,
 *                  cancellation, MCB request/reply, identity probe
 *   usb_scan.c     ops->scan
 *   usb_hotplug.c  arrival/removal of known drives (behind ops->monitor)
 *   usb.c          the descriptor and the link ops
 */

#include <libusb.h>
#include <stddef.h>
#include <stdint.h>

#include "axlink/plugin.h"

#define USB_DEFAULT_TIMEOUT_MS 500
#define USB_MAX_TIMEOUT_MS 60000
/* Sends of one request: the first, and one resend after a timeout. */
#define USB_TRIES 2

#define USB_STR_MAX 128 /* string descriptor text kept, NUL included */
#define USB_PORT_STR 40 /* "1-1.2.3.4.5.6.7", NUL included */
#define USB_WHERE_STR 96
#define USB_URI_STR 512
#define USB_DETAIL_STR 640
#define USB_MSG_STR 512

/* ---- usb_ids.c --------------------------------------------------------------------- */

/* A drive we know by its USB ids. */
typedef struct usb_known_id {
	uint16_t vid, pid;
	const char *model; /* the model in devices/ it is, or NULL: any (a test or generic id) */
	const char *what;  /* one line for messages */
} usb_known_id;

/* The table entry for (@vid, @pid), or NULL. Scan and hot-plug open only devices it knows. */
const usb_known_id *usb_known_find(uint16_t vid, uint16_t pid);

/* "1209:0001, 1209:0002, ..." for messages. */
void usb_known_list(char *out, size_t cap);

/* ---- usb_dev.c --------------------------------------------------------------------- */

/* Where a device is, and a text for messages. */
typedef struct usb_where {
	uint16_t vid, pid;
	uint8_t bus, address;
	char port[USB_PORT_STR];  /* "1-1.2", "" for a root hub */
	char text[USB_WHERE_STR]; /* "1209:0001 at bus 1 address 2 (port 1-1)" */
} usb_where;

/* Fill @out for @dev; its device descriptor goes to @dd when not NULL. */
void usb_where_of(usb_where *out, libusb_device *dev, struct libusb_device_descriptor *dd);

/* Sort a device list by bus, then address: results come in a stable order. */
void usb_sort_devices(libusb_device **list, size_t n);

/* A device's strings; "" when it has none or they cannot be read. */
typedef struct usb_strings {
	char manufacturer[USB_STR_MAX];
	char product[USB_STR_MAX];
	char serial[USB_STR_MAX];
} usb_strings;

/*
 * Read the strings through @h. Returns 0, or LIBUSB_ERROR_NO_DEVICE when the
 * device went away (other failures leave a string empty).
 */
int usb_strings_read(libusb_device_handle *h, const struct libusb_device_descriptor *dd,
                     usb_strings *out);

/* The interface that carries MCB frames. */
typedef struct usb_iface {
	int config; /* bConfigurationValue it belongs to */
	int active; /* that configuration is the active one */
	int number; /* the data interface */
	int comm;   /* CDC-ACM communication interface claimed with it, or -1 */
	uint8_t ep_in, ep_out;
	uint16_t in_packet; /* wMaxPacketSize of ep_in */
} usb_iface;

/*
 * Find the data interface of @dev: a vendor-specific interface with a bulk
 * IN/OUT pair, else the data interface of a CDC-ACM function. Returns 0, or
 * AX_ENOTFOUND with a message naming the device.
 */
int usb_iface_find(const ax_host *host, libusb_device *dev, const usb_where *w, usb_iface *out);

/* What a URI names (ops->open) or narrows a scan to. */
typedef struct usb_filter {
	int have_id; /* vid and pid given */
	uint16_t vid, pid;
	int have_location; /* usb:BUS.ADDRESS */
	uint8_t bus, address;
	const char *serial; /* borrowed from the URI; NULL = any */
} usb_filter;

/* Parse @uri's path and keys. Returns 0, or AX_EINVAL naming the bad part. */
int usb_filter_parse(const ax_host *host, const ax_uri *uri, usb_filter *out);

/* The URI that reopens a device: by serial string when it has one, else by bus.address. */
void usb_device_uri(char *out, size_t cap, const usb_where *w, const char *serial);

/* "bus 1 address 2 port 1-1 id 1209:0001 manufacturer 'x' product 'y' serial 'z'". */
void usb_device_detail(char *out, size_t cap, const usb_where *w, const usb_strings *s);

/*
 * What a libusb failure of @what ("open", "claim interface 0 of") on @w
 * means: the axlink code, a message, and a hint ("" when none).
 */
int usb_explain(int lerr, const char *what, const usb_where *w, char *msg, size_t msg_cap,
                char *hint, size_t hint_cap);

/* usb_explain() + host->error(): returns the axlink code. */
int usb_fail(const ax_host *host, int lerr, const char *what, const usb_where *w);

/* ---- usb_io.c ---------------------------------------------------------------------- */

/* One open, claimed data interface. */
typedef struct usb_ep usb_ep;

/*
 * Open @dev on @ctx (borrowed; must outlive the endpoint), find and claim
 * its data interface (detaching a bound kernel driver, which close()
 * re-attaches), ready for MCB requests.
 * Returns 0, AX_EACCESS (with the udev-rule hint), AX_EBUSY (another program
 * holds it), AX_EDISCONNECTED, AX_ENOTFOUND (no data interface), or another
 * negative code; the message names the device.
 */
int usb_ep_open(usb_ep **out, const ax_host *host, libusb_context *ctx, libusb_device *dev);

/* Release the interfaces (re-attaching a detached driver), close, free. Accepts NULL. */
void usb_ep_close(usb_ep *ep);

/* Where the endpoint is, and its strings (read at open). */
const usb_where *usb_ep_where(const usb_ep *ep);
const usb_strings *usb_ep_strings(const usb_ep *ep);

/*
 * Send @req and wait for its reply, @timeout_ms per try, resending once on
 * a timeout when @tries is 2. @reply's payload points into the endpoint's
 * buffer, valid until its next request. Returns 0, AX_EDRIVE (error reply),
 * AX_ETIMEDOUT, AX_ECANCELED, AX_EDISCONNECTED, AX_EADDR, or another
 * negative code.
 */
int usb_ep_transact(usb_ep *ep, const ax_mcb_frame *req, ax_mcb_frame *reply, int timeout_ms,
                    int tries);

/* Abort the request running on another thread (it returns AX_ECANCELED). */
int usb_ep_cancel(usb_ep *ep);

/*
 * Read the drive's identity (product code first: a device that does not
 * answer that is no MCB drive) into @r's identity fields, @sw receiving the
 * firmware version (@sw_cap bytes). Returns 0, AX_ETIMEDOUT when the product
 * code got no answer, or another negative code.
 */
int usb_ep_identify(usb_ep *ep, int timeout_ms, ax_scan_result *r, char *sw, size_t sw_cap);

/* ---- usb_scan.c -------------------------------------------------------------------- */

/* A filled-in scan record of one device, with the storage its strings point into. */
typedef struct usb_record {
	ax_scan_result r;
	char uri[USB_URI_STR];
	char detail[USB_DETAIL_STR];
	char message[USB_MSG_STR];
	char hint[USB_MSG_STR];
	char sw[AX_MCB_MAX_PAYLOAD + 1];
	char tty[48]; /* r.os_port: the tty its kernel driver made of it, or "" */
} usb_record;

/*
 * Describe and probe @dev (a known drive) into @rec: open, strings, claim,
 * identity over MCB within @timeout_ms per request. A device whose kernel
 * tty driver is bound is not claimed: its record (AX_ACCESS_BUSY) names the
 * tty in `detail` ("... tty /dev/ttyACM0") and points to the serial URI.
 * Failures land in the record (access, message, hint), not in the return
 * value, which is 1 when the drive answered, 0 when not, or -1 when the
 * device does not match @serial (NULL = any), in which case @rec is not
 * filled.
 */
int usb_probe_device(const ax_host *host, libusb_context *ctx, libusb_device *dev,
                     const char *serial, int timeout_ms, usb_record *rec);

/*
 * The tty a kernel driver bound to one of @w's interfaces made of it
 * ("/dev/ttyACM0"), found through sysfs without touching the device: 1 and
 * @out filled, or 0 when none is bound.
 */
int usb_tty_find(const usb_where *w, char *out, size_t cap);

/* ops->scan. */
int usb_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink);

/* ---- usb_hotplug.c ----------------------------------------------------------------- */

/*
 * Hot-plug detection of known drives, behind ops->monitor (usb.c). It owns a
 * libusb context with a hot-plug callback; usb_hotplug_run() waits for
 * events and reports each through the callback, on the calling thread:
 *   USB_HOTPLUG_ARRIVED  a known drive appeared: its record, probed as a scan
 *                        would (identity over MCB), so it is a scan result;
 *   USB_HOTPLUG_LEFT     it went away: the record it arrived with (same uri
 *                        and detail), so the receiver can match the two.
 * Devices with an unknown VID:PID are ignored: never opened, never reported.
 */
typedef struct usb_hotplug usb_hotplug;

enum { USB_HOTPLUG_ARRIVED = 1, USB_HOTPLUG_LEFT = 2 };

/* Report devices already attached as arrivals on the first run. */
#define USB_HOTPLUG_ENUMERATE 0x1u

/* Receives one event; return 0 to go on, a negative value to stop usb_hotplug_run(). */
typedef int (*usb_hotplug_cb)(int event, const ax_scan_result *result, void *userdata);

/*
 * Start watching. @probe_timeout_ms bounds each identity request of a new
 * drive (0 = the default). Returns 0, AX_EUNSUPPORTED (libusb without
 * hot-plug on this system), or another negative code.
 */
int usb_hotplug_start(usb_hotplug **out, const ax_host *host, unsigned flags, int probe_timeout_ms,
                      usb_hotplug_cb cb, void *userdata);

/*
 * Wait up to @timeout_ms for events and deliver them; returns as soon as it
 * has delivered some (0 = look once without waiting). Returns the number
 * delivered (0 after a quiet wait or a wake-up), the callback's negative
 * value, or another negative code. One thread at a time.
 */
int usb_hotplug_run(usb_hotplug *hp, int timeout_ms);

/* Make a usb_hotplug_run() on another thread return soon. Safe from any thread. */
void usb_hotplug_wake(usb_hotplug *hp);

/* Stop watching and free. Accepts NULL. Not while usb_hotplug_run() runs. */
void usb_hotplug_stop(usb_hotplug *hp);

#endif
