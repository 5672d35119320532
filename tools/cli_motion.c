/* SPDX-License-Identifier: MIT */
/*
 * axlink enable | disable | reset | mode | move | velocity | home | state |
 * stop | quick-stop: one axis of a drive through the CiA 402 state machine
 * (axlink/motion.h).
 *
 *   axlink enable|disable|reset URI [--axis N] [--json]
 *   axlink mode URI MODE [--axis N] [--json]
 *   axlink move URI POSITION [--relative] [--velocity V] [--acceleration A]
 *               [--deceleration D] [--units U] [--no-wait] [--json]
 *   axlink velocity URI V [--acceleration A] [--deceleration D] [--units U] [--no-wait]
 *   axlink home URI [--method M] [--offset P] [--units U] [--json]
 *   axlink state URI [--units U] [--json]
 *   axlink stop|quick-stop URI [--axis N] [--units U] [--json]
 *
 * MODE and --method take the drive's own integer codes (never the
 * library's enum values), names, or the labels of the drive's dictionary.
 * --velocity, --acceleration, --deceleration apply to that command only:
 * the drive's registers get their values back when it ends.
 *
 * Every command confirms what it did from the drive's status word and
 * prints the state reached; a failure prints the library's message, which
 * names the transition that did not happen, the state and the status word.
 * move shows its progress on stderr when stderr is a terminal.
 *
 * Interrupting move, velocity or home (SIGINT, SIGTERM) stops the axis
 * before the command exits: the handler only triggers the axis's cancel
 * token, the wait returns within a poll period, and the axis is halted on
 * its profile deceleration (control word bit 8: it stays enabled and holds
 * the position); quick stop only when the halt fails. The position it
 * stopped at is reported, and the exit status is 128 + the signal (130 for
 * Ctrl-C). A second signal exits at once, without waiting for standstill.
 * Halt rather than quick stop because it keeps the axis under control and
 * enabled on a ramp the user set; the dictionaries have no halt or quick
 * stop option code to choose otherwise by.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_AXIS = 400,
	OPT_RELATIVE,
	OPT_VELOCITY,
	OPT_UNITS,
	OPT_FEED,
	OPT_NO_WAIT,
	OPT_METHOD,
	OPT_OFFSET,
	OPT_ACCELERATION,
	OPT_DECELERATION,
};

#define MOTION_OPTIONS                                                                             \
	CLI_COMMON_OPTIONS, {"axis", required_argument, NULL, OPT_AXIS},                           \
	{                                                                                          \
		"dict", required_argument, NULL, OPT_DICT                                          \
	}

#define UNIT_OPTIONS                                                                               \
	{"units", required_argument, NULL, OPT_UNITS},                                             \
	{                                                                                          \
		"feed", required_argument, NULL, OPT_FEED                                          \
	}

static const struct option axis_options[] = {
        MOTION_OPTIONS,
        {NULL, 0, NULL, 0},
};

static const struct option state_options[] = {
        MOTION_OPTIONS,
        UNIT_OPTIONS,
        {NULL, 0, NULL, 0},
};

static const struct option move_options[] = {
        MOTION_OPTIONS,
        UNIT_OPTIONS,
        {"relative", no_argument, NULL, OPT_RELATIVE},
        {"velocity", required_argument, NULL, OPT_VELOCITY},
        {"acceleration", required_argument, NULL, OPT_ACCELERATION},
        {"deceleration", required_argument, NULL, OPT_DECELERATION},
        {"no-wait", no_argument, NULL, OPT_NO_WAIT},
        {NULL, 0, NULL, 0},
};

static const struct option velocity_options[] = {
        MOTION_OPTIONS,
        UNIT_OPTIONS,
        {"acceleration", required_argument, NULL, OPT_ACCELERATION},
        {"deceleration", required_argument, NULL, OPT_DECELERATION},
        {"no-wait", no_argument, NULL, OPT_NO_WAIT},
        {NULL, 0, NULL, 0},
};

static const struct option home_options[] = {
        MOTION_OPTIONS,
        UNIT_OPTIONS,
        {"method", required_argument, NULL, OPT_METHOD},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {NULL, 0, NULL, 0},
};

/* The options of this group; a command runs once per process. */
static struct {
	unsigned axis;
	int relative;
	int no_wait;
	int unit;
	double feed;
	double velocity;     /* 0: the drive's */
	double acceleration; /* 0: the drive's */
	double deceleration; /* 0: the drive's */
	const char *method;  /* a number or a label of HOM_MODE; NULL: the drive's */
	int have_offset;
	double offset;
} mo = {1, 0, 0, AX_UNIT_COUNTS, 0.0, 0.0, 0.0, 0.0, NULL, 0, 0.0};

/* A finite number, all of @text (strtod also takes blanks, "inf", "nan", hex). */
static int parse_number(const char *text, double *out)
{
	char *end = NULL;
	double v;

	if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '-' || text[0] == '+' ||
	      text[0] == '.'))
		return -1;
	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !isfinite(v) || strpbrk(text, "xXnNiI"))
		return -1;
	*out = v;
	return 0;
}

static int motion_option(struct cli *cli, int c, const char *arg)
{
	unsigned long v;
	double d;

	switch (c) {
	case OPT_AXIS:
		if (parse_uint(arg, SUBNODE_MAX, &v) < 0 || v == 0)
			return usage_error(cli->cmd, "--axis '%s': expected 1..%u", arg,
			                   SUBNODE_MAX);
		mo.axis = (unsigned)v;
		return 0;
	case OPT_RELATIVE:
		mo.relative = 1;
		return 0;
	case OPT_NO_WAIT:
		mo.no_wait = 1;
		return 0;
	case OPT_UNITS:
		mo.unit = ax_unit_parse(arg);
		if (mo.unit < 0)
			return usage_error(cli->cmd, "--units: %s", ax_error_last());
		return 0;
	case OPT_FEED:
		if (parse_number(arg, &d) < 0 || !(d > 0.0))
			return usage_error(cli->cmd,
			                   "--feed '%s': expected millimetres per "
			                   "revolution above 0",
			                   arg);
		mo.feed = d;
		return 0;
	case OPT_VELOCITY:
		if (parse_number(arg, &d) < 0 || !(d > 0.0))
			return usage_error(cli->cmd, "--velocity '%s': expected a number above 0",
			                   arg);
		mo.velocity = d;
		return 0;
	case OPT_ACCELERATION:
	case OPT_DECELERATION:
		if (parse_number(arg, &d) < 0 || !(d > 0.0))
			return usage_error(cli->cmd, "--%s '%s': expected a number above 0",
			                   c == OPT_ACCELERATION ? "acceleration" : "deceleration",
			                   arg);
		*(c == OPT_ACCELERATION ? &mo.acceleration : &mo.deceleration) = d;
		return 0;
	case OPT_METHOD:
		if (!arg[0])
			return usage_error(cli->cmd, "--method '': expected a homing method number "
			                             "or label, e.g. 0 (current position)");
		mo.method = arg; /* checked against the drive's dictionary once it is open */
		return 0;
	case OPT_OFFSET:
		if (parse_number(arg, &d) < 0)
			return usage_error(cli->cmd, "--offset '%s': expected a number", arg);
		mo.offset = d;
		mo.have_offset = 1;
		return 0;
	default:
		return usage_error(cli->cmd, "unhandled option");
	}
}

/* ---- the drive and the axis -------------------------------------------- */

struct session {
	ax_ctx *ctx;
	ax_drive *drive;
	ax_axis *axis;
	ax_cancel *cancel; /* what an interrupt triggers (guard_on()), or NULL */
};

static void session_close(struct session *s)
{
	s->cancel = ax_cancel_unref(s->cancel);
	s->axis = ax_axis_unref(s->axis);
	s->drive = ax_drive_unref(s->drive);
	s->ctx = ax_ctx_unref(s->ctx);
}

/* Open the drive at the first positional argument and its axis --axis, in --units. */
static int session_open(struct cli *cli, struct session *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (mo.unit == AX_UNIT_MM && !(mo.feed > 0.0))
		return usage_error(cli->cmd, "--units mm needs --feed MM (millimetres per "
		                             "revolution)");
	rc = open_ctx(cli, &s->ctx);
	if (rc != 0)
		return rc;
	rc = open_drive(cli, s->ctx, cli->pos[0], &s->drive);
	if (rc != 0) {
		session_close(s);
		return rc;
	}
	if (ax_axis_open(&s->axis, s->drive, mo.axis, NULL) < 0 ||
	    ax_axis_set_units(s->axis, mo.unit, mo.feed) < 0) {
		rc = fail_last();
		session_close(s);
		return rc;
	}
	return 0;
}

/* "deg", "deg/s": the unit of a position or a velocity. */
static void unit_text(char *buf, size_t cap, int per_second)
{
	(void)snprintf(buf, cap, "%s%s", ax_unit_name(mo.unit), per_second ? "/s" : "");
}

/* ---- output ------------------------------------------------------------ */

/* {"axis": N} with @extra's members after it; takes @extra. */
static int print_axis_json(const struct session *s, json_t *extra)
{
	json_t *o = json_object();
	int rc;

	if (!o || !extra ||
	    json_object_set_new(o, "axis", json_integer(ax_axis_subnode(s->axis))) != 0 ||
	    json_object_update(o, extra) != 0) {
		json_decref(o);
		json_decref(extra);
		return fail_oom();
	}
	json_decref(extra);
	rc = print_json(o);
	json_decref(o);
	return rc;
}

/* The state reached, as "axis N: STATE (status word 0x....)" or JSON. */
static int print_state_only(const struct cli *cli, const struct session *s)
{
	uint16_t sw = 0;
	int state;

	if (ax_axis_state(s->axis, &state, &sw) < 0)
		return fail_last();
	if (cli->json)
		return print_axis_json(s,
		                       json_pack("{s:s, s:i}", "state", ax_cia402_state_name(state),
		                                 "statusword", (int)sw));
	printf("axis %u: %s (status word 0x%04X)\n", ax_axis_subnode(s->axis),
	       ax_cia402_state_name(state), (unsigned)sw);
	return EXIT_SUCCESS;
}

/* In fault (or on the way there): the drive's code and the dictionary's text in *out. */
static int axis_fault_of(const struct session *s, int state, ax_dict_error_entry *out)
{
	if (state != AX_CIA402_FAULT && state != AX_CIA402_FAULT_REACTION_ACTIVE)
		return 0;
	if (ax_drive_fault(s->drive, (int)ax_axis_subnode(s->axis), out) < 0 || !out->code) {
		ax_error_clear(); /* a drive without DRV_DIAG_ERROR_LAST still has a state */
		return 0;
	}
	return 1;
}

/* A fault as JSON: {code, text}, or null. */
static json_t *fault_json(int have, const ax_dict_error_entry *e)
{
	return have ? json_pack("{s:o, s:o}", "code", hex32(e->code), "text", json_text(e->text))
	            : json_null();
}

/* "  fault     0x00003220 DC bus under-voltage" */
static void fault_line(const char *label, const ax_dict_error_entry *e)
{
	printf("  %-9s 0x%08X ", label, (unsigned)e->code);
	(void)put_safe(stdout, *e->text ? e->text : "(no text in the dictionary)");
	putchar('\n');
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- interrupting a motion --------------------------------------------- */

/* What SIGINT and SIGTERM trigger while a motion command runs (set before the handlers). */
static ax_cancel *interrupt_cancel;
static volatile sig_atomic_t interrupt_signal; /* the first signal, 0 = none */

static void motion_on_signal(int sig)
{
	static const char again[] = "\naxlink: interrupted again: exiting at once; the axis "
	                            "may still be moving\n";

	if (interrupt_signal) {
		ssize_t n = write(STDERR_FILENO, again, sizeof(again) - 1);

		(void)n;
		_exit(128 + sig);
	}
	interrupt_signal = sig;
	ax_cancel_trigger(interrupt_cancel); /* one atomic store: async-signal-safe */
}

struct guard {
	struct sigaction old_int, old_term;
	int on;
};

/* From here until guard_off(), a signal stops the axis's waits instead of the process. */
static int guard_on(struct session *s, struct guard *g)
{
	struct sigaction sa;

	memset(g, 0, sizeof(*g));
	if (ax_cancel_new(&s->cancel) < 0)
		return fail_last();
	ax_axis_set_cancel(s->axis, s->cancel);
	interrupt_cancel = s->cancel;
	interrupt_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = motion_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, &g->old_int);
	(void)sigaction(SIGTERM, &sa, &g->old_term);
	g->on = 1;
	return 0;
}

static void guard_off(struct guard *g)
{
	if (!g->on)
		return;
	(void)sigaction(SIGINT, &g->old_int, NULL);
	(void)sigaction(SIGTERM, &g->old_term, NULL);
	g->on = 0;
	interrupt_cancel = NULL;
}

/* Quick stop active (or off) and standing still: status bit 10, within @timeout_ms. */
static int wait_quick_stopped(ax_axis *axis, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	struct timespec slice = {0, 2000000L};
	uint16_t sw = 0;
	int state;

	for (;;) {
		if (ax_axis_state(axis, &state, &sw) < 0)
			return -1;
		if (state != AX_CIA402_OPERATION_ENABLED && state != AX_CIA402_QUICK_STOP_ACTIVE)
			return 0; /* off, or faulted: nothing drives it any more */
		if (state == AX_CIA402_QUICK_STOP_ACTIVE && (sw & 0x0400u))
			return 0;
		if (mono_ms() >= deadline) {
			fprintf(stderr,
			        "axlink: quick stop: axis %u not at a standstill within %d "
			        "ms (%s, status word 0x%04X)\n",
			        ax_axis_subnode(axis), timeout_ms, ax_cia402_state_name(state),
			        (unsigned)sw);
			return -2;
		}
		(void)nanosleep(&slice, NULL);
	}
}

/*
 * Where the axis stands after a stop: "axis N: halted at P U (C counts),
 * velocity V U/s, STATE", or JSON {axis, stopped, state, statusword,
 * position, velocity, units} (with "interrupted": true after a signal).
 */
static int print_stopped(const struct cli *cli, const struct session *s, const char *how,
                         int interrupted)
{
	char unit[16], vunit[16];
	double pos = 0.0, vel = 0.0, counts = 0.0;
	uint16_t sw = 0;
	int state;

	if (ax_axis_state(s->axis, &state, &sw) < 0 || ax_axis_position(s->axis, &pos) < 0 ||
	    ax_axis_velocity(s->axis, &vel) < 0 || ax_axis_to_counts(s->axis, pos, &counts) < 0)
		return fail_last();
	unit_text(unit, sizeof(unit), 0);
	unit_text(vunit, sizeof(vunit), 1);
	if (cli->json) {
		json_t *o = json_pack("{s:s, s:s, s:i, s:f, s:f, s:s}", "stopped", how, "state",
		                      ax_cia402_state_name(state), "statusword", (int)sw,
		                      "position", pos, "velocity", vel, "units", unit);

		if (o && interrupted && json_object_set_new(o, "interrupted", json_true()) != 0) {
			json_decref(o);
			return fail_oom();
		}
		return print_axis_json(s, o);
	}
	printf("axis %u: %s at %.6g %s (%.0f counts), velocity %.6g %s, %s%s\n",
	       ax_axis_subnode(s->axis), how, pos, unit, counts, vel, vunit,
	       ax_cia402_state_name(state), interrupted ? " (interrupted)" : "");
	return EXIT_SUCCESS;
}

/*
 * After a signal: halt the axis (quick stop when the halt fails), say where
 * it stopped, and return the exit status 128 + signal.
 */
static int stop_interrupted(const struct cli *cli, struct guard *g, const struct session *s)
{
	const char *how = "halted";
	int sig = interrupt_signal;

	fprintf(stderr, "\naxlink: interrupted (%s): stopping axis %u\n",
	        sig == SIGTERM ? "SIGTERM" : "SIGINT", ax_axis_subnode(s->axis));
	if (ax_axis_halt(s->axis, 0) < 0) {
		fail_last();
		fprintf(stderr, "axlink: the halt failed: quick stop instead\n");
		how = "quick-stopped";
		if (ax_axis_quick_stop(s->axis, 0) < 0) {
			fail_last();
			how = NULL;
		} else if (wait_quick_stopped(s->axis, 10000) == -1) {
			fail_last();
		}
	}
	if (how)
		(void)finish_stdout(print_stopped(cli, s, how, 1));
	else
		fprintf(stderr, "axlink: axis %u could not be stopped: it may still move\n",
		        ax_axis_subnode(s->axis));
	guard_off(g);
	return 128 + sig;
}

/* ---- enable, disable, reset -------------------------------------------- */

static int run_transition(struct cli *cli, int (*op)(ax_axis *, int))
{
	ax_dict_error_entry fault;
	struct session s;
	uint16_t sw = 0;
	int rc = session_open(cli, &s), state, faulted = 0;

	if (rc != 0)
		return rc;
	/* Enable and reset leave a fault: say which one they reset. */
	if (op != ax_axis_disable && ax_axis_state(s.axis, &state, &sw) == 0)
		faulted = axis_fault_of(&s, state, &fault);
	else
		ax_error_clear();
	if (op(s.axis, 0) < 0) {
		rc = fail_last();
	} else if (cli->json && faulted) {
		if (ax_axis_state(s.axis, &state, &sw) < 0)
			rc = fail_last();
		else
			rc = finish_stdout(print_axis_json(
			        &s, json_pack("{s:s, s:i, s:o}", "state",
			                      ax_cia402_state_name(state), "statusword", (int)sw,
			                      "reset_fault", fault_json(1, &fault))));
	} else {
		if (faulted && !cli->json)
			fault_line("reset", &fault);
		rc = finish_stdout(print_state_only(cli, &s));
	}
	session_close(&s);
	return rc;
}

static int cmd_enable(struct cli *cli)
{
	return run_transition(cli, ax_axis_enable);
}

static int cmd_disable(struct cli *cli)
{
	return run_transition(cli, ax_axis_disable);
}

static int cmd_reset(struct cli *cli)
{
	return run_transition(cli, ax_axis_fault_reset);
}

/* ---- mode -------------------------------------------------------------- */

/*
 * A mode name, a label of the drive's dictionary ("Profile velocity"), or
 * the drive's own code (0x14, 20): what ax_axis_mode_parse() takes.
 */
static int mode_arg(struct cli *cli, const struct session *s, const char *text, int *out)
{
	int mode = ax_axis_mode_parse(s->axis, text);

	if (mode < 0)
		return usage_error(cli->cmd, "MODE '%s': %s", text, ax_error_last());
	*out = mode;
	return 0;
}

/* The limits a command may give: option, role, value asked for, the register's before. */
struct limit_note {
	const char *option;
	int role;
	double asked;
	double before;
	int have;
};

/* Before a --no-wait command: what the registers of the limits it gives hold now. */
static void limits_before(const struct session *s, struct limit_note *n, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const ax_reg *reg = ax_axis_role_register(s->axis, n[i].role);

		n[i].have = n[i].asked > 0.0 && reg &&
		            ax_drive_read_f64(s->drive, ax_reg_id(reg), (int)ax_reg_subnode(reg),
		                              &n[i].before) == 0;
		ax_error_clear();
	}
}

/*
 * After a --no-wait command: a limit given for it stays in the drive (the
 * motion needs it, and nothing is left to put it back): say so, and what
 * the register held, so that nothing changes unseen.
 */
static void limits_left(const struct session *s, const struct limit_note *n, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const ax_reg *reg = ax_axis_role_register(s->axis, n[i].role);
		const char *units;

		if (!n[i].have || !reg)
			continue;
		units = ax_reg_units(reg);
		fprintf(stderr,
		        "axlink: note: with --no-wait, --%s stays in the drive after this "
		        "command: %s was %.6g %s; 'axlink write URI %s %.6g' puts it back\n",
		        n[i].option, ax_reg_id(reg), n[i].before, units ? units : "",
		        ax_reg_id(reg), n[i].before);
	}
}

static int cmd_mode(struct cli *cli)
{
	struct session s;
	uint32_t code = 0;
	int rc = session_open(cli, &s), mode = 0;

	if (rc != 0)
		return rc;
	rc = mode_arg(cli, &s, cli->pos[1], &mode);
	if (rc == 0 &&
	    (ax_axis_set_mode(s.axis, mode, 0) < 0 || ax_axis_get_mode(s.axis, &mode, &code) < 0))
		rc = fail_last();
	if (rc == 0 && cli->json)
		rc = print_axis_json(&s, json_pack("{s:s, s:i}", "mode",
		                                   mode >= 0 ? ax_op_mode_name(mode) : "unknown",
		                                   "code", (json_int_t)code));
	else if (rc == 0)
		printf("axis %u: %s (0x%X)\n", ax_axis_subnode(s.axis),
		       mode >= 0 ? ax_op_mode_name(mode) : "unknown", (unsigned)code);
	session_close(&s);
	return finish_stdout(rc);
}

/* ---- move -------------------------------------------------------------- */

struct progress {
	int64_t last_ms;
	double target;
	int shown;
};

/* Called while the move runs: a line on stderr, ten times a second. */
static int move_progress(ax_axis *axis, uint16_t statusword, void *userdata)
{
	struct progress *p = userdata;
	int64_t now = mono_ms();
	char unit[16];
	double pos = 0.0;

	(void)statusword;
	if (now - p->last_ms < 100)
		return 0;
	p->last_ms = now;
	if (ax_axis_position(axis, &pos) < 0) {
		ax_error_clear(); /* only the display misses a beat */
		return 0;
	}
	unit_text(unit, sizeof(unit), 0);
	fprintf(stderr, "\raxis %u: %.6g %s, target %.6g %s   ", ax_axis_subnode(axis), pos, unit,
	        p->target, unit);
	fflush(stderr);
	p->shown = 1;
	return 0;
}

/* The target a relative move aims at, for the display: the drive's previous target + @dist. */
static double display_target(const struct session *s, double value)
{
	double pos = 0.0;

	if (!mo.relative || ax_axis_position(s->axis, &pos) < 0) {
		ax_error_clear();
		return value;
	}
	return pos + value;
}

static int print_position(const struct cli *cli, const struct session *s, double target,
                          int reached)
{
	char unit[16];
	double pos = 0.0, counts = 0.0;

	if (ax_axis_position(s->axis, &pos) < 0 || ax_axis_to_counts(s->axis, pos, &counts) < 0)
		return fail_last();
	unit_text(unit, sizeof(unit), 0);
	if (cli->json)
		return print_axis_json(s, json_pack("{s:f, s:f, s:s, s:b}", "target", target,
		                                    "position", pos, "units", unit, "reached",
		                                    reached));
	printf("axis %u: at %.6g %s (%.0f counts), %s\n", ax_axis_subnode(s->axis), pos, unit,
	       counts, reached ? "target reached" : "moving");
	return EXIT_SUCCESS;
}

static int cmd_move(struct cli *cli)
{
	struct limit_note notes[] = {
	        {"velocity", AX_ROLE_PROFILE_VELOCITY, mo.velocity, 0.0, 0},
	        {"acceleration", AX_ROLE_PROFILE_ACCELERATION, mo.acceleration, 0.0, 0},
	        {"deceleration", AX_ROLE_PROFILE_DECELERATION, mo.deceleration, 0.0, 0},
	};
	ax_move_options opts = AX_MOVE_OPTIONS_INIT;
	struct progress p = {0, 0.0, 0};
	struct session s;
	struct guard g;
	double position = 0.0;
	int rc, err;

	if (parse_number(cli->pos[1], &position) < 0)
		return usage_error(cli->cmd, "POSITION '%s': expected a number", cli->pos[1]);
	rc = session_open(cli, &s);
	if (rc != 0)
		return rc;
	if (mo.no_wait)
		limits_before(&s, notes, 3);
	opts.velocity = mo.velocity;
	opts.acceleration = mo.acceleration;
	opts.deceleration = mo.deceleration;
	opts.flags = AX_MOVE_NO_WAIT | (mo.relative ? AX_MOVE_RELATIVE : 0);
	p.target = display_target(&s, position);
	rc = guard_on(&s, &g);
	if (rc != 0) {
		session_close(&s);
		return rc;
	}
	err = ax_axis_move(s.axis, position, &opts);
	if (err == 0 && !mo.no_wait) {
		/* Progress is for a person watching, never for a pipe or a log. */
		int show = isatty(STDERR_FILENO) && !cli->verbose;

		p.last_ms = mono_ms();
		err = ax_axis_wait_target_reached(s.axis, 0, show ? move_progress : NULL, &p);
		if (p.shown)
			fputc('\n', stderr);
	}
	if (interrupt_signal)
		rc = stop_interrupted(cli, &g, &s);
	else if (err < 0)
		rc = fail_last();
	else
		rc = print_position(cli, &s, p.target, !mo.no_wait);
	if (!interrupt_signal && err == 0 && mo.no_wait)
		limits_left(&s, notes, 3);
	guard_off(&g);
	session_close(&s);
	return finish_stdout(rc);
}

/* ---- velocity ---------------------------------------------------------- */

static int cmd_velocity(struct cli *cli)
{
	struct limit_note notes[] = {
	        {"acceleration", AX_ROLE_PROFILE_ACCELERATION, mo.acceleration, 0.0, 0},
	        {"deceleration", AX_ROLE_PROFILE_DECELERATION, mo.deceleration, 0.0, 0},
	};
	ax_move_options opts = AX_MOVE_OPTIONS_INIT;
	struct session s;
	struct guard g;
	double v = 0.0, now = 0.0;
	char unit[16];
	int rc, err;

	if (parse_number(cli->pos[1], &v) < 0)
		return usage_error(cli->cmd, "V '%s': expected a number", cli->pos[1]);
	rc = session_open(cli, &s);
	if (rc != 0)
		return rc;
	if (mo.no_wait)
		limits_before(&s, notes, 2);
	opts.flags = mo.no_wait ? AX_MOVE_NO_WAIT : 0;
	opts.acceleration = mo.acceleration;
	opts.deceleration = mo.deceleration;
	rc = guard_on(&s, &g);
	if (rc != 0) {
		session_close(&s);
		return rc;
	}
	err = ax_axis_move_velocity(s.axis, v, &opts);
	if (interrupt_signal) {
		rc = stop_interrupted(cli, &g, &s);
	} else if (err < 0 || ax_axis_velocity(s.axis, &now) < 0) {
		rc = fail_last();
	} else if (cli->json) {
		unit_text(unit, sizeof(unit), 1);
		rc = print_axis_json(&s,
		                     json_pack("{s:f, s:f, s:s, s:b}", "set_point", v, "velocity",
		                               now, "units", unit, "reached", !mo.no_wait));
	} else {
		unit_text(unit, sizeof(unit), 1);
		printf("axis %u: velocity %.6g %s (set point %.6g %s)%s\n", ax_axis_subnode(s.axis),
		       now, unit, v, unit, mo.no_wait ? "" : ", reached");
	}
	if (!interrupt_signal && err == 0 && mo.no_wait)
		limits_left(&s, notes, 2);
	guard_off(&g);
	session_close(&s);
	return finish_stdout(rc);
}

/* ---- home -------------------------------------------------------------- */

static int cmd_home(struct cli *cli)
{
	ax_home_options opts = AX_HOME_OPTIONS_INIT;
	struct session s;
	struct guard g;
	double pos = 0.0;
	char unit[16];
	int err, rc = session_open(cli, &s);

	if (rc != 0)
		return rc;
	if (mo.method) {
		unsigned long number;

		/* A number goes to the drive's check in ax_axis_home(); a label is looked up. */
		opts.method = parse_uint(mo.method, 0x7FFF, &number) == 0
		                      ? (int)number
		                      : ax_axis_home_method_parse(s.axis, mo.method);
		if (opts.method < 0) {
			rc = usage_error(cli->cmd, "--method: %s", ax_error_last());
			session_close(&s);
			return rc;
		}
	}
	if (mo.have_offset) {
		opts.flags |= AX_HOME_SET_OFFSET;
		opts.offset = mo.offset;
	}
	unit_text(unit, sizeof(unit), 0);
	rc = guard_on(&s, &g);
	if (rc != 0) {
		session_close(&s);
		return rc;
	}
	err = ax_axis_home(s.axis, &opts);
	if (interrupt_signal)
		rc = stop_interrupted(cli, &g, &s);
	else if (err < 0 || ax_axis_position(s.axis, &pos) < 0)
		rc = fail_last();
	else if (cli->json)
		rc = print_axis_json(&s,
		                     opts.method == AX_HOME_METHOD_DRIVE
		                             ? json_pack("{s:n, s:f, s:s}", "method", "position",
		                                         pos, "units", unit)
		                             : json_pack("{s:i, s:f, s:s}", "method", opts.method,
		                                         "position", pos, "units", unit));
	else
		printf("axis %u: homed, at %.6g %s\n", ax_axis_subnode(s.axis), pos, unit);
	guard_off(&g);
	session_close(&s);
	return finish_stdout(rc);
}

/* ---- stop, quick-stop --------------------------------------------------- */

static int cmd_stop(struct cli *cli)
{
	struct session s;
	int rc = session_open(cli, &s);

	if (rc != 0)
		return rc;
	if (ax_axis_halt(s.axis, 0) < 0)
		rc = fail_last();
	else
		rc = print_stopped(cli, &s, "halted", 0);
	session_close(&s);
	return finish_stdout(rc);
}

static int cmd_quick_stop(struct cli *cli)
{
	struct session s;
	int rc = session_open(cli, &s), w;

	if (rc != 0)
		return rc;
	if (ax_axis_quick_stop(s.axis, 0) < 0) {
		rc = fail_last();
	} else {
		w = wait_quick_stopped(s.axis, 10000);
		if (w == -1)
			rc = fail_last();
		else if (w < 0)
			rc = EXIT_FAILURE;
		else
			rc = print_stopped(cli, &s, "quick-stopped", 0);
	}
	session_close(&s);
	return finish_stdout(rc);
}

/* ---- state ------------------------------------------------------------- */

static int cmd_state(struct cli *cli)
{
	struct session s;
	double pos = 0.0, vel = 0.0;
	char unit[16], vunit[16];
	uint16_t sw = 0;
	uint32_t code = 0;
	ax_dict_error_entry fault;
	int rc = session_open(cli, &s), state, mode = AX_OP_MODE_UNKNOWN, faulted;

	if (rc != 0)
		return rc;
	unit_text(unit, sizeof(unit), 0);
	unit_text(vunit, sizeof(vunit), 1);
	if (ax_axis_state(s.axis, &state, &sw) < 0 || ax_axis_position(s.axis, &pos) < 0 ||
	    ax_axis_velocity(s.axis, &vel) < 0) {
		rc = fail_last();
	} else if (cli->json) {
		if (ax_axis_get_mode(s.axis, &mode, &code) < 0)
			ax_error_clear(); /* a drive without a mode display still has a state */
		faulted = axis_fault_of(&s, state, &fault);
		rc = print_axis_json(
		        &s, json_pack("{s:s, s:i, s:o, s:f, s:f, s:o}", "state",
		                      ax_cia402_state_name(state), "statusword", (int)sw, "mode",
		                      mode >= 0 ? json_string(ax_op_mode_name(mode)) : json_null(),
		                      "position", pos, "velocity", vel, "fault",
		                      fault_json(faulted, &fault)));
	} else {
		if (ax_axis_get_mode(s.axis, &mode, &code) < 0)
			ax_error_clear(); /* a drive without a mode display still has a state */
		printf("axis %u: %s (status word 0x%04X)\n"
		       "  mode      %s\n"
		       "  position  %.6g %s\n"
		       "  velocity  %.6g %s\n",
		       ax_axis_subnode(s.axis), ax_cia402_state_name(state), (unsigned)sw,
		       mode >= 0 ? ax_op_mode_name(mode) : "unknown", pos, unit, vel, vunit);
		if (axis_fault_of(&s, state, &fault))
			fault_line("fault", &fault);
	}
	session_close(&s);
	return finish_stdout(rc);
}

/* ---- the table ----------------------------------------------------------- */

#define AXIS_HELP                                                                                  \
	"  URI        the drive, e.g. virtual:, eth://192.168.2.22\n"                              \
	"  --axis N   the axis (subnode 1..), default 1\n"                                         \
	"  --dict FILE  the drive's dictionary from this XDF file, not the databases\n"

#define UNITS_HELP                                                                                 \
	"  --units U  counts (default), rev, deg, rad, or mm with --feed MM (millimetres\n"        \
	"             per revolution); from the drive's encoder resolution\n"

#define LIMITS_HELP                                                                                \
	"  --acceleration A, --deceleration D  profile ramps in units/s^2 (default:\n"             \
	"             the drive's); like --velocity, for this command only: the drive's\n"         \
	"             registers get their values back when it ends\n"

#define INTERRUPT_HELP                                                                             \
	"Ctrl-C (or SIGTERM) halts the axis on its profile deceleration (quick stop if\n"          \
	"the halt fails), prints where it stopped and exits 130 (143); a second one\n"             \
	"exits at once.\n"

#define STOP_JSON "JSON: {axis, stopped, state, statusword, position, velocity, units}.\n"

static const struct command motion_commands[] = {
        {
                .name = "enable",
                .synopsis = "URI [--axis N] [--json]",
                .summary = "bring an axis to operation enabled",
                .help = "Bring the axis to 'operation enabled' from whatever state it is in:\n"
                        "a fault is reset first, then shutdown, switch on and enable\n"
                        "operation, each confirmed by the status word. On failure the message\n"
                        "names the transition that did not happen, the state and the status\n"
                        "word (and the drive's error code when it faulted). From a fault it\n"
                        "first prints the fault it reset (code and the dictionary's "
                        "text).\n" AXIS_HELP
                        "JSON: {axis, state, statusword, reset_fault: {code, text} (only\n"
                        "after a fault)}.\n"
                        "Example: axlink enable eth://127.0.0.2\n",
                .arg_names = {"URI", NULL},
                .opts = axis_options,
                .run = cmd_enable,
                .option = motion_option,
        },
        {
                .name = "disable",
                .synopsis = "URI [--axis N] [--json]",
                .summary = "take an axis's power stage off",
                .help = "Shutdown (to 'ready_to_switch_on') from switched on or operation\n"
                        "enabled; disable voltage from quick stop active; nothing to do from\n"
                        "the other states.\n" AXIS_HELP "JSON: {axis, state, statusword}.\n",
                .arg_names = {"URI", NULL},
                .opts = axis_options,
                .run = cmd_disable,
                .option = motion_option,
        },
        {
                .name = "reset",
                .synopsis = "URI [--axis N] [--json]",
                .summary = "reset an axis's fault",
                .help = "Leave the fault state (a rising edge of control word bit 7), after\n"
                        "waiting out 'fault_reaction_active'. Nothing to do without a "
                        "fault. Prints the fault it reset (code and the dictionary's "
                        "text).\n" AXIS_HELP
                        "JSON: {axis, state, statusword, reset_fault: {code, text} (only\n"
                        "after a fault)}.\n",
                .arg_names = {"URI", NULL},
                .opts = axis_options,
                .run = cmd_reset,
                .option = motion_option,
        },
        {
                .name = "mode",
                .synopsis = "URI MODE [--axis N] [--json]",
                .summary = "set an axis's operation mode",
                .help = "Set the operation mode and wait until the drive's mode display shows\n"
                        "it. A mode the drive's dictionary does not list is refused.\n"
                        "  MODE       voltage, current, velocity, profile_velocity (pv),\n"
                        "             position, profile_position (pp), cyclic_position (csp),\n"
                        "             homing (hm), torque (pt), cyclic_velocity (csv),\n"
                        "             cyclic_torque (cst); a label of the drive's dictionary\n"
                        "             (see 'axlink read URI DRV_OP_CMD'); or the drive's own\n"
                        "             code, e.g. 0x14 (20) on MCB drives, 1 on CiA 402 ones:\n"
                        "             an integer is always the drive's code\n" AXIS_HELP
                        "JSON: {axis, mode, code}.\n"
                        "Example: axlink mode virtual: profile_velocity\n",
                .arg_names = {"URI", "MODE", NULL},
                .opts = axis_options,
                .run = cmd_mode,
                .option = motion_option,
        },
        {
                .name = "move",
                .synopsis = "URI POSITION [--relative] [--velocity V] [--units U] [--no-wait]",
                .summary = "profile position move, until target reached",
                .help = "Move the axis (it must be enabled) to POSITION in profile position\n"
                        "mode and wait until the drive reports target reached; on a terminal\n"
                        "the position shows on stderr meanwhile.\n"
                        "  POSITION   where to, in --units (counts by default)\n"
                        "  --relative POSITION is a distance from the previous target\n"
                        "  --velocity V  profile velocity in units/s (default: the "
                        "drive's)\n" LIMITS_HELP
                        "  --no-wait  return once the drive took the set point; the limits\n"
                        "             given stay in the drive then (a note on stderr says "
                        "so)\n" UNITS_HELP AXIS_HELP INTERRUPT_HELP
                        "JSON: {axis, target, position, units, reached}.\n"
                        "Example: axlink move eth://127.0.0.2 90 --units deg\n",
                .arg_names = {"URI", "POSITION", NULL},
                .opts = move_options,
                .run = cmd_move,
                .option = motion_option,
        },
        {
                .name = "velocity",
                .synopsis = "URI V [--units U] [--no-wait] [--axis N] [--json]",
                .summary = "profile velocity, until the velocity is reached",
                .help = "Run the axis (it must be enabled) at V units/s in profile velocity\n"
                        "mode and wait until the drive reports the velocity reached and runs\n"
                        "at V (within 2 %). 0 stops. A V beyond the drive's limit\n"
                        "(PROF_MAX_VEL) is refused, naming it.\n" LIMITS_HELP
                        "  --no-wait  return once the set point is written; the ramps given\n"
                        "             stay in the drive then (a note on stderr says "
                        "so)\n" UNITS_HELP AXIS_HELP INTERRUPT_HELP
                        "JSON: {axis, set_point, velocity, units, reached}.\n",
                .arg_names = {"URI", "V", NULL},
                .opts = velocity_options,
                .run = cmd_velocity,
                .option = motion_option,
        },
        {
                .name = "home",
                .synopsis = "URI [--method M] [--offset P] [--units U] [--axis N] [--json]",
                .summary = "home an axis",
                .help = "Home the axis (it must be enabled) and wait until the drive reports\n"
                        "homing attained. Methods are the drive's (its dictionary lists them,\n"
                        "see 'axlink read URI HOM_MODE'); 0 takes the present position.\n"
                        "  --method M  homing method, its number or its HOM_MODE label\n"
                        "             (default: the drive's present one)\n"
                        "  --offset P  the position home gets, in --units\n" UNITS_HELP AXIS_HELP
                                INTERRUPT_HELP "JSON: {axis, method, position, units}.\n"
                        "Example: axlink home virtual: --method 0 --offset 100\n",
                .arg_names = {"URI", NULL},
                .opts = home_options,
                .run = cmd_home,
                .option = motion_option,
        },
        {
                .name = "stop",
                .synopsis = "URI [--axis N] [--units U] [--json]",
                .summary = "halt an axis: decelerate and hold, still enabled",
                .help = "Halt the axis (control word bit 8): it decelerates on its profile\n"
                        "deceleration (PROF_MAX_DEC) and holds the position in operation\n"
                        "enabled; waits for standstill and prints where it stopped. The next\n"
                        "move, velocity or home releases the halt; a stopped move does not\n"
                        "resume. Nothing to do when the axis is not enabled.\n" UNITS_HELP AXIS_HELP
                                STOP_JSON "Example: axlink stop eth://127.0.0.2\n",
                .arg_names = {"URI", NULL},
                .opts = state_options,
                .run = cmd_stop,
                .option = motion_option,
        },
        {
                .name = "quick-stop",
                .synopsis = "URI [--axis N] [--units U] [--json]",
                .summary = "quick stop an axis: brake on the quick stop ramp",
                .help = "Quick stop (CiA 402): the axis brakes on its quick stop deceleration\n"
                        "(PROF_QUICK_STOP_DEC) into 'quick_stop_active'; waits for standstill\n"
                        "and prints where it stopped. 'axlink enable' brings it back.\n" UNITS_HELP
                                AXIS_HELP STOP_JSON,
                .arg_names = {"URI", NULL},
                .opts = state_options,
                .run = cmd_quick_stop,
                .option = motion_option,
        },
        {
                .name = "state",
                .synopsis = "URI [--units U] [--axis N] [--json]",
                .summary = "an axis's state, position and velocity",
                .help = "Print the axis's CiA 402 state, status word, operation mode, position\n"
                        "and velocity; in fault, the drive's fault code (DRV_DIAG_ERROR_LAST)\n"
                        "and the dictionary's text for it.\n" UNITS_HELP AXIS_HELP
                        "JSON: {axis, state, statusword, mode, position, velocity, fault:\n"
                        "{code, text} or null}; position in --units (counts by default),\n"
                        "velocity in units/s.\n",
                .arg_names = {"URI", NULL},
                .opts = state_options,
                .run = cmd_state,
                .option = motion_option,
        },
};

const struct cli_group cli_motion_group = {
        motion_commands,
        sizeof(motion_commands) / sizeof(motion_commands[0]),
};
