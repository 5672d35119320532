/* SPDX-License-Identifier: MIT */
/*
 * The search plan of a discovery: which transports, which targets.
 *
 * A spec is a comma list of bare schemes and URIs, but an Ethernet host
 * list has commas of its own, so the split is by meaning: a piece opens a
 * new item only when it is recognisably one (it has "://", or starts with a
 * loaded scheme), and otherwise belongs to the URI before it. Everything is
 * parsed and checked here, before any thread starts, so a typo fails the
 * whole call at once instead of turning into one failed scan among many.
 *
 * Default targets are the plugin's business (`SCHEME:`), with two
 * exceptions kept in one table: a transport that must never probe what
 * nobody named (Ethernet) is skipped without AXLINK_<SCHEME>_TARGETS, and
 * its `local` host expands to the machine's own subnets.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_ARGUMENT /* errors set here; see src/error.h */

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discover.h"
#include "uri.h"

/* The widest own subnet eth://local probes: a /16 of silent hosts would eat the deadline. */
#define LOCAL_MIN_PREFIX 24
#define SCHEME_MAX 32
#define LOADED_LIST_MAX 256

/* Transports whose defaults need more than `SCHEME:`. */
struct scheme_policy {
	const char *scheme;
	int needs_targets; /* no implicit targets: skipped unless the environment names some */
	int has_local;     /* `SCHEME://local` means the machine's own subnets */
	int authority;     /* a bare target is a host: `SCHEME://ITEM`, not `SCHEME:ITEM` */
	const char *example;
};

static const struct scheme_policy policies[] = {
        {"eth", 1, 1, 1, "192.168.1.0/24"},
};

static const struct scheme_policy *policy_find(const char *scheme)
{
	for (size_t i = 0; i < AX__ARRAY_SIZE(policies); i++)
		if (!strcmp(policies[i].scheme, scheme))
			return &policies[i];
	return NULL;
}

/* The plugins loaded when the plan is made (pointers stay valid while the context lives). */
struct plugin_set {
	struct ax_plugin **p;
	size_t n;
};

static int plugins_snapshot(ax_ctx *ctx, struct plugin_set *out)
{
	int err = 0;

	ax__ctx_lock(ctx);
	out->n = ctx->n_plugins;
	out->p = out->n ? malloc(out->n * sizeof(*out->p)) : NULL;
	if (out->n && !out->p)
		err = ax__error_oom();
	else if (out->n)
		memcpy(out->p, ctx->plugins, out->n * sizeof(*out->p));
	ax__ctx_unlock(ctx);
	return err;
}

static struct ax_plugin *plugins_find(const struct plugin_set *ps, const char *scheme, size_t len)
{
	for (size_t i = 0; i < ps->n; i++) {
		const char *s = ps->p[i]->desc.scheme;

		if (strlen(s) == len && strncasecmp(s, scheme, len) == 0)
			return ps->p[i];
	}
	return NULL;
}

/* "eth, testscan, virtual" for messages. */
static void plugins_names(const struct plugin_set *ps, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ps->n && used < cap; i++) {
		int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
		                 ps->p[i]->desc.scheme);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (ps->n == 0)
		(void)snprintf(buf, cap, "none");
}

/* Length of the scheme-shaped prefix of @s: [A-Za-z][A-Za-z0-9+.-]*, or 0. */
static size_t scheme_len(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '.' || s[n] == '-')
		n++;
	return n;
}

void ax__discover_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strings_push(char ***v, size_t *n, char *s)
{
	char **grown;

	if (!s)
		return ax__error_oom();
	grown = realloc(*v, (*n + 1) * sizeof(**v));
	if (!grown) {
		free(s);
		return ax__error_oom();
	}
	*v = grown;
	(*v)[(*n)++] = s;
	return 0;
}

static char *str_printf(const char *fmt, ...) AX__PRINTF(1, 2);

static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	(void)vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Split @spec into items (see the file comment). An empty piece is an
 * error: it is a typo, and silently dropping it would hide one.
 */
static int spec_split(const char *spec, const struct plugin_set *ps, char ***out, size_t *n_out)
{
	char **items = NULL;
	size_t n = 0;
	const char *p = spec;
	int err = 0;

	for (;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *b = p;
		size_t len, sl;
		int starts_new;

		while (b < end && is_blank(*b))
			b++;
		while (end > b && is_blank(end[-1]))
			end--;
		len = (size_t)(end - b);
		if (len == 0) {
			err = ax__error_set(AX_EINVAL,
			                    "discovery spec '%s' has an empty item (expected "
			                    "SCHEME or URI, separated by commas)",
			                    spec);
			goto fail;
		}
		sl = scheme_len(b);
		if (sl > len)
			sl = len;
		starts_new = n == 0 || !strchr(items[n - 1], ':');
		if (!starts_new) {
			int has_sep = memmem(b, len, "://", 3) != NULL;
			int loaded = sl && (sl == len || b[sl] == ':') && plugins_find(ps, b, sl);

			starts_new = has_sep || loaded;
		}
		if (starts_new) {
			err = strings_push(&items, &n, str_printf("%.*s", (int)len, b));
		} else {
			char *joined = str_printf("%s,%.*s", items[n - 1], (int)len, b);

			if (!joined) {
				err = ax__error_oom();
				goto fail;
			}
			free(items[n - 1]);
			items[n - 1] = joined;
		}
		if (err < 0)
			goto fail;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = items;
	*n_out = n;
	return 0;
fail:
	ax__discover_strings_free(items, n);
	return err;
}

/* ---- eth://local --------------------------------------------------------- */

/* Prefix length of a contiguous netmask, or -1. */
static int mask_prefix(uint32_t mask)
{
	int bits = 0;

	while (bits < 32 && (mask & (0x80000000u >> bits)))
		bits++;
	if (bits < 32 && (mask << bits) != 0)
		return -1;
	return bits;
}

int ax__discover_local_subnets(const struct ifaddrs *list, char ***out, size_t *n_out)
{
	char **v = NULL;
	size_t n = 0;
	int err = 0;

	for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
		const struct sockaddr_in *a =
		        (const struct sockaddr_in *)(const void *)ifa->ifa_addr;
		const struct sockaddr_in *m =
		        (const struct sockaddr_in *)(const void *)ifa->ifa_netmask;
		char text[INET_ADDRSTRLEN], *s;
		struct in_addr net;
		uint32_t addr, mask;
		int prefix, dup = 0;

		if (!a || !m || a->sin_family != AF_INET)
			continue;
		/* Loopback is not a bus; a down interface reaches nothing. */
		if (!(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
			continue;
		addr = ntohl(a->sin_addr.s_addr);
		prefix = mask_prefix(ntohl(m->sin_addr.s_addr));
		/* A /32 holds only this machine; a non-contiguous mask names no range. */
		if (prefix < 0 || prefix >= 32)
			continue;
		if (prefix < LOCAL_MIN_PREFIX)
			prefix = LOCAL_MIN_PREFIX;
		mask = 0xFFFFFFFFu << (32 - prefix);
		net.s_addr = htonl(addr & mask);
		if (!inet_ntop(AF_INET, &net, text, sizeof(text)))
			continue;
		s = str_printf("%s/%d", text, prefix);
		if (!s) {
			err = ax__error_oom();
			break;
		}
		for (size_t i = 0; i < n && !dup; i++)
			dup = !strcmp(v[i], s);
		if (dup) {
			free(s);
			continue;
		}
		err = strings_push(&v, &n, s);
		if (err < 0)
			break;
	}
	if (err < 0) {
		ax__discover_strings_free(v, n);
		return err;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* ---- building the plan ----------------------------------------------------- */

static int plan_push(struct ax__discover_plan *plan, struct ax_plugin *plugin, char *text,
                     ax_uri *uri, char *skip)
{
	struct ax__discover_target *grown;

	if (!text || (!uri && !skip)) {
		free(text);
		free(skip);
		ax_uri_free(uri);
		return ax__error_oom();
	}
	/* The same target twice would only be probed twice. */
	for (size_t i = 0; i < plan->n; i++) {
		if (!strcmp(plan->targets[i].text, text)) {
			free(text);
			free(skip);
			ax_uri_free(uri);
			return 0;
		}
	}
	grown = realloc(plan->targets, (plan->n + 1) * sizeof(*grown));
	if (!grown) {
		free(text);
		free(skip);
		ax_uri_free(uri);
		return ax__error_oom();
	}
	plan->targets = grown;
	plan->targets[plan->n++] = (struct ax__discover_target){plugin, text, uri, skip};
	return 0;
}

void ax__discover_plan_free(struct ax__discover_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->targets[i].text);
		free(plan->targets[i].skip);
		ax_uri_free(plan->targets[i].uri);
	}
	free(plan->targets);
	plan->targets = NULL;
	plan->n = 0;
}

/* `eth://local[:PORT][?keys]` -> one target per own subnet, keys carried over. */
static int plan_add_local(struct ax__discover_plan *plan, struct ax_plugin *plugin,
                          const ax_uri *uri, const char *where)
{
	const char *query = strchr(uri->text, '?');
	const char *scheme = plugin->desc.scheme;
	struct ifaddrs *ifa = NULL;
	char **nets = NULL, port[16] = "";
	size_t n = 0;
	int err;

	if (uri->path[0] && strcmp(uri->path, "/") != 0)
		return ax__error_set(AX_EINVAL,
		                     "%s: '%s' takes no path (it scans each local subnet itself)",
		                     where, uri->text);
	if (getifaddrs(&ifa) != 0)
		return ax__error_set(AX_EIO, "%s: cannot list the network interfaces for '%s'",
		                     where, uri->text);
	err = ax__discover_local_subnets(ifa, &nets, &n);
	freeifaddrs(ifa);
	if (err < 0)
		return err;
	if (n == 0) {
		ax__discover_strings_free(nets, n);
		return plan_push(plan, plugin, strdup(uri->text), NULL,
		                 strdup("no network interface other than loopback is up with "
		                        "an IPv4 address"));
	}
	if (uri->port >= 0)
		(void)snprintf(port, sizeof(port), ":%d", uri->port);
	for (size_t i = 0; i < n && err == 0; i++) {
		const char *slash = strchr(nets[i], '/');
		char *text = str_printf("%s://%.*s%s%s%s", scheme, (int)(slash - nets[i]), nets[i],
		                        port, slash, query ? query : "");
		ax_uri *u = NULL;

		if (!text) {
			err = ax__error_oom();
			break;
		}
		err = ax_uri_parse(&u, text);
		if (err < 0) {
			free(text);
			break;
		}
		err = plan_push(plan, plugin, text, u, NULL);
	}
	ax__discover_strings_free(nets, n);
	return err;
}

/* One URI target: parsed, its keys checked against the plugin's, `local` expanded. */
static int plan_add_uri(struct ax__discover_plan *plan, const struct plugin_set *ps,
                        const char *text, const char *where)
{
	const struct scheme_policy *pol;
	struct ax_plugin *plugin;
	char names[LOADED_LIST_MAX];
	ax_uri *uri = NULL;
	int err;

	err = ax_uri_parse(&uri, text);
	if (err < 0) {
		ax__error_prefix("%s", where);
		return err;
	}
	plugin = plugins_find(ps, uri->scheme, strlen(uri->scheme));
	if (!plugin) {
		plugins_names(ps, names, sizeof(names));
		err = ax__error_set(AX_ENOTFOUND,
		                    "%s: no transport for scheme '%s' in '%s' (loaded: %s)", where,
		                    uri->scheme, text, names);
		goto fail;
	}
	if (!plugin->ops.scan) {
		err = ax__error_set(AX_EUNSUPPORTED, "%s: transport '%s' cannot scan for drives",
		                    where, plugin->desc.scheme);
		goto fail;
	}
	pol = policy_find(plugin->desc.scheme);
	err = ax__uri_check_keys(uri, plugin->desc.scheme, plugin->desc.options);
	if (err < 0) {
		ax__error_prefix("%s", where);
		goto fail;
	}
	if (pol && pol->has_local && uri->authority && !strcmp(uri->host, "local")) {
		err = plan_add_local(plan, plugin, uri, where);
		ax_uri_free(uri);
		return err;
	}
	return plan_push(plan, plugin, strdup(text), uri, NULL);
fail:
	ax_uri_free(uri);
	return err;
}

/* A transport's default targets: AXLINK_<SCHEME>_TARGETS, else `SCHEME:` or skipped. */
static int plan_add_defaults(struct ax__discover_plan *plan, const struct plugin_set *ps,
                             struct ax_plugin *plugin)
{
	const char *scheme = plugin->desc.scheme;
	const struct scheme_policy *pol = policy_find(scheme);
	char var[SCHEME_MAX + 24], where[SCHEME_MAX + 32];
	const char *env, *p;
	size_t o = 0;
	int err = 0;

	o = (size_t)snprintf(var, sizeof(var), "AXLINK_");
	for (const char *c = scheme; *c && o < sizeof(var) - 9; c++)
		var[o++] = isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c) : '_';
	(void)snprintf(var + o, sizeof(var) - o, "_TARGETS");
	env = getenv(var);
	if (!env || !*env) {
		char *text;

		if (pol && pol->needs_targets)
			return plan_push(plan, plugin, strdup(scheme), NULL,
			                 str_printf("no targets: set %s (e.g. %s) or name them "
			                            "(%s://HOST, %s://NETWORK/PREFIX, %s://local)",
			                            var, pol->example, scheme, scheme, scheme));
		text = str_printf("%s:", scheme);
		if (!text)
			return ax__error_oom();
		(void)snprintf(where, sizeof(where), "default target of '%s'", scheme);
		err = plan_add_uri(plan, ps, text, where);
		free(text);
		return err;
	}
	(void)snprintf(where, sizeof(where), "%s", var);
	for (p = env; err == 0;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *b = p;
		char *text;

		while (b < end && is_blank(*b))
			b++;
		while (end > b && is_blank(end[-1]))
			end--;
		if (b == end)
			return ax__error_set(AX_EINVAL, "%s='%s' has an empty item", var, env);
		if (memmem(b, (size_t)(end - b), "://", 3) ||
		    (strlen(scheme) < (size_t)(end - b) &&
		     !strncasecmp(b, scheme, strlen(scheme)) && b[strlen(scheme)] == ':'))
			text = str_printf("%.*s", (int)(end - b), b);
		else
			text = str_printf("%s%s%.*s", scheme, pol && pol->authority ? "://" : ":",
			                  (int)(end - b), b);
		if (!text)
			return ax__error_oom();
		err = plan_add_uri(plan, ps, text, where);
		free(text);
		if (!comma)
			break;
		p = comma + 1;
	}
	return err;
}

int ax__discover_plan_build(ax_ctx *ctx, const char *spec, struct ax__discover_plan *out)
{
	struct ax__discover_plan plan = {NULL, 0};
	struct plugin_set ps = {NULL, 0};
	char names[LOADED_LIST_MAX], where[64];
	char **items = NULL;
	size_t n_items = 0;
	int err;

	err = plugins_snapshot(ctx, &ps);
	if (err < 0)
		return err;
	while (spec && is_blank(*spec))
		spec++;
	if (!spec || !*spec) {
		for (size_t i = 0; i < ps.n && err == 0; i++)
			if (ps.p[i]->ops.scan)
				err = plan_add_defaults(&plan, &ps, ps.p[i]);
		if (err == 0 && plan.n == 0) {
			plugins_names(&ps, names, sizeof(names));
			err = ax__error_set(AX_ENOTFOUND,
			                    "no loaded transport can scan for drives (loaded: %s)",
			                    names);
		}
		goto out;
	}
	err = spec_split(spec, &ps, &items, &n_items);
	for (size_t i = 0; i < n_items && err == 0; i++) {
		const char *item = items[i];
		size_t sl = scheme_len(item);
		struct ax_plugin *plugin;

		(void)snprintf(where, sizeof(where), "discovery spec item %zu", i + 1);
		if (strchr(item, ':')) {
			err = plan_add_uri(&plan, &ps, item, where);
			continue;
		}
		plugin = sl == strlen(item) ? plugins_find(&ps, item, sl) : NULL;
		if (!plugin) {
			plugins_names(&ps, names, sizeof(names));
			err = ax__error_set(AX_ENOTFOUND,
			                    "%s: '%s' is neither a loaded transport nor a URI "
			                    "(loaded: %s; a target looks like eth://%s)",
			                    where, item, names, item);
		} else if (!plugin->ops.scan) {
			err = ax__error_set(AX_EUNSUPPORTED,
			                    "%s: transport '%s' cannot scan for drives", where,
			                    plugin->desc.scheme);
		} else {
			err = plan_add_defaults(&plan, &ps, plugin);
		}
	}
out:
	ax__discover_strings_free(items, n_items);
	free(ps.p);
	if (err < 0) {
		ax__discover_plan_free(&plan);
		return err;
	}
	*out = plan;
	return 0;
}
