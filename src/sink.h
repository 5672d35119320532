/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_SINK_H
#define AXLINK_SRC_SINK_H

#include <stddef.h>

#include "axlink/scan.h"

/*
 * The sink a plugin's scan or monitor reports to. Every consumer (ax_scan(),
 * a discovery worker, a native monitor) embeds one as its first member; the
 * host table's scan_emit, scan_cancelled, monitor_emit and monitor_stopped
 * dispatch through its ops, so one host table per plugin serves them all
 * and nobody copies the table to patch its pointers.
 */
struct ax__sink;

struct ax__sink_ops {
	/* An adopted result (ax__scan_result_adopt()); borrowed for the call. */
	int (*emit)(struct ax__sink *sink, const ax_scan_result *result);
	/* True when the scan should stop. */
	int (*cancelled)(struct ax__sink *sink);
	/* A monitor's arrival/removal event; NULL when the sink is no monitor. */
	int (*monitor_emit)(struct ax__sink *sink, int event, const ax_scan_result *result);
};

struct ax__sink {
	const struct ax__sink_ops *ops;
};

/*
 * Take a record from a plugin: into @out in this library's layout, whatever
 * size the plugin was built with, with "" for every absent string. Returns
 * 1 when it is usable, 0 when it must be dropped (too short for ABI 1.1, or
 * no location URI): a malformed record from a plugin is not trusted.
 */
int ax__scan_result_adopt(ax_scan_result *out, const ax_scan_result *in);

/* Bytes the strings of an adopted @r take in one block (with their NULs). */
size_t ax__scan_result_text_size(const ax_scan_result *r);

/* Copy @src into @dst with its strings laid out in @text (text_size bytes). */
void ax__scan_result_copy(ax_scan_result *dst, const ax_scan_result *src, char *text);

/* What plugins reach through the host table (host.c): dispatch to the sink. */
int ax__sink_emit(void *sink, const ax_scan_result *result);
int ax__sink_cancelled(void *sink);
int ax__sink_monitor_emit(void *sink, int event, const ax_scan_result *result);

#endif
