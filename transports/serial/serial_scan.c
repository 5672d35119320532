/* SPDX-License-Identifier: MIT */
/*
 * Serial discovery: list the ports libserialport knows, and probe the ones
 * the policy allows for an MCB drive by reading its identity registers.
 *
 * Targets: `serial:` is every port the policy allows, `serial:?probe=all`
 * every port, `serial:/dev/ttyUSB0` that port alone. Every port is reported
 * once, with its transport details (native, USB VID:PID and strings,
 * Bluetooth address) and an access state: ok with the identity of the
 * drive that answered; permission-denied or busy with a hint; no-reply; or
 * error with the reason, which is also how a port the policy left alone is
 * reported.
 *
 * Policy: a serial port may have anything behind it (a modem, a GPS, a
 * microcontroller that resets when the port opens), so by default only
 * ports whose USB VID:PID is a known drive adapter are opened, plus the
 * ports the target names. A port outside the policy is not even opened:
 * opening alone toggles DTR and RTS, and no byte is ever sent to it.
 *
 * Ports are probed in parallel, one thread each, all within the scan's
 * deadline: a silent port costs one probe timeout, not one per port.
 * Results are reported from the calling thread (the host's scan sink is
 * not for other threads), in path order, each as soon as it and the ports
 * before it are done.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serial.h"

/* More ports than any machine has; the rest are skipped (and logged). */
#define SCAN_MAX_PORTS 256
/* How often the calling thread looks at the scan's cancel state. */
#define SCAN_TICK_MS 20
/* Part of the deadline kept back for closing the ports and reporting. */
#define SCAN_MARGIN_MS 50

/*
 * USB-serial adapters drives are known to sit behind, until the device
 * database has a table of USB ids. 1209:A71C is axlink's own entry in the
 * pid.codes range (the same vendor number as the drives' 0xA71C).
 */
static const struct {
	uint16_t vid, pid;
} scan_known_usb[] = {
        {0x0403, 0x6001}, /* FTDI FT232R */
        {0x0403, 0x6015}, /* FTDI FT-X series */
        {0x1209, 0x0001}, /* pid.codes test PID */
        {0x1209, 0xA71C}, /* axlink drive adapter */
};

struct scan;

struct scan_port {
	struct scan *scan;
	char path[SERIAL_PATH_MAX];
	char uri[SERIAL_PATH_MAX * 3 + 64];
	char detail[320];
	int transport; /* an sp_transport, or -1 when libserialport has no record */
	int vid, pid;  /* USB ids, or -1 */
	int allowed;   /* the policy lets us open it */

	/* The outcome; written by the port's worker, read once it is done. */
	int access;
	char message[320];
	char hint[256];
	uint32_t known, vendor, product, revision, serial;
	char sw[65];

	ax_transport_priv *priv; /* open port while probing, under scan->lock */
	pthread_t thread;
	int started;
	int done; /* under scan->lock */
};

struct scan {
	const ax_host *host;
	void *sink;
	const char *spec;
	struct serial_cfg cfg;
	char query[160];        /* line settings for the location URIs */
	uint64_t work_deadline; /* probes end here */
	atomic_int stop;        /* cancelled, past the deadline, or the sink said stop */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a worker finished */
	struct scan_port *ports;
	size_t n_ports;
	int emitted;
};

static int scan_usb_known(int vid, int pid)
{
	for (size_t i = 0; i < SERIAL_COUNT(scan_known_usb); i++)
		if (scan_known_usb[i].vid == vid && scan_known_usb[i].pid == pid)
			return 1;
	return 0;
}

/* Device strings go to terminals and logs: no control characters, no quotes. */
static void scan_clean(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	for (size_t i = 0; src && src[i] && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[o++] = c < 0x20 || c == 0x7F || c == '\'' ? '?' : (char)c;
	}
	dst[o] = '\0';
}

/* Append to @buf (holding @*o characters), truncating quietly. */
static void scan_append(char *buf, size_t cap, size_t *o, const char *fmt, ...)
        AX_PRINTF_LIKE(4, 5);

static void scan_append(char *buf, size_t cap, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o + 1 >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *o, cap - *o, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*o = (size_t)n >= cap - *o ? cap - 1 : *o + (size_t)n;
}

/* "USB VID:PID 0403:6001 serial SER123 'Acme' 'SimServo RS485'", "native 'ttyS0'", ... */
static void scan_describe(struct scan_port *p, const struct sp_port *sp)
{
	char a[128], b[128];
	size_t o = 0;

	p->transport = (int)sp_get_port_transport(sp);
	p->vid = p->pid = -1;
	switch (p->transport) {
	case SP_TRANSPORT_USB:
		if (sp_get_port_usb_vid_pid(sp, &p->vid, &p->pid) != SP_OK)
			p->vid = p->pid = -1;
		if (p->vid >= 0 && p->pid >= 0)
			scan_append(p->detail, sizeof(p->detail), &o, "USB VID:PID %04x:%04x",
			            (unsigned)p->vid, (unsigned)p->pid);
		else
			scan_append(p->detail, sizeof(p->detail), &o, "USB");
		scan_clean(a, sizeof(a), sp_get_port_usb_serial(sp));
		if (a[0])
			scan_append(p->detail, sizeof(p->detail), &o, " serial %s", a);
		scan_clean(a, sizeof(a), sp_get_port_usb_manufacturer(sp));
		scan_clean(b, sizeof(b), sp_get_port_usb_product(sp));
		if (a[0])
			scan_append(p->detail, sizeof(p->detail), &o, " '%s'", a);
		if (b[0])
			scan_append(p->detail, sizeof(p->detail), &o, " '%s'", b);
		break;
	case SP_TRANSPORT_BLUETOOTH:
		scan_clean(a, sizeof(a), sp_get_port_bluetooth_address(sp));
		scan_append(p->detail, sizeof(p->detail), &o, "Bluetooth%s%s", a[0] ? " " : "", a);
		break;
	default:
		scan_clean(a, sizeof(a), sp_get_port_description(sp));
		scan_append(p->detail, sizeof(p->detail), &o, "native '%s'", a);
		break;
	}
}

/* "serial:" + the path, percent-encoded where a URI needs it, + the line settings. */
static void scan_make_uri(struct scan *s, struct scan_port *p)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	scan_append(p->uri, sizeof(p->uri), &o, "serial:");
	for (const char *c = p->path; *c && o + 4 < sizeof(p->uri); c++) {
		unsigned char ch = (unsigned char)*c;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("/-._~:@+,", ch)) {
			p->uri[o++] = (char)ch;
		} else {
			p->uri[o++] = '%';
			p->uri[o++] = hex[ch >> 4];
			p->uri[o++] = hex[ch & 0xF];
		}
	}
	p->uri[o] = '\0';
	scan_append(p->uri, sizeof(p->uri), &o, "%s", s->query);
}

static void scan_set(struct scan_port *p, int access, const char *hint, const char *fmt, ...)
        AX_PRINTF_LIKE(4, 5);

static void scan_set(struct scan_port *p, int access, const char *hint, const char *fmt, ...)
{
	va_list ap;

	p->access = access;
	va_start(ap, fmt);
	(void)vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	(void)snprintf(p->hint, sizeof(p->hint), "%s", hint ? hint : "");
}

/* The policy's verdict on a listed port (an explicitly named one is always allowed). */
static void scan_apply_policy(struct scan *s, struct scan_port *p)
{
	static const char hint[] = "name the port to probe it (serial:PORT) or probe every port "
	                           "(serial:?probe=all)";

	if (s->cfg.probe_all ||
	    (p->transport == SP_TRANSPORT_USB && scan_usb_known(p->vid, p->pid))) {
		p->allowed = 1;
		return;
	}
	if (p->transport == SP_TRANSPORT_USB && p->vid >= 0)
		scan_set(p, AX_ACCESS_ERROR, hint,
		         "not probed: USB VID:PID %04x:%04x is not a known drive adapter",
		         (unsigned)p->vid, (unsigned)p->pid);
	else if (p->transport == SP_TRANSPORT_USB)
		scan_set(p, AX_ACCESS_ERROR, hint, "not probed: USB port without a VID:PID");
	else if (p->transport == SP_TRANSPORT_BLUETOOTH)
		scan_set(p, AX_ACCESS_ERROR, hint, "not probed: Bluetooth port");
	else
		scan_set(p, AX_ACCESS_ERROR, hint,
		         "not probed: built-in port (only known USB adapters are probed by "
		         "default)");
}

static int scan_path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct scan_port *)a)->path, ((const struct scan_port *)b)->path);
}

/* Every port libserialport lists, sorted by path. */
static int scan_list_ports(struct scan *s)
{
	const ax_host *host = s->host;
	struct sp_port **list = NULL;
	enum sp_return ret;
	size_t n = 0;

	ret = sp_list_ports(&list);
	/* libserialport 0.1.1 fails with an empty list when there is no port at all. */
	if (ret != SP_OK || !list) {
		if (host->log_enabled(host, AX_LOG_DEBUG))
			host->log(host, AX_LOG_DEBUG, "no serial ports listed (libserialport: %d)",
			          (int)ret);
		if (list)
			sp_free_port_list(list);
		return 0;
	}
	while (list[n])
		n++;
	if (n > SCAN_MAX_PORTS) {
		if (host->log_enabled(host, AX_LOG_WARN))
			host->log(host, AX_LOG_WARN,
			          "%zu serial ports listed; scanning the first %d, "
			          "ignoring",
			          n, SCAN_MAX_PORTS);
		n = SCAN_MAX_PORTS;
	}
	s->ports = host->calloc(n ? n : 1, sizeof(*s->ports));
	if (!s->ports) {
		sp_free_port_list(list);
		return host->error(host, AX_ENOMEM, "out of memory for %zu serial ports", n);
	}
	for (size_t i = 0; i < n; i++) {
		struct scan_port *p = &s->ports[s->n_ports];
		const char *name = sp_get_port_name(list[i]);

		if (!name || strlen(name) >= sizeof(p->path))
			continue;
		(void)snprintf(p->path, sizeof(p->path), "%s", name);
		scan_describe(p, list[i]);
		s->n_ports++;
	}
	sp_free_port_list(list);
	qsort(s->ports, s->n_ports, sizeof(*s->ports), scan_path_cmp);
	for (size_t i = 0; i < s->n_ports; i++)
		scan_apply_policy(s, &s->ports[i]);
	return 0;
}

/* The one port a target names; it is probed whatever its USB ids. */
static int scan_named_port(struct scan *s, const char *path)
{
	const ax_host *host = s->host;
	struct sp_port *sp = NULL;
	struct scan_port *p;

	if (path[0] != '/')
		return host->error(host, AX_EINVAL,
		                   "scan target '%s': port '%s' is not an absolute path (expected "
		                   "e.g. serial:/dev/ttyUSB0)",
		                   s->spec, path);
	if (strlen(path) >= SERIAL_PATH_MAX)
		return host->error(host, AX_EINVAL, "scan target '%s': port path too long",
		                   s->spec);
	s->ports = host->calloc(1, sizeof(*s->ports));
	if (!s->ports)
		return host->error(host, AX_ENOMEM, "out of memory");
	p = &s->ports[0];
	s->n_ports = 1;
	(void)snprintf(p->path, sizeof(p->path), "%s", path);
	p->transport = -1;
	p->vid = p->pid = -1;
	/* A port that is not there has no details; opening it says why. */
	if (sp_get_port_by_name(path, &sp) == SP_OK && sp) {
		scan_describe(p, sp);
		sp_free_port(sp);
	}
	p->allowed = 1;
	return 0;
}

/* Per-try timeout that leaves room for the resend before the probes' deadline; 0: no time. */
static int scan_try_ms(struct scan *s)
{
	uint64_t now = s->host->now_ns();
	uint64_t left_ms;

	if (atomic_load(&s->stop) || now >= s->work_deadline)
		return 0;
	left_ms = (s->work_deadline - now) / 1000000u / 2;
	if (left_ms < 1)
		return 0;
	return left_ms < (uint64_t)s->cfg.timeout_ms ? (int)left_ms : s->cfg.timeout_ms;
}

/*
 * Take the probe's product code (@len bytes at @buf, 0 for an error reply),
 * then read the other identity registers; what fails stays unknown.
 */
static void scan_identify(struct scan *s, struct scan_port *p, ax_transport_priv *priv,
                          const uint8_t *product, size_t product_len)
{
	static const uint16_t regs[] = {AX_MCB_REG_VENDOR_ID, AX_MCB_REG_REVISION,
	                                AX_MCB_REG_SERIAL, AX_MCB_REG_SW_VERSION};
	const ax_host *host = s->host;
	uint8_t buf[AX_MCB_MAX_PAYLOAD];
	ax_scan_result id;

	memset(&id, 0, sizeof(id));
	if (product_len)
		(void)host->mcb_identity_take(&id, NULL, 0, AX_MCB_REG_PRODUCT_CODE, product,
		                              product_len);
	for (size_t i = 0; i < SERIAL_COUNT(regs); i++) {
		size_t len = 0;
		int t = scan_try_ms(s);

		if (t == 0)
			break;
		if (serial_port_read(priv, 0, regs[i], buf, sizeof(buf), &len, t) < 0)
			continue;
		/* A value that is no u32 leaves that field unknown. */
		(void)host->mcb_identity_take(&id, p->sw, sizeof(p->sw), regs[i], buf, len);
	}
	p->product = id.product_code;
	p->vendor = id.vendor_id;
	p->revision = id.revision;
	p->serial = id.serial;
	p->known |= id.known;
}

/* Open @p, read the product code, and on an answer the rest of the identity. */
static void scan_probe(struct scan *s, struct scan_port *p)
{
	const ax_host *host = s->host;
	struct serial_open_fail fail;
	ax_transport_priv *priv = NULL;
	uint8_t buf[AX_MCB_MAX_PAYLOAD];
	size_t len = 0;
	int err, t;

	memset(&fail, 0, sizeof(fail));
	err = serial_port_open(&priv, host, p->path, &s->cfg, &fail);
	if (err < 0) {
		scan_set(p, fail.access, fail.hint, "%s", fail.message);
		return;
	}
	pthread_mutex_lock(&s->lock);
	p->priv = priv;
	pthread_mutex_unlock(&s->lock);

	t = scan_try_ms(s);
	err = t ? serial_port_read(priv, 0, AX_MCB_REG_PRODUCT_CODE, buf, sizeof(buf), &len, t)
	        : AX_ECANCELED;
	if (err == 0 || err == AX_EDRIVE) {
		/* An error reply is an MCB drive too, one without this register. */
		scan_identify(s, p, priv, buf, err == 0 ? len : 0);
		scan_set(p, AX_ACCESS_OK, NULL, "%s", "");
	} else if (err == AX_ETIMEDOUT) {
		scan_set(p, AX_ACCESS_NO_REPLY,
		         "check that the drive is powered and wired, and its baud rate and parity",
		         "no drive answered within 2 tries of %d ms at %s", t, s->cfg.line);
	} else if (err == AX_ECRC) {
		scan_set(p, AX_ACCESS_NO_REPLY,
		         "another device, or a drive at another baud rate or parity (baud=, "
		         "parity=)",
		         "%zu byte(s) arrived at %s but formed no valid MCB frame",
		         serial_port_last_noise(priv), s->cfg.line);
	} else if (err == AX_ECANCELED) {
		scan_set(p, AX_ACCESS_NO_REPLY, "give the scan more time",
		         "the scan ended before a drive answered");
	} else if (err == AX_EDISCONNECTED) {
		scan_set(p, AX_ACCESS_ERROR, NULL, "the port went away while it was probed");
	} else {
		scan_set(p, AX_ACCESS_ERROR, NULL, "probing failed (error %d)", err);
	}

	pthread_mutex_lock(&s->lock);
	p->priv = NULL;
	pthread_mutex_unlock(&s->lock);
	serial_port_close(priv);
}

static void *scan_worker(void *arg)
{
	struct scan_port *p = arg;
	struct scan *s = p->scan;

	scan_probe(s, p);
	pthread_mutex_lock(&s->lock);
	p->done = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Stop every probe: the flag ends the next request, cancel() the one running. */
static void scan_stop_all(struct scan *s)
{
	atomic_store(&s->stop, 1);
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i].priv)
			(void)serial_port_cancel(s->ports[i].priv);
	pthread_mutex_unlock(&s->lock);
}

static int scan_emit(struct scan *s, struct scan_port *p)
{
	const ax_host *host = s->host;
	ax_scan_result r;
	int ret;

	scan_make_uri(s, p);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.uri = p->uri;
	r.detail = p->detail;
	r.access = p->access;
	r.message = p->message;
	r.hint = p->hint;
	r.known = p->known;
	r.vendor_id = p->vendor;
	r.product_code = p->product;
	r.revision = p->revision;
	r.serial = p->serial;
	r.sw_version = p->sw;
	r.os_port = p->path; /* a USB drive bound to this tty is listed once, here */
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "%s (%s): %s", p->path, p->detail,
		          p->access == AX_ACCESS_OK ? "a drive answered" : p->message);
	ret = host->scan_emit(host, s->sink, &r);
	if (ret < 0)
		return ret;
	if (p->access == AX_ACCESS_OK)
		s->emitted++;
	return 0;
}

/* Start a worker per allowed port; report the others at once. */
static int scan_start(struct scan *s)
{
	int err;

	for (size_t i = 0; i < s->n_ports; i++) {
		struct scan_port *p = &s->ports[i];

		p->scan = s;
		if (!p->allowed) {
			p->done = 1;
			continue;
		}
		err = pthread_create(&p->thread, NULL, scan_worker, p);
		if (err != 0) {
			scan_set(p, AX_ACCESS_ERROR, NULL, "cannot start a probe thread: %s",
			         strerror(err));
			p->done = 1;
			continue;
		}
		p->started = 1;
	}
	return 0;
}

/*
 * Report ports in path order as they finish (a port waits for the ones
 * before it, so the listing reads the same every time); stop the probes on
 * cancel, at the deadline, or when the sink says stop.
 */
static int scan_collect(struct scan *s)
{
	const ax_host *host = s->host;
	size_t next = 0;
	int ret = 0;

	for (;;) {
		size_t pending = 0;

		for (size_t i = 0; i < s->n_ports; i++) {
			struct scan_port *p = &s->ports[i];
			int done;

			pthread_mutex_lock(&s->lock);
			done = p->done;
			pthread_mutex_unlock(&s->lock);
			if (!done) {
				pending++;
				continue;
			}
			if (p->started) {
				pthread_join(p->thread, NULL);
				p->started = 0;
			}
		}
		while (next < s->n_ports && !s->ports[next].started && s->ports[next].done) {
			if (ret == 0) {
				ret = scan_emit(s, &s->ports[next]);
				if (ret < 0)
					scan_stop_all(s);
			}
			next++;
		}
		if (pending == 0)
			return ret;
		/* Keep cancelling: a cancel that lands between two requests is dropped. */
		if (atomic_load(&s->stop) || host->scan_cancelled(host, s->sink) ||
		    host->now_ns() >= s->work_deadline)
			scan_stop_all(s);

		pthread_mutex_lock(&s->lock);
		{
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += SCAN_TICK_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			(void)pthread_cond_timedwait(&s->cond, &s->lock, &until);
		}
		pthread_mutex_unlock(&s->lock);
	}
}

int serial_scan(const ax_host *host, const ax_uri *target, int timeout_ms, void *sink)
{
	struct scan s;
	int err;

	memset(&s, 0, sizeof(s));
	s.host = host;
	s.sink = sink;
	s.spec = target->text;
	atomic_init(&s.stop, 0);
	if (target->host[0])
		return host->error(host, AX_EINVAL,
		                   "scan target '%s' names a host ('%s'); expected serial: (every "
		                   "port) or serial:/dev/PORT",
		                   target->text, target->host);
	err = serial_cfg_parse(host, target, &s.cfg);
	if (err < 0)
		return err;
	serial_cfg_query(target, s.query, sizeof(s.query));
	if (timeout_ms <= 0)
		timeout_ms = 4 * s.cfg.timeout_ms;
	s.work_deadline = host->now_ns() + (uint64_t)(timeout_ms > 2 * SCAN_MARGIN_MS
	                                                      ? timeout_ms - SCAN_MARGIN_MS
	                                                      : timeout_ms / 2) *
	                                           1000000u;

	err = target->path[0] ? scan_named_port(&s, target->path) : scan_list_ports(&s);
	if (err < 0) {
		host->free(s.ports);
		return err;
	}
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "'%s': %zu port(s), probing %s within %d ms at %s",
		          s.spec, s.n_ports,
		          target->path[0]   ? "the named one"
		          : s.cfg.probe_all ? "all"
		                            : "known adapters",
		          timeout_ms, s.cfg.line);

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	err = scan_start(&s);
	if (err == 0)
		err = scan_collect(&s);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
	host->free(s.ports);
	return err < 0 ? err : s.emitted;
}
