"""Shared by the end-to-end builds on the mini cloud (cool-api, a trust, cool-worker
processes on the openstack provider): the fixtures (conftest.py imports them),
what a project holds of every kind issue 19 added, a build carried through a worker
SIGKILLed after every cloud call, and the delete that must leave the project as it was.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.cool_on_cloud import Client, CoolOnCloud, cool_on
from tests.openstack.helpers import Project, unique
from tests.worker.processes import WorkerProcess
from tests.zk import assert_eventually

DELETED = frozenset({"DELETE_COMPLETE", "DELETE_FAILED"})


@pytest.fixture
def cool(mini_cloud: MiniCloud, tmp_path: Path, zk_hosts: str) -> Iterator[CoolOnCloud]:
    with cool_on(mini_cloud, tmp_path, zk_hosts) as cool:
        yield cool


@pytest.fixture
def octavia(mini_cloud: MiniCloud) -> None:
    """Octavia's API and worker, started once for the session (only these tests use it)."""
    mini_cloud.start_octavia()


@pytest.fixture
def project(mini_cloud: MiniCloud) -> Project:
    """A project of its own and a member of it."""
    return Project.create(mini_cloud)


@pytest.fixture
def admin(mini_cloud: MiniCloud) -> Iterator[Project]:
    """A project of its own whose user holds ``admin``: flavors (Nova) and QoS (Neutron)
    are the administrators' by the clouds' default policies."""
    project = Project.create(mini_cloud, "adm", admin=True)
    yield project
    project.conn.close()


def holdings(project: Project, *, octavia: bool = False) -> dict[str, int]:
    """What the project holds, by kind: :meth:`Project.counts` and issue 19's kinds
    (its QoS policies and their rules, server groups, the private flavors it may use,
    and with ``octavia`` Octavia's objects). The project's user must be an admin (a
    flavor's access list is theirs)."""
    conn, project_id = project.conn, project.project_id
    policies = list(conn.network.qos_policies(project_id=project_id))
    private = list(conn.compute.flavors(is_public=False))
    held = {
        **project.counts(),
        "qos_policies": len(policies),
        "qos_rules": sum(len(p.rules) for p in policies),
        "server_groups": len(list(conn.compute.server_groups())),
        "flavors": sum(
            any(a["tenant_id"] == project_id for a in conn.compute.get_flavor_access(f))
            for f in private
        ),
    }
    if octavia:
        held |= octavia_holdings(project)
    return held


def octavia_holdings(project: Project) -> dict[str, int]:
    """The project's load balancers, listeners, pools, members and health monitors."""
    lb, project_id = project.conn.load_balancer, project.project_id
    pools = list(lb.pools(project_id=project_id))
    return {
        "load_balancers": len(list(lb.load_balancers(project_id=project_id))),
        "listeners": len(list(lb.listeners(project_id=project_id))),
        "pools": len(pools),
        "members": sum(len(list(lb.members(pool.id))) for pool in pools),
        "health_monitors": len(list(lb.health_monitors(project_id=project_id))),
    }


def holds_again(
    project: Project, before: dict[str, int], *, octavia: bool = False, timeout_s: float = 60
) -> None:
    """The project comes to hold what it held (Nova forgets a DELETED server a moment
    after it says so)."""
    assert_eventually(
        lambda: holdings(project, octavia=octavia) == before,
        timeout_s=timeout_s,
        interval_s=0.5,
        message=f"the project holds {before} again",
    )


def made(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What a build added, kind by kind (zeros included: a kind it should not touch)."""
    return {kind: after[kind] - before[kind] for kind in after}


def crash_chain(
    cool: CoolOnCloud,
    client: Client,
    build_id: str,
    *,
    most: int = 200,
    after_steps: int = 4,
    session_timeout_s: float = 1.0,
) -> int:
    """Workers that each make one or two cloud calls and die, two alive at a time (the
    spare is up and waiting when its elder dies), until the build is finished, or every
    step is complete and ``after_steps`` more were started; how many died. Fails when
    ``most`` were started before every step was complete: steps were left uncrashed.

    Once every step is complete, a worker looks each resource up again before it
    finishes the build (the runner's re-check, one find per resource, not checkpointed):
    one that dies within two calls would start it over for ever. ``after_steps`` crashes
    land in it; the caller's ordinary worker then finishes. ``session_timeout_s``: how
    long a dead worker's claim outlives it (ZooKeeper's session), so what each takeover
    waits."""
    crashers: list[WorkerProcess] = []
    steps_done_at: int | None = None  # how many were started when every step was complete

    def alive() -> list[subprocess.Popen[str]]:
        return [c.process for c in crashers if c.process is not None and c.process.poll() is None]

    try:
        while len(crashers) < most:
            if steps_done_at is not None and len(crashers) >= steps_done_at + after_steps:
                break
            for _ in range(2 - len(alive())):
                # One call, then two: a step that needs two calls in a row (a find that
                # finds nothing, then the create) gets past a worker that makes two.
                calls = 2 + len(crashers) % 2
                # One step at a time: steps in parallel would share out the calls so
                # that none ever got two in a row.
                crasher = cool.worker(
                    session_timeout_s=session_timeout_s,
                    extra=f"[testing]\ncrash_after_cloud_calls = {calls}\n"
                    "[worker]\nparallelism = 1\n",
                )
                crasher.start(wait_ready=False)
                crashers.append(crasher)
            build = client.build(build_id)
            if build["status"] in ("CREATE_COMPLETE", "CREATE_FAILED"):
                break
            progress = build["progress"]
            if steps_done_at is None and progress["done"] == progress["total"]:
                steps_done_at = len(crashers)
            with contextlib.suppress(subprocess.TimeoutExpired):
                alive()[0].wait(1.0)  # the elder dies, or a second passes
        else:  # no break: the chain ran out, maybe before the steps did
            assert steps_done_at is not None, f"{most} workers ran out before every step was done"
        return sum(c.process is not None and c.process.poll() == -9 for c in crashers)
    finally:
        for crasher in crashers:
            crasher.kill()


def built_through_crashes(
    cool: CoolOnCloud, client: Client, template: str, **chain: Any
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The build of ``template`` under :func:`crash_chain`, COMPLETE with every resource
    and at least one crash a resource (each takes two calls at least); the build and its
    resources."""
    build_id = client.submit(template, name=unique("crash"))["id"]
    crashes = crash_chain(cool, client, build_id, **chain)
    build = client.build(build_id)
    if build["status"] != "CREATE_COMPLETE":  # in the re-check: an ordinary worker ends it
        cool.worker().start()
        build = client.wait_finished(build_id)
    assert build["status"] == "CREATE_COMPLETE", build
    resources = client.resources(build_id)
    assert crashes >= len(resources), f"{crashes} crashes: the chain missed steps"
    assert all(r["status"] == "CREATE_COMPLETE" for r in resources.values()), resources
    return build, resources


def delete_completes(
    cool: CoolOnCloud, client: Client, build_id: str, *, start_worker: bool = True
) -> None:
    """A worker (a new one unless ``start_worker`` is false) deletes the build,
    DELETE_COMPLETE (the caller then checks the cloud)."""
    if start_worker:
        cool.worker().start()
    client.delete(build_id)
    deleted = client.wait_finished(build_id, statuses=DELETED)
    assert deleted["status"] == "DELETE_COMPLETE", deleted


def fails_and_rolls_back(
    cool: CoolOnCloud, client: Client, template: str, resource: str, resource_type: str
) -> str:
    """The build fails at ``resource``'s create and rolls back; the note's error."""
    cool.worker().start()
    submitted = client.submit(template, name=unique("fails"))
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "ROLLBACK_COMPLETE", build
    note = build["note"]
    assert (note["resource"], note["type"], note["action"]) == (
        resource,
        resource_type,
        "CREATE",
    ), note
    return str(note["error"])
