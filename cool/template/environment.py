"""Heat environments: parsed, merged in order, applied to one template. Pure: no I/O.

An environment gives a template values (``parameters``), defaults
(``parameter_defaults``) and a ``resource_registry`` that maps resource
types to others. Several are merged in order, later over earlier, with the
``parameter_merge_strategies`` Heat has (``heat/common/environment_util.py``).
What applies to a parameter, strongest first: a value given with the
request, the environments' ``parameters``, their ``parameter_defaults``,
the template's own default. Every problem is located in the environment's
own file: its name, JSON pointer and line:column.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cool.errors import TemplateInvalidError
from cool.model import ParameterType
from cool.template.parameters import coerce
from cool.template.parse import Document, Limits, parse
from cool.template.problems import Code, Path, Problem, pointer
from cool.template.quoting import quote
from cool.template.suggest import suggest

PARAMETERS = "parameters"
PARAMETER_DEFAULTS = "parameter_defaults"
RESOURCE_REGISTRY = "resource_registry"
MERGE_STRATEGIES = "parameter_merge_strategies"
# Heat's sections (heat/common/environment_format.py), each known by name.
SECTIONS = (
    PARAMETERS,
    PARAMETER_DEFAULTS,
    RESOURCE_REGISTRY,
    "encrypted_param_names",
    "event_sinks",
    MERGE_STRATEGIES,
)
UNSUPPORTED_SECTIONS = {
    "event_sinks": "event sinks are not supported (cool's events are read from its API)",
    "encrypted_param_names": "encrypted_param_names is not supported (hidden parameters are "
    "never shown by cool)",
}
OVERWRITE, MERGE, DEEP_MERGE = "overwrite", "merge", "deep_merge"
STRATEGIES = (OVERWRITE, MERGE, DEEP_MERGE)
# A type or registry value ending so is a template resource (Heat's TemplateResourceInfo).
TEMPLATE_SUFFIXES = (".yaml", ".template")
NONE_TYPE = "OS::Heat::None"
RESTRICTED_ACTIONS = ("update", "replace")
_NODES = " nodes"  # in the parser's refusal past max_nodes
INLINE = "environment"  # the name problems in the request's own 'environment' carry
# Registry entries one type may go through. Heat has no bound: it recurses until
# Python's recursion limit fails the request (a few hundred); no real chain is near.
MAX_HOPS = 32

Report = Callable[[Problem], None]
# The registry entries for a resource's nested stack, as written: by nested resource.
Nested = Mapping[str, tuple["_Env", Path, Any]]
_MAX_CHILDREN = 10_000  # child registries remembered per registry (a group's members)


@dataclass(frozen=True, slots=True)
class Source:
    """One environment as the request gave it: a name (a key of ``files``, or
    :data:`INLINE`) and its YAML or JSON text."""

    name: str
    text: str | bytes


@dataclass(frozen=True, slots=True)
class _Env:
    name: str
    document: Document

    def problem(self, code: Code, message: str, path: Path) -> Problem:
        return replace(self.document.problem(code, message, path), file=self.name)


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``resource_registry`` mapping: ``key`` (a type, a glob ending in ``*`` or
    a template file) to ``value``; ``resource`` set for a per-resource one."""

    env: _Env
    path: Path
    key: str
    value: str
    resource: str | None = None

    @property
    def heat_path(self) -> tuple[str, ...]:
        """Its place in Heat's registry, which orders matches (ResourceInfo.__lt__)."""
        return ("resources", self.resource, self.key) if self.resource else (self.key,)

    def where(self) -> str:
        line, column = self.env.document.locate(self.path)
        return f"{self.env.name}:{line}:{column}"

    def target(self, type_name: str) -> str:
        """The type this entry maps ``type_name`` to (a glob keeps what its ``*`` matched)."""
        if self.key.endswith("*") and self.value.endswith("*"):
            return self.value[:-1] + type_name[len(self.key) - 1 :]
        return self.value


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a resource's type becomes through the registry."""

    type_name: str
    template: str | None = None  # a template resource: the file it names
    via: tuple[Entry, ...] = ()
    refused: str | None = None  # why the registry cannot map it: a cycle, a chain too long

    @property
    def switched_off(self) -> bool:
        """Mapped to OS::Heat::None by the registry: its properties are ignored, as in Heat."""
        return bool(self.via) and self.type_name == NONE_TYPE


@dataclass(frozen=True, slots=True)
class Registry:
    """The merged ``resource_registry``, looked up as Heat's ResourceRegistry does:
    a per-resource entry, the type's own entry and matching globs are candidates,
    the longest path first, then by path; the chosen one is followed again, at
    most :data:`MAX_HOPS` times.

    Globs are indexed by their prefix once, and each lookup is remembered: a
    request's lookups cost about what its types and entries weigh, however they chain.
    """

    entries: Mapping[str, Entry] = field(default_factory=dict)
    resources: Mapping[str, Mapping[str, Entry]] = field(default_factory=dict)
    # The entries for the resources of a resource's nested stack, as written (parsed by
    # :meth:`child`, for the nested stacks that are made): by resource name (a glob
    # too, as Heat's remove_resources_except matches them), then by nested resource.
    nested: Mapping[str, Nested] = field(default_factory=dict)
    # A glob's prefix (its key without the '*') -> its entry; the lengths of those prefixes.
    _globs: dict[str, Entry] = field(init=False, repr=False, compare=False)
    _lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _memo: dict[tuple[str, str | None], Resolution] = field(init=False, repr=False, compare=False)
    _children: dict[tuple[str, int], Registry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        globs = {key[:-1]: entry for key, entry in self.entries.items() if key.endswith("*")}
        object.__setattr__(self, "_globs", globs)
        object.__setattr__(self, "_lengths", tuple(sorted({len(p) for p in globs})))
        object.__setattr__(self, "_memo", {})
        object.__setattr__(self, "_children", {})

    def child(self, resource_name: str, report: Report, without: Entry | None = None) -> Registry:
        """The registry of resource ``resource_name``'s nested stack (Heat's
        get_child_environment): the type entries but ``without``, the entry that made the
        resource a template resource (Heat's item_to_remove: a template that stands for
        the type it replaces uses the real type inside); as per-resource entries, those
        written under its name (after those under globs matching it)."""
        key = (resource_name, id(without))
        found = self._children.get(key)
        if found is not None:
            return found
        bodies: dict[str, tuple[_Env, Path, Any]] = {}
        for pattern, kids in self.nested.items():
            if pattern != resource_name and fnmatch.fnmatchcase(resource_name, pattern):
                bodies.update(kids)
        bodies.update(self.nested.get(resource_name, {}))
        resources: dict[str, dict[str, Entry]] = {}
        nested: dict[str, Nested] = {}
        for name, (env, path, body) in bodies.items():
            resources[name], nested[name] = _per_resource(env, name, body, path, report)
        entries = self.entries
        if without is not None:
            entries = {k: e for k, e in self.entries.items() if e is not without}
        found = Registry(entries, resources, nested)
        if len(self._children) < _MAX_CHILDREN:
            self._children[key] = found
        return found

    def _match(self, type_name: str, resource_name: str | None) -> Entry | None:
        candidates: list[Entry] = []
        if resource_name is not None:
            specific = self.resources[resource_name].get(type_name)
            if specific is not None:
                candidates.append(specific)
        exact = self.entries.get(type_name)
        if exact is not None:
            candidates.append(exact)
        for length in self._lengths:
            if length > len(type_name):
                break
            entry = self._globs.get(type_name[:length])
            # A glob never maps a type to itself (Heat's GlobResourceInfo.matches).
            if entry is not None and type_name != entry.value:
                candidates.append(entry)
        if not candidates:
            return None
        return min(candidates, key=lambda e: (-len(e.heat_path), e.heat_path))

    def resolve(self, type_name: str, resource_name: str | None = None) -> Resolution:
        # Per-resource entries only change the lookups of the resources they name.
        own = resource_name if resource_name in self.resources else None
        key = (type_name, own)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._follow(type_name, own)
        return found

    def _follow(self, type_name: str, resource_name: str | None) -> Resolution:
        via: list[Entry] = []
        seen: set[str] = set()
        current = type_name
        while True:
            if current.endswith(TEMPLATE_SUFFIXES):
                return Resolution(current, current, tuple(via))
            entry = self._match(current, resource_name)
            if entry is None:
                return Resolution(current, None, tuple(via))
            if current in seen:
                return Resolution(
                    current,
                    None,
                    tuple(via),
                    f"the environment maps type {quote(type_name)} in a cycle "
                    f"(mapped by the environment: {describe(via)})",
                )
            if len(via) == MAX_HOPS:
                return Resolution(current, None, tuple(via), _too_long(type_name, via))
            seen.add(current)
            via.append(entry)
            if entry.key.endswith(TEMPLATE_SUFFIXES):
                return Resolution(entry.key, entry.key, tuple(via))
            current = entry.target(current)


def _too_long(type_name: str, via: Sequence[Entry]) -> str:
    """A chain past MAX_HOPS, named by its distinct entries (a growing glob is one)."""
    distinct = list({id(entry): entry for entry in via}.values())
    shown = describe(distinct[:3]) + (f" and {len(distinct) - 3} more" if len(distinct) > 3 else "")
    return (
        f"the environment maps type {quote(type_name)} through more than {MAX_HOPS} registry "
        f"entries (a chain that may never end): {shown}"
    )


@dataclass(frozen=True, slots=True)
class _Parsed:
    env: _Env
    parameters: Mapping[str, Any]
    defaults: Mapping[str, Any]
    strategies: Mapping[str, str]
    entries: Mapping[str, Entry]
    resources: Mapping[str, Mapping[str, Entry]]
    nested: Mapping[str, Nested]


@dataclass(frozen=True, slots=True)
class Applied:
    """The merged environments, for one template: values for its declared
    parameters (defaults under values) with where each was written, and the registry."""

    values: Mapping[str, Any] = field(default_factory=dict)
    origins: Mapping[str, tuple[_Env, Path]] = field(default_factory=dict)
    registry: Registry = field(default_factory=Registry)
    # What a nested template gets (:meth:`child`): the environments as parsed, and the
    # registry without its per-resource entries (those name the top template's resources).
    sources: tuple[_Parsed, ...] = ()

    def problem(self, name: str, code: Code, message: str) -> Problem | None:
        """A problem with the value of ``name``, located where an environment gave it."""
        origin = self.origins.get(name)
        return origin[0].problem(code, message, origin[1]) if origin else None

    def child(
        self,
        declared: Mapping[str, ParameterType],
        report: Report,
        without: Entry | None = None,
        *,
        registry: Registry | None = None,
    ) -> Applied:
        """The environment of a nested template, as Heat makes it: the environments'
        ``parameter_defaults`` apply to every template of the tree, their ``parameters``
        to the top template only (a nested one's values are its resource's properties);
        ``registry`` is the parent's for the resource (:meth:`Registry.child`), by
        default its type entries but ``without``."""
        if registry is None:
            registry = self.registry.child("", report, without)
        if not self.sources:
            return replace(EMPTY, registry=registry)
        defaults_only = [replace(p, parameters={}) for p in self.sources]
        merged = _merge(defaults_only, declared, report)
        return replace(merged, registry=registry)


EMPTY = Applied()


def apply(
    sources: Sequence[Source],
    declared: Mapping[str, ParameterType],
    limits: Limits,
    report: Report,
    *,
    spent: int = 0,
) -> Applied:
    """Parse ``sources``, merge them in order, keep what applies to ``declared``.

    A file listed again is parsed once (Heat merges it again, and so does this).
    ``spent``: the template's nodes; the environments count on from it against
    ``limits.max_nodes``, and once over it the rest are not read.
    """
    if not sources:
        return EMPTY
    parsed: dict[tuple[str, str | bytes], _Parsed | None] = {}
    merged: list[_Parsed] = []
    for source in sources:
        key = (source.name, source.text)
        if key not in parsed:
            parsed[key], spent = _parse(source, limits, report, spent)
            if spent > limits.max_nodes:
                break  # the request's node budget is spent: reported once
        found = parsed[key]
        if found is not None:
            merged.append(found)
    return _merge(merged, declared, report)


# -- parsing -------------------------------------------------------------------


def _parse(
    source: Source, limits: Limits, report: Report, spent: int
) -> tuple[_Parsed | None, int]:
    """The parsed environment (None: empty or unreadable), and the nodes spent so far."""
    text = source.text
    if not text.strip():
        return None, spent  # an empty environment, as Heat reads it
    try:
        document = parse(text, limits, spent=spent)
    except TemplateInvalidError as exc:
        if exc.status == 413:
            raise
        for found in exc.problems:
            problem = found
            if found.code is Code.NOT_A_MAPPING:
                if found.message.endswith("empty"):
                    return None, spent  # only comments
                problem = replace(
                    found,
                    message="an environment must be a mapping of sections ("
                    + ", ".join(SECTIONS)
                    + ")",
                )
            elif found.code in (Code.ALIAS_EXPANSION, Code.TOO_LARGE) and _NODES in found.message:
                spent = limits.max_nodes + 1
                problem = replace(
                    found,
                    message=found.message.replace(
                        "template expands", "the template and its environments expand", 1
                    ),
                )
            report(replace(problem, file=source.name))
        return None, spent
    env = _Env(source.name, document)
    spent = document.nodes
    data = document.data
    for key, value in data.items():
        if key not in SECTIONS:
            report(
                env.problem(
                    Code.UNKNOWN_SECTION,
                    f"unknown environment section {quote(key)}{suggest(key, SECTIONS)} "
                    f"(sections: {', '.join(SECTIONS)})",
                    (key,),
                )
            )
        elif value is None:
            report(
                env.problem(Code.INVALID_TYPE, f"environment section {quote(key)} is empty", (key,))
            )
        elif key in UNSUPPORTED_SECTIONS and value not in ([], {}, ""):
            report(env.problem(Code.UNSUPPORTED_FEATURE, UNSUPPORTED_SECTIONS[key], (key,)))
    parameters = _mapping(env, data, PARAMETERS, report)
    defaults = _mapping(env, data, PARAMETER_DEFAULTS, report)
    strategies = _strategies(env, _mapping(env, data, MERGE_STRATEGIES, report), report)
    entries, resources, nested = _registry(
        env, _mapping(env, data, RESOURCE_REGISTRY, report), report
    )
    # Problems reported, what is well formed still applies: no problem hides another.
    return _Parsed(env, parameters, defaults, strategies, entries, resources, nested), spent


def _mapping(env: _Env, data: Mapping[str, Any], section: str, report: Report) -> dict[str, Any]:
    value = data.get(section)
    if value is None:
        return {}
    if not isinstance(value, dict):
        report(env.problem(Code.INVALID_TYPE, f"{section} must be a mapping", (section,)))
        return {}
    return value


def _strategies(env: _Env, raw: Mapping[str, Any], report: Report) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, strategy in raw.items():
        if strategy not in STRATEGIES:
            report(
                env.problem(
                    Code.INVALID_VALUE,
                    f"merge strategy of {quote(name)} must be one of {', '.join(STRATEGIES)}, "
                    f"not {quote(strategy)}",
                    (MERGE_STRATEGIES, name),
                )
            )
            continue
        out[name] = strategy
    return out


def _registry(
    env: _Env, raw: Mapping[str, Any], report: Report
) -> tuple[dict[str, Entry], dict[str, dict[str, Entry]], dict[str, Nested]]:
    entries: dict[str, Entry] = {}
    resources: dict[str, dict[str, Entry]] = {}
    nested: dict[str, Nested] = {}
    for key, value in raw.items():
        path: Path = (RESOURCE_REGISTRY, key)
        if key == "resources":
            if not isinstance(value, dict):
                report(env.problem(Code.INVALID_TYPE, "resources must be a mapping", path))
                continue
            for name, body in value.items():
                resources[name], nested[name] = _per_resource(
                    env, name, body, (*path, name), report
                )
        elif key == "base_url":  # where heatclient resolved relative file names from
            continue
        else:
            entry = _entry(env, key, value, path, report)
            if entry is not None:
                entries[key] = entry
    return entries, resources, nested


def _per_resource(
    env: _Env, name: str, body: Any, path: Path, report: Report
) -> tuple[dict[str, Entry], Nested]:
    """A per-resource registry entry: its type mappings, and the entries of the resources
    of its nested stack (a mapping under a resource's name, as Heat nests them)."""
    out: dict[str, Entry] = {}
    nested: dict[str, tuple[_Env, Path, Any]] = {}
    if not isinstance(body, dict):
        report(
            env.problem(
                Code.INVALID_TYPE,
                f"the registry entry of resource {quote(name)} must be a mapping",
                path,
            )
        )
        return out, nested
    for key, value in body.items():
        here = (*path, key)
        if key == "hooks":
            report(
                env.problem(
                    Code.UNSUPPORTED_FEATURE,
                    "hooks (pausing a build at a resource) are not supported",
                    here,
                )
            )
        elif key == "restricted_actions":
            # Builds are never updated: restricting updates changes nothing. Checked as Heat does.
            actions = [value] if isinstance(value, str) else value
            if not isinstance(actions, list) or any(a not in RESTRICTED_ACTIONS for a in actions):
                report(
                    env.problem(
                        Code.INVALID_VALUE,
                        f"restricted_actions must be {' or '.join(RESTRICTED_ACTIONS)}, "
                        "or a list of them",
                        here,
                    )
                )
        elif key == "base_url":
            continue
        elif isinstance(value, dict):
            nested[key] = (env, here, value)  # for a resource of its nested stack
        else:
            entry = _entry(env, key, value, here, report, resource=name)
            if entry is not None:
                out[key] = entry
    return out, nested


def _entry(
    env: _Env, key: str, value: Any, path: Path, report: Report, *, resource: str | None = None
) -> Entry | None:
    if value is None:
        return None  # removes nothing a user environment could have added (Heat)
    if not isinstance(value, str) or not value:
        report(
            env.problem(
                Code.INVALID_TYPE,
                f"registry entry {quote(key)} must map to a resource type or a template file",
                path,
            )
        )
        return None
    if "*" in key[:-1] or ("*" in value[:-1]):
        report(
            env.problem(
                Code.INVALID_VALUE,
                f"registry entry {quote(key)}: '*' may only end a type name",
                path,
            )
        )
        return None
    if value.endswith("*") and not key.endswith("*"):
        report(
            env.problem(
                Code.INVALID_VALUE,
                f"registry entry {quote(key)} maps to a glob but is not one",
                path,
            )
        )
        return None
    return Entry(env, path, key, value, resource)


# -- merging -------------------------------------------------------------------


def _merge(
    parsed: Sequence[_Parsed], declared: Mapping[str, ParameterType], report: Report
) -> Applied:
    sections: dict[str, dict[str, tuple[Any, _Env, Path]]] = {
        PARAMETERS: {},
        PARAMETER_DEFAULTS: {},
    }
    chosen: dict[str, str] = {}  # each parameter's strategy, once one file set it
    entries: dict[str, Entry] = {}
    resources: Mapping[str, Mapping[str, Entry]] = {}
    nested: Mapping[str, Nested] = {}
    for env in parsed:
        for section, new in ((PARAMETERS, env.parameters), (PARAMETER_DEFAULTS, env.defaults)):
            for name, value in new.items():
                path: Path = (section, name)
                if name not in declared:
                    if section == PARAMETERS:  # a default for no parameter is ignored (Heat)
                        report(
                            env.env.problem(
                                Code.PARAMETER_UNDECLARED,
                                f"the environment gives a value for parameter {quote(name)}, "
                                f"which the template does not declare{suggest(name, declared)}",
                                path,
                            )
                        )
                    continue
                if value is None:
                    continue
                strategy = _strategy(env, name, chosen, report)
                old = sections[section].get(name)
                if old is None or strategy == OVERWRITE:
                    sections[section][name] = (value, env.env, path)
                    continue
                merged = _merged(declared[name], old[0], value, strategy == DEEP_MERGE)
                if isinstance(merged, str | list | dict) and not isinstance(merged, _Refused):
                    sections[section][name] = (merged, env.env, path)
                else:
                    report(env.env.problem(Code.INVALID_VALUE, f"{quote(name)}: {merged}", path))
        # resource_registry: later over earlier, one top-level key at a time (Heat's
        # merge_map): a later 'resources' replaces an earlier one whole.
        entries.update(env.entries)
        if env.resources:
            resources, nested = env.resources, env.nested
    values: dict[str, Any] = {}
    origins: dict[str, tuple[_Env, Path]] = {}
    for section in (PARAMETER_DEFAULTS, PARAMETERS):
        for name, (value, where, path) in sections[section].items():
            values[name] = value
            origins[name] = (where, path)
    return Applied(values, origins, Registry(entries, resources, nested), tuple(parsed))


def _strategy(env: _Parsed, name: str, chosen: dict[str, str], report: Report) -> str:
    """Heat's get_param_merge_strategy, and its refusal of a parameter merged two ways."""
    strategy = env.strategies.get(name, chosen.get(name, env.strategies.get("default", OVERWRITE)))
    if name not in chosen:
        chosen[name] = strategy
    elif strategy != chosen[name]:
        at: Path = (MERGE_STRATEGIES, name) if name in env.strategies else (MERGE_STRATEGIES,)
        report(
            env.env.problem(
                Code.INVALID_VALUE,
                f"parameter {quote(name)} is merged with {strategy} here but with "
                f"{chosen[name]} by an earlier environment",
                at,
            )
        )
        return chosen[name]
    return strategy


class _Refused(str):
    """Why two values cannot be merged (a str, so it reads as the message)."""


def _merged(kind: ParameterType, old: Any, new: Any, deep: bool) -> Any:
    """Heat's merge of two values of a parameter of type ``kind`` (param_merge)."""
    try:
        if kind is ParameterType.STRING:
            return coerce(kind, old) + coerce(kind, new)
        if kind is ParameterType.COMMA_DELIMITED_LIST:
            if isinstance(old, str) and isinstance(new, str):
                return f"{old},{new}"
            return coerce(kind, old) + coerce(kind, new)
        if kind is ParameterType.JSON:
            left, right = _json(old), _json(new)
            if not isinstance(left, dict) or not isinstance(right, dict):
                return _Refused("only json objects (mappings) can be merged")
            return merge_map(left, right, deep)
    except ValueError as exc:
        return _Refused(f"cannot merge: {exc}")
    return _Refused(f"a {kind} parameter cannot be merged (Heat cannot either)")


def _json(value: Any) -> Any:
    return copy.deepcopy(value) if not isinstance(value, str) else json.loads(value or "{}")


def merge_map(old: dict[str, Any], new: Mapping[str, Any], deep: bool) -> dict[str, Any]:
    """Heat's merge_map: keys of ``new`` over ``old``; deep merges mappings, extends
    lists and joins strings. Returns a new mapping."""
    out = dict(old)
    for key, value in new.items():
        if value is None:
            continue
        before = out.get(key)
        if not deep or not before:
            out[key] = value
        elif isinstance(value, Mapping) and isinstance(before, Mapping):
            out[key] = merge_map(dict(before), value, deep)
        elif isinstance(value, list | str) and type(value) is type(before):
            out[key] = before + value  # lists extended, strings joined
        else:
            out[key] = value
    return out


def describe(entries: Sequence[Entry]) -> str:
    """Where the registry entries that applied are, for a message."""
    return ", ".join(
        f"{quote(e.key)}: {quote(e.value)} ({e.where()} {pointer(e.path)})" for e in entries
    )
