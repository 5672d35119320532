# SPDX-License-Identifier: MIT
"""The device database: dictionaries imported into SQLite, found again from
the identity a drive reports.

A context searches three databases, in this order: the file named by
AXLINK_DB, the user database ($XDG_DATA_HOME/axlink/devices.db, where
imports go) and the one installed beside the library. The functions here
use that search order unless given a :class:`Database`.

    axlink.db.import_file("my-drive.xdf")          # into the user database
    r = axlink.db.resolve(0xA71C, 0x10064, 0x10002)
    print(r.match, r.reason, r.dictionary)
    for m in axlink.db.list(): print(m.name, m.revision)
"""
from __future__ import annotations

import builtins
import os
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple, Union

from ._context import Context, resolve_context
from ._dictionary import MCB_ADDRESS_SPACE, Dictionary
from ._native import cstr, ffi, lib, text
from .errors import DATABASE_DOMAIN, NotFoundError, check, closed, last_error

__all__ = ["Database", "Model", "ImportReport", "Resolution", "location", "import_file",
           "resolve", "list", "load"]

PathLike = Union[str, "os.PathLike[str]"]

_LOCATIONS = {
    "env": int(lib.AX_DB_LOCATION_ENV),
    "user": int(lib.AX_DB_LOCATION_USER),
    "installed": int(lib.AX_DB_LOCATION_INSTALLED),
}


@dataclass(frozen=True)
class Model:
    """A model of a database."""

    id: int
    vendor_id: int
    product_code: int
    revision: int
    name: str
    part_number: str
    firmware_version: str
    interface: str
    family: str
    source: str  #: the file it was imported from
    sha256: str
    format_version: int
    registers: int
    database: str  #: path of the database that holds it


@dataclass(frozen=True)
class ImportReport:
    """What importing one file did."""

    file: str
    database: str
    format_version: int
    models: Tuple[Model, ...]
    skipped: int  #: registers skipped for missing attributes
    warnings: Tuple[str, ...]
    replaced: bool  #: the file's models replaced earlier imports


@dataclass(frozen=True)
class Resolution:
    """The dictionary found for a drive identity, and why."""

    dictionary: Optional[Dictionary]
    match: str  #: "exact", "lower-revision", "any-revision" or "none"
    reason: str


def _model(m: Any, database: str) -> Model:
    return Model(id=int(m.id), vendor_id=int(m.vendor_id), product_code=int(m.product_code),
                 revision=int(m.revision), name=text(m.name), part_number=text(m.part_number),
                 firmware_version=text(m.firmware_version), interface=text(m.interface),
                 family=text(m.family), source=text(m.source), sha256=text(m.sha256),
                 format_version=int(m.format_version), registers=int(m.registers),
                 database=database)


def _models(models: Any, database: str) -> Tuple[Model, ...]:
    """The models of an ax_db_model_list (NULL when empty), through its accessor:
    the list, not the caller, knows the struct's size."""
    return tuple(_model(lib.ax_db_model_list_at(models, i), database)
                 for i in range(lib.ax_db_model_list_count(models)))


def _resolution(dict_out: Any, match_out: Any, reason_out: Any) -> Resolution:
    try:
        d = Dictionary(dict_out[0]) if dict_out[0] != ffi.NULL else None
        return Resolution(d, text(lib.ax_match_name(match_out[0])), text(reason_out[0]))
    finally:
        lib.ax_free(reason_out[0])


def location(which: str) -> Optional[str]:
    """The path of database @which ("env", "user", "installed"), or None
    when it has none (AXLINK_DB unset, no home). The file need not exist."""
    loc = _LOCATIONS.get(which)
    if loc is None:
        raise ValueError(f"unknown database location {which!r}: use env, user or installed")
    out = ffi.new("char **")
    rc = lib.ax_db_location_path(loc, out)
    if rc == lib.AX_ENOTFOUND:
        lib.ax_error_clear()
        return None
    check(rc, DATABASE_DOMAIN)
    try:
        return text(out[0])
    finally:
        lib.ax_free(out[0])


class Database:
    """An open device database file. Close it, or use it as a context manager.

    Args:
        path: the file.
        create: create it (and its folder) when missing.
        readonly: open read-only.
    Thread safety: safe.
    """

    __slots__ = {"_ptr": None, "path": "The database file's path.", "__weakref__": None}

    def __init__(self, path: PathLike, *, create: bool = False, readonly: bool = False) -> None:
        self._ptr: Any = None
        flags = (lib.AX_DB_CREATE if create else 0) | (lib.AX_DB_READONLY if readonly else 0)
        out = ffi.new("ax_db **")
        check(lib.ax_db_open(out, cstr(path), flags), DATABASE_DOMAIN)
        self._ptr = ffi.gc(out[0], lib.ax_db_unref)
        self.path: str = text(lib.ax_db_path(self._ptr))

    def _p(self) -> Any:
        p = self._ptr
        if p is None:
            raise closed(self)
        return p

    def close(self) -> None:
        """Close the database; idempotent. Dictionaries loaded from it stay usable."""
        self._ptr = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._ptr is None

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<axlink.db.Database {self.path}{' closed' if self._ptr is None else ''}>"

    def import_file(self, path: PathLike, *, context: Optional[Context] = None,
                    strict: bool = False) -> ImportReport:
        """Import an XDF file (version 2 or 3); importing the same file again
        changes nothing. Warnings also go to the "axlink" logger. A version 3
        file that lacks an attribute the format makes mandatory (pdo_access,
        desc, default, ... of a register) is imported with a warning per
        attribute, or with @strict refused (DictionaryError naming file:line
        and the attribute; the database stays as it was)."""
        p = self._p()
        rep = ffi.new("ax_db_import_report **")
        flags = lib.AX_DB_IMPORT_STRICT if strict else 0
        rc = lib.ax_db_import_flags(p, cstr(path), flags, resolve_context(context)._p(), rep)
        if rc < 0:
            # The file's own problems (missing, malformed) are the dictionary's:
            # the error class says so (AX_ERRCLASS_DICT).
            raise last_error(rc, DATABASE_DOMAIN)
        r = rep[0]
        try:
            return ImportReport(
                file=text(r.file), database=self.path, format_version=int(r.format_version),
                models=_models(r.models, self.path),
                skipped=int(r.skipped),
                warnings=tuple(text(r.warnings[i]) for i in range(r.n_warnings)),
                replaced=bool(r.replaced))
        finally:
            lib.ax_db_import_report_free(r)

    def list(self) -> List[Model]:
        """The models of this database."""
        out = ffi.new("ax_db_model_list **")
        check(lib.ax_db_list(self._p(), out), DATABASE_DOMAIN)
        try:
            return builtins.list(_models(out[0], self.path))
        finally:
            lib.ax_db_model_list_free(out[0])

    def load(self, model_id: int) -> Dictionary:
        """The dictionary of model @model_id (see :meth:`list`)."""
        out = ffi.new("ax_dict **")
        check(lib.ax_db_load(self._p(), model_id, out), DATABASE_DOMAIN)
        return Dictionary(out[0])

    def resolve(self, vendor_id: int, product_code: int, revision: int, *,
                address_space: int = MCB_ADDRESS_SPACE) -> Resolution:
        """The dictionary for a drive identity by the resolution rules (exact,
        nearest lower revision, any revision) among the dictionaries of
        @address_space (MCB by default; CANOPEN_ADDRESS_SPACE for CANopen);
        ``match`` is "none" when nothing fits."""
        d, m, r = ffi.new("ax_dict **"), ffi.new("int *"), ffi.new("char **")
        check(lib.ax_db_resolve(self._p(), vendor_id, product_code, revision, address_space,
                                d, m, r), DATABASE_DOMAIN)
        return _resolution(d, m, r)


def _user_database() -> Database:
    path = location("user")
    if path is None:
        raise NotFoundError("no user database: neither XDG_DATA_HOME nor HOME is set",
                            int(lib.AX_ENOTFOUND))
    return Database(path, create=True)


def import_file(path: PathLike, database: Optional[Database] = None, *,
                context: Optional[Context] = None, strict: bool = False) -> ImportReport:
    """Import an XDF file into @database (default: the user database, created
    when missing); @strict as :meth:`Database.import_file`."""
    if database is not None:
        return database.import_file(path, context=context, strict=strict)
    with _user_database() as db:
        return db.import_file(path, context=context, strict=strict)


def resolve(vendor_id: int, product_code: int, revision: int,
            database: Optional[Database] = None, *,
            context: Optional[Context] = None,
            address_space: int = MCB_ADDRESS_SPACE) -> Resolution:
    """The dictionary for a drive identity: from @database, or by the
    context's search order (AXLINK_DB, user, installed; the best rule wins),
    among the dictionaries of @address_space (MCB by default)."""
    if database is not None:
        return database.resolve(vendor_id, product_code, revision,
                                address_space=address_space)
    ctx = resolve_context(context)
    d, m, r = ffi.new("ax_dict **"), ffi.new("int *"), ffi.new("char **")
    check(lib.ax_ctx_resolve(ctx._p(), vendor_id, product_code, revision, address_space,
                             d, m, r), DATABASE_DOMAIN)
    return _resolution(d, m, r)


def list(database: Optional[Database] = None) -> builtins.list[Model]:
    """The models of @database, or of every database in the search order
    that exists (each Model names its database)."""
    if database is not None:
        return database.list()
    models: builtins.list[Model] = []
    seen = set()
    for which in ("env", "user", "installed"):
        path = location(which)
        if path is None or path in seen or not os.path.exists(path):
            continue
        seen.add(path)
        with Database(path, readonly=True) as db:
            models.extend(db.list())
    return models


def load(model_id: int, database: Database) -> Dictionary:
    """The dictionary of model @model_id of @database."""
    return database.load(model_id)
