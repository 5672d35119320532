# SPDX-License-Identifier: MIT
"""Polling: sample registers at a fixed period in a background thread.

:class:`Poller` wraps ``ax_poller`` (axlink/poller.h): the library's own
thread reads every channel once per period on absolute deadlines, so
Python's pace (or the GIL) never shifts the sampling; Python only drains the
ring. :meth:`Drive.poll` is the short form for one drive.
"""
from __future__ import annotations

import array
import csv
import io
import math
import os
import time
from typing import (TYPE_CHECKING, Any, Dict, Iterator, List, NamedTuple, Optional, Sequence,
                    TextIO, Tuple, Union)

from ._native import cstr, ffi, lib
from .errors import InvalidArgumentError, check, closed

if TYPE_CHECKING:  # imported for annotations only: _drive imports this module
    from ._drive import Drive, RegisterLike

HAVE_POLLER = hasattr(lib, "ax_poller_new")
MAX_CHANNELS = 16
_CHUNK = 256  # samples copied out per C call


class Sample(NamedTuple):
    """One sample: seconds since the poller first started, and one value per
    channel (NaN where that read failed)."""

    t: float
    values: Tuple[float, ...]


class Samples:
    """What a poll collected, as columns.

    Attributes:
        names: the channel names, in order (``REGISTER`` or ``REGISTER@SUBNODE``
            when the same id is polled on several subnodes or drives).
        t: timestamps in seconds (``array.array('d')``), rising.
        columns: one ``array.array('d')`` per channel, by name.
        samples, lost, dropped: the poller's counters (lost = missed periods
            plus samples with a failed read; dropped = the ring was full).
        period: the achieved mean period in seconds.
        errors: failed reads per channel, by name.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names: List[str] = list(names)
        self.t = array.array("d")
        self.columns: Dict[str, "array.array[float]"] = {n: array.array("d") for n in names}
        self.samples = 0
        self.lost = 0
        self.dropped = 0
        self.period = 0.0
        self.errors: Dict[str, int] = {n: 0 for n in names}

    def __len__(self) -> int:
        return len(self.t)

    def __getitem__(self, name: str) -> "array.array[float]":
        return self.columns[name]

    def __repr__(self) -> str:
        return (f"<axlink.Samples {len(self)} x {len(self.names)} lost={self.lost} "
                f"period={self.period * 1e3:.3f} ms>")

    def _append(self, t: float, values: Sequence[float]) -> None:
        self.t.append(t)
        for name, v in zip(self.names, values):
            self.columns[name].append(v)

    def as_numpy(self) -> Dict[str, Any]:
        """The columns (and ``"t"``) as numpy arrays; needs numpy (not a
        dependency of axlink)."""
        try:
            import numpy
        except ImportError:
            raise ImportError("Samples.as_numpy() needs numpy: pip install numpy") from None
        out = {"t": numpy.frombuffer(self.t, dtype=numpy.float64).copy()}
        for n in self.names:
            out[n] = numpy.frombuffer(self.columns[n], dtype=numpy.float64).copy()
        return out

    def to_csv(self, file: Union[str, "os.PathLike[str]", TextIO]) -> None:
        """Write a header row (``t_s``, then the channel names) and one row
        per sample; a failed read is an empty field."""
        if isinstance(file, (str, os.PathLike)):
            with open(file, "w", newline="") as f:
                self._write_csv(f)
        else:
            self._write_csv(file)

    def _write_csv(self, f: TextIO) -> None:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["t_s", *self.names])
        cols = [self.columns[n] for n in self.names]
        for i, t in enumerate(self.t):
            w.writerow([f"{t:.6f}", *(_csv_number(c[i]) for c in cols)])

    def csv_text(self) -> str:
        """The CSV as a string."""
        f = io.StringIO()
        self._write_csv(f)
        return f.getvalue()


def _csv_number(v: float) -> str:
    """Integers (every integer register) without a fraction; empty for NaN (a failed read)."""
    if math.isnan(v):
        return ""
    if v.is_integer() and abs(v) < 2.0 ** 53:
        return str(int(v))
    return repr(v)


def _period_us(period: float) -> int:
    if isinstance(period, bool) or not isinstance(period, (int, float)) or not (
            1e-4 <= period <= 60.0):
        raise InvalidArgumentError(f"period {period!r}: expected 0.0001..60 seconds",
                                   int(lib.AX_EINVAL))
    return int(round(period * 1e6))


class Poller:
    """Samples registers of one drive or several at a fixed period.

    ``add()`` the channels (up to 16; a bad register name raises at once),
    then ``start()``; iterate for live use (each item a :class:`Sample`,
    ending once stopped and drained, or after @duration), or ``stop()``
    and take the :class:`Samples` left in the ring with :meth:`collect`.
    A context manager: leaving it stops sampling.

    Args:
        period: seconds between samples (0.0001..60).
        capacity: samples the ring holds between two read-outs (default:
            about 2 s worth, at least 1024).

    Thread safety: one thread at a time; the sampling thread is the library's.
    """

    def __init__(self, period: float, capacity: Optional[int] = None) -> None:
        if not HAVE_POLLER:
            raise InvalidArgumentError("this libaxlink has no poller (ax_poller_new)",
                                       int(lib.AX_EINVAL))
        us = _period_us(period)
        if capacity is None:
            capacity = max(1024, int(2e6 / us) + 64)
        out = ffi.new("ax_poller **")
        check(lib.ax_poller_new(out, us, capacity))
        self._p: Any = ffi.gc(out[0], lib.ax_poller_free)
        self.period = us / 1e6
        self._drives: List["Drive"] = []  # keeps their contexts alive as long as ours
        self._regs: List[Tuple[str, int]] = []
        self._t = ffi.new("double[]", _CHUNK)
        self._v: Any = None
        self._vn = 0

    def _handle(self) -> Any:
        if self._p is None:
            raise closed(self)
        return self._p

    def add(self, drive: "Drive", register: "RegisterLike", subnode: Optional[int] = None) -> int:
        """Add a channel: @register of @drive. Returns its index. Raises
        DictionaryError (no such register), TypeMismatchError (a str or
        bytes register), RangeError (a 17th channel), StateError (running)."""
        reg = drive.find(register, subnode)
        dptr = drive._handles()[0]
        idx = check(lib.ax_poller_add(self._handle(), dptr, cstr(reg.id), reg.subnode))
        self._drives.append(drive)
        self._regs.append((reg.id, reg.subnode))
        return idx

    @property
    def names(self) -> List[str]:
        """Channel names: the register id, with ``@subnode`` (and ``#n`` for
        a repeat) when ids alone would be ambiguous."""
        ids = [r[0] for r in self._regs]
        names = []
        for i, (rid, sub) in enumerate(self._regs):
            name = rid if ids.count(rid) == 1 else f"{rid}@{sub}"
            while name in names:
                name = f"{name}#{i}"
            names.append(name)
        return names

    def start(self) -> "Poller":
        """Start (or restart) sampling; returns self."""
        check(lib.ax_poller_start(self._handle()))
        return self

    def stop(self) -> None:
        """Stop sampling. Returns within milliseconds: the read in flight
        is cancelled (only the poller's own, never another user's of the
        same drive) and the sample it belonged to is dropped."""
        if self._p is not None:
            check(lib.ax_poller_stop(self._p))

    @property
    def running(self) -> bool:
        """True while the poller is sampling in the background."""
        return self._p is not None and bool(lib.ax_poller_running(self._p))

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._p is None

    def close(self) -> None:
        """Stop (as promptly as :meth:`stop`) and free the poller; idempotent."""
        p, self._p = self._p, None
        if p is not None:
            lib.ax_poller_stop(p)
            ffi.release(p)

    def __enter__(self) -> "Poller":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def stats(self) -> Dict[str, Any]:
        """The counters: samples, lost, dropped, elapsed (s), period (achieved, s)."""
        st = ffi.new("ax_poller_stats *", {"size": ffi.sizeof("ax_poller_stats")})
        check(lib.ax_poller_stats_get(self._handle(), st))
        return {"samples": int(st.samples), "lost": int(st.lost),
                "dropped": int(st.overflows), "elapsed": float(st.elapsed_s),
                "period": float(st.period_s)}

    def errors(self) -> List[int]:
        """Failed reads per channel."""
        p = self._handle()
        return [int(lib.ax_poller_channel_errors(p, i)) for i in range(len(self._regs))]

    def read(self) -> List[Sample]:
        """The samples waiting in the ring, oldest first (never waits)."""
        p = self._handle()
        n = len(self._regs)
        if self._vn < _CHUNK * max(n, 1):
            self._vn = _CHUNK * max(n, 1)
            self._v = ffi.new("double[]", self._vn)
        out: List[Sample] = []
        while True:
            got = lib.ax_poller_read(p, self._t, self._v, _CHUNK)
            if got <= 0:
                check(got)
                return out
            vals = ffi.unpack(self._v, got * n)
            times = ffi.unpack(self._t, got)
            out.extend(Sample(times[i], tuple(vals[i * n:(i + 1) * n])) for i in range(got))
            if got < _CHUNK:
                return out

    def collect(self, into: Optional[Samples] = None) -> Samples:
        """Drain the ring into @into (or new :class:`Samples`), with the
        counters as they are now."""
        s = into if into is not None else Samples(self.names)
        for sample in self.read():
            s._append(sample.t, sample.values)
        st = self.stats()
        s.samples, s.lost, s.dropped = st["samples"], st["lost"], st["dropped"]
        s.period = st["period"]
        s.errors = dict(zip(s.names, self.errors()))
        return s

    def iter(self, duration: Optional[float] = None) -> Iterator[Sample]:
        """Samples as they come (starting the poller if it is not running),
        until @duration seconds have passed, or until stopped and drained.
        Breaking out of the loop does not stop the poller."""
        if not self.running:
            self.start()
        end = None if duration is None else time.monotonic() + duration
        nap = min(self.period, 0.02)
        while True:
            running = self.running
            batch = self.read()
            yield from batch
            if end is not None and time.monotonic() >= end:
                self.stop()
                yield from self.read()
                return
            if not running and not batch:
                return
            if not batch:
                time.sleep(nap)

    def __iter__(self) -> Iterator[Sample]:
        return self.iter()


def poll(drive: "Drive", registers: Union["RegisterLike", Sequence["RegisterLike"]],
         period: float, duration: Optional[float] = None) -> Union[Samples, Poller]:
    """See :meth:`Drive.poll`."""
    if isinstance(registers, (str, bytes)) or not isinstance(registers, Sequence):
        registers = [registers]
    if not registers:
        raise InvalidArgumentError("poll: no registers", int(lib.AX_EINVAL))
    if duration is not None and (isinstance(duration, bool) or
                                 not isinstance(duration, (int, float)) or
                                 not duration > 0 or math.isinf(duration)):
        raise InvalidArgumentError(f"duration {duration!r}: expected seconds above 0",
                                   int(lib.AX_EINVAL))
    p = Poller(period)
    try:
        for r in registers:
            p.add(drive, r)
        if duration is None:
            return p.start()
        samples = Samples(p.names)
        p.start()
        end = time.monotonic() + duration
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, 0.05))
            p.collect(samples)
        p.stop()
        p.collect(samples)
        p.close()
        return samples
    except BaseException:
        p.close()
        raise
