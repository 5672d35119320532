# SPDX-License-Identifier: MIT
"""Register tables of a drive: ``drive.tables["DRV_DIAG_ERROR_LIST"]``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, List, Mapping, Optional, Union, overload

from ._native import cstr, ffi, lib, text
from .errors import check

if TYPE_CHECKING:
    from ._drive import Drive


class Table:
    """One table of the drive's dictionary, as a sequence of its entries.

    ``len(table)`` is the number of entries the dictionary allows,
    ``table[i]`` reads entry i (selecting it with the index register, then
    reading the value register), ``table[i] = v`` writes it, iteration and
    slices read each entry in turn. Negative indexes count from the end.
    Entry i is the drive's entry number ``first + i``."""

    def __init__(self, drive: "Drive", name: str, axis: Optional[int]) -> None:
        self._drive = drive
        self._name = name
        self._axis = -1 if axis is None else axis
        first = ffi.new("int64_t *")
        count = ffi.new("uint64_t *")
        check(lib.ax_drive_table_size(drive._handles()[0], cstr(name), self._axis, first,
                                      count))
        self._first = int(first[0])
        self._count = int(count[0])

    @property
    def name(self) -> str:
        """The table's register id, e.g. "DRV_DIAG_ERROR_LIST"."""
        return self._name

    @property
    def first(self) -> int:
        """The drive's number of entry 0."""
        return self._first

    def __len__(self) -> int:
        return self._count

    def _entry(self, i: Any) -> int:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"table index must be an int, not {i!r}")
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(f"table '{self._name}': index out of range 0..{self._count - 1}")
        return self._first + i

    @overload
    def __getitem__(self, i: int) -> int: ...

    @overload
    def __getitem__(self, i: slice) -> List[int]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[int, List[int]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._count))]
        entry = self._entry(i)
        out = ffi.new("int64_t *")
        check(lib.ax_drive_table_read(self._drive._handles()[0], cstr(self._name), self._axis,
                                      entry, out))
        return int(out[0])

    def __setitem__(self, i: int, value: int) -> None:
        entry = self._entry(i)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"table value must be an int, not {value!r}")
        check(lib.ax_drive_table_write(self._drive._handles()[0], cstr(self._name), self._axis,
                                       entry, value))

    def __iter__(self) -> Iterator[int]:
        for i in range(self._count):
            yield self[i]

    def __repr__(self) -> str:
        return f"<axlink.Table {self._name} ({self._count} entries)>"


class Tables(Mapping[str, Table]):
    """The drive dictionary's tables by id (``drive.tables``)."""

    def __init__(self, drive: "Drive", axis: Optional[int] = None) -> None:
        self._drive = drive
        self._axis = axis

    def _names(self) -> List[str]:
        d = self._drive.dictionary
        if d is None:
            return []
        name = ffi.new("char **")
        out: List[str] = []
        for i in range(lib.ax_dict_table_count(d._ptr)):
            check(lib.ax_dict_table_at(d._ptr, i, name, ffi.NULL, ffi.NULL, ffi.NULL))
            if text(name[0]) not in out:
                out.append(text(name[0]))
        return out

    def __getitem__(self, name: str) -> Table:
        if not isinstance(name, str):
            raise TypeError(f"table name must be a str, not {name!r}")
        if name not in self._names():
            raise KeyError(name)
        return Table(self._drive, name, self._axis)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())
