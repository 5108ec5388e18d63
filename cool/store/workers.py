"""Live workers: each an EPHEMERAL node with host, pid, capacity and load."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError

from cool.errors import StoreUnavailableError
from cool.store import codec
from cool.store.layout import WORKER_ID, Layout
from cool.store.outcomes import unavailable_as_error

_REGISTER_TRIES = 5


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    worker_id: str
    host: str
    pid: int
    capacity: int
    load: int
    started_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerInfo:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


class WorkerRegistry:
    def __init__(self, client: KazooClient, layout: Layout) -> None:
        self.client = client
        self.layout = layout

    def register(self, info: WorkerInfo) -> None:
        """Create this session's node; if it exists from this session already, update it."""
        path = self.layout.worker(info.worker_id)
        data = codec.dumps(info.to_dict())
        with unavailable_as_error():
            self.client.ensure_path(self.layout.workers)
            for _ in range(_REGISTER_TRIES):
                try:
                    self.client.create(path, data, ephemeral=True)
                    return
                except NodeExistsError:
                    pass
                # It was us (a retried create), or a dead session's node not yet expired;
                # that one may expire (or be replaced) under us: look again, a few times.
                try:
                    _, stat = self.client.get(path)
                    if stat.ephemeralOwner == self.client.client_id[0]:
                        self.client.set(path, data, version=stat.version)
                        return
                    self.client.delete(path, version=stat.version)
                except (NoNodeError, BadVersionError):
                    continue
        raise StoreUnavailableError(f"worker {info.worker_id}: its node kept changing")

    def update(self, info: WorkerInfo) -> None:
        with unavailable_as_error():
            try:
                self.client.set(self.layout.worker(info.worker_id), codec.dumps(info.to_dict()))
            except NoNodeError:
                self.register(info)

    def unregister(self, worker_id: str, *, timeout_s: float) -> None:
        """Delete this worker's node, waiting at most ``timeout_s`` for the reply.

        A courtesy that makes the worker vanish from listings at once: the node is
        EPHEMERAL, so closing the session removes it anyway. So nothing is sent while
        the connection is down (kazoo would queue the delete until it is back), and a
        reply that does not come in time is given up on (StoreUnavailableError).
        """
        if not self.client.connected:
            raise StoreUnavailableError("not connected to ZooKeeper: the session's end removes it")
        with unavailable_as_error(), contextlib.suppress(NoNodeError):
            self.client.delete_async(self.layout.worker(worker_id)).get(timeout=timeout_s)

    def live(self) -> list[WorkerInfo]:
        out = []
        with unavailable_as_error():
            try:
                names = self.client.get_children(self.layout.workers)
            except NoNodeError:
                return []
            for name in sorted(names):
                if not WORKER_ID.fullmatch(name):
                    continue
                try:
                    data, _ = self.client.get(self.layout.worker(name))
                except NoNodeError:
                    continue
                out.append(WorkerInfo.from_dict(codec.loads(data)))
        return out
