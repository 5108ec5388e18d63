"""``get_attr: [resource]`` at run time: every recorded attribute but ``show``, as
Heat's FnGetAtts, never the provider's raw body (what ``show`` holds on openstack)."""

from __future__ import annotations

from pathlib import Path

from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.records import BuildMeta, ResourceRecord
from cool.worker import references
from tests.worker.helpers import open_store, running_worker, submit, wait_terminal

META = BuildMeta("01J0000000000000000000000A", "p", "u", "b", 0.0, 0.0, 60, True)


def test_every_attribute_is_the_recorded_ones_without_show() -> None:
    raw = {"id": "n-1", "admin_state_up": True, "provider:network_type": "vxlan"}
    record = ResourceRecord(
        "net",
        "OS::Neutron::Net",
        ResourceStatus.CREATE_COMPLETE,
        "n-1",
        attributes={"name": "net", "mtu": 1450, "show": raw},  # as openstack records it
    )
    records = {"net": (record, 0)}
    assert references.resolve({"get_attr": ["net"]}, META, records) == {"name": "net", "mtu": 1450}
    # A plan made before kept [net, show] for it: still the raw body.
    assert references.resolve({"get_attr": ["net", "show"]}, META, records) == raw


TEMPLATE = """\
heat_template_version: 2018-08-31
resources:
  net: {type: OS::Neutron::Net, properties: {name: front}}
  copy: {type: OS::Heat::Value, properties: {value: {get_attr: [net]}}}
outputs:
  all: {value: {get_attr: [net]}}
  copied: {value: {get_attr: [copy, value]}}
"""


def test_every_attribute_reaches_properties_and_outputs_on_the_sim(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, TEMPLATE)
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE, state.note
        recorded = store.resources(build_id)["net"][0].attributes
    expected = {key: value for key, value in recorded.items() if key != "show"}
    assert expected["name"] == "front"
    outputs = {name: out.get("value") for name, out in (state.outputs or {}).items()}
    assert outputs == {"all": expected, "copied": expected}
