/* SPDX-License-Identifier: MIT */
/*
 * A main() for a fuzz target without libFuzzer: runs the target once on each
 * file named on the command line, or on each file of a named folder (name
 * order). ctest uses it to replay the seed corpus and every saved crash
 * input under any compiler and under ASan/valgrind, so a fixed crash stays
 * fixed even where clang's libFuzzer is not installed.
 *
 * usage: fuzz_<target>_replay FILE|DIR...   (exit 0 when every input passed;
 * a broken invariant aborts)
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Larger than any seed; a bigger file is a mistake in the corpus, not an input. */
#define REPLAY_MAX_SIZE ((size_t)16 << 20)

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t len;
	long end;

	if (!f) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (size_t)end > REPLAY_MAX_SIZE) {
		fprintf(stderr, "replay: '%s': cannot size it, or over %zu bytes\n", path,
		        REPLAY_MAX_SIZE);
		fclose(f);
		return -1;
	}
	len = (size_t)end;
	/* Exactly the input's size (at least 1 byte for malloc), so ASan sees an overread. */
	buf = malloc(len ? len : 1);
	if (!buf || fread(buf, 1, len, f) != len) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	(void)LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_entry(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Returns the number of inputs replayed, or -1. */
static long replay_path(const char *path)
{
	struct dirent **list = NULL;
	struct stat st;
	long count = 0;
	int n;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path) < 0 ? -1 : 1;
	n = scandir(path, &list, skip_entry, by_name);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list '%s': %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char child[4096];
		int len = snprintf(child, sizeof(child), "%s/%s", path, list[i]->d_name);

		if (count >= 0 && len > 0 && (size_t)len < sizeof(child) && stat(child, &st) == 0 &&
		    S_ISREG(st.st_mode))
			count = replay_file(child) < 0 ? -1 : count + 1;
		free(list[i]);
	}
	free(list);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		long n = replay_path(argv[i]);

		if (n < 0)
			return 1;
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no input found in the paths given\n");
		return 1;
	}
	printf("replayed %ld input(s)\n", total);
	return 0;
}
