#!/usr/bin/env bash
# Install cool and show it working: validate the example templates and print
# each one's build order. (Later: start ZooKeeper, the API and workers.)
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
cool_setup_env ""
cd "$COOL_ROOT"
cool="$COOL_VENV/bin/cool"
for template in examples/*.yaml; do
    echo
    echo "==> cool validate $template"
    "$cool" validate "$template"
done
echo
echo "All examples are valid. Try: $cool validate examples/multi-tier.yaml -f json"
echo "                        or: $cool resource-type show OS::Nova::Server"
