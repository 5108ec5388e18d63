"""Heat's stack operations over cool's builds: create, list, show, delete, and the
stack's outputs, template, environment and files (validate and preview are in
:mod:`.stack_checks`).

Each goes through the native API's own parts: a create is compiled and stored by
:func:`cool.api.submit.create`, a delete is the store's delete request, and a
stack is found by :mod:`cool.api.heat.identify`. What Heat does and cool does
not (updates, abandon, adopt, snapshots...) is refused in :mod:`.unsupported`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import islice
from typing import Any
from urllib.parse import urlencode

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
from cool.store.records import BuildMeta

# Heat's sort keys (and the DB columns they alias) -> what orders cool's summaries.
_SORT: dict[str, Callable[[Summary], Any]] = {
    "created_at": lambda s: s.created_at,
    "name": lambda s: s.name,
    "updated_at": lambda s: s.state.updated_at,
    "status": lambda s: stack_views.heat_status(s.state.status),
}
_CHUNK = 256  # summaries read at once (pipelined)
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
        else:
            services.authorizer.require("cool:build:list", context)
        listed = None if everyone else project_id
        limit_text = query.get("limit", [None])[-1]
        # Heat has no default limit, and heatclient follows no next link: the largest page.
        limit = paging.limit(
            {"limit": limit_text} if limit_text is not None else {},
            default=settings.max_limit,
            maximum=settings.max_limit,
        )
        keys = _sort_keys(query)
        descending = _sort_dir(query)
        marker = query.get("marker", [None])[-1]
        counted = _flag(query, "with_count")
        keep = _Filter(services, query, show_deleted=_flag(query, "show_deleted"))
        if keys == ["created_at"] and descending and not counted:
            page, count = _newest_first(services, listed, keep, marker, limit), None
        else:
            page, count = _sorted(
                services,
                services.store.newest_builds(listed),
                keep,
                keys=keys,
                descending=descending,
                marker=marker,
                limit=limit,
            )
        stacks = []
        for item in page:
            full = keep.complete(item)
            if full is not None:  # None: pruned since it was listed
                shown = stack_views.summary(req, _meta(full), full.state, with_project=everyone)
                stacks.append(shown)
        body: dict[str, Any] = {"stacks": stacks}
        if page and len(page) == limit:
            params = {**query, "marker": [page[-1].build_id]}
            href = f"{req.prefix}{req.path}?{urlencode(params, doseq=True)}"
            body["links"] = [{"href": href, "rel": "next"}]
        if counted:
            body["count"] = count
        resp.media = body


def _newest_first(
    services: Services,
    project_id: str | None,
    keep: _Filter,
    marker: str | None,
    limit: int,
) -> list[Summary]:
    """The index's own order (newest first): summaries are read from the marker on, in
    growing batches, until the page is full (at most max_scan)."""
    if marker is not None and not services.store.is_indexed(project_id, marker):
        raise _not_found(marker)
    candidates = services.store.newest_builds(project_id, before=marker)
    page: list[Summary] = []
    batch = min(limit + 1, _CHUNK)
    left = services.settings.max_scan
    while left > 0 and len(page) < limit:
        chunk = list(islice(candidates, min(batch, left)))
        if not chunk:
            break
        left -= len(chunk)
        page.extend(keep.filtered(services.store.summaries(chunk)))
        batch = min(batch * 2, _CHUNK)
    return page[:limit]


def _sorted(
    services: Services,
    candidates: Iterator[tuple[str, str]],
    keep: _Filter,
    *,
    keys: list[str],
    descending: bool,
    marker: str | None,
    limit: int,
) -> tuple[list[Summary], int]:
    """Any other order: Heat sorts in its database; cool sorts the newest max_scan."""
    items: list[Summary] = []
    left = services.settings.max_scan
    while left > 0:
        chunk = list(islice(candidates, min(_CHUNK, left)))
        if not chunk:
            break
        left -= len(chunk)
        items.extend(keep.filtered(services.store.summaries(chunk)))
    items.sort(key=lambda s: (*(_SORT[k](s) for k in keys), s.build_id), reverse=descending)
    count = len(items)
    if marker is not None:
        ids = [s.build_id for s in items]
        if marker not in ids:
            raise _not_found(marker)
        items = items[ids.index(marker) + 1 :]
    return items[:limit], count


def _meta(item: Summary) -> BuildMeta:
    """What a list shows of a build (stack_views.summary), from its summary: the fields
    a list does not show (deadline, timeout) are not read, and left empty here."""
    return BuildMeta(
        build_id=item.build_id,
        project_id=item.project_id,
        user_id=item.user_id or "",
        name=item.name,
        created_at=item.created_at,
        deadline=0.0,
        timeout_mins=0,
        rollback=True,
        tags=item.tags or (),
    )


def _sort_keys(query: dict[str, list[str]]) -> list[str]:
    """The sort keys, each once (so at most the four there are)."""
    keys: list[str] = []
    for text in query.get("sort_keys", []):
        for word in filter(None, (k.strip() for k in text.split(","))):
            key = _SORT_ALIASES.get(word, word)
            if key not in _SORT:
                known = ", ".join(sorted({*_SORT, *_SORT_ALIASES}))
                raise paging.problem("sort_keys", f"Invalid sort key {key[:40]!r} (known: {known})")
            if key not in keys:
                keys.append(key)
    return keys or ["created_at"]


def _sort_dir(query: dict[str, list[str]]) -> bool:
    """True: descending (Heat's default)."""
    text = query.get("sort_dir", ["desc"])[-1].lower()
    if text not in ("asc", "desc"):
        raise paging.problem("sort_dir", f"Unknown sort direction {text[:40]!r}: asc or desc")
    return text == "desc"


def _tags(query: dict[str, list[str]], name: str) -> set[str]:
    return {t for text in query.get(name, []) for t in text.split(",") if t}


class _Filter:
    """Heat's list filters: each a list of accepted values; ``status`` is Heat's status
    word (COMPLETE) or the whole ACTION_STATUS. The tag filters are Heat's
    (heat/db/api.py _query_stack_get_all), each comma-separated: ``tags`` all of them,
    ``tags_any`` any of them, ``not_tags`` not all of them, ``not_tags_any`` none."""

    def __init__(
        self, services: Services, query: dict[str, list[str]], *, show_deleted: bool
    ) -> None:
        self.services = services
        self.show_deleted = show_deleted
        self.ids = set(query.get("id", []))
        self.names = set(query.get("name", []))
        self.statuses = {s.upper() for s in query.get("status", [])}
        self.actions = {a.upper() for a in query.get("action", [])}
        self.tags = _tags(query, "tags")
        self.tags_any = _tags(query, "tags_any")
        self.not_tags = _tags(query, "not_tags")
        self.not_tags_any = _tags(query, "not_tags_any")

    def complete(self, item: Summary) -> Summary | None:
        """The summary with its user and tags: from the plan for a build indexed
        before they were (None if it was pruned meanwhile)."""
        if item.tags is not None and item.user_id is not None:
            return item
        try:
            meta, _ = self.services.store.meta_and_plan(item.build_id)
        except BuildNotFoundError:
            return None
        return replace(item, user_id=meta.user_id, tags=meta.tags)

    def filtered(self, items: list[Summary]) -> list[Summary]:
        out = []
        for item in items:
            if self._kept(item):
                full = self.complete(item) if self._by_tags else item
                if full is not None and self._tagged(full.tags or ()):
                    out.append(full)
        return out

    @property
    def _by_tags(self) -> bool:
        return bool(self.tags or self.tags_any or self.not_tags or self.not_tags_any)

    def _tagged(self, tags: tuple[str, ...]) -> bool:
        has = set(tags)
        return (
            self.tags <= has
            and (not self.tags_any or bool(self.tags_any & has))
            and (not self.not_tags or not self.not_tags <= has)
            and not self.not_tags_any & has
        )

    def _kept(self, item: Summary) -> bool:
        full = stack_views.heat_status(item.state.status)
        action, _, status = full.partition("_")
        if item.state.status is BuildStatus.DELETE_COMPLETE and not self.show_deleted:
            return False
        return (
            (not self.ids or item.build_id in self.ids)
            and (not self.names or item.name in self.names)
            and (not self.statuses or status in self.statuses or full in self.statuses)
            and (not self.actions or action in self.actions)
        )


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
