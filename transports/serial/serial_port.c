/* SPDX-License-Identifier: MIT */
/*
 * The `serial` transport's ports: the line settings a URI gives, and
 * opening, closing and cancelling a port, through libserialport or, for a
 * terminal libserialport cannot drive (a pty), plain termios. The request
 * path that uses them is serial.c; see there for the whole picture.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* Returned by serial_sp_open() for a terminal to open with termios instead. */
#define SERIAL_USE_TERMIOS 2

static const char serial_hint_access[] =
        "add your user to the 'dialout' group (sudo usermod -aG dialout $USER, then log in "
        "again) or install a udev rule that grants access to the device";
static const char serial_hint_busy[] =
        "another program (or another axlink link) holds the port: close it; "
        "'fuser -v PORT' shows which";

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
const char *serial_io_why(const struct serial_io_err *e)
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
