"""Failures the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) suffers: by rate, or on purpose.

A rate (``failure_rate``, seeded) fails calls of some actions at random; a
*switch* (armed in the shared file, so every process sees it) fails the next
calls of one action for one resource name. Both are decided inside the
call's transaction, so a consumed switch and the recorded call commit
together.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cool.clouds.base import ProviderError, ResourceFailedError, StepContext
from cool.errors import ConfigurationError


class FailureMode(StrEnum):
    """How a simulated failure shows.

    RAISE: the call fails and changes nothing (a 5xx, or a refusal).
    ERROR_STATUS: the call succeeds, but the resource goes to ERROR: after the
        latency for a create, at once for an observe, and a delete leaves it in
        ERROR (``is_deleted`` raises ResourceFailedError).
    LOST_REPLY: the create or delete happens, but its reply is lost: the call
        raises a retryable error (a gateway timeout). Only adoption avoids a duplicate.
    HOLD: the call waits, before it starts, until the file named by the switch's
        message exists (at most HOLD_MAX_S), then goes on as if nothing happened.
        Only by a switch, never by a rate.
    """

    RAISE = "raise"
    ERROR_STATUS = "error_status"
    LOST_REPLY = "lost_reply"
    HOLD = "hold"


HOLD_MAX_S = 120.0  # a held call goes on after this long, file or not: nothing hangs forever

_MODES_BY_ACTION = {
    "create": frozenset(FailureMode),
    "delete": frozenset(FailureMode),
    "observe": frozenset({FailureMode.RAISE, FailureMode.ERROR_STATUS, FailureMode.HOLD}),
    "find": frozenset({FailureMode.RAISE, FailureMode.HOLD}),
    "is_deleted": frozenset({FailureMode.RAISE, FailureMode.HOLD}),
}


def can_fail(action: str, mode: FailureMode) -> bool:
    return mode in _MODES_BY_ACTION.get(action, ())


@dataclass(frozen=True, slots=True)
class Fault:
    """The failure one call suffers."""

    mode: FailureMode
    message: str
    retryable: bool

    def error(self) -> ProviderError:
        if self.retryable:
            return ProviderError(self.message, retryable=True)
        return ResourceFailedError(self.message)


class Failures:
    """Decides each call's fault: an armed switch first (consumed), else maybe the rate's."""

    def __init__(
        self,
        *,
        rate: float = 0.0,
        mode: FailureMode | str = FailureMode.RAISE,
        actions: Collection[str] = ("create",),
        seed: int | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ConfigurationError(f"sim failure_rate {rate} is not in [0, 1]")
        self.mode = FailureMode(mode)
        if self.mode is FailureMode.HOLD:
            raise ConfigurationError("sim calls are held by an armed switch, not by a rate")
        for action in actions:
            if not can_fail(action, self.mode):
                raise ConfigurationError(f"sim cannot fail {action} as {self.mode}")
        self.rate = rate
        self.actions = frozenset(actions)
        self._random = random.Random(seed)

    def fault(self, conn: sqlite3.Connection, action: str, ctx: StepContext) -> Fault | None:
        """The failure this call suffers, decided inside its transaction (``conn``)."""
        row = conn.execute(
            "SELECT * FROM switches WHERE action = ? AND resource_name = ? AND "
            "(build_id IS NULL OR build_id = ?) ORDER BY switch_id LIMIT 1",
            (action, ctx.resource_name, ctx.build_id),
        ).fetchone()
        if row is not None:
            if row["times"] == 1:
                conn.execute("DELETE FROM switches WHERE switch_id = ?", (row["switch_id"],))
            elif row["times"] > 1:
                conn.execute(
                    "UPDATE switches SET times = times - 1 WHERE switch_id = ?", (row["switch_id"],)
                )
            return Fault(FailureMode(row["mode"]), row["message"], bool(row["retryable"]))
        if action not in self.actions or self.rate <= 0:
            return None
        if self._random.random() >= self.rate:
            return None
        messages = {
            FailureMode.RAISE: "simulated transient cloud error (503 Service Unavailable)",
            FailureMode.ERROR_STATUS: f"simulated failure: the {ctx.resource_type} went to ERROR",
            FailureMode.LOST_REPLY: f"simulated lost reply: the {action} may have happened "
            "(504 Gateway Timeout)",
        }
        return Fault(self.mode, messages[self.mode], retryable=True)


def arm(
    conn: sqlite3.Connection,
    resource_name: str,
    action: str,
    *,
    build_id: str | None,
    times: int | None,
    mode: FailureMode | str,
    message: str | None,
    retryable: bool,
) -> int:
    """Insert a switch (see :meth:`cool.clouds.sim.provider.SimProvider.arm`); its id."""
    mode = FailureMode(mode)
    if not can_fail(action, mode):
        raise ValueError(f"a switch cannot fail {action!r} as {mode}")
    if times is not None and times < 1:
        raise ValueError("times is at least 1 (or None: every time)")
    if mode is FailureMode.HOLD and not message:
        raise ValueError("a HOLD switch needs the file that releases it as its message")
    text = message or f"simulated failure of {action} (armed switch)"
    cursor = conn.execute(
        "INSERT INTO switches (action, resource_name, build_id, times, mode, retryable, "
        "message) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (action, resource_name, build_id, -1 if times is None else times, mode,
         int(retryable), text),
    )  # fmt: skip
    return int(cursor.lastrowid or 0)


def wait_for_release(release: str, *, bound_s: float = HOLD_MAX_S) -> None:
    """A HOLD: wait until the file ``release`` exists, at most ``bound_s``."""
    path = Path(release)
    deadline = time.monotonic() + bound_s
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def disarm(conn: sqlite3.Connection, switch_id: int | None) -> None:
    """Remove one switch, or all of them."""
    if switch_id is None:
        conn.execute("DELETE FROM switches")
    else:
        conn.execute("DELETE FROM switches WHERE switch_id = ?", (switch_id,))
