# SPDX-License-Identifier: MIT
"""axlink config save | load | diff against the real simulator over UDP.

The issue's round trip: save drive A, change three registers on A, diff
names exactly those three; load the file into drive B (same model) and B
then matches the file A saved."""
import os
import xml.etree.ElementTree as ET

DATA = os.path.join(os.path.dirname(__file__), "..", "data")


def test_config_save_diff_load_round_trip(axlink, sim_drives, tmp_path):
    a, b = sim_drives[0], sim_drives[1]
    saved = tmp_path / "a.xcf"
    # A tuned away from the defaults that B still has.
    assert axlink("write", a, "CL_VEL_PID_KP", "0.75").code == 0
    assert axlink("write", a, "COMMS_WATCHDOG_TIMEOUT", "250", "--subnode", "0").code == 0

    r = axlink("config", "save", a, saved, "--json")
    assert r.code == 0, r
    n = r.json()["registers"]
    assert n > 60
    root = ET.parse(saved).getroot()
    assert root.tag == "IngeniaDictionary"
    assert root.find("Header/Version").text == "2"
    dev = root.find("Body/Device")
    assert dev.get("ProductCode") == str(0x00010064)
    assert len(dev.findall("Registers/Register")) == n

    for reg, value in (("MOT_PAIR_POLES", "7"), ("PROF_MAX_VEL", "12.5"), ("HOM_OFFSET", "-3")):
        assert axlink("write", a, reg, value).code == 0
    r = axlink("config", "diff", a, saved, "--json")
    assert r.code == 1, r
    doc = r.json()
    changed = sorted(e["id"] for e in doc["registers"] if e["status"] != "unchanged")
    assert changed == ["HOM_OFFSET", "MOT_PAIR_POLES", "PROF_MAX_VEL"]
    assert doc["counts"]["different"] == 3
    pv = next(e for e in doc["registers"] if e["id"] == "PROF_MAX_VEL")
    assert (pv["file_value"], pv["drive_value"]) == ("10.0", "12.5")
    r = axlink("config", "diff", a, saved)
    assert r.code == 1 and "different" in r.out and "MOT_PAIR_POLES" in r.out, r

    r = axlink("config", "load", b, saved, "--json")
    assert r.code == 0, r
    counts = r.json()["counts"]
    assert counts["written"] == 2 and counts["unchanged"] == n - 2, r
    r = axlink("config", "diff", b, saved)
    assert r.code == 0, r
    assert r.out.strip() == f"{n} unchanged"
    # B's configuration, saved, is A's saved file.
    r = axlink("config", "save", b, tmp_path / "b.xcf")
    assert r.code == 0, r
    assert (tmp_path / "b.xcf").read_bytes() == saved.read_bytes()


def test_config_load_reports_failures(axlink, sim_drives):
    r = axlink("config", "load", sim_drives[2], os.path.join(DATA, "bad_values.xcf"))
    assert r.code == 1, r
    assert "3 of 5 registers not applied" in r.err
    assert "refused" in r.out and "MOT_PAIR_POLES" in r.out and "[1, 64]" in r.out
    assert "2 written, 1 refused, 2 invalid" in r.out


def test_config_identity_and_usage(axlink, sim_drives, tmp_path):
    other_rev = os.path.join(DATA, "other_revision.xcf")
    r = axlink("config", "load", sim_drives[2], other_rev)
    assert r.code == 1 and "revision 0x00010001" in r.err, r
    r = axlink("config", "load", sim_drives[2], other_rev, "--allow-revision", "--json")
    assert r.code == 0, r
    assert r.json()["counts"]["not_in_dict"] == 0
    r = axlink("config", "save", sim_drives[2], tmp_path / "c.xcf", "--axis", "0", "--json")
    assert r.code == 0 and r.json()["registers"] == 2 and r.json()["axis"] == 0, r
    assert axlink("config", "save", sim_drives[2], tmp_path / "d.xcf", "--axis", "x").code == 2
    assert axlink("config", "frobnicate", sim_drives[2], "f").code == 2
    # --update keeps what another tool put in the file.
    kept = tmp_path / "kept.xcf"
    with open(os.path.join(DATA, "ingenialink_axs100.xcf")) as src:
        kept.write_text(src.read())
    r = axlink("config", "save", sim_drives[2], kept, "--update")
    assert r.code == 0, r
    assert 'Vendor="someone"' in kept.read_text() and "<Tables>" in kept.read_text()
    r = axlink("config", "--help")
    assert r.code == 0 and "config diff" in r.out
