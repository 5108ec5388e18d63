"""``heat``: the resource types that need no cloud (OS::Heat::None, ::Value,
::RandomString, ::TestResource).

Nothing is created anywhere, so :meth:`HeatProvider.find` finds nothing
and a create after a takeover simply runs again. The provider keeps no shared
state; what an observe needs must come from the physical id, or from this
process's memory of the create:

Ids start with the build id and the exact resource name, percent-encoded
(:func:`_local_id`; a nested ``a/0`` is ``a%2F0``, never ``a.0``'s id), so
two resources never share an id, nor a remembered value.

- ``None``: the id is that name; its attributes are ``{}``.
- ``Value``: the value (coerced to the ``type`` property) is remembered by the
  create, in memory, and read back by the observe that follows it. The value is
  *not* put in the id: it may hold a secret (a RandomString's, say), and ids
  appear in logs and events. An observe in a process that did not create it
  raises ResourceGoneError: create it again (nothing exists to duplicate). The
  runner observes right after creating, and a Value is ready at once, so this
  happens only if an observe runs in another worker before CREATE_COMPLETE.
- ``RandomString``: the string is generated at create (Heat's algorithm, with
  :class:`secrets.SystemRandom`) and remembered; the id carries the *recipe*
  (length, classes, sequences and their mins), never the string. An observe
  that does not remember it (another process, after a takeover) generates a
  new one from the recipe: no value is exposed before the runner records one
  at CREATE_COMPLETE, so a fresh, never-seen value is as good as the lost one.
- ``TestResource``: the id is ``<name>@<unix time ready>?<query>`` with
  the output, the delete wait and the fail flag, so any worker can observe it
  after a takeover (clocks of workers are assumed to agree). Its value is in
  the id: TestResource is for tests; do not give it secrets. Ready means
  ``wait_secs`` (or ``action_wait_secs.create``) and then ``attr_wait_secs``
  have passed (cool records attributes once, at CREATE_COMPLETE). ``fail: true``
  fails the create after the wait, as Heat does (at once, with
  ResourceFailedError, when there is no wait); a delete does not fail, as in
  Heat, which exempts DELETE, so a failed build can still be rolled back. A
  delete waits ``action_wait_secs.delete`` (or ``wait_secs``) from the first
  delete (or ``is_deleted``) this process sees for it.

What ``get_resource`` gives (:attr:`Observed.reference`) follows Heat's
``get_reference_id``: a RandomString's value (a secret, as its ``value``
attribute is); a TestResource's ``cloud_name``, where Heat gives its physical
resource name (the id here carries the ready time and the output besides).
A Value's id is its name (Heat's: the physical resource name) and a
None's is as opaque as Heat's uuid, so theirs is None: the id itself.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from cool.clouds import heat_configs as configs
from cool.clouds.base import Found, Observed, ResourceFailedError, ResourceGoneError, StepContext
from cool.model import ParameterType
from cool.template.parameters import coerce

NONE = "OS::Heat::None"
VALUE = "OS::Heat::Value"
RANDOM_STRING = "OS::Heat::RandomString"
TEST_RESOURCE = "OS::Heat::TestResource"
TYPES = frozenset({NONE, VALUE, RANDOM_STRING, TEST_RESOURCE, *configs.TYPES})

# Heat's named character classes (heat.common.password_gen).
CHARACTER_CLASSES: Mapping[str, str] = {
    "lettersdigits": string.ascii_letters + string.digits,
    "letters": string.ascii_letters,
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "hexdigits": string.digits + "ABCDEF",
    "octdigits": string.octdigits,
}
_DEFAULT_CLASSES = ({"class": "lettersdigits", "min": 1},)  # Heat's default
_TEST_VALUE = "test_string"


def generate(length: int, pools: Sequence[tuple[str, int]]) -> str:
    """Heat's RandomString: each pool's minimum first, the rest from their union, shuffled.

    ``pools`` are (characters, minimum count) pairs: character sequences first,
    then classes, as Heat orders them.
    """
    rng = secrets.SystemRandom()
    chosen: list[str] = []
    union: set[str] = set()
    for characters, minimum in pools:
        allowed = sorted(set(characters))
        union.update(allowed)
        chosen.extend(rng.choice(allowed) for _ in range(minimum))
    everything = sorted(union)
    chosen.extend(rng.choice(everything) for _ in range(length - len(chosen)))
    rng.shuffle(chosen)
    return "".join(chosen)


def _recipe(properties: Mapping[str, Any]) -> tuple[int, list[tuple[str, str, int]]]:
    """Length and (kind, what, min) pools of a RandomString, checked as Heat checks them."""
    length = properties.get("length", 32)
    if not isinstance(length, int) or isinstance(length, bool) or not 1 <= length <= 512:
        raise ResourceFailedError(f"length must be an integer from 1 to 512, not {length!r}")
    pools: list[tuple[str, str, int]] = []
    for item in properties.get("character_sequences") or ():
        pools.append(("sequence", str(item.get("sequence") or ""), int(item.get("min", 1))))
    classes = properties.get("character_classes")
    if properties.get("sequence"):  # Heat's translation of its hidden, older property
        classes = [*(classes or ()), {"class": properties["sequence"], "min": 1}]
    for item in _DEFAULT_CLASSES if classes is None else classes:
        pools.append(("class", str(item.get("class", "lettersdigits")), int(item.get("min", 1))))
    if not pools:
        pools = [("class", "lettersdigits", 1)]
    _check_recipe(length, pools)
    return length, pools


def _check_recipe(length: int, pools: Sequence[tuple[str, str, int]]) -> None:
    for kind, what, minimum in pools:
        if kind == "class" and what not in CHARACTER_CLASSES:
            raise ResourceFailedError(f"unknown character class {what!r}")
        if kind == "sequence" and not what:
            raise ResourceFailedError("a character sequence cannot be empty")
        if minimum < 1:
            raise ResourceFailedError(f"min of {kind} {what!r} must be at least 1")
    total = sum(minimum for _, _, minimum in pools)
    if total > length:
        raise ResourceFailedError(
            f"length {length} is smaller than the combined character class and sequence "
            f"minimums ({total})"
        )


def _generate_from(length: int, pools: Sequence[tuple[str, str, int]]) -> str:
    chars = [(CHARACTER_CLASSES[w] if k == "class" else w, n) for k, w, n in pools]
    return generate(length, chars)


def _wait_s(properties: Mapping[str, Any], action: str) -> float:
    """TestResource's wait for an action: action_wait_secs[action], else wait_secs (Heat's)."""
    secs = (properties.get("action_wait_secs") or {}).get(action)
    if secs is None:
        secs = properties.get("wait_secs") or 0
    return float(secs)


class HeatProvider:
    """Runs the types that need no cloud, in this process, with no shared state."""

    name = "heat"
    fences_creates = True  # it creates nothing anywhere: no late create can leave anything

    def __init__(self, *, clock: Callable[[], float] = time.time, memory: int = 4096) -> None:
        self._clock = clock
        self._memory_size = memory
        self._lock = threading.Lock()
        self._remembered: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._deleting: dict[str, float] = {}  # TestResource id -> when its delete is done

    def supports(self, resource_type: str) -> bool:
        return resource_type in TYPES

    def has_no_side_effect(self, resource_type: str) -> bool:
        """Its create makes nothing anywhere and its observe is ready at once: the worker
        records it in one write, with no checkpoint before (TestResource waits)."""
        return resource_type in TYPES and resource_type != TEST_RESOURCE

    def create(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        kind = ctx.resource_type
        if kind in configs.TYPES:
            configs.render(kind, properties)  # a part that cannot render fails the create
            return _local_id(ctx)
        if kind == NONE:
            return _local_id(ctx)
        if kind == VALUE:
            value = properties.get("value")
            declared = properties.get("type")
            if declared and value is not None:
                try:
                    value = coerce(ParameterType(declared), value)
                except ValueError as exc:
                    raise ResourceFailedError(f"value {exc} (type {declared})") from exc
            return self._remember(_local_id(ctx), {"value": value})
        if kind == RANDOM_STRING:
            length, pools = _recipe(properties)
            recipe = [("length", str(length))] + [(k, f"{n}:{w}") for k, w, n in pools]
            physical_id = f"{_local_id(ctx)}?{urlencode(recipe)}"
            return self._remember(physical_id, {"value": _generate_from(length, pools)})
        if kind == TEST_RESOURCE:
            return self._create_test_resource(ctx, properties)
        raise ResourceFailedError(f"the heat provider does not run {kind}")

    def _create_test_resource(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        wait_s = _wait_s(properties, "create")
        if properties.get("fail") and wait_s <= 0:
            raise ResourceFailedError(_failed_as_asked(ctx))
        ready = self._clock() + wait_s + float(properties.get("attr_wait_secs") or 0)
        value = properties.get("value", _TEST_VALUE)
        query = [("output", value if isinstance(value, str) else json.dumps(value))]
        if delete_s := _wait_s(properties, "delete"):
            query.append(("delete", repr(delete_s)))
        if properties.get("fail"):
            query.append(("fail", "1"))
        return f"{_local_id(ctx)}@{ready:.3f}?{urlencode(query)}"

    def find(self, ctx: StepContext) -> list[Found]:
        return []  # nothing exists outside the build's own record

    def observe(self, ctx: StepContext, physical_id: str) -> Observed:
        kind = ctx.resource_type
        if kind == NONE:
            return Observed(ready=True)
        if kind in configs.TYPES:  # rendered again from the properties: any worker can
            config = configs.render(kind, ctx.properties)
            return Observed(
                ready=True,
                attributes={"config": config},
                reference=configs.reference(kind, config),
            )
        if kind == TEST_RESOURCE:
            ready, query = _parse_test_id(ctx, physical_id)
            if self._clock() < ready:
                return Observed(ready=False)
            if query.get("fail"):
                return Observed(ready=False, failed=_failed_as_asked(ctx))
            output = query.get("output", _TEST_VALUE)
            return Observed(ready=True, attributes={"output": output}, reference=ctx.cloud_name)
        with self._lock:
            known = self._remembered.get(physical_id)
        if known is None and kind == RANDOM_STRING:
            length, pools = _parse_recipe(ctx, physical_id)
            known = self._recall(physical_id, {"value": _generate_from(length, pools)})
        if known is None:
            raise ResourceGoneError(
                f"{kind} {ctx.resource_name}: its value was held by the worker that created it; "
                "create it again (it exists nowhere else)"
            )
        reference = known["value"] if kind == RANDOM_STRING else None
        return Observed(ready=True, attributes=dict(known), reference=reference)

    def delete(self, ctx: StepContext, physical_id: str) -> None:
        with self._lock:
            self._remembered.pop(physical_id, None)
        if ctx.resource_type == TEST_RESOURCE:
            self._delete_deadline(ctx, physical_id)

    def is_deleted(self, ctx: StepContext, physical_id: str) -> bool:
        if ctx.resource_type != TEST_RESOURCE:
            return True
        done = self._delete_deadline(ctx, physical_id) <= self._clock()
        if done:
            with self._lock:
                self._deleting.pop(physical_id, None)
        return done

    # -- memory -------------------------------------------------------------

    def _remember(self, physical_id: str, attributes: dict[str, Any]) -> str:
        with self._lock:
            self._remembered[physical_id] = attributes
            self._remembered.move_to_end(physical_id)
            while len(self._remembered) > self._memory_size:
                self._remembered.popitem(last=False)
        return physical_id

    def _recall(self, physical_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
        """What is remembered for the id, else ``attributes`` (remembered from now on)."""
        with self._lock:
            known = self._remembered.setdefault(physical_id, attributes)
        return dict(known)

    def _delete_deadline(self, ctx: StepContext, physical_id: str) -> float:
        try:
            _, query = _parse_test_id(ctx, physical_id)
        except ResourceGoneError:
            return 0.0  # not one of ours: nothing to wait for
        wait_s = float(query.get("delete", 0))
        with self._lock:
            return self._deleting.setdefault(physical_id, self._clock() + wait_s)


def _local_id(ctx: StepContext) -> str:
    """The step's id here: its build and its exact resource name, percent-encoded.

    Not ``cloud_name``, which maps a nested name's ``/`` to ``.`` (``a/0`` and
    ``a.0`` alike): ids key this process's memory of values, so they must be
    injective. A plain name of letters, digits, ``_.-~`` is its cloud_name.
    """
    return f"cool-{ctx.build_id.lower()}-{quote(ctx.resource_name, safe='')}"


def _failed_as_asked(ctx: StepContext) -> str:
    return f"{ctx.resource_type} {ctx.resource_name} failed as asked (fail: true)"


def _parse_test_id(ctx: StepContext, physical_id: str) -> tuple[float, dict[str, str]]:
    head, _, query = physical_id.partition("?")
    name, at, ready = head.rpartition("@")
    try:
        if not at or name != _local_id(ctx):
            raise ValueError(physical_id)
        return float(ready), dict(parse_qsl(query, keep_blank_values=True))
    except ValueError:
        raise ResourceGoneError(f"{physical_id!r} is no TestResource of this step") from None


def _parse_recipe(ctx: StepContext, physical_id: str) -> tuple[int, list[tuple[str, str, int]]]:
    head, _, query = physical_id.partition("?")
    try:
        if head != _local_id(ctx):
            raise ValueError(physical_id)
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
        length = int(dict(pairs)["length"])
        pools = []
        for kind, value in pairs:
            if kind in ("class", "sequence"):
                minimum, _, what = value.partition(":")
                pools.append((kind, what, int(minimum)))
        _check_recipe(length, pools)
    except (ValueError, KeyError, ResourceFailedError):
        raise ResourceGoneError(f"{physical_id!r} is no RandomString of this step") from None
    return length, pools
