# SPDX-License-Identifier: MIT
"""axlink store | restore against the real simulator, restarted on its
--state-dir as a drive is power-cycled (127.0.3.181, serial 9181)."""
import os
import subprocess

import pytest

ADDR = "127.0.3.181"
URI = f"eth://{ADDR}"
SERIAL = "9181"


class SimProc:
    def __init__(self, state_dir, *extra):
        path = os.environ.get("AXLINK_SIM")
        if not path or not os.access(path, os.X_OK):
            pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
        self.args = [path, "--eth", ADDR, "--serial", SERIAL, *extra]
        if state_dir is not None:
            self.args += ["--state-dir", str(state_dir)]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().strip()
        if line != f"{URI}:1061":
            self.proc.kill()
            pytest.fail(f"axlink-sim did not start: {line!r} {self.proc.stderr.read()!r}")

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert rc == 0, "axlink-sim must exit cleanly on SIGTERM"


@pytest.fixture
def power(tmp_path):
    """power() starts the simulator on this test's state folder ("power on"),
    stopping the one before; the last one is stopped at the end."""
    running = []

    def cycle(*extra, state_dir=tmp_path):
        while running:
            running.pop().stop()
        running.append(SimProc(state_dir, *extra))
    yield cycle
    while running:
        running.pop().stop()


def read(axlink, reg, *args):
    r = axlink("read", URI, reg, *args)
    assert r.code == 0, r
    return r.out.split()[0]  # the value; text output adds its units


def test_store_survives_restart_and_restore_brings_defaults(axlink, power, tmp_path):
    power()
    assert read(axlink, "PROF_MAX_VEL") == "10"
    for reg, value in (("PROF_MAX_VEL", "33.5"), ("PROF_MAX_ACC", "250"),
                       ("COMMS_WATCHDOG_TIMEOUT", "500")):
        r = axlink("write", URI, reg, value)
        assert r.code == 0, r
    r = axlink("store", URI)
    assert r.code == 0, r
    assert r.out == f"stored: {URI} (communication core and every axis)\n"
    assert (tmp_path / f"{SERIAL}.nvm").is_file()

    power()  # a power cycle: what was stored is in use
    assert read(axlink, "PROF_MAX_VEL") == "33.5"
    assert read(axlink, "PROF_MAX_ACC") == "250"
    assert read(axlink, "COMMS_WATCHDOG_TIMEOUT") == "500"

    r = axlink("restore", URI, "--json")
    assert r.code == 0, r
    assert r.json() == {"uri": URI, "operation": "restore", "subnode": None}
    assert read(axlink, "PROF_MAX_VEL") == "10"
    power()
    assert read(axlink, "PROF_MAX_VEL") == "10"
    assert read(axlink, "COMMS_WATCHDOG_TIMEOUT") == "0"


def test_store_one_axis(axlink, power):
    power()
    assert axlink("write", URI, "PROF_MAX_VEL", "21").code == 0
    assert axlink("write", URI, "COMMS_WATCHDOG_TIMEOUT", "700").code == 0
    r = axlink("store", URI, "--axis", "1", "--json")
    assert r.code == 0, r
    assert r.json() == {"uri": URI, "operation": "store", "subnode": 1}
    power()
    assert read(axlink, "PROF_MAX_VEL") == "21"
    assert read(axlink, "COMMS_WATCHDOG_TIMEOUT") == "0"  # the core was not stored


def test_without_state_dir_nothing_survives(axlink, power):
    power(state_dir=None)
    assert axlink("write", URI, "PROF_MAX_VEL", "21").code == 0
    assert axlink("store", URI).code == 0
    power(state_dir=None)
    assert read(axlink, "PROF_MAX_VEL") == "10"


def test_refusal_names_register(axlink, power):
    power("--quirk", "store-needs-disabled")
    assert axlink("enable", URI).code == 0
    r = axlink("store", URI)
    assert r.code == 1, r
    assert r.out == ""
    assert "refused DRV_STORE_COCO_ALL (subnode 0): error 0x08000022" in r.err, r
    assert axlink("disable", URI).code == 0
    assert axlink("store", URI).code == 0


def test_usage_errors(axlink, power):
    power()
    r = axlink("store", URI, "--axis", "16")
    assert r.code == 2 and "--axis '16'" in r.err, r
    r = axlink("store", URI, "--axis", "2")
    assert r.code == 1 and "subnode 2" in r.err, r
    r = axlink("restore", URI, "--axis", "1")
    assert r.code == 1 and "no DRV_RESTORE_MOCO_ALL on subnode 1" in r.err, r


def test_bad_state_file_stops_simulator(tmp_path):
    (tmp_path / f"{SERIAL}.nvm").write_text("model axs-200\n")
    proc = subprocess.run([os.environ["AXLINK_SIM"], "--eth", ADDR, "--serial", SERIAL,
                           "--state-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=30, check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"{SERIAL}.nvm:1: stored by another model" in proc.stderr
    proc = subprocess.run([os.environ["AXLINK_SIM"], "--eth", ADDR,
                           "--state-dir", str(tmp_path / "missing")], capture_output=True,
                          text=True, timeout=30, check=False)
    assert proc.returncode == 1
    assert "--state-dir" in proc.stderr and "No such file" in proc.stderr
