"""What every handler is given: the store, policy, limits and metrics of one app.

Built once per process by :func:`cool.api.app.build` and passed to each
handler; nothing here is a module-level singleton.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import falcon
from oslo_context.context import RequestContext

from cool.api.auth import ENV_CONTEXT
from cool.api.bodies import FileLimits
from cool.api.metrics import ApiMetrics
from cool.api.policy import Authorizer
from cool.clouds.openstack.credentials import Trusts
from cool.errors import BuildNotFoundError, PolicyNotAuthorizedError
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.control import Requests
from cool.store.layout import PROJECT_ID, USER_ID, is_build_id
from cool.store.workers import WorkerRegistry
from cool.template.parse import Limits


@dataclass(frozen=True, slots=True)
class Settings:
    default_limit: int = 100
    max_limit: int = 1000
    max_event_wait_s: float = 60.0
    max_name_length: int = 255
    max_waiters: int = 16  # long-polls waiting at once in one process
    max_scan: int = 5000  # builds a filtered list reads at most per page (5 x max_limit)
    file_limits: FileLimits = field(default_factory=FileLimits)  # files, environments


@dataclass(frozen=True, slots=True)
class Services:
    store: BuildStore
    requests: Requests
    workers: WorkerRegistry
    registry: ResourceTypeRegistry
    authorizer: Authorizer
    limits: Limits
    metrics: ApiMetrics
    settings: Settings
    trusts: Trusts | None = None  # builds act through Keystone trusts: make one per submit

    def caller(self, req: falcon.Request) -> RequestContext:
        """The authenticated caller, whose project and user can name znodes."""
        context: RequestContext | None = req.env.get(ENV_CONTEXT)
        if context is None:  # a route that skipped authentication: a wiring bug
            raise PolicyNotAuthorizedError("no authenticated caller")
        if not PROJECT_ID.fullmatch(context.project_id or ""):
            raise PolicyNotAuthorizedError(
                "a project-scoped token is needed (the token's project id is missing or unusable)"
            )
        if not USER_ID.fullmatch(context.user_id or ""):
            raise PolicyNotAuthorizedError("the token's user id is missing or unusable")
        return context


def checked_build_id(build_id: str) -> str:
    """404 for anything that cannot be a build id, before ZooKeeper is asked."""
    if not is_build_id(build_id):
        raise BuildNotFoundError("no such build")
    return build_id
