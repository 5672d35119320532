# SPDX-License-Identifier: MIT
"""drive.config: save, diff and load configuration files (XCF) on in-process
simulated drives, and the file read by the rules of the format's other reader."""
import logging
import os
import re
import xml.etree.ElementTree as ET

import pytest

import axlink

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data")

# dtype names and access values another reader of the format accepts.
XCF_DTYPES = {"float", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "str", "bool",
              "bit", "byteArray512"}


def test_config__round_trip_through_python(tmp_path):
    saved = tmp_path / "a.xcf"
    with axlink.open("virtual:?serial=681") as a, axlink.open("virtual:?serial=682") as b:
        a.write("CL_VEL_PID_KP", 0.75)
        a.write("DRV_USER_DATA", b"\x5a" * 8 + bytes(504))
        n = a.config.save(saved)
        assert n > 60

        a.write("MOT_PAIR_POLES", 7)
        a.write("PROF_MAX_VEL", 12.5)
        a.write("HOM_OFFSET", -3)
        report = a.config.diff(saved)
        assert isinstance(report, axlink.ConfigReport)
        assert len(report) == n
        assert sorted(e.id for e in report.changes) == ["HOM_OFFSET", "MOT_PAIR_POLES",
                                                        "PROF_MAX_VEL"]
        poles = next(e for e in report if e.id == "MOT_PAIR_POLES")
        assert (poles.subnode, poles.status, poles.file_value, poles.drive_value) == \
            (1, "different", "4", "7")

        report = b.config.load(saved)
        assert report.ok
        assert report.counts["written"] == 2 and report.counts["unchanged"] == n - 2
        assert {e.id for e in report.with_status("written")} == {"CL_VEL_PID_KP",
                                                                 "DRV_USER_DATA"}
        assert b.read("CL_VEL_PID_KP") == 0.75
        assert b.read("DRV_USER_DATA")[:8] == b"\x5a" * 8
        assert b.config.diff(saved).changes == []
        assert b.config.save(tmp_path / "b.xcf") == n
        assert (tmp_path / "b.xcf").read_bytes() == saved.read_bytes()


def test_config__file_follows_the_format(tmp_path):
    """Read the file as the format's other reader does (ingenialink-python's
    ConfigurationFile.load_from_xcf): every check there passes."""
    path = tmp_path / "c.xcf"
    with axlink.open("virtual:?serial=683") as d:
        d.config.save(path)
    root = ET.parse(path).getroot()
    assert root.tag == "IngeniaDictionary"
    m = re.match(r"(\d+)\.*(\d*)", root.find("Header/Version").text.strip())
    assert int(m.group(1)) == 2
    dev = root.find("Body/Device")
    assert dev.get("Interface") in ("CAN", "ECAT", "EoE", "ETH")
    assert int(dev.get("ProductCode")) == 0x00010064
    assert int(dev.get("RevisionNumber")) == 0x00010002
    assert dev.get("PartNumber") == "AXS-100" and dev.get("firmwareVersion")
    assert dev.get("NodeID") is None  # CAN only
    regs = dev.findall("Registers/Register")
    assert regs
    for r in regs:
        for a in ("id", "subnode", "dtype", "access", "storage"):
            assert r.get(a) is not None, (r.attrib, a)
        assert r.get("dtype") in XCF_DTYPES and r.get("access") == "rw"
        int(r.get("subnode"))
        if r.get("dtype") == "float":
            float(r.get("storage"))
        elif r.get("dtype") not in ("str", "byteArray512", "bool", "bit"):
            int(r.get("storage"))
        if r.get("data") is not None:
            bytes.fromhex(r.get("data"))


def test_config__update_keeps_the_rest_of_the_file(tmp_path):
    path = tmp_path / "kept.xcf"
    with open(os.path.join(DATA, "ingenialink_axs100.xcf")) as src:
        path.write_text(src.read())
    with axlink.open("virtual:?serial=685") as d:
        n = d.config.save(path, update=True)
    root = ET.parse(path).getroot()
    assert root.find("Header/Version").text == "2.2"
    assert root.find("Body/Device").get("Vendor") == "someone"
    assert root.find("Body/Device/Tables/Table").get("id") == "DRV_DIAG_ERROR_LIST"
    regs = root.findall("Body/Device/Registers/Register")
    assert len(regs) == n + 1  # FOREIGN_REGISTER stays
    kp = next(r for r in regs if r.get("id") == "CL_VEL_PID_KP")
    assert kp.get("comment") == "tuned on the bench"


def test_config__failures_raise_with_the_report():
    with axlink.open("virtual:?serial=684") as d:
        bad = os.path.join(DATA, "bad_values.xcf")
        with pytest.raises(axlink.InvalidArgumentError) as e:
            d.config.load(bad)
        assert "3 of 5 registers not applied" in e.value.message
        report = e.value.report
        assert report.counts["written"] == 2 and report.counts["invalid"] == 2
        refused = report.with_status("refused")
        assert [(x.id, x.error) for x in refused] == [("MOT_PAIR_POLES", "AX_ERANGE")]
        assert "[1, 64]" in refused[0].message

        report = d.config.load(bad, strict=False)
        assert not report.ok and report.counts["refused"] == 1

        other = os.path.join(DATA, "other_revision.xcf")
        with pytest.raises(axlink.InvalidArgumentError, match="revision 0x00010001"):
            d.config.load(other)
        assert d.config.load(other, allow_revision=True).ok
        with pytest.raises(axlink.DictionaryFormatError):
            d.config.diff(os.path.join(DATA, "malformed.xdf"))
        with pytest.raises(ValueError):
            d.config.save("x.xcf", axis=300)
        with pytest.raises(axlink.Error, match="nonexistent"):
            d.config.save("/nonexistent/x.xcf")


class _CancelAfterWrites(logging.Handler):
    """Calls drive.cancel() once the library has logged @after register writes."""

    def __init__(self, drive, after):
        super().__init__(level=1)
        self.drive, self.after, self.writes = drive, after, 0

    def emit(self, record):
        if record.getMessage().split(": ", 1)[-1].startswith("wrote "):  # "virtual: wrote"
            self.writes += 1
            if self.writes == self.after:
                try:
                    self.drive.cancel()
                except axlink.UnsupportedError:
                    pass  # the token is triggered all the same


def test_config__cancelled_load_raises_with_what_was_written(tmp_path):
    saved = tmp_path / "a.xcf"
    logger = logging.getLogger("axlink")
    level = logger.level
    ctx = axlink.Context(log_level="trace")
    with axlink.open("virtual:?serial=687", context=ctx) as a, \
            axlink.open("virtual:?serial=688", context=ctx) as b:
        for reg, value in (("COMMS_WATCHDOG_TIMEOUT", 250), ("MOT_PAIR_POLES", 7),
                           ("HOM_OFFSET", -3), ("CL_VEL_PID_KP", 0.75)):
            a.write(reg, value)
        n = a.config.save(saved)
        handler = _CancelAfterWrites(b, 2)
        logger.addHandler(handler)
        logger.setLevel(1)
        try:
            with pytest.raises(axlink.CancelledError) as e:
                b.config.load(saved, strict=False)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        assert f"cancelled after writing 2 of {n} registers" in e.value.message
        assert "partial configuration" in e.value.message
        report = e.value.report
        assert [x.id for x in report.with_status("written")] == ["COMMS_WATCHDOG_TIMEOUT",
                                                                 "MOT_PAIR_POLES"]
        assert report.counts["skipped"] > 0
        assert report.counts["written"] + report.counts["unchanged"] + \
            report.counts["skipped"] == n
        assert sorted(x.id for x in b.config.diff(saved).changes) == ["CL_VEL_PID_KP",
                                                                     "HOM_OFFSET"]
        # The next load starts afresh and finishes.
        assert b.config.load(saved).counts["written"] == 2
