/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_LOG_H
#define AXLINK_SRC_LOG_H

/*
 * Logging inside the library: a per-context level tested before any
 * formatting, and a sink that is the application's callback or stderr.
 *
 * log.h (public) promises that a callback never runs under a library lock,
 * since a callback may well call back into the library. Code that takes a
 * library lock brackets it with ax__log_hold() / ax__log_release() (or the
 * ax__lock() pair): lines logged in between, by the core or by a plugin
 * through the host table, wait in a per-thread queue and go out, in order,
 * once the outermost hold is released after the unlock.
 */

#include <pthread.h>
#include <stdarg.h>

#include "axlink/ctx.h"
#include "axlink/log.h"
#include "error.h"

int ax__log_enabled(ax_ctx *ctx, int level);
void ax__log(ax_ctx *ctx, int level, const char *origin, const char *fmt, ...) AX__PRINTF(4, 5);
void ax__vlog(ax_ctx *ctx, int level, const char *origin, const char *fmt, va_list ap)
        AX__PRINTF(4, 0);
/* Initial level from AXLINK_LOG, or WARN. */
int ax__log_level_from_env(void);

/* Hold this thread's log lines (nests); release emits them at the outermost level. */
void ax__log_hold(void);
void ax__log_release(void);

/* A library lock taken and released with this thread's log lines held meanwhile. */
static inline void ax__lock(pthread_mutex_t *m)
{
	ax__log_hold();
	pthread_mutex_lock(m);
}

static inline void ax__unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	ax__log_release();
}

#define AX_LOG_AT(ctx, lvl, origin, ...)                                                           \
	do {                                                                                       \
		if (ax__log_enabled((ctx), (lvl)))                                                 \
			ax__log((ctx), (lvl), (origin), __VA_ARGS__);                              \
	} while (0)
#define AX_LOG_ERROR(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_ERROR, origin, __VA_ARGS__)
#define AX_LOG_WARN(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_WARN, origin, __VA_ARGS__)
#define AX_LOG_INFO(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_INFO, origin, __VA_ARGS__)
#define AX_LOG_DEBUG(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_DEBUG, origin, __VA_ARGS__)
#define AX_LOG_TRACE(ctx, origin, ...) AX_LOG_AT(ctx, AX_LOG_TRACE, origin, __VA_ARGS__)

#endif
