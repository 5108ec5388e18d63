"""The openstack provider's Octavia types against the real Octavia API and worker of the
mini cloud (no-op amphora, compute and network drivers), one call at a time, as a
project member: what each type creates and reads back, adoption by its tags, Octavia's
"immutable while PENDING" 409 as a retry, its other refusals as failures with its
words, and a delete that leaves the project without a load balancer object."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cool.clouds.base import ProviderError, ResourceGoneError
from cool.clouds.openstack.octavia import tags
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import Project, made, new_build_id, until_deleted, until_ready
from tests.zk import assert_eventually

pytestmark = pytest.mark.openstack

NET, SUBNET = "OS::Neutron::Net", "OS::Neutron::Subnet"
LB, LISTENER, POOL = "OS::Octavia::LoadBalancer", "OS::Octavia::Listener", "OS::Octavia::Pool"
MEMBER, MONITOR = "OS::Octavia::PoolMember", "OS::Octavia::HealthMonitor"


@pytest.fixture(scope="module")
def octavia(mini_cloud: MiniCloud) -> MiniCloud:
    """The session's cloud, with Octavia started (once; it stops with the cloud)."""
    mini_cloud.start_octavia()
    return mini_cloud


@pytest.fixture
def member(octavia: MiniCloud) -> Iterator[Project]:
    project = Project.create(octavia)
    yield project
    _no_octavia_objects_left(project)


def _counts(project: Project) -> dict[str, int]:
    lb = project.conn.load_balancer
    return {
        "load_balancers": len(list(lb.load_balancers(project_id=project.project_id))),
        "listeners": len(list(lb.listeners(project_id=project.project_id))),
        "pools": len(list(lb.pools(project_id=project.project_id))),
        "health_monitors": len(list(lb.health_monitors(project_id=project.project_id))),
    }


def _no_octavia_objects_left(project: Project) -> None:
    nothing = {"load_balancers": 0, "listeners": 0, "pools": 0, "health_monitors": 0}
    assert_eventually(
        lambda: _counts(project) == nothing,
        timeout_s=60,
        interval_s=0.5,
        message="the project holds no Octavia object",
    )


def _subnet(member: Project, build_id: str) -> str:
    provider = member.provider()
    net, _ = made(provider, member.ctx("net", NET, {}, build_id=build_id))
    props = {"network": net, "cidr": "10.50.0.0/24", "ip_version": 4}
    subnet, _ = made(provider, member.ctx("subnet", SUBNET, props, build_id=build_id))
    return subnet


def test_a_load_balancer_listener_pool_member_and_monitor_and_their_teardown(
    member: Project,
) -> None:
    provider = member.provider()
    build = new_build_id()
    subnet = _subnet(member, build)

    lb_ctx = member.ctx("lb", LB, {"vip_subnet": subnet}, build_id=build)
    lb, observed = made(provider, lb_ctx)
    assert observed.ready
    assert observed.attributes["vip_subnet_id"] == subnet
    assert observed.attributes["vip_address"]
    assert observed.attributes["vip_port_id"]
    assert observed.attributes["show"]["provisioning_status"] == "ACTIVE"
    octavia_lb = member.conn.load_balancer.get_load_balancer(lb)
    assert octavia_lb.name == lb_ctx.cloud_name
    assert set(tags(lb_ctx)) <= set(octavia_lb.tags)

    props = {"loadbalancer": lb, "protocol": "HTTP", "protocol_port": 80, "name": "web"}
    listener, observed = made(provider, member.ctx("listener", LISTENER, props, build_id=build))
    assert observed.attributes["loadbalancers"] == [{"id": lb}]
    assert member.conn.load_balancer.get_listener(listener).name == "web"

    props = {
        "listener": listener,
        "protocol": "HTTP",
        "lb_algorithm": "ROUND_ROBIN",
        "session_persistence": {"type": "APP_COOKIE", "cookie_name": "session"},
    }
    pool, observed = made(provider, member.ctx("pool", POOL, props, build_id=build))
    assert observed.attributes["listeners"] == [{"id": listener}]
    assert observed.attributes["show"]["session_persistence"]["cookie_name"] == "session"

    # No member subnet: Octavia 18's no-op network driver cannot delete a member that
    # has one (its network delta raises KeyError for the VIP's network).
    props = {"pool": pool, "address": "10.50.0.10", "protocol_port": 8080}
    member_ctx = member.ctx("member", MEMBER, props, build_id=build)
    member_id, observed = made(provider, member_ctx)
    assert member_id.startswith(f"{pool}:")
    assert observed.reference == member_id.partition(":")[2]  # get_resource: the member's id
    assert (observed.attributes["address"], observed.attributes["pool_id"]) == ("10.50.0.10", pool)
    assert [f.physical_id for f in provider.find(member_ctx)] == [member_id]

    props = {"pool": pool, "type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3}
    monitor, observed = made(provider, member.ctx("monitor", MONITOR, props, build_id=build))
    assert observed.attributes["pools"] == [{"id": pool}]
    pool_now = until_ready(provider, member.ctx("pool", POOL, build_id=build), pool)
    assert pool_now.attributes["healthmonitor_id"] == monitor
    assert pool_now.attributes["members"] == [{"id": member_id.partition(":")[2]}]
    lb_now = until_ready(provider, lb_ctx, lb)
    assert lb_now.attributes["pools"] == [{"id": pool}]

    for name, resource_type, physical_id in [
        ("monitor", MONITOR, monitor),
        ("member", MEMBER, member_id),
        ("pool", POOL, pool),
        ("listener", LISTENER, listener),
        ("lb", LB, lb),
    ]:
        ctx = member.ctx(name, resource_type, build_id=build)
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id, timeout_s=90)
        provider.delete(ctx, physical_id)  # again: nothing to do
        with pytest.raises(ResourceGoneError):
            provider.observe(ctx, physical_id)
    assert provider.find(lb_ctx) == []


def test_each_object_is_found_by_its_tags_and_only_by_its_own(member: Project) -> None:
    provider = member.provider()
    build = new_build_id()
    subnet = _subnet(member, build)
    lb_ctx = member.ctx("lb", LB, {"vip_subnet": subnet}, build_id=build)
    lb = provider.create(lb_ctx, lb_ctx.properties)  # a create whose reply was lost...
    assert [f.physical_id for f in provider.find(lb_ctx)] == [lb]  # ...is adopted
    assert provider.find(member.ctx("lb", LB, build_id=new_build_id())) == []
    assert provider.find(member.ctx("other", LB, build_id=build)) == []
    until_ready(provider, lb_ctx, lb)

    props = {"loadbalancer": lb, "protocol": "TCP", "protocol_port": 22}
    listener_ctx = member.ctx("listener", LISTENER, props, build_id=build)
    listener, _ = made(provider, listener_ctx)
    assert [f.physical_id for f in provider.find(listener_ctx)] == [listener]

    props = {"loadbalancer": lb, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}
    pool_ctx = member.ctx("pool", POOL, props, build_id=build)
    pool, _ = made(provider, pool_ctx)
    assert [f.physical_id for f in provider.find(pool_ctx)] == [pool]

    props = {"pool": pool, "type": "TCP", "delay": 5, "timeout": 3, "max_retries": 2}
    monitor_ctx = member.ctx("monitor", MONITOR, props, build_id=build)
    monitor, _ = made(provider, monitor_ctx)
    assert [f.physical_id for f in provider.find(monitor_ctx)] == [monitor]

    # A load balancer's delete cascades: what is left under it goes with it.
    provider.delete(lb_ctx, lb)
    until_deleted(provider, lb_ctx, lb, timeout_s=90)
    assert provider.is_deleted(listener_ctx, listener)
    assert provider.is_deleted(pool_ctx, pool)
    assert provider.is_deleted(monitor_ctx, monitor)


def test_a_change_while_the_load_balancer_is_pending_is_retried_not_failed(
    member: Project,
) -> None:
    """Octavia's worker paused, so the load balancer stays PENDING_* for as long as the
    test needs (not for as long as a race with the worker lasts)."""
    provider = member.provider()
    build = new_build_id()
    subnet = _subnet(member, build)
    lb_ctx = member.ctx("lb", LB, {"vip_subnet": subnet}, build_id=build)
    props = {"protocol": "HTTP", "protocol_port": 80}
    with member.cloud.paused("octavia-worker"):
        lb = provider.create(lb_ctx, lb_ctx.properties)  # PENDING_CREATE until it runs
        props["loadbalancer"] = lb
        listener_ctx = member.ctx("listener", LISTENER, props, build_id=build)
        with pytest.raises(ProviderError) as refused:
            provider.create(listener_ctx, props)
    assert refused.value.retryable
    assert "immutable" in str(refused.value)
    assert "409" in str(refused.value)
    listener: list[str] = []
    refusals: list[ProviderError] = []

    def created() -> bool:  # as the worker's retry policy does
        try:
            listener.append(provider.create(listener_ctx, props))
        except ProviderError as exc:
            refusals.append(exc)
            return False
        return True

    assert_eventually(created, timeout_s=60, interval_s=0.1, message="the listener is created")
    assert all(refusal.retryable for refusal in refusals), refusals
    until_ready(provider, listener_ctx, listener[0])
    until_ready(provider, lb_ctx, lb)  # the worker's flow is over: pause it idle

    # Its delete while the load balancer is PENDING_UPDATE: a retry too.
    pool_props = {"loadbalancer": lb, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}
    with member.cloud.paused("octavia-worker"):
        pool = provider.create(member.ctx("pool", POOL, pool_props, build_id=build), pool_props)
        with pytest.raises(ProviderError) as refused:
            provider.delete(listener_ctx, listener[0])
    assert refused.value.retryable
    assert "immutable" in str(refused.value)
    until_ready(provider, member.ctx("pool", POOL, build_id=build), pool)
    provider.delete(lb_ctx, lb)
    until_deleted(provider, lb_ctx, lb, timeout_s=90)


def test_what_octavia_refuses_fails_with_its_words_and_is_not_retried(
    member: Project,
) -> None:
    provider = member.provider()
    build = new_build_id()
    subnet = _subnet(member, build)
    lb_ctx = member.ctx("lb", LB, {"vip_subnet": subnet}, build_id=build)
    lb, _ = made(provider, lb_ctx)
    props = {"loadbalancer": lb, "protocol": "HTTP", "protocol_port": 80}
    made(provider, member.ctx("first", LISTENER, props, build_id=build))

    with pytest.raises(ProviderError) as duplicate:
        provider.create(member.ctx("second", LISTENER, props, build_id=build), props)
    assert not duplicate.value.retryable
    assert "already using" in str(duplicate.value)
    assert "protocol_port 80" in str(duplicate.value)

    missing = {"loadbalancer": "no-such-lb", "protocol": "HTTP", "protocol_port": 81}
    with pytest.raises(ProviderError, match="load balancer 'no-such-lb' not found") as gone:
        provider.create(member.ctx("third", LISTENER, missing, build_id=build), missing)
    assert not gone.value.retryable

    provider.delete(lb_ctx, lb)
    until_deleted(provider, lb_ctx, lb, timeout_s=90)
