"""Wait condition signals: durable in the build's directory, counted once each.

A handle (``OS::Heat::WaitConditionHandle``) is opened by its fenced create: its node
(``signals/<handle>``, see :mod:`cool.store.layout`) holds the SHA-256 of a random
token, never the token. A signal is accepted (:meth:`SignalBook.send`) only while the
build is being created and the handle is open; it is one transaction that bumps the
handle node at the version it was read at and writes the signal's own node, named by
the digest of its id: the same id sent twice replaces itself (Heat overwrites too),
two senders never lose one another's signal, and a worker watching the handle node
wakes for every signal. A waiting worker reads the signals back whenever the handle
node changes (:meth:`SignalBook.read`): whoever owns the build, before or after a
takeover, counts the same set.

Bounds: a signal's JSON at most :data:`MAX_SIGNAL_BYTES`, a handle at most
:data:`MAX_SIGNALS` signals and :data:`MAX_HANDLE_BYTES` of them, so a chatty or
hostile sender costs ZooKeeper and the waiting worker a bounded amount.
"""

from __future__ import annotations

import hashlib
import hmac
import json
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
from cool.store.records import BuildState

MAX_SIGNAL_BYTES = 8 * 1024  # one signal, as JSON
MAX_SIGNALS = 1000  # distinct ids per handle (a WaitCondition's count is at most this)
MAX_HANDLE_BYTES = 512 * 1024  # every signal of a handle together
STATUSES = ("SUCCESS", "FAILURE")
_KEYS = frozenset({"status", "reason", "data", "id"})
_ATTEMPTS = 8  # concurrent senders to one handle retry their transaction this often


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
    version: int  # the handle node's: it grows with every signal


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

    def open(self, build_id: str, handle: str, token: str, epoch: int) -> None:
        """Open (or re-key) a handle with a new token, if ``epoch`` still holds the lease.

        Re-keying keeps the signals already sent: only a token never published can be
        replaced (a handle's token reaches a server only once its create completed).
        Raises ClaimLostError when the lease moved on.
        """
        layout = self.layout
        lease = layout.lease(build_id)
        path = layout.signal_handle(build_id, handle)
        digest = token_digest(token)
        for _ in range(_ATTEMPTS):
            try:
                data, stat = self.client.get(path)
            except NoNodeError:
                record = {"token_sha256": digest, "count": 0, "bytes": 0}
                transaction = self.client.transaction()
                transaction.check(lease, epoch)
                if not self.client.exists(layout.signals(build_id)):
                    transaction.create(layout.signals(build_id), b"")
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

    def is_open(self, build_id: str, handle: str) -> bool:
        return self.client.exists(self.layout.signal_handle(build_id, handle)) is not None

    def read(
        self, build_id: str, handle: str, watch: Callable[[Any], None] | None = None
    ) -> HandleSignals | None:
        """The handle's signals (None: no such handle). ``watch`` is set on the handle
        node by the same read: it fires on the next signal, never missing one sent
        after this read."""
        path = self.layout.signal_handle(build_id, handle)
        try:
            _, stat = self.client.get(path, watch=watch)
            children = self.client.get_children(path)
        except NoNodeError:
            return None
        signals = []
        for child in sorted(children)[: MAX_SIGNALS + 1]:
            try:
                data, _ = self.client.get(f"{path}/{child}")
            except NoNodeError:
                continue
            try:
                signals.append(Signal.from_dict(codec.loads(data)))
            except (ValueError, KeyError, TypeError):
                continue  # not a signal this version wrote: never counted
        signals.sort(key=lambda s: (s.at, s.id))
        return HandleSignals(tuple(signals), stat.version)

    # -- a sender (the API) --------------------------------------------------------

    def send(
        self, build_id: str, handle: str, body: Any, *, token: str | None, trusted: bool = False
    ) -> Signal:
        """Store one signal. ``token``: the capability (checked against the stored
        digest in constant time); ``trusted``: the caller was authenticated and
        authorized another way (the Heat API's resource signal) and may signal
        without it. Wrong token, unknown handle, a build not being created: 404."""
        layout = self.layout
        try:
            path = layout.signal_handle(build_id, handle)
        except IdInvalidError:
            raise SignalNotFoundError("no such wait condition handle") from None
        with unavailable_as_error():
            for _ in range(_ATTEMPTS):
                try:
                    state_data, _ = self.client.get(layout.state(build_id))
                    data, stat = self.client.get(path)
                except NoNodeError:
                    raise SignalNotFoundError("no such wait condition handle") from None
                record = codec.loads(data)
                if not trusted and (
                    token is None
                    or not hmac.compare_digest(
                        token_digest(token), str(record.get("token_sha256", ""))
                    )
                ):
                    raise SignalNotFoundError("no such wait condition handle")
                status = BuildState.from_dict(codec.loads(state_data)).status
                if status is not BuildStatus.CREATE_IN_PROGRESS:
                    raise SignalNotFoundError(
                        "no such wait condition handle (its build is not being created)"
                    )
                signal = normalised(body, int(record.get("count", 0)) + 1, self.clock())
                entry_path = layout.signal(build_id, handle, id_digest(signal.id))
                written = self._write(path, entry_path, record, stat.version, signal)
                if written is not None:
                    return written
        raise StoreUnavailableError("the handle kept changing: send the signal again")

    def _write(
        self, path: str, entry_path: str, record: dict[str, Any], version: int, signal: Signal
    ) -> Signal | None:
        """One attempt: the signal written (None: the handle changed, try again)."""
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
        count = int(record.get("count", 0)) + (old_stat is None)
        total = int(record.get("bytes", 0)) + len(entry) - len(old_data or b"")
        if count > MAX_SIGNALS:
            raise SignalLimitError(f"the handle holds {MAX_SIGNALS} signals already")
        if total > MAX_HANDLE_BYTES:
            raise SignalLimitError(
                f"the handle's signals would hold {total} bytes: at most {MAX_HANDLE_BYTES}"
            )
        if old_stat is not None:  # sent again with its id: replaces itself, keeps its place
            first = Signal.from_dict(codec.loads(old_data or b"{}"))
            signal = Signal(signal.id, signal.status, signal.reason, signal.data, first.at)
            entry = codec.dumps(signal.to_dict())
        transaction = self.client.transaction()
        transaction.set_data(
            path, codec.dumps({**record, "count": count, "bytes": total}), version=version
        )
        if old_stat is None:
            transaction.create(entry_path, entry)
        else:
            transaction.set_data(entry_path, entry, version=old_stat.version)
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
        return None
