"""What keeps bcrypt, slow on purpose, from being turned against cool-api.

A check of an htpasswd password costs ~0.2 s of CPU at the usual cost. A
flood of wrong passwords must neither take every request thread nor make a
right password wait behind it: results are remembered for a while (right
ones long, wrong ones briefly, both as digests in bounded memories), and the
checks that remain run a few at a time with a short bounded queue, each user
name with its own share of it; past it a request is told to retry (503) at
once instead of holding a thread.
"""

from __future__ import annotations

import threading
import time
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
    """At most ``slots`` checks at once, ``waiting`` more queued for ``wait_s`` at most.

    Each user name has its own share: at most ``max(1, slots // 2)`` of its
    checks run at once and as many wait, so a flood of ever new passwords for
    one name (a brute force) keeps a slot free for every other user. That
    name's own right password then waits its turn behind the flood, or is told
    to retry; capping a flooding address is a front proxy's job.
    """

    def __init__(self, slots: int, *, waiting: int, wait_s: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self.max_places = slots + waiting  # checking or waiting, all users
        self.per_user = max(1, slots // 2)  # checking at once, one user
        self.wait_s = wait_s
        self._places: dict[str, int] = {}  # user: its checks checking or waiting
        self._turns: dict[str, threading.BoundedSemaphore] = {}  # user: its running share
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        """Checks running or waiting, all users."""
        with self._lock:
            return sum(self._places.values())

    @contextmanager
    def slot(self, user: str = "") -> Iterator[bool]:
        """Yields True with a slot held, False when none came (the caller refuses)."""
        with self._lock:
            mine = self._places.get(user, 0)
            full = mine >= 2 * self.per_user or sum(self._places.values()) >= self.max_places
            if not full:
                self._places[user] = mine + 1
                turn = self._turns.setdefault(user, threading.BoundedSemaphore(self.per_user))
        if full:
            yield False
            return
        try:
            deadline = time.monotonic() + self.wait_s
            if not turn.acquire(timeout=self.wait_s):
                yield False
                return
            try:
                if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    yield False
                    return
                try:
                    yield True
                finally:
                    self._slots.release()
            finally:
                turn.release()
        finally:
            with self._lock:
                self._places[user] -= 1
                if not self._places[user]:  # nobody holds its share: forget the name
                    del self._places[user]
                    del self._turns[user]
