"""``yaql``, as Heat runs it, with the bound Heat lacks: time.

Heat evaluates ``yaql: {expression: ..., data: ...}`` with the yaql library,
bounding only the length of collections (``limit_iterators``, 200) and the
memory of each intermediate value (``memory_quota``, 10,000 bytes). Time it
does not bound, and small expressions take long: three nested ``select`` over
``range(150)`` run for four minutes. cool adds a deadline (``timeout_s``, 1 s by
default): every call of a yaql function, which is where an expression spends
its time, first checks the deadline of the evaluation running in this thread
(yaql's runner.call, wrapped once when this module is imported). Past it the
evaluation stops with a located problem at validation, a failed step at run time.

The result becomes JSON data, as Heat's does when it stores outputs and
properties: sets and tuples become lists (a set's items sorted where they
sort), mapping keys strings; and it is charged to the resolution's budget.
"""

from __future__ import annotations

import collections.abc  # noqa: F401 (yaql 3 reads collections.abc without importing it)
import functools
import math
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import yaql
from yaql.language import exceptions as yaql_errors
from yaql.language import runner, specs, yaqltypes
from yaql.standard_library import math as yaql_math

from cool.template.budget import Budget

LIMIT_ITERATORS = 200  # Heat's [yaql] limit_iterators
MEMORY_QUOTA = 10_000  # Heat's [yaql] memory_quota, in bytes
TIMEOUT_S = 1.0
MAX_EXPRESSION = 10_000  # characters of one expression (its parse is cached)
_USAGE = (
    "yaql takes a mapping of expression (a string) and data, for example "
    "{expression: $.data.var1.sum(), data: {var1: [3, 2, 1]}}"
)


class YaqlError(ValueError):
    """The expression or its evaluation failed; the message says how (Heat's words)."""


class _DeadlinePassedError(Exception):
    """Raised inside yaql's runner: the evaluation in this thread ran out of time."""


_local = threading.local()
_lock = threading.Lock()


def _within_deadline(call: Any) -> Any:
    @functools.wraps(call)
    def checked(*args: Any, **kwargs: Any) -> Any:
        deadline = getattr(_local, "deadline", None)
        if deadline is not None and time.monotonic() > deadline:
            raise _DeadlinePassedError
        return call(*args, **kwargs)

    checked.cool_deadline = True  # type: ignore[attr-defined]
    return checked


if not getattr(runner.call, "cool_deadline", False):
    runner.call = _within_deadline(runner.call)


@functools.cache
def _engine() -> Any:
    return yaql.YaqlFactory().create(
        {"yaql.limitIterators": LIMIT_ITERATORS, "yaql.memoryQuota": MEMORY_QUOTA}
    )


@functools.cache
def _root_context() -> Any:
    """yaql's standard library, as Heat has it, but for what one call could make take
    unbounded time inside C, where no deadline is checked: the regex functions
    (backtracking: ``regex('(a+)+$')`` on 45 characters runs for ever) and integer
    powers and shifts past the memory quota (``pow(3, 30000000)`` takes a minute)."""
    context = yaql.create_context(math=False, regex=False)
    for function in _MATH:
        context.register_function(function)
    context.register_function(_bounded_pow)
    context.register_function(_bounded_shift_left)
    return context


_MAX_BITS = MEMORY_QUOTA * 8
# yaql's standard_library.regex, left out of the context.
_REGEX_FUNCTIONS = ("regex", "matches", "search", "searchAll", "escapeRegex", "isRegex")


@specs.name("pow")
@specs.parameter("a", yaqltypes.Number())
@specs.parameter("b", yaqltypes.Number())
@specs.parameter("c", yaqltypes.Number(nullable=True))
def _bounded_pow(a: Any, b: Any, c: Any = None) -> Any:
    if (
        c is None
        and isinstance(a, int)
        and isinstance(b, int)
        and abs(a) > 1
        and b * a.bit_length() > _MAX_BITS
    ):
        raise yaql_errors.MemoryQuotaExceededException()
    return pow(a, b, c)


@specs.name("shiftBitsLeft")
@specs.parameter("value", int)
@specs.parameter("bits_number", int)
def _bounded_shift_left(value: int, bits_number: int) -> int:
    if value and bits_number + value.bit_length() > _MAX_BITS:
        raise yaql_errors.MemoryQuotaExceededException()
    return value << bits_number


_MATH = tuple(
    getattr(yaql_math, name)
    for name in (
        "binary_plus", "binary_minus", "multiplication", "division", "modulo", "unary_plus",
        "unary_minus", "abs_", "gt", "gte", "lt", "lte", "int_", "float_", "random_",
        "random__", "bitwise_and", "bitwise_or", "bitwise_not", "bitwise_xor",
        "shift_bits_right", "max_", "min_", "sign", "round_", "is_integer", "is_number",
    )
)  # fmt: skip


@functools.lru_cache(maxsize=256)
def _parse(expression: str) -> Any:
    with _lock:  # yaql's parser (ply) keeps state while it parses
        return _engine()(expression)


def parse(expression: Any) -> Any:
    """The parsed expression, or :class:`YaqlError` (Heat's validate)."""
    if not isinstance(expression, str):
        raise YaqlError("the expression argument to yaql must be a string")
    if len(expression) > MAX_EXPRESSION:
        raise YaqlError(f"the yaql expression is longer than {MAX_EXPRESSION:,} characters")
    try:
        return _parse(expression)
    except yaql_errors.YaqlException as exc:
        raise YaqlError(f"bad yaql expression: {exc}") from None


def check_arguments(args: Any) -> tuple[Any, Any]:
    """The expression and the data of ``yaql``'s arguments (not evaluated)."""
    if (
        not isinstance(args, Mapping)
        or "expression" not in args
        or set(args) - {"expression", "data"}
    ):
        raise YaqlError(_USAGE)
    return args["expression"], args.get("data", {})


def evaluate(expression: str, data: Any, budget: Budget, *, timeout_s: float = TIMEOUT_S) -> Any:
    """The value of ``expression`` over ``data`` (both known), as JSON data. One
    evaluation runs ``timeout_s`` at most, and all those of one resolution (a
    template, a nested tree, one step at run time) the budget's seconds in all."""
    statement = parse(expression)
    left = budget.yaql_left_s
    if left <= 0:
        raise YaqlError(
            "the yaql expressions of this template have run for as long as they may "
            "(a few seconds in all); simplify them"
        )
    allowed = min(timeout_s, left)
    started = time.monotonic()
    deadline = started + allowed
    _local.deadline = deadline
    try:
        raw = statement.evaluate({"data": data}, _root_context().create_child_context())
        value = _json(raw, deadline)
    except _DeadlinePassedError:
        raise YaqlError(
            f"the yaql expression ran for more than {allowed:g} s and was stopped"
        ) from None
    except MemoryError:
        raise YaqlError(
            f"the yaql expression made a value of more than {MEMORY_QUOTA:,} bytes"
        ) from None
    except yaql_errors.CollectionTooLargeException:
        raise YaqlError(
            f"the yaql expression made a collection of more than {LIMIT_ITERATORS} items"
        ) from None
    except yaql_errors.MemoryQuotaExceededException:
        raise YaqlError(
            f"the yaql expression made a value of more than {MEMORY_QUOTA:,} bytes"
        ) from None
    except YaqlError:
        raise
    except (
        yaql_errors.NoFunctionRegisteredException,
        yaql_errors.NoMethodRegisteredException,
    ) as exc:
        if any(f'"{name}"' in str(exc) for name in _REGEX_FUNCTIONS):
            raise YaqlError(
                "yaql's regular expression functions are not available in cool: one "
                "expression could run for ever inside a single call (backtracking)"
            ) from None
        raise YaqlError(f"the yaql expression failed: {exc}") from None
    except yaql_errors.YaqlException as exc:
        raise YaqlError(f"the yaql expression failed: {exc}") from None
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        raise YaqlError(f"the yaql expression failed: {type(exc).__name__}: {exc}") from None
    except RecursionError:
        raise YaqlError("the yaql expression nests too deeply") from None
    finally:
        _local.deadline = None
        budget.spend_yaql(time.monotonic() - started)
    budget.charge_value("yaql", value)
    return value


def _json(value: Any, deadline: float) -> Any:
    """yaql's result as JSON data (what Heat stores); the deadline still applies."""
    if time.monotonic() > deadline:
        raise _DeadlinePassedError
    if isinstance(value, float) and not math.isfinite(value):
        raise YaqlError("the yaql expression gave a number JSON cannot hold (NaN or infinity)")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {_key(k): _json(v, deadline) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        items = [_json(v, deadline) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, Iterable):
        out = []
        for index, item in enumerate(value):
            if index >= LIMIT_ITERATORS:
                raise yaql_errors.CollectionTooLargeException(LIMIT_ITERATORS)
            out.append(_json(item, deadline))
        return out
    raise YaqlError(f"the yaql expression gave a {type(value).__name__}, which is not data")


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return str(key).lower() if key is not None else "null"  # as JSON writes them
    if isinstance(key, int | float):
        return str(key)
    raise YaqlError(f"the yaql expression gave a mapping keyed by a {type(key).__name__}")
