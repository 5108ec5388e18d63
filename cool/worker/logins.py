"""A build's cloud logins, made as its run starts rather than by its first steps.

A build acts through its own credentials (a Keystone trust in a real cloud),
so its first cloud call logs in first: a token request that is the build's,
not any one step's. Made by the first steps, it sat inside each of their
``*_IN_PROGRESS`` to ``*_COMPLETE`` windows (all of them waited for the same
token), and it started only once the claim's writes were done. Here it starts
when the run does, in a thread of its own, alongside the claim's writes and
any step that calls no cloud; a step of a provider that logs in waits for it
before its intent is recorded, so a step's time is its own cloud work.

A login that fails is not the build's failure here: the step's own call meets
the same trouble and handles it as it always did (retry, or fail with a note).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from cool.clouds.base import Provider

LOG = logging.getLogger(__name__)

LOGIN_WAIT_S = 90.0  # past the [trustee] timeout (60 s): a login ends before this
_SLICE_S = 0.5  # how often a waiting step looks at the worker stopping


def _prepare(provider: Provider) -> Callable[[str], object] | None:
    """The provider's ``prepare(trust_id)``, when it has one (logging in is optional)."""
    method = getattr(provider, "prepare", None)
    return method if callable(method) else None


class Logins:
    """One login per provider that has one, for one build's run."""

    def __init__(self, trust_id: str, stopping: threading.Event) -> None:
        self.trust_id = trust_id
        self.stopping = stopping
        self._done: dict[int, threading.Event] = {}

    def start(self, providers: Iterable[Provider], *, name: str) -> None:
        """Log in to each provider (once each) in a thread of its own; returns at once."""
        for provider in providers:
            prepare = _prepare(provider)
            if prepare is None or id(provider) in self._done:
                continue
            done = self._done[id(provider)] = threading.Event()
            threading.Thread(
                target=self._login, args=(prepare, done), name=f"login-{name}", daemon=True
            ).start()

    def _login(self, prepare: Callable[[str], object], done: threading.Event) -> None:
        try:
            prepare(self.trust_id)
        except Exception as exc:  # the step's own call meets it, and says so
            LOG.info("logging in ahead of the steps failed (the steps will retry): %s", exc)
        finally:
            done.set()

    def wait(self, provider: Provider, *, timeout_s: float = LOGIN_WAIT_S) -> None:
        """Until the provider's login has ended (made or failed), the worker stops, or
        ``timeout_s`` passes: whichever comes first. No login started: at once."""
        done = self._done.get(id(provider))
        if done is None:
            return
        deadline = time.monotonic() + timeout_s
        while not done.wait(min(_SLICE_S, max(deadline - time.monotonic(), 0))):
            if self.stopping.is_set() or time.monotonic() >= deadline:
                return
