/* SPDX-License-Identifier: MIT */
/*
 * Register values: type names, text -> little-endian bytes with both sides
 * of every limit, bytes -> text, and round trips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "axlink/common.h"
#include "axlink/error.h"
#include "axlink/value.h"

struct parse_case {
	const char *name;
	int dtype;
	const char *text;
	int want;
	size_t len;       /* bytes produced on success */
	uint8_t bytes[8]; /* little-endian */
};

/* clang-format off */
/* Rows: OK(name, dtype, text, length, bytes...) and BAD(name, dtype, text, error). */
#define OK(n, t, s, l, ...) { n, t, s, 0, l, { __VA_ARGS__ } }
#define BAD(n, t, s, e) { n, t, s, e, 0, { 0 } }

static const struct parse_case parse_cases[] = {
	/* u8 / s8 */
	OK("u8_min", AX_DTYPE_U8, "0", 1, 0x00),
	OK("u8_max", AX_DTYPE_U8, "255", 1, 0xff),
	BAD("u8_over", AX_DTYPE_U8, "256", AX_ERANGE),
	BAD("u8_negative", AX_DTYPE_U8, "-1", AX_ERANGE),
	OK("u8_minus_zero", AX_DTYPE_U8, "-0", 1, 0x00),
	OK("u8_hex_max", AX_DTYPE_U8, "0xFF", 1, 0xff),
	BAD("u8_hex_over", AX_DTYPE_U8, "0x100", AX_ERANGE),
	OK("s8_min", AX_DTYPE_S8, "-128", 1, 0x80),
	BAD("s8_under", AX_DTYPE_S8, "-129", AX_ERANGE),
	OK("s8_max", AX_DTYPE_S8, "127", 1, 0x7f),
	BAD("s8_over", AX_DTYPE_S8, "128", AX_ERANGE),
	OK("s8_hex_negative", AX_DTYPE_S8, "-0x80", 1, 0x80),
	BAD("s8_hex_is_a_value", AX_DTYPE_S8, "0xFF", AX_ERANGE),
	OK("s8_minus_one", AX_DTYPE_S8, "-1", 1, 0xff),
	/* u16 / s16 */
	OK("u16_max", AX_DTYPE_U16, "65535", 2, 0xff, 0xff),
	BAD("u16_over", AX_DTYPE_U16, "65536", AX_ERANGE),
	OK("u16_hex", AX_DTYPE_U16, "0x1234", 2, 0x34, 0x12),
	OK("s16_min", AX_DTYPE_S16, "-32768", 2, 0x00, 0x80),
	BAD("s16_under", AX_DTYPE_S16, "-32769", AX_ERANGE),
	OK("s16_max", AX_DTYPE_S16, "32767", 2, 0xff, 0x7f),
	BAD("s16_over", AX_DTYPE_S16, "32768", AX_ERANGE),
	/* u32 / s32 */
	OK("u32_max", AX_DTYPE_U32, "4294967295", 4, 0xff, 0xff, 0xff, 0xff),
	BAD("u32_over", AX_DTYPE_U32, "4294967296", AX_ERANGE),
	OK("u32_hex", AX_DTYPE_U32, "0x12345678", 4, 0x78, 0x56, 0x34, 0x12),
	OK("u32_store_magic", AX_DTYPE_U32, "0x65766173", 4, 0x73, 0x61, 0x76, 0x65),
	OK("s32_min", AX_DTYPE_S32, "-2147483648", 4, 0x00, 0x00, 0x00, 0x80),
	BAD("s32_under", AX_DTYPE_S32, "-2147483649", AX_ERANGE),
	OK("s32_max", AX_DTYPE_S32, "2147483647", 4, 0xff, 0xff, 0xff, 0x7f),
	BAD("s32_over", AX_DTYPE_S32, "2147483648", AX_ERANGE),
	/* u64 / s64 */
	OK("u64_max", AX_DTYPE_U64, "18446744073709551615", 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	   0xff, 0xff),
	BAD("u64_over", AX_DTYPE_U64, "18446744073709551616", AX_ERANGE),
	OK("u64_hex_max", AX_DTYPE_U64, "0xffffffffffffffff", 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	   0xff, 0xff),
	BAD("u64_hex_over", AX_DTYPE_U64, "0x10000000000000000", AX_ERANGE),
	BAD("u64_negative", AX_DTYPE_U64, "-1", AX_ERANGE),
	OK("s64_min", AX_DTYPE_S64, "-9223372036854775808", 8, 0, 0, 0, 0, 0, 0, 0, 0x80),
	BAD("s64_under", AX_DTYPE_S64, "-9223372036854775809", AX_ERANGE),
	OK("s64_max", AX_DTYPE_S64, "9223372036854775807", 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	   0xff, 0x7f),
	BAD("s64_over", AX_DTYPE_S64, "9223372036854775808", AX_ERANGE),
	BAD("s64_way_under", AX_DTYPE_S64, "-99999999999999999999999", AX_ERANGE),
	/* integer junk */
	BAD("junk_suffix", AX_DTYPE_U32, "12x", AX_EINVAL),
	BAD("empty", AX_DTYPE_U32, "", AX_EINVAL),
	BAD("leading_space", AX_DTYPE_U32, " 1", AX_EINVAL),
	BAD("trailing_space", AX_DTYPE_U32, "1 ", AX_EINVAL),
	BAD("plus_sign", AX_DTYPE_S32, "+1", AX_EINVAL),
	BAD("double_minus", AX_DTYPE_S32, "--1", AX_EINVAL),
	BAD("minus_only", AX_DTYPE_S32, "-", AX_EINVAL),
	BAD("bare_0x", AX_DTYPE_U16, "0x", AX_EINVAL),
	BAD("bad_hex_digit", AX_DTYPE_U16, "0x1g", AX_EINVAL),
	BAD("float_for_int", AX_DTYPE_S32, "1.5", AX_EINVAL),
	BAD("octal_is_not_special", AX_DTYPE_U8, "08x", AX_EINVAL),
	/* float */
	OK("float_20", AX_DTYPE_FLOAT, "20", 4, 0x00, 0x00, 0xa0, 0x41),
	OK("float_0_1", AX_DTYPE_FLOAT, "0.1", 4, 0xcd, 0xcc, 0xcc, 0x3d),
	OK("float_neg", AX_DTYPE_FLOAT, "-1.5", 4, 0x00, 0x00, 0xc0, 0xbf),
	OK("float_exp", AX_DTYPE_FLOAT, "2.5e-3", 4, 0x0a, 0xd7, 0x23, 0x3b),
	OK("float_max", AX_DTYPE_FLOAT, "3.40282347e+38", 4, 0xff, 0xff, 0x7f, 0x7f),
	BAD("float_overflow", AX_DTYPE_FLOAT, "1e39", AX_ERANGE),
	BAD("float_nan", AX_DTYPE_FLOAT, "nan", AX_ERANGE),
	BAD("float_inf", AX_DTYPE_FLOAT, "inf", AX_ERANGE),
	BAD("float_neg_inf", AX_DTYPE_FLOAT, "-Infinity", AX_ERANGE),
	/* Nothing of the value would be left: refused. A subnormal keeps some of it. */
	BAD("float_underflow", AX_DTYPE_FLOAT, "1e-50", AX_ERANGE),
	BAD("float_neg_underflow", AX_DTYPE_FLOAT, "-1e-50", AX_ERANGE),
	BAD("float_double_underflow", AX_DTYPE_FLOAT, "1e-400", AX_ERANGE),
	BAD("float_below_half_min", AX_DTYPE_FLOAT, "7e-46", AX_ERANGE),
	OK("float_subnormal", AX_DTYPE_FLOAT, "1e-40", 4, 0xc2, 0x16, 0x01, 0x00),
	OK("float_min_subnormal", AX_DTYPE_FLOAT, "1.4e-45", 4, 0x01, 0x00, 0x00, 0x00),
	OK("float_zero_exp", AX_DTYPE_FLOAT, "0e-50", 4, 0x00, 0x00, 0x00, 0x00),
	OK("float_neg_zero", AX_DTYPE_FLOAT, "-0", 4, 0x00, 0x00, 0x00, 0x80),
	OK("float_max_rounds_down", AX_DTYPE_FLOAT, "3.4028235e+38", 4, 0xff, 0xff, 0x7f, 0x7f),
	BAD("float_max_rounds_up", AX_DTYPE_FLOAT, "3.4028236e+38", AX_ERANGE),
	BAD("float_neg_overflow", AX_DTYPE_FLOAT, "-1e39", AX_ERANGE),
	BAD("float_nan_upper", AX_DTYPE_FLOAT, "NAN", AX_ERANGE),
	BAD("float_neg_nan", AX_DTYPE_FLOAT, "-nan", AX_ERANGE),
	BAD("float_junk", AX_DTYPE_FLOAT, "1.5x", AX_EINVAL),
	BAD("float_word", AX_DTYPE_FLOAT, "abc", AX_EINVAL),
	BAD("float_empty", AX_DTYPE_FLOAT, "", AX_EINVAL),
	BAD("float_leading_space", AX_DTYPE_FLOAT, " 1", AX_EINVAL),
	BAD("float_comma", AX_DTYPE_FLOAT, "0,5", AX_EINVAL),
	/* bool */
	OK("bool_0", AX_DTYPE_BOOL, "0", 1, 0),
	OK("bool_1", AX_DTYPE_BOOL, "1", 1, 1),
	OK("bool_true", AX_DTYPE_BOOL, "true", 1, 1),
	OK("bool_false_upper", AX_DTYPE_BOOL, "FALSE", 1, 0),
	BAD("bool_2", AX_DTYPE_BOOL, "2", AX_EINVAL),
	BAD("bool_yes", AX_DTYPE_BOOL, "yes", AX_EINVAL),
	BAD("bool_empty", AX_DTYPE_BOOL, "", AX_EINVAL),
	BAD("bool_truex", AX_DTYPE_BOOL, "truex", AX_EINVAL),
	/* bytes */
	OK("bytes_three", AX_DTYPE_BYTES, "00ff10", 3, 0x00, 0xff, 0x10),
	OK("bytes_mixed_case", AX_DTYPE_BYTES, "ABcd", 2, 0xab, 0xcd),
	OK("bytes_empty", AX_DTYPE_BYTES, "", 0, 0),
	BAD("bytes_odd", AX_DTYPE_BYTES, "0ff", AX_EINVAL),
	BAD("bytes_non_hex", AX_DTYPE_BYTES, "0g", AX_EINVAL),
	BAD("bytes_0x_prefix", AX_DTYPE_BYTES, "0x00", AX_EINVAL),
	/* str: the text and its NUL */
	OK("str_hello", AX_DTYPE_STR, "hello", 6, 'h', 'e', 'l', 'l', 'o', 0),
	OK("str_empty", AX_DTYPE_STR, "", 1, 0),
	/* bad type */
	BAD("dtype_0", AX_DTYPE_INVALID, "1", AX_EINVAL),
	BAD("dtype_13", 13, "1", AX_EINVAL),
};
/* clang-format on */

static void test_value__parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		uint8_t buf[16];
		size_t len = 999;
		int err;

		memset(buf, 0xEE, sizeof(buf));
		err = ax_value_parse(c->dtype, c->text, buf, sizeof(buf), &len);
		if (err != c->want)
			fail_msg("%s: '%s' gave %d (%s), want %d", c->name, c->text, err,
			         ax_error_last(), c->want);
		if (err < 0) {
			if (len != 999 || buf[0] != 0xEE)
				fail_msg("%s: output written on failure", c->name);
			/* Every refusal explains itself with the offending text or type. */
			if (c->text[0] && c->dtype > 0 && c->dtype < 13 &&
			    c->dtype != AX_DTYPE_BYTES && !strstr(ax_error_last(), c->text))
				fail_msg("%s: message '%s' does not quote '%s'", c->name,
				         ax_error_last(), c->text);
			continue;
		}
		if (len != c->len)
			fail_msg("%s: %zu bytes, want %zu", c->name, len, c->len);
		if (memcmp(buf, c->bytes, c->len) != 0)
			fail_msg("%s: bytes %02x %02x %02x %02x ..., want %02x %02x %02x %02x ...",
			         c->name, buf[0], buf[1], buf[2], buf[3], c->bytes[0], c->bytes[1],
			         c->bytes[2], c->bytes[3]);
		if (buf[c->len] != 0xEE)
			fail_msg("%s: wrote past its %zu bytes", c->name, c->len);
	}
}

static void test_value__messages(void **state)
{
	uint8_t buf[8];
	size_t len;

	(void)state;
	assert_int_equal(ax_value_parse(AX_DTYPE_U8, "256", buf, sizeof(buf), &len), AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "256 is out of range for u8 (0..255)"));
	assert_int_equal(ax_value_parse(AX_DTYPE_S8, "-129", buf, sizeof(buf), &len), AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "-129 is out of range for s8 (-128..127)"));
	assert_int_equal(
	        ax_value_parse(AX_DTYPE_S64, "9223372036854775808", buf, sizeof(buf), &len),
	        AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "(-9223372036854775808..9223372036854775807)"));
	assert_int_equal(ax_value_parse(AX_DTYPE_U32, "12x", buf, sizeof(buf), &len), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "unexpected 'x' at offset 2"));
	assert_int_equal(ax_value_parse(AX_DTYPE_BYTES, "0ff", buf, sizeof(buf), &len), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "odd number of hex digits (3)"));
	assert_int_equal(ax_value_parse(AX_DTYPE_BYTES, "00zz", buf, sizeof(buf), &len), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "'z' at offset 2"));
}

/* NaN and infinity reach a float's bytes only when the caller asks for them. */
static void test_value__nonfinite_only_on_request(void **state)
{
	static const struct {
		const char *text;
		uint32_t bits;
	} ok[] = {
	        {"nan", 0x7fc00000u},      {"inf", 0x7f800000u}, {"-inf", 0xff800000u},
	        {"Infinity", 0x7f800000u}, {"1.5", 0x3fc00000u},
	};
	uint8_t buf[8];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t bits;

		memset(buf, 0xEE, sizeof(buf));
		len = 999;
		if (ax_value_parse_flags(AX_DTYPE_FLOAT, ok[i].text, AX_VALUE_ALLOW_NONFINITE, buf,
		                         sizeof(buf), &len) != 0)
			fail_msg("'%s' with the opt-in: %s", ok[i].text, ax_error_last());
		assert_int_equal(len, 4);
		bits = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
		       (uint32_t)buf[3] << 24;
		if (bits != ok[i].bits)
			fail_msg("'%s': bits 0x%08x, want 0x%08x", ok[i].text, bits, ok[i].bits);
	}
	/* Without the flag: refused, and the message says how to ask. */
	memset(buf, 0xEE, sizeof(buf));
	len = 999;
	assert_int_equal(ax_value_parse_flags(AX_DTYPE_FLOAT, "nan", 0, buf, sizeof(buf), &len),
	                 AX_ERANGE);
	assert_int_equal(len, 999);
	assert_int_equal(buf[0], 0xEE);
	assert_non_null(strstr(ax_error_last(), "'nan'"));
	assert_non_null(strstr(ax_error_last(), "not finite"));
	assert_non_null(strstr(ax_error_last(), "AX_VALUE_ALLOW_NONFINITE"));
	/* The opt-in is for NaN and infinity asked for, not for values lost on the way. */
	assert_int_equal(ax_value_parse_flags(AX_DTYPE_FLOAT, "1e39", AX_VALUE_ALLOW_NONFINITE, buf,
	                                      sizeof(buf), &len),
	                 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "1e39"));
	assert_non_null(strstr(ax_error_last(), "3.40282347e+38"));
	assert_int_equal(ax_value_parse_flags(AX_DTYPE_FLOAT, "1e-50", AX_VALUE_ALLOW_NONFINITE,
	                                      buf, sizeof(buf), &len),
	                 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "1e-50"));
	assert_non_null(strstr(ax_error_last(), "0"));
	/* Other types ignore the flag; an unknown flag is refused. */
	assert_int_equal(ax_value_parse_flags(AX_DTYPE_U8, "nan", AX_VALUE_ALLOW_NONFINITE, buf,
	                                      sizeof(buf), &len),
	                 AX_EINVAL);
	assert_int_equal(
	        ax_value_parse_flags(AX_DTYPE_FLOAT, "1", 0x80000000u, buf, sizeof(buf), &len),
	        AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "0x80000000"));
}

struct f64_case {
	const char *name;
	int dtype;
	double value;
	unsigned flags;
	int want;
	size_t len;
	uint8_t bytes[8];
};

/* clang-format off */
#define F_OK(n, t, v, f, l, ...) { n, t, v, f, 0, l, { __VA_ARGS__ } }
#define F_BAD(n, t, v, f, e) { n, t, v, f, e, 0, { 0 } }
#define ALLOW AX_VALUE_ALLOW_NONFINITE

static const struct f64_case f64_cases[] = {
	F_OK("float_20", AX_DTYPE_FLOAT, 20.0, 0, 4, 0x00, 0x00, 0xa0, 0x41),
	F_OK("float_zero", AX_DTYPE_FLOAT, 0.0, 0, 4, 0x00, 0x00, 0x00, 0x00),
	F_OK("float_neg_zero", AX_DTYPE_FLOAT, -0.0, 0, 4, 0x00, 0x00, 0x00, 0x80),
	F_OK("float_subnormal_kept", AX_DTYPE_FLOAT, 1e-40, 0, 4, 0xc2, 0x16, 0x01, 0x00),
	F_OK("float_min_subnormal", AX_DTYPE_FLOAT, 1.4e-45, 0, 4, 0x01, 0x00, 0x00, 0x00),
	F_BAD("float_underflow", AX_DTYPE_FLOAT, 1e-50, 0, AX_ERANGE),
	F_BAD("float_neg_underflow", AX_DTYPE_FLOAT, -1e-50, 0, AX_ERANGE),
	F_BAD("float_underflow_allowed_nonfinite", AX_DTYPE_FLOAT, 1e-50, ALLOW, AX_ERANGE),
	F_OK("float_max", AX_DTYPE_FLOAT, 3.4028234663852886e38, 0, 4, 0xff, 0xff, 0x7f, 0x7f),
	/* Just below half an ulp above FLT_MAX rounds down to it; half an ulp rounds to inf. */
	F_OK("float_max_rounds_down", AX_DTYPE_FLOAT, 3.4028235677973362e38, 0, 4,
	     0xff, 0xff, 0x7f, 0x7f),
	F_BAD("float_halfway_overflows", AX_DTYPE_FLOAT, 3.4028235677973366e38, 0, AX_ERANGE),
	F_BAD("float_overflow", AX_DTYPE_FLOAT, 1e39, 0, AX_ERANGE),
	F_BAD("float_neg_overflow", AX_DTYPE_FLOAT, -1e39, 0, AX_ERANGE),
	F_BAD("float_overflow_allowed_nonfinite", AX_DTYPE_FLOAT, 1e300, ALLOW, AX_ERANGE),
	F_BAD("float_nan", AX_DTYPE_FLOAT, NAN, 0, AX_ERANGE),
	F_BAD("float_inf", AX_DTYPE_FLOAT, INFINITY, 0, AX_ERANGE),
	F_BAD("float_neg_inf", AX_DTYPE_FLOAT, -INFINITY, 0, AX_ERANGE),
	F_OK("float_inf_allowed", AX_DTYPE_FLOAT, INFINITY, ALLOW, 4, 0x00, 0x00, 0x80, 0x7f),
	F_OK("float_neg_inf_allowed", AX_DTYPE_FLOAT, -INFINITY, ALLOW, 4, 0x00, 0x00, 0x80, 0xff),
	/* Integer types: integral and in range, exactly at both ends. */
	F_OK("s32_7", AX_DTYPE_S32, 7.0, 0, 4, 0x07, 0x00, 0x00, 0x00),
	F_OK("s32_min", AX_DTYPE_S32, -2147483648.0, 0, 4, 0x00, 0x00, 0x00, 0x80),
	F_OK("s32_max", AX_DTYPE_S32, 2147483647.0, 0, 4, 0xff, 0xff, 0xff, 0x7f),
	F_BAD("s32_over", AX_DTYPE_S32, 2147483648.0, 0, AX_ERANGE),
	F_BAD("s32_under", AX_DTYPE_S32, -2147483649.0, 0, AX_ERANGE),
	F_BAD("s32_fraction", AX_DTYPE_S32, 7.5, 0, AX_ERANGE),
	F_BAD("s32_nan", AX_DTYPE_S32, NAN, ALLOW, AX_ERANGE),
	F_BAD("s32_inf", AX_DTYPE_S32, INFINITY, ALLOW, AX_ERANGE),
	F_OK("u8_max", AX_DTYPE_U8, 255.0, 0, 1, 0xff),
	F_BAD("u8_over", AX_DTYPE_U8, 256.0, 0, AX_ERANGE),
	F_BAD("u8_negative", AX_DTYPE_U8, -1.0, 0, AX_ERANGE),
	F_OK("u8_neg_zero", AX_DTYPE_U8, -0.0, 0, 1, 0x00),
	F_OK("u64_above_int64", AX_DTYPE_U64, 1e19, 0, 8,
	     0x00, 0x00, 0xe8, 0x89, 0x04, 0x23, 0xc7, 0x8a),
	F_OK("u64_largest_double", AX_DTYPE_U64, 18446744073709549568.0, 0, 8,
	     0x00, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
	F_BAD("u64_2_64", AX_DTYPE_U64, 18446744073709551616.0, 0, AX_ERANGE),
	F_OK("s64_min", AX_DTYPE_S64, -9223372036854775808.0, 0, 8,
	     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80),
	F_BAD("s64_2_63", AX_DTYPE_S64, 9223372036854775808.0, 0, AX_ERANGE),
	F_OK("bool_1", AX_DTYPE_BOOL, 1.0, 0, 1, 0x01),
	F_BAD("bool_2", AX_DTYPE_BOOL, 2.0, 0, AX_ERANGE),
	F_BAD("bool_half", AX_DTYPE_BOOL, 0.5, 0, AX_ERANGE),
	F_BAD("str", AX_DTYPE_STR, 1.0, 0, AX_ETYPE),
	F_BAD("bytes", AX_DTYPE_BYTES, 1.0, 0, AX_ETYPE),
	F_BAD("dtype_0", AX_DTYPE_INVALID, 1.0, 0, AX_EINVAL),
	F_BAD("bad_flag", AX_DTYPE_FLOAT, 1.0, 0x2, AX_EINVAL),
};
#undef ALLOW
/* clang-format on */

/* A number to a register's bytes: one rule, the same as text. */
static void test_value__from_f64_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(f64_cases) / sizeof(f64_cases[0]); i++) {
		const struct f64_case *c = &f64_cases[i];
		uint8_t buf[16];
		size_t len = 999;
		int err;

		memset(buf, 0xEE, sizeof(buf));
		err = ax_value_from_f64(c->dtype, c->value, c->flags, buf, sizeof(buf), &len);
		if (err != c->want)
			fail_msg("%s: %g gave %d (%s), want %d", c->name, c->value, err,
			         ax_error_last(), c->want);
		if (err < 0) {
			if (len != 999 || buf[0] != 0xEE)
				fail_msg("%s: output written on failure", c->name);
			continue;
		}
		if (len != c->len || memcmp(buf, c->bytes, c->len) != 0 || buf[len] != 0xEE)
			fail_msg("%s: %zu bytes %02x %02x %02x %02x ..., want %zu", c->name, len,
			         buf[0], buf[1], buf[2], buf[3], c->len);
	}
}

/* The messages name the value and what would become of it. */
static void test_value__from_f64_messages(void **state)
{
	uint8_t buf[8];
	size_t len;

	(void)state;
	assert_int_equal(ax_value_from_f64(AX_DTYPE_FLOAT, 1e-50, 0, buf, sizeof(buf), &len),
	                 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "1e-50"));
	assert_non_null(strstr(ax_error_last(), "would be stored as 0"));
	assert_int_equal(ax_value_from_f64(AX_DTYPE_FLOAT, 1e39, 0, buf, sizeof(buf), &len),
	                 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "1e+39"));
	assert_non_null(strstr(ax_error_last(), "3.40282347e+38"));
	assert_int_equal(ax_value_from_f64(AX_DTYPE_FLOAT, NAN, 0, buf, sizeof(buf), &len),
	                 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "nan"));
	assert_non_null(strstr(ax_error_last(), "AX_VALUE_ALLOW_NONFINITE"));
	assert_int_equal(ax_value_from_f64(AX_DTYPE_S32, 7.5, 0, buf, sizeof(buf), &len),
	                 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "7.5 is not an integer"));
	assert_int_equal(ax_value_from_f64(AX_DTYPE_U8, 300, 0, buf, sizeof(buf), &len), AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "300 does not fit u8 (0..255)"));
	assert_int_equal(ax_value_from_f64(AX_DTYPE_FLOAT, 1.0, 0, buf, 3, &len), AX_ETOOBIG);
}

struct cap_case {
	const char *name;
	int dtype;
	const char *text;
	size_t cap; /* the smallest that works; one less must fail */
};

/* clang-format off */
static const struct cap_case cap_cases[] = {
	{ "u8", AX_DTYPE_U8, "1", 1 },         { "u16", AX_DTYPE_U16, "1", 2 },
	{ "s32", AX_DTYPE_S32, "-1", 4 },      { "u64", AX_DTYPE_U64, "1", 8 },
	{ "float", AX_DTYPE_FLOAT, "1.5", 4 }, { "bool", AX_DTYPE_BOOL, "true", 1 },
	{ "str", AX_DTYPE_STR, "hello", 6 },   { "bytes", AX_DTYPE_BYTES, "010203", 3 },
};
/* clang-format on */

static void test_value__buffer_too_small(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cap_cases) / sizeof(cap_cases[0]); i++) {
		const struct cap_case *c = &cap_cases[i];
		uint8_t buf[16];
		size_t len = 999;
		int err;

		memset(buf, 0xEE, sizeof(buf));
		err = ax_value_parse(c->dtype, c->text, buf, c->cap - 1, &len);
		if (err != AX_ETOOBIG)
			fail_msg("%s: cap %zu gave %d, want AX_ETOOBIG", c->name, c->cap - 1, err);
		if (len != 999 || buf[0] != 0xEE)
			fail_msg("%s: output written on failure", c->name);
		err = ax_value_parse(c->dtype, c->text, buf, c->cap, &len);
		if (err != 0 || len != c->cap)
			fail_msg("%s: cap %zu gave %d, len %zu (%s)", c->name, c->cap, err, len,
			         ax_error_last());
	}
	/* A NULL buffer of capacity 0 is a valid "too small", not a crash. */
	{
		size_t len = 0;

		assert_int_equal(ax_value_parse(AX_DTYPE_U8, "1", NULL, 0, &len), AX_ETOOBIG);
	}
}

static void test_value__length_limits(void **state)
{
	static char text[2 * AX_VALUE_MAX + 3];
	static uint8_t buf[AX_VALUE_MAX + 8];
	size_t len = 0;

	(void)state;
	/* bytes: 512 fit, 513 do not */
	memset(text, 'a', 2 * AX_VALUE_MAX);
	text[2 * AX_VALUE_MAX] = '\0';
	assert_int_equal(ax_value_parse(AX_DTYPE_BYTES, text, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, AX_VALUE_MAX);
	assert_int_equal(buf[AX_VALUE_MAX - 1], 0xaa);
	memset(text, 'a', 2 * AX_VALUE_MAX + 2);
	text[2 * AX_VALUE_MAX + 2] = '\0';
	assert_int_equal(ax_value_parse(AX_DTYPE_BYTES, text, buf, sizeof(buf), &len), AX_ETOOBIG);

	/* str: 511 characters and the NUL fit, 512 do not */
	memset(text, 'x', AX_VALUE_MAX - 1);
	text[AX_VALUE_MAX - 1] = '\0';
	assert_int_equal(ax_value_parse(AX_DTYPE_STR, text, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, AX_VALUE_MAX);
	assert_int_equal(buf[AX_VALUE_MAX - 1], 0);
	memset(text, 'x', AX_VALUE_MAX);
	text[AX_VALUE_MAX] = '\0';
	assert_int_equal(ax_value_parse(AX_DTYPE_STR, text, buf, sizeof(buf), &len), AX_ETOOBIG);
}

struct format_case {
	const char *name;
	int dtype;
	size_t len;
	uint8_t bytes[8];
	const char *want;
};

/* clang-format off */
static const struct format_case format_cases[] = {
	{ "u8", AX_DTYPE_U8, 1, { 0xff }, "255" },
	{ "s8_min", AX_DTYPE_S8, 1, { 0x80 }, "-128" },
	{ "s8_max", AX_DTYPE_S8, 1, { 0x7f }, "127" },
	{ "u16", AX_DTYPE_U16, 2, { 0x34, 0x12 }, "4660" },
	{ "u16_from_8_bytes", AX_DTYPE_U16, 8, { 0x21, 0x00, 0xee, 0xee }, "33" },
	{ "s16_min", AX_DTYPE_S16, 2, { 0x00, 0x80 }, "-32768" },
	{ "u32_max", AX_DTYPE_U32, 4, { 0xff, 0xff, 0xff, 0xff }, "4294967295" },
	{ "s32_minus_one", AX_DTYPE_S32, 4, { 0xff, 0xff, 0xff, 0xff }, "-1" },
	{ "u64_max",
	  AX_DTYPE_U64,
	  8,
	  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	  "18446744073709551615" },
	{ "s64_min", AX_DTYPE_S64, 8, { 0, 0, 0, 0, 0, 0, 0, 0x80 }, "-9223372036854775808" },
	{ "float_20", AX_DTYPE_FLOAT, 4, { 0x00, 0x00, 0xa0, 0x41 }, "20" },
	{ "float_0_1", AX_DTYPE_FLOAT, 4, { 0xcd, 0xcc, 0xcc, 0x3d }, "0.1" },
	{ "float_third", AX_DTYPE_FLOAT, 4, { 0xab, 0xaa, 0xaa, 0x3e }, "0.33333334" },
	{ "float_neg", AX_DTYPE_FLOAT, 4, { 0x00, 0x00, 0xc0, 0xbf }, "-1.5" },
	{ "float_max", AX_DTYPE_FLOAT, 4, { 0xff, 0xff, 0x7f, 0x7f }, "3.4028235e+38" },
	{ "float_2_24", AX_DTYPE_FLOAT, 4, { 0x00, 0x00, 0x80, 0x4b }, "16777216" },
	{ "float_min_denormal", AX_DTYPE_FLOAT, 4, { 0x01, 0x00, 0x00, 0x00 }, "1.4013e-45" },
	{ "float_nan", AX_DTYPE_FLOAT, 4, { 0x00, 0x00, 0xc0, 0x7f }, "nan" },
	{ "float_neg_inf", AX_DTYPE_FLOAT, 4, { 0x00, 0x00, 0x80, 0xff }, "-inf" },
	{ "bool_true", AX_DTYPE_BOOL, 1, { 1 }, "true" },
	{ "bool_false", AX_DTYPE_BOOL, 1, { 0 }, "false" },
	{ "str_nul", AX_DTYPE_STR, 6, { 'a', 'b', 'c', 0, 'z', 'z' }, "abc" },
	{ "str_no_nul", AX_DTYPE_STR, 3, { 'a', 'b', 'c' }, "abc" },
	{ "str_empty", AX_DTYPE_STR, 0, { 0 }, "" },
	{ "bytes", AX_DTYPE_BYTES, 3, { 0x00, 0xff, 0x10 }, "00ff10" },
	{ "bytes_empty", AX_DTYPE_BYTES, 0, { 0 }, "" },
};
/* clang-format on */

static void test_value__format_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
		const struct format_case *c = &format_cases[i];
		char *s = NULL;
		int err = ax_value_format(c->dtype, c->bytes, c->len, &s);

		char got[64];

		if (err != 0)
			fail_msg("%s: error %d (%s)", c->name, err, ax_error_last());
		(void)snprintf(got, sizeof(got), "%s", s);
		ax_free(s); /* before a failure can jump away */
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: formatted '%s', want '%s'", c->name, got, c->want);
	}
}

static void test_value__format_refuses(void **state)
{
	static const uint8_t bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	char *sentinel = (char *)(uintptr_t)0x1;
	char *s = sentinel;

	(void)state;
	assert_int_equal(ax_value_format(AX_DTYPE_U32, bytes, 3, &s), AX_ETYPE);
	assert_ptr_equal(s, sentinel);
	assert_non_null(strstr(ax_error_last(), "u32 value needs 4 bytes, got 3"));
	assert_int_equal(ax_value_format(AX_DTYPE_S64, bytes, 7, &s), AX_ETYPE);
	assert_int_equal(ax_value_format(AX_DTYPE_BOOL, bytes, 0, &s), AX_ETYPE);
	assert_int_equal(ax_value_format(AX_DTYPE_INVALID, bytes, 8, &s), AX_EINVAL);
	assert_int_equal(ax_value_format(99, bytes, 8, &s), AX_EINVAL);
	assert_ptr_equal(s, sentinel);
}

/* Every finite float survives format -> parse bit for bit. */
static void test_value__float_round_trip(void **state)
{
	uint32_t x = 0x12345678u;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint8_t in[4], back[4];
		float f;
		char *s = NULL;
		size_t len = 0;

		x = x * 1664525u + 1013904223u; /* LCG: cheap spread over all bit patterns */
		in[0] = (uint8_t)x;
		in[1] = (uint8_t)(x >> 8);
		in[2] = (uint8_t)(x >> 16);
		in[3] = (uint8_t)(x >> 24);
		memcpy(&f, &x, sizeof(f));
		if (!isfinite(f))
			continue;
		assert_int_equal(ax_value_format(AX_DTYPE_FLOAT, in, 4, &s), 0);
		if (ax_value_parse(AX_DTYPE_FLOAT, s, back, sizeof(back), &len) != 0 ||
		    memcmp(in, back, 4) != 0)
			fail_msg("0x%08x formatted as '%s' does not read back (%s)", x, s,
			         ax_error_last());
		/* No more digits than a float can hold. */
		if (strlen(s) > 15)
			fail_msg("0x%08x formatted as '%s': too long", x, s);
		ax_free(s);
	}
}

/* Integers survive parse -> format, limits included. */
static void test_value__int_round_trip(void **state)
{
	static const struct {
		int dtype;
		const char *text;
	} rows[] = {
	        {AX_DTYPE_U8, "0"},
	        {AX_DTYPE_U8, "255"},
	        {AX_DTYPE_S8, "-128"},
	        {AX_DTYPE_S16, "-1234"},
	        {AX_DTYPE_U16, "65535"},
	        {AX_DTYPE_S32, "-2147483648"},
	        {AX_DTYPE_U32, "4294967295"},
	        {AX_DTYPE_S64, "-9223372036854775808"},
	        {AX_DTYPE_S64, "9223372036854775807"},
	        {AX_DTYPE_U64, "18446744073709551615"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t buf[8];
		size_t len = 0;
		char *s = NULL;

		assert_int_equal(
		        ax_value_parse(rows[i].dtype, rows[i].text, buf, sizeof(buf), &len), 0);
		assert_int_equal(ax_value_format(rows[i].dtype, buf, len, &s), 0);
		if (strcmp(s, rows[i].text) != 0)
			fail_msg("%s '%s' came back as '%s'", ax_dtype_name(rows[i].dtype),
			         rows[i].text, s);
		ax_free(s);
	}
}

static void test_value__dtype_names(void **state)
{
	static const struct {
		const char *name;
		int dtype;
		size_t size;
	} rows[] = {
	        {"u8", AX_DTYPE_U8, 1},   {"s8", AX_DTYPE_S8, 1},     {"u16", AX_DTYPE_U16, 2},
	        {"s16", AX_DTYPE_S16, 2}, {"u32", AX_DTYPE_U32, 4},   {"s32", AX_DTYPE_S32, 4},
	        {"u64", AX_DTYPE_U64, 8}, {"s64", AX_DTYPE_S64, 8},   {"float", AX_DTYPE_FLOAT, 4},
	        {"str", AX_DTYPE_STR, 0}, {"bool", AX_DTYPE_BOOL, 1}, {"bytes", AX_DTYPE_BYTES, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *name = ax_dtype_name(rows[i].dtype);

		if (!name || strcmp(name, rows[i].name) != 0)
			fail_msg("dtype %d: name '%s', want '%s'", rows[i].dtype,
			         name ? name : "(null)", rows[i].name);
		if (ax_dtype_parse(rows[i].name) != rows[i].dtype)
			fail_msg("'%s' parsed as %d, want %d", rows[i].name,
			         ax_dtype_parse(rows[i].name), rows[i].dtype);
		if (ax_dtype_size(rows[i].dtype) != rows[i].size)
			fail_msg("'%s': size %zu, want %zu", rows[i].name,
			         ax_dtype_size(rows[i].dtype), rows[i].size);
	}
	assert_int_equal(ax_dtype_parse("U32"), AX_DTYPE_U32);
	assert_int_equal(ax_dtype_parse("Float"), AX_DTYPE_FLOAT);
	assert_int_equal(ax_dtype_parse("f32"), AX_DTYPE_FLOAT);
	assert_int_equal(ax_dtype_parse("F32"), AX_DTYPE_FLOAT);
	assert_int_equal(ax_dtype_parse("byteArray512"), AX_DTYPE_BYTES);
	assert_int_equal(ax_dtype_parse("BYTEARRAY512"), AX_DTYPE_BYTES);

	assert_int_equal(ax_dtype_parse("u128"), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "unknown data type 'u128'"));
	assert_non_null(strstr(ax_error_last(), "u8, s8"));
	assert_int_equal(ax_dtype_parse(""), AX_EINVAL);
	assert_int_equal(ax_dtype_parse("u"), AX_EINVAL);
	assert_int_equal(ax_dtype_parse("u88"), AX_EINVAL);
	assert_int_equal(ax_dtype_parse(NULL), AX_EINVAL);

	assert_null(ax_dtype_name(AX_DTYPE_INVALID));
	assert_null(ax_dtype_name(13));
	assert_null(ax_dtype_name(-1));
	assert_int_equal(ax_dtype_size(AX_DTYPE_INVALID), 0);
	assert_int_equal(ax_dtype_size(13), 0);
}

/* Float text is always C-locale, whatever LC_NUMERIC the application chose. */
static void test_value__float_ignores_locale(void **state)
{
	static const char *const comma_locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
	                                            "nl_NL.UTF-8"};
	const char *set = NULL;
	uint8_t buf[4];
	size_t len = 0;
	char *s = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(comma_locales) / sizeof(comma_locales[0]) && !set; i++)
		set = setlocale(LC_NUMERIC, comma_locales[i]);
	if (!set)
		fail_msg("no comma-decimal locale installed (.ci/deps.sh generates de_DE.UTF-8)");
	assert_int_equal(ax_value_parse(AX_DTYPE_FLOAT, "0.5", buf, sizeof(buf), &len), 0);
	assert_int_equal(ax_value_format(AX_DTYPE_FLOAT, buf, len, &s), 0);
	(void)setlocale(LC_NUMERIC, "C");
	assert_string_equal(s, "0.5");
	ax_free(s);
}

/* The register-level codec both ways: what a type holds, and what it refuses. */
static void test_value__number_codec(void **state)
{
	static const struct {
		const char *name;
		int dtype;
		int64_t value;
		int want;
		size_t len;
		const char *bytes;
	} from_rows[] = {
	        {"u8_max", AX_DTYPE_U8, 255, 0, 1, "\xff"},
	        {"u8_over", AX_DTYPE_U8, 256, AX_ERANGE, 0, ""},
	        {"u8_negative", AX_DTYPE_U8, -1, AX_ERANGE, 0, ""},
	        {"s16_min", AX_DTYPE_S16, -32768, 0, 2, "\x00\x80"},
	        {"s16_under", AX_DTYPE_S16, -32769, AX_ERANGE, 0, ""},
	        {"u32_max", AX_DTYPE_U32, 4294967295LL, 0, 4, "\xff\xff\xff\xff"},
	        {"s32_over", AX_DTYPE_S32, 2147483648LL, AX_ERANGE, 0, ""},
	        {"bool_one", AX_DTYPE_BOOL, 1, 0, 1, "\x01"},
	        {"bool_two", AX_DTYPE_BOOL, 2, AX_ERANGE, 0, ""},
	        {"u64_negative", AX_DTYPE_U64, -1, AX_ERANGE, 0, ""},
	        {"float_exact", AX_DTYPE_FLOAT, 16777216, 0, 4, "\x00\x00\x80\x4b"},
	        {"float_inexact", AX_DTYPE_FLOAT, 16777217, AX_ERANGE, 0, ""},
	        {"str", AX_DTYPE_STR, 1, AX_ETYPE, 0, ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(from_rows) / sizeof(from_rows[0]); i++) {
		uint8_t buf[8] = {0};
		size_t len = 99;
		int err = ax_value_from_i64(from_rows[i].dtype, from_rows[i].value, buf,
		                            sizeof(buf), &len);

		if (err != from_rows[i].want)
			fail_msg("%s: got %d, want %d (%s)", from_rows[i].name, err,
			         from_rows[i].want, ax_error_last());
		if (err == 0 &&
		    (len != from_rows[i].len || memcmp(buf, from_rows[i].bytes, len) != 0))
			fail_msg("%s: wrong bytes (%zu)", from_rows[i].name, len);
		if (err < 0 && len != 99)
			fail_msg("%s: len_out written on failure", from_rows[i].name);
	}

	{
		static const uint8_t s8[] = {0xfe}, u64big[] = {0, 0, 0, 0, 0, 0, 0, 0x80};
		static const uint8_t f_half[] = {0x00, 0x00, 0xc0, 0x3f}; /* 1.5f */
		static const uint8_t f_nan[] = {0x00, 0x00, 0xc0, 0x7f};
		double d = 0;
		int64_t v = 0;

		assert_int_equal(ax_value_to_f64(AX_DTYPE_S8, s8, 1, &d), 0);
		assert_true(d == -2.0);
		assert_int_equal(ax_value_to_i64(AX_DTYPE_S8, s8, 1, &v), 0);
		assert_int_equal(v, -2);
		assert_int_equal(ax_value_to_f64(AX_DTYPE_U64, u64big, 8, &d), 0);
		assert_true(d == ldexp(1.0, 63));
		v = 7;
		assert_int_equal(ax_value_to_i64(AX_DTYPE_U64, u64big, 8, &v), AX_ERANGE);
		assert_int_equal(v, 7);
		assert_int_equal(ax_value_to_f64(AX_DTYPE_FLOAT, f_half, 4, &d), 0);
		assert_true(d == 1.5);
		assert_int_equal(ax_value_to_i64(AX_DTYPE_FLOAT, f_half, 4, &v), 0);
		assert_int_equal(v, 2);
		assert_int_equal(ax_value_to_f64(AX_DTYPE_FLOAT, f_nan, 4, &d), 0);
		assert_true(isnan(d));
		assert_int_equal(ax_value_to_i64(AX_DTYPE_FLOAT, f_nan, 4, &v), AX_ERANGE);
		assert_int_equal(ax_value_to_f64(AX_DTYPE_U32, s8, 1, &d), AX_ETYPE);
		assert_int_equal(ax_value_to_f64(AX_DTYPE_STR, "1", 1, &d), AX_ETYPE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_value__parse_table),
	        cmocka_unit_test(test_value__number_codec),
	        cmocka_unit_test(test_value__messages),
	        cmocka_unit_test(test_value__nonfinite_only_on_request),
	        cmocka_unit_test(test_value__from_f64_table),
	        cmocka_unit_test(test_value__from_f64_messages),
	        cmocka_unit_test(test_value__buffer_too_small),
	        cmocka_unit_test(test_value__length_limits),
	        cmocka_unit_test(test_value__format_table),
	        cmocka_unit_test(test_value__format_refuses),
	        cmocka_unit_test(test_value__float_round_trip),
	        cmocka_unit_test(test_value__int_round_trip),
	        cmocka_unit_test(test_value__dtype_names),
	        cmocka_unit_test(test_value__float_ignores_locale),
	};

	return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}
