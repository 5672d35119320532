/* SPDX-License-Identifier: MIT */
/*
 * Units of an axis: counts (the drive's own), revolutions, degrees, radians
 * and millimetres through a feed constant. Positions, velocities and
 * accelerations all scale by the same factor, counts per unit, because the
 * time part of their units is the same on both sides.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_ARGUMENT /* errors set here; see src/error.h */

#include <math.h>
#include <string.h>
#include <strings.h>

#include "drive.h"
#include "motion.h"

#define TWO_PI 6.283185307179586476925286766559

static const struct {
	const char *name;
	const char *alias;
} unit_names[] = {
        [AX_UNIT_COUNTS] = {"counts", "cnt"}, [AX_UNIT_REV] = {"rev", "revolutions"},
        [AX_UNIT_DEG] = {"deg", "degrees"},   [AX_UNIT_RAD] = {"rad", "radians"},
        [AX_UNIT_MM] = {"mm", NULL},
};

const char *ax_unit_name(int unit)
{
	if (unit < 0 || (size_t)unit >= AX__ARRAY_SIZE(unit_names))
		return NULL;
	return unit_names[unit].name;
}

int ax_unit_parse(const char *text)
{
	AX_ASSERT_ARG(text);
	for (size_t i = 0; i < AX__ARRAY_SIZE(unit_names); i++)
		if (!strcasecmp(text, unit_names[i].name) ||
		    (unit_names[i].alias && !strcasecmp(text, unit_names[i].alias)))
			return (int)i;
	return ax__error_set(AX_EINVAL, "unknown unit '%s' (known: counts, rev, deg, rad, mm)",
	                     text);
}

int ax__axis_counts_per_unit(const ax_axis *axis, double *out)
{
	if (axis->unit == AX_UNIT_COUNTS) {
		*out = 1.0;
		return 0;
	}
	if (!(axis->res > 0.0))
		return ax__error_set(AX_EUNSUPPORTED,
		                     "axis %u of '%s': %s need the encoder resolution, which is "
		                     "unknown (no resolution register, or it reads 0)",
		                     axis->subnode, ax_drive_uri(axis->drive),
		                     ax_unit_name(axis->unit));
	switch (axis->unit) {
	case AX_UNIT_REV:
		*out = axis->res;
		break;
	case AX_UNIT_DEG:
		*out = axis->res / 360.0;
		break;
	case AX_UNIT_RAD:
		*out = axis->res / TWO_PI;
		break;
	default: /* AX_UNIT_MM; set_units checked the feed */
		*out = axis->res / axis->feed;
		break;
	}
	return 0;
}

int ax_axis_set_units(ax_axis *axis, int unit, double feed_mm_per_rev)
{
	AX_ASSERT_ARG(axis);
	if (!ax_unit_name(unit))
		return ax__error_set(AX_EINVAL, "unknown unit %d", unit);
	if (unit == AX_UNIT_MM && !(isfinite(feed_mm_per_rev) && feed_mm_per_rev > 0.0))
		return ax__error_set(AX_EINVAL,
		                     "mm need a feed constant in mm per revolution above 0, not %g",
		                     feed_mm_per_rev);
	if (unit != AX_UNIT_COUNTS && !(axis->res > 0.0))
		return ax__error_set(AX_EUNSUPPORTED,
		                     "axis %u of '%s': %s need the encoder resolution, which is "
		                     "unknown (no resolution register, or it reads 0)",
		                     axis->subnode, ax_drive_uri(axis->drive), ax_unit_name(unit));
	axis->unit = unit;
	axis->feed = unit == AX_UNIT_MM ? feed_mm_per_rev : 0.0;
	return 0;
}

int ax_axis_units(const ax_axis *axis)
{
	return axis ? axis->unit : AX_UNIT_COUNTS;
}

double ax_axis_resolution(const ax_axis *axis)
{
	return axis ? axis->res : 0.0;
}

int ax__axis_read_resolution(ax_axis *axis)
{
	const ax_reg *reg = axis->roles[AX_ROLE_RESOLUTION];
	double res = 0.0;
	int err;

	if (!reg) {
		axis->res = 0.0;
		return 0;
	}
	err = ax__drive_reg_read_f64(axis->drive, reg, &res);
	if (err < 0)
		return err;
	axis->res = isfinite(res) && res > 0.0 ? res : 0.0;
	return 0;
}

int ax_axis_set_resolution(ax_axis *axis, double counts_per_rev)
{
	AX_ASSERT_ARG(axis);
	if (counts_per_rev == 0.0) {
		if (!axis->roles[AX_ROLE_RESOLUTION])
			return ax__error_set(AX_EUNSUPPORTED,
			                     "axis %u of '%s': no resolution register to read",
			                     axis->subnode, ax_drive_uri(axis->drive));
		return ax__axis_read_resolution(axis);
	}
	if (!(isfinite(counts_per_rev) && counts_per_rev > 0.0))
		return ax__error_set(AX_EINVAL, "resolution %g: expected counts per revolution > 0",
		                     counts_per_rev);
	axis->res = counts_per_rev;
	return 0;
}

int ax_axis_to_counts(const ax_axis *axis, double value, double *out)
{
	double cpu = 0.0;
	int err;

	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(out);
	if (!isfinite(value))
		return ax__error_set(AX_EINVAL, "%g %s is not a finite number", value,
		                     ax_unit_name(axis->unit));
	err = ax__axis_counts_per_unit(axis, &cpu);
	if (err < 0)
		return err;
	*out = value * cpu;
	return 0;
}

int ax_axis_from_counts(const ax_axis *axis, double counts, double *out)
{
	double cpu = 0.0;
	int err;

	AX_ASSERT_ARG(axis);
	AX_ASSERT_ARG(out);
	if (!isfinite(counts))
		return ax__error_set(AX_EINVAL, "%g counts is not a finite number", counts);
	err = ax__axis_counts_per_unit(axis, &cpu);
	if (err < 0)
		return err;
	*out = counts / cpu;
	return 0;
}

/* Does @units start with @prefix, ignoring case, followed by nothing or '/'? */
static int units_are(const char *units, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncasecmp(units, prefix, n) && (units[n] == '\0' || units[n] == '/');
}

int ax__axis_rate_scale(const ax_axis *axis, const ax_reg *reg, double *out)
{
	const char *units = ax_reg_units(reg);
	double per_rev;

	if (units_are(units, "cnt") || units_are(units, "counts")) {
		*out = 1.0;
		return 0;
	}
	if (units_are(units, "rpm"))
		per_rev = 1.0 / 60.0;
	else if (units_are(units, "deg"))
		per_rev = 1.0 / 360.0;
	else if (units_are(units, "rad"))
		per_rev = 1.0 / TWO_PI;
	else if (units_are(units, "rev") || !units[0] || !strcasecmp(units, "none"))
		per_rev = 1.0; /* the MCB drives' rev/s, rev/s^2 (DESIGN §5) */
	else
		return ax__error_set(AX_EUNSUPPORTED,
		                     "register '%s' is in '%s', a unit axlink "
		                     "cannot convert to counts",
		                     ax_reg_id(reg), units);
	if (!(axis->res > 0.0))
		return ax__error_set(AX_EUNSUPPORTED,
		                     "axis %u of '%s': register '%s' is in %s, which needs the "
		                     "encoder resolution, and it is unknown",
		                     axis->subnode, ax_drive_uri(axis->drive), ax_reg_id(reg),
		                     units);
	*out = axis->res * per_rev;
	return 0;
}
