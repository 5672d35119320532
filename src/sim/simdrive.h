/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SIMDRIVE_H
#define AXLINK_SIMDRIVE_H

/*
 * A simulated MCB drive: the register space of a model's dictionary in
 * devices/ (compiled in at build time, see simmodels.h), a CiA 402 state
 * machine and a byte-in/byte-out request handler. The same module serves
 * the in-process `virtual` transport and the standalone simulator (UDP,
 * serial pty, USB), so every bus sees the same drive.
 *
 * It is not part of libaxlink: it reaches the MCB codec through the table
 * it is given (the plugin host table's codec, or libaxlink's ax_mcb_*).
 *
 * Thread safety: safe; every entry point takes the drive's own lock.
 */

#include <stddef.h>
#include <stdint.h>

#include "axlink/mcb.h"

/* Identity of the simulated models (our own vendor id). */
#define SIMDRIVE_VENDOR_ID 0x0000A71Cu

typedef struct simdrive simdrive;

/* The codec the drive uses to parse requests and build replies. */
typedef struct simdrive_codec {
	int (*encode)(uint8_t *buf, size_t cap, size_t *len_out, const ax_mcb_frame *f);
	int (*decode)(ax_mcb_frame *out, const uint8_t *buf, size_t len);
} simdrive_codec;

/* Static description of one simulated model. */
typedef struct simdrive_model {
	const char *name;          /* "axs-100" */
	uint32_t product_code;
	uint32_t revision;
	uint16_t axes;             /* number of axis subnodes (1..) */
	const char *sw_version;    /* firmware version, e.g. "1.2.0" */
	uint32_t vendor_id;        /* SIMDRIVE_VENDOR_ID for our models */
} simdrive_model;

/*
 * Models the simulator knows, one per dictionary in devices/, sorted by
 * name; the array ends with an entry whose name is NULL.
 */
const simdrive_model *simdrive_models(void);

/* Find a model by name (case-insensitive); NULL when unknown. */
const simdrive_model *simdrive_model_find(const char *name);

/*
 * Create a drive of @model (NULL = the first model) with serial number
 * @serial. Returns 0 and sets *out, or -1 when out of memory or the model
 * is unknown.
 */
int simdrive_new(simdrive **out, const simdrive_codec *codec, const char *model, uint32_t serial);
void simdrive_free(simdrive *d);

/*
 * Handle one request frame of @req_len bytes. Writes the reply into @reply
 * (at most @reply_cap bytes; AX_MCB_MAX_FRAME is always enough) and returns
 * its length; returns 0 when the request must be dropped unanswered (bad
 * CRC, truncated, not a request, another node). @why, if not NULL, receives
 * a static text saying why a request was dropped or refused (for debug logs).
 */
size_t simdrive_handle(simdrive *d, const uint8_t *req, size_t req_len, uint8_t *reply,
		       size_t reply_cap, const char **why);

/*
 * Register-level access, as the handler does it. Return 0 on success or
 * -1 with *drive_code set to the MCB error code (AX_MCB_CODE_*).
 * read: copies the value's bytes into @buf (at most @cap) and sets *len_out.
 */
int simdrive_read(simdrive *d, unsigned subnode, unsigned address, uint8_t *buf, size_t cap,
		  size_t *len_out, uint32_t *drive_code);
int simdrive_write(simdrive *d, unsigned subnode, unsigned address, const uint8_t *buf,
		   size_t len, uint32_t *drive_code);

/* Advance the simulated motion to monotonic time @now_ns (no-op if unchanged). */
void simdrive_tick(simdrive *d, uint64_t now_ns);

/*
 * Additions for fault simulation (the `fault` URI key, tests).
 *
 * Put axis @axis (1..axes, or 0 for every axis) into the CiA 402 fault state
 * and store @error_code in its DRV_DIAG_ERROR_LAST register. A rising edge of
 * control word bit 7 (fault reset) leaves the fault. Returns 0, or -1 when
 * the axis does not exist.
 */
int simdrive_fault(simdrive *d, unsigned axis, uint32_t error_code);

/* Error code a drive started with `fault=1` reports: DC link under-voltage (CiA 402). */
#define SIMDRIVE_FAULT_UNDERVOLTAGE 0x00003220u

#endif
