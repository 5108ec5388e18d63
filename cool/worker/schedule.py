"""Running a dependency graph's steps in parallel, in order, on a shared pool."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any

from cool.errors import ClaimLostError, CoolError

# How a step ends other than by returning, told to run_graph. Both are caught there,
# before anything else is, and never reach the API: their status is for the record.


class StepFailedError(CoolError):
    """A step failed for good; ``note`` says what and why (DESIGN.md section 5)."""

    code = "cool.worker.step_failed"

    def __init__(self, note: dict[str, object]) -> None:
        super().__init__(str(note.get("error")))
        self.note = note


class StepStoppedError(CoolError):
    """A step let go early (the worker is stopping, or the deadline passed); its progress
    is recorded, and the build's next run carries it on."""

    code = "cool.worker.step_stopped"
    status = 503
    title = "Service unavailable"
    retryable = True


@dataclass(frozen=True, slots=True)
class Outcome:
    failure: dict[str, object] | None = None  # the first failure's note
    stopped: bool = False  # a step let go early
    unfinished: bool = False  # steps were left to run (halted, stopped or failed)


# Runs several steps together (a batch): what became of each, None for done, else
# what its step would have raised.
BatchStep = Callable[[list[str]], Mapping[str, BaseException | None]]
MAX_BATCH = 64  # steps in one batch


def run_graph(
    names: Collection[str],
    blockers: Mapping[str, Collection[str]],
    step: Callable[[str], None],
    *,
    executor: Executor,
    parallelism: int,
    halts: Sequence[threading.Event],
    batch: BatchStep | None = None,
    batchable: Callable[[str], bool] = lambda name: False,
) -> Outcome:
    """Run ``step(name)`` for every name once all its ``blockers`` are done.

    Independent steps run in parallel, at most ``parallelism`` at a time.
    After a failure, or once any of ``halts`` is set, no new step starts and the
    ones in flight finish. Any other exception (a lost claim, a write whose
    outcome is unknown) is raised once every step in flight has returned: the
    caller may then read the build back and run steps again, and must never run
    a second step beside one still in flight (two creates of one resource).

    With ``batch``, the ready steps that are ``batchable`` go together, up to
    :data:`MAX_BATCH` in one call, which takes one place of ``parallelism`` (steps
    with no side effect: one ZooKeeper write records them all). A batch that is all
    the work there is runs in the calling thread, not on ``executor``.
    """
    every = frozenset(names)  # blockers outside the graph count as done
    # Kahn's algorithm: each step waits on a count of blockers, and a finished step
    # counts down its dependents'. (A scan of every remaining step after each finish
    # made a build of N steps cost N^2.) The ready ones start longest chain first
    # (:func:`_heights`), then smallest name first.
    waiting: dict[str, int] = {}
    dependents: dict[str, list[str]] = {name: [] for name in every}
    for name in every:
        inside = {b for b in blockers.get(name, ()) if b in every}
        waiting[name] = len(inside)
        for blocker in inside:
            dependents[blocker].append(name)
    # Two heaps of ready steps: those a batch may take, and the others, so that making
    # a batch never walks past the others.
    ready: list[tuple[int, str]] = []
    ready_batch: list[tuple[int, str]] = []
    heights = _heights(waiting, dependents)

    def make_ready(name: str) -> None:
        ready_heap = ready_batch if batch is not None and batchable(name) else ready
        heapq.heappush(ready_heap, (-heights[name], name))

    for name, count in waiting.items():
        if count == 0:
            make_ready(name)
    remaining = set(every)
    in_flight: dict[Future[Any], tuple[tuple[str, ...], bool]] = {}  # (names, a batch)
    failure: dict[str, object] | None = None
    lost: BaseException | None = None  # the first unexpected exception of a step
    stopped = False
    while True:
        halted = any(event.is_set() for event in halts)
        if failure is None and lost is None and not stopped and not halted:
            while (ready or ready_batch) and len(in_flight) < parallelism:
                if ready and (not ready_batch or ready[0] < ready_batch[0]):
                    _, name = heapq.heappop(ready)
                    in_flight[executor.submit(step, name)] = ((name,), False)
                    continue
                assert batch is not None
                size = min(MAX_BATCH, len(ready_batch))
                group = [heapq.heappop(ready_batch)[1] for _ in range(size)]
                if in_flight or ready or ready_batch:
                    in_flight[executor.submit(batch, group)] = (tuple(group), True)
                else:
                    # The only work there is (a chain of steps with no side effect, one
                    # ZooKeeper write each): run here, not on the pool, which would cost
                    # two thread hand-offs per step, more CPU than the step's own code.
                    in_flight[_run_here(batch, group)] = (tuple(group), True)
        if not in_flight:
            break
        finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in finished:
            group, batched = in_flight.pop(future)
            for name, error in _ends(future, group, batched):
                if error is None:
                    remaining.discard(name)
                    for dependent in dependents[name]:
                        waiting[dependent] -= 1
                        if waiting[dependent] == 0:
                            make_ready(dependent)
                elif isinstance(error, StepFailedError):
                    failure = failure or error.note
                elif isinstance(error, StepStoppedError):
                    stopped = True
                # A lost claim comes first: nothing more may be written then.
                elif lost is None or (
                    isinstance(error, ClaimLostError) and not isinstance(lost, ClaimLostError)
                ):
                    lost = error  # (raised below, once all returned)
    if lost is not None:
        raise lost
    return Outcome(failure, stopped, bool(remaining))


def _run_here(call: Callable[[list[str]], Any], group: list[str]) -> Future[Any]:
    """``call(group)`` in this thread, as a finished future (as the pool would give)."""
    future: Future[Any] = Future()
    try:
        future.set_result(call(group))
    except BaseException as exc:  # what the pool's worker would have caught
        future.set_exception(exc)
    return future


def _heights(waiting: Mapping[str, int], dependents: Mapping[str, list[str]]) -> dict[str, int]:
    """Each step's longest chain of steps that wait on it, one after another.

    The ready step with the longest starts first: with ``parallelism`` places, a step
    at the head of the build's critical path (a security group that ports, then
    servers wait on) must not queue behind short side branches (a volume) that only
    came first by name. Steps in a cycle never run; they count 0.
    """
    counts = dict(waiting)
    order = [name for name, count in counts.items() if count == 0]
    for name in order:  # Kahn's order, grown as it goes
        for dependent in dependents[name]:
            counts[dependent] -= 1
            if counts[dependent] == 0:
                order.append(dependent)
    heights = dict.fromkeys(waiting, 0)
    for name in reversed(order):
        heights[name] = max((heights[d] + 1 for d in dependents[name]), default=0)
    return heights


def _ends(
    future: Future[Any], group: tuple[str, ...], batched: bool
) -> list[tuple[str, BaseException | None]]:
    """How each step of a finished call ended: a single step's by its return or its
    exception; a batch's by the mapping it returned (or, had it raised, all alike)."""
    try:
        result = future.result()
    except BaseException as exc:
        return [(name, exc) for name in group]
    if not batched:
        return [(group[0], None)]
    missing = RuntimeError("the batch returned without saying how this step ended")
    return [(name, result.get(name, missing)) for name in group]
