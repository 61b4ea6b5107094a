#!/usr/bin/env bash
# Bring up a Docker engine for the Docker driver's tests (idempotent, fails loudly).
#
# - installs the Debian packages the tests need (engine, busybox for the offline test image,
#   the registry and sshd the registry / ssh tests start, htpasswd for registry auth);
# - starts dockerd in the background when `docker info` fails, logging to
#   /tmp/virtplug-dockerd.log; its pid goes to /tmp/virtplug-dockerd.pid so that
#   .ci/docker-down.sh stops only a dockerd this script started;
# - builds the offline test image virtplug/busybox:latest when it is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LOG=/tmp/virtplug-dockerd.log
PIDFILE=${VIRTPLUG_DOCKERD_PIDFILE:-/tmp/virtplug-dockerd.pid}
IMAGE=virtplug/busybox:latest

bash .ci/apt.sh docker.io busybox-static docker-registry openssh-server apache2-utils openssl iproute2

if ! docker info >/dev/null 2>&1; then
  echo "virtplug: starting dockerd (log: $LOG)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # shellcheck disable=SC2086
  # setsid: its own session, so it outlives the shell (or tool job) that started it.
  $SUDO setsid nohup dockerd --pidfile /var/run/virtplug-dockerd-engine.pid >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
      break
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "virtplug: dockerd exited during startup; last log lines:" >&2
      tail -n 40 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      exit 1
    fi
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "virtplug: dockerd did not answer within 60 s; last log lines:" >&2
    tail -n 40 "$LOG" >&2 || true
    exit 1
  fi
fi
echo "virtplug: docker engine $(docker version --format '{{.Server.Version}}') is up" >&2

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "virtplug: building the offline test image $IMAGE" >&2
  if python3 -c 'import virtplug_docker.testimage' 2>/dev/null; then
    python3 -m virtplug_docker.testimage --tag "$IMAGE"
  else
    # Shell equivalent of `python -m virtplug_docker.testimage` (package not installed yet).
    rootfs=$(mktemp -d /tmp/virtplug-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $("$rootfs/bin/busybox" --list); do
      [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
    echo 'root:x:0:' >"$rootfs/etc/group"
    tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
  fi
fi
docker image inspect "$IMAGE" >/dev/null
echo "virtplug: test image $IMAGE is present" >&2
