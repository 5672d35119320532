# SPDX-License-Identifier: MIT
"""Typing: the package passes `mypy --strict`, and code that uses it
type-checks with the types it means: read_as() returns the type asked for,
poll() a Samples with a duration and a Poller without. read_as() checks at
run time what it promises."""
import configparser
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import axlink

PYTHON_SRC = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(cache, *args, path=()):
    """Debian's mypy (python3-mypy) on the package sources (with their
    stubs for the compiled extension, and the folders of @path); returns
    (exit status, output)."""
    env = dict(os.environ, MYPYPATH=os.pathsep.join([str(PYTHON_SRC), *map(str, path)]))
    env.pop("PYTHONPATH", None)  # the built copy has no stubs: check the sources
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir",
         str(cache), *args],
        capture_output=True, text=True, cwd=PYTHON_SRC, env=env, timeout=240, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_typing__package_is_mypy_strict_clean(cache):
    rc, out = mypy(cache, "-p", "axlink")
    assert (rc, out) == (0, "")


def test_typing__no_module_is_exempt():
    cfg = configparser.ConfigParser()
    assert cfg.read(PYTHON_SRC / "mypy.ini")
    exempt = [name for name in cfg.sections() if name.startswith("mypy-axlink")
              and cfg[name].getboolean("ignore_errors", fallback=False)]
    assert exempt == []


def test_typing__asyncua_is_opaque_where_installed(cache, tmp_path):
    """The OPC UA gateway's modules check the same with and without asyncua
    (an optional extra whose own inline types do not hold under --strict):
    here an asyncua whose types contradict every use of it."""
    fake = tmp_path / "site" / "asyncua"
    for sub in ("", "common", "crypto", "server"):
        (fake / sub).mkdir(parents=True, exist_ok=True)
        (fake / sub / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("Server: int = 0\nua: int = 0\n")
    (fake / "common" / "manage_nodes.py").write_text("")
    (fake / "common" / "callback.py").write_text("CallbackType = 1\n")
    (fake / "crypto" / "permission_rules.py").write_text(
        "USER_TYPES = 1\nPermissionRuleset = 1\nUser = 1\nUserRole = 1\n")
    (fake / "server" / "user_managers.py").write_text("UserManager = 1\n")
    rc, out = mypy(tmp_path / "cache", "-m", "axlink.opcua", "-m", "axlink._opcua_server",
                   "-m", "axlink._opcua_model", path=[tmp_path / "site"])
    assert (rc, out) == (0, "")


def test_typing__user_code_gets_the_types(cache, tmp_path):
    user = tmp_path / "user.py"
    user.write_text(textwrap.dedent("""\
        import axlink

        with axlink.open("virtual:") as drive:
            reveal_type(drive.read("CL_POS_FBK_VALUE"))
            reveal_type(drive.read_as("CL_POS_FBK_VALUE", int))
            reveal_type(drive.read_as("DRV_PROT_VBUS_VALUE", float))
            reveal_type(drive.axes[1].read_as("DRV_STATE_STATUS", int))
            reveal_type(drive.poll(["CL_POS_FBK_VALUE"], 0.01, duration=0.1))
            reveal_type(drive.poll(["CL_POS_FBK_VALUE"], 0.01))
            position: str = drive.read_as("CL_POS_FBK_VALUE", int)
        """))
    rc, out = mypy(cache, str(user))
    revealed = [line.split("Revealed type is ", 1)[1] for line in out.splitlines()
                if "Revealed type is" in line]
    assert revealed == [
        '"Union[builtins.int, builtins.float, builtins.str, builtins.bytes]"',  # bool is an int
        '"builtins.int"', '"builtins.float"', '"builtins.int"',
        '"axlink._poll.Samples"', '"axlink._poll.Poller"']
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1 and 'user.py:10: error: Incompatible types in assignment' \
        in errors[0], out
    assert rc == 1


@pytest.fixture
def drive():
    with axlink.open("virtual:?model=axs-100") as d:
        yield d


def test_read_as__returns_the_type_asked_for(drive):
    pos = drive.read_as("CL_POS_FBK_VALUE", int)
    assert type(pos) is int and pos == drive.read("CL_POS_FBK_VALUE")
    vbus = drive.read_as("DRV_PROT_VBUS_VALUE", float)
    assert type(vbus) is float and vbus == drive.read("DRV_PROT_VBUS_VALUE")
    # an integer register read as float: converted, exactly
    as_float = drive.read_as("DRV_ID_SERIAL_NUMBER_COCO", float)
    assert type(as_float) is float and as_float == drive.read("DRV_ID_SERIAL_NUMBER_COCO")
    assert type(drive.axes[1].read_as("DRV_STATE_STATUS", int)) is int
    reg = drive.dictionary["CL_POS_FBK_VALUE"]
    assert drive.read_as(reg, int) == drive.read(reg)


def test_read_as__refuses_another_type(drive):
    with pytest.raises(axlink.TypeMismatchError) as e:
        drive.read_as("DRV_PROT_VBUS_VALUE", int)  # a float register
    assert "register 'DRV_PROT_VBUS_VALUE'" in str(e.value)
    assert "is float, not int" in str(e.value)
    assert e.value.code_name == "AX_ETYPE"
    with pytest.raises(axlink.TypeMismatchError, match="is int, not str"):
        drive.read_as("CL_POS_FBK_VALUE", str)
    with pytest.raises(axlink.TypeMismatchError, match="is int, not bool"):
        drive.read_as("CL_POS_FBK_VALUE", bool)
