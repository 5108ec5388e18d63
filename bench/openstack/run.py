"""cool on a real (mini) OpenStack cloud against a hand-written openstacksdk script.

Run from the repository root::

    .venv/bin/python -m bench.openstack            # 3 rounds (~6 min on 2 cores)
    .venv/bin/python -m bench.openstack --quick    # 1 round, a smoke run (~3 min)
    .venv/bin/python -m bench.openstack --poll-max 1   # workers' backoff capped at 1 s
    .venv/bin/python -m bench.openstack --parallelism 1   # a build's steps one at a time

It starts a private ZooKeeper, the mini cloud (:mod:`harness.mini_cloud.cloud`:
Keystone, Neutron, Nova and Cinder with fake drivers, Glance, Placement), a
cool-api with Keystone auth and trusts, and ``--workers`` cool-workers on the
``openstack`` provider, all on 127.0.0.1 with free ports. Then, in rounds that
alternate which side goes first (so both share the machine's noise), a project
member builds examples/multi-tier.yaml's 16 resources twice:

1. **the baseline** (:mod:`bench.openstack.baseline`): openstacksdk calls in
   this process, one resource after another, each waited for until ready,
   then deleted in reverse order;
2. **cool**: the template submitted to cool-api and followed until
   CREATE_COMPLETE, then deleted and followed until DELETE_COMPLETE;
3. **the parallel script**, for context: the baseline's very steps, run as the
   template's graph allows, ``[worker] parallelism`` at once: a parallel engine
   with no bookkeeping, on the same cloud.

The ratios cool/baseline are measured in the same run, per round, and their
median is judged: cool within 1.2x of the script, and faster where the graph
lets steps run in parallel. For context it also prints each resource's step as
the script and cool's events time it, the critical path of the graph with the
script's step times (what a perfect parallel engine would take), and the API
calls each side made (the cloud's access logs, :class:`bench.openstack.cloud.CallCounter`).

After each round the project must hold what it held before (the database's
retained volume removed by hand for both sides): a leak is reported and makes
the command exit 1, as a build that fails does. A missed target does not. No
process it starts outlives it (Ctrl-C and SIGTERM included), and every wait
is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench._report import log, run_and_report
from bench._runs import default_worker_settings
from bench._workers import Fleet, load_average
from bench._zk import start_server
from bench.openstack.baseline import RETAINED, HandWritten
from bench.openstack.cloud import (
    CallCounter,
    Member,
    await_status,
    claim_seconds,
    deployment,
    step_seconds,
    unique,
)
from bench.openstack.report import Results, Round, Side, render
from cool.cli.client import CoolClient
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import compile_template
from harness.api import ApiProcess
from harness.mini_cloud.cloud import MiniCloud
from harness.mini_cloud.venv import ensure_venv

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO / "examples" / "multi-tier.yaml"
BUILD_TIMEOUT_S = 300.0  # one create or delete of the whole build
# The script polls every second, as openstacksdk's wait helpers are usually called
# (their own default is 2 s): fixed, whatever cool.conf's schedule.
SCRIPT_POLL_S = 1.0
SETTLE_TIMEOUT_S = 60.0  # the project back to what it held


# -- the two sides ---------------------------------------------------------------------


def _diff(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {kind: after[kind] - before[kind] for kind in before if after[kind] != before[kind]}


def run_baseline(
    member: Member,
    cloud: MiniCloud,
    calls: CallCounter,
    interval_s: float,
    *,
    needs: Mapping[str, set[str]] | None = None,
    parallelism: int = 1,
) -> Side:
    """The hand-written script once: create, delete; the retained volume removed after.
    With ``needs`` (the template's graph), its steps in parallel as the graph allows."""
    script = HandWritten(
        member.conn,
        unique("hand"),
        image=cloud.image_name,
        flavor=cloud.flavor_name,
        public_network=cloud.public_network,
        interval_s=interval_s,
    )
    try:
        calls.take()
        created = script.create(needs=needs, parallelism=parallelism)
        create_calls, create_shapes = calls.take(), calls.shapes
        deleted = script.delete(needs=needs, parallelism=parallelism)
        delete_calls, delete_shapes = calls.take(), calls.shapes
        script.delete_retained()
    except BaseException:
        script.clean_up()
        raise
    return Side(
        created.seconds,
        deleted.seconds,
        created.steps,
        deleted.steps,
        create_calls,
        delete_calls,
        create_shapes=create_shapes,
        delete_shapes=delete_shapes,
    )


def run_cool(
    member: Member, client: CoolClient, calls: CallCounter, template: str, image: str
) -> Side:
    """The template through cool-api once: submit and follow, delete and follow."""
    request = {"template": template, "name": unique("tier"), "parameters": {"image": image}}
    calls.take()
    started = time.perf_counter()
    build = client.submit(request, idempotency_key=str(uuid.uuid4()))
    build_id = build["id"]
    built, marker = await_status(
        client, build_id, "CREATE_COMPLETE", marker=None, timeout_s=BUILD_TIMEOUT_S
    )
    create_s = time.perf_counter() - started
    create_calls, create_shapes = calls.take(), calls.shapes
    if built["status"] != "CREATE_COMPLETE":
        raise RuntimeError(f"cool: build {build_id} ended {built['status']}: {built.get('note')}")
    retained = {
        r["name"]: r["physical_id"] for r in client.resources(build_id) if r["name"] in RETAINED
    }
    calls.take()
    started = time.perf_counter()
    client.delete(build_id)
    deleted, _ = await_status(
        client, build_id, "DELETE_COMPLETE", marker=marker, timeout_s=BUILD_TIMEOUT_S
    )
    delete_s = time.perf_counter() - started
    delete_calls, delete_shapes = calls.take(), calls.shapes
    if deleted["status"] != "DELETE_COMPLETE":
        raise RuntimeError(f"cool: delete of {build_id} ended {deleted['status']}")
    for volume_id in retained.values():  # kept by deletion_policy: Retain, untimed
        volume = member.conn.block_storage.get_volume(volume_id)
        member.conn.block_storage.delete_volume(volume)
        member.conn.block_storage.wait_for_delete(volume, interval=1, wait=120)
    events = list(client.all_events(build_id))
    split = next(
        (i for i, e in enumerate(events) if e["resource"] is None and "DELETE" in e["new_status"]),
        len(events),
    )
    return Side(
        create_s,
        delete_s,
        step_seconds(events[:split], "CREATE"),
        step_seconds(events[split:], "DELETE"),
        create_calls,
        delete_calls,
        claim_seconds(events[:split], "CREATE"),
        claim_seconds(events[split:], "DELETE"),
        create_shapes,
        delete_shapes,
    )


def run(
    cloud: MiniCloud,
    hosts: str,
    root: str,
    workdir: Path,
    *,
    rounds: int = 3,
    workers: int = 2,
    poll_max_s: float | None = None,
    parallelism: int | None = None,
) -> Results:
    """Deploy cool on ``cloud`` (its ZooKeeper at ``hosts``, under ``root``) and measure
    ``rounds`` rounds; every process started here is stopped before it returns.
    ``poll_max_s`` replaces cool.conf's ``[worker] poll_interval_max`` (for context:
    a backoff no longer than the script's fixed interval); ``parallelism`` its
    ``[worker] parallelism`` (1: a build's steps one at a time, as the script makes
    them, which tells cool's own cost per step from the cloud's queueing)."""
    settings = default_worker_settings()
    interval_s = settings.runner.poll_interval_s
    poll_max = settings.runner.poll_interval_max_s if poll_max_s is None else poll_max_s
    results = Results(workers, interval_s, max(poll_max, interval_s), load_before=load_average())
    results.script_interval_s = SCRIPT_POLL_S
    results.parallelism = settings.runner.parallelism if parallelism is None else parallelism
    options = {"poll_interval_max": poll_max_s, "parallelism": parallelism}
    extra = "".join(f"{k} = {v}\n" for k, v in options.items() if v is not None)
    extra = f"[worker]\n{extra}" if extra else ""
    template = TEMPLATE_PATH.read_text()
    results.plan = compile_template(
        template, ResourceTypeRegistry.load(), {"image": cloud.image_name}
    )
    with contextlib.ExitStack() as stack:
        member = Member.create(cloud)
        stack.callback(member.close)
        deployed = deployment(cloud, hosts, root)
        api = ApiProcess(workdir, deployed.api_config, name="cool-api")
        stack.callback(api.stop)
        api.start()
        fleet = Fleet(workdir, hosts=hosts, sim_db=workdir / "unused-sim.sqlite")
        stack.callback(fleet.close)
        fleet.start(root, workers, extra=deployed.worker_extra + extra)
        log(f"cool-api on {api.url}, {workers} cool-workers on the openstack provider")
        client = member.cool(api)
        calls = CallCounter(cloud)
        needs = {r.name: set(r.depends_on) for r in results.plan.resources}
        sides = ["baseline", "cool", "parallel"]
        for number in range(rounds):
            order = sides[number % 3 :] + sides[: number % 3]
            this = Round(order[0])
            results.rounds.append(this)
            for side in order:
                before = member.counts()
                try:
                    if side == "baseline":
                        this.baseline = run_baseline(member, cloud, calls, SCRIPT_POLL_S)
                    elif side == "parallel":
                        this.parallel = run_baseline(
                            member,
                            cloud,
                            calls,
                            SCRIPT_POLL_S,
                            needs=needs,
                            parallelism=results.parallelism,
                        )
                    else:
                        this.cool = run_cool(member, client, calls, template, cloud.image_name)
                except Exception as exc:  # reported; the project's check and the next round go on
                    results.problems.append(
                        f"round {number + 1}, {side}: {type(exc).__name__}: {exc}"
                    )
                after = member.settles_to(before, timeout_s=SETTLE_TIMEOUT_S)
                if after != before:
                    this.leaks[side] = _diff(before, after)
                    results.problems.append(
                        f"round {number + 1}, {side}: the project holds {this.leaks[side]} "
                        "more than before"
                    )
                measured = getattr(this, side)
                if measured is not None:
                    log(
                        f"round {number + 1}, {side}: create {measured.create_s:.1f} s, "
                        f"delete {measured.delete_s:.1f} s"
                    )
    results.load_after = load_average()
    return results


# -- the command -------------------------------------------------------------------------


def _run_on_private_servers(
    rounds: int, workers: int, poll_max_s: float | None, parallelism: int | None
) -> Results:
    """Start ZooKeeper and the mini cloud, measure, and stop everything whatever happens."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cool-bench-os-")))
        server = start_server()
        stack.callback(server.stop)
        log(f"ZooKeeper on {server.hosts} in {server.base_dir}")
        started = time.monotonic()
        cloud = MiniCloud(tmp / "cloud", venv=ensure_venv())
        stack.callback(cloud.stop)
        cloud.start()
        log(f"mini cloud on {cloud.auth_url} in {time.monotonic() - started:.0f} s")
        workdir = tmp / "cool"
        workdir.mkdir()
        return run(
            cloud,
            server.hosts,
            f"/cool-bench-{uuid.uuid4().hex[:12]}",
            workdir,
            rounds=rounds,
            workers=workers,
            poll_max_s=poll_max_s,
            parallelism=parallelism,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.openstack",
        description="cool against a hand-written openstacksdk script on the mini cloud.",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both sides (3)")
    parser.add_argument("--workers", type=int, default=2, help="cool-worker processes (2)")
    parser.add_argument(
        "--poll-max",
        type=float,
        default=None,
        metavar="S",
        help="cool-workers' [worker] poll_interval_max (default: cool.conf's, 2 s)",
    )
    parser.add_argument(
        "--parallelism",
        type=int,
        default=None,
        metavar="N",
        help="cool-workers' [worker] parallelism (default: cool.conf's, 4); 1 makes a "
        "build's steps one at a time, as the script does",
    )
    parser.add_argument("--quick", action="store_true", help="one round: a smoke run")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else max(args.rounds, 1)
    return run_and_report(
        lambda: _run_on_private_servers(
            rounds, max(args.workers, 1), args.poll_max, args.parallelism
        ),
        setup=lambda results: (
            f"mini cloud (fake Nova and Cinder drivers); {results.workers} cool-workers "
            f"({results.parallelism} steps of a build at once; poll every "
            f"{results.poll_interval_s:g} s backing off to "
            f"{results.poll_interval_max_s:g} s; the script polls every "
            f"{results.script_interval_s:g} s)"
        ),
        render=render,
    )


if __name__ == "__main__":
    sys.exit(main())
