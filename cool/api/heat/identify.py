"""Which stack a Heat request names, and Heat's 302 lookup from a name or an id.

Every Heat URL carries the caller's project id: one that is not the token's is a
403, as in Heat (heat/api/openstack/v1/util.py). A stack is named by its name
(among the project's live stacks: one ZooKeeper read) or by its id, which is the
build id and also finds a stack deleted but not yet pruned (DELETE_COMPLETE), as
Heat's identify_stack finds soft-deleted stacks. A stack of another project is
not found (404), never forbidden: no existence leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import falcon
from oslo_context.context import RequestContext

from cool.api.heat.paths import stack_url
from cool.api.services import Services
from cool.errors import BuildNotFoundError, PolicyNotAuthorizedError
from cool.model import Plan
from cool.store.layout import is_build_id
from cool.store.records import BuildMeta

# The sub-paths a lookup by name or id redirects with (Heat's stack_lookup_subpath).
LOOKUP_SUBPATHS = ("resources", "events", "template", "environment", "files", "actions")


@dataclass(frozen=True, slots=True)
class Found:
    """A stack the caller may read: the build's write-once part."""

    meta: BuildMeta
    plan: Plan

    @property
    def stack_id(self) -> str:
        return self.meta.build_id

    @property
    def name(self) -> str:
        return self.meta.name


def caller(services: Services, req: falcon.Request, project_id: str) -> RequestContext:
    """The authenticated caller, whose token's project must be the one in the URL."""
    context = services.caller(req)
    if project_id != context.project_id:
        raise PolicyNotAuthorizedError(
            f"the URL's project {project_id!r} is not the token's project; use "
            f"/v1/{context.project_id}/..."
        )
    return context


def stack_by_id(
    services: Services, context: RequestContext, stack_id: str, rule: str = "cool:build:get"
) -> Found:
    """A stack by its id (a deleted one too, until it is pruned)."""
    if not is_build_id(stack_id):
        raise BuildNotFoundError(f"The Stack ({stack_id}) could not be found.")
    try:
        meta, _ = services.store.meta_and_plan(stack_id)
    except BuildNotFoundError:
        raise BuildNotFoundError(f"The Stack ({stack_id}) could not be found.") from None
    if meta.project_id != context.project_id:
        raise BuildNotFoundError(f"The Stack ({stack_id}) could not be found.")
    services.authorizer.build(rule, context, meta.project_id, stack_id)
    return Found(meta, services.store.live_plan(stack_id))  # a resized one's newest


def stack_by_name_or_id(
    services: Services, context: RequestContext, name_or_id: str, rule: str = "cool:build:get"
) -> Found:
    """Heat's identify_stack: an id (a build id) first, else a live stack's name."""
    if is_build_id(name_or_id):
        try:
            return stack_by_id(services, context, name_or_id, rule)
        except BuildNotFoundError:
            pass  # a name that looks like an id, as Heat falls back to the name
    stack_id = services.store.find_by_name(context.project_id, name_or_id)
    if stack_id is None:
        raise BuildNotFoundError(f"The Stack ({name_or_id}) could not be found.")
    return stack_by_id(services, context, stack_id, rule)


def stack(
    services: Services,
    req: falcon.Request,
    project_id: str,
    name: str,
    stack_id: str,
    *,
    rule: str = "cool:build:get",
) -> tuple[RequestContext, Found]:
    """The stack of a canonical URL (``/stacks/{name}/{id}``): the id decides; a name
    that is not the stack's is a 404, as in Heat."""
    context = caller(services, req, project_id)
    found = stack_by_id(services, context, stack_id, rule)
    if found.name != name:
        raise BuildNotFoundError(f"The Stack ({name}/{stack_id}) could not be found.")
    return context, found


class StackLookup:
    """``/v1/{project_id}/stacks/{stack}`` (every method) and its sub-paths (GET, and
    POST where Heat routes it): a 302 to the canonical URL, absolute, with the query
    kept (keystoneauth re-sends the same method and body there, and drops the query
    it sent, relying on the Location's; heatclient reads ``name/id`` after /stacks/)."""

    def __init__(self, services: Services, subpath: str | None = None) -> None:
        self.services = services
        self.subpath = subpath

    def _redirect(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, stack_name: str
    ) -> None:
        context = caller(self.services, req, project_id)
        found = stack_by_name_or_id(self.services, context, stack_name)
        location = stack_url(req, project_id, found.name, found.stack_id)
        if self.subpath:
            location += f"/{self.subpath}"
        if req.params:
            location += "?" + urlencode(req.params, doseq=True)
        resp.status = falcon.HTTP_302
        resp.location = location
        resp.media = {
            "code": "302 Found",
            "message": f"The resource was found at {location};\nyou should be redirected "
            "automatically.",
            "title": "Found",
        }

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, stack_name: str
    ) -> None:
        self._redirect(req, resp, project_id, stack_name)

    on_head = on_get

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, stack_name: str
    ) -> None:
        self._redirect(req, resp, project_id, stack_name)

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, stack_name: str
    ) -> None:
        self._redirect(req, resp, project_id, stack_name)

    def on_patch(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, stack_name: str
    ) -> None:
        self._redirect(req, resp, project_id, stack_name)

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, stack_name: str
    ) -> None:
        self._redirect(req, resp, project_id, stack_name)
