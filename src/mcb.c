/* SPDX-License-Identifier: MIT */
/*
 * MCB register frames: CRC-16/XMODEM, encoding, structural decoding and the
 * check that a reply answers a given request. Pure functions: no I/O, no
 * allocation, no shared state, so plugins may call them from any thread.
 *
 * Header words (little-endian):
 *   word 0 (bytes 0-1): subnode in bits 0-3, node in bits 4-15
 *   word 1 (bytes 2-3): extended in bit 0, command in bits 1-3, address in bits 4-15
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <string.h>

#include "error.h"
#include "axlink/mcb.h"

#define MCB_CRC_OFFSET 12

static uint16_t mcb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static void mcb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xFF);
	p[1] = (uint8_t)(v >> 8);
}

static uint32_t mcb_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint64_t mcb_get64(const uint8_t *p)
{
	return (uint64_t)mcb_get32(p) | ((uint64_t)mcb_get32(p + 4) << 32);
}

static void mcb_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t ax_mcb_crc16(const void *data, size_t len)
{
	/* The CRC of each 4-bit value: two lookups a byte instead of eight shifts (issue 21). */
	static const uint16_t nibble[16] = {
	        0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
	        0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
	};
	const uint8_t *p = data;
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc = (uint16_t)((crc << 4) ^ nibble[(crc >> 12) ^ (p[i] >> 4)]);
		crc = (uint16_t)((crc << 4) ^ nibble[(crc >> 12) ^ (p[i] & 0xF)]);
	}
	return crc;
}

const char *ax_mcb_cmd_name(int command)
{
	switch (command) {
	case AX_MCB_READ:
		return "read";
	case AX_MCB_WRITE:
		return "write";
	case AX_MCB_ACK:
		return "ack";
	case AX_MCB_ERR_INFO:
		return "info-error";
	case AX_MCB_ERR_READ:
		return "read-error";
	case AX_MCB_ERR_WRITE:
		return "write-error";
	default:
		return NULL;
	}
}

static int mcb_check_target(unsigned subnode, unsigned address)
{
	if (subnode > AX_MCB_MAX_SUBNODE)
		return ax__error_set(AX_EINVAL, "MCB subnode %u out of range 0..%u", subnode,
		                     AX_MCB_MAX_SUBNODE);
	if (address > AX_MCB_MAX_ADDRESS)
		return ax__error_set(
		        AX_EINVAL,
		        "MCB register address 0x%X (subnode %u) out of range 0x000..0x%03X",
		        address, subnode, AX_MCB_MAX_ADDRESS);
	return 0;
}

int ax_mcb_encode(uint8_t *buf, size_t cap, size_t *len_out, const ax_mcb_frame *f)
{
	uint8_t hdr[AX_MCB_FRAME_SIZE];
	unsigned node;
	int extended;
	size_t need;
	int err;

	AX_ASSERT_ARG(buf);
	AX_ASSERT_ARG(len_out);
	AX_ASSERT_ARG(f);

	err = mcb_check_target(f->subnode, f->address);
	if (err < 0)
		return err;
	if (!ax_mcb_cmd_name(f->command))
		return ax__error_set(
		        AX_EINVAL, "MCB command %u for subnode %u register 0x%03X is not 1..6",
		        (unsigned)f->command, (unsigned)f->subnode, (unsigned)f->address);
	/* Node 0 means "not set": every drive on the wire today is node 0xA. */
	node = f->node ? f->node : AX_MCB_NODE;
	extended = f->extended || f->payload_len > 8;

	if (extended && f->payload_len > AX_MCB_MAX_PAYLOAD)
		return ax__error_set(
		        AX_ETOOBIG,
		        "MCB payload of %zu bytes for subnode %u register 0x%03X is over "
		        "the %d-byte limit",
		        f->payload_len, (unsigned)f->subnode, (unsigned)f->address,
		        AX_MCB_MAX_PAYLOAD);
	if (f->payload_len > 0 && !f->payload && extended)
		return ax__error_set(
		        AX_EINVAL,
		        "MCB frame for subnode %u register 0x%03X has a payload length "
		        "of %zu but no payload",
		        (unsigned)f->subnode, (unsigned)f->address, f->payload_len);

	need = AX_MCB_FRAME_SIZE + (extended ? f->payload_len : 0);
	if (cap < need)
		return ax__error_set(
		        AX_ETOOBIG,
		        "MCB frame for subnode %u register 0x%03X needs %zu bytes, buffer "
		        "holds %zu",
		        (unsigned)f->subnode, (unsigned)f->address, need, cap);

	memset(hdr, 0, sizeof(hdr));
	mcb_put16(hdr, (uint16_t)(f->subnode | (node << 4)));
	mcb_put16(hdr + 2, (uint16_t)((extended ? 1u : 0u) | ((unsigned)f->command << 1) |
	                              ((unsigned)f->address << 4)));
	if (extended) {
		mcb_put64(hdr + 4, (uint64_t)f->payload_len);
	} else if (f->payload) {
		memcpy(hdr + 4, f->payload, f->payload_len);
	} else {
		/* With no payload pointer, payload_len may narrow data; 0 means all 8 bytes. */
		size_t n = f->payload_len ? f->payload_len : sizeof(f->data);

		memcpy(hdr + 4, f->data, n);
	}
	mcb_put16(hdr + MCB_CRC_OFFSET, ax_mcb_crc16(hdr, MCB_CRC_OFFSET));

	memcpy(buf, hdr, sizeof(hdr));
	if (extended && f->payload_len > 0)
		memmove(buf + AX_MCB_FRAME_SIZE, f->payload, f->payload_len);
	*len_out = need;
	return 0;
}

int ax_mcb_encode_read(uint8_t *buf, unsigned subnode, unsigned address)
{
	ax_mcb_frame f;
	size_t len;
	int err;

	AX_ASSERT_ARG(buf);
	err = mcb_check_target(subnode, address);
	if (err < 0)
		return err;
	memset(&f, 0, sizeof(f));
	f.subnode = (uint8_t)subnode;
	f.address = (uint16_t)address;
	f.command = AX_MCB_READ;
	return ax_mcb_encode(buf, AX_MCB_FRAME_SIZE, &len, &f);
}

int ax_mcb_request(ax_mcb_frame *f, int command, unsigned subnode, unsigned address,
                   const void *value, size_t len)
{
	int err;

	AX_ASSERT_ARG(f);
	AX_ASSERT_ARG(value || len == 0);
	if (command != AX_MCB_READ && command != AX_MCB_WRITE)
		return ax__error_set(AX_EINVAL, "MCB command %d is not a request (read or write)",
		                     command);
	err = mcb_check_target(subnode, address);
	if (err < 0)
		return err;
	if (len > AX_MCB_MAX_PAYLOAD)
		return ax__error_set(AX_ETOOBIG,
		                     "value of %zu bytes for register 0x%03X (subnode %u) exceeds "
		                     "the %d-byte MCB payload",
		                     len, address, subnode, AX_MCB_MAX_PAYLOAD);
	memset(f, 0, sizeof(*f));
	f->node = AX_MCB_NODE;
	f->subnode = (uint8_t)subnode;
	f->address = (uint16_t)address;
	f->command = (uint8_t)command;
	if (command == AX_MCB_WRITE) {
		if (len == 0 || len > sizeof(f->data)) {
			f->extended = 1;
			f->payload = value;
			f->payload_len = len;
		} else {
			memcpy(f->data, value, len);
		}
	}
	return 0;
}

int ax_mcb_reply_value(const ax_mcb_frame *reply, void *buf, size_t cap, size_t *len_out)
{
	const void *src;
	size_t len;

	AX_ASSERT_ARG(reply);
	AX_ASSERT_ARG(len_out);
	if (reply->extended) {
		src = reply->payload;
		len = reply->payload_len;
	} else {
		src = reply->data;
		len = sizeof(reply->data);
	}
	if (len > cap)
		return ax__error_set(AX_ETOOBIG,
		                     "register 0x%03X (subnode %u) holds %zu bytes, buffer has %zu",
		                     (unsigned)reply->address, (unsigned)reply->subnode, len, cap);
	if (len) {
		AX_ASSERT_ARG(buf);
		memcpy(buf, src, len);
	}
	*len_out = len;
	return 0;
}

int ax_mcb_encode_write(uint8_t *buf, size_t cap, size_t *len_out, unsigned subnode,
                        unsigned address, const void *value, size_t len)
{
	ax_mcb_frame f;
	int err;

	err = ax_mcb_request(&f, AX_MCB_WRITE, subnode, address, value, len);
	if (err < 0)
		return err;
	return ax_mcb_encode(buf, cap, len_out, &f);
}

int ax_mcb_decode(ax_mcb_frame *out, const uint8_t *buf, size_t len)
{
	ax_mcb_frame f;
	uint16_t w0, w1, crc_rx, crc_calc;
	uint64_t plen = 0;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(buf || len == 0);

	if (len < AX_MCB_FRAME_SIZE)
		return ax__error_set(AX_ETRUNC,
		                     "MCB frame of %zu bytes is shorter than the %d-byte header",
		                     len, AX_MCB_FRAME_SIZE);
	crc_rx = mcb_get16(buf + MCB_CRC_OFFSET);
	crc_calc = ax_mcb_crc16(buf, MCB_CRC_OFFSET);
	if (crc_rx != crc_calc)
		return ax__error_set(
		        AX_ECRC,
		        "MCB frame CRC 0x%04X (bytes 12-13) does not match computed 0x%04X", crc_rx,
		        crc_calc);

	memset(&f, 0, sizeof(f));
	w0 = mcb_get16(buf);
	w1 = mcb_get16(buf + 2);
	f.subnode = (uint8_t)(w0 & 0xF);
	f.address = (uint16_t)(w1 >> 4);
	f.command = (uint8_t)((w1 >> 1) & 0x7);
	f.extended = (uint8_t)(w1 & 1);
	if ((w0 >> 4) != AX_MCB_NODE)
		return ax__error_set(AX_EPROTO,
		                     "MCB frame for subnode %u register 0x%03X has node 0x%X, "
		                     "expected 0x%X",
		                     (unsigned)f.subnode, (unsigned)f.address, (unsigned)(w0 >> 4),
		                     AX_MCB_NODE);
	f.node = AX_MCB_NODE;
	if (!ax_mcb_cmd_name(f.command))
		return ax__error_set(
		        AX_EPROTO,
		        "MCB frame for subnode %u register 0x%03X has unknown command %u "
		        "(expected 1..6)",
		        (unsigned)f.subnode, (unsigned)f.address, (unsigned)f.command);
	memcpy(f.data, buf + 4, sizeof(f.data));

	if (f.extended) {
		plen = mcb_get64(buf + 4);
		if (plen > AX_MCB_MAX_PAYLOAD)
			return ax__error_set(AX_ETOOBIG,
			                     "extended MCB frame for subnode %u register 0x%03X "
			                     "declares %llu payload bytes, over the %d-byte limit",
			                     (unsigned)f.subnode, (unsigned)f.address,
			                     (unsigned long long)plen, AX_MCB_MAX_PAYLOAD);
		/* plen <= 512 here, so the sum cannot overflow. */
		if (len - AX_MCB_FRAME_SIZE < (size_t)plen)
			return ax__error_set(
			        AX_ETRUNC,
			        "extended MCB frame for subnode %u register 0x%03X "
			        "declares %llu payload bytes but only %zu follow the header",
			        (unsigned)f.subnode, (unsigned)f.address, (unsigned long long)plen,
			        len - AX_MCB_FRAME_SIZE);
		f.payload = buf + AX_MCB_FRAME_SIZE;
		f.payload_len = (size_t)plen;
	}
	f.frame_len = AX_MCB_FRAME_SIZE + f.payload_len;
	*out = f;
	return 0;
}

/*
 * An error reply refuses the request. @verb names the request ("read",
 * "write") when it is known; the message quotes what came back, so a reply
 * of the other kind (a write-error to a read) is visible as such.
 */
static int mcb_refused(const ax_mcb_frame *reply, const char *verb, unsigned subnode,
                       unsigned address)
{
	uint32_t code = mcb_get32(reply->data);
	const char *text = ax_drive_code_text(code);

	if (verb)
		return ax__error_drive_fmt(
		        code,
		        "%s of subnode %u register 0x%03X refused: drive answered %s 0x%08X%s%s%s",
		        verb, subnode, address, ax_mcb_cmd_name(reply->command), (unsigned)code,
		        text ? " (" : "", text ? text : "", text ? ")" : "");
	return ax__error_drive_fmt(
	        code, "subnode %u register 0x%03X refused: drive answered %s 0x%08X%s%s%s", subnode,
	        address, ax_mcb_cmd_name(reply->command), (unsigned)code, text ? " (" : "",
	        text ? text : "", text ? ")" : "");
}

/*
 * The checks ax_mcb_check_reply() and ax_mcb_check_answer() share: the
 * frame is a reply (AX_EPROTO) for this register (AX_EADDR). @verb names the
 * request when known. Returns 0 when they pass.
 */
static int mcb_check_register(const ax_mcb_frame *reply, const char *verb, unsigned subnode,
                              unsigned address)
{
	const char *name = ax_mcb_cmd_name(reply->command);

	if (!name)
		return ax__error_set(
		        AX_EPROTO,
		        "reply from subnode %u register 0x%03X has unknown command %u, "
		        "expected a reply to subnode %u register 0x%03X",
		        (unsigned)reply->subnode, (unsigned)reply->address,
		        (unsigned)reply->command, subnode, address);
	if (reply->command == AX_MCB_READ || reply->command == AX_MCB_WRITE)
		return ax__error_set(
		        AX_EPROTO,
		        "got a %s request for subnode %u register 0x%03X where a reply to "
		        "%s%s%ssubnode %u register 0x%03X was expected",
		        name, (unsigned)reply->subnode, (unsigned)reply->address,
		        verb ? "the " : "", verb ? verb : "", verb ? " of " : "", subnode, address);

	if (reply->subnode != subnode || reply->address != address) {
		/* Name the command too, so a stale error reply is told apart from a stale ack. */
		return ax__error_set(
		        AX_EADDR,
		        "%s%sreply is for subnode %u register 0x%03X, expected subnode %u "
		        "register 0x%03X",
		        reply->command == AX_MCB_ACK ? "" : name,
		        reply->command == AX_MCB_ACK ? "" : " ", (unsigned)reply->subnode,
		        (unsigned)reply->address, subnode, address);
	}
	return 0;
}

int ax_mcb_check_reply(const ax_mcb_frame *reply, unsigned subnode, unsigned address)
{
	int err;

	AX_ASSERT_ARG(reply);
	err = mcb_check_target(subnode, address);
	if (err < 0)
		return err;
	err = mcb_check_register(reply, NULL, subnode, address);
	if (err < 0)
		return err;
	if (reply->command == AX_MCB_ACK)
		return 0;
	return mcb_refused(reply, NULL, subnode, address);
}

int ax_mcb_check_answer(const ax_mcb_frame *reply, size_t wire_len, const ax_mcb_frame *request)
{
	unsigned subnode, address;
	const char *verb;
	int err;

	AX_ASSERT_ARG(reply);
	AX_ASSERT_ARG(request);
	if (request->command != AX_MCB_READ && request->command != AX_MCB_WRITE)
		return ax__error_set(AX_EINVAL, "MCB command %u is not a request (read or write)",
		                     (unsigned)request->command);
	subnode = request->subnode;
	address = request->address;
	err = mcb_check_target(subnode, address);
	if (err < 0)
		return err;
	verb = ax_mcb_cmd_name(request->command);

	err = mcb_check_register(reply, verb, subnode, address);
	if (err < 0)
		return err;

	/*
	 * A reply is exactly one frame: bytes after it, or an extended header
	 * that declares fewer payload bytes than came, mean the frame is not
	 * what the drive sent. (Fewer bytes than declared: ax_mcb_decode()
	 * refuses those already.)
	 */
	if (wire_len != 0 && wire_len != reply->frame_len)
		return ax__error_set(
		        AX_EPROTO,
		        "%s of subnode %u register 0x%03X: malformed reply of %zu bytes, its "
		        "header declares a %zu-byte frame (%s); a reply must be exactly one frame",
		        verb, subnode, address, wire_len, reply->frame_len,
		        reply->extended ? "extended" : "plain");

	if (reply->command != AX_MCB_ACK)
		return mcb_refused(reply, verb, subnode, address);
	if (request->command == AX_MCB_READ)
		return 0;

	/*
	 * The ack of a write: drives answer a write with a plain ack that echoes
	 * the value bytes written (the ack of an extended write carries none of
	 * its payload). An ack with a payload, or with another value, is the
	 * answer to a read or to another write of this register.
	 */
	if (reply->extended && reply->payload_len > 0)
		return ax__error_set(
		        AX_EADDR,
		        "write of subnode %u register 0x%03X: the ack carries a %zu-byte payload, "
		        "so it answers a read, not this write",
		        subnode, address, reply->payload_len);
	if (!request->extended && !reply->extended &&
	    memcmp(reply->data, request->data, sizeof(reply->data)) != 0)
		return ax__error_set(
		        AX_EADDR,
		        "write of subnode %u register 0x%03X: the ack carries 0x%016llX, not the "
		        "0x%016llX written, so it answers another request",
		        subnode, address, (unsigned long long)mcb_get64(reply->data),
		        (unsigned long long)mcb_get64(request->data));
	return 0;
}
