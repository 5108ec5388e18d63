"""What the tests of the simulated cloud share: a clock, and a world of every type."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cool.clouds.base import StepContext
from cool.clouds.sim.provider import SimProvider

BUILD = "01HXAAAAAAAAAAAAAAAAAAAAAA"
NET = "OS::Neutron::Net"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def in_threads(work: Callable[[int], object], count: int) -> list[BaseException]:
    """Run ``work(0)`` to ``work(count - 1)`` at once, a thread each; what they raised."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def ctx(name: str, resource_type: str, build_id: str = BUILD) -> StepContext:
    return StepContext(build_id, name, resource_type, project_id="demo")


def create_net(sim: SimProvider, name: str = "net") -> str:
    return sim.create(ctx(name, NET), {})


# Every simulated type, in an order that creates dependencies first: name, type,
# and the properties given what get_resource gives for the resources created so far.
WORLD: list[tuple[str, str, Callable[[dict[str, str]], dict[str, Any]]]] = [
    ("net", "OS::Neutron::Net", lambda ref: {"name": "private"}),
    (
        "provider_net",
        "OS::Neutron::ProviderNet",
        lambda ref: {
            "network_type": "vlan",
            "physical_network": "physnet1",
            "segmentation_id": "7",
        },
    ),
    (
        "subnet",
        "OS::Neutron::Subnet",
        lambda ref: {"network": ref["net"], "cidr": "10.0.0.0/24", "ip_version": 4},
    ),
    ("router", "OS::Neutron::Router", lambda ref: {"external_gateway_info": {"network": "public"}}),
    (
        "router_interface",
        "OS::Neutron::RouterInterface",
        lambda ref: {"router": ref["router"], "subnet": ref["subnet"]},
    ),
    (
        "router_gateway",
        "OS::Neutron::RouterGateway",
        lambda ref: {"router_id": ref["router"], "network": "public"},
    ),
    ("qos_policy", "OS::Neutron::QoSPolicy", lambda ref: {"description": "gold"}),
    (
        "qos_bandwidth_limit_rule",
        "OS::Neutron::QoSBandwidthLimitRule",
        lambda ref: {"policy": ref["qos_policy"], "max_kbps": 1000, "direction": "ingress"},
    ),
    (
        "qos_dscp_marking_rule",
        "OS::Neutron::QoSDscpMarkingRule",
        lambda ref: {"policy": ref["qos_policy"], "dscp_mark": 26},
    ),
    (
        "security_group",
        "OS::Neutron::SecurityGroup",
        lambda ref: {"rules": [{"protocol": "tcp", "port_range_min": 22, "port_range_max": 22}]},
    ),
    (
        "security_group_rule",
        "OS::Neutron::SecurityGroupRule",
        lambda ref: {
            "security_group": ref["security_group"],
            "port_range_min": 80,
            "port_range_max": 80,
            "remote_ip_prefix": "0.0.0.0/0",
        },
    ),
    (
        "port",
        "OS::Neutron::Port",
        lambda ref: {
            "network": ref["net"],
            "fixed_ips": [{"subnet": ref["subnet"]}],
            "security_groups": [ref["security_group"]],
        },
    ),
    ("floating_ip", "OS::Neutron::FloatingIP", lambda ref: {"floating_network": "public"}),
    (
        "floating_ip_association",
        "OS::Neutron::FloatingIPAssociation",
        lambda ref: {"floatingip_id": ref["floating_ip"], "port_id": ref["port"]},
    ),
    ("sub_port", "OS::Neutron::Port", lambda ref: {"network": ref["net"]}),
    (
        "trunk",
        "OS::Neutron::Trunk",
        lambda ref: {
            "port": ref["port"],
            "sub_ports": [
                {"port": ref["sub_port"], "segmentation_type": "vlan", "segmentation_id": 101}
            ],
        },
    ),
    ("nova_floating_ip", "OS::Nova::FloatingIP", lambda ref: {"pool": "public"}),
    ("key", "OS::Nova::KeyPair", lambda ref: {"name": "demo-key", "save_private_key": True}),
    ("server_group", "OS::Nova::ServerGroup", lambda ref: {"policies": ["anti-affinity"]}),
    ("flavor", "OS::Nova::Flavor", lambda ref: {"ram": 512, "vcpus": 1, "is_public": False}),
    ("volume_type", "OS::Cinder::VolumeType", lambda ref: {"name": "gold", "is_public": True}),
    (
        "encrypted_volume_type",
        "OS::Cinder::EncryptedVolumeType",
        lambda ref: {"volume_type": ref["volume_type"], "provider": "luks", "cipher": None},
    ),
    (
        "host_aggregate",
        "OS::Nova::HostAggregate",
        lambda ref: {"name": "rack-1", "hosts": ["sim-compute-0"], "metadata": {"ssd": "1"}},
    ),
    (
        "server",
        "OS::Nova::Server",
        lambda ref: {
            "flavor": "m1.tiny",
            "image": "cirros",
            "key_name": ref["key"],
            "networks": [{"port": ref["port"]}],
            "scheduler_hints": {"group": ref["server_group"]},
        },
    ),
    (
        "nova_floating_ip_association",
        "OS::Nova::FloatingIPAssociation",
        lambda ref: {"floating_ip": ref["floating_ip"], "server_id": ref["server"]},
    ),
    ("volume", "OS::Cinder::Volume", lambda ref: {"size": 2}),
    (
        "volume_attachment",
        "OS::Cinder::VolumeAttachment",
        lambda ref: {"instance_uuid": ref["server"], "volume_id": ref["volume"]},
    ),
    ("lb", "OS::Octavia::LoadBalancer", lambda ref: {"vip_subnet": ref["subnet"]}),
    (
        "listener",
        "OS::Octavia::Listener",
        lambda ref: {"loadbalancer": ref["lb"], "protocol": "HTTP", "protocol_port": 80},
    ),
    (
        "pool",
        "OS::Octavia::Pool",
        lambda ref: {
            "listener": ref["listener"],
            "protocol": "HTTP",
            "lb_algorithm": "ROUND_ROBIN",
        },
    ),
    (
        "pool_member",
        "OS::Octavia::PoolMember",
        lambda ref: {"pool": ref["pool"], "address": "10.0.0.20", "protocol_port": 80},
    ),
    (
        "health_monitor",
        "OS::Octavia::HealthMonitor",
        lambda ref: {
            "pool": ref["pool"],
            "type": "HTTP",
            "delay": 5,
            "timeout": 3,
            "max_retries": 3,
        },
    ),
    (
        "aws_security_group",
        "AWS::EC2::SecurityGroup",
        lambda ref: {
            "GroupDescription": "web",
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": "80", "ToPort": "80"}],
        },
    ),
    (
        "aws_instance",
        "AWS::EC2::Instance",
        lambda ref: {
            "ImageId": "cirros",
            "InstanceType": "m1.tiny",
            "SecurityGroups": [ref["aws_security_group"]],
            "SubnetId": ref["subnet"],
            "Volumes": [{"Device": "/dev/vdb", "VolumeId": ref["volume"]}],
        },
    ),
    (
        "launch_config",
        "AWS::AutoScaling::LaunchConfiguration",
        lambda ref: {"InstanceId": ref["aws_instance"], "InstanceType": "m1.small"},
    ),
    # Keystone's (tests/clouds/sim/test_keystone_types.py)
    ("ks_domain", "OS::Keystone::Domain", lambda ref: {"name": "dept"}),
    ("ks_project", "OS::Keystone::Project", lambda ref: {"domain": ref["ks_domain"]}),
    ("ks_role", "OS::Keystone::Role", lambda ref: {"name": "auditor"}),
    (
        "ks_group",
        "OS::Keystone::Group",
        lambda ref: {"roles": [{"role": ref["ks_role"], "project": ref["ks_project"]}]},
    ),
    (
        "ks_user",
        "OS::Keystone::User",
        lambda ref: {
            "password": "s3cret",
            "default_project": ref["ks_project"],
            "groups": [ref["ks_group"]],
        },
    ),
    ("ks_region", "OS::Keystone::Region", lambda ref: {"id": "east 1"}),
    ("ks_service", "OS::Keystone::Service", lambda ref: {"type": "metering"}),
    (
        "ks_endpoint",
        "OS::Keystone::Endpoint",
        lambda ref: {
            "service": ref["ks_service"],
            "region": ref["ks_region"],
            "interface": "public",
            "url": "http://metering.example",
        },
    ),
    (
        "ks_user_roles",
        "OS::Keystone::UserRoleAssignment",
        lambda ref: {"user": ref["ks_user"], "roles": [{"role": "reader", "domain": "default"}]},
    ),
    (
        "ks_group_roles",
        "OS::Keystone::GroupRoleAssignment",
        lambda ref: {"group": ref["ks_group"], "roles": [{"role": "reader", "project": "demo"}]},
    ),
]
TYPE_OF = {name: kind for name, kind, _ in WORLD}


def build_world(sim: SimProvider, build_id: str = BUILD) -> dict[str, str]:
    """Create every type, as the runner would; the physical ids."""
    ids: dict[str, str] = {}
    ref: dict[str, str] = {}  # what get_resource gives: the reference, else the id
    for name, kind, properties in WORLD:
        step = ctx(name, kind, build_id)
        ids[name] = sim.create(step, properties(ref))
        ref[name] = sim.observe(step, ids[name]).reference or ids[name]
    return ids


def observe(sim: SimProvider, ids: dict[str, str], name: str) -> dict[str, Any]:
    observed = sim.observe(ctx(name, TYPE_OF[name]), ids[name])
    assert observed.ready, observed
    return dict(observed.attributes)
