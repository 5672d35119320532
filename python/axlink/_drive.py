# SPDX-License-Identifier: MIT
"""Drives: a link, the identity the drive reports, and its dictionary."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union, overload

from . import _values
from ._context import Context, _timeout_ms, resolve_context
from ._axis import Axis
from ._config import Config
from ._dictionary import Dictionary, ErrorEntry, Register
from ._native import cstr, ffi, lib, text
from . import _poll, _typed
from . import _scope
from ._tables import Tables
from .errors import (DICTIONARY_DOMAIN, Error, InvalidArgumentError,
                     check, closed, last_error)

PathLike = Union[str, "os.PathLike[str]"]
# Looked up once: the read paths call them for every read.
_read_reg = lib.ax_link_read_reg
_read_value = lib.ax_link_read_value
RegisterLike = Union[str, Register]


@dataclass(frozen=True)
class Identity:
    """What a drive says it is (MCB identity registers).

    serial and sw_version are None when the drive does not have them."""

    vendor_id: int
    product_code: int
    revision: int
    serial: Optional[int]
    sw_version: Optional[str]

    def __str__(self) -> str:
        s = (f"vendor {self.vendor_id:#010x} product {self.product_code:#010x} "
             f"revision {self.revision:#010x}")
        if self.serial is not None:
            s += f" serial {self.serial}"
        if self.sw_version is not None:
            s += f" software {self.sw_version!r}"
        return s


@dataclass(frozen=True)
class DriveInfo:
    """What opening a drive found out.

    Attributes:
        uri: the URI it was opened with.
        scheme: the transport.
        identity: what the drive reports.
        model: the dictionary's model name, or None without a dictionary.
        dictionary_source: where the dictionary came from ("" without one).
        match: how the dictionary was found: "exact", "lower-revision",
            "any-revision", "file" or "none".
        match_reason: one line saying why.
        axes: the number of axes (subnodes 1..axes).
    """

    uri: str
    scheme: str
    identity: Identity
    model: Optional[str]
    dictionary_source: str
    match: str
    match_reason: str
    axes: int

    def __str__(self) -> str:
        return "\n".join([
            f"uri:        {self.uri}",
            f"identity:   {self.identity}",
            f"model:      {self.model or '(no dictionary)'}",
            f"dictionary: {self.dictionary_source or '-'}",
            f"match:      {self.match}: {self.match_reason}",
            f"axes:       {self.axes}",
        ])


def _identity(idp: Any) -> Identity:
    known = int(idp.known)
    return Identity(
        vendor_id=int(idp.vendor_id), product_code=int(idp.product_code),
        revision=int(idp.revision),
        serial=int(idp.serial) if known & lib.AX_SCAN_HAS_SERIAL else None,
        sw_version=(ffi.string(idp.sw_version).decode("utf-8", "replace")
                    if known & lib.AX_SCAN_HAS_SW_VERSION else None))


def _check_u32(name: str, v: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
        raise InvalidArgumentError(f"{name} {v!r}: expected an integer 0..0xFFFFFFFF",
                                   int(lib.AX_EINVAL))
    return v


class Drive:
    """An open drive. Use as a context manager, or call close().

    Registers are read and written by name (``drive.read("CL_POS_FBK_VALUE")``)
    or by a :class:`Register` of a dictionary, with Python types chosen from
    the register's dtype; by address with :meth:`read_raw` / :meth:`write_raw`.

    Thread safety: safe. Requests from several threads go out one at a time
    on the drive's link, each reply with its own request; the GIL is released
    while a request is in flight.
    """

    __slots__ = ("_h", "_context", "_info", "_dictionary", "_regs", "_axes", "_cancel",
                 "_readers", "__weakref__")

    def __init__(self, ptr: Any, context: Context) -> None:
        """Wrap an ax_drive* whose reference this object takes over."""
        drive = ffi.gc(ptr, lib.ax_drive_unref)
        link = ffi.gc(lib.ax_link_ref(lib.ax_drive_link(drive)), lib.ax_link_unref)
        # Requests use the link; holding our own reference on it, and dropping
        # both together in close(), means a request in flight on another
        # thread keeps them alive until it returns.
        self._h: Optional[Tuple[Any, Any]] = (drive, link)
        self._context = context  # the parent stays alive while the drive does
        dptr = lib.ax_drive_dict(drive)
        self._dictionary = Dictionary._borrow(dptr) if dptr != ffi.NULL else None
        self._regs: Dict[Tuple[str, Optional[int]], Register] = {}
        # What read() and read_raw() need per register, looked up once (_reader).
        self._readers: Dict[Any, Tuple[Any, int, List[_values.ReadSlot]]] = {}
        self._axes: Optional[Mapping[int, Axis]] = None
        # What cancel() triggers: the motion waits of the axes watch it.
        cancel = ffi.new("ax_cancel **")
        check(lib.ax_cancel_new(cancel))
        self._cancel = ffi.gc(cancel[0], lib.ax_cancel_unref)
        uri = text(lib.ax_drive_uri(drive))
        self._info = DriveInfo(
            uri=uri, scheme=text(lib.ax_link_scheme(link)),
            identity=_identity(lib.ax_drive_identity(drive)),
            model=self._dictionary.name if self._dictionary is not None else None,
            dictionary_source=self._dictionary.source if self._dictionary is not None else "",
            match=text(lib.ax_match_name(lib.ax_drive_match(drive))),
            match_reason=text(lib.ax_drive_match_reason(drive)),
            axes=int(lib.ax_drive_axes(drive)))

    # -- lifetime

    def _handles(self) -> Tuple[Any, Any]:
        h = self._h
        if h is None:
            raise closed(self)
        return h

    def close(self) -> None:
        """Close the drive and its axes; idempotent. A request still running
        on another thread finishes first (it holds the handles until it returns).

        Enabled axes are left as they are: closing neither stops nor
        disables them, and a drive keeps running a move or a velocity it
        was given. Stop them first (``axis.stop()``, ``axis.disable()``), or
        use each axis as a context manager, which does that on exit."""
        self._h = None
        for axis in (self._axes or {}).values():
            axis._close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._h is None

    def __enter__(self) -> "Drive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._h is None else ""
        return f"<axlink.Drive {self._info.uri} {self._info.model or '(no dictionary)'}{state}>"

    # -- what it is

    @property
    def info(self) -> DriveInfo:
        """Identity, dictionary model, how it was matched, axes."""
        return self._info

    @property
    def uri(self) -> str:
        """The URI the drive was opened with (its location)."""
        return self._info.uri

    @property
    def context(self) -> Context:
        """The :class:`Context` the drive belongs to (its plugins and databases)."""
        return self._context

    @property
    def dictionary(self) -> Optional[Dictionary]:
        """The drive's dictionary, or None when none was found (see info.match_reason)."""
        return self._dictionary

    @property
    def config(self) -> Config:
        """Configuration files: ``drive.config.save(path)``, ``.load(path)``,
        ``.diff(path)`` (see :class:`axlink.Config`)."""
        return Config(self)

    @property
    def tables(self) -> Tables:
        """The dictionary's register tables by id, each a sequence of its
        entries: ``drive.tables["DRV_DIAG_ERROR_LIST"][0]`` (see
        :class:`axlink.Table`)."""
        return Tables(self)

    def errors(self, axis: Optional[int] = None) -> List[ErrorEntry]:
        """The drive's error history, newest first: each code with the text,
        error type and affected module of the dictionary's Errors section
        ("" when it does not name the code). Raises NotFoundError when the
        dictionary has no error list (DRV_DIAG_ERROR_LIST)."""
        drive = self._handles()[0]
        n = ffi.new("size_t *")
        sub = -1 if axis is None else axis
        check(lib.ax_drive_errors(drive, sub, ffi.NULL, 0, n))
        cap = int(n[0])
        out = ffi.new("ax_dict_error_entry[]", max(cap, 1))
        check(lib.ax_drive_errors(drive, sub, out, cap, n))
        return [ErrorEntry(int(e.code), text(e.text), text(e.type), text(e.module))
                for e in out[0:min(cap, int(n[0]))]]

    def fault(self, axis: int = 1) -> Optional[ErrorEntry]:
        """The fault that stopped @axis (its DRV_DIAG_ERROR_LAST, with the
        dictionary's text), or None when there is none."""
        e = ffi.new("ax_dict_error_entry *")
        check(lib.ax_drive_fault(self._handles()[0], axis, e))
        if e.code == 0:
            return None
        return ErrorEntry(int(e.code), text(e.text), text(e.type), text(e.module))

    @property
    def axes(self) -> Mapping[int, Axis]:
        """The axes by subnode (1-based, as on the wire): ``drive.axes[1]``."""
        axes = self._axes
        if axes is None:
            axes = {n: Axis(self, n) for n in range(1, self._info.axes + 1)}
            self._axes = axes
        return axes

    @property
    def timeout(self) -> float:
        """Request timeout in seconds; settable."""
        return int(lib.ax_link_get_timeout(self._handles()[1])) / 1000.0

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        check(lib.ax_link_set_timeout(self._handles()[1], _timeout_ms(seconds)))

    def cancel(self) -> None:
        """From another thread: end the motion waits of this drive's axes in
        progress (within a poll period; each halts its axis unless called
        with stop_on_interrupt=False) and abort the request in flight; both
        raise CancelledError. The next motion call starts afresh. Raises
        UnsupportedError when the transport cannot abort a request (the
        waits end all the same)."""
        link = self._handles()[1]
        lib.ax_cancel_trigger(self._cancel)
        check(lib.ax_link_cancel(link))

    def _cancel_token(self) -> Any:
        return self._cancel

    # -- non-volatile memory

    def store(self, axis: Optional[int] = None, *, timeout: Optional[float] = None) -> None:
        """Store the drive's parameters in its non-volatile memory, so they
        are in use after the next power cycle: the communication core and
        every axis, or only @axis (0: the communication core).

        Writes the signature "save" to the dictionary's store registers
        (DRV_STORE_COCO_ALL, DRV_STORE_MOCO_ALL) and waits until the drive
        has done it, at most @timeout seconds (default 10). Raises
        NackError when the drive refuses (the message names the register
        and the reason, e.g. 0x08000022 for a drive that does not store in
        its present state), TimeoutError, NotFoundError (no dictionary,
        or no store register there), CancelledError (Ctrl-C or :meth:`cancel`)."""
        self._nvm(lib.ax_drive_store, axis, timeout)

    def restore(self, axis: Optional[int] = None, *, timeout: Optional[float] = None) -> None:
        """Put the parameters back to their defaults in the drive's
        non-volatile memory (DRV_RESTORE_COCO_ALL, "load"; most drives use
        them at once). @axis: an axis with a restore register of its own;
        default all. Raises as :meth:`store`."""
        self._nvm(lib.ax_drive_restore, axis, timeout)

    def _nvm(self, call: Any, axis: Optional[int], timeout: Optional[float]) -> None:
        if axis is None:
            subnode = int(lib.AX_DRIVE_ALL_SUBNODES)
        elif isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"axis must be an int or None, not {axis!r}")
        elif axis < 0:
            raise ValueError(f"axis {axis}: expected 0 (communication core) or an axis")
        else:
            subnode = axis
        ms = _timeout_ms(timeout)
        drive, _ = self._handles()
        lib.ax_cancel_reset(self._cancel)
        _interruptible(lambda: call(drive, subnode, ms, self._cancel), self._cancel,
                       self._drive_text)

    # -- registers

    def _drive_text(self, code: int) -> Optional[str]:
        d = self._dictionary
        return d.error_text(code) if d is not None else None

    def find(self, register: RegisterLike, subnode: Optional[int] = None) -> Register:
        """The :class:`Register` @register names (on @subnode, else the first
        with that id). Raises DictionaryError."""
        if isinstance(register, Register):
            if subnode is None or subnode == register.subnode:
                return register
            return register.dictionary.find(register.id, subnode)
        if not isinstance(register, str):
            raise TypeError(f"register must be a name or a Register, not {register!r}")
        key = (register, subnode)
        reg = self._regs.get(key)
        if reg is not None:
            return reg
        drive, _ = self._handles()
        out = ffi.new("ax_reg **")
        check(lib.ax_drive_find(drive, cstr(register), -1 if subnode is None else subnode, out),
              DICTIONARY_DOMAIN)
        assert self._dictionary is not None  # found, so there is one
        reg = self._dictionary._wrap(out[0])
        self._regs[key] = reg
        return reg

    def read(self, register: RegisterLike, subnode: Optional[int] = None) -> _values.Value:
        """Read a register by name or :class:`Register`; the value's type
        follows the register's dtype (int, float, bool, str, bytes)."""
        # Only the link in this frame: a traceback that keeps the frame must
        # not keep the drive open (the context would hand it out again).
        try:
            link = self._h[1]  # type: ignore[index]
        except TypeError:
            raise closed(self) from None
        # The fast path (issue 21): the register found, its buffers made, once.
        try:
            r = self._readers.get(register if subnode is None else (register, subnode))
        except TypeError:  # unhashable: find() says what is wrong with it
            r = None
        if r is None:
            r = self._reader(register, subnode)
        p, dtype, pool = r
        slot = pool.pop() if pool else _values.ReadSlot(dtype)
        rc = _read_reg(link, p, slot.buf, slot.cap, slot.n)
        if rc < 0:
            pool.append(slot)
            raise last_error(rc, drive_text=self._drive_text)
        view = slot.view
        v: _values.Value = view[0] if view is not None else slot.value()
        pool.append(slot)
        return v

    def _reader(self, register: RegisterLike,
                subnode: Optional[int]) -> Tuple[Any, int, List[Any]]:
        """The register's pointer, dtype and a pool of read buffers, kept
        for the next read of the same name (or Register) and subnode. Each
        read takes a buffer from the pool and gives it back, so reads from
        several threads never share one."""
        reg = self.find(register, subnode)
        r: Tuple[Any, int, List[Any]] = (reg._p, reg.dtype_code, [])
        if isinstance(register, (str, Register)):
            self._readers[register if subnode is None else (register, subnode)] = r
        return r

    def read_as(self, register: RegisterLike, kind: Type[_typed.T],
                subnode: Optional[int] = None) -> _typed.T:
        """Read a register as :meth:`read` does, as the type @kind (int,
        float, bool, str or bytes), so that a type checker knows it::

            pos = drive.read_as("CL_POS_FBK_VALUE", int)      # int
            vbus = drive.read_as("DRV_PROT_VBUS_VALUE", float) # float

        A value of another type raises :class:`TypeMismatchError`; an
        integer register read as float is converted."""
        name = register if isinstance(register, str) else register.id
        return _typed.as_type(self.read(register, subnode), kind, f"register '{name}'")

    def write(self, register: RegisterLike, value: Any, subnode: Optional[int] = None, *,
              allow_nonfinite: bool = False) -> None:
        """Write a register by name or :class:`Register`. The value must suit
        the dtype (an enum label is taken for an enumerated integer register);
        the dictionary's range and access rules apply.

        A float register refuses (:class:`RangeError`) what it would not
        keep: NaN and infinity, unless @allow_nonfinite is true; a value
        beyond 32-bit float, or a nonzero one that would be stored as 0,
        always."""
        reg = self.find(register, subnode)
        flags = _values.ALLOW_NONFINITE if allow_nonfinite else 0
        data = _values.encode(reg.dtype_code, value, f"register '{reg.id}'",
                              reg.enum_value if reg.enums else None, flags)
        link = self._handles()[1]
        rc = lib.ax_link_write_reg_flags(link, reg._p, ffi.from_buffer(data), len(data), flags)
        if rc < 0:
            raise last_error(rc, drive_text=self._drive_text)

    def read_raw(self, address: int, dtype: Union[str, int], subnode: int = 1) -> _values.Value:
        """Read register @address of @subnode as @dtype ("u32", "float"...),
        without the dictionary."""
        try:
            link = self._h[1]  # type: ignore[index]  # only the link: see read()
        except TypeError:
            raise closed(self) from None
        # Cached only for exact ints and a dtype name: 1.0 or True must not
        # pass for 1 and skip the checks below.
        cacheable = type(address) is int and type(subnode) is int and type(dtype) is str
        key = (address, dtype, subnode)
        r = self._readers.get(key) if cacheable else None
        if r is None:
            code = _values.parse_dtype(dtype)
            _check_u32("address", address)
            _check_u32("subnode", subnode)
            r = (None, code, [])
            if cacheable:
                self._readers[key] = r
        _, code, pool = r
        slot = pool.pop() if pool else _values.ReadSlot(code)
        rc = _read_value(link, subnode, address, code, slot.buf, slot.cap, slot.n)
        if rc < 0:
            pool.append(slot)
            raise last_error(rc, drive_text=self._drive_text)
        view = slot.view
        v: _values.Value = view[0] if view is not None else slot.value()
        pool.append(slot)
        return v

    def write_raw(self, address: int, dtype: Union[str, int], value: Any,
                  subnode: int = 1, *, allow_nonfinite: bool = False) -> None:
        """Write @value as @dtype to register @address of @subnode, without the
        dictionary; a float as :meth:`write` takes it."""
        code = _values.parse_dtype(dtype)
        _check_u32("address", address)
        _check_u32("subnode", subnode)
        data = _values.encode(code, value, f"register {address:#x}",
                              flags=_values.ALLOW_NONFINITE if allow_nonfinite else 0)
        link = self._handles()[1]
        rc = lib.ax_link_write(link, subnode, address, ffi.from_buffer(data), len(data))
        if rc < 0:
            raise last_error(rc, drive_text=self._drive_text)


    # -- sampling

    @overload
    def poll(self, registers: Union[RegisterLike, Sequence[RegisterLike]], period: float,
             duration: float) -> "_poll.Samples": ...

    @overload
    def poll(self, registers: Union[RegisterLike, Sequence[RegisterLike]], period: float,
             duration: None = None) -> "_poll.Poller": ...

    def poll(self, registers: Union[RegisterLike, Sequence[RegisterLike]], period: float,
             duration: Optional[float] = None) -> Union["_poll.Samples", "_poll.Poller"]:
        """Sample @registers every @period seconds in the library's own thread.

        With @duration (seconds): block that long and return
        :class:`axlink.Samples` (columns as ``array.array('d')``,
        ``.to_csv()``, ``.as_numpy()``, counters ``lost`` / ``period``).
        Without: return the running :class:`axlink.Poller`, for live use::

            with drive.poll(["CL_POS_FBK_VALUE"], 0.01) as p:
                for t, (pos,) in p:
                    ...   # break out; leaving the block stops sampling

        A bad register name raises (DictionaryError) before anything starts;
        at most 16 registers (RangeError).
        """
        return _poll.poll(self, registers, period, duration)

    # -- drive-side capture

    def scope(self, registers: Union[RegisterLike, Sequence[RegisterLike]],
              period: Optional[float] = None, samples: int = 1000,
              trigger: Optional["_scope.TriggerLike"] = None, pre: int = 0,
              timeout: Optional[float] = 10.0) -> "_scope.ScopeResult":
        """Capture @registers inside the drive (its oscilloscope) and return
        an :class:`axlink.ScopeResult`: ``.t`` (seconds, 0 at the trigger)
        and one numpy array per channel in the register's type::

            r = drive.scope(["CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"], period=50e-6,
                            samples=2000, trigger=("CL_VEL_FBK_VALUE", "rising", 1.0))
            r["CL_POS_FBK_VALUE"]   # numpy.int32 array

        @period is a multiple of the drive's base period (default: the base
        period); @trigger None starts at once; @pre samples precede the
        trigger. Ctrl-C during the wait raises KeyboardInterrupt within one
        request and disables the capture. For repeated captures keep an
        :class:`axlink.Scope` (a context manager)."""
        return _scope.scope(self, registers, period=period, samples=samples, trigger=trigger,
                            pre=pre, timeout=timeout)

    def disturbance(self, registers: Union[RegisterLike, Sequence[RegisterLike]],
                    waveforms: Any, period: Optional[float] = None) -> "_scope.Disturbance":
        """Load @waveforms (samples in the registers' units) into the
        drive's disturbance for @registers and return the
        :class:`axlink.Disturbance` (a context manager: leaving it stops the
        waveform); ``.start()`` plays it, ``.record(scope)`` plays it with a
        synchronous capture."""
        return _scope.Disturbance(self, registers, waveforms, period=period)


def _interruptible(call: Any, cancel: Any, drive_text: Any) -> None:
    """call(), a library call that watches @cancel but runs no Python
    meanwhile. On the main thread it runs on a helper thread while this one
    waits in short slices, so that Ctrl-C is raised here at once and
    triggers @cancel, which ends the call too. Elsewhere directly."""
    if threading.current_thread() is not threading.main_thread():
        check(call(), drive_text=drive_text)
        return
    outcome: List[Any] = []

    def work() -> None:
        rc = call()  # the library's last error is per thread: take it here
        outcome.append(last_error(rc, drive_text=drive_text) if rc < 0 else None)

    worker = threading.Thread(target=work, name="axlink-nvm", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.02)
    except BaseException:
        lib.ax_cancel_trigger(cancel)
        worker.join()  # within a slice: the call watches the token
        raise
    if outcome and outcome[0] is not None:
        raise outcome[0]


def open(uri: str, dictionary: Optional[PathLike] = None, timeout: Optional[float] = None, *,
         context: Optional[Context] = None, strict: bool = False,
         find_dictionary: bool = True) -> Drive:
    """Open the drive at @uri ("eth://192.168.2.22", "virtual:?model=axs-200").

    Args:
        dictionary: an XDF file to use; None finds the dictionary in the
            device databases from the identity the drive reports. With a
            file, a drive that does not report its identity (it refuses or
            ignores the identity registers) still opens, unless @strict;
            its identity then reads as zeros and info.match_reason says so.
        timeout: request timeout in seconds (None: the transport's default).
        context: the library context (None: the default one).
        strict: with @dictionary, fail (TypeMismatchError) when the drive's
            identity is not the file's model, instead of logging a warning.
        find_dictionary: False opens without any dictionary (registers by
            address only).

    A URI already open in the context, opened with the same dictionary
    options, gives the same drive; other dictionary options (@dictionary,
    @strict, @find_dictionary) give a drive of their own on the same link
    (ax_drive_open() in axlink/drive.h).

    Raises PluginError (no transport for the scheme), TimeoutError (no
    drive answers), DictionaryError (an unusable dictionary file), and the
    other :class:`axlink.Error` classes.
    """
    ctx = resolve_context(context)
    opts = ffi.new("ax_drive_options *")
    opts.version = lib.AX_DRIVE_OPTIONS_VERSION
    flags = 0
    if strict:
        flags |= lib.AX_DRIVE_STRICT
    if not find_dictionary:
        flags |= lib.AX_DRIVE_NO_DICT
    if dictionary is not None and not strict:
        # The policy of the axlink command too: the named file vouches for a
        # drive that does not report its identity.
        flags |= lib.AX_DRIVE_IDENTITY_OPTIONAL
    opts.flags = flags
    opts.timeout_ms = _timeout_ms(timeout)
    dict_path = None
    if dictionary is not None:
        dict_path = ffi.new("char[]", cstr(dictionary))
        opts.dictionary = dict_path
    out = ffi.new("ax_drive **")
    rc = lib.ax_drive_open(out, ctx._p(), cstr(uri), opts)
    if rc < 0:
        err: Error = last_error(rc)
        if rc == lib.AX_ENOTFOUND:
            plugin_err = ctx.unserved_scheme_error(uri, err)
            if plugin_err is not None:
                raise plugin_err from None
        raise err
    return Drive(out[0], ctx)
