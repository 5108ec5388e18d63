"""What deleting finished builds takes: read afresh, then every op, guarded.

:func:`plan_deletes` is the planning half of :meth:`cool.store.prune.Pruner.prune`
(which commits). For each build still the finished build that was listed, it
gives the guards that re-check that in the transaction, and every delete:
the build's whole subtree (children first), its index and Idempotency-Key
entries, its name node if it still names the build (:mod:`cool.store.names`),
and, when the build holds a Keystone trust, the create that hands the trust to
the GC's deletion (:mod:`cool.store.trusts`) in the same transaction, so it is
never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kazoo.client import KazooClient

from cool.errors import CoolError
from cool.store import codec, names, trusts
from cool.store.layout import PLAN_PREFIX, IdInvalidError, Layout
from cool.store.outcomes import unavailable_as_error
from cool.store.pipelined import many, mixed
from cool.store.records import BuildMeta, BuildState
from cool.store.retention import FinishedBuild

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refusal:
    build_id: str
    why: str


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # "check", "create" or "delete"
    path: str
    version: int = -1
    why: str = ""  # what it means if this op is refused
    data: bytes = b""  # what a create writes


@dataclass(slots=True)
class Doomed:
    """One build ready to go: the guards that re-check it and every delete, in order."""

    build_id: str
    guards: list[Op]
    body: list[Op]  # the subtree below the build, deepest first, but state and lease
    tail: list[Op]  # state and lease (what the guards check), the index entry, the build
    deep: bool = False  # listed to the bottom, not only where the layout puts children


@dataclass(slots=True)
class Planned:
    """The builds ready to go, those refused already, and each build's project."""

    doomed: list[Doomed] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    projects: dict[str, str | None] = field(default_factory=dict)


def plan_deletes(
    client: KazooClient, layout: Layout, builds: Sequence[FinishedBuild], *, deep: bool
) -> Planned:
    """Read each build afresh; the ones still finished, with their ops.

    Reads are what a pass spends its time on, so they are few, and pipelined in two
    rounds (a third for a build with signal handles): first what every build has (the
    state, still the version listed and terminal; the lease's version; the record, for
    the project; the listings of the build, its ``resources`` and its ``events``), then
    what the record names (the index entry, the Idempotency-Key entry, the name node)
    and any other directory the build holds. Not ``deep``, the subtree is listed where
    the layout puts children (the build, and its children but state, lease and
    control); a node found deeper refuses the transaction (NotEmpty) and the build is
    planned again, ``deep``, listed to the bottom.
    """
    planned = Planned()
    ids = [b.build_id for b in builds]
    first: list[tuple[str, str]] = []
    for build_id in ids:
        first += [
            ("get", layout.state(build_id)),
            ("exists", layout.lease(build_id)),
            ("get", layout.build(build_id)),
        ]
        if not deep:
            first += [("get_children", path) for path in _listed_first(layout, build_id)]
    width = 3 if deep else 6  # the three reads, and the three listings when not deep
    answers = mixed(client, first)
    ready: list[tuple[FinishedBuild, int, BuildMeta | None]] = []
    listings: list[list[Any]] = []
    for n, build in enumerate(builds):
        state, lease, record, *listed = answers[n * width : (n + 1) * width]
        meta = read_meta(build.build_id, record[0] if record else None)
        planned.projects[build.build_id] = meta.project_id if meta else None
        why = _still_finished(build, state, lease)
        if why:
            planned.refused.append(Refusal(build.build_id, why))
            LOG.info("build %s: not pruned: %s", build.build_id, why)
            continue
        ready.append((build, lease.version, meta))
        listings.append(listed)
    index_paths = [_index_paths(layout, meta, build.build_id) for build, _, meta in ready]
    key_paths = [_idempotency_path(layout, meta) for _, _, meta in ready]
    name_paths = [
        names.path_of(layout, meta.project_id, meta.name) if meta is not None else None
        for _, _, meta in ready
    ]
    roots = [layout.build(build.build_id) for build, _, _ in ready]
    trust_paths = [trusts.waiting_path(layout, meta, build.build_id) for build, _, meta in ready]
    if any(trust_paths):
        with unavailable_as_error():
            client.ensure_path(layout.trusts)
    listed = [p for paths in index_paths for p in paths]
    listed += [p for p in key_paths if p is not None]
    named = [p for p in name_paths if p is not None]
    if deep:
        second = mixed(client, [("exists", p) for p in listed] + [("get", p) for p in named])
        subtrees = _subtrees(client, roots)
    else:
        shallow = _Shallow(layout, [build.build_id for build, _, _ in ready], listings)
        second = mixed(
            client,
            [("exists", p) for p in listed]
            + [("get", p) for p in named]
            + [("get_children", p) for _, p in shallow.frontier],
        )
        subtrees = shallow.finish(client, second[len(listed) + len(named) :])
    indexed = {p for p, stat in zip(listed, second, strict=False) if stat}
    got = dict(zip(named, second[len(listed) :], strict=False))
    for (build, lease_version, meta), entries, key_path, trust_path, name_path, nodes in zip(
        ready, index_paths, key_paths, trust_paths, name_paths, subtrees, strict=True
    ):
        build_id = build.build_id
        state_path, lease_path = layout.state(build_id), layout.lease(build_id)
        pending_path = layout.pending_build(build_id)
        guards = [
            Op("check", state_path, build.version, "its state changed since it was listed"),
            # Claiming bumps the lease: a build claimed since is refused. (A
            # claim needs the pending entry too, which the next two ops refuse.)
            Op("check", lease_path, lease_version, "it was claimed since it was listed"),
            # ZooKeeper has no "check that a node does not exist": creating the
            # pending entry and deleting it again in the same transaction is one,
            # atomically. The create fails if the build is pending (again), which
            # refuses the whole transaction. It fires a children watch on
            # pending once per transaction: workers re-read the list, nothing more.
            Op("create", pending_path, why="it is pending again"),
            Op("delete", pending_path, why="it is pending again"),
        ]
        keep_last = {state_path, lease_path, layout.build(build_id)}
        why = "it changed while being pruned"
        body = [Op("delete", p, why=why) for p in reversed(nodes) if p not in keep_last]
        tail = [Op("delete", state_path, why=why), Op("delete", lease_path, why=why)]
        for index_path in entries:
            if index_path in indexed:
                tail.append(Op("delete", index_path, why="its index entry changed"))
        if key_path in indexed:
            tail.append(Op("delete", key_path, why="its Idempotency-Key entry changed"))
        found = got.get(name_path) if name_path is not None else None
        # A build not DELETE_COMPLETE still holds its name.
        if meta is not None and found is not None and names.names_build(found, build_id, meta.name):
            tail.append(Op("delete", str(name_path), found[1].version, why="its name node changed"))
        if trust_path is not None:
            # Handed to the GC's trust deletion in the same transaction: never lost.
            tail.append(
                Op(
                    "create",
                    trust_path,
                    why="its trust is already waiting to be deleted",
                    data=trusts.record(build_id),
                )
            )
        tail.append(Op("delete", layout.build(build_id), why=why))
        planned.doomed.append(Doomed(build_id, guards, body, tail, deep=deep))
    return planned


def _listed_first(layout: Layout, build_id: str) -> tuple[str, str, str]:
    """What every build has to list: itself, its resource records and its events."""
    return layout.build(build_id), layout.resources(build_id), layout.events(build_id)


def _subtrees(client: KazooClient, roots: Sequence[str]) -> list[list[str]]:
    """Each root's nodes in breadth-first order (so reversed, children come first)."""
    trees: list[list[str]] = [[root] for root in roots]
    frontier = [(i, root) for i, root in enumerate(roots)]
    while frontier:
        listings = many(client, "get_children", [path for _, path in frontier])
        nxt = []
        for (i, path), children in zip(frontier, listings, strict=True):
            for child in sorted(children or ()):
                child_path = f"{path}/{child}"
                trees[i].append(child_path)
                nxt.append((i, child_path))
        frontier = nxt
    return trees


class _Shallow:
    """Each build's nodes where the layout puts children (as :func:`_subtrees` gives
    them, breadth first), from the first round's listings of the build, its
    ``resources`` and its ``events``; :attr:`frontier` is what else must be listed
    (a directory the first round did not list: ``signals``, or one cool does not make)."""

    def __init__(
        self, layout: Layout, build_ids: Sequence[str], listings: Sequence[Sequence[Any]]
    ) -> None:
        self.layout = layout
        self.build_ids = build_ids
        self.trees: list[list[str]] = []
        self.frontier: list[tuple[int, str]] = []
        self._known: list[dict[str, list[str]]] = []
        for i, build_id in enumerate(build_ids):
            root, resources, events = _listed_first(layout, build_id)
            own, records, history = listings[i]
            leaves = {
                layout.state(build_id),
                layout.lease(build_id),
                layout.control(build_id),
                layout.source(build_id),
                layout.recipe(build_id),
            }
            tree = [root]
            known = {resources: records or [], events: history or []}
            for child in sorted(own or ()):
                path = f"{root}/{child}"
                tree.append(path)
                listed_later = path not in leaves and not child.startswith(PLAN_PREFIX)
                if listed_later and path not in known:
                    self.frontier.append((i, path))
            self.trees.append(tree)
            self._known.append(known)

    def finish(self, client: KazooClient, listed: Sequence[Any]) -> list[list[str]]:
        """The trees, given the frontier's listings (in its order)."""
        layout, trees = self.layout, self.trees
        fetched: list[dict[str, list[str]]] = [dict(known) for known in self._known]
        for (i, path), children in zip(self.frontier, listed, strict=True):
            fetched[i][path] = list(children or ())
        handles: list[tuple[int, str]] = []  # signals/<handle> hold the handle's signals
        for i, tree in enumerate(trees):
            for path in list(tree[1:]):
                if path not in fetched[i]:
                    continue
                children = sorted(fetched[i][path])
                tree += [f"{path}/{child}" for child in children]
                if path == layout.signals(self.build_ids[i]):
                    handles += [(i, f"{path}/{child}") for child in children]
        listings = many(client, "get_children", [path for _, path in handles])
        for (i, path), children in zip(handles, listings, strict=True):
            trees[i] += [f"{path}/{child}" for child in sorted(children or ())]
        return trees


def _still_finished(build: FinishedBuild, state: Any, lease: Any) -> str:
    """Why a build must not be pruned now ("" if it may, as far as reads can tell)."""
    if state is None or lease is None:
        return "it is gone or incomplete"
    data, stat = state
    if stat.version != build.version:
        return "its state changed since it was listed"
    try:
        status = BuildState.from_dict(codec.loads(data)).status
    except (CoolError, KeyError, ValueError, TypeError):
        return "its state is unreadable"
    if not status.is_terminal:
        return f"it is {status}, not finished"
    return ""


def read_meta(build_id: str, record: bytes | None) -> BuildMeta | None:
    """A build's meta from its stored record (None when gone or unreadable)."""
    if record is None:
        return None
    try:
        return BuildMeta.from_dict(codec.loads(record)["meta"])
    except (CoolError, KeyError, TypeError, ValueError) as exc:
        LOG.warning("build %s: unreadable record, its index entries stay: %s", build_id, exc)
        return None


def _index_paths(layout: Layout, meta: BuildMeta | None, build_id: str) -> list[str]:
    """Where a build's index entry may be: in its time bucket, or where cool put it
    before the index had buckets."""
    if meta is None:
        return []
    try:
        return [
            layout.project_build(meta.project_id, build_id),
            layout.flat_project_build(meta.project_id, build_id),
        ]
    except IdInvalidError:
        return []


def _idempotency_path(layout: Layout, meta: BuildMeta | None) -> str | None:
    if meta is None or not meta.idempotency_digest:
        return None
    try:
        return layout.idempotency_key(meta.project_id, meta.idempotency_digest)
    except IdInvalidError:
        return None
