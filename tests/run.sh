#!/bin/sh
# run.sh - runs every test: the cmocka unit tests built in $BUILD/tests and
# the end-to-end tests in tests/e2e and the adversarial sandbox suite in
# tests/security (pytest, driving the real binaries), then the fuzz targets
# (`make fuzz`, FUZZ_SECONDS each; FUZZ_SECONDS=0 leaves them out, as
# `make sanitize` does: they run under the sanitizers anyway).
# Prints one closing line "tests: N passed, N failed" and fails if any did.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
ASSAY_BIN=$(cd "$BUILD" && pwd)/assay
export ASSAY_BIN ASSAY_BUILD="$(cd "$BUILD" && pwd)"
log=$(mktemp)
passed=0
failed=0

# Under `make sanitize`, every process writes its ASan/UBSan/LSan reports to
# files here, so a report from a daemon no test waits for still fails the run.
reports=$(mktemp -d)
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1"

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
        echo "$t exited with status $rc"
        failed=$((failed + 1))
    fi
done

"$PYTHON" -m pytest -p no:cacheprovider -q tests/e2e tests/security "$@" 2>&1 | tee "$log"
summary=$(grep -E '[0-9]+ (passed|failed|errors?)' "$log" | tail -n 1)
p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | cut -d' ' -f1)
f=$(echo "$summary" | grep -Eo '[0-9]+ (failed|errors?)' | awk '{s += $1} END {if (NR) print s}')
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0}))
[ -z "$p" ] && [ -z "$f" ] && failed=$((failed + 1)) && echo "the end-to-end tests did not run"

# A report counts when it holds a finding; a file with only LeakSanitizer's
# "Unable to get registers from thread N" (its exit-time check could not
# stop a process that was being killed) is shown but is not one.
for r in "$reports"/*; do
    [ -e "$r" ] || continue
    if grep -qE 'ERROR: |runtime error|SUMMARY: ' "$r"; then
        echo "sanitizer report $r:"
        head -n 60 "$r"
        failed=$((failed + 1))
    else
        echo "sanitizer note (not a finding) $r: $(head -c 200 "$r")"
    fi
done
rm -rf "$reports"

# Each fuzz target counts as one test.  Its own sanitizer settings are
# tests/fuzz/run.sh's: its reports are in its output, not in $reports.
if [ "${FUZZ_SECONDS:-60}" != 0 ]; then
    ${MAKE:-make} --no-print-directory fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" 2>&1 | tee "$log"
    p=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | tail -n 1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    [ -z "$p" ] && failed=$((failed + 1)) && echo "the fuzz targets did not run"
fi
rm -f "$log"

echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
