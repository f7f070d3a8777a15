#!/usr/bin/env bash
# Stops the one-node cluster of start-cluster.sh: its jobs, slurmd, slurmctld, then munged (each by the
# pid file it wrote). Idempotent: stopping what is not running succeeds.
set -euo pipefail

. "$(dirname "$0")/daemons.sh"

if alive slurmctld; then scancel --full --user="$(id -un)" 2>/dev/null || true; fi
stop_daemon slurmd /run/slurmd.pid
stop_daemon slurmctld /run/slurmctld.pid
stop_daemon munged /run/munge/munged.pid
echo "stop-cluster: stopped"
