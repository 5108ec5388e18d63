#!/usr/bin/env bash
# Run a whole cool on this machine and show a build: installs what is missing
# (system packages included), starts a local ZooKeeper, cool-api (http_basic on
# 127.0.0.1) and two cool-workers on the simulated cloud, builds the multi-tier
# example with the live progress view, and leaves the system running.
# Run again, it reuses what is running. ./scripts/stop.sh stops it.
# COOL_LOCAL_DIR picks where it lives (default .cool-local in the checkout).
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
cool_setup_env ""
cool_need_zookeeper
cd "$COOL_ROOT"
dir="${COOL_LOCAL_DIR:-$COOL_ROOT/.cool-local}"
echo "==> starting the local system in $dir" >&2
"$COOL_VENV/bin/python" -m cool.local.system --dir "$dir" up
# shellcheck source=/dev/null
source "$dir/env"
echo "==> cool submit examples/multi-tier.yaml --wait" >&2
status=0
"$COOL_VENV/bin/cool" submit examples/multi-tier.yaml --wait -c id -c status -c outputs || status=$?
"$COOL_VENV/bin/python" -m cool.local.system --dir "$dir" guide
exit "$status"
