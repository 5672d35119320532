# SPDX-License-Identifier: MIT
"""Drive-side capture from Python: Drive.scope, Scope, Disturbance, against
the real axlink-sim over UDP on 127.0.19.20-29 (this file's range)."""
import csv
import io
import math
import threading
import time

import numpy
import pytest

import axlink
from conftest import Sim, _sim_path

RES = 4096.0


@pytest.fixture(scope="module")
def sim_uri(build_dir):
    sim = Sim(_sim_path(build_dir), ["--eth", "127.0.19.20", "--serial", "1920"], 1)
    try:
        yield sim.uris[0]
    finally:
        sim.stop()


@pytest.fixture
def drive(sim_uri):
    with axlink.open(sim_uri, timeout=1.0) as d:
        yield d


@pytest.fixture
def turning(drive):
    axis = drive.axes[1]
    axis.units = "rev"
    axis.enable()
    axis.set_velocity(10.0, wait=True)
    yield drive
    axis.stop()


def test_scope__numpy_channels_of_a_move(turning):
    r = turning.scope(["CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"], period=50e-6, samples=2000)
    assert isinstance(r, axlink.ScopeResult) and len(r) == 2000
    assert r.names == ["CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"]
    assert r.t.dtype == numpy.float64 and r.t[0] == 0.0
    assert numpy.allclose(numpy.diff(r.t), 50e-6)
    pos, vel = r["CL_POS_FBK_VALUE"], r["CL_VEL_FBK_VALUE"]
    assert pos.dtype == numpy.int32 and vel.dtype == numpy.float32
    v = (pos[-1] - pos[0]) / (r.t[-1] - r.t[0]) / RES
    assert abs(v - 10.0) < 0.1, v
    # Windowed derivative against the velocity channel, every 5 ms.
    dv = numpy.diff(pos[::100].astype(float)) / (100 * 50e-6) / RES
    assert numpy.all(numpy.abs(dv - 10.0) < 0.1), dv
    assert r.period == pytest.approx(50e-6) and r.pre == 0
    assert r.wire_bytes > 2000 * 8


def test_scope__trigger_and_pre(drive):
    axis = drive.axes[1]
    axis.units = "rev"
    axis.enable()
    axis.set_velocity(0.0, wait=True)
    level = drive.read("CL_POS_FBK_VALUE") + RES / 4
    with axlink.Scope(drive, "CL_POS_FBK_VALUE", period=100e-6, samples=200,
                      trigger=("CL_POS_FBK_VALUE", "rising", level), pre=20) as s:
        s.arm()  # returns once the drive watches the level
        axis.set_velocity(10.0)
        s.wait(5.0)
        r = s.fetch()
    pos = r["CL_POS_FBK_VALUE"]
    first = int(numpy.argmax(pos >= level))
    assert pos[first] >= level and 19 <= first <= 21, (first, pos[:30])
    assert r.t[20] == 0.0 and r.t[0] == pytest.approx(-20 * 100e-6)
    # The text form; a trigger register that is not a channel becomes one.
    axis.set_velocity(0.0, wait=True)
    level = drive.read("CL_POS_FBK_VALUE") - RES / 8
    with axlink.Scope(drive, ["CL_VEL_FBK_VALUE"], samples=10,
                      trigger=f"CL_POS_FBK_VALUE:either:{level}") as s:
        s.arm()
        axis.set_velocity(-10.0)
        s.wait(5.0)
        r = s.fetch()
    assert r.names == ["CL_VEL_FBK_VALUE", "CL_POS_FBK_VALUE"]
    assert r["CL_POS_FBK_VALUE"][0] <= level
    axis.stop()


def test_scope__context_manager_disables(drive):
    with axlink.Scope(drive, ["DRV_STATE_STATUS"], samples=100,
                      trigger=("DRV_STATE_STATUS", "rising", 65535)) as s:
        assert s.base_period == pytest.approx(50e-6) and s.max_channels == 16
        s.arm()
        assert drive.read("MON_DIST_STATUS", subnode=0) & 1
        with pytest.raises(axlink.TimeoutError, match="trigger never came"):
            s.wait(0.2)
    assert drive.read("MON_DIST_STATUS", subnode=0) & 1 == 0
    with pytest.raises(axlink.StateError):
        s.arm()


def test_scope__cancel_from_another_thread(drive):
    with axlink.Scope(drive, ["DRV_STATE_STATUS"], samples=100,
                      trigger=("DRV_STATE_STATUS", "rising", 65535)) as s:
        s.arm()
        timer = threading.Timer(0.2, s.cancel)
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(axlink.CancelledError):
            s.wait(None)
        # wait(None) waits forever: ending at all is the cancel's doing.
        assert time.monotonic() - t0 < 5.0
        timer.join()


def test_scope__bad_input(drive):
    with pytest.raises(axlink.RangeError, match="below the drive's base period"):
        drive.scope("CL_POS_FBK_VALUE", period=10e-6)
    with pytest.raises(axlink.RangeError, match="not a multiple"):
        drive.scope("CL_POS_FBK_VALUE", period=75e-6)
    with pytest.raises(axlink.RangeError, match="at most 16"):
        drive.scope(["CL_POS_FBK_VALUE"] * 17)
    with pytest.raises(axlink.UnsupportedError, match="DRV_ID_SOFTWARE_VERSION"):
        drive.scope("DRV_ID_SOFTWARE_VERSION")
    with pytest.raises(axlink.InvalidArgumentError, match="edge"):
        drive.scope("CL_POS_FBK_VALUE", trigger=("CL_POS_FBK_VALUE", "up", 1))
    with pytest.raises(axlink.InvalidArgumentError, match="samples"):
        drive.scope("CL_POS_FBK_VALUE", samples=0)


def test_disturbance__record_round_trip(drive):
    wave = numpy.concatenate([numpy.zeros(5), numpy.sin(numpy.arange(200) * 0.05)])
    with drive.disturbance("CL_CUR_Q_SET_POINT", wave, period=100e-6) as dist, \
            axlink.Scope(drive, ["CL_POS_FBK_VALUE"], samples=300) as s:
        assert dist.wire_bytes >= wave.size * 4
        r = dist.record(s)
    got = r["CL_CUR_Q_SET_POINT"]
    assert got.dtype == numpy.float32 and r.t[0] == 0.0
    assert numpy.array_equal(got[:wave.size], wave.astype(numpy.float32))
    assert numpy.all(got[wave.size:] == numpy.float32(wave[-1]))
    out = io.StringIO()
    r.to_csv(out)
    rows = list(csv.reader(out.getvalue().splitlines()))
    assert rows[0] == ["t_s", "CL_POS_FBK_VALUE", "CL_CUR_Q_SET_POINT"] and len(rows) == 301


def test_disturbance__plays_to_the_end(drive):
    with drive.disturbance("CL_CUR_Q_SET_POINT", [0.0, 0.5, 1.0, 0.25]) as dist:
        dist.start()
        dist.wait(5.0)
    assert drive.read("CL_CUR_Q_SET_POINT") == 0.25  # the target keeps the last sample


def test_disturbance__bad_waveform(drive):
    with pytest.raises(axlink.RangeError, match="sample 1"):
        drive.disturbance("CL_CUR_Q_SET_POINT", [0.0, 1e40])
    with pytest.raises(axlink.RangeError, match="sample 0"):
        drive.disturbance("CL_POS_SET_POINT_VALUE", [0.5])
    with pytest.raises(axlink.AccessError, match="read-only"):
        drive.disturbance("CL_POS_FBK_VALUE", [0.0])
    with pytest.raises(axlink.InvalidArgumentError, match="2 waveforms"):
        drive.disturbance(["CL_CUR_Q_SET_POINT"] * 3, [[0.0], [1.0]])
    assert not math.isnan(drive.read("CL_CUR_Q_SET_POINT"))
