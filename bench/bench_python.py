#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Register reads per second from Python versus from C, on the same drive.

Every row reads the same register (the serial number, subnode 0, 0x6E6) of
the same open drive; they differ only in who loops and how much each call
does:

  c-loop          ax_link_read_u32() N times in C (a helper compiled into the
                  extension; one Python call, GIL released throughout)
  cffi-call       lib.ax_link_read_u32() from a Python loop: the bare binding
  read-raw        drive.read_raw(0x6E6, "u32", 0): address + dtype -> int
  read-name       drive.read("DRV_ID_SERIAL_NUMBER_COCO"): lookup (cached),
                  dictionary dtype, decoding

First, the floor (issue 21): a plain Python loop of send() + recv() of a
pre-encoded MCB read on a connected UDP socket to the same simulator (the
value taken from the reply), against drive.read() and drive.read_raw(),
in reads/s and CPU time per read (process_time: this process only). The
goals: axlink reads/s >= 0.95 x the floor's, CPU/read <= 1.05 x.

Then two drives: the simulator over UDP loopback (what a script on a real network
sees, dominated by the round trip) and the in-process virtual transport (no
I/O: the Python overhead stands alone). Each figure is the median of several
rounds; "overhead" is the time per call above the C loop's, in microseconds.

usage: bench_python.py [--build DIR] [--reads N] [--rounds R]
(bench/run sets AXLINK_BENCH_BUILD to its build tree; the script builds the
extension there and runs under the interpreter it is built for.)
"""
import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

SIM_ADDR = "127.0.9.10"  # the benchmarks' loopback range


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("AXLINK_BENCH_BUILD",
                                                      os.path.join(here, "..", "build", "bench")),
                    help="CMake build tree with the extension and axlink-sim")
    ap.add_argument("--reads", type=int, default=2000, help="reads per round (default 2000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per figure (default 5)")
    ap.add_argument("--no-build", action="store_true",
                    help="use the extension as built (default: cmake --build the target first)")
    return ap.parse_args()


def median_per_call(fn, reads, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(reads)
        times.append((time.perf_counter() - t0) / reads)
    return statistics.median(times)


def measure(axlink, drive, reads, rounds):
    from axlink._native import ffi, lib

    link = drive._handles()[1]  # the drive's link: the same endpoint for every row
    out = ffi.new("uint32_t *")
    want = drive.read_raw(0x6E6, "u32", 0)

    def c_loop(n):
        rc = lib.axpy_bench_read_u32(link, 0, 0x6E6, n)
        if rc < 0:
            raise axlink.errors.last_error(rc)

    def cffi_call(n):
        read = lib.ax_link_read_u32
        for _ in range(n):
            if read(link, 0, 0x6E6, out) < 0:
                raise RuntimeError("read failed")

    def read_raw(n):
        r = drive.read_raw
        for _ in range(n):
            r(0x6E6, "u32", 0)

    def read_name(n):
        r = drive.read
        for _ in range(n):
            r("DRV_ID_SERIAL_NUMBER_COCO")

    assert drive.read("DRV_ID_SERIAL_NUMBER_COCO") == want
    rows = []
    for name, fn in (("c-loop", c_loop), ("cffi-call", cffi_call), ("read-raw", read_raw),
                     ("read-name", read_name)):
        fn(min(200, reads))  # warm up: caches, lookups, the simulator
        rows.append((name, median_per_call(fn, reads, rounds)))
    return rows


# A read of subnode 0 register 0x6E6 (the serial number): DESIGN.md section 5.
def mcb_read_frame(subnode, address):
    hdr = bytearray(12)
    hdr[0:2] = ((0xA << 4) | subnode).to_bytes(2, "little")
    hdr[2:4] = ((address << 4) | (1 << 1)).to_bytes(2, "little")
    crc = 0
    for b in hdr:  # CRC-16/XMODEM
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return bytes(hdr) + crc.to_bytes(2, "little")


def floor_rows(drive, sim_addr, reads, rounds):
    """(name, s/read, cpu s/read) of the raw socket floor and of axlink, interleaved."""
    frame = mcb_read_frame(0, 0x6E6)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((sim_addr, 1061))
    # A blocking socket with a kernel receive timeout: send() + recv() are two
    # system calls (settimeout() would add a poll() before every recv()).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 2, 0))
    want = drive.read_raw(0x6E6, "u32", 0)

    def raw_socket(n):
        send, recv, frm = sock.send, sock.recv, int.from_bytes
        for _ in range(n):
            send(frame)
            reply = recv(64)
            v = frm(reply[4:8], "little")
        if v != want:
            raise RuntimeError(f"raw socket read {v}, want {want}")

    def read_name(n):
        r = drive.read
        for _ in range(n):
            r("DRV_ID_SERIAL_NUMBER_COCO")

    def read_raw(n):
        r = drive.read_raw
        for _ in range(n):
            r(0x6E6, "u32", 0)

    fns = (("py-socket", raw_socket), ("read-name", read_name), ("read-raw", read_raw))
    times = {name: [] for name, _ in fns}
    cpus = {name: [] for name, _ in fns}
    for name, fn in fns:
        fn(min(200, reads))
    for _ in range(rounds):
        for name, fn in fns:  # interleaved, so drift hits all alike
            t0, c0 = time.perf_counter(), time.process_time()
            fn(reads)
            times[name].append((time.perf_counter() - t0) / reads)
            cpus[name].append((time.process_time() - c0) / reads)
    sock.close()
    return [(name, statistics.median(times[name]), statistics.median(cpus[name]))
            for name, _ in fns]


def print_floor(rows):
    base_t, base_c = rows[0][1], rows[0][2]
    print(f"{'what':14} {'reads/s':>10} {'us/read':>9} {'cpu_us':>9} {'cpu_ratio':>10} "
          f"{'ratio':>9}")
    for i, (name, t, c) in enumerate(rows):
        ratio = "baseline" if i == 0 else f"{base_t / t:.2f}"
        print(f"{name:14} {1 / t:10.0f} {t * 1e6:9.2f} {c * 1e6:9.2f} {c / base_c:10.2f} "
              f"{ratio:>9}")
    for name, t, c in rows[1:]:
        print(f"{name}: reads/s = {base_t / t:.2f} x the Python socket floor (goal >= 0.95), "
              f"CPU/read = {c / base_c:.2f} x (goal <= 1.05)")


def print_table(rows):
    # The format bench/report.py reads: a "what" header, one row per figure,
    # the baseline row marked; anything else is a note.
    base = rows[0][1]
    print(f"{'what':14} {'us/read':>9} {'reads/s':>10} {'overhead_us':>12} {'ratio':>9}")
    for i, (name, t) in enumerate(rows):
        ratio = "baseline" if i == 0 else f"{t / base:.2f}"
        print(f"{name:14} {t * 1e6:9.2f} {1 / t:10.0f} {(t - base) * 1e6:12.2f} {ratio:>9}")


def build_interpreter(build):
    """The Python the build tree's extension was built for (python/CMakeLists.txt)."""
    try:
        with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8") as f:
            cache = dict(line.rstrip("\n").split("=", 1) for line in f
                         if "=" in line and not line.startswith(("#", "//")))
    except OSError:
        return None
    for key in ("AXLINK_PYTHON:FILEPATH", "AXLINK_PYTHON_DEFAULT:FILEPATH"):
        if cache.get(key) and not cache[key].endswith("-NOTFOUND"):
            return cache[key]
    return None


def main():
    args = parse_args()
    build = os.path.abspath(args.build)
    # The python3 first on PATH may not be the one the extension is built for.
    want = build_interpreter(build)
    if want and os.path.realpath(want) != os.path.realpath(sys.executable) and \
            not os.environ.get("AXLINK_BENCH_REEXEC"):
        os.environ["AXLINK_BENCH_REEXEC"] = "1"
        os.execv(want, [want, os.path.abspath(__file__), *sys.argv[1:]])
    if not args.no_build:
        subprocess.run(["cmake", "--build", build, "--target", "axlink-python"], check=True,
                       stdout=subprocess.DEVNULL)
    sys.path.insert(0, os.path.join(build, "python"))
    try:
        import axlink
    except ImportError as e:
        sys.exit(f"bench_python: cannot import axlink from {build}/python ({e})")
    sim_path = os.path.join(build, "bin", "axlink-sim")
    sim = subprocess.Popen([sim_path, "--eth", SIM_ADDR, "--serial", "4242"],
                           stdout=subprocess.PIPE, text=True)
    try:
        uri = sim.stdout.readline().strip()
        if not uri.startswith("eth://"):
            sys.exit(f"bench_python: {sim_path} did not start")
        print(f"bench_python: register reads from Python vs a C loop on the same drive, "
              f"{args.reads} reads x {args.rounds} rounds, medians (Python "
              f"{sys.version.split()[0]}, libaxlink {axlink.LIBRARY_VERSION})")
        with axlink.open(uri) as drive:
            print("the floor: a Python socket loop against axlink (ratio: reads/s over the "
                  "floor's)")
            print_floor(floor_rows(drive, SIM_ADDR, args.reads, 3 * args.rounds))
            print(f"UDP loopback: {uri} (axlink-sim)")
            print_table(measure(axlink, drive, args.reads, args.rounds))
        print("in process: virtual: (no I/O, the Python overhead alone)")
        with axlink.open("virtual:") as drive:
            print_table(measure(axlink, drive, args.reads * 10, args.rounds))
        print("overhead_us: time per call above the C loop's; c-loop is ax_link_read_u32() "
              "looped in C, cffi-call the bare binding, read-raw drive.read_raw(), "
              "read-name drive.read() by register name")
    finally:
        sim.terminate()
        sim.wait(timeout=10)
        sim.stdout.close()


if __name__ == "__main__":
    main()
