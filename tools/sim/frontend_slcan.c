/* SPDX-License-Identifier: MIT */
/*
 * A serial-line CAN adapter on a terminal, speaking the Lawicel ("slcan")
 * ASCII protocol, with the simulated CANopen nodes on its bus.
 *
 * Commands end with CR (a LF is taken as one too; empty lines are ignored).
 * Every command is answered: CR when done, BEL (0x07) when refused.
 *   Sn      bit rate S0..S8 = 10k 20k 50k 100k 125k 250k 500k 800k 1M
 *           (closed only); the bus hears the adapter only at its own rate
 *   sxxyy   bit timing registers (closed only): a rate the bus never has
 *   O / L   open the channel (L: listen only, nothing is sent)
 *   C       close the channel (also when closed: a client's reset)
 *   tiiildd..  / Tiiiiiiiildd..   send a standard / extended frame: "z" /
 *   riiil      / Riiiiiiiil       "Z" and CR when sent (open, not listen only)
 *   V       version: V1013;  N  serial number: NA71C;  F  status flags: F00
 *   Zn      time stamps off (0) / on (1): a frame line then ends with four
 *           hex digits, milliseconds modulo 60000
 *   Mxxxxxxxx / mxxxxxxxx  acceptance code / mask: taken, no filtering
 *   Qn      auto-start: taken
 * While open, each frame on the bus comes as a t/T/r/R line, hex in upper
 * case. A line longer than any command is refused (BEL) whole.
 *
 * The line itself is handled as frontend_tty.c handles it: a pty this
 * front-end created keeps its slave open (no hang-up when clients close),
 * other hang-ups are looked at again every SLCAN_RETRY_NS; output that
 * the terminal cannot take waits in a buffer, and frames beyond it are
 * lost, as in an adapter whose queue overflows.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "frontend_can.h"
#include "frontend_tty.h"

/* Longest command: T + 8 id + 1 length + 16 data + 4 time stamp, with room. */
#define SLCAN_LINE_MAX 40
#define SLCAN_OUT_SIZE 65536
#define SLCAN_RETRY_NS 10000000u
#define SLCAN_NAME_SIZE 256

struct slcan {
	struct sim *sim;
	struct sim_canbus *bus;
	int port;
	int fd, slave_fd;
	char name[SLCAN_NAME_SIZE];      /* what we serve, for logs */
	char line_path[SLCAN_NAME_SIZE]; /* the terminal the client opens: a pty's slave */

	char line[SLCAN_LINE_MAX];
	size_t line_len;
	int overlong; /* the line under way is past SLCAN_LINE_MAX: refuse it whole */

	int open, listen_only, timestamps;
	unsigned bitrate; /* 0: set by bit timing registers, matches no bus */

	uint8_t out[SLCAN_OUT_SIZE];
	size_t out_len;
	int hung_up;
	uint64_t retry_ns;
	unsigned long lost; /* frames dropped on a full output */
};

static const unsigned slcan_rates[] = {10000,  20000,  50000,  100000, 125000,
                                       250000, 500000, 800000, 1000000};

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* @n hex digits at @s into *v; -1 when one is not a hex digit. */
static int hex_value(const char *s, size_t n, uint32_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(s[i]);

		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

int sim_slcan_parse_frame(const char *line, size_t len, simcan_frame *f)
{
	size_t idlen, pos;
	uint32_t v;

	if (len < 1)
		return -1;
	memset(f, 0, sizeof(*f));
	switch (line[0]) {
	case 't':
	case 'r':
		idlen = 3;
		break;
	case 'T':
	case 'R':
		idlen = 8;
		f->ext = 1;
		break;
	default:
		return -1;
	}
	f->rtr = line[0] == 'r' || line[0] == 'R';
	if (len < 1 + idlen + 1 || hex_value(line + 1, idlen, &v) < 0)
		return -1;
	if (v > (f->ext ? 0x1FFFFFFFu : 0x7FFu))
		return -1;
	f->id = v;
	pos = 1 + idlen;
	if (line[pos] < '0' || line[pos] > '8')
		return -1;
	f->len = (uint8_t)(line[pos] - '0');
	pos++;
	if (f->rtr)
		return pos == len ? 0 : -1;
	if (len != pos + 2u * f->len)
		return -1;
	for (size_t i = 0; i < f->len; i++) {
		if (hex_value(line + pos + 2 * i, 2, &v) < 0)
			return -1;
		f->data[i] = (uint8_t)v;
	}
	return 0;
}

size_t sim_slcan_format_frame(const simcan_frame *f, char *buf, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	char tmp[SLCAN_LINE_MAX];
	size_t n = 0, len = f->len > 8 ? 8 : f->len;
	int w;

	if (f->ext)
		w = snprintf(tmp, sizeof(tmp), "%c%08X%u", f->rtr ? 'R' : 'T',
		             (unsigned)(f->id & 0x1FFFFFFFu), (unsigned)len);
	else
		w = snprintf(tmp, sizeof(tmp), "%c%03X%u", f->rtr ? 'r' : 't',
		             (unsigned)(f->id & 0x7FFu), (unsigned)len);
	n = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; !f->rtr && i < len; i++) {
		tmp[n++] = hex[f->data[i] >> 4];
		tmp[n++] = hex[f->data[i] & 0xF];
	}
	tmp[n++] = '\r';
	if (n > cap)
		return 0;
	memcpy(buf, tmp, n);
	return n;
}

static void slcan_hang_up(struct slcan *c, uint64_t now, const char *why)
{
	if (!c->hung_up)
		sim_debug(c->sim, "%s: %s; looking again every %u ms", c->name, why,
		          SLCAN_RETRY_NS / 1000000u);
	c->hung_up = 1;
	c->retry_ns = now + SLCAN_RETRY_NS;
	c->line_len = 0;
	c->overlong = 0;
	c->out_len = 0;
}

/* Write what waits, as far as the terminal takes it. */
static void slcan_flush(struct slcan *c, uint64_t now)
{
	while (c->out_len && !c->hung_up) {
		ssize_t r = write(c->fd, c->out, c->out_len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				slcan_hang_up(c, now,
				              errno == EIO ? "the line hung up" : strerror(errno));
			return;
		}
		memmove(c->out, c->out + r, c->out_len - (size_t)r);
		c->out_len -= (size_t)r;
	}
}

/* Queue @n bytes for the client; returns -1 (nothing queued) when they do not fit. */
static int slcan_put(struct slcan *c, const char *s, size_t n, uint64_t now)
{
	if (c->hung_up)
		return -1;
	if (n > sizeof(c->out) - c->out_len)
		return -1;
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	slcan_flush(c, now);
	return 0;
}

static void slcan_reply(struct slcan *c, const char *s, uint64_t now)
{
	if (slcan_put(c, s, strlen(s), now) < 0)
		sim_debug(c->sim, "%s: reply lost: the client does not read", c->name);
}

/* The bus hears the adapter, and the adapter the bus, only at the same bit rate. */
static int slcan_on_bus(const struct slcan *c)
{
	return c->open && c->bitrate == sim_canbus_bitrate(c->bus);
}

static void slcan_deliver(void *priv, const simcan_frame *f, uint64_t now)
{
	struct slcan *c = priv;
	char buf[SLCAN_LINE_MAX];
	size_t n;

	if (!slcan_on_bus(c) || c->hung_up)
		return;
	n = sim_slcan_format_frame(f, buf, sizeof(buf));
	if (c->timestamps && n > 0) {
		/* Before the CR: milliseconds modulo 60000, four hex digits. */
		(void)snprintf(buf + n - 1, sizeof(buf) - (n - 1), "%04X\r",
		               (unsigned)((now / 1000000u) % 60000u));
		n += 4;
	}
	if (slcan_put(c, buf, n, now) < 0 && c->lost++ == 0)
		sim_debug(c->sim, "%s: frames lost: the client does not read", c->name);
}

static void slcan_command(struct slcan *c, const char *line, size_t len, uint64_t now)
{
	simcan_frame f;
	uint32_t v;

	switch (line[0]) {
	case 'S':
		if (c->open || len != 2 || line[1] < '0' || line[1] > '8')
			break;
		c->bitrate = slcan_rates[line[1] - '0'];
		slcan_reply(c, "\r", now);
		return;
	case 's':
		if (c->open || len != 5 || hex_value(line + 1, 4, &v) < 0)
			break;
		c->bitrate = 0;
		slcan_reply(c, "\r", now);
		return;
	case 'O':
	case 'L':
		if (c->open || len != 1)
			break;
		c->open = 1;
		c->listen_only = line[0] == 'L';
		sim_debug(c->sim, "%s: channel open%s at %u bit/s (the bus: %u)", c->name,
		          c->listen_only ? " (listen only)" : "", c->bitrate,
		          sim_canbus_bitrate(c->bus));
		slcan_reply(c, "\r", now);
		return;
	case 'C':
		if (len != 1)
			break;
		c->open = 0;
		slcan_reply(c, "\r", now);
		return;
	case 't':
	case 'T':
	case 'r':
	case 'R':
		if (!c->open || c->listen_only || sim_slcan_parse_frame(line, len, &f) < 0)
			break;
		/* Sent first, answered after: the adapter acknowledges before a node replies. */
		slcan_reply(c, f.ext ? "Z\r" : "z\r", now);
		if (slcan_on_bus(c))
			sim_canbus_transmit(c->bus, c->port, &f, now);
		return;
	case 'V':
		if (len != 1)
			break;
		slcan_reply(c, "V1013\r", now);
		return;
	case 'N':
		if (len != 1)
			break;
		slcan_reply(c, "NA71C\r", now);
		return;
	case 'F':
		if (!c->open || len != 1)
			break;
		slcan_reply(c, "F00\r", now);
		return;
	case 'Z':
		if (len != 2 || (line[1] != '0' && line[1] != '1'))
			break;
		c->timestamps = line[1] == '1';
		slcan_reply(c, "\r", now);
		return;
	case 'M':
	case 'm':
		if (len != 9 || hex_value(line + 1, 8, &v) < 0)
			break;
		slcan_reply(c, "\r", now);
		return;
	case 'Q':
		if (len != 2 || line[1] < '0' || line[1] > '2')
			break;
		slcan_reply(c, "\r", now);
		return;
	default:
		break;
	}
	sim_debug(c->sim, "%s: refused '%.*s'", c->name, (int)len, line);
	slcan_reply(c, "\a", now);
}

static void slcan_bytes(struct slcan *c, const char *p, size_t n, uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (ch == '\r' || ch == '\n') {
			if (c->overlong)
				slcan_reply(c, "\a", now);
			else if (c->line_len > 0)
				slcan_command(c, c->line, c->line_len, now);
			c->line_len = 0;
			c->overlong = 0;
			continue;
		}
		if (c->line_len == sizeof(c->line)) {
			c->overlong = 1;
			continue;
		}
		c->line[c->line_len++] = ch;
	}
}

static size_t slcan_npoll(void *priv)
{
	(void)priv;
	return 1;
}

static void slcan_fill(void *priv, struct pollfd *fds)
{
	struct slcan *c = priv;

	fds[0].fd = c->hung_up ? -1 : c->fd;
	fds[0].events = (short)(POLLIN | (c->out_len ? POLLOUT : 0));
}

static void slcan_ready(void *priv, const struct pollfd *fds, uint64_t now)
{
	struct slcan *c = priv;
	short rev = fds[0].revents;
	char buf[512];
	size_t total = 0;

	if (c->hung_up || !rev)
		return;
	if (rev & POLLOUT)
		slcan_flush(c, now);
	if (rev & POLLIN) {
		for (int burst = 0; burst < 16 && !c->hung_up; burst++) {
			ssize_t r = read(c->fd, buf, sizeof(buf));

			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					slcan_hang_up(c, now,
					              errno == EIO ? "the line hung up"
					                           : strerror(errno));
				break;
			}
			if (r == 0)
				break;
			total += (size_t)r;
			slcan_bytes(c, buf, (size_t)r, now);
		}
		if (total)
			return;
	}
	if (!c->hung_up && (rev & (POLLHUP | POLLERR | POLLNVAL)))
		slcan_hang_up(c, now, "the line hung up");
}

static uint64_t slcan_next_due(void *priv)
{
	struct slcan *c = priv;

	return c->hung_up ? c->retry_ns : SIM_NEVER;
}

static void slcan_run_due(void *priv, uint64_t now)
{
	struct slcan *c = priv;

	if (c->hung_up && now >= c->retry_ns)
		c->hung_up = 0; /* poll() tells at once whether it still is */
}

static void slcan_print_uris(void *priv, FILE *out)
{
	struct slcan *c = priv;

	for (size_t i = 0; i < sim_canbus_count(c->bus); i++)
		fprintf(out, "can:slcan%s?node=%u&bitrate=%u\n", c->line_path,
		        sim_canbus_node_id(c->bus, i), sim_canbus_bitrate(c->bus));
}

static void slcan_destroy(void *priv)
{
	struct slcan *c = priv;

	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->slave_fd >= 0)
		close(c->slave_fd);
	free(c);
}

/* The adapter's line (sim_line_open()); sets c->fd, and c->name for a given path. */
static int slcan_open_line(struct slcan *c, const char *path)
{
	c->fd = sim_line_open("--can-slcan-tty", path);
	if (c->fd < 0)
		return -1;
	if (path)
		(void)snprintf(c->name, sizeof(c->name), "%s", path);
	return 0;
}

static int slcan_make_raw(struct slcan *c, int fd)
{
	struct termios tio;

	if (tcgetattr(fd, &tio) < 0) {
		sim_error("%s is not a terminal: %s", c->name, strerror(errno));
		return -1;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &tio) < 0) {
		sim_error("%s: cannot set raw mode: %s", c->name, strerror(errno));
		return -1;
	}
	return 0;
}

int sim_slcan_open(struct sim_frontend *out, struct sim *s, struct sim_canbus *bus,
                   const char *path)
{
	struct slcan *c = calloc(1, sizeof(*c));
	char slave[SLCAN_NAME_SIZE];
	int fl;

	if (!c) {
		sim_error("out of memory for the slcan front-end");
		return -1;
	}
	c->sim = s;
	c->bus = bus;
	c->fd = -1;
	c->slave_fd = -1;
	c->bitrate = SIM_CAN_DEFAULT_BITRATE;
	if (slcan_open_line(c, path) < 0)
		goto fail;
	if (!isatty(c->fd)) {
		sim_error("--can-slcan-tty %s is not a terminal", path ? path : "?");
		goto fail;
	}
	fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		sim_error("slcan line: cannot make it non-blocking: %s", strerror(errno));
		goto fail;
	}
	if (ptsname_r(c->fd, slave, sizeof(slave)) == 0) {
		/* A pty master: hold the slave open, or it hangs up whenever a client closes. */
		c->slave_fd = open(slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (!path)
			(void)snprintf(c->name, sizeof(c->name), "%s", slave);
		(void)snprintf(c->line_path, sizeof(c->line_path), "%s", slave);
		if (slcan_make_raw(c, c->slave_fd >= 0 ? c->slave_fd : c->fd) < 0)
			goto fail;
	} else {
		(void)snprintf(c->line_path, sizeof(c->line_path), "%s", path);
		if (slcan_make_raw(c, c->fd) < 0)
			goto fail;
	}
	c->port = sim_canbus_attach(bus, slcan_deliver, c);
	if (c->port < 0) {
		sim_error("the CAN bus has no room for another port");
		goto fail;
	}
	sim_debug(s, "%s: slcan adapter with %zu CANopen node(s)", c->name, sim_canbus_count(bus));

	memset(out, 0, sizeof(*out));
	out->priv = c;
	out->npoll = slcan_npoll;
	out->fill = slcan_fill;
	out->ready = slcan_ready;
	out->next_due = slcan_next_due;
	out->run_due = slcan_run_due;
	out->print_uris = slcan_print_uris;
	out->destroy = slcan_destroy;
	return 0;
fail:
	slcan_destroy(c);
	return -1;
}
