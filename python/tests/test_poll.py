# SPDX-License-Identifier: MIT
"""Polling: Drive.poll, the Poller and its iterator form, CSV export; over
UDP (the suite's simulators) and in process. Bounds are wide: they check
that sampling happens and is counted, not how well a busy machine keeps time.
"""
import array
import csv
import math
import socket
import time

import pytest

import axlink
from conftest import FAST, SLOW, Sim, _sim_path

HUNG = "127.0.6.42"  # this file's drive that stops answering


def test_poll__api_present():
    assert axlink._poll.HAVE_POLLER, "this libaxlink was built without the poller"


def test_poll__columns_over_udp(drive):
    s = drive.poll(["CL_POS_FBK_VALUE", "DRV_ID_SERIAL_NUMBER"], 0.005, duration=0.5)
    assert isinstance(s, axlink.Samples)
    assert s.names == ["CL_POS_FBK_VALUE", "DRV_ID_SERIAL_NUMBER"]
    assert 30 <= len(s) <= 130, s  # about 100
    assert isinstance(s.t, array.array) and s.t.typecode == "d"
    assert all(b > a for a, b in zip(s.t, s.t[1:]))
    assert set(s["DRV_ID_SERIAL_NUMBER"]) == {6001.0}
    assert len(s["CL_POS_FBK_VALUE"]) == len(s)
    assert s.samples == len(s) and s.dropped == 0
    assert 0.004 < s.period < 0.02, s
    assert s.errors == {"CL_POS_FBK_VALUE": 0, "DRV_ID_SERIAL_NUMBER": 0}


def test_poll__csv_header_and_rows(tmp_path):
    with axlink.open("virtual:?serial=6601") as d:
        s = d.poll(["DRV_ID_SERIAL_NUMBER", "CL_VEL_FBK_VALUE"], 0.01, duration=0.2)
    out = tmp_path / "poll.csv"
    s.to_csv(out)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t_s", "DRV_ID_SERIAL_NUMBER", "CL_VEL_FBK_VALUE"]
    assert len(rows) == len(s) + 1 and len(s) >= 5
    assert all(r[1] == "6601" for r in rows[1:])  # an integer register: no ".0"
    assert [float(r[0]) for r in rows[1:]] == pytest.approx(list(s.t), abs=1e-6)
    assert s.csv_text().splitlines()[0] == "t_s,DRV_ID_SERIAL_NUMBER,CL_VEL_FBK_VALUE"


def test_poll__iterator_form_live(drive):
    with drive.poll("CL_POS_FBK_VALUE", 0.005) as p:
        assert isinstance(p, axlink.Poller) and p.running
        seen = []
        for sample in p:
            seen.append(sample)
            if len(seen) == 20:
                break
        assert p.running  # breaking out does not stop it
    assert p.closed and not p.running
    assert [len(x.values) for x in seen] == [1] * 20
    assert all(b.t > a.t for a, b in zip(seen, seen[1:]))
    assert all(not math.isnan(x.values[0]) for x in seen)


def test_poll__iter_with_duration_stops_by_itself():
    with axlink.open("virtual:?serial=6602") as d, axlink.Poller(0.01) as p:
        p.add(d, "DRV_ID_SERIAL_NUMBER")
        seen = list(p.iter(duration=0.2))
        assert not p.running
        assert 5 <= len(seen) <= 40
        assert {x.values for x in seen} == {(6602.0,)}


def test_poll__stop_and_restart_keeps_timestamps_rising():
    with axlink.open("virtual:?serial=6603") as d, axlink.Poller(0.005) as p:
        p.add(d, "DRV_ID_SERIAL_NUMBER")
        first = list(p.iter(duration=0.1))
        second = list(p.iter(duration=0.1))
        assert len(first) >= 5 and len(second) >= 5
        assert second[0].t > first[-1].t
        assert p.stats()["samples"] == len(first) + len(second)


def test_poll__several_drives_on_one_poller(sims):
    with axlink.open(f"eth://{FAST[1]}", timeout=1.0) as a, \
            axlink.open("virtual:?serial=6604") as b, axlink.Poller(0.01) as p:
        assert p.add(a, "DRV_ID_SERIAL_NUMBER") == 0
        assert p.add(b, "DRV_ID_SERIAL_NUMBER") == 1
        assert p.names == ["DRV_ID_SERIAL_NUMBER@1", "DRV_ID_SERIAL_NUMBER@1#1"]
        p.start()
        s = p.collect()  # may be empty this early: no waiting
        assert s.names == p.names
        rows = list(p.iter(duration=0.2))
        assert rows and {r.values for r in rows} == {(6002.0, 6604.0)}


def test_poll__lost_counted_when_the_drive_is_slow(sims):
    # The suite's SLOW drive answers 300 ms late; 20 ms periods are missed.
    with axlink.open(f"eth://{SLOW}", timeout=2.0) as d:
        s = d.poll(["CL_POS_FBK_VALUE"], 0.02, duration=1.0)
    assert 1 <= len(s) <= 8, s
    assert s.lost >= 30, s
    assert s.period > 0.2, s


def test_poll__bad_register_raises_before_starting(drive):
    with pytest.raises(axlink.DictionaryError, match="NO_SUCH_REGISTER"):
        drive.poll(["CL_POS_FBK_VALUE", "NO_SUCH_REGISTER"], 0.01, duration=5)


def test_poll__str_register_refused(drive):
    with pytest.raises(axlink.TypeMismatchError, match="DRV_APP_COCO_VERSION"):
        drive.poll(["DRV_APP_COCO_VERSION"], 0.01, duration=0.1)


def test_poll__seventeen_channels_refused():
    with axlink.open("virtual:") as d:
        with pytest.raises(axlink.RangeError, match="at most 16"):
            d.poll(["CL_POS_FBK_VALUE"] * 17, 0.01, duration=0.1)


@pytest.mark.parametrize("period, duration", [
    (0, 1.0), (-1, 1.0), (61, 1.0), ("fast", 1.0), (True, 1.0),
    (0.01, 0), (0.01, -2), (0.01, float("inf")), (0.01, "long"),
])
def test_poll__bad_period_or_duration(period, duration):
    with axlink.open("virtual:") as d:
        with pytest.raises(axlink.InvalidArgumentError):
            d.poll(["CL_POS_FBK_VALUE"], period, duration=duration)


def test_poll__as_numpy():
    """numpy is optional: with it, columns come as arrays; without, a clear ImportError."""
    with axlink.open("virtual:?serial=6605") as d:
        s = d.poll(["DRV_ID_SERIAL_NUMBER"], 0.01, duration=0.1)
    try:
        import numpy as np
    except ImportError:
        with pytest.raises(ImportError, match="pip install numpy"):
            s.as_numpy()
        return
    cols = s.as_numpy()
    assert isinstance(cols["t"], np.ndarray) and len(cols["t"]) == len(s)
    assert (cols["DRV_ID_SERIAL_NUMBER"] == 6605.0).all()


def test_poll__close_and_stop_are_prompt_with_a_hung_drive(build_dir):
    """A drive that stops answering (neither a reply nor a port-unreachable),
    4 channels, 3 s timeout: a sample would take 4 x 2 tries x 3 s. stop()
    and close() cancel the read in flight and return well within a timeout."""
    sim = Sim(_sim_path(build_dir), ["--eth", HUNG, "--serial", "6042"], 1)
    try:
        d = axlink.open(f"eth://{HUNG}", timeout=3.0)
    finally:
        sim.stop()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((HUNG, 1061))  # takes the requests, never answers
    try:
        with d:
            p = axlink.Poller(0.01)
            for r in ["CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE", "DRV_ID_SERIAL_NUMBER",
                      "DRV_STATE_STATUS"]:
                p.add(d, r)
            p.start()
            time.sleep(0.3)
            t0 = time.monotonic()
            p.stop()
            took_stop = time.monotonic() - t0
            assert not p.running
            assert p.read() == []  # the interrupted sample is dropped
            assert p.errors() == [0, 0, 0, 0]  # a cancelled read is no drive error
            p.start()
            time.sleep(0.3)
            t0 = time.monotonic()
            p.close()
            took_close = time.monotonic() - t0
            assert p.closed
    finally:
        silent.close()
    assert took_stop < 1.5, f"stop() took {took_stop:.2f} s with a 3 s timeout"
    assert took_close < 1.5, f"close() took {took_close:.2f} s with a 3 s timeout"
