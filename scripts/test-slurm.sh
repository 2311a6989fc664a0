#!/bin/sh
# test-slurm.sh - a private Slurm cluster on this machine, for the slurm
# transport's tests and benchmark.
#
#   scripts/test-slurm.sh up DIR [N] [FEATURES]  munged, slurmctld, N slurmd (default 3)
#                                                and slurmrestd, all from DIR
#   scripts/test-slurm.sh down DIR               stop them all (DIR is left to the caller)
#   scripts/test-slurm.sh rest-stop DIR          stop slurmrestd (an outage)
#   scripts/test-slurm.sh rest-start DIR         start it again, on the same port
#   scripts/test-slurm.sh cut DIR K              take node wK's link down: it keeps
#                                                running its jobs, cut off from slurmctld
#   scripts/test-slurm.sh heal DIR K             bring wK's link up again
#   scripts/test-slurm.sh kill-node DIR K        kill -9 wK's slurmd and every job on it
#   scripts/test-slurm.sh node-start DIR K       start wK's slurmd again (it comes back idle)
#
# Node wK is `slurmd -N wK` in a network namespace of its own, joined to
# this machine by a veth pair (10.X.K.1 here, 10.X.K.2 there; X a
# 10.X.0.0/16 block no interface uses, as scripts/test-cluster.sh picks
# it, under the same lock), so one node can be cut off from the
# controller while it keeps running, and so that the slurmd need no
# --enable-multiple-slurmd build: each has an address and ports of its
# own.  slurmctld listens on 10.X.0.1 (an address on lo) at a free port;
# slurmrestd on 127.0.0.1 at another,
# with SLURM_JWT=daemon, as the unprivileged user nobody (it refuses to
# run as root).  munged uses its own key and socket in DIR.  Each node
# has 4 CPUs (config_overrides: they share this machine's) and the
# features FEATURES (comma-separated, default "python").
#
# It writes DIR/env (SLURM_CONF=..., for sbatch, squeue and scontrol),
# DIR/url (slurmrestd's base URL), DIR/token (a JWT for root, mode
# 0600), DIR/shared/ (the directory the primary and the nodes share) and
# DIR/slurm.conf.  Needs root.  Starting takes about 2 s.  With
# ASSAY_SLURM_UNTUNED set, SchedulerParameters stays at Slurm's defaults
# (for bench/slurm.py --untuned).
set -eu

cmd=${1:?usage: test-slurm.sh up DIR [N] [FEATURES] | down DIR | rest-stop DIR | rest-start DIR | cut DIR K | heal DIR K | kill-node DIR K | node-start DIR K}
dir=${2:?DIR missing}
[ -d "$dir" ] && dir=$(cd "$dir" && pwd)
tag=$(printf '%s' "$dir" | md5sum | cut -c1-6)

ns() { echo "assay-$tag-w$1"; }
net() { cat "$dir/net"; }

# A 10.X.0.0/16 block no address of this machine is in (test-cluster.sh's
# way, under its lock, so the two never pick the same).
pick_net() {
    used=$(ip -o -4 addr show | sed -n 's/.* inet 10\.\([0-9]*\)\..*/\1/p' | sort -u)
    for x in $(seq 100 254 | shuf); do
        if ! printf '%s\n' "$used" | grep -qx "$x"; then
            echo "$x" >"$dir/net"
            return 0
        fi
    done
    echo "test-slurm.sh: no free 10.X.0.0/16 block for the nodes' links" >&2
    exit 1
}

# A TCP port nothing on this machine listens on.
free_port() {
    while :; do
        p=$(shuf -i 20000-60000 -n 1)
        ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
    done
}

# Waits up to 30 s (a loaded machine) for CMD to succeed.
await() {
    i=0
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge 300 ] && return 1
        sleep 0.1
    done
}

write_conf() {
    n=$1 features=$2 ctld_port=$3 slurmd_port=$4
    # Dispatch at once rather than batching (bench/slurm.py --untuned shows the difference).
    tuning="SchedulerParameters=batch_sched_delay=0,sched_min_interval=0"
    [ -n "${ASSAY_SLURM_UNTUNED:-}" ] && tuning="# SchedulerParameters left at Slurm's defaults"
    cat >"$dir/slurm.conf" <<CONF
# written by scripts/test-slurm.sh
ClusterName=assay$tag
SlurmctldHost=$(hostname -s)(10.$(net).0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$dir/jwt.key
StateSaveLocation=$dir/ctld
SlurmctldPidFile=$dir/ctld/slurmctld.pid
SlurmctldLogFile=$dir/ctld/slurmctld.log
SlurmdSpoolDir=$dir/%n
SlurmdPidFile=$dir/%n/slurmd.pid
SlurmdLogFile=$dir/%n/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
$tuning
# Assay decides what is tried again, with a new attempt token.
JobRequeue=0
ReturnToService=2
# A node that stops answering is DOWN (its jobs NODE_FAIL) within seconds.
SlurmdTimeout=6
SlurmctldTimeout=10
MessageTimeout=5
KillWait=2
InactiveLimit=0
MinJobAge=600
PlugStackConfig=$dir/plugstack.conf
NodeName=DEFAULT CPUs=4 RealMemory=4096 Features=$features State=UNKNOWN
CONF
    k=1
    while [ "$k" -le "$n" ]; do
        echo "NodeName=w$k NodeHostname=w$k NodeAddr=10.$(net).$k.2" >>"$dir/slurm.conf"
        k=$((k + 1))
    done
    echo "PartitionName=assay Nodes=w[1-$n] Default=YES MaxTime=INFINITE State=UP" >>"$dir/slurm.conf"
}

node_link() {
    k=$1 nsn=$(ns "$1")
    ip netns add "$nsn"
    ip link add "s$tag$k" type veth peer name "t$tag$k"
    ip link set "t$tag$k" netns "$nsn"
    ip addr add "10.$(net).$k.1/24" dev "s$tag$k"
    ip link set "s$tag$k" up
    ip netns exec "$nsn" ip addr add "10.$(net).$k.2/24" dev "t$tag$k"
    ip netns exec "$nsn" ip link set "t$tag$k" up
    ip netns exec "$nsn" ip link set lo up
    ip netns exec "$nsn" ip route add default via "10.$(net).$k.1"
}

# nsenter, not ip netns exec: that one mounts a fresh /sys, which hides the
# cgroup controllers Assay's sandbox needs on the node.
node_start() {
    k=$1
    mkdir -p "$dir/w$k"
    SLURM_CONF=$dir/slurm.conf nsenter --net="/run/netns/$(ns "$k")" \
        /usr/sbin/slurmd -D -N "w$k" -f "$dir/slurm.conf" >"$dir/w$k/stdout" 2>&1 9>&- &
    echo $! >"$dir/w$k/pid"
}

rest_start() {
    port=$(cat "$dir/rest_port")
    SLURM_CONF=$dir/slurm.conf SLURM_JWT=daemon \
        /usr/sbin/slurmrestd -f "$dir/slurm.conf" -a rest_auth/jwt -s openapi/v0.0.38 \
        -u nobody "127.0.0.1:$port" >"$dir/slurmrestd.log" 2>&1 9>&- &
    echo $! >"$dir/slurmrestd.pid"
    await sh -c "ss -Hltn 'sport = :$port' | grep -q ." || {
        echo "test-slurm.sh: slurmrestd does not listen on port $port:" >&2
        tail -n 20 "$dir/slurmrestd.log" >&2
        exit 1
    }
}

up() {
    n=${1:-3} features=${2:-python}
    for p in slurmctld slurmd slurmrestd munged scontrol; do
        command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || {
            echo "test-slurm.sh: $p is missing: run scripts/install-deps.sh" >&2
            exit 1
        }
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    tag=$(printf '%s' "$dir" | md5sum | cut -c1-6)
    chmod 0755 "$dir"   # nobody (slurmrestd) reads slurm.conf and the munge socket
    mkdir -p "$dir/munge" "$dir/ctld" "$dir/shared"
    chmod 0700 "$dir/ctld"
    chmod 0755 "$dir/munge" "$dir/shared"
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
    chmod 0400 "$dir/munge/munge.key"
    dd if=/dev/urandom of="$dir/jwt.key" bs=32 count=1 2>/dev/null
    chmod 0600 "$dir/jwt.key"
    # --force: munged refuses root otherwise; the key and socket are this run's own.
    /usr/sbin/munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
        --seed-file="$dir/munge/munge.seed" 9>&-
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    free_port >"$dir/rest_port"
    mkdir -p /run/lock
    exec 9>/run/lock/assay-test-cluster.lock
    flock 9   # until this cluster's addresses are taken
    pick_net
    ip addr add "10.$(net).0.1/32" dev lo
    k=1
    while [ "$k" -le "$n" ]; do
        node_link "$k"
        k=$((k + 1))
    done
    exec 9>&-
    echo "$n" >"$dir/nodes"
    : >"$dir/plugstack.conf"   # no SPANK plugins
    write_conf "$n" "$features" "$ctld_port" "$slurmd_port"
    printf 'SLURM_CONF=%s/slurm.conf\n' "$dir" >"$dir/env"
    SLURM_CONF=$dir/slurm.conf /usr/sbin/slurmctld -D -c -i -f "$dir/slurm.conf" \
        >"$dir/ctld/stdout" 2>&1 9>&- &
    echo $! >"$dir/ctld/pid"
    await env SLURM_CONF="$dir/slurm.conf" scontrol ping || {
        echo "test-slurm.sh: slurmctld did not start:" >&2
        tail -n 20 "$dir/ctld/slurmctld.log" "$dir/ctld/stdout" >&2 || true
        exit 1
    }
    k=1
    while [ "$k" -le "$n" ]; do
        node_start "$k"
        k=$((k + 1))
    done
    umask 077
    SLURM_CONF=$dir/slurm.conf scontrol token username=root lifespan=86400 |
        sed -n 's/^SLURM_JWT=//p' >"$dir/token"
    umask 022
    [ -s "$dir/token" ] || { echo "test-slurm.sh: scontrol token gave no token" >&2; exit 1; }
    rest_start
    echo "http://127.0.0.1:$(cat "$dir/rest_port")" >"$dir/url"
    # Every node idle: the cluster takes jobs.
    await sh -c "SLURM_CONF='$dir/slurm.conf' sinfo -h -o '%t' -p assay | grep -qvx idle && exit 1 ||
                 SLURM_CONF='$dir/slurm.conf' sinfo -h -o '%D %t' -p assay | grep -qx '$n idle'" || {
        echo "test-slurm.sh: the nodes did not come up:" >&2
        SLURM_CONF=$dir/slurm.conf sinfo >&2 || true
        exit 1
    }
}

stop_pidfile() {
    [ -f "$1" ] && kill "$(cat "$1")" 2>/dev/null || true
}

down() {
    [ -d "$dir" ] || exit 0
    stop_pidfile "$dir/slurmrestd.pid"
    for w in "$dir"/w*; do
        [ -f "$w/pid" ] && stop_pidfile "$w/pid"
    done
    # every node's namespace, whether or not its slurmd started
    for nsn in $(ip netns list | sed -n "s/^\(assay-$tag-w[0-9]*\).*/\1/p"); do
        k=${nsn##*-w}
        ip netns pids "$nsn" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip link del "s$tag$k" 2>/dev/null || true
        ip netns del "$nsn" 2>/dev/null || true
    done
    stop_pidfile "$dir/ctld/pid"
    stop_pidfile "$dir/munge/munged.pid"
    [ -f "$dir/net" ] && ip addr del "10.$(net).0.1/32" dev lo 2>/dev/null || true
    sleep 0.2
    for f in slurmrestd.pid ctld/pid munge/munged.pid; do
        [ -f "$dir/$f" ] && kill -9 "$(cat "$dir/$f")" 2>/dev/null || true
    done
    return 0
}

case "$cmd" in
up) shift 2; up "$@" ;;
down) down ;;
rest-stop) stop_pidfile "$dir/slurmrestd.pid"; await sh -c "! kill -0 $(cat "$dir/slurmrestd.pid") 2>/dev/null" ;;
rest-start) rest_start ;;
cut) ip link set "s$tag${3:?K missing}" down ;;
heal) ip link set "s$tag${3:?K missing}" up ;;
node-start)
    node_start "${3:?K missing}"
    SLURM_CONF=$dir/slurm.conf scontrol update nodename="w$3" state=resume >/dev/null 2>&1 || true ;;
kill-node)
    k=${3:?K missing}
    # A process forked while the list is read (slurmd starting a job's
    # slurmstepd) is not in it and would survive one pass: kill until no
    # process is left in the node's namespace.
    for _ in $(seq 100); do
        pids=$(ip netns pids "$(ns "$k")" 2>/dev/null) || break
        [ -z "$pids" ] && break
        printf '%s\n' "$pids" | xargs -r kill -9 2>/dev/null || true
        sleep 0.05
    done ;;
*) echo "usage: test-slurm.sh up DIR [N] [FEATURES] | down DIR | rest-stop DIR | rest-start DIR | cut DIR K | heal DIR K | kill-node DIR K | node-start DIR K" >&2; exit 2 ;;
esac
