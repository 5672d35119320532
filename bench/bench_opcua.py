#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""OPC UA gateway: notifications delivered to one subscriber, and the
gateway's CPU per notification.

16 simulated drives (axlink-sim on 127.0.9.40-55, the benchmarks' range),
served by `python -m axlink.opcua`; one asyncua client subscribes to 4
registers of each (64 monitored items) at a 10 ms sampling and publishing
interval, with the StatusValueTimestamp trigger so that every sample is a
notification even when the value stays. The baseline is what was asked
for: 64 items x 100 samples/s. The gateway's CPU comes from
/proc/PID/stat (user + system) over the same window.

usage: bench_opcua.py [--build DIR] [--seconds S]
Needs asyncua: runs itself again under AXLINK_EXTRAS_PYTHON or
BUILD/../venv-extras/bin/python (.ci/deps.sh axlink_python_extras) when
the interpreter lacks it.
"""
import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time

FIRST = "127.0.9.40"
DRIVES = 16
REGISTERS = ["CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE", "CL_CUR_Q_VALUE", "DRV_STATE_STATUS"]
INTERVAL_MS = 10.0


def args_of():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get(
        "AXLINK_BENCH_BUILD", os.path.join(here, "..", "build", "release-bench")))
    ap.add_argument("--seconds", type=float, default=5.0)
    return ap.parse_args()


def ensure_asyncua(build):
    try:
        import asyncua  # noqa: F401
        return
    except ImportError:
        pass
    candidates = [os.environ.get("AXLINK_EXTRAS_PYTHON", ""),
                  os.path.join(build, "..", "venv-extras", "bin", "python"),
                  os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                               "venv-extras", "bin", "python")]
    for py in candidates:
        if py and os.access(py, os.X_OK) and os.path.realpath(py) != os.path.realpath(
                sys.executable):
            os.execv(py, [py, *sys.argv])
    sys.exit("bench_opcua: needs asyncua (. .ci/deps.sh; axlink_python_extras build/venv-extras)")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(endpoint, gw_pid, seconds):
    from asyncua import Client, ua

    count = 0

    class Handler:
        def datachange_notification(self, node, val, data):
            nonlocal count
            count += 1

    async with Client(endpoint) as c:
        ns = await c.get_namespace_index("urn:axlink:drives")
        folder = await c.nodes.objects.get_child([f"{ns}:Drives"])
        end = time.monotonic() + 30
        while len(await folder.get_children()) < DRIVES:
            if time.monotonic() > end:
                sys.exit("bench_opcua: the gateway did not find 16 drives in 30 s")
            await asyncio.sleep(0.2)
        nodes = []
        for d in await folder.get_children():
            axis = await d.get_child([f"{ns}:Axis 1"])
            for r in REGISTERS:
                nodes.append(await axis.get_child([f"{ns}:{r}"]))
        sub = await c.create_subscription(INTERVAL_MS, Handler())
        flt = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValueTimestamp)
        reqs = [sub._make_monitored_item_request(n, ua.AttributeIds.Value, flt, 0,
                                                 ua.MonitoringMode.Reporting, INTERVAL_MS)
                for n in nodes]
        await sub.create_monitored_items(reqs)
        await asyncio.sleep(1.5)  # the feeds start
        count, c0, t0 = 0, cpu_seconds(gw_pid), time.monotonic()
        await asyncio.sleep(seconds)
        got, c1, t1 = count, cpu_seconds(gw_pid), time.monotonic()
        await sub.delete()
    return got / (t1 - t0), (c1 - c0) / max(got, 1), (c1 - c0) / (t1 - t0)


def main():
    a = args_of()
    build = os.path.abspath(a.build)
    ensure_asyncua(build)
    env = dict(os.environ, PYTHONPATH=os.path.join(build, "python"))
    sim = subprocess.Popen([os.path.join(build, "bin", "axlink-sim"), "--eth", FIRST,
                            "--count", str(DRIVES), "--serial", "9400"],
                           stdout=subprocess.PIPE, text=True)
    for _ in range(DRIVES):
        sim.stdout.readline()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"opc.tcp://127.0.0.1:{port}"
    gw = subprocess.Popen([sys.executable, "-m", "axlink.opcua", "--endpoint", endpoint,
                           "--period-ms", "5000", "eth://127.0.9.32/27"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if not gw.stdout.readline().startswith("serving on"):
            sys.exit("bench_opcua: the gateway did not start")
        rate, cpu_per, load = asyncio.run(measure(endpoint, gw.pid, a.seconds))
    finally:
        gw.terminate()
        gw.wait(timeout=20)
        sim.terminate()
        sim.wait(timeout=10)
    want = DRIVES * len(REGISTERS) * 1000.0 / INTERVAL_MS
    print(f"bench_opcua: {DRIVES} drives x {len(REGISTERS)} registers at {INTERVAL_MS:.0f} ms, "
          f"one subscriber, {a.seconds:.0f} s")
    print(f"{'what':14} {'notif/s':>10} {'cpu_us/notif':>13} {'ratio':>9}")
    print(f"{'asked-for':14} {want:10.0f} {0.0:13.1f} {'baseline':>9}")
    print(f"{'delivered':14} {rate:10.0f} {cpu_per * 1e6:13.1f} {rate / want:9.2f}")
    print(f"gateway CPU: {load * 100:.0f} % of one core")


if __name__ == "__main__":
    main()
