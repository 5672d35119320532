/* SPDX-License-Identifier: MIT */
/*
 * Describing USB devices for the `usb` transport: what a URI asks for, where
 * a device sits, its strings, which interface carries MCB frames, and what
 * a libusb failure means for the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb.h"

/* USB class codes (USB-IF). */
#define USB_CLASS_CDC_COMM 0x02
#define USB_CLASS_CDC_DATA 0x0A
#define USB_CLASS_VENDOR 0xFF
#define USB_CDC_SUBCLASS_ACM 0x02
/* CDC functional descriptor: CS_INTERFACE, union subtype. */
#define USB_CDC_CS_INTERFACE 0x24
#define USB_CDC_UNION 0x06

void usb_where_of(usb_where *out, libusb_device *dev, struct libusb_device_descriptor *dd)
{
	struct libusb_device_descriptor d;
	uint8_t ports[7];
	int n;
	size_t o;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	/* Cannot fail since libusb 1.0.16: the descriptor is cached at enumeration. */
	(void)libusb_get_device_descriptor(dev, &d);
	if (dd)
		*dd = d;
	out->vid = d.idVendor;
	out->pid = d.idProduct;
	out->bus = libusb_get_bus_number(dev);
	out->address = libusb_get_device_address(dev);
	n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
	if (n > 0) {
		o = (size_t)snprintf(out->port, sizeof(out->port), "%u-", (unsigned)out->bus);
		for (int i = 0; i < n && o < sizeof(out->port); i++) {
			int w = snprintf(out->port + o, sizeof(out->port) - o, "%s%u", i ? "." : "",
			                 (unsigned)ports[i]);

			if (w < 0)
				break;
			o += (size_t)w;
		}
	}
	if (out->port[0])
		(void)snprintf(out->text, sizeof(out->text),
		               "%04x:%04x at bus %u address %u (port %s)", out->vid, out->pid,
		               (unsigned)out->bus, (unsigned)out->address, out->port);
	else
		(void)snprintf(out->text, sizeof(out->text), "%04x:%04x at bus %u address %u",
		               out->vid, out->pid, (unsigned)out->bus, (unsigned)out->address);
}

static int usb_dev_order(const void *a, const void *b)
{
	libusb_device *x = *(libusb_device *const *)a, *y = *(libusb_device *const *)b;
	unsigned kx = (unsigned)libusb_get_bus_number(x) << 8 | libusb_get_device_address(x);
	unsigned ky = (unsigned)libusb_get_bus_number(y) << 8 | libusb_get_device_address(y);

	return (kx > ky) - (kx < ky);
}

void usb_sort_devices(libusb_device **list, size_t n)
{
	qsort(list, n, sizeof(*list), usb_dev_order);
}

/* Keep a string printable: it goes to terminals, logs and URIs. */
static void usb_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
			*s = '?';
}

static int usb_string(libusb_device_handle *h, uint8_t index, char *out, size_t cap)
{
	int r;

	out[0] = '\0';
	if (index == 0)
		return 0;
	r = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)out, (int)cap);
	if (r == LIBUSB_ERROR_NO_DEVICE)
		return r;
	if (r < 0) {
		out[0] = '\0'; /* a device without that string, or a stalled request */
		return 0;
	}
	out[(size_t)r < cap ? (size_t)r : cap - 1] = '\0';
	usb_clean(out);
	return 0;
}

int usb_strings_read(libusb_device_handle *h, const struct libusb_device_descriptor *dd,
                     usb_strings *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = usb_string(h, dd->iManufacturer, out->manufacturer, sizeof(out->manufacturer));
	if (r == 0)
		r = usb_string(h, dd->iProduct, out->product, sizeof(out->product));
	if (r == 0)
		r = usb_string(h, dd->iSerialNumber, out->serial, sizeof(out->serial));
	return r;
}

/* The bulk IN/OUT pair of @alt, if it has one. */
static int usb_bulk_pair(const struct libusb_interface_descriptor *alt, usb_iface *out)
{
	int in = 0, out_ep = 0;

	for (int e = 0; e < alt->bNumEndpoints; e++) {
		const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];

		if ((ep->bmAttributes & 0x3) != LIBUSB_TRANSFER_TYPE_BULK)
			continue;
		if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) && !in) {
			out->ep_in = ep->bEndpointAddress;
			out->in_packet = ep->wMaxPacketSize & 0x7FF;
			in = 1;
		} else if (!(ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) && !out_ep) {
			out->ep_out = ep->bEndpointAddress;
			out_ep = 1;
		}
	}
	if (out->in_packet == 0)
		out->in_packet = 64;
	return in && out_ep;
}

/* The communication interface whose union descriptor names @data, else any ACM one, else -1. */
static int usb_cdc_comm_for(const struct libusb_config_descriptor *cfg, int data)
{
	int any = -1;

	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface_descriptor *alt;
		const unsigned char *x;
		int left;

		if (cfg->interface[i].num_altsetting < 1)
			continue;
		alt = &cfg->interface[i].altsetting[0];
		if (alt->bInterfaceClass != USB_CLASS_CDC_COMM ||
		    alt->bInterfaceSubClass != USB_CDC_SUBCLASS_ACM)
			continue;
		if (any < 0)
			any = alt->bInterfaceNumber;
		x = alt->extra;
		left = alt->extra_length;
		while (left >= 2 && x[0] >= 2 && x[0] <= left) {
			if (x[0] >= 5 && x[1] == USB_CDC_CS_INTERFACE && x[2] == USB_CDC_UNION) {
				for (int s = 4; s < x[0]; s++)
					if (x[s] == data)
						return x[3];
			}
			left -= x[0];
			x += x[0];
		}
	}
	return any;
}

static int usb_iface_pick(const struct libusb_config_descriptor *cfg, usb_iface *out)
{
	/* First choice: a vendor-specific interface, what MCB drives present. */
	for (int pass = 0; pass < 2; pass++) {
		uint8_t want = pass == 0 ? USB_CLASS_VENDOR : USB_CLASS_CDC_DATA;

		for (int i = 0; i < cfg->bNumInterfaces; i++) {
			const struct libusb_interface_descriptor *alt;
			usb_iface f;

			if (cfg->interface[i].num_altsetting < 1)
				continue;
			alt = &cfg->interface[i].altsetting[0];
			if (alt->bInterfaceClass != want)
				continue;
			memset(&f, 0, sizeof(f));
			if (!usb_bulk_pair(alt, &f))
				continue;
			f.number = alt->bInterfaceNumber;
			f.comm = pass == 0 ? -1 : usb_cdc_comm_for(cfg, f.number);
			f.config = cfg->bConfigurationValue;
			*out = f;
			return 1;
		}
	}
	return 0;
}

int usb_iface_find(const ax_host *host, libusb_device *dev, const usb_where *w, usb_iface *out)
{
	struct libusb_config_descriptor *cfg = NULL;
	int active = 1, r, found;

	r = libusb_get_active_config_descriptor(dev, &cfg);
	if (r == LIBUSB_ERROR_NOT_FOUND) {
		/* Not configured yet: the open sets the first configuration. */
		active = 0;
		r = libusb_get_config_descriptor(dev, 0, &cfg);
	}
	if (r < 0)
		return usb_fail(host, r, "read the configuration of", w);
	found = usb_iface_pick(cfg, out);
	libusb_free_config_descriptor(cfg);
	if (!found)
		return host->error(host, AX_ENOTFOUND,
		                   "USB device %s has no interface for MCB frames (a "
		                   "vendor-specific or CDC data interface with a bulk IN/OUT "
		                   "pair)",
		                   w->text);
	out->active = active;
	return 0;
}

/* 1 to 4 hex digits, an optional 0x. */
static int usb_parse_hex16(const char *s, uint16_t *out)
{
	unsigned v = 0;
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; s[n]; n++) {
		char c = s[n];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		if (n == 4)
			return -1;
		v = v * 16 + d;
	}
	if (n == 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* A decimal number in [@min, @max] spanning exactly @len characters. */
static int usb_parse_dec(const char *s, size_t len, unsigned min, unsigned max, uint8_t *out)
{
	unsigned v = 0;

	if (len == 0 || len > 3)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

int usb_filter_parse(const ax_host *host, const ax_uri *uri, usb_filter *out)
{
	const char *vid = host->uri_str(host, uri, "vid");
	const char *pid = host->uri_str(host, uri, "pid");
	const char *serial = host->uri_str(host, uri, "serial");
	usb_filter f;

	memset(&f, 0, sizeof(f));
	if (uri->authority)
		return host->error(host, AX_EINVAL,
		                   "URI '%s': a usb URI has no '//' part (expected usb:BUS.ADDRESS "
		                   "or usb:?vid=VID&pid=PID[&serial=SN])",
		                   uri->text);
	if (uri->path[0]) {
		const char *dot = strchr(uri->path, '.');

		/* USB addresses are 1..127; bus numbers are whatever the host gave, up to 255. */
		if (!dot ||
		    usb_parse_dec(uri->path, (size_t)(dot - uri->path), 1, 255, &f.bus) < 0 ||
		    usb_parse_dec(dot + 1, strlen(dot + 1), 1, 127, &f.address) < 0)
			return host->error(host, AX_EINVAL,
			                   "URI '%s': '%s' is not BUS.ADDRESS (bus 1..255, address "
			                   "1..127, e.g. usb:1.4)",
			                   uri->text, uri->path);
		f.have_location = 1;
	}
	if ((vid != NULL) != (pid != NULL))
		return host->error(host, AX_EINVAL,
		                   "URI '%s': give both vid and pid (hex, e.g. vid=1209&pid=0001)",
		                   uri->text);
	if (vid) {
		if (usb_parse_hex16(vid, &f.vid) < 0)
			return host->error(host, AX_EINVAL,
			                   "URI '%s': vid '%s' is not a 16-bit hex number (e.g. "
			                   "1209)",
			                   uri->text, vid);
		if (usb_parse_hex16(pid, &f.pid) < 0)
			return host->error(host, AX_EINVAL,
			                   "URI '%s': pid '%s' is not a 16-bit hex number (e.g. "
			                   "0001)",
			                   uri->text, pid);
		f.have_id = 1;
	}
	if (serial && !serial[0])
		return host->error(host, AX_EINVAL, "URI '%s': serial is empty", uri->text);
	f.serial = serial;
	*out = f;
	return 0;
}

void usb_device_uri(char *out, size_t cap, const usb_where *w, const char *serial)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o;
	int n;

	if (!serial || !serial[0]) {
		(void)snprintf(out, cap, "usb:%u.%u", (unsigned)w->bus, (unsigned)w->address);
		return;
	}
	n = snprintf(out, cap, "usb:?vid=%04x&pid=%04x&serial=", w->vid, w->pid);
	if (n < 0 || (size_t)n >= cap)
		return;
	o = (size_t)n;
	/* Percent-encode all but the unreserved characters, so any serial survives the parser. */
	for (const char *s = serial; *s && o + 4 <= cap; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 0xF];
		}
	}
	out[o] = '\0';
}

void usb_device_detail(char *out, size_t cap, const usb_where *w, const usb_strings *s)
{
	(void)snprintf(out, cap,
	               "bus %u address %u port %s id %04x:%04x manufacturer '%s' product '%s' "
	               "serial '%s'",
	               (unsigned)w->bus, (unsigned)w->address, w->port[0] ? w->port : "-", w->vid,
	               w->pid, s ? s->manufacturer : "", s ? s->product : "", s ? s->serial : "");
}

int usb_explain(int lerr, const char *what, const usb_where *w, char *msg, size_t msg_cap,
                char *hint, size_t hint_cap)
{
	hint[0] = '\0';
	switch (lerr) {
	case LIBUSB_ERROR_ACCESS:
		(void)snprintf(msg, msg_cap, "permission denied to %s USB device %s", what,
		               w->text);
		(void)snprintf(hint, hint_cap,
		               "give your user access with a udev rule, e.g. SUBSYSTEM==\"usb\", "
		               "ATTRS{idVendor}==\"%04x\", ATTRS{idProduct}==\"%04x\", "
		               "TAG+=\"uaccess\" in /etc/udev/rules.d/70-axlink.rules, then "
		               "replug the drive",
		               w->vid, w->pid);
		return AX_EACCESS;
	case LIBUSB_ERROR_BUSY:
		(void)snprintf(msg, msg_cap,
		               "cannot %s USB device %s: another program has "
		               "claimed it",
		               what, w->text);
		(void)snprintf(hint, hint_cap, "close the other program that uses the drive");
		return AX_EBUSY;
	case LIBUSB_ERROR_NO_DEVICE:
		(void)snprintf(msg, msg_cap, "cannot %s USB device %s: it was disconnected", what,
		               w->text);
		return AX_EDISCONNECTED;
	case LIBUSB_ERROR_NOT_FOUND:
		(void)snprintf(msg, msg_cap, "cannot %s USB device %s: not found", what, w->text);
		return AX_ENOTFOUND;
	case LIBUSB_ERROR_TIMEOUT:
		(void)snprintf(msg, msg_cap, "cannot %s USB device %s: timed out", what, w->text);
		return AX_ETIMEDOUT;
	case LIBUSB_ERROR_NO_MEM:
		(void)snprintf(msg, msg_cap, "cannot %s USB device %s: out of memory", what,
		               w->text);
		return AX_ENOMEM;
	case LIBUSB_ERROR_NOT_SUPPORTED:
		(void)snprintf(msg, msg_cap,
		               "cannot %s USB device %s: not supported on this "
		               "system",
		               what, w->text);
		return AX_EUNSUPPORTED;
	default:
		(void)snprintf(msg, msg_cap, "cannot %s USB device %s: %s", what, w->text,
		               libusb_strerror(lerr));
		return AX_EIO;
	}
}

int usb_fail(const ax_host *host, int lerr, const char *what, const usb_where *w)
{
	char msg[USB_MSG_STR], hint[USB_MSG_STR];
	int code = usb_explain(lerr, what, w, msg, sizeof(msg), hint, sizeof(hint));

	if (hint[0])
		return host->error(host, code, "%s (%s)", msg, hint);
	return host->error(host, code, "%s", msg);
}
