# SPDX-License-Identifier: MIT
"""End-to-end tests of `axlink monitor` against the real axlink-sim over UDP
on 127.0.11.10-19 (this file's range) and the in-process virtual drive.

Bounds on counts and periods are wide: they check that sampling happened and
was reported, not how well a loaded machine keeps time.
"""
import csv
import fcntl
import math
import os
import select
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

import pytest


def start_sim(*args):
    path = os.environ.get("AXLINK_SIM")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"AXLINK_SIM={path!r} must name the built axlink-sim binary")
    proc = subprocess.Popen([path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    uri = proc.stdout.readline().strip()  # printed once it serves
    if not uri.startswith("eth://"):
        proc.kill()
        pytest.fail(f"axlink-sim did not start: {uri!r} {proc.stderr.read()!r}")
    return proc, uri


def stop_sim(proc):
    proc.terminate()
    assert proc.wait(timeout=10) == 0, "axlink-sim must exit cleanly on SIGTERM"
    proc.stdout.close()
    proc.stderr.close()


@pytest.fixture(scope="module")
def sim_uri():
    proc, uri = start_sim("--eth", "127.0.11.10", "--serial", "6101")
    try:
        yield uri
    finally:
        stop_sim(proc)


def test_monitor_csv_header_and_rows(axlink, sim_uri, tmp_path):
    out = tmp_path / "out.csv"
    r = axlink("monitor", sim_uri, "CL_POS_FBK_VALUE", "DRV_ID_SERIAL_NUMBER",
               "--period-ms", "5", "--duration-s", "0.5", "--csv", out)
    assert r.code == 0, r
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t_s", "CL_POS_FBK_VALUE", "DRV_ID_SERIAL_NUMBER"]
    data = rows[1:]
    assert 30 <= len(data) <= 130, len(data)  # about 100 at 5 ms for 0.5 s
    times = [float(row[0]) for row in data]
    assert all(b > a for a, b in zip(times, times[1:]))
    assert all(len(row) == 3 and row[2] == "6101" for row in data)
    assert all(int(row[1]) == float(row[1]) for row in data)  # s32: written exactly
    # The summary on stderr names the counts.
    assert f"{len(data)} samples" in r.err, r
    assert " lost" in r.err and "achieved" in r.err, r


def test_monitor_json_summary(axlink, sim_uri):
    r = axlink("monitor", sim_uri, "CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE",
               "--period-ms", "2", "--duration-s", "0.4", "--json")
    assert r.code == 0, r
    j = r.json()
    assert 50 <= j["samples"] <= 400, j
    assert j["lost"] >= 0 and j["dropped"] == 0
    assert j["period_ms"] == 2.0
    assert 1.0 < j["achieved_period_ms"] < 20.0, j
    assert [c["register"] for c in j["channels"]] == ["CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"]
    assert all(c["errors"] == 0 for c in j["channels"])
    assert all(isinstance(c["last"], float) and math.isfinite(c["last"])
               for c in j["channels"])


def test_monitor_csv_to_stdout_virtual(axlink):
    r = axlink("monitor", "virtual:?serial=6102", "DRV_ID_SERIAL_NUMBER",
               "--period-ms", "10", "--duration-s", "0.2", "--csv", "-")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "t_s,DRV_ID_SERIAL_NUMBER"
    assert len(lines) > 5
    assert all(line.endswith(",6102") for line in lines[1:])


def test_monitor_lost_when_simulator_stalls(axlink, tmp_path):
    proc, uri = start_sim("--eth", "127.0.11.11", "--delay", "50")
    try:
        r = axlink("monitor", uri, "CL_POS_FBK_VALUE", "--period-ms", "5",
                   "--duration-s", "0.6", "--timeout-ms", "1000", "--json")
    finally:
        stop_sim(proc)
    assert r.code == 0, r
    j = r.json()
    assert j["lost"] >= 40, j  # about 108 of 120 periods
    assert j["samples"] <= 40, j
    assert j["achieved_period_ms"] > 30.0, j


def test_monitor_bad_register_fails_before_starting(axlink, sim_uri, tmp_path):
    out = tmp_path / "never.csv"
    r = axlink("monitor", sim_uri, "CL_POS_FBK_VALUE", "NO_SUCH_REGISTER",
               "--duration-s", "5", "--csv", out)
    assert r.code == 1, r
    assert "NO_SUCH_REGISTER" in r.err, r
    assert not out.exists()  # nothing written, nothing sampled


@pytest.mark.parametrize("args, what", [
    (["--period-ms", "0"], "--period-ms"),
    (["--period-ms", "abc"], "--period-ms"),
    (["--duration-s", "-1"], "--duration-s"),
    (["--duration-s", "nan"], "--duration-s"),
    (["--csv", "-", "--json"], "stdout"),
])
def test_monitor_bad_options(axlink, args, what):
    r = axlink("monitor", "virtual:", "CL_POS_FBK_VALUE", *args)
    assert r.code == 2, r
    assert what in r.err, r


def test_monitor_needs_a_register(axlink):
    r = axlink("monitor", "virtual:")
    assert r.code == 2, r
    assert "REGISTER" in r.err, r


def test_monitor_seventeen_registers_refused(axlink):
    r = axlink("monitor", "virtual:", *(["CL_POS_FBK_VALUE"] * 17), "--duration-s", "1")
    assert r.code == 2, r
    assert "at most 16" in r.err, r


def test_monitor_help(axlink):
    r = axlink("monitor", "--help")
    assert r.code == 0, r
    assert "--period-ms" in r.out and "t_s" in r.out


# ---- stopping: Ctrl-C is bounded --------------------------------------------

class Relay:
    """A UDP relay on @front (port 1061) to the simulator at @back that can
    go silent: once .silent is set, requests get neither an answer nor a
    port-unreachable, like a drive that hangs. Counts the reads of @address
    it passed on."""

    def __init__(self, front, back, address):
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind((front, 1061))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect((back, 1061))
        self.address = address
        self.reads = 0
        self.silent = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        client = None
        while not self.done.is_set():
            ready, _, _ = select.select([self.front, self.back], [], [], 0.05)
            if self.front in ready:
                data, client = self.front.recvfrom(2048)
                if not self.silent.is_set():
                    word = struct.unpack_from("<H", data, 2)[0] if len(data) >= 4 else 0
                    if (word >> 1) & 7 == 1 and word >> 4 == self.address:
                        self.reads += 1
                    self.back.send(data)
            if self.back in ready:
                data = self.back.recv(2048)
                if not self.silent.is_set() and client:
                    self.front.sendto(data, client)

    def close(self):
        self.done.set()
        self.thread.join(5)
        self.front.close()
        self.back.close()


# The request timeout of the hung-drive test: exiting in half of it is not waiting for it.
HUNG_TIMEOUT_S = 20


def popen_monitor(cli_path, axlink_env, *args, **kw):
    return subprocess.Popen([cli_path, "monitor", *map(str, args)], env=axlink_env, **kw)


def wait_pipe_full(proc, limit=30):
    """Wait until @proc's stdout pipe, which nobody reads, is full: the
    monitor then waits in a write (however slowly a loaded machine got it
    there). Fails if @proc exits or the pipe does not fill within @limit s."""
    fd = proc.stdout.fileno()
    size = fcntl.fcntl(fd, 1032)  # F_GETPIPE_SZ
    deadline = time.monotonic() + limit
    while True:
        assert proc.poll() is None, ("the monitor exited", proc.returncode)
        queued = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        if queued >= size:  # no room: the row it writes waits, and so do the next
            return
        assert time.monotonic() < deadline, f"the pipe holds {queued} of {size} bytes"
        time.sleep(0.02)


def wait_exit(proc, limit):
    """Seconds until @proc exits; fails (and kills it) past @limit."""
    t0 = time.monotonic()
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"axlink monitor still running {limit} s after the signal")
    return time.monotonic() - t0


def test_monitor_ctrl_c_with_a_hung_drive_is_prompt(cli_path, axlink_env, tmp_path):
    """A drive that stops answering, 4 registers, 20 s timeout: one sample
    would take 4 x 2 tries x 20 s. Ctrl-C must end it within a fraction of
    the read it interrupts, and the CSV and the summary must still be
    complete. (The timeout is long so that a loaded machine cannot be
    mistaken for a read that ran out.)"""
    proc_sim, _ = start_sim("--eth", "127.0.11.13", "--serial", "6113")
    relay = Relay("127.0.11.12", "127.0.11.13", 0x030)
    out = tmp_path / "hung.csv"
    regs = ["CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE", "DRV_ID_SERIAL_NUMBER",
            "DRV_STATE_STATUS"]
    proc = popen_monitor(cli_path, axlink_env, "eth://127.0.11.12", *regs, "--period-ms",
                         "20", "--timeout-ms", str(int(HUNG_TIMEOUT_S * 1000)), "--csv", out,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while relay.reads < 5:  # a few samples went through
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "monitor never sampled"
            time.sleep(0.02)
        relay.silent.set()
        time.sleep(0.5)  # now well inside a read that will not be answered
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        # Waiting for the read to time out would take 19.5 s more.
        took = wait_exit(proc, HUNG_TIMEOUT_S / 2)
        stdout, stderr = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        relay.close()
        stop_sim(proc_sim)
    assert took < HUNG_TIMEOUT_S / 2, f"exit took {took:.2f} s after SIGINT"
    assert proc.returncode == 0, (proc.returncode, stderr)
    text = out.read_text()
    assert text.endswith("\n"), text[-200:]
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["t_s", *regs]
    assert len(rows) >= 5, rows
    assert all(len(r) == 5 for r in rows[1:]), rows
    times = [float(r[0]) for r in rows[1:]]
    assert all(b > a for a, b in zip(times, times[1:]))
    assert rows[1][3] == "6113"
    assert f"{len(rows) - 1} samples" in stderr, stderr


def test_monitor_first_ctrl_c_finishes_the_csv_for_a_slow_reader(cli_path, axlink_env):
    """Rows to a pipe nobody reads yet: the first Ctrl-C must not cut the
    CSV (the writes go on once the reader reads), exit status 0."""
    proc = popen_monitor(cli_path, axlink_env, "virtual:?serial=6114",
                         "DRV_ID_SERIAL_NUMBER", "--period-ms", "0.1", "--csv", "-",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_pipe_full(proc)  # the monitor waits in a write
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, (proc.returncode, stderr)
    text = stdout.decode()
    lines = text.split("\n")
    assert lines[0] == "t_s,DRV_ID_SERIAL_NUMBER"
    assert lines[-1] == "", "the CSV must end with a whole row"
    assert len(lines) > 1000
    assert all(line.endswith(",6114") for line in lines[1:-1])
    assert b"samples" in stderr, stderr


def test_monitor_second_ctrl_c_exits_at_once(cli_path, axlink_env):
    """The reader never reads: after the first Ctrl-C the monitor still waits
    to write its rows; the second one exits at once with status 130."""
    proc = popen_monitor(cli_path, axlink_env, "virtual:?serial=6115",
                         "DRV_ID_SERIAL_NUMBER", "--period-ms", "0.1", "--csv", "-",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_pipe_full(proc)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None, "the first Ctrl-C finishes the CSV: it waits for the reader"
        proc.send_signal(signal.SIGINT)
        # Without the second Ctrl-C's exit it would wait for a reader forever.
        took = wait_exit(proc, 10)
        stderr = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert took < 10, took
    assert b"interrupted again" in stderr, stderr
