# SPDX-License-Identifier: MIT
"""The browser console: ``axlink web`` or ``python -m axlink.web``.

A local web server (Starlette on uvicorn: ``pip install 'axlink[web]'``)
serving a single page of ours: the drives on the bench, live from
hot-plug discovery; their registers with units, ranges and enum labels,
editable; axis motion with stop and quick stop always in reach; live plots
from the library's poller. The page uses only the JSON API under /api/ and
the WebSocket /api/ws (docs/web-api.md)::

    from axlink.web import create_app
    app = create_app(["eth://127.0.0.0/29"])   # any ASGI server runs it

It binds to loopback unless told otherwise; another address needs
--allow-remote and every request then carries the token printed at start.
"""
from __future__ import annotations

from typing import Any, List

__all__ = ["create_app", "missing_requirements"]


def missing_requirements() -> List[str]:
    """The modules of the web extra that cannot be imported (empty: all there)."""
    import importlib

    missing: List[str] = []
    for name in ("starlette", "uvicorn", "websockets"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def create_app(*args: Any, **kwargs: Any) -> Any:
    """See axlink.web._app.create_app (imported on first use, so that
    importing this package needs no web server)."""
    from ._app import create_app as make

    return make(*args, **kwargs)
