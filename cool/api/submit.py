"""``POST /v1/builds`` (submit) and ``POST /v1/validate`` (the dry run).

Both read a template request (:mod:`cool.api.bodies`) and compile it; every
problem, with the request and with the template, comes back in one 400.
A submit then stores the plan in one ZooKeeper transaction and answers 202
at once; with an ``Idempotency-Key``, a retried submit answers with the
build the first one made.

When builds act through Keystone trusts (``Services.trusts``), a submit
makes the build's trust before the transaction, and deletes it again if the
transaction fails or the request turns out to replay an earlier build (a
replay found before the trust is made makes none). The trust is recorded in
ZooKeeper as soon as Keystone has made it (``TrustRecords.hold``), and
the build's transaction removes that record: if this process dies in
between, or a deletion here fails, the GC deletes the trust later. Whether
the build holds a trust is not shown in the API: its id is of no use to the
caller.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import falcon
from oslo_context.context import RequestContext

from cool.api import bodies, views
from cool.api.errors import request_id
from cool.api.services import Services
from cool.api.source import build_source
from cool.clouds.openstack.credentials import Trusts
from cool.errors import (
    CoolError,
    NotAuthenticatedError,
    RequestInvalidError,
    RequestProblem,
    SubmitOutcomeUnknownError,
)
from cool.store.builds import Idempotency
from cool.store.layout import new_build_id
from cool.store.records import BuildMeta
from cool.store.scaling import Recipe
from cool.template.compile import Report, check
from cool.template.problems import Problem

LOG = logging.getLogger(__name__)


def compile_request(
    services: Services, request: bodies.TemplateRequest, values: dict[str, Any] | None
) -> Report:
    """The template checked; request and template problems raised together."""
    report = check(
        request.text,
        services.registry,
        values,
        services.limits,
        environments=request.environments,
        files=request.files,
    )
    problems: list[Problem | RequestProblem] = list(request.problems)
    if request.parameters_in_url:
        # URLs end up in access logs: a hidden parameter's value must not travel in one.
        problems.extend(
            RequestProblem(
                "cool.request.hidden_parameter_in_url",
                f"parameter {spec.name!r} is hidden: send its value in a JSON body "
                "('parameters'), not in the URL, which proxies and servers log",
                parameter="parameter",
            )
            for spec in report.parameters
            if spec.hidden and spec.name in (request.parameters or {})
        )
    if request.text or not request.problems:
        problems.extend(
            _located(p, request.environment_is_text if p.file else request.is_text)
            for p in report.problems
        )
    if problems:
        raise RequestInvalidError(problems)
    return report


def _located(problem: Problem, is_text: bool) -> Problem:
    """A template (or environment) sent as a JSON object has no lines of its own:
    only pointers."""
    if is_text:
        return problem
    return replace(problem, line=None, column=None)


def submit(services: Services, req: falcon.Request, resp: falcon.Response) -> None:
    context = services.caller(req)
    services.authorizer.require("cool:build:create", context)
    request = bodies.parse_template_request(
        req,
        max_template_bytes=services.limits.max_size,
        max_name_length=services.settings.max_name_length,
        file_limits=services.settings.file_limits,
    )
    idempotency = None
    if not request.problems:
        idempotency = bodies.idempotency(req, context.user_id, request.digest())
    meta, created = create(services, req, context, request, idempotency)
    _accepted(services, req, resp, meta.build_id, replayed=not created)


def create(
    services: Services,
    req: falcon.Request,
    context: RequestContext,
    request: bodies.TemplateRequest,
    idempotency: Idempotency | None = None,
    *,
    tags: tuple[str, ...] = (),
) -> tuple[BuildMeta, bool]:
    """The build a request makes once checked (or the one its Idempotency-Key made),
    and whether it is new: the native submit and Heat's stack create both store here."""
    # A replay is found by submit_once, with the key's one read, before it writes.
    report = compile_request(services, request, request.parameters or {})
    assert report.plan is not None
    source = build_source(
        request.text,
        report.plan,
        services.limits,
        parameters=request.parameters,
        environments=request.environments,
        files=request.files,
    )
    build_id = new_build_id()
    trust_id = ""
    if services.trusts is not None:
        if idempotency is not None:  # a replay needs no trust: look before making one
            earlier = services.store.idempotent_build(context.project_id, idempotency)
            if earlier is not None:
                return earlier, False
        trust_id = _delegate(services.trusts, req, context, build_id)
        try:
            services.store.trust_records.hold(trust_id, build_id)
        except Exception:
            _drop(services, trust_id, build_id, "it could not be recorded", held=False)
            raise
    try:
        meta, created = services.store.submit_once(
            report.plan,
            project_id=context.project_id,
            user_id=context.user_id,
            name=request.name,
            timeout_mins=request.timeout_mins,
            rollback=request.rollback,
            request_id=request_id(req.env),
            build_id=build_id,
            idempotency=idempotency,
            trust_id=trust_id,
            source=source,
            tags=tags,
            recipe=_recipe(request) if report.plan.scales else None,
        )
    except SubmitOutcomeUnknownError:
        if trust_id:  # the build may exist, and hold it: the GC decides, later
            LOG.warning(
                "build %s: stored or not, unknown; its trust %s is kept (the GC deletes it "
                "if the build was not stored)",
                build_id,
                trust_id,
            )
        raise
    except Exception:
        if trust_id:
            _drop(services, trust_id, build_id, "the build was not stored")
        raise
    if created:
        services.metrics.builds_submitted.inc()
    elif trust_id:
        _drop(services, trust_id, build_id, f"the request replays build {meta.build_id}")
    return meta, created


def _recipe(request: bodies.TemplateRequest) -> dict[str, Any]:
    """What a resize compiles again (cool.store.scaling): the request as it came."""
    return Recipe(
        template=_text(request.text),
        parameters=dict(request.parameters or {}),
        environments=tuple((e.name, _text(e.text)) for e in request.environments),
        files=dict(request.files),
    ).to_dict()


def _text(text: str | bytes) -> str:
    return text.decode("utf-8", "surrogateescape") if isinstance(text, bytes) else text


def _delegate(trusts: Trusts, req: falcon.Request, context: RequestContext, build_id: str) -> str:
    """A trust from the caller to cool's service user, made with the caller's token
    (keystonemiddleware validated it and leaves it in X-Auth-Token), delegating the
    token's roles (implied ones included, which Keystone accepts) on its project."""
    token = req.get_header("X-Auth-Token") or context.auth_token
    if not token:
        raise NotAuthenticatedError("a Keystone token is needed to delegate your roles to cool")
    started = time.monotonic()
    trust_id = trusts.create(token, context.user_id, context.project_id, context.roles)
    LOG.info(
        "build %s: trust %s from user %s on project %s (%.0f ms)",
        build_id,
        trust_id,
        context.user_id,
        context.project_id,
        (time.monotonic() - started) * 1000,
    )
    return trust_id


def _drop(services: Services, trust_id: str, build_id: str, why: str, *, held: bool = True) -> None:
    """Delete a trust no build holds, then its record. A failure leaves it: when it is
    recorded (``held``), for the GC to delete later; when not, logged."""
    assert services.trusts is not None
    try:
        services.trusts.delete(trust_id)
    except CoolError as exc:
        later = "the GC deletes it later" if held else "left in Keystone"
        LOG.warning(
            "build %s: trust %s not deleted (%s; %s): %s", build_id, trust_id, why, later, exc
        )
        return
    LOG.info("build %s: trust %s deleted: %s", build_id, trust_id, why)
    if held:
        try:
            services.store.trust_records.release(trust_id)
        except CoolError as exc:  # its record stays: the GC finds the trust gone
            LOG.warning("build %s: record of deleted trust %s kept: %s", build_id, trust_id, exc)


def _accepted(
    services: Services, req: falcon.Request, resp: falcon.Response, build_id: str, *, replayed: bool
) -> None:
    store = services.store
    state = store.stored_state(build_id)
    meta, _ = store.meta_and_plan(build_id)  # cached: it was just stored or looked up
    if state is None:  # a replay: the build may have moved on since
        state, _ = store.state(build_id)
    resp.status = falcon.HTTP_202
    resp.location = f"{req.prefix}/v1/builds/{build_id}"
    if replayed:
        resp.set_header("Idempotent-Replayed", "true")
    resp.media = {"build": views.build(meta, state, req.prefix)}


class Validate:
    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        services = self.services
        context = services.caller(req)
        services.authorizer.require("cool:build:validate", context)
        request = bodies.parse_template_request(
            req,
            max_template_bytes=services.limits.max_size,
            max_name_length=services.settings.max_name_length,
            file_limits=services.settings.file_limits,
            fields=bodies.VALIDATE_FIELDS,
        )
        report = compile_request(services, request, request.parameters)
        resp.media = {
            "valid": True,
            "levels": [list(level) for level in report.levels],
            "resources": [
                {
                    "name": name,
                    "type": report.resource_types.get(name, ""),
                    "depends_on": list(report.dependencies.get(name, ())),
                    "level": level,
                }
                for level, names in enumerate(report.levels)
                for name in names
            ],
            "parameters": [spec.to_dict() for spec in report.parameters],
            "missing_parameters": list(report.missing),
        }
