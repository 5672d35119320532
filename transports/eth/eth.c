/* SPDX-License-Identifier: MIT */
/*
 * The `eth` transport: MCB register frames over UDP (port 1061).
 *
 * One UDP socket per link, connect()ed to the drive, so the kernel drops
 * datagrams from anyone else and an ICMP port-unreachable comes back as
 * ECONNREFUSED on the next call. Requests wait with poll() on the socket and
 * an eventfd that cancel() writes from another thread.
 *
 * A reply answers only its own request. MCB frames carry no sequence
 * number, so the rules are these (enforced in eth_transact() and
 * eth_wait_reply(), the codec's part in ax_mcb_check_answer()):
 * - On a timeout the same frame is sent once more. Both sends are the same
 *   request: an answer to either is its answer.
 * - A request that did not get its answer to its first send (it timed out,
 *   was cancelled, failed) may still be answered later. Before the next
 *   request the link takes a fresh socket: a new source port, so such
 *   stragglers land on a closed port instead of passing for the next
 *   answer (a second read returning the first one's value, a refused write
 *   reported done because a late read ack came in its place).
 * - A reply must name the request's subnode and register and be an ack of
 *   its kind: a write's ack echoes the value written and carries no
 *   payload. One reply that is not (a duplicate, a late answer from before
 *   the fresh socket) is skipped; a second fails the request.
 * - A datagram is exactly one frame: trailing bytes, or an extended header
 *   declaring more or fewer bytes than the datagram holds, fail the request
 *   as malformed. Datagrams whose CRC or header is bad are line noise or
 *   not MCB at all: they are skipped.
 *
 * - Nothing is drained before a request: a request answered on its first
 *   send leaves nothing behind, and one that was not gets a fresh socket.
 *
 * The steady state costs two system calls: a send, and a blocking receive
 * bounded by the socket's SO_RCVTIMEO (set once, again only when the
 * timeout changes or the socket is new). Only a request that must wait
 * again (it skipped a datagram, a signal interrupted it) falls back to
 * poll() for the rest of its deadline.
 *
 * Cancellation: a request marks itself in flight (under priv->lock) before
 * it sends and clears the mark before it returns. cancel() shuts down the
 * receiving side of the socket of a request in flight, which wakes its
 * blocking receive (or poll) at once with end-of-file; a cancel while no
 * request is in flight does nothing, so it can never abort the next,
 * unrelated request. A socket that was shut down is replaced before the
 * next request, like any socket a request gave up on. The lock is never
 * held across I/O, so cancel() does not wait for the request.
 */
#define _GNU_SOURCE /* POLLRDHUP */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "eth.h"

/* Sends of one request: the first, and one resend after a timeout. */
#define ETH_TRIES 2

/* A full socket buffer is waited for this many times this long, then reported. */
#define ETH_SEND_WAITS 20
#define ETH_SEND_WAIT_MS 100

/* Longest "name (address:port)" the messages quote. */
#define ETH_PEER_STR 160

struct ax_transport_priv {
	const ax_host *host;
	int fd;                  /* blocking UDP socket connect()ed to the drive, or -1 */
	int renew;               /* the last request may still be answered: new socket */
	int rcvtimeo_ms;         /* SO_RCVTIMEO set on fd, or 0 when not set yet */
	eth_addr addr;           /* the drive's address, what fd is connected to */
	pthread_mutex_t lock;    /* guards busy and shut; never held across I/O */
	int busy;                /* a request is in flight: cancel() may shut fd down */
	atomic_int shut;         /* cancel() shut fd's receiving side down */
	int timeout_ms;          /* the URI's timeout_ms, or the default */
	char peer[ETH_PEER_STR]; /* who we talk to, for messages */
	struct eth_split *split; /* the split read in flight (ABI 1.4), or NULL */
};

/* A read sent by submit_read and not yet taken by complete_read (ABI 1.4). */
struct eth_split {
	ax_mcb_frame req;
	uint8_t qbuf[AX_MCB_MAX_FRAME];
	size_t qlen;
	unsigned subnode, address;
	int timeout_ms;     /* per try */
	int attempt;        /* sends so far: 1..ETH_TRIES */
	int stale;          /* replies skipped that did not answer it */
	uint64_t try_start; /* host->now_ns() of the last send */
};

/* What a request is, for messages: "read subnode 0 register 0x6E1". */
struct eth_req {
	const char *verb;
	unsigned subnode;
	unsigned address;
};

static const ax_option_desc eth_options[] = {
        {"timeout_ms", AX_OPT_INT, "1000",
         "reply timeout per try in milliseconds (1..60000); a timeout is retried once"},
        {NULL, 0, NULL, NULL},
};

socklen_t eth_addr_len(const eth_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? (socklen_t)sizeof(a->in6) : (socklen_t)sizeof(a->in);
}

void eth_addr_format(char *out, size_t cap, const eth_addr *a)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET6) {
		if (!inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip)))
			(void)snprintf(ip, sizeof(ip), "?");
		(void)snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(a->in6.sin6_port));
	} else {
		if (!inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip)))
			(void)snprintf(ip, sizeof(ip), "?");
		(void)snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(a->in.sin_port));
	}
}

int eth_uri_port(const ax_host *host, const ax_uri *uri, uint16_t *out)
{
	if (uri->port < 0) {
		*out = AX_MCB_UDP_PORT;
		return 0;
	}
	/* The URI parser already keeps it within 0..65535. */
	if (uri->port == 0 || uri->port > 65535)
		return host->error(host, AX_EINVAL, "URI '%s': port %d is not a usable UDP port",
		                   uri->text, uri->port);
	*out = (uint16_t)uri->port;
	return 0;
}

const char *eth_decode_why(int err)
{
	switch (err) {
	case AX_ETRUNC:
		return "truncated frame";
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

void eth_trace_frame(const ax_host *host, const char *dir, const char *peer, const uint8_t *frame,
                     size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char hex[3 * AX_MCB_FRAME_SIZE + 1];
	size_t o = 0;

	if (!host->log_enabled(host, AX_LOG_TRACE))
		return;
	for (size_t i = 0; i < len && i < AX_MCB_FRAME_SIZE; i++) {
		hex[o++] = digits[frame[i] >> 4];
		hex[o++] = digits[frame[i] & 0xF];
		hex[o++] = ' ';
	}
	hex[o ? o - 1 : 0] = '\0';
	if (len > AX_MCB_FRAME_SIZE)
		host->log(host, AX_LOG_TRACE, "%s %s: %s + %zu byte(s)", dir, peer, hex,
		          len - AX_MCB_FRAME_SIZE);
	else
		host->log(host, AX_LOG_TRACE, "%s %s: %s", dir, peer, hex);
}

/* The URI's timeout_ms key (or its default). */
static int eth_uri_timeout(const ax_host *host, const ax_uri *uri, int *out)
{
	long long v = 0;
	int err;

	err = host->uri_int(host, uri, "timeout_ms", 1, ETH_MAX_TIMEOUT_MS, &v);
	if (err == AX_ENOTFOUND)
		v = ETH_DEFAULT_TIMEOUT_MS;
	else if (err < 0)
		return err;
	*out = (int)v;
	return 0;
}

/* Refuse the scan-only forms (ranges, lists) with a pointer to what to do instead. */
static int eth_check_single_host(const ax_host *host, const ax_uri *uri)
{
	if (!uri->host[0])
		return host->error(host, AX_EINVAL,
		                   "URI '%s' names no host (expected eth://HOST[:PORT])",
		                   uri->text);
	if (strchr(uri->host, ','))
		return host->error(host, AX_EINVAL,
		                   "URI '%s' names several hosts; a link opens one (scan the list "
		                   "to find the drives)",
		                   uri->text);
	if (uri->path[0] == '/' && uri->path[1] >= '0' && uri->path[1] <= '9')
		return host->error(host, AX_EINVAL,
		                   "URI '%s' names an address range; a link opens one drive (scan "
		                   "the range to find them)",
		                   uri->text);
	if (uri->path[0] && strcmp(uri->path, "/") != 0)
		return host->error(host, AX_EINVAL,
		                   "URI '%s': unexpected path '%s' (expected eth://HOST[:PORT])",
		                   uri->text, uri->path);
	return 0;
}

/*
 * Resolve @uri's host and connect @fd's socket to the first address that
 * takes it. Sets priv->fd and priv->peer.
 */
static int eth_connect(ax_transport_priv *priv, const ax_uri *uri, uint16_t port)
{
	const ax_host *host = priv->host;
	struct addrinfo hints, *res = NULL;
	char service[8], where[ETH_ADDR_STR];
	unsigned char probe[sizeof(struct in6_addr)];
	eth_addr peer;
	socklen_t plen = sizeof(peer);
	int err, last_errno = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = AI_NUMERICSERV;
	(void)snprintf(service, sizeof(service), "%u", (unsigned)port);
	err = getaddrinfo(uri->host, service, &hints, &res);
	if (err != 0)
		return host->error(host, err == EAI_NONAME ? AX_ENOTFOUND : AX_EIO,
		                   "cannot resolve host '%s': %s", uri->host, gai_strerror(err));

	priv->fd = -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			/* Kept for the fresh sockets of later requests (eth_socket_renew). */
			priv->fd = fd;
			memset(&priv->addr, 0, sizeof(priv->addr));
			memcpy(&priv->addr, ai->ai_addr,
			       ai->ai_addrlen < sizeof(priv->addr) ? ai->ai_addrlen
			                                           : sizeof(priv->addr));
			break;
		}
		last_errno = errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (priv->fd < 0)
		return host->error(host, AX_EIO, "cannot open a UDP socket to %s port %u: %s",
		                   uri->host, (unsigned)port, strerror(last_errno));

	memset(&peer, 0, sizeof(peer));
	if (getpeername(priv->fd, &peer.sa, &plen) < 0)
		(void)snprintf(where, sizeof(where), "%s:%u", uri->host, (unsigned)port);
	else
		eth_addr_format(where, sizeof(where), &peer);
	/* A literal address speaks for itself; a name is quoted with what it resolved to. */
	if (inet_pton(AF_INET, uri->host, probe) == 1 || inet_pton(AF_INET6, uri->host, probe) == 1)
		(void)snprintf(priv->peer, sizeof(priv->peer), "%s", where);
	else
		(void)snprintf(priv->peer, sizeof(priv->peer), "%.80s (%s)", uri->host, where);
	return 0;
}

static int eth_open(ax_transport_priv **out, const ax_host *host, const ax_uri *uri, int timeout_ms)
{
	ax_transport_priv *priv;
	uint16_t port = 0;
	int err, uri_timeout = 0;

	err = eth_check_single_host(host, uri);
	if (err < 0)
		return err;
	err = eth_uri_timeout(host, uri, &uri_timeout);
	if (err < 0)
		return err;
	err = eth_uri_port(host, uri, &port);
	if (err < 0)
		return err;

	priv = host->calloc(1, sizeof(*priv));
	if (!priv)
		return host->error(host, AX_ENOMEM, "out of memory");
	priv->host = host;
	priv->fd = -1;
	priv->timeout_ms = uri_timeout;
	atomic_init(&priv->shut, 0);
	err = pthread_mutex_init(&priv->lock, NULL);
	if (err != 0) {
		err = host->error(host, AX_EIO, "cannot create the cancel lock: %s", strerror(err));
		host->free(priv);
		return err;
	}
	err = eth_connect(priv, uri, port);
	if (err < 0) {
		pthread_mutex_destroy(&priv->lock);
		host->free(priv);
		return err;
	}
	/* Each request brings its own timeout; the caller's, if any, wins over the URI's. */
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "UDP socket to %s, %d ms per try", priv->peer,
		          timeout_ms > 0 ? timeout_ms : priv->timeout_ms);
	*out = priv;
	return 0;
}

static void eth_close(ax_transport_priv *priv)
{
	if (!priv)
		return;
	if (priv->fd >= 0)
		close(priv->fd);
	pthread_mutex_destroy(&priv->lock);
	priv->host->free(priv->split);
	priv->host->free(priv);
}

static int eth_cancel(ax_transport_priv *priv)
{
	const ax_host *host = priv->host;
	int err = 0;

	pthread_mutex_lock(&priv->lock);
	/* Nothing in flight: nothing to abort (and the next request must not be). */
	if (priv->busy && !atomic_load(&priv->shut)) {
		atomic_store(&priv->shut, 1);
		if (shutdown(priv->fd, SHUT_RD) < 0)
			err = errno;
	}
	pthread_mutex_unlock(&priv->lock);
	if (err != 0)
		return host->error(host, AX_EIO, "cannot signal cancel to the request on %s: %s",
		                   priv->peer, strerror(err));
	return 0;
}

/* The request starts: from now on cancel() may shut its socket down. */
static void eth_request_begin(ax_transport_priv *priv)
{
	pthread_mutex_lock(&priv->lock);
	priv->busy = 1;
	pthread_mutex_unlock(&priv->lock);
}

/*
 * The request is over: cancel() leaves the socket alone from here on. One
 * it shut down cannot receive any more, so the next request takes a new one.
 */
static void eth_request_end(ax_transport_priv *priv)
{
	pthread_mutex_lock(&priv->lock);
	priv->busy = 0;
	if (atomic_load(&priv->shut)) {
		atomic_store(&priv->shut, 0);
		priv->renew = 1;
	}
	pthread_mutex_unlock(&priv->lock);
}

/*
 * Replace the socket with a fresh one connected to the same address, so
 * that replies still on their way to the old one (stragglers of a request
 * that gave up) meet a closed port. The new socket is made before the old
 * one closes, so the kernel cannot hand out the same source port again.
 * Returns 0 or an errno; on failure fd is -1 and the next request retries.
 */
static int eth_socket_renew(ax_transport_priv *priv)
{
	int fd, errnum;

	fd = socket(priv->addr.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd >= 0 && connect(fd, &priv->addr.sa, eth_addr_len(&priv->addr)) < 0) {
		errnum = errno;
		close(fd);
		fd = -1;
		errno = errnum;
	}
	errnum = fd < 0 ? errno : 0;
	if (priv->fd >= 0)
		close(priv->fd);
	priv->fd = fd;
	priv->rcvtimeo_ms = 0;
	if (fd >= 0) {
		priv->renew = 0;
		if (priv->host->log_enabled(priv->host, AX_LOG_DEBUG))
			priv->host->log(priv->host, AX_LOG_DEBUG,
			                "new socket to %s: replies to earlier requests now "
			                "meet a closed port",
			                priv->peer);
	}
	return errnum;
}

/* Turn a socket errno into an error that says what happened and where. */
static int eth_sock_error(ax_transport_priv *priv, int errnum, const struct eth_req *rq,
                          const char *op)
{
	const ax_host *host = priv->host;

	switch (errnum) {
	case ECONNREFUSED:
		return host->error(host, AX_EIO,
		                   "%s subnode %u register 0x%03X: nothing answers at %s (port "
		                   "unreachable)",
		                   rq->verb, rq->subnode, rq->address, priv->peer);
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return host->error(
		        host, AX_EIO, "%s subnode %u register 0x%03X: host unreachable: %s (%s)",
		        rq->verb, rq->subnode, rq->address, priv->peer, strerror(errnum));
	case EACCES:
	case EPERM:
		return host->error(host, AX_EACCESS,
		                   "%s subnode %u register 0x%03X: the system refused to send to "
		                   "%s (%s)",
		                   rq->verb, rq->subnode, rq->address, priv->peer,
		                   strerror(errnum));
	default:
		return host->error(host, AX_EIO,
		                   "%s subnode %u register 0x%03X: %s on the socket to %s failed: "
		                   "%s",
		                   rq->verb, rq->subnode, rq->address, op, priv->peer,
		                   strerror(errnum));
	}
}

static int eth_cancelled(ax_transport_priv *priv, const struct eth_req *rq)
{
	return priv->host->error(priv->host, AX_ECANCELED,
	                         "%s subnode %u register 0x%03X: cancelled while waiting for %s",
	                         rq->verb, rq->subnode, rq->address, priv->peer);
}

static int eth_send(ax_transport_priv *priv, const uint8_t *frame, size_t len,
                    const struct eth_req *rq)
{
	for (int waits = 0;; waits++) {
		ssize_t n = send(priv->fd, frame, len, MSG_DONTWAIT);

		if (n == (ssize_t)len) {
			eth_trace_frame(priv->host, "tx", priv->peer, frame, len);
			return 0;
		}
		if (n >= 0)
			return priv->host->error(priv->host, AX_EIO, "sent %zd of %zu bytes to %s",
			                         n, len, priv->peer);
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) && waits < ETH_SEND_WAITS) {
			/* Socket buffer full: wait until it drains, briefly (or a cancel). */
			struct pollfd p = {.fd = priv->fd, .events = POLLOUT | POLLRDHUP};

			if (poll(&p, 1, ETH_SEND_WAIT_MS) < 0 && errno != EINTR)
				return eth_sock_error(priv, errno, rq, "poll");
			if (atomic_load(&priv->shut))
				return eth_cancelled(priv, rq);
			continue;
		}
		return eth_sock_error(priv, errno, rq, "send");
	}
}

/* Returned by eth_wait_reply() when the deadline passes; not an error yet. */
#define ETH_WAIT_TIMEOUT 1

/* Milliseconds from @now to @deadline, rounded up, for poll(). */
static int eth_ms_left(uint64_t now, uint64_t deadline)
{
	uint64_t ms = (deadline - now + 999999u) / 1000000u;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * Let the socket's blocking receive end after @ms: set SO_RCVTIMEO unless
 * it already is @ms. Returns 0 or an errno.
 */
static int eth_set_rcvtimeo(ax_transport_priv *priv, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	if (priv->rcvtimeo_ms == ms)
		return 0;
	if (setsockopt(priv->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return errno;
	priv->rcvtimeo_ms = ms;
	return 0;
}

/* Returned by eth_take_datagram() for a datagram that is not the answer: receive again. */
#define ETH_SKIP 2

/*
 * Look at one received datagram of @r bytes in @rbuf: 0 with @reply
 * decoded when it answers @req, ETH_SKIP when it is to be skipped (not an
 * MCB frame, a request, the first reply that does not answer: *stale
 * counts those), or a negative error.
 */
static int eth_take_datagram(ax_transport_priv *priv, const struct eth_req *rq,
                             const ax_mcb_frame *req, ax_mcb_frame *reply, const uint8_t *rbuf,
                             size_t rcap, ssize_t r, int *stale)
{
	const ax_host *host = priv->host;
	int err;

	if ((size_t)r > rcap)
		return host->error(host, AX_EPROTO,
		                   "%s subnode %u register 0x%03X: malformed reply from "
		                   "%s: a %zd-byte datagram, larger than any MCB frame "
		                   "(%d bytes at most)",
		                   rq->verb, rq->subnode, rq->address, priv->peer, r,
		                   AX_MCB_MAX_FRAME);
	eth_trace_frame(host, "rx", priv->peer, rbuf, (size_t)r);
	err = host->mcb_decode(reply, rbuf, (size_t)r);
	/* A header that passed its CRC but declares more than came, or too much. */
	if (err == AX_ETRUNC && r >= AX_MCB_FRAME_SIZE)
		return host->error(host, AX_ETRUNC,
		                   "%s subnode %u register 0x%03X: malformed reply from "
		                   "%s: the %zd-byte datagram is shorter than the frame "
		                   "its header declares",
		                   rq->verb, rq->subnode, rq->address, priv->peer, r);
	if (err == AX_ETOOBIG)
		return host->error(host, AX_ETOOBIG,
		                   "%s subnode %u register 0x%03X: malformed reply from "
		                   "%s: its header declares a payload over the %d-byte "
		                   "limit",
		                   rq->verb, rq->subnode, rq->address, priv->peer,
		                   AX_MCB_MAX_PAYLOAD);
	if (err < 0) {
		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG, "ignored a %zd-byte datagram from %s: %s", r,
			          priv->peer, eth_decode_why(err));
		return ETH_SKIP;
	}
	if (reply->command == AX_MCB_READ || reply->command == AX_MCB_WRITE) {
		/* A request, not a reply (a peer echoing us): not an answer. */
		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG, "ignored a frame from %s that is not a reply",
			          priv->peer);
		return ETH_SKIP;
	}
	err = host->mcb_check_answer(reply, (size_t)r, req);
	if (err == AX_EPROTO)
		/* A datagram is exactly one frame: more bytes, or fewer, is malformed. */
		return host->error(host, AX_EPROTO,
		                   "%s subnode %u register 0x%03X: malformed reply from "
		                   "%s: the %zd-byte datagram holds a %zu-byte %s frame; a "
		                   "datagram must be exactly one frame",
		                   rq->verb, rq->subnode, rq->address, priv->peer, r,
		                   reply->frame_len, reply->extended ? "extended" : "plain");
	if (err == AX_EADDR) {
		/*
		 * Not the answer: a reply for another register, or an ack of
		 * another kind (a read's ack where a write's was due). One is
		 * skipped, a late answer that beat the fresh socket; a second
		 * means replies and requests are out of step.
		 */
		int same = reply->subnode == rq->subnode && reply->address == rq->address;

		if ((*stale)++ == 0) {
			if (host->log_enabled(host, AX_LOG_DEBUG))
				host->log(host, AX_LOG_DEBUG,
				          "%s sent a %s of subnode %u register 0x%03X "
				          "that does not answer the %s of 0x%03X: a late "
				          "reply, receiving again",
				          priv->peer,
				          reply->command == AX_MCB_ACK ? "ack" : "error reply",
				          (unsigned)reply->subnode, (unsigned)reply->address,
				          rq->verb, rq->address);
			return ETH_SKIP;
		}
		if (same)
			return host->error(host, AX_EADDR,
			                   "%s answered the %s of subnode %u register "
			                   "0x%03X twice with an ack that is not its "
			                   "answer (a write's ack echoes the value "
			                   "written)",
			                   priv->peer, rq->verb, rq->subnode, rq->address);
		return host->error(host, AX_EADDR,
		                   "%s answered subnode %u register 0x%03X again where "
		                   "subnode %u register 0x%03X was expected (%s)",
		                   priv->peer, (unsigned)reply->subnode, (unsigned)reply->address,
		                   rq->subnode, rq->address, rq->verb);
	}
	return err; /* 0, or AX_EDRIVE with the drive's code and message set */
}

/*
 * Wait for the answer to @req (@rq names it for messages) until @timeout_ms
 * after @start (host->now_ns()). The first wait is a blocking receive that
 * the socket's SO_RCVTIMEO ends at the deadline; a wait after a skipped
 * datagram, an interrupted or early-ended receive polls for the rest of
 * the time. Datagrams that are not MCB frames (bad CRC, node or command),
 * empty ones and echoed requests are skipped; one reply that does not
 * answer @req is skipped (*stale counts them), a second fails the request.
 * End-of-file on the socket is cancel() (eth_cancel). Returns 0 with
 * @reply decoded (it points into @rbuf), ETH_WAIT_TIMEOUT, or a negative
 * error.
 */
static int eth_wait_reply(ax_transport_priv *priv, const struct eth_req *rq,
                          const ax_mcb_frame *req, ax_mcb_frame *reply, uint8_t *rbuf, size_t rcap,
                          uint64_t start, int timeout_ms, int *stale)
{
	const ax_host *host = priv->host;
	uint64_t deadline = start + (uint64_t)timeout_ms * 1000000u;
	int blocking = eth_set_rcvtimeo(priv, timeout_ms) == 0;

	for (;;) {
		ssize_t r;
		int err;

		if (blocking) {
			/* The fast path: one system call waits and receives. */
			blocking = 0;
			r = recv(priv->fd, rbuf, rcap, MSG_TRUNC);
		} else {
			struct pollfd pfd = {.fd = priv->fd, .events = POLLIN | POLLRDHUP};
			uint64_t now = host->now_ns();
			int n;

			if (atomic_load(&priv->shut))
				return eth_cancelled(priv, rq);
			if (now >= deadline)
				return ETH_WAIT_TIMEOUT;
			n = poll(&pfd, 1, eth_ms_left(now, deadline));
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return eth_sock_error(priv, errno, rq, "poll");
			}
			if (n == 0)
				continue;
			r = recv(priv->fd, rbuf, rcap, MSG_TRUNC | MSG_DONTWAIT);
		}
		if (r < 0) {
			/* The receive timed out (maybe a tick early), or a signal came. */
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			return eth_sock_error(priv, errno, rq, "receive");
		}
		if (r == 0) {
			if (atomic_load(&priv->shut))
				return eth_cancelled(priv, rq);
			if (host->log_enabled(host, AX_LOG_DEBUG))
				host->log(host, AX_LOG_DEBUG, "ignored an empty datagram from %s",
				          priv->peer);
			continue;
		}
		err = eth_take_datagram(priv, rq, req, reply, rbuf, rcap, r, stale);
		if (err == ETH_SKIP)
			continue;
		return err;
	}
}

/*
 * Send @req and wait for its reply: each try waits @timeout_ms (0: the URI's),
 * a timeout sends the same frame once more.
 */
static int eth_transact(ax_transport_priv *priv, const ax_mcb_frame *req, ax_mcb_frame *reply,
                        uint8_t *rbuf, size_t rcap, int timeout_ms)
{
	const ax_host *host = priv->host;
	struct eth_req rq = {
	        .verb = req->command == AX_MCB_WRITE ? "write" : "read",
	        .subnode = req->subnode,
	        .address = req->address,
	};
	uint8_t qbuf[AX_MCB_MAX_FRAME];
	size_t qlen = 0;
	int err, stale = 0, attempt;

	err = host->mcb_encode(qbuf, sizeof(qbuf), &qlen, req);
	if (err < 0)
		return err;
	if (timeout_ms <= 0)
		timeout_ms = priv->timeout_ms;

	if (priv->renew || priv->fd < 0) {
		err = eth_socket_renew(priv);
		if (err != 0)
			return host->error(host, AX_EIO,
			                   "%s subnode %u register 0x%03X: cannot open a fresh "
			                   "socket to %s: %s",
			                   rq.verb, rq.subnode, rq.address, priv->peer,
			                   strerror(err));
	}
	eth_request_begin(priv);
	for (attempt = 1; attempt <= ETH_TRIES; attempt++) {
		err = eth_send(priv, qbuf, qlen, &rq);
		if (err < 0)
			break;
		err = eth_wait_reply(priv, &rq, req, reply, rbuf, rcap, host->now_ns(), timeout_ms,
		                     &stale);
		if (err != ETH_WAIT_TIMEOUT)
			break;
		if (attempt < ETH_TRIES && host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG,
			          "no reply from %s within %d ms (%s subnode %u register 0x%03X); "
			          "sending again",
			          priv->peer, timeout_ms, rq.verb, rq.subnode, rq.address);
	}
	/*
	 * Only a request answered on its first send is settled. After a resend
	 * the drive may answer twice, and a request that gave up may be
	 * answered still: the next request takes a fresh socket.
	 */
	priv->renew = !(attempt == 1 && (err == 0 || err == AX_EDRIVE));
	eth_request_end(priv);
	if (err != ETH_WAIT_TIMEOUT)
		return err;
	return host->error(host, AX_ETIMEDOUT,
	                   "no reply from %s after %d tries of %d ms (%s subnode %u register "
	                   "0x%03X)",
	                   priv->peer, ETH_TRIES, timeout_ms, rq.verb, rq.subnode, rq.address);
}

static int eth_read(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
                    size_t cap, size_t *len_out, int timeout_ms)
{
	const ax_host *host = priv->host;
	uint8_t rbuf[ETH_RX_SIZE];
	ax_mcb_frame req, reply;
	int err;

	err = host->mcb_request(&req, AX_MCB_READ, subnode, address, NULL, 0);
	if (err < 0)
		return err;
	err = eth_transact(priv, &req, &reply, rbuf, sizeof(rbuf), timeout_ms);
	if (err < 0)
		return err;
	return host->mcb_reply_value(&reply, buf, cap, len_out);
}

static int eth_write(ax_transport_priv *priv, unsigned subnode, uint32_t address, const void *buf,
                     size_t len, int timeout_ms)
{
	uint8_t rbuf[ETH_RX_SIZE];
	ax_mcb_frame req, reply;
	int err;

	err = priv->host->mcb_request(&req, AX_MCB_WRITE, subnode, address, buf, len);
	if (err < 0)
		return err;
	return eth_transact(priv, &req, &reply, rbuf, sizeof(rbuf), timeout_ms);
}

/*
 * Split reads (ABI 1.4): the same request, rules and messages as eth_read(),
 * cut at the wait. submit sends; complete takes what the socket holds
 * without waiting, resends once when a try's time is up, and settles the
 * socket (fresh one unless answered on the first send) when it ends;
 * abandon settles it as a timeout does.
 */
static void eth_split_end(ax_transport_priv *priv, int err)
{
	struct eth_split *sp = priv->split;

	priv->renew = !(sp->attempt == 1 && (err == 0 || err == AX_EDRIVE));
	eth_request_end(priv);
	priv->host->free(sp);
	priv->split = NULL;
}

static int eth_submit_read(ax_transport_priv *priv, unsigned subnode, uint32_t address,
                           int timeout_ms)
{
	const ax_host *host = priv->host;
	struct eth_req rq = {.verb = "read", .subnode = subnode, .address = address};
	struct eth_split *sp;
	int err;

	if (priv->split)
		return host->error(host, AX_EBUSY,
		                   "read subnode %u register 0x%03X: a read is "
		                   "already in flight on %s",
		                   subnode, address, priv->peer);
	sp = host->calloc(1, sizeof(*sp));
	if (!sp)
		return host->error(host, AX_ENOMEM, "out of memory");
	err = host->mcb_request(&sp->req, AX_MCB_READ, subnode, address, NULL, 0);
	if (err == 0)
		err = host->mcb_encode(sp->qbuf, sizeof(sp->qbuf), &sp->qlen, &sp->req);
	if (err < 0) {
		host->free(sp);
		return err;
	}
	sp->subnode = subnode;
	sp->address = address;
	sp->timeout_ms = timeout_ms > 0 ? timeout_ms : priv->timeout_ms;
	sp->attempt = 1;
	if (priv->renew || priv->fd < 0) {
		err = eth_socket_renew(priv);
		if (err != 0) {
			host->free(sp);
			return host->error(host, AX_EIO,
			                   "read subnode %u register 0x%03X: cannot open a fresh "
			                   "socket to %s: %s",
			                   subnode, address, priv->peer, strerror(err));
		}
	}
	priv->split = sp;
	eth_request_begin(priv);
	sp->try_start = host->now_ns();
	err = eth_send(priv, sp->qbuf, sp->qlen, &rq);
	if (err < 0) {
		eth_split_end(priv, err);
		return err;
	}
	return 0;
}

static int eth_pollfd(ax_transport_priv *priv, uint64_t *wake_ns)
{
	const struct eth_split *sp = priv->split;

	*wake_ns = sp ? sp->try_start + (uint64_t)sp->timeout_ms * 1000000u : 0;
	return priv->fd;
}

static int eth_complete_read(ax_transport_priv *priv, void *buf, size_t cap, size_t *len_out)
{
	const ax_host *host = priv->host;
	struct eth_split *sp = priv->split;
	uint8_t rbuf[ETH_RX_SIZE];
	ax_mcb_frame reply;
	struct eth_req rq;
	int err;

	if (!sp)
		return host->error(host, AX_EINVAL, "no read in flight on %s", priv->peer);
	rq.verb = "read";
	rq.subnode = sp->subnode;
	rq.address = sp->address;
	for (;;) {
		ssize_t r;

		if (atomic_load(&priv->shut)) {
			err = eth_cancelled(priv, &rq);
			break;
		}
		r = recv(priv->fd, rbuf, sizeof(rbuf), MSG_TRUNC | MSG_DONTWAIT);
		if (r < 0) {
			uint64_t now;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				err = eth_sock_error(priv, errno, &rq, "receive");
				break;
			}
			now = host->now_ns();
			if (now < sp->try_start + (uint64_t)sp->timeout_ms * 1000000u)
				return AX_PLUGIN_PENDING;
			if (sp->attempt >= ETH_TRIES) {
				err = host->error(host, AX_ETIMEDOUT,
				                  "no reply from %s after %d tries of %d ms (read "
				                  "subnode %u register 0x%03X)",
				                  priv->peer, ETH_TRIES, sp->timeout_ms, rq.subnode,
				                  rq.address);
				break;
			}
			if (host->log_enabled(host, AX_LOG_DEBUG))
				host->log(host, AX_LOG_DEBUG,
				          "no reply from %s within %d ms (read subnode %u register "
				          "0x%03X); sending again",
				          priv->peer, sp->timeout_ms, rq.subnode, rq.address);
			sp->attempt++;
			sp->try_start = now;
			err = eth_send(priv, sp->qbuf, sp->qlen, &rq);
			if (err < 0)
				break;
			return AX_PLUGIN_PENDING;
		}
		if (r == 0) {
			if (atomic_load(&priv->shut)) {
				err = eth_cancelled(priv, &rq);
				break;
			}
			continue;
		}
		err = eth_take_datagram(priv, &rq, &sp->req, &reply, rbuf, sizeof(rbuf), r,
		                        &sp->stale);
		if (err != ETH_SKIP)
			break;
	}
	eth_split_end(priv, err);
	if (err < 0)
		return err;
	return host->mcb_reply_value(&reply, buf, cap, len_out);
}

static void eth_abandon(ax_transport_priv *priv)
{
	if (!priv->split)
		return;
	/* Its reply may still come: as after a timeout, the next request takes a fresh socket. */
	priv->split->attempt = ETH_TRIES;
	eth_split_end(priv, AX_ETIMEDOUT);
}

static const ax_transport_ops eth_ops = {
        .size = sizeof(ax_transport_ops),
        .open = eth_open,
        .close = eth_close,
        .read = eth_read,
        .write = eth_write,
        .cancel = eth_cancel,
        .scan = eth_scan,
        .submit_read = eth_submit_read,
        .pollfd = eth_pollfd,
        .complete_read = eth_complete_read,
        .abandon = eth_abandon,
};

static const ax_transport_desc eth_desc = {
        AX_TRANSPORT_DESC_HEADER,
        .scheme = "eth",
        .name = "Ethernet (MCB over UDP)",
        .version = "0.1.0",
        .description = "MCB drives on an IP network, UDP port 1061",
        .license = "MIT",
        .caps = AX_TRANSPORT_CAP_CANCEL | AX_TRANSPORT_CAP_SCAN,
        .addr_space = AX_ADDR_MCB,
        .options = eth_options,
        .ops = &eth_ops,
};

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void);

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void)
{
	return &eth_desc;
}
