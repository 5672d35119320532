/* SPDX-License-Identifier: MIT */
/*
 * The host table (host.h): the only way a plugin calls into the core.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <stdlib.h>
#include <time.h>

#include "host.h"
#include "log.h"
#include "sink.h"
#include "uri.h"
#include "util.h"

static const struct ax__host_core *host_core(const ax_host *host)
{
	return host->core;
}

static int host_log_enabled(const ax_host *host, int level)
{
	return ax__log_enabled(host_core(host)->ctx, level);
}

static void host_log(const ax_host *host, int level, const char *fmt, ...) AX__PRINTF(3, 4);

static void host_log(const ax_host *host, int level, const char *fmt, ...)
{
	const struct ax__host_core *c = host_core(host);
	va_list ap;

	va_start(ap, fmt);
	ax__vlog(c->ctx, level, c->scheme, fmt, ap);
	va_end(ap);
}

static int host_error(const ax_host *host, int code, const char *fmt, ...) AX__PRINTF(3, 4);

static int host_error(const ax_host *host, int code, const char *fmt, ...)
{
	va_list ap;

	(void)host;
	/* A plugin must report failures as negative codes; anything else is a bug in it. */
	if (code >= 0)
		code = AX_ERROR;
	va_start(ap, fmt);
	/* A URI or option a plugin refuses is the caller's input; the rest is the link's. */
	(void)ax__error_vset_class(code == AX_EINVAL || code == AX_EUNKNOWNKEY
	                                   ? AX_ERRCLASS_ARGUMENT
	                                   : AX_ERRCLASS_TRANSPORT,
	                           code, fmt, ap);
	va_end(ap);
	return code;
}

static int host_drive_error(const ax_host *host, uint32_t drive_code, int command, unsigned subnode,
                            uint32_t address)
{
	const char *text = ax_drive_code_text(drive_code);

	if (host_core(host)->addr_space != AX_ADDR_CANOPEN)
		return ax__error_drive(drive_code, command, subnode, address);
	/* A CANopen address is index << 8 | subindex; the code an SDO abort code. */
	return ax__error_drive_fmt(drive_code,
	                           "drive refused %s of object 0x%04X:%02X (subnode %u): SDO "
	                           "abort 0x%08X%s%s%s",
	                           command == AX_MCB_WRITE ? "write" : "read",
	                           (unsigned)(address >> 8), (unsigned)(address & 0xFF), subnode,
	                           (unsigned)drive_code, text ? " (" : "", text ? text : "",
	                           text ? ")" : "");
}

static uint64_t host_now_ns(void)
{
	return ax__now_ns();
}

static void *host_alloc(size_t size)
{
	return malloc(size);
}

static void *host_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

static void host_free(void *p)
{
	free(p);
}

static int host_uri_int(const ax_host *host, const ax_uri *uri, const char *key, long long min,
                        long long max, long long *out)
{
	return ax__uri_int(uri, host_core(host)->options, key, min, max, out);
}

static const char *host_uri_str(const ax_host *host, const ax_uri *uri, const char *key)
{
	return ax__uri_str(uri, host_core(host)->options, key);
}

/* A scan or monitor reports to the sink it was handed (sink.h). */
static int host_scan_emit(const ax_host *host, void *sink, const ax_scan_result *result)
{
	(void)host;
	return ax__sink_emit(sink, result);
}

static int host_scan_cancelled(const ax_host *host, void *sink)
{
	(void)host;
	return ax__sink_cancelled(sink);
}

static int host_monitor_emit(const ax_host *host, void *sink, int event,
                             const ax_scan_result *result)
{
	(void)host;
	return ax__sink_monitor_emit(sink, event, result);
}

/* Only ax_monitor() hands a plugin a monitor sink; anywhere else, stop at once. */
static int host_monitor_stopped(const ax_host *host, void *sink)
{
	struct ax__sink *s = sink;

	(void)host;
	return !s->ops->monitor_emit || s->ops->cancelled(s);
}

void ax__host_init(ax_host *host, const struct ax__host_core *core)
{
	*host = (ax_host){
	        .size = sizeof(ax_host),
	        .abi_major = AX_PLUGIN_ABI_MAJOR,
	        .abi_minor = AX_PLUGIN_ABI_MINOR,
	        .core = (void *)core,
	        .log_enabled = host_log_enabled,
	        .log = host_log,
	        .error = host_error,
	        .drive_error = host_drive_error,
	        .now_ns = host_now_ns,
	        .alloc = host_alloc,
	        .calloc = host_calloc,
	        .free = host_free,
	        .uri_int = host_uri_int,
	        .uri_str = host_uri_str,
	        .mcb_encode = ax_mcb_encode,
	        .mcb_decode = ax_mcb_decode,
	        .mcb_check_reply = ax_mcb_check_reply,
	        .scan_emit = host_scan_emit,
	        .scan_cancelled = host_scan_cancelled,
	        .mcb_request = ax_mcb_request,
	        .mcb_reply_value = ax_mcb_reply_value,
	        .monitor_emit = host_monitor_emit,
	        .monitor_stopped = host_monitor_stopped,
	        .mcb_identity_take = ax_mcb_identity_take,
	        .mcb_check_answer = ax_mcb_check_answer,
	};
}
