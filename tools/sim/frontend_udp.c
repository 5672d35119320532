/* SPDX-License-Identifier: MIT */
/*
 * UDP front-end of axlink-sim: MCB over UDP as Ethernet drives speak it, one
 * socket per drive bound to the drive's own address, replies sent back to
 * whoever asked. Replies held back by --delay wait in a queue ordered by due
 * time; the loop wakes up for the first of them.
 *
 * No SO_REUSEADDR: for UDP on Linux it would let a second simulator bind the
 * same address and port and silently steal the first one's requests. UDP has
 * no TIME_WAIT, so a restarted simulator binds again without it.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "axlink/mcb.h"
#include "sim.h"

/* Receive buffer: anything longer than a frame is dropped, so this only needs to exceed it. */
#define UDP_RX_SIZE 2048
/* Datagrams read from one socket per wake-up, so a flooded drive cannot starve the others. */
#define UDP_BURST 32
/* Replies held back by --delay; beyond this a flood just loses replies. */
#define UDP_MAX_PENDING 4096

/* "255.255.255.255:65535" */
#define UDP_NAME_SIZE 24

struct udp_endpoint {
	int fd;
	struct sim_drive *drive;
	char name[UDP_NAME_SIZE]; /* address:port it serves, for logs */
	char uri[UDP_NAME_SIZE + 8];
};

struct udp_pending {
	struct udp_pending *next;
	uint64_t due_ns;
	struct udp_endpoint *ep;
	struct sockaddr_in peer;
	size_t len;
	uint8_t buf[AX_MCB_MAX_FRAME];
};

struct udp_frontend {
	struct sim *sim;
	struct udp_endpoint *eps;
	size_t n_eps;
	struct udp_pending *head, *tail; /* ordered by due_ns */
	size_t n_pending;
};

static void udp_peer_name(const struct sockaddr_in *sa, char *buf, size_t cap)
{
	char ip[INET_ADDRSTRLEN];

	if (!inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip)))
		(void)snprintf(ip, sizeof(ip), "?");
	(void)snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(sa->sin_port));
}

static void udp_send(struct udp_frontend *u, struct udp_endpoint *ep,
                     const struct sockaddr_in *peer, const uint8_t *buf, size_t len)
{
	ssize_t r;

	do
		r = sendto(ep->fd, buf, len, 0, (const struct sockaddr *)peer, sizeof(*peer));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		char who[UDP_NAME_SIZE];

		/* A full socket buffer or a peer gone: the reply is lost, as on a real link. */
		udp_peer_name(peer, who, sizeof(who));
		sim_debug(u->sim, "%s: reply to %s lost: sendto: %s", ep->name, who,
		          strerror(errno));
	}
}

/* Queue a reply for @due, keeping the queue ordered (the tail is the usual place). */
static void udp_defer(struct udp_frontend *u, struct udp_endpoint *ep,
                      const struct sockaddr_in *peer, const uint8_t *buf, size_t len, uint64_t due)
{
	struct udp_pending *p, **pos;

	if (u->n_pending >= UDP_MAX_PENDING || !(p = malloc(sizeof(*p)))) {
		sim_debug(u->sim, "%s: delayed reply dropped: %zu replies already waiting",
		          ep->name, u->n_pending);
		return;
	}
	p->next = NULL;
	p->due_ns = due;
	p->ep = ep;
	p->peer = *peer;
	p->len = len;
	memcpy(p->buf, buf, len);

	if (!u->tail || u->tail->due_ns <= due) {
		if (u->tail)
			u->tail->next = p;
		else
			u->head = p;
		u->tail = p;
	} else {
		for (pos = &u->head; (*pos)->due_ns <= due; pos = &(*pos)->next)
			;
		p->next = *pos;
		*pos = p;
	}
	u->n_pending++;
}

static void udp_receive(struct udp_frontend *u, struct udp_endpoint *ep, uint64_t now)
{
	uint8_t rx[UDP_RX_SIZE], reply[AX_MCB_MAX_FRAME];

	for (int i = 0; i < UDP_BURST; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		char who[UDP_NAME_SIZE];
		uint64_t delay;
		ssize_t r;
		size_t n;

		memset(&peer, 0, sizeof(peer));
		r = recvfrom(ep->fd, rx, sizeof(rx), 0, (struct sockaddr *)&peer, &plen);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sim_debug(u->sim, "%s: recvfrom: %s", ep->name, strerror(errno));
			return;
		}
		if (plen > sizeof(peer) || peer.sin_family != AF_INET) {
			sim_debug(u->sim, "%s: dropped datagram from a non-IPv4 sender", ep->name);
			continue;
		}
		/* Only the debug log reads it: keep the fast path free of formatting. */
		who[0] = '\0';
		if (u->sim->verbose)
			udp_peer_name(&peer, who, sizeof(who));
		n = sim_serve(u->sim, ep->drive, ep->name, who, rx, (size_t)r, now, reply,
		              sizeof(reply));
		if (n == 0)
			continue;
		delay = sim_reply_delay(u->sim, ep->drive);
		if (delay > 0)
			udp_defer(u, ep, &peer, reply, n, now + delay);
		else
			udp_send(u, ep, &peer, reply, n);
	}
}

static size_t udp_npoll(void *priv)
{
	return ((struct udp_frontend *)priv)->n_eps;
}

static void udp_fill(void *priv, struct pollfd *fds)
{
	struct udp_frontend *u = priv;

	for (size_t i = 0; i < u->n_eps; i++) {
		fds[i].fd = u->eps[i].fd;
		fds[i].events = POLLIN;
	}
}

static void udp_ready(void *priv, const struct pollfd *fds, uint64_t now)
{
	struct udp_frontend *u = priv;

	/* POLLERR too: reading is what clears a pending socket error. */
	for (size_t i = 0; i < u->n_eps; i++)
		if (fds[i].revents)
			udp_receive(u, &u->eps[i], now);
}

static uint64_t udp_next_due(void *priv)
{
	struct udp_frontend *u = priv;

	return u->head ? u->head->due_ns : SIM_NEVER;
}

static void udp_run_due(void *priv, uint64_t now)
{
	struct udp_frontend *u = priv;

	while (u->head && u->head->due_ns <= now) {
		struct udp_pending *p = u->head;

		u->head = p->next;
		if (!u->head)
			u->tail = NULL;
		u->n_pending--;
		udp_send(u, p->ep, &p->peer, p->buf, p->len);
		free(p);
	}
}

static void udp_print_uris(void *priv, FILE *out)
{
	struct udp_frontend *u = priv;

	for (size_t i = 0; i < u->n_eps; i++)
		fprintf(out, "%s\n", u->eps[i].uri);
}

static void udp_destroy(void *priv)
{
	struct udp_frontend *u = priv;

	if (!u)
		return;
	while (u->head) {
		struct udp_pending *p = u->head;

		u->head = p->next;
		free(p);
	}
	for (size_t i = 0; i < u->n_eps; i++)
		if (u->eps[i].fd >= 0)
			close(u->eps[i].fd);
	free(u->eps);
	free(u);
}

static int udp_bind(struct udp_endpoint *ep, uint32_t addr, unsigned port)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	char ip[INET_ADDRSTRLEN];
	int fl, err;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons((uint16_t)port);
	if (!inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip)))
		(void)snprintf(ip, sizeof(ip), "?");
	(void)snprintf(ep->name, sizeof(ep->name), "%s:%u", ip, port);

	ep->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (ep->fd < 0) {
		sim_error("%s: cannot create a UDP socket: %s", ep->name, strerror(errno));
		return -1;
	}
	fl = fcntl(ep->fd, F_GETFL);
	if (fl < 0 || fcntl(ep->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(ep->fd, F_SETFD, FD_CLOEXEC) < 0) {
		sim_error("%s: cannot make the socket non-blocking: %s", ep->name, strerror(errno));
		return -1;
	}
	if (bind(ep->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		if (err == EADDRINUSE)
			sim_error("cannot bind %s: address already in use (another simulator or "
			          "drive server on it?)",
			          ep->name);
		else if (err == EADDRNOTAVAIL)
			sim_error("cannot bind %s: no local interface has address %s", ep->name,
			          ip);
		else
			sim_error("cannot bind %s: %s", ep->name, strerror(err));
		return -1;
	}
	/* With port 0 the system chose one: name the one clients must use. */
	if (getsockname(ep->fd, (struct sockaddr *)&sa, &slen) < 0) {
		sim_error("%s: getsockname: %s", ep->name, strerror(errno));
		return -1;
	}
	(void)snprintf(ep->name, sizeof(ep->name), "%s:%u", ip, (unsigned)ntohs(sa.sin_port));
	(void)snprintf(ep->uri, sizeof(ep->uri), "eth://%s", ep->name);
	return 0;
}

int sim_udp_open(struct sim_frontend *out, struct sim *s, const uint32_t *addrs, size_t n,
                 size_t first_drive, unsigned port)
{
	struct udp_frontend *u;

	if (first_drive > s->n_drives || n > s->n_drives - first_drive || port > 65535) {
		sim_error("UDP front-end: drives %zu..%zu or port %u out of range", first_drive,
		          first_drive + n, port);
		return -1;
	}
	u = calloc(1, sizeof(*u));
	if (!u || !(u->eps = calloc(n ? n : 1, sizeof(*u->eps)))) {
		free(u);
		sim_error("out of memory for %zu UDP endpoints", n);
		return -1;
	}
	u->sim = s;
	for (size_t i = 0; i < n; i++)
		u->eps[i].fd = -1;
	u->n_eps = n;
	for (size_t i = 0; i < n; i++) {
		u->eps[i].drive = &s->drives[first_drive + i];
		if (udp_bind(&u->eps[i], addrs[i], port) < 0) {
			udp_destroy(u);
			return -1;
		}
	}

	memset(out, 0, sizeof(*out));
	out->priv = u;
	out->npoll = udp_npoll;
	out->fill = udp_fill;
	out->ready = udp_ready;
	out->next_due = udp_next_due;
	out->run_due = udp_run_due;
	out->print_uris = udp_print_uris;
	out->destroy = udp_destroy;
	return 0;
}
