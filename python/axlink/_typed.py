# SPDX-License-Identifier: MIT
"""Typed reads: a register's value as the Python type the caller names.

``drive.read()`` returns what the register's dtype gives (int, float, bool,
str or bytes), which a static checker sees only as their union.
``drive.read_as(register, int)`` returns an ``int`` to the checker and
checks it at run time: a value of another type raises
:class:`TypeMismatchError` naming the register and both types. The one
conversion is the lossless one, an integer register read as float.
"""
from __future__ import annotations

from typing import Type, TypeVar

from . import _values
from ._native import lib
from .errors import TypeMismatchError

#: The types read_as() returns: those a register's value comes as.
T = TypeVar("T", int, float, bool, str, bytes)


def as_type(value: _values.Value, kind: Type[T], what: str) -> T:
    """@value as @kind, or TypeMismatchError naming @what."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # type: ignore[return-value]  # T is float here
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise TypeMismatchError(
        f"{what}: the value {value!r} is {type(value).__name__}, not {kind.__name__}",
        int(lib.AX_ETYPE))
