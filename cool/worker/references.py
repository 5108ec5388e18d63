"""Run-time values of the expressions a plan kept: ids and attributes of resources
already built, and Heat's pseudo parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.errors import ResolutionTooLargeError
from cool.model import Plan
from cool.store.records import BuildMeta, ResourceRecord
from cool.template import functions
from cool.template.budget import Budget
from cool.template.parse import DEFAULT_LIMITS, Limits


def resolve(
    value: Any,
    meta: BuildMeta,
    records: Mapping[str, tuple[ResourceRecord, int]],
    *,
    limits: Limits = DEFAULT_LIMITS,
    budget: Budget | None = None,
) -> Any:
    """``value`` with its functions evaluated, within ``limits``' resolution budget
    (or ``budget``, shared by several values), else ResolutionTooLargeError."""
    if budget is None:
        budget = Budget.of(limits)

    def get_resource(name: str) -> str | None:
        """The provider's reference (a key pair's name, ...), else the physical id."""
        entry = records.get(name)
        if entry is None:
            return None
        return entry[0].reference or entry[0].physical_id

    def get_attr(name: str, attribute: str | None) -> Any:
        """One recorded attribute; None: every one but ``show`` (``get_attr: [name]``, as
        Heat's FnGetAtts; plans made before kept ``[name, "show"]`` for it)."""
        entry = records.get(name)
        if entry is None:
            return None
        attributes = entry[0].attributes
        if attribute is None:
            return {key: value for key, value in attributes.items() if key != "show"}
        if attribute == "show" and "show" not in attributes:
            return dict(attributes)
        return attributes.get(attribute)

    return functions.resolve(
        value,
        get_resource=get_resource,
        get_attr=get_attr,
        pseudo={
            "OS::stack_name": meta.name,
            "OS::stack_id": meta.build_id,
            "OS::project_id": meta.project_id,
        },
        budget=budget,
    )


def outputs(
    plan: Plan,
    meta: BuildMeta,
    records: Mapping[str, tuple[ResourceRecord, int]],
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Every output's value, or the error that kept it from having one.

    The outputs share one budget: they are written together, in the build's state.
    """
    budget = Budget.of(limits)
    out: dict[str, Any] = {}
    for output in plan.outputs:
        try:
            value = resolve(output.value, meta, records, budget=budget)
        except (
            ValueError,
            KeyError,
            TypeError,
            functions.PathError,
            ResolutionTooLargeError,
        ) as exc:
            out[output.name] = {"description": output.description, "error": str(exc)}
        else:
            out[output.name] = {"description": output.description, "value": value}
    return out
