# SPDX-License-Identifier: MIT
"""Stopping axes: Ctrl-C and drive.cancel() end a motion wait within a poll
period and halt the axis; stop(), quick_stop(); an Axis as a context manager.
Against the simulator's two-axis drive over UDP (127.0.6.10, conftest)."""
import os
import signal
import threading
import time

import pytest

import axlink
from conftest import TWO_AXES

RES = 4096  # counts per revolution of the simulated models
V = 10 * RES  # counts/s: the models' PROF_MAX_VEL
DEC = 100 * RES  # counts/s^2: the models' PROF_MAX_DEC
# Travel allowed between reading the position and the interrupt taking effect.
LATENCY_S = 0.25
BRAKING = V * V / (2 * DEC) + V * LATENCY_S


@pytest.fixture
def drive2(sims):
    with axlink.open(f"eth://{TWO_AXES}", timeout=1.0, context=axlink.Context()) as d:
        axis = d.axes[1]
        axis.enable()
        axis.move_to(0, velocity=V, deceleration=DEC)
        yield d
        if not d.closed:  # leave the shared simulated drive disabled
            for a in d.axes.values():
                a.disable()


def position(drive):
    """Axis 1's position through the drive: the axis's lock is the waiting thread's."""
    return drive.read("CL_POS_FBK_VALUE", 1)


def at_rest(axis):
    """Velocity 0 and the same position twice, 100 ms apart."""
    assert axis.velocity == 0
    p = axis.position
    time.sleep(0.1)
    assert axis.position == p and axis.velocity == 0
    return p


class Later(threading.Thread):
    """Runs @fn after @delay seconds, noting axis 1's position just before."""

    def __init__(self, delay, drive, fn):
        super().__init__(daemon=True)
        self.delay, self.drive, self.fn = delay, drive, fn
        self.pos = None
        self.at = None
        self.error = None

    def run(self):
        time.sleep(self.delay)
        try:
            self.pos = position(self.drive)
            self.at = time.monotonic()
            self.fn()
        except Exception as e:  # noqa: BLE001 - checked by the test
            self.error = e


def test_stop__ctrl_c_during_move_to_halts_the_axis(drive2):
    axis = drive2.axes[1]
    later = Later(0.3, drive2, lambda: os.kill(os.getpid(), signal.SIGINT))
    later.start()
    with pytest.raises(KeyboardInterrupt):
        axis.move_to(100 * RES, velocity=V)  # 10 s
    took = time.monotonic() - later.at
    later.join()
    assert later.error is None, later.error
    # The move takes 10 s: half of that is not prompt. (The braking distance
    # below bounds how late the halt came far more tightly.)
    assert took < 10.0 / 2, f"KeyboardInterrupt arrived {took:.2f} s after the signal"
    rest = at_rest(axis)
    assert axis.state == "operation_enabled"  # halted, not switched off
    assert 0 <= rest - later.pos <= BRAKING, (later.pos, rest)
    # The halt holds, and the next move goes to its own target.
    time.sleep(0.1)
    assert axis.position == rest
    axis.move_to(1000, velocity=V)
    assert abs(axis.position - 1000) <= 10


def test_stop__cancel_from_another_thread_ends_the_wait(drive2):
    axis = drive2.axes[1]
    axis.move_to(100 * RES, velocity=V, wait=False)
    later = Later(0.3, drive2, drive2.cancel)
    later.start()
    with pytest.raises(axlink.CancelledError, match="cancelled"):
        axis.wait_target_reached()
    took = time.monotonic() - later.at
    later.join()
    assert later.error is None, later.error
    assert took < 10.0 / 2, f"the wait ended {took:.2f} s after cancel()"  # a 10 s move
    rest = at_rest(axis)
    assert 0 <= rest - later.pos <= BRAKING, (later.pos, rest)

    # The next motion call starts afresh; cancel() also ends move_to()'s own wait.
    later = Later(0.3, drive2, drive2.cancel)
    later.start()
    with pytest.raises(axlink.CancelledError):
        axis.move_to(-100 * RES, velocity=V)
    later.join()
    assert later.pos < rest  # it did move toward the new target
    assert 0 <= later.pos - at_rest(axis) <= BRAKING


def test_stop__without_stop_on_interrupt_the_axis_goes_on(drive2):
    axis = drive2.axes[1]
    later = Later(0.2, drive2, drive2.cancel)
    later.start()
    with pytest.raises(axlink.CancelledError):
        axis.move_to(100 * RES, velocity=V, stop_on_interrupt=False)
    later.join()
    assert axis.velocity > 0  # the caller asked: still moving
    axis.stop()
    at_rest(axis)


def test_stop__ctrl_c_during_home_halts_the_axis(drive2):
    axis = drive2.axes[1]
    method = drive2.read("HOM_MODE", 1)
    switch = drive2.read("SIM_HOME_SWITCH_POSITION", 1)
    drive2.write("SIM_HOME_SWITCH_POSITION", 10**9, 1)  # never found
    try:
        later = Later(0.3, drive2, lambda: os.kill(os.getpid(), signal.SIGINT))
        later.start()
        with pytest.raises(KeyboardInterrupt):
            axis.home(method=1)  # toward the switch, positive
        took = time.monotonic() - later.at
        later.join()
        assert later.error is None, later.error
        # The switch is never found: any end is the interrupt's; 5 s is generous.
        assert took < 5.0, f"KeyboardInterrupt arrived {took:.2f} s after the signal"
        rest = at_rest(axis)
        assert later.pos > 0 and 0 <= rest - later.pos <= BRAKING, (later.pos, rest)
        assert axis.state == "operation_enabled"
    finally:
        drive2.write("SIM_HOME_SWITCH_POSITION", switch, 1)
        drive2.write("HOM_MODE", method, 1)


def test_stop__stop_and_quick_stop(drive2):
    axis = drive2.axes[1]
    axis.move_to(100 * RES, velocity=V, wait=False)
    time.sleep(0.3)
    before = axis.position
    axis.stop()
    rest = at_rest(axis)
    assert axis.state == "operation_enabled"
    assert 0 <= rest - before <= BRAKING
    axis.set_velocity(2 * RES, wait=True)  # the halt is released
    assert abs(axis.velocity - 2 * RES) < 1
    axis.stop()
    at_rest(axis)

    axis.move_to(0, velocity=V, wait=False)
    time.sleep(0.3)
    axis.quick_stop()
    assert axis.state == "quick_stop_active"
    deadline = time.monotonic() + 2
    while axis.velocity != 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    at_rest(axis)
    axis.stop()  # not enabled: nothing to do
    assert axis.state == "quick_stop_active"
    axis.enable()
    assert axis.state == "operation_enabled"


def test_stop__axis_as_context_manager_halts_and_disables(drive2):
    with drive2.axes[1] as axis:
        axis.move_to(100 * RES, velocity=V, wait=False)
        time.sleep(0.2)
        assert axis.velocity > 0
    assert axis.state == "ready_to_switch_on"
    at_rest(axis)

    axis.enable()
    with pytest.raises(ValueError, match="inside"):
        with axis:
            axis.move_to(-100 * RES, velocity=V, wait=False)
            raise ValueError("inside")
    assert axis.state == "ready_to_switch_on"
    at_rest(axis)
