"""Conditions: the ``conditions`` section, ``condition:`` fields, ``if`` and the
condition functions ``equals``, ``not``, ``and``, ``or`` and ``contains``.

Conditions depend only on parameters, so cool evaluates them when the
template is compiled: the plan holds only the resources whose condition is
true, an output whose condition is false has the value None, and each
``if`` is replaced by the branch it takes. Nothing at run time knows about
conditions. Without parameter values a condition may be unknown: then both
branches of such an ``if`` and every conditioned resource are checked, and
no plan is made (as for any unknown value).

Heat's rules, followed here: heat/engine/conditions.py (``Conditions``: a
definition is a boolean or a function, and resolves to a boolean; names
refer to names, a cycle is an error), heat/engine/hot/template.py
(``HOTemplate20161014.condition_functions`` and the later tables: which
functions a condition may use in which version; every other function is
``function.Invalid`` there; ``resource_definitions``: a resource whose
condition is false does not exist), heat/engine/hot/functions.py (``If``, a
macro: only the branch taken is looked at; ``IfNullable``: the two-argument
form of 2021-04-16 elides its enclosing item; ``Equals``, ``Not``, ``And``,
``Or``, ``Contains``), heat/engine/template_common.py (``outputs``: an
output whose condition is false has no value) and heat/engine/rsrc_defn.py
(``dependencies``: ``depends_on`` a resource whose condition is false is
dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from cool.resources.schema import PropertyType
from cool.template import functions as fn
from cool.template import versions
from cool.template.graph import levels
from cool.template.parse import Document
from cool.template.problems import Code, Path, Problem
from cool.template.quoting import MAX_NAME, clip, listing, quote
from cool.template.values import ANY, Deferred, Unknown, contains_unknown, materialize

if TYPE_CHECKING:
    from cool.template.resolve import Resolver

NEWTON = "2016-10-14"  # the conditions section, condition: fields, if, equals, not, and, or
PIKE = "2017-09-01"  # contains (a value function and a condition function), yaql in conditions
WALLABY = "2021-04-16"  # if with two arguments

IF = "if"
EQUALS = "equals"
NOT = "not"
AND = "and"
OR = "or"
CONTAINS = "contains"
YAQL = "yaql"

# What a condition may call, with the first version whose condition_functions has it.
CONDITION_FUNCTIONS: Mapping[str, str] = {
    fn.GET_PARAM: NEWTON,
    EQUALS: NEWTON,
    NOT: NEWTON,
    AND: NEWTON,
    OR: NEWTON,
    CONTAINS: PIKE,
    YAQL: PIKE,
}
# Functions Heat has only in conditions: in a value Heat takes them for data, cool refuses them.
CONDITION_ONLY = frozenset({EQUALS, NOT, AND, OR})

# Named conditions evaluated inside one another (a name only get_param gives can
# nest them; names written in the template are evaluated in dependency order).
MAX_NESTING = 32

Truth = bool | None  # None: not known (a parameter without a value, or a problem reported)


class _Omitted:
    """What a two-argument ``if`` gives when its condition is false: the enclosing
    item is left out, as if never written (Heat's Ellipsis)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED = _Omitted()
_IN_PROGRESS = object()
_UNSEEN = object()


class Conditions:
    """The conditions of one template, each evaluated once, and what they decide.

    ``parameters`` resolves ``get_param`` (and ``yaql``) inside conditions;
    ``absent`` maps each resource whose condition is false to that condition
    as written. Build with :meth:`evaluate`.
    """

    def __init__(
        self,
        document: Document,
        version: str,
        parameters: Resolver,
        report: Callable[[Problem], None],
    ) -> None:
        self.version = version  # "" when unknown: then every feature is allowed
        self.absent: dict[str, str] = {}
        self.uncertain = 0  # how many branches of an if with an unknown condition enclose us
        self._document = document
        self._parameters = parameters
        self._report = report
        self._definitions: dict[str, Any] = {}
        self._truth: dict[str, Any] = {}
        self._chain: list[str] = []
        self._fields: dict[tuple[str, str], Truth] = {}
        self._live = True

    def problem(self, code: Code, message: str, path: Path) -> None:
        self._report(self._document.problem(code, message, path))

    # -- the whole template ----------------------------------------------------

    def evaluate(self) -> Conditions:
        """Check and evaluate the section and every resource's and output's condition."""
        data = self._document.data
        section = data.get("conditions")
        if section is not None and not self.too_old(
            "the conditions section", NEWTON, ("conditions",), Code.FEATURE_VERSION
        ):
            if isinstance(section, dict):
                self._definitions = section
            else:
                self.problem(Code.INVALID_TYPE, "conditions must be a mapping", ("conditions",))
        self._evaluate_definitions()
        for kind in ("resources", "outputs"):
            entries = data.get(kind)
            if not isinstance(entries, dict):
                continue
            for name, body in entries.items():
                if not isinstance(body, dict) or "condition" not in body:
                    continue
                truth = self._field(kind, body["condition"], (kind, name, "condition"))
                self._fields[(kind, name)] = truth
                if kind == "resources" and truth is False:
                    self.absent[name] = _written(body["condition"])
        return self

    def enabled(self, kind: str, name: str) -> Truth:
        """Whether resource or output ``name`` (``kind``) exists: True, False or unknown."""
        return self._fields.get((kind, name), True)

    def within(self, kind: str, name: str) -> None:
        """Values of resource or output ``name`` are resolved from now on: a reference
        to an absent resource is certain to fail only where this one surely exists."""
        self._live = self.enabled(kind, name) is True

    def refuse(self, function: str, name: str, here: Path) -> None:
        """A reference to absent resource ``name``: an error where it is certain."""
        if not self._live or self.uncertain:
            return
        self.problem(
            Code.ABSENT_RESOURCE,
            f"{function} refers to resource {quote(name)}, which does not exist: its condition "
            f"{self.absent[name]}is false (refer to it inside an if on that condition, or from "
            "a resource or output with the same condition)",
            here,
        )

    def too_old(
        self, what: str, since: str, path: Path, code: Code = Code.FUNCTION_VERSION
    ) -> bool:
        """Report ``what`` if this template's version came before ``since``."""
        if not self.version or not versions.older(self.version, since):
            return False
        self.problem(
            code,
            f"{what} needs heat_template_version {versions.label(since)} or later "
            f"(this template is {versions.label(self.version)})",
            path,
        )
        return True

    # -- conditions ------------------------------------------------------------

    def test(self, raw: Any, path: Path) -> Truth:
        """The truth of a condition as written: a name, a boolean or a condition function."""
        return self._truth_of(self._value(raw, path), path)

    def named(self, name: str, path: Path) -> Truth:
        """The truth of the condition called ``name`` (referred to at ``path``)."""
        if name not in self._definitions:
            defined = (
                f" (conditions: {listing(self._definitions)})"
                if self._definitions
                else "; the template defines no conditions"
            )
            self.problem(
                Code.UNKNOWN_CONDITION,
                f"unknown condition {quote(name)}{defined}",
                path,
            )
            return None
        known = self._truth.get(name, _UNSEEN)
        if known is _IN_PROGRESS:
            cycle = [*self._chain[self._chain.index(name) :], name]
            self._cycle(cycle)
            return None
        if known is not _UNSEEN:
            return known  # type: ignore[no-any-return]
        if len(self._chain) >= MAX_NESTING:
            self.problem(
                Code.INVALID_CONDITION,
                f"conditions refer to one another more than {MAX_NESTING} deep",
                ("conditions", name),
            )
            return None
        self._truth[name] = _IN_PROGRESS
        self._chain.append(name)
        try:
            truth = self._definition(name)
        finally:
            self._chain.pop()
        self._truth[name] = truth
        return truth

    def _evaluate_definitions(self) -> None:
        """Every definition, used or not, those referred to first (no deep recursion)."""
        names = self._definitions
        deps = {name: set(_names_in(raw)) & names.keys() for name, raw in names.items()}
        order, cycles = levels(deps)
        for cycle in cycles:
            self._cycle(cycle)
        for name in names:
            if name not in order:
                self._truth[name] = None  # on or behind a cycle
        for name in sorted(order, key=lambda n: order[n]):
            self.named(name, ("conditions", name))

    def _cycle(self, cycle: list[str]) -> None:
        self.problem(
            Code.CONDITION_CYCLE,
            "conditions refer to one another in a cycle: "
            + " -> ".join(clip(name, MAX_NAME) for name in cycle),
            ("conditions", cycle[0]),
        )

    def _definition(self, name: str) -> Truth:
        """heat/engine/conditions.py: a boolean or a function, resolving to a boolean."""
        raw = self._definitions[name]
        path: Path = ("conditions", name)
        if not isinstance(raw, bool) and fn.function_name(raw) is None:
            self.problem(
                Code.INVALID_CONDITION,
                f"condition {quote(name)} must be true, false or a condition function "
                f"({self._listed()}), not {_what(raw)}",
                path,
            )
            return None
        value = self._value(raw, path)
        if contains_unknown(value):
            return None
        if not isinstance(value, bool):
            self.problem(
                Code.INVALID_CONDITION,
                f"condition {quote(name)} is {quote(value)}, not true or false",
                path,
            )
            return None
        return value

    def _field(self, kind: str, raw: Any, path: Path) -> Truth:
        """A resource's or an output's ``condition``."""
        if self.too_old("a condition field", NEWTON, path, Code.FEATURE_VERSION):
            return None
        if raw is None:
            if kind == "outputs":
                return True  # Heat: an output's null condition is no condition
            self.problem(
                Code.INVALID_CONDITION,
                "a resource's condition is a condition name, true or false, or a condition "
                "function",
                path,
            )
            return None
        return self.test(raw, path)

    def _truth_of(self, value: Any, path: Path) -> Truth:
        """heat/engine/conditions.py is_enabled: a boolean, or the name of a condition;
        None is true there (an if's or an and/or item's null; a resource's null condition
        and ``not: null`` are refused before, as Heat refuses them)."""
        if isinstance(value, bool):
            return value
        if value is None:
            return True
        if contains_unknown(value):
            return None
        if isinstance(value, str):
            return self.named(value, path)
        self.problem(
            Code.INVALID_CONDITION,
            "a condition is a condition name, true or false, or a condition function "
            f"({self._listed()}), not {_what(value)}",
            path,
        )
        return None

    def _listed(self) -> str:
        return ", ".join(
            name
            for name, since in CONDITION_FUNCTIONS.items()
            if not self.version or not versions.older(self.version, since)
        )

    # -- condition functions ---------------------------------------------------

    def _value(self, node: Any, path: Path) -> Any:
        """``node`` evaluated as Heat's parse_condition does: only condition functions."""
        name = fn.function_name(node)
        if name is None:
            if isinstance(node, dict):
                return {k: self._value(v, (*path, k)) for k, v in node.items()}
            if isinstance(node, list):
                return [self._value(v, (*path, i)) for i, v in enumerate(node)]
            return node
        here = (*path, name)
        since = CONDITION_FUNCTIONS.get(name)
        if since is None:
            self.problem(
                Code.INVALID_CONDITION,
                f"function {quote(name)} cannot be used in a condition (condition functions: "
                f"{self._listed()}; a condition cannot refer to resources)",
                here,
            )
            return Unknown()
        if self.too_old(f"condition function {quote(name)}", since, here):
            return Unknown()
        args = node[name]
        if name in (fn.GET_PARAM, YAQL):
            return self._delegate(name, args, here)
        if name == EQUALS:
            return self._equals(args, here)
        if name == NOT:
            if args is None:
                self.problem(Code.INVALID_FUNCTION, "not takes a condition", here)
                return Unknown(PropertyType.BOOLEAN)
            truth = self.test(args, here)
            return Unknown(PropertyType.BOOLEAN) if truth is None else not truth
        if name in (AND, OR):
            return self._and_or(name, args, here)
        return self._contains(args, here)

    def _delegate(self, name: str, args: Any, here: Path, *, identity: bool = False) -> Any:
        """``identity``: a build's id or project id may stand as :data:`_IDENTITY` (an
        ``equals`` can still compare it with an empty value)."""
        value = self._parameters.resolve({name: self._value(args, here)}, here[:-1], set())
        if isinstance(value, Deferred):
            if identity and value.expr in _IDENTITIES:
                return _IDENTITY
            self.problem(Code.INVALID_CONDITION, _known_at_run_time(name, args), here)
            return Unknown()
        return value

    def _equals(self, args: Any, here: Path) -> Any:
        if not isinstance(args, list) or len(args) != 2:
            self.problem(
                Code.INVALID_FUNCTION, "equals takes a list of two values: [value_1, value_2]", here
            )
            return Unknown(PropertyType.BOOLEAN)
        first, second = (self._operand(arg, (*here, i)) for i, arg in enumerate(args))
        if first is _IDENTITY or second is _IDENTITY:
            # The build id and the project id are never empty: Heat's "is this template
            # nested" test (equals: [{get_param: root_stack_id}, ""]) is known false.
            other = second if first is _IDENTITY else first
            if other is None or other == "":
                return False
            self.problem(
                Code.INVALID_CONDITION,
                "equals in a condition must be known when the template is compiled: the "
                "build's id and project id are known only when the build runs (compared "
                "with an empty value, they are known to differ)",
                here,
            )
            return Unknown(PropertyType.BOOLEAN)
        if contains_unknown(first) or contains_unknown(second):
            return Unknown(PropertyType.BOOLEAN)
        return bool(first == second)

    def _operand(self, node: Any, path: Path) -> Any:
        """One side of an equals: a get_param of the build's identity may stay unknown."""
        if fn.function_name(node) == fn.GET_PARAM:
            return self._delegate(
                fn.GET_PARAM, node[fn.GET_PARAM], (*path, fn.GET_PARAM), identity=True
            )
        return self._value(node, path)

    def _and_or(self, name: str, args: Any, here: Path) -> Any:
        if not isinstance(args, list) or len(args) < 2:
            self.problem(
                Code.INVALID_FUNCTION,
                f"{name} takes a list of at least two conditions",
                here,
            )
            return Unknown(PropertyType.BOOLEAN)
        truths = [self.test(item, (*here, index)) for index, item in enumerate(args)]
        decisive = name == OR  # or: one true decides; and: one false does
        if decisive in truths:
            return decisive
        if None in truths:
            return Unknown(PropertyType.BOOLEAN)
        return not decisive

    def _contains(self, args: Any, here: Path) -> Any:
        if not _pair(args):
            self.problem(Code.INVALID_FUNCTION, CONTAINS_FORM, here)
            return Unknown(PropertyType.BOOLEAN)
        value, sequence = self._value(args, here)
        if contains_unknown(value) or contains_unknown(sequence):
            return Unknown(PropertyType.BOOLEAN)
        try:
            return fn.contains(value, sequence)
        except ValueError as exc:
            self.problem(Code.INVALID_FUNCTION, str(exc), here)
            return Unknown(PropertyType.BOOLEAN)


CONTAINS_FORM = "contains takes a list: [value, sequence]"


# -- in values: the resolver's handlers ------------------------------------------


def resolve_if(resolver: Resolver, args: Any, here: Path, refs: set[str]) -> Any:
    """``if: [condition, value_if_true, value_if_false]``: the branch the condition
    takes, the other never looked at (Heat's macro); both checked when unknown."""
    conditions = resolver.conditions
    if conditions.too_old("intrinsic function 'if'", NEWTON, here):
        return Unknown()
    if not isinstance(args, list) or len(args) not in (2, 3):
        conditions.problem(
            Code.INVALID_FUNCTION,
            "if takes a list: [condition, value_if_true, value_if_false] (from "
            f"heat_template_version {versions.label(WALLABY)}, value_if_false may be left out)",
            here,
        )
        return Unknown()
    if len(args) == 2 and conditions.too_old("if without value_if_false", WALLABY, here):
        return Unknown()
    truth = conditions.test(args[0], (*here, 0))
    if truth is None:
        conditions.uncertain += 1
        try:
            for index in range(1, len(args)):
                resolver.resolve_item(args[index], (*here, index), refs)
        finally:
            conditions.uncertain -= 1
        return Unknown()
    if truth:
        return resolver.resolve_item(args[1], (*here, 1), refs)
    if len(args) == 2:
        return OMITTED
    return resolver.resolve_item(args[2], (*here, 2), refs)


def resolve_contains(resolver: Resolver, args: Any, here: Path, refs: set[str]) -> Any:
    """``contains: [value, sequence]`` in a value: folded when known, else kept for the build."""
    conditions = resolver.conditions
    if conditions.too_old("intrinsic function 'contains'", PIKE, here):
        return Unknown(PropertyType.BOOLEAN)
    if not _pair(args):
        conditions.problem(Code.INVALID_FUNCTION, CONTAINS_FORM, here)
        return Unknown(PropertyType.BOOLEAN)
    value, sequence = resolver.resolve(args, here, refs)
    if contains_unknown(value) or contains_unknown(sequence):
        return Unknown(PropertyType.BOOLEAN)
    if isinstance(sequence, Deferred) and sequence.kind not in (
        ANY,
        PropertyType.LIST,
        PropertyType.STRING,
    ):
        conditions.problem(Code.INVALID_FUNCTION, fn.CONTAINS_SEQUENCE, (*here, 1))
        return Unknown(PropertyType.BOOLEAN)
    if isinstance(value, Deferred) or isinstance(sequence, Deferred) or _pending(sequence):
        return Deferred({CONTAINS: materialize([value, sequence])}, PropertyType.BOOLEAN)
    try:
        return fn.contains(value, sequence)
    except ValueError as exc:
        conditions.problem(Code.INVALID_FUNCTION, str(exc), here)
        return Unknown(PropertyType.BOOLEAN)


def refuse_in_value(resolver: Resolver, args: Any, here: Path, refs: set[str]) -> Any:
    """equals, not, and, or outside a condition."""
    resolver.conditions.problem(
        Code.INVALID_FUNCTION,
        f"{quote(here[-1])} is a condition function: use it in the conditions section, in a "
        "condition field or as the condition of an if",
        here,
    )
    return Unknown()


# -- helpers ---------------------------------------------------------------------

# Pseudo parameters a condition may compare with an empty value: never empty.
_IDENTITIES = ({fn.GET_PARAM: "OS::stack_id"}, {fn.GET_PARAM: "OS::project_id"})
_IDENTITY = object()  # one of them, standing in an equals


def _known_at_run_time(function: str, args: Any) -> str:
    """Why a condition cannot use this value: a pseudo parameter, or a nested
    template's parameter that its parent gives a value computed when the build runs."""
    key = args[0] if isinstance(args, list) and args else args
    if function != fn.GET_PARAM or not isinstance(key, str) or key in fn.PSEUDO_PARAMETERS:
        return (
            f"{function} in a condition must be known when the template is compiled; pseudo "
            "parameters and resources' attributes are known only when the build runs"
        )
    return (
        f"get_param in a condition must be known when the template is compiled: parameter "
        f"{quote(key)} of this nested template is given, by the resource that stands for it, "
        "a value known only when the build runs (a resource's attribute); give it a value "
        "known before (a parameter or a literal)"
    )


def _pair(args: Any) -> bool:
    return isinstance(args, list) and len(args) == 2


def _pending(value: Any) -> bool:
    """Whether a list holds a value known only when the build runs."""
    return isinstance(value, list) and any(isinstance(v, Deferred) for v in value)


def _names_in(raw: Any) -> Iterator[str]:
    """The condition names a definition writes as arguments of not, and, or."""
    stack = [raw]
    while stack:
        node = stack.pop()
        name = fn.function_name(node)
        if name is not None:
            args = node[name]
            if name == NOT and isinstance(args, str):
                yield args
            elif name in (AND, OR) and isinstance(args, list):
                yield from (item for item in args if isinstance(item, str))
            stack.append(args)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _written(raw: Any) -> str:
    """A condition field as a message shows it (followed by a space), if it is not literal."""
    if isinstance(raw, bool):
        return ""
    if isinstance(raw, str):
        return f"{quote(raw)} "
    return "(an expression) "


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {quote(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return quote(value)
