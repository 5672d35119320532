/* SPDX-License-Identifier: MIT */
/* ax_mcb_identity_take(): identity register replies into a scan record. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "axlink/error.h"
#include "axlink/mcb.h"

static void test_mcb_identity__u32_fields(void **state)
{
	static const uint8_t le[4] = {0x64, 0x00, 0x01, 0x00};
	static const uint8_t le8[9] = {0x64, 0x00, 0x01, 0x00};
	static const struct {
		unsigned address;
		uint32_t bit;
		size_t offset;
	} rows[] = {
	        {AX_MCB_REG_VENDOR_ID, AX_SCAN_HAS_VENDOR, offsetof(ax_scan_result, vendor_id)},
	        {AX_MCB_REG_PRODUCT_CODE, AX_SCAN_HAS_PRODUCT,
	         offsetof(ax_scan_result, product_code)},
	        {AX_MCB_REG_REVISION, AX_SCAN_HAS_REVISION, offsetof(ax_scan_result, revision)},
	        {AX_MCB_REG_SERIAL, AX_SCAN_HAS_SERIAL, offsetof(ax_scan_result, serial)},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ax_scan_result r;
		uint32_t v;

		memset(&r, 0, sizeof(r));
		assert_int_equal(ax_mcb_identity_take(&r, NULL, 0, rows[i].address, le, 4), 0);
		memcpy(&v, (const char *)&r + rows[i].offset, sizeof(v));
		if (v != 0x00010064u || r.known != rows[i].bit)
			fail_msg("0x%03X: value 0x%08X known 0x%02X", rows[i].address, v, r.known);
		/* A plain frame's 8-byte value field holds it too. */
		memset(&r, 0, sizeof(r));
		assert_int_equal(ax_mcb_identity_take(&r, NULL, 0, rows[i].address, le8, 8), 0);
		memcpy(&v, (const char *)&r + rows[i].offset, sizeof(v));
		assert_int_equal(v, 0x00010064u);
		/* Not a u32: an error, and the field stays unknown. */
		memset(&r, 0, sizeof(r));
		assert_int_equal(ax_mcb_identity_take(&r, NULL, 0, rows[i].address, le8, 9),
		                 AX_EPROTO);
		assert_int_equal(r.known, 0);
		assert_int_equal(ax_mcb_identity_take(&r, NULL, 0, rows[i].address, le, 2),
		                 AX_EPROTO);
		assert_non_null(strstr(ax_error_last(), "expected a u32"));
		assert_int_equal(r.known, 0);
	}
}

static void test_mcb_identity__version_text_is_cleaned(void **state)
{
	static const struct {
		const char *name, *in;
		size_t len, cap;
		const char *want;
	} rows[] = {
	        {"plain", "fw 1.2.0", 8, 64, "fw 1.2.0"},
	        {"stops_at_nul", "1.0\0junk", 8, 64, "1.0"},
	        {"escape_and_newline", "a\x1b]0;t\x07\r\nb", 11, 64, "a?]0;t???b"},
	        {"del", "x\x7fy", 3, 64, "x?y"},
	        {"utf8_kept", "v\xc3\xa9", 3, 64, "v\xc3\xa9"},
	        {"invalid_utf8", "v\xff\xc3", 3, 64, "v??"},
	        {"c1_control",
	         "a\xc2\x9b"
	         "2J",
	         5, 64, "a??2J"},
	        {"overlong", "\xc0\xaf", 2, 64, "??"},
	        {"cut_on_char", "ab\xc3\xa9", 4, 4, "ab"},
	        {"cut_ascii", "abcdef", 6, 4, "abc"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ax_scan_result r;
		char sw[64];

		memset(&r, 0, sizeof(r));
		memset(sw, 'Z', sizeof(sw));
		assert_int_equal(ax_mcb_identity_take(&r, sw, rows[i].cap, AX_MCB_REG_SW_VERSION,
		                                      rows[i].in, rows[i].len),
		                 0);
		if (strcmp(sw, rows[i].want) != 0)
			fail_msg("%s: got '%s', want '%s'", rows[i].name, sw, rows[i].want);
		assert_ptr_equal(r.sw_version, sw);
		assert_int_equal(r.known, AX_SCAN_HAS_SW_VERSION);
	}
}

static void test_mcb_identity__other_registers_refused(void **state)
{
	ax_scan_result r;
	uint32_t v = 1;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(ax_mcb_identity_take(&r, NULL, 0, 0x011, &v, 4), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "0x011"));
	assert_int_equal(r.known, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_mcb_identity__u32_fields),
	        cmocka_unit_test(test_mcb_identity__version_text_is_cleaned),
	        cmocka_unit_test(test_mcb_identity__other_registers_refused),
	};
	return cmocka_run_group_tests_name("mcb_identity", tests, NULL, NULL);
}
