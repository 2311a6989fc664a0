#!/bin/sh
# needs.sh MODULE:PACKAGE... - the first test of every canary grading
# (contract/canary.c): names what the test kind needs and this worker's
# runs lack, one "missing: ..." line each, which `assay workers check`
# and `assay-worker canary` show as they are.
if ! command -v python3 >/dev/null 2>&1; then
    echo "missing: the python3 interpreter (Debian package python3)"
    exit 1
fi
exec python3 -I needs.py "$@"
