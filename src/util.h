/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_UTIL_H
#define AXLINK_SRC_UTIL_H

/*
 * Small helpers every module needs once: values are little-endian on the
 * wire whatever the host, deadlines run on the monotonic clock (a clock
 * step must neither stretch nor cut one), and hex digits are read one way.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The little-endian unsigned value of @n (<= 8) bytes at @p. */
static inline uint64_t ax__le_get(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

/* The low @n (<= 8) bytes of @v at @p, little-endian. */
static inline void ax__le_put(void *p, uint64_t v, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++, v >>= 8)
		b[i] = (uint8_t)v;
}

/* Monotonic time in nanoseconds and milliseconds. */
static inline uint64_t ax__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t ax__now_ms(void)
{
	return (int64_t)(ax__now_ns() / 1000000u);
}

/* The value of hex digit @c, or -1. */
static inline int ax__hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
