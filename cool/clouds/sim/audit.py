"""What tests and demos ask the SIMULATED cloud's file afterwards: rows, audit, calls.

Read-only queries over the file (:mod:`cool.clouds.sim.store`); none is a
cloud call, so none is recorded. :class:`cool.clouds.sim.provider.SimProvider` is a
:class:`SimAudit` of its own file.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from cool.clouds.sim.store import LIVE, SimCall, SimResource, SimStore


@dataclass(frozen=True, slots=True)
class AuditLine:
    """How many resources one step of one build has in the sim."""

    build_id: str
    resource_name: str
    live: int  # not deleted now
    created: int  # ever, deleted ones included

    @property
    def is_duplicated(self) -> bool:
        return self.live > 1


class SimAudit:
    """Rows, duplicates, leaks and recorded calls of a sim file, read at ``clock()``."""

    def __init__(self, store: SimStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def resource(self, physical_id: str) -> SimResource | None:
        """One row, deleted or not."""
        rows = self._store.read("SELECT * FROM resources WHERE physical_id = ?", (physical_id,))
        return SimResource.from_row(rows[0], self._clock()) if rows else None

    def live_resources(self, build_id: str | None = None) -> list[SimResource]:
        """Rows not deleted (of one build, or all), oldest first."""
        now = self._clock()
        rows = self._store.read(
            f"SELECT * FROM resources WHERE {LIVE} AND (? IS NULL OR build_id = ?) "
            "ORDER BY created_at, rowid",
            (now, build_id, build_id),
        )
        return [SimResource.from_row(row, now) for row in rows]

    def audit(self, build_id: str | None = None) -> list[AuditLine]:
        """Per build and resource name: rows alive now, and rows ever created."""
        rows = self._store.read(
            f"SELECT build_id, resource_name, SUM({LIVE}) AS live, COUNT(*) AS created "
            "FROM resources WHERE ? IS NULL OR build_id = ? "
            "GROUP BY build_id, resource_name ORDER BY build_id, resource_name",
            (self._clock(), build_id, build_id),
        )
        return [AuditLine(r["build_id"], r["resource_name"], r["live"], r["created"]) for r in rows]

    def duplicates(self, build_id: str | None = None) -> list[AuditLine]:
        """The steps with more than one live resource."""
        return [line for line in self.audit(build_id) if line.is_duplicated]

    def leaks(
        self, expected: Iterable[tuple[str, str]], *, build_ids: Collection[str] | None = None
    ) -> list[SimResource]:
        """Live rows whose (build_id, resource_name) is not ``expected`` (of ``build_ids``)."""
        wanted = set(expected)
        return [
            resource
            for resource in self.live_resources()
            if (build_ids is None or resource.build_id in build_ids)
            and (resource.build_id, resource.resource_name) not in wanted
        ]

    def calls(
        self,
        *,
        action: str | None = None,
        build_id: str | None = None,
        resource_name: str | None = None,
        caller: str | None = None,
        pid: int | None = None,
        after_id: int = 0,
    ) -> list[SimCall]:
        """The recorded calls matching every filter given, in order; ``after_id`` excludes
        the calls up to a :meth:`last_call_id` taken earlier."""
        filters = {
            "action": action,
            "build_id": build_id,
            "resource_name": resource_name,
            "caller": caller,
            "pid": pid,
        }
        where = " AND ".join(f"(? IS NULL OR {column} = ?)" for column in filters)
        params = [value for value in filters.values() for _ in range(2)]
        rows = self._store.read(
            f"SELECT * FROM calls WHERE call_id > ? AND {where} ORDER BY call_id",
            (after_id, *params),
        )
        return [SimCall(**dict(row)) for row in rows]

    def last_call_id(self) -> int:
        """A mark for :meth:`calls` (``after_id``): 0 when no call was made yet."""
        return int(self._store.read("SELECT COALESCE(MAX(call_id), 0) FROM calls")[0][0])
