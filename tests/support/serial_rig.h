/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TESTS_SERIAL_RIG_H
#define AXLINK_TESTS_SERIAL_RIG_H

/*
 * Test rig for the serial transport (TEST-RIGS.md §Serial): umockdev
 * emulates USB-serial ports (/dev/ttyUSB0, ...) with their sysfs records,
 * so the real libserialport lists them with VID:PID and strings and opens
 * them. Each port is backed by a pty; the rig hands out its master, where
 * the test serves a simulated drive. The process must run under
 * umockdev-wrapper and link pty_modem_shim.c, which answers the modem-line
 * ioctls that ptys refuse and libserialport needs.
 */

#include <stddef.h>
#include <stdint.h>

/* One emulated USB-serial port. */
struct serial_rig_port {
	const char *name; /* "ttyUSB0": the port is /dev/ttyUSB0 */
	uint16_t vid, pid;
	const char *serial;       /* USB serial number string, or NULL */
	const char *manufacturer; /* or NULL */
	const char *product;      /* or NULL */
};

typedef struct serial_rig serial_rig;

/*
 * Emulate @n ports. Their masters are in raw mode. Returns 0, or -1 with a
 * message on stderr (also when not running under umockdev-wrapper).
 */
int serial_rig_new(serial_rig **out, const struct serial_rig_port *ports, size_t n);

/* The pty master behind port @i (owned by the rig). */
int serial_rig_master(const serial_rig *r, size_t i);

/* The pty slave path behind port @i, e.g. "/dev/pts/3". */
const char *serial_rig_slave(const serial_rig *r, size_t i);

/*
 * Unplug port @i as a USB adapter goes: its sysfs records and device node
 * disappear and the line hangs up (the master closes). Returns 0 or -1.
 */
int serial_rig_unplug(serial_rig *r, size_t i);

/* Tear the testbed down. Accepts NULL. */
void serial_rig_free(serial_rig *r);

/* Count of the emulated-port shim's answers so far (proves the shim is linked in). */
unsigned long pty_modem_shim_calls(void);

#endif
