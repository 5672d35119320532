# SPDX-License-Identifier: MIT
"""Browsing dictionaries: registers, categories, enums, bitfields, errors, search."""
import pytest

import axlink


@pytest.fixture(scope="module")
def axs100(devices_dir):
    return axlink.load_dictionary(devices_dir / "axs-100.xdf", "ETH")


def test_dictionary__files_with_several_interfaces(devices_dir):
    dicts = axlink.load_dictionaries(devices_dir / "axs-100.xdf")
    assert sorted(d.identity.interface for d in dicts) == ["CAN", "ETH", "EoE"]
    can = axlink.load_dictionary(devices_dir / "axs-100.xdf", "CAN")
    assert can.identity.address_space == 2  # CANopen: index << 8 | subindex
    with pytest.raises(axlink.DictionaryError, match="no ECAT dictionary"):
        axlink.load_dictionary(devices_dir / "axs-100.xdf", "ECAT")


def test_dictionary__identity(axs100):
    i = axs100.identity
    assert (i.vendor_id, i.product_code, i.revision) == (0xA71C, 0x00010064, 0x00010002)
    assert i.name == axs100.name == "axs-100"
    assert i.format_version == 3 and i.axes == 1 and i.address_space == 1
    assert axs100.source.endswith("axs-100.xdf")
    assert "axs-100" in repr(axs100)


def test_dictionary__registers_and_lookup(axs100):
    regs = axs100.registers
    assert len(regs) == len(axs100) > 50
    assert list(axs100)[0] is regs[0]
    reg = axs100["CL_POS_FBK_VALUE"]
    assert (reg.subnode, reg.address, reg.dtype, reg.access) == (1, 0x030, "s32", "r")
    assert reg.readable and not reg.writable
    assert reg.units == "cnt" and reg.label and reg.description
    assert reg in regs and axs100.find("CL_POS_FBK_VALUE", 1) is reg
    assert axs100.find_address(0x030, 1) is reg
    assert "CL_POS_FBK_VALUE" in axs100 and "NOPE" not in axs100 and 3 not in axs100
    with pytest.raises(axlink.DictionaryError, match="NOPE"):
        axs100["NOPE"]
    with pytest.raises(axlink.DictionaryError):
        axs100.find_address(0xFFE, 1)


def test_dictionary__register_properties(axs100):
    serial = axs100["DRV_ID_SERIAL_NUMBER_COCO"]
    assert serial.subnode == 0 and serial.category == "IDENTIFICATION"
    version = axs100["DRV_APP_COCO_VERSION"]
    assert version.dtype == "str" and version.default == "axs-100 fw 1.2.0-sim"
    window = axs100["PROF_POS_WINDOW"]
    assert window.range == (0, 1000000) and window.range_text == ("0", "1000000")
    assert window.default == 10
    assert axs100["PROF_QUICK_STOP_DEC"].range == (0.0, 100000.0)
    assert axs100["CL_POS_FBK_VALUE"].range is None
    assert axs100["DRV_USER_DATA"].dtype == "bytes"
    label = axs100["DRV_ID_SERIAL_NUMBER_COCO"]
    assert label.label_in("es_ES")  # falls back when a language is missing
    assert axs100["DRV_STORE_COCO_ALL"].label_in("es_ES") == "Guardar todo (comunicaciones)"


def test_dictionary__enums(axs100):
    mode = axs100["DRV_OP_CMD"]
    assert mode.enums[0x14] == "Profile position" and mode.enums[0x113] == "Homing"
    assert mode.enum_label(3) == "Velocity" and mode.enum_label(12345) is None
    assert mode.enum_value("HOMING") == 0x113
    assert axs100["CL_POS_FBK_VALUE"].enums == {}


def test_dictionary__bitfields(axs100):
    control = axs100["DRV_STATE_CONTROL"]
    fields = {b.name: b for b in control.bitfields}
    assert fields["FAULT_RESET"].start == fields["FAULT_RESET"].end == 7
    assert fields["OPERATION_MODE_SPECIFIC"].width == 3
    assert control.bitfield("FAULT_RESET", 0x80) == 1
    assert control.bitfield("OPERATION_MODE_SPECIFIC", 0b1010000) == 0b101
    assert control.with_bitfield("HALT", 0x0F, 1) == 0x10F
    with pytest.raises(axlink.RangeError):
        control.with_bitfield("HALT", 0, 2)
    with pytest.raises(axlink.DictionaryError, match="NOPE"):
        control.bitfield("NOPE", 0)


def test_dictionary__categories_and_errors(axs100):
    cats = {c.id: c.label for c in axs100.categories}
    assert cats["IDENTIFICATION"] == "Product identification"
    errors = axs100.errors
    assert errors[0x06020000] == "Register does not exist"
    assert axs100.error_text(0x06020000) == "Register does not exist"
    assert axs100.error_text(0x12345678) is None


def test_dictionary__search(axs100):
    ids = [r.id for r in axs100.search("position window")]
    assert "PROF_POS_WINDOW" in ids and "PROF_POS_WINDOW_TIME" in ids
    assert all("window" in (r.id + r.label + r.description).lower()
               for r in axs100.search("WINDOW"))
    ident = axs100.search("", category="IDENTIFICATION")
    assert ident and all(r.category == "IDENTIFICATION" for r in ident)
    assert all(r.subnode == 0 for r in axs100.search("version", subnode=0))
    assert axs100.search("no such words anywhere") == []


def test_dictionary__version_2_file(devices_dir):
    d = axlink.load_dictionary(devices_dir / "axs-200.xdf")
    assert d.identity.format_version == 2 and d.identity.axes == 2
    assert d.find("PROF_MAX_VEL", 2).subnode == 2


def test_dictionary__pdo_access(devices_dir, axs100):
    """A version 3 file's pdo_access (a version 2 file's cyclic), under both names."""
    control, status = axs100["DRV_STATE_CONTROL"], axs100["DRV_STATE_STATUS"]
    assert (control.pdo_access, status.pdo_access) == ("CYCLIC_RX", "CYCLIC_TX")
    assert axs100["PROF_MAX_VEL"].pdo_access == "CONFIG"
    assert control.cyclic == control.pdo_access
    axs200 = axlink.load_dictionary(devices_dir / "axs-200.xdf")
    assert axs200.find("DRV_STATE_STATUS", 1).pdo_access == "CYCLIC_TX"


def _xdf_error_oracle(path):
    """Per device element, the errors the file gives it, read with ElementTree
    (independent of the library): [(interface, [(code, text, type, module)])]."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    version = int(float(root.findtext("Header/Version").strip()))
    lang = (root.findtext("Header/DefaultLanguage") or "en_US").strip()
    body = root.find("Body")
    if version >= 3:
        devices = [(d.tag[:-len("Device")], d) for d in body.find("Devices")]
    else:
        devices = [(d.get("Interface"), d) for d in body.findall("Device")]
    out = []
    for iface, dev in devices:
        errors = dev.find("Errors")
        if errors is None:
            errors = body.find("Errors")
        rows = []
        for e in ([] if errors is None else errors.findall("Error")):
            labels = {lb.get("lang"): lb.text or "" for lb in e.findall("Labels/Label")}
            text = labels.get(lang) or next(iter(labels.values()), "") or e.get("description", "")
            rows.append((int(e.get("id"), 16), text, e.get("error_type", ""),
                         e.get("affected_module", "")))
        out.append((iface, rows))
    return out


@pytest.mark.parametrize("name", ["axs-100.xdf", "axs-200.xdf", "axs-900.xdf"])
def test_dictionary__error_entries_match_the_file(devices_dir, name):
    """Every model names its error codes with text, type and affected module, as the
    file gives them (Errors: id, error_type, affected_module, Labels)."""
    dicts = axlink.load_dictionaries(devices_dir / name)
    oracle = _xdf_error_oracle(devices_dir / name)
    assert [d.identity.interface for d in dicts] == [iface for iface, _ in oracle]
    for d, (_, rows) in zip(dicts, oracle):
        assert rows, f"{name} {d.identity.interface}: no Errors section"
        got = [(e.code, e.text, e.type, e.module) for e in d.error_entries]
        assert got == rows
        for code, txt, typ, module in rows:
            assert all((txt, typ, module)), (name, hex(code))
            assert d.error_info(code) == axlink.ErrorEntry(code, txt, typ, module)
            assert d.error_text(code) == txt
    assert dicts[0].error_info(0x7FFFFFF1) is None


def test_dictionary__unreachable_registers_kept_and_flagged(devices_dir):
    """An MCB dictionary's registers past 12-bit addresses are kept, not reachable."""
    path = devices_dir.parent / "tests" / "data" / "addresses_beyond_mcb.xdf"
    eth, eoe = axlink.load_dictionaries(path)
    assert [(r.id, r.reachable) for r in eth] == [
        ("DRV_AXIS_NUMBER", True), ("DRV_STATE_STATUS", True), ("LAST_MCB_ADDRESS", True),
        ("FIRST_PAST_MCB", False), ("ETH_ONLY_SETTING", False)]
    assert eoe.find("EOE_FAR", 1).address == 0x2F0001 and not eoe.find("EOE_FAR", 1).reachable
