"""What a submit stores of its request for the API to show back (Heat's stack
``template``, ``environment`` and ``files``): a :class:`BuildSource`.

The template is kept as data (its YAML or JSON parsed again here: the compiler
keeps no copy of it). The environments are merged as Heat shows them: their
``parameters`` and ``parameter_defaults`` later over earlier, name by name,
``resource_registry`` one top-level key at a time, and the request's own
parameters over the merged ``parameters``. ``parameter_merge_strategies`` decide
the values a build uses (the plan holds those), not what is shown here: with a
``merge`` or ``deep_merge`` strategy, the shown value is the last environment's.
Every hidden parameter's value is masked before anything is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cool.errors import TemplateInvalidError
from cool.model import Plan
from cool.store.records import MASK, BuildSource
from cool.template.environment import (
    PARAMETER_DEFAULTS,
    PARAMETERS,
    RESOURCE_REGISTRY,
    Source,
)
from cool.template.parse import Limits, parse


def build_source(
    text: str | bytes,
    plan: Plan,
    limits: Limits,
    *,
    parameters: Mapping[str, Any] | None,
    environments: Sequence[Source],
    files: Mapping[str, str],
) -> BuildSource:
    """The source of a build whose request compiled to ``plan``."""
    hidden = {p.name for p in plan.parameters if p.hidden}
    merged = merge_environments([_data(e.text, limits) for e in environments])
    merged[PARAMETERS].update(parameters or {})
    for section in (PARAMETERS, PARAMETER_DEFAULTS):
        for name in hidden & merged[section].keys():
            merged[section][name] = MASK
    return BuildSource(template=_data(text, limits), environment=merged, files=dict(files))


def merge_environments(environments: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Environments (as data) merged in order, later over earlier, in Heat's shape."""
    merged: dict[str, Any] = {
        PARAMETERS: {},
        PARAMETER_DEFAULTS: {},
        RESOURCE_REGISTRY: {},
        "encrypted_param_names": [],
        "event_sinks": [],
    }
    for environment in environments:
        for section in (PARAMETERS, PARAMETER_DEFAULTS, RESOURCE_REGISTRY):
            given = environment.get(section)
            if isinstance(given, Mapping):
                merged[section].update(given)
    return merged


def _data(text: str | bytes, limits: Limits) -> dict[str, Any]:
    """Text the compiler has read already, as data (so it parses: {} if it did not)."""
    try:
        data = parse(text, limits).data
    except TemplateInvalidError:
        return {}
    return data if isinstance(data, dict) else {}
