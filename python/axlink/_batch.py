# SPDX-License-Identifier: MIT
"""Reads on many drives at once: :func:`read_many` over ``ax_batch`` (axlink/batch.h).

Each thread keeps one batch (its worker threads wait for the next call),
so repeated calls, a poll loop over many drives say, start no threads.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Tuple, Union, cast

from . import _values
from ._context import _timeout_ms
from ._native import ffi, lib, opt_text
from .errors import Error, InvalidArgumentError, NackError, _BY_CLASS, class_for, check

if TYPE_CHECKING:  # annotations only: _drive imports this module
    from ._drive import Drive, RegisterLike

_local = threading.local()


def _batch() -> Any:
    b = getattr(_local, "batch", None)
    if b is None:
        out = ffi.new("ax_batch **")
        check(lib.ax_batch_new(out, 0))
        b = ffi.gc(out[0], lib.ax_batch_free)
        _local.batch = b
    return b


def _item_error(b: Any, i: int, drive: "Drive") -> Error:
    """The exception for read @i of batch @b, as errors.last_error() makes one."""
    code = int(lib.ax_batch_result(b, i, ffi.NULL, ffi.NULL))
    message = opt_text(lib.ax_batch_error(b, i)) or ""
    error_class = int(lib.ax_batch_error_class(b, i))
    cls = _BY_CLASS.get(error_class, {}).get(code) or class_for(code)
    if cls is NackError:
        drive_code = int(lib.ax_batch_drive_code(b, i))
        name = drive._drive_text(drive_code)
        if name is None:
            name = opt_text(lib.ax_drive_code_text(drive_code))
        if name and name not in message:
            message = f"{message} ({name})"
        return NackError(message, code, drive_code, name, error_class)
    return cls(message, code, error_class)


Item = Union[Tuple["Drive", "RegisterLike"], Tuple["Drive", "RegisterLike", Optional[int]]]


def read_many(items: Sequence[Item], timeout: Optional[float] = None, *,
              return_exceptions: bool = False) -> List[Any]:
    """Read many registers at once, one request in flight on every drive:
    ``axlink.read_many([(d1, "CL_POS_FBK_VALUE"), (d2, "CL_POS_FBK_VALUE")])``.

    Each item is ``(drive, register)`` or ``(drive, register, subnode)``,
    the register a name or a :class:`Register`, as :meth:`Drive.read`
    takes them. Returns the values in the order of @items. Reads on one
    drive take turns; reads on distinct drives (any transports) run
    together, so sixteen drives cost about one round trip, not sixteen.

    @timeout (seconds) bounds the whole call: reads still waiting then
    fail with TimeoutError. None: each read ends at its drive's timeout.
    A read that fails raises its error once every read has ended (the
    first failure, by position); with @return_exceptions its exception
    takes its place in the list instead, and the other values are kept.
    A bad register name raises (DictionaryError) before anything is sent.
    """
    regs = []
    for item in items:
        if not isinstance(item, tuple) or len(item) not in (2, 3):
            raise InvalidArgumentError(
                f"read_many item {item!r}: expected (drive, register[, subnode])",
                int(lib.AX_EINVAL))
        drive = item[0]
        row = cast("Tuple[Any, ...]", item)  # either form of Item, by its length
        reg = drive.find(row[1], row[2] if len(row) == 3 else None)
        regs.append((drive, reg))
    if not regs:
        return []
    ms = _timeout_ms(timeout)
    b = _batch()
    lib.ax_batch_clear(b)
    try:
        for drive, reg in regs:
            check(lib.ax_batch_add_reg(b, drive._handles()[1], reg._p, ffi.NULL))
        failed = check(lib.ax_batch_run(b, ms, ffi.NULL))
        data = ffi.new("void **")
        n = ffi.new("size_t *")
        out: List[Any] = []
        first: Optional[Error] = None
        for i, (drive, reg) in enumerate(regs):
            if failed and lib.ax_batch_result(b, i, data, n) < 0:
                e = _item_error(b, i, drive)
                if first is None:
                    first = e
                out.append(e)
                continue
            if not failed:
                lib.ax_batch_result(b, i, data, n)
            out.append(_values.decode(reg.dtype_code, ffi.cast("uint8_t *", data[0]),
                                      int(n[0])))
    finally:
        # The drives' links and the dictionaries are not kept past the call.
        lib.ax_batch_clear(b)
    if first is not None and not return_exceptions:
        raise first
    return out
