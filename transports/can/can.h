/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TRANSPORT_CAN_H
#define AXLINK_TRANSPORT_CAN_H

/*
 * Pieces of the `can` transport. Internal to the plugin: nothing here is
 * exported.
 *
 * can_codec.c is pure (no I/O, no host table): the three wire formats of
 * a CAN frame (slcan ASCII lines, socketcand text messages, SocketCAN's
 * struct can_frame), the CiA 301 SDO client state machine and the table
 * of SDO abort codes. The unit tests and the fuzz targets compile it
 * directly. can_bus.c moves frames (one small interface, three backends);
 * can.c is the plugin (URIs, CANopen requests, cancel); can_scan.c scans
 * node ids.
 */

#include <stddef.h>
#include <stdint.h>

#define CAN_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One classic CAN frame, backend-neutral. */
struct can_msg {
	uint32_t id; /* 11 bits, or 29 with ext */
	uint8_t len; /* 0..8 */
	uint8_t ext; /* 29-bit identifier */
	uint8_t rtr; /* remote request: no data */
	uint8_t data[8];
};

#define CAN_SFF_MAX 0x7FFu
#define CAN_EFF_MAX 0x1FFFFFFFu

/* ---- slcan (Lawicel ASCII) ---------------------------------------------------------- */

/* Longest line we send or take: "T" + 8 id + 1 len + 16 data + 4 timestamp + "\r". */
#define CAN_SLCAN_LINE_MAX 32

/* What one received slcan line is (can_slcan_parse()). */
enum can_slcan_kind {
	CAN_SLCAN_FRAME = 1, /* t/T/r/R: a frame from the bus */
	CAN_SLCAN_ACK,       /* a bare "\r", or "z\r" / "Z\r" after a sent frame */
	CAN_SLCAN_NACK,      /* BEL: the adapter refused the last command */
	CAN_SLCAN_OTHER,     /* an answer to another command (version, status): ignored */
};

/*
 * Encode @m as an slcan transmit command ("t1238112233...\r") into @buf
 * (at least CAN_SLCAN_LINE_MAX bytes). Returns the length, or -1 when @m
 * is not a valid frame (id or length out of range).
 */
int can_slcan_encode(char *buf, size_t cap, const struct can_msg *m);

/*
 * The bit-rate command for @bitrate ("S8" for 1000000); NULL when slcan
 * has no standard code for it.
 */
const char *can_slcan_bitrate_cmd(long bitrate);

/*
 * Parse one received line @line of @len bytes, without its terminator
 * (@term is '\r' or '\a'). Returns a can_slcan_kind, and for a frame
 * fills @m; -1 for a malformed line, with a reason in @why.
 */
int can_slcan_parse(const char *line, size_t len, char term, struct can_msg *m, char *why,
                    size_t why_cap);

/* ---- socketcand ----------------------------------------------------------------------- */

/* Longest socketcand message we take: "< frame 1FFFFFFF 1234567890.123456 " + 16 + ">" */
#define CAN_SCD_MSG_MAX 128

/* What one received socketcand message is (can_scd_parse()). */
enum can_scd_kind {
	CAN_SCD_FRAME = 1, /* "< frame ID SEC.USEC DATA >" */
	CAN_SCD_HI,        /* "< hi >" */
	CAN_SCD_OK,        /* "< ok >" */
	CAN_SCD_ERROR,     /* "< error ... >": @why holds the text */
	CAN_SCD_OTHER,     /* echo, statistics...: ignored */
};

/* Encode @m as "< send ID LEN B0 B1 ... >". Returns the length, or -1 for an invalid frame. */
int can_scd_encode(char *buf, size_t cap, const struct can_msg *m);

/*
 * Parse one message: @text of @len bytes between '<' and '>' (exclusive).
 * Returns a can_scd_kind (filling @m for a frame), or -1 for a malformed
 * message, with a reason in @why.
 */
int can_scd_parse(const char *text, size_t len, struct can_msg *m, char *why, size_t why_cap);

/* ---- SocketCAN ------------------------------------------------------------------------ */

struct can_frame;

/* Fill a struct can_frame from @m. Returns 0, or -1 for an invalid frame. */
int can_sc_pack(struct can_frame *out, const struct can_msg *m);

/*
 * Take a received struct can_frame into @m. Returns 0; 1 for an error
 * frame (its class bits in *@err_class); -1 for a malformed one (length
 * past 8), with a reason in @why.
 */
int can_sc_unpack(struct can_msg *m, const struct can_frame *f, uint32_t *err_class, char *why,
                  size_t why_cap);

/* ---- CANopen (CiA 301) ---------------------------------------------------------------- */

#define CAN_NODE_MAX 127
#define CAN_COB_NMT 0x000u
#define CAN_COB_EMCY 0x080u
#define CAN_COB_SDO_TX 0x580u /* server to client: + node */
#define CAN_COB_SDO_RX 0x600u /* client to server: + node */
#define CAN_COB_HEARTBEAT 0x700u

/* NMT commands. */
#define CAN_NMT_START 0x01
#define CAN_NMT_STOP 0x02
#define CAN_NMT_PREOP 0x80
#define CAN_NMT_RESET_NODE 0x81
#define CAN_NMT_RESET_COMM 0x82

/* Abort codes the client itself sends. */
#define CAN_ABORT_TOGGLE 0x05030000u
#define CAN_ABORT_TIMEOUT 0x05040000u
#define CAN_ABORT_COMMAND 0x05040001u
#define CAN_ABORT_GENERAL 0x08000000u
#define CAN_ABORT_LENGTH 0x06070010u

/* CiA 301 text of SDO abort code @code, or NULL when the standard names no such code. */
const char *can_sdo_abort_text(uint32_t code);

/* NMT command frame for @cmd to @node (0: all nodes). */
void can_nmt_frame(struct can_msg *out, uint8_t cmd, uint8_t node);

/* Name of an NMT state a heartbeat carries ("operational"), or NULL. */
const char *can_nmt_state_name(uint8_t state);

/* SDO abort frame from client to @node. */
void can_sdo_abort_frame(struct can_msg *out, uint8_t node, uint16_t index, uint8_t sub,
                         uint32_t code);

/* Results of can_sdo_step(). Negative values are errors (below). */
#define CAN_SDO_SEND 1 /* send xfer->next and wait for the next response */
#define CAN_SDO_DONE 2 /* finished: an upload's value is in its buffer */
#define CAN_SDO_SKIP 3 /* not a response to this transfer: keep waiting */

/* Errors of can_sdo_step(); xfer->why says more. */
#define CAN_SDO_EABORT -1  /* the server aborted: xfer->abort_code */
#define CAN_SDO_EPROTO -2  /* a response that breaks the protocol (toggle, command, size) */
#define CAN_SDO_ETOOBIG -3 /* the value does not fit the caller's buffer */

/*
 * One SDO transfer (expedited or segmented), client side, as a pure
 * state machine: can_sdo_upload_start()/can_sdo_download_start() build
 * the first request in @next; each frame received for the transfer's node
 * goes to can_sdo_step(), which says what to do. Owns nothing.
 */
struct can_sdo_xfer {
	uint8_t node;
	uint8_t upload; /* 1: read, 0: write */
	uint8_t toggle; /* toggle bit expected in the next segment */
	uint8_t state;  /* internal */
	uint8_t last;   /* download: the segment in flight is the last */
	uint16_t index;
	uint8_t sub;
	uint8_t *buf; /* upload: destination; download: source (const in spirit) */
	size_t cap;   /* upload: capacity of buf; download: length */
	size_t len;   /* bytes moved so far */
	size_t size;  /* upload: size the server announced, or SIZE_MAX */
	uint32_t abort_code;
	struct can_msg next; /* the request to send */
	char why[160];
};

void can_sdo_upload_start(struct can_sdo_xfer *x, uint8_t node, uint16_t index, uint8_t sub,
                          void *buf, size_t cap);
void can_sdo_download_start(struct can_sdo_xfer *x, uint8_t node, uint16_t index, uint8_t sub,
                            const void *data, size_t len);

/*
 * Feed received frame @m. Returns CAN_SDO_SEND (send x->next), CAN_SDO_DONE,
 * CAN_SDO_SKIP (the frame is not this node's SDO response, or is for
 * another object: ignore it) or a negative CAN_SDO_E* with x->why set;
 * after CAN_SDO_EPROTO, x->next holds the abort frame to send the server.
 */
int can_sdo_step(struct can_sdo_xfer *x, const struct can_msg *m);

/* ---- Buses (can_bus.c) ------------------------------------------------------------------ */

#include "axlink/plugin.h"

#define CAN_PATH_MAX 256
#define CAN_HOST_MAX 256
#define CAN_IFNAME_MAX 16 /* IFNAMSIZ; socketcand allows 16 characters too */

/* The three backends. */
enum can_kind {
	CAN_SLCAN = 1,
	CAN_SOCKETCAND,
	CAN_SOCKETCAN,
};

/* A bus as a URI names it (can.c parses it). */
struct can_target {
	int kind;
	char dev[CAN_PATH_MAX];  /* slcan: the tty; socketcan and socketcand: the interface */
	char host[CAN_HOST_MAX]; /* socketcand: host name or address */
	int port;                /* socketcand: TCP port */
	long bitrate;            /* bit/s; slcan sets it on the adapter */
	int baud;                /* slcan: the tty's line rate */
	int bitrate_given;       /* the URI named bitrate (socketcan/socketcand can't set it) */
	char name[CAN_PATH_MAX + 32]; /* "slcan /dev/ttyACM0", for messages */
};

/* Returned by can_bus_recv() when the deadline passes without a frame; not an error. */
#define CAN_BUS_TIMEOUT 1

struct can_bus;

/* Why opening a bus failed, as a scan reports it. */
struct can_open_fail {
	int access; /* an ax_access_state */
	char message[320];
};

/*
 * Open the bus @t names, within @timeout_ms (> 0). On failure returns the
 * error (message set through @host) and, when @fail is not NULL, fills it
 * for a scan result.
 */
int can_bus_open(struct can_bus **out, const ax_host *host, const struct can_target *t,
                 int timeout_ms, struct can_open_fail *fail);
/* Close: quick, no waiting for the peer. Accepts NULL. */
void can_bus_close(struct can_bus *bus);
/* Send one frame by @deadline (host->now_ns() time). 0, or an error (ETIMEDOUT, ECANCELED...). */
int can_bus_send(struct can_bus *bus, const struct can_msg *m, uint64_t deadline);
/*
 * Receive the next frame by @deadline (a deadline already past still takes
 * what is queued). 0, CAN_BUS_TIMEOUT, or an error (AX_ECANCELED,
 * AX_EDISCONNECTED, AX_EIO...). Malformed input is logged and skipped.
 */
int can_bus_recv(struct can_bus *bus, struct can_msg *m, uint64_t deadline);
/* Make the running (or next) wait return AX_ECANCELED; any thread. */
int can_bus_cancel(struct can_bus *bus);
/* Forget a cancel that arrived while nothing ran. */
void can_bus_drain_cancel(struct can_bus *bus);
/*
 * Make waits on @bus watch eventfd @fd for a cancel (a link sharing the
 * bus sets its own while it holds the bus); -1: the bus's own again.
 */
void can_bus_set_cancel(struct can_bus *bus, int fd);
/* Frames the adapter refused (slcan BEL answers) since the last call. */
unsigned can_bus_take_refusals(struct can_bus *bus);

/* ---- The plugin (can.c, can_scan.c) ------------------------------------------------------- */

#define CAN_DEFAULT_TIMEOUT_MS 500
#define CAN_MAX_TIMEOUT_MS 60000
#define CAN_SOCKETCAND_PORT 29536

/* What a URI says besides the bus. */
struct can_uri_opts {
	int node;       /* 1..127, or 0 when the URI names none */
	int timeout_ms; /* per SDO exchange */
	int nmt;        /* NMT command to send at open (CAN_NMT_*), or 0 */
	char query[96]; /* keys a scan result repeats: "&bitrate=500000" or "" */
};

/* Parse @uri into the bus @t and @o. Returns 0 or AX_EINVAL with a message. */
int can_uri_parse(const ax_host *host, const ax_uri *uri, struct can_target *t,
                  struct can_uri_opts *o);

/* Log a heartbeat, EMCY or boot-up @m seen on @bus_name; other frames are ignored. */
void can_consume(const ax_host *host, const char *bus_name, const struct can_msg *m);

/* ops->scan (can_scan.c). */
int can_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink);

#endif
