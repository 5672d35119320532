/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TESTS_SYSCOUNT_H
#define AXLINK_TESTS_SYSCOUNT_H

/*
 * Test-only counter of the I/O system calls a thread makes: send, sendto,
 * sendmsg, recv, recvfrom, recvmsg, read, write, poll and ppoll (and their
 * _FORTIFY_SOURCE twins), and the socket set-up calls socket, connect,
 * setsockopt, shutdown and close. syscount.c, linked into the test executable and
 * exported from it (tests/support/syscount.cmake), takes precedence over
 * libc for every library in the process, the dlopen()ed transports
 * included, and passes each call through to the next definition
 * (dlsym(RTLD_NEXT): libc, or a sanitizer's interceptor).
 */

enum syscount_kind {
	SYSCOUNT_SEND,   /* send, sendto, sendmsg */
	SYSCOUNT_RECV,   /* recv, recvfrom, recvmsg */
	SYSCOUNT_READ,   /* read */
	SYSCOUNT_WRITE,  /* write */
	SYSCOUNT_POLL,   /* poll, ppoll */
	SYSCOUNT_SOCKET, /* socket, connect, setsockopt, shutdown, close */
	SYSCOUNT_KINDS
};

/* Zero the calling thread's counters. */
void syscount_reset(void);

/* The calling thread's calls of @kind since its last reset. */
long syscount_get(enum syscount_kind kind);

/* The calling thread's calls of every kind since its last reset. */
long syscount_total(void);

#endif
