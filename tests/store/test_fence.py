"""Claims and fencing against a real ZooKeeper: one owner, and a stale one cannot write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient

from cool.errors import ClaimLostError
from cool.model import BuildStatus, Plan, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.fence import claim
from cool.store.layout import Layout
from cool.store.records import Event, ResourceRecord
from cool.template.compile import compile_template
from tests.zk import expire_session

TEMPLATE = "heat_template_version: wallaby\nresources:\n  a: {type: OS::Heat::None}\n"


@pytest.fixture
def plan(registry: ResourceTypeRegistry) -> Plan:
    return compile_template(TEMPLATE, registry, {})


@pytest.fixture
def clients(zk_hosts: str) -> Iterator[list[KazooClient]]:
    """Two workers' sessions, with short timeouts so that expiry is quick."""
    made = []
    for _ in range(2):
        client = KazooClient(hosts=zk_hosts, timeout=2.0)
        client.start(timeout=30)
        made.append(client)
    yield made
    for client in made:
        client.stop()
        client.close()


@pytest.fixture
def layout() -> Layout:
    return Layout("/cool")


def _submit(client: KazooClient, layout: Layout, plan: Plan) -> str:
    store = BuildStore(client, layout)
    store.ensure_layout()
    return store.submit(plan, project_id="p", user_id="u").build_id


def test_claim_makes_one_owner_with_an_epoch(
    clients: list[KazooClient], layout: Layout, plan: Plan
) -> None:
    first, second = clients
    build_id = _submit(first, layout, plan)
    fence = claim(first, layout, build_id, "w1")
    assert fence is not None
    assert fence.epoch == 1
    assert fence.lease.claims == 1
    stat = first.exists(layout.claim(build_id))
    assert stat.ephemeralOwner == first.client_id[0]
    assert claim(second, layout, build_id, "w2") is None


def test_claim_refuses_a_build_that_is_not_pending(
    clients: list[KazooClient], layout: Layout, plan: Plan
) -> None:
    client = clients[0]
    build_id = _submit(client, layout, plan)
    client.delete(layout.pending_build(build_id))
    assert claim(client, layout, build_id, "w1") is None
    assert not client.exists(layout.claim(build_id))


def test_fenced_write_records_resource_state_and_events_together(
    clients: list[KazooClient], layout: Layout, plan: Plan
) -> None:
    client = clients[0]
    build_id = _submit(client, layout, plan)
    store = BuildStore(client, layout)
    fence = claim(client, layout, build_id, "w1")
    assert fence is not None
    state, version = store.state(build_id)
    record = ResourceRecord("a", "OS::Heat::None", ResourceStatus.CREATE_IN_PROGRESS)
    written = fence.write(
        resources=[(record, None)],
        state=(state.but(status=BuildStatus.CREATE_IN_PROGRESS), version),
        events=[Event(at=1.0, resource="a", old="PENDING", new="CREATE_IN_PROGRESS")],
    )
    assert written.resources == {"a": 0}
    assert written.state == version + 1
    assert store.resources(build_id)["a"][0].status is ResourceStatus.CREATE_IN_PROGRESS
    assert [e.new for _, e in store.events(build_id)][-1] == "CREATE_IN_PROGRESS"


def test_stale_owner_cannot_write_after_its_session_expired(
    clients: list[KazooClient], layout: Layout, plan: Plan
) -> None:
    """The old owner's session expires, another worker claims: every old write is refused."""
    old_client, new_client = clients
    build_id = _submit(old_client, layout, plan)
    store = BuildStore(new_client, layout)
    old = claim(old_client, layout, build_id, "old")
    assert old is not None
    expire_session(old_client)  # its claim node is gone with its session
    new = claim(new_client, layout, build_id, "new")
    assert new is not None
    assert new.epoch == old.epoch + 1
    state, version = store.state(build_id)
    before = store.events(build_id)
    with pytest.raises(ClaimLostError):
        old.write(
            state=(state.but(status=BuildStatus.CREATE_FAILED), version),
            events=[Event(at=2.0, resource=None, old=None, new="CREATE_FAILED")],
        )
    with pytest.raises(ClaimLostError):
        old.guard(wait_s=1.0)  # and no cloud call may start
    assert old.lost.is_set()
    assert store.state(build_id) == (state, version)
    assert store.events(build_id) == before
    new.write(state=(state.but(status=BuildStatus.CREATE_IN_PROGRESS), version))


def test_guard_refuses_once_the_lease_moved_even_if_the_session_lives(
    clients: list[KazooClient], layout: Layout, plan: Plan
) -> None:
    """A paused worker whose claim was taken over notices before its next cloud call."""
    client, other = clients
    build_id = _submit(client, layout, plan)
    fence = claim(client, layout, build_id, "w1")
    assert fence is not None
    fence.guard(wait_s=1.0)
    # Another worker took the build over (the claim vanished, the lease moved on).
    client.delete(layout.claim(build_id))
    taken = claim(other, layout, build_id, "w2")
    assert taken is not None
    with pytest.raises(ClaimLostError):
        fence.guard(wait_s=1.0)


def test_finish_leaves_pending_and_drops_the_claim_at_once(
    clients: list[KazooClient], layout: Layout, plan: Plan
) -> None:
    client = clients[0]
    build_id = _submit(client, layout, plan)
    store = BuildStore(client, layout)
    fence = claim(client, layout, build_id, "w1")
    assert fence is not None
    state, version = store.state(build_id)
    fence.write(state=(state.but(status=BuildStatus.CREATE_COMPLETE), version), finish=True)
    assert store.pending() == []
    assert store.claimed() == []
    assert fence.lost.is_set()  # nothing more may be written by it
    with pytest.raises(ClaimLostError):
        fence.write(events=[Event(at=3.0, resource=None, old=None, new="x")])


def test_release_hands_the_build_over_without_finishing_it(
    clients: list[KazooClient], layout: Layout, plan: Plan
) -> None:
    first, second = clients
    build_id = _submit(first, layout, plan)
    fence = claim(first, layout, build_id, "w1")
    assert fence is not None
    fence.write(release=True)
    assert BuildStore(first, layout).pending() == [build_id]
    again = claim(second, layout, build_id, "w2")
    assert again is not None
    assert again.lease.claims == 2


def test_a_finish_decided_before_a_delete_request_is_refused(
    clients: list[KazooClient], layout: Layout, plan: Plan
) -> None:
    """The worker read control, then a delete came: finishing CREATE_COMPLETE on the old
    read would bury the request (the build terminal, the delete never done)."""
    from cool.errors import CommitUnknownError
    from cool.model import ControlRequest
    from cool.store.control import Requests

    worker, api = clients
    build_id = _submit(worker, layout, plan)
    store = BuildStore(worker, layout)
    fence = claim(worker, layout, build_id, "w1")
    assert fence is not None
    requests = Requests(store)
    _, control_version = requests.control(build_id)  # what the runner decided on
    Requests(BuildStore(api, layout)).delete(build_id, user_id="u")  # in progress: control only
    state, version = store.state(build_id)
    with pytest.raises(CommitUnknownError):
        fence.write(
            state=(state.but(status=BuildStatus.CREATE_COMPLETE), version),
            finish=True,
            control_version=control_version,
        )
    assert store.pending() == [build_id]  # nothing was finished
    assert store.state(build_id)[0].status is not BuildStatus.CREATE_COMPLETE
    control, fresh = requests.control(build_id)
    assert ControlRequest.DELETE in control
    written = fence.write(
        state=(state.but(status=BuildStatus.DELETE_IN_PROGRESS), version),
        control_version=fresh,
    )
    assert written.state is not None
    assert written.state > version
