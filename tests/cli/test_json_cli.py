# SPDX-License-Identifier: MIT
"""One JSON dialect, one CLI habit (issue 20): every --json command against the
real axlink-sim on 127.0.12.1-2 (this file's range), checked like a schema.

Shared keys have one name and one type everywhere: statusword an integer,
serial_number an integer, firmware_version text, mode a name, and an absent
value is null, never "". A failure of a --json run prints exactly one
{"error": {code, name, class, message, exit_status}} object on stdout. Also
here: axlink version, "did you mean", exit status 2 for usage errors and 1 for
runtime failures, one spelling for periods and timeouts.
"""
import json
import os
import re
import signal
import subprocess

import pytest

DEVICES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "devices")
# Keys that name the same concept once; the old spellings must not come back.
RETIRED_KEYS = {"status_word", "serial", "sw_version", "statusWord"}
ERROR_KEYS = ["code", "name", "class", "message", "exit_status"]


@pytest.fixture(scope="module")
def drives():
    """Two axs-200 drives (two axes each) on 127.0.12.1-2, serials 1201.."""
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--eth", "127.0.12.1", "--count", "2", "--model", "axs-200",
                             "--serial", "1201"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        uris = [proc.stdout.readline().strip() for _ in range(2)]
        if not all(u.startswith("eth://") for u in uris):
            proc.kill()
            pytest.fail(f"axlink-sim did not start: {uris!r} {proc.stderr.read()!r}")
        yield uris
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
        proc.stdout.close()
        proc.stderr.close()


def walk(doc, path="$"):
    """Every (path, key, value) of the objects in @doc, depth first."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from walk(v, f"{path}[{i}]")


def check_dialect(r):
    """The shared rules for any successful --json document; returns it."""
    assert r.code == 0, r
    doc = r.json()
    for path, key, value in walk(doc):
        where = f"{path}.{key} in {r!r}"
        assert key not in RETIRED_KEYS, where
        assert value != "", f"absent value must be null, not '': {where}"
        if key == "statusword":
            assert value is None or (isinstance(value, int) and not isinstance(value, bool)
                                     and 0 <= value <= 0xFFFF), where
        if key == "serial_number":
            assert value is None or (isinstance(value, int) and value >= 0), where
        if key in ("firmware_version", "mode"):
            assert value is None or isinstance(value, str), where
    return doc


def check_error(r, status):
    """A failed --json run: the exit status, and exactly the error object."""
    assert r.code == status, r
    doc = r.json()
    assert list(doc) == ["error"], r
    e = doc["error"]
    assert list(e) == ERROR_KEYS, r
    assert isinstance(e["code"], int) and e["code"] < 0, r
    assert re.fullmatch(r"AX_E[A-Z]+", e["name"]), r
    assert re.fullmatch(r"AX_ERRCLASS_[A-Z]+", e["class"]), r
    assert e["message"] and e["message"] in r.err, r  # the same text on stderr
    assert e["exit_status"] == status, r
    return e


# ---- every --json command, one dialect --------------------------------------

def test_identity_keys_agree_in_list_scan_and_info(axlink, drives):
    lst = check_dialect(axlink("list", "eth://127.0.12.1,127.0.12.2", "--timeout-ms", "1500",
                               "--json"))
    scan = check_dialect(axlink("scan", "eth://127.0.12.1,127.0.12.2", "--timeout-ms", "1500",
                                "--json"))
    info = [check_dialect(axlink("info", u, "--json")) for u in drives]
    by_uri = {}
    for name, rows in (("list", lst), ("scan", scan), ("info", info)):
        assert sorted(d["uri"] for d in rows) == drives, (name, rows)
        for d in rows:
            by_uri.setdefault(d["uri"], []).append((name, d))
    for uri, seen in by_uri.items():
        serials = {(d["serial_number"]) for _, d in seen}
        firmware = {d["firmware_version"] for _, d in seen}
        ids = {(d["vendor_id"], d["product_code"], d["revision"]) for _, d in seen}
        assert len(serials) == 1 and serials <= {1201, 1202}, seen
        assert len(firmware) == 1 and firmware.pop().startswith("axs-200"), seen
        assert len(ids) == 1, seen
    for d in info:
        assert [a["axis"] for a in d["axes"]] == [1, 2], d
        assert all(isinstance(a["statusword"], int) and a["error"] is None
                   for a in d["axes"]), d


def test_scan_of_nothing_there_is_null_not_empty(axlink, drives):
    # 127.0.12.9 has no drive: the row (if any) holds nulls for what it lacks.
    rows = check_dialect(axlink("scan", "eth://127.0.12.1,127.0.12.9", "--timeout-ms", "800",
                                "--json"))
    assert [d["uri"] for d in rows] == [drives[0]], rows
    assert rows[0]["message"] is None and rows[0]["serial_number"] == 1201, rows


def test_axis_commands_share_statusword_and_mode(axlink, drives):
    uri = drives[1]
    for args in (["reset", uri], ["disable", uri], ["enable", uri], ["mode", uri, "pv"],
                 ["velocity", uri, "1", "--units", "rev"], ["stop", uri],
                 ["quick-stop", uri], ["reset", uri], ["disable", uri],
                 ["enable", uri, "--axis", "2"], ["disable", uri, "--axis", "2"]):
        d = check_dialect(axlink(*args, "--json"))
        assert d["axis"] in (1, 2), d
        if args[0] in ("enable", "disable", "reset", "stop", "quick-stop"):
            assert isinstance(d["statusword"], int), d
    s = check_dialect(axlink("state", uri, "--json"))
    assert list(s) == ["axis", "state", "statusword", "mode", "position", "velocity", "fault"], s
    assert s["mode"] == "profile_velocity", s  # what mode pv set, by the same name
    assert s["state"] == "switch_on_disabled" and s["statusword"] & 0x4F == 0x40, s


def test_register_monitor_db_and_tool_commands(axlink, drives, tmp_path):
    uri = drives[0]
    d = check_dialect(axlink("read", uri, "DRV_PROT_VBUS_VALUE", "--json"))
    assert d["register"] == "DRV_PROT_VBUS_VALUE" and isinstance(d["value"], float), d
    d = check_dialect(axlink("read", uri, "0x6E6:u32", "--subnode", "0", "--json"))
    assert d["value"] == 1201, d
    check_dialect(axlink("write", uri, "CL_POS_SET_POINT_VALUE", "-5", "--json"))
    check_dialect(axlink("monitor", uri, "CL_POS_FBK_VALUE", "--duration-s", "0.2", "--json"))
    check_dialect(axlink("plugins", "--json"))
    v = check_dialect(axlink("version", "--json"))
    assert list(v) == ["cli", "library", "plugin_abi"], v
    db = tmp_path / "d.db"
    check_dialect(axlink("db", "import", os.path.join(DEVICES, "axs-200.xdf"), "--db", db,
                         "--json"))
    check_dialect(axlink("db", "list", "--db", db, "--json"))
    check_dialect(axlink("db", "show", "axs-200", "--db", db, "--json"))
    check_dialect(axlink("db", "resolve", "0xA71C", "0x00010064", "0x1", "--db", db, "--json"))


def test_watch_lines_share_the_dialect(cli_path, axlink, drives):
    proc = subprocess.Popen([cli_path, "watch", "eth://127.0.12.1", "--period-ms", "200",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=axlink.env)
    try:
        line = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    ev = json.loads(line)
    assert ev["event"] == "added" and ev["serial_number"] == 1201, ev
    for _, key, value in walk(ev):
        assert key not in RETIRED_KEYS and value != "", ev


# ---- failures: one error object ---------------------------------------------

@pytest.mark.parametrize("args,status,cls", [
    (["read", "eth://127.0.12.9", "0x6E1:u32", "--timeout-ms", "300"], 1,
     "AX_ERRCLASS_TRANSPORT"),
    (["info", "nope:"], 1, "AX_ERRCLASS_PLUGIN"),
    (["state", "eth://127.0.12.9", "--timeout-ms", "300"], 1, None),
    (["db", "show", "no-such-model"], 1, None),
    (["read", "virtual:", "NO_SUCH_REGISTER"], 1, "AX_ERRCLASS_DICT"),
    (["plugins", "--plugin-dir", "/nonexistent-axlink-dir"], 1, "AX_ERRCLASS_PLUGIN"),
    (["read", "virtual:", "0x6E1:u33"], 2, "AX_ERRCLASS_ARGUMENT"),
    (["move", "virtual:", "abc"], 2, "AX_ERRCLASS_ARGUMENT"),
    (["frobnicate"], 2, "AX_ERRCLASS_ARGUMENT"),
    (["read", "virtual:", "0x6E1:u32", "--bogus"], 2, "AX_ERRCLASS_ARGUMENT"),
])
def test_failure_prints_one_error_object(axlink, args, status, cls):
    # --json first and last: a usage error found before --json is parsed is JSON too.
    for r in (axlink(*args, "--json"), axlink("--json", *args)):
        e = check_error(r, status)
        if cls:
            assert e["class"] == cls, r


def test_failure_without_json_prints_nothing_on_stdout(axlink):
    r = axlink("read", "eth://127.0.12.9", "0x6E1:u32", "--timeout-ms", "300")
    assert r.code == 1 and r.out == "" and r.err.startswith("axlink: "), r


# ---- version, did you mean, exit codes, spelling -----------------------------

def test_version_names_cli_library_and_plugin_abi(axlink):
    r = axlink("version")
    assert r.code == 0, r
    m = re.fullmatch(r"axlink (\S+)\nlibaxlink (\S+)\nplugin ABI (\d+)\.(\d+)\n", r.out)
    assert m, r
    v = axlink("version", "--json").json()
    assert v == {"cli": m[1], "library": m[2], "plugin_abi": f"{m[3]}.{m[4]}"}, v
    header = open(os.path.join(DEVICES, "..", "include", "axlink", "plugin.h")).read()
    major = re.search(r"#define AX_PLUGIN_ABI_MAJOR (\d+)", header)[1]
    minor = re.search(r"#define AX_PLUGIN_ABI_MINOR (\d+)", header)[1]
    assert (m[3], m[4]) == (major, minor), r
    assert axlink("--version").out == r.out
    assert axlink("--version", "--json").json() == v
    assert axlink("version", "extra").code == 2


@pytest.mark.parametrize("args,suggestion", [
    (["raed", "virtual:", "0x6E1:u32"], "did you mean 'read'?"),
    (["stae", "virtual:"], "did you mean 'state'?"),
    (["quickstop", "virtual:"], "did you mean 'quick-stop'?"),
    (["versoin"], "did you mean 'version'?"),
    (["db", "improt", "x.xdf"], "did you mean 'db import'?"),
    (["read", "virtual:", "0x6E1:u32", "--jsno"], "did you mean '--json'?"),
    (["read", "virtual:", "0x6E1:u32", "--subnoed", "0"], "did you mean '--subnode'?"),
    (["list", "--timeout-sm", "100"], "did you mean '--timeout-ms'?"),
    (["monitor", "virtual:", "CL_POS_FBK_VALUE", "--period-sm", "5"],
     "did you mean '--period-ms'?"),
])
def test_did_you_mean_for_commands_and_options(axlink, args, suggestion):
    r = axlink(*args)
    assert r.code == 2 and suggestion in r.err, r


def test_no_suggestion_when_nothing_is_close(axlink):
    r = axlink("frobnicate")
    assert r.code == 2 and "did you mean" not in r.err and "commands:" in r.err, r
    r = axlink("read", "virtual:", "0x6E1:u32", "--zzzzzzzz")
    assert r.code == 2 and "did you mean" not in r.err, r


def test_did_you_mean_register_from_the_drives_dictionary(axlink, drives):
    uri = drives[0]
    r = axlink("read", uri, "CL_POS_FBK_VALU")
    assert r.code == 1 and "did you mean 'CL_POS_FBK_VALUE'?" in r.err, r
    r = axlink("write", uri, "cl_pos_set_point_valeu", "5", "--json")
    e = check_error(r, 1)
    assert "did you mean 'CL_POS_SET_POINT_VALUE'?" in e["message"], r
    r = axlink("monitor", uri, "DRV_PROT_VBUS_VALEU", "--duration-s", "0.1")
    assert r.code == 1 and "did you mean 'DRV_PROT_VBUS_VALUE'?" in r.err, r
    r = axlink("read", uri, "TOTALLY_UNRELATED_NAME_XYZ")
    assert r.code == 1 and "did you mean" not in r.err, r


@pytest.mark.parametrize("args", [
    [], ["read"], ["read", "virtual:", "0x6E1"], ["read", "virtual:", "0x6E1:u32", "x"],
    ["write", "virtual:", "0x020:u8", "256"], ["write", "virtual:", "0x020:u32", "12abc"],
    ["move", "virtual:", "abc"], ["velocity", "virtual:", "x"], ["mode", "virtual:", "jog"],
    ["enable", "virtual:", "--axis", "0"], ["home", "virtual:", "--method", "zz"],
    ["db", "resolve", "1", "2", "x"], ["db"], ["scan"], ["info"],
    ["list", "--timeout-ms", "0"], ["watch", "--period-ms", "0"],
    ["monitor", "virtual:", "CL_POS_FBK_VALUE", "--period-ms", "0"],
    ["monitor", "virtual:", "0x6E1:u16", "--duration-s", "0.1"],
    ["read", "virtual:", "0x6E1:u32", "--subnode", "99"], ["version", "x"],
])
def test_every_usage_error_exits_2(axlink, args):
    r = axlink(*args)
    assert r.code == 2 and r.out == "" and "usage: axlink" in r.err, r


@pytest.mark.parametrize("args", [
    ["read", "nope:", "0x6E1:u32"], ["read", "virtual:?bogus=1", "0x6E1:u32"],
    ["write", "virtual:", "0x011:u16", "1"], ["move", "virtual:", "100", "--no-wait"],
    ["read", "virtual:", "X", "--dict", "/nonexistent.xdf"],
    ["list", "--db", "/nonexistent.db"], ["db", "show", "no-such-model"],
    ["enable", "virtual:", "--axis", "9"], ["scan", "eth://127.0.0.0/8"],
    ["monitor", "virtual:", "NO_SUCH_REGISTER", "--duration-s", "0.1"],
    ["plugins", "--plugin-dir", "/nonexistent-axlink-dir"],
])
def test_every_runtime_failure_exits_1(axlink, args):
    r = axlink(*args)
    assert r.code == 1 and r.out == "" and r.err.startswith("axlink: "), r
    assert "usage: axlink" not in r.err, r


def test_one_spelling_for_periods_and_timeouts(axlink):
    """Every help text names --timeout-ms and --period-ms, never --timeout/--period."""
    names = [line.split()[0] for line in axlink("--help").out.split("Commands:\n")[1]
             .split("\n\n")[0].splitlines()]
    for name in names:
        args = name.split() if name != "db" else ["db", "list"]
        h = axlink(*args, "--help")
        assert h.code == 0, h
        assert not re.search(r"--(timeout|period)(?![-\w])", h.out), h
        assert not re.search(r"--\w+-s\b(?<!duration-s)", h.out), h


def test_monitor_takes_address_type_like_read(axlink, drives):
    uri = drives[0]
    r = axlink("write", uri, "CL_POS_SET_POINT_VALUE", "-7")
    assert r.code == 0, r
    r = axlink("monitor", uri, "0x020:s32", "--duration-s", "0.2", "--json")
    d = check_dialect(r)
    (ch,) = d["channels"]
    assert ch["register"] == "0x020:s32" and ch["last"] == -7, d
    # An address the dictionary lacks: said so, with the address and subnode.
    r = axlink("monitor", uri, "0xFFE:u32", "--duration-s", "0.1")
    assert r.code == 1 and "0xFFE" in r.err and "subnode 1" in r.err, r


def test_negative_numbers_need_no_double_dash(axlink, drives):
    # A negative value as is, with options after it: they still count as options.
    r = axlink("write", drives[0], "CL_POS_SET_POINT_VALUE", "-1000", "--json")
    assert r.code == 0 and r.json()["value"] == -1000, r
    r = axlink("read", drives[0], "0x020:s32", "--json")
    assert r.code == 0 and r.json()["value"] == -1000, r
