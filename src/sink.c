/* SPDX-License-Identifier: MIT */
/*
 * Sinks: what a plugin's scan or monitor reports to. A record from a
 * plugin is adopted (taken into this library's layout, its strings never
 * NULL) and handed to the sink's ops; deep copies lay its strings out in
 * one block. See sink.h.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <string.h>

#include "axlink/plugin.h"
#include "error.h"
#include "sink.h"

static const char *nz(const char *s)
{
	return s ? s : "";
}

int ax__scan_result_adopt(ax_scan_result *out, const ax_scan_result *in)
{
	if (!in || in->size < offsetof(ax_scan_result, sw_version) + sizeof(char *))
		return 0;
	/* Take the layout this library knows, whatever the plugin was built with. */
	memset(out, 0, sizeof(*out));
	memcpy(out, in, in->size < sizeof(*out) ? in->size : sizeof(*out));
	out->size = sizeof(*out);
	if (!out->uri || !*out->uri)
		return 0;
	out->detail = nz(out->detail);
	out->message = nz(out->message);
	out->hint = nz(out->hint);
	out->sw_version = nz(out->sw_version);
	out->os_port = nz(out->os_port);
	return 1;
}

size_t ax__scan_result_text_size(const ax_scan_result *r)
{
	return strlen(r->uri) + strlen(r->detail) + strlen(r->message) + strlen(r->hint) +
	       strlen(r->sw_version) + strlen(r->os_port) + 6;
}

static const char *text_put(char **cursor, const char *s)
{
	size_t n = strlen(s) + 1;
	char *at = *cursor;

	memcpy(at, s, n);
	*cursor += n;
	return at;
}

void ax__scan_result_copy(ax_scan_result *dst, const ax_scan_result *src, char *text)
{
	*dst = *src;
	dst->uri = text_put(&text, src->uri);
	dst->detail = text_put(&text, src->detail);
	dst->message = text_put(&text, src->message);
	dst->hint = text_put(&text, src->hint);
	dst->sw_version = text_put(&text, src->sw_version);
	dst->os_port = text_put(&text, src->os_port);
}

int ax__sink_emit(void *sink, const ax_scan_result *result)
{
	struct ax__sink *s = sink;
	ax_scan_result r;

	if (!ax__scan_result_adopt(&r, result))
		return 0;
	return s->ops->emit(s, &r);
}

int ax__sink_cancelled(void *sink)
{
	struct ax__sink *s = sink;

	return s->ops->cancelled(s);
}

int ax__sink_monitor_emit(void *sink, int event, const ax_scan_result *result)
{
	struct ax__sink *s = sink;
	ax_scan_result r;

	if (!s->ops->monitor_emit)
		return ax__error_set(AX_EINVAL, "no monitor is running to take this event");
	if (event != AX_PLUGIN_MONITOR_ARRIVED && event != AX_PLUGIN_MONITOR_LEFT)
		return ax__error_set(AX_EINVAL, "monitor event %d is neither arrived nor left",
		                     event);
	if (!ax__scan_result_adopt(&r, result))
		return 0;
	return s->ops->monitor_emit(s, event, &r);
}
