/* SPDX-License-Identifier: MIT */
/*
 * One open USB endpoint: MCB frames over a bulk OUT/IN pair.
 *
 * Framing: a request is one bulk OUT transfer; the reply is read from bulk
 * IN until a whole frame (14 bytes, plus the payload an extended frame
 * announces) has arrived, so a device may split it over several transfers.
 * The device ends each reply with a short packet (a zero-length one when
 * the reply fills its last packet), as a USB device must for a transfer of
 * unknown length.
 *
 * Transfers are asynchronous so that cancel() can reach them: the request
 * thread submits one transfer at a time and runs libusb's event loop until
 * it completes; libusb itself cancels it at its deadline. cancel() from
 * another thread sets a flag (checked before every submit) and cancels the
 * transfer in flight. A cancel that arrives between requests is dropped,
 * as in the eth transport: cancel() aborts what runs, nothing later.
 *
 * Retries follow the MCB rules: a timeout sends the same frame once more;
 * one reply that does not answer the request (another register's, or an
 * ack of another kind: a write's ack echoes the value written, see
 * ax_mcb_check_answer()) is skipped, a second fails the request. After a
 * request that was not answered on its first send (a timeout, a cancel, an
 * error), its answers may still come: before the next request the link
 * resynchronises, reading and dropping what the device sends until it has
 * been quiet for one request timeout (ep_drain()), so that they cannot pass
 * for the next request's reply.
 *
 * A reply may come in pieces, each a short packet, so a transfer's end is
 * no frame boundary: frames are cut by the length their header declares.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "usb.h"

/* Reply buffer: any frame and then some; a multiple of every bulk packet size. */
#define USB_RX_SIZE 2048
/*
 * Resynchronising: the device must be quiet for one request timeout, at most
 * USB_DRAIN_QUIET_MAX_MS, and the drain ends after USB_DRAIN_QUIETS of those
 * however busy the device is (the late answers to both tries come within
 * about three; a device talking on beyond that is broken, not late).
 */
#define USB_DRAIN_QUIET_MAX_MS 1000
#define USB_DRAIN_QUIETS 4
/* How long a transfer may overstay its deadline before we cancel it, and then give up. */
#define USB_GRACE_NS 1000000000ull
/* Longest wait in libusb's event loop, so the grace check runs. */
#define USB_EVENT_WAIT_US 100000

/* Returned by ep_run() and ep_receive() when the deadline passed; not an error yet. */
#define USB_XFER_TIMEOUT 1

struct usb_ep {
	const ax_host *host;
	libusb_context *ctx; /* borrowed */
	libusb_device *dev;  /* referenced */
	libusb_device_handle *handle;
	usb_where where;
	usb_strings strings;
	usb_iface iface;
	int claimed_comm, claimed_data;
	struct libusb_transfer *xfer; /* reused for every OUT and IN transfer */
	uint8_t *tx;                  /* AX_MCB_MAX_FRAME: the request */
	uint8_t *rx;                  /* USB_RX_SIZE: reply bytes */
	int done;                     /* set by the transfer callback, on the request thread */
	int dirty;                    /* drain before the next request */
	int gone;                     /* disconnected: requests fail at once */
	int wedged;                   /* a transfer never came back: it must not be freed */

	pthread_mutex_t lock; /* guards cancel_flag and in_flight */
	int cancel_flag;
	int in_flight;
};

/* What a request is, for messages: "read subnode 0 register 0x6E1". */
struct usb_req {
	const char *verb;
	unsigned subnode;
	unsigned address;
};

static void LIBUSB_CALL ep_xfer_done(struct libusb_transfer *t)
{
	usb_ep *ep = t->user_data;

	pthread_mutex_lock(&ep->lock);
	ep->in_flight = 0;
	pthread_mutex_unlock(&ep->lock);
	ep->done = 1;
}

static int ep_cancel_requested(usb_ep *ep)
{
	int c;

	pthread_mutex_lock(&ep->lock);
	c = ep->cancel_flag;
	pthread_mutex_unlock(&ep->lock);
	return c;
}

static int ep_cancelled(usb_ep *ep, const struct usb_req *rq)
{
	ep->dirty = 1;
	return ep->host->error(ep->host, AX_ECANCELED,
	                       "%s subnode %u register 0x%03X: cancelled while talking to USB "
	                       "device %s",
	                       rq->verb, rq->subnode, rq->address, ep->where.text);
}

static int ep_disconnected(usb_ep *ep, const struct usb_req *rq)
{
	ep->gone = 1;
	return ep->host->error(ep->host, AX_EDISCONNECTED,
	                       "%s subnode %u register 0x%03X: USB device %s was disconnected",
	                       rq->verb, rq->subnode, rq->address, ep->where.text);
}

/* A libusb error of submit: the device gone, or something to explain. */
static int ep_submit_error(usb_ep *ep, int r, const struct usb_req *rq)
{
	char what[64];

	if (r == LIBUSB_ERROR_NO_DEVICE)
		return ep_disconnected(ep, rq);
	(void)snprintf(what, sizeof(what), "%s subnode %u register 0x%03X on", rq->verb,
	               rq->subnode, rq->address);
	return usb_fail(ep->host, r, what, &ep->where);
}

/*
 * Run one bulk transfer on @endpoint until it completes or @deadline
 * passes. Returns 0 (*actual bytes moved), USB_XFER_TIMEOUT (*actual may
 * hold bytes that arrived before it), or a negative error.
 */
static int ep_run(usb_ep *ep, unsigned char endpoint, uint8_t *buf, int len, uint64_t deadline,
                  int *actual, const struct usb_req *rq)
{
	const ax_host *host = ep->host;
	struct libusb_transfer *t = ep->xfer;
	uint64_t now = host->now_ns(), give_up;
	int r, we_cancelled = 0;

	*actual = 0;
	if (now >= deadline)
		return USB_XFER_TIMEOUT;
	libusb_fill_bulk_transfer(t, ep->handle, endpoint, buf, len, ep_xfer_done, ep,
	                          (unsigned)((deadline - now + 999999u) / 1000000u));
	pthread_mutex_lock(&ep->lock);
	if (ep->cancel_flag) {
		pthread_mutex_unlock(&ep->lock);
		return ep_cancelled(ep, rq);
	}
	ep->done = 0;
	r = libusb_submit_transfer(t);
	if (r == 0)
		ep->in_flight = 1;
	pthread_mutex_unlock(&ep->lock);
	if (r < 0)
		return ep_submit_error(ep, r, rq);

	/* libusb cancels the transfer at its timeout; the grace guards against a stuck stack. */
	give_up = deadline + USB_GRACE_NS;
	while (!ep->done) {
		struct timeval tv = {0, USB_EVENT_WAIT_US};

		(void)libusb_handle_events_timeout_completed(ep->ctx, &tv, &ep->done);
		if (ep->done || host->now_ns() < give_up)
			continue;
		if (!we_cancelled) {
			(void)libusb_cancel_transfer(t);
			we_cancelled = 1;
			give_up += USB_GRACE_NS;
			continue;
		}
		ep->wedged = 1;
		return host->error(host, AX_EIO,
		                   "%s subnode %u register 0x%03X: a transfer on endpoint "
		                   "0x%02X of USB device %s did not come back after it was "
		                   "cancelled; close the link",
		                   rq->verb, rq->subnode, rq->address, endpoint, ep->where.text);
	}

	*actual = t->actual_length;
	switch (t->status) {
	case LIBUSB_TRANSFER_COMPLETED:
		return 0;
	case LIBUSB_TRANSFER_TIMED_OUT:
		return USB_XFER_TIMEOUT;
	case LIBUSB_TRANSFER_CANCELLED:
		if (!we_cancelled || ep_cancel_requested(ep))
			return ep_cancelled(ep, rq);
		return USB_XFER_TIMEOUT;
	case LIBUSB_TRANSFER_NO_DEVICE:
		return ep_disconnected(ep, rq);
	case LIBUSB_TRANSFER_STALL:
		/* Clear it, so that the next request has a chance. */
		(void)libusb_clear_halt(ep->handle, endpoint);
		ep->dirty = 1;
		return host->error(host, AX_EIO,
		                   "%s subnode %u register 0x%03X: endpoint 0x%02X of USB "
		                   "device %s stalled",
		                   rq->verb, rq->subnode, rq->address, endpoint, ep->where.text);
	case LIBUSB_TRANSFER_OVERFLOW:
		ep->dirty = 1;
		return host->error(host, AX_EIO,
		                   "%s subnode %u register 0x%03X: USB device %s sent more "
		                   "than the %d bytes asked for on endpoint 0x%02X",
		                   rq->verb, rq->subnode, rq->address, ep->where.text, len,
		                   endpoint);
	default:
		ep->dirty = 1;
		return host->error(host, AX_EIO,
		                   "%s subnode %u register 0x%03X: transfer on endpoint 0x%02X "
		                   "of USB device %s failed (%s)",
		                   rq->verb, rq->subnode, rq->address, endpoint, ep->where.text,
		                   libusb_error_name((int)t->status));
	}
}

/*
 * Throw away what the device sends until it has been quiet for @timeout_ms
 * (see USB_DRAIN_*). Returns 0 or a cancel/disconnect error.
 */
static int ep_drain(usb_ep *ep, const struct usb_req *rq, int timeout_ms)
{
	const ax_host *host = ep->host;
	uint64_t quiet = (uint64_t)(timeout_ms < USB_DRAIN_QUIET_MAX_MS ? timeout_ms
	                                                                : USB_DRAIN_QUIET_MAX_MS) *
	                 1000000u;
	uint64_t last = host->now_ns(), end = last + USB_DRAIN_QUIETS * quiet;
	unsigned bytes = 0;

	for (;;) {
		uint64_t until = last + quiet < end ? last + quiet : end;
		int n = 0, r;

		if (host->now_ns() >= until)
			break;
		r = ep_run(ep, ep->iface.ep_in, ep->rx, USB_RX_SIZE, until, &n, rq);
		bytes += (unsigned)n;
		if (r == AX_ECANCELED || r == AX_EDISCONNECTED)
			return r;
		if (r < 0)
			break;
		if (n > 0)
			last = host->now_ns();
	}
	ep->dirty = 0;
	if (bytes && host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "discarded %u stale byte(s) from USB device %s",
		          bytes, ep->where.text);
	return 0;
}

static const char *ep_decode_why(int err)
{
	switch (err) {
	case AX_ECRC:
		return "CRC mismatch";
	case AX_ETOOBIG:
		return "extended length over the limit";
	case AX_EPROTO:
		return "not an MCB frame (node or command)";
	default:
		return "undecodable";
	}
}

/*
 * Read until a reply to @rq arrives or @deadline passes. Undecodable bytes
 * are skipped; one reply for another register is skipped (*stale counts).
 * Returns 0 (@reply decoded, pointing into ep->rx), USB_XFER_TIMEOUT, or a
 * negative error.
 */
static int ep_receive(usb_ep *ep, const struct usb_req *rq, const ax_mcb_frame *req,
                      ax_mcb_frame *reply, uint64_t deadline, int *stale)
{
	const ax_host *host = ep->host;
	int pkt = ep->iface.in_packet, got = 0;

	for (;;) {
		int room = USB_RX_SIZE - got, n = 0, r;

		room -= room % pkt;
		if (room <= 0) {
			/* A frame never ends here: a device talking nonsense. Start over. */
			got = 0;
			room = USB_RX_SIZE;
		}
		r = ep_run(ep, ep->iface.ep_in, ep->rx + got, room, deadline, &n, rq);
		if (r != 0)
			return r;
		got += n;
		if (got < AX_MCB_FRAME_SIZE)
			continue;
		r = host->mcb_decode(reply, ep->rx, (size_t)got);
		if (r == AX_ETRUNC)
			continue; /* the rest of an extended frame is on its way */
		if (r < 0) {
			if (host->log_enabled(host, AX_LOG_DEBUG))
				host->log(host, AX_LOG_DEBUG,
				          "ignored %d byte(s) from USB device %s: %s", got,
				          ep->where.text, ep_decode_why(r));
			got = 0;
			continue;
		}
		if (reply->frame_len < (size_t)got && host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG,
			          "ignored %zu byte(s) after the reply from USB device %s",
			          (size_t)got - reply->frame_len, ep->where.text);
		/* A request, not a reply: an echo. */
		r = reply->command == AX_MCB_READ || reply->command == AX_MCB_WRITE
		            ? AX_EPROTO
		            : host->mcb_check_answer(reply, 0, req);
		if (r == AX_EPROTO) {
			if (host->log_enabled(host, AX_LOG_DEBUG))
				host->log(host, AX_LOG_DEBUG,
				          "ignored a frame from USB device %s that is not a reply",
				          ep->where.text);
			got = 0;
			continue;
		}
		if (r == AX_EADDR) {
			/* Another register's reply, or an ack of another kind. */
			if ((*stale)++ == 0) {
				if (host->log_enabled(host, AX_LOG_DEBUG))
					host->log(host, AX_LOG_DEBUG,
					          "USB device %s answered subnode %u register "
					          "0x%03X while waiting for the %s of 0x%03X, not "
					          "with its answer: a late reply, receiving again",
					          ep->where.text, (unsigned)reply->subnode,
					          (unsigned)reply->address, rq->verb, rq->address);
				got = 0;
				continue;
			}
			ep->dirty = 1;
			if (reply->subnode == rq->subnode && reply->address == rq->address)
				return host->error(host, AX_EADDR,
				                   "USB device %s answered the %s of subnode %u "
				                   "register 0x%03X twice with an ack that is not "
				                   "its answer (a write's ack echoes the value "
				                   "written)",
				                   ep->where.text, rq->verb, rq->subnode,
				                   rq->address);
			return host->error(host, AX_EADDR,
			                   "USB device %s answered subnode %u register 0x%03X "
			                   "again where subnode %u register 0x%03X was expected "
			                   "(%s)",
			                   ep->where.text, (unsigned)reply->subnode,
			                   (unsigned)reply->address, rq->subnode, rq->address,
			                   rq->verb);
		}
		return r; /* 0, or AX_EDRIVE with the drive's code and message set */
	}
}

int usb_ep_transact(usb_ep *ep, const ax_mcb_frame *req, ax_mcb_frame *reply, int timeout_ms,
                    int tries)
{
	const ax_host *host = ep->host;
	struct usb_req rq = {
	        .verb = req->command == AX_MCB_WRITE ? "write" : "read",
	        .subnode = req->subnode,
	        .address = req->address,
	};
	size_t qlen = 0;
	int err, stale = 0;

	if (ep->wedged)
		return host->error(host, AX_EIO,
		                   "%s subnode %u register 0x%03X: USB device %s is "
		                   "unusable after a transfer got stuck; close the link",
		                   rq.verb, rq.subnode, rq.address, ep->where.text);
	if (ep->gone)
		return ep_disconnected(ep, &rq);
	err = host->mcb_encode(ep->tx, AX_MCB_MAX_FRAME, &qlen, req);
	if (err < 0)
		return err;

	pthread_mutex_lock(&ep->lock);
	if (ep->cancel_flag && host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "dropped a cancel that arrived between requests on USB device %s",
		          ep->where.text);
	ep->cancel_flag = 0;
	pthread_mutex_unlock(&ep->lock);

	if (ep->dirty) {
		err = ep_drain(ep, &rq, timeout_ms);
		if (err < 0)
			return err;
	}
	for (int attempt = 1; attempt <= tries; attempt++) {
		uint64_t deadline = host->now_ns() + (uint64_t)timeout_ms * 1000000u;
		int n = 0;

		err = ep_run(ep, ep->iface.ep_out, ep->tx, (int)qlen, deadline, &n, &rq);
		if (err < 0)
			return err;
		if (err == 0 && (size_t)n != qlen) {
			ep->dirty = 1;
			return host->error(host, AX_EIO,
			                   "%s subnode %u register 0x%03X: USB device %s took %d "
			                   "of %zu bytes",
			                   rq.verb, rq.subnode, rq.address, ep->where.text, n,
			                   qlen);
		}
		if (err == 0)
			err = ep_receive(ep, &rq, req, reply, deadline, &stale);
		if (err != USB_XFER_TIMEOUT)
			return err;
		ep->dirty = 1; /* its reply may still come: keep it from the next request */
		if (attempt < tries && host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG,
			          "no reply from USB device %s within %d ms (%s subnode %u "
			          "register 0x%03X); sending again",
			          ep->where.text, timeout_ms, rq.verb, rq.subnode, rq.address);
	}
	return host->error(host, AX_ETIMEDOUT,
	                   "no reply from USB device %s after %d %s of %d ms (%s subnode %u "
	                   "register 0x%03X)",
	                   ep->where.text, tries, tries == 1 ? "try" : "tries", timeout_ms, rq.verb,
	                   rq.subnode, rq.address);
}

int usb_ep_cancel(usb_ep *ep)
{
	pthread_mutex_lock(&ep->lock);
	ep->cancel_flag = 1;
	/* NOT_FOUND: it is completing right now; the flag stops the next submit. */
	if (ep->in_flight)
		(void)libusb_cancel_transfer(ep->xfer);
	pthread_mutex_unlock(&ep->lock);
	return 0;
}

static int ep_claim(usb_ep *ep, int iface)
{
	const ax_host *host = ep->host;
	char what[48];
	int r;

	/* With auto-detach on, claiming unbinds a kernel driver and releasing re-binds it. */
	if (libusb_kernel_driver_active(ep->handle, iface) == 1 &&
	    host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "USB device %s: detaching the kernel driver of interface %d (it is "
		          "re-attached on close)",
		          ep->where.text, iface);
	r = libusb_claim_interface(ep->handle, iface);
	if (r == 0)
		return 0;
	(void)snprintf(what, sizeof(what), "claim interface %d of", iface);
	return usb_fail(host, r, what, &ep->where);
}

int usb_ep_open(usb_ep **out, const ax_host *host, libusb_context *ctx, libusb_device *dev)
{
	struct libusb_device_descriptor dd;
	usb_ep *ep;
	int err, r;

	ep = host->calloc(1, sizeof(*ep));
	if (!ep)
		return host->error(host, AX_ENOMEM, "out of memory");
	ep->host = host;
	ep->ctx = ctx;
	ep->dev = libusb_ref_device(dev);
	pthread_mutex_init(&ep->lock, NULL);
	usb_where_of(&ep->where, dev, &dd);

	err = usb_iface_find(host, dev, &ep->where, &ep->iface);
	if (err < 0)
		goto fail;
	r = libusb_open(dev, &ep->handle);
	if (r < 0) {
		ep->handle = NULL;
		err = usb_fail(host, r, "open", &ep->where);
		goto fail;
	}
	r = usb_strings_read(ep->handle, &dd, &ep->strings);
	if (r < 0) {
		err = usb_fail(host, r, "read the strings of", &ep->where);
		goto fail;
	}
	/* Not supported off Linux, where there is no driver to detach. */
	(void)libusb_set_auto_detach_kernel_driver(ep->handle, 1);
	if (!ep->iface.active) {
		r = libusb_set_configuration(ep->handle, ep->iface.config);
		if (r < 0) {
			err = usb_fail(host, r, "configure", &ep->where);
			goto fail;
		}
	}
	/* CDC-ACM: the serial driver binds to the communication interface; take both. */
	if (ep->iface.comm >= 0) {
		err = ep_claim(ep, ep->iface.comm);
		if (err < 0)
			goto fail;
		ep->claimed_comm = 1;
	}
	err = ep_claim(ep, ep->iface.number);
	if (err < 0)
		goto fail;
	ep->claimed_data = 1;

	ep->xfer = libusb_alloc_transfer(0);
	ep->tx = host->alloc(AX_MCB_MAX_FRAME);
	ep->rx = host->alloc(USB_RX_SIZE);
	if (!ep->xfer || !ep->tx || !ep->rx) {
		err = host->error(host, AX_ENOMEM, "out of memory");
		goto fail;
	}
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "USB device %s: interface %d, bulk IN 0x%02X (%u-byte packets), OUT "
		          "0x%02X, serial '%s'",
		          ep->where.text, ep->iface.number, (unsigned)ep->iface.ep_in,
		          (unsigned)ep->iface.in_packet, (unsigned)ep->iface.ep_out,
		          ep->strings.serial);
	*out = ep;
	return 0;
fail:
	usb_ep_close(ep);
	return err;
}

void usb_ep_close(usb_ep *ep)
{
	const ax_host *host;

	if (!ep)
		return;
	host = ep->host;
	if (ep->wedged) {
		/* libusb still owns the transfer: freeing it would be a use after free. */
		host->log(host, AX_LOG_WARN,
		          "USB device %s: leaving a stuck transfer behind, ignoring",
		          ep->where.text);
	} else {
		if (ep->xfer)
			libusb_free_transfer(ep->xfer);
		host->free(ep->tx);
		host->free(ep->rx);
	}
	/* Errors here (the device is gone) change nothing: the handle goes either way. */
	if (ep->claimed_data)
		(void)libusb_release_interface(ep->handle, ep->iface.number);
	if (ep->claimed_comm)
		(void)libusb_release_interface(ep->handle, ep->iface.comm);
	if (ep->handle)
		libusb_close(ep->handle);
	libusb_unref_device(ep->dev);
	pthread_mutex_destroy(&ep->lock);
	host->free(ep);
}

const usb_where *usb_ep_where(const usb_ep *ep)
{
	return &ep->where;
}

const usb_strings *usb_ep_strings(const usb_ep *ep)
{
	return &ep->strings;
}

/* One identity register into @buf; returns its length or a negative code. */
static int ep_read_reg(usb_ep *ep, unsigned address, int timeout_ms, uint8_t *buf, size_t cap,
                       size_t *len)
{
	const ax_host *host = ep->host;
	ax_mcb_frame req, reply;
	int err;

	err = host->mcb_request(&req, AX_MCB_READ, 0, address, NULL, 0);
	if (err == 0)
		err = usb_ep_transact(ep, &req, &reply, timeout_ms, USB_TRIES);
	if (err == 0)
		err = host->mcb_reply_value(&reply, buf, cap, len);
	return err;
}

int usb_ep_identify(usb_ep *ep, int timeout_ms, ax_scan_result *r, char *sw, size_t sw_cap)
{
	/* The probe (the product code) first. */
	static const uint16_t regs[] = {AX_MCB_REG_PRODUCT_CODE, AX_MCB_REG_VENDOR_ID,
	                                AX_MCB_REG_REVISION, AX_MCB_REG_SERIAL,
	                                AX_MCB_REG_SW_VERSION};
	uint8_t buf[AX_MCB_MAX_PAYLOAD];

	if (sw_cap)
		sw[0] = '\0';
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		size_t len = 0;
		int err = ep_read_reg(ep, regs[i], timeout_ms, buf, sizeof(buf), &len);

		/* An error reply still comes from an MCB drive: it only lacks that register. */
		if (err == AX_EDRIVE)
			continue;
		if (err < 0 && (i == 0 || err == AX_ECANCELED || err == AX_EDISCONNECTED))
			return err;
		if (err < 0)
			continue;
		/* A value that is no u32 leaves that field unknown. */
		(void)ep->host->mcb_identity_take(r, sw, sw_cap, regs[i], buf, len);
	}
	return 0;
}
