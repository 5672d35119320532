/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SIMDRIVE_H
#define AXLINK_SIMDRIVE_H

/*
 * A simulated MCB drive: the register space of a model's dictionary in
 * devices/ (compiled in at build time, see simmodels.h), a CiA 402 state
 * machine and a byte-in/byte-out request handler. The same module serves
 * the in-process `virtual` transport and the standalone simulator (UDP,
 * serial pty, USB), so every bus sees the same drive.
 *
 * It is not part of libaxlink: it reaches the MCB codec through the table
 * it is given (the plugin host table's codec, or libaxlink's ax_mcb_*).
 *
 * Thread safety: safe; every entry point takes the drive's own lock.
 */

#include <stddef.h>
#include <stdint.h>

#include "axlink/mcb.h"

/* Identity of the simulated models (our own vendor id). */
#define SIMDRIVE_VENDOR_ID 0x0000A71Cu

typedef struct simdrive simdrive;

/* The codec the drive uses to parse requests and build replies. */
typedef struct simdrive_codec {
	int (*encode)(uint8_t *buf, size_t cap, size_t *len_out, const ax_mcb_frame *f);
	int (*decode)(ax_mcb_frame *out, const uint8_t *buf, size_t len);
} simdrive_codec;

/* Static description of one simulated model. */
typedef struct simdrive_model {
	const char *name; /* "axs-100" */
	uint32_t product_code;
	uint32_t revision;
	uint16_t axes;          /* number of axis subnodes (1..) */
	const char *sw_version; /* firmware version, e.g. "1.2.0" */
	uint32_t vendor_id;     /* SIMDRIVE_VENDOR_ID for our models */
} simdrive_model;

/*
 * Models the simulator knows, one per dictionary in devices/, sorted by
 * name; the array ends with an entry whose name is NULL.
 */
const simdrive_model *simdrive_models(void);

/* Find a model by name (case-insensitive); NULL when unknown. */
const simdrive_model *simdrive_model_find(const char *name);

/*
 * Create a drive of @model (NULL = the first model) with serial number
 * @serial. Returns 0 and sets *out, or -1 when out of memory or the model
 * is unknown.
 */
int simdrive_new(simdrive **out, const simdrive_codec *codec, const char *model, uint32_t serial);
void simdrive_free(simdrive *d);

/*
 * Handle one request frame of @req_len bytes. Writes the reply into @reply
 * (at most @reply_cap bytes; AX_MCB_MAX_FRAME is always enough) and returns
 * its length; returns 0 when the request must be dropped unanswered (bad
 * CRC, truncated, not a request, another node). @why, if not NULL, receives
 * a static text saying why a request was dropped or refused (for debug logs).
 */
size_t simdrive_handle(simdrive *d, const uint8_t *req, size_t req_len, uint8_t *reply,
                       size_t reply_cap, const char **why);

/*
 * Register-level access, as the handler does it. Return 0 on success or
 * -1 with *drive_code set to the MCB error code (AX_MCB_CODE_*).
 * read: copies the value's bytes into @buf (at most @cap) and sets *len_out.
 */
int simdrive_read(simdrive *d, unsigned subnode, unsigned address, uint8_t *buf, size_t cap,
                  size_t *len_out, uint32_t *drive_code);
int simdrive_write(simdrive *d, unsigned subnode, unsigned address, const uint8_t *buf, size_t len,
                   uint32_t *drive_code);

/*
 * Motion. An axis moves in fixed steps of SIMDRIVE_STEP_NS: a tick runs
 * every step between the previous tick and @now_ns (time that goes back is
 * ignored; the first tick only sets the clock), skipping at once the
 * stretches where no axis can change. Feedback (CL_POS_FBK_VALUE,
 * CL_VEL_FBK_VALUE, demands) and the status word follow every step.
 *
 * Per operation mode (DRV_OP_VALUE), while operation is enabled:
 *  - profile position 0x14: a trapezoidal profile (PROF_MAX_VEL, PROF_MAX_ACC,
 *    PROF_MAX_DEC; CL_VEL_REF_MAX caps the velocity) to the target. A new
 *    target is taken on a rising edge of control word bit 4 (new set point,
 *    CiA 402) or bit 9 (target latch, MCB drives): CL_POS_SET_POINT_VALUE,
 *    plus the previous target when bit 6 (relative) is set, clamped to
 *    CL_POS_REF_MIN/MAX_LIMIT (status bit 11). Every new target replaces the
 *    one under way (as with bit 5, change immediately). Status bit 12
 *    (set-point acknowledge) rises with the edge and falls when bits 4 and 9
 *    are both low; bit 10 (target reached) falls with a new target and rises
 *    once the position has stayed within PROF_POS_WINDOW counts of it for
 *    PROF_POS_WINDOW_TIME ms. Bit 8 (halt) brakes to a stop (bit 10 then set).
 *  - position 0x04, cyclic position 0x24: CL_POS_SET_POINT_VALUE is followed
 *    as written, at PROF_MAX_VEL, without ramps or handshake.
 *  - profile velocity 0x13: the velocity ramps (PROF_MAX_ACC/DEC) to
 *    CL_VEL_SET_POINT_VALUE within +-PROF_MAX_VEL; bit 10 = velocity reached.
 *    Velocity 0x03: the set point applies at once.
 *  - current 0x02, torque 0x05: CL_CUR_Q_VALUE follows CL_CUR_Q_SET_POINT.
 *  - homing 0x113: a rising edge of bit 4 starts HOM_MODE's method; bit 4
 *    falling interrupts it. Methods: 0 the present position; 1/2 the home
 *    switch (SIM_HOME_SWITCH_POSITION) searched in the positive/negative
 *    direction; 3/4 the positive/negative limit switch
 *    (SIM_POS/NEG_LIMIT_SWITCH_POSITION); 5/6 the limit switch, then the
 *    next index pulse back; 7/8 the next index pulse (one per revolution,
 *    at multiples of FBK_DIGENC1_RESOLUTION); 9/10 the mechanical stop at the
 *    limit switch. Searches run at HOM_SPEED_SEARCH (index pulses at
 *    HOM_SPEED_ZERO) with HOM_ACC. Once found, the home becomes HOM_OFFSET
 *    and the axis moves back onto it. Status bits 13/12/10 as CiA 402:
 *    0/1/1 done, 0/1/0 home found and moving onto it, 0/0/0 searching,
 *    1/x/x error (another method, a limit switch before a home switch or
 *    index, or HOM_MAX_SEARCH_TIME exceeded).
 * Positions of the switches are in counts of the frame the axis started in,
 * which homing does not move.
 * Quick stop brakes at PROF_QUICK_STOP_DEC and stays in quick stop active
 * (enable operation resumes). A fault on a moving axis passes through fault
 * reaction active, braking the same way; the other state changes stop the
 * axis at once. A control word never leaves fault except by the rising edge
 * of bit 7.
 *
 * Test hooks, on each axis (registers of the simulated models' dictionaries):
 *  - SIM_FAULT_INJECT (u32): a non-zero write faults the axis with that code.
 *  - SIM_FAULT_ARM (u32): a non-zero code faults the axis at the next control
 *    word that would change its state, instead of that change; then reads 0.
 *  - SIM_STATUS_FREEZE (u16): while non-zero the status word keeps its value
 *    (the drive stops confirming transitions); the state machine goes on.
 */
#define SIMDRIVE_STEP_NS 1000000u /* 1 kHz */

/*
 * Monitoring (drive-side scope) and disturbance (signal injection), protocol
 * version 3, on every model (simmon.c; registers on subnode 0, ids and
 * addresses of devices/README.md). Both run at a base rate of 20 kHz of
 * drive time (DRV_POS_VEL_RATE), 20 ticks per step above: after each step of
 * the axes, each tick first plays a disturbance sample, then takes a capture
 * sample. While either runs, no step is skipped. Drive time is the clock
 * simdrive_tick() is given (the monotonic clock in the simulator and the
 * virtual transport), so a 2,000-sample capture at 50 us takes 100 ms.
 *
 * Map words (MON_CFG_REGn_MAP, DIST_CFG_REGn_MAP), u32:
 *   (monitoring address | subnode << 12) << 16 | type code << 8 | size,
 * type codes u8 0, s8 1, u16 2, s16 3, u32 4, s32 5, u64 6, s64 7, float 8,
 * the monitoring address that of ax_reg_monitoring() (MonDistV3; axs-200,
 * a v2 file: address + 0x800 on axis 2). A write is refused when nothing
 * is at that address (0x06020000), the register there cannot be mapped
 * (0x06010000; a disturbance target must also be writable), the type
 * differs (0x06090030) or the size does (0x06070010). 0 empties a word.
 * MON_CFG_TOTAL_MAP / DIST_CFG_MAP_REGS = n uses words 0..n-1, all set
 * (else 0x08000000; more than 16: 0x06090030); 0 empties every word.
 * MON_CFG_BYTES_PER_BLOCK / DIST_CFG_BYTES_PER_BLOCK follow the map.
 *
 * A capture: MON_DIST_FREQ_DIV (>= 1) base ticks per sample,
 * MON_CFG_WINDOW_SAMP samples in all, of which MON_CFG_TRIGGER_DELAY before
 * the trigger (< window). MON_CFG_SOC_TYPE: 0 auto (the first sample after
 * the pre-trigger ones triggers), 1 forced (MON_CMD_FORCE_TRIGGER written
 * while waiting), 2 edge: channel MON_IDX_CHECK crossing
 * MON_CFG_RISING_CONDITION (the bits of a value of the channel's type: a
 * float's IEEE bits, a signed type's value as s32) between two samples;
 * MON_CFG_EOC_TYPE 1 rising (before < level <= after), 2 falling
 * (before > level >= after), 0 either. The crossing sample is sample
 * number TRIGGER_DELAY of the window. MON_DIST_ENABLE = 1 starts it,
 * refused (0x08000000) without a map, or (0x06090030) when window x block
 * exceeds MON_MAX_SIZE, the delay leaves no room, or the trigger channel is
 * past the map; the configuration is refused (0x08000000) while enabled.
 * MON_DIST_STATUS: bit 0 enabled, bits 1-3 stage (0x2 pre-trigger, 0x4
 * waiting, 0x6 acquiring, 0x8 end), bit 4 frame available (captured bytes
 * left). At the end the whole window is available: MON_CFG_BYTES_VALUE
 * bytes (MON_CFG_CYCLES_VALUE blocks, rounded up); each read of
 * MON_DATA_VALUE returns the next min(512, left) bytes in an extended
 * reply and removes them; a read with none left is refused (0x08000000).
 * Blocks are the channels in map order, little-endian. MON_REMOVE_DATA = 1
 * discards them; MON_REARM = 1 (enabled only) starts the next capture with
 * the same configuration; MON_DIST_ENABLE = 0 stops (data already captured
 * stays readable).
 *
 * A disturbance: DIST_DATA_VALUE takes the waveform in extended writes of
 * up to 512 bytes (blocks of the map; a plain frame is refused with
 * 0x06070010, data before a map or while enabled with 0x08000000, past
 * DIST_MAX_SIZE or DIST_CFG_SAMPLES blocks with 0x06090030);
 * DIST_CFG_BYTES / DIST_CFG_CYCLES count it. DIST_ENABLE = 1 (refused
 * unless the data is whole blocks, DIST_CFG_SAMPLES of them when that is
 * not 0) plays one block every DIST_FREQ_DIV base ticks into the targets,
 * with the meaning a client's write has, once; the targets keep the last
 * sample. DIST_STATUS: bit 0 enabled, bit 1 playing. Enabling monitoring
 * while the disturbance is enabled restarts the waveform at the capture's
 * first tick: with equal prescalers, waveform sample i is played at the
 * tick capture sample i is taken (enable the disturbance first, then the
 * capture, for a synchronous stimulus/response record). In current and
 * torque modes CL_CUR_Q_VALUE follows a disturbed CL_CUR_Q_SET_POINT at
 * the same tick; set points of the position and velocity loops act at the
 * next 1 ms step. DIST_REMOVE_DATA = 1 stops it and discards the waveform.
 *
 * Sampled values: CL_POS_FBK_VALUE / CL_POS_REF_VALUE on the parabola
 * through both ends of the step with its acceleration, CL_VEL_FBK_VALUE /
 * CL_VEL_REF_VALUE on the line between them; other registers hold the
 * value the last step (or write) gave them.
 */

/* Advance the simulated motion to monotonic time @now_ns (no-op if unchanged). */
void simdrive_tick(simdrive *d, uint64_t now_ns);

/*
 * Additions for fault simulation (the `fault` URI key, tests).
 *
 * Put axis @axis (1..axes, or 0 for every axis) into the CiA 402 fault state
 * and store @error_code in its DRV_DIAG_ERROR_LAST register. A rising edge of
 * control word bit 7 (fault reset) leaves the fault. Returns 0, or -1 when
 * the axis does not exist.
 */
int simdrive_fault(simdrive *d, unsigned axis, uint32_t error_code);

/*
 * The same fault, raised by the first tick that reaches monotonic time
 * @at_ns (the clock simdrive_tick() is given); replaces a fault scheduled
 * before. Returns 0, or -1 when the axis does not exist.
 */
int simdrive_fault_at(simdrive *d, unsigned axis, uint32_t error_code, uint64_t at_ns);

/* The firmware version text (DRV_APP_COCO_VERSION, DRV_ID_SOFTWARE_VERSION). */
#define SIMDRIVE_REG_FIRMWARE 0x6E4u

/*
 * Replace the firmware version text on every subnode with @text, cut to
 * what the register holds. Any bytes but NUL, as a real drive may send
 * (the `firmware` URI key, axlink-sim --firmware: tests of what tools do
 * with a drive's text). Returns 0, or -1 when the model has no such register.
 */
int simdrive_set_firmware(simdrive *d, const char *text);

/*
 * Quirks: behaviours of real drives the simulation copies on request (the
 * `quirk` URI key, axlink-sim --quirk), one bit each. A drive starts with
 * none.
 *  - SIMDRIVE_QUIRK_SKIP_SWITCHED_ON, "skip-switched-on": in ready to switch
 *    on, switch on (control word 0x07) leaves the state as it is; only switch
 *    on + enable operation (0x0F) leaves it, straight to operation enabled
 *    (CiA 402 transitions 3 + 4), as some MCB drives do. Switched on is then
 *    reached only by disable operation (0x07) from operation enabled.
 */
#define SIMDRIVE_QUIRK_SKIP_SWITCHED_ON 0x1u
/*
 *  - SIMDRIVE_QUIRK_STORE_NEEDS_DISABLED, "store-needs-disabled": a store or
 *    a restore is refused with SIMDRIVE_CODE_STATE (0x08000022, "not in a
 *    state that allows storing") while the axis it concerns (every axis for
 *    the communication core's registers) has operation enabled, as drives
 *    that cannot write their flash under load do.
 *  - SIMDRIVE_QUIRK_SLOW_STORE, "slow-store": a store takes
 *    SIMDRIVE_SLOW_STORE_NS of drive time (simdrive_tick()); meanwhile its
 *    register reads back the signature, which real drives clear when done.
 */
#define SIMDRIVE_QUIRK_STORE_NEEDS_DISABLED 0x2u
#define SIMDRIVE_QUIRK_SLOW_STORE 0x4u
#define SIMDRIVE_SLOW_STORE_NS 300000000u /* 300 ms */

/* A store or restore refused because of the drive's state (CiA 301). */
#define SIMDRIVE_CODE_STATE 0x08000022u

/* One quirk: its name on the command line and in URIs, its bit, a line of help. */
typedef struct simdrive_quirk {
	const char *name;
	unsigned bit;
	const char *help;
} simdrive_quirk;

/* Every quirk, sorted by name; the array ends with an entry whose name is NULL. */
const simdrive_quirk *simdrive_quirks(void);

/*
 * Parse @text, quirk names separated by commas ("skip-switched-on"), and OR
 * their bits into *quirks_out. Names are case-insensitive; an empty name or
 * an unknown one is an error. Returns 0, or -1 with the offending name
 * copied into @bad (at most @bad_cap bytes, NUL-terminated; @bad may be NULL)
 * and *quirks_out left unchanged.
 */
int simdrive_quirks_parse(const char *text, unsigned *quirks_out, char *bad, size_t bad_cap);

/*
 * Give the drive the quirks @quirks (SIMDRIVE_QUIRK_* bits; 0: none). It
 * replaces the set given before and takes effect with the next request.
 * Returns 0, or -1 when @quirks holds a bit no quirk has.
 */
int simdrive_set_quirks(simdrive *d, unsigned quirks);

/* The quirks the drive has (SIMDRIVE_QUIRK_* bits). */
unsigned simdrive_get_quirks(simdrive *d);

/*
 * Non-volatile memory. A store (the signature 0x65766173, "save", written to
 * DRV_STORE_COCO_ALL on subnode 0 or DRV_STORE_MOCO_ALL on an axis) keeps
 * the values of that subnode's stored registers: those the dictionary marks
 * address_type NVM or NVM_CFG and that can be written. A restore (0x64616F6C,
 * "load", to DRV_RESTORE_COCO_ALL) puts every stored register back to its
 * default, in use and in the memory. Without a state folder the memory
 * lives as long as the drive object; with one it is the file
 * DIR/<serial>.nvm, read when the folder is given and rewritten (a new file
 * renamed over the old one) by every store and restore, so a simulator
 * restarted on the same folder comes up with what was stored, as a real
 * drive after a power cycle.
 *
 * The file is text, one line per stored register:
 *     # axlink-sim non-volatile memory
 *     model axs-100
 *     serial 1000
 *     1 0x025 00002041        (subnode, address, the value's bytes in hex)
 * Registers the model does not have or does not store are ignored (a
 * dictionary that changed); anything else malformed is an error.
 *
 * simdrive_set_state_dir() gives the folder (NULL: none) and loads the file
 * when there is one. Returns 0, or -1 with a message naming the file (and
 * line) in @err (at most @err_cap bytes; @err may be NULL). A drive whose
 * file holds another model or serial is refused the same way.
 */
int simdrive_set_state_dir(simdrive *d, const char *dir, char *err, size_t err_cap);

/* Error code a drive started with `fault=1` reports: DC link under-voltage (CiA 402). */
#define SIMDRIVE_FAULT_UNDERVOLTAGE 0x00003220u

#endif
