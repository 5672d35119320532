/* SPDX-License-Identifier: MIT */
/*
 * Drives: a link, the identity the drive reports, and the dictionary that
 * goes with it, plus register access by name with numeric conversions.
 *
 * The context keeps a list of its open drives (borrowed pointers, guarded by
 * ctx->drives_lock) so that opening a URI twice returns the same drive. The
 * last unref removes the drive from that list under the same lock, so a
 * concurrent open can never pick up a drive that is being destroyed.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_DRIVE /* errors set here; see src/error.h */

#include <math.h>
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

#define REG_AXIS_NUMBER 0x0A0

struct ax_drive {
	atomic_int refs;          /* changed to 0 only under ctx->drives_lock */
	ax_ctx *ctx;              /* borrowed: the link holds the context */
	ax_link *link;
	char *uri;
	ax_identity identity;
	ax_dict *dict;            /* NULL when none was found */
	int match;
	char *reason;
	unsigned int axes;
};

static void drive_destroy(ax_drive *d)
{
	ax_dict_unref(d->dict);
	free(d->reason);
	free(d->uri);
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
		return ax__error_set_class(AX_ERRCLASS_DICT, AX_ENOTFOUND,
				     "dictionary '%s' has no device for this link's address space",
				     path);
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
	uint16_t n = 0;
	int err = ax_link_read_u16(d->link, 0, REG_AXIS_NUMBER, &n);

	if (err == 0 && n > 0 && n <= AX_MCB_MAX_SUBNODE) {
		d->axes = n;
		return 0;
	}
	if (err < 0 && err != AX_EDRIVE)
		return err;
	/* The drive does not say (or says nonsense): trust the dictionary, else one axis. */
	ax_error_clear();
	d->axes = d->dict && ax_dict_identity_get(d->dict)->axes ?
			  ax_dict_identity_get(d->dict)->axes :
			  1;
	return 0;
}

/* The open drive for @uri with one more reference, or NULL. Caller holds drives_lock. */
static ax_drive *drive_find_open(ax_ctx *ctx, const char *uri)
{
	for (size_t i = 0; i < ctx->n_drives; i++) {
		if (!strcmp(ctx->drives[i]->uri, uri)) {
			atomic_fetch_add(&ctx->drives[i]->refs, 1);
			return ctx->drives[i];
		}
	}
	return NULL;
}

static int drive_open_new(ax_drive **out, ax_ctx *ctx, const char *uri,
			  const ax_drive_options *opts)
{
	ax_link_options lopts = AX_LINK_OPTIONS_INIT;
	ax_drive *d;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d)
		return ax__error_oom();
	atomic_init(&d->refs, 1);
	d->ctx = ctx;
	d->match = AX_MATCH_NONE;
	d->uri = strdup(uri);
	if (!d->uri) {
		err = ax__error_oom();
		goto fail;
	}
	lopts.timeout_ms = opts->timeout_ms;
	err = ax_link_open(&d->link, ctx, uri, &lopts);
	if (err < 0)
		goto fail;
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
		err = drive_dict_from_file(d, opts->dictionary, AX_ADDR_MCB);
		if (err == 0 && d->identity.known) {
			err = drive_check_identity(d, opts->dictionary, opts->flags);
		} else if (err == 0) {
			d->match = AX_MATCH_FILE;
		}
	} else {
		err = ax_ctx_resolve(ctx, d->identity.vendor_id, d->identity.product_code,
				     d->identity.revision, &d->dict, &d->match, &d->reason);
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
static int drive_open_at(ax_drive **out, ax_ctx *ctx, const char *uri,
			 const ax_drive_options *opts)
{
	ax_drive *d, *other, **grown;
	int err;

	pthread_mutex_lock(&ctx->drives_lock);
	d = drive_find_open(ctx, uri);
	pthread_mutex_unlock(&ctx->drives_lock);
	if (d) {
		*out = d;
		return 0;
	}

	/* Open without the lock: it talks to the drive, which may take a timeout. */
	err = drive_open_new(&d, ctx, uri, opts);
	if (err < 0)
		return err;

	pthread_mutex_lock(&ctx->drives_lock);
	other = drive_find_open(ctx, uri); /* another thread may have won the race */
	if (!other) {
		grown = realloc(ctx->drives, (ctx->n_drives + 1) * sizeof(*grown));
		if (grown) {
			ctx->drives = grown;
			ctx->drives[ctx->n_drives++] = d;
		}
	}
	pthread_mutex_unlock(&ctx->drives_lock);
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
	pthread_mutex_lock(&ctx->drives_lock);
	last = atomic_fetch_sub(&drive->refs, 1) == 1;
	if (last) {
		for (size_t i = 0; i < ctx->n_drives; i++) {
			if (ctx->drives[i] == drive) {
				ctx->drives[i] = ctx->drives[--ctx->n_drives];
				break;
			}
		}
	}
	pthread_mutex_unlock(&ctx->drives_lock);
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
		return ax__error_set(AX_ENOTFOUND,
				     "register '%s': no dictionary for the drive at '%s' (%s); import "
				     "one with 'axlink db import' or name a file",
				     id, drive->uri, ax_drive_match_reason(drive));
	return ax_dict_find(drive->dict, id, subnode, out);
}

static uint64_t le_get(const uint8_t *b, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = (v << 8) | b[i];
	return v;
}

static void le_put(uint8_t *b, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		b[i] = (uint8_t)v;
}

/* A register's value as a double (exact for every integer type up to 2^53). */
static int drive_read_number(ax_drive *drive, const char *id, int subnode, int64_t *i_out,
			     double *f_out, int *is_float)
{
	uint8_t buf[AX_VALUE_MAX + 1];
	const ax_reg *reg;
	size_t len, size;
	uint64_t raw;
	int err, dtype;

	err = ax_drive_find(drive, id, subnode, &reg);
	if (err < 0)
		return err;
	dtype = ax_reg_dtype(reg);
	size = ax_dtype_size(dtype);
	if (!size)
		return ax__error_set(AX_ETYPE, "register '%s' is a %s, not a number", id,
				     ax_dtype_name(dtype));
	err = ax_link_read_reg(drive->link, reg, buf, sizeof(buf), &len);
	if (err < 0)
		return err;
	raw = le_get(buf, size);
	*is_float = dtype == AX_DTYPE_FLOAT;
	switch (dtype) {
	case AX_DTYPE_FLOAT: {
		uint32_t bits = (uint32_t)raw;
		float f;

		memcpy(&f, &bits, sizeof(f));
		*f_out = f;
		return 0;
	}
	case AX_DTYPE_S8:
		*i_out = (int8_t)raw;
		break;
	case AX_DTYPE_S16:
		*i_out = (int16_t)raw;
		break;
	case AX_DTYPE_S32:
		*i_out = (int32_t)raw;
		break;
	case AX_DTYPE_S64:
		*i_out = (int64_t)raw;
		break;
	case AX_DTYPE_U64:
		if (raw > INT64_MAX)
			return ax__error_set(AX_ERANGE, "register '%s' holds %llu, beyond int64",
					     id, (unsigned long long)raw);
		*i_out = (int64_t)raw;
		break;
	default: /* u8, u16, u32, bool */
		*i_out = (int64_t)raw;
		break;
	}
	*f_out = (double)*i_out;
	return 0;
}

int ax_drive_read_i64(ax_drive *drive, const char *id, int subnode, int64_t *out)
{
	int64_t i = 0;
	double f = 0;
	int is_float = 0, err;

	AX_ASSERT_ARG(out);
	err = drive_read_number(drive, id, subnode, &i, &f, &is_float);
	if (err < 0)
		return err;
	if (is_float) {
		if (!isfinite(f) || f < -9.2e18 || f > 9.2e18)
			return ax__error_set(AX_ERANGE, "register '%s' holds %g, not an int64", id,
					     f);
		i = llround(f);
	}
	*out = i;
	return 0;
}

int ax_drive_read_f64(ax_drive *drive, const char *id, int subnode, double *out)
{
	int64_t i = 0;
	double f = 0;
	int is_float = 0, err;

	AX_ASSERT_ARG(out);
	err = drive_read_number(drive, id, subnode, &i, &f, &is_float);
	if (err < 0)
		return err;
	*out = f;
	return 0;
}

/* Encode @v for @reg's integer type, refusing what does not fit. */
static int drive_encode_int(const ax_reg *reg, int64_t v, uint8_t *buf, size_t *len_out)
{
	int dtype = ax_reg_dtype(reg);
	size_t size = ax_dtype_size(dtype);
	int64_t lo = 0, hi = INT64_MAX;

	switch (dtype) {
	case AX_DTYPE_U8: hi = UINT8_MAX; break;
	case AX_DTYPE_S8: lo = INT8_MIN; hi = INT8_MAX; break;
	case AX_DTYPE_U16: hi = UINT16_MAX; break;
	case AX_DTYPE_S16: lo = INT16_MIN; hi = INT16_MAX; break;
	case AX_DTYPE_U32: hi = UINT32_MAX; break;
	case AX_DTYPE_S32: lo = INT32_MIN; hi = INT32_MAX; break;
	case AX_DTYPE_S64: lo = INT64_MIN; break;
	case AX_DTYPE_U64: break;
	case AX_DTYPE_BOOL: hi = 1; break;
	default:
		return ax__error_set(AX_ETYPE, "register '%s' is a %s, not an integer",
				     ax_reg_id(reg), ax_dtype_name(dtype));
	}
	if (v < lo || v > hi)
		return ax__error_set(AX_ERANGE, "%lld does not fit register '%s' (%s)",
				     (long long)v, ax_reg_id(reg), ax_dtype_name(dtype));
	le_put(buf, (uint64_t)v, size);
	*len_out = size;
	return 0;
}

int ax_drive_write_i64(ax_drive *drive, const char *id, int subnode, int64_t value)
{
	const ax_reg *reg;
	uint8_t buf[8];
	size_t len = 0;
	int err = ax_drive_find(drive, id, subnode, &reg);

	if (err < 0)
		return err;
	if (ax_reg_dtype(reg) == AX_DTYPE_FLOAT)
		return ax_drive_write_f64(drive, id, subnode, (double)value);
	err = drive_encode_int(reg, value, buf, &len);
	if (err < 0)
		return err;
	return ax_link_write_reg(drive->link, reg, buf, len);
}

int ax_drive_write_f64(ax_drive *drive, const char *id, int subnode, double value)
{
	const ax_reg *reg;
	uint8_t buf[8];
	size_t len;
	int err = ax_drive_find(drive, id, subnode, &reg);

	if (err < 0)
		return err;
	/* The value module's rule, the one text and Python values follow too. */
	err = ax_value_from_f64(ax_reg_dtype(reg), value, 0, buf, sizeof(buf), &len);
	if (err < 0) {
		ax__error_prefix("register '%s'", ax_reg_id(reg));
		return err;
	}
	return ax_link_write_reg(drive->link, reg, buf, len);
}
