#!/usr/bin/env bash
# Install what axlink needs to build and test, if missing. Sourced by
# .ci/run and examples/quickstart.sh; safe to run again.

AXLINK_DEB_PACKAGES=(
	cmake pkgconf gcc g++ make
	libcmocka-dev libjansson-dev libxml2-dev
	libsqlite3-dev libssl-dev
	libserialport-dev libusb-1.0-0-dev umockdev libumockdev-dev
	python3 python3-pytest python3-cffi python3-setuptools python3-dev python3-venv
	clang clang-format libclang-rt-14-dev valgrind
	abigail-tools
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
