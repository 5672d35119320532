/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_DB_H
#define AXLINK_SRC_DB_H

/*
 * Internal side of axlink/db.h: the storing half of an import, apart from
 * the XML parsing, so dictionaries built in memory can be stored too.
 */

#include "axlink/db.h"

/* PRAGMA application_id of our files: "AXLK". */
#define AX__DB_APPLICATION_ID 0x41584C4B
/* PRAGMA user_version this library writes and the newest it reads. */
#define AX__DB_SCHEMA_VERSION 2

/*
 * Store @n dictionaries as the models of the file @source_path (stored as
 * given: callers pass a canonical path) whose SHA-256 is @sha256 (64 hex
 * digits), in one transaction.
 *
 * When @source_path is recorded with the same @sha256 and still owns @n
 * models, nothing changes. Otherwise the models the path held before and
 * the models with the same (vendor, product, revision, interface) are
 * deleted and @dicts inserted.
 * *replaced_out (may be NULL): 1 when earlier models were deleted, else 0.
 * Returns 0, AX_EACCESS (read-only database), AX_EFORMAT (the same model
 * twice in @dicts), AX_ECORRUPT (a corrupt database), or another negative code.
 */
int ax__db_insert_dicts(ax_db *db, ax_dict *const *dicts, size_t n, const char *source_path,
			const char *sha256, int *replaced_out);

/*
 * What the resolution rules choose in one database, before anything is
 * loaded: ax_ctx_resolve() compares picks across databases and loads only
 * the winner (or finds it in the context's cache).
 */
struct ax__db_pick {
	int64_t model_id;     /* the model to load; 0 when match is AX_MATCH_NONE */
	int match;            /* an ax_match */
	uint32_t found_rev;   /* the model's revision */
	int64_t data_version; /* PRAGMA data_version read with the pick: changes on a commit */
	char *model;          /* "axs-100 (ETH, firmware 1.2.0)" or a miss's note; may be NULL */
};

/*
 * Pick the model for (@vendor_id, @product_code, @revision) among those of
 * @addr_space (an ax_addr_space), in one read. *out is owned by the caller
 * (ax__db_pick_clear). Returns 0 (also for no match), AX_EINVAL (unknown
 * space) or a database error.
 */
int ax__db_pick(ax_db *db, uint32_t vendor_id, uint32_t product_code, uint32_t revision,
		int addr_space, struct ax__db_pick *out);
/* The reason line for @pick, as ax_db_resolve() gives it; NULL when out of memory. */
char *ax__db_pick_reason(const struct ax__db_pick *pick, uint32_t vendor_id,
			 uint32_t product_code, uint32_t revision, int addr_space);
void ax__db_pick_clear(struct ax__db_pick *pick);

/* SHA-256 of @len bytes at @buf as 64 lowercase hex digits plus NUL, into @hex. */
int ax__db_sha256_hex(const void *buf, size_t len, char hex[65]);

#endif
