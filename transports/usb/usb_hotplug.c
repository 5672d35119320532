/* SPDX-License-Identifier: MIT */
/*
 * Hot-plug detection of known USB drives (see usb.h for the contract).
 *
 * libusb calls the hot-plug callback from inside its event handling — on
 * the thread in usb_hotplug_run(), or inside libusb_hotplug_register_callback()
 * for the devices already attached — where it must not do I/O. So the
 * callback only queues the device; usb_hotplug_run() then probes arrivals
 * (open, strings, identity over MCB, as a scan does) and reports them, and
 * reports removals with the record their arrival had.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "usb.h"

#define HP_DEFAULT_PROBE_MS 200
#define HP_MAX_WAIT_US 100000
/* Opens of a new device before its failure is reported, and the pause between them. */
#define HP_OPEN_TRIES 4
#define HP_OPEN_RETRY_NS 50000000L

struct hp_pending {
	int event;          /* USB_HOTPLUG_* */
	libusb_device *dev; /* referenced */
};

/* A drive that arrived and has not left. */
struct hp_drive {
	libusb_device *dev; /* referenced */
	uint8_t bus, address;
	usb_record rec;
};

struct usb_hotplug {
	const ax_host *host;
	libusb_context *ctx;
	libusb_hotplug_callback_handle handle;
	int registered;
	usb_hotplug_cb cb;
	void *userdata;
	int probe_ms;
	atomic_int wake;

	/* Filled by the libusb callback, emptied by usb_hotplug_run(), same thread. */
	struct hp_pending *pending;
	size_t n_pending, cap_pending;
	unsigned lost; /* events dropped for want of memory */

	struct hp_drive **drives;
	size_t n_drives, cap_drives;
};

static int LIBUSB_CALL hp_on_event(libusb_context *ctx, libusb_device *dev,
                                   libusb_hotplug_event event, void *userdata)
{
	usb_hotplug *hp = userdata;
	struct libusb_device_descriptor dd;

	(void)ctx;
	/* Unknown ids are none of our business: not opened, not reported. */
	if (libusb_get_device_descriptor(dev, &dd) < 0 ||
	    !usb_known_find(dd.idVendor, dd.idProduct))
		return 0;
	if (hp->n_pending == hp->cap_pending) {
		size_t cap = hp->cap_pending ? 2 * hp->cap_pending : 8;
		struct hp_pending *grown = hp->host->calloc(cap, sizeof(*grown));

		if (!grown) {
			hp->lost++;
			return 0;
		}
		if (hp->n_pending)
			memcpy(grown, hp->pending, hp->n_pending * sizeof(*grown));
		hp->host->free(hp->pending);
		hp->pending = grown;
		hp->cap_pending = cap;
	}
	hp->pending[hp->n_pending].event = event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED
	                                           ? USB_HOTPLUG_ARRIVED
	                                           : USB_HOTPLUG_LEFT;
	hp->pending[hp->n_pending].dev = libusb_ref_device(dev);
	hp->n_pending++;
	return 0; /* stay registered */
}

int usb_hotplug_start(usb_hotplug **out, const ax_host *host, unsigned flags, int probe_timeout_ms,
                      usb_hotplug_cb cb, void *userdata)
{
	usb_hotplug *hp;
	int r, err;

	if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG))
		return host->error(host, AX_EUNSUPPORTED,
		                   "this libusb cannot report USB devices coming and going");
	hp = host->calloc(1, sizeof(*hp));
	if (!hp)
		return host->error(host, AX_ENOMEM, "out of memory");
	hp->host = host;
	hp->cb = cb;
	hp->userdata = userdata;
	hp->probe_ms = probe_timeout_ms > 0 ? probe_timeout_ms : HP_DEFAULT_PROBE_MS;
	atomic_init(&hp->wake, 0);
	r = libusb_init(&hp->ctx);
	if (r < 0) {
		hp->ctx = NULL;
		err = host->error(host, AX_EIO, "cannot start libusb to watch for USB drives: %s",
		                  libusb_strerror(r));
		goto fail;
	}
	/* Any ids: the known pairs are many, the filter is ours (hp_on_event). */
	r = libusb_hotplug_register_callback(
	        hp->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
	        (flags & USB_HOTPLUG_ENUMERATE) ? LIBUSB_HOTPLUG_ENUMERATE : 0,
	        LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
	        hp_on_event, hp, &hp->handle);
	if (r < 0) {
		err = host->error(host, r == LIBUSB_ERROR_NOT_SUPPORTED ? AX_EUNSUPPORTED : AX_EIO,
		                  "cannot watch for USB drives: %s", libusb_strerror(r));
		goto fail;
	}
	hp->registered = 1;
	*out = hp;
	return 0;
fail:
	usb_hotplug_stop(hp);
	return err;
}

static struct hp_drive *hp_find(usb_hotplug *hp, libusb_device *dev, size_t *index)
{
	uint8_t bus = libusb_get_bus_number(dev), address = libusb_get_device_address(dev);

	/* libusb hands over the same device object for the removal; its place is the fallback. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < hp->n_drives; i++) {
			struct hp_drive *d = hp->drives[i];

			if (pass == 0 ? d->dev == dev : (d->bus == bus && d->address == address)) {
				*index = i;
				return d;
			}
		}
	}
	return NULL;
}

static int hp_arrived(usb_hotplug *hp, libusb_device *dev)
{
	const ax_host *host = hp->host;
	struct hp_drive *d;
	size_t index;

	if (hp_find(hp, dev, &index) && hp->drives[index]->dev == dev)
		return 0; /* reported already (listed at start and announced again) */
	if (hp->n_drives == hp->cap_drives) {
		size_t cap = hp->cap_drives ? 2 * hp->cap_drives : 8;
		struct hp_drive **grown = host->calloc(cap, sizeof(*grown));

		if (!grown)
			return host->error(host, AX_ENOMEM, "out of memory for a new USB drive");
		if (hp->n_drives)
			memcpy(grown, hp->drives, hp->n_drives * sizeof(*grown));
		host->free(hp->drives);
		hp->drives = grown;
		hp->cap_drives = cap;
	}
	d = host->calloc(1, sizeof(*d));
	if (!d)
		return host->error(host, AX_ENOMEM, "out of memory for a new USB drive");
	d->dev = libusb_ref_device(dev);
	d->bus = libusb_get_bus_number(dev);
	d->address = libusb_get_device_address(dev);
	/*
	 * The arrival comes with the kernel's add event; udev may still be
	 * setting the node's permissions (and the device its descriptors up),
	 * so a device that cannot be opened yet gets a few more tries.
	 */
	for (int i = 0; i < HP_OPEN_TRIES; i++) {
		struct timespec ts = {0, HP_OPEN_RETRY_NS};

		(void)usb_probe_device(host, hp->ctx, dev, NULL, hp->probe_ms, &d->rec);
		if (d->rec.r.access != AX_ACCESS_PERMISSION_DENIED &&
		    d->rec.r.access != AX_ACCESS_ERROR)
			break;
		if (i + 1 < HP_OPEN_TRIES)
			(void)nanosleep(&ts, NULL);
	}
	hp->drives[hp->n_drives++] = d;
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "USB drive arrived: %s (access state %d)", d->rec.uri,
		          d->rec.r.access);
	return hp->cb(USB_HOTPLUG_ARRIVED, &d->rec.r, hp->userdata);
}

static int hp_left(usb_hotplug *hp, libusb_device *dev)
{
	const ax_host *host = hp->host;
	struct hp_drive *d;
	size_t index;
	int ret;

	d = hp_find(hp, dev, &index);
	if (!d) {
		/* Arrived before we watched (and not enumerated): report what is known. */
		usb_record rec;
		usb_where w;

		usb_where_of(&w, dev, NULL);
		memset(&rec, 0, sizeof(rec));
		rec.r.size = sizeof(rec.r);
		usb_device_uri(rec.uri, sizeof(rec.uri), &w, NULL);
		usb_device_detail(rec.detail, sizeof(rec.detail), &w, NULL);
		rec.r.uri = rec.uri;
		rec.r.detail = rec.detail;
		rec.r.message = rec.message;
		rec.r.hint = rec.hint;
		rec.r.sw_version = rec.sw;
		rec.r.access = AX_ACCESS_ERROR;
		return hp->cb(USB_HOTPLUG_LEFT, &rec.r, hp->userdata);
	}
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "USB drive left: %s", d->rec.uri);
	ret = hp->cb(USB_HOTPLUG_LEFT, &d->rec.r, hp->userdata);
	hp->drives[index] = hp->drives[--hp->n_drives];
	libusb_unref_device(d->dev);
	host->free(d);
	return ret;
}

/* Deliver queued events, oldest first. Returns the count, or a negative value. */
static int hp_deliver(usb_hotplug *hp)
{
	int delivered = 0;

	while (hp->n_pending) {
		struct hp_pending p = hp->pending[0];
		int ret;

		hp->n_pending--;
		memmove(hp->pending, hp->pending + 1, hp->n_pending * sizeof(*hp->pending));
		ret = p.event == USB_HOTPLUG_ARRIVED ? hp_arrived(hp, p.dev) : hp_left(hp, p.dev);
		libusb_unref_device(p.dev);
		if (ret < 0)
			return ret;
		delivered++;
	}
	return delivered;
}

int usb_hotplug_run(usb_hotplug *hp, int timeout_ms)
{
	const ax_host *host = hp->host;
	uint64_t deadline = host->now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	int polled = 0;

	for (;;) {
		uint64_t now, left_us = 0;
		struct timeval tv;
		int n;

		if (hp->lost) {
			host->log(host, AX_LOG_WARN,
			          "missed %u USB hot-plug event(s) for want of "
			          "memory, ignoring",
			          hp->lost);
			hp->lost = 0;
		}
		n = hp_deliver(hp);
		if (n != 0)
			return n;
		if (atomic_exchange(&hp->wake, 0))
			return 0;
		now = host->now_ns();
		/* Even a zero timeout looks once at what libusb has seen. */
		if (now >= deadline && polled)
			return 0;
		if (now < deadline)
			left_us = (deadline - now) / 1000u;
		if (left_us > HP_MAX_WAIT_US)
			left_us = HP_MAX_WAIT_US;
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)left_us;
		(void)libusb_handle_events_timeout_completed(hp->ctx, &tv, NULL);
		polled = 1;
	}
}

void usb_hotplug_wake(usb_hotplug *hp)
{
	atomic_store(&hp->wake, 1);
	libusb_interrupt_event_handler(hp->ctx);
}

void usb_hotplug_stop(usb_hotplug *hp)
{
	if (!hp)
		return;
	if (hp->registered)
		libusb_hotplug_deregister_callback(hp->ctx, hp->handle);
	for (size_t i = 0; i < hp->n_pending; i++)
		libusb_unref_device(hp->pending[i].dev);
	for (size_t i = 0; i < hp->n_drives; i++) {
		libusb_unref_device(hp->drives[i]->dev);
		hp->host->free(hp->drives[i]);
	}
	hp->host->free(hp->pending);
	hp->host->free(hp->drives);
	if (hp->ctx)
		libusb_exit(hp->ctx);
	hp->host->free(hp);
}
