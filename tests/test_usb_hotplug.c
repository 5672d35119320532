/* SPDX-License-Identifier: MIT */
/*
 * Hot-plug detection of the `usb` transport (transports/usb/usb_hotplug.c),
 * driven directly (the test links the transport's internals and hands them
 * a host table of its own), and through ax_monitor(), which runs the
 * plugin's monitor op (ABI 1.2). Devices come and go in a umockdev testbed (usbemu.h), the real
 * libusb sees them arrive and leave.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axlink/axlink.h"
#include "usb.h"
#include "usbemu.h"

#define VENDOR_ID 0x0000A71Cu
#define AXS100_PRODUCT 0x00010064u

/* --- a host table, as the core builds one -------------------------------------------------- */

static char last_error[512];

static int host_log_enabled(const ax_host *host, int level)
{
	(void)host;
	return level <= AX_LOG_WARN;
}

static void host_log(const ax_host *host, int level, const char *fmt, ...)
{
	va_list ap;

	(void)host;
	(void)level;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int host_error(const ax_host *host, int code, const char *fmt, ...)
{
	va_list ap;

	(void)host;
	va_start(ap, fmt);
	(void)vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

static int host_drive_error(const ax_host *host, uint32_t drive_code, int command, unsigned subnode,
                            uint32_t address)
{
	(void)host;
	(void)snprintf(last_error, sizeof(last_error),
	               "drive error 0x%08X (command %d, subnode %u, 0x%03X)", (unsigned)drive_code,
	               command, subnode, (unsigned)address);
	return AX_EDRIVE;
}

static uint64_t host_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

static const ax_host test_host = {
        .size = sizeof(ax_host),
        .abi_major = AX_PLUGIN_ABI_MAJOR,
        .abi_minor = AX_PLUGIN_ABI_MINOR,
        .log_enabled = host_log_enabled,
        .log = host_log,
        .error = host_error,
        .drive_error = host_drive_error,
        .now_ns = host_now_ns,
        .alloc = host_alloc,
        .calloc = host_calloc,
        .free = host_free,
        .mcb_encode = ax_mcb_encode,
        .mcb_decode = ax_mcb_decode,
        .mcb_check_reply = ax_mcb_check_reply,
        .mcb_check_answer = ax_mcb_check_answer,
        .mcb_request = ax_mcb_request,
        .mcb_reply_value = ax_mcb_reply_value,
        .mcb_identity_take = ax_mcb_identity_take,
};

/* --- events ------------------------------------------------------------------------------- */

#define MAX_EVENTS 8

struct events {
	size_t n;
	int stop_with; /* < 0: the callback returns it */
	struct {
		int event, access;
		char uri[256], detail[512];
		uint32_t known, vendor, product, serial;
	} e[MAX_EVENTS];
};

static int on_event(int event, const ax_scan_result *r, void *userdata)
{
	struct events *ev = userdata;

	if (ev->n < MAX_EVENTS) {
		ev->e[ev->n].event = event;
		ev->e[ev->n].access = r->access;
		(void)snprintf(ev->e[ev->n].uri, sizeof(ev->e[0].uri), "%s", r->uri);
		(void)snprintf(ev->e[ev->n].detail, sizeof(ev->e[0].detail), "%s", r->detail);
		ev->e[ev->n].known = r->known;
		ev->e[ev->n].vendor = r->vendor_id;
		ev->e[ev->n].product = r->product_code;
		ev->e[ev->n].serial = r->serial;
	}
	ev->n++;
	return ev->stop_with;
}

/* Run until @want events arrived or @ms passed. */
static void run_until(usb_hotplug *hp, struct events *ev, size_t want, int ms)
{
	uint64_t end = host_now_ns() + (uint64_t)ms * 1000000u;

	while (ev->n < want && host_now_ns() < end) {
		int r = usb_hotplug_run(hp, 100);

		if (r < 0)
			fail_msg("usb_hotplug_run: %d (%s)", r, last_error);
	}
}

static const usbemu_dev_config drive_cfg = {
        .vid = 0x1209,
        .pid = 0x0001,
        .manufacturer = "axlink",
        .product = "AXS-100 USB",
        .serial = "SN-H1",
        .model = "axs-100",
        .drive_serial = 4242,
};

static const usbemu_dev_config unknown_cfg = {
        .vid = 0x1234,
        .pid = 0x5678,
        .manufacturer = "Other",
        .product = "Gadget",
        .serial = "SN-X",
        .model = "axs-100",
        .drive_serial = 1,
};

static int setup(void **state)
{
	usbemu *emu = NULL;

	if (usbemu_new(&emu) < 0)
		fail_msg("no USB emulation (run under umockdev-wrapper)");
	*state = emu;
	return 0;
}

static int teardown(void **state)
{
	usbemu_free(*state);
	return 0;
}

static void test_usb_hotplug__arrive_then_leave(void **state)
{
	usbemu *emu = *state;
	struct events ev = {0};
	usb_hotplug *hp = NULL;
	usbemu_dev *dev = NULL;

	if (usb_hotplug_start(&hp, &test_host, 0, 200, on_event, &ev) < 0)
		fail_msg("usb_hotplug_start: %s", last_error);
	/* Nothing attached yet: a quiet wait reports nothing. */
	assert_int_equal(usb_hotplug_run(hp, 50), 0);
	assert_int_equal(ev.n, 0);

	assert_int_equal(usbemu_add(emu, &drive_cfg, &dev), 0);
	run_until(hp, &ev, 1, 3000);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.e[0].event, USB_HOTPLUG_ARRIVED);
	/* The arrival is a full scan record: USB strings and the identity read over MCB. */
	assert_int_equal(ev.e[0].access, AX_ACCESS_OK);
	assert_string_equal(ev.e[0].uri, "usb:?vid=1209&pid=0001&serial=SN-H1");
	assert_string_equal(ev.e[0].detail,
	                    "bus 1 address 2 port 1-1 id 1209:0001 manufacturer 'axlink' product "
	                    "'AXS-100 USB' serial 'SN-H1'");
	assert_int_equal(ev.e[0].vendor, VENDOR_ID);
	assert_int_equal(ev.e[0].product, AXS100_PRODUCT);
	assert_int_equal(ev.e[0].serial, 4242);
	assert_true(ev.e[0].known & AX_SCAN_HAS_SERIAL);

	usbemu_dev_unplug(dev);
	run_until(hp, &ev, 2, 3000);
	assert_int_equal(ev.n, 2);
	assert_int_equal(ev.e[1].event, USB_HOTPLUG_LEFT);
	/* The removal names the drive as its arrival did, so the two can be paired. */
	assert_string_equal(ev.e[1].uri, ev.e[0].uri);
	assert_string_equal(ev.e[1].detail, ev.e[0].detail);
	assert_int_equal(ev.e[1].serial, 4242);

	/* Quiet again. */
	assert_int_equal(usb_hotplug_run(hp, 50), 0);
	assert_int_equal(ev.n, 2);
	usb_hotplug_stop(hp);
}

static void test_usb_hotplug__unknown_ids_are_ignored(void **state)
{
	usbemu *emu = *state;
	struct events ev = {0};
	usb_hotplug *hp = NULL;
	usbemu_dev *dev = NULL, *drive = NULL;
	usbemu_stats st;

	assert_int_equal(usb_hotplug_start(&hp, &test_host, 0, 200, on_event, &ev), 0);
	assert_int_equal(usbemu_add(emu, &unknown_cfg, &dev), 0);
	/* Then a known drive: once it is in, the gadget's arrival was seen (and dropped). */
	assert_int_equal(usbemu_add(emu, &drive_cfg, &drive), 0);
	run_until(hp, &ev, 1, 3000);
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.e[0].uri, "usb:?vid=1209&pid=0001&serial=SN-H1");
	usbemu_dev_unplug(dev);
	assert_int_equal(usb_hotplug_run(hp, 300), 0);
	assert_int_equal(ev.n, 1);
	/* Never opened: not by the arrival, not by the removal. */
	usbemu_dev_stats(dev, &st);
	assert_int_equal(st.opens, 0);
	usb_hotplug_stop(hp);
}

static void test_usb_hotplug__enumerate_reports_present_drives(void **state)
{
	usbemu *emu = *state;
	struct events ev = {0};
	usb_hotplug *hp = NULL;
	usbemu_dev *dev = NULL;

	assert_int_equal(usbemu_add(emu, &drive_cfg, &dev), 0);
	assert_int_equal(
	        usb_hotplug_start(&hp, &test_host, USB_HOTPLUG_ENUMERATE, 200, on_event, &ev), 0);
	assert_int_equal(usb_hotplug_run(hp, 1000), 1);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.e[0].event, USB_HOTPLUG_ARRIVED);
	assert_int_equal(ev.e[0].serial, 4242);
	usb_hotplug_stop(hp);

	/* Without the flag, what is already there is not news. */
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(usb_hotplug_start(&hp, &test_host, 0, 200, on_event, &ev), 0);
	assert_int_equal(usb_hotplug_run(hp, 200), 0);
	assert_int_equal(ev.n, 0);
	usb_hotplug_stop(hp);
}

/* A drive that arrives and does not answer is still reported, with why. */
static void test_usb_hotplug__silent_drive_arrives_as_no_reply(void **state)
{
	usbemu *emu = *state;
	struct events ev = {0};
	usb_hotplug *hp = NULL;
	usbemu_dev *dev = NULL;

	assert_int_equal(usb_hotplug_start(&hp, &test_host, 0, 30, on_event, &ev), 0);
	assert_int_equal(usbemu_add(emu, &drive_cfg, &dev), 0);
	usbemu_dev_set_mute(dev, 1);
	run_until(hp, &ev, 1, 3000);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.e[0].access, AX_ACCESS_NO_REPLY);
	assert_int_equal(ev.e[0].known, 0);
	assert_string_equal(ev.e[0].uri, "usb:?vid=1209&pid=0001&serial=SN-H1");
	usb_hotplug_stop(hp);
}

static void test_usb_hotplug__callback_stops_the_run(void **state)
{
	usbemu *emu = *state;
	struct events ev = {.stop_with = -42};
	usb_hotplug *hp = NULL;
	usbemu_dev *dev = NULL;
	int r = 0;

	assert_int_equal(usb_hotplug_start(&hp, &test_host, 0, 200, on_event, &ev), 0);
	assert_int_equal(usbemu_add(emu, &drive_cfg, &dev), 0);
	for (int i = 0; i < 30 && r == 0; i++)
		r = usb_hotplug_run(hp, 100);
	assert_int_equal(r, -42);
	assert_int_equal(ev.n, 1);
	usb_hotplug_stop(hp);
}

static void *waker_main(void *arg)
{
	struct timespec ts = {0, 100000000L};

	nanosleep(&ts, NULL);
	usb_hotplug_wake(arg);
	return NULL;
}

static void test_usb_hotplug__wake_ends_a_long_wait(void **state)
{
	struct events ev = {0};
	usb_hotplug *hp = NULL;
	uint64_t t0, took;
	pthread_t t;

	(void)state;
	assert_int_equal(usb_hotplug_start(&hp, &test_host, 0, 200, on_event, &ev), 0);
	assert_int_equal(pthread_create(&t, NULL, waker_main, hp), 0);
	t0 = host_now_ns();
	assert_int_equal(usb_hotplug_run(hp, 10000), 0);
	took = (host_now_ns() - t0) / 1000000u;
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(took < 2000);
	usb_hotplug_stop(hp);
}

/* --- ax_monitor() over the plugin's monitor op (ABI 1.2) ----------------------------------- */

struct mon_seen {
	atomic_int added, removed, other;
	char added_uri[256], removed_uri[256], transport[16];
	char other_what[768]; /* the last unexpected event, for the failure message */
	int access;
	uint32_t serial;
};

static int mon_event(int event, const ax_discover_result *r, void *userdata)
{
	struct mon_seen *m = userdata;

	if (!strstr(r->uri, "SN-M")) {
		(void)snprintf(m->other_what, sizeof(m->other_what), "event %d %s access %d: %s",
		               event, r->uri, r->access, r->message);
		atomic_fetch_add(&m->other, 1);
		return 0;
	}
	if (event == AX_MONITOR_ADDED) {
		(void)snprintf(m->added_uri, sizeof(m->added_uri), "%s", r->uri);
		(void)snprintf(m->transport, sizeof(m->transport), "%s", r->transport);
		m->access = r->access;
		m->serial = r->serial;
		atomic_fetch_add(&m->added, 1);
	} else if (event == AX_MONITOR_REMOVED) {
		(void)snprintf(m->removed_uri, sizeof(m->removed_uri), "%s", r->uri);
		atomic_fetch_add(&m->removed, 1);
	} else {
		atomic_fetch_add(&m->other, 1);
	}
	return 0;
}

struct mon_driver {
	usbemu *emu;
	struct mon_seen *seen;
	ax_cancel *cancel;
	int plugged, unplugged;
};

static int wait_count(atomic_int *v, int ms)
{
	uint64_t end = host_now_ns() + (uint64_t)ms * 1000000u;

	while (atomic_load(v) == 0 && host_now_ns() < end) {
		struct timespec ts = {0, 10000000L};

		nanosleep(&ts, NULL);
	}
	return atomic_load(v) > 0;
}

/* Plug a drive in while the monitor runs, pull it out once it was seen, then stop. */
static void *mon_driver_main(void *arg)
{
	static const usbemu_dev_config cfg = {
	        .vid = 0x1209,
	        .pid = 0x0001,
	        .manufacturer = "axlink",
	        .product = "AXS-100 USB",
	        .serial = "SN-M",
	        .model = "axs-100",
	        .drive_serial = 5151,
	};
	struct mon_driver *d = arg;
	struct timespec settle = {0, 300000000L};
	usbemu_dev *dev = NULL;

	nanosleep(&settle, NULL);
	if (usbemu_add(d->emu, &cfg, &dev) == 0) {
		d->plugged = wait_count(&d->seen->added, 5000);
		usbemu_dev_unplug(dev);
		d->unplugged = wait_count(&d->seen->removed, 5000);
	}
	ax_cancel_trigger(d->cancel);
	return NULL;
}

static void test_usb_hotplug__monitor_op_feeds_ax_monitor(void **state)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options copts = AX_CTX_OPTIONS_INIT;
	ax_monitor_options mopts = AX_MONITOR_OPTIONS_INIT;
	struct mon_seen seen;
	struct mon_driver d = {0};
	ax_ctx *ctx = NULL;
	pthread_t t;
	uint64_t t0, took_ms;
	int rc;

	memset(&seen, 0, sizeof(seen));
	copts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	copts.plugin_paths = dirs;
	if (ax_ctx_new(&ctx, &copts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	d.emu = *state;
	d.seen = &seen;
	assert_int_equal(ax_cancel_new(&d.cancel), 0);
	/*
	 * One round a minute: only the first, at the start, falls in this test,
	 * and the drive is not there yet then. What is seen comes from hot-plug.
	 */
	mopts.flags = AX_DISCOVER_NO_RESOLVE;
	mopts.period_ms = 60000;
	mopts.cancel = d.cancel;
	assert_int_equal(pthread_create(&t, NULL, mon_driver_main, &d), 0);
	t0 = host_now_ns();
	rc = ax_monitor(ctx, "usb", &mopts, mon_event, &seen);
	took_ms = (host_now_ns() - t0) / 1000000u;
	assert_int_equal(pthread_join(t, NULL), 0);
	if (rc < 0)
		fail_msg("ax_monitor: %s", ax_error_last());
	if (!d.plugged)
		fail_msg("the drive was not reported (%d other event(s); last: %s)",
		         atomic_load(&seen.other), seen.other_what);
	assert_true(d.unplugged);
	assert_true(took_ms < 20000);
	assert_int_equal(atomic_load(&seen.added), 1);
	assert_int_equal(atomic_load(&seen.removed), 1);
	assert_int_equal(atomic_load(&seen.other), 0);
	/* The arrival is a probed drive; the removal names the same location. */
	assert_string_equal(seen.transport, "usb");
	assert_int_equal(seen.access, AX_ACCESS_OK);
	assert_int_equal(seen.serial, 5151);
	assert_string_equal(seen.added_uri, "usb:?vid=1209&pid=0001&serial=SN-M");
	assert_string_equal(seen.removed_uri, seen.added_uri);
	ax_cancel_unref(d.cancel);
	ax_ctx_unref(ctx);
}

/* A target the op cannot watch (one chosen drive): the monitor scans it every period instead. */
struct fallback {
	int added, usb_outcomes;
	char uri[256];
};

static int fallback_event(int event, const ax_discover_result *r, void *userdata)
{
	struct fallback *fb = userdata;

	if (event != AX_MONITOR_ADDED)
		return 0;
	fb->added++;
	(void)snprintf(fb->uri, sizeof(fb->uri), "%s", r->uri);
	return 0;
}

static int fallback_outcome(const ax_discover_transport *t, void *userdata)
{
	struct fallback *fb = userdata;

	fb->usb_outcomes += !strcmp(t->transport, "usb") && t->status == AX_DISCOVER_DONE;
	/* The round that found it is over: stop. */
	return fb->added && fb->usb_outcomes ? -77 : 0;
}

/* Bounds a monitor that would otherwise never end: cancels it after 10 s. */
static void *watchdog_main(void *arg)
{
	ax_cancel *cancel = arg;
	uint64_t end = host_now_ns() + 10000000000u;

	while (!ax_cancel_requested(cancel) && host_now_ns() < end) {
		struct timespec ts = {0, 20000000L};

		nanosleep(&ts, NULL);
	}
	ax_cancel_trigger(cancel);
	return NULL;
}

static void test_usb_hotplug__monitor_falls_back_to_scans(void **state)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options copts = AX_CTX_OPTIONS_INIT;
	ax_monitor_options mopts = AX_MONITOR_OPTIONS_INIT;
	struct fallback fb;
	usbemu_dev *dev = NULL;
	ax_cancel *cancel = NULL;
	ax_ctx *ctx = NULL;
	pthread_t t;
	int rc;

	memset(&fb, 0, sizeof(fb));
	assert_int_equal(ax_cancel_new(&cancel), 0);
	assert_int_equal(usbemu_add(*state, &drive_cfg, &dev), 0);
	copts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	copts.plugin_paths = dirs;
	if (ax_ctx_new(&ctx, &copts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	mopts.flags = AX_DISCOVER_NO_RESOLVE;
	mopts.period_ms = 200;
	mopts.on_transport = fallback_outcome;
	mopts.cancel = cancel;
	assert_int_equal(pthread_create(&t, NULL, watchdog_main, cancel), 0);
	rc = ax_monitor(ctx, "usb:?serial=SN-H1", &mopts, fallback_event, &fb);
	ax_cancel_trigger(cancel);
	assert_int_equal(pthread_join(t, NULL), 0);
	ax_cancel_unref(cancel);
	/* Ended by the outcome callback: a round found it, since hot-plug refused the target. */
	assert_int_equal(rc, -77);
	assert_int_equal(fb.added, 1);
	assert_string_equal(fb.uri, "usb:?vid=1209&pid=0001&serial=SN-H1");
	assert_int_equal(fb.usb_outcomes, 1);
	ax_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_usb_hotplug__arrive_then_leave, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_usb_hotplug__unknown_ids_are_ignored, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_usb_hotplug__enumerate_reports_present_drives,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_usb_hotplug__silent_drive_arrives_as_no_reply,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_usb_hotplug__callback_stops_the_run, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_usb_hotplug__wake_ends_a_long_wait, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_usb_hotplug__monitor_op_feeds_ax_monitor,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_usb_hotplug__monitor_falls_back_to_scans,
	                                        setup, teardown),
	};
	return cmocka_run_group_tests_name("usb_hotplug", tests, NULL, NULL);
}
