# SPDX-License-Identifier: MIT
"""End-to-end tests of `axlink monitor` against the real axlink-sim over UDP
on 127.0.11.10-19 (this file's range) and the in-process virtual drive.

Bounds on counts and periods are wide: they check that sampling happened and
was reported, not how well a loaded machine keeps time.
"""
import csv
import math
import os
import subprocess

import pytest


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
    proc, uri = start_sim("--eth", "127.0.11.10", "--serial", "6101")
    try:
        yield uri
    finally:
        stop_sim(proc)


def test_monitor_csv_header_and_rows(axlink, sim_uri, tmp_path):
    out = tmp_path / "out.csv"
    r = axlink("monitor", sim_uri, "CL_POS_FBK_VALUE", "DRV_ID_SERIAL_NUMBER",
               "--period-ms", "5", "--duration-s", "0.5", "--csv", out)
    assert r.code == 0, r
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t_s", "CL_POS_FBK_VALUE", "DRV_ID_SERIAL_NUMBER"]
    data = rows[1:]
    assert 30 <= len(data) <= 130, len(data)  # about 100 at 5 ms for 0.5 s
    times = [float(row[0]) for row in data]
    assert all(b > a for a, b in zip(times, times[1:]))
    assert all(len(row) == 3 and row[2] == "6101" for row in data)
    assert all(int(row[1]) == float(row[1]) for row in data)  # s32: written exactly
    # The summary on stderr names the counts.
    assert f"{len(data)} samples" in r.err, r
    assert " lost" in r.err and "achieved" in r.err, r


def test_monitor_json_summary(axlink, sim_uri):
    r = axlink("monitor", sim_uri, "CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE",
               "--period-ms", "2", "--duration-s", "0.4", "--json")
    assert r.code == 0, r
    j = r.json()
    assert 50 <= j["samples"] <= 400, j
    assert j["lost"] >= 0 and j["dropped"] == 0
    assert j["period_ms"] == 2.0
    assert 1.0 < j["achieved_period_ms"] < 20.0, j
    assert [c["register"] for c in j["channels"]] == ["CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"]
    assert all(c["errors"] == 0 for c in j["channels"])
    assert all(isinstance(c["last"], float) and math.isfinite(c["last"])
               for c in j["channels"])


def test_monitor_csv_to_stdout_virtual(axlink):
    r = axlink("monitor", "virtual:?serial=6102", "DRV_ID_SERIAL_NUMBER",
               "--period-ms", "10", "--duration-s", "0.2", "--csv", "-")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "t_s,DRV_ID_SERIAL_NUMBER"
    assert len(lines) > 5
    assert all(line.endswith(",6102") for line in lines[1:])


def test_monitor_lost_when_simulator_stalls(axlink, tmp_path):
    proc, uri = start_sim("--eth", "127.0.11.11", "--delay", "50")
    try:
        r = axlink("monitor", uri, "CL_POS_FBK_VALUE", "--period-ms", "5",
                   "--duration-s", "0.6", "--timeout-ms", "1000", "--json")
    finally:
        stop_sim(proc)
    assert r.code == 0, r
    j = r.json()
    assert j["lost"] >= 40, j  # about 108 of 120 periods
    assert j["samples"] <= 40, j
    assert j["achieved_period_ms"] > 30.0, j


def test_monitor_bad_register_fails_before_starting(axlink, sim_uri, tmp_path):
    out = tmp_path / "never.csv"
    r = axlink("monitor", sim_uri, "CL_POS_FBK_VALUE", "NO_SUCH_REGISTER",
               "--duration-s", "5", "--csv", out)
    assert r.code == 1, r
    assert "NO_SUCH_REGISTER" in r.err, r
    assert not out.exists()  # nothing written, nothing sampled


@pytest.mark.parametrize("args, what", [
    (["--period-ms", "0"], "--period-ms"),
    (["--period-ms", "abc"], "--period-ms"),
    (["--duration-s", "-1"], "--duration-s"),
    (["--duration-s", "nan"], "--duration-s"),
    (["--csv", "-", "--json"], "stdout"),
])
def test_monitor_bad_options(axlink, args, what):
    r = axlink("monitor", "virtual:", "CL_POS_FBK_VALUE", *args)
    assert r.code == 2, r
    assert what in r.err, r


def test_monitor_needs_a_register(axlink):
    r = axlink("monitor", "virtual:")
    assert r.code == 2, r
    assert "REGISTER" in r.err, r


def test_monitor_seventeen_registers_refused(axlink):
    r = axlink("monitor", "virtual:", *(["CL_POS_FBK_VALUE"] * 17), "--duration-s", "1")
    assert r.code == 2, r
    assert "at most 16" in r.err, r


def test_monitor_help(axlink):
    r = axlink("monitor", "--help")
    assert r.code == 0, r
    assert "--period-ms" in r.out and "t_s" in r.out
