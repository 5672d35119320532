# SPDX-License-Identifier: MIT
"""axlink errors | table against the real simulator (127.0.3.191, serial
9191): faults from --fault-after and SIM_FAULT_INJECT land in the error
list newest first, with the dictionary's texts."""
import json
import os
import subprocess
import time

import pytest

ADDR = "127.0.3.191"
URI = f"eth://{ADDR}"
LIST = "DRV_DIAG_ERROR_LIST"


@pytest.fixture
def sim():
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--eth", ADDR, "--serial", "9191", "--fault-after", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if line != f"{URI}:1061":
            proc.kill()
            pytest.fail(f"axlink-sim did not start: {line!r} {proc.stderr.read()!r}")
        yield URI
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
        proc.stdout.close()
        proc.stderr.close()


def errors(axlink):
    r = axlink("errors", URI, "--json")
    assert r.code == 0, r
    return json.loads(r.out)["errors"]


def test_errors_list_injected_faults_with_texts(axlink, sim):
    deadline = time.monotonic() + 5
    while not errors(axlink):  # --fault-after 1: due a millisecond after serving
        assert time.monotonic() < deadline, "the scheduled fault never reached the list"
        time.sleep(0.01)
    assert axlink("write", URI, "DRV_STATE_CONTROL", "0x80", "--subnode", "1").code == 0
    assert axlink("write", URI, "SIM_FAULT_INJECT", "0x4310", "--subnode", "1").code == 0

    assert errors(axlink) == [
        {"code": "0x00004310", "text": "Motor over-temperature", "type": "cyclic",
         "module": "Motor"},
        {"code": "0x00003220", "text": "DC bus under-voltage", "type": "cyclic",
         "module": "Power stage"},
    ]
    r = axlink("errors", URI)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "0x00004310  Motor over-temperature [cyclic, Motor]"
    assert lines[1] == "0x00003220  DC bus under-voltage [cyclic, Power stage]"


def test_table_reads_entries_and_refuses_read_only_write(axlink, sim):
    # The scheduled fault first, so that it cannot land after the injected one.
    deadline = time.monotonic() + 5
    while not errors(axlink):
        assert time.monotonic() < deadline, "the scheduled fault never reached the list"
        time.sleep(0.01)
    assert axlink("write", URI, "SIM_FAULT_INJECT", "0x2310", "--subnode", "1").code == 0
    r = axlink("table", URI, LIST, "--entry", "0", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["entries"] == [{"entry": 0, "value": 0x2310}]
    r = axlink("table", URI, LIST)
    assert r.code == 0, r
    rows = [line.split("\t") for line in r.out.splitlines()]
    assert len(rows) == 32 and rows[0] == ["0", str(0x2310)]
    # The dictionaries' only table is read-only: --set is refused, naming it.
    r = axlink("table", URI, LIST, "--entry", "0", "--set", "5")
    assert r.code == 1 and "read-only" in r.err and LIST in r.err, r
    r = axlink("table", URI, LIST, "--entry", "32")
    assert r.code != 0 and "out of range 0..31" in r.err, r
    r = axlink("table", URI, "NO_SUCH_TABLE")
    assert r.code != 0 and "NO_SUCH_TABLE" in r.err, r
    r = axlink("table", URI, LIST, "--set", "5")
    assert r.code == 2 and "--set needs --entry" in r.err, r


def test_state_info_enable_name_the_fault(axlink, sim):
    deadline = time.monotonic() + 5
    while not errors(axlink):
        assert time.monotonic() < deadline, "the scheduled fault never reached the list"
        time.sleep(0.01)
    r = axlink("state", URI)
    assert r.code == 0, r
    assert "  fault     0x00003220 DC bus under-voltage" in r.out.splitlines(), r
    r = axlink("state", URI, "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["fault"] == {"code": "0x00003220", "text": "DC bus under-voltage"}
    r = axlink("info", URI)
    assert r.code == 0, r
    assert "  fault        0x00003220 DC bus under-voltage" in r.out.splitlines(), r
    r = axlink("info", URI, "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["axes"][0]["fault"] == {"code": "0x00003220",
                                                      "text": "DC bus under-voltage"}

    r = axlink("enable", URI)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "  reset     0x00003220 DC bus under-voltage", r
    assert "operation_enabled" in lines[1], r
    # Out of fault, neither names one; the history keeps it.
    r = axlink("state", URI, "--json")
    assert json.loads(r.out)["fault"] is None, r
    assert "fault" not in axlink("info", URI).out
    assert [e["code"] for e in errors(axlink)] == ["0x00003220"]
    r = axlink("enable", URI, "--json")
    assert r.code == 0 and "reset_fault" not in json.loads(r.out), r
