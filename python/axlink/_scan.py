# SPDX-License-Identifier: MIT
"""Scan one transport's targets for drives."""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional

from ._context import Context, _timeout_ms, resolve_context
from ._native import cstr, ffi, lib, text
from .errors import check


@dataclass(frozen=True)
class ScanResult:
    """One endpoint a scan reports.

    Attributes:
        uri: location URI; ``axlink.open(result.uri)`` opens this drive.
        detail: transport detail, e.g. "127.0.0.3:1061".
        access: "ok", "permission-denied", "busy", "no-reply" or "error".
        message: what went wrong ("" when ok).
        hint: how to fix it ("" when none).
        vendor_id, product_code, revision, serial, sw_version: the identity
            fields the drive reported, None for those it did not.
        os_port: the operating-system port this endpoint is ("/dev/ttyACM0"
            for a USB drive whose tty driver is bound), "" when none.
    """

    uri: str
    detail: str
    access: str
    message: str
    hint: str
    vendor_id: Optional[int]
    product_code: Optional[int]
    revision: Optional[int]
    serial: Optional[int]
    sw_version: Optional[str]
    os_port: str = ""

    @property
    def ok(self) -> bool:
        """True when a drive answered and its identity was read."""
        return self.access == "ok"


def _result(r: Any) -> ScanResult:
    known = int(r.known)

    def field(bit: int, value: Any) -> Optional[int]:
        return int(value) if known & bit else None

    return ScanResult(
        uri=text(r.uri), detail=text(r.detail),
        access=text(lib.ax_access_state_name(r.access)) or str(int(r.access)),
        message=text(r.message), hint=text(r.hint),
        vendor_id=field(lib.AX_SCAN_HAS_VENDOR, r.vendor_id),
        product_code=field(lib.AX_SCAN_HAS_PRODUCT, r.product_code),
        revision=field(lib.AX_SCAN_HAS_REVISION, r.revision),
        serial=field(lib.AX_SCAN_HAS_SERIAL, r.serial),
        sw_version=text(r.sw_version) if known & lib.AX_SCAN_HAS_SW_VERSION else None,
        os_port=text(r.os_port))


class _Sink:
    """What one ax_scan() call delivers to; its handle is the callback's userdata."""

    def __init__(self, on_result: Optional[Callable[[ScanResult], Any]]) -> None:
        self.results: List[ScanResult] = []
        self.on_result = on_result
        self.error: Optional[BaseException] = None
        self.stop = False


# Returned to C to stop a scan whose Python side failed or was abandoned.
_STOP = int(lib.AX_ECANCELED)


@ffi.def_extern()
def axpy_scan_cb(result: Any, userdata: Any) -> int:
    # Runs on the thread that called ax_scan(); any exception is kept and
    # raised again by scan() once the C call has returned.
    sink: _Sink = ffi.from_handle(userdata)
    try:
        if sink.stop:
            return _STOP
        r = _result(result)
        sink.results.append(r)
        if sink.on_result is not None:
            sink.on_result(r)
        return _STOP if sink.stop else 0
    except BaseException as e:  # noqa: BLE001 - re-raised by scan()
        sink.error = e
        return _STOP


def _run(ctx: Context, spec: str, timeout: Optional[float], sink: _Sink) -> int:
    handle = ffi.new_handle(sink)  # alive for the whole call
    rc = lib.ax_scan(ctx._p(), cstr(spec), _timeout_ms(timeout), lib.axpy_scan_cb, handle)
    if sink.error is not None:
        raise sink.error
    if rc == _STOP and sink.stop:
        return len(sink.results)
    return check(rc)


def scan(spec: str, timeout: Optional[float] = 2.0, *, context: Optional[Context] = None,
         on_result: Optional[Callable[[ScanResult], Any]] = None) -> List[ScanResult]:
    """Probe the targets @spec names and return what answered.

    @spec's scheme picks the transport: "eth://127.0.0.2", a list
    "eth://127.0.0.2,127.0.0.9", a range "eth://192.168.2.0/24". Finishes
    within about @timeout seconds (None: the transport's default) whatever
    the number of targets. @on_result, if given, sees each result as it
    arrives; an exception it raises stops the scan and propagates.

    Raises PluginError/NotFoundError (no transport for the scheme),
    UnsupportedError (the transport cannot scan), InvalidArgumentError (bad spec).
    """
    sink = _Sink(on_result)
    _run(resolve_context(context), spec, timeout, sink)
    return sink.results


def iter_scan(spec: str, timeout: Optional[float] = 2.0, *,
              context: Optional[Context] = None) -> Iterator[ScanResult]:
    """Like :func:`scan`, but yields each result as it arrives. Leaving the
    loop early stops the scan."""
    ctx = resolve_context(context)
    q: "queue.Queue[Any]" = queue.Queue()
    done = object()
    sink = _Sink(q.put)

    def worker() -> None:
        try:
            _run(ctx, spec, timeout, sink)
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(e)

    t = threading.Thread(target=worker, name="axlink-scan", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        sink.stop = True
        t.join()
