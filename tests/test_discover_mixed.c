/* SPDX-License-Identifier: MIT */
/*
 * Discovery across buses at once: simulated drives over UDP and on two
 * emulated USB-serial ports (tests/support/serial_rig.h, under
 * umockdev-wrapper), found by one call with their identities and
 * dictionaries, and found again wherever they are by their stable URIs; a
 * serial adapter unplugged is a removal event.
 *
 * Addresses: 127.0.10.112/29 (within the discovery tests' 127.0.10.0/25).
 *   127.0.10.113-116  four axs-100 drives, serials 8100..8103
 *   127.0.10.117-118  nothing listens there
 * Serial: /dev/ttyUSB0 (FTDI FT232R, axs-100, serial 8000) and /dev/ttyUSB1
 * (FTDI FT-X, axs-200, serial 8001): USB ids the serial transport probes by
 * default.
 */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "serial_rig.h"
#include "simproc.h"
#include "support/timing.h"

#define VENDOR_ID 0x0000A71Cu
#define AXS100_PRODUCT 0x00010064u
#define AXS200_PRODUCT 0x000100C8u
#define ETH_SPEC "eth://127.0.10.112/29"
#define N_ETH 4
#define ETH_SERIAL 8100u
#define SIM_START_MS 10000
/* What a loaded machine adds to a deadline; scaled for valgrind and sanitizers. */
#define SLACK_MS test_ms(400)

static const struct serial_rig_port rig_ports[] = {
        {"ttyUSB0", 0x0403, 0x6001, "MIXED0", "Acme", "SimServo RS485"},
        {"ttyUSB1", 0x0403, 0x6015, "MIXED1", "Acme", "SimServo RS232"},
};

struct fixture {
	serial_rig *rig;
	simproc *eth;
	simproc *tty[2];
	ax_ctx *ctx;
};

struct found {
	char uri[128], stable[64], transport[16], model[32];
	uint32_t serial, product, elapsed_ms;
	int access, match;
};

struct seen {
	struct found f[32];
	size_t n;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void load_plugin(ax_ctx *ctx, const char *scheme)
{
	char path[512];

	(void)snprintf(path, sizeof(path), "%s/axlink-transport-%s.so", AXLINK_BUILD_PLUGIN_DIR,
	               scheme);
	if (ax_ctx_load_plugin(ctx, path) < 0)
		fail_msg("load %s: %s", path, ax_error_last());
}

/* axlink-sim --tty /dev/fd/N on the master behind port @i. */
static simproc *start_tty_sim(struct fixture *f, size_t i, const char *serial, const char *model)
{
	char fd_path[32];
	const char *args[] = {"--tty", fd_path, "--serial", serial, "--model", model, NULL};
	int master = serial_rig_master(f->rig, i);
	simproc *p = NULL;

	/* The simulator inherits the master: it must survive exec. */
	assert_int_equal(fcntl(master, F_SETFD, 0), 0);
	(void)snprintf(fd_path, sizeof(fd_path), "/dev/fd/%d", master);
	if (simproc_start(&p, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim --tty (see stderr)");
	return p;
}

static int group_setup(void **state)
{
	static const char *const eth_args[] = {"--eth",    "127.0.10.113", "--count", "4",
	                                       "--serial", "8100",         NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	unsetenv("AXLINK_DB");
	unsetenv("AXLINK_ETH_TARGETS");
	unsetenv("AXLINK_SERIAL_TARGETS");
	setenv("XDG_DATA_HOME", "/nonexistent/axlink-test-xdg", 1);
	if (serial_rig_new(&f->rig, rig_ports, 2) < 0)
		fail_msg("cannot set up the emulated serial ports (see stderr)");
	f->tty[0] = start_tty_sim(f, 0, "8000", "axs-100");
	f->tty[1] = start_tty_sim(f, 1, "8001", "axs-200");
	if (simproc_start(&f->eth, eth_args, N_ETH, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim --eth (see stderr)");
	/* Exactly eth and serial: USB would find nothing here, but costs a scan. */
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	if (ax_ctx_new(&f->ctx, &opts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	load_plugin(f->ctx, "eth");
	load_plugin(f->ctx, "serial");
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	int rc = 0;

	if (!f)
		return -1;
	ax_ctx_unref(f->ctx);
	rc |= simproc_stop(f->eth);
	rc |= simproc_stop(f->tty[0]);
	rc |= simproc_stop(f->tty[1]);
	serial_rig_free(f->rig);
	free(f);
	return rc == 0 ? 0 : -1;
}

static int on_found(const ax_discover_result *r, void *userdata)
{
	struct seen *s = userdata;
	struct found *d;

	if (s->n >= sizeof(s->f) / sizeof(s->f[0]))
		return 0;
	d = &s->f[s->n++];
	(void)snprintf(d->uri, sizeof(d->uri), "%s", r->uri);
	(void)snprintf(d->stable, sizeof(d->stable), "%s", r->stable_uri);
	(void)snprintf(d->transport, sizeof(d->transport), "%s", r->transport);
	(void)snprintf(d->model, sizeof(d->model), "%s", r->model);
	d->serial = r->serial;
	d->product = r->product_code;
	d->elapsed_ms = r->elapsed_ms;
	d->access = r->access;
	d->match = r->match;
	return 0;
}

static const struct found *by_uri(const struct seen *s, const char *uri)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].uri, uri))
			return &s->f[i];
	fail_msg("'%s' was not found (%zu results)", uri, s->n);
	return NULL;
}

static void check_all(const struct seen *s)
{
	const struct found *d;
	char uri[64], stable[64];

	assert_int_equal(s->n, N_ETH + 2);
	for (unsigned i = 0; i < N_ETH; i++) {
		(void)snprintf(uri, sizeof(uri), "eth://127.0.10.%u:1061", 113 + i);
		d = by_uri(s, uri);
		assert_string_equal(d->transport, "eth");
		assert_int_equal(d->serial, ETH_SERIAL + i);
		assert_string_equal(d->model, "axs-100");
		assert_int_equal(d->match, AX_MATCH_EXACT);
	}
	d = by_uri(s, "serial:/dev/ttyUSB0");
	assert_string_equal(d->transport, "serial");
	assert_int_equal(d->access, AX_ACCESS_OK);
	assert_int_equal(d->serial, 8000);
	assert_int_equal(d->product, AXS100_PRODUCT);
	assert_string_equal(d->model, "axs-100");
	assert_int_equal(d->match, AX_MATCH_EXACT);
	d = by_uri(s, "serial:/dev/ttyUSB1");
	assert_int_equal(d->serial, 8001);
	assert_int_equal(d->product, AXS200_PRODUCT);
	assert_string_equal(d->model, "axs-200");
	assert_int_equal(d->match, AX_MATCH_EXACT);
	(void)snprintf(stable, sizeof(stable), "axlink://A71C/%08X/8001", AXS200_PRODUCT);
	assert_string_equal(d->stable, stable);
	for (size_t i = 0; i < s->n; i++)
		assert_true(s->f[i].elapsed_ms < AX_DISCOVER_DEFAULT_TIMEOUT_MS);
}

/* One call, both buses, every drive with its identity and dictionary, in time. */
static void test_discover_mixed__one_call_finds_all(void **state)
{
	struct fixture *f = *state;
	struct seen s = {0};
	uint64_t t0 = now_ms();

	assert_int_equal(ax_discover(f->ctx, ETH_SPEC ",serial", NULL, on_found, &s), N_ETH + 2);
	assert_true(now_ms() - t0 < AX_DISCOVER_DEFAULT_TIMEOUT_MS + SLACK_MS);
	check_all(&s);

	/* No spec: every transport with its defaults, Ethernet where the environment says. */
	memset(&s, 0, sizeof(s));
	setenv("AXLINK_ETH_TARGETS", "127.0.10.112/29", 1);
	assert_int_equal(ax_discover(f->ctx, NULL, NULL, on_found, &s), N_ETH + 2);
	unsetenv("AXLINK_ETH_TARGETS");
	check_all(&s);
}

/* A stable URI finds its drive whichever bus it is on. */
static void test_discover_mixed__stable_uri_across_buses(void **state)
{
	struct fixture *f = *state;
	char *loc = NULL, uri[96];
	ax_drive *d = NULL;

	(void)snprintf(uri, sizeof(uri), "axlink://A71C/%08X/8001?via=%s,serial", AXS200_PRODUCT,
	               ETH_SPEC);
	assert_int_equal(ax_discover_locate(&loc, f->ctx, uri, 0), 0);
	assert_string_equal(loc, "serial:/dev/ttyUSB1");
	ax_free(loc);
	assert_int_equal(ax_drive_open(&d, f->ctx, uri, NULL), 0);
	assert_string_equal(ax_drive_uri(d), "serial:/dev/ttyUSB1");
	assert_int_equal(ax_drive_axes(d), 2);
	d = ax_drive_unref(d);
	(void)snprintf(uri, sizeof(uri), "axlink://A71C/%08X/8102?via=%s,serial", AXS100_PRODUCT,
	               ETH_SPEC);
	assert_int_equal(ax_discover_locate(&loc, f->ctx, uri, 0), 0);
	assert_string_equal(loc, "eth://127.0.10.115:1061");
	ax_free(loc);
}

struct watch {
	pthread_mutex_t lock;
	char answered[8][64], removed[8][64];
	int n_answered, n_removed;
	int unplugged;
	ax_cancel *cancel;
	serial_rig *rig;
};

/*
 * Was @uri seen answering? Other ports of the machine (reported, not
 * probed) may come too, and a port an earlier discovery still holds may
 * first be busy, then changed.
 */
static int answered(const struct watch *w, const char *uri)
{
	for (int i = 0; i < w->n_answered; i++)
		if (!strcmp(w->answered[i], uri))
			return 1;
	return 0;
}

static int on_event(int event, const ax_discover_result *r, void *userdata)
{
	struct watch *w = userdata;

	pthread_mutex_lock(&w->lock);
	if ((event == AX_MONITOR_ADDED || event == AX_MONITOR_CHANGED) &&
	    r->access == AX_ACCESS_OK && w->n_answered < 8)
		(void)snprintf(w->answered[w->n_answered++], 64, "%s", r->uri);
	if (event == AX_MONITOR_REMOVED && w->n_removed < 8)
		(void)snprintf(w->removed[w->n_removed++], 64, "%s", r->uri);
	/* Both adapters seen: unplug the second, as a user pulls the cable. */
	if (answered(w, "serial:/dev/ttyUSB0") && answered(w, "serial:/dev/ttyUSB1") &&
	    !w->unplugged) {
		w->unplugged = 1;
		(void)serial_rig_unplug(w->rig, 1);
	}
	if (event == AX_MONITOR_REMOVED)
		ax_cancel_trigger(w->cancel);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

/* Cancels a monitor that never sees what it waits for, so the test fails instead of hanging. */
static void *watchdog(void *arg)
{
	struct watch *w = arg;

	for (int i = 0; i < 800 && !ax_cancel_requested(w->cancel); i++) {
		struct timespec ts = {0, 10000000L};

		nanosleep(&ts, NULL);
	}
	ax_cancel_trigger(w->cancel);
	return NULL;
}

/* Serial ports appearing and disappearing are hot-plug events; this test goes last. */
static void test_discover_mixed__unplugged_port_is_removed(void **state)
{
	struct fixture *f = *state;
	ax_monitor_options o = AX_MONITOR_OPTIONS_INIT;
	struct watch w;
	pthread_t dog;

	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.lock, NULL);
	w.rig = f->rig;
	assert_int_equal(ax_cancel_new(&w.cancel), 0);
	o.period_ms = 200;
	o.misses = 1;
	o.cancel = w.cancel;
	assert_int_equal(pthread_create(&dog, NULL, watchdog, &w), 0);
	/* The callback cancels once the removal came; the watchdog after 8 s. */
	assert_int_equal(ax_monitor(f->ctx, "serial", &o, on_event, &w), 0);
	assert_int_equal(pthread_join(dog, NULL), 0);
	assert_true(answered(&w, "serial:/dev/ttyUSB0"));
	assert_true(answered(&w, "serial:/dev/ttyUSB1"));
	assert_int_equal(w.n_removed, 1);
	assert_string_equal(w.removed[0], "serial:/dev/ttyUSB1");
	ax_cancel_unref(w.cancel);
	pthread_mutex_destroy(&w.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_discover_mixed__one_call_finds_all),
	        cmocka_unit_test(test_discover_mixed__stable_uri_across_buses),
	        cmocka_unit_test(test_discover_mixed__unplugged_port_is_removed),
	};

	return cmocka_run_group_tests_name("discover_mixed", tests, group_setup, group_teardown);
}
