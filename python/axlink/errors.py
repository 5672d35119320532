# SPDX-License-Identifier: MIT
"""The exceptions axlink raises: one hierarchy under :class:`Error`.

Every failure of a C call becomes an instance of the class its error code
maps to, carrying the code (``code``, e.g. -5), its name (``code_name``,
"AX_ETIMEDOUT") and the library's one-line message (``message``, also the
exception's text). Some classes also derive from the matching built-in
exception, so ``except TimeoutError`` (the built-in) catches an axlink
timeout too.

    Error
    ├── TimeoutError        (also builtins.TimeoutError)  AX_ETIMEDOUT
    ├── NackError                                         AX_EDRIVE: the drive refused
    ├── ConnectionError     (also builtins.ConnectionError) AX_EIO, AX_EDISCONNECTED, AX_EBUSY
    │   └── ProtocolError                                 AX_EPROTO, AX_ECRC, AX_EADDR, AX_ETRUNC
    ├── DictionaryError                                   no such register, unusable dictionary
    ├── DatabaseError                                     device database failures
    ├── PluginError                                       AX_EABI, no transport for a scheme, load failures
    ├── StateError                                        a closed object, an operation in the wrong state
    ├── NotFoundError       (also LookupError)            AX_ENOTFOUND
    ├── InvalidArgumentError (also ValueError)            AX_EINVAL, AX_EUNKNOWNKEY
    ├── RangeError          (also ValueError)             AX_ERANGE, AX_ETOOBIG
    ├── TypeMismatchError   (also TypeError)              AX_ETYPE
    ├── AccessError                                       AX_EACCESS: read-only, write-only, permission
    ├── UnsupportedError                                  AX_EUNSUPPORTED
    ├── CancelledError                                    AX_ECANCELED
    └── OutOfMemoryError    (also MemoryError)            AX_ENOMEM
"""
from __future__ import annotations

import builtins
from typing import Any, Callable, Dict, Optional, Type

from ._native import lib, opt_text, text

__all__ = [
    "Error", "TimeoutError", "NackError", "ConnectionError", "ProtocolError",
    "DictionaryError", "DatabaseError", "PluginError", "StateError", "NotFoundError",
    "InvalidArgumentError", "RangeError", "TypeMismatchError", "AccessError",
    "UnsupportedError", "CancelledError", "OutOfMemoryError",
]


class Error(Exception):
    """Base of every axlink exception.

    Attributes:
        message: the library's one-line message (what failed, where).
        code: the negative ``ax_error_code``, or None for an error detected in
            Python (e.g. using a closed drive).
        code_name: the code's symbolic name ("AX_ETIMEDOUT"), or None.
    """

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.code_name = opt_text(lib.ax_error_name(code)) if code is not None else None


class TimeoutError(Error, builtins.TimeoutError):
    """No reply within the deadline (AX_ETIMEDOUT)."""


class NackError(Error):
    """The drive answered with an error reply (AX_EDRIVE).

    Attributes:
        drive_code: the drive's own 32-bit error code (e.g. 0x06020000).
        drive_text: what the drive's dictionary (or the common MCB/CANopen
            codes) call it, or None when nothing names it.
    """

    def __init__(self, message: str, code: Optional[int] = None, drive_code: int = 0,
                 drive_text: Optional[str] = None) -> None:
        super().__init__(message, code)
        self.drive_code = drive_code
        self.drive_text = drive_text


class ConnectionError(Error, builtins.ConnectionError):
    """The transport failed: I/O error, device gone, port busy."""


class ProtocolError(ConnectionError):
    """A malformed reply: bad CRC, wrong address, truncated, not a reply."""


class DictionaryError(Error):
    """No such register, no dictionary for the drive, or a dictionary file that cannot be used."""


class DatabaseError(Error):
    """The device database cannot be opened, read or written."""


class PluginError(Error):
    """A transport plugin is missing for a scheme, refused (ABI) or failed to load."""


class StateError(Error):
    """The object is closed, or not in a state that allows the operation."""


class NotFoundError(Error, LookupError):
    """No such object: file, model, folder, device (AX_ENOTFOUND)."""


class InvalidArgumentError(Error, ValueError):
    """A malformed argument: URI, name, option key (AX_EINVAL, AX_EUNKNOWNKEY)."""


class RangeError(Error, ValueError):
    """A value outside its type's or the dictionary's range, or too long (AX_ERANGE, AX_ETOOBIG)."""


class TypeMismatchError(Error, TypeError):
    """A value of the wrong type or size, or an identity mismatch (AX_ETYPE)."""


class AccessError(Error):
    """Writing a read-only register, reading a write-only one, or permission denied (AX_EACCESS)."""


class UnsupportedError(Error):
    """The transport or object does not support the operation (AX_EUNSUPPORTED)."""


class CancelledError(Error):
    """The request was cancelled from another thread (AX_ECANCELED)."""


class OutOfMemoryError(Error, MemoryError):
    """The library ran out of memory (AX_ENOMEM)."""


_BY_CODE: Dict[int, Type[Error]] = {
    lib.AX_ERROR: Error,
    lib.AX_EINVAL: InvalidArgumentError,
    lib.AX_ENOMEM: OutOfMemoryError,
    lib.AX_ENOTFOUND: NotFoundError,
    lib.AX_ETIMEDOUT: TimeoutError,
    lib.AX_EBUSY: ConnectionError,
    lib.AX_EABI: PluginError,
    lib.AX_EIO: ConnectionError,
    lib.AX_EPROTO: ProtocolError,
    lib.AX_ECRC: ProtocolError,
    lib.AX_EADDR: ProtocolError,
    lib.AX_EDRIVE: NackError,
    lib.AX_ETOOBIG: RangeError,
    lib.AX_ETRUNC: ProtocolError,
    lib.AX_EUNSUPPORTED: UnsupportedError,
    lib.AX_EACCESS: AccessError,
    lib.AX_ECANCELED: CancelledError,
    lib.AX_EDISCONNECTED: ConnectionError,
    lib.AX_ERANGE: RangeError,
    lib.AX_ETYPE: TypeMismatchError,
    lib.AX_EUNKNOWNKEY: InvalidArgumentError,
}

# Codes whose meaning depends on what was being done: a call on a dictionary
# or a database says "malformed" or "missing" about that, not about a link.
DICTIONARY_DOMAIN: Dict[int, Type[Error]] = {
    lib.AX_ERROR: DictionaryError,
    lib.AX_ENOTFOUND: DictionaryError,
    lib.AX_EPROTO: DictionaryError,
    lib.AX_ETOOBIG: DictionaryError,
}
DATABASE_DOMAIN: Dict[int, Type[Error]] = {
    lib.AX_ERROR: DatabaseError,
    lib.AX_EPROTO: DatabaseError,
    lib.AX_EACCESS: DatabaseError,
    lib.AX_ETOOBIG: DatabaseError,
}
PLUGIN_DOMAIN: Dict[int, Type[Error]] = {
    lib.AX_ERROR: PluginError,
    lib.AX_ENOTFOUND: PluginError,
    lib.AX_EIO: PluginError,
    lib.AX_EBUSY: PluginError,
    lib.AX_EINVAL: PluginError,
}


def class_for(code: int) -> Type[Error]:
    """The exception class of a negative ax_error_code (Error for unknown codes)."""
    return _BY_CODE.get(code, Error)


def last_error(code: int, domain: Optional[Dict[int, Type[Error]]] = None,
               drive_text: Optional[Callable[[int], Optional[str]]] = None) -> Error:
    """The exception for the C call that just failed on this thread with @code.

    Must run before any other axlink call on this thread: the message and the
    drive code are thread-local and the next call may replace them.
    @drive_text names a drive error code (the drive's dictionary)."""
    drive_code = int(lib.ax_error_last_drive_code()) if code == lib.AX_EDRIVE else 0
    message = text(lib.ax_error_last())
    cls = (domain or {}).get(code) or class_for(code)
    if cls is NackError:
        name = drive_text(drive_code) if drive_text else None
        if name is None:
            name = opt_text(lib.ax_drive_code_text(drive_code))
        if name and name not in message:
            message = f"{message} ({name})"
        return NackError(message, code, drive_code, name)
    return cls(message, code)


def check(code: int, domain: Optional[Dict[int, Type[Error]]] = None,
          drive_text: Optional[Callable[[int], Optional[str]]] = None) -> int:
    """Return @code when >= 0, else raise the exception it maps to."""
    if code >= 0:
        return code
    raise last_error(code, domain, drive_text)


def closed(what: Any) -> StateError:
    """The error for using @what after close()."""
    return StateError(f"{what} is closed")
