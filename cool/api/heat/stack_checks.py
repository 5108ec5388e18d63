"""Heat's ``POST /validate`` and ``POST /stacks/preview``: what a create would do,
nothing stored. Both compile as a create does (:func:`cool.api.submit.compile_request`)
and answer in Heat's shapes (heat/engine/api.py format_validate_parameter,
format_stack with ``preview``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import falcon

from cool.api import submit
from cool.api.heat import identify, stack_bodies, stack_views
from cool.api.services import Services
from cool.api.source import data_of, shown_environment
from cool.model import BuildStatus, ParameterSpec, ParameterType, ParameterValue
from cool.store.records import MASK, BuildMeta, BuildState
from cool.template.values import secret_texts

_CFN_TYPES = {
    ParameterType.STRING: "String",
    ParameterType.NUMBER: "Number",
    ParameterType.COMMA_DELIMITED_LIST: "CommaDelimitedList",
    ParameterType.JSON: "Json",
    ParameterType.BOOLEAN: "Boolean",
}


class StackPreview(identify.StackLookup):
    """``POST /stacks/preview``: the stack a create would make, with its resources;
    nothing stored. Its other methods are the lookup of a stack named ``preview``."""

    def on_post(  # type: ignore[override]
        self, req: falcon.Request, resp: falcon.Response, project_id: str
    ) -> None:
        services = self.services
        context = identify.caller(services, req, project_id)
        services.authorizer.require("cool:build:validate", context)
        body = stack_bodies.read(req, services)
        request = body.request
        report = submit.compile_request(services, request, request.parameters or {})
        assert report.plan is not None
        plan = report.plan
        now = time.time()
        meta = BuildMeta(
            build_id="None",
            project_id=project_id,
            user_id=context.user_id or "",
            name=request.name,
            created_at=now,
            deadline=now,
            timeout_mins=request.timeout_mins or 0,
            rollback=request.rollback,
            tags=body.tags,
        )
        shown = stack_views.stack(req, meta, plan, BuildState(BuildStatus.CREATE_QUEUED))
        for key in ("stack_status", "stack_status_reason"):
            shown.pop(key)  # Heat's preview has no status
        shown["timeout_mins"] = request.timeout_mins
        own = [spec for spec in plan.resources if spec.parent is None]
        secrets = _secrets(plan.parameters)
        identity = {"stack_id": "None", "stack_name": meta.name, "tenant": project_id}
        shown["resources"] = [
            {
                "resource_name": spec.name,
                "resource_type": spec.type,
                "properties": _masked(spec.properties, secrets),
                "required_by": [r.name for r in own if spec.name in r.depends_on],
                "attributes": {},
                "description": "",
                "metadata": spec.metadata,
                "physical_resource_id": "",
                "resource_action": "INIT",
                "resource_status": "COMPLETE",
                "resource_status_reason": "",
                "resource_identity": {**identity, "path": f"/resources/{spec.name}"},
                "stack_identity": {**identity, "path": ""},
                "stack_name": meta.name,
                "creation_time": stack_views.heat_time(now),
                "updated_time": stack_views.heat_time(now),
            }
            for spec in own
        ]
        resp.media = {"stack": shown}

    def on_get(  # type: ignore[override]
        self, req: falcon.Request, resp: falcon.Response, project_id: str
    ) -> None:
        self._redirect(req, resp, project_id, "preview")

    on_head = on_get

    def on_put(  # type: ignore[override]
        self, req: falcon.Request, resp: falcon.Response, project_id: str
    ) -> None:
        self._redirect(req, resp, project_id, "preview")

    on_patch = on_put
    on_delete = on_put


class Validate:
    """``POST /validate``: Heat's answer (CFN-style parameter keys), or a 400 whose
    message lists every located problem. As Heat's validate_template, the values
    given are shown, not checked (``validate_value=False``)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        services = self.services
        context = identify.caller(services, req, project_id)
        services.authorizer.require("cool:build:validate", context)
        request = stack_bodies.read(req, services, named=False).request
        report = submit.compile_request(services, request, None)
        data = data_of(request.text, services.limits)
        given = request.parameters or {}
        hidden = {spec.name for spec in report.parameters if spec.hidden}
        environment = shown_environment(request.environments, given, hidden, services.limits)
        result: dict[str, Any] = {
            "Description": data.get("description", ""),
            "Parameters": {
                spec.name: _cfn_parameter(spec, given.get(spec.name)) for spec in report.parameters
            },
        }
        if data.get("parameter_groups"):
            result["ParameterGroups"] = data["parameter_groups"]
        result["Environment"] = environment
        resp.media = result


def _secrets(parameters: Sequence[ParameterValue]) -> list[str]:
    return secret_texts(p.value for p in parameters if p.hidden)


def _masked(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` (resolved properties) with every hidden value in it shown as Heat's mask:
    the preview shows what a create would send, never a secret the caller gave."""
    if not secrets:
        return value
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if value is not None and not isinstance(value, bool) and str(value) in secrets:
        return MASK
    return value


def _cfn_parameter(spec: ParameterSpec, value: Any) -> dict[str, Any]:
    """Heat's format_validate_parameter."""
    out: dict[str, Any] = {
        "Type": _CFN_TYPES.get(spec.type, str(spec.type)),
        "Description": spec.description,
        "NoEcho": "true" if spec.hidden else "false",
        "Label": spec.label or spec.name,
    }
    if spec.has_default:
        out["Default"] = MASK if spec.hidden else spec.default
    if value is not None:
        out["Value"] = MASK if spec.hidden else value
    descriptions = []
    for constraint in spec.constraints:
        if "length" in constraint:
            _bounds(out, constraint["length"], "MinLength", "MaxLength")
        if "range" in constraint:
            _bounds(out, constraint["range"], "MinValue", "MaxValue")
        if "modulo" in constraint and isinstance(constraint["modulo"], dict):
            out["Step"] = constraint["modulo"].get("step")
            out["Offset"] = constraint["modulo"].get("offset")
        if "allowed_values" in constraint:
            out["AllowedValues"] = list(constraint["allowed_values"] or [])
        if "allowed_pattern" in constraint:
            out["AllowedPattern"] = constraint["allowed_pattern"]
        if "custom_constraint" in constraint:
            out["CustomConstraint"] = constraint["custom_constraint"]
        if constraint.get("description"):
            descriptions.append(str(constraint["description"]))
    if descriptions:
        out["ConstraintDescription"] = " ".join(descriptions)
    return out


def _bounds(out: dict[str, Any], bounds: Any, low: str, high: str) -> None:
    if isinstance(bounds, dict):
        if bounds.get("min") is not None:
            out[low] = bounds["min"]
        if bounds.get("max") is not None:
            out[high] = bounds["max"]
