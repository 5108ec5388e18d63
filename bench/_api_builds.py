"""One build of N OS::Heat::None submitted through a real cool-api and built by a real
``cool-worker`` process: the time a user sees, from the POST to the build's end.

The end is the build's own ``updated_at`` (the worker's clock when it wrote
``CREATE_COMPLETE``), so the benchmark's way of waiting adds nothing to it;
the POST's start is this process's clock: one machine, one clock.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from kazoo.client import KazooClient

from bench._api import PROJECT, basic_config, basic_headers, prepare_root
from bench._runs import SHAPES
from bench._workers import Fleet
from bench._zk import wait_gone
from cool.model import BuildStatus
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from harness.api import ApiProcess


@dataclass(frozen=True, slots=True)
class ApiBuildRun:
    shape: str
    resources: int
    seconds: float  # POST sent -> the build's CREATE_COMPLETE written
    post_s: float  # POST sent -> its 202 (validation and the store's transaction)

    @property
    def per_s(self) -> float:
        return self.resources / self.seconds


def run_api_builds(
    fleet: Fleet,
    client: KazooClient,
    *,
    hosts: str,
    root: str,
    workdir: Path,
    n: int,
    repeat: int,
    timeout_s: float = 300.0,
) -> tuple[list[ApiBuildRun], list[str]]:
    """Each shape ``repeat`` times, one build at a time, on one cool-api and one worker."""
    prepare_root(client, root)
    api = ApiProcess(workdir, basic_config(workdir, hosts, root), name="api-builds")
    workers = []
    runs: list[ApiBuildRun] = []
    problems: list[str] = []
    try:
        api.start()
        workers = fleet.start(root, 1)
        store = BuildStore(client, Layout(root))
        for shape, template in SHAPES.items():
            body = json.dumps({"template": yaml.safe_load(template(n))}).encode()
            for _ in range(repeat):
                run, problem = _one(
                    api, client, store, shape=shape, n=n, body=body, timeout_s=timeout_s
                )
                if problem:
                    problems.append(problem)
                elif run is not None:
                    runs.append(run)
    finally:
        fleet.stop(workers)
        api.stop()
    return runs, problems


def _one(
    api: ApiProcess,
    client: KazooClient,
    store: BuildStore,
    *,
    shape: str,
    n: int,
    body: bytes,
    timeout_s: float,
) -> tuple[ApiBuildRun | None, str]:
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    headers = {"Content-Type": "application/json", **basic_headers()}
    try:
        connection.connect()
        sent = time.time()
        connection.request("POST", "/v1/builds", body, headers)
        response = connection.getresponse()
        answer = response.read()
        answered = time.time()
    finally:
        connection.close()
    if response.status != 202:
        return None, f"{shape} {n} through the API: {response.status}: {answer[:300]!r}"
    build_id = json.loads(answer)["build"]["id"]
    if not wait_gone(client, store.layout.pending_build(build_id), timeout_s):
        return None, f"{shape} {n} through the API: not finished within {timeout_s:.0f} s"
    state, _ = store.state(build_id)
    if state.status is not BuildStatus.CREATE_COMPLETE:
        return None, f"{shape} {n} through the API: ended {state.status}: {state.reason}"
    meta, _ = store.meta_and_plan(build_id)
    if meta.project_id != PROJECT or state.done != n:
        return None, f"{shape} {n} through the API: {state.done} of {n} resources done"
    return ApiBuildRun(shape, n, state.updated_at - sent, answered - sent), ""
