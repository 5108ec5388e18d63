"""What Heat's API does and cool does not: refused in Heat's fault body.

Each is a 400 ``NotSupported``, the answer Heat itself gives for a feature its
deployment has turned off (``enable_stack_abandon``, ``enable_stack_adopt``) or a
stack action it cannot take now; the message says what cool offers instead. A
stack's URL is checked first, so an unknown stack is still a 404.
"""

from __future__ import annotations

from typing import Any

import falcon

from cool.api.heat import identify
from cool.api.heat.stack_bodies import NotSupportedError
from cool.api.services import Services

UPDATE = (
    "Stack update is not supported by cool yet (PUT and PATCH): delete the stack and "
    "create it again with the changed template"
)
ABANDON = "Stack Abandon is not supported by cool: delete the stack instead"
SNAPSHOT = "Stack Snapshot is not supported by cool"
EXPORT = "Stack Export is not supported by cool: read the stack's template, environment and files"
ACTIONS = (
    "Stack actions (suspend, resume, check, cancel_update, cancel_without_rollback) are not "
    "supported by cool: to stop a create in progress, delete the stack"
)
SOFTWARE_CONFIG = "Software configs and deployments are not supported by cool"
BUILD_INFO = "Heat's build_info is not supported by cool: see GET / for cool's API versions"
SERVICES = "Heat's engine services are not supported by cool: see GET /v1/workers"


class StackFeature:
    """A stack's sub-path cool does not serve (``/stacks/{name}/{id}/...``)."""

    def __init__(self, services: Services, message: str) -> None:
        self.services = services
        self.message = message

    def _refuse(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        stack_name: str,
        stack_id: str,
        **_: Any,
    ) -> None:
        identify.stack(self.services, req, project_id, stack_name, stack_id)
        raise NotSupportedError(self.message)

    on_get = on_post = on_put = on_patch = on_delete = _refuse


class Feature:
    """A project-level path of Heat's cool does not serve (``/software_configs``...)."""

    def __init__(self, services: Services, message: str) -> None:
        self.services = services
        self.message = message

    def _refuse(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, **_: Any
    ) -> None:
        identify.caller(self.services, req, project_id)
        raise NotSupportedError(self.message)

    on_get = on_post = on_put = on_patch = on_delete = _refuse


def resources(services: Services) -> list[tuple[str, object]]:
    """The refused routes, relative to ``/v1/{project_id}``."""
    stack = "/stacks/{stack_name}/{stack_id}"
    return [
        (stack + "/preview", StackFeature(services, UPDATE)),
        (stack + "/abandon", StackFeature(services, ABANDON)),
        (stack + "/export", StackFeature(services, EXPORT)),
        (stack + "/actions", StackFeature(services, ACTIONS)),
        (stack + "/snapshots", StackFeature(services, SNAPSHOT)),
        (stack + "/snapshots/{snapshot_id}", StackFeature(services, SNAPSHOT)),
        (stack + "/snapshots/{snapshot_id}/restore", StackFeature(services, SNAPSHOT)),
        ("/software_configs", Feature(services, SOFTWARE_CONFIG)),
        ("/software_configs/{config_id}", Feature(services, SOFTWARE_CONFIG)),
        ("/software_deployments", Feature(services, SOFTWARE_CONFIG)),
        ("/software_deployments/{deployment_id}", Feature(services, SOFTWARE_CONFIG)),
        ("/software_deployments/metadata/{server_id}", Feature(services, SOFTWARE_CONFIG)),
        ("/build_info", Feature(services, BUILD_INFO)),
        ("/services", Feature(services, SERVICES)),
    ]
