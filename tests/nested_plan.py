"""A plan with nested stacks, built by hand (as the compiler flattens a ResourceGroup of
template members: cool.model.NestedKind), for the tests of the run-time side."""

from __future__ import annotations

from typing import Any

from cool.model import DeletionPolicy, NestedKind, OutputSpec, Plan, ResourceSpec


def _spec(
    name: str,
    resource_type: str,
    level: int,
    depends_on: tuple[str, ...] = (),
    properties: dict[str, Any] | None = None,
    nested: NestedKind | None = None,
) -> ResourceSpec:
    return ResourceSpec(
        name, resource_type, properties or {}, depends_on, level, DeletionPolicy.DELETE, {}, nested
    )


def group_plan(members: int = 2) -> Plan:
    """A ResourceGroup ``web`` of ``members`` template members, each holding an
    OS::Heat::Value and a sim OS::Neutron::Net, and a top-level ``after`` that refers
    to the group (``get_resource``: the nested stack's id, as in Heat)."""
    resources: list[ResourceSpec] = []
    for index in range(members):
        member = f"web/{index}"
        resources.append(_spec(f"{member}/net", "OS::Neutron::Net", 0))
        resources.append(_spec(f"{member}/value", "OS::Heat::Value", 0, (), {"value": index}))
    names = [f"web/{index}" for index in range(members)]
    for member in names:
        inner = (f"{member}/net", f"{member}/value")
        resources.append(_spec(member, "member.yaml", 1, inner, None, NestedKind.TEMPLATE))
    group = {"count": members}
    resources.append(
        _spec("web", "OS::Heat::ResourceGroup", 2, tuple(names), group, NestedKind.GROUP)
    )
    resources.append(
        _spec("after", "OS::Heat::Value", 3, ("web",), {"value": {"get_resource": "web"}})
    )
    resources.sort(key=lambda r: (r.level, r.name))
    return Plan(
        template_version="2021-04-16",
        description="a group of two template members",
        parameters=(),
        resources=tuple(resources),
        outputs=(
            OutputSpec("group", {"get_resource": "web"}),
            OutputSpec("first_net", {"get_resource": "web/0/net"}),
            OutputSpec("second_value", {"get_attr": ["web/1/value", "value"]}),
        ),
    )


def nested_names(members: int = 2) -> list[str]:
    """Every resource name of :func:`group_plan`, sorted."""
    return sorted(r.name for r in group_plan(members).resources)
