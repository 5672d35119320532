/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the `can` transport's SDO client (CiA 301): whatever a server (or
 * anything else on the bus) sends, the transfer state machine never
 * writes past the caller's buffer, answers only with its documented
 * results, sends only 8-byte frames to its own node's server COB-ID, and
 * ends a finished upload with no more bytes than the server announced.
 *
 * Input: byte 0 picks the transfer (bit 0: upload or download, bits 1-5:
 * buffer size or value length 0..31); then 9-byte records, each one frame
 * (byte 0: the node offset and length, bytes 1-8 the data).
 */
#include <string.h>

#include "../../transports/can/can_codec.c"
#include "fuzz.h"

#define NODE 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[32 + 8], value[32];
	struct can_sdo_xfer x;
	size_t cap;

	if (size < 1)
		return 0;
	cap = data[0] >> 1 & 31u;
	memset(buf, 0xA5, sizeof(buf));
	for (size_t i = 0; i < sizeof(value); i++)
		value[i] = (uint8_t)i;
	if (data[0] & 1)
		can_sdo_upload_start(&x, NODE, 0x2000, 1, buf, cap);
	else
		can_sdo_download_start(&x, NODE, 0x2000, 1, value, cap);
	for (size_t off = 1; off + 9 <= size; off += 9) {
		struct can_msg m = {0};
		int r;

		/* Mostly our node's responses; sometimes another node, or a short frame. */
		m.id = CAN_COB_SDO_TX + NODE + (data[off] & 0x30 ? 0 : (data[off] & 3u));
		m.len = data[off] & 0x40 ? (uint8_t)(data[off] & 7u) : 8u;
		memcpy(m.data, data + off + 1, 8);
		r = can_sdo_step(&x, &m);
		FUZZ_CHECK(r == CAN_SDO_SEND || r == CAN_SDO_DONE || r == CAN_SDO_SKIP ||
		                   r == CAN_SDO_EABORT || r == CAN_SDO_EPROTO ||
		                   r == CAN_SDO_ETOOBIG,
		           "result %d", r);
		FUZZ_CHECK(x.len <= x.cap, "moved %zu of %zu", x.len, x.cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			FUZZ_CHECK(buf[i] == 0xA5, "wrote past the buffer at %zu", i);
		if (r == CAN_SDO_SEND || r == CAN_SDO_EPROTO || r == CAN_SDO_ETOOBIG)
			FUZZ_CHECK(x.next.id == CAN_COB_SDO_RX + NODE && x.next.len == 8,
			           "request to 0x%X of %u bytes", (unsigned)x.next.id, x.next.len);
		if (r == CAN_SDO_EPROTO || r == CAN_SDO_ETOOBIG)
			FUZZ_CHECK(x.next.data[0] == 0x80 && x.why[0], "no abort or reason");
		if (r == CAN_SDO_DONE && x.upload && x.size != SIZE_MAX)
			FUZZ_CHECK(x.len == x.size || x.len <= 4, "got %zu of %zu", x.len, x.size);
		if (r == CAN_SDO_DONE && !x.upload)
			FUZZ_CHECK(x.len == cap, "downloaded %zu of %zu", x.len, cap);
		if (r != CAN_SDO_SEND && r != CAN_SDO_SKIP)
			break;
	}
	return 0;
}
