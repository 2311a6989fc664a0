#!/bin/sh
# run.sh - runs every libFuzzer target built in $BUILD/fuzz (`make fuzz`
# builds them into build-fuzz/) for FUZZ_SECONDS seconds each, starting
# from its corpus in tests/fuzz/corpus/TARGET.  What a run finds new goes
# to a scratch directory, not into the repository: to keep it, merge it
# by hand (tests/fuzz/README.md).  A crash, a leak, a UBSan report or a
# timeout fails the target; its input is kept and named.
# Prints one closing line "fuzz: N passed, N failed" and fails if any did.
set -u
BUILD=${BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/assay-fuzz-run-XXXXXX")
passed=0
failed=0

# The sanitizers' own settings, whatever the caller's (tests/run.sh sends
# its processes' reports to files): here they go to the target's output.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

for t in "$BUILD"/fuzz/*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    mkdir -p "$out/$name/new" "$out/$name/crash"
    # -timeout: an input that takes 10 s is a finding (a hang);
    # -rss_limit_mb: so is one that needs 2 GB.
    "$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/$name/crash/" -print_final_stats=1 \
        "$out/$name/new" "$here/corpus/$name" >"$out/$name/log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "fuzz $name: passed ($(grep -Eo 'stat::number_of_executed_units: *[0-9]+' \
            "$out/$name/log" | grep -Eo '[0-9]+$') inputs in $FUZZ_SECONDS s)"
    else
        failed=$((failed + 1))
        echo "fuzz $name: FAILED (status $rc); its last lines:"
        tail -n 60 "$out/$name/log"
        for a in "$out/$name/crash"/*; do
            [ -e "$a" ] && echo "fuzz $name: the input is kept in $a"
        done
    fi
done
[ $((passed + failed)) -eq 0 ] && failed=1 && echo "fuzz: no target was built in $BUILD/fuzz"

# A failure's directory stays for its input; a clean run leaves nothing.
[ "$failed" -eq 0 ] && rm -rf "$out"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
