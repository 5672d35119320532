/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_XDF_H
#define AXLINK_SRC_XDF_H

/*
 * The XDF (IngeniaDictionary XML) importer behind ax_dict_load_file(). The
 * device database reads a file once, hashes it and hands the same bytes
 * here, so what it records is exactly what was parsed.
 */

#include <stddef.h>

#include "dict.h"

/* Largest dictionary file accepted; real ones stay near 1 MB. */
#define AX__XDF_MAX_SIZE ((size_t)16 << 20)

/*
 * Read @path whole, refusing anything over AX__XDF_MAX_SIZE. *buf_out is
 * malloc'ed (free()), NUL-terminated after *len_out bytes.
 * Returns 0, AX_ENOTFOUND, AX_EACCESS, AX_ETOOBIG, AX_EINVAL (not a regular
 * file), AX_EIO or AX_ENOMEM.
 */
int ax__xdf_read_file(const char *path, char **buf_out, size_t *len_out);

/*
 * Parse the XDF document in @buf (@len bytes) named @path in messages, as
 * ax_dict_load_file() does: one sealed dictionary per device element.
 * Returns the number of dictionaries (> 0) or a negative ax_error_code.
 */
int ax__xdf_load_buffer(ax_dict ***out, size_t *n_out, const char *path, const char *buf,
                        size_t len, ax_ctx *ctx);

/*
 * Flags of ax__xdf_load_buffer_flags(). Format version 3 makes some
 * attributes mandatory that the import can do without (pdo_access, desc,
 * default, ...; see xdf.c); version 2 has no such list.
 */
/* Warn once per device, element kind and attribute that a version 3 file lacks. */
#define AX__XDF_CHECK_V3 0x1u
/* Refuse (AX_EFORMAT, naming file:line and attribute) a version 3 file that lacks one. */
#define AX__XDF_STRICT 0x2u

/* ax__xdf_load_buffer() with @flags: 0 or AX__XDF_* flags. */
int ax__xdf_load_buffer_flags(ax_dict ***out, size_t *n_out, const char *path, const char *buf,
                              size_t len, unsigned flags, ax_ctx *ctx);

#endif
