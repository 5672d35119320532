# SPDX-License-Identifier: MIT
"""Axes: the CiA 402 state machine, modes, moves, homing, units; over UDP
(the simulator's two-axis drive) and in process."""
import gc
import threading

import pytest

import axlink
from conftest import TWO_AXES, Sim, _sim_path

# A drive that skips switched on (axlink-sim --quirk), started by this file on its own
# address in the suite's range (conftest lists the shared ones).
QUIRKY = "127.0.6.45"


def test_motion__api_present():
    assert axlink._axis.HAVE_MOTION, "this libaxlink was built without the motion API"


@pytest.fixture
def drive2(sims):
    with axlink.open(f"eth://{TWO_AXES}", timeout=1.0, context=axlink.Context()) as d:
        yield d
        if not d.closed:  # leave the shared simulated drive disabled
            for axis in d.axes.values():
                axis.disable()


def test_motion__enable_and_disable_follow_the_state_machine(drive2):
    axis = drive2.axes[1]
    axis.disable()
    assert axis.state in ("ready_to_switch_on", "switch_on_disabled")
    axis.enable()
    assert axis.state == "operation_enabled"
    assert axis.statusword & 0x6F == 0x27  # DESIGN §7: operation enabled
    axis.fault_reset()  # not in fault: nothing to do
    assert axis.state == "operation_enabled"
    axis.disable()
    assert axis.state == "ready_to_switch_on"


def test_motion__absolute_and_relative_moves_in_counts_and_revolutions(drive2):
    axis = drive2.axes[1]
    axis.enable()
    axis.move_to(2000, velocity=40000)
    assert abs(axis.position - 2000) <= 10  # within the position window
    axis.move_to(-500, relative=True, velocity=40000)
    assert abs(axis.position - 1500) <= 10
    res = axis.resolution
    assert res > 0
    axis.move_to(0.25, units="rev", velocity=10)  # this call only
    assert axis.units == "counts"
    assert abs(axis.position - 0.25 * res) <= 10
    axis.units = "deg"
    assert abs(axis.position - 90.0) <= 10 * 360 / res
    axis.units = "counts"


def test_motion__sampling_during_a_move(drive2):
    axis = drive2.axes[1]
    axis.enable()
    axis.move_to(0, velocity=40000)
    samples = []
    axis.move_to(8000, velocity=20000, wait=False)
    axis.wait_target_reached(on_poll=lambda sw: samples.append(axis.position))
    assert len(samples) >= 3, samples
    assert samples[0] < samples[-1] and abs(samples[-1] - 8000) <= 10
    assert all(b >= a for a, b in zip(samples, samples[1:])), "a move forward never goes back"


def test_motion__on_poll_stops_the_wait(drive2):
    axis = drive2.axes[1]
    axis.enable()
    axis.move_to(0, velocity=40000)
    axis.move_to(20000, velocity=10000, wait=False)
    with pytest.raises(axlink.CancelledError):
        axis.wait_target_reached(on_poll=lambda sw: False)

    def boom(sw):
        raise KeyError("from on_poll")

    with pytest.raises(KeyError, match="from on_poll"):
        axis.wait_target_reached(on_poll=boom)
    axis.wait_target_reached(timeout=10)
    assert abs(axis.position - 20000) <= 10


def test_motion__velocity_mode_and_mode_names(drive2):
    axis = drive2.axes[2]
    axis.enable()
    axis.set_velocity(3000, wait=True)
    assert axis.mode == "profile_velocity"
    assert abs(axis.velocity - 3000) < 100
    axis.set_velocity(0, wait=True)
    axis.mode = "pp"
    assert axis.mode == "profile_position"
    with pytest.raises(axlink.InvalidArgumentError, match="warp"):
        axis.mode = "warp"


def test_motion__home(drive2):
    axis = drive2.axes[1]
    axis.enable()
    axis.move_to(3000, velocity=40000)
    axis.home(offset=100)
    assert abs(axis.position - 100) <= 10


def test_motion__axes_are_independent_and_move_from_two_threads(drive2):
    a1, a2 = drive2.axes[1], drive2.axes[2]
    a1.enable()
    a2.enable()
    errors = []

    def move(axis, target):
        try:
            axis.move_to(target, velocity=30000)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=move, args=(a1, 6000)),
               threading.Thread(target=move, args=(a2, -6000))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert abs(a1.position - 6000) <= 10 and abs(a2.position + 6000) <= 10


def test_motion__state_errors(drive2):
    axis = drive2.axes[1]
    axis.disable()
    with pytest.raises(axlink.StateError, match="enable it first") as ei:
        axis.move_to(100)
    assert ei.value.code == axlink._native.lib.AX_ERROR
    drive2.close()
    with pytest.raises(axlink.StateError, match="closed"):
        axis.enable()


def test_motion__axis_keeps_its_drive_for_motion(sims):
    d = axlink.open("virtual:?model=axs-200", context=axlink.Context())
    axis = d.axes[2]
    del d
    gc.collect()
    axis.enable()
    axis.move_to(1000)
    assert abs(axis.position - 1000) <= 10
    axis.disable()
    axis.drive.close()


def test_motion__without_a_dictionary_the_axis_says_why(sims):
    with axlink.open(f"eth://{TWO_AXES}", find_dictionary=False,
                     context=axlink.Context()) as d:
        with pytest.raises(axlink.Error, match="dictionary"):
            d.axes[1].enable()


def _expect_skips_switched_on(axis):
    """The quirk is there: switch on (0x07) leaves the axis in ready to switch on."""
    axis.write("DRV_STATE_CONTROL", 0x06)
    axis.write("DRV_STATE_CONTROL", 0x07)
    assert axis.state == "ready_to_switch_on"


def test_motion__enable_a_drive_that_skips_switched_on(sims):
    with axlink.open("virtual:?model=axs-200&quirk=skip-switched-on",
                     context=axlink.Context()) as d:
        for axis in d.axes.values():
            _expect_skips_switched_on(axis)
            axis.enable(timeout=0.5)
            assert axis.state == "operation_enabled"
            assert axis.statusword & 0x6F == 0x27
        axis = d.axes[1]
        axis.disable()
        assert axis.state == "ready_to_switch_on"
        axis.enable()
        axis.move_to(1000)
        assert abs(axis.position - 1000) <= 10
        # A drive that never confirms: the timeout names the transition and the state.
        axis.disable()
        axis.write("SIM_STATUS_FREEZE", 1)
        with pytest.raises(axlink.TimeoutError,
                           match=r"'switch on'.*'ready_to_switch_on', status word 0x0031"):
            axis.enable(timeout=0.1)
        axis.write("SIM_STATUS_FREEZE", 0)
        assert axis.state == "operation_enabled"  # it did happen, unseen


def test_motion__enable_a_drive_that_skips_switched_on_over_udp(build_dir):
    sim = Sim(_sim_path(build_dir), ["--eth", QUIRKY, "--model", "axs-200", "--serial", "6045",
                                     "--quirk", "skip-switched-on"], 1)
    try:
        with axlink.open(sim.uris[0], timeout=1.0, context=axlink.Context()) as d:
            for axis in d.axes.values():
                _expect_skips_switched_on(axis)
                axis.enable()
                assert axis.state == "operation_enabled"
            d.axes[2].write("SIM_FAULT_INJECT", 0x3220)
            assert d.axes[2].state == "fault"
            d.axes[2].enable()
            assert d.axes[2].state == "operation_enabled"
            for axis in d.axes.values():
                axis.disable()
    finally:
        sim.stop()


def test_motion__unknown_quirk_is_refused(sims):
    with pytest.raises(axlink.InvalidArgumentError, match="quirk 'warp'.*skip-switched-on"):
        axlink.open("virtual:?quirk=warp", context=axlink.Context())


# MCB codes of the simulated models' DRV_OP_CMD (devices/axs-200.xdf) and the modes they mean.
MCB_MODES = {0x00: "voltage", 0x02: "current", 0x03: "velocity", 0x13: "profile_velocity",
             0x04: "position", 0x14: "profile_position", 0x05: "torque"}


def test_motion__mode_integers_are_drive_codes_in_c_cli_and_python(drive2, build_dir):
    """One vocabulary: an integer mode is the drive's code in C, the CLI and Python."""
    import json
    import subprocess

    lib = axlink._native.lib
    cli = str(build_dir / "bin" / "axlink")
    axis = drive2.axes[2]
    axis.enable()
    axis.set_velocity(0, wait=True)
    for code, name in MCB_MODES.items():
        # C: the library's table and the axis's parse.
        assert axlink._native.text(lib.ax_op_mode_name(
            lib.ax_op_mode_from_code(code, lib.AX_MODE_CODES_MCB))) == name
        assert lib.ax_axis_mode_from_code(axis._p(), code) == lib.ax_op_mode_parse(
            name.encode())
        # Python: set by the code, read back as the name and the same code.
        axis.mode = code
        assert (axis.mode, axis.mode_code) == (name, code)
        # The CLI: the same integer sets the same mode, printed by name.
        r = subprocess.run([cli, "mode", f"eth://{TWO_AXES}", str(code), "--axis", "2",
                            "--json"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        out = json.loads(r.stdout)
        assert (out["axis"], out["mode"], out["code"]) == (2, name, code), r
        assert axis.mode == name
    # Names and the dictionary's labels are the preferred spelling.
    axis.mode = "Profile velocity"
    assert (axis.mode, axis.mode_code) == ("profile_velocity", 0x13)
    axis.mode = "pp"
    assert axis.mode_code == 0x14
    # A CiA 402 code is not an MCB one: refused, never another mode.
    with pytest.raises(axlink.InvalidArgumentError, match="CiA 402 code of 'profile_position'"):
        axis.mode = 1
    assert axis.mode == "profile_position"
    with pytest.raises(axlink.InvalidArgumentError):
        axis.mode = 2**70
    with pytest.raises(axlink.InvalidArgumentError):
        axis.mode = 2.0


def test_motion__move_limits_do_not_leak_into_velocity_mode(drive2):
    """A slow move, then velocity mode faster: the faster speed is reached."""
    axis = drive2.axes[2]
    axis.enable()
    vmax = float(axis.read("PROF_MAX_VEL"))
    acc = float(axis.read("PROF_MAX_ACC"))
    res = axis.resolution
    axis.move_to(axis.position + res / 2, velocity=res, acceleration=20 * res)
    assert float(axis.read("PROF_MAX_VEL")) == vmax
    assert float(axis.read("PROF_MAX_ACC")) == acc
    axis.set_velocity(5 * res, wait=True)
    assert abs(axis.velocity - 5 * res) < 0.02 * 5 * res
    # Beyond the drive's own limit: refused, naming it.
    with pytest.raises(axlink.RangeError, match=f"limited by PROF_MAX_VEL = {vmax:g} rev/s"):
        axis.set_velocity(2 * vmax * res, wait=True)
    axis.set_velocity(0, wait=True)


def test_motion__home_takes_a_method_label(drive2):
    axis = drive2.axes[1]
    axis.enable()
    axis.move_to(3000, velocity=40000)
    axis.home("Current position is home", offset=50)
    assert abs(axis.position - 50) <= 10
    assert int(axis.read("HOM_MODE")) == 0
    with pytest.raises(axlink.InvalidArgumentError, match="Current position is home"):
        axis.home("upside down")
