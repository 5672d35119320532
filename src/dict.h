/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_DICT_H
#define AXLINK_SRC_DICT_H

/*
 * The in-memory dictionary model behind axlink/dict.h, shared by the XDF
 * importer (xdf.c), the device database (db.c) and the lookups (dict.c).
 *
 * A dictionary is built once through the ax__dict_* builder calls below,
 * then sealed (ax__dict_seal builds the lookup indexes) and never changed:
 * readers need no lock. All strings are owned by the dictionary.
 */

#include <stdatomic.h>

#include "axlink/dict.h"
#include "axlink/value.h"

struct ax_dict_label {
	char *lang;
	char *text;
};

struct ax_dict_enum {
	int64_t value;
	char *label;
};

struct ax_dict_bitfield {
	char *name;
	uint8_t start, end; /* inclusive bit numbers, start <= end <= 63 */
};

struct ax_reg {
	char *id;
	uint8_t subnode;
	uint32_t address;
	uint8_t dtype;  /* ax_dtype */
	uint8_t access; /* AX_REG_* */
	char *units, *cyclic, *address_type, *description, *category, *subcategory;
	struct ax_dict_label *labels;
	size_t n_labels;
	char *range_min, *range_max; /* both NULL when no range */
	/*
	 * The range as numbers of the register's type, parsed once by
	 * ax__dict_seal (AX__RANGE_*): what a write is checked against.
	 */
	uint8_t range_kind;
	union ax__range_bound {
		int64_t s;
		uint64_t u;
		float f;
	} range_lo, range_hi;
	uint8_t *def; /* default value, little-endian; NULL when none */
	size_t def_len;
	struct ax_dict_enum *enums;
	size_t n_enums;
	struct ax_dict_bitfield *bitfields;
	size_t n_bitfields;
	/*
	 * 1 when a link of the dictionary's address space cannot carry the
	 * register (an MCB address past 12 bits, a subnode past 4): set by
	 * ax__dict_seal, which knows the space. Such a register is kept (the
	 * catalogue is the file's) but never put on the wire.
	 */
	uint8_t unreachable;
	/*
	 * Where monitoring and disturbance reach the register (ax_reg_monitoring):
	 * mon_set 1 with the monitoring address and subnode, 0 when it cannot be
	 * monitored. Set by the XDF import, kept by the database.
	 */
	uint8_t mon_set;
	uint8_t mon_subnode;
	uint16_t mon_address;
};

struct ax_dict_category {
	char *id;
	char *label;  /* default language */
	char *parent; /* NULL for a top-level category, else the parent's id */
};

struct ax_dict_error {
	uint32_t code;
	char *text;
	char *type;   /* XDF error_type, NULL when the file gives none */
	char *module; /* XDF affected_module, NULL when the file gives none */
};

/*
 * A table inside the drive reached through two registers: the index
 * register selects an entry, the value register reads or writes it.
 */
struct ax_dict_table {
	char *id;
	int axis;       /* the subnode the file gives the table, -1 when it gives none */
	char *index_id; /* XDF id_index */
	char *value_id; /* XDF id_value */
	size_t index_reg, value_reg; /* positions in regs, set by ax__dict_seal */
};

struct ax_dict {
	atomic_int refs;
	char *source;
	/* identity; the strings point at owned copies below */
	ax_dict_identity identity;
	char *part_number, *firmware_version, *interface, *family, *name;
	struct ax_reg *regs;
	size_t n_regs, cap_regs;
	struct ax_dict_category *categories;
	size_t n_categories, cap_categories;
	struct ax_dict_error *errors;
	size_t n_errors, cap_errors;
	struct ax_dict_table *tables;
	size_t n_tables, cap_tables;
	/*
	 * Built by ax__dict_index or ax__dict_seal: register indexes sorted by
	 * (id, subnode) and (subnode, address). indexed says they cover every
	 * register and error; an add after ax__dict_index clears it.
	 */
	size_t *by_id;
	size_t *by_address;
	size_t *by_code; /* errors sorted by code */
	int indexed;
	int sealed;
	/* what the import left out: registers skipped, one "file:line: ..." line per warning */
	size_t n_skipped;
	char **warnings;
	size_t n_warnings;
	/*
	 * Set by the device database's loader (db_image.c): the strings and
	 * defaults of the registers, categories, errors and tables point into
	 * @pool, the registers' labels, enums and bitfields into @pool_items
	 * (labels, enums, bitfields); each block is freed whole. Such a
	 * dictionary is filled once and sealed: never given to the builder.
	 */
	char *pool;
	void *pool_items[3];
};

/* A new empty dictionary (one reference); NULL when out of memory (error set). */
ax_dict *ax__dict_new(const char *source);

/*
 * Set identity strings (copied; NULL = ""). The numeric fields of
 * d->identity are set directly by the builder.
 */
int ax__dict_set_identity(ax_dict *d, const char *part_number, const char *firmware_version,
                          const char *interface, const char *family, const char *name);

/*
 * Append a register. *out points at the new entry, valid until the next
 * append; fill its fields with the ax__dict_reg_* helpers. The register's
 * id is copied.
 */
int ax__dict_add_reg(ax_dict *d, const char *id, unsigned subnode, uint32_t address, int dtype,
                     int access, struct ax_reg **out);
/* Set one of the register's optional strings (copied). */
int ax__dict_reg_set_str(struct ax_reg *r, char **field, const char *value);
int ax__dict_reg_add_label(struct ax_reg *r, const char *lang, const char *text);
int ax__dict_reg_set_range(struct ax_reg *r, const char *min, const char *max);
int ax__dict_reg_set_default(struct ax_reg *r, const uint8_t *bytes, size_t len);
int ax__dict_reg_add_enum(struct ax_reg *r, int64_t value, const char *label);
int ax__dict_reg_add_bitfield(struct ax_reg *r, const char *name, unsigned start, unsigned end);

int ax__dict_add_category(ax_dict *d, const char *id, const char *label, const char *parent);
/* Append an error (strings copied; @type and @module may be NULL: not given). */
int ax__dict_add_error(ax_dict *d, uint32_t code, const char *text, const char *type,
                       const char *module);
/*
 * Append a table (strings copied). @axis is -1 (none) or 0..255. Its
 * registers need not exist yet: ax__dict_seal looks them up.
 */
int ax__dict_add_table(ax_dict *d, const char *id, int axis, const char *index_id,
                       const char *value_id);
/* Record an import warning (copied); the importer also counts skipped registers in n_skipped. */
int ax__dict_add_warning(ax_dict *d, const char *text);

/*
 * Build the lookup indexes now, before sealing, so a builder can look up
 * what it added so far (ax_dict_find and ax_dict_find_address work until
 * the next register or error is added). The importer checks a table's
 * registers this way before it adds the table.
 */
int ax__dict_index(ax_dict *d);

/* ax_reg.range_kind */
enum {
	AX__RANGE_UNPARSED = 0, /* not sealed yet: parsed on each check */
	AX__RANGE_NONE,         /* no range, or one that means nothing for the type */
	AX__RANGE_S64,
	AX__RANGE_U64,
	AX__RANGE_FLOAT,
};

/*
 * 1 when the value in @b (@len bytes, little-endian, of @r's type) is
 * outside @r's range; 0 inside, or when the range does not apply: none,
 * a bound that is not a number of the type, min > max, a str or bytes
 * register. Registers of a sealed dictionary compare numbers parsed once.
 */
int ax__reg_range_outside(const struct ax_reg *r, const uint8_t *b, size_t len);

/*
 * Build the indexes (unless current), parse every register's range, flag
 * the registers the address space cannot reach (ax_reg.unreachable), find
 * every table's registers and freeze. Called once, after the last add. A
 * table whose index or value register is missing (on its axis, when it has
 * one) fails with AX_EFORMAT
 * naming both; the dictionary then stays unsealed.
 */
int ax__dict_seal(ax_dict *d);

#endif
