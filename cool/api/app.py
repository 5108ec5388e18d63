"""The API as one WSGI application: falcon routes inside the OpenStack middlewares.

From the outside in::

    Measure            counts and times every request (Prometheus)
    ErrorFormat        any error body not already ours -> the API-SIG format
    HTTPProxyToWSGI    scheme and host from a proxy's headers (oslo.middleware)
    RequestId          X-OpenStack-Request-ID on every request (oslo.middleware)
    dispatch           /healthcheck: oslo.middleware's Healthcheck app (ZooKeeper included);
                       /, /v1, /v1/openapi.json, /metrics: straight to the routes;
                       /v1/signals/<build>/<handle>: the body size limit, then that route
                       alone (a handle's token is checked by cool.api.signals, not Keystone)
    RequestBodySizeLimiter   413 past [oslo_middleware] max_request_body_size
    auth strategy      keystonemiddleware auth_token | htpasswd basic | noauth
    Identify           the oslo.context RequestContext for oslo.policy
    falcon             the routes and handlers
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import falcon
from falcon.routing import CompiledRouter
from oslo_config import cfg
from oslo_middleware import healthcheck, http_proxy_to_wsgi, request_id, sizelimit
from prometheus_client import CollectorRegistry

from cool import config
from cool.api import auth
from cool.api.bodies import FileLimits
from cool.api.builds import BuildCancel, BuildCollection, BuildItem, BuildResources
from cool.api.discovery import Metrics, OpenApi, Version, Versions, Workers
from cool.api.errors import (
    ErrorFormat,
    handle_cool_error,
    handle_http_error,
    handle_unexpected,
    respond,
)
from cool.api.events import BuildEvents
from cool.api.health import PROBES, ZooKeeperProbe
from cool.api.heat import routes as heat_routes
from cool.api.heat.paths import SIGNAL_PATH
from cool.api.metrics import ApiMetrics, Measure
from cool.api.policy import Authorizer, make_enforcer
from cool.api.services import Services, Settings
from cool.api.signals import HandleSignal
from cool.api.submit import Validate
from cool.clouds.openstack import credentials as openstack_credentials
from cool.errors import CoolError
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.client import BoundedClient
from cool.store.control import Requests
from cool.store.layout import Layout
from cool.store.workers import WorkerRegistry

LOG = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PUBLIC_PATHS = frozenset({"/", "/v1", "/v1/", "/v1/openapi.json", "/metrics"})
HEALTHCHECK_PATH = "/healthcheck"


def routes(app: falcon.App, services: Services) -> None:
    app.add_route("/", Versions())
    app.add_route("/v1", Version())
    app.add_route("/v1/openapi.json", OpenApi())
    app.add_route("/metrics", Metrics(services.metrics))
    app.add_route("/v1/builds", BuildCollection(services))
    app.add_route("/v1/builds/{build_id}", BuildItem(services))
    app.add_route("/v1/builds/{build_id}/cancel", BuildCancel(services))
    app.add_route("/v1/builds/{build_id}/resources", BuildResources(services))
    app.add_route("/v1/builds/{build_id}/events", BuildEvents(services))
    app.add_route("/v1/validate", Validate(services))
    app.add_route("/v1/workers", Workers(services))
    heat_routes.add_routes(app, services)  # Heat's API: /v1/{project_id}/stacks...


def falcon_app(services: Services, router: CompiledRouter, retry_after_s: int) -> falcon.App:
    app = _app(retry_after_s, router)
    routes(app, services)
    return app


def signals_app(services: Services, retry_after_s: int) -> falcon.App:
    """The handles' route alone (cool.api.signals: a server's token, no Keystone's):
    whatever else a path under /v1/signals/ names goes through authentication."""
    app = _app(retry_after_s)
    signal_routes(app, services)
    return app


def signal_routes(app: falcon.App, services: Services) -> None:
    app.add_route("/v1/signals/{build_id}/{handle}", HandleSignal(services))


def _app(retry_after_s: int, router: CompiledRouter | None = None) -> falcon.App:
    app = falcon.App(router=router, middleware=[_RetryAfter(retry_after_s)])
    # Responses in ASCII JSON: nothing a caller managed to store can make one unencodable.
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = falcon.media.JSONHandler(dumps=json.dumps)
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.auto_parse_form_urlencoded = False
    app.resp_options.secure_cookies_by_default = True
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(CoolError, handle_cool_error)
    return app


class _RetryAfter:
    """Tells the error handlers the Retry-After of a 503."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds

    def process_request(self, req: falcon.Request, _resp: falcon.Response) -> None:
        req.env["cool.retry_after"] = self.seconds


def build(
    conf: cfg.ConfigOpts,
    client: Any,
    *,
    registry: ResourceTypeRegistry | None = None,
    metrics_registry: CollectorRegistry | None = None,
) -> WSGIApp:
    """The whole middleware pipeline over a started kazoo client."""
    bounded = BoundedClient(client, timeout_s=conf.api.zookeeper_timeout)
    store = BuildStore(
        bounded,
        Layout(conf.zookeeper.root),
        default_timeout_mins=conf.build.default_timeout,
        max_timeout_mins=conf.build.max_timeout,
    )
    metrics = ApiMetrics(metrics_registry or CollectorRegistry())
    services = Services(
        store=store,
        requests=Requests(store),
        workers=WorkerRegistry(bounded, store.layout),
        registry=registry or ResourceTypeRegistry.load(),
        authorizer=Authorizer(make_enforcer(conf), cache_ttl_s=conf.api.policy_cache_ttl),
        limits=config.template_limits(conf),
        metrics=metrics,
        settings=Settings(
            default_limit=conf.api.default_limit,
            max_limit=conf.api.max_limit,
            max_event_wait_s=conf.api.max_event_wait,
            max_name_length=conf.api.max_name_length,
            # Half of a process's threads at most wait: the rest serve everything else.
            max_waiters=max(1, conf.api.threads // 2),
            max_scan=5 * conf.api.max_limit,
            file_limits=FileLimits(
                conf.template.max_files, conf.template.max_file_size, conf.template.max_total_size
            ),
        ),
        trusts=openstack_credentials.api_trusts(conf),
    )
    router = CompiledRouter()
    app = falcon_app(services, router, conf.api.retry_after)
    protected = sizelimit.RequestBodySizeLimiter(auth.wrap(app, conf), conf)
    # A server signals with its handle's token, not a Keystone one (cool.api.signals).
    signals = sizelimit.RequestBodySizeLimiter(signals_app(services, conf.api.retry_after), conf)
    health = healthcheck.Healthcheck(
        None,
        {
            "backends": [ZooKeeperProbe.NAME],
            "detailed": False,
            PROBES: ZooKeeperProbe.check_for(store),
        },
    )
    dispatched = _Dispatch(public=app, health=health, protected=protected, signals=signals)
    pipeline = http_proxy_to_wsgi.HTTPProxyToWSGI(request_id.RequestId(dispatched, conf), conf)
    return Measure(
        ErrorFormat(
            pipeline,
            passthrough=[HEALTHCHECK_PATH],
            details={
                413: "the request body is over the limit of "
                f"{conf.oslo_middleware.max_request_body_size} bytes"
            },
        ),
        metrics,
        route_of=lambda path: _route_of(router, path),
    )


def _route_of(router: CompiledRouter, path: str) -> str:
    if path == HEALTHCHECK_PATH:
        return path
    found = router.find(path.rstrip("/") or "/")
    return found[3] if found else "unmatched"


class _Dispatch:
    """The healthcheck app at its path; paths anyone may read straight to the routes;
    the rest through the body size limit and auth."""

    def __init__(
        self, *, public: WSGIApp, health: WSGIApp, protected: WSGIApp, signals: WSGIApp
    ) -> None:
        self.public = public
        self.health = health
        self.protected = protected
        self.signals = signals

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == HEALTHCHECK_PATH:
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                return respond(
                    environ,
                    start_response,
                    405,
                    "cool.request.method_not_allowed",
                    "the healthcheck answers GET and HEAD",
                    headers={"Allow": "GET, HEAD"},
                )
            return self.health(environ, start_response)
        if path in PUBLIC_PATHS:
            return self.public(environ, start_response)
        if SIGNAL_PATH.fullmatch(path):
            return self.signals(environ, start_response)
        return self.protected(environ, start_response)
