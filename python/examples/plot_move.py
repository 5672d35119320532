#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sample the position during a move and save a plot as PNG.

    python3 plot_move.py URI [OUT.png]

Needs matplotlib, an optional dependency: `pip install matplotlib` (or
install the package with `pip install "./python[plot]"`). Without hardware:
`python3 plot_move.py "virtual:?model=axs-100" move.png`.
"""
import sys
import time

import axlink


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    uri = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "move.png"
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only, no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_move.py needs matplotlib: pip install matplotlib", file=sys.stderr)
        return 1

    times, positions = [], []
    try:
        with axlink.open(uri) as drive:
            axis = drive.axes[1]
            axis.enable()
            axis.units = "rev"
            axis.move_to(0.0, velocity=5.0)
            t0 = time.monotonic()
            axis.move_to(3.0, velocity=4.0, acceleration=20.0, wait=False)

            # Runs after every status word read of the wait.
            def sample(statusword: int) -> None:
                times.append(time.monotonic() - t0)
                positions.append(axis.position)

            axis.wait_target_reached(on_poll=sample)
            axis.disable()
    except axlink.Error as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(times, positions, marker=".")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("position (rev)")
    ax.set_title(f"move to 3 rev on {uri}")
    ax.grid(True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"{len(positions)} samples, saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
