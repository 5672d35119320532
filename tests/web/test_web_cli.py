# SPDX-License-Identifier: MIT
"""`axlink web` of the C command line: it runs the Python package's console,
and says what is missing when it cannot."""
from __future__ import annotations

import os
import shutil
import subprocess

from conftest import _need


def run(args, env=None, cli=None, cwd=None):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([cli or _need("AXLINK_CLI"), *args], capture_output=True, text=True,
                          timeout=30, env=full, check=False, cwd=cwd)


def test_web_cli__help_comes_from_the_python_console():
    p = run(["web", "--help"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: axlink web") and "--allow-remote" in p.stdout
    assert "web" in run(["--help"]).stdout
    h = run(["help", "web"])
    assert h.returncode == 0 and "axlink[web]" in h.stdout


def test_web_cli__a_remote_bind_needs_allow_remote():
    p = run(["web", "--bind", "0.0.0.0", "--port", "0"])
    assert p.returncode == 2
    assert "--allow-remote" in p.stderr


def test_web_cli__names_a_missing_interpreter():
    p = run(["web"], env={"AXLINK_PYTHON": "/nonexistent/python3"})
    assert p.returncode == 1
    assert "/nonexistent/python3" in p.stderr and "AXLINK_PYTHON" in p.stderr


def test_web_cli__names_a_python_without_the_package(tmp_path):
    # A copy of the binary outside the build tree does not find <build>/python,
    # and an interpreter without site-packages (-S), run in a folder without
    # the package, has no axlink whatever this machine installed.
    cli = tmp_path / "bin" / "axlink"
    cli.parent.mkdir()
    shutil.copy2(_need("AXLINK_CLI"), cli)
    bare = tmp_path / "python-bare"
    bare.write_text("#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n")
    bare.chmod(0o755)
    lib = os.path.join(os.path.dirname(_need("AXLINK_CLI")), "..", "lib")
    p = run(["web"], cli=str(cli), env={"PYTHONPATH": "", "AXLINK_PYTHON": str(bare),
                                        "LD_LIBRARY_PATH": lib}, cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    assert "cannot import the Python package axlink (No module named 'axlink')" in p.stderr
    assert "pip install \"axlink[web]\"" in p.stderr


def test_web_cli__names_the_missing_web_extra(tmp_path):
    (tmp_path / "uvicorn.py").write_text("raise ImportError('simulated: not installed')\n")
    p = run(["web"], env={"PYTHONPATH": f"{tmp_path}:{os.environ.get('PYTHONPATH', '')}"})
    assert p.returncode == 1
    assert "web extra is not installed (missing: uvicorn)" in p.stderr


def test_web_cli__json_is_refused():
    p = run(["web", "--json"])
    assert p.returncode == 2 and "no --json" in p.stderr
