/* SPDX-License-Identifier: MIT */
/*
 * Links: an open endpoint of a transport plugin, with one request in flight
 * at a time, and register access by (subnode, address) with typed helpers.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_TRANSPORT /* errors set here; see src/error.h */

#include <stdlib.h>
#include <string.h>

#include "axlink/link.h"
#include "axlink/scan.h"
#include "axlink/value.h"
#include "ctx.h"
#include "dict.h"
#include "link_priv.h"
#include "uri.h"
#include "value.h"
#include "util.h"

struct ax_link {
	atomic_int refs;
	ax_ctx *ctx; /* holds a reference; the context owns the plugin */
	struct ax_plugin *plugin;
	ax_transport_priv *priv; /* the plugin's endpoint state */
	ax_uri *uri;
	pthread_mutex_t lock;     /* one request in flight: held around every plugin op */
	atomic_int timeout_ms;    /* 0 = transport default */
	pthread_mutex_t tag_lock; /* guards tag; may be taken under lock, never lock under it */
	const void *tag;          /* tag of the request in the plugin, or NULL (link_priv.h) */
	pthread_mutex_t exchange; /* a multi-request exchange (link_priv.h); taken before lock */
};

/* The tag of the requests this thread makes (src/link_priv.h). */
static _Thread_local const void *link_thread_tag;

static void link_destroy(ax_link *link)
{
	if (link->priv)
		link->plugin->ops.close(link->priv);
	ax_uri_free(link->uri);
	pthread_mutex_destroy(&link->lock);
	pthread_mutex_destroy(&link->tag_lock);
	pthread_mutex_destroy(&link->exchange);
	ax_ctx_unref(link->ctx);
	free(link);
}

int ax_link_open(ax_link **out, ax_ctx *ctx, const char *uri, const ax_link_options *opts)
{
	static const ax_link_options defaults = AX_LINK_OPTIONS_INIT;
	ax_link *link;
	int err;

	AX_ASSERT_ARG(out);
	AX_ASSERT_ARG(ctx);
	AX_ASSERT_ARG(uri);
	AX_CHECK_VERSION(opts, AX_LINK_OPTIONS_VERSION, "ax_link_options");
	if (!opts)
		opts = &defaults;
	if (opts->timeout_ms < 0)
		return ax__error_set(AX_EINVAL, "ax_link_options.timeout_ms %d is negative",
		                     opts->timeout_ms);

	link = calloc(1, sizeof(*link));
	if (!link)
		return ax__error_oom();
	atomic_init(&link->refs, 1);
	pthread_mutex_init(&link->lock, NULL);
	pthread_mutex_init(&link->tag_lock, NULL);
	pthread_mutex_init(&link->exchange, NULL);
	link->ctx = ax_ctx_ref(ctx);
	atomic_init(&link->timeout_ms, opts->timeout_ms ? opts->timeout_ms : ctx->timeout_ms);

	err = ax_uri_parse(&link->uri, uri);
	if (err < 0)
		goto fail;
	err = ax__ctx_find_plugin(ctx, link->uri->scheme, &link->plugin);
	if (err < 0)
		goto fail;
	err = ax__uri_check_keys(link->uri, link->plugin->desc.scheme, link->plugin->desc.options);
	if (err < 0)
		goto fail;
	err = link->plugin->ops.open(&link->priv, &link->plugin->host, link->uri,
	                             atomic_load(&link->timeout_ms));
	if (err < 0) {
		link->priv = NULL;
		goto fail;
	}
	if (!link->priv) {
		err = ax__error_set(AX_ERROR, "transport '%s' opened '%s' without endpoint state",
		                    link->plugin->desc.scheme, uri);
		goto fail;
	}
	AX_LOG_DEBUG(ctx, link->plugin->desc.scheme, "opened '%s'", uri);
	*out = link;
	return 0;

fail:
	link_destroy(link);
	return err;
}

ax_link *ax_link_ref(ax_link *link)
{
	if (link)
		atomic_fetch_add(&link->refs, 1);
	return link;
}

ax_link *ax_link_unref(ax_link *link)
{
	if (link && atomic_fetch_sub(&link->refs, 1) == 1)
		link_destroy(link);
	return NULL;
}

const char *ax_link_uri(const ax_link *link)
{
	return link ? link->uri->text : NULL;
}

const char *ax_link_scheme(const ax_link *link)
{
	return link ? link->plugin->desc.scheme : NULL;
}

int ax_link_addr_space(const ax_link *link)
{
	return link ? (int)link->plugin->desc.addr_space : 0;
}

ax_ctx *ax_link_ctx(const ax_link *link)
{
	return link ? link->ctx : NULL;
}

int ax_link_set_timeout(ax_link *link, int timeout_ms)
{
	AX_ASSERT_ARG(link);
	if (timeout_ms <= 0)
		return ax__error_set(AX_EINVAL, "timeout %d ms: must be > 0", timeout_ms);
	atomic_store(&link->timeout_ms, timeout_ms);
	return 0;
}

int ax_link_get_timeout(const ax_link *link)
{
	return link ? atomic_load(&((ax_link *)link)->timeout_ms) : 0;
}

int ax_link_cancel(ax_link *link)
{
	AX_ASSERT_ARG(link);
	if (!link->plugin->ops.cancel)
		return ax__error_set(AX_EUNSUPPORTED, "transport '%s' cannot cancel a request",
		                     link->plugin->desc.scheme);
	/* Not under link->lock: the request being cancelled holds it. */
	return link->plugin->ops.cancel(link->priv);
}

const void *ax__link_tag_set(const void *tag)
{
	const void *old = link_thread_tag;

	link_thread_tag = tag;
	return old;
}

int ax__link_cancel_tagged(ax_link *link, const void *tag)
{
	int err = 0;

	assert(tag);
	if (!link->plugin->ops.cancel)
		return 0; /* its requests end at their deadline; nothing to signal */
	/* The request clears its tag under tag_lock before it ends: no stray cancel. */
	ax__lock(&link->tag_lock);
	if (link->tag == tag) {
		err = link->plugin->ops.cancel(link->priv);
		if (err == 0)
			err = 1;
	}
	ax__unlock(&link->tag_lock);
	return err;
}

/* Mark the request about to enter the plugin with this thread's tag; with link->lock held. */
static void link_tag_begin(ax_link *link)
{
	if (!link_thread_tag)
		return;
	ax__lock(&link->tag_lock);
	link->tag = link_thread_tag;
	ax__unlock(&link->tag_lock);
}

static void link_tag_end(ax_link *link)
{
	if (!link_thread_tag)
		return;
	ax__lock(&link->tag_lock);
	link->tag = NULL;
	ax__unlock(&link->tag_lock);
}

static int check_register(const ax_link *link, unsigned subnode, uint32_t address)
{
	if (link->plugin->desc.addr_space == AX_ADDR_MCB &&
	    (subnode > AX_MCB_MAX_SUBNODE || address > AX_MCB_MAX_ADDRESS))
		return ax__error_set(AX_EINVAL,
		                     "register 0x%X on subnode %u is outside the MCB range "
		                     "(subnode 0..%u, address 0..0x%X)",
		                     (unsigned)address, subnode, AX_MCB_MAX_SUBNODE,
		                     AX_MCB_MAX_ADDRESS);
	return 0;
}

/*
 * A drive's error reply, or a reply too big for the buffer, is worded by the
 * codec, which does not know which drive it came from: name the endpoint so
 * a message from a machine with sixteen drives says which one it was.
 */
static int link_failed(const ax_link *link, int err)
{
	if (err == AX_EDRIVE || err == AX_ETOOBIG)
		ax__error_prefix("%s", link->uri->text);
	return err;
}

int ax_link_read(ax_link *link, unsigned subnode, uint32_t address, void *buf, size_t cap,
                 size_t *len_out)
{
	size_t len = 0;
	int err;

	AX_ASSERT_ARG(link);
	AX_ASSERT_ARG(buf);
	AX_ASSERT_ARG(len_out);
	err = check_register(link, subnode, address);
	if (err < 0)
		return err;
	ax__lock(&link->lock);
	link_tag_begin(link);
	err = link->plugin->ops.read(link->priv, subnode, address, buf, cap, &len,
	                             atomic_load(&link->timeout_ms));
	link_tag_end(link);
	ax__unlock(&link->lock);
	if (err < 0)
		return link_failed(link, err);
	if (len > cap)
		return ax__error_set(AX_ETOOBIG, "transport '%s' returned %zu bytes into %zu",
		                     link->plugin->desc.scheme, len, cap);
	AX_LOG_TRACE(link->ctx, link->plugin->desc.scheme, "read %u:0x%03X -> %zu byte(s)", subnode,
	             (unsigned)address, len);
	*len_out = len;
	return 0;
}

int ax__link_can_split(const ax_link *link)
{
	/* The loader keeps all four or none (src/loader.c). */
	return link->plugin->ops.submit_read != NULL;
}

int ax__link_submit_read(ax_link *link, unsigned subnode, uint32_t address)
{
	int err;

	err = check_register(link, subnode, address);
	if (err < 0)
		return err;
	if (pthread_mutex_trylock(&link->lock) != 0)
		return 1;
	ax__log_hold(); /* as ax__lock(): log lines wait until the lock is released */
	err = link->plugin->ops.submit_read(link->priv, subnode, address,
	                                    atomic_load(&link->timeout_ms));
	if (err < 0) {
		ax__unlock(&link->lock);
		return link_failed(link, err);
	}
	return 0;
}

int ax__link_pollfd(ax_link *link, uint64_t *wake_ns)
{
	return link->plugin->ops.pollfd(link->priv, wake_ns);
}

int ax__link_complete_read(ax_link *link, void *buf, size_t cap, size_t *len_out)
{
	size_t len = 0;
	int err;

	err = link->plugin->ops.complete_read(link->priv, buf, cap, &len);
	if (err == AX_PLUGIN_PENDING)
		return err;
	ax__unlock(&link->lock);
	if (err < 0)
		return link_failed(link, err);
	if (err > 0 || len > cap)
		return ax__error_set(AX_ETOOBIG, "transport '%s' returned %zu bytes into %zu",
		                     link->plugin->desc.scheme, len, cap);
	*len_out = len;
	return 0;
}

void ax__link_abandon(ax_link *link)
{
	link->plugin->ops.abandon(link->priv);
	ax__unlock(&link->lock);
}

int ax_link_write(ax_link *link, unsigned subnode, uint32_t address, const void *buf, size_t len)
{
	int err;

	AX_ASSERT_ARG(link);
	AX_ASSERT_ARG(buf || len == 0);
	err = check_register(link, subnode, address);
	if (err < 0)
		return err;
	if (len > AX_VALUE_MAX)
		return ax__error_set(AX_ETOOBIG, "value of %zu bytes exceeds the %d-byte limit",
		                     len, AX_VALUE_MAX);
	ax__lock(&link->lock);
	link_tag_begin(link);
	err = link->plugin->ops.write(link->priv, subnode, address, buf, len,
	                              atomic_load(&link->timeout_ms));
	link_tag_end(link);
	ax__unlock(&link->lock);
	if (err < 0)
		return link_failed(link, err);
	AX_LOG_TRACE(link->ctx, link->plugin->desc.scheme, "wrote %u:0x%03X <- %zu byte(s)",
	             subnode, (unsigned)address, len);
	return 0;
}

int ax__link_value_shape(unsigned subnode, uint32_t address, int dtype, uint8_t *raw, size_t len,
                         void *buf, size_t cap, size_t *len_out)
{
	size_t size = ax_dtype_size(dtype);

	if (size) {
		/*
		 * A number comes in a plain frame's 8 value bytes, or a payload of
		 * at most 8: more is the answer for something else (a byte array),
		 * not a number to take the first bytes of.
		 */
		if (len < size || len > 8)
			return ax__error_set(
			        AX_ETYPE,
			        "register 0x%03X (subnode %u) returned %zu byte(s), a %s "
			        "needs %zu",
			        (unsigned)address, subnode, len, ax_dtype_name(dtype), size);
		if (cap < size)
			return ax__error_set(AX_ETOOBIG, "a %s needs %zu bytes, buffer has %zu",
			                     ax_dtype_name(dtype), size, cap);
		memmove(buf, raw, size);
		*len_out = size;
		return 0;
	}
	if (dtype == AX_DTYPE_STR) {
		raw[len] = '\0';
		len = strlen((const char *)raw);
		if (cap < len + 1)
			return ax__error_set(AX_ETOOBIG, "string of %zu bytes does not fit %zu",
			                     len, cap);
		memmove(buf, raw, len + 1);
		*len_out = len;
		return 0;
	}
	if (cap < len)
		return ax__error_set(AX_ETOOBIG, "%zu bytes do not fit %zu", len, cap);
	memmove(buf, raw, len);
	*len_out = len;
	return 0;
}

int ax_link_read_value(ax_link *link, unsigned subnode, uint32_t address, int dtype, void *buf,
                       size_t cap, size_t *len_out)
{
	uint8_t raw[AX_VALUE_MAX + 1];
	size_t len = 0;
	int err;

	AX_ASSERT_ARG(buf);
	AX_ASSERT_ARG(len_out);
	if (!ax_dtype_name(dtype))
		return ax__error_set(AX_EINVAL, "unknown data type %d", dtype);
	err = ax_link_read(link, subnode, address, raw, sizeof(raw) - 1, &len);
	if (err < 0)
		return err;
	return ax__link_value_shape(subnode, address, dtype, raw, len, buf, cap, len_out);
}

static int read_int(ax_link *link, unsigned subnode, uint32_t address, int dtype, uint64_t *out)
{
	uint8_t b[8];
	size_t len;
	int err = ax_link_read_value(link, subnode, address, dtype, b, sizeof(b), &len);

	if (err < 0)
		return err;
	*out = ax__le_get(b, len);
	return 0;
}

static int write_int(ax_link *link, unsigned subnode, uint32_t address, uint64_t v, size_t n)
{
	uint8_t b[8];

	ax__le_put(b, v, n);
	return ax_link_write(link, subnode, address, b, n);
}

/* One typed read/write pair per integer type; sign comes back through the cast. */
#define AX__TYPED_INT(suffix, ctype, dtype)                                                        \
	int ax_link_read_##suffix(ax_link *link, unsigned subnode, uint32_t address, ctype *out)   \
	{                                                                                          \
		uint64_t v;                                                                        \
		int err;                                                                           \
		AX_ASSERT_ARG(out);                                                                \
		err = read_int(link, subnode, address, dtype, &v);                                 \
		if (err < 0)                                                                       \
			return err;                                                                \
		*out = (ctype)v;                                                                   \
		return 0;                                                                          \
	}                                                                                          \
	int ax_link_write_##suffix(ax_link *link, unsigned subnode, uint32_t address, ctype value) \
	{                                                                                          \
		return write_int(link, subnode, address, (uint64_t)value, sizeof(ctype));          \
	}

AX__TYPED_INT(u8, uint8_t, AX_DTYPE_U8)
AX__TYPED_INT(s8, int8_t, AX_DTYPE_S8)
AX__TYPED_INT(u16, uint16_t, AX_DTYPE_U16)
AX__TYPED_INT(s16, int16_t, AX_DTYPE_S16)
AX__TYPED_INT(u32, uint32_t, AX_DTYPE_U32)
AX__TYPED_INT(s32, int32_t, AX_DTYPE_S32)
AX__TYPED_INT(u64, uint64_t, AX_DTYPE_U64)
AX__TYPED_INT(s64, int64_t, AX_DTYPE_S64)

int ax_link_read_float(ax_link *link, unsigned subnode, uint32_t address, float *out)
{
	uint64_t v;
	uint32_t bits;
	int err;

	AX_ASSERT_ARG(out);
	err = read_int(link, subnode, address, AX_DTYPE_FLOAT, &v);
	if (err < 0)
		return err;
	bits = (uint32_t)v;
	memcpy(out, &bits, sizeof(*out));
	return 0;
}

/* NaN and infinity are refused here; ax_link_write() with the bytes is the explicit way. */
int ax_link_write_float(ax_link *link, unsigned subnode, uint32_t address, float value)
{
	uint8_t b[4];
	uint32_t bits;
	int err;

	memcpy(&bits, &value, sizeof(bits));
	ax__le_put(b, bits, sizeof(b));
	err = ax__value_check(AX_DTYPE_FLOAT, b, sizeof(b), 0);
	if (err < 0) {
		ax__error_prefix("register 0x%03X (subnode %u)", (unsigned)address, subnode);
		return err;
	}
	return ax_link_write(link, subnode, address, b, sizeof(b));
}

int ax_link_read_str(ax_link *link, unsigned subnode, uint32_t address, char **out)
{
	char buf[AX_VALUE_MAX + 1];
	size_t len;
	char *s;
	int err;

	AX_ASSERT_ARG(out);
	err = ax_link_read_value(link, subnode, address, AX_DTYPE_STR, buf, sizeof(buf), &len);
	if (err < 0)
		return err;
	s = malloc(len + 1);
	if (!s)
		return ax__error_oom();
	memcpy(s, buf, len + 1);
	*out = s;
	return 0;
}

int ax_link_write_str(ax_link *link, unsigned subnode, uint32_t address, const char *value)
{
	AX_ASSERT_ARG(value);
	return ax_link_write(link, subnode, address, value, strlen(value));
}

/* ---- registers named by a dictionary ---- */

/*
 * A register the dictionary lists but an MCB frame cannot carry (address
 * past 12 bits, subnode past 4): say which, where and why, before the
 * generic range check of the raw calls would.
 */
static int reg_check_reach(const ax_link *link, const ax_reg *reg)
{
	unsigned subnode = ax_reg_subnode(reg);
	uint32_t address = ax_reg_address(reg);

	if (link->plugin->desc.addr_space != AX_ADDR_MCB)
		return 0;
	if (subnode > AX_MCB_MAX_SUBNODE)
		return ax__error_set(AX_EUNSUPPORTED,
		                     "register '%s' (subnode %u, address 0x%X) is out of reach: "
		                     "an MCB frame carries subnodes 0..%u only",
		                     ax_reg_id(reg), subnode, (unsigned)address,
		                     AX_MCB_MAX_SUBNODE);
	if (address > AX_MCB_MAX_ADDRESS)
		return ax__error_set(AX_EUNSUPPORTED,
		                     "register '%s' (subnode %u, address 0x%X) is out of reach: "
		                     "an MCB frame carries 12-bit addresses 0..0x%X only",
		                     ax_reg_id(reg), subnode, (unsigned)address,
		                     AX_MCB_MAX_ADDRESS);
	return 0;
}

int ax__link_reg_check_read(const ax_link *link, const ax_reg *reg)
{
	int err = reg_check_reach(link, reg);

	if (err < 0)
		return err;
	if (!(ax_reg_access(reg) & AX_REG_READ))
		return ax__error_set(AX_EACCESS, "register '%s' is write-only", ax_reg_id(reg));
	if (!ax_dtype_name(ax_reg_dtype(reg)))
		return ax__error_set(AX_EINVAL, "unknown data type %d", ax_reg_dtype(reg));
	return 0;
}

int ax_link_read_reg(ax_link *link, const ax_reg *reg, void *buf, size_t cap, size_t *len_out)
{
	int err;

	AX_ASSERT_ARG(link);
	AX_ASSERT_ARG(reg);
	err = ax__link_reg_check_read(link, reg);
	if (err < 0)
		return err;
	return ax_link_read_value(link, ax_reg_subnode(reg), ax_reg_address(reg), ax_reg_dtype(reg),
	                          buf, cap, len_out);
}

/*
 * The dictionary's range, when it gives one that parses. A range that does
 * not parse, or is upside down, is the file's mistake: it must not make the
 * register unwritable, so it is not checked.
 */
static int reg_check_value(const ax_reg *reg, const uint8_t *b, size_t len)
{
	int dtype = ax_reg_dtype(reg);
	const char *lo, *hi;
	char *text = NULL;
	int err;

	if (dtype == AX_DTYPE_BOOL && b[0] > 1)
		return ax__error_set(AX_ERANGE, "value %u is not a bool (0 or 1) for '%s'",
		                     (unsigned)b[0], ax_reg_id(reg));
	if (!ax__reg_range_outside(reg, b, len) || !ax_reg_range(reg, &lo, &hi))
		return 0;
	err = ax_value_format(dtype, b, len, &text);
	if (err < 0)
		return err;
	err = ax__error_set(AX_ERANGE, "value %s is outside '%s' range [%s, %s]", text,
	                    ax_reg_id(reg), lo, hi);
	ax_free(text);
	return err;
}

int ax_link_write_reg(ax_link *link, const ax_reg *reg, const void *buf, size_t len)
{
	return ax_link_write_reg_flags(link, reg, buf, len, 0);
}

int ax_link_write_reg_flags(ax_link *link, const ax_reg *reg, const void *buf, size_t len,
                            unsigned int flags)
{
	const char *id;
	size_t size;
	int dtype, err;

	AX_ASSERT_ARG(link);
	AX_ASSERT_ARG(reg);
	AX_ASSERT_ARG(buf);
	if (flags & ~AX_VALUE_ALLOW_NONFINITE)
		return ax__error_set(AX_EINVAL, "unknown write flags 0x%x (known: 0x%x)",
		                     flags & ~AX_VALUE_ALLOW_NONFINITE, AX_VALUE_ALLOW_NONFINITE);
	err = reg_check_reach(link, reg);
	if (err < 0)
		return err;
	id = ax_reg_id(reg);
	dtype = ax_reg_dtype(reg);
	if (!(ax_reg_access(reg) & AX_REG_WRITE))
		return ax__error_set(AX_EACCESS, "register '%s' is read-only", id);
	if (!ax_dtype_name(dtype))
		return ax__error_set(AX_ETYPE, "register '%s' has unknown data type %d", id, dtype);
	size = ax_dtype_size(dtype);
	if (size && len != size)
		return ax__error_set(AX_ETYPE,
		                     "register '%s' is a %s of %zu byte(s), value has %zu", id,
		                     ax_dtype_name(dtype), size, len);
	if (!size && (len == 0 || len > AX_VALUE_MAX))
		return ax__error_set(AX_ETYPE,
		                     "register '%s' is a %s of 1 to %d bytes, value has %zu", id,
		                     ax_dtype_name(dtype), AX_VALUE_MAX, len);
	/* Before the range: NaN is in no range, and the message should say what it is. */
	err = ax__value_check(dtype, buf, len, flags);
	if (err < 0) {
		ax__error_prefix("register '%s'", id);
		return err;
	}
	err = reg_check_value(reg, buf, len);
	if (err < 0)
		return err;
	return ax_link_write(link, ax_reg_subnode(reg), ax_reg_address(reg), buf, len);
}

void ax__link_exchange_begin(ax_link *link)
{
	pthread_mutex_lock(&link->exchange);
}

void ax__link_exchange_end(ax_link *link)
{
	pthread_mutex_unlock(&link->exchange);
}
