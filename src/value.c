/* SPDX-License-Identifier: MIT */
/*
 * Register data types and their text form. Values are little-endian on the
 * wire whatever the host, so bytes are assembled by shifting, never by
 * copying a host integer.
 *
 * Float text always uses the C locale's '.', even when the application has
 * set another LC_NUMERIC (Python GUIs often do): the conversions switch this
 * thread to the C locale for their duration with uselocale().
 */
#define _POSIX_C_SOURCE 200809L

#define AX__ERROR_CLASS AX_ERRCLASS_ARGUMENT /* errors set here; see src/error.h */

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "value.h"
#include "util.h"

/* How much of the caller's text an error message quotes. */
#define VALUE_QUOTE_MAX 64

/* Every AX_VALUE_* flag this library knows. */
#define VALUE_FLAGS_KNOWN AX_VALUE_ALLOW_NONFINITE

/*
 * The smallest double that binary32 rounds to infinity: FLT_MAX plus half an
 * ulp (ties go to even, and FLT_MAX's significand is odd). Below it a double
 * rounds to a finite float; at or above it nothing finite is left.
 */
#define VALUE_FLOAT_ROUNDS_TO_INF 0x1.ffffffp+127

struct value_type {
	const char *name;
	int dtype;
	size_t size;
};

/* Indexed by ax_dtype; the names are the dictionaries' own. */
/* clang-format off */
static const struct value_type value_types[] = {
	{ NULL, AX_DTYPE_INVALID, 0 },
	{ "u8", AX_DTYPE_U8, 1 },
	{ "s8", AX_DTYPE_S8, 1 },
	{ "u16", AX_DTYPE_U16, 2 },
	{ "s16", AX_DTYPE_S16, 2 },
	{ "u32", AX_DTYPE_U32, 4 },
	{ "s32", AX_DTYPE_S32, 4 },
	{ "u64", AX_DTYPE_U64, 8 },
	{ "s64", AX_DTYPE_S64, 8 },
	{ "float", AX_DTYPE_FLOAT, 4 },
	{ "str", AX_DTYPE_STR, 0 },
	{ "bool", AX_DTYPE_BOOL, 1 },
	{ "bytes", AX_DTYPE_BYTES, 0 },
};
/* clang-format on */

/* Extra spellings accepted by ax_dtype_parse(). */
/* clang-format off */
static const struct value_type value_aliases[] = {
	{ "byteArray512", AX_DTYPE_BYTES, 0 },
	{ "f32", AX_DTYPE_FLOAT, 4 },
};
/* clang-format on */

static const struct value_type *value_type_get(int dtype)
{
	if (dtype <= AX_DTYPE_INVALID || (size_t)dtype >= AX__ARRAY_SIZE(value_types))
		return NULL;
	return &value_types[dtype];
}

/* ASCII-only case folding: the result must not depend on the locale. */
static char value_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int value_eq_nocase(const char *a, const char *b)
{
	while (*a && value_lower(*a) == value_lower(*b)) {
		a++;
		b++;
	}
	return value_lower(*a) == value_lower(*b);
}

static locale_t value_c_locale;
static pthread_once_t value_c_locale_once = PTHREAD_ONCE_INIT;

static void value_c_locale_init(void)
{
	/* Lives for the process; on failure we fall back to the current locale. */
	value_c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* Switch this thread to the C numeric locale; returns what to restore. */
static locale_t value_locale_enter(void)
{
	(void)pthread_once(&value_c_locale_once, value_c_locale_init);
	if (value_c_locale == (locale_t)0)
		return (locale_t)0;
	return uselocale(value_c_locale);
}

static void value_locale_leave(locale_t old)
{
	if (old != (locale_t)0)
		(void)uselocale(old);
}

const char *ax_dtype_name(int dtype)
{
	const struct value_type *t = value_type_get(dtype);

	return t ? t->name : NULL;
}

int ax_dtype_parse(const char *name)
{
	AX_ASSERT_ARG(name);
	for (size_t i = 1; i < AX__ARRAY_SIZE(value_types); i++)
		if (value_eq_nocase(name, value_types[i].name))
			return value_types[i].dtype;
	for (size_t i = 0; i < AX__ARRAY_SIZE(value_aliases); i++)
		if (value_eq_nocase(name, value_aliases[i].name))
			return value_aliases[i].dtype;
	return ax__error_set(
	        AX_EINVAL,
	        "unknown data type '%.*s' (valid: u8, s8, u16, s16, u32, s32, u64, s64, "
	        "float, str, bool, bytes; also byteArray512, f32)",
	        VALUE_QUOTE_MAX, name);
}

size_t ax_dtype_size(int dtype)
{
	const struct value_type *t = value_type_get(dtype);

	return t ? t->size : 0;
}

static int value_is_signed(int dtype)
{
	return dtype == AX_DTYPE_S8 || dtype == AX_DTYPE_S16 || dtype == AX_DTYPE_S32 ||
	       dtype == AX_DTYPE_S64;
}

/*
 * Integer text: optional '-', then decimal or 0x hex. Hex is a value, not a
 * bit pattern: "0xFF" is 255, out of range for s8 (write "-0x1" or "-1").
 */
static int value_parse_int(const struct value_type *t, const char *text, uint64_t *bits_out)
{
	const char *p = text;
	int is_signed = value_is_signed(t->dtype);
	unsigned bits = (unsigned)(t->size * 8);
	/* Unsigned: largest value. Signed: magnitude of the minimum, 2^(bits-1). */
	uint64_t limit = is_signed    ? UINT64_C(1) << (bits - 1)
	                 : bits == 64 ? UINT64_MAX
	                              : (UINT64_C(1) << bits) - 1;
	uint64_t mag;
	int neg = 0, base = 10;
	char *end;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	/* strtoull would skip blanks and accept a second sign; refuse both. */
	if (base == 16 ? ax__hex_digit(*p) < 0 : !(*p >= '0' && *p <= '9'))
		return ax__error_set(AX_EINVAL, "'%.*s' is not a valid %s (decimal or 0x hex%s)",
		                     VALUE_QUOTE_MAX, text, t->name,
		                     is_signed ? ", optional '-'" : "");
	errno = 0;
	mag = strtoull(p, &end, base);
	if (*end != '\0')
		return ax__error_set(AX_EINVAL,
		                     "'%.*s' is not a valid %s: unexpected '%c' at offset %zu",
		                     VALUE_QUOTE_MAX, text, t->name, *end, (size_t)(end - text));

	if (is_signed && errno != ERANGE && (neg ? mag <= limit : mag < limit)) {
		/* Two's complement without signed overflow: 0 - mag in unsigned arithmetic. */
		*bits_out = neg ? (uint64_t)0 - mag : mag;
		return 0;
	}
	if (!is_signed && errno != ERANGE && (!neg || mag == 0) && mag <= limit) {
		*bits_out = mag;
		return 0;
	}
	if (is_signed)
		return ax__error_set(AX_ERANGE, "%.*s is out of range for %s (%lld..%lld)",
		                     VALUE_QUOTE_MAX, text, t->name, -(long long)(limit - 1) - 1,
		                     (long long)(limit - 1));
	return ax__error_set(AX_ERANGE, "%.*s is out of range for %s (0..%llu)", VALUE_QUOTE_MAX,
	                     text, t->name, (unsigned long long)limit);
}

static int value_check_flags(unsigned int flags)
{
	if (flags & ~VALUE_FLAGS_KNOWN)
		return ax__error_set(AX_EINVAL, "unknown value flags 0x%x (known: 0x%x)",
		                     flags & ~VALUE_FLAGS_KNOWN, VALUE_FLAGS_KNOWN);
	return 0;
}

/*
 * The one rule for a value bound for a float register; text, doubles and
 * bytes all come here. @f is what binary32 holds of the caller's value, and
 * @asked_finite / @asked_nonzero say what the caller asked for; @shown
 * names the value in the message.
 *  - NaN or infinity asked for: only with AX_VALUE_ALLOW_NONFINITE. A drive
 *    takes them as a set point or limit without complaint, and then runs
 *    on it; nobody means that by accident.
 *  - A finite value that became infinite is beyond float: refused, flag or not.
 *  - A nonzero value that became 0 lost all of itself: refused. A subnormal
 *    result keeps part of the value and is written.
 */
static int value_float_rule(float f, int asked_finite, int asked_nonzero, unsigned int flags,
                            const char *shown)
{
	if (!asked_finite) {
		if (flags & AX_VALUE_ALLOW_NONFINITE)
			return 0;
		return ax__error_set(AX_ERANGE,
		                     "%s is not finite: NaN and infinity go to a float register "
		                     "only on explicit request (AX_VALUE_ALLOW_NONFINITE)",
		                     shown);
	}
	if (isinf(f))
		return ax__error_set(AX_ERANGE,
		                     "%s is beyond a 32-bit float (magnitude up to "
		                     "3.40282347e+38)",
		                     shown);
	if (f == 0.0f && asked_nonzero)
		return ax__error_set(AX_ERANGE,
		                     "%s is below the smallest 32-bit float (1.4e-45) and would be "
		                     "stored as 0",
		                     shown);
	return 0;
}

static uint64_t value_float_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static int value_parse_float(const char *text, unsigned int flags, uint64_t *bits_out)
{
	char shown[VALUE_QUOTE_MAX + 16];
	int range_err, err;
	locale_t old;
	float f;
	char *end;

	/* strtof would skip leading blanks (a typo here); the NUL match refuses "". */
	if (strchr(" \t\n\v\f\r", *text))
		goto not_a_number;
	old = value_locale_enter();
	errno = 0;
	f = strtof(text, &end);
	range_err = errno == ERANGE;
	value_locale_leave(old);
	if (end == text || *end != '\0')
		goto not_a_number;
	/*
	 * ERANGE tells overflow (inf) and underflow (0 or a subnormal) from the
	 * text "inf" and "0": what was asked for, not only what came out.
	 */
	(void)snprintf(shown, sizeof(shown), "float '%.*s'", VALUE_QUOTE_MAX, text);
	err = value_float_rule(f, !(isnan(f) || (isinf(f) && !range_err)), f != 0.0f || range_err,
	                       flags, shown);
	if (err < 0)
		return err;
	*bits_out = value_float_bits(f);
	return 0;

not_a_number:
	return ax__error_set(AX_EINVAL, "'%.*s' is not a valid float (e.g. 20, -1.5, 2.5e-3)",
	                     VALUE_QUOTE_MAX, text);
}

static int value_parse_bool(const char *text, uint64_t *bits_out)
{
	if (strcmp(text, "1") == 0 || value_eq_nocase(text, "true")) {
		*bits_out = 1;
		return 0;
	}
	if (strcmp(text, "0") == 0 || value_eq_nocase(text, "false")) {
		*bits_out = 0;
		return 0;
	}
	return ax__error_set(AX_EINVAL, "'%.*s' is not a valid bool (0, 1, true, false)",
	                     VALUE_QUOTE_MAX, text);
}

static int value_parse_bytes(const char *text, void *buf, size_t cap, size_t *len_out)
{
	size_t digits = strlen(text);
	size_t n = digits / 2;
	uint8_t *out = buf;

	for (size_t i = 0; i < digits; i++)
		if (ax__hex_digit(text[i]) < 0)
			return ax__error_set(AX_EINVAL,
			                     "bytes value: '%c' at offset %zu is not a hex digit",
			                     text[i], i);
	if (digits % 2)
		return ax__error_set(AX_EINVAL,
		                     "bytes value has an odd number of hex digits (%zu); each byte "
		                     "needs two",
		                     digits);
	if (n > AX_VALUE_MAX)
		return ax__error_set(AX_ETOOBIG,
		                     "bytes value of %zu bytes is over the %d-byte limit", n,
		                     AX_VALUE_MAX);
	if (n > cap)
		return ax__error_set(AX_ETOOBIG,
		                     "bytes value of %zu bytes does not fit the %zu-byte buffer", n,
		                     cap);
	for (size_t i = 0; i < n; i++)
		out[i] =
		        (uint8_t)(ax__hex_digit(text[2 * i]) * 16 + ax__hex_digit(text[2 * i + 1]));
	*len_out = n;
	return 0;
}

/* A str value is the text and its NUL, so the drive side gets a C string. */
static int value_parse_str(const char *text, void *buf, size_t cap, size_t *len_out)
{
	size_t n = strlen(text) + 1;

	if (n > AX_VALUE_MAX)
		return ax__error_set(AX_ETOOBIG,
		                     "str value of %zu characters is over the %d-character limit",
		                     n - 1, AX_VALUE_MAX - 1);
	if (n > cap)
		return ax__error_set(AX_ETOOBIG,
		                     "str value needs %zu bytes with its NUL, buffer holds %zu", n,
		                     cap);
	memcpy(buf, text, n);
	*len_out = n;
	return 0;
}

int ax_value_parse(int dtype, const char *text, void *buf, size_t cap, size_t *len_out)
{
	return ax_value_parse_flags(dtype, text, 0, buf, cap, len_out);
}

int ax_value_parse_flags(int dtype, const char *text, unsigned int flags, void *buf, size_t cap,
                         size_t *len_out)
{
	const struct value_type *t = value_type_get(dtype);
	uint64_t bits = 0;
	int err;

	AX_ASSERT_ARG(text);
	AX_ASSERT_ARG(buf || cap == 0);
	AX_ASSERT_ARG(len_out);
	if (!t)
		return ax__error_set(AX_EINVAL, "unknown data type %d", dtype);
	err = value_check_flags(flags);
	if (err < 0)
		return err;

	switch (dtype) {
	case AX_DTYPE_STR:
		return value_parse_str(text, buf, cap, len_out);
	case AX_DTYPE_BYTES:
		return value_parse_bytes(text, buf, cap, len_out);
	case AX_DTYPE_FLOAT:
		err = value_parse_float(text, flags, &bits);
		break;
	case AX_DTYPE_BOOL:
		err = value_parse_bool(text, &bits);
		break;
	default:
		err = value_parse_int(t, text, &bits);
		break;
	}
	if (err < 0)
		return err;
	if (cap < t->size)
		return ax__error_set(AX_ETOOBIG, "%s value needs %zu bytes, buffer holds %zu",
		                     t->name, t->size, cap);
	ax__le_put(buf, bits, t->size);
	*len_out = t->size;
	return 0;
}

/*
 * @v for a message, in the C locale: whole numbers in full up to 1e17
 * (300, not 3e+02), anything else in the shortest "%g" that reads back.
 */
static void value_show_double(char *text, size_t cap, double v)
{
	locale_t old = value_locale_enter();

	if (isfinite(v) && v == floor(v) && fabs(v) < 1e17) {
		(void)snprintf(text, cap, "%.0f", v);
		value_locale_leave(old);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		(void)snprintf(text, cap, "%.*g", prec, v);
		if (!isfinite(v) || strtod(text, NULL) == v)
			break;
	}
	value_locale_leave(old);
}

static int value_float_from_f64(double v, unsigned int flags, const char *shown, uint64_t *bits_out)
{
	float f;
	int err;

	/* Not converted beyond the float range: C leaves that undefined without Annex F. */
	if (isnan(v) || fabs(v) < VALUE_FLOAT_ROUNDS_TO_INF)
		f = (float)v;
	else
		f = v < 0 ? -INFINITY : INFINITY;
	err = value_float_rule(f, isfinite(v), v != 0.0, flags, shown);
	if (err < 0)
		return err;
	*bits_out = value_float_bits(f);
	return 0;
}

/* An integral double that the integer type holds exactly, or a refusal. */
static int value_int_from_f64(const struct value_type *t, double v, const char *shown,
                              uint64_t *bits_out)
{
	int bits = (int)(t->size * 8);

	if (!isfinite(v) || v != floor(v))
		return ax__error_set(AX_ERANGE, "%s is not an integer, and a %s takes one", shown,
		                     t->name);
	if (t->dtype == AX_DTYPE_BOOL) {
		if (v != 0.0 && v != 1.0)
			return ax__error_set(AX_ERANGE, "%s is not a bool (0 or 1)", shown);
		*bits_out = v != 0.0;
		return 0;
	}
	/* The bounds are powers of two, exact as doubles: no rounding in the compare. */
	if (value_is_signed(t->dtype)) {
		double lim = ldexp(1.0, bits - 1);

		if (v < -lim || v >= lim)
			return ax__error_set(AX_ERANGE, "%s does not fit %s (%.0f..%.0f)", shown,
			                     t->name, -lim, lim - 1);
		*bits_out = (uint64_t)(int64_t)v;
		return 0;
	}
	if (v < 0.0 || v >= ldexp(1.0, bits))
		return ax__error_set(AX_ERANGE, "%s does not fit %s (0..%.0f)", shown, t->name,
		                     ldexp(1.0, bits) - 1);
	*bits_out = (uint64_t)v;
	return 0;
}

int ax_value_from_f64(int dtype, double value, unsigned int flags, void *buf, size_t cap,
                      size_t *len_out)
{
	const struct value_type *t = value_type_get(dtype);
	char shown[40];
	uint64_t bits = 0;
	int err;

	AX_ASSERT_ARG(buf || cap == 0);
	AX_ASSERT_ARG(len_out);
	if (!t)
		return ax__error_set(AX_EINVAL, "unknown data type %d", dtype);
	err = value_check_flags(flags);
	if (err < 0)
		return err;
	value_show_double(shown, sizeof(shown), value);
	if (dtype == AX_DTYPE_STR || dtype == AX_DTYPE_BYTES)
		return ax__error_set(AX_ETYPE, "a %s takes no number (%s)", t->name, shown);
	if (dtype == AX_DTYPE_FLOAT)
		err = value_float_from_f64(value, flags, shown, &bits);
	else
		err = value_int_from_f64(t, value, shown, &bits);
	if (err < 0)
		return err;
	if (cap < t->size)
		return ax__error_set(AX_ETOOBIG, "%s value needs %zu bytes, buffer holds %zu",
		                     t->name, t->size, cap);
	ax__le_put(buf, bits, t->size);
	*len_out = t->size;
	return 0;
}

int ax_value_from_i64(int dtype, int64_t value, void *buf, size_t cap, size_t *len_out)
{
	const struct value_type *t = value_type_get(dtype);
	int64_t lo = 0, hi = INT64_MAX;

	AX_ASSERT_ARG(buf || cap == 0);
	AX_ASSERT_ARG(len_out);
	if (!t)
		return ax__error_set(AX_EINVAL, "unknown data type %d", dtype);
	switch (dtype) {
	case AX_DTYPE_FLOAT:
		if ((int64_t)(double)(float)value != value || value == INT64_MAX)
			return ax__error_set(AX_ERANGE, "%lld is not exact as a float",
			                     (long long)value);
		return ax_value_from_f64(dtype, (double)value, 0, buf, cap, len_out);
	case AX_DTYPE_STR:
	case AX_DTYPE_BYTES:
		return ax__error_set(AX_ETYPE, "a %s takes no number (%lld)", t->name,
		                     (long long)value);
	case AX_DTYPE_BOOL:
		hi = 1;
		break;
	case AX_DTYPE_U8:
		hi = UINT8_MAX;
		break;
	case AX_DTYPE_S8:
		lo = INT8_MIN;
		hi = INT8_MAX;
		break;
	case AX_DTYPE_U16:
		hi = UINT16_MAX;
		break;
	case AX_DTYPE_S16:
		lo = INT16_MIN;
		hi = INT16_MAX;
		break;
	case AX_DTYPE_U32:
		hi = UINT32_MAX;
		break;
	case AX_DTYPE_S32:
		lo = INT32_MIN;
		hi = INT32_MAX;
		break;
	case AX_DTYPE_S64:
		lo = INT64_MIN;
		break;
	default:
		break; /* u64: 0..INT64_MAX is what an int64 can say */
	}
	if (value < lo || value > hi)
		return ax__error_set(AX_ERANGE, "%lld does not fit %s (%lld..%lld)",
		                     (long long)value, t->name, (long long)lo, (long long)hi);
	if (cap < t->size)
		return ax__error_set(AX_ETOOBIG, "%s value needs %zu bytes, buffer holds %zu",
		                     t->name, t->size, cap);
	ax__le_put(buf, (uint64_t)value, t->size);
	*len_out = t->size;
	return 0;
}

/* The type of @dtype if @len bytes hold a number of it; NULL with the error set. */
static const struct value_type *value_number_type(int dtype, size_t len)
{
	const struct value_type *t = value_type_get(dtype);

	if (!t) {
		(void)ax__error_set(AX_EINVAL, "unknown data type %d", dtype);
		return NULL;
	}
	if (dtype == AX_DTYPE_STR || dtype == AX_DTYPE_BYTES) {
		(void)ax__error_set(AX_ETYPE, "a %s is not a number", t->name);
		return NULL;
	}
	if (len < t->size) {
		(void)ax__error_set(AX_ETYPE, "a %s takes %zu bytes, the value has %zu", t->name,
		                    t->size, len);
		return NULL;
	}
	return t;
}

/* The raw bits of a number as a signed or unsigned integer, or a float. */
static void value_decode(const struct value_type *t, const void *buf, uint64_t *raw, int64_t *i,
                         double *f)
{
	*raw = ax__le_get(buf, t->size);
	switch (t->dtype) {
	case AX_DTYPE_FLOAT: {
		uint32_t bits = (uint32_t)*raw;
		float v;

		memcpy(&v, &bits, sizeof(v));
		*f = v;
		*i = 0;
		return;
	}
	case AX_DTYPE_S8:
		*i = (int8_t)*raw;
		break;
	case AX_DTYPE_S16:
		*i = (int16_t)*raw;
		break;
	case AX_DTYPE_S32:
		*i = (int32_t)*raw;
		break;
	case AX_DTYPE_S64:
		*i = (int64_t)*raw;
		break;
	default:
		*i = (int64_t)*raw;
		break; /* unsigned and bool; u64 past INT64_MAX wraps */
	}
	*f = t->dtype == AX_DTYPE_U64 ? (double)*raw : (double)*i;
}

/* The number @len bytes of @dtype hold, decoded; 0, or the error set. */
static int value_number(int dtype, const void *buf, size_t len, uint64_t *raw, int64_t *i,
                        double *f)
{
	const struct value_type *t = value_number_type(dtype, len);

	if (!t)
		return ax_error_last_code();
	value_decode(t, buf, raw, i, f);
	return 0;
}

int ax_value_to_f64(int dtype, const void *buf, size_t len, double *out)
{
	uint64_t raw;
	int64_t i;
	double f;
	int err;

	AX_ASSERT_ARG(buf || len == 0);
	AX_ASSERT_ARG(out);
	err = value_number(dtype, buf, len, &raw, &i, &f);
	if (err < 0)
		return err;
	*out = f;
	return 0;
}

int ax_value_to_i64(int dtype, const void *buf, size_t len, int64_t *out)
{
	uint64_t raw;
	int64_t i;
	double f;
	int err;

	AX_ASSERT_ARG(buf || len == 0);
	AX_ASSERT_ARG(out);
	err = value_number(dtype, buf, len, &raw, &i, &f);
	if (err < 0)
		return err;
	if (dtype == AX_DTYPE_FLOAT) {
		/* 2^63 is exact as a double: no rounding in the compare. */
		if (!isfinite(f) || f < -ldexp(1.0, 63) || f >= ldexp(1.0, 63))
			return ax__error_set(AX_ERANGE, "%g is not an int64", f);
		i = llround(f);
	} else if (dtype == AX_DTYPE_U64 && raw > INT64_MAX) {
		return ax__error_set(AX_ERANGE, "%llu is beyond int64", (unsigned long long)raw);
	}
	*out = i;
	return 0;
}

static int value_dup(char **out, const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return ax__error_oom();
	memcpy(p, s, n);
	p[n] = '\0';
	*out = p;
	return 0;
}

/*
 * Shortest of "%.6g".."%.9g" that reads back as the same float: 20.0f
 * prints "20" and 0.1f "0.1", yet every float survives a round trip (9
 * significant digits always suffice for binary32).
 */
static void value_format_float(char *text, size_t cap, float f)
{
	locale_t old = value_locale_enter();

	if (!isfinite(f)) {
		(void)snprintf(text, cap, "%g", (double)f);
	} else {
		for (int prec = 6; prec <= 9; prec++) {
			(void)snprintf(text, cap, "%.*g", prec, (double)f);
			if (strtof(text, NULL) == f)
				break;
		}
	}
	value_locale_leave(old);
}

int ax_value_format(int dtype, const void *buf, size_t len, char **out)
{
	const struct value_type *t = value_type_get(dtype);
	const uint8_t *p = buf;
	char text[48];
	uint64_t v;

	AX_ASSERT_ARG(buf || len == 0);
	AX_ASSERT_ARG(out);
	if (!t)
		return ax__error_set(AX_EINVAL, "unknown data type %d", dtype);

	if (dtype == AX_DTYPE_STR) {
		const uint8_t *nul = len ? memchr(p, '\0', len) : NULL;

		return value_dup(out, buf, nul ? (size_t)(nul - p) : len);
	}
	if (dtype == AX_DTYPE_BYTES) {
		static const char hex[] = "0123456789abcdef";
		char *s;

		if (len > (SIZE_MAX - 1) / 2)
			return ax__error_oom();
		s = malloc(2 * len + 1);
		if (!s)
			return ax__error_oom();
		for (size_t i = 0; i < len; i++) {
			s[2 * i] = hex[p[i] >> 4];
			s[2 * i + 1] = hex[p[i] & 0xF];
		}
		s[2 * len] = '\0';
		*out = s;
		return 0;
	}

	/* Fixed-size types; a longer buffer (an 8-byte MCB value field) is fine. */
	if (len < t->size)
		return ax__error_set(AX_ETYPE, "%s value needs %zu bytes, got %zu", t->name,
		                     t->size, len);
	v = ax__le_get(p, t->size);
	switch (dtype) {
	case AX_DTYPE_FLOAT: {
		uint32_t u = (uint32_t)v;
		float f;

		memcpy(&f, &u, sizeof(f));
		value_format_float(text, sizeof(text), f);
		break;
	}
	case AX_DTYPE_BOOL:
		(void)snprintf(text, sizeof(text), "%s", v ? "true" : "false");
		break;
	default:
		if (value_is_signed(dtype)) {
			unsigned bits = (unsigned)(t->size * 8);
			int64_t sv;

			/* Sign-extend, then reinterpret without implementation-defined casts. */
			if (bits < 64 && (v >> (bits - 1)) & 1)
				v |= UINT64_MAX << bits;
			memcpy(&sv, &v, sizeof(sv));
			(void)snprintf(text, sizeof(text), "%lld", (long long)sv);
		} else {
			(void)snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
		}
		break;
	}
	return value_dup(out, text, strlen(text));
}

int ax__value_check(int dtype, const void *buf, size_t len, unsigned int flags)
{
	char text[48], shown[64];
	uint32_t u;
	float f;

	if (dtype != AX_DTYPE_FLOAT || len < 4)
		return 0;
	u = (uint32_t)ax__le_get(buf, 4);
	memcpy(&f, &u, sizeof(f));
	if (isfinite(f))
		return 0;
	value_format_float(text, sizeof(text), f);
	(void)snprintf(shown, sizeof(shown), "value %s", text);
	return value_float_rule(f, 0, 1, flags, shown);
}
