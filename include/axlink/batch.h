/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_BATCH_H
#define AXLINK_BATCH_H

/**
 * @file axlink/batch.h
 * @brief One request in flight on each of many links at once.
 * @defgroup ax_batch Batch
 *
 * A batch holds a list of register reads, on any links of any transports,
 * and runs them together: each link gets its requests one after the other
 * (a link has one request in flight), distinct links are served at the
 * same time by worker threads the batch owns and keeps for its next run.
 * Reading one register of each of sixteen drives then costs about one
 * round trip instead of sixteen. Each read ends with a result of its own
 * (the bytes, or an error code and message): a drive that does not answer
 * fails its reads, not the others'.
 *
 *     ax_batch *b;
 *     ax_batch_new(&b, 0);
 *     for (i = 0; i < n; i++)
 *             ax_batch_add_read(b, links[i], 0, 0x6E1, NULL);
 *     ax_batch_run(b, 500, NULL);
 *     for (i = 0; i < n; i++)
 *             if (ax_batch_result(b, i, &data, &len) == 0) ...
 *             else puts(ax_batch_error(b, i));
 *
 * A run is bounded: by @p timeout_ms when given (reads still waiting then
 * are cancelled and fail with AX_ETIMEDOUT), else by each link's own
 * request timeout. A transport that cannot cancel (no
 * AX_TRANSPORT_CAP_CANCEL) ends its read at its own timeout instead, and
 * the run waits for that.
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#include "axlink/cancel.h"
#include "axlink/common.h"
#include "axlink/dict.h"
#include "axlink/link.h"

AX_BEGIN_DECLS

/** Most worker threads a batch starts when ax_batch_new() is given 0. @since 0.3 */
#define AX_BATCH_THREADS_DEFAULT 64

/**
 * A list of reads and the worker threads that run them.
 * Thread safety: one thread at a time (configuration, run, results); the
 * workers are the batch's own business.
 */
typedef struct ax_batch ax_batch;

/**
 * Create an empty batch.
 * @param max_threads  most reads in flight at once (1..1024), 0 for
 *                     AX_BATCH_THREADS_DEFAULT. Threads start when a run
 *                     needs them and stay until ax_batch_free().
 * Ownership: *out is the caller's (ax_batch_free()); untouched on failure.
 * Thread safety: safe.
 * @return 0, AX_EINVAL or AX_ENOMEM.
 * @since 0.3
 */
AX_API int ax_batch_new(ax_batch **out, unsigned max_threads);

/**
 * Stop the workers and free the batch; accepts NULL; returns NULL.
 * Ownership: drops the references the batch took on its links.
 * Thread safety: not during a run of the same batch.
 * @since 0.3
 */
AX_API ax_batch *ax_batch_free(ax_batch *batch);

/**
 * Add a read of the raw bytes of register (@p subnode, @p address) on
 * @p link (what ax_link_read() returns).
 * @param[out] index_out  NULL, or the read's index for ax_batch_result()
 *                        (reads are numbered 0, 1, ... in the order added)
 * Ownership: the batch takes a reference on @p link until ax_batch_clear()
 * or ax_batch_free().
 * Thread safety: not during a run of the same batch.
 * @return 0, AX_EINVAL (@p link NULL), AX_EBUSY (a run is in progress),
 *         or AX_ENOMEM.
 * @since 0.3
 */
AX_API int ax_batch_add_read(ax_batch *batch, ax_link *link, unsigned subnode, uint32_t address,
                             size_t *index_out);

/**
 * Add a read of dictionary register @p reg on @p link (what
 * ax_link_read_reg() returns: the value's bytes by the register's type).
 * Ownership: @p reg is borrowed: its dictionary must outlive the batch's
 * use of it (until ax_batch_clear() or ax_batch_free()); the link as for
 * ax_batch_add_read().
 * Thread safety: not during a run of the same batch.
 * @return as ax_batch_add_read().
 * @since 0.3
 */
AX_API int ax_batch_add_reg(ax_batch *batch, ax_link *link, const ax_reg *reg, size_t *index_out);

/** Reads in the batch. Thread safety: not during a run. @since 0.3 */
AX_API size_t ax_batch_count(const ax_batch *batch);

/**
 * Remove every read (and drop the batch's link references); the workers
 * stay for the next run. Thread safety: not during a run. @since 0.3
 */
AX_API void ax_batch_clear(ax_batch *batch);

/**
 * Run every read of the batch, reads on distinct links at the same time,
 * and wait until each has its result. A batch may run again (each run
 * replaces the results of the last).
 * @param timeout_ms  > 0: the run ends within this many milliseconds (plus
 *                    what a cancel takes to reach the transports, see
 *                    plugin.h); reads still waiting then fail with
 *                    AX_ETIMEDOUT. 0: each read ends at its link's timeout.
 * @param cancel      NULL, or a token that ends the run early: reads not
 *                    done fail with AX_ECANCELED, and so does the run.
 * @return the number of reads that failed (0: all succeeded; see
 *         ax_batch_result()), AX_ECANCELED, AX_EINVAL (negative timeout),
 *         or AX_ENOMEM / AX_EIO (a worker thread could not start).
 * Thread safety: one run of a batch at a time; the links may be used by
 * other threads meanwhile (their requests take turns).
 * @since 0.3
 */
AX_API int ax_batch_run(ax_batch *batch, int timeout_ms, ax_cancel *cancel);

/**
 * The outcome of read @p index in the last run.
 * @param[out] data_out  the bytes read (valid until the next run, clear or
 *                       free); NULL when the read failed
 * @param[out] len_out   their count
 * @return 0, the read's negative ax_error_code (its message in
 *         ax_batch_error()), or AX_EINVAL (@p index out of range, or a
 *         read that has not run: AX_EINVAL without a message of its own).
 * Thread safety: not during a run.
 * @since 0.3
 */
AX_API int ax_batch_result(const ax_batch *batch, size_t index, const void **data_out,
                           size_t *len_out);

/**
 * The error message of read @p index in the last run, or NULL when it
 * succeeded (or does not exist). Ownership: the batch's, valid until the
 * next run, clear or free. Thread safety: not during a run. @since 0.3
 */
AX_API const char *ax_batch_error(const ax_batch *batch, size_t index);

/**
 * The drive's error code of read @p index when it failed with AX_EDRIVE
 * (what ax_error_last_drive_code() said), else 0.
 * Thread safety: not during a run. @since 0.3
 */
AX_API uint32_t ax_batch_drive_code(const ax_batch *batch, size_t index);

/**
 * The error class of read @p index when it failed (what
 * ax_error_last_class() said), else 0.
 * Thread safety: not during a run. @since 0.3
 */
AX_API int ax_batch_error_class(const ax_batch *batch, size_t index);

/** @} */

AX_END_DECLS

#endif
