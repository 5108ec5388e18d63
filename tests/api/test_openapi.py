"""The OpenAPI document is true: it lists exactly the routes served, and schemathesis
finds no 5xx and no response that does not conform, on every endpoint, with auth."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cool.api.discovery import openapi_document
from cool.local.api import ApiProcess
from tests.api.helpers import USERS, password, write_htpasswd


def test_openapi_documents_exactly_the_served_routes_and_methods() -> None:
    """Every route falcon serves, with each method its resource answers, is in the
    document, and nothing else is (the healthcheck is oslo.middleware's, beside them)."""
    import falcon

    from cool.api.app import routes

    class _Recorder(falcon.App):
        def __init__(self) -> None:
            super().__init__()
            self.served: dict[str, set[str]] = {}

        def add_route(self, uri_template: str, resource: object, **kwargs: object) -> None:
            methods = {
                m.lower() for m in falcon.COMBINED_METHODS if hasattr(resource, f"on_{m.lower()}")
            }
            self.served[uri_template] = methods

    recorder = _Recorder()
    routes(recorder, _AnyServices())  # type: ignore[arg-type]
    recorder.served["/healthcheck"] = {"get"}
    documented = {
        path: {m for m in item if m in {"get", "post", "put", "patch", "delete"}}
        for path, item in openapi_document()["paths"].items()
    }
    assert documented == recorder.served


class _AnyServices:
    """Enough of Services for the handlers' constructors (they only keep it)."""

    class settings:  # noqa: N801
        max_waiters = 1

    metrics = None


def test_openapi_served_document_is_openapi_3_1(alice) -> None:
    result = alice.get("/v1/openapi.json")
    assert result.status_code == 200
    assert result.json["openapi"].startswith("3.1")


@pytest.fixture(scope="module")
def served_api(tmp_path_factory: pytest.TempPathFactory, zookeeper) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("schemathesis")
    htpasswd = write_htpasswd(directory / "htpasswd")
    users = "".join(f"user = {u}:{p[0]}:{p[1]}\n" for u, p in USERS.items() if p)
    config = (
        "auth_strategy = http_basic\nworkers = 1\nthreads = 8\nmax_event_wait = 1\n"
        f"[http_basic]\nhtpasswd_file = {htpasswd}\n{users}"
        f"[zookeeper]\nhosts = {zookeeper.hosts}/schemathesis-{directory.name}\nroot = /cool\n"
    )
    with ApiProcess(directory, config) as api:
        # A build for the item endpoints to find now and then.
        requests.post(
            f"{api.url}/v1/builds",
            json={"template": {"heat_template_version": "2018-08-31", "resources": {}}},
            auth=("alice", password("alice")),
            timeout=10,
        ).raise_for_status()
        yield api.url


# Every check that holds for any correct server. Not positive_data_acceptance: a
# request the schema allows (say, an empty template object) may still be a
# template the compiler must refuse, with a 400.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
        "unsupported_method",
    ]
)


@pytest.mark.slow
def test_openapi_no_5xx_and_every_response_conforms(served_api: str, tmp_path: Path) -> None:
    """schemathesis (its CLI: its pytest plugin does not run on this pytest) over every
    operation, as the admin, with positive and negative examples."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{served_api}/v1/openapi.json",
            "--checks",
            CHECKS,
            "--auth",
            f"ada:{password('ada')}",
            "--max-examples",
            "30",
            "--seed",
            "20261201",
            "--generation-deterministic",
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--no-color",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
