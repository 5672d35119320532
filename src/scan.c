/* SPDX-License-Identifier: MIT */
/*
 * ax_scan(): hand one transport a target spec and relay what it finds to
 * the caller's callback.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <string.h>
#include <time.h>

#include "ctx.h"
#include "sink.h"
#include "uri.h"
#include "util.h"

#define SCAN_DEFAULT_TIMEOUT_MS 2000

struct scan_sink {
	struct ax__sink base; /* first: the plugin's sink pointer is this */
	ax_scan_cb cb;
	void *userdata;
	int stop;          /* the callback's negative value, once it asked to stop */
	uint64_t deadline; /* monotonic ns */
};

static int scan_sink_emit(struct ax__sink *sink, const ax_scan_result *result)
{
	struct scan_sink *s = (struct scan_sink *)sink;
	int ret;

	if (s->stop < 0)
		return s->stop;
	ret = s->cb ? s->cb(result, s->userdata) : 0;
	if (ret < 0)
		s->stop = ret;
	return ret < 0 ? ret : 0;
}

static int scan_sink_cancelled(struct ax__sink *sink)
{
	struct scan_sink *s = (struct scan_sink *)sink;

	return s->stop < 0 || ax__now_ns() >= s->deadline;
}

static const struct ax__sink_ops scan_sink_ops = {
        .emit = scan_sink_emit,
        .cancelled = scan_sink_cancelled,
};

int ax_scan(ax_ctx *ctx, const char *spec, int timeout_ms, ax_scan_cb cb, void *userdata)
{
	struct scan_sink sink = {.base = {&scan_sink_ops}, .cb = cb, .userdata = userdata};
	struct ax_plugin *plugin;
	ax_uri *uri = NULL;
	int ret;

	AX_ASSERT_ARG(ctx);
	AX_ASSERT_ARG(spec);
	if (timeout_ms < 0)
		return ax__error_set(AX_EINVAL, "scan timeout %d ms is negative", timeout_ms);
	if (timeout_ms == 0)
		timeout_ms = ctx->timeout_ms ? ctx->timeout_ms : SCAN_DEFAULT_TIMEOUT_MS;

	ret = ax_uri_parse(&uri, spec);
	if (ret < 0)
		return ret;
	ret = ax__ctx_find_plugin(ctx, uri->scheme, &plugin);
	if (ret < 0)
		goto out;
	if (!plugin->ops.scan) {
		ret = ax__error_set(AX_EUNSUPPORTED, "transport '%s' cannot scan for drives",
		                    plugin->desc.scheme);
		goto out;
	}
	ret = ax__uri_check_keys(uri, plugin->desc.scheme, plugin->desc.options);
	if (ret < 0)
		goto out;
	/* The plugin keeps to the deadline; the margin only stops a runaway one. */
	sink.deadline = ax__now_ns() + (uint64_t)timeout_ms * 1000000u;
	AX_LOG_DEBUG(ctx, plugin->desc.scheme, "scanning '%s' for %d ms", spec, timeout_ms);
	ret = plugin->ops.scan(&plugin->host, uri, timeout_ms, &sink);
	if (sink.stop < 0)
		ret = sink.stop;
out:
	ax_uri_free(uri);
	return ret;
}

const char *ax_access_state_name(int state)
{
	static const char *const names[] = {"ok", "permission-denied", "busy", "no-reply", "error"};

	if (state < 0 || (size_t)state >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[state];
}
