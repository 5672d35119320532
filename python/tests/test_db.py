# SPDX-License-Identifier: MIT
"""The device database: import, list, load, resolve."""
import os

import pytest

import axlink
from conftest import AXS100, AXS200, VENDOR


def test_db__import_list_load(tmp_db, devices_dir):
    with axlink.db.Database(tmp_db, create=True) as db:
        rep = db.import_file(devices_dir / "axs-100.xdf")
        assert rep.file.endswith("axs-100.xdf") and rep.database == db.path
        assert rep.format_version == 3
        assert sorted(m.interface for m in rep.models) == ["CAN", "ETH", "EoE"]
        assert rep.skipped == 0 and rep.warnings == () and not rep.replaced
        again = db.import_file(devices_dir / "axs-100.xdf")  # idempotent
        assert len(again.models) == 3
        models = db.list()
        assert len(models) == 3
        eth = next(m for m in models if m.interface == "ETH")
        assert (eth.vendor_id, eth.product_code, eth.revision) == (VENDOR, *AXS100)
        assert eth.name == "axs-100" and eth.registers > 50 and len(eth.sha256) == 64
        assert eth.database == db.path
        d = db.load(eth.id)
        assert d.name == "axs-100" and len(d) == eth.registers


def test_db__resolve_rules(tmp_db, devices_dir):
    with axlink.db.Database(tmp_db, create=True) as db:
        db.import_file(devices_dir / "axs-100.xdf")
        exact = db.resolve(VENDOR, *AXS100)
        assert exact.match == "exact" and exact.dictionary.name == "axs-100"
        assert "exact" in exact.reason
        higher = db.resolve(VENDOR, AXS100[0], AXS100[1] + 5)
        assert higher.match == "lower-revision" and higher.dictionary is not None
        lower = db.resolve(VENDOR, AXS100[0], 1)
        assert lower.match == "any-revision"
        none = db.resolve(VENDOR, 0x0BAD, 1)
        assert none.match == "none" and none.dictionary is None and none.reason


def test_db__module_functions_use_the_search_order(devices_dir, tmp_path, monkeypatch):
    # The installed database of the build tree knows every model in devices/.
    r = axlink.db.resolve(VENDOR, *AXS200)
    assert r.match == "exact" and r.dictionary.name == "axs-200"
    installed = axlink.db.location("installed")
    assert installed and os.path.exists(installed)
    names = {m.name for m in axlink.db.list()}
    assert {"axs-100", "axs-200"} <= names

    # AXLINK_DB comes first and is listed with its models.
    env_db = tmp_path / "env.db"
    with axlink.db.Database(env_db, create=True) as db:
        db.import_file(devices_dir / "axs-200.xdf")
    monkeypatch.setenv("AXLINK_DB", str(env_db))
    assert axlink.db.location("env") == str(env_db)
    assert any(m.database == str(env_db) for m in axlink.db.list())
    monkeypatch.delenv("AXLINK_DB")
    assert axlink.db.location("env") is None
    with pytest.raises(ValueError, match="unknown database location"):
        axlink.db.location("nowhere")


def test_db__import_file_goes_to_the_user_database(copy_xdf):
    user = axlink.db.location("user")
    assert user and user.startswith(os.environ["XDG_DATA_HOME"])  # the suite's own home
    rep = axlink.db.import_file(copy_xdf("axs-900.xdf"))
    assert rep.database == user and os.path.exists(user)
    assert any(m.name == "axs-900" and m.database == user for m in axlink.db.list())


def test_db__errors(tmp_path, tmp_db, devices_dir):
    with axlink.db.Database(tmp_db, create=True) as db:
        with pytest.raises(axlink.DictionaryError, match="missing.xdf"):
            db.import_file(tmp_path / "missing.xdf")
        bad = tmp_path / "bad.xdf"
        bad.write_text("<not-a-dictionary/>")
        with pytest.raises(axlink.DictionaryError, match="bad.xdf"):
            db.import_file(bad)
    with axlink.db.Database(tmp_db, readonly=True) as ro:
        with pytest.raises(axlink.DatabaseError) as ei:
            ro.import_file(devices_dir / "axs-200.xdf")
        assert ei.value.code == axlink._native.lib.AX_EACCESS


def test_db__import_strict(tmp_path, tmp_db, devices_dir):
    """A version 3 file without pdo_access: imported with a warning, or refused with strict."""
    text = (devices_dir / "axs-100.xdf").read_text(encoding="utf-8")
    assert ' pdo_access="CYCLIC_RX"' in text
    bad = tmp_path / "no-pdo.xdf"
    bad.write_text(text.replace(' pdo_access="CYCLIC_RX"', ""), encoding="utf-8")
    with axlink.db.Database(tmp_db, create=True) as db:
        with pytest.raises(axlink.DictionaryError,
                           match=r"no-pdo\.xdf:\d+: MCBRegister '\w+': no attribute "
                                 r"'pdo_access', which format version 3 requires"):
            db.import_file(bad, strict=True)
        assert db.list() == []
        rep = db.import_file(bad)
        assert rep.skipped == 0 and len(rep.models) == 3
        assert sum("no attribute 'pdo_access'" in w for w in rep.warnings) == 3  # per device
        assert db.import_file(devices_dir / "axs-900.xdf", strict=True).warnings == ()
