"""The mini cloud's databases, built once per machine and copied by every run.

Building every schema costs ~40 s of ``*-manage`` runs on SQLite (Nova's
alone ~25 s), so it happens once per machine into
``<repo>/.cache/mini-cloud-template-<key>/``, keyed by :data:`TEMPLATE_FORMAT`
and the service versions; a run copies the files (:func:`copy_template`) and
rewrites what holds its own paths and ports (Nova's cell mappings).

- Keystone: :func:`harness.keystone.template.ensure_template` (bootstrapped;
  each run re-bootstraps for its port).
- Neutron: ``neutron-db-manage upgrade heads`` fails on SQLite (ALTER of
  constraints), so the schema is made from the models' metadata and then
  stamped ``heads``.
- Nova: ``api_db sync``, ``cell_v2 map_cell0``, ``cell_v2 create_cell --name
  cell1``, ``db sync`` (which also syncs cell0).
- Placement, Glance, Cinder: their ``db sync``.

Every SQLite file is in WAL mode (set before its schema, so the mode is the
file's): Keystone on SQLite otherwise fails concurrent writes with "database
is locked", and the other services write from several processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from harness.keystone import template as keystone_template
from harness.keystone.venv import REPO
from harness.mini_cloud.config import CELL0_UUID, CloudLayout, Ports
from harness.mini_cloud.errors import MiniCloudError, MiniCloudTimeoutError
from harness.mini_cloud.venv import SERVICE_VERSIONS

LOG = logging.getLogger(__name__)

TEMPLATE_FORMAT = 1  # bump when what the template holds changes
_TEMPLATE_MARKER = "template.json"  # written last by the template build
_MANAGE_TIMEOUT_S = 300.0
DATABASES = {
    "placement": ("placement.sqlite",),
    "glance": ("glance.sqlite",),
    "neutron": ("neutron.sqlite",),
    "nova": ("nova_api.sqlite", "nova_cell0.sqlite", "nova.sqlite"),
    "cinder": ("cinder.sqlite",),
}
_NEUTRON_SCHEMA = """\
import sqlalchemy
from neutron.db.migration.models import head
engine = sqlalchemy.create_engine({url!r})
head.get_metadata().create_all(engine)
"""


def template_key() -> str:
    text = json.dumps({"format": TEMPLATE_FORMAT, **SERVICE_VERSIONS}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def default_template_dir() -> Path:
    return REPO / ".cache" / f"mini-cloud-template-{template_key()}"


def service_env(venv: Path) -> dict[str, str]:
    """The environment of the services: none of cool's venv, nor a user's OS_* cloud."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OS_") and key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    env["COOL_SQLITE_IMMEDIATE"] = "1"  # harness.sqlite_immediate: BEGIN IMMEDIATE
    env["COOL_DIE_WITH_PARENT"] = "1"  # harness.mini_cloud.forks: no orphaned workers
    return env


def run_manage(
    command: Sequence[str | Path],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout_s: float = _MANAGE_TIMEOUT_S,
) -> None:
    """One manage command (a database's build); its output is in the error when it
    fails or is late."""
    text = " ".join(str(arg) for arg in command)
    try:
        result = subprocess.run(
            [str(arg) for arg in command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise MiniCloudTimeoutError(f"{text} took over {timeout_s:.0f}s") from exc
    if result.returncode != 0:
        raise MiniCloudError(
            f"{text} exited with status {result.returncode}\n{result.stdout}{result.stderr}"
        )


def _set_wal(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the database file, so that the file alone is the database."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "wal":
        raise MiniCloudError(f"{path} is in journal mode {mode!r}, not WAL")


def write_configs(layout: CloudLayout) -> None:
    """Every service's configuration files and directories, for the template or a run."""
    files = {
        "placement": {"placement.conf": layout.placement_conf()},
        "glance": {"glance-api.conf": layout.glance_conf()},
        "neutron": {"neutron.conf": layout.neutron_conf(), "ml2_conf.ini": layout.ml2_conf()},
        "nova": {"nova.conf": layout.nova_conf()},
        "cinder": {"cinder.conf": layout.cinder_conf()},
    }
    for service, texts in files.items():
        directory = layout.service_dir(service)
        for sub in ("state", "locks"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (directory / name).write_text(text)
    # nova-api reads its paste pipeline from the first of its configuration files.
    shutil.copy2(layout.venv / "etc" / "nova" / "api-paste.ini", layout.service_dir("nova"))
    for sub in ("images", "staging", "tasks"):
        (layout.service_dir("glance") / sub).mkdir(exist_ok=True)
    for sub in ("volumes", "coordination"):
        (layout.service_dir("cinder") / sub).mkdir(exist_ok=True)


def _build_chains(layout: CloudLayout) -> dict[str, list[list[str | Path]]]:
    """Per service, the commands that make its schema, run in order (services in parallel)."""
    bin_dir = layout.venv / "bin"

    def conf(service: str, name: str) -> list[str | Path]:
        return ["--config-file", layout.service_dir(service) / name]

    neutron_confs = [*conf("neutron", "neutron.conf"), *conf("neutron", "ml2_conf.ini")]
    nova = [bin_dir / "nova-manage", *conf("nova", "nova.conf")]
    schema = _NEUTRON_SCHEMA.format(url=layout.sqlite_url("neutron", "neutron.sqlite"))
    return {
        "placement": [
            [bin_dir / "placement-manage", *conf("placement", "placement.conf"), "db", "sync"]
        ],
        "glance": [[bin_dir / "glance-manage", *conf("glance", "glance-api.conf"), "db_sync"]],
        "cinder": [[bin_dir / "cinder-manage", *conf("cinder", "cinder.conf"), "db", "sync"]],
        "neutron": [
            [bin_dir / "python", "-c", schema],
            [bin_dir / "neutron-db-manage", *neutron_confs, "stamp", "heads"],
        ],
        "nova": [
            [*nova, "api_db", "sync"],
            [
                *nova,
                "cell_v2",
                "map_cell0",
                "--database_connection",
                layout.sqlite_url("nova", "nova_cell0.sqlite"),
            ],
            [*nova, "cell_v2", "create_cell", "--name", "cell1", "--verbose"],
            [*nova, "db", "sync"],
        ],
    }


def ensure_template(venv: Path, template_dir: Path | None = None) -> Path:
    """Every service's schema (and a bootstrapped Keystone), made once per machine.

    Built in a temporary sibling and renamed into place, so a half-made
    template is never used and two builders racing both end with one.
    """
    template_dir = template_dir or default_template_dir()
    marker = template_dir / _TEMPLATE_MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("key") == template_key():
        return template_dir
    shutil.rmtree(template_dir, ignore_errors=True)  # stale, or left half made
    template_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f".{template_dir.name}-", dir=template_dir.parent))
    try:
        started = time.monotonic()
        LOG.info("building the mini cloud's template databases in %s", template_dir)
        layout = CloudLayout(build_dir, venv, Ports.placeholder(), "template")
        write_configs(layout)
        for service, names in DATABASES.items():
            for name in names:
                _set_wal(layout.service_dir(service) / name)
        env = service_env(venv)
        errors: list[BaseException] = []

        def run_chain(service: str, chain: list[list[str | Path]]) -> None:
            try:
                for command in chain:
                    run_manage(command, cwd=layout.service_dir(service), env=env)
            except BaseException as exc:  # reported by the builder's thread below
                errors.append(exc)

        threads = [
            threading.Thread(target=run_chain, args=item, name=f"template-{item[0]}")
            for item in _build_chains(layout).items()
        ]
        for thread in threads:
            thread.start()
        try:
            keystone_template.ensure_template(venv, build_dir / "keystone")
        finally:
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        for service, names in DATABASES.items():
            for name in names:
                _checkpoint(layout.service_dir(service) / name)
        (build_dir / _TEMPLATE_MARKER).write_text(
            json.dumps({"key": template_key(), "format": TEMPLATE_FORMAT, **SERVICE_VERSIONS})
        )
        try:
            build_dir.rename(template_dir)
        except OSError:
            if not marker.is_file():
                raise  # not a builder that won the race: something else is wrong
        LOG.info("mini cloud template ready in %.1fs", time.monotonic() - started)
        return template_dir
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


def copy_template(template_dir: Path, layout: CloudLayout) -> None:
    """Copy the databases into a run's directory and point Nova's cells at it."""
    for service, names in DATABASES.items():
        directory = layout.service_dir(service)
        directory.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy2(template_dir / service / name, directory / name)
    keystone_template.copy_template(template_dir / "keystone", layout.service_dir("keystone"))
    # The cell mappings hold the database URLs and broker URL of the template's build.
    with contextlib.closing(sqlite3.connect(layout.service_dir("nova") / "nova_api.sqlite")) as db:
        with db:
            db.execute(
                "UPDATE cell_mappings SET database_connection = ? WHERE uuid = ?",
                (layout.sqlite_url("nova", "nova_cell0.sqlite"), CELL0_UUID),
            )
            updated = db.execute(
                "UPDATE cell_mappings SET database_connection = ?, transport_url = ? "
                "WHERE name = 'cell1'",
                (layout.sqlite_url("nova", "nova.sqlite"), layout.transport_url),
            ).rowcount
        if updated != 1:
            raise MiniCloudError(f"the template's nova_api database has {updated} cell1 mappings")
