# SPDX-License-Identifier: MIT
"""End-to-end tests of `axlink scope` and `axlink disturb` against the real
axlink-sim over UDP on 127.0.19.10-19 (this file's range).

The simulated drive samples at 20 kHz of its own time from its axes'
kinematics: the assertions are on the data, never on how long it took.
"""
import csv
import json
import math
import os
import signal
import subprocess
import time

import pytest

RES = 4096  # FBK_DIGENC1_RESOLUTION of the simulated models


def start_sim(*args):
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    uri = proc.stdout.readline().strip()  # printed once it serves
    if not uri.startswith("eth://"):
        proc.kill()
        pytest.fail(f"axlink-sim did not start: {uri!r} {proc.stderr.read()!r}")
    return proc, uri


def stop_sim(proc):
    proc.terminate()
    assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
    proc.stdout.close()
    proc.stderr.close()


@pytest.fixture(scope="module")
def sim_uri():
    proc, uri = start_sim("--eth", "127.0.19.10", "--serial", "1910")
    try:
        yield uri
    finally:
        stop_sim(proc)


def ok(r):
    assert r.code == 0, r
    return r


@pytest.fixture
def turning(axlink, sim_uri):
    """The axis turning at 10 rev/s; stopped afterwards."""
    ok(axlink("enable", sim_uri))
    ok(axlink("velocity", sim_uri, "10", "--units", "rev"))
    yield sim_uri
    ok(axlink("velocity", sim_uri, "0"))


def test_scope_csv_of_a_move(axlink, turning, tmp_path):
    """2 channels x 2000 samples at 50 us: the position's derivative is the
    commanded 10 rev/s within 1 %."""
    out = tmp_path / "cap.csv"
    r = ok(axlink("scope", turning, "CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE", "--period-us",
                  "50", "--samples", "2000", "--csv", out))
    assert "2000 samples x 2 channels every 50 us" in r.out, r
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["t_s", "CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"]
    data = rows[1:]
    assert len(data) == 2000
    t = [float(x[0]) for x in data]
    pos = [int(x[1]) for x in data]  # s32: written as integers
    assert t[0] == 0 and abs(t[1] - 50e-6) < 1e-12 and abs(t[-1] - 1999 * 50e-6) < 1e-9
    v = (pos[-1] - pos[0]) / (t[-1] - t[0]) / RES
    assert abs(v - 10.0) < 0.1, v
    assert all(abs(float(x[2]) - 10.0) < 0.1 for x in data)


def armed_scope(cli_path, axlink, env, uri, *args):
    """`axlink scope URI ARGS...` started in the background; returns once the
    drive's capture watches its trigger (MON_DIST_STATUS stage 2)."""
    proc = subprocess.Popen([cli_path, "scope", uri, *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while True:
        st = axlink("read", uri, "MON_DIST_STATUS", "--subnode", "0", "--json")
        if st.code == 0 and st.json()["value"] & 0x0F == 0x05:  # enabled, stage 2
            return proc
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate()
            pytest.fail(f"the scope never armed: {proc.returncode} {out!r} {err!r}")
        time.sleep(0.01)


def finish(proc):
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0, (proc.returncode, out, err)
    return json.loads(out)


@pytest.fixture
def at_rest(axlink, sim_uri):
    ok(axlink("enable", sim_uri))
    ok(axlink("velocity", sim_uri, "0"))
    yield sim_uri
    ok(axlink("velocity", sim_uri, "0"))


def test_scope_json_triggered_with_pre(cli_path, axlink, at_rest):
    here = ok(axlink("read", at_rest, "CL_POS_FBK_VALUE", "--json")).json()["value"]
    level = here + RES // 4
    proc = armed_scope(cli_path, axlink, axlink.env, at_rest, "CL_POS_FBK_VALUE",
                       "--period-us", "100", "--samples", "300", "--pre", "10", "--trigger",
                       f"CL_POS_FBK_VALUE:rising:{level}", "--json")
    ok(axlink("velocity", at_rest, "10", "--units", "rev"))
    doc = finish(proc)
    assert list(doc) == ["samples", "period_us", "base_period_us", "pre", "wire_bytes", "t_s",
                         "channels"]
    assert doc["samples"] == 300 and doc["pre"] == 10
    assert doc["period_us"] == 100 and doc["base_period_us"] == 50
    assert len(doc["t_s"]) == 300 and doc["t_s"][10] == 0
    assert abs(doc["t_s"][0] + 10 * 100e-6) < 1e-9
    ch = doc["channels"]
    assert [c["register"] for c in ch] == ["CL_POS_FBK_VALUE"]
    assert ch[0]["dtype"] == "s32" and ch[0]["subnode"] == 1 and ch[0]["units"] == "cnt"
    vals = ch[0]["values"]
    assert all(isinstance(x, int) for x in vals)
    first = next(i for i, x in enumerate(vals) if x >= level)
    assert 9 <= first <= 11, (first, level, vals[:20])
    assert doc["wire_bytes"] > 300 * 4


def test_scope_trigger_register_added_as_channel(cli_path, axlink, at_rest):
    here = ok(axlink("read", at_rest, "CL_POS_FBK_VALUE", "--json")).json()["value"]
    level = here - RES // 8
    proc = armed_scope(cli_path, axlink, axlink.env, at_rest, "CL_VEL_FBK_VALUE", "--samples",
                       "50", "--trigger", f"CL_POS_FBK_VALUE:either:{level}", "--json")
    ok(axlink("velocity", at_rest, "-10", "--units", "rev"))
    chans = finish(proc)["channels"]
    assert [c["register"] for c in chans] == ["CL_VEL_FBK_VALUE", "CL_POS_FBK_VALUE"]
    assert chans[1]["values"][0] <= level and chans[0]["values"][0] < 0


@pytest.mark.parametrize("args, code, what", [
    (["--period-us", "10"], 1, "below the drive's base period 50 us"),
    (["--period-us", "75"], 1, "not a multiple"),
    (["--samples", "100000"], 1, "monitoring buffer"),
    (["--trigger", "CL_POS_FBK_VALUE:up:3"], 2, "edge 'up'"),
    (["--trigger", "CL_POS_FBK_VALUE"], 2, "REGISTER:EDGE:LEVEL"),
    (["--trigger", "CL_POS_FBK_VALUE:rising:abc"], 2, "not a number"),
    (["--pre", "5", "--samples", "5"], 2, "--pre 5"),
    (["--period-us", "x"], 2, "--period-us"),
])
def test_scope_bad_input(axlink, sim_uri, args, code, what):
    r = axlink("scope", sim_uri, "CL_POS_FBK_VALUE", *args, "--json")
    assert r.code == code, r
    assert what in r.err, r
    assert r.no_result(), r


def test_scope_register_errors(axlink, sim_uri):
    r = axlink("scope", sim_uri, *(["CL_POS_FBK_VALUE"] * 17), "--json")
    assert r.code == 1 and "at most 16" in r.err, r
    assert r.json()["error"]["name"] == "AX_ERANGE"
    r = axlink("scope", sim_uri, "DRV_ID_SOFTWARE_VERSION")
    assert r.code == 1 and "DRV_ID_SOFTWARE_VERSION" in r.err and "str" in r.err, r
    r = axlink("scope", sim_uri, "CL_POS_FBK_VALU")
    assert r.code == 1 and "did you mean 'CL_POS_FBK_VALUE'" in r.err, r


def test_scope_timeout_says_the_trigger_never_came(axlink, sim_uri):
    r = axlink("scope", sim_uri, "DRV_STATE_STATUS", "--trigger", "DRV_STATE_STATUS:rising:65535",
               "--timeout-ms", "300", "--json")
    assert r.code == 1 and "trigger never came" in r.err, r
    assert r.json()["error"]["name"] == "AX_ETIMEDOUT"
    status = ok(axlink("read", sim_uri, "MON_DIST_STATUS", "--subnode", "0", "--json"))
    assert status.json()["value"] & 1 == 0  # left disabled


def test_scope_ctrl_c_cancels_the_wait(cli_path, axlink, axlink_env, sim_uri):
    proc = subprocess.Popen([cli_path, "scope", sim_uri, "DRV_STATE_STATUS", "--trigger",
                             "DRV_STATE_STATUS:rising:65535", "--timeout-ms", "20000"],
                            env=axlink_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 10
        while True:  # armed: the drive's monitoring is on
            st = axlink("read", sim_uri, "MON_DIST_STATUS", "--subnode", "0", "--json")
            if st.code == 0 and st.json()["value"] & 1:
                break
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scope never armed"
            time.sleep(0.05)
        time.sleep(0.2)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        took = time.monotonic() - t0
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (proc.returncode, err)
    assert took < 20.0 / 2, took  # the interrupt ended it, not its 20 s timeout
    assert "interrupted" in err, err
    status = ok(axlink("read", sim_uri, "MON_DIST_STATUS", "--subnode", "0", "--json"))
    assert status.json()["value"] & 1 == 0


def test_disturb_with_scope_round_trip(axlink, sim_uri, tmp_path):
    wave = [0.0] * 5 + [round(math.sin(i * 0.1), 6) for i in range(95)]
    f = tmp_path / "wave.csv"
    f.write_text("amps\n" + "".join(f"{w}\n" for w in wave))
    r = ok(axlink("disturb", sim_uri, "CL_CUR_Q_SET_POINT", "--waveform", f, "--period-us",
                  "100", "--scope", "CL_CUR_Q_SET_POINT,CL_POS_FBK_VALUE", "--json"))
    doc = r.json()
    assert doc["samples"] == 100 and doc["period_us"] == 100 and doc["t_s"][0] == 0
    got = doc["channels"][0]["values"]
    assert doc["channels"][0]["register"] == "CL_CUR_Q_SET_POINT"
    assert all(abs(g - w) < 1e-6 for g, w in zip(got, wave)), list(zip(got, wave))[:20]


def test_disturb_plays_once(axlink, sim_uri, tmp_path):
    f = tmp_path / "w.csv"
    f.write_text("0\n0.5\n1.0\n0.25\n")
    r = ok(axlink("disturb", sim_uri, "CL_CUR_Q_SET_POINT", "--waveform", f, "--json"))
    doc = r.json()
    assert doc == {"register": "CL_CUR_Q_SET_POINT", "samples": 4, "period_us": 50,
                   "wire_bytes": doc["wire_bytes"]}
    assert doc["wire_bytes"] >= 16
    v = ok(axlink("read", sim_uri, "CL_CUR_Q_SET_POINT", "--json")).json()["value"]
    assert v == 0.25  # the target keeps the last sample


@pytest.mark.parametrize("content, what", [
    ("0\nabc\n", ":2: 'abc' is not a number"),
    ("header\n", "no samples"),
    ("0\n1e40\n", "sample 1"),
])
def test_disturb_bad_waveform(axlink, sim_uri, tmp_path, content, what):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    r = axlink("disturb", sim_uri, "CL_CUR_Q_SET_POINT", "--waveform", f, "--json")
    assert r.code == 1 and what in r.err, r
    assert r.no_result(), r


def test_disturb_needs_a_waveform_and_a_writable_target(axlink, sim_uri, tmp_path):
    r = axlink("disturb", sim_uri, "CL_CUR_Q_SET_POINT")
    assert r.code == 2 and "--waveform" in r.err, r
    f = tmp_path / "w.csv"
    f.write_text("1\n")
    r = axlink("disturb", sim_uri, "CL_POS_FBK_VALUE", "--waveform", f)
    assert r.code == 1 and "read-only" in r.err, r


def test_scope_help(axlink):
    r = ok(axlink("scope", "--help"))
    assert "--period-us" in r.out and "--trigger REG:EDGE:LEVEL" in r.out
    r = ok(axlink("disturb", "--help"))
    assert "--waveform" in r.out and "--scope" in r.out
