#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Find every drive and print a table of them.

    python3 discover_table.py                      # every transport's defaults
    python3 discover_table.py eth://192.168.2.0/24  # one network
    python3 discover_table.py "eth://127.0.0.2,127.0.0.3,serial"

Try it without hardware: `axlink-sim --eth 127.0.0.2 --count 3` in another
shell, then `python3 discover_table.py eth://127.0.0.0/29`.
"""
import sys

import axlink


def main() -> int:
    spec = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        results = axlink.discover(spec, timeout=2.0)
    except axlink.Error as e:
        print(f"discover: {e}", file=sys.stderr)
        return 1
    rows = [("URI", "MODEL", "SERIAL", "FIRMWARE", "DICTIONARY", "STATUS")]
    for r in results:
        rows.append((r.uri, r.model or "?", "" if r.serial is None else str(r.serial),
                     r.sw_version or "", r.match,
                     "ok" if r.ok else f"{r.access}: {r.message} {r.hint}".strip()))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"{sum(r.ok for r in results)} drive(s) found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
