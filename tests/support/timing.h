/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TESTS_TIMING_H
#define AXLINK_TESTS_TIMING_H

/*
 * Wall-clock bounds in tests (header only: include as "support/timing.h").
 *
 * House rule: speed is measured in benchmarks (bench/), never in tests. A
 * test may still bound a wait, to show that something happens before a
 * deadline, a timeout or another event rather than at it or never. Such a
 * bound is written as a budget in milliseconds passed through test_ms(),
 * which multiplies it by test_slowdown():
 *
 *   - AXLINK_TEST_SLOWDOWN, when set to a number from 1 to 100 (a busy
 *     machine, a slower tool: set it by hand);
 *   - else 10 when the test runs under valgrind (its preload library is in
 *     LD_PRELOAD: ctest -T memcheck, as .ci/run does);
 *   - else 3 in a build with AddressSanitizer or ThreadSanitizer;
 *   - else 1.
 *
 * Scale only what the test waits for (deadlines it sets, bounds it checks),
 * so that the passing path stays as fast as before. Better still, bound a
 * wait by what the broken behaviour would take (half the timeout it must
 * not wait out, the deadline it must beat) or by the order of events: such
 * a bound needs no scaling. .ci/run needs to set nothing: valgrind and the
 * sanitizers are recognised. (The Python suites run once, natively; their
 * bounds are of the second kind.)
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AXLINK_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AXLINK_TEST_SANITIZED 1
#endif
#endif
#ifndef AXLINK_TEST_SANITIZED
#define AXLINK_TEST_SANITIZED 0
#endif

static inline unsigned test_slowdown(void)
{
	const char *env = getenv("AXLINK_TEST_SLOWDOWN");
	const char *preload = getenv("LD_PRELOAD");

	if (env && *env) {
		char *end = NULL;
		unsigned long n = strtoul(env, &end, 10);

		if (*end == '\0' && n >= 1 && n <= 100)
			return (unsigned)n;
	}
	if (preload && strstr(preload, "vgpreload"))
		return 10;
	return AXLINK_TEST_SANITIZED ? 3 : 1;
}

/* @ms, the budget on an idle machine, scaled for this run. */
static inline uint64_t test_ms(uint64_t ms)
{
	return ms * test_slowdown();
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline uint64_t test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
