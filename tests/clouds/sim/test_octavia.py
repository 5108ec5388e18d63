"""Octavia's types on the simulated cloud: PENDING_CREATE -> ACTIVE after the latency,
a VIP from its subnet's range, the lists Octavia shows (a load balancer's pools, a
pool's members and monitor) following the objects under them, and what a real Octavia
refuses (a reference to nothing, a VIP address in use) refused too."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cool.clouds.base import ProviderError
from cool.clouds.sim.faults import FailureMode
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import FakeClock, create_net, ctx

SUBNET = "OS::Neutron::Subnet"
LB, LISTENER, POOL = "OS::Octavia::LoadBalancer", "OS::Octavia::Listener", "OS::Octavia::Pool"
MEMBER, MONITOR = "OS::Octavia::PoolMember", "OS::Octavia::HealthMonitor"


def _subnet(sim: SimProvider) -> str:
    props = {"network": create_net(sim), "cidr": "10.9.0.0/24", "ip_version": 4}
    return sim.create(ctx("subnet", SUBNET), props)


def test_sim_load_balancer_is_pending_until_the_latency_then_active(
    make_sim: Callable[..., SimProvider], clock: FakeClock
) -> None:
    sim = make_sim(latency_s=3.0)
    step = ctx("lb", LB)
    lb = sim.create(step, {"vip_subnet": _subnet(sim)})
    pending = sim.observe(step, lb)
    assert not pending.ready
    assert pending.attributes["provisioning_status"] == "PENDING_CREATE"
    assert pending.attributes["operating_status"] == "OFFLINE"
    clock.advance(3.0)
    active = sim.observe(step, lb)
    assert active.ready
    assert active.attributes["provisioning_status"] == "ACTIVE"
    assert active.attributes["operating_status"] == "ONLINE"


def test_sim_vip_comes_from_the_subnet_and_is_not_given_twice(sim: SimProvider) -> None:
    subnet = _subnet(sim)
    first = sim.observe(ctx("a", LB), sim.create(ctx("a", LB), {"vip_subnet": subnet}))
    second = sim.observe(ctx("b", LB), sim.create(ctx("b", LB), {"vip_subnet": subnet}))
    vips = {first.attributes["vip_address"], second.attributes["vip_address"]}
    assert len(vips) == 2
    assert all(vip.startswith("10.9.0.") for vip in vips)
    assert first.attributes["vip_subnet_id"] == subnet
    assert first.attributes["vip_port_id"] != second.attributes["vip_port_id"]
    taken = first.attributes["vip_address"]
    with pytest.raises(ProviderError, match="already allocated"):
        sim.create(ctx("c", LB), {"vip_subnet": subnet, "vip_address": taken})


def test_sim_lists_follow_what_hangs_under_each_object(sim: SimProvider) -> None:
    lb = sim.create(ctx("lb", LB), {"vip_subnet": _subnet(sim)})
    listener_props = {"loadbalancer": lb, "protocol": "HTTP", "protocol_port": 80}
    listener = sim.create(ctx("listener", LISTENER), listener_props)
    pool_props = {"listener": listener, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}
    pool = sim.create(ctx("pool", POOL), pool_props)
    lb_pool = sim.create(
        ctx("lb_pool", POOL), {"loadbalancer": lb, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}
    )
    member_props = {"pool": pool, "address": "10.9.0.50", "protocol_port": 8080}
    member = sim.create(ctx("member", MEMBER), member_props)
    monitor_props = {"pool": pool, "type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3}
    monitor = sim.create(ctx("monitor", MONITOR), monitor_props)

    assert sim.observe(ctx("lb", LB), lb).attributes["pools"] == [{"id": lb_pool}, {"id": pool}]
    assert sim.observe(ctx("listener", LISTENER), listener).attributes["loadbalancers"] == [
        {"id": lb}
    ]
    shown = sim.observe(ctx("pool", POOL), pool).attributes
    assert (shown["members"], shown["healthmonitor_id"]) == ([{"id": member}], monitor)
    assert shown["listeners"] == [{"id": listener}]
    assert sim.observe(ctx("monitor", MONITOR), monitor).attributes["url_path"] == "/"
    assert sim.observe(ctx("member", MEMBER), member).attributes["pool_id"] == pool

    sim.delete(ctx("member", MEMBER), member)
    sim.delete(ctx("monitor", MONITOR), monitor)
    shown = sim.observe(ctx("pool", POOL), pool).attributes
    assert (shown["members"], shown["healthmonitor_id"]) == ([], None)


def test_sim_refuses_a_listener_of_a_load_balancer_it_deleted(sim: SimProvider) -> None:
    lb = sim.create(ctx("lb", LB), {"vip_subnet": _subnet(sim)})
    sim.delete(ctx("lb", LB), lb)
    props = {"loadbalancer": lb, "protocol": "HTTP", "protocol_port": 80}
    with pytest.raises(ProviderError, match="could not be found"):
        sim.create(ctx("listener", LISTENER), props)


def test_sim_load_balancer_in_error_fails_with_the_note(sim: SimProvider) -> None:
    sim.arm("lb", "create", mode=FailureMode.ERROR_STATUS, message="No amphora available")
    lb = sim.create(ctx("lb", LB), {"vip_subnet": _subnet(sim)})
    observed = sim.observe(ctx("lb", LB), lb)
    assert not observed.ready
    assert observed.failed == "No amphora available"
    assert observed.attributes["provisioning_status"] == "ERROR"
