#!/usr/bin/env bash
# Stop the dockerd that .ci/docker-up.sh started (and nothing else).
set -euo pipefail
PIDFILE=${VIRTPLUG_DOCKERD_PIDFILE:-/tmp/virtplug-dockerd.pid}
[ -f "$PIDFILE" ] || exit 0
pid=$(cat "$PIDFILE")
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if kill -0 "$pid" 2>/dev/null; then
  echo "virtplug: stopping dockerd (pid $pid)" >&2
  $SUDO kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "virtplug: dockerd (pid $pid) ignored SIGTERM for 30 s; killing it" >&2
    $SUDO kill -KILL "$pid" || true
  fi
fi
rm -f "$PIDFILE"
