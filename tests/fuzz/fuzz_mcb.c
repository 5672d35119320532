/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the MCB frame decoder and the reply check: whatever bytes a peer
 * sends, ax_mcb_decode() either refuses them with one of its documented
 * codes or yields a frame that lies inside the buffer and encodes back to
 * exactly the bytes it came from. ax_mcb_check_reply() then accepts only an
 * ack of the very register asked for, ax_mcb_check_answer() only an exact
 * frame answering the request's kind, and ax_mcb_reply_value() never copies
 * more than the buffer it is given.
 *
 * The first two input bytes pick the register the "request" asked for, so
 * the fuzzer can steer both matching and mismatching replies; the rest is
 * the datagram.
 */
#include <string.h>

#include "axlink/error.h"
#include "axlink/mcb.h"
#include "fuzz.h"

static void check_value_copy(const ax_mcb_frame *f, size_t cap)
{
	uint8_t buf[AX_MCB_MAX_PAYLOAD + 16];
	size_t want = f->extended ? f->payload_len : sizeof(f->data);
	size_t len = 12345;
	int err;

	/* Canary past @cap: a copy over the limit shows even without ASan. */
	memset(buf, 0xA5, sizeof(buf));
	err = ax_mcb_reply_value(f, buf, cap, &len);
	if (want > cap) {
		FUZZ_CHECK(err == AX_ETOOBIG, "%zu bytes into %zu gave %d", want, cap, err);
		FUZZ_CHECK(len == 12345, "len_out written on failure");
	} else {
		FUZZ_CHECK(err == 0, "%zu bytes into %zu gave %d (%s)", want, cap, err,
		           ax_error_last());
		FUZZ_CHECK(len == want, "copied %zu of %zu", len, want);
		FUZZ_CHECK(!memcmp(buf, f->extended ? f->payload : f->data, len),
		           "copied bytes differ");
	}
	for (size_t i = cap; i < sizeof(buf); i++)
		FUZZ_CHECK(buf[i] == 0xA5, "byte %zu past a %zu-byte buffer written", i, cap);
}

/*
 * ax_mcb_check_answer() against a read and a write of the register asked
 * for, the input taken as one datagram of @size bytes: it passes only an
 * exact frame of that register; a write's ack only with the write's value.
 */
static void check_answer(const ax_mcb_frame *f, size_t size, unsigned subnode, unsigned address)
{
	ax_mcb_frame rd, wr;
	int err;

	FUZZ_CHECK(ax_mcb_request(&rd, AX_MCB_READ, subnode, address, NULL, 0) == 0,
	           "read request: %s", ax_error_last());
	FUZZ_CHECK(ax_mcb_request(&wr, AX_MCB_WRITE, subnode, address, f->data, 8) == 0,
	           "write request: %s", ax_error_last());
	for (int w = 0; w < 2; w++) {
		const ax_mcb_frame *req = w ? &wr : &rd;

		err = ax_mcb_check_answer(f, size, req);
		FUZZ_CHECK(err == 0 || err == AX_EPROTO || err == AX_EADDR || err == AX_EDRIVE,
		           "undocumented code %d (%s)", err, ax_error_last());
		if (err == 0)
			FUZZ_CHECK(f->command == AX_MCB_ACK && f->subnode == subnode &&
			                   f->address == address && f->frame_len == size &&
			                   (!w || !f->extended || f->payload_len == 0),
			           "%s answered by a %s of %u:0x%X in %zu of %zu bytes",
			           w ? "write" : "read", ax_mcb_cmd_name(f->command), f->subnode,
			           f->address, f->frame_len, size);
		if (f->command == AX_MCB_ACK && f->subnode == subnode && f->address == address &&
		    f->frame_len == size && !f->extended)
			FUZZ_CHECK(err == 0, "ack of the %s refused: %d (%s)", w ? "write" : "read",
			           err, ax_error_last());
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[AX_MCB_MAX_FRAME];
	unsigned want_subnode = 0, want_address = 0;
	ax_mcb_frame f;
	size_t len = 0;
	int err;

	if (size >= 2) {
		want_subnode = data[0] & 0xF;
		want_address = ((unsigned)data[1] << 4 | data[0] >> 4) & 0xFFF;
		data += 2;
		size -= 2;
	}

	memset(&f, 0x5A, sizeof(f));
	err = ax_mcb_decode(&f, data, size);
	if (err < 0) {
		FUZZ_CHECK(err == AX_ETRUNC || err == AX_ECRC || err == AX_ETOOBIG ||
		                   err == AX_EPROTO,
		           "undocumented code %d (%s)", err, ax_error_last());
		FUZZ_CHECK(ax_error_last()[0] != '\0', "code %d without a message", err);
		return 0;
	}

	/* The frame lies inside the input, and its parts inside the frame. */
	FUZZ_CHECK(f.frame_len >= AX_MCB_FRAME_SIZE && f.frame_len <= size,
	           "frame_len %zu of %zu input bytes", f.frame_len, size);
	FUZZ_CHECK(f.frame_len == AX_MCB_FRAME_SIZE + f.payload_len, "frame_len %zu, payload %zu",
	           f.frame_len, f.payload_len);
	FUZZ_CHECK(f.payload_len <= AX_MCB_MAX_PAYLOAD, "payload %zu", f.payload_len);
	FUZZ_CHECK(f.extended || (f.payload == NULL && f.payload_len == 0),
	           "plain frame with a payload");
	FUZZ_CHECK(!f.extended || f.payload == data + AX_MCB_FRAME_SIZE,
	           "payload does not follow the header");
	FUZZ_CHECK(f.node == AX_MCB_NODE && f.subnode <= AX_MCB_MAX_SUBNODE &&
	                   f.address <= AX_MCB_MAX_ADDRESS && ax_mcb_cmd_name(f.command),
	           "node %u subnode %u address 0x%X command %u", f.node, f.subnode, f.address,
	           f.command);

	/* Decoding loses nothing: the frame encodes back to the same bytes. */
	err = ax_mcb_encode(again, sizeof(again), &len, &f);
	FUZZ_CHECK(err == 0, "re-encoding a decoded frame: %d (%s)", err, ax_error_last());
	FUZZ_CHECK(len == f.frame_len && !memcmp(again, data, len),
	           "re-encoded %zu bytes differ from the %zu decoded", len, f.frame_len);

	err = ax_mcb_check_reply(&f, want_subnode, want_address);
	switch (f.command) {
	case AX_MCB_READ:
	case AX_MCB_WRITE:
		FUZZ_CHECK(err == AX_EPROTO, "a request taken as a reply: %d", err);
		break;
	default:
		if (f.subnode != want_subnode || f.address != want_address)
			FUZZ_CHECK(err == AX_EADDR, "reply for %u:0x%X taken for %u:0x%X: %d",
			           f.subnode, f.address, want_subnode, want_address, err);
		else if (f.command == AX_MCB_ACK)
			FUZZ_CHECK(err == 0, "ack refused: %d (%s)", err, ax_error_last());
		else
			FUZZ_CHECK(err == AX_EDRIVE, "error reply gave %d", err);
	}

	check_answer(&f, size, want_subnode, want_address);

	check_value_copy(&f, 0);
	check_value_copy(&f, 8);
	check_value_copy(&f, f.payload_len ? f.payload_len - 1 : 4);
	check_value_copy(&f, AX_MCB_MAX_PAYLOAD);
	return 0;
}
