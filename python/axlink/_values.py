# SPDX-License-Identifier: MIT
"""Register values: little-endian bytes of a dtype <-> Python objects.

int for the integer types, float for float, bool for bool, str for str
(text up to its NUL), bytes for bytes.
"""
from __future__ import annotations

import math
import struct
import sys
from typing import Any, Callable, Dict, Sequence, Tuple, Union

from ._native import cstr, ffi, lib, text
from .errors import RangeError, TypeMismatchError, class_for

Value = Union[int, float, bool, str, bytes]

U8, S8 = int(lib.AX_DTYPE_U8), int(lib.AX_DTYPE_S8)
U16, S16 = int(lib.AX_DTYPE_U16), int(lib.AX_DTYPE_S16)
U32, S32 = int(lib.AX_DTYPE_U32), int(lib.AX_DTYPE_S32)
U64, S64 = int(lib.AX_DTYPE_U64), int(lib.AX_DTYPE_S64)
FLOAT, STR = int(lib.AX_DTYPE_FLOAT), int(lib.AX_DTYPE_STR)
BOOL, BYTES = int(lib.AX_DTYPE_BOOL), int(lib.AX_DTYPE_BYTES)
VALUE_MAX = int(lib.AX_VALUE_MAX)

# dtype -> (size, signed)
INTEGERS: Dict[int, Tuple[int, bool]] = {
    U8: (1, False), S8: (1, True), U16: (2, False), S16: (2, True),
    U32: (4, False), S32: (4, True), U64: (8, False), S64: (8, True),
}
_F32 = struct.Struct("<f")


def dtype_name(dtype: int) -> str:
    return text(lib.ax_dtype_name(dtype)) or f"dtype {dtype}"


_PARSED: Dict[Union[str, int], int] = {}


def parse_dtype(dtype: Union[str, int]) -> int:
    """An ax_dtype from a name ("u32", "float", "byteArray512") or a code."""
    if isinstance(dtype, bool):  # True == 1 would find U8 in the cache
        raise ValueError(f"unknown dtype {dtype!r}")
    code = _PARSED.get(dtype)
    if code is None:
        code = _PARSED[dtype] = _parse_dtype(dtype)
    return code


def _parse_dtype(dtype: Union[str, int]) -> int:
    if isinstance(dtype, str):
        code = lib.ax_dtype_parse(cstr(dtype))
        if code <= 0:
            names = ", ".join(dtype_name(d) for d in (*INTEGERS, FLOAT, STR, BOOL, BYTES))
            raise ValueError(f"unknown dtype {dtype!r}: use one of {names}")
        return int(code)
    if isinstance(dtype, int) and not isinstance(dtype, bool) and lib.ax_dtype_name(dtype) != ffi.NULL:
        return int(dtype)
    raise ValueError(f"unknown dtype {dtype!r}")


def capacity(dtype: int) -> int:
    """Bytes to reserve for a value of @dtype (replies may carry 8)."""
    return CAPACITY[dtype]


def _int_decoder(size: int, signed: bool) -> Callable[[Any, int], int]:
    def dec(buf: Any, n: int) -> int:
        return int.from_bytes(ffi.buffer(buf, size), "little", signed=signed)
    return dec


def _float(buf: Any, n: int) -> float:
    return float(_F32.unpack(ffi.buffer(buf, 4))[0])


def _bool(buf: "Sequence[int]", n: int) -> bool:
    return buf[0] != 0


def _str(buf: Any, n: int) -> str:
    raw = ffi.buffer(buf, n)[:]
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _bytes(buf: Any, n: int) -> bytes:
    return ffi.buffer(buf, n)[:]


DECODERS: Dict[int, Callable[[Any, int], Value]] = {
    **{d: _int_decoder(s, sg) for d, (s, sg) in INTEGERS.items()},
    FLOAT: _float, BOOL: _bool, STR: _str, BYTES: _bytes,
}


SIZES: Dict[int, int] = {d: int(lib.ax_dtype_size(d)) for d in DECODERS}
CAPACITY: Dict[int, int] = {d: max(n, 8) if n else VALUE_MAX for d, n in SIZES.items()}


def decode(dtype: int, buf: Any, n: int) -> Value:
    """The Python value of @n bytes at @buf as @dtype."""
    size = SIZES[dtype]
    if n < size:
        raise TypeMismatchError(f"reply of {n} byte(s) is shorter than a {dtype_name(dtype)} "
                                f"({size} bytes)")
    return DECODERS[dtype](buf, n)


def int_range(dtype: int) -> Tuple[int, int]:
    size, signed = INTEGERS[dtype]
    bits = 8 * size
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


ALLOW_NONFINITE = int(lib.AX_VALUE_ALLOW_NONFINITE)


def _float_bytes(number: float, flags: int, what: str) -> bytes:
    """The library's float rule (ax_value_from_f64): NaN and infinity only
    with ALLOW_NONFINITE; a value beyond float or one stored as 0 never."""
    buf = ffi.new("uint8_t[8]")
    n = ffi.new("size_t *")
    rc = lib.ax_value_from_f64(FLOAT, number, flags, buf, 8, n)
    if rc < 0:
        message = text(lib.ax_error_last())
        if not flags & ALLOW_NONFINITE and \
                lib.ax_value_from_f64(FLOAT, number, ALLOW_NONFINITE, buf, 8, n) == 0:
            message += "; pass allow_nonfinite=True to write it"
        raise class_for(rc)(f"{what}: {message}", int(rc))
    return ffi.buffer(buf, int(n[0]))[:]


def encode(dtype: int, value: Any, what: str = "value",
           enum_value: Callable[[str], int] | None = None, flags: int = 0) -> bytes:
    """The little-endian bytes of @value as @dtype.

    Integers must fit the type (RangeError); an integral float is taken for
    an integer type; @enum_value turns a label into its number for integer
    registers with enumerations. A float follows the library's rule
    (RangeError for NaN and infinity unless @flags holds ALLOW_NONFINITE,
    and for values beyond float or that would be stored as 0). Other types
    raise TypeMismatchError."""
    name = dtype_name(dtype)
    if dtype in INTEGERS:
        if isinstance(value, str) and enum_value is not None:
            value = enum_value(value)
        if isinstance(value, float):
            if not (math.isfinite(value) and value == int(value)):
                raise TypeMismatchError(f"{what}: {value!r} is not an integer, and the "
                                        f"register is {name}")
            value = int(value)
        if not isinstance(value, int):
            raise TypeMismatchError(f"{what}: a {name} register takes an int, not "
                                    f"{type(value).__name__} {value!r}")
        lo, hi = int_range(dtype)
        if not lo <= value <= hi:
            raise RangeError(f"{what}: {value} does not fit {name} ({lo}..{hi})",
                             int(lib.AX_ERANGE))
        return int(value).to_bytes(INTEGERS[dtype][0], "little", signed=INTEGERS[dtype][1])
    if dtype == FLOAT:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeMismatchError(f"{what}: a float register takes a number, not "
                                    f"{type(value).__name__} {value!r}")
        try:
            number = float(value)
        except OverflowError:  # an int beyond any double
            raise RangeError(f"{what}: an int of {int(value).bit_length()} bits is beyond a "
                             f"32-bit float (magnitude up to 3.40282347e+38)",
                             int(lib.AX_ERANGE)) from None
        return _float_bytes(number, flags, what)
    if dtype == BOOL:
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return b"\x01" if value else b"\x00"
        raise TypeMismatchError(f"{what}: a bool register takes True/False or 0/1, not {value!r}")
    if dtype == STR:
        if not isinstance(value, str):
            raise TypeMismatchError(f"{what}: a str register takes a str, not "
                                    f"{type(value).__name__}")
        data = value.encode("utf-8")
        if b"\0" in data:
            raise ValueError(f"{what}: embedded NUL character")
    elif dtype == BYTES:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeMismatchError(f"{what}: a bytes register takes bytes, not "
                                    f"{type(value).__name__}")
        data = bytes(value)
    else:
        raise TypeMismatchError(f"{what}: cannot write a value of {name}")
    if len(data) > VALUE_MAX:
        raise RangeError(f"{what}: {len(data)} bytes is over the {VALUE_MAX}-byte limit",
                         int(lib.AX_ETOOBIG))
    return data


def parse_number(dtype: int, s: str) -> Union[int, float, bool, str]:
    """A dictionary's text (range bound) as a value of @dtype; the text itself
    when it does not parse."""
    try:
        if dtype in INTEGERS:
            return int(s, 0)
        if dtype == FLOAT:
            return float(s)
        if dtype == BOOL:
            return s.strip().lower() in ("1", "true")
    except ValueError:
        pass
    return s


# -- reading without allocating (issue 21): reusable buffers with typed views

_U8_ARRAY = ffi.typeof("uint8_t[]")
_SIZE_P = ffi.typeof("size_t *")
# Numbers the library hands over as native little-endian bytes, read in one
# step through a typed pointer on little-endian hosts (elsewhere: DECODERS).
_VIEW_TYPES: Dict[int, Any] = {
    d: ffi.typeof(t) for d, t in ((U8, "uint8_t *"), (S8, "int8_t *"), (U16, "uint16_t *"),
                                  (S16, "int16_t *"), (U32, "uint32_t *"), (S32, "int32_t *"),
                                  (U64, "uint64_t *"), (S64, "int64_t *"), (FLOAT, "float *"))
} if sys.byteorder == "little" else {}


class ReadSlot:
    """One reusable set of buffers for reading a value of one dtype: the
    bytes, the count, and a typed view of the bytes when there is one.
    :func:`value` turns what a read left in them into the Python value.
    A slot serves one read at a time (callers keep them in a pool)."""

    __slots__ = ("buf", "n", "cap", "view", "dtype")

    def __init__(self, dtype: int) -> None:
        self.dtype = dtype
        self.cap = CAPACITY[dtype]
        self.buf = ffi.new(_U8_ARRAY, self.cap)
        self.n = ffi.new(_SIZE_P)
        vt = _VIEW_TYPES.get(dtype)
        self.view = ffi.cast(vt, self.buf) if vt is not None else None

    def value(self) -> Value:
        """The value read. Numbers: the library checked the size already
        (ax_link_read_value(): AX_ETYPE when short)."""
        view = self.view
        if view is not None:
            item: Value = view[0]
            return item
        return decode(self.dtype, self.buf, self.n[0])
