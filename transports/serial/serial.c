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
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
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

/* Returned by serial_sp_open() for a terminal to open with termios instead. */
#define SERIAL_USE_TERMIOS 2

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

/* Why an I/O call on the port failed: errno when the OS failed (else 0), and a text. */
struct serial_io_err {
	int errnum;
	const char *why; /* NULL: strerror(errnum) */
};

/*
 * How the request path reaches the port: libserialport, or termios for a
 * terminal libserialport cannot drive. Both wait by poll() on priv->fd.
 */
struct serial_io {
	const char *name; /* for the debug log */
	/* Apply the line settings of @cfg; 0 or an error set through serial_open_err(). */
	int (*configure)(ax_transport_priv *priv, const struct serial_cfg *cfg,
	                 struct serial_open_fail *fail);
	/* Bytes read (0: end of file), or -1 with @e (EINTR, EAGAIN: try again). No blocking. */
	long (*read)(ax_transport_priv *priv, void *buf, size_t cap, struct serial_io_err *e);
	/* Bytes taken (0: the output queue is full), or -1 with @e. No blocking. */
	long (*write)(ax_transport_priv *priv, const void *buf, size_t len,
	              struct serial_io_err *e);
	/* Drop queued input, and unsent output with @output_too; 0 or -1 with @e. */
	int (*flush)(ax_transport_priv *priv, int output_too, struct serial_io_err *e);
	/* Close the port if open (the flock goes with it); copes with a half-open one. */
	void (*close)(ax_transport_priv *priv);
};

struct ax_transport_priv {
	const ax_host *host;
	const struct serial_io *io;
	struct sp_port *port; /* libserialport's port, or NULL with termios */
	int fd;         /* the port's descriptor (libserialport's, or ours), polled directly */
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

/* Text for a failed I/O call: the backend's own, or errno's. */
static const char *serial_io_why(const struct serial_io_err *e)
{
	return e->why ? e->why : strerror(e->errnum);
}

/*
 * Report a line setting the port did not take: @refused when the driver
 * refused the value or kept another, else the failure in @e.
 */
static int serial_config_error(ax_transport_priv *priv, const struct serial_cfg *cfg,
                               struct serial_open_fail *fail, const char *what, int refused,
                               const struct serial_io_err *e)
{
	if (refused)
		return serial_open_err(priv->host, fail, AX_EUNSUPPORTED, AX_ACCESS_ERROR, NULL,
		                       "serial port '%s' does not support %s of %s", priv->path,
		                       what, cfg->line);
	return serial_open_err(priv->host, fail, e->errnum ? AX_EIO : AX_EINVAL, AX_ACCESS_ERROR,
	                       NULL, "serial port '%s' refused %s of %s: %s", priv->path, what,
	                       cfg->line, serial_io_why(e));
}

/* A libserialport result as a backend's: @ret itself when >= 0, else -1 with @e filled in. */
static long serial_sp_result(int ret, struct serial_io_err *e)
{
	if (ret >= 0)
		return ret;
	e->errnum = ret == SP_ERR_FAIL ? sp_last_error_code() : 0;
	e->why = serial_sp_why((enum sp_return)ret, e->errnum);
	return -1;
}

/* Report a line setting libserialport did not apply. */
static int serial_sp_config_error(ax_transport_priv *priv, const struct serial_cfg *cfg,
                                  struct serial_open_fail *fail, const char *what,
                                  enum sp_return ret)
{
	struct serial_io_err e = {0, NULL};
	int refused;

	(void)serial_sp_result(ret, &e);
	/*
	 * EINVAL (or no errno): the driver refused the value, or took the call
	 * and kept another (libserialport reads each setting back; a pty keeps 8N).
	 */
	refused =
	        ret == SP_ERR_SUPP || (ret == SP_ERR_FAIL && (e.errnum == 0 || e.errnum == EINVAL));
	return serial_config_error(priv, cfg, fail, what, refused, &e);
}

/*
 * Apply the line settings of @cfg. errno is cleared before each call, so
 * that a stale value cannot make a refused setting look like an I/O error.
 */
static int serial_sp_configure(ax_transport_priv *priv, const struct serial_cfg *cfg,
                               struct serial_open_fail *fail)
{
	enum sp_return ret;

	errno = 0;
	ret = sp_set_baudrate(priv->port, cfg->baud);
	if (ret != SP_OK)
		return serial_sp_config_error(priv, cfg, fail, "the baud rate", ret);
	errno = 0;
	ret = sp_set_bits(priv->port, cfg->data_bits);
	if (ret != SP_OK)
		return serial_sp_config_error(priv, cfg, fail, "the data bits", ret);
	errno = 0;
	ret = sp_set_parity(priv->port, cfg->parity);
	if (ret != SP_OK)
		return serial_sp_config_error(priv, cfg, fail, "the parity", ret);
	errno = 0;
	ret = sp_set_stopbits(priv->port, cfg->stop_bits);
	if (ret != SP_OK)
		return serial_sp_config_error(priv, cfg, fail, "the stop bits", ret);
	errno = 0;
	ret = sp_set_flowcontrol(priv->port, cfg->flow);
	if (ret != SP_OK)
		return serial_sp_config_error(priv, cfg, fail, "the flow control", ret);
	return 0;
}

static long serial_sp_read(ax_transport_priv *priv, void *buf, size_t cap, struct serial_io_err *e)
{
	return serial_sp_result(sp_nonblocking_read(priv->port, buf, cap), e);
}

static long serial_sp_write(ax_transport_priv *priv, const void *buf, size_t len,
                            struct serial_io_err *e)
{
	return serial_sp_result(sp_nonblocking_write(priv->port, buf, len), e);
}

static int serial_sp_flush(ax_transport_priv *priv, int output_too, struct serial_io_err *e)
{
	return (int)serial_sp_result(sp_flush(priv->port, output_too ? SP_BUF_BOTH : SP_BUF_INPUT),
	                             e);
}

static void serial_sp_close(ax_transport_priv *priv)
{
	if (!priv->port)
		return;
	/* Closing the descriptor releases the flock too; a port never opened just says so. */
	(void)sp_close(priv->port);
	sp_free_port(priv->port);
	priv->port = NULL;
	priv->fd = -1;
}

static const struct serial_io serial_sp_io = {
        "libserialport", serial_sp_configure, serial_sp_read,
        serial_sp_write, serial_sp_flush,     serial_sp_close,
};

/* The termios speed for @baud, or B0 when termios names no such rate. */
static speed_t serial_tty_speed(int baud)
{
	static const struct {
		int baud;
		speed_t speed;
	} rates[] = {
	        {50, B50},           {75, B75},           {110, B110},         {134, B134},
	        {150, B150},         {200, B200},         {300, B300},         {600, B600},
	        {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},
	        {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
	        {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
	        {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
	        {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
	        {3500000, B3500000}, {4000000, B4000000},
	};

	/* Not cfsetspeed() with the number: glibc takes 13 for B9600 as readily as 9600. */
	for (size_t i = 0; i < SERIAL_COUNT(rates); i++)
		if (rates[i].baud == baud)
			return rates[i].speed;
	return B0;
}

/*
 * Apply @cfg with termios: raw bytes, the line as the URI says. The
 * driver may keep other values (a pty keeps 8 data bits and no parity),
 * so the settings are read back, as libserialport does, to name the one
 * the port does not support.
 */
static int serial_tty_configure(ax_transport_priv *priv, const struct serial_cfg *cfg,
                                struct serial_open_fail *fail)
{
	static const tcflag_t sizes[] = {CS5, CS6, CS7, CS8};
	struct serial_io_err e = {0, NULL};
	speed_t speed = serial_tty_speed(cfg->baud);
	struct termios want, got;
	int refused;

	if (speed == B0)
		return serial_config_error(priv, cfg, fail, "the baud rate", 1, &e);
	if (tcgetattr(priv->fd, &want) < 0)
		goto io_fail;
	cfmakeraw(&want);
	want.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	want.c_cflag |= sizes[cfg->data_bits - 5] | CLOCAL | CREAD;
	if (cfg->parity != SP_PARITY_NONE)
		want.c_cflag |= PARENB;
	if (cfg->parity == SP_PARITY_ODD)
		want.c_cflag |= PARODD;
	if (cfg->stop_bits == 2)
		want.c_cflag |= CSTOPB;
	want.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	if (cfg->flow == SP_FLOWCONTROL_RTSCTS)
		want.c_cflag |= CRTSCTS;
	if (cfg->flow == SP_FLOWCONTROL_XONXOFF)
		want.c_iflag |= IXON | IXOFF;
	/* Reads never block: poll() waits, and a read takes what is there. */
	want.c_cc[VMIN] = 1;
	want.c_cc[VTIME] = 0;
	if (cfsetspeed(&want, speed) < 0)
		return serial_config_error(priv, cfg, fail, "the baud rate", 1, &e);
	/* EINVAL: glibc read back a setting the driver did not take; find which. */
	refused = tcsetattr(priv->fd, TCSANOW, &want) < 0;
	if (refused && errno != EINVAL)
		goto io_fail;
	if (tcgetattr(priv->fd, &got) < 0)
		goto io_fail;
	if (cfgetospeed(&got) != speed || cfgetispeed(&got) != speed)
		return serial_config_error(priv, cfg, fail, "the baud rate", 1, &e);
	if ((got.c_cflag & CSIZE) != (want.c_cflag & CSIZE))
		return serial_config_error(priv, cfg, fail, "the data bits", 1, &e);
	if ((got.c_cflag & (PARENB | PARODD)) != (want.c_cflag & (PARENB | PARODD)))
		return serial_config_error(priv, cfg, fail, "the parity", 1, &e);
	if ((got.c_cflag & CSTOPB) != (want.c_cflag & CSTOPB))
		return serial_config_error(priv, cfg, fail, "the stop bits", 1, &e);
	if ((got.c_cflag & CRTSCTS) != (want.c_cflag & CRTSCTS) ||
	    (got.c_iflag & (IXON | IXOFF)) != (want.c_iflag & (IXON | IXOFF)))
		return serial_config_error(priv, cfg, fail, "the flow control", 1, &e);
	if (refused)
		return serial_config_error(priv, cfg, fail, "the line settings", 1, &e);
	return 0;
io_fail:
	e.errnum = errno;
	return serial_config_error(priv, cfg, fail, "the line settings", 0, &e);
}

/* A read or write on the terminal: the count, or -1 with errno in @e (EAGAIN: nothing yet). */
static long serial_tty_result(ssize_t n, struct serial_io_err *e)
{
	if (n >= 0)
		return (long)n;
	e->errnum = errno;
	e->why = NULL;
	return -1;
}

static long serial_tty_read(ax_transport_priv *priv, void *buf, size_t cap, struct serial_io_err *e)
{
	return serial_tty_result(read(priv->fd, buf, cap), e);
}

static long serial_tty_write(ax_transport_priv *priv, const void *buf, size_t len,
                             struct serial_io_err *e)
{
	ssize_t n = write(priv->fd, buf, len);

	/* A full output queue takes nothing yet, as with libserialport: wait for POLLOUT. */
	if (n < 0 && errno == EAGAIN)
		return 0;
	return serial_tty_result(n, e);
}

static int serial_tty_flush(ax_transport_priv *priv, int output_too, struct serial_io_err *e)
{
	if (tcflush(priv->fd, output_too ? TCIOFLUSH : TCIFLUSH) == 0)
		return 0;
	return (int)serial_tty_result(-1, e);
}

static void serial_tty_close(ax_transport_priv *priv)
{
	/* Releases the flock too. */
	if (priv->fd >= 0)
		close(priv->fd);
	priv->fd = -1;
}

static const struct serial_io serial_tty_io = {
        "termios",        serial_tty_configure, serial_tty_read,
        serial_tty_write, serial_tty_flush,     serial_tty_close,
};

/* Say at debug level why @priv goes through termios rather than libserialport. */
static void serial_tty_fallback_log(ax_transport_priv *priv, const char *what, const char *why)
{
	const ax_host *host = priv->host;

	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "libserialport %s '%s' (%s); opening it as a plain terminal through "
		          "termios instead",
		          what, priv->path, why);
}

/*
 * Open the port through libserialport. Returns 0, SERIAL_USE_TERMIOS for
 * a terminal that libserialport does not know or cannot drive (a pty: no
 * /sys/class/tty entry, no modem lines), or a negative error.
 */
static int serial_sp_open(ax_transport_priv *priv, struct serial_open_fail *fail)
{
	const ax_host *host = priv->host;
	enum sp_return ret;
	int errnum;

	ret = sp_get_port_by_name(priv->path, &priv->port);
	if (ret != SP_OK) {
		priv->port = NULL;
		if (ret == SP_ERR_MEM)
			return serial_open_err(host, fail, AX_ENOMEM, AX_ACCESS_ERROR, NULL,
			                       "out of memory");
		serial_tty_fallback_log(priv, "does not know",
		                        serial_sp_why(ret, sp_last_error_code()));
		return SERIAL_USE_TERMIOS;
	}
	ret = sp_open(priv->port, SP_MODE_READ_WRITE);
	if (ret != SP_OK) {
		errnum = sp_last_error_code();
		if (ret == SP_ERR_FAIL && errnum == ENOTTY) {
			/* A pty under a name sysfs knows: it has no modem lines to set. */
			serial_tty_fallback_log(priv, "cannot open", strerror(errnum));
			serial_sp_close(priv);
			return SERIAL_USE_TERMIOS;
		}
		if (ret == SP_ERR_FAIL)
			return serial_open_error(host, priv->path, errnum, fail);
		return serial_open_err(host, fail, AX_EIO, AX_ACCESS_ERROR, NULL,
		                       "cannot open serial port '%s': %s", priv->path,
		                       serial_sp_why(ret, 0));
	}
	if (sp_get_port_handle(priv->port, &priv->fd) != SP_OK || priv->fd < 0) {
		priv->fd = -1;
		return serial_open_err(host, fail, AX_EIO, AX_ACCESS_ERROR, NULL,
		                       "serial port '%s' has no file descriptor to wait on",
		                       priv->path);
	}
	return 0;
}

/*
 * Open the port as a plain terminal: the character device @st describes,
 * which must answer tcgetattr().
 */
static int serial_tty_open(ax_transport_priv *priv, const struct stat *st,
                           struct serial_open_fail *fail)
{
	const ax_host *host = priv->host;
	struct termios tio;
	struct stat now;

	priv->io = &serial_tty_io;
	priv->fd = open(priv->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (priv->fd < 0)
		return serial_open_error(host, priv->path, errno, fail);
	/* What was opened is still the character device looked at before. */
	if (fstat(priv->fd, &now) < 0 || !S_ISCHR(now.st_mode) || now.st_rdev != st->st_rdev)
		return serial_open_err(host, fail, AX_EINVAL, AX_ACCESS_ERROR, NULL,
		                       "'%s' changed while being opened: it is no longer the "
		                       "character device it was",
		                       priv->path);
	if (tcgetattr(priv->fd, &tio) < 0)
		return serial_open_err(host, fail, AX_ENOTFOUND, AX_ACCESS_ERROR, NULL,
		                       "libserialport does not know '%s' as a serial port, and it "
		                       "is not a terminal either (%s)",
		                       priv->path, strerror(errno));
	return 0;
}

int serial_port_open(ax_transport_priv **out, const ax_host *host, const char *path,
                     const struct serial_cfg *cfg, struct serial_open_fail *fail)
{
	ax_transport_priv *priv;
	struct serial_io_err e = {0, NULL};
	struct stat st;
	int err;

	if (strlen(path) >= SERIAL_PATH_MAX)
		return serial_open_err(host, fail, AX_EINVAL, AX_ACCESS_ERROR, NULL,
		                       "serial port path of %zu characters is too long",
		                       strlen(path));
	/*
	 * Look before opening: libserialport would only say "invalid argument"
	 * for a port that is not there, and opening is for devices only.
	 */
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
	priv->io = &serial_sp_io;
	priv->fd = -1;
	priv->cancel_fd = -1;
	priv->timeout_ms = cfg->timeout_ms;
	(void)snprintf(priv->path, sizeof(priv->path), "%s", path);
	(void)snprintf(priv->line, sizeof(priv->line), "%s", cfg->line);

	err = serial_sp_open(priv, fail);
	if (err == SERIAL_USE_TERMIOS)
		err = serial_tty_open(priv, &st, fail);
	if (err < 0)
		goto fail;
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

	err = priv->io->configure(priv, cfg, fail);
	if (err < 0)
		goto fail;
	(void)priv->io->flush(priv, 1, &e);

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
	priv->io->close(priv);
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
