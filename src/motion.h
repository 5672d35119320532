/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_MOTION_H
#define AXLINK_SRC_MOTION_H

/*
 * Internal view of an axis, shared by motion.c (state machine, modes,
 * moves, homing) and units.c (unit conversions).
 */

#include <stdatomic.h>

#include "axlink/motion.h"
#include "error.h"

/* Number of roles; not public, since later versions append roles. */
#define AX__ROLE_COUNT (AX_ROLE_LAST_ERROR + 1)

struct ax_axis {
	atomic_int refs;
	ax_drive *drive;
	unsigned subnode;
	const ax_reg *roles[AX__ROLE_COUNT]; /* borrowed from the drive's dictionary; NULL: none */
	int timeout_ms;                      /* default per state change */
	int poll_ms;
	int codes;   /* AX_MODE_CODES_MCB or _CIA402 */
	int unit;    /* ax_unit */
	double feed; /* mm per revolution, for AX_UNIT_MM */
	double res;  /* counts per revolution; 0 = unknown */
	int wait_ms; /* estimated duration (with margin) of the last move started */
	/*
	 * Profile limits a command wrote for itself (ax_move_options, a homing
	 * speed): the register values from before, put back once the command
	 * ends (restore_limits()). Bit i of saved_mask: saved[i] holds role
	 * limit_roles[i]'s earlier value.
	 */
	double saved[4];
	unsigned saved_mask;
	/* The velocity a profile velocity command asked for, counts/s; NAN: none. */
	double vel_want;
	ax_cancel *cancel; /* a reference, or NULL: what the motion waits watch */
};

/* Counts per unit of the axis's unit; AX_EUNSUPPORTED when the resolution is missing. */
int ax__axis_counts_per_unit(const ax_axis *axis, double *out);

/* Read the resolution role into axis->res (0 when the drive has no such register). */
int ax__axis_read_resolution(ax_axis *axis);

/*
 * Counts (per second...) per unit of a rate register (velocity, acceleration)
 * from its dictionary units: cnt/s, rev/s (also when unitless), rpm, deg/s, rad/s.
 */
int ax__axis_rate_scale(const ax_axis *axis, const ax_reg *reg, double *out);

#endif
