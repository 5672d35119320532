# SPDX-License-Identifier: MIT
"""axlink list, info and watch: discovery from the shell, end to end.

Addresses: 127.0.10.128/25 only (tests/test_discover.c uses 127.0.10.0/25).
    127.0.10.129-144  sixteen axs-100 drives, serials 5000..5015 (this module)
    127.0.10.161      a drive that comes and goes (watch tests)
    127.0.10.200      nothing listens there
The testscan transport (tests/discover_testscan.c) reports drives of any
product on demand; it lives in the discover-plugins folder beside the
loader tests' plugin folder.
"""
import json
import os
import pty
import re
import select
import signal
import subprocess
import time

import pytest

SIXTEEN = "eth://127.0.10.128/27"
FIRST_SERIAL = 5000
LIST_KEYS = {"uri", "stable_uri", "transport", "detail", "vendor_id", "product_code",
             "revision", "serial_number", "firmware_version", "model", "dictionary", "match",
             "match_reason", "access", "message", "hint"}
INFO_KEYS = ["uri", "stable_uri", "transport", "vendor_id", "product_code", "revision",
             "serial_number", "firmware_version", "model", "dictionary", "match",
             "match_reason", "axes"]

# DESIGN §7: (mask, value) -> state; the oracle for 'info', independent of the library.
CIA402_STATES = [
    (0x4F, 0x00, "not_ready"),
    (0x4F, 0x40, "switch_on_disabled"),
    (0x6F, 0x21, "ready_to_switch_on"),
    (0x6F, 0x23, "switched_on"),
    (0x6F, 0x27, "operation_enabled"),
    (0x6F, 0x07, "quick_stop_active"),
    (0x4F, 0x0F, "fault_reaction_active"),
    (0x4F, 0x08, "fault"),
]


def cia402(word):
    for mask, value, name in CIA402_STATES:
        if word & mask == value:
            return name
    return None


def sim_path():
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    return path


def start_sim(*args, count=1):
    proc = subprocess.Popen([sim_path(), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    uris = [proc.stdout.readline().strip() for _ in range(count)]
    if not all(u.startswith("eth://") for u in uris):
        proc.kill()
        pytest.fail(f"axlink-sim {args} did not start: {uris!r} {proc.stderr.read()!r}")
    return proc, uris


def stop_sim(proc):
    proc.terminate()
    rc = proc.wait(timeout=10)
    proc.stdout.close()
    proc.stderr.close()
    assert rc == 0, "axlink-sim must exit cleanly on SIGTERM"


@pytest.fixture(scope="module")
def sixteen():
    proc, uris = start_sim("--eth", "127.0.10.129", "--count", "16", "--serial",
                           str(FIRST_SERIAL), count=16)
    try:
        yield uris
    finally:
        stop_sim(proc)


@pytest.fixture
def scan_plugins():
    """The folder of the testscan transport."""
    base = os.environ.get("AXLINK_TEST_PLUGIN_DIR")
    if not base:
        pytest.fail("AXLINK_TEST_PLUGIN_DIR is not set (ctest sets it)")
    folder = os.path.join(os.path.dirname(base), "discover-plugins")
    if not os.path.exists(os.path.join(folder, "axlink-transport-testscan.so")):
        pytest.fail(f"no testscan plugin in {folder}")
    return folder


# ---- list ---------------------------------------------------------------------


def test_list_json_finds_exactly_the_sixteen(axlink, sixteen):
    t0 = time.monotonic()
    r = axlink("list", SIXTEEN, "--json", "--timeout-ms", "8000")
    took = time.monotonic() - t0
    assert r.code == 0, r
    found = r.json()
    assert len(found) == 16, r
    # In URI order, numerically: .129 .. .144.
    assert [d["uri"] for d in found] == sixteen, r
    assert [d["serial_number"] for d in found] == list(range(FIRST_SERIAL, FIRST_SERIAL + 16))
    for d in found:
        assert set(d) == LIST_KEYS, d
        assert d["transport"] == "eth" and d["access"] == "ok", d
        assert d["vendor_id"] == "0x0000A71C" and d["product_code"] == "0x00010064", d
        assert d["revision"] == "0x00010002", d
        assert d["stable_uri"] == f"axlink://A71C/00010064/{d['serial_number']}", d
        assert d["model"] == "axs-100" and d["match"] == "exact", d
        assert d["dictionary"] and "devices.db" in d["dictionary"], d
        assert "exact" in d["match_reason"], d
        assert d["firmware_version"], d
        assert d["detail"] == d["uri"][len("eth://"):], d
        assert d["message"] is None and d["hint"] is None, d
    # Done when the drives are, not at the 8 s deadline (process start included).
    assert took < 8.0 / 2, f"{took:.2f} s"
    assert r.err == "", r


def test_list_text_table(axlink, sixteen):
    r = axlink("list", SIXTEEN, "--timeout-ms", "1000")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0].split() == ["MODEL", "SERIAL", "FIRMWARE", "URI", "MATCH", "ACCESS"], r
    assert len(lines) == 17, r
    for i, line in enumerate(lines[1:]):
        cols = line.split()
        assert cols[0] == "axs-100" and cols[1] == str(FIRST_SERIAL + i), line
        assert sixteen[i] in cols and cols[-2:] == ["exact", "ok"], line
    # Not a terminal: no progress line.
    assert "scanning" not in r.err, r


def test_list_several_specs_and_lists(axlink, sixteen):
    r = axlink("list", "eth://127.0.10.129", "eth://127.0.10.131,127.0.10.133",
               "--json", "--timeout-ms", "800")
    assert r.code == 0, r
    assert [d["serial_number"] for d in r.json()] == [5000, 5002, 5004], r


def test_list_without_spec_notes_ethernet(axlink, sixteen):
    # Serial and USB scan their defaults (reporting, never writing, to ports the
    # policy leaves alone); Ethernet only where told.
    r = axlink("list", "--json", "--timeout-ms", "1000")
    assert r.code == 0, r
    assert not [d for d in r.json() if d["transport"] == "eth"], r
    assert "eth skipped" in r.err and "AXLINK_ETH_TARGETS" in r.err, r
    r = axlink("list", "--json", "--timeout-ms", "1000",
               env={"AXLINK_ETH_TARGETS": "127.0.10.128/29, 127.0.10.140"})
    assert r.code == 0, r
    eth = [d["serial_number"] for d in r.json() if d["transport"] == "eth"]
    assert eth == [5000, 5001, 5002, 5003, 5004, 5005, 5011], r


def test_list_unknown_model_and_hints(axlink, scan_plugins):
    r = axlink("list", "testscan:?count=1&product=0x00DEAD00&serial=7", "--json",
               "--plugin-dir", scan_plugins)
    assert r.code == 0, r
    (d,) = r.json()
    assert d["match"] == "none" and d["model"] is None and d["dictionary"] is None, d
    assert d["product_code"] == "0x00DEAD00", d
    assert "axlink db import" in d["hint"], d
    assert d["stable_uri"] == "axlink://A71C/00DEAD00/7", d
    r = axlink("list", "testscan:?mode=denied", "--plugin-dir", scan_plugins)
    assert r.code == 0, r
    assert re.search(r"^-\s+-\s+-\s+testscan:locked\s+none\s+permission-denied$", r.out,
                     re.M), r
    # Hints are notes, not rows: stderr, so a pipe of the table does not get them.
    assert "axlink: testscan:locked: hint: add yourself to group 'dialout'" in r.err, r
    assert "hint" not in r.out, r


def test_list_against_a_database_without_the_model(axlink, sixteen, tmp_path):
    # A database that knows another model only: the drives are there, their model is not.
    db = tmp_path / "other.db"
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
    r = axlink("db", "import", os.path.join(data, "v3_multi.xdf"), "--db", db)
    assert r.code == 0, r
    r = axlink("list", "eth://127.0.10.129,127.0.10.130", "--db", db, "--json")
    assert r.code == 0, r
    found = r.json()
    assert [d["match"] for d in found] == ["none", "none"], r
    assert all(d["access"] == "ok" and d["serial_number"] for d in found), r
    r = axlink("list", SIXTEEN, "--db", tmp_path / "missing.db")
    assert r.code == 1 and "missing.db" in r.err and r.no_result(), r


def test_list_errors(axlink):
    r = axlink("list", "nosuch", "--json")
    assert r.code == 1 and "'nosuch'" in r.err and r.no_result(), r
    r = axlink("list", "virtual")
    assert r.code == 1 and "cannot scan" in r.err, r
    # Every target failed: that failure is the command's.
    r = axlink("list", "eth://127.0.10.128/8", "--json")
    assert r.code == 1 and "/8" in r.err and r.no_result(), r
    r = axlink("list", SIXTEEN, "--timeout-ms", "0")
    assert r.code == 2 and "--timeout-ms" in r.err, r
    r = axlink("list", "--bogus")
    assert r.code == 2, r


def test_list_silent_target_keeps_the_deadline(axlink, sixteen):
    proc, _ = start_sim("--eth", "127.0.10.200", "--drop", "100")
    try:
        t0 = time.monotonic()
        r = axlink("list", SIXTEEN, "eth://127.0.10.200", "--timeout-ms", "800", "--json")
        took = time.monotonic() - t0
    finally:
        stop_sim(proc)
    assert r.code == 0, r
    assert len(r.json()) == 16, r
    # The deadline, not another UDP timeout (1 s) past it; process start included.
    assert took < 0.8 + 1.2, f"{took:.2f} s"


def test_list_progress_on_a_terminal(cli_path, axlink_env, sixteen):
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([cli_path, "list", "eth://127.0.10.129", "--timeout-ms", "500"],
                              stdout=subprocess.PIPE, stderr=slave, env=axlink_env,
                              timeout=30, check=False)
        os.close(slave)
        slave = -1
        err = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            err += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    assert b"scanning..." in err and b"1 drive(s) found" in err, err
    # The progress line is erased, so the table stays clean.
    assert err.endswith(b"\r\x1b[K"), err
    assert b"scanning" not in proc.stdout


# ---- info ------------------------------------------------------------------------


def test_info_json(axlink, sixteen):
    r = axlink("info", sixteen[2], "--json")
    assert r.code == 0, r
    d = r.json()
    assert list(d) == INFO_KEYS, d
    assert d["serial_number"] == FIRST_SERIAL + 2 and d["match"] == "exact", d
    assert d["stable_uri"] == f"axlink://A71C/00010064/{FIRST_SERIAL + 2}", d
    assert d["model"] == "axs-100" and "exact" in d["match_reason"], d
    (axis,) = d["axes"]
    assert axis["axis"] == 1 and axis["error"] is None, d
    assert isinstance(axis["statusword"], int) and 0 <= axis["statusword"] <= 0xFFFF, d
    assert axis["state"] == cia402(axis["statusword"]), d


def test_info_every_axis(axlink):
    r = axlink("info", "virtual:?model=axs-200", "--json")
    assert r.code == 0, r
    axes = r.json()["axes"]
    assert [a["axis"] for a in axes] == [1, 2], r
    for a in axes:
        assert a["state"] == cia402(a["statusword"]), a
    r = axlink("info", "virtual:?model=axs-200")
    assert r.code == 0, r
    assert re.search(r"^axes:\s+2$", r.out, re.M), r
    assert len(re.findall(r"^axis [12] .*\(status word 0x[0-9A-F]{4}\)$", r.out, re.M)) == 2, r


def test_info_stable_uri(axlink, sixteen):
    r = axlink("info", f"axlink://A71C/00010064/{FIRST_SERIAL + 5}?via={SIXTEEN}", "--json")
    assert r.code == 0, r
    assert r.json()["uri"] == sixteen[5], r
    r = axlink("info", f"axlink://A71C/00010064/{FIRST_SERIAL + 5}",
               env={"AXLINK_ETH_TARGETS": SIXTEEN})
    assert r.code == 0 and f"uri:           {sixteen[5]}" in r.out, r
    r = axlink("info", "axlink://A71C/00010064/1?via=eth://127.0.10.200&timeout_ms=300")
    assert r.code == 1 and "serial 1" in r.err and "eth://127.0.10.200" in r.err, r
    r = axlink("info", "axlink://nothex/00010064/1")
    assert r.code == 1 and "vendor" in r.err, r


# ---- watch ---------------------------------------------------------------------------


class Lines:
    """Lines of a child's stdout as they come, each within a timeout.

    Reads the raw descriptor: a buffered reader would swallow two lines at
    once and leave select() waiting for a second that already arrived."""

    def __init__(self, proc):
        self.fd = proc.stdout.fileno()
        self.buf = b""

    def next(self, timeout):
        """The next line (without the newline), or None after timeout seconds."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def test_watch_added_and_removed_json(cli_path, axlink_env):
    watch = subprocess.Popen([cli_path, "watch", "eth://127.0.10.160/29", "--period-ms", "200",
                              "--misses", "1", "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=axlink_env)
    lines = Lines(watch)
    try:
        # Nothing there yet: no event.
        assert lines.next(0.6) is None
        sim, (uri,) = start_sim("--eth", "127.0.10.161", "--serial", "6100")
        try:
            line = lines.next(5)
        finally:
            stop_sim(sim)
        ev = json.loads(line)
        assert ev["event"] == "added" and ev["uri"] == uri, ev
        assert ev["serial_number"] == 6100 and ev["match"] == "exact", ev
        assert set(ev) == LIST_KEYS | {"event"}, ev
        line = lines.next(5)
        ev = json.loads(line)
        assert ev["event"] == "removed" and ev["uri"] == uri, ev
        assert ev["serial_number"] == 6100, ev
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=5) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
        watch.stdout.close()
        watch.stderr.close()


def test_watch_text_and_sigterm(cli_path, axlink_env, scan_plugins):
    watch = subprocess.Popen([cli_path, "watch", "testscan:?count=2&serial=40",
                              "--plugin-dir", scan_plugins, "--period-ms", "100"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=axlink_env)
    out = Lines(watch)
    try:
        got = [out.next(5), out.next(5)]
        assert all(line and line.startswith("added ") for line in got), got
        lines = sorted(got)
        assert "testscan:40" in lines[0] and "serial 40" in lines[0], lines
        assert "testscan:41" in lines[1] and "match exact" in lines[1], lines
        # The same drives every round: nothing more to say.
        assert out.next(0.5) is None
        watch.send_signal(signal.SIGTERM)
        assert watch.wait(timeout=5) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
        watch.stdout.close()
        watch.stderr.close()


def test_watch_changed(cli_path, axlink_env, scan_plugins):
    # testscan:?mode=flip answers, then is busy, then answers... (a fresh process starts
    # answering): one place changing state, not drives coming and going.
    watch = subprocess.Popen([cli_path, "watch", "testscan:?mode=flip&serial=3",
                              "--plugin-dir", scan_plugins, "--period-ms", "50", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=axlink_env)
    out = Lines(watch)
    try:
        events = [json.loads(out.next(5) or "null") for _ in range(3)]
        assert [e["event"] for e in events] == ["added", "changed", "changed"], events
        assert [e["access"] for e in events] == ["ok", "busy", "ok"], events
        assert events[0]["serial_number"] == 3 and events[1]["serial_number"] is None, events
        assert events[1]["message"] == "/dev/testscan1 is held by another program", events
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=5) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
        watch.stdout.close()
        watch.stderr.close()


def test_watch_errors(axlink):
    r = axlink("watch", "nosuch")
    assert r.code == 1 and "nosuch" in r.err, r
    r = axlink("watch", "--period-ms", "0")
    assert r.code == 2 and "--period-ms" in r.err, r
    r = axlink("watch", "--misses", "x")
    assert r.code == 2 and "--misses" in r.err, r
