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
from typing import Any

import falcon

from cool.api.heat import identify
from cool.api.heat.identify import Found
from cool.api.heat.paths import stack_url
from cool.api.heat.resource_views import HeatEvent, event, heat_events
from cool.api.services import Services
from cool.errors import BuildNotFoundError, RequestInvalidError, RequestProblem

EVENTS_RULE = "cool:build:events"
_FILTERS = ("resource_status", "resource_action", "resource_name", "resource_type")
_SORT_KEYS = ("event_time", "resource_type")


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


def stack_events(services: Services, found: Found) -> list[HeatEvent]:
    build_id = found.stack_id
    return heat_events(
        services.store.events(build_id),
        stack_name=found.name,
        stack_id=build_id,
        plan=found.plan,
        records=services.store.resources(build_id),
    )


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
    items: Sequence[HeatEvent],
    query: Mapping[str, str | list[str]],
    *,
    resource_name: str | None = None,
) -> list[HeatEvent]:
    """Heat's list_events: filters, nested_depth, sort (default newest first), marker
    (strictly after it), limit."""
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
    chosen = [e for e in items if e.depth <= depth and _matches(e, filters)]

    def order(item: HeatEvent) -> tuple[Any, ...]:
        return (item.resource_type, item.number) if "resource_type" in keys else (item.number,)

    chosen.sort(key=order, reverse=sort_dir == "desc")
    marker = single(query, "marker")
    if marker is not None:
        if not marker.isascii() or not marker.isdigit() or len(marker) > 18:
            raise bad(f"marker {marker[:40]!r} is not the id of an event", "marker")
        at = next((e for e in items if e.number == int(marker)), None)
        mark = order(at) if at is not None else (int(marker),)
        if sort_dir == "desc":
            chosen = [e for e in chosen if order(e) < mark]
        else:
            chosen = [e for e in chosen if order(e) > mark]
    return chosen if limit is None else chosen[:limit]


def listing(
    services: Services,
    req: falcon.Request,
    found: Found,
    url: str,
    resource_name: str | None = None,
) -> dict[str, Any]:
    query = params(req)
    chosen = select(stack_events(services, found), query, resource_name=resource_name)
    if not chosen and resource_name is not None:
        raise BuildNotFoundError(f"No events found for resource {resource_name}")
    root = query.get("nested_depth") is not None
    return {"events": [event(e, url, root_link=root) for e in chosen]}


def show(services: Services, found: Found, url: str, resource_name: str, event_id: str) -> dict:
    for item in stack_events(services, found):
        if item.id == event_id and item.resource_name == resource_name:
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
