"""What needs no token: the versions document, the OpenAPI document, metrics;
and the live workers (admin only)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import falcon
import yaml

from cool.api import paging, views
from cool.api.metrics import ApiMetrics
from cool.api.services import Services

API_VERSION = "1.0"


def _version(prefix: str) -> dict[str, Any]:
    return {
        "id": "v1.0",
        "status": "CURRENT",
        "version": "",
        "min_version": "",
        "updated": "2026-12-01T00:00:00Z",
        "links": [
            {"rel": "self", "href": f"{prefix}/v1/"},
            {"rel": "describedby", "type": "application/json", "href": f"{prefix}/v1/openapi.json"},
        ],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.cool-v1+json"}
        ],
    }


class Versions:
    """``GET /``: the API versions, as every OpenStack service lists them."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        paging.query(req, ())
        resp.media = {"versions": [_version(req.prefix)]}


class Version:
    """``GET /v1``: this version."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        paging.query(req, ())
        resp.media = {"version": _version(req.prefix)}


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document, shipped as YAML beside this module."""
    text = resources.files("cool.api").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class OpenApi:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        paging.query(req, ())
        document = dict(openapi_document())
        document["servers"] = [{"url": req.prefix or "/"}]
        resp.content_type = falcon.MEDIA_JSON
        resp.text = json.dumps(document)


class Metrics:
    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        body, content_type = self.metrics.exposition()
        resp.content_type = content_type
        resp.data = body


class Workers:
    """``GET /v1/workers``: the live workers, their capacity and load (admin)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        services = self.services
        context = services.caller(req)
        services.authorizer.require("cool:worker:list", context)
        paging.query(req, ())
        resp.media = {"workers": [views.worker(w) for w in services.workers.live()]}
