#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Open a drive, show what it is, read and write registers, browse its dictionary.

    python3 registers.py eth://127.0.0.2 [search words...]

Without hardware: `axlink-sim --eth 127.0.0.2` in another shell, or use the
in-process simulated drive: `python3 registers.py "virtual:?model=axs-200"`.
"""
import sys

import axlink


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    uri, words = sys.argv[1], " ".join(sys.argv[2:]) or "velocity"
    try:
        with axlink.open(uri, timeout=1.0) as drive:
            print(drive.info)
            print()
            # By name: the type comes from the dictionary.
            print("status word:   ", hex(drive.read("DRV_STATE_STATUS")))
            print("bus voltage:   ", drive.read("DRV_PROT_VBUS_VALUE"), "V")
            print("firmware:      ", drive.read("DRV_APP_COCO_VERSION"))
            # By address, without a dictionary: subnode 0, 0x6E6, u32.
            print("serial number: ", drive.read_raw(0x6E6, "u32", subnode=0))

            # Write, then read back, on every axis.
            for n, axis in drive.axes.items():
                axis.write("PROF_MAX_VEL", 10.0 * n)
                print(f"axis {n} max velocity:", axis.read("PROF_MAX_VEL"), "rev/s")

            if drive.dictionary is not None:
                print(f"\nregisters matching {words!r}:")
                for reg in drive.dictionary.search(words):
                    value = drive.read(reg) if reg.readable else "(write-only)"
                    rng = f" range {reg.range[0]}..{reg.range[1]}" if reg.range else ""
                    print(f"  {reg.id:32} subnode {reg.subnode} {reg.dtype:5} "
                          f"{reg.access:2} = {value} {reg.units}{rng}")
                mode = drive.dictionary["DRV_OP_CMD"]
                print("\noperation modes:", ", ".join(f"{v:#x} {lab}"
                                                     for v, lab in mode.enums.items()))
    except axlink.NackError as e:
        print(f"the drive refused: {e} (code {e.drive_code:#010x}: {e.drive_text})",
              file=sys.stderr)
        return 1
    except axlink.Error as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
