"""A project's builds, newest first, read a bucket at a time.

The listing was one ``getChildren`` of every build a project holds: about 30
bytes a build, so a page of 20 cost a read of them all, a list got slower as
the store filled, and a project of ~35,000 builds passed ZooKeeper's 1 MB
packet. A build id is a ULID, which starts with its creation time, so the
entries now sit in time buckets named by the id's first characters::

    index/projects/<project_id>/<id[:5]>/<id[5:7]>/<build_id>

A first-level bucket spans 2**25 ms (about 9.3 hours), a second-level one
2**15 ms (about 33 s): a project's first listing is a few names a day, and a
bucket fills only at the rate one project submits. A page reads the buckets
it needs from the newest down, and no more. Entries written before the
buckets (``<project_id>/<build_id>``) are listed with the rest, in order.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError, NotEmptyError

from cool.store.layout import BUILD_ID, INDEX_BUCKETS, Layout
from cool.store.pipelined import many

_CHAR = "[0-9A-HJKMNP-TV-Z]"
_NAMES = tuple(re.compile(f"{_CHAR}{{{n}}}") for n in INDEX_BUCKETS)
_AFTER_ALL = "~"  # sorts after every character of a build id
FIRST_WIDTH = 8  # buckets listed in a scan's first pipelined round (a page of 20
# a few seconds apart is in one; 20 days apart, in 20: a round trip each saved)
MAX_WIDTH = 64  # and in any round, at most


@dataclass(frozen=True, slots=True)
class _Item:
    """A build id, or a bucket still to list (``depth`` 0 a project, 1 and 2 buckets).

    Ordered so that heapq's smallest is the newest: a bucket counts as newer than
    every id it may hold (its prefix followed by a character after them all).
    """

    key: str
    project: str
    path: str = ""
    depth: int = -1  # -1: a build id

    def __lt__(self, other: _Item) -> bool:
        return (self.key, self.project) > (other.key, other.project)


def newest_first(
    client: KazooClient, layout: Layout, projects: Sequence[str], *, before: str | None = None
) -> Iterator[tuple[str, str]]:
    """(build id, project id) of the given projects' builds, newest first; only ids
    smaller than ``before`` when it is given (the marker of a page).

    Lazy: a bucket is listed when the next build may be in it, with the next
    ones in the same pipelined round (8, 16, 32, then :data:`MAX_WIDTH` as a
    scan goes on), so the first page of a large project reads a few nodes.
    """
    heap = [_Item(_AFTER_ALL * 2, p, layout.project(p), 0) for p in projects]
    heapq.heapify(heap)
    width = len(heap)  # every project's top level in the first round
    while heap:
        if heap[0].depth < 0:
            item = heapq.heappop(heap)
            yield item.key, item.project
            continue
        batch = [heapq.heappop(heap)]
        # More buckets in the same round, newest first, but never a project's older
        # first-level bucket (up to 1,024 names) before its newer one is read.
        upper = {(batch[0].project, batch[0].depth)} if batch[0].depth < 2 else set()
        while heap and heap[0].depth >= 0 and len(batch) < width:
            top = heap[0]
            if top.depth < 2:
                if (top.project, top.depth) in upper:
                    break
                upper.add((top.project, top.depth))
            batch.append(heapq.heappop(heap))
        width = min(max(len(batch) * 2, FIRST_WIDTH), MAX_WIDTH)
        listings = many(client, "get_children", [item.path for item in batch])
        for item, children in zip(batch, listings, strict=True):
            for child in children or ():
                found = _child(item, child, before)
                if found is not None:
                    heapq.heappush(heap, found)


def _child(parent: _Item, name: str, before: str | None) -> _Item | None:
    """What a listed name is under ``parent``; None for a name the index does not
    hold there (a stray node) or one wholly at or after ``before``."""
    depth = parent.depth
    if depth == 2 or (depth == 0 and BUILD_ID.fullmatch(name)):
        # A build id: under its second-level bucket, or an entry from before buckets.
        if depth == 2 and not (BUILD_ID.fullmatch(name) and name.startswith(parent.key[:-1])):
            return None
        if before is not None and name >= before:
            return None
        return _Item(name, parent.project)
    if not _NAMES[depth].fullmatch(name):
        return None
    prefix = name if depth == 0 else parent.key[:-1] + name
    if before is not None and prefix > before[: len(prefix)]:
        return None
    return _Item(prefix + _AFTER_ALL, parent.project, f"{parent.path}/{name}", depth + 1)


def drop_if_empty(client: KazooClient, buckets: Iterable[str]) -> None:
    """Delete these second-level buckets, then their first-level ones, where empty:
    one pipelined round (deletes on one session apply in the order sent). A bucket
    that holds a build stays (NotEmpty); a submit that finds its bucket gone makes it
    again. ZooKeeper trouble is raised: the caller decides whether it matters."""
    second = sorted(set(buckets))
    paths = second + sorted({path.rsplit("/", 1)[0] for path in second})
    for answer in [client.delete_async(path) for path in paths]:
        with suppress(NoNodeError, NotEmptyError):
            answer.get()
