"""Build names: which live build holds a name in its project (``Layout.name``).

A name node is made by its build's submit transaction and removed with that
build's DELETE_COMPLETE (:meth:`cool.store.fence.Fence.write`) or its prune
(:mod:`cool.store.deletion`), never otherwise. Each remover first reads the node
and deletes it only if it still names *its* build, at the version it read: a
name that a later build holds is never freed by an earlier one.
"""

from __future__ import annotations

from typing import Any

from cool.errors import CoolError
from cool.store import codec
from cool.store.layout import IdInvalidError, Layout


def path_of(layout: Layout, project_id: str, name: str) -> str | None:
    """The name's node, or None when no node could name it (a record older than the
    checks, an odd project id)."""
    try:
        return layout.name(project_id, name)
    except IdInvalidError:
        return None


def names_build(got: tuple[bytes, Any] | None, build_id: str, name: str) -> bool:
    """Does a read name node (``client.get``'s answer, None if absent) name this build?"""
    if got is None:
        return False
    try:
        entry = codec.loads(got[0])
    except CoolError:
        return False
    return (
        isinstance(entry, dict) and entry.get("build_id") == build_id and entry.get("name") == name
    )
