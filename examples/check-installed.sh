#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# examples/check-installed.sh PREFIX
#
# Build the C examples against an axlink installed in PREFIX (cmake --install
# BUILD --prefix PREFIX) the two ways a user does, from a copy of their
# sources so nothing can reach back into this tree:
#   - CMake: find_package(axlink) with CMAKE_PREFIX_PATH=PREFIX;
#   - pkg-config: cc $(pkg-config --cflags --libs axlink), PKG_CONFIG_PATH
#     pointing at PREFIX;
# then run each build of move_axis against PREFIX/bin/axlink-sim on
# 127.0.0.2 and .3 (CI runs it as is; by hand, in a network namespace:
# unshare -n sh -c 'ip link set lo up && examples/check-installed.sh P').
set -euo pipefail

die() {
	echo "check-installed: FAIL: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 PREFIX"
prefix=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$prefix/include/axlink/axlink.h" ] || die "no axlink installed in $prefix"
libdir=$(dirname "$(find "$prefix" -name axlink.pc -path '*/pkgconfig/*' | head -1)")
libdir=${libdir%/pkgconfig}
[ -d "$libdir" ] || die "no pkgconfig/axlink.pc under $prefix"

unset AXLINK_PLUGIN_PATH AXLINK_DB CMAKE_PREFIX_PATH PKG_CONFIG_PATH CPATH C_INCLUDE_PATH \
	LIBRARY_PATH LD_LIBRARY_PATH || true
work=$(mktemp -d "${TMPDIR:-/tmp}/axlink-examples.XXXXXX")
sim=
cleanup() {
	[ -z "$sim" ] || { kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT
cp -R "$here/move-axis" "$work/src"

echo "-- move-axis with find_package(axlink)"
cmake -S "$work/src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_FLAGS="-Wall -Wextra -Werror" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
	>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; die "configure"; }
cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; die "build"; }
found=$(sed -n 's/^axlink_DIR:[A-Z]*=//p' "$work/cmake/CMakeCache.txt")
[ "$found" = "$libdir/cmake/axlink" ] || die "find_package found axlink in '$found', not in $prefix"

echo "-- move-axis with pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
mkdir "$work/pc"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "$work/src/move_axis.c" -o "$work/pc/move_axis" \
	$(pkg-config --cflags --libs axlink) -Wl,-rpath,"$(pkg-config --variable=libdir axlink)" ||
	die "the pkg-config build"
unset PKG_CONFIG_PATH

for exe in "$work/cmake/move_axis" "$work/pc/move_axis"; do
	loaded=$(ldd "$exe" | awk '/libaxlink/ { print $3 }')
	[ "$(realpath "$(dirname "$loaded")")" = "$(realpath "$libdir")" ] ||
		die "$exe loads libaxlink from '$loaded', not from $libdir"
done

echo "-- run both against the installed simulator"
"$prefix/bin/axlink-sim" --eth 127.0.0.2 --count 2 --serial 7001 >"$work/sim.uris" 2>"$work/sim.log" &
sim=$!
for _ in $(seq 200); do
	[ "$(wc -l <"$work/sim.uris")" -ge 2 ] && break
	kill -0 "$sim" 2>/dev/null || die "axlink-sim exited: $(cat "$work/sim.log")"
	sleep 0.05
done
n=0
for exe in "$work/cmake/move_axis" "$work/pc/move_axis"; do
	uri=eth://127.0.0.$((2 + n))
	n=$((n + 1))
	out=$("$exe" "$uri" 90) || die "$exe $uri: $out"
	echo "$out"
	grep -q "serial 700$n" <<<"$out" || die "$exe: not the drive with serial 700$n"
	grep -Eq '^DRV_PROT_VBUS_VALUE +[0-9.]+ V$' <<<"$out" || die "$exe: no bus voltage in V"
	grep -Eq '^moved by 90 deg: at (89\.9[0-9]|90\.[0-9]+) deg$' <<<"$out" ||
		die "$exe: the axis did not end at 90 deg"
done
echo "-- ok"
