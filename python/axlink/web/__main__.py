# SPDX-License-Identifier: MIT
"""python -m axlink.web [--port 8765] [--bind 127.0.0.1] [--allow-remote] [SPEC...]"""
from __future__ import annotations

import argparse
import ipaddress
import secrets
import sys
from typing import List, Optional

from . import missing_requirements

EXIT_USAGE = 2
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="axlink web",
        description="Serve the browser console: the drives found on SPEC (discovery "
                    "specs, e.g. eth://127.0.0.0/29; none: every transport's default "
                    "targets), their registers, motion and live plots. Open the URL it "
                    "prints. The page needs nothing from the internet.",
        epilog="Binds to loopback by default. Any other address needs --allow-remote; "
               "a token is then printed and required on every request.")
    ap.add_argument("specs", nargs="*", metavar="SPEC", help="discovery spec (repeatable)")
    ap.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0: any)")
    ap.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--allow-remote", action="store_true",
                    help="allow a bind other than loopback; requests then need the token")
    ap.add_argument("--token", help="the token to require (default: a random one with "
                                    "--allow-remote)")
    ap.add_argument("--scan-period-ms", type=int, default=1000,
                    help="hot-plug scan period (default 1000)")
    ap.add_argument("--misses", type=int, default=2,
                    help="scans a drive may miss before it leaves the table (default 2)")
    ap.add_argument("--timeout-ms", type=int, default=1000,
                    help="request timeout of the drives (default 1000)")
    ap.add_argument("--log-level", default="warning",
                    help="server log level (default warning)")
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if not 0 <= args.port <= 65535:
        ap.error(f"--port {args.port}: expected 0..65535")
    if args.scan_period_ms <= 0 or args.timeout_ms <= 0 or args.misses < 0:
        ap.error("--scan-period-ms and --timeout-ms must be above 0, --misses at least 0")
    loopback = is_loopback(args.bind)
    if not loopback and not args.allow_remote:
        ap.error(f"--bind {args.bind}: not a loopback address; the console controls "
                 "motion, so serving it beyond this machine needs --allow-remote (a "
                 "token is then required on every request)")
    missing = missing_requirements()
    if missing:
        print(f"axlink web: the web extra is not installed (missing: {', '.join(missing)}).\n"
              "Install it: pip install 'axlink[web]' (Debian: apt-get install "
              "python3-starlette python3-uvicorn python3-websockets)", file=sys.stderr)
        return 1
    import uvicorn

    from ._app import create_app

    token = args.token
    if args.allow_remote and not token:
        token = secrets.token_urlsafe(24)
    hosts = None
    if loopback and token is None:
        # Only the names this server is reached by on loopback: a page of
        # another site that rebinds its name to 127.0.0.1 is refused.
        bind = f"[{args.bind}]" if ":" in args.bind else args.bind
        hosts = sorted({"127.0.0.1", "localhost", "[::1]", bind.lower()})
    app = create_app(args.specs, token=token, scan_period=args.scan_period_ms / 1000.0,
                     misses=args.misses, timeout=args.timeout_ms / 1000.0,
                     allowed_hosts=hosts)
    config = uvicorn.Config(app, host=args.bind, port=args.port, log_level=args.log_level,
                            lifespan="on", ws="auto")
    server = uvicorn.Server(config)

    shown_host = f"[{args.bind}]" if ":" in args.bind else args.bind
    orig_startup = server.startup

    async def startup(sockets=None):  # type: ignore[no-untyped-def]
        await orig_startup(sockets=sockets)
        if server.should_exit:
            return
        port = args.port
        for s in getattr(server, "servers", []):
            for sock in s.sockets:
                port = sock.getsockname()[1]
                break
        url = f"http://{shown_host}:{port}/"
        if token:
            url += f"?token={token}"
            print(f"axlink web: token {token}", flush=True)
        print(f"axlink web: serving {url}", flush=True)

    server.startup = startup
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
