#!/usr/bin/env bash
# Compare the ABI libaxlink exports with the recorded baseline
# (.ci/abi/libaxlink.abi) using abidiff from libabigail (Debian: abigail-tools).
#
#   bash .ci/abi-check.sh [BUILD_DIR]            check (default BUILD_DIR: build/ci)
#   bash .ci/abi-check.sh --update [BUILD_DIR]   record the baseline anew
#
# The library must carry debug info (RelWithDebInfo or Debug): abidw reads
# the types from DWARF. When BUILD_DIR has no library yet, it is configured
# RelWithDebInfo and built. What counts: the exported functions and
# variables, and the structs and enums the public headers (include/axlink)
# define. Functions and variables added are compatible and pass; anything
# else (a symbol removed, a signature, struct or enum changed) fails. The
# layout of opaque objects (ax_ctx, ax_dict, ... defined in src/) is not ABI.
#
# An ABI change on purpose (pre-1.0: with a minor version bump, see
# include/axlink/common.h): run with --update, commit the new baseline with
# the change, and say in the commit message what changed and why.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
baseline=$root/.ci/abi/libaxlink.abi
headers=$root/include/axlink

update=0
if [ "${1:-}" = "--update" ]; then
	update=1
	shift
fi
build=${1:-build/ci}

for tool in abidw abidiff readelf; do
	if ! command -v "$tool" >/dev/null; then
		echo "abi-check: $tool not found (Debian: apt-get install abigail-tools binutils)" >&2
		exit 2
	fi
done

if [ ! -e "$build/lib/libaxlink.so" ]; then
	echo "== abi-check: building $build (RelWithDebInfo)"
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAXLINK_WERROR=ON >/dev/null
	cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target axlink >/dev/null
fi
lib=$(readlink -f "$build/lib/libaxlink.so")
if ! readelf -S --wide "$lib" | grep -q '\.debug_info'; then
	echo "abi-check: $lib has no debug info; build it with -DCMAKE_BUILD_TYPE=RelWithDebInfo" >&2
	exit 2
fi

# Stable output: no absolute paths and no line numbers, so the baseline
# changes only when the ABI does.
abidw_flags=(--headers-dir "$headers" --drop-private-types --no-corpus-path --no-comp-dir-path
	--no-show-locs)

if [ "$update" = 1 ]; then
	mkdir -p "$(dirname "$baseline")"
	abidw "${abidw_flags[@]}" --out-file "$baseline" "$lib"
	echo "abi-check: recorded the ABI of $lib in ${baseline#"$root"/}"
	exit 0
fi

if [ ! -s "$baseline" ]; then
	echo "abi-check: no baseline ${baseline#"$root"/}; record one with:" \
		"bash .ci/abi-check.sh --update" >&2
	exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abidw "${abidw_flags[@]}" --out-file "$tmp/current.abi" "$lib"

# Opaque objects (typedef struct ax_ctx ax_ctx;) are defined in src/, yet
# DWARF carries their layout and abidw keeps it. Only the structs the public
# headers define count: changes to any other struct are not reported.
public=$(grep -hoE '^(typedef )?(struct|union) [a-z_0-9]+ \{' "$headers"/*.h |
	awk '{print $(NF-1)}' | sort -u | paste -sd'|')
printf '[suppress_type]\n  label = structs defined outside include/axlink\n' >"$tmp/suppr"
printf '  type_kind = struct\n  name_not_regexp = ^(%s)$\n' "$public" >>"$tmp/suppr"
abidiff_flags=(--suppressions "$tmp/suppr")

# abidiff's status is a bit set: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change. Added symbols alone give 4: compatible. So
# compare once more without added symbols; a change then left fails.
status=0
abidiff "${abidiff_flags[@]}" "$baseline" "$tmp/current.abi" >"$tmp/report" 2>&1 || status=$?
if [ "$status" -eq 0 ]; then
	echo "abi-check: the ABI of ${lib#"$root"/} matches ${baseline#"$root"/}"
	exit 0
fi
if [ $((status & 3)) -ne 0 ]; then
	cat "$tmp/report" >&2
	echo "abi-check: abidiff failed (status $status)" >&2
	exit 2
fi
rest=0
abidiff "${abidiff_flags[@]}" --no-added-syms "$baseline" "$tmp/current.abi" >"$tmp/rest" 2>&1 ||
	rest=$?
if [ $((status & 8)) -eq 0 ] && [ "$rest" -eq 0 ]; then
	cat "$tmp/report"
	echo "abi-check: only additions, compatible; record them with: bash .ci/abi-check.sh --update"
	exit 0
fi
cat "$tmp/report" >&2
cat >&2 <<EOF
abi-check: FAILED: the exported ABI differs from ${baseline#"$root"/} (abidiff status $status).
If the change is deliberate (pre-1.0: bump AX_VERSION_MINOR in include/axlink/common.h and
the project VERSION in CMakeLists.txt), record the new baseline and commit it with the change:
    bash .ci/abi-check.sh --update $build
EOF
exit 1
