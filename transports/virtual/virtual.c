/* SPDX-License-Identifier: MIT */
/*
 * The `virtual` transport: simulated drives inside the process.
 *
 * Built like any third-party plugin: it sees only axlink/plugin.h and calls
 * the core through the host table. Each open creates its own simulated
 * drive, and every request still travels as MCB frames (encoded, handled,
 * decoded and checked with the core's codec), so code tested against
 * `virtual:` runs the same frame path as a real bus.
 */
#include <stdio.h>
#include <string.h>

#include "axlink/plugin.h"
#include "simdrive.h"

struct ax_transport_priv {
	const ax_host *host;
	simdrive *drive;
};

/* Longest "known:" list in the unknown-model message. */
#define MODEL_LIST_MAX 256

static const ax_option_desc virtual_options[] = {
        {"model", AX_OPT_STRING, "axs-100",
         "simulated model (devices/): axs-100 (1 axis), axs-200 (2 axes), axs-900 (8 axes)"},
        {"serial", AX_OPT_INT, "1000", "serial number the drive reports (0..4294967295)"},
        {"fault", AX_OPT_BOOL, "0", "1: every axis starts in the fault state"},
        {"firmware", AX_OPT_STRING, NULL,
         "firmware version text the drive reports instead of the model's (percent-encoded)"},
        {"quirk", AX_OPT_STRING, NULL,
         "behaviours of real drives to copy, comma-separated: skip-switched-on (switch on "
         "0x07 leaves ready to switch on as it is; 0x0F goes straight to operation "
         "enabled)"},
        {NULL, 0, NULL, NULL},
};

static void model_list(char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const simdrive_model *m = simdrive_models(); m->name; m++) {
		int n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", m->name);

		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}

static void quirk_list(char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const simdrive_quirk *q = simdrive_quirks(); q->name; q++) {
		int n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", q->name);

		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}

/* The `quirk` key: comma-separated names, or an error naming the one that is unknown. */
static int quirks_of(const ax_host *host, const ax_uri *uri, unsigned *out)
{
	const char *text = host->uri_str(host, uri, "quirk");
	char bad[64], known[MODEL_LIST_MAX];

	*out = 0;
	if (!text || simdrive_quirks_parse(text, out, bad, sizeof(bad)) == 0)
		return 0;
	quirk_list(known, sizeof(known));
	return host->error(host, AX_EINVAL, "quirk '%s': unknown quirk (known: %s)", bad, known);
}

static int virtual_open(ax_transport_priv **out, const ax_host *host, const ax_uri *uri,
                        int timeout_ms)
{
	const simdrive_model *m;
	simdrive_codec codec;
	ax_transport_priv *priv;
	const char *model, *firmware;
	long long serial = 0, fault = 0;
	unsigned quirks = 0;
	int err;

	(void)timeout_ms; /* nothing here blocks */
	model = host->uri_str(host, uri, "model");
	if (!model)
		model = "axs-100";
	m = simdrive_model_find(model);
	if (!m) {
		char known[MODEL_LIST_MAX];

		model_list(known, sizeof(known));
		return host->error(host, AX_ENOTFOUND, "unknown model '%s' (known: %s)", model,
		                   known);
	}
	err = host->uri_int(host, uri, "serial", 0, 0xFFFFFFFFll, &serial);
	if (err < 0)
		return err;
	err = host->uri_int(host, uri, "fault", 0, 1, &fault);
	if (err < 0)
		return err;
	err = quirks_of(host, uri, &quirks);
	if (err < 0)
		return err;

	priv = host->calloc(1, sizeof(*priv));
	if (!priv)
		return host->error(host, AX_ENOMEM, "out of memory");
	priv->host = host;
	codec.encode = host->mcb_encode;
	codec.decode = host->mcb_decode;
	if (simdrive_new(&priv->drive, &codec, m->name, (uint32_t)serial) < 0) {
		host->free(priv);
		return host->error(host, AX_ENOMEM, "out of memory creating a '%s' drive", m->name);
	}
	(void)simdrive_set_quirks(priv->drive, quirks);
	if (fault)
		(void)simdrive_fault(priv->drive, 0, SIMDRIVE_FAULT_UNDERVOLTAGE);
	firmware = host->uri_str(host, uri, "firmware");
	if (firmware)
		(void)simdrive_set_firmware(priv->drive, firmware);
	if (host->log_enabled(host, AX_LOG_DEBUG))
		host->log(host, AX_LOG_DEBUG, "new %s drive, serial %lld%s%s%s", m->name, serial,
		          fault ? ", in fault" : "", quirks ? ", quirks " : "",
		          quirks ? host->uri_str(host, uri, "quirk") : "");
	*out = priv;
	return 0;
}

static void virtual_close(ax_transport_priv *priv)
{
	if (!priv)
		return;
	simdrive_free(priv->drive);
	priv->host->free(priv);
}

/* Hex of a frame's 14 header bytes, for trace logs. */
static void frame_hex(char *out, size_t cap, const uint8_t *frame, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len && i < AX_MCB_FRAME_SIZE && o + 3 < cap; i++) {
		out[o++] = digits[frame[i] >> 4];
		out[o++] = digits[frame[i] & 0xF];
		out[o++] = ' ';
	}
	out[o ? o - 1 : 0] = '\0';
}

static void trace_frame(const ax_host *host, const char *dir, const uint8_t *frame, size_t len)
{
	char hex[3 * AX_MCB_FRAME_SIZE + 1];

	if (!host->log_enabled(host, AX_LOG_TRACE))
		return;
	frame_hex(hex, sizeof(hex), frame, len);
	if (len > AX_MCB_FRAME_SIZE)
		host->log(host, AX_LOG_TRACE, "%s %s + %zu payload bytes", dir, hex,
		          len - AX_MCB_FRAME_SIZE);
	else
		host->log(host, AX_LOG_TRACE, "%s %s", dir, hex);
}

/*
 * Encode @req, let the drive answer, decode and check the answer into
 * @reply (which points into @rbuf).
 */
static int virtual_transact(ax_transport_priv *priv, const ax_mcb_frame *req, ax_mcb_frame *reply,
                            uint8_t *rbuf, size_t rcap)
{
	const ax_host *host = priv->host;
	uint8_t qbuf[AX_MCB_MAX_FRAME];
	const char *why = NULL;
	size_t qlen = 0, rlen;
	int err;

	err = host->mcb_encode(qbuf, sizeof(qbuf), &qlen, req);
	if (err < 0)
		return err;
	trace_frame(host, "tx", qbuf, qlen);
	simdrive_tick(priv->drive, host->now_ns());
	rlen = simdrive_handle(priv->drive, qbuf, qlen, rbuf, rcap, &why);
	if (rlen == 0) /* what a real bus shows for a dropped request */
		return host->error(host, AX_ETIMEDOUT, "no reply from the simulated drive: %s",
		                   why ? why : "request dropped");
	trace_frame(host, "rx", rbuf, rlen);
	err = host->mcb_decode(reply, rbuf, rlen);
	if (err < 0)
		return err;
	return host->mcb_check_answer(reply, rlen, req);
}

static int virtual_read(ax_transport_priv *priv, unsigned subnode, uint32_t address, void *buf,
                        size_t cap, size_t *len_out, int timeout_ms)
{
	const ax_host *host = priv->host;
	uint8_t rbuf[AX_MCB_MAX_FRAME];
	ax_mcb_frame req, reply;
	int err;

	(void)timeout_ms;
	err = host->mcb_request(&req, AX_MCB_READ, subnode, address, NULL, 0);
	if (err < 0)
		return err;
	err = virtual_transact(priv, &req, &reply, rbuf, sizeof(rbuf));
	if (err < 0)
		return err;
	return host->mcb_reply_value(&reply, buf, cap, len_out);
}

static int virtual_write(ax_transport_priv *priv, unsigned subnode, uint32_t address,
                         const void *buf, size_t len, int timeout_ms)
{
	uint8_t rbuf[AX_MCB_MAX_FRAME];
	ax_mcb_frame req, reply;
	int err;

	(void)timeout_ms;
	err = priv->host->mcb_request(&req, AX_MCB_WRITE, subnode, address, buf, len);
	if (err < 0)
		return err;
	return virtual_transact(priv, &req, &reply, rbuf, sizeof(rbuf));
}

static const ax_transport_ops virtual_ops = {
        .size = sizeof(ax_transport_ops),
        .open = virtual_open,
        .close = virtual_close,
        .read = virtual_read,
        .write = virtual_write,
        .cancel = NULL,
};

static const ax_transport_desc virtual_desc = {
        AX_TRANSPORT_DESC_HEADER,
        .scheme = "virtual",
        .name = "Virtual drives",
        .version = "0.1.0",
        .description = "simulated MCB drives inside the process",
        .license = "MIT",
        .caps = 0, /* requests never block, so there is nothing to cancel */
        .addr_space = AX_ADDR_MCB,
        .options = virtual_options,
        .ops = &virtual_ops,
};

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void);

AX_PLUGIN_EXPORT const ax_transport_desc *axlink_transport_entry(void)
{
	return &virtual_desc;
}
