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
#include "fuzz_dict.h"

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
		fuzz_walk_dict(d);
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
		fuzz_walk_dict(d);
		round_trip(&db, d);
		ax_dict_unref(d);
	}
	return 0;
}
