"""A fenced write's size is checked before it is sent, against a real ZooKeeper.

ZooKeeper drops the connection of a client whose packet is over its limit (1 MiB
less one byte by default), and the client resends it forever (finding 3 of issue
15). A write at the bound goes through; one byte over is refused unsent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient

from cool.errors import RecordTooLargeError
from cool.model import ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.fence import Fence, claim
from cool.store.layout import Layout
from cool.store.records import ResourceRecord
from cool.store.sizes import MAX_WRITE_BYTES
from cool.template.compile import compile_template
from tests.zk import start_client, stop_client

TEMPLATE = "heat_template_version: wallaby\nresources:\n  a: {type: OS::Heat::None}\n"


@pytest.fixture
def client(zk_hosts: str) -> Iterator[KazooClient]:
    client = start_client(zk_hosts)
    yield client
    stop_client(client)


def _claimed(client: KazooClient, registry: ResourceTypeRegistry, writes: list[int]) -> Fence:
    layout = Layout("/cool")
    store = BuildStore(client, layout)
    store.ensure_layout()
    plan = compile_template(TEMPLATE, registry, {})
    build_id = store.submit(plan, project_id="p", user_id="u").build_id
    fence = claim(client, layout, build_id, "w1", count_write=lambda: writes.append(1))
    assert fence is not None
    return fence


def _record(blob: int) -> ResourceRecord:
    return ResourceRecord("a", "OS::Heat::None", ResourceStatus.CREATE_COMPLETE,
                          physical_id="id-a", attributes={"blob": "x" * blob})  # fmt: skip


def _size_of(fence: Fence, blob: int) -> int:
    """What the write of ``_record(blob)`` measures (refused at a limit of 0, unsent)."""
    fence.max_write_bytes = 0
    try:
        with pytest.raises(RecordTooLargeError) as caught:
            fence.write(resources=[(_record(blob), None)])
    finally:
        del fence.max_write_bytes  # back to the class's default
    return caught.value.size


def test_fence_write_at_the_limit_goes_through_and_one_byte_over_is_never_sent(
    client: KazooClient, registry: ResourceTypeRegistry
) -> None:
    writes: list[int] = []
    fence = _claimed(client, registry, writes)
    session_id = client.client_id[0]
    assert MAX_WRITE_BYTES < 0xFFFFF  # below ZooKeeper's own limit (jute.maxbuffer)
    at_limit = MAX_WRITE_BYTES - _size_of(fence, 0)
    assert _size_of(fence, at_limit) == MAX_WRITE_BYTES
    claimed_writes = len(writes)

    with pytest.raises(RecordTooLargeError) as caught:
        fence.write(resources=[(_record(at_limit + 1), None)])
    assert caught.value.record == "the record of resource a"
    assert caught.value.size == MAX_WRITE_BYTES + 1
    assert caught.value.limit == MAX_WRITE_BYTES
    assert "1,000,001 bytes, over the 1,000,000-byte limit" in str(caught.value)
    assert len(writes) == claimed_writes  # nothing was sent
    assert client.exists(fence.layout.resource(fence.build_id, "a")) is None

    fence.write(resources=[(_record(at_limit), None)])  # the largest that fits: stored
    data, _ = client.get(fence.layout.resource(fence.build_id, "a"))
    assert len(data) > at_limit
    assert client.client_id[0] == session_id  # no connection was dropped on the way
    assert not fence.lost.is_set()


def test_fence_write_over_the_limit_leaves_the_claim_usable(
    client: KazooClient, registry: ResourceTypeRegistry
) -> None:
    """Refused unsent: the worker still owns the build and records a small failure."""
    writes: list[int] = []
    fence = _claimed(client, registry, writes)
    with pytest.raises(RecordTooLargeError):
        fence.write(resources=[(_record(2_250_000), None)])
    small = ResourceRecord("a", "OS::Heat::None", ResourceStatus.CREATE_FAILED, error="too big")
    fence.write(resources=[(small, None)])
    assert client.exists(fence.layout.resource(fence.build_id, "a")) is not None
