/* SPDX-License-Identifier: MIT */
/*
 * Run axlink-sim as a child process for integration tests (simproc.h).
 *
 * The child's stdout is a pipe; its stderr is ours, so the simulator's
 * messages show up in the test log. Lines are read with a deadline, never
 * a blocking read, so a simulator that hangs before serving fails the test
 * instead of hanging it.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simproc.h"

extern char **environ;

#ifndef AXLINK_SIM_PATH
#define AXLINK_SIM_PATH "axlink-sim"
#endif

/* Longest URI line we accept; a longer one is not a URI. */
#define SIMPROC_LINE_MAX 256
/* simproc_stop(): how long SIGTERM gets before SIGKILL. */
#define SIMPROC_STOP_MS 5000

struct simproc {
	pid_t pid;
	int out_fd; /* read end of the child's stdout */
	char **uris;
	size_t n_uris;
};

static uint64_t simproc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void simproc_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *simproc_path(void)
{
	const char *env = getenv("AXLINK_SIM");

	return env && *env ? env : AXLINK_SIM_PATH;
}

/*
 * Wait up to @ms for the child. Returns 0 with its wait status, 1 when it
 * is not our child any more (status unknown), -1 if it is still running.
 */
static int simproc_reap(pid_t pid, int ms, int *status)
{
	uint64_t deadline = simproc_now_ms() + (uint64_t)ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return 1;
		if (simproc_now_ms() >= deadline)
			return -1;
		simproc_sleep_ms(5);
	}
}

static void simproc_free(simproc *p)
{
	if (p->out_fd >= 0)
		close(p->out_fd);
	for (size_t i = 0; i < p->n_uris; i++)
		free(p->uris[i]);
	free(p->uris);
	free(p);
}

static int simproc_spawn(simproc *p, const char *const *args)
{
	sigset_t none;
	pid_t parent;
	size_t n_args = 0;
	char **argv;
	int fds[2], err;

	while (args && args[n_args])
		n_args++;
	argv = calloc(n_args + 2, sizeof(*argv));
	if (!argv) {
		fprintf(stderr, "simproc: out of memory\n");
		return -1;
	}
	/* execve takes char *const[]; it does not write to the strings. */
	argv[0] = (char *)(uintptr_t)simproc_path();
	for (size_t i = 0; i < n_args; i++)
		argv[i + 1] = (char *)(uintptr_t)args[i];

	if (pipe(fds) < 0) {
		fprintf(stderr, "simproc: pipe: %s\n", strerror(errno));
		free(argv);
		return -1;
	}
	/* Only the dup2'd copy may reach the child: a stray write end would hide its exit. */
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);

	/*
	 * fork + exec rather than posix_spawn, for one thing posix_spawn cannot
	 * do: PR_SET_PDEATHSIG, so a test that crashes does not leave a
	 * simulator behind holding its addresses. Between fork and exec the
	 * child calls only async-signal-safe functions.
	 */
	parent = getpid();
	sigemptyset(&none);
	p->pid = fork();
	if (p->pid == 0) {
		static const int deflt[] = {SIGINT, SIGTERM, SIGPIPE};

		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		for (size_t i = 0; i < sizeof(deflt) / sizeof(deflt[0]); i++)
			signal(deflt[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	err = p->pid < 0 ? errno : 0;
	close(fds[1]);
	free(argv);
	if (err != 0) {
		fprintf(stderr, "simproc: cannot run '%s': %s\n", simproc_path(), strerror(err));
		close(fds[0]);
		p->pid = -1;
		return -1;
	}
	p->out_fd = fds[0];
	return 0;
}

static int simproc_add_uri(simproc *p, const char *line, size_t len)
{
	char **uris = realloc(p->uris, (p->n_uris + 1) * sizeof(*uris));
	char *copy;

	if (!uris)
		return -1;
	p->uris = uris;
	copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, line, len);
	copy[len] = '\0';
	p->uris[p->n_uris++] = copy;
	return 0;
}

/* Read lines until @n URIs arrived; 0, or -1 with a message. */
static int simproc_read_uris(simproc *p, size_t n, int timeout_ms)
{
	uint64_t deadline = simproc_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	char line[SIMPROC_LINE_MAX];
	size_t used = 0;

	while (p->n_uris < n) {
		struct pollfd pfd = {p->out_fd, POLLIN, 0};
		uint64_t now = simproc_now_ms();
		char buf[512];
		ssize_t r;
		int rc;

		if (now >= deadline) {
			fprintf(stderr, "simproc: '%s' printed %zu of %zu URIs within %d ms\n",
			        simproc_path(), p->n_uris, n, timeout_ms);
			return -1;
		}
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			fprintf(stderr, "simproc: poll: %s\n", strerror(errno));
			return -1;
		}
		if (rc == 0)
			continue; /* the deadline check above reports it */
		r = read(p->out_fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr,
			        "simproc: '%s' closed its output after %zu of %zu URIs "
			        "(did it fail to start?)\n",
			        simproc_path(), p->n_uris, n);
			return -1;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] != '\n') {
				if (used >= sizeof(line) - 1) {
					fprintf(stderr, "simproc: output line over %d bytes\n",
					        SIMPROC_LINE_MAX);
					return -1;
				}
				line[used++] = buf[i];
				continue;
			}
			if (simproc_add_uri(p, line, used) < 0) {
				fprintf(stderr, "simproc: out of memory\n");
				return -1;
			}
			used = 0;
		}
	}
	if (used > 0) {
		fprintf(stderr, "simproc: output continues after %zu URIs: '%.*s'\n", n, (int)used,
		        line);
		return -1;
	}
	return 0;
}

int simproc_start(simproc **out, const char *const *args, size_t n_uris, int timeout_ms)
{
	simproc *p;

	if (!out) {
		fprintf(stderr, "simproc: out is NULL\n");
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "simproc: out of memory\n");
		return -1;
	}
	p->pid = -1;
	p->out_fd = -1;
	if (simproc_spawn(p, args) < 0) {
		simproc_free(p);
		return -1;
	}
	if (simproc_read_uris(p, n_uris, timeout_ms) < 0) {
		(void)simproc_stop(p);
		return -1;
	}
	*out = p;
	return 0;
}

const char *simproc_uri(const simproc *p, size_t i)
{
	return p && i < p->n_uris ? p->uris[i] : NULL;
}

int simproc_pid(const simproc *p)
{
	return p ? (int)p->pid : -1;
}

int simproc_stop(simproc *p)
{
	int status = 0, rc = -1, reaped;

	if (!p)
		return 0;
	if (p->pid > 0) {
		(void)kill(p->pid, SIGTERM);
		reaped = simproc_reap(p->pid, SIMPROC_STOP_MS, &status);
		if (reaped < 0) {
			fprintf(stderr, "simproc: pid %d ignored SIGTERM for %d ms; killing it\n",
			        (int)p->pid, SIMPROC_STOP_MS);
			(void)kill(p->pid, SIGKILL);
			while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
				;
		} else if (reaped > 0) {
			fprintf(stderr, "simproc: pid %d was reaped elsewhere\n", (int)p->pid);
		} else if (WIFEXITED(status)) {
			rc = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			fprintf(stderr, "simproc: pid %d died of signal %d\n", (int)p->pid,
			        WTERMSIG(status));
		}
	}
	simproc_free(p);
	return rc;
}
