# SPDX-License-Identifier: MIT
"""The read fast path of the binding (issue 21): buffers made once per
register and reused, the checks still made, nothing kept alive by it."""
import pytest

import axlink
from axlink import _values


@pytest.fixture
def slots_made(monkeypatch):
    made = []
    real = _values.ReadSlot

    def counting(dtype):
        made.append(dtype)
        return real(dtype)

    monkeypatch.setattr(_values, "ReadSlot", counting)
    return made


def test_fastpath__reads_reuse_their_buffers(drive, slots_made):
    for _ in range(50):
        assert drive.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001
        assert drive.read_raw(0x6E6, "u32", 0) == 6001
    reg = drive.find("DRV_ID_VENDOR_ID_COCO")
    for _ in range(50):
        assert drive.read(reg) == 0xA71C
        assert drive.read("DRV_ID_SERIAL_NUMBER_COCO", 0) == 6001
    # One set of buffers per register and form of asking, not one per read.
    assert len(slots_made) == 4


def test_fastpath__every_dtype_decodes_as_before(drive):
    # Typed views (numbers) and the decoders (str) give what the dictionary says.
    assert isinstance(drive.read("DRV_APP_COCO_VERSION"), str)
    assert drive.read_raw(0x6E6, "s32", 0) == 6001
    assert drive.read_raw(0x6E6, "u16", 0) == 6001
    assert drive.read_raw(0x6E6, "u64", 0) == 6001
    f = drive.read_raw(0x6E6, "float", 0)
    assert isinstance(f, float) and 0 < f < 1e-40  # 6001 as float bits: a denormal


def test_fastpath__cached_reads_still_check_their_arguments(drive):
    assert drive.read_raw(0x6E6, "u32", 0) == 6001  # cached now
    with pytest.raises(axlink.InvalidArgumentError):
        drive.read_raw(0x6E6, "u32", -1)
    with pytest.raises((TypeError, axlink.InvalidArgumentError)):
        drive.read_raw(float(0x6E6), "u32", 0)
    with pytest.raises((TypeError, axlink.InvalidArgumentError)):
        drive.read_raw(0x6E6, "u32", True)
    with pytest.raises(TypeError):
        drive.read(["DRV_ID_SERIAL_NUMBER_COCO"])
    with pytest.raises(axlink.DictionaryError):
        drive.read("NO_SUCH_REGISTER")


def test_fastpath__closed_drive_refuses(uri):
    d = axlink.open(uri)
    assert d.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001
    d.close()
    with pytest.raises(axlink.StateError):
        d.read("DRV_ID_SERIAL_NUMBER_COCO")
    with pytest.raises(axlink.StateError):
        d.read_raw(0x6E6, "u32", 0)


def test_fastpath__a_kept_error_does_not_keep_the_drive_open(uri):
    # The frame of a failed read stays in the error's traceback: it must not
    # hold the drive, or opening the same URI again hands out that drive
    # (with its dictionary) whatever the options say.
    d1 = axlink.open(uri)
    with pytest.raises(axlink.NackError) as ei:
        d1.read_raw(0x123, "u32", subnode=0)
    d1.close()
    with axlink.open(uri, find_dictionary=False) as d2:
        assert d2.dictionary is None
    assert ei.value.drive_code == 0x06020000
