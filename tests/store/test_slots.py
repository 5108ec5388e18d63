"""Call slots (cool.store.slots) on a real ZooKeeper: the cap across workers, the path
workers of every version agree on, a dead worker's slot freed, kazoo's errors translated."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException

from cool.errors import StoreUnavailableError
from cool.store.layout import IdInvalidError, Layout
from cool.store.slots import CallSlots
from tests.zk import expire_session, start_client, stop_client

CLOUD = "http://keystone.example:5000/v3"


@pytest.fixture
def other_client(zk_hosts: str) -> Iterator[KazooClient]:
    """A second worker's session."""
    client = start_client(zk_hosts)
    try:
        yield client
    finally:
        stop_client(client)


def _slots(client: KazooClient, max_leases: int, identifier: str = "worker-1") -> CallSlots:
    return CallSlots(client, Layout("/cool"), max_leases=max_leases, identifier=identifier)


def test_call_slots_keep_the_path_of_the_previous_version(kazoo_client: KazooClient) -> None:
    """A mixed-version fleet shares one semaphore: the path is the one limits.py built,
    ``<root>/clouds/<sha256(auth_url without a trailing /)[:24]>/calls``."""
    key = hashlib.sha256(CLOUD.encode()).hexdigest()[:24]
    path = f"/cool/clouds/{key}/calls"
    with _slots(kazoo_client, 2).hold(CLOUD + "/", timeout_s=10) as held:
        assert held
        [lease] = kazoo_client.get_children(path)
        assert kazoo_client.get(f"{path}/{lease}")[0] == b"worker-1"
        assert kazoo_client.get(path)[0] == b"2"  # kazoo's record of max_leases
    assert kazoo_client.get_children(path) == []


def test_call_slots_cap_the_calls_of_every_worker(
    kazoo_client: KazooClient, other_client: KazooClient
) -> None:
    mine, theirs = _slots(kazoo_client, 1), _slots(other_client, 1, "worker-2")
    with mine.hold(CLOUD, timeout_s=10) as held:
        assert held
        # kazoo gives up with LockTimeout: that is no slot, not ZooKeeper being down
        with theirs.hold(CLOUD, timeout_s=0.5) as second:
            assert second is False
    with theirs.hold(CLOUD, timeout_s=10) as held:
        assert held  # free again once released


def test_call_slots_of_a_dead_worker_are_freed_with_its_session(
    kazoo_client: KazooClient, other_client: KazooClient
) -> None:
    mine, theirs = _slots(kazoo_client, 1), _slots(other_client, 1, "worker-2")
    with contextlib.ExitStack() as stack:
        assert stack.enter_context(mine.hold(CLOUD, timeout_s=10))
        expire_session(kazoo_client)
        with theirs.hold(CLOUD, timeout_s=30) as held:
            assert held


def test_call_slots_translate_kazoo_errors(zk_hosts: str) -> None:
    client = start_client(zk_hosts)
    stop_client(client)
    with pytest.raises(StoreUnavailableError) as raised, _slots(client, 1).hold(CLOUD, 10):
        pytest.fail("a slot on a closed session")
    assert isinstance(raised.value.__cause__, KazooException)
    assert raised.value.retryable


def test_call_slots_paths_take_only_a_digest() -> None:
    layout = Layout("/cool")
    assert layout.call_slots("0123456789abcdef01234567") == (
        "/cool/clouds/0123456789abcdef01234567/calls"
    )
    with pytest.raises(IdInvalidError):
        layout.call_slots("../claims")
