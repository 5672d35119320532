# SPDX-License-Identifier: MIT
"""End-to-end tests of CANopen drives through the command line (issue 25): the
real axlink-sim serving three nodes on one CAN bus, reached through an slcan
adapter on a pseudo-terminal and through a socketcand server on 127.0.25.20
(this file's address), and the `can` transport plugin.
"""
import os
import re
import subprocess

import pytest

NODES = [5, 6, 7]


def start_bus(*args):
    """axlink-sim with one CAN node (5) on an slcan pty and @args; returns (proc, uri)."""
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--can-slcan-pty", "--can-first-node", "5", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    uri = proc.stdout.readline().strip()
    if not uri.startswith("can:slcan/"):
        proc.kill()
        pytest.fail(f"axlink-sim did not start: {uri!r} {proc.stderr.read()!r}")
    return proc, uri


def stop_bus(proc):
    proc.terminate()
    assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
    proc.stdout.close()
    proc.stderr.close()


def ok(r):
    assert r.code == 0, r
    return r


@pytest.fixture(scope="module")
def bus():
    """axlink-sim with nodes 5-7 (axs-100, serials 1000-1002) behind an slcan pty and
    a socketcand server; yields {"slcan": [uri...], "socketcand": [uri...], "tty": path}."""
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--can-slcan-pty", "--can-nodes", "3", "--can-first-node",
                             "5", "--can-socketcand", "127.0.25.20:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # One URI per node and front end once it serves: no sleeping.
        uris = [proc.stdout.readline().strip() for _ in range(2 * len(NODES))]
        if not all(u.startswith("can:") for u in uris):
            proc.kill()
            pytest.fail(f"axlink-sim did not start: {uris!r} {proc.stderr.read()!r}")
        slcan = [u for u in uris if u.startswith("can:slcan/")]
        tty = re.match(r"can:slcan(/dev/[^?]+)\?", slcan[0]).group(1)
        yield {"slcan": slcan, "socketcand": [u for u in uris if "socketcand" in u],
               "tty": tty}
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
        proc.stdout.close()
        proc.stderr.close()


def test_list_finds_every_node_with_its_dictionary(axlink, bus):
    r = ok(axlink("list", f"can:slcan{bus['tty']}", "--json", "--timeout-ms", "3000"))
    drives = r.json()
    drives = drives["drives"] if isinstance(drives, dict) else drives
    assert len(drives) == len(NODES), r
    by_uri = {d["uri"]: d for d in drives}
    for i, node in enumerate(NODES):
        d = by_uri[f"can:slcan{bus['tty']}?node={node}"]
        assert d["model"] == "axs-100", d
        assert d["serial_number"] == 1000 + i and d["transport"] == "can", d
        assert "CAN" in d["match_reason"], d
        assert d["match"] == "exact", d
        assert d["access"] == "ok", d
    # The human table says the same.
    r = ok(axlink("list", f"can:slcan{bus['tty']}"))
    assert r.out.count("axs-100  100") == len(NODES), r
    assert f"can:slcan{bus['tty']}?node=7" in r.out, r


def test_scan_socketcand(axlink, bus):
    server = re.match(r"can:socketcand/([^/]+)/", bus["socketcand"][0]).group(1)
    r = ok(axlink("scan", f"can:socketcand/{server}/can0", "--json"))
    found = r.json()
    found = found["results"] if isinstance(found, dict) else found
    assert sorted(x["uri"] for x in found) == sorted(
        f"can:socketcand/{server}/can0?node={n}" for n in NODES), r


@pytest.mark.parametrize("front", ["slcan", "socketcand"])
def test_read_write_by_name(axlink, bus, front):
    uri = bus[front][1]  # node 6
    # A string register: 20 bytes, a segmented SDO upload.
    r = ok(axlink("read", uri, "DRV_ID_SOFTWARE_VERSION"))
    assert r.out == "axs-100 fw 1.2.0-sim\n", r
    ok(axlink("write", uri, "PROF_MAX_VEL", "12345"))
    r = ok(axlink("read", uri, "PROF_MAX_VEL", "--json"))
    assert r.json()["value"] == 12345, r
    # The other nodes on the bus keep their own values.
    r = ok(axlink("read", bus[front][0], "PROF_MAX_VEL", "--json"))
    assert r.json()["value"] != 12345, r


def test_enable_and_profile_move(axlink, bus):
    uri = bus["slcan"][2]  # node 7
    r = ok(axlink("enable", uri))
    assert r.out == "axis 1: operation_enabled (status word 0x0437)\n", r
    r = ok(axlink("move", uri, "90", "--units", "deg"))
    assert "target reached" in r.out, r
    s = ok(axlink("state", uri, "--json")).json()
    assert s["state"] == "operation_enabled" and s["mode"] == "profile_position", s
    assert abs(s["position"] - 1024) <= 10, s
    # info reads the status word where the CANopen dictionary puts it (0x6041).
    info = ok(axlink("info", uri, "--json")).json()
    assert info["transport"] == "can" and info["stable_uri"] == "axlink://A71C/00010064/1002", info
    assert info["axes"][0]["state"] == "operation_enabled", info
    # The same node through socketcand sees the same drive.
    s = ok(axlink("state", bus["socketcand"][2], "--json")).json()
    assert abs(s["position"] - 1024) <= 10, s
    ok(axlink("disable", uri))


def test_sdo_abort_is_a_clear_error(axlink, bus):
    # A mode the drive has no CiA 402 code for: the node aborts 0x06090030.
    r = axlink("write", bus["slcan"][0], "DRV_OP_CMD", "0x7F", "--json")
    assert r.code != 0 and r.no_result(), r
    assert "write of object 0x6060:00" in r.err, r
    assert "SDO abort 0x06090030 (value range of parameter exceeded)" in r.err, r
    err = r.json()["error"]
    assert err["name"] == "AX_EDRIVE" and err["class"] == "AX_ERRCLASS_DRIVE", r
    assert "node=5" in err["message"], r


def test_timeout_names_the_node(axlink, bus):
    r = axlink("read", f"can:slcan{bus['tty']}?node=99&timeout_ms=100",
               "DRV_ID_SOFTWARE_VERSION")
    assert r.code != 0 and r.out == "", r
    assert "no SDO response from node 99" in r.err and "within 100 ms" in r.err, r
    r = axlink("read", "can:slcan/dev/null?node=5", "DRV_ID_SOFTWARE_VERSION")
    assert r.code != 0 and "not a terminal" in r.err, r


def test_stable_uri_finds_the_node_on_the_bus(axlink, bus):
    """An identity URI (vendor/product/serial) is found on the CAN bus named by
    AXLINK_CAN_TARGETS, like on any other bus."""
    env = {"AXLINK_CAN_TARGETS": f"slcan{bus['tty']}"}
    r = ok(axlink("read", "axlink://A71C/00010064/1001", "DRV_ID_SOFTWARE_VERSION", env=env))
    assert r.out == "axs-100 fw 1.2.0-sim\n", r


def test_late_answers_and_heartbeats_do_not_confuse_requests(axlink):
    """The node answers 150 ms late and sends heartbeats every 20 ms: a request
    that gives up after 100 ms fails with a timeout, and the late answers and
    heartbeats on the bus never pass for the answer to a later request."""
    proc, uri = start_bus("--delay", "150", "--can-heartbeat", "20")
    try:
        r = axlink("read", uri + "&timeout_ms=100", "DRV_ID_SOFTWARE_VERSION")
        assert r.code != 0 and "no SDO response from node 5" in r.err, r
        assert "within 100 ms" in r.err, r
        for _ in range(2):
            r = ok(axlink("read", uri + "&timeout_ms=1000", "DRV_ID_SOFTWARE_VERSION"))
            assert r.out == "axs-100 fw 1.2.0-sim\n", r
            r = ok(axlink("read", uri + "&timeout_ms=1000", "PROF_MAX_VEL", "--json"))
            assert r.json()["value"] == 10.0, r  # the model's default
    finally:
        stop_bus(proc)


def test_lost_requests_time_out(axlink):
    proc, uri = start_bus("--drop", "100")
    try:
        r = axlink("list", uri.split("?")[0], "--json", "--timeout-ms", "1000")
        assert r.code == 0 and r.json() == [], r
        r = axlink("read", uri + "&timeout_ms=100", "DRV_ID_SOFTWARE_VERSION")
        assert r.code != 0 and "no SDO response from node 5" in r.err, r
    finally:
        stop_bus(proc)


def test_two_axes_over_canopen(axlink):
    """axs-200: the axis count comes from the CAN dictionary's DRV_AXIS_NUMBER, and
    axis 2 moves on its own objects (0x6800 + ...) while axis 1 stays put."""
    proc, uri = start_bus("--model", "axs-200")
    try:
        info = ok(axlink("info", uri, "--json")).json()
        assert [a["axis"] for a in info["axes"]] == [1, 2], info
        ok(axlink("enable", uri, "--axis", "2"))
        r = ok(axlink("move", uri, "500", "--axis", "2"))
        assert "target reached" in r.out, r
        s1 = ok(axlink("state", uri, "--axis", "1", "--json")).json()
        s2 = ok(axlink("state", uri, "--axis", "2", "--json")).json()
        assert s1["state"] != "operation_enabled" and s1["position"] == 0, s1
        assert s2["state"] == "operation_enabled" and abs(s2["position"] - 500) <= 10, s2
    finally:
        stop_bus(proc)
