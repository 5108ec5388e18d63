"""A stack's resources as Heat shows them: list, show, metadata, and their events.

A nested resource is named by cool's path (``web/0/port``) and addressed by it:
heatclient quotes a resource name keeping its slashes, so everything after
``/resources/`` is one path (a falcon ``path`` field) read as ``<resource>``,
``<resource>/metadata``, ``<resource>/signal``, ``<resource>/events`` or
``<resource>/events/<id>``; a whole path naming a resource is that resource.
``nested_depth`` counts the levels of nested templates and groups below the
template's own resources, as in Heat.
"""

from __future__ import annotations

from typing import Any

import falcon

from cool.api import scaling
from cool.api.errors import request_id
from cool.api.heat import events, identify
from cool.api.heat.identify import Found
from cool.api.heat.paths import stack_url
from cool.api.heat.resource_views import attributes, required_by, resource
from cool.api.heat.stack_bodies import NotSupportedError
from cool.api.services import Services
from cool.api.signals import book_of, cfn_signal, signal_body
from cool.errors import BuildNotFoundError, RequestInvalidError, RequestProblem
from cool.model import SCALING_POLICY, ResourceSpec
from cool.resources.schema import COMMON_ATTRIBUTES
from cool.store.signals import CFN_HANDLE as CFN

RESOURCES_RULE = "cool:build:resources"
SIGNAL_RULE = "cool:build:signal"
HANDLE = "OS::Heat::WaitConditionHandle"
CFN_HANDLE_TYPE = "AWS::CloudFormation::WaitConditionHandle"
HANDLES = (HANDLE, "OS::Heat::UpdateWaitConditionHandle", CFN_HANDLE_TYPE)
_FILTERS = ("type", "status", "name", "action", "id", "physical_resource_id")
_SUFFIXES = ("metadata", "signal", "events")


def _true(query: dict[str, Any], name: str) -> bool:
    text = events.single(query, name)
    if text is None:
        return False
    value = {"true": True, "1": True, "yes": True, "y": True, "t": True, "on": True}
    if text.lower() in value:
        return True
    if text.lower() in ("false", "0", "no", "n", "f", "off"):
        return False
    raise events.bad(
        f"Unrecognized value '{text[:40]}' for '{name}', acceptable values are: "
        "'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
        name,
    )


def _matches(shown: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    status = shown["resource_status"]
    checks = {
        "type": (shown["resource_type"],),
        "status": (status.partition("_")[2], status),
        "name": (shown["resource_name"],),
        "action": (status.partition("_")[0],),
        "id": (shown["resource_name"],),  # cool's resources have no id of their own
        "physical_resource_id": (shown["physical_resource_id"],),
    }
    return all(any(v in checks[k] for v in values) for k, values in filters.items() if values)


class Resources:
    """``GET .../stacks/{stack_name}/{stack_id}/resources``."""

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
            self.services, req, project_id, stack_name, stack_id, rule=RESOURCES_RULE
        )
        query = events.params(req)
        unknown = sorted(set(query) - {*_FILTERS, "nested_depth", "with_detail"})
        if unknown:
            raise RequestInvalidError(
                [
                    RequestProblem(
                        "cool.request.unknown_parameter",
                        f"Invalid filter parameters {unknown}",
                        parameter=unknown[0],
                    )
                ]
            )
        depth = events.whole(query, "nested_depth") or 0
        detail = _true(query, "with_detail")
        filters = {key: events.many(query, key) for key in _FILTERS}
        url = stack_url(req, project_id, found.name, found.stack_id)
        records = self.services.store.resources(found.stack_id)
        needed = required_by(found.plan)
        out = []
        for spec in found.plan.resources:
            if spec.name.count("/") > depth:
                continue
            record = records.get(spec.name)
            if not found.plan.shows(spec.name, str(record[0].status) if record else None):
                continue
            shown = resource(
                spec,
                record[0] if record else None,
                stack_url=url,
                created_at=found.meta.created_at,
                required=needed[spec.name],
            )
            if not _matches(shown, filters):
                continue
            if detail:
                shown["description"] = ""
                shown["attributes"] = attributes(
                    record[0] if record else None, _names(self.services, spec)
                )
            out.append(shown)
        resp.media = {"resources": out}


def _names(services: Services, spec: ResourceSpec) -> list[str]:
    rtype = services.registry.get(spec.type)
    names = sorted(rtype.attributes) if rtype is not None else []
    return [n for n in names if n not in COMMON_ATTRIBUTES]


class Resource:
    """Everything under ``.../resources/``: a resource, its metadata, its signal, its
    events and one of them."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def _target(
        self, req: falcon.Request, project_id: str, stack_name: str, stack_id: str, rule: str
    ) -> tuple[Found, str]:
        _, found = identify.stack(self.services, req, project_id, stack_name, stack_id, rule=rule)
        return found, stack_url(req, project_id, found.name, found.stack_id)

    @staticmethod
    def _split(found: Found, path: str) -> tuple[str, str | None, str | None]:
        """(resource, what, event id): what is None (the resource), metadata, signal or
        events. The stack's own name has its stack-level events, as in Heat."""
        names = {spec.name for spec in found.plan.resources}
        if path in names:
            return path, None, None
        head, _, last = path.rpartition("/")
        known = names | {found.name}
        if last in _SUFFIXES and head in known:
            return head, last, None
        first, _, middle = head.rpartition("/")
        if middle == "events" and first in known:
            return first, "event", last
        if path == found.name:
            return path, None, None
        raise BuildNotFoundError(f"The Resource ({path}) could not be found in Stack {found.name}.")

    def on_get(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        *,
        project_id: str,
        stack_name: str,
        stack_id: str,
        resource_path: str,
    ) -> None:
        services = self.services
        found, url = self._target(req, project_id, stack_name, stack_id, events.EVENTS_RULE)
        name, what, event_id = self._split(found, resource_path)
        if what == "events":
            resp.media = events.listing(services, req, found, url, resource_name=name)
            return
        if what == "event" and event_id is not None:
            resp.media = events.show(services, found, url, name, event_id)
            return
        services.authorizer.build(
            RESOURCES_RULE, services.caller(req), found.meta.project_id, found.stack_id
        )
        try:
            spec = found.plan.resource(name)
        except KeyError:
            raise BuildNotFoundError(
                f"The Resource ({name}) could not be found in Stack {found.name}."
            ) from None
        if what == "metadata":
            resp.media = {"metadata": spec.metadata}
            return
        if what == "signal":
            raise falcon.HTTPMethodNotAllowed(["POST"])
        record = services.store.resources(found.stack_id).get(name)
        shown = resource(
            spec,
            record[0] if record else None,
            stack_url=url,
            created_at=found.meta.created_at,
            required=required_by(found.plan)[name],
        )
        shown["description"] = ""
        extra = [a for a in events.many(events.params(req), "with_attr") if a]
        shown["attributes"] = attributes(
            record[0] if record else None, _names(services, spec), extra
        )
        resp.media = {"resource": shown}

    def on_patch(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        *,
        project_id: str,
        stack_name: str,
        stack_id: str,
        resource_path: str,
    ) -> None:
        found, _ = self._target(req, project_id, stack_name, stack_id, RESOURCES_RULE)
        name, what, _ = self._split(found, resource_path)
        if what is not None:
            raise falcon.HTTPMethodNotAllowed(["GET"])
        raise NotSupportedError(
            f"cool cannot mark resource {name} unhealthy: cool does not update stacks yet."
        )

    def on_post(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        *,
        project_id: str,
        stack_name: str,
        stack_id: str,
        resource_path: str,
    ) -> None:
        found, _ = self._target(req, project_id, stack_name, stack_id, SIGNAL_RULE)
        name, what, _ = self._split(found, resource_path)
        if what != "signal":
            raise falcon.HTTPMethodNotAllowed(["GET", "PATCH"])
        spec = found.plan.resource(name) if name != found.name else None
        if spec is None or spec.type not in (*HANDLES, SCALING_POLICY):
            kind = spec.type if spec is not None else "the stack"
            raise NotSupportedError(
                f"Signal resource during {name} ({kind}) is not supported: cool takes "
                f"signals for {HANDLE} and {SCALING_POLICY} resources."
            )
        body = signal_body(req)
        if spec.type == SCALING_POLICY:
            scaling.resize(
                self.services, found.stack_id, name, body, request_id=request_id(req.env)
            )
        elif spec.type == CFN_HANDLE_TYPE:  # Heat takes the AWS form through its API too
            book_of(self.services).send(
                found.stack_id, name, cfn_signal(body), token=None, trusted=True, kinds=(CFN,)
            )
        else:
            book_of(self.services).send(found.stack_id, name, body, token=None, trusted=True)
        resp.status = falcon.HTTP_200
        resp.content_type = falcon.MEDIA_JSON
        resp.text = "null"  # Heat's answer
