/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_CONFIG_PRIV_H
#define AXLINK_SRC_CONFIG_PRIV_H

/*
 * What the two halves of the configuration module share: config.c reads
 * XCF files and loads or diffs them, config_save.c writes them.
 * (Not src/config.h: with src/ on the include path that name would shadow
 * any other project's "config.h".)
 */

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "axlink/config.h"

/*
 * Errors about the file itself (missing, unreadable, not XCF) are of the
 * dictionary class: an XCF file is a document of the dictionary family.
 */
#define config_file_error(...) ax__error_set_class(AX_ERRCLASS_DICT, __VA_ARGS__)

/* What a file says, entries aside. */
struct config_file {
	int has_product, has_revision;
	uint32_t product, revision;
};

/* libxml2 initialised, once per process. */
void ax__config_xml_init(void);

/* A configuration register: read-write and kept in non-volatile memory. */
int ax__config_is_config_reg(const ax_reg *reg);

/* The dtype as the format spells it (ax_dtype_name() says "bytes" for byteArray512). */
const char *ax__config_dtype_name(int dtype);

/* The value as `storage` text (*out: free()): floats keep a decimal point, bools True/False. */
int ax__config_format(int dtype, const uint8_t *buf, size_t len, char **out);

/* A decimal u32 (no sign, nothing after it); -1 when @s is not one. */
int ax__config_parse_u32(const char *s, uint32_t *out);

/*
 * Parse @path as a configuration document: *doc_out (xmlFreeDoc()) with
 * its Device and Device/Registers elements, and the identity it names.
 * @options: extra XML_PARSE_* (NOBLANKS when the document is rewritten).
 */
int ax__config_open_doc(const char *path, int options, xmlDocPtr *doc_out, xmlNodePtr *device_out,
                        xmlNodePtr *regs_out, struct config_file *cf);

/* Read @reg into @buf; on success its text goes to *text_out (if not NULL and not set). */
int ax__config_read_reg(ax_drive *drive, const ax_reg *reg, uint8_t *buf, size_t *len,
                        char **text_out);

#endif
