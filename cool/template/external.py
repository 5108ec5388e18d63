"""A resource's ``external_id`` (HOT 2016-10-14 on): an existing cloud resource stands for it.

Heat's rules, followed here: heat/engine/hot/template.py (``HOTemplate20161014``
adds the field; a string or a function giving one), heat/engine/rsrc_defn.py
(``ResourceDefinition``: an external resource's deletion policy is Retain;
``required_resource_names``: it depends on nothing, an explicit ``depends_on`` is
refused as ``InvalidExternalResourceDependency``, references in its properties
add no dependency) and heat/engine/resource.py (``create``: the id is adopted and
checked, nothing is created; ``validate``: its properties are not checked). Other
resources may depend on it and read its attributes.

cool needs the id before the build runs (it is the step's physical id from the
first record on): a value that only a resource gives at run time is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cool.template.conditions import NEWTON, Conditions
from cool.template.problems import Code, Path
from cool.template.quoting import clip, quote
from cool.template.resolve import Resolver
from cool.template.values import Deferred, Unknown

FIELD = "external_id"
# Heat keeps a resource's id in a 255-character column; cool keeps it in records.
MAX_EXTERNAL_ID = 255


def external_id(
    body: Mapping[str, Any],
    path: Path,
    resolver: Resolver,
    conditions: Conditions,
    problem: Callable[[Code, str, Path], None],
    *,
    nested: bool,
) -> str | None:
    """The id of the existing resource that resource ``body`` (at ``path``) names, or
    None: none named, or a problem reported."""
    if FIELD not in body:
        return None
    here: Path = (*path, FIELD)
    if conditions.too_old("an external_id field", NEWTON, here, Code.FEATURE_VERSION):
        return None
    if nested:
        problem(
            Code.UNSUPPORTED_FEATURE,
            "external_id on a resource that stands for a nested stack (adopting an existing "
            "stack) is not supported: cool builds a nested stack's resources in the build",
            here,
        )
        return None
    value = resolver.resolve(body[FIELD], here, set())
    if isinstance(value, Unknown):
        return None  # reported where it went wrong
    if isinstance(value, Deferred):
        problem(
            Code.INVALID_VALUE,
            "external_id must be known before the build runs (from parameters), not "
            "from another resource",
            here,
        )
        return None
    if not isinstance(value, str):
        problem(Code.INVALID_TYPE, f"external_id must be a string, not {quote(value)}", here)
        return None
    if not value.strip():
        problem(Code.INVALID_VALUE, "external_id must not be empty", here)
        return None
    if len(value) > MAX_EXTERNAL_ID:
        problem(
            Code.INVALID_VALUE,
            f"external_id is {len(value)} characters long; at most {MAX_EXTERNAL_ID}",
            here,
        )
        return None
    if body.get("depends_on"):
        problem(
            Code.INVALID_VALUE,
            f"Invalid dependency with external {clip(str(body.get('type')), 80)} resource: "
            f"{clip(value, 80)} (a resource with an external_id depends on no other)",
            (*path, "depends_on"),
        )
    return value
