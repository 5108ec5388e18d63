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
from cool.store.pipelined import many
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

    Reads are what a pass spends its time on, so they are few: the state
    (still the version listed, still terminal), the lease's version, the
    record (for the project), the index entry, and the subtree. Not
    ``deep``, the subtree is listed where the layout puts children (the
    build, and its children but state, lease and control); a node found
    deeper refuses the transaction (NotEmpty) and the build is planned
    again, ``deep``, listed to the bottom.
    """
    planned = Planned()
    ids = [b.build_id for b in builds]
    states = many(client, "get", [layout.state(b) for b in ids])
    leases = many(client, "exists", [layout.lease(b) for b in ids])
    records = many(client, "get", [layout.build(b) for b in ids])
    ready: list[tuple[FinishedBuild, int, BuildMeta | None]] = []
    for build, state, lease, record in zip(builds, states, leases, records, strict=True):
        meta = read_meta(build.build_id, record[0] if record else None)
        planned.projects[build.build_id] = meta.project_id if meta else None
        why = _still_finished(build, state, lease)
        if why:
            planned.refused.append(Refusal(build.build_id, why))
            LOG.info("build %s: not pruned: %s", build.build_id, why)
            continue
        ready.append((build, lease.version, meta))
    index_paths = [_index_paths(layout, meta, build.build_id) for build, _, meta in ready]
    key_paths = [_idempotency_path(layout, meta) for _, _, meta in ready]
    roots = [layout.build(build.build_id) for build, _, _ in ready]
    trust_paths = [trusts.waiting_path(layout, meta, build.build_id) for build, _, meta in ready]
    if any(trust_paths):
        with unavailable_as_error():
            client.ensure_path(layout.trusts)
    listed = [p for paths in index_paths for p in paths]
    listed += [p for p in key_paths if p is not None]
    indexed = {p for p, stat in zip(listed, many(client, "exists", listed), strict=True) if stat}
    name_nodes = _name_nodes(client, layout, ready)
    if deep:
        subtrees = _subtrees(client, roots)
    else:
        subtrees = _shallow_subtrees(client, layout, [build.build_id for build, _, _ in ready])
    for (build, lease_version, _), entries, key_path, trust_path, name_node, nodes in zip(
        ready, index_paths, key_paths, trust_paths, name_nodes, subtrees, strict=True
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
        if name_node is not None:  # a build not DELETE_COMPLETE still holds its name
            path, version = name_node
            tail.append(Op("delete", path, version, why="its name node changed"))
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


def _name_nodes(
    client: KazooClient, layout: Layout, ready: Sequence[tuple[FinishedBuild, int, Any]]
) -> list[tuple[str, int] | None]:
    """Each build's name node and its version, where it still names that build."""
    paths = [
        names.path_of(layout, meta.project_id, meta.name) if meta is not None else None
        for _, _, meta in ready
    ]
    listed = [p for p in paths if p is not None]
    got = dict(zip(listed, many(client, "get", listed), strict=True))
    out: list[tuple[str, int] | None] = []
    for (build, _, meta), path in zip(ready, paths, strict=True):
        found = got.get(path) if path is not None else None
        if path is not None and names.names_build(found, build.build_id, meta.name):
            assert found is not None
            out.append((path, found[1].version))
        else:
            out.append(None)
    return out


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


def _shallow_subtrees(
    client: KazooClient, layout: Layout, build_ids: Sequence[str]
) -> list[list[str]]:
    """Like :func:`_subtrees`, listing only where the layout puts children."""
    roots = [layout.build(b) for b in build_ids]
    trees: list[list[str]] = [[root] for root in roots]
    frontier: list[tuple[int, str]] = []
    for i, children in enumerate(many(client, "get_children", roots)):
        build_id = build_ids[i]
        leaves = {
            layout.state(build_id),
            layout.lease(build_id),
            layout.control(build_id),
            layout.source(build_id),
            layout.recipe(build_id),
        }
        for child in sorted(children or ()):
            path = f"{roots[i]}/{child}"
            trees[i].append(path)
            if path not in leaves and not child.startswith(PLAN_PREFIX):
                frontier.append((i, path))
    listings = many(client, "get_children", [path for _, path in frontier])
    handles: list[tuple[int, str]] = []  # signals/<handle> hold the handle's signals
    for (i, path), children in zip(frontier, listings, strict=True):
        trees[i] += [f"{path}/{child}" for child in sorted(children or ())]
        if path == layout.signals(build_ids[i]):
            handles += [(i, f"{path}/{child}") for child in sorted(children or ())]
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
