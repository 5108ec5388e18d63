"""Reading builds back: one build, its resources and events, listings, summaries.

:class:`BuildReads` is every read of the store; :class:`cool.store.builds.BuildStore`
adds submitting to it. A build's plan never changes once stored, so the most
recently read ones are kept; everything else is read afresh. The long-poll of
events (:meth:`BuildReads.wait_events`) is woken by a ZooKeeper watch.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from cool.errors import BuildNotFoundError
from cool.model import Plan
from cool.store import codec
from cool.store.layout import EVENT_PREFIX, PROJECT_ID, Layout, is_build_id, resource_name
from cool.store.outcomes import unavailable_as_error
from cool.store.pending import all_pending
from cool.store.pipelined import many
from cool.store.project_index import newest_first
from cool.store.records import Build, BuildMeta, BuildSource, BuildState, Event, ResourceRecord

PLAN_CACHE = 256  # plans never change (a resize writes a new one): keep the latest read


@dataclass(frozen=True, slots=True)
class Summary:
    """What a listing shows of a build without reading its (large) plan."""

    build_id: str
    project_id: str
    name: str
    created_at: float
    state: BuildState
    # None: an index entry written before they were (cool before issue 18); the meta has them.
    user_id: str | None = None
    tags: tuple[str, ...] | None = None


class BuildReads:
    """Every read of the builds in one deployment's tree."""

    def __init__(self, client: KazooClient, layout: Layout) -> None:
        self.client = client
        self.layout = layout
        self._plans: OrderedDict[str, tuple[BuildMeta, Plan]] = OrderedDict()
        self._plans_lock = threading.Lock()

    def ensure_reachable(self) -> None:
        """One round trip to ZooKeeper, or StoreUnavailableError."""
        with unavailable_as_error():
            self.client.exists(self.layout.root)

    def _remember(self, build_id: str, meta: BuildMeta, plan: Plan) -> None:
        self._plans[build_id] = (meta, plan)
        self._plans.move_to_end(build_id)
        while len(self._plans) > PLAN_CACHE:
            self._plans.popitem(last=False)

    def meta_and_plan(self, build_id: str) -> tuple[BuildMeta, Plan]:
        """The write-once part of a build (cached: it never changes)."""
        if not is_build_id(build_id):
            raise BuildNotFoundError(f"no build {build_id!r}")
        with self._plans_lock:
            cached = self._plans.get(build_id)
        if cached is not None:
            return cached
        with unavailable_as_error():
            try:
                data, _ = self.client.get(self.layout.build(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        stored = codec.loads(data)
        meta = BuildMeta.from_dict(stored["meta"])
        plan = Plan.from_dict(stored["plan"])
        with self._plans_lock:
            self._remember(build_id, meta, plan)
        return meta, plan

    def plan_at(self, build_id: str, version: int) -> Plan:
        """The build's plan ``version`` (0: the one stored with it; each later one written
        once by a resize, cool.store.scaling). Cached like the first: never changed."""
        meta, first = self.meta_and_plan(build_id)
        if not version:
            return first
        key = f"{build_id}@{version}"
        with self._plans_lock:
            cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        with unavailable_as_error():
            try:
                data, _ = self.client.get(self.layout.plan(build_id, version))
            except NoNodeError:
                raise BuildNotFoundError(
                    f"build {build_id} has no plan {version} (it was resized again, or pruned)"
                ) from None
        plan = Plan.from_dict(codec.loads(data))
        with self._plans_lock:
            self._remember(key, meta, plan)
        return plan

    def current(self, build_id: str) -> tuple[BuildMeta, Plan, BuildState]:
        """Meta, the plan the build runs now and the state that names it."""
        meta, _ = self.meta_and_plan(build_id)
        for _ in range(3):
            state, _ = self.state(build_id)
            try:
                return meta, self.plan_at(build_id, state.plan_version), state
            except BuildNotFoundError:
                continue  # resized between the two reads: the state names a newer one
        raise BuildNotFoundError(f"no build {build_id!r}")

    def live_plan(self, build_id: str) -> Plan:
        """The plan the build runs now: its first, unless a scaling policy resized it."""
        _, first = self.meta_and_plan(build_id)
        if not first.scales:
            return first
        return self.current(build_id)[1]

    def forget(self, build_id: str) -> None:
        """Drop a build's cached plan (its worker is done with it)."""
        with self._plans_lock:
            self._plans.pop(build_id, None)

    def state(self, build_id: str) -> tuple[BuildState, int]:
        """The current state and its znode version."""
        with unavailable_as_error():
            try:
                data, stat = self.client.get(self.layout.state(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        return BuildState.from_dict(codec.loads(data)), stat.version

    def find_by_name(self, project_id: str, name: str) -> str | None:
        """The id of the project's live build named ``name`` (one read), or None.

        Live: not DELETE_COMPLETE and not pruned. Builds stored before names were
        indexed (cool before issue 18) are not found here.
        """
        if not isinstance(name, str) or not name or not PROJECT_ID.fullmatch(project_id):
            return None
        with unavailable_as_error():
            try:
                data, _ = self.client.get(self.layout.name(project_id, name))
            except NoNodeError:
                return None
        entry = codec.loads(data)
        build_id = entry.get("build_id")
        # A digest names the node: the name inside tells the (unheard-of) collision apart.
        if entry.get("name") != name or not is_build_id(build_id):
            return None
        return str(build_id)

    def source(self, build_id: str) -> BuildSource:
        """What the build was made from (:class:`BuildSource`); empty for a build stored
        before sources were (cool before issue 18)."""
        if not is_build_id(build_id):
            raise BuildNotFoundError(f"no build {build_id!r}")
        with unavailable_as_error():
            try:
                data, _ = self.client.get(self.layout.source(build_id))
            except NoNodeError:
                if self.client.exists(self.layout.build(build_id)) is None:
                    raise BuildNotFoundError(f"no build {build_id!r}") from None
                return BuildSource()
        return BuildSource.from_dict(codec.loads(data))

    def get(self, build_id: str) -> Build:
        return Build(*self.current(build_id))

    def resources(self, build_id: str) -> dict[str, tuple[ResourceRecord, int]]:
        """Every resource that has a recorded step, with its znode version, by its
        (decoded) name: ``web/0/server``, not its znode name."""
        path = self.layout.resources(build_id)
        out: dict[str, tuple[ResourceRecord, int]] = {}
        with unavailable_as_error():
            try:
                names = self.client.get_children(path)
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
            for name in sorted(names):
                try:
                    data, stat = self.client.get(f"{path}/{name}")
                except NoNodeError:
                    continue  # removed while listing (the build is being pruned)
                record = ResourceRecord.from_dict(codec.loads(data))
                out[resource_name(name)] = (record, stat.version)
        return out

    def resource_records(self, build_id: str, names: Sequence[str]) -> dict[str, ResourceRecord]:
        """The records of these resources only (pipelined); one with none is left out."""
        layout = self.layout
        got = many(self.client, "get", [layout.resource(build_id, name) for name in names])
        return {
            name: ResourceRecord.from_dict(codec.loads(item[0]))
            for name, item in zip(names, got, strict=True)
            if item is not None
        }

    def event_numbers(self, build_id: str) -> list[int]:
        """The sequence numbers of a build's events, in order: one read, no event's data."""
        with unavailable_as_error():
            try:
                children = self.client.get_children(self.layout.events(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        return sorted(_event_number(c) for c in children if c.startswith(EVENT_PREFIX))

    def numbered_events(self, build_id: str, numbers: Sequence[int]) -> list[tuple[int, Event]]:
        """These events (pipelined), in the order given; one that is gone is left out."""
        prefix = self.layout.event_prefix(build_id)
        got = many(self.client, "get", [f"{prefix}{number:010d}" for number in numbers])
        return [
            (number, Event.from_dict(codec.loads(item[0])))
            for number, item in zip(numbers, got, strict=True)
            if item is not None
        ]

    def events(
        self, build_id: str, *, after: int | None = None, limit: int | None = None
    ) -> list[tuple[int, Event]]:
        """Events in order, each with its sequence number; ``after`` pages past one."""
        return self._events(build_id, after=after, limit=limit)

    def wait_events(
        self, build_id: str, *, after: int | None, limit: int | None, timeout_s: float
    ) -> list[tuple[int, Event]]:
        """:meth:`events`, waiting up to ``timeout_s`` for one if there is none yet.

        Woken by a ZooKeeper children watch on the build's events, not by
        polling; the watch is dropped from the client when the wait ends, so
        thousands of long-polls leave nothing behind.
        """
        deadline = time.monotonic() + timeout_s
        path = self.layout.events(build_id)
        while True:
            woken = threading.Event()

            def wake(_event: object, woken: threading.Event = woken) -> None:
                woken.set()

            try:
                found = self._events(build_id, after=after, limit=limit, watch=wake)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                woken.wait(remaining)
            finally:
                _forget_child_watch(self.client, path, wake)

    def _events(
        self,
        build_id: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        watch: Callable[[Any], None] | None = None,
    ) -> list[tuple[int, Event]]:
        path = self.layout.events(build_id)
        with unavailable_as_error():
            try:
                children = self.client.get_children(path, watch=watch)
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
            numbered = sorted(
                (int(child[len(EVENT_PREFIX) :]), child)
                for child in children
                if child.startswith(EVENT_PREFIX)
            )
            if after is not None:
                numbered = [(n, c) for n, c in numbered if n > after]
            if limit is not None:
                numbered = numbered[:limit]
        got = many(self.client, "get", [f"{path}/{child}" for _, child in numbered])  # pipelined
        return [
            (number, Event.from_dict(codec.loads(item[0])))
            for (number, _), item in zip(numbered, got, strict=True)
            if item is not None
        ]

    def is_pending(self, build_id: str) -> bool:
        """Whether the build is queued for a worker (one read)."""
        with unavailable_as_error():
            return self.client.exists(self.layout.pending_build(build_id)) is not None

    def pending(self) -> list[str]:
        """Every queued build: all shards read (for tests and tools; never to dispatch)."""
        return all_pending(self.client, self.layout)

    def claimed(self) -> list[str]:
        with unavailable_as_error():
            return sorted(c for c in self.client.get_children(self.layout.claims) if is_build_id(c))

    def project_builds(self, project_id: str) -> list[str]:
        """A project's build ids, newest first (ULIDs sort by creation time): all of
        them (for tests and tools; a page reads :meth:`newest_builds`)."""
        return [build_id for build_id, _ in self.newest_builds(project_id)]

    def newest_builds(
        self, project_id: str | None, *, before: str | None = None
    ) -> Iterator[tuple[str, str]]:
        """(build id, project id) of a project's builds (None: every project's),
        newest first, those older than ``before`` only when it is given. Lazy: what
        is not taken is not read (cool/store/project_index.py)."""
        projects = self.projects() if project_id is None else [project_id]
        return newest_first(self.client, self.layout, projects, before=before)

    def is_indexed(self, project_id: str | None, build_id: str) -> bool:
        """Whether a build is in a project's listing (None: in any project's): a page's
        marker must be."""
        if not is_build_id(build_id):
            return False
        layout = self.layout
        if project_id is None:
            paths = [layout.state(build_id)]
        else:
            paths = [
                layout.project_build(project_id, build_id),
                layout.flat_project_build(project_id, build_id),
            ]
        return any(stat is not None for stat in many(self.client, "exists", paths))

    def projects(self) -> list[str]:
        with unavailable_as_error():
            try:
                children = self.client.get_children(self.layout.projects)
            except NoNodeError:
                return []
        return sorted(c for c in children if PROJECT_ID.fullmatch(c))

    def summaries(self, builds: Sequence[tuple[str, str]]) -> list[Summary]:
        """(build id, project id) pairs -> their summaries, pipelined; builds gone
        meanwhile (pruned) are left out."""
        layout = self.layout
        # The states and the index entries (the summaries) in one pipelined round.
        got = many(
            self.client,
            "get",
            [layout.state(b) for b, _ in builds] + [layout.project_build(p, b) for b, p in builds],
        )
        states, entries = got[: len(builds)], got[len(builds) :]
        # Entries from before the index's time buckets: where they are, pipelined too.
        flat = [i for i, (state, entry) in enumerate(zip(states, entries, strict=True))
                if state is not None and entry is None]  # fmt: skip
        if flat:
            older = [layout.flat_project_build(builds[i][1], builds[i][0]) for i in flat]
            for i, entry in zip(flat, many(self.client, "get", older), strict=True):
                entries[i] = entry
        out = []
        for (build_id, project_id), state, entry in zip(builds, states, entries, strict=True):
            if state is None:
                continue
            summary = codec.loads(entry[0]) if entry is not None else {}
            if "name" not in summary:  # an entry from before summaries or before buckets
                try:
                    meta, _ = self.meta_and_plan(build_id)
                except BuildNotFoundError:
                    continue
                summary = {
                    "name": meta.name,
                    "created_at": meta.created_at,
                    "user_id": meta.user_id,
                    "tags": meta.tags,
                }
            out.append(
                Summary(
                    build_id=build_id,
                    project_id=project_id,
                    name=summary["name"],
                    created_at=summary["created_at"],
                    state=BuildState.from_dict(codec.loads(state[0])),
                    user_id=summary.get("user_id"),
                    tags=tuple(summary["tags"]) if "tags" in summary else None,
                )
            )
        return out

    def lease_data(self, build_id: str) -> tuple[dict[str, Any], int]:
        with unavailable_as_error():
            try:
                data, stat = self.client.get(self.layout.lease(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        return codec.loads(data), stat.version


def _event_number(child: str) -> int:
    return int(child[len(EVENT_PREFIX) :])


def _forget_child_watch(client: Any, path: str, watch: Callable[[Any], None]) -> None:
    """Drop a one-shot children watch that has not fired (kazoo keeps it until it does).

    kazoo files watches under the full server path, its chroot included.
    """
    raw = getattr(client, "raw", client)
    watchers = getattr(raw, "_child_watchers", None)
    if watchers is None:
        return
    full = (raw.chroot or "") + path
    found = watchers.get(full) if hasattr(watchers, "get") else None
    if found is None:
        return
    found.discard(watch)
    if not found:
        with contextlib.suppress(KeyError):
            if not watchers[full]:
                del watchers[full]
