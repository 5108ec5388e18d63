"""The mini cloud's one virtual environment: Keystone, Neutron, Nova, Placement, Glance,
Cinder and Octavia from PyPI, installed together under the 2026.1 upper constraints.

One venv, not one per service: the services share the coordinated release's
library versions, and one install (~2 min cold here, it builds no wheel) is
cheaper than six. Default ``<repo>/.venv-openstack``, or
``$COOL_OPENSTACK_VENV``; :func:`ensure_venv` makes it once per machine::

    python -m harness.mini_cloud --ensure-venv

The constraints file is a copy kept beside this module, so that a fresh
clone needs nothing outside the repository. Two pieces of cool go in too: the
agentless ML2 mechanism driver of the tests (``harness/mini_cloud/ml2_driver``;
without it no port binds and no server boots) and the SQLite hook of
:mod:`harness.sqlite_immediate` (without it services sharing a database
fail with "database is locked"), and the fork hook of
:mod:`harness.mini_cloud.forks` (without it a service's forked workers
outlive a SIGKILLed cloud).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.keystone.venv import REPO, fresh_interpreter

SERVICE_VERSIONS = {
    "keystone": "29.1.0",
    "neutron": "28.0.2",
    "nova": "33.0.2",
    "openstack-placement": "15.0.0",
    "glance": "32.0.0",
    "cinder": "28.0.0",
}
# Octavia: started only by the tests that ask for it (harness.mini_cloud.octavia), so
# not in SERVICE_VERSIONS (the template key); it adds ~20 MB and ~7 s to the install.
OCTAVIA_VERSION = "18.0.1"
# fixtures: Cinder's fake volume driver imports it; gunicorn serves every API.
REQUIREMENTS = (
    *(f"{name}=={version}" for name, version in SERVICE_VERSIONS.items()),
    f"octavia=={OCTAVIA_VERSION}",
    "fixtures",
    "gunicorn",
)
CONSTRAINTS = Path(__file__).with_name("openstack-2026.1-upper-constraints.txt")
ML2_DRIVER_DIR = Path(__file__).with_name("ml2_driver")
# Python run at every interpreter's start in the venv (see each module's docstring):
# BEGIN IMMEDIATE for oslo.db's SQLite transactions; forked children that die with
# their parent. Module name in the venv -> its source here.
HOOKS = {
    "cool_sqlite_immediate": REPO / "harness" / "sqlite_immediate.py",
    "cool_die_with_parent": Path(__file__).with_name("forks.py"),
}
VENV_ENV_VAR = "COOL_OPENSTACK_VENV"
INSTALL_HINT = "python -m harness.mini_cloud --ensure-venv"

_VENV_MARKER = "cool-openstack.json"  # written last by ensure_venv: the venv is complete
_COMMANDS = (
    "python",
    "gunicorn",
    "keystone-manage",
    "nova-manage",
    "nova-conductor",
    "nova-scheduler",
    "nova-compute",
    "neutron-db-manage",
    "placement-manage",
    "glance-manage",
    "cinder-manage",
    "cinder-scheduler",
    "cinder-volume",
    "octavia-worker",
    "octavia-db-manage",
)


def default_venv_path() -> Path:
    """``$COOL_OPENSTACK_VENV``, else ``<repo>/.venv-openstack``; read at each call."""
    return Path(os.environ.get(VENV_ENV_VAR) or REPO / ".venv-openstack")


def _driver_digest() -> str:
    """What the ML2 driver's source is: a change to it reinstalls it."""
    digest = hashlib.sha256()
    for path in sorted(ML2_DRIVER_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ML2_DRIVER_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _venv_marker_text() -> str:
    constraints = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]
    return json.dumps(
        {
            "requirements": list(REQUIREMENTS),
            "constraints": constraints,
            "ml2_driver": _driver_digest(),
            "hooks": {
                name: hashlib.sha256(source.read_bytes()).hexdigest()[:16]
                for name, source in HOOKS.items()
            },
        },
        sort_keys=True,
    )


def is_venv_complete(path: Path) -> bool:
    """True when ``ensure_venv`` finished for these requirements (no subprocess: fast)."""
    marker = path / _VENV_MARKER
    return (
        marker.is_file()
        and marker.read_text() == _venv_marker_text()
        and all((path / "bin" / name).is_file() for name in _COMMANDS)
        and all(any(path.glob(f"lib/python3*/site-packages/{name}.pth")) for name in HOOKS)
    )


def _install_hooks(python: Path) -> None:
    """Copy the hooks into the venv's site-packages, each with the .pth that installs it."""
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    site = Path(purelib)
    for name, source in HOOKS.items():
        shutil.copyfile(source, site / f"{name}.py")
        (site / f"{name}.pth").write_text(f"import {name}; {name}.install()\n")


def ensure_venv(path: Path | None = None) -> Path:
    """Create the venv and install :data:`REQUIREMENTS` and the ML2 driver unless done.

    Idempotent: a venv whose marker matches is left alone; one left half made
    (an interrupted pip, a broken interpreter) is repaired. Progress goes to stderr.
    """
    path = path or default_venv_path()
    if is_venv_complete(path):
        return path
    started = time.monotonic()
    python = fresh_interpreter(path, "OpenStack's", _VENV_MARKER)
    print(f"==> installing {' '.join(REQUIREMENTS)} into {path}", file=sys.stderr, flush=True)
    # The driver is built from a copy: pip's in-tree build would leave build/ and
    # *.egg-info in the test tree.
    with tempfile.TemporaryDirectory(prefix="cool-ml2-driver-") as scratch:
        driver = Path(scratch) / "ml2_driver"
        shutil.copytree(ML2_DRIVER_DIR, driver, ignore=shutil.ignore_patterns("__pycache__"))
        # stdout=2: pip's output is progress too, and pytest's sys.stderr may have no fd.
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "-c", CONSTRAINTS, *REQUIREMENTS],
            check=True,
            stdout=2,
        )
        # --force-reinstall: its version never changes, its source may (the marker's digest)
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", driver],
            check=True,
            stdout=2,
        )
    _install_hooks(python)
    (path / _VENV_MARKER).write_text(_venv_marker_text())
    print(f"==> OpenStack's venv ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return path
