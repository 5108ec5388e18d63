"""The call cap of the openstack provider with the store's call slots given to it
(as cool-worker wires them), on a real ZooKeeper: the cap holds across workers, and a
store that fails fails the cloud call, retryable, with cool's error."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from cool.clouds.base import ProviderError, StepContext
from cool.clouds.openstack.limits import CallLimiter
from cool.clouds.openstack.provider import OpenStackProvider
from cool.store.layout import Layout, cloud_key
from cool.store.slots import CallSlots
from tests.zk import assert_eventually, start_client, stop_client

CLOUD = "http://keystone.example:5000/v3"


@pytest.fixture
def clients(zk_hosts: str) -> Iterator[list[KazooClient]]:
    """Two workers' sessions."""
    made = [start_client(zk_hosts) for _ in range(2)]
    try:
        yield made
    finally:
        for client in made:
            stop_client(client)


def _limiter(client: KazooClient, per_worker: int, max_leases: int, worker: str) -> CallLimiter:
    slots = CallSlots(client, Layout("/cool"), max_leases=max_leases, identifier=worker)
    return CallLimiter(per_worker, cluster=slots)


def test_the_cluster_cap_holds_calls_across_workers(clients: list[KazooClient]) -> None:
    limiters = [_limiter(c, 4, 2, f"worker-{i}") for i, c in enumerate(clients)]
    release = threading.Event()
    errors: list[BaseException] = []

    def call(limiter: CallLimiter) -> None:
        try:
            with limiter.slot(CLOUD):
                release.wait(60)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(lim,)) for lim in limiters for _ in range(3)]
    for thread in threads:
        thread.start()

    def in_flight() -> int:
        return sum(lim.in_flight.get(CLOUD, 0) for lim in limiters)

    try:
        assert_eventually(lambda: in_flight() == 2, message="two calls hold the two slots")
        key_path = Layout("/cool").call_slots(cloud_key(CLOUD))
        assert len(clients[0].get_children(key_path)) == 2
        assert in_flight() == 2  # four calls still wait for a slot
    finally:
        release.set()
        for thread in threads:
            thread.join(60)
    assert not errors
    assert in_flight() == 0
    assert clients[0].get_children(key_path) == []


def test_a_failing_store_fails_the_cloud_call_retryable(zk_hosts: str) -> None:
    """kazoo's error becomes StoreUnavailableError in the store, then a retryable
    ProviderError at the provider's boundary, worded as before the slots moved."""
    client = start_client(zk_hosts)
    stop_client(client)
    session = ks_session.Session(auth=token_endpoint.Token("http://127.0.0.1:9/", "token"))
    provider = OpenStackProvider(lambda _trust: session, limiter=_limiter(client, 4, 2, "w"))
    ctx = StepContext(
        build_id="01M8SE9Q2W3J7WQ6Z1QJ3D8R7K",
        resource_name="net",
        resource_type="OS::Neutron::Net",
        project_id="p",
    )
    with pytest.raises(ProviderError) as raised:
        provider.find(ctx)
    assert raised.value.retryable
    assert raised.value.message.startswith("look up net (OS::Neutron::Net): ZooKeeper: ")
