"""What a local Keystone's directory is made from: its configuration, keystone-manage
runs, and a bootstrapped template that each server copies.

Each ``keystone-manage`` command costs ~2.5 s, mostly interpreter start-up,
so ``fernet_setup``, ``credential_setup``, ``db_sync`` and ``bootstrap`` run
once per machine into a template directory
(``<repo>/.cache/keystone-template-<version>/``); each server copies it
(:func:`copy_template`) and re-runs only :func:`bootstrap`, to point the
catalog at its own port, while gunicorn boots. The template holds the SQLite
database (WAL mode), the admin's password and the key repositories of
``[fernet_tokens]``, ``[fernet_receipts]`` and ``[credential]``: copies share
the keys, so an admin token of one copy also validates at another.
"""

from __future__ import annotations

import contextlib
import grp
import json
import logging
import os
import pwd
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from harness.keystone.admin import ADMIN_PROJECT, ADMIN_USER, REGION
from harness.keystone.errors import KeystoneError, KeystoneTimeoutError
from harness.keystone.venv import KEYSTONE_VERSION, REPO
from harness.zookeeper import HOST

LOG = logging.getLogger(__name__)


_TEMPLATE_MARKER = "template.json"  # written last by the template build
_TEMPLATE_FORMAT = 1  # bump when what the template holds changes
_KEY_REPOSITORIES = {
    "fernet_tokens": "fernet-keys",
    "fernet_receipts": "fernet-receipts",
    "credential": "credential-keys",
}
_MANAGE_TIMEOUT_S = 120.0


def default_template_dir() -> Path:
    return REPO / ".cache" / f"keystone-template-{KEYSTONE_VERSION}"


def keystone_env(config_path: Path) -> dict[str, str]:
    """The environment of Keystone's processes: none of cool's venv, nor a user's OS_* cloud."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OS_") and key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    # the mini cloud's services only (harness.sqlite_immediate)
    env.pop("COOL_SQLITE_IMMEDIATE", None)
    env["OS_KEYSTONE_CONFIG_FILES"] = str(config_path)
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"  # eventlet's, on every start
    return env


def write_config(base_dir: Path) -> Path:
    """Write ``<base_dir>/keystone.conf``, whose every path is below ``base_dir``; return it."""
    key_repositories = "".join(
        f"[{section}]\nkey_repository = {base_dir / name}\n"
        for section, name in _KEY_REPOSITORIES.items()
    )
    config = f"""\
[DEFAULT]
log_file = {base_dir / "keystone.log"}
[database]
connection = sqlite:///{base_dir / "keystone.db"}
[token]
provider = fernet
expiration = 3600
[identity]
# bcrypt's minimum cost: passwords stay bcrypt, tokens are issued in ms, not 250 ms.
password_hash_rounds = 4
# bcrypt's own limit; above it keystone warns on every password it hashes.
max_password_length = 72
[cache]
# Validating the caller's token costs ~65 ms a request uncached, ~5 ms cached (devstack
# caches in memcached). In-process memory is exact with one worker, and keystone
# invalidates it itself on revocation.
enabled = true
backend = dogpile.cache.memory
{key_repositories}"""
    path = base_dir / "keystone.conf"
    path.write_text(config)
    return path


def _manage(venv: Path, config_path: Path, *args: str) -> subprocess.Popen[str]:
    """Start one ``keystone-manage`` command (several may run at once)."""
    return subprocess.Popen(
        [venv / "bin" / "keystone-manage", "--config-file", config_path, *args],
        cwd=config_path.parent,
        env=keystone_env(config_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout_s: float = _MANAGE_TIMEOUT_S) -> None:
    """Wait for a keystone-manage command; fail with its output when it fails or is late."""
    command = " ".join(str(arg) for arg in process.args) if isinstance(process.args, list) else ""
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise KeystoneTimeoutError(f"{command} took over {timeout_s:.0f}s\n{output}") from None
    if process.returncode != 0:
        raise KeystoneError(f"{command} exited with status {process.returncode}\n{output}")


def run_all(processes: Sequence[subprocess.Popen[str]]) -> None:
    """Wait for keystone-manage commands started together; kill those left on a failure."""
    try:
        for process in processes:
            _finish(process)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def bootstrap(
    venv: Path, config_path: Path, password: str, public_url: str
) -> subprocess.Popen[str]:
    """Start ``keystone-manage bootstrap``: the admin, its password, the catalog's endpoint."""
    return _manage(
        venv,
        config_path,
        "bootstrap",
        f"--bootstrap-password={password}",
        f"--bootstrap-username={ADMIN_USER}",
        f"--bootstrap-project-name={ADMIN_PROJECT}",
        f"--bootstrap-public-url={public_url}",
        f"--bootstrap-region-id={REGION}",
    )


def _journal_mode(db_path: Path) -> str:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])


def ensure_template(venv: Path, template_dir: Path | None = None) -> Path:
    """A bootstrapped database and key repositories to copy, made once per machine.

    Built in a temporary sibling and renamed into place, so a half-made
    template is never used and two builders racing both end with one.
    """
    template_dir = template_dir or default_template_dir()
    marker = template_dir / _TEMPLATE_MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("format") == _TEMPLATE_FORMAT:
        return template_dir
    shutil.rmtree(template_dir, ignore_errors=True)  # stale format, or left half made
    template_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f".{template_dir.name}-", dir=template_dir.parent))
    try:
        started = time.monotonic()
        LOG.info("bootstrapping a Keystone template in %s", template_dir)
        config_path = write_config(build_dir)
        for name in _KEY_REPOSITORIES.values():
            (build_dir / name).mkdir(mode=0o700)
        # WAL before the schema, so that it is the mode of the file everyone copies. In
        # one measured run concurrent writes failed with "database is locked" without it.
        with contextlib.closing(sqlite3.connect(build_dir / "keystone.db")) as db:
            db.execute("PRAGMA journal_mode=WAL")
        owner = ("--keystone-user", pwd.getpwuid(os.getuid()).pw_name)
        group = ("--keystone-group", grp.getgrgid(os.getgid()).gr_name)
        run_all(
            [
                _manage(venv, config_path, "fernet_setup", *owner, *group),
                _manage(venv, config_path, "credential_setup", *owner, *group),
                _manage(venv, config_path, "db_sync"),
            ]
        )
        password = secrets.token_urlsafe(18)
        run_all([bootstrap(venv, config_path, password, f"http://{HOST}:5000")])
        if (mode := _journal_mode(build_dir / "keystone.db")) != "wal":
            raise KeystoneError(f"the template database is in journal mode {mode!r}, not WAL")
        (build_dir / "admin-password").write_text(password)
        (build_dir / _TEMPLATE_MARKER).write_text(
            json.dumps({"format": _TEMPLATE_FORMAT, "keystone": KEYSTONE_VERSION})
        )
        try:
            build_dir.rename(template_dir)
        except OSError:
            if not marker.is_file():
                raise  # not a builder that won the race: something else is wrong
        LOG.info("Keystone template ready in %.1fs", time.monotonic() - started)
        return template_dir
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


def copy_template(template_dir: Path, base_dir: Path) -> None:
    """Copy the template's database, admin password and key repositories into ``base_dir``."""
    base_dir.mkdir(parents=True, exist_ok=True)
    for name in ("keystone.db", "keystone.db-wal", "admin-password"):
        if (template_dir / name).is_file():
            shutil.copy2(template_dir / name, base_dir / name)
    for name in _KEY_REPOSITORIES.values():
        shutil.copytree(template_dir / name, base_dir / name, dirs_exist_ok=True)
