"""Keystone's own virtual environment, with PyPI ``keystone`` and ``gunicorn`` in it.

Keystone runs in a virtual environment of its own (default
``<repo>/.venv-keystone``, or ``$COOL_KEYSTONE_VENV``) so that its pins
never fight cool's; :func:`ensure_venv` makes it, once per machine::

    python -m harness.keystone --ensure-venv
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

KEYSTONE_VERSION = "30.0.0"
REQUIREMENTS = (f"keystone=={KEYSTONE_VERSION}", "gunicorn")
REPO = Path(__file__).resolve().parents[2]
VENV_ENV_VAR = "COOL_KEYSTONE_VENV"
INSTALL_HINT = "python -m harness.keystone --ensure-venv"

_VENV_MARKER = "cool-keystone.json"  # written last by ensure_venv: the venv is complete


def default_venv_path() -> Path:
    """``$COOL_KEYSTONE_VENV``, else ``<repo>/.venv-keystone``; read at each call."""
    return Path(os.environ.get(VENV_ENV_VAR) or REPO / ".venv-keystone")


def _venv_marker_text() -> str:
    return json.dumps({"requirements": list(REQUIREMENTS)}, sort_keys=True)


def is_venv_complete(path: Path) -> bool:
    """True when ``ensure_venv`` finished for these requirements (no subprocess: fast)."""
    marker = path / _VENV_MARKER
    return (
        marker.is_file()
        and marker.read_text() == _venv_marker_text()
        and all(
            (path / "bin" / name).is_file() for name in ("python", "gunicorn", "keystone-manage")
        )
    )


def fresh_interpreter(path: Path, whose: str, marker: str) -> Path:
    """The venv's python, the venv made (again) unless its interpreter runs; its
    completion ``marker`` removed, to be written once the installs are done."""
    python = path / "bin" / "python"
    if not (python.is_file() and subprocess.run([python, "-c", ""], check=False).returncode == 0):
        print(f"==> creating {whose} virtual environment {path}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", path], check=True)
    (path / marker).unlink(missing_ok=True)
    return python


def ensure_venv(path: Path | None = None) -> Path:
    """Create Keystone's venv and install :data:`REQUIREMENTS` unless already done.

    Idempotent: a venv whose marker matches is left alone; one left half made
    (an interrupted pip, a broken interpreter) is repaired. Progress goes to stderr.
    """
    path = path or default_venv_path()
    if is_venv_complete(path):
        return path
    started = time.monotonic()
    python = fresh_interpreter(path, "Keystone's", _VENV_MARKER)
    print(f"==> installing {' '.join(REQUIREMENTS)} into {path}", file=sys.stderr, flush=True)
    # stdout=2: pip's output is progress too, and pytest's sys.stderr may have no fd.
    subprocess.run([python, "-m", "pip", "install", "-q", *REQUIREMENTS], check=True, stdout=2)
    (path / _VENV_MARKER).write_text(_venv_marker_text())
    print(f"==> Keystone's venv ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return path
