"""One error tree: every exception class cool defines derives from CoolError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import cool
from cool.errors import CoolError

# Exceptions that stay outside the tree, and why. Each is either a private signal
# caught in the module that raises it, or one whose base class is its contract.
OUTSIDE = {
    "cool.api.asgi.RefusedError": "raised by the body reader and answered (with its status) "
    "in the same module, before the app or its error handlers see the request",
    "cool.api.bodies._BadJsonError": "private: raised by json.loads's hooks, caught in the "
    "module (as a RequestInvalidError)",
    "cool.api.bodies._BadNumberError": "private: raised by json.loads's hooks, caught in the "
    "module (as a RequestInvalidError)",
    "cool.store.client.NotConnectedError": "a kazoo ConnectionLoss on purpose: kazoo's retry "
    "and the store's boundary take it as one (translated to StoreUnavailableError there)",
    "cool.template.functions.PathError": "a ValueError of following a path into a value: its "
    "callers turn it into a located problem (validation) or a step's note (run time)",
    "cool.template.hot_functions.ArgumentError": "a ValueError of a function's arguments: "
    "its callers turn it into a located problem (validation) or a step's note (run time)",
    "cool.template.hot_functions.Pending": "not an error: an argument known only later, "
    "caught in the module (the call is kept for run time)",
    "cool.template.nested.NestedReferenceError": "a get_attr or get_resource into a nested "
    "stack that cannot be answered: the resolver turns it into a located problem",
    "cool.template.yaql_function.YaqlError": "a ValueError of a yaql expression: its one "
    "caller (hot_functions.yaql_value) turns it into an ArgumentError",
    "cool.template.yaql_function._DeadlinePassedError": "private: raised inside yaql's runner "
    "when an evaluation runs out of time, caught in the module",
    "cool.template.parse._FatalError": "private: stops the parser, caught in the module",
    "cool.template.parse_json._StopError": "private: stops the parser, caught in the module",
}


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module_info in pkgutil.walk_packages(cool.__path__, "cool."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_errors_every_exception_class_derives_from_cool_error() -> None:
    classes = _exception_classes()
    outside = {name for name, cls in classes.items() if not issubclass(cls, CoolError)}
    assert outside == set(OUTSIDE)


def test_errors_the_walk_sees_every_room() -> None:
    # A walk that missed a sub-package would pass the test above without looking.
    modules = {name.rsplit(".", 1)[0] for name in _exception_classes()}
    for room in ("cool.api", "cool.cli", "cool.clouds", "cool.store", "cool.template"):
        assert any(m.startswith(room) for m in modules), room
    assert "cool.worker.schedule" in modules


def test_errors_each_says_its_code_status_and_whether_retryable() -> None:
    for name, cls in _exception_classes().items():
        if issubclass(cls, CoolError):
            assert cls.code.startswith("cool."), name
            assert isinstance(cls.retryable, bool), name
            assert 400 <= cls.status <= 599, name
