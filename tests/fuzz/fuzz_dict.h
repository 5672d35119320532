/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TESTS_FUZZ_DICT_H
#define AXLINK_TESTS_FUZZ_DICT_H

/*
 * The walk of a loaded dictionary that the targets producing dictionaries
 * share (fuzz_xdf: the importer, fuzz_dbimage: the database's image
 * reader): every register, enum, bitfield, category and error can be read
 * and found again by id and by address.
 */

#include <string.h>

#include "axlink/axlink.h"
#include "fuzz.h"

static void fuzz_walk_reg(const ax_dict *d, const ax_reg *r)
{
	const char *id = ax_reg_id(r), *lo = NULL, *hi = NULL, *label = NULL;
	const uint8_t *def = NULL;
	const ax_reg *found = NULL;
	size_t n;

	FUZZ_CHECK(id != NULL, "register without id");
	FUZZ_CHECK(ax_reg_units(r) && ax_reg_cyclic(r) && ax_reg_address_type(r) &&
	                   ax_reg_description(r) && ax_reg_category(r) && ax_reg_subcategory(r),
	           "NULL text property on '%s'", id);
	FUZZ_CHECK(ax_dtype_name(ax_reg_dtype(r)) != NULL, "'%s' has dtype %d", id,
	           ax_reg_dtype(r));
	FUZZ_CHECK((ax_reg_access(r) & ~AX_REG_RW) == 0 && ax_reg_access(r) != 0,
	           "'%s' has access %d", id, ax_reg_access(r));
	(void)ax_reg_label(r, "en_US");
	(void)ax_reg_label(r, NULL);

	FUZZ_CHECK(ax_dict_find(d, id, (int)ax_reg_subnode(r), &found) == 0,
	           "'%s' on subnode %u not found by id", id, ax_reg_subnode(r));
	FUZZ_CHECK(!strcmp(ax_reg_id(found), id) && ax_reg_subnode(found) == ax_reg_subnode(r),
	           "looking up '%s' gave '%s'", id, ax_reg_id(found));
	FUZZ_CHECK(ax_dict_find_address(d, ax_reg_subnode(r), ax_reg_address(r), &found) == 0,
	           "'%s' not found by address 0x%X", id, (unsigned)ax_reg_address(r));
	FUZZ_CHECK(ax_reg_address(found) == ax_reg_address(r), "address lookup mismatch");

	if (ax_reg_range(r, &lo, &hi))
		FUZZ_CHECK(lo != NULL && hi != NULL, "'%s' has a range with a NULL bound", id);
	n = ax_reg_default(r, &def);
	FUZZ_CHECK(n <= AX_VALUE_MAX && (n == 0 || def != NULL), "'%s' default of %zu bytes", id,
	           n);
	if (n && ax_dtype_size(ax_reg_dtype(r)))
		FUZZ_CHECK(n == ax_dtype_size(ax_reg_dtype(r)), "'%s' default of %zu bytes for %s",
		           id, n, ax_dtype_name(ax_reg_dtype(r)));

	n = ax_reg_enum_count(r);
	for (size_t i = 0; i < n; i++) {
		int64_t v = 0;

		FUZZ_CHECK(ax_reg_enum_at(r, i, &v, &label) == 0 && label, "enum %zu of '%s'", i,
		           id);
		FUZZ_CHECK(ax_reg_enum_label(r, v) != NULL, "enum value %lld of '%s' has no label",
		           (long long)v, id);
	}
	FUZZ_CHECK(ax_reg_enum_at(r, n, NULL, NULL) == AX_ENOTFOUND, "enum past the end");

	n = ax_reg_bitfield_count(r);
	for (size_t i = 0; i < n; i++) {
		const char *name = NULL;
		unsigned start = 0, end = 0;
		uint64_t got = 0, set = 0;

		FUZZ_CHECK(ax_reg_bitfield_at(r, i, &name, &start, &end) == 0 && name,
		           "bitfield %zu of '%s'", i, id);
		FUZZ_CHECK(start <= end && end < 64, "bitfield '%s' of '%s' bits %u..%u", name, id,
		           start, end);
		/* The first field of that name is the one lookups by name find. */
		FUZZ_CHECK(ax_reg_bitfield_get(r, name, UINT64_MAX, &got) == 0, "get '%s'", name);
		FUZZ_CHECK(ax_reg_bitfield_set(r, name, 0, 1, &set) == 0, "set '%s'", name);
	}
	FUZZ_CHECK(ax_reg_bitfield_at(r, n, NULL, NULL, NULL) == AX_ENOTFOUND,
	           "bitfield past the end");
}

static void fuzz_walk_dict(const ax_dict *d)
{
	size_t n = ax_dict_reg_count(d);

	for (size_t i = 0; i < n; i++) {
		const ax_reg *r = ax_dict_reg_at(d, i);

		FUZZ_CHECK(r != NULL, "register %zu of %zu is NULL", i, n);
		fuzz_walk_reg(d, r);
	}
	FUZZ_CHECK(ax_dict_reg_at(d, n) == NULL, "register past the end");

	n = ax_dict_category_count(d);
	for (size_t i = 0; i < n; i++) {
		const char *cid = NULL, *label = NULL;

		FUZZ_CHECK(ax_dict_category_at(d, i, &cid, &label) == 0 && cid && label,
		           "category %zu", i);
	}
	n = ax_dict_error_count(d);
	for (size_t i = 0; i < n; i++) {
		const char *text = NULL;
		uint32_t code = 0;

		FUZZ_CHECK(ax_dict_error_at(d, i, &code, &text) == 0 && text, "error %zu", i);
		FUZZ_CHECK(ax_dict_error_text(d, code) != NULL, "error 0x%08X has no text",
		           (unsigned)code);
	}
}

#endif
