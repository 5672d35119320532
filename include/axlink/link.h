/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_LINK_H
#define AXLINK_LINK_H

/**
 * @file axlink/link.h
 * @brief An open transport endpoint and register access by (subnode, address).
 * @defgroup ax_link Links
 *
 * A link is one endpoint of one transport plugin, opened from a URI. It
 * carries one request at a time: requests from several threads are
 * serialized whole, never interleaved. Values are little-endian on the wire.
 * @{
 */

#include "axlink/common.h"
#include "axlink/ctx.h"
#include "axlink/dict.h"

AX_BEGIN_DECLS

/** An open endpoint. Thread safety: safe (requests are serialized). */
typedef struct ax_link ax_link;

#define AX_LINK_OPTIONS_VERSION 1

/** Options for ax_link_open(). */
typedef struct ax_link_options {
	unsigned int version; /**< AX_LINK_OPTIONS_VERSION */
	int timeout_ms; /**< request timeout; 0 = the URI's `timeout_ms`, the context's, or the
	                   transport's default */
} ax_link_options;

#define AX_LINK_OPTIONS_INIT                                                                       \
	{                                                                                          \
		AX_LINK_OPTIONS_VERSION, 0                                                         \
	}

/**
 * Open a link to the endpoint named by @p uri.
 *
 * The scheme selects the plugin; the query keys are checked against the
 * keys the plugin declares (an unknown key fails with AX_EUNKNOWNKEY and a
 * message listing the valid ones).
 * Ownership: *out gets one reference (ax_link_unref()); the link holds a
 * reference on @p ctx and on the plugin. Untouched on failure.
 * Thread safety: safe.
 *
 * @param[out] out  the new link
 * @param uri       e.g. "virtual:" or "eth://127.0.0.2:1061"; copied
 * @param opts      NULL, or initialised with AX_LINK_OPTIONS_INIT
 * @return 0, AX_EINVAL (malformed URI), AX_ENOTFOUND (no plugin for the
 *         scheme), AX_EUNKNOWNKEY, or another negative ax_error_code from
 *         the transport; see ax_error_last().
 * @since 0.1
 */
AX_API int ax_link_open(ax_link **out, ax_ctx *ctx, const char *uri, const ax_link_options *opts);

/** Take a reference; returns @p link. Thread safety: safe. @since 0.1 */
AX_API ax_link *ax_link_ref(ax_link *link);

/**
 * Drop a reference; the endpoint closes with the last one. Accepts NULL;
 * returns NULL. Thread safety: safe.
 * @since 0.1
 */
AX_API ax_link *ax_link_unref(ax_link *link);

/** The URI the link was opened with; borrowed for the link's life. @since 0.1 */
AX_API const char *ax_link_uri(const ax_link *link);

/** Scheme of the link's plugin; borrowed for the link's life. @since 0.1 */
AX_API const char *ax_link_scheme(const ax_link *link);

/**
 * The register address space the link's transport speaks: an
 * ax_addr_space (AX_ADDR_MCB, AX_ADDR_CANOPEN), or 0 for a NULL link. Only a
 * dictionary of this space describes the drives on the link; ax_drive_open()
 * resolves with it.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_addr_space(const ax_link *link);

/** The context the link belongs to (borrowed). @since 0.1 */
AX_API ax_ctx *ax_link_ctx(const ax_link *link);

/**
 * Set the request timeout in milliseconds (> 0).
 * @return 0 or AX_EINVAL. Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_set_timeout(ax_link *link, int timeout_ms);

/** The request timeout in milliseconds. Thread safety: safe. @since 0.1 */
AX_API int ax_link_get_timeout(const ax_link *link);

/**
 * Abort the request in flight on @p link from another thread, if the
 * transport supports it; that request fails with AX_ECANCELED.
 * @return 0, or AX_EUNSUPPORTED. Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_cancel(ax_link *link);

/**
 * Read the raw bytes of register (@p subnode, @p address).
 *
 * @param buf       receives up to @p cap bytes
 * @param[out] len_out  bytes the drive returned (8 for a plain MCB reply)
 * @return 0, AX_ETIMEDOUT, AX_EDRIVE (error reply; code in
 *         ax_error_last_drive_code()), AX_ETOOBIG (reply over @p cap), or
 *         another negative ax_error_code.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_read(ax_link *link, unsigned subnode, uint32_t address, void *buf, size_t cap,
                        size_t *len_out);

/**
 * Write @p len raw bytes to register (@p subnode, @p address).
 * @return 0, AX_ETIMEDOUT, AX_EDRIVE, or another negative ax_error_code.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_write(ax_link *link, unsigned subnode, uint32_t address, const void *buf,
                         size_t len);

/**
 * Read a register as @p dtype into @p buf (at least ax_dtype_size() bytes,
 * or up to @p cap for str and bytes; a str is NUL-terminated).
 * @return 0, AX_ETYPE (the reply is shorter than the type), or what
 *         ax_link_read() returns.
 * @since 0.1
 */
AX_API int ax_link_read_value(ax_link *link, unsigned subnode, uint32_t address, int dtype,
                              void *buf, size_t cap, size_t *len_out);

/**
 * Identity registers a drive reports (MCB, subnode 0).
 *
 * A caller that fills one (ax_link_identify()) sets `size` to
 * sizeof(ax_identity) first (AX_IDENTITY_INIT): the library writes only
 * the fields that size covers, so a struct of an older header stays valid
 * when later versions append fields.
 */
typedef struct ax_identity {
	uint32_t size;         /**< sizeof(ax_identity) the caller was built with (@since 0.2) */
	uint32_t known;        /**< AX_SCAN_HAS_* bits (axlink/scan.h) of the fields read */
	uint32_t vendor_id;    /**< 0x6E0 */
	uint32_t product_code; /**< 0x6E1 */
	uint32_t revision;     /**< 0x6E2 */
	uint32_t serial;       /**< 0x6E6 */
	char sw_version[64];   /**< 0x6E4, truncated to fit, NUL-terminated */
} ax_identity;

/** Initialiser of an ax_identity to fill: sets `size`. @since 0.2 */
#define AX_IDENTITY_INIT                                                                           \
	{                                                                                          \
		sizeof(ax_identity), 0, 0, 0, 0, 0,                                                \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/**
 * Read the drive's identity registers. Vendor, product and revision are
 * required (their failure is returned); serial and software version are
 * read when the drive has them (see `known`). On a link in the CANopen
 * address space they are the identity object 0x1018 (subindexes 1-4) and
 * the software version 0x100A.
 * @param[out] out  its `size` set to sizeof(ax_identity) (AX_IDENTITY_INIT)
 * @return 0, AX_EINVAL (out->size below the first version's size), or
 *         what ax_link_read() returns.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_identify(ax_link *link, ax_identity *out);

/**
 * Read register @p reg of a dictionary (its subnode, address and type).
 * @return 0, AX_EACCESS (the dictionary says write-only), AX_EUNSUPPORTED
 *         (a register the link's frames cannot address, ax_reg_reachable()
 *         0: the message names it, its address and why; since 0.2), or what
 *         ax_link_read_value() returns.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_read_reg(ax_link *link, const ax_reg *reg, void *buf, size_t cap,
                            size_t *len_out);

/**
 * Write register @p reg of a dictionary. The value must have the register's
 * size (any length up to its capacity for str and bytes), lie in its range
 * when the dictionary gives one, and the register must be writable. A float
 * register refuses NaN and infinity, with or without a range
 * (ax_link_write_reg_flags() with AX_VALUE_ALLOW_NONFINITE writes them).
 * @return 0, AX_EACCESS (read-only), AX_ETYPE (wrong size), AX_ERANGE (out
 *         of the dictionary's range, message names both bounds; or a float
 *         that is not finite), AX_EUNSUPPORTED (out of the link's reach, as
 *         for ax_link_read_reg(); since 0.2), or what ax_link_write() returns.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_write_reg(ax_link *link, const ax_reg *reg, const void *buf, size_t len);

/**
 * ax_link_write_reg() with @p flags: 0, or AX_VALUE_ALLOW_NONFINITE to let
 * a NaN or infinity through to a float register (axlink/value.h). The
 * dictionary's range still applies: NaN lies in no range, infinity in no
 * finite one.
 * @return as ax_link_write_reg(); AX_EINVAL for an unknown flag.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_link_write_reg_flags(ax_link *link, const ax_reg *reg, const void *buf, size_t len,
                                   unsigned int flags);

/** @name Typed access
 * Read or write one register as a C type. Out params are written only on
 * success. Return codes as ax_link_read() / ax_link_write();
 * ax_link_write_float() also refuses NaN and infinity with AX_ERANGE (to
 * write one on purpose, give ax_link_write() its bytes).
 * Thread safety: safe.
 * @since 0.1
 * @{
 */
AX_API int ax_link_read_u8(ax_link *link, unsigned subnode, uint32_t address, uint8_t *out);
AX_API int ax_link_read_s8(ax_link *link, unsigned subnode, uint32_t address, int8_t *out);
AX_API int ax_link_read_u16(ax_link *link, unsigned subnode, uint32_t address, uint16_t *out);
AX_API int ax_link_read_s16(ax_link *link, unsigned subnode, uint32_t address, int16_t *out);
AX_API int ax_link_read_u32(ax_link *link, unsigned subnode, uint32_t address, uint32_t *out);
AX_API int ax_link_read_s32(ax_link *link, unsigned subnode, uint32_t address, int32_t *out);
AX_API int ax_link_read_u64(ax_link *link, unsigned subnode, uint32_t address, uint64_t *out);
AX_API int ax_link_read_s64(ax_link *link, unsigned subnode, uint32_t address, int64_t *out);
AX_API int ax_link_read_float(ax_link *link, unsigned subnode, uint32_t address, float *out);
/** *out is NUL-terminated and freed with ax_free(). */
AX_API int ax_link_read_str(ax_link *link, unsigned subnode, uint32_t address, char **out);

AX_API int ax_link_write_u8(ax_link *link, unsigned subnode, uint32_t address, uint8_t value);
AX_API int ax_link_write_s8(ax_link *link, unsigned subnode, uint32_t address, int8_t value);
AX_API int ax_link_write_u16(ax_link *link, unsigned subnode, uint32_t address, uint16_t value);
AX_API int ax_link_write_s16(ax_link *link, unsigned subnode, uint32_t address, int16_t value);
AX_API int ax_link_write_u32(ax_link *link, unsigned subnode, uint32_t address, uint32_t value);
AX_API int ax_link_write_s32(ax_link *link, unsigned subnode, uint32_t address, int32_t value);
AX_API int ax_link_write_u64(ax_link *link, unsigned subnode, uint32_t address, uint64_t value);
AX_API int ax_link_write_s64(ax_link *link, unsigned subnode, uint32_t address, int64_t value);
AX_API int ax_link_write_float(ax_link *link, unsigned subnode, uint32_t address, float value);
/** Writes the text without its NUL; extended frame when longer than 8 bytes. */
AX_API int ax_link_write_str(ax_link *link, unsigned subnode, uint32_t address, const char *value);
/** @} */

AX_END_DECLS

/** @} */
#endif
