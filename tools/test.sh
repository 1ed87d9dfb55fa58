#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (unit, database,
# interoperability), then the unit and interop tests again under AddressSanitizer and
# ThreadSanitizer, then a short libFuzzer run of every fuzz target.
#
#   tools/test.sh            everything (what CI runs)
#   tools/test.sh --quick    one build, all tests, no sanitizers or fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)

tools/setup.sh

run_build() {  # name, extra cmake args...
  local dir=$root/build/$1; shift
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

echo "== build and test (all labels)"
run_build main
(cd build/main && ctest --output-on-failure -j"$jobs" --timeout 600)

if [ $quick -eq 1 ]; then exit 0; fi

echo "== AddressSanitizer + UndefinedBehaviorSanitizer: unit and interop tests"
run_build asan -DESINK_SANITIZER=address
(cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs" -L 'unit|interop' --timeout 600)

echo "== ThreadSanitizer: unit and interop tests"
run_build tsan -DESINK_SANITIZER=thread
(cd build/tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp" \
  ctest --output-on-failure -j"$jobs" -L 'unit|interop' --timeout 600)

echo "== libFuzzer (clang): short time-boxed runs"
CC=clang CXX=clang++ cmake -S "$root" -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DESINK_BUILD_FUZZERS=ON -DESINK_BUILD_TESTS=OFF -DESINK_BUILD_SAMPLES=OFF -DESINK_FUZZ_SECONDS=20 >/dev/null
targets=$(cmake --build build/fuzz --target help | sed -n 's/^\.\.\. \(fuzz_[a-z_]*\)$/\1/p' | grep -v '_bin$' || true)
for t in $targets; do
  echo "-- $t"
  cmake --build build/fuzz -j"$jobs" --target "$t"
done
echo "== all tests passed"
