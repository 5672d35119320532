/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_POLLER_H
#define AXLINK_POLLER_H

/**
 * @file axlink/poller.h
 * @brief Sample registers at a fixed period in a background thread.
 * @defgroup ax_poller Poller
 *
 * A poller reads up to AX_POLLER_MAX_CHANNELS registers (of one drive or
 * several) once per period, on a thread of its own, and stores each sample
 * (a CLOCK_MONOTONIC timestamp and one double per channel) in a ring buffer
 * the caller sizes. The sampler keeps absolute deadlines, so the period does
 * not drift by the time the reads take; a deadline that passed before the
 * sampler got to it is counted as lost, and so is a sample in which a read
 * failed (that channel then holds NaN and its error count rises).
 * ax_poller_read() copies samples out without ever blocking the sampler:
 * the ring has one producer and one consumer and atomic indices.
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#include "axlink/common.h"
#include "axlink/drive.h"

AX_BEGIN_DECLS

/** Most channels one poller samples. */
#define AX_POLLER_MAX_CHANNELS 16

/**
 * A poller. Thread safety: one thread at a time for configuration, start,
 * stop and read-out; the sampler runs on its own thread; ax_poller_stats()
 * and ax_poller_channel_errors() are safe from any thread.
 */
typedef struct ax_poller ax_poller;

/**
 * Counters of a poller since it was created. The caller sets `size` to
 * sizeof(ax_poller_stats) (AX_POLLER_STATS_INIT); the library writes only
 * the fields that size covers.
 */
typedef struct ax_poller_stats {
	uint32_t size;      /**< sizeof(ax_poller_stats) the caller was built with (@since 0.2) */
	uint64_t samples;   /**< samples stored in the ring */
	uint64_t lost;      /**< deadlines missed plus samples with a failed read */
	uint64_t overflows; /**< samples dropped because the ring was full */
	double elapsed_s;   /**< time spent running (all runs together) */
	double period_s;    /**< achieved mean period, pauses between runs included */
} ax_poller_stats;

/** Initialiser of an ax_poller_stats to fill: sets `size`. @since 0.2 */
#define AX_POLLER_STATS_INIT                                                                       \
	{                                                                                          \
		sizeof(ax_poller_stats), 0, 0, 0, 0.0, 0.0                                         \
	}

/**
 * Create a poller with @p period_us between samples and a ring of
 * @p capacity samples.
 *
 * Ownership: *out is freed with ax_poller_free(); untouched on failure.
 * Thread safety: safe.
 * @param[out] out   the new poller
 * @param period_us  100 us .. 60 s
 * @param capacity   samples the ring holds, 2 .. 16777216
 * @return 0, AX_EINVAL (period or capacity out of range, message says which),
 *         or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_poller_new(ax_poller **out, uint32_t period_us, size_t capacity);

/**
 * Stop the poller if it runs and free it. Accepts NULL; returns NULL.
 * Ownership: drops the references on the channels' drives.
 * @since 0.1
 */
AX_API ax_poller *ax_poller_free(ax_poller *poller);

/**
 * Add a channel: register @p id of @p drive (on @p subnode, or the first
 * register with that id when @p subnode < 0). The register is looked up now,
 * so a bad id fails here, before anything starts.
 *
 * Ownership: the poller takes a reference on @p drive; @p id is not kept.
 * Thread safety: one thread at a time, not while running.
 * @return the channel's index (0, 1, ...), AX_ENOTFOUND (no such register),
 *         AX_ETYPE (a str or bytes register), AX_ERANGE (already
 *         AX_POLLER_MAX_CHANNELS channels), AX_EBUSY (running), or another
 *         negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_poller_add(ax_poller *poller, ax_drive *drive, const char *id, int subnode);

/** Number of channels. @since 0.1 */
AX_API size_t ax_poller_channels(const ax_poller *poller);

/** The register of channel @p channel (borrowed), or NULL past the end. @since 0.1 */
AX_API const ax_reg *ax_poller_channel_reg(const ax_poller *poller, size_t channel);

/**
 * Start sampling on a new thread; the first sample is taken at once. A
 * stopped poller may be started again: timestamps keep counting from the
 * first start, and samples not yet read stay in the ring.
 *
 * Thread safety: one thread at a time.
 * @return 0, AX_EINVAL (no channels), AX_EBUSY (already running), or
 *         another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_poller_start(ax_poller *poller);

/**
 * Stop sampling and wait for the thread to end. The sampler reads no
 * further channel, and the read it has in flight is cancelled (on
 * transports that can cancel; on others it ends at its link's timeout), so
 * this returns within milliseconds, not after the rest of the sample. Only
 * the poller's own read is cancelled: other users of the same links are
 * not disturbed. The sample being taken when the stop came is dropped.
 * Stopping a poller that does not run does nothing.
 * Thread safety: one thread at a time.
 * @return 0, or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_poller_stop(ax_poller *poller);

/** Whether the sampler runs. Thread safety: safe. @since 0.1 */
AX_API int ax_poller_running(const ax_poller *poller);

/**
 * Take up to @p max samples out of the ring, oldest first, without waiting.
 *
 * @param[out] times   @p max timestamps: when the sample's first read began,
 *                     in seconds since the first ax_poller_start()
 * @param[out] values  @p max rows of ax_poller_channels() doubles
 *                     (row-major); NaN where that channel's read failed
 * @return the number of samples copied (0 when none is waiting).
 * Thread safety: one thread at a time (the single consumer); never blocks
 * the sampler.
 * @since 0.1
 */
AX_API int ax_poller_read(ax_poller *poller, double *times, double *values, size_t max);

/**
 * Copy the counters into @p out, whose `size` the caller set
 * (AX_POLLER_STATS_INIT). Thread safety: safe.
 * @return 0, or AX_EINVAL when out->size is below the first version's size.
 * @since 0.1
 */
AX_API int ax_poller_stats_get(const ax_poller *poller, ax_poller_stats *out);

/** Failed reads of channel @p channel (0 past the end). Thread safety: safe. @since 0.1 */
AX_API uint64_t ax_poller_channel_errors(const ax_poller *poller, size_t channel);

AX_END_DECLS

/** @} */
#endif
