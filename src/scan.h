/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_SCAN_H
#define AXLINK_SRC_SCAN_H

#include "axlink/scan.h"

/* What plugins reach through host->scan_emit / host->scan_cancelled. */
int ax__scan_emit(void *sink, const ax_scan_result *result);
int ax__scan_cancelled(void *sink);

#endif
