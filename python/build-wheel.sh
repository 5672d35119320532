#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# python/build-wheel.sh [OUT_DIR]  (default: ./dist)
#
# One self-contained manylinux wheel of axlink: `pip wheel ./python` builds
# the whole CMake project through scikit-build-core (the library, every
# transport plugin, the axlink and axlink-sim tools, devices.db, the cffi
# extension: python/pyproject.toml), then `auditwheel repair` copies every
# shared library they link that manylinux does not promise (libxml2 and the
# ICU it links, SQLite, libcrypto, libserialport, libusb, libudev, jansson,
# ...) into axlink.libs/ and points each ELF file's RPATH there. The plugins
# are dlopen()ed, not linked, but they are ELF files of the wheel, so
# auditwheel repairs them like the extension; tests/wheel/test_wheel.sh
# checks the result with ldd in a fresh venv.
#
# Needs the -dev packages and patchelf of .ci/deps.sh, and network access for
# PyPI (scikit-build-core and cffi for the isolated build; auditwheel).
# Environment: AXLINK_WHEEL_PYTHON (the interpreter the wheel is for, default
# /usr/bin/python3), AXLINK_WHEEL_TOOLS (venv holding auditwheel, default
# build/wheel-tools; made on first use).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-dist}")
python=${AXLINK_WHEEL_PYTHON:-/usr/bin/python3}
tools=${AXLINK_WHEEL_TOOLS:-$src/build/wheel-tools}
# auditwheel 6.8 refuses patchelf < 0.14.5 (it relies on a fix of 0.14.4);
# Debian 12 ships patchelf 0.14.3, which 6.7 uses correctly.
auditwheel_req=${AXLINK_AUDITWHEEL:-auditwheel==6.7.0}

die() {
	echo "build-wheel.sh: $*" >&2
	exit 1
}

command -v patchelf >/dev/null || die "patchelf not found (Debian: apt-get install patchelf)"
"$python" -c 'import ensurepip, venv' 2>/dev/null ||
	die "$python cannot make a venv (Debian: apt-get install python3-venv)"
if [ ! -x "$tools/bin/auditwheel" ]; then
	echo "== build-wheel: tools venv $tools ($auditwheel_req)"
	rm -rf "$tools"
	"$python" -m venv "$tools"
	"$tools/bin/pip" install -q --disable-pip-version-check "$auditwheel_req"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/axlink-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== build-wheel: pip wheel $src/python"
start=$SECONDS
"$tools/bin/pip" wheel --no-deps --disable-pip-version-check -w "$work/raw" "$src/python"
raw=("$work"/raw/axlink-*.whl)
[ -f "${raw[0]}" ] || die "pip wheel made no axlink wheel in $work/raw"
echo "== build-wheel: built $(basename "${raw[0]}") in $((SECONDS - start)) s"

echo "== build-wheel: auditwheel repair"
mkdir -p "$out"
"$tools/bin/auditwheel" repair -w "$work/repaired" "${raw[0]}"
fixed=("$work"/repaired/axlink-*.whl)
[ -f "${fixed[0]}" ] || die "auditwheel made no wheel"
case $(basename "${fixed[0]}") in
*-manylinux_*) ;;
*) die "auditwheel gave $(basename "${fixed[0]}"), not a manylinux wheel" ;;
esac
rm -f "$out"/axlink-*.whl
mv "${fixed[0]}" "$out/"
wheel=$out/$(basename "${fixed[0]}")
echo "== build-wheel: $wheel ($(du -k "$wheel" | cut -f1) KiB, $((SECONDS - start)) s)"
