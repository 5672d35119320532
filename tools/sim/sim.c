/* SPDX-License-Identifier: MIT */
/*
 * The drives of axlink-sim and what happens to a request between the wire
 * and the drive: size checks, fault injection, the simulated drive itself.
 * Front-ends only move bytes; the decisions are all here, so a serial or
 * USB front-end added later drops, corrupts and delays exactly alike.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/mcb.h"
#include "sim.h"

/* libaxlink's codec, so the simulator never disagrees with the library on framing. */
static const simdrive_codec sim_codec = {ax_mcb_encode, ax_mcb_decode};

int sim_init(struct sim *s, size_t n, const char *model, uint32_t first_serial)
{
	memset(s, 0, sizeof(*s));
	if (n == 0 || n > SIM_MAX_DRIVES) {
		sim_error("%zu drives requested, expected 1..%d", n, SIM_MAX_DRIVES);
		return -1;
	}
	s->drives = calloc(n, sizeof(*s->drives));
	if (!s->drives) {
		sim_error("out of memory for %zu drives", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct sim_drive *d = &s->drives[i];

		d->serial = first_serial + (uint32_t)i;
		d->faulty = 1;
		if (simdrive_new(&d->drive, &sim_codec, model, d->serial) < 0) {
			sim_error("cannot create simulated drive %zu (model '%s'): out of memory",
			          i + 1, model);
			return -1;
		}
		/* Only now, so sim_fini() frees exactly the drives that exist. */
		s->n_drives = i + 1;
	}
	return 0;
}

void sim_fini(struct sim *s)
{
	for (size_t i = 0; i < s->n_drives; i++)
		simdrive_free(s->drives[i].drive);
	free(s->drives);
	s->drives = NULL;
	s->n_drives = 0;
}

void sim_seed(struct sim *s, uint64_t seed)
{
	s->rng = seed;
}

/* splitmix64: tiny, seedable with any value (0 included), good enough for test faults. */
static uint64_t sim_random(struct sim *s)
{
	uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* True with probability @p. Draws nothing when @p is 0, so fault-free runs stay reproducible. */
static int sim_chance(struct sim *s, double p)
{
	if (p <= 0.0)
		return 0;
	/* 53 random bits as a double in [0, 1): p = 1 always hits. */
	return (double)(sim_random(s) >> 11) * (1.0 / 9007199254740992.0) < p;
}

uint64_t sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sim_error(const char *fmt, ...)
{
	va_list ap;

	fputs("axlink-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void sim_debug(const struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	fputs("axlink-sim: debug: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A frame the drive would act on: intact, for node 0xA, a read or a write. */
static int sim_is_request(const uint8_t *req, size_t len)
{
	ax_mcb_frame f;

	if (ax_mcb_decode(&f, req, len) < 0)
		return 0;
	return f.command == AX_MCB_READ || f.command == AX_MCB_WRITE;
}

size_t sim_serve(struct sim *s, struct sim_drive *d, const char *where, const char *peer,
                 const uint8_t *req, size_t len, uint64_t now_ns, uint8_t *reply, size_t cap)
{
	const char *why = NULL;
	size_t n;

	if (len < AX_MCB_FRAME_SIZE) {
		sim_debug(s,
		          "%s: dropped %zu-byte datagram from %s: shorter than the %d-byte "
		          "header",
		          where, len, peer, AX_MCB_FRAME_SIZE);
		return 0;
	}
	if (len > AX_MCB_MAX_FRAME) {
		sim_debug(s,
		          "%s: dropped %zu-byte datagram from %s: longer than the %d-byte "
		          "maximum frame",
		          where, len, peer, AX_MCB_MAX_FRAME);
		return 0;
	}
	if (d->faulty) {
		/* Only requests count, so stray garbage cannot use up a test's drop budget. */
		if (s->faults.drop_first > 0 && sim_is_request(req, len) &&
		    d->dropped_first < s->faults.drop_first) {
			d->dropped_first++;
			sim_debug(s,
			          "%s: dropped request %llu of the first %llu from %s "
			          "(--drop-first)",
			          where, (unsigned long long)d->dropped_first,
			          (unsigned long long)s->faults.drop_first, peer);
			return 0;
		}
		if (sim_chance(s, s->faults.drop)) {
			sim_debug(s, "%s: dropped %zu-byte datagram from %s (--drop)", where, len,
			          peer);
			return 0;
		}
	}

	simdrive_tick(d->drive, now_ns);
	n = simdrive_handle(d->drive, req, len, reply, cap, &why);
	if (n == 0) {
		sim_debug(s, "%s: dropped %zu-byte datagram from %s: %s", where, len, peer,
		          why ? why : "not answered");
		return 0;
	}
	if (why)
		sim_debug(s, "%s: error reply to %s: %s", where, peer, why);

	if (d->faulty && sim_chance(s, s->faults.corrupt)) {
		/* Bytes 0-11 are under the CRC: the receiver must notice, never act on it. */
		unsigned bit = (unsigned)(sim_random(s) % (12u * 8u));

		reply[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		sim_debug(s, "%s: corrupted reply to %s: flipped bit %u of byte %u (--corrupt)",
		          where, peer, bit % 8, bit / 8);
	}
	return n;
}

int sim_drop_request(struct sim *s, struct sim_drive *d, const char *where)
{
	if (!d->faulty)
		return 0;
	if (s->faults.drop_first > 0 && d->dropped_first < s->faults.drop_first) {
		d->dropped_first++;
		sim_debug(s, "%s: dropped request %llu of the first %llu (--drop-first)", where,
		          (unsigned long long)d->dropped_first,
		          (unsigned long long)s->faults.drop_first);
		return 1;
	}
	if (sim_chance(s, s->faults.drop)) {
		sim_debug(s, "%s: dropped a request (--drop)", where);
		return 1;
	}
	return 0;
}

uint64_t sim_reply_delay(const struct sim *s, const struct sim_drive *d)
{
	return d->faulty ? s->faults.delay_ns : 0;
}
