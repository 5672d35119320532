# SPDX-License-Identifier: MIT
"""Opening drives and using their registers, over UDP and in process."""
import math
import os

import pytest

import axlink
from conftest import AXS100, AXS200, FAST, TWO_AXES, VENDOR


def test_drive__info_names_identity_dictionary_and_match(drive):
    info = drive.info
    assert info.uri == f"eth://{FAST[0]}"
    assert info.scheme == "eth"
    assert (info.identity.vendor_id, info.identity.product_code,
            info.identity.revision) == (VENDOR, *AXS100)
    assert info.identity.serial == 6001
    assert info.identity.sw_version.startswith("axs-100")
    assert info.model == "axs-100"
    assert info.match == "exact"
    assert "exact" in info.match_reason
    assert info.dictionary_source.startswith("db:")
    assert info.axes == 1
    text = str(info)
    assert "axs-100" in text and "serial 6001" in text


def test_drive__read_by_name_gives_the_dtype_python_type(drive):
    assert drive.read("DRV_ID_VENDOR_ID_COCO") == VENDOR
    assert drive.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001
    version = drive.read("DRV_APP_COCO_VERSION")
    assert isinstance(version, str) and version.startswith("axs-100")
    vbus = drive.read("DRV_PROT_VBUS_VALUE")
    assert isinstance(vbus, float) and vbus > 0
    status = drive.read("DRV_STATE_STATUS")
    assert isinstance(status, int)
    user = drive.read("DRV_USER_DATA")
    assert isinstance(user, bytes)


def test_drive__write_then_read_round_trips_each_type(drive):
    drive.write("PROF_MAX_VEL", 12.5)
    assert drive.read("PROF_MAX_VEL") == 12.5
    drive.write("PROF_MAX_VEL", 3)  # an int for a float register
    assert drive.read("PROF_MAX_VEL") == 3.0
    drive.write("PROF_POS_WINDOW", 1234)
    assert drive.read("PROF_POS_WINDOW") == 1234
    drive.write("PROF_POS_WINDOW", 77.0)  # an integral float for an integer register
    assert drive.read("PROF_POS_WINDOW") == 77
    drive.write("CL_POS_SET_POINT_VALUE", -123456)  # s32
    assert drive.read("CL_POS_SET_POINT_VALUE") == -123456
    payload = bytes(range(40))
    drive.write("DRV_USER_DATA", payload)
    assert drive.read("DRV_USER_DATA")[:40] == payload


def test_drive__write_takes_an_enum_label(drive):
    reg = drive.dictionary["DRV_OP_CMD"]
    drive.write("DRV_OP_CMD", "profile velocity")
    assert drive.read(reg) == reg.enum_value("Profile velocity") == 19
    with pytest.raises(axlink.DictionaryError, match="no enum value 'warp'"):
        drive.write("DRV_OP_CMD", "warp")


def test_drive__refuses_values_that_do_not_fit_before_sending(drive):
    with pytest.raises(axlink.RangeError, match="does not fit u32"):
        drive.write("PROF_POS_WINDOW", -1)
    with pytest.raises(axlink.TypeMismatchError, match="not an integer"):
        drive.write("PROF_POS_WINDOW", 1.5)
    with pytest.raises(axlink.TypeMismatchError, match="takes a number"):
        drive.write("PROF_MAX_VEL", "fast")
    with pytest.raises(axlink.RangeError, match="32-bit float"):
        drive.write("PROF_MAX_VEL", 1e300)
    with pytest.raises(axlink.TypeMismatchError, match="takes bytes"):
        drive.write("DRV_USER_DATA", "text")
    with pytest.raises(axlink.RangeError, match="over the 512-byte limit"):
        drive.write("DRV_USER_DATA", bytes(513))


# A float register keeps what it is given or refuses it: no NaN or infinity unless
# asked, nothing beyond float, nothing that would be stored as 0; with or without a
# dictionary range (PROF_QUICK_STOP_DEC has one, CL_VEL_SET_POINT_VALUE none).
@pytest.mark.parametrize("value,words", [
    (math.nan, "not finite"), (math.inf, "not finite"), (-math.inf, "not finite"),
    (1e39, "beyond a 32-bit float"), (-1e39, "beyond a 32-bit float"),
    pytest.param(10**400, "beyond a 32-bit float", id="10**400"),
    (1e-50, "stored as 0"), (-1e-50, "stored as 0"),
])
def test_drive__float_register_refuses_what_it_would_not_keep(drive, value, words):
    drive.write("CL_VEL_SET_POINT_VALUE", 2.5)
    with pytest.raises(axlink.RangeError, match=words) as ei:
        drive.write("CL_VEL_SET_POINT_VALUE", value)
    assert ei.value.code == axlink._native.lib.AX_ERANGE
    assert "CL_VEL_SET_POINT_VALUE" in str(ei.value)
    with pytest.raises(axlink.RangeError, match=words):
        drive.write("PROF_QUICK_STOP_DEC", value)
    with pytest.raises(axlink.RangeError, match=words):
        drive.write_raw(0x021, "float", value)
    with pytest.raises(axlink.RangeError, match=words):
        drive.axes[1].write("CL_VEL_SET_POINT_VALUE", value)
    assert drive.read("CL_VEL_SET_POINT_VALUE") == 2.5


def test_drive__float_register_keeps_a_subnormal(drive):
    drive.write("CL_VEL_SET_POINT_VALUE", 1e-40)
    v = drive.read("CL_VEL_SET_POINT_VALUE")
    assert v != 0 and math.isclose(v, 1e-40, rel_tol=1e-3)
    drive.write("CL_VEL_SET_POINT_VALUE", 0.0)


def test_drive__allow_nonfinite_writes_nan_and_infinity(drive):
    try:
        with pytest.raises(axlink.RangeError, match="allow_nonfinite=True"):
            drive.write("CL_VEL_SET_POINT_VALUE", math.nan)
        drive.write("CL_VEL_SET_POINT_VALUE", math.nan, allow_nonfinite=True)
        assert math.isnan(drive.read("CL_VEL_SET_POINT_VALUE"))
        drive.write("CL_VEL_SET_POINT_VALUE", -math.inf, allow_nonfinite=True)
        assert drive.read("CL_VEL_SET_POINT_VALUE") == -math.inf
        drive.write_raw(0x021, "float", math.inf, allow_nonfinite=True)
        assert drive.read_raw(0x021, "float") == math.inf
        drive.axes[1].write("CL_VEL_SET_POINT_VALUE", math.nan, allow_nonfinite=True)
        assert math.isnan(drive.read("CL_VEL_SET_POINT_VALUE"))
        # The opt-in is for NaN and infinity, not for values lost on the way.
        with pytest.raises(axlink.RangeError, match="stored as 0"):
            drive.write("CL_VEL_SET_POINT_VALUE", 1e-50, allow_nonfinite=True)
        with pytest.raises(axlink.RangeError, match="beyond a 32-bit float"):
            drive.write("CL_VEL_SET_POINT_VALUE", 1e39, allow_nonfinite=True)
        # The dictionary's range still applies: infinity lies in no finite range.
        with pytest.raises(axlink.RangeError, match="range"):
            drive.write("PROF_QUICK_STOP_DEC", math.inf, allow_nonfinite=True)
    finally:
        drive.write("CL_VEL_SET_POINT_VALUE", 0.0)


def test_drive__read_and_write_by_register_object(drive):
    reg = drive.dictionary["PROF_MAX_ACC"]
    drive.write(reg, 250.0)
    assert drive.read(reg) == 250.0
    assert drive.find("PROF_MAX_ACC") == reg


def test_drive__register_of_another_dictionary_is_used_by_its_address(drive, devices_dir):
    other = axlink.load_dictionary(devices_dir / "axs-100.xdf", "ETH")
    reg = other["DRV_ID_SERIAL_NUMBER_COCO"]
    assert drive.read(reg) == 6001


def test_drive__raw_access_by_address(drive):
    assert drive.read_raw(0x6E6, "u32", subnode=0) == 6001
    assert drive.read_raw(0x6E0, axlink._values.U32, subnode=0) == VENDOR
    drive.write_raw(0x025, "float", 42.25)  # PROF_MAX_VEL, subnode 1
    assert drive.read("PROF_MAX_VEL") == 42.25
    assert math.isclose(drive.read_raw(0x025, "float"), 42.25)
    with pytest.raises(ValueError, match="unknown dtype 'u33'"):
        drive.read_raw(0x6E6, "u33")
    with pytest.raises(axlink.InvalidArgumentError, match="address -1"):
        drive.read_raw(-1, "u32")
    with pytest.raises(axlink.InvalidArgumentError, match="outside the MCB range"):
        drive.read_raw(0x1000, "u32")


def test_drive__two_axes_by_subnode(sims):
    with axlink.open(f"eth://{TWO_AXES}") as d:
        assert d.info.axes == 2
        assert (d.info.identity.product_code, d.info.identity.revision) == AXS200
        assert sorted(d.axes) == [1, 2]
        d.axes[1].write("PROF_MAX_VEL", 1.5)
        d.axes[2].write("PROF_MAX_VEL", 2.5)
        assert d.read("PROF_MAX_VEL", subnode=1) == 1.5
        assert d.axes[2].read("PROF_MAX_VEL") == 2.5
        assert d.axes[2].read_raw(0x025, "float") == 2.5
        with pytest.raises(axlink.DictionaryError, match="subnode 3"):
            d.read("PROF_MAX_VEL", subnode=3)


def test_drive__virtual_transport_in_process():
    with axlink.open("virtual:?model=axs-200") as d:
        assert d.info.scheme == "virtual"
        assert d.info.model == "axs-200"
        assert d.info.axes == 2
        d.write("PROF_MAX_DEC", 99.0, subnode=2)
        assert d.read("PROF_MAX_DEC", subnode=2) == 99.0


def test_drive__without_a_dictionary_only_raw_access(uri):
    with axlink.open(uri, find_dictionary=False) as d:
        assert d.dictionary is None
        assert d.info.match == "none"
        assert d.read_raw(0x6E6, "u32", subnode=0) == 6001
        with pytest.raises(axlink.DictionaryError):
            d.read("DRV_ID_SERIAL_NUMBER_COCO")


def test_drive__open_options_decide_the_dictionary_of_an_open_drive(devices_dir):
    """A URI already open, opened again with other dictionary options, gets
    those options: not the drive opened first, but one on the same link."""
    uri = "virtual:?serial=691"
    with axlink.open(uri) as a, axlink.open(uri, find_dictionary=False) as b, \
            axlink.open(uri, dictionary=devices_dir / "axs-200.xdf") as c:
        assert a.dictionary is not None and a.info.match == "exact"
        assert b.dictionary is None and b.info.match == "none"
        with pytest.raises(axlink.DictionaryError):
            b.read("CL_POS_SET_POINT_VALUE")
        assert c.info.match == "file" and c.info.model == "axs-200"
        # One drive behind them all: what one writes, the others read.
        a.write("CL_POS_SET_POINT_VALUE", 691)
        assert b.read_raw(0x020, "s32") == 691
        assert c.read("CL_POS_SET_POINT_VALUE") == 691
        # The same options again: the first one's dictionary, as before.
        with axlink.open(uri) as again:
            assert again.info.match == "exact" and again.dictionary.name == "axs-100"


def test_drive__dictionary_file_named_by_the_caller(sims, devices_dir):
    with axlink.open(f"eth://{FAST[2]}", dictionary=devices_dir / "axs-100.xdf") as d:
        assert d.info.match == "file"
        assert d.info.dictionary_source.endswith("axs-100.xdf")
        assert d.read("DRV_ID_SERIAL_NUMBER_COCO") == 6003


def test_drive__dictionary_file_serves_a_drive_without_identity(devices_dir):
    """The test transport answers 'object does not exist' for the identity
    registers: the named file is then what says what the drive is."""
    plugin_dir = os.environ.get("AXLINK_TEST_PLUGIN_DIR")
    assert plugin_dir, "AXLINK_TEST_PLUGIN_DIR must be set (ctest sets it)"
    ctx = axlink.Context(default_paths=False, env_paths=False)
    ctx.load_plugin(os.path.join(plugin_dir, "axlink-transport-testgood.so"))
    uri = "testgood:?cells=16"
    with pytest.raises(axlink.NackError):
        axlink.open(uri, context=ctx)
    with pytest.raises(axlink.NackError):
        axlink.open(uri, dictionary=devices_dir / "axs-100.xdf", context=ctx, strict=True)
    with axlink.open(uri, dictionary=devices_dir / "axs-100.xdf", context=ctx) as d:
        assert d.info.match == "file" and "no identity" in d.info.match_reason
        assert d.info.identity.product_code == 0 and d.info.identity.serial is None
        # DRV_DIAG_ERROR_LAST: subnode 1, 0x00F, s32, one of the transport's cells.
        d.write_raw(0x00F, "s32", -77)
        assert d.read("DRV_DIAG_ERROR_LAST") == -77


def test_drive__timeout_property(drive):
    drive.timeout = 0.25
    assert drive.timeout == 0.25
    with pytest.raises(ValueError):
        drive.timeout = 0
    with pytest.raises(TypeError):
        drive.timeout = "1"


def test_drive__close_is_idempotent_and_later_use_raises_state_error(uri):
    d = axlink.open(uri)
    with d:
        assert d.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001
    assert d.closed
    d.close()
    d.close()
    for op in (lambda: d.read("DRV_ID_SERIAL_NUMBER_COCO"),
               lambda: d.read_raw(0x6E6, "u32", 0),
               lambda: d.write("PROF_MAX_VEL", 1.0),
               lambda: d.timeout):
        with pytest.raises(axlink.StateError, match="closed"):
            op()
    # What was learnt at open stays readable.
    assert d.info.identity.serial == 6001
    assert "closed" in repr(d)


def test_drive__reopening_the_same_uri_is_independent(uri):
    a = axlink.open(uri)
    b = axlink.open(uri)
    a.close()
    assert b.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001
    b.close()
