/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_CONFIG_H
#define AXLINK_CONFIG_H

/**
 * @file axlink/config.h
 * @brief Configuration files: save a drive's configuration, load it, compare.
 * @defgroup ax_config Configuration files
 *
 * A drive's configuration is every register its dictionary marks
 * read-write (`access="rw"`) and kept in non-volatile memory
 * (`address_type` `NVM` or `NVM_CFG`), on the communication core
 * (subnode 0) and on each axis. Register tables are not part of it yet.
 *
 * The file is the configuration format of the dictionary family ("XCF"):
 *
 *     <IngeniaDictionary>
 *       <Header><Version>2</Version></Header>
 *       <Body>
 *         <Device Interface="ETH" firmwareVersion="..." ProductCode="65636"
 *                 PartNumber="AXS-100" RevisionNumber="65538">
 *           <Registers>
 *             <Register access="rw" dtype="float" id="CL_VEL_PID_KP"
 *                       subnode="1" storage="0.5"/>
 *             <Register access="rw" dtype="byteArray512" id="DRV_USER_DATA"
 *                       subnode="0" storage="00ff..." data="00ff..."/>
 *
 * ProductCode and RevisionNumber are decimal, `NodeID` is optional (CAN).
 * `storage` holds the value as text: a decimal integer, a float that reads
 * back to the same binary32, a string's own text, `True`/`False`; a byte
 * array is hex, in `data` too. A `data` attribute, when a file has one, is
 * the value's little-endian bytes and wins over `storage`. Other
 * attributes and elements (e.g. a `Tables` block) are accepted and ignored
 * by a load; a save with AX_CONFIG_UPDATE rewrites an existing file and
 * keeps them (a plain save writes a new file).
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#include "axlink/common.h"
#include "axlink/drive.h"

AX_BEGIN_DECLS

/** ax_config_save() @p subnode: every subnode of the dictionary. */
#define AX_CONFIG_ALL (-1)

/**
 * Load or diff a file written for another firmware revision of the same
 * product (the product code must still match).
 */
#define AX_CONFIG_ALLOW_REVISION 0x1u

/**
 * ax_config_save(): when @p path is an existing configuration file of the
 * same product, update it rather than write a new one. Its other
 * attributes, elements (e.g. Tables) and registers are kept, each
 * configuration register gets the drive's value (`storage`, and `data`
 * when the file had one or the register is a byte array), registers it
 * lacks are appended, and the Device's identity attributes are the drive's.
 * Indentation is rewritten; comments and attribute order stay.
 */
#define AX_CONFIG_UPDATE 0x2u

/** What happened to one register of a load or a diff. */
typedef enum ax_config_status {
	AX_CONFIG_WRITTEN = 1,     /**< load: written, and reads back equal */
	AX_CONFIG_UNCHANGED = 2,   /**< the drive already has the file's value */
	AX_CONFIG_REFUSED = 3,     /**< the drive or its dictionary refused the write (or read) */
	AX_CONFIG_NOT_IN_DICT = 4, /**< the file's register is not in this drive's dictionary */
	AX_CONFIG_MISMATCH = 5,    /**< load: written, but reads back another value */
	AX_CONFIG_DIFFERENT = 6,   /**< diff: the drive has another value */
	AX_CONFIG_INVALID = 7,     /**< the file's entry is unusable (value, dtype, subnode) */
	AX_CONFIG_NOT_IN_FILE = 8, /**< diff: a configuration register the file lacks */
	AX_CONFIG_SKIPPED = 9,     /**< not tried: the operation stopped before it (link lost,
	                            *   cancel) */
} ax_config_status;

/** The outcome of a load or a diff, register by register. Thread safety: immutable. */
typedef struct ax_config_report ax_config_report;

/**
 * Save the configuration of @p drive to @p path (overwritten).
 *
 * Reads every configuration register of @p subnode (or of all subnodes,
 * AX_CONFIG_ALL) in dictionary order and writes the file in one go (a
 * temporary file renamed over @p path, so a failed save leaves no half file).
 * Thread safety: safe (the reads go through the drive's link).
 *
 * @param subnode  0..255, or AX_CONFIG_ALL
 * @param flags    0, or AX_CONFIG_UPDATE
 * @return the number of registers saved (>= 0), AX_ENOTFOUND (the drive has
 *         no dictionary, or none of its registers is configuration),
 *         AX_EIO (the file), AX_EFORMAT and AX_EINVAL (AX_CONFIG_UPDATE: the
 *         file is not a configuration, or of another product), or what a
 *         register read returns (AX_EDRIVE, ...).
 * @since 0.3
 */
AX_API int ax_config_save(ax_drive *drive, const char *path, int subnode, unsigned int flags);

/**
 * Load the configuration file @p path into @p drive.
 *
 * Checks the file's product code against the drive's (and its revision,
 * unless @p flags has AX_CONFIG_ALLOW_REVISION), then, in dictionary order,
 * reads each register the file names, writes it when it differs, and reads
 * it back. The report has one entry per register of the file (on
 * @p subnode, or all with AX_CONFIG_ALL). To stop a load from another
 * thread or a signal handler, use ax_config_load_cancel().
 *
 * Ownership: *report_out gets a report (ax_config_report_free()) whenever
 * registers were tried, including when the call fails because some were not
 * applied; it is NULL when the file or the identity was refused.
 * Thread safety: safe.
 *
 * @param[out] report_out  the report, or NULL when not wanted
 * @return 0 when every register is written or unchanged; AX_EFORMAT (not
 *         a configuration file), AX_ENOTFOUND (no file, or no dictionary),
 *         AX_EINVAL (identity mismatch), or, when a register was not
 *         applied, the error of the first such register (AX_EDRIVE,
 *         AX_ERANGE, AX_ENOTFOUND for a register the dictionary lacks, ...)
 *         with a message counting them; see the report.
 * @since 0.3
 */
AX_API int ax_config_load(ax_drive *drive, const char *path, int subnode, unsigned int flags,
                          ax_config_report **report_out);

/**
 * ax_config_load(), stopped by @p cancel.
 *
 * The load watches @p cancel before each request that could still leave
 * the drive as it was, so it stops within about one request of the
 * trigger: a register whose write went out is still read back, and the
 * registers not tried are AX_CONFIG_SKIPPED. Cancelled before its first
 * write, the load has written nothing. Cancelled after it, the drive holds
 * part of the file's configuration; the message counts the registers
 * written, and the report names them.
 *
 * Ownership: as ax_config_load(), a report also when cancelled; @p cancel
 * is only watched, not kept.
 * Thread safety: safe.
 *
 * @param cancel           NULL (then this is ax_config_load()), or a token
 *                         another thread or a signal handler triggers
 * @param[out] report_out  the report, or NULL when not wanted
 * @return as ax_config_load(), or AX_ECANCELED when @p cancel stopped the
 *         load (the message says how many registers were written, of how
 *         many).
 * @since 0.3
 */
AX_API int ax_config_load_cancel(ax_drive *drive, const char *path, int subnode, unsigned int flags,
                                 ax_cancel *cancel, ax_config_report **report_out);

/**
 * Compare @p drive with the configuration file @p path without writing.
 *
 * Entries: every register of the file (UNCHANGED, DIFFERENT, NOT_IN_DICT,
 * INVALID, REFUSED when unreadable), then the drive's configuration
 * registers the file lacks on the subnodes it covers (NOT_IN_FILE).
 * Ownership and identity check as ax_config_load().
 *
 * @return the number of entries that are not UNCHANGED (>= 0), or
 *         AX_EFORMAT, AX_ENOTFOUND, AX_EINVAL as ax_config_load(), or a
 *         link error that stopped the comparison.
 * @since 0.3
 */
AX_API int ax_config_diff(ax_drive *drive, const char *path, int subnode, unsigned int flags,
                          ax_config_report **report_out);

/** Free a report; accepts NULL. @since 0.3 */
AX_API void ax_config_report_free(ax_config_report *report);

/** Number of entries. @since 0.3 */
AX_API size_t ax_config_report_count(const ax_config_report *report);

/** Number of entries with status @p status (an ax_config_status). @since 0.3 */
AX_API size_t ax_config_report_tally(const ax_config_report *report, int status);

/**
 * Entry @p index: register id (borrowed), subnode and ax_config_status.
 * Any out pointer may be NULL.
 * @return 0, or AX_ENOTFOUND past the end.
 * @since 0.3
 */
AX_API int ax_config_report_at(const ax_config_report *report, size_t index, const char **id_out,
                               int *subnode_out, int *status_out);

/** Entry @p index: the file's value as text, or NULL (NOT_IN_FILE, past the end). @since 0.3 */
AX_API const char *ax_config_report_file_value(const ax_config_report *report, size_t index);

/**
 * Entry @p index: the drive's value as text before the load (the value
 * compared, for a diff), or NULL when it was not read.
 * @since 0.3
 */
AX_API const char *ax_config_report_drive_value(const ax_config_report *report, size_t index);

/** Entry @p index: its ax_error_code (0 unless REFUSED, INVALID, MISMATCH, ...). @since 0.3 */
AX_API int ax_config_report_error(const ax_config_report *report, size_t index);

/** Entry @p index: the drive's own error code for an AX_EDRIVE refusal, else 0. @since 0.3 */
AX_API uint32_t ax_config_report_drive_code(const ax_config_report *report, size_t index);

/** Entry @p index: one line saying why it failed, or "" (borrowed). @since 0.3 */
AX_API const char *ax_config_report_message(const ax_config_report *report, size_t index);

/** Name of an ax_config_status ("written", "not_in_dict", ...), or NULL. @since 0.3 */
AX_API const char *ax_config_status_name(int status);

AX_END_DECLS

/** @} */

#endif
