"""The nouns of cool, frozen: the plan a template compiles to.

A plan is written once (into the build's ZooKeeper directory) and never
changes; it is JSON-serialisable, and serialising is deterministic so that
the same template and parameters give byte-identical JSON.

Property values inside a plan are JSON data in which run-time references are
kept as HOT expressions (``{"get_attr": [...]}``, ``{"get_resource": ...}``,
and ``str_replace``/``list_join`` over them); everything knowable before the
build runs (parameters, functions of parameters) is already resolved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PLAN_FORMAT = 1


class ParameterType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"
    COMMA_DELIMITED_LIST = "comma_delimited_list"


# Joins a nested stack's resource names to their parent's: ``web_group/0/server``.
# Never part of a template's own resource names (cool.template.compile.RESOURCE_NAME).
NESTED_SEPARATOR = "/"
# A nested name, its parents' names included, fits this (so that a cloud's name for it,
# cool-<26-character build id>-<name>, stays within the 255 every API takes) and this
# many parts.
MAX_NESTED_NAME = 255 - len("cool-") - 26 - len("-")  # 223
MAX_NESTED_PARTS = 16


class NestedKind(StrEnum):
    """What made a nested stack (stored in plans: never renamed)."""

    TEMPLATE = "template"  # a template resource: a type that names a template file
    STACK = "stack"  # OS::Heat::Stack with an inline template
    GROUP = "group"  # OS::Heat::ResourceGroup: one member per index


class DeletionPolicy(StrEnum):
    DELETE = "Delete"
    RETAIN = "Retain"


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """A parameter as the template declares it (what a caller must supply)."""

    name: str
    type: ParameterType
    description: str = ""
    label: str = ""
    default: Any = None
    has_default: bool = False
    hidden: bool = False
    constraints: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": str(self.type),
            "description": self.description,
            "label": self.label,
            "hidden": self.hidden,
            "required": not self.has_default,
            "constraints": list(self.constraints),
        }
        if self.has_default:
            out["default"] = "******" if self.hidden else self.default
        return out


@dataclass(frozen=True, slots=True)
class ParameterValue:
    """The value a build runs with, after coercion and constraint checks."""

    name: str
    type: ParameterType
    value: Any
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """One resource of a plan.

    ``depends_on`` is the full set (explicit ``depends_on`` plus every
    ``get_resource``/``get_attr`` reference), sorted; ``level`` is 0 for a
    resource with no dependencies, else one more than its deepest dependency.
    """

    name: str
    type: str
    properties: dict[str, Any]
    depends_on: tuple[str, ...]
    level: int
    deletion_policy: DeletionPolicy = DeletionPolicy.DELETE
    metadata: dict[str, Any] = field(default_factory=dict)
    # Set on the resource that stands for a nested stack (a template resource, an
    # OS::Heat::Stack, an OS::Heat::ResourceGroup): its members are resources of the
    # same plan, named under it (``group/0/server``), and it depends on every one of
    # them. Its own step creates nothing (cool.clouds.nested).
    nested: NestedKind | None = None
    # The template's update_policy, checked against the type's (kept for updates).
    update_policy: dict[str, Any] = field(default_factory=dict)
    # The id of an existing cloud resource that stands for this one (HOT external_id):
    # its step creates nothing, it observes this id. As in Heat (rsrc_defn), the plan
    # also says deletion_policy Retain, and the worker never deletes it, whatever a
    # teardown honours: the id alone decides, so no plan can make it deletable.
    external_id: str | None = None

    @property
    def parent(self) -> str | None:
        """The resource whose nested stack holds this one (None: the template's own)."""
        head, sep, _ = self.name.rpartition(NESTED_SEPARATOR)
        return head if sep else None


SCALING_POLICY = "OS::Heat::ScalingPolicy"


@dataclass(frozen=True, slots=True)
class OutputSpec:
    name: str
    value: Any
    description: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    template_version: str
    description: str
    parameters: tuple[ParameterValue, ...]
    resources: tuple[ResourceSpec, ...]  # topological order: by level, then name
    outputs: tuple[OutputSpec, ...]
    # A resized group's members being removed (cool.template.scaling): still in the plan,
    # so that their teardown (and the build's delete) knows their order, never created.
    retiring: tuple[str, ...] = ()

    @property
    def levels(self) -> tuple[tuple[str, ...], ...]:
        """Resource names grouped by dependency level: each group can run in parallel."""
        groups: list[list[str]] = []
        for resource in self.resources:
            while len(groups) <= resource.level:
                groups.append([])
            groups[resource.level].append(resource.name)
        return tuple(tuple(g) for g in groups)

    @property
    def scales(self) -> bool:
        """Whether a scaling policy may resize it: only such a build has later plans."""
        return any(r.type == SCALING_POLICY for r in self.resources)

    def shows(self, name: str, status: str | None) -> bool:
        """Whether a resource is listed, with its record's ``status``: a resized group's
        removed member, once torn down, is not (as in Heat, whose resize deletes it)."""
        return name not in self.retiring or status not in (
            None,
            "DELETE_COMPLETE",
            "RETAINED",
        )

    def resource(self, name: str) -> ResourceSpec:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "template_version": self.template_version,
            "description": self.description,
            "parameters": [
                {"name": p.name, "type": str(p.type), "value": p.value, "hidden": p.hidden}
                for p in self.parameters
            ],
            "resources": [
                {
                    "name": r.name,
                    "type": r.type,
                    "properties": r.properties,
                    "depends_on": list(r.depends_on),
                    "level": r.level,
                    "deletion_policy": str(r.deletion_policy),
                    "metadata": r.metadata,
                    # Only where set: plans without nested stacks keep their bytes.
                    **({"nested": str(r.nested)} if r.nested else {}),
                    **({"update_policy": r.update_policy} if r.update_policy else {}),
                    **({"external_id": r.external_id} if r.external_id is not None else {}),
                }
                for r in self.resources
            ],
            "outputs": [
                {"name": o.name, "value": o.value, "description": o.description}
                for o in self.outputs
            ],
            **({"retiring": list(self.retiring)} if self.retiring else {}),
        }

    def to_json(self) -> str:
        """Canonical JSON: same plan, same bytes."""
        return json.dumps(
            self.to_dict(),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        if data.get("format") != PLAN_FORMAT:
            raise ValueError(f"unknown plan format {data.get('format')!r}")
        return cls(
            template_version=data["template_version"],
            description=data["description"],
            parameters=tuple(
                ParameterValue(p["name"], ParameterType(p["type"]), p["value"], p["hidden"])
                for p in data["parameters"]
            ),
            resources=tuple(
                ResourceSpec(
                    name=r["name"],
                    type=r["type"],
                    properties=r["properties"],
                    depends_on=tuple(r["depends_on"]),
                    level=r["level"],
                    deletion_policy=DeletionPolicy(r["deletion_policy"]),
                    metadata=r["metadata"],
                    nested=NestedKind(r["nested"]) if r.get("nested") else None,
                    update_policy=r.get("update_policy") or {},
                    external_id=r.get("external_id"),
                )
                for r in data["resources"]
            ),
            outputs=tuple(
                OutputSpec(o["name"], o["value"], o["description"]) for o in data["outputs"]
            ),
            retiring=tuple(data.get("retiring") or ()),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Plan:
        return cls.from_dict(json.loads(text))


class BuildStatus(StrEnum):
    """A build's status, in Heat's ACTION_STATUS words."""

    CREATE_QUEUED = "CREATE_QUEUED"
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    CREATE_FAILED = "CREATE_FAILED"
    ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
    ROLLBACK_COMPLETE = "ROLLBACK_COMPLETE"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"
    CANCEL_COMPLETE = "CANCEL_COMPLETE"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    DELETE_FAILED = "DELETE_FAILED"
    # A complete build changed: a scaling policy resized one of its groups.
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_FAILED = "UPDATE_FAILED"

    @property
    def is_terminal(self) -> bool:
        """No worker has anything left to do (until a delete is asked for)."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        BuildStatus.CREATE_COMPLETE,
        BuildStatus.CREATE_FAILED,
        BuildStatus.ROLLBACK_COMPLETE,
        BuildStatus.ROLLBACK_FAILED,
        BuildStatus.CANCEL_COMPLETE,
        BuildStatus.DELETE_COMPLETE,
        BuildStatus.DELETE_FAILED,
        BuildStatus.UPDATE_COMPLETE,
        BuildStatus.UPDATE_FAILED,
    }
)

# Every allowed change of a build's status, checked in one place. CREATE_FAILED
# is terminal when rollback is off; with rollback on, the worker moves on to
# ROLLBACK_IN_PROGRESS in the same step loop.
BUILD_TRANSITIONS: dict[BuildStatus, frozenset[BuildStatus]] = {
    BuildStatus.CREATE_QUEUED: frozenset(
        {
            BuildStatus.CREATE_IN_PROGRESS,
            BuildStatus.CREATE_FAILED,
            BuildStatus.CANCEL_COMPLETE,
            BuildStatus.DELETE_IN_PROGRESS,
        }
    ),
    BuildStatus.CREATE_IN_PROGRESS: frozenset(
        {
            BuildStatus.CREATE_COMPLETE,
            BuildStatus.CREATE_FAILED,
            BuildStatus.ROLLBACK_IN_PROGRESS,
            BuildStatus.CANCEL_COMPLETE,
            BuildStatus.DELETE_IN_PROGRESS,
        }
    ),
    BuildStatus.CREATE_FAILED: frozenset(
        {BuildStatus.ROLLBACK_IN_PROGRESS, BuildStatus.DELETE_IN_PROGRESS}
    ),
    BuildStatus.ROLLBACK_IN_PROGRESS: frozenset(
        {
            BuildStatus.ROLLBACK_COMPLETE,
            BuildStatus.ROLLBACK_FAILED,
            BuildStatus.CANCEL_COMPLETE,
            BuildStatus.DELETE_IN_PROGRESS,
        }
    ),
    BuildStatus.CREATE_COMPLETE: frozenset(
        {BuildStatus.UPDATE_IN_PROGRESS, BuildStatus.DELETE_IN_PROGRESS}
    ),
    # An update is not rolled back (a resize that fails leaves the group as it stands,
    # as Heat's does) and not cancelled: a delete is what stops it.
    BuildStatus.UPDATE_IN_PROGRESS: frozenset(
        {
            BuildStatus.UPDATE_COMPLETE,
            BuildStatus.UPDATE_FAILED,
            BuildStatus.DELETE_IN_PROGRESS,
        }
    ),
    BuildStatus.UPDATE_COMPLETE: frozenset(
        {BuildStatus.UPDATE_IN_PROGRESS, BuildStatus.DELETE_IN_PROGRESS}
    ),
    BuildStatus.UPDATE_FAILED: frozenset({BuildStatus.DELETE_IN_PROGRESS}),
    BuildStatus.ROLLBACK_COMPLETE: frozenset({BuildStatus.DELETE_IN_PROGRESS}),
    BuildStatus.ROLLBACK_FAILED: frozenset({BuildStatus.DELETE_IN_PROGRESS}),
    BuildStatus.CANCEL_COMPLETE: frozenset({BuildStatus.DELETE_IN_PROGRESS}),
    BuildStatus.DELETE_IN_PROGRESS: frozenset(
        {BuildStatus.DELETE_COMPLETE, BuildStatus.DELETE_FAILED}
    ),
    BuildStatus.DELETE_FAILED: frozenset({BuildStatus.DELETE_IN_PROGRESS}),
    BuildStatus.DELETE_COMPLETE: frozenset(),
}


def check_transition(old: BuildStatus, new: BuildStatus) -> None:
    if new not in BUILD_TRANSITIONS[old]:
        raise ValueError(f"a build cannot go from {old} to {new}")


class ControlRequest(StrEnum):
    """A request to a build from outside, by its key in the build's ``control`` node.

    The values are stored (the node is ``{"cancel": {...}, "delete": {...}}``):
    never renamed.
    """

    CANCEL = "cancel"  # stop creating; roll back if the build asked for rollback
    DELETE = "delete"  # tear down what was built, whatever the build's state


class ResourceStatus(StrEnum):
    """One resource's recorded step (DESIGN.md section 5)."""

    PENDING = "PENDING"
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"  # intent recorded; outcome unknown until an id
    CREATE_COMPLETE = "CREATE_COMPLETE"
    CREATE_FAILED = "CREATE_FAILED"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    DELETE_FAILED = "DELETE_FAILED"
    RETAINED = "RETAINED"  # deletion_policy Retain: left in the cloud on delete
