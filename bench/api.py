"""How fast cool-api takes builds in, against what the same ZooKeeper can do at all.

Run from the repository root::

    .venv/bin/python -m bench.api          # the full run (~100 s on 2 cores)
    .venv/bin/python -m bench.api --quick  # smaller counts, a smoke run (~25 s)

It starts a private ZooKeeper (``harness.zookeeper``, ``forceSync=yes`` as
a user gets it), a private Keystone (``harness.keystone.server``) and two real
``cool-api`` gunicorn servers (``harness.api``, cool.conf's 2 worker
processes of 32 threads each): one with ``auth_strategy = http_basic`` (a
bcrypt htpasswd at bcrypt's default cost; the API remembers checked
credentials), one with ``auth_strategy = keystone`` (keystonemiddleware, its
in-process token cache). No cool-worker runs: a submit only stores a build.
Every root starts with its 1,024 shard directories, as a deployment's do
after its first few thousand builds. Then it measures:

1. **the baseline** (sampled before the submits and after each strategy's,
   the best sample counting): one client, one request at a time, making exactly a
   submit's transaction (the 9 creates of ``BuildStore.submit_once``, with
   the payloads of this benchmark's template); and, for context,
   ``BuildStore.submit`` in this process (the same transaction, the 3
   ``ensure_path`` reads before it, and the plan's compression);
2. **submits** (``POST /v1/builds`` of a 2-resource ``OS::Heat::None`` /
   ``OS::Heat::Value`` template, 202 expected) at 1, 8 and 32 concurrent
   clients, each with its own keep-alive connection, for each auth strategy:
   builds/s, p50 and p99 latency, and CPU per request of cool-api, of
   ZooKeeper and of the load itself (all on the same cores);
3. **reads**: ``GET /v1/builds/{id}`` at 8 clients (http_basic); and, at 1
   client, ``GET /v1`` (no auth, no ZooKeeper) and ``GET /v1/builds/{id}``
   for both strategies, to split a submit's time into serving, auth,
   ZooKeeper and the submit's own work.

Ratios are measured in the same run: submit throughput over the raw
transaction rate. The command prints Markdown tables and the verdict on
each target; it exits 1 if a request is not answered as expected (a submit
not 202, a read not 200), not when a target is missed. No process it
starts outlives it, Ctrl-C and SIGTERM included; only a SIGKILL of the
benchmark itself leaves the cool-api masters running (``harness.api``
does not start them under ``setpriv --pdeathsig``, as ZooKeeper and
Keystone are).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from kazoo.client import KazooClient

from bench._api import (
    ALL_SHARDS,
    API_THREADS,
    API_WORKERS,
    PROJECT,
    TEMPLATE,
    USER,
    Call,
    LoadRun,
    Sequential,
    basic_config,
    basic_headers,
    keystone_caller,
    prepare_root,
    process_tree,
    raw_submits,
    run_load,
    submit_call,
    timed,
    token_headers,
    warm_up,
)
from bench._report import log, run_and_report
from bench._workers import load_average
from bench._zk import start_server
from cool.model import Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.template.compile import compile_template
from harness.api import ApiProcess
from harness.keystone.server import KeystoneServer
from harness.keystone.venv import ensure_venv
from harness.zk_clients import start_client, stop_client

TARGET_RAW_RATIO = 0.5  # submits/s >= half the raw single-client transaction rate
TARGET_P99_MS = 50.0  # at TARGET_P99_CONCURRENCY clients
TARGET_P99_CONCURRENCY = 8
READ_IDS = 100  # GETs cycle over this many builds: every plan stays in the API's cache


@dataclass(frozen=True, slots=True)
class Sizes:
    raw: int = 1000  # baseline transactions
    store: int = 500  # BuildStore.submit in this process, for context
    requests: int = 3000  # at most this many requests per load run
    max_s: float = 6.0  # and at most this long
    concurrency: tuple[int, ...] = (1, 8, 32)
    read_concurrency: int = 8
    split: int = 400  # requests of each kind at 1 client, for the split
    split_max_s: float = 2.0
    repeat: int = 2  # submit runs: the best of this many
    all_shards: bool = True  # every root starts with its 1,024 shard directories


FULL = Sizes()
QUICK = Sizes(raw=500, store=100, requests=300, max_s=1.0, split=100, split_max_s=0.5, repeat=1)


@dataclass(frozen=True, slots=True)
class Measured:
    what: str  # "POST /v1/builds", "GET /v1", "GET /v1/builds/{id}"
    auth: str  # "http_basic", "keystone", or "none"
    run: LoadRun


@dataclass
class Results:
    sizes: Sizes
    raw: Sequential | None = None  # submit-shaped transactions
    store: Sequential | None = None  # BuildStore.submit in this process
    submits: list[Measured] = field(default_factory=list)
    reads: list[Measured] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def raw_per_s(self) -> float:
        return self.raw.per_s if self.raw is not None else 0.0


def _prepare(client: KazooClient, root: str, sizes: Sizes) -> None:
    prepare_root(client, root, ALL_SHARDS if sizes.all_shards else ())


def _store_submits(client: KazooClient, root: str, plan: Plan, sizes: Sizes) -> Sequential:
    """``sizes.store`` sequential ``BuildStore.submit`` in this process."""
    _prepare(client, root, sizes)
    store = BuildStore(client, Layout(root))

    def submit() -> None:
        store.submit(plan, project_id=PROJECT, user_id=USER)

    timed(submit, 20)  # warm-up
    return timed(submit, sizes.store)


def _check(measured: Measured, problems: list[str]) -> Measured:
    run = measured.run
    if run.failures:
        problems.append(
            f"{measured.what} ({measured.auth}, {run.concurrency} clients): {run.failures} "
            f"requests not answered as expected; the first: {run.first_failure}"
        )
    return measured


def _measure_strategy(
    results: Results,
    auth: str,
    api: ApiProcess,
    headers: dict[str, str],
    *,
    zookeeper_pid: int | None,
    with_reads: bool,
) -> None:
    sizes = results.sizes
    assert api.process is not None
    pids = process_tree(api.process.pid)
    submit = submit_call(headers)
    for run in warm_up(api.port, submit):
        _check(Measured("POST /v1/builds (warm-up)", auth, run), results.problems)
    locations: list[str] = []
    for concurrency in sizes.concurrency:
        tries = [
            run_load(
                api.port,
                submit,
                concurrency=concurrency,
                count=sizes.requests,
                max_s=sizes.max_s,
                api_pids=pids,
                zookeeper_pid=zookeeper_pid,
            )
            for _ in range(sizes.repeat)
        ]
        for run in tries:
            locations += run.locations
            _check(Measured("POST /v1/builds", auth, run), results.problems)
        best = max(tries, key=lambda r: r.per_s)
        results.submits.append(Measured("POST /v1/builds", auth, best))
        log(
            f"{auth}, {concurrency} clients: {best.per_s:,.0f} submits/s, "
            f"p99 {best.percentile_ms(0.99):,.1f} ms"
        )
    paths = [urlsplit(location).path for location in locations[-READ_IDS:]]
    if not paths:
        results.problems.append(f"{auth}: no submit answered with a Location")
        return
    read = Call("GET", paths, 200, headers=headers)
    # Each id read 4 times on 8 connections: nearly every plan in each process's cache.
    for run in warm_up(api.port, read, fresh=2, rounds=1, count=4 * len(paths)):
        _check(Measured("GET /v1/builds/{id} (warm-up)", auth, run), results.problems)
    kinds = [("GET /v1/builds/{id}", auth, read)]
    if with_reads:
        kinds.insert(0, ("GET /v1", "none", Call("GET", ["/v1"], 200)))
    for what, kind_auth, call in kinds:
        run = run_load(
            api.port,
            call,
            concurrency=1,
            count=sizes.split,
            max_s=sizes.split_max_s,
            api_pids=pids,
            zookeeper_pid=zookeeper_pid,
        )
        results.reads.append(_check(Measured(what, kind_auth, run), results.problems))
    if with_reads:
        run = run_load(
            api.port,
            read,
            concurrency=sizes.read_concurrency,
            count=sizes.requests,
            max_s=sizes.max_s,
            api_pids=pids,
            zookeeper_pid=zookeeper_pid,
        )
        results.reads.append(_check(Measured("GET /v1/builds/{id}", auth, run), results.problems))
        log(f"{auth}, GET at {sizes.read_concurrency} clients: {run.per_s:,.0f}/s")


def run(
    sizes: Sizes,
    hosts: str,
    root: str,
    workdir: Path,
    *,
    keystone: KeystoneServer | None = None,
    zookeeper_pid: int | None = None,
) -> Results:
    """Every measurement, against the ZooKeeper at ``hosts`` under ``root``; the
    keystone strategy only with a running ``keystone``."""
    registry = ResourceTypeRegistry.load()
    plan = compile_template(json.dumps(TEMPLATE), registry)
    results = Results(sizes, load_before=load_average())
    with contextlib.ExitStack() as stack:
        client = start_client(hosts)
        stack.callback(stop_client, client)
        # The baseline is sampled before and after each strategy's runs, and the best
        # sample counts, like the best of the submit runs: on a shared disk one fsync
        # stall in a single baseline run would otherwise flatter every ratio.
        samples: list[Sequential] = []

        def sample_raw() -> None:
            for _ in range(sizes.repeat):
                n = len(samples)
                samples.append(
                    raw_submits(
                        client, f"{root}/raw-{n}", plan, sizes.raw, all_shards=sizes.all_shards
                    )
                )
            results.raw = min(samples, key=lambda s: s.seconds)

        sample_raw()
        log(f"raw: {results.raw_per_s:,.0f} submit transactions/s")
        results.store = min(
            (_store_submits(client, f"{root}/store-{i}", plan, sizes) for i in range(sizes.repeat)),
            key=lambda s: s.seconds,
        )
        for strategy in ("basic", "keystone"):
            _prepare(client, f"{root}/{strategy}", sizes)
        strategies: list[tuple[str, ApiProcess, dict[str, str]]] = []
        basic = ApiProcess(workdir, basic_config(workdir, hosts, f"{root}/basic"), name="basic")
        stack.callback(basic.stop)
        strategies.append(("http_basic", basic.start(), basic_headers()))
        if keystone is not None:
            caller = keystone_caller(keystone, hosts, f"{root}/keystone")
            api = ApiProcess(workdir, caller.config, name="keystone")
            stack.callback(api.stop)
            strategies.append(("keystone", api.start(), token_headers(caller.token)))
        for auth, api, headers in strategies:
            _measure_strategy(
                results,
                auth,
                api,
                headers,
                zookeeper_pid=zookeeper_pid,
                with_reads=auth == "http_basic",
            )
            sample_raw()
        log(f"raw, best of {len(samples)}: {results.raw_per_s:,.0f} submit transactions/s")
    results.load_after = load_average()
    return results


# -- rendering -----------------------------------------------------------------------


def _ms(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def render(results: Results) -> str:
    """The results as Markdown tables, then the verdict on each target."""
    lines = [
        "| ZooKeeper, one client, sequential | count | s | per s | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, sequential in (
        ("submit transaction: 9 creates", results.raw),
        ("BuildStore.submit in process: 3 ensure_path + the transaction", results.store),
    ):
        if sequential is not None:
            lines.append(
                f"| {name} | {sequential.count:,} | {sequential.seconds:,.2f} "
                f"| {sequential.per_s:,.0f} | {_ms(sequential.percentile_ms(0.5), 2)} "
                f"| {_ms(sequential.percentile_ms(0.99), 2)} "
                f"| {_ms(sequential.percentile_ms(1.0), 2)} |"
            )
    lines.append("")
    if results.submits:
        lines += [
            "| POST /v1/builds | clients | submits | s | builds/s | ÷ raw tx/s "
            "| p50 ms | p99 ms | max ms | cool-api CPU ms each | ZK CPU ms each "
            "| load CPU ms each | machine busy | each worker busy |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for m in results.submits:
            r = m.run
            lines.append(
                f"| {m.auth} | {r.concurrency} | {r.count:,} | {r.seconds:,.2f} "
                f"| {r.per_s:,.0f} | {_ratio(results, r):.2f} | {_ms(r.percentile_ms(0.5))} "
                f"| {_ms(r.percentile_ms(0.99))} | {_ms(r.percentile_ms(1.0))} "
                f"| {_ms(r.per_request_ms(r.total_api_cpu_s))} "
                f"| {_ms(r.per_request_ms(r.zookeeper_cpu_s))} "
                f"| {_ms(r.per_request_ms(r.client_cpu_s))} | {r.machine_busy:.0%} "
                f"| {', '.join(f'{busy:.0%}' for busy in r.workers_busy)} |"
            )
        lines.append("")
    if results.reads:
        lines += [
            "| request | auth | clients | requests | per s | p50 ms | p99 ms "
            "| cool-api CPU ms each | ZK CPU ms each |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in results.reads:
            r = m.run
            lines.append(
                f"| {m.what} | {m.auth} | {r.concurrency} | {r.count:,} | {r.per_s:,.0f} "
                f"| {_ms(r.percentile_ms(0.5))} | {_ms(r.percentile_ms(0.99))} "
                f"| {_ms(r.per_request_ms(r.total_api_cpu_s))} "
                f"| {_ms(r.per_request_ms(r.zookeeper_cpu_s))} |"
            )
        lines.append("")
    lines.extend(f"- {verdict}" for verdict in verdicts(results))
    return "\n".join(lines)


def _ratio(results: Results, run: LoadRun) -> float:
    return run.per_s / results.raw_per_s if results.raw_per_s else 0.0


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def verdicts(results: Results) -> list[str]:
    out = []
    raw = results.raw_per_s
    for m in results.submits:
        r = m.run
        ratio = _ratio(results, r)
        out.append(
            f"{m.auth}, {r.concurrency} clients: {r.per_s:,.0f} builds/s = {ratio:.2f}x the raw "
            f"{raw:,.0f} transactions/s (target >= {TARGET_RAW_RATIO:g}x): "
            f"{_met(ratio >= TARGET_RAW_RATIO)}"
        )
    for m in results.submits + results.reads:
        r = m.run
        if r.concurrency != TARGET_P99_CONCURRENCY:
            continue
        p99 = r.percentile_ms(0.99)
        label = "" if m.what.startswith("POST") else " (for context: the target is on submits)"
        out.append(
            f"{m.what} ({m.auth}) at {r.concurrency} clients: p99 {p99:,.1f} ms (target < "
            f"{TARGET_P99_MS:g} ms): {_met(p99 < TARGET_P99_MS)}{label}"
        )
    return out


# -- the command -----------------------------------------------------------------------


def _run_on_private_servers(sizes: Sizes) -> Results:
    """Start ZooKeeper and Keystone, measure, and stop everything whatever happens."""
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="cool-bench-api-"))
        server = start_server()
        stack.callback(server.stop)
        log(f"ZooKeeper on {server.hosts} (forceSync=yes) in {server.base_dir}")
        keystone = KeystoneServer(venv=ensure_venv())
        stack.callback(keystone.stop)
        keystone.start()
        log(f"Keystone on {keystone.url}")
        return run(
            sizes,
            server.hosts,
            f"/cool-bench-{uuid.uuid4().hex[:12]}",
            Path(tmp),
            keystone=keystone,
            zookeeper_pid=server.pid,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api",
        description="Submits and reads through a real cool-api, against raw ZooKeeper.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller counts, 1 s runs, no repetition"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    return run_and_report(
        lambda: _run_on_private_servers(sizes),
        setup=lambda _: (
            f"ZooKeeper forceSync=yes; cool-api {API_WORKERS} workers x {API_THREADS} threads; "
            f"best of {sizes.repeat} for submits"
        ),
        render=render,
    )


if __name__ == "__main__":
    sys.exit(main())
