/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the simulated drive's request handler, simdrive_handle(), the code
 * that the simulator runs on every datagram a client (or anyone on the
 * network) sends it. The input is a session:
 *
 *   byte 0     bits 0-3 model, bits 4-5 reply buffer size, bits 6-7 the
 *              clock step between frames: 1 ms, 10 ms, 100 ms or 1 s
 *   then       frames, one after another: 14 header bytes plus, when the
 *              header says extended with a length up to 512, that many more;
 *              whatever is left at the end is one last (short) datagram
 *
 * The simulated clock advances one step before each frame, so motion,
 * homing and the state machine's timeouts run (a long step gets a search
 * to its end in a few frames). Every decodable request must get exactly one reply;
 * the reply must decode, answer the same register with an ack or the
 * matching error command, and stay inside the buffer it was given (the
 * buffer is allocated to size, so ASan sees any overrun).
 */
#include <string.h>

#include "axlink/mcb.h"
#include "fuzz.h"
#include "simdrive.h"

static const simdrive_codec fuzz_codec = {ax_mcb_encode, ax_mcb_decode};

/* Buffer sizes to answer into: always enough, header only, and one byte short of a string. */
static const size_t reply_caps[] = {AX_MCB_MAX_FRAME, AX_MCB_FRAME_SIZE, AX_MCB_FRAME_SIZE + 7,
                                    AX_MCB_MAX_FRAME - 1};

static const uint64_t steps_ns[] = {1000000u, 10000000u, 100000000u, 1000000000u};

static size_t n_models(void)
{
	size_t n = 0;

	while (simdrive_models()[n].name)
		n++;
	return n;
}

/* Length of the frame at @p (of @left bytes) as a sender means it. */
static size_t frame_extent(const uint8_t *p, size_t left)
{
	uint64_t plen = 0;

	if (left < AX_MCB_FRAME_SIZE)
		return left;
	if (!(p[2] & 1))
		return AX_MCB_FRAME_SIZE;
	for (int i = 7; i >= 0; i--)
		plen = plen << 8 | p[4 + i];
	if (plen > AX_MCB_MAX_PAYLOAD || plen > left - AX_MCB_FRAME_SIZE)
		return left; /* an over-long or truncated one: the rest of the input */
	return AX_MCB_FRAME_SIZE + (size_t)plen;
}

static void check_reply(const uint8_t *req, size_t req_len, const uint8_t *reply, size_t n,
                        size_t cap)
{
	ax_mcb_frame rq, rp;
	int is_request;

	is_request = ax_mcb_decode(&rq, req, req_len) == 0 &&
	             (rq.command == AX_MCB_READ || rq.command == AX_MCB_WRITE);
	if (!is_request) {
		FUZZ_CHECK(n == 0, "answered a %zu-byte datagram that is no request", req_len);
		return;
	}
	/* Only a buffer too small for the reply may leave a request unanswered. */
	if (n == 0) {
		FUZZ_CHECK(cap < AX_MCB_MAX_FRAME, "request for %u:0x%03X dropped", rq.subnode,
		           rq.address);
		return;
	}
	FUZZ_CHECK(n <= cap, "reply of %zu bytes into %zu", n, cap);
	FUZZ_CHECK(ax_mcb_decode(&rp, reply, n) == 0, "reply does not decode");
	FUZZ_CHECK(rp.frame_len == n, "reply of %zu bytes says %zu", n, rp.frame_len);
	FUZZ_CHECK(rp.subnode == rq.subnode && rp.address == rq.address,
	           "request for %u:0x%03X answered for %u:0x%03X", rq.subnode, rq.address,
	           rp.subnode, rp.address);
	if (rq.command == AX_MCB_READ)
		FUZZ_CHECK(rp.command == AX_MCB_ACK || rp.command == AX_MCB_ERR_READ,
		           "read answered with command %u", rp.command);
	else
		FUZZ_CHECK(rp.command == AX_MCB_ACK || rp.command == AX_MCB_ERR_WRITE,
		           "write answered with command %u", rp.command);
	FUZZ_CHECK(rp.command == AX_MCB_ACK || !rp.extended, "extended error reply");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const simdrive_model *models = simdrive_models();
	uint64_t now_ns = 1000000000u;
	simdrive *d = NULL;
	uint64_t step_ns;
	uint8_t *reply;
	size_t cap;

	if (size < 1)
		return 0;
	cap = reply_caps[(data[0] >> 4) & 3];
	step_ns = steps_ns[data[0] >> 6];
	FUZZ_CHECK(simdrive_new(&d, &fuzz_codec, models[(data[0] & 0xF) % n_models()].name, 1000) ==
	                   0,
	           "cannot create a drive");
	reply = malloc(cap);
	FUZZ_CHECK(reply != NULL, "out of memory");
	data++;
	size--;

	while (size > 0) {
		size_t len = frame_extent(data, size), n;
		const char *why = "unset";
		/* An exact-size copy, so a read past the datagram is caught too. */
		uint8_t *req = malloc(len);

		FUZZ_CHECK(req != NULL, "out of memory");
		memcpy(req, data, len);
		simdrive_tick(d, now_ns);
		n = simdrive_handle(d, req, len, reply, cap, &why);
		check_reply(req, len, reply, n, cap);
		FUZZ_CHECK(n > 0 || why != NULL, "dropped without a reason");
		free(req);
		data += len;
		size -= len;
		now_ns += step_ns;
	}
	free(reply);
	simdrive_free(d);
	return 0;
}
