# SPDX-License-Identifier: MIT
"""The extension: declarations generated from the headers, the ABI check on
import, the rpath, and `pip install ./python` into a fresh environment."""
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import axlink
from axlink import _build_info, _native
from axlink._native import lib

PYTHON_SRC = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PYTHON_SRC))
import ffi_build  # noqa: E402


def _umbrella_functions(include_dir: Path):
    """Every AX_API function of the headers the umbrella includes."""
    umbrella = (include_dir / "axlink" / "axlink.h").read_text()
    names = set()
    for header in re.findall(r'#include "axlink/(\w+)\.h"', umbrella):
        text = (include_dir / "axlink" / f"{header}.h").read_text()
        names.update(re.findall(r"\bAX_API\b[^;(]*?\b(ax_\w+)\s*\(", text))
    return names


def test_build__every_public_function_is_bound():
    names = _umbrella_functions(Path(_build_info.INCLUDE_DIR))
    assert len(names) > 100
    missing = sorted(n for n in names if not hasattr(lib, n))
    assert missing == []


def test_build__cdef_comes_from_the_headers_it_is_given(tmp_path):
    # A header the generator has never seen: its declarations and integer
    # macros must all appear, and what cffi cannot take must not.
    inc = tmp_path / "include"
    (inc / "axlink").mkdir(parents=True)
    (inc / "axlink" / "axlink.h").write_text(textwrap.dedent("""
        #include <stddef.h>
        #include <stdint.h>
        #define AX_API
        #define AX_NEW_FLAG 0x10u
        #define AX_NEW_SHIFTED (AX_NEW_FLAG << 2)
        #define AX_NEW_NAME "text"
        #define AX_NEW_RATIO 1.5
        #define AX_NEW_INIT { 1, 2 }
        #define AX_NEW_FN(x) ((x) + 1)
        _Static_assert(sizeof(int) >= 4, "int");
        typedef struct ax_thing ax_thing;
        typedef struct ax_pair { uint32_t a; size_t b; } ax_pair;
        AX_API int ax_version_hex(void);
        AX_API int ax_thing_frob(ax_thing *t, const ax_pair *p) __attribute__((nonnull));
    """))
    cdef, macros = ffi_build.generate_cdef(inc)
    assert "ax_thing_frob" in cdef and "ax_pair" in cdef
    assert macros == ["AX_NEW_FLAG", "AX_NEW_SHIFTED"]
    assert "__attribute__" not in cdef and "_Static_assert" not in cdef
    assert "__uint32_t" not in cdef  # nothing from the system headers
    import cffi
    cffi.FFI().cdef(cdef)  # and cffi parses it
    assert ffi_build.evaluate_macro(inc, "AX_NEW_SHIFTED") == 0x40


def test_build__version_compatibility_rules():
    ok = _native.compatibility_problem
    assert ok(0x000100, 0x000100) is None
    assert ok(0x000100, 0x000103) is None  # a newer patch
    assert "minor" in ok(0x000100, 0x000200)  # 0.x: every minor may change the ABI
    assert "major" in ok(0x010000, 0x020000)
    assert ok(0x010200, 0x010300) is None  # newer minor within 1.x only adds
    assert "older minor" in ok(0x010300, 0x010200)


def test_build__built_and_loaded_versions_agree():
    assert axlink.BUILT_VERSION == _build_info.VERSION
    assert lib.AX_VERSION_HEX == _build_info.VERSION_HEX
    assert axlink.LIBRARY_VERSION == _native.version_text(lib.ax_version_hex())


def _run(code: str, env=None, cwd=None):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)


def test_build__abi_mismatch_is_a_clear_import_error(tmp_path):
    # A shim that makes the loaded library report another major version.
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    assert cc is not None, "a C compiler is needed to build the shim (gcc: .ci/deps.sh installs it)"
    src = tmp_path / "shim.c"
    other = ((lib.AX_VERSION_HEX >> 16) + 1) << 16
    src.write_text(f"unsigned int ax_version_hex(void) {{ return {other:#x}u; }}\n")
    shim = tmp_path / "libshim.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(shim), str(src)], check=True)
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, [env.get("LD_PRELOAD"), str(shim)]))
    proc = _run("import axlink", env=env)
    assert proc.returncode != 0
    assert "ImportError: axlink: ABI mismatch" in proc.stderr
    assert f"built against libaxlink {axlink.BUILT_VERSION}" in proc.stderr
    assert f"loaded library is {_native.version_text(other)}" in proc.stderr
    assert "pip install --force-reinstall ./python" in proc.stderr


def test_build__source_folder_without_the_extension_says_how_to_build(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(PYTHON_SRC))
    proc = _run("import axlink", env=env, cwd=tmp_path)
    assert proc.returncode != 0
    assert "compiled extension axlink._ffi is missing" in proc.stderr
    assert "pip install ./python" in proc.stderr


def test_build__extension_finds_the_library_without_ld_library_path():
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    proc = _run("import axlink, axlink._native as n; "
                "print([l.split()[-1] for l in open('/proc/self/maps') if 'libaxlink.so' in l][0])",
                env=env)
    assert proc.returncode == 0, proc.stderr
    loaded = Path(proc.stdout.strip()).resolve()
    assert loaded.parent == Path(_build_info.LIBRARY_DIR).resolve()


def _version_of_header(include_dir: Path) -> str:
    text = (include_dir / "axlink" / "common.h").read_text()
    parts = [re.search(rf"^#define AX_VERSION_{p} (\d+)$", text, re.M) for p in
             ("MAJOR", "MINOR", "PATCH")]
    assert all(parts), "common.h lacks an AX_VERSION_MAJOR/MINOR/PATCH line"
    return ".".join(m.group(1) for m in parts if m)


def test_build__one_version_everywhere(build_dir):
    # The AX_VERSION_* lines of common.h are the one place: CMake's project
    # version (SONAME, axlink.pc), pyproject.toml's version (the wheel's
    # name), the CLI, ax_version() and the Python package all follow them.
    import tomllib
    include_dir = Path(_build_info.INCLUDE_DIR)
    version = _version_of_header(include_dir)
    cache = (build_dir / "CMakeCache.txt").read_text()
    assert re.search(rf"^CMAKE_PROJECT_VERSION:STATIC={re.escape(version)}$", cache, re.M)
    pyproject = tomllib.loads((PYTHON_SRC / "pyproject.toml").read_text())
    source = pyproject["tool"]["scikit-build"]["metadata"]["version"]
    assert "version" in pyproject["project"]["dynamic"]
    assert (PYTHON_SRC / source["input"]).resolve() == (include_dir / "axlink" / "common.h")
    m = re.search(source["regex"], (PYTHON_SRC / source["input"]).read_text(), re.M)
    assert m and source["result"].format(**m.groupdict()) == version
    cli = subprocess.run([str(build_dir / "bin" / "axlink"), "version"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    assert f"axlink {version}\nlibaxlink {version}\n" in cli
    assert axlink.__version__ == axlink.LIBRARY_VERSION == version
    assert _native.text(lib.ax_version()) == version


def test_build__console_scripts_find_the_tools(build_dir):
    # A package built in a CMake tree runs that tree's tools; a wheel its own.
    from axlink import _tools
    path = Path(_tools.tool_path("axlink"))
    assert path.resolve() == (build_dir / "bin" / "axlink").resolve()
    with pytest.raises(FileNotFoundError, match="axlink-nosuch.* missing or not executable"):
        _tools.tool_path("axlink-nosuch")
    proc = _run("import sys; from axlink import _tools; sys.argv = ['axlink', 'version']; "
                "_tools.axlink_main()")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"axlink {axlink.__version__}\n")


def test_build__pip_install_into_a_fresh_venv(tmp_path, build_dir):
    # The developer shortcut: AXLINK_BUILD_DIR, relative to the directory pip
    # is started in, makes build_backend.py build only the extension against
    # that tree (setuptools). The system site packages give cffi and
    # setuptools without a download; the package is built from a copy of
    # python/ (setuptools builds in the tree it is given).
    src = tmp_path / "src"
    shutil.copytree(PYTHON_SRC, src, ignore=shutil.ignore_patterns(
        "tests", "build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, capture_output=True, timeout=120)
    py = venv / "bin" / "python"
    start = build_dir.resolve().parent
    env = dict(os.environ, AXLINK_BUILD_DIR=build_dir.resolve().name, PWD=str(start),
               PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([str(py), "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                           "--no-index", str(src)], capture_output=True, text=True, env=env,
                          timeout=300, cwd=start)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The console script runs the build tree's CLI.
    env.pop("AXLINK_BUILD_DIR")
    proc = subprocess.run([str(venv / "bin" / "axlink"), "version"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"axlink {axlink.__version__}\n")
    proc = subprocess.run(
        [str(py), "-c", "import axlink, sys; print(axlink.__file__); "
                        "print(axlink.open('virtual:?model=axs-200').info.axes)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    where, axes = proc.stdout.split()
    assert where.startswith(str(venv)) and axes == "2"
    assert Path(where).with_name("py.typed").exists()
