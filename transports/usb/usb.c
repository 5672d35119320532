/* SPDX-License-Identifier: MIT */
/*
 * The `usb` transport: MCB register frames over the bulk endpoints of a USB
 * drive, through libusb-1.0.
 *
 *   usb:?vid=1209&pid=0001[&serial=SN]   the drive with these ids (and serial)
 *   usb:?serial=SN                       the known drive with this serial
 *   usb:                                 the one known drive attached
 *   usb:BUS.ADDRESS                      the known drive at that bus address
 *
 * A URI that matches several devices is refused with the list, never
 * resolved by picking one. Each link has its own libusb context, so links
 * on different threads never share an event loop.
 */
#include <stdio.h>
#include <string.h>

#include "usb.h"

struct ax_transport_priv {
	const ax_host *host;
	libusb_context *ctx;
	usb_ep *ep;
	int timeout_ms; /* the URI's timeout_ms, or the default */
};

static const ax_option_desc usb_options[] = {
        {"vid", AX_OPT_STRING, NULL, "USB vendor id in hex, with pid (e.g. vid=1209&pid=0001)"},
        {"pid", AX_OPT_STRING, NULL, "USB product id in hex, with vid"},
        {"serial", AX_OPT_STRING, NULL, "USB serial number string of the drive"},
        {"timeout_ms", AX_OPT_INT, "500",
         "reply timeout per try in milliseconds (1..60000); a timeout is retried once"},
        {NULL, 0, NULL, NULL},
};

static int usb_uri_timeout(const ax_host *host, const ax_uri *uri, int *out)
{
	long long v = 0;
	int err;

	err = host->uri_int(host, uri, "timeout_ms", 1, USB_MAX_TIMEOUT_MS, &v);
	if (err == AX_ENOTFOUND)
		v = USB_DEFAULT_TIMEOUT_MS;
	else if (err < 0)
		return err;
	*out = (int)v;
	return 0;
}

/* Read @dev's serial string into @out; returns 0 or a libusb error. */
static int usb_peek_serial(libusb_device *dev, char *out, size_t cap)
{
	struct libusb_device_descriptor dd;
	libusb_device_handle *h = NULL;
	usb_strings s;
	usb_where w;
	int r;

	usb_where_of(&w, dev, &dd);
	r = libusb_open(dev, &h);
	if (r < 0)
		return r;
	r = usb_strings_read(h, &dd, &s);
	libusb_close(h);
	(void)snprintf(out, cap, "%s", s.serial);
	return r;
}

/* Why nothing matched @uri. */
static int usb_none_found(const ax_host *host, const ax_uri *uri, const usb_filter *f)
{
	char known[256];

	if (f->have_location)
		return host->error(host, AX_ENOTFOUND,
		                   "URI '%s': no USB device at bus %u "
		                   "address %u",
		                   uri->text, (unsigned)f->bus, (unsigned)f->address);
	if (f->have_id)
		return host->error(host, AX_ENOTFOUND,
		                   "URI '%s': no USB device %04x:%04x%s%s%s is attached", uri->text,
		                   f->vid, f->pid, f->serial ? " with serial '" : "",
		                   f->serial ? f->serial : "", f->serial ? "'" : "");
	usb_known_list(known, sizeof(known));
	return host->error(host, AX_ENOTFOUND,
	                   "URI '%s': no known USB drive%s%s%s is attached "
	                   "(looked for %s)",
	                   uri->text, f->serial ? " with serial '" : "", f->serial ? f->serial : "",
	                   f->serial ? "'" : "", known);
}

/* The one device @f names, referenced; errors say what matched instead. */
static int usb_select(const ax_host *host, libusb_context *ctx, const ax_uri *uri,
                      const usb_filter *f, libusb_device **out)
{
	libusb_device **list = NULL, *match = NULL;
	char matches[256] = "";
	size_t mo = 0;
	unsigned count = 0;
	int denied = 0, err = 0;
	usb_where denied_w;
	ssize_t n;

	n = libusb_get_device_list(ctx, &list);
	if (n < 0)
		return host->error(host, AX_EIO, "cannot list USB devices for '%s': %s", uri->text,
		                   libusb_strerror((int)n));
	usb_sort_devices(list, (size_t)n);
	memset(&denied_w, 0, sizeof(denied_w));
	for (ssize_t i = 0; i < n; i++) {
		usb_where w;
		char serial[USB_STR_MAX];
		int r;

		usb_where_of(&w, list[i], NULL);
		if (f->have_location && (w.bus != f->bus || w.address != f->address))
			continue;
		if (f->have_id && (w.vid != f->vid || w.pid != f->pid))
			continue;
		if (!f->have_id && !usb_known_find(w.vid, w.pid)) {
			if (!f->have_location)
				continue;
			/* Named by its place, but nothing says it is a drive: do not touch it. */
			err = host->error(host, AX_ENOTFOUND,
			                  "URI '%s': USB device %s is not a known drive; if it is "
			                  "one, open it as usb:?vid=%04x&pid=%04x",
			                  uri->text, w.text, w.vid, w.pid);
			goto out;
		}
		if (f->serial) {
			r = usb_peek_serial(list[i], serial, sizeof(serial));
			if (r < 0) {
				/* Cannot tell; if nothing else matches, this is why. */
				denied = r;
				denied_w = w;
				continue;
			}
			if (strcmp(serial, f->serial) != 0)
				continue;
		}
		if (count++ == 0)
			match = libusb_ref_device(list[i]);
		if (mo < sizeof(matches)) {
			int k = snprintf(matches + mo, sizeof(matches) - mo, "%susb:%u.%u",
			                 mo ? ", " : "", (unsigned)w.bus, (unsigned)w.address);

			if (k > 0)
				mo += (size_t)k;
		}
	}
	if (count == 0 && denied)
		err = usb_fail(host, denied, "open", &denied_w);
	else if (count == 0)
		err = usb_none_found(host, uri, f);
	else if (count > 1)
		err = host->error(host, AX_EINVAL,
		                  "URI '%s' matches %u USB devices (%s); name one with serial=... "
		                  "or by usb:BUS.ADDRESS",
		                  uri->text, count, matches);
out:
	libusb_free_device_list(list, 1);
	if (err < 0) {
		if (match)
			libusb_unref_device(match);
		return err;
	}
	*out = match;
	return 0;
}

static void usb_close(ax_transport_priv *priv)
{
	if (!priv)
		return;
	usb_ep_close(priv->ep);
	if (priv->ctx)
		libusb_exit(priv->ctx);
	priv->host->free(priv);
}

static int usb_open(ax_transport_priv **out, const ax_host *host, const ax_uri *uri, int timeout_ms)
{
	ax_transport_priv *priv;
	libusb_device *dev = NULL;
	usb_filter f;
	int err, uri_timeout = 0;

	err = usb_filter_parse(host, uri, &f);
	if (err < 0)
		return err;
	err = usb_uri_timeout(host, uri, &uri_timeout);
	if (err < 0)
		return err;

	priv = host->calloc(1, sizeof(*priv));
	if (!priv)
		return host->error(host, AX_ENOMEM, "out of memory");
	priv->host = host;
	priv->timeout_ms = uri_timeout;
	err = libusb_init(&priv->ctx);
	if (err < 0) {
		priv->ctx = NULL;
		err = host->error(host, AX_EIO, "cannot start libusb for '%s': %s", uri->text,
		                  libusb_strerror(err));
		goto fail;
	}
	err = usb_select(host, priv->ctx, uri, &f, &dev);
	if (err < 0)
		goto fail;
	err = usb_ep_open(&priv->ep, host, priv->ctx, dev);
	libusb_unref_device(dev);
	if (err < 0)
		goto fail;
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "'%s' is USB device %s, %d ms per try", uri->text,
		          usb_ep_where(priv->ep)->text,
		          timeout_ms > 0 ? timeout_ms : priv->timeout_ms);
	*out = priv;
	return 0;
fail:
	usb_close(priv);
	return err;
}

static int usb_read(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
                    size_t cap, size_t *len_out, int timeout_ms)
{
	const ax_host *host = priv->host;
	ax_mcb_frame req, reply;
	int err;

	err = host->mcb_request(&req, AX_MCB_READ, subnode, address, NULL, 0);
	if (err < 0)
		return err;
	err = usb_ep_transact(priv->ep, &req, &reply,
	                      timeout_ms > 0 ? timeout_ms : priv->timeout_ms, USB_TRIES);
	if (err < 0)
		return err;
	return host->mcb_reply_value(&reply, buf, cap, len_out);
}

static int usb_write(ax_transport_priv *priv, unsigned subnode, uint32_t address, const void *buf,
                     size_t len, int timeout_ms)
{
	ax_mcb_frame req, reply;
	int err;

	err = priv->host->mcb_request(&req, AX_MCB_WRITE, subnode, address, buf, len);
	if (err < 0)
		return err;
	return usb_ep_transact(priv->ep, &req, &reply,
	                       timeout_ms > 0 ? timeout_ms : priv->timeout_ms, USB_TRIES);
}

static int usb_cancel(ax_transport_priv *priv)
{
	return usb_ep_cancel(priv->ep);
}

/* ---- ops->monitor (ABI 1.2): hot-plug events, through usb_hotplug.c ---- */

struct usb_monitor {
	const ax_host *host;
	void *sink;
};

static int usb_monitor_event(int event, const ax_scan_result *result, void *userdata)
{
	struct usb_monitor *m = userdata;

	return m->host->monitor_emit(m->host, m->sink,
	                             event == USB_HOTPLUG_ARRIVED ? AX_PLUGIN_MONITOR_ARRIVED
	                                                          : AX_PLUGIN_MONITOR_LEFT,
	                             result);
}

/* How long one wait for events lasts: the monitor looks at monitor_stopped() this often. */
#define USB_MONITOR_POLL_MS 50

static int usb_monitor_op(const ax_host *host, const ax_uri *target, unsigned flags, void *sink)
{
	struct usb_monitor m = {host, sink};
	usb_hotplug *hp = NULL;
	usb_filter f;
	int err, probe_ms = 0;

	err = usb_filter_parse(host, target, &f);
	if (err < 0)
		return err;
	/* Hot-plug reports every known drive; narrower targets are the scans' business. */
	if (f.have_id || f.have_location || f.serial)
		return host->error(host, AX_EUNSUPPORTED,
		                   "monitor target '%s': hot-plug watches "
		                   "every known USB drive, not a chosen one",
		                   target->text);
	err = usb_uri_timeout(host, target, &probe_ms);
	if (err < 0)
		return err;
	err = usb_hotplug_start(&hp, host,
	                        (flags & AX_PLUGIN_MONITOR_ENUMERATE) ? USB_HOTPLUG_ENUMERATE : 0,
	                        probe_ms, usb_monitor_event, &m);
	if (err < 0)
		return err;
	while (!host->monitor_stopped(host, sink)) {
		err = usb_hotplug_run(hp, USB_MONITOR_POLL_MS);
		if (err < 0)
			break;
		err = 0;
	}
	usb_hotplug_stop(hp);
	return err;
}

static const ax_transport_ops usb_ops = {
        .size = sizeof(ax_transport_ops),
        .open = usb_open,
        .close = usb_close,
        .read = usb_read,
        .write = usb_write,
        .cancel = usb_cancel,
        .scan = usb_scan,
        .monitor = usb_monitor_op,
};

static const ax_transport_desc usb_desc = {
        AX_TRANSPORT_DESC_HEADER,
        .scheme = "usb",
        .name = "USB (MCB over bulk endpoints)",
        .version = "0.1.0",
        .description = "MCB drives on USB, through libusb-1.0",
        .license = "MIT",
        .caps = AX_TRANSPORT_CAP_CANCEL | AX_TRANSPORT_CAP_SCAN | AX_TRANSPORT_CAP_MONITOR,
        .addr_space = AX_ADDR_MCB,
        .options = usb_options,
        .ops = &usb_ops,
};

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void);

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void)
{
	return &usb_desc;
}
