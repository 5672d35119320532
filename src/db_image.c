/* SPDX-License-Identifier: MIT */
/*
 * A model's dictionary as one record (models.image, schema version 4):
 * what loading a model reads instead of its thousands of rows. The rows
 * stay, for listing and for models stored before the image existed.
 *
 * Layout, all integers little-endian:
 *
 *   0   "AXDI"
 *   4   u32 layout version (DB_IMAGE_LAYOUT)
 *   8   u64 checksum of every byte from offset 16 to the end
 *   16  u32 counts: registers, labels, enums, bitfields, categories,
 *       errors, tables; u32 pool length
 *   48  records: registers (each followed by its labels, enums and
 *       bitfields), categories, errors, tables
 *   end the pool: every string NUL-terminated (each distinct string once)
 *       and every default's bytes; it ends with a NUL
 *
 * A string is a u32 offset into the pool, DB_IMAGE_NULL for none. Loading
 * copies the pool once and points the dictionary's strings into it, so a
 * model of 1,500 registers costs a handful of allocations, not 40,000.
 * The checksum is checked before anything is read, and every count, offset
 * and field as it is read: a damaged image is AX_ECORRUPT, never a wrong
 * value.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DB /* errors set here; see src/error.h */

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dict.h"
#include "error.h"

#define DB_IMAGE_MAGIC "AXDI"
#define DB_IMAGE_LAYOUT 1
#define DB_IMAGE_HEADER 48
#define DB_IMAGE_NULL UINT32_MAX
/* Smallest record of each kind, to bound counts by the image's size. */
#define DB_IMAGE_REG_MIN 59
#define DB_IMAGE_LABEL_SIZE 8
#define DB_IMAGE_ENUM_SIZE 12
#define DB_IMAGE_BITFIELD_SIZE 6
#define DB_IMAGE_CATEGORY_SIZE 12
#define DB_IMAGE_ERROR_SIZE 16
#define DB_IMAGE_TABLE_SIZE 14

/*
 * 64-bit checksum: four lanes, each taking every fourth 8-byte word, xored
 * in, then a multiply by an odd constant and a shift-xor, both one-to-one;
 * the lanes are folded the same way. So one changed word always changes
 * the result. Not a defence against a forger: against a damaged file.
 * The lanes let the multiplies overlap: the image is summed on each load.
 */
#define DB_IMAGE_MUL UINT64_C(0xFF51AFD7ED558CCD)

static inline uint64_t image_word(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static inline uint64_t image_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * DB_IMAGE_MUL;
	return h ^ (h >> 32);
}

static uint64_t image_sum(const uint8_t *p, size_t n)
{
	uint64_t h[4] = {UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)n, UINT64_C(0xC2B2AE3D27D4EB4F),
	                 UINT64_C(0x165667B19E3779F9), UINT64_C(0x85EBCA77C2B2AE63)};
	uint8_t tail[8] = {0};
	uint64_t sum;

	for (; n >= 32; p += 32, n -= 32)
		for (size_t k = 0; k < 4; k++)
			h[k] = image_mix(h[k], image_word(p + 8 * k));
	for (; n >= 8; p += 8, n -= 8)
		h[0] = image_mix(h[0], image_word(p));
	if (n) {
		memcpy(tail, p, n);
		h[0] = image_mix(h[0], image_word(tail));
	}
	sum = h[0];
	for (size_t k = 1; k < 4; k++)
		sum = image_mix(sum, h[k]);
	sum *= UINT64_C(0xC4CEB9FE1A85EC53);
	return sum ^ (sum >> 29);
}

void ax__db_image_seal(uint8_t *image, size_t len)
{
	uint64_t sum;

	if (len < DB_IMAGE_HEADER)
		return;
	sum = image_sum(image + 16, len - 16);
	for (size_t i = 0; i < 8; i++)
		image[8 + i] = (uint8_t)(sum >> (8 * i));
}

/* ---- writing ---- */

struct image_buf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static uint8_t *buf_grow(struct image_buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (n > SIZE_MAX / 2 - b->len) {
		b->failed = 1;
		return NULL;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len += n;
	return b->p + b->len - n;
}

static void put_bytes(struct image_buf *b, const void *src, size_t n)
{
	uint8_t *p = buf_grow(b, n);

	if (p && n)
		memcpy(p, src, n);
}

static void put_le(struct image_buf *b, uint64_t v, size_t n)
{
	uint8_t *p = buf_grow(b, n);

	for (size_t i = 0; p && i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The pool and its index of the strings already in it (offset + 1; 0 = empty slot). */
struct image_pool {
	struct image_buf buf;
	uint32_t *slots;
	size_t n_slots, used;
};

static size_t str_hash(const char *s)
{
	uint64_t h = UINT64_C(0xCBF29CE484222325);

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * UINT64_C(0x100000001B3);
	return (size_t)(h ^ (h >> 32));
}

static int pool_rehash(struct image_pool *pl)
{
	size_t n = pl->n_slots ? pl->n_slots * 2 : 1024;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < pl->n_slots; i++) {
		size_t k;

		if (!pl->slots[i])
			continue;
		k = str_hash((const char *)pl->buf.p + pl->slots[i] - 1) & (n - 1);
		while (slots[k])
			k = (k + 1) & (n - 1);
		slots[k] = pl->slots[i];
	}
	free(pl->slots);
	pl->slots = slots;
	pl->n_slots = n;
	return 0;
}

/* Put string @s (NULL: none) in the pool once, and its offset in the records. */
static void put_str(struct image_buf *rec, struct image_pool *pl, const char *s)
{
	size_t k, len;
	uint8_t *p;

	if (!s) {
		put_le(rec, DB_IMAGE_NULL, 4);
		return;
	}
	if (pl->buf.failed || rec->failed)
		return;
	if (2 * (pl->used + 1) > pl->n_slots && pool_rehash(pl) < 0) {
		pl->buf.failed = 1;
		return;
	}
	k = str_hash(s) & (pl->n_slots - 1);
	for (; pl->slots[k]; k = (k + 1) & (pl->n_slots - 1)) {
		if (!strcmp((const char *)pl->buf.p + pl->slots[k] - 1, s)) {
			put_le(rec, pl->slots[k] - 1, 4);
			return;
		}
	}
	len = strlen(s) + 1;
	if (pl->buf.len + len >= DB_IMAGE_NULL) {
		pl->buf.failed = 1;
		return;
	}
	p = buf_grow(&pl->buf, len);
	if (!p)
		return;
	memcpy(p, s, len);
	pl->slots[k] = (uint32_t)(pl->buf.len - len + 1);
	pl->used++;
	put_le(rec, pl->buf.len - len, 4);
}

int ax__db_image_encode(const ax_dict *d, uint8_t **out, size_t *len_out)
{
	struct image_buf rec = {0}, img = {0};
	struct image_pool pl = {0};
	size_t n_labels = 0, n_enums = 0, n_bits = 0;
	int err = 0;

	for (size_t i = 0; i < d->n_regs; i++) {
		const struct ax_reg *r = &d->regs[i];

		/* Per-register counts are u16: no file comes near; refuse rather than cut. */
		if (r->n_labels > UINT16_MAX || r->n_enums > UINT16_MAX ||
		    r->n_bitfields > UINT16_MAX)
			return ax__error_set(AX_ETOOBIG, "register '%s': too many entries to store",
			                     r->id);
		n_labels += r->n_labels;
		n_enums += r->n_enums;
		n_bits += r->n_bitfields;
	}
	if (d->n_regs > UINT32_MAX || n_labels > UINT32_MAX || n_enums > UINT32_MAX ||
	    n_bits > UINT32_MAX || d->n_categories > UINT32_MAX || d->n_errors > UINT32_MAX ||
	    d->n_tables > UINT32_MAX)
		return ax__error_set(AX_ETOOBIG, "dictionary too large to store");

	for (size_t i = 0; i < d->n_regs; i++) {
		const struct ax_reg *r = &d->regs[i];

		put_str(&rec, &pl, r->id);
		put_le(&rec, r->subnode, 1);
		put_le(&rec, r->address, 4);
		put_le(&rec, r->dtype, 1);
		put_le(&rec, r->access, 1);
		put_str(&rec, &pl, r->units);
		put_str(&rec, &pl, r->cyclic);
		put_str(&rec, &pl, r->address_type);
		put_str(&rec, &pl, r->description);
		put_str(&rec, &pl, r->category);
		put_str(&rec, &pl, r->subcategory);
		put_str(&rec, &pl, r->range_min);
		put_str(&rec, &pl, r->range_max);
		/* A default's bytes go to the pool as they are (they may hold NULs). */
		if (r->def && r->def_len) {
			put_le(&rec, pl.buf.len, 4);
			put_le(&rec, r->def_len, 2);
			put_bytes(&pl.buf, r->def, r->def_len);
		} else {
			put_le(&rec, DB_IMAGE_NULL, 4);
			put_le(&rec, 0, 2);
		}
		/* As the rows keep it: no monitoring address without mon_set. */
		put_le(&rec, r->mon_set ? 1 : 0, 1);
		put_le(&rec, r->mon_set ? r->mon_address : 0, 2);
		put_le(&rec, r->mon_set ? r->mon_subnode : 0, 1);
		put_le(&rec, r->n_labels, 2);
		put_le(&rec, r->n_enums, 2);
		put_le(&rec, r->n_bitfields, 2);
		for (size_t k = 0; k < r->n_labels; k++) {
			put_str(&rec, &pl, r->labels[k].lang);
			put_str(&rec, &pl, r->labels[k].text);
		}
		for (size_t k = 0; k < r->n_enums; k++) {
			put_le(&rec, (uint64_t)r->enums[k].value, 8);
			put_str(&rec, &pl, r->enums[k].label);
		}
		for (size_t k = 0; k < r->n_bitfields; k++) {
			put_str(&rec, &pl, r->bitfields[k].name);
			put_le(&rec, r->bitfields[k].start, 1);
			put_le(&rec, r->bitfields[k].end, 1);
		}
	}
	for (size_t i = 0; i < d->n_categories; i++) {
		put_str(&rec, &pl, d->categories[i].id);
		put_str(&rec, &pl, d->categories[i].label);
		put_str(&rec, &pl, d->categories[i].parent);
	}
	for (size_t i = 0; i < d->n_errors; i++) {
		put_le(&rec, d->errors[i].code, 4);
		put_str(&rec, &pl, d->errors[i].text);
		put_str(&rec, &pl, d->errors[i].type);
		put_str(&rec, &pl, d->errors[i].module);
	}
	for (size_t i = 0; i < d->n_tables; i++) {
		put_str(&rec, &pl, d->tables[i].id);
		put_le(&rec, (uint16_t)(int16_t)d->tables[i].axis, 2);
		put_str(&rec, &pl, d->tables[i].index_id);
		put_str(&rec, &pl, d->tables[i].value_id);
	}
	put_le(&pl.buf, 0, 1); /* the pool ends with a NUL */

	if (rec.failed || pl.buf.failed || pl.buf.len >= DB_IMAGE_NULL) {
		err = ax__error_oom();
		goto out;
	}
	put_bytes(&img, DB_IMAGE_MAGIC, 4);
	put_le(&img, DB_IMAGE_LAYOUT, 4);
	put_le(&img, 0, 8); /* the checksum, below */
	put_le(&img, d->n_regs, 4);
	put_le(&img, n_labels, 4);
	put_le(&img, n_enums, 4);
	put_le(&img, n_bits, 4);
	put_le(&img, d->n_categories, 4);
	put_le(&img, d->n_errors, 4);
	put_le(&img, d->n_tables, 4);
	put_le(&img, pl.buf.len, 4);
	put_bytes(&img, rec.p, rec.len);
	put_bytes(&img, pl.buf.p, pl.buf.len);
	if (img.failed) {
		err = ax__error_oom();
		goto out;
	}
	ax__db_image_seal(img.p, img.len);
	*out = img.p;
	*len_out = img.len;
	img.p = NULL;
out:
	free(img.p);
	free(rec.p);
	free(pl.buf.p);
	free(pl.slots);
	return err;
}

/* ---- reading ---- */

struct image_reader {
	const uint8_t *p, *end;
	const char *pool;
	uint32_t pool_len;
	int bad; /* read past the records, or a string that is not one */
};

static uint64_t get_le(struct image_reader *rd, size_t n)
{
	uint64_t v = 0;

	if ((size_t)(rd->end - rd->p) < n) {
		rd->bad = 1;
		rd->p = rd->end;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)rd->p[i] << (8 * i);
	rd->p += n;
	return v;
}

/* A string of the pool, NULL for none; a string that must exist sets bad when absent. */
static char *get_str(struct image_reader *rd, int nullable)
{
	uint32_t off = (uint32_t)get_le(rd, 4);

	if (off == DB_IMAGE_NULL) {
		if (!nullable)
			rd->bad = 1;
		return NULL;
	}
	if (off >= rd->pool_len) {
		rd->bad = 1;
		return NULL;
	}
	/* The pool ends with a NUL, so every string in it ends inside it. */
	return (char *)rd->pool + off;
}

static int image_corrupt(ax_db *db, int64_t model_id, const char *why)
{
	return ax__error_set(AX_ECORRUPT,
	                     "'%s': model %" PRId64 " has a corrupt dictionary image (%s)",
	                     db->path, model_id, why);
}

static int image_reg_corrupt(ax_db *db, int64_t model_id, size_t i, const char *id, const char *why)
{
	return ax__error_set(AX_ECORRUPT,
	                     "'%s': model %" PRId64
	                     " has a corrupt dictionary image (register %zu '%s': %s)",
	                     db->path, model_id, i, id ? id : "?", why);
}

/* One register's record into @r, its labels, enums and bitfields from the next of @items. */
static int image_read_reg(ax_db *db, int64_t model_id, struct image_reader *rd, size_t i,
                          struct ax_reg *r, struct ax_dict_label **labels, size_t *left_labels,
                          struct ax_dict_enum **enums, size_t *left_enums,
                          struct ax_dict_bitfield **bits, size_t *left_bits)
{
	uint32_t def_off;
	size_t def_len, want, n_labels, n_enums, n_bits;
	unsigned mon_set;
	int bad_def;

	r->id = get_str(rd, 0);
	r->subnode = (uint8_t)get_le(rd, 1);
	r->address = (uint32_t)get_le(rd, 4);
	r->dtype = (uint8_t)get_le(rd, 1);
	r->access = (uint8_t)get_le(rd, 1);
	r->units = get_str(rd, 1);
	r->cyclic = get_str(rd, 1);
	r->address_type = get_str(rd, 1);
	r->description = get_str(rd, 1);
	r->category = get_str(rd, 1);
	r->subcategory = get_str(rd, 1);
	r->range_min = get_str(rd, 1);
	r->range_max = get_str(rd, 1);
	def_off = (uint32_t)get_le(rd, 4);
	def_len = (size_t)get_le(rd, 2);
	mon_set = (unsigned)get_le(rd, 1);
	r->mon_address = (uint16_t)get_le(rd, 2);
	r->mon_subnode = (uint8_t)get_le(rd, 1);
	n_labels = (size_t)get_le(rd, 2);
	n_enums = (size_t)get_le(rd, 2);
	n_bits = (size_t)get_le(rd, 2);
	if (rd->bad)
		return image_reg_corrupt(db, model_id, i, r->id, "record cut short");
	/* What ax__dict_add_reg and the other builders would refuse. */
	if (!ax_dtype_name(r->dtype))
		return image_reg_corrupt(db, model_id, i, r->id, "unknown data type");
	if (r->access < AX_REG_READ || r->access > AX_REG_RW)
		return image_reg_corrupt(db, model_id, i, r->id, "unknown access");
	if (!r->range_min != !r->range_max)
		return image_reg_corrupt(db, model_id, i, r->id, "half a range");
	want = ax_dtype_size(r->dtype);
	if (def_off == DB_IMAGE_NULL)
		bad_def = def_len != 0;
	else
		bad_def = def_len == 0 || def_len > AX_VALUE_MAX || (want && def_len != want) ||
		          def_len >= rd->pool_len || def_off > rd->pool_len - 1 - def_len;
	if (bad_def)
		return image_reg_corrupt(db, model_id, i, r->id, "bad default");
	if (def_len) {
		r->def = (uint8_t *)rd->pool + def_off;
		r->def_len = def_len;
	}
	if (mon_set > 1 || (mon_set && (r->mon_address > 0xFFF || r->mon_subnode > 15)) ||
	    (!mon_set && (r->mon_address || r->mon_subnode)))
		return image_reg_corrupt(db, model_id, i, r->id, "bad monitoring address");
	r->mon_set = (uint8_t)mon_set;
	if (n_labels > *left_labels || n_enums > *left_enums || n_bits > *left_bits)
		return image_reg_corrupt(db, model_id, i, r->id, "more entries than counted");

	if (n_labels) {
		r->labels = *labels;
		r->n_labels = n_labels;
		*labels += n_labels;
		*left_labels -= n_labels;
	}
	for (size_t k = 0; k < n_labels; k++) {
		r->labels[k].lang = get_str(rd, 0);
		r->labels[k].text = get_str(rd, 0);
	}
	if (n_enums) {
		r->enums = *enums;
		r->n_enums = n_enums;
		*enums += n_enums;
		*left_enums -= n_enums;
	}
	for (size_t k = 0; k < n_enums; k++) {
		r->enums[k].value = (int64_t)get_le(rd, 8);
		r->enums[k].label = get_str(rd, 0);
	}
	if (n_bits) {
		r->bitfields = *bits;
		r->n_bitfields = n_bits;
		*bits += n_bits;
		*left_bits -= n_bits;
	}
	for (size_t k = 0; k < n_bits; k++) {
		struct ax_dict_bitfield *bf = &r->bitfields[k];

		bf->name = get_str(rd, 0);
		bf->start = (uint8_t)get_le(rd, 1);
		bf->end = (uint8_t)get_le(rd, 1);
		if (bf->start > bf->end || bf->end > 63)
			return image_reg_corrupt(db, model_id, i, r->id, "bad bitfield bits");
	}
	if (rd->bad)
		return image_reg_corrupt(db, model_id, i, r->id, "entry cut short");
	return 0;
}

/* Allocate @n elements of @size for @d's pool items; NULL for none (n 0) or failure (*failed). */
static void *image_items(size_t n, size_t size, int *failed)
{
	void *p;

	if (!n)
		return NULL;
	p = malloc(n * size);
	if (!p)
		*failed = 1;
	return p;
}

int ax__db_image_decode(ax_db *db, int64_t model_id, const void *image, size_t len, ax_dict *d)
{
	const uint8_t *b = image;
	struct image_reader rd;
	uint32_t n[8]; /* regs, labels, enums, bitfields, categories, errors, tables, pool */
	uint64_t sum = 0;
	size_t records, left_labels, left_enums, left_bits;
	struct ax_dict_label *labels;
	struct ax_dict_enum *enums;
	struct ax_dict_bitfield *bits;
	int failed = 0, err;

	assert(d && !d->n_regs && !d->pool);
	if (len < DB_IMAGE_HEADER || memcmp(b, DB_IMAGE_MAGIC, 4) != 0)
		return image_corrupt(db, model_id, "no image header");
	rd = (struct image_reader){b + 4, b + DB_IMAGE_HEADER, NULL, 0, 0};
	if (get_le(&rd, 4) != DB_IMAGE_LAYOUT)
		return image_corrupt(db, model_id, "unknown layout version");
	sum = get_le(&rd, 8);
	if (sum != image_sum(b + 16, len - 16))
		return image_corrupt(db, model_id, "checksum mismatch");
	for (size_t i = 0; i < 8; i++)
		n[i] = (uint32_t)get_le(&rd, 4);
	if (n[7] == 0 || n[7] > len - DB_IMAGE_HEADER || b[len - 1] != 0)
		return image_corrupt(db, model_id, "bad pool");
	records = len - DB_IMAGE_HEADER - n[7];
	/* Counts the records cannot hold are refused before anything is allocated for them. */
	if (n[0] > records / DB_IMAGE_REG_MIN || n[1] > records / DB_IMAGE_LABEL_SIZE ||
	    n[2] > records / DB_IMAGE_ENUM_SIZE || n[3] > records / DB_IMAGE_BITFIELD_SIZE ||
	    n[4] > records / DB_IMAGE_CATEGORY_SIZE || n[5] > records / DB_IMAGE_ERROR_SIZE ||
	    n[6] > records / DB_IMAGE_TABLE_SIZE)
		return image_corrupt(db, model_id, "counts larger than the image");

	/* The pool is copied once; every string and default of the model points into it. */
	d->pool = malloc(n[7]);
	if (!d->pool)
		return ax__error_oom();
	memcpy(d->pool, b + len - n[7], n[7]);
	d->regs = n[0] ? calloc(n[0], sizeof(*d->regs)) : NULL;
	labels = d->pool_items[0] = image_items(n[1], sizeof(*labels), &failed);
	enums = d->pool_items[1] = image_items(n[2], sizeof(*enums), &failed);
	bits = d->pool_items[2] = image_items(n[3], sizeof(*bits), &failed);
	d->categories = image_items(n[4], sizeof(*d->categories), &failed);
	d->errors = image_items(n[5], sizeof(*d->errors), &failed);
	d->tables = n[6] ? calloc(n[6], sizeof(*d->tables)) : NULL;
	if (failed || (n[0] && !d->regs) || (n[6] && !d->tables))
		return ax__error_oom();
	d->cap_regs = n[0];
	d->cap_categories = n[4];
	d->cap_errors = n[5];
	d->cap_tables = n[6];

	rd = (struct image_reader){b + DB_IMAGE_HEADER, b + DB_IMAGE_HEADER + records, d->pool,
	                           n[7], 0};
	left_labels = n[1];
	left_enums = n[2];
	left_bits = n[3];
	for (size_t i = 0; i < n[0]; i++) {
		/* Counted as it fills, so freeing a half-read dictionary stays right. */
		err = image_read_reg(db, model_id, &rd, i, &d->regs[i], &labels, &left_labels,
		                     &enums, &left_enums, &bits, &left_bits);
		d->n_regs = i + 1;
		if (err < 0)
			return err;
	}
	if (left_labels || left_enums || left_bits)
		return image_corrupt(db, model_id, "fewer entries than counted");
	for (size_t i = 0; i < n[4]; i++) {
		struct ax_dict_category *c = &d->categories[i];

		c->id = get_str(&rd, 0);
		c->label = get_str(&rd, 0);
		c->parent = get_str(&rd, 1);
	}
	d->n_categories = n[4];
	for (size_t i = 0; i < n[5]; i++) {
		struct ax_dict_error *e = &d->errors[i];

		e->code = (uint32_t)get_le(&rd, 4);
		e->text = get_str(&rd, 0);
		e->type = get_str(&rd, 1);
		e->module = get_str(&rd, 1);
	}
	d->n_errors = n[5];
	for (size_t i = 0; i < n[6]; i++) {
		struct ax_dict_table *t = &d->tables[i];
		uint16_t axis;

		t->id = get_str(&rd, 0);
		axis = (uint16_t)get_le(&rd, 2);
		t->axis = (int16_t)axis;
		t->index_id = get_str(&rd, 0);
		t->value_id = get_str(&rd, 0);
		if (t->axis < -1 || t->axis > UINT8_MAX)
			return image_corrupt(db, model_id, "bad table axis");
	}
	d->n_tables = n[6];
	if (rd.bad)
		return image_corrupt(db, model_id, "record cut short or string out of the pool");
	if (rd.p != rd.end)
		return image_corrupt(db, model_id, "bytes after the last record");
	return 0;
}
