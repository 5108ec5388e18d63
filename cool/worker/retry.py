"""How cloud calls are retried: the policy as data, in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from cool.clouds.base import ProviderError, ResourceBusyError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transient cloud errors (``retryable``) are retried with jittered exponential
    backoff: ``attempts`` times within ``deadline_s``. A resource busy changing
    (:class:`ResourceBusyError`) is waited for longer: until ``busy_deadline_s``,
    however many attempts that takes (an amphora's update takes minutes)."""

    attempts: int = 5
    initial_s: float = 0.5
    max_s: float = 10.0
    deadline_s: float = 120.0
    busy_deadline_s: float = 600.0

    def _stop(self, state: RetryCallState) -> bool:
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, ResourceBusyError):
            return state.seconds_since_start >= self.busy_deadline_s
        return state.attempt_number >= self.attempts or state.seconds_since_start >= (
            self.deadline_s
        )

    def call(
        self,
        function: Callable[[], T],
        *,
        before: Callable[[], None] = lambda: None,
        pause: Callable[[float], None] = time.sleep,
    ) -> T:
        """``function()`` under this policy; ``before()`` runs before every attempt and
        ``pause(seconds)`` waits between two (it may raise to give up: a worker stopping
        must not wait out a busy resource's minutes)."""

        def attempt() -> T:
            before()
            return function()

        retrying = Retrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, ProviderError) and exc.retryable),
            stop=self._stop,
            wait=wait_exponential_jitter(multiplier=self.initial_s, max=self.max_s),
            reraise=True,
            sleep=pause,
        )
        return retrying(attempt)


CLOUD_RETRY = RetryPolicy()
