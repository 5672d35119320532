# SPDX-License-Identifier: MIT
"""PEP 517 backend of the axlink package (pyproject.toml: build-backend).

Normally scikit-build-core: it runs the whole CMake project and bundles the
library, plugins, tools and devices.db into the package.

With AXLINK_BUILD_DIR=<configured CMake build tree of axlink> set, a
developer shortcut instead: setuptools (setup.py) compiles only the
extension, against the library of that tree, with an rpath into it; the
console scripts run that tree's bin/axlink and bin/axlink-sim. A relative
AXLINK_BUILD_DIR resolves against the directory pip was started in (pip runs
this backend inside python/); see ffi_build.locate_library().
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

ConfigSettings = Optional[Dict[str, Any]]


def _shortcut() -> bool:
    return bool(os.environ.get("AXLINK_BUILD_DIR"))


def _backend() -> Any:
    if _shortcut():
        from setuptools import build_meta
        return build_meta
    from scikit_build_core import build
    return build


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> List[str]:
    if _shortcut():
        return ["setuptools>=61", *_backend().get_requires_for_build_wheel(config_settings)]
    return list(_backend().get_requires_for_build_wheel(config_settings))


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> List[str]:
    if _shortcut():
        return ["setuptools>=64", *_backend().get_requires_for_build_editable(config_settings)]
    return list(_backend().get_requires_for_build_editable(config_settings))


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: ConfigSettings = None) -> str:
    return str(_backend().prepare_metadata_for_build_wheel(metadata_directory, config_settings))


def build_wheel(wheel_directory: str, config_settings: ConfigSettings = None,
                metadata_directory: Optional[str] = None) -> str:
    return str(_backend().build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(wheel_directory: str, config_settings: ConfigSettings = None,
                   metadata_directory: Optional[str] = None) -> str:
    return str(_backend().build_editable(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    # The C sources lie outside this folder: an sdist of python/ alone could
    # not build. Build wheels from the repository instead.
    raise RuntimeError("axlink: no sdist of python/ (the C project is the repository root); "
                       "build a wheel: pip wheel ./python, or python/build-wheel.sh")
