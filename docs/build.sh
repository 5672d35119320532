#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the reference manual as HTML, warnings as errors:
#
#   bash docs/build.sh [OUT] [BUILD]
#
# OUT    where the HTML goes (default: build/docs)
# BUILD  a CMake build tree of axlink (default: build/ci, else build): its
#        bin/axlink gives the CLI reference (its own --help), its python/
#        the package autodoc imports
#
# Sources: docs/*.md|rst and docs/{tutorials,reference}/ (Sphinx, MyST
# Markdown), the Python docstrings (autodoc), the public headers
# include/axlink/*.h (Doxygen XML, read by breathe). A Doxygen warning
# fails the build as a Sphinx one does. Needs (Debian): python3-sphinx,
# python3-myst-parser, python3-breathe, doxygen (.ci/deps.sh installs them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/docs}
build=${2:-}
if [ -z "$build" ]; then
	for b in "$root/build/ci" "$root/build"; do
		[ -x "$b/bin/axlink" ] && build=$b && break
	done
fi
python=/usr/bin/python3
[ -x "$python" ] || python=python3

fail() { echo "docs/build.sh: $*" >&2; exit 1; }
[ -n "$build" ] && [ -x "$build/bin/axlink" ] ||
	fail "no built axlink: build first (cmake --build build) or name the build tree: $0 OUT BUILD"
build=$(cd "$build" && pwd)
[ -d "$build/python/axlink" ] || fail "$build/python/axlink missing: configure with -DAXLINK_BUILD_PYTHON=ON"
command -v doxygen >/dev/null || fail "doxygen missing (apt-get install doxygen)"
"$python" -c "import sphinx, myst_parser, breathe" 2>/dev/null ||
	fail "$python lacks sphinx, myst_parser or breathe (apt-get install python3-sphinx python3-myst-parser python3-breathe)"

start=$(date +%s)
out=$(mkdir -p "$out" && cd "$out" && pwd)
work="$out.work"
rm -rf "$work"
mkdir -p "$work/src" "$work/doxygen"

# The sources, with the page generated from the binary's help text. The
# Python package's commands (web, opcua) answer through the interpreter
# with their optional dependencies when the build tree names one.
extras=$(sed -n 's/^AXLINK_EXTRAS_PYTHON:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if [ -n "$extras" ] && [ -x "$extras" ] && [ -z "${AXLINK_PYTHON:-}" ]; then
	export AXLINK_PYTHON=$extras
fi
cp -r "$root/docs/." "$work/src/"
"$python" "$root/docs/cli_reference.py" --axlink "$build/bin/axlink" --rst "$work/src/reference/cli.rst"

# The C API: Doxygen XML of the public headers.
AXLINK_DOXYGEN_INPUT="$root/include/axlink" AXLINK_DOXYGEN_OUT="$work/doxygen" \
	AXLINK_DOXYGEN_STRIP="$root/include" doxygen "$root/docs/Doxyfile"
if [ -s "$work/doxygen/warnings.log" ]; then
	cat "$work/doxygen/warnings.log" >&2
	fail "doxygen: $(wc -l <"$work/doxygen/warnings.log") warning line(s)"
fi

version=$("$build/bin/axlink" version --json | "$python" -c 'import json,sys; print(json.load(sys.stdin)["library"])')
PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}" AXLINK_DOXYGEN_XML="$work/doxygen/xml" \
	AXLINK_VERSION="$version" AXLINK_LOG=error \
	"$python" -m sphinx -b html -W --keep-going -q -d "$work/doctrees" "$work/src" "$out"
echo "docs: $out/index.html (0 warnings, $(($(date +%s) - start)) s)"
