"""``python -m bench.large``: a 10,000-resource build, validated, stored, built and
deleted on one worker (issue 20).

The template is what issue 20 names: an ``OS::Heat::ResourceGroup`` of N members, each
a nested template of 10 resources (a root ``OS::Heat::None``, a ``RandomString``, and
eight ``Value``s that read them, in three levels), for N = 100 (1,000 resources) and
N = 1,000 (10,000). Heat's bound on a stack tree is 1,000 resources, as is cool's
default (``[template] max_total_resources``, 2,000); an operator who wants such builds
raises it, as this benchmark does in its limits.

For each size: the validation time (``compile_template``, with the nested template as
a file), the submit's time and the largest znode it wrote (the plan, compressed), the
build's time from submit to CREATE_COMPLETE on a worker in this process (cool.conf's
defaults), its ZooKeeper requests, the process's peak RSS growth against the plan's
size, the delete's time to DELETE_COMPLETE, and the largest znode under the build's
directory at the end. Targets: the 10,000 build within about 11x the 1,000 build's
time (linear), every znode under ZooKeeper's 1 MB packet limit.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench._report import log, run_and_report
from bench._runs import PROJECT, Counter, _settled, default_worker_settings
from bench._zk import server_requests, start_server
from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.client import ZooKeeperSettings, connect
from cool.store.control import Requests
from cool.store.layout import Layout
from cool.store.session import Session
from cool.template.compile import compile_template
from cool.template.parse import Limits
from cool.worker.service import Worker

MEMBER = """
heat_template_version: wallaby
parameters:
  index: {type: number}
resources:
  root: {type: OS::Heat::None}
  secret: {type: OS::Heat::RandomString, properties: {length: 8}}
  a: {type: OS::Heat::Value, properties: {value: {get_resource: root}}}
  b: {type: OS::Heat::Value, properties: {value: {get_attr: [secret, value]}}}
  c: {type: OS::Heat::Value, properties: {value: {get_param: index}}}
  d: {type: OS::Heat::Value, properties: {value: {list_join: ['-', [{get_attr: [a, value]}, x]]}}}
  e: {type: OS::Heat::Value, properties: {value: {get_attr: [b, value]}}}
  f: {type: OS::Heat::Value, properties: {value: {get_attr: [c, value]}}}
  g: {type: OS::Heat::Value, properties: {value: {get_attr: [d, value]}}}
  h: {type: OS::Heat::Value, properties: {value: {get_attr: [e, value]}}}
outputs:
  last: {value: {get_attr: [h, value]}}
"""
MEMBER_RESOURCES = 10
MAX_ZNODE = 1024 * 1024  # ZooKeeper's default packet limit (jute.maxbuffer)
TARGET_RATIO = 11.0


def template(members: int) -> str:
    return f"""
heat_template_version: wallaby
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {members}
      resource_def:
        type: member.yaml
        properties: {{index: "%index%"}}
outputs:
  firsts: {{value: {{get_attr: [group, resource.0.last]}}}}
"""


@dataclass(frozen=True, slots=True)
class Run:
    resources: int
    validate_s: float
    submit_s: float
    plan_bytes: int  # the build's znode: plan and metadata, compressed
    build_s: float
    requests_per_resource: float | None
    rss_growth_kib: int  # peak RSS of this process, after the build less before it
    delete_s: float
    largest_znode: int  # under the build's directory, after the delete


@dataclass
class Results:
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0


def _peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


_GAVE_UP = frozenset(
    {
        BuildStatus.CREATE_FAILED,
        BuildStatus.ROLLBACK_COMPLETE,
        BuildStatus.ROLLBACK_FAILED,
        BuildStatus.CANCEL_COMPLETE,
        BuildStatus.DELETE_FAILED,
    }
)


def _wait_status(
    store: BuildStore, build_id: str, status: BuildStatus, timeout_s: float
) -> BuildStatus:
    """Until the build reaches ``status`` or fails (its state node's watch); its status."""
    changed = threading.Event()
    deadline = time.monotonic() + timeout_s
    path = store.layout.state(build_id)
    while True:
        data, _ = store.client.get(path, watch=lambda _event: changed.set())
        current = BuildStatus(codec.loads(data)["status"])
        if current is status or current in _GAVE_UP:
            return current
        left = deadline - time.monotonic()
        if left <= 0 or not changed.wait(left):
            return current
        changed.clear()


def _largest_znode(store: BuildStore, build_id: str) -> int:
    """The largest data of any znode under the build's directory (events, records)."""
    client, largest = store.client, 0
    todo = [store.layout.build(build_id)]
    while todo:
        path = todo.pop()
        data, stat = client.get(path)
        largest = max(largest, len(data))
        if stat.numChildren:
            todo.extend(f"{path}/{child}" for child in client.get_children(path))
    return largest


def _one(members: int, hosts: str, registry: ResourceTypeRegistry) -> tuple[Run, list[str]]:
    n = members * MEMBER_RESOURCES
    limits = Limits(max_total_resources=2 * n + 10)
    started = time.perf_counter()
    plan = compile_template(template(members), registry, {}, limits, files={"member.yaml": MEMBER})
    validate_s = time.perf_counter() - started
    root = f"/cool-large-{uuid.uuid4().hex[:8]}"
    zk = ZooKeeperSettings(hosts=hosts, root=root)
    client = connect(zk)
    session = Session.open(zk)
    writes = Counter()
    worker = Worker(
        session, Providers([HeatProvider()]), default_worker_settings(), count_write=writes
    )
    problems: list[str] = []
    try:
        store = BuildStore(client, Layout(root))
        store.ensure_layout()
        worker.start()
        _settled(worker)
        rss_before = _peak_rss_kib()
        requests_before = server_requests(int(hosts.rsplit(":", 1)[1]))
        started = time.perf_counter()
        build_id = store.submit(plan, project_id=PROJECT, user_id=PROJECT).build_id
        submit_s = time.perf_counter() - started
        status = _wait_status(store, build_id, BuildStatus.CREATE_COMPLETE, 600)
        build_s = time.perf_counter() - started
        requests_after = server_requests(int(hosts.rsplit(":", 1)[1]))
        rss_growth = _peak_rss_kib() - rss_before
        if status is not BuildStatus.CREATE_COMPLETE:
            problems.append(f"{n:,} resources: ended {status}")
        plan_bytes = len(client.get(store.layout.build(build_id))[0])
        started = time.perf_counter()
        Requests(store).delete(build_id, user_id=PROJECT)
        status = _wait_status(store, build_id, BuildStatus.DELETE_COMPLETE, 600)
        delete_s = time.perf_counter() - started
        if status is not BuildStatus.DELETE_COMPLETE:
            problems.append(f"{n:,} resources: delete ended {status}")
        largest = max(_largest_znode(store, build_id), plan_bytes)
        if largest >= MAX_ZNODE:
            problems.append(f"{n:,} resources: a znode of {largest:,} bytes")
    finally:
        worker.stop(graceful=False)
        session.close()
        client.stop()
        client.close()
    requests = (
        (requests_after - requests_before) / n
        if requests_before is not None and requests_after is not None
        else None
    )
    return (
        Run(n, validate_s, submit_s, plan_bytes, build_s, requests, rss_growth, delete_s, largest),
        problems,
    )


def run(sizes: Sequence[int]) -> Results:
    results = Results(load_before=os.getloadavg()[0])
    registry = ResourceTypeRegistry.load()
    server = start_server()
    try:
        for members in sizes:
            log(f"{members * MEMBER_RESOURCES:,} resources")
            measured, problems = _one(members, server.hosts, registry)
            results.runs.append(measured)
            results.problems.extend(problems)
            log(f"{measured.resources:,} resources: built in {measured.build_s:.2f} s")
    finally:
        server.stop()
    results.load_after = os.getloadavg()[0]
    return results


def render(results: Results) -> str:
    lines = [
        "| resources | validate s | submit s | plan znode KiB | build s | ZK requests per "
        "resource | peak RSS growth MiB | delete s | largest znode KiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results.runs:
        requests = f"{r.requests_per_resource:.2f}" if r.requests_per_resource else "?"
        lines.append(
            f"| {r.resources:,} | {r.validate_s:.2f} | {r.submit_s:.3f} | "
            f"{r.plan_bytes / 1024:,.1f} | {r.build_s:.2f} | {requests} | "
            f"{r.rss_growth_kib / 1024:,.1f} | {r.delete_s:.2f} | {r.largest_znode / 1024:,.1f} |"
        )
    if len(results.runs) >= 2:
        small, large = results.runs[0], results.runs[-1]
        ratio = large.build_s / small.build_s
        scale = large.resources / small.resources
        verdict = "met" if ratio <= TARGET_RATIO * scale / 10 else "NOT met"
        lines += [
            "",
            f"Target: {large.resources:,} resources built within {TARGET_RATIO * scale / 10:.0f}x "
            f"the time of {small.resources:,}: {ratio:.1f}x, {verdict}. Delete: "
            f"{large.delete_s / small.delete_s:.1f}x.",
        ]
    largest = max((r.largest_znode for r in results.runs), default=0)
    lines.append(
        f"Target: every znode under {MAX_ZNODE // 1024} KiB: largest {largest / 1024:,.1f} KiB, "
        f"{'met' if largest < MAX_ZNODE else 'NOT met'}."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.large",
        description="A 10,000-resource build against a 1,000-resource one (issue 20).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="100 and 1,000 resources instead of 1,000 and 10,000"
    )
    args = parser.parse_args(argv)
    sizes = (10, 100) if args.quick else (100, 1_000)
    return run_and_report(
        lambda: run(sizes),
        setup=lambda _: (
            "ZooKeeper forceSync=yes; one worker in this process, cool.conf's "
            "defaults; a ResourceGroup of nested 10-resource templates"
        ),
        render=render,
    )


if __name__ == "__main__":
    sys.exit(main())
