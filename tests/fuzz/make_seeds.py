#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seed inputs of the fuzz targets into corpus/.

The MCB and simulator seeds are frames built here from the protocol rules
(DESIGN.md §5), checked against the golden frames there, so the fuzzers
start from valid requests and replies of every command instead of having
to find the CRC by chance. The dictionary images for fuzz_dbimage follow
src/db_image.c's layout. The XDF seeds are not here: run.sh and the
replay tests use tests/data/*.xdf and devices/*.xdf directly.

usage: make_seeds.py [--check]   (--check: fail if corpus/ differs)
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = 0xA
READ, WRITE, ACK, ERR_INFO, ERR_READ, ERR_WRITE = 1, 2, 3, 4, 5, 6


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def frame(cmd, subnode, address, value=b"", extended=False):
    """One MCB frame; extended when asked or when the value is over 8 bytes."""
    extended = extended or len(value) > 8
    w0 = subnode | NODE << 4
    w1 = (1 if extended else 0) | cmd << 1 | address << 4
    body = struct.pack("<Q", len(value)) if extended else value.ljust(8, b"\0")
    head = struct.pack("<HH", w0, w1) + body
    return head + struct.pack("<H", crc16(head)) + (value if extended else b"")


def want(subnode, address):
    """The two leading bytes of an fuzz_mcb input: the register the request asked for."""
    return bytes([subnode | (address & 0xF) << 4, address >> 4])


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


# The golden frames of DESIGN.md §5 must come out of frame() bit for bit.
GOLDEN = [
    (frame(READ, 1, 0x011), "a10012010000000000000000" "4b66"),
    (frame(ACK, 1, 0x011, u16(0x21)), "a10016012100000000000000c5f7"),
    (frame(WRITE, 1, 0x010, u16(0x0F)), "a10004010f00000000000000a058"),
    (frame(ACK, 1, 0x010, u16(0x0F)), "a10006010f000000000000002a86"),
    (frame(WRITE, 0, 0x0A1, u32(0x12345678)), "a000140a7856341200000000aa9e"),
    (frame(ERR_READ, 1, 0x011, u32(0x06010000)), "a1001a010000010600000000" "25a4"),
    (frame(WRITE, 0, 0x0B4, bytes(range(16)))[:14], "a000450b1000000000000000644d"),
]

MCB_SEEDS = {
    "read_request": want(1, 0x011) + frame(READ, 1, 0x011),
    "ack_status": want(1, 0x011) + frame(ACK, 1, 0x011, u16(0x21)),
    "ack_other_register": want(1, 0x012) + frame(ACK, 1, 0x011, u16(0x21)),
    "ack_write": want(1, 0x010) + frame(ACK, 1, 0x010, u16(0x0F)),
    "error_read": want(1, 0x011) + frame(ERR_READ, 1, 0x011, u32(0x06010000)),
    "error_write": want(0, 0x6E0) + frame(ERR_WRITE, 0, 0x6E0, u32(0x06010000)),
    "error_info": want(0, 0x000) + frame(ERR_INFO, 0, 0x000, u32(0x08000000)),
    "ack_extended_16": want(0, 0x0B4) + frame(ACK, 0, 0x0B4, bytes(range(16))),
    "ack_extended_512": want(0, 0x6F0) + frame(ACK, 0, 0x6F0, bytes(512)),
    "ack_extended_empty": want(0, 0x6E4) + frame(ACK, 0, 0x6E4, b"", extended=True),
    "ack_string": want(0, 0x6E4) + frame(ACK, 0, 0x6E4, b"1.2.0"),
    "write_extended": want(0, 0x0B4) + frame(WRITE, 0, 0x0B4, bytes(range(16))),
}

# Simulator sessions: byte 0 picks the model (bits 0-3), the reply buffer
# (bits 4-5, 0 = full size) and the clock step between frames (bits 6-7:
# 1 ms, 10 ms, 100 ms, 1 s), then requests back to back.
STEP_100MS = 0x80
ENABLE = [frame(WRITE, 1, 0x010, u16(c)) for c in (0x06, 0x07, 0x0F)]
WATCH = [frame(READ, 1, a) for a in (0x011, 0x030, 0x031)] * 4


def f32(v):
    return struct.pack("<f", v)


def s32(v):
    return struct.pack("<i", v)


IDENTITY = [frame(READ, 0, a) for a in (0x6E0, 0x6E1, 0x6E2, 0x6E4, 0x6E6, 0x0A0)]
SIM_SEEDS = {
    "identity_axs100": bytes([0]) + b"".join(IDENTITY),
    "identity_axs200": bytes([1]) + b"".join(IDENTITY),
    "identity_axs900": bytes([2]) + b"".join(IDENTITY),
    "enable_and_move": bytes([0]) + b"".join(ENABLE) + b"".join([
        frame(WRITE, 1, 0x024, u16(0)),
        frame(WRITE, 1, 0x025, struct.pack("<f", 10.0)),
        frame(WRITE, 1, 0x020, struct.pack("<i", 4000)),
        frame(WRITE, 1, 0x010, u16(0x1F)),
        frame(READ, 1, 0x011), frame(READ, 1, 0x030), frame(READ, 1, 0x031),
    ]),
    "fault_reset": bytes([0]) + b"".join([
        frame(WRITE, 1, 0x010, u16(0x80)), frame(WRITE, 1, 0x010, u16(0x00)),
        frame(READ, 1, 0x00F), frame(READ, 1, 0x011),
    ]),
    "store_restore": bytes([0]) + b"".join([
        frame(WRITE, 0, 0x6DB, u32(0x65766173)), frame(WRITE, 0, 0x6DC, u32(0x64616F6C)),
        frame(WRITE, 0, 0x6DB, u32(1)),
    ]),
    "user_data_512": bytes([0]) + frame(WRITE, 0, 0x6F0, bytes(range(256)) * 2)
    + frame(READ, 0, 0x6F0),
    "string_write": bytes([0]) + frame(WRITE, 0, 0x6E4, b"hello, drive") + frame(READ, 0, 0x6E4),
    "errors": bytes([0]) + b"".join([
        frame(READ, 0, 0xFFF), frame(WRITE, 0, 0x6E0, u32(1)), frame(READ, 15, 0x011),
        frame(WRITE, 1, 0x010, b"\x01"), frame(ACK, 1, 0x011), frame(READ, 1, 0x011)[:13],
    ]),
    "small_reply_buffer": bytes([0x10]) + frame(READ, 0, 0x6E4) + frame(READ, 0, 0x6F0),
    "axs900_axes": bytes([2]) + b"".join(frame(READ, s, 0x011) for s in range(1, 10)),
    "velocity_mode": bytes([STEP_100MS]) + b"".join([
        frame(WRITE, 1, 0x014, u16(0x03)), *ENABLE,
        frame(WRITE, 1, 0x021, f32(5.0)), *WATCH,
        frame(WRITE, 1, 0x021, f32(-2.0)), *WATCH,
    ]),
    "profile_velocity": bytes([STEP_100MS]) + b"".join([
        frame(WRITE, 1, 0x014, u16(0x13)), frame(WRITE, 1, 0x026, f32(4.0)),
        frame(WRITE, 1, 0x027, f32(8.0)), *ENABLE, frame(WRITE, 1, 0x021, f32(3.0)),
        *WATCH, frame(WRITE, 1, 0x010, u16(0x10F)), *WATCH,
    ]),
    "homing_here": bytes([STEP_100MS]) + b"".join([
        frame(WRITE, 1, 0x450, u16(0)), frame(WRITE, 1, 0x451, s32(1000)),
        frame(WRITE, 1, 0x014, u16(0x113)), *ENABLE, frame(WRITE, 1, 0x010, u16(0x1F)),
        *WATCH,
    ]),
    "homing_search": bytes([STEP_100MS]) + b"".join([
        frame(WRITE, 1, 0x450, u16(1)), frame(WRITE, 1, 0x452, f32(2.0)),
        frame(WRITE, 1, 0x453, f32(0.5)), frame(WRITE, 1, 0x454, f32(20.0)),
        frame(WRITE, 1, 0x455, u32(300)), frame(WRITE, 1, 0x7E3, s32(5000)),
        frame(WRITE, 1, 0x014, u16(0x113)), *ENABLE, frame(WRITE, 1, 0x010, u16(0x1F)),
        *WATCH, *WATCH,
    ]),
    "homing_index": bytes([STEP_100MS]) + b"".join([
        frame(WRITE, 1, 0x450, u16(7)), frame(WRITE, 1, 0x014, u16(0x113)), *ENABLE,
        frame(WRITE, 1, 0x010, u16(0x1F)), *WATCH,
    ]),
}

URI_SEEDS = [
    "eth://127.0.0.2", "eth://127.0.0.2:1061?timeout_ms=200", "eth://[::1]:1061",
    "eth://[fe80::1%25eth0]", "eth://h?iface=eth%301&timeout_ms=5", "eth://127.0.1.0/28",
    "eth://127.0.0.2,127.0.0.3", "serial:/dev/ttyUSB0?baud=115200", "usb:?vid=1209&pid=0001",
    "usb:1.4", "virtual:?model=axs-100&serial=7", "x:?k%20ey=v%26l%3d", "x:?flag&b=",
    "x:?a=b=c", "eth://h:65535", "eth://h?timeout_ms=0x3E8", "X+y.z-1://user@host:1/p?q",
]


# slcan lines and socketcand messages as adapters and servers send them.
SLCAN_SEEDS = {
    "sdo_expedited": b"t5858431810001CA70000\r",
    "sdo_segment_ts": b"t585800616263646566671A2B\r",
    "acks": b"\rz\rZ\r\a",
    "ext_rtr": b"T1FFFFFFF0\rR000007052\rr7050\rV1013\rN1234\r",
    "heartbeat_emcy": b"t705105\rt08581023010000000000\r",
    "socketcand": b"< hi >< ok >< frame 585 1700000000.123456 4318100001000000 >"
                  b"< frame 1FFFFFFF 0.0 >< error no such bus >",
}


def sdo_frame(*data, node_off=0x10):
    return bytes([node_off]) + bytes(data).ljust(8, b"\0")


# SDO transfers: byte 0 = cap << 1 | upload, then 9-byte frame records.
SDO_SEEDS = {
    "upload_expedited": bytes([8 << 1 | 1]) + sdo_frame(0x4B, 0x00, 0x20, 1, 0x37, 0x02),
    "upload_segmented": bytes([31 << 1 | 1])
    + sdo_frame(0x41, 0x00, 0x20, 1, 10)
    + sdo_frame(0x00, *b"abcdefg")
    + sdo_frame(0x10 | 4 << 1 | 1, *b"hij"),
    "upload_toggle_error": bytes([31 << 1 | 1])
    + sdo_frame(0x41, 0x00, 0x20, 1, 20)
    + sdo_frame(0x00, *b"abcdefg")
    + sdo_frame(0x00, *b"abcdefg"),
    "upload_abort": bytes([8 << 1 | 1]) + sdo_frame(0x80, 0x00, 0x20, 1, 0, 0, 2, 6),
    "download_expedited": bytes([2 << 1]) + sdo_frame(0x60, 0x00, 0x20, 1),
    "download_segmented": bytes([14 << 1])
    + sdo_frame(0x60, 0x00, 0x20, 1)
    + sdo_frame(0x20)
    + sdo_frame(0x30),
    "other_node": bytes([8 << 1 | 1]) + sdo_frame(0x43, 0x00, 0x20, 1, 1, 2, 3, 4, node_off=1),
}


# Dictionary images (src/db_image.c, layout 1) for fuzz_dbimage. The target
# writes the checksum itself, so these keep it zero. A register is (id,
# subnode, address, dtype, access, texts, default, monitoring, labels, enums,
# bitfields); texts are units, cyclic, address type, description, category,
# subcategory, range min and max (None: none).
IMAGE_NULL = 0xFFFFFFFF
U8, S16, U32, S32, FLOAT, STR, BOOL, BYTES = 1, 4, 5, 6, 9, 10, 11, 12
R, W, RW = 1, 2, 3
NO_TEXT = (None,) * 8


def image(regs=(), categories=(), errors=(), tables=()):
    """A dictionary image as the encoder writes it, with a zero checksum."""
    pool = bytearray()
    offsets = {}

    def text(s):
        if s is None:
            return u32(IMAGE_NULL)
        if s not in offsets:
            offsets[s] = len(pool)
            pool.extend(s.encode() + b"\0")
        return u32(offsets[s])

    rec = bytearray()
    n_labels = n_enums = n_bits = 0
    for rid, sub, addr, dtype, access, texts, default, mon, labels, enums, bits in regs:
        rec += text(rid) + bytes([sub]) + u32(addr) + bytes([dtype, access])
        rec += b"".join(text(t) for t in texts)
        if default:
            rec += u32(len(pool)) + u16(len(default))
            pool.extend(default)
        else:
            rec += u32(IMAGE_NULL) + u16(0)
        rec += bytes([1]) + u16(mon[0]) + bytes([mon[1]]) if mon else bytes(4)
        rec += u16(len(labels)) + u16(len(enums)) + u16(len(bits))
        for lang, label in labels:
            rec += text(lang) + text(label)
        for value, label in enums:
            rec += struct.pack("<q", value) + text(label)
        for name, start, end in bits:
            rec += text(name) + bytes([start, end])
        n_labels, n_enums, n_bits = n_labels + len(labels), n_enums + len(enums), n_bits + len(bits)
    for cid, label, parent in categories:
        rec += text(cid) + text(label) + text(parent)
    for code, msg, kind, module in errors:
        rec += u32(code) + text(msg) + text(kind) + text(module)
    for tid, axis, index_id, value_id in tables:
        rec += text(tid) + struct.pack("<h", axis) + text(index_id) + text(value_id)
    pool.append(0)
    counts = (len(regs), n_labels, n_enums, n_bits, len(categories), len(errors), len(tables),
              len(pool))
    return b"AXDI" + u32(1) + bytes(8) + struct.pack("<8I", *counts) + bytes(rec) + bytes(pool)


def reg(rid, sub, addr, dtype=U32, access=RW, texts=NO_TEXT, default=b"", mon=None,
        labels=(), enums=(), bits=()):
    return (rid, sub, addr, dtype, access, texts, default, mon, labels, enums, bits)


STATUS = reg("DRV_STATE_STATUS", 1, 0x011, U32, R,
             ("", "CYCLIC_TX", "NVM_NONE", "Status word", "STATE", "", None, None),
             mon=(0x011, 1), labels=(("en_US", "Status word"), ("de_DE", "Statuswort")),
             bits=(("ready", 0, 0), ("switched_on", 1, 1), ("fault", 3, 3), ("mode", 8, 11)))
MODE = reg("DRV_OP_CMD", 1, 0x014, S16, RW,
           ("", "CYCLIC_RX", "NVM", "Operation mode", "MOTION", "", "-1", "31"),
           default=struct.pack("<h", 3), labels=(("en_US", "Mode"),),
           enums=((1, "Position"), (3, "Velocity"), (-1, "Homing")))
IMAGE_SEEDS = {
    "empty": image(),
    "one_register": image([reg("CL_POS_FBK_VALUE", 1, 0x030, S32, R)]),
    "status_and_mode": image(
        [STATUS, MODE],
        categories=(("STATE", "State", None), ("MOTION", "Motion", "STATE")),
        errors=((0x2310, "Over-current", "ERROR", "Power stage"),
                (0x3210, "Over-voltage", None, None))),
    "defaults_of_each_size": image([
        reg("U8_REG", 0, 0x100, U8, RW, default=b"\x07"),
        reg("FLOAT_REG", 0, 0x101, FLOAT, RW,
            ("rev/s", "", "", "", "", "", "-1.5", "1.5"), default=struct.pack("<f", 0.25)),
        reg("BOOL_REG", 0, 0x102, BOOL, RW, default=b"\x01", mon=(0x102, 0)),
        reg("STR_REG", 0, 0x6E4, STR, R, default=b"1.2.0\0"),
        reg("BYTES_REG", 0, 0x6F0, BYTES, RW, default=bytes(range(16))),
    ]),
    "table": image(
        [reg("TBL_INDEX", 1, 0x200, U8, RW), reg("TBL_VALUE", 1, 0x201, S32, RW)],
        tables=(("CAM", 1, "TBL_INDEX", "TBL_VALUE"), ("CAM_ALL", -1, "TBL_INDEX",
                                                        "TBL_VALUE"))),
}


def expected():
    files = {}
    for name, data in MCB_SEEDS.items():
        files[os.path.join("mcb", name)] = data
    for name, data in SIM_SEEDS.items():
        files[os.path.join("simdrive", name)] = data
    for name, data in SLCAN_SEEDS.items():
        files[os.path.join("slcan", name)] = data
    for name, data in SDO_SEEDS.items():
        files[os.path.join("sdo", name)] = data
    for name, data in IMAGE_SEEDS.items():
        files[os.path.join("dbimage", name)] = data
    for i, text in enumerate(URI_SEEDS):
        files[os.path.join("uri", f"seed{i:02d}")] = text.encode()
    return files


def main():
    for got, hexstr in GOLDEN:
        if got.hex() != hexstr:
            sys.exit(f"make_seeds: frame {got.hex()} differs from DESIGN's {hexstr}")
    check = sys.argv[1:] == ["--check"]
    stale = []
    for rel, data in expected().items():
        path = os.path.join(HERE, "corpus", rel)
        if check:
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        stale.append(rel)
            except FileNotFoundError:
                stale.append(rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    if stale:
        sys.exit("make_seeds: corpus/ is out of date: " + ", ".join(stale))


if __name__ == "__main__":
    main()
