/* SPDX-License-Identifier: MIT */
/*
 * axlink-session: one link, driven by commands on stdin, one answer line
 * per command on stdout:
 *
 *   open URI                  ok | err NAME message
 *   read SUBNODE ADDRESS      ok VALUE (u32) | err ...
 *   readstr SUBNODE ADDRESS   ok TEXT | err ...
 *   write SUBNODE ADDRESS V   ok | err ...           (u32)
 *   cancelread SUB ADDR MS    a read that another thread cancels after MS ms
 *                             (and every 10 ms after that until it returns)
 *   close                     ok
 *
 * Every answer ends with " ms=N", the time the command took, so a test can
 * tell "failed quickly" from "failed after hanging". Used by test_tcp.py.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <axlink/axlink.h>

struct canceller {
	ax_link *link;
	long delay_ms;
	atomic_int done;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A cancel can race with the start of the request and be dropped: repeat until it ends. */
static void *cancel_main(void *arg)
{
	struct canceller *c = arg;

	sleep_ms(c->delay_ms);
	while (!atomic_load(&c->done)) {
		(void)ax_link_cancel(c->link);
		sleep_ms(10);
	}
	return NULL;
}

static int parse_ulong(const char *s, unsigned long *out)
{
	char *end = NULL;

	if (!s)
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 0);
	return (errno || end == s || *end) ? -1 : 0;
}

/* Split @line at blanks into at most @max words; returns how many. */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;

	for (char *p = line; *p && n < max;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			*p++ = '\0';
		if (!*p)
			break;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
	}
	return n;
}

static void answer_err(int err, uint64_t t0)
{
	printf("err %s %s ms=%llu\n", ax_error_name(err) ? ax_error_name(err) : "?",
	       ax_error_last(), (unsigned long long)(now_ms() - t0));
}

int main(void)
{
	ax_ctx *ctx = NULL;
	ax_link *link = NULL;
	char line[1024];
	int err;

	err = ax_ctx_new(&ctx, NULL);
	if (err < 0) {
		fprintf(stderr, "axlink-session: %s\n", ax_error_last());
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *w[4] = {NULL, NULL, NULL, NULL};
		char *cmd, *a1, *a2, *a3;
		unsigned long sub = 0, addr = 0, val = 0;
		uint64_t t0 = now_ms();

		line[strcspn(line, "\r\n")] = '\0';
		if (split_words(line, w, 4) == 0)
			continue;
		cmd = w[0];
		a1 = w[1];
		a2 = w[2];
		a3 = w[3];
		if (!strcmp(cmd, "open") && a1) {
			link = ax_link_unref(link);
			err = ax_link_open(&link, ctx, a1, NULL);
			if (err < 0)
				answer_err(err, t0);
			else
				printf("ok ms=%llu\n", (unsigned long long)(now_ms() - t0));
		} else if (!strcmp(cmd, "close")) {
			link = ax_link_unref(link);
			printf("ok ms=%llu\n", (unsigned long long)(now_ms() - t0));
		} else if (!link) {
			printf("err NOLINK no link is open ms=0\n");
		} else if (parse_ulong(a1, &sub) < 0 || parse_ulong(a2, &addr) < 0) {
			printf("err USAGE '%s' needs SUBNODE ADDRESS ms=0\n", cmd);
		} else if (!strcmp(cmd, "read")) {
			uint32_t v = 0;

			err = ax_link_read_u32(link, (unsigned)sub, (uint32_t)addr, &v);
			if (err < 0)
				answer_err(err, t0);
			else
				printf("ok %lu ms=%llu\n", (unsigned long)v,
				       (unsigned long long)(now_ms() - t0));
		} else if (!strcmp(cmd, "readstr")) {
			char *s = NULL;

			err = ax_link_read_str(link, (unsigned)sub, (uint32_t)addr, &s);
			if (err < 0) {
				answer_err(err, t0);
			} else {
				printf("ok %s ms=%llu\n", s, (unsigned long long)(now_ms() - t0));
				ax_free(s);
			}
		} else if (!strcmp(cmd, "write") && parse_ulong(a3, &val) == 0) {
			err = ax_link_write_u32(link, (unsigned)sub, (uint32_t)addr, (uint32_t)val);
			if (err < 0)
				answer_err(err, t0);
			else
				printf("ok ms=%llu\n", (unsigned long long)(now_ms() - t0));
		} else if (!strcmp(cmd, "cancelread") && parse_ulong(a3, &val) == 0) {
			struct canceller c = {.link = link, .delay_ms = (long)val};
			pthread_t th;
			uint32_t v = 0;

			atomic_init(&c.done, 0);
			if (pthread_create(&th, NULL, cancel_main, &c) != 0) {
				printf("err THREAD cannot start the cancelling thread ms=0\n");
			} else {
				err = ax_link_read_u32(link, (unsigned)sub, (uint32_t)addr, &v);
				atomic_store(&c.done, 1);
				pthread_join(th, NULL);
				if (err < 0)
					answer_err(err, t0);
				else
					printf("ok %lu ms=%llu\n", (unsigned long)v,
					       (unsigned long long)(now_ms() - t0));
			}
		} else {
			printf("err USAGE unknown command or bad arguments: '%s' ms=0\n", cmd);
		}
		fflush(stdout);
	}
	ax_link_unref(link);
	ax_ctx_unref(ctx);
	return 0;
}
