"""Compile-time evaluation of intrinsic functions in resources and outputs.

Parameters are substituted, functions of known values are folded, and
references to resources are checked and kept (as :class:`Deferred`) for the
build to resolve. Each problem is reported where the function is written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from cool.errors import ResolutionTooLargeError
from cool.resources.schema import AttributeType, PropertyType, ResourceType
from cool.template import conditions as cond
from cool.template import functions as fn
from cool.template import hot_functions as hot
from cool.template import nested, param_path, versions
from cool.template.budget import Budget
from cool.template.files import get_file
from cool.template.parse import Document
from cool.template.problems import Code, Path, Problem
from cool.template.quoting import quote
from cool.template.suggest import suggest
from cool.template.values import (
    ANY,
    ATTRIBUTE_KINDS,
    Deferred,
    Unknown,
    contains_deferred,
    contains_unknown,
    materialize,
)

# get_attr with a resource name only, and list_join of several lists, came in liberty.
ALL_ATTRIBUTES_SINCE = "2015-10-15"


class Resolver:
    """Evaluates one template's functions against its parameters and resources.

    ``parameters`` maps each declared parameter to its value (or an
    :class:`Unknown` when no value was given); ``resources`` maps each
    resource name to its type (None when the type is not supported, so
    attributes of it cannot be checked).
    """

    def __init__(
        self,
        document: Document,
        parameters: Mapping[str, Any],
        resources: Mapping[str, ResourceType | None],
        report: Callable[[Problem], None],
        budget: Budget,
        *,
        files: Mapping[str, str] | None = None,
    ) -> None:
        self._files = files or {}
        self._document = document
        self._parameters = parameters
        self._resources = resources
        self._report = report
        self._budget = budget
        self._sizes: dict[tuple[Any, ...], int] = {}  # get_param's, by path (< 0: at least)
        self.current: str | None = None  # the resource whose values are being resolved
        self.version: str | None = None  # the HOT version, for which functions it has
        # Nested stacks (cool.template.nested): this template's resources are named
        # ``prefix + name`` in the plan; ``expand`` gives what a resource standing for a
        # nested stack became (None for any other); ``facade`` is what resource_facade
        # reads, in a nested template (None in the top one).
        self.prefix = ""
        self.expand: Callable[[str], Any] = lambda name: None
        self.facade: Mapping[str, Any] | None = None
        # The template's conditions, for if (the compiler sets them; by default none).
        self.conditions = cond.Conditions(document, "", self, report)

    def _problem(self, code: Code, message: str, path: Path) -> None:
        self._report(self._document.problem(code, message, path))

    def resolve(self, node: Any, path: Path, refs: set[str]) -> Any:
        """The value of ``node`` with every function evaluated or deferred."""
        value = self.resolve_item(node, path, refs)
        return None if value is cond.OMITTED else value

    def resolve_item(self, node: Any, path: Path, refs: set[str]) -> Any:
        """:meth:`resolve`, or ``OMITTED`` where a two-argument ``if`` leaves the item
        out (its mapping or list drops it, as Heat drops an Ellipsis)."""
        name = fn.function_name(node)
        if name is None:
            # Containers without functions in them come back as they are (no copy),
            # and scalars without building their paths.
            if isinstance(node, dict):
                changed: dict[str, Any] | None = None
                for k, v in node.items():
                    if isinstance(v, dict | list):
                        resolved = self.resolve_item(v, (*path, k), refs)
                        if resolved is not v:
                            changed = changed if changed is not None else dict(node)
                            changed[k] = resolved
                if changed is None:
                    return node
                return {k: v for k, v in changed.items() if v is not cond.OMITTED}
            if isinstance(node, list):
                items: list[Any] | None = None
                for i, v in enumerate(node):
                    if isinstance(v, dict | list):
                        resolved = self.resolve_item(v, (*path, i), refs)
                        if resolved is not v:
                            items = items if items is not None else list(node)
                            items[i] = resolved
                return node if items is None else [v for v in items if v is not cond.OMITTED]
            return node
        here = (*path, name)
        args = node[name]
        lacking = hot.unavailable(name, self.version)
        if lacking is not None:
            self._problem(Code.FUNCTION_VERSION, lacking, here)
            return Unknown()
        if name in fn.UNSUPPORTED:
            self._problem(
                Code.UNSUPPORTED_FUNCTION,
                f"intrinsic function {quote(name)} is not supported by cool (supported: "
                f"{', '.join(sorted(fn.SUPPORTED))})"
                + (f": {hot.REFUSED[name]}" if name in hot.REFUSED else ""),
                here,
            )
            return Unknown()
        handler = {
            fn.GET_PARAM: self._get_param,
            fn.GET_RESOURCE: self._get_resource,
            fn.GET_ATTR: self._get_attr,
            fn.STR_REPLACE: self._str_replace,
            fn.LIST_JOIN: self._list_join,
            fn.GET_FILE: self._get_file,
            fn.REF: self._ref,
            fn.RESOURCE_FACADE: self._resource_facade,
            fn.CFN_RESOURCE_FACADE: self._resource_facade,
            cond.IF: partial(cond.resolve_if, self),
            cond.CONTAINS: partial(cond.resolve_contains, self),
            **dict.fromkeys(cond.CONDITION_ONLY, partial(cond.refuse_in_value, self)),
        }.get(name, self._value_function)
        if self._budget.exhausted:
            return Unknown()  # the problem was reported where the budget ran out
        try:
            return handler(args, here, refs)
        except ResolutionTooLargeError as exc:  # raised before the value was made
            self._problem(Code.RESOLUTION_TOO_LARGE, exc.message, here)
            return Unknown()

    # -- get_param ---------------------------------------------------------

    def _get_param(self, args: Any, here: Path, refs: set[str]) -> Any:
        if isinstance(args, list) and args:
            resolved = self.resolve(args, here, refs)
            key, steps = resolved[0], resolved[1:]
        else:
            key, steps = args, []
        if isinstance(key, Unknown) or any(isinstance(s, Unknown) for s in steps):
            return Unknown()  # known once parameters have values
        if not isinstance(key, str):
            self._problem(
                Code.INVALID_FUNCTION,
                "get_param takes a parameter name, or a list of a name and a path",
                here,
            )
            return Unknown()
        if key in fn.PSEUDO_PARAMETERS:
            if steps:
                self._problem(Code.INVALID_PATH, f"{key} is a string; it has no path", here)
                return Unknown()
            return Deferred({fn.GET_PARAM: key}, PropertyType.STRING)
        if key not in self._parameters:
            self._problem(
                Code.UNKNOWN_PARAMETER,
                f"get_param refers to undeclared parameter {quote(key)}"
                + suggest(key, [*self._parameters, *fn.PSEUDO_PARAMETERS]),
                here,
            )
            return Unknown()
        value = self._parameters[key]
        if isinstance(value, Unknown):
            return Unknown(value.kind if not steps else ANY)
        if any(isinstance(s, Deferred) for s in steps):
            self._problem(
                Code.INVALID_FUNCTION,
                "a get_param path must be known before the build runs",
                here,
            )
            return Unknown()
        if isinstance(value, Deferred) or (steps and contains_deferred(value)):
            # A nested template's parameter given a run-time value by its parent: its
            # expression is copied into the plan wherever it is used, and charged so.
            try:
                selected = nested.select(value, steps)
            except nested.NestedReferenceError as exc:
                self._problem(exc.code, exc.message, here)
                return Unknown()
            self._budget.charge_value(fn.GET_PARAM, materialize(selected))
            return copy.deepcopy(selected)
        value = param_path.follow(value, steps)  # "" where the path leads nowhere, as Heat
        if isinstance(value, str) and not value:
            return ""  # nothing to measure (and a failed path may hold unhashable steps)
        # Charged before it is copied; measured once per path, however often it is used.
        where = (key, *steps)
        signed = self._sizes.get(where)
        if signed is None:
            size, whole = self._budget.measure(value)
            signed = self._sizes[where] = size if whole else -size
        self._budget.charge(fn.GET_PARAM, abs(signed), at_least=signed < 0)
        return copy.deepcopy(value)

    # -- the value functions (cool.template.hot_functions) and Ref -----------

    def _value_function(self, args: Any, here: Path, refs: set[str]) -> Any:
        name = here[-1]
        resolved = self.resolve(args, here, refs)
        try:
            return hot.fold(str(name), resolved, self._budget, self.version)
        except hot.ArgumentError as exc:
            self._problem(Code.INVALID_FUNCTION, str(exc), (*here, *exc.path))
            return Unknown()

    def _ref(self, args: Any, here: Path, refs: set[str]) -> Any:
        """Ref (HOT 2013-05-23): a resource's id if it names one, else a parameter."""
        if isinstance(args, str) and args in self._resources:
            return self._get_resource(args, here, refs)
        return self._get_param(args, here, refs)

    # -- get_file ----------------------------------------------------------

    def _get_file(self, args: Any, here: Path, refs: set[str]) -> Any:
        name = self.resolve(args, here, refs)
        return get_file(name, self._files, here, self._budget, self._problem)

    # -- get_resource ------------------------------------------------------

    def _get_resource(self, args: Any, here: Path, refs: set[str]) -> Any:
        name = self.resolve(args, here, refs)
        if isinstance(name, Unknown):
            return Unknown(PropertyType.STRING)  # known once parameters have values
        if not isinstance(name, str):
            self._problem(Code.INVALID_FUNCTION, "get_resource takes a resource name", here)
            return Unknown()
        if not self._check_resource(name, fn.GET_RESOURCE, here):
            return Unknown(PropertyType.STRING)
        refs.add(name)
        expanded = self.expand(name)
        if expanded is not None:
            return nested.reference(expanded)
        return Deferred({fn.GET_RESOURCE: self.prefix + name}, PropertyType.STRING)

    # -- resource_facade ---------------------------------------------------

    def _resource_facade(self, args: Any, here: Path, refs: set[str]) -> Any:
        """The resource this nested template stands for: its metadata, deletion_policy
        or update_policy, as its own template wrote them (Heat's ResourceFacade)."""
        key = self.resolve(args, here, refs)
        if isinstance(key, Unknown):
            return Unknown()
        if key not in nested.FACADE_KEYS:
            self._problem(
                Code.INVALID_FUNCTION,
                f"{here[-1]} takes one of {', '.join(nested.FACADE_KEYS)}, not {quote(key)}",
                here,
            )
            return Unknown()
        if self.facade is None:
            self._problem(
                Code.INVALID_FUNCTION,
                f"{here[-1]} reads the resource a nested template stands for: this template "
                "is not nested",
                here,
            )
            return Unknown()
        return copy.deepcopy(self.facade[key])

    def _check_resource(self, name: str, function: str, here: Path) -> bool:
        if name == self.current:
            self._problem(Code.DEPENDENCY_CYCLE, f"resource {quote(name)} refers to itself", here)
            return False
        if name in self.conditions.absent:
            self.conditions.refuse(function, name, here)
            return False
        if name in self._resources:
            return True
        self._problem(
            Code.UNKNOWN_RESOURCE,
            f"{function} refers to unknown resource {quote(name)}" + suggest(name, self._resources),
            here,
        )
        return False

    # -- get_attr ----------------------------------------------------------

    def _get_attr(self, args: Any, here: Path, refs: set[str]) -> Any:
        if isinstance(args, list) and len(args) == 1:
            return self._all_attributes(args, here, refs)
        if not isinstance(args, list) or len(args) < 2:
            self._problem(
                Code.INVALID_FUNCTION,
                "get_attr takes a list: [resource name, attribute name, optional path...]",
                here,
            )
            return Unknown()
        resolved = self.resolve(args, here, refs)
        name, attribute, steps = resolved[0], resolved[1], resolved[2:]
        if any(isinstance(part, Unknown) for part in resolved):
            return Unknown()  # known once parameters have values
        if not isinstance(name, str) or not isinstance(attribute, str):
            self._problem(
                Code.INVALID_FUNCTION,
                "get_attr's resource and attribute names must be strings known before the "
                "build runs",
                here,
            )
            return Unknown()
        for index, step in enumerate(steps):
            if isinstance(step, Deferred) and step.kind in (ANY, PropertyType.STRING):
                continue  # a key known when the build runs (a path that holds a function)
            if isinstance(step, bool) or not isinstance(step, str | int):
                self._problem(
                    Code.INVALID_PATH,
                    "a get_attr path holds keys (strings) and list indexes (integers)",
                    (*here, 2 + index),
                )
                return Unknown()
        if not self._check_resource(name, fn.GET_ATTR, (*here, 0)):
            return Unknown()
        refs.add(name)
        expanded = self.expand(name)
        if expanded is not None:
            try:
                return nested.attribute(expanded, attribute, steps)
            except nested.NestedReferenceError as exc:
                self._problem(exc.code, exc.message, (*here, 1))
                return Unknown()
        kind = ANY
        rtype = self._resources[name]
        if rtype is not None and not rtype.free_properties:
            declared = rtype.attributes.get(attribute)
            if declared is None:
                self._problem(
                    Code.UNKNOWN_ATTRIBUTE,
                    f"resource {quote(name)} ({rtype.name}) has no attribute {quote(attribute)}"
                    + suggest(attribute, rtype.attributes)
                    + f" (attributes: {', '.join(sorted(rtype.attributes)) or 'none'})",
                    (*here, 1),
                )
                return Unknown()
            if not steps:
                kind = ATTRIBUTE_KINDS[declared.type]
            elif declared.type in (
                AttributeType.STRING,
                AttributeType.INTEGER,
                AttributeType.NUMBER,
                AttributeType.BOOLEAN,
            ):
                self._problem(
                    Code.INVALID_PATH,
                    f"attribute {quote(attribute)} of {rtype.name} is a {declared.type}; "
                    "it has no path",
                    (*here, 2),
                )
                return Unknown()
        return Deferred({fn.GET_ATTR: [self.prefix + name, attribute, *materialize(steps)]}, kind)

    def _all_attributes(self, args: list[Any], here: Path, refs: set[str]) -> Any:
        """``get_attr: [resource]`` (from 2015-10-15): every attribute, as a mapping. At
        run time that is the resource's recorded attributes but ``show`` (Heat's
        FnGetAtts), kept in the plan as a one-element get_attr."""
        if self.version and versions.older(self.version, ALL_ATTRIBUTES_SINCE):
            self._problem(
                Code.FUNCTION_VERSION,
                "get_attr with a resource name only (every attribute) is not in "
                f"heat_template_version {versions.label(self.version)}; it came in "
                f"{versions.label(ALL_ATTRIBUTES_SINCE)}",
                here,
            )
            return Unknown()
        name = self.resolve(args[0], (*here, 0), refs)
        if isinstance(name, Unknown):
            return Unknown(PropertyType.MAP)
        if not isinstance(name, str):
            self._problem(Code.INVALID_FUNCTION, "get_attr's resource name must be a string", here)
            return Unknown()
        if not self._check_resource(name, fn.GET_ATTR, (*here, 0)):
            return Unknown()
        refs.add(name)
        expanded = self.expand(name)
        if isinstance(expanded, nested.Expanded):
            return nested.all_attributes(expanded)
        if expanded is not None:
            return Unknown(PropertyType.MAP)
        return Deferred({fn.GET_ATTR: [self.prefix + name]}, PropertyType.MAP)

    # -- str_replace -------------------------------------------------------

    def _str_replace(self, args: Any, here: Path, refs: set[str]) -> Any:
        if not isinstance(args, dict) or set(args) != {"template", "params"}:
            self._problem(
                Code.INVALID_FUNCTION,
                "str_replace takes a mapping with exactly two keys: template and params",
                here,
            )
            return Unknown(PropertyType.STRING)
        template = self.resolve(args["template"], (*here, "template"), refs)
        params = self.resolve(args["params"], (*here, "params"), refs)
        ok = True
        if not _is_kind(template, str, PropertyType.STRING):
            self._problem(
                Code.INVALID_FUNCTION,
                "str_replace's template must be a string",
                (*here, "template"),
            )
            ok = False
        if not isinstance(params, dict | Unknown | Deferred) or (
            isinstance(params, Deferred) and params.kind not in (ANY, PropertyType.MAP)
        ):
            self._problem(
                Code.INVALID_FUNCTION,
                "str_replace's params must be a mapping",
                (*here, "params"),
            )
            ok = False
        elif isinstance(params, dict):
            for key in params:
                if key == "":
                    self._problem(
                        Code.INVALID_FUNCTION,
                        "str_replace's params cannot have an empty key",
                        (*here, "params", key),
                    )
                    ok = False
        if not ok or contains_unknown(template) or contains_unknown(params):
            return Unknown(PropertyType.STRING)
        if contains_deferred(template) or contains_deferred(params):
            return Deferred(
                {
                    fn.STR_REPLACE: {
                        "template": materialize(template),
                        "params": materialize(params),
                    }
                },
                PropertyType.STRING,
            )
        return fn.replace(template, params, self._budget)

    # -- list_join ---------------------------------------------------------

    def _list_join(self, args: Any, here: Path, refs: set[str]) -> Any:
        if not isinstance(args, list) or len(args) < 2:
            self._problem(
                Code.INVALID_FUNCTION,
                "list_join takes a list: [delimiter, list, more lists...]",
                here,
            )
            return Unknown(PropertyType.STRING)
        if len(args) > 2 and self.version and versions.older(self.version, ALL_ATTRIBUTES_SINCE):
            self._problem(
                Code.FUNCTION_VERSION,
                "list_join of more than one list is not in heat_template_version "
                f"{versions.label(self.version)}; it came in "
                f"{versions.label(ALL_ATTRIBUTES_SINCE)}",
                (*here, 2),
            )
            return Unknown(PropertyType.STRING)
        resolved = self.resolve(args, here, refs)
        ok = True
        if not _is_kind(resolved[0], str, PropertyType.STRING):
            self._problem(
                Code.INVALID_FUNCTION, "list_join's delimiter must be a string", (*here, 0)
            )
            ok = False
        for index, item in enumerate(resolved[1:], start=1):
            if not _is_kind(item, list, PropertyType.LIST):
                self._problem(
                    Code.INVALID_FUNCTION,
                    "list_join joins lists; this argument is not a list",
                    (*here, index),
                )
                ok = False
        if not ok or contains_unknown(resolved):
            return Unknown(PropertyType.STRING)
        if contains_deferred(resolved):
            return Deferred({fn.LIST_JOIN: materialize(resolved)}, PropertyType.STRING)
        return fn.join(resolved[0], resolved[1:], self._budget)


def _is_kind(value: Any, python_type: type, kind: PropertyType) -> bool:
    if isinstance(value, Deferred | Unknown):
        return value.kind in (ANY, kind)
    return isinstance(value, python_type)
