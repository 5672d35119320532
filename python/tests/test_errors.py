# SPDX-License-Identifier: MIT
"""Each exception class, raised by a real failure, with the C code and message."""
import builtins
import os

import pytest

import axlink
from axlink import errors
from axlink._native import ffi, lib
from conftest import CORRUPT, DEAD, FAST, NOBODY


def _codes():
    return {name: getattr(lib, name) for name in dir(lib)
            if name.startswith("AX_E") and isinstance(getattr(lib, name), int)
            and getattr(lib, name) < 0 and lib.ax_error_name(getattr(lib, name)) != ffi.NULL}


def test_errors__every_c_code_has_a_class_and_a_name():
    codes = _codes()
    assert len(codes) >= 20, codes
    for name, code in codes.items():
        if name == "AX_ERROR":
            continue
        cls = errors.class_for(code)
        assert issubclass(cls, axlink.Error)
        assert cls is not axlink.Error, f"{name} falls back to the base class"
        e = cls("msg", code)
        assert e.code_name == name
    assert errors.class_for(lib.AX_ERROR) is axlink.Error
    assert errors.class_for(-9999) is axlink.Error


def test_errors__timeout(sims):
    with pytest.raises(axlink.TimeoutError) as ei:
        axlink.open(f"eth://{DEAD}", timeout=0.1)
    e = ei.value
    assert isinstance(e, builtins.TimeoutError)  # the built-in catches it too
    assert e.code == lib.AX_ETIMEDOUT and e.code_name == "AX_ETIMEDOUT"
    assert DEAD in e.message and str(e) == e.message


def test_errors__corrupt_replies_are_never_taken(sims):
    # Every reply has a bad CRC: the transport discards them all and times out.
    with pytest.raises(axlink.TimeoutError):
        axlink.open(f"eth://{CORRUPT}", timeout=0.1)


def test_errors__nack_carries_the_drive_code_and_the_dictionary_text(drive):
    with pytest.raises(axlink.NackError) as ei:
        drive.read_raw(0x123, "u32", subnode=0)
    e = ei.value
    assert e.code == lib.AX_EDRIVE
    assert e.drive_code == 0x06020000
    assert e.drive_text == drive.dictionary.error_text(0x06020000) == "Register does not exist"
    assert "0x123" in e.message and e.drive_text in e.message

    with pytest.raises(axlink.NackError) as ei:
        drive.write_raw(0x6E6, "u32", 5, subnode=0)  # the serial number is read-only
    assert ei.value.drive_code == 0x06010000
    assert ei.value.drive_text.startswith("Incorrect access")


def test_errors__nack_without_a_dictionary_uses_the_common_text(uri):
    with axlink.open(uri, find_dictionary=False) as d:
        with pytest.raises(axlink.NackError) as ei:
            d.read_raw(0x123, "u32", subnode=0)
    assert ei.value.drive_text == "object does not exist"


def test_errors__connection_refused(sims):
    with pytest.raises(axlink.ConnectionError) as ei:
        axlink.open(f"eth://{NOBODY}", timeout=0.2)
    assert isinstance(ei.value, builtins.ConnectionError)
    assert ei.value.code == lib.AX_EIO
    assert "port unreachable" in ei.value.message


def test_errors__protocol_errors_from_the_codec():
    # The MCB codec is what the transports check replies with; a bad CRC and
    # a reply for another register come back as ProtocolError.
    frame = ffi.new("ax_mcb_frame *")
    good = bytes.fromhex("a1 00 16 01 21 00 00 00 00 00 00 00 c5 f7")
    assert errors.check(lib.ax_mcb_decode(frame, good, len(good))) == 0
    bad = bytearray(good)
    bad[4] ^= 1
    with pytest.raises(axlink.ProtocolError) as ei:
        errors.check(lib.ax_mcb_decode(frame, bytes(bad), len(bad)))
    assert ei.value.code == lib.AX_ECRC and isinstance(ei.value, axlink.ConnectionError)
    with pytest.raises(axlink.ProtocolError) as ei:
        errors.check(lib.ax_mcb_check_reply(frame, 1, 0x012))
    assert ei.value.code == lib.AX_EADDR


def test_errors__dictionary(drive, tmp_path, sims):
    with pytest.raises(axlink.DictionaryError, match="NO_SUCH_REGISTER") as ei:
        drive.read("NO_SUCH_REGISTER")
    assert ei.value.code == lib.AX_ENOTFOUND
    bad = tmp_path / "broken.xdf"
    bad.write_text("<IngeniaDictionary><Header><Version>3.0</Version></Header><Body>")
    with pytest.raises(axlink.DictionaryError, match="broken.xdf") as ei:
        axlink.load_dictionaries(bad)
    assert ei.value.code == lib.AX_EFORMAT
    with pytest.raises(axlink.DictionaryError, match="missing.xdf"):
        axlink.open(f"eth://{FAST[1]}", dictionary=tmp_path / "missing.xdf",
                    context=axlink.Context())


def test_errors__database(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(axlink.DatabaseError, match="junk.db") as ei:
        axlink.db.Database(junk)
    assert ei.value.code == lib.AX_ECORRUPT


def test_errors__plugin(tmp_path):
    with pytest.raises(axlink.PluginError, match="no transport plugin for scheme 'nosuch'") as ei:
        axlink.open("nosuch://x")
    assert "schemes served: " in ei.value.message and "eth" in ei.value.message
    fake = tmp_path / "axlink-transport-fake.so"
    fake.write_bytes(b"\x7fELF but not really" + bytes(200))
    ctx = axlink.Context(default_paths=False, env_paths=False)
    with pytest.raises(axlink.PluginError, match="axlink-transport-fake.so") as ei:
        ctx.load_plugin(fake)
    assert ei.value.code == lib.AX_EIO
    report = ctx.plugins()
    assert report[-1].path == str(fake) and report[-1].status == "dlopen-error"
    assert not report[-1].loaded


def test_errors__plugin_abi_refused():
    plugin_dir = os.environ.get("AXLINK_TEST_PLUGIN_DIR")
    assert plugin_dir, "AXLINK_TEST_PLUGIN_DIR (the loader's test plugins) must be set (ctest sets it)"
    path = os.path.join(plugin_dir, "axlink-transport-testmajor.so")
    ctx = axlink.Context(default_paths=False, env_paths=False)
    with pytest.raises(axlink.PluginError) as ei:
        ctx.load_plugin(path)
    assert ei.value.code == lib.AX_EABI
    row = ctx.plugins()[-1]
    assert row.status == "refused-abi" and row.abi[0] == 2 and row.message


def test_errors__state(uri, tmp_db):
    d = axlink.open(uri)
    d.close()
    with pytest.raises(axlink.StateError) as ei:
        d.read("DRV_ID_SERIAL_NUMBER_COCO")
    assert ei.value.code is None and ei.value.code_name is None
    ctx = axlink.Context()
    ctx.close()
    with pytest.raises(axlink.StateError):
        ctx.plugins()
    with pytest.raises(axlink.StateError):
        axlink.open(uri, context=ctx)
    db = axlink.db.Database(tmp_db, create=True)
    db.close()
    with pytest.raises(axlink.StateError):
        db.list()


def test_errors__not_found(tmp_path, tmp_db):
    with pytest.raises(axlink.NotFoundError, match="missing.db") as ei:
        axlink.db.Database(tmp_path / "missing.db")
    assert isinstance(ei.value, LookupError)
    with axlink.db.Database(tmp_db, create=True) as db:
        with pytest.raises(axlink.NotFoundError):
            db.load(9999)


def test_errors__invalid_argument(sims):
    with pytest.raises(axlink.InvalidArgumentError, match="99999") as ei:
        axlink.open(f"eth://{FAST[0]}:99999")
    assert ei.value.code == lib.AX_EINVAL and isinstance(ei.value, ValueError)
    with pytest.raises(axlink.InvalidArgumentError, match="valid keys") as ei:
        axlink.open(f"eth://{FAST[0]}?bogus=1")
    assert ei.value.code == lib.AX_EUNKNOWNKEY


def test_errors__range(drive):
    reg = drive.dictionary["COMMS_WATCHDOG_TIMEOUT"]
    lo, hi = reg.range
    with pytest.raises(axlink.RangeError) as ei:
        drive.write(reg, hi + 1)
    assert ei.value.code == lib.AX_ERANGE  # the C library checks the dictionary's range
    assert str(hi) in ei.value.message


def test_errors__type_mismatch_strict_identity(sims, devices_dir):
    with pytest.raises(axlink.TypeMismatchError) as ei:
        axlink.open(f"eth://{FAST[1]}", dictionary=devices_dir / "axs-200.xdf", strict=True,
                    context=axlink.Context())
    assert ei.value.code == lib.AX_ETYPE and isinstance(ei.value, TypeError)


def test_errors__access(drive):
    with pytest.raises(axlink.AccessError, match="read-only") as ei:
        drive.write("DRV_ID_SERIAL_NUMBER_COCO", 5)
    assert ei.value.code == lib.AX_EACCESS
    with pytest.raises(axlink.AccessError, match="write-only"):
        drive.read("DRV_RESTORE_COCO_ALL")


def test_errors__unsupported():
    with axlink.open("virtual:") as d:
        with pytest.raises(axlink.UnsupportedError, match="cannot cancel") as ei:
            d.cancel()
    assert ei.value.code == lib.AX_EUNSUPPORTED


def test_errors__out_of_memory_is_a_memory_error():
    # Cannot be provoked from Python; the class must still be a MemoryError.
    cls = errors.class_for(lib.AX_ENOMEM)
    assert cls is axlink.OutOfMemoryError and issubclass(cls, MemoryError)


# ---- the error class: which module detected the failure ----

def test_errors__class_and_code_pick_the_exception_not_the_message():
    # AX_ENOTFOUND means three things; the class tells which.
    assert errors.class_for(lib.AX_ENOTFOUND, lib.AX_ERRCLASS_DICT) is axlink.DictionaryError
    assert errors.class_for(lib.AX_ENOTFOUND, lib.AX_ERRCLASS_PLUGIN) is axlink.PluginError
    assert errors.class_for(lib.AX_ENOTFOUND, lib.AX_ERRCLASS_DB) is axlink.NotFoundError
    assert errors.class_for(lib.AX_ENOTFOUND) is axlink.NotFoundError
    assert errors.class_for(lib.AX_EFORMAT, lib.AX_ERRCLASS_DB) is axlink.DictionaryFormatError
    assert errors.class_for(lib.AX_ECORRUPT, lib.AX_ERRCLASS_DB) is axlink.CorruptDatabaseError
    assert issubclass(axlink.DictionaryFormatError, axlink.DictionaryError)
    assert issubclass(axlink.CorruptDatabaseError, axlink.DatabaseError)
    assert lib.ax_error_class_name(lib.AX_ERRCLASS_TRANSPORT) != ffi.NULL


def test_errors__class_argument_for_a_bad_uri(sims):
    with pytest.raises(axlink.InvalidArgumentError) as ei:
        axlink.open(f"eth://{FAST[1]}?nosuchkey=1")
    assert ei.value.code == lib.AX_EUNKNOWNKEY
    assert ei.value.error_class == lib.AX_ERRCLASS_ARGUMENT
    assert ei.value.class_name == "AX_ERRCLASS_ARGUMENT"


def test_errors__class_transport_for_a_timeout(sims):
    with pytest.raises(axlink.TimeoutError) as ei:
        axlink.open(f"eth://{DEAD}", timeout=0.1)
    assert ei.value.error_class == lib.AX_ERRCLASS_TRANSPORT


def test_errors__class_dict_for_a_malformed_file_in_an_import(tmp_path):
    bad = tmp_path / "broken.xdf"
    bad.write_text("<IngeniaDictionary><Header><Version>3.0</Version></Header><Body>")
    with axlink.db.Database(tmp_path / "devices.db", create=True) as database:
        with pytest.raises(axlink.DictionaryFormatError) as ei:
            database.import_file(bad)
    assert ei.value.code == lib.AX_EFORMAT
    assert ei.value.error_class == lib.AX_ERRCLASS_DICT


def test_errors__class_dict_for_a_missing_dictionary_file(tmp_path, sims):
    with pytest.raises(axlink.DictionaryError) as ei:
        axlink.open(f"eth://{FAST[1]}", dictionary=tmp_path / "missing.xdf",
                    context=axlink.Context())
    assert ei.value.code == lib.AX_ENOTFOUND
    assert ei.value.error_class == lib.AX_ERRCLASS_DICT


def test_errors__class_db_for_a_corrupt_database(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\0" + bytes(range(256)) * 16)
    with pytest.raises(axlink.CorruptDatabaseError) as ei:
        axlink.db.Database(junk)
    assert ei.value.code == lib.AX_ECORRUPT and ei.value.error_class == lib.AX_ERRCLASS_DB
