/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_DICT_H
#define AXLINK_DICT_H

/**
 * @file axlink/dict.h
 * @brief Register dictionaries: what a drive model's registers are called,
 *        where they live, their types, units, ranges, enums and bitfields.
 * @defgroup ax_dict Dictionaries
 *
 * A dictionary describes one drive model on one interface (an ETH/EoE
 * dictionary addresses registers as subnode + 12-bit MCB address, a
 * CAN/ECAT one as CANopen index << 8 | subindex). Dictionaries come from
 * `IngeniaDictionary` XML files (versions 2 and 3) or from the device
 * database (axlink/db.h). Once loaded a dictionary is immutable and may be
 * shared by any number of drives and threads.
 *
 * Registers (ax_reg) are borrowed from their dictionary: valid while it is.
 * @{
 */

#include "axlink/common.h"
#include "axlink/ctx.h"

AX_BEGIN_DECLS

/** An immutable dictionary. Thread safety: immutable (share freely). */
typedef struct ax_dict ax_dict;
/** A register of a dictionary (borrowed). Thread safety: immutable. */
typedef struct ax_reg ax_reg;

/**
 * Register address spaces. A dictionary addresses its registers in one
 * (ax_dict_identity.addr_space), a transport speaks one (ax_link_addr_space(),
 * ax_transport_desc.addr_space in axlink/plugin.h), and resolution only
 * gives a link a dictionary of its own space (ax_ctx_resolve()).
 * @since 0.1 (first declared in axlink/plugin.h, which still includes this header)
 */
typedef enum ax_addr_space {
	AX_ADDR_MCB = 1,     /**< subnode + 12-bit register address (ETH, EoE dictionaries) */
	AX_ADDR_CANOPEN = 2, /**< index << 8 | subindex (CAN, ECAT dictionaries) */
} ax_addr_space;

/** Register access rights. */
#define AX_REG_READ 0x1
#define AX_REG_WRITE 0x2
#define AX_REG_RW 0x3

/** Identity of the model a dictionary describes. Strings "" when absent. */
typedef struct ax_dict_identity {
	uint32_t vendor_id; /**< 0 when the file does not say */
	uint32_t product_code;
	uint32_t revision;
	const char *part_number;
	const char *firmware_version;
	const char *interface; /**< "ETH", "EoE", "ECAT", "CAN" */
	const char *family;
	const char *name;            /**< model name */
	int addr_space;              /**< an ax_addr_space: AX_ADDR_MCB or AX_ADDR_CANOPEN */
	unsigned int format_version; /**< 2 or 3: the XML version it came from */
	unsigned int axes;           /**< number of axis subnodes */
} ax_dict_identity;

/**
 * Load every model of an XDF file. A version 3 file may describe several
 * interfaces of a drive (ETH, ECAT, CAN...): one dictionary per device element.
 *
 * Registers missing a mandatory attribute are skipped with a warning (file,
 * line, attribute) logged through @p ctx (may be NULL: no log). Registers
 * the address space cannot reach are kept, flagged (ax_reg_reachable()),
 * with a warning. A configuration file (an `IngeniaDictionary` of saved
 * register values, "XCF") is refused with AX_EFORMAT saying so.
 * Ownership: *out is a malloc'ed array of @p *n_out references; release each
 * with ax_dict_unref() and the array with ax_free(). Untouched on failure.
 * Thread safety: safe.
 *
 * @return the number of dictionaries (> 0), AX_ENOTFOUND (no file),
 *         AX_ETOOBIG (over the size limit), AX_EFORMAT (malformed XML, not an
 *         IngeniaDictionary, unsupported version: message names file and
 *         line; until 0.2 AX_EPROTO), or another negative ax_error_code, all
 *         of class AX_ERRCLASS_DICT.
 * @since 0.1
 */
AX_API int ax_dict_load_file(ax_dict ***out, size_t *n_out, const char *path, ax_ctx *ctx);

/**
 * Take a reference; returns @p dict.
 *
 * Takes a const dictionary, so a borrowed one (ax_drive_dict(), a discovery
 * result) can be kept: a dictionary is immutable once loaded, and the
 * reference returned only lets its owner drop it (ax_dict_unref()).
 * Thread safety: safe.
 * @since 0.1 (const parameter since 0.2)
 */
AX_API ax_dict *ax_dict_ref(const ax_dict *dict);
/** Drop a reference; accepts NULL; returns NULL. Thread safety: safe. @since 0.1 */
AX_API ax_dict *ax_dict_unref(ax_dict *dict);

/** The model's identity (borrowed for the dictionary's life). @since 0.1 */
AX_API const ax_dict_identity *ax_dict_identity_get(const ax_dict *dict);

/** Where the dictionary came from: a file path, or "db:<path>#<model id>". @since 0.1 */
AX_API const char *ax_dict_source(const ax_dict *dict);

/** Number of registers. @since 0.1 */
AX_API size_t ax_dict_reg_count(const ax_dict *dict);

/** Register @p index (0-based, file order), or NULL past the end. @since 0.1 */
AX_API const ax_reg *ax_dict_reg_at(const ax_dict *dict, size_t index);

/**
 * Find a register by id. @p subnode < 0 takes the first match in file order
 * (ids are usually unique per dictionary; some repeat per axis).
 * @return 0 and *out, or AX_ENOTFOUND (message names the id).
 * @since 0.1
 */
AX_API int ax_dict_find(const ax_dict *dict, const char *id, int subnode, const ax_reg **out);

/**
 * Find a register by address: (subnode, MCB address) or, for CANopen
 * dictionaries, (subnode, index << 8 | subindex).
 * @return 0 and *out, or AX_ENOTFOUND.
 * @since 0.1
 */
AX_API int ax_dict_find_address(const ax_dict *dict, unsigned subnode, uint32_t address,
                                const ax_reg **out);

/** Number of categories. @since 0.1 */
AX_API size_t ax_dict_category_count(const ax_dict *dict);

/**
 * Category @p index: its id and label (default language).
 * @return 0, or AX_ENOTFOUND past the end.
 * @since 0.1
 */
AX_API int ax_dict_category_at(const ax_dict *dict, size_t index, const char **id_out,
                               const char **label_out);

/** Number of drive error codes the dictionary names. @since 0.1 */
AX_API size_t ax_dict_error_count(const ax_dict *dict);

/**
 * Error @p index: its code and description.
 * @return 0, or AX_ENOTFOUND past the end.
 * @since 0.1
 */
AX_API int ax_dict_error_at(const ax_dict *dict, size_t index, uint32_t *code_out,
                            const char **text_out);

/** Description of drive error @p code, or NULL when the dictionary has none. @since 0.1 */
AX_API const char *ax_dict_error_text(const ax_dict *dict, uint32_t code);

/**
 * A drive error code as the dictionary's `Errors/Error` element names it.
 * Strings are borrowed from the dictionary, "" when the file does not give
 * them, never NULL.
 * @since 0.2
 */
typedef struct ax_dict_error_entry {
	uint32_t code;      /**< the error code (XDF `id`) */
	const char *text;   /**< its label in the file's default language, else `description` */
	const char *type;   /**< XDF `error_type`: "cyclic", "configuration", ... */
	const char *module; /**< XDF `affected_module`: "Power stage", "Communications", ... */
} ax_dict_error_entry;

/**
 * Error @p index (0-based, file order) with every field the file gives.
 *
 * Ownership: the strings in *out are borrowed from the dictionary.
 * Thread safety: immutable, like the dictionary.
 * @return 0, or AX_ENOTFOUND past the end (*out untouched).
 * @since 0.2
 */
AX_API int ax_dict_error_entry_at(const ax_dict *dict, size_t index, ax_dict_error_entry *out);

/**
 * The entry of drive error @p code: its text, type and affected module.
 *
 * Ownership: the strings in *out are borrowed from the dictionary.
 * Thread safety: immutable, like the dictionary.
 * @return 0, or AX_ENOTFOUND (the dictionary names no such code; *out untouched).
 * @since 0.2
 */
AX_API int ax_dict_error_lookup(const ax_dict *dict, uint32_t code, ax_dict_error_entry *out);

/** @name Tables
 * A table is a block of values inside the drive (a cogging compensation
 * table, the error list, a user memory) reached through two registers:
 * writing an entry number to the index register selects an entry, then the
 * value register reads or writes that entry. Version 3 files list a
 * device's tables as `Tables/Table[@id @axis @id_index @id_value]`, `axis`
 * being optional; version 2 files have none.
 * Thread safety: immutable, like the dictionary.
 * @{
 */

/** Number of tables. @since 0.1 */
AX_API size_t ax_dict_table_count(const ax_dict *dict);

/**
 * Table @p index (0-based, file order).
 *
 * A table that names no axis uses the first registers of those ids in file
 * order; ax_reg_subnode() of its registers says where they are.
 * Any out pointer may be NULL. Ownership: all borrowed from the dictionary.
 *
 * @param[out] id_out         the table's id
 * @param[out] axis_out       the axis (subnode) the file gives it, or -1 when none
 * @param[out] index_reg_out  the register that selects an entry
 * @param[out] value_reg_out  the register that reads or writes the selected entry
 * @return 0, or AX_ENOTFOUND past the end (out params untouched).
 * @since 0.1
 */
AX_API int ax_dict_table_at(const ax_dict *dict, size_t index, const char **id_out, int *axis_out,
                            const ax_reg **index_reg_out, const ax_reg **value_reg_out);

/**
 * Find a table by id. @p axis < 0 takes the first match in file order;
 * otherwise only a table the file gives that axis matches (ids repeat per
 * axis, as register ids do).
 *
 * @param[out] index_out  its position, for ax_dict_table_at() and ax_dict_table_entries()
 * @return 0, or AX_ENOTFOUND (message names the id; *index_out untouched).
 * @since 0.1
 */
AX_API int ax_dict_table_find(const ax_dict *dict, const char *id, int axis, size_t *index_out);

/**
 * The entry numbers table @p index has: those its index register's Range
 * allows. A negative minimum counts from 0, since drives take a negative
 * index (usually -1) as "no entry selected".
 *
 * @param[out] first_out  the first entry number (may be NULL)
 * @param[out] count_out  how many entries there are (may be NULL)
 * @return 0, AX_ENOTFOUND (no table @p index), or AX_ERANGE (the index
 *         register has no Range, a Range that is not 64-bit integers, or one
 *         that allows no entry; the message names the register).
 * @since 0.1
 */
AX_API int ax_dict_table_entries(const ax_dict *dict, size_t index, int64_t *first_out,
                                 uint64_t *count_out);
/** @} */

/** @name Register properties
 * Getters on a register; strings are "" when absent, never NULL.
 * @since 0.1
 * @{
 */
AX_API const char *ax_reg_id(const ax_reg *reg);
AX_API unsigned ax_reg_subnode(const ax_reg *reg);
/** MCB address, or CANopen index << 8 | subindex. */
AX_API uint32_t ax_reg_address(const ax_reg *reg);
/** An ax_dtype (axlink/value.h); AX_DTYPE_BOOL also stands for "bit". */
AX_API int ax_reg_dtype(const ax_reg *reg);
/** AX_REG_READ / AX_REG_WRITE bits. */
AX_API int ax_reg_access(const ax_reg *reg);
AX_API const char *ax_reg_units(const ax_reg *reg);
/**
 * The register's PDO access: "CONFIG" (not mapped for cyclic exchange),
 * "CYCLIC_RX", "CYCLIC_TX", "CYCLIC_RXTX", ...: attribute pdo_access of a
 * version 3 file (or cyclic, which older version 3 files use), cyclic of
 * a version 2 file. Until 0.2 a version 3 file's pdo_access was not read.
 */
AX_API const char *ax_reg_cyclic(const ax_reg *reg);
/**
 * 1 when a link of the dictionary's address space can carry the register,
 * 0 when it cannot: an MCB dictionary may list registers whose address is
 * past MCB's 12 bits (0..0xFFF) or whose subnode is past its 4 bits (0..15).
 * Such registers are kept, so the catalogue is the file's, but reading or
 * writing one fails (ax_link_read_reg(): AX_EUNSUPPORTED, naming the
 * register, its address and why).
 * @since 0.2
 */
AX_API int ax_reg_reachable(const ax_reg *reg);
/**
 * Where the drive's monitoring (scope) and disturbance engines reach the
 * register: the address and subnode a channel's map word names
 * ((address | subnode << 12) << 16 | type code << 8 | size).
 *
 * A version 3 file gives it in the register's MonDistV3 element; a register
 * without one cannot be monitored. A version 2 file has no such element: a
 * register of the cyclic data (cyclic other than CONFIG) of a numeric type
 * (u8..s64, float) is reached at its address on subnodes 0 and 1 and at
 * address + 0x800 * (subnode - 1) on higher axes, when that fits in 12 bits.
 * The drive's refusal of a map word stays the final answer.
 *
 * Ownership: none. Thread safety: immutable.
 *
 * @param reg               the register
 * @param[out] address_out  the monitoring address (may be NULL); untouched when 0
 * @param[out] subnode_out  the monitoring subnode (may be NULL); untouched when 0
 * @return 1 when the register can be monitored, 0 when not (or @p reg is NULL).
 * @since 0.3
 */
AX_API int ax_reg_monitoring(const ax_reg *reg, uint32_t *address_out, unsigned *subnode_out);
/** "NVM", "NVM_NONE", ... */
AX_API const char *ax_reg_address_type(const ax_reg *reg);
AX_API const char *ax_reg_description(const ax_reg *reg);
AX_API const char *ax_reg_category(const ax_reg *reg);
AX_API const char *ax_reg_subcategory(const ax_reg *reg);
/** Label in @p lang ("en_US"); NULL lang or a missing language gives the first label. */
AX_API const char *ax_reg_label(const ax_reg *reg, const char *lang);
/**
 * Range as text exactly as the file gives it (keeps 64-bit precision).
 * @return 1 with both set, 0 when the register has no range.
 */
AX_API int ax_reg_range(const ax_reg *reg, const char **min_out, const char **max_out);
/**
 * Default value as little-endian bytes of the register's type.
 * @return the byte count (0 when there is no default).
 */
AX_API size_t ax_reg_default(const ax_reg *reg, const uint8_t **bytes_out);
AX_API size_t ax_reg_enum_count(const ax_reg *reg);
/** Enum @p index: value and label. @return 0 or AX_ENOTFOUND. */
AX_API int ax_reg_enum_at(const ax_reg *reg, size_t index, int64_t *value_out,
                          const char **label_out);
/** Label of enum value @p value, or NULL. */
AX_API const char *ax_reg_enum_label(const ax_reg *reg, int64_t value);
AX_API size_t ax_reg_bitfield_count(const ax_reg *reg);
/** Bitfield @p index: name and inclusive bit bounds. @return 0 or AX_ENOTFOUND. */
AX_API int ax_reg_bitfield_at(const ax_reg *reg, size_t index, const char **name_out,
                              unsigned *start_out, unsigned *end_out);
/**
 * Extract bitfield @p name from register value @p value.
 * @return 0, or AX_ENOTFOUND (no such bitfield).
 */
AX_API int ax_reg_bitfield_get(const ax_reg *reg, const char *name, uint64_t value, uint64_t *out);
/**
 * Return @p value with bitfield @p name set to @p field.
 * @return 0, AX_ENOTFOUND, or AX_ERANGE (@p field does not fit the field).
 */
AX_API int ax_reg_bitfield_set(const ax_reg *reg, const char *name, uint64_t value, uint64_t field,
                               uint64_t *out);
/** @} */

AX_END_DECLS

/** @} */
#endif
