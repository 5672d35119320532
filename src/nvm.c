/* SPDX-License-Identifier: MIT */
/*
 * Non-volatile memory of a drive: store all and restore all.
 *
 * MCB drives, like CiA 301 devices (objects 0x1010/0x1011), store or restore
 * their parameters when a signature is written to a register: "save"
 * (0x65766173) to DRV_STORE_COCO_ALL / DRV_STORE_MOCO_ALL, "load"
 * (0x64616F6C) to DRV_RESTORE_COCO_ALL. The registers are found by their
 * dictionary ids, not by address, so a model that puts them elsewhere works.
 *
 * Writing flash takes a drive from milliseconds to seconds. A drive that
 * stores after acknowledging the write shows the signature in the register
 * until it is done and then its usual value (1: "stores on command"), so the
 * register is read back until the signature is gone. While it writes, a
 * drive may not answer at all: a read that times out is another poll, within
 * the caller's deadline. The waits sleep in short slices that watch the
 * cancellation token, so a cancel ends the call within a slice plus one
 * request.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "axlink/drive.h"
#include "axlink/mcb.h"
#include "axlink/value.h"
#include "error.h"
#include "util.h"

#define NVM_SIG_STORE 0x65766173u   /* "save" */
#define NVM_SIG_RESTORE 0x64616F6Cu /* "load" */
#define NVM_SLICE_MS 10             /* sleep between polls; the cancel latency */

/* Store or restore: the signature and the registers it goes to. */
struct nvm_op {
	const char *verb;
	uint32_t signature;
	const char *coco_id; /* subnode 0 */
	const char *moco_id; /* each axis */
};

static const struct nvm_op nvm_store = {
        "store",
        NVM_SIG_STORE,
        "DRV_STORE_COCO_ALL",
        "DRV_STORE_MOCO_ALL",
};
static const struct nvm_op nvm_restore = {
        "restore",
        NVM_SIG_RESTORE,
        "DRV_RESTORE_COCO_ALL",
        "DRV_RESTORE_MOCO_ALL",
};

static void nvm_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The drive's reason for error @code: its dictionary's text, else the CiA 301 one. */
static const char *nvm_code_text(const ax_drive *drive, uint32_t code)
{
	const ax_dict *dict = ax_drive_dict(drive);
	const char *text = dict ? ax_dict_error_text(dict, code) : NULL;

	if (!text || !*text)
		text = ax_drive_code_text(code);
	return text ? text : "no description in the dictionary";
}

/* What the caller can do about a refusal, or "". */
static const char *nvm_code_hint(uint32_t code)
{
	switch (code) {
	case 0x08000022u:
		return "; disable the axes (and clear any fault), then try again";
	case 0x08000020u:
		return "; the drive could not write its memory, or does not take this signature";
	default:
		return "";
	}
}

static int nvm_cancelled(const struct nvm_op *op, const ax_reg *reg)
{
	return ax__error_set(AX_ECANCELED,
	                     "%s: cancelled while waiting for %s (subnode %u); the drive may "
	                     "still finish",
	                     op->verb, ax_reg_id(reg), ax_reg_subnode(reg));
}

/* Sleep one slice (less if the deadline is nearer), watching @cancel. */
static int nvm_pause(const struct nvm_op *op, const ax_reg *reg, int64_t deadline,
                     ax_cancel *cancel)
{
	int64_t left = deadline - ax__now_ms();

	if (left > 0)
		nvm_sleep_ms(left < NVM_SLICE_MS ? (int)left : NVM_SLICE_MS);
	return ax_cancel_requested(cancel) ? nvm_cancelled(op, reg) : 0;
}

/* Write @op's signature to @reg and wait until the drive has done it. */
static int nvm_run_one(ax_drive *drive, const struct nvm_op *op, const ax_reg *reg,
                       int64_t deadline, ax_cancel *cancel)
{
	ax_link *link = ax_drive_link(drive);
	unsigned sub = ax_reg_subnode(reg);
	const char *id = ax_reg_id(reg);
	uint8_t buf[8];
	size_t len = 0;
	int err;

	if (ax_cancel_requested(cancel))
		return nvm_cancelled(op, reg);
	if (ax_reg_dtype(reg) != AX_DTYPE_U32)
		return ax__error_set(AX_ETYPE, "%s: register '%s' (subnode %u) is a %s, not a u32",
		                     op->verb, id, sub, ax_dtype_name(ax_reg_dtype(reg)));
	ax__le_put(buf, op->signature, 4);
	err = ax_link_write_reg(link, reg, buf, 4);
	if (err == AX_EDRIVE) {
		uint32_t code = ax_error_last_drive_code();

		return ax__error_drive_fmt(code,
		                           "%s: the drive at '%s' refused %s (subnode %u): error "
		                           "0x%08X, %s%s",
		                           op->verb, ax_drive_uri(drive), id, sub, (unsigned)code,
		                           nvm_code_text(drive, code), nvm_code_hint(code));
	}
	if (err < 0) {
		ax__error_prefix("%s: writing %s (subnode %u)", op->verb, id, sub);
		return err;
	}
	/* A register that cannot be read back is done when the drive acknowledges. */
	if (!(ax_reg_access(reg) & AX_REG_READ))
		return 0;
	for (;;) {
		err = ax_link_read_reg(link, reg, buf, sizeof(buf), &len);
		if (err == 0 && len >= 4 && ax__le_get(buf, 4) != op->signature)
			return 0;
		if (err < 0 && err != AX_ETIMEDOUT) {
			ax__error_prefix("%s: waiting for %s (subnode %u)", op->verb, id, sub);
			return err;
		}
		/* Still the signature, or no answer while the drive writes its memory. */
		if (ax__now_ms() >= deadline)
			return ax__error_set(AX_ETIMEDOUT,
			                     "%s: %s (subnode %u) %s: the drive at '%s' has not "
			                     "finished in time",
			                     op->verb, id, sub,
			                     err < 0 ? "does not answer"
			                             : "still reads the signature",
			                     ax_drive_uri(drive));
		err = nvm_pause(op, reg, deadline, cancel);
		if (err < 0)
			return err;
	}
}

/* The register @id on @subnode, or NULL (no error left behind). */
static const ax_reg *nvm_find(const ax_drive *drive, const char *id, unsigned subnode)
{
	const ax_reg *reg = NULL;

	if (ax_dict_find(ax_drive_dict(drive), id, (int)subnode, &reg) < 0) {
		ax_error_clear();
		return NULL;
	}
	return reg;
}

static int nvm_run(ax_drive *drive, const struct nvm_op *op, int subnode, int timeout_ms,
                   ax_cancel *cancel)
{
	const ax_reg *regs[AX_MCB_MAX_SUBNODE + 1];
	unsigned axes, n = 0;
	int64_t deadline;
	int err;

	AX_ASSERT_ARG(drive);
	if (timeout_ms < 0)
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "%s: timeout %d ms: expected 0 (the default) or more",
		                           op->verb, timeout_ms);
	axes = ax_drive_axes(drive);
	if (subnode != AX_DRIVE_ALL_SUBNODES && (subnode < 0 || (unsigned)subnode > axes))
		return ax__error_set_class(AX_ERRCLASS_ARGUMENT, AX_EINVAL,
		                           "%s: subnode %d: the drive at '%s' has 0 "
		                           "(communication) and axes 1..%u, or all (%d)",
		                           op->verb, subnode, ax_drive_uri(drive), axes,
		                           AX_DRIVE_ALL_SUBNODES);
	if (!ax_drive_dict(drive))
		return ax__error_set(AX_ENOTFOUND,
		                     "%s: no dictionary for the drive at '%s' (%s), so no %s "
		                     "register; import one with 'axlink db import' or name a file",
		                     op->verb, ax_drive_uri(drive), ax_drive_match_reason(drive),
		                     op->verb);
	if (axes > AX_MCB_MAX_SUBNODE)
		axes = AX_MCB_MAX_SUBNODE;
	if (subnode <= 0 && (regs[n] = nvm_find(drive, op->coco_id, 0)) != NULL)
		n++;
	for (unsigned a = 1; a <= axes; a++)
		if ((subnode == AX_DRIVE_ALL_SUBNODES || (unsigned)subnode == a) &&
		    (regs[n] = nvm_find(drive, op->moco_id, a)) != NULL)
			n++;
	if (n == 0 && subnode == AX_DRIVE_ALL_SUBNODES)
		return ax__error_set(AX_ENOTFOUND,
		                     "%s: the dictionary of the drive at '%s' has neither %s "
		                     "(subnode 0) nor %s on an axis",
		                     op->verb, ax_drive_uri(drive), op->coco_id, op->moco_id);
	if (n == 0)
		return ax__error_set(AX_ENOTFOUND,
		                     "%s: the dictionary of the drive at '%s' has no %s on subnode "
		                     "%d%s",
		                     op->verb, ax_drive_uri(drive),
		                     subnode == 0 ? op->coco_id : op->moco_id, subnode,
		                     subnode > 0 && nvm_find(drive, op->coco_id, 0)
		                             ? "; the communication core's register (subnode 0, or "
		                               "all) covers every axis"
		                             : "");

	deadline = ax__now_ms() + (timeout_ms ? timeout_ms : AX_DRIVE_NVM_TIMEOUT_MS);
	for (unsigned i = 0; i < n; i++) {
		err = nvm_run_one(drive, op, regs[i], deadline, cancel);
		if (err < 0)
			return err;
	}
	return 0;
}

int ax_drive_store(ax_drive *drive, int subnode, int timeout_ms, ax_cancel *cancel)
{
	return nvm_run(drive, &nvm_store, subnode, timeout_ms, cancel);
}

int ax_drive_restore(ax_drive *drive, int subnode, int timeout_ms, ax_cancel *cancel)
{
	return nvm_run(drive, &nvm_restore, subnode, timeout_ms, cancel);
}
