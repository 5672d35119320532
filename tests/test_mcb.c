/* SPDX-License-Identifier: MIT */
/*
 * MCB codec: CRC, the golden frames of DESIGN §5 in both directions, reply
 * checks, and malformed input each with its own error code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "axlink/error.h"
#include "axlink/mcb.h"

/* Fail with the row's name and both byte strings when two buffers differ. */
static void expect_bytes(const char *name, const uint8_t *got, size_t got_len, const uint8_t *want,
                         size_t want_len)
{
	if (got_len != want_len || memcmp(got, want, want_len) != 0) {
		char g[3 * AX_MCB_MAX_FRAME + 1] = "", w[3 * AX_MCB_MAX_FRAME + 1] = "";

		for (size_t i = 0; i < got_len && i < AX_MCB_MAX_FRAME; i++)
			(void)snprintf(g + 3 * i, 4, "%02x ", got[i]);
		for (size_t i = 0; i < want_len && i < AX_MCB_MAX_FRAME; i++)
			(void)snprintf(w + 3 * i, 4, "%02x ", want[i]);
		fail_msg("%s: encoded %zu bytes [%s], want %zu bytes [%s]", name, got_len, g,
		         want_len, w);
	}
}

static void expect_code(const char *name, int got, int want)
{
	if (got != want)
		fail_msg("%s: got %d (%s), want %d (%s); message: %s", name, got,
		         ax_error_name(got) ? ax_error_name(got) : "?", want,
		         ax_error_name(want) ? ax_error_name(want) : "?", ax_error_last());
}

/* Re-seal a hand-edited header so that only the intended field is wrong. */
static void reseal(uint8_t *frame)
{
	uint16_t crc = ax_mcb_crc16(frame, 12);

	frame[12] = (uint8_t)(crc & 0xFF);
	frame[13] = (uint8_t)(crc >> 8);
}

static void test_mcb__crc_check_value(void **state)
{
	static const char check[] = "123456789";

	(void)state;
	assert_int_equal(ax_mcb_crc16(check, 9), 0x31C3);
	assert_int_equal(ax_mcb_crc16(check, 0), 0x0000);
	/* One flipped bit must change the CRC. */
	assert_int_not_equal(ax_mcb_crc16("123456788", 9), 0x31C3);
}

/* Golden frames of DESIGN §5: encoded byte for byte, decoded field for field. */
struct golden {
	const char *name;
	uint8_t bytes[AX_MCB_FRAME_SIZE];
	uint8_t subnode;
	uint16_t address;
	uint8_t command;
	uint64_t value; /* bytes 4-11 as a little-endian u64 */
};

/* clang-format off */
static const struct golden goldens[] = {
	{ "read_status_request",
	  { 0xa1, 0x00, 0x12, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4b, 0x66 },
	  1, 0x011, AX_MCB_READ, 0 },
	{ "read_status_reply",
	  { 0xa1, 0x00, 0x16, 0x01, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc5, 0xf7 },
	  1, 0x011, AX_MCB_ACK, 0x0021 },
	{ "write_control_request",
	  { 0xa1, 0x00, 0x04, 0x01, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x58 },
	  1, 0x010, AX_MCB_WRITE, 0x000F },
	{ "write_control_reply",
	  { 0xa1, 0x00, 0x06, 0x01, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x86 },
	  1, 0x010, AX_MCB_ACK, 0x000F },
	{ "write_u32_request",
	  { 0xa0, 0x00, 0x14, 0x0a, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0xaa, 0x9e },
	  0, 0x0A1, AX_MCB_WRITE, 0x12345678 },
	{ "read_error_reply",
	  { 0xa1, 0x00, 0x1a, 0x01, 0x00, 0x00, 0x01, 0x06, 0x00, 0x00, 0x00, 0x00, 0x25, 0xa4 },
	  1, 0x011, AX_MCB_ERR_READ, 0x06010000 },
};
/* clang-format on */

static void value_to_le(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static void test_mcb__golden_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];
		uint8_t buf[AX_MCB_MAX_FRAME];
		ax_mcb_frame f;
		size_t len = 0;

		memset(&f, 0, sizeof(f));
		f.subnode = g->subnode;
		f.address = g->address;
		f.command = g->command;
		value_to_le(f.data, g->value);
		expect_code(g->name, ax_mcb_encode(buf, sizeof(buf), &len, &f), 0);
		expect_bytes(g->name, buf, len, g->bytes, AX_MCB_FRAME_SIZE);
	}
}

static void test_mcb__golden_encode_helpers(void **state)
{
	static const uint8_t ctl[] = {0x0f, 0x00};
	static const uint8_t u32[] = {0x78, 0x56, 0x34, 0x12};
	uint8_t buf[AX_MCB_MAX_FRAME];
	size_t len = 0;

	(void)state;
	memset(buf, 0xEE, sizeof(buf));
	expect_code("encode_read", ax_mcb_encode_read(buf, 1, 0x011), 0);
	expect_bytes("encode_read", buf, AX_MCB_FRAME_SIZE, goldens[0].bytes, AX_MCB_FRAME_SIZE);

	expect_code("encode_write_u16",
	            ax_mcb_encode_write(buf, sizeof(buf), &len, 1, 0x010, ctl, sizeof(ctl)), 0);
	expect_bytes("encode_write_u16", buf, len, goldens[2].bytes, AX_MCB_FRAME_SIZE);

	expect_code("encode_write_u32",
	            ax_mcb_encode_write(buf, sizeof(buf), &len, 0, 0x0A1, u32, sizeof(u32)), 0);
	expect_bytes("encode_write_u32", buf, len, goldens[4].bytes, AX_MCB_FRAME_SIZE);
}

static void test_mcb__golden_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];
		uint8_t want_data[8];
		ax_mcb_frame f;

		memset(&f, 0xCC, sizeof(f));
		expect_code(g->name, ax_mcb_decode(&f, g->bytes, AX_MCB_FRAME_SIZE), 0);
		value_to_le(want_data, g->value);
		if (f.node != AX_MCB_NODE || f.subnode != g->subnode || f.address != g->address ||
		    f.command != g->command || f.extended != 0 || f.payload != NULL ||
		    f.payload_len != 0 || f.frame_len != AX_MCB_FRAME_SIZE ||
		    memcmp(f.data, want_data, 8) != 0)
			fail_msg("%s: decoded node 0x%X subnode %u address 0x%03X command %u "
			         "extended %u payload_len %zu frame_len %zu",
			         g->name, f.node, f.subnode, f.address, f.command, f.extended,
			         f.payload_len, f.frame_len);
	}
}

static const uint8_t golden_ext[] = {
        0xa0, 0x00, 0x45, 0x0b, 0x10, 0,    0,    0,    0,    0,    0,    0,    0x64, 0x4d, 0x00,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

static void test_mcb__golden_extended(void **state)
{
	uint8_t payload[16], buf[AX_MCB_MAX_FRAME];
	ax_mcb_frame f;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	expect_code("ext_encode",
	            ax_mcb_encode_write(buf, sizeof(buf), &len, 0, 0x0B4, payload, sizeof(payload)),
	            0);
	expect_bytes("ext_encode", buf, len, golden_ext, sizeof(golden_ext));

	expect_code("ext_decode", ax_mcb_decode(&f, golden_ext, sizeof(golden_ext)), 0);
	assert_int_equal(f.subnode, 0);
	assert_int_equal(f.address, 0x0B4);
	assert_int_equal(f.command, AX_MCB_WRITE);
	assert_int_equal(f.extended, 1);
	assert_int_equal(f.payload_len, 16);
	assert_int_equal(f.frame_len, sizeof(golden_ext));
	assert_ptr_equal(f.payload, golden_ext + AX_MCB_FRAME_SIZE);
	assert_memory_equal(f.payload, payload, sizeof(payload));
}

static void test_mcb__decode_ignores_trailing_bytes(void **state)
{
	uint8_t stream[2 * AX_MCB_FRAME_SIZE];
	ax_mcb_frame f;

	(void)state;
	memcpy(stream, goldens[1].bytes, AX_MCB_FRAME_SIZE);
	memcpy(stream + AX_MCB_FRAME_SIZE, goldens[3].bytes, AX_MCB_FRAME_SIZE);
	assert_int_equal(ax_mcb_decode(&f, stream, sizeof(stream)), 0);
	assert_int_equal(f.frame_len, AX_MCB_FRAME_SIZE);
	assert_int_equal(f.address, 0x011);
	assert_int_equal(ax_mcb_decode(&f, stream + f.frame_len, sizeof(stream) - f.frame_len), 0);
	assert_int_equal(f.address, 0x010);
}

static void test_mcb__golden_replies_pass(void **state)
{
	ax_mcb_frame f;

	(void)state;
	assert_int_equal(ax_mcb_decode(&f, goldens[1].bytes, AX_MCB_FRAME_SIZE), 0);
	expect_code("status_reply", ax_mcb_check_reply(&f, 1, 0x011), 0);
	assert_int_equal(f.data[0] | (f.data[1] << 8), 0x0021);

	assert_int_equal(ax_mcb_decode(&f, goldens[3].bytes, AX_MCB_FRAME_SIZE), 0);
	expect_code("control_reply", ax_mcb_check_reply(&f, 1, 0x010), 0);
	assert_int_equal(f.data[0] | (f.data[1] << 8), 0x000F);
}

static void test_mcb__read_error_reply(void **state)
{
	ax_mcb_frame f;

	(void)state;
	assert_int_equal(ax_mcb_decode(&f, goldens[5].bytes, AX_MCB_FRAME_SIZE), 0);
	expect_code("read_error", ax_mcb_check_reply(&f, 1, 0x011), AX_EDRIVE);
	assert_int_equal(ax_error_last_code(), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), 0x06010000u);
	assert_non_null(strstr(ax_error_last(), "0x011"));

	/* The same error reply for another register is not this request's answer. */
	expect_code("read_error_other", ax_mcb_check_reply(&f, 1, 0x012), AX_EADDR);
	assert_int_equal(ax_error_last_drive_code(), 0);
}

static void test_mcb__write_error_reply(void **state)
{
	uint8_t frame[AX_MCB_FRAME_SIZE] = {0};
	ax_mcb_frame f;
	size_t len;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.subnode = 1;
	f.address = 0x010;
	f.command = AX_MCB_ERR_WRITE;
	value_to_le(f.data, AX_MCB_CODE_RANGE);
	assert_int_equal(ax_mcb_encode(frame, sizeof(frame), &len, &f), 0);
	assert_int_equal(ax_mcb_decode(&f, frame, len), 0);
	expect_code("write_error", ax_mcb_check_reply(&f, 1, 0x010), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_RANGE);
	assert_non_null(strstr(ax_error_last(), "write"));
}

/* An extended write may be answered by a plain ack. */
static void test_mcb__plain_ack_for_extended_write(void **state)
{
	uint8_t frame[AX_MCB_FRAME_SIZE];
	ax_mcb_frame f;
	size_t len;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.address = 0x0B4;
	f.command = AX_MCB_ACK;
	assert_int_equal(ax_mcb_encode(frame, sizeof(frame), &len, &f), 0);
	assert_int_equal(len, AX_MCB_FRAME_SIZE);
	assert_int_equal(ax_mcb_decode(&f, frame, len), 0);
	expect_code("plain_ack", ax_mcb_check_reply(&f, 0, 0x0B4), 0);
}

/* ---- ax_mcb_check_answer(): a reply answers its own request only ------- */

/* Encode @f (plus @extra junk bytes) into @buf, decode it back into @out. */
static size_t answer_frame(uint8_t *buf, size_t cap, const ax_mcb_frame *f, size_t extra,
                           ax_mcb_frame *out)
{
	size_t len = 0;

	if (ax_mcb_encode(buf, cap, &len, f) < 0 || len + extra > cap)
		fail_msg("cannot encode: %s", ax_error_last());
	memset(buf + len, 0xA5, extra);
	if (ax_mcb_decode(out, buf, len + extra) < 0)
		fail_msg("cannot decode: %s", ax_error_last());
	return len + extra;
}

static void test_mcb__answer_golden_pairs(void **state)
{
	ax_mcb_frame req, rep;

	(void)state;
	/* Read status -> ack 0x0021; write control 0x000F -> its echo. */
	assert_int_equal(ax_mcb_decode(&req, goldens[0].bytes, AX_MCB_FRAME_SIZE), 0);
	assert_int_equal(ax_mcb_decode(&rep, goldens[1].bytes, AX_MCB_FRAME_SIZE), 0);
	expect_code("read_status", ax_mcb_check_answer(&rep, AX_MCB_FRAME_SIZE, &req), 0);
	expect_code("read_status_stream", ax_mcb_check_answer(&rep, 0, &req), 0);
	assert_int_equal(ax_mcb_decode(&req, goldens[2].bytes, AX_MCB_FRAME_SIZE), 0);
	assert_int_equal(ax_mcb_decode(&rep, goldens[3].bytes, AX_MCB_FRAME_SIZE), 0);
	expect_code("write_control", ax_mcb_check_answer(&rep, AX_MCB_FRAME_SIZE, &req), 0);

	/* The status word's ack is not the answer to the write of the control word... */
	assert_int_equal(ax_mcb_decode(&rep, goldens[1].bytes, AX_MCB_FRAME_SIZE), 0);
	expect_code("status_ack_for_write", ax_mcb_check_answer(&rep, AX_MCB_FRAME_SIZE, &req),
	            AX_EADDR);
	/* ...and a request is no answer at all. */
	expect_code("request_for_answer", ax_mcb_check_answer(&req, AX_MCB_FRAME_SIZE, &req),
	            AX_EPROTO);
}

/*
 * Which acks answer which requests, on one register (subnode 1, 0x020):
 * a read takes any ack; a write only its own echo, never a payload.
 */
struct ack_case {
	const char *name;
	int write;          /* request: write (1) or read (0) */
	size_t write_len;   /* bytes written: 4 plain, 16 extended */
	uint32_t written;   /* value of a plain write */
	int ack_extended;   /* the ack carries a payload */
	uint32_t ack_value; /* value bytes of a plain ack */
	int want;
};

static const struct ack_case ack_cases[] = {
        {"read takes a plain ack", 0, 0, 0, 0, 0x1234, 0},
        {"read takes an extended ack", 0, 0, 0, 1, 0, 0},
        {"write takes its echo", 1, 4, 0x1234, 0, 0x1234, 0},
        {"write refuses a read's ack of another value", 1, 4, 0x1234, 0, 0x1111, AX_EADDR},
        {"write refuses a zero ack", 1, 4, 0x1234, 0, 0, AX_EADDR},
        {"write refuses an extended ack", 1, 4, 0x1234, 1, 0, AX_EADDR},
        {"extended write takes a plain ack", 1, 16, 0, 0, 0, 0},
        {"extended write refuses an extended ack", 1, 16, 0, 1, 0, AX_EADDR},
};

static void test_mcb__answer_ack_fits_the_command(void **state)
{
	static const uint8_t payload[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

	(void)state;
	for (size_t i = 0; i < sizeof(ack_cases) / sizeof(ack_cases[0]); i++) {
		const struct ack_case *c = &ack_cases[i];
		uint8_t value[16], buf[AX_MCB_MAX_FRAME];
		ax_mcb_frame req, ack, rep;
		size_t len;
		int err;

		memset(value, 0, sizeof(value));
		if (c->write_len == 4)
			value_to_le(value, c->written);
		else
			memcpy(value, payload, sizeof(payload));
		err = ax_mcb_request(&req, c->write ? AX_MCB_WRITE : AX_MCB_READ, 1, 0x020,
		                     c->write ? value : NULL, c->write ? c->write_len : 0);
		expect_code(c->name, err, 0);

		memset(&ack, 0, sizeof(ack));
		ack.subnode = 1;
		ack.address = 0x020;
		ack.command = AX_MCB_ACK;
		if (c->ack_extended) {
			ack.extended = 1;
			ack.payload = payload;
			ack.payload_len = sizeof(payload);
		} else {
			value_to_le(ack.data, c->ack_value);
		}
		len = answer_frame(buf, sizeof(buf), &ack, 0, &rep);
		err = ax_mcb_check_answer(&rep, len, &req);
		expect_code(c->name, err, c->want);
		if (c->want == AX_EADDR &&
		    !strstr(ax_error_last(), "write of subnode 1 register 0x020"))
			fail_msg("%s: message '%s' does not name the write", c->name,
			         ax_error_last());
	}
}

/* A reply that arrived in a known number of bytes must be exactly one frame. */
struct one_frame_case {
	const char *name;
	size_t payload; /* extended payload the header declares; 0 = plain */
	size_t extra;   /* bytes after the frame */
	int want;
};

static const struct one_frame_case one_frame_cases[] = {
        {"plain, exact", 0, 0, 0},
        {"plain, 1 byte of junk after it", 0, 1, AX_EPROTO},
        {"plain, 6 bytes of junk after it", 0, 6, AX_EPROTO},
        {"extended 4, exact", 4, 0, 0},
        {"extended declaring 4, carrying 16", 4, 12, AX_EPROTO},
        {"extended 512, exact", 512, 0, 0},
};

static void test_mcb__answer_is_one_frame(void **state)
{
	static uint8_t payload[AX_MCB_MAX_PAYLOAD];

	(void)state;
	for (size_t i = 0; i < sizeof(one_frame_cases) / sizeof(one_frame_cases[0]); i++) {
		const struct one_frame_case *c = &one_frame_cases[i];
		uint8_t buf[AX_MCB_MAX_FRAME + 16];
		ax_mcb_frame req, f, rep;
		size_t len;
		int err;

		assert_int_equal(ax_mcb_request(&req, AX_MCB_READ, 0, 0x0B4, NULL, 0), 0);
		memset(&f, 0, sizeof(f));
		f.address = 0x0B4;
		f.command = AX_MCB_ACK;
		if (c->payload) {
			f.extended = 1;
			f.payload = payload;
			f.payload_len = c->payload;
		}
		len = answer_frame(buf, sizeof(buf), &f, c->extra, &rep);
		err = ax_mcb_check_answer(&rep, len, &req);
		expect_code(c->name, err, c->want);
		if (c->want == AX_EPROTO &&
		    (!strstr(ax_error_last(), "read of subnode 0 register 0x0B4") ||
		     !strstr(ax_error_last(), "malformed")))
			fail_msg("%s: message '%s'", c->name, ax_error_last());
		/* Without a known length (a byte stream) the frame stands alone. */
		expect_code(c->name, ax_mcb_check_answer(&rep, 0, &req), 0);
	}
	/* Declaring more than came is refused by the decoder already. */
	{
		uint8_t buf[AX_MCB_MAX_FRAME];
		ax_mcb_frame f, rep;
		size_t len = 0;

		memset(&f, 0, sizeof(f));
		f.command = AX_MCB_ACK;
		f.extended = 1;
		f.payload = payload;
		f.payload_len = 16;
		assert_int_equal(ax_mcb_encode(buf, sizeof(buf), &len, &f), 0);
		expect_code("extended declaring 16, carrying 15", ax_mcb_decode(&rep, buf, len - 1),
		            AX_ETRUNC);
	}
}

/* An error reply refuses the request; the message is worded after the request. */
static void test_mcb__answer_error_names_the_request(void **state)
{
	uint8_t buf[AX_MCB_FRAME_SIZE];
	ax_mcb_frame req, f, rep;
	size_t len;

	(void)state;
	/* The golden read-error reply to "read status". */
	assert_int_equal(ax_mcb_decode(&req, goldens[0].bytes, AX_MCB_FRAME_SIZE), 0);
	assert_int_equal(ax_mcb_decode(&rep, goldens[5].bytes, AX_MCB_FRAME_SIZE), 0);
	expect_code("read_error", ax_mcb_check_answer(&rep, AX_MCB_FRAME_SIZE, &req), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_ACCESS);
	assert_string_equal(ax_error_last(),
	                    "read of subnode 1 register 0x011 refused: drive answered read-error "
	                    "0x06010000 (unsupported access to an object)");

	/* A write-error reply to a read: the message says what was asked and what came. */
	memset(&f, 0, sizeof(f));
	f.subnode = 1;
	f.address = 0x011;
	f.command = AX_MCB_ERR_WRITE;
	value_to_le(f.data, AX_MCB_CODE_ACCESS);
	len = answer_frame(buf, sizeof(buf), &f, 0, &rep);
	expect_code("write_error_to_read", ax_mcb_check_answer(&rep, len, &req), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_ACCESS);
	assert_string_equal(ax_error_last(),
	                    "read of subnode 1 register 0x011 refused: drive answered write-error "
	                    "0x06010000 (unsupported access to an object)");
	assert_null(strstr(ax_error_last(), "refused write"));

	/* The older check, which knows no request kind, quotes the reply alone. */
	expect_code("check_reply", ax_mcb_check_reply(&rep, 1, 0x011), AX_EDRIVE);
	assert_string_equal(ax_error_last(),
	                    "subnode 1 register 0x011 refused: drive answered write-error "
	                    "0x06010000 (unsupported access to an object)");

	/* A code the table does not know is quoted bare. */
	value_to_le(f.data, 0x12345678u);
	f.command = AX_MCB_ERR_INFO;
	len = answer_frame(buf, sizeof(buf), &f, 0, &rep);
	expect_code("info_error", ax_mcb_check_answer(&rep, len, &req), AX_EDRIVE);
	assert_string_equal(ax_error_last(), "read of subnode 1 register 0x011 refused: drive "
	                                     "answered info-error 0x12345678");
}

static void test_mcb__answer_refuses_bad_requests(void **state)
{
	ax_mcb_frame req, rep;

	(void)state;
	assert_int_equal(ax_mcb_decode(&rep, goldens[1].bytes, AX_MCB_FRAME_SIZE), 0);
	assert_int_equal(ax_mcb_decode(&req, goldens[1].bytes, AX_MCB_FRAME_SIZE), 0);
	expect_code("ack_as_request", ax_mcb_check_answer(&rep, 0, &req), AX_EINVAL);
	assert_int_equal(ax_mcb_decode(&req, goldens[0].bytes, AX_MCB_FRAME_SIZE), 0);
	req.address = 0x1000;
	expect_code("address_out_of_range", ax_mcb_check_answer(&rep, 0, &req), AX_EINVAL);
}

/* Malformed replies to "read subnode 1 register 0x011", each with its own code. */
enum mutation {
	MUT_SHORT,
	MUT_BAD_CRC,
	MUT_OTHER_ADDRESS,
	MUT_OTHER_SUBNODE,
	MUT_EXT_TOO_LONG,
	MUT_EXT_TRUNCATED,
	MUT_NODE_B,
	MUT_COMMAND_7,
	MUT_COMMAND_0,
	MUT_ECHOED_READ,
	MUT_ECHOED_WRITE,
};

struct bad_reply {
	const char *name;
	enum mutation mut;
	int want;
	const char *want_text; /* substring the message must hold */
};

/* clang-format off */
static const struct bad_reply bad_replies[] = {
	{ "short_13_bytes", MUT_SHORT, AX_ETRUNC, "13 bytes" },
	{ "bad_crc", MUT_BAD_CRC, AX_ECRC, "does not match computed 0xF7C5" },
	{ "wrong_address", MUT_OTHER_ADDRESS, AX_EADDR,
	  "reply is for subnode 1 register 0x012, expected subnode 1 register 0x011" },
	{ "wrong_subnode", MUT_OTHER_SUBNODE, AX_EADDR,
	  "reply is for subnode 2 register 0x011, expected subnode 1 register 0x011" },
	{ "extended_length_513", MUT_EXT_TOO_LONG, AX_ETOOBIG, "513" },
	{ "extended_truncated", MUT_EXT_TRUNCATED, AX_ETRUNC, "only 3 follow" },
	{ "node_0xB", MUT_NODE_B, AX_EPROTO, "node 0xB" },
	{ "command_7", MUT_COMMAND_7, AX_EPROTO, "command 7" },
	{ "command_0", MUT_COMMAND_0, AX_EPROTO, "command 0" },
	{ "echoed_read", MUT_ECHOED_READ, AX_EPROTO, "read request" },
	{ "echoed_write", MUT_ECHOED_WRITE, AX_EPROTO, "write request" },
};
/* clang-format on */

static size_t make_bad_reply(uint8_t *buf, enum mutation mut)
{
	size_t len = AX_MCB_FRAME_SIZE;

	memcpy(buf, goldens[1].bytes, AX_MCB_FRAME_SIZE); /* ack of 1/0x011, value 0x21 */
	switch (mut) {
	case MUT_SHORT:
		return AX_MCB_FRAME_SIZE - 1;
	case MUT_BAD_CRC:
		buf[12] ^= 0x01;
		return len;
	case MUT_OTHER_ADDRESS:
		buf[2] = 0x26; /* address 0x012, command ack */
		break;
	case MUT_OTHER_SUBNODE:
		buf[0] = 0xa2;
		break;
	case MUT_EXT_TOO_LONG:
	case MUT_EXT_TRUNCATED:
		buf[2] |= 0x01;
		memset(buf + 4, 0, 8);
		buf[4] = (uint8_t)(mut == MUT_EXT_TOO_LONG ? 0x01 : 0x10);
		buf[5] = (uint8_t)(mut == MUT_EXT_TOO_LONG ? 0x02 : 0x00);
		len = mut == MUT_EXT_TOO_LONG ? AX_MCB_MAX_FRAME + 1 : AX_MCB_FRAME_SIZE + 3;
		memset(buf + AX_MCB_FRAME_SIZE, 0x5A, len - AX_MCB_FRAME_SIZE);
		break;
	case MUT_NODE_B:
		buf[0] = 0xb1;
		break;
	case MUT_COMMAND_7:
		buf[2] = (uint8_t)((buf[2] & 0xF1) | (7 << 1));
		break;
	case MUT_COMMAND_0:
		buf[2] = (uint8_t)(buf[2] & 0xF1);
		break;
	case MUT_ECHOED_READ:
		buf[2] = (uint8_t)((buf[2] & 0xF1) | (AX_MCB_READ << 1));
		break;
	case MUT_ECHOED_WRITE:
		buf[2] = (uint8_t)((buf[2] & 0xF1) | (AX_MCB_WRITE << 1));
		break;
	}
	reseal(buf);
	return len;
}

static void test_mcb__malformed_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
		const struct bad_reply *c = &bad_replies[i];
		uint8_t buf[AX_MCB_MAX_FRAME + 1];
		ax_mcb_frame f, before;
		size_t len = make_bad_reply(buf, c->mut);
		int err;

		memset(&f, 0xCC, sizeof(f));
		before = f;
		ax_error_clear();
		err = ax_mcb_decode(&f, buf, len);
		if (err < 0) {
			/* A failed decode leaves the caller's frame alone. */
			if (memcmp(&f, &before, sizeof(f)) != 0)
				fail_msg("%s: decode wrote its out param on failure", c->name);
		} else {
			err = ax_mcb_check_reply(&f, 1, 0x011);
		}
		expect_code(c->name, err, c->want);
		if (!strstr(ax_error_last(), c->want_text))
			fail_msg("%s: message '%s' lacks '%s'", c->name, ax_error_last(),
			         c->want_text);
	}
}

struct bad_encode {
	const char *name;
	unsigned subnode;
	unsigned address;
	unsigned command;
	size_t payload_len;
	size_t cap;
	int want;
};

/* clang-format off */
static const struct bad_encode bad_encodes[] = {
	{ "subnode_15_ok", 15, 0x011, AX_MCB_READ, 0, AX_MCB_MAX_FRAME, 0 },
	{ "subnode_16", 16, 0x011, AX_MCB_READ, 0, AX_MCB_MAX_FRAME, AX_EINVAL },
	{ "address_0xFFF_ok", 1, 0xFFF, AX_MCB_READ, 0, AX_MCB_MAX_FRAME, 0 },
	{ "address_0x1000", 1, 0x1000, AX_MCB_READ, 0, AX_MCB_MAX_FRAME, AX_EINVAL },
	{ "command_0", 1, 0x011, 0, 0, AX_MCB_MAX_FRAME, AX_EINVAL },
	{ "command_7", 1, 0x011, 7, 0, AX_MCB_MAX_FRAME, AX_EINVAL },
	{ "payload_512_ok", 1, 0x011, AX_MCB_WRITE, 512, AX_MCB_MAX_FRAME, 0 },
	{ "payload_513", 1, 0x011, AX_MCB_WRITE, 513, AX_MCB_MAX_FRAME + 1, AX_ETOOBIG },
	{ "cap_13", 1, 0x011, AX_MCB_READ, 0, 13, AX_ETOOBIG },
	{ "cap_short_of_payload", 1, 0x011, AX_MCB_WRITE, 16, 29, AX_ETOOBIG },
	{ "cap_exact_payload", 1, 0x011, AX_MCB_WRITE, 16, 30, 0 },
};
/* clang-format on */

static void test_mcb__encode_refuses(void **state)
{
	static uint8_t payload[AX_MCB_MAX_PAYLOAD + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_encodes) / sizeof(bad_encodes[0]); i++) {
		const struct bad_encode *c = &bad_encodes[i];
		uint8_t buf[AX_MCB_MAX_FRAME + 1];
		ax_mcb_frame f;
		size_t len = 777;
		int err;

		memset(&f, 0, sizeof(f));
		f.subnode = (uint8_t)c->subnode;
		f.address = (uint16_t)c->address;
		f.command = (uint8_t)c->command;
		f.payload = c->payload_len ? payload : NULL;
		f.payload_len = c->payload_len;
		/* The struct fields are narrower than the limits; test the unsigned API too. */
		if (c->subnode > 15 || c->address > 0xFFF)
			err = ax_mcb_encode_write(buf, c->cap, &len, c->subnode, c->address,
			                          payload, 4);
		else
			err = ax_mcb_encode(buf, c->cap, &len, &f);
		expect_code(c->name, err, c->want);
		if (err < 0 && len != 777)
			fail_msg("%s: len_out written on failure", c->name);
	}
	expect_code("encode_read_subnode_16", ax_mcb_encode_read(payload, 16, 0x011), AX_EINVAL);
	expect_code("encode_read_address_0x1000", ax_mcb_encode_read(payload, 0, 0x1000),
	            AX_EINVAL);
}

static void test_mcb__extended_512_round_trip(void **state)
{
	static uint8_t payload[AX_MCB_MAX_PAYLOAD];
	static uint8_t buf[AX_MCB_MAX_FRAME];
	ax_mcb_frame f;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(
	        ax_mcb_encode_write(buf, sizeof(buf), &len, 2, 0x6E4, payload, sizeof(payload)), 0);
	assert_int_equal(len, AX_MCB_MAX_FRAME);
	assert_int_equal(ax_mcb_decode(&f, buf, len), 0);
	assert_int_equal(f.extended, 1);
	assert_int_equal(f.subnode, 2);
	assert_int_equal(f.address, 0x6E4);
	assert_int_equal(f.command, AX_MCB_WRITE);
	assert_int_equal(f.payload_len, AX_MCB_MAX_PAYLOAD);
	assert_int_equal(f.frame_len, AX_MCB_MAX_FRAME);
	assert_memory_equal(f.payload, payload, sizeof(payload));
	/* One byte short of the declared payload is a truncated frame. */
	assert_int_equal(ax_mcb_decode(&f, buf, len - 1), AX_ETRUNC);
}

static void test_mcb__cmd_names(void **state)
{
	static const char *const names[] = {NULL,         "read",       "write",       "ack",
	                                    "info-error", "read-error", "write-error", NULL};

	(void)state;
	for (int cmd = 0; cmd < 8; cmd++) {
		const char *got = ax_mcb_cmd_name(cmd);

		if (!names[cmd] ? got != NULL : !got || strcmp(got, names[cmd]) != 0)
			fail_msg("command %d: name '%s', want '%s'", cmd, got ? got : "(null)",
			         names[cmd] ? names[cmd] : "(null)");
	}
	assert_null(ax_mcb_cmd_name(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_mcb__crc_check_value),
	        cmocka_unit_test(test_mcb__golden_encode),
	        cmocka_unit_test(test_mcb__golden_encode_helpers),
	        cmocka_unit_test(test_mcb__golden_decode),
	        cmocka_unit_test(test_mcb__golden_extended),
	        cmocka_unit_test(test_mcb__decode_ignores_trailing_bytes),
	        cmocka_unit_test(test_mcb__golden_replies_pass),
	        cmocka_unit_test(test_mcb__read_error_reply),
	        cmocka_unit_test(test_mcb__write_error_reply),
	        cmocka_unit_test(test_mcb__plain_ack_for_extended_write),
	        cmocka_unit_test(test_mcb__answer_golden_pairs),
	        cmocka_unit_test(test_mcb__answer_ack_fits_the_command),
	        cmocka_unit_test(test_mcb__answer_is_one_frame),
	        cmocka_unit_test(test_mcb__answer_error_names_the_request),
	        cmocka_unit_test(test_mcb__answer_refuses_bad_requests),
	        cmocka_unit_test(test_mcb__malformed_replies),
	        cmocka_unit_test(test_mcb__encode_refuses),
	        cmocka_unit_test(test_mcb__extended_512_round_trip),
	        cmocka_unit_test(test_mcb__cmd_names),
	};

	return cmocka_run_group_tests_name("mcb", tests, NULL, NULL);
}
