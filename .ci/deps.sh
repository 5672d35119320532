#!/usr/bin/env bash
# Install what axlink needs to build and test, if missing. Sourced by
# .ci/run and examples/quickstart.sh; safe to run again.
# The wheel step (python/build-wheel.sh) takes its Python tools from PyPI
# into venvs of its own: scikit-build-core and cffi (pip's isolated build,
# python/pyproject.toml) and auditwheel (pinned in build-wheel.sh, for
# Debian's patchelf); tests/wheel/test_wheel.sh installs cffi with the wheel.

AXLINK_DEB_PACKAGES=(
	cmake pkgconf gcc g++ make
	libcmocka-dev libjansson-dev libxml2-dev
	libsqlite3-dev libssl-dev
	libserialport-dev libusb-1.0-0-dev umockdev libumockdev-dev
	python3 python3-pytest python3-cffi python3-setuptools python3-dev python3-venv
	python3-numpy python3-matplotlib patchelf
	clang clang-format libclang-rt-14-dev valgrind
	abigail-tools
	python3-sphinx python3-myst-parser python3-breathe doxygen help2man man-db python3-mypy
	locales
	python3-starlette python3-uvicorn python3-websockets python3-httpx
	chromium chromium-driver python3-selenium fonts-dejavu-core
)

axlink_install_deps() {
	local sudo=() missing=() p
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	for p in "${AXLINK_DEB_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "axlink: installing ${missing[*]}" >&2
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	# A comma-decimal locale, so a test can prove float text ignores the caller's locale.
	if ! locale -a 2>/dev/null | grep -qix 'de_DE.utf8'; then
		"${sudo[@]}" localedef -i de_DE -f UTF-8 de_DE.UTF-8
	fi
}

# Optional extras of the Python package that Debian does not package
# (asyncua for the OPC UA gateway), from PyPI into a venv of Debian's python3
# that still sees its packages (cffi, pytest): DIR/bin/python runs the
# extras' tests (CMake: -DAXLINK_EXTRAS_PYTHON=DIR/bin/python).
AXLINK_PIP_EXTRAS=("asyncua>=1.1,<3")

axlink_python_extras() {
	local dir=$1
	if [ ! -x "$dir/bin/python" ]; then
		/usr/bin/python3 -m venv --system-site-packages "$dir"
	fi
	if ! "$dir/bin/python" -c 'import asyncua' 2>/dev/null; then
		echo "axlink: installing ${AXLINK_PIP_EXTRAS[*]} into $dir" >&2
		"$dir/bin/python" -m pip install -q --disable-pip-version-check "${AXLINK_PIP_EXTRAS[@]}"
	fi
}
