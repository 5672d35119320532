# SPDX-License-Identifier: MIT
"""Lossless import: `axlink db import --json` reports, per interface, as many
registers as the file has register elements (Register in version 2,
MCBRegister + Subitem in version 3), for every dictionary we ship or test
with. The counts come from ElementTree, independent of the library."""
import os
import xml.etree.ElementTree as ET

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICES = os.path.realpath(os.path.join(HERE, "..", "..", "devices"))
DATA = os.path.realpath(os.path.join(HERE, "..", "data"))

# Files in tests/data that are not dictionaries, each refused whole (and why).
NOT_DICTIONARIES = {
    "billion_laughs.xdf": "entity declaration",
    "entity_external.xdf": "entity declaration",
    "malformed.xdf": "",
    "version4.xdf": "version '4",
    "wrong_root.xdf": "",
    "config_v2.xcf": "a configuration file (XCF), not a dictionary",
}
# Registers in these files do not parse (tests of skipping): a missing dtype, an
# unknown access, a CANopen address past index << 8 | subindex, ...
UNPARSEABLE = {"skipped.xdf": 6, "v2_can.xdf": 1, "v3_tables.xdf": 1}
# The interfaces axlink imports; other device elements are ignored, with a warning.
INTERFACES = {"ETH", "EoE", "ECAT", "CAN"}


def files():
    out = [os.path.join(DEVICES, f) for f in sorted(os.listdir(DEVICES)) if f.endswith(".xdf")]
    out += [os.path.join(DATA, f) for f in sorted(os.listdir(DATA))]
    return out


def element_counts(path):
    """{interface: register elements} of an XDF file, by ElementTree."""
    root = ET.parse(path).getroot()
    version = int(float(root.findtext("Header/Version").strip()))
    counts = {}
    if version >= 3:
        for dev in root.find("Body/Devices"):
            if dev.tag[:-len("Device")] not in INTERFACES:
                continue
            n = sum(1 for _ in dev.iter("MCBRegister")) + sum(1 for _ in dev.iter("Subitem"))
            iface = dev.tag[:-len("Device")]
            counts[iface] = counts.get(iface, 0) + n
    else:
        for dev in root.findall("Body/Device"):
            iface = dev.get("Interface")
            counts[iface] = counts.get(iface, 0) + sum(1 for _ in dev.iter("Register"))
    return counts


def test_every_fixture_and_device_file_is_covered():
    names = {os.path.basename(f) for f in files()}
    assert set(NOT_DICTIONARIES) <= names and set(UNPARSEABLE) <= names
    assert {"axs-100.xdf", "axs-200.xdf", "axs-900.xdf", "addresses_beyond_mcb.xdf",
            "subnodes_beyond_mcb.xdf", "axes_beyond_mcb.xdf"} <= names


@pytest.mark.parametrize("path", files(), ids=os.path.basename)
def test_import_counts_equal_register_elements(axlink, tmp_path, path):
    name = os.path.basename(path)
    db = tmp_path / "devices.db"
    r = axlink("db", "import", "--db", db, path, "--json")
    if name.endswith(".xcf"):  # every configuration file among the test data
        assert r.code == 1 and r.no_result(), r
        assert "a configuration file (XCF), not a dictionary" in r.err, r
        assert "axlink config load" in r.err, r
        assert axlink("db", "list", "--db", db, "--json").json() == [], r
        return
    if name in NOT_DICTIONARIES:
        assert r.code == 1 and r.no_result(), r
        assert NOT_DICTIONARIES[name] in r.err, r
        # Nothing went in.
        assert axlink("db", "list", "--db", db, "--json").json() == [], r
        return
    assert r.code == 0, r
    rep = r.json()[0]
    want = element_counts(path)
    skipped = UNPARSEABLE.get(name, 0)
    assert rep["skipped"] == skipped, rep
    assert sum(want.values()) - sum(rep["registers"].values()) == skipped, (want, rep)
    if not skipped:
        assert rep["registers"] == want, rep
