# SPDX-License-Identifier: MIT
"""Stopping an axis: Ctrl-C (SIGINT) during move, velocity and home halts the
axis before axlink exits; `axlink stop` and `axlink quick-stop`. Against the
real axlink-sim over UDP on 127.0.4.140-149 (this file's range).

Each test reads the position the moment before it signals and checks the
axis came to rest within the deceleration distance from there (plus what
it travels in the time a state read and the signal take).
"""
import json
import os
import signal
import subprocess
import time

import pytest

RES = 4096  # counts per revolution of the simulated models
V = 10 * RES  # 10 rev/s, the models' PROF_MAX_VEL
# Slack for the travel between the last state read and the signal arriving.
LATENCY_S = 0.25


def ok(r):
    assert r.code == 0, r
    return r


@pytest.fixture(scope="module")
def drive():
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--eth", "127.0.4.140", "--serial", "4140"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    uri = proc.stdout.readline().strip()  # printed once it serves: no sleeping
    if not uri.startswith("eth://"):
        proc.kill()
        pytest.fail(f"axlink-sim did not start: {uri!r} {proc.stderr.read()!r}")
    yield uri
    proc.terminate()
    assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
    proc.stdout.close()
    proc.stderr.close()


def state(axlink, uri):
    return ok(axlink("state", uri, "--json")).json()


def fresh(axlink, uri, acc=100.0, dec=100.0):
    """Enabled, at rest at 0, with these profile ramps (rev/s^2)."""
    ok(axlink("enable", uri))
    ok(axlink("write", uri, "PROF_MAX_ACC", acc))
    ok(axlink("write", uri, "PROF_MAX_DEC", 100.0))
    ok(axlink("move", uri, "0", "--velocity", V))
    ok(axlink("write", uri, "PROF_MAX_DEC", dec))


def start(axlink, cli_path, *args):
    return subprocess.Popen([cli_path, *[str(a) for a in args]], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=axlink.env)


def wait_moving(axlink, uri, proc, min_velocity):
    """The state once the axis runs at @min_velocity counts/s or more."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        s = state(axlink, uri)
        if abs(s["velocity"]) >= min_velocity:
            return s
        assert proc.poll() is None, f"axlink ended before the axis ran: {proc.communicate()}"
        time.sleep(0.02)
    pytest.fail(f"the axis never reached {min_velocity} counts/s: {s}")


def interrupt(proc, sig=signal.SIGINT):
    """Signal @proc; returns (exit status, stdout, stderr, seconds to exit)."""
    t0 = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    return proc.returncode, out, err, time.monotonic() - t0


def at_rest(axlink, uri):
    """Velocity 0 and the same position in two reads 100 ms apart."""
    a = state(axlink, uri)
    time.sleep(0.1)
    b = state(axlink, uri)
    assert a["velocity"] == 0 and b["velocity"] == 0, (a, b)
    assert a["position"] == b["position"], (a, b)
    return b


def braking_distance(v, dec_rev_s2):
    """Counts a ramp from @v counts/s down to 0 takes, plus the latency slack."""
    return v * v / (2 * dec_rev_s2 * RES) + abs(v) * LATENCY_S


def test_ctrl_c_during_move_halts_the_axis(axlink, cli_path, drive):
    fresh(axlink, drive)
    proc = start(axlink, cli_path, "move", drive, 100 * RES, "--velocity", V, "--json")
    before = wait_moving(axlink, drive, proc, V * 0.9)
    code, out, err, took = interrupt(proc)
    assert code == 130, (out, err)
    # The move to 100 rev at 10 rev/s takes 10 s: half of that is no stop.
    assert took < 10.0 / 2, f"axlink took {took:.2f} s to stop and exit"
    assert "interrupted" in err and "stopping axis 1" in err, err
    rest = at_rest(axlink, drive)
    assert rest["state"] == "operation_enabled", rest  # halted, still enabled
    travelled = rest["position"] - before["position"]
    assert 0 <= travelled <= braking_distance(V, 100.0), (before, rest)
    assert rest["position"] < 100 * RES - 2 * RES  # nowhere near the target
    report = json.loads(out)
    assert report["axis"] == 1 and report["stopped"] == "halted" and report["interrupted"]
    assert abs(report["position"] - rest["position"]) <= 1, (report, rest)
    # Still at rest a while later (the halt holds), and the next move goes to its own target.
    time.sleep(0.2)
    assert state(axlink, drive)["position"] == rest["position"]
    ok(axlink("move", drive, 1000, "--velocity", V))
    assert abs(state(axlink, drive)["position"] - 1000) <= 10


def test_ctrl_c_during_velocity_halts_the_axis(axlink, cli_path, drive):
    fresh(axlink, drive, acc=2.0)  # 5 s to reach 10 rev/s: the command is still waiting
    proc = start(axlink, cli_path, "velocity", drive, V)
    before = wait_moving(axlink, drive, proc, RES)
    code, out, err, took = interrupt(proc)
    assert code == 130, (out, err)
    # Reaching 10 rev/s takes 5 s, which the command waits for: half of that is no stop.
    assert took < 5.0 / 2, f"axlink took {took:.2f} s to stop and exit"
    assert "halted at" in out and "(interrupted)" in out, out
    rest = at_rest(axlink, drive)
    vmax = before["velocity"] + 2.0 * RES * LATENCY_S  # still accelerating meanwhile
    assert 0 <= rest["position"] - before["position"] <= braking_distance(vmax, 100.0)
    ok(axlink("write", drive, "PROF_MAX_ACC", 100.0))


def test_ctrl_c_during_home_halts_the_axis(axlink, cli_path, drive):
    fresh(axlink, drive)
    ok(axlink("write", drive, "SIM_HOME_SWITCH_POSITION", 1000000000))
    ok(axlink("write", drive, "HOM_ACC", 100.0))
    proc = start(axlink, cli_path, "home", drive, "--method", 1)
    before = wait_moving(axlink, drive, proc, RES * 0.5)
    code, out, err, took = interrupt(proc)
    assert code == 130, (out, err)
    # The home switch is never reached: any end is the interrupt's; 5 s is generous.
    assert took < 5.0, f"axlink took {took:.2f} s to stop and exit"
    rest = at_rest(axlink, drive)
    v = abs(before["velocity"])
    assert 0 <= rest["position"] - before["position"] <= braking_distance(v, 100.0)
    assert rest["state"] == "operation_enabled"


def test_second_ctrl_c_exits_at_once_then_quick_stop(axlink, cli_path, drive):
    fresh(axlink, drive, dec=1.0)  # halting from 10 rev/s takes 10 s
    proc = start(axlink, cli_path, "move", drive, 100 * RES, "--velocity", V)
    wait_moving(axlink, drive, proc, V * 0.9)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert proc.poll() is None, "the first Ctrl-C waits for the halt"
    code, out, err, _ = interrupt(proc)
    took = time.monotonic() - t0
    assert code == 130, (out, err)
    # The halt on the slow ramp takes 10 s: half of that is not "at once".
    assert took < 10.0 / 2, f"the second Ctrl-C took {took:.2f} s"
    assert "interrupted again" in err, err
    # Still braking on the slow ramp: quick stop brakes on PROF_QUICK_STOP_DEC (1000 rev/s^2).
    before = state(axlink, drive)
    assert before["velocity"] > RES, before
    r = ok(axlink("quick-stop", drive, "--json"))
    rep = r.json()
    assert rep["stopped"] == "quick-stopped" and rep["state"] == "quick_stop_active", rep
    assert rep["velocity"] == 0, rep
    rest = at_rest(axlink, drive)
    assert 0 <= rest["position"] - before["position"] <= braking_distance(
        before["velocity"], 1000.0), (before, rest)
    ok(axlink("enable", drive))
    assert state(axlink, drive)["state"] == "operation_enabled"


def test_stop_halts_a_move_and_stays_enabled(axlink, drive):
    fresh(axlink, drive)
    ok(axlink("move", drive, 100 * RES, "--velocity", V, "--no-wait"))
    time.sleep(0.3)
    before = state(axlink, drive)
    assert before["velocity"] > 0, before
    r = ok(axlink("stop", drive))
    assert r.out.startswith("axis 1: halted at "), r
    assert "velocity 0 counts/s, operation_enabled" in r.out, r
    rest = at_rest(axlink, drive)
    assert rest["state"] == "operation_enabled"
    assert 0 <= rest["position"] - before["position"] <= braking_distance(V, 100.0)
    # Nothing moving, nothing enabled: stop has nothing to do and says where the axis is.
    ok(axlink("stop", drive, "--json"))
    ok(axlink("disable", drive))
    rep = ok(axlink("stop", drive, "--json")).json()
    assert rep["state"] == "ready_to_switch_on" and rep["velocity"] == 0, rep
    rep = ok(axlink("quick-stop", drive, "--json")).json()
    assert rep["state"] == "switch_on_disabled", rep
    r = axlink("stop", drive, "--axis", 2)
    assert r.code == 1 and "axes 1..1" in r.err, r
