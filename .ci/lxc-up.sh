#!/usr/bin/env bash
# Bring up what the LXC driver's tests need on a fresh Debian machine, and prove it works:
# the LXC userspace and headers (for the `lxc` binding), busybox (the offline template),
# iproute2 / iptables (bridges, NAT), then the Python binding and pyroute2, then one real
# busybox container started and stopped in a throw-away lxcpath.
# Idempotent; fails loudly (non-zero, one clear message) when LXC cannot run here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "lxc-up: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (the LXC driver manages privileged containers)"

bash .ci/apt.sh lxc lxc-dev busybox-static iproute2 iptables libcap2-bin uidmap \
  pkg-config gcc python3-dev

# --- kernel / cgroup facts the driver relies on --------------------------------------
[ -d /sys/fs/cgroup ] || die "/sys/fs/cgroup is missing: cgroups are not mounted"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  grep -qw memory /sys/fs/cgroup/cgroup.controllers \
    || die "cgroup2 is mounted but has no memory controller: memory limits cannot be enforced"
  layout="cgroup2 (unified)"
elif [ -d /sys/fs/cgroup/memory ]; then
  layout="cgroup v1 memory controller (hybrid/legacy)"
else
  die "no memory cgroup controller (neither cgroup2 nor v1): memory limits cannot be enforced"
fi
mount | grep -q ' type cgroup2 ' || echo "lxc-up: note: no cgroup2 mount (v1 only host)" >&2
for ns in pid net mnt uts ipc; do
  [ -e "/proc/self/ns/$ns" ] || die "kernel lacks the $ns namespace"
done
[ -e /proc/self/ns/cgroup ] || echo "lxc-up: note: no cgroup namespace" >&2
command -v lxc-checkconfig >/dev/null || die "lxc-checkconfig missing after installing lxc"
if lxc-checkconfig 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' \
     | grep -E '^(Namespaces|Utsname namespace|Ipc namespace|Pid namespace|Network namespace):' \
     | grep -q 'missing'; then
  die "lxc-checkconfig reports missing namespace support"
fi
[ -x /usr/share/lxc/templates/lxc-busybox ] || die "the busybox LXC template is not installed"
command -v busybox >/dev/null || die "busybox is not installed"

# --- Python side: the official binding (built against lxc-dev) and pyroute2 ----------
python3 - <<'EOF' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check lxc pyroute2
import lxc, pyroute2  # noqa: F401
EOF
python3 -c 'import lxc, pyroute2' || die "the lxc Python binding or pyroute2 could not be installed"

# --- prove it: one busybox container, started and stopped, in a private lxcpath -------
probe=$(mktemp -d /tmp/virtplug-lxc-up.XXXXXX)
trap 'lxc-stop -P "$probe" -n probe -k >/dev/null 2>&1 || true;
      lxc-destroy -P "$probe" -n probe >/dev/null 2>&1 || true; rm -rf "$probe"' EXIT
python3 - "$probe" <<'EOF' || die "a busybox container could not be created/started (see $probe/probe/lxc.log)"
import sys, lxc
path = sys.argv[1]
c = lxc.Container("probe", path)
c.clear_config_item("lxc.net")
c.set_config_item("lxc.net.0.type", "empty")
c.set_config_item("lxc.log.file", f"{path}/probe.log")
if not c.create("busybox", lxc.LXC_CREATE_QUIET, ()):
    sys.exit("create failed")
c = lxc.Container("probe", path)
c.set_config_item("lxc.log.file", f"{path}/probe.log")
if not c.start() or not c.wait("RUNNING", 10):
    print(open(f"{path}/probe.log").read()[-2000:], file=sys.stderr)
    sys.exit("start failed")
if not c.stop():
    sys.exit("stop failed")
EOF
echo "lxc-up: LXC $(lxc-create --version) ready; memory limits via ${layout}" >&2
