/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SIMMODELS_H
#define AXLINK_SIMMODELS_H

/*
 * The register spaces of the simulated models.
 *
 * The tables are not written by hand: at build time gen_simmodels reads the
 * dictionaries in devices/ (*.xdf) with libaxlink and writes simmodels.c into
 * the build tree. The simulated drive links that file, not libaxlink, so the
 * `virtual` plugin serves the dictionaries without reading them at run time.
 *
 * This header is shared by the generator and the drive: the generator checks
 * each model against SIMMODEL_BEHAVIOUR below, the drive relies on the check.
 */

#include <stddef.h>
#include <stdint.h>

#include "axlink/mcb.h"
#include "axlink/value.h"
#include "simdrive.h"

/* simmodel_reg.access */
#define SIMMODEL_READ 0x1
#define SIMMODEL_WRITE 0x2

/* simmodel_reg.flags: address_type NVM or NVM_CFG: stored, and reset by "restore all". */
#define SIMMODEL_NVM 0x1
/* simmodel_reg.flags: monitoring and disturbance reach it at mon_key (ax_reg_monitoring()). */
#define SIMMODEL_MON 0x2

/* Room a str register gets (NUL included) unless its default needs more. */
#define SIMMODEL_STR_SIZE 64

/* One register of one subnode. */
typedef struct simmodel_reg {
	const char *id;   /* dictionary id */
	uint16_t address; /* MCB address, 0..0xFFF */
	uint8_t subnode;
	uint8_t dtype;      /* ax_dtype */
	uint8_t access;     /* SIMMODEL_READ | SIMMODEL_WRITE */
	uint8_t flags;      /* SIMMODEL_NVM */
	uint16_t size;      /* bytes of the value: its type's, 512 for bytes, >= 64 for str */
	uint32_t offset;    /* where the value lives in a drive's store */
	uint16_t def_len;   /* default bytes below; the rest of the value is zero */
	const uint8_t *def; /* little-endian default, trailing zero bytes dropped */
	uint16_t mon_key;   /* SIMMODEL_MON: monitoring address | subnode << 12, as in a map word */
} simmodel_reg;

/* One drive error code the dictionary names; strings "" when it does not say. */
typedef struct simmodel_error {
	uint32_t code;
	const char *text;   /* label in the file's default language */
	const char *type;   /* error_type: "cyclic", "configuration", ... */
	const char *module; /* affected_module */
} simmodel_error;

/* simmodel_canobj.flags */
#define SIMMODEL_CAN_LOCAL 0x1 /* no MCB register has it: the CANopen node holds the value */
#define SIMMODEL_CAN_MODE 0x2  /* an operation mode: CiA 402 codes on CAN, MCB codes inside */

/*
 * One object (index:subindex) of a model's CAN interface, the dictionary's
 * CANDevice (or Interface="CAN" Device): the same register as the MCB one of
 * that id and subnode, so both buses reach one drive state. Only a register
 * whose MCB twin has the same type is served (or an operation mode, whose
 * codes the node translates); a CAN-only one (SIMMODEL_CAN_LOCAL) is an
 * integer of at most 4 bytes that the node keeps itself.
 */
typedef struct simmodel_canobj {
	const char *id;
	uint16_t index;
	uint8_t subindex;
	uint8_t subnode;
	uint16_t address; /* the MCB twin's address; 0 when SIMMODEL_CAN_LOCAL */
	uint8_t dtype;    /* ax_dtype on CAN */
	uint8_t access;   /* SIMMODEL_READ | SIMMODEL_WRITE */
	uint8_t flags;    /* SIMMODEL_CAN_* */
	uint32_t def;     /* SIMMODEL_CAN_LOCAL: the default, little-endian bytes as a number */
} simmodel_canobj;

/* A model's whole register space, and the texts of its error codes. */
typedef struct simmodel_table {
	const simmodel_reg *regs; /* sorted by (subnode, address), each pair once */
	size_t count;
	size_t store_size;            /* sum of the sizes: one drive's values */
	const char *source;           /* dictionary file name, e.g. "axs-100.xdf" */
	const simmodel_error *errors; /* the dictionary's Errors, in file order */
	size_t n_errors;
	const simmodel_canobj *can; /* its CAN interface, sorted by (index, subindex); or NULL */
	size_t n_can;
} simmodel_table;

/* The entry of error @code in @t, or NULL when its dictionary names none. */
static inline const simmodel_error *simmodel_error_find(const simmodel_table *t, uint32_t code)
{
	for (size_t i = 0; i < t->n_errors; i++)
		if (t->errors[i].code == code)
			return &t->errors[i];
	return NULL;
}

/*
 * Generated: the models sorted by name, ending with a zeroed entry, and
 * simmodel_tables[i] the register space of simmodel_models[i].
 */
extern const simdrive_model simmodel_models[];
extern const simmodel_table simmodel_tables[];

/* Which subnodes a behaviour register sits on. */
#define SIMMODEL_ON_COCO 0 /* subnode 0 */
#define SIMMODEL_ON_AXIS 1 /* each axis subnode 1..axes */
#define SIMMODEL_ON_ANY 2  /* wherever the dictionary puts it */

/*
 * Registers the simulated drive gives a meaning to (CiA 402 state machine,
 * operation mode, set points, feedbacks, motion, store/restore, identity):
 * X(name, where, address, dtype, required).
 *
 * The generator skips a model whose dictionary gives one of them another
 * type, or lacks a required one on some axis; the drive treats a missing
 * optional one as absent (reads 0, writes nothing).
 */
#define SIMMODEL_BEHAVIOUR(X)                                                                      \
	X(DIAG_ERROR_LAST, SIMMODEL_ON_AXIS, 0x00F, AX_DTYPE_S32, 0)                               \
	X(CONTROL, SIMMODEL_ON_AXIS, 0x010, AX_DTYPE_U16, 1)                                       \
	X(STATUS, SIMMODEL_ON_AXIS, 0x011, AX_DTYPE_U16, 1)                                        \
	X(OP_CMD, SIMMODEL_ON_AXIS, 0x014, AX_DTYPE_U16, 1)                                        \
	X(OP_VALUE, SIMMODEL_ON_AXIS, 0x015, AX_DTYPE_U16, 1)                                      \
	X(CUR_Q_SP, SIMMODEL_ON_AXIS, 0x01A, AX_DTYPE_FLOAT, 0)                                    \
	X(POS_SP, SIMMODEL_ON_AXIS, 0x020, AX_DTYPE_S32, 0)                                        \
	X(VEL_SP, SIMMODEL_ON_AXIS, 0x021, AX_DTYPE_FLOAT, 0)                                      \
	X(MAX_VEL, SIMMODEL_ON_AXIS, 0x025, AX_DTYPE_FLOAT, 0)                                     \
	X(POS_FBK, SIMMODEL_ON_AXIS, 0x030, AX_DTYPE_S32, 0)                                       \
	X(VEL_FBK, SIMMODEL_ON_AXIS, 0x031, AX_DTYPE_FLOAT, 0)                                     \
	X(CUR_Q_FBK, SIMMODEL_ON_AXIS, 0x03B, AX_DTYPE_FLOAT, 0)                                   \
	X(ENC_RESOLUTION, SIMMODEL_ON_AXIS, 0x388, AX_DTYPE_U32, 0)                                \
	X(AXIS_NUMBER, SIMMODEL_ON_COCO, 0x0A0, AX_DTYPE_U16, 0)                                   \
	X(RESTORE_ALL, SIMMODEL_ON_COCO, 0x6DC, AX_DTYPE_U32, 0)                                   \
	X(STORE_ALL, SIMMODEL_ON_ANY, 0x6DB, AX_DTYPE_U32, 0)                                      \
	X(VENDOR_ID, SIMMODEL_ON_ANY, AX_MCB_REG_VENDOR_ID, AX_DTYPE_U32, 0)                       \
	X(PRODUCT_CODE, SIMMODEL_ON_ANY, AX_MCB_REG_PRODUCT_CODE, AX_DTYPE_U32, 0)                 \
	X(REVISION, SIMMODEL_ON_ANY, AX_MCB_REG_REVISION, AX_DTYPE_U32, 0)                         \
	X(SERIAL, SIMMODEL_ON_ANY, AX_MCB_REG_SERIAL, AX_DTYPE_U32, 0)

#endif
