# SPDX-License-Identifier: MIT
"""Register dictionaries: names, addresses, types, units, enums, bitfields, errors."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from . import _values
from ._native import cstr, ffi, lib, opt_text, text
from .errors import DICTIONARY_DOMAIN, DictionaryError, RangeError, TypeMismatchError, check

PathLike = Union[str, "os.PathLike[str]"]

#: ax_dict_identity.addr_space of an MCB dictionary (AX_ADDR_MCB of axlink/dict.h).
MCB_ADDRESS_SPACE = int(lib.AX_ADDR_MCB)
#: ax_dict_identity.addr_space of a CANopen dictionary (AX_ADDR_CANOPEN).
CANOPEN_ADDRESS_SPACE = int(lib.AX_ADDR_CANOPEN)


@dataclass(frozen=True)
class DictionaryIdentity:
    """The model a dictionary describes."""

    vendor_id: int
    product_code: int
    revision: int
    name: str
    part_number: str
    firmware_version: str
    interface: str
    family: str
    address_space: int  #: 1 MCB (subnode + 12-bit address), 2 CANopen (index << 8 | subindex)
    format_version: int  #: 2 or 3: the XDF version it came from
    axes: int


@dataclass(frozen=True)
class Category:
    """A category of registers: its id and its label in the default language."""

    id: str
    label: str


@dataclass(frozen=True)
class ErrorEntry:
    """A drive error code as the dictionary names it; "" where the file does not say."""

    code: int
    text: str
    type: str    #: XDF error_type: "cyclic", "configuration", ...
    module: str  #: XDF affected_module: "Power stage", "Communications", ...


@dataclass(frozen=True)
class BitField:
    """Bits start..end (inclusive) of a register."""

    name: str
    start: int
    end: int

    @property
    def width(self) -> int:
        """Number of bits the field spans (end - start + 1)."""
        return self.end - self.start + 1


class Register:
    """A register of a dictionary. Immutable; keeps its dictionary alive.

    Attributes (read-only): id, subnode, address, dtype (name, e.g. "u16"),
    access ("r", "w", "rw"), units, pdo_access (also as cyclic), address_type, description,
    category, subcategory, label, range, default, enums, bitfields, monitorable.
    """

    __slots__ = {
        "_dict": None, "_p": None,
        "id": "The register id, e.g. \"CL_POS_FBK_VALUE\".",
        "subnode": "0 = communication core, 1.. = axis.",
        "address": "Address in the link's address space (MCB: 12 bits; CANopen: "
                   "index << 8 | subindex).",
        "dtype_code": "The type as an AX_DTYPE_* code (see :attr:`dtype` for its name).",
        "_access": None,
    }

    def __init__(self, dictionary: "Dictionary", p: Any) -> None:
        self._dict = dictionary
        self._p = p
        self.id: str = text(lib.ax_reg_id(p))
        self.subnode: int = int(lib.ax_reg_subnode(p))
        self.address: int = int(lib.ax_reg_address(p))
        self.dtype_code: int = int(lib.ax_reg_dtype(p))
        self._access: int = int(lib.ax_reg_access(p))

    @property
    def dictionary(self) -> "Dictionary":
        """The :class:`Dictionary` this register belongs to (kept alive by it)."""
        return self._dict

    @property
    def dtype(self) -> str:
        """Type name: u8 s8 u16 s16 u32 s32 u64 s64 float str bool bytes."""
        return _values.dtype_name(self.dtype_code)

    @property
    def access(self) -> str:
        """Access as text: "r", "w" or "rw"."""
        return ("r" if self.readable else "") + ("w" if self.writable else "")

    @property
    def readable(self) -> bool:
        """True when the register may be read."""
        return bool(self._access & lib.AX_REG_READ)

    @property
    def writable(self) -> bool:
        """True when the register may be written."""
        return bool(self._access & lib.AX_REG_WRITE)

    @property
    def reachable(self) -> bool:
        """False for a register the dictionary lists but its address space cannot
        carry (an MCB address past 0xFFF, a subnode past 15): reading or writing
        it raises, naming the register, its address and why."""
        return bool(lib.ax_reg_reachable(self._p))

    @property
    def monitorable(self) -> bool:
        """True when the drive's monitoring (scope) can sample the register
        (``ax_reg_monitoring()``): a numeric register that a version 3 file
        gives a monitoring address, or a cyclic one of a version 2 file. The
        drive's own refusal stays the final answer."""
        return bool(lib.ax_reg_monitoring(self._p, ffi.NULL, ffi.NULL))

    @property
    def units(self) -> str:
        """Units of the value ("V", "cnt", "rev/s"...), or "" when the file gives none."""
        return text(lib.ax_reg_units(self._p))

    @property
    def pdo_access(self) -> str:
        """How the register may be mapped for cyclic exchange: "CONFIG" (not
        at all), "CYCLIC_RX", "CYCLIC_TX", ...; a version 3 file's pdo_access,
        a version 2 file's cyclic; "" when the file gives none."""
        return text(lib.ax_reg_cyclic(self._p))

    @property
    def cyclic(self) -> str:
        """The version 2 name of :attr:`pdo_access`."""
        return self.pdo_access

    @property
    def address_type(self) -> str:
        """Where the value lives: "NVM", "NVM_NONE", ...; "" when the file gives none."""
        return text(lib.ax_reg_address_type(self._p))

    @property
    def description(self) -> str:
        """The register's description from the file, or ""."""
        return text(lib.ax_reg_description(self._p))

    @property
    def category(self) -> str:
        """Id of the register's category (see :attr:`Dictionary.categories`), or ""."""
        return text(lib.ax_reg_category(self._p))

    @property
    def subcategory(self) -> str:
        """Id of the register's subcategory, or ""."""
        return text(lib.ax_reg_subcategory(self._p))

    @property
    def label(self) -> str:
        """The label in the default language."""
        return text(lib.ax_reg_label(self._p, ffi.NULL))

    def label_in(self, lang: str) -> str:
        """The label in @lang ("es_ES"), else in the default language."""
        return text(lib.ax_reg_label(self._p, cstr(lang)))

    @property
    def range_text(self) -> Optional[Tuple[str, str]]:
        """(min, max) exactly as the dictionary writes them, or None."""
        lo = ffi.new("char **")
        hi = ffi.new("char **")
        if lib.ax_reg_range(self._p, lo, hi) != 1:
            return None
        return text(lo[0]), text(hi[0])

    @property
    def range(self) -> Optional[Tuple[Any, Any]]:
        """(min, max) as numbers of the register's type, or None."""
        r = self.range_text
        if r is None:
            return None
        return _values.parse_number(self.dtype_code, r[0]), _values.parse_number(self.dtype_code, r[1])

    @property
    def default(self) -> Optional[_values.Value]:
        """The default value, or None when the dictionary gives none."""
        bp = ffi.new("uint8_t **")
        n = int(lib.ax_reg_default(self._p, bp))
        if n == 0:
            return None
        try:
            return _values.decode(self.dtype_code, bp[0], n)
        except TypeMismatchError:  # a default shorter than its type: the bytes
            return bytes(ffi.buffer(bp[0], n))

    @property
    def enums(self) -> Dict[int, str]:
        """Enumerated values: number -> label (empty when none)."""
        v = ffi.new("int64_t *")
        lab = ffi.new("char **")
        out = {}
        for i in range(lib.ax_reg_enum_count(self._p)):
            check(lib.ax_reg_enum_at(self._p, i, v, lab), DICTIONARY_DOMAIN)
            out[int(v[0])] = text(lab[0])
        return out

    def enum_label(self, value: int) -> Optional[str]:
        """The label of enumerated @value, or None."""
        return opt_text(lib.ax_reg_enum_label(self._p, value))

    def enum_value(self, label: str) -> int:
        """The number of enum @label (case-insensitive). Raises DictionaryError."""
        want = label.strip().casefold()
        for v, lab in self.enums.items():
            if lab.casefold() == want:
                return v
        choices = ", ".join(repr(lab) for lab in self.enums.values()) or "none"
        raise DictionaryError(f"register '{self.id}' has no enum value {label!r} "
                              f"(choices: {choices})")

    @property
    def bitfields(self) -> List[BitField]:
        """The named bit fields of the register (version 3 files), in file order."""
        name = ffi.new("char **")
        start = ffi.new("unsigned *")
        end = ffi.new("unsigned *")
        out = []
        for i in range(lib.ax_reg_bitfield_count(self._p)):
            check(lib.ax_reg_bitfield_at(self._p, i, name, start, end), DICTIONARY_DOMAIN)
            out.append(BitField(text(name[0]), int(start[0]), int(end[0])))
        return out

    def bitfield(self, name: str, value: int) -> int:
        """Bitfield @name of register value @value."""
        out = ffi.new("uint64_t *")
        check(lib.ax_reg_bitfield_get(self._p, cstr(name), value & (2**64 - 1), out),
              DICTIONARY_DOMAIN)
        return int(out[0])

    def with_bitfield(self, name: str, value: int, field: int) -> int:
        """@value with bitfield @name set to @field (RangeError when it does not fit)."""
        out = ffi.new("uint64_t *")
        if field < 0:
            raise RangeError(f"bitfield '{name}': {field} is negative", int(lib.AX_ERANGE))
        check(lib.ax_reg_bitfield_set(self._p, cstr(name), value & (2**64 - 1), field, out),
              {lib.AX_ENOTFOUND: DictionaryError})
        return int(out[0])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Register) and other._p == self._p

    def __hash__(self) -> int:
        return hash((self.id, self.subnode, self.address))

    def __repr__(self) -> str:
        return (f"<Register {self.id} subnode {self.subnode} address {self.address:#05x} "
                f"{self.dtype} {self.access}>")


class Dictionary:
    """An immutable register dictionary of one drive model.

    ``dictionary["CL_POS_FBK_VALUE"]`` gives the first register with that id
    (``find(id, subnode)`` for a given subnode); iterate for all registers;
    ``search("position")`` finds registers by id, label or description.
    Shareable between threads and drives.
    """

    __slots__ = ("_ptr", "_registers", "_by_ptr", "__weakref__")

    def __init__(self, ptr: Any) -> None:
        """Wrap an ax_dict* whose reference this object takes over."""
        self._ptr = ffi.gc(ptr, lib.ax_dict_unref)
        self._registers: Optional[Tuple[Register, ...]] = None
        self._by_ptr: Dict[int, Register] = {}

    @classmethod
    def _borrow(cls, ptr: Any) -> "Dictionary":
        """Wrap a borrowed ax_dict*, taking a reference of our own."""
        return cls(lib.ax_dict_ref(ptr))

    @property
    def identity(self) -> DictionaryIdentity:
        """The model's identity: vendor, product code, revision, axes...
        (:class:`DictionaryIdentity`)."""
        i = lib.ax_dict_identity_get(self._ptr)
        return DictionaryIdentity(
            vendor_id=int(i.vendor_id), product_code=int(i.product_code),
            revision=int(i.revision), name=text(i.name), part_number=text(i.part_number),
            firmware_version=text(i.firmware_version), interface=text(i.interface),
            family=text(i.family), address_space=int(i.addr_space),
            format_version=int(i.format_version), axes=int(i.axes))

    @property
    def name(self) -> str:
        """The model name."""
        return text(lib.ax_dict_identity_get(self._ptr).name)

    @property
    def source(self) -> str:
        """Where it came from: a file path, or "db:<path>#<model id>"."""
        return text(lib.ax_dict_source(self._ptr))

    def _wrap(self, p: Any) -> Register:
        key = int(ffi.cast("uintptr_t", p))
        reg = self._by_ptr.get(key)
        if reg is None:
            reg = self._by_ptr.setdefault(key, Register(self, p))
        return reg

    @property
    def registers(self) -> Tuple[Register, ...]:
        """Every register, in file order."""
        regs = self._registers
        if regs is None:
            regs = tuple(self._wrap(lib.ax_dict_reg_at(self._ptr, i))
                         for i in range(lib.ax_dict_reg_count(self._ptr)))
            self._registers = regs
        return regs

    def __len__(self) -> int:
        return int(lib.ax_dict_reg_count(self._ptr))

    def __iter__(self) -> Iterator[Register]:
        return iter(self.registers)

    def __contains__(self, reg_id: object) -> bool:
        if not isinstance(reg_id, str):
            return False
        out = ffi.new("ax_reg **")
        return bool(lib.ax_dict_find(self._ptr, cstr(reg_id), -1, out) == 0)

    def __getitem__(self, reg_id: str) -> Register:
        return self.find(reg_id)

    def find(self, reg_id: str, subnode: Optional[int] = None) -> Register:
        """The register @reg_id (on @subnode, else the first one). Raises DictionaryError."""
        out = ffi.new("ax_reg **")
        check(lib.ax_dict_find(self._ptr, cstr(reg_id), -1 if subnode is None else subnode, out),
              DICTIONARY_DOMAIN)
        return self._wrap(out[0])

    def find_address(self, address: int, subnode: int = 1) -> Register:
        """The register at (@subnode, @address). Raises DictionaryError."""
        out = ffi.new("ax_reg **")
        check(lib.ax_dict_find_address(self._ptr, subnode, address, out), DICTIONARY_DOMAIN)
        return self._wrap(out[0])

    @property
    def categories(self) -> List[Category]:
        """The dictionary's categories (id and label), in file order."""
        cid = ffi.new("char **")
        lab = ffi.new("char **")
        out = []
        for i in range(lib.ax_dict_category_count(self._ptr)):
            check(lib.ax_dict_category_at(self._ptr, i, cid, lab), DICTIONARY_DOMAIN)
            out.append(Category(text(cid[0]), text(lab[0])))
        return out

    @property
    def errors(self) -> Dict[int, str]:
        """Drive error codes the dictionary names: code -> description."""
        code = ffi.new("uint32_t *")
        txt = ffi.new("char **")
        out = {}
        for i in range(lib.ax_dict_error_count(self._ptr)):
            check(lib.ax_dict_error_at(self._ptr, i, code, txt), DICTIONARY_DOMAIN)
            out[int(code[0])] = text(txt[0])
        return out

    def error_text(self, code: int) -> Optional[str]:
        """The description of drive error @code, or None."""
        return opt_text(lib.ax_dict_error_text(self._ptr, code & 0xFFFFFFFF))

    @staticmethod
    def _error_entry(e: Any) -> ErrorEntry:
        return ErrorEntry(int(e.code), text(e.text), text(e.type), text(e.module))

    @property
    def error_entries(self) -> List[ErrorEntry]:
        """Every error the dictionary names, in file order, with all its fields."""
        e = ffi.new("ax_dict_error_entry *")
        out = []
        for i in range(lib.ax_dict_error_count(self._ptr)):
            check(lib.ax_dict_error_entry_at(self._ptr, i, e), DICTIONARY_DOMAIN)
            out.append(self._error_entry(e))
        return out

    def error_info(self, code: int) -> Optional[ErrorEntry]:
        """Text, type and affected module of drive error @code, or None."""
        e = ffi.new("ax_dict_error_entry *")
        if lib.ax_dict_error_lookup(self._ptr, code & 0xFFFFFFFF, e) < 0:
            lib.ax_error_clear()
            return None
        return self._error_entry(e)

    def search(self, query: str, *, category: Optional[str] = None,
               subnode: Optional[int] = None) -> List[Register]:
        """Registers whose id, label, description or units contain every word
        of @query (case-insensitive), optionally only in @category (id) or on
        @subnode. An empty query matches everything."""
        words = query.casefold().split()
        found = []
        for reg in self.registers:
            if category is not None and reg.category != category:
                continue
            if subnode is not None and reg.subnode != subnode:
                continue
            hay = " ".join((reg.id, reg.label, reg.description, reg.units)).casefold()
            if all(w in hay for w in words):
                found.append(reg)
        return found

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dictionary) and other._ptr == self._ptr

    def __hash__(self) -> int:
        return hash(int(ffi.cast("uintptr_t", self._ptr)))

    def __repr__(self) -> str:
        i = self.identity
        return (f"<Dictionary {i.name or '?'} {i.interface} product {i.product_code:#010x} "
                f"rev {i.revision:#010x}, {len(self)} registers from {self.source}>")


def load_dictionaries(path: PathLike) -> List[Dictionary]:
    """Every dictionary of an XDF file (a version 3 file may describe several
    interfaces). Raises DictionaryError (missing, malformed: file and line)."""
    out = ffi.new("ax_dict ***")
    n = ffi.new("size_t *")
    check(lib.ax_dict_load_file(out, n, cstr(path), _log_ctx()), DICTIONARY_DOMAIN)
    try:
        return [Dictionary(out[0][i]) for i in range(n[0])]
    finally:
        lib.ax_free(out[0])


def load_dictionary(path: PathLike, interface: Optional[str] = None) -> Dictionary:
    """The dictionary of an XDF file: the only one, or the one for @interface
    ("ETH", "CAN"...), else the first MCB one."""
    dicts = load_dictionaries(path)
    if interface is not None:
        for d in dicts:
            if d.identity.interface.casefold() == interface.casefold():
                return d
        have = ", ".join(d.identity.interface for d in dicts)
        raise DictionaryError(f"{os.fspath(path)}: no {interface} dictionary (has {have})")
    for d in dicts:
        if d.identity.address_space == MCB_ADDRESS_SPACE:
            return d
    return dicts[0]


def _log_ctx() -> Any:
    """The default context's pointer, so load warnings reach the logger."""
    from ._context import default_context

    return default_context()._p()
