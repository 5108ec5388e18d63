"""How cloud calls are retried: the policy as data, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from cool.clouds.base import ProviderError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transient cloud errors (``retryable``) are retried with jittered exponential backoff."""

    attempts: int = 5
    initial_s: float = 0.5
    max_s: float = 10.0
    deadline_s: float = 120.0

    def call(self, function: Callable[[], T], *, before: Callable[[], None] = lambda: None) -> T:
        """``function()`` under this policy; ``before()`` runs before every attempt."""

        def attempt() -> T:
            before()
            return function()

        retrying = Retrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, ProviderError) and exc.retryable),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.deadline_s),
            wait=wait_exponential_jitter(multiplier=self.initial_s, max=self.max_s),
            reraise=True,
        )
        return retrying(attempt)


CLOUD_RETRY = RetryPolicy()
