"""The OpenAPI document is true: it lists exactly the routes served, and schemathesis,
with all its checks, finds no 5xx, no HTML, no response that does not conform and no
request the document and the API disagree on, on every endpoint, with auth; and the
API's processes do not grow under it (docs/reliability.md, "Fuzzing the API")."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from cool.api.discovery import openapi_document
from harness.api import ApiProcess
from tests.api.helpers import USERS, password, write_htpasswd


def test_openapi_documents_exactly_the_served_routes_and_methods() -> None:
    """Every route falcon serves, with each method its resource answers, is in the
    document, and nothing else is (the healthcheck is oslo.middleware's, beside them)."""
    import falcon

    from cool.api.app import routes, signal_routes

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
    signal_routes(recorder, _AnyServices())  # type: ignore[arg-type]
    recorder.served["/healthcheck"] = {"get"}
    # Heat's API (/v1/{project_id}/...) is documented by Heat's api-ref (docs/heat-api.md).
    recorder.served = {
        path: methods
        for path, methods in recorder.served.items()
        if not path.startswith("/v1/{project_id}")
    }
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
def served_api(tmp_path_factory: pytest.TempPathFactory, zookeeper) -> Iterator[ApiProcess]:
    with serving_api(tmp_path_factory.mktemp("schemathesis"), zookeeper.hosts) as api:
        yield api


@contextmanager
def serving_api(directory: Path, zk_hosts: str) -> Iterator[ApiProcess]:
    """cool-api (:func:`api_config`) holding one build, for the item endpoints to find
    now and then; also bench.fuzz_api's."""
    with ApiProcess(directory, api_config(directory, zk_hosts)) as api:
        requests.post(
            f"{api.url}/v1/builds",
            json={"template": {"heat_template_version": "2018-08-31", "resources": {}}},
            auth=("alice", password("alice")),
            timeout=10,
        ).raise_for_status()
        yield api


def api_config(directory: Path, zk_hosts: str) -> str:
    """cool-api with http_basic (the users of tests.api.helpers), one process."""
    htpasswd = write_htpasswd(directory / "htpasswd")
    users = "".join(f"user = {u}:{p[0]}:{p[1]}\n" for u, p in USERS.items() if p)
    return (
        "auth_strategy = http_basic\nworkers = 1\nthreads = 8\nmax_event_wait = 1\n"
        f"[http_basic]\nhtpasswd_file = {htpasswd}\n{users}"
        f"[zookeeper]\nhosts = {zk_hosts}/schemathesis-{directory.name}\nroot = /cool\n"
    )


# Every check schemathesis has, with two adjustments that the API's contract makes true
# (schemathesis.toml, written beside the run, and one check left out):
# - positive_data_acceptance: a template the document allows (any object, any non-blank
#   string) may still be one the compiler refuses, with a located 400; and a reused
#   Idempotency-Key with another body is a 422. The rest of the document (statuses,
#   names, keys, numbers, ids) must say exactly what the API accepts.
# - use_after_free, off: DELETE /v1/builds/{id} tears down what the build built (a 202,
#   done by a worker); the build and its resources stay readable, DELETE_COMPLETE, until
#   pruned (DESIGN.md 8), so a 200 after a DELETE is the contract, not a bug.
SCHEMATHESIS_CONFIG = """
[[operations]]
include-operation-id = ["submitBuild", "validateTemplate"]
checks.positive_data_acceptance.expected-statuses = ["2xx", 400, 401, 403, 404, 409, 422, 429]
"""
# The most the API's processes may grow over a run (resident memory, all of them).
GROWTH_BOUND_BYTES = 50 * 1024 * 1024


def fuzz(
    url: str, workdir: Path, *, max_examples: int, max_time_s: int | None = None
) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    """schemathesis (its CLI: its pytest plugin does not run on this pytest) over every
    operation, as the admin, every check, every phase; the exchanges from its HAR."""
    (workdir / "schemathesis.toml").write_text(SCHEMATHESIS_CONFIG)
    har = workdir / "fuzz.har"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(workdir / "schemathesis.toml"),
        "run",
        f"{url}/v1/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "use_after_free",
        "--continue-on-failure",
        "--auth",
        f"ada:{password('ada')}",
        "--max-examples",
        str(max_examples),
        # One worker: two run in threads, and CPython 3.11 before 3.11.9 shares the AST
        # constructor's recursion depth between threads (gh-106905), so hypothesis's
        # lambda descriptions (ast.parse) may fail with "AST constructor recursion depth
        # mismatch": seen once in CI.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "--no-color",
    ]
    if max_time_s is None:  # CI: the same examples every run
        command += ["--seed", "20261201", "--generation-deterministic"]
    else:  # by hand: new examples until the time is spent
        command += ["--max-time", str(max_time_s)]
    result = subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        timeout=(max_time_s or 300) + 300,
        cwd=workdir,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    return result, entries


def process_group_rss_bytes(leader: int) -> int:
    """Resident memory of every process in ``leader``'s process group (cool-api's: its
    server and all its workers, however it is served), from /proc."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:  # gone meanwhile
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[2]) != leader:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def html_or_server_errors(entries: list[dict]) -> list[str]:
    """Answers that are a 5xx, or HTML where the caller did not ask for it."""
    found = []
    for entry in entries:
        request, response = entry["request"], entry["response"]
        content_type = response.get("content", {}).get("mimeType", "")
        body = response.get("content", {}).get("text", "") or ""
        html = "html" in content_type or body.lstrip().startswith("<")
        if response["status"] >= 500 or (html and "/healthcheck" not in request["url"]):
            found.append(f"{request['method']} {request['url']} -> {response['status']}")
    return found


@pytest.mark.slow
def test_openapi_fuzzing_all_checks_no_5xx_no_html_no_growth(
    served_api: ApiProcess, tmp_path: Path
) -> None:
    assert served_api.process is not None
    before = process_group_rss_bytes(served_api.process.pid)
    result, entries = fuzz(served_api.url, tmp_path, max_examples=30)
    after = process_group_rss_bytes(served_api.process.pid)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
    statuses = collections.Counter(entry["response"]["status"] for entry in entries)
    assert sum(statuses.values()) > 500, statuses
    assert html_or_server_errors(entries) == []
    assert before > 0
    assert after - before < GROWTH_BOUND_BYTES, (before, after)


@pytest.mark.slow
def test_the_document_refuses_what_the_api_refuses(served_api: ApiProcess) -> None:
    """The newcomer's two: what the API refuses, the document does not allow."""
    from jsonschema_rs import Draft202012Validator

    document = openapi_document()
    components = {"components": document["components"]}

    def schema(ref: dict) -> Draft202012Validator:
        return Draft202012Validator({**ref, **components})

    listing = document["paths"]["/v1/builds"]["get"]["parameters"]
    status = next(p for p in listing if isinstance(p, dict) and p.get("name") == "status")
    assert not schema(status["schema"]).is_valid([""])  # ?status= sends [""]
    assert not schema(status["schema"]).is_valid([])
    assert schema(status["schema"]).is_valid(["CREATE_COMPLETE", "DELETE_COMPLETE"])
    submit = {"$ref": "#/components/schemas/SubmitRequest"}
    assert not schema(submit).is_valid({"template": ""})
    assert not schema(submit).is_valid({"template": " \n"})
    assert schema(submit).is_valid({"template": "heat_template_version: 2018-08-31"})
    auth = ("ada", password("ada"))
    for answer in (
        requests.get(f"{served_api.url}/v1/builds?status=", auth=auth, timeout=10),
        requests.post(f"{served_api.url}/v1/builds", json={"template": ""}, auth=auth, timeout=10),
    ):
        assert answer.status_code == 400, answer.text
