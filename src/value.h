/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_VALUE_H
#define AXLINK_SRC_VALUE_H

#include <stddef.h>

#include "axlink/value.h"

/*
 * Check the little-endian bytes of @dtype about to be written to a register
 * by the rule ax_value_from_f64() applies: a float that is NaN or infinite
 * is refused with AX_ERANGE unless @flags holds AX_VALUE_ALLOW_NONFINITE.
 * (Bytes cannot tell a value that was lost on its way to 0; the conversions
 * refuse that.) The message names the value; the caller prefixes the
 * register. @flags must be valid AX_VALUE_* flags.
 */
int ax__value_check(int dtype, const void *buf, size_t len, unsigned int flags);

#endif
