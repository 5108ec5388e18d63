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

import json
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
    """The source of a build whose request compiled to ``plan``. The environment files
    are kept in ``files`` too (Heat's files show lists them): masked the same way, so a
    hidden value given in one is not shown there either."""
    hidden = {p.name for p in plan.parameters if p.hidden}
    kept = dict(files)
    for environment in environments:
        if hidden and environment.name in kept:
            data = data_of(environment.text, limits)
            _mask(data, hidden)
            kept[environment.name] = json.dumps(data, sort_keys=True)
    merged = shown_environment(environments, parameters, hidden, limits)
    return BuildSource(template=data_of(text, limits), environment=merged, files=kept)


def shown_environment(
    environments: Sequence[Source],
    parameters: Mapping[str, Any] | None,
    hidden: set[str],
    limits: Limits,
) -> dict[str, Any]:
    """The environments merged as Heat shows them, the request's parameters over
    them, hidden values masked (stack environment show, template validate)."""
    merged = merge_environments([data_of(e.text, limits) for e in environments])
    merged[PARAMETERS].update(parameters or {})
    _mask(merged, hidden)
    return merged


def _mask(environment: dict[str, Any], hidden: set[str]) -> None:
    for section in (PARAMETERS, PARAMETER_DEFAULTS):
        values = environment.get(section)
        if isinstance(values, dict):
            for name in hidden & values.keys():
                values[name] = MASK


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


def data_of(text: str | bytes, limits: Limits) -> dict[str, Any]:
    """Text the compiler has read already, as data (so it parses: {} if it did not)."""
    try:
        data = parse(text, limits).data
    except TemplateInvalidError:
        return {}
    return data if isinstance(data, dict) else {}
