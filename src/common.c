/* SPDX-License-Identifier: MIT */
/*
 * Version queries and the allocator that pairs with memory handed to callers.
 */
#include <stdlib.h>

#include "axlink/common.h"

const char *ax_version(void)
{
	return AXLINK_VERSION_STRING;
}

unsigned int ax_version_hex(void)
{
	return AX_VERSION_HEX;
}

void ax_free(void *p)
{
	free(p);
}
