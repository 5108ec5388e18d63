#!/usr/bin/env bash
# Run a whole cool on this machine and show a build: installs what is missing
# (system packages included), starts a local ZooKeeper, cool-api and two
# cool-workers, builds the multi-tier example with the live progress view, and
# leaves the system running. Run again, it reuses what is running.
#
#   ./scripts/run.sh              on the simulated cloud (cool-api with http_basic)
#   ./scripts/run.sh --openstack  on a small real OpenStack started here (Keystone,
#                                 Neutron, Nova, Placement, Glance, Cinder; ~2 min to
#                                 install once), cool-api with Keystone and trusts
#
# ./scripts/stop.sh stops it. COOL_LOCAL_DIR picks where it lives (default
# .cool-local, or .cool-local-openstack, in the checkout); COOL_SIM_LATENCY how
# many seconds a simulated resource takes to be ready (default 1.5).
set -euo pipefail
mode=()
for arg in "$@"; do
    case "$arg" in
    --openstack) mode=(--openstack) ;;
    -h | --help)
        sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: $0 [--openstack]" >&2
        exit 2
        ;;
    esac
done
source "$(dirname "$0")/setup-env.sh"
cool_setup_env ""
cool_need_zookeeper
if [ "${#mode[@]}" -gt 0 ]; then
    cool_need_openstack
fi
cd "$COOL_ROOT"
system=("$COOL_VENV/bin/python" -m harness.system "${mode[@]}")
dir="$("${system[@]}" where)"
echo "==> starting the local system in $dir" >&2
"${system[@]}" up
# shellcheck source=/dev/null
source "$dir/env"
echo "==> cool submit examples/multi-tier.yaml --parameter-file $dir/environment.yaml --wait" >&2
status=0
"$COOL_VENV/bin/cool" submit examples/multi-tier.yaml --parameter-file "$dir/environment.yaml" \
    --wait -c id -c status -c outputs || status=$?
"${system[@]}" guide
exit "$status"
