/* SPDX-License-Identifier: MIT */
/*
 * The `serial` transport: MCB register frames raw on a serial line
 * (RS232/RS485 or a USB-serial adapter), through libserialport.
 *
 * libserialport knows only ports with a /sys/class/tty entry and sets
 * their modem lines on open, which a pseudo-terminal refuses (ENOTTY). A
 * terminal it does not know or cannot open (axlink-sim --pty's
 * /dev/pts/N) is driven with plain termios instead, and the debug log says
 * so. The two sit behind one small interface (struct serial_io: configure,
 * read, write, flush, close); everything below it, the request path, is
 * shared.
 *
 * A serial line is a byte stream with no framing of its own, so every
 * request starts from a clean slate: the input queue is flushed, the
 * request written, and the reply assembled from whatever arrives before
 * the deadline. A 14-byte window slides over the received bytes until it
 * decodes as a valid frame (CRC, node, command); bytes it slides past are
 * line noise, a corrupted reply or the tail of an earlier one, and are
 * dropped (logged at debug level). A frame that is not the answer (our own
 * request echoed by a half-duplex RS485 adapter, a late reply to an earlier
 * request) is skipped whole. A timeout sends the same request once more.
 *
 * A reply answers only its own request (MCB frames carry no sequence
 * number): it must name the request's register and be an ack of its kind,
 * a write's ack echoing the value written (ax_mcb_check_answer()); one that
 * does not is skipped, a second fails the request. A request that did not
 * get its answer to its first send may still be answered after it gave up,
 * when the next request is already on the line: so before the next request
 * the line is resynchronised, its input read and dropped until it has been
 * quiet for one request timeout (serial_resync()), then flushed.
 *
 * Waiting is poll() on the port's descriptor and an eventfd that
 * cancel() writes, so no call blocks past its deadline and another thread
 * can abort it. A hang-up (the adapter unplugged: the tty reports POLLHUP,
 * reads fail with EIO) ends the request at once with AX_EDISCONNECTED, and
 * every later request on the link fails the same way without touching the
 * port.
 *
 * Ownership of a port: besides opening it, the transport takes an
 * exclusive flock() on it, so a second link or a scan in this or another
 * program sees it busy instead of interleaving bytes with us, and sets
 * TIOCEXCL (best effort) so that other programs cannot open it at all.
 *
 * This file is the request path and the plugin's entry; serial_port.c
 * parses the line settings and opens, closes and cancels ports (through
 * libserialport or termios), serial_scan.c enumerates and probes them.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "serial.h"

/* Sends of one request: the first, and one resend after a timeout. */
#define SERIAL_TRIES 2

/* Returned by the wait helpers when the deadline passes; not an error yet. */
#define SERIAL_WAIT_TIMEOUT 1

/*
 * Resynchronising after an unanswered request waits for one timeout of
 * quiet (at most SERIAL_RESYNC_QUIET_MAX_MS), at most SERIAL_RESYNC_QUIETS
 * of those in all: the drive's late answers to both tries come within
 * about three; a line that never goes quiet is noise, and the flush before
 * the request drops what is left.
 */
#define SERIAL_RESYNC_QUIET_MAX_MS 1000
#define SERIAL_RESYNC_QUIETS 4

/* What a request is, for messages: "read subnode 0 register 0x6E1". */
struct serial_req {
	const char *verb;
	unsigned subnode;
	unsigned address;
};

static const ax_option_desc serial_options[] = {
        {"baud", AX_OPT_INT, "115200", "line rate in bits per second"},
        {"data_bits", AX_OPT_INT, "8", "data bits per character (5..8)"},
        {"parity", AX_OPT_STRING, "none", "parity: none, odd or even"},
        {"stop_bits", AX_OPT_INT, "1", "stop bits (1 or 2)"},
        {"flow", AX_OPT_STRING, "none", "flow control: none, rtscts or xonxoff"},
        {"timeout_ms", AX_OPT_INT, "500",
         "reply timeout per try in milliseconds (1..60000); a timeout is retried once"},
        {"probe", AX_OPT_STRING, "listed",
         "scans only: 'listed' probes known USB adapters and named ports, 'all' every port"},
        {NULL, 0, NULL, NULL},
};

/* Forget cancels that arrived while no request ran: cancel() aborts what is in flight. */
static void serial_drain_cancel(ax_transport_priv *priv)
{
	uint64_t count;

	if (read(priv->cancel_fd, &count, sizeof(count)) == (ssize_t)sizeof(count) &&
	    priv->host->log_enabled(priv->host, AX_LOG_DEBUG))
		priv->host->log(priv->host, AX_LOG_DEBUG,
		                "dropped a cancel that arrived between requests on %s", priv->path);
}

/* Log a frame's bytes at trace level: "tx /dev/ttyUSB0: a0 00 ...". */
static void serial_trace(const ax_host *host, const char *dir, const char *path,
                         const uint8_t *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char hex[3 * 32 + 1];
	size_t o = 0, shown = len < 32 ? len : 32;

	if (!host->log_enabled(host, AX_LOG_TRACE))
		return;
	for (size_t i = 0; i < shown; i++) {
		hex[o++] = digits[bytes[i] >> 4];
		hex[o++] = digits[bytes[i] & 0xF];
		hex[o++] = ' ';
	}
	hex[o ? o - 1 : 0] = '\0';
	host->log(host, AX_LOG_TRACE, "%s %s: %s%s (%zu byte(s))", dir, path, hex,
	          len > shown ? " ..." : "", len);
}

/* The port is gone: remember it, so later requests fail without touching it. */
static int serial_gone(ax_transport_priv *priv, const struct serial_req *rq, const char *why)
{
	priv->gone = 1;
	return priv->host->error(priv->host, AX_EDISCONNECTED,
	                         "serial port %s went away during %s subnode %u register 0x%03X "
	                         "(%s); unplugged or powered off?",
	                         priv->path, rq->verb, rq->subnode, rq->address, why);
}

/* Errors of I/O calls on an open port; an I/O error there means the device left. */
static int serial_io_error(ax_transport_priv *priv, const struct serial_req *rq,
                           const struct serial_io_err *e, const char *op)
{
	char why[96];

	if (e->errnum == EIO || e->errnum == ENXIO || e->errnum == ENODEV || e->errnum == EBADF) {
		(void)snprintf(why, sizeof(why), "%s: %s", op, strerror(e->errnum));
		return serial_gone(priv, rq, why);
	}
	return priv->host->error(priv->host, AX_EIO,
	                         "%s subnode %u register 0x%03X: %s on serial port %s failed: %s",
	                         rq->verb, rq->subnode, rq->address, op, priv->path,
	                         serial_io_why(e));
}

/* Milliseconds from @now to @deadline, rounded up, for poll(). */
static int serial_ms_left(uint64_t now, uint64_t deadline)
{
	uint64_t ms = (deadline - now + 999999u) / 1000000u;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * Wait until the port is ready for @events or @deadline passes. Returns 0,
 * SERIAL_WAIT_TIMEOUT, AX_ECANCELED, or AX_EDISCONNECTED on a hang-up.
 */
static int serial_wait(ax_transport_priv *priv, short events, uint64_t deadline,
                       const struct serial_req *rq)
{
	const ax_host *host = priv->host;

	for (;;) {
		struct pollfd pfd[2] = {
		        {.fd = priv->fd, .events = events},
		        {.fd = priv->cancel_fd, .events = POLLIN},
		};
		uint64_t now = host->now_ns();
		int n;

		if (now >= deadline)
			return SERIAL_WAIT_TIMEOUT;
		n = poll(pfd, 2, serial_ms_left(now, deadline));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return host->error(host, AX_EIO,
			                   "%s subnode %u register 0x%03X: poll on "
			                   "serial port %s failed: %s",
			                   rq->verb, rq->subnode, rq->address, priv->path,
			                   strerror(errno));
		}
		if (pfd[1].revents & POLLIN)
			return host->error(host, AX_ECANCELED,
			                   "%s subnode %u register 0x%03X on %s: cancelled",
			                   rq->verb, rq->subnode, rq->address, priv->path);
		/* A tty reports a hang-up (the device unplugged) as POLLHUP, whatever was asked. */
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			return serial_gone(priv, rq, "the line hung up");
		if (pfd[0].revents & events)
			return 0;
	}
}

static int serial_send(ax_transport_priv *priv, const uint8_t *buf, size_t len, uint64_t deadline,
                       int timeout_ms, const struct serial_req *rq)
{
	size_t off = 0;

	while (off < len) {
		struct serial_io_err e = {0, NULL};
		long n = priv->io->write(priv, buf + off, len - off, &e);
		int err;

		if (n < 0 && e.errnum == EINTR)
			continue;
		if (n < 0)
			return serial_io_error(priv, rq, &e, "write");
		off += (size_t)n;
		if (off == len)
			break;
		err = serial_wait(priv, POLLOUT, deadline, rq);
		if (err == SERIAL_WAIT_TIMEOUT)
			return priv->host->error(priv->host, AX_ETIMEDOUT,
			                         "%s subnode %u register 0x%03X: serial port %s "
			                         "took only %zu of %zu bytes in %d ms (output held "
			                         "back by flow control?)",
			                         rq->verb, rq->subnode, rq->address, priv->path,
			                         off, len, timeout_ms);
		if (err < 0)
			return err;
	}
	serial_trace(priv->host, "tx", priv->path, buf, len);
	return 0;
}

/* Drop the first @n of the @len bytes in the receive buffer. */
static size_t serial_consume(ax_transport_priv *priv, size_t len, size_t n)
{
	memmove(priv->rx, priv->rx + n, len - n);
	return len - n;
}

/*
 * Assemble the reply to @rq from what arrives before @deadline. Returns 0
 * with @reply decoded (its payload points into priv->rx), AX_EDRIVE,
 * SERIAL_WAIT_TIMEOUT, or a negative error.
 */
static int serial_wait_reply(ax_transport_priv *priv, const struct serial_req *rq,
                             const ax_mcb_frame *req, ax_mcb_frame *reply, uint64_t deadline,
                             int *stale)
{
	const ax_host *host = priv->host;
	size_t len = 0, skipped = 0;

	for (;;) {
		struct serial_io_err e = {0, NULL};
		long n;
		int err;

		while (len >= AX_MCB_FRAME_SIZE) {
			err = host->mcb_decode(reply, priv->rx, len);
			if (err == AX_ETRUNC)
				break; /* a valid header whose extended payload is still coming */
			if (err < 0) {
				/* Not a frame here: slide the window by one byte. */
				len = serial_consume(priv, len, 1);
				skipped++;
				priv->noise++;
				continue;
			}
			if (skipped && host->log_enabled(host, AX_LOG_DEBUG))
				host->log(host, AX_LOG_DEBUG,
				          "resynchronised on %s: skipped %zu byte(s) that formed "
				          "no valid frame (bad CRC or line noise)",
				          priv->path, skipped);
			skipped = 0;
			serial_trace(host, "rx", priv->path, priv->rx, reply->frame_len);
			/* A byte stream has no frame boundary: wire length unknown (0). */
			err = host->mcb_check_answer(reply, 0, req);
			if (err == AX_EPROTO) {
				/* A request, not a reply: a half-duplex adapter echoing ours. */
				if (host->log_enabled(host, AX_LOG_DEBUG))
					host->log(host, AX_LOG_DEBUG,
					          "ignored a %s frame on %s: not a reply (an echo "
					          "of the request?)",
					          reply->command == AX_MCB_READ ? "read" : "write",
					          priv->path);
				len = serial_consume(priv, len, reply->frame_len);
				continue;
			}
			if (err == AX_EADDR) {
				/* Another register's reply, or an ack of another kind. */
				if ((*stale)++ == 0) {
					if (host->log_enabled(host, AX_LOG_DEBUG))
						host->log(host, AX_LOG_DEBUG,
						          "%s answered subnode %u register 0x%03X "
						          "while waiting for the %s of 0x%03X, not "
						          "with its answer: a late reply, skipped",
						          priv->path, (unsigned)reply->subnode,
						          (unsigned)reply->address, rq->verb,
						          rq->address);
					len = serial_consume(priv, len, reply->frame_len);
					continue;
				}
				if (reply->subnode == rq->subnode && reply->address == rq->address)
					return host->error(
					        host, AX_EADDR,
					        "%s answered the %s of subnode %u register 0x%03X "
					        "twice with an ack that is not its answer (a "
					        "write's ack echoes the value written)",
					        priv->path, rq->verb, rq->subnode, rq->address);
				return host->error(host, AX_EADDR,
				                   "%s answered subnode %u register 0x%03X again "
				                   "where subnode %u register 0x%03X was expected "
				                   "(%s)",
				                   priv->path, (unsigned)reply->subnode,
				                   (unsigned)reply->address, rq->subnode,
				                   rq->address, rq->verb);
			}
			return err; /* 0, or AX_EDRIVE with the drive's code and message set */
		}

		err = serial_wait(priv, POLLIN, deadline, rq);
		if (err == SERIAL_WAIT_TIMEOUT && skipped && host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG,
			          "%zu byte(s) from %s formed no valid frame before the deadline",
			          skipped + len, priv->path);
		if (err == SERIAL_WAIT_TIMEOUT)
			priv->noise += len;
		if (err != 0)
			return err;
		/* Cannot fill: fewer than 14 stray bytes ever wait in front of a frame. */
		if (len == sizeof(priv->rx))
			len = serial_consume(priv, len, 1);
		n = priv->io->read(priv, priv->rx + len, sizeof(priv->rx) - len, &e);
		if (n < 0 && (e.errnum == EINTR || e.errnum == EAGAIN))
			continue;
		if (n < 0)
			return serial_io_error(priv, rq, &e, "read");
		/* Readable yet empty: the other end is closed (end of file). */
		if (n == 0)
			return serial_gone(priv, rq, "end of file");
		len += (size_t)n;
	}
}

/*
 * After a request that did not get its answer to its first send: read and
 * drop what comes until the line has been quiet for @timeout_ms (see
 * SERIAL_RESYNC_*), so that late answers to it are gone
 * before the next request goes out. Returns 0 or a cancel, disconnect or
 * I/O error.
 */
static int serial_resync(ax_transport_priv *priv, const struct serial_req *rq, int timeout_ms)
{
	const ax_host *host = priv->host;
	uint64_t quiet =
	        (uint64_t)(timeout_ms < SERIAL_RESYNC_QUIET_MAX_MS ? timeout_ms
	                                                           : SERIAL_RESYNC_QUIET_MAX_MS) *
	        1000000u;
	uint64_t last = host->now_ns(), end = last + SERIAL_RESYNC_QUIETS * quiet;
	size_t dropped = 0;

	for (;;) {
		struct serial_io_err e = {0, NULL};
		long n;
		int err;

		err = serial_wait(priv, POLLIN, last + quiet < end ? last + quiet : end, rq);
		if (err == SERIAL_WAIT_TIMEOUT)
			break;
		if (err < 0)
			return err;
		n = priv->io->read(priv, priv->rx, sizeof(priv->rx), &e);
		if (n < 0 && (e.errnum == EINTR || e.errnum == EAGAIN))
			continue;
		if (n < 0)
			return serial_io_error(priv, rq, &e, "read");
		if (n == 0)
			return serial_gone(priv, rq, "end of file");
		dropped += (size_t)n;
		last = host->now_ns();
	}
	priv->unsettled = 0;
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "resynchronised %s after an unanswered request: dropped %zu late "
		          "byte(s)",
		          priv->path, dropped);
	return 0;
}

/*
 * Send @req and assemble its reply: each try waits @timeout_ms (0: the
 * URI's); a timeout sends the same frame once more.
 */
static int serial_transact(ax_transport_priv *priv, const ax_mcb_frame *req, ax_mcb_frame *reply,
                           int timeout_ms)
{
	const ax_host *host = priv->host;
	struct serial_req rq = {
	        .verb = req->command == AX_MCB_WRITE ? "write" : "read",
	        .subnode = req->subnode,
	        .address = req->address,
	};
	uint8_t qbuf[AX_MCB_MAX_FRAME];
	size_t qlen = 0;
	int err, stale = 0, attempt;

	priv->noise = 0;
	if (priv->gone)
		return host->error(host, AX_EDISCONNECTED,
		                   "serial port %s is gone (it went away during an earlier "
		                   "request); open the link again once it is back",
		                   priv->path);
	err = host->mcb_encode(qbuf, sizeof(qbuf), &qlen, req);
	if (err < 0)
		return err;
	if (timeout_ms <= 0)
		timeout_ms = priv->timeout_ms;

	serial_drain_cancel(priv);
	if (priv->unsettled) {
		err = serial_resync(priv, &rq, timeout_ms);
		if (err < 0)
			return err;
	}
	for (attempt = 1; attempt <= SERIAL_TRIES; attempt++) {
		uint64_t deadline = host->now_ns() + (uint64_t)timeout_ms * 1000000u;
		struct serial_io_err e = {0, NULL};

		/* Whatever is queued (noise, a late reply) would be taken for the answer. */
		if (priv->io->flush(priv, 0, &e) < 0) {
			err = serial_io_error(priv, &rq, &e, "flush");
			break;
		}
		err = serial_send(priv, qbuf, qlen, deadline, timeout_ms, &rq);
		if (err < 0)
			break;
		err = serial_wait_reply(priv, &rq, req, reply, deadline, &stale);
		if (err != SERIAL_WAIT_TIMEOUT)
			break;
		if (attempt < SERIAL_TRIES && host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG,
			          "no reply from %s within %d ms (%s subnode %u register 0x%03X); "
			          "sending again",
			          priv->path, timeout_ms, rq.verb, rq.subnode, rq.address);
	}
	/*
	 * Only a request answered on its first send is settled; otherwise its
	 * answers may still come, and the next request resynchronises first.
	 */
	priv->unsettled = !(attempt == 1 && (err == 0 || err == AX_EDRIVE));
	if (err != SERIAL_WAIT_TIMEOUT)
		return err;
	if (priv->noise)
		return host->error(
		        host, AX_ECRC,
		        "%zu byte(s) from %s formed no valid MCB frame in %d tries of %d "
		        "ms (%s subnode %u register 0x%03X): bad CRC or line noise; does "
		        "the drive use %s?",
		        priv->noise, priv->path, SERIAL_TRIES, timeout_ms, rq.verb, rq.subnode,
		        rq.address, priv->line);
	return host->error(host, AX_ETIMEDOUT,
	                   "no reply from %s after %d tries of %d ms (%s subnode %u register "
	                   "0x%03X)",
	                   priv->path, SERIAL_TRIES, timeout_ms, rq.verb, rq.subnode, rq.address);
}

int serial_port_read(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
                     size_t cap, size_t *len_out, int timeout_ms)
{
	const ax_host *host = priv->host;
	ax_mcb_frame req, reply;
	int err;

	err = host->mcb_request(&req, AX_MCB_READ, subnode, address, NULL, 0);
	if (err < 0)
		return err;
	err = serial_transact(priv, &req, &reply, timeout_ms);
	if (err < 0)
		return err;
	return host->mcb_reply_value(&reply, buf, cap, len_out);
}

static int serial_write(ax_transport_priv *priv, unsigned subnode, uint32_t address,
                        const void *buf, size_t len, int timeout_ms)
{
	ax_mcb_frame req, reply;
	int err;

	err = priv->host->mcb_request(&req, AX_MCB_WRITE, subnode, address, buf, len);
	if (err < 0)
		return err;
	return serial_transact(priv, &req, &reply, timeout_ms);
}

/* The port a link URI names: serial:/dev/ttyUSB0 (or serial:///dev/ttyUSB0). */
static int serial_uri_path(const ax_host *host, const ax_uri *uri)
{
	if (uri->host[0])
		return host->error(host, AX_EINVAL,
		                   "URI '%s' names a host ('%s'); a serial port is a local path, "
		                   "e.g. serial:/dev/ttyUSB0",
		                   uri->text, uri->host);
	if (!uri->path[0])
		return host->error(host, AX_EINVAL,
		                   "URI '%s' names no port (expected e.g. serial:/dev/ttyUSB0; "
		                   "scan 'serial:' to list the ports)",
		                   uri->text);
	if (uri->path[0] != '/')
		return host->error(host, AX_EINVAL,
		                   "URI '%s': port '%s' is not an absolute path (expected e.g. "
		                   "serial:/dev/ttyUSB0)",
		                   uri->text, uri->path);
	return 0;
}

static int serial_open(ax_transport_priv **out, const ax_host *host, const ax_uri *uri,
                       int timeout_ms)
{
	ax_transport_priv *priv = NULL;
	struct serial_cfg cfg;
	int err;

	err = serial_uri_path(host, uri);
	if (err < 0)
		return err;
	err = serial_cfg_parse(host, uri, &cfg);
	if (err < 0)
		return err;
	if (cfg.have_probe)
		return host->error(host, AX_EINVAL,
		                   "URI '%s': key 'probe' applies to scans, not to a link",
		                   uri->text);
	err = serial_port_open(&priv, host, uri->path, &cfg, NULL);
	if (err < 0)
		return err;
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "opened %s at %s through %s, %d ms per try",
		          priv->path, priv->line, priv->io->name,
		          timeout_ms > 0 ? timeout_ms : priv->timeout_ms);
	*out = priv;
	return 0;
}

static const ax_transport_ops serial_ops = {
        .size = sizeof(ax_transport_ops),
        .open = serial_open,
        .close = serial_port_close,
        .read = serial_port_read,
        .write = serial_write,
        .cancel = serial_port_cancel,
        .scan = serial_scan,
};

static const ax_transport_desc serial_desc = {
        AX_TRANSPORT_DESC_HEADER,
        .scheme = "serial",
        .name = "Serial line (MCB over libserialport)",
        .version = "0.1.0",
        .description = "MCB drives on RS232/RS485 lines and USB-serial adapters",
        .license = "MIT",
        .caps = AX_TRANSPORT_CAP_CANCEL | AX_TRANSPORT_CAP_STREAM | AX_TRANSPORT_CAP_SCAN,
        .addr_space = AX_ADDR_MCB,
        .options = serial_options,
        .ops = &serial_ops,
};

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void);

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void)
{
	return &serial_desc;
}
