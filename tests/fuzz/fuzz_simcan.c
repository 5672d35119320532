/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the simulator's CANopen node (tools/sim/drive/simcanopen.c): the SDO
 * server, NMT and the time-driven services that axlink-sim runs on every
 * frame a client puts on its CAN bus (slcan, socketcand). The input is a
 * session:
 *
 *   byte 0     bits 0-1 model, bits 2-7 the heartbeat period in ms (0: none)
 *   then       records of 10 bytes:
 *                [0] bits 0-1 what: 0 a request to the node (0x600 + id),
 *                    1 NMT (0x000), 2 another COB-ID (0x600 + [0] bits 5-7),
 *                    3 nothing (time only); bits 2-4 the clock step before
 *                    it: 0, 1 ms, 10 ms, 100 ms, 1 s, 2 s, 1 ms, 5 ms
 *                [1] bits 0-3 length (9..15 count as 8), bit 6 extended id,
 *                    bit 7 remote frame
 *                [2..9] data
 *
 * The node is polled at every step, as the simulator's loop does. Every
 * frame it sends must be its own (SDO response, heartbeat, EMCY), classic
 * and at most 8 bytes; an 8-byte request to a node that is not stopped
 * gets exactly one response (none for a client's abort), a stopped node
 * none; the output array is allocated to its documented size, so ASan sees
 * a node that writes more.
 */
#include <string.h>

#include "axlink/mcb.h"
#include "fuzz.h"
#include "simcanopen.h"
#include "simdrive.h"

#define FUZZ_NODE 5u

static const simdrive_codec fuzz_codec = {ax_mcb_encode, ax_mcb_decode};

static const uint64_t steps_ns[] = {0,           1000000u,    10000000u, 100000000u,
                                    1000000000u, 2000000000u, 1000000u,  5000000u};

static size_t n_models(void)
{
	size_t n = 0;

	while (simdrive_models()[n].name)
		n++;
	return n;
}

static void check_out(const simcan_frame *out, size_t n)
{
	FUZZ_CHECK(n <= SIMCANOPEN_MAX_OUT, "%zu frames", n);
	for (size_t i = 0; i < n; i++) {
		const simcan_frame *f = &out[i];

		FUZZ_CHECK(!f->ext && !f->rtr && f->len <= 8, "frame 0x%X len %u", (unsigned)f->id,
		           f->len);
		FUZZ_CHECK(f->id == SIMCANOPEN_COB_SDO_TX + FUZZ_NODE ||
		                   f->id == SIMCANOPEN_COB_HEARTBEAT + FUZZ_NODE ||
		                   f->id == SIMCANOPEN_COB_EMCY + FUZZ_NODE,
		           "frame from COB-ID 0x%X", (unsigned)f->id);
		FUZZ_CHECK(f->id != SIMCANOPEN_COB_SDO_TX + FUZZ_NODE || f->len == 8,
		           "SDO response of %u bytes", f->len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const simdrive_model *model;
	simcan_frame *out = NULL;
	simdrive *drive = NULL;
	simcanopen *node = NULL;
	uint64_t now = 1000000000u;
	size_t n;

	if (size < 1)
		return 0;
	model = &simdrive_models()[(data[0] & 3) % n_models()];
	out = malloc(SIMCANOPEN_MAX_OUT * sizeof(*out));
	FUZZ_CHECK(out != NULL, "out of memory");
	FUZZ_CHECK(simdrive_new(&drive, &fuzz_codec, model->name, 77) == 0, "%s", model->name);
	FUZZ_CHECK(simcanopen_new(&node, drive, model->name, FUZZ_NODE, data[0] >> 2, NULL) == 0,
	           "%s has no CAN interface", model->name);
	check_out(out, simcanopen_poll(node, now, out));

	for (size_t off = 1; off + 10 <= size; off += 10) {
		const uint8_t *r = data + off;
		simcan_frame in = {0};
		int stopped;

		now += steps_ns[(r[0] >> 2) & 7];
		check_out(out, simcanopen_poll(node, now, out));
		if ((r[0] & 3) == 3)
			continue;
		in.len = (uint8_t)((r[1] & 0x0F) > 8 ? 8 : (r[1] & 0x0F));
		in.ext = (r[1] >> 6) & 1;
		in.rtr = (r[1] >> 7) & 1;
		memcpy(in.data, r + 2, 8);
		switch (r[0] & 3) {
		case 0:
			in.id = SIMCANOPEN_COB_SDO_RX + FUZZ_NODE;
			break;
		case 1:
			in.id = SIMCANOPEN_COB_NMT;
			break;
		default:
			in.id = SIMCANOPEN_COB_SDO_RX + (r[0] >> 5);
			break;
		}
		stopped = simcanopen_state(node) == SIMCANOPEN_STOPPED;
		n = simcanopen_receive(node, &in, now, out);
		check_out(out, n);
		if (in.id == SIMCANOPEN_COB_SDO_RX + FUZZ_NODE && !in.ext && !in.rtr &&
		    in.len == 8) {
			size_t want = stopped || (in.data[0] >> 5) == 4 ? 0 : 1;

			FUZZ_CHECK(n == want, "%zu responses to %02X (stopped %d), want %zu", n,
			           in.data[0], stopped, want);
			FUZZ_CHECK(!n || out[0].id == SIMCANOPEN_COB_SDO_TX + FUZZ_NODE,
			           "answered on 0x%X", (unsigned)out[0].id);
		} else if (in.id != SIMCANOPEN_COB_NMT) {
			FUZZ_CHECK(n == 0, "%zu frames for COB-ID 0x%X len %u", n, (unsigned)in.id,
			           in.len);
		}
	}
	simcanopen_free(node);
	simdrive_free(drive);
	free(out);
	return 0;
}
