# SPDX-License-Identifier: MIT
# Types of the compiled cffi extension (ffi_build.py makes it), for mypy:
# `lib` is every function and constant of the public headers, untyped
# here (cffi checks each call against the C declaration at run time);
# `ffi` is typed where a static checker needs it, its decorator above all.
from typing import Any, Callable, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

class _FFI:
    NULL: Any
    def def_extern(self, name: str = ..., error: Any = ...,
                   onerror: Any = ...) -> Callable[[_F], _F]: ...
    def string(self, cdata: Any, maxlen: int = ...) -> bytes: ...
    def buffer(self, cdata: Any, size: int = ...) -> "_Buffer": ...
    def __getattr__(self, name: str) -> Any: ...

# A cffi buffer reads like bytes (slices, the buffer protocol).
class _Buffer(bytes):
    def __setitem__(self, index: slice, value: bytes) -> None: ...

ffi: _FFI
lib: Any
