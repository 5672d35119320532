/* SPDX-License-Identifier: MIT */
/*
 * Buses of the `can` transport: one small frame interface (open, send,
 * receive by a deadline, cancel, close) over three backends.
 *
 * - slcan: a serial-line CAN adapter speaking the Lawicel ASCII protocol
 *   on a tty. The tty is opened through libserialport; a terminal it does
 *   not know or cannot open (a pseudo-terminal: no /sys/class/tty entry,
 *   no modem lines) is opened with termios instead, as the serial
 *   transport does. The channel is closed ("C"), given its bit rate
 *   ("S0".."S8") and opened ("O"); each command must be answered with CR.
 *   An exclusive flock() keeps a second link or scan off the tty.
 * - socketcand: a TCP connection to a socketcand server: "< hi >", then
 *   "< open BUS >" and "< rawmode >", each answered "< ok >".
 * - socketcan: a Linux CAN_RAW socket bound to the interface.
 *
 * Every wait is poll() on the bus descriptor and an eventfd that
 * can_bus_cancel() writes, so nothing blocks past its deadline and
 * another thread can abort it.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "can.h"

/* Receive buffer of the text backends: several lines or messages. */
#define BUS_RX_SIZE 1024

/* How long the adapter may take to answer the "C" sent before setting it up. */
#define SLCAN_CLOSE_WAIT_MS 100

struct can_bus {
	const ax_host *host;
	int kind;
	int fd;
	int cancel_fd;        /* the bus's own eventfd */
	int wait_fd;          /* the eventfd waits watch: cancel_fd, or a sharing link's */
	struct sp_port *port; /* slcan through libserialport, else NULL */
	int gone;             /* the device went away: fail at once */
	unsigned refusals;    /* slcan: BEL answers since the last can_bus_take_refusals() */
	size_t rx_len;
	char rx[BUS_RX_SIZE];
	char name[CAN_PATH_MAX + 32];
};

static int bus_fail(const ax_host *host, struct can_open_fail *access, int state, int code,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Set the error (and a scan's access state) and return @code. */
static int bus_fail(const ax_host *host, struct can_open_fail *access, int state, int code,
                    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (access) {
		access->access = state;
		(void)snprintf(access->message, sizeof(access->message), "%.319s", msg);
	}
	return host->error(host, code, "%s", msg);
}

/* An OS open/connect failure: its code and scan state from errno. */
static int bus_errno(const ax_host *host, struct can_open_fail *access, int errnum,
                     const char *what, const char *name)
{
	switch (errnum) {
	case EACCES:
	case EPERM:
		return bus_fail(host, access, AX_ACCESS_PERMISSION_DENIED, AX_EACCESS,
		                "%s %s: permission denied (add your user to the 'dialout' group "
		                "or grant access to the device)",
		                what, name);
	case EBUSY:
	case EWOULDBLOCK:
		return bus_fail(host, access, AX_ACCESS_BUSY, AX_EBUSY,
		                "%s %s: busy (another program or axlink link holds it)", what,
		                name);
	case ENOENT:
	case ENODEV:
	case ENXIO:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return bus_fail(host, access, AX_ACCESS_ERROR, AX_ENOTFOUND, "%s %s: %s", what,
		                name, strerror(errnum));
	default:
		return bus_fail(host, access, AX_ACCESS_ERROR, AX_EIO, "%s %s: %s", what, name,
		                strerror(errnum));
	}
}

static int ms_left(uint64_t now, uint64_t deadline)
{
	uint64_t ms;

	if (now >= deadline)
		return 0;
	ms = (deadline - now + 999999u) / 1000000u;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static int bus_gone(struct can_bus *bus, const char *why)
{
	bus->gone = 1;
	return bus->host->error(bus->host, AX_EDISCONNECTED, "CAN bus %s went away (%s)", bus->name,
	                        why);
}

/*
 * Wait for @events on the bus until @deadline (a past deadline polls
 * once). 0 when ready, CAN_BUS_TIMEOUT, AX_ECANCELED, AX_EDISCONNECTED.
 */
static int bus_wait(struct can_bus *bus, short events, uint64_t deadline)
{
	const ax_host *host = bus->host;

	for (;;) {
		struct pollfd pfd[2] = {
		        {.fd = bus->fd, .events = events},
		        {.fd = bus->wait_fd, .events = POLLIN},
		};
		int n = poll(pfd, 2, ms_left(host->now_ns(), deadline));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return host->error(host, AX_EIO, "poll on CAN bus %s failed: %s", bus->name,
			                   strerror(errno));
		}
		if (pfd[1].revents & POLLIN)
			return host->error(host, AX_ECANCELED, "request on CAN bus %s cancelled",
			                   bus->name);
		if (pfd[0].revents & events)
			return 0;
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			return bus_gone(bus, "hang-up");
		if (n == 0)
			return CAN_BUS_TIMEOUT;
	}
}

/* Write all of @buf by @deadline. */
static int bus_write_all(struct can_bus *bus, const void *buf, size_t len, uint64_t deadline)
{
	const ax_host *host = bus->host;
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(bus->fd, (const char *)buf + off, len - off);
		int err;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != ENOBUFS) {
			if (errno == EIO || errno == ENXIO || errno == ENODEV || errno == EPIPE ||
			    errno == ECONNRESET)
				return bus_gone(bus, strerror(errno));
			return host->error(host, AX_EIO, "write to CAN bus %s failed: %s",
			                   bus->name, strerror(errno));
		}
		err = bus_wait(bus, POLLOUT, deadline);
		if (err == CAN_BUS_TIMEOUT)
			return host->error(host, AX_ETIMEDOUT,
			                   "CAN bus %s did not take a frame before the deadline",
			                   bus->name);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Read what is there into the receive buffer. 0, or an error (end of file is a hang-up). */
static int bus_fill(struct can_bus *bus)
{
	ssize_t n;

	if (bus->rx_len == sizeof(bus->rx)) {
		/* Nothing parseable in a full buffer: noise; start over. */
		bus->rx_len = 0;
	}
	n = read(bus->fd, bus->rx + bus->rx_len, sizeof(bus->rx) - bus->rx_len);
	if (n > 0) {
		bus->rx_len += (size_t)n;
		return 0;
	}
	if (n == 0)
		return bus_gone(bus, bus->kind == CAN_SOCKETCAND
		                             ? "the server closed the connection"
		                             : "end of file");
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	if (errno == EIO || errno == ENXIO || errno == ENODEV || errno == ECONNRESET)
		return bus_gone(bus, strerror(errno));
	return bus->host->error(bus->host, AX_EIO, "read from CAN bus %s failed: %s", bus->name,
	                        strerror(errno));
}

static void bus_consume(struct can_bus *bus, size_t n)
{
	memmove(bus->rx, bus->rx + n, bus->rx_len - n);
	bus->rx_len -= n;
}

static void bus_log_bad(struct can_bus *bus, const char *why)
{
	if (bus->host->log_enabled(bus->host, AX_LOG_DEBUG))
		bus->host->log(bus->host, AX_LOG_DEBUG, "CAN bus %s: dropped %s", bus->name, why);
}

/*
 * The next slcan line in the buffer: its kind (frame in @m), or 0 when no
 * complete line is there.
 */
static int slcan_take(struct can_bus *bus, struct can_msg *m)
{
	for (;;) {
		char why[160];
		size_t i = 0, len;
		int kind;

		/* LF is not part of the protocol but some adapters add it: skip it. */
		while (i < bus->rx_len && bus->rx[i] == '\n')
			i++;
		bus_consume(bus, i);
		for (len = 0; len < bus->rx_len; len++)
			if (bus->rx[len] == '\r' || bus->rx[len] == '\a')
				break;
		if (len == bus->rx_len) {
			if (len > CAN_SLCAN_LINE_MAX) {
				bus_log_bad(bus, "an overlong slcan line");
				bus->rx_len = 0;
			}
			return 0;
		}
		kind = len > CAN_SLCAN_LINE_MAX
		               ? (snprintf(why, sizeof(why), "slcan line of %zu characters", len),
		                  -1)
		               : can_slcan_parse(bus->rx, len, bus->rx[len], m, why, sizeof(why));
		bus_consume(bus, len + 1);
		if (kind < 0) {
			bus_log_bad(bus, why);
			continue;
		}
		return kind;
	}
}

/* The next socketcand message: its kind (frame in @m, error text in @why), or 0. */
static int scd_take(struct can_bus *bus, struct can_msg *m, char *why, size_t why_cap)
{
	for (;;) {
		char *lt = memchr(bus->rx, '<', bus->rx_len), *gt;
		int kind;

		if (!lt) {
			bus->rx_len = 0;
			return 0;
		}
		bus_consume(bus, (size_t)(lt - bus->rx));
		gt = memchr(bus->rx, '>', bus->rx_len);
		if (!gt) {
			if (bus->rx_len > CAN_SCD_MSG_MAX) {
				bus_log_bad(bus, "an overlong socketcand message");
				bus->rx_len = 0;
			}
			return 0;
		}
		kind = can_scd_parse(bus->rx + 1, (size_t)(gt - bus->rx - 1), m, why, why_cap);
		bus_consume(bus, (size_t)(gt - bus->rx + 1));
		if (kind < 0) {
			bus_log_bad(bus, why);
			continue;
		}
		return kind;
	}
}

int can_bus_recv(struct can_bus *bus, struct can_msg *m, uint64_t deadline)
{
	const ax_host *host = bus->host;

	if (bus->gone)
		return host->error(host, AX_EDISCONNECTED, "CAN bus %s is gone", bus->name);
	for (;;) {
		int err;

		if (bus->kind == CAN_SLCAN) {
			int kind;

			while ((kind = slcan_take(bus, m)) != 0) {
				if (kind == CAN_SLCAN_FRAME)
					return 0;
				if (kind == CAN_SLCAN_NACK)
					bus->refusals++;
			}
		} else if (bus->kind == CAN_SOCKETCAND) {
			char why[160];
			int kind;

			while ((kind = scd_take(bus, m, why, sizeof(why))) != 0) {
				if (kind == CAN_SCD_FRAME)
					return 0;
				if (kind == CAN_SCD_ERROR)
					bus_log_bad(bus, why);
			}
		} else {
			struct can_frame f;
			uint32_t err_class = 0;
			char why[160];
			ssize_t n = read(bus->fd, &f, sizeof(f));

			if (n == (ssize_t)sizeof(f)) {
				int r = can_sc_unpack(m, &f, &err_class, why, sizeof(why));

				if (r == 0)
					return 0;
				if (r > 0 && host->log_enabled(host, AX_LOG_DEBUG))
					host->log(host, AX_LOG_DEBUG,
					          "CAN bus %s: error frame, class 0x%X", bus->name,
					          (unsigned)err_class);
				if (r < 0)
					bus_log_bad(bus, why);
				continue;
			}
			if (n >= 0) {
				bus_log_bad(bus, "a short SocketCAN frame");
				continue;
			}
			if (errno == ENETDOWN || errno == ENODEV)
				return bus_gone(bus, strerror(errno));
			if (errno != EAGAIN && errno != EINTR)
				return host->error(host, AX_EIO, "read from CAN bus %s failed: %s",
				                   bus->name, strerror(errno));
		}
		err = bus_wait(bus, POLLIN, deadline);
		if (err != 0)
			return err;
		if (bus->kind != CAN_SOCKETCAN) {
			err = bus_fill(bus);
			if (err < 0)
				return err;
		}
	}
}

int can_bus_send(struct can_bus *bus, const struct can_msg *m, uint64_t deadline)
{
	const ax_host *host = bus->host;
	char text[CAN_SCD_MSG_MAX];
	struct can_frame f;
	int n;

	if (bus->gone)
		return host->error(host, AX_EDISCONNECTED, "CAN bus %s is gone", bus->name);
	if (bus->kind == CAN_SOCKETCAN) {
		if (can_sc_pack(&f, m) < 0)
			return host->error(host, AX_EINVAL, "invalid CAN frame (id 0x%X, %u bytes)",
			                   (unsigned)m->id, m->len);
		return bus_write_all(bus, &f, sizeof(f), deadline);
	}
	n = bus->kind == CAN_SLCAN ? can_slcan_encode(text, sizeof(text), m)
	                           : can_scd_encode(text, sizeof(text), m);
	if (n < 0)
		return host->error(host, AX_EINVAL, "invalid CAN frame (id 0x%X, %u bytes)",
		                   (unsigned)m->id, m->len);
	return bus_write_all(bus, text, (size_t)n, deadline);
}

int can_bus_cancel(struct can_bus *bus)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, a cancel is pending anyway. */
	if (write(bus->cancel_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return bus->host->error(bus->host, AX_EIO,
		                        "cannot signal cancel to the request on CAN bus %s: %s",
		                        bus->name, strerror(errno));
	return 0;
}

void can_bus_drain_cancel(struct can_bus *bus)
{
	uint64_t count;

	if (read(bus->cancel_fd, &count, sizeof(count)) == (ssize_t)sizeof(count) &&
	    bus->host->log_enabled(bus->host, AX_LOG_DEBUG))
		bus->host->log(bus->host, AX_LOG_DEBUG,
		               "dropped a cancel that arrived between requests on CAN bus %s",
		               bus->name);
}

void can_bus_set_cancel(struct can_bus *bus, int fd)
{
	bus->wait_fd = fd >= 0 ? fd : bus->cancel_fd;
}

unsigned can_bus_take_refusals(struct can_bus *bus)
{
	unsigned n = bus->refusals;

	bus->refusals = 0;
	return n;
}

/* ---- slcan ------------------------------------------------------------------------------ */

static speed_t tty_speed(int baud)
{
	static const struct {
		int baud;
		speed_t speed;
	} rates[] = {
	        {9600, B9600},     {19200, B19200},     {38400, B38400},     {57600, B57600},
	        {115200, B115200}, {230400, B230400},   {460800, B460800},   {500000, B500000},
	        {921600, B921600}, {1000000, B1000000}, {2000000, B2000000}, {3000000, B3000000},
	};

	for (size_t i = 0; i < CAN_COUNT(rates); i++)
		if (rates[i].baud == baud)
			return rates[i].speed;
	return B0;
}

/* Raw 8N1 at @baud through termios (a pty keeps its own rate: no check). */
static int slcan_termios(struct can_bus *bus, const struct can_target *t,
                         struct can_open_fail *access)
{
	struct termios tio;
	speed_t speed = tty_speed(t->baud);

	if (tcgetattr(bus->fd, &tio) < 0)
		return bus_fail(bus->host, access, AX_ACCESS_ERROR, AX_ENOTFOUND,
		                "'%s' is not a terminal, so not an slcan adapter (%s)", t->dev,
		                strerror(errno));
	if (speed == B0)
		return bus_fail(bus->host, access, AX_ACCESS_ERROR, AX_EINVAL,
		                "baud %d is not a terminal line rate", t->baud);
	cfmakeraw(&tio);
	tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	(void)cfsetspeed(&tio, speed);
	if (tcsetattr(bus->fd, TCSANOW, &tio) < 0)
		return bus_errno(bus->host, access, errno, "cannot set up the line of", t->dev);
	(void)tcflush(bus->fd, TCIOFLUSH);
	return 0;
}

/*
 * Open the tty through libserialport. 0 with bus->fd set, 1 to open it
 * with termios instead (libserialport does not know it or cannot drive
 * it, like a pty), or an error.
 */
static int slcan_sp_open(struct can_bus *bus, const struct can_target *t,
                         struct can_open_fail *access)
{
	const ax_host *host = bus->host;
	enum sp_return ret;
	int errnum;

	if (sp_get_port_by_name(t->dev, &bus->port) != SP_OK) {
		bus->port = NULL;
		return 1;
	}
	ret = sp_open(bus->port, SP_MODE_READ_WRITE);
	if (ret != SP_OK) {
		errnum = ret == SP_ERR_FAIL ? sp_last_error_code() : 0;
		sp_free_port(bus->port);
		bus->port = NULL;
		if (errnum == ENOTTY || errnum == 0)
			return 1;
		return bus_errno(host, access, errnum, "cannot open slcan adapter", t->dev);
	}
	if (sp_get_port_handle(bus->port, &bus->fd) != SP_OK || bus->fd < 0 ||
	    sp_set_baudrate(bus->port, t->baud) != SP_OK || sp_set_bits(bus->port, 8) != SP_OK ||
	    sp_set_parity(bus->port, SP_PARITY_NONE) != SP_OK ||
	    sp_set_stopbits(bus->port, 1) != SP_OK ||
	    sp_set_flowcontrol(bus->port, SP_FLOWCONTROL_NONE) != SP_OK) {
		bus->fd = -1;
		return bus_fail(host, access, AX_ACCESS_ERROR, AX_EIO,
		                "cannot set up slcan adapter %s at %d baud 8N1: %s", t->dev,
		                t->baud, sp_last_error_message());
	}
	(void)sp_flush(bus->port, SP_BUF_BOTH);
	/* libserialport's descriptor blocks; the request path polls and reads what is there. */
	(void)fcntl(bus->fd, F_SETFL, fcntl(bus->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

/*
 * Send command @cmd and take the adapter's answer by @deadline: 0 for CR,
 * 1 for BEL, CAN_BUS_TIMEOUT + 1 for none; frames arriving meanwhile are
 * dropped (the channel may be open from an earlier session).
 */
static int slcan_command(struct can_bus *bus, const char *cmd, uint64_t deadline)
{
	char line[8];
	int n = snprintf(line, sizeof(line), "%s\r", cmd), err;
	struct can_msg m;

	err = bus_write_all(bus, line, (size_t)n, deadline);
	if (err < 0)
		return err;
	for (;;) {
		int kind;

		while ((kind = slcan_take(bus, &m)) != 0) {
			if (kind == CAN_SLCAN_ACK)
				return 0;
			if (kind == CAN_SLCAN_NACK)
				return 1;
		}
		err = bus_wait(bus, POLLIN, deadline);
		if (err == CAN_BUS_TIMEOUT)
			return CAN_BUS_TIMEOUT + 1;
		if (err < 0)
			return err;
		err = bus_fill(bus);
		if (err < 0)
			return err;
	}
}

static int slcan_open(struct can_bus *bus, const struct can_target *t, int timeout_ms,
                      struct can_open_fail *access)
{
	const ax_host *host = bus->host;
	const char *rate = can_slcan_bitrate_cmd(t->bitrate);
	uint64_t now = host->now_ns(), close_wait = now + SLCAN_CLOSE_WAIT_MS * 1000000ull;
	uint64_t deadline = now + (uint64_t)timeout_ms * 1000000u;
	struct stat st;
	int err;

	if (!rate)
		return bus_fail(
		        host, access, AX_ACCESS_ERROR, AX_EINVAL,
		        "bitrate %ld has no slcan code (10000, 20000, 50000, 100000, 125000, "
		        "250000, 500000, 800000 or 1000000)",
		        t->bitrate);
	if (stat(t->dev, &st) < 0)
		return bus_errno(host, access, errno, "cannot open slcan adapter", t->dev);
	if (!S_ISCHR(st.st_mode))
		return bus_fail(host, access, AX_ACCESS_ERROR, AX_EINVAL,
		                "'%s' is not a character device (an slcan adapter is a tty, e.g. "
		                "/dev/ttyACM0)",
		                t->dev);
	err = slcan_sp_open(bus, t, access);
	if (err == 1) {
		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG,
			          "libserialport cannot open '%s'; opening it as a plain terminal "
			          "through termios instead",
			          t->dev);
		bus->fd = open(t->dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (bus->fd < 0)
			return bus_errno(host, access, errno, "cannot open slcan adapter", t->dev);
		err = slcan_termios(bus, t, access);
	}
	if (err < 0)
		return err;
	if (flock(bus->fd, LOCK_EX | LOCK_NB) < 0)
		return bus_errno(host, access, errno == EWOULDBLOCK ? EBUSY : errno,
		                 "cannot open slcan adapter", t->dev);

	/* Closed first: setting the rate needs a closed channel, and BEL says it was. */
	err = slcan_command(bus, "C", close_wait < deadline ? close_wait : deadline);
	if (err < 0)
		return err;
	err = slcan_command(bus, rate, deadline);
	if (err == 0)
		err = slcan_command(bus, "O", deadline);
	if (err == 1)
		return bus_fail(host, access, AX_ACCESS_ERROR, AX_EIO,
		                "slcan adapter %s refused to open the channel at %ld bit/s", t->dev,
		                t->bitrate);
	if (err == CAN_BUS_TIMEOUT + 1)
		return bus_fail(host, access, AX_ACCESS_NO_REPLY, AX_ETIMEDOUT,
		                "no answer from %s within %d ms: not an slcan adapter (Lawicel "
		                "ASCII protocol)?",
		                t->dev, timeout_ms);
	return err;
}

/* ---- socketcand ----------------------------------------------------------------------- */

/* Take the next socketcand message by @deadline, expecting @want (a can_scd_kind). */
static int scd_expect(struct can_bus *bus, const struct can_target *t, int want, const char *after,
                      uint64_t deadline, struct can_open_fail *access)
{
	const ax_host *host = bus->host;
	struct can_msg m;
	char why[160] = "";

	for (;;) {
		int kind, err;

		while ((kind = scd_take(bus, &m, why, sizeof(why))) != 0) {
			if (kind == want)
				return 0;
			if (kind == CAN_SCD_ERROR)
				return bus_fail(host, access, AX_ACCESS_ERROR, AX_ENOTFOUND,
				                "socketcand at %s:%d refused %s: %s", t->host,
				                t->port, after, why);
		}
		err = bus_wait(bus, POLLIN, deadline);
		if (err == CAN_BUS_TIMEOUT)
			return bus_fail(host, access, AX_ACCESS_NO_REPLY, AX_ETIMEDOUT,
			                "no answer from socketcand at %s:%d to %s", t->host,
			                t->port, after);
		if (err < 0)
			return err;
		err = bus_fill(bus);
		if (err < 0)
			return err;
	}
}

static int scd_connect(struct can_bus *bus, const struct can_target *t, uint64_t deadline,
                       struct can_open_fail *access)
{
	const ax_host *host = bus->host;
	struct addrinfo hints = {
	        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char port[16];
	int rc, err = 0, one = 1;
	socklen_t len = sizeof(err);

	(void)snprintf(port, sizeof(port), "%d", t->port);
	rc = getaddrinfo(t->host, port, &hints, &res);
	if (rc != 0 || !res)
		return bus_fail(host, access, AX_ACCESS_ERROR, AX_ENOTFOUND,
		                "cannot resolve socketcand host '%s': %s", t->host,
		                gai_strerror(rc));
	bus->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (bus->fd < 0) {
		freeaddrinfo(res);
		return bus_errno(host, access, errno, "cannot create a socket for", bus->name);
	}
	rc = connect(bus->fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0 && errno != EINPROGRESS)
		return bus_errno(host, access, errno, "cannot connect to socketcand", bus->name);
	if (rc < 0) {
		rc = bus_wait(bus, POLLOUT, deadline);
		if (rc == CAN_BUS_TIMEOUT)
			return bus_fail(host, access, AX_ACCESS_NO_REPLY, AX_ETIMEDOUT,
			                "cannot connect to socketcand %s: timed out", bus->name);
		if (rc < 0 && rc != AX_EDISCONNECTED)
			return rc;
		if (getsockopt(bus->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err)
			return bus_errno(host, access, err, "cannot connect to socketcand",
			                 bus->name);
		bus->gone = 0;
	}
	(void)setsockopt(bus->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static int socketcand_open(struct can_bus *bus, const struct can_target *t, int timeout_ms,
                           struct can_open_fail *access)
{
	uint64_t deadline = bus->host->now_ns() + (uint64_t)timeout_ms * 1000000u;
	char cmd[64];
	int err, n;

	err = scd_connect(bus, t, deadline, access);
	if (err == 0)
		err = scd_expect(bus, t, CAN_SCD_HI, "the connection (no '< hi >')", deadline,
		                 access);
	if (err < 0)
		return err;
	n = snprintf(cmd, sizeof(cmd), "< open %s >", t->dev);
	err = bus_write_all(bus, cmd, (size_t)n, deadline);
	if (err == 0)
		err = scd_expect(bus, t, CAN_SCD_OK, "'< open BUS >' for the bus", deadline,
		                 access);
	if (err == 0)
		err = bus_write_all(bus, "< rawmode >", 11, deadline);
	if (err == 0)
		err = scd_expect(bus, t, CAN_SCD_OK, "'< rawmode >'", deadline, access);
	return err;
}

/* ---- SocketCAN ------------------------------------------------------------------------ */

static int socketcan_open(struct can_bus *bus, const struct can_target *t,
                          struct can_open_fail *access)
{
	const ax_host *host = bus->host;
	struct sockaddr_can addr;
	unsigned idx;

	bus->fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (bus->fd < 0)
		return bus_fail(host, access, AX_ACCESS_ERROR,
		                errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT ? AX_ENOTFOUND
		                                                                  : AX_EIO,
		                "cannot open a SocketCAN socket for %s: %s (is the kernel's CAN "
		                "support, module can_raw, there?)",
		                t->dev, strerror(errno));
	idx = if_nametoindex(t->dev);
	if (idx == 0)
		return bus_fail(host, access, AX_ACCESS_ERROR, AX_ENOTFOUND,
		                "no network interface '%s' (list CAN interfaces with 'ip -br link "
		                "show type can')",
		                t->dev);
	memset(&addr, 0, sizeof(addr));
	addr.can_family = AF_CAN;
	addr.can_ifindex = (int)idx;
	if (bind(bus->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return bus_errno(host, access, errno, "cannot bind a SocketCAN socket to", t->dev);
	return 0;
}

/* ---- open and close ------------------------------------------------------------------- */

int can_bus_open(struct can_bus **out, const ax_host *host, const struct can_target *t,
                 int timeout_ms, struct can_open_fail *access)
{
	struct can_bus *bus = host->calloc(1, sizeof(*bus));
	int err;

	if (access)
		(void)snprintf(access->message, sizeof(access->message), "cannot open %s", t->name);
	if (!bus)
		return bus_fail(host, access, AX_ACCESS_ERROR, AX_ENOMEM, "out of memory");
	bus->host = host;
	bus->kind = t->kind;
	bus->fd = -1;
	(void)snprintf(bus->name, sizeof(bus->name), "%s", t->name);
	bus->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	bus->wait_fd = bus->cancel_fd;
	if (bus->cancel_fd < 0) {
		err = bus_fail(host, access, AX_ACCESS_ERROR, AX_EIO,
		               "cannot create the cancel eventfd: %s", strerror(errno));
		goto fail;
	}
	if (t->kind == CAN_SLCAN)
		err = slcan_open(bus, t, timeout_ms, access);
	else if (t->kind == CAN_SOCKETCAND)
		err = socketcand_open(bus, t, timeout_ms, access);
	else
		err = socketcan_open(bus, t, access);
	if (err < 0)
		goto fail;
	*out = bus;
	return 0;
fail:
	can_bus_close(bus);
	return err;
}

void can_bus_close(struct can_bus *bus)
{
	if (!bus)
		return;
	if (bus->kind == CAN_SLCAN && bus->fd >= 0 && !bus->gone) {
		/* Best effort, no waiting: leave the adapter's channel closed. */
		if (write(bus->fd, "C\r", 2) < 0 && bus->host->log_enabled(bus->host, AX_LOG_DEBUG))
			bus->host->log(bus->host, AX_LOG_DEBUG,
			               "cannot close the channel of %s: %s", bus->name,
			               strerror(errno));
	}
	if (bus->port) {
		(void)sp_close(bus->port);
		sp_free_port(bus->port);
	} else if (bus->fd >= 0) {
		close(bus->fd);
	}
	if (bus->cancel_fd >= 0)
		close(bus->cancel_fd);
	bus->host->free(bus);
}
