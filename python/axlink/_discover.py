# SPDX-License-Identifier: MIT
"""Discovery across every transport, and hot-plug monitoring.

Bound when the library has axlink/discover.h; against an older library the
functions raise UnsupportedError.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional

from ._context import Context, _timeout_ms, resolve_context
from ._dictionary import Dictionary
from ._native import cstr, ffi, lib, text
from .errors import UnsupportedError, check, class_for

HAVE_DISCOVER = hasattr(lib, "ax_discover")


@dataclass(frozen=True)
class DiscoverResult:
    """One drive (or endpoint) a discovery found.

    Attributes:
        uri: location URI; :meth:`open` (or ``axlink.open(uri)``) opens it.
        stable_uri: ``axlink://VENDOR/PRODUCT/SERIAL``, which finds the same
            drive wherever it is plugged, or None without a serial number.
        transport: the scheme of the transport that found it.
        target: the scan target that found it.
        detail: transport detail (IP and port, port name...).
        access: "ok", "permission-denied", "busy", "no-reply" or "error".
        message, hint: what went wrong and how to fix it ("" when none).
        vendor_id, product_code, revision, serial, sw_version: identity
            fields, None for those not read.
        match: how its dictionary was found ("exact", ..., "none").
        match_reason: why.
        model: the dictionary's model name, or None.
        dictionary: the dictionary, or None.
        elapsed: seconds from the start of the discovery to this result.
    """

    uri: str
    stable_uri: Optional[str]
    transport: str
    target: str
    detail: str
    access: str
    message: str
    hint: str
    vendor_id: Optional[int]
    product_code: Optional[int]
    revision: Optional[int]
    serial: Optional[int]
    sw_version: Optional[str]
    match: str
    match_reason: str
    model: Optional[str]
    dictionary: Optional[Dictionary]
    elapsed: float

    @property
    def ok(self) -> bool:
        """True when the drive answered and its access is "ok"."""
        return self.access == "ok"

    def open(self, timeout: Optional[float] = None, *, context: Optional[Context] = None) -> Any:
        """Open this drive (see :func:`axlink.open`)."""
        from ._drive import open as open_drive

        return open_drive(self.uri, timeout=timeout, context=context)


@dataclass(frozen=True)
class TransportOutcome:
    """How the scan of one target ended.

    status: "done", "failed", "timed-out", "cancelled" or "skipped";
    error: the exception class name of a failure's code, or None."""

    transport: str
    target: str
    status: str
    error_code: int
    error: Optional[str]
    message: str
    found: int
    reported: int
    elapsed: float


@dataclass(frozen=True)
class MonitorEvent:
    """A drive appeared ("added") or went away ("removed")."""

    kind: str
    result: DiscoverResult


def _result(r: Any) -> DiscoverResult:
    known = int(r.known)

    def field(bit: int, value: Any) -> Optional[int]:
        return int(value) if known & bit else None

    d = r.dict
    return DiscoverResult(
        uri=text(r.uri), stable_uri=text(r.stable_uri) or None, transport=text(r.transport),
        target=text(r.target), detail=text(r.detail),
        access=text(lib.ax_access_state_name(r.access)) or str(int(r.access)),
        message=text(r.message), hint=text(r.hint),
        vendor_id=field(lib.AX_SCAN_HAS_VENDOR, r.vendor_id),
        product_code=field(lib.AX_SCAN_HAS_PRODUCT, r.product_code),
        revision=field(lib.AX_SCAN_HAS_REVISION, r.revision),
        serial=field(lib.AX_SCAN_HAS_SERIAL, r.serial),
        sw_version=text(r.sw_version) if known & lib.AX_SCAN_HAS_SW_VERSION else None,
        match=text(lib.ax_match_name(r.match)), match_reason=text(r.match_reason),
        model=text(r.model) or None,
        dictionary=Dictionary._borrow(d) if d != ffi.NULL else None,
        elapsed=int(r.elapsed_ms) / 1000.0)


def _outcome(t: Any) -> TransportOutcome:
    code = int(t.error)
    return TransportOutcome(
        transport=text(t.transport), target=text(t.target),
        status=text(lib.ax_discover_status_name(t.status)) or str(int(t.status)),
        error_code=code, error=class_for(code).__name__ if code < 0 else None,
        message=text(t.message), found=int(t.found), reported=int(t.reported),
        elapsed=int(t.elapsed_ms) / 1000.0)


class _Sink:
    def __init__(self, on_result: Optional[Callable[[Any], Any]],
                 on_transport: Optional[Callable[[TransportOutcome], Any]] = None) -> None:
        self.results: List[Any] = []
        self.outcomes: List[TransportOutcome] = []
        self.on_result = on_result
        self.on_transport = on_transport
        self.error: Optional[BaseException] = None


_STOP = int(lib.AX_ECANCELED)


def _require() -> None:
    if not HAVE_DISCOVER:
        raise UnsupportedError("this libaxlink has no discovery (axlink/discover.h)",
                               int(lib.AX_EUNSUPPORTED))


if HAVE_DISCOVER:
    # Callbacks run on the thread that called ax_discover()/ax_monitor(); an
    # exception is kept, stops the call, and is raised again once it returns.
    @ffi.def_extern()
    def axpy_discover_cb(result: Any, userdata: Any) -> int:
        sink: _Sink = ffi.from_handle(userdata)
        try:
            r = _result(result)
            sink.results.append(r)
            if sink.on_result is not None:
                sink.on_result(r)
            return 0
        except BaseException as e:  # noqa: BLE001 - re-raised by the caller
            sink.error = e
            return _STOP

    @ffi.def_extern()
    def axpy_discover_transport_cb(transport: Any, userdata: Any) -> int:
        sink: _Sink = ffi.from_handle(userdata)
        try:
            o = _outcome(transport)
            sink.outcomes.append(o)
            if sink.on_transport is not None:
                sink.on_transport(o)
            return 0
        except BaseException as e:  # noqa: BLE001 - re-raised by the caller
            sink.error = e
            return _STOP

    @ffi.def_extern()
    def axpy_monitor_cb(event: int, result: Any, userdata: Any) -> int:
        sink: _Sink = ffi.from_handle(userdata)
        try:
            ev = MonitorEvent(text(lib.ax_monitor_event_name(event)), _result(result))
            if sink.on_result is not None:
                sink.on_result(ev)
            return 0
        except BaseException as e:  # noqa: BLE001 - re-raised by the caller
            sink.error = e
            return _STOP


class _Cancel:
    """An ax_cancel token owned by Python."""

    def __init__(self) -> None:
        out = ffi.new("ax_cancel **")
        check(lib.ax_cancel_new(out))
        self.ptr = ffi.gc(out[0], lib.ax_cancel_unref)

    def trigger(self) -> None:
        lib.ax_cancel_trigger(self.ptr)


def _run_discover(ctx: Context, spec: Optional[str], timeout: Optional[float],
                  database: Any, resolve: bool, sink: _Sink,
                  cancel: Optional[_Cancel] = None) -> int:
    opts = ffi.new("ax_discover_options *")
    opts.version = lib.AX_DISCOVER_OPTIONS_VERSION
    opts.flags = 0 if resolve else lib.AX_DISCOVER_NO_RESOLVE
    opts.timeout_ms = _timeout_ms(timeout)
    opts.cancel = cancel.ptr if cancel is not None else ffi.NULL
    opts.db = database._p() if database is not None else ffi.NULL
    opts.on_transport = lib.axpy_discover_transport_cb
    handle = ffi.new_handle(sink)
    c_spec = cstr(spec) if spec else ffi.NULL
    rc = lib.ax_discover(ctx._p(), c_spec, opts, lib.axpy_discover_cb, handle)
    if sink.error is not None:
        raise sink.error
    if rc == lib.AX_ECANCELED and cancel is not None:
        return len(sink.results)
    return check(rc)


def discover(spec: Optional[str] = None, timeout: Optional[float] = 2.0, *,
             context: Optional[Context] = None, database: Any = None, resolve: bool = True,
             on_result: Optional[Callable[[DiscoverResult], Any]] = None,
             on_transport: Optional[Callable[[TransportOutcome], Any]] = None
             ) -> List[DiscoverResult]:
    """Find the drives on every transport @spec names, all scanned at once.

    @spec: None for every loaded transport's default targets, or a comma
    list of schemes and URIs ("eth://127.0.0.0/28,serial"). Returns within
    about @timeout seconds. Each result carries its dictionary, resolved in
    @database (an :class:`axlink.db.Database`) or the context's search
    order, unless @resolve is False. @on_result and @on_transport see results
    and per-target outcomes as they arrive; an exception in them stops the
    discovery and propagates.
    """
    _require()
    sink = _Sink(on_result, on_transport)
    _run_discover(resolve_context(context), spec, timeout, database, resolve, sink)
    return sink.results


def iter_discover(spec: Optional[str] = None, timeout: Optional[float] = 2.0, *,
                  context: Optional[Context] = None, database: Any = None,
                  resolve: bool = True) -> Iterator[DiscoverResult]:
    """Like :func:`discover`, yielding each result as it arrives. Leaving the
    loop early cancels the discovery."""
    _require()
    ctx = resolve_context(context)
    q: "queue.Queue[Any]" = queue.Queue()
    done = object()
    cancel = _Cancel()
    sink = _Sink(q.put)

    def worker() -> None:
        try:
            _run_discover(ctx, spec, timeout, database, resolve, sink, cancel)
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(e)

    t = threading.Thread(target=worker, name="axlink-discover", daemon=True)
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
        cancel.trigger()
        t.join()


def locate(stable_uri: str, timeout: Optional[float] = 2.0, *,
           context: Optional[Context] = None) -> str:
    """Where the drive of a stable URI (``axlink://A71C/00010064/1005``) is
    now: its location URI. Raises NotFoundError when no such drive answers."""
    _require()
    out = ffi.new("char **")
    check(lib.ax_discover_locate(out, resolve_context(context)._p(), cstr(stable_uri),
                                 _timeout_ms(timeout)))
    try:
        return text(out[0])
    finally:
        lib.ax_free(out[0])


class Monitor:
    """Hot-plug: reports drives added and removed, from a thread of its own.

    Events go to @on_event (called on the monitor's thread) if given, and
    can also be taken with :meth:`get` or by iterating. Stop with
    :meth:`stop` (or use as a context manager); an exception raised by
    @on_event stops the monitor and is raised again by :meth:`stop`.
    """

    def __init__(self, spec: Optional[str] = None, on_event: Optional[Callable[[MonitorEvent], Any]] = None,
                 *, period: Optional[float] = None, timeout: Optional[float] = None,
                 misses: int = 0, resolve: bool = True, database: Any = None,
                 context: Optional[Context] = None) -> None:
        _require()
        self._ctx = resolve_context(context)
        self._events: "queue.Queue[MonitorEvent]" = queue.Queue()
        self._cancel = _Cancel()
        self._user = on_event

        def deliver(ev: MonitorEvent) -> None:
            self._events.put(ev)
            if self._user is not None:
                self._user(ev)

        self._sink = _Sink(deliver)
        opts = ffi.new("ax_monitor_options *")
        opts.version = lib.AX_MONITOR_OPTIONS_VERSION
        opts.flags = 0 if resolve else lib.AX_DISCOVER_NO_RESOLVE
        opts.period_ms = _timeout_ms(period)
        opts.timeout_ms = _timeout_ms(timeout)
        opts.misses = misses
        opts.cancel = self._cancel.ptr
        opts.db = database._p() if database is not None else ffi.NULL
        self._opts = opts
        self._spec = cstr(spec) if spec else ffi.NULL
        self._database = database
        self._rc: Optional[int] = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="axlink-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        handle = ffi.new_handle(self._sink)
        rc = lib.ax_monitor(self._ctx._p(), self._spec, self._opts, lib.axpy_monitor_cb, handle)
        if rc < 0 and self._sink.error is None:
            try:
                check(rc)
            except BaseException as e:  # noqa: BLE001 - raised by stop()
                self._error = e
        self._rc = rc

    def get(self, timeout: Optional[float] = None) -> Optional[MonitorEvent]:
        """The next event, or None after @timeout seconds."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def __iter__(self) -> Iterator[MonitorEvent]:
        while self._thread.is_alive() or not self._events.empty():
            ev = self.get(timeout=0.1)
            if ev is not None:
                yield ev

    @property
    def running(self) -> bool:
        """True while the background watch thread runs."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop monitoring and wait for the thread; idempotent. Raises what
        the monitor failed with (a bad spec, an exception in on_event)."""
        self._cancel.trigger()
        self._thread.join()
        err = self._sink.error or self._error
        self._sink.error = self._error = None
        if err is not None:
            raise err

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
