/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SIMCANOPEN_H
#define AXLINK_SIMCANOPEN_H

/*
 * A simulated drive as a CANopen node (CiA 301, CiA 402 drive profile): the
 * peer the `can` transport talks to through axlink-sim's CAN front-ends.
 *
 * The node serves the object dictionary of its model's CAN interface (the
 * dictionary's CANDevice, generated into simmodels.c) on top of a simdrive:
 * an object and the MCB register of the same id and subnode are one value,
 * so the CiA 402 state machine, profile moves, store and restore behave
 * exactly as over MCB. Operation modes are the exception: 0x6060/0x6061
 * carry CiA 402 codes (1 profile position, 3 profile velocity, 4 torque,
 * 6 homing, 8 cyclic position; -1..-4 voltage, current, velocity, position),
 * which the node translates to and from the drive's MCB codes.
 *
 * Services, by COB-ID (node id N):
 *  - NMT 0x000 [cs, N or 0]: 0x01 start (operational), 0x02 stop, 0x80
 *    pre-operational, 0x81 reset node, 0x82 reset communication. A reset
 *    sends the boot-up message 0x700+N [0x00] and enters pre-operational;
 *    reset node also puts the node's own objects (0x1017) back to their
 *    defaults. (The drive behind it keeps its state: the application is
 *    not restarted.)
 *  - SDO server, requests on 0x600+N, responses on 0x580+N, 8 data bytes
 *    each (a request of another length is ignored, as CiA 301 servers do):
 *    expedited and segmented upload and download with the toggle bit. Block
 *    transfer is refused (abort 0x05040001). Abort codes: 0x06020000 no
 *    such object, 0x06090011 no such subindex, 0x06010001 write-only,
 *    0x06010002 read-only, 0x06070010 length mismatch, 0x06090030 value
 *    out of range (an operation mode without a code), 0x05030000 toggle bit
 *    not alternated, 0x05040001 unknown or unexpected command, 0x05040000
 *    a segmented transfer left idle for SIMCANOPEN_SDO_TIMEOUT_NS; the
 *    drive's own codes (0x08000020 wrong store signature, ...) pass
 *    through. A stopped node does not answer SDO.
 *  - Heartbeat 0x700+N [state: 0x04 stopped, 0x05 operational, 0x7F
 *    pre-operational] every 0x1017 milliseconds (0: none).
 *  - EMCY 0x80+N, when an axis enters fault: [error code (the drive's code,
 *    low 16 bits, LE), error register 0x1001, axis, the drive's code (u32
 *    LE)]; when the last fault clears, the error reset [0, 0, 0, ...]. Not
 *    in stopped.
 *
 * Thread safety: one thread at a time per node (the simulator's loop).
 */

#include <stddef.h>
#include <stdint.h>

#include "simdrive.h"

/* One classic CAN frame. */
typedef struct simcan_frame {
	uint32_t id; /* 11 bits, or 29 when ext */
	uint8_t len; /* 0..8 (the DLC of a remote frame) */
	uint8_t ext; /* extended (29-bit) identifier */
	uint8_t rtr; /* remote transmission request */
	uint8_t data[8];
} simcan_frame;

/* NMT states, as the heartbeat reports them. */
#define SIMCANOPEN_BOOTUP 0x00
#define SIMCANOPEN_STOPPED 0x04
#define SIMCANOPEN_OPERATIONAL 0x05
#define SIMCANOPEN_PRE_OPERATIONAL 0x7F

/* COB-ID bases (CiA 301 predefined connection set). */
#define SIMCANOPEN_COB_NMT 0x000u
#define SIMCANOPEN_COB_EMCY 0x080u
#define SIMCANOPEN_COB_SDO_TX 0x580u /* server -> client */
#define SIMCANOPEN_COB_SDO_RX 0x600u /* client -> server */
#define SIMCANOPEN_COB_HEARTBEAT 0x700u

/* A segmented transfer idle this long is aborted (0x05040000). */
#define SIMCANOPEN_SDO_TIMEOUT_NS 1000000000ull
/* How often a node looks for faults to report (EMCY). */
#define SIMCANOPEN_POLL_NS 5000000ull

/* Frames one call can produce, at most: the output arrays need this room. */
#define SIMCANOPEN_MAX_OUT 4

typedef struct simcanopen simcanopen;

/*
 * A node with id @node_id (1..127) serving drive @drive of model @model
 * (NULL: the first model, as simdrive_new()), which must be that drive's
 * model. @heartbeat_ms is the default of 0x1017. The node starts
 * pre-operational and sends nothing until polled. Returns 0, or -1 when the
 * id is out of range, the model unknown or has no CAN interface, or memory
 * runs out (@err, if not NULL, gets a static text saying which).
 */
int simcanopen_new(simcanopen **out, simdrive *drive, const char *model, unsigned node_id,
                   unsigned heartbeat_ms, const char **err);
void simcanopen_free(simcanopen *n);

unsigned simcanopen_node_id(const simcanopen *n);
int simcanopen_state(const simcanopen *n);

/*
 * A frame on the bus reaches the node at @now_ns. Writes the frames the
 * node answers with into @out (room for SIMCANOPEN_MAX_OUT) and returns
 * how many; 0 for a frame that is not for it.
 */
size_t simcanopen_receive(simcanopen *n, const simcan_frame *in, uint64_t now_ns,
                          simcan_frame *out);

/*
 * Time passes: advances the drive (simdrive_tick()), then writes the frames
 * due at @now_ns (heartbeat, EMCY, an SDO timeout's abort) into @out (room
 * for SIMCANOPEN_MAX_OUT) and returns how many.
 */
size_t simcanopen_poll(simcanopen *n, uint64_t now_ns, simcan_frame *out);

/* When the node next has something to do (for the poll timeout). */
uint64_t simcanopen_next_due(const simcanopen *n);

/* CiA 301 SDO abort codes the node sends. */
#define SIMCANOPEN_ABORT_TOGGLE 0x05030000u
#define SIMCANOPEN_ABORT_TIMEOUT 0x05040000u
#define SIMCANOPEN_ABORT_COMMAND 0x05040001u
#define SIMCANOPEN_ABORT_WRITE_ONLY 0x06010001u
#define SIMCANOPEN_ABORT_READ_ONLY 0x06010002u
#define SIMCANOPEN_ABORT_NO_OBJECT 0x06020000u
#define SIMCANOPEN_ABORT_LENGTH 0x06070010u
#define SIMCANOPEN_ABORT_NO_SUBINDEX 0x06090011u
#define SIMCANOPEN_ABORT_RANGE 0x06090030u
#define SIMCANOPEN_ABORT_GENERAL 0x08000000u

#endif
