"""Running a dependency graph's steps in parallel, in order, on a shared pool."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait

from cool.errors import ClaimLostError


class StepFailedError(Exception):
    """A step failed for good; ``note`` says what and why (DESIGN.md section 5)."""

    def __init__(self, note: dict[str, object]) -> None:
        super().__init__(note.get("error"))
        self.note = note


class StepStoppedError(Exception):
    """A step let go early because the worker is stopping; its progress is recorded."""


def run_graph(
    names: Collection[str],
    blockers: Mapping[str, Collection[str]],
    step: Callable[[str], None],
    *,
    executor: Executor,
    parallelism: int,
    stopping: threading.Event,
) -> tuple[dict[str, object] | None, bool]:
    """Run ``step(name)`` for every name once all its ``blockers`` are done.

    Independent steps run in parallel, at most ``parallelism`` at a time. After
    a failure or a stop request no new step starts, and the ones in flight
    finish. Returns (the first failure's note or None, whether it stopped
    early). A lost claim is raised once every step in flight has returned.
    """
    remaining = set(names)
    every = frozenset(names)  # blockers outside the graph count as done
    done: set[str] = set()
    in_flight: dict[Future[None], str] = {}
    failure: dict[str, object] | None = None
    lost: ClaimLostError | None = None
    stopped = False
    while True:
        if failure is None and lost is None and not stopping.is_set():
            ready = sorted(
                n
                for n in remaining
                if n not in in_flight.values()
                and all(b in done for b in blockers.get(n, ()) if b in every)
            )
            for name in ready[: max(parallelism - len(in_flight), 0)]:
                in_flight[executor.submit(step, name)] = name
        if not in_flight:
            break
        finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in finished:
            name = in_flight.pop(future)
            try:
                future.result()
            except ClaimLostError as exc:
                lost = lost or exc
            except StepFailedError as exc:
                failure = failure or exc.note
            except StepStoppedError:
                stopped = True
            else:
                remaining.discard(name)
                done.add(name)
    if lost is not None:
        raise lost
    return failure, stopped or (bool(remaining) and failure is None)
