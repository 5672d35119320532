/* SPDX-License-Identifier: MIT */
/*
 * One source for every test plugin of tests/test_loader.c. Each
 * axlink-transport-test*.so is this file built with other TP_* definitions
 * (tests/plugins/CMakeLists.txt), so each plugin differs from the good one
 * in exactly the way its loader rule needs:
 *
 *   TP_SCHEME="x"    descriptor scheme (default "testgood")
 *   TP_NO_SCHEME     scheme NULL
 *   TP_MAJOR_BUMP=n  ABI major + n
 *   TP_MINOR_BUMP=n  ABI minor + n
 *   TP_DESC_SIZE=n   size field of the descriptor
 *   TP_NO_ENTRY      no entry symbol (a misspelt one instead)
 *   TP_ENTRY_NULL    the entry returns NULL
 *   TP_NO_OPS        ops NULL
 *   TP_NO_READ       ops->read NULL
 *   TP_OPS_1_0       an ABI 1.0 ops table: its size ends before `scan`, which
 *                    is set to a function the core must therefore never call
 *   TP_SPLIT_ALL     all four split-read ops (ABI 1.4) set, to functions that
 *                    fail: with an older minor the core must never call them
 *   TP_SPLIT_PART    only submit_read set: a partial set, which the core ignores
 *
 * Pointers that lead out of the plugin's own image (tests/plugins/baddesc,
 * each a crash or a garbage string for a loader that follows it):
 *
 *   TP_ENTRY_WILD    the entry returns an address nothing is mapped at
 *   TP_ENTRY_FOREIGN the entry returns readable memory of another object (libc)
 *   TP_WILD_SCHEME   scheme points nowhere
 *   TP_WILD_NAME     name points nowhere
 *   TP_FOREIGN_VERSION version points into libc (readable, not a string of ours)
 *   TP_WILD_OPTIONS  options points nowhere
 *   TP_WILD_OPS      ops points nowhere
 *   TP_WILD_CANCEL   ops->cancel points nowhere
 *
 * Without any, it is a working in-memory transport: TP_MAX_CELLS u32 cells on
 * subnode 1 at addresses 0..cells-1 ("cells" URI key); any other register
 * gets the drive error "object does not exist", as a real drive would answer.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "axlink/plugin.h"

#ifndef TP_SCHEME
#define TP_SCHEME "testgood"
#endif
#ifndef TP_MAJOR_BUMP
#define TP_MAJOR_BUMP 0
#endif
#ifndef TP_MINOR_BUMP
#define TP_MINOR_BUMP 0
#endif
#ifndef TP_DESC_SIZE
#define TP_DESC_SIZE sizeof(ax_transport_desc)
#endif

/* An address below mmap_min_addr: never mapped, so any read of it crashes. */
#define TP_WILD ((uintptr_t)0x18)

#if defined(TP_ENTRY_FOREIGN) || defined(TP_FOREIGN_VERSION)
/* Data of libc: mapped and readable, but not part of this plugin. */
extern char **environ;
#endif

#define TP_MAX_CELLS 16
#define TP_CELL_SUBNODE 1u
#define TP_CELL_BYTES 4u
/* CANopen/MCB abort code "object does not exist in the object dictionary". */
#define TP_NO_OBJECT 0x06020000u
/* MCB read/write command codes, only for the drive error's context. */
#define TP_CMD_READ 1
#define TP_CMD_WRITE 2

struct ax_transport_priv {
	const ax_host *host;
	unsigned cells;
	uint32_t reg[TP_MAX_CELLS];
};

static int tp_open(ax_transport_priv **out, const ax_host *host, const ax_uri *uri, int timeout_ms)
{
	ax_transport_priv *tp;
	long long cells;
	int err;

	(void)timeout_ms;
	err = host->uri_int(host, uri, "cells", 1, TP_MAX_CELLS, &cells);
	if (err < 0)
		return err;
	tp = host->calloc(1, sizeof(*tp));
	if (!tp)
		return host->error(host, AX_ENOMEM, "no memory for %s endpoint", TP_SCHEME);
	tp->host = host;
	tp->cells = (unsigned)cells;
	/* The loader test checks that plugin log lines reach the context's sink. */
	host->log(host, AX_LOG_DEBUG, "open '%s': %u cells", uri->text, tp->cells);
	*out = tp;
	return 0;
}

static void tp_close(ax_transport_priv *tp)
{
	if (tp)
		tp->host->free(tp);
}

static int tp_cell_ok(const ax_transport_priv *tp, unsigned subnode, uint32_t address)
{
	return subnode == TP_CELL_SUBNODE && address < tp->cells;
}

static int tp_read(ax_transport_priv *tp, unsigned subnode, uint32_t address, void *buf, size_t cap,
                   size_t *len_out, int timeout_ms)
{
	uint8_t b[TP_CELL_BYTES];
	uint32_t v;

	(void)timeout_ms;
	if (!tp_cell_ok(tp, subnode, address))
		return tp->host->drive_error(tp->host, TP_NO_OBJECT, TP_CMD_READ, subnode, address);
	if (cap < TP_CELL_BYTES)
		return tp->host->error(tp->host, AX_ETOOBIG, "cell %u: %u bytes do not fit in %zu",
		                       (unsigned)address, TP_CELL_BYTES, cap);
	v = tp->reg[address];
	for (unsigned i = 0; i < TP_CELL_BYTES; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	memcpy(buf, b, sizeof(b));
	*len_out = sizeof(b);
	return 0;
}

static int tp_write(ax_transport_priv *tp, unsigned subnode, uint32_t address, const void *buf,
                    size_t len, int timeout_ms)
{
	const uint8_t *b = buf;
	uint32_t v = 0;

	(void)timeout_ms;
	if (!tp_cell_ok(tp, subnode, address))
		return tp->host->drive_error(tp->host, TP_NO_OBJECT, TP_CMD_WRITE, subnode,
		                             address);
	if (len > TP_CELL_BYTES)
		return tp->host->error(tp->host, AX_ETOOBIG, "cell %u holds %u bytes, not %zu",
		                       (unsigned)address, TP_CELL_BYTES, len);
	/* Shorter writes zero-extend, like a little-endian register would. */
	for (size_t i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	tp->reg[address] = v;
	return 0;
}

#ifdef TP_OPS_1_0
/* Past the table's declared size: a core that reads it has broken the ABI rule. */
static int tp_scan_must_not_run(const ax_host *host, const ax_uri *target, int timeout_ms,
                                void *sink)
{
	(void)target;
	(void)timeout_ms;
	(void)sink;
	return host->error(host, AX_ERROR, "scan of an ABI 1.0 plugin was called");
}
#endif

#if defined(TP_SPLIT_ALL) || defined(TP_SPLIT_PART)
/* Split reads the core must not use (an older minor, or not all four): a batch fails if it does. */
static int tp_split_submit(ax_transport_priv *tp, unsigned subnode, uint32_t address,
                           int timeout_ms)
{
	(void)timeout_ms;
	return tp->host->error(tp->host, AX_ERROR, "split read of %u:%u was submitted", subnode,
	                       (unsigned)address);
}
#endif
#ifdef TP_SPLIT_ALL
static int tp_split_pollfd(ax_transport_priv *tp, uint64_t *wake_ns)
{
	(void)tp;
	*wake_ns = 0;
	return -1;
}

static int tp_split_complete(ax_transport_priv *tp, void *buf, size_t cap, size_t *len_out)
{
	(void)buf;
	(void)cap;
	(void)len_out;
	return tp->host->error(tp->host, AX_ERROR, "split read completed");
}

static void tp_split_abandon(ax_transport_priv *tp)
{
	(void)tp;
}
#endif

static const ax_transport_ops tp_ops = {
#ifdef TP_OPS_1_0
        .size = offsetof(ax_transport_ops, scan),
        .scan = tp_scan_must_not_run,
#else
        .size = sizeof(ax_transport_ops),
#endif
        .open = tp_open,
        .close = tp_close,
#ifndef TP_NO_READ
        .read = tp_read,
#endif
        .write = tp_write,
#ifdef TP_WILD_CANCEL
        .cancel = (int (*)(ax_transport_priv *))TP_WILD,
#endif
#if defined(TP_SPLIT_ALL) || defined(TP_SPLIT_PART)
        .submit_read = tp_split_submit,
#endif
#ifdef TP_SPLIT_ALL
        .pollfd = tp_split_pollfd,
        .complete_read = tp_split_complete,
        .abandon = tp_split_abandon,
#endif
};

static const ax_option_desc tp_options[] = {
        {"cells", AX_OPT_INT, "16", "number of u32 cells on subnode 1 (1..16)"},
        {NULL, 0, NULL, NULL},
};

static const ax_transport_desc tp_desc = {
        .size = TP_DESC_SIZE,
        .abi_major = AX_PLUGIN_ABI_MAJOR + TP_MAJOR_BUMP,
        .abi_minor = AX_PLUGIN_ABI_MINOR + TP_MINOR_BUMP,
#if defined(TP_NO_SCHEME)
        .scheme = NULL,
#elif defined(TP_WILD_SCHEME)
        .scheme = (const char *)TP_WILD,
#else
        .scheme = TP_SCHEME,
#endif
#ifdef TP_WILD_NAME
        .name = (const char *)TP_WILD,
#else
        .name = "axlink test transport",
#endif
#ifdef TP_FOREIGN_VERSION
        .version = (const char *)&environ,
#else
        .version = "0.0.1-test",
#endif
        .description = "in-memory u32 cells for the loader tests",
        .license = "MIT",
        .caps = 0,
        .addr_space = AX_ADDR_MCB,
#ifdef TP_WILD_OPTIONS
        .options = (const ax_option_desc *)TP_WILD,
#else
        .options = tp_options,
#endif
#if defined(TP_NO_OPS)
        .ops = NULL,
#elif defined(TP_WILD_OPS)
        .ops = (const ax_transport_ops *)TP_WILD,
#else
        .ops = &tp_ops,
#endif
};

static const ax_transport_desc *tp_entry_body(void)
{
#if defined(TP_NO_OPS) || defined(TP_NO_READ) || defined(TP_WILD_OPS)
	/* Those variants leave these unreferenced; keep them compiled. */
	(void)&tp_ops;
	(void)tp_read;
#endif
#ifdef TP_WILD_OPTIONS
	(void)&tp_options;
#endif
#if defined(TP_ENTRY_NULL)
	(void)&tp_desc;
	return NULL;
#elif defined(TP_ENTRY_WILD)
	(void)&tp_desc;
	return (const ax_transport_desc *)TP_WILD;
#elif defined(TP_ENTRY_FOREIGN)
	(void)&tp_desc;
	return (const ax_transport_desc *)(const void *)&environ;
#else
	return &tp_desc;
#endif
}

#ifdef TP_NO_ENTRY
/*
 * A plugin whose author misspelt the entry: the object loads fine, but the
 * loader must not find AX_PLUGIN_ENTRY_NAME in it.
 */
AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entri(void);
AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entri(void)
{
	return tp_entry_body();
}
#else
AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void);
AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void)
{
	return tp_entry_body();
}
#endif
