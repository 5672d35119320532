/* SPDX-License-Identifier: MIT */
/*
 * Test-only ioctl() interposer for serial tests on pseudo-terminals.
 *
 * libserialport 0.1.1 reads and sets the modem lines (TIOCMGET, TIOCMSET,
 * TIOCMBIS, TIOCMBIC) while it opens and configures a port, and a pty
 * answers ENOTTY to all four, so sp_open() fails on an emulated port. This
 * file, linked into the test executable and exported from it
 * (-Wl,--export-dynamic-symbol=ioctl), takes precedence over libc for every
 * library in the process, the plugin's libserialport included. It passes
 * each call through and only when a pty refuses a modem-line request does
 * it answer from a per-descriptor emulated line state: DTR and RTS as set,
 * CTS, DSR and carrier always up (a peer that is present).
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/ioctl.h>

#include "serial_rig.h"

#define SHIM_MAX_FD 4096
#define SHIM_SET 0x40000000 /* the descriptor's state has been initialised */

typedef int (*shim_ioctl_fn)(int fd, unsigned long req, ...);

static atomic_int shim_lines[SHIM_MAX_FD];
static atomic_ulong shim_calls;

/* Default visibility: the build hides symbols, and this one must be exported. */
__attribute__((visibility("default"))) int ioctl(int fd, unsigned long req, ...);

unsigned long pty_modem_shim_calls(void)
{
	return atomic_load(&shim_calls);
}

static shim_ioctl_fn shim_next(void)
{
	static _Atomic(shim_ioctl_fn) next;
	shim_ioctl_fn fn = atomic_load(&next);

	if (!fn) {
		/* ISO C has no cast from void * to a function pointer; a union does it. */
		union {
			void *p;
			shim_ioctl_fn f;
		} u;

		u.p = dlsym(RTLD_NEXT, "ioctl");
		fn = u.f;
		atomic_store(&next, fn);
	}
	return fn;
}

__attribute__((visibility("default"))) int ioctl(int fd, unsigned long req, ...)
{
	shim_ioctl_fn real = shim_next();
	va_list ap;
	void *arg;
	int r, *bits, cur;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	r = real(fd, req, arg);
	if (r != -1 || errno != ENOTTY || fd < 0 || fd >= SHIM_MAX_FD || !arg)
		return r;
	if (req != TIOCMGET && req != TIOCMSET && req != TIOCMBIS && req != TIOCMBIC)
		return r;

	bits = arg;
	cur = atomic_load(&shim_lines[fd]);
	if (!(cur & SHIM_SET))
		cur = SHIM_SET | TIOCM_DTR | TIOCM_RTS;
	switch (req) {
	case TIOCMGET:
		*bits = (cur & ~SHIM_SET) | TIOCM_CTS | TIOCM_DSR | TIOCM_CAR;
		break;
	case TIOCMSET:
		cur = SHIM_SET | (*bits & (TIOCM_DTR | TIOCM_RTS));
		break;
	case TIOCMBIS:
		cur |= *bits & (TIOCM_DTR | TIOCM_RTS);
		break;
	default:
		cur &= ~(*bits & (TIOCM_DTR | TIOCM_RTS));
		break;
	}
	atomic_store(&shim_lines[fd], cur);
	atomic_fetch_add(&shim_calls, 1);
	errno = 0;
	return 0;
}
