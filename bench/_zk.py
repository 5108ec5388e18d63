"""The benchmark's ZooKeeper: a private server, waits, and the raw baseline
(clients: :mod:`harness.zk_clients`).

The raw baseline is what the same server does for a client that does nothing
but write, one request at a time, as a build's chain does:

- ``set``: a synchronous ``set`` of one node, again and again;
- ``multi``: a multi-op transaction shaped like a worker's step
  (``check`` of a lease + ``set`` of a resource record at its version +
  sequential ``create`` of an event), with payloads of a worker's size;
- ``exists``: a synchronous read, for context (a worker's guard before each
  cloud call is two of them).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError, NotEmptyError

from harness.zookeeper import ZooKeeperServer, four_letter_word

# Room for the session timeouts a user configures (cool.conf's default is 10 s);
# ZooKeeper's own default maximum is 20 ticks (4 s with 200 ms ticks).
MAX_SESSION_TIMEOUT_MS = 60_000

# Payloads of a worker's size: a resource record and an event, as JSON.
_RECORD = json.dumps(
    {
        "name": "r123",
        "type": "OS::Heat::None",
        "status": "CREATE_COMPLETE",
        "physical_id": "cool-01jbenchmark0000000000000-r123",
        "reference": None,
        "attributes": {},
        "attempts": 1,
        "error": None,
        "worker": "bench-host-12345-0123abcd",
        "updated_at": 1764000000.123,
    }
).encode()
_EVENT = json.dumps(
    {
        "at": 1764000000.123,
        "resource": "r123",
        "old": "CREATE_IN_PROGRESS",
        "new": "CREATE_COMPLETE",
        "reason": "created",
        "worker": "bench-host-12345-0123abcd",
        "request_id": "",
    }
).encode()


def start_server(*, heap_mb: int | None = None) -> ZooKeeperServer:
    """A standalone server with the defaults a user gets (forceSync=yes: every
    transaction is fsynced to the log before it is acknowledged), and room for
    session timeouts up to a minute; ``heap_mb`` for a store larger than the
    harness's default heap holds."""
    extra = {"heap_mb": heap_mb} if heap_mb is not None else {}
    server = ZooKeeperServer(max_session_timeout_ms=MAX_SESSION_TIMEOUT_MS, **extra)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


def remove(client: KazooClient, path: str) -> None:
    """Remove a subtree, if it is there (clean-up: never fails the run)."""
    with contextlib.suppress(NoNodeError, NotEmptyError):
        client.delete(path, recursive=True)


def server_requests(port: int | None) -> int | None:
    """Requests the server has received since it started (``srvr``), or None."""
    if port is None:
        return None
    try:
        reply = four_letter_word(port, "srvr")
    except OSError:
        return None
    for line in reply.splitlines():
        if line.startswith("Received:"):
            return int(line.partition(":")[2])
    return None


@dataclass(frozen=True, slots=True)
class RawRates:
    count: int
    set_s: float  # seconds for ``count`` sequential sets
    multi_s: float  # seconds for ``count`` sequential multi-op transactions
    exists_s: float  # seconds for ``count`` sequential exists
    # This process's CPU over the multi-op loop: what a kazoo client (cool's handler)
    # spends on a transaction, the floor for a worker's CPU per step.
    multi_cpu_s: float = 0.0

    @property
    def set_per_s(self) -> float:
        return self.count / self.set_s

    @property
    def multi_per_s(self) -> float:
        return self.count / self.multi_s

    @property
    def exists_per_s(self) -> float:
        return self.count / self.exists_s


def raw_baseline(client: KazooClient, root: str, count: int) -> RawRates:
    """Sequential synchronous writes and worker-like transactions under ``root``."""
    lease, record, events = f"{root}/lease", f"{root}/record", f"{root}/events"
    client.ensure_path(events)
    client.create(lease, b"")
    client.create(record, _RECORD)
    for _ in range(20):  # warm up the connection and the server's JIT
        client.set(record, _RECORD)

    start = time.perf_counter()
    for _ in range(count):
        client.set(record, _RECORD)
    set_s = time.perf_counter() - start

    version = client.exists(record).version
    cpu_start, start = time.process_time(), time.perf_counter()
    for _ in range(count):
        transaction = client.transaction()
        transaction.check(lease, 0)
        transaction.set_data(record, _RECORD, version=version)
        transaction.create(f"{events}/ev-", _EVENT, sequence=True)
        results = transaction.commit()
        if any(isinstance(result, Exception) for result in results):
            raise RuntimeError(f"a raw transaction failed: {results!r}")
        version += 1
    multi_s = time.perf_counter() - start
    multi_cpu_s = time.process_time() - cpu_start

    start = time.perf_counter()
    for _ in range(count):
        client.exists(lease)
    exists_s = time.perf_counter() - start
    return RawRates(count, set_s, multi_s, exists_s, multi_cpu_s)


def wait_gone(client: KazooClient, path: str, timeout_s: float) -> bool:
    """Wait until ``path`` does not exist (a watch, no polling); whether it went in time."""
    changed = threading.Event()
    deadline = time.monotonic() + timeout_s

    def watch(_event: object) -> None:
        changed.set()

    while client.exists(path, watch=watch) is not None:
        if not changed.wait(max(deadline - time.monotonic(), 0)):
            return False
        changed.clear()
    return True


def wait_all_gone(client: KazooClient, paths: list[str], timeout_s: float) -> bool:
    """Wait until none of ``paths`` exists (watches, one at a time); whether in time."""
    deadline = time.monotonic() + timeout_s
    return all(wait_gone(client, path, max(deadline - time.monotonic(), 0)) for path in paths)
