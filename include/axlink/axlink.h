/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_AXLINK_H
#define AXLINK_AXLINK_H

/**
 * @file axlink/axlink.h
 * @brief Umbrella header: the whole public C API of libaxlink.
 */

#include "axlink/common.h"
#include "axlink/error.h"
#include "axlink/log.h"
#include "axlink/ctx.h"
#include "axlink/uri.h"
#include "axlink/value.h"
#include "axlink/mcb.h"
#include "axlink/link.h"
#include "axlink/scan.h"
#include "axlink/cancel.h"
#include "axlink/dict.h"
#include "axlink/db.h"
#include "axlink/drive.h"
#include "axlink/motion.h"
#include "axlink/discover.h"
#include "axlink/poller.h"
#include "axlink/scope.h"
#include "axlink/batch.h"
#include "axlink/config.h"

#endif
