"""The chaos run: builds through the REST API while workers, ZooKeeper and cool-api are hurt.

    .venv/bin/python -m bench.chaos [--seed N] [--duration S] [--builds N] [--json FILE] ...

Starts a 3-node ZooKeeper ensemble, cool-api and ``--workers`` cool-workers on
the sim (short session timeout, small latency) in a run directory that is kept
(``--dir``; logs of every process there). For ``--duration`` seconds it submits
a seeded mix of builds (:mod:`bench.chaos.builds`) through the API while a
seeded injector (:mod:`bench.chaos.faults`) kills, stops and drains workers,
kills ZooKeeper's leader, stops a follower, restarts cool-api and holds a
cloud call until its claim moves. Then it stops injecting, waits at most
``--settle`` seconds for the builds to finish, reads everything back and
checks it (:mod:`bench.chaos.report`): a table, ``--json FILE``, and exit
status 1 on any violation. Everything it started is stopped in a ``finally``, on a
Ctrl-C or SIGTERM too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench._report import run_command
from bench.chaos.api import ApiClient, ApiGaveUpError
from bench.chaos.builds import DOOMED, Build, Mix, draw
from bench.chaos.cluster import Cluster, ClusterSettings
from bench.chaos.faults import Injector
from bench.chaos.load import TERMINAL, Load
from bench.chaos.report import (
    Report,
    judge_builds,
    judge_logs,
    judge_sim,
    judge_takeovers,
    render,
)
from cool.clouds.sim.provider import SimProvider

_SETTLE_LOOK_S = 2.0
_MIX = Mix()


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duration", type=float, default=120.0, help="injection window, seconds")
    p.add_argument("--builds", type=int, default=60, help="builds submitted over the window")
    p.add_argument("--settle", type=float, default=120.0, help="most seconds to wait after it")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--capacity", type=int, default=8, help="builds per worker at once")
    p.add_argument("--session-timeout", type=float, default=4.0, help="seconds")
    p.add_argument("--latency", type=float, default=0.2, help="sim latency, seconds")
    p.add_argument("--poll-interval", type=float, default=0.2, help="seconds")
    p.add_argument("--stop-timeout", type=float, default=10.0, help="a drain's bound, seconds")
    p.add_argument("--max-claims", type=int, default=5, help="claims before a build is poison")
    p.add_argument("--extra-kills", type=int, default=4, help="SIGKILLs beyond one of each fault")
    p.add_argument("--rolling-restart", action="store_true", help="drain every worker in turn")
    p.add_argument("--medium", type=float, default=_MIX.medium, help="share of medium builds")
    p.add_argument("--large", type=float, default=_MIX.large, help="share of large builds")
    p.add_argument("--fail", type=float, default=_MIX.fail, help="share failing on purpose")
    p.add_argument("--no-rollback", type=float, default=_MIX.no_rollback, help="of the failing")
    p.add_argument("--cancel", type=float, default=_MIX.cancel, help="share cancelled")
    p.add_argument("--delete", type=float, default=_MIX.delete, help="share deleted")
    p.add_argument("--api-retry", type=float, default=60.0, help="seconds a request is retried")
    p.add_argument("--dir", type=Path, default=None, help="run directory (default: a new one)")
    p.add_argument("--json", type=Path, default=None, help="write the report here")
    return p.parse_args(argv)


def _settled(client: ApiClient, builds: Sequence[Build], load: Load) -> bool:
    """Every build finished as far as its kind goes, and no cancel or delete still to send."""
    if load.pending_follow_ups():
        return False
    statuses = {b["id"]: b["status"] for b in client.pages("/v1/builds", "builds")}
    for build in builds:
        if not build.build_id:
            continue
        status = statuses.get(build.build_id, "")
        if status not in TERMINAL:
            return False
        if status == "CREATE_FAILED" and build.rollback:
            return False  # its rollback is still to run
        if build.kind == "delete" and build.action_status == 202 and status == "CREATE_COMPLETE":
            return False  # its delete is still to start
    return True


def run(args: argparse.Namespace) -> Report:
    directory = args.dir or Path(tempfile.mkdtemp(prefix="cool-chaos-"))
    directory.mkdir(parents=True, exist_ok=True)
    settings = ClusterSettings(
        workers=args.workers,
        session_timeout_s=args.session_timeout,
        latency_s=args.latency,
        poll_interval_s=args.poll_interval,
        stop_timeout_s=args.stop_timeout,
        max_claims=args.max_claims,
        capacity=args.capacity,
    )
    mix = Mix(args.medium, args.large, args.fail, args.no_rollback, args.cancel, args.delete)
    recorded = {
        **{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        **asdict(settings),
        "directory": str(directory),
    }
    report = Report(recorded)
    builds = draw(args.seed, args.builds, args.duration, mix)
    cluster = Cluster(directory, settings)
    print(f"chaos run in {directory}", flush=True)
    began = time.monotonic()
    client: ApiClient | None = None
    try:
        cluster.start()
        report.seconds["start"] = round(time.monotonic() - began, 1)
        with SimProvider(cluster.sim_db) as sim:
            sim.arm(DOOMED, "create", times=None, mode="error_status",
                    message="simulated failure: the volume went to ERROR (on purpose)")  # fmt: skip
        client = ApiClient(cluster.url, retry_s=args.api_retry)
        started_at = time.monotonic()
        load = Load(client, builds, started_at)
        injector = Injector(
            cluster,
            client,
            args.seed,
            args.duration,
            extra_kills=args.extra_kills,
            rolling=args.rolling_restart,
            submit=load.submit,
        )
        load.start()
        injector.start(started_at)
        try:
            time.sleep(max(started_at + args.duration - time.monotonic(), 0))
            load.window_closed.set()
            settle_by = time.monotonic() + args.settle
            injector.join(max(settle_by - time.monotonic(), 1.0))
            everything = [*builds, *injector.own_builds]
            while time.monotonic() < settle_by:
                try:
                    if _settled(client, everything, load):
                        break
                except ApiGaveUpError:
                    pass
                time.sleep(_SETTLE_LOOK_S)
        finally:
            load.stop.set()
            injector.stop.set()
            load.join(30)
            injector.join(60)
        report.seconds["run"] = round(time.monotonic() - started_at, 1)
        everything = [*builds, *injector.own_builds]
        found = judge_builds(report, client, everything)
        judge_sim(report, cluster.sim_db, everything, found["ledgers"])
        judge_takeovers(report, found["events"], injector.deaths)
        report.faults = [fault.to_dict() for fault in injector.journal]
        report.fault_errors = list(injector.errors)
        report.api_statuses = {str(k): v for k, v in sorted(client.statuses.items())}
        report.api_connection_errors = dict(client.connection_errors)
        report.bad_5xx = list(client.bad_5xx)
    finally:
        if client is not None:
            client.close()
        cluster.close()
    judge_logs(report, cluster.logs())
    report.seconds["total"] = round(time.monotonic() - began, 1)
    return report


def _conclude(report: Report, json_path: Path | None) -> int:
    render(report)
    if json_path is not None:
        json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 1 if report.violations() else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    return run_command(lambda: run(args), lambda report, _: _conclude(report, args.json))


if __name__ == "__main__":
    sys.exit(main())
