/* SPDX-License-Identifier: MIT */
/*
 * Ethernet discovery: probe a host, a list of hosts or an IPv4 range for MCB
 * drives, all in parallel, within one deadline.
 *
 * Everything runs as one event loop over one unconnected UDP socket per
 * address family. Every target gets a product-code read (subnode 0, 0x6E1);
 * silent targets get the same probe once more halfway through the probe
 * window, since UDP may lose the first. A target that answers (with the
 * value or with an error reply: either way an MCB drive) becomes a
 * responder, and its remaining identity registers are read one after the
 * other at once, while other probes are still out: one request in flight
 * per drive, all drives in flight together, so a /24 of drives takes a few
 * round trips and not 254 timeouts.
 *
 * Silent targets end as early as the network allows (issue 21):
 * - The sockets ask for ICMP errors (IP_RECVERR / IPV6_RECVERR). A host
 *   without the MCB port answers port-unreachable, a network without the
 *   host host-unreachable (its router's, or our own ARP giving up): the
 *   error names the address probed, and that target is settled at once.
 * - The rest are waited for adaptively: ETH_SCAN_WAIT_FACTOR times the
 *   slowest probe reply seen, at least a floor (T/8, and 100 ms; T = the
 *   scan's timeout: a caller who gives more time expects slower drives),
 *   counted from the last first probe sent; the second probe goes out
 *   halfway. The caller's deadline bounds it: probes are answered until
 *   T/2 at most, the identity reads may run to T. (Before: silent targets
 *   held every scan open until T/2.)
 * Each identity request is sent again once if its reply is late (T/8,
 * clamped), then skipped. At T whatever is known is reported. Targets that
 * never answer are not reported: over UDP a host without a drive and no
 * host at all look the same.
 */
#define _GNU_SOURCE /* struct in6_pktinfo and friends of <linux/errqueue.h> users */

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eth.h"

/* Ranges wider than this name too many hosts to probe in one deadline. */
#define SCAN_MIN_PREFIX 16

/* Identity reads after the probe (the product code), in the order they are made. */
static const uint16_t ident_regs[] = {AX_MCB_REG_VENDOR_ID, AX_MCB_REG_REVISION, AX_MCB_REG_SERIAL,
                                      AX_MCB_REG_SW_VERSION};
#define N_IDENT (sizeof(ident_regs) / sizeof(ident_regs[0]))

/* Sends of one request: the first, and one resend. */
#define SCAN_TRIES 2
/* Datagrams sent or received per pass, so neither direction starves the other. */
#define SCAN_BATCH 64
/* Longest host name in a list (DNS allows 253 characters). */
#define SCAN_MAX_NAME 256
/* Longest poll() sleep, so that scan_cancelled() is seen promptly. */
#define SCAN_MAX_SLEEP_MS 50
/* Receive buffer asked for, so a burst of replies from a /24 is not dropped. */
#define SCAN_RCVBUF (1 << 20)
/* Silent targets are waited for this many times the slowest probe reply... */
#define ETH_SCAN_WAIT_FACTOR 4
/* ...and at least 1/ETH_SCAN_WAIT_FLOOR_DIV of the scan's time, and this long. */
#define ETH_SCAN_WAIT_FLOOR_DIV 8
#define ETH_SCAN_WAIT_FLOOR_MS 100

enum target_state {
	T_WAIT = 0, /* probed (or about to be), no answer yet */
	T_IDENT,    /* answered; identity reads in flight */
	T_DONE,     /* reported */
	T_FAILED,   /* could not even be probed, or the network said nobody is there */
};

struct scan_target {
	eth_addr addr;
	uint8_t state;    /* an enum target_state */
	uint32_t drive;   /* index in scan.drives once answered */
	uint64_t sent_ns; /* its last probe */
};

struct scan_drive {
	size_t target;
	uint8_t step;   /* index into ident_regs; N_IDENT when all were tried */
	uint8_t tries;  /* sends of ident_regs[step] */
	uint8_t unsent; /* its last send met a full socket buffer */
	uint64_t sent_ns;
	ax_scan_result id; /* the identity fields and known bits read so far */
	char sw[AX_MCB_MAX_PAYLOAD + 1];
};

struct scan {
	const ax_host *host;
	void *sink;
	const char *spec;
	struct scan_target *targets;
	size_t n_targets;
	struct scan_drive *drives;
	size_t n_drives, cap_drives;
	size_t in_flight;    /* responders not reported yet */
	size_t settled;      /* targets that answered or failed */
	size_t next_probe;   /* first probe round: next target */
	size_t next_reprobe; /* second probe round: next target */
	int fd4, fd6;
	int blocked; /* a send met a full socket buffer: wait for POLLOUT */
	int emitted;
	uint64_t reprobe_at, probe_end, deadline, resend_ns;
	uint64_t probe_cap;     /* the latest probe_end may be: T/2 */
	uint64_t probed_ns;     /* the last first probe went out (the wait counts from it) */
	uint64_t slowest_ns;    /* slowest probe reply so far */
	uint64_t wait_floor_ns; /* the least silent targets are waited for */
	size_t refused;         /* targets the network said nobody is at */
	uint64_t next_timer;    /* earliest identity resend due */
	uint8_t probe_frame[AX_MCB_FRAME_SIZE];
	uint8_t ident_frame[N_IDENT][AX_MCB_FRAME_SIZE];
};

/* Order of targets: family, address, port (IPv4 numerically, so ranges stay sorted). */
static int addr_cmp(const eth_addr *a, const eth_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return a->sa.sa_family < b->sa.sa_family ? -1 : 1;
	if (a->sa.sa_family == AF_INET) {
		uint32_t x = ntohl(a->in.sin_addr.s_addr), y = ntohl(b->in.sin_addr.s_addr);

		if (x != y)
			return x < y ? -1 : 1;
		if (a->in.sin_port != b->in.sin_port)
			return ntohs(a->in.sin_port) < ntohs(b->in.sin_port) ? -1 : 1;
		return 0;
	}
	{
		int c = memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(a->in6.sin6_addr));

		if (c)
			return c;
	}
	if (a->in6.sin6_port != b->in6.sin6_port)
		return ntohs(a->in6.sin6_port) < ntohs(b->in6.sin6_port) ? -1 : 1;
	return 0;
}

static int target_cmp(const void *a, const void *b)
{
	return addr_cmp(&((const struct scan_target *)a)->addr,
	                &((const struct scan_target *)b)->addr);
}

static struct scan_target *target_find(struct scan *s, const eth_addr *from)
{
	size_t lo = 0, hi = s->n_targets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = addr_cmp(from, &s->targets[mid].addr);

		if (c == 0)
			return &s->targets[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void addr_set_v4(eth_addr *a, uint32_t host_order, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->in.sin_family = AF_INET;
	a->in.sin_addr.s_addr = htonl(host_order);
	a->in.sin_port = htons(port);
}

/* "/28" -> 28. Returns 0, or AX_EINVAL with a message. */
static int parse_prefix(struct scan *s, const char *path, unsigned *out)
{
	const ax_host *host = s->host;
	const char *digits = path + 1;
	size_t n = strspn(digits, "0123456789");
	unsigned v = 0;

	if (n == 0 || n > 3 || digits[n] != '\0')
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': '%s' is not a CIDR prefix length (expected "
		                   "e.g. eth://192.168.1.0/24)",
		                   s->spec, path);
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(digits[i] - '0');
	if (v > 32)
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': prefix /%u is longer than the 32 bits of an "
		                   "IPv4 address",
		                   s->spec, v);
	if (v < SCAN_MIN_PREFIX)
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': prefix /%u names %llu addresses, too many to "
		                   "probe; split it into ranges of /%d or narrower",
		                   s->spec, v, 1ull << (32 - v), SCAN_MIN_PREFIX);
	*out = v;
	return 0;
}

/* Targets of an IPv4 CIDR range, in address order. */
static int targets_from_range(struct scan *s, const char *base_text, const char *path,
                              uint16_t port)
{
	const ax_host *host = s->host;
	struct in_addr base;
	unsigned char v6[sizeof(struct in6_addr)];
	uint32_t first, size, mask;
	unsigned prefix = 0;
	size_t n = 0;
	int err;

	err = parse_prefix(s, path, &prefix);
	if (err < 0)
		return err;
	if (strchr(base_text, ','))
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': a CIDR range takes one base address, not a "
		                   "list",
		                   s->spec);
	if (inet_pton(AF_INET6, base_text, v6) == 1)
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': address ranges are IPv4 only (list IPv6 "
		                   "hosts one by one)",
		                   s->spec);
	if (inet_pton(AF_INET, base_text, &base) != 1)
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': '%s' is not an IPv4 address (a range needs a "
		                   "numeric base such as 192.168.1.0)",
		                   s->spec, base_text);

	mask = prefix == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> prefix);
	first = ntohl(base.s_addr) & mask;
	size = prefix == 32 ? 1u : 1u << (32 - prefix);
	if ((ntohl(base.s_addr) & ~mask) && host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "'%s': host bits of %s ignored, the range starts "
		          "at its network address",
		          s->spec, base_text);
	/* A /31 (point to point) or /32 has no network or broadcast address to skip. */
	if (prefix <= 30) {
		first++;
		size -= 2;
	}
	s->targets = host->calloc(size, sizeof(*s->targets));
	if (!s->targets)
		return host->error(host, AX_ENOMEM, "out of memory for %u scan targets",
		                   (unsigned)size);
	for (uint32_t i = 0; i < size; i++)
		addr_set_v4(&s->targets[n++].addr, first + i, port);
	s->n_targets = n;
	return 0;
}

/* Resolve one host of a list: a literal, or a name through getaddrinfo. */
static int resolve_one(struct scan *s, const char *name, uint16_t port, eth_addr *out)
{
	const ax_host *host = s->host;
	struct addrinfo hints, *res = NULL;
	char service[8];
	int err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = AI_NUMERICSERV;
	(void)snprintf(service, sizeof(service), "%u", (unsigned)port);
	err = getaddrinfo(name, service, &hints, &res);
	if (err != 0)
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': cannot resolve host '%s': %s", s->spec, name,
		                   gai_strerror(err));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    ai->ai_addrlen <= sizeof(*out)) {
			memset(out, 0, sizeof(*out));
			memcpy(out, ai->ai_addr, ai->ai_addrlen);
			freeaddrinfo(res);
			return 0;
		}
	}
	freeaddrinfo(res);
	return host->error(host, AX_EINVAL, "scan target '%s': host '%s' has no IP address",
	                   s->spec, name);
}

/* Targets of "a,b,c" (one host is a list of one), sorted, duplicates dropped. */
static int targets_from_list(struct scan *s, const char *list, uint16_t port)
{
	const ax_host *host = s->host;
	size_t count = 1, n = 0, kept = 0;
	const char *p = list;
	int err;

	for (const char *c = list; *c; c++)
		count += *c == ',';
	s->targets = host->calloc(count, sizeof(*s->targets));
	if (!s->targets)
		return host->error(host, AX_ENOMEM, "out of memory for %zu scan targets", count);
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char name[SCAN_MAX_NAME];

		if (len == 0)
			return host->error(host, AX_EINVAL,
			                   "scan target '%s': empty host in the list (expected "
			                   "eth://HOST,HOST,...)",
			                   s->spec);
		if (len >= sizeof(name))
			return host->error(host, AX_EINVAL,
			                   "scan target '%s': host name of %zu characters is too "
			                   "long",
			                   s->spec, len);
		memcpy(name, p, len);
		name[len] = '\0';
		err = resolve_one(s, name, port, &s->targets[n].addr);
		if (err < 0)
			return err;
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	/* Replies are matched by source address, so each address is probed once. */
	qsort(s->targets, n, sizeof(*s->targets), target_cmp);
	for (size_t i = 0; i < n; i++)
		if (kept == 0 || addr_cmp(&s->targets[i].addr, &s->targets[kept - 1].addr) != 0)
			s->targets[kept++] = s->targets[i];
	s->n_targets = kept;
	return 0;
}

static int scan_parse_targets(struct scan *s, const ax_uri *uri)
{
	const ax_host *host = s->host;
	uint16_t port = 0;
	int err;

	err = eth_uri_port(host, uri, &port);
	if (err < 0)
		return err;
	if (!uri->host[0])
		return host->error(host, AX_EINVAL,
		                   "scan target '%s' names no host (expected eth://HOST, "
		                   "eth://HOST,HOST or eth://NETWORK/PREFIX)",
		                   uri->text);
	if (uri->path[0] && strcmp(uri->path, "/") != 0)
		return targets_from_range(s, uri->host, uri->path, port);
	return targets_from_list(s, uri->host, port);
}

/* The scan's deadline: the caller's, shortened by an explicit timeout_ms key. */
static int scan_timeout(struct scan *s, const ax_uri *uri, int timeout_ms, int *out)
{
	const ax_host *host = s->host;
	long long key = 0;
	int err;

	for (size_t i = 0; i < uri->n_params; i++) {
		if (strcmp(uri->params[i].key, "timeout_ms") != 0)
			continue;
		err = host->uri_int(host, uri, "timeout_ms", 1, ETH_MAX_TIMEOUT_MS, &key);
		if (err < 0)
			return err;
		if (timeout_ms <= 0 || key < timeout_ms)
			timeout_ms = (int)key;
	}
	*out = timeout_ms > 0 ? timeout_ms : 2 * ETH_DEFAULT_TIMEOUT_MS;
	return 0;
}

static int scan_open_socket(struct scan *s, int family, int *out)
{
	const ax_host *host = s->host;
	int fd, rcvbuf = SCAN_RCVBUF, one = 1;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return host->error(host, AX_EIO, "cannot open a UDP%s socket to scan '%s': %s",
		                   family == AF_INET6 ? "/IPv6" : "", s->spec, strerror(errno));
	/* Best effort: the kernel caps it at net.core.rmem_max. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* ICMP errors to the error queue, naming the target (scan_errors()); best effort too. */
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	else
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	*out = fd;
	return 0;
}

static int scan_encode(struct scan *s)
{
	const ax_host *host = s->host;
	ax_mcb_frame f;
	size_t len = 0;
	int err;

	memset(&f, 0, sizeof(f));
	f.node = AX_MCB_NODE;
	f.subnode = 0;
	f.command = AX_MCB_READ;
	f.address = AX_MCB_REG_PRODUCT_CODE;
	err = host->mcb_encode(s->probe_frame, sizeof(s->probe_frame), &len, &f);
	for (size_t i = 0; err == 0 && i < N_IDENT; i++) {
		f.address = ident_regs[i];
		err = host->mcb_encode(s->ident_frame[i], sizeof(s->ident_frame[i]), &len, &f);
	}
	return err;
}

/*
 * Take the ICMP errors queued on @fd (IP_RECVERR): each names the target it
 * answers for. Port or host unreachable settles a target still waiting for
 * its probe: nobody there, no need to wait for it.
 */
static void scan_errors(struct scan *s, int fd)
{
	const ax_host *host = s->host;

	for (int i = 0; i < SCAN_BATCH; i++) {
		union {
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
			                    sizeof(struct sockaddr_in6))];
			struct cmsghdr align;
		} control;
		uint8_t data[AX_MCB_FRAME_SIZE];
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr msg;
		eth_addr to;
		struct scan_target *t;
		const struct sock_extended_err *ee = NULL;
		char where[ETH_ADDR_STR];

		memset(&msg, 0, sizeof(msg));
		memset(&to, 0, sizeof(to));
		msg.msg_name = &to;
		msg.msg_namelen = sizeof(to);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return; /* EAGAIN: none left */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR))
				ee = (const struct sock_extended_err *)(const void *)CMSG_DATA(c);
		if (!ee ||
		    (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6))
			continue;
		t = target_find(s, &to);
		if (!t || t->state != T_WAIT)
			continue;
		switch (ee->ee_errno) {
		case ECONNREFUSED:
		case EHOSTUNREACH:
		case ENETUNREACH:
		case EHOSTDOWN:
			t->state = T_FAILED;
			s->settled++;
			s->refused++;
			if (host->log_enabled(host, AX_LOG_DEBUG)) {
				eth_addr_format(where, sizeof(where), &to);
				host->log(host, AX_LOG_DEBUG, "nothing answers at %s: %s", where,
				          ee->ee_errno == ECONNREFUSED
				                  ? "port unreachable"
				                  : strerror((int)ee->ee_errno));
			}
			break;
		default:
			break;
		}
	}
}

enum send_result { SENT, SEND_BLOCKED, SEND_FAILED };

static int scan_sendto(struct scan *s, const eth_addr *to, const uint8_t *frame, size_t len)
{
	const ax_host *host = s->host;
	int fd = to->sa.sa_family == AF_INET6 ? s->fd6 : s->fd4;
	char where[ETH_ADDR_STR];

	for (int async = 0;;) {
		if (sendto(fd, frame, len, 0, &to->sa, eth_addr_len(to)) == (ssize_t)len)
			break;
		if (errno == EINTR)
			continue;
		/*
		 * The ICMP error of an earlier datagram (IP_RECVERR) is reported by
		 * whichever call comes next, this send included: take the queue
		 * (it says for whom) and send again.
		 */
		if ((errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
		     errno == EHOSTDOWN) &&
		    async++ < SCAN_BATCH) {
			scan_errors(s, fd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			s->blocked = 1;
			return SEND_BLOCKED;
		}
		/* EACCES: a broadcast address inside the range; unreachable hosts; ... */
		if (host->log_enabled(host, AX_LOG_DEBUG)) {
			eth_addr_format(where, sizeof(where), to);
			host->log(host, AX_LOG_DEBUG, "cannot send to %s: %s", where,
			          strerror(errno));
		}
		return SEND_FAILED;
	}
	if (host->log_enabled(host, AX_LOG_TRACE)) {
		eth_addr_format(where, sizeof(where), to);
		eth_trace_frame(host, "tx", where, frame, len);
	}
	return SENT;
}

/* Keep the value of an acknowledged identity read (host->mcb_identity_take). */
static void drive_store(const ax_host *host, struct scan_drive *d, uint16_t reg,
                        const ax_mcb_frame *f)
{
	const uint8_t *p = f->extended ? f->payload : f->data;
	size_t len = f->extended ? f->payload_len : sizeof(f->data);

	/* A value that is no u32 leaves that field unknown; the drive still answered. */
	(void)host->mcb_identity_take(&d->id, d->sw, sizeof(d->sw), reg, p, len);
}

static int scan_emit_drive(struct scan *s, struct scan_drive *d)
{
	const ax_host *host = s->host;
	struct scan_target *t = &s->targets[d->target];
	char detail[ETH_ADDR_STR], uri[ETH_ADDR_STR + 8];
	ax_scan_result r;
	int ret;

	t->state = T_DONE;
	s->in_flight--;
	eth_addr_format(detail, sizeof(detail), &t->addr);
	(void)snprintf(uri, sizeof(uri), "eth://%s", detail);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.uri = uri;
	r.detail = detail;
	r.access = AX_ACCESS_OK;
	r.message = "";
	r.hint = "";
	r.known = d->id.known;
	r.vendor_id = d->id.vendor_id;
	r.product_code = d->id.product_code;
	r.revision = d->id.revision;
	r.serial = d->id.serial;
	r.sw_version = d->sw;
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "drive at %s: product 0x%08X, serial %u, identity bits 0x%02X", detail,
		          (unsigned)d->id.product_code, (unsigned)d->id.serial,
		          (unsigned)d->id.known);
	ret = host->scan_emit(host, s->sink, &r);
	if (ret < 0)
		return ret;
	s->emitted++;
	return 0;
}

/*
 * Send @d's current identity read, or report it once every read was tried.
 * Returns 0, or the negative value that stops the scan.
 */
static int drive_advance(struct scan *s, struct scan_drive *d, uint64_t now)
{
	while (d->step < N_IDENT) {
		int r = scan_sendto(s, &s->targets[d->target].addr, s->ident_frame[d->step],
		                    AX_MCB_FRAME_SIZE);

		if (r == SENT) {
			d->tries++;
			d->sent_ns = now;
			d->unsent = 0;
			if (now + s->resend_ns < s->next_timer)
				s->next_timer = now + s->resend_ns;
			return 0;
		}
		if (r == SEND_BLOCKED) {
			d->unsent = 1;
			return 0;
		}
		/* This register cannot be asked for; try the next one. */
		d->step++;
		d->tries = 0;
	}
	return scan_emit_drive(s, d);
}

static int scan_new_drive(struct scan *s, struct scan_target *t, const ax_mcb_frame *f,
                          int answered, uint64_t now)
{
	const ax_host *host = s->host;
	struct scan_drive *d;

	if (s->n_drives == s->cap_drives) {
		size_t cap = s->cap_drives ? 2 * s->cap_drives : 16;
		struct scan_drive *grown;

		if (cap > s->n_targets)
			cap = s->n_targets;
		grown = host->calloc(cap, sizeof(*grown));
		if (!grown)
			return host->error(host, AX_ENOMEM, "out of memory for %zu responders",
			                   cap);
		if (s->n_drives)
			memcpy(grown, s->drives, s->n_drives * sizeof(*grown));
		host->free(s->drives);
		s->drives = grown;
		s->cap_drives = cap;
	}
	d = &s->drives[s->n_drives];
	memset(d, 0, sizeof(*d));
	d->target = (size_t)(t - s->targets);
	if (answered)
		drive_store(s->host, d, AX_MCB_REG_PRODUCT_CODE, f);
	t->drive = (uint32_t)s->n_drives++;
	t->state = T_IDENT;
	s->settled++;
	s->in_flight++;
	return drive_advance(s, d, now);
}

/*
 * How long silent targets are waited for: ETH_SCAN_WAIT_FACTOR times the
 * slowest probe reply, at least the floor, from the last first probe, never
 * past the cap (T/2). The second probe goes out halfway.
 */
static void scan_window(struct scan *s)
{
	uint64_t wait = s->wait_floor_ns;

	if (!s->probed_ns)
		return; /* first probes still going out: the cap holds */
	if (s->slowest_ns * ETH_SCAN_WAIT_FACTOR > wait)
		wait = s->slowest_ns * ETH_SCAN_WAIT_FACTOR;
	s->probe_end = s->probed_ns + wait;
	if (s->probe_end > s->probe_cap)
		s->probe_end = s->probe_cap;
	s->reprobe_at = s->probed_ns + wait / 2;
	if (s->reprobe_at > s->probe_end)
		s->reprobe_at = s->probe_end;
}

/* Does @f, which came in @len bytes, answer a read of subnode 0 register @reg? */
static int scan_check_answer(const ax_host *host, const ax_mcb_frame *f, size_t len, unsigned reg)
{
	ax_mcb_frame req;
	int err;

	err = host->mcb_request(&req, AX_MCB_READ, 0, reg, NULL, 0);
	if (err < 0)
		return err;
	return host->mcb_check_answer(f, len, &req);
}

/* One datagram from @from. Returns 0, or the negative value that stops the scan. */
static int scan_on_datagram(struct scan *s, const eth_addr *from, const uint8_t *buf, size_t len,
                            uint64_t now)
{
	const ax_host *host = s->host;
	struct scan_target *t = target_find(s, from);
	char where[ETH_ADDR_STR];
	struct scan_drive *d;
	ax_mcb_frame f;
	int err;

	if (host->log_enabled(host, AX_LOG_DEBUG))
		eth_addr_format(where, sizeof(where), from);
	else
		where[0] = '\0';
	if (!t) {
		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG, "ignored a datagram from %s: not a target",
			          where);
		return 0;
	}
	if (len > ETH_RX_SIZE) {
		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG,
			          "ignored a %zu-byte datagram from %s: "
			          "larger than any MCB frame",
			          len, where);
		return 0;
	}
	eth_trace_frame(host, "rx", where, buf, len);
	err = host->mcb_decode(&f, buf, len);
	if (err < 0) {
		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG, "ignored a %zu-byte datagram from %s: %s",
			          len, where, eth_decode_why(err));
		return 0;
	}

	/*
	 * The reply rules of a link (eth.c) hold here too: the reply must be a
	 * read's answer for the register asked, in a datagram that is exactly
	 * one frame (ax_mcb_check_answer()). Anything else is ignored.
	 */
	if (t->state == T_WAIT) {
		err = scan_check_answer(host, &f, len, AX_MCB_REG_PRODUCT_CODE);
		/* An error reply still comes from an MCB drive: report it, minus the product. */
		if (err == 0 || err == AX_EDRIVE) {
			/* A slow responder lengthens the wait for the silent ones. */
			if (now > t->sent_ns && now - t->sent_ns > s->slowest_ns) {
				s->slowest_ns = now - t->sent_ns;
				scan_window(s);
			}
			return scan_new_drive(s, t, &f, err == 0, now);
		}
	} else if (t->state == T_IDENT) {
		d = &s->drives[t->drive];
		err = scan_check_answer(host, &f, len, ident_regs[d->step]);
		if (err == 0)
			drive_store(host, d, ident_regs[d->step], &f);
		if (err == 0 || err == AX_EDRIVE) {
			d->step++;
			d->tries = 0;
			return drive_advance(s, d, now);
		}
	}
	/* A duplicate or late reply (a resend was answered twice): nothing new. */
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "ignored a late or duplicate reply from %s "
		          "(register 0x%03X)",
		          where, (unsigned)f.address);
	return 0;
}

/* Read what is queued on @fd, at most one batch. */
static int scan_receive(struct scan *s, int fd)
{
	uint8_t buf[ETH_RX_SIZE];

	if (fd < 0)
		return 0;
	/* Errors first (a queued one keeps poll() reporting POLLERR until taken). */
	scan_errors(s, fd);
	for (int i = 0; i < SCAN_BATCH; i++) {
		eth_addr from;
		socklen_t flen = sizeof(from);
		ssize_t r;
		int err;

		memset(&from, 0, sizeof(from));
		r = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, &from.sa, &flen);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			/* An ICMP error came (IP_RECVERR): its queue says for whom. */
			scan_errors(s, fd);
			continue;
		}
		err = scan_on_datagram(s, &from, buf, (size_t)r, s->host->now_ns());
		if (err < 0)
			return err;
	}
	return 0;
}

/* First probe round, then the resend to silent targets once it is due. */
static void scan_send_probes(struct scan *s, uint64_t now)
{
	for (int sent = 0; sent < SCAN_BATCH; sent++) {
		struct scan_target *t;
		int r;

		if (s->next_probe < s->n_targets) {
			t = &s->targets[s->next_probe];
		} else if (now >= s->reprobe_at && now < s->probe_end) {
			while (s->next_reprobe < s->n_targets &&
			       s->targets[s->next_reprobe].state != T_WAIT)
				s->next_reprobe++;
			if (s->next_reprobe == s->n_targets)
				return;
			t = &s->targets[s->next_reprobe];
		} else {
			return;
		}
		r = scan_sendto(s, &t->addr, s->probe_frame, sizeof(s->probe_frame));
		if (r == SEND_BLOCKED)
			return;
		if (r == SENT)
			t->sent_ns = now;
		if (r == SEND_FAILED && t->state == T_WAIT) {
			t->state = T_FAILED;
			s->settled++;
		}
		if (s->next_probe < s->n_targets) {
			if (++s->next_probe == s->n_targets) {
				/* Every target probed: the wait for the silent ones starts. */
				s->probed_ns = now;
				scan_window(s);
			}
		} else {
			s->next_reprobe++;
		}
	}
}

/* Identity reads: retry what a full buffer held back, resend late ones once, skip lost ones. */
static int scan_timers(struct scan *s, uint64_t now)
{
	s->next_timer = UINT64_MAX;
	for (size_t i = 0; i < s->n_drives; i++) {
		struct scan_drive *d = &s->drives[i];
		int err = 0;

		if (s->targets[d->target].state != T_IDENT)
			continue;
		if (d->unsent) {
			err = drive_advance(s, d, now);
		} else if (now - d->sent_ns >= s->resend_ns) {
			if (d->tries >= SCAN_TRIES) {
				d->step++;
				d->tries = 0;
			}
			err = drive_advance(s, d, now);
		} else if (d->sent_ns + s->resend_ns < s->next_timer) {
			s->next_timer = d->sent_ns + s->resend_ns;
		}
		if (err < 0)
			return err;
	}
	return 0;
}

static int scan_finished(const struct scan *s, uint64_t now)
{
	if (s->in_flight)
		return 0;
	if (s->next_probe < s->n_targets)
		return 0;
	return s->settled == s->n_targets || now >= s->probe_end;
}

/* How long poll() may sleep. */
static int scan_sleep_ms(const struct scan *s, uint64_t now)
{
	uint64_t wake = s->deadline;

	if (s->next_probe < s->n_targets && !s->blocked)
		return 0;
	if (s->settled < s->n_targets && now < s->probe_end) {
		if (now < s->reprobe_at && s->reprobe_at < wake)
			wake = s->reprobe_at;
		else if (now >= s->reprobe_at && s->next_reprobe < s->n_targets && !s->blocked)
			return 0;
		if (s->probe_end < wake)
			wake = s->probe_end;
	}
	if (s->next_timer < wake)
		wake = s->next_timer;
	if (wake <= now)
		return 0;
	wake = (wake - now + 999999u) / 1000000u;
	return wake > SCAN_MAX_SLEEP_MS ? SCAN_MAX_SLEEP_MS : (int)wake;
}

static int scan_run(struct scan *s)
{
	const ax_host *host = s->host;
	int err;

	for (;;) {
		struct pollfd pfd[2];
		nfds_t nfd = 0;
		uint64_t now = host->now_ns();

		if (now >= s->deadline || host->scan_cancelled(host, s->sink))
			break;
		err = scan_receive(s, s->fd4);
		if (err == 0)
			err = scan_receive(s, s->fd6);
		if (err < 0)
			return err;
		now = host->now_ns();
		s->blocked = 0;
		scan_send_probes(s, now);
		err = scan_timers(s, now);
		if (err < 0)
			return err;
		if (scan_finished(s, now))
			return 0;

		for (int i = 0; i < 2; i++) {
			int fd = i ? s->fd6 : s->fd4;

			if (fd < 0)
				continue;
			pfd[nfd].fd = fd;
			pfd[nfd].events = (short)(POLLIN | (s->blocked ? POLLOUT : 0));
			pfd[nfd].revents = 0;
			nfd++;
		}
		if (poll(pfd, nfd, scan_sleep_ms(s, now)) < 0 && errno != EINTR)
			return host->error(host, AX_EIO, "poll while scanning '%s': %s", s->spec,
			                   strerror(errno));
	}

	/* Out of time: report what each responder told so far. */
	if (s->in_flight && host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "scan of '%s' ended with %zu drive(s) not fully identified", s->spec,
		          s->in_flight);
	for (size_t i = 0; i < s->n_drives; i++) {
		if (s->targets[s->drives[i].target].state != T_IDENT)
			continue;
		err = scan_emit_drive(s, &s->drives[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

int eth_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink)
{
	struct scan s;
	uint64_t start, t_ns;
	int err, have4 = 0, have6 = 0;

	memset(&s, 0, sizeof(s));
	s.host = host;
	s.sink = sink;
	s.spec = target->text;
	s.fd4 = -1;
	s.fd6 = -1;
	s.next_timer = UINT64_MAX;

	err = scan_timeout(&s, target, timeout_ms, &timeout_ms);
	if (err == 0)
		err = scan_parse_targets(&s, target);
	if (err == 0)
		err = scan_encode(&s);
	for (size_t i = 0; err == 0 && i < s.n_targets; i++) {
		have4 |= s.targets[i].addr.sa.sa_family == AF_INET;
		have6 |= s.targets[i].addr.sa.sa_family == AF_INET6;
	}
	if (err == 0 && have4)
		err = scan_open_socket(&s, AF_INET, &s.fd4);
	if (err == 0 && have6)
		err = scan_open_socket(&s, AF_INET6, &s.fd6);
	if (err == 0) {
		start = host->now_ns();
		t_ns = (uint64_t)timeout_ms * 1000000u;
		s.deadline = start + t_ns;
		s.probe_cap = start + t_ns / 2;
		s.wait_floor_ns = t_ns / ETH_SCAN_WAIT_FLOOR_DIV;
		if (s.wait_floor_ns < (uint64_t)ETH_SCAN_WAIT_FLOOR_MS * 1000000u)
			s.wait_floor_ns = (uint64_t)ETH_SCAN_WAIT_FLOOR_MS * 1000000u;
		s.probe_end = s.probe_cap;
		s.reprobe_at = start + t_ns / 4;
		s.resend_ns = t_ns / 8;
		if (s.resend_ns < 10000000u)
			s.resend_ns = 10000000u;
		if (s.resend_ns > 500000000u)
			s.resend_ns = 500000000u;
		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG, "probing %zu target(s) of '%s' within %d ms",
			          s.n_targets, s.spec, timeout_ms);
		err = scan_run(&s);
	}

	if (s.fd4 >= 0)
		close(s.fd4);
	if (s.fd6 >= 0)
		close(s.fd6);
	host->free(s.targets);
	host->free(s.drives);
	return err < 0 ? err : s.emitted;
}
