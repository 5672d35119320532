# SPDX-License-Identifier: MIT
"""axlink: find servo drives on any bus and talk to them.

Python binding of libaxlink (a cffi extension over its public C API)::

    import axlink

    for r in axlink.discover("eth://192.168.2.0/24,serial"):
        print(r.uri, r.model, r.serial)

    with axlink.open("eth://192.168.2.22") as drive:
        print(drive.info)
        print(drive.read("CL_POS_FBK_VALUE"))
        drive.write("PROF_MAX_VEL", 12.5)
        print(drive.read_raw(0x6E6, "u32", subnode=0))
        axis = drive.axes[1]
        axis.enable()
        axis.move_to(10000, velocity=2000)

Errors raise subclasses of :class:`axlink.Error` (see :mod:`axlink.errors`).
The library's log lines go to the "axlink" logger. Every C call releases
the GIL, so threads may share drives.
"""
from __future__ import annotations

from ._native import BUILT_VERSION, LIBRARY_VERSION
from ._log import TRACE
from ._context import Context, PluginInfo, default_context, plugins, set_log_level
from ._dictionary import (BitField, Category, Dictionary, DictionaryIdentity, ErrorEntry,
                          Register, load_dictionaries, load_dictionary)
from ._axis import Axis
from ._drive import Drive, DriveInfo, Identity, open
from ._poll import Poller, Sample, Samples
from ._scope import Disturbance, Scope, ScopeResult
from ._batch import read_many
from ._config import Config, ConfigEntry, ConfigReport
from ._tables import Table, Tables
from ._scan import ScanResult, iter_scan, scan
from ._discover import (DiscoverResult, Monitor, MonitorEvent, TransportOutcome, discover,
                        iter_discover, locate)
from . import db, errors
from .errors import (AccessError, CancelledError, ConnectionError, CorruptDatabaseError,
                     DatabaseError, DictionaryError, DictionaryFormatError, Error,
                     InvalidArgumentError, NackError, NotFoundError, OutOfMemoryError,
                     PluginError, ProtocolError, RangeError, StateError, TimeoutError,
                     TypeMismatchError, UnsupportedError)

#: Version of the Python package: the library version it was built against.
__version__ = BUILT_VERSION

__all__ = [
    "LIBRARY_VERSION", "BUILT_VERSION", "TRACE",
    "Context", "PluginInfo", "default_context", "plugins", "set_log_level",
    "BitField", "Category", "Dictionary", "DictionaryIdentity", "ErrorEntry", "Register",
    "load_dictionaries", "load_dictionary",
    "Axis", "Drive", "DriveInfo", "Identity", "open",
    "Poller", "Sample", "Samples", "read_many",
    "Disturbance", "Scope", "ScopeResult",
    "Config", "ConfigEntry", "ConfigReport", "Table", "Tables",
    "ScanResult", "iter_scan", "scan",
    "DiscoverResult", "Monitor", "MonitorEvent", "TransportOutcome", "discover",
    "iter_discover", "locate",
    "db", "errors",
    "AccessError", "CancelledError", "ConnectionError", "CorruptDatabaseError", "DatabaseError",
    "DictionaryError", "DictionaryFormatError",
    "Error", "InvalidArgumentError", "NackError", "NotFoundError", "OutOfMemoryError",
    "PluginError", "ProtocolError", "RangeError", "StateError", "TimeoutError",
    "TypeMismatchError", "UnsupportedError",
]
