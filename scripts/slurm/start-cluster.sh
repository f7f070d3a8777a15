#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for the Slurm launcher's tests and CI: munged, slurmctld
# and slurmd from Debian's munge and slurm-wlm (22.05), one partition holding the machine's CPUs.
# Idempotent: a cluster that already answers with this configuration is left alone. Runs as root, or
# through sudo. Stop it with scripts/slurm/stop-cluster.sh.
set -euo pipefail

. "$(dirname "$0")/daemons.sh"

CONF=/etc/slurm/slurm.conf
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm
MUNGE_KEY=/etc/munge/munge.key
HOST="$(hostname)"
READY_TIMEOUT_S="${GOWIDE_SLURM_READY_TIMEOUT_S:-60}"

for cmd in munged slurmctld slurmd sinfo sbatch; do
  if ! command -v "$cmd" >/dev/null && [ ! -x "/usr/sbin/$cmd" ]; then
    echo "start-cluster: $cmd not found: apt-get install munge slurm-wlm" >&2
    exit 1
  fi
done

log_tails() {
  for f in "$LOGS/slurmctld.log" "$LOGS/slurmd.log" /var/log/munge/munged.log; do
    echo "--- last lines of $f:" >&2
    $SUDO tail -n 20 "$f" >&2 2>/dev/null || echo "(none)" >&2
  done
}

# --- munge: a 1,024-byte key only munge can read, munged running as munge ---------------------------
key_changed=0
if [ "$($SUDO stat -c %s "$MUNGE_KEY" 2>/dev/null || echo 0)" != "1024" ]; then
  $SUDO mkdir -p /etc/munge
  $SUDO dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
  key_changed=1
fi
$SUDO chown munge:munge "$MUNGE_KEY"
$SUDO chmod 0400 "$MUNGE_KEY"
$SUDO mkdir -p /run/munge /var/log/munge /var/lib/munge
$SUDO chown munge:munge /run/munge /var/log/munge /var/lib/munge
munge_answers() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if [ "$key_changed" = 1 ] && munge_answers; then
  # Restart with the new key.
  stop_daemon munged /run/munge/munged.pid
  for _ in $(seq 1 50); do munge_answers || break; sleep 0.1; done
fi
if ! munge_answers; then
  # --force: start even beside the socket of a munged that died without removing it.
  if [ -z "$SUDO" ]; then runuser -u munge -- /usr/sbin/munged --force; else sudo -u munge /usr/sbin/munged --force; fi
  for _ in $(seq 1 50); do munge_answers && break; sleep 0.1; done
fi
if ! munge_answers; then
  echo "start-cluster: munged does not answer (munge -n | unmunge failed)" >&2
  log_tails
  exit 1
fi

# --- slurm.conf ------------------------------------------------------------------------------------
cpus="$(nproc)"
# The memory slurmd itself measures, so the node is never drained for having less than configured.
memory_mb="$(/usr/sbin/slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')"
memory_mb="${memory_mb:-$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 ))}"
# A host name nothing resolves (some containers) is given the loopback address.
host_addr=""
if ! getent hosts "$HOST" >/dev/null; then host_addr="127.0.0.1"; fi
wanted="$(mktemp)"
trap 'rm -f "$wanted"' EXIT
cat >"$wanted" <<EOF
# Written by gowide's scripts/slurm/start-cluster.sh: a one-node cluster for tests.
ClusterName=gowide-ci
SlurmctldHost=$HOST${host_addr:+($host_addr)}
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
# squeue -t all still lists a finished job for 10 minutes (the launcher reads its final state there).
MinJobAge=600
# scancel and time limits: SIGTERM, then SIGKILL this many seconds later (a gowide job stops in less).
KillWait=10
# Start waiting batch jobs as soon as CPUs free up (default: up to 3 s later).
SchedulerParameters=batch_sched_delay=0
# The node takes the CPUs and memory written here even where slurmd counts them differently.
SlurmdParameters=config_overrides
NodeName=$HOST${host_addr:+ NodeAddr=$host_addr} CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

conf_changed=0
if ! $SUDO cmp -s "$wanted" "$CONF" 2>/dev/null; then
  $SUDO mkdir -p /etc/slurm
  $SUDO cp "$wanted" "$CONF"
  $SUDO chmod 0644 "$CONF"
  conf_changed=1
fi
$SUDO mkdir -p "$STATE" "$SPOOL" "$LOGS"

# --- daemons: slurmctld, then slurmd -----------------------------------------------------------------
if [ "$conf_changed" = 1 ]; then
  # A new configuration: restart whatever runs with the old one.
  stop_daemon slurmd /run/slurmd.pid
  stop_daemon slurmctld /run/slurmctld.pid
fi
if ! alive slurmctld; then $SUDO /usr/sbin/slurmctld; fi
for _ in $(seq 1 50); do
  if scontrol ping 2>/dev/null | grep -q UP; then break; fi
  sleep 0.2
done
if ! alive slurmd; then $SUDO /usr/sbin/slurmd; fi

# --- ready: the node idle (or already running jobs) ----------------------------------------------------
deadline=$(( $(date +%s) + READY_TIMEOUT_S ))
state=""
while [ "$(date +%s)" -lt "$deadline" ]; do
  state="$(sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1 || true)"
  case "$state" in
    idle|mixed|allocated|completing) echo "start-cluster: node $HOST $state ($cpus CPUs, ${memory_mb} MB) in partition main"; exit 0 ;;
    down*|drain*)
      # A node marked down by an earlier run of the daemons comes back once slurmd answers.
      $SUDO scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
echo "start-cluster: node $HOST not idle after ${READY_TIMEOUT_S}s (sinfo says: '${state:-no answer}')" >&2
sinfo >&2 || true
log_tails
exit 1
