/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TOOLS_SIM_FRONTEND_CAN_H
#define AXLINK_TOOLS_SIM_FRONTEND_CAN_H

/*
 * CAN front-ends of axlink-sim: simulated drives as CANopen nodes on one
 * CAN bus (canbus.c), reached through a serial-line CAN adapter on a
 * terminal (frontend_slcan.c, the Lawicel "slcan" ASCII protocol) and
 * through a socketcand server (frontend_socketcand.c). Several ports may
 * sit on the bus at once; they see the same nodes.
 *
 * Bus rules: a frame a port sends reaches every node and every other port
 * (never its sender back, as SocketCAN's default); a node's frames reach
 * every port, never another node. A node answers only what is addressed to
 * it: a request to a node id nobody has stays unanswered, as on a real bus.
 */

#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "simcanopen.h"

/* The slcan bit rates S0..S8, in bit/s. */
#define SIM_CAN_DEFAULT_BITRATE 1000000u
#define SIM_CAN_DEFAULT_BUS "can0"

struct sim_canbus;

/* Called for each frame the bus carries to a port, at @now_ns. */
typedef void (*sim_can_deliver_fn)(void *priv, const simcan_frame *f, uint64_t now_ns);

/*
 * The bus with drives first_drive .. first_drive + n - 1 of @s as nodes
 * first_node .. first_node + n - 1, of model @model (NULL: the first),
 * heartbeat period @heartbeat_ms by default (0x1017), at @bitrate. The bus
 * is a front-end of its own (no descriptors: it keeps the nodes' time);
 * it is freed by out->destroy, after the ports. Returns 0, or -1 with a
 * message on stderr.
 */
int sim_canbus_open(struct sim_frontend *out, struct sim_canbus **bus, struct sim *s,
                    size_t first_drive, size_t n, const char *model, unsigned first_node,
                    unsigned heartbeat_ms, unsigned bitrate);

/* Join a port to the bus; returns its number (>= 0), or -1 when the bus has no room. */
int sim_canbus_attach(struct sim_canbus *b, sim_can_deliver_fn fn, void *priv);

/* Port @port puts frame @f on the bus at @now_ns. */
void sim_canbus_transmit(struct sim_canbus *b, int port, const simcan_frame *f, uint64_t now_ns);

unsigned sim_canbus_bitrate(const struct sim_canbus *b);
size_t sim_canbus_count(const struct sim_canbus *b);
unsigned sim_canbus_node_id(const struct sim_canbus *b, size_t i);

/*
 * slcan adapter on a terminal: @path as sim_tty_open() takes it (NULL: a
 * new pty, whose slave the URIs name; "/dev/fd/N": inherited descriptor N).
 * Prints one URI per node: can:slcan<tty>?node=ID&bitrate=BPS, where <tty>
 * is the slave when the line is a pty master (created or inherited), else
 * @path.
 * Returns 0, or -1 with a message on stderr.
 */
int sim_slcan_open(struct sim_frontend *out, struct sim *s, struct sim_canbus *bus,
                   const char *path);

/*
 * socketcand server on @addr:@port (IPv4, host order; port 0: the system
 * picks one) serving the bus as @bus_name. Prints one URI per node:
 * can:socketcand/ADDR:PORT/BUS?node=ID. Returns 0, or -1 with a message
 * on stderr.
 */
int sim_socketcand_open(struct sim_frontend *out, struct sim *s, struct sim_canbus *bus,
                        uint32_t addr, unsigned port, const char *bus_name);

/* Lawicel/slcan line parsing, shared with the tests and fuzzers. */

/*
 * Parse one frame command line (without its CR): t, T, r or R. Returns 0
 * and fills @f, or -1 when the line is not a well-formed frame.
 */
int sim_slcan_parse_frame(const char *line, size_t len, simcan_frame *f);

/* Format @f as an slcan frame line, CR included; returns its length (< 32). */
size_t sim_slcan_format_frame(const simcan_frame *f, char *buf, size_t cap);

#endif
