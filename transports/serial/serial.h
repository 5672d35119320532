/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TRANSPORT_SERIAL_H
#define AXLINK_TRANSPORT_SERIAL_H

/*
 * Pieces the `serial` transport's request path (serial.c) and its
 * enumeration and scan (serial_scan.c) share. Internal to the plugin:
 * nothing here is exported.
 */

#include <libserialport.h>
#include <stddef.h>
#include <stdint.h>

#include "axlink/plugin.h"

#define SERIAL_DEFAULT_BAUD 115200
#define SERIAL_MAX_BAUD 4000000
#define SERIAL_DEFAULT_TIMEOUT_MS 500
#define SERIAL_MAX_TIMEOUT_MS 60000

#define SERIAL_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Longest port path the transport takes ("/dev/serial/by-id/..." included). */
#define SERIAL_PATH_MAX 256

/* Line settings and timeouts from a URI's keys. */
struct serial_cfg {
	int baud;
	int data_bits;
	enum sp_parity parity;
	int stop_bits;
	enum sp_flowcontrol flow;
	int timeout_ms;
	int probe_all;  /* scan only: probe=all */
	int have_probe; /* the URI has a probe key */
	char line[32];  /* "115200 8N1", for messages */
};

/* Why opening a port failed, as a scan reports it (an ax_access_state). */
struct serial_open_fail {
	int access;
	char message[320];
	char hint[256];
};

/* Parse the URI's keys (every key has a default). Returns 0 or AX_EINVAL with a message. */
int serial_cfg_parse(const ax_host *host, const ax_uri *uri, struct serial_cfg *cfg);

/*
 * The URI query with the line-setting keys @uri gives explicitly
 * ("?baud=57600&parity=even"), or "" when none: the scan appends it to the
 * location URI of each port so that the URI reopens the port as it was probed.
 */
void serial_cfg_query(const ax_uri *uri, char *out, size_t cap);

/*
 * Open @path with @cfg. On failure, sets the message and, when @fail is not
 * NULL, classifies the failure for a scan result (access state and hint).
 */
int serial_port_open(ax_transport_priv **out, const ax_host *host, const char *path,
                     const struct serial_cfg *cfg, struct serial_open_fail *fail);
void serial_port_close(ax_transport_priv *priv);

/* ops->read: one register read, @timeout_ms per try (0: the URI's). */
int serial_port_read(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
                     size_t cap, size_t *len_out, int timeout_ms);

/* Abort the request running on @priv (from another thread). */
int serial_port_cancel(ax_transport_priv *priv);

/* Bytes received by the last request that formed no valid frame (for scan messages). */
size_t serial_port_last_noise(const ax_transport_priv *priv);

/* ops->scan (serial_scan.c). */
int serial_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink);

#endif
