#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Enable an axis, move it, and take it off again.

    python3 enable_and_move.py URI [AXIS]

Without hardware: `python3 enable_and_move.py "virtual:?model=axs-200" 2`,
or `axlink-sim --eth 127.0.0.2` in another shell and URI eth://127.0.0.2.
"""
import sys

import axlink


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    uri = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    try:
        with axlink.open(uri) as drive:
            axis = drive.axes[n]
            print(f"{drive.info.model} axis {n}: {axis.state}, mode {axis.mode}, "
                  f"{axis.resolution:.0f} counts/rev")
            axis.enable()  # resets a fault first; every step confirmed by the status word
            print("enabled:", axis.state)
            axis.units = "rev"
            axis.move_to(2.0, velocity=5.0)  # returns at target reached
            print(f"at {axis.position:.3f} rev")
            axis.move_to(-0.5, relative=True, velocity=5.0)
            print(f"at {axis.position:.3f} rev")
            axis.disable()
            print("disabled:", axis.state)
    except KeyError:
        print(f"{uri} has no axis {n}", file=sys.stderr)
        return 1
    except axlink.Error as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
