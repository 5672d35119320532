/* SPDX-License-Identifier: MIT */
/* Error codes, texts, the thread-local last error, log levels. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "error.h"
#include "testctx.h"

static void test_error__every_code_has_name_and_text(void **state)
{
	(void)state;
	for (int code = 0; code >= AX_ECORRUPT; code--) {
		const char *name = ax_error_name(code);

		if (!name)
			fail_msg("code %d has no name", code);
		assert_non_null(strstr(name, "AX_"));
		assert_string_not_equal(ax_strerror(code), "unknown error");
	}
	assert_null(ax_error_name(AX_ECORRUPT - 1));
	/* Codes are appended, never renumbered. */
	assert_int_equal(AX_EUNKNOWNKEY, -21);
	assert_int_equal(AX_EFORMAT, -22);
	assert_int_equal(AX_ECORRUPT, -23);
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
	struct log_capture cap = {0};
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

/* ---- error classes: the module that detected the failure ---- */

#define ASSERT_FAILS_AS(call, code, cls)                                                           \
	do {                                                                                       \
		int got_ = (call);                                                                 \
		if (got_ != (code) || ax_error_last_class() != (cls))                              \
			fail_msg("%s: got %s (%d), class %s; want %s, %s: %s", #call,              \
			         ax_error_name(got_), got_,                                        \
			         ax_error_class_name(ax_error_last_class()), #code, #cls,          \
			         ax_error_last());                                                 \
	} while (0)

static void test_error__class_names_and_clear(void **state)
{
	(void)state;
	ax_error_clear();
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_NONE);
	assert_string_equal(ax_error_class_name(AX_ERRCLASS_NONE), "AX_ERRCLASS_NONE");
	assert_string_equal(ax_error_class_name(AX_ERRCLASS_DB), "AX_ERRCLASS_DB");
	assert_string_equal(ax_error_class_name(AX_ERRCLASS_INTERNAL), "AX_ERRCLASS_INTERNAL");
	assert_null(ax_error_class_name(AX_ERRCLASS_INTERNAL + 1));
	assert_null(ax_error_class_name(-1));
	/* Classes are stable like codes. */
	assert_int_equal(AX_ERRCLASS_TRANSPORT, 1);
	assert_int_equal(AX_ERRCLASS_ARGUMENT, 6);
	assert_int_equal(ax__error_set_class(AX_ERRCLASS_DRIVE, AX_EBUSY, "x"), AX_EBUSY);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_DRIVE);
	ax__error_prefix("context");
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_DRIVE);
	assert_int_equal(ax__error_oom_class(AX_ERRCLASS_DICT), AX_ENOMEM);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_DICT);
	assert_int_equal(ax__error_drive(0x06020000u, 1, 1, 0x7FF), AX_EDRIVE);
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_DRIVE);
	ax_error_clear();
	assert_int_equal(ax_error_last_class(), AX_ERRCLASS_NONE);
}

static void test_error__class_argument_for_bad_uris_and_args(void **state)
{
	ax_ctx *ctx = new_ctx();
	ax_link *link = NULL;

	(void)state;
	ASSERT_FAILS_AS(ax_link_open(&link, ctx, "eth://127.0.0.1?nosuchkey=1", NULL),
	                AX_EUNKNOWNKEY, AX_ERRCLASS_ARGUMENT);
	ASSERT_FAILS_AS(ax_link_open(&link, ctx, "eth://127.0.0.1:99999", NULL), AX_EINVAL,
	                AX_ERRCLASS_ARGUMENT);
	ASSERT_FAILS_AS(ax_link_open(&link, ctx, "://x", NULL), AX_EINVAL, AX_ERRCLASS_ARGUMENT);
	ASSERT_FAILS_AS(ax_link_open(NULL, ctx, "eth://127.0.0.1", NULL), AX_EINVAL,
	                AX_ERRCLASS_ARGUMENT);
	/* A scheme nobody serves is the plugin registry's to say. */
	ASSERT_FAILS_AS(ax_link_open(&link, ctx, "nosuch://x", NULL), AX_ENOTFOUND,
	                AX_ERRCLASS_PLUGIN);
	assert_null(link);
	ax_ctx_unref(ctx);
}

static void test_error__class_dict_for_a_bad_xml_file(void **state)
{
	ax_dict **dicts = NULL;
	size_t n = 0;

	(void)state;
	ASSERT_FAILS_AS(ax_dict_load_file(&dicts, &n, AXLINK_TEST_DATA_DIR "/malformed.xdf", NULL),
	                AX_EFORMAT, AX_ERRCLASS_DICT);
	assert_non_null(strstr(ax_error_last(), "malformed.xdf:9: malformed XML"));
	ASSERT_FAILS_AS(ax_dict_load_file(&dicts, &n, AXLINK_TEST_DATA_DIR "/wrong_root.xdf", NULL),
	                AX_EFORMAT, AX_ERRCLASS_DICT);
	ASSERT_FAILS_AS(ax_dict_load_file(&dicts, &n, AXLINK_TEST_DATA_DIR "/missing.xdf", NULL),
	                AX_ENOTFOUND, AX_ERRCLASS_DICT);
	assert_null(dicts);
}

struct tmpdir {
	char dir[64];
	char db[96];
};

static void tmpdir_make(struct tmpdir *t)
{
	(void)snprintf(t->dir, sizeof(t->dir), "/tmp/axlink-test-error-XXXXXX");
	if (!mkdtemp(t->dir))
		fail_msg("mkdtemp failed");
	(void)snprintf(t->db, sizeof(t->db), "%s/devices.db", t->dir);
}

static void tmpdir_remove(struct tmpdir *t)
{
	(void)unlink(t->db);
	(void)rmdir(t->dir);
}

static void test_error__class_db_for_a_corrupt_database(void **state)
{
	static const char junk[] = "this is not an SQLite database, just bytes that say so.."
	                           "......................................................";
	struct tmpdir t;
	ax_db *db = NULL;
	FILE *f;

	(void)state;
	tmpdir_make(&t);
	f = fopen(t.db, "wb");
	assert_non_null(f);
	for (int i = 0; i < 64; i++)
		assert_int_equal(fwrite(junk, 1, sizeof(junk) - 1, f), sizeof(junk) - 1);
	assert_int_equal(fclose(f), 0);
	ASSERT_FAILS_AS(ax_db_open(&db, t.db, 0), AX_ECORRUPT, AX_ERRCLASS_DB);
	assert_non_null(strstr(ax_error_last(), t.db));
	assert_null(db);

	/* A good database importing a bad file: the file is the dictionary's problem. */
	assert_int_equal(unlink(t.db), 0);
	assert_int_equal(ax_db_open(&db, t.db, AX_DB_CREATE), 0);
	ASSERT_FAILS_AS(ax_db_import(db, AXLINK_TEST_DATA_DIR "/malformed.xdf", NULL, NULL),
	                AX_EFORMAT, AX_ERRCLASS_DICT);
	ASSERT_FAILS_AS(ax_db_load(db, 12345, &(ax_dict *){NULL}), AX_ENOTFOUND, AX_ERRCLASS_DB);
	ax_db_unref(db);
	tmpdir_remove(&t);
}

static void test_error__class_transport_for_a_timeout_over_eth(void **state)
{
	/* A UDP port that takes requests and never answers. */
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(1061)};
	ax_link_options opts = AX_LINK_OPTIONS_INIT;
	ax_ctx *ctx = new_ctx();
	ax_link *link = NULL;
	uint8_t buf[8];
	size_t len = 0;
	int fd;

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "127.0.9.1", &sa.sin_addr), 1);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("bind 127.0.9.1:1061 (run in a private network namespace)");
	opts.timeout_ms = 50;
	assert_int_equal(ax_link_open(&link, ctx, "eth://127.0.9.1", &opts), 0);
	ASSERT_FAILS_AS(ax_link_read(link, 0, 0x6E0, buf, sizeof(buf), &len), AX_ETIMEDOUT,
	                AX_ERRCLASS_TRANSPORT);
	/* Nobody at all on the port: the transport says so, still as the transport. */
	assert_int_equal(close(fd), 0);
	ASSERT_FAILS_AS(ax_link_read(link, 0, 0x6E0, buf, sizeof(buf), &len), AX_EIO,
	                AX_ERRCLASS_TRANSPORT);
	ax_link_unref(link);
	ax_ctx_unref(ctx);
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
	        cmocka_unit_test(test_error__class_names_and_clear),
	        cmocka_unit_test(test_error__class_argument_for_bad_uris_and_args),
	        cmocka_unit_test(test_error__class_dict_for_a_bad_xml_file),
	        cmocka_unit_test(test_error__class_db_for_a_corrupt_database),
	        cmocka_unit_test(test_error__class_transport_for_a_timeout_over_eth),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
