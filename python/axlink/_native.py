# SPDX-License-Identifier: MIT
"""Load the compiled extension and check it matches the library it loaded.

The extension was compiled against one libaxlink (its headers give
``lib.AX_VERSION_HEX``, fixed at build time); the dynamic loader may find
another at run time (``lib.ax_version_hex()``). A library of another ABI
(another major version, or another minor while the major is 0) is refused
here with an ImportError that says both versions and how to rebuild, rather
than failing later in some call.
"""
from __future__ import annotations

import os
from typing import Any, Optional

try:
    from . import _build_info
except ImportError:  # a source checkout that was never built
    _build_info = None  # type: ignore[assignment]


def _rebuild_hint() -> str:
    return ("rebuild the extension against the library you mean to use: "
            "`pip install --force-reinstall ./python` (bundles its own), "
            "`AXLINK_BUILD_DIR=<cmake build dir> pip install --force-reinstall ./python`, "
            "`PKG_CONFIG_PATH=<prefix>/lib/pkgconfig pip install --force-reinstall ./python`, "
            "or `cmake --build <build dir> --target axlink-python`")


def _built_against() -> str:
    if _build_info is None:
        return ""
    return (f" (it was built against libaxlink {_build_info.VERSION} in "
            f"{_build_info.LIBRARY_DIR}, found through {_build_info.FOUND_THROUGH})")


def _explain_load_failure(err: ImportError) -> str:
    text = str(err)
    if _build_info is None or "No module named" in text:
        return ("axlink: the compiled extension axlink._ffi is missing: this is the source "
                "folder, not a built package. Install it with `pip install ./python` (it "
                "builds the C library too), or build with CMake -DAXLINK_BUILD_PYTHON=ON and "
                f"put <build dir>/python first on PYTHONPATH. ({text})")
    if "cannot open shared object" in text:
        return (f"axlink: the extension cannot load libaxlink: {text}{_built_against()}. "
                "Was that library moved or removed? " + _rebuild_hint())
    if "undefined symbol" in text:
        return (f"axlink: the libaxlink found at run time lacks a function the extension "
                f"needs: {text}{_built_against()}. The library is older than the extension; "
                + _rebuild_hint())
    return f"axlink: cannot load the extension: {text}{_built_against()}"


def version_text(hexv: int) -> str:
    """"MAJOR.MINOR.PATCH" of an AX_VERSION_HEX value."""
    return f"{hexv >> 16}.{(hexv >> 8) & 0xFF}.{hexv & 0xFF}"


def compatibility_problem(built: int, runtime: int) -> Optional[str]:
    """Why a library of version @runtime cannot serve an extension built
    against @built (AX_VERSION_HEX values), or None when it can.

    The library's ABI is its major version (its SOVERSION); while the major
    is 0 every minor may change it. A newer patch, or a newer minor within a
    major > 0, only adds."""
    bmaj, bmin = built >> 16, (built >> 8) & 0xFF
    rmaj, rmin = runtime >> 16, (runtime >> 8) & 0xFF
    if bmaj != rmaj:
        return "another major version"
    if bmaj == 0 and bmin != rmin:
        return "another minor version, and 0.x minors change the ABI"
    if rmin < bmin:
        return "an older minor version, which lacks what the extension may call"
    return None


def _check(lib_: Any) -> None:
    built = int(lib_.AX_VERSION_HEX)
    runtime = int(lib_.ax_version_hex())
    why = compatibility_problem(built, runtime)
    if why:
        raise ImportError(
            f"axlink: ABI mismatch: the extension was built against libaxlink "
            f"{version_text(built)} but the loaded library is {version_text(runtime)} ({why})"
            f"{_built_against()}; " + _rebuild_hint())


try:
    from ._ffi import ffi, lib  # noqa: F401  (re-exported)
except ImportError as _err:
    raise ImportError(_explain_load_failure(_err)) from _err

_check(lib)

#: Version of the library that is loaded, e.g. "0.1.0".
LIBRARY_VERSION: str = ffi.string(lib.ax_version()).decode("ascii", "replace")
#: Version of the library the extension was compiled against.
BUILT_VERSION: str = version_text(int(lib.AX_VERSION_HEX))


def text(p: Any) -> str:
    """A C string (borrowed) as str; "" for NULL."""
    if p == ffi.NULL:
        return ""
    return ffi.string(p).decode("utf-8", "replace")


def opt_text(p: Any) -> Optional[str]:
    """A C string as str, or None for NULL."""
    if p == ffi.NULL:
        return None
    return ffi.string(p).decode("utf-8", "replace")


def cstr(s: "str | bytes | os.PathLike[str]") -> bytes:
    """A string or path as bytes for a `const char *` argument."""
    b = os.fsencode(s)
    if b"\0" in b:
        raise ValueError(f"{s!r}: embedded NUL character")
    return b
