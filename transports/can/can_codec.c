/* SPDX-License-Identifier: MIT */
/*
 * Pure codecs of the `can` transport: frames in the three wire formats
 * and the CiA 301 SDO client. No I/O and no host table, so that the unit
 * tests and fuzz targets compile this file on its own.
 *
 * slcan (the Lawicel ASCII protocol of serial-line CAN adapters): a frame
 * is "t" + 3 hex id digits (or "T" + 8 for a 29-bit id) + one length
 * digit + two hex digits per data byte, "r"/"R" for a remote request
 * (no data), terminated by CR; an adapter may append a 4-digit timestamp.
 * The adapter answers each command with CR ("z"/"Z" + CR after a sent
 * frame) or BEL when it refuses it.
 *
 * socketcand: text messages "< ... >" over TCP; in raw mode a client
 * sends "< send ID LEN B0 B1 ... >" and receives "< frame ID SEC.USEC
 * DATA >" with DATA the bytes as one hex string.
 *
 * SDO (CiA 301 service data objects): every request and response is an
 * 8-byte frame, client to server on 0x600 + node, back on 0x580 + node.
 * Byte 0 is the command specifier, bytes 1..3 the index (little-endian)
 * and subindex of the initiate frames, bytes 4..7 the data of an
 * expedited transfer or the size of a segmented one; segments carry up to
 * 7 bytes after the command byte, whose toggle bit alternates from 0.
 */
#include <linux/can.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "can.h"

static void why_set(char *why, size_t cap, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!why || !cap)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* @n hex digits at @s into *@out; -1 when one is not a hex digit. */
static int hex_take(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(s[i]);

		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static int msg_valid(const struct can_msg *m)
{
	return m->len <= 8 && m->id <= (m->ext ? CAN_EFF_MAX : CAN_SFF_MAX);
}

/* ---- slcan ------------------------------------------------------------------------------ */

int can_slcan_encode(char *buf, size_t cap, const struct can_msg *m)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;
	int id_digits = m->ext ? 8 : 3;

	if (!msg_valid(m) || cap < CAN_SLCAN_LINE_MAX)
		return -1;
	buf[o++] = m->rtr ? (m->ext ? 'R' : 'r') : (m->ext ? 'T' : 't');
	for (int i = id_digits - 1; i >= 0; i--)
		buf[o++] = digits[(m->id >> (4 * i)) & 0xF];
	buf[o++] = (char)('0' + m->len);
	if (!m->rtr)
		for (unsigned i = 0; i < m->len; i++) {
			buf[o++] = digits[m->data[i] >> 4];
			buf[o++] = digits[m->data[i] & 0xF];
		}
	buf[o++] = '\r';
	buf[o] = '\0';
	return (int)o;
}

const char *can_slcan_bitrate_cmd(long bitrate)
{
	static const struct {
		long rate;
		const char *cmd;
	} rates[] = {
	        {10000, "S0"},  {20000, "S1"},  {50000, "S2"},  {100000, "S3"},  {125000, "S4"},
	        {250000, "S5"}, {500000, "S6"}, {800000, "S7"}, {1000000, "S8"},
	};

	for (size_t i = 0; i < CAN_COUNT(rates); i++)
		if (rates[i].rate == bitrate)
			return rates[i].cmd;
	return NULL;
}

int can_slcan_parse(const char *line, size_t len, char term, struct can_msg *m, char *why,
                    size_t why_cap)
{
	size_t id_digits, need;
	uint32_t v;
	char kind;

	if (term == '\a')
		return CAN_SLCAN_NACK;
	if (len == 0)
		return CAN_SLCAN_ACK;
	kind = line[0];
	if ((kind == 'z' || kind == 'Z') && len == 1)
		return CAN_SLCAN_ACK;
	if (kind != 't' && kind != 'T' && kind != 'r' && kind != 'R')
		return CAN_SLCAN_OTHER;
	memset(m, 0, sizeof(*m));
	m->ext = kind == 'T' || kind == 'R';
	m->rtr = kind == 'r' || kind == 'R';
	id_digits = m->ext ? 8 : 3;
	if (len < 1 + id_digits + 1) {
		why_set(why, why_cap,
		        "slcan frame line of %zu characters is too short for '%c' "
		        "(id and length need %zu)",
		        len, kind, id_digits + 1);
		return -1;
	}
	if (hex_take(line + 1, id_digits, &v) < 0) {
		why_set(why, why_cap, "slcan frame id '%.*s' is not hex", (int)id_digits, line + 1);
		return -1;
	}
	if (v > (m->ext ? CAN_EFF_MAX : CAN_SFF_MAX)) {
		why_set(why, why_cap, "slcan frame id 0x%X is past the %s-bit range", (unsigned)v,
		        m->ext ? "29" : "11");
		return -1;
	}
	m->id = v;
	if (line[1 + id_digits] < '0' || line[1 + id_digits] > '8') {
		why_set(why, why_cap, "slcan frame length '%c' is not a digit 0..8",
		        line[1 + id_digits]);
		return -1;
	}
	m->len = (uint8_t)(line[1 + id_digits] - '0');
	need = 1 + id_digits + 1 + (m->rtr ? 0 : 2u * m->len);
	/* An adapter with timestamps on appends four hex digits. */
	if (len != need && len != need + 4) {
		why_set(why, why_cap,
		        "slcan frame line has %zu characters; a %u-byte frame needs %zu (or %zu "
		        "with a timestamp)",
		        len, m->len, need, need + 4);
		return -1;
	}
	if (!m->rtr)
		for (unsigned i = 0; i < m->len; i++) {
			if (hex_take(line + 2 + id_digits + 2 * i, 2, &v) < 0) {
				why_set(why, why_cap, "slcan frame data byte %u '%.2s' is not hex",
				        i, line + 2 + id_digits + 2 * i);
				return -1;
			}
			m->data[i] = (uint8_t)v;
		}
	if (len == need + 4 && hex_take(line + need, 4, &v) < 0) {
		why_set(why, why_cap, "slcan frame timestamp '%.4s' is not hex", line + need);
		return -1;
	}
	return CAN_SLCAN_FRAME;
}

/* ---- socketcand ----------------------------------------------------------------------- */

int can_scd_encode(char *buf, size_t cap, const struct can_msg *m)
{
	size_t o;
	int n;

	if (!msg_valid(m) || m->rtr || cap < CAN_SCD_MSG_MAX)
		return -1;
	n = snprintf(buf, cap, m->ext ? "< send %08X %u" : "< send %03X %u", (unsigned)m->id,
	             m->len);
	if (n < 0)
		return -1;
	o = (size_t)n;
	for (unsigned i = 0; i < m->len; i++)
		o += (size_t)snprintf(buf + o, cap - o, " %02X", m->data[i]);
	o += (size_t)snprintf(buf + o, cap - o, " >");
	return (int)o;
}

/* The next space-separated token of [*@p, @end): its start and length; 0 when none is left. */
static size_t scd_token(const char **p, const char *end, const char **tok)
{
	const char *s = *p, *e;

	while (s < end && *s == ' ')
		s++;
	e = s;
	while (e < end && *e != ' ')
		e++;
	*tok = s;
	*p = e;
	return (size_t)(e - s);
}

static int scd_is(const char *tok, size_t n, const char *word)
{
	return n == strlen(word) && !memcmp(tok, word, n);
}

int can_scd_parse(const char *text, size_t len, struct can_msg *m, char *why, size_t why_cap)
{
	const char *p = text, *end = text + len, *tok;
	size_t n = scd_token(&p, end, &tok);
	uint32_t v;
	int dot = 0;

	if (scd_is(tok, n, "hi"))
		return CAN_SCD_HI;
	if (scd_is(tok, n, "ok"))
		return CAN_SCD_OK;
	if (scd_is(tok, n, "error")) {
		while (p < end && *p == ' ')
			p++;
		while (end > p && end[-1] == ' ')
			end--;
		why_set(why, why_cap, "%.*s", (int)(end - p), p);
		return CAN_SCD_ERROR;
	}
	if (!scd_is(tok, n, "frame"))
		return CAN_SCD_OTHER;
	memset(m, 0, sizeof(*m));
	n = scd_token(&p, end, &tok);
	if (n == 0 || n > 8 || hex_take(tok, n, &v) < 0 || v > CAN_EFF_MAX) {
		why_set(why, why_cap, "socketcand frame id '%.*s' is not a CAN id in hex",
		        (int)(n > 16 ? 16 : n), tok);
		return -1;
	}
	m->id = v;
	m->ext = n == 8 || v > CAN_SFF_MAX;
	n = scd_token(&p, end, &tok);
	for (size_t i = 0; i < n; i++) {
		if (tok[i] == '.' && !dot++)
			continue;
		if (tok[i] < '0' || tok[i] > '9') {
			n = 0;
			break;
		}
	}
	if (n == 0 || !dot) {
		why_set(why, why_cap, "socketcand frame timestamp '%.*s' is not SEC.USEC",
		        (int)(n > 24 ? 24 : n), tok);
		return -1;
	}
	/* Data: one hex string (socketcand), or bytes as separate tokens (some servers). */
	while ((n = scd_token(&p, end, &tok)) != 0) {
		if (n % 2 || m->len + n / 2 > 8) {
			why_set(why, why_cap,
			        "socketcand frame data '%.*s' is not 0..8 bytes of hex",
			        (int)(n > 32 ? 32 : n), tok);
			return -1;
		}
		for (size_t i = 0; i < n / 2; i++) {
			if (hex_take(tok + 2 * i, 2, &v) < 0) {
				why_set(why, why_cap,
				        "socketcand frame data byte '%.2s' is not hex",
				        tok + 2 * i);
				return -1;
			}
			m->data[m->len++] = (uint8_t)v;
		}
	}
	return CAN_SCD_FRAME;
}

/* ---- SocketCAN ------------------------------------------------------------------------ */

int can_sc_pack(struct can_frame *out, const struct can_msg *m)
{
	if (!msg_valid(m))
		return -1;
	memset(out, 0, sizeof(*out));
	out->can_id = m->id | (m->ext ? CAN_EFF_FLAG : 0) | (m->rtr ? CAN_RTR_FLAG : 0);
	out->can_dlc = m->len;
	if (!m->rtr)
		memcpy(out->data, m->data, m->len);
	return 0;
}

int can_sc_unpack(struct can_msg *m, const struct can_frame *f, uint32_t *err_class, char *why,
                  size_t why_cap)
{
	if (f->can_id & CAN_ERR_FLAG) {
		*err_class = f->can_id & CAN_ERR_MASK;
		return 1;
	}
	if (f->can_dlc > 8) {
		why_set(why, why_cap, "SocketCAN frame length %u is past 8", f->can_dlc);
		return -1;
	}
	memset(m, 0, sizeof(*m));
	m->ext = (f->can_id & CAN_EFF_FLAG) != 0;
	m->rtr = (f->can_id & CAN_RTR_FLAG) != 0;
	m->id = f->can_id & (m->ext ? CAN_EFF_MASK : CAN_SFF_MASK);
	m->len = f->can_dlc;
	if (!m->rtr)
		memcpy(m->data, f->data, m->len);
	return 0;
}

/* ---- CANopen -------------------------------------------------------------------------- */

static const struct {
	uint32_t code;
	const char *text;
} sdo_aborts[] = {
        {0x05030000u, "toggle bit not alternated"},
        {0x05040000u, "SDO protocol timed out"},
        {0x05040001u, "client/server command specifier not valid or unknown"},
        {0x05040002u, "invalid block size"},
        {0x05040003u, "invalid sequence number"},
        {0x05040004u, "CRC error"},
        {0x05040005u, "out of memory"},
        {0x06010000u, "unsupported access to an object"},
        {0x06010001u, "attempt to read a write only object"},
        {0x06010002u, "attempt to write a read only object"},
        {0x06020000u, "object does not exist in the object dictionary"},
        {0x06040041u, "object cannot be mapped to the PDO"},
        {0x06040042u, "the number and length of the objects to be mapped would exceed PDO "
                      "length"},
        {0x06040043u, "general parameter incompatibility reason"},
        {0x06040047u, "general internal incompatibility in the device"},
        {0x06060000u, "access failed due to a hardware error"},
        {0x06070010u, "data type does not match, length of service parameter does not match"},
        {0x06070012u, "data type does not match, length of service parameter too high"},
        {0x06070013u, "data type does not match, length of service parameter too low"},
        {0x06090011u, "sub-index does not exist"},
        {0x06090030u, "invalid value for parameter"},
        {0x06090031u, "value of parameter written too high"},
        {0x06090032u, "value of parameter written too low"},
        {0x06090036u, "maximum value is less than minimum value"},
        {0x060A0023u, "resource not available: SDO connection"},
        {0x08000000u, "general error"},
        {0x08000020u, "data cannot be transferred or stored to the application"},
        {0x08000021u, "data cannot be transferred or stored to the application because of "
                      "local control"},
        {0x08000022u, "data cannot be transferred or stored to the application because of "
                      "the present device state"},
        {0x08000023u, "object dictionary dynamic generation fails or no object dictionary "
                      "is present"},
        {0x08000024u, "no data available"},
};

const char *can_sdo_abort_text(uint32_t code)
{
	for (size_t i = 0; i < CAN_COUNT(sdo_aborts); i++)
		if (sdo_aborts[i].code == code)
			return sdo_aborts[i].text;
	return NULL;
}

const char *can_nmt_state_name(uint8_t state)
{
	switch (state) {
	case 0x00:
		return "boot-up";
	case 0x04:
		return "stopped";
	case 0x05:
		return "operational";
	case 0x7F:
		return "pre-operational";
	default:
		return NULL;
	}
}

void can_nmt_frame(struct can_msg *out, uint8_t cmd, uint8_t node)
{
	memset(out, 0, sizeof(*out));
	out->id = CAN_COB_NMT;
	out->len = 2;
	out->data[0] = cmd;
	out->data[1] = node;
}

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An 8-byte SDO request to @node: command @cs, object @index:@sub (zeroed rest). */
static void sdo_frame(struct can_msg *out, uint8_t node, uint8_t cs, uint16_t index, uint8_t sub)
{
	memset(out, 0, sizeof(*out));
	out->id = CAN_COB_SDO_RX + node;
	out->len = 8;
	out->data[0] = cs;
	out->data[1] = (uint8_t)index;
	out->data[2] = (uint8_t)(index >> 8);
	out->data[3] = sub;
}

void can_sdo_abort_frame(struct can_msg *out, uint8_t node, uint16_t index, uint8_t sub,
                         uint32_t code)
{
	sdo_frame(out, node, 0x80, index, sub);
	le32_put(out->data + 4, code);
}

enum { SDO_UP_INIT = 1, SDO_UP_SEG, SDO_DOWN_INIT, SDO_DOWN_SEG, SDO_FINISHED };

void can_sdo_upload_start(struct can_sdo_xfer *x, uint8_t node, uint16_t index, uint8_t sub,
                          void *buf, size_t cap)
{
	memset(x, 0, sizeof(*x));
	x->node = node;
	x->upload = 1;
	x->index = index;
	x->sub = sub;
	x->buf = buf;
	x->cap = cap;
	x->size = SIZE_MAX;
	x->state = SDO_UP_INIT;
	sdo_frame(&x->next, node, 0x40, index, sub);
}

/* The next download segment of @x (up to 7 bytes) into x->next. */
static void sdo_download_segment(struct can_sdo_xfer *x)
{
	size_t n = x->cap - x->len < 7 ? x->cap - x->len : 7;

	memset(&x->next, 0, sizeof(x->next));
	x->next.id = CAN_COB_SDO_RX + x->node;
	x->next.len = 8;
	x->last = x->len + n == x->cap;
	x->next.data[0] = (uint8_t)(x->toggle << 4 | (7 - n) << 1 | x->last);
	memcpy(x->next.data + 1, x->buf + x->len, n);
	x->len += n;
}

void can_sdo_download_start(struct can_sdo_xfer *x, uint8_t node, uint16_t index, uint8_t sub,
                            const void *data, size_t len)
{
	memset(x, 0, sizeof(*x));
	x->node = node;
	x->index = index;
	x->sub = sub;
	/* Only read from: the state machine never writes through buf on a download. */
	x->buf = (uint8_t *)(uintptr_t)data;
	x->cap = len;
	x->state = SDO_DOWN_INIT;
	if (len >= 1 && len <= 4) {
		/* Expedited: e = 1, s = 1, n = bytes of the 4 that carry no data. */
		sdo_frame(&x->next, node, (uint8_t)(0x23 | (4 - len) << 2), index, sub);
		memcpy(x->next.data + 4, data, len);
		x->len = len;
	} else {
		/* Segmented, size indicated (0 bytes too: n cannot say 0 in an expedited one). */
		sdo_frame(&x->next, node, 0x21, index, sub);
		le32_put(x->next.data + 4, (uint32_t)len);
	}
}

/* A protocol error: say why, and put the abort for the server in x->next. */
static int sdo_proto(struct can_sdo_xfer *x, uint32_t code, int ret, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int sdo_proto(struct can_sdo_xfer *x, uint32_t code, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	x->state = SDO_FINISHED;
	can_sdo_abort_frame(&x->next, x->node, x->index, x->sub, code);
	return ret;
}

int can_sdo_step(struct can_sdo_xfer *x, const struct can_msg *m)
{
	const uint8_t *d = m->data;
	unsigned scs;
	int same_object;

	if (m->id != CAN_COB_SDO_TX + x->node || m->ext || m->rtr || x->state == SDO_FINISHED)
		return CAN_SDO_SKIP;
	if (m->len != 8)
		return sdo_proto(x, CAN_ABORT_COMMAND, CAN_SDO_EPROTO,
		                 "SDO response of %u byte(s) (CiA 301 frames have 8)", m->len);
	scs = d[0] >> 5;
	same_object = (d[1] | d[2] << 8) == x->index && d[3] == x->sub;
	if (scs == 4) {
		/* An abort for another object is a late one of an earlier transfer. */
		if (!same_object)
			return CAN_SDO_SKIP;
		x->abort_code = le32_get(d + 4);
		x->state = SDO_FINISHED;
		(void)snprintf(x->why, sizeof(x->why), "SDO abort 0x%08X", (unsigned)x->abort_code);
		return CAN_SDO_EABORT;
	}
	switch (x->state) {
	case SDO_UP_INIT:
		if (scs != 2)
			break;
		if (!same_object)
			return CAN_SDO_SKIP;
		if (d[0] & 0x02) {
			/* Expedited: n says how many of the 4 bytes carry no data (when s). */
			size_t n = d[0] & 0x01 ? 4u - (d[0] >> 2 & 3u) : 4u;

			if (n > x->cap)
				return sdo_proto(x, CAN_ABORT_LENGTH, CAN_SDO_ETOOBIG,
				                 "value of %zu byte(s) does not fit %zu", n,
				                 x->cap);
			memcpy(x->buf, d + 4, n);
			x->len = n;
			x->state = SDO_FINISHED;
			return CAN_SDO_DONE;
		}
		if (d[0] & 0x01) {
			x->size = le32_get(d + 4);
			if (x->size > x->cap)
				return sdo_proto(x, CAN_ABORT_LENGTH, CAN_SDO_ETOOBIG,
				                 "value of %zu byte(s) does not fit %zu", x->size,
				                 x->cap);
		}
		x->state = SDO_UP_SEG;
		sdo_frame(&x->next, x->node, 0x60, 0, 0);
		return CAN_SDO_SEND;
	case SDO_UP_SEG: {
		size_t n = 7u - (d[0] >> 1 & 7u);

		if (scs != 0)
			break;
		if ((d[0] >> 4 & 1u) != x->toggle)
			return sdo_proto(x, CAN_ABORT_TOGGLE, CAN_SDO_EPROTO,
			                 "SDO upload segment %zu has toggle bit %u, expected %u",
			                 x->len / 7, (unsigned)(d[0] >> 4 & 1u), x->toggle);
		if (n > x->cap - x->len || x->len + n > x->size)
			return sdo_proto(x, CAN_ABORT_LENGTH,
			                 x->size == SIZE_MAX ? CAN_SDO_ETOOBIG : CAN_SDO_EPROTO,
			                 "SDO upload of %s%zu byte(s) sent %zu or more",
			                 x->size == SIZE_MAX ? "at most " : "",
			                 x->size == SIZE_MAX ? x->cap : x->size, x->len + n);
		memcpy(x->buf + x->len, d + 1, n);
		x->len += n;
		if (d[0] & 0x01) {
			if (x->size != SIZE_MAX && x->len != x->size)
				return sdo_proto(x, CAN_ABORT_LENGTH, CAN_SDO_EPROTO,
				                 "SDO upload announced %zu byte(s) but sent %zu",
				                 x->size, x->len);
			x->state = SDO_FINISHED;
			return CAN_SDO_DONE;
		}
		x->toggle ^= 1u;
		sdo_frame(&x->next, x->node, (uint8_t)(0x60 | x->toggle << 4), 0, 0);
		return CAN_SDO_SEND;
	}
	case SDO_DOWN_INIT:
		if (scs != 3)
			break;
		if (!same_object)
			return CAN_SDO_SKIP;
		if (x->len == x->cap && x->cap > 0) {
			x->state = SDO_FINISHED;
			return CAN_SDO_DONE;
		}
		x->state = SDO_DOWN_SEG;
		sdo_download_segment(x);
		return CAN_SDO_SEND;
	case SDO_DOWN_SEG:
		if (scs != 1)
			break;
		if ((d[0] >> 4 & 1u) != x->toggle)
			return sdo_proto(x, CAN_ABORT_TOGGLE, CAN_SDO_EPROTO,
			                 "SDO download segment ack has toggle bit %u, expected %u",
			                 (unsigned)(d[0] >> 4 & 1u), x->toggle);
		if (x->last) {
			x->state = SDO_FINISHED;
			return CAN_SDO_DONE;
		}
		x->toggle ^= 1u;
		sdo_download_segment(x);
		return CAN_SDO_SEND;
	default:
		break;
	}
	return sdo_proto(x, CAN_ABORT_COMMAND, CAN_SDO_EPROTO,
	                 "SDO response with command specifier %u (0x%02X) during %s %s", scs, d[0],
	                 x->upload ? "upload" : "download",
	                 x->state == SDO_UP_INIT || x->state == SDO_DOWN_INIT ? "initiate"
	                                                                      : "segment");
}
