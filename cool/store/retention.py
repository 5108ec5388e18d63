"""Which finished builds go, and why: the GC's retention policy (DESIGN.md section 7).

Pure, no I/O: :func:`decide` is given the finished builds as listed
(:meth:`cool.store.prune.Pruner.finished`), the time and the limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from cool.model import BuildStatus


class Reason(StrEnum):
    RETENTION = "older than retention"
    EVICTED = "evicted: over max_finished"


@dataclass(frozen=True, slots=True)
class FinishedBuild:
    """A finished build as listed: ``version`` is its state znode's version then."""

    build_id: str
    finished_at: float  # the state's updated_at: when it finished
    status: BuildStatus
    version: int = -1


class Verdict(NamedTuple):
    build_id: str
    reason: Reason


def decide(
    builds: Iterable[FinishedBuild], *, now: float, retention_s: float, max_finished: int
) -> list[Verdict]:
    """Which finished builds go, oldest first, and why. Pure: no I/O.

    Older than ``retention_s`` (counted from when they finished) goes; of the
    rest, all but the ``max_finished`` most recently finished go. A build
    that is not terminal is never chosen, whatever it is given as.
    """
    ordered = sorted(
        (b for b in builds if b.status.is_terminal), key=lambda b: (b.finished_at, b.build_id)
    )
    cutoff = now - retention_s
    expired = [b for b in ordered if b.finished_at < cutoff]
    kept = [b for b in ordered if b.finished_at >= cutoff]
    evicted = kept[: max(len(kept) - max(max_finished, 0), 0)]
    return [Verdict(b.build_id, Reason.RETENTION) for b in expired] + [
        Verdict(b.build_id, Reason.EVICTED) for b in evicted
    ]
