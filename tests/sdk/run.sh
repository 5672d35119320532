#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The plugin SDK as a third party meets it: install this build into a
# temporary prefix, build examples/transport-tcp against that prefix alone
# (a copy of its sources, CMAKE_PREFIX_PATH=<prefix>, no path into this
# tree), load it through AXLINK_PLUGIN_PATH into the installed axlink, and
# run reads and writes through it against the installed axlink-sim --tcp
# (tests/sdk/test_tcp.py). Then install the plugin and check the installed
# library finds it in its own plugin folder.
#
#   tests/sdk/run.sh BUILD_DIR [--cc COMPILER] [--sanitize] [--python PYTHON]
#
# ctest runs it as `sdk_out_of_tree` (label sdk). AXLINK_SDK_KEEP=1 keeps
# the temporary folder for a look after a failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=
cc=${CC:-cc}
python=/usr/bin/python3
sanitize=0
while [ $# -gt 0 ]; do
	case $1 in
	--cc) cc=$2; shift 2 ;;
	--python) python=$2; shift 2 ;;
	--sanitize) sanitize=1; shift ;;
	-*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	*) build=$1; shift ;;
	esac
done
if [ -z "$build" ] || [ ! -f "$build/CMakeCache.txt" ]; then
	echo "usage: run.sh BUILD_DIR [--cc COMPILER] [--sanitize] [--python PYTHON]" >&2
	echo "run.sh: '$build' is not a configured axlink build folder" >&2
	exit 2
fi
build=$(cd "$build" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/axlink-sdk.XXXXXX")
cleanup() {
	if [ "${AXLINK_SDK_KEEP:-0}" = 1 ]; then
		echo "sdk: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

fail() {
	echo "sdk: FAIL: $*" >&2
	exit 1
}
step() {
	echo "sdk: $*"
}

prefix=$work/prefix
flags="-Werror"
if [ "$sanitize" = 1 ]; then
	flags="$flags -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
fi
# Nothing from the environment may lead the build back to this tree or to another axlink.
unset AXLINK_PLUGIN_PATH AXLINK_DB CMAKE_PREFIX_PATH PKG_CONFIG_PATH CPATH C_INCLUDE_PATH \
	LIBRARY_PATH LD_LIBRARY_PATH || true

step "install $build into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; fail "cmake --install"; }
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
libdir=${libdir:-lib}
for f in include/axlink/plugin.h "$libdir/cmake/axlink/axlinkConfig.cmake" \
	"$libdir/cmake/axlink/axlinkPlugin.cmake" "$libdir/pkgconfig/axlink.pc" \
	bin/axlink bin/axlink-sim share/axlink/devices.db; do
	[ -e "$prefix/$f" ] || fail "the install lacks $f"
done
plugindir=$(ls -d "$prefix/$libdir"/axlink-[0-9]*)
[ -d "$plugindir" ] || fail "the install has no plugin folder under $prefix/$libdir"
# The installed tools must run on the installed library (RUNPATH $ORIGIN/../lib), not the build's.
for tool in axlink axlink-sim; do
	found=$(ldd "$prefix/bin/$tool" | awk '/libaxlink/ { print $3 }')
	[ "$(cd "$(dirname "$found")" && pwd -P)" = "$(cd "$prefix/$libdir" && pwd -P)" ] ||
		fail "installed $tool loads libaxlink from '$found', not from $prefix/$libdir"
done

# A copy of the example, so that nothing relative to this tree can be reached.
cp -R "$src/examples/transport-tcp" "$work/transport-tcp"
cp -R "$here/client" "$work/client"

step "configure and build examples/transport-tcp against $prefix"
configure() { # SRC BIN
	cmake -S "$1" -B "$2" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
		-DCMAKE_C_FLAGS="$flags" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
		>"$2.log" 2>&1 || { cat "$2.log" >&2; fail "configure $1"; }
	cmake --build "$2" >>"$2.log" 2>&1 || { cat "$2.log" >&2; fail "build $1"; }
	found=$(sed -n 's/^axlink_DIR:[A-Z]*=//p' "$2/CMakeCache.txt")
	[ "$found" = "$prefix/$libdir/cmake/axlink" ] ||
		fail "$1 found axlink in '$found', not in the temporary prefix"
	# The sources are a copy: any path into this tree (an -I, say) means it
	# was not built from the install alone.
	if grep -F -- "$src/" "$2/compile_commands.json"; then
		fail "$1 compiled with paths into the source tree $src"
	fi
}
configure "$work/transport-tcp" "$work/tcp-build"
plugin=$work/tcp-build/axlink-transport-tcp.so
[ -f "$plugin" ] || fail "the example did not produce axlink-transport-tcp.so"

step "check the plugin: no libaxlink, one exported symbol"
if readelf -d "$plugin" | grep -q 'NEEDED.*libaxlink'; then
	fail "the plugin links libaxlink; it must reach the core through the host table only"
fi
exports=$(nm -D --defined-only "$plugin" | awk '$2 ~ /^[TDBRV]$/ { print $3 }' | sort)
[ "$exports" = axlink_transport_entry ] ||
	fail "the plugin exports '${exports//$'\n'/ }', expected only axlink_transport_entry"

if [ "$sanitize" = 0 ]; then
	step "axlink_add_transport_plugin() refuses a plugin that calls into libaxlink"
	mkdir "$work/undef"
	cat >"$work/undef/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(undef LANGUAGES C)
find_package(axlink REQUIRED)
axlink_add_transport_plugin(undef SOURCES undef.c NO_INSTALL)
CMAKE
	cat >"$work/undef/undef.c" <<'C'
#include <axlink/axlink.h>
#include <axlink/plugin.h>
/* The mistake --no-undefined exists for: a call into the library, not the host table. */
AX_PLUGIN_EXPORT const char *axlink_transport_entry(void);
AX_PLUGIN_EXPORT const char *axlink_transport_entry(void)
{
	return ax_version();
}
C
	cmake -S "$work/undef" -B "$work/undef/build" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_C_COMPILER="$cc" >"$work/undef.log" 2>&1 || { cat "$work/undef.log" >&2; fail "configure undef"; }
	if cmake --build "$work/undef/build" >>"$work/undef.log" 2>&1; then
		fail "a plugin with an undefined reference to ax_version linked"
	fi
	grep -q "undefined reference to .ax_version" "$work/undef.log" ||
		{ cat "$work/undef.log" >&2; fail "undef: the link failed, but not on ax_version"; }
fi

step "pkg-config: plugindir and the one-line build of docs/plugins.md"
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
pcdir=$(pkg-config --variable=plugindir axlink)
[ "$(cd "$pcdir" && pwd -P)" = "$(cd "$plugindir" && pwd -P)" ] ||
	fail "pkg-config plugindir '$pcdir' is not the installed plugin folder '$plugindir'"
mkdir "$work/pc-build"
# shellcheck disable=SC2046,SC2086
"$cc" -std=c11 -shared -fPIC -fvisibility=hidden $flags $(pkg-config --cflags axlink) \
	"$work/transport-tcp/tcp.c" -o "$work/pc-build/axlink-transport-tcp.so" \
	$([ "$sanitize" = 1 ] || echo -Wl,--no-undefined) ||
	fail "the pkg-config build of tcp.c"
unset PKG_CONFIG_PATH

step "build a program that links the installed libaxlink (find_package + axlink::axlink)"
configure "$work/client" "$work/client-build"

step "run the tcp plugin against the installed simulator"
AXLINK_SDK_PREFIX=$prefix AXLINK_SDK_PLUGIN_DIR=$work/tcp-build \
	AXLINK_SDK_SESSION=$work/client-build/axlink-session PYTHONDONTWRITEBYTECODE=1 \
	"$python" -m pytest -q -p no:cacheprovider "$here/test_tcp.py" ||
	fail "tests/sdk/test_tcp.py"

step "install the plugin: the installed axlink finds it without AXLINK_PLUGIN_PATH"
cmake --install "$work/tcp-build" >"$work/tcp-install.log" 2>&1 ||
	{ cat "$work/tcp-install.log" >&2; fail "cmake --install of the example"; }
[ -f "$plugindir/axlink-transport-tcp.so" ] ||
	fail "the example installed somewhere other than $plugindir"
"$prefix/bin/axlink" plugins --json >"$work/plugins.json" || fail "axlink plugins --json"
"$python" - "$work/plugins.json" "$plugindir/axlink-transport-tcp.so" <<'PY' ||
import json, sys
rows = json.load(open(sys.argv[1]))
want = sys.argv[2]
tcp = [r for r in rows if r["scheme"] == "tcp"]
if len(tcp) != 1 or tcp[0]["status"] != "loaded" or tcp[0]["path"] != want:
    sys.exit(f"expected one tcp row, loaded from {want}; got {tcp}")
PY
	fail "the installed plugin is not loaded from the plugin folder"

step "ok"
