/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_DRIVE_H
#define AXLINK_SRC_DRIVE_H

#include <stdint.h>

#include "axlink/dict.h"
#include "axlink/drive.h"

/*
 * A numeric register the caller already holds (motion keeps its roles as
 * registers): the by-id calls of drive.h without the lookup, through the
 * value module's codec. Errors name the register.
 */
int ax__drive_reg_read_i64(ax_drive *drive, const ax_reg *reg, int64_t *out);
int ax__drive_reg_read_f64(ax_drive *drive, const ax_reg *reg, double *out);
int ax__drive_reg_write_i64(ax_drive *drive, const ax_reg *reg, int64_t value);
int ax__drive_reg_write_f64(ax_drive *drive, const ax_reg *reg, double value);

/*
 * Held across a table's select-then-access pair (src/table.c), so threads
 * sharing the drive cannot select each other's entries.
 */
void ax__drive_table_lock(ax_drive *drive);
void ax__drive_table_unlock(ax_drive *drive);

#endif
