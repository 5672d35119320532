/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_VALUE_H
#define AXLINK_VALUE_H

/**
 * @file axlink/value.h
 * @brief Register data types and their text form.
 * @defgroup ax_value Values
 *
 * Register values travel as little-endian bytes. These helpers turn text
 * into those bytes and back, for tools and bindings.
 * @{
 */

#include "axlink/common.h"

AX_BEGIN_DECLS

/** Register data types, named as in dictionaries ("u8" ... "byteArray512"). */
typedef enum ax_dtype {
	AX_DTYPE_INVALID = 0,
	AX_DTYPE_U8 = 1,
	AX_DTYPE_S8 = 2,
	AX_DTYPE_U16 = 3,
	AX_DTYPE_S16 = 4,
	AX_DTYPE_U32 = 5,
	AX_DTYPE_S32 = 6,
	AX_DTYPE_U64 = 7,
	AX_DTYPE_S64 = 8,
	AX_DTYPE_FLOAT = 9,  /**< IEEE 754 binary32 */
	AX_DTYPE_STR = 10,   /**< NUL-terminated text, up to 512 bytes */
	AX_DTYPE_BOOL = 11,  /**< one byte, 0 or 1 */
	AX_DTYPE_BYTES = 12, /**< raw bytes, up to 512 ("byteArray512") */
} ax_dtype;

/** Longest value in bytes (an extended MCB payload). */
#define AX_VALUE_MAX 512

/**
 * Name of a type ("u32", "float", "str", "bool", "bytes"), or NULL.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_dtype_name(int dtype);

/**
 * Parse a type name, case-insensitive; "byteArray512" is AX_DTYPE_BYTES and
 * "f32" an alias of "float".
 * @return the ax_dtype (> 0), or AX_EINVAL listing the valid names.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_dtype_parse(const char *name);

/**
 * Fixed size in bytes of a type, or 0 for the variable-length str and bytes.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API size_t ax_dtype_size(int dtype);

/**
 * Convert @p text into the little-endian bytes of @p dtype.
 *
 * Integers accept decimal, 0x hex and a leading '-' for signed types;
 * floats the C locale's form; bool "0", "1", "true", "false"; bytes hex
 * digits ("00ff10"); str the text itself. A float follows the rule of
 * ax_value_from_f64(): "nan" and "inf" are refused, and so are "1e39"
 * (beyond float) and "1e-50" (would be stored as 0).
 *
 * @param[out] len_out  bytes written to @p buf
 * @return 0, AX_EINVAL (not a number, trailing junk), AX_ERANGE (does not
 *         fit the type), AX_ETOOBIG (@p cap too small).
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_value_parse(int dtype, const char *text, void *buf, size_t cap, size_t *len_out);

/**
 * Let NaN and infinity through to a float register.
 *
 * Without it every conversion and register write of this library refuses
 * them with AX_ERANGE: a drive takes a NaN set point or limit without a
 * word and then acts on it. Pass it to ax_value_parse_flags(),
 * ax_value_from_f64() and ax_link_write_reg_flags() when a NaN or an
 * infinity is what the register must hold (the CLI's --allow-nonfinite,
 * Python's allow_nonfinite=True). It never lets a finite value become
 * infinite or a nonzero one become 0; a dictionary's range still applies.
 * @since 0.1
 */
#define AX_VALUE_ALLOW_NONFINITE 0x1u

/**
 * ax_value_parse() with @p flags: 0 or AX_VALUE_ALLOW_NONFINITE.
 * @return as ax_value_parse(); AX_EINVAL for an unknown flag.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_value_parse_flags(int dtype, const char *text, unsigned int flags, void *buf,
                                size_t cap, size_t *len_out);

/**
 * Convert the number @p value into the little-endian bytes of @p dtype,
 * refusing what the type would not hold.
 *
 * A float keeps the nearest binary32, subnormals included; refused with
 * AX_ERANGE are NaN and ±infinity (unless @p flags holds
 * AX_VALUE_ALLOW_NONFINITE), a finite value beyond ±3.40282347e+38 (it
 * would become infinite) and a nonzero value below the smallest subnormal
 * (it would become 0). An integer type or bool takes an integral value it
 * holds exactly (u64 up to 2^64 - 1); anything else is AX_ERANGE.
 *
 * @param flags          0 or AX_VALUE_ALLOW_NONFINITE
 * @param[out] len_out   bytes written to @p buf (the type's size)
 * @return 0, AX_ERANGE (the message names the value and why), AX_ETYPE (a
 *         str or bytes type), AX_ETOOBIG (@p cap too small), AX_EINVAL
 *         (unknown type or flag).
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_value_from_f64(int dtype, double value, unsigned int flags, void *buf, size_t cap,
                             size_t *len_out);

/**
 * Format the little-endian bytes of @p dtype as text: decimal integers,
 * floats with up to 9 significant digits, str up to its NUL, bytes as hex.
 *
 * Ownership: *out is freed with ax_free().
 * @return 0, AX_ETYPE (@p len shorter than the type), AX_ENOMEM.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_value_format(int dtype, const void *buf, size_t len, char **out);

AX_END_DECLS

/** @} */
#endif
