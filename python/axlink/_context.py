# SPDX-License-Identifier: MIT
"""The library context: transport plugins, settings, logging."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

from . import _log
from ._native import cstr, ffi, lib, text
from .errors import PLUGIN_DOMAIN, PluginError, check, closed, last_error

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class PluginInfo:
    """One row of a context's plugin load report.

    Attributes:
        path: the plugin file.
        scheme: the URI scheme it serves ("" when unknown).
        name, version, description: what the plugin says about itself.
        abi: (major, minor) of the plugin ABI it was built for ((0, 0) when unknown).
        status: "loaded", "refused-abi", "no-entry-symbol", "dlopen-error",
            "shadowed" or "invalid".
        message: why it did not load ("" when loaded).
    """

    path: str
    scheme: str
    name: str
    version: str
    description: str
    abi: Tuple[int, int]
    status: str
    message: str

    @property
    def loaded(self) -> bool:
        """True when the plugin serves its scheme."""
        return self.status == "loaded"


def _record(rec: Any) -> PluginInfo:
    return PluginInfo(path=text(rec.path), scheme=text(rec.scheme), name=text(rec.name),
                      version=text(rec.version), description=text(rec.description),
                      abi=(int(rec.abi_major), int(rec.abi_minor)),
                      status=text(lib.ax_plugin_status_name(rec.status)),
                      message=text(rec.message))


class Context:
    """A library context: the transport plugins it loaded and its settings.

    Most programs never make one: every function takes ``context=None`` and
    then uses :func:`default_context`. Make your own to load plugins from
    other folders or to set another default timeout.

    Args:
        plugin_paths: folders searched for plugins before the default ones.
        env_paths: also search the folders in AXLINK_PLUGIN_PATH.
        default_paths: also load the plugins installed beside the library.
        timeout: default request timeout of links, in seconds (None: per transport).
        log_level: the C log level (a logging level or a name); None takes
            AXLINK_LOG when it is set, else the "axlink" logger's level.

    A context stays alive while a drive opened through it does; close()
    only drops this object's hold. Thread safety: safe.
    """

    __slots__ = ("_ptr", "__weakref__")

    def __init__(self, plugin_paths: Optional[Sequence[PathLike]] = None, *,
                 env_paths: bool = True, default_paths: bool = True,
                 timeout: Optional[float] = None,
                 log_level: Optional[_log.LevelLike] = None) -> None:
        self._ptr: Any = None
        opts = ffi.new("ax_ctx_options *")
        opts.version = lib.AX_CTX_OPTIONS_VERSION
        flags = 0
        if not env_paths:
            flags |= lib.AX_CTX_NO_ENV_PATHS
        if not default_paths:
            flags |= lib.AX_CTX_NO_DEFAULT_PATHS
        opts.flags = flags
        keep = [ffi.new("char[]", cstr(p)) for p in (plugin_paths or [])]
        if keep:
            arr = ffi.new("char *[]", keep + [ffi.NULL])
            opts.plugin_paths = arr
        opts.timeout_ms = _timeout_ms(timeout)
        out = ffi.new("ax_ctx **")
        check(lib.ax_ctx_new(out, opts))
        ptr = ffi.gc(out[0], lib.ax_ctx_unref)
        if log_level is not None:
            level = _log.to_c_level(log_level)
        elif os.environ.get("AXLINK_LOG"):
            level = int(lib.ax_ctx_get_log_level(ptr))
        else:
            level = _log.default_c_level()
        _log.install(ptr, level)
        self._ptr = ptr

    def _p(self) -> Any:
        p = self._ptr
        if p is None:
            raise closed(self)
        return p

    def close(self) -> None:
        """Drop this object's hold on the context; idempotent. Drives and
        links opened through it keep working (they hold the C context)."""
        self._ptr = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the context was never opened)."""
        return self._ptr is None

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<axlink.Context{' closed' if self._ptr is None else ''}>"

    # -- plugins

    def plugins(self) -> List[PluginInfo]:
        """The plugin load report: every file considered and what happened to it."""
        p = self._p()
        rec = ffi.new("ax_plugin_record *", {"size": ffi.sizeof("ax_plugin_record")})
        rows = []
        for i in range(lib.ax_ctx_plugin_count(p)):
            check(lib.ax_ctx_plugin_record(p, i, rec))
            rows.append(_record(rec))
        return rows

    def schemes(self) -> List[str]:
        """The URI schemes served by a loaded plugin."""
        return [r.scheme for r in self.plugins() if r.loaded]

    def load_plugin(self, path: PathLike) -> PluginInfo:
        """Load one plugin file now and return its report row.

        Raises PluginError (refused ABI, no entry symbol, not loadable,
        shadowed, bad descriptor) with the loader's message."""
        p = self._p()
        rc = lib.ax_ctx_load_plugin(p, cstr(path))
        if rc < 0:
            raise last_error(rc, PLUGIN_DOMAIN)
        return self.plugins()[-1]

    def add_plugin_dir(self, path: PathLike) -> int:
        """Load every plugin in a folder now; returns how many loaded."""
        return check(lib.ax_ctx_add_plugin_dir(self._p(), cstr(path)), PLUGIN_DOMAIN)

    def unserved_scheme_error(self, uri: str, cause: BaseException) -> Optional[PluginError]:
        """A PluginError naming the scheme of @uri when no loaded plugin
        serves it (and what happened to plugins of that scheme), else None."""
        scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
        if not scheme:
            return None
        rows = self.plugins()
        if any(r.loaded and r.scheme == scheme for r in rows):
            return None
        others = [f"{os.path.basename(r.path)}: {r.status} ({r.message})"
                  for r in rows if r.scheme == scheme]
        served = ", ".join(sorted({r.scheme for r in rows if r.loaded})) or "none"
        msg = f"{cause}; schemes served: {served}"
        if others:
            msg += "; plugins for '" + scheme + "': " + "; ".join(others)
        err = PluginError(msg, getattr(cause, "code", None))
        return err

    # -- settings

    @property
    def log_level(self) -> str:
        """The C log level's name ("warn", "debug"...); set with a name or a logging level."""
        return text(lib.ax_log_level_name(lib.ax_ctx_get_log_level(self._p())))

    @log_level.setter
    def log_level(self, level: _log.LevelLike) -> None:
        self._set_log_level(level)

    def _set_log_level(self, level: _log.LevelLike) -> None:
        _log.install(self._p(), _log.to_c_level(level))


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be seconds as a number, not {timeout!r}")
    if not timeout > 0 or timeout > 2_000_000:
        raise ValueError(f"timeout {timeout!r}: expected seconds > 0")
    return max(1, int(round(timeout * 1000)))


_default: Optional[Context] = None
_default_lock = threading.Lock()


def default_context() -> Context:
    """The context the module-level functions use, created on first use."""
    global _default
    ctx = _default
    if ctx is None or ctx.closed:
        with _default_lock:
            ctx = _default
            if ctx is None or ctx.closed:
                ctx = _default = Context()
    return ctx


def resolve_context(context: Optional[Context]) -> Context:
    return default_context() if context is None else context


def plugins(context: Optional[Context] = None) -> List[PluginInfo]:
    """The plugin load report of @context (default: the default context)."""
    return resolve_context(context).plugins()


def set_log_level(level: _log.LevelLike, context: Optional[Context] = None) -> None:
    """Set the C log level of @context (default: the default context), e.g.
    ``axlink.set_log_level("debug")`` or ``axlink.set_log_level(logging.INFO)``.
    Records go to the "axlink" logger, which still filters them as usual."""
    resolve_context(context)._set_log_level(level)
