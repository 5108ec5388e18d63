"""How a step ends other than by returning: errors of cool's one tree, caught by run_graph."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from cool.errors import CoolError
from cool.worker.schedule import StepFailedError, StepStoppedError, run_graph


def test_schedule_errors_a_failed_step_carries_its_note() -> None:
    note: dict[str, object] = {"resource": "web", "action": "CREATE", "error": "no host"}
    error = StepFailedError(note)
    assert isinstance(error, CoolError)
    assert (error.note, str(error), error.retryable) == (note, "no host", False)


def test_schedule_errors_a_stopped_step_is_carried_on_later() -> None:
    error = StepStoppedError("web")
    assert isinstance(error, CoolError)
    assert (str(error), error.retryable) == ("web", True)


def test_schedule_errors_are_outcomes_and_other_cool_errors_are_raised() -> None:
    note: dict[str, object] = {"error": "no host"}

    def step(name: str) -> None:
        if name == "a":
            raise StepFailedError(note)
        if name == "b":
            raise StepStoppedError(name)

    with ThreadPoolExecutor(2) as executor:
        outcome = run_graph(
            ["a", "b"], {}, step, executor=executor, parallelism=2, halts=(threading.Event(),)
        )
        assert (outcome.failure, outcome.stopped, outcome.unfinished) == (note, True, True)

        def lost(name: str) -> None:
            raise CoolError("not a step's outcome")

        with pytest.raises(CoolError, match="not a step's outcome"):
            run_graph(["a"], {}, lost, executor=executor, parallelism=1, halts=())
