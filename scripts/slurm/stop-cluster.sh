#!/usr/bin/env bash
# Stops the one-node cluster of start-cluster.sh: its jobs, slurmd, slurmctld, then munged (each by the
# pid file it wrote). Idempotent: stopping what is not running succeeds.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

alive() { pgrep -r R,S,D,T -x "$1" >/dev/null; }
stop_daemon() { # NAME PIDFILE
  local pid
  pid="$($SUDO cat "$2" 2>/dev/null || true)"
  if [ -n "$pid" ]; then $SUDO kill "$pid" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do alive "$1" || return 0; sleep 0.2; done
  echo "stop-cluster: $1 still runs 10 s after SIGTERM" >&2
  return 1
}

if alive slurmctld; then scancel --full --user="$(id -un)" 2>/dev/null || true; fi
stop_daemon slurmd /run/slurmd.pid
stop_daemon slurmctld /run/slurmctld.pid
stop_daemon munged /run/munge/munged.pid
echo "stop-cluster: stopped"
