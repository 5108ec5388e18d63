"""The Keystone trusts of builds, as ZooKeeper records them: never one lost.

A trust's life, as far as the store sees it (DESIGN.md sections 6 and 7):

1. **held**: a submit records the trust it just made in Keystone under
   ``Layout.new_trusts`` (:meth:`TrustRecords.hold`) before the build is
   stored; if the build is not stored after all and the trust deleted,
   the record goes (:meth:`TrustRecords.release`).
2. **stored**: the build's own transaction removes the record
   (:meth:`cool.store.builds.BuildStore.submit_once`); the trust id lives
   on in the build's record.
3. **waiting**: the build's prune transaction writes the trust id under
   ``Layout.trusts`` (:func:`waiting_path`; :mod:`cool.store.deletion` plans that transaction), and
   so does :meth:`TrustRecords.orphan_new` for a trust held longer than the
   grace whose build never came (its cool-api died).
4. **forgotten**: the GC deleted the trust in Keystone and removes the record
   (:meth:`TrustRecords.waiting`, :meth:`TrustRecords.forget`).

Each record is ``{"build_id": ...}`` (:func:`record`); when it was made is
the node's ZooKeeper ctime.
"""

from __future__ import annotations

import contextlib
import logging

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError

from cool.errors import CoolError, LeadershipLostError, StoreUnavailableError
from cool.store import codec
from cool.store.layout import IdInvalidError, Layout, is_trust_id
from cool.store.outcomes import UNAVAILABLE, unavailable_as_error
from cool.store.pipelined import children, many
from cool.store.records import BuildMeta

LOG = logging.getLogger(__name__)


class TrustRecords:
    """The store side of builds' Keystone trusts, for one deployment's tree."""

    def __init__(self, client: KazooClient, layout: Layout) -> None:
        self.client = client
        self.layout = layout

    def hold(self, trust_id: str, build_id: str) -> None:
        """Record a Keystone trust just made for a submit, before the build that is to
        hold it is stored, so that it is never lost: if this process dies before the
        build is stored, the GC finds the record and deletes the trust. Storing the
        build removes the record in the build's own transaction
        (:meth:`cool.store.builds.BuildStore.submit_once`)."""
        with unavailable_as_error():
            self.client.create(self.layout.new_trust(trust_id), record(build_id), makepath=True)

    def release(self, trust_id: str) -> None:
        """A held trust that no build will hold was deleted in Keystone: forget it."""
        with unavailable_as_error(), contextlib.suppress(NoNodeError):
            self.client.delete(self.layout.new_trust(trust_id))

    def waiting(self) -> list[str]:
        """Trust ids of pruned builds that Keystone has not been seen to delete yet."""
        with unavailable_as_error():
            return sorted(children(self.client, self.layout.trusts))

    def forget(self, trust_id: str) -> None:
        """Keystone deleted it (or never had it): stop trying."""
        with unavailable_as_error(), contextlib.suppress(NoNodeError):
            self.client.delete(self.layout.trust(trust_id))

    def orphan_new(self, *, made_before: float, guard_path: str | None = None) -> list[str]:
        """Hand the trusts of submits whose build was never stored (their cool-api died,
        or ZooKeeper lost the build's answer) to the trust deletion: every record under
        ``Layout.new_trusts`` made before ``made_before`` (a Unix time, against the
        record's ZooKeeper ctime) moves to ``Layout.trusts``; the ids moved.

        Each move removes the record at the version read, in one transaction with
        the create: the build's own transaction, which removes the same record, can
        then never commit, so no stored build ever holds a trust deleted as an orphan.
        ``guard_path`` is the GC leader's election node, checked by every move.
        """
        layout = self.layout
        with unavailable_as_error():
            names = [n for n in children(self.client, layout.new_trusts) if is_trust_id(n)]
        records = many(self.client, "get", [layout.new_trust(n) for n in names])
        old = [
            (name, got)
            for name, got in zip(names, records, strict=True)
            if got is not None and got[1].ctime / 1000 < made_before
        ]
        moved = []
        if old:
            with unavailable_as_error():
                self.client.ensure_path(layout.trusts)
        for name, (data, stat) in old:
            transaction = self.client.transaction()
            if guard_path is not None:
                transaction.check(guard_path, -1)
            transaction.delete(layout.new_trust(name), stat.version)
            transaction.create(layout.trust(name), data)
            try:
                results = transaction.commit()
            except UNAVAILABLE as exc:
                raise StoreUnavailableError(
                    f"ZooKeeper is unavailable while moving trusts: {type(exc).__name__}"
                ) from exc
            if not any(isinstance(r, Exception) for r in results):
                moved.append(name)
                LOG.warning(
                    "trust %s was made for build %s, which was never stored: to be deleted",
                    name,
                    _held_for(data),
                )
            elif guard_path is not None and isinstance(results[0], NoNodeError):
                raise LeadershipLostError("the GC election was lost while moving trusts")
            elif isinstance(results[-1], NodeExistsError):  # waiting already: the record goes
                with unavailable_as_error(), contextlib.suppress(NoNodeError, BadVersionError):
                    self.client.delete(layout.new_trust(name), stat.version)
            # else: the build's own transaction took the record in between (it holds the trust)
        return moved


def record(build_id: str) -> bytes:
    """A trust's record, held or waiting: the build it was made for."""
    return codec.dumps({"build_id": build_id})


def waiting_path(layout: Layout, meta: BuildMeta | None, build_id: str) -> str | None:
    """Where a pruned build's trust waits for the GC (None: it holds none, or none usable)."""
    if meta is None or not meta.trust_id:
        return None
    try:
        return layout.trust(meta.trust_id)
    except IdInvalidError:
        LOG.warning("build %s: trust id %r is not one, left in Keystone", build_id, meta.trust_id)
        return None


def _held_for(data: bytes) -> str:
    """The build a held trust was made for (what :meth:`TrustRecords.hold` wrote)."""
    try:
        return str(codec.loads(data)["build_id"])
    except (CoolError, KeyError, TypeError, ValueError):
        return "(unknown)"
