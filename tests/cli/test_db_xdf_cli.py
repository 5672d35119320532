# SPDX-License-Identifier: MIT
"""End-to-end tests of what the device database keeps of a dictionary file's
format: the PDO access a version 3 file gives in pdo_access ('db show'), the
attributes format version 3 makes mandatory ('db import --strict'), and the
generator's check that our own version 3 files carry all of them.

Expected values come from the files, read here with ElementTree: an oracle
independent of the library's importer and of the generator.
"""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.realpath(os.path.join(HERE, "..", "data"))
DEVICES = os.path.realpath(os.path.join(HERE, "..", "..", "devices"))
GEN_XDF = os.path.join(DEVICES, "gen_xdf.py")

# What format version 3 makes mandatory (ingenialink's DictionaryV3 reads each with
# attrib[...], so a file without one does not load there).
V3_REGISTER = ["address", "subnode", "address_type", "access", "dtype", "id", "pdo_access",
               "desc", "default", "cat_id"]
V3_DEVICE = ["firmwareVersion", "ProductCode", "PartNumber", "RevisionNumber"]
V3_ERROR = ["id", "error_type", "affected_module"]


def data(name):
    return os.path.join(DATA, name)


def device(name):
    return os.path.join(DEVICES, name)


def line_of(path, needle):
    with open(path, encoding="utf-8") as f:
        return 1 + next(i for i, t in enumerate(f) if needle in t)


def pdo_by_register(path, tag):
    """{(id, subnode): PDO access} of the registers @tag of a file's first device:
    pdo_access in version 3 (older version 3 files: cyclic), cyclic in version 2."""
    root = ET.parse(path).getroot()
    v3 = root.findtext("Header/Version").strip().startswith("3")
    found = {}
    first = root.find("Body/Devices")[0] if v3 else root.find("Body/Device")
    for reg in first.iter(tag):
        pdo = reg.get("pdo_access") if v3 else None
        found.setdefault((reg.get("id"), int(reg.get("subnode", "1"))),
                         pdo if pdo is not None else reg.get("cyclic"))
    return found


def test_db_show_gives_the_pdo_access_of_each_register(axlink, tmp_path):
    """v3 pdo_access (a vendor-style file and our own), v2 cyclic: in --json and in text."""
    db = tmp_path / "devices.db"
    files = [(data("v3_pdo_access.xdf"), "AXT-PDO", "MCBRegister"),
             (device("axs-100.xdf"), "axs-100", "MCBRegister"),
             (device("axs-200.xdf"), "axs-200", "Register")]
    for path, _, _ in files:
        assert axlink("db", "import", "--db", db, path).code == 0
    for path, model, tag in files:
        want = pdo_by_register(path, tag)
        assert set(want.values()) >= {"CYCLIC_RX", "CYCLIC_TX", "CONFIG"}, want
        m = axlink("db", "show", model, "--db", db, "--json").json()[0]   # ETH comes first
        got = {(x["id"], x["subnode"]): x["pdo_access"] for x in m["registers"]}
        assert got == want, (model, got, want)
    t = axlink("db", "show", "AXT-PDO", "--db", db)
    assert t.code == 0, t
    lines = t.out.splitlines()
    header = next(ln for ln in lines if ln.split()[:2] == ["ID", "SUBNODE"])
    assert header.split() == ["ID", "SUBNODE", "ADDRESS", "TYPE", "ACCESS", "PDO", "UNITS",
                              "DEFAULT"], t
    rows = {ln.split()[0]: ln.split() for ln in lines if ln.startswith("  CL_POS_SET_POINT")}
    assert rows["CL_POS_SET_POINT_VALUE"] == ["CL_POS_SET_POINT_VALUE", "1", "0x020", "s32",
                                              "rw", "CYCLIC_RXTX", "cnt", "0"], t


def test_db_import_strict_refuses_a_v3_file_missing_an_attribute(axlink, tmp_path):
    bad = data("v3_missing_pdo_access.xdf")
    db = tmp_path / "devices.db"
    for args in ([], ["--json"]):
        r = axlink("db", "import", "--strict", "--db", db, bad, *args)
        assert r.code == 1 and r.no_result(), r
        line = line_of(bad, "<ETHDevice")
        assert (f"axlink: {bad}:{line}: ETHDevice: no attribute 'PartNumber', which format "
                "version 3 requires (7 missing attributes in the file); a strict import "
                "refuses it") in r.err, r
    assert axlink("db", "list", "--db", db, "--json").json() == []

    # Without --strict: imported whole, one warning per gap with its line.
    r = axlink("db", "import", "--db", db, bad, "--json")
    assert r.code == 0, r
    rep = r.json()[0]
    assert rep["registers"] == {"ETH": 3} and rep["skipped"] == 0, rep
    line = line_of(bad, 'id="DRV_STATE_CONTROL"')
    assert (f"{bad}:{line}: MCBRegister 'DRV_STATE_CONTROL': no attribute 'pdo_access', which "
            "format version 3 requires (nor in 1 more MCBRegister elements of this device)") \
        in rep["warnings"], rep
    assert sum("which format version 3 requires" in w for w in rep["warnings"]) == 6, rep

    # Complete files pass: a vendor-style one and every file we ship.
    r = axlink("db", "import", "--strict", "--db", tmp_path / "ok.db", data("v3_pdo_access.xdf"),
               *[device(n) for n in ("axs-100.xdf", "axs-200.xdf", "axs-900.xdf")])
    assert r.code == 0 and "4 of 4 file(s) imported" in r.err, r
    assert "warning" not in r.err, r


def test_db_import_help_names_strict(axlink):
    r = axlink("db", "import", "--help")
    assert r.code == 0 and "--strict" in r.out, r


def test_shipped_v3_files_carry_every_mandatory_attribute():
    """Read with ElementTree, not with the generator's own check."""
    for name in sorted(os.listdir(DEVICES)):
        if not name.endswith(".xdf"):
            continue
        root = ET.parse(device(name)).getroot()
        if not root.findtext("Header/Version").strip().startswith("3"):
            continue
        devs = list(root.find("Body/Devices"))
        assert devs, name
        for dev in devs:
            assert all(dev.get(a) is not None for a in V3_DEVICE), (name, dev.tag)
            regs = dev.findall("MCBRegisters/MCBRegister")
            attrs = V3_REGISTER
            if dev.tag == "CANDevice":
                # A CANopen object's Subitem: subindex where an MCBRegister has address.
                objects = dev.findall("CANopenObjects/CANopenObject")
                assert all(o.get("index") and o.get("datatype") for o in objects), name
                regs = dev.findall("CANopenObjects/CANopenObject/Subitems/Subitem")
                attrs = ["subindex"] + V3_REGISTER[1:]
            assert regs, (name, dev.tag)
            for reg in regs:
                missing = [a for a in attrs if reg.get(a) is None]
                assert not missing, (name, reg.get("id"), missing)
                assert reg.get("pdo_access") in ("CONFIG", "CYCLIC_RX", "CYCLIC_TX"), \
                    (name, reg.get("id"))
                bytes.fromhex(reg.get("default"))
                for rng in reg.findall("Range"):
                    assert rng.get("min") is not None and rng.get("max") is not None
            for err in dev.findall("Errors/Error"):
                assert all(err.get(a) is not None for a in V3_ERROR), (name, err.get("id"))


def test_gen_xdf_check_validates_every_v3_file_of_the_folder(tmp_path):
    """--check passes our files and fails on a version 3 file that lacks an attribute,
    written by the generator or not, naming file:line, element and attribute."""
    for name in os.listdir(DEVICES):
        if name.endswith(".xdf"):
            shutil.copy(device(name), tmp_path / name)

    def check():
        return subprocess.run([sys.executable, GEN_XDF, "--check", "--out", str(tmp_path)],
                              capture_output=True, text=True, timeout=120, check=False)

    r = check()
    assert r.returncode == 0, r
    bad = tmp_path / "vendor.xdf"
    shutil.copy(data("v3_missing_pdo_access.xdf"), bad)
    r = check()
    assert r.returncode == 1, r
    line = line_of(bad, 'id="DRV_STATE_CONTROL"')
    assert (f"{bad}:{line}: MCBRegister 'DRV_STATE_CONTROL': no attribute 'pdo_access', which "
            "format version 3 requires") in r.stderr, r
    assert f"{bad}:{line_of(bad, '<Range')}: Range of 'CL_POS_SET_POINT_VALUE': no attribute " \
        "'max'" in r.stderr, r
    assert "out of date" not in r.stderr, r
    # A version 2 file has no such list; --validate checks named files alone.
    v = subprocess.run([sys.executable, GEN_XDF, "--validate", data("v2_axes.xdf"),
                        data("v3_pdo_access.xdf")], capture_output=True, text=True,
                       timeout=60, check=False)
    assert v.returncode == 0 and v.stderr == "", v


def test_db_import_of_a_missing_file_creates_no_database(axlink, tmp_path):
    """A file that is not there fails, naming it, before any database is
    opened: the user database is not created on the way (nor one at --db)."""
    missing = tmp_path / "missing.xdf"
    for args in ([], ["--json"]):
        r = axlink("db", "import", missing, *args)
        assert r.code == 1, r
        assert f"'{missing}': file not found" in r.err, r
        assert r.no_result(), r
        assert not os.path.exists(axlink.user_db), r
    r = axlink("db", "import", missing, "--json")
    assert r.json()["error"]["name"] == "AX_ENOTFOUND", r

    # Nor one at --db, for any number of missing files.
    db = tmp_path / "new.db"
    r = axlink("db", "import", "--db", db, missing, tmp_path / "nowhere" / "x.xdf")
    assert r.code == 1, r
    assert f"'{tmp_path / 'nowhere' / 'x.xdf'}': file not found" in r.err, r
    assert f"0 of 2 file(s) imported; no database created at {db}" in r.err, r
    assert not db.exists(), r

    # The other files are still imported; then the database exists and stays.
    r = axlink("db", "import", "--db", db, missing, device("axs-200.xdf"))
    assert r.code == 1 and f"1 of 2 file(s) imported into {db}" in r.err, r
    r = axlink("db", "import", "--db", db, missing)
    assert r.code == 1 and f"0 of 1 file(s) imported into {db}" in r.err, r
    # axs-200.xdf holds two interfaces (ETH and CAN): one entry each.
    assert sorted((m["name"], m["interface"])
                  for m in axlink("db", "list", "--db", db, "--json").json()) == \
        [("axs-200", "CAN"), ("axs-200", "ETH")]
