/* SPDX-License-Identifier: MIT */
/*
 * Dictionaries: the model's builder and lookups (internal ax__dict_* calls:
 * this test links the static twin of the core), tables, and the XDF
 * importer, on hand-written fixtures in tests/data and on files generated at
 * run time (size limit, FIFO-backed external entity, a large dictionary for
 * timing).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "axlink/ctx.h"
#include "axlink/dict.h"
#include "axlink/error.h"
#include "axlink/plugin.h"
#include "axlink/value.h"
#include "support/timing.h"
#include "dict.h"
#include "xdf.h"

#define DATA(name) AXLINK_TEST_DATA_DIR "/" name

/* ----- helpers ---------------------------------------------------------------------------- */

struct loaded {
	ax_dict **dicts;
	size_t n;
};

static struct loaded load_ok(const char *path, ax_ctx *ctx)
{
	struct loaded l = {NULL, 0};
	int n = ax_dict_load_file(&l.dicts, &l.n, path, ctx);

	if (n <= 0)
		fail_msg("%s: %d (%s)", path, n, ax_error_last());
	assert_int_equal((size_t)n, l.n);
	return l;
}

static void loaded_free(struct loaded *l)
{
	for (size_t i = 0; i < l->n; i++)
		ax_dict_unref(l->dicts[i]);
	ax_free(l->dicts);
}

/* Load a file that must be refused with @want; the out params stay untouched. */
static void load_refused(const char *path, int want, const char *const *needles)
{
	ax_dict **dicts = (ax_dict **)(uintptr_t)0x1;
	size_t n = 77;
	int err = ax_dict_load_file(&dicts, &n, path, NULL);

	if (err != want)
		fail_msg("%s: got %d, want %d (%s)", path, err, want, ax_error_last());
	assert_ptr_equal(dicts, (ax_dict **)(uintptr_t)0x1);
	assert_int_equal(n, 77);
	for (; needles && *needles; needles++)
		if (!strstr(ax_error_last(), *needles))
			fail_msg("%s: message '%s' lacks '%s'", path, ax_error_last(), *needles);
}

static const ax_reg *find(const ax_dict *d, const char *id, int subnode)
{
	const ax_reg *r = NULL;
	int err = ax_dict_find(d, id, subnode, &r);

	if (err != 0)
		fail_msg("%s/%d: %d (%s)", id, subnode, err, ax_error_last());
	return r;
}

/* Line (1-based) of the first line of @path holding @needle. */
static long line_of(const char *path, const char *needle)
{
	char buf[1024];
	long line = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (strstr(buf, needle)) {
			fclose(f);
			return line;
		}
	}
	fclose(f);
	fail_msg("'%s' not in %s", needle, path);
	return 0;
}

static void assert_default(const ax_reg *r, size_t len, const uint8_t *want)
{
	const uint8_t *bytes = NULL;
	size_t got = ax_reg_default(r, &bytes);

	if (got != len)
		fail_msg("%s/%u: default of %zu bytes, want %zu", ax_reg_id(r), ax_reg_subnode(r),
		         got, len);
	if (len == 0) {
		assert_null(bytes);
		return;
	}
	assert_memory_equal(bytes, want, len);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *temp_dir(void)
{
	char tmpl[] = "/tmp/axlink-dict-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char *copy;

	assert_non_null(dir);
	copy = malloc(strlen(dir) + 1);
	assert_non_null(copy);
	memcpy(copy, dir, strlen(dir) + 1);
	return copy;
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A register row: identity, placement, type and the optional strings. */
struct reg_case {
	const char *id;
	unsigned subnode;
	uint32_t address;
	int dtype;
	int access;
	const char *units, *cyclic, *address_type, *category, *subcategory;
	size_t def_len;
	uint8_t def[8];
};

static void check_regs(const ax_dict *d, const struct reg_case *cases, size_t n)
{
	assert_int_equal(ax_dict_reg_count(d), n);
	for (size_t i = 0; i < n; i++) {
		const struct reg_case *c = &cases[i];
		const ax_reg *r = ax_dict_reg_at(d, i);

		assert_non_null(r);
		if (strcmp(ax_reg_id(r), c->id) != 0 || ax_reg_subnode(r) != c->subnode ||
		    ax_reg_address(r) != c->address || ax_reg_dtype(r) != c->dtype ||
		    ax_reg_access(r) != c->access)
			fail_msg("row %zu %s: got %s/%u @0x%X dtype %d access %d", i, c->id,
			         ax_reg_id(r), ax_reg_subnode(r), (unsigned)ax_reg_address(r),
			         ax_reg_dtype(r), ax_reg_access(r));
		assert_string_equal(ax_reg_units(r), c->units);
		assert_string_equal(ax_reg_cyclic(r), c->cyclic);
		assert_string_equal(ax_reg_address_type(r), c->address_type);
		assert_string_equal(ax_reg_category(r), c->category);
		assert_string_equal(ax_reg_subcategory(r), c->subcategory);
		assert_default(r, c->def_len, c->def);
	}
	assert_null(ax_dict_reg_at(d, n));
}

/* Every register is found again by (id, subnode) and by (subnode, address). */
static void check_self_lookups(const ax_dict *d)
{
	for (size_t i = 0; i < ax_dict_reg_count(d); i++) {
		const ax_reg *r = ax_dict_reg_at(d, i), *got = NULL;

		assert_int_equal(ax_dict_find(d, ax_reg_id(r), (int)ax_reg_subnode(r), &got), 0);
		assert_ptr_equal(got, r);
		got = NULL;
		assert_int_equal(
		        ax_dict_find_address(d, ax_reg_subnode(r), ax_reg_address(r), &got), 0);
		assert_ptr_equal(got, r);
	}
}

/* ----- version 2 -------------------------------------------------------------------------- */

/* clang-format off */
static const struct reg_case v2_regs[] = {
	{ "DRV_ID_VENDOR_ID_COCO", 0, 0x6E0, AX_DTYPE_U32, AX_REG_READ,
	  "-", "CONFIG", "NVM_NONE", "IDENTIFICATION", "", 4, { 0x9c, 0x02, 0, 0 } },
	{ "DRV_ID_PRODUCT_CODE_COCO", 0, 0x6E1, AX_DTYPE_U32, AX_REG_READ,
	  "", "CONFIG", "NVM_NONE", "IDENTIFICATION", "", 4, { 0x64, 0x00, 0x01, 0x00 } },
	{ "DRV_ID_SERIAL", 0, 0x6E6, AX_DTYPE_STR, AX_REG_READ,
	  "", "", "", "IDENTIFICATION", "", 8, { 'S', 'N', '-', '0', '0', '4', '2', 0 } },
	{ "DRV_OP_CMD", 1, 0x014, AX_DTYPE_U16, AX_REG_RW,
	  "-", "CYCLIC_RX", "NVM_CFG", "TARGET", "", 2, { 3, 0 } },
	{ "CL_POS_FBK_VALUE", 1, 0x030, AX_DTYPE_S32, AX_REG_READ,
	  "cnt", "CYCLIC_TX", "", "MOTION", "", 4, { 0x18, 0xfc, 0xff, 0xff } },
	{ "PROF_MAX_VEL", 1, 0x0A8, AX_DTYPE_FLOAT, AX_REG_RW,
	  "rev/s", "CONFIG", "NVM", "MOTION", "PROFILER", 4, { 0x00, 0x00, 0xa4, 0x41 } },
	{ "DRV_STORE_ALL", 1, 0x0B0, AX_DTYPE_BOOL, AX_REG_WRITE,
	  "", "", "", "", "", 1, { 1 } },
	{ "DRV_U64_MAX", 1, 0x0B1, AX_DTYPE_U64, AX_REG_RW,
	  "", "", "", "", "", 8, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
	{ "DRV_S8_ENUM", 1, 0x0B2, AX_DTYPE_S8, AX_REG_RW,
	  "", "", "", "", "", 1, { 0xfe } },
	{ "DRV_OP_CMD", 2, 0x014, AX_DTYPE_U16, AX_REG_RW,
	  "", "CYCLIC_RX", "", "TARGET", "", 2, { 4, 0 } },
	{ "CL_POS_FBK_VALUE", 2, 0x030, AX_DTYPE_S32, AX_REG_READ,
	  "cnt", "CYCLIC_TX", "", "MOTION", "", 0, { 0 } },
};
/* clang-format on */

static void test_dict__v2_axes(void **state)
{
	struct loaded l = load_ok(DATA("v2_axes.xdf"), NULL);
	const ax_dict *d;
	const ax_dict_identity *id;
	const ax_reg *r;
	const char *s1, *s2;
	int64_t v;
	uint32_t code;

	(void)state;
	assert_int_equal(l.n, 1);
	d = l.dicts[0];
	id = ax_dict_identity_get(d);
	assert_int_equal(id->vendor_id, 668); /* from DRV_ID_VENDOR_ID_COCO's storage */
	assert_int_equal(id->product_code, 65636);
	assert_int_equal(id->revision, 0x10002);
	assert_string_equal(id->part_number, "AXT-2A");
	assert_string_equal(id->firmware_version, "1.4.2");
	assert_string_equal(id->interface, "ETH");
	assert_string_equal(id->family, "Orbit");
	assert_string_equal(id->name, "axtest-2a");
	assert_int_equal(id->addr_space, AX_ADDR_MCB);
	assert_int_equal(id->format_version, 2);
	assert_int_equal(id->axes, 2);
	assert_string_equal(ax_dict_source(d), DATA("v2_axes.xdf"));
	assert_int_equal(d->n_skipped, 0);
	assert_int_equal(d->n_warnings, 0);

	check_regs(d, v2_regs, sizeof(v2_regs) / sizeof(v2_regs[0]));
	check_self_lookups(d);

	/* Categories: default-language label even when another language comes first. */
	assert_int_equal(ax_dict_category_count(d), 4);
	assert_int_equal(ax_dict_category_at(d, 1, &s1, &s2), 0);
	assert_string_equal(s1, "TARGET");
	assert_string_equal(s2, "Target");
	assert_int_equal(ax_dict_category_at(d, 3, &s1, &s2), 0);
	assert_string_equal(s1, "PROFILER");
	assert_string_equal(s2, "Profiler");
	assert_string_equal(d->categories[3].parent, "MOTION");
	assert_null(d->categories[2].parent);
	assert_int_equal(ax_dict_category_at(d, 4, &s1, &s2), AX_ENOTFOUND);

	/* Errors: labels (en_US over es_ES), or the description attribute. */
	assert_int_equal(ax_dict_error_count(d), 3);
	assert_int_equal(ax_dict_error_at(d, 1, &code, &s1), 0);
	assert_int_equal(code, 0x2280);
	assert_string_equal(s1, "HW over current");
	assert_string_equal(ax_dict_error_text(d, 0x3280), "STO active, power stage off");
	assert_string_equal(ax_dict_error_text(d, 0x06010000), "Incorrect access type");
	assert_null(ax_dict_error_text(d, 0x3281));
	assert_int_equal(ax_dict_error_at(d, 3, &code, &s1), AX_ENOTFOUND);

	/* Labels per language, enums, ranges. */
	r = find(d, "DRV_OP_CMD", 1);
	assert_string_equal(ax_reg_label(r, "es_ES"), "Modo de operación");
	assert_string_equal(ax_reg_label(r, "en_US"), "Operation mode");
	assert_string_equal(ax_reg_label(r, NULL), "Operation mode");
	assert_string_equal(ax_reg_label(r, "fr_FR"), "Operation mode");
	assert_string_equal(ax_reg_description(r), "User requested mode of operation");
	assert_int_equal(ax_reg_enum_count(r), 3);
	assert_int_equal(ax_reg_enum_at(r, 2, &v, &s1), 0);
	assert_int_equal(v, 36);
	assert_string_equal(s1, "Cyclic position");
	assert_string_equal(ax_reg_enum_label(r, 3), "Velocity");
	assert_null(ax_reg_enum_label(r, 4));
	assert_int_equal(ax_reg_enum_at(r, 3, &v, &s1), AX_ENOTFOUND);
	assert_int_equal(ax_reg_range(r, &s1, &s2), 0);
	assert_string_equal(ax_reg_label(find(d, "DRV_OP_CMD", 2), "en_US"), "");

	r = find(d, "DRV_S8_ENUM", 1);
	assert_string_equal(ax_reg_enum_label(r, -2), "Minus two");
	r = find(d, "PROF_MAX_VEL", -1);
	assert_int_equal(ax_reg_range(r, &s1, &s2), 1);
	assert_string_equal(s1, "0");
	assert_string_equal(s2, "1000.5");
	r = find(d, "DRV_U64_MAX", 1);
	assert_int_equal(ax_reg_range(r, &s1, &s2), 1);
	assert_string_equal(s2, "18446744073709551615"); /* kept as text: no double rounding */
	loaded_free(&l);
}

static void test_dict__v2_can(void **state)
{
	struct loaded l = load_ok(DATA("v2_can.xdf"), NULL);
	const ax_dict *d = l.dicts[0];
	const ax_reg *r = NULL;

	(void)state;
	assert_int_equal(ax_dict_identity_get(d)->addr_space, AX_ADDR_CANOPEN);
	assert_int_equal(ax_dict_identity_get(d)->format_version, 2); /* "2.1" */
	assert_string_equal(ax_dict_identity_get(d)->interface, "CAN");
	assert_int_equal(ax_dict_reg_count(d), 2);
	assert_int_equal(ax_dict_find_address(d, 0, 0x580F00, &r), 0);
	assert_string_equal(ax_reg_id(r), "DRV_DIAG_ERROR_LAST_COM");
	assert_int_equal(ax_dict_find_address(d, 1, 0x215100, &r), 0);
	assert_string_equal(ax_reg_id(r), "COMMU_ANGLE_SENSOR");
	/* 0x1000000 is past index << 8 | subindex: skipped. */
	assert_int_equal(d->n_skipped, 1);
	assert_int_equal(d->n_warnings, 1);
	assert_non_null(strstr(d->warnings[0], "register 'TOO_WIDE': address '0x1000000'"));
	loaded_free(&l);
}

/* ----- version 3 -------------------------------------------------------------------------- */

/* clang-format off */
static const struct reg_case v3_eth_regs[] = {
	{ "DRV_AXIS_NUMBER", 0, 0x0A0, AX_DTYPE_U16, AX_REG_READ,
	  "cnt", "CONFIG", "NVM_NONE", "IDENTIFICATION", "", 2, { 2, 0 } },
	{ "DRV_STATE_CONTROL", 1, 0x010, AX_DTYPE_U16, AX_REG_RW,
	  "none", "CYCLIC_RX", "NVM_NONE", "TARGET", "", 2, { 1, 0 } },
	{ "CL_VEL_FBK_VALUE", 1, 0x031, AX_DTYPE_FLOAT, AX_REG_READ,
	  "rev/s", "CYCLIC_TX", "", "OTHERS", "", 4, { 0x00, 0x00, 0xa0, 0x41 } },
	{ "CL_POS_TARGET", 1, 0x040, AX_DTYPE_S32, AX_REG_RW,
	  "cnt", "CYCLIC_RX", "", "TARGET", "", 4, { 0x18, 0xfc, 0xff, 0xff } },
	{ "DRV_OP_CMD", 1, 0x014, AX_DTYPE_U16, AX_REG_RW,
	  "", "", "", "TARGET", "", 2, { 0x24, 0 } },
	{ "DRV_WIDE_FLAGS", 1, 0x050, AX_DTYPE_U64, AX_REG_RW,
	  "", "", "", "", "", 8, { 0, 0, 0, 0, 0, 0, 0, 0x80 } },
	{ "DRV_ID_SERIAL", 0, 0x6E6, AX_DTYPE_STR, AX_REG_READ,
	  "", "", "", "IDENTIFICATION", "", 4, { 'A', 'X', 'L', 0 } },
	{ "DRV_BLOB", 0, 0x6F0, AX_DTYPE_BYTES, AX_REG_RW,
	  "", "", "", "", "", 4, { 0xde, 0xad, 0xbe, 0xef } },
	{ "x'); DROP TABLE registers;--", 1, 0x0F0, AX_DTYPE_U8, AX_REG_READ,
	  "", "", "", "OTHERS", "", 0, { 0 } },
	{ "DRV_STATE_CONTROL", 2, 0x010, AX_DTYPE_U16, AX_REG_RW,
	  "", "", "", "TARGET", "", 2, { 0, 0 } },
};

static const struct reg_case v3_ecat_regs[] = {
	{ "CIA301_IDENTITY_COUNT", 0, 0x101800, AX_DTYPE_U8, AX_REG_READ,
	  "", "", "", "", "", 1, { 4 } },
	{ "DRV_ID_VENDOR_ID_COCO", 0, 0x101801, AX_DTYPE_U32, AX_REG_READ,
	  "", "", "", "IDENTIFICATION", "", 4, { 0x9c, 0x02, 0, 0 } },
	{ "DRV_STATE_CONTROL", 1, 0x604000, AX_DTYPE_U16, AX_REG_RW,
	  "", "CYCLIC_RX", "", "TARGET", "", 2, { 6, 0 } },
	{ "COMMU_ANGLE_SENSOR", 1, 0x215100, AX_DTYPE_U16, AX_REG_RW,
	  "", "", "", "", "", 2, { 4, 0 } },
	{ "DRV_STATE_CONTROL", 2, 0x684000, AX_DTYPE_U16, AX_REG_RW,
	  "", "", "", "", "", 2, { 0, 0 } },
};
/* clang-format on */

static void test_dict__v3_multi(void **state)
{
	struct loaded l = load_ok(DATA("v3_multi.xdf"), NULL);
	const ax_dict *eth, *ecat;
	const ax_dict_identity *id;
	const ax_reg *r;
	const char *s1, *s2;
	char want[512];
	uint32_t code;
	float f;

	(void)state;
	assert_int_equal(l.n, 2);
	eth = l.dicts[0];
	ecat = l.dicts[1];

	id = ax_dict_identity_get(eth);
	assert_int_equal(id->vendor_id, 0x29C);
	assert_int_equal(id->product_code, 0x381);
	assert_int_equal(id->revision, 0x50000);
	assert_string_equal(id->part_number, "AXT-NET-E");
	assert_string_equal(id->firmware_version, "2.8.0");
	assert_string_equal(id->interface, "ETH");
	assert_string_equal(id->family, "");
	assert_string_equal(id->name, "");
	assert_int_equal(id->addr_space, AX_ADDR_MCB);
	assert_int_equal(id->format_version, 3);
	assert_int_equal(id->axes, 2); /* Motion subnodes 1 and 2; 4 is Safety */
	check_regs(eth, v3_eth_regs, sizeof(v3_eth_regs) / sizeof(v3_eth_regs[0]));
	check_self_lookups(eth);

	id = ax_dict_identity_get(ecat);
	assert_int_equal(id->vendor_id, 0x29C); /* no VendorId: the register's default */
	assert_int_equal(id->product_code, 897);
	assert_int_equal(id->revision, 327680);
	assert_string_equal(id->interface, "ECAT");
	assert_int_equal(id->addr_space, AX_ADDR_CANOPEN);
	assert_int_equal(id->format_version, 3);
	assert_int_equal(id->axes, 2);
	check_regs(ecat, v3_ecat_regs, sizeof(v3_ecat_regs) / sizeof(v3_ecat_regs[0]));
	check_self_lookups(ecat);

	/* Decoded defaults: u16 "0100" = 1, float "0000a041" = 20.0, s32 -1000. */
	r = find(eth, "CL_VEL_FBK_VALUE", 1);
	memcpy(&f, eth->regs[2].def, sizeof(f));
	assert_true(f == 20.0f);
	assert_ptr_equal(r, &eth->regs[2]);

	/* Labels in two languages, the file's default first when asked for nothing. */
	r = find(eth, "DRV_STATE_CONTROL", 1);
	assert_string_equal(ax_reg_label(r, "es_ES"), "Palabra de control");
	assert_string_equal(ax_reg_label(r, NULL), "Control word");
	assert_string_equal(ax_reg_description(r), "Drive state machine control word");

	/* The SQL-looking id is an id like any other. */
	r = find(eth, "x'); DROP TABLE registers;--", -1);
	assert_int_equal(ax_reg_address(r), 0x0F0);

	r = find(eth, "DRV_OP_CMD", 1);
	assert_string_equal(ax_reg_enum_label(r, 36), "Cyclic position");
	r = find(eth, "CL_POS_TARGET", 1);
	assert_int_equal(ax_reg_range(r, &s1, &s2), 1);
	assert_string_equal(s1, "-2147483648");
	assert_string_equal(s2, "2147483647");

	/* Shared categories in both; the device's own errors, else the body's. */
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(ax_dict_category_count(l.dicts[i]), 3);
		assert_int_equal(ax_dict_category_at(l.dicts[i], 1, &s1, &s2), 0);
		assert_string_equal(s1, "IDENTIFICATION");
		assert_string_equal(s2, "Product identification");
	}
	assert_int_equal(ax_dict_error_count(eth), 1);
	assert_string_equal(ax_dict_error_text(eth, 0x3280), "STO is active");
	assert_null(ax_dict_error_text(eth, 0x2280));
	assert_int_equal(ax_dict_error_count(ecat), 2);
	assert_int_equal(ax_dict_error_at(ecat, 1, &code, &s1), 0);
	assert_int_equal(code, 0x7380);
	assert_string_equal(s1, "Absolute encoder error");
	assert_string_equal(ax_dict_error_text(ecat, 0x2280), "HW over current");

	/* The unknown device element is reported once, against the first dictionary. */
	assert_int_equal(ax_dict_table_count(eth), 0); /* no Tables element: none */
	assert_int_equal(ax_dict_table_count(ecat), 0);
	assert_int_equal(eth->n_warnings, 1);
	snprintf(want, sizeof(want), "%s:%ld: unknown device element 'FooDevice', ignoring",
	         DATA("v3_multi.xdf"), line_of(DATA("v3_multi.xdf"), "<FooDevice"));
	assert_string_equal(eth->warnings[0], want);
	assert_int_equal(ecat->n_warnings, 0);
	assert_int_equal(eth->n_skipped + ecat->n_skipped, 0);

	/* Bitfields as the file gives them. */
	r = find(eth, "DRV_STATE_CONTROL", 1);
	assert_int_equal(ax_reg_bitfield_count(r), 3);
	{
		const char *name;
		unsigned start, end;

		assert_int_equal(ax_reg_bitfield_at(r, 2, &name, &start, &end), 0);
		assert_string_equal(name, "OPERATION_MODE_SPECIFIC");
		assert_int_equal(start, 8);
		assert_int_equal(end, 15);
		assert_int_equal(ax_reg_bitfield_at(r, 3, &name, &start, &end), AX_ENOTFOUND);
	}
	loaded_free(&l);
}

/* ----- lookups ---------------------------------------------------------------------------- */

static void test_dict__lookups(void **state)
{
	struct loaded l = load_ok(DATA("v2_axes.xdf"), NULL);
	const ax_dict *d = l.dicts[0];
	const ax_reg *r, *untouched = (const ax_reg *)(uintptr_t)0x1;

	(void)state;
	/* Any subnode: the first in file order (subnode 1 comes before 2 here). */
	r = find(d, "DRV_OP_CMD", -1);
	assert_ptr_equal(r, ax_dict_reg_at(d, 3));
	r = find(d, "DRV_OP_CMD", 2);
	assert_ptr_equal(r, ax_dict_reg_at(d, 9));
	r = find(d, "DRV_ID_SERIAL", 0);
	assert_ptr_equal(r, ax_dict_reg_at(d, 2));

	r = untouched;
	assert_int_equal(ax_dict_find(d, "DRV_OP_CMD", 3, &r), AX_ENOTFOUND);
	assert_ptr_equal(r, untouched);
	assert_non_null(strstr(ax_error_last(), "'DRV_OP_CMD' on subnode 3"));
	assert_int_equal(ax_dict_find(d, "DRV_OP_CM", -1, &r), AX_ENOTFOUND);
	assert_int_equal(ax_dict_find(d, "DRV_OP_CMDX", -1, &r), AX_ENOTFOUND);
	assert_int_equal(ax_dict_find(d, "", -1, &r), AX_ENOTFOUND);
	assert_int_equal(ax_dict_find(d, "ZZZ", 1, &r), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "'ZZZ'"));
	assert_ptr_equal(r, untouched);

	assert_int_equal(ax_dict_find_address(d, 1, 0x030, &r), 0);
	assert_ptr_equal(r, ax_dict_reg_at(d, 4));
	assert_int_equal(ax_dict_find_address(d, 2, 0x030, &r), 0);
	assert_ptr_equal(r, ax_dict_reg_at(d, 10));
	r = untouched;
	assert_int_equal(ax_dict_find_address(d, 0, 0x030, &r), AX_ENOTFOUND);
	assert_int_equal(ax_dict_find_address(d, 3, 0x030, &r), AX_ENOTFOUND);
	assert_int_equal(ax_dict_find_address(d, 1, 0x031, &r), AX_ENOTFOUND);
	assert_int_equal(ax_dict_find_address(d, 1, 0x02F, &r), AX_ENOTFOUND);
	assert_ptr_equal(r, untouched);
	assert_non_null(strstr(ax_error_last(), "subnode 1 address 0x002F"));

	assert_int_equal(ax_dict_find(NULL, "X", 1, &r), AX_EINVAL);
	assert_int_equal(ax_dict_find(d, NULL, 1, &r), AX_EINVAL);
	assert_int_equal(ax_dict_find_address(d, 1, 0x30, NULL), AX_EINVAL);
	loaded_free(&l);
}

/* Many registers with colliding prefixes, added in a scrambled order. */
static void test_dict__lookups_many(void **state)
{
	enum { N = 3000 };
	ax_dict *d = ax__dict_new("built");
	struct ax_reg *r;
	char id[32];

	(void)state;
	assert_non_null(d);
	for (unsigned i = 0; i < N; i++) {
		unsigned k = (i * 7919u) % N; /* 7919 is prime: a permutation of 0..N-1 */

		snprintf(id, sizeof(id), "REG_%u", k / 3);
		assert_int_equal(
		        ax__dict_add_reg(d, id, k % 3, 0x100 + k / 3, AX_DTYPE_U32, AX_REG_RW, &r),
		        0);
	}
	assert_int_equal(ax__dict_seal(d), 0);
	assert_int_equal(ax__dict_seal(d), 0); /* again: no change */
	check_self_lookups(d);
	for (unsigned k = 0; k < N; k++) {
		const ax_reg *got;
		size_t first = SIZE_MAX;

		snprintf(id, sizeof(id), "REG_%u", k / 3);
		assert_int_equal(ax_dict_find(d, id, (int)(k % 3), &got), 0);
		assert_int_equal(ax_reg_subnode(got), k % 3);
		assert_int_equal(ax_reg_address(got), 0x100 + k / 3);
		/* subnode -1 gives the earliest of the three in file order */
		for (size_t i = 0; i < N; i++)
			if (strcmp(d->regs[i].id, id) == 0) {
				first = i;
				break;
			}
		assert_int_equal(ax_dict_find(d, id, -1, &got), 0);
		assert_ptr_equal(got, &d->regs[first]);
		k += 2; /* one id per round */
	}
	ax_dict_unref(d);
}

/* ----- bitfields -------------------------------------------------------------------------- */

static void test_dict__bitfields(void **state)
{
	struct loaded l = load_ok(DATA("v3_multi.xdf"), NULL);
	const ax_reg *cw = find(l.dicts[0], "DRV_STATE_CONTROL", 1);
	const ax_reg *wide = find(l.dicts[0], "DRV_WIDE_FLAGS", 1);
	uint64_t out;

	(void)state;
	assert_int_equal(ax_reg_bitfield_get(cw, "SWITCH_ON", 0x0001, &out), 0);
	assert_int_equal(out, 1);
	assert_int_equal(ax_reg_bitfield_get(cw, "SWITCH_ON", 0xFFFE, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(ax_reg_bitfield_get(cw, "OPERATION_MODE_SPECIFIC", 0xAB0F, &out), 0);
	assert_int_equal(out, 0xAB);

	/* 8-bit field: 0xFF fits, 0x100 does not. */
	assert_int_equal(ax_reg_bitfield_set(cw, "OPERATION_MODE_SPECIFIC", 0x000F, 0xFF, &out), 0);
	assert_int_equal(out, 0xFF0F);
	assert_int_equal(ax_reg_bitfield_set(cw, "OPERATION_MODE_SPECIFIC", 0xFF0F, 0, &out), 0);
	assert_int_equal(out, 0x000F);
	out = 99;
	assert_int_equal(ax_reg_bitfield_set(cw, "OPERATION_MODE_SPECIFIC", 0, 0x100, &out),
	                 AX_ERANGE);
	assert_int_equal(out, 99);
	assert_non_null(strstr(ax_error_last(), "bits 8..15, max 255"));
	/* 1-bit field: 1 fits, 2 does not. */
	assert_int_equal(ax_reg_bitfield_set(cw, "VOLTAGE_ENABLE", 0, 1, &out), 0);
	assert_int_equal(out, 0x2);
	assert_int_equal(ax_reg_bitfield_set(cw, "VOLTAGE_ENABLE", 0, 2, &out), AX_ERANGE);

	/* Bits 0..63: the whole word. Bit 63 alone. Bits 0..3. */
	assert_int_equal(ax_reg_bitfield_set(wide, "ALL", 0, UINT64_MAX, &out), 0);
	assert_true(out == UINT64_MAX);
	assert_int_equal(ax_reg_bitfield_get(wide, "ALL", UINT64_C(0x8000000000000001), &out), 0);
	assert_true(out == UINT64_C(0x8000000000000001));
	assert_int_equal(ax_reg_bitfield_set(wide, "TOP", 1, 1, &out), 0);
	assert_true(out == UINT64_C(0x8000000000000001));
	assert_int_equal(ax_reg_bitfield_get(wide, "TOP", UINT64_C(0x7FFFFFFFFFFFFFFF), &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(ax_reg_bitfield_set(wide, "TOP", 0, 2, &out), AX_ERANGE);
	assert_int_equal(ax_reg_bitfield_set(wide, "LOW_NIBBLE", UINT64_MAX, 0, &out), 0);
	assert_true(out == UINT64_C(0xFFFFFFFFFFFFFFF0));
	assert_int_equal(ax_reg_bitfield_set(wide, "LOW_NIBBLE", 0, 15, &out), 0);
	assert_int_equal(out, 15);
	assert_int_equal(ax_reg_bitfield_set(wide, "LOW_NIBBLE", 0, 16, &out), AX_ERANGE);

	assert_int_equal(ax_reg_bitfield_get(cw, "NOPE", 0, &out), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "'NOPE'"));
	assert_int_equal(ax_reg_bitfield_set(cw, "NOPE", 0, 0, &out), AX_ENOTFOUND);
	loaded_free(&l);
}

/* ----- builder ---------------------------------------------------------------------------- */

static void test_dict__builder_limits(void **state)
{
	ax_dict *d = ax__dict_new(NULL);
	struct ax_reg *r;
	const ax_reg *found;
	static const uint8_t two[2] = {1, 2}, three[3] = {1, 2, 3};
	uint8_t big[AX_VALUE_MAX + 1] = {0};

	(void)state;
	assert_non_null(d);
	/* Identity strings are "" until set, source too. */
	assert_string_equal(ax_dict_identity_get(d)->part_number, "");
	assert_string_equal(ax_dict_identity_get(d)->name, "");
	assert_string_equal(ax_dict_source(d), "");
	assert_int_equal(ax__dict_set_identity(d, "P", NULL, "ETH", NULL, "n"), 0);
	assert_string_equal(ax_dict_identity_get(d)->part_number, "P");
	assert_string_equal(ax_dict_identity_get(d)->family, "");

	assert_int_equal(ax__dict_add_reg(d, "R", 255, 1, AX_DTYPE_U16, AX_REG_RW, &r), 0);
	assert_int_equal(ax__dict_add_reg(d, "R", 256, 1, AX_DTYPE_U16, AX_REG_RW, &r), AX_ERANGE);
	assert_int_equal(ax__dict_add_reg(d, "R", 1, 1, 0, AX_REG_RW, &r), AX_EINVAL);
	assert_int_equal(ax__dict_add_reg(d, "R", 1, 1, 13, AX_REG_RW, &r), AX_EINVAL);
	assert_int_equal(ax__dict_add_reg(d, "R", 1, 1, AX_DTYPE_U16, 0, &r), AX_EINVAL);
	assert_int_equal(ax__dict_add_reg(d, "R", 1, 1, AX_DTYPE_U16, 4, &r), AX_EINVAL);
	assert_int_equal(ax__dict_add_reg(d, "R", 1, 1, AX_DTYPE_U16, AX_REG_READ, &r), 0);
	assert_int_equal(ax_dict_reg_count(d), 2);

	/* Bitfield bounds: start <= end <= 63. */
	assert_int_equal(ax__dict_reg_add_bitfield(r, "A", 0, 63), 0);
	assert_int_equal(ax__dict_reg_add_bitfield(r, "B", 63, 63), 0);
	assert_int_equal(ax__dict_reg_add_bitfield(r, "C", 0, 0), 0);
	assert_int_equal(ax__dict_reg_add_bitfield(r, "D", 0, 64), AX_EINVAL);
	assert_int_equal(ax__dict_reg_add_bitfield(r, "E", 64, 64), AX_EINVAL);
	assert_int_equal(ax__dict_reg_add_bitfield(r, "F", 5, 4), AX_EINVAL);
	assert_int_equal(ax_reg_bitfield_count(r), 3);

	/* Defaults: exactly the type's size; str/bytes up to AX_VALUE_MAX. */
	assert_int_equal(ax__dict_reg_set_default(r, two, 2), 0);
	assert_int_equal(ax__dict_reg_set_default(r, three, 3), AX_ETYPE);
	assert_default(r, 2, two);
	assert_int_equal(ax__dict_reg_set_default(r, NULL, 0), 0);
	assert_default(r, 0, NULL);
	assert_int_equal(ax__dict_add_reg(d, "S", 1, 2, AX_DTYPE_BYTES, AX_REG_RW, &r), 0);
	assert_int_equal(ax__dict_reg_set_default(r, big, AX_VALUE_MAX), 0);
	assert_int_equal(ax__dict_reg_set_default(r, big, AX_VALUE_MAX + 1), AX_ETOOBIG);
	assert_int_equal(ax_reg_default(r, NULL), AX_VALUE_MAX);

	/* Empty getters never give NULL strings. */
	assert_string_equal(ax_reg_units(r), "");
	assert_string_equal(ax_reg_label(r, "en_US"), "");
	assert_string_equal(ax_reg_id(NULL), "");
	assert_int_equal(ax_reg_range(r, NULL, NULL), 0);

	/* No lookups before sealing, no changes after. */
	assert_int_equal(ax_dict_find(d, "R", 1, &found), AX_EINVAL);
	assert_null(ax_dict_error_text(d, 1));
	assert_int_equal(ax__dict_add_error(d, 1, "one", NULL, NULL), 0);
	assert_int_equal(ax__dict_add_error(d, 1, "duplicate", NULL, NULL), 0);
	assert_int_equal(ax__dict_seal(d), 0);
	assert_string_equal(ax_dict_error_text(d, 1), "one"); /* the first of equal codes */
	assert_int_equal(ax__dict_add_reg(d, "T", 1, 3, AX_DTYPE_U8, AX_REG_RW, &r), AX_EINVAL);
	assert_int_equal(ax__dict_add_category(d, "C", "c", NULL), AX_EINVAL);
	assert_int_equal(ax__dict_add_error(d, 2, "x", NULL, NULL), AX_EINVAL);
	assert_int_equal(ax_dict_find(d, "R", 1, &found), 0);
	assert_int_equal(ax_reg_access(found), AX_REG_READ);

	/* References: the last unref frees. */
	assert_ptr_equal(ax_dict_ref(d), d);
	assert_null(ax_dict_unref(d));
	assert_string_equal(ax_reg_id(found), "R");
	assert_null(ax_dict_unref(d));
	assert_null(ax_dict_unref(NULL));
	assert_null(ax_dict_ref(NULL));
}

/* A dictionary dropped half-built, with something in every array: no leak, no crash. */
static void test_dict__half_built(void **state)
{
	ax_dict *d = ax__dict_new("half");
	struct ax_reg *r;
	static const uint8_t one[4] = {1, 0, 0, 0};

	(void)state;
	assert_non_null(d);
	assert_int_equal(ax__dict_set_identity(d, "P", "1", "ETH", "F", "N"), 0);
	assert_int_equal(ax__dict_set_identity(d, "P2", "2", "CAN", "F2", "N2"), 0);
	for (int i = 0; i < 40; i++) {
		char id[16];

		snprintf(id, sizeof(id), "R%d", i);
		assert_int_equal(
		        ax__dict_add_reg(d, id, 1, (uint32_t)i, AX_DTYPE_U32, AX_REG_RW, &r), 0);
		assert_int_equal(ax__dict_reg_set_str(r, &r->units, "cnt"), 0);
		assert_int_equal(ax__dict_reg_set_str(r, &r->units, "rev"), 0);
		assert_int_equal(ax__dict_reg_add_label(r, "en_US", "l"), 0);
		assert_int_equal(ax__dict_reg_add_label(r, NULL, NULL), 0);
		assert_int_equal(ax__dict_reg_set_range(r, "0", "9"), 0);
		assert_int_equal(ax__dict_reg_set_default(r, one, 4), 0);
		for (int e = 0; e < 5; e++)
			assert_int_equal(ax__dict_reg_add_enum(r, e, "e"), 0);
		assert_int_equal(ax__dict_reg_add_bitfield(r, "B", 0, 3), 0);
	}
	assert_int_equal(ax__dict_add_category(d, "C", "c", NULL), 0);
	assert_int_equal(ax__dict_add_category(d, "S", NULL, "C"), 0);
	assert_int_equal(ax__dict_add_error(d, 7, NULL, NULL, NULL), 0);
	assert_int_equal(ax__dict_add_table(d, "T", 1, "R0", "R1"), 0);
	assert_int_equal(ax__dict_add_table(d, "U", -1, "R2", "NOT_THERE"), 0);
	assert_int_equal(ax__dict_add_warning(d, "w"), 0);
	assert_string_equal(ax_reg_label(r, ""), "");
	assert_int_equal(ax_reg_enum_count(r), 5);
	assert_null(ax_dict_unref(d)); /* never sealed */
}

/* ----- skipped registers and warnings ----------------------------------------------------- */

struct log_capture {
	int count;
	char lines[16][512];
};

static void capture_log(int level, const char *origin, const char *message, void *userdata)
{
	struct log_capture *c = userdata;

	if (level != AX_LOG_WARN || strcmp(origin, "xdf") != 0 || c->count >= 16)
		return;
	snprintf(c->lines[c->count++], sizeof(c->lines[0]), "%s", message);
}

static void test_dict__skipped(void **state)
{
	static const struct {
		const char *needle, *what;
	} rows[] = {
	        {"id=\"NO_DTYPE\"", "register 'NO_DTYPE': missing attribute 'dtype', skipped"},
	        {"id=\"BAD_ACCESS\"", "register 'BAD_ACCESS': unknown access 'x' (r, w or rw), "
	                              "skipped"},
	        {"id=\"BAD_DEFAULT\"", "register 'BAD_DEFAULT': bad default '01': 1 byte, a u16 "
	                               "needs 2, skipped"},
	        {"id=\"BAD_ADDRESS\"", "register 'BAD_ADDRESS': address '0x10G0' is not hex up "
	                               "to 0xFFFFFFFF, skipped"},
	        {"address=\"0x014\"", "register: missing attribute 'id', skipped"},
	        {"id=\"BAD_DTYPE\"", "register 'BAD_DTYPE': unknown dtype 'u17' (u8 s8 u16 s16 "
	                             "u32 s32 u64 s64 float str bool bit byteArray512), skipped"},
	        {"name=\"PAST_WIDTH\"", "register 'KEPT_BAD_BITFIELD': bitfield 'PAST_WIDTH' bit "
	                                "16 is past the 16 bits of a u16, ignoring"},
	};
	const char *path = DATA("skipped.xdf");
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct log_capture cap = {0};
	ax_ctx *ctx = NULL;
	struct loaded l;
	const ax_dict *d;
	char want[768];

	(void)state;
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS | AX_CTX_NO_ENV_LOG;
	assert_int_equal(ax_ctx_new(&ctx, &opts), 0);
	ax_ctx_set_log(ctx, AX_LOG_WARN, capture_log, &cap);

	l = load_ok(path, ctx);
	assert_int_equal(l.n, 1);
	d = l.dicts[0];
	assert_int_equal(ax_dict_reg_count(d), 3);
	assert_string_equal(ax_reg_id(ax_dict_reg_at(d, 0)), "KEPT_FIRST");
	assert_string_equal(ax_reg_id(ax_dict_reg_at(d, 1)), "KEPT_SECOND");
	assert_string_equal(ax_reg_id(ax_dict_reg_at(d, 2)), "KEPT_BAD_BITFIELD");
	assert_int_equal(ax_reg_bitfield_count(ax_dict_reg_at(d, 2)), 1);
	assert_int_equal(d->n_skipped, 6);
	assert_int_equal(d->n_warnings, 7);
	assert_int_equal(cap.count, 7);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(want, sizeof(want), "%s:%ld: %s", path, line_of(path, rows[i].needle),
		         rows[i].what);
		if (strcmp(d->warnings[i], want) != 0)
			fail_msg("warning %zu:\n got  %s\n want %s", i, d->warnings[i], want);
		assert_string_equal(cap.lines[i], want); /* logged through the context too */
	}
	loaded_free(&l);

	/* Without a context: same result, no log. */
	l = load_ok(path, NULL);
	assert_int_equal(l.dicts[0]->n_warnings, 7);
	loaded_free(&l);
	ax_ctx_unref(ctx);
}

/*
 * One id twice (and three times) on a subnode, at other addresses: all
 * stay, lookups by id find the first, each later one is found by its
 * address, and each later one is reported at its line, naming the first.
 */
static void test_dict__duplicate_ids_warned(void **state)
{
	const char *path = DATA("duplicate_ids.xdf");
	long first = line_of(path, "address=\"0x010\"");
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct log_capture cap = {0};
	ax_ctx *ctx = NULL;
	const ax_reg *r = NULL;
	struct loaded l;
	const ax_dict *d;
	char want[768];

	(void)state;
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS | AX_CTX_NO_ENV_LOG;
	assert_int_equal(ax_ctx_new(&ctx, &opts), 0);
	ax_ctx_set_log(ctx, AX_LOG_WARN, capture_log, &cap);
	l = load_ok(path, ctx);
	d = l.dicts[0];
	assert_int_equal(ax_dict_reg_count(d), 5);
	assert_int_equal(d->n_skipped, 0);
	assert_int_equal(ax_reg_address(find(d, "DUP_REG", 1)), 0x010);
	assert_int_equal(ax_reg_address(find(d, "DUP_REG", 2)), 0x030);
	for (uint32_t a = 0x010; a <= 0x040; a += 0x010) {
		assert_int_equal(ax_dict_find_address(d, a == 0x030 ? 2 : 1, a, &r), 0);
		assert_string_equal(ax_reg_id(r), "DUP_REG");
		assert_int_equal(ax_reg_address(r), a);
	}

	/* Subnode 2's DUP_REG is another register: no warning for it. */
	assert_int_equal(d->n_warnings, 2);
	assert_int_equal(cap.count, 2);
	(void)snprintf(want, sizeof(want),
	               "%s:%ld: register 'DUP_REG' (address 0x020): subnode 1 already has this "
	               "id at line %ld (address 0x010); lookups by id find that one, this one by "
	               "its address",
	               path, line_of(path, "address=\"0x020\""), first);
	assert_string_equal(d->warnings[0], want);
	assert_string_equal(cap.lines[0], want);
	(void)snprintf(want, sizeof(want),
	               "%s:%ld: register 'DUP_REG' (address 0x040): subnode 1 already has this "
	               "id at line %ld (address 0x010); lookups by id find that one, this one by "
	               "its address",
	               path, line_of(path, "address=\"0x040\""), first);
	assert_string_equal(d->warnings[1], want);
	loaded_free(&l);
	ax_ctx_unref(ctx);
}

/*
 * Errors keep every field the file gives: id, label (else description),
 * error_type and affected_module; what it does not give reads "". Device
 * errors replace the Body's, which the devices without their own share.
 */
static void test_dict__errors_all_fields(void **state)
{
	static const struct {
		const char *file;
		size_t dict;
		uint32_t code;
		const char *text, *type, *module;
	} rows[] = {
	        {"v2_axes.xdf", 0, 0x3280, "STO active, power stage off", "cyclic", "Power stage"},
	        {"v2_axes.xdf", 0, 0x2280, "HW over current", "", ""},
	        {"v2_axes.xdf", 0, 0x06010000, "Incorrect access type", "", ""},
	        {"v3_multi.xdf", 0, 0x3280, "STO is active", "cyclic", "Power stage"},
	        {"v3_multi.xdf", 1, 0x2280, "HW over current", "", ""},
	        {"v3_multi.xdf", 1, 0x7380, "Absolute encoder error", "", ""},
	};
	ax_dict_error_entry e, at;
	struct loaded l = {0};
	const char *loaded = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const ax_dict *d;
		size_t k;

		if (!loaded || strcmp(loaded, rows[i].file) != 0) {
			loaded_free(&l);
			l = load_ok(rows[i].file[1] == '2' ? DATA("v2_axes.xdf")
			                                   : DATA("v3_multi.xdf"),
			            NULL);
			loaded = rows[i].file;
		}
		d = l.dicts[rows[i].dict];
		memset(&e, 0, sizeof(e));
		assert_int_equal(ax_dict_error_lookup(d, rows[i].code, &e), 0);
		assert_int_equal(e.code, rows[i].code);
		assert_string_equal(e.text, rows[i].text);
		assert_string_equal(e.type, rows[i].type);
		assert_string_equal(e.module, rows[i].module);
		/* The same entry by position. */
		for (k = 0; k < ax_dict_error_count(d); k++) {
			assert_int_equal(ax_dict_error_entry_at(d, k, &at), 0);
			if (at.code == rows[i].code)
				break;
		}
		assert_true(k < ax_dict_error_count(d));
		assert_ptr_equal(at.text, e.text);
		assert_ptr_equal(at.type, e.type);
		assert_ptr_equal(at.module, e.module);
	}
	/* Unknown codes and positions: AX_ENOTFOUND, *out untouched. */
	memset(&e, 0x5a, sizeof(e));
	at = e;
	assert_int_equal(ax_dict_error_lookup(l.dicts[0], 0x3281, &e), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "0x00003281"));
	assert_int_equal(ax_dict_error_entry_at(l.dicts[0], 99, &e), AX_ENOTFOUND);
	assert_memory_equal(&e, &at, sizeof(e));
	loaded_free(&l);
}

/* Registers of @d no MCB frame can carry, in file order, as "id@subnode". */
static void assert_unreachable(const ax_dict *d, const char *const *want, size_t n_want)
{
	size_t k = 0;

	for (size_t i = 0; i < ax_dict_reg_count(d); i++) {
		const ax_reg *r = ax_dict_reg_at(d, i);
		int far = ax_reg_subnode(r) > AX_MCB_MAX_SUBNODE ||
		          (d->identity.addr_space == AX_ADDR_MCB &&
		           ax_reg_address(r) > AX_MCB_MAX_ADDRESS);
		char got[128];

		if (ax_reg_reachable(r) == far)
			fail_msg("register %s (subnode %u, address 0x%X): reachable %d",
			         ax_reg_id(r), ax_reg_subnode(r), (unsigned)ax_reg_address(r),
			         ax_reg_reachable(r));
		if (!far)
			continue;
		snprintf(got, sizeof(got), "%s@%u", ax_reg_id(r), ax_reg_subnode(r));
		if (k >= n_want || strcmp(got, want[k]) != 0)
			fail_msg("unreachable register %zu: got %s, want %s", k, got,
			         k < n_want ? want[k] : "(none)");
		k++;
	}
	assert_int_equal(k, n_want);
}

/*
 * Subnodes past MCB's 4 bits (0..15): each register there is kept (the
 * catalogue is the file's), flagged unreachable and warned at its line, and
 * such an axis is not counted; nothing lands on another subnode. A CANopen
 * device has no such limit.
 */
static void test_dict__subnodes_beyond_mcb(void **state)
{
	static const char *const far_v2[] = {"FLAT_TOO_FAR@17", "DRV_STATE_STATUS@16",
	                                     "DRV_STATE_CONTROL@16"};
	static const char *const far_v3[] = {"FAR_STATUS@16"};
	const char *v2 = DATA("axes_beyond_mcb.xdf"), *v3 = DATA("subnodes_beyond_mcb.xdf");
	char want[5][512];
	struct loaded l;
	const ax_dict *d;

	(void)state;
	l = load_ok(v2, NULL);
	d = l.dicts[0];
	assert_int_equal(ax_dict_reg_count(d), 6);
	assert_unreachable(d, far_v2, 3);
	assert_int_equal(ax_reg_subnode(find(d, "LAST_AXIS_STATUS", -1)), 15);
	assert_int_equal(ax_reg_subnode(find(d, "DRV_STATE_STATUS", -1)), 1);
	assert_int_equal(ax_reg_subnode(find(d, "DRV_STATE_STATUS", 16)), 16);
	assert_int_equal(ax_reg_subnode(find(d, "FLAT_TOO_FAR", -1)), 17);
	/* Nothing wrapped: subnode 17 & 15 is 1, and 1 has only its own register there. */
	assert_string_equal(ax_reg_id(find(d, "DRV_STATE_STATUS", 1)), "DRV_STATE_STATUS");
	assert_int_equal(d->identity.axes, 1);
	assert_int_equal(d->n_skipped, 0);
	(void)snprintf(want[0], sizeof(want[0]),
	               "%s:%ld: register 'FLAT_TOO_FAR': subnode 17 is beyond the MCB subnodes "
	               "0..15: kept, but an MCB link cannot reach it",
	               v2, line_of(v2, "id=\"FLAT_TOO_FAR\""));
	(void)snprintf(want[1], sizeof(want[1]),
	               "%s:%ld: Axis subnode 16 is beyond the MCB subnodes 0..15, not an axis", v2,
	               line_of(v2, "<Axis subnode=\"16\">"));
	(void)snprintf(want[2], sizeof(want[2]),
	               "%s:%ld: register 'DRV_STATE_STATUS': subnode 16 is beyond the MCB "
	               "subnodes 0..15: kept, but an MCB link cannot reach it",
	               v2, line_of(v2, "<Axis subnode=\"16\">") + 2);
	(void)snprintf(want[3], sizeof(want[3]),
	               "%s:%ld: register 'DRV_STATE_CONTROL': subnode 16 is beyond the MCB "
	               "subnodes 0..15: kept, but an MCB link cannot reach it",
	               v2, line_of(v2, "id=\"DRV_STATE_CONTROL\""));
	assert_int_equal(d->n_warnings, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(d->warnings[i], want[i]);
	loaded_free(&l);

	l = load_ok(v3, NULL);
	assert_int_equal(l.n, 2);
	d = l.dicts[0];
	assert_int_equal(ax_dict_reg_count(d), 3);
	assert_unreachable(d, far_v3, 1);
	assert_int_equal(d->identity.axes, 2);
	assert_int_equal(d->n_skipped, 0);
	(void)snprintf(want[0], sizeof(want[0]),
	               "%s:%ld: register 'FAR_STATUS': subnode 16 is beyond the MCB subnodes "
	               "0..15: kept, but an MCB link cannot reach it",
	               v3, line_of(v3, "id=\"FAR_STATUS\""));
	(void)snprintf(want[1], sizeof(want[1]),
	               "%s:%ld: Subnode index 16 is beyond the MCB subnodes 0..15, not an axis", v3,
	               line_of(v3, "<Subnode index=\"16\">Motion"));
	assert_int_equal(d->n_warnings, 2);
	assert_string_equal(d->warnings[0], want[0]);
	assert_string_equal(d->warnings[1], want[1]);
	/* The CANopen device keeps its object on subnode 20, reachable. */
	d = l.dicts[1];
	assert_int_equal(d->identity.addr_space, AX_ADDR_CANOPEN);
	assert_int_equal(ax_reg_subnode(find(d, "FAR_STATUS", 20)), 20);
	assert_true(ax_reg_reachable(find(d, "FAR_STATUS", 20)));
	assert_int_equal(d->n_warnings, 0);
	loaded_free(&l);
}

/*
 * Addresses past MCB's 12 bits (real EoE dictionaries list such registers):
 * every one is kept, flagged and warned at its line; 0xFFF is still MCB's.
 * Once stored and loaded back from a database the flag is the same: the
 * seal computes it from the address space.
 */
static void test_dict__addresses_beyond_mcb_kept(void **state)
{
	static const char *const far_eth[] = {"FIRST_PAST_MCB@1", "ETH_ONLY_SETTING@0"};
	static const char *const far_eoe[] = {"EOE_FAR@1"};
	const char *path = DATA("addresses_beyond_mcb.xdf");
	const ax_reg *r = NULL;
	struct loaded l;
	const ax_dict *d;
	char want[512];

	(void)state;
	l = load_ok(path, NULL);
	assert_int_equal(l.n, 2);
	d = l.dicts[0];
	assert_string_equal(d->identity.interface, "ETH");
	assert_int_equal(ax_dict_reg_count(d), 5);
	assert_int_equal(d->n_skipped, 0);
	assert_unreachable(d, far_eth, 2);
	assert_true(ax_reg_reachable(find(d, "LAST_MCB_ADDRESS", 1)));
	assert_int_equal(ax_dict_find_address(d, 0, 0x58AA, &r), 0);
	assert_string_equal(ax_reg_id(r), "ETH_ONLY_SETTING");
	assert_int_equal(d->identity.axes, 1);
	assert_int_equal(d->n_warnings, 2);
	(void)snprintf(want, sizeof(want),
	               "%s:%ld: register 'FIRST_PAST_MCB': address 0x1000 is past the 12 bits of "
	               "an MCB address (0..0xFFF): kept, but an MCB link cannot reach it",
	               path, line_of(path, "id=\"FIRST_PAST_MCB\""));
	assert_string_equal(d->warnings[0], want);
	d = l.dicts[1];
	assert_string_equal(d->identity.interface, "EoE");
	assert_int_equal(ax_dict_reg_count(d), 2);
	assert_unreachable(d, far_eoe, 1);
	assert_int_equal(ax_reg_address(find(d, "EOE_FAR", 1)), 0x2F0001);
	loaded_free(&l);
}

/* ----- tables ----------------------------------------------------------------------------- */

/* A table as the getters give it; count 0 means "entries fail with AX_ERANGE". */
struct table_case {
	const char *id;
	int axis;
	const char *index_id, *value_id;
	unsigned subnode; /* of both registers */
	int64_t first;
	uint64_t count;
	const char *range_error; /* in the AX_ERANGE message when count is 0 */
};

static void check_tables(const ax_dict *d, const struct table_case *cases, size_t n)
{
	assert_int_equal(ax_dict_table_count(d), n);
	for (size_t i = 0; i < n; i++) {
		const struct table_case *c = &cases[i];
		const ax_reg *index = NULL, *value = NULL;
		const char *id = NULL;
		int axis = -7, err;
		int64_t first = -7;
		uint64_t count = 7;
		size_t pos = 99;

		assert_int_equal(ax_dict_table_at(d, i, &id, &axis, &index, &value), 0);
		if (strcmp(id, c->id) != 0 || axis != c->axis)
			fail_msg("table %zu: got %s/%d, want %s/%d", i, id, axis, c->id, c->axis);
		/* The registers are the dictionary's own, on the table's axis. */
		assert_ptr_equal(index, find(d, c->index_id, (int)c->subnode));
		assert_ptr_equal(value, find(d, c->value_id, (int)c->subnode));
		assert_int_equal(ax_dict_table_find(d, c->id, c->axis, &pos), 0);
		assert_int_equal(pos, i);

		err = ax_dict_table_entries(d, i, &first, &count);
		if (c->count == 0) {
			if (err != AX_ERANGE || !strstr(ax_error_last(), c->range_error))
				fail_msg("table %s: got %d (%s), want AX_ERANGE '%s'", c->id, err,
				         ax_error_last(), c->range_error);
			assert_non_null(strstr(ax_error_last(), c->index_id));
			assert_int_equal(first, -7); /* untouched */
			assert_int_equal(count, 7);
			continue;
		}
		if (err != 0 || first != c->first || count != c->count)
			fail_msg("table %s: entries %d first %lld count %llu, want %lld %llu (%s)",
			         c->id, err, (long long)first, (unsigned long long)count,
			         (long long)c->first, (unsigned long long)c->count,
			         ax_error_last());
	}
}

/* clang-format off */
static const struct table_case eth_tables[] = {
	{ "COGGING_COMP_TABLE", 1, "COGGING_COMP_TABLE_INDEX", "COGGING_COMP_TABLE_VALUE", 1,
	  0, 512, NULL },
	{ "COGGING_COMP_TABLE", 2, "COGGING_COMP_TABLE_INDEX", "COGGING_COMP_TABLE_VALUE", 2,
	  0, 1024, NULL },
	{ "MEM_USR_DATA", -1, "MEM_USR_ADDR", "MEM_USR_DATA", 0, 0, 256, NULL },
	{ "NO_RANGE_TABLE", 1, "NO_RANGE_INDEX", "PLAIN_VALUE", 1, 0, 0, "has no range" },
	{ "NEGATIVE_RANGE_TABLE", 1, "NEGATIVE_RANGE_INDEX", "PLAIN_VALUE", 1, 0, 0,
	  "range '-5'..'-1' selects no entry" },
	{ "FLOAT_RANGE_TABLE", -1, "FLOAT_RANGE_INDEX", "PLAIN_VALUE", 1, 0, 0,
	  "range '0.0'..'9.5', not 64-bit integers" },
};
static const struct table_case can_tables[] = {
	{ "COGGING_COMP_TABLE", 1, "COGGING_COMP_TABLE_INDEX", "COGGING_COMP_TABLE_VALUE", 1,
	  0, 512, NULL },
};
/* clang-format on */

static void test_dict__tables(void **state)
{
	static const struct {
		const char *needle, *what;
	} rows[] = {
	        {"id=\"SKIPPED_INDEX\"", "register 'SKIPPED_INDEX': missing attribute 'dtype', "
	                                 "skipped"},
	        {"id_index=\"NOID_INDEX\"", "table: missing attribute 'id', skipped"},
	        {"id=\"NO_VALUE_TABLE\"", "table 'NO_VALUE_TABLE': missing attribute 'id_value', "
	                                  "skipped"},
	        {"id=\"EMPTY_INDEX_TABLE\"", "table 'EMPTY_INDEX_TABLE': missing attribute "
	                                     "'id_index', skipped"},
	        {"id=\"BAD_AXIS_TABLE\"", "table 'BAD_AXIS_TABLE': axis 'one' is not a number "
	                                  "0..255, skipped"},
	        {"id=\"BIG_AXIS_TABLE\"", "table 'BIG_AXIS_TABLE': axis '256' is not a number "
	                                  "0..255, skipped"},
	        {"id=\"WRONG_AXIS_TABLE\"", "table 'WRONG_AXIS_TABLE': index register "
	                                    "'COGGING_COMP_TABLE_INDEX' (id_index) is not on "
	                                    "axis 0, skipped"},
	        {"id=\"UNKNOWN_VALUE_TABLE\"", "table 'UNKNOWN_VALUE_TABLE': value register "
	                                       "'NOT_A_REGISTER' (id_value) is not in the "
	                                       "dictionary, skipped"},
	        {"id=\"SKIPPED_REG_TABLE\"", "table 'SKIPPED_REG_TABLE': index register "
	                                     "'SKIPPED_INDEX' (id_index) is not on axis 1, "
	                                     "skipped"},
	};
	const char *path = DATA("v3_tables.xdf");
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct log_capture cap = {0};
	const ax_reg *untouched = (const ax_reg *)(uintptr_t)0x1, *r = untouched;
	const char *id = "untouched";
	ax_ctx *ctx = NULL;
	struct loaded l;
	const ax_dict *eth, *can;
	char want[768];
	size_t pos = 99;
	int axis = -7;

	(void)state;
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS | AX_CTX_NO_ENV_LOG;
	assert_int_equal(ax_ctx_new(&ctx, &opts), 0);
	ax_ctx_set_log(ctx, AX_LOG_WARN, capture_log, &cap);
	l = load_ok(path, ctx);
	assert_int_equal(l.n, 2);
	eth = l.dicts[0];
	can = l.dicts[1];

	check_tables(eth, eth_tables, sizeof(eth_tables) / sizeof(eth_tables[0]));
	check_tables(can, can_tables, sizeof(can_tables) / sizeof(can_tables[0]));
	/* The CANopen table's registers are the axis 1 objects 0x2307 and 0x2308. */
	assert_int_equal(ax_dict_table_at(can, 0, NULL, NULL, &r, NULL), 0);
	assert_int_equal(ax_reg_address(r), 0x230700);

	/* Any axis: the first in file order; an axis the table lacks, or one given to a
	 * table that names none, finds nothing and leaves the out param alone. */
	assert_int_equal(ax_dict_table_find(eth, "COGGING_COMP_TABLE", -1, &pos), 0);
	assert_int_equal(pos, 0);
	pos = 99;
	assert_int_equal(ax_dict_table_find(eth, "COGGING_COMP_TABLE", 3, &pos), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "no table 'COGGING_COMP_TABLE' on axis 3"));
	assert_int_equal(ax_dict_table_find(eth, "MEM_USR_DATA", 0, &pos), AX_ENOTFOUND);
	assert_int_equal(ax_dict_table_find(eth, "COGGING_COMP", -1, &pos), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "no table 'COGGING_COMP' in dictionary"));
	assert_int_equal(ax_dict_table_find(eth, "", -1, &pos), AX_ENOTFOUND);
	assert_int_equal(pos, 99);
	assert_int_equal(ax_dict_table_find(eth, NULL, -1, &pos), AX_EINVAL);
	assert_int_equal(ax_dict_table_find(eth, "MEM_USR_DATA", -1, NULL), AX_EINVAL);

	/* Past the end: AX_ENOTFOUND, out params untouched; NULL out params are fine. */
	r = untouched;
	assert_int_equal(ax_dict_table_at(eth, 6, &id, &axis, &r, &r), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "no table 6"));
	assert_string_equal(id, "untouched");
	assert_int_equal(axis, -7);
	assert_ptr_equal(r, untouched);
	assert_int_equal(ax_dict_table_entries(eth, 6, NULL, NULL), AX_ENOTFOUND);
	assert_int_equal(ax_dict_table_entries(eth, 0, NULL, NULL), 0);
	assert_int_equal(ax_dict_table_at(eth, 5, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(ax_dict_table_at(NULL, 0, &id, NULL, NULL, NULL), AX_EINVAL);
	assert_int_equal(ax_dict_table_count(NULL), 0);

	/* Each bad table is skipped with file, line and what is wrong; the skipped
	 * register counts as skipped, tables do not. Logged through the context too. */
	assert_int_equal(eth->n_skipped, 1);
	assert_int_equal(eth->n_warnings, sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(cap.count, (int)(sizeof(rows) / sizeof(rows[0])));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(want, sizeof(want), "%s:%ld: %s", path, line_of(path, rows[i].needle),
		         rows[i].what);
		if (strcmp(eth->warnings[i], want) != 0)
			fail_msg("warning %zu:\n got  %s\n want %s", i, eth->warnings[i], want);
		assert_string_equal(cap.lines[i], want);
	}
	assert_int_equal(can->n_warnings, 0);
	loaded_free(&l);
	ax_ctx_unref(ctx);
}

/* Tables belong to version 3: a version 2 device's Tables element is not read. */
static void test_dict__tables_not_in_version_2(void **state)
{
	static const char xml[] =
	        "<?xml version=\"1.0\"?><IngeniaDictionary><Header><Version>2</Version></Header>"
	        "<Body><Device Interface=\"ETH\"><Registers>"
	        "<Register address=\"0x010\" access=\"rw\" dtype=\"u16\" id=\"I\"/>"
	        "<Register address=\"0x011\" access=\"rw\" dtype=\"u16\" id=\"V\"/>"
	        "</Registers><Tables><Table id=\"T\" id_index=\"I\" id_value=\"V\"/>"
	        "<Table id=\"BAD\"/></Tables></Device></Body></IngeniaDictionary>";
	ax_dict **dicts = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(ax__xdf_load_buffer(&dicts, &n, "mem", xml, sizeof(xml) - 1, NULL), 1);
	assert_int_equal(ax_dict_reg_count(dicts[0]), 2);
	assert_int_equal(ax_dict_table_count(dicts[0]), 0);
	assert_int_equal(dicts[0]->n_warnings, 0);
	ax_dict_unref(dicts[0]);
	ax_free(dicts);
}

/* The builder: axis bounds, early indexes, the seal's register check, entry counts. */
static void test_dict__tables_builder(void **state)
{
	static const struct {
		const char *min, *max;
		int64_t first;
		uint64_t count; /* 0: AX_ERANGE */
	} ranges[] = {
	        {"0", "0", 0, 1},
	        {"-1", "0", 0, 1},
	        {"3", "10", 3, 8},
	        {"-9223372036854775808", "9223372036854775807", 0, UINT64_C(9223372036854775808)},
	        {"1", "0", 0, 0},
	        {"-1", "-1", 0, 0},
	        {"0", "9223372036854775808", 0, 0},
	        {"0", "0x10", 0, 0},
	        {"+1", "2", 0, 0},
	        {"", "2", 0, 0},
	        {"-", "2", 0, 0},
	        {"1 ", "2", 0, 0},
	};
	ax_dict *d = ax__dict_new("mem");
	const ax_reg *r = NULL, *index = NULL;
	struct ax_reg *w;
	size_t pos;

	(void)state;
	assert_non_null(d);
	/* "X" on subnode 2 comes first in file order, then on subnode 1. */
	assert_int_equal(ax__dict_add_reg(d, "X", 2, 1, AX_DTYPE_S16, AX_REG_RW, &w), 0);
	assert_int_equal(ax__dict_add_reg(d, "X", 1, 1, AX_DTYPE_S16, AX_REG_RW, &w), 0);
	assert_int_equal(ax__dict_add_reg(d, "V", 1, 2, AX_DTYPE_U32, AX_REG_RW, &w), 0);
	assert_int_equal(ax__dict_add_reg(d, "V", 2, 2, AX_DTYPE_U32, AX_REG_RW, &w), 0);

	/* Axis: -1 (none) or a subnode number. */
	assert_int_equal(ax__dict_add_table(d, "T", -2, "X", "V"), AX_ERANGE);
	assert_int_equal(ax__dict_add_table(d, "T", 256, "X", "V"), AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "table 'T': axis 256"));
	assert_int_equal(ax__dict_add_table(d, NULL, 1, "X", "V"), AX_EINVAL);
	assert_int_equal(ax__dict_add_table(d, "T", 1, NULL, "V"), AX_EINVAL);
	assert_int_equal(ax__dict_add_table(d, "T", 1, "X", NULL), AX_EINVAL);
	assert_int_equal(ax_dict_table_count(d), 0);

	/* Early indexes serve lookups until the next register comes in. */
	assert_int_equal(ax_dict_find(d, "V", 2, &r), AX_EINVAL);
	assert_int_equal(ax__dict_index(d), 0);
	assert_int_equal(ax__dict_index(d), 0); /* again: nothing to do */
	assert_int_equal(ax_dict_find(d, "V", 2, &r), 0);
	assert_int_equal(ax_reg_subnode(r), 2);
	assert_int_equal(ax__dict_add_reg(d, "W", 255, 3, AX_DTYPE_U8, AX_REG_RW, &w), 0);
	assert_int_equal(ax_dict_find(d, "V", 2, &r), AX_EINVAL);
	assert_int_equal(ax__dict_index(d), 0);
	assert_int_equal(ax_dict_find(d, "W", 255, &r), 0);

	/* A table naming a register its axis lacks fails the seal, which can be retried. */
	assert_int_equal(ax__dict_add_table(d, "NONE", -1, "X", "V"), 0);
	assert_int_equal(ax__dict_add_table(d, "AXIS", 255, "W", "V"), 0);
	assert_int_equal(ax_dict_table_at(d, 0, NULL, NULL, NULL, NULL), AX_EINVAL);
	assert_int_equal(ax_dict_table_find(d, "NONE", -1, &pos), AX_EINVAL);
	assert_int_equal(ax__dict_seal(d), AX_EFORMAT);
	assert_string_equal(ax_error_last(),
	                    "table 'AXIS': no value register 'V' on axis 255 in dictionary 'mem'");
	assert_int_equal(ax_dict_table_count(d), 2);
	assert_int_equal(ax_dict_table_at(d, 0, NULL, NULL, NULL, NULL), AX_EINVAL);

	/* Registers for the entry counts, each its own table; then "V" on 255. */
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		char id[16];

		snprintf(id, sizeof(id), "R%zu", i);
		assert_int_equal(ax__dict_add_reg(d, id, 3, 0x100 + (uint32_t)i, AX_DTYPE_S64,
		                                  AX_REG_RW, &w),
		                 0);
		assert_int_equal(ax__dict_reg_set_range(w, ranges[i].min, ranges[i].max), 0);
		assert_int_equal(ax__dict_add_table(d, id, 3, id, id), 0);
	}
	assert_int_equal(ax__dict_add_reg(d, "V", 255, 4, AX_DTYPE_U32, AX_REG_RW, &w), 0);
	assert_int_equal(ax__dict_seal(d), 0);
	assert_int_equal(ax__dict_add_table(d, "LATE", -1, "X", "V"), AX_EINVAL);

	/* No axis: the first "X" in file order, subnode 2. */
	assert_int_equal(ax_dict_table_at(d, 0, NULL, NULL, &index, NULL), 0);
	assert_ptr_equal(index, ax_dict_reg_at(d, 0));
	assert_int_equal(ax_dict_table_find(d, "AXIS", 255, &pos), 0);
	assert_int_equal(pos, 1);
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		int64_t first = -7;
		uint64_t count = 7;
		int err = ax_dict_table_entries(d, 2 + i, &first, &count);

		if (ranges[i].count == 0) {
			if (err != AX_ERANGE || first != -7 || count != 7)
				fail_msg("range '%s'..'%s': got %d, want AX_ERANGE untouched",
				         ranges[i].min, ranges[i].max, err);
		} else if (err != 0 || first != ranges[i].first || count != ranges[i].count) {
			fail_msg("range '%s'..'%s': got %d %lld %llu (%s)", ranges[i].min,
			         ranges[i].max, err, (long long)first, (unsigned long long)count,
			         ax_error_last());
		}
	}
	ax_dict_unref(d);
}

/* ----- refused files ---------------------------------------------------------------------- */

static void test_dict__malformed(void **state)
{
	char where[512];
	const char *needles[] = {where, "malformed XML", "ETHDevice", NULL};

	(void)state;
	/* The mismatched end tag is on line 9. */
	snprintf(where, sizeof(where), "%s:9: ", DATA("malformed.xdf"));
	load_refused(DATA("malformed.xdf"), AX_EFORMAT, needles);
}

static void test_dict__wrong_root(void **state)
{
	char where[512];
	const char *needles[] = {where, "'EtherCATInfo', not IngeniaDictionary", NULL};

	(void)state;
	snprintf(where, sizeof(where), "%s:2: ", DATA("wrong_root.xdf"));
	load_refused(DATA("wrong_root.xdf"), AX_EFORMAT, needles);
}

static void test_dict__unsupported_version(void **state)
{
	char where[512];
	const char *needles[] = {where, "version '4.0' is not supported", NULL};

	(void)state;
	snprintf(where, sizeof(where), "%s:4: ", DATA("version4.xdf"));
	load_refused(DATA("version4.xdf"), AX_EFORMAT, needles);
}

static void test_dict__external_entity(void **state)
{
	char where[512];
	const char *needles[] = {where, "entity declarations are not allowed", "'e'", NULL};

	(void)state;
	snprintf(where, sizeof(where), "%s:3: ", DATA("entity_external.xdf"));
	load_refused(DATA("entity_external.xdf"), AX_EFORMAT, needles);
}

static void test_dict__billion_laughs(void **state)
{
	const char *needles[] = {"entity declarations are not allowed", "'l0'", NULL};
	double t0 = now_ms();

	(void)state;
	load_refused(DATA("billion_laughs.xdf"), AX_EFORMAT, needles);
	/* Refused at the first declaration, long before any expansion could cost time. */
	assert_true(now_ms() - t0 < (double)test_ms(1000));
}

struct fifo_load {
	const char *path;
	int err;
	char msg[512]; /* the error is thread-local: the loading thread copies it */
	int done;
	pthread_mutex_t lock;
};

static void *fifo_load_thread(void *arg)
{
	struct fifo_load *f = arg;
	ax_dict **dicts = NULL;
	size_t n = 0;
	int err = ax_dict_load_file(&dicts, &n, f->path, NULL);

	for (size_t i = 0; err > 0 && i < n; i++)
		ax_dict_unref(dicts[i]);
	if (err > 0)
		ax_free(dicts);
	pthread_mutex_lock(&f->lock);
	f->err = err;
	snprintf(f->msg, sizeof(f->msg), "%s", ax_error_last());
	f->done = 1;
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/*
 * The external entity names a FIFO: opening it to read would block until
 * a writer comes. The load must finish on its own, and afterwards nobody
 * may hold the FIFO open for reading (a non-blocking writer open fails
 * with ENXIO exactly when there is no reader).
 */
static void test_dict__external_entity_not_opened(void **state)
{
	char *dir = temp_dir();
	char fifo[512], xdf[512], text[1024];
	struct fifo_load f = {xdf, 0, "", 0, PTHREAD_MUTEX_INITIALIZER};
	pthread_t th;
	int done = 0, fd, open_errno;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/secret", dir);
	snprintf(xdf, sizeof(xdf), "%s/entity.xdf", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(text, sizeof(text),
	         "<?xml version=\"1.0\"?>\n"
	         "<!DOCTYPE IngeniaDictionary [<!ENTITY e SYSTEM \"file://%s\">]>\n"
	         "<IngeniaDictionary><Header><Version>3.0</Version></Header><Body>"
	         "<Categories><Category id=\"A\"><Labels><Label lang=\"en_US\">&e;</Label>"
	         "</Labels></Category></Categories><Devices><ETHDevice ProductCode=\"1\"/>"
	         "</Devices></Body></IngeniaDictionary>\n",
	         fifo);
	write_file(xdf, text, strlen(text));

	assert_int_equal(pthread_create(&th, NULL, fifo_load_thread, &f), 0);
	for (int i = 0; i < 500 && !done; i++) {
		pthread_mutex_lock(&f.lock);
		done = f.done;
		pthread_mutex_unlock(&f.lock);
		if (!done)
			nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	fd = open(fifo, O_WRONLY | O_NONBLOCK);
	open_errno = errno;
	if (!done) {
		/* Stuck in open(): release it with a writer, then report. */
		if (fd < 0)
			fd = open(fifo, O_WRONLY);
		if (fd >= 0)
			close(fd);
		pthread_join(th, NULL);
		fail_msg("the loader opened the external entity '%s'", fifo);
	}
	pthread_join(th, NULL);
	assert_int_equal(fd, -1);
	assert_int_equal(open_errno, ENXIO);
	assert_int_equal(f.err, AX_EFORMAT);
	assert_non_null(strstr(f.msg, "entity declarations are not allowed"));

	unlink(fifo);
	unlink(xdf);
	rmdir(dir);
	free(dir);
}

/*
 * A valid dictionary padded to exactly @size bytes with 64 KiB comments
 * (libxml2 refuses a single comment over 10 MB) and blanks.
 */
static void write_padded(const char *path, size_t size)
{
	static const char head[] = "<?xml version=\"1.0\"?>\n<IngeniaDictionary><Header>"
	                           "<Version>3.0</Version></Header><Body><Devices>"
	                           "<ETHDevice ProductCode=\"1\"/></Devices></Body>";
	static const char tail[] = "</IngeniaDictionary>\n";
	enum { CHUNK = 65536 };
	size_t pad = size - (sizeof(head) - 1) - (sizeof(tail) - 1);
	char *buf = malloc(size), *p;

	assert_non_null(buf);
	memcpy(buf, head, sizeof(head) - 1);
	p = buf + sizeof(head) - 1;
	for (; pad >= CHUNK; pad -= CHUNK, p += CHUNK) {
		memcpy(p, "<!--", 4);
		memset(p + 4, 'x', CHUNK - 7);
		memcpy(p + CHUNK - 3, "-->", 3);
	}
	memset(p, ' ', pad);
	memcpy(p + pad, tail, sizeof(tail) - 1);
	write_file(path, buf, size);
	free(buf);
}

static void test_dict__size_limit(void **state)
{
	char *dir = temp_dir();
	char path[512];
	const char *needles[] = {"over the 16 MiB limit", NULL};
	struct loaded l;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.xdf", dir);
	write_padded(path, AX__XDF_MAX_SIZE);
	l = load_ok(path, NULL);
	assert_int_equal(l.n, 1);
	loaded_free(&l);

	write_padded(path, AX__XDF_MAX_SIZE + 1);
	load_refused(path, AX_ETOOBIG, needles);
	unlink(path);

	/* Not there, not a file. */
	load_refused(path, AX_ENOTFOUND, (const char *[]){"no dictionary file", NULL});
	load_refused(dir, AX_EINVAL, (const char *[]){"not a regular file", NULL});
	rmdir(dir);
	free(dir);
}

static void test_dict__bad_arguments(void **state)
{
	ax_dict **dicts;
	size_t n;

	(void)state;
	assert_int_equal(ax_dict_load_file(NULL, &n, DATA("v2_axes.xdf"), NULL), AX_EINVAL);
	assert_int_equal(ax_dict_load_file(&dicts, NULL, DATA("v2_axes.xdf"), NULL), AX_EINVAL);
	assert_int_equal(ax_dict_load_file(&dicts, &n, NULL, NULL), AX_EINVAL);
	assert_int_equal(ax__xdf_load_buffer(&dicts, &n, "mem", "", 0, NULL), AX_EFORMAT);
	assert_non_null(strstr(ax_error_last(), "mem"));
}

/* ----- structure, in memory ------------------------------------------------------------- */

struct doc_case {
	const char *name;
	const char *xml;
	int want;           /* error code, or the number of dictionaries */
	const char *needle; /* in the error message */
};

#define HDR(v)                                                                                     \
	"<?xml version=\"1.0\"?>\n<IngeniaDictionary><Header><Version>" v "</Version></Header>"
#define ETH_BODY "<Body><Devices><ETHDevice ProductCode=\"1\"/></Devices></Body>"
#define END "</IngeniaDictionary>"

/* clang-format off */
static const struct doc_case doc_cases[] = {
	{ "version_2", HDR("2") "<Body><Device/></Body>" END, 1, NULL },
	{ "version_2x", HDR("2.5") "<Body><Device/></Body>" END, 1, NULL },
	{ "version_3", HDR("3") ETH_BODY END, 1, NULL },
	{ "version_3_blanks", HDR(" 3.0\n") ETH_BODY END, 1, NULL },
	{ "version_1", HDR("1") ETH_BODY END, AX_EFORMAT, "mem:2: dictionary version '1'" },
	{ "version_20", HDR("20") ETH_BODY END, AX_EFORMAT, "version '20' is not" },
	{ "version_empty", HDR("") ETH_BODY END, AX_EFORMAT, "version '' is not" },
	{ "no_header", "<IngeniaDictionary>" ETH_BODY END, AX_EFORMAT, "no Header/Version" },
	{ "no_body", HDR("3.0") END, AX_EFORMAT, "mem:2: no Body element" },
	{ "v3_no_devices", HDR("3.0") "<Body><Devices/></Body>" END, AX_EFORMAT,
	  "no ETHDevice, EoEDevice, ECATDevice or CANDevice" },
	{ "v2_no_device", HDR("2") "<Body/>" END, AX_EFORMAT, "no Body/Device element" },
	{ "bad_product", HDR("3.0") "<Body><Devices>\n<ETHDevice ProductCode=\"12ab\"/>"
	  "</Devices></Body>" END, AX_EFORMAT, "mem:3: ProductCode '12ab' is not a 32-bit number" },
	{ "product_too_big", HDR("3.0") "<Body><Devices><ETHDevice ProductCode=\"0x100000000\"/>"
	  "</Devices></Body>" END, AX_EFORMAT, "ProductCode '0x100000000'" },
	{ "two_eth", HDR("3.0") "<Body><Devices><ETHDevice/><EoEDevice/><CANDevice/>"
	  "</Devices></Body>" END, 3, NULL },
	{ "empty", "", AX_EFORMAT, "mem:" },
	{ "not_xml", "IngeniaDictionary", AX_EFORMAT, "mem:1: malformed XML" },
	{ "truncated", HDR("3.0") "<Body><Devices>", AX_EFORMAT, "malformed XML" },
	{ "unparsed_entity", "<?xml version=\"1.0\"?>\n<!DOCTYPE IngeniaDictionary [\n"
	  "<!NOTATION gif SYSTEM \"image/gif\">\n<!ENTITY pic SYSTEM \"a.gif\" NDATA gif>\n]>\n"
	  "<IngeniaDictionary/>", AX_EFORMAT, "mem:4: entity declarations are not allowed" },
	{ "parameter_entity", "<?xml version=\"1.0\"?>\n<!DOCTYPE IngeniaDictionary [\n"
	  "<!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\">\n%p;\n]>\n<IngeniaDictionary/>",
	  AX_EFORMAT, "mem:3: entity declarations are not allowed in dictionary files ('p')" },
	{ "external_subset_only", "<?xml version=\"1.0\"?>\n"
	  "<!DOCTYPE IngeniaDictionary SYSTEM \"http://127.0.0.1:9/x.dtd\">\n"
	  "<IngeniaDictionary><Header><Version>3.0</Version></Header>" ETH_BODY END, 1, NULL },
};
/* clang-format on */

static void test_dict__documents(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(doc_cases) / sizeof(doc_cases[0]); i++) {
		const struct doc_case *c = &doc_cases[i];
		ax_dict **dicts = NULL;
		size_t n = 0;
		int got = ax__xdf_load_buffer(&dicts, &n, "mem", c->xml, strlen(c->xml), NULL);

		if (got != c->want)
			fail_msg("%s: got %d, want %d (%s)", c->name, got, c->want,
			         ax_error_last());
		if (c->needle && !strstr(ax_error_last(), c->needle))
			fail_msg("%s: '%s' lacks '%s'", c->name, ax_error_last(), c->needle);
		for (size_t k = 0; got > 0 && k < n; k++)
			ax_dict_unref(dicts[k]);
		if (got > 0)
			ax_free(dicts);
	}
}

/* Labels follow the file's DefaultLanguage, then en_US, then the first. */
static void test_dict__default_language(void **state)
{
	static const char xml[] =
	        "<?xml version=\"1.0\"?><IngeniaDictionary><Header><Version>3.0</Version>"
	        "<DefaultLanguage>es_ES</DefaultLanguage></Header><Body><Categories>"
	        "<Category id=\"A\"><Labels><Label lang=\"en_US\">Target</Label>"
	        "<Label lang=\"es_ES\">Objetivo</Label></Labels></Category>"
	        "<Category id=\"B\"><Labels><Label lang=\"de_DE\">Ziel</Label>"
	        "<Label lang=\"en_US\">Goal</Label></Labels></Category>"
	        "<Category id=\"C\"><Labels><Label lang=\"de_DE\">Nur</Label></Labels></Category>"
	        "<Category id=\"D\"/><Category><Labels/></Category>"
	        "</Categories><Devices><ETHDevice><Errors>"
	        "<Error id=\"0x1\"><Labels><Label lang=\"en_US\"> Over\n voltage </Label>"
	        "<Label lang=\"es_ES\"><![CDATA[Sobre]]>tensi&#243;n &amp; m&#225;s</Label>"
	        "</Labels></Error><Error id=\"zz\"/><Error/></Errors></ETHDevice></Devices>"
	        "</Body></IngeniaDictionary>";
	static const char *const want[][2] = {
	        {"A", "Objetivo"},
	        {"B", "Goal"},
	        {"C", "Nur"},
	        {"D", ""},
	};
	ax_dict **dicts = NULL;
	size_t n = 0;
	const char *id, *label;

	(void)state;
	assert_int_equal(ax__xdf_load_buffer(&dicts, &n, "mem", xml, sizeof(xml) - 1, NULL), 1);
	assert_int_equal(ax_dict_category_count(dicts[0]), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ax_dict_category_at(dicts[0], i, &id, &label), 0);
		assert_string_equal(id, want[i][0]);
		assert_string_equal(label, want[i][1]);
	}
	/* CDATA, character and predefined entity references make one text. */
	assert_string_equal(ax_dict_error_text(dicts[0], 1), "Sobretensión & más");
	/* The nameless category and both bad errors are warnings, not failures. */
	assert_int_equal(dicts[0]->n_warnings, 3);
	assert_non_null(strstr(dicts[0]->warnings[0], "category: missing attribute 'id'"));
	assert_non_null(strstr(dicts[0]->warnings[1], "id 'zz' is not a 32-bit hex code"));
	assert_non_null(strstr(dicts[0]->warnings[2], "error entry: missing attribute 'id'"));
	assert_int_equal(dicts[0]->n_skipped, 0);
	ax_dict_unref(dicts[0]);
	ax_free(dicts);
}

/* ----- threads ------------------------------------------------------------------------- */

struct load_worker {
	int failures;
	char first[512];
};

/* Each thread loads good and bad files; errors and results never cross threads. */
static void *load_worker_run(void *arg)
{
	struct load_worker *w = arg;

	for (int i = 0; i < 20; i++) {
		ax_dict **dicts = NULL;
		size_t n = 0;
		int got = ax_dict_load_file(&dicts, &n, DATA("v3_multi.xdf"), NULL);

		if (got != 2 || ax_dict_reg_count(dicts[0]) != 10 ||
		    ax_dict_reg_count(dicts[1]) != 5) {
			if (!w->failures++)
				snprintf(w->first, sizeof(w->first), "v3: %d %s", got,
				         ax_error_last());
		}
		for (size_t k = 0; got > 0 && k < n; k++)
			ax_dict_unref(dicts[k]);
		if (got > 0)
			ax_free(dicts);
		got = ax_dict_load_file(&dicts, &n, DATA("malformed.xdf"), NULL);
		if (got != AX_EFORMAT ||
		    !strstr(ax_error_last(), "malformed.xdf:9: malformed XML")) {
			if (!w->failures++)
				snprintf(w->first, sizeof(w->first), "malformed: %d %s", got,
				         ax_error_last());
		}
	}
	return NULL;
}

static void test_dict__concurrent_loads(void **state)
{
	enum { THREADS = 4 };
	pthread_t th[THREADS];
	struct load_worker w[THREADS];

	(void)state;
	memset(w, 0, sizeof(w));
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, load_worker_run, &w[i]), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < THREADS; i++)
		if (w[i].failures)
			fail_msg("thread %d: %d failures, first: %s", i, w[i].failures, w[i].first);
}

/* ----- size and time ---------------------------------------------------------------------- */

/* A dictionary the size of the largest real ones: 1,300 registers, about 1.1 MB. */
static size_t write_large(const char *path, unsigned n_regs)
{
	size_t cap = 2u << 20, len = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
#define PUT(...) (len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__))
	PUT("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<IngeniaDictionary>\n<Header>"
	    "<Version>3.0</Version><DefaultLanguage>en_US</DefaultLanguage></Header>\n<Body>\n"
	    "<Categories><Category id=\"OTHERS\"><Labels><Label lang=\"en_US\">Others</Label>"
	    "</Labels></Category></Categories>\n<Devices>\n<ETHDevice ProductCode=\"1\" "
	    "RevisionNumber=\"2\">\n<MCBRegisters>\n");
	for (unsigned i = 0; i < n_regs; i++) {
		PUT("<MCBRegister address=\"0x%03X\" subnode=\"%u\" address_type=\"NVM_CFG\" "
		    "access=\"rw\" dtype=\"u16\" id=\"GENERATED_REGISTER_%04u\" units=\"cnt\" "
		    "cyclic=\"CONFIG\" desc=\"Generated register %u, with a description as long "
		    "as the ones vendors write for their drives, which often run to two or three "
		    "sentences about what the register does.\" default=\"%02x00\" "
		    "cat_id=\"OTHERS\">\n<Labels><Label lang=\"en_US\">Generated register %u"
		    "</Label><Label lang=\"es_ES\">Registro generado %u</Label></Labels>\n"
		    "<Range min=\"0\" max=\"65535\"/>\n<Enumerations>",
		    i % 0x1000, 1 + i / 0x1000, i, i, i % 256, i, i);
		for (unsigned e = 0; e < 8; e++)
			PUT("<Enum value=\"%u\">Choice number %u of register %u</Enum>", e, e, i);
		PUT("</Enumerations>\n<BitFields><BitField name=\"LOW\" start=\"0\" end=\"7\"/>"
		    "<BitField name=\"HIGH\" start=\"8\" end=\"15\"/></BitFields>\n"
		    "</MCBRegister>\n");
	}
	PUT("</MCBRegisters>\n</ETHDevice>\n</Devices>\n</Body>\n</IngeniaDictionary>\n");
#undef PUT
	assert_true(len < cap);
	write_file(path, buf, len);
	free(buf);
	return len;
}

static void test_dict__large_file_time(void **state)
{
	char *dir = temp_dir();
	char path[512];
	struct loaded l;
	size_t size;
	double best = 1e9;

	(void)state;
	snprintf(path, sizeof(path), "%s/large.xdf", dir);
	size = write_large(path, 1300);
	assert_true(size > 1000000);
	for (int round = 0; round < 3; round++) {
		double t0 = now_ms(), t;

		l = load_ok(path, NULL);
		t = now_ms() - t0;
		if (t < best)
			best = t;
		assert_int_equal(ax_dict_reg_count(l.dicts[0]), 1300);
		loaded_free(&l);
	}
	print_message("large dictionary: %u registers, %zu bytes, loaded in %.1f ms\n", 1300u, size,
	              best);
	/*
	 * The target is well under 100 ms on a normal build; the bound here
	 * leaves room for sanitizers and valgrind while still catching a
	 * quadratic walk.
	 */
	assert_true(best < 5000.0);

	l = load_ok(path, NULL);
	check_self_lookups(l.dicts[0]);
	assert_int_equal(ax_reg_enum_count(find(l.dicts[0], "GENERATED_REGISTER_1299", 1)), 8);
	loaded_free(&l);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* ----- PDO access, version 3 conformance ---------------------------------------------------- */

/* Load @path as the device database imports it, with AX__XDF_* @flags. */
static int load_flags(const char *path, unsigned flags, struct loaded *l)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	err = ax__xdf_read_file(path, &buf, &len);
	if (err < 0)
		return err;
	err = ax__xdf_load_buffer_flags(&l->dicts, &l->n, path, buf, len, flags, NULL);
	free(buf);
	return err;
}

struct pdo_case {
	const char *id;
	unsigned subnode;
	const char *pdo_access;
};

static void check_pdo(const ax_dict *d, const struct pdo_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = ax_reg_cyclic(find(d, c[i].id, (int)c[i].subnode));

		if (strcmp(got, c[i].pdo_access) != 0)
			fail_msg("%s/%u: PDO access '%s', want '%s'", c[i].id, c[i].subnode, got,
			         c[i].pdo_access);
	}
}

/* Version 3 files say pdo_access (MCBRegister and Subitem); older ones and version 2, cyclic. */
static void test_dict__pdo_access(void **state)
{
	static const struct pdo_case eth[] = {
	        {"DRV_DIAG_ERROR_LAST_COM", 0, "CYCLIC_TX"},
	        {"DRV_STATE_CONTROL", 1, "CYCLIC_RX"},
	        {"CL_POS_SET_POINT_VALUE", 1, "CYCLIC_RXTX"},
	        {"MOT_PAIR_POLES", 1, "CONFIG"},
	};
	static const struct pdo_case can[] = {
	        {"DRV_STATE_CONTROL", 1, "CYCLIC_RX"},
	        {"DRV_STATE_STATUS", 1, "CYCLIC_TX"},
	};
	static const char doc[] =
	        "<IngeniaDictionary><Header><Version>%s</Version></Header><Body>%s"
	        "<%s address=\"0x010\" subnode=\"1\" access=\"rw\" dtype=\"u16\" "
	        "id=\"A\" pdo_access=\"CYCLIC_TX\" cyclic=\"CONFIG\"/>"
	        "<%s address=\"0x011\" subnode=\"1\" access=\"rw\" dtype=\"u16\" "
	        "id=\"B\" pdo_access=\"CYCLIC_RX\"/>%s</Body></IngeniaDictionary>";
	struct loaded l = load_ok(DATA("v3_pdo_access.xdf"), NULL);
	char buf[1024];

	(void)state;
	assert_int_equal(l.n, 2);
	check_pdo(l.dicts[0], eth, sizeof(eth) / sizeof(eth[0]));
	check_pdo(l.dicts[1], can, sizeof(can) / sizeof(can[0]));
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.dicts[i]->n_skipped, 0);
		assert_int_equal(l.dicts[i]->n_warnings, 0);
	}
	loaded_free(&l);

	/* Version 3: pdo_access wins over cyclic. Version 2 knows only cyclic. */
	snprintf(buf, sizeof(buf), doc, "3.0", "<Devices><ETHDevice><MCBRegisters>", "MCBRegister",
	         "MCBRegister", "</MCBRegisters></ETHDevice></Devices>");
	assert_int_equal(ax__xdf_load_buffer(&l.dicts, &l.n, "v3.xdf", buf, strlen(buf), NULL), 1);
	assert_string_equal(ax_reg_cyclic(find(l.dicts[0], "A", 1)), "CYCLIC_TX");
	assert_string_equal(ax_reg_cyclic(find(l.dicts[0], "B", 1)), "CYCLIC_RX");
	loaded_free(&l);
	snprintf(buf, sizeof(buf), doc, "2", "<Device Interface=\"ETH\"><Registers>", "Register",
	         "Register", "</Registers></Device>");
	assert_int_equal(ax__xdf_load_buffer(&l.dicts, &l.n, "v2.xdf", buf, strlen(buf), NULL), 1);
	assert_string_equal(ax_reg_cyclic(find(l.dicts[0], "A", 1)), "CONFIG");
	assert_string_equal(ax_reg_cyclic(find(l.dicts[0], "B", 1)), "");
	loaded_free(&l);
}

/* The monitoring address of @id on @subnode: "none", or "0xADDR@SUB". */
static const char *mon_of(const ax_dict *d, const char *id, int subnode, char *buf, size_t cap)
{
	uint32_t address = 0xDEAD;
	unsigned sub = 99;

	if (!ax_reg_monitoring(find(d, id, subnode), &address, &sub)) {
		assert_int_equal(address, 0xDEAD); /* untouched */
		assert_int_equal(sub, 99);
		return "none";
	}
	snprintf(buf, cap, "0x%03X@%u", (unsigned)address, sub);
	return buf;
}

/*
 * Where monitoring reaches a register: a version 3 file's MonDistV3 element
 * (none, none); a bad one is warned and ignored. Version 2: the cyclic data
 * of a numeric type, at the address + 0x800 per axis past the first, when
 * that fits in 12 bits.
 */
static void test_dict__monitoring_address(void **state)
{
	static const char v3[] =
	        "<IngeniaDictionary><Header><Version>3.0</Version></Header><Body><Devices>"
	        "<ETHDevice><MCBRegisters>"
	        "<MCBRegister address=\"0x030\" subnode=\"1\" access=\"r\" dtype=\"s32\" "
	        "id=\"POS\" pdo_access=\"CYCLIC_TX\">"
	        "<MonDistV3 address=\"0x0030\" subnode=\"1\" cyclic=\"CYCLIC_TX\"/></MCBRegister>"
	        "<MCBRegister address=\"0x031\" subnode=\"1\" access=\"r\" dtype=\"float\" "
	        "id=\"NO_ELEMENT\" pdo_access=\"CYCLIC_TX\"/>"
	        "<MCBRegister address=\"0x032\" subnode=\"2\" access=\"rw\" dtype=\"u16\" "
	        "id=\"ELSEWHERE\" pdo_access=\"CYCLIC_RX\">"
	        "<MonDistV3 address=\"0x832\" subnode=\"2\" cyclic=\"CYCLIC_RX\"/></MCBRegister>"
	        "<MCBRegister address=\"0x033\" subnode=\"1\" access=\"r\" dtype=\"u32\" "
	        "id=\"BAD_ADDRESS\" pdo_access=\"CYCLIC_TX\">"
	        "<MonDistV3 address=\"0x1000\" subnode=\"1\" cyclic=\"CYCLIC_TX\"/></MCBRegister>"
	        "<MCBRegister address=\"0x034\" subnode=\"1\" access=\"r\" dtype=\"str\" "
	        "id=\"TEXT\" pdo_access=\"CYCLIC_TX\">"
	        "<MonDistV3 address=\"0x034\" subnode=\"1\" cyclic=\"CYCLIC_TX\"/></MCBRegister>"
	        "</MCBRegisters></ETHDevice></Devices></Body></IngeniaDictionary>";
	static const char v2[] =
	        "<IngeniaDictionary><Header><Version>2</Version></Header><Body>"
	        "<Device Interface=\"ETH\"><Axes>"
	        "<Axis subnode=\"0\"><Registers>"
	        "<Register address=\"0x00F\" subnode=\"0\" access=\"r\" dtype=\"s32\" "
	        "id=\"ERR\" cyclic=\"CYCLIC_TX\"/></Registers></Axis>"
	        "<Axis subnode=\"1\"><Registers>"
	        "<Register address=\"0x030\" subnode=\"1\" access=\"r\" dtype=\"s32\" "
	        "id=\"POS\" cyclic=\"CYCLIC_TX\"/>"
	        "<Register address=\"0x025\" subnode=\"1\" access=\"rw\" dtype=\"float\" "
	        "id=\"CFG\" cyclic=\"CONFIG\"/>"
	        "<Register address=\"0x026\" subnode=\"1\" access=\"rw\" dtype=\"float\" "
	        "id=\"NO_CYCLIC\"/>"
	        "<Register address=\"0x6E4\" subnode=\"1\" access=\"r\" dtype=\"str\" "
	        "id=\"TEXT\" cyclic=\"CYCLIC_TX\"/></Registers></Axis>"
	        "<Axis subnode=\"2\"><Registers>"
	        "<Register address=\"0x030\" subnode=\"2\" access=\"r\" dtype=\"s32\" "
	        "id=\"POS\" cyclic=\"CYCLIC_TX\"/>"
	        "<Register address=\"0x7FF\" subnode=\"2\" access=\"r\" dtype=\"u8\" "
	        "id=\"LAST\" cyclic=\"CYCLIC_TX\"/></Registers></Axis>"
	        "<Axis subnode=\"3\"><Registers>"
	        "<Register address=\"0x030\" subnode=\"3\" access=\"r\" dtype=\"s32\" "
	        "id=\"POS\" cyclic=\"CYCLIC_TX\"/></Registers></Axis>"
	        "</Axes></Device></Body></IngeniaDictionary>";
	struct loaded l;
	const ax_dict *d;
	char b[32];

	(void)state;
	assert_int_equal(ax_reg_monitoring(NULL, NULL, NULL), 0);
	assert_int_equal(ax__xdf_load_buffer(&l.dicts, &l.n, "mon3.xdf", v3, strlen(v3), NULL), 1);
	d = l.dicts[0];
	assert_string_equal(mon_of(d, "POS", 1, b, sizeof(b)), "0x030@1");
	assert_string_equal(mon_of(d, "NO_ELEMENT", 1, b, sizeof(b)), "none");
	assert_string_equal(mon_of(d, "ELSEWHERE", 2, b, sizeof(b)), "0x832@2");
	assert_string_equal(mon_of(d, "BAD_ADDRESS", 1, b, sizeof(b)), "none");
	assert_string_equal(mon_of(d, "TEXT", 1, b, sizeof(b)), "none");
	assert_int_equal(ax_reg_monitoring(find(d, "POS", 1), NULL, NULL), 1);
	assert_int_equal(d->n_skipped, 0);
	assert_int_equal(d->n_warnings, 2);
	assert_non_null(strstr(d->warnings[0], "register 'BAD_ADDRESS': MonDistV3 needs a hex "
	                                       "address up to 0xFFF and a subnode 0..15 (got "
	                                       "'0x1000', '1'), ignoring"));
	assert_non_null(strstr(d->warnings[1], "register 'TEXT': a str cannot be monitored, "
	                                       "ignoring its MonDistV3"));
	loaded_free(&l);

	assert_int_equal(ax__xdf_load_buffer(&l.dicts, &l.n, "mon2.xdf", v2, strlen(v2), NULL), 1);
	d = l.dicts[0];
	assert_string_equal(mon_of(d, "ERR", 0, b, sizeof(b)), "0x00F@0");
	assert_string_equal(mon_of(d, "POS", 1, b, sizeof(b)), "0x030@1");
	assert_string_equal(mon_of(d, "POS", 2, b, sizeof(b)), "0x830@2");
	assert_string_equal(mon_of(d, "LAST", 2, b, sizeof(b)), "0xFFF@2");
	assert_string_equal(mon_of(d, "POS", 3, b, sizeof(b)), "none"); /* 0x1030: past 12 bits */
	assert_string_equal(mon_of(d, "CFG", 1, b, sizeof(b)), "none");
	assert_string_equal(mon_of(d, "NO_CYCLIC", 1, b, sizeof(b)), "none");
	assert_string_equal(mon_of(d, "TEXT", 1, b, sizeof(b)), "none");
	assert_int_equal(d->n_warnings, 0);
	loaded_free(&l);
}

/*
 * What format version 3 makes mandatory: reported once per element kind and
 * attribute (with how many more lack it), or the file refused at the first
 * gap; never a register skipped for it.
 */
static void test_dict__v3_conformance(void **state)
{
	const char *path = DATA("v3_missing_pdo_access.xdf");
	struct loaded l = {NULL, 0};
	char want[7][512];
	long dev = line_of(path, "<ETHDevice"), ctl = line_of(path, "id=\"DRV_STATE_CONTROL\"");
	long pos = line_of(path, "id=\"CL_POS_SET_POINT_VALUE\""), rng = line_of(path, "<Range");
	long error = line_of(path, "<Error ");

	(void)state;
	snprintf(want[0], sizeof(want[0]),
	         "%s:%ld: ETHDevice: no attribute 'PartNumber', which format version 3 requires",
	         path, dev);
	snprintf(want[1], sizeof(want[1]),
	         "%s:%ld: MCBRegister 'DRV_STATE_CONTROL': no attribute 'pdo_access', which format "
	         "version 3 requires (nor in 1 more MCBRegister elements of this device)",
	         path, ctl);
	snprintf(want[2], sizeof(want[2]),
	         "%s:%ld: MCBRegister 'CL_POS_SET_POINT_VALUE': no attribute 'desc', which format "
	         "version 3 requires",
	         path, pos);
	snprintf(want[3], sizeof(want[3]),
	         "%s:%ld: MCBRegister 'CL_POS_SET_POINT_VALUE': no attribute 'default', which "
	         "format version 3 requires",
	         path, pos);
	snprintf(want[4], sizeof(want[4]),
	         "%s:%ld: Range of 'CL_POS_SET_POINT_VALUE': no attribute 'max', which format "
	         "version 3 requires",
	         path, rng);
	snprintf(want[5], sizeof(want[5]),
	         "%s:%ld: Error '0x00003220': no attribute 'error_type', which format version 3 "
	         "requires",
	         path, error);

	/* A plain load reads what it can, quietly: every register is there. */
	l = load_ok(path, NULL);
	assert_int_equal(l.dicts[0]->n_skipped, 0);
	assert_int_equal(ax_dict_reg_count(l.dicts[0]), 3);
	assert_int_equal(l.dicts[0]->n_warnings, 1); /* only the Range without max */
	loaded_free(&l);

	/* Checked: one warning per gap, in file order. */
	assert_int_equal(load_flags(path, AX__XDF_CHECK_V3, &l), 1);
	assert_int_equal(ax_dict_reg_count(l.dicts[0]), 3);
	assert_int_equal(l.dicts[0]->n_skipped, 0);
	assert_int_equal(l.dicts[0]->n_warnings, 7);
	for (size_t i = 0, k = 0; i < 6; i++, k++) {
		/* The importer's own Range warning comes first; the gaps follow. */
		if (k == 0)
			k++;
		if (strcmp(l.dicts[0]->warnings[k], want[i]) != 0)
			fail_msg("warning %zu:\n got  %s\n want %s", k, l.dicts[0]->warnings[k],
			         want[i]);
	}
	loaded_free(&l);

	/* Strict: refused at the first gap in the file, naming file:line and attribute. */
	l.dicts = (ax_dict **)(uintptr_t)0x1;
	l.n = 77;
	assert_int_equal(load_flags(path, AX__XDF_STRICT, &l), AX_EFORMAT);
	assert_ptr_equal(l.dicts, (ax_dict **)(uintptr_t)0x1);
	assert_int_equal(l.n, 77);
	snprintf(want[6], sizeof(want[6]),
	         "%s:%ld: ETHDevice: no attribute 'PartNumber', which format version 3 requires "
	         "(7 missing attributes in the file); a strict import refuses it",
	         path, dev);
	assert_string_equal(ax_error_last(), want[6]);

	/* A complete file passes either way, without a word; version 2 has no such list. */
	assert_int_equal(load_flags(DATA("v3_pdo_access.xdf"), AX__XDF_STRICT, &l), 2);
	assert_int_equal(l.dicts[0]->n_warnings + l.dicts[1]->n_warnings, 0);
	loaded_free(&l);
	assert_int_equal(load_flags(DATA("v2_axes.xdf"), AX__XDF_STRICT, &l), 1);
	assert_int_equal(l.dicts[0]->n_warnings, 0);
	loaded_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dict__v2_axes),
	        cmocka_unit_test(test_dict__v2_can),
	        cmocka_unit_test(test_dict__v3_multi),
	        cmocka_unit_test(test_dict__lookups),
	        cmocka_unit_test(test_dict__lookups_many),
	        cmocka_unit_test(test_dict__bitfields),
	        cmocka_unit_test(test_dict__builder_limits),
	        cmocka_unit_test(test_dict__half_built),
	        cmocka_unit_test(test_dict__skipped),
	        cmocka_unit_test(test_dict__duplicate_ids_warned),
	        cmocka_unit_test(test_dict__subnodes_beyond_mcb),
	        cmocka_unit_test(test_dict__addresses_beyond_mcb_kept),
	        cmocka_unit_test(test_dict__errors_all_fields),
	        cmocka_unit_test(test_dict__tables),
	        cmocka_unit_test(test_dict__tables_not_in_version_2),
	        cmocka_unit_test(test_dict__tables_builder),
	        cmocka_unit_test(test_dict__malformed),
	        cmocka_unit_test(test_dict__wrong_root),
	        cmocka_unit_test(test_dict__unsupported_version),
	        cmocka_unit_test(test_dict__external_entity),
	        cmocka_unit_test(test_dict__billion_laughs),
	        cmocka_unit_test(test_dict__external_entity_not_opened),
	        cmocka_unit_test(test_dict__size_limit),
	        cmocka_unit_test(test_dict__bad_arguments),
	        cmocka_unit_test(test_dict__documents),
	        cmocka_unit_test(test_dict__default_language),
	        cmocka_unit_test(test_dict__concurrent_loads),
	        cmocka_unit_test(test_dict__large_file_time),
	        cmocka_unit_test(test_dict__pdo_access),
	        cmocka_unit_test(test_dict__v3_conformance),
	        cmocka_unit_test(test_dict__monitoring_address),
	};
	return cmocka_run_group_tests_name("dict", tests, NULL, NULL);
}
