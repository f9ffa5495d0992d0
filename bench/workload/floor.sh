#!/bin/sh
# The benchmark's floor: the end state of site.yml as one POSIX sh script, sent over one ssh call
# per host (`ssh ... root@HOST sh -s -- NAME SLOT < floor.sh`). Same paths, bytes, modes and
# owners as the playbook; idempotent: each step compares before it writes, and the script prints
# `changed=N` (resources it had to change) last. The script arrives on stdin, so every command
# here that reads stdin gets a heredoc.
set -eu
host=$1
slot=$2
B=/opt/bench
changed=0
notify=0

# fix_attrs PATH MODE OWNER:GROUP: sets mode and owner when they differ; c=1 if it did.
fix_attrs() {
    if [ "$(stat -c '%a %U:%G' "$1")" != "$2 $3" ]; then
        chown "$3" "$1"
        chmod "$2" "$1"
        c=1
    fi
}

# dir PATH MODE [OWNER:GROUP]
dir() {
    c=0
    if [ ! -d "$1" ]; then mkdir "$1"; c=1; fi
    fix_attrs "$1" "$2" "${3:-root:root}"
    changed=$((changed + c))
}

# put PATH MODE [OWNER:GROUP] < content: writes atomically when the content differs.
put() {
    c=0
    cat > "$1.floor-new"
    if cmp -s "$1.floor-new" "$1"; then
        rm -f "$1.floor-new"
    else
        chown "${3:-root:root}" "$1.floor-new"
        chmod "$2" "$1.floor-new"
        mv -f "$1.floor-new" "$1"
        c=1
    fi
    fix_attrs "$1" "$2" "${3:-root:root}"
    changed=$((changed + c))
}

# line PATH REGEX LINE: like lineinfile (the last line matching REGEX becomes LINE, else append).
line() {
    if grep -qxF -- "$3" "$1"; then return 0; fi
    if [ -n "$2" ] && grep -q -- "$2" "$1"; then
        sed -i "/$2/c\\
$3" "$1"
    else
        printf '%s\n' "$3" >> "$1"
    fi
    changed=$((changed + 1))
}

# touch_new PATH MODE: creates an empty file once (copy force: false / lineinfile create).
touch_new() {
    if [ ! -e "$1" ]; then
        : > "$1"
        chmod "$2" "$1"
        changed=$((changed + 1))
    fi
}

# link TARGET PATH
link() {
    if [ "$(readlink "$2" || true)" != "$1" ]; then
        ln -sfn "$1" "$2"
        changed=$((changed + 1))
    fi
}

dir $B 755
for d in etc:755 bin:755 data:750 log:750 conf.d:755 share:755; do
    dir "$B/${d%%:*}" "${d#*:}"
done
dir $B/spool 770 nobody:nogroup

put $B/etc/app.conf 644 <<'EOF'
# bench app: static settings, copied as is
listen_backlog = 128
read_timeout = 30s
write_timeout = 30s
max_body = 1m
EOF
put $B/bin/run.sh 755 <<'EOF'
#!/bin/sh
# bench app launcher (never run by the benchmark; only deployed)
set -eu
. /opt/bench/etc/app.env
exec /opt/bench/bin/app --config /opt/bench/etc/app.ini "$@"
EOF
put $B/etc/logrotate.conf 644 <<'EOF'
/opt/bench/log/*.log {
    weekly
    rotate 4
    compress
    missingok
    notifempty
}
EOF
put $B/etc/motd 644 <<'EOF'
This host is provisioned by the bench workload.
EOF
put $B/etc/secret.conf 600 <<'EOF'
token=not-a-real-secret
EOF
put $B/spool/README 640 nobody:nogroup <<'EOF'
Files waiting to be processed.
EOF

put $B/etc/app.ini 640 <<EOF
# managed by bench: do not edit
[app]
name = bench
host = $host
slot = $slot
port = $((8000 + slot))
features = metrics,tracing,gzip
EOF
notify=$((notify + c))
put $B/etc/hostinfo 644 <<EOF
$host is bench host number $slot of the lab group
EOF
put $B/etc/app.env 600 <<EOF
APP_NAME=BENCH
APP_HOST=$host
APP_DATA=/opt/bench/data/$host
EOF
notify=$((notify + c))

touch_new $B/etc/limits.conf 644
line $B/etc/limits.conf '^nofile=' 'nofile=1024'
line $B/etc/limits.conf '^nproc=' 'nproc=512'
line $B/etc/limits.conf '' 'core=0'
touch_new $B/conf.d/peers.conf 644
line $B/conf.d/peers.conf "^$host " "$host slot=$slot"

link $B/bin $B/current
link $B/etc/app.ini $B/etc/active.ini

touch_new $B/log/app.log 640

if [ ! -e $B/data/initialised ]; then
    echo initialised > $B/data/initialised && chmod 0644 $B/data/initialised
    changed=$((changed + 1))
fi
if [ ! -e $B/data/seed.txt ]; then
    seq 1 100 > $B/data/seed.txt && chmod 0644 $B/data/seed.txt
    changed=$((changed + 1))
fi
if [ -e $B/data/stale.lock ]; then
    rm $B/data/stale.lock
    changed=$((changed + 1))
fi

if [ -e /etc/os-release ]; then flag=linux; else flag=unknown; fi
put $B/etc/os.flag 644 <<EOF
$flag
EOF

if [ -e $B/tmp ] || [ -L $B/tmp ]; then
    rm -rf $B/tmp
    changed=$((changed + 1))
fi

# The handler.
if [ "$notify" -gt 0 ]; then
    echo reloaded > $B/log/reload.stamp && chmod 0640 $B/log/reload.stamp
    changed=$((changed + 1))
fi

echo "changed=$changed"
