#!/bin/sh
# deploy-worker.sh - installs an Assay worker on this host (Debian 12), so
# that a primary can ship jobs to it over SSH.  Run it as root on the
# worker host; see docs/DEPLOY.md for the whole walk-through.
#
# What it does, each step only when needed (running it twice is fine):
#   1. installs the Debian packages the worker needs at run time: what
#      every test kind's runs need (python3, python3-pytest for pytest,
#      python3-ipython and python3-traitlets for notebooks,
#      python3-hypothesis for property tests), openssh-server
#      and assay-worker's libraries
#   2. installs the assay-worker binary as /usr/local/bin/assay-worker
#   3. creates the system account the primary logs in as (default "assay"):
#      no password, but not locked, so sshd accepts key logins
#   4. creates the worker directory (default /var/lib/assay-worker, also the
#      account's home) with inbox/ active/ outbox/ (the account's) and
#      tmp/ logs/ (root's)
#   5. puts the primary's public key in the account's authorized_keys, with
#      forwarding, ptys and ~/.ssh/rc disabled
#   6. writes /etc/systemd/system/assay-worker.service and starts it
#   7. has the running service grade a canary assignment of every test kind
#      (assay-worker canary) and fails, naming what is missing, unless each
#      scores full marks
#   8. prints what to do on the primary: the known_hosts step (with this
#      host's key fingerprints to compare) and the workers.json entry
#
# With --root PREFIX everything is written under PREFIX instead (for tests
# and packaging): no packages, no account, no systemctl, no sshd checks;
# the canary gradings run only if an assay-worker already runs on the
# directory under PREFIX.
# shellcheck disable=SC2015  # "A && B || fail" is meant: fail unless both hold
set -eu

PROG=deploy-worker.sh
# What the test kinds' runs import (engine/python/*.py: pytest; IPython and
# traitlets for notebooks), sshd, and the libraries assay-worker links.
PACKAGES="python3 python3-pytest python3-ipython python3-traitlets python3-hypothesis openssh-server libuv1 libjansson4 zlib1g libzip4 libmd0 libseccomp2"

usage() {
    cat <<'EOF'
Usage: deploy-worker.sh --pubkey FILE [OPTIONS]

Installs an Assay worker on this host (run as root on the worker machine):
packages, /usr/local/bin/assay-worker, the account the primary logs in as,
the worker directory, the primary's key in authorized_keys and the systemd
unit assay-worker.service. Safe to run again (to upgrade the binary or
change the slots). Then the service grades a small built-in assignment of
every test kind (assay-worker canary): if one does not score full marks,
the script says what is missing and fails. At the end it prints the
known_hosts step and the workers.json entry to use on the primary.

Options:
  --pubkey FILE        the primary's SSH public key (on the primary:
                       /var/spool/assay/keys/id_ed25519.pub); required
  --name NAME          the worker's name in workers.json and in the logs
                       (default: this host's short name)
  --slots N            jobs graded at once, 1-256 (default: the number of CPUs)
  --dir DIR            the worker directory (default /var/lib/assay-worker)
  --user USER          the account the primary logs in as (default assay)
  --binary FILE        the assay-worker to install (default: build/assay-worker
                       or assay-worker next to this script, else keep the
                       installed one)
  --host ADDRESS       the address the primary reaches this host at, for the
                       printed entry (default: this host's first address)
  --port N             the SSH port, for the printed entry (default: sshd's)
  --capabilities LIST  comma-separated, for the printed entry (default python)
  --from PATTERN       accept the key only from these addresses (sshd's
                       from="..." option, e.g. 192.0.2.10)
  --root PREFIX        install under PREFIX only: no packages, no account
                       (files are given to it only if it exists), no systemctl
  --no-start           do not (re)start the service
  -h, --help           show this help

Exit status: 0 done, 1 failed, 2 usage error.
EOF
}

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    printf 'Run "%s --help" for the options.\n' "$PROG" >&2
    exit 2
}
note() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }

# ---- options ----

pubkey="" name="" slots="" dir=/var/lib/assay-worker user=assay binary="" host="" port=""
caps=python from="" root="" start=1
need_arg() { [ $# -ge 2 ] || usage_error "$1 needs a value"; }
while [ $# -gt 0 ]; do
    case "$1" in
    -h | --help) usage; exit 0 ;;
    --pubkey) need_arg "$@"; pubkey=$2; shift 2 ;;
    --name) need_arg "$@"; name=$2; shift 2 ;;
    --slots) need_arg "$@"; slots=$2; shift 2 ;;
    --dir) need_arg "$@"; dir=$2; shift 2 ;;
    --user) need_arg "$@"; user=$2; shift 2 ;;
    --binary) need_arg "$@"; binary=$2; shift 2 ;;
    --host) need_arg "$@"; host=$2; shift 2 ;;
    --port) need_arg "$@"; port=$2; shift 2 ;;
    --capabilities) need_arg "$@"; caps=$2; shift 2 ;;
    --from) need_arg "$@"; from=$2; shift 2 ;;
    --root) need_arg "$@"; root=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    --pubkey=* | --name=* | --slots=* | --dir=* | --user=* | --binary=* | --host=* | \
    --port=* | --capabilities=* | --from=* | --root=*)
        opt=${1%%=*} val=${1#*=}
        shift
        set -- "$opt" "$val" "$@"
        ;;
    *) usage_error "unknown option or argument: $1" ;;
    esac
done

[ -n "$pubkey" ] || usage_error "--pubkey FILE is required: the primary's SSH public key (made on the primary with
  ssh-keygen -t ed25519 -N '' -f /var/spool/assay/keys/id_ed25519
and copied here, e.g. with scp, as id_ed25519.pub)"

is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }

if [ -z "$slots" ]; then
    slots=$(nproc 2>/dev/null || echo 1)
    [ "$slots" -le 256 ] 2>/dev/null || slots=256
fi
is_uint "$slots" && [ "$slots" -ge 1 ] && [ "$slots" -le 256 ] ||
    usage_error "--slots must be a whole number from 1 to 256, not \"$slots\""

[ -n "$name" ] || name=$(hostname -s 2>/dev/null || hostname)
case "$name" in
'' | *[!A-Za-z0-9._@-]*) usage_error "--name \"$name\" may hold only letters, digits and - _ . @" ;;
esac
[ ${#name} -le 64 ] || usage_error "--name is longer than 64 characters"

case "$user" in
'' | -* | *[!a-z0-9_-]*) usage_error "--user \"$user\" is not a valid account name (lower-case letters, digits, - and _)" ;;
esac
[ ${#user} -le 32 ] || usage_error "--user is longer than 32 characters"

case "$dir" in
/*) ;;
*) usage_error "--dir must be an absolute path, not \"$dir\"" ;;
esac
case "$dir" in
*[!A-Za-z0-9/._-]*) usage_error "--dir \"$dir\" may hold only letters, digits and / . _ -" ;;
esac
dir=$(printf '%s' "$dir" | sed 's://*:/:g; s:/$::')
[ -n "$dir" ] && [ "$dir" != / ] || usage_error "--dir cannot be /"

if [ -n "$port" ]; then
    is_uint "$port" && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
        usage_error "--port must be a number from 1 to 65535, not \"$port\""
fi
case "$caps" in
'' | ,* | *, | *,,* | *[!A-Za-z0-9._@,-]*)
    usage_error "--capabilities must be a comma-separated list of names such as python,gpu, not \"$caps\"" ;;
esac
case "$from" in
*[\"\ ]*) usage_error "--from must be an address pattern list without quotes or spaces" ;;
esac

if [ -n "$root" ]; then
    mkdir -p "$root" || die "cannot create --root $root"
    root=$(cd "$root" && pwd)
    [ "$root" = / ] && root=""
    [ -n "$root" ] || usage_error "--root / would install on this system: leave --root out instead"
    start=0
    real=0
else
    real=1
    [ "$(id -u)" = 0 ] || die "run me as root (sudo $PROG ...): I install packages, an account and a systemd unit"
fi

# ---- the public key ----

[ -f "$pubkey" ] && [ -r "$pubkey" ] || die "cannot read the public key file $pubkey"
if grep -q -- '-----BEGIN' "$pubkey"; then
    die "$pubkey is a PRIVATE key: give the .pub file (the private key stays on the primary)"
fi
keyline=$(grep -v '^[[:space:]]*#' "$pubkey" | grep -v '^[[:space:]]*$' | head -n 1 || true)
[ -n "$keyline" ] || die "$pubkey holds no public key"
set -f
# shellcheck disable=SC2086
set -- $keyline
set +f
case "${1:-}" in
ssh-ed25519 | ssh-rsa | ecdsa-sha2-nistp256 | ecdsa-sha2-nistp384 | ecdsa-sha2-nistp521) ;;
*) die "$pubkey does not hold an SSH public key (expected a line such as \"ssh-ed25519 AAAA... comment\"; found \"$(printf '%.40s' "$keyline")\")" ;;
esac
keytype=$1
keyblob=${2:-}
case "$keyblob" in
AAAA*) ;;
*) die "$pubkey: the key after \"$keytype\" is missing or damaged" ;;
esac
keycomment=""
[ $# -ge 3 ] && { shift 2; keycomment=" $*"; }
if command -v ssh-keygen >/dev/null 2>&1 &&
   ! printf '%s %s\n' "$keytype" "$keyblob" | ssh-keygen -l -f - >/dev/null 2>&1; then
    die "$pubkey: ssh-keygen cannot read the key (damaged?)"
fi
[ "$(grep -cv '^[[:space:]]*\(#.*\)\{0,1\}$' "$pubkey")" -le 1 ] ||
    warn "$pubkey holds several keys; only the first is installed"

# ---- the binary ----

here=$(cd "$(dirname "$0")" && pwd)
dest_bin=/usr/local/bin/assay-worker
if [ -z "$binary" ]; then
    for c in "$here/../build/assay-worker" "$here/assay-worker" "./assay-worker"; do
        if [ -f "$c" ] && [ -x "$c" ]; then binary=$c; break; fi
    done
fi
if [ -z "$binary" ]; then
    [ -x "$root$dest_bin" ] ||
        die "no assay-worker to install: copy it from the primary (/usr/local/bin/assay-worker) and pass --binary FILE"
    binary="$root$dest_bin"
fi
[ -f "$binary" ] || die "--binary $binary: no such file"
[ -x "$binary" ] || die "--binary $binary is not executable (chmod +x it, or copy it again)"

# ---- 1. packages ----

pkg_missing() {
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            printf '%s ' "$p"
    done
}
if [ "$real" = 1 ]; then
    command -v dpkg-query >/dev/null 2>&1 ||
        die "this is not a Debian system (no dpkg-query): install $PACKAGES yourself, then run me with --root / left out"
    todo=$(pkg_missing)
    if [ -n "$todo" ]; then
        note "Installing packages: $todo"
        command -v apt-get >/dev/null 2>&1 || die "apt-get is missing; install: $todo"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q || die "apt-get update failed (network? /etc/apt/sources.list?)"
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $todo ||
            die "apt-get install $todo failed"
    else
        note "Packages: all present ($PACKAGES)"
    fi
fi

version=$("$binary" --version 2>/dev/null | sed -n '1s/^assay-worker //p' || true)
if [ -z "$version" ]; then
    libs=$(ldd "$binary" 2>/dev/null | grep 'not found' | tr -s ' \t' ' ' || true)
    msg="$binary --version does not run${libs:+ (missing libraries:$libs)}"
    [ "$real" = 1 ] && die "$msg; it must be built for this machine (Debian 12, $(uname -m))"
    warn "$msg"
    version="?"
fi

# ---- 2. the binary ----

changed=0
install_file() {   # SRC DEST MODE: atomic replace, only when different; sets changed=1
    if [ -f "$2" ] && cmp -s "$1" "$2"; then
        chmod "$3" "$2"
        return 0
    fi
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.new.$$"
    chmod "$3" "$2.new.$$"
    mv -f "$2.new.$$" "$2"   # a running assay-worker keeps its old file
    changed=1
}
install_file "$binary" "$root$dest_bin" 0755
note "Binary: $root$dest_bin (assay-worker $version)"

# ---- 3. the account ----

account_exists() { id -u "$user" >/dev/null 2>&1; }
home=$dir
if [ "$real" = 1 ]; then
    if ! account_exists; then
        useradd --system --user-group --home-dir "$dir" --no-create-home --shell /bin/sh \
            --comment "Assay worker (the primary logs in as this account)" "$user" ||
            die "useradd $user failed"
        note "Account: $user created (home $dir)"
    else
        note "Account: $user exists"
    fi
    home=$(getent passwd "$user" | cut -d: -f6)
    shell=$(getent passwd "$user" | cut -d: -f7)
    case "$home" in
    /*) [ "$home" = /nonexistent ] &&
            die "account $user has no home directory ($home), so sshd cannot find its authorized_keys: give it one (usermod -d $dir $user) or pick another --user" ;;
    *) die "account $user has no home directory; run usermod -d $dir $user" ;;
    esac
    case "$shell" in
    */nologin | */false | "")
        # sshd runs the primary's commands with the login shell
        usermod -s /bin/sh "$user" || die "usermod -s /bin/sh $user failed"
        note "Account: $user's shell was ${shell:-empty}; set to /bin/sh so the primary can run assay-worker"
        ;;
    esac
    # A locked account ("!" in /etc/shadow) is refused by sshd even with a
    # key: '*' means no password can match, yet the account is not locked.
    pw=$(getent shadow "$user" | cut -d: -f2)
    case "$pw" in
    '!'*) usermod -p '*' "$user" || die "usermod -p '*' $user failed"
          note "Account: $user unlocked for key logins (it still has no password)" ;;
    esac
else
    note "Account: $user (not created: --root; create it on the installed system with
    useradd --system --user-group --home-dir $dir --no-create-home --shell /bin/sh $user && usermod -p '*' $user)"
fi
owner=root
account_exists && owner=$user
group=$(id -gn "$owner" 2>/dev/null || echo root)

# ---- 4. the worker directory ----
# DIR (root, 0711): the run uids may pass through to their work directory
#   in tmp/, nobody else may list it, and the account cannot rename its parts.
# inbox/ active/ outbox/ (the account, 0700): the primary writes jobs and
#   takes results; the daemon (root) moves them; student code cannot look in.
# tmp/ (root, 0711) work directories; logs/ (root, 0700) the daemon's log.

mkdir -p "$root$dir" || die "cannot create $root$dir"
chown root "$root$dir" 2>/dev/null || [ "$real" = 0 ] || die "cannot chown $root$dir"
chmod 0711 "$root$dir"
for sub in inbox active outbox; do
    mkdir -p "$root$dir/$sub"
    if [ "$owner" != root ]; then chown "$owner:$group" "$root$dir/$sub" || die "cannot chown $root$dir/$sub"; fi
    chmod 0700 "$root$dir/$sub"
done
mkdir -p "$root$dir/tmp" "$root$dir/logs"
chown root "$root$dir/tmp" "$root$dir/logs" 2>/dev/null || [ "$real" = 0 ] || die "cannot chown $root$dir/tmp"
chmod 0711 "$root$dir/tmp"
chmod 0700 "$root$dir/logs"
note "Directory: $root$dir (inbox active outbox owned by $owner; tmp logs by root)"

# ---- 5. authorized_keys ----

sshdir="$root$home/.ssh"
ak="$sshdir/authorized_keys"
opts="no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty,no-user-rc"
[ -n "$from" ] && opts="from=\"$from\",$opts"
if [ ! -d "$sshdir" ]; then
    mkdir -p "$sshdir"
    chmod 0755 "$sshdir"   # root's: the account cannot change which keys it accepts
fi
tmp_ak="$ak.new.$$"
: >"$tmp_ak"
# Keep every other key; drop an older line with this key (whatever its options).
if [ -f "$ak" ]; then
    awk -v t="$keytype" -v b="$keyblob" \
        '{ for (i = 1; i < NF; i++) if ($i == t && $(i + 1) == b) next; print }' "$ak" >"$tmp_ak"
fi
printf '%s %s %s%s\n' "$opts" "$keytype" "$keyblob" "$keycomment" >>"$tmp_ak"
chmod 0644 "$tmp_ak"
mv -f "$tmp_ak" "$ak"
note "Key: $ak ($keytype, restricted: $opts)"

# ---- 6. the systemd unit ----
# Made from the unit's one template, assay-worker.service.in: in systemd/
# beside this script (scripts/ in the source tree, PREFIX/share/assay once
# installed), or next to it when the two were copied to the worker.

template=""
for t in "$here/systemd/assay-worker.service.in" "$here/assay-worker.service.in"; do
    if [ -f "$t" ]; then template=$t; break; fi
done
[ -n "$template" ] ||
    die "cannot find the unit's template assay-worker.service.in in $here or $here/systemd: copy scripts/systemd/assay-worker.service.in from the primary next to $PROG"
case "$dir/" in
/home/* | /root/* | /run/user/*)
    die "--dir $dir is under /home, /root or /run/user, which the unit hides from the daemon (ProtectHome=yes): pick another directory" ;;
esac
unit="$root/etc/systemd/system/assay-worker.service"
tmp_unit="$unit.new.$$"
mkdir -p "$(dirname "$unit")"
# --name last: a name may hold "@" (the other values cannot)
{
    echo "# Written by scripts/deploy-worker.sh; running it again rewrites this file."
    sed -e "s|@PREFIX@|${dest_bin%/bin/assay-worker}|g" -e "s|@WORKER_DIR@|$dir|g" \
        -e "s|@SLOTS@|$slots|g" -e "s|@NAME@|$name|g" "$template"
} >"$tmp_unit" || die "cannot write $tmp_unit"
if [ -f "$unit" ] && cmp -s "$tmp_unit" "$unit"; then
    rm -f "$tmp_unit"
else
    chmod 0644 "$tmp_unit"
    mv -f "$tmp_unit" "$unit"
    changed=1
fi
note "Unit: $unit ($dest_bin --dir $dir --slots $slots --name $name)"

# ---- sshd: running, and will it read the key? ----

if [ "$real" = 1 ] && [ -x /usr/sbin/sshd ]; then
    cfg=$(/usr/sbin/sshd -T -C "user=$user,host=primary,addr=127.0.0.1" 2>/dev/null || true)
    if [ -z "$cfg" ]; then
        warn "cannot read sshd's configuration (/usr/sbin/sshd -T failed): check /etc/ssh/sshd_config"
    else
        printf '%s\n' "$cfg" | grep -qi '^pubkeyauthentication yes' ||
            warn "sshd has PubkeyAuthentication off: the primary cannot log in (set it to yes in /etc/ssh/sshd_config)"
        printf '%s\n' "$cfg" | grep -i '^authorizedkeysfile' | grep -q '\.ssh/authorized_keys' ||
            warn "sshd's AuthorizedKeysFile does not include .ssh/authorized_keys, so it will not read $ak"
        printf '%s\n' "$cfg" | grep -qi '^subsystem sftp' ||
            warn "sshd has no sftp subsystem: add \"Subsystem sftp internal-sftp\" to /etc/ssh/sshd_config"
        for k in allowusers allowgroups; do
            list=$(printf '%s\n' "$cfg" | sed -n "s/^$k //p" | tr '\n' ' ')
            [ -z "$list" ] && continue
            ok=0
            for a in $list; do
                case "$k" in
                allowusers) [ "${a%%@*}" = "$user" ] && ok=1 ;;
                allowgroups) id -nG "$user" | tr ' ' '\n' | grep -qx "$a" && ok=1 ;;
                esac
            done
            [ "$ok" = 1 ] || warn "sshd's $k ($list) does not admit $user: add it, or the primary's login is refused"
        done
        [ -z "$port" ] && port=$(printf '%s\n' "$cfg" | sed -n 's/^port //p' | head -n 1)
    fi
fi
[ -n "$port" ] || port=22

# ---- start ----

systemd_up() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
started=""
if [ "$start" = 1 ]; then
    if systemd_up; then
        systemctl daemon-reload || die "systemctl daemon-reload failed"
        systemctl enable --now ssh >/dev/null 2>&1 || warn "could not enable and start ssh (sshd)"
        systemctl enable assay-worker >/dev/null 2>&1 || die "systemctl enable assay-worker failed"
        if systemctl is-active --quiet assay-worker; then
            if [ "$changed" = 1 ]; then
                systemctl restart assay-worker || die "systemctl restart assay-worker failed: see journalctl -u assay-worker"
                started="restarted (new binary or settings)"
            else
                started="already running, unchanged"
            fi
        else
            systemctl start assay-worker ||
                die "assay-worker did not start: see journalctl -u assay-worker and $dir/logs/worker.log"
            started="started"
        fi
        sleep 1
        systemctl is-active --quiet assay-worker ||
            die "assay-worker stopped right after starting: see journalctl -u assay-worker and $dir/logs/worker.log"
        note "Service: assay-worker $started (systemctl status assay-worker)"
    else
        warn "systemd is not running here: start the worker yourself, as root:
    $dest_bin --dir $dir --slots $slots --name $name &"
    fi
elif [ "$real" = 1 ]; then
    note "Service: not started (--no-start); start it with: systemctl daemon-reload && systemctl enable --now assay-worker"
fi

# ---- self-check: can the account run what the primary will run? ----

if [ "$real" = 1 ]; then
    probe="$dir/inbox/.deploy-check"
    if ! su -s /bin/sh -c "touch $probe && rm -f $probe" "$user" 2>/dev/null; then
        warn "$user cannot write to $dir/inbox: the primary will not be able to deliver jobs"
    elif out=$(su -s /bin/sh -c "cd / && $dest_bin status --dir $dir" "$user" 2>&1); then
        note "Check: as $user, assay-worker status says $out"
    else
        warn "as $user, \"$dest_bin status --dir $dir\" failed: $out"
    fi
fi

# ---- 7. the canary gradings: can this worker grade every kind? ----
# The service grades a built-in assignment of each test kind in its real
# sandbox, as it will grade students' jobs; a missing package or a sandbox
# that cannot start is named now rather than in a student's result.

daemon_running() {   # someone holds the worker directory's lock
    [ -e "$root$dir/.lock" ] && ! flock -n "$root$dir/.lock" true 2>/dev/null
}
canary_cmd="$dest_bin canary --dir $dir"
if [ -n "$started" ] || daemon_running; then
    note "Canary gradings (assay-worker canary --dir $root$dir):"
    if out=$("$root$dest_bin" canary --dir "$root$dir" 2>&1); then
        printf '%s\n' "$out" | sed 's/^/  /'
    else
        printf '%s\n' "$out" | sed 's/^/  /'
        die "the canary gradings failed: this worker cannot grade every kind of test (see above). Install what is missing (or fix the sandbox), then run $canary_cmd again"
    fi
else
    note "Canary gradings: not run, the service is not running here; once it is: $canary_cmd"
fi

# ---- 8. what to do on the primary ----

if [ -z "$host" ]; then
    host=$(hostname -I 2>/dev/null | awk '{print $1}')
    [ -n "$host" ] || host=$(hostname -f 2>/dev/null || hostname)
fi
if [ "$port" = 22 ]; then khost=$host; else khost="[$host]:$port"; fi
capjson=$(printf '%s' "$caps" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')

cat <<EOF

Worker "$name" is installed (assay-worker $version, $slots slots, directory $dir).

Now, on the primary (as root):

1. Record this host's SSH key, then check it against the fingerprints below
   (they are this host's own keys; the lines ssh-keyscan fetched must match):
     ssh-keyscan -p $port $host >> /var/spool/assay/keys/known_hosts
     ssh-keygen -lf /var/spool/assay/keys/known_hosts
EOF
found=0
for t in ed25519 ecdsa rsa; do
    f="$root/etc/ssh/ssh_host_${t}_key.pub"
    [ -f "$f" ] || continue
    found=1
    printf '   %s: %s\n' "$host" "$(ssh-keygen -lf "$f" 2>/dev/null || echo "(cannot read $f)")"
done
if [ "$found" = 1 ]; then
    echo "   Or, without trusting the network, append these lines to known_hosts yourself:"
    for t in ed25519 ecdsa rsa; do
        f="$root/etc/ssh/ssh_host_${t}_key.pub"
        [ -f "$f" ] && printf '     %s %s\n' "$khost" "$(cut -d' ' -f1,2 "$f")"
    done
else
    echo "   (no host keys under $root/etc/ssh: compare with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`"
    echo "    and the other /etc/ssh/ssh_host_*_key.pub on the installed host)"
fi
cat <<EOF
   Keep every key type: the primary may be offered any of them.

2. Add this entry to the "workers" list in /var/spool/assay/workers.json:
     {"name": "$name", "transport": "ssh", "host": "$host", "port": $port,
      "user": "$user", "key": "keys/id_ed25519", "known_hosts": "keys/known_hosts",
      "remote_dir": "$dir", "worker_command": "$dest_bin",
      "slots": $slots, "capabilities": [$capjson], "enabled": true,
      "timeout_margin_s": 10, "min_free_mb": 100}

3. Reload the scheduler and test the worker:
     systemctl reload assay-scheduler
     assay workers check $name
EOF
exit 0
