# SPDX-License-Identifier: MIT
"""CANopen drives from Python (issue 25): axlink-sim's CAN bus with two nodes,
reached through its socketcand server on 127.0.6.50 (this file's address in the
suite's range) and its slcan adapter on a pseudo-terminal."""
import subprocess

import pytest

import axlink
from conftest import AXS100, VENDOR, _sim_path

SCD = "127.0.6.50"


@pytest.fixture(scope="module")
def can_bus(build_dir):
    proc = subprocess.Popen([_sim_path(build_dir), "--can-slcan-pty", "--can-nodes", "2",
                             "--can-first-node", "3", "--serial", "7300",
                             "--can-socketcand", f"{SCD}:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        uris = [proc.stdout.readline().strip() for _ in range(4)]
        if not all(u.startswith("can:") for u in uris):
            proc.kill()
            pytest.fail(f"axlink-sim did not start: {uris!r} {proc.stderr.read()!r}")
        yield {"slcan": [u for u in uris if u.startswith("can:slcan/")],
               "socketcand": [u for u in uris if u.startswith("can:socketcand/")]}
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()
        proc.stderr.close()


def test_can__scan_reports_every_node_with_a_uri_that_opens_it(can_bus):
    bus = can_bus["socketcand"][0].split("?")[0]
    found = sorted((r for r in axlink.scan(bus, timeout=2.0) if r.ok), key=lambda r: r.serial)
    assert [r.serial for r in found] == [7300, 7301]
    assert found[0].uri == f"{bus}?node=3"
    assert (found[0].vendor_id, found[0].product_code, found[0].revision) == (VENDOR, *AXS100)
    with axlink.open(found[1].uri) as d:
        assert d.info.identity.serial == 7301


def test_can__read_write_by_name_and_segmented_string(can_bus):
    with axlink.open(can_bus["slcan"][0], timeout=1.0) as d:
        assert d.read("DRV_ID_SOFTWARE_VERSION") == "axs-100 fw 1.2.0-sim"  # segmented
        d.write("PROF_MAX_VEL", 4321)
        assert d.read("PROF_MAX_VEL") == 4321


def test_can__abort_is_a_nack_with_its_code(can_bus):
    with axlink.open(can_bus["socketcand"][0], timeout=1.0) as d:
        with pytest.raises(axlink.NackError) as e:
            d.write("DRV_OP_CMD", 0x7F)
        assert e.value.drive_code == 0x06090030
        assert "object 0x6060:00" in str(e.value)


def test_can__enable_and_profile_move(can_bus):
    with axlink.open(can_bus["socketcand"][1], timeout=1.0) as d:
        axis = d.axes[1]
        axis.enable()
        assert axis.state == "operation_enabled"
        axis.move_to(2000, velocity=40000)
        assert abs(axis.position - 2000) <= 10
        axis.disable()
