/* SPDX-License-Identifier: MIT */
/*
 * Per-context logging: a level checked before any formatting, and a sink
 * that is either the user's callback or stderr.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_ARGUMENT /* errors set here; see src/error.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctx.h"

static const char *const level_names[] = { "none", "error", "warn", "info", "debug", "trace" };

const char *ax_log_level_name(int level)
{
	if (level < 0 || (size_t)level >= AX__ARRAY_SIZE(level_names))
		return NULL;
	return level_names[level];
}

int ax_log_level_parse(const char *name)
{
	AX_ASSERT_ARG(name);
	for (size_t i = 0; i < AX__ARRAY_SIZE(level_names); i++)
		if (!strcasecmp(name, level_names[i]))
			return (int)i;
	if (!strcasecmp(name, "warning"))
		return AX_LOG_WARN;
	if (name[0] >= '0' && name[0] <= '5' && name[1] == '\0')
		return name[0] - '0';
	return ax__error_set(AX_EINVAL,
			     "unknown log level '%s' (use none, error, warn, info, debug or trace)",
			     name);
}

int ax__log_level_from_env(void)
{
	const char *env = getenv("AXLINK_LOG");
	int level;

	if (!env || !*env)
		return AX_LOG_WARN;
	level = ax_log_level_parse(env);
	if (level < 0) {
		fprintf(stderr, "axlink: warn: AXLINK_LOG='%s' is not a level, ignoring\n", env);
		ax_error_clear();
		return AX_LOG_WARN;
	}
	return level;
}

int ax__log_enabled(ax_ctx *ctx, int level)
{
	return ctx && level > AX_LOG_NONE &&
	       level <= atomic_load_explicit(&ctx->log_level, memory_order_relaxed);
}

void ax__vlog(ax_ctx *ctx, int level, const char *origin, const char *fmt, va_list ap)
{
	char msg[1024];
	ax_log_cb cb;
	void *userdata;

	if (!ax__log_enabled(ctx, level))
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);

	/* Copy the sink under the lock, call it without: user code never runs locked. */
	pthread_mutex_lock(&ctx->log_lock);
	cb = ctx->log_cb;
	userdata = ctx->log_userdata;
	pthread_mutex_unlock(&ctx->log_lock);

	if (cb)
		cb(level, origin ? origin : "core", msg, userdata);
	else
		fprintf(stderr, "axlink: %s: %s: %s\n", level_names[level], origin ? origin : "core",
			msg);
}

void ax__log(ax_ctx *ctx, int level, const char *origin, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ax__vlog(ctx, level, origin, fmt, ap);
	va_end(ap);
}

void ax_ctx_set_log(ax_ctx *ctx, int level, ax_log_cb cb, void *userdata)
{
	if (!ctx)
		return;
	if (level < AX_LOG_NONE)
		level = AX_LOG_NONE;
	if (level > AX_LOG_TRACE)
		level = AX_LOG_TRACE;
	pthread_mutex_lock(&ctx->log_lock);
	ctx->log_cb = cb;
	ctx->log_userdata = userdata;
	pthread_mutex_unlock(&ctx->log_lock);
	atomic_store(&ctx->log_level, level);
}

int ax_ctx_get_log_level(ax_ctx *ctx)
{
	AX_ASSERT_ARG(ctx);
	return atomic_load(&ctx->log_level);
}
