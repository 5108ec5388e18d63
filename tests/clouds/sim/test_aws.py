"""Heat's AWS types on the SIMULATED cloud: made as the sim makes servers and security
groups, with the AWS attributes read from them as Heat reads them."""

from __future__ import annotations

from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import ctx

INSTANCE, GROUP = "AWS::EC2::Instance", "AWS::EC2::SecurityGroup"
LAUNCH = "AWS::AutoScaling::LaunchConfiguration"


def _made(sim: SimProvider, name: str, kind: str, props: dict[str, object]) -> str:
    physical_id = sim.create(ctx(name, kind), props)
    assert sim.observe(ctx(name, kind), physical_id).ready
    return physical_id


def test_an_instance_is_a_server_on_its_subnet_with_heats_attributes(sim: SimProvider) -> None:
    net = _made(sim, "net", "OS::Neutron::Net", {"name": "private"})
    subnet = _made(sim, "subnet", "OS::Neutron::Subnet", {"network": net, "cidr": "10.9.0.0/24"})
    props = {
        "ImageId": "F18",
        "InstanceType": "m1.small",
        "SubnetId": subnet,
        "Tags": [{"Key": "role", "Value": "web"}],
        "AvailabilityZone": "az1",
    }
    physical_id = _made(sim, "web", INSTANCE, props)
    attributes = dict(sim.observe(ctx("web", INSTANCE), physical_id).attributes)
    assert attributes["PrivateIp"].startswith("10.9.0.")
    assert attributes["PublicIp"] == attributes["PrivateDnsName"] == attributes["PrivateIp"]
    assert attributes["AvailabilityZone"] == "az1"
    assert attributes["metadata"] == {"role": "web"}
    assert attributes["status"] == "ACTIVE"
    assert [f.physical_id for f in sim.find(ctx("web", INSTANCE))] == [physical_id]


def test_a_group_has_heats_rules_and_a_launch_configuration_is_its_name(
    sim: SimProvider,
) -> None:
    group = _made(
        sim,
        "sg",
        GROUP,
        {
            "GroupDescription": "web",
            "SecurityGroupIngress": [
                {"IpProtocol": "icmp", "FromPort": "-1", "ToPort": "-1", "CidrIp": "0.0.0.0/0"}
            ],
        },
    )
    rules = sim.observe(ctx("sg", GROUP), group).attributes["security_group_rules"]
    assert [(r["direction"], r["protocol"], r["port_range_min"]) for r in rules] == [
        ("ingress", "icmp", None),
        ("egress", None, None),
        ("egress", None, None),
    ]
    server = _made(sim, "web", INSTANCE, {"ImageId": "F18", "InstanceType": "m1.small"})
    launch = sim.create(ctx("config", LAUNCH), {"InstanceId": server, "KeyName": "k"})
    observed = sim.observe(ctx("config", LAUNCH), launch)
    assert observed.reference == ctx("config", LAUNCH).cloud_name
    assert observed.attributes["show"]["configuration"] == {
        "InstanceId": server,
        "KeyName": "k",
        "ImageId": "F18",
        "InstanceType": "m1.small",
        "SecurityGroups": [],
    }
