/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_HOST_H
#define AXLINK_SRC_HOST_H

/*
 * The host table: the only way a plugin calls into the core. Each loaded
 * plugin gets its own, whose `core` points at what the table needs to know
 * of its plugin, so log lines carry the plugin's scheme and go to its
 * context's sink, and URI keys are read with the plugin's schema.
 */

#include "axlink/plugin.h"

struct ax__host_core {
	ax_ctx *ctx;                   /* borrowed: the context owns the plugin */
	const char *scheme;            /* the plugin's, for log lines */
	const ax_option_desc *options; /* the plugin's URI key schema */
	int addr_space; /* the plugin's ax_addr_space: how drive errors name a register */
};

/* Fill @host for the plugin @core describes; @core must outlive the table. */
void ax__host_init(ax_host *host, const struct ax__host_core *core);

#endif
