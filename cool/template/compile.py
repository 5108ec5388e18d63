"""Template text + parameter values -> a validated :class:`~cool.model.Plan`.

Everything is checked before anything is stored, and every problem is
reported at once, each with its code, JSON pointer and line:column:

1. the text (size, encoding, syntax, tags, aliases, depth);
2. the sections and the HOT version;
3. parameter declarations and groups, then the values given for them;
4. each resource: name, fields, type, properties (functions resolved, then
   checked against the type's schema), depends_on;
5. outputs; then the dependency graph (cycles, levels).

Without parameter values (``values=None``, like Heat's template-validate),
all of that is still checked; the report then lists what the template needs
and makes no plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cool.errors import ResolutionTooLargeError, TemplateInvalidError
from cool.model import (
    MAX_NESTED_NAME,
    MAX_NESTED_PARTS,
    NESTED_SEPARATOR,
    SCALING_POLICY,
    DeletionPolicy,
    NestedKind,
    OutputSpec,
    ParameterSpec,
    ParameterValue,
    Plan,
    ResourceSpec,
)
from cool.resources import heat_groups
from cool.resources.heat_types import HEAT_RESOURCE_TYPES, why_unsupported
from cool.resources.registry import ResourceTypeRegistry
from cool.resources.schema import ResourceType
from cool.template import environment as env
from cool.template import functions as fn
from cool.template import groups, nested, versions
from cool.template.budget import Budget
from cool.template.conditions import Conditions
from cool.template.external import external_id
from cool.template.graph import levels as graph_levels
from cool.template.implicit import add_implicit
from cool.template.parameters import Declared, coerce, declare, violation
from cool.template.parse import DEFAULT_LIMITS, Document, Limits, parse
from cool.template.passed import passed_properties
from cool.template.problems import Code, Path, Problem, Problems, pointer
from cool.template.properties import check_properties
from cool.template.quoting import MAX_NAME, clip, quote
from cool.template.resolve import Resolver
from cool.template.suggest import suggest
from cool.template.values import (
    PARAMETER_KINDS,
    Deferred,
    Unknown,
    contains_pending,
    contains_unknown,
    materialize,
    secret_texts,
)

SECTIONS = frozenset(
    {
        "heat_template_version",
        "description",
        "parameter_groups",
        "parameters",
        "resources",
        "outputs",
        "conditions",
    }
)
UNSUPPORTED_SECTIONS = {
    "parameter_defaults": "parameter_defaults belongs in an environment (cool submit -e), "
    "not in the template",
    "resource_registry": "resource_registry belongs in an environment (cool submit -e), "
    "not in the template",
    "event_sinks": "event sinks are not supported",
}
RESOURCE_KEYS = frozenset(
    {
        "type",
        "properties",
        "depends_on",
        "deletion_policy",
        "metadata",
        "condition",
        "update_policy",
        "external_id",  # from 2016-10-14: cool.template.external
    }
)
UNSUPPORTED_RESOURCE_KEYS: dict[str, str] = {}
OUTPUT_KEYS = frozenset({"value", "description", "condition"})
UNSUPPORTED_OUTPUT_KEYS: dict[str, str] = {}

# Resource names become ZooKeeper node names and cloud resource names.
RESOURCE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}")


@dataclass(frozen=True, slots=True)
class Report:
    """What validating a template found.

    ``plan`` exists only when there are no problems and every parameter has
    a value; ``levels`` (the build order) whenever the graph could be made.
    """

    problems: tuple[Problem, ...] = ()
    parameters: tuple[ParameterSpec, ...] = ()
    missing: tuple[str, ...] = ()
    levels: tuple[tuple[str, ...], ...] = ()
    resource_types: Mapping[str, str] = field(default_factory=dict)
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    plan: Plan | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def compile_template(
    text: str | bytes,
    registry: ResourceTypeRegistry,
    values: Mapping[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    *,
    environments: Sequence[env.Source] = (),
    files: Mapping[str, str] | None = None,
) -> Plan:
    """The plan for ``text`` with ``values``, or :class:`TemplateInvalidError`."""
    report = check(
        text,
        registry,
        values if values is not None else {},
        limits,
        environments=environments,
        files=files,
    )
    if report.problems:
        raise TemplateInvalidError(report.problems)
    assert report.plan is not None
    return report.plan


def check(
    text: str | bytes,
    registry: ResourceTypeRegistry,
    values: Mapping[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    *,
    environments: Sequence[env.Source] = (),
    files: Mapping[str, str] | None = None,
    members: Mapping[str, Sequence[str]] | None = None,
) -> Report:
    """Validate ``text``; template problems are in the report, never raised.

    ``environments`` are Heat environments, merged in order (cool.template.environment);
    ``files`` what ``get_file`` reads (name -> content); ``members`` the names a resize
    gives scaling groups' members, by the group's plan name (cool.template.scaling).

    Raises only :class:`~cool.errors.TemplateTooLargeError`, which refuses
    the request as a whole.
    """
    try:
        document = parse(text, limits)
    except TemplateInvalidError as exc:
        if exc.status == 413:
            raise
        return Report(problems=exc.problems)
    compiler = _Compiler(document, registry, limits)
    compiler.environments, compiler.files = environments, files or {}
    compiler.scope = nested.Scope(limits, compiler.files, Budget.of_plan(limits))
    compiler.scope.environments = frozenset(source.name for source in environments)
    compiler.scope.members = dict(members or {})
    return compiler.run(values)


@dataclass(frozen=True, slots=True)
class _Site:
    """Where a nested template's resource is written in its parent: what its values and
    resource_facade come from, and where problems with them are located."""

    document: Document  # the parent's
    properties: Path  # where the nested template's parameter values are written
    label: str  # "resource 'web' (app.yaml)", for messages
    facade: Mapping[str, Any]
    given_as: str = "property"  # what a value is in the parent: an OS::Heat::Stack's "parameter"
    mapped_by: env.Entry | None = None  # the registry entry that made it a template resource
    registry: env.Registry | None = None  # what its nested stack's types are looked up in


@dataclass(frozen=True, slots=True)
class _Evaluated:
    """One template evaluated: its own resources, every resource of its tree with plan
    names (``flat``), its outputs."""

    version: str
    description: str
    declared: Mapping[str, Declared]
    resolved: Mapping[str, Any]
    missing: list[str]
    local: dict[str, dict[str, Any]]
    flat: dict[str, dict[str, Any]]
    outputs: dict[str, tuple[Any, str]]


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a nested stack's resource is written (the group's, for its members)."""

    document: Document
    path: Path  # the resource
    properties: Path  # its properties (a group member's: resource_def.properties)
    type: Path  # its type (a group member's: resource_def.type)
    inline: Path | None = None  # an OS::Heat::Stack's template written as a mapping
    mapped_by: env.Entry | None = None  # the registry entry that made it a template resource
    # The registry of the nested stack it makes (Heat's child environment: per-resource
    # entries written under its name); for a group's members, the group's.
    registry: env.Registry | None = None


def _inline(template: Any) -> bool:
    """An OS::Heat::Stack template written as a mapping, not as text or a function."""
    return isinstance(template, dict) and fn.function_name(template) is None


def _stack_file(resources: Mapping[str, Any], path: Path) -> str | None:
    """The file an OS::Heat::Stack's template was read from (``get_file: name``)."""
    body = resources.get(path[-1]) if len(path) == 2 else None
    raw = body.get("properties") if isinstance(body, dict) else None
    template = raw.get("template") if isinstance(raw, dict) else None
    if isinstance(template, dict) and isinstance(template.get(fn.GET_FILE), str):
        return str(template[fn.GET_FILE])
    return None


_EXPANDING = object()  # in expanded while a nested stack is being made: a cycle if met


class _Compiler:
    environments: Sequence[env.Source] = ()
    files: Mapping[str, str] = {}
    environment: env.Applied = env.EMPTY
    switched_off: frozenset[str] = frozenset()  # mapped to OS::Heat::None by an environment
    scope: nested.Scope
    # Nested stacks: the plan names of this template's resources start with ``prefix``;
    # ``depth`` nested stacks enclose it; ``site`` is the resource it stands for.
    prefix = ""
    depth = 0
    site: _Site | None = None
    parent_environment: env.Applied = env.EMPTY

    def __init__(self, document: Document, registry: ResourceTypeRegistry, limits: Limits):
        self.document = document
        self.data = document.data
        self.registry = registry
        self.limits = limits
        self.problems = Problems()  # bounded while collecting
        self.reported_sections: set[str] = set()
        # Resources standing for nested stacks: kind, template file (a group's: its group
        # type; else None), type as written; and what each became (an Expanded, or Unknown).
        self.compounds: dict[str, tuple[NestedKind, str | None, str]] = {}
        self.expanded: dict[str, Any] = {}
        # A nested stack's resource's properties, metadata, update_policy and references.
        self.compound_parts: dict[str, tuple[dict[str, Any], Any, dict[str, Any], set[str]]] = {}
        self.vias: dict[str, str] = {}  # how the environment mapped a type to a template
        self.mapped: dict[str, env.Entry] = {}  # and the entry that did (its last)
        self.types: Mapping[str, ResourceType | None] = {}
        self.resolver: Resolver | None = None
        self.entered: tuple[str, str] | None = None  # the field being resolved

    def problem(self, code: Code, message: str, path: Path) -> None:
        self.problems.append(self.document.problem(code, message, path))

    def section(self, name: str, kind: type, default: Any) -> Any:
        """A top-level section, or ``default`` (its wrong type reported once)."""
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, kind):
            if name not in self.reported_sections:
                self.reported_sections.add(name)
                what = "a mapping" if kind is dict else "a list" if kind is list else "a string"
                self.problem(Code.INVALID_TYPE, f"{name} must be {what}", (name,))
            return default
        return value

    # -- the whole ---------------------------------------------------------

    def run(self, values: Mapping[str, Any] | None) -> Report:
        done = self.evaluate(values)
        declared, resolved, missing = done.declared, done.resolved, done.missing
        flat = done.flat
        self.check_nested_names(flat)
        level, order = self.order(flat) if flat is not done.local else self.levels
        specs = tuple(d.spec for d in declared.values())
        kinds = {name: str(spec["type"]) for name, spec in flat.items()}
        dependencies = {name: tuple(sorted(spec["depends_on"])) for name, spec in flat.items()}
        secrets = _secrets(declared, resolved)
        shown = self.problems.all()
        problems = tuple(_redact(p, secrets) for p in shown) if secrets else shown
        if problems or missing or order is None:
            return Report(tuple(problems), specs, tuple(missing), order or (), kinds, dependencies)
        plan = Plan(
            template_version=done.version,
            description=done.description,
            parameters=tuple(
                ParameterValue(name, d.spec.type, resolved[name], d.spec.hidden)
                for name, d in sorted(declared.items())
            ),
            resources=tuple(
                ResourceSpec(
                    name=name,
                    type=spec["type"],
                    properties=materialize(spec["properties"]),
                    depends_on=tuple(sorted(spec["depends_on"])),
                    level=level[name],
                    deletion_policy=spec["deletion_policy"],
                    metadata=materialize(spec["metadata"]),
                    nested=spec.get("nested"),
                    update_policy=materialize(spec.get("update_policy") or {}),
                    external_id=spec.get("external_id"),
                )
                for name, spec in sorted(flat.items(), key=lambda i: (level[i[0]], i[0]))
            ),
            outputs=tuple(
                OutputSpec(name, materialize(value), description)
                for name, (value, description) in sorted(done.outputs.items())
            ),
        )
        return Report((), specs, (), order, kinds, dependencies, plan)

    def check_nested_names(self, flat: Mapping[str, Any]) -> None:
        """Plan names grow with nesting: each too long is reported at the top-level
        resource whose tree holds it, once."""
        reported: set[str] = set()
        for name in flat:
            parts = name.split(NESTED_SEPARATOR)
            if len(parts) == 1 or parts[0] in reported:
                continue
            if len(name) > MAX_NESTED_NAME or len(parts) > MAX_NESTED_PARTS:
                reported.add(parts[0])
                self.problem(
                    Code.INVALID_NAME,
                    f"resource {quote(clip(name, 80))} of the nested stacks of {quote(parts[0])} "
                    f"has a name of {len(name)} characters in {len(parts)} parts, with its "
                    f"parents' names; at most {MAX_NESTED_NAME} characters and "
                    f"{MAX_NESTED_PARTS} parts (shorten the names of the resources it is under)",
                    ("resources", parts[0]),
                )

    def evaluate(self, values: Mapping[str, Any] | None) -> _Evaluated:
        """Check and resolve this template, and expand its nested stacks."""
        version = self.check_sections()
        description = self.section("description", str, "")
        declared = self.declare_parameters()
        self.check_groups(declared)
        kinds = {name: d.spec.type for name, d in declared.items()}
        if self.site is None:
            self.environment = env.apply(
                self.environments,
                kinds,
                self.limits,
                self.problems.append,
                spent=self.document.nodes,  # one node budget: the template, its environments
            )
            self.scope.nodes = max(self.scope.nodes, self.document.nodes)
        else:
            self.environment = self.parent_environment.child(
                kinds, self.problems.append, self.site.mapped_by, registry=self.site.registry
            )
        resolved, missing = self.assign_values(declared, values)
        # Each template of a tree its own budget, charged to the whole plan's too.
        budget = Budget.of(self.limits, parent=self.scope.budget)
        # Conditions first: a resource whose condition is false does not exist.
        in_conditions = Resolver(self.document, resolved, {}, self.problems.append, budget)
        in_conditions.version = version
        self.conditions = Conditions(
            self.document, version, in_conditions, self.problems.append
        ).evaluate()
        self.types = self.resource_types()
        resolver = Resolver(
            self.document, resolved, self.types, self.problems.append, budget, files=self.files
        )
        resolver.version = version
        resolver.conditions = self.conditions
        resolver.prefix = self.prefix
        resolver.expand = self.expand
        resolver.facade = self.site.facade if self.site is not None else None
        self.resolver = resolver
        local = self.resources(self.types, resolver)
        outputs = self.outputs(resolver)
        self.levels = self.order(local)  # cycles among this template's own resources
        flat = self.flatten(local)
        return _Evaluated(version, description, declared, resolved, missing, local, flat, outputs)

    # -- sections and version ----------------------------------------------

    def check_sections(self) -> str:
        if "heat_template_version" not in self.data and (
            "HeatTemplateFormatVersion" in self.data or "AWSTemplateFormatVersion" in self.data
        ):
            self.problem(
                Code.UNSUPPORTED_FEATURE,
                "CloudFormation-format templates are not supported; cool reads HOT "
                "(heat_template_version)",
                (),
            )
            return ""
        for key in self.data:
            if key in UNSUPPORTED_SECTIONS:
                self.problem(
                    Code.UNSUPPORTED_FEATURE,
                    f"section {quote(key)}: {UNSUPPORTED_SECTIONS[key]}",
                    (key,),
                )
            elif key not in SECTIONS:
                self.problem(
                    Code.UNKNOWN_SECTION,
                    f"unknown section {quote(key)}{suggest(key, SECTIONS)} "
                    f"(sections: {', '.join(sorted(SECTIONS))})",
                    (key,),
                )
        if "heat_template_version" not in self.data:
            if "HeatTemplateFormatVersion" in self.data or "AWSTemplateFormatVersion" in self.data:
                self.problem(
                    Code.UNSUPPORTED_FEATURE,
                    "CloudFormation-format templates are not supported; cool reads HOT "
                    "(heat_template_version)",
                    (),
                )
            else:
                self.problem(
                    Code.MISSING_VERSION,
                    "heat_template_version is required (for example 2018-08-31 or wallaby)",
                    (),
                )
            return ""
        raw = self.data["heat_template_version"]
        version = versions.canonical(raw)
        if version is None:
            self.problem(
                Code.INVALID_VERSION,
                f"unknown heat_template_version {quote(raw)} "
                f"(known: {', '.join(versions.known())})",
                ("heat_template_version",),
            )
            return ""
        return version

    # -- parameters --------------------------------------------------------

    def declare_parameters(self) -> dict[str, Declared]:
        declared: dict[str, Declared] = {}
        for name, body in self.section("parameters", dict, {}).items():
            path: Path = ("parameters", name)
            if name in fn.PSEUDO_PARAMETERS:
                self.problem(
                    Code.INVALID_NAME,
                    f"{name} is a pseudo parameter set by cool; it cannot be declared",
                    path,
                )
                continue
            entry, problems = declare(name, body, path)
            for p in problems:
                self.problem(p.code, p.message, p.path)
            if entry is not None:
                declared[name] = entry
        return declared

    def check_groups(self, declared: Mapping[str, Declared]) -> None:
        groups = self.section("parameter_groups", list, [])
        seen: dict[str, int] = {}
        for index, group in enumerate(groups):
            path: Path = ("parameter_groups", index)
            if not isinstance(group, dict):
                self.problem(Code.INVALID_TYPE, "a parameter group must be a mapping", path)
                continue
            # Other keys than label, description and parameters are ignored, as Heat's
            # ParameterGroups ignores them (templates in use misspell "description").
            names = group.get("parameters", [])
            if not isinstance(names, list):
                self.problem(
                    Code.INVALID_TYPE,
                    "a group's parameters must be a list of names",
                    (*path, "parameters"),
                )
                continue
            for position, name in enumerate(names):
                here = (*path, "parameters", position)
                if not isinstance(name, str) or name not in self.section("parameters", dict, {}):
                    self.problem(
                        Code.UNKNOWN_GROUP_PARAMETER,
                        f"parameter group lists {quote(name)}, which is not a declared parameter"
                        + (suggest(name, declared) if isinstance(name, str) else ""),
                        here,
                    )
                elif name in seen:
                    self.problem(
                        Code.UNKNOWN_GROUP_PARAMETER,
                        f"parameter {quote(name)} is already in parameter group {seen[name]}",
                        here,
                    )
                else:
                    seen[name] = index

    def assign_values(
        self, declared: Mapping[str, Declared], values: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], list[str]]:
        resolved: dict[str, Any] = {}
        missing: list[str] = []
        site = self.site
        for name in values or {}:
            if site is not None and name not in declared:
                self.site_problem(
                    Code.UNKNOWN_PROPERTY,
                    f"{site.label}: unknown {site.given_as} {quote(name)}"
                    f"{suggest(name, declared)}: its template declares the parameters "
                    f"{', '.join(sorted(declared)) or '(none)'}",
                    (*site.properties, name),
                )
            elif name not in declared and name not in self.section("parameters", dict, {}):
                self.problem(
                    Code.PARAMETER_UNDECLARED,
                    f"a value was given for parameter {quote(name)}, which the template does not "
                    f"declare{suggest(name, declared)}",
                    # The value is not in the template: point at the declarations.
                    ("parameters",) if isinstance(self.data.get("parameters"), dict) else (),
                )
        # A value given with the request, then the environments' (cool.template.environment).
        given = {**self.environment.values, **(values or {})}
        for name, entry in declared.items():
            spec = entry.spec
            if site is not None and name in (values or {}) and contains_pending(given[name]):
                # Known when the build runs (or never: reported).
                resolved[name] = nested.parameter_value(spec.type, given[name])
                continue
            if name in given and given[name] is not None:
                # Located where an environment gave it, unless the request gave it.
                origin = self.environment if name not in (values or {}) else env.EMPTY
                try:
                    value = coerce(spec.type, given[name])
                except ValueError as exc:
                    self.value_problem(
                        origin,
                        name,
                        Code.PARAMETER_VALUE,
                        f"value of parameter {quote(name)} {exc}",
                        entry.path,
                    )
                    resolved[name] = Unknown(PARAMETER_KINDS[spec.type])
                    continue
                message = violation(spec, entry.checks, value)
                if message is not None:
                    self.value_problem(
                        origin,
                        name,
                        Code.PARAMETER_CONSTRAINT,
                        f"value of parameter {quote(name)}: {message}",
                        entry.path,
                    )
                resolved[name] = value
                self.refuse_function_shapes(name, value, entry.path)
            elif spec.has_default:
                resolved[name] = spec.default  # a function in it: reported by declare()
            else:
                if site is not None:
                    self.site_problem(
                        Code.MISSING_PROPERTY,
                        f"{site.label} needs {site.given_as} {quote(name)}: its template's "
                        f"parameter {quote(name)} has no default",
                        site.properties,
                    )
                elif values is not None:
                    self.problem(
                        Code.PARAMETER_MISSING,
                        f"parameter {quote(name)} needs a value (it has no default)",
                        entry.path,
                    )
                missing.append(name)
                resolved[name] = Unknown(PARAMETER_KINDS[spec.type])
        return resolved, missing

    def value_problem(
        self, origin: env.Applied, name: str, code: Code, message: str, path: Path
    ) -> None:
        if self.site is not None and origin is env.EMPTY:  # given as a property of the parent
            code = {Code.PARAMETER_VALUE: Code.PROPERTY_TYPE}.get(code, Code.PROPERTY_CONSTRAINT)
            message = message.replace("value of parameter", self.site.given_as, 1)
            self.site_problem(code, f"{self.site.label}: {message}", (*self.site.properties, name))
            return
        problem = origin.problem(name, code, message)
        if problem is None:
            self.problem(code, message, path)
        else:
            self.problems.append(problem)

    def report_in(self, document: Document, code: Code, message: str, path: Path) -> None:
        self.problems.append(document.problem(code, message, path))

    def site_problem(self, code: Code, message: str, path: Path) -> None:
        """A problem located in the parent template, where this nested one is used."""
        assert self.site is not None
        self.problems.append(self.site.document.problem(code, message, path))

    def refuse_function_shapes(self, name: str, value: Any, path: Path) -> None:
        """A json value that looks like a function would be run as one at build time."""
        stack = [value]
        while stack:
            node = stack.pop()
            if fn.function_name(node) is not None:
                self.problem(
                    Code.PARAMETER_VALUE,
                    f"value of parameter {quote(name)} contains {quote(next(iter(node)))} as a "
                    "one-key mapping, which cool would take for an intrinsic function",
                    path,
                )
                return
            if isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)

    # -- resources ---------------------------------------------------------

    def resource_types(self) -> dict[str, ResourceType | None]:
        resources = self.section("resources", dict, {})
        if len(resources) > self.limits.max_resources:
            self.problem(
                Code.TOO_MANY_RESOURCES,
                f"template has {len(resources)} resources, over the limit of "
                f"{self.limits.max_resources}",
                ("resources",),
            )
        self.scope.total += len(resources)
        if self.scope.over_total() and not self.scope.too_many:  # this template's own cross it
            self.scope.too_many = True
            self.problem(
                Code.TOO_MANY_RESOURCES,
                f"with its nested stacks the build would have more than "
                f"{self.limits.max_total_resources} resources ([template] max_total_resources)",
                ("resources",),
            )
        types: dict[str, ResourceType | None] = {}
        for name, body in resources.items():
            path: Path = ("resources", name)
            if not RESOURCE_NAME.fullmatch(name):
                self.problem(
                    Code.INVALID_NAME,
                    f"resource name {quote(name)} is not valid: use letters, digits, '_', '-' and "
                    "'.', starting with a letter, digit or '_' (at most 255)",
                    path,
                )
            if not isinstance(body, dict):
                self.problem(Code.INVALID_TYPE, f"resource {quote(name)} must be a mapping", path)
                types[name] = None  # still a name others may refer to
                continue
            if name in self.conditions.absent:
                types[name] = None  # does not exist: its type is not looked up, as in Heat
                continue
            types[name] = self.resource_type(name, body.get("type"), (*path, "type"))
        return types

    def resource_type(self, name: str, type_name: Any, path: Path) -> ResourceType | None:
        if type_name is None:
            self.problem(Code.MISSING_KEY, f"resource {quote(name)} needs a type", path[:-1])
            return None
        if not isinstance(type_name, str):
            self.problem(
                Code.INVALID_TYPE, f"type of resource {quote(name)} must be a string", path
            )
            return None
        found = self.environment.registry.resolve(type_name, name)
        via = f" (mapped by the environment: {env.describe(found.via)})" if found.via else ""
        if found.refused:
            self.problem(Code.INVALID_VALUE, found.refused, path)
            return None
        if found.template is not None:
            self.compounds[name] = (NestedKind.TEMPLATE, found.template, type_name)
            self.vias[name] = via
            if found.via:
                self.mapped[name] = found.via[-1]
            return None
        if found.switched_off:
            self.switched_off |= {name}
        rtype = self.registry.get(found.type_name)
        kind = nested.KINDS.get(found.type_name)
        if kind is not None and rtype is not None:  # a group's "source" is its group type
            group_type = found.type_name if kind is NestedKind.GROUP else None
            self.compounds[name] = (kind, group_type, type_name)
        if rtype is not None:
            return rtype
        if found.via:
            known = found.type_name in HEAT_RESOURCE_TYPES  # not misspelt: no "did you mean"
            names = [] if known else [t.name for t in self.registry]
            message = (
                f"resource type {quote(found.type_name)} is not supported by cool{via}"
                + suggest(found.type_name, names)
            )
        elif type_name in HEAT_RESOURCE_TYPES:  # not misspelt: no "did you mean"
            message = _heat_type_refused(type_name)
        elif type_name.endswith((".yml", ".json")) or "://" in type_name:
            message = (
                f"resource type {quote(type_name)} looks like a template file, but Heat takes a "
                f"template resource only from a name ending in {' or '.join(env.TEMPLATE_SUFFIXES)}"
            )
        else:
            message = (
                f"resource type {quote(type_name)} is not supported by cool"
                + suggest(type_name, [t.name for t in self.registry])
                + " (see 'cool resource-type list')"
            )
        self.problem(Code.UNSUPPORTED_RESOURCE_TYPE, message, path)
        return None

    def resources(
        self, types: Mapping[str, ResourceType | None], resolver: Resolver
    ) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, body in self.section("resources", dict, {}).items():
            if not isinstance(body, dict):
                continue
            path: Path = ("resources", name)
            for key in body:
                if key in UNSUPPORTED_RESOURCE_KEYS:
                    self.problem(
                        Code.UNSUPPORTED_FEATURE, UNSUPPORTED_RESOURCE_KEYS[key], (*path, key)
                    )
                elif key not in RESOURCE_KEYS:
                    self.problem(
                        Code.UNKNOWN_KEY,
                        f"unknown key {quote(key)} in resource {quote(name)}"
                        f"{suggest(key, RESOURCE_KEYS)}"
                        f" (allowed: {', '.join(sorted(RESOURCE_KEYS))})",
                        (*path, key),
                    )
            if self.conditions.enabled("resources", name) is False:
                continue  # does not exist (cool.template.conditions)
            if name in self.compounds:
                self.expand(name)
                properties, metadata, update_policy, refs = self.compound_parts[name]
            else:
                self.enter("resources", name)
                refs = set()
                resolver.current = name
                properties = self.properties(name, body, types.get(name), resolver, refs)
                metadata = self.metadata(body, path, resolver, refs)
                update_policy = self.update_policy(name, body, types.get(name), resolver, refs)
                resolver.current = None
                if (rtype := types.get(name)) is not None and rtype.name == SCALING_POLICY:
                    self.check_scaled_group(properties, types, path)
            depends_on = self.depends_on(name, body.get("depends_on"), types, path)
            policy = self.deletion_policy(body.get("deletion_policy"), path, resolver)
            nested_stack = name in self.compounds
            external = external_id(
                body, path, resolver, self.conditions, self.problem, nested=nested_stack
            )
            if external is not None:  # depends on nothing, kept in the cloud (as in Heat)
                refs, depends_on, policy = set(), set(), DeletionPolicy.RETAIN
            rtype = types.get(name)
            out[name] = {
                "type": rtype.name if rtype is not None else body.get("type"),
                "properties": properties,
                "metadata": metadata,
                # depends_on a resource whose condition is false is dropped, as in Heat.
                "depends_on": (refs | depends_on) - self.conditions.absent.keys(),
                "deletion_policy": policy,
                "update_policy": update_policy,
                **({"external_id": external} if external is not None else {}),
            }
            if name in self.compounds:
                out[name]["type"] = self.compounds[name][2]  # as written: a file, an alias
                out[name]["nested"] = self.compounds[name][0]
        add_implicit(out)  # the order Heat's resources add on their own
        return out

    def enter(self, kind: str, name: str) -> None:
        """Resolve the values of resource or output ``name`` from now on."""
        self.entered = (kind, name)
        self.conditions.within(kind, name)

    def properties(
        self,
        name: str,
        body: Mapping[str, Any],
        rtype: ResourceType | None,
        resolver: Resolver,
        refs: set[str],
    ) -> dict[str, Any]:
        path: Path = ("resources", name, "properties")
        raw = body.get("properties")
        if raw is None:
            raw = {}
        elif not isinstance(raw, dict) and fn.function_name(raw) is None:
            self.problem(Code.INVALID_TYPE, f"properties of {quote(name)} must be a mapping", path)
            return {}
        resolved = resolver.resolve(raw, path, refs)
        if "external_id" in body:
            return {}  # an existing resource: Heat neither checks nor uses its properties
        if isinstance(resolved, Deferred):
            self.problem(
                Code.INVALID_TYPE,
                f"properties of {quote(name)} must be a mapping known before the build runs",
                path,
            )
            return {}
        if not isinstance(resolved, dict):
            if not isinstance(resolved, Unknown):
                self.problem(
                    Code.INVALID_TYPE, f"properties of {quote(name)} must be a mapping", path
                )
            return {}
        if rtype is None:
            return resolved
        if name in self.switched_off:
            return {}  # switched off by the environment: ignored, as Heat does

        def report(code: Code, message: str, at: Path) -> None:
            self.problem(code, message, at)

        if name in self.compounds:  # what makes its nested stack: only values that passed
            return passed_properties(rtype, resolved, path, report)
        return check_properties(rtype, resolved, path, report)

    def metadata(
        self, body: Mapping[str, Any], path: Path, resolver: Resolver, refs: set[str]
    ) -> dict[str, Any]:
        raw = body.get("metadata")
        if raw is None:
            return {}
        resolved = resolver.resolve(raw, (*path, "metadata"), refs)
        if not isinstance(resolved, dict):
            if not isinstance(resolved, Unknown):
                self.problem(Code.INVALID_TYPE, "metadata must be a mapping", (*path, "metadata"))
            return {}
        return resolved

    def update_policy(
        self,
        name: str,
        body: Mapping[str, Any],
        rtype: ResourceType | None,
        resolver: Resolver,
        refs: set[str],
    ) -> dict[str, Any]:
        """The resource's update_policy, against its type's schema (Heat's
        update_policy_schema): a type without one takes none."""
        raw = body.get("update_policy")
        if raw is None:
            return {}
        here: Path = ("resources", name, "update_policy")
        value = resolver.resolve(raw, here, refs)
        if isinstance(value, Unknown):
            return {}
        if not isinstance(value, dict):
            self.problem(Code.INVALID_TYPE, "update_policy must be a mapping", here)
            return {}
        kind = self.compounds.get(name, (None,))[0]
        if rtype is None or kind is NestedKind.TEMPLATE:
            return value  # unchecked: a template resource's is its template's to read
        if not rtype.update_policy:
            for key in value:
                self.problem(
                    Code.UNKNOWN_KEY,
                    f"resource type {rtype.name} takes no update_policy: {quote(key)} is not "
                    "one of its policies",
                    (*here, key),
                )
            return {}
        policies = ResourceType(rtype.name, "", rtype.update_policy, {})
        checked = passed_properties(policies, value, here, self.problem)
        batch = checked.get("batch_create")
        pause = batch.get("pause_time") if isinstance(batch, dict) else None
        if isinstance(pause, int | float) and pause > 0:
            self.problem(
                Code.UNSUPPORTED_FEATURE,
                "batch_create's pause_time is not supported: a batch starts as soon as the "
                "one before it has completed (remove pause_time or set it to 0)",
                (*here, "batch_create", "pause_time"),
            )
        return checked

    def depends_on(
        self,
        name: str,
        raw: Any,
        types: Mapping[str, ResourceType | None],
        path: Path,
    ) -> set[str]:
        here = (*path, "depends_on")
        if raw is None:
            return set()
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list):
            self.problem(
                Code.INVALID_TYPE, "depends_on must be a resource name or a list of names", here
            )
            return set()
        out: set[str] = set()
        resources = self.section("resources", dict, {})
        for index, item in enumerate(items):
            at = here if isinstance(raw, str) else (*here, index)
            if not isinstance(item, str):
                self.problem(Code.INVALID_TYPE, "depends_on lists resource names", at)
            elif item == name:
                self.problem(Code.DEPENDENCY_CYCLE, f"resource {quote(name)} depends on itself", at)
            elif item not in resources:
                self.problem(
                    Code.UNKNOWN_RESOURCE,
                    f"depends_on names unknown resource {quote(item)}{suggest(item, resources)}",
                    at,
                )
            else:
                out.add(item)
        return out

    def deletion_policy(self, raw: Any, path: Path, resolver: Resolver) -> DeletionPolicy:
        if raw is None:
            return DeletionPolicy.DELETE
        here = (*path, "deletion_policy")
        value = resolver.resolve(raw, here, set())
        if isinstance(value, Unknown):
            return DeletionPolicy.DELETE
        if isinstance(value, str):
            for policy in DeletionPolicy:
                if value in (policy.value, policy.value.lower()):  # as Heat accepts them
                    return policy
            if value.lower() == "snapshot":
                self.problem(
                    Code.UNSUPPORTED_FEATURE,
                    "deletion_policy Snapshot is not supported (use Delete or Retain)",
                    here,
                )
                return DeletionPolicy.DELETE
        self.problem(
            Code.INVALID_VALUE,
            f"deletion_policy must be Delete or Retain, not {quote(value)}"
            if not isinstance(value, Deferred)
            else "deletion_policy must be known before the build runs",
            here,
        )
        return DeletionPolicy.DELETE

    # -- nested stacks (cool.template.nested) --------------------------------

    def expand(self, name: str) -> Any:
        """What resource ``name`` became if it stands for a nested stack (an
        :class:`~cool.template.nested.Expanded`, or Unknown when it could not be made),
        else None. Made once, when first needed: a get_attr into it may come first."""
        if name not in self.compounds:
            return None
        made = self.expanded.get(name)
        if made is _EXPANDING:
            return Unknown()  # a cycle through its properties: reported by order()
        if made is not None:
            return made
        self.expanded[name] = _EXPANDING
        assert self.resolver is not None
        resolver, saved, entered = self.resolver, self.resolver.current, self.entered
        kind, source, type_name = self.compounds[name]
        body = self.section("resources", dict, {})[name]
        path: Path = ("resources", name)
        self.enter("resources", name)
        refs: set[str] = set()
        resolver.current = name
        raw = body.get("properties")
        inline = kind is NestedKind.STACK and isinstance(raw, dict) and _inline(raw.get("template"))
        if inline:  # the nested template's own functions are not the parent's to resolve
            body = {**body, "properties": {**raw, "template": ""}}
        properties = self.properties(name, body, self.types.get(name), resolver, refs)
        metadata = self.metadata(body, path, resolver, refs)
        update_policy = self.update_policy(name, body, self.types.get(name), resolver, refs)
        policy = self.deletion_policy(body.get("deletion_policy"), path, resolver)
        resolver.current = saved
        if entered is not None:
            self.enter(*entered)
        self.compound_parts[name] = (properties, metadata, update_policy, refs)
        where = _Where(
            self.document,
            path,
            (*path, "properties"),
            (*path, "type"),
            None,
            self.mapped.get(name),
            self.registry_child(self.environment.registry, name, self.mapped.get(name)),
        )
        if inline:
            properties = {**properties, "template": raw["template"]}
            where = replace(where, inline=(*path, "properties", "template"))
        made = self.instantiate(
            kind,
            source,
            type_name,
            self.prefix + name,
            properties=properties,
            where=where,
            facade={
                "metadata": metadata,
                "deletion_policy": str(policy),
                "update_policy": update_policy,
            },
            update_policy=update_policy,
            label=f"resource {quote(name)} ({clip(type_name, MAX_NAME)}){self.vias.get(name, '')}",
        )
        self.expanded[name] = made if made is not None else Unknown()
        return self.expanded[name]

    def instantiate(
        self,
        kind: NestedKind,
        source: str | None,
        type_name: str,
        plan_name: str,
        *,
        properties: Mapping[str, Any],
        where: _Where,
        facade: Mapping[str, Any],
        label: str,
        update_policy: Mapping[str, Any] | None = None,
    ) -> nested.Expanded | None:
        """The nested stack of a resource (checked properties in ``properties``)."""
        if self.depth >= self.limits.max_stack_depth:
            self.report_in(
                where.document,
                Code.STACK_TOO_DEEP,
                f"{label}: nested stacks may go {self.limits.max_stack_depth} levels deep "
                "([template] max_stack_depth, Heat's max_nested_stack_depth); this one would "
                "be deeper (a template that uses itself?)",
                where.type,
            )
            return None
        if self.over_total(where):
            return None
        if kind is NestedKind.GROUP:
            return self.group(
                source or groups.RESOURCE_GROUP,
                type_name,
                plan_name,
                properties,
                where,
                label=label,
                update_policy=update_policy or {},
            )
        if kind is NestedKind.STACK:
            document = self.stack_document(properties.get("template"), where, label)
            values = properties.get("parameters")
            given = (*where.properties, "parameters")
        else:
            assert source is not None
            document = self.nested_document(source, where, label)
            values, given = properties, where.properties
        if isinstance(values, Deferred):
            self.report_in(
                where.document,
                Code.INVALID_VALUE,
                f"{label}: parameters must be known before the build runs (a mapping; its "
                "values may be resources' attributes)",
                given,
            )
            return None
        if document is None or not isinstance(values, dict | None):
            return None  # Unknown: reported by the property checks, or not known yet
        if self.over_nodes(document, where, label):
            return None
        noun = "parameter" if kind is NestedKind.STACK else "property"
        site = _Site(where.document, given, label, facade, noun, where.mapped_by, where.registry)
        return self.child(document, kind, type_name, plan_name, values=values or {}, site=site)

    def registry_child(
        self, registry: env.Registry, name: str, without: env.Entry | None
    ) -> env.Registry:
        """:meth:`Registry.child`, its work (a match per nested entry) counted as nodes."""
        self.scope.nodes += len(registry.nested)
        return registry.child(name, self.problems.append, without)

    def over_nodes(self, document: Document, where: _Where, label: str) -> bool:
        """Each use of a nested template is evaluated whole: its nodes count again
        against ``[template] max_template_nodes`` (its first use was counted when it
        was parsed), so a large template used by many members is bounded too."""
        weight = self.scope.weights.get(id(document), 0)
        uses = self.scope.uses.get(id(document), 0)
        self.scope.uses[id(document)] = uses + 1
        if uses:
            self.scope.nodes += weight
        if self.scope.nodes <= self.limits.max_nodes:
            return False
        if not self.scope.too_many_nodes:
            self.scope.too_many_nodes = True
            self.report_in(
                where.document,
                Code.TOO_LARGE,
                f"{label}: the templates of this build, each counted as often as it is used "
                f"(a group's members, nested stacks), hold more than {self.limits.max_nodes:,} "
                "nodes ([template] max_template_nodes); nothing past this one is expanded",
                where.type,
            )
        return True

    def over_total(self, where: _Where) -> bool:
        """The tree has more resources than it may: reported once, nothing more is made."""
        if not self.scope.over_total():
            return False
        if not self.scope.too_many:
            self.scope.too_many = True
            self.report_in(
                where.document,
                Code.TOO_MANY_RESOURCES,
                f"with its nested stacks the build would have more than "
                f"{self.limits.max_total_resources} resources ([template] max_total_resources); "
                "nothing past this one is expanded",
                where.type,
            )
        return True

    def child(
        self,
        document: Document,
        kind: NestedKind,
        type_name: str,
        plan_name: str,
        *,
        values: Mapping[str, Any],
        site: _Site,
    ) -> nested.Expanded:
        compiler = _Compiler(document, self.registry, self.limits)
        compiler.files, compiler.scope, compiler.problems = self.files, self.scope, self.problems
        compiler.prefix = plan_name + NESTED_SEPARATOR
        compiler.depth = self.depth + 1
        compiler.site = site
        compiler.parent_environment = self.environment
        before = len(self.problems)
        done = compiler.evaluate(values)
        made = nested.Expanded(kind, plan_name, type_name)
        for local in done.local:
            member = compiler.expanded.get(local)
            if local in compiler.compounds and isinstance(member, nested.Expanded):
                made.members[local] = member
            elif local not in compiler.compounds:
                made.members[local] = nested.Member(
                    compiler.prefix + local, compiler.types.get(local)
                )
        made.outputs = {out: value for out, (value, _) in done.outputs.items()}
        made.flat = done.flat
        made.complete = len(self.problems) == before and not done.missing
        return made

    def group(
        self,
        group_type: str,
        type_name: str,
        plan_name: str,
        properties: Mapping[str, Any],
        where: _Where,
        *,
        label: str,
        update_policy: Mapping[str, Any],
    ) -> nested.Expanded | None:
        """A group (cool.template.groups): its members ``<group>/0`` .. ``<group>/<n-1>``;
        with ResourceGroup's batch_create, each batch after the one before it."""
        if group_type == groups.INSTANCE_GROUP:
            shape = self.instance_group_shape(plan_name, properties, where, label, update_policy)
        else:
            shape = groups.shape(
                group_type, dict(properties), dict(update_policy), where.properties
            )
        if shape is None:
            return None
        count, definition = shape.count, shape.definition
        for key, value in shape.deciding:
            if isinstance(value, Deferred):
                self.report_in(
                    where.document,
                    Code.INVALID_VALUE,
                    f"{label}: {key} must be known before the build runs (not a resource's "
                    "attribute): every member is planned up front",
                    (*where.properties, *key.split(".")),
                )
                return None
        if not isinstance(definition, dict) or not isinstance(count, int | Unknown):
            return None  # Unknown: reported by the property checks, or not known yet
        member_type = definition.get("type")
        if isinstance(member_type, Deferred):
            self.report_in(
                where.document,
                Code.INVALID_VALUE,
                f"{label}: the members' type must be known before the build runs",
                shape.type_at,
            )
            return None
        if not isinstance(member_type, str):
            return None
        known = not isinstance(count, Unknown)
        # One name past the bound at most: a huge count costs what the bound does.
        wanted = min(count, self.limits.max_total_resources + 1) if known else 1
        names, skipped = groups.member_names(wanted, shape.removal_policies)
        if group_type == groups.AUTOSCALING_GROUP and plan_name in self.scope.members:
            # A resize's names: bounded as a count is (one past the bound at most).
            given = self.scope.members[plan_name]
            names, known = list(given[: self.limits.max_total_resources + 1]), True
        made = nested.Expanded(
            NestedKind.GROUP, plan_name, type_name, skipped=skipped, group=group_type
        )
        member_where = _Where(
            where.document, where.path, shape.properties_at, shape.type_at, registry=where.registry
        )
        size = shape.batch_size
        before: set[str] = set()  # the previous batch's members, which this batch waits for
        batch: set[str] = set()
        for position, index in enumerate(names):
            if size is not None and position and position % size == 0:
                before, batch = batch, set()
            batch.add(plan_name + NESTED_SEPARATOR + index)
            self.scope.total += 1  # counted before the check: the member itself may cross it
            if self.over_total(member_where):
                made.complete = False
                break
            member_properties = definition.get("properties") or {}
            member_metadata = definition.get("metadata") or {}
            # An AutoScalingGroup's definition may say deletion_policy (its schema checks
            # the value); ResourceGroup's resource_def has no such key.
            retain = str(definition.get("deletion_policy", "")).lower() == "retain"
            if shape.index_var is not None:
                member_properties = nested.replace_index(member_properties, shape.index_var, index)
                member_metadata = nested.replace_index(member_metadata, shape.index_var, index)
            try:  # each member's copy of the definition is part of the plan: charged to it
                self.scope.budget.charge_value("resource_def", member_properties)
                self.scope.budget.charge_value("resource_def", member_metadata)
            except ResolutionTooLargeError as exc:
                self.report_in(
                    where.document,
                    Code.RESOLUTION_TOO_LARGE,
                    f"{label}: member {index}: {exc.message}",
                    member_where.properties,
                )
                made.complete = False
                break
            self.depth += 1  # a group is a nested stack: its members are a level down (Heat)
            try:
                member = self.member(
                    member_type,
                    plan_name + NESTED_SEPARATOR + index,
                    member_properties,
                    member_metadata,
                    member_where,
                    label=f"the members of {label}",
                    flat=made.flat,
                    after=before,
                    deletion_policy=retain,
                )
            finally:
                self.depth -= 1
            if member is None:
                made.complete = False
                continue
            made.members[index] = member
            if made.member_type is None:
                made.member_type = member
        if not known:
            made.members, made.flat, made.complete = {}, {}, False
        return made

    def instance_group_shape(
        self,
        plan_name: str,
        properties: Mapping[str, Any],
        where: _Where,
        label: str,
        update_policy: Mapping[str, Any],
    ) -> groups.Shape | None:
        """OS::Heat::InstanceGroup's members, from the launch configuration its
        LaunchConfigurationName refers to (Heat's validate_launchconfig and
        _get_conf_properties): the configuration's properties as its template gives them."""
        rolling = update_policy.get("RollingUpdate")
        pause = rolling.get("PauseTime") if isinstance(rolling, dict) else None
        refused = heat_groups.check_pause_time(pause)
        if refused is not None:
            at = (*where.path, "update_policy", "RollingUpdate", "PauseTime")
            self.report_in(where.document, Code.PROPERTY_CONSTRAINT, refused, at)
            return None
        at = (*where.properties, "LaunchConfigurationName")
        ref = properties.get("LaunchConfigurationName")
        resources = self.section("resources", dict, {})
        named = None
        if isinstance(ref, Deferred) and list(ref.expr) == [fn.GET_RESOURCE]:
            named = str(ref.expr[fn.GET_RESOURCE]).removeprefix(self.prefix)
        if not isinstance(ref, Deferred | Unknown) and ref is not None:
            if isinstance(ref, str) and ref in resources:
                message = (
                    f"LaunchConfigurationName ({ref}) requires a reference to the "
                    f"configuration not just the name of the resource: use "
                    f"{{get_resource: {ref}}}"
                )
            else:
                message = f"LaunchConfigurationName ({quote(ref)}) reference can not be found"
            self.report_in(where.document, Code.INVALID_VALUE, f"{label}: {message}", at)
            return None
        if named is None or self.where_launch_configuration(named) is None:
            if isinstance(ref, Deferred):
                self.report_in(
                    where.document,
                    Code.INVALID_VALUE,
                    f"{label}: LaunchConfigurationName must be a get_resource of an "
                    f"{groups.LAUNCH_CONFIGURATION} of this template",
                    at,
                )
            return None  # Unknown, or its type unsupported: reported there
        body = resources[named]
        configuration_at: Path = ("resources", named, "properties")
        raw = body.get("properties")
        if isinstance(raw, dict) and "InstanceId" in raw:
            self.report_in(
                where.document,
                Code.UNSUPPORTED_FEATURE,
                f"{label}: a launch configuration made from an existing instance (InstanceId) "
                "is not supported by groups: give its ImageId and InstanceType",
                (*configuration_at, "InstanceId"),
            )
            return None
        configuration, metadata = self.resolved_elsewhere(named, body)
        if not isinstance(configuration, dict):
            return None
        return groups.instance_group_shape(
            dict(properties),
            configuration,
            metadata=metadata,
            group_name=plan_name.rpartition(NESTED_SEPARATOR)[2],
            at=where.properties,
            configuration_at=configuration_at,
        )

    def check_scaled_group(
        self, properties: Mapping[str, Any], types: Mapping[str, ResourceType | None], path: Path
    ) -> None:
        """A scaling policy's group must be known when the template is checked: a resize
        plans the group's members again (cool.template.scaling), so it must be one of
        this template's AutoScalingGroups, named by get_resource (as every Heat example
        does)."""
        ref = properties.get("auto_scaling_group_id")
        if ref is None or isinstance(ref, Unknown):
            return  # missing or unknown: reported where it is (or is not)
        named = None
        if isinstance(ref, Deferred) and list(ref.expr) == [fn.GET_RESOURCE]:
            named = str(ref.expr[fn.GET_RESOURCE]).removeprefix(self.prefix)
        group = types.get(named) if named is not None else None
        if group is not None and group.name == groups.AUTOSCALING_GROUP:
            return
        self.problem(
            Code.UNSUPPORTED_FEATURE,
            "auto_scaling_group_id: cool scales an OS::Heat::AutoScalingGroup of the same "
            "template, named by {get_resource: <group>}"
            + (f"; {quote(named)} is a {group.name}" if group is not None and named else ""),
            (*path, "properties", "auto_scaling_group_id"),
        )

    def where_launch_configuration(self, name: str) -> ResourceType | None:
        """The launch configuration resource ``name`` of this template, if it is one."""
        rtype = self.types.get(name)
        if rtype is None or rtype.name != groups.LAUNCH_CONFIGURATION:
            return None
        return rtype

    def resolved_elsewhere(self, name: str, body: Mapping[str, Any]) -> tuple[Any, Any]:
        """Another resource's properties and metadata, resolved (as its own step resolves
        them: their problems are reported there, once)."""
        assert self.resolver is not None
        resolver, saved, entered = self.resolver, self.resolver.current, self.entered
        path: Path = ("resources", name)
        self.enter("resources", name)
        resolver.current = name
        try:
            raw = body.get("properties")
            configuration = resolver.resolve(
                {} if raw is None else raw, (*path, "properties"), set()
            )
            metadata = self.metadata(body, path, resolver, set())
        finally:
            resolver.current = saved
            if entered is not None:
                self.enter(*entered)
        return configuration, metadata

    def member(
        self,
        type_name: str,
        plan_name: str,
        properties: Any,
        metadata: Any,
        where: _Where,
        *,
        label: str,
        flat: dict[str, dict[str, Any]],
        after: set[str] | None = None,
        deletion_policy: bool = False,
    ) -> nested.Member | nested.Expanded | None:
        """One member of a group: a plain resource, or a nested stack of its own. Its
        plan entries go into ``flat`` (the group's). ``deletion_policy``: Retain (a
        plain member only: a nested stack is retained by its own resources' policies)."""
        index = plan_name.rpartition(NESTED_SEPARATOR)[2]
        registry = where.registry or self.environment.registry.child("", self.problems.append)
        found = registry.resolve(type_name, index)
        if found.via:
            label += f" (mapped by the environment: {env.describe(found.via)})"
        if found.refused:
            self.report_in(where.document, Code.INVALID_VALUE, found.refused, where.type)
            return None
        kind = (
            NestedKind.TEMPLATE if found.template is not None else nested.KINDS.get(found.type_name)
        )
        rtype = None if found.template is not None else self.registry.get(found.type_name)
        if rtype is None and kind is not NestedKind.TEMPLATE:
            self.unsupported_member(type_name, found, where)
            return None
        checked: Any = properties
        if rtype is not None and found.switched_off:
            checked = {}
        elif rtype is not None and isinstance(properties, dict):
            checked = (check_properties if kind is None else passed_properties)(
                rtype,
                properties,
                where.properties,
                lambda c, m, at: self.report_in(where.document, c, m, at),
            )
        spec: dict[str, Any] = {
            "type": rtype.name if rtype is not None and kind is None else type_name,
            "properties": checked,
            "metadata": metadata,
            "depends_on": set(after or ()),  # its batch waits for the one before (grafted on)
            "deletion_policy": DeletionPolicy.DELETE,
        }
        if deletion_policy and kind is not None:
            self.report_in(
                where.document,
                Code.UNSUPPORTED_FEATURE,
                f"{label}: deletion_policy Retain of a nested stack is not supported (give "
                "the resources of its template deletion_policy Retain)",
                (*where.type[:-1], "deletion_policy"),
            )
            return None
        if deletion_policy:
            spec["deletion_policy"] = DeletionPolicy.RETAIN
        if kind is None:
            flat[plan_name] = spec
            return nested.Member(plan_name, rtype)
        if not isinstance(checked, dict):
            return None  # Unknown: reported by the property checks, or not known yet
        mapped_by = found.via[-1] if found.template is not None and found.via else None
        where = replace(
            where,
            mapped_by=mapped_by,
            registry=self.registry_child(registry, index, mapped_by),
        )
        made = self.instantiate(
            kind,
            found.template if found.template is not None else found.type_name,
            type_name,
            plan_name,
            properties=checked,
            where=where,
            facade={"metadata": metadata, "deletion_policy": "Delete", "update_policy": {}},
            label=label,
        )
        if made is None:
            return None
        spec["nested"] = kind
        self.graft(plan_name, spec, made, flat)
        return made

    def unsupported_member(self, type_name: str, found: env.Resolution, where: _Where) -> None:
        if type_name in HEAT_RESOURCE_TYPES or found.type_name in HEAT_RESOURCE_TYPES:
            message = _heat_type_refused(found.type_name)
        else:
            message = (
                f"resource type {quote(found.type_name)} is not supported by cool"
                + suggest(found.type_name, [t.name for t in self.registry])
                + " (see 'cool resource-type list')"
            )
        self.report_in(where.document, Code.UNSUPPORTED_RESOURCE_TYPE, message, where.type)

    def nested_document(self, source: str, where: _Where, label: str) -> Document | None:
        """A template resource's template, from the request's files (parsed once)."""
        documents = self.scope.documents
        if source in documents:
            return documents[source]
        documents[source] = None
        text = self.files.get(source)
        if text is None:
            self.report_in(
                where.document,
                Code.MISSING_FILE,
                f"{label}: template {quote(source)} is not among the request's files: cool never "
                "fetches a template; send it in files (cool validate and cool submit bundle "
                "the files a template names, as heatclient does)"
                + suggest(source, [f for f in self.files if f not in self.scope.environments]),
                where.type,
            )
            return None
        documents[source] = self.parse_nested(text, source)
        return documents[source]

    def stack_document(self, template: Any, where: _Where, label: str) -> Document | None:
        """OS::Heat::Stack's template: a mapping written inline, or text (get_file)."""
        at = (*where.properties, "template")
        if isinstance(template, dict) and where.inline is not None:
            return where.document.within(where.inline, template)
        if isinstance(template, Deferred):
            self.report_in(
                where.document,
                Code.INVALID_VALUE,
                f"{label}: template must be known before the build runs",
                at,
            )
            return None
        if isinstance(template, dict):
            self.report_in(
                where.document,
                Code.UNSUPPORTED_FEATURE,
                f"{label}: a template written inline in a group's resource_def is not "
                "supported; read it from a file (get_file) or use a template resource",
                at,
            )
            return None
        if not isinstance(template, str):
            if not isinstance(template, Unknown):
                self.report_in(
                    where.document,
                    Code.INVALID_TYPE,
                    f"{label}: template must be a template: its text (for example from "
                    f"get_file) or a mapping, not {quote(template)}",
                    at,
                )
            return None
        raw = self.section("resources", dict, {})
        return self.parse_nested(template, _stack_file(raw, where.path) or pointer(at))

    def parse_nested(self, text: str, name: str) -> Document | None:
        try:
            document = parse(text, self.limits, spent=self.scope.nodes)
        except TemplateInvalidError as exc:
            for found in exc.problems:
                self.problems.append(replace(found, file=name))
            return None
        own = document.nodes - self.scope.nodes
        self.scope.nodes = document.nodes
        document = replace(document, file=name)
        self.scope.weights[id(document)] = own
        return document

    def flatten(self, local: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Every resource of this template's tree by plan name, depends_on too."""
        if not self.compounds and not self.prefix:
            return local
        flat: dict[str, dict[str, Any]] = {}
        for name, spec in local.items():
            plan_name = self.prefix + name
            entry = {**spec, "depends_on": {self.prefix + d for d in spec["depends_on"]}}
            made = self.expanded.get(name) if name in self.compounds else None
            if isinstance(made, nested.Expanded):
                self.graft(plan_name, entry, made, flat)
            else:
                flat[plan_name] = entry
        return flat

    @staticmethod
    def graft(
        plan_name: str,
        entry: dict[str, Any],
        made: nested.Expanded,
        flat: dict[str, dict[str, Any]],
    ) -> None:
        """A nested stack's resource and its tree into ``flat``: the resource depends
        on its members, and what its members do not wait for inside the tree waits for
        what the resource depends on (nothing of a nested stack starts before its
        resource may)."""
        inside = plan_name + NESTED_SEPARATOR
        outside = set(entry["depends_on"])
        entry["depends_on"] = outside | {m.name for m in made.members.values()}
        flat[plan_name] = entry
        for name, spec in made.flat.items():
            if outside and not any(d.startswith(inside) for d in spec["depends_on"]):
                flat[name] = {**spec, "depends_on": spec["depends_on"] | outside}
            else:
                flat[name] = spec

    # -- outputs -----------------------------------------------------------

    def outputs(self, resolver: Resolver) -> dict[str, tuple[Any, str]]:
        out: dict[str, tuple[Any, str]] = {}
        for name, body in self.section("outputs", dict, {}).items():
            path: Path = ("outputs", name)
            if not isinstance(body, dict):
                self.problem(Code.INVALID_TYPE, f"output {quote(name)} must be a mapping", path)
                continue
            for key in body:
                if key in UNSUPPORTED_OUTPUT_KEYS:
                    self.problem(
                        Code.UNSUPPORTED_FEATURE, UNSUPPORTED_OUTPUT_KEYS[key], (*path, key)
                    )
                elif key not in OUTPUT_KEYS:
                    self.problem(
                        Code.UNKNOWN_KEY,
                        f"unknown key {quote(key)} in output {quote(name)} "
                        "(allowed: condition, description, value)",
                        (*path, key),
                    )
            description = body.get("description")
            if description is None:  # absent or empty (YAML null), as Heat allows
                description = ""
            elif not isinstance(description, str):
                self.problem(
                    Code.INVALID_TYPE,
                    "an output's description must be a string",
                    (*path, "description"),
                )
                description = ""
            if "value" not in body:
                self.problem(Code.MISSING_KEY, f"output {quote(name)} needs a value", path)
                continue
            if self.conditions.enabled("outputs", name) is False:
                out[name] = (None, description)  # Heat shows it as null
                continue
            self.enter("outputs", name)
            value = resolver.resolve(body["value"], (*path, "value"), set())
            out[name] = (value, description)
        return out

    # -- graph -------------------------------------------------------------

    def order(
        self, resources: Mapping[str, Mapping[str, Any]]
    ) -> tuple[dict[str, int], tuple[tuple[str, ...], ...] | None]:
        deps = {
            name: set(spec["depends_on"]) & resources.keys() for name, spec in resources.items()
        }
        level, cycles = graph_levels(deps)
        for cycle in cycles:
            self.problem(
                Code.DEPENDENCY_CYCLE,
                "dependency cycle: "
                + " -> ".join(clip(name, MAX_NAME) for name in cycle)
                + " (each depends on the next)",
                ("resources", cycle[0]),
            )
        if cycles:
            return level, None
        groups: list[list[str]] = []
        for name, lv in sorted(level.items(), key=lambda i: (i[1], i[0])):
            while len(groups) <= lv:
                groups.append([])
            groups[lv].append(name)
        return level, tuple(tuple(g) for g in groups)


def _secrets(declared: Mapping[str, Declared], values: Mapping[str, Any]) -> list[str]:
    """The text of every hidden parameter's value (and default), longest first."""
    hidden = [name for name, entry in declared.items() if entry.spec.hidden]
    return secret_texts(
        [*(values.get(name) for name in hidden), *(declared[name].spec.default for name in hidden)]
    )


def _redact(problem: Problem, secrets: list[str]) -> Problem:
    """The problem with hidden values masked, wherever a message happened to quote one."""
    message = problem.message
    for secret in secrets:
        message = message.replace(repr(secret), "'******'")
        shortened = quote(secret)  # how a long one is quoted
        if shortened != repr(secret):
            message = message.replace(shortened, "'******'")
        if len(secret) >= 3:  # shorter ones are masked only where quoted
            message = message.replace(secret, "******")
    if message == problem.message:
        return problem
    return replace(problem, message=message)


def _heat_type_refused(type_name: str) -> str:
    """A Heat type cool refuses (not misspelt: no "did you mean"), and why."""
    return (
        f"resource type {quote(type_name)} is a Heat resource type that cool does not "
        f"support: {why_unsupported(type_name)}; see 'cool resource-type list'"
    )


__all__ = ["Report", "check", "compile_template", "contains_unknown"]
