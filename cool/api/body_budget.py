"""A per-process bound on the request body bytes cool-api holds at once.

Each connection may hold a body up to ``max_request_body_size`` while it
arrives and while its request runs; without a bound over all of them, a
process could hold ``max_connections`` times that. Bodies take their bytes
from this budget as they arrive and give them back once their request is
done; one that does not fit waits a moment for room, then is refused.
Used from the event loop only, so it needs no lock.
"""

from __future__ import annotations

import asyncio


class BodyBudget:
    """``limit`` bytes shared by every body of one process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._freed = asyncio.Event()

    async def take(self, size: int, wait_s: float) -> bool:
        """Take ``size`` bytes, waiting ``wait_s`` at most for room; False if none came."""
        if self.used + size > self.limit:
            try:
                async with asyncio.timeout(wait_s):
                    while self.used + size > self.limit:
                        self._freed.clear()
                        await self._freed.wait()
            except TimeoutError:
                return False
        self.used += size
        return True

    def give_back(self, size: int) -> None:
        self.used -= size
        self._freed.set()
