/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_DRIVE_H
#define AXLINK_DRIVE_H

/**
 * @file axlink/drive.h
 * @brief A drive: a link, the identity the drive reports, and its dictionary.
 * @defgroup ax_drive Drives
 *
 * ax_drive_open() opens the link, reads the drive's identity and attaches
 * its dictionary — from a file the caller names, or from the device
 * databases (ax_ctx_resolve()) — so registers can be used by name with
 * their types.
 *
 * Sharing. A context hands out one drive per location and view: opening a
 * URI that is already open (however it is spelled) with options that make
 * the same drive — the same dictionary source (the databases, the same file
 * under the same checks, or none) — returns that drive with one more
 * reference. Options that make another drive (AX_DRIVE_NO_DICT, another
 * dictionary file, or AX_DRIVE_STRICT / AX_DRIVE_IDENTITY_OPTIONAL with a
 * file) give a new drive with its own dictionary, on the link of the drive
 * already open there: one endpoint keeps one link, so the two never
 * interleave requests, and its request timeout is the first opener's
 * (ax_link_set_timeout() changes it for both).
 * @{
 */

#include "axlink/cancel.h"
#include "axlink/common.h"
#include "axlink/ctx.h"
#include "axlink/dict.h"
#include "axlink/link.h"

AX_BEGIN_DECLS

/** An open drive. Thread safety: safe (requests go through its link). */
typedef struct ax_drive ax_drive;

/** An identity mismatch between the drive and a named dictionary is an error, not a warning. */
#define AX_DRIVE_STRICT 0x1u
/** Do not look for a dictionary: registers are then reachable by address only. */
#define AX_DRIVE_NO_DICT 0x2u
/**
 * With a dictionary file (ax_drive_options.dictionary): a drive that does not
 * report its identity — it refuses the identity registers, does not answer
 * them, or its transport has none — still opens with that file.
 * ax_drive_identity()->known is then 0, the file is used without the
 * identity check, and ax_drive_match_reason() says why. Without a file the
 * identity is what finds the dictionary, so it stays required.
 * @since 0.1
 */
#define AX_DRIVE_IDENTITY_OPTIONAL 0x4u

#define AX_DRIVE_OPTIONS_VERSION 1

/** Options for ax_drive_open(). */
typedef struct ax_drive_options {
	unsigned int version;   /**< AX_DRIVE_OPTIONS_VERSION */
	unsigned int flags;     /**< AX_DRIVE_* */
	int timeout_ms;         /**< link request timeout; 0 = the transport's default */
	const char *dictionary; /**< an XDF file to use instead of the databases, or NULL */
} ax_drive_options;

#define AX_DRIVE_OPTIONS_INIT                                                                      \
	{                                                                                          \
		AX_DRIVE_OPTIONS_VERSION, 0, 0, NULL                                               \
	}

/**
 * Open the drive at @p uri, read its identity and attach its dictionary.
 *
 * Without a dictionary file, the context's databases are searched; a drive
 * whose model no database knows still opens (ax_drive_dict() is then NULL
 * and ax_drive_match() AX_MATCH_NONE). With a file, the dictionary of the
 * file that speaks the link's address space is used; an identity that
 * differs from the file's is logged as a warning naming both, or fails with
 * AX_ETYPE under AX_DRIVE_STRICT. With a file and AX_DRIVE_IDENTITY_OPTIONAL,
 * a drive that does not report its identity opens too.
 *
 * @p uri may also be a stable identity URI (`axlink://VENDOR/PRODUCT/SERIAL`,
 * see axlink/discover.h): ax_discover_locate() finds where the drive is now
 * and that location is opened, so ax_drive_uri() is the location and the
 * same drive opened by either URI is the same ax_drive (see Sharing above
 * for a drive opened twice).
 *
 * Ownership: *out gets one reference (ax_drive_unref()); the drive holds
 * its link (which holds the context). Untouched on failure.
 * Thread safety: safe.
 * @return 0, what ax_link_open(), ax_link_identify() and (for a stable
 *         URI) ax_discover_locate() return,
 *         AX_ENOTFOUND / AX_EFORMAT for a dictionary file that cannot be used
 *         (class AX_ERRCLASS_DICT),
 *         AX_ETYPE (strict identity mismatch), or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_drive_open(ax_drive **out, ax_ctx *ctx, const char *uri,
                         const ax_drive_options *opts);

/** Take a reference; returns @p drive. Thread safety: safe. @since 0.1 */
AX_API ax_drive *ax_drive_ref(ax_drive *drive);
/** Drop a reference; accepts NULL; returns NULL. Thread safety: safe. @since 0.1 */
AX_API ax_drive *ax_drive_unref(ax_drive *drive);

/** The drive's link (borrowed for the drive's life). @since 0.1 */
AX_API ax_link *ax_drive_link(const ax_drive *drive);
/** The URI the drive was opened with (borrowed). @since 0.1 */
AX_API const char *ax_drive_uri(const ax_drive *drive);
/** The identity read at open (borrowed). @since 0.1 */
AX_API const ax_identity *ax_drive_identity(const ax_drive *drive);
/** The dictionary (borrowed), or NULL when none was found. @since 0.1 */
AX_API const ax_dict *ax_drive_dict(const ax_drive *drive);
/** How the dictionary was found: an ax_match. @since 0.1 */
AX_API int ax_drive_match(const ax_drive *drive);
/** One line saying how the dictionary was found, or why none was (borrowed). @since 0.1 */
AX_API const char *ax_drive_match_reason(const ax_drive *drive);
/**
 * Number of axes: the drive's DRV_AXIS_NUMBER register when it answers,
 * else the dictionary's, else 1. Axes are subnodes 1..n.
 * @since 0.1
 */
AX_API unsigned int ax_drive_axes(const ax_drive *drive);

/**
 * Find register @p id (on @p subnode, or the first one with that id when
 * @p subnode < 0) in the drive's dictionary.
 * @return 0, AX_ENOTFOUND (no such register, or no dictionary: the message
 *         says which and how to get one).
 * @since 0.1
 */
AX_API int ax_drive_find(const ax_drive *drive, const char *id, int subnode, const ax_reg **out);

/**
 * Read register @p id as a number: integers and bool as int64 (u64 above
 * INT64_MAX fails with AX_ERANGE), floats converted.
 * @return 0, what ax_drive_find() and ax_link_read_reg() return, AX_ETYPE
 *         for a str or bytes register.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_drive_read_i64(ax_drive *drive, const char *id, int subnode, int64_t *out);
/**
 * As ax_drive_read_i64(), as a double: integers converted, floats as they are.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_drive_read_f64(ax_drive *drive, const char *id, int subnode, double *out);

/**
 * Write a number to register @p id, converted to the register's type:
 * integers must fit (AX_ERANGE otherwise); a float register takes the value
 * rounded to float by ax_value_from_f64(), which refuses NaN, infinity and
 * values a float would lose (beyond ±3.4e38, or nonzero but stored as 0);
 * an integer register refuses a non-integral double.
 * Range and access rules as ax_link_write_reg(). To write a NaN or an
 * infinity on purpose: ax_value_from_f64() and ax_link_write_reg_flags(),
 * both with AX_VALUE_ALLOW_NONFINITE.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_drive_write_i64(ax_drive *drive, const char *id, int subnode, int64_t value);
/**
 * As ax_drive_write_i64(), from a double, with the float rules above.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_drive_write_f64(ax_drive *drive, const char *id, int subnode, double value);

/** ax_drive_store() / ax_drive_restore(): the communication core and every axis. */
#define AX_DRIVE_ALL_SUBNODES (-1)
/** Their timeout when the caller gives 0 (ms): drives take seconds to write flash. */
#define AX_DRIVE_NVM_TIMEOUT_MS 10000

/**
 * Store the drive's parameters in its non-volatile memory, so they survive
 * a power cycle.
 *
 * Writes the store signature 0x65766173 ("save" in ASCII, as a u32) to the
 * dictionary's store register of @p subnode — DRV_STORE_COCO_ALL on subnode
 * 0, DRV_STORE_MOCO_ALL on an axis — or, with AX_DRIVE_ALL_SUBNODES, to the
 * communication core's and then each axis's that the dictionary has. After
 * each write it reads the register back until the drive has cleared the
 * signature (drives do when the store is done; a write-only register is
 * done when the write is acknowledged), in slices of a few milliseconds that
 * watch @p cancel. A drive that does not answer while it writes its memory
 * is waited for, within the timeout.
 *
 * Ownership: none taken. Thread safety: safe (requests go through the link);
 * one store or restore per drive at a time is the caller's business.
 *
 * @param subnode    0, an axis 1..ax_drive_axes(), or AX_DRIVE_ALL_SUBNODES
 * @param timeout_ms for the whole call; 0 = AX_DRIVE_NVM_TIMEOUT_MS
 * @param cancel     NULL, or a token another thread (or a signal handler)
 *                   triggers to end the wait
 * @return 0; AX_EDRIVE when the drive refuses (the message names the register
 *         and the drive's reason, e.g. 0x08000022 "not in a state that allows
 *         storing", ax_error_last_drive_code() has the code); AX_ENOTFOUND
 *         (no dictionary, or it has no store register there); AX_EINVAL (no
 *         such subnode); AX_ETIMEDOUT (the drive did not finish in time; the
 *         message says which register); AX_ECANCELED; or another negative
 *         ax_error_code.
 * @since 0.2
 */
AX_API int ax_drive_store(ax_drive *drive, int subnode, int timeout_ms, ax_cancel *cancel);

/**
 * Put the drive's parameters back to their defaults in its non-volatile
 * memory (and, on most drives, in use; others take them at the next power
 * cycle).
 *
 * As ax_drive_store(), with the restore signature 0x64616F6C ("load") and
 * the restore registers: DRV_RESTORE_COCO_ALL on subnode 0, which restores
 * every parameter of the drive, and DRV_RESTORE_MOCO_ALL on an axis where
 * the dictionary has one. AX_DRIVE_ALL_SUBNODES writes every one of them.
 *
 * @return as ax_drive_store(); AX_ENOTFOUND for an axis without a restore
 *         register of its own (restore subnode 0 or all instead).
 * @since 0.2
 */
AX_API int ax_drive_restore(ax_drive *drive, int subnode, int timeout_ms, ax_cancel *cancel);

/**
 * Read entry @p entry of the dictionary's table @p id (ax_dict_table_find())
 * on the drive: writes the entry number to the table's index register, then
 * reads its value register as a number (as ax_drive_read_i64()).
 *
 * @p axis < 0 takes the first table of that id; otherwise the one the
 * dictionary gives that axis, else the drive's one that names no axis.
 * Ownership: none taken. Thread safety: safe: the select-then-read pair
 * holds a lock of the drive object, so threads sharing it get their own
 * entries (another program on the same drive is not excluded).
 * @return 0; AX_ENOTFOUND (no dictionary, no such table); AX_ERANGE (@p entry
 *         outside the table, ax_dict_table_entries(); the message names the
 *         table); or what ax_link_read_reg() / ax_link_write_reg() return.
 * @since 0.2
 */
AX_API int ax_drive_table_read(ax_drive *drive, const char *id, int axis, int64_t entry,
                               int64_t *value_out);

/**
 * Write @p value to entry @p entry of table @p id: selects the entry as
 * ax_drive_table_read() does, then writes the value register (as
 * ax_drive_write_i64(); a read-only table fails with its access error).
 * @return as ax_drive_table_read().
 * @since 0.2
 */
AX_API int ax_drive_table_write(ax_drive *drive, const char *id, int axis, int64_t entry,
                                int64_t value);

/**
 * The entries table @p id has on this drive's dictionary: @p first_out the
 * first entry number, @p count_out how many (either may be NULL).
 * @return 0, AX_ENOTFOUND or AX_ERANGE as ax_dict_table_entries().
 * @since 0.2
 */
AX_API int ax_drive_table_size(ax_drive *drive, const char *id, int axis, int64_t *first_out,
                               uint64_t *count_out);

/**
 * The drive's error history, newest first: the codes in its error list
 * (table DRV_DIAG_ERROR_LIST, as many as DRV_DIAG_ERROR_TOTAL_COM counts
 * and the table holds, ending at the first code 0), each with the text,
 * error type and affected module of the dictionary's Errors section ("" for
 * a code the dictionary does not name).
 *
 * Ownership: the strings in @p out are borrowed from the drive's dictionary
 * (valid while the drive is). Thread safety: as ax_drive_table_read().
 * @param axis      as ax_drive_table_read() (-1: the drive's list)
 * @param out       room for @p cap entries (may be NULL when @p cap is 0)
 * @param count_out the number of errors the list holds (may exceed @p cap;
 *                  only the first @p cap are in @p out)
 * @return 0, or what ax_drive_table_read() returns.
 * @since 0.2
 */
AX_API int ax_drive_errors(ax_drive *drive, int axis, ax_dict_error_entry *out, size_t cap,
                           size_t *count_out);

/**
 * The fault that stopped axis @p axis: the code in its DRV_DIAG_ERROR_LAST
 * register and the dictionary's entry for it (code 0, strings "": none).
 * Ownership: strings borrowed from the dictionary. Thread safety: safe.
 * @return 0, or what ax_drive_read_i64() returns.
 * @since 0.2
 */
AX_API int ax_drive_fault(ax_drive *drive, int axis, ax_dict_error_entry *out);

AX_END_DECLS

/** @} */
#endif
