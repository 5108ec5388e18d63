"""An OS::Heat::AutoScalingGroup built end to end: submitted to cool-api, built by a
real worker on the sim, shown by Heat's resource list as Heat shows a group (its
members one nested level down), its attributes read back, then deleted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cool.clouds.nested import nested_stack_id
from tests.api.heat.test_events import _finished, _stack
from tests.api.helpers import Caller
from tests.worker.helpers import running_worker

MEMBER = """\
heat_template_version: 2018-08-31
parameters:
  label: {type: string}
resources:
  port_name: {type: OS::Heat::Value, properties: {value: {get_param: label}}}
  net: {type: OS::Neutron::Net, properties: {name: {get_param: label}}}
outputs:
  first_address: {value: {get_attr: [port_name, value]}}
"""

ASG = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "asg": {
            "type": "OS::Heat::AutoScalingGroup",
            "properties": {
                "min_size": 1,
                "max_size": 4,
                "desired_capacity": 2,
                "resource": {"type": "member.yaml", "properties": {"label": "web"}},
            },
        },
        "plain": {
            "type": "OS::Heat::AutoScalingGroup",
            "properties": {"min_size": 3, "max_size": 3, "resource": {"type": "OS::Heat::None"}},
        },
    },
    "outputs": {
        "size": {"value": {"get_attr": ["asg", "current_size"]}},
        "refs": {"value": {"get_attr": ["plain", "refs"]}},
        "addresses": {"value": {"get_attr": ["asg", "outputs_list", "first_address"]}},
        "group": {"value": {"get_resource": "asg"}},
    },
}


@pytest.fixture
def worker(zk_hosts: str, tmp_path: Path) -> Iterator[None]:
    with running_worker(zk_hosts, tmp_path / "sim.sqlite"):
        yield


def _build(alice: Caller, stack_id: str) -> dict[str, Any]:
    _finished(alice, stack_id)
    build = alice.get(f"/v1/builds/{stack_id}").json["build"]
    assert build["status"] == "CREATE_COMPLETE", build
    return dict(build)


def test_autoscaling_group_builds_lists_and_deletes(alice: Caller, worker: None) -> None:
    stack_id = _stack(alice, ASG, name="asg", files={"member.yaml": MEMBER})
    build = _build(alice, stack_id)
    outputs = {name: out.get("value") for name, out in build["outputs"].items()}
    listed = alice.get(f"/v1/builds/{stack_id}/resources", params={"nested": "true"})
    resources = listed.json["resources"]
    ids = {r["name"]: r["physical_id"] for r in resources}
    assert outputs == {
        "size": 2,
        "refs": [ids[f"plain/{i}"] for i in range(3)],
        "addresses": ["web", "web"],
        "group": nested_stack_id(stack_id, "asg"),
    }

    base = f"/v1/p-one/stacks/asg/{stack_id}/resources"
    top = alice.get(base).json["resources"]
    assert sorted(r["resource_name"] for r in top) == ["asg", "plain"]
    assert {r["resource_type"] for r in top} == {"OS::Heat::AutoScalingGroup"}
    assert {r["resource_status"] for r in top} == {"CREATE_COMPLETE"}
    one = alice.get(base, params={"nested_depth": 1}).json["resources"]
    members = {r["resource_name"]: r for r in one if "parent_resource" in r}
    assert sorted(members) == ["asg/0", "asg/1", "plain/0", "plain/1", "plain/2"]
    assert members["asg/1"]["parent_resource"] == "asg"
    assert members["asg/1"]["resource_type"] == "member.yaml"
    two = alice.get(base, params={"nested_depth": 2}).json["resources"]
    deepest = sorted(r["resource_name"] for r in two if r["resource_name"].count("/") == 2)
    assert deepest == ["asg/0/net", "asg/0/port_name", "asg/1/net", "asg/1/port_name"]

    deleted = alice.delete(f"/v1/builds/{stack_id}")
    assert deleted.status_code == 202, deleted.text
    _finished(alice, stack_id)
    assert alice.get(f"/v1/builds/{stack_id}").json["build"]["status"] == "DELETE_COMPLETE"


def test_autoscaling_group_refusal_is_a_located_400(alice: Caller) -> None:
    template = {
        **ASG,
        "resources": {
            "plain": {
                "type": "OS::Heat::AutoScalingGroup",
                "properties": {
                    "min_size": 1,
                    "max_size": 3,
                    "desired_capacity": 5,
                    "resource": {"type": "OS::Heat::None"},
                },
            }
        },
        "outputs": {},
    }
    result = alice.submit(template, name="bad")
    assert result.status_code == 400, result.text
    [error] = result.json["errors"]
    assert error["source"]["pointer"] == "/resources/plain/properties/desired_capacity"
    assert "must be between min_size (1) and max_size (3)" in error["detail"]


INSTANCES = {
    "heat_template_version": "2013-05-23",
    "resources": {
        "group": {
            "type": "OS::Heat::InstanceGroup",
            "properties": {
                "LaunchConfigurationName": {"get_resource": "config"},
                "AvailabilityZones": [],
                "Size": 2,
            },
        },
        "config": {
            "type": "AWS::AutoScaling::LaunchConfiguration",
            "properties": {"ImageId": "cirros", "InstanceType": "m1.small"},
        },
    },
    "outputs": {"ips": {"value": {"get_attr": ["group", "InstanceList"]}}},
}


def test_instance_group_builds_instances_and_lists_their_addresses(
    alice: Caller, worker: None
) -> None:
    stack_id = _stack(alice, INSTANCES, name="instances")
    build = _build(alice, stack_id)
    listed = alice.get(f"/v1/builds/{stack_id}/resources", params={"nested": "true"})
    by_name = {r["name"]: r for r in listed.json["resources"]}
    assert sorted(by_name) == ["config", "group", "group/0", "group/1"]
    assert by_name["group/0"]["type"] == "AWS::EC2::Instance"
    addresses = [by_name[f"group/{i}"]["attributes"]["PublicIp"] for i in (0, 1)]
    assert all(addresses)
    assert build["outputs"]["ips"]["value"] == ",".join(addresses)
