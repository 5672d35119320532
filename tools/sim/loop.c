/* SPDX-License-Identifier: MIT */
/*
 * The event loop of axlink-sim: one thread, one poll() over every front-end's
 * descriptors plus a self-pipe that SIGINT and SIGTERM write to. Delayed work
 * (late replies) sets the poll timeout, so a slow drive never holds up the
 * others: nothing in the loop sleeps.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

static const int sim_stop_signals[] = {SIGINT, SIGTERM};

/* Write end of the self-pipe; the signal handler's only state. */
static volatile sig_atomic_t sim_signal_fd = -1;
static int sim_pipe[2] = {-1, -1};

static void sim_on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t r;

	/* A full pipe already holds a stop request; losing this byte is harmless. */
	r = write(sim_signal_fd, &b, 1);
	(void)r;
	errno = saved;
}

static int sim_fd_setup(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int sim_signals_open(void)
{
	struct sigaction sa;

	if (pipe(sim_pipe) < 0) {
		sim_error("cannot create the signal pipe: %s", strerror(errno));
		return -1;
	}
	if (sim_fd_setup(sim_pipe[0]) < 0 || sim_fd_setup(sim_pipe[1]) < 0) {
		sim_error("cannot set up the signal pipe: %s", strerror(errno));
		sim_signals_close();
		return -1;
	}
	sim_signal_fd = sim_pipe[1];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sim_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sim_stop_signals) / sizeof(sim_stop_signals[0]); i++) {
		if (sigaction(sim_stop_signals[i], &sa, NULL) < 0) {
			sim_error("cannot install the handler of signal %d: %s",
			          sim_stop_signals[i], strerror(errno));
			sim_signals_close();
			return -1;
		}
	}
	/* Whoever started us may block these (a test harness); we must see them. */
	{
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	}
	return sim_pipe[0];
}

void sim_signals_close(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sim_stop_signals) / sizeof(sim_stop_signals[0]); i++)
		(void)sigaction(sim_stop_signals[i], &sa, NULL);
	sim_signal_fd = -1;
	for (int i = 0; i < 2; i++) {
		if (sim_pipe[i] >= 0)
			close(sim_pipe[i]);
		sim_pipe[i] = -1;
	}
}

/* Milliseconds until @due, rounded up so the loop never wakes early and spins. */
static int sim_timeout_ms(uint64_t now, uint64_t due)
{
	uint64_t ms;

	if (due == SIM_NEVER)
		return -1;
	if (due <= now)
		return 0;
	ms = (due - now + 999999u) / 1000000u;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int sim_loop_run(struct sim_frontend *fes, size_t n_fes, int stop_fd)
{
	struct pollfd *fds;
	size_t n_fds = 1;
	int rc = -1;

	for (size_t i = 0; i < n_fes; i++)
		n_fds += fes[i].npoll(fes[i].priv);
	fds = calloc(n_fds, sizeof(*fds));
	if (!fds) {
		sim_error("out of memory for %zu poll entries", n_fds);
		return -1;
	}

	for (;;) {
		uint64_t now = sim_now_ns(), due = SIM_NEVER;
		size_t off = 1;
		int n;

		for (size_t i = 0; i < n_fes; i++) {
			uint64_t d;

			fes[i].run_due(fes[i].priv, now);
			d = fes[i].next_due(fes[i].priv);
			if (d < due)
				due = d;
		}

		fds[0].fd = stop_fd;
		fds[0].events = POLLIN;
		fds[0].revents = 0;
		for (size_t i = 0; i < n_fes; i++) {
			size_t k = fes[i].npoll(fes[i].priv);

			fes[i].fill(fes[i].priv, fds + off);
			for (size_t j = off; j < off + k; j++)
				fds[j].revents = 0;
			off += k;
		}

		n = poll(fds, (nfds_t)n_fds, sim_timeout_ms(now, due));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sim_error("poll: %s", strerror(errno));
			break;
		}
		if (fds[0].revents) {
			/* Stop at once: replies still waiting in a delay queue are dropped. */
			rc = 0;
			break;
		}
		if (n == 0)
			continue;
		now = sim_now_ns();
		off = 1;
		for (size_t i = 0; i < n_fes; i++) {
			fes[i].ready(fes[i].priv, fds + off, now);
			off += fes[i].npoll(fes[i].priv);
		}
	}
	free(fds);
	return rc;
}
