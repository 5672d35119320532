/* SPDX-License-Identifier: MIT */
/*
 * What the axlink commands print through (tools/cli.h): the messages of a
 * failed call, stdout checked at the end, text from drives and files made
 * safe for a terminal (safe_text() and the helpers built on it), and the
 * JSON forms of text and register values.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "axlink/axlink.h"
#include "cli.h"

/* ---- messages ---------------------------------------------------------- */

/*
 * The first failure of this run, for the JSON error object: with --json a
 * failed command prints {"error": {...}} on stdout as well as its text on
 * stderr. One command runs per process, so this is the process's state.
 */
static struct {
	int json;    /* --json given: a failure prints the error object */
	int printed; /* a JSON document is already on stdout */
	int have;    /* an error was noted */
	int code;
	int cls;
	char message[1024];
} report;

void cli_report_json(int on)
{
	report.json = on;
}

void cli_note_error(int code, int error_class, const char *message)
{
	if (report.have)
		return; /* the first failure is the cause; later ones are its consequences */
	report.have = 1;
	report.code = code;
	report.cls = error_class;
	(void)snprintf(report.message, sizeof(report.message), "%s", message ? message : "");
}

/* A failed library call: its own message says what and where. */
/* The library's last message: it may quote a drive's or a file's text. */
int fail_last(void)
{
	cli_note_error(ax_error_last_code(), ax_error_last_class(), ax_error_last());
	fputs("axlink: ", stderr);
	(void)put_safe(stderr, ax_error_last());
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

int fail_oom(void)
{
	cli_note_error(AX_ENOMEM, AX_ERRCLASS_INTERNAL, "out of memory");
	fprintf(stderr, "axlink: out of memory\n");
	return EXIT_FAILURE;
}

/* A failure the tool itself detected: "axlink: MESSAGE" on stderr, noted for --json. */
int cli_fail(int code, int error_class, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_note_error(code, error_class, msg);
	fputs("axlink: ", stderr);
	(void)put_safe(stderr, msg);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

/*
 * The end of a run: with --json, a failure that printed no document prints
 * {"error": {"code", "name", "class", "message", "exit_status"}} so a script
 * parses both outcomes. Returns @rc.
 */
int cli_report_finish(int rc)
{
	json_t *o;
	const char *cls;

	if (!report.json || rc == EXIT_SUCCESS || report.printed)
		return rc;
	if (!report.have)
		cli_note_error(AX_EIO, AX_ERRCLASS_INTERNAL, "failed; see the messages on stderr");
	cls = ax_error_class_name(report.cls);
	o = json_pack("{s:{s:i, s:o, s:o, s:o, s:i}}", "error", "code", report.code, "name",
	              ax_error_name(report.code) ? json_string(ax_error_name(report.code))
	                                         : json_null(),
	              "class", cls ? json_string(cls) : json_null(), "message",
	              json_text(report.message), "exit_status", rc);
	if (o)
		(void)print_json(o);
	json_decref(o);
	return rc;
}

/* ---- did you mean ------------------------------------------------------ */

/*
 * Edit distance of @a and @b ignoring case: insertions, deletions,
 * substitutions and swaps of neighbours count one each (optimal string
 * alignment). Words longer than 63 characters count as far apart.
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[64][64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

void suggest_init(struct suggest *s, const char *word)
{
	size_t len = strlen(word);

	s->word = word;
	s->best = NULL;
	/* Close enough to be a slip: 1 edit in a short word, about one in four in a long one. */
	s->limit = len <= 4 ? 1 : len <= 8 ? 2 : len / 4 + 1;
	s->distance = SIZE_MAX;
}

void suggest_add(struct suggest *s, const char *candidate)
{
	size_t d;

	if (!candidate || !*candidate)
		return;
	d = edit_distance(s->word, candidate);
	if (d <= s->limit && d < s->distance) {
		s->distance = d;
		s->best = candidate;
	}
}

const char *nearest_register(const ax_dict *dict, const char *id)
{
	struct suggest s;
	size_t n = dict ? ax_dict_reg_count(dict) : 0;

	suggest_init(&s, id);
	for (size_t i = 0; i < n; i++)
		suggest_add(&s, ax_reg_id(ax_dict_reg_at(dict, i)));
	return s.best;
}

/* ---- output ------------------------------------------------------------ */

/* Everything on stdout must have reached it, or the command failed. */
int finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (rc != EXIT_SUCCESS)
			return rc;
		fprintf(stderr, "axlink: writing the output: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	return rc;
}

/*
 * Flags for JSON on stdout. jansson escapes C0 controls but writes C1
 * controls and bidirectional overrides from a drive's text as they are: on
 * a terminal, which may act on them, every non-ASCII character is escaped
 * (\u009b); a pipe gets plain UTF-8.
 */
size_t json_out_flags(size_t flags)
{
	return isatty(STDOUT_FILENO) ? flags | JSON_ENSURE_ASCII : flags;
}

int print_json(json_t *root)
{
	/* 9 significant digits: every float32 survives the round trip. */
	size_t flags =
	        json_out_flags(JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));

	report.printed = 1;
	if (json_dumpf(root, stdout, flags) != 0) {
		fprintf(stderr, "axlink: writing JSON: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	putchar('\n');
	return EXIT_SUCCESS;
}

/* ---- text from drives and files --------------------------------------- */

/*
 * The length of the valid UTF-8 sequence at @p (1..4) and its code point
 * in *cp, or 0 when the bytes there are not one (a stray continuation byte,
 * an overlong form, a surrogate, past U+10FFFF, cut short by the NUL).
 */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
	uint32_t v, min;
	size_t n;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2, v = p[0] & 0x1Fu, min = 0x80;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3, v = p[0] & 0x0Fu, min = 0x800;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4, v = p[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/* Characters a terminal acts on, or that reorder or break the text around them. */
static int is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The one rule for printing text that came from a drive or a file (firmware
 * strings, str registers, names, descriptions, messages quoting them):
 * control characters (C0 with tab, CR and LF, DEL, C1) and bidirectional
 * overrides become visible escapes (\x1b, \u009b, \u202e), each byte of
 * invalid UTF-8 becomes \xNN, everything else stays as it is. So a drive can
 * neither drive the terminal (set its title, clear it) nor forge lines.
 * Writes the escaped text and its NUL into @out when not NULL; returns its
 * length either way (call with NULL to size the buffer).
 */
size_t safe_text(char *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = 0, n;
	uint32_t cp;
	char esc[8];

	while (*p) {
		n = utf8_seq(p, &cp);
		if (n && !is_control(cp)) {
			if (out)
				memcpy(out + len, p, n);
			len += n;
			p += n;
			continue;
		}
		if (n && cp >= 0x80)
			(void)snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)cp);
		else
			(void)snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)p[0]);
		if (out)
			memcpy(out + len, esc, strlen(esc));
		len += strlen(esc);
		p += n ? n : 1;
	}
	if (out)
		out[len] = '\0';
	return len;
}

/* safe_text() of @s in a new string (free()), or NULL when out of memory. */
char *safe_dup(const char *s)
{
	char *out = malloc(safe_text(NULL, s) + 1);

	if (out)
		(void)safe_text(out, s);
	return out;
}

/* Write safe_text() of @s to @f; 0, or EOF on a write error or out of memory. */
int put_safe(FILE *f, const char *s)
{
	char *text = safe_dup(s);
	int rc = text ? fputs(text, f) : EOF;

	free(text);
	return rc < 0 ? EOF : 0;
}

/* Columns safe_text() of @s takes on a terminal (UTF-8 characters, not bytes). */
int safe_width(const char *s)
{
	char *text = safe_dup(s);
	int w = 0;

	for (const char *c = text ? text : ""; *c; c++)
		w += ((unsigned char)*c & 0xC0) != 0x80;
	free(text);
	return w;
}

/* put_safe(), then spaces up to @width columns: a left-aligned table cell. */
int put_safe_cell(FILE *f, const char *s, int width)
{
	int pad = width - safe_width(s);

	if (put_safe(f, s) != 0)
		return EOF;
	return pad > 0 && fprintf(f, "%*s", pad, "") < 0 ? EOF : 0;
}

/*
 * A JSON string for text from a drive, a file or the library. jansson
 * escapes control characters itself but refuses text that is not UTF-8:
 * each invalid byte then becomes U+FFFD, so the text is still there.
 */
json_t *json_text(const char *s)
{
	const unsigned char *p;
	json_t *j;
	char *copy;
	size_t n, at = 0, k;
	uint32_t cp;

	if (!s)
		s = "";
	j = json_string(s);
	if (j)
		return j;
	n = strlen(s);
	copy = malloc(3 * n + 1); /* each byte at worst one U+FFFD */
	if (!copy)
		return NULL;
	for (p = (const unsigned char *)s; *p; p += k ? k : 1) {
		k = utf8_seq(p, &cp);
		if (k) {
			memcpy(copy + at, p, k);
			at += k;
		} else {
			memcpy(copy + at, "\xEF\xBF\xBD", 3);
			at += 3;
		}
	}
	copy[at] = '\0';
	j = json_string(copy);
	free(copy);
	return j;
}

/* json_text() of @s, or null when @s is NULL or "": JSON says "absent" one way. */
json_t *text_or_null(const char *s)
{
	return s && *s ? json_text(s) : json_null();
}

/* The JSON form of a value; @text is its ax_value_format() text. NULL when out of memory. */
json_t *value_to_json(int dtype, const uint8_t *buf, const char *text)
{
	size_t size = ax_dtype_size(dtype);
	int64_t i;
	double d;
	char *end;

	switch (dtype) {
	case AX_DTYPE_STR:
		return json_text(text);
	case AX_DTYPE_BYTES:
		return json_string(text); /* hex digits */
	case AX_DTYPE_BOOL:
		return json_boolean(buf[0] != 0);
	case AX_DTYPE_FLOAT:
		if (ax_value_to_f64(dtype, buf, size, &d) < 0 || !isfinite(d))
			return json_string(text); /* JSON has no NaN or infinity */
		/*
		 * The text is the shortest form that reads back as this float; with
		 * 9-digit printing the JSON then shows the same digits as text mode
		 * (1.2, not 1.20000005) and still reads back as the same float.
		 */
		{
			double t = strtod(text, &end);

			if (end != text && *end == '\0')
				d = t;
		}
		return json_real(d);
	default:
		/* JSON parsers commonly stop at int64: a u64 beyond keeps every digit as text. */
		if (ax_value_to_i64(dtype, buf, size, &i) < 0)
			return json_string(text);
		return json_integer((json_int_t)i);
	}
}

json_t *hex32(uint32_t v)
{
	char text[16];

	(void)snprintf(text, sizeof(text), "0x%08X", (unsigned)v);
	return json_string(text);
}

const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}
