/* SPDX-License-Identifier: MIT */
/*
 * Error codes, their texts, and the thread-local last error.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_INTERNAL /* errors set here; see src/error.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "axlink/mcb.h"

#define ERR_MSG_MAX 512

struct err_state {
	int code;
	int error_class;
	uint32_t drive_code;
	char msg[ERR_MSG_MAX];
};

static _Thread_local struct err_state err_tls;

struct err_info {
	int code;
	const char *name;
	const char *text;
};

static const struct err_info err_table[] = {
        {AX_OK, "AX_OK", "no error"},
        {AX_ERROR, "AX_ERROR", "error"},
        {AX_EINVAL, "AX_EINVAL", "invalid argument"},
        {AX_ENOMEM, "AX_ENOMEM", "out of memory"},
        {AX_ENOTFOUND, "AX_ENOTFOUND", "not found"},
        {AX_ETIMEDOUT, "AX_ETIMEDOUT", "timed out"},
        {AX_EBUSY, "AX_EBUSY", "busy"},
        {AX_EABI, "AX_EABI", "plugin ABI mismatch"},
        {AX_EIO, "AX_EIO", "input/output error"},
        {AX_EPROTO, "AX_EPROTO", "protocol error"},
        {AX_ECRC, "AX_ECRC", "checksum mismatch"},
        {AX_EADDR, "AX_EADDR", "reply for another register"},
        {AX_EDRIVE, "AX_EDRIVE", "drive returned an error"},
        {AX_ETOOBIG, "AX_ETOOBIG", "too big"},
        {AX_ETRUNC, "AX_ETRUNC", "truncated frame"},
        {AX_EUNSUPPORTED, "AX_EUNSUPPORTED", "not supported"},
        {AX_EACCESS, "AX_EACCESS", "permission denied"},
        {AX_ECANCELED, "AX_ECANCELED", "cancelled"},
        {AX_EDISCONNECTED, "AX_EDISCONNECTED", "device disconnected"},
        {AX_ERANGE, "AX_ERANGE", "value out of range"},
        {AX_ETYPE, "AX_ETYPE", "wrong type or size"},
        {AX_EUNKNOWNKEY, "AX_EUNKNOWNKEY", "unknown key"},
        {AX_EFORMAT, "AX_EFORMAT", "not in the file's format"},
        {AX_ECORRUPT, "AX_ECORRUPT", "corrupt database"},
};

static const char *const class_names[] = {
        [AX_ERRCLASS_NONE] = "AX_ERRCLASS_NONE",
        [AX_ERRCLASS_TRANSPORT] = "AX_ERRCLASS_TRANSPORT",
        [AX_ERRCLASS_PLUGIN] = "AX_ERRCLASS_PLUGIN",
        [AX_ERRCLASS_DICT] = "AX_ERRCLASS_DICT",
        [AX_ERRCLASS_DB] = "AX_ERRCLASS_DB",
        [AX_ERRCLASS_DRIVE] = "AX_ERRCLASS_DRIVE",
        [AX_ERRCLASS_ARGUMENT] = "AX_ERRCLASS_ARGUMENT",
        [AX_ERRCLASS_INTERNAL] = "AX_ERRCLASS_INTERNAL",
};

static const struct err_info *err_find(int code)
{
	for (size_t i = 0; i < AX__ARRAY_SIZE(err_table); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	return NULL;
}

const char *ax_strerror(int code)
{
	const struct err_info *e = err_find(code);

	return e ? e->text : "unknown error";
}

const char *ax_error_name(int code)
{
	const struct err_info *e = err_find(code);

	return e ? e->name : NULL;
}

const char *ax_error_last(void)
{
	if (err_tls.code == 0 || !err_tls.msg[0])
		return err_tls.code ? ax_strerror(err_tls.code) : "no error";
	return err_tls.msg;
}

int ax_error_last_code(void)
{
	return err_tls.code;
}

int ax_error_last_class(void)
{
	return err_tls.code ? err_tls.error_class : AX_ERRCLASS_NONE;
}

const char *ax_error_class_name(int error_class)
{
	if (error_class < 0 || (size_t)error_class >= AX__ARRAY_SIZE(class_names))
		return NULL;
	return class_names[error_class];
}

uint32_t ax_error_last_drive_code(void)
{
	return err_tls.code == AX_EDRIVE ? err_tls.drive_code : 0;
}

void ax_error_clear(void)
{
	err_tls.code = 0;
	err_tls.error_class = AX_ERRCLASS_NONE;
	err_tls.drive_code = 0;
	err_tls.msg[0] = '\0';
}

int ax__error_vset_class(int error_class, int code, const char *fmt, va_list ap)
{
	err_tls.code = code;
	err_tls.error_class = error_class;
	err_tls.drive_code = 0;
	(void)vsnprintf(err_tls.msg, sizeof(err_tls.msg), fmt, ap);
	return code;
}

int ax__error_set_class(int error_class, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)ax__error_vset_class(error_class, code, fmt, ap);
	va_end(ap);
	return code;
}

int ax__error_oom_class(int error_class)
{
	static const char oom[] = "out of memory";

	err_tls.code = AX_ENOMEM;
	err_tls.error_class = error_class;
	err_tls.drive_code = 0;
	memcpy(err_tls.msg, oom, sizeof(oom));
	return AX_ENOMEM;
}

int ax__error_recode(int error_class, int code)
{
	err_tls.code = code;
	err_tls.error_class = error_class;
	err_tls.drive_code = 0;
	return code;
}

void ax__error_prefix(const char *fmt, ...)
{
	char prefix[ERR_MSG_MAX];
	char old[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err_tls.msg, sizeof(old));
	if (snprintf(err_tls.msg, sizeof(err_tls.msg), "%s: %s", prefix, old) < 0)
		err_tls.msg[0] = '\0';
}

struct drive_code_info {
	uint32_t code;
	const char *text;
};

static const struct drive_code_info drive_codes[] = {
        {0x05030000u, "toggle bit not alternated"},
        {0x05040000u, "protocol timed out"},
        {0x05040001u, "command specifier not valid or unknown"},
        {0x05040002u, "invalid block size"},
        {0x05040003u, "invalid sequence number"},
        {0x05040004u, "CRC error"},
        {0x05040005u, "out of memory"},
        {AX_MCB_CODE_ACCESS, "unsupported access to an object"},
        {0x06010001u, "attempt to read a write-only object"},
        {0x06010002u, "attempt to write a read-only object"},
        {AX_MCB_CODE_NO_OBJECT, "object does not exist"},
        {0x06040041u, "object cannot be mapped"},
        {0x06040042u, "the objects to be mapped would exceed the PDO length"},
        {0x06040043u, "general parameter incompatibility"},
        {0x06040047u, "general internal incompatibility in the device"},
        {0x06060000u, "access failed due to a hardware error"},
        {0x06070010u, "data type does not match, length of parameter does not match"},
        {0x06070012u, "data type does not match, length of parameter too high"},
        {0x06070013u, "data type does not match, length of parameter too low"},
        {0x06090011u, "sub-index does not exist"},
        {AX_MCB_CODE_RANGE, "value range of parameter exceeded"},
        {0x06090031u, "value of parameter written too high"},
        {0x06090032u, "value of parameter written too low"},
        {0x06090036u, "maximum value is less than minimum value"},
        {0x060A0023u, "resource not available: SDO connection"},
        {AX_MCB_CODE_NOT_EXECUTED, "general error, not executed"},
        {0x08000020u, "data cannot be transferred or stored"},
        {0x08000022u, "data cannot be transferred because of the present device state"},
        {0x08000021u, "data cannot be transferred because of local control"},
        {0x08000023u, "no object dictionary is present"},
        {0x08000024u, "no data available"},
};

const char *ax_drive_code_text(uint32_t code)
{
	for (size_t i = 0; i < AX__ARRAY_SIZE(drive_codes); i++)
		if (drive_codes[i].code == code)
			return drive_codes[i].text;
	return NULL;
}

int ax__error_drive(uint32_t drive_code, int command, unsigned subnode, uint32_t address)
{
	const char *text = ax_drive_code_text(drive_code);
	const char *what = command == AX_MCB_WRITE ? "write" : "read";

	(void)ax__error_set_class(AX_ERRCLASS_DRIVE, AX_EDRIVE,
	                          "drive refused %s of register 0x%03X (subnode %u): "
	                          "error 0x%08X%s%s%s",
	                          what, (unsigned)address, subnode, (unsigned)drive_code,
	                          text ? " (" : "", text ? text : "", text ? ")" : "");
	err_tls.drive_code = drive_code;
	return AX_EDRIVE;
}

struct ax__error_saved *ax__error_save(void)
{
	struct err_state *copy = malloc(sizeof(*copy));

	if (copy)
		*copy = err_tls;
	return (struct ax__error_saved *)copy;
}

void ax__error_restore(struct ax__error_saved *saved)
{
	if (!saved) {
		(void)ax__error_oom();
		return;
	}
	err_tls = *(struct err_state *)saved;
	free(saved);
}

void ax__sized_copy(void *out, const void *full, size_t full_size)
{
	uint32_t size;

	memcpy(&size, out, sizeof(size));
	if (size > full_size)
		size = (uint32_t)full_size;
	if (size > sizeof(size))
		memcpy((char *)out + sizeof(size), (const char *)full + sizeof(size),
		       size - sizeof(size));
}

int ax__error_drive_fmt(uint32_t drive_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)ax__error_vset_class(AX_ERRCLASS_DRIVE, AX_EDRIVE, fmt, ap);
	va_end(ap);
	err_tls.drive_code = drive_code;
	return AX_EDRIVE;
}
