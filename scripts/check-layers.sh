#!/bin/sh
# check-layers.sh - checks that every include points down the layers of
# docs/ARCHITECTURE.md ("Layers"): a program's folder includes only the
# libraries below it, a library only those below itself, and nothing
# includes a program's folder but that program.  Prints each include that
# breaks a rule (FILE: includes "X", which FOLDER may not use) and exits 1
# if there is any.  Run by the tests (tests/e2e/test_layers.py).
#   scripts/check-layers.sh [ROOT]
set -eu
root=${1:-$(dirname "$0")/..}
cd "$root"

# folder: the folders its files may include (besides its own)
allowed() {
    case "$1" in
    cli)       echo "engine sandbox spool contract common" ;;
    scheduler) echo "engine spool contract common" ;;
    shipper)   echo "spool contract common" ;;
    deliver)   echo "spool contract common" ;;
    worker)    echo "engine sandbox contract common" ;;
    web)       echo "spool contract common" ;;
    intake)    echo "engine spool contract common" ;;
    engine)    echo "sandbox contract common" ;;
    sandbox)   echo "contract common" ;;
    spool)     echo "contract common" ;;
    contract)  echo "common" ;;
    common)    echo "" ;;
    *)         echo "-" ;;   # tests/, bench/: anything
    esac
}

bad=0
for f in $(find cli scheduler shipper deliver worker web intake engine sandbox spool contract \
               common -name '*.[ch]' | sort); do
    top=${f%%/*}
    ok=$(allowed "$top")
    for inc in $(sed -n 's/^#include "\([a-z_]*\)\/.*"/\1/p' "$f"); do
        [ "$inc" = "$top" ] && continue
        case " $ok " in
        *" $inc "*) ;;
        *) echo "$f: includes \"$inc/...\", which $top/ may not use"; bad=1 ;;
        esac
    done
done
exit $bad
