# SPDX-License-Identifier: MIT
"""End-to-end tests of the axlink command line against the in-process virtual drive.

Each CLI call opens a fresh virtual drive, so a write is not visible to a later
call: write tests check what the write itself reports.
"""
import json
import os
import re
import shutil

import pytest

# Identity of the simulated drives (src/sim/simdrive.h, src/sim/simdrive.c).
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


PLUGIN_KEYS = {"path", "scheme", "name", "version", "abi", "status", "message"}
VALUE_KEYS = ["uri", "subnode", "address", "type", "value"]


def virtual_row(rows):
    loaded = [r for r in rows if r.get("scheme") == "virtual" and r.get("status") == "loaded"]
    assert len(loaded) == 1, f"want exactly one loaded virtual plugin in {rows}"
    return loaded[0]


def assert_usage_error(r, *words):
    assert r.code == 2, r
    assert r.out == "", r
    assert "usage: axlink" in r.err, r
    for w in words:
        assert w in r.err, f"{w!r} missing from stderr: {r}"


def assert_failure(r, *words):
    assert r.code == 1, r
    assert r.out == "", r
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
        assert all(isinstance(row[k], str) for k in PLUGIN_KEYS), row
        assert re.fullmatch(r"\d+\.\d+", row["abi"]), row
    v = virtual_row(rows)
    assert os.path.basename(v["path"]) == "axlink-transport-virtual.so", v
    assert os.path.isfile(v["path"]), v
    assert v["abi"] == header_plugin_abi(), v
    assert v["message"] == "", v
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
def test_json_failure_prints_nothing_on_stdout(axlink, args):
    r = axlink(*args)
    assert r.code in (1, 2), r
    assert r.out == "", r
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
])
def test_help_exits_zero_on_stdout(axlink, args, usage):
    r = axlink(*args)
    assert r.code == 0, r
    assert r.out.startswith(usage), r
    assert "--plugin-dir" in r.out and "--timeout-ms" in r.out, r
    assert r.err == "", r


def test_main_help_lists_commands(axlink):
    r = axlink("--help")
    for cmd in ("plugins", "read", "write"):
        assert re.search(rf"^\s+{cmd}\s", r.out, re.M), r


def test_version(axlink):
    r = axlink("--version")
    assert r.code == 0, r
    assert re.fullmatch(r"axlink \d+\.\d+\.\d+ \(libaxlink \d+\.\d+\.\d+\)\n", r.out), r


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
    assert [d["serial"] for d in found] == [9001, 9002, 9003], r
    for d in found:
        assert d["access"] == "ok" and d["vendor_id"] == "0x0000A71C", d
        assert d["product_code"] == "0x00010064", d
        assert d["sw_version"], d


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
    assert r.code == 2 and r.out == "", r
