/* SPDX-License-Identifier: MIT */
/*
 * The identity of an MCB drive, read from its registers: the one place
 * that turns the replies of 0x6E0-0x6E6 into a scan record. The link
 * (ax_link_identify(), below) and every MCB transport's scan use it, the
 * plugins through host->mcb_identity_take.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <string.h>

#include "axlink/link.h"
#include "axlink/mcb.h"
#include "axlink/value.h"
#include "error.h"

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1Fu;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		cp = s[0] & 0x0Fu;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	/* Overlong forms, surrogates and what lies past U+10FFFF are not text. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	/* C1 controls move a terminal as C0 ones do. */
	if (cp >= 0x80 && cp <= 0x9F)
		return 0;
	return len;
}

/* The drive's text, up to its first NUL, made safe to show: see ax_mcb_identity_take(). */
static void clean_text(char *dst, size_t cap, const unsigned char *src, size_t n)
{
	size_t o = 0, i = 0;

	if (cap == 0)
		return;
	while (i < n && src[i]) {
		size_t len = utf8_seq(src + i, n - i);

		if (len == 1 && (src[i] < 0x20 || src[i] == 0x7F))
			len = 0;
		if (len == 0) {
			if (o + 1 >= cap)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + len >= cap)
			break; /* never half a character */
		memcpy(dst + o, src + i, len);
		o += len;
		i += len;
	}
	dst[o] = '\0';
}

int ax_mcb_identity_take(ax_scan_result *r, char *sw, size_t sw_cap, unsigned address,
                         const void *value, size_t len)
{
	const unsigned char *b = value;
	uint32_t v, *field, bit;

	AX_ASSERT_ARG(r);
	AX_ASSERT_ARG(value || len == 0);
	switch (address) {
	case AX_MCB_REG_SW_VERSION:
		AX_ASSERT_ARG(sw || sw_cap == 0);
		clean_text(sw, sw_cap, b, len);
		r->sw_version = sw_cap ? sw : "";
		r->known |= AX_SCAN_HAS_SW_VERSION;
		return 0;
	case AX_MCB_REG_VENDOR_ID:
		field = &r->vendor_id;
		bit = AX_SCAN_HAS_VENDOR;
		break;
	case AX_MCB_REG_PRODUCT_CODE:
		field = &r->product_code;
		bit = AX_SCAN_HAS_PRODUCT;
		break;
	case AX_MCB_REG_REVISION:
		field = &r->revision;
		bit = AX_SCAN_HAS_REVISION;
		break;
	case AX_MCB_REG_SERIAL:
		field = &r->serial;
		bit = AX_SCAN_HAS_SERIAL;
		break;
	default:
		return ax__error_set(AX_EINVAL, "0x%03X is no identity register of an MCB drive",
		                     address);
	}
	/* 4 bytes, or a plain frame's 8-byte value field; a payload is no u32. */
	if (len < 4 || len > 8)
		return ax__error_set(AX_EPROTO,
		                     "identity register 0x%03X answered %zu bytes, expected a u32 "
		                     "(4 to 8 bytes)",
		                     address, len);
	v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	*field = v;
	r->known |= bit;
	return 0;
}

int ax_link_identify(ax_link *link, ax_identity *out)
{
	/*
	 * Vendor, product and revision must answer; the rest may be refused.
	 * In the CANopen address space (index << 8 | subindex) the same fields
	 * are CiA 301's identity object 0x1018 and the manufacturer software
	 * version 0x100A; @field names the MCB register whose field each fills.
	 */
	static const struct {
		unsigned field;
		uint32_t canopen;
		int optional;
	} regs[] = {
	        {AX_MCB_REG_VENDOR_ID, 0x101801u, 0},  {AX_MCB_REG_PRODUCT_CODE, 0x101802u, 0},
	        {AX_MCB_REG_REVISION, 0x101803u, 0},   {AX_MCB_REG_SERIAL, 0x101804u, 1},
	        {AX_MCB_REG_SW_VERSION, 0x100A00u, 1},
	};
	uint8_t buf[AX_VALUE_MAX + 1];
	ax_identity id;
	ax_scan_result r;
	int refused = 0, space;

	AX_ASSERT_ARG(link);
	AX_ASSERT_ARG(out);
	AX_CHECK_SIZE(out, AX__SIZE_THROUGH(ax_identity, sw_version), "ax_identity");
	space = ax_link_addr_space(link);
	if (space != AX_ADDR_MCB && space != AX_ADDR_CANOPEN)
		return ax__error_set(AX_EUNSUPPORTED,
		                     "'%s' addresses neither MCB registers nor CANopen objects: "
		                     "no identity to read",
		                     ax_link_uri(link));
	memset(&id, 0, sizeof(id));
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		int dtype = regs[i].field == AX_MCB_REG_SW_VERSION ? AX_DTYPE_STR : AX_DTYPE_U32;
		uint32_t address = space == AX_ADDR_CANOPEN ? regs[i].canopen : regs[i].field;
		size_t len = 0;
		int err = ax_link_read_value(link, 0, address, dtype, buf, sizeof(buf), &len);

		/*
		 * Some firmware has no serial or version register and says so with an
		 * error reply: that is an answer, not a failure. A timeout is not.
		 */
		if (err == AX_EDRIVE && regs[i].optional) {
			refused = 1;
			continue;
		}
		if (err == 0)
			err = ax_mcb_identity_take(&r, id.sw_version, sizeof(id.sw_version),
			                           regs[i].field, buf, len);
		if (err < 0)
			return err;
	}
	if (refused)
		ax_error_clear();
	id.known = r.known;
	id.vendor_id = r.vendor_id;
	id.product_code = r.product_code;
	id.revision = r.revision;
	id.serial = r.serial;
	ax__sized_copy(out, &id, sizeof(id));
	return 0;
}
