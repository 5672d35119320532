/* SPDX-License-Identifier: MIT */
/*
 * Register tables of a drive and its error history.
 *
 * A table (the dictionary's Tables/Table) is a block of values reached
 * through two registers: the entry number written to the index register
 * selects an entry, the value register then reads or writes it. The error
 * list is such a table (DRV_DIAG_ERROR_LIST: DRV_DIAG_ERROR_LIST_IDX selects,
 * DRV_DIAG_ERROR_LIST_CODE shows the code, entry 0 the newest), counted by
 * DRV_DIAG_ERROR_TOTAL_COM; the codes get their texts from the dictionary's
 * Errors section.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <string.h>

#include "axlink/drive.h"
#include "drive.h"
#include "error.h"

#define TABLE_ERROR_LIST "DRV_DIAG_ERROR_LIST"
#define TABLE_ERROR_TOTAL "DRV_DIAG_ERROR_TOTAL_COM"
#define TABLE_ERROR_LAST "DRV_DIAG_ERROR_LAST"

/* Table @id for @axis: that axis's, else the one naming no axis; its position in @index_out. */
static int table_find(ax_drive *drive, const char *id, int axis, size_t *index_out)
{
	const ax_dict *dict = ax_drive_dict(drive);
	int err;

	if (!dict)
		return ax__error_set(AX_ENOTFOUND, "no dictionary for drive '%s': table '%s'",
		                     ax_drive_uri(drive), id);
	err = ax_dict_table_find(dict, id, axis, index_out);
	if (err == AX_ENOTFOUND && axis >= 0) {
		int file_axis;
		size_t i;

		/* A table naming no axis is the drive's: it serves every axis. */
		if (ax_dict_table_find(dict, id, -1, &i) == 0 &&
		    ax_dict_table_at(dict, i, NULL, &file_axis, NULL, NULL) == 0 && file_axis < 0) {
			ax_error_clear();
			*index_out = i;
			return 0;
		}
		err = ax_dict_table_find(dict, id, axis, index_out);
	}
	/* The drive lacks the table: not a fault of its dictionary. */
	return err == AX_ENOTFOUND ? ax__error_recode(AX_ERRCLASS_DRIVE, err) : err;
}

int ax_drive_table_size(ax_drive *drive, const char *id, int axis, int64_t *first_out,
                        uint64_t *count_out)
{
	size_t index;
	int err;

	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(id);
	err = table_find(drive, id, axis, &index);
	if (err < 0)
		return err;
	return ax_dict_table_entries(ax_drive_dict(drive), index, first_out, count_out);
}

/* Select @entry of table @id: its value register in @value_reg. */
static int table_select(ax_drive *drive, const char *id, int axis, int64_t entry,
                        const ax_reg **value_reg)
{
	const ax_dict *dict;
	const ax_reg *index_reg;
	uint64_t count;
	int64_t first;
	size_t index;
	int err;

	err = table_find(drive, id, axis, &index);
	if (err < 0)
		return err;
	dict = ax_drive_dict(drive);
	err = ax_dict_table_entries(dict, index, &first, &count);
	if (err < 0)
		return err;
	if (entry < first || (uint64_t)(entry - first) >= count)
		return ax__error_set(AX_ERANGE, "table '%s': entry %lld out of range %lld..%lld",
		                     id, (long long)entry, (long long)first,
		                     (long long)(first + (int64_t)count - 1));
	(void)ax_dict_table_at(dict, index, NULL, NULL, &index_reg, value_reg);
	err = ax__drive_reg_write_i64(drive, index_reg, entry);
	if (err < 0)
		ax__error_prefix("table '%s' entry %lld", id, (long long)entry);
	return err;
}

int ax_drive_table_read(ax_drive *drive, const char *id, int axis, int64_t entry,
                        int64_t *value_out)
{
	const ax_reg *value_reg;
	int err;

	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(id);
	AX_ASSERT_ARG(value_out);
	ax__drive_table_lock(drive);
	err = table_select(drive, id, axis, entry, &value_reg);
	if (err == 0) {
		err = ax__drive_reg_read_i64(drive, value_reg, value_out);
		if (err < 0)
			ax__error_prefix("table '%s' entry %lld", id, (long long)entry);
	}
	ax__drive_table_unlock(drive);
	return err;
}

int ax_drive_table_write(ax_drive *drive, const char *id, int axis, int64_t entry, int64_t value)
{
	const ax_reg *value_reg;
	int err;

	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(id);
	ax__drive_table_lock(drive);
	err = table_select(drive, id, axis, entry, &value_reg);
	if (err == 0) {
		err = ax__drive_reg_write_i64(drive, value_reg, value);
		if (err < 0)
			ax__error_prefix("table '%s' entry %lld", id, (long long)entry);
	}
	ax__drive_table_unlock(drive);
	return err;
}

/* The dictionary's entry for @code, or one with empty strings. */
static void error_describe(const ax_drive *drive, uint32_t code, ax_dict_error_entry *out)
{
	const ax_dict *dict = ax_drive_dict(drive);

	if (!dict || ax_dict_error_lookup(dict, code, out) < 0) {
		ax_error_clear();
		out->code = code;
		out->text = "";
		out->type = "";
		out->module = "";
	}
}

int ax_drive_errors(ax_drive *drive, int axis, ax_dict_error_entry *out, size_t cap,
                    size_t *count_out)
{
	const ax_reg *total_reg;
	int64_t first, total = -1;
	uint64_t count;
	size_t n = 0;
	int err;

	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(out || cap == 0);
	AX_ASSERT_ARG(count_out);
	err = ax_drive_table_size(drive, TABLE_ERROR_LIST, axis, &first, &count);
	if (err < 0)
		return err;
	/* The count bounds the list when the drive has one; else the first 0 ends it. */
	if (ax_drive_find(drive, TABLE_ERROR_TOTAL, -1, &total_reg) == 0) {
		err = ax__drive_reg_read_i64(drive, total_reg, &total);
		if (err < 0)
			return err;
	} else {
		ax_error_clear();
	}
	for (uint64_t i = 0; i < count && (total < 0 || (int64_t)i < total); i++) {
		int64_t code;

		err = ax_drive_table_read(drive, TABLE_ERROR_LIST, axis, first + (int64_t)i, &code);
		if (err < 0)
			return err;
		if (code == 0)
			break;
		if (n < cap)
			error_describe(drive, (uint32_t)code, &out[n]);
		n++;
	}
	*count_out = n;
	return 0;
}

int ax_drive_fault(ax_drive *drive, int axis, ax_dict_error_entry *out)
{
	int64_t code;
	int err;

	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(out);
	err = ax_drive_read_i64(drive, TABLE_ERROR_LAST, axis, &code);
	if (err < 0)
		return err;
	if (code == 0) {
		memset(out, 0, sizeof(*out));
		out->text = out->type = out->module = "";
		return 0;
	}
	error_describe(drive, (uint32_t)code, out);
	return 0;
}
