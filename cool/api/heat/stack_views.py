"""A build as Heat formats a stack (heat/engine/api.py format_stack and
format_stack_db_object, heat/api/openstack/v1/views/stacks_view.py).

Strict clients decide the types: gophercloud unmarshals ``parameters`` into a
map of strings and the times as RFC 3339 (Heat's ``2014-06-03T20:59:46Z``), and
heatclient splits ``stack_status`` at its first ``_`` into action and status.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import falcon

from cool.api.heat.paths import stack_url
from cool.model import BuildStatus, ParameterType, Plan
from cool.store.records import MASK, BuildMeta, BuildState

# cool's statuses Heat has no word for, as Heat's nearest: a queued build is being
# created; a cancelled create is Heat's "Stack CREATE cancelled", a CREATE_FAILED.
_STATUS = {
    BuildStatus.CREATE_QUEUED: "CREATE_IN_PROGRESS",
    BuildStatus.CANCEL_COMPLETE: "CREATE_FAILED",
}
# Heat's own reasons for a stack's settled states (heat/engine/stack.py).
_REASONS = {
    BuildStatus.CREATE_COMPLETE: "Stack CREATE completed successfully",
    BuildStatus.DELETE_COMPLETE: "Stack DELETE completed successfully",
    BuildStatus.ROLLBACK_COMPLETE: "Stack ROLLBACK completed successfully",
    BuildStatus.CANCEL_COMPLETE: "Stack CREATE cancelled",
    BuildStatus.UPDATE_COMPLETE: "Stack UPDATE completed successfully",
}


def heat_time(ts: float | None) -> str | None:
    """Heat's timestamp form (heat/common/timeutils.py isotime), or None."""
    if not ts:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def heat_status(status: BuildStatus) -> str:
    return _STATUS.get(status, str(status))


def status_reason(state: BuildState) -> str:
    """cool's reason in Heat's words; a failure's note says what failed and why,
    as Heat's "Resource CREATE failed: <type>: resources.<name>: <error>"."""
    note = state.note or {}
    error = note.get("error")
    if error:
        action = str(note.get("action") or "create").upper()
        resource, kind = note.get("resource"), note.get("type")
        if resource:
            return f"Resource {action} failed: {kind or 'resource'}: resources.{resource}: {error}"
        return f"Stack {action} failed: {error}"
    if state.reason and state.status not in _REASONS:
        return state.reason
    return _REASONS.get(state.status, state.reason)


def links(req: falcon.Request, project_id: str, name: str, stack_id: str) -> list[dict[str, str]]:
    return [{"href": stack_url(req, project_id, name, stack_id), "rel": "self"}]


def summary(
    req: falcon.Request, meta: BuildMeta, state: BuildState, *, with_project: bool = False
) -> dict[str, Any]:
    """A stack in a list (Heat's format_stack_db_object: its description is empty)."""
    out: dict[str, Any] = {
        "id": meta.build_id,
        "links": links(req, meta.project_id, meta.name, meta.build_id),
        "stack_name": meta.name,
        "description": "",
        "stack_status": heat_status(state.status),
        "stack_status_reason": status_reason(state),
        "creation_time": heat_time(meta.created_at),
        # Heat's is set by an update only: here, a scaling policy's resize.
        "updated_time": heat_time(state.updated_at) if state.plan_version else None,
        "deletion_time": _deletion_time(state),
        "stack_owner": meta.user_id or None,
        "parent": None,
        "stack_user_project_id": meta.project_id,
        "tags": list(meta.tags) or None,
    }
    if with_project:
        out["project"] = meta.project_id
    return out


def _deletion_time(state: BuildState) -> str | None:
    return heat_time(state.updated_at) if state.status is BuildStatus.DELETE_COMPLETE else None


def parameter_text(kind: ParameterType, value: Any) -> str:
    """A parameter's value as Heat shows it (``Parameter.__str__``)."""
    if kind is ParameterType.COMMA_DELIMITED_LIST and isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if kind is ParameterType.JSON:
        return json.dumps(value)
    return str(value)


def parameters(plan: Plan, meta: BuildMeta) -> dict[str, str]:
    """Every parameter's value as a string, hidden ones masked, and Heat's pseudo
    parameters."""
    out = {
        p.name: MASK if p.hidden else parameter_text(p.type, p.value)
        for p in plan.parameters
        if not p.name.startswith("OS::")
    }
    out["OS::project_id"] = meta.project_id
    out["OS::stack_id"] = meta.build_id
    out["OS::stack_name"] = meta.name
    return out


def outputs(plan: Plan, state: BuildState) -> list[dict[str, Any]]:
    """Every output, its value resolved (None until the build has them), or its error."""
    resolved = state.outputs or {}
    out = []
    for spec in plan.outputs:
        entry = resolved.get(spec.name) or {}
        item: dict[str, Any] = {
            "output_key": spec.name,
            "description": entry.get("description", spec.description) or "",
            "output_value": entry.get("value"),
        }
        if "error" in entry:
            item["output_error"] = entry["error"]
        out.append(item)
    return out


def stack(
    req: falcon.Request,
    meta: BuildMeta,
    plan: Plan,
    state: BuildState,
    *,
    resolve_outputs: bool = True,
) -> dict[str, Any]:
    """A stack shown (Heat's format_stack)."""
    out = summary(req, meta, state)
    out.update(
        {
            "description": plan.description,
            "template_description": plan.description,
            "parameters": parameters(plan, meta),
            "disable_rollback": not meta.rollback,
            "timeout_mins": meta.timeout_mins,
            "capabilities": [],
            "notification_topics": [],
        }
    )
    if resolve_outputs and state.status is not BuildStatus.DELETE_COMPLETE:
        out["outputs"] = outputs(plan, state)
    return out
