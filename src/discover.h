/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_DISCOVER_H
#define AXLINK_SRC_DISCOVER_H

/*
 * Internal side of axlink/discover.h: the search plan and stable identity
 * URIs (discover_spec.c), the engine that runs a plan (discover.c) and
 * the monitor built on it (discover_monitor.c), and the hooks drive.c and
 * the tests use.
 */

#include "axlink/discover.h"
#include "ctx.h"

struct ifaddrs;

/* One target of a discovery: what to scan with which plugin, or why not. */
struct ax__discover_target {
	struct ax_plugin *plugin; /* borrowed from the context */
	char *text;               /* the target URI ("eth://127.0.0.0/28", "serial:") */
	ax_uri *uri;              /* parsed @text; NULL when skipped */
	char *skip;               /* why it is not scanned, or NULL */
};

struct ax__discover_plan {
	struct ax__discover_target *targets;
	size_t n;
};

/*
 * Turn a spec (NULL / "" = every transport that can scan) into targets:
 * split, defaults from AXLINK_<SCHEME>_TARGETS, eth://local expanded, every
 * URI parsed and its keys checked. Returns 0 or an error naming the piece.
 * @out is complete or untouched.
 */
int ax__discover_plan_build(ax_ctx *ctx, const char *spec, struct ax__discover_plan *out);
void ax__discover_plan_free(struct ax__discover_plan *plan);

/*
 * The subnets of the interfaces in @list that eth://local scans, as
 * "A.B.C.D/P" strings: IPv4, up, not loopback, narrowed to /24 when wider,
 * duplicates dropped, in list order. *out (malloc'ed array of malloc'ed
 * strings, free with ax__discover_strings_free) may be empty.
 */
int ax__discover_local_subnets(const struct ifaddrs *list, char ***out, size_t *n_out);
void ax__discover_strings_free(char **v, size_t n);

/* True when @uri is a stable identity URI (axlink://...), which only discovery can open. */
int ax__discover_is_stable_uri(const char *uri);

/* What a stable identity URI names, and how to search for it. */
struct ax__stable_id {
	uint32_t vendor, product, serial;
	const char *via; /* its `via` key (borrowed from the URI), or NULL */
	int timeout_ms;  /* its `timeout_ms` key, or 0 */
};

/* Parse axlink://VENDOR/PRODUCT/SERIAL[?via=SPEC&timeout_ms=N]: 0, AX_EINVAL, AX_EUNKNOWNKEY. */
int ax__discover_stable_parse(const ax_uri *uri, struct ax__stable_id *out);

/* ---- the engine (discover.c), shared by ax_discover() and ax_monitor() ---- */

/* One round's workers and queue; reference-counted (discover.c). */
struct ax__discover_run;
/* A resolved identity (discover.c). */
struct ax__discover_resolved;

struct ax__discover_cache {
	struct ax__discover_resolved *v;
	size_t n;
};

/* Locations reported in the current round: open addressing, malloc'ed keys. */
struct ax__discover_seen {
	char **slot;
	size_t cap, n;
};

void ax__discover_seen_clear(struct ax__discover_seen *set);

struct ax__discover_session;

/* What a round hands its owner; a negative return stops the round with that value. */
typedef int (*ax__discover_result_fn)(struct ax__discover_session *s, size_t target,
                                      const ax_discover_result *r);
typedef int (*ax__discover_outcome_fn)(struct ax__discover_session *s, size_t target,
                                       const ax_discover_transport *t);

/* A plan and the rounds run over it. */
struct ax__discover_session {
	ax_ctx *ctx;
	struct ax__discover_plan plan;
	unsigned flags;
	ax_db *db;
	ax_cancel *cancel;
	struct ax__discover_cache cache; /* cleared every round: a database may change */
	struct ax__discover_seen seen;   /* each location is reported once per round */
	/* Rounds with workers that outlived them: a target still busy is not started again. */
	struct ax__discover_run **lingering;
	size_t n_lingering;
	ax__discover_result_fn on_result;
	ax__discover_outcome_fn on_outcome;
	ax_discover_transport_cb user_outcome; /* the caller's, for the owner to call */
	void *userdata;                        /* the owner's */
	int *target_status; /* each target's ax_discover_status in the last round */
};

/* Build the plan of @spec; the owner sets the callbacks after. */
int ax__discover_session_init(struct ax__discover_session *s, ax_ctx *ctx, const char *spec,
                              unsigned flags, ax_db *db, ax_cancel *cancel);
void ax__discover_session_done(struct ax__discover_session *s);

/*
 * One discovery over the plan within @timeout_ms, calling back on this
 * thread. Returns the number of results with AX_ACCESS_OK, AX_ECANCELED
 * (the token), or a callback's negative value. *all_failed_out: every
 * target that ran failed and nothing was found.
 */
int ax__discover_session_round(struct ax__discover_session *s, int timeout_ms, int *all_failed_out);

/*
 * Resolve @r (a record target @target's transport reported outside a round,
 * from its own monitor) as a round would, and hand it to @fn on this
 * thread. Between rounds only: it uses the session's cache.
 */
int ax__discover_session_resolve(struct ax__discover_session *s, size_t target,
                                 const ax_scan_result *r, ax__discover_result_fn fn);

/* Discovery worker threads alive in the process, detached ones included (tests wait for 0). */
int ax__discover_workers_alive(void);

/* AX_EINVAL naming @what when @timeout_ms is negative, else 0. */
int ax__discover_check_timeout(int timeout_ms, const char *what);

#endif
