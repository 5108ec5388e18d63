"""Running a dependency graph's steps in parallel, in order, on a shared pool."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass

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


def run_graph(
    names: Collection[str],
    blockers: Mapping[str, Collection[str]],
    step: Callable[[str], None],
    *,
    executor: Executor,
    parallelism: int,
    halts: Sequence[threading.Event],
) -> Outcome:
    """Run ``step(name)`` for every name once all its ``blockers`` are done.

    Independent steps run in parallel, at most ``parallelism`` at a time.
    After a failure, or once any of ``halts`` is set, no new step starts and the
    ones in flight finish. Any other exception (a lost claim, a write whose
    outcome is unknown) is raised once every step in flight has returned: the
    caller may then read the build back and run steps again, and must never run
    a second step beside one still in flight (two creates of one resource).
    """
    remaining = set(names)
    every = frozenset(names)  # blockers outside the graph count as done
    done: set[str] = set()
    in_flight: dict[Future[None], str] = {}
    failure: dict[str, object] | None = None
    lost: BaseException | None = None  # the first unexpected exception of a step
    stopped = False
    while True:
        halted = any(event.is_set() for event in halts)
        if failure is None and lost is None and not stopped and not halted:
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
            except StepFailedError as exc:
                failure = failure or exc.note
            except StepStoppedError:
                stopped = True
            except BaseException as exc:  # (raised below, once all returned)
                # A lost claim comes first: nothing more may be written then.
                if lost is None or (
                    isinstance(exc, ClaimLostError) and not isinstance(lost, ClaimLostError)
                ):
                    lost = exc
            else:
                remaining.discard(name)
                done.add(name)
    if lost is not None:
        raise lost
    return Outcome(failure, stopped, bool(remaining))
