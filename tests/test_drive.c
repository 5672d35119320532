/* SPDX-License-Identifier: MIT */
/*
 * Drives end to end: the virtual plugin, the identity it reports, the
 * dictionary found in the build tree's devices.db or named as a file, and
 * register access by name with conversions. One eth test serves the
 * simulated drive (src/sim) over a real UDP socket on 127.0.13.1:1061.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "simdrive.h"
#include "testctx.h"

#define AXS100_PRODUCT 0x00010064u

static int setup(void **state)
{
	/* Only the build tree's installed-location database: no user or AXLINK_DB file. */
	unsetenv("AXLINK_DB");
	setenv("XDG_DATA_HOME", "/nonexistent/axlink-test-xdg", 1);
	*state = new_ctx();
	return 0;
}

static int teardown(void **state)
{
	ax_ctx_unref(*state);
	return 0;
}

static void test_drive__open_resolves_dictionary(void **state)
{
	ax_drive *d = NULL;
	const ax_dict_identity *di;

	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=31", NULL), 0);
	assert_int_equal(ax_drive_identity(d)->product_code, AXS100_PRODUCT);
	assert_int_equal(ax_drive_identity(d)->serial, 31);
	assert_non_null(ax_drive_dict(d));
	di = ax_dict_identity_get(ax_drive_dict(d));
	assert_int_equal(di->product_code, AXS100_PRODUCT);
	assert_int_equal(ax_drive_match(d), AX_MATCH_EXACT);
	assert_non_null(strstr(ax_drive_match_reason(d), "exact"));
	assert_int_equal(ax_drive_axes(d), 1);
	assert_string_equal(ax_drive_uri(d), "virtual:?serial=31");
	assert_string_equal(ax_link_scheme(ax_drive_link(d)), "virtual");
	d = ax_drive_unref(d);

	assert_int_equal(ax_drive_open(&d, *state, "virtual:?model=axs-200", NULL), 0);
	assert_int_equal(ax_drive_axes(d), 2);
	assert_string_equal(ax_dict_identity_get(ax_drive_dict(d))->name, "axs-200");
	d = ax_drive_unref(d);
}

static void test_drive__same_uri_same_drive(void **state)
{
	ax_drive *a = NULL, *b = NULL, *c = NULL;

	assert_int_equal(ax_drive_open(&a, *state, "virtual:?serial=5", NULL), 0);
	assert_int_equal(ax_drive_open(&b, *state, "virtual:?serial=5", NULL), 0);
	assert_ptr_equal(a, b);
	/* State written through one handle is seen through the other: one drive. */
	assert_int_equal(ax_drive_write_i64(a, "CL_POS_SET_POINT_VALUE", 1, 1234), 0);
	{
		int64_t v = 0;

		assert_int_equal(ax_drive_read_i64(b, "CL_POS_SET_POINT_VALUE", 1, &v), 0);
		assert_int_equal(v, 1234);
	}
	assert_int_equal(ax_drive_open(&c, *state, "virtual:?serial=6", NULL), 0);
	assert_ptr_not_equal(a, c);
	a = ax_drive_unref(a);
	/* b still holds it: still usable. */
	assert_int_equal(ax_drive_identity(b)->serial, 5);
	b = ax_drive_unref(b);
	c = ax_drive_unref(c);
	assert_null(ax_drive_unref(NULL));
}

/*
 * Options that make another drive (no dictionary, another file, a file under
 * other checks) give another drive, on the link already open there; the same
 * options, however the file is spelled, give the same drive.
 */
static void test_drive__other_options_other_drive(void **state)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	ax_drive *a = NULL, *b = NULL, *c = NULL, *f = NULL, *g = NULL, *h = NULL;
	int32_t raw = 0;
	int64_t v = 0;

	assert_int_equal(ax_drive_open(&a, *state, "virtual:?serial=15", NULL), 0);
	assert_non_null(ax_drive_dict(a));

	opts.flags = AX_DRIVE_NO_DICT;
	assert_int_equal(ax_drive_open(&b, *state, "virtual:?serial=15", &opts), 0);
	assert_ptr_not_equal(a, b);
	assert_null(ax_drive_dict(b));
	assert_int_equal(ax_drive_match(b), AX_MATCH_NONE);
	/* One endpoint, one link: what one drive writes, the other reads. */
	assert_ptr_equal(ax_drive_link(a), ax_drive_link(b));
	assert_int_equal(ax_drive_write_i64(a, "CL_POS_SET_POINT_VALUE", 1, 4321), 0);
	assert_int_equal(ax_link_read_s32(ax_drive_link(b), 1, 0x020, &raw), 0);
	assert_int_equal(raw, 4321);
	/* The same options again, the URI spelled otherwise: the same drive. */
	assert_int_equal(ax_drive_open(&c, *state, "virtual:?serial=15&model=axs-100", &opts), 0);
	assert_ptr_equal(b, c);
	c = ax_drive_unref(c);
	/* And the default options give back the first. */
	assert_int_equal(ax_drive_open(&c, *state, "virtual:?serial=15", NULL), 0);
	assert_ptr_equal(a, c);
	c = ax_drive_unref(c);

	/* Another model's file: its dictionary, not the databases'. */
	opts.flags = 0;
	opts.dictionary = AXLINK_DEVICES_DIR "/axs-200.xdf";
	assert_int_equal(ax_drive_open(&f, *state, "virtual:?serial=15", &opts), 0);
	assert_ptr_not_equal(f, a);
	assert_int_equal(ax_drive_match(f), AX_MATCH_FILE);
	assert_string_equal(ax_dict_identity_get(ax_drive_dict(f))->name, "axs-200");
	assert_ptr_equal(ax_drive_link(f), ax_drive_link(a));
	/* The same file spelled otherwise is the same drive. */
	opts.dictionary = AXLINK_DEVICES_DIR "/../devices/axs-200.xdf";
	assert_int_equal(ax_drive_open(&g, *state, "virtual:?serial=15", &opts), 0);
	assert_ptr_equal(f, g);
	g = ax_drive_unref(g);
	/* Under the strict check that file does not fit: the open fails, as it would alone. */
	opts.flags = AX_DRIVE_STRICT;
	assert_int_equal(ax_drive_open(&g, *state, "virtual:?serial=15", &opts), AX_ETYPE);
	assert_null(g);
	/* A file that fits, strict: a drive of its own. */
	opts.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_drive_open(&h, *state, "virtual:?serial=15", &opts), 0);
	assert_ptr_not_equal(h, a);
	assert_int_equal(ax_drive_match(h), AX_MATCH_FILE);

	/* Each outlives the others, and the link outlives the drive that opened it. */
	a = ax_drive_unref(a);
	assert_int_equal(ax_drive_read_i64(f, "CL_POS_SET_POINT_VALUE", 1, &v), 0);
	assert_int_equal(v, 4321);
	f = ax_drive_unref(f);
	assert_int_equal(ax_drive_read_i64(h, "CL_POS_SET_POINT_VALUE", 1, &v), 0);
	assert_int_equal(v, 4321);
	h = ax_drive_unref(h);
	b = ax_drive_unref(b);
}

static void test_drive__numbers_by_name(void **state)
{
	ax_drive *d = NULL;
	int64_t i = 0;
	double f = 0;

	assert_int_equal(ax_drive_open(&d, *state, "virtual:", NULL), 0);
	assert_int_equal(ax_drive_read_f64(d, "DRV_PROT_VBUS_VALUE", 1, &f), 0);
	assert_true(f == 48.0);
	assert_int_equal(ax_drive_read_i64(d, "DRV_PROT_VBUS_VALUE", 1, &i), 0);
	assert_int_equal(i, 48);
	assert_int_equal(ax_drive_write_i64(d, "CL_POS_SET_POINT_VALUE", 1, -5), 0);
	assert_int_equal(ax_drive_read_i64(d, "CL_POS_SET_POINT_VALUE", 1, &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, 2.5), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(f == 2.5);
	/* Integers of the float register and floats of an integer one. */
	assert_int_equal(ax_drive_write_i64(d, "CL_VEL_SET_POINT_VALUE", 1, 3), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(f == 3.0);
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, 7.0), 0);
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, 7.5), AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "CL_POS_SET_POINT_VALUE"));
	/* What does not fit the register's type never reaches the drive. */
	assert_int_equal(ax_drive_write_i64(d, "CL_POS_SET_POINT_VALUE", 1, 1LL << 40), AX_ERANGE);
	assert_int_equal(ax_drive_read_i64(d, "CL_POS_SET_POINT_VALUE", 1, &i), 0);
	assert_int_equal(i, 7);
	assert_int_equal(ax_drive_write_i64(d, "DRV_STATE_CONTROL", 1, -1), AX_ERANGE);
	/* Strings are not numbers; unknown ids are named. */
	assert_int_equal(ax_drive_read_i64(d, "DRV_APP_COCO_VERSION", 0, &i), AX_ETYPE);
	assert_int_equal(ax_drive_read_i64(d, "NO_SUCH_REGISTER", -1, &i), AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "NO_SUCH_REGISTER"));
	d = ax_drive_unref(d);
}

/*
 * What a float register cannot hold never reaches it by name: NaN and
 * infinity unless asked for, values beyond float, and values that would be
 * stored as 0. The register keeps what it had.
 */
static void test_drive__float_values_that_would_be_lost(void **state)
{
	static const double bad[] = {NAN, INFINITY, -INFINITY, 1e39, -1e39, 1e-50, -1e-50};
	ax_drive *d = NULL;
	double f = 0;

	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=41", NULL), 0);
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, 2.5), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, bad[i]) != AX_ERANGE)
			fail_msg("%g was written", bad[i]);
		if (!strstr(ax_error_last(), "CL_VEL_SET_POINT_VALUE"))
			fail_msg("%g: message '%s' names no register", bad[i], ax_error_last());
		assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
		assert_true(f == 2.5);
	}
	/* A subnormal keeps some of the value: written as the float nearest. */
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, 1e-40), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(f == (double)1e-40f && f != 0.0);
	/* Integers of an integer register given as doubles: exact, or refused. */
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, -2147483648.0), 0);
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, 2147483648.0),
	                 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "CL_POS_SET_POINT_VALUE"));
	assert_int_equal(ax_drive_write_f64(d, "CL_POS_SET_POINT_VALUE", 1, NAN), AX_ERANGE);
	d = ax_drive_unref(d);
}

/*
 * Bytes written to a float register by its dictionary entry: NaN and
 * infinity refused with or without a range, unless the caller passes
 * AX_VALUE_ALLOW_NONFINITE; the range still applies then.
 */
static void test_drive__nonfinite_bytes_by_register(void **state)
{
	static const uint8_t nan_bytes[4] = {0x00, 0x00, 0xc0, 0x7f};
	static const uint8_t inf_bytes[4] = {0x00, 0x00, 0x80, 0x7f};
	static const uint8_t ninf_bytes[4] = {0x00, 0x00, 0x80, 0xff};
	const uint8_t *bad[] = {nan_bytes, inf_bytes, ninf_bytes};
	const ax_reg *vel = NULL, *qs = NULL;
	const char *lo, *hi;
	ax_drive *d = NULL;
	ax_link *link;
	double f = 0;

	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=42", NULL), 0);
	link = ax_drive_link(d);
	assert_int_equal(ax_drive_find(d, "CL_VEL_SET_POINT_VALUE", 1, &vel), 0);
	assert_int_equal(ax_drive_find(d, "PROF_QUICK_STOP_DEC", 1, &qs), 0);
	assert_false(ax_reg_range(vel, &lo, &hi)); /* one without a range ... */
	assert_true(ax_reg_range(qs, &lo, &hi));   /* ... and one with */
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_SET_POINT_VALUE", 1, 2.5), 0);
	assert_int_equal(ax_drive_write_f64(d, "PROF_QUICK_STOP_DEC", 1, 500.0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ax_link_write_reg(link, vel, bad[i], 4), AX_ERANGE);
		assert_non_null(strstr(ax_error_last(), "CL_VEL_SET_POINT_VALUE"));
		assert_non_null(strstr(ax_error_last(), "not finite"));
		assert_int_equal(ax_link_write_reg(link, qs, bad[i], 4), AX_ERANGE);
		assert_non_null(strstr(ax_error_last(), "PROF_QUICK_STOP_DEC"));
		assert_non_null(strstr(ax_error_last(), "not finite"));
		assert_int_equal(ax_link_write_reg_flags(link, vel, bad[i], 4, 0), AX_ERANGE);
	}
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(f == 2.5);
	assert_int_equal(ax_drive_read_f64(d, "PROF_QUICK_STOP_DEC", 1, &f), 0);
	assert_true(f == 500.0);

	/* Asked for explicitly: written, and read back as such. */
	assert_int_equal(ax_link_write_reg_flags(link, vel, nan_bytes, 4, AX_VALUE_ALLOW_NONFINITE),
	                 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(isnan(f));
	assert_int_equal(
	        ax_link_write_reg_flags(link, vel, ninf_bytes, 4, AX_VALUE_ALLOW_NONFINITE), 0);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_SET_POINT_VALUE", 1, &f), 0);
	assert_true(isinf(f) && f < 0);
	/* The dictionary's range is not waived: NaN and infinity lie in no finite range. */
	assert_int_equal(ax_link_write_reg_flags(link, qs, inf_bytes, 4, AX_VALUE_ALLOW_NONFINITE),
	                 AX_ERANGE);
	assert_non_null(strstr(ax_error_last(), "range"));
	assert_int_equal(ax_link_write_reg_flags(link, vel, nan_bytes, 4, 0x100), AX_EINVAL);
	d = ax_drive_unref(d);
}

static void test_drive__no_dictionary(void **state)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;
	const ax_reg *reg = NULL;

	opts.flags = AX_DRIVE_NO_DICT;
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=8", &opts), 0);
	assert_null(ax_drive_dict(d));
	assert_int_equal(ax_drive_match(d), AX_MATCH_NONE);
	assert_int_equal(ax_drive_find(d, "CL_POS_FBK_VALUE", 1, &reg), AX_ENOTFOUND);
	assert_null(reg);
	assert_non_null(strstr(ax_error_last(), "axlink db import"));
	/* The axis count still comes from the drive itself. */
	assert_int_equal(ax_drive_axes(d), 1);
	d = ax_drive_unref(d);
}

static void test_drive__dictionary_file(void **state)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	ax_drive *d = NULL;

	opts.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=9", &opts), 0);
	assert_int_equal(ax_drive_match(d), AX_MATCH_FILE);
	assert_non_null(strstr(ax_drive_match_reason(d), "matches"));
	assert_string_equal(ax_dict_source(ax_drive_dict(d)), opts.dictionary);
	d = ax_drive_unref(d);

	/* Another model's file: a warning by default, an error when strict. */
	opts.dictionary = AXLINK_DEVICES_DIR "/axs-200.xdf";
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=10", &opts), 0);
	assert_non_null(strstr(ax_drive_match_reason(d), "differs"));
	d = ax_drive_unref(d);
	opts.flags = AX_DRIVE_STRICT;
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=11", &opts), AX_ETYPE);
	assert_null(d);
	assert_non_null(strstr(ax_error_last(), "0x000100C8"));
	assert_non_null(strstr(ax_error_last(), "0x00010064"));

	opts.dictionary = "/nonexistent/x.xdf";
	opts.flags = 0;
	assert_int_equal(ax_drive_open(&d, *state, "virtual:", &opts), AX_ENOTFOUND);
	assert_int_equal(ax_drive_open(&d, *state, "nope:", NULL), AX_ENOTFOUND);
	assert_null(d);
}

/*
 * A drive without identity registers (the test transport answers "object
 * does not exist" for them) opens with a named file only when the caller
 * allows it; it is then used by name through that file.
 */
static void test_drive__identity_optional_with_file(void **state)
{
	ax_drive_options opts = AX_DRIVE_OPTIONS_INIT;
	const char *uri = "testgood:?cells=16";
	uint8_t cell[4] = {0x78, 0x56, 0x34, 0x12};
	ax_drive *d = NULL;
	int64_t v = 0;

	assert_int_equal(
	        ax_ctx_load_plugin(*state, AXLINK_TEST_PLUGIN_DIR "/axlink-transport-testgood.so"),
	        0);
	opts.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_drive_open(&d, *state, uri, &opts), AX_EDRIVE);
	assert_null(d);
	/* The flag alone does not do: without a file the identity finds the dictionary. */
	opts.flags = AX_DRIVE_IDENTITY_OPTIONAL;
	opts.dictionary = NULL;
	assert_int_equal(ax_drive_open(&d, *state, uri, &opts), AX_EDRIVE);
	assert_null(d);

	opts.dictionary = AXLINK_DEVICES_DIR "/axs-100.xdf";
	assert_int_equal(ax_drive_open(&d, *state, uri, &opts), 0);
	assert_int_equal(ax_drive_identity(d)->known, 0);
	assert_int_equal(ax_drive_identity(d)->product_code, 0);
	assert_int_equal(ax_drive_match(d), AX_MATCH_FILE);
	assert_non_null(strstr(ax_drive_match_reason(d), "no identity"));
	assert_string_equal(ax_dict_source(ax_drive_dict(d)), opts.dictionary);
	assert_int_equal(ax_drive_axes(d), 1);
	/* DRV_DIAG_ERROR_LAST: subnode 1, 0x00F, s32, one of the transport's cells. */
	assert_int_equal(ax_link_write(ax_drive_link(d), 1, 0x00F, cell, sizeof(cell)), 0);
	assert_int_equal(ax_drive_read_i64(d, "DRV_DIAG_ERROR_LAST", 1, &v), 0);
	assert_int_equal(v, 0x12345678);
	d = ax_drive_unref(d);

	/* A drive that does report its identity is still checked against the file. */
	opts.flags = AX_DRIVE_IDENTITY_OPTIONAL | AX_DRIVE_STRICT;
	opts.dictionary = AXLINK_DEVICES_DIR "/axs-200.xdf";
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=12", &opts), AX_ETYPE);
	assert_null(d);
}

struct opener {
	ax_ctx *ctx;
	ax_drive *drive;
	int err;
};

static void *opener_main(void *arg)
{
	struct opener *o = arg;

	o->err = ax_drive_open(&o->drive, o->ctx, "virtual:?serial=77", NULL);
	return NULL;
}

/* Racing opens of one URI end with one drive, whoever wins. */
static void test_drive__concurrent_open(void **state)
{
	struct opener o[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		o[i] = (struct opener){.ctx = *state};
		assert_int_equal(pthread_create(&t[i], NULL, opener_main, &o[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(o[i].err, 0);
		assert_ptr_equal(o[i].drive, o[0].drive);
	}
	for (int i = 0; i < 4; i++)
		o[i].drive = ax_drive_unref(o[i].drive);
}

/* The drive keeps its link and context alive; any release order is fine. */
static void test_drive__release_order(void **state)
{
	ax_ctx *ctx = new_ctx();
	ax_drive *d = NULL;
	double f = 0;

	(void)state;
	assert_int_equal(ax_drive_open(&d, ctx, "virtual:", NULL), 0);
	ctx = ax_ctx_unref(ctx);
	assert_int_equal(ax_drive_read_f64(d, "DRV_PROT_VBUS_VALUE", 1, &f), 0);
	assert_true(f == 48.0);
	d = ax_drive_unref(d);
}

/* ---- one simulated drive on UDP, served by a thread of the test ---- */

#define UDP_SIM_ADDR "127.0.13.1"

struct udp_sim {
	int fd;
	simdrive *drive;
	atomic_int stop;
	pthread_t thread;
};

static void *udp_sim_main(void *arg)
{
	struct udp_sim *u = arg;
	uint8_t req[AX_MCB_MAX_FRAME], reply[AX_MCB_MAX_FRAME];

	while (!atomic_load(&u->stop)) {
		struct pollfd p = {.fd = u->fd, .events = POLLIN};
		struct sockaddr_in from;
		socklen_t from_len = sizeof(from);
		ssize_t n;
		size_t r;

		if (poll(&p, 1, 20) <= 0)
			continue;
		n = recvfrom(u->fd, req, sizeof(req), 0, (struct sockaddr *)&from, &from_len);
		if (n <= 0)
			continue;
		r = simdrive_handle(u->drive, req, (size_t)n, reply, sizeof(reply), NULL);
		if (r)
			(void)sendto(u->fd, reply, r, 0, (struct sockaddr *)&from, from_len);
	}
	return NULL;
}

static void udp_sim_start(struct udp_sim *u)
{
	static const simdrive_codec codec = {ax_mcb_encode, ax_mcb_decode};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(AX_MCB_UDP_PORT)};

	memset(u, 0, sizeof(*u));
	assert_int_equal(inet_pton(AF_INET, UDP_SIM_ADDR, &a.sin_addr), 1);
	assert_int_equal(simdrive_new(&u->drive, &codec, "axs-100", 1301), 0);
	u->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(u->fd >= 0);
	if (bind(u->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("bind %s:%d: %s", UDP_SIM_ADDR, AX_MCB_UDP_PORT, strerror(errno));
	atomic_init(&u->stop, 0);
	assert_int_equal(pthread_create(&u->thread, NULL, udp_sim_main, u), 0);
}

static void udp_sim_stop(struct udp_sim *u)
{
	atomic_store(&u->stop, 1);
	assert_int_equal(pthread_join(u->thread, NULL), 0);
	close(u->fd);
	simdrive_free(u->drive);
}

/*
 * One endpoint is one drive however its URI is spelled: the default port
 * written out or not, the scheme's and host's case, a key at its default.
 */
static void test_drive__one_drive_per_endpoint(void **state)
{
	static const char *const same[] = {
	        "eth://" UDP_SIM_ADDR ":1061",
	        "ETH://" UDP_SIM_ADDR,
	        "eth://" UDP_SIM_ADDR "?timeout_ms=1000",
	};
	struct udp_sim sim;
	ax_drive *a = NULL, *b = NULL;

	udp_sim_start(&sim);
	assert_int_equal(ax_drive_open(&a, *state, "eth://" UDP_SIM_ADDR, NULL), 0);
	assert_int_equal(ax_drive_identity(a)->serial, 1301);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		if (ax_drive_open(&b, *state, same[i], NULL) < 0)
			fail_msg("%s: %s", same[i], ax_error_last());
		if (b != a || ax_drive_link(b) != ax_drive_link(a))
			fail_msg("'%s' opened a second drive beside 'eth://%s'", same[i],
			         UDP_SIM_ADDR);
		b = ax_drive_unref(b);
	}
	/* The first spelling stays the drive's URI. */
	assert_string_equal(ax_drive_uri(a), "eth://" UDP_SIM_ADDR);
	a = ax_drive_unref(a);
	udp_sim_stop(&sim);
}

struct rounds {
	pthread_mutex_t lock; /* the log may come from any thread */
	int loads;            /* "loaded model" DEBUG lines */
	int found;
	ax_dict *dict[2]; /* each round's dictionary, kept */
	int round;
};

static void rounds_log(int level, const char *origin, const char *message, void *userdata)
{
	struct rounds *r = userdata;

	(void)origin;
	if (level == AX_LOG_DEBUG && !strncmp(message, "loaded model ", 13)) {
		pthread_mutex_lock(&r->lock);
		r->loads++;
		pthread_mutex_unlock(&r->lock);
	}
}

static int rounds_found(const ax_discover_result *res, void *userdata)
{
	struct rounds *r = userdata;

	if (res->access != AX_ACCESS_OK)
		return 0;
	r->found++;
	assert_int_equal(res->match, AX_MATCH_EXACT);
	assert_non_null(res->dict);
	assert_null(r->dict[r->round]);
	r->dict[r->round] = ax_dict_ref(res->dict);
	return 0;
}

/* Discovery rounds (and so ax_monitor's) take the context's dictionary, not SQLite's again. */
static void test_drive__discovery_rounds_reuse_dictionary(void **state)
{
	struct rounds r = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct udp_sim sim;
	ax_ctx *ctx = new_ctx();
	ax_drive *d = NULL;

	(void)state;
	udp_sim_start(&sim);
	ax_ctx_set_log(ctx, AX_LOG_DEBUG, rounds_log, &r);
	for (r.round = 0; r.round < 2; r.round++)
		if (ax_discover(ctx, "eth://" UDP_SIM_ADDR, NULL, rounds_found, &r) != 1)
			fail_msg("round %d: %s", r.round, ax_error_last());
	assert_int_equal(r.found, 2);
	assert_ptr_equal(r.dict[0], r.dict[1]);
	/* The drive opened from the result shares it too. */
	assert_int_equal(ax_drive_open(&d, ctx, "eth://" UDP_SIM_ADDR, NULL), 0);
	assert_ptr_equal(ax_drive_dict(d), r.dict[0]);
	pthread_mutex_lock(&r.lock);
	assert_int_equal(r.loads, 1);
	pthread_mutex_unlock(&r.lock);
	d = ax_drive_unref(d);
	ax_dict_unref(r.dict[0]);
	ax_dict_unref(r.dict[1]);
	ax_ctx_set_log(ctx, AX_LOG_NONE, NULL, NULL);
	ax_ctx_unref(ctx);
	udp_sim_stop(&sim);
}

/* Query keys in another order, or a key given its default, name the same drive too. */
static void test_drive__uri_spellings_same_drive(void **state)
{
	ax_drive *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	assert_int_equal(ax_drive_open(&a, *state, "virtual:?serial=41&model=axs-100", NULL), 0);
	assert_int_equal(ax_drive_open(&b, *state, "virtual:?model=axs-100&serial=41", NULL), 0);
	assert_int_equal(ax_drive_open(&c, *state, "virtual:?serial=41", NULL), 0);
	assert_ptr_equal(a, b);
	assert_ptr_equal(a, c);
	/* Another value is another drive. */
	assert_int_equal(ax_drive_open(&d, *state, "virtual:?serial=41&model=axs-200", NULL), 0);
	assert_ptr_not_equal(a, d);
	a = ax_drive_unref(a);
	b = ax_drive_unref(b);
	c = ax_drive_unref(c);
	d = ax_drive_unref(d);
}

/* Two drives of one model share one dictionary: resolved once, kept by the context. */
static void test_drive__same_model_shares_dictionary(void **state)
{
	ax_drive *a = NULL, *b = NULL, *c = NULL;

	assert_int_equal(ax_drive_open(&a, *state, "virtual:?serial=51", NULL), 0);
	assert_int_equal(ax_drive_open(&b, *state, "virtual:?serial=52", NULL), 0);
	assert_ptr_not_equal(a, b);
	assert_non_null(ax_drive_dict(a));
	assert_ptr_equal(ax_drive_dict(a), ax_drive_dict(b));
	/* Even after every drive of it is gone. */
	a = ax_drive_unref(a);
	assert_int_equal(ax_drive_open(&a, *state, "virtual:?serial=53", NULL), 0);
	assert_ptr_equal(ax_drive_dict(a), ax_drive_dict(b));
	/* Another model has its own. */
	assert_int_equal(ax_drive_open(&c, *state, "virtual:?serial=54&model=axs-200", NULL), 0);
	assert_ptr_not_equal(ax_drive_dict(a), ax_drive_dict(c));
	a = ax_drive_unref(a);
	b = ax_drive_unref(b);
	c = ax_drive_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_drive__open_resolves_dictionary),
	        cmocka_unit_test(test_drive__same_uri_same_drive),
	        cmocka_unit_test(test_drive__other_options_other_drive),
	        cmocka_unit_test(test_drive__numbers_by_name),
	        cmocka_unit_test(test_drive__float_values_that_would_be_lost),
	        cmocka_unit_test(test_drive__nonfinite_bytes_by_register),
	        cmocka_unit_test(test_drive__no_dictionary),
	        cmocka_unit_test(test_drive__dictionary_file),
	        cmocka_unit_test(test_drive__identity_optional_with_file),
	        cmocka_unit_test(test_drive__concurrent_open),
	        cmocka_unit_test(test_drive__release_order),
	        cmocka_unit_test(test_drive__one_drive_per_endpoint),
	        cmocka_unit_test(test_drive__uri_spellings_same_drive),
	        cmocka_unit_test(test_drive__same_model_shares_dictionary),
	        cmocka_unit_test(test_drive__discovery_rounds_reuse_dictionary),
	};
	return cmocka_run_group_tests_name("drive", tests, setup, teardown);
}
