# SPDX-License-Identifier: MIT
"""Fixtures of the Python package's tests.

They run the real simulator (axlink-sim of a CMake build tree) on loopback
addresses 127.0.6.x (this suite's range) and the in-process `virtual:`
transport. ctest sets everything (python/CMakeLists.txt); by hand:

    AXLINK_BUILD_DIR=<build> PYTHONPATH=<build>/python \\
        /usr/bin/python3 -m pytest python/tests

The environment is made hermetic before axlink is imported: a home of the
suite's own (so the user database is a temporary one), no AXLINK_DB,
AXLINK_PLUGIN_PATH or AXLINK_LOG.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, List

import pytest

_HOME = tempfile.mkdtemp(prefix="axlink-pytest-home-")
os.environ["HOME"] = _HOME
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, ".local", "share")
for _var in ("AXLINK_DB", "AXLINK_PLUGIN_PATH", "AXLINK_LOG"):
    os.environ.pop(_var, None)

try:
    import axlink  # noqa: E402
except ImportError as e:  # say how to run the suite instead of 40 collection errors
    raise pytest.UsageError(
        f"cannot import the built axlink package: {e}\n"
        "Run through ctest, or set PYTHONPATH=<build>/python (CMake) or install it "
        "(pip install ./python).") from e

VENDOR = 0xA71C
AXS100 = (0x00010064, 0x00010002)  # product code, revision
AXS200 = (0x000100C8, 0x00010001)

# Drives of this suite (127.0.6.x):
#   .1-.3   axs-100, serials 6001..6003, answer normally
#   .10     axs-200 (2 axes), serial 6010
#   .20     drops every request (timeouts); .21 answers 300 ms late
#   .30     corrupts every reply
FAST = ["127.0.6.1", "127.0.6.2", "127.0.6.3"]
TWO_AXES = "127.0.6.10"
DEAD = "127.0.6.20"
SLOW = "127.0.6.21"
CORRUPT = "127.0.6.30"
NOBODY = "127.0.6.99"  # nothing listens there


def pytest_report_header(config: pytest.Config) -> str:
    return (f"axlink {axlink.LIBRARY_VERSION} (extension built against {axlink.BUILT_VERSION}) "
            f"from {os.path.dirname(axlink.__file__)}")


@pytest.fixture(scope="session")
def build_dir() -> Path:
    d = os.environ.get("AXLINK_BUILD_DIR")
    if not d or not os.path.isdir(d):
        pytest.fail(f"AXLINK_BUILD_DIR={d!r} must name the CMake build tree (for axlink-sim)")
    return Path(d)


@pytest.fixture(scope="session")
def devices_dir(build_dir: Path) -> Path:
    d = os.environ.get("AXLINK_DEVICES_DIR")
    if d:
        return Path(d)
    for line in (build_dir / "CMakeCache.txt").read_text().splitlines():
        if line.startswith("axlink_SOURCE_DIR:"):
            return Path(line.split("=", 1)[1]) / "devices"
    pytest.fail("cannot find devices/: set AXLINK_DEVICES_DIR")


def _sim_path(build_dir: Path) -> str:
    path = os.environ.get("AXLINK_SIM") or str(build_dir / "bin" / "axlink-sim")
    if not os.access(path, os.X_OK):
        pytest.fail(f"axlink-sim not found at {path!r}: build the tools, or set AXLINK_SIM")
    return path


class Sim:
    """One axlink-sim process; .uris are the URIs it printed."""

    def __init__(self, path: str, args: List[str], count: int) -> None:
        self.args = args
        self.proc = subprocess.Popen([path, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        # It prints one URI per drive once every socket is bound: no sleeping.
        self.uris = [self.proc.stdout.readline().strip() for _ in range(count)]
        if not all(u.startswith("eth://") for u in self.uris):
            self.proc.kill()
            err = self.proc.stderr.read()
            pytest.fail(f"axlink-sim {' '.join(args)} did not start: {self.uris!r} {err!r}")

    def stop(self) -> None:
        self.proc.terminate()
        rc = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert rc == 0, f"axlink-sim {' '.join(self.args)} must exit 0 on SIGTERM, got {rc}"


@pytest.fixture(scope="session")
def sims(build_dir: Path) -> Iterator[dict]:
    """Every simulated drive of the suite, started once."""
    path = _sim_path(build_dir)
    started = []
    try:
        started.append(Sim(path, ["--eth", FAST[0], "--count", "3", "--serial", "6001"], 3))
        started.append(Sim(path, ["--eth", TWO_AXES, "--model", "axs-200", "--serial", "6010"],
                           1))
        started.append(Sim(path, ["--eth", DEAD, "--drop", "100", "--serial", "6020"], 1))
        started.append(Sim(path, ["--eth", SLOW, "--delay", "300", "--serial", "6021"], 1))
        started.append(Sim(path, ["--eth", CORRUPT, "--corrupt", "100", "--serial", "6030"], 1))
        yield {"fast": started[0].uris, "two_axes": started[1].uris[0]}
    finally:
        for s in started:
            s.stop()


@pytest.fixture
def uri(sims: dict) -> str:
    """An axs-100 drive over UDP, serial 6001."""
    return f"eth://{FAST[0]}"


@pytest.fixture
def drive(uri: str) -> Iterator["axlink.Drive"]:
    with axlink.open(uri, timeout=1.0) as d:
        yield d


@pytest.fixture
def tmp_db(tmp_path: Path) -> Path:
    return tmp_path / "devices.db"


@pytest.fixture
def copy_xdf(devices_dir: Path, tmp_path: Path):
    def copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copy(devices_dir / name, dst)
        return dst
    return copy
