/* SPDX-License-Identifier: MIT */
/*
 * axlink-transport-testscan: a transport whose scan does what the target
 * URI says, for tests/test_discover.c. It shows discovery the behaviours
 * real buses have but cannot be made to have on demand: a scan that fails,
 * one that hangs and ignores cancellation, one that reports a port it may
 * not open, and an unknown product.
 *
 *   testscan:?mode=emit&count=N&serial=S&product=P&delay_ms=D
 *       report N drives (testscan:1 ... testscan:N, serials S..S+N-1,
 *       vendor 0xA71C, product P), D ms apart, checking cancellation while
 *       waiting; the default target `testscan:` reports 2.
 *   mode=fail     return AX_EIO with a message naming the target.
 *   mode=hang     report, then sleep `ms` without looking at cancellation.
 *   mode=wait     report, then wait until host->scan_cancelled() (at most `ms`).
 *   mode=denied   report one port the OS refused (permission-denied + hint).
 *   mode=flip     one location, testscan:flip, alternately answering (serial
 *                 S) and busy: the first scan of the process answers.
 *
 * Links cannot be opened: this plugin only scans.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "axlink/plugin.h"

#define TS_VENDOR 0xA71Cu
/* axs-100: a model the build tree's database knows. */
#define TS_PRODUCT 0x00010064u
#define TS_REVISION 0x00010002u

/* Scans of mode=flip so far, in this process. */
static atomic_int ts_flips;

static void ts_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Wait @ms, in small steps, unless the scan is cancelled first. Returns 1 when it was. */
static int ts_wait(const ax_host *host, void *sink, long ms)
{
	uint64_t end = host->now_ns() + (uint64_t)ms * 1000000u;

	while (host->now_ns() < end) {
		if (host->scan_cancelled(host, sink))
			return 1;
		ts_sleep_ms(2);
	}
	return host->scan_cancelled(host, sink);
}

static int ts_int(const ax_host *host, const ax_uri *uri, const char *key, long long max,
                  long long *out)
{
	return host->uri_int(host, uri, key, 0, max, out);
}

static int ts_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink)
{
	const char *mode = host->uri_str(host, target, "mode");
	long long count, serial, product, delay, ms;
	int err, emitted = 0;

	(void)timeout_ms;
	err = ts_int(host, target, "count", 64, &count);
	if (err == 0)
		err = ts_int(host, target, "serial", 0xFFFFFFFFll, &serial);
	if (err == 0)
		err = ts_int(host, target, "product", 0xFFFFFFFFll, &product);
	if (err == 0)
		err = ts_int(host, target, "delay_ms", 60000, &delay);
	if (err == 0)
		err = ts_int(host, target, "ms", 60000, &ms);
	if (err < 0)
		return err;
	if (!strcmp(mode, "fail"))
		return host->error(host, AX_EIO, "test failure scanning '%s'", target->text);
	if (!strcmp(mode, "flip")) {
		int busy = atomic_fetch_add(&ts_flips, 1) % 2;
		ax_scan_result r = {
		        .size = sizeof(r),
		        .uri = "testscan:flip",
		        .detail = "/dev/testscan1",
		        .access = busy ? AX_ACCESS_BUSY : AX_ACCESS_OK,
		        .message = busy ? "/dev/testscan1 is held by another program" : "",
		        .known = busy ? 0
		                      : AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT |
		                                 AX_SCAN_HAS_SERIAL,
		        .vendor_id = TS_VENDOR,
		        .product_code = (uint32_t)product,
		        .serial = (uint32_t)serial,
		};
		int ret = host->scan_emit(host, sink, &r);

		return ret < 0 ? ret : !busy;
	}
	if (!strcmp(mode, "denied")) {
		ax_scan_result r = {
		        .size = sizeof(r),
		        .uri = "testscan:locked",
		        .detail = "/dev/testscan0",
		        .access = AX_ACCESS_PERMISSION_DENIED,
		        .message = "cannot open /dev/testscan0: permission denied",
		        .hint = "add yourself to group 'dialout'",
		};

		return host->scan_emit(host, sink, &r);
	}
	for (long long i = 0; i < count; i++) {
		char uri[32], detail[32];
		ax_scan_result r;

		if (delay && ts_wait(host, sink, (long)delay))
			break;
		(void)snprintf(uri, sizeof(uri), "testscan:%lld", serial + i);
		(void)snprintf(detail, sizeof(detail), "slot %lld", i + 1);
		memset(&r, 0, sizeof(r));
		r.size = sizeof(r);
		r.uri = uri;
		r.detail = detail;
		r.access = AX_ACCESS_OK;
		r.known = AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT | AX_SCAN_HAS_REVISION |
		          AX_SCAN_HAS_SERIAL | AX_SCAN_HAS_SW_VERSION;
		r.vendor_id = TS_VENDOR;
		r.product_code = (uint32_t)product;
		r.revision = TS_REVISION;
		r.serial = (uint32_t)(serial + i);
		r.sw_version = "9.9.9-test";
		err = host->scan_emit(host, sink, &r);
		if (err < 0)
			return err;
		emitted++;
	}
	if (!strcmp(mode, "hang"))
		ts_sleep_ms((long)ms); /* deliberately deaf to cancellation */
	else if (!strcmp(mode, "wait"))
		(void)ts_wait(host, sink, (long)ms);
	return emitted;
}

static int ts_open(ax_transport_priv **out, const ax_host *host, const ax_uri *uri, int timeout_ms)
{
	(void)out;
	(void)timeout_ms;
	return host->error(host, AX_EUNSUPPORTED, "'%s': the testscan transport only scans",
	                   uri->text);
}

static void ts_close(ax_transport_priv *priv)
{
	(void)priv;
}

static int ts_read(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
                   size_t cap, size_t *len_out, int timeout_ms)
{
	(void)priv, (void)subnode, (void)address, (void)buf, (void)cap, (void)len_out;
	(void)timeout_ms;
	return AX_EUNSUPPORTED;
}

static int ts_write(ax_transport_priv *priv, unsigned subnode, uint32_t address, const void *buf,
                    size_t len, int timeout_ms)
{
	(void)priv, (void)subnode, (void)address, (void)buf, (void)len, (void)timeout_ms;
	return AX_EUNSUPPORTED;
}

static const ax_transport_ops ts_ops = {
        .size = sizeof(ax_transport_ops),
        .open = ts_open,
        .close = ts_close,
        .read = ts_read,
        .write = ts_write,
        .scan = ts_scan,
};

static const ax_option_desc ts_options[] = {
        {"mode", AX_OPT_STRING, "emit", "emit, fail, hang, wait, denied or flip"},
        {"count", AX_OPT_INT, "2", "drives to report"},
        {"serial", AX_OPT_INT, "100", "serial number of the first drive"},
        {"product", AX_OPT_INT, "0x00010064", "product code reported"},
        {"delay_ms", AX_OPT_INT, "0", "wait before each drive"},
        {"ms", AX_OPT_INT, "1000", "how long hang and wait last"},
        {NULL, 0, NULL, NULL},
};

static const ax_transport_desc ts_desc = {
        AX_TRANSPORT_DESC_HEADER,
        .scheme = "testscan",
        .name = "axlink discovery test transport",
        .version = "0.0.1-test",
        .description = "scans that succeed, fail or hang on demand",
        .license = "MIT",
        .caps = AX_TRANSPORT_CAP_SCAN,
        .addr_space = AX_ADDR_MCB,
        .options = ts_options,
        .ops = &ts_ops,
};

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void);

const ax_transport_desc *axlink_transport_entry(void)
{
	return &ts_desc;
}
