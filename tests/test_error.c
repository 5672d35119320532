/* SPDX-License-Identifier: MIT */
/* Error codes, texts, the thread-local last error, log levels. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "axlink/axlink.h"
#include "error.h"

static void test_error__every_code_has_name_and_text(void **state)
{
	(void)state;
	for (int code = 0; code >= AX_EUNKNOWNKEY; code--) {
		const char *name = ax_error_name(code);

		if (!name)
			fail_msg("code %d has no name", code);
		assert_non_null(strstr(name, "AX_"));
		assert_string_not_equal(ax_strerror(code), "unknown error");
	}
	assert_null(ax_error_name(AX_EUNKNOWNKEY - 1));
	assert_string_equal(ax_strerror(12345), "unknown error");
}

static void test_error__last_message_and_clear(void **state)
{
	(void)state;
	ax_error_clear();
	assert_int_equal(ax_error_last_code(), 0);
	assert_string_equal(ax_error_last(), "no error");
	assert_int_equal(ax__error_set(AX_ETIMEDOUT, "no reply from '%s'", "eth://127.0.0.2"),
			 AX_ETIMEDOUT);
	assert_int_equal(ax_error_last_code(), AX_ETIMEDOUT);
	assert_string_equal(ax_error_last(), "no reply from 'eth://127.0.0.2'");
	assert_int_equal(ax_error_last_drive_code(), 0);
	ax_error_clear();
	assert_string_equal(ax_error_last(), "no error");
}

static void test_error__drive_code_names_register(void **state)
{
	(void)state;
	assert_int_equal(ax__error_drive(0x06020000u, 1, 1, 0x7FF), AX_EDRIVE);
	assert_int_equal(ax_error_last_drive_code(), 0x06020000u);
	assert_non_null(strstr(ax_error_last(), "0x7FF"));
	assert_non_null(strstr(ax_error_last(), "0x06020000"));
	assert_non_null(strstr(ax_error_last(), "object does not exist"));
	/* A later non-drive error hides the drive code. */
	ax__error_set(AX_EIO, "x");
	assert_int_equal(ax_error_last_drive_code(), 0);
	assert_null(ax_drive_code_text(0x12345678u));
}

static void test_error__oom_is_static(void **state)
{
	(void)state;
	assert_int_equal(ax__error_oom(), AX_ENOMEM);
	assert_string_equal(ax_error_last(), "out of memory");
}

static void *other_thread(void *arg)
{
	(void)arg;
	/* A fresh thread starts with no error, whatever the main thread has. */
	if (ax_error_last_code() != 0)
		return (void *)1;
	ax__error_set(AX_EBUSY, "thread");
	return NULL;
}

static void test_error__thread_local(void **state)
{
	pthread_t t;
	void *ret = (void *)2;

	(void)state;
	ax__error_set(AX_EIO, "main thread");
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	assert_int_equal(ax_error_last_code(), AX_EIO);
	assert_string_equal(ax_error_last(), "main thread");
}

static void test_error__prefix_keeps_code(void **state)
{
	(void)state;
	ax__error_set(AX_ECRC, "bad crc");
	ax__error_prefix("reading '%s'", "x");
	assert_int_equal(ax_error_last_code(), AX_ECRC);
	assert_string_equal(ax_error_last(), "reading 'x': bad crc");
}

static void test_error__log_levels(void **state)
{
	(void)state;
	assert_int_equal(ax_log_level_parse("debug"), AX_LOG_DEBUG);
	assert_int_equal(ax_log_level_parse("WARN"), AX_LOG_WARN);
	assert_int_equal(ax_log_level_parse("warning"), AX_LOG_WARN);
	assert_int_equal(ax_log_level_parse("5"), AX_LOG_TRACE);
	assert_int_equal(ax_log_level_parse("loud"), AX_EINVAL);
	assert_non_null(strstr(ax_error_last(), "'loud'"));
	assert_string_equal(ax_log_level_name(AX_LOG_INFO), "info");
	assert_null(ax_log_level_name(6));
}

struct log_capture {
	int count;
	int last_level;
	char last[256];
};

static void capture_cb(int level, const char *origin, const char *message, void *userdata)
{
	struct log_capture *c = userdata;

	(void)origin;
	c->count++;
	c->last_level = level;
	strncat(c->last, message, sizeof(c->last) - strlen(c->last) - 1);
}

static void test_error__env_log_level_and_callback(void **state)
{
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	struct log_capture cap = { 0 };
	ax_ctx *ctx = NULL;
	int err;

	(void)state;
	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS;
	setenv("AXLINK_LOG", "debug", 1);
	assert_int_equal(ax_ctx_new(&ctx, &opts), 0);
	assert_int_equal(ax_ctx_get_log_level(ctx), AX_LOG_DEBUG);
	ctx = ax_ctx_unref(ctx);

	setenv("AXLINK_LOG", "error", 1);
	assert_int_equal(ax_ctx_new(&ctx, &opts), 0);
	assert_int_equal(ax_ctx_get_log_level(ctx), AX_LOG_ERROR);
	ax_ctx_set_log(ctx, AX_LOG_DEBUG, capture_cb, &cap);
	/* A missing folder is logged at debug level through the callback, not an error. */
	err = ax_ctx_add_plugin_dir(ctx, "/nonexistent/axlink-plugins");
	assert_int_equal(err, AX_ENOTFOUND);
	assert_non_null(strstr(ax_error_last(), "/nonexistent/axlink-plugins"));
	ax_ctx_set_log(ctx, AX_LOG_NONE, capture_cb, &cap);
	cap.count = 0;
	(void)ax_ctx_add_plugin_dir(ctx, "/nonexistent/again");
	assert_int_equal(cap.count, 0);
	ctx = ax_ctx_unref(ctx);
	unsetenv("AXLINK_LOG");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error__every_code_has_name_and_text),
		cmocka_unit_test(test_error__last_message_and_clear),
		cmocka_unit_test(test_error__drive_code_names_register),
		cmocka_unit_test(test_error__oom_is_static),
		cmocka_unit_test(test_error__thread_local),
		cmocka_unit_test(test_error__prefix_keeps_code),
		cmocka_unit_test(test_error__log_levels),
		cmocka_unit_test(test_error__env_log_level_and_callback),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
