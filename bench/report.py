#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One table and one JSON file from the outputs of every benchmark (bench/run).

A benchmark's output is read by this rule, which every benchmark in bench/
follows (bench_eth.c and bench_db.c are examples):

    bench_x: what was measured, how many rounds...     <- first line: title
    what        us/read      reads/s      ratio        <- table header: "what",
    udp-echo      22.10        45249   baseline           then column names
    axlink        25.40        39370       1.15        <- one row per figure
    axlink / raw-frame = 1.02 (...)                    <- anything else: a note

The row whose ratio cell says "baseline" is the table's baseline, measured
in the same run; the other rows' ratios are to it. The first column after
"what" is the figure (its name is its unit); the others are kept in the JSON.
A benchmark may print several tables; a line right above a header (no
blank line between) is that table's title. A row without a ratio cell gets one computed from the first column.

usage: report.py --out FILE [--history FILE] [--build-type T]
                 NAME:EXIT:SECONDS:OUTPUT_FILE ...
"""
import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys

SCHEMA = 1


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def parse_output(text):
    """Title, tables and notes of one benchmark's output."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    title = lines[0] if lines else ""
    tables, notes = [], []
    table = None
    last_note = None
    for ln in lines[1:]:
        cells = ln.split()
        if cells and cells[0] == "what" and len(cells) >= 2:
            # The line just before a table says what it is, when there are several.
            table = {"title": last_note, "columns": cells[1:], "baseline": None, "rows": []}
            tables.append(table)
            last_note = None
            continue
        if table is not None and len(cells) == len(table["columns"]) + 1:
            row = {"what": cells[0], "values": {}, "ratio": None, "baseline": False}
            values = [number(c) for c in cells[1:]]
            # A row of the table has a number in every column but the ratio.
            if all(v is not None for c, v in zip(table["columns"], values) if c != "ratio"):
                for col, cell, v in zip(table["columns"], cells[1:], values):
                    if col == "ratio":
                        row["baseline"] = cell == "baseline"
                        row["ratio"] = 1.0 if row["baseline"] else v
                    else:
                        row["values"][col] = v
                if row["baseline"] and table["baseline"] is None:
                    table["baseline"] = row["what"]
                table["rows"].append(row)
                continue
        table = None
        # Only a line right above a header (no blank line between) is its title.
        last_note = ln.strip() or None
        if last_note:
            notes.append(last_note)
    for t in tables:
        fill_ratios(t)
    return title, tables, notes


def fill_ratios(table):
    """Ratios the benchmark left out, from the first column and the baseline row."""
    first = table["columns"][0]
    base = next((r for r in table["rows"] if r["baseline"]), None)
    if base is None:
        return
    base_value = base["values"].get(first)
    for r in table["rows"]:
        if r["baseline"] or r["ratio"] is not None:
            continue
        v = r["values"].get(first)
        if v is not None and base_value:
            r["ratio"] = round(v / base_value, 4)


def git_commit(root):
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "-uno"],
                               capture_output=True, text=True, check=True,
                               timeout=10).stdout.strip() != ""
        return head, dirty
    except (OSError, subprocess.SubprocessError):
        return None, None


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def print_table(benches):
    rows = [("benchmark", "figure", "value", "unit", "baseline", "ratio")]
    for b in benches:
        if b["exit"] != 0:
            rows.append((b["name"], "FAILED", f"exit {b['exit']}", "", "", ""))
            continue
        if not b["tables"]:
            rows.append((b["name"], "no table in its output", "", "", "", ""))
            continue
        for k, t in enumerate(b["tables"]):
            unit = t["columns"][0]
            # Several tables: number them; the notes below give their titles.
            name = f"{b['name']} #{k + 1}" if len(b["tables"]) > 1 else b["name"]
            for r in t["rows"]:
                rows.append((name, r["what"], fmt(r["values"].get(unit)), unit,
                             "(baseline)" if r["baseline"] else (t["baseline"] or "-"),
                             "1.00" if r["baseline"] else
                             ("-" if r["ratio"] is None else f"{r['ratio']:.2f}")))
    notes = []
    for b in benches:
        if b["exit"] != 0:
            continue
        titles = [t["title"] for t in b["tables"]] if len(b["tables"]) > 1 else []
        for k, title in enumerate(titles):
            if title:
                notes.append(f"{b['name']} #{k + 1}: {title}")
        notes += [f"{b['name']}: {n}" for n in b["notes"] if n not in titles]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {2, 5}
    for n, r in enumerate(rows):
        print("  ".join(c.rjust(w) if i in right else c.ljust(w)
                        for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    if notes:
        print()
        print("\n".join(notes))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="results.json to write")
    ap.add_argument("--history", help="JSON lines file to append this run to")
    ap.add_argument("--build-type", default="")
    ap.add_argument("runs", nargs="+", help="NAME:EXIT:SECONDS:OUTPUT_FILE")
    args = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    benches = []
    for spec in args.runs:
        parts = spec.split(":", 3)
        if len(parts) != 4:
            ap.error(f"'{spec}' is not NAME:EXIT:SECONDS:OUTPUT_FILE")
        name, code, seconds, path = parts
        with open(path, encoding="utf-8", errors="replace") as f:
            title, tables, notes = parse_output(f.read())
        benches.append({"name": name, "exit": int(code), "seconds": float(seconds),
                        "title": title, "tables": tables, "notes": notes})

    commit, dirty = git_commit(root)
    result = {
        "schema": SCHEMA,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": commit,
        "dirty": dirty,
        "build_type": args.build_type,
        "benchmarks": benches,
    }
    print_table(benches)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    if args.history:
        with open(args.history, "a", encoding="utf-8") as f:
            f.write(json.dumps(result, separators=(",", ":")) + "\n")
    print(f"\nresults: {args.out}" + (f" (history: {args.history})" if args.history else ""))
    failed = [b["name"] for b in benches if b["exit"] != 0 or not b["tables"]]
    if failed:
        print("bench: failed or printed no table: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
