#!/usr/bin/env bash
# Stop the dockerd that .ci/docker-up.sh started (and nothing else).
set -euo pipefail
PIDFILE=${VIRTPLUG_DOCKERD_PIDFILE:-/tmp/virtplug-dockerd.pid}
[ -f "$PIDFILE" ] || exit 0
pid=$(cat "$PIDFILE")
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# A stale pidfile (a dockerd that died, its pid reused) must not stop another process.
if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '^dockerd '; then
  rm -f "$PIDFILE"
  exit 0
fi
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
