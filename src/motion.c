/* SPDX-License-Identifier: MIT */
/*
 * Axes: the CiA 402 state machine driven through the control word and
 * confirmed by the status word, operation modes, profile moves and homing.
 *
 * Nothing here knows addresses: each role is a register of the drive's
 * dictionary, found by id once when the axis opens. Every wait polls the
 * status word against a monotonic deadline; a wait ends early when the axis
 * faults, so an error says what the drive did rather than that it was slow.
 */
#define _POSIX_C_SOURCE 200809L

#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "axlink/plugin.h"
#include "drive.h"
#include "motion.h"
#include "util.h"

/* Status word bits (DESIGN §7). */
#define SW_TARGET_REACHED 0x0400u
#define SW_SET_POINT_ACK 0x1000u /* homing attained in homing mode */
#define SW_HOMING_ERROR 0x2000u

/* Control word commands and bits (DESIGN §7). */
#define CW_DISABLE_VOLTAGE 0x0000u
#define CW_QUICK_STOP 0x0002u
#define CW_SHUTDOWN 0x0006u
#define CW_ENABLE_OPERATION 0x000Fu
#define CW_NEW_SET_POINT 0x0010u
#define CW_CHANGE_IMMEDIATELY 0x0020u
#define CW_RELATIVE 0x0040u
#define CW_FAULT_RESET 0x0080u
#define CW_HALT 0x0100u

#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_POLL_MS 2
/* Waiting for a move whose duration cannot be estimated. */
#define DEFAULT_WAIT_MS 10000
#define DEFAULT_HOMING_MS 60000
/* Slack on top of an estimated duration: bus latency, window time, scheduling. */
#define WAIT_MARGIN_MS 2000

#define STATE_BIT(s) (1u << (unsigned)(s))

/* ---- names and tables ---------------------------------------------------- */

static const char *const state_names[] = {
        [AX_CIA402_NOT_READY] = "not_ready",
        [AX_CIA402_SWITCH_ON_DISABLED] = "switch_on_disabled",
        [AX_CIA402_READY_TO_SWITCH_ON] = "ready_to_switch_on",
        [AX_CIA402_SWITCHED_ON] = "switched_on",
        [AX_CIA402_OPERATION_ENABLED] = "operation_enabled",
        [AX_CIA402_QUICK_STOP_ACTIVE] = "quick_stop_active",
        [AX_CIA402_FAULT_REACTION_ACTIVE] = "fault_reaction_active",
        [AX_CIA402_FAULT] = "fault",
};

/* DESIGN §7: mask -> value of each state. */
static const struct {
	uint16_t mask, value;
	int state;
} state_masks[] = {
        {0x4F, 0x00, AX_CIA402_NOT_READY},
        {0x4F, 0x40, AX_CIA402_SWITCH_ON_DISABLED},
        {0x6F, 0x21, AX_CIA402_READY_TO_SWITCH_ON},
        {0x6F, 0x23, AX_CIA402_SWITCHED_ON},
        {0x6F, 0x27, AX_CIA402_OPERATION_ENABLED},
        {0x6F, 0x07, AX_CIA402_QUICK_STOP_ACTIVE},
        {0x4F, 0x0F, AX_CIA402_FAULT_REACTION_ACTIVE},
        {0x4F, 0x08, AX_CIA402_FAULT},
};

int ax_cia402_decode(uint16_t statusword)
{
	for (size_t i = 0; i < AX__ARRAY_SIZE(state_masks); i++)
		if ((statusword & state_masks[i].mask) == state_masks[i].value)
			return state_masks[i].state;
	return AX_CIA402_UNKNOWN;
}

const char *ax_cia402_state_name(int state)
{
	if (state < 0 || (size_t)state >= AX__ARRAY_SIZE(state_names))
		return "unknown";
	return state_names[state];
}

static const struct {
	const char *name;
	const char *id; /* default register id */
} role_table[AX__ROLE_COUNT] = {
        [AX_ROLE_CONTROLWORD] = {"controlword", "DRV_STATE_CONTROL"},
        [AX_ROLE_STATUSWORD] = {"statusword", "DRV_STATE_STATUS"},
        [AX_ROLE_OP_MODE] = {"op_mode", "DRV_OP_CMD"},
        [AX_ROLE_OP_MODE_DISPLAY] = {"op_mode_display", "DRV_OP_VALUE"},
        [AX_ROLE_POSITION_SET_POINT] = {"position_set_point", "CL_POS_SET_POINT_VALUE"},
        [AX_ROLE_VELOCITY_SET_POINT] = {"velocity_set_point", "CL_VEL_SET_POINT_VALUE"},
        [AX_ROLE_CURRENT_SET_POINT] = {"current_set_point", "CL_CUR_Q_SET_POINT"},
        [AX_ROLE_POSITION_OPTION_CODE] = {"position_option_code", "PROF_POS_OPTION_CODE"},
        [AX_ROLE_PROFILE_VELOCITY] = {"profile_velocity", "PROF_MAX_VEL"},
        [AX_ROLE_PROFILE_ACCELERATION] = {"profile_acceleration", "PROF_MAX_ACC"},
        [AX_ROLE_PROFILE_DECELERATION] = {"profile_deceleration", "PROF_MAX_DEC"},
        [AX_ROLE_POSITION] = {"position", "CL_POS_FBK_VALUE"},
        [AX_ROLE_VELOCITY] = {"velocity", "CL_VEL_FBK_VALUE"},
        [AX_ROLE_CURRENT] = {"current", "CL_CUR_Q_VALUE"},
        [AX_ROLE_RESOLUTION] = {"resolution", "FBK_DIGENC1_RESOLUTION"},
        [AX_ROLE_POSITION_WINDOW] = {"position_window", "PROF_POS_WINDOW"},
        [AX_ROLE_HOMING_METHOD] = {"homing_method", "HOM_MODE"},
        [AX_ROLE_HOMING_OFFSET] = {"homing_offset", "HOM_OFFSET"},
        [AX_ROLE_HOMING_SPEED] = {"homing_speed", "HOM_SPEED_SEARCH"},
        [AX_ROLE_HOMING_ACCELERATION] = {"homing_acceleration", "HOM_ACC"},
        [AX_ROLE_HOMING_TIMEOUT] = {"homing_timeout", "HOM_MAX_SEARCH_TIME"},
        [AX_ROLE_TORQUE_CONSTANT] = {"torque_constant", "MOT_TORQUE_CONSTANT"},
        [AX_ROLE_LAST_ERROR] = {"last_error", "DRV_DIAG_ERROR_LAST"},
};

const char *ax_axis_role_name(int role)
{
	if (role < 0 || role >= AX__ROLE_COUNT)
		return NULL;
	return role_table[role].name;
}

/* Operation modes and their codes in both families; -1: the family has none. */
static const struct {
	const char *name;
	const char *abbr;
	int mcb, cia402;
} mode_table[AX_OP_MODE_COUNT] = {
        [AX_OP_MODE_VOLTAGE] = {"voltage", NULL, 0x00, -1},
        [AX_OP_MODE_CURRENT] = {"current", NULL, 0x02, -1},
        [AX_OP_MODE_VELOCITY] = {"velocity", NULL, 0x03, -1},
        [AX_OP_MODE_PROFILE_VELOCITY] = {"profile_velocity", "pv", 0x13, 3},
        [AX_OP_MODE_POSITION] = {"position", NULL, 0x04, -1},
        [AX_OP_MODE_PROFILE_POSITION] = {"profile_position", "pp", 0x14, 1},
        [AX_OP_MODE_CYCLIC_POSITION] = {"cyclic_position", "csp", 0x24, 8},
        [AX_OP_MODE_HOMING] = {"homing", "hm", 0x113, 6},
        [AX_OP_MODE_TORQUE] = {"torque", "pt", 0x05, 4},
        [AX_OP_MODE_CYCLIC_VELOCITY] = {"cyclic_velocity", "csv", -1, 9},
        [AX_OP_MODE_CYCLIC_TORQUE] = {"cyclic_torque", "cst", -1, 10},
};

const char *ax_op_mode_name(int mode)
{
	if (mode < 0 || mode >= AX_OP_MODE_COUNT)
		return NULL;
	return mode_table[mode].name;
}

int ax_op_mode_parse(const char *text)
{
	AX_ASSERT_ARG(text);
	for (int i = 0; i < AX_OP_MODE_COUNT; i++)
		if (!strcasecmp(text, mode_table[i].name) ||
		    (mode_table[i].abbr && !strcasecmp(text, mode_table[i].abbr)))
			return i;
	return ax__error_set(AX_EINVAL,
	                     "unknown operation mode '%s' (known: voltage, current, velocity, "
	                     "profile_velocity (pv), position, profile_position (pp), "
	                     "cyclic_position (csp), homing (hm), torque (pt), cyclic_velocity "
	                     "(csv), cyclic_torque (cst))",
	                     text);
}

static int codes_valid(int codes)
{
	return codes == AX_MODE_CODES_MCB || codes == AX_MODE_CODES_CIA402;
}

int ax_op_mode_code(int mode, int codes)
{
	int code;

	if (!ax_op_mode_name(mode) || !codes_valid(codes))
		return ax__error_set(AX_EINVAL, "invalid operation mode %d or code family %d", mode,
		                     codes);
	code = codes == AX_MODE_CODES_MCB ? mode_table[mode].mcb : mode_table[mode].cia402;
	if (code < 0)
		return ax__error_set(AX_EUNSUPPORTED, "%s drives have no code for mode '%s'",
		                     codes == AX_MODE_CODES_MCB ? "MCB" : "CiA 402",
		                     mode_table[mode].name);
	return code;
}

int ax_op_mode_from_code(uint32_t code, int codes)
{
	if (!codes_valid(codes))
		return ax__error_set(AX_EINVAL, "invalid code family %d", codes);
	for (int i = 0; i < AX_OP_MODE_COUNT; i++) {
		int c = codes == AX_MODE_CODES_MCB ? mode_table[i].mcb : mode_table[i].cia402;

		if (c >= 0 && (uint32_t)c == code)
			return i;
	}
	return ax__error_set(AX_ENOTFOUND, "operation mode code 0x%X is not a %s mode",
	                     (unsigned)code, codes == AX_MODE_CODES_MCB ? "MCB" : "CiA 402");
}

/*
 * The mode a dictionary label names: "Profile velocity", "profile-velocity"
 * and "PV" all name profile_velocity. -1 for none.
 */
static int mode_of_label(const char *label)
{
	char norm[40];
	size_t n = 0;

	for (; label[n] && n + 1 < sizeof(norm); n++)
		norm[n] = label[n] == ' ' || label[n] == '-' ? '_' : label[n];
	if (label[n])
		return -1;
	norm[n] = '\0';
	for (int i = 0; i < AX_OP_MODE_COUNT; i++)
		if (!strcasecmp(norm, mode_table[i].name) ||
		    (mode_table[i].abbr && !strcasecmp(norm, mode_table[i].abbr)))
			return i;
	return -1;
}

/*
 * The code family an operation-mode register's enumeration speaks: the one
 * whose codes agree with more of its labels ("Profile position" = 0x14 is
 * MCB, = 1 is CiA 402), else the one with more codes only it has (0x14, 2,
 * 0x113 against 1, 6, 8); AX_MODE_CODES_AUTO when it cannot tell.
 */
static int codes_of_enum(const ax_reg *reg)
{
	int by_label[2] = {0, 0}, by_code[2] = {0, 0};

	for (size_t i = 0; reg && i < ax_reg_enum_count(reg); i++) {
		const char *label = NULL;
		int64_t v = 0;
		int mode, mcb = 0, cia = 0;

		if (ax_reg_enum_at(reg, i, &v, &label) < 0)
			continue;
		mode = label ? mode_of_label(label) : -1;
		if (mode >= 0) {
			by_label[0] += mode_table[mode].mcb == v;
			by_label[1] += mode_table[mode].cia402 == v;
		}
		for (int m = 0; m < AX_OP_MODE_COUNT; m++) {
			mcb |= mode_table[m].mcb == v;
			cia |= mode_table[m].cia402 == v;
		}
		by_code[0] += mcb && !cia;
		by_code[1] += cia && !mcb;
	}
	ax_error_clear();
	if (by_label[0] != by_label[1])
		return by_label[0] > by_label[1] ? AX_MODE_CODES_MCB : AX_MODE_CODES_CIA402;
	if (by_code[0] != by_code[1])
		return by_code[0] > by_code[1] ? AX_MODE_CODES_MCB : AX_MODE_CODES_CIA402;
	return AX_MODE_CODES_AUTO;
}

/* ---- time ---------------------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* ---- life cycle ---------------------------------------------------------- */

/* The register id @role has on this drive: an override's, else the default. */
static const char *role_id(const ax_drive *drive, const ax_axis_options *opts, int role,
                           int *overridden)
{
	const ax_identity *id = ax_drive_identity(drive);

	*overridden = 0;
	for (size_t i = 0; i < opts->n_roles; i++) {
		const ax_axis_role_map *m = &opts->roles[i];

		if (m->role != role || !m->id)
			continue;
		if ((m->vendor_id && m->vendor_id != id->vendor_id) ||
		    (m->product_code && m->product_code != id->product_code))
			continue;
		*overridden = 1;
		return m->id;
	}
	return role_table[role].id;
}

static int axis_find_roles(ax_axis *a, const ax_axis_options *opts)
{
	const ax_dict *dict = ax_drive_dict(a->drive);

	for (size_t i = 0; i < opts->n_roles; i++)
		if (opts->roles[i].role < 0 || opts->roles[i].role >= AX__ROLE_COUNT)
			return ax__error_set(AX_EINVAL, "role map entry %zu: invalid role %d", i,
			                     opts->roles[i].role);
	for (int role = 0; role < AX__ROLE_COUNT; role++) {
		int overridden;
		const char *id = role_id(a->drive, opts, role, &overridden);
		const ax_reg *reg = NULL;

		if (!id[0])
			continue; /* mapped away: this drive has none */
		if (ax_dict_find(dict, id, (int)a->subnode, &reg) == 0) {
			a->roles[role] = reg;
			continue;
		}
		if (overridden || role == AX_ROLE_CONTROLWORD || role == AX_ROLE_STATUSWORD)
			return ax__error_set(AX_ENOTFOUND,
			                     "axis %u of '%s': no register '%s' on subnode %u for "
			                     "the %s%s",
			                     a->subnode, ax_drive_uri(a->drive), id, a->subnode,
			                     role_table[role].name,
			                     overridden ? " (as mapped)"
			                                : "; map it with ax_axis_role_map");
	}
	ax_error_clear();
	return 0;
}

static void axis_destroy(ax_axis *a)
{
	ax_cancel_unref(a->cancel);
	ax_drive_unref(a->drive);
	free(a);
}

int ax_axis_open(ax_axis **out, ax_drive *drive, unsigned subnode, const ax_axis_options *opts)
{
	static const ax_axis_options defaults = AX_AXIS_OPTIONS_INIT;
	unsigned axes;
	ax_axis *a;
	int err;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(drive);
	AX_CHECK_VERSION(opts, AX_AXIS_OPTIONS_VERSION, "ax_axis_options");
	if (!opts)
		opts = &defaults;
	if (opts->n_roles && !opts->roles)
		return ax__error_set(AX_EINVAL, "invalid argument: 'opts->roles'");
	if (opts->timeout_ms < 0 || opts->poll_ms < 0 ||
	    (opts->mode_codes != AX_MODE_CODES_AUTO && !codes_valid(opts->mode_codes)))
		return ax__error_set(AX_EINVAL,
		                     "ax_axis_options: timeout %d ms, poll %d ms, mode "
		                     "codes %d: expected >= 0, >= 0, an ax_mode_codes",
		                     opts->timeout_ms, opts->poll_ms, opts->mode_codes);
	axes = ax_drive_axes(drive);
	if (subnode < 1 || subnode > axes)
		return ax__error_set(AX_ENOTFOUND, "axis %u: the drive at '%s' has axes 1..%u",
		                     subnode, ax_drive_uri(drive), axes);
	if (!ax_drive_dict(drive))
		return ax__error_set(AX_ENOTFOUND,
		                     "axis %u of '%s': no dictionary for the drive (%s); motion "
		                     "finds its registers in it",
		                     subnode, ax_drive_uri(drive), ax_drive_match_reason(drive));

	a = calloc(1, sizeof(*a));
	if (!a)
		return ax__error_oom();
	atomic_init(&a->refs, 1);
	a->drive = ax_drive_ref(drive);
	a->subnode = subnode;
	a->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	a->poll_ms = opts->poll_ms ? opts->poll_ms : DEFAULT_POLL_MS;
	a->unit = AX_UNIT_COUNTS;
	a->vel_want = NAN;
	err = axis_find_roles(a, opts);
	/* The dictionary's enumeration tells the families apart; else the address space. */
	a->codes = opts->mode_codes;
	if (err == 0 && a->codes == AX_MODE_CODES_AUTO)
		a->codes = codes_of_enum(a->roles[AX_ROLE_OP_MODE]);
	if (err == 0 && a->codes == AX_MODE_CODES_AUTO)
		a->codes = codes_of_enum(a->roles[AX_ROLE_OP_MODE_DISPLAY]);
	if (a->codes == AX_MODE_CODES_AUTO)
		a->codes = ax_dict_identity_get(ax_drive_dict(drive))->addr_space == AX_ADDR_CANOPEN
		                   ? AX_MODE_CODES_CIA402
		                   : AX_MODE_CODES_MCB;
	if (err == 0)
		err = ax__axis_read_resolution(a);
	if (err < 0) {
		axis_destroy(a);
		return err;
	}
	*out = a;
	return 0;
}

ax_axis *ax_axis_ref(ax_axis *axis)
{
	if (axis)
		atomic_fetch_add(&axis->refs, 1);
	return axis;
}

ax_axis *ax_axis_unref(ax_axis *axis)
{
	if (axis && atomic_fetch_sub(&axis->refs, 1) == 1)
		axis_destroy(axis);
	return NULL;
}

void ax_axis_set_cancel(ax_axis *axis, ax_cancel *cancel)
{
	ax_cancel *old;

	if (!axis)
		return;
	old = axis->cancel;
	axis->cancel = ax_cancel_ref(cancel);
	ax_cancel_unref(old);
}

ax_drive *ax_axis_drive(const ax_axis *axis)
{
	return axis ? axis->drive : NULL;
}

unsigned ax_axis_subnode(const ax_axis *axis)
{
	return axis ? axis->subnode : 0;
}

const ax_reg *ax_axis_role_register(const ax_axis *axis, int role)
{
	if (!axis || role < 0 || role >= AX__ROLE_COUNT)
		return NULL;
	return axis->roles[role];
}

int ax_axis_mode_codes(const ax_axis *axis)
{
	return axis ? axis->codes : AX_MODE_CODES_MCB;
}

/* ---- registers by role --------------------------------------------------- */

static const char *uri_of(const ax_axis *a)
{
	return ax_drive_uri(a->drive);
}

static int role_missing(const ax_axis *a, int role)
{
	return ax__error_set(AX_EUNSUPPORTED,
	                     "axis %u of '%s': the dictionary has no %s register (%s)", a->subnode,
	                     uri_of(a), role_table[role].name, role_table[role].id);
}

static int role_read(ax_axis *a, int role, double *out)
{
	const ax_reg *reg = a->roles[role];

	if (!reg)
		return role_missing(a, role);
	return ax__drive_reg_read_f64(a->drive, reg, out);
}

static int role_read_i64(ax_axis *a, int role, int64_t *out)
{
	const ax_reg *reg = a->roles[role];

	if (!reg)
		return role_missing(a, role);
	return ax__drive_reg_read_i64(a->drive, reg, out);
}

static int role_write(ax_axis *a, int role, double value)
{
	const ax_reg *reg = a->roles[role];

	if (!reg)
		return role_missing(a, role);
	return ax__drive_reg_write_f64(a->drive, reg, value);
}

static int role_write_i64(ax_axis *a, int role, int64_t value)
{
	const ax_reg *reg = a->roles[role];

	if (!reg)
		return role_missing(a, role);
	return ax__drive_reg_write_i64(a->drive, reg, value);
}

static int control(ax_axis *a, unsigned cw)
{
	return role_write_i64(a, AX_ROLE_CONTROLWORD, cw);
}

static int read_status(ax_axis *a, uint16_t *sw_out)
{
	int64_t v = 0;
	int err = role_read_i64(a, AX_ROLE_STATUSWORD, &v);

	if (err < 0)
		return err;
	*sw_out = (uint16_t)v;
	return 0;
}

int ax_axis_state(ax_axis *axis, int *state_out, uint16_t *statusword_out)
{
	uint16_t sw = 0;
	int err;

	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(state_out);
	err = read_status(axis, &sw);
	if (err < 0)
		return err;
	*state_out = ax_cia402_decode(sw);
	if (statusword_out)
		*statusword_out = sw;
	return 0;
}

/* Write a rate limit given in axis units (per s, per s^2) to a register in its own units. */
static int write_rate(ax_axis *a, int role, double value)
{
	double counts = 0.0, scale = 0.0;
	int err;

	if (!a->roles[role])
		return role_missing(a, role);
	err = ax_axis_to_counts(a, value, &counts);
	if (err == 0)
		err = ax__axis_rate_scale(a, a->roles[role], &scale);
	if (err < 0)
		return err;
	return role_write(a, role, counts / scale);
}

/* A rate register's value in counts (per s, per s^2); 0 when unknown. */
static double read_rate_counts(ax_axis *a, int role)
{
	double v = 0.0, scale = 0.0;

	if (!a->roles[role] || role_read(a, role, &v) < 0 ||
	    ax__axis_rate_scale(a, a->roles[role], &scale) < 0 || !isfinite(v) || v < 0.0) {
		ax_error_clear();
		return 0.0;
	}
	return v * scale;
}

/* The limits a command may write for itself, in the slots of ax_axis.saved. */
static const int limit_roles[4] = {
        AX_ROLE_PROFILE_VELOCITY,
        AX_ROLE_PROFILE_ACCELERATION,
        AX_ROLE_PROFILE_DECELERATION,
        AX_ROLE_HOMING_SPEED,
};

/*
 * Put back the limits the last command wrote for itself (a move's velocity,
 * acceleration, deceleration, a homing speed): they apply to that command
 * only. Returns @err, or the first failure to restore when @err is 0.
 */
static int restore_limits(ax_axis *a, int err)
{
	for (unsigned i = 0; i < 4; i++) {
		int e;

		if (!(a->saved_mask & (1u << i)))
			continue;
		e = role_write(a, limit_roles[i], a->saved[i]);
		if (e < 0 && err == 0)
			err = e;
	}
	a->saved_mask = 0;
	return err;
}

/* Write @value (axis units per s, s^2) to the limit of slot @slot for this command only. */
static int write_limit_once(ax_axis *a, unsigned slot, double value)
{
	int role = limit_roles[slot];
	double before = 0.0;
	int err;

	if (!a->roles[role])
		return role_missing(a, role);
	err = role_read(a, role, &before);
	if (err == 0)
		err = write_rate(a, role, value);
	if (err < 0)
		return err;
	a->saved[slot] = before;
	a->saved_mask |= 1u << slot;
	return 0;
}

/* ---- waiting on the status word ------------------------------------------ */

/* "0x00003220: DC bus under-voltage", or the bare code. */
static void fault_text(ax_axis *a, char *buf, size_t cap)
{
	const char *text = NULL;
	int64_t code = 0;

	if (!a->roles[AX_ROLE_LAST_ERROR] || role_read_i64(a, AX_ROLE_LAST_ERROR, &code) < 0) {
		(void)snprintf(buf, cap, "drive error unknown");
		return;
	}
	text = ax_dict_error_text(ax_drive_dict(a->drive), (uint32_t)code);
	if (!text)
		text = ax_drive_code_text((uint32_t)code);
	(void)snprintf(buf, cap, "drive error 0x%08X%s%s", (unsigned)(uint32_t)code,
	               text ? ": " : "", text ? text : "");
}

/* The axis faulted while @op was doing @step: say so, with the drive's error. */
static int fault_error(ax_axis *a, const char *op, const char *step, int state, uint16_t sw)
{
	char why[192];

	fault_text(a, why, sizeof(why));
	return ax__error_set(AX_ERROR,
	                     "axis %u of '%s': %s: the axis went to '%s' during '%s' (status word "
	                     "0x%04X, %s)",
	                     a->subnode, uri_of(a), op, ax_cia402_state_name(state), step,
	                     (unsigned)sw, why);
}

static int is_fault(int state)
{
	return state == AX_CIA402_FAULT || state == AX_CIA402_FAULT_REACTION_ACTIVE;
}

/* AX_ECANCELED once the axis's token is triggered (motion.h: the axis may still move). */
static int check_cancel(ax_axis *a, const char *op)
{
	if (!ax_cancel_requested(a->cancel))
		return 0;
	return ax__error_set(AX_ECANCELED,
	                     "axis %u of '%s': %s: cancelled; the axis was not stopped (halt or "
	                     "quick stop it)",
	                     a->subnode, uri_of(a), op);
}

/*
 * Poll the status word until the state is one of @want (STATE_BIT mask).
 * A fault the caller did not ask for ends the wait at once.
 */
static int wait_state(ax_axis *a, const char *op, const char *step, int from, unsigned want,
                      int timeout_ms, int *state_out, uint16_t *sw_out)
{
	int64_t deadline = ax__now_ms() + timeout_ms;
	uint16_t sw = 0;
	int state, err;

	for (;;) {
		err = read_status(a, &sw);
		if (err < 0)
			return err;
		state = ax_cia402_decode(sw);
		if (state >= 0 && (want & STATE_BIT(state))) {
			if (state_out)
				*state_out = state;
			if (sw_out)
				*sw_out = sw;
			return 0;
		}
		if (is_fault(state) && !(want & (STATE_BIT(AX_CIA402_FAULT) |
		                                 STATE_BIT(AX_CIA402_FAULT_REACTION_ACTIVE))))
			return fault_error(a, op, step, state, sw);
		if (ax__now_ms() >= deadline)
			return ax__error_set(AX_ETIMEDOUT,
			                     "axis %u of '%s': %s: transition '%s' from '%s' did "
			                     "not happen within %d ms: the axis is in '%s', status "
			                     "word 0x%04X",
			                     a->subnode, uri_of(a), op, step,
			                     ax_cia402_state_name(from), timeout_ms,
			                     ax_cia402_state_name(state), (unsigned)sw);
		sleep_ms(a->poll_ms);
	}
}

/* Write control word @cw for transition @step and wait for one of @want. */
static int transition(ax_axis *a, const char *op, const char *step, int from, unsigned cw,
                      unsigned want, int timeout_ms, int *state_out)
{
	int err = control(a, cw);

	if (err < 0)
		return err;
	return wait_state(a, op, step, from, want, timeout_ms, state_out, NULL);
}

static int timeout_of(const ax_axis *a, int timeout_ms)
{
	return timeout_ms > 0 ? timeout_ms : a->timeout_ms;
}

/* Read the state; a status word that is no state at all is a protocol problem. */
static int current_state(ax_axis *a, const char *op, int *state_out, uint16_t *sw_out)
{
	uint16_t sw = 0;
	int err = read_status(a, &sw);

	if (err < 0)
		return err;
	*state_out = ax_cia402_decode(sw);
	if (sw_out)
		*sw_out = sw;
	if (*state_out == AX_CIA402_UNKNOWN)
		return ax__error_set(AX_EPROTO,
		                     "axis %u of '%s': %s: status word 0x%04X is no CiA 402 state",
		                     a->subnode, uri_of(a), op, (unsigned)sw);
	return 0;
}

/* Fault reaction active ends in fault by itself: wait for it. */
static int wait_reaction_over(ax_axis *a, const char *op, int timeout_ms, int *state)
{
	return wait_state(a, op, "fault reaction", AX_CIA402_FAULT_REACTION_ACTIVE,
	                  STATE_BIT(AX_CIA402_FAULT), timeout_ms, state, NULL);
}

static int fault_reset_timeout(ax_axis *a, const char *op, int timeout_ms, int state, uint16_t sw)
{
	char why[192];

	fault_text(a, why, sizeof(why));
	return ax__error_set(AX_ETIMEDOUT,
	                     "axis %u of '%s': %s: transition 'fault reset' from 'fault' did not "
	                     "happen within %d ms: the axis is in '%s', status word 0x%04X (%s)",
	                     a->subnode, uri_of(a), op, timeout_ms, ax_cia402_state_name(state),
	                     (unsigned)sw, why);
}

static int do_fault_reset(ax_axis *a, const char *op, int timeout_ms)
{
	unsigned faults = STATE_BIT(AX_CIA402_FAULT) | STATE_BIT(AX_CIA402_FAULT_REACTION_ACTIVE);
	int64_t deadline;
	uint16_t sw = 0;
	int err, state;

	/* The reset is the rising edge of bit 7: make sure it starts low. */
	err = control(a, CW_DISABLE_VOLTAGE);
	if (err == 0)
		err = control(a, CW_FAULT_RESET);
	if (err < 0)
		return err;
	deadline = ax__now_ms() + timeout_ms;
	for (;;) {
		err = read_status(a, &sw);
		if (err < 0)
			return err;
		state = ax_cia402_decode(sw);
		if (state >= 0 && !(faults & STATE_BIT(state)))
			break;
		if (ax__now_ms() >= deadline)
			return fault_reset_timeout(a, op, timeout_ms, state, sw);
		sleep_ms(a->poll_ms);
	}
	/* Leave bit 7 low so that the next fault can be reset the same way. */
	return control(a, CW_DISABLE_VOLTAGE);
}

int ax_axis_fault_reset(ax_axis *axis, int timeout_ms)
{
	int state, err;

	AX_ASSERT_ARG(axis);
	timeout_ms = timeout_of(axis, timeout_ms);
	err = current_state(axis, "fault reset", &state, NULL);
	if (err == 0 && state == AX_CIA402_FAULT_REACTION_ACTIVE)
		err = wait_reaction_over(axis, "fault reset", timeout_ms, &state);
	if (err < 0 || state != AX_CIA402_FAULT)
		return err;
	return do_fault_reset(axis, "fault reset", timeout_ms);
}

int ax_axis_enable(ax_axis *axis, int timeout_ms)
{
	static const char op[] = "enable";
	int state, err;

	AX_ASSERT_ARG(axis);
	timeout_ms = timeout_of(axis, timeout_ms);
	/* Each pass moves one transition closer; a handful always suffice. */
	for (int pass = 0; pass < 8; pass++) {
		err = current_state(axis, op, &state, NULL);
		if (err < 0)
			return err;
		switch (state) {
		case AX_CIA402_OPERATION_ENABLED:
			return 0;
		case AX_CIA402_FAULT_REACTION_ACTIVE:
			err = wait_reaction_over(axis, op, timeout_ms, NULL);
			break;
		case AX_CIA402_FAULT:
			err = do_fault_reset(axis, op, timeout_ms);
			break;
		case AX_CIA402_NOT_READY: /* the drive is still starting */
			err = wait_state(axis, op, "start-up", state,
			                 STATE_BIT(AX_CIA402_SWITCH_ON_DISABLED), timeout_ms, NULL,
			                 NULL);
			break;
		case AX_CIA402_SWITCH_ON_DISABLED:
			err = transition(axis, op, "shutdown", state, CW_SHUTDOWN,
			                 STATE_BIT(AX_CIA402_READY_TO_SWITCH_ON), timeout_ms, NULL);
			break;
		case AX_CIA402_READY_TO_SWITCH_ON:
			/*
			 * Switch on + enable operation (CiA 402 transitions 3 + 4), as
			 * MCB masters do: some MCB drives ignore plain switch on (0x07)
			 * here and leave only with 0x0F, straight to operation enabled.
			 * A drive that stops in switched on gets enable operation next.
			 */
			err = transition(axis, op, "switch on", state, CW_ENABLE_OPERATION,
			                 STATE_BIT(AX_CIA402_SWITCHED_ON) |
			                         STATE_BIT(AX_CIA402_OPERATION_ENABLED),
			                 timeout_ms, NULL);
			break;
		case AX_CIA402_SWITCHED_ON:
			err = transition(axis, op, "enable operation", state, CW_ENABLE_OPERATION,
			                 STATE_BIT(AX_CIA402_OPERATION_ENABLED), timeout_ms, NULL);
			break;
		default: /* quick stop active: start again from switch on disabled */
			err = transition(axis, op, "disable voltage", state, CW_DISABLE_VOLTAGE,
			                 STATE_BIT(AX_CIA402_SWITCH_ON_DISABLED), timeout_ms, NULL);
			break;
		}
		if (err < 0)
			return err;
	}
	err = current_state(axis, op, &state, NULL);
	if (err == 0 && state != AX_CIA402_OPERATION_ENABLED)
		err = ax__error_set(AX_ERROR,
		                    "axis %u of '%s': enable: the state keeps changing, now '%s'",
		                    axis->subnode, uri_of(axis), ax_cia402_state_name(state));
	return err;
}

int ax_axis_disable(ax_axis *axis, int timeout_ms)
{
	static const char op[] = "disable";
	int state, err;

	AX_ASSERT_ARG(axis);
	timeout_ms = timeout_of(axis, timeout_ms);
	err = current_state(axis, op, &state, NULL);
	if (err < 0)
		return err;
	switch (state) {
	case AX_CIA402_OPERATION_ENABLED:
	case AX_CIA402_SWITCHED_ON:
		return transition(axis, op, "shutdown", state, CW_SHUTDOWN,
		                  STATE_BIT(AX_CIA402_READY_TO_SWITCH_ON), timeout_ms, NULL);
	case AX_CIA402_QUICK_STOP_ACTIVE:
		return transition(axis, op, "disable voltage", state, CW_DISABLE_VOLTAGE,
		                  STATE_BIT(AX_CIA402_SWITCH_ON_DISABLED), timeout_ms, NULL);
	case AX_CIA402_FAULT_REACTION_ACTIVE:
		return wait_reaction_over(axis, op, timeout_ms, NULL);
	default: /* the power stage is off already */
		return 0;
	}
}

int ax_axis_quick_stop(ax_axis *axis, int timeout_ms)
{
	static const char op[] = "quick stop";
	int state, err;

	AX_ASSERT_ARG(axis);
	timeout_ms = timeout_of(axis, timeout_ms);
	err = current_state(axis, op, &state, NULL);
	if (err < 0)
		return err;
	switch (state) {
	case AX_CIA402_OPERATION_ENABLED:
		axis->vel_want = NAN;
		err = transition(axis, op, "quick stop", state, CW_QUICK_STOP,
		                 STATE_BIT(AX_CIA402_QUICK_STOP_ACTIVE) |
		                         STATE_BIT(AX_CIA402_SWITCH_ON_DISABLED),
		                 timeout_ms, NULL);
		/* It brakes on the quick stop ramp: the command's own limits end here. */
		return restore_limits(axis, err);
	case AX_CIA402_READY_TO_SWITCH_ON:
	case AX_CIA402_SWITCHED_ON:
		return transition(axis, op, "quick stop", state, CW_QUICK_STOP,
		                  STATE_BIT(AX_CIA402_SWITCH_ON_DISABLED), timeout_ms, NULL);
	default:
		return 0;
	}
}

/* Actual velocity in counts/s; NAN when unknown. */
static double velocity_counts(ax_axis *a)
{
	double v = 0.0, scale = 0.0;

	if (!a->roles[AX_ROLE_VELOCITY] || role_read(a, AX_ROLE_VELOCITY, &v) < 0 ||
	    ax__axis_rate_scale(a, a->roles[AX_ROLE_VELOCITY], &scale) < 0 || !isfinite(v)) {
		ax_error_clear();
		return NAN;
	}
	return v * scale;
}

static int wait_ms_for(double seconds);

int ax_axis_halt(ax_axis *axis, int timeout_ms)
{
	static const char op[] = "halt";
	int64_t deadline;
	uint16_t sw = 0;
	int state, err;

	AX_ASSERT_ARG(axis);
	if (timeout_ms < 0)
		return ax__error_set(AX_EINVAL, "timeout %d ms: expected >= 0", timeout_ms);
	axis->vel_want = NAN;
	err = current_state(axis, op, &state, &sw);
	if (err < 0 || state != AX_CIA402_OPERATION_ENABLED)
		return err;
	if (!timeout_ms) {
		double v = fabs(velocity_counts(axis));
		double dec = read_rate_counts(axis, AX_ROLE_PROFILE_DECELERATION);
		int est = wait_ms_for(isfinite(v) && dec > 0.0 ? v / dec : -1.0);

		timeout_ms = est > axis->timeout_ms ? est : axis->timeout_ms;
	}
	/* Bit 4 low as well: in homing mode that ends the homing. */
	err = control(axis, CW_ENABLE_OPERATION | CW_HALT);
	if (err < 0)
		return err;
	/* Target reached may still be the one from before the halt: let the drive see it. */
	sleep_ms(axis->poll_ms);
	deadline = ax__now_ms() + timeout_ms;
	for (;;) {
		err = read_status(axis, &sw);
		if (err < 0)
			return err;
		state = ax_cia402_decode(sw);
		if (is_fault(state))
			return fault_error(axis, op, "deceleration", state, sw);
		if (state != AX_CIA402_OPERATION_ENABLED)
			return ax__error_set(AX_ERROR,
			                     "axis %u of '%s': halt: the axis went to '%s' while "
			                     "decelerating (status word 0x%04X)",
			                     axis->subnode, uri_of(axis),
			                     ax_cia402_state_name(state), (unsigned)sw);
		if (sw & SW_TARGET_REACHED)
			return restore_limits(axis, 0); /* standing: the command is over */
		if (ax__now_ms() >= deadline)
			return ax__error_set(AX_ETIMEDOUT,
			                     "axis %u of '%s': halt: no standstill within %d ms: "
			                     "velocity %.0f counts/s, status word 0x%04X",
			                     axis->subnode, uri_of(axis), timeout_ms,
			                     velocity_counts(axis), (unsigned)sw);
		sleep_ms(axis->poll_ms);
	}
}

/* ---- operation modes ----------------------------------------------------- */

/* The modes the operation-mode register's enumeration lists, as text for a message. */
static void listed_modes(const ax_axis *a, const ax_reg *reg, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ax_reg_enum_count(reg); i++) {
		int64_t v = 0;
		const char *label = "";
		int mode, n;

		if (ax_reg_enum_at(reg, i, &v, &label) < 0 || v < 0 || v > UINT32_MAX)
			continue;
		mode = ax_op_mode_from_code((uint32_t)v, a->codes);
		n = snprintf(buf + used, cap - used, "%s%s (0x%X)", used ? ", " : "",
		             mode >= 0 ? ax_op_mode_name(mode) : label, (unsigned)v);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
	ax_error_clear();
}

static int reg_lists(const ax_reg *reg, int64_t value)
{
	for (size_t i = 0; i < ax_reg_enum_count(reg); i++) {
		int64_t v = 0;

		if (ax_reg_enum_at(reg, i, &v, NULL) == 0 && v == value)
			return 1;
	}
	return 0;
}

static int mode_display_role(const ax_axis *a)
{
	return a->roles[AX_ROLE_OP_MODE_DISPLAY] ? AX_ROLE_OP_MODE_DISPLAY : AX_ROLE_OP_MODE;
}

int ax_axis_get_mode(ax_axis *axis, int *mode_out, uint32_t *code_out)
{
	int64_t code = 0;
	int err, mode;

	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(mode_out);
	err = role_read_i64(axis, mode_display_role(axis), &code);
	if (err < 0)
		return err;
	mode = code >= 0 && code <= UINT32_MAX ? ax_op_mode_from_code((uint32_t)code, axis->codes)
	                                       : AX_OP_MODE_UNKNOWN;
	if (mode < 0) {
		ax_error_clear();
		mode = AX_OP_MODE_UNKNOWN;
	}
	*mode_out = mode;
	if (code_out)
		*code_out = (uint32_t)code;
	return 0;
}

int ax_axis_set_mode(ax_axis *axis, int mode, int timeout_ms)
{
	const ax_reg *reg;
	int64_t deadline, shown = 0;
	int code, err;

	AX_ASSERT_ARG(axis);
	if (!ax_op_mode_name(mode))
		return ax__error_set(AX_EINVAL, "invalid operation mode %d", mode);
	axis->vel_want = NAN;
	reg = axis->roles[AX_ROLE_OP_MODE];
	if (!reg)
		return role_missing(axis, AX_ROLE_OP_MODE);
	code = ax_op_mode_code(mode, axis->codes);
	if (code < 0) {
		ax__error_prefix("axis %u of '%s'", axis->subnode, uri_of(axis));
		return code;
	}
	if (ax_reg_enum_count(reg) > 0 && !reg_lists(reg, code)) {
		char list[512];

		listed_modes(axis, reg, list, sizeof(list));
		return ax__error_set(AX_EUNSUPPORTED,
		                     "axis %u of '%s': mode '%s' (0x%X) is not one the dictionary "
		                     "lists for %s: %s",
		                     axis->subnode, uri_of(axis), ax_op_mode_name(mode),
		                     (unsigned)code, ax_reg_id(reg), list);
	}
	err = role_write_i64(axis, AX_ROLE_OP_MODE, code);
	if (err < 0)
		return err;
	timeout_ms = timeout_of(axis, timeout_ms);
	deadline = ax__now_ms() + timeout_ms;
	for (;;) {
		err = role_read_i64(axis, mode_display_role(axis), &shown);
		if (err < 0)
			return err;
		if (shown == code)
			return 0;
		if (ax__now_ms() >= deadline)
			break;
		sleep_ms(axis->poll_ms);
	}
	{
		int now = shown >= 0 && shown <= UINT32_MAX
		                  ? ax_op_mode_from_code((uint32_t)shown, axis->codes)
		                  : AX_OP_MODE_UNKNOWN;

		return ax__error_set(AX_ETIMEDOUT,
		                     "axis %u of '%s': the operation mode display shows 0x%llX "
		                     "(%s), not 0x%X (%s), %d ms after the change",
		                     axis->subnode, uri_of(axis), (unsigned long long)shown,
		                     now >= 0 ? ax_op_mode_name(now) : "unknown", (unsigned)code,
		                     ax_op_mode_name(mode), timeout_ms);
	}
}

/* Switch to @mode unless it is in effect already. */
static int ensure_mode(ax_axis *a, int mode)
{
	int now = AX_OP_MODE_UNKNOWN;
	int err = ax_axis_get_mode(a, &now, NULL);

	if (err < 0)
		return err;
	return now == mode ? 0 : ax_axis_set_mode(a, mode, 0);
}

static const char *family_name(int codes)
{
	return codes == AX_MODE_CODES_MCB ? "MCB" : "CiA 402";
}

/* An integer in decimal or 0x hex, all of @text; -1 when it is none. */
static int parse_code(const char *text, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '-' || text[0] == '+'))
		return -1;
	errno = 0;
	v = strtoll(text, &end, 0);
	if (errno != 0 || end == text || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int ax_axis_mode_from_code(const ax_axis *axis, int64_t code)
{
	const ax_reg *reg;
	char list[512];
	int mode, other;

	AX_ASSERT_ARG(axis);
	reg = axis->roles[AX_ROLE_OP_MODE] ? axis->roles[AX_ROLE_OP_MODE]
	                                   : axis->roles[AX_ROLE_OP_MODE_DISPLAY];
	list[0] = '\0';
	if (reg)
		listed_modes(axis, reg, list, sizeof(list));
	mode = code >= 0 && code <= UINT32_MAX ? ax_op_mode_from_code((uint32_t)code, axis->codes)
	                                       : AX_ENOTFOUND;
	if (mode < 0) {
		other = code >= 0 && code <= UINT32_MAX
		                ? ax_op_mode_from_code((uint32_t)code,
		                                       axis->codes == AX_MODE_CODES_MCB
		                                               ? AX_MODE_CODES_CIA402
		                                               : AX_MODE_CODES_MCB)
		                : -1;
		ax_error_clear();
		return ax__error_set(AX_EINVAL,
		                     "axis %u of '%s': %lld is no operation mode code of this "
		                     "drive, which takes %s codes%s%s%s%s%s%s%s",
		                     axis->subnode, uri_of(axis), (long long)code,
		                     family_name(axis->codes), other >= 0 ? " (it is the " : "",
		                     other >= 0 ? family_name(axis->codes == AX_MODE_CODES_MCB
		                                                      ? AX_MODE_CODES_CIA402
		                                                      : AX_MODE_CODES_MCB)
		                                : "",
		                     other >= 0 ? " code of '" : "",
		                     other >= 0 ? ax_op_mode_name(other) : "",
		                     other >= 0 ? "')" : "", list[0] ? "; it lists: " : "", list);
	}
	if (reg && ax_reg_enum_count(reg) > 0 && !reg_lists(reg, code))
		return ax__error_set(AX_EUNSUPPORTED,
		                     "axis %u of '%s': mode '%s' (0x%llX) is not one the "
		                     "dictionary lists for %s: %s",
		                     axis->subnode, uri_of(axis), ax_op_mode_name(mode),
		                     (unsigned long long)code, ax_reg_id(reg), list);
	return mode;
}

int ax_axis_mode_parse(const ax_axis *axis, const char *text)
{
	const ax_reg *reg;
	int64_t code = 0;
	char list[512];
	int mode;

	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(text);
	if (parse_code(text, &code) == 0)
		return ax_axis_mode_from_code(axis, code);
	mode = ax_op_mode_parse(text);
	if (mode >= 0)
		return mode;
	ax_error_clear();
	reg = axis->roles[AX_ROLE_OP_MODE] ? axis->roles[AX_ROLE_OP_MODE]
	                                   : axis->roles[AX_ROLE_OP_MODE_DISPLAY];
	for (size_t i = 0; reg && i < ax_reg_enum_count(reg); i++) {
		const char *label = NULL;
		int64_t v = 0;

		if (ax_reg_enum_at(reg, i, &v, &label) == 0 && label && !strcasecmp(label, text))
			return ax_axis_mode_from_code(axis, v);
	}
	list[0] = '\0';
	if (reg)
		listed_modes(axis, reg, list, sizeof(list));
	return ax__error_set(AX_EINVAL,
	                     "axis %u of '%s': unknown operation mode '%s': give a name (voltage, "
	                     "current, velocity, profile_velocity (pv), position, "
	                     "profile_position (pp), cyclic_position (csp), homing (hm), torque "
	                     "(pt), cyclic_velocity (csv), cyclic_torque (cst)), a label of the "
	                     "dictionary or the drive's %s code%s%s",
	                     axis->subnode, uri_of(axis), text, family_name(axis->codes),
	                     list[0] ? "; it lists: " : "", list);
}

int ax_axis_home_method_parse(const ax_axis *axis, const char *text)
{
	const ax_reg *reg;
	int64_t code = 0;
	char list[512];
	size_t used = 0;

	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(text);
	reg = axis->roles[AX_ROLE_HOMING_METHOD];
	if (parse_code(text, &code) == 0) {
		if (code < 0 || code > INT32_MAX)
			return ax__error_set(AX_EINVAL,
			                     "axis %u of '%s': homing method %lld: "
			                     "expected 0..%d",
			                     axis->subnode, uri_of(axis), (long long)code,
			                     INT32_MAX);
		if (!reg || ax_reg_enum_count(reg) == 0 || reg_lists(reg, code))
			return (int)code;
	} else {
		for (size_t i = 0; reg && i < ax_reg_enum_count(reg); i++) {
			const char *label = NULL;
			int64_t v = 0;

			if (ax_reg_enum_at(reg, i, &v, &label) == 0 && label &&
			    !strcasecmp(label, text) && v >= 0 && v <= INT32_MAX)
				return (int)v;
		}
	}
	if (!reg)
		return role_missing(axis, AX_ROLE_HOMING_METHOD);
	list[0] = '\0';
	for (size_t i = 0; i < ax_reg_enum_count(reg); i++) {
		const char *label = "";
		int64_t v = 0;
		int n;

		if (ax_reg_enum_at(reg, i, &v, &label) < 0)
			continue;
		n = snprintf(list + used, sizeof(list) - used, "%s%lld (%s)", used ? ", " : "",
		             (long long)v, label ? label : "");
		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break;
		used += (size_t)n;
	}
	ax_error_clear();
	return ax__error_set(AX_EINVAL,
	                     "axis %u of '%s': homing method '%s' is not one the dictionary lists "
	                     "for %s: %s",
	                     axis->subnode, uri_of(axis), text, ax_reg_id(reg),
	                     list[0] ? list : "none");
}

/* ---- feedback ------------------------------------------------------------ */

int ax_axis_position(ax_axis *axis, double *out)
{
	double counts = 0.0;
	int err;

	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(out);
	err = role_read(axis, AX_ROLE_POSITION, &counts);
	if (err < 0)
		return err;
	return ax_axis_from_counts(axis, counts, out);
}

int ax_axis_velocity(ax_axis *axis, double *out)
{
	double v = 0.0, scale = 0.0;
	int err;

	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(out);
	err = role_read(axis, AX_ROLE_VELOCITY, &v);
	if (err == 0)
		err = ax__axis_rate_scale(axis, axis->roles[AX_ROLE_VELOCITY], &scale);
	if (err < 0)
		return err;
	return ax_axis_from_counts(axis, v * scale, out);
}

int ax_axis_current(ax_axis *axis, double *out)
{
	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(out);
	return role_read(axis, AX_ROLE_CURRENT, out);
}

/* ---- moves --------------------------------------------------------------- */

/* Operation enabled, or an error naming the state: motion needs it. */
static int require_enabled(ax_axis *a, const char *op)
{
	uint16_t sw = 0;
	int state, err = current_state(a, op, &state, &sw);

	if (err < 0 || state == AX_CIA402_OPERATION_ENABLED)
		return err;
	return ax__error_set(AX_ERROR,
	                     "axis %u of '%s': %s: the axis is in '%s' (status word 0x%04X), not "
	                     "operation_enabled; enable it first",
	                     a->subnode, uri_of(a), op, ax_cia402_state_name(state), (unsigned)sw);
}

/* Seconds a trapezoidal profile over @dist takes (all in counts); < 0 when unknown. */
static double profile_seconds(double dist, double v, double acc, double dec)
{
	double t_acc, t_dec, d_ramps;

	if (!(v > 0.0))
		return -1.0;
	t_acc = acc > 0.0 ? v / acc : 0.0;
	t_dec = dec > 0.0 ? v / dec : 0.0;
	d_ramps = v * (t_acc + t_dec) / 2.0;
	if (d_ramps <= dist)
		return t_acc + t_dec + (dist - d_ramps) / v;
	/* A triangle: the peak velocity stays below the limit. */
	{
		double inv = (acc > 0.0 ? 1.0 / acc : 0.0) + (dec > 0.0 ? 1.0 / dec : 0.0);
		double peak = inv > 0.0 ? sqrt(2.0 * dist / inv) : v;

		return peak * inv;
	}
}

static int wait_ms_for(double seconds)
{
	double ms = seconds * 2000.0 + WAIT_MARGIN_MS; /* twice the estimate, and slack */

	if (!(seconds >= 0.0))
		return DEFAULT_WAIT_MS;
	return ms > 3.6e6 ? 3600000 : (int)ms;
}

/* The limits of @o, for this command only (restore_limits() puts the drive's back). */
static int write_limits(ax_axis *a, const ax_move_options *o, int with_velocity)
{
	int err = restore_limits(a, 0);

	if (err == 0 && with_velocity && o->velocity > 0.0)
		err = write_limit_once(a, 0, o->velocity);
	if (err == 0 && o->acceleration > 0.0)
		err = write_limit_once(a, 1, o->acceleration);
	if (err == 0 && o->deceleration > 0.0)
		err = write_limit_once(a, 2, o->deceleration);
	return err;
}

static int check_move_options(const ax_move_options *o)
{
	if (!(isfinite(o->velocity) && o->velocity >= 0.0 && isfinite(o->acceleration) &&
	      o->acceleration >= 0.0 && isfinite(o->deceleration) && o->deceleration >= 0.0) ||
	    o->timeout_ms < 0 || (o->flags & ~(AX_MOVE_RELATIVE | AX_MOVE_NO_WAIT)))
		return ax__error_set(AX_EINVAL,
		                     "ax_move_options: velocity %g, acceleration %g, deceleration "
		                     "%g, timeout %d ms, flags 0x%X: expected finite values >= 0 "
		                     "and AX_MOVE_* flags",
		                     o->velocity, o->acceleration, o->deceleration, o->timeout_ms,
		                     o->flags);
	return 0;
}

/* Wait until status bit 12 (set-point acknowledge) reads @want (0 or 1) in operation enabled. */
static int wait_ack(ax_axis *a, unsigned cw, int want, const char *step)
{
	int64_t deadline = ax__now_ms() + a->timeout_ms;
	uint16_t sw = 0;
	int err, state;

	for (;;) {
		err = read_status(a, &sw);
		if (err < 0)
			return err;
		state = ax_cia402_decode(sw);
		if (state != AX_CIA402_OPERATION_ENABLED) {
			(void)control(a, cw);
			if (is_fault(state))
				return fault_error(a, "move", step, state, sw);
			return ax__error_set(AX_ERROR,
			                     "axis %u of '%s': move: the axis left operation "
			                     "enabled for '%s' during '%s' (status word 0x%04X)",
			                     a->subnode, uri_of(a), ax_cia402_state_name(state),
			                     step, (unsigned)sw);
		}
		if (!!(sw & SW_SET_POINT_ACK) == want)
			return 0;
		if (ax__now_ms() >= deadline) {
			(void)control(a, cw);
			return ax__error_set(AX_ETIMEDOUT,
			                     "axis %u of '%s': move: '%s' did not happen within %d "
			                     "ms: status word 0x%04X, bit 12 %s",
			                     a->subnode, uri_of(a), step, a->timeout_ms,
			                     (unsigned)sw, want ? "low" : "still high");
		}
		sleep_ms(a->poll_ms);
	}
}

/*
 * The set-point handshake of CiA 402: bit 4 low until bit 12 is low (the
 * drive can take a set point), bit 4 up, wait for bit 12 (taken), bit 4
 * down. Waiting for the low first keeps an acknowledge of an earlier set
 * point from passing for this one's.
 */
static int set_point_handshake(ax_axis *a, unsigned cw)
{
	unsigned held = cw;
	int64_t now = 0;
	int err;

	/*
	 * A halted axis (ax_axis_halt(), maybe by another handle) would resume
	 * its old target the moment the halt is released: keep bit 8 through
	 * the handshake, so that the release starts the new target.
	 */
	if (role_read_i64(a, AX_ROLE_CONTROLWORD, &now) == 0)
		held |= (unsigned)now & CW_HALT;
	else
		ax_error_clear(); /* a write-only control word: nothing held */
	err = control(a, held);
	if (err == 0)
		err = wait_ack(a, held, 0, "set-point acknowledge cleared");
	if (err == 0)
		err = control(a, held | CW_NEW_SET_POINT);
	if (err == 0)
		err = wait_ack(a, held, 1, "set-point acknowledge");
	if (err < 0)
		return err;
	return control(a, cw);
}

/* "PROF_MAX_VEL = 1 rev/s": a limit register and its value in its own units, for messages. */
static int limit_text(ax_axis *a, int role, char *buf, size_t cap)
{
	const ax_reg *reg = a->roles[role];
	const char *units;
	double v = 0.0;

	if (!reg || role_read(a, role, &v) < 0) {
		ax_error_clear();
		return -1;
	}
	units = ax_reg_units(reg);
	(void)snprintf(buf, cap, "%s = %.6g%s%s", ax_reg_id(reg), v,
	               units && units[0] && strcmp(units, "none") && strcmp(units, "-") ? " " : "",
	               units && units[0] && strcmp(units, "none") && strcmp(units, "-") ? units
	                                                                                : "");
	return 0;
}

/*
 * A profile velocity beyond the drive's profile velocity limit would be
 * capped there, silently: refuse it, naming the limit.
 */
static int check_velocity_limit(ax_axis *a, double velocity, double counts)
{
	double vmax = read_rate_counts(a, AX_ROLE_PROFILE_VELOCITY);
	char limit[96];

	if (!(vmax > 0.0) || fabs(counts) <= vmax * (1.0 + 1e-6) + 0.5)
		return 0;
	if (limit_text(a, AX_ROLE_PROFILE_VELOCITY, limit, sizeof(limit)) < 0)
		return 0;
	return ax__error_set(AX_ERANGE,
	                     "axis %u of '%s': velocity %g %s/s is beyond what the drive runs "
	                     "at: limited by %s; raise it or ask for less",
	                     a->subnode, uri_of(a), velocity, ax_unit_name(a->unit), limit);
}

/* How far (counts/s) the actual velocity may be from the one asked for and count as reached. */
static double velocity_window(const ax_axis *a, double want)
{
	double floor = a->res > 0.0 ? a->res * 0.002 : 1.0; /* 0.002 rev/s */

	return fmax(fabs(want) * 0.02, fmax(floor, 1.0));
}

/*
 * The drive says "reached" in profile velocity but runs at @actual, not at
 * the velocity asked for: an error saying so, and why when a limit explains it.
 */
static int velocity_off(ax_axis *a, double actual, uint16_t sw)
{
	double want = 0.0, now = 0.0;
	double vmax = read_rate_counts(a, AX_ROLE_PROFILE_VELOCITY);
	char limit[96], why[128];

	why[0] = '\0';
	if (vmax > 0.0 && fabs(fabs(actual) - vmax) <= velocity_window(a, vmax) &&
	    limit_text(a, AX_ROLE_PROFILE_VELOCITY, limit, sizeof(limit)) == 0)
		(void)snprintf(why, sizeof(why), ": limited by %s", limit);
	if (ax_axis_from_counts(a, a->vel_want, &want) < 0 ||
	    ax_axis_from_counts(a, actual, &now) < 0) {
		ax_error_clear();
		want = a->vel_want;
		now = actual;
	}
	return ax__error_set(AX_ERANGE,
	                     "axis %u of '%s': velocity %.6g %s/s not reached: the drive reports "
	                     "target reached at %.6g %s/s (status word 0x%04X)%s",
	                     a->subnode, uri_of(a), want, ax_unit_name(a->unit), now,
	                     ax_unit_name(a->unit), (unsigned)sw, why);
}

int ax_axis_move(ax_axis *axis, double position, const ax_move_options *opts)
{
	static const ax_move_options defaults = AX_MOVE_OPTIONS_INIT;
	double target = 0.0, now = 0.0, dist;
	unsigned cw = CW_ENABLE_OPERATION | CW_CHANGE_IMMEDIATELY;
	int err;

	AX_ASSERT_ARG(axis);
	AX_CHECK_VERSION(opts, AX_MOVE_OPTIONS_VERSION, "ax_move_options");
	if (!opts)
		opts = &defaults;
	err = check_move_options(opts);
	if (err < 0)
		return err;
	err = ax_axis_to_counts(axis, position, &target);
	if (err < 0)
		return err;
	target = round(target);
	if (!(target >= -9.2e18 && target <= 9.2e18))
		return ax__error_set(AX_ERANGE, "position %g %s is %g counts, beyond any register",
		                     position, ax_unit_name(axis->unit), target);
	if (!axis->roles[AX_ROLE_POSITION_SET_POINT])
		return role_missing(axis, AX_ROLE_POSITION_SET_POINT);
	axis->vel_want = NAN;
	err = require_enabled(axis, "move");
	if (err == 0)
		err = ensure_mode(axis, AX_OP_MODE_PROFILE_POSITION);
	if (err == 0)
		err = write_limits(axis, opts, 1);
	if (err == 0)
		err = role_write_i64(axis, AX_ROLE_POSITION_SET_POINT, (int64_t)target);
	if (err < 0)
		return restore_limits(axis, err);

	if (opts->flags & AX_MOVE_RELATIVE) {
		cw |= CW_RELATIVE;
		dist = fabs(target);
	} else {
		if (role_read(axis, AX_ROLE_POSITION, &now) < 0)
			ax_error_clear(); /* only for the estimate */
		dist = fabs(target - now);
	}
	axis->wait_ms = opts->timeout_ms
	                        ? opts->timeout_ms
	                        : wait_ms_for(profile_seconds(
	                                  dist, read_rate_counts(axis, AX_ROLE_PROFILE_VELOCITY),
	                                  read_rate_counts(axis, AX_ROLE_PROFILE_ACCELERATION),
	                                  read_rate_counts(axis, AX_ROLE_PROFILE_DECELERATION)));
	err = set_point_handshake(axis, cw);
	if (err < 0)
		return restore_limits(axis, err);
	if (opts->flags & AX_MOVE_NO_WAIT)
		return 0; /* the limits stay until the wait, a halt or the next command */
	return ax_axis_wait_target_reached(axis, axis->wait_ms, NULL, NULL);
}

int ax_axis_move_velocity(ax_axis *axis, double velocity, const ax_move_options *opts)
{
	static const ax_move_options defaults = AX_MOVE_OPTIONS_INIT;
	double counts = 0.0, scale = 0.0, now = 0.0, acc;
	int err;

	AX_ASSERT_ARG(axis);
	AX_CHECK_VERSION(opts, AX_MOVE_OPTIONS_VERSION, "ax_move_options");
	if (!opts)
		opts = &defaults;
	err = check_move_options(opts);
	if (err < 0)
		return err;
	if (opts->flags & AX_MOVE_RELATIVE)
		return ax__error_set(AX_EINVAL,
		                     "a velocity has no relative form (AX_MOVE_RELATIVE)");
	if (!axis->roles[AX_ROLE_VELOCITY_SET_POINT])
		return role_missing(axis, AX_ROLE_VELOCITY_SET_POINT);
	axis->vel_want = NAN;
	err = ax_axis_to_counts(axis, velocity, &counts);
	if (err == 0)
		err = ax__axis_rate_scale(axis, axis->roles[AX_ROLE_VELOCITY_SET_POINT], &scale);
	if (err == 0)
		err = restore_limits(axis, 0);
	if (err == 0)
		err = check_velocity_limit(axis, velocity, counts);
	if (err == 0)
		err = require_enabled(axis, "velocity");
	if (err == 0)
		err = ensure_mode(axis, AX_OP_MODE_PROFILE_VELOCITY);
	if (err == 0)
		err = write_limits(axis, opts, 0);
	if (err < 0)
		return restore_limits(axis, err);

	if (axis->roles[AX_ROLE_VELOCITY] && role_read(axis, AX_ROLE_VELOCITY, &now) == 0 &&
	    isfinite(now))
		now *= scale;
	else
		now = 0.0;
	ax_error_clear();
	acc = fmin(read_rate_counts(axis, AX_ROLE_PROFILE_ACCELERATION),
	           read_rate_counts(axis, AX_ROLE_PROFILE_DECELERATION));
	axis->wait_ms = opts->timeout_ms ? opts->timeout_ms
	                                 : wait_ms_for(acc > 0.0 ? fabs(counts - now) / acc : -1.0);
	err = role_write(axis, AX_ROLE_VELOCITY_SET_POINT, counts / scale);
	/* Release a halt (ax_axis_halt()): the new set point is what to run at. */
	if (err == 0)
		err = control(axis, CW_ENABLE_OPERATION);
	if (err < 0)
		return restore_limits(axis, err);
	axis->vel_want = counts; /* "reached" means this velocity, within its window */
	if (opts->flags & AX_MOVE_NO_WAIT)
		return 0;
	/* The old velocity may show as reached for a moment: let the drive see the new one. */
	sleep_ms(axis->poll_ms);
	return ax_axis_wait_target_reached(axis, axis->wait_ms, NULL, NULL);
}

/* How long the drive may say "reached" off the velocity asked for before that is an error. */
#define VELOCITY_SETTLE_MS 200

/* ax_axis_wait_target_reached(); *from_cb set when the callback ended it. */
static int wait_reached(ax_axis *axis, int timeout_ms, ax_axis_wait_cb cb, void *userdata,
                        int *from_cb)
{
	int64_t deadline, off_since = -1;
	uint16_t sw = 0;
	int err, state;

	deadline = ax__now_ms() + timeout_ms;
	for (;;) {
		err = read_status(axis, &sw);
		if (err < 0)
			return err;
		state = ax_cia402_decode(sw);
		if (state != AX_CIA402_OPERATION_ENABLED) {
			if (is_fault(state))
				return fault_error(axis, "wait for target reached", "motion", state,
				                   sw);
			return ax__error_set(AX_ERROR,
			                     "axis %u of '%s': wait for target reached: the axis "
			                     "is in '%s' (status word 0x%04X), not "
			                     "operation_enabled",
			                     axis->subnode, uri_of(axis),
			                     ax_cia402_state_name(state), (unsigned)sw);
		}
		/* After every status read, the last one included (motion.h). */
		if (cb) {
			err = cb(axis, sw, userdata);
			if (err < 0) {
				*from_cb = 1;
				return err;
			}
		}
		if ((sw & SW_TARGET_REACHED) && !isfinite(axis->vel_want))
			return 0;
		if (sw & SW_TARGET_REACHED) {
			/* Profile velocity: reached is the velocity asked for, within a window. */
			double v = velocity_counts(axis);
			int64_t now = ax__now_ms();

			if (!isfinite(v) ||
			    fabs(v - axis->vel_want) <= velocity_window(axis, axis->vel_want))
				return 0;
			if (off_since < 0)
				off_since = now;
			if (now - off_since >= VELOCITY_SETTLE_MS || now >= deadline)
				return velocity_off(axis, v, sw);
		} else {
			off_since = -1;
		}
		err = check_cancel(axis, "wait for target reached");
		if (err < 0)
			return err;
		if (ax__now_ms() >= deadline) {
			double pos = 0.0;

			if (role_read(axis, AX_ROLE_POSITION, &pos) < 0)
				pos = NAN;
			return ax__error_set(AX_ETIMEDOUT,
			                     "axis %u of '%s': target not reached within %d ms: "
			                     "position %.0f counts, status word 0x%04X",
			                     axis->subnode, uri_of(axis), timeout_ms, pos,
			                     (unsigned)sw);
		}
		sleep_ms(axis->poll_ms);
	}
}

int ax_axis_wait_target_reached(ax_axis *axis, int timeout_ms, ax_axis_wait_cb cb, void *userdata)
{
	int err, from_cb = 0;

	AX_ASSERT_ARG(axis);
	if (timeout_ms < 0)
		return ax__error_set(AX_EINVAL, "timeout %d ms: expected >= 0", timeout_ms);
	if (!timeout_ms)
		timeout_ms = axis->wait_ms ? axis->wait_ms : DEFAULT_WAIT_MS;
	err = wait_reached(axis, timeout_ms, cb, userdata, &from_cb);
	/* Cancelled or stopped by the caller: the motion goes on with its limits. */
	if (err == AX_ECANCELED || from_cb)
		return err;
	return restore_limits(axis, err);
}

int ax_axis_set_current(ax_axis *axis, double amperes)
{
	int err;

	AX_ASSERT_ARG(axis);
	if (!isfinite(amperes))
		return ax__error_set(AX_EINVAL, "current %g A is not a finite number", amperes);
	if (!axis->roles[AX_ROLE_CURRENT_SET_POINT])
		return role_missing(axis, AX_ROLE_CURRENT_SET_POINT);
	axis->vel_want = NAN;
	err = ensure_mode(axis, AX_OP_MODE_CURRENT);
	if (err < 0)
		return err;
	return role_write(axis, AX_ROLE_CURRENT_SET_POINT, amperes);
}

int ax_axis_set_torque(ax_axis *axis, double newton_metres)
{
	double kt = 0.0;
	int err;

	AX_ASSERT_ARG(axis);
	if (!isfinite(newton_metres))
		return ax__error_set(AX_EINVAL, "torque %g N·m is not a finite number",
		                     newton_metres);
	err = role_read(axis, AX_ROLE_TORQUE_CONSTANT, &kt);
	if (err < 0)
		return err;
	if (!(isfinite(kt) && kt > 0.0))
		return ax__error_set(AX_EUNSUPPORTED,
		                     "axis %u of '%s': the torque constant (%s) is %g N·m/A; "
		                     "torque needs one above 0",
		                     axis->subnode, uri_of(axis),
		                     ax_reg_id(axis->roles[AX_ROLE_TORQUE_CONSTANT]), kt);
	return ax_axis_set_current(axis, newton_metres / kt);
}

/* ---- homing -------------------------------------------------------------- */

static int homing_setup(ax_axis *a, const ax_home_options *o)
{
	const ax_reg *reg = a->roles[AX_ROLE_HOMING_METHOD];
	int err;

	if (o->method != AX_HOME_METHOD_DRIVE) {
		if (!reg)
			return role_missing(a, AX_ROLE_HOMING_METHOD);
		if (ax_reg_enum_count(reg) > 0 && !reg_lists(reg, o->method))
			return ax__error_set(AX_EUNSUPPORTED,
			                     "axis %u of '%s': homing method %d is not one the "
			                     "dictionary lists for %s",
			                     a->subnode, uri_of(a), o->method, ax_reg_id(reg));
		err = role_write_i64(a, AX_ROLE_HOMING_METHOD, o->method);
		if (err < 0)
			return err;
	}
	if (o->flags & AX_HOME_SET_OFFSET) {
		double counts = 0.0;

		err = ax_axis_to_counts(a, o->offset, &counts);
		if (err == 0)
			err = role_write_i64(a, AX_ROLE_HOMING_OFFSET, (int64_t)llround(counts));
		if (err < 0)
			return err;
	}
	if (o->speed > 0.0)
		return write_limit_once(a, 3, o->speed);
	return 0;
}

/* "method 1 (Home switch, positive direction)" for messages. */
static void method_text(ax_axis *a, char *buf, size_t cap)
{
	const ax_reg *reg = a->roles[AX_ROLE_HOMING_METHOD];
	const char *label = NULL;
	int64_t m = -1;

	if (reg && role_read_i64(a, AX_ROLE_HOMING_METHOD, &m) == 0)
		label = ax_reg_enum_label(reg, m);
	ax_error_clear();
	if (m < 0)
		(void)snprintf(buf, cap, "the drive's method");
	else
		(void)snprintf(buf, cap, "method %lld%s%s%s", (long long)m, label ? " (" : "",
		               label ? label : "", label ? ")" : "");
}

static int home_run(ax_axis *axis, const ax_home_options *opts);

int ax_axis_home(ax_axis *axis, const ax_home_options *opts)
{
	int err;

	AX_ASSERT_ARG(axis);
	err = home_run(axis, opts);
	/* Cancelled: homing goes on with its speed until halted (which restores it). */
	return err == AX_ECANCELED ? err : restore_limits(axis, err);
}

static int home_run(ax_axis *axis, const ax_home_options *opts)
{
	static const ax_home_options defaults = AX_HOME_OPTIONS_INIT;
	unsigned cw = CW_ENABLE_OPERATION;
	char method[160];
	int64_t deadline;
	int timeout_ms, err, state;
	uint16_t sw = 0;

	AX_ASSERT_ARG(axis);
	AX_CHECK_VERSION(opts, AX_HOME_OPTIONS_VERSION, "ax_home_options");
	if (!opts)
		opts = &defaults;
	if (opts->method < AX_HOME_METHOD_DRIVE || opts->timeout_ms < 0 ||
	    !isfinite(opts->offset) || !(isfinite(opts->speed) && opts->speed >= 0.0) ||
	    (opts->flags & ~AX_HOME_SET_OFFSET))
		return ax__error_set(AX_EINVAL,
		                     "ax_home_options: method %d, offset %g, speed %g, timeout %d "
		                     "ms, flags 0x%X",
		                     opts->method, opts->offset, opts->speed, opts->timeout_ms,
		                     opts->flags);
	axis->vel_want = NAN;
	err = require_enabled(axis, "home");
	if (err == 0)
		err = restore_limits(axis, 0);
	if (err == 0)
		err = homing_setup(axis, opts);
	if (err == 0)
		err = ensure_mode(axis, AX_OP_MODE_HOMING);
	if (err < 0)
		return err;
	timeout_ms = opts->timeout_ms;
	if (!timeout_ms) {
		double t = 0.0;

		timeout_ms = DEFAULT_HOMING_MS;
		if (axis->roles[AX_ROLE_HOMING_TIMEOUT] &&
		    role_read(axis, AX_ROLE_HOMING_TIMEOUT, &t) == 0 && t > 0.0 && t < 3.6e6)
			timeout_ms = (int)t + WAIT_MARGIN_MS;
		ax_error_clear();
	}
	method_text(axis, method, sizeof(method));

	/* Bit 4 starts homing on its rising edge and must stay high until the end. */
	err = control(axis, cw);
	if (err == 0)
		err = control(axis, cw | CW_NEW_SET_POINT);
	if (err < 0)
		return err;
	deadline = ax__now_ms() + timeout_ms;
	for (;;) {
		err = read_status(axis, &sw);
		if (err < 0)
			break;
		state = ax_cia402_decode(sw);
		if (state != AX_CIA402_OPERATION_ENABLED) {
			if (is_fault(state))
				return fault_error(axis, "home", method, state, sw);
			return ax__error_set(AX_ERROR,
			                     "axis %u of '%s': home: the axis left operation "
			                     "enabled for '%s' (status word 0x%04X)",
			                     axis->subnode, uri_of(axis),
			                     ax_cia402_state_name(state), (unsigned)sw);
		}
		if (sw & SW_HOMING_ERROR) {
			(void)control(axis, cw);
			return ax__error_set(AX_ERROR,
			                     "axis %u of '%s': home: homing error with %s (status "
			                     "word 0x%04X)",
			                     axis->subnode, uri_of(axis), method, (unsigned)sw);
		}
		if ((sw & (SW_SET_POINT_ACK | SW_TARGET_REACHED)) ==
		    (SW_SET_POINT_ACK | SW_TARGET_REACHED))
			break;
		err = check_cancel(axis, "home");
		if (err < 0)
			return err; /* bit 4 stays high: homing goes on until halted */
		if (ax__now_ms() >= deadline) {
			(void)control(axis, cw);
			return ax__error_set(AX_ETIMEDOUT,
			                     "axis %u of '%s': home: %s did not finish within %d "
			                     "ms (status word 0x%04X)",
			                     axis->subnode, uri_of(axis), method, timeout_ms,
			                     (unsigned)sw);
		}
		sleep_ms(axis->poll_ms);
	}
	if (err < 0) {
		(void)control(axis, cw);
		return err;
	}
	return control(axis, cw);
}
