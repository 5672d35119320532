# SPDX-License-Identifier: MIT
"""axlink config save | load | diff against the real simulator over UDP.

The issue's round trip: save drive A, change three registers on A, diff
names exactly those three; load the file into drive B (same model) and B
then matches the file A saved."""
import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

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


# Registers of the axs-100 model the interrupted load changes, in dictionary
# order, with values the drive takes: the first is written within the
# first few requests, the others are spread over the rest of the file.
TUNED = (("COMMS_WATCHDOG_TIMEOUT", "0", "250"), ("PROF_MAX_VEL", "1", "12.5"),
         ("MOT_PAIR_POLES", "1", "7"), ("HOM_OFFSET", "1", "-3"),
         ("CL_VEL_REF_MAX", "1", "40.0"), ("CL_CUR_Q_KP", "1", "3.0"),
         ("CL_VEL_PID_KP", "1", "0.75"), ("CL_POS_PID_KP", "1", "0.02"))


@pytest.fixture(scope="module")
def slow_drive():
    """One simulated drive on 127.0.3.60 that answers each request 20 ms
    late, so that loading a configuration takes seconds."""
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--eth", "127.0.3.60", "--serial", "9060", "--delay", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        uri = proc.stdout.readline().strip()  # printed once it serves: no sleeping
        if not uri.startswith("eth://"):
            proc.kill()
            pytest.fail(f"axlink-sim did not start: {uri!r} {proc.stderr.read()!r}")
        yield uri
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
        proc.stdout.close()
        proc.stderr.close()


def test_config_load_ctrl_c_stops_and_says_what_was_written(axlink, cli_path, slow_drive,
                                                             tmp_path):
    uri = slow_drive
    # The drive's own configuration with eight values changed.
    saved = tmp_path / "drive.xcf"
    assert axlink("config", "save", uri, saved).code == 0
    tree = ET.parse(saved)
    regs = {(r.get("id"), r.get("subnode")): r for r in tree.iter("Register")}
    for reg, sn, value in TUNED:
        regs[(reg, sn)].set("storage", value)
    tuned = tmp_path / "tuned.xcf"
    tree.write(tuned)
    total = len(regs)

    proc = subprocess.Popen([cli_path, "config", "load", uri, str(tuned), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=axlink.env)
    # Interrupt once the first register is written: the load is under way.
    deadline = time.monotonic() + 20
    while True:
        r = axlink("read", uri, "COMMS_WATCHDOG_TIMEOUT", "--subnode", "0")
        if r.code == 0 and r.out.split()[:1] == ["250"]:  # "250 ms"
            break
        assert proc.poll() is None, f"the load ended before it was interrupted: " \
                                    f"{proc.communicate()}"
        assert time.monotonic() < deadline, "the load never wrote its first register"
        time.sleep(0.01)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    took = time.monotonic() - t0
    assert proc.returncode == 1, (proc.returncode, out, err)
    # Within about one request (the UDP timeout is 1 s; a request here takes 20 ms):
    # two timeouts leave a loaded machine room. Not stopping at all ends with 0.
    assert took < 2 * 1.0, f"the load took {took:.2f} s to stop"

    doc = json.loads(out)
    written = [e["id"] for e in doc["registers"] if e["status"] == "written"]
    n = len(written)
    assert 1 <= n < len(TUNED), doc["counts"]
    assert written == [t[0] for t in TUNED[:n]]
    assert doc["counts"]["skipped"] > 0
    assert doc["counts"]["written"] + doc["counts"]["unchanged"] + \
        doc["counts"]["skipped"] == total, doc["counts"]
    assert f"cancelled after writing {n} of {total} registers" in err, err
    assert "the drive now holds a partial configuration" in err, err

    # What the message says is what the drive holds: the rest still differs.
    r = axlink("config", "diff", uri, tuned, "--json")
    assert r.code == 1, r
    different = [e["id"] for e in r.json()["registers"] if e["status"] == "different"]
    assert different == [t[0] for t in TUNED[n:]]

    # Not interrupted, the load finishes the job.
    r = axlink("config", "load", uri, tuned, "--json")
    assert r.code == 0, r
    assert r.json()["counts"]["written"] == len(TUNED) - n
