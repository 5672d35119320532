# SPDX-License-Identifier: MIT
"""The exceptions axlink raises: one hierarchy under :class:`Error`.

Every failure of a C call becomes an instance of the class its error code
maps to, carrying the code (``code``, e.g. -5), its name (``code_name``,
"AX_ETIMEDOUT"), the class of the module that detected it (``error_class``,
e.g. ``lib.AX_ERRCLASS_DB``, and ``class_name``) and the library's one-line
message (``message``, also the exception's text). The exception class follows
from the error class and the code, never from the message: AX_ENOTFOUND of
the dictionary module is a DictionaryError, of the plugin registry a
PluginError, elsewhere a NotFoundError. Some classes also derive from the
matching built-in exception, so ``except TimeoutError`` (the built-in)
catches an axlink timeout too.

    Error
    ├── TimeoutError        (also builtins.TimeoutError)  AX_ETIMEDOUT
    ├── NackError                                         AX_EDRIVE: the drive refused
    ├── ConnectionError     (also builtins.ConnectionError) AX_EIO, AX_EDISCONNECTED, AX_EBUSY
    │   └── ProtocolError                                 AX_EPROTO, AX_ECRC, AX_EADDR, AX_ETRUNC
    ├── DictionaryError                                   class DICT: no such register, unusable dictionary
    │   └── DictionaryFormatError                         AX_EFORMAT: malformed XML, not a dictionary
    ├── DatabaseError                                     class DB: device database failures
    │   └── CorruptDatabaseError                          AX_ECORRUPT: damaged or foreign database file
    ├── PluginError                                       AX_EABI, class PLUGIN: no transport, load failures
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
    "DictionaryError", "DictionaryFormatError", "DatabaseError", "CorruptDatabaseError",
    "PluginError", "StateError", "NotFoundError",
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
        error_class: the ``ax_error_class`` of the module that detected the
            failure (``lib.AX_ERRCLASS_TRANSPORT``, ...), or None.
        class_name: its symbolic name ("AX_ERRCLASS_TRANSPORT"), or None.
    """

    def __init__(self, message: str, code: Optional[int] = None,
                 error_class: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.code_name = opt_text(lib.ax_error_name(code)) if code is not None else None
        self.error_class = error_class
        self.class_name = (opt_text(lib.ax_error_class_name(error_class))
                           if error_class is not None else None)


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
                 drive_text: Optional[str] = None, error_class: Optional[int] = None) -> None:
        super().__init__(message, code, error_class)
        self.drive_code = drive_code
        self.drive_text = drive_text


class ConnectionError(Error, builtins.ConnectionError):
    """The transport failed: I/O error, device gone, port busy."""


class ProtocolError(ConnectionError):
    """A malformed reply: bad CRC, wrong address, truncated, not a reply."""


class DictionaryError(Error):
    """No such register, no dictionary for the drive, or a dictionary file that cannot be used."""


class DictionaryFormatError(DictionaryError):
    """A dictionary file that is not in its format: malformed XML, another
    root element, an unsupported version, a model described twice (AX_EFORMAT)."""


class DatabaseError(Error):
    """The device database cannot be opened, read or written."""


class CorruptDatabaseError(DatabaseError):
    """A database file that is damaged, not SQLite, another application's, or of
    a newer schema (AX_ECORRUPT)."""


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
    lib.AX_EFORMAT: DictionaryFormatError,
    lib.AX_ECORRUPT: CorruptDatabaseError,
}

# What a code means in the module that detected it (ax_error_last_class()).
# Codes not listed fall back to _BY_CODE.
_BY_CLASS: Dict[int, Dict[int, Type[Error]]] = {
    lib.AX_ERRCLASS_DICT: {
        lib.AX_ERROR: DictionaryError,
        lib.AX_ENOTFOUND: DictionaryError,
        lib.AX_EIO: DictionaryError,
        lib.AX_ETOOBIG: DictionaryError,
        lib.AX_EFORMAT: DictionaryFormatError,
    },
    lib.AX_ERRCLASS_DB: {
        lib.AX_ERROR: DatabaseError,
        lib.AX_EACCESS: DatabaseError,
        lib.AX_ETOOBIG: DatabaseError,
        lib.AX_ECORRUPT: CorruptDatabaseError,
    },
    lib.AX_ERRCLASS_PLUGIN: {
        lib.AX_ERROR: PluginError,
        lib.AX_ENOTFOUND: PluginError,
        lib.AX_EIO: PluginError,
        lib.AX_EBUSY: PluginError,
        lib.AX_EINVAL: PluginError,
    },
}

# Codes whose meaning depends on what was being done, for a caller that knows
# better than the error class (a fallback: the class decides first).
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


def class_for(code: int, error_class: Optional[int] = None) -> Type[Error]:
    """The exception class of a negative ax_error_code detected by a module of
    @error_class (an ax_error_class; None: the code alone). Error for unknown codes."""
    if error_class is not None:
        cls = _BY_CLASS.get(error_class, {}).get(code)
        if cls is not None:
            return cls
    return _BY_CODE.get(code, Error)


def last_error(code: int, domain: Optional[Dict[int, Type[Error]]] = None,
               drive_text: Optional[Callable[[int], Optional[str]]] = None) -> Error:
    """The exception for the C call that just failed on this thread with @code.

    Must run before any other axlink call on this thread: the message and the
    drive code are thread-local and the next call may replace them.
    @drive_text names a drive error code (the drive's dictionary)."""
    drive_code = int(lib.ax_error_last_drive_code()) if code == lib.AX_EDRIVE else 0
    message = text(lib.ax_error_last())
    error_class = int(lib.ax_error_last_class())
    cls = (_BY_CLASS.get(error_class, {}).get(code) or (domain or {}).get(code)
           or class_for(code))
    if cls is NackError:
        name = drive_text(drive_code) if drive_text else None
        if name is None:
            name = opt_text(lib.ax_drive_code_text(drive_code))
        if name and name not in message:
            message = f"{message} ({name})"
        return NackError(message, code, drive_code, name, error_class)
    return cls(message, code, error_class)


def check(code: int, domain: Optional[Dict[int, Type[Error]]] = None,
          drive_text: Optional[Callable[[int], Optional[str]]] = None) -> int:
    """Return @code when >= 0, else raise the exception it maps to."""
    if code >= 0:
        return code
    raise last_error(code, domain, drive_text)


def closed(what: Any) -> StateError:
    """The error for using @what after close()."""
    return StateError(f"{what} is closed")
