/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TESTS_FUZZ_H
#define AXLINK_TESTS_FUZZ_H

/*
 * Shared by the fuzz targets. Each target defines LLVMFuzzerTestOneInput()
 * and is linked either with libFuzzer (clang, tests/fuzz/run.sh) or with
 * replay.c, which feeds it the seed corpus and the saved crash inputs
 * (ctest, any compiler). A target returns 0 for every input; a broken
 * invariant aborts with a message, which both drivers report as a failure.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with the message when @cond is false: the fuzzer keeps the input. */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant '%s' broken: ", __FILE__, __LINE__,      \
			        #cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
