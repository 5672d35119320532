/* SPDX-License-Identifier: MIT */
/*
 * move_axis URI [DEGREES]: the C quick start. Open a drive by its URI (its
 * identity finds its dictionary in the device databases), read registers by
 * name with the units the dictionary gives them, enable axis 1 through the
 * CiA 402 state machine, move it by DEGREES (default 90) and print where it
 * stopped.
 *
 *   axlink-sim --eth 127.0.0.2 &
 *   ./move_axis eth://127.0.0.2 90
 *
 * Build against an installed axlink: see CMakeLists.txt (find_package) or
 *   cc -std=c11 move_axis.c $(pkg-config --cflags --libs axlink) -o move_axis
 */
#include <stdio.h>
#include <stdlib.h>

#include <axlink/axlink.h>

/* Print the failing call with the library's message; returns 1 for main(). */
static int fail(const char *what, int err)
{
	fprintf(stderr, "move_axis: %s: %s (%s)\n", what, ax_error_last(), ax_error_name(err));
	return 1;
}

/* Read register @id of @subnode by name and print it with its units. */
static int print_register(ax_drive *drive, const char *id, int subnode)
{
	const ax_reg *reg;
	double value;
	int err;

	err = ax_drive_find(drive, id, subnode, &reg);
	if (err < 0)
		return fail(id, err);
	err = ax_drive_read_f64(drive, id, subnode, &value);
	if (err < 0)
		return fail(id, err);
	printf("%-28s %g %s\n", id, value, ax_reg_units(reg) ? ax_reg_units(reg) : "");
	return 0;
}

int main(int argc, char **argv)
{
	ax_ctx *ctx = NULL;
	ax_drive *drive = NULL;
	ax_axis *axis = NULL;
	ax_move_options move = AX_MOVE_OPTIONS_INIT;
	double degrees = 90.0, position;
	char *end;
	int err, rc = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: move_axis URI [DEGREES]\n");
		return 2;
	}
	if (argc > 2) {
		degrees = strtod(argv[2], &end);
		if (end == argv[2] || *end) {
			fprintf(stderr, "move_axis: DEGREES '%s' is not a number\n", argv[2]);
			return 2;
		}
	}
	printf("libaxlink %s\n", ax_version());

	err = ax_ctx_new(&ctx, NULL);
	if (err < 0)
		return fail("ax_ctx_new", err);
	err = ax_drive_open(&drive, ctx, argv[1], NULL);
	if (err < 0) {
		rc = fail(argv[1], err);
		goto out;
	}
	printf("%s: serial %u, dictionary: %s\n", ax_drive_uri(drive),
	       (unsigned)ax_drive_identity(drive)->serial, ax_drive_match_reason(drive));

	/* By name, with units: the dictionary knows where each register is and what it holds. */
	if (print_register(drive, "DRV_PROT_VBUS_VALUE", 1) ||
	    print_register(drive, "CL_POS_FBK_VALUE", 1))
		goto out;

	err = ax_axis_open(&axis, drive, 1, NULL);
	if (err == 0)
		err = ax_axis_set_units(axis, AX_UNIT_DEG, 0.0);
	if (err < 0) {
		rc = fail("axis 1", err);
		goto out;
	}
	err = ax_axis_enable(axis, 0);
	if (err < 0) {
		rc = fail("enable", err);
		goto out;
	}
	move.flags = AX_MOVE_RELATIVE;
	err = ax_axis_move(axis, degrees, &move);
	if (err == 0)
		err = ax_axis_position(axis, &position);
	if (err < 0) {
		rc = fail("move", err);
		goto out;
	}
	printf("moved by %g deg: at %.2f deg\n", degrees, position);
	if (print_register(drive, "CL_POS_FBK_VALUE", 1))
		goto out;
	err = ax_axis_disable(axis, 0);
	if (err < 0) {
		rc = fail("disable", err);
		goto out;
	}
	rc = 0;
out:
	ax_axis_unref(axis);
	ax_drive_unref(drive);
	ax_ctx_unref(ctx);
	return rc;
}
