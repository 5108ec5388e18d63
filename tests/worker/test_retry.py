"""The cloud retry policy: transient errors a few times, a busy resource for longer."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError, ResourceBusyError
from cool.worker.retry import RetryPolicy

QUICK = RetryPolicy(attempts=2, initial_s=0.001, max_s=0.002, deadline_s=5, busy_deadline_s=5)


def _failing(times: int, error: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"

    return calls, call


def test_a_busy_resource_is_waited_for_past_the_attempts_of_other_errors() -> None:
    """Octavia's immutable 409s were retried 5 times (about 8 s), then failed the build."""
    calls, call = _failing(6, ResourceBusyError("load balancer is PENDING_UPDATE"))
    assert QUICK.call(call) == "done"  # type: ignore[arg-type]
    assert len(calls) == 7


def test_other_transient_errors_stop_after_the_attempts() -> None:
    calls, call = _failing(6, ProviderError("HTTP 503", retryable=True))
    with pytest.raises(ProviderError):
        QUICK.call(call)  # type: ignore[arg-type]
    assert len(calls) == 2


def test_a_busy_resource_is_not_waited_for_past_its_own_deadline() -> None:
    policy = RetryPolicy(attempts=2, initial_s=0.001, max_s=0.002, busy_deadline_s=0.05)
    calls, call = _failing(10**6, ResourceBusyError("still PENDING_UPDATE"))
    with pytest.raises(ResourceBusyError):
        policy.call(call)  # type: ignore[arg-type]
    assert len(calls) > 2


def test_a_pause_that_gives_up_ends_the_retries_with_its_error() -> None:
    calls, call = _failing(10**6, ResourceBusyError("still PENDING_UPDATE"))
    waited: list[float] = []

    def pause(seconds: float) -> None:
        waited.append(seconds)
        if len(waited) == 3:
            raise InterruptedError("the worker is stopping")

    with pytest.raises(InterruptedError):
        QUICK.call(call, pause=pause)  # type: ignore[arg-type]
    assert len(calls) == 3
    assert all(0 <= s <= QUICK.max_s for s in waited)
