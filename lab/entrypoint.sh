#!/bin/sh
# talon lab host: run OpenSSH in the foreground, logging to stderr (see `docker logs`).
# `talon lab up` copies the host key and authorized_keys in before the container starts.
set -eu
if [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
  echo "talon-lab: no host key at /etc/ssh/ssh_host_ed25519_key; create lab hosts with 'talon lab up'" >&2
  exit 1
fi
install -d -m 0755 /run/sshd
exec /usr/sbin/sshd -D -e
