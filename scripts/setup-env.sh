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
    # The harness (harness/: the local system, the fixtures' servers) and bench/ live
    # in the checkout and are not in cool's wheel; the venv finds them from any
    # directory, as it finds cool's own editable install.
    local site
    site="$("$COOL_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
    echo "$COOL_ROOT" >"$site/cool-checkout.pth"
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

# The Debian packages these needs lack, in one apt run (one `apt-get update`):
#   zookeeper  ZooKeeper, and a Java runtime when none is on PATH (the tests and
#              the local system run a real ZooKeeper)
#   openstack  RabbitMQ, for the mini cloud's private broker (Nova and Cinder need
#              one; the system service is never used)
#   tmux       for the test that watches the CLI's live view in a real terminal
cool_need_packages() {
    local packages=() need
    for need in "$@"; do
        case "$need" in
        zookeeper)
            [ -f /usr/share/java/zookeeper.jar ] || packages+=(zookeeper)
            command -v java >/dev/null 2>&1 || packages+=(default-jre-headless)
            ;;
        openstack) [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || packages+=(rabbitmq-server) ;;
        tmux) command -v tmux >/dev/null 2>&1 || packages+=(tmux) ;;
        *)
            echo "error: no Debian packages known for $need" >&2
            return 1
            ;;
        esac
    done
    if [ "${#packages[@]}" -gt 0 ]; then
        _cool_apt_install "${packages[@]}"
    fi
}

# The services' own virtual environments, made side by side (each is mostly
# waiting on downloads); idempotent and fast once made. Needs cool installed in
# $COOL_VENV first.
#   keystone   PyPI `keystone` for the tests' real Keystone, in a venv of its own
#              so that its pins never fight cool's
#   openstack  Keystone, Neutron, Nova, Placement, Glance and Cinder for the mini
#              cloud (harness.mini_cloud.cloud), in one venv (~2 min, once), and their
#              template databases (~45 s, once). No compiler is needed: the few
#              dependencies without a wheel are pure Python, or fall back to it.
cool_need_venvs() {
    local pids=() need pid failed=0
    for need in "$@"; do
        case "$need" in
        keystone) setsid "$COOL_VENV/bin/python" -m harness.keystone --ensure-venv & ;;
        openstack) setsid "$COOL_VENV/bin/python" -m harness.mini_cloud --ensure-venv & ;;
        *)
            echo "error: no virtual environment known for $need" >&2
            failed=1
            continue
            ;;
        esac
        pids+=("$!")
    done
    # Each maker leads a process group of its own (setsid), so that, interrupted, we
    # stop it and its pip with it: a background job ignores the terminal's SIGINT.
    # A venv left half made is repaired by the next run.
    local stop='for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null; done; exit'
    trap "$stop 130" INT
    trap "$stop 143" TERM
    for pid in "${pids[@]}"; do
        wait "$pid" || failed=1
    done
    trap - INT TERM
    return "$failed"
}

cool_need_zookeeper() { cool_need_packages zookeeper; }
cool_need_keystone() { cool_need_venvs keystone; }
cool_need_openstack() { cool_need_packages openstack && cool_need_venvs openstack; }
