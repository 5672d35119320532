/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_CANCEL_H
#define AXLINK_CANCEL_H

/**
 * @file axlink/cancel.h
 * @brief A token that stops a long operation from another thread or a signal handler.
 * @defgroup ax_cancel Cancellation
 * @{
 */

#include "axlink/common.h"

AX_BEGIN_DECLS

/**
 * A cancellation token: another thread (or a signal handler) triggers it,
 * and the long operation that was given it (a discovery, a monitor) stops.
 * Thread safety: safe.
 */
typedef struct ax_cancel ax_cancel;

/**
 * Create an untriggered token.
 * Ownership: *out gets one reference (ax_cancel_unref()); untouched on failure.
 * Thread safety: safe.
 * @return 0 or AX_ENOMEM.
 * @since 0.1
 */
AX_API int ax_cancel_new(ax_cancel **out);

/** Take a reference; returns @p cancel. Thread safety: safe. @since 0.1 */
AX_API ax_cancel *ax_cancel_ref(ax_cancel *cancel);

/** Drop a reference; accepts NULL; returns NULL. Thread safety: safe. @since 0.1 */
AX_API ax_cancel *ax_cancel_unref(ax_cancel *cancel);

/**
 * Trigger the token: every call watching it returns soon (within about
 * 10 ms plus what the transports need to notice, see plugin.h).
 * Thread safety: safe, and async-signal-safe (one atomic store), so a
 * SIGINT handler may call it.
 * @since 0.1
 */
AX_API void ax_cancel_trigger(ax_cancel *cancel);

/** True once triggered (and not reset). Thread safety: safe. @since 0.1 */
AX_API int ax_cancel_requested(const ax_cancel *cancel);

/** Untrigger the token, to reuse it. Thread safety: safe. @since 0.1 */
AX_API void ax_cancel_reset(ax_cancel *cancel);

AX_END_DECLS

/** @} */

#endif
