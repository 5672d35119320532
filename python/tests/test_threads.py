# SPDX-License-Identifier: MIT
"""Several Python threads on one drive: replies match requests, the GIL is
released during requests, and a request can be cancelled from another thread."""
import threading
import time

import pytest

import axlink
from conftest import AXS100, SLOW, VENDOR

ROUNDS = 300


def test_threads__four_threads_hammer_one_drive(drive):
    # Each thread reads registers whose values differ from every other
    # thread's, so a reply handed to the wrong request shows at once.
    expected = [
        ("DRV_ID_VENDOR_ID_COCO", None, VENDOR),
        ("DRV_ID_PRODUCT_CODE_COCO", None, AXS100[0]),
        ("DRV_ID_REVISION_NUMBER_COCO", None, AXS100[1]),
        ("DRV_ID_SERIAL_NUMBER_COCO", None, 6001),
    ]
    # Writes too: each thread owns one register and checks its own values.
    owned = ["PROF_MAX_VEL", "PROF_MAX_ACC", "PROF_MAX_DEC", "PROF_POS_WINDOW"]
    failures = []
    counts = [0] * 4
    start = threading.Barrier(4)

    def hammer(k):
        reg, sub, want = expected[k]
        start.wait()
        try:
            for i in range(ROUNDS):
                got = drive.read(reg, sub)
                if got != want:
                    failures.append(f"thread {k} round {i}: {reg} = {got:#x}, want {want:#x}")
                raw = drive.read_raw(0x6E0 + (0, 1, 2, 6)[k], "u32", subnode=0)
                if raw != want:
                    failures.append(f"thread {k} round {i}: raw {raw:#x}, want {want:#x}")
                value = k * 1000 + i
                drive.write(owned[k], value)
                back = drive.read(owned[k])
                if back != value:
                    failures.append(f"thread {k} round {i}: {owned[k]} = {back}, want {value}")
                counts[k] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"thread {k}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert failures == []
    assert counts == [ROUNDS] * 4


def test_threads__gil_is_released_while_a_request_waits(sims, drive):
    # A read on a drive that answers 300 ms late; meanwhile this thread keeps
    # reading another drive. With the GIL held during the C call, it could not.
    with axlink.open(f"eth://{SLOW}", timeout=2.0) as slow:
        done = threading.Event()
        result = []

        def slow_read():
            result.append(slow.read("DRV_ID_SERIAL_NUMBER_COCO"))
            done.set()

        t = threading.Thread(target=slow_read)
        t0 = time.monotonic()
        t.start()
        reads = 0
        while not done.is_set() and time.monotonic() - t0 < 5:
            drive.read("DRV_ID_SERIAL_NUMBER_COCO")
            reads += 1
        t.join()
        assert result == [6021]
        assert reads >= 10, f"only {reads} reads ran beside a 300 ms request"


def test_threads__cancel_a_request_from_another_thread(sims):
    with axlink.open(f"eth://{SLOW}", timeout=5.0, context=axlink.Context()) as slow:
        outcome = []

        def blocked_read():
            try:
                outcome.append(slow.read("DRV_ID_SERIAL_NUMBER_COCO"))
            except axlink.Error as e:
                outcome.append(e)

        t = threading.Thread(target=blocked_read)
        t0 = time.monotonic()
        t.start()
        # A cancel that races with the very start of the request may be lost:
        # keep cancelling until the request returns.
        while t.is_alive():
            slow.cancel()
            time.sleep(0.01)
        t.join()
        assert len(outcome) == 1
        assert isinstance(outcome[0], axlink.CancelledError), outcome
        assert outcome[0].code == axlink._native.lib.AX_ECANCELED
        # A CancelledError, not the value, says it ended before the 300 ms reply;
        # and long before the link's 5 s timeout.
        assert time.monotonic() - t0 < 5.0 / 2


def test_threads__close_while_another_thread_reads(sims):
    # close() must not free the drive under a request in flight: the request
    # finishes (or fails cleanly) and later calls raise StateError.
    d = axlink.open(f"eth://{SLOW}", timeout=2.0, context=axlink.Context())
    outcome = []

    def read():
        try:
            outcome.append(d.read("DRV_ID_SERIAL_NUMBER_COCO"))
        except axlink.Error as e:
            outcome.append(e)

    t = threading.Thread(target=read)
    t.start()
    time.sleep(0.05)
    d.close()
    t.join()
    assert outcome == [6021]
    with pytest.raises(axlink.StateError):
        d.read("DRV_ID_SERIAL_NUMBER_COCO")
