/* SPDX-License-Identifier: MIT */
/*
 * The `serial` transport: MCB register frames raw on a serial line
 * (RS232/RS485 or a USB-serial adapter), through libserialport.
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
 * Waiting is poll() on libserialport's descriptor and an eventfd that
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
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serial.h"

/* Sends of one request: the first, and one resend after a timeout. */
#define SERIAL_TRIES 2

/*
 * Receive buffer: one maximal frame plus room for the stray bytes that
 * precede it. Sliding keeps fewer than 14 unparsed bytes in front of a
 * frame, so this never fills up.
 */
#define SERIAL_RX_SIZE (2 * AX_MCB_MAX_FRAME)

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

static const char serial_hint_access[] =
        "add your user to the 'dialout' group (sudo usermod -aG dialout $USER, then log in "
        "again) or install a udev rule that grants access to the device";
static const char serial_hint_busy[] =
        "another program (or another axlink link) holds the port: close it; "
        "'fuser -v PORT' shows which";

struct ax_transport_priv {
	const ax_host *host;
	struct sp_port *port;
	int fd;         /* libserialport's descriptor, polled directly */
	int cancel_fd;  /* eventfd: cancel() makes it readable */
	int exclusive;  /* TIOCEXCL is set: clear it on close */
	int gone;       /* the port disappeared: requests fail at once */
	int unsettled;  /* the last request may still be answered: resync first */
	int timeout_ms; /* the URI's timeout_ms, or the default */
	size_t noise;   /* bytes of the last request that formed no frame */
	char path[SERIAL_PATH_MAX];
	char line[32]; /* "115200 8N1" */
	uint8_t rx[SERIAL_RX_SIZE];
};

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

/* Keys that describe the line, in the order a location URI lists them. */
static const char *const serial_line_keys[] = {"baud", "data_bits", "parity", "stop_bits", "flow"};

/* The value of @key as the URI spells it, or NULL (the plugin cannot call ax_uri_get()). */
static const char *serial_uri_value(const ax_uri *uri, const char *key)
{
	/* Keys are unique: the URI parser refuses duplicates. */
	for (size_t i = 0; i < uri->n_params; i++)
		if (strcmp(uri->params[i].key, key) == 0)
			return uri->params[i].value;
	return NULL;
}

static int serial_uri_int(const ax_host *host, const ax_uri *uri, const char *key, long long min,
                          long long max, int *out)
{
	long long v = 0;
	int err = host->uri_int(host, uri, key, min, max, &v);

	if (err < 0)
		return err;
	*out = (int)v;
	return 0;
}

int serial_cfg_parse(const ax_host *host, const ax_uri *uri, struct serial_cfg *cfg)
{
	static const char *const parities[] = {"none", "odd", "even"};
	static const enum sp_parity parity_vals[] = {SP_PARITY_NONE, SP_PARITY_ODD, SP_PARITY_EVEN};
	static const char *const flows[] = {"none", "rtscts", "xonxoff"};
	static const enum sp_flowcontrol flow_vals[] = {SP_FLOWCONTROL_NONE, SP_FLOWCONTROL_RTSCTS,
	                                                SP_FLOWCONTROL_XONXOFF};
	const char *parity, *flow, *probe;
	size_t i;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	err = serial_uri_int(host, uri, "baud", 1, SERIAL_MAX_BAUD, &cfg->baud);
	if (err == 0)
		err = serial_uri_int(host, uri, "data_bits", 5, 8, &cfg->data_bits);
	if (err == 0)
		err = serial_uri_int(host, uri, "stop_bits", 1, 2, &cfg->stop_bits);
	if (err == 0)
		err = serial_uri_int(host, uri, "timeout_ms", 1, SERIAL_MAX_TIMEOUT_MS,
		                     &cfg->timeout_ms);
	if (err < 0)
		return err;

	parity = host->uri_str(host, uri, "parity");
	for (i = 0; parity && i < SERIAL_COUNT(parities); i++)
		if (strcmp(parity, parities[i]) == 0)
			break;
	if (!parity || i == SERIAL_COUNT(parities))
		return host->error(host, AX_EINVAL,
		                   "URI '%s': parity '%s' is not one of none, odd, even", uri->text,
		                   parity ? parity : "");
	cfg->parity = parity_vals[i];

	flow = host->uri_str(host, uri, "flow");
	for (i = 0; flow && i < SERIAL_COUNT(flows); i++)
		if (strcmp(flow, flows[i]) == 0)
			break;
	if (!flow || i == SERIAL_COUNT(flows))
		return host->error(host, AX_EINVAL,
		                   "URI '%s': flow '%s' is not one of none, rtscts, xonxoff",
		                   uri->text, flow ? flow : "");
	cfg->flow = flow_vals[i];

	probe = host->uri_str(host, uri, "probe");
	cfg->have_probe = serial_uri_value(uri, "probe") != NULL;
	if (!probe || (strcmp(probe, "listed") != 0 && strcmp(probe, "all") != 0))
		return host->error(host, AX_EINVAL,
		                   "URI '%s': probe '%s' is not one of listed, all", uri->text,
		                   probe ? probe : "");
	cfg->probe_all = strcmp(probe, "all") == 0;

	(void)snprintf(cfg->line, sizeof(cfg->line), "%d %d%c%d%s%s", cfg->baud, cfg->data_bits,
	               cfg->parity == SP_PARITY_NONE  ? 'N'
	               : cfg->parity == SP_PARITY_ODD ? 'O'
	                                              : 'E',
	               cfg->stop_bits, cfg->flow == SP_FLOWCONTROL_NONE ? "" : " ",
	               cfg->flow == SP_FLOWCONTROL_NONE ? "" : flow);
	return 0;
}

void serial_cfg_query(const ax_uri *uri, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t k = 0; k < SERIAL_COUNT(serial_line_keys); k++) {
		const char *v = serial_uri_value(uri, serial_line_keys[k]);
		int n;

		/* serial_cfg_parse() accepted it, so it is a number or a plain word. */
		if (!v)
			continue;
		n = snprintf(out + o, cap - o, "%c%s=%s", o == 0 ? '?' : '&', serial_line_keys[k],
		             v);
		if (n < 0 || (size_t)n >= cap - o) {
			out[o] = '\0';
			return;
		}
		o += (size_t)n;
	}
}

/* Text for a libserialport failure: errno's when the OS failed, else the library's kind. */
static const char *serial_sp_why(enum sp_return ret, int errnum)
{
	switch (ret) {
	case SP_ERR_FAIL:
		return strerror(errnum);
	case SP_ERR_ARG:
		return "libserialport refused the arguments";
	case SP_ERR_MEM:
		return "out of memory";
	case SP_ERR_SUPP:
		return "not supported on this port";
	default:
		return "unknown libserialport error";
	}
}

/*
 * Fail an open: the message (and the hint after it) becomes the error, and
 * a scan gets both apart in @fail with the access state it reports.
 */
static int serial_open_err(const ax_host *host, struct serial_open_fail *fail, int code, int access,
                           const char *hint, const char *fmt, ...) AX_PRINTF_LIKE(6, 7);

static int serial_open_err(const ax_host *host, struct serial_open_fail *fail, int code, int access,
                           const char *hint, const char *fmt, ...)
{
	char msg[sizeof(fail->message)];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fail) {
		fail->access = access;
		(void)snprintf(fail->message, sizeof(fail->message), "%s", msg);
		(void)snprintf(fail->hint, sizeof(fail->hint), "%s", hint ? hint : "");
	}
	if (hint && hint[0])
		return host->error(host, code, "%s: %s", msg, hint);
	return host->error(host, code, "%s", msg);
}

/* Map the errno of a failed open to an error, with the scan's access state and hint. */
static int serial_open_error(const ax_host *host, const char *path, int errnum,
                             struct serial_open_fail *fail)
{
	switch (errnum) {
	case EACCES:
	case EPERM:
		return serial_open_err(host, fail, AX_EACCESS, AX_ACCESS_PERMISSION_DENIED,
		                       serial_hint_access,
		                       "permission denied opening serial port '%s'", path);
	case EBUSY:
		return serial_open_err(host, fail, AX_EBUSY, AX_ACCESS_BUSY, serial_hint_busy,
		                       "serial port '%s' is busy", path);
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return serial_open_err(host, fail, AX_ENOTFOUND, AX_ACCESS_ERROR, NULL,
		                       "serial port '%s' is not there (%s); unplugged?", path,
		                       strerror(errnum));
	default:
		return serial_open_err(host, fail, AX_EIO, AX_ACCESS_ERROR, NULL,
		                       "cannot open serial port '%s': %s", path, strerror(errnum));
	}
}

/* Report a line setting the port did not take. */
static int serial_config_error(ax_transport_priv *priv, const struct serial_cfg *cfg,
                               struct serial_open_fail *fail, const char *what, enum sp_return ret)
{
	int errnum = sp_last_error_code();

	/*
	 * EINVAL (or no errno): the driver refused the value, or took the call
	 * and kept another (libserialport reads each setting back; a pty keeps 8N).
	 */
	if (ret == SP_ERR_SUPP || (ret == SP_ERR_FAIL && (errnum == 0 || errnum == EINVAL)))
		return serial_open_err(priv->host, fail, AX_EUNSUPPORTED, AX_ACCESS_ERROR, NULL,
		                       "serial port '%s' does not support %s of %s", priv->path,
		                       what, cfg->line);
	return serial_open_err(priv->host, fail, ret == SP_ERR_FAIL ? AX_EIO : AX_EINVAL,
	                       AX_ACCESS_ERROR, NULL, "serial port '%s' refused %s of %s: %s",
	                       priv->path, what, cfg->line, serial_sp_why(ret, errnum));
}

/*
 * Apply the line settings of @cfg. errno is cleared before each call, so
 * that a stale value cannot make a refused setting look like an I/O error.
 */
static int serial_configure(ax_transport_priv *priv, const struct serial_cfg *cfg,
                            struct serial_open_fail *fail)
{
	enum sp_return ret;

	errno = 0;
	ret = sp_set_baudrate(priv->port, cfg->baud);
	if (ret != SP_OK)
		return serial_config_error(priv, cfg, fail, "the baud rate", ret);
	errno = 0;
	ret = sp_set_bits(priv->port, cfg->data_bits);
	if (ret != SP_OK)
		return serial_config_error(priv, cfg, fail, "the data bits", ret);
	errno = 0;
	ret = sp_set_parity(priv->port, cfg->parity);
	if (ret != SP_OK)
		return serial_config_error(priv, cfg, fail, "the parity", ret);
	errno = 0;
	ret = sp_set_stopbits(priv->port, cfg->stop_bits);
	if (ret != SP_OK)
		return serial_config_error(priv, cfg, fail, "the stop bits", ret);
	errno = 0;
	ret = sp_set_flowcontrol(priv->port, cfg->flow);
	if (ret != SP_OK)
		return serial_config_error(priv, cfg, fail, "the flow control", ret);
	return 0;
}

int serial_port_open(ax_transport_priv **out, const ax_host *host, const char *path,
                     const struct serial_cfg *cfg, struct serial_open_fail *fail)
{
	ax_transport_priv *priv;
	struct stat st;
	enum sp_return ret;
	int err;

	if (strlen(path) >= SERIAL_PATH_MAX)
		return serial_open_err(host, fail, AX_EINVAL, AX_ACCESS_ERROR, NULL,
		                       "serial port path of %zu characters is too long",
		                       strlen(path));
	/* libserialport would only say "invalid argument" for a port that is not there. */
	if (stat(path, &st) < 0)
		return serial_open_error(host, path, errno, fail);
	if (!S_ISCHR(st.st_mode))
		return serial_open_err(host, fail, AX_EINVAL, AX_ACCESS_ERROR, NULL,
		                       "'%s' is not a character device (a serial port is, e.g. "
		                       "/dev/ttyUSB0)",
		                       path);

	priv = host->calloc(1, sizeof(*priv));
	if (!priv)
		return serial_open_err(host, fail, AX_ENOMEM, AX_ACCESS_ERROR, NULL,
		                       "out of memory");
	priv->host = host;
	priv->fd = -1;
	priv->cancel_fd = -1;
	priv->timeout_ms = cfg->timeout_ms;
	(void)snprintf(priv->path, sizeof(priv->path), "%s", path);
	(void)snprintf(priv->line, sizeof(priv->line), "%s", cfg->line);

	ret = sp_get_port_by_name(path, &priv->port);
	if (ret != SP_OK) {
		priv->port = NULL;
		err = serial_open_err(host, fail, ret == SP_ERR_MEM ? AX_ENOMEM : AX_ENOTFOUND,
		                      AX_ACCESS_ERROR, NULL,
		                      "libserialport does not know '%s' as a serial port (%s); a "
		                      "pseudo-terminal has no /sys/class/tty entry and is not one",
		                      path, serial_sp_why(ret, sp_last_error_code()));
		goto fail;
	}
	ret = sp_open(priv->port, SP_MODE_READ_WRITE);
	if (ret != SP_OK) {
		if (ret == SP_ERR_FAIL) {
			err = serial_open_error(host, path, sp_last_error_code(), fail);
		} else {
			err = serial_open_err(host, fail, AX_EIO, AX_ACCESS_ERROR, NULL,
			                      "cannot open serial port '%s': %s", path,
			                      serial_sp_why(ret, 0));
		}
		goto fail;
	}
	if (sp_get_port_handle(priv->port, &priv->fd) != SP_OK || priv->fd < 0) {
		priv->fd = -1;
		err = serial_open_err(host, fail, AX_EIO, AX_ACCESS_ERROR, NULL,
		                      "serial port '%s' has no file descriptor to wait on", path);
		goto fail;
	}
	/*
	 * Serial ports do not refuse a second opener by themselves; without
	 * the lock two links (or a scan) would interleave their frames.
	 */
	if (flock(priv->fd, LOCK_EX | LOCK_NB) < 0) {
		err = serial_open_error(host, path, errno == EWOULDBLOCK ? EBUSY : errno, fail);
		goto fail;
	}
	/* Best effort: a pty or an old driver may refuse, and root ignores it anyway. */
	priv->exclusive = ioctl(priv->fd, TIOCEXCL) == 0;

	err = serial_configure(priv, cfg, fail);
	if (err < 0)
		goto fail;
	(void)sp_flush(priv->port, SP_BUF_BOTH);

	priv->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (priv->cancel_fd < 0) {
		err = serial_open_err(host, fail, AX_EIO, AX_ACCESS_ERROR, NULL,
		                      "cannot create the cancel eventfd: %s", strerror(errno));
		goto fail;
	}
	*out = priv;
	return 0;
fail:
	serial_port_close(priv);
	return err;
}

void serial_port_close(ax_transport_priv *priv)
{
	if (!priv)
		return;
	/* On a pty the flag outlives our descriptor; leave the port as we found it. */
	if (priv->exclusive && !priv->gone)
		(void)ioctl(priv->fd, TIOCNXCL);
	if (priv->port) {
		/* Closing the descriptor releases the flock too. */
		(void)sp_close(priv->port);
		sp_free_port(priv->port);
	}
	if (priv->cancel_fd >= 0)
		close(priv->cancel_fd);
	priv->host->free(priv);
}

size_t serial_port_last_noise(const ax_transport_priv *priv)
{
	return priv->noise;
}

int serial_port_cancel(ax_transport_priv *priv)
{
	const ax_host *host = priv->host;
	uint64_t one = 1;

	/* EAGAIN means the counter is saturated: a cancel is pending anyway. */
	if (write(priv->cancel_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return host->error(host, AX_EIO, "cannot signal cancel to the request on %s: %s",
		                   priv->path, strerror(errno));
	return 0;
}

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

/* Errors of libserialport calls on an open port; an I/O error there means the device left. */
static int serial_io_error(ax_transport_priv *priv, const struct serial_req *rq, enum sp_return ret,
                           const char *op)
{
	int errnum = ret == SP_ERR_FAIL ? sp_last_error_code() : 0;
	char why[96];

	if (ret == SP_ERR_FAIL &&
	    (errnum == EIO || errnum == ENXIO || errnum == ENODEV || errnum == EBADF)) {
		(void)snprintf(why, sizeof(why), "%s: %s", op, strerror(errnum));
		return serial_gone(priv, rq, why);
	}
	return priv->host->error(priv->host, AX_EIO,
	                         "%s subnode %u register 0x%03X: %s on serial port %s failed: %s",
	                         rq->verb, rq->subnode, rq->address, op, priv->path,
	                         serial_sp_why(ret, errnum));
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
		int n = sp_nonblocking_write(priv->port, buf + off, len - off);
		int err;

		if (n < 0)
			return serial_io_error(priv, rq, (enum sp_return)n, "write");
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
		int n, err;

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
		n = sp_nonblocking_read(priv->port, priv->rx + len, sizeof(priv->rx) - len);
		if (n < 0 && sp_last_error_code() == EINTR)
			continue;
		if (n < 0)
			return serial_io_error(priv, rq, (enum sp_return)n, "read");
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
		int n, err;

		err = serial_wait(priv, POLLIN, last + quiet < end ? last + quiet : end, rq);
		if (err == SERIAL_WAIT_TIMEOUT)
			break;
		if (err < 0)
			return err;
		n = sp_nonblocking_read(priv->port, priv->rx, sizeof(priv->rx));
		if (n < 0 && sp_last_error_code() == EINTR)
			continue;
		if (n < 0)
			return serial_io_error(priv, rq, (enum sp_return)n, "read");
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
		enum sp_return ret;

		/* Whatever is queued (noise, a late reply) would be taken for the answer. */
		ret = sp_flush(priv->port, SP_BUF_INPUT);
		if (ret != SP_OK) {
			err = serial_io_error(priv, &rq, ret, "flush");
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
		host->log(host, AX_LOG_DEBUG, "opened %s at %s, %d ms per try", priv->path,
		          priv->line, timeout_ms > 0 ? timeout_ms : priv->timeout_ms);
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
