/* SPDX-License-Identifier: MIT */
/*
 * Configuration files (axlink/config.h): the XCF format of the dictionary
 * family, read with libxml2's tree API, and load and diff against a drive;
 * config_save.c writes it.
 *
 * Facts of the format (learned from ingenialink-python's
 * configuration_file.py, which reads and writes it): root
 * `IngeniaDictionary`, `Header/Version` with major 2 ("2", "2.2"),
 * `Body/Device` with `Interface` (ETH, EoE, ECAT, CAN), `firmwareVersion`,
 * `ProductCode`, `PartNumber`, `RevisionNumber` (decimal) and, for CAN,
 * `NodeID`; `Device/Registers/Register` with `access`, `dtype`, `id`,
 * `subnode`, `storage` (the value as text) and an optional `data` (hex of
 * the value's bytes, preferred when present); an optional `Device/Tables`.
 * We write the attributes in that tool's order; its reader skips a
 * byteArray512 register, so one in our files costs it nothing else.
 *
 * The file is untrusted input: size-limited, parsed without network or
 * DTD loading, and a document with entity declarations is refused.
 */
#define _POSIX_C_SOURCE 200809L

#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "axlink/cancel.h"
#include "axlink/config.h"
#include "axlink/scan.h"
#include "axlink/value.h"
#include "config_priv.h"
#include "dict.h"
#include "error.h"

#define CONFIG_MAX_FILE (64u << 20)

struct config_entry {
	char *id;
	int subnode;
	int status;
	int error;
	uint32_t drive_code;
	char *message;
	char *file_value;
	char *drive_value;
	/* load/diff working state */
	const ax_reg *reg;
	size_t order; /* dictionary position, or SIZE_MAX past all of them */
	size_t file_pos;
	uint8_t *value; /* the file's value as bytes */
	size_t value_len;
};

struct ax_config_report {
	struct config_entry *e;
	size_t n, cap;
};

/* ---- report ---------------------------------------------------------- */

static void entry_clear(struct config_entry *e)
{
	free(e->id);
	free(e->message);
	free(e->file_value);
	free(e->drive_value);
	free(e->value);
}

void ax_config_report_free(ax_config_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		entry_clear(&r->e[i]);
	free(r->e);
	free(r);
}

static struct config_entry *report_add(ax_config_report *r, const char *id, int subnode)
{
	struct config_entry *e;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct config_entry *ne = realloc(r->e, cap * sizeof(*ne));

		if (!ne)
			return NULL;
		r->e = ne;
		r->cap = cap;
	}
	e = &r->e[r->n];
	memset(e, 0, sizeof(*e));
	e->id = strdup(id);
	if (!e->id)
		return NULL;
	e->subnode = subnode;
	e->order = SIZE_MAX;
	e->file_pos = r->n;
	r->n++;
	return e;
}

/* Record @err (with the message of the failure just seen) on @e. */
static int entry_fail(struct config_entry *e, int status, int err, const char *message)
{
	e->status = status;
	e->error = err;
	e->drive_code = err == AX_EDRIVE ? ax_error_last_drive_code() : 0;
	free(e->message);
	e->message = strdup(message ? message : "");
	return e->message ? 0 : ax__error_oom();
}

size_t ax_config_report_count(const ax_config_report *r)
{
	return r ? r->n : 0;
}

size_t ax_config_report_tally(const ax_config_report *r, int status)
{
	size_t n = 0;

	for (size_t i = 0; r && i < r->n; i++)
		n += r->e[i].status == status;
	return n;
}

static const struct config_entry *report_get(const ax_config_report *r, size_t i)
{
	return r && i < r->n ? &r->e[i] : NULL;
}

int ax_config_report_at(const ax_config_report *r, size_t index, const char **id_out,
                        int *subnode_out, int *status_out)
{
	const struct config_entry *e = report_get(r, index);

	if (!e)
		return ax__error_set(AX_ENOTFOUND, "no report entry %zu (of %zu)", index,
		                     ax_config_report_count(r));
	if (id_out)
		*id_out = e->id;
	if (subnode_out)
		*subnode_out = e->subnode;
	if (status_out)
		*status_out = e->status;
	return 0;
}

const char *ax_config_report_file_value(const ax_config_report *r, size_t index)
{
	const struct config_entry *e = report_get(r, index);

	return e ? e->file_value : NULL;
}

const char *ax_config_report_drive_value(const ax_config_report *r, size_t index)
{
	const struct config_entry *e = report_get(r, index);

	return e ? e->drive_value : NULL;
}

int ax_config_report_error(const ax_config_report *r, size_t index)
{
	const struct config_entry *e = report_get(r, index);

	return e ? e->error : 0;
}

uint32_t ax_config_report_drive_code(const ax_config_report *r, size_t index)
{
	const struct config_entry *e = report_get(r, index);

	return e ? e->drive_code : 0;
}

const char *ax_config_report_message(const ax_config_report *r, size_t index)
{
	const struct config_entry *e = report_get(r, index);

	return e && e->message ? e->message : "";
}

const char *ax_config_status_name(int status)
{
	switch (status) {
	case AX_CONFIG_WRITTEN:
		return "written";
	case AX_CONFIG_UNCHANGED:
		return "unchanged";
	case AX_CONFIG_REFUSED:
		return "refused";
	case AX_CONFIG_NOT_IN_DICT:
		return "not_in_dict";
	case AX_CONFIG_MISMATCH:
		return "mismatch";
	case AX_CONFIG_DIFFERENT:
		return "different";
	case AX_CONFIG_INVALID:
		return "invalid";
	case AX_CONFIG_NOT_IN_FILE:
		return "not_in_file";
	case AX_CONFIG_SKIPPED:
		return "skipped";
	default:
		return NULL;
	}
}

/* ---- values ----------------------------------------------------------- */

/* A configuration register: read-write and kept in non-volatile memory. */
int ax__config_is_config_reg(const ax_reg *reg)
{
	const char *at = ax_reg_address_type(reg);

	if ((ax_reg_access(reg) & AX_REG_RW) != AX_REG_RW || !at)
		return 0;
	return strcmp(at, "NVM") == 0 || strcmp(at, "NVM_CFG") == 0;
}

/* The dtype as the format spells it (ax_dtype_name() says "bytes" for byteArray512). */
const char *ax__config_dtype_name(int dtype)
{
	return dtype == AX_DTYPE_BYTES ? "byteArray512" : ax_dtype_name(dtype);
}

/* The value as `storage` text: floats keep a decimal point, bools True/False. */
int ax__config_format(int dtype, const uint8_t *buf, size_t len, char **out)
{
	char *s = NULL, *t;
	int err;

	if (dtype == AX_DTYPE_BOOL) {
		s = strdup(len > 0 && buf[0] ? "True" : "False");
		if (!s)
			return ax__error_oom();
		*out = s;
		return 0;
	}
	err = ax_value_format(dtype, buf, len, &s);
	if (err < 0)
		return err;
	if (dtype == AX_DTYPE_FLOAT && !strpbrk(s, ".eEnN")) {
		size_t n = strlen(s);

		t = malloc(n + 3);
		if (!t) {
			ax_free(s);
			return ax__error_oom();
		}
		memcpy(t, s, n);
		memcpy(t + n, ".0", 3);
		ax_free(s);
		*out = t;
		return 0;
	}
	t = strdup(s);
	ax_free(s);
	if (!t)
		return ax__error_oom();
	*out = t;
	return 0;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex text into @buf (at most @cap bytes); -1 when not even-length hex or too long. */
static int hex_decode(const char *s, uint8_t *buf, size_t cap, size_t *len_out)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit((unsigned char)s[2 * i]),
		    lo = hex_digit((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*len_out = n / 2;
	return 0;
}

/*
 * The file's value of @e for register @reg into e->value: `data` (hex of
 * the bytes) when given, else `storage` parsed as the register's type.
 * Sets e INVALID and returns 1 when the entry is unusable.
 */
static int entry_value(struct config_entry *e, const ax_reg *reg, const char *dtype_name,
                       const char *storage, const char *data)
{
	int dtype = ax_reg_dtype(reg), fdtype = dtype_name ? ax_dtype_parse(dtype_name) : -1;
	uint8_t buf[AX_VALUE_MAX + 1];
	size_t len = 0;
	char msg[256];
	int err;

	if (fdtype < 0 && dtype_name && strcmp(dtype_name, "bit") == 0)
		fdtype = AX_DTYPE_BOOL;
	if (fdtype != dtype) {
		(void)snprintf(msg, sizeof(msg), "dtype '%s' in the file, '%s' in the dictionary",
		               dtype_name ? dtype_name : "", ax__config_dtype_name(dtype));
		return entry_fail(e, AX_CONFIG_INVALID, AX_ETYPE, msg) < 0 ? AX_ENOMEM : 1;
	}
	if (data) {
		size_t want = ax_dtype_size(dtype);

		if (hex_decode(data, buf, AX_VALUE_MAX, &len) < 0 ||
		    (dtype != AX_DTYPE_STR && dtype != AX_DTYPE_BYTES && len != want)) {
			(void)snprintf(msg, sizeof(msg), "data '%.64s' is not %s as hex", data,
			               ax_dtype_name(dtype));
			return entry_fail(e, AX_CONFIG_INVALID, AX_EINVAL, msg) < 0 ? AX_ENOMEM : 1;
		}
	} else if (!storage) {
		return entry_fail(e, AX_CONFIG_INVALID, AX_EINVAL, "no storage attribute") < 0
		               ? AX_ENOMEM
		               : 1;
	} else if (dtype == AX_DTYPE_BOOL) {
		if (!strcasecmp(storage, "true") || !strcmp(storage, "1"))
			buf[0] = 1;
		else if (!strcasecmp(storage, "false") || !strcmp(storage, "0"))
			buf[0] = 0;
		else
			goto bad_storage;
		len = 1;
	} else if (dtype == AX_DTYPE_BYTES) {
		if (hex_decode(storage, buf, AX_VALUE_MAX, &len) < 0)
			goto bad_storage;
	} else {
		err = ax_value_parse(dtype, storage, buf, sizeof(buf), &len);
		if (err < 0) {
			(void)snprintf(msg, sizeof(msg), "storage '%.64s': %s", storage,
			               ax_error_last());
			return entry_fail(e, AX_CONFIG_INVALID, err, msg) < 0 ? AX_ENOMEM : 1;
		}
		if (dtype == AX_DTYPE_STR && len > 0 && buf[len - 1] == '\0')
			len--;
	}
	e->value = malloc(len ? len : 1);
	if (!e->value)
		return ax__error_oom();
	memcpy(e->value, buf, len);
	e->value_len = len;
	return ax__config_format(dtype, e->value, len, &e->file_value);

bad_storage:
	(void)snprintf(msg, sizeof(msg), "storage '%.64s' is not a %s value", storage,
	               ax_dtype_name(dtype));
	return entry_fail(e, AX_CONFIG_INVALID, AX_EINVAL, msg) < 0 ? AX_ENOMEM : 1;
}

/* Equal values of @dtype; for str up to the NUL, for bytes ignoring trailing zeros. */
static int values_equal(int dtype, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t size = ax_dtype_size(dtype);

	if (dtype == AX_DTYPE_STR) {
		const uint8_t *na = memchr(a, 0, alen), *nb = memchr(b, 0, blen);

		alen = na ? (size_t)(na - a) : alen;
		blen = nb ? (size_t)(nb - b) : blen;
		return alen == blen && memcmp(a, b, alen) == 0;
	}
	if (dtype == AX_DTYPE_BYTES) {
		size_t n = alen < blen ? alen : blen;
		const uint8_t *tail = alen > blen ? a : b;

		if (memcmp(a, b, n) != 0)
			return 0;
		for (size_t i = n; i < (alen > blen ? alen : blen); i++)
			if (tail[i])
				return 0;
		return 1;
	}
	if (alen < size || blen < size)
		return 0;
	if (dtype == AX_DTYPE_BOOL)
		return !a[0] == !b[0];
	return memcmp(a, b, size) == 0;
}

/* ---- reading the file ----------------------------------------------- */

static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void config_xml_init(void)
{
	xmlInitParser();
}

void ax__config_xml_init(void)
{
	(void)pthread_once(&config_once, config_xml_init);
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

static char *attr(xmlNodePtr n, const char *name)
{
	return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static int read_all(const char *path, char **buf_out, size_t *len_out)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ax__error_set(errno == ENOENT ? AX_ENOTFOUND : AX_EIO, "'%s': %s", path,
		                     strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = config_file_error(AX_EIO, "'%s': not a regular file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > CONFIG_MAX_FILE) {
		err = config_file_error(AX_ETOOBIG, "'%s': %lld bytes is over the %u MiB limit",
		                        path, (long long)st.st_size, CONFIG_MAX_FILE >> 20);
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = ax__error_oom();
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(void)close(fd);
	*buf_out = buf;
	*len_out = got;
	return 0;
fail:
	free(buf);
	(void)close(fd);
	return err;
}

int ax__config_parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int has_entities(xmlDtdPtr dtd)
{
	return dtd && (dtd->entities || dtd->pentities);
}

/*
 * Parse @path as a configuration document: *doc_out (xmlFreeDoc()) with
 * its Device and Device/Registers elements, and the identity it names.
 * @options: extra XML_PARSE_* (NOBLANKS when the document is rewritten).
 */
int ax__config_open_doc(const char *path, int options, xmlDocPtr *doc_out, xmlNodePtr *device_out,
                        xmlNodePtr *regs_out, struct config_file *cf)
{
	xmlParserCtxtPtr c = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, n, device, regs;
	char *buf = NULL, *s = NULL;
	size_t len = 0;
	int err;

	(void)pthread_once(&config_once, config_xml_init);
	err = read_all(path, &buf, &len);
	if (err < 0)
		return err;
	c = xmlNewParserCtxt();
	if (!c) {
		err = ax__error_oom();
		goto fail;
	}
	doc = xmlCtxtReadMemory(c, buf, (int)len, path, NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	                                XML_PARSE_BIG_LINES | options);
	if (!doc) {
		const xmlError *xe = xmlCtxtGetLastError(c);

		err = config_file_error(AX_EFORMAT, "'%s':%d: malformed XML: %.*s", path,
		                        xe ? xe->line : 0,
		                        xe && xe->message ? (int)strcspn(xe->message, "\n") : 5,
		                        xe && xe->message ? xe->message : "error");
		goto fail;
	}
	if (has_entities(doc->intSubset) || has_entities(doc->extSubset)) {
		err = config_file_error(AX_EFORMAT, "'%s': entity declarations are not allowed",
		                        path);
		goto fail;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "IngeniaDictionary") != 0) {
		err = config_file_error(AX_EFORMAT,
		                        "'%s': not a configuration file (root '%s', "
		                        "want 'IngeniaDictionary')",
		                        path, root ? (const char *)root->name : "");
		goto fail;
	}
	n = child(child(root, "Header"), "Version");
	s = n ? (char *)xmlNodeGetContent(n) : NULL;
	if (!s || strtol(s, NULL, 10) != 2 || s[strspn(s, " \t\r\n")] != '2') {
		err = config_file_error(AX_EFORMAT,
		                        "'%s': configuration file version '%s' is not "
		                        "supported (want 2)",
		                        path, s ? s : "(none)");
		goto fail;
	}
	device = child(child(root, "Body"), "Device");
	regs = child(device, "Registers");
	if (!regs || child(child(root, "Body"), "Devices") || child(device, "Axes")) {
		err = config_file_error(AX_EFORMAT,
		                        "'%s':%ld: not a configuration file (no "
		                        "Body/Device/Registers; a dictionary?)",
		                        path, device ? xmlGetLineNo(device) : 1L);
		goto fail;
	}
	xmlFree(s);
	s = attr(device, "ProductCode");
	cf->has_product = s && ax__config_parse_u32(s, &cf->product) == 0;
	xmlFree(s);
	s = attr(device, "RevisionNumber");
	cf->has_revision = s && ax__config_parse_u32(s, &cf->revision) == 0;
	xmlFree(s);
	xmlFreeParserCtxt(c);
	free(buf);
	*doc_out = doc;
	*device_out = device;
	*regs_out = regs;
	return 0;
fail:
	xmlFree(s);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(c);
	free(buf);
	return err;
}

/*
 * Parse @path into its identity and one report entry per Register (on
 * @subnode, or all), each with e->reg and e->value set, or its status
 * NOT_IN_DICT / INVALID.
 */
static int config_read(const char *path, const ax_dict *dict, int subnode, struct config_file *cf,
                       ax_config_report *r)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr n, device = NULL, regs = NULL;
	int err;

	err = ax__config_open_doc(path, 0, &doc, &device, &regs, cf);
	if (err < 0)
		return err;
	for (n = regs->children; n; n = n->next) {
		char *id, *sub, *dt, *st, *data;
		uint32_t sn = 0;
		struct config_entry *e;
		const ax_reg *reg = NULL;

		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "Register"))
			continue;
		id = attr(n, "id");
		sub = attr(n, "subnode");
		dt = attr(n, "dtype");
		st = attr(n, "storage");
		data = attr(n, "data");
		err = 0;
		if (!id || !sub || ax__config_parse_u32(sub, &sn) < 0 || sn > 255) {
			char msg[128];

			e = report_add(r, id ? id : "",
			               sub && ax__config_parse_u32(sub, &sn) == 0 ? (int)sn : -1);
			(void)snprintf(msg, sizeof(msg), "'%s':%ld: Register without %s", path,
			               xmlGetLineNo(n), !id ? "an id" : "a valid subnode");
			err = e ? entry_fail(e, AX_CONFIG_INVALID, AX_EFORMAT, msg)
			        : ax__error_oom();
		} else if (subnode == AX_CONFIG_ALL || (int)sn == subnode) {
			e = report_add(r, id, (int)sn);
			if (!e)
				err = ax__error_oom();
			else if (ax_dict_find(dict, id, (int)sn, &reg) < 0 ||
			         ax_reg_subnode(reg) != sn)
				err = entry_fail(e, AX_CONFIG_NOT_IN_DICT, AX_ENOTFOUND,
				                 "not in this drive's dictionary");
			else {
				e->reg = reg;
				e->order = (size_t)(reg - ax_dict_reg_at(dict, 0));
				err = entry_value(e, reg, dt, st, data);
				if (err > 0)
					err = 0;
			}
			if (e && !e->file_value && (data || st)) {
				e->file_value = strdup(data ? data : st);
				if (!e->file_value)
					err = ax__error_oom();
			}
		}
		xmlFree(id);
		xmlFree(sub);
		xmlFree(dt);
		xmlFree(st);
		xmlFree(data);
		if (err < 0)
			goto out;
	}
	err = 0;
out:
	xmlFreeDoc(doc);
	return err;
}

/* ---- identity and operations ----------------------------------------- */

static int config_check_identity(ax_drive *drive, const char *path, const struct config_file *cf,
                                 unsigned flags)
{
	const ax_identity *id = ax_drive_identity(drive);
	const ax_dict_identity *di = ax_dict_identity_get(ax_drive_dict(drive));
	uint32_t product = id->known & AX_SCAN_HAS_PRODUCT ? id->product_code : di->product_code;
	uint32_t revision = id->known & AX_SCAN_HAS_REVISION ? id->revision : di->revision;

	if (!cf->has_product)
		return ax__error_set(AX_EINVAL, "'%s' names no product code (Device ProductCode)",
		                     path);
	if (cf->product != product)
		return ax__error_set(AX_EINVAL,
		                     "'%s' is for product code 0x%08X; the drive is "
		                     "0x%08X",
		                     path, (unsigned)cf->product, (unsigned)product);
	if (!(flags & AX_CONFIG_ALLOW_REVISION) &&
	    (!cf->has_revision || cf->revision != revision)) {
		if (!cf->has_revision)
			return ax__error_set(AX_EINVAL,
			                     "'%s' names no revision; the drive is "
			                     "0x%08X (allow another revision to load it)",
			                     path, (unsigned)revision);
		return ax__error_set(AX_EINVAL,
		                     "'%s' is for revision 0x%08X; the drive is 0x%08X "
		                     "(allow another revision to load it)",
		                     path, (unsigned)cf->revision, (unsigned)revision);
	}
	return 0;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct config_entry *a = pa, *b = pb;

	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a->file_pos < b->file_pos ? -1 : a->file_pos > b->file_pos;
}

/* A failure of the link itself: the next registers would fail the same way. */
static int link_lost(int err)
{
	return err == AX_ETIMEDOUT || err == AX_EDISCONNECTED || err == AX_ECANCELED ||
	       err == AX_EIO;
}

static int config_prepare(ax_drive *drive, const char *path, int subnode, unsigned flags,
                          ax_config_report **r_out)
{
	struct config_file cf = {0};
	ax_config_report *r;
	int err;

	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(path);
	if (flags & ~AX_CONFIG_ALLOW_REVISION)
		return ax__error_set(AX_EINVAL, "unknown configuration flags 0x%x", flags);
	if (subnode < AX_CONFIG_ALL || subnode > 255)
		return ax__error_set(AX_EINVAL, "subnode %d is not 0..255 or AX_CONFIG_ALL",
		                     subnode);
	if (!ax_drive_dict(drive))
		return ax__error_set(AX_ENOTFOUND,
		                     "drive '%s' has no dictionary: its "
		                     "configuration registers are unknown",
		                     ax_drive_uri(drive));
	r = calloc(1, sizeof(*r));
	if (!r)
		return ax__error_oom();
	err = config_read(path, ax_drive_dict(drive), subnode, &cf, r);
	if (err < 0)
		goto fail;
	err = config_check_identity(drive, path, &cf, flags);
	if (err < 0)
		goto fail;
	if (r->n > 1)
		qsort(r->e, r->n, sizeof(r->e[0]), entry_cmp);
	*r_out = r;
	return 0;
fail:
	ax_config_report_free(r);
	return err;
}

/* Read @reg into @buf; on success its text goes to *text_out (if not NULL). */
int ax__config_read_reg(ax_drive *drive, const ax_reg *reg, uint8_t *buf, size_t *len,
                        char **text_out)
{
	int err = ax_link_read_reg(ax_drive_link(drive), reg, buf, AX_VALUE_MAX + 1, len);

	if (err < 0)
		return err;
	if (text_out && !*text_out)
		return ax__config_format(ax_reg_dtype(reg), buf, *len, text_out);
	return 0;
}

/* The first failed entry's error, with a message that counts them. */
static int config_result(ax_config_report *r, const char *path, const char *verb)
{
	size_t bad = 0, first = SIZE_MAX;

	for (size_t i = 0; i < r->n; i++) {
		int st = r->e[i].status;

		if (st == AX_CONFIG_WRITTEN || st == AX_CONFIG_UNCHANGED)
			continue;
		if (first == SIZE_MAX)
			first = i;
		bad++;
	}
	if (!bad)
		return 0;
	return ax__error_set(r->e[first].error ? r->e[first].error : AX_ERROR,
	                     "'%s': %zu of %zu registers not %s; first '%s' (subnode %d): %s", path,
	                     bad, r->n, verb, r->e[first].id, r->e[first].subnode,
	                     r->e[first].message ? r->e[first].message : "");
}

/*
 * Stop a load that @cancel ended: the entries not tried become SKIPPED and
 * the message says what the drive now holds (what was written of the file).
 */
static int config_load_cancelled(ax_config_report *r, const char *path)
{
	size_t written = ax_config_report_tally(r, AX_CONFIG_WRITTEN) +
	                 ax_config_report_tally(r, AX_CONFIG_MISMATCH);
	size_t skipped;

	for (size_t i = 0; i < r->n; i++)
		if (!r->e[i].status)
			r->e[i].status = AX_CONFIG_SKIPPED;
	skipped = ax_config_report_tally(r, AX_CONFIG_SKIPPED);
	if (written == 0)
		return ax__error_set(AX_ECANCELED,
		                     "'%s': cancelled before the first write: no register "
		                     "written (%zu of %zu not tried); the drive's configuration "
		                     "is unchanged",
		                     path, skipped, r->n);
	return ax__error_set(AX_ECANCELED,
	                     "'%s': cancelled after writing %zu of %zu registers (%zu not "
	                     "tried): the drive now holds a partial configuration",
	                     path, written, r->n, skipped);
}

int ax_config_load_cancel(ax_drive *drive, const char *path, int subnode, unsigned int flags,
                          ax_cancel *cancel, ax_config_report **report_out)
{
	ax_config_report *r = NULL;
	uint8_t cur[AX_VALUE_MAX + 1];
	size_t len = 0;
	int err;

	err = config_prepare(drive, path, subnode, flags, &r);
	if (err < 0)
		return err;
	for (size_t i = 0; i < r->n; i++) {
		struct config_entry *e = &r->e[i];
		int dtype;

		if (e->status)
			continue;
		/* Watched before a read and a write; a write that went out is read back. */
		if (ax_cancel_requested(cancel))
			goto cancelled;
		dtype = ax_reg_dtype(e->reg);
		err = ax__config_read_reg(drive, e->reg, cur, &len, &e->drive_value);
		if (err < 0 && link_lost(err))
			goto lost;
		if (err == 0 && values_equal(dtype, cur, len, e->value, e->value_len)) {
			e->status = AX_CONFIG_UNCHANGED;
			continue;
		}
		if (ax_cancel_requested(cancel))
			goto cancelled;
		err = ax_link_write_reg(ax_drive_link(drive), e->reg, e->value, e->value_len);
		if (err < 0) {
			if (entry_fail(e, AX_CONFIG_REFUSED, err, ax_error_last()) < 0)
				goto oom;
			if (link_lost(err))
				goto lost;
			continue;
		}
		err = ax__config_read_reg(drive, e->reg, cur, &len, NULL);
		if (err < 0) {
			if (entry_fail(e, AX_CONFIG_MISMATCH, err, ax_error_last()) < 0)
				goto oom;
			if (link_lost(err))
				goto lost;
			continue;
		}
		if (!values_equal(dtype, cur, len, e->value, e->value_len)) {
			char *back = NULL, msg[160];

			if (ax__config_format(dtype, cur, len, &back) < 0)
				goto oom;
			(void)snprintf(msg, sizeof(msg), "written, but reads back '%.64s'", back);
			free(back);
			if (entry_fail(e, AX_CONFIG_MISMATCH, AX_ERROR, msg) < 0)
				goto oom;
			continue;
		}
		e->status = AX_CONFIG_WRITTEN;
	}
	err = config_result(r, path, "applied");
	goto done;
lost:
	/* A request cut short by the cancel (or ax_link_cancel()) is a cancel too. */
	if (err == AX_ECANCELED || ax_cancel_requested(cancel))
		goto cancelled;
	for (size_t i = 0; i < r->n; i++)
		if (!r->e[i].status)
			r->e[i].status = AX_CONFIG_SKIPPED;
	(void)config_result(r, path, "applied");
	err = ax__error_set(err, "'%s': the link failed, %zu registers not tried: %s", path,
	                    ax_config_report_tally(r, AX_CONFIG_SKIPPED), ax_error_last());
	goto done;
cancelled:
	err = config_load_cancelled(r, path);
	goto done;
oom:
	err = ax__error_oom();
done:
	if (report_out)
		*report_out = r;
	else
		ax_config_report_free(r);
	return err;
}

int ax_config_load(ax_drive *drive, const char *path, int subnode, unsigned int flags,
                   ax_config_report **report_out)
{
	return ax_config_load_cancel(drive, path, subnode, flags, NULL, report_out);
}

int ax_config_diff(ax_drive *drive, const char *path, int subnode, unsigned int flags,
                   ax_config_report **report_out)
{
	const ax_dict *dict;
	ax_config_report *r = NULL;
	uint8_t cur[AX_VALUE_MAX + 1];
	uint8_t covered[256] = {0};
	size_t len = 0, n_file;
	int err, differ = 0;

	err = config_prepare(drive, path, subnode, flags, &r);
	if (err < 0)
		return err;
	dict = ax_drive_dict(drive);
	n_file = r->n;
	for (size_t i = 0; i < n_file; i++) {
		struct config_entry *e = &r->e[i];

		if (e->subnode >= 0)
			covered[e->subnode] = 1;
		if (e->status)
			continue;
		err = ax__config_read_reg(drive, e->reg, cur, &len, &e->drive_value);
		if (err < 0) {
			if (entry_fail(e, AX_CONFIG_REFUSED, err, ax_error_last()) < 0)
				goto oom;
			if (link_lost(err))
				goto lost;
			continue;
		}
		e->status = values_equal(ax_reg_dtype(e->reg), cur, len, e->value, e->value_len)
		                    ? AX_CONFIG_UNCHANGED
		                    : AX_CONFIG_DIFFERENT;
	}
	/* The drive's configuration registers the file lacks, on the subnodes it covers. */
	for (size_t k = 0; k < ax_dict_reg_count(dict); k++) {
		const ax_reg *reg = ax_dict_reg_at(dict, k);
		unsigned sn = ax_reg_subnode(reg);
		struct config_entry *e;
		int found = 0;

		if (!ax__config_is_config_reg(reg) || !covered[sn])
			continue;
		for (size_t i = 0; i < n_file && !found; i++)
			found = r->e[i].reg == reg;
		if (found)
			continue;
		e = report_add(r, ax_reg_id(reg), (int)sn);
		if (!e)
			goto oom;
		e->status = AX_CONFIG_NOT_IN_FILE;
	}
	for (size_t i = 0; i < r->n; i++)
		differ += r->e[i].status != AX_CONFIG_UNCHANGED;
	err = differ;
	goto done;
lost:
	for (size_t i = 0; i < r->n; i++)
		if (!r->e[i].status)
			r->e[i].status = AX_CONFIG_SKIPPED;
	err = ax__error_set(err, "'%s': the link failed, %zu registers not compared: %s", path,
	                    ax_config_report_tally(r, AX_CONFIG_SKIPPED), ax_error_last());
	goto done;
oom:
	err = ax__error_oom();
done:
	if (report_out)
		*report_out = r;
	else
		ax_config_report_free(r);
	return err;
}
