"""``GET /v1/builds/{build_id}/events``: ordered events, paged, and long-polled.

``marker`` is the id of the last event seen; ``wait=N`` holds the request
until an event after it exists (woken by a ZooKeeper watch), for at most N
seconds (``[api] max_event_wait``). A build that has finished (see
:func:`cool.api.views.is_finished`) answers at once: there may never be
another event to wait for.
"""

from __future__ import annotations

import threading

import falcon

from cool.api import paging, views
from cool.api.services import Services, checked_build_id


class BuildEvents:
    """Long-polls hold a thread each: at most ``max_waiters`` of a process's threads
    wait at once, so that waiting callers can never starve submits and healthchecks.
    A poll past that answers at once (the caller simply polls again)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.waiters = threading.BoundedSemaphore(services.settings.max_waiters)

    def on_get(self, req: falcon.Request, resp: falcon.Response, build_id: str) -> None:
        services = self.services
        context = services.caller(req)
        params = paging.query(req, ("limit", "marker", "wait"))
        settings = services.settings
        limit = paging.limit(params, default=settings.default_limit, maximum=settings.max_limit)
        wait_s = paging.seconds(params, "wait", maximum=settings.max_event_wait_s)
        text = params.get("marker")
        marker = None
        if text is not None:
            if not text.isascii() or not text.isdigit() or len(text) > 10:
                raise paging.problem("marker", "marker must be the id of an event")
            marker = int(text)
        meta, _ = services.store.meta_and_plan(checked_build_id(build_id))
        services.authorizer.build("cool:build:events", context, meta.project_id, build_id)
        if wait_s > 0:
            state, _ = services.store.state(build_id)
            if views.is_finished(meta, state):
                wait_s = 0.0
        found = None
        if wait_s > 0 and self.waiters.acquire(blocking=False):
            try:
                found = services.store.wait_events(
                    build_id, after=marker, limit=limit, timeout_s=wait_s
                )
            finally:
                self.waiters.release()
        if found is None:  # no wait asked, or every waiting slot taken: answer now
            found = services.store.events(build_id, after=marker, limit=limit)
        body: dict[str, object] = {"events": [views.event(n, e) for n, e in found]}
        links = []
        if len(found) == limit:
            links.append(
                {
                    "rel": "next",
                    "href": paging.next_link(req, req.prefix, params, str(found[-1][0])),
                }
            )
        body["links"] = links
        resp.media = body
