/* SPDX-License-Identifier: MIT */
/*
 * Drives: a link, the identity the drive reports, and the dictionary that
 * goes with it, plus register access by name with numeric conversions.
 *
 * The context keeps a list of its open drives (borrowed pointers, guarded by
 * the registry's slot lock) so that opening an endpoint twice returns the same
 * drive, however its URI is spelled: drives are keyed by the URI's normal
 * form (eth://127.0.0.2 and eth://127.0.0.2:1061 are one drive) and by what
 * the open options make of the drive (its view: the databases' dictionary,
 * a named file and its checks, or none). An open with another view gets a
 * drive of its own, which shares the link of the drive already open at that
 * location: one endpoint, one link, its requests serialized. The last unref
 * removes the drive from that list under the same lock, so a concurrent open
 * can never pick up a drive that is being destroyed.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axlink/db.h"
#include "axlink/drive.h"
#include "axlink/mcb.h"
#include "axlink/plugin.h"
#include "axlink/value.h"
#include "ctx.h"
#include "discover.h"
#include "drive.h"
#include "link_priv.h"
#include "uri.h"

#define REG_AXIS_NUMBER 0x0A0
#define REG_AXIS_NUMBER_ID "DRV_AXIS_NUMBER"

struct ax_drive {
	atomic_int refs; /* changed to 0 only under the registry's slot lock */
	ax_ctx *ctx;     /* borrowed: the link holds the context */
	ax_link *link;
	char *uri;  /* as the first opener spelled it */
	char *key;  /* its normal form: the registry compares these */
	char *view; /* what the options made of it (drive_view()): compared too */
	ax_identity identity;
	ax_dict *dict; /* NULL when none was found */
	int match;
	char *reason;
	unsigned int axes;
};

static void drive_destroy(ax_drive *d)
{
	ax_dict_unref(d->dict);
	free(d->reason);
	free(d->uri);
	free(d->key);
	free(d->view);
	ax_link_unref(d->link);
	free(d);
}

/* The dictionary of @path that speaks @space; the file's others are released. */
static int drive_dict_from_file(ax_drive *d, const char *path, int space)
{
	ax_dict **dicts = NULL;
	size_t n = 0;
	int err = ax_dict_load_file(&dicts, &n, path, d->ctx);

	if (err < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (!d->dict && ax_dict_identity_get(dicts[i])->addr_space == space)
			d->dict = ax_dict_ref(dicts[i]);
		ax_dict_unref(dicts[i]);
	}
	ax_free(dicts);
	if (!d->dict)
		return ax__error_set_class(
		        AX_ERRCLASS_DICT, AX_ENOTFOUND,
		        "dictionary '%s' has no device for this link's address space", path);
	return 0;
}

/* A named file must describe the drive that answered; say so when it does not. */
static int drive_check_identity(ax_drive *d, const char *path, unsigned int flags)
{
	const ax_dict_identity *di = ax_dict_identity_get(d->dict);
	const ax_identity *id = &d->identity;
	int same = di->product_code == id->product_code && di->revision == id->revision &&
	           (di->vendor_id == 0 || di->vendor_id == id->vendor_id);
	char line[256];

	if (same) {
		d->match = AX_MATCH_FILE;
		d->reason = strdup("dictionary file named by the caller, identity matches");
		return d->reason ? 0 : ax__error_oom();
	}
	(void)snprintf(line, sizeof(line),
	               "'%s' is for vendor 0x%08X product 0x%08X revision 0x%08X, the drive at "
	               "'%s' reports vendor 0x%08X product 0x%08X revision 0x%08X",
	               path, (unsigned)di->vendor_id, (unsigned)di->product_code,
	               (unsigned)di->revision, d->uri, (unsigned)id->vendor_id,
	               (unsigned)id->product_code, (unsigned)id->revision);
	if (flags & AX_DRIVE_STRICT)
		return ax__error_set(AX_ETYPE, "identity mismatch: %s", line);
	AX_LOG_WARN(d->ctx, "drive", "identity mismatch, using it anyway: %s", line);
	d->match = AX_MATCH_FILE;
	d->reason = strdup("dictionary file named by the caller, identity differs");
	return d->reason ? 0 : ax__error_oom();
}

/*
 * May the drive go without an identity? Only when the caller named the
 * dictionary and allowed it, and only when the drive refused or ignored the
 * identity registers (or the transport has none): a cancel, an I/O error or
 * a broken link still fail the open.
 */
static int drive_identity_may_lack(const ax_drive_options *opts, int err)
{
	return (opts->flags & AX_DRIVE_IDENTITY_OPTIONAL) && opts->dictionary &&
	       !(opts->flags & AX_DRIVE_NO_DICT) &&
	       (err == AX_EDRIVE || err == AX_ETIMEDOUT || err == AX_EUNSUPPORTED);
}

static char *drive_reason_no_identity(const char *why)
{
	static const char head[] = "dictionary file named by the caller, the drive reports no "
	                           "identity: ";
	size_t n = sizeof(head) + strlen(why);
	char *s = malloc(n);

	if (s)
		(void)snprintf(s, n, "%s%s", head, why);
	return s;
}

static int drive_count_axes(ax_drive *d)
{
	uint32_t address = REG_AXIS_NUMBER;
	const ax_reg *reg = NULL;
	uint16_t n = 0;
	int err = 0;

	/* Elsewhere than MCB (CANopen) the register is where the dictionary puts its id. */
	if (ax_link_addr_space(d->link) != AX_ADDR_MCB) {
		if (d->dict && ax_dict_find(d->dict, REG_AXIS_NUMBER_ID, 0, &reg) == 0)
			address = ax_reg_address(reg);
		else
			err = AX_EDRIVE;
	}
	if (err == 0)
		err = ax_link_read_u16(d->link, 0, address, &n);

	if (err == 0 && n > 0 && n <= AX_MCB_MAX_SUBNODE) {
		d->axes = n;
		return 0;
	}
	if (err < 0 && err != AX_EDRIVE)
		return err;
	/* The drive does not say (or says nonsense): trust the dictionary, else one axis. */
	ax_error_clear();
	d->axes = d->dict && ax_dict_identity_get(d->dict)->axes
	                  ? ax_dict_identity_get(d->dict)->axes
	                  : 1;
	return 0;
}

/*
 * The registry key of @uri: its normal form under the options its plugin
 * declares. A URI that does not parse, or whose scheme has no plugin, is its
 * own key: opening it fails anyway, with ax_link_open()'s message.
 */
static int drive_key(ax_ctx *ctx, const char *uri, char **out)
{
	struct ax_plugin *plugin = NULL;
	ax_uri *parsed = NULL;
	int err = ax_uri_parse(&parsed, uri);

	if (err == 0)
		err = ax__ctx_find_plugin(ctx, parsed->scheme, &plugin);
	if (err == 0)
		err = ax__uri_normalize(parsed, plugin->desc.options, out);
	else if (err != AX_ENOMEM)
		err = (*out = strdup(uri)) ? 0 : AX_ENOMEM;
	ax_uri_free(parsed);
	ax_error_clear();
	return err == AX_ENOMEM ? ax__error_oom() : err;
}

/*
 * What @opts make of a drive, the second half of its registry key: where its
 * dictionary comes from and which checks a named file went through, since a
 * drive opened under other checks might not have opened at all. A file is
 * named by its real path, so two spellings of one file are one view. The
 * request timeout is not part of it: it belongs to the shared link.
 */
static int drive_view(const ax_drive_options *opts, char **out)
{
	char real[PATH_MAX];
	const char *path;
	size_t n;

	if (opts->flags & AX_DRIVE_NO_DICT) {
		*out = strdup("no-dict");
	} else if (!opts->dictionary) {
		*out = strdup("db");
	} else {
		/* A file that is not there fails the open anyway, under its own name. */
		path = realpath(opts->dictionary, real) ? real : opts->dictionary;
		n = strlen(path) + sizeof("file;strict;identity-optional:");
		*out = malloc(n);
		if (*out)
			(void)snprintf(*out, n, "file%s%s:%s",
			               (opts->flags & AX_DRIVE_STRICT) ? ";strict" : "",
			               (opts->flags & AX_DRIVE_IDENTITY_OPTIONAL)
			                       ? ";identity-optional"
			                       : "",
			               path);
	}
	return *out ? 0 : ax__error_oom();
}

/* The context's open drives (its AX__CTX_DRIVES slot), borrowed: each removes itself. */
struct drive_registry {
	ax_drive **drives;
	size_t n;
};

static void drive_registry_free(void *state)
{
	struct drive_registry *r = state;

	free(r->drives); /* empty: every drive holds the context through its link */
	free(r);
}

/* The registry, created on first use; NULL when out of memory. Caller holds the slot lock. */
static struct drive_registry *drive_registry(ax_ctx *ctx)
{
	struct ax__ctx_slot *slot = &ctx->slots[AX__CTX_DRIVES];

	if (!slot->state) {
		slot->state = calloc(1, sizeof(struct drive_registry));
		slot->free = drive_registry_free;
	}
	return slot->state;
}

static void drives_lock(ax_ctx *ctx)
{
	pthread_mutex_lock(&ctx->slots[AX__CTX_DRIVES].lock);
}

static void drives_unlock(ax_ctx *ctx)
{
	pthread_mutex_unlock(&ctx->slots[AX__CTX_DRIVES].lock);
}

/*
 * The open drive keyed @key and @view with one more reference, or NULL; when
 * there is none, *link gets a reference on the link of a drive open at @key
 * under another view, or NULL. Caller holds the slot lock.
 */
static ax_drive *drive_find_open(ax_ctx *ctx, const char *key, const char *view, ax_link **link)
{
	struct drive_registry *r = drive_registry(ctx);
	ax_drive *other = NULL;

	for (size_t i = 0; r && i < r->n; i++) {
		if (strcmp(r->drives[i]->key, key))
			continue;
		if (!strcmp(r->drives[i]->view, view)) {
			atomic_fetch_add(&r->drives[i]->refs, 1);
			return r->drives[i];
		}
		other = r->drives[i];
	}
	/* The lock keeps @other alive (its last unref waits for it), and so its link. */
	*link = other ? ax_link_ref(other->link) : NULL;
	return NULL;
}

/* A new drive at @uri; on @shared (a reference taken over) when not NULL, else on a new link. */
static int drive_open_new(ax_drive **out, ax_ctx *ctx, const char *uri, const char *key,
                          const char *view, ax_link *shared, const ax_drive_options *opts)
{
	ax_link_options lopts = AX_LINK_OPTIONS_INIT;
	ax_drive *d;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d) {
		ax_link_unref(shared);
		return ax__error_oom();
	}
	atomic_init(&d->refs, 1);
	d->ctx = ctx;
	d->match = AX_MATCH_NONE;
	d->link = shared; /* the drive owns it from here: drive_destroy() drops it */
	d->uri = strdup(uri);
	d->key = strdup(key);
	d->view = strdup(view);
	if (!d->uri || !d->key || !d->view) {
		err = ax__error_oom();
		goto fail;
	}
	if (!d->link) {
		lopts.timeout_ms = opts->timeout_ms;
		err = ax_link_open(&d->link, ctx, uri, &lopts);
		if (err < 0)
			goto fail;
	}
	d->identity.size = sizeof(d->identity);
	err = ax_link_identify(d->link, &d->identity);
	if (err < 0 && drive_identity_may_lack(opts, err)) {
		/* The named file says what the drive is; the user vouches for it. */
		AX_LOG_INFO(ctx, "drive", "'%s' reports no identity, using '%s': %s", uri,
		            opts->dictionary, ax_error_last());
		d->reason = drive_reason_no_identity(ax_error_last());
		if (!d->reason) {
			err = ax__error_oom();
			goto fail;
		}
		memset(&d->identity, 0, sizeof(d->identity));
		ax_error_clear();
		err = 0;
	}
	if (err < 0)
		goto fail;

	if (opts->flags & AX_DRIVE_NO_DICT) {
		d->reason = strdup("no dictionary asked for");
		err = d->reason ? 0 : ax__error_oom();
	} else if (opts->dictionary) {
		err = drive_dict_from_file(d, opts->dictionary, ax_link_addr_space(d->link));
		if (err == 0 && d->identity.known) {
			err = drive_check_identity(d, opts->dictionary, opts->flags);
		} else if (err == 0) {
			d->match = AX_MATCH_FILE;
		}
	} else {
		/* Only a dictionary that addresses registers the way the link does. */
		err = ax_ctx_resolve(ctx, d->identity.vendor_id, d->identity.product_code,
		                     d->identity.revision, ax_link_addr_space(d->link), &d->dict,
		                     &d->match, &d->reason);
		if (err == 0 && d->match == AX_MATCH_NONE)
			AX_LOG_INFO(ctx, "drive", "'%s': %s", uri, d->reason);
	}
	if (err < 0)
		goto fail;
	err = drive_count_axes(d);
	if (err < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	drive_destroy(d);
	return err;
}

/* Open (or find open) the drive at location @uri. */
static int drive_open_at(ax_drive **out, ax_ctx *ctx, const char *uri, const ax_drive_options *opts)
{
	ax_drive *d, *other, **grown;
	ax_link *shared = NULL, *unused = NULL;
	char *key = NULL, *view = NULL;
	int err;

	err = drive_key(ctx, uri, &key);
	if (err == 0)
		err = drive_view(opts, &view);
	if (err < 0) {
		free(key);
		return err;
	}
	drives_lock(ctx);
	d = drive_find_open(ctx, key, view, &shared);
	drives_unlock(ctx);
	if (d) {
		free(key);
		free(view);
		*out = d;
		return 0;
	}

	/* Open without the lock: it talks to the drive, which may take a timeout. */
	err = drive_open_new(&d, ctx, uri, key, view, shared, opts);
	if (err < 0) {
		free(key);
		free(view);
		return err;
	}

	drives_lock(ctx);
	/* Another thread may have won the race. */
	other = drive_find_open(ctx, key, view, &unused);
	free(key);
	free(view);
	if (!other) {
		struct drive_registry *r = drive_registry(ctx);

		grown = r ? realloc(r->drives, (r->n + 1) * sizeof(*grown)) : NULL;
		if (grown) {
			r->drives = grown;
			r->drives[r->n++] = d;
		}
	}
	drives_unlock(ctx);
	ax_link_unref(unused);
	if (other) {
		drive_destroy(d);
		d = other;
	} else if (!grown) {
		drive_destroy(d);
		return ax__error_oom();
	}
	*out = d;
	return 0;
}

int ax_drive_open(ax_drive **out, ax_ctx *ctx, const char *uri, const ax_drive_options *opts)
{
	static const ax_drive_options defaults = AX_DRIVE_OPTIONS_INIT;
	char *location = NULL;
	int err;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(ctx);
	AX_ASSERT_ARG(uri);
	AX_CHECK_VERSION(opts, AX_DRIVE_OPTIONS_VERSION, "ax_drive_options");
	if (!opts)
		opts = &defaults;
	/*
	 * A stable identity URI names a drive, not a place: find where it is
	 * now. The drive is then known by its location, so opening it by
	 * either URI gives the same drive.
	 */
	if (ax__discover_is_stable_uri(uri)) {
		err = ax_discover_locate(&location, ctx, uri, 0);
		if (err < 0)
			return err;
		uri = location;
	}
	err = drive_open_at(out, ctx, uri, opts);
	ax_free(location);
	return err;
}

ax_drive *ax_drive_ref(ax_drive *drive)
{
	if (drive)
		atomic_fetch_add(&drive->refs, 1);
	return drive;
}

ax_drive *ax_drive_unref(ax_drive *drive)
{
	ax_ctx *ctx;
	int last;

	if (!drive)
		return NULL;
	ctx = drive->ctx;
	drives_lock(ctx);
	last = atomic_fetch_sub(&drive->refs, 1) == 1;
	if (last) {
		struct drive_registry *r = drive_registry(ctx);

		for (size_t i = 0; r && i < r->n; i++) {
			if (r->drives[i] == drive) {
				r->drives[i] = r->drives[--r->n];
				break;
			}
		}
	}
	drives_unlock(ctx);
	/* Outside the lock: destroying drops the link, which may drop the context. */
	if (last)
		drive_destroy(drive);
	return NULL;
}

ax_link *ax_drive_link(const ax_drive *drive)
{
	return drive ? drive->link : NULL;
}

const char *ax_drive_uri(const ax_drive *drive)
{
	return drive ? drive->uri : NULL;
}

const ax_identity *ax_drive_identity(const ax_drive *drive)
{
	return drive ? &drive->identity : NULL;
}

const ax_dict *ax_drive_dict(const ax_drive *drive)
{
	return drive ? drive->dict : NULL;
}

int ax_drive_match(const ax_drive *drive)
{
	return drive ? drive->match : AX_MATCH_NONE;
}

const char *ax_drive_match_reason(const ax_drive *drive)
{
	return drive && drive->reason ? drive->reason : "";
}

unsigned int ax_drive_axes(const ax_drive *drive)
{
	return drive ? drive->axes : 0;
}

int ax_drive_find(const ax_drive *drive, const char *id, int subnode, const ax_reg **out)
{
	AX_ASSERT_ARG(drive);
	AX_ASSERT_ARG(id);
	AX_ASSERT_ARG(out);
	if (!drive->dict)
		return ax__error_set(
		        AX_ENOTFOUND,
		        "register '%s': no dictionary for the drive at '%s' (%s); import "
		        "one with 'axlink db import' or name a file",
		        id, drive->uri, ax_drive_match_reason(drive));
	return ax_dict_find(drive->dict, id, subnode, out);
}

/* A numeric register's value through the value module's codec. */
static int drive_read_raw(ax_drive *drive, const ax_reg *reg, uint8_t *buf, size_t cap,
                          size_t *len_out)
{
	if (!ax_dtype_size(ax_reg_dtype(reg)))
		return ax__error_set(AX_ETYPE, "register '%s' is a %s, not a number",
		                     ax_reg_id(reg), ax_dtype_name(ax_reg_dtype(reg)));
	return ax_link_read_reg(drive->link, reg, buf, cap, len_out);
}

int ax__drive_reg_read_i64(ax_drive *drive, const ax_reg *reg, int64_t *out)
{
	uint8_t buf[AX_VALUE_MAX + 1];
	size_t len = 0;
	int err = drive_read_raw(drive, reg, buf, sizeof(buf), &len);

	if (err == 0)
		err = ax_value_to_i64(ax_reg_dtype(reg), buf, len, out);
	if (err < 0)
		ax__error_prefix("register '%s'", ax_reg_id(reg));
	return err;
}

int ax__drive_reg_read_f64(ax_drive *drive, const ax_reg *reg, double *out)
{
	uint8_t buf[AX_VALUE_MAX + 1];
	size_t len = 0;
	int err = drive_read_raw(drive, reg, buf, sizeof(buf), &len);

	if (err == 0)
		err = ax_value_to_f64(ax_reg_dtype(reg), buf, len, out);
	if (err < 0)
		ax__error_prefix("register '%s'", ax_reg_id(reg));
	return err;
}

int ax__drive_reg_write_f64(ax_drive *drive, const ax_reg *reg, double value)
{
	uint8_t buf[8];
	size_t len;
	/* The value module's rule, the one text and Python values follow too. */
	int err = ax_value_from_f64(ax_reg_dtype(reg), value, 0, buf, sizeof(buf), &len);

	if (err < 0) {
		ax__error_prefix("register '%s'", ax_reg_id(reg));
		return err;
	}
	return ax_link_write_reg(drive->link, reg, buf, len);
}

int ax__drive_reg_write_i64(ax_drive *drive, const ax_reg *reg, int64_t value)
{
	uint8_t buf[8];
	size_t len = 0;
	int err;

	/* A float takes the nearest binary32, as from a double. */
	if (ax_reg_dtype(reg) == AX_DTYPE_FLOAT)
		return ax__drive_reg_write_f64(drive, reg, (double)value);
	err = ax_value_from_i64(ax_reg_dtype(reg), value, buf, sizeof(buf), &len);
	if (err < 0) {
		ax__error_prefix("register '%s'", ax_reg_id(reg));
		return err;
	}
	return ax_link_write_reg(drive->link, reg, buf, len);
}

/* On the link: drives of other views of the endpoint share it (link_priv.h). */
void ax__drive_table_lock(ax_drive *drive)
{
	ax__link_exchange_begin(drive->link);
}

void ax__drive_table_unlock(ax_drive *drive)
{
	ax__link_exchange_end(drive->link);
}

int ax_drive_read_i64(ax_drive *drive, const char *id, int subnode, int64_t *out)
{
	const ax_reg *reg;
	int err;

	AX_ASSERT_ARG(out);
	err = ax_drive_find(drive, id, subnode, &reg);
	return err < 0 ? err : ax__drive_reg_read_i64(drive, reg, out);
}

int ax_drive_read_f64(ax_drive *drive, const char *id, int subnode, double *out)
{
	const ax_reg *reg;
	int err;

	AX_ASSERT_ARG(out);
	err = ax_drive_find(drive, id, subnode, &reg);
	return err < 0 ? err : ax__drive_reg_read_f64(drive, reg, out);
}

int ax_drive_write_i64(ax_drive *drive, const char *id, int subnode, int64_t value)
{
	const ax_reg *reg;
	int err = ax_drive_find(drive, id, subnode, &reg);

	return err < 0 ? err : ax__drive_reg_write_i64(drive, reg, value);
}

int ax_drive_write_f64(ax_drive *drive, const char *id, int subnode, double value)
{
	const ax_reg *reg;
	int err = ax_drive_find(drive, id, subnode, &reg);

	return err < 0 ? err : ax__drive_reg_write_f64(drive, reg, value);
}
