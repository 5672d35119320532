#!/usr/bin/env bash
# The main job, end to end on a fresh Debian/Ubuntu machine: install what is
# missing, build axlink, start simulated drives on loopback, discover them
# with their dictionaries, read registers by name, and move one.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/deps.sh
axlink_install_deps

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
bin=build/release/bin
ax=$bin/axlink

run() {
	printf '\n$ axlink %s\n' "$*"
	"$ax" "$@"
}

run plugins

# Three simulated drives, each on its own loopback address, serving MCB over
# UDP port 1061. The simulator prints each drive's URI once it is serving.
uris=$(mktemp)
"$bin"/axlink-sim --eth 127.0.0.2 --count 3 --serial 5001 >"$uris" &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -f "$uris"' EXIT
for _ in $(seq 100); do
	[ "$(wc -l <"$uris")" -ge 3 ] && break
	sleep 0.05
done
printf '\nsimulator serving:\n'
cat "$uris"

run list eth://127.0.0.0/29                      # discover: identity + dictionary of each drive
run info eth://127.0.0.3                         # one drive: dictionary match, axes, states
run read eth://127.0.0.3 DRV_ID_SERIAL_NUMBER_COCO   # by name, from the drive's dictionary
run read eth://127.0.0.2 DRV_PROT_VBUS_VALUE --json  # with units
run read eth://127.0.0.2 0x6E1:u32 --subnode 0   # or by address and type

# Move one: enable the axis through the CiA 402 state machine, then a
# profile move of 90 degrees (counts from the encoder resolution).
run enable eth://127.0.0.2
run move eth://127.0.0.2 90 --units deg --velocity 180
run state eth://127.0.0.2 --units deg --json
run disable eth://127.0.0.2

printf '\n$ axlink read eth://127.0.0.2 0x7FF:u32   # no such register: the drive says so\n'
if "$ax" read eth://127.0.0.2 0x7FF:u32; then
	echo "unexpected success" >&2
	exit 1
fi

# The same drive model also runs in process, without any network.
run read 'virtual:?model=axs-200' 0x0A0:u16 --subnode 0   # axis count
