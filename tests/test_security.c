/* SPDX-License-Identifier: MIT */
/*
 * Security checks, as tests.
 *
 * Here:
 * - Plugins load only from the documented search path (ax_ctx_options
 *   folders, AXLINK_PLUGIN_PATH, the folder beside the library), never from
 *   the current directory: not from the folder itself, not from a folder
 *   there named like the plugin folder, not through an empty entry of
 *   AXLINK_PLUGIN_PATH (which some path lists take to mean ".").
 * - Extended-length fields larger than the buffer are rejected, on both
 *   sides of the wire: replies from a hostile "drive" claiming 2^64 - 1,
 *   513 or more bytes than it sends are never decoded into anything (the
 *   read times out), a genuine 512-byte reply into an 8-byte buffer fails
 *   with AX_ETOOBIG without touching the bytes past it; and axlink-sim
 *   drops such requests and keeps serving.
 * - A dictionary naming an external DTD and external entities over http
 *   is handled without any network access: a listener on that address sees
 *   no connection.
 * - Plugin folders and files others can write, or that another user owns
 *   (neither root nor us), are not loaded: "untrusted" with the fix named.
 * - Nothing blocks on a FIFO: one named like a plugin, given as a
 *   dictionary (load, import) or as a device database (open, AXLINK_DB) is
 *   refused as "not a regular file" and never opened for reading. alarm()
 *   makes a regression a failure rather than a hung test.
 *
 * Elsewhere, not repeated here:
 * - External entities and entity expansion refused, file:// entities never
 *   opened: tests/test_dict.c test_dict__external_entity,
 *   test_dict__external_entity_not_opened (a FIFO that would block if
 *   opened), test_dict__billion_laughs, and the parameter_entity /
 *   external_subset_only rows of test_dict__documents.
 * - Register ids, model names and every other text containing SQL stored
 *   and read back verbatim: tests/test_db.c test_db__sql_text_stored_verbatim.
 * - Extended lengths at the codec level (513, truncated, payload_513):
 *   tests/test_mcb.c; every byte sequence: tests/fuzz/ (fuzz_mcb,
 *   fuzz_simdrive).
 *
 * Addresses: 127.0.7.0/24, the robustness tests' range.
 *   127.0.7.40   a hostile drive played by this test (UDP, any port)
 *   127.0.7.41   axlink-sim
 *   127.0.7.50   a TCP listener watching for DTD fetches
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "simproc.h"

#define REG_VENDOR 0x6E0
#define REG_USER_DATA 0x6F0
#define VENDOR_ID 0x0000A71Cu
#define SIM_START_MS 10000

/* ---- small helpers ------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out;
	size_t n;

	if (!in)
		fail_msg("cannot open '%s': %s", from, strerror(errno));
	out = fopen(to, "wb");
	if (!out)
		fail_msg("cannot create '%s': %s", to, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	/* Whatever the umask: a plugin writable by others would not be loaded. */
	assert_int_equal(chmod(to, 0644), 0);
}

static void join_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

/* The report row for @scheme, or -1. */
static long row_of(ax_ctx *ctx, const char *scheme, ax_plugin_record *r)
{
	for (size_t i = 0; i < ax_ctx_plugin_count(ctx); i++) {
		assert_int_equal(ax_ctx_plugin_record(ctx, i, r), 0);
		if (!strcmp(r->scheme, scheme))
			return (long)i;
	}
	return -1;
}

/* No row of the report comes from under @dir. */
static void assert_nothing_from(ax_ctx *ctx, const char *dir, const char *when)
{
	size_t len = strlen(dir);
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;

	for (size_t i = 0; i < ax_ctx_plugin_count(ctx); i++) {
		assert_int_equal(ax_ctx_plugin_record(ctx, i, &r), 0);
		if (!strncmp(r.path, dir, len))
			fail_msg("%s: '%s' was opened (status %s)", when, r.path,
			         ax_plugin_status_name(r.status));
	}
}

/* ---- plugins only from the search path ---------------------------------------------- */

/*
 * A folder that holds a loadable plugin (a copy of the loader tests'
 * testgood) three ways: as itself, in a subfolder named like the plugin
 * folder beside the library (axlink-1), and in lib/axlink-1 (the layout
 * beside the library). Run from inside it, the library must load none.
 */
static void test_security__plugins_not_loaded_from_cwd(void **state)
{
	const char *plugin_dirname = strrchr(AXLINK_BUILD_PLUGIN_DIR, '/') + 1;
	static const char *const env_values[] = {NULL, "", ":", "::", " "};
	char tmpl[] = "/tmp/axlink-security-XXXXXX";
	char src[PATH_MAX], sub[PATH_MAX], lib[PATH_MAX], libsub[PATH_MAX];
	char copies[3][PATH_MAX], cwd[PATH_MAX], *dir;
	const char *old_env = getenv("AXLINK_PLUGIN_PATH");
	char *saved_env = old_env ? strdup(old_env) : NULL;
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	ax_link *link = NULL;
	ax_ctx *ctx = NULL;

	(void)state;
	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	join_path(src, sizeof(src), AXLINK_TEST_PLUGIN_DIR, "axlink-transport-testgood.so");
	join_path(sub, sizeof(sub), dir, plugin_dirname);
	join_path(lib, sizeof(lib), dir, "lib");
	join_path(libsub, sizeof(libsub), lib, plugin_dirname);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkdir(lib, 0700), 0);
	assert_int_equal(mkdir(libsub, 0700), 0);
	join_path(copies[0], sizeof(copies[0]), dir, "axlink-transport-testgood.so");
	join_path(copies[1], sizeof(copies[1]), sub, "axlink-transport-testgood.so");
	join_path(copies[2], sizeof(copies[2]), libsub, "axlink-transport-testgood.so");
	for (int i = 0; i < 3; i++)
		copy_file(src, copies[i]);

	/* The copy is a working plugin: named on the search path, it loads. */
	assert_int_equal(setenv("AXLINK_PLUGIN_PATH", dir, 1), 0);
	assert_int_equal(ax_ctx_new(&ctx, NULL), 0);
	assert_true(row_of(ctx, "testgood", &r) >= 0);
	assert_int_equal(r.status, AX_PLUGIN_LOADED);
	ctx = ax_ctx_unref(ctx);

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	for (size_t i = 0; i < sizeof(env_values) / sizeof(env_values[0]); i++) {
		char when[64];

		(void)snprintf(when, sizeof(when), "AXLINK_PLUGIN_PATH=%s%s%s",
		               env_values[i] ? "'" : "(unset)", env_values[i] ? env_values[i] : "",
		               env_values[i] ? "'" : "");
		if (env_values[i])
			assert_int_equal(setenv("AXLINK_PLUGIN_PATH", env_values[i], 1), 0);
		else
			assert_int_equal(unsetenv("AXLINK_PLUGIN_PATH"), 0);
		assert_int_equal(ax_ctx_new(&ctx, NULL), 0);
		assert_nothing_from(ctx, dir, when);
		if (row_of(ctx, "testgood", &r) >= 0)
			fail_msg("%s: testgood in the report from '%s'", when, r.path);
		assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), AX_ENOTFOUND);
		/* The search itself worked: the plugins beside the library are there. */
		if (row_of(ctx, "virtual", &r) < 0 || r.status != AX_PLUGIN_LOADED)
			fail_msg("%s: the build tree's virtual plugin did not load", when);
		ctx = ax_ctx_unref(ctx);
	}
	assert_int_equal(chdir(cwd), 0);

	if (saved_env)
		assert_int_equal(setenv("AXLINK_PLUGIN_PATH", saved_env, 1), 0);
	else
		assert_int_equal(unsetenv("AXLINK_PLUGIN_PATH"), 0);
	free(saved_env);
	for (int i = 0; i < 3; i++)
		assert_int_equal(unlink(copies[i]), 0);
	assert_int_equal(rmdir(libsub), 0);
	assert_int_equal(rmdir(lib), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- a hostile drive: extended lengths over the limit --------------------------------- */

enum evil_mode {
	EVIL_HUGE_LENGTH, /* extended, length 2^64 - 1, nothing after the header */
	EVIL_LENGTH_513,  /* extended, length 513, and 513 bytes after it */
	EVIL_TRUNCATED,   /* extended, length 512, only 100 bytes after it */
	EVIL_OVERSIZED,   /* a valid 512-byte reply in a 4000-byte datagram */
	EVIL_GENUINE_512, /* a valid extended reply of 512 bytes */
};

struct evil_drive {
	int fd;
	char uri[64];
	atomic_int mode;
	atomic_int requests;
	atomic_int stop;
	pthread_t thread;
};

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The reply to a request for (subnode, address), as @mode says; its length. */
static size_t evil_reply(uint8_t *out, size_t cap, int mode, unsigned subnode, unsigned address)
{
	uint64_t declared = 512;
	size_t follow = 512;

	assert_true(cap >= 4000);
	memset(out, 0, cap);
	switch (mode) {
	case EVIL_HUGE_LENGTH:
		declared = UINT64_MAX;
		follow = 0;
		break;
	case EVIL_LENGTH_513:
		declared = 513;
		follow = 513;
		break;
	case EVIL_TRUNCATED:
		follow = 100;
		break;
	default:
		break;
	}
	put_le(out, subnode | AX_MCB_NODE << 4, 2);
	put_le(out + 2, 1u | (unsigned)AX_MCB_ACK << 1 | address << 4, 2);
	put_le(out + 4, declared, 8);
	put_le(out + 12, ax_mcb_crc16(out, 12), 2);
	for (size_t i = 0; i < follow; i++)
		out[AX_MCB_FRAME_SIZE + i] = (uint8_t)(0xC0 + i);
	return mode == EVIL_OVERSIZED ? 4000 : AX_MCB_FRAME_SIZE + follow;
}

static void *evil_main(void *arg)
{
	struct evil_drive *e = arg;
	uint8_t req[AX_MCB_MAX_FRAME], reply[4096];

	while (!atomic_load(&e->stop)) {
		struct pollfd p = {.fd = e->fd, .events = POLLIN};
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ax_mcb_frame f;
		ssize_t n;
		size_t len;

		if (poll(&p, 1, 20) <= 0)
			continue;
		n = recvfrom(e->fd, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0 || ax_mcb_decode(&f, req, (size_t)n) < 0)
			continue;
		atomic_fetch_add(&e->requests, 1);
		len = evil_reply(reply, sizeof(reply), atomic_load(&e->mode), f.subnode, f.address);
		(void)sendto(e->fd, reply, len, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static void evil_start(struct evil_drive *e)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);

	memset(e, 0, sizeof(*e));
	atomic_init(&e->mode, EVIL_HUGE_LENGTH);
	atomic_init(&e->requests, 0);
	atomic_init(&e->stop, 0);
	e->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(e->fd >= 0);
	assert_int_equal(inet_pton(AF_INET, "127.0.7.40", &sa.sin_addr), 1);
	assert_int_equal(bind(e->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(e->fd, (struct sockaddr *)&sa, &sl), 0);
	(void)snprintf(e->uri, sizeof(e->uri), "eth://127.0.7.40:%u", (unsigned)ntohs(sa.sin_port));
	assert_int_equal(pthread_create(&e->thread, NULL, evil_main, e), 0);
}

static void evil_stop(struct evil_drive *e)
{
	atomic_store(&e->stop, 1);
	assert_int_equal(pthread_join(e->thread, NULL), 0);
	close(e->fd);
}

static ax_ctx *build_ctx(void)
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

static void test_security__oversized_extended_replies_rejected(void **state)
{
	static const struct {
		const char *name;
		int mode;
		int want;
	} cases[] = {
	        {"length 2^64-1", EVIL_HUGE_LENGTH, AX_ETOOBIG},
	        {"length 513", EVIL_LENGTH_513, AX_ETOOBIG},
	        {"512 declared, 100 sent", EVIL_TRUNCATED, AX_ETRUNC},
	        {"4000-byte datagram", EVIL_OVERSIZED, AX_EPROTO},
	};
	ax_link_options opts = AX_LINK_OPTIONS_INIT;
	struct evil_drive e;
	ax_ctx *ctx = build_ctx();
	ax_link *link = NULL;
	uint8_t buf[AX_MCB_MAX_PAYLOAD + 64];
	size_t len;

	(void)state;
	evil_start(&e);
	opts.timeout_ms = 40;
	if (ax_link_open(&link, ctx, e.uri, &opts) < 0)
		fail_msg("open %s: %s", e.uri, ax_error_last());

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int before = atomic_load(&e.requests), err;

		atomic_store(&e.mode, cases[i].mode);
		memset(buf, 0x5A, sizeof(buf));
		len = 777;
		err = ax_link_read(link, 0, REG_USER_DATA, buf, sizeof(buf), &len);
		/* A datagram is one frame: refused at once as malformed, never a value. */
		if (err != cases[i].want || !strstr(ax_error_last(), "malformed"))
			fail_msg("%s: got %s (%s), want %s", cases[i].name, ax_error_name(err),
			         ax_error_last(), ax_error_name(cases[i].want));
		assert_int_equal(len, 777);
		for (size_t k = 0; k < sizeof(buf); k++)
			if (buf[k] != 0x5A)
				fail_msg("%s: byte %zu of the buffer written", cases[i].name, k);
		assert_int_equal(atomic_load(&e.requests) - before, 1);
	}

	/* A genuine 512-byte value and an 8-byte buffer: refused, nothing past the 8 bytes. */
	atomic_store(&e.mode, EVIL_GENUINE_512);
	memset(buf, 0x5A, sizeof(buf));
	len = 777;
	assert_int_equal(ax_link_read(link, 0, REG_USER_DATA, buf, 8, &len), AX_ETOOBIG);
	assert_int_equal(len, 777);
	assert_non_null(strstr(ax_error_last(), "512"));
	assert_non_null(strstr(ax_error_last(), "127.0.7.40"));
	for (size_t k = 8; k < sizeof(buf); k++)
		if (buf[k] != 0x5A)
			fail_msg("byte %zu past an 8-byte buffer written", k);
	/* The whole value fits a buffer of its size. */
	assert_int_equal(ax_link_read(link, 0, REG_USER_DATA, buf, AX_MCB_MAX_PAYLOAD, &len), 0);
	assert_int_equal(len, AX_MCB_MAX_PAYLOAD);
	assert_int_equal(buf[0], 0xC0);
	assert_int_equal(buf[511], (uint8_t)(0xC0 + 511));

	ax_link_unref(link);
	ax_ctx_unref(ctx);
	evil_stop(&e);
}

/* ---- the simulator against hostile requests ----------------------------------------- */

static int udp_to(const char *uri)
{
	unsigned a, b, c, d, port;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd;

	if (sscanf(uri, "eth://%u.%u.%u.%u:%u", &a, &b, &c, &d, &port) != 5)
		fail_msg("unexpected URI '%s'", uri);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(a << 24 | b << 16 | c << 8 | d);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Bytes of the reply received within @ms, or 0 for none. */
static size_t recv_within(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = recv(fd, buf, cap, 0);
	return n > 0 ? (size_t)n : 0;
}

/* An extended write request claiming @declared bytes with @follow bytes after the header. */
static size_t evil_request(uint8_t *out, uint64_t declared, size_t follow)
{
	put_le(out, AX_MCB_NODE << 4, 2);
	put_le(out + 2, 1u | (unsigned)AX_MCB_WRITE << 1 | (unsigned)REG_USER_DATA << 4, 2);
	put_le(out + 4, declared, 8);
	put_le(out + 12, ax_mcb_crc16(out, 12), 2);
	memset(out + AX_MCB_FRAME_SIZE, 0xEE, follow);
	return AX_MCB_FRAME_SIZE + follow;
}

static void test_security__simulator_drops_oversized_requests(void **state)
{
	static const char *const args[] = {"--eth", "127.0.7.41", NULL};
	static const struct {
		const char *name;
		uint64_t declared;
		size_t follow;
	} cases[] = {
	        {"length 2^64-1", UINT64_MAX, 0},  {"length 2^32", UINT64_C(1) << 32, 0},
	        {"length 513", 513, 513},          {"512 declared, 100 sent", 512, 100},
	        {"4000-byte datagram", 512, 3986},
	};
	uint8_t req[4096], reply[AX_MCB_MAX_FRAME + 16];
	ax_mcb_frame f;
	simproc *sim = NULL;
	size_t n;
	int fd;

	(void)state;
	if (simproc_start(&sim, args, 1, SIM_START_MS) < 0)
		fail_msg("cannot start axlink-sim (see stderr)");
	fd = udp_to(simproc_uri(sim, 0));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = evil_request(req, cases[i].declared, cases[i].follow);

		assert_int_equal(send(fd, req, len, 0), (ssize_t)len);
		n = recv_within(fd, reply, sizeof(reply), 150);
		if (n)
			fail_msg("%s: the simulator answered with %zu bytes", cases[i].name, n);
		/* Still serving, and the user data untouched by what it dropped. */
		assert_int_equal(ax_mcb_encode_read(req, 0, REG_VENDOR), 0);
		assert_int_equal(send(fd, req, AX_MCB_FRAME_SIZE, 0), AX_MCB_FRAME_SIZE);
		n = recv_within(fd, reply, sizeof(reply), 2000);
		assert_int_equal(n, AX_MCB_FRAME_SIZE);
		assert_int_equal(ax_mcb_decode(&f, reply, n), 0);
		assert_int_equal(ax_mcb_check_reply(&f, 0, REG_VENDOR), 0);
		assert_int_equal(f.data[0] | f.data[1] << 8, VENDOR_ID);
	}
	assert_int_equal(ax_mcb_encode_read(req, 0, REG_USER_DATA), 0);
	assert_int_equal(send(fd, req, AX_MCB_FRAME_SIZE, 0), AX_MCB_FRAME_SIZE);
	n = recv_within(fd, reply, sizeof(reply), 2000);
	assert_int_equal(ax_mcb_decode(&f, reply, n), 0);
	assert_int_equal(ax_mcb_check_reply(&f, 0, REG_USER_DATA), 0);
	for (size_t k = 0; k < f.payload_len; k++)
		if (f.payload[k] == 0xEE)
			fail_msg("user data byte %zu holds a dropped request's byte", k);
	close(fd);
	assert_int_equal(simproc_stop(sim), 0);
}

/* ---- dictionaries: no network ---------------------------------------------------------- */

/*
 * An XDF naming an external DTD and an external parameter entity, both on a
 * TCP listener of this test. Whatever the importer decides about the file,
 * nobody may connect: the importer parses without network access.
 */
static void test_security__dictionary_fetches_nothing(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char tmpl[] = "/tmp/axlink-security-XXXXXX", path[PATH_MAX], text[1024];
	/* Each form: what comes before the port, and after it. */
	static const char *const forms[][2] = {
	        {"<!DOCTYPE IngeniaDictionary SYSTEM \"http://127.0.7.50:", "/dict.dtd\">\n"},
	        {"<!DOCTYPE IngeniaDictionary PUBLIC \"-//x//y\" \"http://127.0.7.50:",
	         "/d.dtd\">\n"},
	        {"<!DOCTYPE IngeniaDictionary [<!ENTITY % p SYSTEM \"http://127.0.7.50:",
	         "/p.ent\"> %p;]>\n"},
	        {"<!DOCTYPE IngeniaDictionary [<!ENTITY e SYSTEM \"http://127.0.7.50:",
	         "/e\">]>\n"},
	};
	int lfd, cfd;
	char *dir;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	assert_int_equal(inet_pton(AF_INET, "127.0.7.50", &sa.sin_addr), 1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	join_path(path, sizeof(path), dir, "net.xdf");

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char doctype[256];
		ax_dict **dicts = NULL;
		size_t n = 0;
		FILE *f;
		int got;

		(void)snprintf(doctype, sizeof(doctype), "%s%u%s", forms[i][0],
		               (unsigned)ntohs(sa.sin_port), forms[i][1]);
		(void)snprintf(text, sizeof(text),
		               "<?xml version=\"1.0\"?>\n%s<IngeniaDictionary><Header><Version>3.0"
		               "</Version></Header><Body><Devices><ETHDevice ProductCode=\"1\"/>"
		               "</Devices></Body></IngeniaDictionary>\n",
		               doctype);
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fputs(text, f) >= 0, 1);
		assert_int_equal(fclose(f), 0);
		got = ax_dict_load_file(&dicts, &n, path, NULL);
		for (size_t k = 0; got > 0 && k < n; k++)
			ax_dict_unref(dicts[k]);
		if (got > 0)
			ax_free(dicts);
		cfd = accept(lfd, NULL, NULL);
		if (cfd >= 0)
			fail_msg("form %zu: the importer connected to fetch '%s'", i, doctype);
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	}
	close(lfd);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- who may have written a plugin --------------------------------------------------- */

/* A context searching only @dir, logging nothing. */
static ax_ctx *ctx_for_dir(const char *dir)
{
	const char *paths[] = {dir, NULL};
	ax_ctx_options opts = AX_CTX_OPTIONS_INIT;
	ax_ctx *ctx = NULL;

	opts.flags = AX_CTX_NO_ENV_PATHS | AX_CTX_NO_DEFAULT_PATHS | AX_CTX_NO_ENV_LOG;
	opts.plugin_paths = dir ? paths : NULL;
	assert_int_equal(ax_ctx_new(&ctx, &opts), 0);
	ax_ctx_set_log(ctx, AX_LOG_NONE, NULL, NULL);
	return ctx;
}

static void assert_has(const char *what, const char *text, const char *needle)
{
	if (!text || !strstr(text, needle))
		fail_msg("%s: '%s' lacks '%s'", what, text ? text : "(null)", needle);
}

/*
 * @dir holds one copy of testgood at @file. Loaded through the folder, it
 * must have @status (and then a message with @n1 and @n2); loaded by path,
 * the matching code.
 */
static void check_folder(const char *when, const char *dir, const char *file, int status,
                         const char *n1, const char *n2)
{
	ax_ctx *ctx = ctx_for_dir(dir);
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	ax_link *link = NULL;

	assert_int_equal(ax_ctx_plugin_count(ctx), 1);
	assert_int_equal(ax_ctx_plugin_record(ctx, 0, &r), 0);
	assert_string_equal(r.path, file);
	if (r.status != status)
		fail_msg("%s: status %s, want %s (%s)", when, ax_plugin_status_name(r.status),
		         ax_plugin_status_name(status), r.message);
	if (status == AX_PLUGIN_LOADED) {
		assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), 0);
		ax_link_unref(link);
		ax_ctx_unref(ctx);
		return;
	}
	assert_has(when, r.message, n1);
	assert_has(when, r.message, n2);
	assert_string_equal(r.scheme, "");
	assert_int_equal(ax_link_open(&link, ctx, "testgood:", NULL), AX_ENOTFOUND);
	ax_ctx_unref(ctx);

	ctx = ctx_for_dir(NULL);
	assert_int_equal(ax_ctx_load_plugin(ctx, file), AX_EACCESS);
	assert_has(when, ax_error_last(), n1);
	assert_has(when, ax_error_last(), "untrusted");
	ax_ctx_unref(ctx);
}

/*
 * Anyone who can write a plugin file, or the folder holding it, chooses
 * code every process loading it runs. World-writable folders (sticky
 * /tmp-like ones too), group- or world-writable files and files or folders
 * of another non-root user are refused, and the message says what to run.
 * The other user is played by uid 12345 (this suite runs as root in CI).
 */
static void test_security__untrusted_plugins_refused(void **state)
{
	char tmpl[] = "/tmp/axlink-trust-XXXXXX";
	char file[PATH_MAX], src[PATH_MAX], *dir;
	const uid_t other = 12345;

	(void)state;
	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	join_path(src, sizeof(src), AXLINK_TEST_PLUGIN_DIR, "axlink-transport-testgood.so");
	join_path(file, sizeof(file), dir, "axlink-transport-testgood.so");
	copy_file(src, file);

	check_folder("0700 folder, 0644 file", dir, file, AX_PLUGIN_LOADED, NULL, NULL);
	assert_int_equal(chmod(dir, 0755), 0);
	check_folder("0755 folder", dir, file, AX_PLUGIN_LOADED, NULL, NULL);

	assert_int_equal(chmod(dir, 0777), 0);
	check_folder("0777 folder", dir, file, AX_PLUGIN_UNTRUSTED, "writable by anyone",
	             "chmod o-w");
	assert_int_equal(chmod(dir, 01777), 0);
	check_folder("sticky 1777 folder", dir, file, AX_PLUGIN_UNTRUSTED, "writable by anyone",
	             "chmod o-w");
	assert_int_equal(chmod(dir, 0700), 0);

	assert_int_equal(chmod(file, 0664), 0);
	check_folder("0664 file", dir, file, AX_PLUGIN_UNTRUSTED, "writable by its group",
	             "chmod go-w");
	assert_int_equal(chmod(file, 0646), 0);
	check_folder("0646 file", dir, file, AX_PLUGIN_UNTRUSTED, "writable by anyone",
	             "chmod go-w");
	assert_int_equal(chmod(file, 0644), 0);

	if (geteuid() != 0)
		fail_msg("run as root (as CI does): the other-owner cases need chown()");
	assert_int_equal(chown(file, other, (gid_t)-1), 0);
	check_folder("file of uid 12345", dir, file, AX_PLUGIN_UNTRUSTED, "uid 12345",
	             "neither root nor you");
	assert_int_equal(chown(file, geteuid(), (gid_t)-1), 0);
	assert_int_equal(chown(dir, other, (gid_t)-1), 0);
	check_folder("folder of uid 12345", dir, file, AX_PLUGIN_UNTRUSTED, "uid 12345", dir);
	assert_int_equal(chown(dir, geteuid(), (gid_t)-1), 0);
	check_folder("back to ours", dir, file, AX_PLUGIN_LOADED, NULL, NULL);

	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- FIFOs are never opened -------------------------------------------------------- */

/* Nobody holds @fifo open for reading: a non-blocking writer open fails with ENXIO. */
static void assert_no_reader(const char *fifo)
{
	int fd = open(fifo, O_WRONLY | O_NONBLOCK);
	int e = errno;

	if (fd >= 0) {
		close(fd);
		fail_msg("'%s' is open for reading", fifo);
	}
	assert_int_equal(e, ENXIO);
}

/*
 * A FIFO blocks the open() (and dlopen()) of a reader until a writer comes:
 * given anywhere a file is taken, it must be refused without opening it.
 * Each step runs under alarm(): a hang ends the test with SIGALRM.
 */
static void test_security__fifo_never_opened(void **state)
{
	char tmpl[] = "/tmp/axlink-fifo-XXXXXX";
	char plugin[PATH_MAX], dict[PATH_MAX], dbfifo[PATH_MAX], db_path[PATH_MAX], *dir;
	const char *old_db = getenv("AXLINK_DB"), *old_xdg = getenv("XDG_DATA_HOME");
	char *saved_db = old_db ? strdup(old_db) : NULL;
	char *saved_xdg = old_xdg ? strdup(old_xdg) : NULL;
	ax_ctx *ctx;
	ax_plugin_record r = AX_PLUGIN_RECORD_INIT;
	ax_dict **dicts = NULL;
	ax_dict *found = NULL;
	ax_db *db = NULL;
	char *reason = NULL;
	size_t n = 0;
	int match = -1;

	(void)state;
	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	join_path(plugin, sizeof(plugin), dir, "axlink-transport-x.so");
	join_path(dict, sizeof(dict), dir, "drive.xdf");
	join_path(dbfifo, sizeof(dbfifo), dir, "devices.db");
	join_path(db_path, sizeof(db_path), dir, "real.db");
	assert_int_equal(mkfifo(plugin, 0600), 0);
	assert_int_equal(mkfifo(dict, 0600), 0);
	assert_int_equal(mkfifo(dbfifo, 0600), 0);

	alarm(20);
	/* In a plugin folder, and by path. */
	ctx = ctx_for_dir(dir);
	assert_int_equal(ax_ctx_plugin_count(ctx), 1);
	assert_int_equal(ax_ctx_plugin_record(ctx, 0, &r), 0);
	assert_string_equal(r.path, plugin);
	assert_int_equal(r.status, AX_PLUGIN_INVALID);
	assert_has("plugin FIFO", r.message, "not a regular file");
	assert_int_equal(ax_ctx_load_plugin(ctx, plugin), AX_EINVAL);
	assert_has("plugin FIFO", ax_error_last(), plugin);
	assert_has("plugin FIFO", ax_error_last(), "not a regular file");
	assert_no_reader(plugin);

	/* As a dictionary: loaded (ax_dict_load_file, --dict) and imported. */
	assert_int_equal(ax_dict_load_file(&dicts, &n, dict, ctx), AX_EINVAL);
	assert_has("dictionary FIFO", ax_error_last(), dict);
	assert_has("dictionary FIFO", ax_error_last(), "not a regular file");
	assert_no_reader(dict);
	assert_int_equal(ax_db_open(&db, db_path, AX_DB_CREATE), 0);
	assert_int_equal(ax_db_import(db, dict, ctx, NULL), AX_EINVAL);
	assert_has("import FIFO", ax_error_last(), "not a regular file");
	assert_no_reader(dict);
	db = ax_db_unref(db);

	/* As a device database: opened directly, and found through AXLINK_DB. */
	assert_true(ax_db_open(&db, dbfifo, AX_DB_READONLY) < 0);
	assert_has("database FIFO", ax_error_last(), "not a regular file");
	assert_true(ax_db_open(&db, dbfifo, AX_DB_CREATE) < 0);
	assert_has("database FIFO", ax_error_last(), dbfifo);
	assert_null(db);
	assert_int_equal(setenv("AXLINK_DB", dbfifo, 1), 0);
	assert_int_equal(setenv("XDG_DATA_HOME", dir, 1), 0);
	assert_int_equal(ax_ctx_resolve(ctx, VENDOR_ID, 0x00010064u, 0, AX_ADDR_MCB, &found, &match,
	                                &reason),
	                 0);
	assert_no_reader(dbfifo);
	alarm(0);
	ax_dict_unref(found);
	free(reason);
	ax_ctx_unref(ctx);

	if (saved_db)
		assert_int_equal(setenv("AXLINK_DB", saved_db, 1), 0);
	else
		assert_int_equal(unsetenv("AXLINK_DB"), 0);
	if (saved_xdg)
		assert_int_equal(setenv("XDG_DATA_HOME", saved_xdg, 1), 0);
	else
		assert_int_equal(unsetenv("XDG_DATA_HOME"), 0);
	free(saved_db);
	free(saved_xdg);
	assert_int_equal(unlink(plugin), 0);
	assert_int_equal(unlink(dict), 0);
	assert_int_equal(unlink(dbfifo), 0);
	assert_int_equal(unlink(db_path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_security__plugins_not_loaded_from_cwd),
	        cmocka_unit_test(test_security__oversized_extended_replies_rejected),
	        cmocka_unit_test(test_security__simulator_drops_oversized_requests),
	        cmocka_unit_test(test_security__dictionary_fetches_nothing),
	        cmocka_unit_test(test_security__untrusted_plugins_refused),
	        cmocka_unit_test(test_security__fifo_never_opened),
	};

	return cmocka_run_group_tests_name("security", tests, NULL, NULL);
}
