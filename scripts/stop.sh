#!/usr/bin/env bash
# Stop what ./scripts/run.sh started (and only that): workers, cool-api, ZooKeeper
# and, with --openstack, the cloud. Without COOL_LOCAL_DIR, it stops both default
# systems (.cool-local and .cool-local-openstack), whichever run.
# Their data stays in their directories; remove one to start afresh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${COOL_VENV:-$root/.venv}/bin/python"
if [ -n "${COOL_LOCAL_DIR:-}" ]; then
    dirs=("$COOL_LOCAL_DIR")
else
    dirs=("$root/.cool-local" "$root/.cool-local-openstack")
fi
found=""
for dir in "${dirs[@]}"; do
    if [ -f "$dir/state.json" ]; then
        found=1
        # the harness lives in the checkout (a .venv made before it moved lacks its .pth)
        PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" "$python" -m harness.system --dir "$dir" down
    fi
done
if [ -z "$found" ]; then
    echo "nothing to stop: no local system in ${dirs[*]}"
fi
