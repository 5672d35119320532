/* SPDX-License-Identifier: MIT */
/*
 * Test-only interposer that counts a thread's I/O system calls; see
 * syscount.h. Counters are per thread, so the simulator (another process)
 * and other threads never show up in a test's numbers.
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "syscount.h"

/* Default visibility: the build hides symbols, and these must be exported. */
#define SYSCOUNT_EXPORT __attribute__((visibility("default")))

static _Thread_local long syscount_n[SYSCOUNT_KINDS];

void syscount_reset(void)
{
	for (int i = 0; i < SYSCOUNT_KINDS; i++)
		syscount_n[i] = 0;
}

long syscount_get(enum syscount_kind kind)
{
	return kind >= 0 && kind < SYSCOUNT_KINDS ? syscount_n[kind] : -1;
}

long syscount_total(void)
{
	long t = 0;

	for (int i = 0; i < SYSCOUNT_KINDS; i++)
		t += syscount_n[i];
	return t;
}

/* The next definition of @name (libc's, or a sanitizer's), looked up once. */
#define SYSCOUNT_NEXT(type, name)                                                                  \
	static type next_;                                                                         \
	if (!next_)                                                                                \
		*(void **)&next_ = dlsym(RTLD_NEXT, name);                                         \
	if (!next_) {                                                                              \
		errno = ENOSYS;                                                                    \
		return -1;                                                                         \
	}

typedef ssize_t (*send_fn)(int, const void *, size_t, int);
/* glibc's own argument types: transparent unions under _GNU_SOURCE. */
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, __CONST_SOCKADDR_ARG, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef ssize_t (*recv_fn)(int, void *, size_t, int);
typedef ssize_t (*recvfrom_fn)(int, void *, size_t, int, __SOCKADDR_ARG, socklen_t *);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef ssize_t (*read_chk_fn)(int, void *, size_t, size_t);
typedef ssize_t (*recv_chk_fn)(int, void *, size_t, size_t, int);
typedef ssize_t (*recvfrom_chk_fn)(int, void *, size_t, size_t, int, struct sockaddr *,
                                   socklen_t *);
typedef int (*poll_chk_fn)(struct pollfd *, nfds_t, int, size_t);
typedef int (*socket_fn)(int, int, int);
typedef int (*connect_fn)(int, __CONST_SOCKADDR_ARG, socklen_t);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
typedef int (*shutdown_fn)(int, int);
typedef int (*close_fn)(int);

SYSCOUNT_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t cap);
SYSCOUNT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t cap, int flags);
SYSCOUNT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t cap, int flags,
                                       struct sockaddr *a, socklen_t *alen);
SYSCOUNT_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t cap);

SYSCOUNT_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	SYSCOUNT_NEXT(send_fn, "send");
	syscount_n[SYSCOUNT_SEND]++;
	return next_(fd, buf, n, flags);
}

SYSCOUNT_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG a,
                               socklen_t alen)
{
	SYSCOUNT_NEXT(sendto_fn, "sendto");
	syscount_n[SYSCOUNT_SEND]++;
	return next_(fd, buf, n, flags, a, alen);
}

SYSCOUNT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	SYSCOUNT_NEXT(sendmsg_fn, "sendmsg");
	syscount_n[SYSCOUNT_SEND]++;
	return next_(fd, msg, flags);
}

SYSCOUNT_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	SYSCOUNT_NEXT(recv_fn, "recv");
	syscount_n[SYSCOUNT_RECV]++;
	return next_(fd, buf, n, flags);
}

SYSCOUNT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, __SOCKADDR_ARG a,
                                 socklen_t *alen)
{
	SYSCOUNT_NEXT(recvfrom_fn, "recvfrom");
	syscount_n[SYSCOUNT_RECV]++;
	return next_(fd, buf, n, flags, a, alen);
}

SYSCOUNT_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	SYSCOUNT_NEXT(recvmsg_fn, "recvmsg");
	syscount_n[SYSCOUNT_RECV]++;
	return next_(fd, msg, flags);
}

SYSCOUNT_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	SYSCOUNT_NEXT(read_fn, "read");
	syscount_n[SYSCOUNT_READ]++;
	return next_(fd, buf, n);
}

SYSCOUNT_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	SYSCOUNT_NEXT(write_fn, "write");
	syscount_n[SYSCOUNT_WRITE]++;
	return next_(fd, buf, n);
}

SYSCOUNT_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	SYSCOUNT_NEXT(poll_fn, "poll");
	syscount_n[SYSCOUNT_POLL]++;
	return next_(fds, n, timeout);
}

SYSCOUNT_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
                          const sigset_t *mask)
{
	SYSCOUNT_NEXT(ppoll_fn, "ppoll");
	syscount_n[SYSCOUNT_POLL]++;
	return next_(fds, n, ts, mask);
}

SYSCOUNT_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t cap)
{
	SYSCOUNT_NEXT(read_chk_fn, "__read_chk");
	syscount_n[SYSCOUNT_READ]++;
	return next_(fd, buf, n, cap);
}

SYSCOUNT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t cap, int flags)
{
	SYSCOUNT_NEXT(recv_chk_fn, "__recv_chk");
	syscount_n[SYSCOUNT_RECV]++;
	return next_(fd, buf, n, cap, flags);
}

SYSCOUNT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t cap, int flags,
                                       struct sockaddr *a, socklen_t *alen)
{
	SYSCOUNT_NEXT(recvfrom_chk_fn, "__recvfrom_chk");
	syscount_n[SYSCOUNT_RECV]++;
	return next_(fd, buf, n, cap, flags, a, alen);
}

SYSCOUNT_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t cap)
{
	SYSCOUNT_NEXT(poll_chk_fn, "__poll_chk");
	syscount_n[SYSCOUNT_POLL]++;
	return next_(fds, n, timeout, cap);
}

SYSCOUNT_EXPORT int socket(int domain, int type, int protocol)
{
	SYSCOUNT_NEXT(socket_fn, "socket");
	syscount_n[SYSCOUNT_SOCKET]++;
	return next_(domain, type, protocol);
}

SYSCOUNT_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG a, socklen_t alen)
{
	SYSCOUNT_NEXT(connect_fn, "connect");
	syscount_n[SYSCOUNT_SOCKET]++;
	return next_(fd, a, alen);
}

SYSCOUNT_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	SYSCOUNT_NEXT(setsockopt_fn, "setsockopt");
	syscount_n[SYSCOUNT_SOCKET]++;
	return next_(fd, level, name, val, len);
}

SYSCOUNT_EXPORT int shutdown(int fd, int how)
{
	SYSCOUNT_NEXT(shutdown_fn, "shutdown");
	syscount_n[SYSCOUNT_SOCKET]++;
	return next_(fd, how);
}

SYSCOUNT_EXPORT int close(int fd)
{
	SYSCOUNT_NEXT(close_fn, "close");
	syscount_n[SYSCOUNT_SOCKET]++;
	return next_(fd);
}
