#!/usr/bin/env bash
# The main job on the test driver, as a virsh user would run it: define and start a
# network, define a domain from XML, start it, list, dump its XML, run a command inside,
# destroy and undefine it.
# Installs virtplug and the test driver into ./.venv-demo first (no daemon needed).
# Each `virtplug` command is a separate process; they share one persisted state file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# VIRTPLUG_DEMO_INSTALLED=1 uses the virtplug already on PATH (the test suite does).
if [ "${VIRTPLUG_DEMO_INSTALLED:-0}" != 1 ]; then
  if [ ! -x .venv-demo/bin/virtplug ]; then
    python3 -m venv .venv-demo
    .venv-demo/bin/pip install -q --disable-pip-version-check ./core ./plugins/test
  fi
  export PATH="$PWD/.venv-demo/bin:$PATH"
fi

state_dir=$(mktemp -d)
trap 'rm -rf "$state_dir"' EXIT
export VIRTPLUG_DEFAULT_URI="test://$state_dir/node.xml?persist=1"

run() { printf '\n$ %s\n' "$*"; "$@"; }
run virtplug drivers
run virtplug net-define examples/default-net.xml
run virtplug net-start default
run virtplug define examples/web.xml
run virtplug start web
run virtplug list --all
run virtplug dominfo web
run virtplug dumpxml web
run virtplug exec web -- echo hello from inside
run virtplug destroy web
run virtplug undefine web
run virtplug list --all
run virtplug net-destroy default
run virtplug net-undefine default
