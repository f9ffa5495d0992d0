#!/bin/sh
# bench app launcher (never run by the benchmark; only deployed)
set -eu
. /opt/bench/etc/app.env
exec /opt/bench/bin/app --config /opt/bench/etc/app.ini "$@"
