# SPDX-License-Identifier: MIT
"""The README's serial flow end to end, without umockdev: `axlink-sim --pty`
prints serial:/dev/pts/N, and axlink read, enable and move go through that
URI (the serial transport opens a bare pty with termios, since libserialport
cannot).
"""
import os
import subprocess

import pytest

RES = 4096  # FBK_DIGENC1_RESOLUTION of the simulated models, counts per revolution


def start_pty_sim(*args):
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--pty", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    uri = proc.stdout.readline().strip()  # printed once it serves
    if not uri.startswith("serial:/dev/pts/"):
        proc.kill()
        pytest.fail(f"axlink-sim --pty did not start: {uri!r} {proc.stderr.read()!r}")
    return proc, uri


def stop_sim(proc):
    proc.terminate()
    assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
    proc.stdout.close()
    proc.stderr.close()


@pytest.fixture(scope="module")
def pty_drive():
    """An axs-100 on a pty of its own, serial 6300, shared by this file's tests."""
    proc, uri = start_pty_sim("--model", "axs-100", "--serial", "6300")
    yield uri
    stop_sim(proc)


def ok(r):
    assert r.code == 0, r
    return r


def test_read_through_the_pty(axlink, pty_drive):
    r = ok(axlink("read", pty_drive, "DRV_ID_SERIAL_NUMBER", "--json"))
    assert r.json()["value"] == 6300, r
    assert r.json()["uri"] == pty_drive, r
    info = ok(axlink("info", pty_drive, "--json")).json()
    assert info["transport"] == "serial" and info["serial_number"] == 6300, info
    assert info["model"] == "axs-100", info


def test_debug_log_says_termios(axlink, pty_drive):
    r = ok(axlink("read", pty_drive, "DRV_ID_SERIAL_NUMBER", env={"AXLINK_LOG": "debug"}))
    path = pty_drive[len("serial:"):]
    assert f"libserialport does not know '{path}'" in r.err, r
    assert f"opened {path} at 115200 8N1 through termios" in r.err, r


def test_enable_and_move_through_the_pty(axlink, pty_drive):
    ok(axlink("disable", pty_drive))
    r = ok(axlink("enable", pty_drive))
    assert r.out == "axis 1: operation_enabled (status word 0x0437)\n", r
    r = ok(axlink("move", pty_drive, "90", "--units", "deg"))
    assert "target reached" in r.out, r
    s = ok(axlink("state", pty_drive, "--json")).json()
    assert s["state"] == "operation_enabled", s
    window = ok(axlink("read", pty_drive, "PROF_POS_WINDOW", "--json")).json()["value"]
    assert abs(s["position"] - RES // 4) <= window, s
    m = ok(axlink("move", pty_drive, "-500", "--relative", "--json")).json()
    assert m["reached"] is True and abs(m["position"] - (RES // 4 - 500)) <= window, m


def test_line_setting_a_pty_cannot_take(axlink, pty_drive):
    r = axlink("read", pty_drive + "?parity=even", "DRV_ID_SERIAL_NUMBER")
    assert r.code != 0, r
    assert "does not support the parity of 115200 8E1" in r.err, r
