/* SPDX-License-Identifier: MIT */
/*
 * The dictionary model: a builder used by the XDF importer and the device
 * database, the indexes that make lookups O(log n), the tables that the
 * seal ties to their registers, and the public getters.
 *
 * A dictionary is mutable only until ax__dict_seal(); after that it is never
 * written again, so any number of threads may read it without a lock. The
 * reference count is the one atomic field.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DICT /* errors set here; see src/error.h */

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "error.h"
#include "axlink/mcb.h"
#include "axlink/plugin.h"
#include "util.h"

/* Returned for every absent string: getters never hand out NULL. */
static const char dict_empty[] = "";

/* ----- builder ---------------------------------------------------------------------------- */

static char *dict_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/*
 * Make room for one more element of an array that has an explicit capacity
 * (doubling, so n appends cost O(n) in all).
 */
static int dict_reserve(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t new_cap;
	void *p;

	if (n < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 16;
	if (new_cap > SIZE_MAX / elem)
		return ax__error_oom();
	p = realloc(*arr, new_cap * elem);
	if (!p)
		return ax__error_oom();
	*arr = p;
	*cap = new_cap;
	return 0;
}

/*
 * The same for the small per-register arrays, which keep no capacity field:
 * the capacity is implied by n (the next power of two), so growth happens
 * when n is 0 or a power of two.
 */
static int dict_reserve_implied(void **arr, size_t n, size_t elem)
{
	size_t new_cap;
	void *p;

	if (n != 0 && (n & (n - 1)) != 0)
		return 0;
	new_cap = n ? n * 2 : 1;
	if (new_cap > SIZE_MAX / elem)
		return ax__error_oom();
	p = realloc(*arr, new_cap * elem);
	if (!p)
		return ax__error_oom();
	*arr = p;
	return 0;
}

static void dict_identity_refresh(ax_dict *d)
{
	d->identity.part_number = d->part_number ? d->part_number : dict_empty;
	d->identity.firmware_version = d->firmware_version ? d->firmware_version : dict_empty;
	d->identity.interface = d->interface ? d->interface : dict_empty;
	d->identity.family = d->family ? d->family : dict_empty;
	d->identity.name = d->name ? d->name : dict_empty;
}

ax_dict *ax__dict_new(const char *source)
{
	ax_dict *d = calloc(1, sizeof(*d));

	if (!d) {
		(void)ax__error_oom();
		return NULL;
	}
	atomic_init(&d->refs, 1);
	if (source) {
		d->source = dict_strdup(source);
		if (!d->source) {
			free(d);
			(void)ax__error_oom();
			return NULL;
		}
	}
	d->identity.addr_space = AX_ADDR_MCB;
	dict_identity_refresh(d);
	return d;
}

static int dict_check_open(const ax_dict *d)
{
	if (d->sealed || d->pool)
		return ax__error_set(AX_EINVAL, "dictionary '%s' is %s: no more changes",
		                     d->source ? d->source : "", d->sealed ? "sealed" : "pooled");
	return 0;
}

/* An add makes early indexes (ax__dict_index) incomplete: drop them. */
static void dict_unindex(ax_dict *d)
{
	free(d->by_id);
	free(d->by_address);
	free(d->by_code);
	d->by_id = d->by_address = d->by_code = NULL;
	d->indexed = 0;
}

int ax__dict_set_identity(ax_dict *d, const char *part_number, const char *firmware_version,
                          const char *interface, const char *family, const char *name)
{
	const char *in[5] = {part_number, firmware_version, interface, family, name};
	char **field[5] = {&d->part_number, &d->firmware_version, &d->interface, &d->family,
	                   &d->name};
	char *copy[5] = {NULL, NULL, NULL, NULL, NULL};
	int err;

	AX_ASSERT_ARG(d);
	err = dict_check_open(d);
	if (err < 0)
		return err;
	/* All or nothing: copy everything first, then swap in. */
	for (size_t i = 0; i < 5; i++) {
		if (!in[i])
			continue;
		copy[i] = dict_strdup(in[i]);
		if (!copy[i]) {
			for (size_t j = 0; j < i; j++)
				free(copy[j]);
			return ax__error_oom();
		}
	}
	for (size_t i = 0; i < 5; i++) {
		free(*field[i]);
		*field[i] = copy[i];
	}
	dict_identity_refresh(d);
	return 0;
}

int ax__dict_add_reg(ax_dict *d, const char *id, unsigned subnode, uint32_t address, int dtype,
                     int access, struct ax_reg **out)
{
	struct ax_reg *r;
	char *id_copy;
	int err;

	AX_ASSERT_ARG(d);
	AX_ASSERT_ARG(id);
	AX_ASSERT_ARG(out);
	err = dict_check_open(d);
	if (err < 0)
		return err;
	if (!ax_dtype_name(dtype))
		return ax__error_set(AX_EINVAL, "register '%s': unknown data type %d", id, dtype);
	if (access < AX_REG_READ || access > AX_REG_RW)
		return ax__error_set(AX_EINVAL, "register '%s': access %d is not r, w or rw", id,
		                     access);
	if (subnode > UINT8_MAX)
		return ax__error_set(AX_ERANGE, "register '%s': subnode %u is over %d", id, subnode,
		                     UINT8_MAX);

	err = dict_reserve((void **)&d->regs, &d->cap_regs, d->n_regs, sizeof(*d->regs));
	if (err < 0)
		return err;
	id_copy = dict_strdup(id);
	if (!id_copy)
		return ax__error_oom();
	dict_unindex(d);
	r = &d->regs[d->n_regs++];
	memset(r, 0, sizeof(*r));
	r->id = id_copy;
	r->subnode = (uint8_t)subnode;
	r->address = address;
	r->dtype = (uint8_t)dtype;
	r->access = (uint8_t)access;
	*out = r;
	return 0;
}

int ax__dict_reg_set_str(struct ax_reg *r, char **field, const char *value)
{
	char *copy = NULL;

	AX_ASSERT_ARG(r);
	AX_ASSERT_ARG(field);
	if (value) {
		copy = dict_strdup(value);
		if (!copy)
			return ax__error_oom();
	}
	free(*field);
	*field = copy;
	return 0;
}

int ax__dict_reg_add_label(struct ax_reg *r, const char *lang, const char *text)
{
	struct ax_dict_label *l;
	char *lang_copy, *text_copy;
	int err;

	AX_ASSERT_ARG(r);
	err = dict_reserve_implied((void **)&r->labels, r->n_labels, sizeof(*r->labels));
	if (err < 0)
		return err;
	lang_copy = dict_strdup(lang ? lang : "");
	text_copy = dict_strdup(text ? text : "");
	if (!lang_copy || !text_copy) {
		free(lang_copy);
		free(text_copy);
		return ax__error_oom();
	}
	l = &r->labels[r->n_labels++];
	l->lang = lang_copy;
	l->text = text_copy;
	return 0;
}

int ax__dict_reg_set_range(struct ax_reg *r, const char *min, const char *max)
{
	char *min_copy = NULL, *max_copy = NULL;

	AX_ASSERT_ARG(r);
	AX_ASSERT_ARG((min == NULL) == (max == NULL));
	if (min) {
		min_copy = dict_strdup(min);
		max_copy = dict_strdup(max);
		if (!min_copy || !max_copy) {
			free(min_copy);
			free(max_copy);
			return ax__error_oom();
		}
	}
	free(r->range_min);
	free(r->range_max);
	r->range_min = min_copy;
	r->range_max = max_copy;
	return 0;
}

int ax__dict_reg_set_default(struct ax_reg *r, const uint8_t *bytes, size_t len)
{
	size_t want;
	uint8_t *copy = NULL;

	AX_ASSERT_ARG(r);
	AX_ASSERT_ARG(bytes || len == 0);
	want = ax_dtype_size(r->dtype);
	if (len > AX_VALUE_MAX)
		return ax__error_set(
		        AX_ETOOBIG, "register '%s': default of %zu bytes is over the %d-byte limit",
		        r->id, len, AX_VALUE_MAX);
	/* A fixed-size type's default is exactly its size, so readers never over-read. */
	if (len && want && len != want)
		return ax__error_set(AX_ETYPE,
		                     "register '%s': default of %zu bytes for a %s (needs %zu)",
		                     r->id, len, ax_dtype_name(r->dtype), want);
	if (len) {
		copy = malloc(len);
		if (!copy)
			return ax__error_oom();
		memcpy(copy, bytes, len);
	}
	free(r->def);
	r->def = copy;
	r->def_len = len;
	return 0;
}

int ax__dict_reg_add_enum(struct ax_reg *r, int64_t value, const char *label)
{
	char *copy;
	int err;

	AX_ASSERT_ARG(r);
	err = dict_reserve_implied((void **)&r->enums, r->n_enums, sizeof(*r->enums));
	if (err < 0)
		return err;
	copy = dict_strdup(label ? label : "");
	if (!copy)
		return ax__error_oom();
	r->enums[r->n_enums].value = value;
	r->enums[r->n_enums].label = copy;
	r->n_enums++;
	return 0;
}

int ax__dict_reg_add_bitfield(struct ax_reg *r, const char *name, unsigned start, unsigned end)
{
	char *copy;
	int err;

	AX_ASSERT_ARG(r);
	AX_ASSERT_ARG(name);
	if (end > 63 || start > end)
		return ax__error_set(AX_EINVAL,
		                     "register '%s': bitfield '%s' bits %u..%u (need start <= end "
		                     "<= 63)",
		                     r->id, name, start, end);
	err = dict_reserve_implied((void **)&r->bitfields, r->n_bitfields, sizeof(*r->bitfields));
	if (err < 0)
		return err;
	copy = dict_strdup(name);
	if (!copy)
		return ax__error_oom();
	r->bitfields[r->n_bitfields].name = copy;
	r->bitfields[r->n_bitfields].start = (uint8_t)start;
	r->bitfields[r->n_bitfields].end = (uint8_t)end;
	r->n_bitfields++;
	return 0;
}

int ax__dict_add_category(ax_dict *d, const char *id, const char *label, const char *parent)
{
	struct ax_dict_category *c;
	char *id_copy, *label_copy, *parent_copy = NULL;
	int err;

	AX_ASSERT_ARG(d);
	AX_ASSERT_ARG(id);
	err = dict_check_open(d);
	if (err < 0)
		return err;
	err = dict_reserve((void **)&d->categories, &d->cap_categories, d->n_categories,
	                   sizeof(*d->categories));
	if (err < 0)
		return err;
	id_copy = dict_strdup(id);
	label_copy = dict_strdup(label ? label : "");
	if (parent)
		parent_copy = dict_strdup(parent);
	if (!id_copy || !label_copy || (parent && !parent_copy)) {
		free(id_copy);
		free(label_copy);
		free(parent_copy);
		return ax__error_oom();
	}
	c = &d->categories[d->n_categories++];
	c->id = id_copy;
	c->label = label_copy;
	c->parent = parent_copy;
	return 0;
}

int ax__dict_add_error(ax_dict *d, uint32_t code, const char *text, const char *type,
                       const char *module)
{
	struct ax_dict_error *e;
	char *copy, *type_copy = NULL, *module_copy = NULL;
	int err;

	AX_ASSERT_ARG(d);
	err = dict_check_open(d);
	if (err < 0)
		return err;
	err = dict_reserve((void **)&d->errors, &d->cap_errors, d->n_errors, sizeof(*d->errors));
	if (err < 0)
		return err;
	copy = dict_strdup(text ? text : "");
	if (type)
		type_copy = dict_strdup(type);
	if (module)
		module_copy = dict_strdup(module);
	if (!copy || (type && !type_copy) || (module && !module_copy)) {
		free(copy);
		free(type_copy);
		free(module_copy);
		return ax__error_oom();
	}
	dict_unindex(d);
	e = &d->errors[d->n_errors++];
	e->code = code;
	e->text = copy;
	e->type = type_copy;
	e->module = module_copy;
	return 0;
}

int ax__dict_add_table(ax_dict *d, const char *id, int axis, const char *index_id,
                       const char *value_id)
{
	struct ax_dict_table *t;
	char *copy[3];
	int err;

	AX_ASSERT_ARG(d);
	AX_ASSERT_ARG(id);
	AX_ASSERT_ARG(index_id);
	AX_ASSERT_ARG(value_id);
	err = dict_check_open(d);
	if (err < 0)
		return err;
	if (axis < -1 || axis > UINT8_MAX)
		return ax__error_set(AX_ERANGE, "table '%s': axis %d is not -1 (none) or 0..%d", id,
		                     axis, UINT8_MAX);
	err = dict_reserve((void **)&d->tables, &d->cap_tables, d->n_tables, sizeof(*d->tables));
	if (err < 0)
		return err;
	copy[0] = dict_strdup(id);
	copy[1] = dict_strdup(index_id);
	copy[2] = dict_strdup(value_id);
	if (!copy[0] || !copy[1] || !copy[2]) {
		for (size_t i = 0; i < 3; i++)
			free(copy[i]);
		return ax__error_oom();
	}
	t = &d->tables[d->n_tables++];
	memset(t, 0, sizeof(*t));
	t->id = copy[0];
	t->axis = axis;
	t->index_id = copy[1];
	t->value_id = copy[2];
	return 0;
}

int ax__dict_add_warning(ax_dict *d, const char *text)
{
	char *copy;
	int err;

	AX_ASSERT_ARG(d);
	AX_ASSERT_ARG(text);
	err = dict_reserve_implied((void **)&d->warnings, d->n_warnings, sizeof(*d->warnings));
	if (err < 0)
		return err;
	copy = dict_strdup(text);
	if (!copy)
		return ax__error_oom();
	d->warnings[d->n_warnings++] = copy;
	return 0;
}

/* ----- indexes ---------------------------------------------------------------------------- */

/*
 * qsort has no context argument, so the sort keys travel with the index:
 * each entry carries what its comparison needs, and the file position
 * breaks ties so the first of equal keys in file order comes first.
 */
struct dict_key {
	const char *id;
	uint32_t a, b; /* (subnode, -) for ids, (subnode, address) or (code, -) otherwise */
	size_t index;
};

static int dict_cmp_u32(uint32_t x, uint32_t y)
{
	return x < y ? -1 : x > y;
}

static int dict_key_cmp(const void *pa, const void *pb)
{
	const struct dict_key *a = pa, *b = pb;
	int c = 0;

	if (a->id)
		c = strcmp(a->id, b->id);
	if (c == 0)
		c = dict_cmp_u32(a->a, b->a);
	if (c == 0)
		c = dict_cmp_u32(a->b, b->b);
	if (c == 0)
		c = a->index < b->index ? -1 : a->index > b->index;
	return c;
}

static int dict_index_build(size_t **out, struct dict_key *keys, size_t n)
{
	size_t *idx;

	idx = malloc((n ? n : 1) * sizeof(*idx));
	if (!idx)
		return ax__error_oom();
	qsort(keys, n, sizeof(*keys), dict_key_cmp);
	for (size_t i = 0; i < n; i++)
		idx[i] = keys[i].index;
	*out = idx;
	return 0;
}

int ax__dict_index(ax_dict *d)
{
	struct dict_key *keys;
	size_t n_keys;
	size_t *by_id = NULL, *by_address = NULL, *by_code = NULL;
	int err;

	AX_ASSERT_ARG(d);
	if (d->indexed)
		return 0;
	n_keys = d->n_regs > d->n_errors ? d->n_regs : d->n_errors;
	keys = malloc((n_keys ? n_keys : 1) * sizeof(*keys));
	if (!keys)
		return ax__error_oom();

	for (size_t i = 0; i < d->n_regs; i++)
		keys[i] = (struct dict_key){d->regs[i].id, d->regs[i].subnode, 0, i};
	err = dict_index_build(&by_id, keys, d->n_regs);
	if (err < 0)
		goto fail;
	for (size_t i = 0; i < d->n_regs; i++)
		keys[i] = (struct dict_key){NULL, d->regs[i].subnode, d->regs[i].address, i};
	err = dict_index_build(&by_address, keys, d->n_regs);
	if (err < 0)
		goto fail;
	for (size_t i = 0; i < d->n_errors; i++)
		keys[i] = (struct dict_key){NULL, d->errors[i].code, 0, i};
	err = dict_index_build(&by_code, keys, d->n_errors);
	if (err < 0)
		goto fail;

	free(keys);
	dict_unindex(d);
	d->by_id = by_id;
	d->by_address = by_address;
	d->by_code = by_code;
	d->indexed = 1;
	return 0;
fail:
	free(keys);
	free(by_id);
	free(by_address);
	return err;
}

/* Where table @t's register @reg_id is: on the table's axis, else the first in file order. */
static int dict_table_reg(const ax_dict *d, const struct ax_dict_table *t, const char *role,
                          const char *reg_id, size_t *out)
{
	const ax_reg *r;

	if (ax_dict_find(d, reg_id, t->axis, &r) < 0) {
		if (t->axis >= 0)
			return ax__error_set(AX_EFORMAT,
			                     "table '%s': no %s register '%s' on axis %d in "
			                     "dictionary '%s'",
			                     t->id, role, reg_id, t->axis, ax_dict_source(d));
		return ax__error_set(AX_EFORMAT,
		                     "table '%s': no %s register '%s' in dictionary '%s'", t->id,
		                     role, reg_id, ax_dict_source(d));
	}
	*out = (size_t)(r - d->regs);
	return 0;
}

/* ----- ranges ----------------------------------------------------------------------------- */

/* Where strtoll()/strtoull() start: "0x" after an optional sign means hex, else decimal. */
static int range_base(const char *text)
{
	while (*text == ' ' || *text == '\t')
		text++;
	if (*text == '+' || *text == '-')
		text++;
	return text[0] == '0' && (text[1] == 'x' || text[1] == 'X') ? 16 : 10;
}

/* Only blanks after a number; a bound with anything else is not a number. */
static int range_rest_blank(const char *end)
{
	while (*end == ' ' || *end == '\t')
		end++;
	return *end == '\0';
}

static int range_parse_s64(const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, range_base(text));
	if (end == text || errno == ERANGE || !range_rest_blank(end))
		return 0;
	*out = v;
	return 1;
}

static int range_parse_u64(const char *text, uint64_t *out)
{
	const char *p = text;
	char *end;
	unsigned long long v;

	/* strtoull() takes "-1" as the largest value: a negative bound is not one. */
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '-')
		return 0;
	errno = 0;
	v = strtoull(text, &end, range_base(text));
	if (end == text || errno == ERANGE || !range_rest_blank(end))
		return 0;
	*out = v;
	return 1;
}

/*
 * Float bounds are compared at the register's precision: "0.1" as a double
 * is below 0.1f, which would refuse the bound itself.
 */
static int range_parse_float(const char *text, float *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(text, &end);
	if (end == text || errno == ERANGE || isnan(d) || !range_rest_blank(end))
		return 0;
	if (d > FLT_MAX)
		*out = INFINITY;
	else if (d < -FLT_MAX)
		*out = -INFINITY;
	else
		*out = (float)d;
	return 1;
}

/*
 * @r's range as numbers of its type into *kind, *lo, *hi. A range that does
 * not parse, or is upside down, is the file's mistake: it must not make the
 * register unwritable, so it becomes AX__RANGE_NONE.
 */
static void dict_range_parse(const struct ax_reg *r, uint8_t *kind, union ax__range_bound *lo,
                             union ax__range_bound *hi)
{
	*kind = AX__RANGE_NONE;
	if (!r->range_min || !r->range_max)
		return;
	switch (r->dtype) {
	case AX_DTYPE_S8:
	case AX_DTYPE_S16:
	case AX_DTYPE_S32:
	case AX_DTYPE_S64:
		if (range_parse_s64(r->range_min, &lo->s) &&
		    range_parse_s64(r->range_max, &hi->s) && lo->s <= hi->s)
			*kind = AX__RANGE_S64;
		break;
	case AX_DTYPE_U8:
	case AX_DTYPE_U16:
	case AX_DTYPE_U32:
	case AX_DTYPE_U64:
		if (range_parse_u64(r->range_min, &lo->u) &&
		    range_parse_u64(r->range_max, &hi->u) && lo->u <= hi->u)
			*kind = AX__RANGE_U64;
		break;
	case AX_DTYPE_FLOAT:
		if (range_parse_float(r->range_min, &lo->f) &&
		    range_parse_float(r->range_max, &hi->f) && lo->f <= hi->f)
			*kind = AX__RANGE_FLOAT;
		break;
	default:
		break; /* str, bytes, bool: a range means nothing */
	}
}

int ax__reg_range_outside(const struct ax_reg *r, const uint8_t *b, size_t len)
{
	union ax__range_bound lo = r->range_lo, hi = r->range_hi;
	uint8_t kind = r->range_kind;
	uint64_t u;

	if (kind == AX__RANGE_UNPARSED)
		dict_range_parse(r, &kind, &lo, &hi);
	if (len > 8)
		len = 8;
	u = ax__le_get(b, len);
	switch (kind) {
	case AX__RANGE_S64:
		if (len && len < 8 && (u >> (8 * len - 1)) & 1)
			u |= ~UINT64_C(0) << (8 * len); /* sign-extend */
		return (int64_t)u < lo.s || (int64_t)u > hi.s;
	case AX__RANGE_U64:
		return u < lo.u || u > hi.u;
	case AX__RANGE_FLOAT: {
		uint32_t bits = (uint32_t)u;
		float v;

		memcpy(&v, &bits, sizeof(v));
		return !(v >= lo.f && v <= hi.f); /* NaN is in no range */
	}
	default:
		return 0;
	}
}

int ax__dict_seal(ax_dict *d)
{
	int err;

	AX_ASSERT_ARG(d);
	if (d->sealed)
		return 0;
	err = ax__dict_index(d);
	if (err < 0)
		return err;
	/* Checked on every write: parse the text once, here. */
	for (size_t i = 0; i < d->n_regs; i++) {
		struct ax_reg *r = &d->regs[i];

		dict_range_parse(r, &r->range_kind, &r->range_lo, &r->range_hi);
		r->unreachable =
		        d->identity.addr_space == AX_ADDR_MCB &&
		        (r->subnode > AX_MCB_MAX_SUBNODE || r->address > AX_MCB_MAX_ADDRESS);
	}
	for (size_t i = 0; i < d->n_tables; i++) {
		struct ax_dict_table *t = &d->tables[i];

		err = dict_table_reg(d, t, "index", t->index_id, &t->index_reg);
		if (err < 0)
			return err;
		err = dict_table_reg(d, t, "value", t->value_id, &t->value_reg);
		if (err < 0)
			return err;
	}
	d->sealed = 1;
	return 0;
}

/* ----- lifetime --------------------------------------------------------------------------- */

static void dict_reg_free(struct ax_reg *r)
{
	free(r->id);
	free(r->units);
	free(r->cyclic);
	free(r->address_type);
	free(r->description);
	free(r->category);
	free(r->subcategory);
	for (size_t i = 0; i < r->n_labels; i++) {
		free(r->labels[i].lang);
		free(r->labels[i].text);
	}
	free(r->labels);
	free(r->range_min);
	free(r->range_max);
	free(r->def);
	for (size_t i = 0; i < r->n_enums; i++)
		free(r->enums[i].label);
	free(r->enums);
	for (size_t i = 0; i < r->n_bitfields; i++)
		free(r->bitfields[i].name);
	free(r->bitfields);
}

/* Copes with a half-built dictionary: every count covers only finished entries. */
static void dict_destroy(ax_dict *d)
{
	/* A pooled dictionary's entries own nothing of their own: the pool blocks hold it all. */
	size_t n_regs = d->pool ? 0 : d->n_regs, n_categories = d->pool ? 0 : d->n_categories;
	size_t n_errors = d->pool ? 0 : d->n_errors, n_tables = d->pool ? 0 : d->n_tables;

	for (size_t i = 0; i < n_regs; i++)
		dict_reg_free(&d->regs[i]);
	free(d->regs);
	for (size_t i = 0; i < n_categories; i++) {
		free(d->categories[i].id);
		free(d->categories[i].label);
		free(d->categories[i].parent);
	}
	free(d->categories);
	for (size_t i = 0; i < n_errors; i++) {
		free(d->errors[i].text);
		free(d->errors[i].type);
		free(d->errors[i].module);
	}
	free(d->errors);
	for (size_t i = 0; i < n_tables; i++) {
		free(d->tables[i].id);
		free(d->tables[i].index_id);
		free(d->tables[i].value_id);
	}
	free(d->tables);
	free(d->pool);
	for (size_t i = 0; i < sizeof(d->pool_items) / sizeof(d->pool_items[0]); i++)
		free(d->pool_items[i]);
	for (size_t i = 0; i < d->n_warnings; i++)
		free(d->warnings[i]);
	free(d->warnings);
	free(d->by_id);
	free(d->by_address);
	free(d->by_code);
	free(d->part_number);
	free(d->firmware_version);
	free(d->interface);
	free(d->family);
	free(d->name);
	free(d->source);
	free(d);
}

ax_dict *ax_dict_ref(const ax_dict *dict)
{
	/* Sealed dictionaries never change; only the count does (always heap, never const). */
	ax_dict *d = (ax_dict *)dict;

	if (d)
		atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
	return d;
}

ax_dict *ax_dict_unref(ax_dict *dict)
{
	/* acq_rel: the last owner sees every write made before the others let go. */
	if (dict && atomic_fetch_sub_explicit(&dict->refs, 1, memory_order_acq_rel) == 1)
		dict_destroy(dict);
	return NULL;
}

/* ----- dictionary queries ----------------------------------------------------------------- */

const ax_dict_identity *ax_dict_identity_get(const ax_dict *dict)
{
	return dict ? &dict->identity : NULL;
}

const char *ax_dict_source(const ax_dict *dict)
{
	return dict && dict->source ? dict->source : dict_empty;
}

size_t ax_dict_reg_count(const ax_dict *dict)
{
	return dict ? dict->n_regs : 0;
}

const ax_reg *ax_dict_reg_at(const ax_dict *dict, size_t index)
{
	if (!dict || index >= dict->n_regs)
		return NULL;
	return &dict->regs[index];
}

static int dict_check_sealed(const ax_dict *dict)
{
	if (!dict->indexed)
		return ax__error_set(AX_EINVAL, "dictionary '%s' is not sealed: no lookups yet",
		                     ax_dict_source(dict));
	return 0;
}

/* First position in by_id whose (id, subnode) is not below the key (subnode -1: any). */
static size_t dict_lower_id(const ax_dict *dict, const char *id, int subnode)
{
	size_t lo = 0, hi = dict->n_regs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ax_reg *r = &dict->regs[dict->by_id[mid]];
		int c = strcmp(r->id, id);

		if (c == 0)
			c = subnode < 0 ? 1 : (int)r->subnode - subnode;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ax_dict_find(const ax_dict *dict, const char *id, int subnode, const ax_reg **out)
{
	const struct ax_reg *best = NULL;
	size_t pos;
	int err;

	AX_ASSERT_ARG(dict);
	AX_ASSERT_ARG(id);
	AX_ASSERT_ARG(out);
	err = dict_check_sealed(dict);
	if (err < 0)
		return err;

	pos = dict_lower_id(dict, id, subnode);
	if (subnode >= 0) {
		if (pos < dict->n_regs) {
			const struct ax_reg *r = &dict->regs[dict->by_id[pos]];

			if (strcmp(r->id, id) == 0 && (int)r->subnode == subnode)
				best = r;
		}
	} else {
		/*
		 * The equal-id run is sorted by subnode, not file order; it holds
		 * one entry per axis at most in real files, so a walk is cheap.
		 */
		for (; pos < dict->n_regs; pos++) {
			const struct ax_reg *r = &dict->regs[dict->by_id[pos]];

			if (strcmp(r->id, id) != 0)
				break;
			if (!best || r < best)
				best = r;
		}
	}
	if (!best) {
		if (subnode >= 0)
			return ax__error_set(AX_ENOTFOUND,
			                     "no register '%s' on subnode %d in dictionary '%s'",
			                     id, subnode, ax_dict_source(dict));
		return ax__error_set(AX_ENOTFOUND, "no register '%s' in dictionary '%s'", id,
		                     ax_dict_source(dict));
	}
	*out = best;
	return 0;
}

int ax_dict_find_address(const ax_dict *dict, unsigned subnode, uint32_t address,
                         const ax_reg **out)
{
	size_t lo = 0, hi;
	int err;

	AX_ASSERT_ARG(dict);
	AX_ASSERT_ARG(out);
	err = dict_check_sealed(dict);
	if (err < 0)
		return err;

	hi = dict->n_regs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ax_reg *r = &dict->regs[dict->by_address[mid]];

		if (r->subnode < subnode || (r->subnode == subnode && r->address < address))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < dict->n_regs) {
		const struct ax_reg *r = &dict->regs[dict->by_address[lo]];

		if (r->subnode == subnode && r->address == address) {
			*out = r;
			return 0;
		}
	}
	return ax__error_set(AX_ENOTFOUND,
	                     "no register at subnode %u address 0x%04X in dictionary '%s'", subnode,
	                     (unsigned)address, ax_dict_source(dict));
}

size_t ax_dict_category_count(const ax_dict *dict)
{
	return dict ? dict->n_categories : 0;
}

int ax_dict_category_at(const ax_dict *dict, size_t index, const char **id_out,
                        const char **label_out)
{
	AX_ASSERT_ARG(dict);
	if (index >= dict->n_categories)
		return ax__error_set(AX_ENOTFOUND, "no category %zu (the dictionary has %zu)",
		                     index, dict->n_categories);
	if (id_out)
		*id_out = dict->categories[index].id;
	if (label_out)
		*label_out = dict->categories[index].label;
	return 0;
}

size_t ax_dict_error_count(const ax_dict *dict)
{
	return dict ? dict->n_errors : 0;
}

int ax_dict_error_at(const ax_dict *dict, size_t index, uint32_t *code_out, const char **text_out)
{
	AX_ASSERT_ARG(dict);
	if (index >= dict->n_errors)
		return ax__error_set(AX_ENOTFOUND, "no error entry %zu (the dictionary has %zu)",
		                     index, dict->n_errors);
	if (code_out)
		*code_out = dict->errors[index].code;
	if (text_out)
		*text_out = dict->errors[index].text;
	return 0;
}

/* Position of error @code in dict->errors, or -1. Needs the indexes. */
static ptrdiff_t dict_error_find(const ax_dict *dict, uint32_t code)
{
	size_t lo = 0, hi;

	if (!dict || !dict->indexed)
		return -1;
	hi = dict->n_errors;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dict->errors[dict->by_code[mid]].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < dict->n_errors && dict->errors[dict->by_code[lo]].code == code)
		return (ptrdiff_t)dict->by_code[lo];
	return -1;
}

const char *ax_dict_error_text(const ax_dict *dict, uint32_t code)
{
	ptrdiff_t i = dict_error_find(dict, code);

	return i < 0 ? NULL : dict->errors[i].text;
}

static void dict_error_entry(const struct ax_dict_error *e, ax_dict_error_entry *out)
{
	out->code = e->code;
	out->text = e->text;
	out->type = e->type ? e->type : dict_empty;
	out->module = e->module ? e->module : dict_empty;
}

int ax_dict_error_entry_at(const ax_dict *dict, size_t index, ax_dict_error_entry *out)
{
	AX_ASSERT_ARG(dict);
	AX_ASSERT_ARG(out);
	if (index >= dict->n_errors)
		return ax__error_set(AX_ENOTFOUND, "no error entry %zu (the dictionary has %zu)",
		                     index, dict->n_errors);
	dict_error_entry(&dict->errors[index], out);
	return 0;
}

int ax_dict_error_lookup(const ax_dict *dict, uint32_t code, ax_dict_error_entry *out)
{
	ptrdiff_t i;

	AX_ASSERT_ARG(dict);
	AX_ASSERT_ARG(out);
	i = dict_error_find(dict, code);
	if (i < 0)
		return ax__error_set(AX_ENOTFOUND, "dictionary '%s' names no error 0x%08" PRIX32,
		                     ax_dict_source(dict), code);
	dict_error_entry(&dict->errors[i], out);
	return 0;
}

/* ----- tables ----------------------------------------------------------------------------- */

size_t ax_dict_table_count(const ax_dict *dict)
{
	return dict ? dict->n_tables : 0;
}

/* Until the seal a table's registers are names only: no table is visible before. */
static int dict_check_tables(const ax_dict *dict)
{
	if (!dict->sealed)
		return ax__error_set(AX_EINVAL, "dictionary '%s' is not sealed: no tables yet",
		                     ax_dict_source(dict));
	return 0;
}

static int dict_table_get(const ax_dict *dict, size_t index, const struct ax_dict_table **out)
{
	int err;

	AX_ASSERT_ARG(dict);
	err = dict_check_tables(dict);
	if (err < 0)
		return err;
	if (index >= dict->n_tables)
		return ax__error_set(AX_ENOTFOUND, "no table %zu (dictionary '%s' has %zu)", index,
		                     ax_dict_source(dict), dict->n_tables);
	*out = &dict->tables[index];
	return 0;
}

int ax_dict_table_at(const ax_dict *dict, size_t index, const char **id_out, int *axis_out,
                     const ax_reg **index_reg_out, const ax_reg **value_reg_out)
{
	const struct ax_dict_table *t = NULL;
	int err = dict_table_get(dict, index, &t);

	if (err < 0)
		return err;
	if (id_out)
		*id_out = t->id;
	if (axis_out)
		*axis_out = t->axis;
	if (index_reg_out)
		*index_reg_out = &dict->regs[t->index_reg];
	if (value_reg_out)
		*value_reg_out = &dict->regs[t->value_reg];
	return 0;
}

int ax_dict_table_find(const ax_dict *dict, const char *id, int axis, size_t *index_out)
{
	int err;

	AX_ASSERT_ARG(dict);
	AX_ASSERT_ARG(id);
	AX_ASSERT_ARG(index_out);
	err = dict_check_tables(dict);
	if (err < 0)
		return err;
	/* Drives have a handful of tables: a walk beats keeping an index. */
	for (size_t i = 0; i < dict->n_tables; i++) {
		const struct ax_dict_table *t = &dict->tables[i];

		if (strcmp(t->id, id) == 0 && (axis < 0 || t->axis == axis)) {
			*index_out = i;
			return 0;
		}
	}
	if (axis >= 0)
		return ax__error_set(AX_ENOTFOUND, "no table '%s' on axis %d in dictionary '%s'",
		                     id, axis, ax_dict_source(dict));
	return ax__error_set(AX_ENOTFOUND, "no table '%s' in dictionary '%s'", id,
	                     ax_dict_source(dict));
}

/* A Range bound as the file gives it: decimal, optional '-', nothing else. */
static int dict_parse_i64(const char *s, int64_t *out)
{
	const char *p = s[0] == '-' ? s + 1 : s;
	char *end;
	long long v;

	if (!(*p >= '0' && *p <= '9'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int ax_dict_table_entries(const ax_dict *dict, size_t index, int64_t *first_out,
                          uint64_t *count_out)
{
	const struct ax_dict_table *t = NULL;
	const struct ax_reg *r;
	int64_t lo, hi;
	int err = dict_table_get(dict, index, &t);

	if (err < 0)
		return err;
	r = &dict->regs[t->index_reg];
	if (!r->range_min || !r->range_max)
		return ax__error_set(AX_ERANGE,
		                     "table '%s': index register '%s' has no range, so the number "
		                     "of entries is unknown",
		                     t->id, r->id);
	if (dict_parse_i64(r->range_min, &lo) < 0 || dict_parse_i64(r->range_max, &hi) < 0)
		return ax__error_set(AX_ERANGE,
		                     "table '%s': index register '%s' has range '%s'..'%s', not "
		                     "64-bit integers",
		                     t->id, r->id, r->range_min, r->range_max);
	/* Drives take a negative index (usually -1) as "no entry selected". */
	if (lo < 0)
		lo = 0;
	if (hi < lo)
		return ax__error_set(AX_ERANGE,
		                     "table '%s': index register '%s' range '%s'..'%s' selects no "
		                     "entry",
		                     t->id, r->id, r->range_min, r->range_max);
	if (first_out)
		*first_out = lo;
	if (count_out)
		*count_out = (uint64_t)hi - (uint64_t)lo + 1;
	return 0;
}

/* ----- register getters ------------------------------------------------------------------- */

static const char *dict_str(const char *s)
{
	return s ? s : dict_empty;
}

const char *ax_reg_id(const ax_reg *reg)
{
	return reg ? dict_str(reg->id) : dict_empty;
}

unsigned ax_reg_subnode(const ax_reg *reg)
{
	return reg ? reg->subnode : 0;
}

uint32_t ax_reg_address(const ax_reg *reg)
{
	return reg ? reg->address : 0;
}

int ax_reg_dtype(const ax_reg *reg)
{
	return reg ? reg->dtype : AX_DTYPE_INVALID;
}

int ax_reg_access(const ax_reg *reg)
{
	return reg ? reg->access : 0;
}

int ax_reg_reachable(const ax_reg *reg)
{
	return reg && !reg->unreachable;
}

int ax_reg_monitoring(const ax_reg *reg, uint32_t *address_out, unsigned *subnode_out)
{
	if (!reg || !reg->mon_set)
		return 0;
	if (address_out)
		*address_out = reg->mon_address;
	if (subnode_out)
		*subnode_out = reg->mon_subnode;
	return 1;
}

const char *ax_reg_units(const ax_reg *reg)
{
	return reg ? dict_str(reg->units) : dict_empty;
}

const char *ax_reg_cyclic(const ax_reg *reg)
{
	return reg ? dict_str(reg->cyclic) : dict_empty;
}

const char *ax_reg_address_type(const ax_reg *reg)
{
	return reg ? dict_str(reg->address_type) : dict_empty;
}

const char *ax_reg_description(const ax_reg *reg)
{
	return reg ? dict_str(reg->description) : dict_empty;
}

const char *ax_reg_category(const ax_reg *reg)
{
	return reg ? dict_str(reg->category) : dict_empty;
}

const char *ax_reg_subcategory(const ax_reg *reg)
{
	return reg ? dict_str(reg->subcategory) : dict_empty;
}

const char *ax_reg_label(const ax_reg *reg, const char *lang)
{
	if (!reg || reg->n_labels == 0)
		return dict_empty;
	if (lang)
		for (size_t i = 0; i < reg->n_labels; i++)
			if (strcmp(reg->labels[i].lang, lang) == 0)
				return reg->labels[i].text;
	return reg->labels[0].text;
}

int ax_reg_range(const ax_reg *reg, const char **min_out, const char **max_out)
{
	if (!reg || !reg->range_min || !reg->range_max)
		return 0;
	if (min_out)
		*min_out = reg->range_min;
	if (max_out)
		*max_out = reg->range_max;
	return 1;
}

size_t ax_reg_default(const ax_reg *reg, const uint8_t **bytes_out)
{
	if (!reg || !reg->def) {
		if (bytes_out)
			*bytes_out = NULL;
		return 0;
	}
	if (bytes_out)
		*bytes_out = reg->def;
	return reg->def_len;
}

size_t ax_reg_enum_count(const ax_reg *reg)
{
	return reg ? reg->n_enums : 0;
}

int ax_reg_enum_at(const ax_reg *reg, size_t index, int64_t *value_out, const char **label_out)
{
	AX_ASSERT_ARG(reg);
	if (index >= reg->n_enums)
		return ax__error_set(AX_ENOTFOUND,
		                     "register '%s' has no enum entry %zu (it has %zu)", reg->id,
		                     index, reg->n_enums);
	if (value_out)
		*value_out = reg->enums[index].value;
	if (label_out)
		*label_out = reg->enums[index].label;
	return 0;
}

const char *ax_reg_enum_label(const ax_reg *reg, int64_t value)
{
	if (!reg)
		return NULL;
	for (size_t i = 0; i < reg->n_enums; i++)
		if (reg->enums[i].value == value)
			return reg->enums[i].label;
	return NULL;
}

size_t ax_reg_bitfield_count(const ax_reg *reg)
{
	return reg ? reg->n_bitfields : 0;
}

int ax_reg_bitfield_at(const ax_reg *reg, size_t index, const char **name_out, unsigned *start_out,
                       unsigned *end_out)
{
	AX_ASSERT_ARG(reg);
	if (index >= reg->n_bitfields)
		return ax__error_set(AX_ENOTFOUND, "register '%s' has no bitfield %zu (it has %zu)",
		                     reg->id, index, reg->n_bitfields);
	if (name_out)
		*name_out = reg->bitfields[index].name;
	if (start_out)
		*start_out = reg->bitfields[index].start;
	if (end_out)
		*end_out = reg->bitfields[index].end;
	return 0;
}

static int dict_bitfield_find(const ax_reg *reg, const char *name,
                              const struct ax_dict_bitfield **out)
{
	for (size_t i = 0; i < reg->n_bitfields; i++) {
		if (strcmp(reg->bitfields[i].name, name) == 0) {
			*out = &reg->bitfields[i];
			return 0;
		}
	}
	return ax__error_set(AX_ENOTFOUND, "register '%s' has no bitfield '%s'", reg->id, name);
}

/* All ones over the field's width; a 64-bit field would overflow a plain shift. */
static uint64_t dict_bitfield_mask(const struct ax_dict_bitfield *bf)
{
	unsigned width = (unsigned)bf->end - bf->start + 1;

	return width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
}

int ax_reg_bitfield_get(const ax_reg *reg, const char *name, uint64_t value, uint64_t *out)
{
	const struct ax_dict_bitfield *bf = NULL;
	int err;

	AX_ASSERT_ARG(reg);
	AX_ASSERT_ARG(name);
	AX_ASSERT_ARG(out);
	err = dict_bitfield_find(reg, name, &bf);
	if (err < 0)
		return err;
	*out = (value >> bf->start) & dict_bitfield_mask(bf);
	return 0;
}

int ax_reg_bitfield_set(const ax_reg *reg, const char *name, uint64_t value, uint64_t field,
                        uint64_t *out)
{
	const struct ax_dict_bitfield *bf = NULL;
	uint64_t mask;
	int err;

	AX_ASSERT_ARG(reg);
	AX_ASSERT_ARG(name);
	AX_ASSERT_ARG(out);
	err = dict_bitfield_find(reg, name, &bf);
	if (err < 0)
		return err;
	mask = dict_bitfield_mask(bf);
	if (field > mask)
		return ax__error_set(
		        AX_ERANGE,
		        "%llu does not fit bitfield '%s' of register '%s' (bits %u..%u, "
		        "max %llu)",
		        (unsigned long long)field, name, reg->id, bf->start, bf->end,
		        (unsigned long long)mask);
	*out = (value & ~(mask << bf->start)) | (field << bf->start);
	return 0;
}
