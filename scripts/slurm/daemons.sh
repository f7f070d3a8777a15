# Shared by start-cluster.sh and stop-cluster.sh (sourced): root or sudo, and the cluster's daemons.
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

# A daemon that runs (not the zombie an earlier start may have left).
alive() { pgrep -r R,S,D,T -x "$1" >/dev/null; }

# Stops a daemon by the pid file it wrote; fails when it still runs 10 s later.
stop_daemon() { # NAME PIDFILE
  local pid
  pid="$($SUDO cat "$2" 2>/dev/null || true)"
  if [ -n "$pid" ]; then $SUDO kill "$pid" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do alive "$1" || return 0; sleep 0.2; done
  echo "$1 still runs 10 s after SIGTERM" >&2
  return 1
}
