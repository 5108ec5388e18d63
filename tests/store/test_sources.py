"""A build's source (template, environment, files) stored with it, in a real ZooKeeper."""

from __future__ import annotations

import json
import random
import string

import pytest
from kazoo.client import KazooClient

from cool.errors import BuildNotFoundError
from cool.model import BuildStatus, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.store.prune import Pruner
from cool.store.records import BuildSource
from cool.store.retention import FinishedBuild
from cool.template.compile import compile_template
from tests.store.test_prune import finish_build

SOURCE = BuildSource(
    template={"heat_template_version": "2018-08-31", "resources": {}},
    environment={"parameters": {"password": "******"}, "resource_registry": {}},
    files={"web.yaml": "heat_template_version: 2018-08-31\n"},
)


def _noise(size: int, seed: int) -> str:
    """Text that hardly compresses."""
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_letters + string.digits + string.punctuation, k=size))


def test_the_source_is_stored_compressed_with_the_build_and_read_back(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    build_id = store.submit(plan, project_id="p1", user_id="u1", source=SOURCE).build_id
    assert store.source(build_id) == SOURCE
    data, _ = kazoo_client.get(Layout("/cool").source(build_id))
    assert data[:1] == b"Z"  # codec's compressed form
    assert codec.loads(data) == SOURCE.to_dict()


def test_a_build_without_a_source_reads_an_empty_one_and_a_missing_build_404s(
    store: BuildStore, plan: Plan
) -> None:
    build_id = store.submit(plan, project_id="p1", user_id="u1").build_id
    assert store.source(build_id) == BuildSource()
    with pytest.raises(BuildNotFoundError):
        store.source("01JDQ3S7F8M2V5X9Z0ABCDEFGH")
    with pytest.raises(BuildNotFoundError):
        store.source("../etc")


def test_a_source_too_large_for_one_write_is_refused_with_nothing_stored(
    store: BuildStore, kazoo_client: KazooClient, registry: ResourceTypeRegistry
) -> None:
    # Each node alone fits (under codec.MAX_NODE_BYTES), the transaction would not.
    value = _noise(200_000, 4)
    plan = compile_template(
        "heat_template_version: 2018-08-31\nresources:\n"
        f"  v: {{type: OS::Heat::Value, properties: {{value: {json.dumps(value)}}}}}\n",
        registry,
        {},
    )
    big = BuildSource(files={"a": _noise(1_050_000, 1)})
    assert len(codec.dumps_compressed(big.to_dict())) < codec.MAX_NODE_BYTES
    with pytest.raises(codec.BuildTooLargeError) as refused:
        store.submit(plan, project_id="p1", user_id="u1", name="big", source=big)
    assert refused.value.status == 413
    assert "nothing was stored" in str(refused.value)
    huge = BuildSource(files={"a": _noise(1_200_000, 3)})
    with pytest.raises(codec.BuildTooLargeError, match="source"):
        store.submit(plan, project_id="p1", user_id="u1", name="big", source=huge)
    layout = Layout("/cool")
    shards = kazoo_client.get_children(layout.builds)
    assert [b for s in shards for b in kazoo_client.get_children(f"{layout.builds}/{s}")] == []
    assert store.pending() == []
    assert store.find_by_name("p1", "big") is None  # the name is still free


def test_pruning_removes_the_source_with_the_build(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    build_id = finish_build(store, plan, finished_at=1.0, status=BuildStatus.CREATE_COMPLETE)
    kazoo_client.create(Layout("/cool").source(build_id), codec.dumps_compressed({}))
    state, version = store.state(build_id)
    result = Pruner(kazoo_client, Layout("/cool")).prune(
        [FinishedBuild(build_id, 1.0, state.status, version)]
    )
    assert result.pruned == [build_id]
    assert kazoo_client.exists(Layout("/cool").build(build_id)) is None
