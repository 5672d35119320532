/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TOOLS_SIM_H
#define AXLINK_TOOLS_SIM_H

/*
 * axlink-sim internals: the set of simulated drives, the fault injection
 * every front-end shares, and the front-end interface of the event loop.
 *
 * A front-end (UDP today; a serial pty and USB can follow) owns the file
 * descriptors that carry requests to the drives. One thread polls all of
 * them (loop.c). A front-end hands every request to sim_serve(), which
 * applies the fault injection and the drive, so whichever bus a request
 * came over, the same drive with the same faults answers it.
 */

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "simdrive.h"

/* Limit on drives in one process (one socket each, well under the fd limit). */
#define SIM_MAX_DRIVES 1024

/* A due time that never comes: nothing is scheduled. */
#define SIM_NEVER UINT64_MAX

/* Fault injection, applied to the drives whose `faulty` flag is set. */
struct sim_faults {
	double drop;         /* probability (0..1) that an incoming datagram is lost */
	double corrupt;      /* probability (0..1) that a reply leaves with a flipped bit */
	uint64_t delay_ns;   /* every reply leaves this long after its request came */
	uint64_t drop_first; /* requests each drive loses before it answers any */
};

struct sim_drive {
	simdrive *drive;
	uint32_t serial;
	int faulty;             /* the fault injection applies to this drive */
	uint64_t dropped_first; /* requests dropped so far under drop_first */
};

struct sim {
	struct sim_drive *drives;
	size_t n_drives;
	struct sim_faults faults;
	uint64_t rng; /* splitmix64 state: drop and corrupt decisions */
	int verbose;  /* debug log on stderr */
};

/*
 * Create @n drives of @model with serials @first_serial, +1, ... Faults
 * default to none, every drive faulty (the faults only act once set).
 * Returns 0, or -1 with a message on stderr; sim_fini() is safe either way.
 */
int sim_init(struct sim *s, size_t n, const char *model, uint32_t first_serial);
void sim_fini(struct sim *s);

/* Seed the fault-injection PRNG. */
void sim_seed(struct sim *s, uint64_t seed);

/* Monotonic clock in nanoseconds. */
uint64_t sim_now_ns(void);

/* "axlink-sim: <message>" on stderr. */
void sim_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "axlink-sim: debug: <message>" on stderr when verbose. */
void sim_debug(const struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Serve one datagram that arrived at drive @d at @now_ns: length checks,
 * fault injection (drop, drop-first, corrupt), the drive itself. @where
 * names the endpoint and @peer the sender, for the debug log. Returns the
 * length of the reply written to @reply (@cap >= AX_MCB_MAX_FRAME), or 0
 * when nothing is to be sent. The caller sends it after sim_reply_delay().
 */
size_t sim_serve(struct sim *s, struct sim_drive *d, const char *where, const char *peer,
                 const uint8_t *req, size_t len, uint64_t now_ns, uint8_t *reply, size_t cap);

/*
 * For front-ends whose requests are not MCB frames (CAN): whether the fault
 * injection loses this request to drive @d (--drop-first, then --drop; only
 * for a faulty drive). @where names the endpoint for the debug log.
 */
int sim_drop_request(struct sim *s, struct sim_drive *d, const char *where);

/* How long the reply of drive @d must wait before it leaves (0: at once). */
uint64_t sim_reply_delay(const struct sim *s, const struct sim_drive *d);

/*
 * A front-end as the loop sees it. The set of descriptors is fixed once the
 * front-end is open; the loop gives each front-end its own slice of the
 * poll array.
 */
struct sim_frontend {
	void *priv;
	/* Number of pollfd entries the front-end needs. */
	size_t (*npoll)(void *priv);
	/* Fill its entries (fd and events). */
	void (*fill)(void *priv, struct pollfd *fds);
	/* Handle whatever poll() reported on its entries. */
	void (*ready)(void *priv, const struct pollfd *fds, uint64_t now_ns);
	/* Earliest time it has work scheduled (delayed replies), or SIM_NEVER. */
	uint64_t (*next_due)(void *priv);
	/* Do the work that is due at @now_ns. */
	void (*run_due)(void *priv, uint64_t now_ns);
	/* Print the URI of each drive it serves, one per line. */
	void (*print_uris)(void *priv, FILE *out);
	/* Close and free everything. */
	void (*destroy)(void *priv);
};

/*
 * UDP front-end: drive first_drive + i serves on @addrs[i] (IPv4, host
 * order) and @port (0: a port the system picks per drive). Binds every
 * socket before returning. Returns 0, or -1 with a message on stderr that
 * names the address.
 */
int sim_udp_open(struct sim_frontend *out, struct sim *s, const uint32_t *addrs, size_t n,
                 size_t first_drive, unsigned port);

/*
 * TCP front-end (frontend_tcp.c): drive first_drive + i listens on
 * @addrs[i] (IPv4, host order), port @ports[i] (0: the system picks one),
 * for several clients at once. Listens on every socket before returning.
 * A connection that sends nothing for @idle_ns is closed (0: never).
 * Returns 0, or -1 with a message on stderr that names the address.
 */
int sim_tcp_open(struct sim_frontend *out, struct sim *s, const uint32_t *addrs,
                 const unsigned *ports, size_t n, size_t first_drive, uint64_t idle_ns);

/*
 * Stop signals (SIGINT, SIGTERM) as a readable descriptor (self-pipe).
 * sim_signals_open() returns the read end or -1 with a message on stderr.
 */
int sim_signals_open(void);
void sim_signals_close(void);

/*
 * Poll every front-end until a stop signal arrives on @stop_fd.
 * Returns 0 after a stop signal, -1 on a fatal poll error (message on stderr).
 */
int sim_loop_run(struct sim_frontend *fes, size_t n_fes, int stop_fd);

#endif
