"""Keystone trusts as ZooKeeper records them, against a real ZooKeeper: held at submit,
taken by the build's transaction, orphaned when the build never came (see also
test_prune.py: a pruned build's trust handed over in its prune transaction)."""

from __future__ import annotations

import time
import uuid

import pytest
from kazoo.client import KazooClient

from cool.errors import StoreUnavailableError
from cool.model import Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.layout import new_build_id
from cool.store.trusts import TrustRecords
from cool.template.compile import compile_template

TEMPLATE = (
    "heat_template_version: wallaby\n"
    "resources:\n  a: {type: OS::Heat::None}\n  b: {type: OS::Heat::None}\n"
)
DAY = 86_400.0


@pytest.fixture
def plan(registry: ResourceTypeRegistry) -> Plan:
    return compile_template(TEMPLATE, registry, {})


@pytest.fixture
def records(store: BuildStore) -> TrustRecords:
    return store.trust_records


def test_a_held_trust_is_taken_by_its_builds_transaction(
    store: BuildStore, records: TrustRecords, plan: Plan
) -> None:
    client, layout = store.client, store.layout
    trust_id, build_id = uuid.uuid4().hex, new_build_id()
    records.hold(trust_id, build_id)
    assert client.get_children(layout.new_trusts) == [trust_id]

    store.submit_once(plan, project_id="p1", user_id="u1", build_id=build_id, trust_id=trust_id)

    assert client.get_children(layout.new_trusts) == []
    assert store.meta_and_plan(build_id)[0].trust_id == trust_id
    # the build holds it now: never an orphan, however old
    assert records.orphan_new(made_before=time.time() + DAY) == []
    assert records.waiting() == []


def test_held_trusts_whose_build_never_came_are_handed_to_the_trust_deletion(
    store: BuildStore, records: TrustRecords
) -> None:
    """A trust held and never stored (its cool-api died) is an orphan once it was made
    before the grace's start; a younger one may belong to a submit still under way."""
    client, layout = store.client, store.layout
    orphan, orphan_build = uuid.uuid4().hex, new_build_id()
    records.hold(orphan, orphan_build)
    made = _made(client, layout.new_trust(orphan))
    young = uuid.uuid4().hex
    records.hold(young, new_build_id())
    while (young_made := _made(client, layout.new_trust(young))) == made:
        records.release(young)  # the same millisecond: made again, until later
        records.hold(young, new_build_id())

    assert records.orphan_new(made_before=made) == []  # both too young
    assert records.orphan_new(made_before=young_made) == [orphan]
    assert client.get_children(layout.new_trusts) == [young]
    assert records.waiting() == [orphan]
    assert codec.loads(client.get(layout.trust(orphan))[0]) == {"build_id": orphan_build}
    assert records.orphan_new(made_before=young_made + 1) == [young]
    assert records.waiting() == sorted([orphan, young])
    assert client.get_children(layout.new_trusts) == []


def _made(client: KazooClient, path: str) -> float:
    """When ZooKeeper made the node (its ctime), as a Unix time."""
    return client.exists(path).ctime / 1000


def test_a_build_whose_held_trust_was_taken_for_an_orphan_is_not_stored(
    store: BuildStore, records: TrustRecords, plan: Plan
) -> None:
    """The GC moved the record first (the submit took longer than the grace): the
    build's transaction, which removes the record, fails whole; no build holds a trust
    that is being deleted."""
    client, layout = store.client, store.layout
    trust_id, build_id = uuid.uuid4().hex, new_build_id()
    records.hold(trust_id, build_id)
    assert records.orphan_new(made_before=time.time() + DAY) == [trust_id]

    with pytest.raises(StoreUnavailableError, match="taken for an orphan"):
        store.submit_once(plan, project_id="p1", user_id="u1", build_id=build_id, trust_id=trust_id)

    assert client.exists(layout.build(build_id)) is None
    assert store.pending() == []
    assert records.waiting() == [trust_id]
