# SPDX-License-Identifier: MIT
"""Scanning one transport, discovery across transports, hot-plug events."""
import threading

import pytest

import axlink
from conftest import AXS100, FAST, TWO_AXES, VENDOR, Sim, _sim_path

HOT = "127.0.6.40"  # the hot-plug test's own drive


def test_scan__lists_the_drives_that_answer(sims):
    results = axlink.scan(f"eth://{FAST[0]},{FAST[1]},{FAST[2]},{TWO_AXES}", timeout=0.5)
    ok = sorted((r for r in results if r.ok), key=lambda r: r.serial)
    assert [r.serial for r in ok] == [6001, 6002, 6003, 6010]
    first = ok[0]
    assert first.uri == f"eth://{FAST[0]}:1061"
    assert (first.vendor_id, first.product_code, first.revision) == (VENDOR, *AXS100)
    assert first.sw_version.startswith("axs-100")
    assert first.os_port == ""  # a UDP endpoint is no OS port
    with axlink.open(first.uri) as d:  # the URI reopens the drive
        assert d.info.identity.serial == 6001


def test_scan__on_result_sees_each_result_and_its_exception_stops_the_scan(sims):
    seen = []
    axlink.scan(f"eth://{FAST[0]},{FAST[1]}", timeout=0.5, on_result=seen.append)
    assert sorted(r.serial for r in seen if r.ok) == [6001, 6002]

    class Boom(Exception):
        pass

    def explode(r):
        raise Boom(r.uri)

    with pytest.raises(Boom):
        axlink.scan(f"eth://{FAST[0]},{FAST[1]}", timeout=0.5, on_result=explode)


def test_scan__iter_scan_streams_and_can_stop_early(sims):
    got = list(axlink.iter_scan(f"eth://{FAST[0]},{FAST[1]}", timeout=0.5))
    assert sorted(r.serial for r in got if r.ok) == [6001, 6002]
    for r in axlink.iter_scan(f"eth://{FAST[0]},{FAST[1]},{FAST[2]}", timeout=0.5):
        assert r.ok
        break  # leaving the loop stops the scan; nothing hangs


def test_scan__errors():
    with pytest.raises(axlink.Error, match="nosuch"):
        axlink.scan("nosuch://x")
    with pytest.raises(axlink.UnsupportedError, match="cannot scan"):
        axlink.scan("virtual:")
    with pytest.raises(axlink.InvalidArgumentError):
        axlink.scan("eth://127.0.6.0/99")


def test_discover__results_carry_stable_uri_and_dictionary(sims):
    outcomes = []
    results = axlink.discover(f"eth://{FAST[0]},{FAST[1]},{TWO_AXES}", timeout=1.0,
                              on_transport=outcomes.append)
    ok = sorted((r for r in results if r.ok), key=lambda r: r.serial)
    assert [r.serial for r in ok] == [6001, 6002, 6010]
    r = ok[0]
    assert r.transport == "eth"
    assert r.stable_uri == "axlink://A71C/00010064/6001"
    assert r.model == "axs-100" and r.match == "exact"
    assert r.dictionary is not None and "CL_POS_FBK_VALUE" in r.dictionary
    assert ok[2].model == "axs-200" and ok[2].dictionary.identity.axes == 2
    assert [o.status for o in outcomes] == ["done"]
    assert outcomes[0].found == 3
    with r.open() as d:
        assert d.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001


def test_discover__without_resolving(sims):
    results = axlink.discover(f"eth://{FAST[0]}", timeout=0.5, resolve=False)
    assert [r.match for r in results] == ["none"]
    assert results[0].dictionary is None


def test_discover__stable_uri_finds_the_drive(sims):
    via = f"eth://{FAST[0]},{FAST[1]},{FAST[2]}"
    assert axlink.locate(f"axlink://A71C/00010064/6002?via={via}") == f"eth://{FAST[1]}:1061"
    with axlink.open(f"axlink://A71C/00010064/6003?via={via}") as d:
        assert d.read("DRV_ID_SERIAL_NUMBER_COCO") == 6003
    with pytest.raises(axlink.NotFoundError, match="serial 7777"):
        axlink.locate(f"axlink://A71C/00010064/7777?via={via}", timeout=0.3)


def test_discover__iter_and_callback_errors(sims):
    got = list(axlink.iter_discover(f"eth://{FAST[0]},{FAST[1]}", timeout=0.5))
    assert sorted(r.serial for r in got) == [6001, 6002]
    with pytest.raises(ZeroDivisionError):
        axlink.discover(f"eth://{FAST[0]}", timeout=0.5, on_result=lambda r: 1 / 0)
    with pytest.raises(axlink.Error, match="nosuch"):
        axlink.discover("nosuch")


def test_monitor__reports_a_drive_added_then_removed(build_dir):
    events = []
    sim = Sim(_sim_path(build_dir), ["--eth", HOT, "--serial", "6040"], 1)
    stopped = False
    try:
        with axlink.Monitor(f"eth://{HOT}", on_event=events.append, period=0.2,
                            misses=2) as mon:
            added = mon.get(timeout=5)
            assert added is not None and added.kind == "added"
            assert added.result.serial == 6040 and added.result.model == "axs-100"
            sim.stop()
            stopped = True
            removed = mon.get(timeout=5)
            assert removed is not None and removed.kind == "removed", removed
            assert removed.result.uri == added.result.uri
        assert not mon.running
        assert [e.kind for e in events] == ["added", "removed"]  # on_event saw both too
    finally:
        if not stopped:
            sim.stop()


def test_monitor__exception_in_on_event_is_raised_by_stop(sims):
    fired = threading.Event()

    def bad(ev):
        fired.set()
        raise RuntimeError("handler failed")

    mon = axlink.Monitor(f"eth://{FAST[0]}", on_event=bad, period=0.2)
    assert fired.wait(5)
    with pytest.raises(RuntimeError, match="handler failed"):
        mon.stop()
    mon.stop()  # idempotent, and the error is raised once
