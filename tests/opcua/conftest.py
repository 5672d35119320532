# SPDX-License-Identifier: MIT
"""Fixtures of the OPC UA gateway's tests: simulated drives on 127.0.31.x
(this suite's range), one `axlink opcua` process serving them on a free
loopback port, and asyncua clients (anonymous and a user's).

Run through ctest (label opcua; needs the python extras, see .ci/deps.sh):
the interpreter is one where asyncua is installed, the package and
axlink-sim come from the build tree (PYTHONPATH, AXLINK_SIM).
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterator, List, TypeVar

import pytest

_HOME = tempfile.mkdtemp(prefix="axlink-opcua-home-")
os.environ["HOME"] = _HOME
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, ".local", "share")
for _var in ("AXLINK_DB", "AXLINK_PLUGIN_PATH", "AXLINK_LOG"):
    os.environ.pop(_var, None)

from asyncua import Client  # noqa: E402

NET = "eth://127.0.31.0/28"
STEADY = "127.0.31.1"   # axs-100 x2, serials 7001, 7002
LEAVING = "127.0.31.9"  # axs-100 serial 7009, killed by the hot-plug test
USER, PASSWORD = "operator", "s3cret-pass"

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def _sim() -> str:
    path = os.environ.get("AXLINK_SIM", "")
    if not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim")
    return path


class Sim:
    def __init__(self, args: List[str], count: int) -> None:
        self.proc = subprocess.Popen([_sim(), *args], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.uris = [self.proc.stdout.readline().strip() for _ in range(count)]
        assert all(u.startswith("eth://") for u in self.uris), self.uris

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture(scope="session")
def sims() -> Iterator[Dict[str, Sim]]:
    out = {"steady": Sim(["--eth", STEADY, "--count", "2", "--serial", "7001"], 2),
           "leaving": Sim(["--eth", LEAVING, "--serial", "7009"], 1)}
    yield out
    for s in out.values():
        s.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gateway_cmd(*args: str) -> List[str]:
    return [sys.executable, "-m", "axlink.opcua", *args]


def axlink_opcua_cmd(*args: str) -> List[str]:
    """The same through the command line tool (it runs AXLINK_PYTHON on
    axlink.opcua): ``axlink opcua ARGS``."""
    os.environ["AXLINK_PYTHON"] = sys.executable
    return [os.path.join(os.path.dirname(_sim()), "axlink"), "opcua", *args]


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    line = subprocess.run(gateway_cmd("--hash-password", USER), input=PASSWORD + "\n",
                          capture_output=True, text=True, check=True).stdout.strip()
    assert line.startswith(f"{USER}:scrypt$"), line
    path = tmp_path_factory.mktemp("opcua") / "users"
    path.write_text(f"# who may write\n{line}\n")
    return path


class Gateway:
    def __init__(self, endpoint: str, proc: "subprocess.Popen[str]") -> None:
        self.endpoint = endpoint
        self.proc = proc

    def url_as(self, user: str, password: str) -> str:
        return self.endpoint.replace("opc.tcp://", f"opc.tcp://{user}:{password}@")


@pytest.fixture(scope="session")
def gateway(sims: Dict[str, Sim], users_file: Path) -> Iterator[Gateway]:
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}"
    proc = subprocess.Popen(axlink_opcua_cmd("--endpoint", endpoint, "--users", str(users_file),
                                             "--period-ms", "300", NET),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving on"):
        proc.kill()
        pytest.fail(f"axlink opcua did not start: {line!r} {proc.stderr.read()!r}")
    gw = Gateway(endpoint, proc)
    run(wait_for(lambda: drive_names(gw.endpoint), lambda names: len(names) == 3, 15.0))
    yield gw
    proc.terminate()
    rc = proc.wait(timeout=15)
    err = proc.stderr.read() if proc.stderr else ""
    assert rc == 0, f"axlink opcua must exit 0 on SIGTERM, got {rc}: {err}"


async def drive_names(endpoint: str) -> List[str]:
    async with Client(endpoint) as c:
        folder = await drives_folder(c)
        # One Browse: names and nodes from the same moment.
        return sorted(r.BrowseName.Name for r in await folder.get_children_descriptions())


async def drives_folder(c: Client) -> Any:
    ns = await c.get_namespace_index("urn:axlink:drives")
    return await c.nodes.objects.get_child([f"{ns}:Drives"])


async def child(c: Client, node: Any, *path: str) -> Any:
    ns = await c.get_namespace_index("urn:axlink:drives")
    return await node.get_child([f"{ns}:{p}" for p in path])


async def wait_for(get: Callable[[], Awaitable[T]], ok: Callable[[T], bool],
                   timeout: float) -> T:
    end = time.monotonic() + timeout
    while True:
        value = await get()
        if ok(value):
            return value
        if time.monotonic() > end:
            raise AssertionError(f"still {value!r} after {timeout} s")
        await asyncio.sleep(0.2)
