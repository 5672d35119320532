# SPDX-License-Identifier: MIT
"""The developer shortcut of `pip install ./python`, used only when
AXLINK_BUILD_DIR names a configured CMake build tree (build_backend.py picks
setuptools then; otherwise scikit-build-core builds the whole project).
Metadata lives in pyproject.toml.

The extension comes from ffi_build.py (cffi out-of-line API mode, its
declarations generated from the library's headers), linked to the build
tree's libaxlink with an rpath into it. build_py also writes
axlink/_build_info.py, so an import failure can say which library the
extension was built against, and the console scripts find the tree's tools.
"""
import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ffi_build  # noqa: E402

try:
    _LIB = ffi_build.locate_library()
except ffi_build.BuildConfigError as e:
    sys.exit(f"axlink: {e}")


class build_py_with_info(build_py):
    def run(self):
        super().run()
        path = os.path.join(self.build_lib, "axlink", "_build_info.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(ffi_build.build_info(_LIB))


setup(
    version=ffi_build.library_version(_LIB),
    cffi_modules=["ffi_build.py:ffibuilder_from_env"],
    cmdclass={"build_py": build_py_with_info},
)
