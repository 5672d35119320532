# SPDX-License-Identifier: MIT
"""drive.store() / drive.restore() against axlink-sim restarted on its
--state-dir, as a drive is power-cycled (127.0.6.181, serial 6181)."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

import axlink
from conftest import Sim, _sim_path

ADDR = "127.0.6.181"
URI = f"eth://{ADDR}"


@pytest.fixture
def power(build_dir: Path, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """power(*args) (re)starts the simulator on this test's state folder."""
    path = _sim_path(build_dir)
    running: List[Sim] = []

    def cycle(*extra: str) -> None:
        while running:
            running.pop().stop()
        running.append(Sim(path, ["--eth", ADDR, "--serial", "6181", "--state-dir",
                                  str(tmp_path), *extra], 1))
    yield cycle
    while running:
        running.pop().stop()


def test_store_survives_restart_and_restore_brings_defaults(power: Callable[..., None],
                                                            tmp_path: Path) -> None:
    power()
    with axlink.open(URI, timeout=1.0) as d:
        d.write("PROF_MAX_VEL", 33.5)
        d.write("HOM_OFFSET", -1200)
        d.write("COMMS_WATCHDOG_TIMEOUT", 500)
        d.store()
    assert (tmp_path / "6181.nvm").is_file()

    power()
    with axlink.open(URI, timeout=1.0) as d:
        assert d.read("PROF_MAX_VEL") == 33.5
        assert d.read("HOM_OFFSET") == -1200
        assert d.read("COMMS_WATCHDOG_TIMEOUT") == 500
        d.restore()
        assert d.read("PROF_MAX_VEL") == 10.0

    power()
    with axlink.open(URI, timeout=1.0) as d:
        assert d.read("PROF_MAX_VEL") == 10.0
        assert d.read("HOM_OFFSET") == 0
        assert d.read("COMMS_WATCHDOG_TIMEOUT") == 0


def test_store_one_axis(power: Callable[..., None]) -> None:
    power()
    with axlink.open(URI, timeout=1.0) as d:
        d.write("PROF_MAX_VEL", 21.0)
        d.write("COMMS_WATCHDOG_TIMEOUT", 700)
        d.store(1)
    power()
    with axlink.open(URI, timeout=1.0) as d:
        assert d.read("PROF_MAX_VEL") == 21.0
        assert d.read("COMMS_WATCHDOG_TIMEOUT") == 0


def test_refusal_is_a_nack_naming_register(power: Callable[..., None]) -> None:
    power("--quirk", "store-needs-disabled")
    with axlink.open(URI, timeout=1.0) as d:
        d.axes[1].enable()
        with pytest.raises(axlink.NackError) as e:
            d.store()
        assert e.value.drive_code == 0x08000022
        assert "refused DRV_STORE_COCO_ALL (subnode 0)" in str(e.value)
        d.axes[1].disable()
        d.store()


def test_slow_store_timeout_and_cancel(power: Callable[..., None]) -> None:
    power("--quirk", "slow-store")
    with axlink.open(URI, timeout=1.0) as d:
        with pytest.raises(axlink.TimeoutError, match="still reads the signature"):
            d.store(0, timeout=0.1)
        time.sleep(0.4)
        # drive.cancel() from another thread ends the wait within a slice.
        timer = threading.Timer(0.1, lambda: d.cancel())
        t0 = time.monotonic()
        timer.start()
        try:
            with pytest.raises(axlink.CancelledError):
                d.store(0)
        finally:
            timer.join()
        # Cancelled (the store would have succeeded), and well within the 1 s link timeout.
        assert time.monotonic() - t0 < 1.0
        time.sleep(0.4)
        d.store(0)  # the token is reset by the next call


def test_arguments(power: Callable[..., None]) -> None:
    power()
    with axlink.open(URI, timeout=1.0) as d:
        with pytest.raises(TypeError):
            d.store("1")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            d.store(-1)
        with pytest.raises(ValueError):
            d.store(timeout=0)
        with pytest.raises(axlink.InvalidArgumentError, match="subnode 2"):
            d.store(2)
        with pytest.raises(axlink.Error, match="no DRV_RESTORE_MOCO_ALL on subnode 1"):
            d.restore(1)
