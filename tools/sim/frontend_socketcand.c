/* SPDX-License-Identifier: MIT */
/*
 * A socketcand server (the TCP bridge to a SocketCAN bus) whose bus carries
 * the simulated CANopen nodes. The protocol is socketcand's ASCII one:
 * elements "< ... >" both ways, any white space between them.
 *
 *   server: < hi >                       on connect
 *   client: < open BUS >                 -> < ok >, or < error ... > and close
 *   client: < rawmode >                  -> < ok >: from now on every frame on
 *                                           the bus comes as
 *                                           < frame ID SEC.USEC DD DD ... >
 *                                           (< rtr ID SEC.USEC DLC > for a
 *                                           remote frame)
 *   client: < bcmmode >                  -> < ok > (frames stop; the broadcast
 *                                           manager's commands are refused)
 *   client: < send ID DLC DD ... >       a frame on the bus (raw or BCM mode);
 *   client: < sendrtr ID DLC >           no answer. ID in hex: 8 digits make
 *                                           it an extended (29-bit) one
 *   client: < echo >                     -> < echo >
 * Anything else (or a command in the wrong mode) is answered with
 * "< error TEXT >" and the connection goes on, except a bad open, which
 * socketcand closes. An element longer than SCD_ELEMENT_MAX closes the
 * connection: a stream cannot be resynchronised. A client whose output
 * queue is full loses frames, as a slow reader of a raw socket does.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frontend_can.h"

#define SCD_MAX_CLIENTS 8
#define SCD_ELEMENT_MAX 256
#define SCD_OUT_SIZE 65536
#define SCD_BUS_NAME_MAX 16

enum scd_mode { SCD_NO_BUS, SCD_BCM, SCD_RAW };

struct scd_client {
	int fd;
	enum scd_mode mode;
	char in[SCD_ELEMENT_MAX + 2];
	size_t in_len;
	int in_element; /* between '<' and '>' */
	size_t out_len;
	char out[SCD_OUT_SIZE];
	char peer[32];
};

struct scd {
	struct sim *sim;
	struct sim_canbus *bus;
	int port;
	int fd; /* listener */
	char bus_name[SCD_BUS_NAME_MAX + 1];
	char where[32]; /* ADDR:PORT */
	struct scd_client clients[SCD_MAX_CLIENTS];
};

static void scd_close(struct scd *d, struct scd_client *c, const char *why)
{
	sim_debug(d->sim, "socketcand %s: %s: closed: %s", d->where, c->peer, why);
	close(c->fd);
	c->fd = -1;
	c->out_len = 0;
	c->in_len = 0;
	c->in_element = 0;
}

static void scd_flush(struct scd *d, struct scd_client *c)
{
	while (c->fd >= 0 && c->out_len) {
		ssize_t r = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				scd_close(d, c, strerror(errno));
			return;
		}
		memmove(c->out, c->out + r, c->out_len - (size_t)r);
		c->out_len -= (size_t)r;
	}
}

static int scd_put(struct scd *d, struct scd_client *c, const char *s, size_t n)
{
	if (c->fd < 0 || n > sizeof(c->out) - c->out_len)
		return -1;
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	scd_flush(d, c);
	return 0;
}

static void scd_say(struct scd *d, struct scd_client *c, const char *s)
{
	if (scd_put(d, c, s, strlen(s)) < 0 && c->fd >= 0)
		scd_close(d, c, "the client does not read");
}

static void scd_deliver(void *priv, const simcan_frame *f, uint64_t now)
{
	struct scd *d = priv;
	struct timespec ts;
	char buf[128];
	int n;

	(void)now;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (f->rtr)
		n = snprintf(buf, sizeof(buf), "< rtr %0*X %lld.%06ld %u >", f->ext ? 8 : 3,
		             (unsigned)f->id, (long long)ts.tv_sec, ts.tv_nsec / 1000,
		             (unsigned)f->len);
	else {
		n = snprintf(buf, sizeof(buf), "< frame %0*X %lld.%06ld", f->ext ? 8 : 3,
		             (unsigned)f->id, (long long)ts.tv_sec, ts.tv_nsec / 1000);
		for (size_t i = 0; i < f->len && i < 8 && n > 0; i++)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %02X", f->data[i]);
		if (n > 0)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " >");
	}
	if (n <= 0 || (size_t)n >= sizeof(buf))
		return;
	for (size_t i = 0; i < SCD_MAX_CLIENTS; i++) {
		struct scd_client *c = &d->clients[i];

		if (c->fd >= 0 && c->mode == SCD_RAW)
			(void)scd_put(d, c, buf, (size_t)n); /* a full queue loses the frame */
	}
}

/* Split @s into at most @max blank-separated words (in place). Returns the count. */
static size_t scd_words(char *s, char **w, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s)
			return n;
		if (n == max)
			return max + 1;
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

/* A hex number of 1..@maxdigits digits up to @max; -1 when it is not. */
static int scd_hex(const char *s, size_t maxdigits, uint32_t max, uint32_t *v)
{
	size_t n = strlen(s);

	*v = 0;
	if (n == 0 || n > maxdigits)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		unsigned dgt;

		if (ch >= '0' && ch <= '9')
			dgt = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			dgt = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			dgt = (unsigned)(ch - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | dgt;
	}
	return *v <= max ? 0 : -1;
}

/* "send ID DLC DD..." or "sendrtr ID DLC": the frame, or an error text. */
static const char *scd_parse_send(char **w, size_t n, int rtr, simcan_frame *f)
{
	uint32_t v;

	memset(f, 0, sizeof(*f));
	if (n < 3)
		return "< error send needs an id and a length >";
	f->ext = strlen(w[1]) == 8;
	if (scd_hex(w[1], 8, f->ext ? 0x1FFFFFFFu : 0x7FFu, &v) < 0)
		return "< error bad can id >";
	f->id = v;
	if (scd_hex(w[2], 1, 8, &v) < 0)
		return "< error bad length (0..8) >";
	f->len = (uint8_t)v;
	f->rtr = (uint8_t)rtr;
	if (rtr)
		return n == 3 ? NULL : "< error sendrtr takes no data >";
	if (n != 3u + f->len)
		return "< error the data bytes do not match the length >";
	for (size_t i = 0; i < f->len; i++) {
		if (scd_hex(w[3 + i], 2, 0xFF, &v) < 0)
			return "< error bad data byte >";
		f->data[i] = (uint8_t)v;
	}
	return NULL;
}

static void scd_element(struct scd *d, struct scd_client *c, char *text, uint64_t now)
{
	char *w[12];
	size_t n = scd_words(text, w, 11);
	simcan_frame f;
	const char *err;

	if (n == 0)
		return;
	if (n > 11) {
		scd_say(d, c, "< error too many words >");
		return;
	}
	if (!strcmp(w[0], "echo") && n == 1) {
		scd_say(d, c, "< echo >");
		return;
	}
	if (c->mode == SCD_NO_BUS) {
		if (strcmp(w[0], "open") != 0 || n != 2) {
			scd_say(d, c, "< error open a bus first >");
			return;
		}
		if (strcmp(w[1], d->bus_name) != 0) {
			scd_say(d, c, "< error could not open bus >");
			scd_close(d, c, "asked for an unknown bus");
			return;
		}
		c->mode = SCD_BCM;
		scd_say(d, c, "< ok >");
		return;
	}
	if (!strcmp(w[0], "rawmode") && n == 1) {
		c->mode = SCD_RAW;
		scd_say(d, c, "< ok >");
		return;
	}
	if (!strcmp(w[0], "bcmmode") && n == 1) {
		c->mode = SCD_BCM;
		scd_say(d, c, "< ok >");
		return;
	}
	if (!strcmp(w[0], "send") || !strcmp(w[0], "sendrtr")) {
		err = scd_parse_send(w, n, !strcmp(w[0], "sendrtr"), &f);
		if (err) {
			scd_say(d, c, err);
			return;
		}
		sim_canbus_transmit(d->bus, d->port, &f, now);
		return;
	}
	scd_say(d, c, "< error unknown command >");
}

static void scd_bytes(struct scd *d, struct scd_client *c, const char *p, size_t n, uint64_t now)
{
	for (size_t i = 0; i < n && c->fd >= 0; i++) {
		char ch = p[i];

		if (!c->in_element) {
			if (ch == '<') {
				c->in_element = 1;
				c->in_len = 0;
			} else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
				scd_say(d, c, "< error expected '<' >");
			}
			continue;
		}
		if (ch == '>') {
			c->in[c->in_len] = '\0';
			c->in_element = 0;
			scd_element(d, c, c->in, now);
			continue;
		}
		if (ch == '<' || ch == '\0' || c->in_len >= SCD_ELEMENT_MAX) {
			scd_close(d, c, "a malformed or overlong element");
			return;
		}
		c->in[c->in_len++] = ch;
	}
}

static size_t scd_npoll(void *priv)
{
	(void)priv;
	return 1 + SCD_MAX_CLIENTS;
}

static void scd_fill(void *priv, struct pollfd *fds)
{
	struct scd *d = priv;

	fds[0].fd = d->fd;
	fds[0].events = POLLIN;
	for (size_t i = 0; i < SCD_MAX_CLIENTS; i++) {
		fds[1 + i].fd = d->clients[i].fd;
		fds[1 + i].events = (short)(POLLIN | (d->clients[i].out_len ? POLLOUT : 0));
	}
}

static void scd_accept(struct scd *d)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct scd_client *c = NULL;
	int fd, one = 1;

	fd = accept(d->fd, (struct sockaddr *)&peer, &plen);
	if (fd < 0)
		return;
	for (size_t i = 0; i < SCD_MAX_CLIENTS && !c; i++)
		if (d->clients[i].fd < 0)
			c = &d->clients[i];
	if (!c) {
		sim_debug(d->sim, "socketcand %s: every slot taken, refusing a client", d->where);
		close(fd);
		return;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		close(fd);
		return;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->mode = SCD_NO_BUS;
	{
		char a[INET_ADDRSTRLEN] = "?";

		(void)inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
		(void)snprintf(c->peer, sizeof(c->peer), "%s:%u", a, ntohs(peer.sin_port));
	}
	sim_debug(d->sim, "socketcand %s: client %s", d->where, c->peer);
	scd_say(d, c, "< hi >");
}

static void scd_ready(void *priv, const struct pollfd *fds, uint64_t now)
{
	struct scd *d = priv;

	for (size_t i = 0; i < SCD_MAX_CLIENTS; i++) {
		struct scd_client *c = &d->clients[i];
		short rev = fds[1 + i].revents;
		char buf[1024];
		ssize_t r;

		if (c->fd < 0 || fds[1 + i].fd != c->fd || !rev)
			continue;
		if (rev & POLLOUT)
			scd_flush(d, c);
		if (c->fd >= 0 && (rev & (POLLIN | POLLHUP | POLLERR))) {
			r = recv(c->fd, buf, sizeof(buf), 0);
			if (r == 0)
				scd_close(d, c, "the client left");
			else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				scd_close(d, c, strerror(errno));
			else if (r > 0)
				scd_bytes(d, c, buf, (size_t)r, now);
		}
	}
	if (fds[0].revents & POLLIN)
		scd_accept(d);
}

static uint64_t scd_next_due(void *priv)
{
	(void)priv;
	return SIM_NEVER;
}

static void scd_run_due(void *priv, uint64_t now)
{
	(void)priv;
	(void)now;
}

static void scd_print_uris(void *priv, FILE *out)
{
	struct scd *d = priv;

	for (size_t i = 0; i < sim_canbus_count(d->bus); i++)
		fprintf(out, "can:socketcand/%s/%s?node=%u\n", d->where, d->bus_name,
		        sim_canbus_node_id(d->bus, i));
}

static void scd_destroy(void *priv)
{
	struct scd *d = priv;

	if (!d)
		return;
	for (size_t i = 0; i < SCD_MAX_CLIENTS; i++)
		if (d->clients[i].fd >= 0)
			close(d->clients[i].fd);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

int sim_socketcand_open(struct sim_frontend *out, struct sim *s, struct sim_canbus *bus,
                        uint32_t addr, unsigned port, const char *bus_name)
{
	struct scd *d = calloc(1, sizeof(*d));
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	char a[INET_ADDRSTRLEN] = "?";
	int one = 1;

	if (!d) {
		sim_error("out of memory for the socketcand server");
		return -1;
	}
	d->sim = s;
	d->bus = bus;
	d->fd = -1;
	for (size_t i = 0; i < SCD_MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
	(void)snprintf(d->bus_name, sizeof(d->bus_name), "%s", bus_name);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons((uint16_t)port);
	(void)inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a));
	d->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || setsockopt(d->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(d->fd, 8) < 0 ||
	    getsockname(d->fd, (struct sockaddr *)&sa, &slen) < 0) {
		sim_error("--can-socketcand %s:%u: %s", a, port, strerror(errno));
		goto fail;
	}
	(void)snprintf(d->where, sizeof(d->where), "%s:%u", a, ntohs(sa.sin_port));
	d->port = sim_canbus_attach(bus, scd_deliver, d);
	if (d->port < 0) {
		sim_error("the CAN bus has no room for another port");
		goto fail;
	}
	sim_debug(s, "socketcand %s: bus %s with %zu CANopen node(s)", d->where, d->bus_name,
	          sim_canbus_count(bus));

	memset(out, 0, sizeof(*out));
	out->priv = d;
	out->npoll = scd_npoll;
	out->fill = scd_fill;
	out->ready = scd_ready;
	out->next_due = scd_next_due;
	out->run_due = scd_run_due;
	out->print_uris = scd_print_uris;
	out->destroy = scd_destroy;
	return 0;
fail:
	scd_destroy(d);
	return -1;
}
