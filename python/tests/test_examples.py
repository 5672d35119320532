# SPDX-License-Identifier: MIT
"""The examples run against the simulator and print what they promise."""
import os
import subprocess
import sys
from pathlib import Path

from conftest import FAST, TWO_AXES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(*args):
    proc = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_examples__discover_table(sims):
    out = _run(EXAMPLES / "discover_table.py", f"eth://{FAST[0]},{FAST[1]},{TWO_AXES}")
    assert "6001" in out and "6002" in out and "axs-200" in out
    assert out.rstrip().endswith("3 drive(s) found")


def test_examples__registers(sims):
    out = _run(EXAMPLES / "registers.py", f"eth://{TWO_AXES}", "window")
    assert "serial number:  6010" in out
    assert "axis 2 max velocity: 20.0" in out
    assert "PROF_POS_WINDOW" in out and "Profile position" in out


def test_examples__registers_reports_errors_without_a_traceback(sims):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "registers.py"), "nosuch://x"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("PluginError: ") and "Traceback" not in proc.stderr


def test_examples__enable_and_move():
    out = _run(EXAMPLES / "enable_and_move.py", "virtual:?model=axs-200", 2)
    assert "enabled: operation_enabled" in out
    assert "at 2.000 rev" in out and "at 1.500 rev" in out
    assert "disabled: ready_to_switch_on" in out


def test_examples__plot_move(tmp_path):
    png = tmp_path / "move.png"
    proc = subprocess.run([sys.executable, str(EXAMPLES / "plot_move.py"),
                           "virtual:?model=axs-100", str(png)],
                          capture_output=True, text=True, timeout=60)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        # The optional dependency is missing: the example says how to get it.
        assert proc.returncode == 1
        assert "pip install matplotlib" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_examples__scope_move(tmp_path):
    """The drive's own capture of a move, plotted (matplotlib is a Debian package of CI)."""
    png = tmp_path / "scope.png"
    out = _run(EXAMPLES / "scope_move.py", "virtual:?model=axs-100", png)
    assert "2048 samples every 200 us" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv_out = tmp_path / "scope.csv"
    _run(EXAMPLES / "scope_move.py", "virtual:?model=axs-100", csv_out)
    rows = csv_out.read_text().splitlines()
    assert rows[0] == "t_s,CL_POS_FBK_VALUE,CL_VEL_FBK_VALUE" and len(rows) == 2049
