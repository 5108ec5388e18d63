"""A stack's events as Heat lists them: what ``openstack stack create --wait`` follows.

heatclient and openstacksdk poll ``GET .../events?sort_dir=asc&marker=<last id>``
and stop on a stack-level event (``resource_name`` the stack's name, its
``rel=stack`` link ending in its ``physical_resource_id``) whose status ends the
action. cool's build-level events become those (resource_views.heat_events).
Ids are cool's event sequence numbers, as strings (both clients treat ids as
opaque); ``marker`` is strictly after, in the order asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import falcon

from cool.api.heat import identify
from cool.api.heat.identify import Found
from cool.api.heat.paths import stack_url
from cool.api.heat.resource_views import HeatEvent, event, heat_events
from cool.api.services import Services
from cool.errors import BuildNotFoundError, RequestInvalidError, RequestProblem
from cool.store.records import Event

EVENTS_RULE = "cool:build:events"
_FILTERS = ("resource_status", "resource_action", "resource_name", "resource_type")
_SORT_KEYS = ("event_time", "resource_type")
SCAN_CAP = 10_000  # events one request reads at most (a page in the events' order reads fewer)
_BATCH = 64  # events read at first when there is no (smaller) limit; doubled up to _MAX_BATCH
_MAX_BATCH = 1024


def params(req: falcon.Request) -> dict[str, str | list[str]]:
    """The query, a repeated key as a list (Heat's "mixed" parameters)."""
    parsed: dict[str, str | list[str]] = falcon.uri.parse_query_string(
        req.query_string, keep_blank=True, csv=False
    )
    return parsed


def bad(detail: str, parameter: str) -> RequestInvalidError:
    return RequestInvalidError(
        [RequestProblem("cool.request.invalid_value", detail, parameter=parameter)]
    )


def single(query: Mapping[str, str | list[str]], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def whole(query: Mapping[str, str | list[str]], name: str) -> int | None:
    """Heat's extract_int: a whole number, 0 or more (a huge one is just huge)."""
    text = single(query, name)
    if text is None:
        return None
    if not text.isascii() or not text.isdigit():
        raise bad(f"Only integer is acceptable by '{name}'.", name)
    return 10**18 if len(text) > 18 else int(text)  # no int() of thousands of digits


def many(query: Mapping[str, str | list[str]], name: str) -> list[str]:
    value = query.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True, slots=True)
class _Ask:
    """A list_events query, checked."""

    limit: int | None
    depth: int
    descending: bool
    by_type: bool  # sort_keys=resource_type: not the events' own order
    filters: dict[str, list[str]]
    marker: int | None


def _ask(query: Mapping[str, str | list[str]], resource_name: str | None) -> _Ask:
    limit = whole(query, "limit")
    depth = whole(query, "nested_depth") or 0
    sort_dir = (single(query, "sort_dir") or "desc").lower()
    if sort_dir not in ("asc", "desc"):
        raise bad(f"Unknown sort direction, must be 'desc' or 'asc': {sort_dir[:40]!r}", "sort_dir")
    keys = many(query, "sort_keys")
    for key in keys:
        if key not in _SORT_KEYS:
            raise bad(
                f"Unknown sort key {key[:40]!r} (known: event_time, resource_type)", "sort_keys"
            )
    filters = {key: many(query, key) for key in _FILTERS}
    if resource_name is not None:
        filters["resource_name"] = [resource_name]
        depth = max(depth, resource_name.count("/"))
    marker = single(query, "marker")
    if marker is not None and (not marker.isascii() or not marker.isdigit() or len(marker) > 18):
        raise bad(f"marker {marker[:40]!r} is not the id of an event", "marker")
    return _Ask(
        limit=limit,
        depth=depth,
        descending=sort_dir == "desc",
        by_type="resource_type" in keys,
        filters=filters,
        marker=None if marker is None else int(marker),
    )


def _converted(found: Found, numbered: Sequence[tuple[int, Event]]) -> list[HeatEvent]:
    """Heat's shape of these events; physical ids are filled in for a page only."""
    return heat_events(
        numbered, stack_name=found.name, stack_id=found.stack_id, plan=found.plan, records={}
    )


def _with_physical_ids(services: Services, found: Found, page: list[HeatEvent]) -> list[HeatEvent]:
    """The page's events with their resources' physical ids: the records of those
    resources only."""
    names = sorted({e.resource_name for e in page if not e.is_stack})
    records = services.store.resource_records(found.stack_id, names)
    return [
        replace(e, physical_resource_id=records[e.resource_name].physical_id)
        if not e.is_stack and e.resource_name in records
        else e
        for e in page
    ]


def _too_many(count: int) -> RequestInvalidError:
    return bad(
        f"this query would read over {SCAN_CAP:,} of the stack's {count:,} events: ask in "
        "the events' own order (no sort_keys) with a limit, or page with a marker",
        "sort_keys",
    )


def _in_event_order(services: Services, found: Found, ask: _Ask) -> list[HeatEvent]:
    """The events' own order: only the events past the marker that the page needs are
    read (their names are listed first, which is cheap), in growing batches."""
    numbers = services.store.event_numbers(found.stack_id)
    if ask.marker is not None:
        numbers = [n for n in numbers if (n < ask.marker if ask.descending else n > ask.marker)]
    if ask.descending:
        numbers.reverse()
    out: list[HeatEvent] = []
    batch = min(ask.limit or _BATCH, _BATCH) or 1
    at = 0
    while at < len(numbers) and (ask.limit is None or len(out) < ask.limit):
        if at >= SCAN_CAP:
            raise _too_many(len(numbers))
        wanted = numbers[at : at + min(batch, SCAN_CAP - at)]
        at += len(wanted)
        numbered = services.store.numbered_events(found.stack_id, wanted)
        out.extend(e for e in _converted(found, numbered) if _chosen(e, ask))
        batch = min(batch * 2, _MAX_BATCH)
    return out if ask.limit is None else out[: ask.limit]


def _by_type(services: Services, found: Found, ask: _Ask) -> list[HeatEvent]:
    """sort_keys=resource_type: every event is read, up to SCAN_CAP.

    A marker that is no event of the stack is ignored, as Heat's
    _events_paginate_query does when its marker is not found.
    """
    count = len(services.store.event_numbers(found.stack_id))
    if count > SCAN_CAP:
        raise _too_many(count)
    items = _converted(found, services.store.events(found.stack_id))

    def order(item: HeatEvent) -> tuple[str, int]:
        return (item.resource_type, item.number)

    chosen = sorted((e for e in items if _chosen(e, ask)), key=order, reverse=ask.descending)
    at = next((e for e in items if e.number == ask.marker), None)
    if at is not None:
        mark = order(at)
        chosen = [e for e in chosen if (order(e) < mark if ask.descending else order(e) > mark)]
    return chosen if ask.limit is None else chosen[: ask.limit]


def _chosen(item: HeatEvent, ask: _Ask) -> bool:
    return item.depth <= ask.depth and _matches(item, ask.filters)


def _matches(item: HeatEvent, filters: Mapping[str, list[str]]) -> bool:
    checks = {
        # Heat stores the status without its action: accept both spellings.
        "resource_status": (item.status, item.resource_status),
        "resource_action": (item.action,),
        "resource_name": (item.resource_name,),
        "resource_type": (item.resource_type,),
    }
    return all(
        any(value in checks[key] for value in values) for key, values in filters.items() if values
    )


def select(
    services: Services,
    found: Found,
    query: Mapping[str, str | list[str]],
    *,
    resource_name: str | None = None,
) -> list[HeatEvent]:
    """Heat's list_events: filters, nested_depth, sort (default newest first), marker
    (strictly after it), limit; physical ids for the page's events only."""
    ask = _ask(query, resource_name)
    read = _by_type if ask.by_type else _in_event_order
    chosen = read(services, found, ask)
    return _with_physical_ids(services, found, chosen)


def listing(
    services: Services,
    req: falcon.Request,
    found: Found,
    url: str,
    resource_name: str | None = None,
) -> dict[str, Any]:
    query = params(req)
    chosen = select(services, found, query, resource_name=resource_name)
    if not chosen and resource_name is not None:
        raise BuildNotFoundError(f"No events found for resource {resource_name}")
    root = query.get("nested_depth") is not None
    return {"events": [event(e, url, root_link=root) for e in chosen]}


def show(services: Services, found: Found, url: str, resource_name: str, event_id: str) -> dict:
    """One event: one read (and its resource's record)."""
    if event_id.isascii() and event_id.isdigit() and len(event_id) <= 10:
        numbered = services.store.numbered_events(found.stack_id, [int(event_id)])
        for item in _with_physical_ids(services, found, _converted(found, numbered)):
            if item.resource_name == resource_name:
                return {"event": event(item, url, detail=True)}
    raise BuildNotFoundError(f"No event {event_id} found")


class StackEvents:
    """``GET /v1/{project_id}/stacks/{stack_name}/{stack_id}/events``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        stack_name: str,
        stack_id: str,
    ) -> None:
        _, found = identify.stack(
            self.services, req, project_id, stack_name, stack_id, rule=EVENTS_RULE
        )
        url = stack_url(req, project_id, found.name, found.stack_id)
        resp.media = listing(self.services, req, found, url)
