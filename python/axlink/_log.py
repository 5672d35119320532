# SPDX-License-Identifier: MIT
"""The library's log lines go to the Python logger "axlink".

Each context gets the extension's log callback (an ``extern "Python"``
function). The library may call it from any thread, plugin worker threads
included; cffi takes the GIL for it. The callback's userdata is NULL: it
reaches no Python object that a garbage collector could have freed first,
so a context that dies late (held by a drive) still logs safely.

The library drops messages above the context's level before formatting
them, so the level lives in C: a context takes the "axlink" logger's
effective level when it is created (or AXLINK_LOG when that is set), and
:func:`set_log_level` / ``Context.log_level`` change it later.

An exception raised while handling a record (a failing filter, say) cannot
travel back into C: it is reported through ``sys.unraisablehook`` (printed
on stderr by default), never silently dropped.
"""
from __future__ import annotations

import logging
import sys
import types
from typing import Any, Union

from ._native import ffi, lib

logger = logging.getLogger("axlink")

#: Python level of the library's TRACE messages (below DEBUG).
TRACE = 5
if logging.getLevelName(TRACE) == f"Level {TRACE}":
    logging.addLevelName(TRACE, "TRACE")

_TO_PYTHON = {
    lib.AX_LOG_ERROR: logging.ERROR,
    lib.AX_LOG_WARN: logging.WARNING,
    lib.AX_LOG_INFO: logging.INFO,
    lib.AX_LOG_DEBUG: logging.DEBUG,
    lib.AX_LOG_TRACE: TRACE,
}

LevelLike = Union[int, str]


def to_c_level(level: LevelLike) -> int:
    """An ax_log_level from a Python logging level (10, logging.DEBUG) or a
    name ("debug", "trace", "none", "warning")."""
    if isinstance(level, str):
        code = lib.ax_log_level_parse(level.encode("utf-8"))
        if code < 0:
            raise ValueError(f"unknown log level {level!r}: use none, error, warn, info, "
                             "debug or trace")
        return int(code)
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"log level must be a logging level or a name, not {level!r}")
    if level <= TRACE:
        return int(lib.AX_LOG_TRACE)
    if level <= logging.DEBUG:
        return int(lib.AX_LOG_DEBUG)
    if level <= logging.INFO:
        return int(lib.AX_LOG_INFO)
    if level <= logging.WARNING:
        return int(lib.AX_LOG_WARN)
    if level <= logging.CRITICAL:
        return int(lib.AX_LOG_ERROR)
    return int(lib.AX_LOG_NONE)


def to_python_level(c_level: int) -> int:
    """The logging level of an ax_log_level (NONE gives a level above CRITICAL)."""
    return _TO_PYTHON.get(c_level, logging.CRITICAL + 10)


def default_c_level() -> int:
    """The level for a new context: the "axlink" logger's effective level."""
    return to_c_level(logger.getEffectiveLevel())


def report_callback_error(where: str, exc: BaseException) -> None:
    """Report an exception raised inside a callback that C called.

    It cannot propagate into C, so it goes to ``sys.unraisablehook``."""
    hook = getattr(sys, "unraisablehook", None)
    args = types.SimpleNamespace(exc_type=type(exc), exc_value=exc,
                                 exc_traceback=exc.__traceback__,
                                 err_msg=f"Exception ignored in axlink {where}", object=None)
    try:
        if hook is None:
            raise RuntimeError("no sys.unraisablehook")
        hook(args)
    except BaseException:  # the hook itself failed: last resort, stderr
        import traceback

        print(f"axlink: exception in {where}:", file=sys.stderr)
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


@ffi.def_extern()
def axpy_log_cb(level: int, origin: Any, message: Any, userdata: Any) -> None:
    try:
        pylevel = _TO_PYTHON.get(level, logging.ERROR)
        if not logger.isEnabledFor(pylevel):
            return
        org = ffi.string(origin).decode("utf-8", "replace") if origin != ffi.NULL else "core"
        msg = ffi.string(message).decode("utf-8", "replace") if message != ffi.NULL else ""
        # Plugins' lines may already start with their origin ("eth: ...").
        if msg.startswith(org + ":"):
            logger.log(pylevel, "%s", msg, extra={"axlink_origin": org})
        else:
            logger.log(pylevel, "%s: %s", org, msg, extra={"axlink_origin": org})
    except BaseException as e:  # noqa: BLE001 - reported, see the module docstring
        report_callback_error("log callback", e)


def install(ctx_ptr: Any, c_level: int) -> None:
    """Route a context's log lines to the "axlink" logger at @c_level."""
    lib.ax_ctx_set_log(ctx_ptr, c_level, lib.axpy_log_cb, ffi.NULL)
