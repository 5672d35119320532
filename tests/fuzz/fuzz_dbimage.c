/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the device database's dictionary image reader, ax__db_image_decode()
 * (src/db_image.c), the step between a model's stored record and the
 * dictionary every open of that model gets. Each input is decoded as it is,
 * which mostly tests the header and checksum checks, and then sealed (its
 * checksum written, as the encoder does) and decoded again, so that the
 * fuzzer explores what lies past the checksum: a damage it cannot see, or
 * a forged image. Either decode gives AX_ECORRUPT with a message, or a
 * dictionary that seals (ax__dict_seal: AX_EFORMAT allowed, the loader
 * reports it as corrupt) and whose every register, enum, bitfield,
 * category and error can be walked and found again. A dictionary that
 * decoded is encoded, decoded and encoded again: the two images are equal.
 *
 * The reader takes its database only to name the file in messages: a
 * stand-in with just a path serves, so no SQLite file is involved.
 */
#include <string.h>

#include "axlink/axlink.h"
#include "db.h"
#include "dict.h"
#include "fuzz.h"

static void walk_reg(const ax_dict *d, const ax_reg *r)
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
		FUZZ_CHECK(ax_reg_bitfield_get(r, name, UINT64_MAX, &got) == 0, "get '%s'", name);
		FUZZ_CHECK(ax_reg_bitfield_set(r, name, 0, 1, &set) == 0, "set '%s'", name);
	}
	FUZZ_CHECK(ax_reg_bitfield_at(r, n, NULL, NULL, NULL) == AX_ENOTFOUND,
	           "bitfield past the end");
}

static void walk_dict(const ax_dict *d)
{
	size_t n = ax_dict_reg_count(d);

	for (size_t i = 0; i < n; i++) {
		const ax_reg *r = ax_dict_reg_at(d, i);

		FUZZ_CHECK(r != NULL, "register %zu of %zu is NULL", i, n);
		walk_reg(d, r);
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

/*
 * Decode @image (@len bytes) and seal it: the dictionary, or NULL when the
 * reader refused it (AX_ECORRUPT with a message, or AX_EFORMAT from sealing).
 */
static ax_dict *decode(ax_db *db, const uint8_t *image, size_t len)
{
	ax_dict *d = ax__dict_new("image");
	int err;

	FUZZ_CHECK(d != NULL, "ax__dict_new: out of memory");
	err = ax__db_image_decode(db, 7, image, len, d);
	if (err < 0) {
		FUZZ_CHECK(err == AX_ECORRUPT, "decode returned %d '%s'", err, ax_error_last());
		FUZZ_CHECK(strstr(ax_error_last(), "fuzz.axdb") &&
		                   strstr(ax_error_last(), "model 7"),
		           "decode message names neither file nor model: '%s'", ax_error_last());
		ax_dict_unref(d);
		return NULL;
	}
	FUZZ_CHECK(err == 0, "decode returned %d", err);
	err = ax__dict_seal(d);
	if (err < 0) {
		FUZZ_CHECK(err == AX_EFORMAT && ax_error_last()[0] != '\0',
		           "sealing a decoded image returned %d '%s'", err, ax_error_last());
		ax_dict_unref(d);
		return NULL;
	}
	return d;
}

/* @d's image; it must decode to a dictionary whose image is the same. */
static void round_trip(ax_db *db, const ax_dict *d)
{
	uint8_t *image = NULL, *again = NULL;
	size_t len = 0, len_again = 0;
	ax_dict *d2;

	FUZZ_CHECK(ax__db_image_encode(d, &image, &len) == 0, "encode: '%s'", ax_error_last());
	d2 = decode(db, image, len);
	FUZZ_CHECK(d2 != NULL, "the image of a decoded dictionary does not decode: '%s'",
	           ax_error_last());
	FUZZ_CHECK(ax_dict_reg_count(d2) == ax_dict_reg_count(d) &&
	                   ax_dict_category_count(d2) == ax_dict_category_count(d) &&
	                   ax_dict_error_count(d2) == ax_dict_error_count(d),
	           "counts changed in a round trip");
	FUZZ_CHECK(ax__db_image_encode(d2, &again, &len_again) == 0, "encode: '%s'",
	           ax_error_last());
	FUZZ_CHECK(len_again == len && !memcmp(again, image, len),
	           "re-encoding a decoded image changed it (%zu -> %zu bytes)", len, len_again);
	free(again);
	free(image);
	ax_dict_unref(d2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* All the reader takes of its database: the path its messages name. */
	static char path[] = "fuzz.axdb";
	struct ax_db db = {.path = path};
	uint8_t *copy;
	ax_dict *d;

	/* As stored: a random input rarely gets past the checksum. */
	d = decode(&db, data, size);
	if (d) {
		walk_dict(d);
		ax_dict_unref(d);
	}
	if (size < 16)
		return 0;
	/* Sealed: past the checksum, every count, offset and field is checked as read. */
	copy = malloc(size);
	FUZZ_CHECK(copy != NULL, "out of memory");
	memcpy(copy, data, size);
	ax__db_image_seal(copy, size);
	d = decode(&db, copy, size);
	free(copy); /* the dictionary has its own copy of the pool */
	if (d) {
		walk_dict(d);
		round_trip(&db, d);
		ax_dict_unref(d);
	}
	return 0;
}
