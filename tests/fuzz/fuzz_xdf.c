/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the XDF dictionary importer through ax__xdf_load_buffer(), the entry
 * point behind ax_dict_load_file() and the device database's import. Any
 * bytes either fail with a message or give dictionaries whose every
 * register, category, error, range, enum and bitfield can be walked and
 * looked up again, with the documented getters never returning NULL.
 *
 * Warnings go to a context with a log sink at TRACE that counts and drops
 * them, so the messages built from hostile attribute text are formatted too.
 */
#include <string.h>

#include "axlink/axlink.h"
#include "fuzz.h"
#include "fuzz_dict.h"
#include "xdf.h"

static ax_ctx *fuzz_ctx;
static unsigned long fuzz_log_lines;

static void fuzz_log(int level, const char *origin, const char *message, void *userdata)
{
	(void)level;
	(void)userdata;
	FUZZ_CHECK(origin != NULL && message != NULL, "log line without origin or text");
	fuzz_log_lines += strlen(message) > 0;
}

static ax_ctx *get_ctx(void)
{
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;

	if (fuzz_ctx)
		return fuzz_ctx;
	/* No plugin folders: only the log sink matters here. */
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS | AX_CTX_NO_ENV_LOG;
	FUZZ_CHECK(ax_ctx_new(&fuzz_ctx, &opts) == 0, "ax_ctx_new: %s", ax_error_last());
	ax_ctx_set_log(fuzz_ctx, AX_LOG_TRACE, fuzz_log, NULL);
	return fuzz_ctx;
}

static void walk_dict(const ax_dict *d)
{
	const ax_dict_identity *id = ax_dict_identity_get(d);

	FUZZ_CHECK(id != NULL, "no identity");
	FUZZ_CHECK(id->part_number && id->firmware_version && id->interface && id->family &&
	                   id->name,
	           "NULL identity text");
	FUZZ_CHECK(id->format_version == 2 || id->format_version == 3, "format version %u",
	           id->format_version);
	FUZZ_CHECK(ax_dict_source(d) != NULL, "no source");

	fuzz_walk_dict(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ax_dict **dicts = NULL;
	size_t n = 0;
	int err;

	err = ax__xdf_load_buffer(&dicts, &n, "fuzz.xdf", (const char *)data, size, get_ctx());
	if (err < 0) {
		FUZZ_CHECK(dicts == NULL && n == 0, "out params written on failure");
		FUZZ_CHECK(ax_error_last()[0] != '\0', "code %d without a message", err);
		return 0;
	}
	FUZZ_CHECK(err > 0 && (size_t)err == n && dicts != NULL, "returned %d with %zu dicts", err,
	           n);
	for (size_t i = 0; i < n; i++) {
		walk_dict(dicts[i]);
		ax_dict_unref(dicts[i]);
	}
	ax_free(dicts);
	return 0;
}
