# SPDX-License-Identifier: MIT
"""Serve drives over OPC UA: ``axlink opcua`` / ``python -m axlink.opcua``.

An OPC UA server (asyncua) that puts every drive axlink finds into one
address space, so SCADA, PLCs, historians and aggregating servers reach
them with what they already speak::

    Objects/Drives/axs-100 5001            one object per drive (hot-plug)
        Uri, StableUri, Model, SerialNumber, Firmware   properties
        Store(), Restore()                               methods
        Communication/<REGISTER>                         subnode 0 registers
        Axis 1/<REGISTER>                                the axis's registers
        Axis 1/State, Axis 1/ActiveFault                 CiA 402 state, fault
        Axis 1/Enable() Disable() FaultReset() Stop() MoveTo(position, velocity)

Register variables carry their OPC UA data type, EngineeringUnits, EURange
and EnumStrings/EnumValues (Part 8 data items). A client's Read reads the
drive; a Write goes to the drive through the library's checks and answers
Bad_OutOfRange, Bad_NotWritable, Bad_TypeMismatch or
Bad_CommunicationError. Monitored items are fed by the library's poller,
one per drive, at the fastest sampling interval any client asked for, not
by a read per client per sample.

Security: anonymous sessions may browse, read and subscribe; writes and
method calls need a user from a password file (``--users``) or, with
``--certificate``/``--private-key``, a client certificate from
``--trusted-certs`` over Basic256Sha256. An endpoint off the loopback
needs one of them.

Needs the optional extra: ``pip install 'axlink[opcua]'``.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Optional, Sequence

if TYPE_CHECKING:
    from ._opcua_server import Gateway

__all__ = ["Gateway", "DEFAULT_ENDPOINT", "NAMESPACE_URI", "hash_password", "load_users", "main"]

DEFAULT_ENDPOINT = "opc.tcp://127.0.0.1:4840"
NAMESPACE_URI = "urn:axlink:drives"
#: The fastest a monitored item is sampled (seconds).
SAMPLING_FLOOR = 0.001


def _server() -> Any:
    """The server module; it needs asyncua, which this module does not (so
    that --help and the users file work without it)."""
    try:
        from . import _opcua_server
    except ImportError as e:
        raise ImportError("axlink.opcua needs asyncua: pip install 'axlink[opcua]' "
                          f"({e})") from e
    return _opcua_server


def __getattr__(name: str) -> Any:
    if name == "Gateway":
        return _server().Gateway
    raise AttributeError(f"module 'axlink.opcua' has no attribute {name!r}")


# --------------------------------------------------------------- users


_SCRYPT = {"n": 1 << 14, "r": 8, "p": 1}


def hash_password(password: str, salt: Optional[bytes] = None) -> str:
    """The users-file form of @password: ``scrypt$SALT$HASH`` (hex), with
    hashlib's scrypt (N=2^14, r=8, p=1) and a random 16-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_ok(stored: str, password: str) -> bool:
    """True when @password matches @stored (a users-file entry)."""
    try:
        kind, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = bytes.fromhex(digest)
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=len(want),
                             **_SCRYPT)
    except ValueError:
        return False
    return hmac.compare_digest(want, got)


def load_users(path: "os.PathLike[str] | str") -> Dict[str, str]:
    """Read a users file: one ``NAME:scrypt$SALT$HASH`` a line (make a line
    with ``python -m axlink.opcua --hash-password NAME``); ``#`` comments and
    blank lines are skipped. Raises ValueError naming the file and line."""
    users: Dict[str, str] = {}
    p = Path(path)
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not name or not stored.startswith("scrypt$") or stored.count("$") != 2:
            raise ValueError(f"{p}:{n}: expected NAME:scrypt$SALT$HASH "
                             "(python -m axlink.opcua --hash-password NAME)")
        users[name] = stored
    return users


# -------------------------------------------------------------- main


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``axlink opcua`` / ``python -m axlink.opcua``."""
    ap = argparse.ArgumentParser(
        prog="axlink opcua",
        description="Serve the drives that discovery finds over OPC UA.")
    ap.add_argument("specs", nargs="*", metavar="SPEC",
                    help="discovery specs, as axlink list takes them (default: every bus)")
    ap.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                    help=f"opc.tcp://HOST:PORT to listen on (default {DEFAULT_ENDPOINT})")
    ap.add_argument("--users", metavar="FILE",
                    help="users who may write and call methods (NAME:scrypt$SALT$HASH lines)")
    ap.add_argument("--certificate", metavar="FILE", help="server certificate (PEM or DER)")
    ap.add_argument("--private-key", metavar="FILE", help="server private key (PEM)")
    ap.add_argument("--trusted-certs", metavar="DIR",
                    help="client certificates whose sessions may write and call methods")
    ap.add_argument("--secure-only", action="store_true",
                    help="offer only Basic256Sha256 endpoints")
    ap.add_argument("--period-ms", type=int, default=1000,
                    help="milliseconds between discovery looks (hot-plug; default 1000)")
    ap.add_argument("--timeout-ms", type=int, default=None, help="drive request timeout")
    ap.add_argument("--hash-password", metavar="NAME",
                    help="print a users-file line for NAME (password from stdin) and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    args = ap.parse_args(argv)

    if args.hash_password:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            ap.error("--hash-password: give the password on standard input")
        print(f"{args.hash_password}:{hash_password(password)}")
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="axlink opcua: %(message)s")
    if not args.verbose:
        logging.getLogger("asyncua").setLevel(logging.ERROR)
    try:
        server = _server()
    except ImportError as e:
        print(f"axlink opcua: {e}", file=sys.stderr)
        return 1
    try:
        users = load_users(args.users) if args.users else None
        gw = server.Gateway(args.specs, args.endpoint, users=users, certificate=args.certificate,
                     private_key=args.private_key, trusted_certs=args.trusted_certs,
                     secure_only=args.secure_only, discovery_period=args.period_ms / 1000.0,
                     timeout=args.timeout_ms / 1000.0 if args.timeout_ms else None)
    except (OSError, ValueError) as e:
        print(f"axlink opcua: {e}", file=sys.stderr)
        return 2

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with gw:
            print(f"serving on {gw.endpoint}", flush=True)
            await stop.wait()

    try:
        asyncio.run(run())
    except OSError as e:
        print(f"axlink opcua: {args.endpoint}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
