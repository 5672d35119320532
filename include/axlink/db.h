/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_DB_H
#define AXLINK_DB_H

/**
 * @file axlink/db.h
 * @brief The device database: dictionaries imported from XML into SQLite,
 *        found again from the identity a drive reports.
 * @defgroup ax_db Device database
 *
 * A database file holds models keyed by (vendor id, product code, revision)
 * with every register, enum, bitfield, category and error of their
 * dictionaries, so a discovered drive's dictionary loads without XML.
 *
 * Resolution looks only at models of the register address space the
 * drive's link speaks (an ETH or EoE dictionary for an MCB link, a CAN or
 * ECAT one for a CANopen link), then applies the rules, best first: the
 * exact product and revision; the same product's nearest lower revision;
 * any revision of the product; none.
 * @{
 */

#include "axlink/common.h"
#include "axlink/ctx.h"
#include "axlink/dict.h"

AX_BEGIN_DECLS

/** An open database. Thread safety: safe (calls are serialized). */
typedef struct ax_db ax_db;

/** Open read-only; fail if the file is missing. */
#define AX_DB_READONLY 0x1u
/** Create the file (and its folder) when missing. */
#define AX_DB_CREATE 0x2u

/** How a dictionary was matched to a drive's identity. */
typedef enum ax_match {
	AX_MATCH_NONE = 0,           /**< nothing fits */
	AX_MATCH_EXACT = 1,          /**< same vendor, product and revision */
	AX_MATCH_LOWER_REVISION = 2, /**< same product, nearest lower revision */
	AX_MATCH_ANY_REVISION = 3,   /**< same product, another revision */
	AX_MATCH_FILE = 4,           /**< a dictionary file the caller named */
} ax_match;

/**
 * A model of the database. Strings are "" when absent. The library
 * allocates models (a caller never indexes an array of them): later
 * versions may append fields.
 */
typedef struct ax_db_model {
	int64_t id; /**< the database's key for the model */
	uint32_t vendor_id;
	uint32_t product_code;
	uint32_t revision;
	const char *name;
	const char *part_number;
	const char *firmware_version;
	const char *interface;
	const char *family;
	const char *source; /**< the file it was imported from */
	const char *sha256; /**< of that file, hex */
	unsigned int format_version;
	size_t registers;
} ax_db_model;

/**
 * A list of models (from ax_db_list() or in an import report), read with
 * ax_db_model_list_count() and ax_db_model_list_at().
 * @since 0.2
 */
typedef struct ax_db_model_list ax_db_model_list;

/**
 * Number of models in @p list (0 for NULL).
 * Thread safety: safe.
 * @since 0.2
 */
AX_API size_t ax_db_model_list_count(const ax_db_model_list *list);

/**
 * Model @p index of @p list, or NULL past the end.
 * Ownership: borrowed for the list's life.
 * Thread safety: safe.
 * @since 0.2
 */
AX_API const ax_db_model *ax_db_model_list_at(const ax_db_model_list *list, size_t index);

/** Free a list from ax_db_list(); accepts NULL. Thread safety: safe. @since 0.2 */
AX_API void ax_db_model_list_free(ax_db_model_list *list);

/** What importing one file did. */
typedef struct ax_db_import_report {
	const char *file;
	unsigned int format_version;    /**< 2 or 3 */
	const ax_db_model_list *models; /**< the file's models, now in the database (or NULL) */
	size_t n_models;                /**< ax_db_model_list_count() of models */
	size_t skipped;                 /**< registers skipped for missing attributes */
	const char *const *warnings;    /**< one line each (file:line: ...) */
	size_t n_warnings;
	int replaced; /**< 1 when the file's models replaced earlier imports */
} ax_db_import_report;

/**
 * Open (or with AX_DB_CREATE create) the database at @p path.
 *
 * Ownership: *out gets one reference (ax_db_unref()). Untouched on failure.
 * Thread safety: safe.
 * @return 0, AX_ENOTFOUND (missing, without AX_DB_CREATE), AX_EACCESS
 *         (read-only location when writing is needed), AX_ECORRUPT (not an
 *         SQLite file, corrupt, or an SQLite file that is not an axlink
 *         database, or a schema version this library does not know; until
 *         0.2 AX_EPROTO), or another negative ax_error_code. Errors of the
 *         database file are AX_ERRCLASS_DB (ax_error_last_class()).
 * @since 0.1
 */
AX_API int ax_db_open(ax_db **out, const char *path, unsigned int flags);

/** Take a reference; returns @p db. @since 0.1 */
AX_API ax_db *ax_db_ref(ax_db *db);
/** Drop a reference; accepts NULL; returns NULL. @since 0.1 */
AX_API ax_db *ax_db_unref(ax_db *db);
/** The file path (borrowed). @since 0.1 */
AX_API const char *ax_db_path(const ax_db *db);

/**
 * Import an XDF file (version 2 or 3). Idempotent: a file whose SHA-256 is
 * already recorded changes nothing; a model imported again from a changed
 * file is replaced. Warnings are also logged through @p ctx (may be NULL),
 * among them one per attribute that a version 3 file lacks though the
 * format makes it mandatory (see AX_DB_IMPORT_STRICT).
 *
 * Ownership: *report_out (may be NULL) is freed with ax_db_import_report_free().
 * Thread safety: safe.
 * @return the number of models in the file (> 0), or what
 *         ax_dict_load_file() returns, AX_EFORMAT of AX_ERRCLASS_DICT (a
 *         model of the file has no register left to import: the database
 *         is left as it was; until 0.2 AX_EPROTO),
 *         AX_EACCESS (read-only database), or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_db_import(ax_db *db, const char *path, ax_ctx *ctx, ax_db_import_report **report_out);

/**
 * Refuse a version 3 file that lacks an attribute the format makes
 * mandatory: address_type, access, dtype, id, pdo_access, desc, default and
 * cat_id on MCBRegister (with address and subnode) and on CANopen Subitem
 * (with subindex); index and datatype on CANopenObject; firmwareVersion,
 * ProductCode, PartNumber and RevisionNumber on a device element; min and
 * max on Range; id, error_type and affected_module on Error. Without the
 * flag such a file is imported, with a warning in the report for each
 * attribute missing (once per device and kind of element).
 * @since 0.2
 */
#define AX_DB_IMPORT_STRICT 0x1u

/**
 * ax_db_import() with @p flags: 0 or AX_DB_IMPORT_STRICT.
 *
 * Ownership: as ax_db_import().
 * Thread safety: safe.
 * @return as ax_db_import(); with AX_DB_IMPORT_STRICT also AX_EFORMAT of
 *         AX_ERRCLASS_DICT for a version 3 file that lacks a mandatory
 *         attribute (the message names the file, the line, the element and
 *         the attribute; the database is left as it was); AX_EINVAL for an
 *         unknown flag.
 * @since 0.2
 */
AX_API int ax_db_import_flags(ax_db *db, const char *path, unsigned int flags, ax_ctx *ctx,
                              ax_db_import_report **report_out);

/** Free an import report; accepts NULL. @since 0.1 */
AX_API void ax_db_import_report_free(ax_db_import_report *report);

/**
 * List the models.
 * Ownership: *out is freed with ax_db_model_list_free(), NULL when the
 * database has no models; untouched on failure.
 * Thread safety: safe.
 * @return the number of models (>= 0) or a negative ax_error_code.
 * @since 0.1 (a list since 0.2)
 */
AX_API int ax_db_list(ax_db *db, ax_db_model_list **out);

/**
 * Load the dictionary of model @p model_id.
 * @return 0, AX_ENOTFOUND, or another negative ax_error_code.
 * @since 0.1
 */
AX_API int ax_db_load(ax_db *db, int64_t model_id, ax_dict **out);

/**
 * Find the dictionary for a drive identity by the rules above, among the
 * models of one register address space: a link's dictionary must address
 * registers the way the link does (ax_link_addr_space()), so a CANopen
 * dictionary never answers for an MCB link, even at an exact revision.
 *
 * @param addr_space      an ax_addr_space (AX_ADDR_MCB, AX_ADDR_CANOPEN)
 * @param[out] dict_out   the dictionary (one reference), or NULL for AX_MATCH_NONE
 * @param[out] match_out  the ax_match rule that applied
 * @param[out] reason_out one line saying why, freed with ax_free(); may be NULL
 *            ("product 0x00010064 rev 0x00010002: exact match, axs-100 1.2.0")
 * @return 0 (also when nothing matched: check *match_out), AX_EINVAL (unknown
 *         address space), or a negative ax_error_code for a database failure.
 * @since 0.1
 */
AX_API int ax_db_resolve(ax_db *db, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
                         int addr_space, ax_dict **dict_out, int *match_out, char **reason_out);

/** Name of a match rule ("none", "exact", "lower-revision", "any-revision", "file"). @since 0.1 */
AX_API const char *ax_match_name(int match);

/** The databases a context searches, in this order. */
typedef enum ax_db_location {
	AX_DB_LOCATION_ENV = 0, /**< the file named by AXLINK_DB */
	AX_DB_LOCATION_USER =
	        1, /**< $XDG_DATA_HOME/axlink/devices.db (~/.local/share/...): imports go here */
	AX_DB_LOCATION_INSTALLED =
	        2, /**< ../share/axlink/devices.db beside the library (also in a build tree) */
} ax_db_location;

/**
 * Path of the database at @p location.
 * Ownership: *out is freed with ax_free().
 * @return 0, or AX_ENOTFOUND when the location has no path (AXLINK_DB unset,
 *         no HOME) — the file itself need not exist.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_db_location_path(int location, char **out);

/**
 * Resolve a drive identity against the context's databases: AXLINK_DB, the
 * user database, the installed database (missing files are skipped; a
 * broken one is logged and skipped). Only models of @p addr_space count
 * (see ax_db_resolve()). The best rule over all of them wins; on a tie the
 * earlier database wins. Databases are compared before any dictionary is
 * loaded, and only the winner is.
 *
 * The context keeps the databases open and the dictionaries it loaded, one
 * per (database file as it is now, model): resolving the same model again
 * gives the same ax_dict (one more reference) without reading it again, so
 * drives of one model share their dictionary. A database that changes (an
 * import, another file renamed over it) is read again on the next call.
 *
 * Output and return as ax_db_resolve(); the reason names the database used.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_ctx_resolve(ax_ctx *ctx, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
                          int addr_space, ax_dict **dict_out, int *match_out, char **reason_out);

AX_END_DECLS

/** @} */
#endif
