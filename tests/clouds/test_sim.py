"""The simulated cloud: every type, latency, failures, adoption, audit, many processes."""

from __future__ import annotations

import ipaddress
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cool.clouds.base import ProviderError, ResourceFailedError, ResourceGoneError, StepContext
from cool.clouds.sim import FailureMode, SimProvider, SimStatus
from cool.errors import ConfigurationError
from cool.resources.registry import ResourceTypeRegistry

BUILD = "01HXAAAAAAAAAAAAAAAAAAAAAA"
NET = "OS::Neutron::Net"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sim(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., SimProvider]]:
    made: list[SimProvider] = []

    def make(**kwargs: Any) -> SimProvider:
        kwargs.setdefault("clock", clock)
        sim = SimProvider(tmp_path / "sim.db", **kwargs)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


@pytest.fixture
def sim(make_sim: Callable[..., SimProvider]) -> SimProvider:
    return make_sim()


def ctx(name: str, resource_type: str, build_id: str = BUILD) -> StepContext:
    return StepContext(build_id, name, resource_type, project_id="demo")


# Every simulated type, in an order that creates dependencies first: name, type,
# and the properties given the ids created so far.
WORLD: list[tuple[str, str, Callable[[dict[str, str]], dict[str, Any]]]] = [
    ("net", "OS::Neutron::Net", lambda ids: {"name": "private"}),
    (
        "subnet",
        "OS::Neutron::Subnet",
        lambda ids: {"network": ids["net"], "cidr": "10.0.0.0/24", "ip_version": 4},
    ),
    ("router", "OS::Neutron::Router", lambda ids: {"external_gateway_info": {"network": "public"}}),
    (
        "router_interface",
        "OS::Neutron::RouterInterface",
        lambda ids: {"router": ids["router"], "subnet": ids["subnet"]},
    ),
    (
        "security_group",
        "OS::Neutron::SecurityGroup",
        lambda ids: {"rules": [{"protocol": "tcp", "port_range_min": 22, "port_range_max": 22}]},
    ),
    (
        "port",
        "OS::Neutron::Port",
        lambda ids: {
            "network": ids["net"],
            "fixed_ips": [{"subnet": ids["subnet"]}],
            "security_groups": [ids["security_group"]],
        },
    ),
    ("floating_ip", "OS::Neutron::FloatingIP", lambda ids: {"floating_network": "public"}),
    (
        "floating_ip_association",
        "OS::Neutron::FloatingIPAssociation",
        lambda ids: {"floatingip_id": ids["floating_ip"], "port_id": ids["port"]},
    ),
    ("key", "OS::Nova::KeyPair", lambda ids: {"name": "demo-key", "save_private_key": True}),
    (
        "server",
        "OS::Nova::Server",
        lambda ids: {
            "flavor": "m1.tiny",
            "image": "cirros",
            "key_name": ids["key"],
            "networks": [{"port": ids["port"]}],
        },
    ),
    ("volume", "OS::Cinder::Volume", lambda ids: {"size": 2}),
    (
        "volume_attachment",
        "OS::Cinder::VolumeAttachment",
        lambda ids: {"instance_uuid": ids["server"], "volume_id": ids["volume"]},
    ),
]
TYPE_OF = {name: kind for name, kind, _ in WORLD}


def build_world(sim: SimProvider, build_id: str = BUILD) -> dict[str, str]:
    ids: dict[str, str] = {}
    for name, kind, properties in WORLD:
        ids[name] = sim.create(ctx(name, kind, build_id), properties(ids))
    return ids


def observe(sim: SimProvider, ids: dict[str, str], name: str) -> dict[str, Any]:
    observed = sim.observe(ctx(name, TYPE_OF[name]), ids[name])
    assert observed.ready, observed
    return dict(observed.attributes)


# -- every type ------------------------------------------------------------------


def test_sim_simulates_every_declared_cloud_type(
    sim: SimProvider, registry: ResourceTypeRegistry
) -> None:
    declared = {t.name for t in registry if t.needs_cloud}
    assert {kind for _, kind, _ in WORLD} == declared
    assert all(sim.supports(kind) for kind in declared)
    assert not sim.supports("OS::Heat::None")
    with pytest.raises(ProviderError, match="does not simulate"):
        sim.create(ctx("x", "OS::Heat::None"), {})


@pytest.mark.parametrize("name", [name for name, _, _ in WORLD])
def test_sim_type_creates_observes_and_deletes(
    sim: SimProvider, registry: ResourceTypeRegistry, name: str
) -> None:
    ids = build_world(sim)
    kind, step = TYPE_OF[name], ctx(name, TYPE_OF[name])
    attributes = observe(sim, ids, name)
    declared = registry.get(kind)
    assert declared is not None
    assert set(declared.attributes) <= set(attributes)
    assert attributes["id"] == ids[name]
    assert attributes["show"] == {k: v for k, v in attributes.items() if k != "show"}
    assert [found.physical_id for found in sim.find(step)] == [ids[name]]

    sim.delete(step, ids[name])
    assert sim.is_deleted(step, ids[name])
    assert sim.find(step) == []
    with pytest.raises(ResourceGoneError):
        sim.observe(step, ids[name])
    sim.delete(step, ids[name])  # again: not an error
    resource = sim.resource(ids[name])
    assert resource is not None
    assert resource.status is SimStatus.DELETED


def test_sim_attributes_agree_with_each_other(sim: SimProvider) -> None:
    ids = build_world(sim)
    subnet, port = observe(sim, ids, "subnet"), observe(sim, ids, "port")
    address = port["fixed_ips"][0]["ip_address"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet["cidr"])
    assert address != subnet["gateway_ip"] == "10.0.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert port["fixed_ips"][0]["subnet_id"] == ids["subnet"]
    assert port["mac_address"].startswith("fa:16:3e:")
    assert observe(sim, ids, "net")["subnets"] == [ids["subnet"]]
    assert observe(sim, ids, "router_interface")["ip_address"] == "10.0.0.1"

    server = observe(sim, ids, "server")
    assert server["first_address"] == address
    assert server["networks"] == {"private": [address], ids["net"]: [address]}
    assert server["addresses"]["private"][0]["OS-EXT-IPS-MAC:mac_addr"] == port["mac_address"]
    assert server["name"] == f"cool-{BUILD.lower()}-server"  # no name given: cloud_name

    floating = observe(sim, ids, "floating_ip")  # associated by the association
    assert floating["port_id"] == ids["port"]
    assert floating["fixed_ip_address"] == address
    assert ipaddress.ip_address(floating["floating_ip_address"]) in ipaddress.ip_network(
        "100.64.0.0/10"
    )
    key = observe(sim, ids, "key")
    assert key["name"] == "demo-key"
    assert key["public_key"].startswith("ssh-ed25519 ")
    assert "SIMULATED" not in key["public_key"]
    assert key["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")

    volume = observe(sim, ids, "volume")
    assert (volume["size"], volume["status"]) == ("2", "in-use")
    assert volume["attachments_list"][0]["server_id"] == ids["server"]
    assert observe(sim, ids, "volume_attachment")["device"] == "/dev/vdb"
    sim.delete(ctx("volume_attachment", TYPE_OF["volume_attachment"]), ids["volume_attachment"])
    assert observe(sim, ids, "volume")["status"] == "available"


def test_sim_addresses_and_macs_are_unique(sim: SimProvider) -> None:
    net = sim.create(ctx("net", "OS::Neutron::Net"), {})
    subnet = sim.create(
        ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.1.0.0/24"}
    )
    ports = [sim.create(ctx(f"port{i}", "OS::Neutron::Port"), {"network": net}) for i in range(60)]
    seen = [sim.observe(ctx(f"port{i}", "OS::Neutron::Port"), p) for i, p in enumerate(ports)]
    addresses = [o.attributes["fixed_ips"][0]["ip_address"] for o in seen]
    assert len(set(addresses)) == 60
    assert "10.1.0.1" not in addresses  # the gateway
    assert all(o.attributes["fixed_ips"][0]["subnet_id"] == subnet for o in seen)
    assert len({o.attributes["mac_address"] for o in seen}) == 60
    floating = [
        sim.create(ctx(f"fip{i}", "OS::Neutron::FloatingIP"), {"floating_network": "public"})
        for i in range(30)
    ]
    found = {
        sim.observe(ctx(f"fip{i}", "OS::Neutron::FloatingIP"), f).attributes["floating_ip_address"]
        for i, f in enumerate(floating)
    }
    assert len(found) == 30


def test_sim_explicit_address_is_refused_while_taken_and_free_once_deleted(
    sim: SimProvider,
) -> None:
    net = sim.create(ctx("net", "OS::Neutron::Net"), {})
    subnet = sim.create(
        ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.2.0.0/24"}
    )
    wanted = {"network": net, "fixed_ips": [{"subnet": subnet, "ip_address": "10.2.0.50"}]}
    first = sim.create(ctx("a", "OS::Neutron::Port"), wanted)
    with pytest.raises(ProviderError, match="already allocated") as raised:
        sim.create(ctx("b", "OS::Neutron::Port"), wanted)
    assert not raised.value.retryable
    assert sim.find(ctx("b", "OS::Neutron::Port")) == []  # nothing half-made
    sim.delete(ctx("a", "OS::Neutron::Port"), first)
    sim.create(ctx("b", "OS::Neutron::Port"), wanted)


def test_sim_small_subnet_runs_out_and_reuses_freed_addresses(sim: SimProvider) -> None:
    net = sim.create(ctx("net", "OS::Neutron::Net"), {})
    sim.create(ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.3.0.0/29"})
    ports = [sim.create(ctx(f"p{i}", "OS::Neutron::Port"), {"network": net}) for i in range(5)]
    with pytest.raises(ProviderError, match="No more IP addresses"):
        sim.create(ctx("p5", "OS::Neutron::Port"), {"network": net})
    sim.delete(ctx("p2", "OS::Neutron::Port"), ports[2])
    again = sim.create(ctx("p5", "OS::Neutron::Port"), {"network": net})
    fixed_ips = sim.observe(ctx("p5", "OS::Neutron::Port"), again).attributes["fixed_ips"]
    assert [f["ip_address"] for f in fixed_ips] == ["10.3.0.4"]  # p2's, freed


@pytest.mark.parametrize(
    ("properties", "cidr", "gateway", "pools"),
    [
        (
            {"cidr": "10.5.0.0/24", "gateway_ip": ""},
            "10.5.0.0/24",
            None,
            [("10.5.0.1", "10.5.0.254")],
        ),
        (
            {"cidr": "10.5.0.0/24", "gateway_ip": "10.5.0.254"},
            "10.5.0.0/24",
            "10.5.0.254",
            [("10.5.0.1", "10.5.0.253")],
        ),
        (
            {"cidr": "fd00::/64", "ip_version": 6},
            "fd00::/64",
            "fd00::1",
            [("fd00::2", "fd00::ffff:ffff:ffff:ffff")],
        ),
        (
            {"subnetpool": "pool", "prefixlen": 26},
            "10.128.0.0/26",
            "10.128.0.1",
            [("10.128.0.2", "10.128.0.62")],
        ),
    ],
)
def test_sim_subnet_ranges_gateways_and_pools(
    sim: SimProvider,
    properties: dict[str, Any],
    cidr: str,
    gateway: str | None,
    pools: list[tuple[str, str]],
) -> None:
    net = sim.create(ctx("net", NET), {})
    subnet = sim.create(ctx("subnet", "OS::Neutron::Subnet"), {"network": net, **properties})
    attributes = sim.observe(ctx("subnet", "OS::Neutron::Subnet"), subnet).attributes
    assert (attributes["cidr"], attributes["gateway_ip"]) == (cidr, gateway)
    assert [(p["start"], p["end"]) for p in attributes["allocation_pools"]] == pools
    assert attributes["ip_version"] == ipaddress.ip_network(cidr).version
    port = sim.create(ctx("port", "OS::Neutron::Port"), {"network": net})
    fixed = sim.observe(ctx("port", "OS::Neutron::Port"), port).attributes["fixed_ips"]
    assert [f["ip_address"] for f in fixed] == [pools[0][0]]


@pytest.mark.parametrize(
    ("resource_type", "properties", "why"),
    [
        ("OS::Neutron::Subnet", {"network": None, "cidr": "10.0.0.0/24"}, "network is required"),
        ("OS::Neutron::Subnet", {"network": "private", "cidr": "not-a-cidr"}, "bad request"),
        ("OS::Cinder::VolumeAttachment", {"volume_id": "v"}, "instance_uuid is required"),
        ("OS::Nova::Server", {"image": "cirros"}, "flavor is required"),
    ],
)
def test_sim_refuses_bad_requests_without_creating(
    sim: SimProvider, resource_type: str, properties: dict[str, Any], why: str
) -> None:
    step = ctx("bad", resource_type)
    with pytest.raises(ProviderError, match=why) as raised:
        sim.create(step, properties)
    assert not raised.value.retryable
    assert sim.find(step) == []
    assert why in sim.calls(action="create")[-1].outcome


def test_sim_reference_to_a_deleted_resource_is_not_found(sim: SimProvider) -> None:
    net = sim.create(ctx("net", "OS::Neutron::Net"), {})
    sim.delete(ctx("net", "OS::Neutron::Net"), net)
    with pytest.raises(ProviderError, match=f"Net {net} could not be found"):
        sim.create(ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.4.0.0/24"})


def test_sim_pretends_external_networks_exist(sim: SimProvider) -> None:
    server = sim.create(ctx("s", "OS::Nova::Server"), {"flavor": "f", "image": "i"})
    attributes = sim.observe(ctx("s", "OS::Nova::Server"), server).attributes
    assert list(attributes["networks"]) == ["private"]
    assert ipaddress.ip_address(attributes["first_address"]) in ipaddress.ip_network(
        "10.254.0.0/16"
    )


# -- latency ------------------------------------------------------------------------


def test_sim_status_moves_from_build_to_active_after_the_latency(
    make_sim: Callable[..., SimProvider], clock: FakeClock
) -> None:
    sim = make_sim(latency_s=5.0)
    step = ctx("web", "OS::Nova::Server")
    physical_id = sim.create(step, {"flavor": "f", "image": "i"})
    observed = sim.observe(step, physical_id)
    assert (observed.ready, observed.failed, observed.attributes["status"]) == (
        False,
        None,
        "BUILD",
    )
    clock.advance(4.9)
    assert not sim.observe(step, physical_id).ready
    clock.advance(0.1)
    assert sim.observe(step, physical_id).attributes["status"] == "ACTIVE"
    with sqlite3.connect(sim.db_path) as conn:  # the file reads true to a person
        row = conn.execute("SELECT status FROM resources").fetchone()
    conn.close()
    assert row == ("ACTIVE",)

    sim.delete(step, physical_id)
    assert not sim.is_deleted(step, physical_id)
    assert [f.physical_id for f in sim.find(step)] == [physical_id]  # DELETING: still there
    assert sim.live_resources()[0].status is SimStatus.DELETING
    clock.advance(5.0)
    assert sim.is_deleted(step, physical_id)
    assert sim.find(step) == []


def test_sim_real_clock_latency_passes(make_sim: Callable[..., SimProvider]) -> None:
    sim = make_sim(latency_s=0.05, clock=time.time)
    step = ctx("net", "OS::Neutron::Net")
    physical_id = sim.create(step, {})
    deadline = time.monotonic() + 2.0
    while not sim.observe(step, physical_id).ready:
        assert time.monotonic() < deadline, "never became ready"
        time.sleep(0.01)


# -- failures ------------------------------------------------------------------------


def _outcomes(sim: SimProvider, count: int) -> list[str]:
    """For each create: "ok", or the kind of error it raised."""
    results = []
    for i in range(count):
        try:
            sim.create(ctx(f"r{i}", "OS::Neutron::Net"), {})
        except ProviderError as exc:
            results.append(f"{type(exc).__name__} retryable={exc.retryable}")
        else:
            results.append("ok")
    return results


def test_sim_failure_rate_is_seeded_and_creates_nothing(
    make_sim: Callable[..., SimProvider],
) -> None:
    first = _outcomes(make_sim(failure_rate=0.3, seed=7), 200)
    second = _outcomes(make_sim(failure_rate=0.3, seed=7, caller="again"), 200)
    assert first == second
    assert set(first) == {"ok", "ProviderError retryable=True"}
    assert 30 < first.count("ProviderError retryable=True") < 90
    sim = make_sim()
    assert len(sim.live_resources()) == 2 * first.count("ok")
    failed = [c for c in sim.calls(action="create") if c.outcome != "ok"]
    assert len(failed) == 2 * (200 - first.count("ok"))
    assert all("503" in c.outcome for c in failed)


def test_sim_failure_rate_as_error_status_fails_on_observe(
    make_sim: Callable[..., SimProvider], clock: FakeClock
) -> None:
    sim = make_sim(failure_rate=1.0, failure_mode="error_status", latency_s=1.0)
    step = ctx("web", "OS::Nova::Server")
    physical_id = sim.create(step, {"flavor": "f", "image": "i"})
    assert sim.observe(step, physical_id).failed is None  # BUILD first
    clock.advance(1.0)
    observed = sim.observe(step, physical_id)
    assert not observed.ready
    assert observed.failed == "simulated failure: the OS::Nova::Server went to ERROR"
    sim.delete(step, physical_id)  # an ERROR resource can be deleted
    clock.advance(1.0)
    assert sim.is_deleted(step, physical_id)


def test_sim_failure_rate_as_lost_reply_creates_and_raises(
    make_sim: Callable[..., SimProvider],
) -> None:
    sim = make_sim(failure_rate=1.0, failure_mode=FailureMode.LOST_REPLY)
    step = ctx("web", "OS::Neutron::Net")
    with pytest.raises(ProviderError, match="lost reply") as raised:
        sim.create(step, {})
    assert raised.value.retryable
    assert len(sim.find(step)) == 1  # adoption finds what the lost reply hid


def test_sim_refuses_bad_failure_settings(make_sim: Callable[..., SimProvider]) -> None:
    with pytest.raises(ConfigurationError):
        make_sim(failure_rate=1.5)
    with pytest.raises(ConfigurationError):
        make_sim(failure_rate=0.1, failure_mode="lost_reply", failure_actions=("observe",))


def _net(sim: SimProvider, name: str = "net") -> str:
    return sim.create(ctx(name, NET), {})


@pytest.mark.parametrize(
    ("mode", "retryable", "expected"),
    [
        ("raise", False, ResourceFailedError),
        ("raise", True, ProviderError),
        ("lost_reply", False, ProviderError),
    ],
)
def test_sim_switch_on_create_raises(
    sim: SimProvider, mode: str, retryable: bool, expected: type[Exception]
) -> None:
    sim.arm("net", "create", mode=mode, message="No valid host was found", retryable=retryable)
    with pytest.raises(expected, match="No valid host was found") as raised:
        _net(sim)
    assert raised.value.retryable == (retryable or mode == "lost_reply")
    assert len(sim.find(ctx("net", NET))) == (1 if mode == "lost_reply" else 0)
    _net(sim)  # times=1: the switch is spent
    assert sim.calls(action="create")[0].outcome == "No valid host was found"


def test_sim_switch_on_create_as_error_status(sim: SimProvider) -> None:
    sim.arm("net", "create", mode="error_status", message="quota exceeded")
    physical_id = _net(sim)
    assert sim.observe(ctx("net", NET), physical_id).failed == "quota exceeded"


@pytest.mark.parametrize("mode", ["raise", "error_status"])
def test_sim_switch_on_observe(sim: SimProvider, mode: str) -> None:
    physical_id = _net(sim)
    sim.arm("net", "observe", mode=mode, message="broken")
    if mode == "raise":
        with pytest.raises(ResourceFailedError, match="broken"):
            sim.observe(ctx("net", NET), physical_id)
        assert sim.observe(ctx("net", NET), physical_id).ready
    else:
        for _ in range(2):  # ERROR stays
            assert sim.observe(ctx("net", NET), physical_id).failed == "broken"


@pytest.mark.parametrize(
    ("mode", "deleted"), [("raise", False), ("error_status", False), ("lost_reply", True)]
)
def test_sim_switch_on_delete(sim: SimProvider, mode: str, deleted: bool) -> None:
    physical_id = _net(sim)
    step = ctx("net", NET)
    sim.arm("net", "delete", mode=mode, message="in use", retryable=True)
    if mode == "error_status":
        sim.delete(step, physical_id)
        with pytest.raises(ResourceFailedError, match="in use"):
            sim.is_deleted(step, physical_id)
    else:
        with pytest.raises(ProviderError, match="in use"):
            sim.delete(step, physical_id)
        assert sim.is_deleted(step, physical_id) is deleted
    sim.delete(step, physical_id)  # the next delete works
    assert sim.is_deleted(step, physical_id)


@pytest.mark.parametrize("action", ["find", "is_deleted"])
def test_sim_switch_on_lookups(sim: SimProvider, action: str) -> None:
    physical_id = _net(sim)
    sim.arm("net", action, retryable=True)
    call = {
        "find": lambda: sim.find(ctx("net", NET)),
        "is_deleted": lambda: sim.is_deleted(ctx("net", NET), physical_id),
    }[action]
    with pytest.raises(ProviderError, match=f"simulated failure of {action}"):
        call()
    call()  # spent


def test_sim_switches_match_build_and_count_down(sim: SimProvider) -> None:
    sim.arm("net", build_id="B1", times=2)
    sim.create(ctx("net", NET, "B2"), {})  # another build: untouched
    for _ in range(2):
        with pytest.raises(ResourceFailedError):
            sim.create(ctx("net", NET, "B1"), {})
    sim.create(ctx("net", NET, "B1"), {})
    forever = sim.arm("net", times=None)
    for _ in range(3):
        with pytest.raises(ResourceFailedError):
            _net(sim)
    sim.disarm(forever)
    _net(sim)
    with pytest.raises(ValueError, match="cannot fail"):
        sim.arm("net", "find", mode="error_status")
    with pytest.raises(ValueError, match="times"):
        sim.arm("net", times=0)


# -- adoption, audit, calls -----------------------------------------------------------


def test_sim_find_adopts_and_audit_counts_duplicates_and_leaks(
    sim: SimProvider, clock: FakeClock
) -> None:
    step = ctx("web", "OS::Nova::Server")
    first = sim.create(step, {"flavor": "f", "image": "i"})
    clock.advance(1)
    second = sim.create(step, {"flavor": "f", "image": "i"})  # a create racing a takeover
    other = sim.create(ctx("db", "OS::Nova::Server", "OTHER"), {"flavor": "f", "image": "i"})
    assert [f.physical_id for f in sim.find(step)] == [first, second]  # oldest first
    assert sim.find(step)[0].created_at == clock.now - 1
    assert [(d.build_id, d.resource_name, d.live) for d in sim.duplicates()] == [(BUILD, "web", 2)]
    leaked = sim.leaks({(BUILD, "web")})
    assert [r.physical_id for r in leaked] == [other]
    assert sim.leaks({(BUILD, "web")}, build_ids={BUILD}) == []

    sim.delete(step, second)
    (line,) = sim.audit(BUILD)
    assert (line.live, line.created, line.is_duplicated) == (1, 2, False)
    assert [r.physical_id for r in sim.live_resources(BUILD)] == [first]
    assert sim.live_resources(BUILD)[0].build_id == BUILD


def test_sim_deletes_are_idempotent(sim: SimProvider) -> None:
    step = ctx("net", NET)
    sim.delete(step, "no-such-id")
    assert sim.is_deleted(step, "no-such-id")
    physical_id = _net(sim)
    for _ in range(3):
        sim.delete(step, physical_id)
    assert sim.is_deleted(step, physical_id)
    with pytest.raises(ResourceGoneError):
        sim.observe(step, "no-such-id")
    with pytest.raises(ResourceGoneError):  # an id of another type is not this resource
        sim.observe(ctx("net", "OS::Neutron::Port"), _net(sim, "other"))


def test_sim_calls_show_a_fenced_worker_made_no_further_call(
    make_sim: Callable[..., SimProvider],
) -> None:
    old, new = make_sim(caller="worker-old"), make_sim(caller="worker-new")
    step = ctx("net", NET)
    physical_id = old.create(step, {})
    old.observe(step, physical_id)
    fenced_at = new.last_call_id()
    new.find(step)
    new.observe(step, physical_id)
    assert [c.action for c in new.calls(caller="worker-old")] == ["create", "observe"]
    assert new.calls(caller="worker-old", after_id=fenced_at) == []
    assert [c.action for c in new.calls(after_id=fenced_at)] == ["find", "observe"]
    call = new.calls(action="create")[0]
    assert (call.build_id, call.resource_name, call.type, call.physical_id, call.pid) == (
        BUILD,
        "net",
        NET,
        physical_id,
        os.getpid(),
    )


def test_sim_schema_is_idempotent_and_shared(tmp_path: Path, clock: FakeClock) -> None:
    with SimProvider(tmp_path / "deep" / "sim.db", clock=clock) as first:
        physical_id = _net(first)
    with SimProvider(tmp_path / "deep" / "sim.db", clock=clock, record_calls=False) as second:
        assert second.resource(physical_id) is not None
        _net(second, "again")
        assert len(second.calls()) == 1  # only the first provider's call
        with sqlite3.connect(second.db_path) as conn:
            mode = conn.execute("PRAGMA journal_mode").fetchone()
        conn.close()
        assert mode == ("wal",)


# -- many threads, many processes ------------------------------------------------------


def test_sim_threads_share_one_provider(sim: SimProvider) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(40):
                step = ctx(f"t{n}-{i}", NET)
                sim.observe(step, sim.create(step, {}))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(sim.live_resources()) == 240


_WORKER = """
import sys, time
from pathlib import Path
from cool.clouds.base import StepContext
from cool.clouds.sim import SimProvider

db, n, count, network, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:6]
with SimProvider(db, caller=f"proc-{n}") as sim:
    while not Path(go).exists():
        time.sleep(0.005)
    for i in range(count):
        kind = "OS::Neutron::Port" if i % 2 else "OS::Neutron::FloatingIP"
        step = StepContext(f"B{n}", f"r{i}", kind, "demo")
        props = {"network": network} if i % 2 else {"floating_network": "public"}
        sim.create(step, props)
        assert len(sim.find(step)) == 1
"""


def test_sim_many_processes_lose_nothing(tmp_path: Path) -> None:
    db, go, count = tmp_path / "sim.db", tmp_path / "go", 150
    with SimProvider(db) as sim:
        network = sim.create(ctx("net", NET), {})
        sim.create(
            ctx("subnet", "OS::Neutron::Subnet"), {"network": network, "cidr": "10.9.0.0/22"}
        )
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(db), str(n), str(count), network, str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(4)
        ]
        go.touch()
        for process in processes:
            _, err = process.communicate(timeout=60)
            assert (process.returncode, err) == (0, ""), err

        resources = sim.live_resources()
        assert len(resources) == 2 + 4 * count
        assert len({r.physical_id for r in resources}) == len(resources)
        assert sim.duplicates() == []
        ports = [r.attributes for r in resources if r.type == "OS::Neutron::Port"]
        assert len({p["fixed_ips"][0]["ip_address"] for p in ports}) == len(ports) == 2 * count
        assert len({p["mac_address"] for p in ports}) == len(ports)
        floating = [r for r in resources if r.type == "OS::Neutron::FloatingIP"]
        assert len({r.attributes["floating_ip_address"] for r in floating}) == 2 * count
        creates = sim.calls(action="create")
        assert len(creates) == 2 + 4 * count
        assert {c.outcome for c in creates} == {"ok"}
        assert {c.caller for c in creates} >= {f"proc-{n}" for n in range(4)}


_FOREVER = """
import sys
from cool.clouds.base import StepContext
from cool.clouds.sim import SimProvider

sim = SimProvider(sys.argv[1], caller="doomed")
i = 0
while True:
    sim.create(StepContext("DOOMED", f"r{i}", "OS::Neutron::Port", "demo"), {"network": "private"})
    i += 1
"""


def test_sim_survives_a_killed_worker(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim:
        process = subprocess.Popen([sys.executable, "-c", _FOREVER, str(db)])
        try:
            deadline = time.monotonic() + 20
            while len(sim.calls(caller="doomed")) < 50:
                assert process.poll() is None, "the worker died on its own"
                assert time.monotonic() < deadline, "the worker made no calls"
                time.sleep(0.01)
        finally:
            process.kill()  # SIGKILL, mid-transaction or not
            process.wait()
        created = {r.physical_id for r in sim.live_resources("DOOMED")}
        called = {c.physical_id for c in sim.calls(caller="doomed") if c.outcome == "ok"}
        assert created == called  # a row and its call commit together, or neither does
        step = ctx("after", "OS::Neutron::Port")
        sim.observe(step, sim.create(step, {"network": "private"}))
