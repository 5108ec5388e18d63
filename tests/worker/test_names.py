"""A build's name is freed by its DELETE_COMPLETE, and only by it: real workers on the
sim cloud, a real ZooKeeper."""

from __future__ import annotations

from pathlib import Path

import pytest

from cool.clouds.sim.provider import SimProvider
from cool.errors import BuildNameExistsError
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.control import Requests
from tests.worker.helpers import open_store, running_worker, submit, wait_terminal

NET_AND_PORT = """
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net}
  port: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
"""


def test_delete_complete_frees_the_name_for_a_new_build_at_once(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        first = submit(store, registry, NET_AND_PORT, name="web")
        assert wait_terminal(store, first).status is BuildStatus.CREATE_COMPLETE
        with pytest.raises(BuildNameExistsError):
            submit(store, registry, NET_AND_PORT, name="web")
        Requests(store).delete(first)
        assert wait_terminal(store, first).status is BuildStatus.DELETE_COMPLETE
        assert store.find_by_name("p1", "web") is None
        second = submit(store, registry, NET_AND_PORT, name="web")
        assert store.find_by_name("p1", "web") == second
        assert wait_terminal(store, second).status is BuildStatus.CREATE_COMPLETE
        # The deleted build is still read by its id; its name is the new build's.
        assert store.get(first).meta.name == "web"
        assert store.find_by_name("p1", "web") == second


def test_create_failed_and_delete_failed_keep_the_name(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim:
        sim.arm("port", "create", times=1, message="no more ports")
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, NET_AND_PORT, name="web", rollback=False)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_FAILED
        assert store.find_by_name("p1", "web") == build_id
        with pytest.raises(BuildNameExistsError):
            submit(store, registry, NET_AND_PORT, name="web")
        with SimProvider(db) as sim:
            sim.arm("net", "delete", times=None, message="network in use")
        Requests(store).delete(build_id)
        assert wait_terminal(store, build_id).status is BuildStatus.DELETE_FAILED
        assert store.find_by_name("p1", "web") == build_id
        with pytest.raises(BuildNameExistsError):
            submit(store, registry, NET_AND_PORT, name="web")
