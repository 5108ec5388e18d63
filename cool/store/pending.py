"""The queue of builds that need a worker, sharded so that its size costs nobody.

``pending/<shard>/<build_id>``: a build is pending in its shard (its id's last two
characters, as under ``builds``: 1,024 shards, filled evenly by the ULID's random
part). No one ever lists the whole queue to dispatch one build: a worker reads a
shard only when it has room for a build, and that reply is the backlog divided by
1,024 (50,000 queued: about 50 ids, 1.4 KB; a million: about 27 KB).

:class:`ShardReader` is a worker's view: one-shot watches on the shards it has
read tell it which changed (a change costs a flag, not a read); :meth:`read`
re-reads the shards it asks for, pipelined, re-arming their watches.

Builds queued by cool before the queue was sharded (``pending/<build_id>``) are
moved into their shards by :func:`move_flat` (a worker does so when it sees them).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError

from cool.store.layout import Layout, is_build_id
from cool.store.outcomes import unavailable_as_error
from cool.store.pipelined import IN_FLIGHT, many

LOG = logging.getLogger(__name__)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32, as in a ULID
SHARDS: tuple[str, ...] = tuple(a + b for a, b in itertools.product(ALPHABET, repeat=2))
_SHARD_SET = frozenset(SHARDS)
# Bytes a getChildren reply takes per child beyond its name (a length prefix), and
# for the list itself: what ZooKeeper sends, for the largest-reply figure.
_PER_CHILD_BYTES = 4
_PER_REPLY_BYTES = 16


def listing_bytes(children: Sequence[str]) -> int:
    """About what a getChildren reply with these children weighs on the wire."""
    return _PER_REPLY_BYTES + sum(len(c) + _PER_CHILD_BYTES for c in children)


def ensure_shards(client: KazooClient, layout: Layout) -> None:
    """Every shard's directory (once: one read when they all exist), so that a
    transaction that queues a build never fails for want of its parent."""
    with unavailable_as_error():
        client.ensure_path(layout.pending)
        present = set(client.get_children(layout.pending))
        missing = [s for s in SHARDS if s not in present]
        if not missing:
            return
        # One transaction (about 30 KB): one disk sync, not one per shard.
        transaction = client.transaction()
        for shard in missing:
            transaction.create(layout.pending_shard(shard), b"")
        if not any(isinstance(r, Exception) for r in transaction.commit()):
            return
        # Another process made some meanwhile: the rest one by one, pipelined.
        for start in range(0, len(missing), IN_FLIGHT):
            results = [
                client.create_async(layout.pending_shard(s), b"")
                for s in missing[start : start + IN_FLIGHT]
            ]
            for result in results:
                with contextlib.suppress(NodeExistsError):  # made meanwhile by another
                    result.get()


def flat_entries(children: Iterable[str]) -> list[str]:
    """The build ids among ``pending``'s children: entries of the unsharded queue."""
    return sorted(c for c in children if c not in _SHARD_SET and is_build_id(c))


def all_pending(client: KazooClient, layout: Layout) -> list[str]:
    """Every pending build (all shards, pipelined, and any unsharded entry): for the
    GC's snapshot and for tests, never for dispatch."""
    with unavailable_as_error():
        try:
            top = client.get_children(layout.pending)
        except NoNodeError:
            return []
    shards = [s for s in top if s in _SHARD_SET]
    listings = many(client, "get_children", [layout.pending_shard(s) for s in shards])
    found = {c for listing in listings for c in listing or () if is_build_id(c)}
    found.update(flat_entries(top))
    return sorted(found)


def move_flat(client: KazooClient, layout: Layout, build_ids: Sequence[str]) -> int:
    """Move unsharded entries into their shards, each in one transaction (the new entry
    and the old one's removal together); how many moved. An entry gone meanwhile (its
    build finished) fails its transaction whole, which leaves nothing behind."""
    moved = 0
    for build_id in build_ids:
        flat = layout.flat_pending_build(build_id)
        transaction = client.transaction()
        transaction.create(layout.pending_build(build_id), b"")
        transaction.delete(flat)
        with unavailable_as_error():
            results = transaction.commit()
            if not any(isinstance(r, Exception) for r in results):
                moved += 1
                LOG.info("build %s: moved into pending shard %s", build_id, layout.shard(build_id))
            elif isinstance(results[0], NodeExistsError):
                # Queued in its shard already (a reopen since): the old entry only repeats it.
                with contextlib.suppress(NoNodeError):
                    client.delete(flat)
    return moved


class ShardReader:
    """Which shards changed since this worker last read them, and their reads.

    A shard is *dirty* until read: at first (never read), after its watch fired, and
    after the session was lost (watches went with it). A read shard that was not
    empty stays interesting to the caller (its builds may be due later), which the
    reader keeps as ``nonempty``. ``on_change`` is called on kazoo's thread when a
    shard becomes dirty: it must only record and wake.
    """

    def __init__(self, client: KazooClient, layout: Layout, on_change: Callable[[], None]) -> None:
        self.client = client
        self.layout = layout
        self.on_change = on_change
        self.largest_listing_bytes = 0
        self.reads = 0  # shards read (a figure for tests and benchmarks)
        self._lock = threading.Lock()
        self._dirty: set[str] = set(SHARDS)
        self._nonempty: set[str] = set()
        # One watcher per shard, the same object every read: kazoo keeps a path's
        # watchers in a set, so re-reading an unchanged shard adds nothing.
        self._watchers = {shard: self._fired(shard) for shard in SHARDS}

    def _fired(self, shard: str) -> Callable[[object], None]:
        def changed(_event: object) -> None:
            with self._lock:
                self._dirty.add(shard)
            self.on_change()

        return changed

    def forget_watches(self) -> None:
        """The session was lost, and every watch with it: read everything again."""
        with self._lock:
            self._dirty = set(SHARDS)

    def touch(self, shard: str) -> None:
        """Something says this shard may hold a build to take (a claim went away)."""
        with self._lock:
            self._dirty.add(shard)

    def worth_reading(self) -> tuple[frozenset[str], frozenset[str]]:
        """(dirty shards, shards not empty when last read)."""
        with self._lock:
            return frozenset(self._dirty), frozenset(self._nonempty)

    def read(self, shards: Sequence[str]) -> dict[str, list[str]]:
        """The shards' build ids, pipelined, each read arming the shard's watch."""
        out: dict[str, list[str]] = {}
        try:
            self._read_into(shards, out)
        except BaseException:
            with self._lock:  # not read after all: still to be read
                self._dirty.update(s for s in shards if s not in out)
            raise
        with self._lock:
            self.reads += len(out)
            for shard, ids in out.items():
                if ids:
                    self._nonempty.add(shard)
                else:
                    self._nonempty.discard(shard)
        return out

    def _read_into(self, shards: Sequence[str], out: dict[str, list[str]]) -> None:
        with unavailable_as_error():
            for start in range(0, len(shards), IN_FLIGHT):
                group = shards[start : start + IN_FLIGHT]
                with self._lock:
                    self._dirty.difference_update(group)  # a change from now on dirties it
                asked = [
                    self.client.get_children_async(
                        self.layout.pending_shard(s), watch=self._watchers[s]
                    )
                    for s in group
                ]
                for shard, result in zip(group, asked, strict=True):
                    try:
                        children = result.get()
                    except NoNodeError:
                        # Made by ensure_shards, gone only in a wiped tree: its making
                        # again is watched instead.
                        children = []
                        path = self.layout.pending_shard(shard)
                        self.client.exists(path, watch=self._watchers[shard])
                    out[shard] = [c for c in children if is_build_id(c)]
                    self.largest_listing_bytes = max(
                        self.largest_listing_bytes, listing_bytes(children)
                    )
