# SPDX-License-Identifier: MIT
"""axlink.read_many: one request in flight on every drive, per-item errors."""
import time

import pytest

import axlink
from conftest import FAST, SLOW


@pytest.fixture
def fast_drives(sims):
    drives = [axlink.open(f"eth://{a}", timeout=1.0) for a in FAST]
    yield drives
    for d in drives:
        d.close()


def test_batch__reads_every_drive(fast_drives):
    items = [(d, "DRV_ID_SERIAL_NUMBER_COCO") for d in fast_drives]
    assert axlink.read_many(items) == [6001, 6002, 6003]
    # The same drive twice, a Register object, an explicit subnode: all in order.
    reg = fast_drives[0].find("DRV_ID_VENDOR_ID_COCO")
    got = axlink.read_many([(fast_drives[1], "DRV_ID_SERIAL_NUMBER_COCO", 0),
                            (fast_drives[0], reg),
                            (fast_drives[1], "DRV_ID_SERIAL_NUMBER_COCO")], timeout=2.0)
    assert got == [6002, 0xA71C, 6002]
    assert axlink.read_many([]) == []


def test_batch__slow_drive_fails_alone_at_the_deadline(fast_drives):
    with axlink.open(f"eth://{SLOW}", timeout=2.0) as slow:
        items = [(fast_drives[0], "DRV_ID_SERIAL_NUMBER_COCO"),
                 (slow, "DRV_ID_SERIAL_NUMBER_COCO"),
                 (fast_drives[2], "DRV_ID_SERIAL_NUMBER_COCO")]
        t0 = time.monotonic()
        got = axlink.read_many(items, timeout=0.1, return_exceptions=True)
        took = time.monotonic() - t0
        # The slow drive answers after 300 ms: a TimeoutError, not its value, says the
        # deadline ended its read; and not the link's own 2 s timeout either.
        assert took < 2.0, took
        assert got[0] == 6001 and got[2] == 6003
        assert isinstance(got[1], axlink.TimeoutError)
        assert SLOW in str(got[1])
        # Without return_exceptions the failure is raised, after every read ended.
        with pytest.raises(axlink.TimeoutError):
            axlink.read_many(items, timeout=0.1)
        # Its own timeout lets the slow drive answer.
        assert axlink.read_many(items, timeout=1.5) == [6001, 6021, 6003]


def test_batch__per_item_error_classes(fast_drives):
    got = axlink.read_many([(fast_drives[0], "DRV_RESTORE_COCO_ALL"),
                            (fast_drives[1], "DRV_ID_SERIAL_NUMBER_COCO")],
                           return_exceptions=True)
    assert isinstance(got[0], axlink.AccessError)
    assert got[1] == 6002


def test_batch__bad_items_raise_before_sending(fast_drives):
    with pytest.raises(axlink.InvalidArgumentError):
        axlink.read_many([fast_drives[0]])
    with pytest.raises(axlink.DictionaryError):
        axlink.read_many([(fast_drives[0], "NO_SUCH_REGISTER")])
