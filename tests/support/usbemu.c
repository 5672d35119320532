/* SPDX-License-Identifier: MIT */
/*
 * Emulated USB drives for the USB transport's tests (see usbemu.h).
 *
 * The ioctl handler below stands in for the kernel's usbfs on one device
 * node. libusb submits URBs and reaps them without blocking (it polls the
 * node, which umockdev backs with a socket that is always writable), so
 * "in flight" means: an IN URB waits in pending_in until the drive has a
 * reply, everything else completes at once and waits in `done` until it is
 * reaped. Disconnection is what usbfs does: URBs in flight come back with
 * -ESHUTDOWN, then every call fails with ENODEV.
 */
#define _GNU_SOURCE

#include "usbemu.h"

#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/usb/ch9.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <umockdev.h>

#include "axlink/mcb.h"
#include "simdrive.h"

#define EMU_MAX_DEVS 16
#define EMU_MAX_IFACES 2
#define EMU_DESC_MAX 256
#define EMU_ROOT_SYS "/devices/pci0000:00/0000:00:14.0/usb1"
/* Largest bulk OUT the drive takes as one request. */
#define EMU_MAX_REQUEST 4096

/* One reply waiting to be read from bulk IN (bytes may go out over several URBs). */
struct emu_reply {
	size_t len, off;
	uint8_t data[AX_MCB_MAX_FRAME];
};

struct usbemu_dev {
	usbemu *emu;
	UMockdevIoctlBase *handler;
	unsigned bus, address, port;
	char devnode[32]; /* "/dev/bus/usb/001/002" */
	char syspath[96]; /* "/sys/devices/.../usb1/1-1" */
	uint8_t ep_in, ep_out;
	unsigned n_ifaces;
	char *strings[4]; /* [1] manufacturer, [2] product, [3] serial */
	char *driver;     /* kernel driver name, or NULL */
	simdrive *drive;

	GMutex lock;       /* guards everything below */
	GQueue done;       /* UMockdevIoctlData of completed URBs, to be reaped */
	GQueue pending_in; /* IN URBs waiting for a reply */
	GQueue replies;    /* struct emu_reply */
	GQueue held;       /* struct emu_reply: late replies, out with the next request */
	int mute, busy, unplugged;
	unsigned drop;
	unsigned in_chunk; /* bytes per IN URB at most, 0 = no limit */
	unsigned corrupt;  /* replies left to corrupt */
	unsigned delay;    /* replies left to hold back (usbemu_dev_delay_next) */
	int release_next;  /* held replies go out with the next request */
	unsigned bound;    /* bit per interface: kernel driver bound */
	unsigned claimed;  /* bit per interface: claimed through usbfs */
	usbemu_stats stats;
};

struct usbemu {
	UMockdevTestbed *tb;
	GMutex lock; /* guards devs / n_devs */
	usbemu_dev *devs[EMU_MAX_DEVS];
	unsigned n_devs;
};

/* --- open() interposer: access denied on chosen device nodes ------------------------- */

static pthread_mutex_t deny_lock = PTHREAD_MUTEX_INITIALIZER;
static char deny_paths[EMU_MAX_DEVS][32]; /* guarded by deny_lock */
static atomic_int deny_count;

static int deny_path(const char *path)
{
	int hit = 0;

	if (atomic_load(&deny_count) == 0 || !path)
		return 0;
	pthread_mutex_lock(&deny_lock);
	for (size_t i = 0; i < EMU_MAX_DEVS && !hit; i++)
		hit = deny_paths[i][0] && strcmp(deny_paths[i], path) == 0;
	pthread_mutex_unlock(&deny_lock);
	return hit;
}

static void *next_symbol(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (!sym) {
		fprintf(stderr, "usbemu: no next definition of %s\n", name);
		abort();
	}
	return sym;
}

typedef void (*any_fn)(void);

/* dlsym() as a function pointer (ISO C has no cast from object to function pointers). */
static any_fn next_symbol_fn(const char *name)
{
	void *sym = next_symbol(name);
	any_fn fn;

	memcpy(&fn, &sym, sizeof(fn));
	return fn;
}

static int needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*open2_fn)(const char *, int);

/* The build hides symbols by default; these must be seen by the libraries the plugin loads. */
#define EMU_EXPORT __attribute__((visibility("default")))

EMU_EXPORT int open(const char *path, int flags, ...);
EMU_EXPORT int open64(const char *path, int flags, ...);
EMU_EXPORT int __open_2(const char *path, int flags);
EMU_EXPORT int __open64_2(const char *path, int flags);

int open(const char *path, int flags, ...)
{
	static open_fn next;
	mode_t mode = 0;

	if (needs_mode(flags)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (deny_path(path)) {
		errno = EACCES;
		return -1;
	}
	if (!next)
		next = (open_fn)next_symbol_fn("open");
	return next(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	static open_fn next;
	mode_t mode = 0;

	if (needs_mode(flags)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (deny_path(path)) {
		errno = EACCES;
		return -1;
	}
	if (!next)
		next = (open_fn)next_symbol_fn("open64");
	return next(path, flags, mode);
}

int __open_2(const char *path, int flags)
{
	static open2_fn next;

	if (deny_path(path)) {
		errno = EACCES;
		return -1;
	}
	if (!next)
		next = (open2_fn)next_symbol_fn("__open_2");
	return next(path, flags);
}

int __open64_2(const char *path, int flags)
{
	static open2_fn next;

	if (deny_path(path)) {
		errno = EACCES;
		return -1;
	}
	if (!next)
		next = (open2_fn)next_symbol_fn("__open64_2");
	return next(path, flags);
}

/* --- descriptors ---------------------------------------------------------------------- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v & 0xFF);
	p[1] = (uint8_t)(v >> 8);
}

/* Device descriptor followed by the configuration; returns the length. */
static size_t emu_descriptors(const usbemu_dev *d, const usbemu_dev_config *c, uint8_t *out)
{
	static const uint8_t vendor_if[] = {
	        9,
	        USB_DT_INTERFACE,
	        0,
	        0,
	        2,
	        USB_CLASS_VENDOR_SPEC,
	        0,
	        0,
	        0,
	        7,
	        USB_DT_ENDPOINT,
	        0x81,
	        USB_ENDPOINT_XFER_BULK,
	        0x00,
	        0x02,
	        0,
	        7,
	        USB_DT_ENDPOINT,
	        0x02,
	        USB_ENDPOINT_XFER_BULK,
	        0x00,
	        0x02,
	        0,
	};
	static const uint8_t cdc_ifs[] = {
	        9,
	        USB_DT_INTERFACE,
	        0,
	        0,
	        1,
	        USB_CLASS_COMM,
	        2 /* ACM */,
	        1 /* AT */,
	        0,
	        5,
	        0x24,
	        0x00,
	        0x10,
	        0x01, /* header, CDC 1.10 */
	        5,
	        0x24,
	        0x01,
	        0x00,
	        0x01, /* call management: data on interface 1 */
	        4,
	        0x24,
	        0x02,
	        0x02, /* ACM: line coding and state */
	        5,
	        0x24,
	        0x06,
	        0x00,
	        0x01, /* union: control 0, data 1 */
	        7,
	        USB_DT_ENDPOINT,
	        0x83,
	        USB_ENDPOINT_XFER_INT,
	        0x10,
	        0x00,
	        0x10,
	        9,
	        USB_DT_INTERFACE,
	        1,
	        0,
	        2,
	        USB_CLASS_CDC_DATA,
	        0,
	        0,
	        0,
	        7,
	        USB_DT_ENDPOINT,
	        0x82,
	        USB_ENDPOINT_XFER_BULK,
	        0x00,
	        0x02,
	        0,
	        7,
	        USB_DT_ENDPOINT,
	        0x01,
	        USB_ENDPOINT_XFER_BULK,
	        0x00,
	        0x02,
	        0,
	};
	const uint8_t *ifs = c->cdc_acm ? cdc_ifs : vendor_if;
	size_t ifs_len = c->cdc_acm ? sizeof(cdc_ifs) : sizeof(vendor_if);
	uint8_t *p = out;

	p[0] = USB_DT_DEVICE_SIZE;
	p[1] = USB_DT_DEVICE;
	put16(p + 2, 0x0200);
	p[4] = c->cdc_acm ? USB_CLASS_COMM : 0; /* 0: class per interface */
	p[5] = 0;
	p[6] = 0;
	p[7] = 64;
	put16(p + 8, c->vid);
	put16(p + 10, c->pid);
	put16(p + 12, 0x0100);
	p[14] = d->strings[1] ? 1 : 0;
	p[15] = d->strings[2] ? 2 : 0;
	p[16] = d->strings[3] ? 3 : 0;
	p[17] = 1;
	p += USB_DT_DEVICE_SIZE;

	p[0] = USB_DT_CONFIG_SIZE;
	p[1] = USB_DT_CONFIG;
	put16(p + 2, (unsigned)(USB_DT_CONFIG_SIZE + ifs_len));
	p[4] = (uint8_t)d->n_ifaces;
	p[5] = 1;
	p[6] = 0;
	p[7] = 0x80;
	p[8] = 50;
	p += USB_DT_CONFIG_SIZE;
	memcpy(p, ifs, ifs_len);
	return USB_DT_DEVICE_SIZE + USB_DT_CONFIG_SIZE + ifs_len;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xF];
	}
	out[2 * n] = '\0';
}

/* String descriptor @idx into @dst (at most @max bytes); returns the length. */
static int emu_string(const usbemu_dev *d, unsigned idx, uint8_t *dst, int max)
{
	uint8_t tmp[2 + 2 * 126];
	int n = 2;

	if (idx == 0) {
		tmp[0] = 4;
		tmp[1] = USB_DT_STRING;
		put16(tmp + 2, 0x0409);
		n = 4;
	} else if (idx < 4 && d->strings[idx]) {
		for (const char *s = d->strings[idx]; *s && n < (int)sizeof(tmp); s++) {
			tmp[n++] = (uint8_t)*s;
			tmp[n++] = 0;
		}
		tmp[0] = (uint8_t)n;
		tmp[1] = USB_DT_STRING;
	} else {
		return -1;
	}
	if (n > max)
		n = max;
	memcpy(dst, tmp, (size_t)n);
	return n;
}

/* --- the usbfs stand-in ----------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Move reply bytes into the IN URB @u (its buffer resolved at submit). Lock held. */
static void emu_fill_in(usbemu_dev *d, UMockdevIoctlData *u)
{
	struct usbdevfs_urb *urb = (struct usbdevfs_urb *)u->data;
	struct emu_reply *r = g_queue_peek_head(&d->replies);
	size_t n = r->len - r->off;

	if (n > (size_t)urb->buffer_length)
		n = (size_t)urb->buffer_length;
	if (d->in_chunk && n > d->in_chunk)
		n = d->in_chunk;
	memcpy(urb->buffer, r->data + r->off, n);
	urb->actual_length = (int)n;
	urb->status = 0;
	r->off += n;
	if (r->off == r->len)
		g_free(g_queue_pop_head(&d->replies));
}

/* Hand queued replies to IN URBs that wait for them. Lock held. */
static void emu_serve_pending(usbemu_dev *d)
{
	while (!g_queue_is_empty(&d->pending_in) && !g_queue_is_empty(&d->replies)) {
		UMockdevIoctlData *u = g_queue_pop_head(&d->pending_in);

		emu_fill_in(d, u);
		g_queue_push_tail(&d->done, u);
	}
}

/* One bulk OUT transfer = one MCB request to the drive. Lock held. */
static void emu_request(usbemu_dev *d, const uint8_t *buf, size_t len)
{
	struct emu_reply *r;
	const char *why = NULL;

	d->stats.requests++;
	if (d->drop) {
		d->drop--;
		return;
	}
	if (d->mute)
		return;
	r = g_new0(struct emu_reply, 1);
	simdrive_tick(d->drive, now_ns());
	r->len = simdrive_handle(d->drive, buf, len, r->data, sizeof(r->data), &why);
	if (r->len == 0) {
		g_free(r); /* the drive drops what it cannot parse, as on any bus */
		return;
	}
	d->stats.replies++;
	if (d->corrupt && r->len >= AX_MCB_FRAME_SIZE) {
		d->corrupt--;
		r->data[AX_MCB_FRAME_SIZE - 2] ^= 0xFF; /* the CRC's low byte */
	}
	/* A busy drive answers in order: behind held replies, a reply waits too. */
	if (d->delay || (!d->release_next && !g_queue_is_empty(&d->held))) {
		if (d->delay)
			d->delay--;
		g_queue_push_tail(&d->held, r);
		return;
	}
	/* Late replies go out first, as from a drive that finished them just now. */
	if (d->release_next)
		while (!g_queue_is_empty(&d->held))
			g_queue_push_tail(&d->replies, g_queue_pop_head(&d->held));
	g_queue_push_tail(&d->replies, r);
	emu_serve_pending(d);
}

/* Answer a control transfer (string descriptors only); returns the URB status. */
static int emu_control(usbemu_dev *d, struct usbdevfs_urb *urb, uint8_t *buf)
{
	struct usb_ctrlrequest s;
	unsigned type;
	int n;

	if (urb->buffer_length < (int)sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	type = le16toh(s.wValue) >> 8;
	if (s.bRequest != USB_REQ_GET_DESCRIPTOR || type != USB_DT_STRING)
		return -EPIPE; /* stall, as a device does for a request it does not know */
	n = emu_string(d, le16toh(s.wValue) & 0xFF, buf + sizeof(s),
	               urb->buffer_length - (int)sizeof(s));
	if (n < 0)
		return -EPIPE;
	urb->actual_length = n;
	return 0;
}

/* SUBMITURB. Returns the ioctl's errno (0 = submitted). Lock held. */
static int emu_submit(usbemu_dev *d, UMockdevIoctlData *arg)
{
	UMockdevIoctlData *u, *b = NULL;
	struct usbdevfs_urb *urb;
	GError *gerr = NULL;
	int queued = 1;

	u = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &gerr);
	if (!u) {
		g_clear_error(&gerr);
		return EFAULT;
	}
	urb = (struct usbdevfs_urb *)u->data;
	if (urb->buffer_length < 0 || urb->buffer_length > 65536) {
		g_object_unref(u);
		return EINVAL;
	}
	if (urb->buffer_length > 0) {
		b = umockdev_ioctl_data_resolve(u, offsetof(struct usbdevfs_urb, buffer),
		                                (gsize)urb->buffer_length, &gerr);
		if (!b) {
			g_clear_error(&gerr);
			g_object_unref(u);
			return EFAULT;
		}
	}
	urb->status = 0;
	urb->actual_length = 0;
	if (urb->type == USBDEVFS_URB_TYPE_CONTROL && b) {
		urb->status = emu_control(d, urb, b->data);
	} else if (urb->type == USBDEVFS_URB_TYPE_BULK && urb->endpoint == d->ep_out) {
		if (b && urb->buffer_length <= EMU_MAX_REQUEST)
			emu_request(d, b->data, (size_t)urb->buffer_length);
		urb->actual_length = urb->buffer_length;
	} else if (urb->type == USBDEVFS_URB_TYPE_BULK && urb->endpoint == d->ep_in && b) {
		if (!g_queue_is_empty(&d->replies)) {
			emu_fill_in(d, u);
		} else {
			queued = 0;
			g_queue_push_tail(&d->pending_in, g_object_ref(u));
		}
	} else {
		urb->status = -EPIPE;
	}
	if (queued)
		g_queue_push_tail(&d->done, g_object_ref(u));
	if (b)
		g_object_unref(b);
	g_object_unref(u);
	return 0;
}

/* REAPURB / REAPURBNDELAY: hand back one completed URB. Lock held. */
static int emu_reap(usbemu_dev *d, UMockdevIoctlData *arg)
{
	UMockdevIoctlData *ptr, *u;
	GError *gerr = NULL;

	if (g_queue_is_empty(&d->done))
		return d->unplugged ? ENODEV : EAGAIN;
	ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &gerr);
	if (!ptr) {
		g_clear_error(&gerr);
		return EFAULT;
	}
	u = g_queue_pop_head(&d->done);
	umockdev_ioctl_data_set_ptr(ptr, 0, u);
	g_object_unref(u);
	g_object_unref(ptr);
	return 0;
}

/* DISCARDURB: a pending IN URB comes back with -ENOENT. Lock held. */
static int emu_discard(usbemu_dev *d, UMockdevIoctlData *arg)
{
	gulong addr = *(gulong *)arg->data;

	for (GList *l = d->pending_in.head; l; l = l->next) {
		UMockdevIoctlData *u = l->data;

		if (u->client_addr != addr)
			continue;
		((struct usbdevfs_urb *)u->data)->status = -ENOENT;
		g_queue_delete_link(&d->pending_in, l);
		g_queue_push_tail(&d->done, u);
		d->stats.discards++;
		return 0;
	}
	return EINVAL; /* completed already: libusb reaps it as it is */
}

static int emu_resolve_uint(UMockdevIoctlData *arg, unsigned *out)
{
	GError *gerr = NULL;
	UMockdevIoctlData *v = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned), &gerr);

	if (!v) {
		g_clear_error(&gerr);
		return EFAULT;
	}
	memcpy(out, v->data, sizeof(*out));
	g_object_unref(v);
	return 0;
}

/* Claim @iface for usbfs. Lock held. */
static int emu_claim(usbemu_dev *d, unsigned iface)
{
	if (iface >= d->n_ifaces)
		return ENOENT;
	if (d->busy || (d->bound & (1u << iface)))
		return EBUSY;
	if (!(d->claimed & (1u << iface)))
		d->stats.claims++;
	d->claimed |= 1u << iface;
	return 0;
}

static int emu_disconnect_claim(usbemu_dev *d, UMockdevIoctlData *arg)
{
	struct usbdevfs_disconnect_claim dc;
	UMockdevIoctlData *v;
	GError *gerr = NULL;

	v = umockdev_ioctl_data_resolve(arg, 0, sizeof(dc), &gerr);
	if (!v) {
		g_clear_error(&gerr);
		return EFAULT;
	}
	memcpy(&dc, v->data, sizeof(dc));
	g_object_unref(v);
	dc.driver[sizeof(dc.driver) - 1] = '\0';
	if (dc.interface >= d->n_ifaces)
		return ENOENT;
	if (d->busy)
		return EBUSY;
	if (d->bound & (1u << dc.interface)) {
		int match = d->driver && strcmp(d->driver, dc.driver) == 0;

		if ((dc.flags & USBDEVFS_DISCONNECT_CLAIM_IF_DRIVER) && !match)
			return EBUSY;
		if ((dc.flags & USBDEVFS_DISCONNECT_CLAIM_EXCEPT_DRIVER) && match)
			return EBUSY;
		d->bound &= ~(1u << dc.interface);
		d->stats.detaches++;
	}
	return emu_claim(d, dc.interface);
}

/* USBDEVFS_IOCTL: the driver connect/disconnect requests. */
static int emu_driver_ioctl(usbemu_dev *d, UMockdevIoctlData *arg, long *res)
{
	struct usbdevfs_ioctl cmd;
	UMockdevIoctlData *v;
	GError *gerr = NULL;
	unsigned bit;

	v = umockdev_ioctl_data_resolve(arg, 0, sizeof(cmd), &gerr);
	if (!v) {
		g_clear_error(&gerr);
		return EFAULT;
	}
	memcpy(&cmd, v->data, sizeof(cmd));
	g_object_unref(v);
	if (cmd.ifno < 0 || (unsigned)cmd.ifno >= d->n_ifaces)
		return EINVAL;
	bit = 1u << cmd.ifno;
	if (cmd.ioctl_code == (int)USBDEVFS_DISCONNECT) {
		if (!(d->bound & bit))
			return ENODATA;
		d->bound &= ~bit;
		d->stats.detaches++;
		return 0;
	}
	if (cmd.ioctl_code == (int)USBDEVFS_CONNECT) {
		if (d->claimed & bit)
			return EBUSY;
		if (d->driver && !(d->bound & bit)) {
			d->bound |= bit;
			d->stats.attaches++;
			*res = 1;
		}
		return 0;
	}
	return ENOTTY;
}

static int emu_getdriver(usbemu_dev *d, UMockdevIoctlData *arg)
{
	struct usbdevfs_getdriver gd;
	UMockdevIoctlData *v;
	GError *gerr = NULL;
	const char *name;

	v = umockdev_ioctl_data_resolve(arg, 0, sizeof(gd), &gerr);
	if (!v) {
		g_clear_error(&gerr);
		return EFAULT;
	}
	memcpy(&gd, v->data, sizeof(gd));
	if (gd.interface >= d->n_ifaces) {
		g_object_unref(v);
		return EINVAL;
	}
	if (d->claimed & (1u << gd.interface))
		name = "usbfs";
	else if (d->bound & (1u << gd.interface))
		name = d->driver;
	else
		name = NULL;
	if (name) {
		memset(gd.driver, 0, sizeof(gd.driver));
		memcpy(gd.driver, name, strnlen(name, sizeof(gd.driver) - 1));
		memcpy(v->data, &gd, sizeof(gd));
	}
	g_object_unref(v);
	return name ? 0 : ENODATA;
}

static gboolean emu_on_ioctl(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer userdata)
{
	usbemu_dev *d = userdata;
	gulong req = umockdev_ioctl_client_get_request(c);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
	long res = 0;
	int err = 0;
	unsigned iface;

	(void)h;
	g_mutex_lock(&d->lock);
	if (req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB) {
		err = emu_reap(d, arg);
	} else if (d->unplugged) {
		err = req == (gulong)USBDEVFS_DISCARDURB ? EINVAL : ENODEV;
	} else if (req == USBDEVFS_GET_CAPABILITIES) {
		guint32 caps = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION |
		               USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
		GError *gerr = NULL;
		UMockdevIoctlData *v = umockdev_ioctl_data_resolve(arg, 0, sizeof(caps), &gerr);

		if (v) {
			memcpy(v->data, &caps, sizeof(caps));
			g_object_unref(v);
		} else {
			g_clear_error(&gerr);
			err = EFAULT;
		}
	} else if (req == USBDEVFS_SUBMITURB) {
		err = emu_submit(d, arg);
	} else if (req == USBDEVFS_DISCARDURB) {
		err = emu_discard(d, arg);
	} else if (req == USBDEVFS_CLAIMINTERFACE) {
		err = emu_resolve_uint(arg, &iface);
		if (!err)
			err = emu_claim(d, iface);
	} else if (req == USBDEVFS_RELEASEINTERFACE) {
		err = emu_resolve_uint(arg, &iface);
		if (!err && (iface >= d->n_ifaces || !(d->claimed & (1u << iface))))
			err = EINVAL;
		if (!err) {
			d->claimed &= ~(1u << iface);
			d->stats.releases++;
		}
	} else if (req == USBDEVFS_DISCONNECT_CLAIM) {
		err = emu_disconnect_claim(d, arg);
	} else if (req == USBDEVFS_IOCTL) {
		err = emu_driver_ioctl(d, arg, &res);
	} else if (req == USBDEVFS_GETDRIVER) {
		err = emu_getdriver(d, arg);
	} else if (req == USBDEVFS_SETINTERFACE || req == USBDEVFS_CLEAR_HALT ||
	           req == USBDEVFS_RESET || req == USBDEVFS_SETCONFIGURATION) {
		err = 0;
	} else {
		err = ENOTTY;
	}
	g_mutex_unlock(&d->lock);
	umockdev_ioctl_client_complete(c, err ? -1 : res, err);
	return TRUE;
}

static void emu_on_connect(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer userdata)
{
	usbemu_dev *d = userdata;

	(void)h;
	(void)c;
	g_mutex_lock(&d->lock);
	d->stats.opens++;
	g_mutex_unlock(&d->lock);
}

/* --- testbed ---------------------------------------------------------------------------- */

static const char root_hub[] =
        "P: " EMU_ROOT_SYS "\n"
        "N: bus/usb/001/001\n"
        "E: BUSNUM=001\nE: DEVNAME=/dev/bus/usb/001/001\nE: DEVNUM=001\n"
        "E: DEVTYPE=usb_device\nE: DRIVER=usb\nE: MAJOR=189\nE: MINOR=0\n"
        "E: PRODUCT=1d6b/2/606\nE: SUBSYSTEM=usb\n"
        "A: bConfigurationValue=1\\n\nA: busnum=1\\n\nA: devnum=1\\n\n"
        "A: idProduct=0002\nA: idVendor=1d6b\nA: speed=480\\n\nA: dev=189:0\n"
        "H: descriptors=12010002090001406B1D020006060302010109021900010100E0000904000001090000"
        "000705810304000C\n"
        "\n"
        "P: /devices/pci0000:00/0000:00:14.0\n"
        "E: DRIVER=xhci_hcd\nE: PCI_CLASS=C0330\nE: SUBSYSTEM=pci\n"
        "A: class=0x0c0330\nA: vendor=0x8086\nA: device=0x1e31\n";

int usbemu_new(usbemu **out)
{
	const char *preload = getenv("LD_PRELOAD");
	usbemu *emu;
	GError *gerr = NULL;

	/* umockdev_in_mock_environment() says 0 under umockdev-wrapper (0.17): ask LD_PRELOAD. */
	if (!preload || !strstr(preload, "libumockdev-preload")) {
		fprintf(stderr, "usbemu: not in a umockdev environment; run the program under "
		                "umockdev-wrapper\n");
		return -1;
	}
	emu = g_new0(usbemu, 1);
	g_mutex_init(&emu->lock);
	emu->tb = umockdev_testbed_new();
	if (!umockdev_testbed_add_from_string(emu->tb, root_hub, &gerr)) {
		fprintf(stderr, "usbemu: root hub: %s\n", gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		usbemu_free(emu);
		return -1;
	}
	*out = emu;
	return 0;
}

static void dev_free(usbemu_dev *d)
{
	g_queue_clear_full(&d->done, g_object_unref);
	g_queue_clear_full(&d->pending_in, g_object_unref);
	g_queue_clear_full(&d->replies, g_free);
	g_queue_clear_full(&d->held, g_free);
	if (d->handler)
		g_object_unref(d->handler);
	simdrive_free(d->drive);
	for (size_t i = 0; i < 4; i++)
		g_free(d->strings[i]);
	g_free(d->driver);
	g_mutex_clear(&d->lock);
	g_free(d);
}

void usbemu_free(usbemu *emu)
{
	if (!emu)
		return;
	for (unsigned i = 0; i < emu->n_devs; i++) {
		usbemu_dev *d = emu->devs[i];
		GError *gerr = NULL;

		if (d->handler && !umockdev_testbed_detach_ioctl(emu->tb, d->devnode, &gerr))
			g_clear_error(&gerr);
		dev_free(d);
	}
	if (emu->tb)
		g_object_unref(emu->tb);
	g_mutex_clear(&emu->lock);
	g_free(emu);
}

/* "A: name=value" for a sysfs string attribute; skipped when NULL. */
static void add_attr(GString *s, const char *name, const char *value)
{
	if (value)
		g_string_append_printf(s, "A: %s=%s\n", name, value);
}

int usbemu_add(usbemu *emu, const usbemu_dev_config *cfg, usbemu_dev **out)
{
	const simdrive_codec codec = {ax_mcb_encode, ax_mcb_decode};
	uint8_t desc[EMU_DESC_MAX];
	char desc_hex[2 * EMU_DESC_MAX + 1];
	GError *gerr = NULL;
	usbemu_dev *d;
	GString *s;
	size_t len;
	gboolean ok, attached;

	g_mutex_lock(&emu->lock);
	if (emu->n_devs == EMU_MAX_DEVS) {
		g_mutex_unlock(&emu->lock);
		fprintf(stderr, "usbemu: more than %d devices\n", EMU_MAX_DEVS);
		return -1;
	}
	d = g_new0(usbemu_dev, 1);
	d->emu = emu;
	d->port = emu->n_devs + 1;
	d->address = emu->n_devs + 2;
	emu->devs[emu->n_devs++] = d;
	g_mutex_unlock(&emu->lock);

	g_mutex_init(&d->lock);
	d->bus = 1;
	d->strings[1] = g_strdup(cfg->manufacturer);
	d->strings[2] = g_strdup(cfg->product);
	d->strings[3] = g_strdup(cfg->serial);
	d->driver = g_strdup(cfg->kernel_driver);
	d->n_ifaces = cfg->cdc_acm ? 2 : 1;
	d->ep_in = cfg->cdc_acm ? 0x82 : 0x81;
	d->ep_out = cfg->cdc_acm ? 0x01 : 0x02;
	d->bound = d->driver ? (1u << d->n_ifaces) - 1 : 0;
	(void)snprintf(d->devnode, sizeof(d->devnode), "/dev/bus/usb/%03u/%03u", d->bus,
	               d->address);
	(void)snprintf(d->syspath, sizeof(d->syspath), "/sys" EMU_ROOT_SYS "/1-%u", d->port);
	if (simdrive_new(&d->drive, &codec, cfg->model, cfg->drive_serial) < 0) {
		fprintf(stderr, "usbemu: no simulated model '%s'\n",
		        cfg->model ? cfg->model : "(default)");
		return -1;
	}

	len = emu_descriptors(d, cfg, desc);
	hex(desc_hex, desc, len);
	s = g_string_new(NULL);
	g_string_append_printf(s, "P: " EMU_ROOT_SYS "/1-%u\n", d->port);
	g_string_append_printf(s, "N: bus/usb/%03u/%03u=%s\n", d->bus, d->address, desc_hex);
	g_string_append_printf(s,
	                       "E: BUSNUM=%03u\nE: DEVNAME=%s\nE: DEVNUM=%03u\n"
	                       "E: DEVTYPE=usb_device\nE: DRIVER=usb\nE: MAJOR=189\n"
	                       "E: MINOR=%u\nE: PRODUCT=%x/%x/100\nE: SUBSYSTEM=usb\n",
	                       d->bus, d->devnode, d->address, d->address - 1, cfg->vid, cfg->pid);
	/* sysfs: numeric attributes end with a newline, as the kernel writes them. */
	g_string_append_printf(s,
	                       "A: bConfigurationValue=1\\n\nA: busnum=%u\\n\nA: devnum=%u\\n\n"
	                       "A: speed=480\\n\nA: dev=189:%u\nA: devpath=%u\n"
	                       "A: idVendor=%04x\nA: idProduct=%04x\n",
	                       d->bus, d->address, d->address - 1, d->port, cfg->vid, cfg->pid);
	add_attr(s, "manufacturer", cfg->manufacturer);
	add_attr(s, "product", cfg->product);
	add_attr(s, "serial", cfg->serial);
	g_string_append_printf(s, "H: descriptors=%s\n", desc_hex);

	/*
	 * The handler first, attached before the sysfs entry appears: whoever
	 * reacts to the "add" uevent (a hot-plug thread) must find the node
	 * answering, not a plain file that fails its first ioctls.
	 */
	d->handler = umockdev_ioctl_base_new();
	g_signal_connect(d->handler, "handle-ioctl", G_CALLBACK(emu_on_ioctl), d);
	g_signal_connect(d->handler, "client-connected", G_CALLBACK(emu_on_connect), d);
	ok = umockdev_testbed_attach_ioctl(emu->tb, d->devnode, d->handler, &gerr);
	attached = ok;
	if (ok)
		ok = umockdev_testbed_add_from_string(emu->tb, s->str, &gerr);
	g_string_free(s, TRUE);
	if (ok && cfg->tty) {
		/* The interface, then its tty, each a child of the one before. */
		s = g_string_new(NULL);
		g_string_append_printf(s,
		                       "P: " EMU_ROOT_SYS "/1-%u/1-%u:1.0/tty/%s\n"
		                       "E: DEVNAME=/dev/%s\nE: SUBSYSTEM=tty\nA: dev=166:0\n\n"
		                       "P: " EMU_ROOT_SYS "/1-%u/1-%u:1.0\n"
		                       "E: DEVTYPE=usb_interface\nE: DRIVER=%s\nE: SUBSYSTEM=usb\n"
		                       "A: bInterfaceNumber=00\n",
		                       d->port, d->port, cfg->tty, cfg->tty, d->port, d->port,
		                       cfg->kernel_driver ? cfg->kernel_driver : "cdc_acm");
		ok = umockdev_testbed_add_from_string(emu->tb, s->str, &gerr);
		g_string_free(s, TRUE);
	}
	if (!ok) {
		fprintf(stderr, "usbemu: add %04x:%04x: %s\n", cfg->vid, cfg->pid,
		        gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		if (attached)
			(void)umockdev_testbed_detach_ioctl(emu->tb, d->devnode, NULL);
		g_object_unref(d->handler);
		d->handler = NULL;
		return -1;
	}
	*out = d;
	return 0;
}

unsigned usbemu_dev_bus(const usbemu_dev *dev)
{
	return dev->bus;
}

unsigned usbemu_dev_address(const usbemu_dev *dev)
{
	return dev->address;
}

const char *usbemu_dev_syspath(const usbemu_dev *dev)
{
	return dev->syspath;
}

void usbemu_dev_set_mute(usbemu_dev *dev, int on)
{
	g_mutex_lock(&dev->lock);
	dev->mute = on;
	g_mutex_unlock(&dev->lock);
}

void usbemu_dev_drop_next(usbemu_dev *dev, unsigned n)
{
	g_mutex_lock(&dev->lock);
	dev->drop = n;
	g_mutex_unlock(&dev->lock);
}

void usbemu_dev_delay_next(usbemu_dev *dev, unsigned n, int with_next_request)
{
	g_mutex_lock(&dev->lock);
	dev->delay = n;
	dev->release_next = with_next_request;
	g_mutex_unlock(&dev->lock);
}

void usbemu_dev_release_held(usbemu_dev *dev)
{
	g_mutex_lock(&dev->lock);
	while (!g_queue_is_empty(&dev->held))
		g_queue_push_tail(&dev->replies, g_queue_pop_head(&dev->held));
	emu_serve_pending(dev);
	g_mutex_unlock(&dev->lock);
}

void usbemu_dev_set_in_chunk(usbemu_dev *dev, unsigned n)
{
	g_mutex_lock(&dev->lock);
	dev->in_chunk = n;
	g_mutex_unlock(&dev->lock);
}

void usbemu_dev_corrupt_next(usbemu_dev *dev, unsigned n)
{
	g_mutex_lock(&dev->lock);
	dev->corrupt = n;
	g_mutex_unlock(&dev->lock);
}

void usbemu_dev_set_busy(usbemu_dev *dev, int on)
{
	g_mutex_lock(&dev->lock);
	dev->busy = on;
	g_mutex_unlock(&dev->lock);
}

void usbemu_dev_set_denied(usbemu_dev *dev, int on)
{
	size_t free_slot = EMU_MAX_DEVS;

	pthread_mutex_lock(&deny_lock);
	for (size_t i = 0; i < EMU_MAX_DEVS; i++) {
		if (strcmp(deny_paths[i], dev->devnode) == 0) {
			if (!on) {
				deny_paths[i][0] = '\0';
				atomic_fetch_sub(&deny_count, 1);
			}
			pthread_mutex_unlock(&deny_lock);
			return;
		}
		if (!deny_paths[i][0] && free_slot == EMU_MAX_DEVS)
			free_slot = i;
	}
	if (on && free_slot < EMU_MAX_DEVS) {
		(void)snprintf(deny_paths[free_slot], sizeof(deny_paths[free_slot]), "%s",
		               dev->devnode);
		atomic_fetch_add(&deny_count, 1);
	}
	pthread_mutex_unlock(&deny_lock);
}

void usbemu_dev_unplug(usbemu_dev *dev)
{
	g_mutex_lock(&dev->lock);
	if (dev->unplugged) {
		g_mutex_unlock(&dev->lock);
		return;
	}
	dev->unplugged = 1;
	while (!g_queue_is_empty(&dev->pending_in)) {
		UMockdevIoctlData *u = g_queue_pop_head(&dev->pending_in);

		((struct usbdevfs_urb *)u->data)->status = -ESHUTDOWN;
		g_queue_push_tail(&dev->done, u);
	}
	dev->claimed = 0;
	dev->bound = 0;
	g_mutex_unlock(&dev->lock);
	umockdev_testbed_uevent(dev->emu->tb, dev->syspath, "remove");
	umockdev_testbed_remove_device(dev->emu->tb, dev->syspath);
}

void usbemu_dev_stats(usbemu_dev *dev, usbemu_stats *out)
{
	g_mutex_lock(&dev->lock);
	*out = dev->stats;
	out->bound_now = (unsigned)__builtin_popcount(dev->bound);
	out->claimed_now = (unsigned)__builtin_popcount(dev->claimed);
	g_mutex_unlock(&dev->lock);
}
