/* SPDX-License-Identifier: MIT */
/*
 * TCP front-end of axlink-sim: a drive behind a listening TCP socket, the
 * way an MCB gateway or a drive with a TCP service would serve it (the
 * `tcp` transport in examples/transport-tcp talks to it).
 *
 * Each drive listens on its own address and port and takes several
 * connections at once; every request is answered on the connection it came
 * on, in order. Frames are cut from the stream by the
 * MCB header (14 bytes, plus the payload an extended header declares).
 * A stream cannot be resynchronised, so a connection that carries a frame
 * that does not decode is closed; the drive and its other connections go on.
 *
 * The poll set of a front-end is fixed once it is open (sim.h): one entry
 * per drive's listener, then TCP_MAX_CONNS client slots that all drives
 * share, -1 (ignored by poll) while a slot is free. Shared, so the poll set
 * (which poll() limits to RLIMIT_NOFILE entries) grows by one per drive, as
 * with UDP, however many drives there are.
 *
 * Slots are not held forever: a connection with no traffic either way for
 * the idle time (--tcp-idle-ms) is closed, and a client that comes while
 * every slot is taken gets the slot of the longest idle connection that
 * is owed nothing (no reply queued or held back), so clients that connect
 * and linger cannot lock others out. Only when every connection waits for
 * a reply is a newcomer accepted and closed at once, so it hears "closed"
 * instead of waiting in the backlog until its timeout.
 *
 * Replies held back by --delay wait in a queue ordered by due time; each
 * names its connection by slot and generation, so a reply whose
 * connection closed meanwhile is dropped rather than sent to a newcomer
 * that took the same slot.
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
#include <unistd.h>

#include "axlink/error.h"
#include "axlink/mcb.h"
#include "sim.h"

/* Client connections the front-end serves at once, over all its drives. */
#define TCP_MAX_CONNS 64
/* Pending connections the kernel holds while the loop is busy. */
#define TCP_BACKLOG 16
/* Connections taken per wake-up, so a connect storm cannot starve the drives. */
#define TCP_ACCEPT_BURST 16
/* Replies waiting for a client to read them; a client that lets more pile up is dropped. */
#define TCP_OUT_SIZE 8192
/* Replies held back by --delay; beyond this a flood just loses replies. */
#define TCP_MAX_PENDING 4096
/* Pause of the listeners after accept() ran out of descriptors or memory. */
#define TCP_ACCEPT_RETRY_NS 100000000u

/* "255.255.255.255:65535" */
#define TCP_NAME_SIZE 24

struct tcp_conn {
	struct tcp_endpoint *ep; /* the drive it talks to */
	int fd;
	uint64_t gen;             /* which connection of its slot this is */
	uint64_t last_ns;         /* when it was accepted, last sent bytes or was answered */
	size_t pending;           /* its replies held back by --delay */
	char peer[TCP_NAME_SIZE]; /* client address:port, for logs */
	size_t in_len;            /* bytes of a frame not complete yet */
	uint8_t in[AX_MCB_MAX_FRAME];
	size_t out_len; /* reply bytes not sent yet */
	uint8_t out[TCP_OUT_SIZE];
};

struct tcp_endpoint {
	int fd; /* listener */
	struct sim_drive *drive;
	char name[TCP_NAME_SIZE]; /* address:port it serves, for logs */
	char uri[TCP_NAME_SIZE + 8];
};

struct tcp_pending {
	struct tcp_pending *next;
	uint64_t due_ns;
	struct tcp_endpoint *ep;
	size_t slot;
	uint64_t gen;
	size_t len;
	uint8_t buf[AX_MCB_MAX_FRAME];
};

struct tcp_frontend {
	struct sim *sim;
	struct tcp_endpoint *eps;
	size_t n_eps;
	struct tcp_conn *conns[TCP_MAX_CONNS]; /* NULL: free slot */
	uint64_t next_gen;
	struct tcp_pending *head, *tail; /* ordered by due_ns */
	size_t n_pending;
	uint64_t idle_ns; /* close a connection this quiet; 0: never */
	/*
	 * 0, or when to poll the listeners again: after accept() failed for want
	 * of descriptors, a pending connection would keep them readable and the
	 * loop spinning. A connection that closes frees a descriptor and ends
	 * the pause early.
	 */
	uint64_t accept_resume_ns;
};

static void tcp_addr_name(const struct sockaddr_in *sa, char *buf, size_t cap)
{
	char ip[INET_ADDRSTRLEN];

	if (!inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip)))
		(void)snprintf(ip, sizeof(ip), "?");
	(void)snprintf(buf, cap, "%s:%u", ip, (unsigned)ntohs(sa->sin_port));
}

static void tcp_conn_close(struct tcp_frontend *t, struct tcp_endpoint *ep, size_t slot,
                           const char *why)
{
	struct tcp_conn *c = t->conns[slot];

	sim_debug(t->sim, "%s: closed the connection of %s: %s", ep->name, c->peer, why);
	close(c->fd);
	free(c);
	t->conns[slot] = NULL;
	t->accept_resume_ns = 0;
}

/* Send what is queued. Returns 0, or -1 after closing the connection. */
static int tcp_flush(struct tcp_frontend *t, struct tcp_endpoint *ep, size_t slot)
{
	struct tcp_conn *c = t->conns[slot];

	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0; /* the loop polls for POLLOUT while out_len > 0 */
			tcp_conn_close(t, ep, slot, strerror(errno));
			return -1;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	return 0;
}

/* Queue a reply on its connection and send what the socket takes. Returns as tcp_flush(). */
static int tcp_reply(struct tcp_frontend *t, struct tcp_endpoint *ep, size_t slot,
                     const uint8_t *buf, size_t len)
{
	struct tcp_conn *c = t->conns[slot];

	if (len > sizeof(c->out) - c->out_len) {
		tcp_conn_close(t, ep, slot, "the client does not read its replies");
		return -1;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	c->last_ns = sim_now_ns();
	return tcp_flush(t, ep, slot);
}

/* Queue a reply for @due, keeping the queue ordered (the tail is the usual place). */
static void tcp_defer(struct tcp_frontend *t, struct tcp_endpoint *ep, size_t slot,
                      const uint8_t *buf, size_t len, uint64_t due)
{
	struct tcp_pending *p, **pos;

	if (t->n_pending >= TCP_MAX_PENDING || !(p = malloc(sizeof(*p)))) {
		sim_debug(t->sim, "%s: delayed reply dropped: %zu replies already waiting",
		          ep->name, t->n_pending);
		return;
	}
	p->next = NULL;
	p->due_ns = due;
	p->ep = ep;
	p->slot = slot;
	p->gen = t->conns[slot]->gen;
	t->conns[slot]->pending++;
	p->len = len;
	memcpy(p->buf, buf, len);

	if (!t->tail || t->tail->due_ns <= due) {
		if (t->tail)
			t->tail->next = p;
		else
			t->head = p;
		t->tail = p;
	} else {
		for (pos = &t->head; (*pos)->due_ns <= due; pos = &(*pos)->next)
			;
		p->next = *pos;
		*pos = p;
	}
	t->n_pending++;
}

static const char *tcp_decode_why(int err)
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
 * Serve every complete frame in the connection's buffer. Returns 0, or -1
 * after closing the connection (garbage, or a client not reading).
 */
static int tcp_serve_frames(struct tcp_frontend *t, struct tcp_endpoint *ep, size_t slot,
                            uint64_t now)
{
	struct tcp_conn *c = t->conns[slot];
	uint8_t reply[AX_MCB_MAX_FRAME];
	char why[96];

	while (c->in_len >= AX_MCB_FRAME_SIZE) {
		ax_mcb_frame f;
		uint64_t delay;
		size_t used, n;
		int err = ax_mcb_decode(&f, c->in, c->in_len);

		/* A sound header whose payload is still on its way: wait for the rest. */
		if (err == AX_ETRUNC)
			return 0;
		if (err < 0) {
			(void)snprintf(why, sizeof(why), "sent a frame that does not decode (%s)",
			               tcp_decode_why(err));
			tcp_conn_close(t, ep, slot, why);
			return -1;
		}
		used = f.frame_len;
		n = sim_serve(t->sim, ep->drive, ep->name, c->peer, c->in, used, now, reply,
		              sizeof(reply));
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		if (n == 0)
			continue;
		delay = sim_reply_delay(t->sim, ep->drive);
		if (delay > 0)
			tcp_defer(t, ep, slot, reply, n, now + delay);
		else if (tcp_reply(t, ep, slot, reply, n) < 0)
			return -1;
	}
	return 0;
}

static void tcp_receive(struct tcp_frontend *t, struct tcp_endpoint *ep, size_t slot, uint64_t now)
{
	struct tcp_conn *c = t->conns[slot];
	ssize_t n;

	/* in[] holds at most one frame; tcp_serve_frames() always leaves less than that. */
	do
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		tcp_conn_close(t, ep, slot,
		               c->in_len ? "it hung up in the middle of a frame" : "it hung up");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			tcp_conn_close(t, ep, slot, strerror(errno));
		return;
	}
	c->in_len += (size_t)n;
	c->last_ns = now;
	(void)tcp_serve_frames(t, ep, slot, now);
}

static int tcp_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * Every slot is taken: free the one of the longest idle connection that is
 * owed nothing, for a newcomer. Returns the freed slot, or TCP_MAX_CONNS
 * when every connection waits for a reply.
 */
static size_t tcp_evict(struct tcp_frontend *t, const char *newcomer)
{
	size_t victim = TCP_MAX_CONNS;
	uint64_t now = sim_now_ns();
	char why[96];

	for (size_t k = 0; k < TCP_MAX_CONNS; k++) {
		const struct tcp_conn *c = t->conns[k];

		if (c && !c->out_len && !c->pending &&
		    (victim == TCP_MAX_CONNS || c->last_ns < t->conns[victim]->last_ns))
			victim = k;
	}
	if (victim < TCP_MAX_CONNS) {
		(void)snprintf(why, sizeof(why),
		               "idle for %llu ms, the longest, and %s needs its slot",
		               (unsigned long long)((now - t->conns[victim]->last_ns) / 1000000u),
		               newcomer);
		tcp_conn_close(t, t->conns[victim]->ep, victim, why);
	}
	return victim;
}

static void tcp_accept(struct tcp_frontend *t, struct tcp_endpoint *ep)
{
	for (int i = 0; i < TCP_ACCEPT_BURST; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		struct tcp_conn *c;
		size_t slot = 0;
		int one = 1, fd;

		memset(&peer, 0, sizeof(peer));
		fd = accept(ep->fd, (struct sockaddr *)&peer, &plen);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/*
			 * EAGAIN: nobody else waits. EMFILE and the like: the
			 * client waits in the backlog until a descriptor frees up.
			 */
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				sim_debug(t->sim, "%s: accept: %s; pausing new connections",
				          ep->name, strerror(errno));
				t->accept_resume_ns = sim_now_ns() + TCP_ACCEPT_RETRY_NS;
			}
			return;
		}
		while (slot < TCP_MAX_CONNS && t->conns[slot])
			slot++;
		if (slot == TCP_MAX_CONNS) {
			char who[TCP_NAME_SIZE];

			tcp_addr_name(&peer, who, sizeof(who));
			slot = tcp_evict(t, who);
		}
		c = slot < TCP_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
		if (!c || tcp_set_nonblock(fd) < 0) {
			char who[TCP_NAME_SIZE];

			tcp_addr_name(&peer, who, sizeof(who));
			sim_debug(t->sim, "%s: turned %s away: %s", ep->name, who,
			          slot == TCP_MAX_CONNS
			                  ? "every connection waits for a reply"
			                  : "out of memory or descriptor setup failed");
			free(c);
			close(fd);
			continue;
		}
		/* Replies are small and each is awaited: do not hold them back to coalesce. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->ep = ep;
		c->fd = fd;
		c->gen = ++t->next_gen;
		c->last_ns = sim_now_ns();
		tcp_addr_name(&peer, c->peer, sizeof(c->peer));
		t->conns[slot] = c;
		sim_debug(t->sim, "%s: connection from %s", ep->name, c->peer);
	}
}

/* Poll entries: the listeners, then the client slots. */
static size_t tcp_npoll(void *priv)
{
	return ((struct tcp_frontend *)priv)->n_eps + TCP_MAX_CONNS;
}

static void tcp_fill(void *priv, struct pollfd *fds)
{
	struct tcp_frontend *t = priv;
	struct pollfd *slots = fds + t->n_eps;

	for (size_t i = 0; i < t->n_eps; i++) {
		fds[i].fd = t->accept_resume_ns ? -1 : t->eps[i].fd;
		fds[i].events = POLLIN;
	}
	for (size_t k = 0; k < TCP_MAX_CONNS; k++) {
		struct tcp_conn *c = t->conns[k];

		slots[k].fd = c ? c->fd : -1;
		slots[k].events = (short)(POLLIN | (c && c->out_len ? POLLOUT : 0));
	}
}

static void tcp_ready(void *priv, const struct pollfd *fds, uint64_t now)
{
	struct tcp_frontend *t = priv;
	const struct pollfd *slots = fds + t->n_eps;

	/* Clients first: a slot a listener fills now was not in this poll. */
	for (size_t k = 0; k < TCP_MAX_CONNS; k++) {
		struct tcp_conn *c = t->conns[k];

		if (!c || !slots[k].revents || slots[k].fd != c->fd)
			continue;
		if ((slots[k].revents & POLLOUT) && tcp_flush(t, c->ep, k) < 0)
			continue;
		if (slots[k].revents & (POLLIN | POLLHUP | POLLERR))
			tcp_receive(t, c->ep, k, now);
	}
	for (size_t i = 0; i < t->n_eps; i++)
		if (fds[i].revents)
			tcp_accept(t, &t->eps[i]);
}

/* Whether connection @c is owed nothing and has been quiet past the idle time at @now. */
static int tcp_idle_expired(const struct tcp_frontend *t, const struct tcp_conn *c, uint64_t now)
{
	return t->idle_ns && !c->pending && now >= c->last_ns + t->idle_ns;
}

static uint64_t tcp_next_due(void *priv)
{
	struct tcp_frontend *t = priv;
	uint64_t due = t->head ? t->head->due_ns : SIM_NEVER;

	if (t->accept_resume_ns && t->accept_resume_ns < due)
		due = t->accept_resume_ns;
	for (size_t k = 0; t->idle_ns && k < TCP_MAX_CONNS; k++) {
		const struct tcp_conn *c = t->conns[k];

		if (c && !c->pending && c->last_ns + t->idle_ns < due)
			due = c->last_ns + t->idle_ns;
	}
	return due;
}

static void tcp_run_due(void *priv, uint64_t now)
{
	struct tcp_frontend *t = priv;

	if (t->accept_resume_ns && t->accept_resume_ns <= now)
		t->accept_resume_ns = 0;
	while (t->head && t->head->due_ns <= now) {
		struct tcp_pending *p = t->head;
		struct tcp_conn *c = t->conns[p->slot];

		t->head = p->next;
		if (!t->head)
			t->tail = NULL;
		t->n_pending--;
		if (c && c->gen == p->gen) {
			c->pending--;
			(void)tcp_reply(t, p->ep, p->slot, p->buf, p->len);
		} else
			sim_debug(t->sim, "%s: delayed reply dropped: its connection is closed",
			          p->ep->name);
		free(p);
	}
	for (size_t k = 0; k < TCP_MAX_CONNS; k++) {
		struct tcp_conn *c = t->conns[k];
		char why[64];

		if (!c || !tcp_idle_expired(t, c, now))
			continue;
		(void)snprintf(why, sizeof(why), "idle for %llu ms",
		               (unsigned long long)((now - c->last_ns) / 1000000u));
		tcp_conn_close(t, c->ep, k, why);
	}
}

static void tcp_print_uris(void *priv, FILE *out)
{
	struct tcp_frontend *t = priv;

	for (size_t i = 0; i < t->n_eps; i++)
		fprintf(out, "%s\n", t->eps[i].uri);
}

static void tcp_destroy(void *priv)
{
	struct tcp_frontend *t = priv;

	if (!t)
		return;
	while (t->head) {
		struct tcp_pending *p = t->head;

		t->head = p->next;
		free(p);
	}
	for (size_t k = 0; k < TCP_MAX_CONNS; k++) {
		if (t->conns[k]) {
			close(t->conns[k]->fd);
			free(t->conns[k]);
		}
	}
	for (size_t i = 0; i < t->n_eps; i++)
		if (t->eps[i].fd >= 0)
			close(t->eps[i].fd);
	free(t->eps);
	free(t);
}

static int tcp_listen(struct tcp_endpoint *ep, uint32_t addr, unsigned port)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	int one = 1, err;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons((uint16_t)port);
	tcp_addr_name(&sa, ep->name, sizeof(ep->name));

	ep->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (ep->fd < 0) {
		sim_error("%s: cannot create a TCP socket: %s", ep->name, strerror(errno));
		return -1;
	}
	if (tcp_set_nonblock(ep->fd) < 0) {
		sim_error("%s: cannot make the socket non-blocking: %s", ep->name, strerror(errno));
		return -1;
	}
	/*
	 * A restarted simulator must take its port back while connections of the
	 * last run sit in TIME_WAIT. For TCP on Linux this never lets two
	 * listeners share an address and port, unlike for UDP.
	 */
	if (setsockopt(ep->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		sim_error("%s: SO_REUSEADDR: %s", ep->name, strerror(errno));
		return -1;
	}
	if (bind(ep->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		if (err == EADDRINUSE)
			sim_error("cannot listen on %s: address already in use (another simulator "
			          "or server on it?)",
			          ep->name);
		else if (err == EADDRNOTAVAIL)
			sim_error("cannot listen on %s: no local interface has that address",
			          ep->name);
		else
			sim_error("cannot listen on %s: %s", ep->name, strerror(err));
		return -1;
	}
	if (listen(ep->fd, TCP_BACKLOG) < 0) {
		sim_error("cannot listen on %s: %s", ep->name, strerror(errno));
		return -1;
	}
	/* With port 0 the system chose one: name the one clients must use. */
	if (getsockname(ep->fd, (struct sockaddr *)&sa, &slen) < 0) {
		sim_error("%s: getsockname: %s", ep->name, strerror(errno));
		return -1;
	}
	tcp_addr_name(&sa, ep->name, sizeof(ep->name));
	(void)snprintf(ep->uri, sizeof(ep->uri), "tcp://%s", ep->name);
	return 0;
}

int sim_tcp_open(struct sim_frontend *out, struct sim *s, const uint32_t *addrs,
                 const unsigned *ports, size_t n, size_t first_drive, uint64_t idle_ns)
{
	struct tcp_frontend *t;

	if (first_drive > s->n_drives || n > s->n_drives - first_drive) {
		sim_error("TCP front-end: drives %zu..%zu out of range", first_drive,
		          first_drive + n);
		return -1;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->eps = calloc(n ? n : 1, sizeof(*t->eps)))) {
		free(t);
		sim_error("out of memory for %zu TCP endpoints", n);
		return -1;
	}
	t->sim = s;
	t->idle_ns = idle_ns;
	for (size_t i = 0; i < n; i++)
		t->eps[i].fd = -1;
	t->n_eps = n;
	for (size_t i = 0; i < n; i++) {
		t->eps[i].drive = &s->drives[first_drive + i];
		if (ports[i] > 65535 || tcp_listen(&t->eps[i], addrs[i], ports[i]) < 0) {
			if (ports[i] > 65535)
				sim_error("TCP port %u is over 65535", ports[i]);
			tcp_destroy(t);
			return -1;
		}
	}

	memset(out, 0, sizeof(*out));
	out->priv = t;
	out->npoll = tcp_npoll;
	out->fill = tcp_fill;
	out->ready = tcp_ready;
	out->next_due = tcp_next_due;
	out->run_due = tcp_run_due;
	out->print_uris = tcp_print_uris;
	out->destroy = tcp_destroy;
	return 0;
}
