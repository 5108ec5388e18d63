"""A plan with nested stacks on real workers and the sim: built, taken over, deleted."""

from __future__ import annotations

from pathlib import Path

from cool.clouds.nested import nested_stack_id
from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.control import Requests
from tests.nested_plan import group_plan, nested_names
from tests.worker.helpers import (
    event_lines,
    open_store,
    running_worker,
    statuses,
    submit,
    wait_terminal,
)
from tests.zk import assert_eventually, expire_session

NESTED = ["web", "web/0", "web/1"]
NETS = ["web/0/net", "web/1/net"]


def _submit(store: BuildStore) -> str:
    return store.submit(group_plan(), project_id="p1", user_id="u1").build_id


def _check_built(store: BuildStore, build_id: str, db: Path) -> None:
    recorded = store.resources(build_id)
    assert sorted(recorded) == nested_names()
    assert {name: str(rec.status) for name, (rec, _) in recorded.items()} == dict.fromkeys(
        nested_names(), "CREATE_COMPLETE"
    )
    for name in NESTED:  # Heat's nested stack id: a UUID, the same for every worker
        assert recorded[name][0].physical_id == nested_stack_id(build_id, name)
    with SimProvider(db) as sim:
        live = sim.live_resources(build_id)
        assert sim.duplicates(build_id) == []
        assert sim.leaks({(build_id, name) for name in NETS}, build_ids=[build_id]) == []
    assert sorted(r.resource_name for r in live) == NETS  # a nested stack has no cloud row
    assert {r.name for r in live} == {f"cool-{build_id.lower()}-web.{i}.net" for i in (0, 1)}


def test_nested_plan_builds_and_deletes_leaving_nothing(zk_hosts: str, tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = _submit(store)
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE, state.note
        _check_built(store, build_id, db)
        group_id = nested_stack_id(build_id, "web")
        assert store.resources(build_id)["after"][0].attributes == {"value": group_id}
        outputs = {name: out.get("value") for name, out in (state.outputs or {}).items()}
        net = store.resources(build_id)["web/0/net"][0].physical_id
        assert outputs == {"group": group_id, "first_net": net, "second_value": 1}

        Requests(store).delete(build_id)
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.DELETE_COMPLETE, state.note
        assert statuses(store, build_id) == dict.fromkeys(nested_names(), "DELETE_COMPLETE")
        deleted = [r for r, _, new in event_lines(store, build_id) if new == "DELETE_COMPLETE"]
    # A nested stack goes before its members, a member before its resources.
    assert deleted.index("web") < deleted.index("web/0") < deleted.index("web/0/net")
    with SimProvider(db) as sim:
        assert sim.live_resources(build_id) == []


def test_nested_plan_is_taken_over_mid_build_with_no_duplicate(
    zk_hosts: str, tmp_path: Path
) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store:
        with running_worker(zk_hosts, db, worker_id="old", latency_s=1.5) as old:
            build_id = _submit(store)
            assert_eventually(
                lambda: any(
                    (entry := store.resources(build_id).get(name)) is not None
                    and entry[0].physical_id is not None
                    for name in NETS
                ),
                timeout_s=20,
                message="a member's network is being created",
            )
            assert store.resources(build_id).get("web") is None  # mid-build
            old.drain()  # so that only the other worker may claim the build again
            expire_session(old.session.client)
            with running_worker(zk_hosts, db, worker_id="new", latency_s=0.1):
                state = wait_terminal(store, build_id, timeout_s=30)
        assert state.status is BuildStatus.CREATE_COMPLETE, state.note
        assert store.lease_data(build_id)[0]["worker_id"] == "new"
        _check_built(store, build_id, db)


COMPILED_GROUP = """
heat_template_version: 2021-04-16
resources:
  nets:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: OS::Neutron::Net
        properties: {name: net-%index%}
outputs:
  refs: {value: {get_attr: [nets, refs]}}
  group: {value: {get_resource: nets}}
"""


def test_compiled_resource_group_builds_and_deletes_on_the_sim(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The compiler's plan, not a hand-built one: what the run-time side must agree on."""
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, COMPILED_GROUP)
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE, state.note
        recorded = store.resources(build_id)
        with SimProvider(db) as sim:
            live = {r.resource_name: r for r in sim.live_resources(build_id)}
        members = sorted(name for name in recorded if name.startswith("nets/"))
        assert sorted(live) == members  # one sim row per member, none for the group
        assert {r.name for r in live.values()} == {"net-0", "net-1"}
        outputs = {name: out.get("value") for name, out in (state.outputs or {}).items()}
        assert outputs["group"] == nested_stack_id(build_id, "nets")
        assert sorted(outputs["refs"]) == sorted(r.physical_id for r in live.values())
        Requests(store).delete(build_id)
        assert wait_terminal(store, build_id).status is BuildStatus.DELETE_COMPLETE
    with SimProvider(db) as sim:
        assert sim.live_resources(build_id) == []


CONFIGS = """
heat_template_version: 2021-04-16
resources:
  script:
    type: OS::Heat::SoftwareConfig
    properties: {group: ungrouped, config: "#!/bin/sh\\necho hi\\n"}
  cloud:
    type: OS::Heat::CloudConfig
    properties: {cloud_config: {packages: [nginx]}}
  boot:
    type: OS::Heat::MultipartMime
    properties:
      parts:
        - {config: {get_resource: cloud}}
        - {config: {get_resource: script}, subtype: x-shellscript}
  net: {type: OS::Neutron::Net}
  server:
    type: OS::Nova::Server
    properties:
      image: cirros
      flavor: m1.tiny
      networks: [{network: {get_resource: net}}]
      user_data_format: RAW
      user_data: {get_resource: boot}
outputs:
  boot: {value: {get_attr: [boot, config]}}
"""


def test_configuration_types_feed_a_servers_user_data_as_in_heat(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """get_resource of a configuration is its text: what Heat's server loads from the
    config id (user_data_format RAW) and a MultipartMime part loads likewise."""
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, CONFIGS)
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE, state.note
        with SimProvider(db) as sim:
            server = {r.resource_name: r for r in sim.live_resources(build_id)}["server"]
    user_data = server.properties["user_data"]
    assert user_data == (state.outputs or {})["boot"]["value"]
    import email

    parts = email.message_from_string(user_data).get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/x-shellscript"]
    assert parts[0].get_payload().startswith("#cloud-config\npackages:")
    assert parts[1].get_payload() == "#!/bin/sh\necho hi\n"
