# SPDX-License-Identifier: MIT
"""Drive-side capture: the drive's oscilloscope and waveform injection.

:class:`Scope` wraps ``ax_scope`` (axlink/scope.h): the drive samples the
registers in its own control loop and the buffer is read afterwards in
extended frames, so the rate is the drive's (tens of kHz), not the bus
round trip's. :class:`Disturbance` wraps ``ax_disturbance``: a waveform
played into registers by the drive. :meth:`Drive.scope` and
:meth:`Drive.disturbance` are the short forms.

Results are numpy arrays, one per channel in the register's own type
(``int32`` for an s32 register, ``float32`` for a float one), plus the time
axis in seconds, 0 at the trigger.
"""
from __future__ import annotations

import csv
import os
from typing import (TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, TextIO,
                    Tuple, Union)

import numpy

from ._native import cstr, ffi, lib
from .errors import InvalidArgumentError, check, closed, last_error

if TYPE_CHECKING:  # for annotations only: _drive imports this module
    from ._drive import Drive, RegisterLike

TriggerLike = Union[str, Tuple[Any, str, float]]

_EDGES = {"rising": "AX_SCOPE_TRIGGER_RISING", "falling": "AX_SCOPE_TRIGGER_FALLING",
          "either": "AX_SCOPE_TRIGGER_EITHER"}
# numpy types of the register types a channel carries (little-endian, as on the wire).
_NUMPY = {"u8": "<u1", "s8": "<i1", "u16": "<u2", "s16": "<i2", "u32": "<u4", "s32": "<i4",
          "u64": "<u8", "s64": "<i8", "float": "<f4", "bool": "?"}


def _einval(msg: str) -> InvalidArgumentError:
    return InvalidArgumentError(msg, int(lib.AX_EINVAL))


def _seconds_to_us(period: Optional[float]) -> Optional[float]:
    if period is None:
        return None
    if isinstance(period, bool) or not isinstance(period, (int, float)) or not period > 0:
        raise _einval(f"period {period!r}: expected seconds above 0")
    return float(period) * 1e6


def _registers(registers: Any) -> List[Any]:
    if isinstance(registers, (str, bytes)) or not isinstance(registers, Sequence):
        return [registers]
    return list(registers)


class ScopeResult:
    """One capture.

    Attributes:
        t: sample times in seconds (``numpy.float64``), 0 at the trigger,
            negative before it.
        channels: one numpy array per channel, in the register's type, by name.
        names: the channel names in order (register ids; ``ID@SUBNODE``
            when an id repeats).
        period: seconds between samples.
        pre: samples before the trigger.
        wire_bytes: bytes the read-out took on the wire.
    """

    def __init__(self, names: List[str], t: Any, channels: Dict[str, Any], period: float,
                 pre: int, wire_bytes: int) -> None:
        self.names = names
        self.t = t
        self.channels = channels
        self.period = period
        self.pre = pre
        self.wire_bytes = wire_bytes

    def __len__(self) -> int:
        return len(self.t)

    def __getitem__(self, name: str) -> Any:
        return self.channels[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __repr__(self) -> str:
        return (f"<axlink.ScopeResult {len(self)} x {len(self.names)} every "
                f"{self.period * 1e6:g} us>")

    def to_csv(self, file: Union[str, "os.PathLike[str]", TextIO]) -> None:
        """Write ``t_s`` and one column per channel."""
        if isinstance(file, (str, os.PathLike)):
            with open(file, "w", newline="") as f:
                self._write_csv(f)
        else:
            self._write_csv(file)

    def _write_csv(self, f: TextIO) -> None:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["t_s", *self.names])
        cols = [self.channels[n].tolist() for n in self.names]
        for i, t in enumerate(self.t.tolist()):
            w.writerow([f"{t:.9g}", *(c[i] for c in cols)])


class Scope:
    """The drive's monitoring, configured for captures.

    Channels are registers of the drive's dictionary (cyclic, numeric); the
    period is a multiple of the drive's base period (:attr:`base_period`).
    A context manager: leaving it disables the drive's monitoring.

    Args:
        drive: the drive.
        registers: one register or several (names or :class:`Register`).
        period: seconds between samples (default: the base period).
        samples: samples per channel (the pre-trigger ones included).
        trigger: None (at once), ``(register, "rising"|"falling"|"either",
            level)`` or ``"REGISTER:EDGE:LEVEL"``; the level is in the
            register's units. A trigger register that is not a channel is
            added as one.
        pre: samples kept before the trigger.

    Raises RangeError (too many channels, a period below the base or not a
    multiple of it, a window the buffer cannot hold), UnsupportedError (a
    register the drive cannot sample), DictionaryError (no such register).

    Thread safety: one thread at a time.
    """

    def __init__(self, drive: "Drive", registers: Any, period: Optional[float] = None,
                 samples: int = 1000, trigger: Optional[TriggerLike] = None,
                 pre: int = 0) -> None:
        self._drive = drive  # keeps the drive (and its context) alive
        out = ffi.new("ax_scope **")
        check(lib.ax_scope_new(out, drive._handles()[0]), drive_text=drive._drive_text)
        self._s: Any = ffi.gc(out[0], lib.ax_scope_unref)
        cancel = ffi.new("ax_cancel **")
        check(lib.ax_cancel_new(cancel))
        self._cancel = ffi.gc(cancel[0], lib.ax_cancel_unref)
        for r in _registers(registers):
            self._add(r)
        us = _seconds_to_us(period)
        if us is not None:
            check(lib.ax_scope_set_period_us(self._s, us))
        if trigger is not None:
            self._set_trigger(trigger)
        if isinstance(samples, bool) or not isinstance(samples, int) or not 0 < samples < 2**32:
            raise _einval(f"samples {samples!r}: expected a positive integer")
        if isinstance(pre, bool) or not isinstance(pre, int) or not 0 <= pre < 2**32:
            raise _einval(f"pre {pre!r}: expected a number of samples")
        check(lib.ax_scope_set_samples(self._s, samples, pre))
        self.samples = samples
        self.pre = pre

    def _handle(self) -> Any:
        if self._s is None:
            raise closed(self)
        return self._s

    def _add(self, register: Any) -> int:
        reg = self._drive.find(register)
        return check(lib.ax_scope_add_channel(self._handle(), cstr(reg.id), reg.subnode),
                     drive_text=self._drive._drive_text)

    def _set_trigger(self, trigger: TriggerLike) -> None:
        if isinstance(trigger, str):
            parts = trigger.split(":")
            if len(parts) != 3:
                raise _einval(f"trigger {trigger!r}: expected 'REGISTER:EDGE:LEVEL'")
            try:
                level = float(parts[2])
            except ValueError:
                raise _einval(f"trigger {trigger!r}: level {parts[2]!r} is not a number") \
                    from None
            register, edge = parts[0], parts[1]
        else:
            try:
                register, edge, level = trigger
            except (TypeError, ValueError):
                raise _einval(f"trigger {trigger!r}: expected (register, edge, level)") \
                    from None
        if edge not in _EDGES:
            raise _einval(f"trigger edge {edge!r}: expected rising, falling or either")
        reg = self._drive.find(register)
        ids = [(c[0], c[1]) for c in self._channels()]
        ch = ids.index((reg.id, reg.subnode)) if (reg.id, reg.subnode) in ids else \
            self._add(reg)
        check(lib.ax_scope_set_trigger(self._handle(), int(getattr(lib, _EDGES[edge])), ch,
                                       float(level)))

    @property
    def base_period(self) -> float:
        """The drive's fastest sample period in seconds."""
        return float(lib.ax_scope_base_period_us(self._handle())) / 1e6

    @property
    def period(self) -> float:
        """Seconds between samples."""
        return float(lib.ax_scope_period_us(self._handle())) / 1e6

    @property
    def max_channels(self) -> int:
        """How many registers the drive's monitoring can capture at once."""
        return int(lib.ax_scope_max_channels(self._handle()))

    def _channels(self) -> List[Tuple[str, int, str]]:
        """(id, subnode, dtype name) of every channel, as the library has them
        (a disturbance's start may add its target)."""
        s = self._handle()
        out = []
        for i in range(int(lib.ax_scope_channel_count(s))):
            reg = lib.ax_scope_channel_reg(s, i)
            out.append((ffi.string(lib.ax_reg_id(reg)).decode(), int(lib.ax_reg_subnode(reg)),
                        ffi.string(lib.ax_dtype_name(lib.ax_reg_dtype(reg))).decode()))
        return out

    @property
    def names(self) -> List[str]:
        """Channel names: register ids (``ID@SUBNODE`` when an id repeats)."""
        chans = self._channels()
        ids = [c[0] for c in chans]
        return [i if ids.count(i) == 1 else f"{i}@{sub}" for i, sub, _ in chans]

    def arm(self) -> "Scope":
        """Configure the drive's monitoring and start it; returns self."""
        check(lib.ax_scope_arm(self._handle()), drive_text=self._drive._drive_text)
        return self

    def rearm(self) -> "Scope":
        """Start the next capture with the same configuration."""
        check(lib.ax_scope_rearm(self._handle()), drive_text=self._drive._drive_text)
        return self

    def wait(self, timeout: Optional[float] = 10.0) -> None:
        """Wait until the capture is complete (TimeoutError after @timeout
        seconds; None waits without a deadline). Ctrl-C and :meth:`cancel`
        end it within one request (CancelledError)."""
        from ._drive import _interruptible

        ms = 0 if timeout is None else max(1, int(timeout * 1000))
        s = self._handle()
        lib.ax_cancel_reset(self._cancel)
        _interruptible(lambda: lib.ax_scope_wait(s, ms, self._cancel), self._cancel,
                       self._drive._drive_text)

    def cancel(self) -> None:
        """From another thread: end a :meth:`wait` in progress."""
        lib.ax_cancel_trigger(self._cancel)

    def fetch(self) -> ScopeResult:
        """Read the capture from the drive."""
        s = self._handle()
        n = check(lib.ax_scope_fetch(s), drive_text=self._drive._drive_text)
        block = int(lib.ax_scope_block_size(s))
        names = self.names
        t = numpy.frombuffer(ffi.buffer(lib.ax_scope_time(s), n * 8),
                             dtype=numpy.float64).copy() if n else numpy.zeros(0)
        length = ffi.new("size_t *")
        raw_p = lib.ax_scope_raw(s, length)
        raw = bytes(ffi.buffer(raw_p, int(length[0]))) if n else b""
        chans = self._channels()
        fmt = numpy.dtype({
            "names": [f"c{i}" for i in range(len(chans))],
            "formats": [_NUMPY[c[2]] for c in chans],
            "offsets": [int(lib.ax_scope_channel_offset(s, i)) for i in range(len(chans))],
            "itemsize": block,
        })
        blocks = numpy.frombuffer(raw, dtype=fmt, count=n)
        channels = {}
        for i, name in enumerate(names):
            col = blocks[f"c{i}"]
            channels[name] = col.astype(col.dtype.newbyteorder("="), copy=True)
        return ScopeResult(names, t, channels, self.period, self.pre,
                           int(lib.ax_scope_wire_bytes(s)))

    def capture(self, timeout: Optional[float] = 10.0) -> ScopeResult:
        """Arm, wait and fetch."""
        self.arm()
        try:
            self.wait(timeout)
        except BaseException:
            self.disable()
            raise
        return self.fetch()

    def disable(self) -> None:
        """Stop the drive's monitoring and discard its buffer."""
        if self._s is not None:
            check(lib.ax_scope_disable(self._s), drive_text=self._drive._drive_text)

    def close(self) -> None:
        """Disable the monitoring (errors ignored) and free the scope; idempotent."""
        s, self._s = self._s, None
        if s is not None:
            if lib.ax_scope_disable(s) < 0:
                pass  # the drive may be gone; nothing else to undo
            ffi.release(s)

    def __enter__(self) -> "Scope":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Disturbance:
    """A waveform the drive plays into registers.

    Args:
        drive: the drive.
        registers: one target register or several (writable, cyclic, numeric).
        waveforms: the samples, in the registers' units: one sequence (or
            numpy array) for one register, a sequence of them for several
            (all the same length). Each sample must fit its register's type
            and range (RangeError names the first that does not).
        period: seconds between samples (default: the drive's base period).

    The waveform is loaded into the drive at once. :meth:`start` plays it,
    with a :class:`Scope` to record the response from the first sample.
    A context manager: leaving it stops the waveform.

    Thread safety: one thread at a time.
    """

    def __init__(self, drive: "Drive", registers: Any, waveforms: Any,
                 period: Optional[float] = None) -> None:
        self._drive = drive
        out = ffi.new("ax_disturbance **")
        check(lib.ax_disturbance_new(out, drive._handles()[0]), drive_text=drive._drive_text)
        self._d: Any = ffi.gc(out[0], lib.ax_disturbance_unref)
        cancel = ffi.new("ax_cancel **")
        check(lib.ax_cancel_new(cancel))
        self._cancel = ffi.gc(cancel[0], lib.ax_cancel_unref)
        regs = _registers(registers)
        if len(regs) == 1:
            waves = [waveforms]
        else:
            waves = list(waveforms)
            if len(waves) != len(regs):
                raise _einval(f"{len(regs)} registers but {len(waves)} waveforms")
        for r, w in zip(regs, waves):
            reg = drive.find(r)
            ch = check(lib.ax_disturbance_add_channel(self._d, cstr(reg.id), reg.subnode),
                       drive_text=drive._drive_text)
            arr = numpy.ascontiguousarray(numpy.asarray(w, dtype=numpy.float64).ravel())
            if arr.size == 0:
                raise _einval(f"waveform for {reg.id}: no samples")
            buf = ffi.from_buffer("double[]", arr)
            check(lib.ax_disturbance_set_waveform(self._d, ch, buf, arr.size))
        us = _seconds_to_us(period)
        if us is not None:
            check(lib.ax_disturbance_set_period_us(self._d, us))
        check(lib.ax_disturbance_load(self._d), drive_text=drive._drive_text)

    def _handle(self) -> Any:
        if self._d is None:
            raise closed(self)
        return self._d

    @property
    def wire_bytes(self) -> int:
        """Bytes the load took on the wire."""
        return int(lib.ax_disturbance_wire_bytes(self._handle()))

    def start(self, scope: Optional[Scope] = None) -> None:
        """Play the waveform; with @scope, arm it in the same step so the
        capture starts with the first sample (then ``scope.wait()`` and
        ``scope.fetch()``)."""
        sp = scope._handle() if scope is not None else ffi.NULL
        check(lib.ax_disturbance_start(self._handle(), sp), drive_text=self._drive._drive_text)

    def wait(self, timeout: Optional[float] = 10.0) -> None:
        """Wait until the started waveform has played to its end (the
        targets keep the last sample). Ctrl-C ends it (KeyboardInterrupt)."""
        from ._drive import _interruptible

        ms = 0 if timeout is None else max(1, int(timeout * 1000))
        d = self._handle()
        lib.ax_cancel_reset(self._cancel)
        _interruptible(lambda: lib.ax_disturbance_wait(d, ms, self._cancel), self._cancel,
                       self._drive._drive_text)

    def record(self, scope: Scope, timeout: Optional[float] = 10.0) -> ScopeResult:
        """Start with @scope, wait for the capture, stop; the response."""
        self.start(scope)
        try:
            scope.wait(timeout)
            return scope.fetch()
        finally:
            self.stop()
            scope.disable()

    def stop(self) -> None:
        """Stop the waveform and discard it from the drive."""
        if self._d is not None:
            check(lib.ax_disturbance_stop(self._d), drive_text=self._drive._drive_text)

    def close(self) -> None:
        """Stop (errors ignored) and free; idempotent."""
        d, self._d = self._d, None
        if d is not None:
            if lib.ax_disturbance_stop(d) < 0:
                pass  # the drive may be gone
            ffi.release(d)

    def __enter__(self) -> "Disturbance":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def scope(drive: "Drive", registers: Any, period: Optional[float] = None, samples: int = 1000,
          trigger: Optional[TriggerLike] = None, pre: int = 0,
          timeout: Optional[float] = 10.0) -> ScopeResult:
    """See :meth:`Drive.scope`."""
    with Scope(drive, registers, period=period, samples=samples, trigger=trigger,
               pre=pre) as s:
        return s.capture(timeout)


__all__ = ["Disturbance", "Scope", "ScopeResult", "scope", "last_error"]
