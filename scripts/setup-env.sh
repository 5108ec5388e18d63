# Sourced by run.sh and test.sh: a Python 3.11+ virtual environment in .venv
# with cool installed, installing the system packages it needs when missing.
# shellcheck shell=bash

COOL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COOL_VENV="${COOL_VENV:-$COOL_ROOT/.venv}"

_cool_apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: need these Debian packages, and apt-get is not here: $*" >&2
        return 1
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> installing system packages: $*" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

_cool_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

cool_setup_env() {
    local extras="$1"
    local python
    if ! python="$(_cool_python)"; then
        _cool_apt_install python3 python3-venv python3-dev
        python="$(_cool_python)" || { echo "error: cool needs Python 3.11 or newer" >&2; return 1; }
    fi
    if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        _cool_apt_install python3-venv
    fi
    if [ ! -x "$COOL_VENV/bin/python" ]; then
        echo "==> creating virtual environment $COOL_VENV" >&2
        "$python" -m venv "$COOL_VENV"
    fi
    # Installed already with this pyproject.toml (the code itself is an editable
    # install): nothing to fetch, so a second run works offline too.
    local stamp="$COOL_VENV/.cool-installed${extras:+-$extras}" want
    want="$(sha256sum "$COOL_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "==> installing cool${extras:+[$extras]} into $COOL_VENV" >&2
    "$COOL_VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$COOL_VENV/bin/python" -m pip install -q -e "$COOL_ROOT${extras:+[$extras]}" >&2
    echo "$want" >"$stamp"
}

# ZooKeeper from Debian (the tests and the local system run a real one), and
# a Java runtime for it when none is on PATH.
cool_need_zookeeper() {
    local packages=()
    [ -f /usr/share/java/zookeeper.jar ] || packages+=(zookeeper)
    command -v java >/dev/null 2>&1 || packages+=(default-jre-headless)
    if [ "${#packages[@]}" -gt 0 ]; then
        _cool_apt_install "${packages[@]}"
    fi
}

# Keystone (PyPI `keystone`, for the tests' and the local system's real Keystone)
# in a virtual environment of its own, so that its pins never fight cool's.
# Idempotent and fast once made; needs cool installed in $COOL_VENV first.
cool_need_keystone() {
    "$COOL_VENV/bin/python" -m cool.local.keystone --ensure-venv
}

# The mini OpenStack cloud of the openstack provider's tests (cool.local.mini_cloud):
# a private RabbitMQ node from Debian's rabbitmq-server (Nova and Cinder need a
# broker; the system service is never used), and Keystone, Neutron, Nova,
# Placement, Glance and Cinder from PyPI in one venv of their own (~2 min, once)
# with their template databases (~45 s, once). No compiler is needed: the few
# dependencies without a wheel (ovs, ncclient, testresources, simplegeneric) are
# pure Python, or fall back to it (ovs). Needs cool installed in $COOL_VENV first.
cool_need_openstack() {
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || _cool_apt_install rabbitmq-server
    "$COOL_VENV/bin/python" -m cool.local.mini_cloud --ensure-venv
}

# tmux, for the test that watches the CLI's live view in a real terminal.
cool_need_tmux() {
    command -v tmux >/dev/null 2>&1 || _cool_apt_install tmux
}
