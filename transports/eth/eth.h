/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TRANSPORT_ETH_H
#define AXLINK_TRANSPORT_ETH_H

/*
 * Pieces the `eth` transport's request path (eth.c) and its scan
 * (eth_scan.c) share. Internal to the plugin: nothing here is exported.
 */

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "axlink/plugin.h"

#define ETH_DEFAULT_TIMEOUT_MS 1000
#define ETH_MAX_TIMEOUT_MS 60000

/*
 * Receive buffer: larger than any valid frame, so that an oversized datagram
 * is seen as such (recv with MSG_TRUNC reports its real length) instead of
 * being cut to a frame that happens to decode.
 */
#define ETH_RX_SIZE 2048

/* "[" IPv6 "]:" port, NUL. */
#define ETH_ADDR_STR 64

/* One IPv4 or IPv6 socket address. */
typedef union eth_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
} eth_addr;

/* Length to pass to sendto()/connect() for @a. */
socklen_t eth_addr_len(const eth_addr *a);

/* "127.0.0.2:1061" or "[::1]:1061". */
void eth_addr_format(char *out, size_t cap, const eth_addr *a);

/* The URI's port, or AX_MCB_UDP_PORT when it has none; 0 is refused. */
int eth_uri_port(const ax_host *host, const ax_uri *uri, uint16_t *out);

/* Why mcb_decode refused a datagram, for debug logs. */
const char *eth_decode_why(int err);

/* Log a frame's header bytes at trace level: "tx 127.0.0.2:1061: a0 00 ...". */
void eth_trace_frame(const ax_host *host, const char *dir, const char *peer, const uint8_t *frame,
                     size_t len);

/* ops->scan (eth_scan.c). */
int eth_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink);

#endif
