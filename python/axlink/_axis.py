# SPDX-License-Identifier: MIT
"""Axes of a drive: registers on the axis's subnode, and motion (the CiA 402
state machine, operation modes, profile moves, homing, units) when the
library has axlink/motion.h."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Type, Union

from . import _typed, _values
from ._context import _timeout_ms
from ._native import cstr, ffi, lib, text
from .errors import (CancelledError, Error, InvalidArgumentError, StateError,
                     UnsupportedError, check, last_error)

if TYPE_CHECKING:
    from ._dictionary import Register
    from ._drive import Drive

HAVE_MOTION = hasattr(lib, "ax_axis_open")

# A motion call failing with the generic code means the axis is not in a
# state that allows it (not enabled, faulted): the message says which.
MOTION_DOMAIN: Dict[int, Type[Error]] = {int(lib.AX_ERROR): StateError}

RegisterLike = Union[str, "Register"]


def _ms(timeout: Optional[float]) -> int:
    return 0 if timeout is None else _timeout_ms(timeout)


def _name_to_code(kind: str, value: Union[str, int], parse: Any, name: Any) -> int:
    if isinstance(value, str):
        code = parse(cstr(value))
        if code < 0:
            raise InvalidArgumentError(text(lib.ax_error_last()), int(code))
        return int(code)
    if isinstance(value, int) and not isinstance(value, bool) and name(value) != ffi.NULL:
        return value
    raise InvalidArgumentError(f"unknown {kind} {value!r}", int(lib.AX_EINVAL))


def _add_note(e: BaseException, note: str) -> None:
    """e.add_note() where Python has it (3.11); a warning before that."""
    if hasattr(e, "add_note"):
        e.add_note(note)
    else:
        import warnings
        warnings.warn(note, RuntimeWarning, stacklevel=3)


class _Poll:
    """What a wait hands its polling callback; its handle is the userdata."""

    def __init__(self, fn: Optional[Callable[[int], Any]]) -> None:
        self.fn = fn
        self.error: Optional[BaseException] = None
        self.stopped = False


# An exception raised as the callback starts (a KeyboardInterrupt the
# interpreter delivers at its first instruction, outside its try): the wait
# on this thread picks it up from here.
_callback_error = threading.local()


def _wait_cb_error(exc_type: Any, exc: Optional[BaseException], tb: Any) -> int:
    _callback_error.exc = exc if exc is not None else exc_type()
    return int(lib.AX_ECANCELED)


if HAVE_MOTION:
    @ffi.def_extern(onerror=_wait_cb_error)
    def axpy_axis_wait_cb(axis: Any, statusword: int, userdata: Any) -> int:
        # On the thread that waits, after every status read: Python code runs
        # here, so a signal (Ctrl-C) is delivered within a poll period. An
        # exception stops the wait and is raised again by the caller.
        poll: _Poll = ffi.from_handle(userdata)
        try:
            if poll.fn is not None and poll.fn(int(statusword)) is False:
                poll.stopped = True
                return int(lib.AX_ECANCELED)
            return 0
        except BaseException as e:  # noqa: BLE001 - re-raised by the caller
            poll.error = e
            return int(lib.AX_ECANCELED)


class Axis:
    """Axis @subnode (1-based, as on the wire) of a drive: ``drive.axes[1]``.

    Reads and writes registers on its own subnode. With the library's motion
    API it also drives the CiA 402 state machine and moves::

        axis = drive.axes[1]
        axis.enable()
        axis.move_to(10000, velocity=2000)      # counts, counts/s
        axis.units = "rev"; axis.move_to(2.5, relative=True)
        axis.disable()

    Motion calls on one axis are serialized (the handshakes of a move must
    not interleave); register access is not. Keeps its drive alive; closing
    the drive closes its axes.

    Stopping: :meth:`stop` halts (decelerates, stays enabled),
    :meth:`quick_stop` brakes on the quick stop ramp. A wait interrupted by
    Ctrl-C (KeyboardInterrupt) or by ``drive.cancel()`` from another thread
    (CancelledError) ends within a poll period and halts the axis before the
    exception propagates, unless the call says ``stop_on_interrupt=False``.
    As a context manager the axis is halted and disabled on exit::

        with drive.axes[1] as axis:
            axis.enable()
            axis.move_to(10000)
    """

    __slots__ = {
        "drive": "The :class:`Drive` this axis belongs to (kept alive by the axis).",
        "subnode": "The axis' subnode, 1..n.",
        "_ptr": None, "_lock": None, "__weakref__": None,
    }

    def __init__(self, drive: "Drive", subnode: int) -> None:
        self.drive = drive
        self.subnode = subnode
        self._ptr: Any = None
        self._lock = threading.RLock()

    # -- registers

    def read(self, register: RegisterLike) -> _values.Value:
        """Read a register of this axis by name or :class:`Register`."""
        return self.drive.read(register, self.subnode)

    def write(self, register: RegisterLike, value: Any, *, allow_nonfinite: bool = False) -> None:
        """Write a register of this axis by name or :class:`Register`."""
        self.drive.write(register, value, self.subnode, allow_nonfinite=allow_nonfinite)

    def read_as(self, register: RegisterLike, kind: Type[_typed.T]) -> _typed.T:
        """Read a register of this axis as the type @kind; see :meth:`Drive.read_as`."""
        return self.drive.read_as(register, kind, self.subnode)

    def read_raw(self, address: int, dtype: Union[str, int]) -> _values.Value:
        """Read register @address of this axis as @dtype; see :meth:`Drive.read_raw`."""
        return self.drive.read_raw(address, dtype, self.subnode)

    def write_raw(self, address: int, dtype: Union[str, int], value: Any, *,
                  allow_nonfinite: bool = False) -> None:
        """Write @value as @dtype to register @address of this axis; see
        :meth:`Drive.write_raw`."""
        self.drive.write_raw(address, dtype, value, self.subnode,
                             allow_nonfinite=allow_nonfinite)

    def __repr__(self) -> str:
        return f"<axlink.Axis {self.subnode} of {self.drive.uri}>"

    # -- the motion handle

    def _p(self) -> Any:
        """The ax_axis, opened on first use."""
        if not HAVE_MOTION:
            raise UnsupportedError("this libaxlink has no motion API (axlink/motion.h)",
                                   int(lib.AX_EUNSUPPORTED))
        drive, _ = self.drive._handles()  # StateError once the drive is closed
        p = self._ptr
        if p is None:
            with self._lock:
                p = self._ptr
                if p is None:
                    out = ffi.new("ax_axis **")
                    check(lib.ax_axis_open(out, drive, self.subnode, ffi.NULL), MOTION_DOMAIN)
                    p = ffi.gc(out[0], lib.ax_axis_unref)
                    # The waits watch the drive's token: drive.cancel() ends them.
                    lib.ax_axis_set_cancel(p, self.drive._cancel_token())
                    self._ptr = p
        return p

    def _close(self) -> None:
        self._ptr = None

    def __enter__(self) -> "Axis":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        """Halt (if enabled and moving) and disable the axis. When the block
        raised, a failure to do so is added as a note to that exception."""
        if self._ptr is None or self.drive.closed:
            return
        try:
            with self._lock:
                self.stop()
                self.disable()
        except Exception as e:  # noqa: BLE001 - the block's own exception wins
            if exc is None:
                raise
            _add_note(exc, f"leaving the axis: {e}")

    # -- interrupting a wait

    def _interrupted(self, e: BaseException) -> bool:
        """Did @e end a wait from outside: Ctrl-C, exit, or drive.cancel()?"""
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            return True
        return (isinstance(e, CancelledError) and
                bool(lib.ax_cancel_requested(self.drive._cancel_token())))

    def _stop_interrupted(self, p: Any, e: BaseException) -> None:
        """Halt the axis after an interrupted wait; quick stop if the halt fails."""
        if lib.ax_axis_halt(p, 0) >= 0:
            return
        why = text(lib.ax_error_last())
        if lib.ax_axis_quick_stop(p, 0) >= 0:
            _add_note(e, f"axis {self.subnode}: halt failed ({why}); quick stopped")
            return
        _add_note(e, f"axis {self.subnode} could not be stopped: halt: {why}; "
                  f"quick stop: {text(lib.ax_error_last())}")

    def _guarded(self, stop_on_interrupt: bool, run: Callable[[Any], None]) -> None:
        """run(ax_axis) under the lock, with the drive's token reset first;
        an interrupt halts the axis (stop_on_interrupt) and propagates."""
        with self._lock:
            p = self._p()
            lib.ax_cancel_reset(self.drive._cancel_token())
            try:
                run(p)
            except BaseException as e:
                if stop_on_interrupt and self._interrupted(e):
                    self._stop_interrupted(p, e)
                raise

    def _interruptible(self, call: Callable[[], Any]) -> None:
        """call(), a library call that watches the drive's token but runs no
        Python meanwhile. On the main thread it runs on a helper thread while
        this one waits in short slices, so that Ctrl-C is raised here at
        once; the token then ends the call too. Elsewhere (no signals) directly."""
        if threading.current_thread() is not threading.main_thread():
            rc = call()
            if rc < 0:
                raise last_error(rc, MOTION_DOMAIN, self.drive._drive_text)
            return
        outcome: List[Any] = []

        def work() -> None:
            rc = call()  # the library's last error is per thread: take it here
            outcome.append(last_error(rc, MOTION_DOMAIN, self.drive._drive_text)
                           if rc < 0 else None)

        worker = threading.Thread(target=work, name=f"axlink-axis-{self.subnode}",
                                  daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.02)
        except BaseException:
            lib.ax_cancel_trigger(self.drive._cancel_token())
            worker.join()  # within a poll period: the call watches the token
            raise
        if outcome and outcome[0] is not None:
            raise outcome[0]

    def _wait(self, p: Any, timeout_ms: int, on_poll: Optional[Callable[[int], Any]]) -> None:
        """Wait for target reached with a Python callback after every status
        read, so that signals are delivered meanwhile."""
        poll = _Poll(on_poll)
        handle = ffi.new_handle(poll)
        _callback_error.exc = None
        rc = lib.ax_axis_wait_target_reached(p, timeout_ms, lib.axpy_axis_wait_cb, handle)
        pending, _callback_error.exc = _callback_error.exc, None
        if pending is not None:
            raise pending
        if poll.error is not None:
            raise poll.error
        if poll.stopped:
            raise CancelledError("wait stopped by its on_poll callback",
                                 int(lib.AX_ECANCELED))
        if rc < 0:
            raise last_error(rc, MOTION_DOMAIN, self.drive._drive_text)

    def _call(self, fn: Any, *args: Any) -> int:
        with self._lock:
            rc = fn(self._p(), *args)
            if rc < 0:
                raise last_error(rc, MOTION_DOMAIN, self.drive._drive_text)
            return int(rc)

    # -- state machine

    @property
    def state(self) -> str:
        """The CiA 402 state: "switch_on_disabled", "operation_enabled", "fault"..."""
        st = ffi.new("int *")
        self._call(lib.ax_axis_state, st, ffi.NULL)
        return text(lib.ax_cia402_state_name(st[0]))

    @property
    def statusword(self) -> int:
        """The CiA 402 status word, as read from the drive now."""
        st = ffi.new("int *")
        sw = ffi.new("uint16_t *")
        self._call(lib.ax_axis_state, st, sw)
        return int(sw[0])

    def enable(self, timeout: Optional[float] = None) -> None:
        """Bring the axis to operation enabled (a fault is reset first), each
        transition confirmed by the status word within @timeout seconds."""
        self._call(lib.ax_axis_enable, _ms(timeout))

    def disable(self, timeout: Optional[float] = None) -> None:
        """Take the power stage off."""
        self._call(lib.ax_axis_disable, _ms(timeout))

    def stop(self, timeout: Optional[float] = None) -> None:
        """Halt: decelerate on the profile deceleration and hold the position,
        still enabled; returns at standstill (within @timeout seconds; None:
        estimated from the velocity). The next move, velocity or homing
        releases the halt; a halted move does not resume. Nothing to do when
        the axis is not enabled."""
        self._call(lib.ax_axis_halt, _ms(timeout))

    def quick_stop(self, timeout: Optional[float] = None) -> None:
        """Quick stop: brake on the quick stop ramp into quick_stop_active
        (does not wait for standstill); :meth:`enable` brings it back."""
        self._call(lib.ax_axis_quick_stop, _ms(timeout))

    def fault_reset(self, timeout: Optional[float] = None) -> None:
        """Leave the fault state (nothing to do when not in fault)."""
        self._call(lib.ax_axis_fault_reset, _ms(timeout))

    # -- modes and units

    @property
    def mode(self) -> str:
        """The operation mode in effect ("profile_position", ...); set it
        with a name ("pp", "profile_velocity"), a label of the drive's
        dictionary ("Profile velocity") or the drive's own integer code
        (0x14 is profile position on MCB drives, 1 on CiA 402 ones: an
        integer is always the drive's code, as in the CLI), and the drive
        confirms it."""
        m = ffi.new("int *")
        self._call(lib.ax_axis_get_mode, m, ffi.NULL)
        return text(lib.ax_op_mode_name(m[0])) or "unknown"

    @mode.setter
    def mode(self, mode: Union[str, int]) -> None:
        self.set_mode(mode)

    @property
    def mode_code(self) -> int:
        """The drive's own code of the operation mode in effect (0x14...)."""
        m = ffi.new("int *")
        code = ffi.new("uint32_t *")
        self._call(lib.ax_axis_get_mode, m, code)
        return int(code[0])

    def _mode_of(self, p: Any, mode: Union[str, int]) -> int:
        """The ax_op_mode of a name, label or drive code, as ax_axis_mode_parse()."""
        if isinstance(mode, str):
            m = lib.ax_axis_mode_parse(p, cstr(mode))
        elif isinstance(mode, int) and not isinstance(mode, bool):
            m = (lib.ax_axis_mode_from_code(p, mode) if -2**63 <= mode < 2**63
                 else lib.ax_axis_mode_from_code(p, -1))
        else:
            raise InvalidArgumentError(f"operation mode {mode!r}: expected a name, a label "
                                       "or the drive's integer code", int(lib.AX_EINVAL))
        if m < 0:
            raise last_error(m, MOTION_DOMAIN, self.drive._drive_text)
        return int(m)

    def set_mode(self, mode: Union[str, int], timeout: Optional[float] = None) -> None:
        """Set the operation mode (see :attr:`mode`) and wait until the
        drive's mode display shows it."""
        with self._lock:
            p = self._p()
            self._call(lib.ax_axis_set_mode, self._mode_of(p, mode), _ms(timeout))

    @property
    def units(self) -> str:
        """Units of positions (per second for velocities): "counts", "rev",
        "deg", "rad"; "mm" needs :meth:`set_units` with a feed constant."""
        with self._lock:
            return text(lib.ax_unit_name(lib.ax_axis_units(self._p())))

    @units.setter
    def units(self, unit: Union[str, int]) -> None:
        self.set_units(unit)

    def set_units(self, unit: Union[str, int], feed_mm_per_rev: float = 0.0) -> None:
        """Set the units of positions and velocities ("counts", "rev", "deg", "rad",
        "mm"); "mm" needs @feed_mm_per_rev, the travel of one motor revolution."""
        code = _name_to_code("unit", unit, lib.ax_unit_parse, lib.ax_unit_name)
        self._call(lib.ax_axis_set_units, code, float(feed_mm_per_rev))

    @property
    def resolution(self) -> float:
        """Encoder counts per revolution (0.0: unknown); settable."""
        with self._lock:
            return float(lib.ax_axis_resolution(self._p()))

    @resolution.setter
    def resolution(self, counts_per_rev: float) -> None:
        self._call(lib.ax_axis_set_resolution, float(counts_per_rev))

    # -- feedback

    def _feedback(self, fn: Any) -> float:
        out = ffi.new("double *")
        self._call(fn, out)
        return float(out[0])

    @property
    def position(self) -> float:
        """Actual position in the axis's units."""
        return self._feedback(lib.ax_axis_position)

    @property
    def velocity(self) -> float:
        """Actual velocity in the axis's units per second."""
        return self._feedback(lib.ax_axis_velocity)

    @property
    def current(self) -> float:
        """Actual quadrature current in amperes."""
        return self._feedback(lib.ax_axis_current)

    # -- moves

    def _move_options(self, flags: int, velocity: Optional[float],
                      acceleration: Optional[float], deceleration: Optional[float],
                      timeout: Optional[float]) -> Any:
        opts = ffi.new("ax_move_options *")
        opts.version = lib.AX_MOVE_OPTIONS_VERSION
        opts.flags = flags
        opts.velocity = float(velocity or 0.0)
        opts.acceleration = float(acceleration or 0.0)
        opts.deceleration = float(deceleration or 0.0)
        opts.timeout_ms = _ms(timeout)
        return opts

    # A velocity, acceleration or deceleration given to a move applies to
    # that move only: the library puts the drive's own values back when the
    # wait ends (or at stop(), quick_stop() or the next command); with
    # wait=False they stay until then.

    def move_to(self, position: float, velocity: Optional[float] = None,
                relative: bool = False, wait: bool = True, units: Optional[str] = None, *,
                acceleration: Optional[float] = None, deceleration: Optional[float] = None,
                timeout: Optional[float] = None, stop_on_interrupt: bool = True) -> None:
        """Profile position move to @position (with @relative, by that
        distance from the previous target), in the axis's units or @units for
        this call. Needs operation enabled. With @wait, returns once the drive
        reports target reached; else once it took the set point.

        Ctrl-C or ``drive.cancel()`` ends the wait within a poll period;
        with @stop_on_interrupt the axis is halted before the
        KeyboardInterrupt or CancelledError propagates."""
        flags = (lib.AX_MOVE_RELATIVE if relative else 0) | lib.AX_MOVE_NO_WAIT
        opts = self._move_options(flags, velocity, acceleration, deceleration, timeout)

        def run(p: Any) -> None:
            if units is None:
                self._call(lib.ax_axis_move, float(position), opts)
            else:
                before = int(lib.ax_axis_units(p))
                self.set_units(units)
                try:
                    self._call(lib.ax_axis_move, float(position), opts)
                finally:
                    lib.ax_axis_set_units(p, before, 0.0)
            if wait:
                self._wait(p, opts.timeout_ms, None)

        self._guarded(stop_on_interrupt, run)

    def set_velocity(self, velocity: float, wait: bool = False, *,
                     acceleration: Optional[float] = None,
                     deceleration: Optional[float] = None,
                     timeout: Optional[float] = None, stop_on_interrupt: bool = True) -> None:
        """Profile velocity at @velocity (axis units per second); with @wait,
        returns once the drive reports the velocity reached and the actual
        velocity is within 2 % of @velocity (interrupted as :meth:`move_to`'s
        wait). A velocity beyond the drive's limit (PROF_MAX_VEL) raises
        RangeError naming it: the drive would cap it silently."""
        opts = self._move_options(lib.AX_MOVE_NO_WAIT, None, acceleration, deceleration,
                                  timeout)

        def run(p: Any) -> None:
            self._call(lib.ax_axis_move_velocity, float(velocity), opts)
            if wait:
                # The old velocity may show as reached for a moment (as in C).
                time.sleep(0.005)
                self._wait(p, opts.timeout_ms, None)

        self._guarded(stop_on_interrupt, run)

    def wait_target_reached(self, timeout: Optional[float] = None,
                            on_poll: Optional[Callable[[int], Any]] = None, *,
                            stop_on_interrupt: bool = True) -> None:
        """Wait until the drive reports target reached. @on_poll(statusword),
        if given, runs after every status read (sample the position there);
        returning False stops the wait (CancelledError), an exception it
        raises stops it and propagates; the axis goes on moving then.
        Ctrl-C or ``drive.cancel()`` end the wait within a poll period, and
        with @stop_on_interrupt halt the axis before the exception propagates."""
        self._guarded(stop_on_interrupt, lambda p: self._wait(p, _ms(timeout), on_poll))

    def set_current(self, amperes: float) -> None:
        """Current mode at @amperes (does not wait)."""
        self._call(lib.ax_axis_set_current, float(amperes))

    def set_torque(self, newton_metres: float) -> None:
        """Torque through the motor's torque constant, in current mode."""
        self._call(lib.ax_axis_set_torque, float(newton_metres))

    def home(self, method: Union[int, str, None] = None, *, offset: Optional[float] = None,
             speed: Optional[float] = None, timeout: Optional[float] = None,
             stop_on_interrupt: bool = True) -> None:
        """Home the axis (needs operation enabled): @method is one of the
        drive's homing methods, its number or its label in the dictionary
        ("Current position is home"; None: the drive's present one); @speed
        the search speed for this homing only; @offset the
        position home gets; waits for homing attained. Ctrl-C or
        ``drive.cancel()`` end it within a poll period, halting the axis with
        @stop_on_interrupt."""
        opts = ffi.new("ax_home_options *")
        opts.version = lib.AX_HOME_OPTIONS_VERSION
        opts.flags = lib.AX_HOME_SET_OFFSET if offset is not None else 0
        if method is None:
            opts.method = lib.AX_HOME_METHOD_DRIVE
        elif isinstance(method, (str, int)) and not isinstance(method, bool):
            with self._lock:
                m = lib.ax_axis_home_method_parse(self._p(), cstr(str(method)))
            if m < 0:
                raise last_error(m, MOTION_DOMAIN, self.drive._drive_text)
            opts.method = m
        else:
            raise InvalidArgumentError(f"homing method {method!r}: expected its number or "
                                       "its label", int(lib.AX_EINVAL))
        opts.offset = float(offset or 0.0)
        opts.speed = float(speed or 0.0)
        opts.timeout_ms = _ms(timeout)
        self._guarded(stop_on_interrupt,
                      lambda p: self._interruptible(lambda: lib.ax_axis_home(p, opts)))
