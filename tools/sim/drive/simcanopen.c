/* SPDX-License-Identifier: MIT */
/*
 * A simulated drive as a CANopen node: NMT, SDO server, heartbeat and EMCY
 * (CiA 301) over the register space of a simdrive. See simcanopen.h for the
 * services; the protocol facts below are CiA 301's.
 *
 * SDO, byte 0 of a request (client command specifier in bits 5-7):
 *   ccs 1 initiate download  [001. nn e s] index(2) subindex data/size(4)
 *   ccs 0 download segment   [000t nnn c]  7 data bytes, n of them unused
 *   ccs 2 initiate upload    [010. ....]   index(2) subindex
 *   ccs 3 upload segment     [011t ....]
 *   ccs 4 abort              [100. ....]   index(2) subindex code(4)
 * and of a response (server command specifier):
 *   scs 3 [0110 0000] download initiated; scs 1 [001t 0000] segment taken;
 *   scs 2 [010. nn e s] upload initiated (expedited: the data; else the
 *   size); scs 0 [000t nnn c] an upload segment; 4 [1000 0000] abort.
 * The toggle bit t starts at 0 with the first segment of a transfer and
 * alternates; a segment with the wrong one aborts the transfer.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "axlink/value.h"
#include "simcanopen.h"
#include "simmodels.h"

/* Highest node id CiA 301 allows. */
#define NODE_ID_MAX 127u

/* MCB registers the node reads for EMCY (simmodels.h SIMMODEL_BEHAVIOUR). */
#define REG_DIAG_ERROR_LAST 0x00F
#define REG_STATUS 0x011
#define STATUS_FAULT 0x0008u

/* CAN-only objects with a behaviour. */
#define OBJ_ERROR_REGISTER 0x1001
#define OBJ_HEARTBEAT_TIME 0x1017

/* Error register (0x1001) bits. */
#define ERRREG_GENERIC 0x01
#define ERRREG_CURRENT 0x02
#define ERRREG_VOLTAGE 0x04
#define ERRREG_TEMPERATURE 0x08

/* Room for the largest value plus a string's NUL. */
#define VALUE_ROOM (AX_VALUE_MAX + 8)

/* Most axes a simulated model has (an MCB subnode is 4 bits). */
#define MAX_AXES 15

enum sdo_state { SDO_IDLE, SDO_DOWNLOAD, SDO_UPLOAD };

struct simcanopen {
	simdrive *drive;
	const simmodel_table *table;
	unsigned axes;
	unsigned node_id;
	int state; /* SIMCANOPEN_* NMT state */

	/* CAN-only objects (SIMMODEL_CAN_LOCAL): their values, by table index. */
	uint32_t *local;
	unsigned heartbeat_default;
	uint64_t heartbeat_due; /* 0: not scheduled */
	uint64_t poll_due;
	int started; /* polled once: the clock is known */

	/* Faults the node has reported (EMCY), one bit per axis. */
	uint32_t faulted;
	uint8_t error_register;

	/* The SDO transfer under way. */
	enum sdo_state sdo;
	const simmodel_canobj *obj;
	uint8_t buf[VALUE_ROOM];
	size_t len;       /* download: bytes received; upload: bytes to send */
	size_t off;       /* upload: bytes sent */
	size_t size;      /* download: size announced, when sized */
	int sized;        /* download: the client said the size */
	unsigned toggle;  /* the toggle bit the next segment must carry */
	uint64_t sdo_due; /* abort when the client is quiet past this */
};

/* ---- little helpers ------------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Bytes of a value of @dtype; 0 for str and bytes (the simulated drive does not link libaxlink). */
static size_t dtype_size(int dtype)
{
	switch (dtype) {
	case AX_DTYPE_U8:
	case AX_DTYPE_S8:
	case AX_DTYPE_BOOL:
		return 1;
	case AX_DTYPE_U16:
	case AX_DTYPE_S16:
		return 2;
	case AX_DTYPE_U32:
	case AX_DTYPE_S32:
	case AX_DTYPE_FLOAT:
		return 4;
	case AX_DTYPE_U64:
	case AX_DTYPE_S64:
		return 8;
	default:
		return 0;
	}
}

static simcan_frame *frame_to(simcan_frame *f, uint32_t id, size_t len)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->len = (uint8_t)len;
	return f;
}

static size_t sdo_abort(simcanopen *n, simcan_frame *out, unsigned index, unsigned subindex,
                        uint32_t code)
{
	simcan_frame *f = frame_to(out, SIMCANOPEN_COB_SDO_TX + n->node_id, 8);

	f->data[0] = 0x80;
	put_le(f->data + 1, index, 2);
	f->data[3] = (uint8_t)subindex;
	put_le(f->data + 4, code, 4);
	n->sdo = SDO_IDLE;
	n->obj = NULL;
	return 1;
}

/* ---- the object dictionary ----------------------------------------------- */

/*
 * The object at @index:@subindex, or NULL with *code set: no such index, or
 * the index exists without that subindex.
 */
static const simmodel_canobj *obj_find(const simcanopen *n, unsigned index, unsigned subindex,
                                       uint32_t *code)
{
	const simmodel_canobj *t = n->table->can;
	size_t lo = 0, hi = n->table->n_can;
	uint32_t key = (uint32_t)index << 8 | subindex;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (((uint32_t)t[mid].index << 8 | t[mid].subindex) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n->table->n_can && t[lo].index == index && t[lo].subindex == subindex)
		return &t[lo];
	*code = (lo < n->table->n_can && t[lo].index == index) ||
	                        (lo > 0 && t[lo - 1].index == index)
	                ? SIMCANOPEN_ABORT_NO_SUBINDEX
	                : SIMCANOPEN_ABORT_NO_OBJECT;
	return NULL;
}

/* CiA 402 mode code <-> MCB operation mode (devices/gen_xdf.py CAN_OP_MODES). */
static const struct {
	int8_t cia;
	uint16_t mcb;
} mode_codes[] = {
        {-4, 0x04}, {-3, 0x03}, {-2, 0x02}, {-1, 0x00}, {1, 0x14},
        {3, 0x13},  {4, 0x05},  {6, 0x113}, {8, 0x24},
};

static int mode_to_mcb(int8_t cia, uint16_t *mcb)
{
	for (size_t i = 0; i < sizeof(mode_codes) / sizeof(mode_codes[0]); i++)
		if (mode_codes[i].cia == cia) {
			*mcb = mode_codes[i].mcb;
			return 0;
		}
	return -1;
}

/* A drive mode without a CiA 402 code reads 0 ("no mode"), as CiA 402 has it. */
static int8_t mode_to_cia(uint16_t mcb)
{
	for (size_t i = 0; i < sizeof(mode_codes) / sizeof(mode_codes[0]); i++)
		if (mode_codes[i].mcb == mcb)
			return mode_codes[i].cia;
	return 0;
}

static size_t local_index(const simcanopen *n, const simmodel_canobj *o)
{
	return (size_t)(o - n->table->can);
}

/* The value of @o as its bytes on CAN; 0 or an abort code. */
static uint32_t obj_read(simcanopen *n, const simmodel_canobj *o, uint8_t *buf, size_t *len)
{
	uint32_t code = 0;

	if (o->flags & SIMMODEL_CAN_LOCAL) {
		uint32_t v = o->index == OBJ_ERROR_REGISTER ? n->error_register
		                                            : n->local[local_index(n, o)];

		*len = dtype_size(o->dtype);
		put_le(buf, v, *len);
		return 0;
	}
	if (simdrive_read(n->drive, o->subnode, o->address, buf, VALUE_ROOM, len, &code) < 0)
		return code ? code : SIMCANOPEN_ABORT_GENERAL;
	if (o->flags & SIMMODEL_CAN_MODE) {
		buf[0] = (uint8_t)mode_to_cia((uint16_t)get_le(buf, 2));
		*len = 1;
	} else if (o->dtype == AX_DTYPE_STR) {
		/* A VISIBLE_STRING carries no terminator. */
		*len = strnlen((const char *)buf, *len);
	}
	return 0;
}

/* Arm the heartbeat for the period 0x1017 holds now. */
static void heartbeat_arm(simcanopen *n, uint64_t now)
{
	uint32_t ms = 0;
	uint32_t code;
	const simmodel_canobj *o = obj_find(n, OBJ_HEARTBEAT_TIME, 0, &code);

	if (o && (o->flags & SIMMODEL_CAN_LOCAL))
		ms = n->local[local_index(n, o)];
	else if (!o)
		ms = n->heartbeat_default;
	n->heartbeat_due = ms ? now + (uint64_t)ms * 1000000u : 0;
}

/* Write @len bytes of @o; 0 or an abort code. */
static uint32_t obj_write(simcanopen *n, const simmodel_canobj *o, const uint8_t *buf, size_t len,
                          uint64_t now)
{
	size_t size = dtype_size(o->dtype);
	uint32_t code = 0;

	if (o->dtype == AX_DTYPE_STR || o->dtype == AX_DTYPE_BYTES) {
		if (len > AX_VALUE_MAX)
			return SIMCANOPEN_ABORT_LENGTH;
	} else if (len != size) {
		return SIMCANOPEN_ABORT_LENGTH;
	}
	if (o->flags & SIMMODEL_CAN_LOCAL) {
		n->local[local_index(n, o)] = (uint32_t)get_le(buf, len);
		if (o->index == OBJ_HEARTBEAT_TIME)
			heartbeat_arm(n, now);
		return 0;
	}
	if (o->flags & SIMMODEL_CAN_MODE) {
		uint16_t mcb;
		uint8_t v[2];

		if (mode_to_mcb((int8_t)buf[0], &mcb) < 0)
			return SIMCANOPEN_ABORT_RANGE;
		put_le(v, mcb, 2);
		if (simdrive_write(n->drive, o->subnode, o->address, v, sizeof(v), &code) < 0)
			return code ? code : SIMCANOPEN_ABORT_GENERAL;
		return 0;
	}
	simdrive_tick(n->drive, now);
	if (simdrive_write(n->drive, o->subnode, o->address, buf, len, &code) < 0)
		return code ? code : SIMCANOPEN_ABORT_GENERAL;
	return 0;
}

/* ---- SDO server ------------------------------------------------------------ */

static size_t sdo_initiate_upload(simcanopen *n, unsigned index, unsigned subindex, uint64_t now,
                                  simcan_frame *out)
{
	const simmodel_canobj *o;
	simcan_frame *f;
	uint32_t code = 0;
	size_t len = 0;

	o = obj_find(n, index, subindex, &code);
	if (!o)
		return sdo_abort(n, out, index, subindex, code);
	if (!(o->access & SIMMODEL_READ))
		return sdo_abort(n, out, index, subindex, SIMCANOPEN_ABORT_WRITE_ONLY);
	simdrive_tick(n->drive, now);
	code = obj_read(n, o, n->buf, &len);
	if (code)
		return sdo_abort(n, out, index, subindex, code);

	f = frame_to(out, SIMCANOPEN_COB_SDO_TX + n->node_id, 8);
	put_le(f->data + 1, index, 2);
	f->data[3] = (uint8_t)subindex;
	if (len >= 1 && len <= 4) {
		/* Expedited, size indicated: n = bytes of 4-7 that carry nothing. */
		f->data[0] = (uint8_t)(0x43 | (4 - len) << 2);
		memcpy(f->data + 4, n->buf, len);
		n->sdo = SDO_IDLE;
		return 1;
	}
	/* Segmented (an empty string too: one last segment with no data). */
	f->data[0] = 0x41;
	put_le(f->data + 4, len, 4);
	n->sdo = SDO_UPLOAD;
	n->obj = o;
	n->len = len;
	n->off = 0;
	n->toggle = 0;
	n->sdo_due = now + SIMCANOPEN_SDO_TIMEOUT_NS;
	return 1;
}

static size_t sdo_upload_segment(simcanopen *n, const uint8_t *req, uint64_t now, simcan_frame *out)
{
	unsigned t = (req[0] >> 4) & 1;
	size_t k;
	simcan_frame *f;

	if (n->sdo != SDO_UPLOAD)
		return sdo_abort(n, out, n->obj ? n->obj->index : 0, n->obj ? n->obj->subindex : 0,
		                 SIMCANOPEN_ABORT_COMMAND);
	if (t != n->toggle)
		return sdo_abort(n, out, n->obj->index, n->obj->subindex, SIMCANOPEN_ABORT_TOGGLE);
	k = n->len - n->off < 7 ? n->len - n->off : 7;
	f = frame_to(out, SIMCANOPEN_COB_SDO_TX + n->node_id, 8);
	memcpy(f->data + 1, n->buf + n->off, k);
	n->off += k;
	f->data[0] = (uint8_t)(t << 4 | (7 - k) << 1 | (n->off == n->len ? 1 : 0));
	n->toggle ^= 1;
	n->sdo_due = now + SIMCANOPEN_SDO_TIMEOUT_NS;
	if (n->off == n->len) {
		n->sdo = SDO_IDLE;
		n->obj = NULL;
	}
	return 1;
}

static size_t sdo_initiate_download(simcanopen *n, const uint8_t *req, unsigned index,
                                    unsigned subindex, uint64_t now, simcan_frame *out)
{
	const simmodel_canobj *o;
	simcan_frame *f;
	uint32_t code = 0;
	int expedited = (req[0] >> 1) & 1, sized = req[0] & 1;

	o = obj_find(n, index, subindex, &code);
	if (!o)
		return sdo_abort(n, out, index, subindex, code);
	if (!(o->access & SIMMODEL_WRITE))
		return sdo_abort(n, out, index, subindex, SIMCANOPEN_ABORT_READ_ONLY);
	if (expedited) {
		size_t len = sized ? 4 - ((req[0] >> 2) & 3) : 4;

		/* Size not indicated: the object's own size, when it fits in the 4 bytes. */
		if (!sized && o->dtype != AX_DTYPE_STR && o->dtype != AX_DTYPE_BYTES &&
		    dtype_size(o->dtype) <= 4)
			len = dtype_size(o->dtype);
		code = obj_write(n, o, req + 4, len, now);
		if (code)
			return sdo_abort(n, out, index, subindex, code);
		n->sdo = SDO_IDLE;
	} else {
		n->sized = sized;
		n->size = sized ? (size_t)get_le(req + 4, 4) : 0;
		if (sized && n->size > AX_VALUE_MAX)
			return sdo_abort(n, out, index, subindex, SIMCANOPEN_ABORT_LENGTH);
		n->sdo = SDO_DOWNLOAD;
		n->obj = o;
		n->len = 0;
		n->toggle = 0;
		n->sdo_due = now + SIMCANOPEN_SDO_TIMEOUT_NS;
	}
	f = frame_to(out, SIMCANOPEN_COB_SDO_TX + n->node_id, 8);
	f->data[0] = 0x60;
	put_le(f->data + 1, index, 2);
	f->data[3] = (uint8_t)subindex;
	return 1;
}

static size_t sdo_download_segment(simcanopen *n, const uint8_t *req, uint64_t now,
                                   simcan_frame *out)
{
	unsigned t = (req[0] >> 4) & 1, last = req[0] & 1;
	size_t k = 7 - ((req[0] >> 1) & 7);
	const simmodel_canobj *o = n->obj;
	simcan_frame *f;
	uint32_t code;

	if (n->sdo != SDO_DOWNLOAD)
		return sdo_abort(n, out, o ? o->index : 0, o ? o->subindex : 0,
		                 SIMCANOPEN_ABORT_COMMAND);
	if (t != n->toggle)
		return sdo_abort(n, out, o->index, o->subindex, SIMCANOPEN_ABORT_TOGGLE);
	if (n->len + k > AX_VALUE_MAX || (n->sized && n->len + k > n->size))
		return sdo_abort(n, out, o->index, o->subindex, SIMCANOPEN_ABORT_LENGTH);
	memcpy(n->buf + n->len, req + 1, k);
	n->len += k;
	n->toggle ^= 1;
	n->sdo_due = now + SIMCANOPEN_SDO_TIMEOUT_NS;
	if (last) {
		if (n->sized && n->len != n->size)
			return sdo_abort(n, out, o->index, o->subindex, SIMCANOPEN_ABORT_LENGTH);
		code = obj_write(n, o, n->buf, n->len, now);
		if (code)
			return sdo_abort(n, out, o->index, o->subindex, code);
		n->sdo = SDO_IDLE;
		n->obj = NULL;
	}
	f = frame_to(out, SIMCANOPEN_COB_SDO_TX + n->node_id, 8);
	f->data[0] = (uint8_t)(0x20 | t << 4);
	return 1;
}

static size_t sdo_request(simcanopen *n, const simcan_frame *in, uint64_t now, simcan_frame *out)
{
	const uint8_t *req = in->data;
	unsigned index = (unsigned)get_le(req + 1, 2), subindex = req[3];

	/* CiA 301: an SDO request is 8 bytes; anything else is not one. */
	if (in->len != 8 || in->rtr || n->state == SIMCANOPEN_STOPPED)
		return 0;
	switch (req[0] >> 5) {
	case 0:
		return sdo_download_segment(n, req, now, out);
	case 1:
		return sdo_initiate_download(n, req, index, subindex, now, out);
	case 2:
		return sdo_initiate_upload(n, index, subindex, now, out);
	case 3:
		return sdo_upload_segment(n, req, now, out);
	case 4:
		/* The client gave up: no answer. */
		n->sdo = SDO_IDLE;
		n->obj = NULL;
		return 0;
	default:
		/* Block transfer (5, 6) and the rest: not served. */
		return sdo_abort(n, out, index, subindex, SIMCANOPEN_ABORT_COMMAND);
	}
}

/* ---- NMT, heartbeat, EMCY -------------------------------------------------- */

static void locals_reset(simcanopen *n)
{
	for (size_t i = 0; i < n->table->n_can; i++) {
		const simmodel_canobj *o = &n->table->can[i];

		n->local[i] = (o->flags & SIMMODEL_CAN_LOCAL) ? o->def : 0;
		if (o->index == OBJ_HEARTBEAT_TIME && (o->flags & SIMMODEL_CAN_LOCAL))
			n->local[i] = n->heartbeat_default;
	}
}

static size_t nmt_command(simcanopen *n, const simcan_frame *in, uint64_t now, simcan_frame *out)
{
	simcan_frame *f;

	if (in->len < 2 || in->rtr || (in->data[1] != 0 && in->data[1] != n->node_id))
		return 0;
	switch (in->data[0]) {
	case 0x01:
		n->state = SIMCANOPEN_OPERATIONAL;
		return 0;
	case 0x02:
		n->state = SIMCANOPEN_STOPPED;
		n->sdo = SDO_IDLE;
		n->obj = NULL;
		return 0;
	case 0x80:
		n->state = SIMCANOPEN_PRE_OPERATIONAL;
		return 0;
	case 0x81:
	case 0x82:
		if (in->data[0] == 0x81)
			locals_reset(n);
		n->sdo = SDO_IDLE;
		n->obj = NULL;
		n->state = SIMCANOPEN_PRE_OPERATIONAL;
		heartbeat_arm(n, now);
		f = frame_to(out, SIMCANOPEN_COB_HEARTBEAT + n->node_id, 1);
		f->data[0] = SIMCANOPEN_BOOTUP;
		return 1;
	default:
		return 0;
	}
}

size_t simcanopen_receive(simcanopen *n, const simcan_frame *in, uint64_t now_ns, simcan_frame *out)
{
	if (!n || !in || !out || in->ext)
		return 0;
	if (in->id == SIMCANOPEN_COB_NMT)
		return nmt_command(n, in, now_ns, out);
	if (in->id == SIMCANOPEN_COB_SDO_RX + n->node_id)
		return sdo_request(n, in, now_ns, out);
	return 0;
}

/* Error register bits for drive error @code (CiA 301 0x1001). */
static uint8_t error_class(uint32_t code)
{
	switch ((code >> 12) & 0xF) {
	case 2:
		return ERRREG_GENERIC | ERRREG_CURRENT;
	case 3:
		return ERRREG_GENERIC | ERRREG_VOLTAGE;
	case 4:
		return ERRREG_GENERIC | ERRREG_TEMPERATURE;
	default:
		return ERRREG_GENERIC;
	}
}

/* Look at every axis; EMCY frames for what changed (at most @room). */
static size_t emcy_poll(simcanopen *n, simcan_frame *out, size_t room)
{
	size_t k = 0;

	for (unsigned axis = 1; axis <= n->axes && k < room; axis++) {
		uint8_t buf[8];
		size_t len = 0;
		uint32_t code = 0, bit = 1u << axis;
		int fault;

		if (simdrive_read(n->drive, axis, REG_STATUS, buf, sizeof(buf), &len, &code) < 0)
			continue;
		fault = (get_le(buf, 2) & STATUS_FAULT) != 0;
		if (fault == ((n->faulted & bit) != 0))
			continue;
		if (fault) {
			simcan_frame *f;
			uint32_t drive_code = 0;

			if (simdrive_read(n->drive, axis, REG_DIAG_ERROR_LAST, buf, sizeof(buf),
			                  &len, &code) == 0)
				drive_code = (uint32_t)get_le(buf, 4);
			n->faulted |= bit;
			n->error_register |= error_class(drive_code);
			f = frame_to(&out[k++], SIMCANOPEN_COB_EMCY + n->node_id, 8);
			put_le(f->data, drive_code & 0xFFFF, 2);
			f->data[2] = n->error_register;
			f->data[3] = (uint8_t)axis;
			put_le(f->data + 4, drive_code, 4);
		} else {
			n->faulted &= ~bit;
			if (!n->faulted) {
				/* Error reset: the node is free of errors again. */
				n->error_register = 0;
				frame_to(&out[k++], SIMCANOPEN_COB_EMCY + n->node_id, 8);
			}
		}
	}
	return k;
}

size_t simcanopen_poll(simcanopen *n, uint64_t now_ns, simcan_frame *out)
{
	size_t k = 0;

	if (!n || !out)
		return 0;
	simdrive_tick(n->drive, now_ns);
	if (!n->started) {
		n->started = 1;
		heartbeat_arm(n, now_ns);
	}
	if (n->sdo != SDO_IDLE && now_ns >= n->sdo_due && n->obj)
		k += sdo_abort(n, &out[k], n->obj->index, n->obj->subindex,
		               SIMCANOPEN_ABORT_TIMEOUT);
	if (n->heartbeat_due && now_ns >= n->heartbeat_due) {
		simcan_frame *f = frame_to(&out[k++], SIMCANOPEN_COB_HEARTBEAT + n->node_id, 1);

		f->data[0] = (uint8_t)n->state;
		/* The next one a period after this one was due: no drift. */
		heartbeat_arm(n, n->heartbeat_due);
		if (n->heartbeat_due && n->heartbeat_due <= now_ns)
			heartbeat_arm(n, now_ns); /* far behind (a stalled loop): start over */
	}
	if (now_ns >= n->poll_due) {
		n->poll_due = now_ns + SIMCANOPEN_POLL_NS;
		if (n->state != SIMCANOPEN_STOPPED)
			k += emcy_poll(n, &out[k], SIMCANOPEN_MAX_OUT - k);
	}
	return k;
}

uint64_t simcanopen_next_due(const simcanopen *n)
{
	uint64_t due = n->poll_due;

	if (!n->started)
		return 0;

	if (n->heartbeat_due && n->heartbeat_due < due)
		due = n->heartbeat_due;
	if (n->sdo != SDO_IDLE && n->sdo_due < due)
		due = n->sdo_due;
	return due;
}

/* ---- life cycle ------------------------------------------------------------ */

int simcanopen_new(simcanopen **out, simdrive *drive, const char *model, unsigned node_id,
                   unsigned heartbeat_ms, const char **err)
{
	const simdrive_model *m = model ? simdrive_model_find(model) : &simmodel_models[0];
	const simmodel_table *t;
	simcanopen *n;
	const char *why = NULL;

	if (!out || !drive)
		why = "no drive";
	else if (node_id < 1 || node_id > NODE_ID_MAX)
		why = "node id out of range 1..127";
	else if (!m)
		why = "unknown model";
	else if (heartbeat_ms > 0xFFFF)
		why = "heartbeat period past 65535 ms";
	if (why) {
		if (err)
			*err = why;
		return -1;
	}
	t = &simmodel_tables[m - simmodel_models];
	if (!t->can || !t->n_can || m->axes > MAX_AXES) {
		if (err)
			*err = "the model's dictionary has no CAN interface";
		return -1;
	}
	n = calloc(1, sizeof(*n));
	if (n)
		n->local = calloc(t->n_can, sizeof(*n->local));
	if (!n || !n->local) {
		if (n)
			free(n);
		if (err)
			*err = "out of memory";
		return -1;
	}
	n->drive = drive;
	n->table = t;
	n->axes = m->axes;
	n->node_id = node_id;
	n->heartbeat_default = heartbeat_ms;
	n->state = SIMCANOPEN_PRE_OPERATIONAL;
	locals_reset(n);
	*out = n;
	return 0;
}

void simcanopen_free(simcanopen *n)
{
	if (!n)
		return;
	free(n->local);
	free(n);
}

unsigned simcanopen_node_id(const simcanopen *n)
{
	return n->node_id;
}

int simcanopen_state(const simcanopen *n)
{
	return n->state;
}
