"""Builds read back and acted on: list, show, resources, cancel, delete."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

import falcon

from cool.api import paging, views
from cool.api.errors import request_id
from cool.api.services import Services, checked_build_id
from cool.api.submit import submit
from cool.model import BuildStatus, Plan
from cool.store.layout import is_build_id
from cool.store.records import BuildMeta, BuildState

_LIST_QUERY = ("limit", "marker", "status", "all_projects", "name")
_CHUNK = 256  # summaries read at once (pipelined), at most


class BuildCollection:
    """``/v1/builds``: GET lists (newest first), POST submits."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        submit(self.services, req, resp)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        services = self.services
        context = services.caller(req)
        params = paging.query(req, _LIST_QUERY)
        settings = services.settings
        limit = paging.limit(params, default=settings.default_limit, maximum=settings.max_limit)
        marker = params.get("marker")
        if marker is not None and not is_build_id(marker):
            raise paging.problem("marker", "marker must be a build id from an earlier page")
        statuses = _statuses(params.get("status"))
        all_projects = paging.boolean(params, "all_projects")
        if all_projects:
            services.authorizer.require("cool:build:list_all_projects", context)
            project_id = None
        else:
            services.authorizer.require("cool:build:list", context)
            project_id = context.project_id
        candidates = services.store.newest_builds(project_id, before=marker)
        name = params.get("name")
        page = []
        resume_after = None  # where the next page starts, if there is one
        # Read in chunks until the page is full: filters may drop many, so each chunk
        # after the first is twice as large (up to _CHUNK). At most max_scan builds
        # are read per request; past that, a shorter page's next link resumes where
        # the reading stopped.
        chunk = min(limit, services.settings.max_scan)
        scanned = 0
        batch = list(islice(candidates, chunk))
        while batch:
            scanned += len(batch)
            for item in services.store.summaries(batch):
                if statuses and item.state.status not in statuses:
                    continue
                if name is not None and item.name != name:
                    continue
                page.append(item)
                if len(page) == limit:
                    break
            if len(page) == limit:
                if page[-1].build_id != batch[-1][0] or next(candidates, None) is not None:
                    resume_after = page[-1].build_id
                break
            if scanned >= services.settings.max_scan:
                if next(candidates, None) is not None:
                    resume_after = batch[-1][0]
                break
            grown = max(chunk, min(chunk * 2, _CHUNK), 32)
            chunk = min(grown, services.settings.max_scan - scanned)
            batch = list(islice(candidates, chunk))
        body: dict[str, object] = {"builds": [views.summary(item, req.prefix) for item in page]}
        body["links"] = (
            [{"rel": "next", "href": paging.next_link(req, req.prefix, params, resume_after)}]
            if resume_after is not None
            else []
        )
        resp.media = body


def _statuses(text: str | None) -> frozenset[BuildStatus]:
    if text is None:
        return frozenset()
    out = set()
    for word in text.split(","):
        try:
            out.add(BuildStatus(word.strip().upper()))
        except ValueError:
            known = ", ".join(s.value for s in BuildStatus)
            raise paging.problem(
                "status", f"unknown status {word.strip()[:40]!r} (known: {known})"
            ) from None
    return frozenset(out)


class _BuildResource:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _meta_for(self, req: falcon.Request, rule: str, build_id: str) -> tuple[BuildMeta, Plan]:
        services = self.services
        context = services.caller(req)
        meta, plan = services.store.meta_and_plan(checked_build_id(build_id))
        services.authorizer.build(rule, context, meta.project_id, build_id)
        return meta, plan

    def _request(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        build_id: str,
        rule: str,
        record: Callable[..., BuildState],
    ) -> None:
        """A cancel or delete: recorded for the build's worker, answered 202 at once."""
        context = self.services.caller(req)
        meta, _ = self._meta_for(req, rule, build_id)
        paging.query(req, ())
        state = record(build_id, user_id=context.user_id, request_id=request_id(req.env))
        resp.status = falcon.HTTP_202
        resp.location = f"{req.prefix}/v1/builds/{build_id}"
        resp.media = {"build": views.build(meta, state, req.prefix)}


class BuildItem(_BuildResource):
    """``/v1/builds/{build_id}``: GET shows it, DELETE tears down what it built."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, build_id: str) -> None:
        meta, _ = self._meta_for(req, "cool:build:get", build_id)
        paging.query(req, ())
        state, _ = self.services.store.state(build_id)
        resp.media = {"build": views.build(meta, state, req.prefix)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, build_id: str) -> None:
        self._request(req, resp, build_id, "cool:build:delete", self.services.requests.delete)


class BuildCancel(_BuildResource):
    """``/v1/builds/{build_id}/cancel``: 409 once the build has finished."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, build_id: str) -> None:
        self._request(req, resp, build_id, "cool:build:cancel", self.services.requests.cancel)


class BuildResources(_BuildResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, build_id: str) -> None:
        self._meta_for(req, "cool:build:resources", build_id)
        plan = self.services.store.live_plan(build_id)
        nested = paging.boolean(paging.query(req, ("nested",)), "nested")
        records = self.services.store.resources(build_id)
        resp.media = {"resources": views.resources(plan, records, nested=nested)}
