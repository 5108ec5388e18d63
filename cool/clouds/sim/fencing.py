"""Fencing tokens the SIMULATED cloud enforces: a stale owner's create or delete is refused.

Every call of a step presents its claim's epoch (``StepContext.epoch``, the
version of the build's lease: it only grows). The file keeps, per build, the
highest epoch any call presented (table ``fences``). A create or delete that
presents a lower one comes from a worker whose claim has moved on (a zombie
that woke up inside a call) and is refused with StaleClaimError. Both happen
inside the call's transaction, so the check and the side effect are atomic:
once the new owner has made one call for the build, no late create of the old
one can land. Calls without an epoch (0: tools, tests) are not fenced.
"""

from __future__ import annotations

import sqlite3

from cool.clouds.base import StaleClaimError, StepContext

FENCED_ACTIONS = frozenset({"create", "delete"})  # the calls with a side effect


def present(conn: sqlite3.Connection, action: str, ctx: StepContext) -> StaleClaimError | None:
    """Record ``ctx.epoch`` for its build; the refusal, if the call is a stale side effect."""
    if ctx.epoch <= 0:
        return None
    row = conn.execute("SELECT epoch FROM fences WHERE build_id = ?", (ctx.build_id,)).fetchone()
    highest = int(row["epoch"]) if row is not None else 0
    if ctx.epoch > highest:
        conn.execute(
            "INSERT INTO fences (build_id, epoch) VALUES (?, ?) "
            "ON CONFLICT (build_id) DO UPDATE SET epoch = excluded.epoch",
            (ctx.build_id, ctx.epoch),
        )
    elif ctx.epoch < highest and action in FENCED_ACTIONS:
        return StaleClaimError(
            f"simulated refusal: {action} of {ctx.resource_name} with fencing token "
            f"{ctx.epoch}, but build {ctx.build_id} is now at {highest}"
        )
    return None
