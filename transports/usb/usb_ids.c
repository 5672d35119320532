/* SPDX-License-Identifier: MIT */
/*
 * The USB ids of the drives the `usb` transport looks for.
 *
 * This is the one place they are listed. A vendor id alone says nothing (a
 * vendor makes many things), so only exact VID:PID pairs count; scan and
 * hot-plug never open a device whose pair is not here. When the device
 * database grows its USB-ids table, usb_known_find() becomes a look-up
 * there and this table its built-in fallback.
 *
 * 0x1209 is pid.codes, whose PIDs 0x0001-0x0010 are set aside for testing
 * and private use; our models use them until they get PIDs of their own.
 */
#include <stdio.h>

#include "usb.h"

static const usb_known_id usb_known[] = {
        {0x1209, 0x0001, NULL, "axlink test drive (pid.codes test PID)"},
        {0x1209, 0x0002, "axs-100", "axlink AXS-100 single-axis drive"},
        {0x1209, 0x0003, "axs-200", "axlink AXS-200 two-axis drive"},
        {0x1209, 0x0004, "axs-900", "axlink AXS-900 eight-axis drive"},
        {0, 0, NULL, NULL},
};

const usb_known_id *usb_known_find(uint16_t vid, uint16_t pid)
{
	for (const usb_known_id *k = usb_known; k->what; k++)
		if (k->vid == vid && k->pid == pid)
			return k;
	return NULL;
}

void usb_known_list(char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (const usb_known_id *k = usb_known; k->what && o < cap; k++) {
		int n = snprintf(out + o, cap - o, "%s%04x:%04x", o ? ", " : "", k->vid, k->pid);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}
