#!/usr/bin/env bash
# Check that every C source and header in git is formatted by .clang-format
# (STYLE.md). Fix with: bash .ci/format-check.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
fix=0
[ "${1:-}" = "--fix" ] && fix=1
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
	echo "format-check: clang-format not found (Debian: apt-get install clang-format)" >&2
	exit 2
fi
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "$fix" = 1 ]; then
	"$cf" -i "${files[@]}"
	exit 0
fi
bad=()
for f in "${files[@]}"; do
	"$cf" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
	echo "format-check: ${#bad[@]} file(s) not formatted by .clang-format:" >&2
	printf '  %s\n' "${bad[@]}" >&2
	echo "fix with: bash .ci/format-check.sh --fix" >&2
	exit 1
fi
echo "format-check: ${#files[@]} files formatted"
