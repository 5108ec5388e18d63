#!/usr/bin/env bash
# Install everything the tests need (system packages included) and run them:
# lint, formatting, import rules, then the whole pytest suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
cool_setup_env test
cool_need_packages zookeeper openstack tmux
cool_need_venvs keystone openstack
cd "$COOL_ROOT"
echo "==> ruff" >&2
"$COOL_VENV/bin/ruff" check .
"$COOL_VENV/bin/ruff" format --check .
echo "==> lint-imports (the import rules of pyproject.toml's [tool.importlinter])" >&2
"$COOL_VENV/bin/lint-imports" --no-cache --no-logo
echo "==> pytest" >&2
# Two processes by default (COOL_TEST_PROCESSES; -n 0 among the arguments runs one):
# the tests of the mini cloud stay together in one of them (tests/scheduling.py). The
# 25 slowest are listed at the end: the suite's time is watched (README, CI's limit).
exec "$COOL_VENV/bin/python" -m pytest -n "${COOL_TEST_PROCESSES:-2}" --dist loadgroup \
  --durations=25 "$@"
