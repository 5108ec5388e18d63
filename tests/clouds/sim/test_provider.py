"""The simulated cloud as a provider: every type, latency, adoption, audit, many processes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cool.clouds.base import ProviderError, ResourceGoneError
from cool.clouds.sim.provider import SimProvider, SimStatus
from cool.resources.registry import ResourceTypeRegistry
from tests.clouds.helpers import (
    BUILD,
    NET,
    TYPE_OF,
    WORLD,
    FakeClock,
    build_world,
    create_net,
    ctx,
    in_threads,
    observe,
)

# -- every type ------------------------------------------------------------------


def test_sim_simulates_every_declared_cloud_type(
    sim: SimProvider, registry: ResourceTypeRegistry
) -> None:
    declared = {t.name for t in registry if t.needs_cloud}
    assert {kind for _, kind, _ in WORLD} == declared
    assert all(sim.supports(kind) for kind in declared)
    assert not sim.supports("OS::Heat::None")
    with pytest.raises(ProviderError, match="does not simulate"):
        sim.create(ctx("x", "OS::Heat::None"), {})


@pytest.mark.parametrize("name", [name for name, _, _ in WORLD])
def test_sim_type_creates_observes_and_deletes(
    sim: SimProvider, registry: ResourceTypeRegistry, name: str
) -> None:
    ids = build_world(sim)
    kind, step = TYPE_OF[name], ctx(name, TYPE_OF[name])
    attributes = observe(sim, ids, name)
    declared = registry.get(kind)
    assert declared is not None
    assert set(declared.attributes) <= set(attributes)
    assert attributes["id"] == ids[name]
    assert attributes["show"] == {k: v for k, v in attributes.items() if k != "show"}
    assert [found.physical_id for found in sim.find(step)] == [ids[name]]

    sim.delete(step, ids[name])
    assert sim.is_deleted(step, ids[name])
    assert sim.find(step) == []
    with pytest.raises(ResourceGoneError):
        sim.observe(step, ids[name])
    sim.delete(step, ids[name])  # again: not an error
    resource = sim.resource(ids[name])
    assert resource is not None
    assert resource.status is SimStatus.DELETED


# -- latency ------------------------------------------------------------------------


def test_sim_status_moves_from_build_to_active_after_the_latency(
    make_sim: Callable[..., SimProvider], clock: FakeClock
) -> None:
    sim = make_sim(latency_s=5.0)
    step = ctx("web", "OS::Nova::Server")
    physical_id = sim.create(step, {"flavor": "f", "image": "i"})
    observed = sim.observe(step, physical_id)
    assert (observed.ready, observed.failed, observed.attributes["status"]) == (
        False,
        None,
        "BUILD",
    )
    clock.advance(4.9)
    assert not sim.observe(step, physical_id).ready
    clock.advance(0.1)
    assert sim.observe(step, physical_id).attributes["status"] == "ACTIVE"
    with sqlite3.connect(sim.db_path) as conn:  # the file reads true to a person
        row = conn.execute("SELECT status FROM resources").fetchone()
    conn.close()
    assert row == ("ACTIVE",)

    sim.delete(step, physical_id)
    assert not sim.is_deleted(step, physical_id)
    assert [f.physical_id for f in sim.find(step)] == [physical_id]  # DELETING: still there
    assert sim.live_resources()[0].status is SimStatus.DELETING
    clock.advance(5.0)
    assert sim.is_deleted(step, physical_id)
    assert sim.find(step) == []


def test_sim_real_clock_latency_passes(make_sim: Callable[..., SimProvider]) -> None:
    sim = make_sim(latency_s=0.05, clock=time.time)
    step = ctx("net", "OS::Neutron::Net")
    physical_id = sim.create(step, {})
    deadline = time.monotonic() + 2.0
    while not sim.observe(step, physical_id).ready:
        assert time.monotonic() < deadline, "never became ready"
        time.sleep(0.01)


# -- adoption, audit, calls -----------------------------------------------------------


def test_sim_find_adopts_and_audit_counts_duplicates_and_leaks(
    sim: SimProvider, clock: FakeClock
) -> None:
    step = ctx("web", "OS::Nova::Server")
    first = sim.create(step, {"flavor": "f", "image": "i"})
    clock.advance(1)
    second = sim.create(step, {"flavor": "f", "image": "i"})  # a create racing a takeover
    other = sim.create(ctx("db", "OS::Nova::Server", "OTHER"), {"flavor": "f", "image": "i"})
    assert [f.physical_id for f in sim.find(step)] == [first, second]  # oldest first
    assert sim.find(step)[0].created_at == clock.now - 1
    assert [(d.build_id, d.resource_name, d.live) for d in sim.duplicates()] == [(BUILD, "web", 2)]
    leaked = sim.leaks({(BUILD, "web")})
    assert [r.physical_id for r in leaked] == [other]
    assert sim.leaks({(BUILD, "web")}, build_ids={BUILD}) == []

    sim.delete(step, second)
    (line,) = sim.audit(BUILD)
    assert (line.live, line.created, line.is_duplicated) == (1, 2, False)
    assert [r.physical_id for r in sim.live_resources(BUILD)] == [first]
    assert sim.live_resources(BUILD)[0].build_id == BUILD


def test_sim_deletes_are_idempotent(sim: SimProvider) -> None:
    step = ctx("net", NET)
    sim.delete(step, "no-such-id")
    assert sim.is_deleted(step, "no-such-id")
    physical_id = create_net(sim)
    for _ in range(3):
        sim.delete(step, physical_id)
    assert sim.is_deleted(step, physical_id)
    with pytest.raises(ResourceGoneError):
        sim.observe(step, "no-such-id")
    with pytest.raises(ResourceGoneError):  # an id of another type is not this resource
        sim.observe(ctx("net", "OS::Neutron::Port"), create_net(sim, "other"))


def test_sim_calls_show_a_fenced_worker_made_no_further_call(
    make_sim: Callable[..., SimProvider],
) -> None:
    old, new = make_sim(caller="worker-old"), make_sim(caller="worker-new")
    step = ctx("net", NET)
    physical_id = old.create(step, {})
    old.observe(step, physical_id)
    fenced_at = new.last_call_id()
    new.find(step)
    new.observe(step, physical_id)
    assert [c.action for c in new.calls(caller="worker-old")] == ["create", "observe"]
    assert new.calls(caller="worker-old", after_id=fenced_at) == []
    assert [c.action for c in new.calls(after_id=fenced_at)] == ["find", "observe"]
    call = new.calls(action="create")[0]
    assert (call.build_id, call.resource_name, call.type, call.physical_id, call.pid) == (
        BUILD,
        "net",
        NET,
        physical_id,
        os.getpid(),
    )


def test_sim_schema_is_idempotent_and_shared(tmp_path: Path, clock: FakeClock) -> None:
    with SimProvider(tmp_path / "deep" / "sim.db", clock=clock) as first:
        physical_id = create_net(first)
    with SimProvider(tmp_path / "deep" / "sim.db", clock=clock, record_calls=False) as second:
        assert second.resource(physical_id) is not None
        create_net(second, "again")
        assert len(second.calls()) == 1  # only the first provider's call
        with sqlite3.connect(second.db_path) as conn:
            mode = conn.execute("PRAGMA journal_mode").fetchone()
        conn.close()
        assert mode == ("wal",)


# -- many threads, many processes ------------------------------------------------------


def test_sim_threads_share_one_provider(sim: SimProvider) -> None:
    def work(n: int) -> None:
        for i in range(40):
            step = ctx(f"t{n}-{i}", NET)
            sim.observe(step, sim.create(step, {}))

    assert in_threads(work, 6) == []
    assert len(sim.live_resources()) == 240


_WORKER = """
import sys, time
from pathlib import Path
from cool.clouds.base import StepContext
from cool.clouds.sim.provider import SimProvider

db, n, count, network, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:6]
with SimProvider(db, caller=f"proc-{n}") as sim:
    while not Path(go).exists():
        time.sleep(0.005)
    for i in range(count):
        kind = "OS::Neutron::Port" if i % 2 else "OS::Neutron::FloatingIP"
        step = StepContext(f"B{n}", f"r{i}", kind, "demo")
        props = {"network": network} if i % 2 else {"floating_network": "public"}
        sim.create(step, props)
        assert len(sim.find(step)) == 1
"""


def test_sim_many_processes_lose_nothing(tmp_path: Path) -> None:
    db, go, count = tmp_path / "sim.db", tmp_path / "go", 150
    with SimProvider(db) as sim:
        network = sim.create(ctx("net", NET), {})
        sim.create(
            ctx("subnet", "OS::Neutron::Subnet"), {"network": network, "cidr": "10.9.0.0/22"}
        )
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(db), str(n), str(count), network, str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(4)
        ]
        go.touch()
        for process in processes:
            _, err = process.communicate(timeout=60)
            assert (process.returncode, err) == (0, ""), err

        resources = sim.live_resources()
        assert len(resources) == 2 + 4 * count
        assert len({r.physical_id for r in resources}) == len(resources)
        assert sim.duplicates() == []
        ports = [r.attributes for r in resources if r.type == "OS::Neutron::Port"]
        assert len({p["fixed_ips"][0]["ip_address"] for p in ports}) == len(ports) == 2 * count
        assert len({p["mac_address"] for p in ports}) == len(ports)
        floating = [r for r in resources if r.type == "OS::Neutron::FloatingIP"]
        assert len({r.attributes["floating_ip_address"] for r in floating}) == 2 * count
        creates = sim.calls(action="create")
        assert len(creates) == 2 + 4 * count
        assert {c.outcome for c in creates} == {"ok"}
        assert {c.caller for c in creates} >= {f"proc-{n}" for n in range(4)}


_FOREVER = """
import sys
from cool.clouds.base import StepContext
from cool.clouds.sim.provider import SimProvider

sim = SimProvider(sys.argv[1], caller="doomed")
i = 0
while True:
    sim.create(StepContext("DOOMED", f"r{i}", "OS::Neutron::Port", "demo"), {"network": "private"})
    i += 1
"""


def test_sim_survives_a_killed_worker(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim:
        process = subprocess.Popen([sys.executable, "-c", _FOREVER, str(db)])
        try:
            deadline = time.monotonic() + 20
            while len(sim.calls(caller="doomed")) < 50:
                assert process.poll() is None, "the worker died on its own"
                assert time.monotonic() < deadline, "the worker made no calls"
                time.sleep(0.01)
        finally:
            process.kill()  # SIGKILL, mid-transaction or not
            process.wait()
        created = {r.physical_id for r in sim.live_resources("DOOMED")}
        called = {c.physical_id for c in sim.calls(caller="doomed") if c.outcome == "ok"}
        assert created == called  # a row and its call commit together, or neither does
        step = ctx("after", "OS::Neutron::Port")
        sim.observe(step, sim.create(step, {"network": "private"}))
