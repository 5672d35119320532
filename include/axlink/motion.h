/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_MOTION_H
#define AXLINK_MOTION_H

/**
 * @file axlink/motion.h
 * @brief Axes of a drive: the CiA 402 state machine, operation modes,
 *        profile moves, homing and units.
 * @defgroup ax_motion Motion
 *
 * An axis (ax_axis) is one motion subnode (1..n) of an open drive. It finds
 * the registers it needs — control word, status word, operation mode, set
 * points, feedbacks, profiler limits, homing and resolution registers — in
 * the drive's dictionary by id (the ids MCB drives share, DESIGN §5), so it
 * works on any transport and address space. A drive whose dictionary names
 * them differently is mapped with ax_axis_role_map entries.
 *
 * Every state change is confirmed by the status word within a timeout: a
 * call returns once the drive shows the state asked for, or fails naming the
 * state reached, the status word in hex and the transition that did not
 * happen. A move returns "done" only once the drive reports target reached.
 *
 * Positions, velocities and accelerations are in the axis's units
 * (ax_axis_set_units(): counts by default), converted with the encoder
 * resolution in counts per revolution.
 * @{
 */

#include "axlink/cancel.h"
#include "axlink/common.h"
#include "axlink/drive.h"

AX_BEGIN_DECLS

/**
 * One axis of a drive. Thread safety: one thread at a time (its settings
 * and the handshakes of a move are not locked); requests themselves go
 * through the drive's link, which is safe.
 */
typedef struct ax_axis ax_axis;

/** @name CiA 402 states
 * @{
 */
/** A state of the CiA 402 drive state machine, decoded from the status word. */
typedef enum ax_cia402_state {
	AX_CIA402_UNKNOWN = -1, /**< the status word matches no state */
	AX_CIA402_NOT_READY = 0,
	AX_CIA402_SWITCH_ON_DISABLED = 1,
	AX_CIA402_READY_TO_SWITCH_ON = 2,
	AX_CIA402_SWITCHED_ON = 3,
	AX_CIA402_OPERATION_ENABLED = 4,
	AX_CIA402_QUICK_STOP_ACTIVE = 5,
	AX_CIA402_FAULT_REACTION_ACTIVE = 6,
	AX_CIA402_FAULT = 7,
} ax_cia402_state;

/**
 * Decode a status word with the masks of CiA 402 (DESIGN §7).
 * @return an ax_cia402_state, AX_CIA402_UNKNOWN when no state matches.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_cia402_decode(uint16_t statusword);

/**
 * Name of a state: "not_ready", "switch_on_disabled", "ready_to_switch_on",
 * "switched_on", "operation_enabled", "quick_stop_active",
 * "fault_reaction_active", "fault"; "unknown" for anything else.
 * Ownership: static string. Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_cia402_state_name(int state);
/** @} */

/** @name Register roles
 * @{
 */
/** What a register does for the axis. */
typedef enum ax_axis_role {
	AX_ROLE_CONTROLWORD = 0,      /**< DRV_STATE_CONTROL (required) */
	AX_ROLE_STATUSWORD,           /**< DRV_STATE_STATUS (required) */
	AX_ROLE_OP_MODE,              /**< DRV_OP_CMD */
	AX_ROLE_OP_MODE_DISPLAY,      /**< DRV_OP_VALUE */
	AX_ROLE_POSITION_SET_POINT,   /**< CL_POS_SET_POINT_VALUE */
	AX_ROLE_VELOCITY_SET_POINT,   /**< CL_VEL_SET_POINT_VALUE */
	AX_ROLE_CURRENT_SET_POINT,    /**< CL_CUR_Q_SET_POINT */
	AX_ROLE_POSITION_OPTION_CODE, /**< PROF_POS_OPTION_CODE */
	AX_ROLE_PROFILE_VELOCITY,     /**< PROF_MAX_VEL */
	AX_ROLE_PROFILE_ACCELERATION, /**< PROF_MAX_ACC */
	AX_ROLE_PROFILE_DECELERATION, /**< PROF_MAX_DEC */
	AX_ROLE_POSITION,             /**< CL_POS_FBK_VALUE */
	AX_ROLE_VELOCITY,             /**< CL_VEL_FBK_VALUE */
	AX_ROLE_CURRENT,              /**< CL_CUR_Q_VALUE */
	AX_ROLE_RESOLUTION,           /**< FBK_DIGENC1_RESOLUTION, counts per revolution */
	AX_ROLE_POSITION_WINDOW,      /**< PROF_POS_WINDOW */
	AX_ROLE_HOMING_METHOD,        /**< HOM_MODE */
	AX_ROLE_HOMING_OFFSET,        /**< HOM_OFFSET */
	AX_ROLE_HOMING_SPEED,         /**< HOM_SPEED_SEARCH */
	AX_ROLE_HOMING_ACCELERATION,  /**< HOM_ACC */
	AX_ROLE_HOMING_TIMEOUT,       /**< HOM_MAX_SEARCH_TIME */
	AX_ROLE_TORQUE_CONSTANT,      /**< MOT_TORQUE_CONSTANT */
	AX_ROLE_LAST_ERROR,           /**< DRV_DIAG_ERROR_LAST */
	/* Later versions append roles: ax_axis_role_name() is NULL past the last one. */
} ax_axis_role;

/**
 * Name of a role ("controlword", "statusword", "op_mode", ...), or NULL.
 * Thread safety: safe. @since 0.1
 */
AX_API const char *ax_axis_role_name(int role);

/**
 * One override: on drives of @p vendor_id / @p product_code (0 = any), the
 * register of @p role is @p id instead of the default one; "" means the
 * drive has none. Entries are tried in order; the first match wins.
 */
typedef struct ax_axis_role_map {
	uint32_t vendor_id;    /**< 0: any vendor */
	uint32_t product_code; /**< 0: any product */
	int role;              /**< an ax_axis_role */
	const char *id;        /**< register id in the drive's dictionary; "" = absent */
} ax_axis_role_map;
/** @} */

/** @name Operation modes
 * @{
 */
/**
 * Operation modes, whatever codes the drive uses for them: MCB drives'
 * operation-mode codes or CiA 402 modes of operation (DESIGN §7).
 */
typedef enum ax_op_mode {
	AX_OP_MODE_UNKNOWN = -1,
	AX_OP_MODE_VOLTAGE = 0,          /**< MCB 0x00 */
	AX_OP_MODE_CURRENT = 1,          /**< MCB 0x02 */
	AX_OP_MODE_VELOCITY = 2,         /**< MCB 0x03 */
	AX_OP_MODE_PROFILE_VELOCITY = 3, /**< MCB 0x13, CiA 402 PV 3 */
	AX_OP_MODE_POSITION = 4,         /**< MCB 0x04 */
	AX_OP_MODE_PROFILE_POSITION = 5, /**< MCB 0x14, CiA 402 PP 1 */
	AX_OP_MODE_CYCLIC_POSITION = 6,  /**< MCB 0x24, CiA 402 CSP 8 */
	AX_OP_MODE_HOMING = 7,           /**< MCB 0x113, CiA 402 HM 6 */
	AX_OP_MODE_TORQUE = 8,           /**< MCB 0x05, CiA 402 PT 4 */
	AX_OP_MODE_CYCLIC_VELOCITY = 9,  /**< CiA 402 CSV 9 */
	AX_OP_MODE_CYCLIC_TORQUE = 10,   /**< CiA 402 CST 10 */
	AX_OP_MODE_COUNT = 11
} ax_op_mode;

/** Which codes the drive's operation-mode register takes. */
typedef enum ax_mode_codes {
	AX_MODE_CODES_AUTO = 0, /**< CiA 402 on CANopen dictionaries, MCB otherwise */
	AX_MODE_CODES_MCB = 1,
	AX_MODE_CODES_CIA402 = 2,
} ax_mode_codes;

/**
 * Name of a mode ("profile_position", ...), or NULL for an invalid one.
 * Thread safety: safe. @since 0.1
 */
AX_API const char *ax_op_mode_name(int mode);

/**
 * Parse a mode name, case-insensitive: the names of ax_op_mode_name() and
 * the CiA 402 abbreviations pp, pv, pt, hm, csp, csv, cst.
 * @return the ax_op_mode (>= 0), or AX_EINVAL listing the names.
 * Thread safety: safe. @since 0.1
 */
AX_API int ax_op_mode_parse(const char *text);

/**
 * The code of @p mode in a code family (AX_MODE_CODES_MCB or _CIA402).
 * @return the code (>= 0), AX_EUNSUPPORTED when the family has no code for
 *         the mode, AX_EINVAL for an invalid mode or family.
 * Thread safety: safe. @since 0.1
 */
AX_API int ax_op_mode_code(int mode, int codes);

/**
 * The mode a code of a family stands for.
 * @return the ax_op_mode (>= 0), or AX_ENOTFOUND for a code the family
 *         does not define (AX_EINVAL for an invalid family).
 * Thread safety: safe. @since 0.1
 */
AX_API int ax_op_mode_from_code(uint32_t code, int codes);
/** @} */

/** @name Units
 * @{
 */
/** Units of position (and per second, per second squared). */
typedef enum ax_unit {
	AX_UNIT_COUNTS = 0, /**< encoder counts: the drive's own unit */
	AX_UNIT_REV = 1,    /**< revolutions */
	AX_UNIT_DEG = 2,    /**< degrees */
	AX_UNIT_RAD = 3,    /**< radians */
	AX_UNIT_MM = 4,     /**< millimetres, through a feed constant (mm per revolution) */
} ax_unit;

/**
 * Name of a unit ("counts", "rev", "deg", "rad", "mm"), or NULL.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_unit_name(int unit);

/**
 * Parse a unit name, case-insensitive ("counts", "cnt", "rev", "deg",
 * "rad", "mm").
 * @return the ax_unit (>= 0), or AX_EINVAL listing the names.
 * Thread safety: safe. @since 0.1
 */
AX_API int ax_unit_parse(const char *text);
/** @} */

#define AX_AXIS_OPTIONS_VERSION 1

/** Options for ax_axis_open(). */
typedef struct ax_axis_options {
	unsigned int version;          /**< AX_AXIS_OPTIONS_VERSION */
	int timeout_ms;                /**< per state change, mode change,
        set-point acknowledge; 0 = 1000 */
	int poll_ms;                   /**< between status word reads while waiting; 0 = 2 */
	int mode_codes;                /**< an ax_mode_codes */
	const ax_axis_role_map *roles; /**< overrides, tried before the defaults; NULL = none */
	size_t n_roles;                /**< entries in @p roles */
} ax_axis_options;

#define AX_AXIS_OPTIONS_INIT                                                                       \
	{                                                                                          \
		AX_AXIS_OPTIONS_VERSION, 0, 0, AX_MODE_CODES_AUTO, NULL, 0                         \
	}

/**
 * Open axis @p subnode (1..ax_drive_axes()) of @p drive.
 *
 * Finds the register of each role in the drive's dictionary (the overrides
 * of @p opts first) and reads the encoder resolution. The control and status
 * words are required; a missing other role fails only the calls that need it.
 * Units start as counts.
 * Ownership: *out gets one reference (ax_axis_unref()); the axis holds a
 * reference on the drive. The role table is used during the call only.
 * Untouched on failure.
 * Thread safety: safe; the new axis is one thread at a time.
 *
 * @return 0, AX_ENOTFOUND (no such axis, no dictionary, no control or
 *         status word: the message says which), AX_EINVAL (bad options),
 *         what reading the resolution returns, or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_open(ax_axis **out, ax_drive *drive, unsigned subnode,
                        const ax_axis_options *opts);

/** Take a reference; returns @p axis. Thread safety: safe. @since 0.1 */
AX_API ax_axis *ax_axis_ref(ax_axis *axis);
/** Drop a reference; accepts NULL; returns NULL. Thread safety: safe. @since 0.1 */
AX_API ax_axis *ax_axis_unref(ax_axis *axis);

/**
 * The drive (borrowed for the axis's life).
 * Thread safety: safe (fixed when the axis opens).
 * @since 0.1
 */
AX_API ax_drive *ax_axis_drive(const ax_axis *axis);
/**
 * The subnode, 1..n.
 * Thread safety: safe (fixed when the axis opens).
 * @since 0.1
 */
AX_API unsigned ax_axis_subnode(const ax_axis *axis);

/**
 * The register playing @p role (borrowed from the drive's dictionary), or
 * NULL when the drive has none.
 * Thread safety: safe (fixed when the axis opens).
 * @since 0.1
 */
AX_API const ax_reg *ax_axis_role_register(const ax_axis *axis, int role);

/**
 * Watch @p cancel in the axis's waits (NULL: watch nothing). Once it is
 * triggered, ax_axis_move(), ax_axis_move_velocity(),
 * ax_axis_wait_target_reached() and ax_axis_home() return AX_ECANCELED
 * within about one poll period (ax_axis_options.poll_ms plus a request),
 * leaving the axis as it is, possibly moving: stop it with ax_axis_halt()
 * or ax_axis_quick_stop(), which do not watch the token. A SIGINT handler
 * may trigger it (ax_cancel_trigger() is async-signal-safe); reset it
 * (ax_cancel_reset()) to wait again.
 * Ownership: the axis takes a reference on @p cancel and drops the one on
 * the token it watched before.
 * Thread safety: one thread at a time per axis (the token itself is
 * triggered from any thread).
 * @since 0.2
 */
AX_API void ax_axis_set_cancel(ax_axis *axis, ax_cancel *cancel);

/** @name State machine
 * Each call takes @p timeout_ms per step: 0 uses the axis's default
 * (ax_axis_options.timeout_ms).
 * @{
 */

/**
 * Read the status word and decode it.
 * @param[out] state_out       an ax_cia402_state
 * @param[out] statusword_out  the raw status word, or NULL
 * Thread safety: one thread at a time per axis.
 * @return 0, or what reading the status word returns.
 * @since 0.1
 */
AX_API int ax_axis_state(ax_axis *axis, int *state_out, uint16_t *statusword_out);

/**
 * Bring the axis to "operation enabled" from whatever state it is in: a
 * fault is reset first (after fault reaction ends), quick stop active goes
 * through switch on disabled, then shutdown and switch on + enable operation
 * (control word 0x0F: some MCB drives ignore a plain switch on), each
 * confirmed by the status word; a drive that stops in switched on is then
 * enabled.
 * Thread safety: one thread at a time per axis.
 * @return 0; AX_ETIMEDOUT when the drive does not confirm a transition (the
 *         message names the transition, the state reached and the status
 *         word); AX_ERROR when the axis faults on the way (the message adds
 *         the drive's error code and its text); AX_EPROTO for a status word
 *         that is no CiA 402 state; or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_enable(ax_axis *axis, int timeout_ms);

/**
 * Take the power stage off: shutdown (to ready to switch on) from switched
 * on or operation enabled, disable voltage from quick stop active. Nothing
 * to do from the other states.
 * Thread safety: one thread at a time per axis.
 * @return 0, AX_ETIMEDOUT, AX_ERROR (faulted), or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_disable(ax_axis *axis, int timeout_ms);

/**
 * Quick stop: from operation enabled to quick stop active (the drive brakes
 * on its quick stop ramp; the call does not wait for standstill), or to
 * switch on disabled when the drive's quick stop option says so. From ready
 * or switched on it leads to switch on disabled; elsewhere nothing to do.
 * Does not watch the token of ax_axis_set_cancel(). In quick stop active the axis
 * stays off until ax_axis_enable(); see ax_axis_halt() to stop and stay enabled.
 * Thread safety: one thread at a time per axis.
 * @return 0, AX_ETIMEDOUT, AX_ERROR (faulted), or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_quick_stop(ax_axis *axis, int timeout_ms);

/**
 * Halt: stop the motion on the profile's deceleration and stay in operation
 * enabled, holding the position (control word bit 8). Waits until the drive
 * reports standstill (status word bit 10, target reached, with the halt
 * set). The halt stays in effect until the next ax_axis_move(),
 * ax_axis_move_velocity() or ax_axis_home() on this handle, which releases
 * it; a profile position move stopped this way is not resumed (the next
 * move gives a new target). Nothing to do in a state other than operation
 * enabled. Does not watch the token of ax_axis_set_cancel().
 * @param timeout_ms  for the standstill; 0: estimated from the actual
 *                    velocity and the profile deceleration, at least the
 *                    axis's default timeout
 * Thread safety: one thread at a time per axis.
 * @return 0 at standstill; AX_ETIMEDOUT (the message gives the velocity and
 *         status word); AX_ERROR (faulted); or another negative ax_error_code.
 * @since 0.2
 */
AX_API int ax_axis_halt(ax_axis *axis, int timeout_ms);

/**
 * Leave the fault state: waits out fault reaction active, then gives the
 * control word's bit 7 a rising edge and waits until the fault is gone.
 * Nothing to do when the axis is not in fault.
 * Thread safety: one thread at a time per axis.
 * @return 0; AX_ETIMEDOUT when the fault stays (the message names the
 *         drive's error code), or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_fault_reset(ax_axis *axis, int timeout_ms);
/** @} */

/** @name Operation modes
 * @{
 */

/**
 * Set the operation mode and wait until the mode display shows it.
 * @p mode is an ax_op_mode, the library's name for a mode; a mode a user
 * gives as an integer is the drive's code: ax_axis_mode_parse() or
 * ax_axis_mode_from_code() turn it into one.
 * Thread safety: one thread at a time per axis.
 * @return 0; AX_EUNSUPPORTED when the drive's code family has no code for
 *         @p mode or the dictionary's enumeration of the operation-mode
 *         register does not list it (the message lists the modes it does);
 *         AX_ETIMEDOUT when the display does not follow; or another
 *         negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_set_mode(ax_axis *axis, int mode, int timeout_ms);

/**
 * Read the mode in effect (the mode display, or the operation-mode register
 * when the drive has no display).
 * @param[out] mode_out  an ax_op_mode; AX_OP_MODE_UNKNOWN for a code the
 *                       drive's family does not define
 * @param[out] code_out  the raw code, or NULL
 * Thread safety: one thread at a time per axis.
 * @return 0, AX_EUNSUPPORTED (no operation-mode register), or what the read returns.
 * @since 0.1
 */
AX_API int ax_axis_get_mode(ax_axis *axis, int *mode_out, uint32_t *code_out);

/**
 * The code family the axis uses: AX_MODE_CODES_MCB or AX_MODE_CODES_CIA402.
 * With AX_MODE_CODES_AUTO the dictionary's enumeration of the operation-mode
 * register decides (its labels and codes: "Profile position" = 0x14 is MCB,
 * = 1 is CiA 402), and the address space when it has none.
 * Thread safety: safe (fixed when the axis opens).
 * @since 0.1
 */
AX_API int ax_axis_mode_codes(const ax_axis *axis);

/**
 * The mode a code of this drive stands for: an integer operation mode given
 * by a user is always the drive's own code (0x14 = profile position on MCB
 * drives, 1 on CiA 402 ones), never an ax_op_mode value.
 * @return the ax_op_mode (>= 0); AX_EINVAL for a code the axis's family
 *         does not define (the message says when it is the other family's
 *         code, and lists the modes of the dictionary); AX_EUNSUPPORTED for
 *         one the dictionary's enumeration does not list.
 * Thread safety: safe.
 * @since 0.2
 */
AX_API int ax_axis_mode_from_code(const ax_axis *axis, int64_t code);

/**
 * Parse an operation mode as a user gives it: a name or abbreviation of
 * ax_op_mode_parse(), a label of the dictionary's enumeration of the
 * operation-mode register ("Profile velocity", case-insensitive), or the
 * drive's code in decimal or 0x hex (ax_axis_mode_from_code()).
 * @return the ax_op_mode (>= 0), or AX_EINVAL / AX_EUNSUPPORTED naming what
 *         the drive takes.
 * Thread safety: safe.
 * @since 0.2
 */
AX_API int ax_axis_mode_parse(const ax_axis *axis, const char *text);
/** @} */

/** @name Units
 * @{
 */

/**
 * Set the units of positions (velocities per second, accelerations per
 * second squared) for this axis handle.
 * @param feed_mm_per_rev  with AX_UNIT_MM: millimetres per motor revolution
 *                         (> 0); ignored otherwise
 * Thread safety: one thread at a time per axis.
 * @return 0; AX_EINVAL (unknown unit, no feed constant for mm);
 *         AX_EUNSUPPORTED when a unit other than counts needs a resolution
 *         the axis does not have.
 * @since 0.1
 */
AX_API int ax_axis_set_units(ax_axis *axis, int unit, double feed_mm_per_rev);

/**
 * The axis's unit (an ax_unit).
 * Thread safety: one thread at a time per axis.
 * @since 0.1
 */
AX_API int ax_axis_units(const ax_axis *axis);

/**
 * The encoder resolution in counts per revolution in use (0: unknown).
 * Thread safety: one thread at a time per axis.
 * @since 0.1
 */
AX_API double ax_axis_resolution(const ax_axis *axis);

/**
 * Use @p counts_per_rev instead of what the drive's resolution register said
 * (> 0), or read the register again (0).
 * Thread safety: one thread at a time per axis.
 * @return 0, AX_EINVAL, AX_EUNSUPPORTED (0 asked, no register), or what the read returns.
 * @since 0.1
 */
AX_API int ax_axis_set_resolution(ax_axis *axis, double counts_per_rev);

/**
 * Convert a position (or velocity, acceleration) in the axis's units to
 * counts (per second, per second squared), unrounded.
 * Thread safety: one thread at a time per axis.
 * @return 0, AX_EINVAL (not finite), AX_EUNSUPPORTED (no resolution).
 * @since 0.1
 */
AX_API int ax_axis_to_counts(const ax_axis *axis, double value, double *out);

/**
 * Convert counts to the axis's units. @return as ax_axis_to_counts().
 * Thread safety: one thread at a time per axis.
 * @since 0.1
 */
AX_API int ax_axis_from_counts(const ax_axis *axis, double counts, double *out);
/** @} */

/** @name Feedback
 * @{
 */
/**
 * Actual position in the axis's units. @return 0 or a negative ax_error_code.
 * Thread safety: one thread at a time per axis.
 * @since 0.1
 */
AX_API int ax_axis_position(ax_axis *axis, double *out);
/**
 * Actual velocity in the axis's units per second.
 * Thread safety: one thread at a time per axis.
 * @since 0.1
 */
AX_API int ax_axis_velocity(ax_axis *axis, double *out);
/**
 * Actual (quadrature) current in amperes.
 * Thread safety: one thread at a time per axis.
 * @since 0.1
 */
AX_API int ax_axis_current(ax_axis *axis, double *out);
/** @} */

/** @name Moves
 * @{
 */

/** A relative move: the position is added to the previous target. */
#define AX_MOVE_RELATIVE 0x1u
/** Return once the drive took the set point; see ax_axis_wait_target_reached(). */
#define AX_MOVE_NO_WAIT 0x2u

#define AX_MOVE_OPTIONS_VERSION 1

/**
 * Options of ax_axis_move() and ax_axis_move_velocity(). A limit given here
 * applies to this command only: the drive's register (PROF_MAX_VEL,
 * PROF_MAX_ACC, PROF_MAX_DEC) gets its earlier value back when the command
 * ends — when ax_axis_wait_target_reached() returns (other than cancelled
 * or stopped by its callback), at ax_axis_halt() or ax_axis_quick_stop(),
 * or at the next move, velocity or homing on this handle.
 */
typedef struct ax_move_options {
	unsigned int version; /**< AX_MOVE_OPTIONS_VERSION */
	unsigned int flags;   /**< AX_MOVE_* */
	double velocity;      /**< > 0: profile velocity in units/s, this move; 0: the drive's */
	double acceleration;  /**< > 0: in units/s^2, this command only; 0: the drive's */
	double deceleration;  /**< > 0: in units/s^2, this command only; 0: the drive's */
	int timeout_ms;       /**< wait for the end of the move; 0: estimated from the profile */
} ax_move_options;

#define AX_MOVE_OPTIONS_INIT                                                                       \
	{                                                                                          \
		AX_MOVE_OPTIONS_VERSION, 0, 0.0, 0.0, 0.0, 0                                       \
	}

/**
 * Profile position move to @p position (axis units; with AX_MOVE_RELATIVE,
 * a distance from the previous target). Needs operation enabled; switches
 * to profile position mode when another is in effect, writes the profile
 * limits given, the target, then the set-point handshake (control word bit
 * 4 with "change immediately", acknowledged by status word bit 12), and —
 * unless AX_MOVE_NO_WAIT — waits for target reached (bit 10).
 * Thread safety: one thread at a time per axis.
 * @return 0 once the drive reports target reached (or took the set point,
 *         with AX_MOVE_NO_WAIT); AX_ERANGE (target beyond the register's
 *         type); AX_ETIMEDOUT (no acknowledge, or target not reached: the
 *         message gives position and status word); AX_ERROR (not enabled,
 *         or faulted during the move: the message names the state and the
 *         drive's error); AX_ECANCELED (the token of ax_axis_set_cancel()
 *         ended the wait: the axis goes on moving); or another negative
 *         ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_move(ax_axis *axis, double position, const ax_move_options *opts);

/**
 * Profile velocity: switch to profile velocity mode when needed, write the
 * limits given and the velocity set point (axis units/s) and — unless
 * AX_MOVE_NO_WAIT — wait until the drive reports the velocity reached.
 * ax_move_options.velocity is unused (AX_MOVE_RELATIVE is refused).
 * A velocity beyond the profile velocity limit (PROF_MAX_VEL), which the
 * drive would cap it at, is refused; "reached" (here and in
 * ax_axis_wait_target_reached()) means the actual velocity is within 2 %
 * (at least 0.002 rev/s) of the one asked for, not only status bit 10.
 * Thread safety: one thread at a time per axis.
 * @return as ax_axis_move(); AX_ERANGE beyond the limit, or when the drive
 *         reports target reached at another velocity for 200 ms (the
 *         message names the limit that explains it: "limited by
 *         PROF_MAX_VEL = 1 rev/s").
 * @since 0.1
 */
AX_API int ax_axis_move_velocity(ax_axis *axis, double velocity, const ax_move_options *opts);

/**
 * Called after each status word read while waiting, the last one (which
 * says target reached) included, so a sample taken there is the final
 * one; return < 0 to stop waiting (that value is returned). Runs on the
 * calling thread.
 */
typedef int (*ax_axis_wait_cb)(ax_axis *axis, uint16_t statusword, void *userdata);

/**
 * Wait until the drive reports target reached (status bit 10) in operation
 * enabled; after ax_axis_move_velocity(), until the actual velocity is
 * within the window of the one asked for, too. @p timeout_ms 0 takes the
 * estimate of the last move started through this handle (or 10 s). The
 * limits the command gave (ax_move_options) are restored when it returns,
 * unless cancelled or stopped by @p cb (the motion goes on then).
 * @param cb  NULL, or called after every poll with @p userdata
 * Thread safety: one thread at a time per axis.
 * @return 0; AX_ETIMEDOUT (message: position, target state, status word);
 *         AX_ERANGE (profile velocity: reached at another velocity, see
 *         ax_axis_move_velocity());
 *         AX_ERROR (the axis left operation enabled or faulted, or a homing
 *         error); AX_ECANCELED (the token of ax_axis_set_cancel() triggered: the axis may
 *         still move); a callback's negative value; or another negative
 *         ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_wait_target_reached(ax_axis *axis, int timeout_ms, ax_axis_wait_cb cb,
                                       void *userdata);

/**
 * Current (quadrature, amperes): switch to current mode when needed and
 * write the set point. Does not wait.
 * Thread safety: one thread at a time per axis.
 * @return 0, AX_EUNSUPPORTED (no current set point), or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_set_current(ax_axis *axis, double amperes);

/**
 * Torque in N·m, as current through the motor's torque constant
 * (MOT_TORQUE_CONSTANT, N·m/A), in current mode.
 * Thread safety: one thread at a time per axis.
 * @return as ax_axis_set_current(); AX_EUNSUPPORTED without a usable torque constant.
 * @since 0.1
 */
AX_API int ax_axis_set_torque(ax_axis *axis, double newton_metres);
/** @} */

/** @name Homing
 * @{
 */

/** Write ax_home_options.offset to the homing offset first. */
#define AX_HOME_SET_OFFSET 0x1u
/** Use the drive's present homing method. */
#define AX_HOME_METHOD_DRIVE (-1)

#define AX_HOME_OPTIONS_VERSION 1

/** Options of ax_axis_home(). The speed applies to this homing only (as ax_move_options). */
typedef struct ax_home_options {
	unsigned int version; /**< AX_HOME_OPTIONS_VERSION */
	unsigned int flags;   /**< AX_HOME_* */
	int method;           /**< a homing method of the drive (HOM_MODE),
        or AX_HOME_METHOD_DRIVE */
	double offset;        /**< axis units, with AX_HOME_SET_OFFSET: the position home gets */
	double speed;         /**< > 0: search speed in units/s; 0: the drive's */
	int timeout_ms;       /**< 0: the drive's homing timeout plus a margin, else 60 s */
} ax_home_options;

#define AX_HOME_OPTIONS_INIT                                                                       \
	{                                                                                          \
		AX_HOME_OPTIONS_VERSION, 0, AX_HOME_METHOD_DRIVE, 0.0, 0.0, 0                      \
	}

/**
 * Home the axis: needs operation enabled; writes the method (refused with
 * AX_EUNSUPPORTED when the dictionary's enumeration of the homing-method
 * register does not list it), offset and speed given, switches to homing
 * mode and starts homing (control word bit 4, held until the end), then
 * waits for "homing attained" and target reached (status bits 12 and 10).
 * Thread safety: one thread at a time per axis.
 * @return 0; AX_ERROR (homing error, bit 13, or a fault: the message names
 *         the method); AX_ETIMEDOUT; AX_EUNSUPPORTED; AX_ECANCELED (the
 *         token of ax_axis_set_cancel(): homing goes on until halted); or
 *         another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_axis_home(ax_axis *axis, const ax_home_options *opts);

/**
 * Parse a homing method as a user gives it: the drive's number (decimal or
 * 0x hex) or a label of the dictionary's enumeration of the homing-method
 * register ("Current position is home", case-insensitive).
 * @return the method (>= 0) for ax_home_options.method; AX_EINVAL for one
 *         the enumeration does not list (the message lists them);
 *         AX_EUNSUPPORTED for a label when the drive has no such register.
 * Thread safety: safe.
 * @since 0.2
 */
AX_API int ax_axis_home_method_parse(const ax_axis *axis, const char *text);
/** @} */

AX_END_DECLS

/** @} */
#endif
