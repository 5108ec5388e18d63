"""What keeps bcrypt, slow on purpose, from being turned against cool-api.

A check of an htpasswd password costs ~0.2 s of CPU at the usual cost. A
flood of wrong passwords must neither take every request thread nor make a
right password wait behind it: results are remembered for a while (right
ones long, wrong ones briefly, both as digests in bounded memories), and the
checks that remain run a few at a time with a short bounded queue; past it a
request is told to retry (503) at once instead of holding a thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager


class Remembered:
    """Keys (digests) remembered until their time is up, the oldest forgotten past ``size``."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._until: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key_now: tuple[bytes, float]) -> bool:
        key, now = key_now
        with self._lock:
            until = self._until.get(key)
            return until is not None and until > now

    def add(self, key: bytes, until: float) -> None:
        with self._lock:
            self._until[key] = until
            self._until.move_to_end(key)
            while len(self._until) > self.size:
                self._until.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


class CheckSlots:
    """At most ``slots`` checks at once, ``waiting`` more queued for ``wait_s`` at most."""

    def __init__(self, slots: int, *, waiting: int, wait_s: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self.max_waiting = waiting
        self.wait_s = wait_s
        self._waiting = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Yields True with a slot held, False when none came (the caller refuses)."""
        with self._lock:
            full = self._waiting >= self.max_waiting
            if not full:
                self._waiting += 1
        if full:
            yield False
            return
        try:
            got = self._slots.acquire(timeout=self.wait_s)
        finally:
            with self._lock:
                self._waiting -= 1
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            self._slots.release()
