#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sample position and velocity during a move and save a plot as PNG.

    python3 plot_move.py URI [OUT.png | OUT.csv]

The samples come from drive.poll(): the library's own thread reads both
registers every 2 ms while the move runs, so the plot's time axis is the
drive's, not Python's. An OUT ending in .csv saves the samples instead of a
plot. The plot needs matplotlib, an optional dependency: `pip install
matplotlib` (or install the package with `pip install "./python[plot]"`).
Without hardware: `python3 plot_move.py "virtual:?model=axs-100" move.png`.
"""
import sys

import axlink

PERIOD_S = 0.002
POS, VEL = "CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"  # counts, rev/s


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    uri = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "move.png"
    as_csv = out.lower().endswith(".csv")
    if not as_csv:
        try:
            import matplotlib
            matplotlib.use("Agg")  # files only, no display needed
            import matplotlib.pyplot as plt
        except ImportError:
            print("plot_move.py needs matplotlib: pip install matplotlib", file=sys.stderr)
            return 1

    try:
        with axlink.open(uri) as drive:
            counts_per_rev = drive.read("FBK_DIGENC1_RESOLUTION")
            axis = drive.axes[1]
            axis.enable()
            axis.units = "rev"
            axis.move_to(0.0, velocity=5.0)
            with drive.poll([POS, VEL], PERIOD_S) as poller:  # sampling from here on
                axis.move_to(3.0, velocity=4.0, acceleration=20.0, wait=False)
                axis.wait_target_reached()
                poller.stop()
                samples = poller.collect()
            axis.disable()
    except axlink.Error as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1

    if as_csv:
        samples.to_csv(out)
        print(f"{len(samples)} samples ({samples.lost} lost), saved {out}")
        return 0
    t0 = samples.t[0] if len(samples) else 0.0
    times = [t - t0 for t in samples.t]
    positions = [c / counts_per_rev for c in samples[POS]]

    fig, (ax_pos, ax_vel) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
    ax_pos.plot(times, positions)
    ax_pos.set_ylabel("position (rev)")
    ax_pos.set_title(f"move to 3 rev on {uri}")
    ax_pos.grid(True)
    ax_vel.plot(times, list(samples[VEL]), color="tab:orange")
    ax_vel.set_ylabel("velocity (rev/s)")
    ax_vel.set_xlabel("time (s)")
    ax_vel.grid(True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"{len(samples)} samples ({samples.lost} lost), saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
