"""Heat's shapes of cool's resources and events (heat/engine/api.py, format_*).

cool's statuses are Heat's ``ACTION_STATUS`` words already, except a few: a
resource not started yet is Heat's ``INIT_COMPLETE``, a retained one was
deleted as far as the stack goes (``DELETE_COMPLETE``), and a queued build has
started its CREATE. A nested resource keeps cool's path as its name
(``web/0/port``): unique in the stack and usable in a URL as it is, where
Heat's own name (``port``) would need a nested stack cool does not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cool.api.heat.stack_views import heat_status, heat_time
from cool.model import NESTED_SEPARATOR, BuildStatus, Plan, ResourceSpec, ResourceStatus
from cool.store.records import Event, ResourceRecord

STACK_TYPE = "OS::Heat::Stack"  # the resource_type of Heat's stack-level events

_RESOURCE_STATUS: Mapping[str, str] = {
    ResourceStatus.PENDING: "INIT_COMPLETE",
    ResourceStatus.RETAINED: "DELETE_COMPLETE",
}
# The reason Heat gives a stack-level event of each status (heat/engine/stack.py).
_STACK_REASONS: Mapping[str, str] = {
    "CREATE_IN_PROGRESS": "Stack CREATE started",
    "CREATE_COMPLETE": "Stack CREATE completed successfully",
    "ROLLBACK_IN_PROGRESS": "Stack ROLLBACK started",
    "ROLLBACK_COMPLETE": "Stack ROLLBACK completed successfully",
    "DELETE_IN_PROGRESS": "Stack DELETE started",
    "DELETE_COMPLETE": "Stack DELETE completed successfully",
    "UPDATE_IN_PROGRESS": "Stack UPDATE started",
    "UPDATE_COMPLETE": "Stack UPDATE completed successfully",
}


def stack_status(status: str | None) -> str | None:
    """A build status in Heat's words, as stack show gives it (stack_views.heat_status)."""
    return None if status is None else heat_status(BuildStatus(status))


def resource_status(status: str | None) -> str:
    return _RESOURCE_STATUS.get(status or "", status or "INIT_COMPLETE")


@dataclass(frozen=True, slots=True)
class HeatEvent:
    """One cool event as Heat shows it, with what sorting and filtering need."""

    number: int
    at: float
    resource_name: str
    physical_resource_id: str | None
    resource_type: str
    resource_status: str
    reason: str
    is_stack: bool

    @property
    def id(self) -> str:
        return str(self.number)

    @property
    def action(self) -> str:
        return self.resource_status.partition("_")[0]

    @property
    def status(self) -> str:
        return self.resource_status.partition("_")[2]

    @property
    def depth(self) -> int:
        return 0 if self.is_stack else self.resource_name.count(NESTED_SEPARATOR)


def heat_events(
    numbered: Sequence[tuple[int, Event]],
    *,
    stack_name: str,
    stack_id: str,
    plan: Plan,
    records: Mapping[str, tuple[ResourceRecord, int]],
) -> list[HeatEvent]:
    """cool's events as Heat's, in cool's order. A build-level event whose Heat status
    does not change (queued -> in progress, resumed, cancel or delete asked) is left
    out: Heat's stack has one event per status it reaches, and ``--wait`` needs no more."""
    types = {spec.name: spec.type for spec in plan.resources}
    out = []
    for number, event in numbered:
        if event.resource is None:
            new = stack_status(event.new)
            if new is None or (event.old is not None and stack_status(event.old) == new):
                continue
            reason = event.reason if new.endswith("_FAILED") else _STACK_REASONS.get(new, "")
            if event.new == BuildStatus.CANCEL_COMPLETE:
                reason = "Stack CREATE cancelled"
            out.append(
                HeatEvent(number, event.at, stack_name, stack_id, STACK_TYPE, new, reason, True)
            )
            continue
        record = records.get(event.resource)
        out.append(
            HeatEvent(
                number,
                event.at,
                event.resource,
                record[0].physical_id if record else None,
                types.get(event.resource, record[0].type if record else ""),
                resource_status(event.new),
                event.reason or "state changed",
                False,
            )
        )
    return out


def resource_url(stack_url: str, name: str) -> str:
    """A resource's URL: a nested one's path keeps its slashes (as heatclient quotes it)."""
    return f"{stack_url}/resources/{quote(name, safe='/')}"


def event(
    item: HeatEvent, stack_url: str, *, root_link: bool = False, detail: bool = False
) -> dict[str, Any]:
    """Heat's event summary (list) or, with ``detail``, its show form."""
    resource = resource_url(stack_url, item.resource_name)
    links = [
        {"href": f"{resource}/events/{item.id}", "rel": "self"},
        {"href": resource, "rel": "resource"},
        {"href": stack_url, "rel": "stack"},
    ]
    if root_link:  # cool's stack is its own root: heatclient then needs no recursion
        links.append({"href": stack_url, "rel": "root_stack"})
    out: dict[str, Any] = {
        "id": item.id,
        "event_time": heat_time(item.at),
        "resource_name": item.resource_name,
        "logical_resource_id": item.resource_name,
        "physical_resource_id": item.physical_resource_id,
        "resource_status": item.resource_status,
        "resource_status_reason": item.reason,
        "links": links,
    }
    if detail:
        out["resource_type"] = item.resource_type
        # Not the resolved properties: they may hold hidden parameters' values.
        out["resource_properties"] = {}
    return out


def required_by(plan: Plan) -> dict[str, list[str]]:
    """Each resource's dependents in its own (nested) stack, as Heat's required_by."""
    out: dict[str, list[str]] = {spec.name: [] for spec in plan.resources}
    for spec in plan.resources:
        for dependency in spec.depends_on:
            if dependency in out and parent_of(dependency) == spec.parent:
                out[dependency].append(spec.name)
    return out


def parent_of(name: str) -> str | None:
    head, sep, _ = name.rpartition(NESTED_SEPARATOR)
    return head if sep else None


def resource(
    spec: ResourceSpec,
    record: ResourceRecord | None,
    *,
    stack_url: str,
    created_at: float,
    required: Sequence[str],
) -> dict[str, Any]:
    """Heat's resource summary: created with the stack (as Heat stores every resource
    at stack create), updated when its record last changed."""
    status = record.status if record else ResourceStatus.PENDING
    reason = ""
    if record is not None:
        reason = record.error or "state changed"
    url = resource_url(stack_url, spec.name)
    out: dict[str, Any] = {
        "resource_name": spec.name,
        "logical_resource_id": spec.name,
        "physical_resource_id": (record.physical_id if record else None) or "",
        "resource_type": spec.type,
        "resource_status": resource_status(status),
        "resource_status_reason": reason,
        "creation_time": heat_time(created_at),
        "updated_time": heat_time((record.updated_at if record else 0) or created_at),
        "required_by": list(required),
        "links": [{"href": url, "rel": "self"}, {"href": stack_url, "rel": "stack"}],
    }
    if spec.parent is not None:
        out["parent_resource"] = spec.parent
    return out


def attributes(
    record: ResourceRecord | None, names: Sequence[str], extra: Sequence[str] = ()
) -> dict[str, Any]:
    """The type's attributes (and any asked for), as the provider last reported them."""
    reported = record.attributes if record else {}
    return {name: reported.get(name) for name in [*names, *extra]}
