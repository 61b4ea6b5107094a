#!/usr/bin/env bash
# Install Debian packages that are missing; runs `apt-get update` at most once per boot.
# Usage: bash .ci/apt.sh PKG...
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
stamp=/tmp/.virtplug-apt-updated
if [ ! -f "$stamp" ]; then
  $SUDO apt-get update -qq
  touch "$stamp"
fi
echo "virtplug: installing ${missing[*]}" >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
