#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Write the axlink drive dictionaries in devices/ (IngeniaDictionary XML).

The three models share one register catalogue, so an id means the same
thing, at the same address, on every model; a model picks the parts it has
(features) and its ratings. The catalogue is written out here rather than in
each .xdf because most of a dictionary repeats: per axis, and per interface
(ETH and EoE describe the same registers).

    devices/gen_xdf.py            rewrite devices/*.xdf
    devices/gen_xdf.py --check    exit 1 if a file differs from what it would write,
                                  or a version 3 file in the folder (its own or
                                  not) lacks an attribute the format makes mandatory
    devices/gen_xdf.py --out DIR  write into DIR instead (--check: check DIR)
    devices/gen_xdf.py --validate FILE...   only the version 3 check, on FILEs

The simulator (tools/sim/drive/simdrive.c) serves axs-100 and axs-200 and is to be
generated from these files, so both agree register for register. Conventions:
  - address_type "NVM" marks a configuration parameter: "restore all" puts it
    back to its default; every other register is "NVM_NONE".
  - the default of a register is the value a freshly started drive reads,
    identity included (vendor, product, revision, axis count, version text);
    the serial number is per unit and defaults to 0.
Standard library only; output is byte-for-byte deterministic.
"""

import argparse
import glob
import os
import struct
import sys
import xml.sax
from xml.sax.saxutils import escape

VENDOR_ID = 0x0000A71C

# ---------------------------------------------------------------------------
# data types

INT_FORMATS = {
    "u8": "<B", "s8": "<b", "u16": "<H", "s16": "<h",
    "u32": "<I", "s32": "<i", "u64": "<Q", "s64": "<q",
}
BYTE_ARRAY_SIZE = 512


def dtype_bits(dtype):
    return struct.calcsize(INT_FORMATS[dtype]) * 8


def value_bytes(dtype, value):
    """Little-endian bytes of @value as @dtype (what v3 `default` spells in hex)."""
    if dtype in INT_FORMATS:
        return struct.pack(INT_FORMATS[dtype], value)
    if dtype == "float":
        return struct.pack("<f", value)
    if dtype == "bool":
        return bytes([1 if value else 0])
    if dtype == "str":
        return value.encode("utf-8")
    if dtype == "byteArray512":
        return bytes(value)
    raise ValueError("unknown dtype " + dtype)


def storage_text(dtype, value):
    """The v2 `storage` text of @value, or None when v2 has no spelling for it."""
    if dtype in INT_FORMATS:
        return str(value)
    if dtype == "float":
        return repr(float(value))
    if dtype == "bool":
        return "1" if value else "0"
    if dtype == "str":
        return value
    return None  # byteArray512: v2 has no text form; absent means all zero


def num_text(value):
    return repr(float(value)) if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------
# registers


class Reg:
    """One register of the catalogue (subnode is given when it is placed)."""

    def __init__(self, rid, address, dtype, access, default, label, desc, cat,
                 scat=None, units="none", cyclic="CONFIG", nvm=False, rng=None,
                 enums=None, bits=None, es=None):
        assert access in ("r", "w", "rw"), rid
        assert 0 <= address <= 0xFFF, rid
        self.id = rid
        self.address = address
        self.dtype = dtype
        self.access = access
        self.default = default
        self.label = label
        self.desc = desc
        self.cat = cat
        self.scat = scat
        self.units = units
        self.cyclic = cyclic
        self.address_type = "NVM" if nvm else "NVM_NONE"
        self.range = rng
        self.enums = enums or []
        self.bits = bits or []
        self.es = es
        value_bytes(dtype, default)  # refuse a default the type cannot hold


r_ = Reg  # the catalogue below is long: a short constructor name keeps it readable


# Operation modes of MCB drives (DESIGN §7), the value of DRV_OP_CMD / DRV_OP_VALUE.
OP_MODES = [
    (0x00, "Voltage"),
    (0x02, "Current"),
    (0x03, "Velocity"),
    (0x13, "Profile velocity"),
    (0x04, "Position"),
    (0x14, "Profile position"),
    (0x24, "Cyclic position"),
    (0x113, "Homing"),
    (0x05, "Torque"),
]

HOMING_METHODS = [
    (0, "Current position is home"),
    (1, "Home switch, positive direction"),
    (2, "Home switch, negative direction"),
    (3, "Positive limit switch"),
    (4, "Negative limit switch"),
    (5, "Positive limit switch, then index pulse"),
    (6, "Negative limit switch, then index pulse"),
    (7, "Index pulse, positive direction"),
    (8, "Index pulse, negative direction"),
    (9, "Mechanical stop, positive direction"),
    (10, "Mechanical stop, negative direction"),
]

# CiA 402 status word (DESIGN §7). Bits 12 and 13 mean different things per
# mode, so both readings are given (overlapping fields).
STATUS_BITS = [
    ("READY_TO_SWITCH_ON", 0, 0),
    ("SWITCHED_ON", 1, 1),
    ("OPERATION_ENABLED", 2, 2),
    ("FAULT", 3, 3),
    ("VOLTAGE_ENABLED", 4, 4),
    ("QUICK_STOP", 5, 5),
    ("SWITCH_ON_DISABLED", 6, 6),
    ("WARNING", 7, 7),
    ("REMOTE", 9, 9),
    ("TARGET_REACHED", 10, 10),
    ("INTERNAL_LIMIT_ACTIVE", 11, 11),
    ("SET_POINT_ACKNOWLEDGE", 12, 12),
    ("FOLLOWING_ERROR", 13, 13),
    ("HOMING_ATTAINED", 12, 12),
    ("HOMING_ERROR", 13, 13),
    ("OPERATION_MODE_SPECIFIC", 12, 13),
]

CONTROL_BITS = [
    ("SWITCH_ON", 0, 0),
    ("ENABLE_VOLTAGE", 1, 1),
    ("QUICK_STOP", 2, 2),
    ("ENABLE_OPERATION", 3, 3),
    ("NEW_SET_POINT", 4, 4),
    ("CHANGE_SET_IMMEDIATELY", 5, 5),
    ("RELATIVE", 6, 6),
    ("FAULT_RESET", 7, 7),
    ("HALT", 8, 8),
    ("TARGET_LATCH", 9, 9),
    ("OPERATION_MODE_SPECIFIC", 4, 6),
]

# CiA 402 positioning option code.
POS_OPTION_BITS = [
    ("RELATIVE_OPTION", 0, 1),
    ("CHANGE_IMMEDIATELY_OPTION", 2, 3),
    ("REQUEST_RESPONSE_OPTION", 4, 5),
    ("ROTARY_AXIS_DIRECTION", 6, 7),
]

STO_BITS = [
    ("STO1_INPUT", 0, 0),
    ("STO2_INPUT", 1, 1),
    ("STO_SUPPLY_FAULT", 2, 2),
    ("STO_ABNORMAL_FAULT", 3, 3),
    ("STO_ACTIVE", 4, 4),
]


def sensor_enums(f):
    e = [(0, "Digital halls"), (1, "Incremental encoder 1")]
    if f.get("encoder2"):
        e.append((2, "Incremental encoder 2"))
    if f.get("biss"):
        e.append((3, "Absolute encoder (BiSS-C)"))
    e.append((4, "Internal generator"))
    return e


def input_functions():
    return [
        (0, "General purpose"),
        (1, "Positive limit switch"),
        (2, "Negative limit switch"),
        (3, "Home switch"),
        (4, "Quick stop"),
        (5, "Fault reset"),
        (6, "Enable"),
    ]


def output_functions():
    return [
        (0, "General purpose"),
        (1, "Fault"),
        (2, "Operation enabled"),
        (3, "Target reached"),
        (4, "Brake control"),
    ]


def version_text(m):
    # What the drive's firmware reports; the simulated models say so.
    return "%s fw %s-sim" % (m["name"], m["firmware"])


# ---- subnode 0: communication core ----------------------------------------


def comm_registers(m):
    f = m["features"]
    regs = [
        r_("DRV_DIAG_ERROR_LAST_COM", 0x00F, "s32", "r", 0, "Last error",
           "Code of the last error the communication core raised (0: none).",
           "REPORTING", cyclic="CYCLIC_TX",
           es="Último error"),
        r_("DRV_DIAG_ERROR_TOTAL_COM", 0x00E, "u16", "r", 0, "Number of errors",
           "Errors recorded in the error list since power-on.", "REPORTING",
           scat="ERROR_HISTORY"),
        r_("DRV_DIAG_ERROR_LIST_IDX", 0x00C, "u16", "rw", 0, "Error list index",
           "Selects the entry of the error list that DRV_DIAG_ERROR_LIST_CODE "
           "shows; 0 is the newest.", "REPORTING", scat="ERROR_HISTORY",
           rng=(0, m["error_list"] - 1)),
        r_("DRV_DIAG_ERROR_LIST_CODE", 0x00D, "s32", "r", 0, "Error list code",
           "Code of the error list entry DRV_DIAG_ERROR_LIST_IDX selects.",
           "REPORTING", scat="ERROR_HISTORY"),
        r_("DRV_AXIS_NUMBER", 0x0A0, "u16", "r", m["axes"], "Number of axes",
           "Number of axis subnodes (1..n) the drive has.", "IDENTIFICATION",
           es="Número de ejes"),
        r_("COMMS_WATCHDOG_TIMEOUT", 0x0A8, "u16", "rw", 0, "Communication watchdog",
           "Time without a request after which every axis gets a quick stop; "
           "0 disables the watchdog.", "COMMUNICATIONS", units="ms", nvm=True,
           rng=(0, 10000)),
    ]
    if f.get("ethernet_config"):
        regs += [
            r_("COMMS_ETH_IP", 0x0A1, "u32", "rw", 0xC0A8010A, "IP address",
               "IPv4 address used after the next power-on (first octet in the "
               "most significant byte).", "COMMUNICATIONS", nvm=True),
            r_("COMMS_ETH_NET_MASK", 0x0A2, "u32", "rw", 0xFFFFFF00, "Network mask",
               "IPv4 network mask used after the next power-on.", "COMMUNICATIONS",
               nvm=True),
            r_("COMMS_ETH_GW", 0x0A3, "u32", "rw", 0xC0A80101, "Gateway",
               "IPv4 default gateway used after the next power-on.",
               "COMMUNICATIONS", nvm=True),
            r_("COMMS_ETH_MAC", 0x0A4, "u64", "r", 0x02A71C000900, "MAC address",
               "Ethernet MAC address (48 bits, first octet in bits 40..47; "
               "locally administered).",
               "COMMUNICATIONS"),
            r_("COMMS_ETH_DHCP", 0x0A5, "u16", "rw", 0, "Address assignment",
               "How the drive gets its IPv4 configuration at power-on.",
               "COMMUNICATIONS", nvm=True,
               enums=[(0, "Static (stored address)"), (1, "DHCP"),
                      (2, "DHCP, static on timeout")]),
        ]
    regs += monitoring_registers(m)
    regs += [
        r_("DRV_PROT_BOARD_TEMP_VALUE", 0x063, "float", "r", 25.0,
           "Control board temperature",
           "Temperature of the communication and control board.", "REPORTING",
           units="°C", cyclic="CYCLIC_TX"),
        r_("DRV_UPTIME_VALUE", 0x6E8, "u32", "r", 0, "Time since power-on",
           "Seconds since the drive was powered or reset.", "REPORTING",
           units="s"),
        r_("DRV_STORE_COCO_ALL", 0x6DB, "u32", "rw", 1, "Store all (communication)",
           "Write 0x65766173 (\"save\") to store every communication parameter "
           "in non-volatile memory. Reads 1: the drive saves on command.",
           "STORAGE", es="Guardar todo (comunicaciones)"),
        r_("DRV_RESTORE_COCO_ALL", 0x6DC, "u32", "w", 0, "Restore all (communication)",
           "Write 0x64616F6C (\"load\") to put every parameter back to its "
           "default.", "STORAGE"),
        r_("DRV_ID_VENDOR_ID_COCO", 0x6E0, "u32", "r", VENDOR_ID, "Vendor ID",
           "Vendor identifier (the axlink project).", "IDENTIFICATION",
           es="Identificador del fabricante"),
        r_("DRV_ID_PRODUCT_CODE_COCO", 0x6E1, "u32", "r", m["product"], "Product code",
           "Product code of the drive model.", "IDENTIFICATION",
           es="Código de producto"),
        r_("DRV_ID_REVISION_NUMBER_COCO", 0x6E2, "u32", "r", m["revision"],
           "Revision number", "Hardware and firmware revision of the model.",
           "IDENTIFICATION"),
        r_("DRV_APP_COCO_VERSION", 0x6E4, "str", "r", version_text(m),
           "Firmware version (communication)",
           "Version text of the communication core firmware.", "IDENTIFICATION"),
        r_("DRV_BOOT_COCO_VERSION", 0x6E5, "str", "r", m["bootloader"],
           "Bootloader version", "Version text of the bootloader.", "IDENTIFICATION"),
        r_("DRV_ID_SERIAL_NUMBER_COCO", 0x6E6, "u32", "r", 0, "Serial number",
           "Serial number of the unit (set in production).", "IDENTIFICATION",
           es="Número de serie"),
        r_("DRV_USER_DATA", 0x6F0, "byteArray512", "rw", bytes(BYTE_ARRAY_SIZE),
           "User data", "512 bytes kept for the application (machine id, "
           "calibration...); stored by store all.", "STORAGE", nvm=True),
    ]
    return regs


def monitoring_registers(m):
    """Monitoring (drive-side oscilloscope) and disturbance (signal injection),
    protocol version 3: the ids, addresses, types and access of the vendor
    dictionaries of MCB drives, so clients of the protocol work unchanged. Every
    register sits on subnode 0. A monitored or disturbed register is named by a
    map word: (monitoring address | subnode << 12) << 16 | dtype code << 8 | bytes;
    its monitoring address is the MonDistV3 element of the register (v3 files)."""
    mon_size, dist_size = m["mon_buffer"], m["dist_buffer"]
    map_desc = ("Register %s channel %d: bits 16-31 its monitoring address | "
                "subnode << 12, bits 8-15 its type (0 u8, 1 s8, 2 u16, 3 s16, 4 u32, "
                "5 s32, 6 u64, 7 s64, 8 float), bits 0-7 its size in bytes. The drive "
                "refuses a register it cannot %s.")
    stage = [(0, "Init"), (1, "Filling pre-trigger data"), (2, "Waiting for trigger"),
             (3, "Acquiring"), (4, "End")]
    regs = [
        r_("MON_DIST_STATUS", 0x0B0, "u32", "r", 0, "Monitoring status",
           "State of the monitoring: bit 0 enabled, bits 1-3 the stage (0 init, "
           "1 filling pre-trigger data, 2 waiting for trigger, 3 acquiring, 4 end), "
           "bit 4 a frame of data is available.", "MONITORING",
           bits=[("MONITORING_ENABLED", 0, 0), ("MONITORING_PROCESS_STAGE", 1, 3),
                 ("MONITORING_FRAME_AVAILABLE", 4, 4)]),
        r_("MON_CFG_CYCLES_VALUE", 0x0B1, "u32", "r", 0, "Monitoring samples available",
           "Samples (blocks) of the capture still to read.", "MONITORING", units="cnt"),
        r_("MON_DATA_VALUE", 0x0B2, "byteArray512", "r", bytes(BYTE_ARRAY_SIZE),
           "Monitoring data", "Read with extended frames: the next bytes of the "
           "capture (at most 512), which leave the buffer.", "MONITORING"),
        r_("DIST_CFG_CYCLES", 0x0B3, "u32", "r", 0, "Disturbance samples loaded",
           "Complete samples (blocks) of the waveform written so far.", "MONITORING",
           units="cnt"),
        r_("DIST_DATA_VALUE", 0x0B4, "byteArray512", "w", bytes(BYTE_ARRAY_SIZE),
           "Disturbance data", "Written with extended frames: the next bytes of the "
           "waveform (at most 512), blocks laid out as the map says.", "MONITORING"),
        r_("MON_MAX_SIZE", 0x0B5, "u32", "r", mon_size, "Monitoring buffer size",
           "Bytes the capture buffer holds: window samples times bytes per block.",
           "MONITORING", units="B"),
        r_("DIST_MAX_SIZE", 0x0B6, "u32", "r", dist_size, "Disturbance buffer size",
           "Bytes the waveform buffer holds.", "MONITORING", units="B"),
        r_("MON_CFG_BYTES_VALUE", 0x0B7, "u32", "r", 0, "Monitoring bytes available",
           "Bytes of the capture still to read from MON_DATA_VALUE.", "MONITORING",
           units="B"),
        r_("DIST_CFG_BYTES", 0x0B8, "u32", "r", 0, "Disturbance bytes loaded",
           "Bytes of the waveform written so far.", "MONITORING", units="B"),
        r_("MON_DIST_VERSION", 0x0BA, "u32", "r", 3, "Monitoring version",
           "Version of the monitoring and disturbance protocol (3).", "MONITORING"),
        r_("DIST_STATUS", 0x0BF, "u32", "r", 0, "Disturbance status",
           "State of the disturbance: bit 0 enabled, bit 1 playing the waveform.",
           "MONITORING", bits=[("DISTURBANCE_ENABLED", 0, 0),
                               ("DISTURBANCE_PLAYING", 1, 1)]),
        r_("MON_DIST_ENABLE", 0x0C0, "u16", "rw", 0, "Monitoring enable",
           "1 starts a capture with the configuration written, 0 stops it.",
           "MONITORING", enums=[(0, "Disabled"), (1, "Enabled")]),
        r_("MON_DIST_FREQ_DIV", 0x0C1, "u16", "rw", 1, "Monitoring prescaler",
           "Take a sample every n-th cycle of the position and velocity loop "
           "(DRV_POS_VEL_RATE).", "MONITORING", units="cnt", rng=(1, 65535)),
        r_("MON_CFG_TRIGGER_DELAY", 0x0C2, "u32", "rw", 0, "Pre-trigger samples",
           "Samples of the window taken before the trigger.", "MONITORING",
           units="cnt"),
        r_("MON_CFG_WINDOW_SAMP", 0x0C3, "u32", "rw", 1024, "Monitoring window",
           "Samples per capture, the pre-trigger samples included.", "MONITORING",
           units="cnt"),
        r_("DIST_CFG_SAMPLES", 0x0C4, "u32", "rw", 0, "Disturbance samples",
           "Samples of the waveform, each a block of the mapped registers.",
           "MONITORING", units="cnt"),
        r_("DIST_FREQ_DIV", 0x0C5, "u16", "rw", 1, "Disturbance prescaler",
           "Play a sample every n-th cycle of the position and velocity loop "
           "(DRV_POS_VEL_RATE).", "MONITORING", units="cnt", rng=(1, 65535)),
        r_("DIST_ENABLE", 0x0C7, "u16", "rw", 0, "Disturbance enable",
           "1 plays the waveform into the mapped registers, 0 stops it.",
           "MONITORING", enums=[(0, "Disabled"), (1, "Enabled")]),
        r_("MON_CFG_TOTAL_MAP", 0x0E3, "u16", "rw", 0, "Monitoring channels",
           "Channels in use (MON_CFG_REG0_MAP on); writing 0 clears the map.",
           "MONITORING", units="cnt", rng=(0, 16)),
        r_("MON_CFG_BYTES_PER_BLOCK", 0x0E4, "u16", "r", 0, "Monitoring block size",
           "Bytes of one sample of every channel (the sum of the mapped sizes).",
           "MONITORING", units="B"),
        r_("DIST_CFG_MAP_REGS", 0x0E8, "u16", "rw", 0, "Disturbance channels",
           "Channels in use (DIST_CFG_REG0_MAP on); writing 0 clears the map.",
           "MONITORING", units="cnt", rng=(0, 16)),
        r_("DIST_CFG_BYTES_PER_BLOCK", 0x0E9, "u16", "r", 0, "Disturbance block size",
           "Bytes of one waveform sample of every channel.", "MONITORING", units="B"),
        r_("MON_REMOVE_DATA", 0x0EA, "u16", "w", 0, "Discard monitoring data",
           "Write 1 to discard the captured data.", "MONITORING"),
        r_("DIST_REMOVE_DATA", 0x0EB, "u16", "w", 0, "Discard disturbance data",
           "Write 1 to discard the waveform.", "MONITORING"),
        r_("MON_CFG_SOC_TYPE", 0x0F0, "u16", "rw", 0, "Trigger type",
           "What starts the capture after the pre-trigger samples.", "MONITORING",
           enums=[(0, "Automatic"), (1, "Forced"), (2, "Edge")]),
        r_("MON_CFG_EOC_TYPE", 0x0F1, "u16", "rw", 0, "Trigger edge",
           "Which crossing of MON_CFG_RISING_CONDITION by the trigger channel "
           "starts an edge-triggered capture.", "MONITORING",
           enums=[(0, "Rising or falling"), (1, "Rising"), (2, "Falling")]),
        r_("MON_CMD_FORCE_TRIGGER", 0x0F3, "u16", "w", 0, "Force trigger",
           "Write 1 to trigger a capture now (trigger type forced).", "MONITORING"),
        r_("MON_CFG_RISING_CONDITION", 0x0F4, "u32", "rw", 0, "Trigger level",
           "Level of the edge trigger: the bits of a value of the trigger "
           "channel's type (a float's IEEE bits, a signed value in two's "
           "complement).", "MONITORING"),
        r_("MON_IDX_CHECK", 0x0F5, "u16", "rw", 0, "Trigger channel",
           "Mapped channel the edge trigger watches (0 = MON_CFG_REG0_MAP).",
           "MONITORING", rng=(0, 15)),
        r_("MON_REARM", 0x0F7, "u16", "w", 0, "Re-arm monitoring",
           "Write 1 after reading a capture to start the next one with the same "
           "configuration.", "MONITORING"),
    ]
    for i in range(16):
        regs.append(r_("MON_CFG_REG%d_MAP" % i, 0x0D0 + i, "u32", "rw", 0,
                       "Monitoring channel %d" % i,
                       map_desc % ("sampled on monitoring", i, "sample"), "MONITORING"))
        regs.append(r_("DIST_CFG_REG%d_MAP" % i, 0x090 + i, "u32", "rw", 0,
                       "Disturbance channel %d" % i,
                       map_desc % ("written by disturbance", i, "write"), "MONITORING"))
    return regs


# ---- subnodes 1..n: one axis ----------------------------------------------


def axis_registers(m):
    f = m["features"]
    peak, rated = m["peak_current"], m["rated_current"]
    regs = [
        # state machine and operation mode
        r_("DRV_DIAG_ERROR_LAST", 0x00F, "s32", "r", 0, "Last error",
           "Code of the fault that stopped the axis (0: none).", "REPORTING",
           cyclic="CYCLIC_TX", es="Último error"),
        r_("DRV_DIAG_ERROR_TOTAL", 0x00E, "u16", "r", 0, "Number of axis errors",
           "Faults of this axis since power-on.", "REPORTING", scat="ERROR_HISTORY"),
        r_("DRV_STATE_CONTROL", 0x010, "u16", "rw", 0, "Control word",
           "CiA 402 control word: drives the state machine and starts moves.",
           "DRIVE_STATE", cyclic="CYCLIC_RX", bits=CONTROL_BITS,
           es="Palabra de control"),
        r_("DRV_STATE_STATUS", 0x011, "u16", "r", 0, "Status word",
           "CiA 402 status word: state of the drive state machine.", "DRIVE_STATE",
           cyclic="CYCLIC_TX", bits=STATUS_BITS, es="Palabra de estado"),
        r_("DRV_OP_CMD", 0x014, "u16", "rw", 0x14, "Operation mode",
           "Operation mode requested; takes effect at once, the set point is "
           "reset to the present position.", "DRIVE_STATE", cyclic="CYCLIC_RX",
           enums=OP_MODES, es="Modo de operación"),
        r_("DRV_OP_VALUE", 0x015, "u16", "r", 0x14, "Operation mode display",
           "Operation mode in effect.", "DRIVE_STATE", cyclic="CYCLIC_TX",
           enums=OP_MODES, es="Modo de operación actual"),
        # set points
        r_("CL_VOL_Q_SET_POINT", 0x018, "float", "rw", 0.0, "Quadrature voltage set point",
           "Voltage set point in voltage mode.", "TARGET", units="V",
           cyclic="CYCLIC_RX"),
        r_("CL_VOL_D_SET_POINT", 0x019, "float", "rw", 0.0, "Direct voltage set point",
           "Direct-axis voltage set point in voltage mode.", "TARGET", units="V",
           cyclic="CYCLIC_RX"),
        r_("CL_CUR_Q_SET_POINT", 0x01A, "float", "rw", 0.0, "Quadrature current set point",
           "Torque-producing current set point in current mode.", "TARGET",
           units="A", cyclic="CYCLIC_RX"),
        r_("CL_CUR_D_SET_POINT", 0x01B, "float", "rw", 0.0, "Direct current set point",
           "Direct-axis current set point (field weakening when negative).",
           "TARGET", units="A", cyclic="CYCLIC_RX"),
        r_("CL_POS_SET_POINT_VALUE", 0x020, "s32", "rw", 0, "Position set point",
           "Target position in position modes.", "TARGET", units="cnt",
           cyclic="CYCLIC_RX", es="Consigna de posición"),
        r_("CL_VEL_SET_POINT_VALUE", 0x021, "float", "rw", 0.0, "Velocity set point",
           "Target velocity in velocity modes.", "TARGET", units="rev/s",
           cyclic="CYCLIC_RX", es="Consigna de velocidad"),
        # profiler
        r_("PROF_POS_OPTION_CODE", 0x024, "u16", "rw", 0, "Position option code",
           "How profile position treats new and relative targets (CiA 402).",
           "PROFILER", nvm=True, bits=POS_OPTION_BITS),
        r_("PROF_MAX_VEL", 0x025, "float", "rw", 10.0, "Maximum profile velocity",
           "Cruise velocity of position profiles and limit of velocity modes.",
           "PROFILER", units="rev/s", nvm=True),
        r_("PROF_MAX_ACC", 0x026, "float", "rw", 100.0, "Maximum profile acceleration",
           "Acceleration of the profiles.", "PROFILER", units="rev/s^2", nvm=True),
        r_("PROF_MAX_DEC", 0x027, "float", "rw", 100.0, "Maximum profile deceleration",
           "Deceleration of the profiles.", "PROFILER", units="rev/s^2", nvm=True),
        r_("PROF_QUICK_STOP_DEC", 0x028, "float", "rw", 1000.0, "Quick stop deceleration",
           "Deceleration of a quick stop.", "PROFILER", units="rev/s^2", nvm=True,
           rng=(0.0, 100000.0)),
        r_("PROF_POS_WINDOW", 0x02A, "u32", "rw", 10, "Position window",
           "Distance to the target within which the target counts as reached.",
           "PROFILER", units="cnt", nvm=True, rng=(0, 1000000)),
        r_("PROF_POS_WINDOW_TIME", 0x02B, "u16", "rw", 5, "Position window time",
           "Time the position must stay in the window before target reached.",
           "PROFILER", units="ms", nvm=True, rng=(0, 10000)),
        # feedback values
        r_("CL_POS_FBK_VALUE", 0x030, "s32", "r", 0, "Actual position",
           "Position of the position feedback sensor.", "REPORTING", units="cnt",
           cyclic="CYCLIC_TX", es="Posición actual"),
        r_("CL_VEL_FBK_VALUE", 0x031, "float", "r", 0.0, "Actual velocity",
           "Velocity of the velocity feedback sensor.", "REPORTING", units="rev/s",
           cyclic="CYCLIC_TX", es="Velocidad actual"),
        r_("CL_POS_REF_VALUE", 0x032, "s32", "r", 0, "Position demand",
           "Position the profiler commands to the position loop.", "REPORTING",
           units="cnt", cyclic="CYCLIC_TX"),
        r_("CL_VEL_REF_VALUE", 0x033, "float", "r", 0.0, "Velocity demand",
           "Velocity the profiler or position loop commands.", "REPORTING",
           units="rev/s", cyclic="CYCLIC_TX"),
        r_("CL_POS_FOLLOWING_ERROR_VALUE", 0x034, "s32", "r", 0, "Following error",
           "Position demand minus actual position.", "REPORTING", units="cnt",
           cyclic="CYCLIC_TX"),
        r_("CL_CUR_A_VALUE", 0x038, "float", "r", 0.0, "Phase A current",
           "Current of motor phase A.", "REPORTING", units="A", cyclic="CYCLIC_TX"),
        r_("CL_CUR_B_VALUE", 0x039, "float", "r", 0.0, "Phase B current",
           "Current of motor phase B.", "REPORTING", units="A", cyclic="CYCLIC_TX"),
        r_("CL_CUR_C_VALUE", 0x03A, "float", "r", 0.0, "Phase C current",
           "Current of motor phase C.", "REPORTING", units="A", cyclic="CYCLIC_TX"),
        r_("CL_CUR_Q_VALUE", 0x03B, "float", "r", 0.0, "Actual quadrature current",
           "Torque-producing current.", "REPORTING", units="A", cyclic="CYCLIC_TX",
           es="Corriente en cuadratura"),
        r_("CL_CUR_D_VALUE", 0x03C, "float", "r", 0.0, "Actual direct current",
           "Direct-axis current.", "REPORTING", units="A", cyclic="CYCLIC_TX"),
        r_("CL_CUR_Q_REF_VALUE", 0x03D, "float", "r", 0.0, "Current demand",
           "Quadrature current the velocity loop commands.", "REPORTING",
           units="A", cyclic="CYCLIC_TX"),
        # power stage measurements
        r_("DRV_PROT_VBUS_VALUE", 0x060, "float", "r", 48.0, "DC bus voltage",
           "Voltage of the DC link.", "REPORTING", units="V", cyclic="CYCLIC_TX",
           es="Tensión del bus DC"),
        r_("DRV_PROT_TEMP_VALUE", 0x061, "float", "r", 25.0, "Power stage temperature",
           "Temperature of the power stage of this axis.", "REPORTING",
           units="°C", cyclic="CYCLIC_TX"),
        r_("DRV_PROT_MOT_TEMP_VALUE", 0x062, "float", "r", 25.0, "Motor temperature",
           "Temperature the motor sensor reports (MOT_TEMP_SENSOR).", "REPORTING",
           units="°C", cyclic="CYCLIC_TX"),
        r_("DRV_PROT_I2T_VALUE", 0x064, "float", "r", 0.0, "Motor I2t load",
           "Thermal load of the motor winding; a fault at 100 %.", "REPORTING",
           units="%", cyclic="CYCLIC_TX"),
        r_("DRV_PROT_STO_STATUS", 0x065, "u16", "r", 0x0003, "Safe torque off status",
           "State of the two STO inputs (1: energised, torque allowed).",
           "PROTECTIONS", cyclic="CYCLIC_TX", bits=STO_BITS),
    ]
    if f.get("extra_monitoring"):
        regs += [
            r_("FBK_DIGENC1_VALUE", 0x040, "s32", "r", 0, "Encoder 1 position",
               "Raw count of incremental encoder 1.", "REPORTING", units="cnt",
               cyclic="CYCLIC_TX"),
            r_("FBK_DIGENC2_VALUE", 0x041, "s32", "r", 0, "Encoder 2 position",
               "Raw count of incremental encoder 2.", "REPORTING", units="cnt",
               cyclic="CYCLIC_TX"),
            r_("FBK_DIGHALL_VALUE", 0x042, "u16", "r", 1, "Hall sensors",
               "State of the three Hall inputs.", "REPORTING", cyclic="CYCLIC_TX",
               bits=[("HALL_A", 0, 0), ("HALL_B", 1, 1), ("HALL_C", 2, 2)]),
            r_("FBK_BISS1_VALUE", 0x043, "u32", "r", 0, "Absolute encoder position",
               "Position word of the BiSS-C encoder.", "REPORTING", units="cnt",
               cyclic="CYCLIC_TX"),
            r_("CL_VOL_Q_VALUE", 0x044, "float", "r", 0.0, "Quadrature voltage",
               "Quadrature voltage the current loop applies.", "REPORTING",
               units="V", cyclic="CYCLIC_TX"),
            r_("CL_VOL_D_VALUE", 0x045, "float", "r", 0.0, "Direct voltage",
               "Direct-axis voltage the current loop applies.", "REPORTING",
               units="V", cyclic="CYCLIC_TX"),
            r_("DRV_PROT_POWER_VALUE", 0x046, "float", "r", 0.0, "Output power",
               "Electrical power delivered to the motor.", "REPORTING", units="W",
               cyclic="CYCLIC_TX"),
            r_("CL_TOR_VALUE", 0x047, "float", "r", 0.0, "Actual torque",
               "Quadrature current times the torque constant.", "REPORTING",
               units="N·m", cyclic="CYCLIC_TX"),
            r_("CL_TOR_SET_POINT_VALUE", 0x01C, "float", "rw", 0.0, "Torque set point",
               "Target torque in torque mode.", "TARGET", units="N·m",
               cyclic="CYCLIC_RX"),
            r_("PROF_MAX_JERK", 0x029, "float", "rw", 10000.0, "Maximum profile jerk",
               "Jerk of S-curve profiles; 0 selects trapezoidal profiles.",
               "PROFILER", units="rev/s^3", nvm=True, rng=(0.0, 1000000.0)),
        ]
    # commutation and feedback selection
    regs += [
        r_("COMMU_ANGLE_SENSOR", 0x150, "u16", "rw", 0, "Commutation sensor",
           "Sensor giving the electrical angle.", "COMMUTATION", nvm=True,
           enums=sensor_enums(f)),
        r_("CL_POS_FBK_SENSOR", 0x151, "u16", "rw", 1, "Position feedback sensor",
           "Sensor closing the position loop.", "FEEDBACK", nvm=True,
           enums=sensor_enums(f)),
        r_("CL_VEL_FBK_SENSOR", 0x152, "u16", "rw", 1, "Velocity feedback sensor",
           "Sensor closing the velocity loop.", "FEEDBACK", nvm=True,
           enums=sensor_enums(f)),
        r_("COMMU_ANGLE_OFFSET", 0x153, "float", "rw", 0.0, "Commutation offset",
           "Electrical angle of the commutation sensor at its zero.", "COMMUTATION",
           units="rev", nvm=True, rng=(0.0, 1.0)),
        r_("COMMU_PHASING_MODE", 0x154, "u16", "rw", 0, "Phasing mode",
           "How the electrical angle is found at enable.", "COMMUTATION", nvm=True,
           enums=[(0, "Non forced"), (1, "Forced"), (2, "No phasing")]),
        r_("FBK_DIGENC1_TYPE", 0x380, "u16", "rw", 1, "Encoder 1 type",
           "Electrical interface of incremental encoder 1.", "FEEDBACK",
           scat="DIGITAL_ENCODER", nvm=True,
           enums=[(0, "Single ended"), (1, "Differential")]),
        r_("FBK_DIGENC1_POLARITY", 0x381, "u16", "rw", 0, "Encoder 1 polarity",
           "Counting direction of incremental encoder 1.", "FEEDBACK",
           scat="DIGITAL_ENCODER", nvm=True, enums=[(0, "Normal"), (1, "Reversed")]),
        r_("FBK_DIGENC1_RESOLUTION", 0x388, "u32", "rw", 4096, "Encoder 1 resolution",
           "Counts per revolution of incremental encoder 1 (after x4 decoding).",
           "FEEDBACK", scat="DIGITAL_ENCODER", units="cnt", nvm=True,
           es="Resolución del encoder 1"),
        r_("FBK_DIGHALL_POLARITY", 0x390, "u16", "rw", 0, "Hall polarity",
           "Whether the Hall inputs are inverted.", "FEEDBACK", scat="HALLS",
           nvm=True, enums=[(0, "Normal"), (1, "Inverted")]),
        r_("FBK_DIGHALL_PAIRPOLES", 0x391, "u16", "rw", 4, "Hall pole pairs",
           "Pole pairs of the Hall sensor pattern.", "FEEDBACK", scat="HALLS",
           nvm=True, rng=(1, 64)),
    ]
    if f.get("encoder2"):
        regs += [
            r_("FBK_DIGENC2_TYPE", 0x3A0, "u16", "rw", 1, "Encoder 2 type",
               "Electrical interface of incremental encoder 2.", "FEEDBACK",
               scat="DIGITAL_ENCODER", nvm=True,
               enums=[(0, "Single ended"), (1, "Differential")]),
            r_("FBK_DIGENC2_POLARITY", 0x3A1, "u16", "rw", 0, "Encoder 2 polarity",
               "Counting direction of incremental encoder 2.", "FEEDBACK",
               scat="DIGITAL_ENCODER", nvm=True,
               enums=[(0, "Normal"), (1, "Reversed")]),
            r_("FBK_DIGENC2_RESOLUTION", 0x3A8, "u32", "rw", 4096, "Encoder 2 resolution",
               "Counts per revolution of incremental encoder 2.", "FEEDBACK",
               scat="DIGITAL_ENCODER", units="cnt", nvm=True, rng=(1, 2147483647)),
        ]
    if f.get("biss"):
        regs += [
            r_("FBK_BISS1_POS_BITS", 0x3C0, "u16", "rw", 18, "BiSS position bits",
               "Single-turn position bits of the BiSS-C encoder.", "FEEDBACK",
               scat="ABSOLUTE_ENCODER", units="bit", nvm=True, rng=(1, 32)),
            r_("FBK_BISS1_MULTITURN_BITS", 0x3C1, "u16", "rw", 12,
               "BiSS multi-turn bits", "Multi-turn bits of the BiSS-C encoder.",
               "FEEDBACK", scat="ABSOLUTE_ENCODER", units="bit", nvm=True,
               rng=(0, 24)),
            r_("FBK_BISS1_BAUDRATE", 0x3C2, "u16", "rw", 2, "BiSS clock",
               "Clock frequency of the BiSS-C interface.", "FEEDBACK",
               scat="ABSOLUTE_ENCODER", nvm=True,
               enums=[(0, "1 MHz"), (1, "2.5 MHz"), (2, "5 MHz"), (3, "10 MHz")]),
            r_("FBK_BISS1_CRC_POLY", 0x3C3, "u16", "rw", 0x43, "BiSS CRC polynomial",
               "CRC polynomial of the BiSS-C frame (0x43: x^6 + x^1 + 1).",
               "FEEDBACK", scat="ABSOLUTE_ENCODER", nvm=True),
            r_("FBK_BISS1_ERRORS", 0x3C4, "u32", "r", 0, "BiSS frame errors",
               "BiSS-C frames rejected (CRC or error bit) since power-on.",
               "FEEDBACK", scat="ABSOLUTE_ENCODER", units="cnt"),
        ]
    # motor and brake
    regs += [
        r_("MOT_PAIR_POLES", 0x300, "u16", "rw", 4, "Motor pole pairs",
           "Pole pairs of the motor.", "MOTOR", nvm=True, rng=(1, 64),
           es="Pares de polos del motor"),
        r_("MOT_RATED_CURRENT", 0x301, "float", "rw", rated, "Motor rated current",
           "Continuous current of the motor (I2t reference).", "MOTOR", units="A",
           nvm=True, rng=(0.0, float(peak))),
        r_("MOT_PEAK_CURRENT", 0x302, "float", "rw", peak, "Motor peak current",
           "Current the motor takes for MOT_PEAK_TIME.", "MOTOR", units="A",
           nvm=True, rng=(0.0, float(peak))),
        r_("MOT_PEAK_TIME", 0x303, "float", "rw", 1.0, "Motor peak time",
           "Time the motor may run at peak current.", "MOTOR", units="s",
           nvm=True, rng=(0.0, 60.0)),
        r_("MOT_TORQUE_CONSTANT", 0x304, "float", "rw", 0.1, "Torque constant",
           "Torque per ampere of quadrature current.", "MOTOR", units="N·m/A",
           nvm=True, rng=(0.0, 100.0)),
        r_("MOT_PHASE_RESISTANCE", 0x305, "float", "rw", 0.5, "Phase resistance",
           "Resistance of one phase (line to line / 2).", "MOTOR", units="ohm",
           nvm=True, rng=(0.0, 1000.0)),
        r_("MOT_PHASE_INDUCTANCE", 0x306, "float", "rw", 0.0005, "Phase inductance",
           "Inductance of one phase.", "MOTOR", units="H", nvm=True,
           rng=(0.0, 1.0)),
        r_("MOT_TEMP_SENSOR", 0x307, "u16", "rw", 0, "Motor temperature sensor",
           "Sensor on the motor temperature input.", "MOTOR", nvm=True,
           enums=[(0, "None"), (1, "NTC 10k"), (2, "PTC"), (3, "KTY84-130"),
                  (4, "PT1000")]),
        r_("MOT_BRAKE_MODE", 0x308, "u16", "rw", 0, "Brake mode",
           "How the holding brake output is driven.", "MOTOR", scat="BRAKE",
           nvm=True, enums=[(0, "No brake"), (1, "Automatic"),
                            (2, "Always released"), (3, "Always applied")]),
        r_("MOT_BRAKE_ACTIVATION_DELAY", 0x309, "u16", "rw", 100,
           "Brake activation delay",
           "Torque is held this long after the brake is applied.", "MOTOR",
           scat="BRAKE", units="ms", nvm=True, rng=(0, 5000)),
        r_("MOT_BRAKE_RELEASE_DELAY", 0x30A, "u16", "rw", 100, "Brake release delay",
           "Motion waits this long after the brake is released.", "MOTOR",
           scat="BRAKE", units="ms", nvm=True, rng=(0, 5000)),
    ]
    # control loops
    regs += [
        r_("CL_CUR_Q_KP", 0x500, "float", "rw", 2.0, "Current loop Kp (Q)",
           "Proportional gain of the quadrature current loop.", "CONTROL",
           scat="CURRENT_LOOP", units="V/A", nvm=True, rng=(0.0, 1000.0),
           es="Kp del lazo de corriente (Q)"),
        r_("CL_CUR_Q_KI", 0x501, "float", "rw", 2000.0, "Current loop Ki (Q)",
           "Integral gain of the quadrature current loop.", "CONTROL",
           scat="CURRENT_LOOP", units="V/(A·s)", nvm=True, rng=(0.0, 1000000.0)),
        r_("CL_CUR_D_KP", 0x502, "float", "rw", 2.0, "Current loop Kp (D)",
           "Proportional gain of the direct current loop.", "CONTROL",
           scat="CURRENT_LOOP", units="V/A", nvm=True, rng=(0.0, 1000.0)),
        r_("CL_CUR_D_KI", 0x503, "float", "rw", 2000.0, "Current loop Ki (D)",
           "Integral gain of the direct current loop.", "CONTROL",
           scat="CURRENT_LOOP", units="V/(A·s)", nvm=True, rng=(0.0, 1000000.0)),
        r_("CL_VEL_PID_KP", 0x510, "float", "rw", 0.5, "Velocity loop Kp",
           "Proportional gain of the velocity loop.", "CONTROL",
           scat="VELOCITY_LOOP", units="A/(rev/s)", nvm=True, rng=(0.0, 10000.0),
           es="Kp del lazo de velocidad"),
        r_("CL_VEL_PID_KI", 0x511, "float", "rw", 10.0, "Velocity loop Ki",
           "Integral gain of the velocity loop.", "CONTROL", scat="VELOCITY_LOOP",
           units="A/rev", nvm=True, rng=(0.0, 100000.0)),
        r_("CL_VEL_PID_KD", 0x512, "float", "rw", 0.0, "Velocity loop Kd",
           "Derivative gain of the velocity loop.", "CONTROL", scat="VELOCITY_LOOP",
           units="A/(rev/s^2)", nvm=True, rng=(0.0, 100.0)),
        r_("CL_VEL_PID_KFF_ACC", 0x513, "float", "rw", 0.0, "Acceleration feed-forward",
           "Current added per unit of demanded acceleration.", "CONTROL",
           scat="VELOCITY_LOOP", units="A/(rev/s^2)", nvm=True, rng=(0.0, 100.0)),
        r_("DRV_POS_VEL_RATE", 0x530, "u32", "r", 20000,
           "Position and velocity loop rate",
           "Rate of the position and velocity loops: the base rate of monitoring "
           "and disturbance samples (divided by MON_DIST_FREQ_DIV, DIST_FREQ_DIV).",
           "CONTROL", units="Hz", cyclic="CYCLIC_TX"),
        r_("CL_POS_PID_KP", 0x520, "float", "rw", 0.01, "Position loop Kp",
           "Proportional gain of the position loop.", "CONTROL",
           scat="POSITION_LOOP", units="(rev/s)/cnt", nvm=True, rng=(0.0, 100.0),
           es="Kp del lazo de posición"),
        r_("CL_POS_PID_KI", 0x521, "float", "rw", 0.0, "Position loop Ki",
           "Integral gain of the position loop.", "CONTROL", scat="POSITION_LOOP",
           units="rev/(s^2·cnt)", nvm=True, rng=(0.0, 100.0)),
        r_("CL_POS_PID_KD", 0x522, "float", "rw", 0.0, "Position loop Kd",
           "Derivative gain of the position loop.", "CONTROL", scat="POSITION_LOOP",
           units="rev/cnt", nvm=True, rng=(0.0, 100.0)),
        r_("CL_POS_PID_KFF_VEL", 0x523, "float", "rw", 1.0, "Velocity feed-forward",
           "Share of the demanded velocity fed forward to the velocity loop.",
           "CONTROL", scat="POSITION_LOOP", nvm=True, rng=(0.0, 2.0)),
    ]
    if f.get("filters"):
        regs += filter_registers("CL_VEL_FBK_FILTER", 0x540, 4,
                                 "Velocity feedback filter", "VELOCITY_FILTERS")
        regs += filter_registers("CL_CUR_REF_FILTER", 0x560, 2,
                                 "Current reference filter", "CURRENT_FILTERS")
        regs += filter_registers("CL_POS_REF_FILTER", 0x570, 1,
                                 "Position reference filter", "POSITION_FILTERS")
    # limits and protections
    regs += [
        r_("CL_POS_REF_MIN_LIMIT", 0x4B0, "s32", "rw", -2147483648, "Minimum position",
           "Software limit: position demands below are clamped.", "LIMITS",
           units="cnt", nvm=True),
        r_("CL_POS_REF_MAX_LIMIT", 0x4B1, "s32", "rw", 2147483647, "Maximum position",
           "Software limit: position demands above are clamped.", "LIMITS",
           units="cnt", nvm=True),
        r_("CL_VEL_REF_MAX", 0x4B2, "float", "rw", 50.0, "Maximum velocity",
           "Velocity demands are clamped to +/- this value.", "LIMITS",
           units="rev/s", nvm=True, rng=(0.0, 1000.0)),
        r_("CL_CUR_REF_MAX", 0x4B3, "float", "rw", peak, "Maximum current",
           "Current demands are clamped to +/- this value.", "LIMITS", units="A",
           nvm=True, rng=(0.0, float(peak)), es="Corriente máxima"),
        r_("CL_POS_FOLLOWING_ERROR_WINDOW", 0x4B4, "u32", "rw", 10000,
           "Following error window",
           "A following error beyond this raises a fault; 0 disables the check.",
           "LIMITS", units="cnt", nvm=True),
        r_("CL_POS_FOLLOWING_ERROR_TIMEOUT", 0x4B5, "u16", "rw", 10,
           "Following error timeout",
           "Time the following error may exceed its window.", "LIMITS",
           units="ms", nvm=True, rng=(0, 10000)),
        r_("DRV_PROT_USER_OVER_VOLT", 0x4D0, "float", "rw", m["bus_max"],
           "Over-voltage level", "DC bus voltage that raises an over-voltage fault.",
           "PROTECTIONS", units="V", nvm=True, rng=(0.0, float(m["bus_max"]))),
        r_("DRV_PROT_USER_UNDER_VOLT", 0x4D1, "float", "rw", 10.0, "Under-voltage level",
           "DC bus voltage that raises an under-voltage fault.", "PROTECTIONS",
           units="V", nvm=True, rng=(0.0, float(m["bus_max"])),
           es="Nivel de subtensión"),
        r_("DRV_PROT_USER_OVER_TEMP", 0x4D2, "float", "rw", 80.0,
           "Power stage temperature limit",
           "Power stage temperature that raises an over-temperature fault.",
           "PROTECTIONS", units="°C", nvm=True, rng=(0.0, 110.0)),
        r_("DRV_PROT_MOT_OVER_TEMP", 0x4D3, "float", "rw", 110.0,
           "Motor temperature limit",
           "Motor temperature that raises a motor over-temperature fault.",
           "PROTECTIONS", units="°C", nvm=True, rng=(0.0, 200.0)),
    ]
    # homing
    regs += [
        r_("HOM_MODE", 0x450, "u16", "rw", 0, "Homing method",
           "How homing finds the reference position.", "HOMING", nvm=True,
           enums=HOMING_METHODS, es="Método de búsqueda de origen"),
        r_("HOM_OFFSET", 0x451, "s32", "rw", 0, "Homing offset",
           "Position given to the reference once found.", "HOMING", units="cnt",
           nvm=True),
        r_("HOM_SPEED_SEARCH", 0x452, "float", "rw", 1.0, "Search speed",
           "Speed while searching for the switch or stop.", "HOMING",
           units="rev/s", nvm=True, rng=(0.0, 100.0)),
        r_("HOM_SPEED_ZERO", 0x453, "float", "rw", 0.1, "Zero search speed",
           "Speed while searching for the index pulse.", "HOMING", units="rev/s",
           nvm=True, rng=(0.0, 100.0)),
        r_("HOM_ACC", 0x454, "float", "rw", 10.0, "Homing acceleration",
           "Acceleration and deceleration of homing moves.", "HOMING",
           units="rev/s^2", nvm=True, rng=(0.0, 100000.0)),
        r_("HOM_MAX_SEARCH_TIME", 0x455, "u32", "rw", 30000, "Homing timeout",
           "Homing fails after this time.", "HOMING", units="ms", nvm=True,
           rng=(100, 3600000)),
        r_("HOM_MECH_STOP_CURRENT", 0x456, "float", "rw", 1.0,
           "Mechanical stop current",
           "Current that detects the stop in mechanical-stop methods.", "HOMING",
           units="A", nvm=True, rng=(0.0, float(peak))),
        r_("HOM_MECH_STOP_TIME", 0x457, "u16", "rw", 100, "Mechanical stop time",
           "Time the current must stay above the threshold.", "HOMING",
           units="ms", nvm=True, rng=(1, 10000)),
    ]
    regs += io_registers(m)
    regs += simulation_registers()
    if f.get("error_history"):
        for i in range(m["error_history"]):
            regs.append(r_(
                "DRV_DIAG_ERROR_HISTORY_%d" % i, 0x6C0 + i, "s32", "r", 0,
                "Error history %d" % i,
                "Code of the fault %d places back in the history of this axis "
                "(entry 0 is the newest; 0: empty)." % i,
                "REPORTING", scat="ERROR_HISTORY"))
    # storage and identity of the axis
    regs += [
        r_("DRV_STORE_MOCO_ALL", 0x6DB, "u32", "rw", 1, "Store all (axis)",
           "Write 0x65766173 (\"save\") to store every parameter of the axis "
           "in non-volatile memory. Reads 1: the drive saves on command.",
           "STORAGE", es="Guardar todo (eje)"),
        r_("DRV_ID_VENDOR_ID", 0x6E0, "u32", "r", VENDOR_ID, "Vendor ID",
           "Vendor identifier (the axlink project).", "IDENTIFICATION"),
        r_("DRV_ID_PRODUCT_CODE", 0x6E1, "u32", "r", m["product"], "Product code",
           "Product code of the drive model.", "IDENTIFICATION"),
        r_("DRV_ID_REVISION_NUMBER", 0x6E2, "u32", "r", m["revision"],
           "Revision number", "Hardware and firmware revision of the model.",
           "IDENTIFICATION"),
        r_("DRV_ID_SOFTWARE_VERSION", 0x6E4, "str", "r", version_text(m),
           "Firmware version", "Version text of the motion core firmware.",
           "IDENTIFICATION", es="Versión de firmware"),
        r_("DRV_ID_SERIAL_NUMBER", 0x6E6, "u32", "r", 0, "Serial number",
           "Serial number of the unit (set in production).", "IDENTIFICATION"),
    ]
    return regs


def filter_registers(prefix, base, count, label, scat):
    regs = []
    for n in range(1, count + 1):
        a = base + 4 * (n - 1)
        name = "%s%d" % (prefix, n)
        what = "%s %d" % (label.lower(), n)
        regs += [
            r_(name + "_TYPE", a, "u16", "rw", 0, "%s %d type" % (label, n),
               "Response of the %s." % what, "FILTERS", scat=scat, nvm=True,
               enums=[(0, "Disabled"), (1, "Low-pass"), (2, "High-pass"),
                      (3, "Notch"), (4, "Band-pass"), (5, "Peak (gain)")]),
            r_(name + "_FREQ", a + 1, "float", "rw", 1000.0,
               "%s %d frequency" % (label, n),
               "Cut-off or centre frequency of the %s." % what, "FILTERS",
               scat=scat, units="Hz", nvm=True, rng=(1.0, 10000.0)),
            r_(name + "_Q", a + 2, "float", "rw", 0.7071, "%s %d Q" % (label, n),
               "Quality factor of the %s." % what, "FILTERS", scat=scat, nvm=True,
               rng=(0.1, 100.0)),
            r_(name + "_GAIN", a + 3, "float", "rw", 0.0, "%s %d gain" % (label, n),
               "Gain at the centre frequency of the %s (peak filters)." % what,
               "FILTERS", scat=scat, units="dB", nvm=True, rng=(-60.0, 60.0)),
        ]
    return regs


def simulation_registers():
    """Test hooks of the simulated drive (tools/sim/drive/simdrive.c): every model here
    is simulated, so the dictionaries name them and tools reach them by id."""
    return [
        r_("SIM_FAULT_INJECT", 0x7E0, "u32", "rw", 0, "Inject a fault",
           "Simulator only: writing a drive error code other than 0 puts the axis "
           "into fault with that code (through fault reaction when it moves). "
           "Reads the last code written.", "SIMULATION"),
        r_("SIM_FAULT_ARM", 0x7E1, "u32", "rw", 0, "Fault at next transition",
           "Simulator only: a drive error code other than 0 is raised at the "
           "next control word that changes the state, instead of that change; "
           "reads 0 again once it fired.", "SIMULATION"),
        r_("SIM_STATUS_FREEZE", 0x7E2, "u16", "rw", 0, "Freeze the status word",
           "Simulator only: while 1 the status word keeps its present value "
           "though the state machine goes on (a drive that never confirms).",
           "SIMULATION", enums=[(0, "Live"), (1, "Frozen")]),
        r_("SIM_HOME_SWITCH_POSITION", 0x7E3, "s32", "rw", 4096,
           "Home switch position",
           "Simulator only: where the home switch sits, in counts of the "
           "position the axis started at.", "SIMULATION", units="cnt"),
        r_("SIM_POS_LIMIT_SWITCH_POSITION", 0x7E4, "s32", "rw", 409600,
           "Positive limit switch position",
           "Simulator only: where the positive limit switch (and the mechanical "
           "stop behind it) sits, in counts of the starting position.",
           "SIMULATION", units="cnt"),
        r_("SIM_NEG_LIMIT_SWITCH_POSITION", 0x7E5, "s32", "rw", -409600,
           "Negative limit switch position",
           "Simulator only: where the negative limit switch (and the mechanical "
           "stop behind it) sits, in counts of the starting position.",
           "SIMULATION", units="cnt"),
    ]


def io_registers(m):
    n_in, n_out, n_an = m["digital_inputs"], m["digital_outputs"], m["analog_inputs"]
    in_bits = [("DIGITAL_IN_%d" % (i + 1), i, i) for i in range(n_in)]
    out_bits = [("DIGITAL_OUT_%d" % (i + 1), i, i) for i in range(n_out)]
    regs = [
        r_("IO_IN_VALUE", 0x0E0, "u16", "r", 0, "Digital inputs",
           "Level of the digital inputs after polarity.", "IN_OUT",
           cyclic="CYCLIC_TX", bits=in_bits, es="Entradas digitales"),
        r_("IO_IN_POLARITY", 0x0E1, "u16", "rw", 0, "Digital input polarity",
           "A set bit inverts the matching input.", "IN_OUT", nvm=True,
           bits=in_bits, rng=(0, (1 << n_in) - 1)),
        r_("IO_OUT_SET_POINT", 0x0E2, "u16", "rw", 0, "Digital outputs",
           "Level of the general purpose outputs.", "IN_OUT", cyclic="CYCLIC_RX",
           bits=out_bits, es="Salidas digitales"),
        r_("IO_OUT_POLARITY", 0x0E3, "u16", "rw", 0, "Digital output polarity",
           "A set bit inverts the matching output.", "IN_OUT", nvm=True,
           bits=out_bits, rng=(0, (1 << n_out) - 1)),
        r_("IO_IN_FILTER", 0x0E4, "u16", "rw", 1, "Digital input filter",
           "Debounce time of every digital input.", "IN_OUT", units="ms",
           nvm=True, rng=(0, 100)),
    ]
    for i in range(n_in):
        regs.append(r_("IO_IN%d_FUNC" % (i + 1), 0x0E8 + i, "u16", "rw",
                       0,
                       "Input %d function" % (i + 1),
                       "What digital input %d does." % (i + 1), "IN_OUT", nvm=True,
                       enums=input_functions()))
    for i in range(n_out):
        regs.append(r_("IO_OUT%d_FUNC" % (i + 1), 0x0F0 + i, "u16", "rw",
                       1 if i == 0 else 0,
                       "Output %d function" % (i + 1),
                       "What digital output %d shows." % (i + 1), "IN_OUT", nvm=True,
                       enums=output_functions()))
    for i in range(n_an):
        a = 0x0F8 + 3 * i
        regs += [
            r_("IO_ANALOG_IN%d_VALUE" % (i + 1), a, "float", "r", 0.0,
               "Analog input %d" % (i + 1),
               "Voltage of analog input %d after gain and offset." % (i + 1),
               "IN_OUT", scat="ANALOG", units="V", cyclic="CYCLIC_TX"),
            r_("IO_ANALOG_IN%d_GAIN" % (i + 1), a + 1, "float", "rw", 1.0,
               "Analog input %d gain" % (i + 1),
               "Gain applied to analog input %d." % (i + 1), "IN_OUT",
               scat="ANALOG", nvm=True, rng=(-100.0, 100.0)),
            r_("IO_ANALOG_IN%d_OFFSET" % (i + 1), a + 2, "float", "rw", 0.0,
               "Analog input %d offset" % (i + 1),
               "Offset added to analog input %d." % (i + 1), "IN_OUT",
               scat="ANALOG", units="V", nvm=True, rng=(-10.0, 10.0)),
        ]
    return regs


# ---------------------------------------------------------------------------
# categories and errors

# id -> (en_US, es_ES or None, [(subcategory id, en_US)])
CATEGORIES = [
    ("IDENTIFICATION", "Product identification", "Identificación del producto", []),
    ("COMMUNICATIONS", "Communications", "Comunicaciones", []),
    ("DRIVE_STATE", "Drive state and operation mode", "Estado y modo de operación", []),
    ("TARGET", "Targets", "Consignas", []),
    ("PROFILER", "Profiler", None, []),
    ("REPORTING", "Reporting", "Informes", [("ERROR_HISTORY", "Error history")]),
    ("CONTROL", "Control loops", "Lazos de control",
     [("CURRENT_LOOP", "Current loop"), ("VELOCITY_LOOP", "Velocity loop"),
      ("POSITION_LOOP", "Position loop")]),
    ("FILTERS", "Filters", None,
     [("CURRENT_FILTERS", "Current loop filters"),
      ("VELOCITY_FILTERS", "Velocity loop filters"),
      ("POSITION_FILTERS", "Position loop filters")]),
    ("COMMUTATION", "Commutation", None, []),
    ("FEEDBACK", "Feedback", "Realimentación",
     [("DIGITAL_ENCODER", "Incremental encoders"), ("HALLS", "Hall sensors"),
      ("ABSOLUTE_ENCODER", "Absolute encoder")]),
    ("MOTOR", "Motor and brake", "Motor y freno", [("BRAKE", "Holding brake")]),
    ("LIMITS", "Limits", None, []),
    ("PROTECTIONS", "Protections", "Protecciones", []),
    ("HOMING", "Homing", "Búsqueda de origen", []),
    ("IN_OUT", "Inputs / outputs", "Entradas / salidas", [("ANALOG", "Analog inputs")]),
    ("MONITORING", "Monitoring", "Monitorización", []),
    ("STORAGE", "Store and restore", "Guardar y restaurar", []),
    ("SIMULATION", "Simulation (simulated drives only)", None, []),
]

# (code, affected module, error type, en_US, es_ES or None)
ERRORS = [
    (0x06010000, "Communications", "configuration",
     "Incorrect access: the register is read-only or write-only",
     "Acceso incorrecto: el registro es de solo lectura o solo escritura"),
    (0x06010001, "Communications", "configuration",
     "Attempt to read a write-only register", None),
    (0x06010002, "Communications", "configuration",
     "Attempt to write a read-only register", None),
    (0x06020000, "Communications", "configuration",
     "Register does not exist", "El registro no existe"),
    (0x06040043, "Communications", "configuration",
     "General parameter incompatibility", None),
    (0x06070010, "Communications", "configuration",
     "Data type does not match: wrong value size", None),
    (0x06090030, "Communications", "configuration",
     "Value out of the register's range", "Valor fuera de rango"),
    (0x06090031, "Communications", "configuration", "Value too high", None),
    (0x06090032, "Communications", "configuration", "Value too low", None),
    (0x08000000, "Communications", "configuration", "General error: not executed", None),
    (0x08000020, "Communications", "configuration",
     "Data cannot be stored: wrong store or restore signature", None),
    (0x08000022, "Communications", "configuration",
     "Data cannot be stored in the present drive state", None),
    (0x00002310, "Power stage", "cyclic", "Continuous over-current (I2t)", None),
    (0x00002320, "Power stage", "cyclic", "Short circuit or hardware over-current",
     "Cortocircuito o sobrecorriente"),
    (0x00002330, "Power stage", "cyclic", "Earth leakage: phase shorted to ground", None),
    (0x00003210, "Power stage", "cyclic", "DC bus over-voltage", "Sobretensión del bus DC"),
    (0x00003220, "Power stage", "cyclic", "DC bus under-voltage", "Subtensión del bus DC"),
    (0x00004210, "Power stage", "cyclic", "Power stage over-temperature",
     "Sobretemperatura de la etapa de potencia"),
    (0x00004310, "Motor", "cyclic", "Motor over-temperature", "Sobretemperatura del motor"),
    (0x00005441, "Power stage", "cyclic", "Safe torque off active: power stage disabled",
     None),
    (0x00006320, "Configuration", "configuration",
     "Parameter error: inconsistent configuration", None),
    (0x00007305, "Feedback", "cyclic", "Incremental encoder 1 broken wire", None),
    (0x00007306, "Feedback", "cyclic", "Incremental encoder 2 broken wire", None),
    (0x00007380, "Feedback", "cyclic", "Hall sensors: invalid combination", None),
    (0x00007390, "Feedback", "cyclic", "Absolute encoder: CRC or error bit", None),
    (0x00008130, "Communications", "cyclic",
     "Communication watchdog expired: quick stop", None),
    (0x00008611, "Motion", "cyclic", "Following error limit exceeded",
     "Error de seguimiento excesivo"),
    (0x00008612, "Motion", "cyclic", "Position limit reached", None),
    (0x0000FF01, "Motion", "cyclic", "Homing timeout", None),
    (0x0000FF02, "Motion", "cyclic", "Homing: limit switch reached before home", None),
    (0x0000FF03, "Motion", "cyclic", "Phasing failed: commutation angle not found", None),
]


# ---------------------------------------------------------------------------
# models

MODELS = [
    {
        "file": "axs-100.xdf",
        "name": "axs-100",
        "part": "AXS-100",
        "family": "axs",
        "product": 0x00010064,
        "revision": 0x00010002,
        "firmware": "1.2.0",
        "bootloader": "1.0.3",
        "axes": 1,
        "format": 3,
        "interfaces": ["ETH", "EoE"],
        "can": True,
        "rated_current": 5.0,
        "peak_current": 15.0,
        "bus_max": 60.0,
        "digital_inputs": 4,
        "digital_outputs": 2,
        "analog_inputs": 0,
        "error_list": 32,
        "mon_buffer": 16384,
        "dist_buffer": 8192,
        "features": {},
        "title": "single-axis servo drive, 48 V, 5 A / 15 A, Ethernet and EtherCAT (EoE)",
    },
    {
        "file": "axs-200.xdf",
        "name": "axs-200",
        "part": "AXS-200",
        "family": "axs",
        "product": 0x000100C8,
        "revision": 0x00010001,
        "firmware": "1.1.4",
        "bootloader": "1.0.1",
        "axes": 2,
        "format": 2,
        "interfaces": ["ETH"],
        "can": True,
        "rated_current": 3.0,
        "peak_current": 9.0,
        "bus_max": 60.0,
        "digital_inputs": 4,
        "digital_outputs": 2,
        "analog_inputs": 1,
        "error_list": 32,
        "mon_buffer": 16384,
        "dist_buffer": 8192,
        "features": {},
        "title": "two-axis servo drive, 48 V, 3 A / 9 A per axis, Ethernet",
    },
    {
        "file": "axs-900.xdf",
        "name": "axs-900",
        "part": "AXS-900",
        "family": "axs",
        "product": 0x00010384,
        "revision": 0x00010000,
        "firmware": "1.0.0",
        "bootloader": "2.0.0",
        "axes": 8,
        "format": 3,
        "interfaces": ["ETH"],
        "can": True,
        "rated_current": 8.0,
        "peak_current": 24.0,
        "bus_max": 80.0,
        "digital_inputs": 8,
        "digital_outputs": 4,
        "analog_inputs": 2,
        "error_list": 64,
        "mon_buffer": 65536,
        "dist_buffer": 32768,
        "error_history": 8,
        "features": {
            "ethernet_config": True,
            "extra_monitoring": True,
            "encoder2": True,
            "biss": True,
            "filters": True,
            "error_history": True,
        },
        "title": "eight-axis servo drive, 80 V, 8 A / 24 A per axis, Ethernet",
    },
]


def model_registers(m):
    """Every register of model @m as (subnode, Reg), in file order."""
    out = [(0, r) for r in sorted(comm_registers(m), key=lambda r: r.address)]
    for axis in range(1, m["axes"] + 1):
        out += [(axis, r) for r in sorted(axis_registers(m), key=lambda r: r.address)]
    check_model(m, out)
    return out


def check_model(m, regs):
    """Refuse a catalogue mistake before it reaches a file."""
    cats = {c[0]: {s[0] for s in c[3]} for c in CATEGORIES}
    seen_addr, seen_id = {}, {}
    for sub, r in regs:
        for key, seen, what in (((sub, r.address), seen_addr, "address 0x%03X" % r.address),
                                ((sub, r.id), seen_id, "id")):
            if key in seen:
                raise SystemExit("%s: subnode %d: %s %s used twice (%s)"
                                 % (m["name"], sub, what, r.id, seen[key]))
            seen[key] = r.id
        if r.cat not in cats or (r.scat and r.scat not in cats[r.cat]):
            raise SystemExit("%s: %s: unknown category %s/%s" % (m["name"], r.id, r.cat, r.scat))
        width = dtype_bits(r.dtype) if r.dtype in INT_FORMATS else None
        for name, lo, hi in r.bits:
            if width is None or not 0 <= lo <= hi < width:
                raise SystemExit("%s: %s: bitfield %s out of the type" % (m["name"], r.id, name))
        if r.range and (r.dtype in INT_FORMATS or r.dtype == "float"):
            lo, hi = r.range
            if not lo <= r.default <= hi:
                raise SystemExit("%s: %s: default %r outside range %r"
                                 % (m["name"], r.id, r.default, r.range))
            value_bytes(r.dtype, lo)
            value_bytes(r.dtype, hi)
        for v, _ in r.enums:
            value_bytes(r.dtype, v)
        if r.enums and r.default not in [v for v, _ in r.enums]:
            raise SystemExit("%s: %s: default %r is not an enum value" % (m["name"], r.id,
                                                                         r.default))


# ---------------------------------------------------------------------------
# CANopen interface (CiA 301 communication objects, CiA 402 drive profile)
#
# Every model also has a CAN interface: the same registers, same ids and
# subnodes, at CANopen addresses (index:subindex), so the CiA 402 engine finds
# them by id on either bus. An id sits at one object only:
#   - CiA 301 communication objects (identity 0x1018, version 0x100A, store
#     0x1010 / restore 0x1011, which take the same "save"/"load" signatures
#     as the MCB registers),
#   - the CiA 402 profile objects of axis n at 0x6000 + 0x800 * (n - 1)
#     (control word 0x6040, status word 0x6041, modes 0x6060/0x6061, ...),
#   - else the manufacturer area: axis n at 0x2000 + 0x800 * (n - 1) + the MCB
#     address, the communication core (subnode 0) at 0x5800 + the MCB address,
#     as the family lays it out. The area holds seven axes beside subnode 0:
#     an eighth axis has only its profile objects.
# A few objects exist on CAN only (device type, error register, heartbeat
# producer time, the count of identity entries): no MCB register has them.
CAN_AXIS_STRIDE = 0x800
CAN_AXIS_MANUFACTURER = 0x2000
CAN_COMM_MANUFACTURER = 0x5800
CAN_MANUFACTURER_AXES = 7

# id on subnode 0 -> (index, subindex)
CAN_COMM_OBJECTS = {
    "DRV_APP_COCO_VERSION": (0x100A, 0),
    "DRV_STORE_COCO_ALL": (0x1010, 1),
    "DRV_RESTORE_COCO_ALL": (0x1011, 1),
    "DRV_ID_VENDOR_ID_COCO": (0x1018, 1),
    "DRV_ID_PRODUCT_CODE_COCO": (0x1018, 2),
    "DRV_ID_REVISION_NUMBER_COCO": (0x1018, 3),
    "DRV_ID_SERIAL_NUMBER_COCO": (0x1018, 4),
}

# id on an axis -> (index of axis 1, subindex)
CAN_PROFILE_OBJECTS = {
    "DRV_STATE_CONTROL": (0x6040, 0),
    "DRV_STATE_STATUS": (0x6041, 0),
    "DRV_OP_CMD": (0x6060, 0),
    "DRV_OP_VALUE": (0x6061, 0),
    "CL_POS_REF_VALUE": (0x6062, 0),
    "CL_POS_FBK_VALUE": (0x6064, 0),
    "CL_POS_FOLLOWING_ERROR_WINDOW": (0x6065, 0),
    "CL_POS_FOLLOWING_ERROR_TIMEOUT": (0x6066, 0),
    "PROF_POS_WINDOW": (0x6067, 0),
    "PROF_POS_WINDOW_TIME": (0x6068, 0),
    "CL_VEL_REF_VALUE": (0x606B, 0),
    "CL_VEL_FBK_VALUE": (0x606C, 0),
    "MOT_RATED_CURRENT": (0x6075, 0),
    "DRV_PROT_VBUS_VALUE": (0x6079, 0),
    "CL_POS_SET_POINT_VALUE": (0x607A, 0),
    "HOM_OFFSET": (0x607C, 0),
    "CL_POS_REF_MIN_LIMIT": (0x607D, 1),
    "CL_POS_REF_MAX_LIMIT": (0x607D, 2),
    "CL_VEL_REF_MAX": (0x6080, 0),
    "PROF_MAX_VEL": (0x6081, 0),
    "PROF_MAX_ACC": (0x6083, 0),
    "PROF_MAX_DEC": (0x6084, 0),
    "PROF_QUICK_STOP_DEC": (0x6085, 0),
    "FBK_DIGENC1_RESOLUTION": (0x608F, 1),
    "HOM_SPEED_SEARCH": (0x6099, 1),
    "HOM_SPEED_ZERO": (0x6099, 2),
    "HOM_ACC": (0x609A, 0),
    "PROF_POS_OPTION_CODE": (0x60F2, 0),
    "CL_POS_FOLLOWING_ERROR_VALUE": (0x60F4, 0),
    "CL_VEL_SET_POINT_VALUE": (0x60FF, 0),
}

# CiA 402 modes of operation (0x6060/0x6061, INTEGER8) and the MCB mode each
# stands for; the negative codes are manufacturer-specific (CiA 402 leaves
# them to the vendor) for the MCB modes the profile has no code for. The
# simulator translates between the two (tools/sim/drive/simcanopen.c).
CAN_OP_MODES = [
    (-4, "Position (manufacturer-specific)", 0x04),
    (-3, "Velocity (manufacturer-specific)", 0x03),
    (-2, "Current (manufacturer-specific)", 0x02),
    (-1, "Voltage (manufacturer-specific)", 0x00),
    (1, "Profile position", 0x14),
    (3, "Profile velocity", 0x13),
    (4, "Torque", 0x05),
    (6, "Homing", 0x113),
    (8, "Cyclic position", 0x24),
]
CAN_MODE_IDS = ("DRV_OP_CMD", "DRV_OP_VALUE")

# CiA 402 device type: drive profile 402, servo drive (type 2) in bits 16-23.
CAN_DEVICE_TYPE = 0x00020192


def can_local_registers():
    """The objects only the CAN interface has, as (index, subindex, Reg)."""
    return [
        (0x1000, 0, r_("COMMS_CAN_DEVICE_TYPE", 0, "u32", "r", CAN_DEVICE_TYPE,
                       "Device type", "CiA 301 device type: bits 0-15 the device "
                       "profile (402, drives and motion control), bits 16-23 the "
                       "type (2, servo drive).", "IDENTIFICATION")),
        (0x1001, 0, r_("COMMS_CAN_ERROR_REGISTER", 0, "u8", "r", 0, "Error register",
                       "CiA 301 error register: bit 0 generic error (an axis in "
                       "fault), bit 1 current, bit 2 voltage, bit 3 temperature.",
                       "REPORTING", cyclic="CYCLIC_TX",
                       bits=[("GENERIC", 0, 0), ("CURRENT", 1, 1), ("VOLTAGE", 2, 2),
                             ("TEMPERATURE", 3, 3)])),
        (0x1017, 0, r_("COMMS_CAN_HEARTBEAT_TIME", 0, "u16", "rw", 0,
                       "Producer heartbeat time", "Period of the heartbeat message "
                       "(COB-ID 0x700 + node id); 0 sends none.", "COMMUNICATIONS",
                       units="ms")),
        (0x1018, 0, r_("COMMS_CAN_IDENTITY_ENTRIES", 0, "u8", "r", 4,
                       "Identity entries", "Highest subindex of the identity object "
                       "0x1018 (vendor, product, revision, serial number).",
                       "IDENTIFICATION")),
    ]


def can_mode_reg(r):
    """@r (an operation mode register) as the CAN interface has it: INTEGER8
    with the CiA 402 codes."""
    mcb_to_can = {mcb: code for code, _, mcb in CAN_OP_MODES}
    return r_(r.id, r.address, "s8", r.access, mcb_to_can[r.default], r.label, r.desc + (
        " On CANopen the CiA 402 codes; negative codes are the manufacturer's."),
        r.cat, scat=r.scat, units=r.units, cyclic=r.cyclic,
        nvm=r.address_type == "NVM", enums=[(c, t) for c, t, _ in CAN_OP_MODES], es=r.es)


def can_objects(m, regs):
    """Model @m's CAN interface as [(index, subindex, subnode, Reg)] sorted by
    index and subindex; refuses two registers at one object."""
    out = [(i, s, 0, r) for i, s, r in can_local_registers()]
    for sub, r in regs:
        if sub == 0:
            index, subindex = CAN_COMM_OBJECTS.get(r.id, (CAN_COMM_MANUFACTURER + r.address, 0))
        elif r.id in CAN_PROFILE_OBJECTS:
            base, subindex = CAN_PROFILE_OBJECTS[r.id]
            index = base + CAN_AXIS_STRIDE * (sub - 1)
        elif sub <= CAN_MANUFACTURER_AXES:
            index, subindex = CAN_AXIS_MANUFACTURER + CAN_AXIS_STRIDE * (sub - 1) + r.address, 0
        else:
            continue
        if r.id in CAN_MODE_IDS:
            r = can_mode_reg(r)
        out.append((index, subindex, sub, r))
    out.sort(key=lambda o: (o[0], o[1]))
    for a, b in zip(out, out[1:]):
        if (a[0], a[1]) == (b[0], b[1]):
            raise SystemExit("%s: CAN object 0x%04X:%d holds %s and %s"
                             % (m["name"], a[0], a[1], a[3].id, b[3].id))
    return out


def can_groups(objects):
    """@objects grouped by index: [(index, [(subindex, subnode, Reg)])]."""
    groups = []
    for index, subindex, sub, r in objects:
        if not groups or groups[-1][0] != index:
            groups.append((index, []))
        groups[-1][1].append((subindex, sub, r))
    return groups


# Tables (version 3 `Tables/Table`): values inside the drive reached through
# two registers, the index register selecting an entry and the value register
# reading or writing it. (id, index register, value register), on subnode 0.
COMM_TABLES = [
    ("DRV_DIAG_ERROR_LIST", "DRV_DIAG_ERROR_LIST_IDX", "DRV_DIAG_ERROR_LIST_CODE"),
]


def model_tables(m, regs):
    """The tables of model @m as (id, axis or None, index id, value id). A table
    without an axis uses subnode 0: both registers must be there, and the index
    register needs an integer range, which is what tells the entries."""
    by_key = {(sub, r.id): r for sub, r in regs}
    out = []
    for tid, index, value in COMM_TABLES:
        for rid in (index, value):
            if (0, rid) not in by_key:
                raise SystemExit("%s: table %s: no register %s on subnode 0"
                                 % (m["name"], tid, rid))
        rng = by_key[(0, index)].range
        if not rng or not all(isinstance(v, int) for v in rng):
            raise SystemExit("%s: table %s: index register %s has no integer range"
                             % (m["name"], tid, index))
        out.append((tid, None, index, value))
    return out


def used_categories(regs):
    used = {}
    for _, r in regs:
        used.setdefault(r.cat, set())
        if r.scat:
            used[r.cat].add(r.scat)
    return [(cid, en, es, [s for s in subs if s[0] in used[cid]])
            for cid, en, es, subs in CATEGORIES if cid in used]


# ---------------------------------------------------------------------------
# XML writing


def attr(value):
    return escape(str(value), {'"': "&quot;"})


def text(value):
    return escape(str(value))


class Writer:
    def __init__(self):
        self.lines = []

    def line(self, depth, s):
        self.lines.append("  " * depth + s)

    def result(self):
        return "\n".join(self.lines) + "\n"


def write_labels(w, depth, en, es=None):
    w.line(depth, "<Labels>")
    w.line(depth + 1, '<Label lang="en_US">%s</Label>' % text(en))
    if es:
        w.line(depth + 1, '<Label lang="es_ES">%s</Label>' % text(es))
    w.line(depth, "</Labels>")


def write_categories(w, depth, cats):
    w.line(depth, "<Categories>")
    for cid, en, es, subs in cats:
        w.line(depth + 1, '<Category id="%s">' % attr(cid))
        write_labels(w, depth + 2, en, es)
        if subs:
            w.line(depth + 2, "<Subcategories>")
            for sid, sen in subs:
                w.line(depth + 3, '<Subcategory id="%s">' % attr(sid))
                write_labels(w, depth + 4, sen)
                w.line(depth + 3, "</Subcategory>")
            w.line(depth + 2, "</Subcategories>")
        w.line(depth + 1, "</Category>")
    w.line(depth, "</Categories>")


def write_errors(w, depth):
    w.line(depth, "<Errors>")
    for code, module, etype, en, es in ERRORS:
        w.line(depth + 1, '<Error id="0x%08X" affected_module="%s" error_type="%s">'
               % (code, attr(module), attr(etype)))
        write_labels(w, depth + 2, en, es)
        w.line(depth + 1, "</Error>")
    w.line(depth, "</Errors>")


def write_tables(w, depth, tables):
    w.line(depth, "<Tables>")
    for tid, axis, index, value in tables:
        a = [("id", tid)]
        if axis is not None:
            a.append(("axis", str(axis)))
        a += [("id_index", index), ("id_value", value)]
        w.line(depth + 1, "<Table %s/>" % fmt_attrs(a))
    w.line(depth, "</Tables>")


# Types a monitoring or disturbance channel can carry (the map word's type codes).
MONITOR_DTYPES = ("u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "float")


def monitorable(r):
    """A register of the cyclic data (not CONFIG) of a type a channel can carry:
    version 3 files give it a MonDistV3 element, version 2 readers derive it."""
    return r.cyclic != "CONFIG" and r.dtype in MONITOR_DTYPES


def write_reg_children(w, depth, r, sub=None):
    if sub is not None and monitorable(r):
        # Version 3: the register's monitoring address, first child as in vendor files.
        w.line(depth, '<MonDistV3 address="0x%04X" subnode="%d" cyclic="%s"/>'
               % (r.address, sub, r.cyclic))
    write_labels(w, depth, r.label, r.es)
    if r.range:
        w.line(depth, '<Range min="%s" max="%s"/>' % (num_text(r.range[0]),
                                                      num_text(r.range[1])))
    if r.enums:
        w.line(depth, "<Enumerations>")
        for v, label in r.enums:
            w.line(depth + 1, '<Enum value="%d">%s</Enum>' % (v, text(label)))
        w.line(depth, "</Enumerations>")
    if r.bits:
        w.line(depth, "<BitFields>")
        for name, lo, hi in r.bits:
            w.line(depth + 1, '<BitField name="%s" start="%d" end="%d"/>' % (name, lo, hi))
        w.line(depth, "</BitFields>")


def common_attrs(r):
    """Attributes of a version 2 Register."""
    a = [("id", r.id), ("access", r.access), ("dtype", r.dtype), ("units", r.units),
         ("cyclic", r.cyclic), ("address_type", r.address_type), ("cat_id", r.cat)]
    if r.scat:
        a.append(("scat_id", r.scat))
    a.append(("desc", r.desc))
    return a


def mcb_register_attrs(sub, r):
    """Attributes of a version 3 MCBRegister, in the order vendor files write them.
    Version 3 names the PDO access pdo_access (version 2: cyclic)."""
    a = [("address", "0x%04X" % r.address), ("subnode", str(sub)),
         ("address_type", r.address_type), ("access", r.access), ("dtype", r.dtype),
         ("id", r.id), ("units", r.units), ("pdo_access", r.cyclic), ("desc", r.desc),
         ("default", value_bytes(r.dtype, r.default).hex()), ("cat_id", r.cat)]
    if r.scat:
        a.append(("scat_id", r.scat))
    return a


def fmt_attrs(pairs):
    return " ".join('%s="%s"' % (k, attr(v)) for k, v in pairs)


def header_comment(m):
    return ["<!--",
            "  %s: %s." % (m["name"], m["title"]),
            "  Dictionary of the axlink project (SPDX-License-Identifier: MIT), written",
            "  by devices/gen_xdf.py: edit the script and run it, not this file.",
            "-->"]


def identity_attrs(m, with_interface):
    a = [("name", m["name"]), ("family", m["family"]), ("PartNumber", m["part"]),
         ("ProductCode", str(m["product"])), ("RevisionNumber", str(m["revision"])),
         ("VendorID", str(VENDOR_ID)), ("firmwareVersion", m["firmware"])]
    if with_interface:
        a.append(("Interface", with_interface))
    return a


def can_subitem_attrs(subindex, sub, r):
    """Attributes of a version 3 Subitem, in the order of an MCBRegister's."""
    a = [("subindex", str(subindex)), ("subnode", str(sub)),
         ("address_type", r.address_type), ("access", r.access), ("dtype", r.dtype),
         ("id", r.id), ("units", r.units), ("pdo_access", r.cyclic), ("desc", r.desc),
         ("default", value_bytes(r.dtype, r.default).hex()), ("cat_id", r.cat)]
    if r.scat:
        a.append(("scat_id", r.scat))
    return a


def render_v3_can(w, m, regs):
    """The CANDevice of model @m: its registers as CANopen objects."""
    w.line(3, "<CANDevice %s>" % fmt_attrs(identity_attrs(m, None)))
    w.line(4, "<Subnodes>")
    w.line(5, '<Subnode index="0">Communication</Subnode>')
    for axis in range(1, m["axes"] + 1):
        w.line(5, '<Subnode index="%d">Motion</Subnode>' % axis)
    w.line(4, "</Subnodes>")
    w.line(4, "<CANopenObjects>")
    for index, items in can_groups(can_objects(m, regs)):
        kind = "VAR" if len(items) == 1 and items[0][0] == 0 else "RECORD"
        w.line(5, '<CANopenObject index="0x%04X" datatype="%s">' % (index, kind))
        w.line(6, "<Subitems>")
        for subindex, sub, r in items:
            w.line(7, "<Subitem %s>" % fmt_attrs(can_subitem_attrs(subindex, sub, r)))
            write_reg_children(w, 8, r)
            w.line(7, "</Subitem>")
        w.line(6, "</Subitems>")
        w.line(5, "</CANopenObject>")
    w.line(4, "</CANopenObjects>")
    write_errors(w, 4)
    tables = model_tables(m, regs)
    if tables:
        write_tables(w, 4, tables)
    w.line(3, "</CANDevice>")


def render_v3(m):
    regs = model_registers(m)
    tables = model_tables(m, regs)
    w = Writer()
    w.line(0, '<?xml version="1.0" encoding="UTF-8"?>')
    for s in header_comment(m):
        w.line(0, s)
    w.line(0, "<IngeniaDictionary>")
    w.line(1, "<Header>")
    w.line(2, "<Version>3.0</Version>")
    w.line(2, "<DefaultLanguage>en_US</DefaultLanguage>")
    w.line(1, "</Header>")
    w.line(1, "<Body>")
    write_categories(w, 2, used_categories(regs))
    w.line(2, "<Devices>")
    for iface in m["interfaces"]:
        tag = iface + "Device"
        w.line(3, "<%s %s>" % (tag, fmt_attrs(identity_attrs(m, None))))
        w.line(4, "<Subnodes>")
        w.line(5, '<Subnode index="0">Communication</Subnode>')
        for axis in range(1, m["axes"] + 1):
            w.line(5, '<Subnode index="%d">Motion</Subnode>' % axis)
        w.line(4, "</Subnodes>")
        w.line(4, "<MCBRegisters>")
        for sub, r in regs:
            w.line(5, "<MCBRegister %s>" % fmt_attrs(mcb_register_attrs(sub, r)))
            write_reg_children(w, 6, r, sub)
            w.line(5, "</MCBRegister>")
        w.line(4, "</MCBRegisters>")
        write_errors(w, 4)
        if tables:
            write_tables(w, 4, tables)
        w.line(3, "</%s>" % tag)
    if m.get("can"):
        render_v3_can(w, m, regs)
    w.line(2, "</Devices>")
    w.line(1, "</Body>")
    w.line(1, '<DriveImage encoding="xs:base64Binary"></DriveImage>')
    w.line(0, "</IngeniaDictionary>")
    return w.result()


def render_v2(m):
    regs = model_registers(m)
    assert m["interfaces"] == ["ETH"], "a version 2 file describes one interface"
    w = Writer()
    w.line(0, '<?xml version="1.0" encoding="UTF-8"?>')
    for s in header_comment(m):
        w.line(0, s)
    w.line(0, "<IngeniaDictionary>")
    w.line(1, "<Header>")
    w.line(2, "<Version>2</Version>")
    w.line(2, "<DefaultLanguage>en_US</DefaultLanguage>")
    w.line(1, "</Header>")
    w.line(1, "<Body>")
    w.line(2, "<Device %s>" % fmt_attrs(identity_attrs(m, "ETH")))
    write_categories(w, 3, used_categories(regs))
    w.line(3, "<Axes>")
    for axis in range(0, m["axes"] + 1):
        w.line(4, '<Axis subnode="%d">' % axis)
        w.line(5, "<Registers>")
        for sub, r in regs:
            if sub != axis:
                continue
            a = [("address", "0x%04X" % r.address), ("subnode", str(sub))]
            a += common_attrs(r)
            storage = storage_text(r.dtype, r.default)
            if storage is not None:
                a.insert(6, ("storage", storage))
            w.line(6, "<Register %s>" % fmt_attrs(a))
            write_reg_children(w, 7, r)
            w.line(6, "</Register>")
        w.line(5, "</Registers>")
        w.line(4, "</Axis>")
    w.line(3, "</Axes>")
    w.line(2, "</Device>")
    if m.get("can"):
        render_v2_can(w, m, regs)
    write_errors(w, 2)
    w.line(1, "</Body>")
    w.line(1, '<DriveImage encoding="xs:base64Binary"></DriveImage>')
    w.line(0, "</IngeniaDictionary>")
    return w.result()


def render_v2_can(w, m, regs):
    """Model @m's CAN interface as a version 2 Device: one Registers list per
    Axis, each address index << 8 | subindex."""
    objects = can_objects(m, regs)
    w.line(2, "<Device %s>" % fmt_attrs(identity_attrs(m, "CAN")))
    write_categories(w, 3, used_categories([(sub, r) for _, _, sub, r in objects]))
    w.line(3, "<Axes>")
    for axis in range(0, m["axes"] + 1):
        w.line(4, '<Axis subnode="%d">' % axis)
        w.line(5, "<Registers>")
        for index, subindex, sub, r in objects:
            if sub != axis:
                continue
            a = [("address", "0x%06X" % (index << 8 | subindex)), ("subnode", str(sub))]
            a += common_attrs(r)
            storage = storage_text(r.dtype, r.default)
            if storage is not None:
                a.insert(6, ("storage", storage))
            w.line(6, "<Register %s>" % fmt_attrs(a))
            write_reg_children(w, 7, r)
            w.line(6, "</Register>")
        w.line(5, "</Registers>")
        w.line(4, "</Axis>")
    w.line(3, "</Axes>")
    w.line(2, "</Device>")


def render(m):
    return render_v3(m) if m["format"] == 3 else render_v2(m)


# ---------------------------------------------------------------------------
# version 3 validation

# What format version 3 makes mandatory, per element (readers of the format,
# the vendor's tools among them, refuse a file without them). The device
# elements are the children of Body/Devices.
V3_DEVICES = ("ETHDevice", "EoEDevice", "ECATDevice", "CANDevice")
V3_MANDATORY = {
    "device": ("firmwareVersion", "ProductCode", "PartNumber", "RevisionNumber"),
    "MCBRegister": ("address", "subnode", "address_type", "access", "dtype", "id",
                    "pdo_access", "desc", "default", "cat_id"),
    "CANopenObject": ("index", "datatype"),
    "Subitem": ("subindex", "address_type", "access", "dtype", "id", "pdo_access", "desc",
                "default", "cat_id"),
    "Range": ("min", "max"),
    "Error": ("id", "error_type", "affected_module"),
}
V3_PDO_ACCESS = {"CONFIG", "CYCLIC_RX", "CYCLIC_TX", "CYCLIC_RXTX", "CYCLIC_TXRX",
                 "CYCLIC_SI", "CYCLIC_SO", "CYCLIC_SISO"}
V3_ACCESS = {"r", "w", "rw"}


def _is_hex(s, prefix):
    """A hex number: with 0x when @prefix, else bare digits of whole bytes."""
    if prefix:
        body = s[2:] if s[:2] in ("0x", "0X") else None
    else:
        body = s if len(s) % 2 == 0 else None
    return body is not None and all(c in "0123456789abcdefABCDEF" for c in body) and \
        (len(body) > 0 or not prefix)


def _value_problem(element, name, value):
    """Why @value is wrong for attribute @name of @element, or None."""
    if name in ("address", "index") or (element == "Error" and name == "id"):
        if not _is_hex(value, True):
            return "'%s' is not 0x hex" % value
    elif name == "default":
        if not _is_hex(value, False):
            return "'%s' is not the hex of whole bytes" % value
    elif name == "pdo_access":
        if value not in V3_PDO_ACCESS:
            return "'%s' is none of %s" % (value, " ".join(sorted(V3_PDO_ACCESS)))
    elif name == "access":
        if value not in V3_ACCESS:
            return "'%s' is not r, w or rw" % value
    elif name in ("subnode", "subindex", "ProductCode", "RevisionNumber"):
        if not value.isdigit():
            return "'%s' is not a decimal number" % value
    return None


class _V3Validator(xml.sax.handler.ContentHandler):
    """Collects "file:line: problem" for each mandatory attribute a version 3
    file lacks or spells wrong. Files of another version pass untouched."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.stack = []
        self.owner = None  # id of the MCBRegister or Subitem being read
        self.version = None
        self.version_text = ""
        self.problems = []

    def startElement(self, name, attrs):
        parent = self.stack[-1] if self.stack else None
        self.stack.append(name)
        if self.version is None and self.stack[-2:] == ["Header", "Version"]:
            self.version_text = ""
        if self.version != 3:
            return
        kind = None
        if parent == "Devices" and name in V3_DEVICES:
            kind = "device"
        elif (name, parent) in (("MCBRegister", "MCBRegisters"), ("CANopenObject", "CANopenObjects"),
                                ("Subitem", "Subitems"), ("Error", "Errors")):
            kind = name
        elif name == "Range" and parent in ("MCBRegister", "Subitem"):
            kind = name
        if kind is None:
            return
        what = name
        if kind in ("MCBRegister", "Subitem"):
            self.owner = attrs.get("id")
        if kind == "Range" and self.owner:
            what = "Range of '%s'" % self.owner
        elif attrs.get("id"):
            what = "%s '%s'" % (name, attrs.get("id"))
        line = self._locator.getLineNumber() if self._locator else 0
        for a in V3_MANDATORY[kind]:
            value = attrs.get(a)
            if value is None:
                why = "no attribute '%s', which format version 3 requires" % a
            else:
                why = _value_problem(kind, a, value)
                if why:
                    why = "attribute %s: %s" % (a, why)
            if why:
                self.problems.append("%s:%d: %s: %s" % (self.path, line, what, why))

    def characters(self, content):
        if self.version is None and self.stack[-2:] == ["Header", "Version"]:
            self.version_text += content

    def endElement(self, name):
        if self.version is None and self.stack[-2:] == ["Header", "Version"]:
            text_ = self.version_text.strip()
            self.version = 3 if text_ == "3" or text_.startswith("3.") else 0
        self.stack.pop()


def validate_v3(path):
    """Problems of the version 3 file at @path as "file:line: ..." lines; [] when
    it is valid or of another version."""
    handler = _V3Validator(path)
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    parser.setContentHandler(handler)
    try:
        parser.parse(path)
    except xml.sax.SAXParseException as e:
        return ["%s:%d: malformed XML: %s" % (path, e.getLineNumber(), e.getMessage())]
    return handler.problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--out", default=here, help="directory to write into (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a file is missing or differs, or a version 3 "
                    "file of the folder lacks a mandatory attribute")
    ap.add_argument("--validate", nargs="+", metavar="FILE",
                    help="only check that each version 3 FILE has every mandatory attribute")
    args = ap.parse_args()
    if args.validate:
        problems = [p for f in args.validate for p in validate_v3(f)]
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    stale = []
    for m in MODELS:
        path = os.path.join(args.out, m["file"])
        data = render(m)
        if args.check:
            try:
                with open(path, encoding="utf-8", newline="") as f:
                    same = f.read() == data
            except FileNotFoundError:
                same = False
            if not same:
                stale.append(path)
            continue
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(data)
        n = len(model_registers(m))
        print("%s: version %d, %d registers per interface, %s" % (
            path, m["format"], n, "+".join(m["interfaces"])))
    # Every version 3 file the folder ships, written here or not, must be one
    # that other readers of the format load.
    problems = []
    if args.check:
        for path in sorted(glob.glob(os.path.join(args.out, "*.xdf"))):
            problems += validate_v3(path)
    for p in problems:
        print(p, file=sys.stderr)
    if stale:
        for p in stale:
            print("out of date: %s (run %s)" % (p, sys.argv[0]), file=sys.stderr)
    return 1 if stale or problems else 0


if __name__ == "__main__":
    sys.exit(main())
