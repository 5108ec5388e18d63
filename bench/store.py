"""Submit, get and list latency through cool-api: a full store against an empty one,
measured in alternating rounds.

Run from the repository root::

    .venv/bin/python -m bench.store          # kept by the GC, then 100,000 (~4 minutes)
    .venv/bin/python -m bench.store --quick  # 500 kept (a smoke run, ~40 s)

It starts a private ZooKeeper (``forceSync=yes``, a 2 GiB heap for the largest
store) and two real ``cool-api``s (http_basic, cool.conf's defaults otherwise),
each on a root of its own in that ZooKeeper: one stays **empty** (nothing but
what the benchmark's own requests submit), the other is filled, stage by
stage, in the same project; no worker runs. Every root starts with its 1,024
shard directories. The stages:

1. **kept by the GC**: 12,000 finished builds written as a finished build is
   (``bench.gc.fill``: record, state, lease, records, 8 events, the index
   entry), created over the last 6 days, then one GC pass with cool.conf's
   ``[gc]`` defaults (retention 7 days, ``max_finished`` 10,000): it must prune
   the oldest 2,000 and leave 10,000. However many builds went through a
   store before, this is what it holds: every pruned build's znodes go
   (``bench.gc`` checks the node count), its index buckets too;
2. (full run) **100,000 in one project**: 90,000 more of the same, no pass, as a
   store configured with ``max_finished`` 100,000 would hold them: three times
   past what one ``getChildren`` of a project's builds could carry before the
   index had time buckets.

In each stage, rounds alternate between the empty store and the full one
(the one that goes first alternating too), so that both share the machine's
noise and the server's state of the moment; each round measures, at one
client, one request at a time: ``POST /v1/builds``; ``GET /v1/builds/{id}``
over the round's own submits (one shape of build in both stores);
``GET /v1/builds?limit=20`` (the first page); and the same with a ``marker``
from the middle of the project's builds (a page deep in history). The ratio
judged is the median over the rounds of the full store's p50 over the empty
store's in the same round (target: at most 1.5x). For context each stage also
times ZooKeeper itself (a synchronous ``get``). The command exits 1 if a
request is not answered as expected or the GC pass does not leave what it
should.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from bench._api import (
    PROJECT,
    Call,
    LoadRun,
    basic_config,
    basic_headers,
    prepare_root,
    run_load,
    submit_call,
    warm_up,
)
from bench._report import log, run_and_report
from bench._workers import load_average
from bench._zk import start_server
from bench.gc import fill
from cool.gc import GarbageCollector, GcSettings
from cool.store.client import ZooKeeperSettings
from cool.store.pipelined import many
from cool.store.prune import Pruner, znode_count
from cool.store.session import Session
from harness.api import ApiProcess

TARGET_RATIO = 1.5
DAY = 86_400.0
SPREAD_S = 6 * DAY  # the filled builds' creation times: inside the default retention
PAGE = 20
READ_IDS = 100
ZOOKEEPER_HEAP_MB = 2048


@dataclass(frozen=True, slots=True)
class Stage:
    label: str
    added: int  # finished builds written before it
    max_finished: int | None  # then a GC pass with this cap (None: no pass)
    # Or builds that pass through: written ``chunk`` at a time, each newer than the
    # last, each chunk followed by a GC pass with cool.conf's defaults, as a store
    # that finishes builds for months under its GC.
    through: int = 0
    chunk: int = 10_000
    cap: int = 10_000  # the passes' max_finished (cool.conf's default)
    # The pace the builds finished at, a second: what decides how many share one of
    # the project index's 33-second buckets (2 a second: 66 a bucket, and a million
    # finished over 5.8 days, inside the default retention).
    rate: float = 2.0


@dataclass(frozen=True, slots=True)
class Sizes:
    stages: tuple[Stage, ...]
    rounds: int  # per stage, each store once a round
    requests: int  # of each kind, per store and round
    max_s: float  # and at most this long
    # Requests of each read kind before it is timed, at most (the round's own submits)
    warm_reads: int = READ_IDS


HISTORY = 100_000  # builds through the store in the full run (--through for more)
FULL = Sizes(
    stages=(
        Stage("kept by the GC (12,000 written, max_finished 10,000)", 12_000, 10_000),
        Stage(f"{HISTORY:,} through the GC", 0, None, through=HISTORY),
        Stage("100,000 finished in one project", 90_000, None),
    ),
    rounds=4,
    requests=150,
    max_s=8.0,
)
QUICK = Sizes(
    stages=(
        Stage("kept by the GC (600 written, cap 500)", 600, 500),
        Stage("1,500 through the GC (cap 500)", 0, None, through=1_500, chunk=500, cap=500),
    ),
    rounds=2,
    requests=30,
    max_s=3.0,
)
KINDS = ("POST /v1/builds", "GET /v1/builds/{id}", "GET /v1/builds (first page)",
         "GET /v1/builds (marker in the middle)")  # fmt: skip


@dataclass
class StageResult:
    stage: Stage
    finished: int  # finished builds in the full store when measured
    full: list[dict[str, LoadRun]] = field(default_factory=list)  # a round each
    empty: list[dict[str, LoadRun]] = field(default_factory=list)
    pruned: int = 0
    gc_s: float = 0.0
    # Builds through the store: after each pass, (builds written so far, the server's
    # znodes, the pass's seconds, builds it pruned).
    passes: list[tuple[int, int, float, int]] = field(default_factory=list)
    raw_get_ms: tuple[float, float] = (0.0, 0.0)  # ZooKeeper's get p50: empty, full root

    def p50(self, kind: str, *, full: bool) -> float:
        rounds = self.full if full else self.empty
        return statistics.median(r[kind].percentile_ms(0.5) for r in rounds if r[kind].count)

    def ratio(self, kind: str) -> float:
        """The median over the rounds of the full store's p50 over the empty one's."""
        return statistics.median(
            f[kind].percentile_ms(0.5) / e[kind].percentile_ms(0.5)
            for f, e in zip(self.full, self.empty, strict=True)
            if f[kind].count and e[kind].count
        )


@dataclass
class Results:
    sizes: Sizes
    stages: list[StageResult] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0
    problems: list[str] = field(default_factory=list)


def _finished(session: Session) -> list[str]:
    return [
        b.build_id for chunk in Pruner(session.client, session.layout).finished() for b in chunk
    ]


def _measure(
    api: ApiProcess, known: list[str], *, sizes: Sizes, problems: list[str]
) -> dict[str, LoadRun]:
    """Each kind of request at one client, on one store; ``known``: every build id
    written or submitted there so far (this round's submits are added). The GETs
    read this round's own submits, one shape of build in both stores (what a store's
    size could change is finding them, not their contents)."""
    headers = basic_headers()
    submit = submit_call(headers)
    # Enough for a full page after the middle even in the empty store.
    submitted: list[str] = []
    for run in warm_up(api.port, submit, fresh=2, rounds=1, count=3 * PAGE):
        submitted += _submitted(_check("POST /v1/builds (warm-up)", run, problems))
    known += submitted
    reads = submitted[:READ_IDS]
    middle = sorted(known)[len(known) // 2]
    calls = {
        KINDS[0]: submit,
        KINDS[1]: Call("GET", [f"/v1/builds/{b}" for b in reads], 200, headers=headers),
        KINDS[2]: Call("GET", [f"/v1/builds?limit={PAGE}"], 200, headers=headers),
        KINDS[3]: Call("GET", [f"/v1/builds?limit={PAGE}&marker={middle}"], 200, headers=headers),
    }
    runs = {}
    for kind, call in calls.items():
        if kind != KINDS[0]:
            count = min(len(reads), sizes.warm_reads)
            for run in warm_up(api.port, call, fresh=2, rounds=1, count=count):
                _check(f"{kind} (warm-up)", run, problems)
        run = run_load(api.port, call, concurrency=1, count=sizes.requests, max_s=sizes.max_s)
        runs[kind] = _check(kind, run, problems)
        known += _submitted(run)
    for path in (calls[KINDS[2]].paths[0], calls[KINDS[3]].paths[0]):
        _check_page(api, path, headers, problems)
    return runs


def _raw_get_ms(session: Session, count: int) -> float:
    """p50 of ``count`` synchronous gets of one node, one after another: how fast
    ZooKeeper itself answers with the store as it is (its tree's size, its JVM)."""
    client, path = session.client, f"{session.layout.root}/bench-probe"
    client.ensure_path(path)
    taken = []
    for _ in range(count):
        started = time.perf_counter()
        client.get(path)
        taken.append(time.perf_counter() - started)
    return statistics.median(taken) * 1e3


def _submitted(run: LoadRun) -> list[str]:
    return [urlsplit(location).path.rsplit("/", 1)[-1] for location in run.locations]


def _check_page(api: ApiProcess, path: str, headers: dict[str, str], problems: list[str]) -> None:
    """A page is full, newest first, and links to the next."""
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        problems.append(f"GET {path}: {response.status}: {body[:200]!r}")
        return
    page = json.loads(body)
    ids = [b["id"] for b in page["builds"]]
    if len(ids) != PAGE or ids != sorted(ids, reverse=True) or not page.get("links"):
        problems.append(f"GET {path}: not a full page, newest first, with a next link: {ids}")


def _check(kind: str, run: LoadRun, problems: list[str]) -> LoadRun:
    if run.failures:
        problems.append(
            f"{kind}: {run.failures} requests not answered as expected: {run.first_failure}"
        )
    return run


def run(sizes: Sizes, hosts: str, root: str, workdir: Path) -> Results:
    results = Results(sizes, load_before=load_average())
    with contextlib.ExitStack() as stack:
        empty_session, empty_api = _open(stack, hosts, f"{root}-empty", workdir, "api-empty")
        session, api = _open(stack, hosts, root, workdir, "api")
        written: list[str] = []
        known: list[str] = []  # every build id written or submitted in the full store
        empty_known: list[str] = []
        for stage in sizes.stages:
            result = StageResult(stage, finished=0)
            if stage.added:
                log(f"{stage.label}: writing {stage.added:,} finished builds")
                added = fill(
                    session.client,
                    session.layout,
                    stage.added,
                    time.time(),
                    project=PROJECT,
                    spread_s=SPREAD_S,
                )
                written += added
                known += added
            if stage.max_finished is not None:
                _collect(session, stage, written, result, results.problems)
            if stage.through:
                newest = _pass_through(session, stage, result, results.problems)
                # What the store still holds: the pages' markers are builds that exist.
                there = many(session.client, "exists", [session.layout.build(b) for b in known])
                known[:] = [b for b, stat in zip(known, there, strict=True) if stat] + newest
            result.finished = len(_finished(session))
            result.raw_get_ms = (
                _raw_get_ms(empty_session, sizes.requests),
                _raw_get_ms(session, sizes.requests),
            )
            for number in range(sizes.rounds):
                sides = [(False, empty_api, empty_known), (True, api, known)]
                for full, server, ids in sides if number % 2 == 0 else reversed(sides):
                    runs = _measure(server, ids, sizes=sizes, problems=results.problems)
                    (result.full if full else result.empty).append(runs)
            log(
                f"{stage.label}: "
                + ", ".join(f"{kind} {result.ratio(kind):.2f}x" for kind in KINDS)
            )
            results.stages.append(result)
    results.load_after = load_average()
    return results


def _open(
    stack: contextlib.ExitStack, hosts: str, root: str, workdir: Path, name: str
) -> tuple[Session, ApiProcess]:
    """A session on ``root`` (its shards made) and a cool-api serving it, both closed
    with ``stack``."""
    session = Session.open(ZooKeeperSettings(hosts=hosts, root=root, session_timeout_s=30))
    stack.callback(session.close)
    prepare_root(session.client, root)
    api = ApiProcess(workdir, basic_config(workdir, hosts, root), name=name)
    stack.callback(api.stop)
    api.start()
    log(f"cool-api on {api.url}, root {root}")
    return session, api


def _collect(
    session: Session, stage: Stage, written: list[str], result: StageResult, problems: list[str]
) -> None:
    """One GC pass with cool.conf's defaults but the cap: the oldest over it must go."""
    before = len(_finished(session))
    assert stage.max_finished is not None
    settings = GcSettings(max_finished=stage.max_finished)
    started = time.perf_counter()
    report = GarbageCollector(session, settings, identifier="bench").run_once()
    result.gc_s = time.perf_counter() - started
    result.pruned = len(report.pruned)
    expected = before - stage.max_finished
    oldest = sorted(written)[:expected]
    gone = [b for b in oldest if session.client.exists(session.layout.build(b)) is None]
    if result.pruned != expected or len(gone) != expected:
        problems.append(
            f"the GC pass pruned {result.pruned} builds ({len(gone)} of the oldest), "
            f"not the {expected} over the cap"
        )
    log(f"{stage.label}: the GC pass pruned {result.pruned:,} in {result.gc_s:.1f} s")


def _pass_through(
    session: Session, stage: Stage, result: StageResult, problems: list[str]
) -> list[str]:
    """``stage.through`` builds written a chunk at a time, each chunk newer than the
    store's builds, each followed by a GC pass with cool.conf's ``[gc]`` defaults (but
    the cap): the store holds as many builds after it as before, the newest."""
    settings = GcSettings(max_finished=stage.cap)
    held = len(_finished(session))
    chunks = -(-stage.through // stage.chunk)
    written = 0
    # After every build the store holds (those of the stages before finished by now):
    # the history runs on from now at ``stage.rate``, into the future for the
    # benchmark's clock, which no part of cool minds (retention counts back from now).
    finished_at = time.time()
    for _ in range(chunks):
        count = min(stage.chunk, stage.through - written)
        span = count / stage.rate
        finished_at += span
        added = fill(
            session.client, session.layout, count, finished_at, project=PROJECT, spread_s=span
        )
        written += count
        started = time.perf_counter()
        report = GarbageCollector(session, settings, identifier="bench").run_once()
        seconds = time.perf_counter() - started
        znodes = znode_count(session.client) or 0
        result.passes.append((written, znodes, seconds, len(report.pruned)))
        result.pruned += len(report.pruned)
        result.gc_s += seconds
        log(
            f"{stage.label}: {written:,} written, the pass pruned {len(report.pruned):,} "
            f"in {seconds:.1f} s; {znodes:,} znodes on the server"
        )
        there = many(session.client, "exists", [session.layout.build(b) for b in added])
        survivors = sum(1 for stat in there if stat is not None)
        if survivors != min(count, settings.max_finished):
            problems.append(
                f"{stage.label}: {survivors} of the newest chunk's {count} builds left by "
                f"the pass, expected {min(count, settings.max_finished)}"
            )
    expected = max(held + stage.through - settings.max_finished, 0)
    if result.pruned != expected:
        problems.append(
            f"{stage.label}: the passes pruned {result.pruned:,} builds, expected {expected:,}"
        )
    return [b for b, stat in zip(added, there, strict=True) if stat is not None]


# -- the report ------------------------------------------------------------------------


def render(results: Results) -> str:
    lines = [
        "| store | finished builds | request | empty store p50 ms | full store p50 ms "
        "| full / empty (median of rounds) |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for stage in results.stages:
        for kind in KINDS:
            lines.append(
                f"| {stage.stage.label} | {stage.finished:,} | {kind} "
                f"| {stage.p50(kind, full=False):.2f} | {stage.p50(kind, full=True):.2f} "
                f"| {stage.ratio(kind):.2f} |"
            )
    lines.append("")
    for stage in results.stages:
        empty_ms, full_ms = stage.raw_get_ms
        lines.append(
            f"- {stage.stage.label}: {len(stage.full)} rounds each; ZooKeeper's own get "
            f"p50 {empty_ms:.3f} ms on the empty root, {full_ms:.3f} ms on the full one"
            + (
                f"; the GC pass pruned {stage.pruned:,} in {stage.gc_s:.1f} s"
                if stage.stage.max_finished is not None
                else ""
            )
        )
        if stage.passes:
            first, last = stage.passes[0], stage.passes[-1]
            lines.append(
                f"- {stage.stage.label}: {last[0]:,} builds written in {len(stage.passes)} "
                f"chunks, each followed by a GC pass; {stage.pruned:,} pruned in "
                f"{stage.gc_s:.0f} s of passes ({stage.pruned / max(stage.gc_s, 1e-9):,.0f} "
                f"a second); the server's znodes after the first pass {first[1]:,}, after "
                f"the last {last[1]:,}; the first pass {first[2]:.1f} s, the last {last[2]:.1f} s"
            )
    lines += verdicts(results)
    return "\n".join(lines)


def verdicts(results: Results) -> list[str]:
    """Each stage's full store against the empty one, round by round."""
    out = []
    for stage in results.stages:
        for kind in KINDS:
            ratio = stage.ratio(kind)
            met = "met" if ratio <= TARGET_RATIO else "**NOT met**"
            out.append(
                f"- {stage.stage.label}, {kind}: p50 {ratio:.2f}x the empty store's "
                f"(target <= {TARGET_RATIO}x): {met}"
            )
    return out or ["- no full store measured"]


# -- the command -----------------------------------------------------------------------


def _run_on_private_servers(sizes: Sizes) -> Results:
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="cool-bench-store-"))
        server = start_server(heap_mb=ZOOKEEPER_HEAP_MB)
        stack.callback(server.stop)
        log(f"ZooKeeper on {server.hosts} (forceSync=yes) in {server.base_dir}")
        return run(sizes, server.hosts, f"/cool-bench-{uuid.uuid4().hex[:12]}", Path(tmp))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.store",
        description="Submit, get and list latency on an empty store and on full ones.",
    )
    parser.add_argument("--quick", action="store_true", help="small stages, two rounds")
    parser.add_argument(
        "--through",
        type=int,
        metavar="N",
        help=f"builds through the GC in the full run's second stage (default {HISTORY:,}; "
        "1,000,000 takes about 45 minutes here)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.through is not None and not args.quick:
        stages = tuple(
            replace(stage, label=f"{args.through:,} through the GC", through=args.through)
            if stage.through
            else stage
            for stage in sizes.stages
        )
        sizes = replace(sizes, stages=stages)
    return run_and_report(
        lambda: _run_on_private_servers(sizes),
        setup=lambda _: (
            f"ZooKeeper forceSync=yes; a cool-api (http_basic) per store; 1 client; "
            f"{sizes.rounds} rounds a stage, {sizes.requests} requests of each kind a round"
        ),
        render=render,
    )


if __name__ == "__main__":
    sys.exit(main())
