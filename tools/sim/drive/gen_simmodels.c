/* SPDX-License-Identifier: MIT */
/*
 * gen_simmodels OUT FILE.xdf...
 *
 * Build-time generator of the simulated models: reads each dictionary with
 * libaxlink's public API and writes OUT, a C file holding one register table
 * per model (see simmodels.h). The simulated drive cannot read dictionaries
 * itself, because the `virtual` plugin must not link libaxlink.
 *
 * One model per file: its ETH device, or else its first MCB device. A file
 * the simulator cannot serve (no MCB device, no axis, a behaviour register of
 * another type...) is skipped with a note; a file that does not load, two
 * models of one name, or no model at all fail the build. The output depends
 * only on the dictionaries: models sorted by name, registers by (subnode,
 * address), file names without their directory.
 */
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axlink/common.h"
#include "axlink/ctx.h"
#include "axlink/dict.h"
#include "axlink/error.h"
#include "axlink/plugin.h"
#include "axlink/value.h"
#include "simmodels.h"

#define GEN "gen_simmodels"

/* MCB frames carry the subnode in 4 bits and the address in 12. */
#define MCB_SUBNODE_MAX 15u
#define MCB_ADDRESS_MAX 0xFFFu

struct gen_model {
	const char *path;
	const char *base; /* path without its directory */
	ax_dict **dicts;  /* every device of the file */
	size_t n_dicts;
	const ax_dict *dict; /* the one simulated */
	char *name;
	const ax_reg **regs; /* sorted by (subnode, address) */
	size_t n_regs;
	const ax_dict *can;      /* its CANopen device, or NULL */
	const ax_reg **can_regs; /* those served, sorted by CANopen address */
	size_t n_can;
};

struct behaviour_reg {
	const char *name;
	int where;
	unsigned address;
	int dtype;
	int required;
};

static const struct behaviour_reg behaviour[] = {
#define GEN_BEHAVIOUR_ROW(name, where, address, dtype, required)                                   \
	{#name, where, address, dtype, required},
        SIMMODEL_BEHAVIOUR(GEN_BEHAVIOUR_ROW)
#undef GEN_BEHAVIOUR_ROW
};

static void model_release(struct gen_model *m)
{
	for (size_t i = 0; i < m->n_dicts; i++)
		m->dicts[i] = ax_dict_unref(m->dicts[i]);
	ax_free(m->dicts);
	free(m->name);
	free(m->regs);
	free(m->can_regs);
	memset(m, 0, sizeof(*m));
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int equal_nocase(const char *a, const char *b)
{
	for (; *a && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b); a++, b++)
		;
	return ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b);
}

/* The ax_dtype constant's name, or NULL for a type the simulator does not know. */
static const char *dtype_macro(int dtype)
{
	static const char *const names[] = {
	        [AX_DTYPE_U8] = "AX_DTYPE_U8",       [AX_DTYPE_S8] = "AX_DTYPE_S8",
	        [AX_DTYPE_U16] = "AX_DTYPE_U16",     [AX_DTYPE_S16] = "AX_DTYPE_S16",
	        [AX_DTYPE_U32] = "AX_DTYPE_U32",     [AX_DTYPE_S32] = "AX_DTYPE_S32",
	        [AX_DTYPE_U64] = "AX_DTYPE_U64",     [AX_DTYPE_S64] = "AX_DTYPE_S64",
	        [AX_DTYPE_FLOAT] = "AX_DTYPE_FLOAT", [AX_DTYPE_STR] = "AX_DTYPE_STR",
	        [AX_DTYPE_BOOL] = "AX_DTYPE_BOOL",   [AX_DTYPE_BYTES] = "AX_DTYPE_BYTES",
	};

	if (dtype <= 0 || (size_t)dtype >= sizeof(names) / sizeof(names[0]) || !names[dtype])
		return NULL;
	return names[dtype];
}

/* Bytes of @r's default once trailing zeros are dropped (the store starts zeroed). */
static size_t default_len(const ax_reg *r, const uint8_t **bytes_out)
{
	size_t n = ax_reg_default(r, bytes_out);

	while (n > 0 && (*bytes_out)[n - 1] == 0)
		n--;
	return n;
}

/* Room @r takes in a drive, or 0 when the simulator cannot hold its value. */
/* Kept in non-volatile memory: address_type NVM or NVM_CFG (not NVM_NONE). */
static int reg_is_nvm(const ax_reg *r)
{
	const char *t = ax_reg_address_type(r);

	return strcmp(t, "NVM") == 0 || strcmp(t, "NVM_CFG") == 0;
}

static size_t value_size(const ax_reg *r)
{
	const uint8_t *def;
	size_t n = default_len(r, &def);

	switch (ax_reg_dtype(r)) {
	case AX_DTYPE_STR:
		/* The value keeps a NUL after its text. */
		if (n >= AX_VALUE_MAX)
			return 0;
		return n + 1 > SIMMODEL_STR_SIZE ? n + 1 : SIMMODEL_STR_SIZE;
	case AX_DTYPE_BYTES:
		return AX_VALUE_MAX;
	default:
		/* Fixed size; 0 (refused) for an unknown type or an over-long default. */
		return n <= ax_dtype_size(ax_reg_dtype(r)) ? ax_dtype_size(ax_reg_dtype(r)) : 0;
	}
}

static int reg_order(const void *pa, const void *pb)
{
	const ax_reg *a = *(const ax_reg *const *)pa, *b = *(const ax_reg *const *)pb;

	if (ax_reg_subnode(a) != ax_reg_subnode(b))
		return ax_reg_subnode(a) < ax_reg_subnode(b) ? -1 : 1;
	if (ax_reg_address(a) != ax_reg_address(b))
		return ax_reg_address(a) < ax_reg_address(b) ? -1 : 1;
	return 0;
}

static int model_order(const void *pa, const void *pb)
{
	const struct gen_model *a = pa, *b = pb;

	return strcmp(a->name, b->name);
}

static const ax_reg *find_reg(const struct gen_model *m, unsigned subnode, unsigned address)
{
	size_t lo = 0, hi = m->n_regs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const ax_reg *r = m->regs[mid];

		if (ax_reg_subnode(r) < subnode ||
		    (ax_reg_subnode(r) == subnode && ax_reg_address(r) < address))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->n_regs && ax_reg_subnode(m->regs[lo]) == subnode &&
	    ax_reg_address(m->regs[lo]) == address)
		return m->regs[lo];
	return NULL;
}

static int skip(const struct gen_model *m, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Say why the model is not simulated; returns 1 (skipped). */
static int skip(const struct gen_model *m, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: not simulated: ", GEN, m->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The dictionary of @m the simulator serves: ETH first, else the first MCB one. */
static const ax_dict *pick_device(const struct gen_model *m)
{
	const ax_dict *first = NULL;

	for (size_t i = 0; i < m->n_dicts; i++) {
		const ax_dict_identity *id = ax_dict_identity_get(m->dicts[i]);

		if (id->addr_space != AX_ADDR_MCB)
			continue;
		if (equal_nocase(id->interface, "ETH"))
			return m->dicts[i];
		if (!first)
			first = m->dicts[i];
	}
	return first;
}

/* The model's CANopen dictionary (CAN first, else the first CANopen one), or NULL. */
static const ax_dict *pick_can_device(const struct gen_model *m)
{
	const ax_dict *first = NULL;

	for (size_t i = 0; i < m->n_dicts; i++) {
		const ax_dict_identity *id = ax_dict_identity_get(m->dicts[i]);

		if (id->addr_space != AX_ADDR_CANOPEN)
			continue;
		if (equal_nocase(id->interface, "CAN"))
			return m->dicts[i];
		if (!first)
			first = m->dicts[i];
	}
	return first;
}

/* The MCB twin of CANopen register @c: same id, same subnode; NULL when none. */
static const ax_reg *can_twin(const struct gen_model *m, const ax_reg *c)
{
	const ax_reg *r = NULL;

	if (ax_dict_find(m->dict, ax_reg_id(c), (int)ax_reg_subnode(c), &r) < 0) {
		ax_error_clear();
		return NULL;
	}
	return r;
}

/* An operation mode register (DRV_OP_CMD / DRV_OP_VALUE on an axis). */
static int is_mode_reg(const ax_reg *r)
{
	return ax_reg_subnode(r) >= 1 && (ax_reg_address(r) == 0x014 || ax_reg_address(r) == 0x015);
}

/* Whether the simulated CANopen node can serve @c; says why not on stderr. */
static int can_servable(const struct gen_model *m, const ax_reg *c)
{
	const ax_reg *twin = can_twin(m, c);
	int dtype = ax_reg_dtype(c);

	if (twin) {
		if (ax_reg_dtype(twin) == dtype)
			return 1;
		if (is_mode_reg(twin) && ax_reg_dtype(twin) == AX_DTYPE_U16 && dtype == AX_DTYPE_S8)
			return 1;
		fprintf(stderr, "%s: %s: CAN %s is %s, its MCB register %s: not served\n", GEN,
		        m->path, ax_reg_id(c), ax_dtype_name(dtype),
		        ax_dtype_name(ax_reg_dtype(twin)));
		return 0;
	}
	if (dtype != AX_DTYPE_STR && dtype != AX_DTYPE_BYTES && ax_dtype_size(dtype) > 0 &&
	    ax_dtype_size(dtype) <= 4)
		return 1;
	fprintf(stderr, "%s: %s: CAN %s has no MCB register and is no small integer: not served\n",
	        GEN, m->path, ax_reg_id(c));
	return 0;
}

static int can_order(const void *pa, const void *pb)
{
	const ax_reg *a = *(const ax_reg *const *)pa, *b = *(const ax_reg *const *)pb;

	if (ax_reg_address(a) != ax_reg_address(b))
		return ax_reg_address(a) < ax_reg_address(b) ? -1 : 1;
	return 0;
}

/* Collect the CAN interface of @m; -1 when out of memory or two share an object. */
static int model_load_can(struct gen_model *m)
{
	size_t n;

	m->can = pick_can_device(m);
	if (!m->can)
		return 0;
	n = ax_dict_reg_count(m->can);
	m->can_regs = calloc(n ? n : 1, sizeof(*m->can_regs));
	if (!m->can_regs) {
		fprintf(stderr, "%s: out of memory\n", GEN);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const ax_reg *c = ax_dict_reg_at(m->can, i);

		if (ax_reg_address(c) <= 0xFFFFFF && can_servable(m, c))
			m->can_regs[m->n_can++] = c;
	}
	qsort(m->can_regs, m->n_can, sizeof(*m->can_regs), can_order);
	for (size_t i = 1; i < m->n_can; i++)
		if (can_order(&m->can_regs[i - 1], &m->can_regs[i]) == 0) {
			fprintf(stderr, "%s: %s: %s and %s share CANopen object 0x%04X:%u\n", GEN,
			        m->path, ax_reg_id(m->can_regs[i - 1]), ax_reg_id(m->can_regs[i]),
			        (unsigned)(ax_reg_address(m->can_regs[i]) >> 8),
			        (unsigned)(ax_reg_address(m->can_regs[i]) & 0xFF));
			return -1;
		}
	return 0;
}

/* The registers the drive gives a meaning to must have the type it expects. */
static int check_behaviour(const struct gen_model *m, unsigned axes)
{
	for (size_t b = 0; b < sizeof(behaviour) / sizeof(behaviour[0]); b++) {
		const struct behaviour_reg *br = &behaviour[b];
		unsigned first = br->where == SIMMODEL_ON_AXIS ? 1 : 0;
		unsigned last = br->where == SIMMODEL_ON_COCO   ? 0
		                : br->where == SIMMODEL_ON_AXIS ? axes
		                                                : MCB_SUBNODE_MAX;

		for (unsigned sub = first; sub <= last; sub++) {
			const ax_reg *r = find_reg(m, sub, br->address);

			if (!r && br->required)
				return skip(m, "no %s register at %u:0x%03X", br->name, sub,
				            br->address);
			if (r && ax_reg_dtype(r) != br->dtype)
				return skip(m, "%s (%u:0x%03X) is %s, the simulator needs %s",
				            ax_reg_id(r), sub, br->address,
				            ax_dtype_name(ax_reg_dtype(r)),
				            ax_dtype_name(br->dtype));
		}
	}
	return 0;
}

/*
 * Load @m->path. Returns 0 when the model is ready, 1 when it is skipped
 * (said on stderr), -1 when the build must stop (said on stderr).
 */
static int model_load(struct gen_model *m, ax_ctx *ctx)
{
	const ax_dict_identity *id;
	const char *name;
	size_t n;
	int err;

	m->base = base_name(m->path);
	err = ax_dict_load_file(&m->dicts, &m->n_dicts, m->path, ctx);
	if (err < 0) {
		fprintf(stderr, "%s: %s\n", GEN, ax_error_last());
		return -1;
	}
	m->dict = pick_device(m);
	if (!m->dict)
		return skip(m, "no ETH or EoE (MCB) device");
	id = ax_dict_identity_get(m->dict);

	/* Vendor files leave out the name: the file name stands in. */
	name = id->name[0] ? id->name : m->base;
	n = strlen(name);
	if (!id->name[0] && n > 4 && equal_nocase(name + n - 4, ".xdf"))
		n -= 4;
	m->name = malloc(n + 1);
	if (!m->name) {
		fprintf(stderr, "%s: out of memory\n", GEN);
		return -1;
	}
	memcpy(m->name, name, n);
	m->name[n] = '\0';
	if (!n)
		return skip(m, "empty model name");
	if (id->axes < 1 || id->axes > MCB_SUBNODE_MAX)
		return skip(m, "%u axes (the simulator serves 1..%u)", id->axes, MCB_SUBNODE_MAX);

	n = ax_dict_reg_count(m->dict);
	m->regs = calloc(n ? n : 1, sizeof(*m->regs));
	if (!m->regs) {
		fprintf(stderr, "%s: out of memory\n", GEN);
		return -1;
	}
	/* Registers no MCB frame can address stay in the catalogue, not in the drive. */
	m->n_regs = 0;
	for (size_t i = 0; i < n; i++)
		if (ax_reg_reachable(ax_dict_reg_at(m->dict, i)))
			m->regs[m->n_regs++] = ax_dict_reg_at(m->dict, i);
	qsort(m->regs, m->n_regs, sizeof(*m->regs), reg_order);

	for (size_t i = 0; i < m->n_regs; i++) {
		const ax_reg *r = m->regs[i];

		if (ax_reg_subnode(r) > MCB_SUBNODE_MAX || ax_reg_address(r) > MCB_ADDRESS_MAX)
			return skip(m, "%s at %u:0x%X is outside the MCB space", ax_reg_id(r),
			            ax_reg_subnode(r), (unsigned)ax_reg_address(r));
		if (i > 0 && reg_order(&m->regs[i - 1], &m->regs[i]) == 0)
			return skip(m, "%s and %s share %u:0x%03X", ax_reg_id(m->regs[i - 1]),
			            ax_reg_id(r), ax_reg_subnode(r), (unsigned)ax_reg_address(r));
		if (!dtype_macro(ax_reg_dtype(r)))
			return skip(m, "%s has no known type", ax_reg_id(r));
		if (!value_size(r))
			return skip(m, "the default of %s does not fit its %s value", ax_reg_id(r),
			            ax_dtype_name(ax_reg_dtype(r)));
	}
	if (check_behaviour(m, id->axes))
		return 1;
	return model_load_can(m);
}

/* ---- output ------------------------------------------------------------ */

/* @s as a C string literal; octal escapes keep any byte unambiguous. */
static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7F && *p != '?')
			fputc(*p, f);
		else
			fprintf(f, "\\%03o", *p);
	}
	fputc('"', f);
}

static const char *access_macro(int access)
{
	switch (access & AX_REG_RW) {
	case AX_REG_READ:
		return "SIMMODEL_READ";
	case AX_REG_WRITE:
		return "SIMMODEL_WRITE";
	case AX_REG_RW:
		return "SIMMODEL_READ | SIMMODEL_WRITE";
	default:
		return "0";
	}
}

static void put_model_tables(FILE *f, const struct gen_model *m, size_t index)
{
	size_t blob = 0, offset = 0, col = 0;

	fprintf(f, "/* %s, from %s: %zu registers. */\n", m->name, m->base, m->n_regs);
	fprintf(f, "static const uint8_t model%zu_defaults[] = {", index);
	for (size_t i = 0; i < m->n_regs; i++) {
		const uint8_t *def;
		size_t n = default_len(m->regs[i], &def);

		for (size_t j = 0; j < n; j++, col++)
			fprintf(f, "%s0x%02X,", col % 12 ? " " : "\n\t", def[j]);
	}
	if (!col)
		fputs("\n\t0x00,", f); /* C has no empty arrays */
	fputs("\n};\n\n", f);

	fprintf(f, "static const simmodel_reg model%zu_regs[] = {\n", index);
	fputs("\t/* id, address, subnode, dtype, access, flags, size, offset, default, mon_key "
	      "*/\n",
	      f);
	for (size_t i = 0; i < m->n_regs; i++) {
		const ax_reg *r = m->regs[i];
		const uint8_t *def;
		size_t n = default_len(r, &def), size = value_size(r);
		uint32_t mon_address = 0;
		unsigned mon_subnode = 0;
		int mon = ax_reg_monitoring(r, &mon_address, &mon_subnode);

		fputs("\t{ ", f);
		put_string(f, ax_reg_id(r));
		fprintf(f, ", 0x%03X, %u, %s, %s, %s%s, %zu, %zu, %zu, ",
		        (unsigned)ax_reg_address(r), ax_reg_subnode(r),
		        dtype_macro(ax_reg_dtype(r)), access_macro(ax_reg_access(r)),
		        reg_is_nvm(r) ? "SIMMODEL_NVM" : "0", mon ? " | SIMMODEL_MON" : "", size,
		        offset, n);
		if (n)
			fprintf(f, "model%zu_defaults + %zu, ", index, blob);
		else
			fputs("NULL, ", f);
		fprintf(f, "0x%04X },\n", mon ? (unsigned)(mon_address | mon_subnode << 12) : 0u);
		blob += n;
		offset += size;
	}
	fputs("};\n\n", f);

	/* The error texts, in file order: what the drive's codes mean. */
	fprintf(f, "static const simmodel_error model%zu_errors[] = {\n", index);
	fputs("\t/* code, text, type, module */\n", f);
	for (size_t i = 0; i < ax_dict_error_count(m->dict); i++) {
		ax_dict_error_entry e;

		if (ax_dict_error_entry_at(m->dict, i, &e) < 0)
			continue;
		fprintf(f, "\t{ 0x%08" PRIX32 "u, ", e.code);
		put_string(f, e.text);
		fputs(", ", f);
		put_string(f, e.type);
		fputs(", ", f);
		put_string(f, e.module);
		fputs(" },\n", f);
	}
	if (!ax_dict_error_count(m->dict))
		fputs("\t{ 0, NULL, NULL, NULL }, /* C has no empty arrays */\n", f);
	fputs("};\n\n", f);
}

/* The CAN interface of @m: one simmodel_canobj per object it serves. */
static void put_can_table(FILE *f, const struct gen_model *m, size_t index)
{
	if (!m->n_can)
		return;
	fprintf(f, "/* %s: %zu CANopen objects. */\n", m->name, m->n_can);
	fprintf(f, "static const simmodel_canobj model%zu_can[] = {\n", index);
	fputs("\t/* id, index, subindex, subnode, address, dtype, access, flags, default */\n", f);
	for (size_t i = 0; i < m->n_can; i++) {
		const ax_reg *c = m->can_regs[i];
		const ax_reg *twin = can_twin(m, c);
		uint32_t def = 0;
		const char *flags = "0";

		if (!twin) {
			const uint8_t *bytes;
			size_t n = ax_reg_default(c, &bytes);

			for (size_t k = 0; k < n && k < 4; k++)
				def |= (uint32_t)bytes[k] << (8 * k);
			flags = "SIMMODEL_CAN_LOCAL";
		} else if (ax_reg_dtype(twin) != ax_reg_dtype(c)) {
			flags = "SIMMODEL_CAN_MODE";
		}
		fputs("\t{ ", f);
		put_string(f, ax_reg_id(c));
		fprintf(f, ", 0x%04X, %u, %u, 0x%03X, %s, %s, %s, 0x%08" PRIX32 "u },\n",
		        (unsigned)(ax_reg_address(c) >> 8), (unsigned)(ax_reg_address(c) & 0xFF),
		        ax_reg_subnode(c), twin ? (unsigned)ax_reg_address(twin) : 0u,
		        dtype_macro(ax_reg_dtype(c)), access_macro(ax_reg_access(c)), flags, def);
	}
	fputs("};\n\n", f);
}

static size_t store_size(const struct gen_model *m)
{
	size_t total = 0;

	for (size_t i = 0; i < m->n_regs; i++)
		total += value_size(m->regs[i]);
	return total;
}

static int write_output(const char *out, const struct gen_model *models, size_t n)
{
	size_t len = strlen(out);
	char *tmp = malloc(len + 5);
	FILE *f;
	int bad;

	if (!tmp) {
		fprintf(stderr, "%s: out of memory\n", GEN);
		return -1;
	}
	memcpy(tmp, out, len);
	memcpy(tmp + len, ".tmp", 5);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "%s: cannot write '%s'\n", GEN, tmp);
		free(tmp);
		return -1;
	}
	fputs("/* Generated by gen_simmodels from", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s", i ? "," : "", models[i].base);
	fputs(": do not edit. */\n#include \"simmodels.h\"\n\n", f);
	for (size_t i = 0; i < n; i++) {
		put_model_tables(f, &models[i], i);
		put_can_table(f, &models[i], i);
	}

	fputs("const simdrive_model simmodel_models[] = {\n", f);
	for (size_t i = 0; i < n; i++) {
		const ax_dict_identity *id = ax_dict_identity_get(models[i].dict);

		fputs("\t{ .name = ", f);
		put_string(f, models[i].name);
		fprintf(f, ", .product_code = 0x%08Xu, .revision = 0x%08Xu, .axes = %u,\n",
		        id->product_code, id->revision, id->axes);
		fputs("\t  .sw_version = ", f);
		put_string(f, id->firmware_version);
		/* Vendor files may not say: ours is the simulator's. */
		fprintf(f, ", .vendor_id = 0x%08Xu },\n",
		        id->vendor_id ? id->vendor_id : SIMDRIVE_VENDOR_ID);
	}
	fputs("\t{ .name = NULL },\n};\n\n", f);

	fputs("const simmodel_table simmodel_tables[] = {\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "\t{ model%zu_regs, %zu, %zu, ", i, models[i].n_regs,
		        store_size(&models[i]));
		put_string(f, models[i].base);
		fprintf(f, ", model%zu_errors, %zu, ", i, ax_dict_error_count(models[i].dict));
		if (models[i].n_can)
			fprintf(f, "model%zu_can, %zu },\n", i, models[i].n_can);
		else
			fputs("NULL, 0 },\n", f);
	}
	fputs("\t{ NULL, 0, 0, NULL, NULL, 0, NULL, 0 },\n};\n", f);

	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "%s: cannot write '%s'\n", GEN, tmp);
		(void)remove(tmp);
		free(tmp);
		return -1;
	}
	/* Readers never see half a file: make re-runs only on complete output. */
	if (rename(tmp, out) != 0) {
		fprintf(stderr, "%s: cannot rename '%s' to '%s'\n", GEN, tmp, out);
		(void)remove(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int main(int argc, char **argv)
{
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct gen_model *models;
	size_t n = 0;
	ax_ctx *ctx = NULL;
	int status = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OUT.c FILE.xdf...\n", GEN);
		return 2;
	}
	models = calloc((size_t)argc, sizeof(*models));
	/* The context only carries the importer's warnings (skipped registers) to stderr. */
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	if (!models || ax_ctx_new(&ctx, &opts) < 0) {
		fprintf(stderr, "%s: cannot start: %s\n", GEN, ax_error_last());
		goto done;
	}
	for (int i = 2; i < argc; i++) {
		struct gen_model *m = &models[n];
		int r;

		m->path = argv[i];
		r = model_load(m, ctx);
		if (r < 0)
			goto done;
		if (r > 0) {
			model_release(m);
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			if (equal_nocase(models[j].name, m->name)) {
				fprintf(stderr, "%s: %s and %s both describe model '%s'\n", GEN,
				        models[j].path, m->path, m->name);
				n++;
				goto done;
			}
		}
		n++;
	}
	if (!n) {
		fprintf(stderr, "%s: no dictionary the simulator can serve\n", GEN);
		goto done;
	}
	qsort(models, n, sizeof(*models), model_order);
	if (write_output(argv[1], models, n) == 0)
		status = 0;
done:
	if (models)
		for (size_t i = 0; i <= n && i < (size_t)argc; i++)
			model_release(&models[i]);
	free(models);
	(void)ax_ctx_unref(ctx);
	return status;
}
