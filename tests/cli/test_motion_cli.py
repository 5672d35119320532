# SPDX-License-Identifier: MIT
"""End-to-end tests of the motion commands (enable, disable, reset, mode, move,
velocity, home, state) against the real axlink-sim over UDP on 127.0.4.10-19
(this file's range).

The simulator keeps its state between calls, so each test first brings the
axis it uses to a known state. Nothing asserts how long a move takes: only
what the drive reports once the command returns.
"""
import os
import subprocess

import pytest

RES = 4096  # FBK_DIGENC1_RESOLUTION of the simulated models, counts per revolution
STATE_KEYS = ["axis", "state", "statusword", "mode", "position", "velocity", "fault"]


def start_sim(*args):
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # It prints its URI once it serves: no sleeping.
    uri = proc.stdout.readline().strip()
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
def drive():
    """A two-axis axs-200 on 127.0.4.10, shared by the tests of this file."""
    proc, uri = start_sim("--eth", "127.0.4.10", "--model", "axs-200", "--serial", "4010")
    yield uri
    stop_sim(proc)


@pytest.fixture
def faulting_drive():
    """An axs-100 on 127.0.4.11 whose axis faults 500 ms after it starts serving."""
    proc, uri = start_sim("--eth", "127.0.4.11", "--fault-after", "500")
    yield uri
    stop_sim(proc)


@pytest.fixture(scope="module")
def quirky_drive():
    """An axs-200 on 127.0.4.12 that ignores switch on (0x07) in ready to switch on and
    leaves it only with 0x0F, as some MCB drives do (the quirk given twice, to show
    that --quirk repeats and takes comma lists)."""
    proc, uri = start_sim("--eth", "127.0.4.12", "--model", "axs-200", "--serial", "4012",
                          "--quirk", "skip-switched-on",
                          "--quirk", "Skip-Switched-On,skip-switched-on")
    yield uri
    stop_sim(proc)


def ok(r):
    assert r.code == 0, r
    return r


def state(axlink, uri, *args):
    s = ok(axlink("state", uri, "--json", *args)).json()
    assert list(s) == STATE_KEYS, s
    return s


def window(axlink, uri, axis=1):
    r = ok(axlink("read", uri, "PROF_POS_WINDOW", "--subnode", axis, "--json"))
    return r.json()["value"]


def fresh(axlink, uri, axis=1):
    """Axis @axis enabled, whatever state an earlier test left it in."""
    ok(axlink("write", uri, "SIM_STATUS_FREEZE", "0", "--subnode", axis))
    ok(axlink("enable", uri, "--axis", axis))


def test_enable_move_state(axlink, drive):
    """The issue's "done when": enabled, at 90 degrees, inside the position window."""
    ok(axlink("disable", drive))
    r = ok(axlink("enable", drive))
    assert r.out == "axis 1: operation_enabled (status word 0x0437)\n", r
    r = ok(axlink("move", drive, "90", "--units", "deg"))
    assert "target reached" in r.out, r
    s = state(axlink, drive)
    assert s["axis"] == 1 and s["state"] == "operation_enabled", s
    assert s["statusword"] & 0x0400, s  # target reached
    assert abs(s["position"] - 1024) <= window(axlink, drive), s
    assert s["velocity"] == 0, s
    deg = state(axlink, drive, "--units", "deg")
    assert abs(deg["position"] - 90) <= window(axlink, drive) * 360 / RES, deg
    r = ok(axlink("state", drive))
    assert "operation_enabled" in r.out and "profile_position" in r.out, r


def test_move_relative_no_wait_and_json(axlink, drive):
    fresh(axlink, drive)
    ok(axlink("move", drive, "1000"))
    before = ok(axlink("read", drive, "PROF_MAX_VEL", "--json")).json()["value"]
    r = ok(axlink("move", drive, "-500", "--relative", "--velocity", "20000", "--json"))
    m = r.json()
    assert m["reached"] is True and m["units"] == "counts", m
    assert abs(m["position"] - 500) <= window(axlink, drive), m
    # --velocity is for that move only: the drive's own value is back.
    velocity = ok(axlink("read", drive, "PROF_MAX_VEL", "--json")).json()["value"]
    assert velocity == before, (velocity, before)
    # --no-wait returns once the set point is taken; the move goes on.
    m = ok(axlink("move", drive, "3", "--units", "rev", "--no-wait", "--json")).json()
    assert m["reached"] is False and m["target"] == 3, m
    ok(axlink("move", drive, "3", "--units", "rev"))  # already heading there: waits
    assert abs(state(axlink, drive)["position"] - 3 * RES) <= window(axlink, drive)


def test_disable_reset(axlink, drive):
    fresh(axlink, drive)
    s = ok(axlink("disable", drive, "--json")).json()
    assert s == {"axis": 1, "state": "ready_to_switch_on", "statusword": 0x31}, s
    s = ok(axlink("reset", drive, "--json")).json()  # no fault: nothing to do
    assert s["state"] == "ready_to_switch_on", s
    ok(axlink("write", drive, "SIM_FAULT_INJECT", "0x4210"))
    assert state(axlink, drive)["state"] == "fault"
    s = ok(axlink("reset", drive, "--json")).json()
    assert s["state"] == "switch_on_disabled", s


def test_fault_during_enable(axlink, drive):
    ok(axlink("write", drive, "SIM_STATUS_FREEZE", "0", "--subnode", "2"))
    ok(axlink("disable", drive, "--axis", "2"))
    ok(axlink("reset", drive, "--axis", "2"))
    ok(axlink("write", drive, "SIM_FAULT_ARM", "0x3220", "--subnode", "2"))
    r = axlink("enable", drive, "--axis", "2", "--json")
    assert r.code == 1 and r.no_result(), r
    for part in ("axis 2", "enable", "'fault'", "0x0018", "0x00003220", "under-voltage"):
        assert part in r.err, (part, r)
    assert state(axlink, drive, "--axis", "2")["state"] == "fault"


def test_drive_that_never_confirms(axlink, drive):
    ok(axlink("write", drive, "SIM_STATUS_FREEZE", "0", "--subnode", "2"))
    ok(axlink("write", drive, "SIM_FAULT_INJECT", "0x3220", "--subnode", "2"))
    ok(axlink("write", drive, "SIM_STATUS_FREEZE", "1", "--subnode", "2"))
    r = axlink("reset", drive, "--axis", "2")
    assert r.code == 1 and r.no_result(), r
    for part in ("'fault reset'", "did not happen within", "'fault'", "0x0018"):
        assert part in r.err, (part, r)
    ok(axlink("write", drive, "SIM_STATUS_FREEZE", "0", "--subnode", "2"))
    assert state(axlink, drive, "--axis", "2")["state"] == "switch_on_disabled"


def test_two_axes_independent(axlink, drive):
    fresh(axlink, drive, 1)
    fresh(axlink, drive, 2)
    ok(axlink("move", drive, "0", "--axis", "1"))
    ok(axlink("move", drive, "-2048", "--axis", "2"))
    assert abs(state(axlink, drive, "--axis", "2")["position"] + 2048) <= window(axlink, drive)
    assert abs(state(axlink, drive, "--axis", "1")["position"]) <= window(axlink, drive)
    ok(axlink("disable", drive, "--axis", "2"))
    assert state(axlink, drive, "--axis", "1")["state"] == "operation_enabled"


def test_mode(axlink, drive):
    fresh(axlink, drive)
    m = ok(axlink("mode", drive, "pv", "--json")).json()
    assert m == {"axis": 1, "mode": "profile_velocity", "code": 0x13}, m
    r = ok(axlink("mode", drive, "0x14"))
    assert r.out == "axis 1: profile_position (0x14)\n", r
    r = axlink("mode", drive, "csv")
    assert r.code == 1 and "no code for mode 'cyclic_velocity'" in r.err, r
    r = axlink("mode", drive, "jog")
    assert r.code == 2 and "'jog'" in r.err, r
    r = axlink("mode", drive, "0x99")
    assert r.code == 2 and "0x99" in r.err, r


def test_velocity(axlink, drive):
    fresh(axlink, drive)
    v = ok(axlink("velocity", drive, "2", "--units", "rev", "--json")).json()
    assert v["reached"] is True and v["units"] == "rev/s", v
    assert abs(v["velocity"] - 2) < 1e-4, v
    s = state(axlink, drive, "--units", "rev")
    assert abs(s["velocity"] - 2) < 1e-4, s
    ok(axlink("velocity", drive, "0"))
    assert state(axlink, drive)["velocity"] == 0


def test_home(axlink, drive):
    fresh(axlink, drive)
    h = ok(axlink("home", drive, "--method", "0", "--offset", "100", "--json")).json()
    assert h == {"axis": 1, "method": 0, "position": 100.0, "units": "counts"}, h
    # The home switch at 1 rev of the start frame, found by a positive search.
    ok(axlink("write", drive, "SIM_HOME_SWITCH_POSITION", "4096"))
    ok(axlink("write", drive, "HOM_SPEED_SEARCH", "20"))
    ok(axlink("move", drive, "0"))
    h = ok(axlink("home", drive, "--method", "1", "--offset", "0.5", "--units", "rev",
                  "--json")).json()
    assert h["position"] == 0.5 and h["units"] == "rev", h
    r = axlink("home", drive, "--method", "99")
    assert r.code == 1 and "not one the dictionary lists" in r.err, r


def test_not_enabled_and_usage_errors(axlink, drive):
    ok(axlink("disable", drive))
    r = axlink("move", drive, "10", "--json")
    assert r.code == 1 and r.no_result() and "enable it first" in r.err, r
    assert "'ready_to_switch_on'" in r.err, r
    for args, part in [(("move", drive), "missing POSITION"),
                       (("move", drive, "ten"), "POSITION 'ten'"),
                       (("move", drive, "nan"), "POSITION 'nan'"),
                       (("move", drive, "1", "--units", "inch"), "'inch'"),
                       (("move", drive, "1", "--units", "mm"), "--feed"),
                       (("move", drive, "1", "--velocity", "0"), "--velocity"),
                       (("state", drive, "--axis", "0"), "--axis"),
                       (("home", drive, "--method", "x"), "--method"),
                       (("velocity", drive), "missing V")]:
        r = axlink(*args)
        assert r.code == 2 and part in r.err, (part, r)
    r = axlink("state", drive, "--axis", "3")
    assert r.code == 1 and "axes 1..2" in r.err, r


def test_fault_after(axlink, faulting_drive):
    """axlink-sim --fault-after: the axis faults by itself in the middle of a move."""
    ok(axlink("enable", faulting_drive))
    r = axlink("move", faulting_drive, "100", "--units", "rev", "--velocity", "1")
    assert r.code == 1, r
    for part in ("fault", "0x00003220", "under-voltage"):
        assert part in r.err, (part, r)
    assert state(axlink, faulting_drive)["state"] in ("fault", "fault_reaction_active")
    s = ok(axlink("enable", faulting_drive, "--json")).json()  # reset, and it stays on
    assert s["state"] == "operation_enabled", s


def test_enable_skip_switched_on(axlink, quirky_drive):
    """axlink enable reaches operation enabled on a drive that skips switched on."""
    uri = quirky_drive
    for axis in ("1", "2"):
        ok(axlink("write", uri, "DRV_STATE_CONTROL", "0x06", "--subnode", axis))
        ok(axlink("write", uri, "DRV_STATE_CONTROL", "0x07", "--subnode", axis))
        # The quirk is there: switch on left the axis where it was.
        assert state(axlink, uri, "--axis", axis)["state"] == "ready_to_switch_on"
        s = ok(axlink("enable", uri, "--axis", axis, "--json")).json()
        assert s["state"] == "operation_enabled" and s["statusword"] & 0x6F == 0x27, s
    ok(axlink("move", uri, "1024"))
    assert abs(state(axlink, uri)["position"] - 1024) <= window(axlink, uri)
    s = ok(axlink("disable", uri, "--json")).json()
    assert s["state"] == "ready_to_switch_on", s
    r = ok(axlink("enable", uri))
    assert r.out.startswith("axis 1: operation_enabled (status word 0x"), r
    # From fault: reset, then on again.
    ok(axlink("write", uri, "SIM_FAULT_INJECT", "0x3220", "--subnode", "2"))
    s = ok(axlink("enable", uri, "--axis", "2", "--json")).json()
    assert s["state"] == "operation_enabled", s
    # A fault on the way still names the transition, the state and the status word.
    ok(axlink("disable", uri, "--axis", "2"))
    ok(axlink("write", uri, "SIM_FAULT_ARM", "0x3220", "--subnode", "2"))
    r = axlink("enable", uri, "--axis", "2")
    assert r.code == 1 and r.no_result(), r
    for part in ("axis 2", "'switch on'", "'fault'", "0x0018", "0x00003220"):
        assert part in r.err, (part, r)
    ok(axlink("enable", uri, "--axis", "2"))


def test_enable_skip_switched_on_virtual(axlink):
    """The virtual transport's quirk key: one process, one drive, enabled at once."""
    r = ok(axlink("enable", "virtual:?quirk=skip-switched-on", "--json"))
    s = r.json()
    assert s["state"] == "operation_enabled" and s["statusword"] & 0x6F == 0x27, s
    r = axlink("enable", "virtual:?quirk=warp")
    assert r.code != 0 and "quirk 'warp'" in r.err and "skip-switched-on" in r.err, r


def test_sim_quirk_option():
    """--quirk is documented in --help and refuses a name it does not know."""
    path = os.environ.get("AXLINK_SIM")
    assert path and os.access(path, os.X_OK), path
    r = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--quirk NAME[,NAME]" in r.stdout, r
    assert "skip-switched-on" in r.stdout, r
    lines = r.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "--quirk" in line)
    assert all(len(line) <= 80 for line in lines[at:at + 3]), lines[at:at + 3]
    for bad, name in (("warp", "warp"), ("skip-switched-on,", ""),
                      ("skip-switched-on,warp", "warp")):
        r = subprocess.run([path, "--eth", "127.0.4.13", "--quirk", bad],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and r.stdout == "", r
        assert f"unknown quirk '{name}'" in r.stderr and "known: skip-switched-on" in r.stderr, r


def test_mode_integers_are_drive_codes(axlink, drive):
    """One vocabulary: an integer MODE is the drive's code, as in C and Python."""
    fresh(axlink, drive)
    for code, name in ((2, "current"), (5, "torque"), (20, "profile_position"),
                       (0x13, "profile_velocity"), (0, "voltage"), (3, "velocity")):
        r = ok(axlink("mode", drive, str(code)))
        assert r.out == f"axis 1: {name} (0x{code:X})\n", r
        assert ok(axlink("mode", drive, name, "--json")).json()["code"] == code
    # The dictionary's labels, as 'axlink read URI DRV_OP_CMD' prints them.
    r = ok(axlink("mode", drive, "Profile velocity"))
    assert r.out == "axis 1: profile_velocity (0x13)\n", r
    r = ok(axlink("read", drive, "DRV_OP_CMD"))
    assert r.out == "19 (Profile velocity)\n", r
    # A CiA 402 code is refused on an MCB drive, never taken for another mode.
    r = axlink("mode", drive, "1")
    assert r.code == 2 and "CiA 402 code of 'profile_position'" in r.err, r
    assert "profile_position (0x14)" in r.err, r
    ok(axlink("mode", drive, "pp"))


def test_write_takes_enum_labels_and_read_prints_them(axlink, drive):
    fresh(axlink, drive)
    r = ok(axlink("write", drive, "DRV_OP_CMD", "Profile velocity"))
    assert r.out == "ok\n", r
    assert ok(axlink("read", drive, "DRV_OP_CMD", "--json")).json()["value"] == 19
    r = ok(axlink("write", drive, "DRV_OP_CMD", "profile POSITION", "--json"))
    assert r.json()["value"] == 20 and r.json()["label"] == "Profile position", r
    assert ok(axlink("read", drive, "DRV_OP_CMD")).out == "20 (Profile position)\n"
    r = axlink("write", drive, "DRV_OP_CMD", "Sideways")
    assert r.code == 2 and "'Sideways'" in r.err and "'Profile velocity' (19)" in r.err, r
    assert ok(axlink("read", drive, "DRV_OP_CMD")).out == "20 (Profile position)\n"
    # Units in text as in JSON; none for a unitless register.
    r = ok(axlink("read", drive, "PROF_MAX_ACC"))
    value, units = r.out.split()
    assert units == "rev/s^2" and float(value) > 0, r
    assert ok(axlink("read", drive, "DRV_OP_CMD", "--json")).json()["units"] == "none"


def test_move_velocity_does_not_leak_into_velocity_mode(axlink, drive):
    """The issue's "done when": a slow move, then velocity mode faster reaches it."""
    fresh(axlink, drive)
    vmax = ok(axlink("read", drive, "PROF_MAX_VEL", "--json")).json()["value"]
    acc = ok(axlink("read", drive, "PROF_MAX_ACC", "--json")).json()["value"]
    dec = ok(axlink("read", drive, "PROF_MAX_DEC", "--json")).json()["value"]
    ok(axlink("move", drive, "0.5", "--units", "rev", "--velocity", "1", "--acceleration", "20",
              "--deceleration", "30"))
    assert ok(axlink("read", drive, "PROF_MAX_VEL", "--json")).json()["value"] == vmax
    assert ok(axlink("read", drive, "PROF_MAX_ACC", "--json")).json()["value"] == acc
    assert ok(axlink("read", drive, "PROF_MAX_DEC", "--json")).json()["value"] == dec
    v = ok(axlink("velocity", drive, "2", "--units", "rev", "--acceleration", "40",
                  "--json")).json()
    assert v["reached"] is True and abs(v["velocity"] - 2) < 0.02 * 2, v
    assert ok(axlink("read", drive, "PROF_MAX_ACC", "--json")).json()["value"] == acc
    # Beyond the drive's own limit: refused with the cause, and nothing runs faster.
    ok(axlink("write", drive, "PROF_MAX_VEL", "1"))
    try:
        r = axlink("velocity", drive, "2.5", "--units", "rev")
        assert r.code == 1 and "limited by PROF_MAX_VEL = 1 rev/s" in r.err, r
        assert "reached" not in r.out, r
        assert state(axlink, drive, "--units", "rev")["velocity"] <= 1 + 1e-6
    finally:
        ok(axlink("write", drive, "PROF_MAX_VEL", str(vmax)))
    ok(axlink("velocity", drive, "0"))


def test_limits_with_no_wait_are_reported(axlink, drive):
    """--no-wait ends the command before the motion: a limit given stays, and says so."""
    fresh(axlink, drive)
    ok(axlink("move", drive, "0"))
    vmax = ok(axlink("read", drive, "PROF_MAX_VEL", "--json")).json()["value"]
    r = ok(axlink("move", drive, "0.25", "--units", "rev", "--velocity", "2", "--no-wait"))
    assert "--velocity stays in the drive" in r.err and f"PROF_MAX_VEL was {vmax:g}" in r.err, r
    ok(axlink("move", drive, "0.25", "--units", "rev"))
    ok(axlink("write", drive, "PROF_MAX_VEL", str(vmax)))
    r = axlink("move", drive, "0", "--acceleration", "0")
    assert r.code == 2 and "--acceleration" in r.err, r
    r = axlink("velocity", drive, "1", "--deceleration", "fast")
    assert r.code == 2 and "--deceleration" in r.err, r


def test_home_method_label(axlink, drive):
    fresh(axlink, drive)
    h = ok(axlink("home", drive, "--method", "Current position is home", "--offset", "7",
                  "--json")).json()
    assert h["method"] == 0 and h["position"] == 7.0, h
    r = axlink("home", drive, "--method", "upside down")
    assert r.code == 2 and "'upside down'" in r.err and "0 (Current position is home)" in r.err, r
