/* SPDX-License-Identifier: MIT */
/*
 * Configuration files against simulated drives (virtual:, axs-100 and
 * axs-200): save, diff and load round trips, files in the form another
 * tool of the format writes, identity checks, and registers that cannot be
 * applied, each reported.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "testctx.h"

#define DATA AXLINK_TEST_DATA_DIR "/"

struct fixture {
	ax_ctx *ctx;
	char dir[64];
	char file_a[96], file_b[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	unsetenv("AXLINK_DB");
	setenv("XDG_DATA_HOME", "/nonexistent/axlink-test-xdg", 1);
	f->ctx = new_ctx();
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/axlink-config-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->file_a, sizeof(f->file_a), "%s/a.xcf", f->dir);
	(void)snprintf(f->file_b, sizeof(f->file_b), "%s/b.xcf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	(void)unlink(f->file_a);
	(void)unlink(f->file_b);
	(void)rmdir(f->dir);
	ax_ctx_unref(f->ctx);
	free(f);
	return 0;
}

static ax_drive *open_drive(struct fixture *f, const char *uri)
{
	ax_drive *d = NULL;

	if (ax_drive_open(&d, f->ctx, uri, NULL) < 0)
		fail_msg("open '%s': %s", uri, ax_error_last());
	return d;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* Index of (id, subnode) in the report; fails the test when absent. */
static size_t find_entry(const ax_config_report *r, const char *id, int subnode)
{
	for (size_t i = 0; i < ax_config_report_count(r); i++) {
		const char *eid;
		int sn;

		assert_int_equal(ax_config_report_at(r, i, &eid, &sn, NULL), 0);
		if (!strcmp(eid, id) && sn == subnode)
			return i;
	}
	fail_msg("no report entry for %s subnode %d", id, subnode);
	return 0;
}

static int status_of(const ax_config_report *r, const char *id, int subnode)
{
	int st = 0;

	assert_int_equal(ax_config_report_at(r, find_entry(r, id, subnode), NULL, NULL, &st), 0);
	return st;
}

static void write_user_data(ax_drive *d, uint8_t fill)
{
	const ax_reg *reg;
	uint8_t buf[512];

	memset(buf, 0, sizeof(buf));
	memset(buf, fill, 16);
	assert_int_equal(ax_drive_find(d, "DRV_USER_DATA", 0, &reg), 0);
	assert_int_equal(ax_link_write_reg(ax_drive_link(d), reg, buf, sizeof(buf)), 0);
}

/*
 * The round trip: save A, change three registers on A, diff names
 * exactly those three; load the file into B (same model) and B's
 * configuration equals what A saved.
 */
static void test_config__save_diff_load_round_trip(void **state)
{
	struct fixture *f = *state;
	ax_drive *a = open_drive(f, "virtual:?serial=181");
	ax_drive *b = open_drive(f, "virtual:?serial=182");
	ax_config_report *r = NULL;
	const char *id;
	int n, sn, st;
	char *fa, *fb;
	double kp;

	/* A is tuned away from the defaults B still has. */
	assert_int_equal(ax_drive_write_f64(a, "CL_VEL_PID_KP", 1, 0.75), 0);
	assert_int_equal(ax_drive_write_i64(a, "COMMS_WATCHDOG_TIMEOUT", 0, 250), 0);
	assert_int_equal(ax_drive_write_i64(a, "HOM_OFFSET", 1, -1200), 0);
	write_user_data(a, 0xA5);

	n = ax_config_save(a, f->file_a, AX_CONFIG_ALL, 0);
	if (n < 0)
		fail_msg("save: %s", ax_error_last());
	assert_true(n > 60);

	/* Unchanged drive: no difference. */
	assert_int_equal(ax_config_diff(a, f->file_a, AX_CONFIG_ALL, 0, &r), 0);
	assert_int_equal(ax_config_report_count(r), (size_t)n);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_UNCHANGED), (size_t)n);
	ax_config_report_free(r);

	/* Three changes on A: the diff names exactly those three. */
	assert_int_equal(ax_drive_write_i64(a, "MOT_PAIR_POLES", 1, 7), 0);
	assert_int_equal(ax_drive_write_f64(a, "PROF_MAX_VEL", 1, 12.5), 0);
	write_user_data(a, 0x11);
	r = NULL;
	assert_int_equal(ax_config_diff(a, f->file_a, AX_CONFIG_ALL, 0, &r), 3);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_DIFFERENT), 3);
	assert_int_equal(status_of(r, "MOT_PAIR_POLES", 1), AX_CONFIG_DIFFERENT);
	assert_int_equal(status_of(r, "PROF_MAX_VEL", 1), AX_CONFIG_DIFFERENT);
	assert_int_equal(status_of(r, "DRV_USER_DATA", 0), AX_CONFIG_DIFFERENT);
	assert_string_equal(ax_config_report_drive_value(r, find_entry(r, "MOT_PAIR_POLES", 1)),
	                    "7");
	assert_string_equal(ax_config_report_file_value(r, find_entry(r, "PROF_MAX_VEL", 1)),
	                    "10.0");
	assert_string_equal(ax_config_report_drive_value(r, find_entry(r, "PROF_MAX_VEL", 1)),
	                    "12.5");
	ax_config_report_free(r);

	/* Load into B: what differed is written, the rest unchanged; B = A's saved config. */
	r = NULL;
	if (ax_config_load(b, f->file_a, AX_CONFIG_ALL, 0, &r) < 0)
		fail_msg("load: %s", ax_error_last());
	assert_int_equal(ax_config_report_count(r), (size_t)n);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_WRITTEN), 4);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_UNCHANGED), (size_t)n - 4);
	assert_int_equal(status_of(r, "CL_VEL_PID_KP", 1), AX_CONFIG_WRITTEN);
	assert_int_equal(status_of(r, "DRV_USER_DATA", 0), AX_CONFIG_WRITTEN);
	/* Dictionary order: subnode 0's registers come first in axs-100. */
	assert_int_equal(ax_config_report_at(r, 0, &id, &sn, &st), 0);
	assert_int_equal(sn, 0);
	ax_config_report_free(r);
	assert_int_equal(ax_drive_read_f64(b, "CL_VEL_PID_KP", 1, &kp), 0);
	assert_true(kp == 0.75);
	assert_int_equal(ax_config_diff(b, f->file_a, AX_CONFIG_ALL, 0, NULL), 0);
	assert_true(ax_config_save(b, f->file_b, AX_CONFIG_ALL, 0) == n);
	fa = slurp(f->file_a);
	fb = slurp(f->file_b);
	assert_string_equal(fa, fb);
	assert_non_null(strstr(fa, "<Version>2</Version>"));
	assert_non_null(strstr(fa, "ProductCode=\"65636\""));
	assert_non_null(strstr(fa, "RevisionNumber=\"65538\""));
	assert_non_null(strstr(fa, "<Register access=\"rw\" dtype=\"float\" id=\"CL_VEL_PID_KP\" "
	                           "subnode=\"1\" storage=\"0.75\"/>"));
	assert_non_null(strstr(fa, "dtype=\"byteArray512\" id=\"DRV_USER_DATA\" subnode=\"0\" "
	                           "storage=\"a5a5a5a5"));
	assert_non_null(strstr(fa, "data=\"a5a5a5a5"));
	free(fa);
	free(fb);

	/* One axis only. */
	n = ax_config_save(a, f->file_b, 0, 0);
	assert_int_equal(n, 2);
	assert_int_equal(ax_config_diff(a, f->file_a, 0, 0, NULL), 1);
	ax_drive_unref(a);
	ax_drive_unref(b);
}

/* A file in the form ingenialink writes: Version 2.2, tabs, Tables, extra attributes. */
static void test_config__foreign_file_loads(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, "virtual:?serial=183");
	ax_config_report *r = NULL;
	int64_t v;
	double kp;
	size_t i;
	int err;

	err = ax_config_load(d, DATA "ingenialink_axs100.xcf", AX_CONFIG_ALL, 0, &r);
	/* FOREIGN_REGISTER is not in the dictionary: reported, and the call fails. */
	assert_int_equal(err, AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "1 of 5 registers not applied"));
	assert_non_null(strstr(ax_error_last(), "FOREIGN_REGISTER"));
	assert_int_equal(ax_config_report_count(r), 5);
	assert_int_equal(status_of(r, "FOREIGN_REGISTER", 1), AX_CONFIG_NOT_IN_DICT);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_WRITTEN), 4);
	/* data wins over storage. */
	i = find_entry(r, "MOT_PAIR_POLES", 1);
	assert_string_equal(ax_config_report_file_value(r, i), "7");
	ax_config_report_free(r);
	assert_int_equal(ax_drive_read_i64(d, "MOT_PAIR_POLES", 1, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ax_drive_read_i64(d, "HOM_OFFSET", 1, &v), 0);
	assert_int_equal(v, -1200);
	assert_int_equal(ax_drive_read_i64(d, "COMMS_WATCHDOG_TIMEOUT", 0, &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(ax_drive_read_f64(d, "CL_VEL_PID_KP", 1, &kp), 0);
	assert_true(kp == 0.75);
	ax_drive_unref(d);
}

/* Refused, invalid and applied registers side by side: all tried, all reported. */
static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* AX_CONFIG_UPDATE rewrites a file it did not write and keeps what it does not know. */
static void test_config__update_keeps_unknown_content(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, "virtual:?serial=188");
	ax_drive *other = open_drive(f, "virtual:?model=axs-200&serial=189");
	char *src = slurp(DATA "ingenialink_axs100.xcf"), *out;
	FILE *fp = fopen(f->file_a, "w");
	int n;

	assert_non_null(fp);
	assert_int_equal(fputs(src, fp) >= 0, 1);
	fclose(fp);
	assert_int_equal(ax_drive_write_f64(d, "CL_VEL_PID_KP", 1, 0.25), 0);
	n = ax_config_save(d, f->file_a, AX_CONFIG_ALL, AX_CONFIG_UPDATE);
	if (n < 0)
		fail_msg("update: %s", ax_error_last());
	out = slurp(f->file_a);
	/* Kept: the file's version, unknown attributes, Tables, a register we do not have. */
	assert_non_null(strstr(out, "<Version>2.2</Version>"));
	assert_non_null(strstr(out, "Vendor=\"someone\""));
	assert_non_null(strstr(out, "storage=\"0.25\" comment=\"tuned on the bench\""));
	assert_non_null(strstr(out, "<Table id=\"DRV_DIAG_ERROR_LIST\" subnode=\"0\">"));
	assert_non_null(strstr(out, "id=\"FOREIGN_REGISTER\" subnode=\"1\" storage=\"3\""));
	/* data, which wins over storage, now says the drive's value too. */
	assert_non_null(strstr(out, "id=\"MOT_PAIR_POLES\" subnode=\"1\" storage=\"4\" "
	                            "data=\"0400\""));
	/* Every configuration register once, plus the foreign one. */
	assert_int_equal(count_of(out, "<Register "), (size_t)n + 1);
	assert_int_equal(count_of(out, "id=\"CL_VEL_PID_KP\""), 1);
	free(out);
	/* What it wrote loads back into the drive it came from as all unchanged. */
	assert_int_equal(ax_config_diff(d, f->file_a, 1, 0, NULL), 1); /* FOREIGN_REGISTER */

	/* Another product's drive does not overwrite the file. */
	assert_int_equal(ax_config_save(other, f->file_a, AX_CONFIG_ALL, AX_CONFIG_UPDATE),
	                 AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "not updating"));
	/* No file yet: a plain save. */
	assert_int_equal(ax_config_save(d, f->file_b, AX_CONFIG_ALL, AX_CONFIG_UPDATE), n);
	free(src);
	ax_drive_unref(d);
	ax_drive_unref(other);
}

static void test_config__failures_reported(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, "virtual:?serial=184");
	ax_config_report *r = NULL;
	size_t i;
	int64_t v;
	int err;

	err = ax_config_load(d, DATA "bad_values.xcf", AX_CONFIG_ALL, 0, &r);
	/* The first failure in dictionary order is the call's error. */
	assert_int_equal(err, AX_EINVAL);
	assert_non_null(
	        strstr(ax_error_last(), "3 of 5 registers not applied; first 'IO_IN2_FUNC'"));
	assert_non_null(r);
	assert_int_equal(status_of(r, "IO_IN1_FUNC", 1), AX_CONFIG_WRITTEN);
	assert_int_equal(status_of(r, "IO_IN3_FUNC", 1), AX_CONFIG_WRITTEN);
	i = find_entry(r, "MOT_PAIR_POLES", 1);
	assert_int_equal(status_of(r, "MOT_PAIR_POLES", 1), AX_CONFIG_REFUSED);
	assert_int_equal(ax_config_report_error(r, i), AX_ERANGE);
	assert_non_null(strstr(ax_config_report_message(r, i), "64"));
	i = find_entry(r, "MOT_BRAKE_MODE", 1);
	assert_int_equal(status_of(r, "MOT_BRAKE_MODE", 1), AX_CONFIG_INVALID);
	assert_int_equal(ax_config_report_error(r, i), AX_ETYPE);
	i = find_entry(r, "IO_IN2_FUNC", 1);
	assert_int_equal(status_of(r, "IO_IN2_FUNC", 1), AX_CONFIG_INVALID);
	assert_non_null(strstr(ax_config_report_message(r, i), "many"));
	assert_string_equal(ax_config_status_name(AX_CONFIG_INVALID), "invalid");
	assert_null(ax_config_status_name(0));
	ax_config_report_free(r);
	assert_int_equal(ax_drive_read_i64(d, "MOT_PAIR_POLES", 1, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(ax_drive_read_i64(d, "IO_IN3_FUNC", 1, &v), 0);
	assert_int_equal(v, 3);
	ax_drive_unref(d);
}

static void test_config__identity_checked(void **state)
{
	struct fixture *f = *state;
	ax_drive *a = open_drive(f, "virtual:?serial=185");
	ax_drive *other = open_drive(f, "virtual:?model=axs-200&serial=186");
	ax_config_report *r = (ax_config_report *)1;

	assert_true(ax_config_save(a, f->file_a, AX_CONFIG_ALL, 0) > 0);
	/* Another product: refused before any register is touched, no report. */
	assert_int_equal(ax_config_load(other, f->file_a, AX_CONFIG_ALL, 0, &r), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "product code 0x00010064"));
	assert_ptr_equal(r, (ax_config_report *)1);
	assert_int_equal(ax_config_diff(other, f->file_a, AX_CONFIG_ALL, 0, NULL), AX_EINVAL);

	/* Another revision: refused unless allowed. */
	assert_int_equal(ax_config_load(a, DATA "other_revision.xcf", AX_CONFIG_ALL, 0, NULL),
	                 AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "revision 0x00010001"));
	r = NULL;
	assert_int_equal(ax_config_load(a, DATA "other_revision.xcf", AX_CONFIG_ALL,
	                                AX_CONFIG_ALLOW_REVISION, &r),
	                 0);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_WRITTEN), 4);
	ax_config_report_free(r);

	/* Flags and subnodes out of range. */
	assert_int_equal(ax_config_load(a, f->file_a, AX_CONFIG_ALL, 0x80, NULL), AX_EINVAL);
	assert_int_equal(ax_config_save(a, f->file_a, 256, 0), AX_EINVAL);
	assert_int_equal(ax_config_save(a, f->file_a, 9, 0), AX_ENOTFOUND);
	ax_drive_unref(a);
	ax_drive_unref(other);
}

static void test_config__not_a_configuration(void **state)
{
	struct fixture *f = *state;
	ax_drive *d = open_drive(f, "virtual:?serial=187");
	ax_config_report *r = NULL;

	assert_int_equal(ax_config_load(d, AXLINK_DEVICES_DIR "/axs-200.xdf", AX_CONFIG_ALL, 0, &r),
	                 AX_EFORMAT);
	assert_non_null(strstr(ax_error_last(), "not a configuration file"));
	assert_null(r);
	assert_int_equal(ax_config_load(d, DATA "malformed.xdf", AX_CONFIG_ALL, 0, &r), AX_EFORMAT);
	assert_non_null(strstr(ax_error_last(), "malformed XML"));
	assert_int_equal(ax_config_load(d, DATA "billion_laughs.xdf", AX_CONFIG_ALL, 0, &r),
	                 AX_EFORMAT);
	assert_int_equal(ax_config_diff(d, DATA "no-such.xcf", AX_CONFIG_ALL, 0, &r), AX_ENOTFOUND);
	assert_null(r);
	/* A save into a folder that does not exist leaves nothing behind. */
	assert_int_equal(ax_config_save(d, "/nonexistent/x.xcf", AX_CONFIG_ALL, 0), AX_EIO);
	ax_drive_unref(d);
}

/* Triggers a cancel once the link has written @after registers (TRACE "wrote ..." lines). */
struct cancel_after {
	ax_cancel *cancel;
	int writes, after;
};

static void cancel_after_log(int level, const char *origin, const char *message, void *userdata)
{
	struct cancel_after *ca = userdata;

	(void)origin;
	if (level == AX_LOG_TRACE && !strncmp(message, "wrote ", 6) && ++ca->writes == ca->after)
		ax_cancel_trigger(ca->cancel);
}

/*
 * A cancel stops a load between registers: before the first write nothing
 * is written; after it, the registers written are counted, the rest are
 * skipped and the drive holds exactly that part of the file.
 */
static void test_config__load_cancel_stops_between_registers(void **state)
{
	struct fixture *f = *state;
	ax_drive *a = open_drive(f, "virtual:?serial=185");
	ax_drive *b = open_drive(f, "virtual:?serial=186");
	struct cancel_after ca = {NULL, 0, 2};
	ax_config_report *r = NULL;
	size_t n;
	char want[96];

	assert_int_equal(ax_cancel_new(&ca.cancel), 0);
	/* Four registers of A differ from B's defaults. */
	assert_int_equal(ax_drive_write_f64(a, "CL_VEL_PID_KP", 1, 0.75), 0);
	assert_int_equal(ax_drive_write_i64(a, "COMMS_WATCHDOG_TIMEOUT", 0, 250), 0);
	assert_int_equal(ax_drive_write_i64(a, "HOM_OFFSET", 1, -1200), 0);
	write_user_data(a, 0x5A);
	assert_true(ax_config_save(a, f->file_a, AX_CONFIG_ALL, 0) > 4);
	assert_int_equal(ax_config_diff(b, f->file_a, AX_CONFIG_ALL, 0, NULL), 4);

	/* Cancelled before it starts: nothing written, every register skipped. */
	ax_cancel_trigger(ca.cancel);
	assert_int_equal(ax_config_load_cancel(b, f->file_a, AX_CONFIG_ALL, 0, ca.cancel, &r),
	                 AX_ECANCELED);
	assert_non_null(strstr(ax_error_last(), "cancelled before the first write"));
	assert_non_null(r);
	n = ax_config_report_count(r);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_SKIPPED), n);
	ax_config_report_free(r);
	r = NULL;
	assert_int_equal(ax_config_diff(b, f->file_a, AX_CONFIG_ALL, 0, NULL), 4);

	/* Cancelled after the second write: that register is read back, then it stops. */
	ax_cancel_reset(ca.cancel);
	ax_ctx_set_log(f->ctx, AX_LOG_TRACE, cancel_after_log, &ca);
	assert_int_equal(ax_config_load_cancel(b, f->file_a, AX_CONFIG_ALL, 0, ca.cancel, &r),
	                 AX_ECANCELED);
	ax_ctx_set_log(f->ctx, AX_LOG_WARN, NULL, NULL);
	(void)snprintf(want, sizeof(want), "cancelled after writing 2 of %zu registers", n);
	assert_non_null(strstr(ax_error_last(), want));
	assert_non_null(strstr(ax_error_last(), "the drive now holds a partial configuration"));
	assert_int_equal(ca.writes, 2);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_WRITTEN), 2);
	assert_int_equal(ax_config_report_tally(r, AX_CONFIG_SKIPPED) +
	                         ax_config_report_tally(r, AX_CONFIG_UNCHANGED),
	                 n - 2);
	assert_true(ax_config_report_tally(r, AX_CONFIG_SKIPPED) > 0);
	ax_config_report_free(r);
	/* The drive has the two written; the other two still differ. */
	assert_int_equal(ax_config_diff(b, f->file_a, AX_CONFIG_ALL, 0, NULL), 2);

	/* Not cancelled: the rest loads. */
	ax_cancel_reset(ca.cancel);
	assert_int_equal(ax_config_load_cancel(b, f->file_a, AX_CONFIG_ALL, 0, ca.cancel, NULL), 0);
	assert_int_equal(ax_config_diff(b, f->file_a, AX_CONFIG_ALL, 0, NULL), 0);
	ax_cancel_unref(ca.cancel);
	ax_drive_unref(a);
	ax_drive_unref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_config__save_diff_load_round_trip, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_config__foreign_file_loads, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_config__update_keeps_unknown_content, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_config__failures_reported, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_config__identity_checked, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_config__not_a_configuration, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_config__load_cancel_stops_between_registers,
	                                        setup, teardown),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
