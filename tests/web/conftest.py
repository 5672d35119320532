# SPDX-License-Identifier: MIT
"""Fixtures of the browser tests of the console (axlink web).

A real headless Chromium (Debian's chromium and chromium-driver) driven by
selenium opens the console that the C command line starts (`axlink web`,
which runs the Python package's server), over simulated drives of the
real axlink-sim on 127.0.24.x (this suite's range). ctest sets everything
(python/CMakeLists.txt); by hand:

    AXLINK_BUILD_DIR=<build> AXLINK_CLI=<build>/bin/axlink \\
        AXLINK_SIM=<build>/bin/axlink-sim /usr/bin/python3 -m pytest tests/web
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, List

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FAST = "127.0.24.1"  # axs-100 x2, serials 8001, 8002
HOT = "127.0.24.5"   # axs-100, serial 8005: killed by a test
SPECS = [f"eth://{FAST}", "eth://127.0.24.2", f"eth://{HOT}"]


def _need(var: str) -> str:
    """The path in environment variable @var, which must be an executable."""
    v = os.environ.get(var)
    if not v or not os.access(v, os.X_OK):
        pytest.fail(f"{var}={v!r} must name the built binary")
    return v


class Sim:
    def __init__(self, args: List[str], count: int) -> None:
        self.proc = subprocess.Popen([_need("AXLINK_SIM"), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        # It prints one URI per drive once it serves: no sleeping.
        self.uris = [self.proc.stdout.readline().strip() for _ in range(count)]
        if not all(u.startswith("eth://") for u in self.uris):
            self.proc.kill()
            pytest.fail(f"axlink-sim {args} did not start: {self.proc.stderr.read()!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture(scope="session")
def build_dir() -> Path:
    d = os.environ.get("AXLINK_BUILD_DIR")
    if not d or not os.path.isdir(d):
        pytest.fail(f"AXLINK_BUILD_DIR={d!r} must name the CMake build tree")
    return Path(d)


@pytest.fixture(scope="session")
def sims() -> Iterator[dict]:
    fast = Sim(["--eth", FAST, "--count", "2", "--serial", "8001"], 2)
    hot = Sim(["--eth", HOT, "--serial", "8005"], 1)
    try:
        yield {"fast": fast, "hot": hot}
    finally:
        fast.stop()
        hot.stop()


@pytest.fixture(scope="session")
def console(sims: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`axlink web` of the C command line on a free port; yields its URL."""
    home = tmp_path_factory.mktemp("home")
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "share"))
    env.pop("AXLINK_PLUGIN_PATH", None)
    env.pop("AXLINK_DB", None)
    proc = subprocess.Popen([_need("AXLINK_CLI"), "web", "--port", "0", "--scan-period-ms",
                             "200", "--misses", "1", "--timeout-ms", "500", *SPECS],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if "serving http://127.0.0.1:" not in line:
        proc.kill()
        pytest.fail(f"axlink web did not start: {line!r} {proc.stderr.read()!r}")
    try:
        yield line.split()[-1]
    finally:
        proc.terminate()
        rc = proc.wait(timeout=10)
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        assert rc == 0, f"axlink web exited {rc} on SIGTERM: {err}"


@pytest.fixture(scope="session")
def downloads() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="axlink-web-dl-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(console: str, downloads: Path) -> Iterator[webdriver.Chrome]:
    """Headless Chromium (as root: no sandbox) on the console's page."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1250", "--disable-extensions", "--no-first-run"):
        opts.add_argument(a)
    b = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        b.execute_cdp_cmd("Browser.setDownloadBehavior",
                          {"behavior": "allow", "downloadPath": str(downloads)})
        b.get(console)
        yield b
    finally:
        b.quit()
