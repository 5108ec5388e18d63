#!/usr/bin/env bash
# Install everything the tests need (system packages included) and run them:
# lint, formatting, then the whole pytest suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
cool_setup_env test
cool_need_zookeeper
cool_need_keystone
cool_need_openstack
cool_need_tmux
cd "$COOL_ROOT"
echo "==> ruff" >&2
"$COOL_VENV/bin/ruff" check .
"$COOL_VENV/bin/ruff" format --check .
echo "==> pytest" >&2
exec "$COOL_VENV/bin/python" -m pytest "$@"
