/* SPDX-License-Identifier: MIT */
/*
 * The `tcp` transport: MCB register frames on a TCP stream.
 *
 *   tcp://HOST[:PORT][?timeout_ms=N]      port 1062 when none is given
 *
 * Built outside the axlink tree against the installed SDK only: it includes
 * axlink/plugin.h, calls the core solely through the host table it is given
 * (the MCB codec, errors, logging, clock, allocation) and does not link
 * libaxlink. It is the walk-through of docs/plugins.md.
 *
 * Framing. A TCP stream has no message boundaries, so frames are cut by the
 * MCB header itself: read the 14-byte header; when its extended bit is set,
 * its CRC-protected bytes 4-11 give the payload length (at most
 * AX_MCB_MAX_PAYLOAD), and that many bytes follow. Unlike a serial line, a
 * stream cannot be resynchronised by hunting for the next valid header (a
 * payload may contain one), so a frame that does not decode, or a reply
 * that does not answer the request, ends the connection.
 *
 * Requests. The core serialises requests per link, so exactly one request
 * is in flight and the next reply on the stream must be its answer. A try
 * is: connect if needed, send, read one frame, all within timeout_ms. When
 * a try fails because the connection broke (closed, reset, a bad frame, no
 * reply in time: after a timeout a late reply could still arrive and be
 * taken for the next request's answer), the connection is dropped and the
 * request goes out once more on a fresh one. A connection the peer closed
 * while idle is noticed before sending and replaced without using up a try.
 * Failing to connect at all (refused, unreachable, no answer) ends the
 * request at once: resending has nowhere to go.
 *
 * Cancellation works as in the eth transport: cancel() writes an eventfd
 * that every wait polls beside the socket, and a request drains it when it
 * starts, so a cancel aborts what is in flight and not the next request.
 * A cancelled request also drops its connection, since its reply may still
 * be on the way.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <axlink/plugin.h>

#define TCP_DEFAULT_PORT 1062
#define TCP_DEFAULT_TIMEOUT_MS 1000
#define TCP_MAX_TIMEOUT_MS 60000

/* Tries of one request: the first, and one on a new connection. */
#define TCP_TRIES 2
_Static_assert(TCP_TRIES == 2, "tcp_transact() words its messages for two tries");

/* Addresses of a name kept for reconnecting (one per family is the usual case). */
#define TCP_MAX_ADDRS 8

/* Longest "name (address:port)" that messages quote. */
#define TCP_PEER_STR 160

/* "[" IPv6 "]:" port, NUL. */
#define TCP_ADDR_STR 64

/* Longest reason of one failed try. */
#define TCP_WHY_STR 200

/* Returned by the wait helpers when the deadline passes: not yet an error. */
#define TCP_WAIT_TIMEOUT 1

struct ax_transport_priv {
	const ax_host *host;
	int fd;                 /* connected socket, or -1: connect on the next request */
	int cancel_fd;          /* eventfd: cancel() makes it readable */
	int timeout_ms;         /* the URI's timeout_ms, or the default */
	unsigned long connects; /* connections made so far, for the debug log */
	struct sockaddr_storage addrs[TCP_MAX_ADDRS]; /* resolved once, at open */
	socklen_t addr_lens[TCP_MAX_ADDRS];
	size_t n_addrs;
	char peer[TCP_PEER_STR]; /* who we talk to, for messages */
};

/* One request, for messages: "read subnode 0 register 0x6E1". */
struct tcp_req {
	const char *verb;
	unsigned subnode;
	unsigned address;
};

/* Why a step failed: an ax_error_code and the words for it. */
struct tcp_fail {
	int code;
	char why[TCP_WHY_STR];
};

static const ax_option_desc tcp_options[] = {
        {"timeout_ms", AX_OPT_INT, "1000",
         "time for one try (connect, send, reply) in milliseconds, 1..60000; a try that "
         "breaks or times out is made once more on a new connection"},
        {NULL, 0, NULL, NULL},
};

static int tcp_failf(struct tcp_fail *f, int code, const char *fmt, ...) AX_PRINTF_LIKE(3, 4);

/* Fill @f and return @code, so a step can `return tcp_failf(...)`. */
static int tcp_failf(struct tcp_fail *f, int code, const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return code;
}

/* A socket errno in words that say what it means for a drive connection. */
static int tcp_fail_errno(struct tcp_fail *f, int errnum, const char *op)
{
	switch (errnum) {
	case ECONNRESET:
		return tcp_failf(f, AX_EDISCONNECTED, "connection reset by the peer");
	case EPIPE:
		return tcp_failf(f, AX_EDISCONNECTED, "connection closed by the peer");
	case ECONNREFUSED:
		return tcp_failf(f, AX_EIO, "connection refused (nothing listens on that port)");
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return tcp_failf(f, AX_EIO, "host unreachable (%s)", strerror(errnum));
	case ETIMEDOUT:
		return tcp_failf(f, AX_ETIMEDOUT, "the network timed out (%s)", strerror(errnum));
	case EACCES:
	case EPERM:
		return tcp_failf(f, AX_EACCESS, "the system refused the connection (%s)",
		                 strerror(errnum));
	default:
		return tcp_failf(f, AX_EIO, "%s: %s", op, strerror(errnum));
	}
}

static void tcp_addr_format(char *out, size_t cap, const struct sockaddr_storage *a)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;

		if (!inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip)))
			(void)snprintf(ip, sizeof(ip), "?");
		(void)snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in = (const struct sockaddr_in *)a;

		if (!inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip)))
			(void)snprintf(ip, sizeof(ip), "?");
		(void)snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
	}
}

/* Frame bytes at trace level: "tx 127.0.0.1:1062: a1 00 ...". */
static void tcp_trace_frame(const ax_transport_priv *priv, const char *dir, const uint8_t *frame,
                            size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char hex[3 * AX_MCB_FRAME_SIZE + 1];
	size_t o = 0;

	if (!priv->host->log_enabled(priv->host, AX_LOG_TRACE))
		return;
	for (size_t i = 0; i < len && i < AX_MCB_FRAME_SIZE; i++) {
		hex[o++] = digits[frame[i] >> 4];
		hex[o++] = digits[frame[i] & 0xF];
		hex[o++] = ' ';
	}
	hex[o ? o - 1 : 0] = '\0';
	if (len > AX_MCB_FRAME_SIZE)
		priv->host->log(priv->host, AX_LOG_TRACE, "%s %s: %s + %zu payload byte(s)", dir,
		                priv->peer, hex, len - AX_MCB_FRAME_SIZE);
	else
		priv->host->log(priv->host, AX_LOG_TRACE, "%s %s: %s", dir, priv->peer, hex);
}

/* Milliseconds from @now to @deadline, rounded up, for poll(). */
static int tcp_ms_left(uint64_t now, uint64_t deadline)
{
	uint64_t ms = (deadline - now + 999999u) / 1000000u;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * Wait until @fd reports @events, the cancel eventfd fires or @deadline
 * passes. Returns 0 (ready), TCP_WAIT_TIMEOUT, or a negative code in @f.
 */
static int tcp_wait(ax_transport_priv *priv, int fd, short events, uint64_t deadline,
                    struct tcp_fail *f)
{
	for (;;) {
		struct pollfd pfd[2] = {
		        {.fd = fd, .events = events},
		        {.fd = priv->cancel_fd, .events = POLLIN},
		};
		uint64_t now = priv->host->now_ns();
		int n;

		if (now >= deadline)
			return TCP_WAIT_TIMEOUT;
		n = poll(pfd, 2, tcp_ms_left(now, deadline));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return tcp_fail_errno(f, errno, "poll");
		}
		if (pfd[1].revents & POLLIN)
			return tcp_failf(f, AX_ECANCELED, "cancelled");
		/* Errors and hang-ups count as ready: the next call on the socket tells which. */
		if (pfd[0].revents)
			return 0;
	}
}

static void tcp_disconnect(ax_transport_priv *priv)
{
	if (priv->fd >= 0)
		close(priv->fd);
	priv->fd = -1;
}

/* Connect one socket to @addr by @deadline. Returns the descriptor, or a negative code in @f. */
static int tcp_connect_one(ax_transport_priv *priv, const struct sockaddr_storage *addr,
                           socklen_t len, uint64_t deadline, int timeout_ms, struct tcp_fail *f)
{
	int one = 1, soerr = 0, fd, err;
	socklen_t slen = sizeof(soerr);

	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return tcp_fail_errno(f, errno, "cannot create a TCP socket");
	/* One small frame per request, answered before the next: never wait to coalesce. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		err = tcp_fail_errno(f, errno, "cannot set TCP_NODELAY");
		close(fd);
		return err;
	}
	if (connect(fd, (const struct sockaddr *)addr, len) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR) {
		err = tcp_fail_errno(f, errno, "connect");
		close(fd);
		return err;
	}
	err = tcp_wait(priv, fd, POLLOUT, deadline, f);
	if (err == TCP_WAIT_TIMEOUT)
		err = tcp_failf(f, AX_ETIMEDOUT, "no connection within %d ms", timeout_ms);
	else if (err == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0)
		err = tcp_fail_errno(f, errno, "getsockopt");
	else if (err == 0 && soerr != 0)
		err = tcp_fail_errno(f, soerr, "connect");
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

/* Connect to the first address that takes the connection. */
static int tcp_connect(ax_transport_priv *priv, uint64_t deadline, int timeout_ms,
                       struct tcp_fail *f)
{
	const ax_host *host = priv->host;
	int fd = AX_EIO;

	(void)tcp_failf(f, AX_EIO, "no address to connect to");
	for (size_t i = 0; i < priv->n_addrs; i++) {
		fd = tcp_connect_one(priv, &priv->addrs[i], priv->addr_lens[i], deadline,
		                     timeout_ms, f);
		if (fd >= 0 || fd == AX_ECANCELED || fd == AX_ETIMEDOUT)
			break;
	}
	if (fd < 0)
		return fd;
	priv->fd = fd;
	priv->connects++;
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "%s %s (connection %lu)",
		          priv->connects > 1 ? "reconnected to" : "connected to", priv->peer,
		          priv->connects);
	return 0;
}

/*
 * Between requests nothing may arrive: readable now means the peer closed
 * the connection (a restart, an idle timeout) or sent bytes nobody asked
 * for. Either way the stream is of no more use.
 */
static int tcp_connection_stale(ax_transport_priv *priv, char *why, size_t cap)
{
	struct pollfd p = {.fd = priv->fd, .events = POLLIN};
	uint8_t b;
	ssize_t n;

	if (poll(&p, 1, 0) <= 0 || !p.revents)
		return 0;
	n = recv(priv->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		(void)snprintf(why, cap, "the peer closed it");
	else if (n > 0)
		(void)snprintf(why, cap, "the peer sent bytes nobody asked for");
	else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	else if (errno == ECONNRESET)
		(void)snprintf(why, cap, "the peer reset it");
	else
		(void)snprintf(why, cap, "%s", strerror(errno));
	return 1;
}

static int tcp_send_all(ax_transport_priv *priv, const uint8_t *buf, size_t len, uint64_t deadline,
                        int timeout_ms, struct tcp_fail *f)
{
	size_t done = 0;

	while (done < len) {
		/* MSG_NOSIGNAL: a closed peer is an error to report, not a SIGPIPE. */
		ssize_t n = send(priv->fd, buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		int err;

		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return tcp_fail_errno(f, errno, "send");
		err = tcp_wait(priv, priv->fd, POLLOUT, deadline, f);
		if (err == TCP_WAIT_TIMEOUT)
			return tcp_failf(f, AX_ETIMEDOUT, "could not send within %d ms",
			                 timeout_ms);
		if (err < 0)
			return err;
	}
	tcp_trace_frame(priv, "tx", buf, len);
	return 0;
}

/* Read exactly @len bytes by @deadline. */
static int tcp_recv_exact(ax_transport_priv *priv, uint8_t *buf, size_t len, uint64_t deadline,
                          int timeout_ms, struct tcp_fail *f)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(priv->fd, buf + done, len - done, MSG_DONTWAIT);
		int err;

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			return tcp_failf(f, AX_EDISCONNECTED, "connection closed by the peer%s",
			                 done ? " in the middle of a reply" : "");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return tcp_fail_errno(f, errno, "receive");
		err = tcp_wait(priv, priv->fd, POLLIN, deadline, f);
		if (err == TCP_WAIT_TIMEOUT)
			return tcp_failf(f, AX_ETIMEDOUT, "no reply within %d ms", timeout_ms);
		if (err < 0)
			return err;
	}
	return 0;
}

static uint64_t tcp_le64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static const char *tcp_decode_why(int err)
{
	switch (err) {
	case AX_ECRC:
		return "CRC mismatch";
	case AX_ETOOBIG:
		return "extended length over the limit";
	case AX_ETRUNC:
		return "truncated frame";
	case AX_EPROTO:
		return "not an MCB frame (node or command)";
	default:
		return "undecodable";
	}
}

/*
 * Read one frame and check that it answers @rq. Returns 0 with @reply
 * decoded (pointing into @rbuf, AX_MCB_MAX_FRAME bytes), AX_EDRIVE for the
 * drive's error reply (message set by the codec, connection still good), or
 * another negative code in @f.
 */
static int tcp_recv_reply(ax_transport_priv *priv, const struct tcp_req *rq, ax_mcb_frame *reply,
                          uint8_t *rbuf, uint64_t deadline, int timeout_ms, struct tcp_fail *f)
{
	const ax_host *host = priv->host;
	size_t len = AX_MCB_FRAME_SIZE;
	int err;

	err = tcp_recv_exact(priv, rbuf, AX_MCB_FRAME_SIZE, deadline, timeout_ms, f);
	if (err < 0)
		return err;
	err = host->mcb_decode(reply, rbuf, len);
	/*
	 * Only a header that passed every check but the length has a payload to
	 * read: its CRC covers the length, so the count below can be trusted
	 * (and is bounded again in case a codec checks in another order).
	 */
	if (err == AX_ETRUNC && (rbuf[2] & 1)) {
		uint64_t plen = tcp_le64(rbuf + 4);

		if (plen == 0 || plen > AX_MCB_MAX_PAYLOAD)
			return tcp_failf(f, AX_ETOOBIG,
			                 "reply declares %llu payload bytes (limit %d)",
			                 (unsigned long long)plen, AX_MCB_MAX_PAYLOAD);
		err = tcp_recv_exact(priv, rbuf + AX_MCB_FRAME_SIZE, (size_t)plen, deadline,
		                     timeout_ms, f);
		if (err < 0)
			return err;
		len += (size_t)plen;
		err = host->mcb_decode(reply, rbuf, len);
	}
	if (err < 0)
		return tcp_failf(f, err, "bad reply frame (%s)", tcp_decode_why(err));
	tcp_trace_frame(priv, "rx", rbuf, len);

	err = host->mcb_check_reply(reply, rq->subnode, rq->address);
	if (err == AX_EDRIVE || err == 0)
		return err;
	if (err == AX_EADDR)
		return tcp_failf(f, AX_EADDR,
		                 "reply for subnode %u register 0x%03X instead (out of step)",
		                 (unsigned)reply->subnode, (unsigned)reply->address);
	return tcp_failf(f, AX_EPROTO, "a frame that is not a reply (command %u)",
	                 (unsigned)reply->command);
}

/* Forget cancels that arrived while no request ran. */
static void tcp_drain_cancel(ax_transport_priv *priv)
{
	uint64_t count;

	if (read(priv->cancel_fd, &count, sizeof(count)) == (ssize_t)sizeof(count) &&
	    priv->host->log_enabled(priv->host, AX_LOG_DEBUG))
		priv->host->log(priv->host, AX_LOG_DEBUG,
		                "dropped a cancel that arrived between requests on %s", priv->peer);
}

/*
 * One request: up to TCP_TRIES tries, each connect (if needed) + send +
 * reply within @timeout_ms (0: the URI's). The final message names the
 * request, the peer and what went wrong on each try.
 */
static int tcp_transact(ax_transport_priv *priv, const ax_mcb_frame *req, ax_mcb_frame *reply,
                        uint8_t *rbuf, int timeout_ms)
{
	const ax_host *host = priv->host;
	struct tcp_req rq = {
	        .verb = req->command == AX_MCB_WRITE ? "write" : "read",
	        .subnode = req->subnode,
	        .address = req->address,
	};
	struct tcp_fail fails[TCP_TRIES];
	uint8_t qbuf[AX_MCB_MAX_FRAME];
	char lost[TCP_WHY_STR] = ""; /* why an idle connection was found unusable */
	size_t qlen = 0;
	int err, tries = 0;

	err = host->mcb_encode(qbuf, sizeof(qbuf), &qlen, req);
	if (err < 0)
		return err;
	if (timeout_ms <= 0)
		timeout_ms = priv->timeout_ms;

	tcp_drain_cancel(priv);
	while (tries < TCP_TRIES) {
		struct tcp_fail *f = &fails[tries];
		uint64_t deadline = host->now_ns() + (uint64_t)timeout_ms * 1000000u;

		tries++;
		if (priv->fd >= 0 && tcp_connection_stale(priv, lost, sizeof(lost))) {
			if (host->log_enabled(host, AX_LOG_DEBUG))
				host->log(host, AX_LOG_DEBUG,
				          "connection to %s unusable (%s); "
				          "reconnecting",
				          priv->peer, lost);
			tcp_disconnect(priv);
		}
		if (priv->fd < 0) {
			err = tcp_connect(priv, deadline, timeout_ms, f);
			if (err < 0) {
				/*
				 * Nowhere to resend to: this ends the request. A drive
				 * that was there and no longer takes connections has
				 * gone away.
				 */
				if (err != AX_ECANCELED && (lost[0] || tries > 1))
					err = AX_EDISCONNECTED;
				if (tries == 1 && lost[0])
					return host->error(host, err,
					                   "%s subnode %u register 0x%03X: the "
					                   "connection to %s was lost (%s) and "
					                   "reconnecting failed: %s",
					                   rq.verb, rq.subnode, rq.address,
					                   priv->peer, lost, f->why);
				if (tries == 1)
					return host->error(host, err,
					                   "%s subnode %u register 0x%03X: cannot "
					                   "connect to %s: %s",
					                   rq.verb, rq.subnode, rq.address,
					                   priv->peer, f->why);
				return host->error(host, err,
				                   "%s subnode %u register 0x%03X on %s: %s; "
				                   "reconnecting failed: %s",
				                   rq.verb, rq.subnode, rq.address, priv->peer,
				                   fails[0].why, f->why);
			}
		}
		err = tcp_send_all(priv, qbuf, qlen, deadline, timeout_ms, f);
		if (err == 0)
			err = tcp_recv_reply(priv, &rq, reply, rbuf, deadline, timeout_ms, f);
		if (err == 0 || err == AX_EDRIVE)
			return err;
		/* Whatever went wrong, the stream is out of step with our requests now. */
		tcp_disconnect(priv);
		if (err == AX_ECANCELED)
			return host->error(host, AX_ECANCELED,
			                   "%s subnode %u register 0x%03X on %s: cancelled",
			                   rq.verb, rq.subnode, rq.address, priv->peer);
		if (tries < TCP_TRIES && host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG,
			          "%s subnode %u register 0x%03X on %s: %s; sending again on a "
			          "new connection",
			          rq.verb, rq.subnode, rq.address, priv->peer, f->why);
	}
	if (fails[0].code == AX_ETIMEDOUT && fails[1].code == AX_ETIMEDOUT)
		return host->error(host, AX_ETIMEDOUT,
		                   "no reply from %s after %d tries of %d ms (%s subnode %u "
		                   "register 0x%03X)",
		                   priv->peer, TCP_TRIES, timeout_ms, rq.verb, rq.subnode,
		                   rq.address);
	return host->error(host, fails[1].code,
	                   "%s subnode %u register 0x%03X on %s: %s; then, on a new "
	                   "connection: %s",
	                   rq.verb, rq.subnode, rq.address, priv->peer, fails[0].why, fails[1].why);
}

/* Refuse what is not tcp://HOST[:PORT], saying what is expected. */
static int tcp_check_uri(const ax_host *host, const ax_uri *uri, uint16_t *port_out)
{
	if (!uri->host[0])
		return host->error(host, AX_EINVAL,
		                   "URI '%s' names no host (expected tcp://HOST[:PORT])",
		                   uri->text);
	if (uri->path[0] && strcmp(uri->path, "/") != 0)
		return host->error(host, AX_EINVAL,
		                   "URI '%s': unexpected path '%s' (expected tcp://HOST[:PORT])",
		                   uri->text, uri->path);
	if (uri->port == 0)
		return host->error(host, AX_EINVAL, "URI '%s': port 0 cannot be connected to",
		                   uri->text);
	if (uri->port > 65535)
		return host->error(host, AX_EINVAL, "URI '%s': port %d is over 65535", uri->text,
		                   uri->port);
	*port_out = uri->port < 0 ? TCP_DEFAULT_PORT : (uint16_t)uri->port;
	return 0;
}

/* Resolve the host once; reconnects reuse the addresses (no DNS wait mid-request). */
static int tcp_resolve(ax_transport_priv *priv, const ax_uri *uri, uint16_t port)
{
	const ax_host *host = priv->host;
	struct addrinfo hints, *res = NULL;
	char service[8], first[TCP_ADDR_STR];
	unsigned char probe[sizeof(struct in6_addr)];
	int err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	(void)snprintf(service, sizeof(service), "%u", (unsigned)port);
	err = getaddrinfo(uri->host, service, &hints, &res);
	if (err != 0)
		return host->error(host, err == EAI_NONAME ? AX_ENOTFOUND : AX_EIO,
		                   "URI '%s': cannot resolve host '%s': %s", uri->text, uri->host,
		                   gai_strerror(err));
	for (struct addrinfo *ai = res; ai && priv->n_addrs < TCP_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(priv->addrs[0]))
			continue;
		memcpy(&priv->addrs[priv->n_addrs], ai->ai_addr, ai->ai_addrlen);
		priv->addr_lens[priv->n_addrs++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (priv->n_addrs == 0)
		return host->error(host, AX_ENOTFOUND, "URI '%s': host '%s' has no IP address",
		                   uri->text, uri->host);

	tcp_addr_format(first, sizeof(first), &priv->addrs[0]);
	/* A literal address speaks for itself; a name is quoted with what it resolved to. */
	if (inet_pton(AF_INET, uri->host, probe) == 1 || inet_pton(AF_INET6, uri->host, probe) == 1)
		(void)snprintf(priv->peer, sizeof(priv->peer), "%s", first);
	else
		(void)snprintf(priv->peer, sizeof(priv->peer), "%.80s (%s)", uri->host, first);
	return 0;
}

static void tcp_close(ax_transport_priv *priv)
{
	if (!priv)
		return;
	tcp_disconnect(priv);
	if (priv->cancel_fd >= 0)
		close(priv->cancel_fd);
	priv->host->free(priv);
}

static int tcp_open(ax_transport_priv **out, const ax_host *host, const ax_uri *uri, int timeout_ms)
{
	ax_transport_priv *priv;
	struct tcp_fail f;
	long long uri_timeout = 0;
	uint16_t port = 0;
	int err;

	/* mcb_request and mcb_reply_value arrived with ABI 1.1: refuse an older table. */
	if (host->size < offsetof(ax_host, mcb_reply_value) + sizeof(host->mcb_reply_value))
		return host->error(host, AX_EABI,
		                   "host table of %u bytes (ABI %u.%u) lacks the "
		                   "MCB request helpers of ABI 1.1",
		                   (unsigned)host->size, (unsigned)host->abi_major,
		                   (unsigned)host->abi_minor);
	err = tcp_check_uri(host, uri, &port);
	if (err < 0)
		return err;
	err = host->uri_int(host, uri, "timeout_ms", 1, TCP_MAX_TIMEOUT_MS, &uri_timeout);
	if (err == AX_ENOTFOUND)
		uri_timeout = TCP_DEFAULT_TIMEOUT_MS;
	else if (err < 0)
		return err;

	priv = host->calloc(1, sizeof(*priv));
	if (!priv)
		return host->error(host, AX_ENOMEM, "out of memory");
	priv->host = host;
	priv->fd = -1;
	priv->timeout_ms = (int)uri_timeout;
	priv->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (priv->cancel_fd < 0) {
		err = host->error(host, AX_EIO, "cannot create the cancel eventfd: %s",
		                  strerror(errno));
		goto fail;
	}
	err = tcp_resolve(priv, uri, port);
	if (err < 0)
		goto fail;

	/* Connect now, so that a wrong address fails the open rather than the first read. */
	if (timeout_ms <= 0)
		timeout_ms = priv->timeout_ms;
	err = tcp_connect(priv, host->now_ns() + (uint64_t)timeout_ms * 1000000u, timeout_ms, &f);
	if (err < 0) {
		err = host->error(host, err, "cannot connect to %s: %s", priv->peer, f.why);
		goto fail;
	}
	*out = priv;
	return 0;

fail:
	tcp_close(priv);
	return err;
}

static int tcp_cancel(ax_transport_priv *priv)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, so a cancel is pending anyway. */
	if (write(priv->cancel_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return priv->host->error(priv->host, AX_EIO,
		                         "cannot signal cancel to the request on %s: %s",
		                         priv->peer, strerror(errno));
	return 0;
}

static int tcp_read(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
                    size_t cap, size_t *len_out, int timeout_ms)
{
	const ax_host *host = priv->host;
	uint8_t rbuf[AX_MCB_MAX_FRAME];
	ax_mcb_frame req, reply;
	int err;

	err = host->mcb_request(&req, AX_MCB_READ, subnode, address, NULL, 0);
	if (err < 0)
		return err;
	err = tcp_transact(priv, &req, &reply, rbuf, timeout_ms);
	if (err < 0)
		return err;
	return host->mcb_reply_value(&reply, buf, cap, len_out);
}

static int tcp_write(ax_transport_priv *priv, unsigned subnode, uint32_t address, const void *buf,
                     size_t len, int timeout_ms)
{
	uint8_t rbuf[AX_MCB_MAX_FRAME];
	ax_mcb_frame req, reply;
	int err;

	err = priv->host->mcb_request(&req, AX_MCB_WRITE, subnode, address, buf, len);
	if (err < 0)
		return err;
	return tcp_transact(priv, &req, &reply, rbuf, timeout_ms);
}

static const ax_transport_ops tcp_ops = {
        .size = sizeof(ax_transport_ops),
        .open = tcp_open,
        .close = tcp_close,
        .read = tcp_read,
        .write = tcp_write,
        .cancel = tcp_cancel,
};

static const ax_transport_desc tcp_desc = {
        AX_TRANSPORT_DESC_HEADER,
        .scheme = "tcp",
        .name = "TCP (MCB over a TCP stream)",
        .version = "0.1.0",
        .description = "MCB drives behind a TCP server or gateway, tcp://HOST[:PORT], port 1062",
        .license = "MIT",
        .caps = AX_TRANSPORT_CAP_CANCEL,
        .addr_space = AX_ADDR_MCB,
        .options = tcp_options,
        .ops = &tcp_ops,
};

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void);

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void)
{
	return &tcp_desc;
}
