#!/usr/bin/env bash
# Stop what ./scripts/run.sh started (and only that): workers, cool-api, ZooKeeper.
# Its data stays in the directory; remove it to start afresh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${COOL_LOCAL_DIR:-$root/.cool-local}"
if [ ! -f "$dir/state.json" ]; then
    echo "nothing to stop: no local system in $dir"
    exit 0
fi
exec "${COOL_VENV:-$root/.venv}/bin/python" -m cool.local.system --dir "$dir" down
