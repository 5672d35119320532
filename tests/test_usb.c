/* SPDX-License-Identifier: MIT */
/*
 * The `usb` transport end to end: the real plugin and the real libusb
 * against emulated USB drives (tests/support/usbemu.h; run under
 * umockdev-wrapper). Discovery with the USB strings and the MCB identity,
 * opening by ids / serial / bus address, typed and extended transfers, a
 * CDC-ACM function whose kernel driver is detached and re-attached, a
 * drive that never answers (timeout, resend, cancel), a drive unplugged in
 * the middle of a request, late replies that must not answer the next
 * request, busy and access-denied devices, bad URIs, and a device with an
 * unknown VID:PID that nothing may open.
 *
 * Devices (bus 1, in the order added; address = port + 1):
 *   usb:1.2  port 1-1  1209:0001  vendor-specific   "SN-A"  axs-100, serial 9001
 *   usb:1.3  port 1-2  1209:0003  CDC-ACM, cdc_acm  "SN-B"  axs-200, serial 9002
 *   usb:1.4  port 1-3  1234:5678  vendor-specific   "SN-U"  not a known drive
 *   usb:1.5  port 1-4  1209:0001  added and unplugged by the removal test ("SN-D")
 *   usb:1.6  port 1-5  1209:0003  CDC-ACM bound as ttyACM7 ("SN-T"), added by the tty test
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
#include "usbemu.h"
#include "testctx.h"
#include "support/timing.h"

#define VENDOR_ID 0x0000A71Cu
#define AXS100_PRODUCT 0x00010064u
#define AXS200_PRODUCT 0x000100C8u

#define REG_VENDOR 0x6E0
#define REG_PRODUCT 0x6E1
#define REG_SW_VERSION 0x6E4
#define REG_SERIAL 0x6E6
#define REG_CONTROL 0x010
#define REG_STATUS 0x011
#define REG_POS_SET 0x020
#define REG_VEL_SET 0x021
#define REG_USER_DATA 0x6F0

#define SERIAL_A 9001u
#define SERIAL_B 9002u
#define SERIAL_U 9003u
#define SERIAL_D 9004u

#define URI_A "usb:?vid=1209&pid=0001&serial=SN-A"
#define URI_B "usb:?vid=1209&pid=0003&serial=SN-B"

struct fixture {
	usbemu *emu;
	usbemu_dev *a, *b, *u;
	ax_ctx *ctx;
	ax_link *link; /* usb:1.2 */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static ax_link *open_link(ax_ctx *ctx, const char *uri, int timeout_ms)
{
	ax_link_options opts = AX_LINK_OPTIONS_INIT;
	ax_link *link = NULL;

	opts.timeout_ms = timeout_ms;
	if (ax_link_open(&link, ctx, uri, &opts) < 0)
		fail_msg("open %s: %s", uri, ax_error_last());
	return link;
}

static usbemu_dev *add_dev(usbemu *emu, const usbemu_dev_config *cfg)
{
	usbemu_dev *d = NULL;

	if (usbemu_add(emu, cfg, &d) < 0)
		fail_msg("cannot add emulated device %04x:%04x", cfg->vid, cfg->pid);
	return d;
}

static int group_setup(void **state)
{
	const usbemu_dev_config a = {
	        .vid = 0x1209,
	        .pid = 0x0001,
	        .manufacturer = "axlink",
	        .product = "AXS-100 USB",
	        .serial = "SN-A",
	        .model = "axs-100",
	        .drive_serial = SERIAL_A,
	};
	const usbemu_dev_config b = {
	        .vid = 0x1209,
	        .pid = 0x0003,
	        .manufacturer = "axlink",
	        .product = "AXS-200 CDC",
	        .serial = "SN-B",
	        .model = "axs-200",
	        .drive_serial = SERIAL_B,
	        .cdc_acm = 1,
	        .kernel_driver = "cdc_acm",
	};
	const usbemu_dev_config u = {
	        .vid = 0x1234,
	        .pid = 0x5678,
	        .manufacturer = "Other",
	        .product = "Gadget",
	        .serial = "SN-U",
	        .model = "axs-100",
	        .drive_serial = SERIAL_U,
	};
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	/* Only the build tree's device database, whatever the environment says. */
	unsetenv("AXLINK_DB");
	setenv("XDG_DATA_HOME", "/nonexistent/axlink-test-xdg", 1);
	if (usbemu_new(&f->emu) < 0)
		fail_msg("no USB emulation (run under umockdev-wrapper)");
	f->a = add_dev(f->emu, &a);
	f->b = add_dev(f->emu, &b);
	f->u = add_dev(f->emu, &u);
	f->ctx = new_ctx();
	f->link = open_link(f->ctx, "usb:1.2", 0);
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return -1;
	f->link = ax_link_unref(f->link);
	f->ctx = ax_ctx_unref(f->ctx);
	usbemu_free(f->emu);
	free(f);
	return 0;
}

/* --- scan ------------------------------------------------------------------------------- */

#define MAX_FOUND 8

struct found {
	size_t n;
	int stop_after; /* > 0: return -100 after that many */
	struct {
		char uri[256], detail[512], message[512], hint[512], sw[128], os_port[64];
		int access;
		uint32_t known, vendor, product, serial;
	} r[MAX_FOUND];
};

static int collect(const ax_scan_result *res, void *userdata)
{
	struct found *fd = userdata;

	if (fd->n < MAX_FOUND) {
		(void)snprintf(fd->r[fd->n].uri, sizeof(fd->r[0].uri), "%s", res->uri);
		(void)snprintf(fd->r[fd->n].detail, sizeof(fd->r[0].detail), "%s", res->detail);
		(void)snprintf(fd->r[fd->n].message, sizeof(fd->r[0].message), "%s", res->message);
		(void)snprintf(fd->r[fd->n].hint, sizeof(fd->r[0].hint), "%s", res->hint);
		(void)snprintf(fd->r[fd->n].sw, sizeof(fd->r[0].sw), "%s", res->sw_version);
		(void)snprintf(fd->r[fd->n].os_port, sizeof(fd->r[0].os_port), "%s", res->os_port);
		fd->r[fd->n].access = res->access;
		fd->r[fd->n].known = res->known;
		fd->r[fd->n].vendor = res->vendor_id;
		fd->r[fd->n].product = res->product_code;
		fd->r[fd->n].serial = res->serial;
	}
	fd->n++;
	if (fd->stop_after > 0 && (int)fd->n >= fd->stop_after)
		return -100;
	return 0;
}

static void test_usb__scan_lists_known_drives_with_strings(void **state)
{
	struct fixture *f = *state;
	struct found fd = {0};
	int n = ax_scan(f->ctx, "usb:", 3000, collect, &fd);

	if (n < 0)
		fail_msg("scan: %s", ax_error_last());
	/* Known ids only, in bus/address order; the 1234:5678 gadget is not among them. */
	assert_int_equal(n, 2);
	assert_int_equal(fd.n, 2);

	assert_string_equal(fd.r[0].uri, URI_A);
	assert_string_equal(fd.r[0].detail,
	                    "bus 1 address 2 port 1-1 id 1209:0001 manufacturer 'axlink' product "
	                    "'AXS-100 USB' serial 'SN-A'");
	assert_int_equal(fd.r[0].access, AX_ACCESS_OK);
	assert_string_equal(fd.r[0].message, "");
	assert_int_equal(fd.r[0].known, AX_SCAN_HAS_VENDOR | AX_SCAN_HAS_PRODUCT |
	                                        AX_SCAN_HAS_REVISION | AX_SCAN_HAS_SERIAL |
	                                        AX_SCAN_HAS_SW_VERSION);
	assert_int_equal(fd.r[0].vendor, VENDOR_ID);
	assert_int_equal(fd.r[0].product, AXS100_PRODUCT);
	assert_int_equal(fd.r[0].serial, SERIAL_A);
	assert_non_null(strstr(fd.r[0].sw, "axs-100"));

	/* The CDC-ACM drive: the driver bound to it is detached for the probe and comes back. */
	assert_string_equal(fd.r[1].uri, URI_B);
	assert_non_null(strstr(fd.r[1].detail, "bus 1 address 3 port 1-2 id 1209:0003"));
	assert_non_null(strstr(fd.r[1].detail, "product 'AXS-200 CDC'"));
	assert_int_equal(fd.r[1].access, AX_ACCESS_OK);
	assert_int_equal(fd.r[1].product, AXS200_PRODUCT);
	assert_int_equal(fd.r[1].serial, SERIAL_B);
}

static void test_usb__scan_filters_and_stops(void **state)
{
	struct fixture *f = *state;
	struct found fd = {0};

	assert_int_equal(ax_scan(f->ctx, "usb:?serial=SN-B", 3000, collect, &fd), 1);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.r[0].uri, URI_B);

	memset(&fd, 0, sizeof(fd));
	assert_int_equal(ax_scan(f->ctx, "usb:1.2", 3000, collect, &fd), 1);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.r[0].uri, URI_A);

	memset(&fd, 0, sizeof(fd));
	assert_int_equal(ax_scan(f->ctx, "usb:?vid=1209&pid=0003", 3000, collect, &fd), 1);
	assert_int_equal(fd.r[0].serial, SERIAL_B);

	/* The callback's negative value stops the scan and comes back unchanged. */
	memset(&fd, 0, sizeof(fd));
	fd.stop_after = 1;
	assert_int_equal(ax_scan(f->ctx, "usb:", 3000, collect, &fd), -100);
	assert_int_equal(fd.n, 1);

	/* Nothing there: no results, no error. */
	memset(&fd, 0, sizeof(fd));
	assert_int_equal(ax_scan(f->ctx, "usb:?serial=nobody", 3000, collect, &fd), 0);
	assert_int_equal(fd.n, 0);
}

/* --- the unknown device ------------------------------------------------------------------ */

static void test_usb__unknown_vid_pid_is_not_opened(void **state)
{
	struct fixture *f = *state;
	struct found fd = {0};
	ax_link *link = NULL;
	usbemu_stats st;

	/* A scan narrowed to its ids is refused outright. */
	assert_int_equal(ax_scan(f->ctx, "usb:?vid=1234&pid=5678", 3000, collect, &fd), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "1234:5678 is not a known drive"));
	assert_int_equal(fd.n, 0);
	/* By its address: named, but not a drive as far as we know. */
	assert_int_equal(ax_link_open(&link, f->ctx, "usb:1.4", NULL), AX_ENOTFOUND);
	assert_null(link);
	assert_non_null(strstr(ax_error_last(), "1234:5678 at bus 1 address 4"));
	assert_non_null(strstr(ax_error_last(), "usb:?vid=1234&pid=5678"));
	/* A serial search looks only at known drives. */
	assert_int_equal(ax_link_open(&link, f->ctx, "usb:?serial=SN-U", NULL), AX_ENOTFOUND);
	/* Through all of that, and every scan before, nobody opened its device node. */
	usbemu_dev_stats(f->u, &st);
	assert_int_equal(st.opens, 0);
	assert_int_equal(st.requests, 0);
}

/* Named with its ids explicitly, the user says it is a drive: then it opens. */
static void test_usb__explicit_ids_open_any_device(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f->ctx, "usb:?vid=1234&pid=5678", 0);
	uint32_t serial = 0;
	usbemu_stats st;

	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &serial), 0);
	assert_int_equal(serial, SERIAL_U);
	ax_link_unref(link);
	usbemu_dev_stats(f->u, &st);
	assert_true(st.opens >= 1);
	assert_int_equal(st.claimed_now, 0);
}

/* --- opening ----------------------------------------------------------------------------- */

static void test_usb__open_by_ids_serial_and_address(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *uri;
		uint32_t serial;
	} cases[] = {
	        {"usb:1.2", SERIAL_A},
	        {"usb:1.3", SERIAL_B},
	        {"usb:?vid=1209&pid=0001", SERIAL_A},
	        {"usb:?vid=0x1209&pid=3", SERIAL_B},
	        {"usb:?serial=SN-B", SERIAL_B},
	        {URI_A, SERIAL_A},
	        {"usb:1.2?timeout_ms=50", SERIAL_A},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ax_link *link = NULL;
		uint32_t serial = 0;

		if (ax_link_open(&link, f->ctx, cases[i].uri, NULL) < 0)
			fail_msg("%s: %s", cases[i].uri, ax_error_last());
		assert_string_equal(ax_link_scheme(link), "usb");
		if (ax_link_read_u32(link, 0, REG_SERIAL, &serial) < 0)
			fail_msg("%s: read: %s", cases[i].uri, ax_error_last());
		if (serial != cases[i].serial)
			fail_msg("%s: serial %u, want %u", cases[i].uri, serial, cases[i].serial);
		ax_link_unref(link);
	}
}

struct bad_uri {
	const char *uri;
	int want;
	const char *says;
};

static const struct bad_uri bad_uris[] = {
        {"usb:", AX_EINVAL, "matches 2 USB devices (usb:1.2, usb:1.3)"},
        {"usb:?vid=1209", AX_EINVAL, "both vid and pid"},
        {"usb:?pid=0001", AX_EINVAL, "both vid and pid"},
        {"usb:?vid=zz&pid=0001", AX_EINVAL, "vid 'zz'"},
        {"usb:?vid=12345&pid=0001", AX_EINVAL, "vid '12345'"},
        {"usb:?vid=1209&pid=", AX_EINVAL, "pid ''"},
        {"usb:?serial=", AX_EINVAL, "serial is empty"},
        {"usb:x", AX_EINVAL, "'x' is not BUS.ADDRESS"},
        {"usb:1", AX_EINVAL, "'1' is not BUS.ADDRESS"},
        {"usb:1.128", AX_EINVAL, "'1.128' is not BUS.ADDRESS"},
        {"usb:0.2", AX_EINVAL, "'0.2' is not BUS.ADDRESS"},
        {"usb:1.2.3", AX_EINVAL, "'1.2.3' is not BUS.ADDRESS"},
        {"usb://1.2", AX_EINVAL, "no '//' part"},
        {"usb:1.2?timeout_ms=0", AX_EINVAL, "timeout_ms"},
        {"usb:1.2?timeout_ms=60001", AX_EINVAL, "timeout_ms"},
        {"usb:1.2?bogus=1", AX_EUNKNOWNKEY, "serial"},
        {"usb:9.9", AX_ENOTFOUND, "no USB device at bus 9 address 9"},
        {"usb:?vid=1209&pid=0009", AX_ENOTFOUND, "no USB device 1209:0009 is attached"},
        {"usb:?vid=1209&pid=0001&serial=SN-B", AX_ENOTFOUND, "with serial 'SN-B'"},
        {"usb:?serial=nobody", AX_ENOTFOUND, "no known USB drive with serial 'nobody'"},
};

static void test_usb__bad_uris(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_uris) / sizeof(bad_uris[0]); i++) {
		const struct bad_uri *c = &bad_uris[i];
		ax_link *link = NULL;
		int err = ax_link_open(&link, f->ctx, c->uri, NULL);

		if (err != c->want)
			fail_msg("%s: got %d, want %d (%s)", c->uri, err, c->want, ax_error_last());
		if (!strstr(ax_error_last(), c->says))
			fail_msg("%s: message '%s' does not say '%s'", c->uri, ax_error_last(),
			         c->says);
		assert_null(link);
	}
}

/* --- transfers --------------------------------------------------------------------------- */

static void test_usb__typed_round_trips(void **state)
{
	struct fixture *f = *state;
	uint16_t u16 = 0;
	int16_t s16 = 0;
	uint32_t u32 = 0;
	int32_t s32 = 0;
	uint8_t u8 = 0;
	float fl = 0;

	assert_int_equal(ax_link_read_u32(f->link, 0, REG_VENDOR, &u32), 0);
	assert_int_equal(u32, VENDOR_ID);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_PRODUCT, &u32), 0);
	assert_int_equal(u32, AXS100_PRODUCT);
	assert_int_equal(ax_link_write_u8(f->link, 1, REG_POS_SET, 0xFE), 0);
	assert_int_equal(ax_link_read_u8(f->link, 1, REG_POS_SET, &u8), 0);
	assert_int_equal(u8, 0xFE);
	assert_int_equal(ax_link_write_s16(f->link, 1, REG_POS_SET, -30000), 0);
	assert_int_equal(ax_link_read_s16(f->link, 1, REG_POS_SET, &s16), 0);
	assert_int_equal(s16, -30000);
	assert_int_equal(ax_link_write_u32(f->link, 1, REG_POS_SET, 0xDEADBEEFu), 0);
	assert_int_equal(ax_link_read_u32(f->link, 1, REG_POS_SET, &u32), 0);
	assert_int_equal(u32, 0xDEADBEEFu);
	assert_int_equal(ax_link_write_s32(f->link, 1, REG_POS_SET, -123456789), 0);
	assert_int_equal(ax_link_read_s32(f->link, 1, REG_POS_SET, &s32), 0);
	assert_int_equal(s32, -123456789);
	assert_int_equal(ax_link_write_float(f->link, 1, REG_VEL_SET, -12.5f), 0);
	assert_int_equal(ax_link_read_float(f->link, 1, REG_VEL_SET, &fl), 0);
	assert_true(fl == -12.5f);
	/* The drive acts on what it is sent: shutdown makes it ready to switch on. */
	assert_int_equal(ax_link_write_u16(f->link, 1, REG_CONTROL, 0x06), 0);
	assert_int_equal(ax_link_read_u16(f->link, 1, REG_STATUS, &u16), 0);
	assert_int_equal(u16 & 0x6F, 0x21);
	/* An error reply is the drive's answer, with its code. */
	assert_int_equal(ax_link_write_u16(f->link, 1, REG_STATUS, 1), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), AX_MCB_CODE_ACCESS);
}

/* 512 bytes each way: a 526-byte request over bulk OUT, a 526-byte reply over bulk IN. */
static void test_usb__extended_frames(void **state)
{
	struct fixture *f = *state;
	uint8_t out[AX_VALUE_MAX], in[AX_VALUE_MAX];
	ax_link *virt = NULL;
	char *sw = NULL, *want = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, out, sizeof(out)), 0);
	memset(in, 0, sizeof(in));
	assert_int_equal(ax_link_read(f->link, 0, REG_USER_DATA, in, sizeof(in), &len), 0);
	assert_int_equal(len, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	/* A buffer smaller than the reply is an error, never a truncation. */
	assert_int_equal(ax_link_read(f->link, 0, REG_USER_DATA, in, 100, &len), AX_ETOOBIG);

	/* A string longer than 8 bytes comes back in an extended frame; same text as in process. */
	assert_int_equal(ax_link_read_str(f->link, 0, REG_SW_VERSION, &sw), 0);
	if (ax_link_open(&virt, f->ctx, "virtual:?model=axs-100", NULL) < 0 ||
	    ax_link_read_str(virt, 0, REG_SW_VERSION, &want) < 0)
		fail_msg("virtual drive: %s", ax_error_last());
	assert_true(strlen(sw) > 8);
	assert_string_equal(sw, want);
	ax_free(sw);
	ax_free(want);
	ax_link_unref(virt);
}

/* A device that hands its reply out in 64-byte pieces: the frame is put back together. */
static void test_usb__reply_in_pieces(void **state)
{
	struct fixture *f = *state;
	uint8_t out[AX_VALUE_MAX], in[AX_VALUE_MAX];
	usbemu_stats before, after;
	uint32_t v = 0;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(255 - i);
	assert_int_equal(ax_link_write(f->link, 0, REG_USER_DATA, out, sizeof(out)), 0);
	usbemu_dev_stats(f->a, &before);
	usbemu_dev_set_in_chunk(f->a, 5); /* even the 14-byte header comes in three pieces */
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_SERIAL, &v), 0);
	usbemu_dev_set_in_chunk(f->a, 64);
	assert_int_equal(ax_link_read(f->link, 0, REG_USER_DATA, in, sizeof(in), &len), 0);
	usbemu_dev_set_in_chunk(f->a, 0);
	assert_int_equal(v, SERIAL_A);
	assert_int_equal(len, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	/* One request each: nothing was lost and sent again. */
	usbemu_dev_stats(f->a, &after);
	assert_int_equal(after.requests - before.requests, 2);
}

/* A reply that fails its CRC is not an answer: skipped, the request is sent again. */
static void test_usb__corrupt_reply_is_skipped(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f->ctx, "usb:1.2?timeout_ms=100", 0);
	usbemu_stats before, after;
	uint32_t v = 0;

	usbemu_dev_stats(f->a, &before);
	usbemu_dev_corrupt_next(f->a, 1);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, SERIAL_A);
	usbemu_dev_stats(f->a, &after);
	assert_int_equal(after.requests - before.requests, 2);
	/* Twice in a row uses up both tries: a timeout, not a wrong value. */
	usbemu_dev_corrupt_next(f->a, 2);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), AX_ETIMEDOUT);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	ax_link_unref(link);
}

/* The dictionary comes with the drive: identity over USB, model from the database. */
static void test_usb__drive_open_finds_dictionary(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = NULL;
	int64_t serial = 0;

	if (ax_drive_open(&d, f->ctx, URI_B, NULL) < 0)
		fail_msg("drive %s: %s", URI_B, ax_error_last());
	assert_int_equal(ax_drive_identity(d)->product_code, AXS200_PRODUCT);
	assert_non_null(ax_drive_dict(d));
	assert_int_equal(ax_drive_match(d), AX_MATCH_EXACT);
	assert_int_equal(ax_drive_axes(d), 2);
	assert_int_equal(ax_drive_read_i64(d, "DRV_ID_SERIAL_NUMBER_COCO", 0, &serial), 0);
	assert_int_equal(serial, SERIAL_B);
	ax_drive_unref(d);
}

static void test_usb__cdc_acm_driver_detached_then_reattached(void **state)
{
	struct fixture *f = *state;
	usbemu_stats before, open, closed;
	ax_link *link;
	uint32_t v = 0;

	usbemu_dev_stats(f->b, &before);
	assert_int_equal(before.bound_now, 2);
	link = open_link(f->ctx, "usb:1.3", 0);
	usbemu_dev_stats(f->b, &open);
	/* Both interfaces of the function: the serial driver leaves, we hold them. */
	assert_int_equal(open.detaches - before.detaches, 2);
	assert_int_equal(open.bound_now, 0);
	assert_int_equal(open.claimed_now, 2);
	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &v), 0);
	assert_int_equal(v, AXS200_PRODUCT);
	ax_link_unref(link);
	usbemu_dev_stats(f->b, &closed);
	assert_int_equal(closed.attaches - before.attaches, 2);
	assert_int_equal(closed.bound_now, 2);
	assert_int_equal(closed.claimed_now, 0);
}

/* --- silence: timeout, resend, cancel ------------------------------------------------------ */

static void test_usb__timeout_cancels_the_transfer(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f->ctx, "usb:1.2?timeout_ms=100", 0);
	usbemu_stats before, after;
	uint32_t v = 0;
	uint64_t t0, took;

	usbemu_dev_stats(f->a, &before);
	usbemu_dev_set_mute(f->a, 1);
	t0 = now_ms();
	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &v), AX_ETIMEDOUT);
	took = now_ms() - t0;
	usbemu_dev_set_mute(f->a, 0);
	assert_non_null(strstr(ax_error_last(), "after 2 tries of 100 ms"));
	assert_non_null(strstr(ax_error_last(), "1209:0001 at bus 1 address 2"));
	assert_true(took >= 190 && took < test_ms(1500)); /* two tries, then it ends */
	/* Sent twice; each wait ended by cancelling the IN transfer in the device. */
	usbemu_dev_stats(f->a, &after);
	assert_int_equal(after.requests - before.requests, 2);
	assert_true(after.discards - before.discards >= 2);
	/* The drive talks again: so does the link. */
	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &v), 0);
	assert_int_equal(v, AXS100_PRODUCT);
	ax_link_unref(link);
}

static void test_usb__resend_after_lost_request(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f->ctx, "usb:1.2?timeout_ms=100", 0);
	usbemu_stats before, after;
	uint32_t v = 0;
	uint64_t t0, took;

	usbemu_dev_stats(f->a, &before);
	usbemu_dev_drop_next(f->a, 1);
	t0 = now_ms();
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	took = now_ms() - t0;
	assert_int_equal(v, SERIAL_A);
	assert_true(took >= 90);
	usbemu_dev_stats(f->a, &after);
	assert_int_equal(after.requests - before.requests, 2);
	ax_link_unref(link);
}

/*
 * A read gives up; the drive answers its resend late, when the next request,
 * a write of the same register, arrives. The write is refused: the read's
 * ack that comes first is no write ack, so the write fails with the drive's
 * refusal, not success.
 */
static void test_usb__late_read_ack_never_acks_a_refused_write(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f->ctx, "usb:1.2?timeout_ms=100", 0);
	uint16_t status = 0;
	int err;

	usbemu_dev_drop_next(f->a, 1);
	usbemu_dev_delay_next(f->a, 1, 1);
	assert_int_equal(ax_link_read_u16(link, 1, REG_STATUS, &status), AX_ETIMEDOUT);
	/* The status word is read-only: the drive refuses the write. */
	err = ax_link_write_u16(link, 1, REG_STATUS, 0x1234);
	if (err != AX_EDRIVE)
		fail_msg("refused write gave %d (%s), want AX_EDRIVE", err, ax_error_last());
	assert_int_equal(ax_error_last_drive_code(), 0x06010000u);
	assert_non_null(strstr(ax_error_last(), "write of subnode 1 register 0x011 refused"));
	ax_link_unref(link);
}

struct releaser {
	usbemu_dev *dev;
	long after_ms;
};

static void *release_later(void *arg)
{
	struct releaser *r = arg;

	sleep_ms(r->after_ms);
	usbemu_dev_release_held(r->dev);
	return NULL;
}

/*
 * A read gives up; both its answers come 30 ms into the next request, while
 * the link resynchronises: they are dropped, and the next read gets its own
 * answer instead of failing on two stale replies.
 */
static void test_usb__late_replies_are_drained(void **state)
{
	struct fixture *f = *state;
	ax_link *link = open_link(f->ctx, "usb:1.2?timeout_ms=100", 0);
	struct releaser r = {f->a, 30};
	pthread_t t;
	uint32_t v = 0;
	int err;

	usbemu_dev_delay_next(f->a, 2, 0);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), AX_ETIMEDOUT);
	assert_int_equal(pthread_create(&t, NULL, release_later, &r), 0);
	err = ax_link_read_u32(link, 0, REG_PRODUCT, &v);
	assert_int_equal(pthread_join(t, NULL), 0);
	if (err != 0)
		fail_msg("read after a timeout: %s", ax_error_last());
	assert_int_equal(v, AXS100_PRODUCT);
	ax_link_unref(link);
}

struct canceller {
	ax_link *link;
	atomic_int done;
	int err;
};

static void *cancel_reader(void *arg)
{
	struct canceller *c = arg;
	uint32_t v = 0;

	c->err = ax_link_read_u32(c->link, 0, REG_PRODUCT, &v);
	atomic_store(&c->done, 1);
	return NULL;
}

/* Cancel from another thread ends a read of a silent drive long before its 5 s timeout. */
static void test_usb__cancel_from_another_thread(void **state)
{
	struct fixture *f = *state;
	struct canceller c = {.link = open_link(f->ctx, "usb:1.2", 5000)};
	uint64_t t0, took;
	pthread_t t;

	atomic_init(&c.done, 0);
	usbemu_dev_set_mute(f->a, 1);
	t0 = now_ms();
	assert_int_equal(pthread_create(&t, NULL, cancel_reader, &c), 0);
	/* A cancel that arrives before the read starts is dropped: keep cancelling. */
	while (!atomic_load(&c.done) && now_ms() - t0 < 5000) {
		sleep_ms(20);
		assert_int_equal(ax_link_cancel(c.link), 0);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	took = now_ms() - t0;
	usbemu_dev_set_mute(f->a, 0);
	assert_int_equal(c.err, AX_ECANCELED);
	assert_true(took < 2000);
	ax_link_unref(c.link);
}

static void test_usb__cancel_between_requests_is_dropped(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;

	assert_int_equal(ax_link_cancel(f->link), 0);
	assert_int_equal(ax_link_cancel(f->link), 0);
	assert_int_equal(ax_link_read_u32(f->link, 0, REG_PRODUCT, &v), 0);
	assert_int_equal(v, AXS100_PRODUCT);
}

static void test_usb__scan_reports_a_silent_drive(void **state)
{
	struct fixture *f = *state;
	struct found fd = {0};

	usbemu_dev_set_mute(f->a, 1);
	assert_int_equal(ax_scan(f->ctx, "usb:1.2?timeout_ms=50", 2000, collect, &fd), 0);
	usbemu_dev_set_mute(f->a, 0);
	assert_int_equal(fd.n, 1);
	assert_int_equal(fd.r[0].access, AX_ACCESS_NO_REPLY);
	assert_string_equal(fd.r[0].uri, URI_A);
	assert_non_null(strstr(fd.r[0].message, "no MCB reply"));
	assert_int_equal(fd.r[0].known, 0);
}

/* --- the OS says no ------------------------------------------------------------------------ */

static void test_usb__busy_device(void **state)
{
	struct fixture *f = *state;
	struct found fd = {0};
	ax_link *link = NULL;

	usbemu_dev_set_busy(f->a, 1);
	assert_int_equal(ax_link_open(&link, f->ctx, "usb:1.2", NULL), AX_EBUSY);
	assert_null(link);
	assert_non_null(strstr(ax_error_last(), "claim interface 0 of USB device 1209:0001"));
	assert_non_null(strstr(ax_error_last(), "another program"));
	assert_int_equal(ax_scan(f->ctx, "usb:1.2", 2000, collect, &fd), 0);
	usbemu_dev_set_busy(f->a, 0);
	assert_int_equal(fd.n, 1);
	assert_int_equal(fd.r[0].access, AX_ACCESS_BUSY);
	assert_non_null(strstr(fd.r[0].message, "another program"));
	assert_string_equal(fd.r[0].uri, URI_A);
}

static void test_usb__access_denied_names_the_udev_rule(void **state)
{
	struct fixture *f = *state;
	struct found fd = {0};
	ax_link *link = NULL;

	usbemu_dev_set_denied(f->a, 1);
	assert_int_equal(ax_link_open(&link, f->ctx, "usb:1.2", NULL), AX_EACCESS);
	assert_null(link);
	assert_non_null(strstr(ax_error_last(), "permission denied"));
	assert_non_null(strstr(ax_error_last(), "ATTRS{idVendor}==\"1209\""));
	assert_non_null(strstr(ax_error_last(), "udev"));
	/* Looking for it by serial hits the same wall, and says so. */
	assert_int_equal(ax_link_open(&link, f->ctx, "usb:?serial=SN-A", NULL), AX_EACCESS);
	assert_int_equal(ax_scan(f->ctx, "usb:1.2", 2000, collect, &fd), 0);
	usbemu_dev_set_denied(f->a, 0);
	assert_int_equal(fd.n, 1);
	assert_int_equal(fd.r[0].access, AX_ACCESS_PERMISSION_DENIED);
	assert_non_null(strstr(fd.r[0].message, "permission denied"));
	assert_non_null(strstr(fd.r[0].hint, "/etc/udev/rules.d"));
	/* No serial could be read: the result reopens it by its place. */
	assert_string_equal(fd.r[0].uri, "usb:1.2");
}

/* --- the plug is pulled ---------------------------------------------------------------------- */

struct unplugger {
	usbemu_dev *dev;
	int after_ms;
};

static void *unplug_main(void *arg)
{
	struct unplugger *u = arg;

	sleep_ms(u->after_ms);
	usbemu_dev_unplug(u->dev);
	return NULL;
}

static void test_usb__unplugged_in_the_middle_of_a_request(void **state)
{
	const usbemu_dev_config dcfg = {
	        .vid = 0x1209,
	        .pid = 0x0001,
	        .manufacturer = "axlink",
	        .product = "AXS-100 USB",
	        .serial = "SN-D",
	        .model = "axs-100",
	        .drive_serial = SERIAL_D,
	};
	struct fixture *f = *state;
	struct unplugger u = {.after_ms = 150};
	ax_link *link, *again = NULL;
	uint32_t v = 0;
	uint64_t t0, took;
	pthread_t t;

	u.dev = add_dev(f->emu, &dcfg);
	link = open_link(f->ctx, "usb:?serial=SN-D", 3000);
	assert_int_equal(ax_link_read_u32(link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, SERIAL_D);

	/* The drive is thinking when the cable goes: the read must not wait out its 2 x 3 s. */
	usbemu_dev_set_mute(u.dev, 1);
	assert_int_equal(pthread_create(&t, NULL, unplug_main, &u), 0);
	t0 = now_ms();
	assert_int_equal(ax_link_read_u32(link, 0, REG_PRODUCT, &v), AX_EDISCONNECTED);
	took = now_ms() - t0;
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(took < 3000 / 2); /* the unplug, not the 3 s timeout */
	assert_non_null(strstr(ax_error_last(), "was disconnected"));
	assert_non_null(strstr(ax_error_last(), "read subnode 0 register 0x6E1"));
	/* Every later request fails at once, the same way. */
	t0 = now_ms();
	assert_int_equal(ax_link_write_u32(link, 1, REG_POS_SET, 1), AX_EDISCONNECTED);
	assert_true(now_ms() - t0 < 3000 / 2);
	ax_link_unref(link);
	/* And it is gone from the bus. */
	assert_int_equal(ax_link_open(&again, f->ctx, "usb:?serial=SN-D", NULL), AX_ENOTFOUND);
	assert_int_equal(ax_link_open(&again, f->ctx, "usb:1.5", NULL), AX_ENOTFOUND);
}

/* --- a drive that is a serial port now ---------------------------------------------------- */

struct listed {
	unsigned usb, serial, other; /* results for the tty drive, by transport */
	char usb_detail[512];
};

static int count_tty_drive(const ax_discover_result *r, void *userdata)
{
	struct listed *l = userdata;

	if (!strcmp(r->transport, "usb") && strstr(r->uri, "SN-T")) {
		l->usb++;
		(void)snprintf(l->usb_detail, sizeof(l->usb_detail), "%s", r->detail);
	} else if (!strcmp(r->transport, "serial") && !strncmp(r->uri, "serial:/dev/ttyACM7", 19)) {
		l->serial++;
	} else {
		l->other++;
	}
	return 0;
}

static void test_usb__bound_tty_is_named_not_probed_and_listed_once(void **state)
{
	const usbemu_dev_config tcfg = {
	        .vid = 0x1209,
	        .pid = 0x0003,
	        .manufacturer = "axlink",
	        .product = "AXS-200 CDC",
	        .serial = "SN-T",
	        .model = "axs-200",
	        .drive_serial = 9005,
	        .cdc_acm = 1,
	        .kernel_driver = "cdc_acm",
	        .tty = "ttyACM7",
	};
	struct fixture *f = *state;
	ax_discover_options dopts = AX_DISCOVER_OPTIONS_INIT;
	struct found fd = {0};
	struct listed alone = {0}, both = {0};
	usbemu_stats before, after;
	usbemu_dev *t = add_dev(f->emu, &tcfg);
	char target[64], spec[128];

	(void)snprintf(target, sizeof(target), "usb:%u.%u", usbemu_dev_bus(t),
	               usbemu_dev_address(t));
	usbemu_dev_stats(t, &before);
	assert_int_equal(ax_scan(f->ctx, target, 2000, collect, &fd), 0);
	usbemu_dev_stats(t, &after);
	assert_int_equal(fd.n, 1);
	/* Named, pointed at the serial transport, and left alone: no claim, no detach. */
	assert_int_equal(fd.r[0].access, AX_ACCESS_BUSY);
	assert_non_null(strstr(fd.r[0].detail, "serial 'SN-T' tty /dev/ttyACM7"));
	/* The port as data, which discovery keys on; the detail is for people. */
	assert_string_equal(fd.r[0].os_port, "/dev/ttyACM7");
	assert_non_null(strstr(fd.r[0].message, "is the serial port /dev/ttyACM7"));
	assert_non_null(strstr(fd.r[0].hint, "serial:/dev/ttyACM7"));
	assert_int_equal(fd.r[0].known, 0);
	assert_int_equal(after.claims - before.claims, 0);
	assert_int_equal(after.detaches - before.detaches, 0);
	assert_int_equal(after.requests - before.requests, 0);
	assert_int_equal(after.bound_now, 2);

	/* Discovery over USB alone lists it through USB, with its tty. */
	dopts.flags = AX_DISCOVER_NO_RESOLVE;
	dopts.timeout_ms = 3000;
	assert_true(ax_discover(f->ctx, target, &dopts, count_tty_drive, &alone) >= 0);
	assert_int_equal(alone.usb, 1);
	assert_non_null(strstr(alone.usb_detail, "tty /dev/ttyACM7"));
	assert_int_equal(alone.serial, 0);

	/* With the serial transport looking at that port too, the drive is listed once: there. */
	(void)snprintf(spec, sizeof(spec), "serial:/dev/ttyACM7?timeout_ms=50,%s", target);
	if (ax_discover(f->ctx, spec, &dopts, count_tty_drive, &both) < 0)
		fail_msg("discover '%s': %s", spec, ax_error_last());
	assert_int_equal(both.serial, 1);
	assert_int_equal(both.usb, 0);
	assert_int_equal(both.other, 0);
	usbemu_dev_unplug(t);
}

/* The main link outlived all of the above, and the unknown device still was never opened. */
static void test_usb__main_link_still_fine(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;

	assert_int_equal(ax_link_read_u32(f->link, 0, REG_SERIAL, &v), 0);
	assert_int_equal(v, SERIAL_A);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_usb__scan_lists_known_drives_with_strings),
	        cmocka_unit_test(test_usb__scan_filters_and_stops),
	        cmocka_unit_test(test_usb__unknown_vid_pid_is_not_opened),
	        cmocka_unit_test(test_usb__open_by_ids_serial_and_address),
	        cmocka_unit_test(test_usb__bad_uris),
	        cmocka_unit_test(test_usb__typed_round_trips),
	        cmocka_unit_test(test_usb__extended_frames),
	        cmocka_unit_test(test_usb__reply_in_pieces),
	        cmocka_unit_test(test_usb__corrupt_reply_is_skipped),
	        cmocka_unit_test(test_usb__drive_open_finds_dictionary),
	        cmocka_unit_test(test_usb__cdc_acm_driver_detached_then_reattached),
	        cmocka_unit_test(test_usb__timeout_cancels_the_transfer),
	        cmocka_unit_test(test_usb__resend_after_lost_request),
	        cmocka_unit_test(test_usb__late_read_ack_never_acks_a_refused_write),
	        cmocka_unit_test(test_usb__late_replies_are_drained),
	        cmocka_unit_test(test_usb__cancel_from_another_thread),
	        cmocka_unit_test(test_usb__cancel_between_requests_is_dropped),
	        cmocka_unit_test(test_usb__scan_reports_a_silent_drive),
	        cmocka_unit_test(test_usb__busy_device),
	        cmocka_unit_test(test_usb__access_denied_names_the_udev_rule),
	        cmocka_unit_test(test_usb__unplugged_in_the_middle_of_a_request),
	        cmocka_unit_test(test_usb__explicit_ids_open_any_device),
	        cmocka_unit_test(test_usb__main_link_still_fine),
	        cmocka_unit_test(test_usb__bound_tty_is_named_not_probed_and_listed_once),
	};
	return cmocka_run_group_tests_name("usb", tests, group_setup, group_teardown);
}
