/* SPDX-License-Identifier: MIT */
/*
 * Configuration files (axlink/config.h): ax_config_save(), a drive's
 * configuration written as an XCF file with libxml2's tree API, new or
 * updating an existing file. The format, and reading it, are in config.c.
 */
#define _POSIX_C_SOURCE 200809L

#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "axlink/config.h"
#include "axlink/scan.h"
#include "axlink/value.h"
#include "config_priv.h"
#include "dict.h"
#include "error.h"

/* ---- writing the file ----------------------------------------------- */

/* Set (add, or replace in place, keeping the attribute order) one attribute. */
static int set_attr(xmlNodePtr n, const char *name, const char *value)
{
	return xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value) ? 0 : ax__error_oom();
}

static int set_attr_u32(xmlNodePtr n, const char *name, uint32_t v)
{
	char text[16];

	(void)snprintf(text, sizeof(text), "%u", (unsigned)v);
	return set_attr(n, name, text);
}

/* An attribute's text without copying it, or NULL. */
static const char *attr_peek(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a = xmlHasProp(n, (const xmlChar *)name);

	return a && a->children && a->children->type == XML_TEXT_NODE
	               ? (const char *)a->children->content
	               : NULL;
}

/* The Register element of (@id, @subnode) under @regs, or NULL. */
static xmlNodePtr find_register(xmlNodePtr regs, const char *id, unsigned subnode)
{
	for (xmlNodePtr n = regs->children; n; n = n->next) {
		const char *nid, *sn;
		uint32_t v;

		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "Register"))
			continue;
		nid = attr_peek(n, "id");
		sn = attr_peek(n, "subnode");
		if (nid && sn && !strcmp(nid, id) && ax__config_parse_u32(sn, &v) == 0 &&
		    v == subnode)
			return n;
	}
	return NULL;
}

/*
 * Read @reg and put its value into its Register element: the one @regs
 * has already (a file being updated), or a new one at the end.
 */
static int config_put_register(ax_drive *drive, xmlNodePtr regs, const ax_reg *reg)
{
	uint8_t buf[AX_VALUE_MAX + 1];
	char *text = NULL, *hex = NULL, sub[8];
	size_t len = 0;
	xmlNodePtr n;
	int err, dtype = ax_reg_dtype(reg);

	err = ax__config_read_reg(drive, reg, buf, &len, &text);
	if (err < 0)
		return ax__error_set(err, "register '%s' (subnode %u): %s", ax_reg_id(reg),
		                     ax_reg_subnode(reg), ax_error_last());
	n = find_register(regs, ax_reg_id(reg), ax_reg_subnode(reg));
	if (!n)
		n = xmlNewChild(regs, NULL, (const xmlChar *)"Register", NULL);
	if (!n) {
		free(text);
		return ax__error_oom();
	}
	(void)snprintf(sub, sizeof(sub), "%u", ax_reg_subnode(reg));
	err = set_attr(n, "access", "rw");
	if (err == 0)
		err = set_attr(n, "dtype", ax__config_dtype_name(dtype));
	if (err == 0)
		err = set_attr(n, "id", ax_reg_id(reg));
	if (err == 0)
		err = set_attr(n, "subnode", sub);
	if (err == 0)
		err = set_attr(n, "storage", text);
	/* A byte array's bytes; for other types only when the file had data (it wins). */
	if (err == 0 && (dtype == AX_DTYPE_BYTES || xmlHasProp(n, (const xmlChar *)"data"))) {
		size_t size = ax_dtype_size(dtype);

		if (dtype == AX_DTYPE_STR)
			size = strnlen((const char *)buf, len);
		else if (dtype == AX_DTYPE_BYTES || size > len)
			size = len;
		err = ax_value_format(AX_DTYPE_BYTES, buf, size, &hex);
		if (err == 0)
			err = set_attr(n, "data", hex);
		ax_free(hex);
	}
	free(text);
	return err;
}

static int write_file(const char *path, const xmlChar *mem, int size)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	size_t done = 0;
	int fd, err = 0;

	if (!tmp)
		return ax__error_oom();
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp-XXXXXX", 12);
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = config_file_error(AX_EIO, "'%s': %s", path, strerror(errno));
		free(tmp);
		return err;
	}
	while (done < (size_t)size) {
		ssize_t n = write(fd, mem + done, (size_t)size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = config_file_error(AX_EIO, "'%s': %s", tmp, strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	if (err == 0 && fchmod(fd, 0644) < 0)
		err = config_file_error(AX_EIO, "'%s': %s", tmp, strerror(errno));
	if (close(fd) < 0 && err == 0)
		err = config_file_error(AX_EIO, "'%s': %s", tmp, strerror(errno));
	if (err == 0 && rename(tmp, path) < 0)
		err = config_file_error(AX_EIO, "'%s': %s", path, strerror(errno));
	if (err < 0)
		(void)unlink(tmp);
	free(tmp);
	return err;
}

int ax_config_save(ax_drive *drive, const char *path, int subnode, unsigned int flags)
{
	const ax_dict *dict;
	const ax_dict_identity *di;
	const ax_identity *id;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, header, body, device = NULL, regs = NULL;
	uint32_t product;
	xmlChar *mem = NULL;
	int size = 0, err = 0, count = 0;

	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(path);
	if (flags & ~AX_CONFIG_UPDATE)
		return ax__error_set(AX_EINVAL, "unknown configuration flags 0x%x", flags);
	if (subnode < AX_CONFIG_ALL || subnode > 255)
		return ax__error_set(AX_EINVAL, "subnode %d is not 0..255 or AX_CONFIG_ALL",
		                     subnode);
	dict = ax_drive_dict(drive);
	if (!dict)
		return ax__error_set(AX_ENOTFOUND,
		                     "drive '%s' has no dictionary: its "
		                     "configuration registers are unknown",
		                     ax_drive_uri(drive));
	di = ax_dict_identity_get(dict);
	id = ax_drive_identity(drive);
	product = id->known & AX_SCAN_HAS_PRODUCT ? id->product_code : di->product_code;
	ax__config_xml_init();

	if ((flags & AX_CONFIG_UPDATE) && access(path, F_OK) == 0) {
		struct config_file cf = {0};

		err = ax__config_open_doc(path, XML_PARSE_NOBLANKS, &doc, &device, &regs, &cf);
		if (err < 0)
			return err;
		if (cf.has_product && cf.product != product) {
			err = ax__error_set(AX_EINVAL,
			                    "'%s' is for product code 0x%08X; the drive "
			                    "is 0x%08X: not updating it",
			                    path, (unsigned)cf.product, (unsigned)product);
			goto fail;
		}
		goto identity;
	}
	doc = xmlNewDoc((const xmlChar *)"1.0");
	root = doc ? xmlNewNode(NULL, (const xmlChar *)"IngeniaDictionary") : NULL;
	if (!root)
		goto oom;
	(void)xmlDocSetRootElement(doc, root);
	header = xmlNewChild(root, NULL, (const xmlChar *)"Header", NULL);
	body = xmlNewChild(root, NULL, (const xmlChar *)"Body", NULL);
	if (!header || !body ||
	    !xmlNewChild(header, NULL, (const xmlChar *)"Version", (const xmlChar *)"2"))
		goto oom;
	device = xmlNewChild(body, NULL, (const xmlChar *)"Device", NULL);
	if (!device)
		goto oom;
identity:
	err = set_attr(device, "Interface", di->interface && *di->interface ? di->interface
					    : di->addr_space == AX_ADDR_CANOPEN ? "CAN" : "ETH");
	if (err == 0)
		err = set_attr(device, "firmwareVersion",
		               id->known & AX_SCAN_HAS_SW_VERSION ? id->sw_version
		                                                  : di->firmware_version);
	if (err == 0)
		err = set_attr_u32(device, "ProductCode", product);
	if (err == 0)
		err = set_attr(device, "PartNumber", di->part_number);
	if (err == 0)
		err = set_attr_u32(device, "RevisionNumber",
		                   id->known & AX_SCAN_HAS_REVISION ? id->revision : di->revision);
	if (err < 0)
		goto fail;
	if (!regs)
		regs = xmlNewChild(device, NULL, (const xmlChar *)"Registers", NULL);
	if (!regs)
		goto oom;
	for (size_t k = 0; k < ax_dict_reg_count(dict); k++) {
		const ax_reg *reg = ax_dict_reg_at(dict, k);

		if (!ax__config_is_config_reg(reg) ||
		    (subnode != AX_CONFIG_ALL && (int)ax_reg_subnode(reg) != subnode))
			continue;
		err = config_put_register(drive, regs, reg);
		if (err < 0)
			goto fail;
		count++;
	}
	if (count == 0) {
		err = subnode == AX_CONFIG_ALL
		              ? ax__error_set(AX_ENOTFOUND,
		                              "the dictionary of '%s' marks no "
		                              "register as configuration",
		                              ax_drive_uri(drive))
		              : ax__error_set(AX_ENOTFOUND,
		                              "no configuration register on subnode "
		                              "%d of '%s'",
		                              subnode, ax_drive_uri(drive));
		goto fail;
	}
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	if (!mem)
		goto oom;
	err = write_file(path, mem, size);
	if (err < 0)
		goto fail;
	xmlFree(mem);
	xmlFreeDoc(doc);
	return count;
oom:
	err = ax__error_oom();
fail:
	xmlFree(mem);
	xmlFreeDoc(doc);
	return err;
}
