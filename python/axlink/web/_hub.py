# SPDX-License-Identifier: MIT
"""The console's model of the bench: drives found by hot-plug monitoring,
opened on demand, their I/O on threads of their own, and live streams.

Nothing here knows HTTP: the Starlette app (_app.py) calls these
coroutines. The rules it keeps:

- Drive I/O never runs on the event loop. Each drive has one worker thread
  for its requests, so they are serialised per drive in arrival order, and
  a second one for stop and quick stop, which must not queue behind a slow
  request (the library serialises the link itself; it is thread-safe per
  link).
- A stream is an :class:`axlink.Poller` of the library (its own sampling
  thread); the event loop only drains its ring, which never blocks.
- A scope capture runs on a third thread of the drive, so that one waiting
  for its trigger holds up neither the drive's other requests nor its
  stops. The drive has one monitoring engine: one capture per drive at a
  time, and a newer request cancels the one in progress, as does its
  client going away (the library's cancel token: within one request).
- A jog is a velocity with a dead-man timer: the page renews it while the
  button is held, and the axis is halted when it is not renewed in time
  (a closed tab, a lost connection).
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import io
import itertools
import logging
import math
import os
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, TypeVar, Union

import axlink
from .._native import cstr, ffi, lib, text
from .. import _values
from ..errors import Error, InvalidArgumentError, NotFoundError, check

log = logging.getLogger("axlink.web")

T = TypeVar("T")

#: Registers a stream samples at most (the poller's limit).
MAX_CHANNELS = 16
#: How often the drives table re-reads the axis states (seconds).
STATE_PERIOD = 0.5
#: How often streams are drained and pushed (seconds): 100 Hz.
PUSH_PERIOD = 0.01

#: Points per channel a capture's answer carries by default (every n-th
#: sample beyond; the CSV has them all), and the most a request may ask for.
SCOPE_POINTS, SCOPE_MAX_POINTS = 2000, 100000
#: Default and longest wait for a capture (seconds).
SCOPE_TIMEOUT, SCOPE_MAX_TIMEOUT = 10.0, 600.0
#: Captures kept per drive for their CSV and full data.
SCOPE_KEEP = 4
SCOPE_EDGES = ("rising", "falling", "either")

#: What an axis request with units that are not text is told.
UNITS_EXPECTED = "units: expected counts, rev, deg or rad"
AXIS_ACTIONS = ("enable", "disable", "fault-reset", "stop", "quick-stop", "mode", "units",
                "jog", "move")


class ApiError(Exception):
    """A request that cannot be served: HTTP @status with a message."""

    def __init__(self, status: int, message: str, kind: str = "InvalidRequest") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


def error_body(e: BaseException) -> Tuple[int, Dict[str, Any]]:
    """HTTP status and JSON body of an exception a request raised."""
    if isinstance(e, ApiError):
        return e.status, {"error": {"class": e.kind, "message": e.message}}
    if isinstance(e, Error):
        body = {"class": type(e).__name__, "message": e.message, "code": e.code,
                "name": e.code_name}
        drive_code = getattr(e, "drive_code", 0)
        if drive_code:
            body["drive_code"] = drive_code
        status = 404 if isinstance(e, (NotFoundError, axlink.DictionaryError)) else 422
        if isinstance(e, (axlink.TimeoutError, axlink.ConnectionError)):
            status = 504 if isinstance(e, axlink.TimeoutError) else 502
        return status, {"error": body}
    if isinstance(e, (ValueError, TypeError)):
        return 422, {"error": {"class": type(e).__name__, "message": str(e)}}
    return 500, {"error": {"class": type(e).__name__, "message": str(e)}}


def json_value(v: Any) -> Any:
    """A register value as JSON: bytes as hex text, NaN and infinity as None."""
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def value_text(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else str(v)
    return str(v)


def register_meta(reg: axlink.Register) -> Dict[str, Any]:
    """What the page shows of a register besides its value."""
    rng = reg.range_text
    enums = reg.enums
    try:
        default = reg.default
    except Error:
        default = None
    return {
        "id": reg.id, "subnode": reg.subnode, "address": reg.address,
        "dtype": reg.dtype, "access": reg.access, "units": reg.units,
        "label": reg.label, "category": reg.category, "description": reg.description,
        "range": list(rng) if rng is not None else None,
        "enums": [{"value": v, "label": lab} for v, lab in sorted(enums.items())],
        "default": json_value(default) if default is not None else None,
        "readable": reg.readable and reg.reachable,
        "writable": reg.writable and reg.reachable,
        "monitorable": reg.monitorable and reg.reachable,
    }


def parse_text(reg: axlink.Register, value: Any) -> Any:
    """The value to write for what a person typed: an enum label, or text
    in the library's own grammar (ax_value_parse: decimal or 0x hex, the C
    float form, true/false, hex bytes); JSON numbers and booleans as they
    are. Raises RangeError, InvalidArgumentError with the library's message."""
    if not isinstance(value, str):
        if isinstance(value, (bool, int, float)):
            return value
        raise InvalidArgumentError(f"register '{reg.id}': expected a number, true/false or "
                                   f"text, not {type(value).__name__}", int(lib.AX_EINVAL))
    s = value.strip()
    if reg.enums and reg.dtype not in ("str", "bytes", "float"):
        for v, lab in reg.enums.items():
            if lab.casefold() == s.casefold():
                return v
    if reg.dtype == "str":
        return value
    cap = _values.capacity(reg.dtype_code)
    buf = ffi.new("uint8_t[]", cap)
    n = ffi.new("size_t *")
    rc = lib.ax_value_parse_flags(reg.dtype_code, cstr(s), 0, buf, cap, n)
    if rc < 0:
        why = text(lib.ax_error_last())
        hint = ""
        if reg.enums:
            hint = " (or one of: " + ", ".join(reg.enums.values()) + ")"
        raise axlink.errors.class_for(int(rc))(
            f"register '{reg.id}': {why}{hint}", int(rc))
    return _values.decode(reg.dtype_code, buf, int(n[0]))


class Stream:
    """A live stream of one WebSocket: a poller over registers of a drive."""

    def __init__(self, sid: int, slot: "DriveSlot", names: List[str], regs: List[Tuple[str, int]],
                 poller: axlink.Poller, stride: int) -> None:
        self.id = sid
        self.slot = slot
        self.names = names
        self.regs = regs
        self.poller = poller
        self.stride = stride
        self.phase = 0
        self.sent = 0


class Capture:
    """One scope capture request: its settings, and how it ends early.

    :meth:`cancel` may be called from the event loop while the capture runs
    on the drive's scope thread: the flag is seen before each step, and the
    scope's cancel token ends a wait within one request."""

    def __init__(self, cid: int, slot: "DriveSlot", drive: axlink.Drive,
                 regs: List[axlink.Register], period_us: Optional[float], samples: int,
                 pre: int, trigger: Optional[Tuple[axlink.Register, str, float]],
                 timeout: float, max_points: int) -> None:
        self.id = cid
        self.slot = slot
        self.drive = drive
        self.regs = regs
        self.period_us = period_us
        self.samples = samples
        self.pre = pre
        self.trigger = trigger
        self.timeout = timeout
        self.max_points = max_points
        self.cancelled: Optional[str] = None  # why, once cancelled
        self.scope: Optional[axlink.Scope] = None
        self.stage = "queued"  # then configuring, armed (waiting), fetching

    def cancel(self, why: str) -> None:
        if self.cancelled is None:
            self.cancelled = why
        s = self.scope  # set before the worker looks at the flag: one of them sees the other
        if s is not None:
            s.cancel()


class CaptureData:
    """A finished capture kept for its CSV and full data."""

    def __init__(self, job: Capture, result: Any, channels: List[Dict[str, Any]],
                 base_period_us: float, seconds: float) -> None:
        self.id = job.id
        self.job = job
        self.result = result
        self.channels = channels
        self.base_period_us = base_period_us
        self.seconds = seconds


class DriveSlot:
    """A drive the monitor reported: its discovery result, the open drive
    (None until opened, or when opening failed), and its workers."""

    def __init__(self, sid: str, result: axlink.DiscoverResult) -> None:
        self.id = sid
        self.result = result
        self.drive: Optional[axlink.Drive] = None
        self.error: Optional[str] = None
        self.axes: List[Dict[str, Any]] = []
        self.present = True
        self.io = concurrent.futures.ThreadPoolExecutor(1, f"axlink-web-{sid}")
        self.urgent = concurrent.futures.ThreadPoolExecutor(1, f"axlink-web-{sid}-stop")
        self.scope_io = concurrent.futures.ThreadPoolExecutor(1, f"axlink-web-{sid}-scope")
        self.jogs: Dict[int, asyncio.TimerHandle] = {}
        self.refreshing = False
        self.capture: Optional[Capture] = None  # the one in progress
        self.captures: "collections.OrderedDict[int, CaptureData]" = collections.OrderedDict()
        self.scope_info: Optional[Dict[str, Any]] = None

    def summary(self) -> Dict[str, Any]:
        r = self.result
        return {
            "id": self.id, "uri": r.uri, "stable_uri": r.stable_uri, "transport": r.transport,
            "model": r.model, "serial": r.serial, "firmware": r.sw_version,
            "vendor_id": r.vendor_id, "product_code": r.product_code, "revision": r.revision,
            "match": r.match, "match_reason": r.match_reason, "access": r.access,
            "message": r.message, "open": self.drive is not None, "error": self.error,
            "axes": self.axes,
        }


class Hub:
    """Everything the console serves: drives, their I/O, and streams.

    Args:
        specs: discovery specs the hot-plug monitor watches ("eth://127.0.0.0/29");
            empty: every transport's default targets.
        scan_period: seconds between the monitor's scans.
        misses: scans a drive may miss before it counts as gone.
        timeout: request timeout of opened drives, seconds.
        context: the library context (None: the default one).
    """

    def __init__(self, specs: Sequence[str] = (), *, scan_period: float = 1.0, misses: int = 2,
                 timeout: float = 1.0, context: Optional[axlink.Context] = None) -> None:
        self.specs = list(specs)
        self.scan_period = scan_period
        self.misses = misses
        self.timeout = timeout
        self.context = context
        self.slots: Dict[str, DriveSlot] = {}
        self._ids: Dict[str, str] = {}  # uri -> id, kept when a drive comes back
        self._next_id = itertools.count(1)
        self._listeners: Set[Callable[[Dict[str, Any]], None]] = set()
        self._stream_ids = itertools.count(1)
        self._capture_ids = itertools.count(1)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._monitor: Optional[axlink.Monitor] = None
        self._tasks: List["asyncio.Task[None]"] = []
        self.monitor_error: Optional[str] = None
        self.streams: Set[Stream] = set()  # open ones, of every WebSocket

    # -- lifetime

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        spec = ",".join(self.specs) or None
        loop = self._loop

        def on_event(ev: axlink.MonitorEvent) -> None:  # the monitor's thread
            loop.call_soon_threadsafe(self._on_event, ev)

        self._monitor = await loop.run_in_executor(None, lambda: axlink.Monitor(
            spec, on_event, period=self.scan_period, misses=self.misses,
            context=self.context))
        self._tasks.append(loop.create_task(self._refresh_states()))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        mon, self._monitor = self._monitor, None
        loop = asyncio.get_running_loop()
        if mon is not None:
            try:
                await loop.run_in_executor(None, mon.stop)
            except Exception as e:  # noqa: BLE001 - shutting down: say it, go on
                log.warning("monitor: %s", e)
        for slot in list(self.slots.values()):
            await self._drop(slot)

    # -- drives table

    def subscribe(self, fn: Callable[[Dict[str, Any]], None]) -> Callable[[], None]:
        """Call @fn with every drives-table change; returns the unsubscribe."""
        self._listeners.add(fn)
        return lambda: self._listeners.discard(fn)

    def table(self) -> Dict[str, Any]:
        return {"type": "drives", "drives": [s.summary() for s in self.slots.values()],
                "monitor_error": self.monitor_error}

    def _changed(self) -> None:
        msg = self.table()
        for fn in list(self._listeners):
            fn(msg)

    def _on_event(self, ev: axlink.MonitorEvent) -> None:
        r = ev.result
        if ev.kind == "added":
            sid = self._ids.get(r.uri)
            if sid is None:
                sid = f"d{next(self._next_id)}"
                self._ids[r.uri] = sid
            old = self.slots.get(sid)
            if old is not None:  # seen again before its removal was handled
                return
            slot = DriveSlot(sid, r)
            self.slots[sid] = slot
            self._changed()
            if r.ok:
                asyncio.get_running_loop().create_task(self._open(slot))
        elif ev.kind == "removed":
            sid = self._ids.get(r.uri)
            gone = self.slots.get(sid) if sid else None
            if gone is not None:
                asyncio.get_running_loop().create_task(self._drop(gone))

    async def _open(self, slot: DriveSlot) -> None:
        try:
            def open_drive() -> axlink.Drive:
                d = axlink.open(slot.result.uri, timeout=self.timeout, context=self.context)
                d.axes  # made once, here, before any other thread asks for them
                return d

            slot.drive = await self.io(slot, open_drive)
            slot.error = None
            slot.axes = await self.io(slot, lambda: self._axis_states(slot))
        except Exception as e:  # noqa: BLE001 - shown in the table
            slot.error = str(e)
        self._changed()

    async def _drop(self, slot: DriveSlot) -> None:
        """The drive went away: stop its streams and jogs, close it, forget it."""
        if self.slots.get(slot.id) is not slot:
            return
        del self.slots[slot.id]
        slot.present = False
        for h in slot.jogs.values():
            h.cancel()
        slot.jogs.clear()
        if slot.capture is not None:
            slot.capture.cancel(f"drive '{slot.id}' went away")
        for fn in list(self._listeners):
            fn({"type": "drive-removed", "id": slot.id})
        self._changed()
        drive, slot.drive = slot.drive, None
        loop = asyncio.get_running_loop()
        if drive is not None:
            await loop.run_in_executor(slot.io, drive.close)
        slot.io.shutdown(wait=False)
        slot.urgent.shutdown(wait=False)
        slot.scope_io.shutdown(wait=False)

    def _axis_states(self, slot: DriveSlot) -> List[Dict[str, Any]]:
        """On the drive's thread: each axis's state, position, mode."""
        drive = slot.drive
        out: List[Dict[str, Any]] = []
        if drive is None:
            return out
        for n, axis in drive.axes.items():
            st: Dict[str, Any] = {"axis": n}
            try:
                st["state"] = axis.state
                st["statusword"] = axis.statusword
                st["mode"] = axis.mode
                st["units"] = axis.units
                st["position"] = json_value(axis.position)
                st["velocity"] = json_value(axis.velocity)
            except Exception as e:  # noqa: BLE001 - shown in the table
                st["error"] = str(e)
            out.append(st)
        return out

    async def _refresh_states(self) -> None:
        while True:
            await asyncio.sleep(STATE_PERIOD)
            for slot in list(self.slots.values()):
                if slot.drive is None or slot.refreshing:
                    continue
                slot.refreshing = True
                asyncio.get_running_loop().create_task(self._refresh_one(slot))

    async def _refresh_one(self, slot: DriveSlot) -> None:
        try:
            axes = await self.io(slot, lambda: self._axis_states(slot))
        except Exception:  # noqa: BLE001 - the drive went away meanwhile
            return
        finally:
            slot.refreshing = False
        if axes != slot.axes and slot.present:
            slot.axes = axes
            self._changed()

    # -- drive I/O

    def slot(self, sid: str) -> DriveSlot:
        slot = self.slots.get(sid)
        if slot is None:
            raise ApiError(404, f"no drive '{sid}' (drives: {', '.join(self.slots) or 'none'})",
                           "NotFound")
        return slot

    def drive(self, sid: str) -> Tuple[DriveSlot, axlink.Drive]:
        slot = self.slot(sid)
        if slot.drive is None:
            why = slot.error or f"access {slot.result.access}: {slot.result.message}"
            if slot.result.ok and slot.error is None:
                why = "still opening"
            raise ApiError(409, f"drive '{sid}' ({slot.result.uri}) is not open: {why}",
                           "NotOpen")
        return slot, slot.drive

    async def io(self, slot: DriveSlot, fn: Callable[[], T], urgent: bool = False,
                 pool: Optional[concurrent.futures.Executor] = None) -> T:
        """Run @fn on the drive's thread (its urgent one for stops, or @pool)."""
        if not slot.present:
            raise ApiError(410, f"drive '{slot.id}' went away", "Gone")
        if pool is None:
            pool = slot.urgent if urgent else slot.io
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn)
        except RuntimeError as e:
            if "shutdown" in str(e):
                raise ApiError(410, f"drive '{slot.id}' went away", "Gone") from None
            raise

    def find(self, drive: axlink.Drive, reg_id: Any, subnode: Any) -> axlink.Register:
        if not isinstance(reg_id, str) or not reg_id:
            raise ApiError(400, "expected a register id (\"id\": \"CL_POS_FBK_VALUE\")")
        if subnode is not None and (isinstance(subnode, bool) or not isinstance(subnode, int)):
            raise ApiError(400, f"subnode {subnode!r}: expected an integer")
        if drive.dictionary is None:
            raise ApiError(409, f"drive {drive.uri} has no dictionary: "
                                f"{drive.info.match_reason}", "NoDictionary")
        return drive.find(reg_id, subnode)

    def registers(self, sid: str, query: str = "", category: Optional[str] = None,
                  subnode: Optional[int] = None) -> Dict[str, Any]:
        _, drive = self.drive(sid)
        d = drive.dictionary
        if d is None:
            return {"registers": [], "categories": [], "dictionary": None}
        regs = d.search(query, category=category or None, subnode=subnode)
        return {"registers": [register_meta(r) for r in regs],
                "categories": [{"id": c.id, "label": c.label} for c in d.categories],
                "dictionary": {"name": d.name, "source": d.source}}

    @staticmethod
    def read_one(drive: axlink.Drive, reg: axlink.Register) -> Dict[str, Any]:
        out: Dict[str, Any] = {"id": reg.id, "subnode": reg.subnode}
        try:
            v = drive.read(reg)
        except Error as e:
            out["error"] = {"class": type(e).__name__, "message": e.message}
            return out
        out["value"] = json_value(v)
        out["text"] = value_text(v)
        if reg.enums and isinstance(v, int) and not isinstance(v, bool):
            out["label"] = reg.enum_label(v)
        return out

    async def read(self, sid: str, items: Sequence[Any]) -> List[Dict[str, Any]]:
        slot, drive = self.drive(sid)
        regs = []
        for it in items:
            if not isinstance(it, dict):
                raise ApiError(400, "registers: expected a list of {\"id\", \"subnode\"}")
            regs.append(self.find(drive, it.get("id"), it.get("subnode")))
        return await self.io(slot, lambda: [self.read_one(drive, r) for r in regs
                                            if r.readable])

    async def write(self, sid: str, reg_id: Any, subnode: Any, value: Any) -> Dict[str, Any]:
        slot, drive = self.drive(sid)
        reg = self.find(drive, reg_id, subnode)
        if not reg.writable:
            raise axlink.AccessError(f"register '{reg.id}' is read-only", int(lib.AX_EACCESS))
        v = parse_text(reg, value)

        def run() -> Dict[str, Any]:
            drive.write(reg, v)
            if reg.readable:
                return self.read_one(drive, reg)
            return {"id": reg.id, "subnode": reg.subnode}

        return await self.io(slot, run)

    # -- axes

    def axis(self, drive: axlink.Drive, n: int) -> axlink.Axis:
        axis = drive.axes.get(n)
        if axis is None:
            raise ApiError(404, f"drive {drive.uri} has no axis {n} (axes: 1..{drive.info.axes})",
                           "NotFound")
        return axis

    async def axis_state(self, sid: str, n: int) -> Dict[str, Any]:
        slot, drive = self.drive(sid)
        self.axis(drive, n)
        states = await self.io(slot, lambda: self._axis_states(slot))
        return next(s for s in states if s["axis"] == n)

    async def axis_action(self, sid: str, n: int, action: str, body: Dict[str, Any]) -> None:
        slot, drive = self.drive(sid)
        axis = self.axis(drive, n)
        if action not in AXIS_ACTIONS:
            raise ApiError(404, f"unknown axis action '{action}' (actions: "
                                f"{', '.join(AXIS_ACTIONS)})", "NotFound")
        if action in ("stop", "quick-stop", "disable"):
            self._cancel_jog(slot, n)
        if action == "enable":
            await self.io(slot, axis.enable)
        elif action == "disable":
            await self.io(slot, axis.disable, urgent=True)
        elif action == "fault-reset":
            await self.io(slot, axis.fault_reset)
        elif action == "stop":
            await self.io(slot, axis.stop, urgent=True)
        elif action == "quick-stop":
            await self.io(slot, axis.quick_stop, urgent=True)
        elif action == "mode":
            mode = _mode(body)
            await self.io(slot, lambda: axis.set_mode(mode))
        elif action == "units":
            units = _units(body)
            if units is None:
                raise ApiError(400, UNITS_EXPECTED)
            await self.io(slot, functools.partial(axis.set_units, units))
        elif action == "move":
            pos = _required_number(body, "position")
            speed = _number(body, "velocity")
            move_units = _units(body)
            relative = bool(body.get("relative", False))
            self._cancel_jog(slot, n)
            await self.io(slot, lambda: axis.move_to(pos, velocity=speed, relative=relative,
                                                     wait=False, units=move_units or None))
        elif action == "jog":
            vel = _required_number(body, "velocity")
            ttl = _number(body, "ttl_ms")
            ttl_s = min(max((ttl if ttl is not None else 600) / 1000.0, 0.1), 5.0)
            jog_units = _units(body)

            def jog() -> None:
                if jog_units:
                    axis.set_units(jog_units)
                axis.set_velocity(vel)

            await self.io(slot, jog)
            self._arm_jog(slot, n, axis, ttl_s)

    def _cancel_jog(self, slot: DriveSlot, n: int) -> None:
        h = slot.jogs.pop(n, None)
        if h is not None:
            h.cancel()

    def _arm_jog(self, slot: DriveSlot, n: int, axis: axlink.Axis, ttl: float) -> None:
        """The dead man: halt the axis unless the jog is renewed within @ttl."""
        self._cancel_jog(slot, n)
        loop = asyncio.get_running_loop()

        def expire() -> None:
            slot.jogs.pop(n, None)
            if slot.present:
                log.info("jog of %s axis %d not renewed: halting", slot.result.uri, n)
                fut = loop.run_in_executor(slot.urgent, axis.stop)
                fut.add_done_callback(lambda f: f.exception())  # logged by nobody: best effort

        slot.jogs[n] = loop.call_later(ttl, expire)

    # -- configuration and non-volatile memory

    async def config(self, sid: str, op: str, body: Dict[str, Any]) -> Dict[str, Any]:
        slot, drive = self.drive(sid)
        axis = body.get("axis")
        if axis is not None and (isinstance(axis, bool) or not isinstance(axis, int)):
            raise ApiError(400, f"axis {axis!r}: expected an integer or null")
        if op == "save":
            def save() -> Dict[str, Any]:
                with tempfile.TemporaryDirectory(prefix="axlink-web-") as d:
                    path = os.path.join(d, "config.xcf")
                    count = drive.config.save(path, axis)
                    with open(path, encoding="utf-8") as f:
                        return {"count": count, "text": f.read(),
                                "filename": f"{drive.info.model or 'drive'}-"
                                            f"{drive.info.identity.serial or 0}.xcf"}
            return await self.io(slot, save)
        if op in ("load", "diff"):
            given = body.get("text")
            if not isinstance(given, str) or not given.strip():
                raise ApiError(400, f"config {op}: expected the file's text in \"text\"")
            xcf: str = given
            allow = bool(body.get("allow_revision", False))

            def run() -> Dict[str, Any]:
                with tempfile.TemporaryDirectory(prefix="axlink-web-") as d:
                    path = os.path.join(d, "config.xcf")
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(xcf)
                    if op == "load":
                        rep = drive.config.load(path, axis, allow_revision=allow, strict=False)
                    else:
                        rep = drive.config.diff(path, axis, allow_revision=allow)
                    return {"ok": rep.ok, "counts": rep.counts,
                            "entries": [e.__dict__ for e in rep]}
            return await self.io(slot, run)
        if op == "store":
            await self.io(slot, lambda: drive.store(axis))
            return {"stored": True}
        raise ApiError(404, f"unknown config operation '{op}' (save, load, diff, store)",
                       "NotFound")

    async def errors(self, sid: str) -> List[Dict[str, Any]]:
        slot, drive = self.drive(sid)
        entries = await self.io(slot, drive.errors)
        return [e.__dict__ for e in entries]

    # -- scope captures

    async def scope_info(self, sid: str) -> Dict[str, Any]:
        """The drive's monitoring: base period, channels; the capture in
        progress and the ones kept."""
        slot, drive = self.drive(sid)
        if slot.scope_info is None:
            def probe() -> Dict[str, Any]:
                out = ffi.new("ax_scope **")
                check(lib.ax_scope_new(out, drive._handles()[0]), drive_text=drive._drive_text)
                sp = ffi.gc(out[0], lib.ax_scope_unref)  # reads only: the drive is untouched
                return {"base_period_us": float(lib.ax_scope_base_period_us(sp)),
                        "max_channels": int(lib.ax_scope_max_channels(sp))}
            slot.scope_info = await self.io(slot, probe)
        job = slot.capture
        return {**slot.scope_info, "busy": job is not None,
                "capture": job.id if job is not None else None,
                "stage": job.stage if job is not None else None,
                "captures": list(slot.captures)}

    def _scope_reg(self, drive: axlink.Drive, item: Any, what: str) -> axlink.Register:
        if isinstance(item, str):
            return self.find(drive, item, None)
        if isinstance(item, dict):
            return self.find(drive, item.get("id"), item.get("subnode"))
        raise ApiError(400, f"{what}: expected a register id or {{\"id\", \"subnode\"}}")

    def scope_request(self, sid: str, body: Dict[str, Any]) -> Capture:
        """Check a capture request (no drive I/O) and make it the drive's
        capture in progress, cancelling the one before. Raises ApiError,
        DictionaryError."""
        slot, drive = self.drive(sid)
        items = body.get("registers")
        if not isinstance(items, list) or not items:
            raise ApiError(400, "registers: expected a non-empty list of register ids or "
                                "{\"id\", \"subnode\"}")
        regs = [self._scope_reg(drive, it, "registers") for it in items]
        period = _number(body, "period_us")
        if period is not None and period <= 0:
            raise ApiError(400, f"period_us {period!r}: expected microseconds above 0")
        samples = _integer(body, "samples", 1000, 1, 2**32 - 1)
        pre = _integer(body, "pre", 0, 0, 2**32 - 1)
        timeout = _number(body, "timeout_s")
        timeout = SCOPE_TIMEOUT if timeout is None else timeout
        if not 0 < timeout <= SCOPE_MAX_TIMEOUT:
            raise ApiError(400, f"timeout_s {timeout!r}: expected 0..{SCOPE_MAX_TIMEOUT:g} "
                                "seconds")
        max_points = _integer(body, "max_points", SCOPE_POINTS, 0, SCOPE_MAX_POINTS)
        trigger = None
        trig = body.get("trigger")
        if trig is not None:
            if not isinstance(trig, dict):
                raise ApiError(400, "trigger: expected null or {\"register\", \"edge\", "
                                    "\"level\"}")
            reg = trig.get("register")
            if isinstance(reg, dict):
                treg = self._scope_reg(drive, reg, "trigger register")
            else:
                treg = self.find(drive, reg, trig.get("subnode"))
            edge = trig.get("edge", "rising")
            if edge not in SCOPE_EDGES:
                raise ApiError(400, f"trigger edge {edge!r}: expected rising, falling or "
                                    "either")
            level = _required_number(trig, "level")
            trigger = (treg, str(edge), level)
        job = Capture(next(self._capture_ids), slot, drive, regs, period, samples, pre,
                      trigger, timeout, max_points)
        old = slot.capture
        if old is not None:
            old.cancel(f"capture {job.id} replaced it")
        slot.capture = job
        return job

    @staticmethod
    def _capture(job: Capture) -> CaptureData:
        """On the drive's scope thread: configure, arm, wait, fetch."""
        def stop_if_cancelled() -> None:
            if job.cancelled is not None:
                raise axlink.CancelledError(f"capture {job.id}: cancelled", int(lib.AX_ECANCELED))

        stop_if_cancelled()
        drive = job.drive
        t0 = time.monotonic()
        period = job.period_us * 1e-6 if job.period_us is not None else None
        job.stage = "configuring"
        with axlink.Scope(drive, job.regs, period=period, samples=job.samples,
                          trigger=job.trigger, pre=job.pre) as s:
            job.scope = s
            stop_if_cancelled()
            s.arm()
            job.stage = "armed"
            # Scope.wait() resets its token first; this wait keeps a cancel
            # that came during the arm.
            check(lib.ax_scope_wait(s._handle(), max(1, int(job.timeout * 1000)), s._cancel),
                  drive_text=drive._drive_text)
            job.stage = "fetching"
            result = s.fetch()
            chans = []
            for (rid, sub, dtype), name in zip(s._channels(), result.names):
                reg = drive.find(rid, sub)
                chans.append({"name": name, "id": rid, "subnode": sub, "dtype": dtype,
                              "units": reg.units, "label": reg.label})
            base = s.base_period * 1e6
        return CaptureData(job, result, chans, base, time.monotonic() - t0)

    async def scope(self, job: Capture) -> Dict[str, Any]:
        """Run @job on its drive's scope thread; the capture as JSON."""
        slot = job.slot
        try:
            data = await self.io(slot, lambda: self._capture(job), pool=slot.scope_io)
        except axlink.CancelledError:
            if job.cancelled is None:
                raise
            raise ApiError(409, f"capture {job.id} on drive '{slot.id}' cancelled: "
                                f"{job.cancelled}", "Cancelled") from None
        finally:
            if slot.capture is job:
                slot.capture = None
        slot.captures[data.id] = data
        while len(slot.captures) > SCOPE_KEEP:
            slot.captures.popitem(last=False)
        return self.capture_json(slot, data, job.max_points)

    def cancel_scope(self, sid: str) -> Dict[str, Any]:
        slot = self.slot(sid)
        job = slot.capture
        if job is not None:
            job.cancel("cancelled by request")
        return {"cancelled": job is not None, "capture": job.id if job is not None else None}

    def capture_data(self, sid: str, cid: int) -> Tuple[DriveSlot, CaptureData]:
        slot = self.slot(sid)
        data = slot.captures.get(cid)
        if data is None:
            raise ApiError(404, f"drive '{sid}' keeps no capture {cid} (kept: "
                                f"{', '.join(map(str, slot.captures)) or 'none'})", "NotFound")
        return slot, data

    @staticmethod
    def capture_json(slot: DriveSlot, data: CaptureData, max_points: int) -> Dict[str, Any]:
        """@data as JSON, every stride-th sample so that each channel has at
        most @max_points points (0: all)."""
        r = data.result
        n = len(r)
        stride = max(1, math.ceil(n / max_points)) if max_points else 1
        trig = data.job.trigger
        channels = []
        for ch in data.channels:
            col = r[ch["name"]][::stride]
            vals = col.tolist()
            if col.dtype.kind == "f":
                vals = [v if math.isfinite(v) else None for v in vals]
            channels.append({**ch, "values": vals})
        return {
            "capture": data.id, "drive": slot.id, "samples": n, "pre": r.pre,
            "period_us": r.period * 1e6, "base_period_us": data.base_period_us,
            "trigger": None if trig is None else {
                "register": trig[0].id, "subnode": trig[0].subnode, "edge": trig[1],
                "level": trig[2]},
            "wire_bytes": r.wire_bytes, "seconds": round(data.seconds, 4),
            "stride": stride, "shown": len(range(0, n, stride)),
            "t": [round(t, 9) for t in r.t[::stride].tolist()],
            "channels": channels,
            "csv": f"/api/drives/{slot.id}/scope/{data.id}/csv",
        }

    @staticmethod
    def capture_csv(data: CaptureData) -> str:
        f = io.StringIO()
        data.result.to_csv(f)
        return f.getvalue()

    # -- streams

    async def open_stream(self, sid: str, items: object, period: float,
                          max_rate: float) -> Stream:
        slot, drive = self.drive(sid)
        if not isinstance(items, list) or not items:
            raise ApiError(400, "registers: expected a non-empty list")
        if len(items) > MAX_CHANNELS:
            raise ApiError(400, f"at most {MAX_CHANNELS} registers per stream")
        regs = [self.find(drive, it.get("id") if isinstance(it, dict) else it,
                          it.get("subnode") if isinstance(it, dict) else None) for it in items]

        def start() -> axlink.Poller:
            p = axlink.Poller(period)
            try:
                for r in regs:
                    p.add(drive, r)
                return p.start()
            except BaseException:
                p.close()
                raise

        poller = await self.io(slot, start)
        stride = max(1, int(round((1.0 / poller.period) / max(max_rate, 1.0))))
        stream = Stream(next(self._stream_ids), slot, poller.names,
                        [(r.id, r.subnode) for r in regs], poller, stride)
        self.streams.add(stream)
        return stream

    @staticmethod
    def drain(stream: Stream) -> Optional[Dict[str, Any]]:
        """The samples of @stream since the last call, decimated (every
        stride-th sample), or None when there are none. Never blocks."""
        if stream.poller.closed:
            return None
        batch = stream.poller.read()
        if not batch:
            return None
        keep = batch[(-stream.phase) % stream.stride::stream.stride]
        stream.phase = (stream.phase + len(batch)) % stream.stride
        if not keep:
            return None
        stream.sent += len(keep)
        return {"type": "samples", "stream": stream.id,
                "t": [round(s.t, 6) for s in keep],
                "values": [[None if math.isnan(v) else v for v in s.values] for s in keep]}

    async def close_stream(self, stream: Stream) -> None:
        self.streams.discard(stream)
        p = stream.poller
        # Stopping cancels the read in flight and returns within milliseconds,
        # but it is drive I/O all the same: off the loop.
        await asyncio.get_running_loop().run_in_executor(None, p.close)


def _integer(body: Dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = body.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ApiError(400, f"{key} {v!r}: expected an integer {lo}..{hi}")
    return v


def _number(body: Dict[str, Any], key: str) -> Optional[float]:
    """@body's finite number @key, or None when it has none."""
    v = body.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ApiError(400, f"{key} {v!r}: expected a finite number")
    return float(v)


def _required_number(body: Dict[str, Any], key: str) -> float:
    """@body's finite number @key, which it must have."""
    v = _number(body, key)
    if v is None:
        raise ApiError(400, f"{key}: required (a number)")
    return v


def _mode(body: Dict[str, Any]) -> Union[str, int]:
    """The operation mode an axis request names: a name, a label or a code."""
    mode = body.get("mode")
    if not isinstance(mode, (str, int)) or isinstance(mode, bool):
        raise ApiError(400, "mode: expected a name (\"profile_position\"), a label "
                            "or the drive's code")
    return mode


def _units(body: Dict[str, Any]) -> Optional[str]:
    """The position units an axis request names, or None when it names none."""
    units = body.get("units")
    if units is not None and not isinstance(units, str):
        raise ApiError(400, UNITS_EXPECTED)
    return units

