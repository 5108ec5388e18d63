"""The shapes of what each znode holds, frozen, with their JSON forms.

Times are UTC seconds since the epoch (floats); the API renders them.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from cool.model import BuildStatus, Plan, ResourceStatus

# The most characters of an error or reason kept in a record, a note or an event. An
# error's text has no bound of its own (a path error lists a mapping's keys; a cloud
# may answer at length) and codec escapes non-ASCII (6 bytes a character): uncut, one
# could make a write too large for ZooKeeper, and the build could record nothing.
MAX_TEXT = 1500


def cut(text: str, limit: int = MAX_TEXT) -> str:
    """``text``, or its first ``limit`` characters, an ellipsis and its length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (cut: {len(text):,} characters in all)"


def _top_level(record: Any) -> dict[str, Any]:
    """A record's fields as a dict, values as they are: what a write serializes at once.
    ``asdict`` copies every nested value on the way, a few microseconds a record on
    the path of every step (docs/benchmarks.md)."""
    return {name: getattr(record, name) for name in _field_names(type(record))}


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _cut_field(record: Any, name: str) -> None:
    value = getattr(record, name)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        object.__setattr__(record, name, cut(value))  # frozen: set once, as it is built


@dataclass(frozen=True, slots=True)
class BuildMeta:
    """Written once with the plan: who asked for what, and until when."""

    build_id: str
    project_id: str
    user_id: str
    name: str
    created_at: float
    deadline: float
    timeout_mins: int
    rollback: bool
    request_id: str = ""
    idempotency_digest: str = ""  # names the build's Idempotency-Key entry, if it has one
    # The Keystone trust workers act for the submitter through ("" = none). Useless
    # alone: using it takes cool's service user's password, which only cool.conf has.
    trust_id: str = ""
    tags: tuple[str, ...] = ()  # Heat's stack tags, as given at create

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildMeta:
        # Fields added later have defaults: records written before them still read.
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "tags" in fields:
            fields["tags"] = tuple(fields["tags"] or ())
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class BuildSource:
    """What a build was made from, as the API shows it back (Heat's ``template``,
    ``environment`` and ``files`` of a stack): stored once, with the build.

    ``template`` is the template as data (its YAML or JSON parsed); ``environment``
    the environments merged (``parameters``, ``parameter_defaults``,
    ``resource_registry``) with the request's parameters over them, and every
    hidden parameter's value already replaced by :data:`MASK` (a secret is never
    stored here; the plan keeps the value the workers need); ``files`` what the
    request sent for ``get_file`` and its environments.
    """

    template: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildSource:
        return cls(
            template=data.get("template") or {},
            environment=data.get("environment") or {},
            files=data.get("files") or {},
        )


MASK = "******"  # what a hidden parameter's value is shown as (Heat's)


@dataclass(frozen=True, slots=True)
class Note:
    """Why a build failed: what failed, doing what, and the cloud's words."""

    resource: str | None
    type: str | None
    action: str
    error: str
    worker: str
    at: float

    def __post_init__(self) -> None:
        _cut_field(self, "error")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class BuildState:
    status: BuildStatus
    reason: str = ""
    note: dict[str, Any] | None = None
    done: int = 0
    total: int = 0
    outputs: dict[str, Any] | None = None
    updated_at: float = 0.0
    # Which plan the build runs (0: the one stored with it; later ones are resizes,
    # cool.store.scaling), and what scaling keeps between resizes: for each scaled group
    # (by plan name), its cooldown's end and the number its next member is named with.
    plan_version: int = 0
    scaling: dict[str, Any] | None = None
    # The resize being run (UPDATE_IN_PROGRESS): its group, policy, cooldown and deadline.
    update: dict[str, Any] | None = None
    # Claims of the build that ended with a dead worker before the API last queued it
    # again (a resize, a delete of a finished build): a poison build is counted from there.
    claims_before: int = 0

    def __post_init__(self) -> None:
        _cut_field(self, "reason")
        error = self.note.get("error") if self.note is not None else None
        if isinstance(error, str) and len(error) > MAX_TEXT:
            object.__setattr__(self, "note", {**(self.note or {}), "error": cut(error)})

    def to_dict(self) -> dict[str, Any]:
        out = _top_level(self)
        out["status"] = str(self.status)
        for key in ("plan_version", "scaling", "update", "claims_before"):
            if not out[key]:
                del out[key]  # as states were before updates: absent is none
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildState:
        return cls(
            status=BuildStatus(data["status"]),
            reason=data.get("reason", ""),
            note=data.get("note"),
            done=data.get("done", 0),
            total=data.get("total", 0),
            outputs=data.get("outputs"),
            updated_at=data.get("updated_at", 0.0),
            plan_version=data.get("plan_version") or 0,
            scaling=data.get("scaling") or None,
            update=data.get("update") or None,
            claims_before=data.get("claims_before") or 0,
        )

    def but(self, **changes: Any) -> BuildState:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ResourceRecord:
    """One resource's recorded step (DESIGN.md section 5)."""

    name: str
    type: str
    status: ResourceStatus
    physical_id: str | None = None
    reference: str | None = None  # what get_resource gives, when not the physical id
    attributes: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    error: str | None = None
    worker: str = ""
    updated_at: float = 0.0
    # Made by one create call that answered at its first try, in the claim that
    # recorded it complete: nothing else can carry the step's tags, so neither the
    # re-check before a terminal status nor the delete looks them up.
    sole: bool = False

    def __post_init__(self) -> None:
        _cut_field(self, "error")

    def to_dict(self) -> dict[str, Any]:
        out = _top_level(self)
        out["status"] = str(self.status)
        if not self.sole:
            del out["sole"]  # as records were before the flag: absent is False
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceRecord:
        return cls(
            name=data["name"],
            type=data["type"],
            status=ResourceStatus(data["status"]),
            physical_id=data.get("physical_id"),
            reference=data.get("reference"),
            attributes=data.get("attributes") or {},
            attempts=data.get("attempts", 0),
            error=data.get("error"),
            worker=data.get("worker", ""),
            updated_at=data.get("updated_at", 0.0),
            sole=data.get("sole") is True,
        )

    def but(self, **changes: Any) -> ResourceRecord:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Event:
    """A small, append-only line in a build's history."""

    at: float
    resource: str | None
    old: str | None
    new: str
    reason: str = ""
    worker: str = ""
    request_id: str = ""

    def __post_init__(self) -> None:
        _cut_field(self, "reason")

    def to_dict(self) -> dict[str, Any]:
        return _top_level(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Lease:
    """The owner of a build. ``epoch`` is the lease znode's version: the fence."""

    worker_id: str
    claims: int
    claimed_at: float
    epoch: int
    releases: int = 0  # graceful handovers among the claims


@dataclass(frozen=True, slots=True)
class Build:
    """A build as read back: metadata, plan and current state."""

    meta: BuildMeta
    plan: Plan
    state: BuildState
