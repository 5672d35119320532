#!/usr/bin/env bash
# The main job, end to end on a fresh Debian/Ubuntu machine: install what is
# missing, build axlink, start simulated drives on loopback, find them over
# Ethernet, print their identities, then read and write registers.
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

run scan eth://127.0.0.0/29                      # finds the three drives
run read eth://127.0.0.3 0x6E6:u32 --subnode 0   # serial of the second drive
run read eth://127.0.0.2 0x6E4:str --subnode 0   # software version (extended frame)
run read eth://127.0.0.2 0x011:u16               # CiA 402 status word, axis 1
run write eth://127.0.0.2 0x020:s32 -4096 --json # position set point
run read eth://127.0.0.2 0x020:s32
run read eth://127.0.0.4 0x060:float             # bus voltage
printf '\n$ axlink read eth://127.0.0.2 0x7FF:u32   # no such register: the drive says so\n'
if "$ax" read eth://127.0.0.2 0x7FF:u32; then
	echo "unexpected success" >&2
	exit 1
fi

# The same drive model also runs in process, without any network.
run read 'virtual:?model=axs-200' 0x0A0:u16 --subnode 0   # axis count
