"""Heat's stack operations over cool's builds: create, list, show, delete, and the
stack's outputs, template, environment and files (validate and preview are in
:mod:`.stack_checks`).

Each goes through the native API's own parts: a create is compiled and stored by
:func:`cool.api.submit.create`, a delete is the store's delete request, and a
stack is found by :mod:`cool.api.heat.identify`. What Heat does and cool does
not (updates, abandon, adopt, snapshots...) is refused in :mod:`.unsupported`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon

from cool.api import paging, submit
from cool.api.errors import request_id
from cool.api.heat import identify, stack_bodies, stack_views, unsupported
from cool.api.heat import stack_checks as checks
from cool.api.heat.paths import stack_url
from cool.api.heat.stack_bodies import NotSupportedError
from cool.api.services import Services
from cool.api.source import merge_environments
from cool.errors import BuildNameExistsError, BuildNotFoundError
from cool.model import BuildStatus
from cool.store.reads import Summary

# Heat's sort keys (and the DB columns they alias) -> what orders cool's summaries.
_SORT: dict[str, Callable[[Summary], Any]] = {
    "created_at": lambda s: s.created_at,
    "name": lambda s: s.name,
    "updated_at": lambda s: s.state.updated_at,
    "status": lambda s: stack_views.heat_status(s.state.status),
}
_SORT_ALIASES = {
    "creation_time": "created_at",
    "stack_name": "name",
    "updated_time": "updated_at",
    "stack_status": "status",
}


def _query(req: falcon.Request) -> dict[str, list[str]]:
    """Every query parameter's values (Heat ignores the ones it does not know)."""
    parsed = falcon.uri.parse_query_string(req.query_string, keep_blank=True, csv=False)
    return {k: v if isinstance(v, list) else [v] for k, v in parsed.items()}


def _flag(query: dict[str, list[str]], name: str, default: bool = False) -> bool:
    if name not in query:
        return default
    return paging.boolean({name: query[name][-1]}, name)


def _not_found(name: str) -> BuildNotFoundError:
    return BuildNotFoundError(f"The Stack ({name}) could not be found.")


class StackCollection:
    """``/stacks``: GET lists, POST creates (201, the absolute canonical URL)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        services = self.services
        context = identify.caller(services, req, project_id)
        services.authorizer.require("cool:build:create", context)
        body = stack_bodies.read(req, services)
        try:
            meta, _ = submit.create(services, req, context, body.request, tags=body.tags)
        except BuildNameExistsError as exc:
            raise BuildNameExistsError(
                f"The Stack ({body.request.name}) already exists.", exc.build_id
            ) from None
        url = stack_url(req, project_id, meta.name, meta.build_id)
        resp.status = falcon.HTTP_201
        resp.location = url
        resp.media = {"stack": {"id": meta.build_id, "links": [{"href": url, "rel": "self"}]}}

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        services = self.services
        settings = services.settings
        context = identify.caller(services, req, project_id)
        query = _query(req)
        everyone = _flag(query, "global_tenant")
        if everyone:
            services.authorizer.require("cool:build:list_all_projects", context)
            candidates = services.store.all_builds()
        else:
            services.authorizer.require("cool:build:list", context)
            candidates = [(b, project_id) for b in services.store.project_builds(project_id)]
        limit_text = query.get("limit", [None])[-1]
        limit = paging.limit(
            {"limit": limit_text} if limit_text is not None else {},
            default=settings.default_limit,
            maximum=settings.max_limit,
        )
        keys = _sort_keys(query)
        descending = _sort_dir(query)
        # Heat sorts and filters in its database; cool reads the newest max_scan builds.
        items: list[Summary] = []
        chunk = 256
        for start in range(0, min(len(candidates), settings.max_scan), chunk):
            items.extend(services.store.summaries(candidates[start : start + chunk]))
        items = _filtered(items, query, show_deleted=_flag(query, "show_deleted"))
        items.sort(key=lambda s: (*(_SORT[k](s) for k in keys), s.build_id), reverse=descending)
        count = len(items)
        marker = query.get("marker", [None])[-1]
        if marker is not None:
            ids = [s.build_id for s in items]
            if marker not in ids:
                raise _not_found(marker)
            items = items[ids.index(marker) + 1 :]
        page = items[:limit]
        stacks = []
        for item in page:
            try:
                meta, _ = services.store.meta_and_plan(item.build_id)
            except BuildNotFoundError:
                continue  # pruned since it was listed
            stacks.append(stack_views.summary(req, meta, item.state, with_project=everyone))
        body: dict[str, Any] = {"stacks": stacks}
        if page and len(page) == limit:
            params = {k: v[-1] for k, v in query.items()}
            body["links"] = [
                {
                    "href": paging.next_link(req, req.prefix, params, page[-1].build_id),
                    "rel": "next",
                }
            ]
        if _flag(query, "with_count"):
            body["count"] = count
        resp.media = body


def _sort_keys(query: dict[str, list[str]]) -> list[str]:
    keys = []
    for text in query.get("sort_keys", []):
        for word in filter(None, (k.strip() for k in text.split(","))):
            key = _SORT_ALIASES.get(word, word)
            if key not in _SORT:
                known = ", ".join(sorted({*_SORT, *_SORT_ALIASES}))
                raise paging.problem("sort_keys", f"Invalid sort key {key[:40]!r} (known: {known})")
            keys.append(key)
    return keys or ["created_at"]


def _sort_dir(query: dict[str, list[str]]) -> bool:
    """True: descending (Heat's default)."""
    text = query.get("sort_dir", ["desc"])[-1].lower()
    if text not in ("asc", "desc"):
        raise paging.problem("sort_dir", f"Unknown sort direction {text[:40]!r}: asc or desc")
    return text == "desc"


def _filtered(
    items: list[Summary], query: dict[str, list[str]], *, show_deleted: bool
) -> list[Summary]:
    """Heat's list filters: each a list of accepted values; ``status`` is Heat's
    status word (COMPLETE) or the whole ACTION_STATUS."""
    ids = set(query.get("id", []))
    names = set(query.get("name", []))
    statuses = {s.upper() for s in query.get("status", [])}
    actions = {a.upper() for a in query.get("action", [])}
    out = []
    for item in items:
        full = stack_views.heat_status(item.state.status)
        action, _, status = full.partition("_")
        if item.state.status is BuildStatus.DELETE_COMPLETE and not show_deleted:
            continue
        if ids and item.build_id not in ids:
            continue
        if names and item.name not in names:
            continue
        if statuses and status not in statuses and full not in statuses:
            continue
        if actions and action not in actions:
            continue
        out.append(item)
    return out


class StackItem:
    """``/stacks/{name}/{id}``: GET shows, DELETE deletes (204); updates are refused."""

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
        _, found = identify.stack(self.services, req, project_id, stack_name, stack_id)
        state, _ = self.services.store.state(stack_id)
        resolve = _flag(_query(req), "resolve_outputs", default=True)
        resp.media = {
            "stack": stack_views.stack(req, found.meta, found.plan, state, resolve_outputs=resolve)
        }

    def on_delete(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        stack_name: str,
        stack_id: str,
    ) -> None:
        services = self.services
        context, found = identify.stack(
            services, req, project_id, stack_name, stack_id, rule="cool:build:delete"
        )
        state, _ = services.store.state(stack_id)
        if state.status is BuildStatus.DELETE_COMPLETE:
            raise _not_found(stack_name)
        services.requests.delete(
            found.stack_id, user_id=context.user_id, request_id=request_id(req.env)
        )
        resp.status = falcon.HTTP_204

    def on_put(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        stack_name: str,
        stack_id: str,
    ) -> None:
        identify.stack(self.services, req, project_id, stack_name, stack_id)
        raise NotSupportedError(unsupported.UPDATE)

    on_patch = on_put


class _StackPart:
    """A read of one stack's part, through its canonical URL."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def _found(
        self, req: falcon.Request, project_id: str, stack_name: str, stack_id: str
    ) -> identify.Found:
        return identify.stack(self.services, req, project_id, stack_name, stack_id)[1]


class StackOutputs(_StackPart):
    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        stack_name: str,
        stack_id: str,
    ) -> None:
        found = self._found(req, project_id, stack_name, stack_id)
        resp.media = {
            "outputs": [
                {"output_key": o.name, "description": o.description or ""}
                for o in found.plan.outputs
            ]
        }


class StackOutput(_StackPart):
    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        *,
        project_id: str,
        stack_name: str,
        stack_id: str,
        output_key: str,
    ) -> None:
        found = self._found(req, project_id, stack_name, stack_id)
        state, _ = self.services.store.state(stack_id)
        for output in stack_views.outputs(found.plan, state):
            if output["output_key"] == output_key:
                resp.media = {"output": output}
                return
        raise BuildNotFoundError(f"Specified output key {output_key} not found.")


class StackTemplate(_StackPart):
    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        stack_name: str,
        stack_id: str,
    ) -> None:
        found = self._found(req, project_id, stack_name, stack_id)
        resp.media = self.services.store.source(found.stack_id).template


class StackEnvironment(_StackPart):
    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        stack_name: str,
        stack_id: str,
    ) -> None:
        found = self._found(req, project_id, stack_name, stack_id)
        environment = self.services.store.source(found.stack_id).environment
        resp.media = environment or merge_environments([])


class StackFiles(_StackPart):
    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        stack_name: str,
        stack_id: str,
    ) -> None:
        found = self._found(req, project_id, stack_name, stack_id)
        resp.media = self.services.store.source(found.stack_id).files


def resources(services: Services) -> list[tuple[str, object]]:
    """This module's routes, relative to ``/v1/{project_id}``."""
    stack = "/stacks/{stack_name}/{stack_id}"
    return [
        ("/stacks", StackCollection(services)),
        ("/stacks/preview", checks.StackPreview(services)),
        (stack, StackItem(services)),
        (stack + "/outputs", StackOutputs(services)),
        (stack + "/outputs/{output_key}", StackOutput(services)),
        (stack + "/template", StackTemplate(services)),
        (stack + "/environment", StackEnvironment(services)),
        (stack + "/files", StackFiles(services)),
        ("/validate", checks.Validate(services)),
    ]
