"""A real mini OpenStack cloud for the whole test session (``harness.mini_cloud.cloud``).

Keystone, Neutron, Nova (fake virt driver), Placement, Glance and Cinder
(fake volume driver) from PyPI and a private RabbitMQ, on loopback. The
first session on a machine makes the venv (~2 min; ``scripts/test.sh`` makes
it, and the templates, before pytest runs) and the template databases
(~45 s); each session then starts the cloud from the templates in ~35-40 s,
and only if a test asks for it. Tests share the cloud, so each works in a
project of its own (:func:`member`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.mini_cloud.cloud import MiniCloud
from harness.mini_cloud.template import ensure_template
from harness.mini_cloud.venv import ensure_venv


@dataclass(frozen=True)
class Member:
    """A user with ``member`` on a project of its own, and its clouds.yaml entry."""

    project_id: str
    project_name: str
    user_id: str
    user_name: str
    password: str
    cloud: dict[str, Any]  # a clouds.yaml entry (MiniCloud.connect makes a Connection)


def new_member(cloud: MiniCloud, prefix: str = "member") -> Member:
    """A fresh project and its member, named uniquely on the shared cloud."""
    suffix = uuid.uuid4().hex[:12]
    project_name, user_name, password = (
        f"{prefix}-{suffix}",
        f"{prefix}-user-{suffix}",
        uuid.uuid4().hex,
    )
    project_id, user_id = cloud.create_member(project_name, user_name, password)
    entry = cloud.clouds_yaml_entry(user_name, password, project_name)
    return Member(project_id, project_name, user_id, user_name, password, entry)


def processes_under(directory: Path) -> list[int]:
    """Pids whose working directory is in ``directory`` (every process of a cloud is)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if Path(cwd).is_relative_to(directory):
            pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="session")
def mini_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniCloud]:
    """One mini cloud for the session, stopped (every process group) at the end; its
    teardown fails if any process of it is left."""
    venv = ensure_venv()
    ensure_template(venv)
    directory = tmp_path_factory.mktemp("mini-cloud")
    cloud = MiniCloud(directory, venv=venv)
    try:
        cloud.start()
        yield cloud
    finally:
        cloud.stop()  # also when start() failed half way: no service outlives the session
    assert processes_under(directory) == [], "processes of the mini cloud outlived stop()"


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Member:
    return new_member(mini_cloud)
