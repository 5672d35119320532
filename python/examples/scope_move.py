#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Capture a move with the drive's own oscilloscope and save a plot as PNG.

    python3 scope_move.py URI [OUT.png | OUT.csv]

The drive samples position and velocity inside its control loop (every
200 us here: 4 x its 50 us base period), starting at the first movement
(a rising edge of the velocity, with 50 samples before it), and the
library reads the buffer afterwards: no sample depends on the bus. Compare
plot_move.py, which polls from the host. An OUT ending in .csv saves the
samples instead. Plotting needs matplotlib (Debian: python3-matplotlib).
Without hardware: `python3 scope_move.py "virtual:?model=axs-100" scope.png`.
"""
import sys

import axlink

POS, VEL = "CL_POS_FBK_VALUE", "CL_VEL_FBK_VALUE"  # counts, rev/s


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    uri = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "scope.png"
    as_csv = out.lower().endswith(".csv")
    if not as_csv:
        try:
            import matplotlib
            matplotlib.use("Agg")  # files only, no display needed
            import matplotlib.pyplot as plt
        except ImportError:
            print("scope_move.py needs matplotlib: apt install python3-matplotlib "
                  "(or pip install matplotlib)", file=sys.stderr)
            return 1

    try:
        with axlink.open(uri) as drive:
            counts_per_rev = drive.read("FBK_DIGENC1_RESOLUTION")
            axis = drive.axes[1]
            axis.enable()
            axis.units = "rev"
            axis.move_to(0.0, velocity=5.0)
            with axlink.Scope(drive, [POS, VEL], period=200e-6, samples=2048,
                              trigger=(VEL, "rising", 0.01), pre=50) as scope:
                scope.arm()  # waiting for the first movement from here on
                axis.move_to(2.0, velocity=10.0, acceleration=100.0, wait=False)
                scope.wait(timeout=5.0)
                result = scope.fetch()
            axis.wait_target_reached()
            axis.disable()
    except axlink.Error as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1

    if as_csv:
        result.to_csv(out)
        print(f"{len(result)} samples every {result.period * 1e6:g} us, saved {out}")
        return 0
    fig, (ax_pos, ax_vel) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
    ax_pos.plot(result.t * 1e3, result[POS] / counts_per_rev)
    ax_pos.set_ylabel("position (rev)")
    ax_pos.set_title(f"move to 2 rev on {uri}, captured by the drive")
    ax_pos.grid(True)
    ax_vel.plot(result.t * 1e3, result[VEL], color="tab:orange")
    ax_vel.set_ylabel("velocity (rev/s)")
    ax_vel.set_xlabel("time from the first movement (ms)")
    ax_vel.grid(True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"{len(result)} samples every {result.period * 1e6:g} us, saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
