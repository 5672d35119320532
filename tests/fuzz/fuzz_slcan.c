/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the `can` transport's line parsers: any bytes, cut into lines at
 * CR and BEL as the slcan receive path cuts them, go to can_slcan_parse();
 * any bytes between '<' and '>' go to can_scd_parse() (socketcand). Each
 * line is refused with a reason, or gives a frame within CAN's ranges (id
 * 11 or 29 bits, 0..8 bytes) that encodes back to the same line (hex
 * digits upper-cased, a timestamp dropped) and parses again to itself.
 */
#include <ctype.h>
#include <string.h>

#include "../../transports/can/can_codec.c"
#include "fuzz.h"

static void check_frame(const struct can_msg *m)
{
	FUZZ_CHECK(m->len <= 8, "length %u", m->len);
	FUZZ_CHECK(m->id <= (m->ext ? CAN_EFF_MAX : CAN_SFF_MAX), "id 0x%X ext %u", (unsigned)m->id,
	           m->ext);
}

static void slcan_line(const char *line, size_t len, char term)
{
	char why[160] = "", enc[CAN_SLCAN_LINE_MAX];
	struct can_msg m, again;
	int kind = can_slcan_parse(line, len, term, &m, why, sizeof(why));
	int n;

	FUZZ_CHECK(kind == -1 || (kind >= CAN_SLCAN_FRAME && kind <= CAN_SLCAN_OTHER), "kind %d",
	           kind);
	if (kind == -1)
		FUZZ_CHECK(why[0], "refused without a reason");
	if (kind != CAN_SLCAN_FRAME)
		return;
	check_frame(&m);
	n = can_slcan_encode(enc, sizeof(enc), &m);
	FUZZ_CHECK(n > 0 && (size_t)n <= len + 1, "encoded %d from %zu", n, len);
	for (int i = 0; i < n - 1; i++)
		FUZZ_CHECK(toupper((unsigned char)line[i]) == enc[i] ||
		                   (i == 0 && line[0] == enc[0]),
		           "re-encoding differs at %d", i);
	FUZZ_CHECK(can_slcan_parse(enc, (size_t)n - 1, '\r', &again, why, sizeof(why)) ==
	                           CAN_SLCAN_FRAME &&
	                   !memcmp(&again, &m, sizeof(m)),
	           "re-encoded frame parses differently");
}

static void scd_message(const char *text, size_t len)
{
	char why[160] = "";
	struct can_msg m;
	int kind = can_scd_parse(text, len, &m, why, sizeof(why));

	FUZZ_CHECK(kind == -1 || (kind >= CAN_SCD_FRAME && kind <= CAN_SCD_OTHER), "kind %d", kind);
	if (kind == -1)
		FUZZ_CHECK(why[0], "refused without a reason");
	if (kind == CAN_SCD_FRAME)
		check_frame(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t start = 0;

	for (size_t i = 0; i < size; i++) {
		if (s[i] != '\r' && s[i] != '\a')
			continue;
		/* The receive path drops lines past the longest frame before parsing. */
		if (i - start <= CAN_SLCAN_LINE_MAX)
			slcan_line(s + start, i - start, s[i]);
		start = i + 1;
	}
	for (size_t i = 0; i < size; i++) {
		const char *gt;

		if (s[i] != '<')
			continue;
		gt = memchr(s + i, '>', size - i);
		if (!gt)
			break;
		scd_message(s + i + 1, (size_t)(gt - s - i - 1));
		i = (size_t)(gt - s);
	}
	return 0;
}
