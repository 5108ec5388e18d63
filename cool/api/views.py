"""What the API shows of builds, resources, events and workers (JSON-ready dicts).

Times are ISO 8601 in UTC with a ``Z``; the store keeps epoch seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cool.model import NESTED_SEPARATOR, BuildStatus, Plan, ResourceStatus
from cool.store.reads import Summary
from cool.store.records import BuildMeta, BuildState, Event, ResourceRecord
from cool.store.workers import WorkerInfo


def iso(ts: float | None) -> str | None:
    if not ts:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _links(base: str, build_id: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": f"{base}/v1/builds/{build_id}"}]


def _progress(state: BuildState) -> dict[str, int]:
    return {"done": state.done, "total": state.total}


def is_finished(meta: BuildMeta, state: BuildState) -> bool:
    """No worker will change the build again until asked: terminal, except a
    CREATE_FAILED that still has its rollback to run."""
    if state.status is BuildStatus.CREATE_FAILED and meta.rollback:
        return False
    return state.status.is_terminal


def build(meta: BuildMeta, state: BuildState, base: str) -> dict[str, Any]:
    return {
        "id": meta.build_id,
        "name": meta.name,
        "project_id": meta.project_id,
        "user_id": meta.user_id,
        "status": str(state.status),
        "finished": is_finished(meta, state),
        "reason": state.reason,
        "note": _note(state.note),
        "progress": _progress(state),
        "outputs": state.outputs,
        "created_at": iso(meta.created_at),
        "updated_at": iso(state.updated_at),
        "deadline": iso(meta.deadline),
        "timeout_mins": meta.timeout_mins,
        "rollback": meta.rollback,
        "request_id": meta.request_id,
        "links": _links(base, meta.build_id),
    }


def summary(item: Summary, base: str) -> dict[str, Any]:
    return {
        "id": item.build_id,
        "name": item.name,
        "project_id": item.project_id,
        "status": str(item.state.status),
        "reason": item.state.reason,
        "progress": _progress(item.state),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.state.updated_at),
        "links": _links(base, item.build_id),
    }


def _note(note: dict[str, Any] | None) -> dict[str, Any] | None:
    if note is None:
        return None
    shown = dict(note)
    if isinstance(shown.get("at"), int | float):
        shown["at"] = iso(shown["at"])
    return shown


def parent(name: str | None) -> str | None:
    """The resource whose nested stack holds ``name`` (None: the template's own)."""
    head, sep, _ = (name or "").rpartition(NESTED_SEPARATOR)
    return head if sep else None


def resources(
    plan: Plan, records: dict[str, tuple[ResourceRecord, int]], *, nested: bool = False
) -> list[dict[str, Any]]:
    """The plan's resources in build order, PENDING until they have a record: the
    template's own only, as Heat's resource-list, unless ``nested`` (the whole tree)."""
    out = []
    for spec in plan.resources:
        if spec.parent is not None and not nested:
            continue
        record = records.get(spec.name)
        if not plan.shows(spec.name, str(record[0].status) if record else None):
            continue
        out.append(
            {
                "name": spec.name,
                "type": spec.type,
                "parent": spec.parent,
                "nested": str(spec.nested) if spec.nested else None,
                "status": str(record[0].status if record else ResourceStatus.PENDING),
                "physical_id": record[0].physical_id if record else None,
                "attributes": record[0].attributes if record else {},
                "attempts": record[0].attempts if record else 0,
                "error": record[0].error if record else None,
                "worker": (record[0].worker or None) if record else None,
                "updated_at": iso(record[0].updated_at) if record else None,
                "depends_on": list(spec.depends_on),
                "level": spec.level,
            }
        )
    return out


def event(number: int, item: Event) -> dict[str, Any]:
    return {
        "id": number,
        "at": iso(item.at),
        "resource": item.resource,
        "parent": parent(item.resource),
        "old_status": item.old,
        "new_status": item.new,
        "reason": item.reason,
        "worker": item.worker or None,
        "request_id": item.request_id or None,
    }


def worker(info: WorkerInfo) -> dict[str, Any]:
    return {
        "id": info.worker_id,
        "host": info.host,
        "pid": info.pid,
        "capacity": info.capacity,
        "load": info.load,
        "started_at": iso(info.started_at),
    }
