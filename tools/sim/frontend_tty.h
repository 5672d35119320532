/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TOOLS_SIM_FRONTEND_TTY_H
#define AXLINK_TOOLS_SIM_FRONTEND_TTY_H

/*
 * Serial-line front-end of axlink-sim (frontend_tty.c): one drive answers
 * MCB frames raw on a terminal, as a drive on an RS232/RS485 line does.
 */

#include <stddef.h>

#include "sim.h"

/*
 * Serve drive @drive of @s on a terminal:
 *   @path  the terminal (a pty slave such as /dev/pts/3, a pty master a
 *          test rig hands over, a real port); "/dev/fd/N" serves the
 *          inherited descriptor N as it is, since reopening a pty master by
 *          path would create a new pty. NULL: create a pty pair, serve its
 *          master, and name the slave in the URI (serial:/dev/pts/N).
 *   @baud  0, or the line rate to hold the line to: a request counts as
 *          received once its bytes would have crossed the wire (10 bits per
 *          byte), and replies leave byte by byte at that rate.
 * The URI printed names the line's other end when the front-end can tell
 * (a pty's slave), else @path. Returns 0, or -1 with a message on stderr.
 */
/*
 * The line a frontend serves: a new pseudo-terminal master when @path is
 * NULL; a descriptor inherited as /dev/fd/N or /proc/self/fd/N (taken
 * over); else the terminal at @path. @option names the command-line option
 * in messages. Returns the descriptor (close-on-exec), or -1 after
 * sim_error().
 */
int sim_line_open(const char *option, const char *path);

int sim_tty_open(struct sim_frontend *out, struct sim *s, size_t drive, const char *path,
                 unsigned baud);

#endif
