#!/bin/sh
# test-cluster.sh - a cluster of worker hosts on this machine, for tests.
#
#   scripts/test-cluster.sh up DIR N [CAPS...]   start hosts h1..hN
#   scripts/test-cluster.sh down DIR             stop them and remove everything
#
# Host k is a network namespace "assay-DIRHASH-hk" joined to this machine by
# a veth pair (10.X.k.1 here, 10.X.k.2 there, X a 10.X.0.0/16 block no
# interface of this machine uses, kept in DIR/net; so clusters of several
# test runs live side by side), running Debian's sshd
# (its own ed25519 host key; key login only, as the unprivileged account
# assay-ci) and an assay-worker of 2 slots in DIR/hk/worker.  CAPS gives
# host k its capabilities, comma-separated ("python,gpu"); default python.
#
# Host k's Gradescope setup stamps are in DIR/hk/gradescope
# (ASSAY_GRADESCOPE_STATE).  It writes DIR/id_ed25519 (the primary's key),
# DIR/known_hosts (the hosts' keys) and DIR/workers.json (entries for a
# spool's workers.json, with "worker_command" pointing at this build's
# assay-worker).  The workers grade as the installation named by
# $ASSAY_WORKER_INSTALLATION ("--installation NAME --uids FIRST-LAST", the
# test run's own), else as the unnamed one.  Needs root.
set -eu

cmd=${1:?usage: test-cluster.sh up DIR N [CAPS...] | down DIR}
dir=${2:?DIR missing}
here=$(cd "$(dirname "$0")/.." && pwd)
build=${ASSAY_BUILD:-$here/build}
user=assay-ci
tag=$(printf '%s' "$(cd "$dir" 2>/dev/null && pwd || echo "$dir")" | md5sum | cut -c1-6)

ns() { echo "assay-$tag-h$1"; }
net() { cat "$dir/net"; }

# A 10.X.0.0/16 block no address of this machine is in, written to
# DIR/net.  Another cluster starting at the same moment could pick the
# same: the caller holds a lock until its links are up.
pick_net() {
    used=$(ip -o -4 addr show | sed -n 's/.* inet 10\.\([0-9]*\)\..*/\1/p' | sort -u)
    for x in $(seq 100 254 | shuf); do
        if ! printf '%s\n' "$used" | grep -qx "$x"; then
            echo "$x" >"$dir/net"
            return 0
        fi
    done
    echo "test-cluster.sh: no free 10.X.0.0/16 block for the hosts' links" >&2
    exit 1
}

host_up() {
    k=$1 caps=$2 h="$dir/h$k" n=$(ns "$k")
    mkdir -p "$h/worker/inbox" "$h/worker/active" "$h/worker/outbox" "$h/worker/tmp" "$h/worker/logs"
    ssh-keygen -q -t ed25519 -N '' -f "$h/ssh_host_ed25519_key"
    cat >"$h/sshd_config" <<CFG
Port 22
ListenAddress 10.$(net).$k.2
HostKey $h/ssh_host_ed25519_key
PidFile $h/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
UsePAM no
StrictModes no
AllowUsers $user
MaxSessions 64
MaxStartups 64:30:128
ClientAliveInterval 0
LogLevel ERROR
Subsystem sftp internal-sftp
CFG
    ip netns add "$n"
    ip link add "a$tag$k" type veth peer name "b$tag$k"
    ip link set "b$tag$k" netns "$n"
    ip addr add "10.$(net).$k.1/24" dev "a$tag$k"
    ip link set "a$tag$k" up
    ip netns exec "$n" ip addr add "10.$(net).$k.2/24" dev "b$tag$k"
    ip netns exec "$n" ip link set "b$tag$k" up
    ip netns exec "$n" ip link set lo up
    mkdir -p /run/sshd
    # 9>&-: the cluster lock (below) is for this script only; a daemon
    # that inherited it would hold every other cluster's `up` until it died
    ip netns exec "$n" /usr/sbin/sshd -f "$h/sshd_config" -E "$h/sshd.log" 9>&-
    chown -R "$user" "$h/worker"
    # nsenter, not ip netns exec: that one mounts a fresh /sys, which hides
    # the cgroup controllers the worker's sandbox needs.  Each host keeps
    # the stamps of the Gradescope setup.sh run on it in hk/gradescope, as
    # a machine of its own keeps them in /var/lib/assay/gradescope.
    # shellcheck disable=SC2086  # the installation's options, word-split on purpose
    ASSAY_GRADESCOPE_STATE="$h/gradescope" \
    nsenter --net="/run/netns/$n" "$build/assay-worker" --dir "$h/worker" --slots 2 --name "h$k" \
        ${ASSAY_WORKER_INSTALLATION:-} >/dev/null 2>&1 9>&- &
    echo $! >"$h/worker.pid"
    printf '10.%s.%s.2 %s\n' "$(net)" "$k" "$(cut -d' ' -f1,2 "$h/ssh_host_ed25519_key.pub")" >>"$dir/known_hosts"
    capjson=$(printf '%s' "$caps" | sed 's/\([^,]*\)/"\1"/g')
    printf '%s{"name": "h%s", "transport": "ssh", "host": "10.%s.%s.2", "user": "%s",
     "key": "%s/id_ed25519", "known_hosts": "%s/known_hosts", "remote_dir": "%s/worker",
     "worker_command": "%s/assay-worker", "slots": 2, "capabilities": [%s]}' \
        "$sep" "$k" "$(net)" "$k" "$user" "$dir" "$dir" "$h" "$build" "$capjson" >>"$dir/workers.json"
    sep=",
    "
}

up() {
    count=${1:?N missing}
    shift
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /bin/sh "$user"
    usermod -p '*' "$user"   # no password, but not locked: sshd refuses locked accounts
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    tag=$(printf '%s' "$dir" | md5sum | cut -c1-6)
    rm -f "$dir/id_ed25519" "$dir/id_ed25519.pub" "$dir/known_hosts"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519"
    cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
    chmod 0755 "$dir"
    chmod 0644 "$dir/authorized_keys"
    sep=""
    printf '[\n    ' >"$dir/workers.json"
    mkdir -p /run/lock
    exec 9>/run/lock/assay-test-cluster.lock
    flock 9   # until this cluster's addresses are taken
    pick_net
    k=1
    while [ "$k" -le "$count" ]; do
        eval "caps=\${$k:-python}"
        host_up "$k" "${caps:-python}"
        k=$((k + 1))
    done
    exec 9>&-
    printf '\n]\n' >>"$dir/workers.json"
    # Wait until every sshd answers.
    k=1
    while [ "$k" -le "$count" ]; do
        i=0
        until ip netns exec "$(ns "$k")" bash -c "exec 3<>/dev/tcp/10.$(net).$k.2/22" 2>/dev/null ||
              [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
        k=$((k + 1))
    done
}

down() {
    [ -d "$dir" ] || exit 0
    dir=$(cd "$dir" && pwd)
    tag=$(printf '%s' "$dir" | md5sum | cut -c1-6)
    for h in "$dir"/h*; do
        [ -d "$h" ] || continue
        k=${h##*/h}
        for p in "$h/worker.pid" "$h/sshd.pid"; do
            [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
        done
        ip netns pids "$(ns "$k")" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip link del "a$tag$k" 2>/dev/null || true
        ip netns del "$(ns "$k")" 2>/dev/null || true
    done
}

case "$cmd" in
up) shift 2; up "$@" ;;
down) down ;;
*) echo "usage: test-cluster.sh up DIR N [CAPS...] | down DIR" >&2; exit 2 ;;
esac
