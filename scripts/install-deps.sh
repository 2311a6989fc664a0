#!/bin/sh
# install-deps.sh - installs the Debian packages Assay's build, tests and
# demo need.
#   scripts/install-deps.sh            install what is missing (as root)
#   scripts/install-deps.sh --ensure   the same, but when not root only
#                                      print the apt-get line and fail
#   scripts/install-deps.sh --list     print the package names
# With --bench as well: also what only the benchmarks in bench/ compare
# against (Jupyter's nbconvert and kernel, bubblewrap).
set -eu

# logrotate: an end-to-end test rotates a spool's logs with the real one.
# clang and libclang-rt-14-dev (libFuzzer's runtime, with the sanitizers'):
# `make test` ends with `make fuzz`, the fuzz targets of tests/fuzz/.
# strace: an end-to-end test checks which directories are synced, and when.
# python3-yaml: `assay notebook release` reads nbgrader's autotests.yml.
# python3-hypothesis: the property test kind generates and shrinks inputs with it.
# libsodium-dev: webhook signatures (HMAC-SHA256, constant-time compares) too.
# git: the GitHub/GitLab tests make real repositories and archives of commits.
# libyaml-dev: `assay import classroom` reads GitHub Classroom's workflow file.
# libmicrohttpd-dev: assay-web's HTTP server; libsodium-dev: its password
# hashes (Argon2id), session ids and tokens.
# chromium, chromium-driver, python3-selenium: the web console's browser
# tests drive a real headless Chromium.
# prometheus (with promtool): the /metrics tests check the page with
# `promtool check metrics` and have a real Prometheus server scrape it.
# slurmctld, slurmd, slurmrestd, slurm-client, munge and slurm-wlm-jwt-plugin
# (slurmrestd's tokens): the slurm transport's
# tests and bench run a private Slurm cluster (scripts/test-slurm.sh); the
# policy-rc.d guard below keeps the packages from starting system daemons.
PACKAGES="build-essential pkg-config clang libclang-rt-14-dev
libuv1-dev libjansson-dev zlib1g-dev libzip-dev libssh2-1-dev libcurl4-openssl-dev
libseccomp-dev libcmocka-dev libmd-dev libmicrohttpd-dev libsodium-dev libyaml-dev
python3 python3-pytest python3-ipython python3-yaml python3-hypothesis
zip unzip procps
openssh-server openssh-client iproute2 logrotate strace git
chromium chromium-driver python3-selenium prometheus
slurmctld slurmd slurmrestd slurm-client slurm-wlm-jwt-plugin munge"
BENCH_PACKAGES="jupyter-nbconvert python3-ipykernel bubblewrap"

mode=""
for arg in "$@"; do
    case "$arg" in
    --bench) PACKAGES="$PACKAGES $BENCH_PACKAGES" ;;
    *) mode="$arg" ;;
    esac
done

missing() {
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
            || printf '%s ' "$p"
    done
}

case "$mode" in
--list)
    echo $PACKAGES
    exit 0
    ;;
esac

todo=$(missing)
[ -z "$todo" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "Assay needs these Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y $todo" >&2
    exit 1
fi
echo "Installing missing packages: $todo" >&2
export DEBIAN_FRONTEND=noninteractive
# The tests start their own sshd in network namespaces and their own Slurm
# daemons and munged: keep the packages from starting system-wide ones
# while they install.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    guard=1
fi
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $todo >&2
[ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
exit 0
