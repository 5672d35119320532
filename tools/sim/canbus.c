/* SPDX-License-Identifier: MIT */
/*
 * The CAN bus of axlink-sim: the simulated drives as CANopen nodes
 * (simcanopen.c) and the ports that reach them (slcan, socketcand). The bus
 * owns the nodes' time: as a front-end without descriptors it asks the loop
 * to wake it when a node has a heartbeat, an EMCY check or an SDO timeout
 * due, and passes what the nodes send to every port.
 *
 * The fault injection acts on SDO requests and their responses as on MCB
 * requests, for nodes whose drive is faulty: --drop-first and --drop lose
 * a request before the node sees it, --delay holds the node's response
 * back (other nodes and ports go on meanwhile). --corrupt has no CAN
 * counterpart (the controller's CRC drops a corrupted frame: that is
 * --drop).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "frontend_can.h"

/* Ports on one bus: an slcan line and a socketcand server, with room to spare. */
#define CANBUS_MAX_PORTS 4
/* Responses held back by --delay; beyond this a flood just loses them. */
#define CANBUS_MAX_DELAYED 4096

struct canbus_delayed {
	uint64_t due;
	simcan_frame f;
};

struct canbus_port {
	sim_can_deliver_fn fn;
	void *priv;
};

struct sim_canbus {
	struct sim *sim;
	simcanopen **nodes;
	size_t n_nodes;
	unsigned bitrate;
	struct canbus_port ports[CANBUS_MAX_PORTS];
	size_t n_ports;
	size_t first_drive; /* node i is drive first_drive + i of the simulator */

	/* --delay: a FIFO, due times in order since the delay is one for all. */
	struct canbus_delayed *delayed;
	size_t head, count;
};

static void canbus_to_ports(struct sim_canbus *b, int except, const simcan_frame *f, size_t n,
                            uint64_t now)
{
	for (size_t k = 0; k < n; k++)
		for (size_t p = 0; p < b->n_ports; p++)
			if ((int)p != except)
				b->ports[p].fn(b->ports[p].priv, &f[k], now);
}

/* Hold @n frames of drive @d back by its --delay, or pass them on at once. */
static void canbus_respond(struct sim_canbus *b, struct sim_drive *d, const simcan_frame *f,
                           size_t n, uint64_t now)
{
	uint64_t delay = sim_reply_delay(b->sim, d);

	if (!delay) {
		canbus_to_ports(b, -1, f, n, now);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		struct canbus_delayed *slot;

		if (b->count == CANBUS_MAX_DELAYED) {
			sim_debug(b->sim, "can: response lost: %d wait for --delay",
			          CANBUS_MAX_DELAYED);
			continue;
		}
		slot = &b->delayed[(b->head + b->count++) % CANBUS_MAX_DELAYED];
		slot->due = now + delay;
		slot->f = f[k];
	}
}

void sim_canbus_transmit(struct sim_canbus *b, int port, const simcan_frame *f, uint64_t now_ns)
{
	simcan_frame out[SIMCANOPEN_MAX_OUT];

	/* The other ports hear it first, as they would on the wire. */
	canbus_to_ports(b, port, f, 1, now_ns);
	for (size_t i = 0; i < b->n_nodes; i++) {
		struct sim_drive *d = &b->sim->drives[b->first_drive + i];
		unsigned id = simcanopen_node_id(b->nodes[i]);
		size_t n;
		char where[32];

		if (!f->ext && f->id == SIMCANOPEN_COB_SDO_RX + id) {
			(void)snprintf(where, sizeof(where), "can node %u", id);
			if (sim_drop_request(b->sim, d, where))
				continue;
		}
		n = simcanopen_receive(b->nodes[i], f, now_ns, out);
		if (n)
			sim_debug(b->sim, "can: node %u answers 0x%03X with %zu frame(s)", id,
			          (unsigned)f->id, n);
		canbus_respond(b, d, out, n, now_ns);
	}
}

int sim_canbus_attach(struct sim_canbus *b, sim_can_deliver_fn fn, void *priv)
{
	if (b->n_ports >= CANBUS_MAX_PORTS)
		return -1;
	b->ports[b->n_ports].fn = fn;
	b->ports[b->n_ports].priv = priv;
	return (int)b->n_ports++;
}

unsigned sim_canbus_bitrate(const struct sim_canbus *b)
{
	return b->bitrate;
}

size_t sim_canbus_count(const struct sim_canbus *b)
{
	return b->n_nodes;
}

unsigned sim_canbus_node_id(const struct sim_canbus *b, size_t i)
{
	return simcanopen_node_id(b->nodes[i]);
}

static size_t canbus_npoll(void *priv)
{
	(void)priv;
	return 0;
}

static void canbus_fill(void *priv, struct pollfd *fds)
{
	(void)priv;
	(void)fds;
}

static void canbus_ready(void *priv, const struct pollfd *fds, uint64_t now)
{
	(void)priv;
	(void)fds;
	(void)now;
}

static uint64_t canbus_next_due(void *priv)
{
	struct sim_canbus *b = priv;
	uint64_t due = SIM_NEVER;

	for (size_t i = 0; i < b->n_nodes; i++) {
		uint64_t d = simcanopen_next_due(b->nodes[i]);

		if (d < due)
			due = d;
	}
	if (b->count && b->delayed[b->head].due < due)
		due = b->delayed[b->head].due;
	return due;
}

static void canbus_run_due(void *priv, uint64_t now)
{
	struct sim_canbus *b = priv;
	simcan_frame out[SIMCANOPEN_MAX_OUT];

	while (b->count && b->delayed[b->head].due <= now) {
		simcan_frame f = b->delayed[b->head].f;

		b->head = (b->head + 1) % CANBUS_MAX_DELAYED;
		b->count--;
		canbus_to_ports(b, -1, &f, 1, now);
	}
	for (size_t i = 0; i < b->n_nodes; i++) {
		if (simcanopen_next_due(b->nodes[i]) > now)
			continue;
		/* Heartbeats and EMCY are not responses: --delay leaves them alone. */
		canbus_to_ports(b, -1, out, simcanopen_poll(b->nodes[i], now, out), now);
	}
}

static void canbus_print_uris(void *priv, FILE *out)
{
	/* The ports print the URIs: a node is reached through one of them. */
	(void)priv;
	(void)out;
}

static void canbus_destroy(void *priv)
{
	struct sim_canbus *b = priv;

	if (!b)
		return;
	for (size_t i = 0; i < b->n_nodes; i++)
		simcanopen_free(b->nodes[i]);
	free(b->nodes);
	free(b->delayed);
	free(b);
}

int sim_canbus_open(struct sim_frontend *out, struct sim_canbus **bus, struct sim *s,
                    size_t first_drive, size_t n, const char *model, unsigned first_node,
                    unsigned heartbeat_ms, unsigned bitrate)
{
	struct sim_canbus *b;

	if (n == 0 || first_drive + n > s->n_drives || first_node < 1 || first_node + n - 1 > 127) {
		sim_error("CAN bus: nodes %u..%zu out of the node ids 1..127", first_node,
		          first_node + n - 1);
		return -1;
	}
	b = calloc(1, sizeof(*b));
	if (b) {
		b->nodes = calloc(n, sizeof(*b->nodes));
		b->delayed = calloc(CANBUS_MAX_DELAYED, sizeof(*b->delayed));
	}
	if (!b || !b->nodes || !b->delayed) {
		if (b)
			canbus_destroy(b);
		sim_error("out of memory for the CAN bus");
		return -1;
	}
	b->sim = s;
	b->first_drive = first_drive;
	b->bitrate = bitrate;
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;

		if (simcanopen_new(&b->nodes[i], s->drives[first_drive + i].drive, model,
		                   first_node + (unsigned)i, heartbeat_ms, &why) < 0) {
			sim_error("CAN node %zu: %s", first_node + i, why ? why : "cannot create");
			canbus_destroy(b);
			return -1;
		}
		b->n_nodes = i + 1;
	}
	memset(out, 0, sizeof(*out));
	out->priv = b;
	out->npoll = canbus_npoll;
	out->fill = canbus_fill;
	out->ready = canbus_ready;
	out->next_due = canbus_next_due;
	out->run_due = canbus_run_due;
	out->print_uris = canbus_print_uris;
	out->destroy = canbus_destroy;
	*bus = b;
	return 0;
}
