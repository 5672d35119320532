/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TRANSPORT_SERIAL_H
#define AXLINK_TRANSPORT_SERIAL_H

/*
 * Pieces the `serial` transport's request path (serial.c), its ports
 * (serial_port.c) and its enumeration and scan (serial_scan.c) share.
 * Internal to the plugin: nothing here is exported.
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

/*
 * Receive buffer: one maximal frame plus room for the stray bytes that
 * precede it. Sliding keeps fewer than 14 unparsed bytes in front of a
 * frame, so this never fills up.
 */
#define SERIAL_RX_SIZE (2 * AX_MCB_MAX_FRAME)

/* Why an I/O call on the port failed: errno when the OS failed (else 0), and a text. */
struct serial_io_err {
	int errnum;
	const char *why; /* NULL: strerror(errnum) */
};

/*
 * How the request path reaches the port: libserialport, or termios for a
 * terminal libserialport cannot drive. Both wait by poll() on priv->fd.
 */
struct serial_io {
	const char *name; /* for the debug log */
	/* Apply the line settings of @cfg; 0 or an error set through serial_open_err(). */
	int (*configure)(ax_transport_priv *priv, const struct serial_cfg *cfg,
	                 struct serial_open_fail *fail);
	/* Bytes read (0: end of file), or -1 with @e (EINTR, EAGAIN: try again). No blocking. */
	long (*read)(ax_transport_priv *priv, void *buf, size_t cap, struct serial_io_err *e);
	/* Bytes taken (0: the output queue is full), or -1 with @e. No blocking. */
	long (*write)(ax_transport_priv *priv, const void *buf, size_t len,
	              struct serial_io_err *e);
	/* Drop queued input, and unsent output with @output_too; 0 or -1 with @e. */
	int (*flush)(ax_transport_priv *priv, int output_too, struct serial_io_err *e);
	/* Close the port if open (the flock goes with it); copes with a half-open one. */
	void (*close)(ax_transport_priv *priv);
};

struct ax_transport_priv {
	const ax_host *host;
	const struct serial_io *io;
	struct sp_port *port; /* libserialport's port, or NULL with termios */
	int fd;         /* the port's descriptor (libserialport's, or ours), polled directly */
	int cancel_fd;  /* eventfd: cancel() makes it readable */
	int exclusive;  /* TIOCEXCL is set: clear it on close */
	int gone;       /* the port disappeared: requests fail at once */
	int unsettled;  /* the last request may still be answered: resync first */
	int timeout_ms; /* the URI's timeout_ms, or the default */
	size_t noise;   /* bytes of the last request that formed no frame */
	char path[SERIAL_PATH_MAX];
	char line[32]; /* "115200 8N1" */
	uint8_t rx[SERIAL_RX_SIZE];
};

/* The text of @e: its own, or strerror(errnum). */
const char *serial_io_why(const struct serial_io_err *e);

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
