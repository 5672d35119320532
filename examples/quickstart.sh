#!/usr/bin/env bash
# The main job, end to end on a fresh Debian/Ubuntu machine: install what is
# missing, build axlink, list the transport plugins, then talk to a simulated
# drive through the in-process `virtual` transport.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/deps.sh
axlink_install_deps

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
ax=build/release/bin/axlink
drive='virtual:?model=axs-100&serial=1001'

run() {
	printf '\n$ axlink %s\n' "$*"
	"$ax" "$@"
}

run plugins
run read "$drive" 0x6E0:u32 --subnode 0           # vendor id
run read "$drive" 0x6E1:u32 --subnode 0 --json    # product code
run read "$drive" 0x6E4:str --subnode 0           # software version (extended frame)
run read "$drive" 0x011:u16                        # CiA 402 status word, axis 1
run write "$drive" 0x020:s32 --json -- -4096      # position set point
run read "$drive" 0x060:float                      # bus voltage
printf '\n$ axlink read %s 0x7FF:u32   # no such register: the drive says so\n' "$drive"
if "$ax" read "$drive" 0x7FF:u32; then
	echo "unexpected success" >&2
	exit 1
fi
