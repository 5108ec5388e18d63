"""Prometheus metrics of the API, served at ``/metrics``.

Under gunicorn each worker process counts for itself; ``cool-api`` sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers start, and a scrape then
adds up every process's counts (prometheus-client's multiprocess mode).
Routes are labelled by their template (``/v1/builds/{build_id}``), never by
the path asked for, so the label set stays bounded whatever callers send.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "cool_api_requests",
            "API requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "cool_api_request_duration_seconds",
            "Time to answer an API request (long-polls included).",
            ["route", "method"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.builds_submitted = Counter(
            "cool_api_builds_submitted", "Builds stored by submits.", registry=registry
        )
        self.zookeeper_errors = Counter(
            "cool_api_zookeeper_errors",
            "Requests answered 503 because ZooKeeper did not answer, by cause.",
            ["kind"],
            registry=registry,
        )

    def exposition(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class Measure:
    """WSGI middleware: counts and times every request, whoever answers it."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        metrics: ApiMetrics,
        route_of: Callable[[str], str],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.route_of = route_of

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        environ["cool.metrics"] = self.metrics
        seen: dict[str, str] = {}

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording)
        finally:
            route = self.route_of(environ.get("PATH_INFO", ""))
            method = environ.get("REQUEST_METHOD", "")
            method = method if method in _METHODS else "other"
            self.metrics.requests.labels(route, method, seen.get("status", "500")).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
