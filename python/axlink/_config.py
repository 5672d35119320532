# SPDX-License-Identifier: MIT
"""Configuration files (XCF): ``drive.config.save/load/diff`` (axlink/config.h)."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Union, overload

from ._native import ffi, lib, opt_text, text
from .errors import Error, check, last_error

if TYPE_CHECKING:  # pragma: no cover
    from ._drive import Drive

PathLike = Union[str, "os.PathLike[str]"]

_STATUSES = ("written", "unchanged", "refused", "not_in_dict", "mismatch", "different",
             "invalid", "not_in_file", "skipped")


@dataclass(frozen=True)
class ConfigEntry:
    """One register of a load or a diff.

    Attributes:
        id, subnode: the register.
        status: "written", "unchanged", "refused", "not_in_dict", "mismatch",
            "different", "invalid", "not_in_file" or "skipped".
        file_value: the file's value as text (None for not_in_file).
        drive_value: the drive's value as text before a load / at a diff,
            None when it was not read.
        error: the failure's code name ("AX_EDRIVE", "AX_ERANGE", ...) or None.
        message: why it failed, "" when it did not.
        drive_code: the drive's own error code for a refusal, else 0.
    """

    id: str
    subnode: int
    status: str
    file_value: Optional[str]
    drive_value: Optional[str]
    error: Optional[str]
    message: str
    drive_code: int


class ConfigReport(Sequence[ConfigEntry]):
    """What a load or a diff did, register by register (a sequence of ConfigEntry)."""

    def __init__(self, entries: List[ConfigEntry], path: str) -> None:
        self._entries = entries
        self.path = path

    @classmethod
    def _take(cls, ptr: Any, path: str) -> "ConfigReport":
        """Copy an ax_config_report* and free it."""
        try:
            entries = []
            id_ = ffi.new("const char **")
            sn = ffi.new("int *")
            st = ffi.new("int *")
            for i in range(int(lib.ax_config_report_count(ptr))):
                check(lib.ax_config_report_at(ptr, i, id_, sn, st))
                err = int(lib.ax_config_report_error(ptr, i))
                entries.append(ConfigEntry(
                    id=text(id_[0]), subnode=int(sn[0]),
                    status=text(lib.ax_config_status_name(st[0])),
                    file_value=opt_text(lib.ax_config_report_file_value(ptr, i)),
                    drive_value=opt_text(lib.ax_config_report_drive_value(ptr, i)),
                    error=opt_text(lib.ax_error_name(err)) if err else None,
                    message=text(lib.ax_config_report_message(ptr, i)),
                    drive_code=int(lib.ax_config_report_drive_code(ptr, i))))
            return cls(entries, path)
        finally:
            lib.ax_config_report_free(ptr)

    @overload
    def __getitem__(self, i: int) -> ConfigEntry: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[ConfigEntry]: ...

    def __getitem__(self, i: Any) -> Any:
        return self._entries[i]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[ConfigEntry]:
        return iter(self._entries)

    @property
    def counts(self) -> Dict[str, int]:
        """Entries per status (every status, 0 included)."""
        out = dict.fromkeys(_STATUSES, 0)
        for e in self._entries:
            out[e.status] += 1
        return out

    def with_status(self, *statuses: str) -> List[ConfigEntry]:
        """The entries with one of @statuses."""
        return [e for e in self._entries if e.status in statuses]

    @property
    def changes(self) -> List[ConfigEntry]:
        """Every entry that is not "unchanged"."""
        return [e for e in self._entries if e.status != "unchanged"]

    @property
    def ok(self) -> bool:
        """True when every register is written or unchanged."""
        return all(e.status in ("written", "unchanged") for e in self._entries)

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        return f"<axlink.ConfigReport {self.path!r}: {counts or 'empty'}>"


def _add_note(e: BaseException, note: str) -> None:
    """e.add_note() where Python has it (3.11); a warning before that."""
    if hasattr(e, "add_note"):
        e.add_note(note)
    else:
        import warnings
        warnings.warn(note, RuntimeWarning, stacklevel=3)


def _interruptible(call: Any, cancel: Any,
                   drive_text: Any) -> "tuple[int, Optional[Error], Optional[BaseException]]":
    """(rc, its exception or None, what interrupted the wait or None) of
    call(), a library call that watches @cancel but runs no Python
    meanwhile. On the main thread it runs on a helper thread while this one
    waits in short slices, so that Ctrl-C arrives here at once, triggers
    @cancel and is returned once the call has stopped. Elsewhere directly."""
    if threading.current_thread() is not threading.main_thread():
        rc = call()
        return rc, last_error(rc, drive_text=drive_text) if rc < 0 else None, None
    outcome: List[Any] = []

    def work() -> None:
        rc = call()  # the library's last error is per thread: take it here
        outcome.append((rc, last_error(rc, drive_text=drive_text) if rc < 0 else None))

    worker = threading.Thread(target=work, name="axlink-config", daemon=True)
    worker.start()
    interrupt: Optional[BaseException] = None
    try:
        while worker.is_alive():
            worker.join(0.02)
    except BaseException as e:  # noqa: BLE001 - Ctrl-C, SystemExit: stop the call first
        lib.ax_cancel_trigger(cancel)
        worker.join()  # between two registers: the call watches the token
        interrupt = e
    rc, exc = outcome[0]
    return rc, exc, interrupt


def _axis(axis: Optional[int]) -> int:
    if axis is None:
        return int(lib.AX_CONFIG_ALL)
    if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis <= 255:
        raise ValueError(f"axis must be 0..255 or None, not {axis!r}")
    return axis


class Config:
    """The configuration of a drive (``drive.config``): every register the
    dictionary marks read-write and kept in non-volatile memory, per subnode,
    as an XCF file. Register tables are not included yet."""

    __slots__ = ("_drive",)

    def __init__(self, drive: "Drive") -> None:
        self._drive = drive

    def save(self, path: PathLike, axis: Optional[int] = None, *, update: bool = False) -> int:
        """Write the configuration (of subnode @axis, or all) to @path;
        returns the number of registers saved. With @update, an existing
        file of the same product keeps what it has beyond the values
        (other attributes, tables, registers this drive lacks)."""
        drive = self._drive._handles()[0]
        flags = int(lib.AX_CONFIG_UPDATE) if update else 0
        return check(lib.ax_config_save(drive, os.fsencode(path), _axis(axis), flags),
                     drive_text=self._drive._drive_text)

    def _run(self, fn: Any, path: PathLike, axis: Optional[int],
             allow_revision: bool) -> "tuple[int, Optional[ConfigReport], Optional[Error]]":
        drive = self._drive._handles()[0]
        out = ffi.new("ax_config_report **")
        flags = int(lib.AX_CONFIG_ALLOW_REVISION) if allow_revision else 0
        rc = fn(drive, os.fsencode(path), _axis(axis), flags, out)
        exc = last_error(rc, drive_text=self._drive._drive_text) if rc < 0 else None
        report = ConfigReport._take(out[0], os.fsdecode(path)) if out[0] != ffi.NULL else None
        if report is None and exc is not None:
            raise exc
        return rc, report, exc

    def load(self, path: PathLike, axis: Optional[int] = None, *,
             allow_revision: bool = False, strict: bool = True) -> ConfigReport:
        """Load @path into the drive: the identity is checked (product code,
        and revision unless @allow_revision), then each register that differs
        is written and read back. Returns the report.

        When a register was not applied the exception of the first one is
        raised with the report in its ``report`` attribute; with
        strict=False the report is returned instead (see ``report.ok``).

        ``drive.cancel()`` from another thread stops the load between two
        registers: CancelledError (whatever @strict) says how many registers
        were written, and its ``report`` names them (the rest "skipped"): the
        drive then holds part of the file. Ctrl-C stops it the same way;
        the KeyboardInterrupt carries the report and that message as a note."""
        drive = self._drive._handles()[0]
        cancel = self._drive._cancel_token()
        out = ffi.new("ax_config_report **")
        flags = int(lib.AX_CONFIG_ALLOW_REVISION) if allow_revision else 0
        args = (drive, os.fsencode(path), _axis(axis), flags, cancel, out)
        lib.ax_cancel_reset(cancel)
        rc, exc, interrupt = _interruptible(lambda: lib.ax_config_load_cancel(*args), cancel,
                                            self._drive._drive_text)
        report = ConfigReport._take(out[0], os.fsdecode(path)) if out[0] != ffi.NULL else None
        if interrupt is not None:
            if report is not None:
                interrupt.report = report  # type: ignore[attr-defined]
            if exc is not None:
                _add_note(interrupt, f"axlink: {exc.message}")
            raise interrupt
        if report is None:
            assert exc is not None
            raise exc
        if exc is not None and (strict or rc == lib.AX_ECANCELED):
            exc.report = report  # type: ignore[attr-defined]
            raise exc
        return report

    def diff(self, path: PathLike, axis: Optional[int] = None, *,
             allow_revision: bool = False) -> ConfigReport:
        """Compare the drive with @path, writing nothing; the report's
        ``changes`` are the registers that differ (or are missing on either side)."""
        _, report, exc = self._run(lib.ax_config_diff, path, axis, allow_revision)
        if exc is not None:
            if report is not None:
                exc.report = report  # type: ignore[attr-defined]
            raise exc
        assert report is not None
        return report
