# SPDX-License-Identifier: MIT
"""The out-of-tree `tcp` transport (examples/transport-tcp) against the
installed axlink-sim --tcp, through the installed axlink command line and a
program linked to the installed libaxlink (tests/sdk/client).

tests/sdk/run.sh sets up the install and the builds, then runs this file
with:
    AXLINK_SDK_PREFIX      the temporary install prefix
    AXLINK_SDK_PLUGIN_DIR  the example's build folder (holds the plugin)
    AXLINK_SDK_SESSION     the session program (tests/sdk/client)
Loopback range of these tests: 127.0.5.x.
"""
import json
import os
import random
import re
import select
import socket
import struct
import subprocess
import threading
import time

import pytest

# Every call is bounded: a hang must fail the test, never stall ctest.
CALL_TIMEOUT_S = 20


def env_path(name):
    value = os.environ.get(name)
    if not value or not os.path.exists(value):
        pytest.fail(f"{name}={value!r}: run this file through tests/sdk/run.sh")
    return value


@pytest.fixture(scope="session")
def prefix():
    return env_path("AXLINK_SDK_PREFIX")


@pytest.fixture(scope="session")
def plugin_dir():
    return env_path("AXLINK_SDK_PLUGIN_DIR")


@pytest.fixture
def run_env(tmp_path, plugin_dir):
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    env.pop("AXLINK_DB", None)
    env["AXLINK_PLUGIN_PATH"] = plugin_dir
    env["AXLINK_LOG"] = "warn"
    env["HOME"] = str(home)
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    return env


class Result:
    def __init__(self, args, proc, elapsed):
        self.args, self.code, self.out, self.err = args, proc.returncode, proc.stdout, proc.stderr
        self.elapsed = elapsed

    def __repr__(self):
        return (f"{' '.join(self.args)} -> exit {self.code} in {self.elapsed:.2f} s\n"
                f"stdout: {self.out!r}\nstderr: {self.err!r}")


@pytest.fixture
def axlink(prefix, run_env):
    """Run the installed axlink."""
    def run(*args):
        args = [str(a) for a in args]
        t0 = time.monotonic()
        proc = subprocess.run([os.path.join(prefix, "bin", "axlink"), *args],
                              capture_output=True, text=True, timeout=CALL_TIMEOUT_S,
                              env=run_env, check=False)
        return Result(["axlink", *args], proc, time.monotonic() - t0)
    return run


class Sim:
    """One installed axlink-sim process and the URIs it printed."""

    def __init__(self, prefix, args, n_uris):
        self.args = [os.path.join(prefix, "bin", "axlink-sim"), *map(str, args)]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        # It prints one URI per drive once it serves: no sleeping.
        self.uris = [self.proc.stdout.readline().strip() for _ in range(n_uris)]
        if not all(u.startswith(("tcp://", "eth://")) for u in self.uris):
            self.proc.kill()
            err = self.proc.stderr.read()
            self.close()
            pytest.fail(f"axlink-sim {args} did not start: {self.uris!r} {err!r}")

    def stop(self, sig=None):
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
                assert self.proc.wait(timeout=10) == 0, "axlink-sim must exit 0 on SIGTERM"
            else:
                self.proc.send_signal(sig)
                self.proc.wait(timeout=10)
        self.close()

    def close(self):
        for f in (self.proc.stdout, self.proc.stderr):
            if f and not f.closed:
                f.close()


@pytest.fixture
def sim(prefix):
    """sim(*args, n=1): start axlink-sim with args; stopped after the test."""
    started = []

    def start(*args, n=1):
        s = Sim(prefix, args, n)
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


def hostport(uri):
    m = re.fullmatch(r"tcp://([0-9.]+):([0-9]+)", uri)
    assert m, f"not a tcp://ADDR:PORT URI: {uri!r}"
    return m.group(1), int(m.group(2))


# ---- MCB frames, for the raw-socket tests (DESIGN.md §5) ----

def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def frame(subnode, command, address, value=b"", extended=False):
    head = struct.pack("<HH", (0xA << 4) | subnode, (address << 4) | (command << 1) | extended)
    head += value[:8].ljust(8, b"\0")
    return head + struct.pack("<H", crc16(head))


def read_request(subnode, address):
    return frame(subnode, 1, address)


def recv_exact(sock, n, timeout=5):
    sock.settimeout(timeout)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def reply_u32(data):
    assert len(data) == 14, f"reply of {len(data)} bytes: {data.hex()}"
    assert crc16(data[:12]) == struct.unpack("<H", data[12:14])[0], "reply CRC"
    w1 = struct.unpack("<H", data[2:4])[0]
    assert (w1 >> 1) & 7 == 3, f"not an ack: {data.hex()}"
    return struct.unpack("<I", data[4:8])[0]


def closed_by_peer(sock, timeout=5):
    """True when the peer closes the connection within timeout."""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def installed_abi(prefix):
    text = open(os.path.join(prefix, "include", "axlink", "plugin.h")).read()
    major = re.search(r"#define AX_PLUGIN_ABI_MAJOR (\d+)", text).group(1)
    minor = re.search(r"#define AX_PLUGIN_ABI_MINOR (\d+)", text).group(1)
    return f"{major}.{minor}"


# ---- loading ----

def test_tcp__plugins_lists_it_loaded(axlink, prefix, plugin_dir):
    r = axlink("plugins", "--json")
    assert r.code == 0, r
    rows = [row for row in json.loads(r.out) if row["scheme"] == "tcp"]
    assert len(rows) == 1, r
    row = rows[0]
    assert row["status"] == "loaded", row
    assert os.path.realpath(row["path"]) == os.path.realpath(
        os.path.join(plugin_dir, "axlink-transport-tcp.so")), row
    assert row["abi"] == installed_abi(prefix), row
    assert row["message"] is None, row  # absent: null (issue 20)
    # The installed library finds its own transports beside itself, not the build tree's.
    own = [r for r in json.loads(r.out) if r["scheme"] in ("eth", "virtual")]
    assert len(own) == 2, r
    for row in own:
        assert row["status"] == "loaded", row
        assert os.path.realpath(row["path"]).startswith(os.path.realpath(prefix) + os.sep), row


# ---- reads and writes ----

def test_tcp__reads_identity(axlink, sim):
    drive = sim("--tcp", "127.0.5.1:0", "--serial", "5101")
    uri = drive.uris[0]
    assert hostport(uri)[0] == "127.0.5.1" and hostport(uri)[1] != 0

    r = axlink("read", uri, "0x6E6:u32", "--subnode", "0")
    assert r.code == 0 and r.out.strip() == "5101", r
    # The same model in process, through the installed virtual transport, as the reference.
    for reg in ("0x6E1:u32", "0x6E0:u32", "0x6E4:str"):
        over_tcp = axlink("read", uri, reg, "--subnode", "0")
        local = axlink("read", "virtual:?model=axs-100", reg, "--subnode", "0")
        assert over_tcp.code == 0 and local.code == 0, (over_tcp, local)
        assert over_tcp.out == local.out, (over_tcp, local)
    # 0x6E4 is longer than 8 bytes: its reply is an extended frame.
    assert len(axlink("read", uri, "0x6E4:str", "--subnode", "0").out.strip()) > 8


def test_tcp__write_read_round_trip(axlink, sim):
    uri = sim("--tcp", "127.0.5.1:0").uris[0]
    rng = random.Random()
    for reg, value in (("0x451:s32", rng.randint(-2**31, 2**31 - 1)),
                       ("0x388:u32", rng.randint(1, 2**32 - 1)),
                       ("0x025:float", rng.randint(1, 1000) / 4)):
        w = axlink("write", uri, reg, "--", value)
        assert w.code == 0, w
        r = axlink("read", uri, reg, "--json")
        assert r.code == 0, r
        assert json.loads(r.out)["value"] == value, (reg, value, r)


def test_tcp__register_by_name_uses_the_installed_database(axlink, sim, prefix):
    uri = sim("--tcp", "127.0.5.1:0", "--serial", "5151").uris[0]
    r = axlink("read", uri, "DRV_ID_SERIAL_NUMBER_COCO", "--json", "-vv")
    assert r.code == 0, r
    assert json.loads(r.out)["value"] == 5151, r
    # The identity read over tcp found its dictionary in the installed devices.db.
    db = os.path.join(os.path.realpath(prefix), "share", "axlink", "devices.db")
    assert re.search(r"resolved .* from " + re.escape(db), r.err), r


def test_tcp__drive_error_reply_is_reported(axlink, sim):
    uri = sim("--tcp", "127.0.5.1:0").uris[0]
    r = axlink("read", uri, "0x999:u32")
    assert r.code == 1, r
    assert "0x06020000" in r.err and uri in r.err, r


def test_tcp__several_drives(axlink, sim):
    uris = sim("--tcp", "127.0.5.2:0", "--tcp", "127.0.5.3:0", "--serial", "700", n=2).uris
    assert [hostport(u)[0] for u in uris] == ["127.0.5.2", "127.0.5.3"]
    serials = [axlink("read", u, "0x6E6:u32", "--subnode", "0").out.strip() for u in uris]
    assert serials == ["700", "701"]


# ---- the simulator's TCP front-end, from raw sockets ----

def test_tcp__sim_serves_clients_and_pipelined_requests(sim):
    host, port = hostport(sim("--tcp", "127.0.5.4:0", "--serial", "4242").uris[0])
    a = socket.create_connection((host, port), timeout=5)
    b = socket.create_connection((host, port), timeout=5)
    try:
        # Two requests in one segment: two replies, in order, on the same connection.
        a.sendall(read_request(0, 0x6E6) + read_request(0, 0x6E6))
        b.sendall(read_request(0, 0x6E6))
        assert reply_u32(recv_exact(b, 14)) == 4242
        assert reply_u32(recv_exact(a, 14)) == 4242
        assert reply_u32(recv_exact(a, 14)) == 4242
        # A frame split over several segments is put back together.
        req = read_request(0, 0x6E6)
        for i in range(0, 14, 5):
            b.sendall(req[i:i + 5])
            time.sleep(0.01)
        assert reply_u32(recv_exact(b, 14)) == 4242
    finally:
        a.close()
        b.close()


def test_tcp__garbage_closes_only_that_connection(axlink, sim):
    drive = sim("--tcp", "127.0.5.4:0", "--serial", "4243")
    host, port = hostport(drive.uris[0])
    good = socket.create_connection((host, port), timeout=5)
    bad = socket.create_connection((host, port), timeout=5)
    huge = socket.create_connection((host, port), timeout=5)
    try:
        bad.sendall(b"\xde\xad\xbe\xef" * 4)
        assert closed_by_peer(bad), "garbage must close the connection that sent it"
        # An extended header (valid CRC) declaring more than AX_MCB_MAX_PAYLOAD bytes.
        huge.sendall(frame(0, 2, 0x0B4, struct.pack("<Q", 100000), extended=True))
        assert closed_by_peer(huge), "an oversized extended frame must close its connection"
        good.sendall(read_request(0, 0x6E6))
        assert reply_u32(recv_exact(good, 14)) == 4243
        r = axlink("read", drive.uris[0], "0x6E6:u32", "--subnode", "0")
        assert r.code == 0 and r.out.strip() == "4243", r
    finally:
        for s in (good, bad, huge):
            s.close()
    assert drive.proc.poll() is None, "garbage must not stop the simulator"


# Client connections one simulator serves at once (TCP_MAX_CONNS in tools/sim/frontend_tcp.c).
SIM_MAX_CONNS = 64


def test_tcp__sim_gives_the_longest_idle_slot_to_a_newcomer(sim):
    uris = sim("--tcp", "127.0.5.4:0", "--tcp", "127.0.5.5:0", n=2).uris
    ends = [hostport(u) for u in uris]
    socks = []
    try:
        # The limit is shared by the drives of one simulator; socks[0] is idle longest.
        for i in range(SIM_MAX_CONNS):
            s = socket.create_connection(ends[i % 2], timeout=5)
            s.sendall(read_request(0, 0x6E6))
            assert len(recv_exact(s, 14)) == 14
            socks.append(s)
        extra = socket.create_connection(ends[0], timeout=5)
        socks.append(extra)
        extra.sendall(read_request(0, 0x6E6))
        assert len(recv_exact(extra, 14)) == 14, "a client over the limit must be served"
        assert closed_by_peer(socks[0]), "the longest idle connection gives up its slot"
        # Everybody else keeps theirs.
        for s in socks[1:]:
            s.sendall(read_request(0, 0x6E6))
            assert len(recv_exact(s, 14)) == 14
    finally:
        for s in socks:
            s.close()


def test_tcp__sim_turns_away_a_newcomer_when_every_client_waits(sim):
    """Connections owed a (held back) reply are never evicted: then a client
    over the limit is closed at once rather than left waiting."""
    # Replies 20 s late: none is due while the test runs, even when a full
    # backlog makes some connects wait for a SYN to be sent again.
    host, port = hostport(sim("--tcp", "127.0.5.7:0", "--delay", "20000",
                              "--serial", "4250").uris[0])
    socks = []
    try:
        for _ in range(SIM_MAX_CONNS):
            s = socket.create_connection((host, port), timeout=10)
            s.sendall(read_request(0, 0x6E6))
            socks.append(s)
        time.sleep(0.5)  # every request has arrived; none is answered yet
        extra = socket.create_connection((host, port), timeout=10)
        try:
            assert closed_by_peer(extra, timeout=2), \
                "a client over the limit must be closed, not left waiting"
        finally:
            extra.close()
        # Nobody was evicted for it.
        for s in socks:
            s.settimeout(0)
            with pytest.raises(BlockingIOError):
                s.recv(1)
    finally:
        for s in socks:
            s.close()


def test_tcp__sim_closes_idle_connections(sim):
    host, port = hostport(sim("--tcp", "127.0.5.8:0", "--tcp-idle-ms", "300",
                              "--serial", "4251").uris[0])
    idle = socket.create_connection((host, port), timeout=5)
    busy = socket.create_connection((host, port), timeout=5)
    try:
        idle.sendall(read_request(0, 0x6E6))
        assert reply_u32(recv_exact(idle, 14)) == 4251
        t0 = time.monotonic()
        # A client that talks every 100 ms keeps its connection.
        while time.monotonic() - t0 < 1.0:
            busy.sendall(read_request(0, 0x6E6))
            assert reply_u32(recv_exact(busy, 14)) == 4251
            time.sleep(0.1)
        assert closed_by_peer(idle, timeout=3), "an idle connection must be closed"
        assert time.monotonic() - t0 >= 0.25
        busy.sendall(read_request(0, 0x6E6))
        assert reply_u32(recv_exact(busy, 14)) == 4251
    finally:
        idle.close()
        busy.close()


def test_tcp__sim_help_names_the_idle_timeout(prefix):
    proc = subprocess.run([os.path.join(prefix, "bin", "axlink-sim"), "--help"],
                          capture_output=True, text=True, timeout=CALL_TIMEOUT_S)
    assert proc.returncode == 0, proc
    assert re.search(r"--tcp-idle-ms MS .*\n.*default 30000", proc.stdout), proc.stdout


@pytest.mark.parametrize("args,message", [
    (["--tcp", "10.1.2.3"], "outside 127.0.0.0/8"),
    (["--tcp", "127.0.5.1:65536"], "0..65535"),
    (["--tcp", "127.0.5.1:x"], "not a number"),
    (["--tcp", "127.0.5"], "not an IPv4 address"),
    (["--tcp", "127.0.5.1:0", "--count", "2"], "--tcp takes one drive each"),
    (["--tcp", "127.0.5.1:5000", "--tcp", "127.0.5.1:5000"], "given twice"),
    (["--tcp", "127.0.5.1:0", "--tcp-idle-ms", "soon"], "--tcp-idle-ms"),
    (["--tcp", "127.0.5.1:0", "--tcp-idle-ms", "-1"], "--tcp-idle-ms"),
    (["--eth", "127.0.5.1", "--tcp-idle-ms", "100"], "only --tcp drives"),
])
def test_tcp__sim_refuses_bad_options(prefix, args, message):
    proc = subprocess.run([os.path.join(prefix, "bin", "axlink-sim"), *args],
                          capture_output=True, text=True, timeout=CALL_TIMEOUT_S)
    assert proc.returncode == 2, (args, proc)
    assert message in proc.stderr, (args, proc.stderr)
    assert proc.stdout == ""


# ---- failures the transport must report clearly, and quickly ----

def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_tcp__refused_port_is_a_clear_error(axlink):
    port = free_port("127.0.5.5")
    r = axlink("read", f"tcp://127.0.5.5:{port}", "0x6E6:u32", "--subnode", "0")
    assert r.code == 1, r
    assert "refused" in r.err and f"127.0.5.5:{port}" in r.err, r
    assert r.elapsed < 5, r


@pytest.mark.parametrize("uri,message", [
    ("tcp://127.0.5.1:0", "port 0"),
    ("tcp://", "names no host"),
    ("tcp://127.0.5.1/x", "unexpected path"),
    ("tcp://127.0.5.1?timeout_ms=0", "timeout_ms"),
    ("tcp://127.0.5.1?baud=9600", "timeout_ms"),
    ("tcp://no-such-host.invalid", "no-such-host.invalid"),
])
def test_tcp__bad_uri_is_a_clear_error(axlink, uri, message):
    r = axlink("read", uri, "0x6E6:u32")
    assert r.code != 0, r
    assert message in r.err, r


def test_tcp__timeout_after_two_tries(axlink, sim):
    uri = sim("--tcp", "127.0.5.6:0", "--delay", "1500").uris[0]
    r = axlink("read", uri + "?timeout_ms=200", "0x6E6:u32", "--subnode", "0")
    assert r.code == 1, r
    assert "after 2 tries of 200 ms" in r.err and hostport(uri)[0] in r.err, r
    assert 0.4 <= r.elapsed < 1.5, r


def test_tcp__lost_request_is_sent_again_on_a_new_connection(axlink, sim):
    uri = sim("--tcp", "127.0.5.6:0", "--drop-first", "1", "--serial", "6060").uris[0]
    r = axlink("read", uri + "?timeout_ms=300", "0x6E6:u32", "--subnode", "0")
    assert r.code == 0 and r.out.strip() == "6060", r
    assert r.elapsed >= 0.3, r


def test_tcp__corrupt_replies_are_a_clear_error(axlink, sim):
    uri = sim("--tcp", "127.0.5.6:0", "--corrupt", "100").uris[0]
    r = axlink("read", uri, "0x6E6:u32", "--subnode", "0")
    assert r.code == 1, r
    assert "CRC mismatch" in r.err, r
    assert r.elapsed < 2, r


class FakeServer:
    """A TCP server that answers every connection with handler(conn)."""

    def __init__(self, host, handler):
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            conn, _ = self.sock.accept()
            self.conns.append(conn)
            try:
                recv_exact(conn, 14, timeout=5)
                self.handler(conn)
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("name,handler,message", [
    ("half_reply_then_close",
     lambda c: (c.sendall(read_request(0, 0x6E6)[:7]), c.shutdown(socket.SHUT_RDWR)),
     "closed by the peer in the middle of a reply"),
    ("oversized_extended_reply",
     lambda c: c.sendall(frame(0, 3, 0x6E6, struct.pack("<Q", 100000), extended=True)),
     "extended length over the limit"),
    ("reply_for_another_register",
     lambda c: c.sendall(frame(0, 3, 0x6E0, b"\1\0\0\0")),
     "out of step"),
    ("a_request_instead_of_a_reply",
     lambda c: c.sendall(read_request(0, 0x6E6)),
     "not a reply"),
    ("silence", lambda c: None, "after 2 tries of 300 ms"),
])
def test_tcp__bad_peer_is_a_clear_error(axlink, name, handler, message):
    server = FakeServer("127.0.5.7", handler)
    try:
        r = axlink("read", f"tcp://127.0.5.7:{server.port}?timeout_ms=300", "0x6E6:u32",
                   "--subnode", "0")
    finally:
        server.close()
    assert r.code == 1, (name, r)
    assert message in r.err, (name, r)
    assert r.elapsed < 3, (name, r)


# ---- one link across events: the session program ----

class Session:
    def __init__(self, path, env):
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)

    def __call__(self, line, timeout=CALL_TIMEOUT_S):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert r, f"session: no answer to {line!r} within {timeout} s (hung?)"
        answer = self.proc.stdout.readline().strip()
        m = re.fullmatch(r"(ok|err)(?: (.*))? ms=(\d+)", answer)
        assert m, f"session: unexpected answer to {line!r}: {answer!r}"
        return m.group(1), m.group(2) or "", int(m.group(3))

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=10) == 0, self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def session(run_env):
    s = Session(env_path("AXLINK_SDK_SESSION"), run_env)
    yield s
    s.close()


def test_tcp__simulator_killed_mid_session(session, sim, prefix):
    drive = sim("--tcp", "127.0.5.8:0", "--serial", "8001")
    host, port = hostport(drive.uris[0])
    assert session(f"open {drive.uris[0]}")[0] == "ok"
    assert session("read 0 0x6E6")[:2] == ("ok", "8001")

    drive.stop(sig=9)
    status, text, ms = session("read 0 0x6E6")
    assert status == "err" and text.startswith("AX_EDISCONNECTED"), text
    assert "lost" in text and f"{host}:{port}" in text and "refused" in text, text
    assert ms < 2000, text

    # Back on the same port: the link reconnects by itself.
    sim("--tcp", f"{host}:{port}", "--serial", "8002")
    assert session("read 0 0x6E6")[:2] == ("ok", "8002")


def test_tcp__server_restart_between_requests_is_transparent(session, sim):
    drive = sim("--tcp", "127.0.5.8:0", "--serial", "8101")
    host, port = hostport(drive.uris[0])
    assert session(f"open {drive.uris[0]}")[0] == "ok"
    assert session("write 1 0x451 77")[0] == "ok"
    drive.stop()
    sim("--tcp", f"{host}:{port}", "--serial", "8102")
    assert session("read 0 0x6E6")[:2] == ("ok", "8102")


def test_tcp__cancel_from_another_thread(session, sim, axlink):
    drive = sim("--tcp", "127.0.5.8:0", "--delay", "1500", "--serial", "8201")
    vendor = axlink("read", "virtual:?model=axs-100", "0x6E0:u32", "--subnode", "0")
    assert vendor.code == 0, vendor
    assert session(f"open {drive.uris[0]}?timeout_ms=3000")[0] == "ok"
    status, text, ms = session("cancelread 0 0x6E6 200")
    assert status == "err" and text.startswith("AX_ECANCELED"), text
    assert 150 <= ms < 1000, text
    # The cancelled request's late reply (the serial) must not answer the next request.
    status, text, _ = session("read 0 0x6E0")
    assert (status, text) == ("ok", vendor.out.strip()), text


def test_tcp__open_fails_when_nothing_listens(session):
    port = free_port("127.0.5.9")
    status, text, ms = session(f"open tcp://127.0.5.9:{port}")
    assert status == "err" and "refused" in text and f"127.0.5.9:{port}" in text, text
    assert ms < 2000
