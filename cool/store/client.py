"""Connecting to ZooKeeper: one client per process, retry policy declared once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

from cool.errors import StoreUnavailableError
from cool.store.poll_handler import PollHandler

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ZooKeeperSettings:
    hosts: str = "127.0.0.1:2181"
    root: str = "/cool"
    session_timeout_s: float = 10.0
    connect_timeout_s: float = 15.0


# Reconnecting never gives up (the session may still be alive on the server);
# a single command is retried a few times, quickly, across connection blips.
CONNECTION_RETRY = {"max_tries": -1, "delay": 0.1, "backoff": 2, "max_delay": 2.0}
COMMAND_RETRY = {"max_tries": 5, "delay": 0.05, "backoff": 2, "max_delay": 1.0}


def make_client(settings: ZooKeeperSettings) -> KazooClient:
    """A client, not yet started."""
    return KazooClient(
        hosts=settings.hosts,
        timeout=settings.session_timeout_s,
        connection_retry=KazooRetry(**CONNECTION_RETRY),
        command_retry=KazooRetry(**COMMAND_RETRY),
        randomize_hosts=True,
        handler=PollHandler(),
    )


def connect(settings: ZooKeeperSettings) -> KazooClient:
    """A started client, or StoreUnavailableError when ZooKeeper does not answer in time."""
    client = make_client(settings)
    try:
        client.start(timeout=settings.connect_timeout_s)
    except KazooTimeoutError as exc:
        client.close()
        raise StoreUnavailableError(
            f"cannot connect to ZooKeeper at {settings.hosts} within "
            f"{settings.connect_timeout_s:g} s"
        ) from exc
    LOG.info(
        "connected to ZooKeeper at %s (session timeout %.1f s)",
        settings.hosts,
        settings.session_timeout_s,
    )
    return client


class NotConnectedError(ConnectionLoss):
    """A call refused before it was sent: nothing of it can reach ZooKeeper."""


class BoundedClient:
    """A client whose calls give up: for processes that answer people (the API).

    kazoo queues a call made while disconnected until the connection is back,
    so a plain ``client.get`` can block for as long as ZooKeeper is away. A
    request handler must answer 503 at once instead: each call here fails
    fast with ``ConnectionLoss`` when the client is not connected, and with
    ``KazooTimeoutError`` when no reply comes within ``timeout_s`` (which
    ``cool.store.outcomes.unavailable_as_error`` turns into
    :class:`~cool.errors.StoreUnavailableError`). A write that timed out may
    still be applied later: its outcome is unknown, and said to be.

    Everything else is the wrapped client's (``state``, listeners, ...).
    """

    def __init__(self, client: KazooClient, *, timeout_s: float = 5.0) -> None:
        self.raw = client
        self.timeout_s = timeout_s

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def _ready(self) -> None:
        if not self.raw.connected:
            raise NotConnectedError("not connected to ZooKeeper")

    def _wait(self, async_result: Any) -> Any:
        return async_result.get(timeout=self.timeout_s)

    def get(self, path: str, watch: Any = None) -> Any:
        self._ready()
        return self._wait(self.raw.get_async(path, watch=watch))

    def get_children(self, path: str, watch: Any = None) -> Any:
        self._ready()
        return self._wait(self.raw.get_children_async(path, watch=watch))

    def exists(self, path: str, watch: Any = None) -> Any:
        self._ready()
        return self._wait(self.raw.exists_async(path, watch=watch))

    def get_async(self, path: str, watch: Any = None) -> Any:
        self._ready()
        return _Bounded(self.raw.get_async(path, watch=watch), self.timeout_s)

    def get_children_async(self, path: str, watch: Any = None) -> Any:
        self._ready()
        return _Bounded(self.raw.get_children_async(path, watch=watch), self.timeout_s)

    def ensure_path(self, path: str) -> Any:
        self._ready()
        return self._wait(self.raw.ensure_path_async(path))

    def create(self, path: str, value: bytes = b"", **kwargs: Any) -> Any:
        self._ready()
        return self._wait(self.raw.create_async(path, value, **kwargs))

    def set(self, path: str, value: bytes, version: int = -1) -> Any:
        self._ready()
        return self._wait(self.raw.set_async(path, value, version=version))

    def delete(self, path: str, version: int = -1) -> Any:
        self._ready()
        return self._wait(self.raw.delete_async(path, version=version))

    def transaction(self) -> _BoundedTransaction:
        return _BoundedTransaction(self)


class _Bounded:
    """An async result whose ``get()`` waits at most the client's timeout."""

    def __init__(self, async_result: Any, timeout_s: float) -> None:
        self._result = async_result
        self._timeout_s = timeout_s

    def get(self) -> Any:
        return self._result.get(timeout=self._timeout_s)


class _BoundedTransaction:
    def __init__(self, client: BoundedClient) -> None:
        self._client = client
        self._transaction = client.raw.transaction()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transaction, name)  # create, set_data, delete, check

    def commit(self) -> list[Any]:
        self._client._ready()
        return self._client._wait(self._transaction.commit_async())
