#!/bin/sh
# demo.sh - `make demo`: the whole pipeline on one machine.
#   1. a spool in ./demo-spool with one local worker of two slots
#   2. assay-scheduler started (it starts the shippers and the worker)
#   3. every sample submission in examples/ submitted, then waited for
#   4. the results per assignment, one result in full, a regrade and the
#      export, answers graded by hand (`assay manual`), `assay status`
#   5. everything stopped cleanly
set -eu
BUILD=${BUILD:-build}
assay="$BUILD/assay"
spool=${DEMO_SPOOL:-demo-spool}
# `assay init` puts the local worker's directory on a tmpfs (/run/assay or
# /dev/shm): remove the previous demo's along with its spool.
if [ -f "$spool/workers.json" ]; then
    old=$(sed -n 's|.*"dir": "\(/run/assay/[a-z0-9_-]*/*local-[^"]*\)".*|\1|p; s|.*"dir": "\(/dev/shm/assay-local-[^"]*\)".*|\1|p' "$spool/workers.json")
    [ -z "$old" ] || rm -rf "$old"
fi
rm -rf "$spool"
"$assay" init "$spool" >/dev/null
for a in examples/*/; do
    name=$(basename "$a")
    mkdir -p "$spool/courses/demo/$name"
    (cd "$a" && tar cf - --exclude=submissions .) | (cd "$spool/courses/demo/$name" && tar xf -)
done

# The Gradescope example's setup.sh, run once for this machine (stamped in the spool).
ASSAY_GRADESCOPE_STATE="$(cd "$spool" && pwd)/gradescope-state"
export ASSAY_GRADESCOPE_STATE
"$assay" gradescope setup "$spool/courses/demo/gs-calc" >/dev/null

"$BUILD/assay-scheduler" --spool "$spool" &
scheduler=$!
trap 'kill -TERM $scheduler 2>/dev/null; wait $scheduler 2>/dev/null' EXIT INT TERM
echo "== Spool $spool: scheduler started (pid $scheduler) with a local worker of 2 slots"

echo "== Submitting every sample submission"
waits=""
for a in examples/*/; do
    name=$(basename "$a")
    for s in "$a"submissions/*/; do
        student=$(basename "$s")
        "$assay" submit --spool "$spool" --course demo --assignment "$name" \
            --student "$student" "$s" --wait --timeout 120 >"$spool/tmp/demo-$name-$student.out" &
        waits="$waits $!"
    done
done
failed=0
for w in $waits; do wait "$w" || failed=$((failed + 1)); done
[ "$failed" -eq 0 ] || echo "warning: $failed submissions were not graded in time"

for a in examples/*/; do
    name=$(basename "$a")
    echo
    echo "== Results of demo/$name"
    "$assay" results --spool "$spool" --course demo --assignment "$name"
done

echo
echo "== One result in full, as the student sees it: demo/hello-io, student \"partial\""
job=$(sed -n 's/.*"job_id": "\(.*\)".*/\1/p' "$spool/results/demo/hello-io/partial/1/results.json")
"$assay" results --spool "$spool" --job "$job" --view student

echo
echo "== A teacher grades a whole notebook assignment again, then exports the gradebook"
"$assay" grade-all --spool "$spool" --course demo --assignment notebook-hw --timeout 120 || true
"$assay" export --spool "$spool" --course demo --assignment notebook-hw --csv

echo
echo "== A teacher grades by hand the answers a notebook leaves to a person"
"$assay" manual list --spool "$spool" --course demo --assignment notebook-manual
"$assay" manual grade --spool "$spool" --course demo --assignment notebook-manual \
    --student answered --cell explain --points 2 --comment "Clear and right." || true

echo
echo "== assay status"
"$assay" status --spool "$spool"

echo
echo "== The log lines of that job (assay logs --job $job)"
"$assay" logs --spool "$spool" --job "$job"

kill -TERM "$scheduler"
wait "$scheduler" || true
trap - EXIT INT TERM
echo
echo "== Stopped. The spool stays in $spool/ (results in $spool/results/)."
