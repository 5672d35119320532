# SPDX-License-Identifier: MIT
"""`axlink opcua` end to end: an asyncua client against the gateway serving
simulated drives."""
from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any, List, Tuple

import axlink
import pytest
from asyncua import Client, ua

from conftest import (LEAVING, PASSWORD, STEADY, USER, Gateway, child, drive_names, free_port,
                      drives_folder, gateway_cmd, run, wait_for)

AXIS = "Axis 1"


async def _drive(c: Client, name: str = "axs-100 7001") -> Any:
    return await child(c, await drives_folder(c), name)


def test_browse_finds_every_simulated_drive(gateway: Gateway) -> None:
    async def go() -> List[Tuple[str, str, int]]:
        async with Client(gateway.endpoint) as c:
            out = []
            for d in await (await drives_folder(c)).get_children():
                uri = await (await child(c, d, "Uri")).read_value()
                serial = await (await child(c, d, "SerialNumber")).read_value()
                out.append(((await d.read_browse_name()).Name, uri, serial))
            return sorted(out)

    assert run(go()) == [("axs-100 7001", f"eth://{STEADY}:1061", 7001),
                         ("axs-100 7002", "eth://127.0.31.2:1061", 7002),
                         ("axs-100 7009", f"eth://{LEAVING}:1061", 7009)]


def test_variable_read_equals_axlink_read(gateway: Gateway) -> None:
    with axlink.open(f"eth://{STEADY}") as d:
        d.write("PROF_MAX_ACC", 123.25)
        want = d.read("PROF_MAX_ACC")

    async def go() -> Tuple[Any, Any]:
        async with Client(gateway.endpoint) as c:
            var = await child(c, await _drive(c), AXIS, "PROF_MAX_ACC")
            return await var.read_value(), await var.read_data_type_as_variant_type()

    value, vtype = run(go())
    assert (value, vtype) == (want, ua.VariantType.Float)
    assert value == 123.25


def test_a_users_write_reaches_the_drive(gateway: Gateway) -> None:
    async def go() -> float:
        async with Client(gateway.url_as(USER, PASSWORD)) as c:
            var = await child(c, await _drive(c), AXIS, "PROF_MAX_ACC")
            await var.write_value(ua.DataValue(ua.Variant(77.5, ua.VariantType.Float)))
            return float(await var.read_value())

    assert run(go()) == 77.5
    with axlink.open(f"eth://{STEADY}") as d:
        assert d.read("PROF_MAX_ACC") == 77.5


def _write_status(gateway: Gateway, url: str, reg: str, variant: ua.Variant) -> str:
    async def go() -> str:
        async with Client(url) as c:
            var = await child(c, await _drive(c), AXIS, reg)
            try:
                await var.write_value(ua.DataValue(variant))
            except ua.UaStatusCodeError as e:
                return type(e).__name__
            return "Good"

    return run(go())


def test_out_of_range_write_is_bad_out_of_range(gateway: Gateway) -> None:
    url = gateway.url_as(USER, PASSWORD)
    with axlink.open(f"eth://{STEADY}") as d:
        before = d.read("PROF_POS_WINDOW_TIME")
        # 0..10000 ms in the dictionary; 20000 fits the UInt16 but not the range.
        assert _write_status(gateway, url, "PROF_POS_WINDOW_TIME",
                             ua.Variant(20000, ua.VariantType.UInt16)) == "BadOutOfRange"
        assert d.read("PROF_POS_WINDOW_TIME") == before
        assert _write_status(gateway, url, "CL_POS_FBK_VALUE",
                             ua.Variant(5, ua.VariantType.Int32)) in ("BadNotWritable",
                                                                      "BadUserAccessDenied")
        assert _write_status(gateway, url, "PROF_MAX_ACC",
                             ua.Variant("fast", ua.VariantType.String)) == "BadTypeMismatch"


def test_anonymous_sessions_read_but_never_write_or_call(gateway: Gateway) -> None:
    assert _write_status(gateway, gateway.endpoint, "PROF_MAX_ACC",
                         ua.Variant(1.0, ua.VariantType.Float)) == "BadUserAccessDenied"

    async def go() -> str:
        async with Client(gateway.endpoint) as c:
            axis = await child(c, await _drive(c), AXIS)
            try:
                await axis.call_method(await child(c, axis, "Enable"))
            except ua.UaStatusCodeError as e:
                return type(e).__name__
            return "Good"

    assert run(go()) == "BadUserAccessDenied"


def test_a_wrong_password_is_refused(gateway: Gateway) -> None:
    async def go() -> None:
        async with Client(gateway.url_as(USER, "wrong")):
            pass

    with pytest.raises(ua.UaStatusCodeError):
        run(go())


def test_registers_carry_types_units_ranges_and_enums(gateway: Gateway) -> None:
    async def go() -> dict:
        async with Client(gateway.endpoint) as c:
            axis = await child(c, await _drive(c), AXIS)
            vel = await child(c, axis, "CL_VEL_FBK_VALUE")
            win = await child(c, axis, "PROF_POS_WINDOW_TIME")
            op = await child(c, axis, "DRV_OP_CMD")
            enum_prop = "EnumStrings" if await _has(op, "EnumStrings") else "EnumValues"
            labels = await (await op.get_child([f"0:{enum_prop}"])).read_value()
            return {
                "vel_units": (await _prop(vel, "EngineeringUnits")).DisplayName.Text,
                "vel_writable": bool((await vel.read_attribute(ua.AttributeIds.AccessLevel))
                                     .Value.Value & ua.AccessLevel.CurrentWrite.mask),
                "win_range": await _prop(win, "EURange"),
                "win_type": await win.read_type_definition(),
                "win_units": (await _prop(win, "EngineeringUnits")).UnitId,
                "op_labels": [t.Text if enum_prop == "EnumStrings" else t.DisplayName.Text
                              for t in labels],
            }

    got = run(go())
    assert got["vel_units"] == "rev/s"
    assert got["vel_writable"] is False
    assert (got["win_range"].Low, got["win_range"].High) == (0.0, 10000.0)
    assert got["win_type"] == ua.NodeId(ua.ObjectIds.AnalogItemType)
    assert got["win_units"] == int.from_bytes(b"C26", "big")  # UN/CEFACT millisecond
    with axlink.open(f"eth://{STEADY}") as d:
        assert got["op_labels"] == [label for _, label in
                                    sorted(d.find("DRV_OP_CMD").enums.items())]


async def _prop(node: Any, name: str) -> Any:
    return await (await node.get_child([f"0:{name}"])).read_value()


async def _has(node: Any, name: str) -> bool:
    for p in await node.get_properties():
        if (await p.read_browse_name()).Name == name:
            return True
    return False


class _Collect:
    def __init__(self) -> None:
        self.values: List[Tuple[float, Any]] = []

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        self.values.append((time.monotonic(), val))


def test_move_to_moves_the_axis_and_subscriptions_see_it(gateway: Gateway) -> None:
    async def go() -> Tuple[List[Tuple[float, Any]], str, Any]:
        async with Client(gateway.url_as(USER, PASSWORD)) as c:
            axis = await child(c, await _drive(c, "axs-100 7002"), AXIS)
            pos = await child(c, axis, "CL_POS_FBK_VALUE")
            state = await child(c, axis, "State")
            seen = _Collect()
            sub = await c.create_subscription(20, seen)
            await sub.subscribe_data_change(pos, sampling_interval=20)
            await axis.call_method(await child(c, axis, "Enable"))
            assert await state.read_value() == "operation_enabled"
            start = await pos.read_value()
            await axis.call_method(await child(c, axis, "MoveTo"),
                                   ua.Variant(float(start + 8192), ua.VariantType.Double),
                                   ua.Variant(8192.0, ua.VariantType.Double))
            await wait_for(pos.read_value, lambda p: p == start + 8192, 10.0)
            await asyncio.sleep(0.3)
            await sub.delete()
            await axis.call_method(await child(c, axis, "Disable"))
            return seen.values, await state.read_value(), start

    values, state_after, start = run(go())
    assert state_after != "operation_enabled"
    moving = [v for _, v in values if start < v < start + 8192]
    # A 1 s move sampled every 20 ms: dozens of intermediate positions, rising.
    assert len(moving) >= 20, values
    assert moving == sorted(moving)
    gaps = [b[0] - a[0] for a, b in zip(values, values[1:])
            if start < a[1] < start + 8192 and start < b[1] < start + 8192]
    assert sorted(gaps)[len(gaps) // 2] < 0.06  # median spacing near the 20 ms asked for


def test_a_drive_that_disappears_leaves_the_address_space(gateway: Gateway,
                                                          sims: dict) -> None:
    sims["leaving"].stop()
    names = run(wait_for(lambda: drive_names(gateway.endpoint),
                         lambda n: "axs-100 7009" not in n, 15.0))
    assert names == ["axs-100 7001", "axs-100 7002"]


def test_an_endpoint_off_the_loopback_needs_users() -> None:
    r = subprocess.run(gateway_cmd("--endpoint", "opc.tcp://0.0.0.0:4840"),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "reachable from other machines" in r.stderr


def test_a_bad_users_file_names_file_and_line(tmp_path: Any) -> None:
    f = tmp_path / "users"
    f.write_text("# ok\nalice:plaintext\n")
    r = subprocess.run(gateway_cmd("--users", str(f)), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert f"{f}:2:" in r.stderr


def _make_cert(folder: Any, name: str, uri: str, server: bool) -> Tuple[str, str]:
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key, cert = folder / f"{name}.pem", folder / f"{name}.der"
    use = [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
    run(setup_self_signed_certificate(key, cert, uri, "localhost", use, {"commonName": name}))
    return str(cert), str(key)


def test_a_trusted_client_certificate_may_write_an_untrusted_one_not(
        sims: dict, tmp_path: Any) -> None:
    from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

    server = _make_cert(tmp_path, "server", "urn:freeopcua:python:server", True)
    trusted_dir = tmp_path / "trusted"
    trusted_dir.mkdir()
    good = _make_cert(trusted_dir, "good", "urn:freeopcua:client", False)
    (trusted_dir / "good.pem").rename(tmp_path / "good.pem")  # keys stay out of the folder
    good = (good[0], str(tmp_path / "good.pem"))
    bad = _make_cert(tmp_path, "bad", "urn:freeopcua:client", False)
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}"
    proc = subprocess.Popen(gateway_cmd("--endpoint", endpoint, "--certificate", server[0],
                                        "--private-key", server[1], "--trusted-certs",
                                        str(trusted_dir), "--secure-only", f"eth://{STEADY}"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("serving on")

        async def write_as(cert: Tuple[str, str]) -> str:
            c = Client(endpoint)
            await c.set_security(SecurityPolicyBasic256Sha256, cert[0], cert[1],
                                 mode=ua.MessageSecurityMode.SignAndEncrypt)
            async with c:
                folder = await drives_folder(c)
                await wait_for(folder.get_children, lambda ch: len(ch) == 1, 15.0)
                var = await child(c, await _drive(c), AXIS, "PROF_MAX_DEC")
                try:
                    await var.write_value(ua.DataValue(ua.Variant(55.5, ua.VariantType.Float)))
                except ua.UaStatusCodeError as e:
                    return type(e).__name__
                return "Good"

        async def plain() -> None:
            async with Client(endpoint):
                pass

        assert run(write_as(good)) == "Good"
        assert run(write_as(bad)) == "BadUserAccessDenied"
        with pytest.raises(Exception):
            run(plain())  # --secure-only: no unencrypted endpoint
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    with axlink.open(f"eth://{STEADY}") as d:
        assert d.read("PROF_MAX_DEC") == 55.5


def test_active_fault_state_and_fault_reset(gateway: Gateway) -> None:
    i2t = 0x00002310  # "Continuous over-current (I2t)" in the dictionary
    with axlink.open(f"eth://{STEADY}") as d:
        d.write("SIM_FAULT_INJECT", i2t, subnode=1)

    async def go() -> Tuple[str, str, str, str]:
        async with Client(gateway.url_as(USER, PASSWORD)) as c:
            axis = await child(c, await _drive(c), AXIS)
            fault, state = await child(c, axis, "ActiveFault"), await child(c, axis, "State")
            before = (await fault.read_value(), await state.read_value())
            await axis.call_method(await child(c, axis, "FaultReset"))
            return (*before, await fault.read_value(), await state.read_value())

    fault, state, fault_after, state_after = run(go())
    assert fault == "0x00002310 Continuous over-current (I2t)"
    assert state == "fault"
    assert (fault_after, state_after) == ("", "switch_on_disabled")


def test_store_and_restore_reach_the_drive(gateway: Gateway) -> None:
    """Store answers Good from the drive; Restore puts the dictionary's
    defaults back (the simulator restores at once, a real drive at boot)."""
    with axlink.open(f"eth://{STEADY}") as d:
        default = d.find("PROF_MAX_VEL").default
        d.write("PROF_MAX_VEL", default + 1.5)

    async def go() -> List[str]:
        out = []
        async with Client(gateway.url_as(USER, PASSWORD)) as c:
            drive = await _drive(c)
            for name in ("Store", "Restore"):
                try:
                    await drive.call_method(await child(c, drive, name))
                    out.append("Good")
                except ua.UaStatusCodeError as e:
                    out.append(type(e).__name__)
        return out

    assert run(go()) == ["Good", "Good"]
    with axlink.open(f"eth://{STEADY}") as d:
        assert d.read("PROF_MAX_VEL") == default
