/* SPDX-License-Identifier: MIT */
/*
 * USB discovery: list the attached devices whose VID:PID is a known drive
 * (usb_ids.c), and probe each for its identity over MCB.
 *
 * Devices are probed one after the other in bus/address order: a USB bus
 * answers in microseconds, and two probes would only contend for the same
 * host controller. A device with an unknown VID:PID is never opened — it
 * may be anything, and a stray vendor request can upset it.
 *
 * What a result carries: the URI that reopens the drive (by its serial
 * string when it has one, so it survives a replug; else by bus.address),
 * and in `detail` bus, address, port path, ids and the three strings.
 *
 * A drive whose kernel tty driver is bound (CDC-ACM, usb-serial) is a
 * serial port to the system: its result adds "tty /dev/ttyACM0" to the
 * detail, says AX_ACCESS_BUSY and points to serial:/dev/ttyACM0, and the
 * device is not claimed. Discovery uses that tty to list the drive once
 * when the serial transport reports the same port (src/discover.c).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "usb.h"

/* Where the kernel lists USB devices and their interfaces by port path. */
#define USB_SYSFS_DEVICES "/sys/bus/usb/devices"

/* The scan's default deadline when the caller gives none. */
#define USB_SCAN_DEFAULT_MS 2000

/* The ax code a failed endpoint open maps to, as a libusb code for usb_explain(). */
static int probe_libusb_code(int err)
{
	switch (err) {
	case AX_EACCESS:
		return LIBUSB_ERROR_ACCESS;
	case AX_EBUSY:
		return LIBUSB_ERROR_BUSY;
	case AX_EDISCONNECTED:
		return LIBUSB_ERROR_NO_DEVICE;
	default:
		return LIBUSB_ERROR_OTHER;
	}
}

static int probe_access(int err)
{
	switch (err) {
	case AX_EACCESS:
		return AX_ACCESS_PERMISSION_DENIED;
	case AX_EBUSY:
		return AX_ACCESS_BUSY;
	case AX_ETIMEDOUT:
		return AX_ACCESS_NO_REPLY;
	default:
		return AX_ACCESS_ERROR;
	}
}

/* A tty node name the kernel gives a USB serial function ("ttyACM0", "ttyUSB0"). */
static int tty_name_ok(const char *name)
{
	return (strncmp(name, "ttyACM", 6) == 0 || strncmp(name, "ttyUSB", 6) == 0) &&
	       name[6] >= '0' && name[6] <= '9' && strlen(name) < 32;
}

/* The first tty entry in @dir, into @out; 1 when found. */
static int tty_in_dir(const char *dir, char *out, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		if (tty_name_ok(e->d_name)) {
			(void)snprintf(out, cap, "/dev/%s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

int usb_tty_find(const usb_where *w, char *out, size_t cap)
{
	char dir[256], sub[512];
	size_t plen = strlen(w->port);
	struct dirent *e;
	DIR *d;
	int found = 0, k;

	/*
	 * A bound tty driver shows as a child of one of the device's interface
	 * folders ("1-1:1.0"): CDC-ACM puts it in tty/ttyACM0, usb-serial drivers
	 * directly as ttyUSB0. sysfs, not libusb: asking usbfs which driver is
	 * bound needs the device node, and this must not disturb the driver.
	 */
	if (!plen)
		return 0;
	(void)snprintf(dir, sizeof(dir), USB_SYSFS_DEVICES "/%s", w->port);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, w->port, plen) != 0 || e->d_name[plen] != ':')
			continue;
		k = snprintf(sub, sizeof(sub), "%s/%s/tty", dir, e->d_name);
		if (k < 0 || (size_t)k >= sizeof(sub))
			continue;
		found = tty_in_dir(sub, out, cap);
		if (!found) {
			sub[k - 4] = '\0'; /* the interface folder itself */
			found = tty_in_dir(sub, out, cap);
		}
	}
	closedir(d);
	return found;
}

/* Record why @w could not be probed. */
static void probe_failed(usb_record *rec, int err, const char *what, const usb_where *w)
{
	rec->r.access = probe_access(err);
	if (err == AX_ENOTFOUND) {
		(void)snprintf(rec->message, sizeof(rec->message),
		               "USB device %s has no interface for MCB frames", w->text);
		return;
	}
	(void)usb_explain(probe_libusb_code(err), what, w, rec->message, sizeof(rec->message),
	                  rec->hint, sizeof(rec->hint));
}

int usb_probe_device(const ax_host *host, libusb_context *ctx, libusb_device *dev,
                     const char *serial, int timeout_ms, usb_record *rec)
{
	struct libusb_device_descriptor dd;
	libusb_device_handle *h = NULL;
	usb_strings strings;
	usb_where w;
	usb_ep *ep = NULL;
	char tty[48];
	int r, err;

	usb_where_of(&w, dev, &dd);
	memset(rec, 0, sizeof(*rec));
	memset(&strings, 0, sizeof(strings));
	rec->r.size = sizeof(rec->r);
	rec->r.uri = rec->uri;
	rec->r.detail = rec->detail;
	rec->r.message = rec->message;
	rec->r.hint = rec->hint;
	rec->r.sw_version = rec->sw;
	rec->r.os_port = rec->tty;

	/* The strings first: the serial decides whether this is the drive asked for. */
	r = libusb_open(dev, &h);
	if (r == 0) {
		r = usb_strings_read(h, &dd, &strings);
		libusb_close(h);
	}
	if (r == 0 && serial && strcmp(serial, strings.serial) != 0)
		return -1;
	usb_device_uri(rec->uri, sizeof(rec->uri), &w, strings.serial);
	usb_device_detail(rec->detail, sizeof(rec->detail), &w, &strings);
	if (r < 0) {
		rec->r.access =
		        r == LIBUSB_ERROR_ACCESS ? AX_ACCESS_PERMISSION_DENIED : AX_ACCESS_ERROR;
		(void)usb_explain(r, "open", &w, rec->message, sizeof(rec->message), rec->hint,
		                  sizeof(rec->hint));
		return 0;
	}

	/*
	 * A kernel tty driver owns the function: the drive is a serial port now,
	 * and the serial transport reaches it there. Detaching the driver to
	 * probe it here would yank the port from under whoever has it open.
	 */
	if (usb_tty_find(&w, tty, sizeof(tty))) {
		size_t dl = strlen(rec->detail);

		(void)snprintf(rec->tty, sizeof(rec->tty), "%s", tty);

		(void)snprintf(rec->detail + dl, sizeof(rec->detail) - dl, " tty %s", tty);
		rec->r.access = AX_ACCESS_BUSY;
		(void)snprintf(rec->message, sizeof(rec->message),
		               "USB device %s is the serial port %s (a kernel driver is bound); "
		               "not probed over USB",
		               w.text, tty);
		(void)snprintf(rec->hint, sizeof(rec->hint),
		               "reach it as serial:%s, or open %.300s to detach the driver", tty,
		               rec->uri);
		return 0;
	}

	err = usb_ep_open(&ep, host, ctx, dev);
	if (err < 0) {
		probe_failed(rec, err, "claim", &w);
		return 0;
	}
	err = usb_ep_identify(ep, timeout_ms, &rec->r, rec->sw, sizeof(rec->sw));
	usb_ep_close(ep);
	if (err == AX_ETIMEDOUT) {
		rec->r.access = AX_ACCESS_NO_REPLY;
		(void)snprintf(rec->message, sizeof(rec->message),
		               "USB device %s: no MCB reply to a product-code read within %d ms",
		               w.text, timeout_ms);
		return 0;
	}
	if (err < 0) {
		probe_failed(rec, err, "probe", &w);
		return 0;
	}
	rec->r.access = AX_ACCESS_OK;
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "drive on USB device %s: product 0x%08X, serial %u, identity bits 0x%02X",
		          w.text, (unsigned)rec->r.product_code, (unsigned)rec->r.serial,
		          (unsigned)rec->r.known);
	return 1;
}

/* Per-request timeout: the URI's timeout_ms, else the default, within a quarter of the scan. */
static int scan_request_timeout(const ax_host *host, const ax_uri *uri, int scan_ms, int *out)
{
	long long v = USB_DEFAULT_TIMEOUT_MS;
	int err;

	err = host->uri_int(host, uri, "timeout_ms", 1, USB_MAX_TIMEOUT_MS, &v);
	if (err < 0 && err != AX_ENOTFOUND)
		return err;
	if (err == AX_ENOTFOUND)
		v = USB_DEFAULT_TIMEOUT_MS;
	if (v > scan_ms / 4)
		v = scan_ms / 4 > 0 ? scan_ms / 4 : 1;
	*out = (int)v;
	return 0;
}

int usb_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink)
{
	libusb_context *ctx = NULL;
	libusb_device **list = NULL;
	usb_filter f;
	usb_record rec;
	ssize_t n;
	uint64_t deadline;
	int err, req_ms = 0, emitted = 0;

	err = usb_filter_parse(host, target, &f);
	if (err < 0)
		return err;
	if (f.have_id && !usb_known_find(f.vid, f.pid)) {
		char known[256];

		usb_known_list(known, sizeof(known));
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': %04x:%04x is not a known drive (known: "
		                   "%s); a scan opens only those, open the device by its URI "
		                   "instead",
		                   target->text, f.vid, f.pid, known);
	}
	if (timeout_ms <= 0)
		timeout_ms = USB_SCAN_DEFAULT_MS;
	err = scan_request_timeout(host, target, timeout_ms, &req_ms);
	if (err < 0)
		return err;
	deadline = host->now_ns() + (uint64_t)timeout_ms * 1000000u;

	err = libusb_init(&ctx);
	if (err < 0)
		return host->error(host, AX_EIO, "cannot start libusb to scan '%s': %s",
		                   target->text, libusb_strerror(err));
	n = libusb_get_device_list(ctx, &list);
	if (n < 0) {
		err = host->error(host, AX_EIO, "cannot list USB devices to scan '%s': %s",
		                  target->text, libusb_strerror((int)n));
		libusb_exit(ctx);
		return err;
	}
	usb_sort_devices(list, (size_t)n);

	err = 0;
	for (ssize_t i = 0; i < n && !host->scan_cancelled(host, sink); i++) {
		struct libusb_device_descriptor dd;
		usb_where w;
		uint64_t now = host->now_ns();
		int t = req_ms, r;

		usb_where_of(&w, list[i], &dd);
		if (!usb_known_find(w.vid, w.pid)) {
			if (host->log_enabled(host, AX_LOG_TRACE))
				host->log(host, AX_LOG_TRACE,
				          "skipped USB device %s: not a known "
				          "drive",
				          w.text);
			continue;
		}
		if (f.have_location && (w.bus != f.bus || w.address != f.address))
			continue;
		if (f.have_id && (w.vid != f.vid || w.pid != f.pid))
			continue;
		if (now >= deadline)
			break;
		/* Two tries of t must fit what is left of the scan. */
		if ((uint64_t)t * 2000000u > deadline - now)
			t = (int)((deadline - now) / 2000000u) + 1;
		r = usb_probe_device(host, ctx, list[i], f.serial, t, &rec);
		if (r < 0)
			continue;
		err = host->scan_emit(host, sink, &rec.r);
		if (err < 0)
			break;
		emitted += rec.r.access == AX_ACCESS_OK;
	}

	libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	return err < 0 ? err : emitted;
}
