/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TESTS_SIMPROC_H
#define AXLINK_TESTS_SIMPROC_H

/*
 * Integration-test helper: run the real `axlink-sim` as a child process and
 * wait until it serves. The simulator prints one URI per drive on stdout
 * once its sockets are bound; simproc_start() returns when it has read
 * them all, so tests never sleep and hope.
 *
 * The binary is AXLINK_SIM_PATH (compile-time), overridden by the AXLINK_SIM
 * environment variable.
 */

#include <stddef.h>

typedef struct simproc simproc;

/*
 * Start axlink-sim with @args (NULL-terminated, without the program name)
 * and wait up to @timeout_ms until it has printed @n_uris URIs.
 * Returns 0, or -1 with a message on stderr (the child is then stopped).
 */
int simproc_start(simproc **out, const char *const *args, size_t n_uris, int timeout_ms);

/* The i-th URI the simulator printed (borrowed), or NULL past the end. */
const char *simproc_uri(const simproc *p, size_t i);

/* The child's pid (for tests that send it signals). */
int simproc_pid(const simproc *p);

/*
 * Stop with SIGTERM, wait for the exit (SIGKILL after 5 s) and free @p.
 * Returns the exit status (0 for a clean exit), or -1 when it had to be
 * killed or died of a signal. Accepts NULL (returns 0).
 */
int simproc_stop(simproc *p);

#endif
