# SPDX-License-Identifier: MIT
# Types of _build_info.py, which the build writes (ffi_build.build_info()).
VERSION: str
LIBRARY_DIR: str
INCLUDE_DIR: str
FOUND_THROUGH: str
