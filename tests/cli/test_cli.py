# SPDX-License-Identifier: MIT
"""End-to-end tests of the axlink command line against the in-process virtual drive.

Each CLI call opens a fresh virtual drive, so a write is not visible to a later
call: write tests check what the write itself reports.
"""
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

# Identity of the simulated drives (tools/sim/drive/simdrive.h, tools/sim/drive/simdrive.c).
VENDOR_ID = 0x0000A71C            # SIMDRIVE_VENDOR_ID
AXS100_PRODUCT_CODE = 0x00010064  # model axs-100, the virtual transport's default

# MCB drive error codes (DESIGN §5).
CODE_NO_OBJECT = "0x06020000"
CODE_BAD_ACCESS = "0x06010000"


def header_plugin_abi():
    """The plugin ABI of this source tree, which in-tree plugins are built against."""
    header = os.path.join(os.path.dirname(__file__), "..", "..", "include", "axlink",
                          "plugin.h")
    with open(header, encoding="utf-8") as f:
        text = f.read()
    major = re.search(r"#define AX_PLUGIN_ABI_MAJOR (\d+)", text)
    minor = re.search(r"#define AX_PLUGIN_ABI_MINOR (\d+)", text)
    assert major and minor, f"no AX_PLUGIN_ABI_MAJOR/MINOR in {header}"
    return f"{major.group(1)}.{minor.group(1)}"


PLUGIN_KEYS = {"path", "scheme", "name", "version", "abi", "status", "message", "warnings"}
PLUGIN_TEXT_KEYS = PLUGIN_KEYS - {"warnings"}
VALUE_KEYS = ["uri", "subnode", "address", "type", "value"]


def virtual_row(rows):
    loaded = [r for r in rows if r.get("scheme") == "virtual" and r.get("status") == "loaded"]
    assert len(loaded) == 1, f"want exactly one loaded virtual plugin in {rows}"
    return loaded[0]


def assert_usage_error(r, *words):
    assert r.code == 2, r
    assert r.no_result(), r
    assert "usage: axlink" in r.err, r
    for w in words:
        assert w in r.err, f"{w!r} missing from stderr: {r}"


def assert_failure(r, *words):
    assert r.code == 1, r
    assert r.no_result(), r
    assert r.err.startswith("axlink: "), r
    for w in words:
        assert w in r.err, f"{w!r} missing from stderr: {r}"


# ---- plugins ----------------------------------------------------------------

def test_plugins_json_has_loaded_virtual_row_with_all_keys(axlink):
    r = axlink("plugins", "--json")
    assert r.code == 0, r
    rows = r.json()
    assert isinstance(rows, list) and rows, r
    for row in rows:
        assert set(row) == PLUGIN_KEYS, row
        # Text, or null when absent (a loaded plugin has no message): never "".
        assert all(isinstance(row[k], str) and row[k] != "" or row[k] is None
                   for k in PLUGIN_TEXT_KEYS), row
        assert row["warnings"] == [], row
        assert re.fullmatch(r"\d+\.\d+", row["abi"]), row
    v = virtual_row(rows)
    assert os.path.basename(v["path"]) == "axlink-transport-virtual.so", v
    assert os.path.isfile(v["path"]), v
    assert v["abi"] == header_plugin_abi(), v
    assert v["message"] is None, v
    assert v["name"] and v["version"], v


def test_plugins_text_lists_virtual(axlink):
    r = axlink("plugins")
    assert r.code == 0, r
    path = virtual_row(axlink("plugins", "--json").json())["path"]
    lines = [ln for ln in r.out.splitlines() if path in ln]
    assert len(lines) >= 1, r
    fields = lines[0].split()
    assert fields[0] == "loaded" and fields[1] == "virtual", lines[0]


def test_plugins_plugin_dir_searched_first(axlink, tmp_path):
    """A folder given with --plugin-dir wins over the build tree's copy, which is shadowed."""
    built = virtual_row(axlink("plugins", "--json").json())["path"]
    copy = tmp_path / os.path.basename(built)
    shutil.copy(built, copy)
    empty = tmp_path / "empty"
    empty.mkdir()
    r = axlink("plugins", "--json", "--plugin-dir", empty, "--plugin-dir", tmp_path)
    assert r.code == 0, r
    rows = r.json()
    assert virtual_row(rows)["path"] == str(copy), rows
    shadowed = [x for x in rows if x["scheme"] == "virtual" and x["status"] == "shadowed"]
    assert [x["path"] for x in shadowed] == [built], rows
    assert shadowed[0]["message"], shadowed


def test_plugins_reports_refused_files(axlink):
    """Files the loader refuses are listed with the reason, and the command still succeeds."""
    folder = os.environ.get("AXLINK_TEST_PLUGIN_DIR")
    assert folder, "AXLINK_TEST_PLUGIN_DIR (the tests/plugins build folder) must be set"
    r = axlink("plugins", "--json", "--plugin-dir", folder)
    assert r.code == 0, r
    rows = {os.path.basename(x["path"]): x for x in r.json()}
    major = rows["axlink-transport-testmajor.so"]
    assert major["status"] == "refused-abi", major
    assert major["abi"].split(".")[0] != header_plugin_abi().split(".")[0], major
    assert major["abi"] in major["message"], major
    broken = rows["axlink-transport-testbroken.so"]
    assert broken["status"] == "dlopen-error" and broken["message"], broken
    assert rows["axlink-transport-testgood.so"]["status"] == "loaded", rows
    t = axlink("plugins", "--plugin-dir", folder)
    assert t.code == 0, t
    line = [ln for ln in t.out.splitlines() if ln.endswith(major["message"])]
    assert len(line) == 1 and line[0].split()[0] == "refused-abi", t


def test_plugins_override_of_builtin_is_a_warning(axlink):
    """A --plugin-dir plugin replacing a built-in transport loads, flagged in text and JSON."""
    folder = os.path.join(os.environ["AXLINK_TEST_PLUGIN_DIR"], "override")
    mine = os.path.join(folder, "axlink-transport-ovvirtual.so")
    r = axlink("plugins", "--json", "--plugin-dir", folder)
    assert r.code == 0, r
    rows = r.json()
    row = virtual_row(rows)
    assert row["path"] == mine, rows
    assert row["warnings"] == ["overrides-builtin"], row
    assert "overrides the built-in 'virtual'" in row["message"], row
    assert "warn" in r.err and "overrides the built-in" in r.err, r
    assert all(x["warnings"] == [] for x in rows if x is not row), rows
    t = axlink("plugins", "--plugin-dir", folder)
    assert t.code == 0, t
    line = [ln for ln in t.out.splitlines() if ln.split()[3] == mine]
    assert len(line) == 1, t
    assert line[0].split()[0] == "loaded" and "warning: overrides the built-in" in line[0], t


def test_plugins_untrusted_and_fifo_listed_without_hanging(axlink, tmp_path):
    """A FIFO named like a plugin and a group-writable plugin: listed, never opened."""
    folder = tmp_path / "plugins"
    folder.mkdir(mode=0o755)
    os.mkfifo(folder / "axlink-transport-x.so")
    good = os.path.join(os.environ["AXLINK_TEST_PLUGIN_DIR"], "axlink-transport-testgood.so")
    copy = folder / "axlink-transport-testgood.so"
    shutil.copy(good, copy)
    os.chmod(copy, 0o664)
    r = axlink("plugins", "--json", "--plugin-dir", folder)  # times out if it blocks
    assert r.code == 0, r
    rows = {os.path.basename(x["path"]): x for x in r.json()}
    fifo = rows["axlink-transport-x.so"]
    assert fifo["status"] == "invalid" and "not a regular file" in fifo["message"], fifo
    mine = rows["axlink-transport-testgood.so"]
    assert mine["status"] == "untrusted", mine
    assert f"chmod go-w {copy}" in mine["message"], mine
    os.chmod(copy, 0o644)
    os.chmod(folder, 0o1777)
    r = axlink("plugins", "--json", "--plugin-dir", folder)
    assert r.code == 0, r
    rows = {os.path.basename(x["path"]): x for x in r.json()}
    assert rows["axlink-transport-testgood.so"]["status"] == "untrusted", rows
    assert f"chmod o-w {folder}" in rows["axlink-transport-testgood.so"]["message"], rows
    os.chmod(folder, 0o755)


def test_db_import_fifo_is_refused(axlink, tmp_path):
    """A FIFO given as a dictionary or a database fails at once (before: hung forever)."""
    fifo = tmp_path / "drive.xdf"
    os.mkfifo(fifo)
    db = tmp_path / "devices.db"
    r = axlink("db", "import", fifo, "--db", db)  # times out if it blocks
    assert r.code == 1, r
    assert f"'{fifo}' is not a regular file" in r.err, r
    dbfifo = tmp_path / "fifo.db"
    os.mkfifo(dbfifo)
    r = axlink("db", "list", "--db", dbfifo)
    assert r.code == 1, r
    assert "not a regular file" in r.err and str(dbfifo) in r.err, r
    r = axlink("read", "virtual:", "DRV_OP_CMD", "--dict", fifo)
    assert_failure(r, f"'{fifo}' is not a regular file")


def test_plugin_dir_missing_is_an_error(axlink, tmp_path):
    missing = tmp_path / "nowhere"
    r = axlink("plugins", "--plugin-dir", missing)
    assert_failure(r, str(missing))


def test_verbose_raises_log_level(axlink):
    quiet = axlink("plugins", "--json")
    assert quiet.code == 0 and quiet.err == "", quiet
    loud = axlink("-vv", "plugins", "--json")
    assert loud.code == 0, loud
    assert "debug" in loud.err, loud
    assert loud.json() == quiet.json(), loud


def test_verbose_logs_stay_off_stdout(axlink):
    r = axlink("-vvv", "read", "virtual:", "0x6E1:u32", "--subnode", "0", "--json", "-v")
    assert r.code == 0, r
    assert r.json()["value"] == AXS100_PRODUCT_CODE, r
    r = axlink("plugins", "--json", "-vvv")
    assert r.code == 0, r
    virtual_row(r.json())


# ---- read -------------------------------------------------------------------

def test_read_product_code_json(axlink):
    r = axlink("read", "virtual:", "0x6E1:u32", "--subnode", "0", "--json")
    assert r.code == 0, r
    obj = r.json()
    assert list(obj) == VALUE_KEYS, obj
    assert obj == {"uri": "virtual:", "subnode": 0, "address": "0x6E1", "type": "u32",
                   "value": AXS100_PRODUCT_CODE}
    assert isinstance(obj["value"], int)


def test_read_product_code_text_is_value_alone(axlink):
    r = axlink("read", "virtual:", "0x6E1:u32", "--subnode", "0")
    assert r.code == 0, r
    assert r.out == f"{AXS100_PRODUCT_CODE}\n", r


def test_read_product_code_depends_on_model(axlink):
    def code(uri):
        r = axlink("read", uri, "0x6E1:u32", "--subnode", "0", "--json")
        assert r.code == 0, r
        return r.json()["value"]

    assert code("virtual:?model=axs-100") == AXS100_PRODUCT_CODE
    other = code("virtual:?model=axs-200")
    assert other != AXS100_PRODUCT_CODE and other > 0


def test_read_vendor_id(axlink):
    r = axlink("read", "virtual:", "0x6E0:u32", "--subnode", "0", "--json")
    assert r.code == 0, r
    assert r.json()["value"] == VENDOR_ID, r


def test_read_decimal_address_and_options_first(axlink):
    # 1761 == 0x6E1; options may come before the positionals.
    r = axlink("read", "--json", "--subnode", "0", "virtual:", "1761:u32")
    assert r.code == 0, r
    obj = r.json()
    assert obj["address"] == "0x6E1" and obj["value"] == AXS100_PRODUCT_CODE, obj


def test_read_serial_number_from_uri(axlink):
    r = axlink("read", "virtual:?serial=4242", "0x6E6:u32", "--subnode", "0", "--json")
    assert r.code == 0, r
    assert r.json()["value"] == 4242, r


def test_read_software_version_string(axlink):
    r = axlink("read", "virtual:", "0x6E4:str", "--json")
    assert r.code == 0, r
    obj = r.json()
    assert obj["type"] == "str" and obj["subnode"] == 1, obj
    assert isinstance(obj["value"], str) and obj["value"].strip(), obj
    t = axlink("read", "virtual:", "0x6E4:str")
    assert t.code == 0, t
    assert t.out == obj["value"] + "\n", t


def test_read_as_bytes_is_little_endian_hex(axlink):
    r = axlink("read", "virtual:", "0x6E1:bytes", "--subnode", "0", "--json")
    assert r.code == 0, r
    obj = r.json()
    assert obj["type"] == "bytes", obj
    assert isinstance(obj["value"], str), obj
    # 0x00010064 little-endian, then whatever padding the reply carries.
    assert obj["value"].lower().startswith("64000100"), obj


def test_read_with_timeout(axlink):
    r = axlink("read", "virtual:", "0x6E0:u32", "--subnode", "0", "--timeout-ms", "500")
    assert r.code == 0, r
    assert r.out == f"{VENDOR_ID}\n", r


# ---- write ------------------------------------------------------------------

def test_write_json_echoes_value(axlink):
    r = axlink("write", "virtual:", "0x020:s32", "1234", "--json")
    assert r.code == 0, r
    obj = r.json()
    assert list(obj) == VALUE_KEYS, obj
    assert obj == {"uri": "virtual:", "subnode": 1, "address": "0x020", "type": "s32",
                   "value": 1234}


def test_write_text_says_ok(axlink):
    r = axlink("write", "virtual:", "0x020:s32", "0x10")
    assert r.code == 0, r
    assert r.out == "ok\n", r


def test_write_negative_value_needs_no_double_dash(axlink):
    r = axlink("write", "virtual:", "0x020:s32", "-1000", "--json")
    assert r.code == 0, r
    assert r.json()["value"] == -1000, r
    r = axlink("write", "virtual:", "0x020:s32", "--json", "--", "-7")
    assert r.code == 0, r
    assert r.json()["value"] == -7, r


def test_write_float_is_json_real(axlink):
    r = axlink("write", "virtual:", "0x01A:float", "1.5", "--json")
    assert r.code == 0, r
    value = r.json()["value"]
    assert isinstance(value, float) and value == 1.5, r


# A float register gets no NaN or infinity unless asked, and no value it would lose
# (beyond float, or nonzero yet stored as 0), with or without a dictionary range.
@pytest.mark.parametrize("args,words", [
    (["0x021:float", "nan"], ["'nan'", "not finite", "--allow-nonfinite"]),
    (["0x021:float", "inf"], ["'inf'", "not finite", "--allow-nonfinite"]),
    (["0x021:float", "--", "-inf"], ["'-inf'", "not finite", "--allow-nonfinite"]),
    (["CL_VEL_SET_POINT_VALUE", "nan"], ["'nan'", "not finite", "CL_VEL_SET_POINT_VALUE",
                                         "--allow-nonfinite"]),
    (["PROF_QUICK_STOP_DEC", "nan"], ["'nan'", "not finite", "PROF_QUICK_STOP_DEC"]),
    (["CL_VEL_SET_POINT_VALUE", "1e39"], ["'1e39'", "3.40282347e+38"]),
    (["CL_VEL_SET_POINT_VALUE", "1e-50"], ["'1e-50'", "stored as 0"]),
    (["0x021:float", "1e-50", "--allow-nonfinite"], ["'1e-50'", "stored as 0"]),
    (["0x021:float", "1e39", "--allow-nonfinite"], ["'1e39'", "3.40282347e+38"]),
])
def test_write_float_refuses_values_it_would_not_keep(axlink, args, words):
    r = axlink("write", "virtual:", "--json", *args)
    assert_usage_error(r, *words)
    if "--allow-nonfinite" in args:
        assert "--allow-nonfinite writes it" not in r.err, r


def test_write_float_keeps_a_subnormal(axlink):
    r = axlink("write", "virtual:", "0x021:float", "1e-40", "--json")
    assert r.code == 0, r
    assert r.json()["value"] == pytest.approx(1e-40, rel=1e-3), r


def test_write_allow_nonfinite_writes_and_reads_back(axlink, sim_drives):
    uri = sim_drives[1]
    try:
        for value in ("nan", "inf", "-inf"):
            r = axlink("write", uri, "CL_VEL_SET_POINT_VALUE", "--allow-nonfinite", "--json",
                       "--", value)
            assert r.code == 0, r
            assert r.json()["value"] == value, r
            r = axlink("read", uri, "CL_VEL_SET_POINT_VALUE")
            assert r.code == 0 and r.out == f"{value} rev/s\n", r
        r = axlink("write", uri, "0x021:float", "0", "--allow-nonfinite")
        assert r.code == 0, r
        r = axlink("write", uri, "0x021:float", "nan", "--allow-nonfinite")
        assert r.code == 0 and r.out == "ok\n", r
        r = axlink("read", uri, "0x021:float")
        assert r.code == 0 and r.out == "nan\n", r
        # The dictionary's range still applies: infinity lies in no finite range.
        r = axlink("write", uri, "PROF_QUICK_STOP_DEC", "inf", "--allow-nonfinite")
        assert_failure(r, "PROF_QUICK_STOP_DEC", "range")
    finally:
        r = axlink("write", uri, "CL_VEL_SET_POINT_VALUE", "0")
        assert r.code == 0, r


# DRV_USER_DATA (subnode 0, 0x6F0) is a byte-array register: it takes a value of any
# type up to its size, so it shows how each type is echoed in JSON.
@pytest.mark.parametrize("spec,text,want", [
    ("u64", "18446744073709551615", "18446744073709551615"),  # above INT64_MAX: a string
    ("u64", "9223372036854775807", 9223372036854775807),
    ("s64", "-9223372036854775808", -9223372036854775808),
    ("s8", "-128", -128),
    ("u16", "0xFFFF", 65535),
    ("bool", "true", True),
    ("bool", "0", False),
    ("bytes", "00ff10", "00ff10"),
    ("str", "hello", "hello"),
])
def test_write_json_value_encoding(axlink, spec, text, want):
    r = axlink("write", "virtual:", f"0x6F0:{spec}", text, "--subnode", "0", "--json")
    assert r.code == 0, r
    value = r.json()["value"]
    assert type(value) is type(want) and value == want, r


# ---- errors -----------------------------------------------------------------

def test_read_unknown_address_reports_drive_code(axlink):
    r = axlink("read", "virtual:", "0x7FF:u32")
    assert_failure(r, CODE_NO_OBJECT)


def test_write_read_only_status_word_reports_drive_code(axlink):
    r = axlink("write", "virtual:", "0x011:u16", "1")
    assert_failure(r, CODE_BAD_ACCESS)


def test_bad_type_is_named(axlink):
    r = axlink("read", "virtual:", "0x6E1:u33")
    assert_usage_error(r, "u33")


@pytest.mark.parametrize("arg,word", [
    ("0x1000:u32", "0x1000"),
    ("4096:u32", "4096"),
    ("0x6Z1:u32", "0x6Z1"),
    ("-1:u32", "-1"),
    (":u32", ":u32"),
    ("0x6E1", "ADDRESS:TYPE"),
    ("0x6E1:", "TYPE"),
])
def test_bad_address_rejected(axlink, arg, word):
    r = axlink("read", "virtual:", arg)
    assert_usage_error(r, word)


def test_highest_address_accepted(axlink):
    # 0xFFF is in range: the drive, not the CLI, answers that it has no such object.
    r = axlink("read", "virtual:", "0xFFF:u32")
    assert_failure(r, CODE_NO_OBJECT)


def test_unknown_scheme_is_named(axlink):
    r = axlink("read", "nope:", "0x6E1:u32")
    assert_failure(r, "nope")


def test_unknown_uri_key_lists_valid_keys(axlink):
    r = axlink("read", "virtual:?bogus=1", "0x6E1:u32", "--subnode", "0")
    assert_failure(r, "bogus", "model", "serial", "fault")


def test_unknown_model_is_named(axlink):
    r = axlink("read", "virtual:?model=nope-9", "0x6E1:u32", "--subnode", "0")
    assert_failure(r, "nope-9")


@pytest.mark.parametrize("spec,value", [
    ("u8", "256"),
    ("u8", "-1"),
    ("s8", "128"),
    ("u16", "65536"),
    ("s32", "2147483648"),
    ("u32", "12abc"),
])
def test_write_value_out_of_range_rejected(axlink, spec, value):
    r = axlink("write", "virtual:", f"0x020:{spec}", value, "--json")
    assert_usage_error(r, value)


@pytest.mark.parametrize("args", [
    ["read", "virtual:", "0x7FF:u32", "--json"],
    ["write", "virtual:", "0x011:u16", "1", "--json"],
    ["read", "nope:", "0x6E1:u32", "--json"],
    ["read", "virtual:?bogus=1", "0x6E1:u32", "--json"],
    ["read", "virtual:", "0x6E1:u33", "--json"],
    ["write", "virtual:", "0x020:u8", "256", "--json"],
])
def test_json_failure_prints_the_error_object_on_stdout(axlink, args):
    r = axlink(*args)
    assert r.code in (1, 2), r
    assert r.no_result() and r.out != "", r
    e = r.json()["error"]
    assert e["message"] in r.err, r  # the same text on stderr
    assert r.err.startswith("axlink: ") and len(r.err.strip()) > len("axlink:"), r


@pytest.mark.parametrize("args,word", [
    ([], "no command"),
    (["frobnicate"], "frobnicate"),
    (["read"], "missing URI"),
    (["read", "virtual:"], "missing ADDRESS:TYPE"),
    (["write", "virtual:", "0x020:s32"], "missing VALUE"),
    (["read", "virtual:", "0x6E1:u32", "extra"], "extra"),
    (["plugins", "extra"], "extra"),
    (["read", "virtual:", "0x6E1:u32", "--bogus"], "--bogus"),
    (["plugins", "--subnode", "0"], "--subnode"),
    (["read", "virtual:", "0x6E1:u32", "--subnode", "16"], "16"),
    (["read", "virtual:", "0x6E1:u32", "--subnode", "one"], "one"),
    (["read", "virtual:", "0x6E1:u32", "--subnode"], "--subnode"),
    (["read", "virtual:", "0x6E1:u32", "--timeout-ms", "0"], "--timeout-ms"),
    (["read", "virtual:", "0x6E1:u32", "--timeout-ms", "-5"], "--timeout-ms"),
    (["db"], "missing db command"),
    (["db", "frobnicate"], "frobnicate"),
    (["db", "import"], "missing FILE"),
    (["db", "list", "extra"], "extra"),
    (["db", "show"], "missing MODEL"),
    (["db", "resolve", "1", "2"], "missing REVISION"),
    (["db", "resolve", "0xA71C", "0x10064", "rev2"], "rev2"),
    (["db", "resolve", "0xA71C", "0x100000000", "1"], "0x100000000"),
    (["db", "list", "--db"], "--db"),
    (["db", "list", "--subnode", "1"], "--subnode"),
    (["plugins", "--db", "x.db"], "--db"),
    (["read", "virtual:", "DRV_OP_CMD", "--db", "x.db"], "--db"),
])
def test_usage_errors(axlink, args, word):
    assert_usage_error(axlink(*args), word)


# ---- help and version -------------------------------------------------------

@pytest.mark.parametrize("args,usage", [
    (["--help"], "usage: axlink [--help]"),
    (["-h"], "usage: axlink [--help]"),
    (["help"], "usage: axlink [--help]"),
    (["plugins", "--help"], "usage: axlink plugins"),
    (["read", "--help"], "usage: axlink read URI ADDRESS:TYPE"),
    (["write", "--help"], "usage: axlink write URI ADDRESS:TYPE VALUE"),
    (["help", "write"], "usage: axlink write URI ADDRESS:TYPE VALUE"),
    (["read", "-h", "virtual:"], "usage: axlink read"),
    (["db", "import", "--help"], "usage: axlink db import FILE..."),
    (["db", "list", "--help"], "usage: axlink db list"),
    (["db", "show", "-h"], "usage: axlink db show MODEL"),
    (["db", "resolve", "--help"], "usage: axlink db resolve VENDOR PRODUCT REVISION"),
    (["help", "db", "show"], "usage: axlink db show MODEL"),
])
def test_help_exits_zero_on_stdout(axlink, args, usage):
    r = axlink(*args)
    assert r.code == 0, r
    assert r.out.startswith(usage), r
    assert "--plugin-dir" in r.out and "--timeout-ms" in r.out, r
    assert r.err == "", r


def test_main_help_lists_commands(axlink):
    r = axlink("--help")
    for cmd in ("plugins", "read", "write", "scan", "db import", "db list", "db show",
                "db resolve"):
        assert re.search(rf"^\s+{cmd}\s", r.out, re.M), r


@pytest.mark.parametrize("args", [["db", "--help"], ["db", "-h"], ["help", "db"]])
def test_db_help_lists_db_commands(axlink, args):
    r = axlink(*args)
    assert r.code == 0 and r.err == "", r
    assert r.out.startswith("usage: axlink db COMMAND"), r
    for cmd in ("import", "list", "show", "resolve"):
        assert re.search(rf"^\s+db {cmd}\s", r.out, re.M), r
    assert "AXLINK_DB" in r.out, r


def test_read_help_names_both_forms(axlink):
    r = axlink("read", "--help")
    assert "usage: axlink read URI ADDRESS:TYPE" in r.out, r
    assert "or: axlink read URI REGISTER" in r.out and "--dict FILE" in r.out, r


def test_version(axlink):
    # --version and the version command print the same three lines.
    for args in (["--version"], ["version"]):
        r = axlink(*args)
        assert r.code == 0, r
        assert re.fullmatch(r"axlink \d+\.\d+\.\d+\nlibaxlink \d+\.\d+\.\d+\n"
                            r"plugin ABI \d+\.\d+\n", r.out), r


# ---- Ethernet, against the real simulator ----------------------------------

def test_eth_read_serial_of_second_drive(axlink, sim_drives):
    r = axlink("read", "eth://127.0.3.2", "0x6E6:u32", "--subnode", "0", "--json")
    assert r.code == 0, r
    assert r.json()["value"] == 9002, r


def test_eth_write_then_read_back(axlink, sim_drives):
    r = axlink("write", "eth://127.0.3.1", "0x020:s32", "-777")
    assert r.code == 0 and r.out == "ok\n", r
    r = axlink("read", "eth://127.0.3.1", "0x020:s32")
    assert r.code == 0 and r.out.strip() == "-777", r


def test_eth_drive_error_names_the_drive(axlink, sim_drives):
    r = axlink("read", "eth://127.0.3.3", "0x7FF:u32")
    assert r.code == 1, r
    assert "eth://127.0.3.3" in r.err and "0x06020000" in r.err, r


def test_scan_finds_exactly_the_drives(axlink, sim_drives):
    r = axlink("scan", "eth://127.0.3.0/29", "--timeout-ms", "1000", "--json")
    assert r.code == 0, r
    found = sorted(r.json(), key=lambda d: d["uri"])
    assert [d["uri"] for d in found] == sim_drives, r
    assert [d["serial_number"] for d in found] == [9001, 9002, 9003], r
    for d in found:
        assert d["access"] == "ok" and d["vendor_id"] == "0x0000A71C", d
        assert d["product_code"] == "0x00010064", d
        assert d["firmware_version"], d


def test_scan_text_streams_one_line_per_drive(axlink, sim_drives):
    r = axlink("scan", "eth://127.0.3.1,127.0.3.3", "--timeout-ms", "1000")
    assert r.code == 0, r
    lines = sorted(r.out.splitlines())
    assert len(lines) == 2, r
    assert lines[0].startswith("eth://127.0.3.1:1061") and "serial 9001" in lines[0], r
    assert lines[1].startswith("eth://127.0.3.3:1061") and "serial 9003" in lines[1], r
    assert "2 drive(s) found" in r.err, r


def test_scan_errors(axlink):
    r = axlink("scan", "virtual:")
    assert r.code == 1 and "cannot scan" in r.err, r
    r = axlink("scan", "eth://127.0.3.0/8")
    assert r.code == 1 and "/8" in r.err, r
    r = axlink("scan", "eth://127.0.3.0/29", "--json", "--timeout-ms", "200", "--bogus")
    assert r.code == 2 and r.no_result(), r


# ---- device databases -------------------------------------------------------
#
# Expected counts and fields come from the XDF files themselves, read here with
# ElementTree: an oracle independent of the library's importer.

DEVICES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "devices")
DEVICE_FILES = ["axs-100.xdf", "axs-200.xdf", "axs-900.xdf"]
IMPORT_KEYS = ["file", "format_version", "models", "registers", "skipped", "warnings"]
IMPORT_MODEL_KEYS = {"product_code", "revision", "part_number", "interface", "name"}
LIST_KEYS = {"location", "database", "name", "vendor_id", "product_code", "revision",
             "part_number", "interface", "firmware_version", "family", "format_version",
             "registers", "source", "sha256"}
RESOLVE_KEYS = ["vendor_id", "product_code", "revision", "match", "reason", "model"]
READ_NAMED_KEYS = VALUE_KEYS + ["register", "units"]
DTYPE_NAMES = {"byteArray512": "bytes", "bit": "bool"}


def device(name):
    return os.path.realpath(os.path.join(DEVICES, name))


def hex32(v):
    return f"0x{v:08X}"


def xdf_devices(path):
    """(format version, [device]) of an XDF file; a device is a dict with the
    identity attributes, 'interface', 'registers' (Element list), 'categories'."""
    root = ET.parse(path).getroot()
    version = int(float(root.findtext("Header/Version").strip()))
    found = []
    if version == 3:
        categories = [c.get("id") for c in root.findall("Body/Categories/Category")]
        for dev in root.find("Body/Devices"):
            assert dev.tag.endswith("Device"), dev.tag
            found.append({"interface": dev.tag[:-len("Device")], "attrs": dict(dev.attrib),
                          "registers": dev.findall("MCBRegisters/MCBRegister")
                          + dev.findall("CANopenObjects/CANopenObject/Subitems/Subitem"),
                          "categories": categories})
    else:
        for dev in root.findall("Body/Device"):
            found.append({"interface": dev.get("Interface"), "attrs": dict(dev.attrib),
                          "registers": dev.findall("Axes/Axis/Registers/Register")
                          + dev.findall("Registers/Register"),
                          "categories": [c.get("id") for c in dev.findall("Categories/Category")]})
    return version, found


def xdf_register(path, reg_id, subnode=None):
    """The first register element with this id (and subnode), in file order."""
    for reg in xdf_devices(path)[1][0]["registers"]:
        if reg.get("id") == reg_id and (subnode is None or int(reg.get("subnode", "1")) == subnode):
            return reg
    raise AssertionError(f"{reg_id} not in {path}")


def enum_labels(reg):
    return {int(e.get("value")): e.text for e in reg.findall("Enumerations/Enum")}


def build_share(cli_path):
    """The build tree's installed database: share/ beside lib/ and bin/."""
    return os.path.join(os.path.dirname(os.path.dirname(cli_path)), "share", "axlink",
                        "devices.db")


def expected_import(name):
    version, devs = xdf_devices(device(name))
    registers = {}
    for d in devs:
        registers[d["interface"]] = registers.get(d["interface"], 0) + len(d["registers"])
    models = [{"product_code": hex32(int(d["attrs"]["ProductCode"])),
               "revision": hex32(int(d["attrs"]["RevisionNumber"])),
               "part_number": d["attrs"]["PartNumber"], "interface": d["interface"],
               "name": d["attrs"]["name"]} for d in devs]
    return version, models, registers


@pytest.fixture
def imported_db(axlink, tmp_path):
    """A database of the three devices/ files, made by the CLI in a tmp folder."""
    db = tmp_path / "imported.db"
    r = axlink("db", "import", "--db", db, *[device(f) for f in DEVICE_FILES])
    assert r.code == 0, r
    return db


def test_devices_files_have_the_documented_size():
    """The sizes devices/README.md promises, which the tests below rely on."""
    sizes = {f: [(d["interface"], len(d["registers"])) for d in xdf_devices(device(f))[1]]
             for f in DEVICE_FILES}
    assert sizes == {"axs-100.xdf": [("ETH", 189), ("EoE", 189), ("CAN", 193)],
                     "axs-200.xdf": [("ETH", 305), ("CAN", 309)],
                     "axs-900.xdf": [("ETH", 1492), ("CAN", 1350)]}, sizes


def test_db_import_json_reports_each_file(axlink, tmp_path):
    db = tmp_path / "new" / "devices.db"   # the folder is created too
    files = [device(f) for f in DEVICE_FILES]
    r = axlink("db", "import", *files, "--db", db, "--json")
    assert r.code == 0, r
    assert r.err == "", r
    reports = r.json()
    assert [x["file"] for x in reports] == files, reports
    for name, rep in zip(DEVICE_FILES, reports):
        version, models, registers = expected_import(name)
        assert list(rep) == IMPORT_KEYS, rep
        for m in rep["models"]:
            assert set(m) == IMPORT_MODEL_KEYS, m
        assert rep["format_version"] == version, rep
        assert sorted(rep["models"], key=lambda m: m["interface"]) == \
            sorted(models, key=lambda m: m["interface"]), rep
        assert rep["registers"] == registers, rep
        assert rep["skipped"] == 0 and rep["warnings"] == [], rep
    assert os.path.isfile(db)


def test_db_import_text_one_line_per_file(axlink, tmp_path):
    db = tmp_path / "devices.db"
    r = axlink("db", "import", device("axs-100.xdf"), device("axs-200.xdf"), "--db", db)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert len(lines) == 2, r
    assert lines[0].startswith(device("axs-100.xdf") + ": XDF v3, 3 model(s)"), r
    assert "ETH 189, EoE 189, CAN 193" in lines[0], r
    assert "0 skipped, 0 warning(s)" in lines[0], r
    assert lines[1].startswith(device("axs-200.xdf") + ": XDF v2, 2 model(s)"), r
    assert "ETH 305, CAN 309" in lines[1], r
    assert f"2 of 2 file(s) imported into {db}" in r.err, r


def test_db_import_is_idempotent(axlink, imported_db):
    before = axlink("db", "list", "--db", imported_db, "--json")
    assert before.code == 0, before
    again = axlink("db", "import", "--db", imported_db, device("axs-900.xdf"), "--json")
    assert again.code == 0, again
    assert again.json()[0]["registers"] == {"ETH": 1492, "CAN": 1350}, again
    t = axlink("db", "import", "--db", imported_db, device("axs-900.xdf"))
    assert t.code == 0 and "replacing" not in t.out, t
    after = axlink("db", "list", "--db", imported_db, "--json")
    assert after.json() == before.json(), after


def test_db_import_of_a_changed_file_replaces_its_models(axlink, tmp_path):
    copy = tmp_path / "axs-200.xdf"
    shutil.copy(device("axs-200.xdf"), copy)
    db = tmp_path / "devices.db"
    assert axlink("db", "import", "--db", db, copy).code == 0
    text = copy.read_text(encoding="utf-8").replace('firmwareVersion="1.1.4"',
                                                    'firmwareVersion="1.1.5"')
    assert "1.1.5" in text
    copy.write_text(text, encoding="utf-8")
    r = axlink("db", "import", "--db", db, copy)
    assert r.code == 0 and "replacing an earlier import" in r.out, r
    rows = axlink("db", "list", "--db", db, "--json").json()
    assert [x["firmware_version"] for x in rows] == ["1.1.5", "1.1.5"], rows  # ETH, CAN


def test_db_import_broken_file_is_named_and_the_others_still_go_in(axlink, tmp_path):
    bad = tmp_path / "broken.xdf"
    bad.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<IngeniaDictionary>\n'
                   "  <Header><Version>3.0</Version></Header>\n  <Body>\n    <Devices>\n"
                   '      <ETHDevice ProductCode="7" RevisionNumber="1">\n'
                   "    </Devices>\n  </Body>\n</IngeniaDictionary>\n", encoding="utf-8")
    missing = tmp_path / "missing.xdf"
    db = tmp_path / "devices.db"
    r = axlink("db", "import", "--db", db, device("axs-100.xdf"), bad, missing,
               device("axs-200.xdf"), "--json")
    assert r.code == 1, r
    # The broken file's line: the mismatched closing tag is on line 7.
    assert re.search(re.escape(str(bad)) + r"[:\s]+(line )?7\b", r.err), r
    assert str(missing) in r.err, r
    # The database did change: the files imported are still reported.
    assert [x["file"] for x in r.json()] == [device("axs-100.xdf"), device("axs-200.xdf")], r
    rows = axlink("db", "list", "--db", db, "--json").json()
    assert sorted(x["name"] for x in rows) == ["axs-100"] * 3 + ["axs-200"] * 2, rows
    t = axlink("db", "import", "--db", db, bad)
    assert_failure(t, str(bad))


def test_db_import_reports_skipped_registers_with_file_and_line(axlink, tmp_path):
    """tests/data/skipped.xdf has registers that lack a mandatory attribute."""
    data = os.path.realpath(os.path.join(DEVICES, "..", "tests", "data", "skipped.xdf"))
    db = tmp_path / "devices.db"
    r = axlink("db", "import", "--db", db, data, "--json")
    assert r.code == 0, r
    rep = r.json()[0]
    _, devs = xdf_devices(data)
    total = sum(len(d["registers"]) for d in devs)
    assert rep["skipped"] > 0, rep
    assert sum(rep["registers"].values()) == total - rep["skipped"], rep
    assert all(re.match(re.escape(data) + r":\d+: ", w) for w in rep["warnings"]), rep
    assert sum(w.endswith(", skipped") for w in rep["warnings"]) == rep["skipped"], rep
    assert any("missing attribute 'dtype'" in w for w in rep["warnings"]), rep
    # Text: the counts on stdout, each warning on stderr.
    t = axlink("db", "import", "--db", db, data)
    assert t.code == 0, t
    assert f"{rep['skipped']} skipped, {len(rep['warnings'])} warning(s)" in t.out, t
    for w in rep["warnings"]:
        assert f"axlink: warning: {w}\n" in t.err, t


def model_xdf(path, firmware, dtype=True):
    """A version 3 file of one model (product 0x10064 rev 0x10002, ETH), three registers;
    without dtype every register lacks a mandatory attribute."""
    regs = "".join(f'      <MCBRegister address="0x{0x100 + i:03x}" subnode="1" access="r" '
                   + ('dtype="u16" ' if dtype else "") + f'id="REG_{i}"/>\n' for i in range(3))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<IngeniaDictionary>\n'
                    "  <Header><Version>3.0</Version></Header>\n  <Body>\n  <Devices>\n"
                    '    <ETHDevice ProductCode="0x00010064" RevisionNumber="0x00010002" '
                    f'name="axs-100" firmwareVersion="{firmware}">\n'
                    f"     <MCBRegisters>\n{regs}     </MCBRegisters>\n"
                    "    </ETHDevice>\n  </Devices>\n  </Body>\n</IngeniaDictionary>\n",
                    encoding="utf-8")


def test_db_import_with_every_register_refused_keeps_the_earlier_import(axlink, tmp_path):
    good, bad = tmp_path / "good.xdf", tmp_path / "bad.xdf"
    model_xdf(good, "1.2.0")
    model_xdf(bad, "9.9.9", dtype=False)
    db = tmp_path / "devices.db"
    assert axlink("db", "import", "--db", db, good).code == 0
    before = axlink("db", "list", "--db", db, "--json").json()
    assert [(x["registers"], x["firmware_version"]) for x in before] == [(3, "1.2.0")], before
    for args in ([], ["--json"]):
        r = axlink("db", "import", "--db", db, bad, *args)
        assert r.code == 1, r
        assert f"{bad}: model 'axs-100'" in r.err and "has no register to import" in r.err, r
        # The first reason, with its file and line.
        assert re.search(re.escape(f"first: {bad}:") + r"\d+: register 'REG_0': missing "
                         r"attribute 'dtype', skipped", r.err), r
        if not args:
            assert f"0 of 1 file(s) imported into {db}" in r.err, r
        assert r.no_result(), r
        assert axlink("db", "list", "--db", db, "--json").json() == before
    t = axlink("db", "show", "axs-100", "--db", db, "--json")
    assert [x["id"] for x in t.json()[0]["registers"]] == ["REG_0", "REG_1", "REG_2"], t


def test_db_show_refuses_a_non_integer_address(axlink, tmp_path):
    """A hand-edited database: 'abc' or 0x10 as text is not address 0x000."""
    import sqlite3
    db = tmp_path / "devices.db"
    assert axlink("db", "import", "--db", db, device("axs-200.xdf")).code == 0
    model = axlink("db", "list", "--db", db, "--json").json()
    assert [x["interface"] for x in model] == ["ETH", "CAN"], model
    with sqlite3.connect(db) as con:
        # The ETH model's register (the CAN one is imported after it).
        (model_id, reg_id), = con.execute("SELECT model_id, id FROM registers WHERE ord = 5 "
                                          "ORDER BY model_id LIMIT 1")
        con.execute("UPDATE registers SET address = 'abc' WHERE ord = 5 AND model_id = ?",
                    (model_id,))
    con.close()
    for args in ([], ["--json"]):
        r = axlink("db", "show", "axs-200", "--db", db, *args)
        assert_failure(r, f"'{db}': model {model_id}, table 'registers', row 5 "
                          f"(register '{reg_id}'): column 'address' holds text 'abc', "
                          "not an integer")
    # Resolving the identity loads the model too, and fails the same way.
    r = axlink("db", "resolve", model[0]["vendor_id"], model[0]["product_code"],
               model[0]["revision"], "--db", db)
    assert_failure(r, "column 'address' holds text 'abc'")


def test_db_import_warns_about_duplicate_ids_and_show_lists_each(axlink, tmp_path):
    """tests/data/duplicate_ids.xdf: DUP_REG three times on subnode 1, once on 2."""
    data = os.path.realpath(os.path.join(DEVICES, "..", "tests", "data", "duplicate_ids.xdf"))
    lines = open(data, encoding="utf-8").read().splitlines()
    line = {a: 1 + next(i for i, t in enumerate(lines) if f'address="{a}"' in t)
            for a in ("0x010", "0x020", "0x040")}
    db = tmp_path / "devices.db"
    r = axlink("db", "import", "--db", db, data)
    assert r.code == 0, r
    # 2 about the ids; the rest say what format version 3 wants that this fixture lacks.
    assert "5 skipped" not in r.out and "0 skipped, 8 warning(s)" in r.out, r
    assert r.err.count("already has this id") == 2, r
    for a in ("0x020", "0x040"):
        assert (f"axlink: warning: {data}:{line[a]}: register 'DUP_REG' (address {a}): "
                f"subnode 1 already has this id at line {line['0x010']} (address 0x010)") \
            in r.err, r
    # Every register shows, each at its own address.
    m = axlink("db", "show", "dup-1", "--db", db, "--json").json()[0]
    got = [(x["id"], x["subnode"], x["address"]) for x in m["registers"]]
    assert got == [("DUP_REG", 1, "0x010"), ("UNIQUE_REG", 1, "0x011"), ("DUP_REG", 1, "0x020"),
                   ("DUP_REG", 2, "0x030"), ("DUP_REG", 1, "0x040")], got
    t = axlink("db", "show", "dup-1", "--db", db)
    assert t.code == 0, t
    rows = [ln.split()[:3] for ln in t.out.splitlines() if ln.strip().startswith("DUP_REG")]
    assert rows == [["DUP_REG", "1", "0x010"], ["DUP_REG", "1", "0x020"],
                    ["DUP_REG", "2", "0x030"], ["DUP_REG", "1", "0x040"]], t


def test_db_import_keeps_subnodes_mcb_cannot_address(axlink, tmp_path):
    """tests/data/axes_beyond_mcb.xdf: registers on subnodes 16 and 17, an Axis 16.
    Every register is kept (the catalogue is the file's), each one MCB cannot reach
    warned at its line; the axis does not count."""
    data = os.path.realpath(os.path.join(DEVICES, "..", "tests", "data", "axes_beyond_mcb.xdf"))
    db = tmp_path / "devices.db"
    r = axlink("db", "import", "--db", db, data, "--json")
    assert r.code == 0, r
    rep = r.json()[0]
    assert rep["registers"] == {"ETH": 6} and rep["skipped"] == 0, rep
    beyond = [w for w in rep["warnings"] if "is beyond the MCB subnodes 0..15" in w]
    assert len(beyond) == 4 and all(re.match(re.escape(data) + r":\d+: ", w) for w in beyond), rep
    assert sum(w.endswith("kept, but an MCB link cannot reach it") for w in beyond) == 3, rep
    m = axlink("db", "show", "ax-16", "--db", db, "--json").json()[0]
    assert m["axes"] == 1, m
    assert sorted((x["id"], x["subnode"]) for x in m["registers"]) == \
        [("DRV_AXIS_NUMBER", 0), ("DRV_STATE_CONTROL", 16), ("DRV_STATE_STATUS", 1),
         ("DRV_STATE_STATUS", 16), ("FLAT_TOO_FAR", 17), ("LAST_AXIS_STATUS", 15)], m


def test_db_import_refuses_a_configuration_file(axlink, tmp_path):
    """tests/data/config_v2.xcf (saved values of axs-100's registers) is not a
    dictionary: refused, saying what it is, and the good model stays."""
    xcf = os.path.realpath(os.path.join(DEVICES, "..", "tests", "data", "config_v2.xcf"))
    good = tmp_path / "good.xdf"
    model_xdf(good, "1.2.0")
    db = tmp_path / "devices.db"
    assert axlink("db", "import", "--db", db, good).code == 0
    before = axlink("db", "list", "--db", db, "--json").json()
    for args in ([], ["--json"]):
        r = axlink("db", "import", "--db", db, xcf, *args)
        assert_failure(r, f"{xcf}:15: a configuration file (XCF), not a dictionary",
                       "load it onto a drive with ax_config_load() ('axlink config load')")
        assert axlink("db", "list", "--db", db, "--json").json() == before


def test_db_import_defaults_to_the_user_database(axlink):
    assert not os.path.exists(axlink.user_db)
    r = axlink("db", "import", device("axs-200.xdf"))
    assert r.code == 0, r
    assert os.path.isfile(axlink.user_db), r
    assert axlink.user_db in r.err, r
    rows = axlink("db", "list", "--db", axlink.user_db, "--json").json()
    assert [(x["name"], x["interface"]) for x in rows] == [("axs-200", "ETH"),
                                                           ("axs-200", "CAN")], rows


def test_db_list_one_database(axlink, imported_db):
    r = axlink("db", "list", "--db", imported_db, "--json")
    assert r.code == 0, r
    rows = r.json()
    want = {}
    for name in DEVICE_FILES:
        for d in xdf_devices(device(name))[1]:
            want[(d["attrs"]["name"], d["interface"])] = (len(d["registers"]), device(name), d)
    assert sorted((x["name"], x["interface"]) for x in rows) == sorted(want), rows
    for x in rows:
        assert set(x) == LIST_KEYS, x
        count, source, d = want[(x["name"], x["interface"])]
        assert x["registers"] == count and x["source"] == source, x
        assert x["location"] == "db" and x["database"] == str(imported_db), x
        assert x["product_code"] == hex32(int(d["attrs"]["ProductCode"])), x
        assert x["vendor_id"] == hex32(int(d["attrs"]["VendorID"])), x
        assert x["firmware_version"] == d["attrs"]["firmwareVersion"], x
        assert re.fullmatch(r"[0-9a-f]{64}", x["sha256"]), x
    t = axlink("db", "list", "--db", imported_db)
    assert t.code == 0, t
    lines = t.out.splitlines()
    assert lines[0].split() == ["NAME", "PRODUCT", "REVISION", "INTERFACE", "FIRMWARE",
                                "REGISTERS", "DATABASE", "SOURCE"], t
    row = [ln.split() for ln in lines[1:] if ln.startswith("axs-900 ")]
    assert row == [["axs-900", "0x00010384", "0x00010000", "ETH", "1.0.0", "1492", "db",
                    device("axs-900.xdf")],
                   ["axs-900", "0x00010384", "0x00010000", "CAN", "1.0.0", "1350", "db",
                    device("axs-900.xdf")]], t


def test_db_list_follows_the_search_order(axlink, cli_path, tmp_path):
    installed = build_share(cli_path)
    assert os.path.isfile(installed), f"the build must make {installed}"
    env_db = tmp_path / "env.db"
    assert axlink("db", "import", "--db", env_db, device("axs-900.xdf")).code == 0
    assert axlink("db", "import", device("axs-200.xdf")).code == 0   # the user database
    r = axlink("db", "list", "--json", env={"AXLINK_DB": str(env_db)})
    assert r.code == 0, r
    rows = r.json()
    locations = [x["location"] for x in rows]
    # env first, then user, then installed; each row names its file.
    assert locations == sorted(locations, key=["env", "user", "installed"].index), rows
    assert {x["database"] for x in rows if x["location"] == "env"} == {str(env_db)}, rows
    assert [x["name"] for x in rows if x["location"] == "user"] == ["axs-200"] * 2, rows
    assert {x["database"] for x in rows if x["location"] == "user"} == {axlink.user_db}, rows
    assert {x["database"] for x in rows if x["location"] == "installed"} == {installed}, rows
    assert sorted({x["name"] for x in rows if x["location"] == "installed"}) == \
        ["axs-100", "axs-200", "axs-900"], rows


def test_db_list_skips_a_broken_or_missing_database(axlink, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite database" * 100)
    r = axlink("db", "list", "--json", env={"AXLINK_DB": str(junk)})
    assert r.code == 0, r
    assert str(junk) in r.err, r
    assert {x["location"] for x in r.json()} == {"installed"}, r
    missing = tmp_path / "missing.db"
    r = axlink("db", "list", "--json", env={"AXLINK_DB": str(missing)})
    assert r.code == 0 and str(missing) in r.err, r
    # Named with --db, the same files are errors.
    assert_failure(axlink("db", "list", "--db", junk), str(junk))
    assert_failure(axlink("db", "list", "--db", missing, "--json"), str(missing))


@pytest.mark.parametrize("model", ["axs-200", "AXS-200", "0x000100C8", "100c8:10001",
                                   "0x000100C8:0x00010001"])
def test_db_show_finds_a_model_by_name_part_or_numbers(axlink, imported_db, model):
    r = axlink("db", "show", model, "--db", imported_db, "--json")
    assert r.code == 0, r
    models = r.json()
    # The file's two interfaces, MCB first.
    assert [x["interface"] for x in models] == ["ETH", "CAN"], r
    m = models[0]
    assert set(LIST_KEYS | {"axes", "categories", "tables", "registers"}) == set(m), m
    _, devs = xdf_devices(device("axs-200.xdf"))
    assert m["name"] == "axs-200" and m["axes"] == 2, m
    assert m["tables"] == [], m   # version 2 files have no tables
    assert len(m["registers"]) == len(devs[0]["registers"]), m
    assert {c["id"] for c in m["categories"]} >= set(devs[0]["categories"]), m


def test_db_show_register_fields_match_the_file(axlink, imported_db):
    m = axlink("db", "show", "axs-200", "--db", imported_db, "--json").json()[0]
    regs = {(x["id"], x["subnode"]): x for x in m["registers"]}
    for reg_id, subnode in [("DRV_OP_CMD", 1), ("PROF_MAX_VEL", 2), ("DRV_ID_PRODUCT_CODE_COCO", 0),
                            ("DRV_APP_COCO_VERSION", 0)]:
        want = xdf_register(device("axs-200.xdf"), reg_id, subnode)
        got = regs[(reg_id, subnode)]
        assert int(want.get("address"), 16) == int(got["address"], 16), got
        assert DTYPE_NAMES.get(want.get("dtype"), want.get("dtype")) == got["type"], got
        assert want.get("access") == got["access"] and want.get("units") == got["units"], got
        storage = want.get("storage")
        if got["type"] == "float":
            assert got["default"] == pytest.approx(float(storage)), got
        elif got["type"] == "str":
            assert got["default"] == storage, got
        else:
            assert got["default"] == int(storage, 0), got


def test_db_show_text_has_identity_categories_and_registers(axlink, imported_db):
    r = axlink("db", "show", "axs-100", "--db", imported_db)
    assert r.code == 0, r
    # Two models answer to the name: the ETH and the EoE dictionary.
    assert len(re.findall(r"^axs-100 \((ETH|EoE)\)", r.out, re.M)) == 2, r
    assert "product code  0x00010064" in r.out and "revision      0x00010002" in r.out, r
    assert r.out.count("Registers (189):") == 2, r
    assert re.search(r"^\s+DRV_OP_CMD\s+1\s+0x014\s+u16\s+rw\s+CYCLIC_RX\s+none\s+20$", r.out,
                     re.M), r
    assert re.search(r"^\s+IDENTIFICATION\s+Product identification$", r.out, re.M), r


def test_db_show_text_columns_line_up_with_utf8_units(axlink, imported_db):
    r = axlink("db", "show", "axs-200", "--db", imported_db)
    assert r.code == 0, r
    lines = r.out.splitlines()
    header = next(ln for ln in lines if ln.split()[:2] == ["ID", "SUBNODE"])
    row = next(ln for ln in lines if ln.split()[:1] == ["DRV_PROT_BOARD_TEMP_VALUE"])
    assert "°C" in row, row
    assert row.rindex(" ") + 1 == header.index("DEFAULT"), (header, row)


def xdf_tables(path):
    """Per device of a version 3 file, its tables as 'db show --json' gives them,
    worked out from the XML: a table's registers are the ones on its axis (else
    the first of that id in file order), its entries come from the index
    register's Range, a negative minimum counting from 0."""
    root = ET.parse(path).getroot()
    found = []
    for dev in root.find("Body/Devices"):
        regs = dev.findall("MCBRegisters/MCBRegister") + \
            dev.findall("CANopenObjects/CANopenObject/Subitems/Subitem")

        def reg(rid, axis):
            for r in regs:
                if r.get("id") == rid and (axis is None or int(r.get("subnode")) == axis):
                    return r
            raise AssertionError(f"{path}: no register {rid} on axis {axis}")

        tables = []
        for t in dev.findall("Tables/Table"):
            axis = None if t.get("axis") is None else int(t.get("axis"))
            index = reg(t.get("id_index"), axis)
            reg(t.get("id_value"), axis)
            first = max(int(index.find("Range").get("min")), 0)
            tables.append({"id": t.get("id"), "axis": axis, "subnode": int(index.get("subnode")),
                           "index_register": t.get("id_index"),
                           "value_register": t.get("id_value"), "first_entry": first,
                           "entries": int(index.find("Range").get("max")) - first + 1})
        found.append((dev.tag[:-len("Device")], tables))
    return found


@pytest.mark.parametrize("name", ["axs-100", "axs-900"])
def test_db_show_tables_match_the_file(axlink, imported_db, name):
    want = xdf_tables(device(name + ".xdf"))
    assert any(tables for _, tables in want), want   # the file has tables to compare
    models = axlink("db", "show", name, "--db", imported_db, "--json").json()
    assert sorted((m["interface"], m["tables"]) for m in models) == sorted(want), models


def test_db_show_text_lists_the_tables(axlink, imported_db):
    (_, [table]), = [t for t in xdf_tables(device("axs-900.xdf")) if t[0] == "ETH"]
    r = axlink("db", "show", "axs-900", "--db", imported_db)
    assert r.code == 0, r
    last = table["first_entry"] + table["entries"] - 1
    assert "\nTables (1):\n" in r.out, r
    assert re.search(r"^\s+ID\s+AXIS\s+SUBNODE\s+INDEX\s+VALUE\s+ENTRIES$", r.out, re.M), r
    assert re.search(rf"^\s+DRV_DIAG_ERROR_LIST\s+-\s+0\s+DRV_DIAG_ERROR_LIST_IDX\s+"
                     rf"DRV_DIAG_ERROR_LIST_CODE\s+{table['entries']} "
                     rf"\({table['first_entry']}\.\.{last}\)$", r.out, re.M), r
    # Tables come between the categories and the registers.
    assert r.out.index("Categories (") < r.out.index("Tables (") < r.out.index("Registers ("), r
    r = axlink("db", "show", "axs-200", "--db", imported_db)
    assert "\nTables (0):\n\nRegisters (" in r.out, r


def test_db_tables_per_axis_and_skipped_ones(axlink, tmp_path):
    """tests/data/v3_tables.xdf: tables on two axes, one without an axis, three
    whose index register gives no entry count, and eight malformed ones."""
    data = os.path.realpath(os.path.join(DEVICES, "..", "tests", "data", "v3_tables.xdf"))
    db = tmp_path / "tables.db"
    r = axlink("db", "import", "--db", db, data, "--json")
    assert r.code == 0, r
    warnings = [w for w in r.json()[0]["warnings"] if ": table" in w]
    assert len(warnings) == 8, r
    assert all(re.match(re.escape(data) + r":\d+: table( '\w+')?: .*, skipped$", w)
               for w in warnings), r
    assert any("table 'WRONG_AXIS_TABLE': index register 'COGGING_COMP_TABLE_INDEX' "
               "(id_index) is not on axis 0" in w for w in warnings), r

    models = axlink("db", "show", "0x00000391", "--db", db, "--json").json()
    got = {m["interface"]: [(t["id"], t["axis"], t["subnode"], t["index_register"],
                             t["value_register"], t["first_entry"], t["entries"])
                            for t in m["tables"]] for m in models}
    cogging = ("COGGING_COMP_TABLE_INDEX", "COGGING_COMP_TABLE_VALUE")
    assert got == {
        "ETH": [("COGGING_COMP_TABLE", 1, 1, *cogging, 0, 512),
                ("COGGING_COMP_TABLE", 2, 2, *cogging, 0, 1024),
                ("MEM_USR_DATA", None, 0, "MEM_USR_ADDR", "MEM_USR_DATA", 0, 256),
                ("NO_RANGE_TABLE", 1, 1, "NO_RANGE_INDEX", "PLAIN_VALUE", None, None),
                ("NEGATIVE_RANGE_TABLE", 1, 1, "NEGATIVE_RANGE_INDEX", "PLAIN_VALUE", None,
                 None),
                ("FLOAT_RANGE_TABLE", None, 1, "FLOAT_RANGE_INDEX", "PLAIN_VALUE", None, None)],
        "CAN": [("COGGING_COMP_TABLE", 1, 1, *cogging, 0, 512)],
    }, models

    t = axlink("db", "show", "0x00000391", "--db", db)
    assert t.code == 0, t
    assert t.out.count("Tables (6):") == 1 and t.out.count("Tables (1):") == 1, t
    assert re.search(r"^\s+COGGING_COMP_TABLE\s+2\s+2\s+COGGING_COMP_TABLE_INDEX\s+"
                     r"COGGING_COMP_TABLE_VALUE\s+1024 \(0\.\.1023\)$", t.out, re.M), t
    assert re.search(r"^\s+NO_RANGE_TABLE\s+1\s+1\s+NO_RANGE_INDEX\s+PLAIN_VALUE\s+-$",
                     t.out, re.M), t


def test_db_show_unknown_model(axlink, imported_db):
    r = axlink("db", "show", "axs-999", "--db", imported_db)
    assert_failure(r, "axs-999", str(imported_db))
    r = axlink("db", "show", "0x00BADBAD", "--db", imported_db, "--json")
    assert_failure(r, "0x00BADBAD")


@pytest.mark.parametrize("revision,match,words", [
    ("0x00010002", "exact", ["exact match", "axs-100"]),
    ("0x00010007", "lower-revision", ["nearest lower revision 0x00010002", "axs-100"]),
    ("0x00000001", "any-revision", ["using revision 0x00010002", "axs-100"]),
])
def test_db_resolve_rules(axlink, imported_db, revision, match, words):
    r = axlink("db", "resolve", "0xA71C", "0x00010064", revision, "--db", imported_db, "--json")
    assert r.code == 0, r
    obj = r.json()
    assert list(obj) == RESOLVE_KEYS, obj
    assert obj["match"] == match, obj
    assert obj["vendor_id"] == "0x0000A71C" and obj["product_code"] == "0x00010064", obj
    assert obj["revision"] == hex32(int(revision, 16)), obj
    for w in words:
        assert w.lower() in obj["reason"].lower(), obj
    assert obj["model"]["name"] == "axs-100" and obj["model"]["revision"] == "0x00010002", obj
    t = axlink("db", "resolve", "0xA71C", "0x00010064", revision, "--db", imported_db)
    assert t.code == 0, t
    assert t.out == f"{match}: {obj['reason']}\n", t


def test_db_resolve_none_still_exits_zero(axlink, imported_db):
    r = axlink("db", "resolve", "42780", "0xBAD", "1", "--db", imported_db, "--json")
    assert r.code == 0, r
    obj = r.json()
    assert obj["match"] == "none" and obj["model"] is None, obj
    assert "no dictionary for product 0x00000bad" in obj["reason"].lower(), obj
    t = axlink("db", "resolve", "42780", "0xBAD", "1")
    assert t.code == 0 and t.out.startswith("none: "), t
    assert len(t.out.splitlines()) == 1, t


def test_db_resolve_searches_the_installed_database(axlink, cli_path):
    r = axlink("db", "resolve", "0xA71C", "0x000100C8", "0x00010001", "--json")
    assert r.code == 0, r
    obj = r.json()
    assert obj["match"] == "exact" and obj["model"]["name"] == "axs-200", obj
    assert build_share(cli_path) in obj["reason"], obj


def test_axlink_db_wins_over_the_installed_database(axlink, tmp_path):
    """A dictionary for the same drive, changed so it can be told apart."""
    mine = tmp_path / "axs-100-mine.xdf"
    text = open(device("axs-100.xdf"), encoding="utf-8").read()
    text = text.replace('id="CL_POS_FBK_VALUE"', 'id="MY_POS_FBK_VALUE"')
    text = text.replace('firmwareVersion="1.2.0"', 'firmwareVersion="1.2.0-mine"')
    mine.write_text(text, encoding="utf-8")
    db = tmp_path / "mine.db"
    assert axlink("db", "import", "--db", db, mine).code == 0
    env = {"AXLINK_DB": str(db)}

    r = axlink("db", "resolve", "0xA71C", "0x00010064", "0x00010002", "--json", env=env)
    assert r.code == 0, r
    obj = r.json()
    assert obj["match"] == "exact" and obj["model"]["firmware_version"] == "1.2.0-mine", obj
    assert str(db) in obj["reason"], obj

    r = axlink("read", "virtual:", "MY_POS_FBK_VALUE", "--json", env=env)
    assert r.code == 0, r
    assert r.json()["register"] == "MY_POS_FBK_VALUE" and r.json()["address"] == "0x030", r
    # Without AXLINK_DB the installed dictionary serves, which has no such id.
    assert_failure(axlink("read", "virtual:", "MY_POS_FBK_VALUE"), "MY_POS_FBK_VALUE")


# ---- registers by name ------------------------------------------------------

def test_read_by_name_matches_read_by_address(axlink):
    by_name = axlink("read", "virtual:", "DRV_ID_PRODUCT_CODE_COCO", "--json")
    assert by_name.code == 0, by_name
    obj = by_name.json()
    assert list(obj) == READ_NAMED_KEYS, obj
    by_addr = axlink("read", "virtual:", "0x6E1:u32", "--subnode", "0", "--json").json()
    assert {k: obj[k] for k in VALUE_KEYS} == by_addr, obj
    assert obj["register"] == "DRV_ID_PRODUCT_CODE_COCO" and obj["value"] == AXS100_PRODUCT_CODE


def test_read_by_name_takes_type_and_units_from_the_dictionary(axlink):
    want = xdf_register(device("axs-100.xdf"), "DRV_PROT_VBUS_VALUE")
    r = axlink("read", "virtual:", "DRV_PROT_VBUS_VALUE", "--json")
    assert r.code == 0, r
    obj = r.json()
    assert obj["type"] == want.get("dtype") == "float", obj
    assert obj["units"] == want.get("units") and obj["units"] == "V", obj
    assert obj["address"] == "0x060" and obj["subnode"] == 1, obj
    assert isinstance(obj["value"], float) and obj["value"] > 0, obj
    t = axlink("read", "virtual:", "DRV_PROT_VBUS_VALUE")
    value, units = t.out.split()  # the units in text too
    assert t.code == 0 and float(value) == pytest.approx(obj["value"], rel=1e-3), t
    assert units == "V", t


def test_read_by_name_labels_an_enumerated_value(axlink):
    labels = enum_labels(xdf_register(device("axs-100.xdf"), "DRV_OP_CMD"))
    assert labels
    r = axlink("read", "virtual:", "DRV_OP_CMD", "--json")
    assert r.code == 0, r
    obj = r.json()
    assert list(obj) == READ_NAMED_KEYS + ["label"], obj
    assert obj["label"] == labels[obj["value"]], (obj, labels)
    # Registers without an enumeration carry no label key.
    assert "label" not in axlink("read", "virtual:", "CL_POS_FBK_VALUE", "--json").json()


def test_read_by_name_on_another_model_and_axis(axlink):
    uri = "virtual:?model=axs-200"
    r = axlink("read", uri, "CL_POS_FBK_VALUE", "--subnode", "2", "--json")
    assert r.code == 0, r
    assert r.json()["subnode"] == 2 and r.json()["address"] == "0x030", r
    first = xdf_register(device("axs-200.xdf"), "CL_POS_FBK_VALUE")
    r = axlink("read", uri, "CL_POS_FBK_VALUE", "--json")
    assert r.code == 0 and r.json()["subnode"] == int(first.get("subnode")), r
    r = axlink("read", uri, "CL_POS_FBK_VALUE", "--subnode", "0")
    assert_failure(r, "CL_POS_FBK_VALUE")


def test_write_by_name(axlink):
    r = axlink("write", "virtual:", "CL_POS_SET_POINT_VALUE", "-1000", "--json")
    assert r.code == 0, r
    obj = r.json()
    assert obj["register"] == "CL_POS_SET_POINT_VALUE" and obj["value"] == -1000, obj
    assert obj["type"] == "s32" and obj["address"] == "0x020" and obj["subnode"] == 1, obj
    t = axlink("write", "virtual:", "CL_POS_SET_POINT_VALUE", "25")
    assert t.code == 0 and t.out == "ok\n", t


def test_write_by_name_checks_the_dictionary(axlink):
    # Read-only in the dictionary: refused before anything is sent.
    assert_failure(axlink("write", "virtual:", "CL_POS_FBK_VALUE", "1"), "CL_POS_FBK_VALUE")
    # Out of the dictionary's range: the message names both bounds.
    ranged = [reg for reg in xdf_devices(device("axs-100.xdf"))[1][0]["registers"]
              if reg.find("Range") is not None and "w" in reg.get("access")
              and reg.get("dtype") in ("u16", "u32", "s32")]
    assert ranged, "axs-100.xdf has writable integer registers with a range"
    reg = ranged[0]
    lo, hi = reg.find("Range").get("min"), reg.find("Range").get("max")
    r = axlink("write", "virtual:", reg.get("id"), str(int(hi, 0) + 1),
               "--subnode", reg.get("subnode"))
    assert_failure(r, lo, hi)
    # A value that is not of the register's type is a usage error naming it.
    assert_usage_error(axlink("write", "virtual:", "CL_POS_SET_POINT_VALUE", "1.5"),
                       "1.5", "s32")


def test_unknown_register_id_names_id_and_dictionary(axlink):
    r = axlink("read", "virtual:", "NO_SUCH_REGISTER", "--json")
    assert_failure(r, "NO_SUCH_REGISTER", "axs-100")
    r = axlink("write", "virtual:", "NO_SUCH_REGISTER", "1")
    assert_failure(r, "NO_SUCH_REGISTER")


def test_read_with_dict_file(axlink):
    r = axlink("read", "virtual:", "DRV_OP_CMD", "--dict", device("axs-100.xdf"), "--json")
    assert r.code == 0, r
    assert r.json()["register"] == "DRV_OP_CMD" and r.err == "", r
    # A dictionary of another product still reads, with a warning naming both products.
    r = axlink("read", "virtual:", "DRV_ID_PRODUCT_CODE_COCO", "--dict", device("axs-200.xdf"))
    assert r.code == 0 and int(r.out) == AXS100_PRODUCT_CODE, r
    assert "warning" in r.err and "0x000100C8" in r.err and "0x00010064" in r.err, r


def test_dict_errors(axlink, tmp_path):
    missing = tmp_path / "missing.xdf"
    assert_failure(axlink("read", "virtual:", "DRV_OP_CMD", "--dict", missing), str(missing))
    assert_usage_error(axlink("read", "virtual:", "0x014:u16", "--dict", device("axs-100.xdf")),
                       "--dict")
    r = axlink("read", "virtual:", "NO_SUCH_REGISTER", "--dict", device("axs-100.xdf"))
    assert_failure(r, "NO_SUCH_REGISTER", device("axs-100.xdf"))


@pytest.fixture
def tree_without_db(cli_path, tmp_path):
    """A copy of the build tree's bin/ and lib/ without share/: a library
    installed with no device database. Returns the copied CLI."""
    build = os.path.dirname(os.path.dirname(cli_path))
    root = tmp_path / "tree"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(cli_path, root / "bin")
    shutil.copytree(os.path.join(build, "lib"), root / "lib", symlinks=True,
                    ignore=shutil.ignore_patterns("*.a"))
    return str(root / "bin" / os.path.basename(cli_path))


def test_read_by_name_without_any_dictionary(axlink, tree_without_db, tmp_path):
    r = axlink("read", "virtual:", "CL_POS_FBK_VALUE", cli=tree_without_db)
    assert_failure(r, "no dictionary", "0x00010064", "axlink db import", "--dict")
    # The ADDRESS:TYPE form needs no dictionary.
    r = axlink("read", "virtual:", "0x030:s32", cli=tree_without_db)
    assert r.code == 0, r
    # Each remedy the message names works: --dict, AXLINK_DB, an import.
    r = axlink("read", "virtual:", "CL_POS_FBK_VALUE", "--dict", device("axs-100.xdf"),
               cli=tree_without_db)
    assert r.code == 0, r
    db = tmp_path / "env.db"
    assert axlink("db", "import", "--db", db, device("axs-100.xdf")).code == 0
    r = axlink("read", "virtual:", "CL_POS_FBK_VALUE", cli=tree_without_db,
               env={"AXLINK_DB": str(db)})
    assert r.code == 0, r
    assert axlink("db", "import", device("axs-100.xdf"), cli=tree_without_db).code == 0
    r = axlink("read", "virtual:", "CL_POS_FBK_VALUE", "--json", cli=tree_without_db)
    assert r.code == 0 and r.json()["register"] == "CL_POS_FBK_VALUE", r


def test_read_by_name_with_an_older_revision_warns(axlink, tree_without_db, tmp_path):
    """A dictionary for an older revision serves, with the reason on stderr."""
    older = tmp_path / "axs-100-older.xdf"
    text = open(device("axs-100.xdf"), encoding="utf-8").read()
    text = text.replace('RevisionNumber="65538"', 'RevisionNumber="65537"')
    assert 'RevisionNumber="65537"' in text
    older.write_text(text, encoding="utf-8")
    db = tmp_path / "older.db"
    assert axlink("db", "import", "--db", db, older).code == 0
    r = axlink("read", "virtual:", "CL_POS_FBK_VALUE", "--json", cli=tree_without_db,
               env={"AXLINK_DB": str(db)})
    assert r.code == 0 and r.json()["register"] == "CL_POS_FBK_VALUE", r
    assert "warning" in r.err and "nearest lower revision 0x00010001" in r.err.lower(), r


def test_eth_read_and_write_by_name(axlink, sim_drives):
    r = axlink("read", "eth://127.0.3.2", "DRV_ID_SERIAL_NUMBER_COCO", "--json")
    assert r.code == 0, r
    assert r.json()["value"] == 9002 and r.json()["subnode"] == 0, r
    r = axlink("write", "eth://127.0.3.2", "CL_POS_SET_POINT_VALUE", "-4321")
    assert r.code == 0 and r.out == "ok\n", r
    r = axlink("read", "eth://127.0.3.2", "CL_POS_SET_POINT_VALUE")
    assert r.code == 0 and r.out == "-4321 cnt\n", r
    assert_failure(axlink("read", "eth://127.0.3.2", "NO_SUCH_REGISTER"), "NO_SUCH_REGISTER")


# ---- stable identity URIs in every command ---------------------------------------------

STABLE_VIA = "via=eth://127.0.3.1,127.0.3.2,127.0.3.3&timeout_ms=1000"


def stable(serial):
    return f"axlink://A71C/00010064/{serial}?{STABLE_VIA}"


def test_stable_uri_in_read_write_and_scan(axlink, sim_drives):
    """read, write (by address and by name) and scan take axlink://, as info does."""
    r = axlink("read", stable(9002), "0x6E6:u32", "--subnode", "0", "--json")
    assert r.code == 0 and r.json()["value"] == 9002, r
    r = axlink("read", stable(9003), "DRV_ID_SERIAL_NUMBER_COCO")
    assert r.code == 0 and r.out == "9003\n", r
    r = axlink("write", stable(9002), "CL_POS_SET_POINT_VALUE", "-2468")
    assert r.code == 0 and r.out == "ok\n", r
    r = axlink("write", stable(9002), "0x021:float", "1.5")
    assert r.code == 0 and r.out == "ok\n", r
    # Written through the stable URI, read back at the location: the same drive.
    r = axlink("read", "eth://127.0.3.2", "CL_POS_SET_POINT_VALUE")
    assert r.code == 0 and r.out == "-2468 cnt\n", r
    r = axlink("read", "eth://127.0.3.2", "0x021:float")
    assert r.code == 0 and r.out == "1.5\n", r
    # The stable URI without via: the discovery targets of the environment.
    r = axlink("read", "axlink://A71C/00010064/9001", "0x6E6:u32", "--subnode", "0",
               env={"AXLINK_ETH_TARGETS": "127.0.3.1,127.0.3.2,127.0.3.3"})
    assert r.code == 0 and r.out == "9001\n", r
    # scan of a stable URI probes the place the drive is found at.
    r = axlink("scan", stable(9003), "--json", "--timeout-ms", "1000")
    assert r.code == 0, r
    found = r.json()
    assert [d["uri"] for d in found] == [sim_drives[2]] and found[0]["serial_number"] == 9003, r
    r = axlink("scan", stable(9001))
    assert r.code == 0 and r.out.startswith(sim_drives[0]) and "serial 9001" in r.out, r


def test_stable_uri_not_found_names_the_search(axlink, sim_drives):
    for args in (("read", stable(4242), "0x6E6:u32", "--subnode", "0"),
                 ("write", stable(4242), "0x020:s32", "1"),
                 ("read", stable(4242), "CL_POS_FBK_VALUE"),
                 ("scan", stable(4242))):
        r = axlink(*args)
        assert r.code == 1 and "4242" in r.err and "127.0.3.1" in r.err, r
        assert "no transport plugin" not in r.err and r.no_result(), r
    r = axlink("read", "axlink://nothex/00010064/1", "0x6E6:u32")
    assert r.code == 1 and "vendor" in r.err, r


# ---- one open policy: --dict with a drive that reports no identity ---------------------

def test_dict_file_serves_a_drive_without_identity(axlink):
    """The test transport answers 'object does not exist' for the identity
    registers; named with --dict, its dictionary still serves every command
    that opens a drive (read, write, info)."""
    plugins = os.environ["AXLINK_TEST_PLUGIN_DIR"]
    uri = "testgood:?cells=16"
    dic = device("axs-100.xdf")
    # DRV_DIAG_ERROR_LAST is subnode 1, 0x00F, s32: one of the transport's cells.
    r = axlink("write", uri, "0x00F:s32", "-5", "--plugin-dir", plugins)
    assert r.code == 0, r
    r = axlink("read", uri, "DRV_DIAG_ERROR_LAST", "--dict", dic, "--plugin-dir", plugins,
               "--json")
    assert r.code == 0, r
    assert r.json()["register"] == "DRV_DIAG_ERROR_LAST" and r.json()["value"] == 0, r
    r = axlink("info", uri, "--dict", dic, "--plugin-dir", plugins, "--json")
    assert r.code == 0, r
    info = r.json()
    assert info["match"] == "file" and "no identity" in info["match_reason"], r
    assert info["vendor_id"] is None and info["firmware_version"] is None, r
    r = axlink("info", uri, "--dict", dic, "--plugin-dir", plugins)
    assert r.code == 0 and re.search(r"^vendor:\s+-$", r.out, re.M), r
    # Without a file the identity is what finds a dictionary: a clear failure.
    r = axlink("read", uri, "DRV_DIAG_ERROR_LAST", "--plugin-dir", plugins)
    assert r.code == 1 and "0x06020000" in r.err, r


# ---- a drive's text never reaches the terminal raw ------------------------------------

# ESC ] 0 ; title BEL (sets the window title), ESC [ 2 J (clears the screen),
# CR LF and a forged line, tab, DEL, an invalid UTF-8 byte, C1 CSI (U+009B)
# and a right-to-left override (U+202E).
EVIL = (b"fw\x1b]0;pwned\x07\x1b[2J\r\nforged: line\tx\x7f\xff\xc2\x9b\xe2\x80\xae!")
EVIL_URI = "virtual:?firmware=" + "".join(
    chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02X}" for b in EVIL)
RAW_BYTES = [b"\x1b", b"\r", b"\x07", b"\t", b"\x7f", b"\xff", b"\xc2\x9b", b"\xe2\x80\xae"]


def run_bytes(cli_path, env, *args):
    """axlink with bytes arguments and bytes output: what a terminal would get."""
    proc = subprocess.run([cli_path, *args], capture_output=True, env=env, timeout=30,
                          check=False)
    return proc.returncode, proc.stdout, proc.stderr


def assert_no_raw_control(out):
    for raw in RAW_BYTES:
        assert raw not in out, (raw, out)
    assert not re.search(rb"^forged", out, re.M), out


# The identity's version text is cleaned once, by the library (controls and
# invalid UTF-8 as '?', ax_mcb_identity_take()); what is left the CLI escapes.
EVIL_IDENTITY = "fw?]0;pwned??[2J??forged: line?x????\u202e!"


@pytest.mark.parametrize("args", [
    ["read", EVIL_URI, "DRV_APP_COCO_VERSION"],
    ["read", EVIL_URI, "0x6E4:str", "--subnode", "0"],
    ["read", EVIL_URI, "DRV_ID_SOFTWARE_VERSION", "--subnode", "1"],
])
def test_drive_text_is_escaped_in_text_output(cli_path, axlink, args):
    code, out, err = run_bytes(cli_path, axlink.env, *args)
    assert code == 0, (out, err)
    assert_no_raw_control(out)
    assert_no_raw_control(err)
    # Visible instead: the escapes, and the printable rest as it was.
    assert b"fw\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x0aforged: line\\x09x\\x7f\\xff\\u009B\\u202E!" \
        in out, out


def test_drive_identity_text_is_cleaned_then_escaped(cli_path, axlink):
    code, out, err = run_bytes(cli_path, axlink.env, "info", EVIL_URI)
    assert code == 0, (out, err)
    assert_no_raw_control(out)
    assert_no_raw_control(err)
    assert b"fw?]0;pwned??[2J??forged: line?x????\\u202E!" in out, out


def test_drive_text_in_json_is_escaped_and_kept(cli_path, axlink):
    code, out, err = run_bytes(cli_path, axlink.env, "info", EVIL_URI, "--json")
    assert code == 0, err
    for raw in (b"\x1b", b"\r", b"\x07", b"\t", b"\xff"):
        assert raw not in out, out
    fw = json.loads(out)["firmware_version"]
    assert fw == EVIL_IDENTITY, fw
    code, out, err = run_bytes(cli_path, axlink.env, "read", EVIL_URI, "0x6E4:str",
                               "--subnode", "0", "--json")
    assert code == 0, err
    # A str register is the drive's text itself: escaped by JSON, the invalid byte as U+FFFD.
    value = json.loads(out)["value"]
    assert value == "fw\x1b]0;pwned\x07\x1b[2J\r\nforged: line\tx\x7f\ufffd\x9b\u202e!", out


def test_drive_text_in_json_on_a_terminal_is_ascii(cli_path, axlink):
    """On a terminal the JSON escapes C1 and bidi controls too (jansson
    writes them raw otherwise): \\u009b, never the bytes."""
    import pty
    master, slave = pty.openpty()
    try:
        # A str register carries the drive's text as it is, C1 and bidi included.
        proc = subprocess.run([cli_path, "read", EVIL_URI, "0x6E4:str", "--subnode", "0",
                               "--json"], stdout=slave,
                              stderr=subprocess.PIPE, env=axlink.env, timeout=30, check=False)
        os.close(slave)
        slave = -1
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the writer is gone and everything was read
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    for raw in (b"\x1b", b"\x07", b"\xff", b"\xc2\x9b", b"\xe2\x80\xae"):
        assert raw not in out, (raw, out)
    assert out.isascii(), out
    doc = json.loads(out.replace(b"\r\n", b"\n"))
    assert doc["value"] == \
        "fw\x1b]0;pwned\x07\x1b[2J\r\nforged: line\tx\x7f\ufffd\x9b\u202e!", doc


@pytest.fixture(scope="module")
def evil_sim():
    """One drive on 127.0.3.20 whose firmware text is EVIL (axlink-sim --firmware)."""
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--eth", "127.0.3.20", "--serial", "777",
                             b"--firmware", EVIL], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        uri = proc.stdout.readline().decode().strip()
        if not uri.startswith("eth://"):
            proc.kill()
            pytest.fail(f"axlink-sim did not start: {uri!r} {proc.stderr.read()!r}")
        yield uri
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.parametrize("args", [
    ["scan", "eth://127.0.3.20", "--timeout-ms", "1000"],
    ["list", "eth://127.0.3.20", "--timeout-ms", "1000"],
    ["info", "axlink://A71C/00010064/777?via=eth://127.0.3.20"],
])
def test_drive_text_over_udp_is_escaped(cli_path, axlink, evil_sim, args):
    code, out, err = run_bytes(cli_path, axlink.env, *args)
    assert code == 0, (out, err)
    # The eth scan may already blank control bytes; whatever arrives is escaped.
    assert b"777" in out and b"]0;pwned" in out, out
    assert_no_raw_control(out)
    assert_no_raw_control(err)
    # With --json: one valid document holding the text.
    code, out, err = run_bytes(cli_path, axlink.env, *args, "--json")
    assert code == 0, err
    doc = json.loads(out)
    rows = doc if isinstance(doc, list) else [doc]
    texts = [d["firmware_version"] for d in rows]
    assert texts and all(t.startswith("fw") and "]0;pwned" in t for t in texts), texts


def test_dictionary_text_is_escaped(cli_path, axlink, tmp_path):
    """Names and units from an imported file: db import, db list, db show. XML 1.0
    has no ESC even as a reference, but CR, LF, tab, C1 and bidi controls it has."""
    text = open(device("axs-100.xdf"), encoding="utf-8").read()
    assert 'units="A"' in text
    text = text.replace('units="A"', 'units="A&#9;&#13;&#10;forged"', 1)
    text = re.sub(r'(<(?:ETH|EoE)Device\b[^>]*\bname=")[^"]*"',
                  r'\1axs&#x9B;2J&#13;&#10;forged&#x202E;"', text, count=2)
    evil = tmp_path / "evil.xdf"
    evil.write_text(text, encoding="utf-8")
    db = tmp_path / "evil.db"
    code, out, err = run_bytes(cli_path, axlink.env, "db", "import", "--db", str(db),
                               str(evil))
    assert code == 0, err
    assert b"axs\\u009B2J\\x0d\\x0aforged\\u202E" in out, out
    assert_no_raw_control(out)
    for args in (["db", "list", "--db", str(db)],
                 ["db", "show", "0x00010064", "--db", str(db)]):
        code, out, err = run_bytes(cli_path, axlink.env, *args)
        assert code == 0, err
        assert b"axs\\u009B2J\\x0d\\x0aforged\\u202E" in out, out
        assert_no_raw_control(out)
    assert b"A\\x09\\x0d\\x0aforged" in out, out
    code, out, err = run_bytes(cli_path, axlink.env, "db", "show", "0x00010064", "--db",
                               str(db), "--json")
    assert code == 0 and b"\r" not in out and b"\t" not in out, err
    assert json.loads(out)[0]["name"] == "axs\x9b2J\r\nforged\u202e", out
