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

static const char *const level_names[] = {"none", "error", "warn", "info", "debug", "trace"};

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

/* Lines logged while this thread holds a library lock (log.h). */
struct held_line {
	ax_ctx *ctx; /* alive: its lock, or a link of it, is held by this thread */
	int level;
	const char *origin; /* a literal or a plugin's scheme: lives as long as ctx */
	char *msg;
};

static _Thread_local struct {
	unsigned depth;
	struct held_line *lines;
	size_t n;
} held;

static void emit(ax_ctx *ctx, int level, const char *origin, const char *msg)
{
	ax_log_cb cb;
	void *userdata;

	/* Copy the sink under the lock, call it without: user code never runs locked. */
	pthread_mutex_lock(&ctx->log_lock);
	cb = ctx->log_cb;
	userdata = ctx->log_userdata;
	pthread_mutex_unlock(&ctx->log_lock);

	if (cb)
		cb(level, origin ? origin : "core", msg, userdata);
	else
		fprintf(stderr, "axlink: %s: %s: %s\n", level_names[level],
		        origin ? origin : "core", msg);
}

static void hold_line(ax_ctx *ctx, int level, const char *origin, const char *msg)
{
	struct held_line *grown;

	/* Out of memory, the line is lost: logging never fails an operation. */
	grown = realloc(held.lines, (held.n + 1) * sizeof(*grown));
	if (!grown)
		return;
	held.lines = grown;
	grown[held.n] = (struct held_line){ctx, level, origin, strdup(msg)};
	if (grown[held.n].msg)
		held.n++;
}

void ax__vlog(ax_ctx *ctx, int level, const char *origin, const char *fmt, va_list ap)
{
	char msg[1024];

	if (!ax__log_enabled(ctx, level))
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (held.depth)
		hold_line(ctx, level, origin, msg);
	else
		emit(ctx, level, origin, msg);
}

void ax__log(ax_ctx *ctx, int level, const char *origin, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ax__vlog(ctx, level, origin, fmt, ap);
	va_end(ap);
}

void ax__log_hold(void)
{
	held.depth++;
}

void ax__log_release(void)
{
	struct held_line *lines;
	struct ax__error_saved *saved;
	size_t n;

	assert(held.depth > 0);
	if (--held.depth > 0 || held.n == 0)
		return;
	lines = held.lines;
	n = held.n;
	held.lines = NULL;
	held.n = 0;
	/* A callback may call into the library: keep the caller's error for the caller. */
	saved = ax__error_save();
	for (size_t i = 0; i < n; i++) {
		emit(lines[i].ctx, lines[i].level, lines[i].origin, lines[i].msg);
		free(lines[i].msg);
	}
	free(lines);
	ax__error_restore(saved);
}

void ax__ctx_lock(ax_ctx *ctx)
{
	ax__lock(&ctx->lock);
}

void ax__ctx_unlock(ax_ctx *ctx)
{
	ax__unlock(&ctx->lock);
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
