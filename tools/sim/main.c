/* SPDX-License-Identifier: MIT */
/*
 * axlink-sim: simulated MCB drives on the network, for tests, demos and
 * development without hardware.
 *
 *   axlink-sim --eth 127.0.0.2 --count 3 [--port P] [--model NAME] ...
 *
 * Once every socket is bound it prints one URI per drive on stdout and
 * flushes, so a script or test can read them and know it is serving; stdout
 * carries nothing else. It runs until SIGINT or SIGTERM and then exits 0.
 * Exit status: 0 clean stop, 1 failure (e.g. an address that cannot be
 * bound), 2 usage error. Messages go to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "frontend_can.h"
#include "frontend_tty.h"
#include "sim.h"

#define EXIT_USAGE 2

#define DEFAULT_MODEL "axs-100"
#define DEFAULT_SERIAL 1000u
/* A minute is far beyond any transport timeout; more only looks like a typo. */
#define MAX_DELAY_MS 60000u
/* TCP port of --tcp ADDR without one: the tcp transport's default (examples/transport-tcp). */
#define DEFAULT_TCP_PORT 1062
/* --tcp-idle-ms: a TCP connection this quiet is closed, so idle clients cannot fill every slot. */
#define DEFAULT_TCP_IDLE_MS 30000u
/* socketcand's own default port. */
#define DEFAULT_SOCKETCAND_PORT 29536

struct options {
	uint32_t addrs[SIM_MAX_DRIVES]; /* host order */
	size_t n_addrs;
	size_t group;      /* index of the last --eth address */
	int group_counted; /* --count already given for it */

	uint32_t tcp_addrs[SIM_MAX_DRIVES]; /* --tcp drives, host order; after the --eth ones */
	unsigned tcp_ports[SIM_MAX_DRIVES];
	size_t n_tcp;
	int last_was_tcp;     /* --count repeats an --eth, never a --tcp */
	uint64_t tcp_idle_ms; /* --tcp-idle-ms; 0: never */
	int have_tcp_idle;
	uint32_t fault_only[SIM_MAX_DRIVES];
	size_t n_fault_only;
	unsigned port;
	const char *model;
	const char *firmware;  /* --firmware: the version text every drive reports */
	unsigned quirks;       /* --quirk: SIMDRIVE_QUIRK_* bits of every drive */
	const char *state_dir; /* --state-dir: where stored values outlive the process */
	uint32_t serial;
	struct sim_faults faults;
	uint64_t seed;
	int have_seed;
	uint64_t fault_after_ms; /* --fault-after: every axis faults this long after serving */
	int have_fault_after;
	int allow_any;
	int verbose;
	const char *tty; /* --tty PATH: one drive on a terminal, after the others */
	int pty;         /* --pty: the same on a new pseudo-terminal */
	unsigned baud;   /* --baud: its line rate, 0 = unpaced */

	/* CANopen nodes on one CAN bus, after every other drive. */
	int can_slcan_pty;         /* --can-slcan-pty */
	const char *can_slcan_tty; /* --can-slcan-tty PATH */
	int have_socketcand;       /* --can-socketcand ADDR[:PORT] */
	uint32_t socketcand_addr;  /* host order */
	unsigned socketcand_port;
	uint64_t can_nodes;        /* --can-nodes N (default 1) */
	uint64_t can_first_node;   /* --can-first-node ID (default 1) */
	uint64_t can_heartbeat_ms; /* --can-heartbeat MS (default 0: none) */
	uint64_t can_bitrate;      /* --can-bitrate BPS */
	const char *can_bus_name;  /* --can-bus NAME */
	int have_can_option;       /* a --can-* option besides the ports */
};

enum {
	OPT_ETH = 256,
	OPT_COUNT,
	OPT_PORT,
	OPT_MODEL,
	OPT_SERIAL,
	OPT_FIRMWARE,
	OPT_DROP,
	OPT_CORRUPT,
	OPT_DELAY,
	OPT_DROP_FIRST,
	OPT_SEED,
	OPT_FAULT_ONLY,
	OPT_FAULT_AFTER,
	OPT_ALLOW_ANY,
	OPT_TCP,
	OPT_TTY,
	OPT_PTY,
	OPT_BAUD,
	OPT_TCP_IDLE_MS,
	OPT_QUIRK,
	OPT_STATE_DIR,
	OPT_CAN_SLCAN_PTY,
	OPT_CAN_SLCAN_TTY,
	OPT_CAN_SOCKETCAND,
	OPT_CAN_NODES,
	OPT_CAN_FIRST_NODE,
	OPT_CAN_HEARTBEAT,
	OPT_CAN_BITRATE,
	OPT_CAN_BUS,
};

static const struct option long_options[] = {
        {"eth", required_argument, NULL, OPT_ETH},
        {"count", required_argument, NULL, OPT_COUNT},
        {"port", required_argument, NULL, OPT_PORT},
        {"model", required_argument, NULL, OPT_MODEL},
        {"serial", required_argument, NULL, OPT_SERIAL},
        {"firmware", required_argument, NULL, OPT_FIRMWARE},
        {"quirk", required_argument, NULL, OPT_QUIRK},
        {"state-dir", required_argument, NULL, OPT_STATE_DIR},
        {"drop", required_argument, NULL, OPT_DROP},
        {"corrupt", required_argument, NULL, OPT_CORRUPT},
        {"delay", required_argument, NULL, OPT_DELAY},
        {"drop-first", required_argument, NULL, OPT_DROP_FIRST},
        {"seed", required_argument, NULL, OPT_SEED},
        {"fault-only", required_argument, NULL, OPT_FAULT_ONLY},
        {"fault-after", required_argument, NULL, OPT_FAULT_AFTER},
        {"allow-any-address", no_argument, NULL, OPT_ALLOW_ANY},
        {"tcp", required_argument, NULL, OPT_TCP},
        {"tcp-idle-ms", required_argument, NULL, OPT_TCP_IDLE_MS},
        {"tty", required_argument, NULL, OPT_TTY},
        {"pty", no_argument, NULL, OPT_PTY},
        {"baud", required_argument, NULL, OPT_BAUD},
        {"can-slcan-pty", no_argument, NULL, OPT_CAN_SLCAN_PTY},
        {"can-slcan-tty", required_argument, NULL, OPT_CAN_SLCAN_TTY},
        {"can-socketcand", required_argument, NULL, OPT_CAN_SOCKETCAND},
        {"can-nodes", required_argument, NULL, OPT_CAN_NODES},
        {"can-first-node", required_argument, NULL, OPT_CAN_FIRST_NODE},
        {"can-heartbeat", required_argument, NULL, OPT_CAN_HEARTBEAT},
        {"can-bitrate", required_argument, NULL, OPT_CAN_BITRATE},
        {"can-bus", required_argument, NULL, OPT_CAN_BUS},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
};

static void print_models(FILE *f)
{
	const char *sep = "";

	for (const simdrive_model *m = simdrive_models(); m->name; m++) {
		fprintf(f, "%s%s", sep, m->name);
		sep = ", ";
	}
}

static void print_quirks(FILE *f)
{
	const char *sep = "";

	for (const simdrive_quirk *q = simdrive_quirks(); q->name; q++) {
		fprintf(f, "%s%s", sep, q->name);
		sep = ", ";
	}
}

static void print_help(void)
{
	printf("usage: axlink-sim --eth ADDR [--count N] [--eth ADDR ...] [options]\n"
	       "\n"
	       "Serve simulated MCB drives over UDP, each on its own IPv4 address. Once\n"
	       "every socket is bound, print one URI per drive on stdout\n"
	       "(eth://ADDR:PORT), then serve until SIGINT or SIGTERM.\n"
	       "\n"
	       "Drives:\n"
	       "  --eth ADDR          serve a drive on ADDR (repeatable)\n"
	       "  --count N           N drives on consecutive addresses from the last --eth\n"
	       "                      (1..%d, last octet at most 255)\n"
	       "  --port P            UDP port of every drive (default %d; 0: the system\n"
	       "                      picks one per drive, see the URIs)\n"
	       "  --model NAME        drive model (default %s; one of: ",
	       SIM_MAX_DRIVES, AX_MCB_UDP_PORT, DEFAULT_MODEL);
	print_models(stdout);
	printf(")\n"
	       "  --serial N          serial number of the first drive, +1 for each next one\n"
	       "                      (default %u)\n"
	       "  --firmware TEXT     firmware version text every drive reports, any bytes\n"
	       "                      (default: the model's; for tests of a drive's text)\n"
	       "  --quirk NAME[,NAME] every drive behaves as some real drives do (repeatable):\n",
	       DEFAULT_SERIAL);
	for (const simdrive_quirk *q = simdrive_quirks(); q->name; q++)
		printf("                      %s:\n                        %s\n", q->name, q->help);
	printf("  --state-dir DIR     keep what each drive stores (store all) in DIR/SERIAL.nvm,\n"
	       "                      so it survives a restart as over a power cycle\n"
	       "                      (default: stored values live as long as the process)\n"
	       "  --tcp ADDR[:PORT]   serve a drive on a TCP socket, tcp://ADDR:PORT (default\n"
	       "                      port %d; 0: the system picks one, see the URI;\n"
	       "                      repeatable; drives after the --eth ones)\n"
	       "  --tcp-idle-ms MS    close a TCP connection without traffic for MS\n"
	       "                      milliseconds (default %u; 0: never); a client beyond\n"
	       "                      the 64 connections served at once takes the slot of\n"
	       "                      the longest idle one\n"
	       "  --tty PATH          serve a drive on the terminal PATH, MCB frames raw on the\n"
	       "                      line (/dev/fd/N: inherited descriptor N, e.g. a pty master)\n"
	       "  --pty               serve a drive on a new pseudo-terminal; prints its slave\n"
	       "                      as serial:/dev/pts/N\n"
	       "  --baud N            hold the --tty/--pty line to N baud (10 bits per byte,\n"
	       "                      both ways; default: as fast as the terminal goes)\n"
	       "\n"
	       "CANopen (CiA 301 + CiA 402 nodes on one CAN bus, after the other drives):\n"
	       "  --can-slcan-pty     a serial-line CAN adapter (Lawicel/slcan ASCII) on a new\n"
	       "                      pseudo-terminal; prints can:slcan/dev/pts/N?node=ID&...\n"
	       "  --can-slcan-tty PATH  the same adapter on the terminal PATH (/dev/fd/N:\n"
	       "                      inherited descriptor N, e.g. a pty master)\n"
	       "  --can-socketcand ADDR[:PORT]  a socketcand server with the same bus (default\n"
	       "                      port %d; 0: the system picks one, see the URIs)\n"
	       "  --can-nodes N       simulated drives on the bus (1..127, default 1)\n"
	       "  --can-first-node ID node id of the first (default 1; the next ones +1)\n"
	       "  --can-heartbeat MS  heartbeat period, object 0x1017 at start (default 0: none)\n"
	       "  --can-bitrate BPS   the bus's bit rate; an slcan client must open at it\n"
	       "                      (S0..S8: 10k..1M; default %u)\n"
	       "  --can-bus NAME      the bus name socketcand serves (default %s)\n"
	       "  --allow-any-address also bind addresses outside 127.0.0.0/8\n"
	       "\n"
	       "Fault injection (for tests):\n"
	       "  --drop PERCENT      lose this share of incoming datagrams (0..100; CAN: of\n"
	       "                      the SDO requests to a node)\n"
	       "  --corrupt PERCENT   flip one bit under the CRC of this share of replies\n"
	       "  --delay MS          send each reply MS milliseconds late (0..%u); other\n"
	       "                      drives keep answering meanwhile (CAN: SDO responses)\n"
	       "  --drop-first N      each drive loses its first N requests\n"
	       "  --seed S            seed of the drop/corrupt choices (default: time)\n"
	       "  --fault-only ADDR   inject faults only into the drive at ADDR (repeatable;\n"
	       "                      default: every drive)\n"
	       "  --fault-after MS    MS milliseconds after serving starts, every axis of those\n"
	       "                      drives goes to fault (DC bus under-voltage, 0x00003220),\n"
	       "                      braking first if it moves\n"
	       "\n"
	       "  -v, --verbose       debug log on stderr: every rejected datagram and why\n"
	       "  -h, --help          show this help\n"
	       "  -V, --version       print the version\n"
	       "\n"
	       "Exit status: 0 stopped by a signal, 1 failure, 2 usage error.\n"
	       "Example: axlink-sim --eth 127.0.0.2 --count 3\n",
	       DEFAULT_TCP_PORT, DEFAULT_TCP_IDLE_MS, DEFAULT_SOCKETCAND_PORT,
	       SIM_CAN_DEFAULT_BITRATE, SIM_CAN_DEFAULT_BUS, MAX_DELAY_MS);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("axlink-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'axlink-sim --help' for more.\n", stderr);
	return EXIT_USAGE;
}

/* Unsigned decimal, or hex after 0x; no sign, no blanks, no trailing text. */
static int parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	const char *p = text;
	int over = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (*p == '\0')
		return -1;
	for (; *p; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -1;
		if (d > max || v > (max - d) / base)
			over = 1; /* keep scanning: junk after an overflow is still junk */
		else
			v = v * base + d;
	}
	if (over)
		return -2;
	*out = v;
	return 0;
}

static int parse_number(const char *opt, const char *text, uint64_t min, uint64_t max,
                        uint64_t *out)
{
	uint64_t v = 0;
	int rc = parse_u64(text, max, &v);

	if (rc == -1)
		return usage_error("%s '%s': not a number", opt, text);
	if (rc == -2 || v < min)
		return usage_error("%s '%s': expected %llu..%llu", opt, text,
		                   (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

/* A percentage 0..100, fractions allowed ("0.5"), as a probability. */
static int parse_percent(const char *opt, const char *text, double *out)
{
	char *end = NULL;
	double v;

	/* strtod would also take blanks, signs, "inf", "nan" and hex floats. */
	if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '.'))
		return usage_error("%s '%s': expected a percentage 0..100", opt, text);
	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !isfinite(v) || v < 0.0 || v > 100.0)
		return usage_error("%s '%s': expected a percentage 0..100", opt, text);
	*out = v / 100.0;
	return 0;
}

static int parse_addr(const char *opt, const char *text, uint32_t *out)
{
	struct in_addr in;

	if (inet_pton(AF_INET, text, &in) != 1)
		return usage_error("%s '%s': not an IPv4 address (e.g. 127.0.0.2)", opt, text);
	*out = ntohl(in.s_addr);
	return 0;
}

static void addr_text(uint32_t addr, char *buf, size_t cap)
{
	struct in_addr in;

	in.s_addr = htonl(addr);
	if (!inet_ntop(AF_INET, &in, buf, (socklen_t)cap))
		(void)snprintf(buf, cap, "?");
}

static int add_eth(struct options *o, const char *text)
{
	uint32_t a = 0;
	int rc = parse_addr("--eth", text, &a);

	if (rc != 0)
		return rc;
	if (o->n_addrs >= SIM_MAX_DRIVES)
		return usage_error("--eth '%s': at most %d drives", text, SIM_MAX_DRIVES);
	o->group = o->n_addrs;
	o->group_counted = 0;
	o->last_was_tcp = 0;
	o->addrs[o->n_addrs++] = a;
	return 0;
}

/* Expand the last --eth into @text consecutive addresses. */
static int add_count(struct options *o, const char *text)
{
	char first[INET_ADDRSTRLEN];
	uint64_t n;
	uint32_t a;
	int rc;

	rc = parse_number("--count", text, 1, SIM_MAX_DRIVES, &n);
	if (rc != 0)
		return rc;
	if (o->n_addrs == 0 || o->last_was_tcp)
		return usage_error("--count %s: give --eth ADDR before it (--tcp takes one drive "
		                   "each)",
		                   text);
	a = o->addrs[o->group];
	addr_text(a, first, sizeof(first));
	if (o->group_counted)
		return usage_error("--count %s: --eth %s already has a --count", text, first);
	/* Carrying into the next octet would be a surprise, not a convenience. */
	if ((a & 0xFFu) + n - 1 > 0xFFu)
		return usage_error("--count %s from %s runs past the last octet's .255 (at most "
		                   "%u from there)",
		                   text, first, 0x100u - (a & 0xFFu));
	if (o->n_addrs - 1 + n > SIM_MAX_DRIVES)
		return usage_error("--count %s: at most %d drives in all", text, SIM_MAX_DRIVES);
	for (uint64_t i = 1; i < n; i++)
		o->addrs[o->n_addrs++] = a + (uint32_t)i;
	o->group_counted = 1;
	return 0;
}

/* --tcp ADDR[:PORT]: one drive behind a listening TCP socket. */
static int add_tcp(struct options *o, const char *text)
{
	char addr[INET_ADDRSTRLEN];
	const char *colon = strrchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	uint64_t port = DEFAULT_TCP_PORT;
	int rc;

	if (len >= sizeof(addr))
		return usage_error("--tcp '%s': not an IPv4 address[:port] (e.g. 127.0.0.2:1062)",
		                   text);
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (colon) {
		rc = parse_number("--tcp port", colon + 1, 0, 65535, &port);
		if (rc != 0)
			return rc;
	}
	if (o->n_addrs + o->n_tcp >= SIM_MAX_DRIVES)
		return usage_error("--tcp '%s': at most %d drives", text, SIM_MAX_DRIVES);
	rc = parse_addr("--tcp", addr, &o->tcp_addrs[o->n_tcp]);
	if (rc != 0)
		return rc;
	o->tcp_ports[o->n_tcp++] = (unsigned)port;
	o->last_was_tcp = 1;
	return 0;
}

/* --can-socketcand ADDR[:PORT] */
static int add_socketcand(struct options *o, const char *text)
{
	char addr[INET_ADDRSTRLEN];
	const char *colon = strrchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	uint64_t port = DEFAULT_SOCKETCAND_PORT;
	int rc;

	if (o->have_socketcand)
		return usage_error("--can-socketcand '%s': one socketcand server per simulator",
		                   text);
	if (len >= sizeof(addr))
		return usage_error("--can-socketcand '%s': not an IPv4 address[:port] (e.g. "
		                   "127.0.0.1:29536)",
		                   text);
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (colon) {
		rc = parse_number("--can-socketcand port", colon + 1, 0, 65535, &port);
		if (rc != 0)
			return rc;
	}
	rc = parse_addr("--can-socketcand", addr, &o->socketcand_addr);
	if (rc != 0)
		return rc;
	o->socketcand_port = (unsigned)port;
	o->have_socketcand = 1;
	return 0;
}

/* Whether a CAN bus is served. */
static int want_can(const struct options *o)
{
	return o->can_slcan_pty || o->can_slcan_tty || o->have_socketcand;
}

/* Address of drive @i: the --eth drives come first, then the --tcp ones. */
static uint32_t drive_addr(const struct options *o, size_t i)
{
	return i < o->n_addrs ? o->addrs[i] : o->tcp_addrs[i - o->n_addrs];
}

static int handle_option(struct options *o, int c, const char *arg)
{
	uint64_t v;
	int rc = 0;

	switch (c) {
	case OPT_ETH:
		return add_eth(o, arg);
	case OPT_COUNT:
		return add_count(o, arg);
	case OPT_TCP:
		return add_tcp(o, arg);
	case OPT_TCP_IDLE_MS:
		o->have_tcp_idle = 1;
		return parse_number("--tcp-idle-ms", arg, 0, 24ull * 3600 * 1000, &o->tcp_idle_ms);
	case OPT_PORT:
		rc = parse_number("--port", arg, 0, 65535, &v);
		o->port = (unsigned)v;
		return rc;
	case OPT_MODEL:
		if (!simdrive_model_find(arg)) {
			fprintf(stderr, "axlink-sim: --model '%s': unknown model (known: ", arg);
			print_models(stderr);
			fputs(")\n", stderr);
			return EXIT_USAGE;
		}
		o->model = arg;
		return 0;
	case OPT_FIRMWARE:
		o->firmware = arg;
		return 0;
	case OPT_STATE_DIR:
		if (!*arg)
			return usage_error("--state-dir: expected a folder");
		o->state_dir = arg;
		return 0;
	case OPT_QUIRK: {
		char bad[64];

		if (simdrive_quirks_parse(arg, &o->quirks, bad, sizeof(bad)) == 0)
			return 0;
		fprintf(stderr, "axlink-sim: --quirk '%s': unknown quirk '%s' (known: ", arg, bad);
		print_quirks(stderr);
		fputs(")\nTry 'axlink-sim --help' for more.\n", stderr);
		return EXIT_USAGE;
	}
	case OPT_SERIAL:
		rc = parse_number("--serial", arg, 0, UINT32_MAX, &v);
		o->serial = (uint32_t)v;
		return rc;
	case OPT_DROP:
		return parse_percent("--drop", arg, &o->faults.drop);
	case OPT_CORRUPT:
		return parse_percent("--corrupt", arg, &o->faults.corrupt);
	case OPT_DELAY:
		rc = parse_number("--delay", arg, 0, MAX_DELAY_MS, &v);
		o->faults.delay_ns = v * 1000000u;
		return rc;
	case OPT_DROP_FIRST:
		return parse_number("--drop-first", arg, 0, UINT32_MAX, &o->faults.drop_first);
	case OPT_SEED:
		o->have_seed = 1;
		return parse_number("--seed", arg, 0, UINT64_MAX, &o->seed);
	case OPT_FAULT_AFTER:
		o->have_fault_after = 1;
		return parse_number("--fault-after", arg, 0, 24ull * 3600 * 1000,
		                    &o->fault_after_ms);
	case OPT_FAULT_ONLY:
		if (o->n_fault_only >= SIM_MAX_DRIVES)
			return usage_error("--fault-only '%s': given too often", arg);
		return parse_addr("--fault-only", arg, &o->fault_only[o->n_fault_only++]);
	case OPT_TTY:
	case OPT_PTY:
		if (o->tty || o->pty)
			return usage_error("one serial drive per simulator: give --tty PATH "
			                   "or --pty once");
		o->tty = c == OPT_TTY ? arg : NULL;
		o->pty = c == OPT_PTY;
		return 0;
	case OPT_BAUD:
		rc = parse_number("--baud", arg, 50, 4000000, &v);
		o->baud = (unsigned)v;
		return rc;
	case OPT_CAN_SLCAN_PTY:
	case OPT_CAN_SLCAN_TTY:
		if (o->can_slcan_pty || o->can_slcan_tty)
			return usage_error("one slcan adapter per simulator: give --can-slcan-pty "
			                   "or --can-slcan-tty PATH once");
		o->can_slcan_pty = c == OPT_CAN_SLCAN_PTY;
		o->can_slcan_tty = c == OPT_CAN_SLCAN_TTY ? arg : NULL;
		return 0;
	case OPT_CAN_SOCKETCAND:
		return add_socketcand(o, arg);
	case OPT_CAN_NODES:
		o->have_can_option = 1;
		return parse_number("--can-nodes", arg, 1, 127, &o->can_nodes);
	case OPT_CAN_FIRST_NODE:
		o->have_can_option = 1;
		return parse_number("--can-first-node", arg, 1, 127, &o->can_first_node);
	case OPT_CAN_HEARTBEAT:
		o->have_can_option = 1;
		return parse_number("--can-heartbeat", arg, 0, 65535, &o->can_heartbeat_ms);
	case OPT_CAN_BITRATE: {
		static const unsigned rates[] = {10000,  20000,  50000,  100000, 125000,
		                                 250000, 500000, 800000, 1000000};

		o->have_can_option = 1;
		rc = parse_number("--can-bitrate", arg, 1, 1000000, &o->can_bitrate);
		if (rc != 0)
			return rc;
		for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
			if (rates[i] == o->can_bitrate)
				return 0;
		return usage_error("--can-bitrate %s: not an slcan rate (10000 20000 50000 100000 "
		                   "125000 250000 500000 800000 1000000)",
		                   arg);
	}
	case OPT_CAN_BUS:
		o->have_can_option = 1;
		if (!*arg || strlen(arg) > 16 || strpbrk(arg, " <>\t\r\n"))
			return usage_error("--can-bus '%s': 1..16 characters, no blanks or '<>'",
			                   arg);
		o->can_bus_name = arg;
		return 0;
	case OPT_ALLOW_ANY:
		o->allow_any = 1;
		return 0;
	case 'v':
		o->verbose = 1;
		return 0;
	default:
		return usage_error("internal error: option %d not handled", c);
	}
}

/* Checks that need every option: safety, duplicates, serial range. */
static int check_options(const struct options *o)
{
	char text[INET_ADDRSTRLEN];

	if (o->baud && !o->tty && !o->pty)
		return usage_error("--baud %u: only a --tty or --pty line has a baud rate",
		                   o->baud);
	if (o->have_tcp_idle && o->n_tcp == 0)
		return usage_error("--tcp-idle-ms %llu: only --tcp drives have connections",
		                   (unsigned long long)o->tcp_idle_ms);
	if (o->have_can_option && !want_can(o))
		return usage_error("--can-nodes, --can-first-node, --can-heartbeat, --can-bitrate "
		                   "and --can-bus need --can-slcan-pty, --can-slcan-tty or "
		                   "--can-socketcand");
	if (want_can(o) && o->can_first_node + o->can_nodes - 1 > 127)
		return usage_error("--can-first-node %llu with %llu node(s) runs past node id 127",
		                   (unsigned long long)o->can_first_node,
		                   (unsigned long long)o->can_nodes);
	if (o->have_socketcand) {
		addr_text(o->socketcand_addr, text, sizeof(text));
		if ((o->socketcand_addr >> 24) != 127 && !o->allow_any)
			return usage_error(
			        "--can-socketcand %s is outside 127.0.0.0/8; the simulator "
			        "serves only loopback unless --allow-any-address is given",
			        text);
	}
	if (o->n_addrs == 0 && o->n_tcp == 0 && !o->tty && !o->pty && !want_can(o))
		return usage_error("no drives to serve: give --eth ADDR (e.g. --eth 127.0.0.2), "
		                   "--tcp ADDR[:PORT], --tty PATH, --pty or --can-slcan-pty");
	if (o->n_addrs + o->n_tcp > SIM_MAX_DRIVES)
		return usage_error("at most %d drives in all", SIM_MAX_DRIVES);
	for (size_t i = 0; i < o->n_tcp; i++) {
		uint32_t a = o->tcp_addrs[i];

		addr_text(a, text, sizeof(text));
		if (a == 0 || a == UINT32_MAX)
			return usage_error("--tcp %s: a drive needs an address of its own", text);
		if ((a >> 24) != 127 && !o->allow_any)
			return usage_error("--tcp %s is outside 127.0.0.0/8; the simulator serves "
			                   "only loopback unless --allow-any-address is given",
			                   text);
		for (size_t j = 0; j < i; j++)
			if (o->tcp_addrs[j] == a && o->tcp_ports[j] == o->tcp_ports[i] &&
			    o->tcp_ports[i] != 0)
				return usage_error("--tcp %s:%u: address and port given twice",
				                   text, o->tcp_ports[i]);
	}
	for (size_t i = 0; i < o->n_addrs; i++) {
		uint32_t a = o->addrs[i];

		addr_text(a, text, sizeof(text));
		if (a == 0 || a == UINT32_MAX)
			return usage_error("--eth %s: a drive needs an address of its own", text);
		if ((a >> 24) != 127 && !o->allow_any)
			return usage_error("--eth %s is outside 127.0.0.0/8; the simulator serves "
			                   "only loopback unless --allow-any-address is given",
			                   text);
		for (size_t j = 0; j < i; j++)
			if (o->addrs[j] == a)
				return usage_error("--eth %s: address given twice", text);
	}
	for (size_t i = 0; i < o->n_fault_only; i++) {
		size_t j = 0;

		while (j < o->n_addrs + o->n_tcp && drive_addr(o, j) != o->fault_only[i])
			j++;
		if (j == o->n_addrs + o->n_tcp) {
			addr_text(o->fault_only[i], text, sizeof(text));
			return usage_error("--fault-only %s: no drive has that address", text);
		}
	}
	if ((uint64_t)o->serial + o->n_addrs + o->n_tcp + (o->tty || o->pty) +
	            (want_can(o) ? o->can_nodes : 0) - 1 >
	    UINT32_MAX)
		return usage_error("--serial %u: %zu drives would run past serial %u", o->serial,
		                   o->n_addrs + o->n_tcp, UINT32_MAX);
	return 0;
}

/* Returns -1 to go on serving, else an exit status. */
static int parse_args(struct options *o, int argc, char **argv)
{
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_help();
			return EXIT_SUCCESS;
		case 'V':
			printf("axlink-sim %d.%d.%d (libaxlink %s)\n", AX_VERSION_MAJOR,
			       AX_VERSION_MINOR, AX_VERSION_PATCH, ax_version());
			return EXIT_SUCCESS;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		case '?':
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown or ambiguous option '%s'", argv[optind - 1]);
		default:
			rc = handle_option(o, c, optarg);
			if (rc != 0)
				return rc;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s' (drives are given with --eth)",
		                   argv[optind]);
	rc = check_options(o);
	return rc != 0 ? rc : -1;
}

static int serve(const struct options *o)
{
	struct sim_frontend fes[6];
	size_t n_fes = 0;
	struct sim s;
	size_t first_can = o->n_addrs + o->n_tcp + (o->tty || o->pty);
	size_t n_can = want_can(o) ? (size_t)o->can_nodes : 0;
	int stop_fd, rc = EXIT_FAILURE;

	if (sim_init(&s, first_can + n_can, o->model, o->serial) < 0)
		goto out;
	s.faults = o->faults;
	s.verbose = o->verbose;
	for (size_t i = 0; o->firmware && i < s.n_drives; i++)
		(void)simdrive_set_firmware(s.drives[i].drive, o->firmware);
	for (size_t i = 0; i < s.n_drives; i++)
		(void)simdrive_set_quirks(s.drives[i].drive, o->quirks);
	if (o->quirks)
		sim_debug(&s, "quirks 0x%x on every drive", o->quirks);
	if (o->state_dir) {
		struct stat st;

		if (stat(o->state_dir, &st) != 0) {
			sim_error("--state-dir '%s': %s", o->state_dir, strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			sim_error("--state-dir '%s': not a folder", o->state_dir);
			goto out;
		}
	}
	for (size_t i = 0; o->state_dir && i < s.n_drives; i++) {
		char why[512];

		if (simdrive_set_state_dir(s.drives[i].drive, o->state_dir, why, sizeof(why)) < 0) {
			sim_error("--state-dir: %s", why);
			goto out;
		}
	}
	if (o->n_fault_only > 0) {
		for (size_t i = 0; i < o->n_addrs + o->n_tcp; i++) {
			s.drives[i].faulty = 0;
			for (size_t j = 0; j < o->n_fault_only; j++)
				if (o->fault_only[j] == drive_addr(o, i))
					s.drives[i].faulty = 1;
		}
	}
	{
		/* Without --seed every run differs; the debug log says how to replay one. */
		uint64_t seed = o->have_seed ? o->seed : sim_now_ns() ^ ((uint64_t)getpid() << 32);

		sim_seed(&s, seed);
		sim_debug(&s, "fault seed %llu", (unsigned long long)seed);
	}

	stop_fd = sim_signals_open();
	if (stop_fd < 0)
		goto out;
	if (o->n_addrs > 0) {
		if (sim_udp_open(&fes[n_fes], &s, o->addrs, o->n_addrs, 0, o->port) < 0)
			goto out;
		n_fes++;
	}
	if (o->n_tcp > 0) {
		if (sim_tcp_open(&fes[n_fes], &s, o->tcp_addrs, o->tcp_ports, o->n_tcp, o->n_addrs,
		                 o->tcp_idle_ms * 1000000u) < 0)
			goto out;
		n_fes++;
	}
	if (o->tty || o->pty) {
		/* --fault-only names addresses; the serial drive has none, so it is spared. */
		if (o->n_fault_only > 0)
			s.drives[o->n_addrs + o->n_tcp].faulty = 0;
		if (sim_tty_open(&fes[n_fes], &s, o->n_addrs + o->n_tcp, o->tty, o->baud) < 0)
			goto out;
		n_fes++;
	}
	if (n_can) {
		struct sim_canbus *bus = NULL;

		/* --fault-only names addresses; CAN nodes have none, so they are spared. */
		for (size_t i = 0; o->n_fault_only > 0 && i < n_can; i++)
			s.drives[first_can + i].faulty = 0;
		/* The bus before its ports: none of them calls it while being destroyed. */
		if (sim_canbus_open(&fes[n_fes], &bus, &s, first_can, n_can, o->model,
		                    (unsigned)o->can_first_node, (unsigned)o->can_heartbeat_ms,
		                    (unsigned)o->can_bitrate) < 0)
			goto out;
		n_fes++;
		if (o->can_slcan_pty || o->can_slcan_tty) {
			if (sim_slcan_open(&fes[n_fes], &s, bus, o->can_slcan_tty) < 0)
				goto out;
			n_fes++;
		}
		if (o->have_socketcand) {
			if (sim_socketcand_open(&fes[n_fes], &s, bus, o->socketcand_addr,
			                        o->socketcand_port, o->can_bus_name) < 0)
				goto out;
			n_fes++;
		}
	}

	for (size_t i = 0; i < n_fes; i++)
		fes[i].print_uris(fes[i].priv, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		sim_error("cannot write the drive URIs to stdout: %s", strerror(errno));
		goto out;
	}
	sim_debug(&s, "serving %zu drive(s) of model %s", s.n_drives,
	          o->model ? o->model : DEFAULT_MODEL);
	if (o->have_fault_after) {
		/* The drives raise it themselves, at the first tick past the time. */
		uint64_t at = sim_now_ns() + o->fault_after_ms * 1000000u;

		for (size_t i = 0; i < s.n_drives; i++)
			if (s.drives[i].faulty)
				(void)simdrive_fault_at(s.drives[i].drive, 0,
				                        SIMDRIVE_FAULT_UNDERVOLTAGE, at);
	}
	if (sim_loop_run(fes, n_fes, stop_fd) == 0)
		rc = EXIT_SUCCESS;
	sim_debug(&s, "stopped");
out:
	for (size_t i = 0; i < n_fes; i++)
		fes[i].destroy(fes[i].priv);
	sim_signals_close();
	sim_fini(&s);
	return rc;
}

int main(int argc, char **argv)
{
	static struct options o; /* 8 KiB of address tables: keep them off the stack */
	int rc;

	o.port = AX_MCB_UDP_PORT;
	o.model = DEFAULT_MODEL;
	o.serial = DEFAULT_SERIAL;
	o.tcp_idle_ms = DEFAULT_TCP_IDLE_MS;
	o.can_nodes = 1;
	o.can_first_node = 1;
	o.can_bitrate = SIM_CAN_DEFAULT_BITRATE;
	o.can_bus_name = SIM_CAN_DEFAULT_BUS;
	/* A reader that went away must not kill us mid-write: report EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);

	rc = parse_args(&o, argc, argv);
	if (rc >= 0)
		return rc;
	return serve(&o);
}
