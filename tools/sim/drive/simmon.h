/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SIMMON_H
#define AXLINK_SIMMON_H

/*
 * Monitoring (the drive-side oscilloscope) and disturbance (signal
 * injection) of a simulated drive: the MON_* and DIST_* registers of
 * subnode 0, protocol version 3 (MON_DIST_VERSION). simdrive.c owns one
 * engine per drive, routes the requests on those registers here and runs
 * simmon_step() after every step of the axes while simmon_active() says
 * there is something to do. See simdrive.h for what a client sees.
 *
 * Internal to the simulated drive; every call runs under the drive's lock.
 */

#include <stddef.h>
#include <stdint.h>

#include "simdrive.h"
#include "simmodels.h"

/* The base rate of both engines: 20 kHz of drive time, 20 ticks per axis step. */
#define SIMMON_BASE_NS 50000u
#define SIMMON_TICKS_PER_STEP (SIMDRIVE_STEP_NS / SIMMON_BASE_NS)

typedef struct simmon simmon;

/*
 * An engine for drive @d whose register space is @t, values in @store (the
 * drive's, at each register's offset). A model without the MON_* registers
 * gets an inert engine. Returns 0, or -1 when out of memory.
 */
int simmon_new(simmon **out, simdrive *d, const simmodel_table *t, uint8_t *store);
void simmon_free(simmon *m);

/*
 * A write of @v to numeric register @r of subnode 0. Returns 1 when the
 * engine took it (and stored it), 0 when the register is none of its own
 * (the drive stores it as usual), -1 when it is refused (*code: the MCB code).
 */
int simmon_write(simmon *m, const simmodel_reg *r, uint64_t v, uint32_t *code);

/* The same for a bytes register (DIST_DATA_VALUE): @len bytes, in an @extended frame or not. */
int simmon_write_bytes(simmon *m, const simmodel_reg *r, const uint8_t *buf, size_t len,
                       int extended, uint32_t *code);

/*
 * A read of register @r of subnode 0 with a meaning of its own
 * (MON_DATA_VALUE). Returns 1 with the bytes in @buf (at most @cap) and
 * *len_out set, 0 when the register is none of its own, -1 when refused.
 */
int simmon_read(simmon *m, const simmodel_reg *r, uint8_t *buf, size_t cap, size_t *len_out,
                uint32_t *code);

/* 1 while a capture or a waveform needs the base ticks (the drive then never skips steps). */
int simmon_active(const simmon *m);

/*
 * 1 when @m only waits for a trigger that samples which all repeat the last
 * one cannot give (an edge or forced trigger, no disturbance playing):
 * while the drive's values stand still, simmon_skip() may replace steps.
 */
int simmon_quiet(const simmon *m);

/*
 * Account for @steps axis steps in which every value stood as it was at the
 * last sample: the pre-trigger samples they hold are copies of it.
 */
void simmon_skip(simmon *m, uint64_t steps);

/*
 * The base ticks of the axis step that ran from drive time @t0_ns to
 * @t0_ns + SIMDRIVE_STEP_NS: at each tick the disturbance plays a sample,
 * then the monitoring takes one, the kinematics interpolated in the step.
 */
void simmon_step(simmon *m, uint64_t t0_ns);

/*
 * Provided by simdrive.c for the engine:
 * simdrive__sample() puts the value of register @r at fraction @frac (0..1)
 * of the present axis step into @out (r->size bytes): the position and
 * velocity feedbacks and demands interpolated between the step's ends,
 * other registers as they are.
 * simdrive__disturb() writes the raw value @raw into register @r with the
 * meaning a client's write has (a set point moves the axis).
 */
void simdrive__sample(simdrive *d, const simmodel_reg *r, double frac, uint8_t *out);
void simdrive__disturb(simdrive *d, const simmodel_reg *r, uint64_t raw);

#endif
