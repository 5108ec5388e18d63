"""The ZooKeeper session as the worker sees it: its state, and watches.

Translates kazoo's connection states and watches into plain callbacks so
that nothing outside ``cool.store`` needs kazoo. Callbacks run on kazoo's
event thread: they must only record and wake, never block.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.recipe.watchers import ChildrenWatch

from cool.store import codec
from cool.store.client import ZooKeeperSettings, connect
from cool.store.layout import Layout

LOG = logging.getLogger(__name__)


class Connection(StrEnum):
    CONNECTED = "CONNECTED"  # safe to act
    SUSPENDED = "SUSPENDED"  # no new side effects until CONNECTED again
    LOST = "LOST"  # the session expired: ephemerals and claims are gone


class Session:
    def __init__(self, client: KazooClient, layout: Layout) -> None:
        self.client = client
        self.layout = layout

    @classmethod
    def open(cls, settings: ZooKeeperSettings) -> Session:
        return cls(connect(settings), Layout(settings.root))

    @property
    def connection(self) -> Connection:
        return Connection(str(self.client.state))

    @property
    def session_id(self) -> int | None:
        return self.client.client_id[0] if self.client.client_id else None

    @property
    def timeout_s(self) -> float:
        """The session timeout asked for: how long the session outlives a lost connection
        (the server may clamp it to its own bounds)."""
        return float(self.client._session_timeout) / 1000.0

    def on_connection(self, callback: Callable[[Connection], None]) -> None:
        def listener(state: KazooState) -> None:
            callback(Connection(str(state)))

        self.client.add_listener(listener)

    def watch_children(self, path: str, callback: Callable[[list[str]], None]) -> None:
        """``callback(children)`` now and on every change, for the life of the session
        (and re-established by kazoo after a reconnection)."""
        self.client.ensure_path(path)

        def changed(children: list[str]) -> bool:
            try:
                callback(list(children))
            except Exception:  # a bug in a callback must not kill kazoo's watch thread
                LOG.exception("watch callback for %s failed", path)
            return True

        ChildrenWatch(self.client, path, changed)

    def watch_data(
        self, path: str, callback: Callable[[dict[str, Any]], None]
    ) -> Callable[[], None]:
        """``callback(decoded data)`` now and on every change, until the returned
        function is called (or the node is deleted).

        One-shot ZooKeeper watches, re-armed while wanted; stopping removes the
        armed one from the client, so that nothing (a finished build's runner
        above all) stays reachable from kazoo once its watch is no longer wanted.
        (kazoo's DataWatch recipe cannot be removed until its node changes.)
        """
        active = threading.Event()
        active.set()

        def arm(_event: object = None) -> None:
            if not active.is_set():
                return
            try:
                data, _ = self.client.get(path, watch=arm)
            except NoNodeError:
                return
            except KazooException as exc:
                LOG.warning("watch on %s lost: %r", path, exc)
                return
            try:
                callback(codec.loads(data) if data else {})
            except Exception:  # a bug in a callback must not kill kazoo's watch thread
                LOG.exception("watch callback for %s failed", path)

        def stop() -> None:
            active.clear()
            # kazoo keeps a one-shot watcher until it fires; drop ours now.
            watchers = getattr(self.client, "_data_watchers", None)
            if watchers is not None and path in watchers:
                watchers[path].discard(arm)

        arm()
        return stop

    def close(self, timeout_s: float = 10.0) -> bool:
        """End the session (the server drops its ephemerals: claims, worker node) and
        free the client, waiting at most ``timeout_s``; False if that was not enough.

        kazoo's ``stop()`` has no bound of its own: it joins its event threads (one may
        be inside a callback waiting on ZooKeeper) and its connection thread. Past the
        bound the session is left to expire on the server, as if the process had died.
        """

        def close() -> None:
            try:
                self.client.stop()
                self.client.close()
            except Exception as exc:  # e.g. kazoo's WriterNotClosedException
                LOG.warning("closing the ZooKeeper session: %r", exc)

        closer = threading.Thread(target=close, name="zookeeper-close", daemon=True)
        closer.start()
        closer.join(timeout_s)
        if closer.is_alive():
            LOG.warning(
                "the ZooKeeper session did not close within %.1f s: the server expires it",
                timeout_s,
            )
            return False
        return True
