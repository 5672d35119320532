/* SPDX-License-Identifier: MIT */
/*
 * Serial-line front-end of axlink-sim: one drive on a terminal, MCB frames
 * raw on the byte stream, as the `serial` transport sends them.
 *
 * Framing: a 14-byte window slides over the received bytes until it
 * decodes (CRC, node, command); the bytes it passes over are line noise and
 * are dropped, as a drive on a real line would. An extended frame waits for
 * its payload. Every frame then goes to sim_serve(), so the fault injection
 * (--drop, --corrupt, --delay, ...) acts on a serial drive exactly as on
 * the others.
 *
 * Line rate (--baud): a pty moves bytes as fast as memory, so benchmarks
 * against a physical line need the simulator to hold it back, in both
 * directions: a request counts as received only once its bytes would have
 * crossed the wire (10 bits per byte, after whatever was still arriving),
 * and the reply's bytes leave one by one at their due times, after the
 * previous reply. The poll loop wakes with millisecond granularity, too
 * coarse for 87 us bytes, so a writer thread with a fine timer sends paced
 * output; without --baud the loop writes replies itself.
 *
 * A pty master whose slave nobody holds reports a hang-up until someone
 * opens the slave again; the front-end therefore keeps its own handle on
 * the slave of a pty it serves, and on any other hang-up (the far end of a
 * slave closed, a USB adapter unplugged) it stops polling the line and
 * looks again every TTY_RETRY_NS instead of spinning.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "axlink/error.h"
#include "axlink/mcb.h"
#include "frontend_tty.h"

/* Room for a maximal frame behind fewer than 14 bytes of noise, with slack. */
#define TTY_RX_SIZE (2 * AX_MCB_MAX_FRAME)
/* Reads per wake-up, so a babbling line cannot starve the other front-ends. */
#define TTY_READ_BURST 16
/* Replies waiting for the line; beyond this a flood just loses replies. */
#define TTY_MAX_QUEUED 256
/* How often a hung-up line is looked at again. */
#define TTY_RETRY_NS 10000000u
/* How long the writer waits for a reader that does not drain the line. */
#define TTY_FULL_WAIT_MS 10

#define TTY_NAME_SIZE 256

/* One reply on its way out. */
struct tty_chunk {
	struct tty_chunk *next;
	uint64_t start_ns; /* paced: byte k is due at start + wire(k + 1); else all at start */
	size_t len, off;
	uint8_t buf[AX_MCB_MAX_FRAME];
};

struct tty_frontend {
	struct sim *sim;
	struct sim_drive *drive;
	int fd;                   /* the line */
	int slave_fd;             /* our handle on the slave of a pty we serve, or -1 */
	unsigned baud;            /* 0: unpaced */
	char name[TTY_NAME_SIZE]; /* what we serve, for logs */
	char uri[TTY_NAME_SIZE + 8];

	uint8_t rx[TTY_RX_SIZE];
	size_t rx_len;
	uint64_t rx_free_ns; /* paced: when the incoming wire has delivered all read so far */
	uint64_t tx_free_ns; /* paced: when the outgoing wire is free again */
	int hung_up;
	int hup_told; /* the debug log has said so since the line last worked */
	uint64_t retry_ns;
	int blocked; /* unpaced: a write met a full buffer; wait for POLLOUT */

	/* Output queue; under lock when a writer thread runs. */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC: new output, or stop */
	struct tty_chunk *head, *tail;
	size_t queued;
	unsigned long gen; /* bumped whenever the queue is dropped */
	int have_writer, stop;
	pthread_t writer;
};

/* Nanoseconds @n bytes take on the wire at @baud, 10 bits each. */
static uint64_t tty_wire_ns(const struct tty_frontend *t, uint64_t n)
{
	return n * 10000000000ull / t->baud;
}

static void tty_lock(struct tty_frontend *t)
{
	if (t->have_writer)
		pthread_mutex_lock(&t->lock);
}

static void tty_unlock(struct tty_frontend *t)
{
	if (t->have_writer)
		pthread_mutex_unlock(&t->lock);
}

/* Drop everything queued (the line went away); under the lock. */
static void tty_drop_queue(struct tty_frontend *t)
{
	t->gen++;
	while (t->head) {
		struct tty_chunk *c = t->head;

		t->head = c->next;
		free(c);
	}
	t->tail = NULL;
	t->queued = 0;
}

static void tty_pop(struct tty_frontend *t)
{
	struct tty_chunk *c = t->head;

	t->head = c->next;
	if (!t->head)
		t->tail = NULL;
	t->queued--;
	free(c);
}

static void tty_hang_up(struct tty_frontend *t, uint64_t now, const char *why)
{
	if (!t->hup_told)
		sim_debug(t->sim, "%s: %s; looking again every %u ms", t->name, why,
		          TTY_RETRY_NS / 1000000u);
	t->hung_up = 1;
	t->hup_told = 1;
	t->retry_ns = now + TTY_RETRY_NS;
	t->rx_len = 0;
	t->blocked = 0;
	tty_lock(t);
	tty_drop_queue(t);
	tty_unlock(t);
}

/* Unpaced: write what is due at @now, until the line takes no more. */
static void tty_flush_due(struct tty_frontend *t, uint64_t now)
{
	while (t->head && t->head->start_ns <= now && !t->hung_up) {
		struct tty_chunk *c = t->head;
		ssize_t r = write(t->fd, c->buf + c->off, c->len - c->off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				t->blocked = 1;
				return;
			}
			tty_hang_up(t, now, errno == EIO ? "the line hung up" : strerror(errno));
			return;
		}
		c->off += (size_t)r;
		if (c->off < c->len) {
			t->blocked = 1;
			return;
		}
		tty_pop(t);
	}
}

/* Paced output: each byte at its due time, measured on a fine timer. */
static void *tty_writer_main(void *arg)
{
	struct tty_frontend *t = arg;

	/* The default 50 us of timer slack is over half a byte at 115200 baud. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct tty_chunk *c = t->head;
		uint8_t out[AX_MCB_MAX_FRAME];
		struct timespec due_ts;
		unsigned long gen;
		uint64_t due, now;
		int werr;
		size_t n;
		ssize_t r;

		if (!c) {
			pthread_cond_wait(&t->cond, &t->lock);
			continue;
		}
		due = c->start_ns + tty_wire_ns(t, c->off + 1);
		now = sim_now_ns();
		if (now < due) {
			due_ts.tv_sec = (time_t)(due / 1000000000u);
			due_ts.tv_nsec = (long)(due % 1000000000u);
			/* Woken early by new output or stop: the loop looks again. */
			(void)pthread_cond_timedwait(&t->cond, &t->lock, &due_ts);
			continue;
		}
		/* Late (a busy machine): send every byte that is due, not one per wake-up. */
		n = 1;
		while (c->off + n < c->len && c->start_ns + tty_wire_ns(t, c->off + n + 1) <= now)
			n++;
		/* Write a copy: the loop thread may drop the queue (a hang-up) meanwhile. */
		memcpy(out, c->buf + c->off, n);
		gen = t->gen;
		pthread_mutex_unlock(&t->lock);
		r = write(t->fd, out, n);
		werr = errno;
		if (r < 0 && (werr == EAGAIN || werr == EWOULDBLOCK)) {
			/* Nobody reads the line: the bytes wait, as in a full UART FIFO. */
			struct timespec pause = {0, TTY_FULL_WAIT_MS * 1000000L};

			nanosleep(&pause, NULL);
		}
		pthread_mutex_lock(&t->lock);
		/* Only the writer pops, so an undropped queue still starts with c. */
		if (t->gen != gen)
			continue;
		if (r > 0) {
			c->off += (size_t)r;
			if (c->off == c->len)
				tty_pop(t);
		} else if (r < 0 && werr != EAGAIN && werr != EWOULDBLOCK && werr != EINTR) {
			sim_debug(t->sim, "%s: reply lost: write: %s", t->name, strerror(werr));
			tty_pop(t);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* Queue @len reply bytes to leave once @ready_ns has passed (plus the wire time, paced). */
static void tty_queue_reply(struct tty_frontend *t, const uint8_t *buf, size_t len,
                            uint64_t ready_ns, uint64_t now)
{
	struct tty_chunk *c;

	if (t->queued >= TTY_MAX_QUEUED || !(c = malloc(sizeof(*c)))) {
		sim_debug(t->sim, "%s: reply dropped: %zu replies already wait for the line",
		          t->name, t->queued);
		return;
	}
	c->next = NULL;
	c->len = len;
	c->off = 0;
	memcpy(c->buf, buf, len);
	if (t->baud) {
		/* One reply after the other on the wire, never two at once. */
		c->start_ns = ready_ns > t->tx_free_ns ? ready_ns : t->tx_free_ns;
		t->tx_free_ns = c->start_ns + tty_wire_ns(t, len);
	} else {
		c->start_ns = ready_ns;
	}
	tty_lock(t);
	if (t->tail)
		t->tail->next = c;
	else
		t->head = c;
	t->tail = c;
	t->queued++;
	if (t->have_writer)
		pthread_cond_signal(&t->cond);
	tty_unlock(t);
	if (!t->have_writer && !t->blocked)
		tty_flush_due(t, now);
}

/* One whole frame from the line, complete on the wire at @done_ns. */
static void tty_handle(struct tty_frontend *t, const uint8_t *frame, size_t len, uint64_t done_ns,
                       uint64_t now)
{
	uint8_t reply[AX_MCB_MAX_FRAME];
	size_t n;

	n = sim_serve(t->sim, t->drive, t->name, "line", frame, len, now, reply, sizeof(reply));
	if (n == 0)
		return;
	tty_queue_reply(t, reply, n, done_ns + sim_reply_delay(t->sim, t->drive), now);
}

/* Cut frames out of the received bytes; slide past what does not decode. */
static void tty_parse(struct tty_frontend *t, uint64_t now)
{
	size_t skipped = 0;

	while (t->rx_len >= AX_MCB_FRAME_SIZE) {
		ax_mcb_frame f;
		int err = ax_mcb_decode(&f, t->rx, t->rx_len);

		if (err == AX_ETRUNC)
			break; /* an extended frame whose payload is still on its way */
		if (err < 0) {
			memmove(t->rx, t->rx + 1, --t->rx_len);
			skipped++;
			continue;
		}
		if (skipped)
			sim_debug(t->sim, "%s: skipped %zu byte(s) of line noise before a frame",
			          t->name, skipped);
		skipped = 0;
		tty_handle(t, t->rx, f.frame_len, t->baud ? t->rx_free_ns : now, now);
		t->rx_len -= f.frame_len;
		memmove(t->rx, t->rx + f.frame_len, t->rx_len);
	}
	if (skipped)
		sim_debug(t->sim, "%s: skipped %zu byte(s) of line noise", t->name, skipped);
}

/* Read what the line has (a burst at most). Returns the number of bytes read. */
static size_t tty_receive(struct tty_frontend *t, uint64_t now)
{
	size_t total = 0;

	for (int i = 0; i < TTY_READ_BURST; i++) {
		ssize_t r;

		/* Cannot fill while parsing slides, but never read into nothing. */
		if (t->rx_len == sizeof(t->rx)) {
			memmove(t->rx, t->rx + 1, --t->rx_len);
		}
		r = read(t->fd, t->rx + t->rx_len, sizeof(t->rx) - t->rx_len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				tty_hang_up(t, now,
				            errno == EIO ? "the line hung up" : strerror(errno));
			return total;
		}
		if (r == 0)
			return total; /* nothing queued (or end of file: see tty_ready()) */
		if (t->baud) {
			if (t->rx_free_ns < now)
				t->rx_free_ns = now;
			t->rx_free_ns += tty_wire_ns(t, (uint64_t)r);
		}
		t->rx_len += (size_t)r;
		total += (size_t)r;
		t->hup_told = 0;
		tty_parse(t, now);
	}
	return total;
}

static size_t tty_npoll(void *priv)
{
	(void)priv;
	return 1;
}

static void tty_fill(void *priv, struct pollfd *fds)
{
	struct tty_frontend *t = priv;

	/* poll() reports a hang-up whatever the events: leave the line out until the retry. */
	fds[0].fd = t->hung_up ? -1 : t->fd;
	fds[0].events = (short)(POLLIN | (t->blocked ? POLLOUT : 0));
}

static void tty_ready(void *priv, const struct pollfd *fds, uint64_t now)
{
	struct tty_frontend *t = priv;
	short rev = fds[0].revents;

	if (t->hung_up || !rev)
		return;
	if (rev & POLLOUT) {
		t->blocked = 0;
		tty_flush_due(t, now);
	}
	/* A hung-up tty may stay readable with nothing but end of file: that is a hang-up too. */
	if ((rev & POLLIN) && tty_receive(t, now) > 0)
		return;
	if (!t->hung_up && (rev & (POLLHUP | POLLERR | POLLNVAL)))
		tty_hang_up(t, now, "the line hung up");
}

static uint64_t tty_next_due(void *priv)
{
	struct tty_frontend *t = priv;
	uint64_t due = SIM_NEVER;

	if (t->hung_up)
		return t->retry_ns;
	if (!t->have_writer && t->head && !t->blocked)
		due = t->head->start_ns;
	return due;
}

static void tty_run_due(void *priv, uint64_t now)
{
	struct tty_frontend *t = priv;

	if (t->hung_up && now >= t->retry_ns)
		t->hung_up = 0; /* poll() tells at once whether it still is */
	if (!t->have_writer && !t->blocked)
		tty_flush_due(t, now);
}

static void tty_print_uris(void *priv, FILE *out)
{
	fprintf(out, "%s\n", ((struct tty_frontend *)priv)->uri);
}

static void tty_destroy(void *priv)
{
	struct tty_frontend *t = priv;

	if (!t)
		return;
	if (t->have_writer) {
		pthread_mutex_lock(&t->lock);
		t->stop = 1;
		pthread_cond_signal(&t->cond);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->writer, NULL);
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		t->have_writer = 0;
	}
	tty_drop_queue(t);
	if (t->fd >= 0)
		close(t->fd);
	if (t->slave_fd >= 0)
		close(t->slave_fd);
	free(t);
}

/* termios speed for @baud, or 0 when it is not one of the standard rates. */
static speed_t tty_speed(unsigned baud)
{
	static const struct {
		unsigned baud;
		speed_t speed;
	} rates[] = {
	        {1200, B1200},       {2400, B2400},       {4800, B4800},       {9600, B9600},
	        {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},
	        {230400, B230400},   {460800, B460800},   {500000, B500000},   {921600, B921600},
	        {1000000, B1000000}, {2000000, B2000000}, {4000000, B4000000},
	};

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		if (rates[i].baud == baud)
			return rates[i].speed;
	return 0;
}

/* Raw 8N1, no echo, no line editing; at @baud when it is a standard rate. */
static int tty_make_raw(struct tty_frontend *t, int fd, unsigned baud)
{
	struct termios tio;
	speed_t sp = tty_speed(baud);

	if (tcgetattr(fd, &tio) < 0) {
		sim_error("%s is not a terminal: %s", t->name, strerror(errno));
		return -1;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	/* A pty has no line rate; a real port does, and then the UART paces too. */
	if (sp)
		(void)cfsetspeed(&tio, sp);
	if (tcsetattr(fd, TCSANOW, &tio) < 0) {
		sim_error("%s: cannot set raw mode: %s", t->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* "/dev/fd/N" or "/proc/self/fd/N": the inherited descriptor N, or -1 when @path is not one. */
static int line_inherited_fd(const char *path)
{
	static const char *const prefixes[] = {"/dev/fd/", "/proc/self/fd/"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t plen = strlen(prefixes[i]);
		long v = 0;
		const char *d;

		if (strncmp(path, prefixes[i], plen) != 0)
			continue;
		d = path + plen;
		if (*d == '\0')
			return -1;
		for (; *d; d++) {
			if (*d < '0' || *d > '9' || v > 100000)
				return -1;
			v = v * 10 + (*d - '0');
		}
		return (int)v;
	}
	return -1;
}

/* See frontend_tty.h. */
int sim_line_open(const char *option, const char *path)
{
	int inherited, fd;

	if (!path) {
		fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0) {
			sim_error("cannot create a pseudo-terminal: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	inherited = line_inherited_fd(path);
	if (inherited >= 0) {
		if (fcntl(inherited, F_GETFD) < 0) {
			sim_error("%s %s: descriptor %d is not open: %s", option, path, inherited,
			          strerror(errno));
			return -1;
		}
		fd = fcntl(inherited, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			sim_error("%s %s: cannot take descriptor %d: %s", option, path, inherited,
			          strerror(errno));
			return -1;
		}
		close(inherited);
		return fd;
	}
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		sim_error("%s %s: cannot open: %s", option, path, strerror(errno));
	return fd;
}

/* Open (or take over) the line; sets t->fd and t->name. */
static int tty_open_line(struct tty_frontend *t, const char *path)
{
	t->fd = sim_line_open("--tty", path);
	if (t->fd < 0)
		return -1;
	(void)snprintf(t->name, sizeof(t->name), "%s", path ? path : "pty master");
	return 0;
}

int sim_tty_open(struct sim_frontend *out, struct sim *s, size_t drive, const char *path,
                 unsigned baud)
{
	struct tty_frontend *t;
	pthread_condattr_t ca;
	char slave[TTY_NAME_SIZE];
	int fl;

	if (drive >= s->n_drives) {
		sim_error("serial front-end: drive %zu out of range", drive + 1);
		return -1;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		sim_error("out of memory for the serial front-end");
		return -1;
	}
	t->sim = s;
	t->drive = &s->drives[drive];
	t->fd = -1;
	t->slave_fd = -1;
	t->baud = baud;
	if (tty_open_line(t, path) < 0)
		goto fail;
	if (!isatty(t->fd)) {
		sim_error("--tty %s is not a terminal", t->name);
		goto fail;
	}
	fl = fcntl(t->fd, F_GETFL);
	if (fl < 0 || fcntl(t->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		sim_error("%s: cannot make the line non-blocking: %s", t->name, strerror(errno));
		goto fail;
	}

	/*
	 * A pty master: hold the slave open too, or the master hangs up
	 * whenever clients close. Best effort: a client may hold the slave
	 * exclusively (TIOCEXCL) already, and the retry covers hang-ups then.
	 */
	if (ptsname_r(t->fd, slave, sizeof(slave)) == 0) {
		t->slave_fd = open(slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (t->slave_fd < 0)
			sim_debug(s, "%s: cannot hold its slave %s open: %s", t->name, slave,
			          strerror(errno));
		/* Either end sets the pty's termios. */
		if (tty_make_raw(t, t->slave_fd >= 0 ? t->slave_fd : t->fd, baud) < 0)
			goto fail;
		if (!path)
			(void)snprintf(t->name, sizeof(t->name), "%s", slave);
		(void)snprintf(t->uri, sizeof(t->uri), "serial:%s", slave);
	} else {
		if (tty_make_raw(t, t->fd, baud) < 0)
			goto fail;
		(void)snprintf(t->uri, sizeof(t->uri), "serial:%s", path);
	}

	if (baud) {
		if (pthread_mutex_init(&t->lock, NULL) != 0) {
			sim_error("cannot create the serial writer's lock");
			goto fail;
		}
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		if (pthread_cond_init(&t->cond, &ca) != 0) {
			pthread_condattr_destroy(&ca);
			pthread_mutex_destroy(&t->lock);
			sim_error("cannot create the serial writer's condition");
			goto fail;
		}
		pthread_condattr_destroy(&ca);
		if (pthread_create(&t->writer, NULL, tty_writer_main, t) != 0) {
			pthread_cond_destroy(&t->cond);
			pthread_mutex_destroy(&t->lock);
			sim_error("cannot start the serial writer thread");
			goto fail;
		}
		t->have_writer = 1;
	}
	sim_debug(s, "%s: serving drive %zu%s", t->name, drive + 1,
	          baud ? " at a paced line rate" : "");

	memset(out, 0, sizeof(*out));
	out->priv = t;
	out->npoll = tty_npoll;
	out->fill = tty_fill;
	out->ready = tty_ready;
	out->next_due = tty_next_due;
	out->run_due = tty_run_due;
	out->print_uris = tty_print_uris;
	out->destroy = tty_destroy;
	return 0;
fail:
	tty_destroy(t);
	return -1;
}
