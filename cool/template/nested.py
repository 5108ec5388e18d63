"""Nested stacks, flattened into the build's one plan.

A template resource (a type that names a template file, directly or through the
environment's registry), an ``OS::Heat::Stack`` and a group (``OS::Heat::ResourceGroup``,
``AutoScalingGroup``, ``InstanceGroup``: cool.template.groups) each stand for a nested
stack in Heat, a stack of its own. In cool their members
are resources of the same plan, named under the resource that stands for them
(``web/0/server``): one claim, one fenced ledger, one takeover, rollback and
delete for the whole tree (DESIGN.md). The resource itself stays in the plan, as
in Heat's resource list; it depends on its members and creates nothing
(:mod:`cool.clouds.nested`).

This module holds what the compiler needs to refer into such a tree: what a
nested stack became (:class:`Expanded`), and Heat's rules for ``get_resource``
and ``get_attr`` on it (``refs``, ``refs_map``, ``resource.N.attr``, outputs).
Attributes are worked out when the template is validated: a member's attribute
stays a run-time reference to the member itself, so nothing of a nested stack
is looked up at run time but its members' own records.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cool.model import NESTED_SEPARATOR, NestedKind, ParameterType
from cool.resources.schema import PropertyType, ResourceType
from cool.template import functions as fn
from cool.template import hot_functions as hot
from cool.template import numbers
from cool.template.budget import Budget
from cool.template.groups import AUTOSCALING_GROUP, GROUP_TYPES, INSTANCE_GROUP, RESOURCE_GROUP
from cool.template.parse import Document, Limits
from cool.template.problems import Code
from cool.template.quoting import quote
from cool.template.suggest import suggest
from cool.template.values import ANY, ATTRIBUTE_KINDS, Deferred, Unknown, materialize

STACK = "OS::Heat::Stack"
KINDS = {**dict.fromkeys(GROUP_TYPES, NestedKind.GROUP), STACK: NestedKind.STACK}
STACK_ID_OUTPUT = "OS::stack_id"  # a template resource's get_resource, when it has one
FACADE_KEYS = ("metadata", "deletion_policy", "update_policy")  # what resource_facade reads
_GROUP_ATTRIBUTES = ("refs", "refs_map", "attributes", "removed_rsrc_list")
# Heat's AutoScalingGroup.get_attribute: outputs and outputs_list need a member attribute.
_SCALING_ATTRIBUTES = ("outputs", "outputs_list", "current_size", "refs", "refs_map")
_INSTANCE_IP = "PublicIp"  # what Heat's InstanceList joins, of each member
_MEMBER_PREFIX = "resource."


class NestedReferenceError(Exception):
    """A get_attr (or get_resource) into a nested stack that cannot be answered."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Scope:
    """What every template of one request shares while it is expanded: the bounds on
    the whole tree, and the nested files parsed so far (each parsed once)."""

    limits: Limits
    files: Mapping[str, str]
    budget: Budget  # what resolving every template of the tree may produce
    total: int = 0  # resources of the plan so far, those standing for nested stacks too
    nodes: int = 0  # parsed nodes of every document, against limits.max_nodes
    documents: dict[str, Document | None] = field(default_factory=dict)
    too_many: bool = False  # the total bound was reported (once)
    environments: frozenset[str] = frozenset()  # names of the files that are environments
    # Nodes of each nested document (by id) and how often it was used: each use past
    # the first counts its nodes again (compile._Compiler.over_nodes).
    weights: dict[int, int] = field(default_factory=dict)
    uses: dict[int, int] = field(default_factory=dict)
    too_many_nodes: bool = False
    # A resize's members, by the scaling group's plan name (cool.template.scaling): the
    # group gets these names instead of 0 .. n-1.
    members: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def over_total(self) -> bool:
        return self.total > self.limits.max_total_resources


@dataclass(frozen=True, slots=True)
class Member:
    """A plain resource of a nested stack: what refers to it needs its name and type."""

    name: str  # in the plan (with its parents' names)
    rtype: ResourceType | None  # None: unsupported, already reported


@dataclass
class Expanded:
    """What a resource standing for a nested stack became."""

    kind: NestedKind
    name: str  # in the plan
    type_name: str  # as the template wrote it (a file, an alias, OS::Heat::...)
    members: dict[str, Member | Expanded] = field(default_factory=dict)  # by local name
    outputs: dict[str, Any] = field(default_factory=dict)  # template and stack: by name
    skipped: tuple[str, ...] = ()  # group: names removal_policies keep unused
    group: str | None = None  # group: which of Heat's group types (cool.template.groups)
    member_type: Member | Expanded | Unknown | None = None  # group: what members are
    complete: bool = True  # False: problems (or unknown values) left it partly made
    # Every resource under it by plan name, as the compiler makes them (depends_on in
    # plan names); itself excluded: its parent adds it.
    flat: dict[str, dict[str, Any]] = field(default_factory=dict)


# -- references into a nested stack --------------------------------------------


def reference(node: Member | Expanded | Unknown) -> Any:
    """``get_resource`` of a member or of a nested stack, as Heat answers it."""
    if isinstance(node, Unknown):
        return Unknown(PropertyType.STRING)
    if (
        isinstance(node, Expanded)
        and node.kind is NestedKind.TEMPLATE
        and STACK_ID_OUTPUT in node.outputs
    ):
        return node.outputs[STACK_ID_OUTPUT]  # Heat's TemplateResource.get_reference_id
    return Deferred({fn.GET_RESOURCE: node.name}, PropertyType.STRING)


def attribute(node: Member | Expanded | Unknown, name: str, steps: Sequence[Any]) -> Any:
    """``get_attr: [node, name, *steps]``, or :class:`NestedReferenceError`."""
    if isinstance(node, Unknown):
        return Unknown()
    if isinstance(node, Member):
        return _member_attribute(node, name, steps)
    if node.kind is NestedKind.GROUP:
        return _group_attribute(node, name, steps)
    if name.startswith(_MEMBER_PREFIX):
        return _resource_dot(node, name, steps)
    if node.kind is NestedKind.STACK:
        if name == "outputs":
            return select(dict(node.outputs), steps)
        if name == "stack_name":
            return _stack_name(node)
        raise NestedReferenceError(
            Code.UNKNOWN_ATTRIBUTE,
            f"{STACK} {quote(node.name)} has no attribute {quote(name)}"
            f"{suggest(name, ('outputs', 'stack_name'))} (attributes: outputs, stack_name, "
            "resource.<name>)",
        )
    if name in node.outputs:
        return select(node.outputs[name], steps)
    if not node.complete:
        return Unknown()  # its template had problems: reported there
    raise NestedReferenceError(
        Code.UNKNOWN_ATTRIBUTE,
        f"template resource {quote(node.name)} ({node.type_name}) has no attribute "
        f"{quote(name)}: its attributes are its template's outputs"
        f"{suggest(name, node.outputs)} (outputs: {', '.join(sorted(node.outputs)) or 'none'})",
    )


def all_attributes(node: Expanded) -> Any:
    """``get_attr: [node]``: its attributes as a mapping (a template's outputs; a group's
    own attributes; a stack's outputs and name)."""
    if not node.complete:
        return Unknown()
    if node.group == AUTOSCALING_GROUP:
        return {name: attribute(node, name, ()) for name in ("current_size", "refs", "refs_map")}
    if node.group == INSTANCE_GROUP:
        return {"InstanceList": attribute(node, "InstanceList", ())}
    if node.kind is NestedKind.GROUP:
        return {
            name: attribute(node, name, ()) for name in ("refs", "refs_map", "removed_rsrc_list")
        }
    if node.kind is NestedKind.STACK:
        return {"outputs": dict(node.outputs), "stack_name": _stack_name(node)}
    return dict(node.outputs)


def _stack_name(node: Expanded) -> Any:
    """Heat names a nested stack ``<parent stack>-<resource>-<suffix>``; cool's has no
    suffix: the build's name and the resource's path are unique in a project already."""
    name = node.name.replace(NESTED_SEPARATOR, "-")
    return Deferred(
        {fn.LIST_JOIN: ["-", [{fn.GET_PARAM: "OS::stack_name"}, name]]}, PropertyType.STRING
    )


def _member_attribute(node: Member, name: str, steps: Sequence[Any]) -> Any:
    kind: PropertyType = ANY
    rtype = node.rtype
    if rtype is not None and not rtype.free_properties:
        declared = rtype.attributes.get(name)
        if declared is None:
            raise NestedReferenceError(
                Code.UNKNOWN_ATTRIBUTE,
                f"resource {quote(node.name)} ({rtype.name}) has no attribute {quote(name)}"
                + suggest(name, rtype.attributes)
                + f" (attributes: {', '.join(sorted(rtype.attributes)) or 'none'})",
            )
        if not steps:
            kind = ATTRIBUTE_KINDS[declared.type]
    return Deferred({fn.GET_ATTR: [node.name, name, *materialize(list(steps))]}, kind)


def _member(node: Expanded, local: str) -> Member | Expanded:
    found = node.members.get(local)
    if found is None:
        what = "member" if node.kind is NestedKind.GROUP else "resource"
        raise NestedReferenceError(
            Code.UNKNOWN_ATTRIBUTE,
            f"{quote(node.name)} ({node.type_name}) has no {what} {quote(local)}"
            + suggest(local, node.members)
            + (f" (members: {_names(node.members)})" if node.members else " (it has none)"),
        )
    return found


def _resource_dot(node: Expanded, name: str, steps: Sequence[Any]) -> Any:
    """``resource.<member>`` (its reference) and ``resource.<member>.<attribute>``; a
    path after ``resource.<member>`` names the attribute, as in Heat's get_nested_attrs
    (``[g, resource.0, ip]`` is ``[g, resource.0.ip]``)."""
    parts = [*name.split(".", 2)[1:], *steps]
    if node.group == AUTOSCALING_GROUP and parts[0] not in node.members:
        parts[0] = _by_position(node, parts[0])
    member = _member(node, parts[0]) if node.complete or parts[0] in node.members else None
    if member is None:
        return Unknown()
    if len(parts) == 1:
        return reference(member)
    if not isinstance(parts[1], str):
        raise NestedReferenceError(
            Code.INVALID_PATH,
            f"the attribute of {quote(parts[0])} after {quote(name)} must be a name known "
            "before the build runs",
        )
    return attribute(member, parts[1], parts[2:])


def _by_position(node: Expanded, index: str) -> str:
    """Heat's AutoScalingGroup takes ``resource.<n>`` by position, ``-1`` the last."""
    names = list(node.members)
    try:
        position = int(index)
    except ValueError:
        return index
    return names[position] if -len(names) <= position < len(names) else index


def _group_attribute(node: Expanded, name: str, steps: Sequence[Any]) -> Any:
    members = list(node.members.items())
    if not node.complete:
        return Unknown()
    if node.group == AUTOSCALING_GROUP:
        return _scaling_attribute(node, name, steps)
    if node.group == INSTANCE_GROUP:
        return _instance_group_attribute(node, name, steps)
    if name == "removed_rsrc_list":
        return select(list(node.skipped), steps)
    if name.startswith(_MEMBER_PREFIX):
        return _resource_dot(node, name, steps)
    if name == "refs":
        return select([reference(m) for _, m in members], steps)
    if name == "refs_map":
        return select({n: reference(m) for n, m in members}, steps)
    if name == "attributes":
        if not steps:
            raise NestedReferenceError(
                Code.INVALID_PATH,
                f"attribute 'attributes' of {RESOURCE_GROUP} {quote(node.name)} needs a path: "
                "the member attribute to map each member's name to",
            )
        attr, rest = steps[0], steps[1:]
        if not isinstance(attr, str):
            raise NestedReferenceError(Code.INVALID_PATH, "the member attribute must be a name")
        _check_member_attribute(node, attr)
        return {n: attribute(m, attr, rest) for n, m in members}
    _check_member_attribute(node, name)
    return [attribute(m, name, steps) for _, m in members]


def _scaling_attribute(node: Expanded, name: str, steps: Sequence[Any]) -> Any:
    """Heat's AutoScalingGroup attributes; unlike ResourceGroup's, a member attribute is
    read only through outputs, outputs_list or resource.<index>.<attribute>."""
    members = list(node.members.items())
    if name == "current_size":
        return select(len(members), steps)
    if name == "refs":
        return select([reference(m) for _, m in members], steps)
    if name == "refs_map":
        return select({n: reference(m) for n, m in members}, steps)
    if name.startswith(_MEMBER_PREFIX):
        return _resource_dot(node, name, steps)
    if name in ("outputs", "outputs_list"):
        if not steps or not isinstance(steps[0], str):
            raise NestedReferenceError(
                Code.INVALID_PATH,
                f"attribute {quote(name)} of {AUTOSCALING_GROUP} {quote(node.name)} needs a "
                "path: the name of the member attribute to read from each member",
            )
        attr, rest = steps[0], steps[1:]
        _check_member_attribute(node, attr)
        if name == "outputs":
            return {n: attribute(m, attr, rest) for n, m in members}
        return [attribute(m, attr, rest) for _, m in members]
    raise NestedReferenceError(
        Code.UNKNOWN_ATTRIBUTE,
        f"{AUTOSCALING_GROUP} {quote(node.name)} has no attribute {quote(name)}"
        f"{suggest(name, _SCALING_ATTRIBUTES)} (attributes: {', '.join(_SCALING_ATTRIBUTES)}, "
        "resource.<index>[.<attribute>]; a member attribute is read with "
        "outputs or outputs_list and its name)",
    )


def _instance_group_attribute(node: Expanded, name: str, steps: Sequence[Any]) -> Any:
    """InstanceList: the members' PublicIp joined with commas (None with no member), as
    Heat's InstanceGroup gives it."""
    if name != "InstanceList":
        raise NestedReferenceError(
            Code.UNKNOWN_ATTRIBUTE,
            f"{INSTANCE_GROUP} {quote(node.name)} has no attribute {quote(name)}"
            f"{suggest(name, ('InstanceList',))} (attributes: InstanceList)",
        )
    _check_member_attribute(node, _INSTANCE_IP)
    addresses = [attribute(m, _INSTANCE_IP, ()) for _, m in node.members.items()]
    if not addresses:
        return select(None, steps)
    joined = Deferred({fn.LIST_JOIN: [",", materialize(addresses)]}, PropertyType.STRING)
    return select(joined, steps)


def _check_member_attribute(node: Expanded, name: str) -> None:
    """An attribute of every member: checked on the member type even when count is 0."""
    sample = node.member_type
    if sample is None or isinstance(sample, Unknown):
        return
    try:
        attribute(sample, name, ())
    except NestedReferenceError as exc:
        if node.group in (AUTOSCALING_GROUP, INSTANCE_GROUP):
            raise NestedReferenceError(
                exc.code, f"the members of {node.group} {quote(node.name)}: {exc.message}"
            ) from None
        raise NestedReferenceError(
            exc.code,
            f"{RESOURCE_GROUP} {quote(node.name)}: {exc.message} (the group's attributes: "
            f"{', '.join(_GROUP_ATTRIBUTES)}, resource.<index>[.<attribute>], or an attribute "
            "of its members)",
        ) from None


def _names(members: Mapping[str, Any]) -> str:
    shown = list(itertools.islice(members, 10))
    more = len(members) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def select(value: Any, steps: Sequence[Any]) -> Any:
    """Heat's select_from_attribute: follow ``steps`` into ``value``; a key or index
    that is not there gives None. A run-time attribute takes the rest of the path
    into its own get_attr."""
    for position, step in enumerate(steps):
        if isinstance(value, Unknown):
            return Unknown()
        if isinstance(value, Deferred):
            expr = value.expr
            if fn.GET_ATTR in expr and len(expr) == 1:
                rest = materialize(list(steps[position:]))
                return Deferred({fn.GET_ATTR: [*expr[fn.GET_ATTR], *rest]})
            if isinstance(step, Deferred | Unknown):
                raise NestedReferenceError(
                    Code.INVALID_PATH,
                    "a path into a nested stack must be known before the build runs",
                )
            # A key or index of a value made at run time (a list's item, an output's
            # map_merge of attributes): selected when the build runs, '' where nothing
            # is (Fn::Select, as get_param gives; Heat's select_from_attribute: null).
            index = _index(step)
            key = index if value.kind is PropertyType.LIST and index is not None else step
            value = Deferred({hot.FN_SELECT: [key, expr]})
            continue
        if isinstance(step, Deferred | Unknown):
            raise NestedReferenceError(
                Code.INVALID_PATH, "a path into a nested stack must be known before the build runs"
            )
        if isinstance(value, dict):
            value = value.get(step) if isinstance(step, str) else None
        elif isinstance(value, list) and isinstance(step, int) and not isinstance(step, bool):
            value = value[step] if -len(value) <= step < len(value) else None
        else:
            return None
    return value


def _index(step: Any) -> int | None:
    if isinstance(step, int) and not isinstance(step, bool):
        return step
    return numbers.index(step) if isinstance(step, str) else None


def parameter_value(kind: ParameterType, value: Any) -> Any:
    """A value known only at run time, given by a parent to a nested template's
    parameter, in the parameter's type where cool can make it so: Heat joins a list
    property with commas and parses the child's comma_delimited_list back from that
    text, so a string becomes its comma-separated items (a list stays a list). Other
    types are passed as they come (docs/templates.md)."""
    if (
        kind is ParameterType.COMMA_DELIMITED_LIST
        and isinstance(value, Deferred)
        and value.kind is PropertyType.STRING
    ):
        return Deferred({hot.STR_SPLIT: [",", value.expr]}, PropertyType.LIST)
    if (
        kind is ParameterType.COMMA_DELIMITED_LIST
        and isinstance(value, Unknown)
        and value.kind is PropertyType.STRING
    ):
        return Unknown(PropertyType.LIST)  # not known yet (validated without values): a list
    return value


# -- groups ---------------------------------------------------------------------


def replace_index(value: Any, variable: str, index: str) -> Any:
    """Heat's _handle_repl_val: ``variable`` replaced by the member's name in every
    string of its definition (mapping keys excepted), run-time expressions included."""
    if isinstance(value, str):
        return value.replace(variable, index)
    if isinstance(value, dict):
        return {k: replace_index(v, variable, index) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_index(v, variable, index) for v in value]
    if isinstance(value, Deferred):
        return Deferred(replace_index(value.expr, variable, index), value.kind)
    return value


def descendants(node: Expanded) -> Iterator[str]:
    """The plan names of every resource under ``node``, depth first."""
    for member in node.members.values():
        yield member.name
        if isinstance(member, Expanded):
            yield from descendants(member)
