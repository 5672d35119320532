# SPDX-License-Identifier: MIT
"""Fixtures for the end-to-end tests of the axlink command line.

ctest passes the binary in AXLINK_CLI (tests/CMakeLists.txt). To run by hand:
    AXLINK_CLI=<build>/bin/axlink /usr/bin/python3 -m pytest tests/cli
"""
import json
import os
import subprocess

import pytest

# Generous: a CLI call opens an in-process virtual drive, which takes milliseconds.
# A hang (waiting on a bus, a lock) must fail the test, not stall ctest.
TIMEOUT_S = 30


class Result:
    def __init__(self, args, proc):
        self.args = args
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        """stdout as JSON; fails the test with both streams when it is not."""
        try:
            return json.loads(self.out)
        except ValueError as e:
            pytest.fail(f"axlink {' '.join(self.args)}: stdout is not JSON ({e})\n"
                        f"stdout: {self.out!r}\nstderr: {self.err!r}")

    def no_result(self):
        """A failure's stdout: nothing, or with --json exactly the error object
        {"error": {code, name, class, message, exit_status}} of this exit."""
        if "--json" not in [str(a) for a in self.args]:
            return self.out == ""
        try:
            doc = json.loads(self.out)
        except ValueError:
            return False
        e = doc.get("error") if isinstance(doc, dict) else None
        return (list(doc) == ["error"] and isinstance(e, dict)
                and list(e) == ["code", "name", "class", "message", "exit_status"]
                and isinstance(e["code"], int) and e["code"] < 0
                and isinstance(e["class"], str) and e["class"].startswith("AX_ERRCLASS_")
                and isinstance(e["message"], str) and e["message"] != ""
                and e["exit_status"] == self.code)

    def __repr__(self):
        return (f"axlink {' '.join(self.args)} -> exit {self.code}\n"
                f"stdout: {self.out!r}\nstderr: {self.err!r}")


@pytest.fixture(scope="session")
def cli_path():
    path = os.environ.get("AXLINK_CLI")
    if not path:
        pytest.fail("AXLINK_CLI is not set: point it at the built axlink binary")
    if not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_CLI={path!r} is not an executable file")
    return path


@pytest.fixture
def axlink_env(tmp_path):
    """The environment axlink runs in: hermetic, with a home of its own.

    HOME and XDG_DATA_HOME point into the test's tmp folder, so the user
    database (XDG_DATA_HOME/axlink/devices.db) is the test's, never the real
    one; AXLINK_DB is unset unless a test sets it."""
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    # Hermetic: only the build tree's plugins and databases, the default log level.
    env.pop("AXLINK_PLUGIN_PATH", None)
    env.pop("AXLINK_DB", None)
    env["AXLINK_LOG"] = "warn"
    env["HOME"] = str(home)
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    return env


@pytest.fixture
def axlink(cli_path, axlink_env):
    """Run axlink with the given arguments; returns a Result.

    env= adds or overrides variables for one call; cli= runs another copy of
    the binary. run.user_db is where this test's user database lives."""

    def run(*args, env=None, cli=None):
        args = [str(a) for a in args]
        full_env = dict(axlink_env)
        full_env.update(env or {})
        proc = subprocess.run([cli or cli_path, *args], capture_output=True, text=True,
                              timeout=TIMEOUT_S, env=full_env, check=False)
        return Result(args, proc)

    run.env = axlink_env
    run.user_db = os.path.join(axlink_env["XDG_DATA_HOME"], "axlink", "devices.db")
    return run


@pytest.fixture(scope="module")
def sim_drives():
    """Three simulated drives over UDP on 127.0.3.1-3 (this file's range),
    serials 9001.., from the real axlink-sim; yields their URIs."""
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, "--eth", "127.0.3.1", "--count", "3", "--serial", "9001"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The simulator prints one URI per drive once it serves: no sleeping.
        uris = [proc.stdout.readline().strip() for _ in range(3)]
        if not all(u.startswith("eth://") for u in uris):
            proc.kill()
            pytest.fail(f"axlink-sim did not start: {uris!r} {proc.stderr.read()!r}")
        yield uris
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
        proc.stdout.close()
        proc.stderr.close()
