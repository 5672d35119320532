/* SPDX-License-Identifier: MIT */
/*
 * XDF import: `IngeniaDictionary` XML files, versions 2 and 3, into the
 * dictionary model (dict.h). The file is read once, parsed once into a
 * libxml2 tree and walked once, so time is linear in its size.
 *
 * Dictionary files come from vendors' websites and users' mailboxes, so the
 * parser is held down: no network (XML_PARSE_NONET), no DTD loading, no
 * entity substitution, and any entity declaration stops the parse the
 * moment it is seen, before a reference to it could be expanded or an
 * external entity opened. Errors go to a handler of this parse only, never
 * to libxml2's process-wide one, so concurrent loads do not mix messages.
 *
 * A register that lacks a mandatory attribute (or has a value that cannot
 * be right) is skipped with a "file:line: ..." warning and the import goes
 * on; so is a table, and one whose registers are not in the dictionary. A
 * register id used again on one subnode keeps both registers (by id the
 * first is found, the other by its address) and warns at the later one's
 * line. In the MCB address space a register on a subnode past 15 or at an
 * address past 0xFFF (a frame has 4 and 12 bits for them) is kept, with a
 * warning, and flagged unreachable (ax_reg_reachable()): never wrapped onto
 * another register. A document that is not well-formed, not a dictionary
 * (a configuration file among them), or of an unknown version is refused
 * whole.
 *
 * Format version 3 also makes attributes mandatory that the import can do
 * without (pdo_access, desc, default, ...). On request (the device
 * database's import) each one a file lacks is a warning, or refuses the
 * file; see "version 3 conformance" below.
 */
#define _POSIX_C_SOURCE 200809L

#define AX__ERROR_CLASS AX_ERRCLASS_DICT /* errors set here; see src/error.h */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "ctx.h"
#include "dict.h"
#include "error.h"
#include "xdf.h"
#include "axlink/mcb.h"
#include "axlink/plugin.h"
#include "util.h"

/* libxml2 2.12 made the structured error handler take a const error. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *xdf_error_ptr;
#else
typedef xmlErrorPtr xdf_error_ptr;
#endif

/* How much of a value from the file a warning quotes. */
#define XDF_QUOTE_MAX 64

/* The register that names the vendor when the device element does not. */
#define XDF_VENDOR_REG "DRV_ID_VENDOR_ID_COCO"

/* Where one file's import stands. */
struct xdf {
	const char *path;
	ax_ctx *ctx;
	unsigned int version; /* 2 or 3 */
	const char *lang;     /* the file's DefaultLanguage, "en_US" if it names none */
	ax_dict *shared;      /* Body categories and errors, warnings before the first device */
	ax_dict **dicts;      /* one per device element, in file order */
	size_t n_dicts, cap_dicts;
	xmlChar **scratch; /* strings libxml2 allocated for us; freed at the end */
	size_t n_scratch, cap_scratch;
	int oom;         /* a scratch allocation failed */
	long *reg_lines; /* line of each register of the device being read, by index */
	size_t cap_lines;
	/*
	 * Register elements that carry a value (storage) but lack what a
	 * dictionary entry needs (an address, a dtype): what a configuration
	 * file (XCF) holds. The first one's line, for the message.
	 */
	size_t config_regs;
	long config_line;
};

/* What a register's position in the file implies. */
struct xdf_place {
	unsigned subnode;     /* subnode unless the register names one */
	int canopen;          /* address from the CANopen object's index and the subindex */
	xmlNodePtr object;    /* that CANopenObject */
	uint32_t max_address; /* largest valid address attribute (MCB) */
	unsigned max_subnode; /* largest subnode the address space reaches */
};

/* ----- small helpers ---------------------------------------------------------------------- */

static long xdf_line(xmlNodePtr n)
{
	return n ? xmlGetLineNo(n) : 0;
}

static int xdf_is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The next element sibling named @name, starting at @n itself. */
static xmlNodePtr xdf_seek(xmlNodePtr n, const char *name)
{
	for (; n; n = n->next)
		if (xdf_is(n, name))
			return n;
	return NULL;
}

static xmlNodePtr xdf_child(xmlNodePtr parent, const char *name)
{
	return parent ? xdf_seek(parent->children, name) : NULL;
}

#define XDF_EACH(it, parent, name)                                                                 \
	for (xmlNodePtr it = xdf_child((parent), (name)); it; it = xdf_seek(it->next, (name)))

static int xdf_keep(struct xdf *x, xmlChar *s)
{
	if (!s)
		goto oom;
	if (x->n_scratch == x->cap_scratch) {
		size_t cap = x->cap_scratch ? x->cap_scratch * 2 : 16;
		xmlChar **p = realloc(x->scratch, cap * sizeof(*p));

		if (!p) {
			xmlFree(s);
			goto oom;
		}
		x->scratch = p;
		x->cap_scratch = cap;
	}
	x->scratch[x->n_scratch++] = s;
	return 0;
oom:
	x->oom = 1;
	return -1;
}

/*
 * An attribute's value, or NULL when absent. libxml2 keeps a value as one
 * text node unless it holds entity references (refused earlier), so the
 * fast path returns the tree's own string without copying.
 */
static const char *xdf_attr(struct xdf *x, xmlNodePtr n, const char *name)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		xmlChar *s;

		if (strcmp((const char *)a->name, name) != 0)
			continue;
		if (!a->children)
			return "";
		if (!a->children->next && a->children->type == XML_TEXT_NODE)
			return a->children->content ? (const char *)a->children->content : "";
		s = xmlNodeListGetString(n->doc, a->children, 1);
		return xdf_keep(x, s) < 0 ? NULL : (const char *)s;
	}
	return NULL;
}

static int xdf_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* An element's text, without the blanks that indentation puts around it. */
static const char *xdf_text(struct xdf *x, xmlNodePtr n)
{
	xmlNodePtr c = n->children;
	xmlChar *s;
	size_t len, start = 0;

	if (!c)
		return "";
	if (!c->next && c->type == XML_TEXT_NODE && c->content) {
		const char *t = (const char *)c->content;

		len = strlen(t);
		if (len == 0 || (!xdf_space(t[0]) && !xdf_space(t[len - 1])))
			return t;
	}
	s = xmlNodeGetContent(n);
	if (xdf_keep(x, s) < 0)
		return "";
	len = strlen((char *)s);
	while (len > 0 && xdf_space((char)s[len - 1]))
		len--;
	while (start < len && xdf_space((char)s[start]))
		start++;
	s[len] = '\0';
	return (const char *)s + start;
}

/*
 * Unsigned number: decimal, or hex with 0x; @hex makes bare digits hex too
 * (addresses and error codes are always hex in XDF). Surrounding blanks are
 * allowed, signs and junk are not. Returns 0 or -1.
 */
static int xdf_parse_u64(const char *s, int hex, uint64_t max, uint64_t *out)
{
	char buf[40];
	size_t len;
	const char *p;
	char *end;
	int base = hex ? 16 : 10;
	unsigned long long v;

	while (xdf_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && xdf_space(s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	p = buf;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	/* strtoull would take a sign or blanks here; a digit must come first. */
	if (base == 16 ? ax__hex_digit(p[0]) < 0 : !(p[0] >= '0' && p[0] <= '9'))
		return -1;
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno == ERANGE || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int xdf_parse_u32(const char *s, int hex, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (xdf_parse_u64(s, hex, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Signed number for enum values: optional '-', then decimal or 0x hex. */
static int xdf_parse_i64(const char *s, int64_t *out)
{
	uint64_t mag;
	int neg = 0;

	while (xdf_space(*s))
		s++;
	if (*s == '-') {
		neg = 1;
		s++;
		if (xdf_space(*s))
			return -1;
	}
	if (xdf_parse_u64(s, 0, neg ? (uint64_t)INT64_MAX + 1 : UINT64_MAX, &mag) < 0)
		return -1;
	/*
	 * Values above INT64_MAX come from u64 registers: they keep their bit
	 * pattern, which is what the drive reports.
	 */
	*out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

/* ----- diagnostics ------------------------------------------------------------------------ */

/* Log a "file:line: ..." warning about line @at and keep it in @d for the import report. */
AX__PRINTF(4, 5)
static int xdf_warn_at(struct xdf *x, ax_dict *d, long at, const char *fmt, ...)
{
	char msg[512], line[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(line, sizeof(line), "%s:%ld: %s", x->path, at, msg);
	AX_LOG_WARN(x->ctx, "xdf", "%s", line);
	return ax__dict_add_warning(d, line);
}

/* The same about element @n. */
AX__PRINTF(4, 5)
static int xdf_warn(struct xdf *x, ax_dict *d, xmlNodePtr n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xdf_warn_at(x, d, xdf_line(n), "%s", msg);
}

/* Warnings about the file rather than one device go to the first dictionary. */
static ax_dict *xdf_file_dict(struct xdf *x)
{
	return x->n_dicts ? x->dicts[0] : x->shared;
}

/* Skip a register: count it and say why, in the form the import report shows. */
AX__PRINTF(5, 6)
static int xdf_skip(struct xdf *x, ax_dict *d, xmlNodePtr n, const char *id, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	d->n_skipped++;
	if (id)
		return xdf_warn(x, d, n, "register '%.*s': %s, skipped", XDF_QUOTE_MAX, id, why);
	return xdf_warn(x, d, n, "register: %s, skipped", why);
}

/* ----- labels, categories, errors --------------------------------------------------------- */

/* The label of @n in the file's language, else en_US, else the first; "" without labels. */
static const char *xdf_label(struct xdf *x, xmlNodePtr n)
{
	xmlNodePtr labels = xdf_child(n, "Labels");
	xmlNodePtr first = NULL, en = NULL;

	XDF_EACH(l, labels, "Label")
	{
		const char *lang = xdf_attr(x, l, "lang");

		if (!first)
			first = l;
		if (lang && strcmp(lang, x->lang) == 0)
			return xdf_text(x, l);
		if (!en && lang && strcmp(lang, "en_US") == 0)
			en = l;
	}
	if (en)
		return xdf_text(x, en);
	return first ? xdf_text(x, first) : "";
}

static int xdf_categories(struct xdf *x, ax_dict *d, xmlNodePtr cats)
{
	int err;

	XDF_EACH(c, cats, "Category")
	{
		const char *id = xdf_attr(x, c, "id");

		if (!id || !*id) {
			err = xdf_warn(x, d, c, "category: missing attribute 'id', ignoring");
			if (err < 0)
				return err;
			continue;
		}
		err = ax__dict_add_category(d, id, xdf_label(x, c), NULL);
		if (err < 0)
			return err;
		XDF_EACH(s, xdf_child(c, "Subcategories"), "Subcategory")
		{
			const char *sid = xdf_attr(x, s, "id");

			if (!sid || !*sid) {
				err = xdf_warn(x, d, s,
				               "subcategory of '%.*s': missing attribute 'id', "
				               "ignoring",
				               XDF_QUOTE_MAX, id);
				if (err < 0)
					return err;
				continue;
			}
			err = ax__dict_add_category(d, sid, xdf_label(x, s), id);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

static int xdf_errors(struct xdf *x, ax_dict *d, xmlNodePtr errors)
{
	int err;

	XDF_EACH(e, errors, "Error")
	{
		const char *id = xdf_attr(x, e, "id");
		const char *text;
		uint32_t code;

		if (!id) {
			err = xdf_warn(x, d, e, "error entry: missing attribute 'id', ignoring");
			if (err < 0)
				return err;
			continue;
		}
		if (xdf_parse_u32(id, 1, UINT32_MAX, &code) < 0) {
			err = xdf_warn(x, d, e,
			               "error entry: id '%.*s' is not a 32-bit hex code, ignoring",
			               XDF_QUOTE_MAX, id);
			if (err < 0)
				return err;
			continue;
		}
		text = xdf_label(x, e);
		if (!*text) {
			const char *desc = xdf_attr(x, e, "description");

			text = desc ? desc : "";
		}
		err = ax__dict_add_error(d, code, text, xdf_attr(x, e, "error_type"),
		                         xdf_attr(x, e, "affected_module"));
		if (err < 0)
			return err;
	}
	return 0;
}

/* ----- registers -------------------------------------------------------------------------- */

/* clang-format off */
static const struct { const char *name; int dtype; } xdf_dtypes[] = {
	{ "u8", AX_DTYPE_U8 }, { "s8", AX_DTYPE_S8 }, { "u16", AX_DTYPE_U16 },
	{ "s16", AX_DTYPE_S16 }, { "u32", AX_DTYPE_U32 }, { "s32", AX_DTYPE_S32 },
	{ "u64", AX_DTYPE_U64 }, { "s64", AX_DTYPE_S64 }, { "float", AX_DTYPE_FLOAT },
	{ "str", AX_DTYPE_STR }, { "bool", AX_DTYPE_BOOL }, { "bit", AX_DTYPE_BOOL },
	{ "byteArray512", AX_DTYPE_BYTES },
};
/* clang-format on */

static int xdf_dtype(const char *name)
{
	for (size_t i = 0; i < AX__ARRAY_SIZE(xdf_dtypes); i++)
		if (strcasecmp(name, xdf_dtypes[i].name) == 0)
			return xdf_dtypes[i].dtype;
	return 0;
}

static int xdf_access(const char *text)
{
	if (strcasecmp(text, "r") == 0)
		return AX_REG_READ;
	if (strcasecmp(text, "w") == 0)
		return AX_REG_WRITE;
	if (strcasecmp(text, "rw") == 0)
		return AX_REG_RW;
	return 0;
}

/*
 * A version 3 default: the hex of the value's little-endian bytes. Fixed-size
 * types need exactly their size; str is cut at its first NUL and given one.
 * Returns 0, or -1 with @why filled.
 */
static int xdf_default_v3(int dtype, const char *text, uint8_t *buf, size_t *len_out, char *why,
                          size_t why_cap)
{
	size_t digits, n, want = ax_dtype_size(dtype);

	while (xdf_space(*text))
		text++;
	digits = strlen(text);
	while (digits > 0 && xdf_space(text[digits - 1]))
		digits--;
	for (size_t i = 0; i < digits; i++) {
		if (ax__hex_digit(text[i]) < 0) {
			(void)snprintf(why, why_cap, "'%c' at offset %zu is not a hex digit",
			               text[i], i);
			return -1;
		}
	}
	if (digits % 2) {
		(void)snprintf(why, why_cap, "odd number of hex digits (%zu)", digits);
		return -1;
	}
	n = digits / 2;
	if (n > AX_VALUE_MAX) {
		(void)snprintf(why, why_cap, "%zu bytes, over the %d-byte limit", n, AX_VALUE_MAX);
		return -1;
	}
	if (n && want && n != want) {
		(void)snprintf(why, why_cap, "%zu byte%s, a %s needs %zu", n, n == 1 ? "" : "s",
		               ax_dtype_name(dtype), want);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] =
		        (uint8_t)(ax__hex_digit(text[2 * i]) * 16 + ax__hex_digit(text[2 * i + 1]));
	if (dtype == AX_DTYPE_BOOL && n && buf[0] > 1) {
		(void)snprintf(why, why_cap, "bool byte 0x%02x is neither 0 nor 1", buf[0]);
		return -1;
	}
	if (dtype == AX_DTYPE_STR && n) {
		const uint8_t *nul = memchr(buf, 0, n);

		if (nul) {
			n = (size_t)(nul - buf) + 1;
		} else if (n == AX_VALUE_MAX) {
			(void)snprintf(why, why_cap, "%d characters leave no room for the NUL",
			               AX_VALUE_MAX);
			return -1;
		} else {
			buf[n++] = 0;
		}
	}
	*len_out = n;
	return 0;
}

static int xdf_reg_labels(struct xdf *x, struct ax_reg *r, xmlNodePtr n)
{
	int err;

	XDF_EACH(l, xdf_child(n, "Labels"), "Label")
	{
		const char *lang = xdf_attr(x, l, "lang");

		err = ax__dict_reg_add_label(r, lang ? lang : "", xdf_text(x, l));
		if (err < 0)
			return err;
	}
	return 0;
}

/*
 * Range, enums and bitfields. A bad entry among them loses only itself:
 * the register stays, with a warning.
 */
static int xdf_reg_details(struct xdf *x, ax_dict *d, struct ax_reg *r, xmlNodePtr n)
{
	xmlNodePtr range = xdf_child(n, "Range");
	unsigned width = (unsigned)ax_dtype_size(r->dtype) * 8;
	int err;

	if (range) {
		const char *min = xdf_attr(x, range, "min");
		const char *max = xdf_attr(x, range, "max");

		if (min && max)
			err = ax__dict_reg_set_range(r, min, max);
		else
			err = xdf_warn(x, d, range, "register '%.*s': Range without '%s', ignoring",
			               XDF_QUOTE_MAX, r->id, min ? "max" : "min");
		if (err < 0)
			return err;
	}
	XDF_EACH(e, xdf_child(n, "Enumerations"), "Enum")
	{
		const char *v = xdf_attr(x, e, "value");
		int64_t value;

		if (!v || xdf_parse_i64(v, &value) < 0)
			err = xdf_warn(x, d, e,
			               "register '%.*s': enum value '%.*s' is not an integer, "
			               "ignoring",
			               XDF_QUOTE_MAX, r->id, XDF_QUOTE_MAX, v ? v : "(missing)");
		else
			err = ax__dict_reg_add_enum(r, value, xdf_text(x, e));
		if (err < 0)
			return err;
	}
	XDF_EACH(b, xdf_child(n, "BitFields"), "BitField")
	{
		const char *name = xdf_attr(x, b, "name");
		const char *s = xdf_attr(x, b, "start");
		const char *e = xdf_attr(x, b, "end");
		uint32_t start, end;

		if (!name || !*name || !s || !e || xdf_parse_u32(s, 0, 63, &start) < 0 ||
		    xdf_parse_u32(e, 0, 63, &end) < 0 || start > end) {
			err = xdf_warn(x, d, b,
			               "register '%.*s': bitfield '%.*s' needs a name and bits "
			               "start <= end <= 63 (got '%.*s'..'%.*s'), ignoring",
			               XDF_QUOTE_MAX, r->id, XDF_QUOTE_MAX, name ? name : "",
			               XDF_QUOTE_MAX, s ? s : "", XDF_QUOTE_MAX, e ? e : "");
		} else if (width && end >= width) {
			err = xdf_warn(
			        x, d, b,
			        "register '%.*s': bitfield '%.*s' bit %u is past the %u bits "
			        "of a %s, ignoring",
			        XDF_QUOTE_MAX, r->id, XDF_QUOTE_MAX, name, (unsigned)end, width,
			        ax_dtype_name(r->dtype));
		} else {
			err = ax__dict_reg_add_bitfield(r, name, start, end);
		}
		if (err < 0)
			return err;
	}
	return 0;
}

/* Types a monitoring or disturbance channel carries (map word type codes 0..8). */
static int xdf_monitorable_dtype(int dtype)
{
	return dtype >= AX_DTYPE_U8 && dtype <= AX_DTYPE_FLOAT;
}

/*
 * Where monitoring and disturbance reach the register (ax_reg_monitoring()).
 * Version 3: its MonDistV3 element (address in hex, subnode); without one it
 * cannot be monitored. Version 2 has no such element: a register of the
 * cyclic data of a numeric type is reached at its address, plus 0x800 per
 * axis past the first, as the clients of the protocol compute it. A bad
 * element loses only itself, with a warning.
 */
static int xdf_reg_monitoring(struct xdf *x, ax_dict *d, struct ax_reg *r, xmlNodePtr n,
                              const struct xdf_place *pl)
{
	xmlNodePtr m = xdf_child(n, "MonDistV3");
	uint32_t address, sub;

	if (x->version >= 3) {
		const char *a, *s;

		if (!m)
			return 0;
		a = xdf_attr(x, m, "address");
		s = xdf_attr(x, m, "subnode");
		if (!a || !s || xdf_parse_u32(a, 1, AX_MCB_MAX_ADDRESS, &address) < 0 ||
		    xdf_parse_u32(s, 0, 15, &sub) < 0)
			return xdf_warn(x, d, m,
			                "register '%.*s': MonDistV3 needs a hex address up to 0x%X "
			                "and a subnode 0..15 (got '%.*s', '%.*s'), ignoring",
			                XDF_QUOTE_MAX, r->id, AX_MCB_MAX_ADDRESS, XDF_QUOTE_MAX,
			                a ? a : "", XDF_QUOTE_MAX, s ? s : "");
		if (!xdf_monitorable_dtype(r->dtype))
			return xdf_warn(x, d, m,
			                "register '%.*s': a %s cannot be monitored, ignoring its "
			                "MonDistV3",
			                XDF_QUOTE_MAX, r->id, ax_dtype_name(r->dtype));
	} else {
		if (pl->canopen || !r->cyclic || strcmp(r->cyclic, "CONFIG") == 0 ||
		    !xdf_monitorable_dtype(r->dtype) || r->subnode > 15)
			return 0;
		address = r->address + (r->subnode > 1 ? 0x800u * (r->subnode - 1u) : 0u);
		if (address > AX_MCB_MAX_ADDRESS)
			return 0;
		sub = r->subnode;
	}
	r->mon_set = 1;
	r->mon_address = (uint16_t)address;
	r->mon_subnode = (uint8_t)sub;
	return 0;
}

/* Remember the line of the device's register @index, for warnings about it later. */
static int xdf_note_line(struct xdf *x, size_t index, long line)
{
	if (index >= x->cap_lines) {
		size_t cap = x->cap_lines ? x->cap_lines * 2 : 64;
		long *p;

		while (cap <= index)
			cap *= 2;
		p = realloc(x->reg_lines, cap * sizeof(*p));
		if (!p)
			return ax__error_oom();
		x->reg_lines = p;
		x->cap_lines = cap;
	}
	x->reg_lines[index] = line;
	return 0;
}

/* One Register, MCBRegister or CANopen Subitem. Returns < 0 only when the import must stop. */
static int xdf_register(struct xdf *x, ax_dict *d, xmlNodePtr n, const struct xdf_place *pl,
                        unsigned *max_subnode)
{
	/*
	 * "cyclic" is the version 2 name of the PDO access (CONFIG, CYCLIC_RX,
	 * ...); version 3 calls it "pdo_access" (older version 3 files still
	 * say "cyclic": read when pdo_access is absent).
	 */
	const char *const optional[] = {
	        "units",
	        x->version >= 3 && xdf_attr(x, n, "pdo_access") ? "pdo_access" : "cyclic",
	        "address_type",
	        "desc",
	        "cat_id",
	        "scat_id"};
	const char *id, *addr = NULL, *index = NULL, *subindex = NULL, *dtype_s, *access_s;
	const char *sub_s, *def_s;
	uint8_t def[AX_VALUE_MAX + 1];
	size_t def_len = 0;
	uint32_t address, hi, lo;
	unsigned subnode = pl->subnode;
	int dtype, access, err;
	struct ax_reg *r;
	char why[160];

	/* A saved value without an address or a type: a configuration's entry. */
	if (xdf_attr(x, n, "storage") &&
	    (!xdf_attr(x, n, "dtype") || !xdf_attr(x, n, pl->canopen ? "subindex" : "address"))) {
		if (!x->config_regs++)
			x->config_line = xdf_line(n);
	}
	id = xdf_attr(x, n, "id");
	if (!id || !*id)
		return xdf_skip(x, d, n, NULL, "missing attribute 'id'");
	if (pl->canopen) {
		index = pl->object ? xdf_attr(x, pl->object, "index") : NULL;
		if (!index)
			return xdf_skip(x, d, n, id, "missing attribute 'index' (CANopenObject)");
		subindex = xdf_attr(x, n, "subindex");
		if (!subindex)
			return xdf_skip(x, d, n, id, "missing attribute 'subindex'");
	} else {
		addr = xdf_attr(x, n, "address");
		if (!addr)
			return xdf_skip(x, d, n, id, "missing attribute 'address'");
	}
	dtype_s = xdf_attr(x, n, "dtype");
	if (!dtype_s)
		return xdf_skip(x, d, n, id, "missing attribute 'dtype'");
	access_s = xdf_attr(x, n, "access");
	if (!access_s)
		return xdf_skip(x, d, n, id, "missing attribute 'access'");

	if (pl->canopen) {
		if (xdf_parse_u32(index, 1, 0xFFFF, &hi) < 0)
			return xdf_skip(x, d, n, id, "index '%.*s' is not a 16-bit hex number",
			                XDF_QUOTE_MAX, index);
		if (xdf_parse_u32(subindex, 0, 0xFF, &lo) < 0)
			return xdf_skip(x, d, n, id, "subindex '%.*s' is not a number 0..255",
			                XDF_QUOTE_MAX, subindex);
		address = hi << 8 | lo;
	} else if (xdf_parse_u32(addr, 1, pl->max_address, &address) < 0) {
		return xdf_skip(x, d, n, id, "address '%.*s' is not hex up to 0x%X", XDF_QUOTE_MAX,
		                addr, (unsigned)pl->max_address);
	}
	dtype = xdf_dtype(dtype_s);
	if (!dtype)
		return xdf_skip(x, d, n, id,
		                "unknown dtype '%.*s' (u8 s8 u16 s16 u32 s32 u64 s64 float str "
		                "bool bit byteArray512)",
		                XDF_QUOTE_MAX, dtype_s);
	access = xdf_access(access_s);
	if (!access)
		return xdf_skip(x, d, n, id, "unknown access '%.*s' (r, w or rw)", XDF_QUOTE_MAX,
		                access_s);
	sub_s = xdf_attr(x, n, "subnode");
	if (sub_s && xdf_parse_u32(sub_s, 0, 255, &lo) < 0)
		return xdf_skip(x, d, n, id, "subnode '%.*s' is not a number 0..255", XDF_QUOTE_MAX,
		                sub_s);
	if (sub_s)
		subnode = lo;

	/* Version 3 writes defaults as little-endian hex, version 2 as text in the type. */
	def_s = xdf_attr(x, n, x->version >= 3 ? "default" : "storage");
	if (def_s && *def_s) {
		if (x->version >= 3) {
			if (xdf_default_v3(dtype, def_s, def, &def_len, why, sizeof(why)) < 0)
				return xdf_skip(x, d, n, id, "bad default '%.*s': %s",
				                XDF_QUOTE_MAX, def_s, why);
		} else {
			err = ax_value_parse(dtype, def_s, def, AX_VALUE_MAX, &def_len);
			if (err < 0)
				return xdf_skip(x, d, n, id, "bad storage value: %s",
				                ax_error_last());
		}
	}

	/*
	 * An MCB frame has 4 bits for the subnode and 12 for the address: a
	 * register past them is kept (the catalogue is the file's) and flagged
	 * by the seal, never wrapped onto another register.
	 */
	if (subnode > pl->max_subnode)
		err = xdf_warn(
		        x, d, n,
		        "register '%.*s': subnode %u is beyond the MCB subnodes 0..%u: kept, "
		        "but an MCB link cannot reach it",
		        XDF_QUOTE_MAX, id, subnode, pl->max_subnode);
	else if (d->identity.addr_space == AX_ADDR_MCB && address > AX_MCB_MAX_ADDRESS)
		err = xdf_warn(
		        x, d, n,
		        "register '%.*s': address 0x%X is past the 12 bits of an MCB address "
		        "(0..0x%X): kept, but an MCB link cannot reach it",
		        XDF_QUOTE_MAX, id, (unsigned)address, AX_MCB_MAX_ADDRESS);
	else
		err = 0;
	if (err < 0)
		return err;
	err = xdf_note_line(x, d->n_regs, xdf_line(n));
	if (err < 0)
		return err;
	err = ax__dict_add_reg(d, id, subnode, address, dtype, access, &r);
	if (err < 0)
		return err;
	for (size_t i = 0; i < AX__ARRAY_SIZE(optional); i++) {
		char **field[] = {&r->units,       &r->cyclic,   &r->address_type,
		                  &r->description, &r->category, &r->subcategory};
		const char *v = xdf_attr(x, n, optional[i]);

		if (!v)
			continue;
		err = ax__dict_reg_set_str(r, field[i], v);
		if (err < 0)
			return err;
	}
	if (def_len) {
		err = ax__dict_reg_set_default(r, def, def_len);
		if (err < 0)
			return err;
	}
	err = xdf_reg_labels(x, r, n);
	if (err < 0)
		return err;
	err = xdf_reg_details(x, d, r, n);
	if (err < 0)
		return err;
	err = xdf_reg_monitoring(x, d, r, n, pl);
	if (err < 0)
		return err;
	if (subnode <= pl->max_subnode && subnode > *max_subnode)
		*max_subnode = subnode;
	return 0;
}

/* An optional subnode number in attribute @name of @n; @fallback when absent or bad. */
static int xdf_subnode_attr(struct xdf *x, ax_dict *d, xmlNodePtr n, const char *name,
                            unsigned fallback, unsigned *out)
{
	const char *s = xdf_attr(x, n, name);
	uint32_t v;

	*out = fallback;
	if (!s)
		return 0;
	if (xdf_parse_u32(s, 0, 255, &v) < 0)
		return xdf_warn(x, d, n, "%s '%.*s' is not a number 0..255, using %u", name,
		                XDF_QUOTE_MAX, s, fallback);
	*out = v;
	return 0;
}

static int xdf_registers(struct xdf *x, ax_dict *d, xmlNodePtr list, const char *name,
                         const struct xdf_place *pl, unsigned *max_subnode)
{
	int err;

	XDF_EACH(n, list, name)
	{
		err = xdf_register(x, d, n, pl, max_subnode);
		if (err < 0)
			return err;
	}
	return 0;
}

static int xdf_canopen_objects(struct xdf *x, ax_dict *d, xmlNodePtr objects, unsigned subnode,
                               unsigned *max_subnode)
{
	int err;

	XDF_EACH(o, objects, "CANopenObject")
	{
		struct xdf_place pl = {subnode, 1, o, 0, UINT8_MAX};

		/* Files name the object's subnode either way. */
		err = xdf_subnode_attr(x, d, o, xdf_attr(x, o, "subnode") ? "subnode" : "axis",
		                       subnode, &pl.subnode);
		if (err < 0)
			return err;
		err = xdf_registers(x, d, xdf_child(o, "Subitems"), "Subitem", &pl, max_subnode);
		if (err < 0)
			return err;
	}
	return 0;
}

/*
 * Registers of one subnode sharing an id: a lookup by id finds the first in
 * file order, so each later one is reached by its address only. Both stay;
 * each later one gets a warning at its line. Needs ax__dict_index.
 */
static int xdf_duplicates(struct xdf *x, ax_dict *d)
{
	size_t first = 0;
	int err;

	for (size_t i = 1; i < d->n_regs; i++) {
		const struct ax_reg *a = &d->regs[d->by_id[first]];
		const struct ax_reg *b = &d->regs[d->by_id[i]];

		if (strcmp(a->id, b->id) != 0 || a->subnode != b->subnode) {
			first = i;
			continue;
		}
		err = xdf_warn_at(x, d, x->reg_lines[d->by_id[i]],
		                  "register '%.*s' (address 0x%03X): subnode %u already has this "
		                  "id at line %ld (address 0x%03X); lookups by id find that one, "
		                  "this one by its address",
		                  XDF_QUOTE_MAX, b->id, (unsigned)b->address, b->subnode,
		                  x->reg_lines[d->by_id[first]], (unsigned)a->address);
		if (err < 0)
			return err;
	}
	return 0;
}

/* ----- tables ----------------------------------------------------------------------------- */

/*
 * Skip a table: say why in the form the import report shows. Unlike
 * registers, tables do not count in n_skipped (the report's "registers
 * skipped").
 */
AX__PRINTF(5, 6)
static int xdf_skip_table(struct xdf *x, ax_dict *d, xmlNodePtr n, const char *id, const char *fmt,
                          ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (id)
		return xdf_warn(x, d, n, "table '%.*s': %s, skipped", XDF_QUOTE_MAX, id, why);
	return xdf_warn(x, d, n, "table: %s, skipped", why);
}

/* Does @d have register @id (on subnode @axis, when >= 0)? Needs ax__dict_index. */
static int xdf_has_reg(const ax_dict *d, const char *id, int axis)
{
	const ax_reg *r;
	int found = ax_dict_find(d, id, axis, &r) == 0;

	ax_error_clear();
	return found;
}

/*
 * Version 3 Tables/Table[@id @axis @id_index @id_value] of one device, after
 * its registers: a table is kept only when both registers are there (on its
 * axis, when it names one), so the seal that ties them never fails.
 */
static int xdf_tables(struct xdf *x, ax_dict *d, xmlNodePtr tables)
{
	static const char *const roles[2][2] = {{"id_index", "index"}, {"id_value", "value"}};
	int err;

	if (!xdf_child(tables, "Table"))
		return 0;
	/* Look-ups by id through the dictionary's own index: no walk per table. */
	err = ax__dict_index(d);
	if (err < 0)
		return err;
	XDF_EACH(t, tables, "Table")
	{
		const char *id = xdf_attr(x, t, "id"), *axis_s = xdf_attr(x, t, "axis");
		const char *reg[2];
		uint32_t v;
		int axis = -1, bad = 0;

		if (!id || !*id) {
			err = xdf_skip_table(x, d, t, NULL, "missing attribute 'id'");
			if (err < 0)
				return err;
			continue;
		}
		for (size_t i = 0; i < 2 && !bad; i++) {
			reg[i] = xdf_attr(x, t, roles[i][0]);
			if (!reg[i] || !*reg[i]) {
				bad = 1;
				err = xdf_skip_table(x, d, t, id, "missing attribute '%s'",
				                     roles[i][0]);
			}
		}
		if (!bad && axis_s) {
			if (xdf_parse_u32(axis_s, 0, 255, &v) < 0) {
				bad = 1;
				err = xdf_skip_table(x, d, t, id,
				                     "axis '%.*s' is not a number 0..255",
				                     XDF_QUOTE_MAX, axis_s);
			} else {
				axis = (int)v;
			}
		}
		for (size_t i = 0; i < 2 && !bad; i++) {
			if (xdf_has_reg(d, reg[i], axis))
				continue;
			bad = 1;
			if (axis >= 0)
				err = xdf_skip_table(
				        x, d, t, id, "%s register '%.*s' (%s) is not on axis %d",
				        roles[i][1], XDF_QUOTE_MAX, reg[i], roles[i][0], axis);
			else
				err = xdf_skip_table(
				        x, d, t, id,
				        "%s register '%.*s' (%s) is not in the dictionary",
				        roles[i][1], XDF_QUOTE_MAX, reg[i], roles[i][0]);
		}
		if (!bad)
			err = ax__dict_add_table(d, id, axis, reg[0], reg[1]);
		if (err < 0)
			return err;
	}
	return 0;
}

/* ----- devices ---------------------------------------------------------------------------- */

static int xdf_identity_u32(struct xdf *x, xmlNodePtr dev, const char *name, uint32_t *out)
{
	const char *s = xdf_attr(x, dev, name);

	*out = 0;
	if (!s)
		return 0;
	if (xdf_parse_u32(s, 0, UINT32_MAX, out) < 0)
		return ax__error_set(AX_EFORMAT, "%s:%ld: %s '%.*s' is not a 32-bit number",
		                     x->path, xdf_line(dev), name, XDF_QUOTE_MAX, s);
	return 0;
}

static int xdf_add_dict(struct xdf *x, ax_dict *d)
{
	if (x->n_dicts == x->cap_dicts) {
		size_t cap = x->cap_dicts ? x->cap_dicts * 2 : 4;
		ax_dict **p = realloc(x->dicts, cap * sizeof(*p));

		if (!p)
			return ax__error_oom();
		x->dicts = p;
		x->cap_dicts = cap;
	}
	x->dicts[x->n_dicts++] = d;
	return 0;
}

/* Body-level categories, errors and file warnings are shared by every device. */
static int xdf_copy_shared(struct xdf *x, ax_dict *d, int with_errors)
{
	const ax_dict *s = x->shared;
	int err;

	for (size_t i = 0; i < s->n_categories; i++) {
		err = ax__dict_add_category(d, s->categories[i].id, s->categories[i].label,
		                            s->categories[i].parent);
		if (err < 0)
			return err;
	}
	for (size_t i = 0; with_errors && i < s->n_errors; i++) {
		err = ax__dict_add_error(d, s->errors[i].code, s->errors[i].text, s->errors[i].type,
		                         s->errors[i].module);
		if (err < 0)
			return err;
	}
	/* The first device takes the warnings about the file as a whole, once. */
	for (size_t i = 0; x->n_dicts == 0 && i < s->n_warnings; i++) {
		err = ax__dict_add_warning(d, s->warnings[i]);
		if (err < 0)
			return err;
	}
	return 0;
}

/*
 * Highest "Motion" subnode of a version 3 Subnodes list (others are the
 * communication or safety subnodes), or -1 when the list names none. One
 * beyond @max_subnode is not an axis the address space can reach: it is
 * left out, with a warning.
 */
static int xdf_motion_subnodes(struct xdf *x, ax_dict *d, xmlNodePtr dev, unsigned max_subnode,
                               int *out)
{
	int best = -1, err;

	XDF_EACH(s, xdf_child(dev, "Subnodes"), "Subnode")
	{
		const char *idx = xdf_attr(x, s, "index");
		uint32_t v;

		if (!idx || xdf_parse_u32(idx, 0, 255, &v) < 0 ||
		    strcasecmp(xdf_text(x, s), "Motion") != 0)
			continue;
		if (v > max_subnode) {
			err = xdf_warn(x, d, s,
			               "Subnode index %u is beyond the MCB subnodes 0..%u, "
			               "not an axis",
			               (unsigned)v, max_subnode);
			if (err < 0)
				return err;
			continue;
		}
		if ((int)v > best)
			best = (int)v;
	}
	*out = best;
	return 0;
}

static int xdf_device_registers(struct xdf *x, ax_dict *d, xmlNodePtr dev, int canopen,
                                unsigned *max_subnode, int *axes)
{
	/* MCB addresses past 12 bits parse: the seal flags them unreachable. */
	struct xdf_place pl = {1, 0, NULL, UINT32_MAX, canopen ? UINT8_MAX : AX_MCB_MAX_SUBNODE};
	int err;

	if (x->version < 3) {
		/* Version 2: flat Registers, or one Registers list per Axis. */
		if (canopen)
			pl.max_address = 0xFFFFFF; /* index << 8 | subindex in one attribute */
		err = xdf_registers(x, d, xdf_child(dev, "Registers"), "Register", &pl,
		                    max_subnode);
		if (err < 0)
			return err;
		XDF_EACH(axis, xdf_child(dev, "Axes"), "Axis")
		{
			struct xdf_place ap = pl;

			err = xdf_subnode_attr(x, d, axis, "subnode", 1, &ap.subnode);
			if (err < 0)
				return err;
			/* Its registers are kept, flagged, each warned at its line. */
			if (ap.subnode > pl.max_subnode)
				err = xdf_warn(x, d, axis,
				               "Axis subnode %u is beyond the MCB subnodes 0..%u, "
				               "not an axis",
				               ap.subnode, pl.max_subnode);
			else if ((int)ap.subnode > *axes)
				*axes = (int)ap.subnode;
			if (err < 0)
				return err;
			err = xdf_registers(x, d, xdf_child(axis, "Registers"), "Register", &ap,
			                    max_subnode);
			if (err < 0)
				return err;
		}
		return 0;
	}

	/* Version 3: lists on the device, or inside a Subnode that sets the default. */
	if (canopen)
		err = xdf_canopen_objects(x, d, xdf_child(dev, "CANopenObjects"), 1, max_subnode);
	else
		err = xdf_registers(x, d, xdf_child(dev, "MCBRegisters"), "MCBRegister", &pl,
		                    max_subnode);
	if (err < 0)
		return err;
	XDF_EACH(s, xdf_child(dev, "Subnodes"), "Subnode")
	{
		struct xdf_place sp = pl;

		if (!xdf_child(s, canopen ? "CANopenObjects" : "MCBRegisters"))
			continue;
		err = xdf_subnode_attr(x, d, s, "index", 1, &sp.subnode);
		if (err < 0)
			return err;
		if (canopen)
			err = xdf_canopen_objects(x, d, xdf_child(s, "CANopenObjects"), sp.subnode,
			                          max_subnode);
		else
			err = xdf_registers(x, d, xdf_child(s, "MCBRegisters"), "MCBRegister", &sp,
			                    max_subnode);
		if (err < 0)
			return err;
	}
	return xdf_motion_subnodes(x, d, dev, pl.max_subnode, axes);
}

/*
 * One device element -> one sealed dictionary. @interface is the version 3
 * element's interface, NULL for version 2 (which says it in an attribute).
 */
static int xdf_device(struct xdf *x, xmlNodePtr dev, const char *interface)
{
	ax_dict *d = ax__dict_new(x->path);
	xmlNodePtr errors = xdf_child(dev, "Errors");
	const char *vendor;
	unsigned max_subnode = 0;
	int canopen, axes = -1, err;

	if (!d)
		return AX_ENOMEM;
	if (!interface)
		interface = xdf_attr(x, dev, "Interface");
	canopen = interface &&
	          (strcasecmp(interface, "CAN") == 0 || strcasecmp(interface, "ECAT") == 0);

	err = xdf_identity_u32(x, dev, "ProductCode", &d->identity.product_code);
	if (err < 0)
		goto fail;
	err = xdf_identity_u32(x, dev, "RevisionNumber", &d->identity.revision);
	if (err < 0)
		goto fail;
	/* Spelled three ways in the wild; the first one present counts. */
	vendor = xdf_attr(x, dev, "VendorID")   ? "VendorID"
	         : xdf_attr(x, dev, "VendorId") ? "VendorId"
	                                        : "vendorId";
	err = xdf_identity_u32(x, dev, vendor, &d->identity.vendor_id);
	if (err < 0)
		goto fail;
	err = ax__dict_set_identity(d, xdf_attr(x, dev, "PartNumber"),
	                            xdf_attr(x, dev, "firmwareVersion"), interface,
	                            xdf_attr(x, dev, "family"), xdf_attr(x, dev, "name"));
	if (err < 0)
		goto fail;
	d->identity.addr_space = canopen ? AX_ADDR_CANOPEN : AX_ADDR_MCB;
	d->identity.format_version = x->version;

	err = xdf_copy_shared(x, d, errors == NULL);
	if (err < 0)
		goto fail;
	err = xdf_categories(x, d, xdf_child(dev, "Categories"));
	if (err < 0)
		goto fail;
	err = xdf_errors(x, d, errors);
	if (err < 0)
		goto fail;
	err = xdf_device_registers(x, d, dev, canopen, &max_subnode, &axes);
	if (err < 0)
		goto fail;
	/* Tables name registers, so they come after all of them; version 3 only. */
	if (x->version >= 3) {
		err = xdf_tables(x, d, xdf_child(dev, "Tables"));
		if (err < 0)
			goto fail;
	}
	if (x->oom) {
		err = ax__error_oom();
		goto fail;
	}
	err = ax__dict_seal(d);
	if (err < 0)
		goto fail;
	err = xdf_duplicates(x, d);
	if (err < 0)
		goto fail;

	d->identity.axes = axes >= 0 ? (unsigned)axes : max_subnode;
	if (!xdf_attr(x, dev, vendor)) {
		const ax_reg *r;

		if (ax_dict_find(d, XDF_VENDOR_REG, 0, &r) == 0 && r->def_len == 4)
			d->identity.vendor_id = (uint32_t)r->def[0] | (uint32_t)r->def[1] << 8 |
			                        (uint32_t)r->def[2] << 16 |
			                        (uint32_t)r->def[3] << 24;
		ax_error_clear();
	}
	err = xdf_add_dict(x, d);
	if (err < 0)
		goto fail;
	return 0;
fail:
	ax_dict_unref(d);
	return err;
}

/* clang-format off */
static const struct { const char *element, *interface; } xdf_v3_devices[] = {
	{ "ETHDevice", "ETH" }, { "EoEDevice", "EoE" },
	{ "ECATDevice", "ECAT" }, { "CANDevice", "CAN" },
};
/* clang-format on */

/*
 * A configuration file (XCF: a drive's saved register values) shares the
 * dictionary's root element and header; its registers carry values
 * (storage) but no address or no dtype, so not one of them becomes a
 * register. Importing it would replace a good model with an empty one:
 * say what it is instead.
 */
static int xdf_check_configuration(struct xdf *x)
{
	for (size_t i = 0; i < x->n_dicts; i++)
		if (x->dicts[i]->n_regs > 0)
			return 0;
	if (!x->config_regs)
		return 0;
	return ax__error_set(AX_EFORMAT,
	                     "%s:%ld: a configuration file (XCF), not a dictionary: its %zu "
	                     "register(s) carry saved values without an address or a dtype; "
	                     "load it onto a drive with ax_config_load() ('axlink config load')",
	                     x->path, x->config_line, x->config_regs);
}

static int xdf_body(struct xdf *x, xmlNodePtr body)
{
	xmlNodePtr devices;
	int err;

	err = xdf_categories(x, x->shared, xdf_child(body, "Categories"));
	if (err < 0)
		return err;
	err = xdf_errors(x, x->shared, xdf_child(body, "Errors"));
	if (err < 0)
		return err;

	if (x->version < 3) {
		XDF_EACH(dev, body, "Device")
		{
			err = xdf_device(x, dev, NULL);
			if (err < 0)
				return err;
		}
		if (x->n_dicts == 0)
			return ax__error_set(AX_EFORMAT, "%s:%ld: no Body/Device element", x->path,
			                     xdf_line(body));
		return xdf_check_configuration(x);
	}

	devices = xdf_child(body, "Devices");
	for (xmlNodePtr dev = devices ? devices->children : NULL; dev; dev = dev->next) {
		const char *interface = NULL;

		if (dev->type != XML_ELEMENT_NODE)
			continue;
		for (size_t i = 0; i < AX__ARRAY_SIZE(xdf_v3_devices); i++)
			if (xdf_is(dev, xdf_v3_devices[i].element))
				interface = xdf_v3_devices[i].interface;
		if (!interface) {
			err = xdf_warn(x, xdf_file_dict(x), dev,
			               "unknown device element '%.*s', ignoring", XDF_QUOTE_MAX,
			               (const char *)dev->name);
			if (err < 0)
				return err;
			continue;
		}
		err = xdf_device(x, dev, interface);
		if (err < 0)
			return err;
	}
	if (x->n_dicts == 0)
		return ax__error_set(AX_EFORMAT,
		                     "%s:%ld: no ETHDevice, EoEDevice, ECATDevice or CANDevice in "
		                     "Body/Devices",
		                     x->path, xdf_line(devices ? devices : body));
	return xdf_check_configuration(x);
}

/* Header/Version: "2", "2.x", "3", "3.x". */
static int xdf_version(struct xdf *x, xmlNodePtr root)
{
	xmlNodePtr header = xdf_child(root, "Header");
	xmlNodePtr version = xdf_child(header, "Version");
	xmlNodePtr lang = xdf_child(header, "DefaultLanguage");
	const char *v;

	if (!version)
		return ax__error_set(AX_EFORMAT, "%s:%ld: no Header/Version: not an XDF dictionary",
		                     x->path, xdf_line(header ? header : root));
	v = xdf_text(x, version);
	if ((v[0] == '2' || v[0] == '3') && (v[1] == '\0' || v[1] == '.')) {
		x->version = (unsigned)(v[0] - '0');
	} else {
		return ax__error_set(AX_EFORMAT,
		                     "%s:%ld: dictionary version '%.*s' is not supported (axlink "
		                     "reads 2 and 3)",
		                     x->path, xdf_line(version), XDF_QUOTE_MAX, v);
	}
	if (lang && *xdf_text(x, lang))
		x->lang = xdf_text(x, lang);
	return 0;
}

/* ----- version 3 conformance --------------------------------------------------------------- */

/*
 * The attributes format version 3 makes mandatory, per element: readers of
 * the format (the vendor's own tools among them) refuse a file that lacks
 * one. The importer itself needs fewer (a register without pdo_access still
 * has an address and a type), so a gap here never skips anything: it is
 * reported once per element kind and attribute (AX__XDF_CHECK_V3), or
 * refuses the file (AX__XDF_STRICT). Version 2 has no such list.
 */
static const char *const xdf_v3_device_attrs[] = {"firmwareVersion", "ProductCode", "PartNumber",
                                                  "RevisionNumber", NULL};
static const char *const xdf_v3_mcb_attrs[] = {
        "address",    "subnode", "address_type", "access", "dtype", "id",
        "pdo_access", "desc",    "default",      "cat_id", NULL};
static const char *const xdf_v3_object_attrs[] = {"index", "datatype", NULL};
static const char *const xdf_v3_subitem_attrs[] = {
        "subindex",   "address_type", "access",  "dtype",  "id",
        "pdo_access", "desc",         "default", "cat_id", NULL};
static const char *const xdf_v3_range_attrs[] = {"min", "max", NULL};
static const char *const xdf_v3_error_attrs[] = {"id", "error_type", "affected_module", NULL};

/* One attribute missing from elements of one kind in one device: the first and how many. */
struct xdf_gap {
	const char *element, *attr;
	long line;                     /* of the first element that lacks it */
	char what[XDF_QUOTE_MAX + 48]; /* that element, as messages name it */
	size_t count;
};

/* Kinds times attributes above, with room to spare: a device can have each gap once. */
#define XDF_GAPS_MAX 40

struct xdf_gaps {
	struct xdf_gap gap[XDF_GAPS_MAX];
	size_t n;
};

/* Note each attribute of @attrs that @n lacks; @what names @n in messages. */
static void xdf_gap_check(struct xdf *x, struct xdf_gaps *g, xmlNodePtr n, const char *element,
                          const char *const *attrs, const char *what)
{
	for (size_t i = 0; attrs[i]; i++) {
		struct xdf_gap *gap = NULL;

		if (xdf_attr(x, n, attrs[i]))
			continue;
		for (size_t k = 0; k < g->n && !gap; k++)
			if (g->gap[k].element == element && g->gap[k].attr == attrs[i])
				gap = &g->gap[k];
		if (!gap) {
			/* Cannot fill up: each (element, attribute) pair comes once. */
			assert(g->n < XDF_GAPS_MAX);
			if (g->n == XDF_GAPS_MAX)
				continue;
			gap = &g->gap[g->n++];
			gap->element = element;
			gap->attr = attrs[i];
			gap->line = xdf_line(n);
			(void)snprintf(gap->what, sizeof(gap->what), "%s", what);
		}
		gap->count++;
	}
}

/* "MCBRegister 'ID'", "Range of 'ID'", or the bare element name when it has no id. */
static void xdf_gap_name(struct xdf *x, xmlNodePtr n, const char *prefix, xmlNodePtr owner,
                         char *buf, size_t cap)
{
	const char *id = owner ? xdf_attr(x, owner, "id") : NULL;

	if (id && *id)
		(void)snprintf(buf, cap, "%s '%.*s'", prefix, XDF_QUOTE_MAX, id);
	else
		(void)snprintf(buf, cap, "%s at line %ld", prefix, xdf_line(n));
}

static void xdf_gap_register(struct xdf *x, struct xdf_gaps *g, xmlNodePtr n, const char *element,
                             const char *const *attrs)
{
	char what[XDF_QUOTE_MAX + 48];
	xmlNodePtr range = xdf_child(n, "Range");

	xdf_gap_name(x, n, element, n, what, sizeof(what));
	xdf_gap_check(x, g, n, element, attrs, what);
	if (range) {
		xdf_gap_name(x, range, "Range of", n, what, sizeof(what));
		xdf_gap_check(x, g, range, "Range", xdf_v3_range_attrs, what);
	}
}

/* The registers of one device element, or of one of its Subnode elements. */
static void xdf_gap_registers(struct xdf *x, struct xdf_gaps *g, xmlNodePtr parent)
{
	char what[XDF_QUOTE_MAX + 48];

	XDF_EACH(r, xdf_child(parent, "MCBRegisters"), "MCBRegister")
	{
		xdf_gap_register(x, g, r, "MCBRegister", xdf_v3_mcb_attrs);
	}
	XDF_EACH(o, xdf_child(parent, "CANopenObjects"), "CANopenObject")
	{
		(void)snprintf(what, sizeof(what), "CANopenObject at line %ld", xdf_line(o));
		xdf_gap_check(x, g, o, "CANopenObject", xdf_v3_object_attrs, what);
		XDF_EACH(s, xdf_child(o, "Subitems"), "Subitem")
		{
			xdf_gap_register(x, g, s, "Subitem", xdf_v3_subitem_attrs);
		}
	}
}

static void xdf_gap_errors(struct xdf *x, struct xdf_gaps *g, xmlNodePtr errors)
{
	char what[XDF_QUOTE_MAX + 48];

	XDF_EACH(e, errors, "Error")
	{
		xdf_gap_name(x, e, "Error", e, what, sizeof(what));
		xdf_gap_check(x, g, e, "Error", xdf_v3_error_attrs, what);
	}
}

/* Warn about each gap of @g in @d, in file order of their first element. */
static int xdf_gap_warn(struct xdf *x, ax_dict *d, const struct xdf_gaps *g)
{
	int err;

	for (size_t i = 0; i < g->n; i++) {
		const struct xdf_gap *gap = &g->gap[i];

		if (gap->count > 1)
			err = xdf_warn_at(x, d, gap->line,
			                  "%s: no attribute '%s', which format version 3 requires "
			                  "(nor in %zu more %s elements of this device)",
			                  gap->what, gap->attr, gap->count - 1, gap->element);
		else
			err = xdf_warn_at(x, d, gap->line,
			                  "%s: no attribute '%s', which format version 3 requires",
			                  gap->what, gap->attr);
		if (err < 0)
			return err;
	}
	return 0;
}

/*
 * Check every device element of a version 3 Body against the rules above,
 * after the import read it: x->dicts[k] is the k-th known device element.
 * Body-level Errors count with the first device.
 */
static int xdf_v3_conformance(struct xdf *x, xmlNodePtr body, unsigned flags)
{
	xmlNodePtr devices = xdf_child(body, "Devices");
	struct xdf_gap first = {0};
	struct xdf_gaps *g;
	size_t k = 0, total = 0;
	int err = 0;

	g = calloc(1, sizeof(*g));
	if (!g)
		return ax__error_oom();
	xdf_gap_errors(x, g, xdf_child(body, "Errors"));
	for (xmlNodePtr dev = devices ? devices->children : NULL; dev; dev = dev->next) {
		const char *element = NULL;

		for (size_t i = 0; i < AX__ARRAY_SIZE(xdf_v3_devices) && !element; i++)
			if (dev->type == XML_ELEMENT_NODE && xdf_is(dev, xdf_v3_devices[i].element))
				element = xdf_v3_devices[i].element;
		if (!element || k >= x->n_dicts)
			continue;
		xdf_gap_check(x, g, dev, element, xdf_v3_device_attrs, element);
		xdf_gap_registers(x, g, dev);
		XDF_EACH(s, xdf_child(dev, "Subnodes"), "Subnode")
		{
			xdf_gap_registers(x, g, s);
		}
		xdf_gap_errors(x, g, xdf_child(dev, "Errors"));

		if (flags & AX__XDF_STRICT) {
			for (size_t i = 0; i < g->n; i++) {
				total += g->gap[i].count;
				if (!first.element || g->gap[i].line < first.line)
					first = g->gap[i];
			}
		} else {
			err = xdf_gap_warn(x, x->dicts[k], g);
			if (err < 0)
				break;
		}
		memset(g, 0, sizeof(*g));
		k++;
	}
	free(g);
	if (err < 0 || !first.element)
		return err;
	return ax__error_set(AX_EFORMAT,
	                     "%s:%ld: %s: no attribute '%s', which format version 3 requires "
	                     "(%zu missing attribute%s in the file); a strict import refuses it",
	                     x->path, first.line, first.what, first.attr, total,
	                     total == 1 ? "" : "s");
}

/* ----- parsing ---------------------------------------------------------------------------- */

/* What the hooks of one parse found. */
struct xdf_parse {
	long entity_line; /* line of the first entity declaration; 0 if none */
	char entity[64];
	long error_line; /* first error (libxml2's wording) */
	char error[256];
	int has_error;
};

static struct xdf_parse *xdf_parse_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

static void xdf_note_entity(void *ctx, const xmlChar *name)
{
	struct xdf_parse *p = xdf_parse_of(ctx);

	if (!p->entity_line) {
		p->entity_line = xmlSAX2GetLineNumber(ctx);
		if (p->entity_line <= 0)
			p->entity_line = 1;
		(void)snprintf(p->entity, sizeof(p->entity), "%s", name ? (const char *)name : "");
	}
	/* Stop here, before any reference could be expanded or an external entity opened. */
	xmlStopParser(ctx);
}

static void xdf_on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                               const xmlChar *system_id, xmlChar *content)
{
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	xdf_note_entity(ctx, name);
}

static void xdf_on_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                                        const xmlChar *system_id, const xmlChar *notation)
{
	(void)public_id;
	(void)system_id;
	(void)notation;
	xdf_note_entity(ctx, name);
}

/* libxml2 passes the parser context (its userData) for errors raised while parsing. */
static void xdf_on_error(void *ctx, xdf_error_ptr e)
{
	struct xdf_parse *p;
	size_t len;

	if (!ctx || !e || e->level < XML_ERR_ERROR)
		return;
	p = xdf_parse_of(ctx);
	if (p->has_error)
		return;
	p->has_error = 1;
	p->error_line = e->line;
	(void)snprintf(p->error, sizeof(p->error), "%s", e->message ? e->message : "error");
	len = strlen(p->error);
	while (len > 0 && xdf_space(p->error[len - 1]))
		p->error[--len] = '\0';
}

static pthread_once_t xdf_once = PTHREAD_ONCE_INIT;

static void xdf_init(void)
{
	xmlInitParser();
}

static int xdf_has_entities(xmlDtdPtr dtd)
{
	return dtd && (dtd->entities || dtd->pentities);
}

static int xdf_parse(xmlDocPtr *out, const char *path, const char *buf, size_t len)
{
	struct xdf_parse p;
	xmlParserCtxtPtr c;
	xmlDocPtr doc;

	(void)pthread_once(&xdf_once, xdf_init);
	memset(&p, 0, sizeof(p));
	c = xmlNewParserCtxt();
	if (!c)
		return ax__error_oom();
	c->_private = &p;
	c->sax->serror = xdf_on_error;
	c->sax->entityDecl = xdf_on_entity_decl;
	c->sax->unparsedEntityDecl = xdf_on_unparsed_entity_decl;
	/*
	 * No NOENT (that option turns substitution ON), no DTDLOAD, no DTDATTR;
	 * BIG_LINES keeps line numbers right past 65535.
	 */
	doc = xmlCtxtReadMemory(c, buf, (int)len, path, NULL,
	                        XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA);
	xmlFreeParserCtxt(c);

	if (p.entity_line ||
	    (doc && (xdf_has_entities(doc->intSubset) || xdf_has_entities(doc->extSubset)))) {
		xmlFreeDoc(doc);
		return ax__error_set(AX_EFORMAT,
		                     "%s:%ld: entity declarations are not allowed in dictionary "
		                     "files ('%s')",
		                     path, p.entity_line ? p.entity_line : 1L, p.entity);
	}
	if (!doc) {
		if (p.has_error)
			return ax__error_set(AX_EFORMAT, "%s:%ld: malformed XML: %s", path,
			                     p.error_line, p.error);
		return ax__error_set(AX_EFORMAT, "%s: malformed XML", path);
	}
	*out = doc;
	return 0;
}

static void xdf_free(struct xdf *x)
{
	for (size_t i = 0; i < x->n_scratch; i++)
		xmlFree(x->scratch[i]);
	free(x->scratch);
	free(x->reg_lines);
	for (size_t i = 0; i < x->n_dicts; i++)
		ax_dict_unref(x->dicts[i]);
	free(x->dicts);
	ax_dict_unref(x->shared);
}

int ax__xdf_load_buffer(ax_dict ***out, size_t *n_out, const char *path, const char *buf,
                        size_t len, ax_ctx *ctx)
{
	return ax__xdf_load_buffer_flags(out, n_out, path, buf, len, 0, ctx);
}

int ax__xdf_load_buffer_flags(ax_dict ***out, size_t *n_out, const char *path, const char *buf,
                              size_t len, unsigned flags, ax_ctx *ctx)
{
	struct xdf x = {0};
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int err;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(n_out);
	AX_ASSERT_ARG(path);
	AX_ASSERT_ARG(buf || len == 0);
	if (len > AX__XDF_MAX_SIZE)
		return ax__error_set(AX_ETOOBIG,
		                     "%s: %zu bytes is over the %zu MiB limit for dictionary files",
		                     path, len, AX__XDF_MAX_SIZE >> 20);
	x.path = path;
	x.ctx = ctx;
	x.lang = "en_US";

	err = xdf_parse(&doc, path, buf, len);
	if (err < 0)
		return err;
	root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "IngeniaDictionary") != 0) {
		err = ax__error_set(
		        AX_EFORMAT, "%s:%ld: root element is '%.*s', not IngeniaDictionary", path,
		        xdf_line(root), XDF_QUOTE_MAX, root ? (const char *)root->name : "");
		goto done;
	}
	err = xdf_version(&x, root);
	if (err < 0)
		goto done;
	x.shared = ax__dict_new(path);
	if (!x.shared) {
		err = AX_ENOMEM;
		goto done;
	}
	if (!xdf_child(root, "Body")) {
		err = ax__error_set(AX_EFORMAT, "%s:%ld: no Body element", path, xdf_line(root));
		goto done;
	}
	err = xdf_body(&x, xdf_child(root, "Body"));
	if (err < 0)
		goto done;
	if (x.version >= 3 && (flags & (AX__XDF_CHECK_V3 | AX__XDF_STRICT))) {
		err = xdf_v3_conformance(&x, xdf_child(root, "Body"), flags);
		if (err < 0)
			goto done;
	}
	if (x.oom) {
		err = ax__error_oom();
		goto done;
	}

	*out = x.dicts;
	*n_out = x.n_dicts;
	err = (int)x.n_dicts;
	x.dicts = NULL;
	x.n_dicts = 0;
done:
	xdf_free(&x);
	xmlFreeDoc(doc);
	return err;
}

/* ----- files ------------------------------------------------------------------------------ */

int ax__xdf_read_file(const char *path, char **buf_out, size_t *len_out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd, err;

	/*
	 * O_NONBLOCK: opening a FIFO to read would otherwise wait for a writer,
	 * forever if none comes; the fstat() below then turns it away. On a
	 * regular file the flag changes nothing.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR)
			return ax__error_set(AX_ENOTFOUND, "no dictionary file '%s'", path);
		if (e == EACCES || e == EPERM)
			return ax__error_set(AX_EACCESS, "cannot read '%s': %s", path, strerror(e));
		return ax__error_set(AX_EIO, "cannot open '%s': %s", path, strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		err = ax__error_set(AX_EIO, "cannot stat '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = ax__error_set(AX_EINVAL, "dictionary '%s' is not a regular file (%s)", path,
		                    S_ISFIFO(st.st_mode)  ? "a FIFO"
		                    : S_ISDIR(st.st_mode) ? "a folder"
		                                          : "a device or other special file");
		goto fail;
	}
	if ((uintmax_t)st.st_size > AX__XDF_MAX_SIZE)
		goto too_big;

	/* The size is a hint: read to the end, never past the limit, whatever it says. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		err = ax__error_oom();
		goto fail;
	}
	for (;;) {
		ssize_t got;

		if (len == cap) {
			size_t new_cap =
			        cap * 2 > AX__XDF_MAX_SIZE + 1 ? AX__XDF_MAX_SIZE + 1 : cap * 2;
			char *p;

			if (len > AX__XDF_MAX_SIZE)
				goto too_big;
			p = realloc(buf, new_cap + 1);
			if (!p) {
				err = ax__error_oom();
				goto fail;
			}
			buf = p;
			cap = new_cap;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = ax__error_set(AX_EIO, "cannot read '%s': %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len > AX__XDF_MAX_SIZE)
		goto too_big;
	(void)close(fd);
	buf[len] = '\0';
	*buf_out = buf;
	*len_out = len;
	return 0;

too_big:
	err = ax__error_set(AX_ETOOBIG, "'%s' is over the %zu MiB limit for dictionary files", path,
	                    AX__XDF_MAX_SIZE >> 20);
fail:
	free(buf);
	(void)close(fd);
	return err;
}

int ax_dict_load_file(ax_dict ***out, size_t *n_out, const char *path, ax_ctx *ctx)
{
	char *buf;
	size_t len;
	int err;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(n_out);
	AX_ASSERT_ARG(path);
	err = ax__xdf_read_file(path, &buf, &len);
	if (err < 0)
		return err;
	err = ax__xdf_load_buffer(out, n_out, path, buf, len, ctx);
	free(buf);
	return err;
}
