"""Wait condition signals: durable in the build's directory, counted once each.

A handle (``OS::Heat::WaitConditionHandle``) is opened by its fenced create: its node
(``signals/<handle>``, see :mod:`cool.store.layout`) holds the SHA-256 of a random
token, never the token. A signal is accepted (:meth:`SignalBook.send`) only while the
handle is open and its build is being created (or resized: new members' handles): it
is one node under the handle, named by the digest of its id and written by a
transaction that also checks the handle is still there. Senders never compete for one
version, so any number of them may signal at once; the same id sent again replaces its
node (delete and create: Heat overwrites too), and every new or replaced node fires the
waiting worker's watch on the handle's children. Whoever owns the build, before or
after a takeover, reads the same set.

Bounds: a signal's JSON at most :data:`MAX_SIGNAL_BYTES`, a handle at most
:data:`MAX_SIGNALS` signals (checked against the handle's child count as it is read:
concurrent senders may pass it by at most their number), a build at most
:data:`MAX_HANDLES` handles: at most 16 MiB of signals for a build, whoever sends them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError, RolledBackError

from cool.errors import (
    ClaimLostError,
    RequestInvalidError,
    RequestProblem,
    RequestTooLargeError,
    SignalLimitError,
    SignalNotFoundError,
    StoreUnavailableError,
)
from cool.model import BuildStatus
from cool.store import codec
from cool.store.layout import IdInvalidError, Layout
from cool.store.outcomes import UNKNOWN_OUTCOME, unavailable_as_error
from cool.store.pipelined import many
from cool.store.records import BuildState

MAX_SIGNAL_BYTES = 4 * 1024  # one signal, as stored
MAX_SIGNALS = 128  # distinct ids per handle (a WaitCondition's count is at most this)
MAX_HANDLES = 32  # handles per build: 32 x 128 x 4 KiB = 16 MiB, [template] max_plan_bytes
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): nothing else is read
STATUSES = ("SUCCESS", "FAILURE")
_KEYS = frozenset({"status", "reason", "data", "id"})
_ATTEMPTS = 8  # a transaction refused by a concurrent change is tried again this often
# What a node under ``signals`` is a capability for: a wait condition handle (token in
# X-Auth-Token), an AWS one (token in its URL's query, as Heat's pre-signed URL), a
# scaling policy's alarm_url (cool.store.scaling).
HANDLE, CFN_HANDLE, POLICY = "handle", "cfn", "policy"


# While a build may wait on a handle: its create, and a resize that adds members (a
# scaling group's new servers signal their own handles, as the first ones did).
_WAITING = frozenset({BuildStatus.CREATE_IN_PROGRESS, BuildStatus.UPDATE_IN_PROGRESS})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def id_digest(signal_id: str) -> str:
    return hashlib.sha256(signal_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal as Heat's WaitConditionHandle keeps it (its metadata entry)."""

    id: str
    status: str
    reason: str
    data: Any
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "data": self.data,
            "at": self.at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signal:
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            reason=str(data.get("reason", "")),
            data=data.get("data"),
            at=float(data.get("at", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class HandleSignals:
    """What a handle holds: its signals in the order they first came."""

    signals: tuple[Signal, ...]


def normalised(body: Any, ordinal: int, now: float) -> Signal:
    """A signal body as Heat's handle takes it (``normalise_signal_data``): missing keys
    default (status SUCCESS, reason "Signal N received", id N, data null); any other
    key, or a status other than SUCCESS and FAILURE, is refused: every problem at once."""
    if body is None or body in ({}, ""):
        body = {}
    if not isinstance(body, dict):
        raise RequestInvalidError(
            [RequestProblem("cool.signal.invalid", "a signal is a JSON object", pointer="")]
        )
    problems = [
        RequestProblem(
            "cool.signal.invalid",
            f"a signal has only status, reason, data and id: not {key!r}",
            pointer=f"/{key}",
        )
        for key in sorted(str(k) for k in body if k not in _KEYS)
    ]
    status = body.get("status", "SUCCESS")
    if status not in STATUSES:
        problems.append(
            RequestProblem(
                "cool.signal.invalid",
                f"status must be SUCCESS or FAILURE, not {status!r}",
                pointer="/status",
            )
        )
    signal_id = body.get("id", ordinal)
    if signal_id is None or isinstance(signal_id, dict | list):
        problems.append(
            RequestProblem("cool.signal.invalid", "id must be a string or a number", pointer="/id")
        )
    if problems:
        raise RequestInvalidError(problems)
    reason = body.get("reason")
    if reason is None:
        reason = f"Signal {ordinal} received"
    # Heat keeps the id as text (its metadata's keys): 1 and "1" are one signal.
    text_id = json.dumps(signal_id) if isinstance(signal_id, bool) else str(signal_id)
    return Signal(
        id=text_id,
        status=str(status),
        reason=reason if isinstance(reason, str) else json.dumps(reason),
        data=body.get("data"),
        at=now,
    )


class SignalBook:
    """The signals of every handle, on one client (the API's bounded one, a worker's)."""

    def __init__(self, client: Any, layout: Layout, *, clock: Callable[[], float] = time.time):
        self.client = client
        self.layout = layout
        self.clock = clock

    # -- the handle's life (a worker, fenced) ----------------------------------------

    def open(
        self, build_id: str, handle: str, token: str, epoch: int, *, kind: str = HANDLE
    ) -> None:
        """Open (or re-key) a handle with a new token, if ``epoch`` still holds the lease.
        ``kind``: a wait condition's :data:`HANDLE`, or a scaling :data:`POLICY`'s URL
        (cool.store.scaling), which holds no signals: it resizes a group.

        Re-keying keeps the signals already sent: only a token never published can be
        replaced (a handle's token reaches a server only once its create completed).
        Raises ClaimLostError when the lease moved on.
        """
        layout = self.layout
        lease = layout.lease(build_id)
        path = layout.signal_handle(build_id, handle)
        digest = token_digest(token)
        # Each refusal by a parallel opening is another handle opened, and they are at
        # most MAX_HANDLES: this many tries always see the count settle.
        for _ in range(MAX_HANDLES + _ATTEMPTS):
            try:
                data, stat = self.client.get(path)
            except NoNodeError:
                record = {"token_sha256": digest, **({"kind": kind} if kind != HANDLE else {})}
                transaction = self.client.transaction()
                transaction.check(lease, epoch)
                held = self.client.exists(layout.signals(build_id))
                if held is None:
                    transaction.create(layout.signals(build_id), b"")
                elif held.numChildren >= MAX_HANDLES:
                    raise SignalLimitError(
                        f"a build has at most {MAX_HANDLES} wait condition handles"
                    ) from None
                else:
                    # The count read above holds only if no other handle was opened
                    # since: every opening bumps the parent's version, so of two
                    # parallel steps that both saw room for one, one is refused
                    # (BadVersion) and counts again.
                    transaction.set_data(layout.signals(build_id), b"", version=held.version)
                transaction.create(path, codec.dumps(record))
            else:
                record = {**codec.loads(data), "token_sha256": digest}
                transaction = self.client.transaction()
                transaction.check(lease, epoch)
                transaction.set_data(path, codec.dumps(record), version=stat.version)
            results = transaction.commit()
            if not any(isinstance(r, Exception) for r in results):
                return
            if isinstance(results[0], BadVersionError | NoNodeError):
                raise ClaimLostError(f"build {build_id}: the lease moved on; handle not opened")
            if not any(isinstance(r, NodeExistsError | BadVersionError) for r in results):
                cause = next(r for r in results if not isinstance(r, RolledBackError))
                raise StoreUnavailableError(f"handle {handle} not opened: {cause!r}")
        raise StoreUnavailableError(f"handle {handle} not opened: it kept changing")

    def close(self, build_id: str, handle: str, epoch: int) -> None:
        """Remove a handle and its signals (its resource's delete), fenced; gone is done."""
        layout = self.layout
        path = layout.signal_handle(build_id, handle)
        for _ in range(_ATTEMPTS):
            try:
                children = self.client.get_children(path)
            except NoNodeError:
                return
            transaction = self.client.transaction()
            transaction.check(layout.lease(build_id), epoch)
            for child in children:
                transaction.delete(f"{path}/{child}")
            transaction.delete(path)
            results = transaction.commit()
            if not any(isinstance(r, Exception) for r in results):
                return
            if isinstance(results[0], BadVersionError | NoNodeError):
                raise ClaimLostError(f"build {build_id}: the lease moved on; handle not closed")
        raise StoreUnavailableError(f"handle {handle} not closed: it kept changing")

    def capability(self, build_id: str, name: str, token: str | None, kind: str) -> bool:
        """Whether ``token`` opens ``name``'s capability of ``kind`` (constant time, one
        read; a token of the wrong shape reads nothing)."""
        if token is None or not TOKEN.fullmatch(token):
            return False
        try:
            path = self.layout.signal_handle(build_id, name)
        except IdInvalidError:
            return False
        with unavailable_as_error():
            try:
                data, _ = self.client.get(path)
            except NoNodeError:
                return False
        record = codec.loads(data)
        digest = str(record.get("token_sha256", ""))
        return hmac.compare_digest(token_digest(token), digest) and (
            record.get("kind", HANDLE) == kind
        )

    def kind(self, build_id: str, name: str) -> str | None:
        """What ``name``'s node is a capability for (:data:`HANDLE`, :data:`CFN_HANDLE`,
        :data:`POLICY`); None when there is none."""
        try:
            data, _ = self.client.get(self.layout.signal_handle(build_id, name))
        except NoNodeError:
            return None
        return str(codec.loads(data).get("kind", HANDLE))

    def is_open(self, build_id: str, handle: str) -> bool:
        return self.client.exists(self.layout.signal_handle(build_id, handle)) is not None

    def read(
        self, build_id: str, handle: str, watch: Callable[[Any], None] | None = None
    ) -> HandleSignals | None:
        """The handle's signals (None: no such handle). ``watch`` is set on the handle's
        children by the same read: it fires on the next new or replaced signal, never
        missing one sent after this read. The signals are read pipelined."""
        path = self.layout.signal_handle(build_id, handle)
        try:
            children = self.client.get_children(path, watch=watch)
        except NoNodeError:
            return None
        names = sorted(children)[: MAX_SIGNALS * 2]  # what passed the bound, with room
        signals = []
        for got in many(self.client, "get", [f"{path}/{name}" for name in names]):
            if got is None:
                continue  # replaced meanwhile: the watch brings its new node
            try:
                signals.append(Signal.from_dict(codec.loads(got[0])))
            except (ValueError, KeyError, TypeError):
                continue  # not a signal this version wrote: never counted
        signals.sort(key=lambda s: (s.at, s.id))
        return HandleSignals(tuple(signals))

    # -- a sender (the API) --------------------------------------------------------

    def send(
        self,
        build_id: str,
        handle: str,
        body: Any,
        *,
        token: str | None,
        trusted: bool = False,
        kinds: tuple[str, ...] = (HANDLE,),
    ) -> Signal:
        """Store one signal. ``token``: the capability (checked against the stored
        digest in constant time, before anything else is read); ``trusted``: the caller
        was authenticated and authorized another way (the Heat API's resource signal)
        and may signal without it. Wrong token, unknown handle, a build not being
        created: the same 404, after the same one read."""
        layout = self.layout
        try:
            path = layout.signal_handle(build_id, handle)
        except IdInvalidError:
            raise SignalNotFoundError("no such wait condition handle") from None
        if not trusted and (token is None or not TOKEN.fullmatch(token)):
            raise SignalNotFoundError("no such wait condition handle")
        with unavailable_as_error():
            try:
                data, stat = self.client.get(path)
            except NoNodeError:
                raise SignalNotFoundError("no such wait condition handle") from None
            record = codec.loads(data)
            digest = str(record.get("token_sha256", ""))
            if not trusted and not hmac.compare_digest(token_digest(token or ""), digest):
                raise SignalNotFoundError("no such wait condition handle")
            if record.get("kind", HANDLE) not in kinds:
                raise SignalNotFoundError("no such wait condition handle")
            try:
                state_data, _ = self.client.get(layout.state(build_id))
            except NoNodeError:
                raise SignalNotFoundError("no such wait condition handle") from None
            if BuildState.from_dict(codec.loads(state_data)).status not in _WAITING:
                raise SignalNotFoundError(
                    "no such wait condition handle (its build is not being created)"
                )
            signal = normalised(body, stat.numChildren + 1, self.clock())
            entry_path = layout.signal(build_id, handle, id_digest(signal.id))
            for _ in range(_ATTEMPTS):
                written = self._write(path, entry_path, stat.numChildren, signal)
                if written is not None:
                    return written
        raise StoreUnavailableError("the signal kept changing under this one: send it again")

    def _write(self, path: str, entry_path: str, held: int, signal: Signal) -> Signal | None:
        """One attempt: the signal written (None: its node changed meanwhile, try again)."""
        entry = codec.dumps(signal.to_dict())
        if len(entry) > MAX_SIGNAL_BYTES:
            raise RequestTooLargeError(
                f"a signal is at most {MAX_SIGNAL_BYTES} bytes once stored; this one is "
                f"{len(entry)}"
            )
        try:
            old_data, old_stat = self.client.get(entry_path)
        except NoNodeError:
            old_data, old_stat = None, None
        transaction = self.client.transaction()
        transaction.check(path, -1)  # the handle is still open (not closed by a delete)
        if old_stat is None:
            if held >= MAX_SIGNALS:
                raise SignalLimitError(f"the handle holds {MAX_SIGNALS} signals already")
        else:  # sent again with its id: replaces itself, keeps its place
            first = Signal.from_dict(codec.loads(old_data or b"{}"))
            signal = Signal(signal.id, signal.status, signal.reason, signal.data, first.at)
            entry = codec.dumps(signal.to_dict())
            # Deleted and made again, so that the waiting worker's children watch fires.
            transaction.delete(entry_path, version=old_stat.version)
        transaction.create(entry_path, entry)
        try:
            results = transaction.commit()
        except UNKNOWN_OUTCOME as exc:
            raise StoreUnavailableError(
                "ZooKeeper did not answer: the signal may or may not be stored; sending it "
                "again with the same id is safe"
            ) from exc
        if not any(isinstance(r, Exception) for r in results):
            return signal
        if isinstance(results[0], NoNodeError):
            raise SignalNotFoundError("no such wait condition handle")
        return None  # the same id, sent at the same time: read it again
