"""``signals``: OS::Heat::WaitConditionHandle, OS::Heat::WaitCondition and the URLs of
OS::Heat::ScalingPolicy.

They need no cloud: a handle is a capability to signal the build (a random token,
stored hashed by :mod:`cool.store.signals`, reached at ``[signal] endpoint``); a
wait condition is complete when its handle holds ``count`` SUCCESS signals, failed
at the first FAILURE (the server's reason in the note) or when ``timeout`` passes
(a note naming the handle). Signals live in ZooKeeper, so a worker that takes the
build over counts exactly what its predecessor would have.

Why a provider in the worker, not in cool.clouds: clouds never touch ZooKeeper, and a
signal is ZooKeeper state of the build. The handle's create is fenced like every write
of the build (``check(lease, epoch)``), so ``fences_creates`` is true.

The token is made at create and kept in this process's memory until the create's
observe records it (CREATE_COMPLETE, with the ``token``, ``endpoint`` and ``curl_cli``
attributes a server's user_data is made from). An observe in a process that does not
remember it (a takeover between the two) answers gone: the runner creates the handle
again, which re-keys it. No one can hold the lost token: only a complete handle's
attributes reach a server.

A scaling policy is a handle of another kind (:data:`cool.store.signals.POLICY`): its
token opens its ``alarm_url``, whose signal resizes a group (cool.store.scaling), never
a wait.

A wait condition's id carries the time its wait began, so a takeover waits only what is
left of ``timeout``. Its observe sets a ZooKeeper watch on the handle; the runner waits
on that (:meth:`SignalProvider.changed`) rather than polling ZooKeeper.
"""

from __future__ import annotations

import collections
import contextlib
import json
import secrets
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from cool.clouds.base import (
    Found,
    Observed,
    ProviderError,
    ResourceGoneError,
    StaleClaimError,
    StepContext,
)
from cool.errors import ClaimLostError, SignalLimitError, StoreUnavailableError
from cool.model import SCALING_POLICY
from cool.store.layout import IdInvalidError, resource_name, resource_znode
from cool.store.outcomes import UNAVAILABLE
from cool.store.signals import CFN_HANDLE as CFN_KIND
from cool.store.signals import HANDLE as HANDLE_KIND
from cool.store.signals import (
    MAX_SIGNALS,
    POLICY,
    HandleSignals,
    SignalBook,
    token_digest,
)

HANDLE = "OS::Heat::WaitConditionHandle"
# Heat's handle that a stack update re-keys; cool updates a build only by resizing a
# group, which never touches it: at create it is a WaitConditionHandle.
UPDATE_HANDLE = "OS::Heat::UpdateWaitConditionHandle"
CFN_HANDLE = "AWS::CloudFormation::WaitConditionHandle"  # its reference is its URL
CONDITION = "OS::Heat::WaitCondition"
CFN_CONDITION = "AWS::CloudFormation::WaitCondition"
HANDLES = frozenset({HANDLE, UPDATE_HANDLE, CFN_HANDLE})
CONDITIONS = frozenset({CONDITION, CFN_CONDITION})
_KINDS = {SCALING_POLICY: POLICY, CFN_HANDLE: CFN_KIND}  # what a handle's node is
# A wait condition's properties and attribute, by its type: (handle, count, timeout, data).
_CONDITION_KEYS = {
    CONDITION: ("handle", "count", "timeout", "data"),
    CFN_CONDITION: ("Handle", "Count", "Timeout", "Data"),
}
TYPES = frozenset({*HANDLES, *CONDITIONS, SCALING_POLICY})
_KEPT = 4096  # tokens and watches remembered (a handle's lives from create to observe)
_HANDLE_MARK = "#"  # a handle's id: <resource name>#<token digest prefix>
_WAIT_MARK = "@"  # a wait condition's id: <resource name>@<unix ms the wait began>


class SignalProvider:
    """Wait condition handles and wait conditions, on the build's ZooKeeper directory."""

    name = "signals"
    fences_creates = True

    def __init__(
        self, book: SignalBook, *, endpoint: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.book = book
        self.endpoint = endpoint.rstrip("/")
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: collections.OrderedDict[tuple[str, str], str] = collections.OrderedDict()
        self._changes: collections.OrderedDict[tuple[str, str], threading.Event] = (
            collections.OrderedDict()
        )

    def supports(self, resource_type: str) -> bool:
        return resource_type in TYPES

    # -- the provider's calls ----------------------------------------------------

    def create(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        if ctx.resource_type in CONDITIONS:
            return f"{ctx.resource_name}{_WAIT_MARK}{int(self.clock() * 1000)}"
        if not self.endpoint:
            raise ProviderError(
                "a wait condition handle needs the URL servers reach cool-api at: "
                "set [signal] endpoint in the workers' configuration"
            )
        token = secrets.token_urlsafe(32)
        kind = _KINDS.get(ctx.resource_type, HANDLE_KIND)
        with _store_errors(f"open the handle {ctx.resource_name}"):
            self.book.open(ctx.build_id, ctx.resource_name, token, ctx.epoch, kind=kind)
        physical_id = f"{ctx.resource_name}{_HANDLE_MARK}{token_digest(token)[:12]}"
        with self._lock:
            self._tokens[(ctx.build_id, physical_id)] = token
            while len(self._tokens) > _KEPT:
                self._tokens.popitem(last=False)
        return physical_id

    def find(self, ctx: StepContext) -> list[Found]:
        # Nothing to adopt: a handle created again is re-keyed (its old token was never
        # published), a wait condition begins its wait again.
        return []

    def observe(self, ctx: StepContext, physical_id: str) -> Observed:
        if ctx.resource_type == CFN_HANDLE:
            return self._observe_cfn_handle(ctx, physical_id)
        if ctx.resource_type in HANDLES:
            return self._observe_handle(ctx, physical_id)
        if ctx.resource_type == SCALING_POLICY:
            return self._observe_policy(ctx, physical_id)
        return self._observe_condition(ctx, physical_id)

    def delete(self, ctx: StepContext, physical_id: str) -> None:
        if ctx.resource_type in (*HANDLES, SCALING_POLICY):
            with _store_errors(f"close the handle {ctx.resource_name}"):
                self.book.close(ctx.build_id, ctx.resource_name, ctx.epoch)
        with self._lock:
            self._tokens.pop((ctx.build_id, physical_id), None)
            self._changes.pop((ctx.build_id, ctx.resource_name), None)

    def is_deleted(self, ctx: StepContext, physical_id: str) -> bool:
        if ctx.resource_type not in (*HANDLES, SCALING_POLICY):
            return True
        with _store_errors(f"look up the handle {ctx.resource_name}"):
            return not self.book.is_open(ctx.build_id, ctx.resource_name)

    # -- what the runner waits on --------------------------------------------------

    def changed(self, ctx: StepContext, physical_id: str) -> tuple[threading.Event, float] | None:
        """For a wait condition: an event set when its handle next receives a signal
        (armed by the last observe) and the seconds left until its timeout."""
        if ctx.resource_type not in CONDITIONS:
            return None
        with self._lock:
            event = self._changes.get((ctx.build_id, ctx.resource_name))
        if event is None:
            return None
        left = _started(physical_id) + _timeout(ctx) - self.clock()
        return event, max(left, 0.0)

    # -- the two types -------------------------------------------------------------

    def _token(self, ctx: StepContext, physical_id: str) -> str:
        with self._lock:
            token = self._tokens.get((ctx.build_id, physical_id))
        if token is None:  # made by another process, or forgotten: make it again
            raise ResourceGoneError(f"handle {ctx.resource_name}: its token is not known here")
        return token

    def _observe_policy(self, ctx: StepContext, physical_id: str) -> Observed:
        """A scaling policy's URLs: ``alarm_url`` carries its token in the query (an
        alarm, or curl, POSTs to it with nothing else: Heat's is a pre-signed URL too);
        ``signal_url`` is the Heat API's resource signal, which needs a Keystone token."""
        token = self._token(ctx, physical_id)
        url_name = resource_znode(ctx.resource_name)
        return Observed(
            ready=True,
            attributes={
                "alarm_url": f"{self._url(ctx)}?token={token}",
                "signal_url": f"{self.endpoint}/v1/{ctx.project_id}/stacks/"
                f"{ctx.build_name or ctx.build_id}/{ctx.build_id}/resources/{url_name}/signal",
            },
        )

    def _observe_cfn_handle(self, ctx: StepContext, physical_id: str) -> Observed:
        """An AWS handle is its URL (its reference): a PUT to it with the token in the
        query signals it, as to Heat's pre-signed URL."""
        token = self._token(ctx, physical_id)
        url = f"{self._url(ctx)}?token={token}"
        return Observed(ready=True, reference=url)

    def _url(self, ctx: StepContext) -> str:
        # The URL names a nested handle as its znode does (``/`` as ``~``).
        return f"{self.endpoint}/v1/signals/{ctx.build_id}/{resource_znode(ctx.resource_name)}"

    def _observe_handle(self, ctx: StepContext, physical_id: str) -> Observed:
        token = self._token(ctx, physical_id)
        endpoint = self._url(ctx)
        curl_cli = (
            f"curl -i -X POST -H {shlex.quote('X-Auth-Token: ' + token)} "
            "-H 'Content-Type: application/json' -H 'Accept: application/json' "
            f"{endpoint}"
        )
        return Observed(
            ready=True,
            attributes={
                "token": token,
                "endpoint": endpoint,
                "curl_cli": curl_cli,
                "signal": json.dumps(None),  # Heat's, for TOKEN_SIGNAL
            },
        )

    def _observe_condition(self, ctx: StepContext, physical_id: str) -> Observed:
        handle_key, count_key, _, data_key = _CONDITION_KEYS[ctx.resource_type]
        handle = _handle_name(ctx.properties.get(handle_key), ctx.build_id)
        count = int(ctx.properties.get(count_key) or 1)
        timeout = _timeout(ctx)
        if handle is None:
            return Observed(
                ready=False,
                failed=f"{ctx.properties.get(handle_key)} is not a valid wait condition handle.",
            )
        if count > MAX_SIGNALS:
            return Observed(
                ready=False,
                failed=f"count is {count}: a handle takes at most {MAX_SIGNALS} signals",
            )
        key = (ctx.build_id, ctx.resource_name)
        with self._lock:
            event = self._changes.get(key)
            if event is None:
                event = self._changes[key] = threading.Event()
                while len(self._changes) > _KEPT:
                    self._changes.popitem(last=False)
            event.clear()  # before the read: a signal after it sets it again
        with _store_errors(f"read the signals of {handle}"):
            kind = self.book.kind(ctx.build_id, handle)
            held = self.book.read(ctx.build_id, handle, watch=lambda _event: event.set())
        # As Heat checks a condition's handle: an AWS condition's is an AWS handle, and
        # neither waits on a scaling policy.
        wanted = CFN_KIND if ctx.resource_type == CFN_CONDITION else HANDLE_KIND
        if held is None or kind != wanted:
            return Observed(ready=False, failed=f"{handle} is not a valid wait condition handle.")
        observed = _judge(
            held,
            handle,
            count,
            timeout=timeout,
            waited=self.clock() - _started(physical_id),
            data_key=data_key,
        )
        if observed.ready or observed.failed:
            with self._lock:
                self._changes.pop(key, None)
        return observed


def _judge(
    held: HandleSignals,
    handle: str,
    count: int,
    *,
    timeout: float,
    waited: float,
    data_key: str,
) -> Observed:
    """Heat's verdict (heat.engine.resources.openstack.heat.wait_condition): a FAILURE
    fails it with every failure's reason; ``count`` signals complete it; else the time."""
    failures = [s.reason for s in held.signals if s.status != "SUCCESS"]
    if failures:
        return Observed(ready=False, failed=f"WaitConditionFailure: {';'.join(failures)}")
    if len(held.signals) >= count:
        data = {s.id: s.data for s in held.signals}
        return Observed(ready=True, attributes={data_key: json.dumps(data)})
    if waited > timeout:
        reasons = ";".join(s.reason for s in held.signals)
        received = f"{len(held.signals)} of {count} received" + (f" - {reasons}" if reasons else "")
        return Observed(
            ready=False,
            failed=f"WaitConditionTimeout: {received} (handle {handle}, after {timeout:g} s)",
        )
    return Observed(ready=False)


def _handle_name(reference: Any, build_id: str) -> str | None:
    """The handle's resource name, from what ``get_resource`` gave: its id, or an AWS
    handle's URL (which must be this build's, as Heat checks its handle's stack)."""
    if not isinstance(reference, str):
        return None
    path = urlsplit(reference).path
    head, _, last = path.rpartition("/")
    if head.endswith(f"/v1/signals/{build_id}") and last:
        try:
            return resource_name(last)
        except IdInvalidError:
            return None
    if _HANDLE_MARK not in reference:
        return None
    name = reference.rsplit(_HANDLE_MARK, 1)[0]
    try:
        resource_znode(name)
    except IdInvalidError:
        return None
    return name


def _started(physical_id: str) -> float:
    try:
        return int(physical_id.rsplit(_WAIT_MARK, 1)[1]) / 1000
    except (IndexError, ValueError):
        return 0.0


def _timeout(ctx: StepContext) -> float:
    key = _CONDITION_KEYS.get(ctx.resource_type, _CONDITION_KEYS[CONDITION])[2]
    try:
        return float(ctx.properties.get(key) or 0)
    except (TypeError, ValueError):
        return 0.0


@contextlib.contextmanager
def _store_errors(doing: str) -> Iterator[None]:
    """ZooKeeper trouble as a provider error the runner retries; a lost lease as a
    stale claim (the runner stops: the build is another worker's now)."""
    try:
        yield
    except ClaimLostError as exc:
        raise StaleClaimError(f"{doing}: {exc}") from exc
    except SignalLimitError as exc:
        raise ProviderError(f"{doing}: {exc}") from exc
    except (StoreUnavailableError, *UNAVAILABLE) as exc:
        raise ProviderError(f"{doing}: ZooKeeper: {exc!r}", retryable=True) from exc
