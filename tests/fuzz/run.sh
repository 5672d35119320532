#!/usr/bin/env bash
# Build the fuzz targets with clang (libFuzzer + ASan + UBSan) in their own
# build folder and run each for SECONDS seconds, then print one line per
# target: runs, runs per second, edges covered, inputs in the corpus, new
# inputs this run, peak memory.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]      TARGET: mcb simdrive xdf uri ...
#
# Targets: every tests/fuzz/fuzz_TARGET.c. Seeds of a target come from
# tests/fuzz/corpus/TARGET and regressions/TARGET; tests/fuzz/TARGET.dict,
# when there, is its libFuzzer dictionary.
# The working corpus (build/fuzz/corpus/TARGET) grows from run to run; it
# starts from tests/fuzz/corpus/TARGET, tests/fuzz/regressions/TARGET and,
# for xdf, the dictionaries in tests/data/ and devices/. A crash, leak,
# sanitizer report or broken invariant stops that target, keeps the input
# in build/fuzz/crashes/TARGET/ and makes the script exit 1: copy the input
# to tests/fuzz/regressions/TARGET/ (the replay tests then run it in every
# CI leg) and fix the code.
#
# Environment: AXLINK_FUZZ_BUILD (default build/fuzz), CC (default clang),
# AXLINK_FUZZ_ARGS (more libFuzzer flags, e.g. -jobs=4).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

all=()
for f in "$here"/fuzz_*.c; do
	t=$(basename "$f" .c)
	all+=("${t#fuzz_}")
done
usage() {
	echo "usage: tests/fuzz/run.sh SECONDS [TARGET...]   (TARGET: ${all[*]})" >&2
	exit 2
}
[ $# -ge 1 ] || usage
seconds=$1
shift
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
	[[ " ${all[*]} " == *" $t "* ]] || { echo "run.sh: unknown target '$t'" >&2; usage; }
done

build=${AXLINK_FUZZ_BUILD:-$root/build/fuzz}
cc=${CC:-clang}
jobs=$(nproc 2>/dev/null || echo 2)

echo "== fuzz: building ${targets[*]} with $cc in $build"
mkdir -p "$build"
cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER="$cc" >"$build/configure.log" 2>&1 ||
	{ cat "$build/configure.log" >&2; exit 1; }
# A target whose transport is not built here is not defined: skip it, say so.
defined=$(cmake --build "$build" --target help)
kept=()
for t in "${targets[@]}"; do
	if grep -qE "(^|\.\.\. )fuzz_$t(:|\$)" <<<"$defined"; then
		kept+=("$t")
	else
		echo "fuzz_$t: not defined in this build (its libraries are missing), skipped"
	fi
done
targets=("${kept[@]}")
[ ${#targets[@]} -gt 0 ] || { echo "run.sh: no target to build" >&2; exit 1; }
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}" >"$build/build.log" 2>&1 ||
	{ tail -50 "$build/build.log" >&2; exit 1; }

# Leaks are findings; a slow input (over 10 s) is one too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for t in "${targets[@]}"; do
	corpus=$build/corpus/$t
	crashes=$build/crashes/$t
	seeds=()
	mkdir -p "$corpus" "$crashes"
	[ -d "$here/corpus/$t" ] && seeds+=("$here/corpus/$t")
	[ -d "$here/regressions/$t" ] && seeds+=("$here/regressions/$t")
	extra=()
	[ -f "$here/$t.dict" ] && extra+=(-dict="$here/$t.dict")
	if [ "$t" = xdf ]; then
		# The project's dictionaries (only the .xdf files of those folders). Inputs
		# are cut at 64 KiB, so the large ones seed structure, not whole files.
		mkdir -p "$build/seeds/xdf"
		cp "$root"/tests/data/*.xdf "$root"/devices/*.xdf "$build/seeds/xdf/"
		seeds+=("$build/seeds/xdf")
		extra+=(-max_len=65536)
	fi
	log=$build/$t.log
	echo "== fuzz_$t: ${seconds}s"
	set +e
	# shellcheck disable=SC2086
	"$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "${extra[@]}" \
		${AXLINK_FUZZ_ARGS:-} "$corpus" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	set -e
	stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
	runs=$(stat number_of_executed_units)
	rate=$(stat average_exec_per_sec)
	added=$(stat new_units_added)
	rss=$(stat peak_rss_mb)
	# The last status line: edges covered and inputs in the corpus at the end.
	cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$log" | tail -1)
	units=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' "$log" | tail -1)
	summary+=("$(printf '%-9s %10s %8s %6s %7s %6s %7s  %s' "$t" "${runs:-?}" "${rate:-?}" \
		"${cov:-?}" "${units:-?}" "${added:-?}" "${rss:-?}" \
		"$([ $rc -eq 0 ] && echo ok || echo FAILED)")")
	if [ $rc -ne 0 ]; then
		failed+=("$t")
		echo "fuzz_$t failed (exit $rc); the end of $log:" >&2
		tail -40 "$log" >&2
		ls -1 "$crashes" | sed "s|^|  input kept: $crashes/|" >&2
	fi
done

echo
printf '%-9s %10s %8s %6s %7s %6s %7s  %s\n' target runs exec/s edges corpus new rss_mb result
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${failed[*]} failed; reproduce with build/fuzz/fuzz_TARGET INPUT and add" \
		"the input to tests/fuzz/regressions/TARGET/" >&2
	exit 1
fi
