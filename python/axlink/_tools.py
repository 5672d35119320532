# SPDX-License-Identifier: MIT
"""The ``axlink`` and ``axlink-sim`` commands of an installed package.

A wheel (and ``pip install ./python``) carries the C executables in
``axlink/_bin``; the console scripts pip makes for these two functions
replace the Python process with them, so signals, exit codes and the
terminal behave exactly as with the C tools run directly.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import List, NoReturn, Optional


def _bin_dir() -> Optional[str]:
    # _build_info is written when the extension is built: absent in a source folder.
    try:
        info = importlib.import_module("._build_info", __package__)
    except ImportError:
        return None
    where = getattr(info, "BIN_DIR", None)
    return where if isinstance(where, str) else None


def tool_path(name: str) -> str:
    """Path of the executable @name ("axlink" or "axlink-sim") that comes
    with this package; FileNotFoundError saying why when there is none."""
    where = _bin_dir()
    if not where:
        raise FileNotFoundError(
            f"axlink: this package carries no '{name}' executable (built without the "
            "tools); install a wheel or `pip install ./python`, or run the one of a "
            "CMake build tree (<build>/bin)")
    path = os.path.join(where, name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"axlink: '{path}' is missing or not executable; "
                                "reinstall the package")
    return path


def _exec(name: str, argv: Optional[List[str]] = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else argv
    try:
        path = tool_path(name)
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        sys.exit(127)
    sys.stdout.flush()
    sys.stderr.flush()
    # argv[0] is the bare name: the tools print it in usage and messages.
    os.execv(path, [name, *args])


def axlink_main() -> NoReturn:
    """Entry point of the ``axlink`` console script. ``axlink web`` runs
    the browser console in Python: this interpreter, the one this package
    is installed for, unless AXLINK_PYTHON says otherwise."""
    os.environ.setdefault("AXLINK_PYTHON", sys.executable)
    _exec("axlink")


def axlink_sim_main() -> NoReturn:
    """Entry point of the ``axlink-sim`` console script."""
    _exec("axlink-sim")
