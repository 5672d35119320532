/* SPDX-License-Identifier: MIT */
/*
 * The `can` transport: CANopen drives on a CAN bus, registers read and
 * written as SDO objects.
 *
 * URIs name the backend, the bus and the node:
 *   can:slcan/dev/ttyACM0?node=5&bitrate=1000000   serial-line CAN adapter
 *   can:socketcand/127.0.0.1:29536/can0?node=5     socketcand server
 *   can:socketcan/can0?node=5                      Linux SocketCAN interface
 *
 * The link speaks the CANopen address space: a register's address is its
 * object's index << 8 | subindex (the dictionary's CANopenObject index
 * and Subitem subindex, src/xdf.c); the subnode is not part of a CANopen
 * address (multi-axis drives give each axis its own indexes) and is only
 * named in messages. Each read is an SDO upload, each write an SDO
 * download, expedited up to 4 bytes and segmented beyond (can_codec.c).
 * The core serializes requests per link, so one request per node is in
 * flight. Links of one context to nodes of one bus share the bus (one
 * slcan tty, socketcand connection or CAN socket; struct can_shared) and
 * take turns on it, one SDO transfer at a time, each within its own
 * deadline and cancel. A scan opens the bus on its own: an slcan tty that
 * links hold is reported busy.
 *
 * Frames of other nodes and protocols are demultiplexed by COB-ID: an SDO
 * response is taken only from 0x580 + the link's node; heartbeats
 * (0x700 + node) and emergencies (0x80 + node) that arrive while a request
 * waits are decoded and logged (the plugin ABI has no event hook to feed).
 * A request that gets no answer is aborted towards the server (abort code
 * 0x05040000, SDO protocol timed out) so that its state machine resets.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "can.h"

/* How long the abort after a failed request may take to leave. */
#define CAN_ABORT_SEND_MS 50

/* A reset node announces itself with a boot-up message within this. */
#define CAN_BOOT_WAIT_MS 2000

/* How often a request waiting for a shared bus looks at its cancel signal. */
#define CAN_ACQUIRE_POLL_MS 5

/*
 * One bus, shared by the links of one context (host table) to its nodes:
 * an slcan tty can be opened only once, and one connection or socket per
 * bus is enough for the others. The registry is the plugin's only state
 * shared between endpoints; its lock is never held across I/O or a log
 * call. A bus carries one SDO transfer at a time (io), whichever node it
 * is for; each link waits for its turn within its own deadline and cancel.
 */
struct can_shared {
	struct can_shared *next;
	const ax_host *host;
	char key[sizeof(((struct can_target *)0)->name)];
	long bitrate;
	int refs;            /* links holding it; under can_registry_lock */
	pthread_mutex_t io;  /* held by the transfer (or the open) using the bus */
	struct can_bus *bus; /* NULL until opened, or when opening failed; under io */
};

static pthread_mutex_t can_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct can_shared *can_registry;

struct ax_transport_priv {
	const ax_host *host;
	struct can_shared *shared;
	struct can_bus *bus; /* shared->bus once open */
	int cancel_fd;       /* eventfd: cancel() makes it readable */
	int node;
	int timeout_ms;
	char name[CAN_PATH_MAX + 48]; /* "node 5 on slcan /dev/ttyACM0" */
};

static const ax_option_desc can_options[] = {
        {"node", AX_OPT_INT, NULL, "CANopen node id 1..127 (a link needs one; a scan probes all)"},
        {"bitrate", AX_OPT_INT, "1000000",
         "CAN bit rate in bit/s (slcan sets it; others: ip link)"},
        {"baud", AX_OPT_INT, "115200", "slcan: line rate of the adapter's tty"},
        {"timeout_ms", AX_OPT_INT, "500", "time for each SDO response"},
        {"nmt", AX_OPT_STRING, "none",
         "NMT command sent to the node when the link opens: none, start, preop, reset"},
        {NULL, 0, NULL, NULL},
};

static int uri_int(const ax_host *host, const ax_uri *uri, const char *key, long long min,
                   long long max, long long *out)
{
	return host->uri_int(host, uri, key, min, max, out);
}

/* Does @uri give @key explicitly? (The plugin does not link libaxlink: no ax_uri_get().) */
static int uri_has(const ax_uri *uri, const char *key)
{
	for (size_t i = 0; i < uri->n_params; i++)
		if (!strcmp(uri->params[i].key, key))
			return 1;
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT" of a socketcand path into @t. */
static int can_parse_hostport(const ax_host *host, const ax_uri *uri, const char *s, size_t n,
                              struct can_target *t)
{
	const char *colon = NULL, *h = s;
	size_t hlen;
	char *end;
	char port[8];
	long v;

	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb || (rb + 1 < s + n && rb[1] != ':'))
			goto bad;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1 < s + n ? rb + 1 : NULL;
	} else {
		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				colon = s + i;
		hlen = colon ? (size_t)(colon - s) : n;
	}
	if (hlen == 0 || hlen >= sizeof(t->host))
		goto bad;
	memcpy(t->host, h, hlen);
	t->host[hlen] = '\0';
	t->port = CAN_SOCKETCAND_PORT;
	if (colon) {
		size_t plen = (size_t)(s + n - colon - 1);

		if (plen == 0 || plen >= sizeof(port))
			goto bad;
		memcpy(port, colon + 1, plen);
		port[plen] = '\0';
		v = strtol(port, &end, 10);
		if (*end || v < 1 || v > 65535)
			goto bad;
		t->port = (int)v;
	}
	return 0;
bad:
	return host->error(host, AX_EINVAL,
	                   "URI '%s': '%.*s' is not HOST:PORT of a socketcand server (e.g. "
	                   "can:socketcand/127.0.0.1:29536/can0)",
	                   uri->text, (int)(n > 64 ? 64 : n), s);
}

static int can_bad_path(const ax_host *host, const ax_uri *uri)
{
	return host->error(host, AX_EINVAL,
	                   "URI '%s' names no CAN bus (expected can:slcan/dev/ttyACM0, "
	                   "can:socketcand/HOST:PORT/can0 or can:socketcan/can0, with ?node=N)",
	                   uri->text);
}

static int can_ifname(const ax_host *host, const ax_uri *uri, const char *s, struct can_target *t)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CAN_IFNAME_MAX || strchr(s, '/'))
		return host->error(host, AX_EINVAL,
		                   "URI '%s': '%s' is not a CAN interface name (1..15 characters, "
		                   "no '/', e.g. can0)",
		                   uri->text, s);
	memcpy(t->dev, s, n + 1);
	return 0;
}

int can_uri_parse(const ax_host *host, const ax_uri *uri, struct can_target *t,
                  struct can_uri_opts *o)
{
	static const struct {
		const char *name;
		int cmd;
	} nmts[] = {{"none", 0},
	            {"start", CAN_NMT_START},
	            {"preop", CAN_NMT_PREOP},
	            {"reset", CAN_NMT_RESET_NODE}};
	const char *p = uri->path, *nmt;
	long long v;
	int err;

	memset(t, 0, sizeof(*t));
	memset(o, 0, sizeof(*o));
	if (uri->authority)
		return host->error(host, AX_EINVAL,
		                   "URI '%s': a CAN bus is 'can:BACKEND/...', without '//' (e.g. "
		                   "can:slcan/dev/ttyACM0)",
		                   uri->text);
	if (!strncmp(p, "slcan/", 6)) {
		t->kind = CAN_SLCAN;
		p += 5;
		if (strlen(p) < 2 || strlen(p) >= sizeof(t->dev))
			return host->error(host, AX_EINVAL,
			                   "URI '%s': slcan needs the adapter's tty as an absolute "
			                   "path (e.g. can:slcan/dev/ttyACM0)",
			                   uri->text);
		memcpy(t->dev, p, strlen(p) + 1);
		(void)snprintf(t->name, sizeof(t->name), "slcan %s", t->dev);
	} else if (!strncmp(p, "socketcand/", 11)) {
		const char *hp = p + 11, *slash = strchr(hp, '/');

		t->kind = CAN_SOCKETCAND;
		if (!slash)
			return host->error(
			        host, AX_EINVAL,
			        "URI '%s': socketcand needs the server and the bus (e.g. "
			        "can:socketcand/127.0.0.1:29536/can0)",
			        uri->text);
		err = can_parse_hostport(host, uri, hp, (size_t)(slash - hp), t);
		if (err == 0)
			err = can_ifname(host, uri, slash + 1, t);
		if (err < 0)
			return err;
		(void)snprintf(t->name, sizeof(t->name), "socketcand %.*s/%s",
		               (int)(slash - hp > 200 ? 200 : slash - hp), hp, t->dev);
	} else if (!strncmp(p, "socketcan/", 10)) {
		t->kind = CAN_SOCKETCAN;
		err = can_ifname(host, uri, p + 10, t);
		if (err < 0)
			return err;
		(void)snprintf(t->name, sizeof(t->name), "socketcan %s", t->dev);
	} else {
		return can_bad_path(host, uri);
	}

	err = uri_int(host, uri, "node", 1, CAN_NODE_MAX, &v);
	if (err == 0)
		o->node = (int)v;
	else if (err != AX_ENOTFOUND)
		return err;
	err = uri_int(host, uri, "bitrate", 10000, 1000000, &v);
	if (err < 0)
		return err;
	t->bitrate = (long)v;
	t->bitrate_given = uri_has(uri, "bitrate");
	err = uri_int(host, uri, "baud", 1200, 4000000, &v);
	if (err < 0)
		return err;
	t->baud = (int)v;
	err = uri_int(host, uri, "timeout_ms", 1, CAN_MAX_TIMEOUT_MS, &v);
	if (err < 0)
		return err;
	o->timeout_ms = (int)v;
	nmt = host->uri_str(host, uri, "nmt");
	o->nmt = -1;
	for (size_t i = 0; nmt && i < CAN_COUNT(nmts); i++)
		if (!strcmp(nmt, nmts[i].name))
			o->nmt = nmts[i].cmd;
	if (o->nmt < 0)
		return host->error(host, AX_EINVAL,
		                   "URI '%s': nmt '%s' is not none, start, preop or reset",
		                   uri->text, nmt ? nmt : "");
	/* What a scan result repeats so that its URI reopens the bus as it was scanned. */
	if (t->bitrate_given)
		(void)snprintf(o->query, sizeof(o->query), "&bitrate=%ld", t->bitrate);
	if (uri_has(uri, "baud"))
		(void)snprintf(o->query + strlen(o->query), sizeof(o->query) - strlen(o->query),
		               "&baud=%d", t->baud);
	if (uri_has(uri, "timeout_ms"))
		(void)snprintf(o->query + strlen(o->query), sizeof(o->query) - strlen(o->query),
		               "&timeout_ms=%d", o->timeout_ms);
	if (t->bitrate_given && t->kind != CAN_SLCAN && host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "%s: the bus's bit rate is set outside axlink (ip link set ... bitrate), "
		          "not by the URI's bitrate",
		          t->name);
	return 0;
}

void can_consume(const ax_host *host, const char *bus_name, const struct can_msg *m)
{
	unsigned node = m->id & 0x7Fu;

	if (m->ext || m->rtr || node == 0)
		return;
	if ((m->id & ~0x7Fu) == CAN_COB_HEARTBEAT && m->len == 1) {
		const char *state = can_nmt_state_name(m->data[0] & 0x7F);

		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG, "%s: node %u %s (0x%02X)", bus_name, node,
			          m->data[0] == 0 ? "boot-up"
			          : state         ? state
			                          : "heartbeat in an unknown state",
			          m->data[0]);
	} else if ((m->id & ~0x7Fu) == CAN_COB_EMCY && m->len == 8) {
		unsigned code = m->data[0] | m->data[1] << 8;

		host->log(host, code ? AX_LOG_WARN : AX_LOG_INFO,
		          "%s: node %u emergency: error code 0x%04X%s, error register 0x%02X, "
		          "vendor data %02X %02X %02X %02X %02X",
		          bus_name, node, code, code ? "" : " (error reset or no error)",
		          m->data[2], m->data[3], m->data[4], m->data[5], m->data[6], m->data[7]);
	}
}

static uint64_t ms_from_now(const ax_host *host, int ms)
{
	return host->now_ns() + (uint64_t)ms * 1000000u;
}

/* Take what is queued before a request (late answers, heartbeats) so it starts clean. */
static int can_drain(ax_transport_priv *priv)
{
	struct can_msg m;

	for (;;) {
		int r = can_bus_recv(priv->bus, &m, 0);

		if (r != 0)
			return r == CAN_BUS_TIMEOUT ? 0 : r;
		can_consume(priv->host, priv->name, &m);
	}
}

/* Best effort: tell the server to drop the transfer (it may be gone; nothing to wait for). */
static void can_abort_send(ax_transport_priv *priv, const struct can_sdo_xfer *x, uint32_t code)
{
	struct can_msg m;

	can_sdo_abort_frame(&m, x->node, x->index, x->sub, code);
	(void)can_bus_send(priv->bus, &m, ms_from_now(priv->host, CAN_ABORT_SEND_MS));
}

/*
 * Run SDO transfer @x to its end: send, take responses (others are logged
 * or skipped), send what the state machine says, each response within
 * @timeout_ms. @verb and @subnode name the request in messages.
 */
static int can_transfer_locked(ax_transport_priv *priv, struct can_sdo_xfer *x, const char *verb,
                               unsigned subnode, int timeout)
{
	const ax_host *host = priv->host;
	uint64_t deadline;
	struct can_msg m;
	int err;

	(void)can_bus_take_refusals(priv->bus);
	err = can_drain(priv);
	if (err < 0)
		return err;
	deadline = ms_from_now(host, timeout);
	err = can_bus_send(priv->bus, &x->next, deadline);
	if (err < 0)
		return err;
	for (;;) {
		int r = can_bus_recv(priv->bus, &m, deadline);

		if (r == CAN_BUS_TIMEOUT) {
			unsigned refused = can_bus_take_refusals(priv->bus);

			can_abort_send(priv, x, CAN_ABORT_TIMEOUT);
			return host->error(host, AX_ETIMEDOUT,
			                   "no SDO response from %s to %s of object 0x%04X:%02X "
			                   "(subnode %u) within %d ms%s",
			                   priv->name, verb, x->index, x->sub, subnode, timeout,
			                   refused ? "; the adapter refused frames (BEL): is the "
			                             "bus connected and the bit rate right?"
			                           : "");
		}
		if (r == AX_ECANCELED)
			can_abort_send(priv, x, CAN_ABORT_GENERAL);
		if (r < 0)
			return r;
		can_consume(host, priv->name, &m);
		r = can_sdo_step(x, &m);
		switch (r) {
		case CAN_SDO_SKIP:
			continue;
		case CAN_SDO_DONE:
			return 0;
		case CAN_SDO_SEND:
			deadline = ms_from_now(host, timeout);
			err = can_bus_send(priv->bus, &x->next, deadline);
			if (err < 0)
				return err;
			continue;
		case CAN_SDO_EABORT: {
			const char *text = can_sdo_abort_text(x->abort_code);

			if (host->log_enabled(host, AX_LOG_DEBUG))
				host->log(host, AX_LOG_DEBUG,
				          "%s aborted %s of 0x%04X:%02X: 0x%08X (%s)", priv->name,
				          verb, x->index, x->sub, (unsigned)x->abort_code,
				          text ? text : "not a CiA 301 code");
			/* The core words it for the CANopen space and keeps the code. */
			return host->drive_error(host, x->abort_code,
			                         x->upload ? AX_MCB_READ : AX_MCB_WRITE, subnode,
			                         (uint32_t)x->index << 8 | x->sub);
		}
		default:
			/* Protocol error or too big: x->next is the abort for the server. */
			(void)can_bus_send(priv->bus, &x->next,
			                   ms_from_now(host, CAN_ABORT_SEND_MS));
			return host->error(host, r == CAN_SDO_ETOOBIG ? AX_ETOOBIG : AX_EPROTO,
			                   "%s of object 0x%04X:%02X on %s: %s", verb, x->index,
			                   x->sub, priv->name, x->why);
		}
	}
}

/* Forget cancels that arrived while no request ran: cancel() aborts what is in flight. */
static void can_drain_cancel(ax_transport_priv *priv)
{
	uint64_t count;

	if (read(priv->cancel_fd, &count, sizeof(count)) == (ssize_t)sizeof(count) &&
	    priv->host->log_enabled(priv->host, AX_LOG_DEBUG))
		priv->host->log(priv->host, AX_LOG_DEBUG,
		                "dropped a cancel that arrived between requests on %s", priv->name);
}

/*
 * Take the shared bus for one exchange, by @deadline and watching this
 * link's cancel: 0, AX_ETIMEDOUT, AX_ECANCELED, or AX_EIO when opening
 * the bus failed (in another link's open).
 */
static int can_acquire(ax_transport_priv *priv, uint64_t deadline, int timeout)
{
	const ax_host *host = priv->host;
	struct can_shared *sh = priv->shared;

	for (;;) {
		struct pollfd pfd = {.fd = priv->cancel_fd, .events = POLLIN};

		if (pthread_mutex_trylock(&sh->io) == 0) {
			if (sh->bus) {
				can_bus_set_cancel(sh->bus, priv->cancel_fd);
				return 0;
			}
			pthread_mutex_unlock(&sh->io);
			return host->error(host, AX_EIO,
			                   "cannot open %s (the link that was opening it failed)",
			                   sh->key);
		}
		if (poll(&pfd, 1, CAN_ACQUIRE_POLL_MS) > 0)
			return host->error(host, AX_ECANCELED,
			                   "request to %s cancelled while waiting for the bus",
			                   priv->name);
		if (host->now_ns() >= deadline)
			return host->error(
			        host, AX_ETIMEDOUT,
			        "%s: the bus stayed busy with requests to other nodes for "
			        "%d ms",
			        priv->name, timeout);
	}
}

static void can_release(ax_transport_priv *priv)
{
	can_bus_set_cancel(priv->shared->bus, -1);
	pthread_mutex_unlock(&priv->shared->io);
}

/* Find or open the bus @t names for @priv (within @timeout_ms). */
static int can_shared_get(ax_transport_priv *priv, const struct can_target *t, int timeout_ms)
{
	const ax_host *host = priv->host;
	struct can_shared *sh;
	int created = 0, err;

	pthread_mutex_lock(&can_registry_lock);
	for (sh = can_registry; sh; sh = sh->next)
		if (sh->host == host && !strcmp(sh->key, t->name))
			break;
	if (sh && sh->bitrate != t->bitrate) {
		long rate = sh->bitrate;

		pthread_mutex_unlock(&can_registry_lock);
		return host->error(host, AX_EBUSY,
		                   "%s is open at %ld bit/s by another link; this URI asks for %ld",
		                   t->name, rate, t->bitrate);
	}
	if (!sh) {
		sh = host->calloc(1, sizeof(*sh));
		if (!sh) {
			pthread_mutex_unlock(&can_registry_lock);
			return host->error(host, AX_ENOMEM, "out of memory");
		}
		sh->host = host;
		(void)snprintf(sh->key, sizeof(sh->key), "%s", t->name);
		sh->bitrate = t->bitrate;
		pthread_mutex_init(&sh->io, NULL);
		/* Held until the bus is open: links to other nodes wait for it. */
		pthread_mutex_lock(&sh->io);
		sh->next = can_registry;
		can_registry = sh;
		created = 1;
	}
	sh->refs++;
	priv->shared = sh;
	pthread_mutex_unlock(&can_registry_lock);
	if (created) {
		err = can_bus_open(&sh->bus, host, t, timeout_ms, NULL);
		pthread_mutex_unlock(&sh->io);
	} else {
		err = can_acquire(priv, ms_from_now(host, timeout_ms), timeout_ms);
		if (err == 0)
			can_release(priv);
	}
	if (err == 0)
		priv->bus = sh->bus;
	return err;
}

/* Drop @priv's hold on its bus; the last link closes it. */
static void can_shared_put(ax_transport_priv *priv)
{
	struct can_shared *sh = priv->shared, **pp;
	int last;

	if (!sh)
		return;
	pthread_mutex_lock(&can_registry_lock);
	last = --sh->refs == 0;
	for (pp = &can_registry; last && *pp; pp = &(*pp)->next)
		if (*pp == sh) {
			*pp = sh->next;
			break;
		}
	pthread_mutex_unlock(&can_registry_lock);
	priv->shared = NULL;
	if (!last)
		return;
	can_bus_close(sh->bus);
	pthread_mutex_destroy(&sh->io);
	sh->host->free(sh);
}

/* One SDO transfer with the bus to itself (see can_transfer_locked()). */
static int can_transfer(ax_transport_priv *priv, struct can_sdo_xfer *x, const char *verb,
                        unsigned subnode, int timeout_ms)
{
	int timeout = timeout_ms > 0 ? timeout_ms : priv->timeout_ms;
	int err;

	can_drain_cancel(priv);
	err = can_acquire(priv, ms_from_now(priv->host, timeout), timeout);
	if (err < 0)
		return err;
	err = can_transfer_locked(priv, x, verb, subnode, timeout);
	can_release(priv);
	return err;
}

static int can_check_address(ax_transport_priv *priv, uint32_t address)
{
	if (address > 0xFFFFFFu || address >> 8 == 0)
		return priv->host->error(priv->host, AX_EINVAL,
		                         "address 0x%X is not a CANopen object (index << 8 | "
		                         "subindex, index 0x0001..0xFFFF)",
		                         (unsigned)address);
	return 0;
}

static int can_read(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
                    size_t cap, size_t *len_out, int timeout_ms)
{
	struct can_sdo_xfer x;
	int err = can_check_address(priv, address);

	if (err < 0)
		return err;
	can_sdo_upload_start(&x, (uint8_t)priv->node, (uint16_t)(address >> 8), (uint8_t)address,
	                     buf, cap);
	err = can_transfer(priv, &x, "read", subnode, timeout_ms);
	if (err < 0)
		return err;
	*len_out = x.len;
	return 0;
}

static int can_write(ax_transport_priv *priv, unsigned subnode, uint32_t address, const void *buf,
                     size_t len, int timeout_ms)
{
	struct can_sdo_xfer x;
	int err = can_check_address(priv, address);

	if (err < 0)
		return err;
	can_sdo_download_start(&x, (uint8_t)priv->node, (uint16_t)(address >> 8), (uint8_t)address,
	                       buf, len);
	return can_transfer(priv, &x, "write", subnode, timeout_ms);
}

static int can_cancel(ax_transport_priv *priv)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, a cancel is pending anyway. */
	if (write(priv->cancel_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return priv->host->error(priv->host, AX_EIO,
		                         "cannot signal cancel to the request on %s: %s",
		                         priv->name, strerror(errno));
	return 0;
}

static void can_close(ax_transport_priv *priv)
{
	if (!priv)
		return;
	can_shared_put(priv);
	if (priv->cancel_fd >= 0)
		close(priv->cancel_fd);
	priv->host->free(priv);
}

/* Send NMT @cmd to the link's node; after a reset, wait for its boot-up message. */
static int can_nmt(ax_transport_priv *priv, int cmd, int timeout_ms)
{
	const ax_host *host = priv->host;
	uint64_t deadline = ms_from_now(host, timeout_ms);
	struct can_msg m;
	int err;

	can_nmt_frame(&m, (uint8_t)cmd, (uint8_t)priv->node);
	err = can_bus_send(priv->bus, &m, deadline);
	if (err < 0 || cmd != CAN_NMT_RESET_NODE)
		return err;
	deadline = ms_from_now(host, CAN_BOOT_WAIT_MS);
	for (;;) {
		int r = can_bus_recv(priv->bus, &m, deadline);

		if (r == CAN_BUS_TIMEOUT)
			return host->error(
			        host, AX_ETIMEDOUT,
			        "%s sent no boot-up message within %d ms of its NMT reset",
			        priv->name, CAN_BOOT_WAIT_MS);
		if (r < 0)
			return r;
		can_consume(host, priv->name, &m);
		if (m.id == CAN_COB_HEARTBEAT + (unsigned)priv->node && m.len == 1 && !m.data[0])
			return 0;
	}
}

static int can_open(ax_transport_priv **out, const ax_host *host, const ax_uri *uri, int timeout_ms)
{
	ax_transport_priv *priv;
	struct can_target t;
	struct can_uri_opts o;
	int err;

	err = can_uri_parse(host, uri, &t, &o);
	if (err < 0)
		return err;
	if (!o.node)
		return host->error(host, AX_EINVAL,
		                   "URI '%s' names no node: add ?node=N (1..127), or scan the bus "
		                   "to list its nodes",
		                   uri->text);
	priv = host->calloc(1, sizeof(*priv));
	if (!priv)
		return host->error(host, AX_ENOMEM, "out of memory");
	priv->cancel_fd = -1;
	priv->host = host;
	priv->node = o.node;
	priv->timeout_ms = timeout_ms > 0 ? timeout_ms : o.timeout_ms;
	(void)snprintf(priv->name, sizeof(priv->name), "node %d on %s", o.node, t.name);
	priv->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (priv->cancel_fd < 0) {
		err = host->error(host, AX_EIO, "cannot create the cancel eventfd: %s",
		                  strerror(errno));
		goto fail;
	}
	err = can_shared_get(priv, &t, priv->timeout_ms < 1000 ? 1000 : priv->timeout_ms);
	if (err < 0)
		goto fail;
	if (o.nmt) {
		err = can_acquire(priv, ms_from_now(host, priv->timeout_ms), priv->timeout_ms);
		if (err == 0) {
			err = can_nmt(priv, o.nmt, priv->timeout_ms);
			can_release(priv);
		}
		if (err < 0)
			goto fail;
	}
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "opened %s, %d ms per SDO response", priv->name,
		          priv->timeout_ms);
	*out = priv;
	return 0;
fail:
	can_close(priv);
	return err;
}

static const ax_transport_ops can_ops = {
        .size = sizeof(ax_transport_ops),
        .open = can_open,
        .close = can_close,
        .read = can_read,
        .write = can_write,
        .cancel = can_cancel,
        .scan = can_scan,
};

static const ax_transport_desc can_desc = {
        AX_TRANSPORT_DESC_HEADER,
        .scheme = "can",
        .name = "CAN bus (CANopen SDO over slcan, socketcand, SocketCAN)",
        .version = "0.1.0",
        .description = "CANopen drives on a CAN bus: serial-line adapters, socketcand, SocketCAN",
        .license = "MIT",
        .caps = AX_TRANSPORT_CAP_CANCEL | AX_TRANSPORT_CAP_SCAN,
        .addr_space = AX_ADDR_CANOPEN,
        .options = can_options,
        .ops = &can_ops,
};

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void);

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void)
{
	return &can_desc;
}
