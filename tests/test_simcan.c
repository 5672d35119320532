/* SPDX-License-Identifier: MIT */
/*
 * The simulator's CANopen side (issue 25): the CAN interface of every
 * dictionary in devices/, the node of tools/sim/drive/simcanopen.c driven
 * in process (SDO, NMT, heartbeat, EMCY, shared state with MCB), and the
 * real axlink-sim reached through its slcan pty and its socketcand server
 * (127.0.25.1) with raw protocol lines.
 */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "simcanopen.h"
#include "simdrive.h"
#include "simproc.h"

#define NODE 3
#define SERIAL 1234u
#define T0 1000000000ull
#define MS 1000000ull
#define START_MS 10000
#define SCD_ADDR "127.0.25.1"

/* CANopen addresses (index << 8 | subindex) as the dictionaries give them. */
#define AX_CAN(index, sub) ((uint32_t)(index) << 8 | (sub))

static const simdrive_codec codec = {ax_mcb_encode, ax_mcb_decode};

/* ---- the dictionaries' CAN interface ------------------------------------- */

struct can_model {
	const char *file, *name;
	uint32_t product, revision;
	unsigned axes;
};

static const struct can_model can_models[] = {
        {"axs-100.xdf", "axs-100", 0x00010064, 0x00010002, 1},
        {"axs-200.xdf", "axs-200", 0x000100C8, 0x00010001, 2},
        {"axs-900.xdf", "axs-900", 0x00010384, 0x00010000, 8},
};

static const ax_dict *pick(ax_dict **dicts, size_t n, int space)
{
	for (size_t i = 0; i < n; i++)
		if (ax_dict_identity_get(dicts[i])->addr_space == space)
			return dicts[i];
	return NULL;
}

static void expect_reg(const struct can_model *m, const ax_dict *d, const char *id, int subnode,
                       uint32_t address, int dtype)
{
	const ax_reg *r = NULL;

	if (ax_dict_find(d, id, subnode, &r) < 0)
		fail_msg("%s: no %s on subnode %d: %s", m->name, id, subnode, ax_error_last());
	if (ax_reg_address(r) != address || ax_reg_dtype(r) != dtype)
		fail_msg("%s: %s/%d at 0x%06X %s, want 0x%06X %s", m->name, id, subnode,
		         (unsigned)ax_reg_address(r), ax_dtype_name(ax_reg_dtype(r)),
		         (unsigned)address, ax_dtype_name(dtype));
}

/* Every model's CAN interface loads, with the ids of its MCB one at CANopen addresses. */
static void test_simcan__devices_can_interface(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(can_models) / sizeof(can_models[0]); i++) {
		const struct can_model *m = &can_models[i];
		char path[512];
		ax_dict **dicts = NULL;
		size_t n = 0, missing = 0;
		const ax_dict *can, *eth;
		const ax_dict_identity *id;
		const ax_reg *r = NULL;
		const char *label = NULL;
		int64_t v = 0;
		int found = 0;

		(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_DEVICES_DIR, m->file);
		if (ax_dict_load_file(&dicts, &n, path, NULL) < 0)
			fail_msg("%s: %s", path, ax_error_last());
		can = pick(dicts, n, AX_ADDR_CANOPEN);
		eth = pick(dicts, n, AX_ADDR_MCB);
		assert_non_null(can);
		assert_non_null(eth);
		id = ax_dict_identity_get(can);
		assert_string_equal(id->interface, "CAN");
		assert_int_equal(id->vendor_id, SIMDRIVE_VENDOR_ID);
		assert_int_equal(id->product_code, m->product);
		assert_int_equal(id->revision, m->revision);
		assert_int_equal(id->axes, m->axes);

		/* CiA 301 communication objects. */
		expect_reg(m, can, "COMMS_CAN_DEVICE_TYPE", 0, AX_CAN(0x1000, 0), AX_DTYPE_U32);
		expect_reg(m, can, "COMMS_CAN_ERROR_REGISTER", 0, AX_CAN(0x1001, 0), AX_DTYPE_U8);
		expect_reg(m, can, "DRV_APP_COCO_VERSION", 0, AX_CAN(0x100A, 0), AX_DTYPE_STR);
		expect_reg(m, can, "DRV_STORE_COCO_ALL", 0, AX_CAN(0x1010, 1), AX_DTYPE_U32);
		expect_reg(m, can, "DRV_RESTORE_COCO_ALL", 0, AX_CAN(0x1011, 1), AX_DTYPE_U32);
		expect_reg(m, can, "COMMS_CAN_HEARTBEAT_TIME", 0, AX_CAN(0x1017, 0), AX_DTYPE_U16);
		expect_reg(m, can, "COMMS_CAN_IDENTITY_ENTRIES", 0, AX_CAN(0x1018, 0), AX_DTYPE_U8);
		expect_reg(m, can, "DRV_ID_VENDOR_ID_COCO", 0, AX_CAN(0x1018, 1), AX_DTYPE_U32);
		expect_reg(m, can, "DRV_ID_PRODUCT_CODE_COCO", 0, AX_CAN(0x1018, 2), AX_DTYPE_U32);
		expect_reg(m, can, "DRV_ID_REVISION_NUMBER_COCO", 0, AX_CAN(0x1018, 3),
		           AX_DTYPE_U32);
		expect_reg(m, can, "DRV_ID_SERIAL_NUMBER_COCO", 0, AX_CAN(0x1018, 4), AX_DTYPE_U32);
		/* Subnode 0's other registers: 0x5800 + the MCB address. */
		expect_reg(m, can, "DRV_AXIS_NUMBER", 0, AX_CAN(0x5800 + 0x0A0, 0), AX_DTYPE_U16);

		/* CiA 402 profile objects, 0x800 apart per axis; the rest at 0x2000 + address. */
		for (unsigned axis = 1; axis <= m->axes; axis++) {
			unsigned off = 0x800 * (axis - 1);

			expect_reg(m, can, "DRV_STATE_CONTROL", (int)axis, AX_CAN(0x6040 + off, 0),
			           AX_DTYPE_U16);
			expect_reg(m, can, "DRV_STATE_STATUS", (int)axis, AX_CAN(0x6041 + off, 0),
			           AX_DTYPE_U16);
			expect_reg(m, can, "DRV_OP_CMD", (int)axis, AX_CAN(0x6060 + off, 0),
			           AX_DTYPE_S8);
			expect_reg(m, can, "DRV_OP_VALUE", (int)axis, AX_CAN(0x6061 + off, 0),
			           AX_DTYPE_S8);
			expect_reg(m, can, "CL_POS_FBK_VALUE", (int)axis, AX_CAN(0x6064 + off, 0),
			           AX_DTYPE_S32);
			expect_reg(m, can, "CL_VEL_FBK_VALUE", (int)axis, AX_CAN(0x606C + off, 0),
			           AX_DTYPE_FLOAT);
			expect_reg(m, can, "CL_POS_SET_POINT_VALUE", (int)axis,
			           AX_CAN(0x607A + off, 0), AX_DTYPE_S32);
			expect_reg(m, can, "PROF_MAX_VEL", (int)axis, AX_CAN(0x6081 + off, 0),
			           AX_DTYPE_FLOAT);
			expect_reg(m, can, "PROF_MAX_ACC", (int)axis, AX_CAN(0x6083 + off, 0),
			           AX_DTYPE_FLOAT);
			expect_reg(m, can, "PROF_MAX_DEC", (int)axis, AX_CAN(0x6084 + off, 0),
			           AX_DTYPE_FLOAT);
			expect_reg(m, can, "CL_POS_REF_MAX_LIMIT", (int)axis,
			           AX_CAN(0x607D + off, 2), AX_DTYPE_S32);
			if (axis <= 7) {
				expect_reg(m, can, "SIM_FAULT_INJECT", (int)axis,
				           AX_CAN(0x2000 + off + 0x7E0, 0), AX_DTYPE_U32);
				expect_reg(m, can, "HOM_MODE", (int)axis,
				           AX_CAN(0x2000 + off + 0x450, 0), AX_DTYPE_U16);
			}
		}

		/* The operation modes speak CiA 402 codes on CAN. */
		assert_int_equal(ax_dict_find(can, "DRV_OP_CMD", 1, &r), 0);
		for (size_t k = 0; k < ax_reg_enum_count(r); k++) {
			assert_int_equal(ax_reg_enum_at(r, k, &v, &label), 0);
			if (v == 1 && !strcmp(label, "Profile position"))
				found = 1;
		}
		assert_true(found);

		/* Every MCB register of axes 1..7 and subnode 0 has its CAN twin. */
		for (size_t k = 0; k < ax_dict_reg_count(eth); k++) {
			const ax_reg *e = ax_dict_reg_at(eth, k);

			if (ax_reg_subnode(e) <= 7 &&
			    ax_dict_find(can, ax_reg_id(e), (int)ax_reg_subnode(e), &r) < 0) {
				missing++;
				fprintf(stderr, "%s: %s/%u has no CAN object\n", m->name,
				        ax_reg_id(e), ax_reg_subnode(e));
			}
		}
		assert_int_equal(missing, 0);
		ax_error_clear();
		for (size_t k = 0; k < n; k++)
			ax_dict_unref(dicts[k]);
		ax_free(dicts);
	}
}

/* A database of devices/ resolves a CANopen link to the CAN dictionary, an MCB one to ETH. */
static void test_simcan__resolve_by_address_space(void **state)
{
	char dir[] = "/tmp/axlink-simcan-XXXXXX", db_path[64], path[512];
	ax_db *db = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(db_path, sizeof(db_path), "%s/devices.db", dir);
	assert_int_equal(ax_db_open(&db, db_path, AX_DB_CREATE), 0);
	for (size_t i = 0; i < sizeof(can_models) / sizeof(can_models[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", AXLINK_DEVICES_DIR, can_models[i].file);
		if (ax_db_import(db, path, NULL, NULL) <= 0)
			fail_msg("import %s: %s", path, ax_error_last());
	}
	for (size_t i = 0; i < sizeof(can_models) / sizeof(can_models[0]); i++) {
		const struct can_model *m = &can_models[i];
		static const int spaces[] = {AX_ADDR_CANOPEN, AX_ADDR_MCB};

		for (size_t s = 0; s < 2; s++) {
			ax_dict *dict = NULL;
			int match = -1;

			assert_int_equal(ax_db_resolve(db, SIMDRIVE_VENDOR_ID, m->product,
			                               m->revision, spaces[s], &dict, &match, NULL),
			                 0);
			assert_int_equal(match, AX_MATCH_EXACT);
			assert_non_null(dict);
			assert_int_equal(ax_dict_identity_get(dict)->addr_space, spaces[s]);
			assert_string_equal(ax_dict_identity_get(dict)->interface,
			                    spaces[s] == AX_ADDR_CANOPEN ? "CAN" : "ETH");
			ax_dict_unref(dict);
		}
	}
	ax_db_unref(db);
	assert_int_equal(unlink(db_path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- the node, in process ------------------------------------------------ */

struct node_fx {
	simdrive *drive;
	simcanopen *node;
	uint64_t now;
};

static int node_setup_model(void **state, const char *model, unsigned heartbeat_ms)
{
	struct node_fx *f = calloc(1, sizeof(*f));
	simcan_frame out[SIMCANOPEN_MAX_OUT];
	const char *why = NULL;

	assert_non_null(f);
	assert_int_equal(simdrive_new(&f->drive, &codec, model, SERIAL), 0);
	if (simcanopen_new(&f->node, f->drive, model, NODE, heartbeat_ms, &why) < 0)
		fail_msg("simcanopen_new: %s", why);
	f->now = T0;
	/* The first poll starts the node's clock; a drive at rest has nothing to report. */
	assert_int_equal(simcanopen_poll(f->node, f->now, out), 0);
	*state = f;
	return 0;
}

static int node_setup(void **state)
{
	return node_setup_model(state, "axs-200", 0);
}

static int node_teardown(void **state)
{
	struct node_fx *f = *state;

	simcanopen_free(f->node);
	simdrive_free(f->drive);
	free(f);
	return 0;
}

/* Send an 8-byte SDO request; the single response it must get. */
static simcan_frame sdo(struct node_fx *f, const uint8_t req[8])
{
	simcan_frame in = {.id = SIMCANOPEN_COB_SDO_RX + NODE, .len = 8};
	simcan_frame out[SIMCANOPEN_MAX_OUT];
	size_t n;

	memcpy(in.data, req, 8);
	n = simcanopen_receive(f->node, &in, f->now, out);
	if (n != 1)
		fail_msg("request %02X %02X %02X %02X: %zu responses", req[0], req[1], req[2],
		         req[3], n);
	assert_int_equal(out[0].id, SIMCANOPEN_COB_SDO_TX + NODE);
	assert_int_equal(out[0].len, 8);
	return out[0];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The abort code of response @r, or 0 when it is no abort. */
static uint32_t abort_code(const simcan_frame *r)
{
	return r->data[0] == 0x80 ? le32(r->data + 4) : 0;
}

/* SDO upload as a client does it: 0, or the abort code. */
static uint32_t upload(struct node_fx *f, unsigned index, unsigned sub, uint8_t *buf, size_t cap,
                       size_t *len)
{
	uint8_t req[8] = {0x40, (uint8_t)index, (uint8_t)(index >> 8), (uint8_t)sub};
	simcan_frame r = sdo(f, req);
	size_t size, got = 0;
	unsigned t = 0;

	if (abort_code(&r))
		return abort_code(&r);
	assert_int_equal(r.data[0] & 0xE0, 0x40);
	assert_int_equal(r.data[1] | r.data[2] << 8, index);
	assert_int_equal(r.data[3], sub);
	if (r.data[0] & 0x02) {
		/* Expedited, size indicated. */
		assert_true(r.data[0] & 0x01);
		size = 4 - ((r.data[0] >> 2) & 3);
		assert_true(size <= cap);
		memcpy(buf, r.data + 4, size);
		*len = size;
		return 0;
	}
	assert_int_equal(r.data[0], 0x41);
	size = le32(r.data + 4);
	assert_true(size <= cap);
	for (;;) {
		uint8_t seg[8] = {(uint8_t)(0x60 | t << 4)};
		size_t k;

		r = sdo(f, seg);
		if (abort_code(&r))
			return abort_code(&r);
		assert_int_equal(r.data[0] & 0xE0, 0x00);
		assert_int_equal((r.data[0] >> 4) & 1, t);
		k = 7 - ((r.data[0] >> 1) & 7);
		assert_true(got + k <= size);
		memcpy(buf + got, r.data + 1, k);
		got += k;
		t ^= 1;
		if (r.data[0] & 1)
			break;
	}
	assert_int_equal(got, size);
	*len = got;
	return 0;
}

static uint32_t download(struct node_fx *f, unsigned index, unsigned sub, const void *data,
                         size_t len)
{
	uint8_t req[8] = {0, (uint8_t)index, (uint8_t)(index >> 8), (uint8_t)sub};
	const uint8_t *p = data;
	simcan_frame r;
	size_t off = 0;
	unsigned t = 0;

	if (len >= 1 && len <= 4) {
		req[0] = (uint8_t)(0x23 | (4 - len) << 2);
		memcpy(req + 4, p, len);
		r = sdo(f, req);
		if (abort_code(&r))
			return abort_code(&r);
		assert_int_equal(r.data[0], 0x60);
		return 0;
	}
	req[0] = 0x21;
	req[4] = (uint8_t)len;
	req[5] = (uint8_t)(len >> 8);
	r = sdo(f, req);
	if (abort_code(&r))
		return abort_code(&r);
	assert_int_equal(r.data[0], 0x60);
	while (off < len || len == 0) {
		uint8_t seg[8] = {0};
		size_t k = len - off < 7 ? len - off : 7;

		memcpy(seg + 1, p + off, k);
		off += k;
		seg[0] = (uint8_t)(t << 4 | (7 - k) << 1 | (off == len ? 1 : 0));
		r = sdo(f, seg);
		if (abort_code(&r))
			return abort_code(&r);
		assert_int_equal(r.data[0], 0x20 | t << 4);
		t ^= 1;
		if (off == len)
			break;
	}
	return 0;
}

static uint32_t upload_u32(struct node_fx *f, unsigned index, unsigned sub)
{
	uint8_t b[8] = {0};
	size_t len = 0;
	uint32_t code = upload(f, index, sub, b, sizeof(b), &len);

	if (code)
		fail_msg("upload 0x%04X:%u: abort 0x%08X", index, sub, code);
	assert_true(len >= 1 && len <= 4);
	return le32(b);
}

static void poll_until(struct node_fx *f, uint64_t until)
{
	simcan_frame out[SIMCANOPEN_MAX_OUT];

	while (f->now < until) {
		f->now += MS;
		(void)simcanopen_poll(f->node, f->now, out);
	}
}

/* Identity 0x1018, device type 0x1000: expedited uploads, sizes indicated. */
static void test_simcan__identity_expedited(void **state)
{
	struct node_fx *f = *state;
	uint8_t req[8] = {0x40, 0x18, 0x10, 0x00};
	simcan_frame r = sdo(f, req);

	/* One byte: n = 3 bytes unused. */
	assert_int_equal(r.data[0], 0x4F);
	assert_int_equal(r.data[4], 4);
	assert_int_equal(upload_u32(f, 0x1018, 1), SIMDRIVE_VENDOR_ID);
	assert_int_equal(upload_u32(f, 0x1018, 2), 0x000100C8);
	assert_int_equal(upload_u32(f, 0x1018, 3), 0x00010001);
	assert_int_equal(upload_u32(f, 0x1018, 4), SERIAL);
	req[1] = 0x00;
	r = sdo(f, req);
	assert_int_equal(r.data[0], 0x43);
	assert_int_equal(le32(r.data + 4), 0x00020192);
	assert_int_equal(upload_u32(f, 0x1001, 0), 0);
}

/* 0x100A: the version text in segments, toggle alternating, no terminator. */
static void test_simcan__version_segmented(void **state)
{
	struct node_fx *f = *state;
	char text[128];
	size_t len = 0;

	assert_int_equal(upload(f, 0x100A, 0, (uint8_t *)text, sizeof(text) - 1, &len), 0);
	text[len] = '\0';
	assert_string_equal(text, "axs-200 fw 1.1.4-sim");
}

/* A segmented download and upload of the 512-byte user data (subnode 0, 0x5800 + 0x6F0). */
static void test_simcan__user_data_segmented(void **state)
{
	struct node_fx *f = *state;
	uint8_t data[100], back[600];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(download(f, 0x5EF0, 0, data, sizeof(data)), 0);
	assert_int_equal(upload(f, 0x5EF0, 0, back, sizeof(back), &len), 0);
	assert_int_equal(len, 512);
	assert_memory_equal(back, data, sizeof(data));
	for (size_t i = sizeof(data); i < len; i++)
		assert_int_equal(back[i], 0);
}

/* An object and its MCB register are one value: what SDO writes, MCB reads, per axis. */
static void test_simcan__state_shared_with_mcb(void **state)
{
	struct node_fx *f = *state;
	int32_t target = 12345, target2 = -777;
	uint8_t buf[8];
	size_t len = 0;
	uint32_t code = 0;

	assert_int_equal(download(f, 0x607A, 0, &target, 4), 0);
	assert_int_equal(download(f, 0x687A, 0, &target2, 4), 0);
	assert_int_equal(simdrive_read(f->drive, 1, 0x020, buf, sizeof(buf), &len, &code), 0);
	assert_int_equal((int32_t)le32(buf), target);
	assert_int_equal(simdrive_read(f->drive, 2, 0x020, buf, sizeof(buf), &len, &code), 0);
	assert_int_equal((int32_t)le32(buf), target2);
	/* And the other way: an MCB write (PROF_POS_WINDOW) shows on CAN. */
	assert_int_equal(
	        simdrive_write(f->drive, 1, 0x02A, (const uint8_t[]){9, 0, 0, 0}, 4, &code), 0);
	assert_int_equal(upload_u32(f, 0x6067, 0), 9); /* PROF_POS_WINDOW */
}

/* 0x6060/0x6061 carry CiA 402 codes; the drive inside keeps its MCB ones. */
static void test_simcan__mode_codes(void **state)
{
	struct node_fx *f = *state;
	uint8_t buf[8];
	size_t len = 0;
	uint32_t code = 0;
	int8_t pv = 3, csv = 9, hm = 6;
	uint16_t wide = 3;

	assert_int_equal(upload_u32(f, 0x6061, 0) & 0xFF, 1); /* profile position */
	assert_int_equal(download(f, 0x6060, 0, &pv, 1), 0);
	assert_int_equal(simdrive_read(f->drive, 1, 0x014, buf, sizeof(buf), &len, &code), 0);
	assert_int_equal(buf[0] | buf[1] << 8, 0x13);
	poll_until(f, f->now + 2 * MS);
	assert_int_equal(upload_u32(f, 0x6061, 0) & 0xFF, 3);
	assert_int_equal(download(f, 0x6860, 0, &hm, 1), 0);
	assert_int_equal(simdrive_read(f->drive, 2, 0x014, buf, sizeof(buf), &len, &code), 0);
	assert_int_equal(buf[0] | buf[1] << 8, 0x113);
	/* Cyclic synchronous velocity has no MCB mode here; a 2-byte mode is the wrong size. */
	assert_int_equal(download(f, 0x6060, 0, &csv, 1), SIMCANOPEN_ABORT_RANGE);
	assert_int_equal(download(f, 0x6060, 0, &wide, 2), SIMCANOPEN_ABORT_LENGTH);
}

/* Store (0x1010:1 "save") and restore (0x1011:1 "load") act on the drive as over MCB. */
static void test_simcan__store_restore(void **state)
{
	struct node_fx *f = *state;
	uint32_t save = 0x65766173u, load = 0x64616F6Cu;
	float vel = 25.0f, got;
	uint32_t bits;

	assert_int_equal(download(f, 0x6081, 0, &vel, 4), 0);
	assert_int_equal(download(f, 0x1010, 1, &save, 4), 0);
	/* The axis stores too: DRV_STORE_MOCO_ALL of axis 1, 0x2000 + 0x6DB. */
	assert_int_equal(download(f, 0x26DB, 0, &save, 4), 0);
	bits = upload_u32(f, 0x6081, 0);
	memcpy(&got, &bits, 4);
	assert_true(got == 25.0f);
	/* Restore all puts the stored parameter back to its default (10 rev/s). */
	assert_int_equal(download(f, 0x1011, 1, &load, 4), 0);
	bits = upload_u32(f, 0x6081, 0);
	memcpy(&got, &bits, 4);
	assert_true(got == 10.0f);
}

struct abort_case {
	const char *name;
	uint8_t req[8];
	uint32_t want;
};

/* Each refused request gets its CiA 301 abort code, naming the object. */
static void test_simcan__aborts(void **state)
{
	static const struct abort_case cases[] = {
	        {"no_object", {0x40, 0x55, 0x55, 0x00}, SIMCANOPEN_ABORT_NO_OBJECT},
	        {"no_subindex", {0x40, 0x18, 0x10, 0x09}, SIMCANOPEN_ABORT_NO_SUBINDEX},
	        {"no_subindex_var", {0x40, 0x41, 0x60, 0x01}, SIMCANOPEN_ABORT_NO_SUBINDEX},
	        {"read_only", {0x2B, 0x41, 0x60, 0x00, 0x06, 0x00}, SIMCANOPEN_ABORT_READ_ONLY},
	        {"write_only", {0x40, 0x11, 0x10, 0x01}, SIMCANOPEN_ABORT_WRITE_ONLY},
	        {"too_short", {0x2B, 0x7A, 0x60, 0x00, 0x01, 0x00}, SIMCANOPEN_ABORT_LENGTH},
	        {"too_long", {0x23, 0x40, 0x60, 0x00, 0x06, 0, 0, 0}, SIMCANOPEN_ABORT_LENGTH},
	        {"store_signature", {0x23, 0x10, 0x10, 0x01, 1, 2, 3, 4}, 0x08000020u},
	        {"block_download", {0xC2, 0x7A, 0x60, 0x00}, SIMCANOPEN_ABORT_COMMAND},
	        {"block_upload", {0xA0, 0x7A, 0x60, 0x00}, SIMCANOPEN_ABORT_COMMAND},
	        {"upload_segment_idle", {0x60}, SIMCANOPEN_ABORT_COMMAND},
	        {"download_segment_idle", {0x01}, SIMCANOPEN_ABORT_COMMAND},
	};
	struct node_fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct abort_case *c = &cases[i];
		simcan_frame r = sdo(f, c->req);

		if (abort_code(&r) != c->want)
			fail_msg("%s: abort 0x%08X, want 0x%08X", c->name, abort_code(&r), c->want);
		if (c->req[0] != 0x60 && c->req[0] != 0x01)
			assert_memory_equal(r.data + 1, c->req + 1, 3); /* the object named */
	}
}

/* A segment with the toggle bit not alternated aborts the transfer (0x05030000). */
static void test_simcan__toggle_error(void **state)
{
	struct node_fx *f = *state;
	uint8_t init[8] = {0x40, 0x0A, 0x10, 0x00}, seg0[8] = {0x60}, seg_bad[8] = {0x60};
	simcan_frame r;

	r = sdo(f, init);
	assert_int_equal(r.data[0], 0x41);
	r = sdo(f, seg0);
	assert_int_equal(r.data[0] & 0x10, 0);
	r = sdo(f, seg_bad); /* toggle 0 again: the node wants 1 */
	assert_int_equal(abort_code(&r), SIMCANOPEN_ABORT_TOGGLE);
	assert_int_equal(r.data[1] | r.data[2] << 8, 0x100A);
	/* The transfer is over: another segment is unexpected. */
	r = sdo(f, seg0);
	assert_int_equal(abort_code(&r), SIMCANOPEN_ABORT_COMMAND);
}

/* A segmented transfer the client leaves idle is aborted by the node (0x05040000). */
static void test_simcan__sdo_timeout(void **state)
{
	struct node_fx *f = *state;
	uint8_t init[8] = {0x40, 0x0A, 0x10, 0x00};
	simcan_frame out[SIMCANOPEN_MAX_OUT];
	simcan_frame r = sdo(f, init);
	uint64_t start = f->now;
	size_t n = 0, aborts = 0;

	assert_int_equal(r.data[0], 0x41);
	assert_true(simcanopen_next_due(f->node) <= start + SIMCANOPEN_SDO_TIMEOUT_NS);
	while (f->now < start + SIMCANOPEN_SDO_TIMEOUT_NS + 10 * MS) {
		f->now += MS;
		n = simcanopen_poll(f->node, f->now, out);
		for (size_t i = 0; i < n; i++) {
			if (out[i].id != SIMCANOPEN_COB_SDO_TX + NODE)
				continue;
			assert_true(f->now >= start + SIMCANOPEN_SDO_TIMEOUT_NS);
			assert_int_equal(abort_code(&out[i]), SIMCANOPEN_ABORT_TIMEOUT);
			aborts++;
		}
	}
	assert_int_equal(aborts, 1);
}

/* Not a request for this node, or not 8 bytes: no answer at all. */
static void test_simcan__silent_for_others(void **state)
{
	struct node_fx *f = *state;
	simcan_frame out[SIMCANOPEN_MAX_OUT];
	simcan_frame other = {
	        .id = SIMCANOPEN_COB_SDO_RX + NODE + 1, .len = 8, .data = {0x40, 0x18, 0x10, 1}};
	simcan_frame short_req = {
	        .id = SIMCANOPEN_COB_SDO_RX + NODE, .len = 4, .data = {0x40, 0x18, 0x10, 1}};
	simcan_frame ext = {.id = SIMCANOPEN_COB_SDO_RX + NODE,
	                    .len = 8,
	                    .ext = 1,
	                    .data = {0x40, 0x18, 0x10, 1}};
	simcan_frame nmt_other = {.id = 0, .len = 2, .data = {0x02, NODE + 1}};

	assert_int_equal(simcanopen_receive(f->node, &other, f->now, out), 0);
	assert_int_equal(simcanopen_receive(f->node, &short_req, f->now, out), 0);
	assert_int_equal(simcanopen_receive(f->node, &ext, f->now, out), 0);
	assert_int_equal(simcanopen_receive(f->node, &nmt_other, f->now, out), 0);
	assert_int_equal(simcanopen_state(f->node), SIMCANOPEN_PRE_OPERATIONAL);
}

static size_t nmt(struct node_fx *f, uint8_t cs, uint8_t node, simcan_frame *out)
{
	simcan_frame in = {.id = SIMCANOPEN_COB_NMT, .len = 2, .data = {cs, node}};

	return simcanopen_receive(f->node, &in, f->now, out);
}

/* NMT: stop silences SDO, start (broadcast) and pre-operational, resets send boot-up. */
static void test_simcan__nmt(void **state)
{
	struct node_fx *f = *state;
	simcan_frame out[SIMCANOPEN_MAX_OUT];
	simcan_frame req = {
	        .id = SIMCANOPEN_COB_SDO_RX + NODE, .len = 8, .data = {0x40, 0x18, 0x10, 1}};
	uint16_t hb = 250;

	assert_int_equal(nmt(f, 0x02, NODE, out), 0);
	assert_int_equal(simcanopen_state(f->node), SIMCANOPEN_STOPPED);
	assert_int_equal(simcanopen_receive(f->node, &req, f->now, out), 0);
	assert_int_equal(nmt(f, 0x01, 0, out), 0); /* all nodes */
	assert_int_equal(simcanopen_state(f->node), SIMCANOPEN_OPERATIONAL);
	assert_int_equal(simcanopen_receive(f->node, &req, f->now, out), 1);
	assert_int_equal(nmt(f, 0x80, NODE, out), 0);
	assert_int_equal(simcanopen_state(f->node), SIMCANOPEN_PRE_OPERATIONAL);

	/* Reset communication: boot-up, pre-operational, 0x1017 kept. */
	assert_int_equal(download(f, 0x1017, 0, &hb, 2), 0);
	assert_int_equal(nmt(f, 0x01, NODE, out), 0);
	assert_int_equal(nmt(f, 0x82, NODE, out), 1);
	assert_int_equal(out[0].id, SIMCANOPEN_COB_HEARTBEAT + NODE);
	assert_int_equal(out[0].len, 1);
	assert_int_equal(out[0].data[0], SIMCANOPEN_BOOTUP);
	assert_int_equal(simcanopen_state(f->node), SIMCANOPEN_PRE_OPERATIONAL);
	assert_int_equal(upload_u32(f, 0x1017, 0), 250);
	/* Reset node: 0x1017 back to its default (0). */
	assert_int_equal(nmt(f, 0x81, 0, out), 1);
	assert_int_equal(out[0].data[0], SIMCANOPEN_BOOTUP);
	assert_int_equal(upload_u32(f, 0x1017, 0), 0);
	/* An unknown command changes nothing. */
	assert_int_equal(nmt(f, 0x42, NODE, out), 0);
	assert_int_equal(simcanopen_state(f->node), SIMCANOPEN_PRE_OPERATIONAL);
}

/* Heartbeats every 0x1017 ms, carrying the NMT state; 0 stops them. */
static void test_simcan__heartbeat(void **state)
{
	struct node_fx *f = *state;
	simcan_frame out[SIMCANOPEN_MAX_OUT];
	uint64_t seen[4];
	size_t n_seen = 0;
	uint16_t hb = 100, off = 0;
	uint64_t start = f->now;

	assert_int_equal(download(f, 0x1017, 0, &hb, 2), 0);
	while (f->now < start + 450 * MS) {
		size_t n;

		f->now += MS;
		n = simcanopen_poll(f->node, f->now, out);
		for (size_t i = 0; i < n; i++) {
			if (out[i].id != SIMCANOPEN_COB_HEARTBEAT + NODE)
				continue;
			assert_int_equal(out[i].len, 1);
			assert_int_equal(out[i].data[0], n_seen < 2 ? SIMCANOPEN_PRE_OPERATIONAL
			                                            : SIMCANOPEN_STOPPED);
			assert_true(n_seen < 4);
			seen[n_seen++] = f->now - start;
		}
		if (n_seen == 2 && f->now == start + 250 * MS)
			assert_int_equal(nmt(f, 0x02, NODE, out), 0);
	}
	assert_int_equal(n_seen, 4);
	for (size_t i = 0; i < n_seen; i++)
		assert_int_equal(seen[i], (i + 1) * 100 * MS);
	/* A stopped node still takes NMT; back in pre-operational, 0 turns them off. */
	assert_int_equal(nmt(f, 0x80, NODE, out), 0);
	assert_int_equal(download(f, 0x1017, 0, &off, 2), 0);
	for (uint64_t end = f->now + 300 * MS; f->now < end;) {
		f->now += MS;
		assert_int_equal(simcanopen_poll(f->node, f->now, out), 0);
	}
}

/* Heartbeats start by themselves with a period configured at start. */
static void test_simcan__heartbeat_default(void **state)
{
	struct node_fx *f;
	simcan_frame out[SIMCANOPEN_MAX_OUT];
	size_t beats = 0;

	(void)state;
	node_setup_model((void **)&f, "axs-100", 20);
	assert_int_equal(upload_u32(f, 0x1017, 0), 20);
	for (uint64_t end = f->now + 100 * MS; f->now < end;) {
		f->now += MS;
		for (size_t i = 0, n = simcanopen_poll(f->node, f->now, out); i < n; i++)
			beats += out[i].id == SIMCANOPEN_COB_HEARTBEAT + NODE;
	}
	assert_int_equal(beats, 5);
	node_teardown((void **)&f);
}

/* Collect the EMCY frames of @f's node until @until. */
static size_t emcys(struct node_fx *f, uint64_t until, simcan_frame *got, size_t cap)
{
	simcan_frame out[SIMCANOPEN_MAX_OUT];
	size_t k = 0;

	while (f->now < until) {
		f->now += MS;
		for (size_t i = 0, n = simcanopen_poll(f->node, f->now, out); i < n; i++)
			if (out[i].id == SIMCANOPEN_COB_EMCY + NODE && k < cap)
				got[k++] = out[i];
	}
	return k;
}

/* A fault (the simulator's injection) raises EMCY with the code and axis; its reset clears it. */
static void test_simcan__emcy_on_fault(void **state)
{
	struct node_fx *f = *state;
	simcan_frame got[4];
	uint32_t code = 0x4210; /* power stage over-temperature */
	uint16_t reset = 0x80, zero = 0;

	assert_int_equal(download(f, 0x2FE0, 0, &code, 4), 0); /* SIM_FAULT_INJECT, axis 2 */
	assert_int_equal(emcys(f, f->now + 20 * MS, got, 4), 1);
	assert_int_equal(got[0].len, 8);
	assert_int_equal(got[0].data[0] | got[0].data[1] << 8, 0x4210);
	assert_int_equal(got[0].data[2], 0x09); /* generic + temperature */
	assert_int_equal(got[0].data[3], 2);
	assert_int_equal(le32(got[0].data + 4), 0x4210);
	assert_int_equal(upload_u32(f, 0x1001, 0) & 0xFF, 0x09);
	assert_int_equal(upload_u32(f, 0x6841, 0) & 0x4F, 0x08); /* axis 2 in fault */
	/* Nothing more while it lasts. */
	assert_int_equal(emcys(f, f->now + 50 * MS, got, 4), 0);

	/* Fault reset: a rising edge of control word bit 7. */
	assert_int_equal(download(f, 0x6840, 0, &zero, 2), 0);
	assert_int_equal(download(f, 0x6840, 0, &reset, 2), 0);
	assert_int_equal(emcys(f, f->now + 20 * MS, got, 4), 1);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(got[0].data[i], 0);
	assert_int_equal(upload_u32(f, 0x1001, 0) & 0xFF, 0);
	/* The simulator's scheduled faults (--fault-after) report the same way. */
	assert_int_equal(
	        simdrive_fault_at(f->drive, 1, SIMDRIVE_FAULT_UNDERVOLTAGE, f->now + 10 * MS), 0);
	assert_int_equal(emcys(f, f->now + 30 * MS, got, 4), 1);
	assert_int_equal(got[0].data[0] | got[0].data[1] << 8, 0x3220);
	assert_int_equal(got[0].data[2], 0x05); /* generic + voltage */
	assert_int_equal(got[0].data[3], 1);
}

/* CiA 402 over SDO alone: enable, then a profile position move. */
static void test_simcan__cia402_move(void **state)
{
	struct node_fx *f = *state;
	static const uint16_t steps[] = {0x06, 0x07, 0x0F};
	int32_t target = 2000;
	uint16_t go = 0x1F;

	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(download(f, 0x6040, 0, &steps[i], 2), 0);
		poll_until(f, f->now + 5 * MS);
	}
	assert_int_equal(upload_u32(f, 0x6041, 0) & 0x6F, 0x27);
	assert_int_equal(upload_u32(f, 0x6061, 0) & 0xFF, 1);
	assert_int_equal(download(f, 0x607A, 0, &target, 4), 0);
	assert_int_equal(download(f, 0x6040, 0, &go, 2), 0);
	poll_until(f, f->now + 3000 * MS);
	assert_int_equal(upload_u32(f, 0x6064, 0), 2000);
	assert_true(upload_u32(f, 0x6041, 0) & 0x0400); /* target reached */
}

/* The node refuses what it cannot be. */
static void test_simcan__new_refuses(void **state)
{
	simdrive *d = NULL;
	simcanopen *n = NULL;
	const char *why = NULL;

	(void)state;
	assert_int_equal(simdrive_new(&d, &codec, "axs-100", 1), 0);
	assert_int_equal(simcanopen_new(&n, d, "axs-100", 0, 0, &why), -1);
	assert_non_null(strstr(why, "1..127"));
	assert_int_equal(simcanopen_new(&n, d, "axs-100", 128, 0, &why), -1);
	assert_int_equal(simcanopen_new(&n, d, "nope", 1, 0, &why), -1);
	assert_string_equal(why, "unknown model");
	assert_null(n);
	simdrive_free(d);
}

/* ---- axlink-sim's options --------------------------------------------------- */

/* Run axlink-sim with @args to its exit; its status, its stderr in @err. */
static int sim_run(const char *const *args, char *err, size_t cap)
{
	const char *path = getenv("AXLINK_SIM") && *getenv("AXLINK_SIM") ? getenv("AXLINK_SIM")
	                                                                 : AXLINK_SIM_PATH;
	const char *argv[16] = {path};
	int pipefd[2], status = -1;
	size_t n = 0, k = 1;
	pid_t pid;

	for (; args[k - 1] && k < 15; k++)
		argv[k] = args[k - 1];
	argv[k] = NULL;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (ssize_t r; n + 1 < cap && (r = read(pipefd[0], err + n, cap - 1 - n)) > 0;)
		n += (size_t)r;
	err[n] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct usage_case {
	const char *name;
	const char *args[8];
	const char *says;
};

/* The --can-* options refuse what cannot be, naming it, with the usage status (2). */
static void test_simcan__options_refused(void **state)
{
	static const struct usage_case cases[] = {
	        {"nodes_without_port", {"--can-nodes", "2", NULL}, "need --can-slcan-pty"},
	        {"nodes_zero", {"--can-slcan-pty", "--can-nodes", "0", NULL}, "1..127"},
	        {"nodes_past_127",
	         {"--can-slcan-pty", "--can-first-node", "127", "--can-nodes", "2", NULL},
	         "past node id 127"},
	        {"odd_bitrate",
	         {"--can-slcan-pty", "--can-bitrate", "300000", NULL},
	         "not an slcan rate"},
	        {"not_loopback", {"--can-socketcand", "10.0.0.1:29536", NULL}, "127.0.0.0/8"},
	        {"bad_port", {"--can-socketcand", "127.0.25.1:65536", NULL}, "0..65535"},
	        {"two_adapters",
	         {"--can-slcan-pty", "--can-slcan-tty", "/dev/null", NULL},
	         "one slcan adapter"},
	        {"bus_name",
	         {"--can-socketcand", "127.0.25.1", "--can-bus", "a<b", NULL},
	         "--can-bus"},
	};
	char err[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sim_run(cases[i].args, err, sizeof(err));

		if (rc != 2 || !strstr(err, cases[i].says))
			fail_msg("%s: exit %d, stderr '%s' (want 2 and '%s')", cases[i].name, rc,
			         err, cases[i].says);
	}
}

/* ---- axlink-sim over its slcan pty ---------------------------------------- */

struct line {
	int fd;
	char buf[4096];
	size_t len;
};

/* Read what arrives for @ms milliseconds (or until @stop is seen). */
static void line_read(struct line *l, int ms, const char *stop)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {l->fd, POLLIN, 0};
		long el;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= ms || (stop && l->len && memmem(l->buf, l->len, stop, strlen(stop))))
			return;
		if (poll(&p, 1, (int)(ms - el)) <= 0)
			continue;
		r = read(l->fd, l->buf + l->len, sizeof(l->buf) - 1 - l->len);
		if (r <= 0)
			return;
		l->len += (size_t)r;
		l->buf[l->len] = '\0';
	}
}

/* Send @cmd, return what came back within @ms (or once @stop came). */
static const char *slcan_cmd(struct line *l, const char *cmd, int ms, const char *stop)
{
	l->len = 0;
	l->buf[0] = '\0';
	assert_int_equal(write(l->fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	line_read(l, ms, stop);
	return l->buf;
}

static int open_raw(const char *path)
{
	struct termios tio;
	int fd = open(path, O_RDWR | O_NOCTTY);

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_int_equal(tcgetattr(fd, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(fd, TCSANOW, &tio), 0);
	return fd;
}

/* Lawicel commands, SDO by raw lines, silence for an absent node or another bit rate. */
static void test_simcan__slcan_pty(void **state)
{
	const char *args[] = {"--can-slcan-pty", "--can-nodes", "2", "--can-first-node", "4",
	                      "--model",         "axs-100",     NULL};
	simproc *p = NULL;
	struct line l = {0};
	char path[256];
	const char *u;

	(void)state;
	assert_int_equal(simproc_start(&p, args, 2, START_MS), 0);
	u = simproc_uri(p, 0);
	assert_non_null(strstr(u, "?node=4&bitrate=1000000"));
	assert_non_null(strstr(simproc_uri(p, 1), "?node=5&bitrate=1000000"));
	assert_int_equal(strncmp(u, "can:slcan/dev/", 14), 0);
	(void)snprintf(path, sizeof(path), "%.*s", (int)(strchr(u, '?') - u - 9), u + 9);
	l.fd = open_raw(path);

	assert_string_equal(slcan_cmd(&l, "V\r", 500, "\r"), "V1013\r");
	assert_string_equal(slcan_cmd(&l, "N\r", 500, "\r"), "NA71C\r");
	/* Closed: no frame can be sent; bad commands are refused. */
	assert_string_equal(slcan_cmd(&l, "t60484018100100000000\r", 500, "\a"), "\a");
	assert_string_equal(slcan_cmd(&l, "S9\r", 500, "\a"), "\a");
	assert_string_equal(slcan_cmd(&l, "?\r", 500, "\a"), "\a");
	/* Open at 500 kbit/s on a 1 Mbit/s bus: sent, but nobody hears it. */
	assert_string_equal(slcan_cmd(&l, "S6\r", 500, "\r"), "\r");
	assert_string_equal(slcan_cmd(&l, "O\r", 500, "\r"), "\r");
	assert_string_equal(slcan_cmd(&l, "S8\r", 500, "\a"), "\a"); /* not while open */
	assert_string_equal(slcan_cmd(&l, "t60484018100100000000\r", 200, NULL), "z\r");
	assert_string_equal(slcan_cmd(&l, "C\rS8\rO\rF\r", 500, "F00\r"), "\r\r\rF00\r");
	/* Node 4: vendor id, expedited. */
	assert_string_equal(slcan_cmd(&l, "t60484018100100000000\r", 500, "00\r"),
	                    "z\rt5848431810011CA70000\r");
	/* Node 5: the version text in three segments. */
	assert_string_equal(slcan_cmd(&l, "t6058400A100000000000\r", 500, "00\r"),
	                    "z\rt5858410A100014000000\r");
	assert_string_equal(slcan_cmd(&l, "t60586000000000000000\r", 500, "30\r"),
	                    "z\rt5858006178732D313030\r");
	/* Node 7 does not exist: the adapter sends, nobody answers. */
	assert_string_equal(slcan_cmd(&l, "t60784018100100000000\r", 300, NULL), "z\r");
	/* Malformed frames: BEL. */
	assert_string_equal(slcan_cmd(&l, "t60484018\r", 500, "\a"), "\a");
	assert_string_equal(slcan_cmd(&l, "t8008\r", 500, "\a"), "\a");
	/* NMT reset communication of node 4: its boot-up. */
	assert_string_equal(slcan_cmd(&l, "t00028204\r", 500, "00\r"), "z\rt704100\r");
	close(l.fd);
	assert_int_equal(simproc_stop(p), 0);
}

/* A pty master handed over as /dev/fd/N (a test rig's line): the URIs name its slave. */
static void test_simcan__slcan_inherited_master(void **state)
{
	char fdpath[32], slave[128], want[160];
	const char *args[] = {"--can-slcan-tty", fdpath, NULL};
	simproc *p = NULL;
	struct line l = {0};
	char longline[80];
	int master;

	(void)state;
	/* Without O_CLOEXEC: the simulator inherits it. */
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	assert_int_equal(ptsname_r(master, slave, sizeof(slave)), 0);
	(void)snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", master);
	l.fd = open_raw(slave);
	assert_int_equal(simproc_start(&p, args, 1, START_MS), 0);
	close(master); /* the simulator has its own */
	(void)snprintf(want, sizeof(want), "can:slcan%s?node=1&bitrate=1000000", slave);
	assert_string_equal(simproc_uri(p, 0), want);
	assert_string_equal(slcan_cmd(&l, "O\r", 500, "\r"), "\r");
	assert_string_equal(slcan_cmd(&l, "t60184018100100000000\r", 500, "00\r"),
	                    "z\rt5818431810011CA70000\r");
	/* A line longer than any command: refused whole, once; the next one works. */
	memset(longline, 't', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\r';
	longline[sizeof(longline) - 1] = '\0';
	assert_string_equal(slcan_cmd(&l, longline, 300, NULL), "\a");
	assert_string_equal(slcan_cmd(&l, "V\r", 500, "\r"), "V1013\r");
	close(l.fd);
	assert_int_equal(simproc_stop(p), 0);
}

/* ---- axlink-sim as a socketcand server ------------------------------------ */

static int scd_connect(const char *uri)
{
	/* can:socketcand/ADDR:PORT/can0?node=N */
	const char *hp = uri + strlen("can:socketcand/");
	const char *colon = strchr(hp, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char addr[32];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_non_null(colon);
	(void)snprintf(addr, sizeof(addr), "%.*s", (int)(colon - hp), hp);
	assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("connect %s: %s", uri, strerror(errno));
	return fd;
}

/* Frames in both directions, heartbeats, EMCY, and a client that names another bus. */
static void test_simcan__socketcand(void **state)
{
	const char *args[] = {"--can-socketcand",
	                      SCD_ADDR ":0",
	                      "--can-heartbeat",
	                      "40",
	                      "--can-nodes",
	                      "1",
	                      NULL};
	simproc *p = NULL;
	struct line l = {0};
	const char *u;
	char want[64];

	(void)state;
	assert_int_equal(simproc_start(&p, args, 1, START_MS), 0);
	u = simproc_uri(p, 0);
	assert_int_equal(strncmp(u, "can:socketcand/" SCD_ADDR ":", 26), 0);
	assert_non_null(strstr(u, "/can0?node=1"));

	/* Another bus: an error, and socketcand closes. */
	l.fd = scd_connect(u);
	line_read(&l, 500, "< hi >");
	assert_string_equal(slcan_cmd(&l, "< open can7 >", 500, "bus >"),
	                    "< error could not open bus >");
	line_read(&l, 500, NULL);
	close(l.fd);

	l.fd = scd_connect(u);
	l.len = 0;
	line_read(&l, 500, "< hi >");
	assert_string_equal(l.buf, "< hi >");
	assert_string_equal(slcan_cmd(&l, "< rawmode >", 500, ">"), "< error open a bus first >");
	assert_string_equal(slcan_cmd(&l, "< open can0 >", 500, ">"), "< ok >");
	assert_string_equal(slcan_cmd(&l, "< rawmode >", 500, ">"), "< ok >");
	/* A heartbeat within two periods: pre-operational. */
	l.len = 0;
	line_read(&l, 1000, "7F >");
	assert_non_null(strstr(l.buf, "< frame 701 "));
	assert_non_null(strstr(l.buf, " 7F >"));
	/* Vendor id by SDO (one-digit bytes are hex too). */
	slcan_cmd(&l, "< send 601 8 40 18 10 1 0 0 0 0 >", 1000, "A7 00 00 >");
	assert_non_null(strstr(l.buf, " 43 18 10 01 1C A7 00 00 >"));
	/* Inject a fault on axis 1 (SIM_FAULT_INJECT, 0x27E0): its EMCY. */
	slcan_cmd(&l, "< send 601 8 23 E0 27 00 20 32 00 00 >", 1000, "01 20 32 00 00 >");
	assert_non_null(strstr(l.buf, "< frame 081 "));
	assert_non_null(strstr(l.buf, " 20 32 05 01 20 32 00 00 >"));
	assert_non_null(strstr(slcan_cmd(&l, "< echo >", 500, "< echo >"), "< echo >"));
	assert_non_null(
	        strstr(slcan_cmd(&l, "< send 601 9 >", 500, ") >"), "< error bad length (0..8) >"));
	/* Node 2 is not on the bus: no answer. */
	slcan_cmd(&l, "< send 602 8 40 18 10 1 0 0 0 0 >", 300, NULL);
	(void)snprintf(want, sizeof(want), "< frame 582 ");
	assert_null(strstr(l.buf, want));
	/* An element past any command: the stream cannot be resynchronised, so it closes. */
	{
		char big[400];
		char c;

		memset(big, 'a', sizeof(big));
		big[0] = '<';
		assert_int_equal(write(l.fd, big, sizeof(big)), (ssize_t)sizeof(big));
		for (;;) {
			ssize_t r = read(l.fd, &c, 1);

			if (r <= 0) {
				assert_true(r == 0 || errno == ECONNRESET);
				break;
			}
		}
	}
	close(l.fd);
	assert_int_equal(simproc_stop(p), 0);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* --drop-first loses a node's first SDO request, --delay holds its responses back. */
static void test_simcan__fault_injection(void **state)
{
	const char *args[] = {
	        "--can-socketcand", SCD_ADDR ":0", "--drop-first", "1", "--delay", "300", NULL};
	static const char req[] = "< send 601 8 40 18 10 1 0 0 0 0 >";
	simproc *p = NULL;
	struct line l = {0};
	struct timespec t0;

	(void)state;
	assert_int_equal(simproc_start(&p, args, 1, START_MS), 0);
	l.fd = scd_connect(simproc_uri(p, 0));
	line_read(&l, 500, "< hi >");
	assert_string_equal(slcan_cmd(&l, "< open can0 >< rawmode >", 500, "< ok >< ok >"),
	                    "< ok >< ok >");
	/* Lost: nothing comes, not even late. */
	assert_string_equal(slcan_cmd(&l, req, 600, NULL), "");
	/* Answered, 300 ms late. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	slcan_cmd(&l, req, 2000, "A7 00 00 >");
	assert_non_null(strstr(l.buf, "< frame 581 "));
	assert_true(elapsed_ms(&t0) >= 290);
	close(l.fd);
	assert_int_equal(simproc_stop(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_simcan__devices_can_interface),
	        cmocka_unit_test(test_simcan__resolve_by_address_space),
	        cmocka_unit_test_setup_teardown(test_simcan__identity_expedited, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__version_segmented, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__user_data_segmented, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__state_shared_with_mcb, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__mode_codes, node_setup, node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__store_restore, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__aborts, node_setup, node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__toggle_error, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__sdo_timeout, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__silent_for_others, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__nmt, node_setup, node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__heartbeat, node_setup, node_teardown),
	        cmocka_unit_test(test_simcan__heartbeat_default),
	        cmocka_unit_test_setup_teardown(test_simcan__emcy_on_fault, node_setup,
	                                        node_teardown),
	        cmocka_unit_test_setup_teardown(test_simcan__cia402_move, node_setup,
	                                        node_teardown),
	        cmocka_unit_test(test_simcan__new_refuses),
	        cmocka_unit_test(test_simcan__options_refused),
	        cmocka_unit_test(test_simcan__slcan_pty),
	        cmocka_unit_test(test_simcan__slcan_inherited_master),
	        cmocka_unit_test(test_simcan__socketcand),
	        cmocka_unit_test(test_simcan__fault_injection),
	};
	return cmocka_run_group_tests_name("simcan", tests, NULL, NULL);
}
