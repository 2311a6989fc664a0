#!/bin/sh
# demo.sh - `make demo`: grades every sample submission in examples/ with
# `assay grade`, shows one full result and a summary of all of them.
set -eu
BUILD=${BUILD:-build}
assay="$BUILD/assay"
out=${DEMO_OUT:-demo-out}
rm -rf "$out"
mkdir -p "$out"

echo "== One submission in full: examples/hello-io, the partly correct one"
"$assay" grade examples/hello-io examples/hello-io/submissions/partial
echo
echo "== The same result as the student sees it (hidden tests summed in one line)"
"$assay" grade examples/hello-io examples/hello-io/submissions/partial --view student |
    sed -n '1,/^Hidden/p'
echo
echo "== Every sample submission (results.json files in $out/)"
printf '%-14s %-15s %9s  %s\n' ASSIGNMENT SUBMISSION SCORE VERDICTS
for a in examples/*/; do
    a=${a%/}
    name=${a#examples/}
    for s in "$a"/submissions/*/; do
        s=${s%/}
        sub=${s##*/}
        "$assay" grade "$a" "$s" --json --out "$out/$name/$sub" >/dev/null
        /usr/bin/python3 - "$out/$name/$sub/results.json" "$name" "$sub" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
verdicts = " ".join(t["verdict"] for t in r["tests"])
print("%-14s %-15s %4g / %-3g %s" % (sys.argv[2], sys.argv[3], r["score"], r["max_score"], verdicts))
PY
    done
done
