/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TESTS_TESTCTX_H
#define AXLINK_TESTS_TESTCTX_H

/*
 * Shared by the tests that talk to drives: include after <cmocka.h> and
 * axlink/axlink.h. AXLINK_BUILD_PLUGIN_DIR comes from tests/CMakeLists.txt.
 */

/* A context that loads only the build tree's plugins, whatever the environment says. */
static inline ax_ctx *new_ctx(void)
{
	static const char *const dirs[] = {AXLINK_BUILD_PLUGIN_DIR, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;

	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	opts.plugin_paths = dirs;
	if (ax_ctx_new(&ctx, &opts) < 0)
		fail_msg("ax_ctx_new: %s", ax_error_last());
	return ctx;
}

#endif
