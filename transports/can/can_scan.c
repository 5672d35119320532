/* SPDX-License-Identifier: MIT */
/*
 * Scanning a CAN bus for CANopen nodes.
 *
 * Every node id (1..127, or the one the URI names) is asked for its
 * identity object's vendor id (0x1018:01) at once, pipelined: all the SDO
 * uploads go out back to back and the answers, demultiplexed by COB-ID
 * (0x580 + node), are taken as they come. A node that answers within the
 * first window is present; it is then asked, one request in flight per
 * node but all nodes in parallel, for the rest of its identity (product
 * 0x1018:02, revision :03, serial :04) and its software version (0x100A),
 * each within the URI's timeout. What a node refuses (an SDO abort) stays
 * unknown; the node is still reported. Results come out in node order,
 * each with a URI that opens a link to that node.
 *
 * `can:` alone (discovery's default target) scans the machine's SocketCAN
 * interfaces; slcan ttys and socketcand servers are probed only when named.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L

#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "can.h"

/* How long the first answers may take: a share of the scan, within these bounds. */
#define SCAN_WINDOW_MIN_MS 100
#define SCAN_WINDOW_MAX_MS 1000
/* Poll the scan's cancel flag at least this often. */
#define SCAN_POLL_MS 40

enum { NODE_ASKED = 1, NODE_ACTIVE, NODE_DONE, NODE_SILENT };

/* Objects read from each node, in order. */
static const struct {
	uint16_t index;
	uint8_t sub;
	uint32_t bit;
} scan_objects[] = {
        {0x1018, 1, AX_SCAN_HAS_VENDOR},     {0x1018, 2, AX_SCAN_HAS_PRODUCT},
        {0x1018, 3, AX_SCAN_HAS_REVISION},   {0x1018, 4, AX_SCAN_HAS_SERIAL},
        {0x100A, 0, AX_SCAN_HAS_SW_VERSION},
};

struct scan_node {
	int state;
	unsigned step; /* index into scan_objects */
	uint64_t asked_ns;
	struct can_sdo_xfer x;
	uint8_t value[32];
	uint32_t known;
	uint32_t id[4]; /* vendor, product, revision, serial */
	char sw[33];
};

struct scan {
	const ax_host *host;
	void *sink;
	struct can_bus *bus;
	const struct can_target *t;
	const struct can_uri_opts *o;
	struct scan_node nodes[CAN_NODE_MAX + 1];
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Ask node @n for its current object. */
static int scan_ask(struct scan *s, int n, uint64_t now)
{
	struct scan_node *sn = &s->nodes[n];
	int err;

	can_sdo_upload_start(&sn->x, (uint8_t)n, scan_objects[sn->step].index,
	                     scan_objects[sn->step].sub, sn->value, sizeof(sn->value) - 1);
	sn->asked_ns = now;
	err = can_bus_send(s->bus, &sn->x.next, now + (uint64_t)s->o->timeout_ms * 1000000u);
	return err;
}

/* Node @n's current object is over (read or refused): ask the next one, or finish. */
static int scan_next(struct scan *s, int n, uint64_t now)
{
	struct scan_node *sn = &s->nodes[n];

	sn->step++;
	if (sn->step >= CAN_COUNT(scan_objects)) {
		sn->state = NODE_DONE;
		return 0;
	}
	return scan_ask(s, n, now);
}

static void scan_take_value(struct scan_node *sn)
{
	uint32_t bit = scan_objects[sn->step].bit;

	if (bit == AX_SCAN_HAS_SW_VERSION) {
		size_t len = sn->x.len;

		/* A VISIBLE_STRING: printable bytes, often NUL padded. */
		while (len && (sn->value[len - 1] == 0 || sn->value[len - 1] == ' '))
			len--;
		for (size_t i = 0; i < len; i++)
			if (sn->value[i] < 0x20 || sn->value[i] > 0x7E)
				return;
		memcpy(sn->sw, sn->value, len);
		sn->sw[len] = '\0';
		if (len)
			sn->known |= bit;
		return;
	}
	if (sn->x.len != 4)
		return;
	sn->id[sn->step] = le32(sn->value);
	sn->known |= bit;
}

/* A frame from the bus during the scan. */
static int scan_frame(struct scan *s, const struct can_msg *m, uint64_t now)
{
	struct scan_node *sn;
	unsigned n;
	int r;

	can_consume(s->host, s->t->name, m);
	if (m->ext || m->rtr || (m->id & ~0x7Fu) != CAN_COB_SDO_TX || !(m->id & 0x7Fu))
		return 0;
	n = m->id & 0x7Fu;
	sn = &s->nodes[n];
	if (sn->state != NODE_ASKED && sn->state != NODE_ACTIVE)
		return 0;
	r = can_sdo_step(&sn->x, m);
	if (r == CAN_SDO_SKIP)
		return 0;
	sn->state = NODE_ACTIVE;
	if (r == CAN_SDO_SEND) {
		sn->asked_ns = now;
		return can_bus_send(s->bus, &sn->x.next,
		                    now + (uint64_t)s->o->timeout_ms * 1000000u);
	}
	if (r == CAN_SDO_DONE)
		scan_take_value(sn);
	else if (s->host->log_enabled(s->host, AX_LOG_DEBUG))
		s->host->log(s->host, AX_LOG_DEBUG, "%s: node %u, object 0x%04X:%02X: %s",
		             s->t->name, n, sn->x.index, sn->x.sub, sn->x.why);
	if (r == CAN_SDO_EPROTO || r == CAN_SDO_ETOOBIG)
		(void)can_bus_send(s->bus, &sn->x.next, now + 50000000u);
	return scan_next(s, (int)n, now);
}

static int scan_emit(struct scan *s, int n)
{
	const ax_host *host = s->host;
	struct scan_node *sn = &s->nodes[n];
	char uri[CAN_HOST_MAX + CAN_PATH_MAX + 160], detail[CAN_PATH_MAX + 48];
	ax_scan_result r;

	if (s->t->kind == CAN_SOCKETCAND)
		(void)snprintf(uri, sizeof(uri), "can:socketcand/%s%s%s:%d/%s?node=%d%s",
		               strchr(s->t->host, ':') ? "[" : "", s->t->host,
		               strchr(s->t->host, ':') ? "]" : "", s->t->port, s->t->dev, n,
		               s->o->query);
	else
		(void)snprintf(uri, sizeof(uri), "can:%s%s?node=%d%s",
		               s->t->kind == CAN_SLCAN ? "slcan" : "socketcan/", s->t->dev, n,
		               s->o->query);
	(void)snprintf(detail, sizeof(detail), "node %d on %s", n, s->t->name);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.uri = uri;
	r.detail = detail;
	r.access = AX_ACCESS_OK;
	r.message = "";
	r.hint = "";
	r.known = sn->known;
	r.vendor_id = sn->id[0];
	r.product_code = sn->id[1];
	r.revision = sn->id[2];
	r.serial = sn->id[3];
	r.sw_version = sn->sw;
	r.os_port = "";
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "%s: vendor 0x%08X, product 0x%08X, revision 0x%08X, serial %u, "
		          "identity bits 0x%02X",
		          detail, (unsigned)sn->id[0], (unsigned)sn->id[1], (unsigned)sn->id[2],
		          (unsigned)sn->id[3], (unsigned)sn->known);
	return host->scan_emit(host, s->sink, &r);
}

/* A bus that could not be opened: one result saying why. */
static int scan_emit_failure(const ax_host *host, void *sink, const struct can_target *t,
                             const char *uri_text, const struct can_open_fail *fail)
{
	ax_scan_result r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.uri = uri_text;
	r.detail = t->name;
	r.access = fail->access;
	r.message = fail->message;
	r.hint = fail->access == AX_ACCESS_BUSY
	                 ? "another program (or an axlink link) holds the bus: "
	                   "close it, or scan through that link's program"
	                 : "";
	r.sw_version = "";
	r.os_port = "";
	ret = host->scan_emit(host, sink, &r);
	return ret < 0 ? ret : 0;
}

/* Scan one bus by @deadline. Returns the number of nodes reported, or a negative value. */
static int scan_bus(const ax_host *host, const struct can_target *t, const struct can_uri_opts *o,
                    const char *uri_text, uint64_t deadline, void *sink)
{
	struct can_open_fail fail = {AX_ACCESS_ERROR, ""};
	struct scan *s;
	uint64_t now = host->now_ns(), window;
	int err, found = 0;
	long long left_ms = (long long)((deadline > now ? deadline - now : 0) / 1000000u);
	long long win_ms = left_ms / 3;

	if (win_ms < SCAN_WINDOW_MIN_MS)
		win_ms = SCAN_WINDOW_MIN_MS;
	if (win_ms > SCAN_WINDOW_MAX_MS)
		win_ms = SCAN_WINDOW_MAX_MS;
	s = host->calloc(1, sizeof(*s));
	if (!s)
		return host->error(host, AX_ENOMEM, "out of memory");
	s->host = host;
	s->sink = sink;
	s->t = t;
	s->o = o;
	err = can_bus_open(&s->bus, host, t,
	                   left_ms > 0 ? (int)(left_ms < 2000 ? left_ms : 2000) : 1, &fail);
	if (err < 0) {
		host->free(s);
		return scan_emit_failure(host, sink, t, uri_text, &fail);
	}
	now = host->now_ns();
	window = now + (uint64_t)win_ms * 1000000u;
	for (int n = 1; n <= CAN_NODE_MAX && err >= 0; n++) {
		if (o->node && n != o->node)
			continue;
		s->nodes[n].state = NODE_ASKED;
		err = scan_ask(s, n, now);
	}
	while (err >= 0 && !host->scan_cancelled(host, sink)) {
		uint64_t until = now + SCAN_POLL_MS * 1000000ull,
		         per = (uint64_t)o->timeout_ms * 1000000u;
		int busy = 0;
		struct can_msg m;

		for (int n = 1; n <= CAN_NODE_MAX; n++) {
			struct scan_node *sn = &s->nodes[n];

			if (sn->state == NODE_ASKED && now >= window)
				sn->state = NODE_SILENT;
			/* A present node that stops answering keeps what it said so far. */
			if (sn->state == NODE_ACTIVE && now >= sn->asked_ns + per) {
				if (host->log_enabled(host, AX_LOG_DEBUG))
					host->log(host, AX_LOG_DEBUG,
					          "%s: node %d did not answer for 0x%04X:%02X",
					          t->name, n, sn->x.index, sn->x.sub);
				sn->state = NODE_DONE;
			}
			busy |= sn->state == NODE_ASKED || sn->state == NODE_ACTIVE;
		}
		if (!busy || now >= deadline)
			break;
		if (until > deadline)
			until = deadline;
		err = can_bus_recv(s->bus, &m, until);
		if (err == 0)
			err = scan_frame(s, &m, host->now_ns());
		else if (err == CAN_BUS_TIMEOUT)
			err = 0;
		now = host->now_ns();
	}
	can_bus_close(s->bus);
	for (int n = 1; n <= CAN_NODE_MAX && err >= 0; n++) {
		if (s->nodes[n].state != NODE_DONE && s->nodes[n].state != NODE_ACTIVE)
			continue;
		err = scan_emit(s, n);
		if (err >= 0)
			found++;
	}
	host->free(s);
	if (err < 0 && err != AX_ECANCELED)
		return err;
	return found;
}

/* Names of the machine's SocketCAN interfaces (can0, vcan0, slcan0...), up to @cap. */
static size_t scan_socketcan_ifaces(char names[][CAN_IFNAME_MAX], size_t cap)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	size_t n = 0;
	int fd;

	if (!ifs)
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (i = ifs; fd >= 0 && i->if_index && n < cap; i++) {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_CAN &&
		    strlen(i->if_name) < CAN_IFNAME_MAX)
			(void)snprintf(names[n++], CAN_IFNAME_MAX, "%s", i->if_name);
	}
	if (fd >= 0)
		close(fd);
	if_freenameindex(ifs);
	return n;
}

int can_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink)
{
	uint64_t deadline = host->now_ns() + (uint64_t)timeout_ms * 1000000u;
	char ifaces[16][CAN_IFNAME_MAX];
	struct can_target t;
	struct can_uri_opts o;
	size_t n;
	int err, found = 0;

	if (target->path[0] || target->authority) {
		err = can_uri_parse(host, target, &t, &o);
		if (err < 0)
			return err;
		return scan_bus(host, &t, &o, target->text, deadline, sink);
	}
	/* `can:` alone: every SocketCAN interface of the machine, one after the other. */
	n = scan_socketcan_ifaces(ifaces, CAN_COUNT(ifaces));
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG,
		          "%zu SocketCAN interface(s) to scan; slcan ttys and socketcand servers "
		          "are scanned when named (can:slcan/dev/ttyACM0)",
		          n);
	for (size_t i = 0; i < n && !host->scan_cancelled(host, sink); i++) {
		char text[64];

		memset(&t, 0, sizeof(t));
		memset(&o, 0, sizeof(o));
		t.kind = CAN_SOCKETCAN;
		(void)snprintf(t.dev, sizeof(t.dev), "%.15s", ifaces[i]);
		(void)snprintf(t.name, sizeof(t.name), "socketcan %.15s", ifaces[i]);
		(void)snprintf(text, sizeof(text), "can:socketcan/%.15s", ifaces[i]);
		t.bitrate = 1000000;
		o.timeout_ms = CAN_DEFAULT_TIMEOUT_MS;
		err = scan_bus(host, &t, &o, text, deadline, sink);
		if (err < 0)
			return err;
		found += err;
	}
	return found;
}
