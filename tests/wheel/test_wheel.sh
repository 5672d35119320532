#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/wheel/test_wheel.sh WHEEL [HIDE_DIR...]
#
# The wheel on its own: install WHEEL into a fresh venv (no system site
# packages; cffi comes from PyPI), then, in a private mount and network
# namespace where every HIDE_DIR (the repository with its build trees) is an
# empty tmpfs, and with an environment holding only PATH and HOME:
#   - every ELF file of the package resolves its libraries (ldd) to copies in
#     the package, or to the few system libraries manylinux promises;
#   - one version: the wheel's name, pip's metadata, axlink.__version__,
#     `axlink version` (CLI and libaxlink) and ax_version() agree;
#   - the package finds its plugins and devices.db inside itself;
#   - the quick start through the wheel's own commands: axlink-sim serves
#     drives on 127.0.0.x, axlink list / read / enable / move / state, and a
#     python -c snippet drives the same simulator.
# Needs root for unshare (CI runs it through sudo when not root).
set -euo pipefail

die() {
	echo "test_wheel: FAIL: $*" >&2
	exit 1
}

if [ "${1:-}" != --inside ]; then
	[ $# -ge 1 ] || die "usage: $0 WHEEL [HIDE_DIR...]"
	wheel=$(realpath "$1")
	shift
	[ -f "$wheel" ] || die "no wheel '$wheel'"
	python=${AXLINK_WHEEL_PYTHON:-/usr/bin/python3}
	work=$(mktemp -d "${TMPDIR:-/tmp}/axlink-wheel-test.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	# Everything the inside needs lies in $work: the namespace hides the rest.
	cp "$0" "$work/test_wheel.sh"
	cp "$wheel" "$work/"
	echo "== wheel test: fresh venv, pip install $(basename "$wheel")"
	"$python" -m venv "$work/venv"
	"$work/venv/bin/pip" install -q --disable-pip-version-check "$work/$(basename "$wheel")"
	hide=()
	for d in "$@"; do
		d=$(realpath "$d")
		case $work/ in "$d"/*) die "TMPDIR ($work) lies inside $d, which the test hides" ;; esac
		hide+=("$d")
	done
	# env -i: no AXLINK_*, PYTHONPATH or LD_LIBRARY_PATH from the caller.
	env -i PATH="$work/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$work/home" \
		unshare -m -n bash "$work/test_wheel.sh" --inside "$work" "$(basename "$wheel")" \
		"${hide[@]}"
	echo "== wheel test: passed"
	exit 0
fi

shift
work=$1
wheel_name=$2
shift 2
for d in "$@"; do
	mount -t tmpfs -o size=1m,mode=0755 axlink-hidden "$d"
	[ -z "$(ls -A "$d")" ] || die "could not hide $d"
done
ip link set lo up
mkdir -p "$HOME"
cd "$work"
venv=$work/venv
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
pkg=$site/axlink

echo "-- the package is the venv's and carries its library"
where=$(python -c 'import axlink; print(axlink.__file__)')
[ "$where" = "$pkg/__init__.py" ] || die "import axlink gave $where, not the venv's"
[ "$(command -v axlink)" = "$venv/bin/axlink" ] || die "axlink is $(command -v axlink)"
[ "$(command -v axlink-sim)" = "$venv/bin/axlink-sim" ] || die "axlink-sim is $(command -v axlink-sim)"

echo "-- ldd: every ELF file of the package resolves into it (or to manylinux's system libraries)"
# What a manylinux policy lets come from the system (auditwheel's
# lib_whitelist of manylinux_2_35, the loader and the vDSO; the graphics ones
# left out: nothing of ours may need them).
allowed='^(linux-vdso\.so\.1|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libmvec\.so\.1|'
allowed+='libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libanl\.so\.1|libnsl\.so\.1|'
allowed+='libutil\.so\.1|libresolv\.so\.2|libatomic\.so\.1|libgcc_s\.so\.1|'
allowed+='libstdc\+\+\.so\.6|libexpat\.so\.1|libz\.so\.1)$'
n=0
while IFS= read -r -d '' f; do
	head -c 4 "$f" | grep -q 'ELF' || continue
	n=$((n + 1))
	out=$(ldd "$f" 2>&1) || die "ldd $f: $out"
	if grep -q 'not found' <<<"$out"; then
		die "$f: a library is missing:"$'\n'"$out"
	fi
	while read -r name arrow path _; do
		[ "$arrow" = "=>" ] || continue
		case $path in
		"$site"/*) ;;
		*) [[ $name =~ $allowed ]] || die "$f: $name comes from $path, not from the wheel" ;;
		esac
	done <<<"$out"
done < <(find "$pkg" "$site/axlink.libs" -type f -print0)
# The extension, libaxlink, 4 plugins, 2 tools, and the grafted libraries.
[ "$n" -ge 12 ] || die "only $n ELF files checked"
for lib in libxml2 libsqlite3 libcrypto libserialport libusb libjansson; do
	ls "$site"/axlink.libs/"$lib"* >/dev/null 2>&1 || die "$lib is not bundled in axlink.libs/"
done
echo "   $n ELF files"

echo "-- one version"
wheel_version=$(sed -E 's/^axlink-([^-]+)-.*/\1/' <<<"$wheel_name")
meta_version=$("$venv/bin/pip" show axlink 2>/dev/null | sed -n 's/^Version: //p')
read -r py_version py_library <<<"$(python -c 'import axlink; print(axlink.__version__, axlink.LIBRARY_VERSION)')"
c_version=$(python -c 'from axlink._native import ffi, lib; print(ffi.string(lib.ax_version()).decode())')
cli_version=$(axlink version | sed -n 's/^axlink //p')
cli_library=$(axlink version | sed -n 's/^libaxlink //p')
for v in "$meta_version" "$py_version" "$py_library" "$c_version" "$cli_version" "$cli_library"; do
	[ "$v" = "$wheel_version" ] || die "versions differ: wheel $wheel_version, pip $meta_version, " \
		"axlink.__version__ $py_version, LIBRARY_VERSION $py_library, ax_version() $c_version, " \
		"axlink version: cli $cli_version library $cli_library"
done
echo "   $wheel_version everywhere"

echo "-- plugins and devices.db from inside the package"
plugins=$(axlink plugins)
echo "$plugins"
for scheme in eth serial usb virtual; do
	grep -Eq "^loaded +$scheme +[^ ]+ +$pkg/_lib/axlink-1/axlink-transport-$scheme\.so$" \
		<<<"$plugins" || die "plugin '$scheme' not loaded from $pkg/_lib/axlink-1"
done
dbs=$(axlink db list 2>&1)
grep -q "installed ($pkg/_share/axlink/devices.db)" <<<"$dbs" ||
	die "devices.db not found in the package: $dbs"

echo "-- quick start through the wheel's commands"
axlink-sim --eth 127.0.0.2 --count 3 --serial 5001 >sim.uris 2>sim.log &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null' EXIT
for _ in $(seq 200); do
	[ "$(wc -l <sim.uris)" -ge 3 ] && break
	kill -0 $sim 2>/dev/null || die "axlink-sim exited: $(cat sim.log)"
	sleep 0.05
done
[ "$(wc -l <sim.uris)" -ge 3 ] || die "axlink-sim did not serve 3 drives: $(cat sim.log)"
set -x
list=$(axlink list eth://127.0.0.0/29)
set +x
echo "$list"
[ "$(grep -c 'eth://127.0.0.[234]' <<<"$list")" -ge 3 ] || die "axlink list found fewer than 3 drives"
grep -q axs-100 <<<"$list" || die "axlink list did not name the drives' model"
set -x
serial=$(axlink read eth://127.0.0.3 DRV_ID_SERIAL_NUMBER_COCO)
vbus=$(axlink read eth://127.0.0.2 DRV_PROT_VBUS_VALUE --json)
set +x
echo "$serial"
echo "$vbus"
grep -q 5002 <<<"$serial" || die "serial number of 127.0.0.3 is not 5002"
grep -q '"V"' <<<"$vbus" || die "DRV_PROT_VBUS_VALUE has no volts unit"
set -x
axlink enable eth://127.0.0.2
axlink move eth://127.0.0.2 90 --units deg --velocity 180
state=$(axlink state eth://127.0.0.2 --units deg --json)
set +x
echo "$state"
python - <<'PY' "$state"
import json, sys
s = json.loads(sys.argv[1])
assert s["state"] == "operation_enabled", f"axis not enabled after axlink enable: {s}"
assert abs(s["position"] - 90.0) < 0.5, f"axis not at 90 deg after axlink move: {s}"
PY
set -x
python -c '
import axlink
with axlink.open("eth://127.0.0.4") as d:
    assert d.info.identity.serial == 5003, d.info.identity
    print("python:", d.info.model, d.read("DRV_PROT_VBUS_VALUE"), "V")
    axis = d.axes[1]
    axis.enable()
    axis.move_to(1000)
    pos = d.read("CL_POS_FBK_VALUE")
    assert abs(pos - 1000) <= 2, pos
    print("python: moved to", pos)
'
set +x
axlink disable eth://127.0.0.2
