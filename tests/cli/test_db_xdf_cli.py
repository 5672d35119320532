# SPDX-License-Identifier: MIT
"""End-to-end tests of what the device database keeps of a dictionary file's
format: the PDO access a version 3 file gives in pdo_access ('db show').

Expected values come from the files, read here with ElementTree: an oracle
independent of the library's importer and of the generator.
"""
import os
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.realpath(os.path.join(HERE, "..", "data"))
DEVICES = os.path.realpath(os.path.join(HERE, "..", "..", "devices"))


def data(name):
    return os.path.join(DATA, name)


def device(name):
    return os.path.join(DEVICES, name)


def pdo_by_register(path, tag):
    """{(id, subnode): PDO access} of the registers @tag of a file's first device:
    pdo_access in version 3 (older version 3 files: cyclic), cyclic in version 2."""
    root = ET.parse(path).getroot()
    v3 = root.findtext("Header/Version").strip().startswith("3")
    found = {}
    for reg in root.iter(tag):
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
