"""Chaos (issue 5): a worker SIGKILLed at every step of a build, and ZooKeeper restarted
under running builds. Real ZooKeeper, real ``cool-worker`` processes, the sim cloud.

Crash at every step: a build is first run undisturbed by an in-process worker that
counts its fenced ZooKeeper writes and its cloud calls, with the settings the
crashing worker runs with (one step at a time, so the k-th write is the same one in
every run). Then for every k a ``cool-worker`` subprocess SIGKILLs itself right after
its k-th write (``crash_after_zk_writes``) or as it starts its k-th cloud call
(``crash_after_cloud_calls``); a rescuer started after the crash takes the build over.
Every k must end exactly as the undisturbed run did: status, reason, note, outputs,
each resource's recorded status, and in the sim the same live resources, once each,
nothing leaked; the same history of statuses, and no step's resource ever created
twice. Each k runs in a ZooKeeper chroot and a sim file of its own, a few at a time, so
that waiting for dead sessions to expire overlaps.

ZooKeeper restarted (same data directory, so sessions survive) in the middle of
builds: every build still ends as it should, once in the sim, nothing leaked.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.control import Requests
from cool.store.records import BuildState
from cool.store.session import Connection, Session
from cool.store.signals import SignalBook
from cool.worker.runner import RunnerSettings
from cool.worker.service import Worker, WorkerSettings
from cool.worker.signals import SignalProvider
from harness.zk_clients import remove_tree
from harness.zookeeper import ZooKeeperServer
from tests.worker.helpers import (
    FAST,
    open_store,
    resize,
    running_worker,
    settings_for,
    statuses,
    submit,
    wait_terminal,
)
from tests.worker.processes import SIGNAL_ENDPOINT, WorkerProcess
from tests.zk import assert_eventually, drop_connections

pytestmark = pytest.mark.slow

# Six resources with references, outputs that depend on neither the build id nor timing.
NETWORKED_SERVER = """
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net, properties: {name: crash-net}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.30.0.0/24}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}}]
  vol: {type: OS::Cinder::Volume, properties: {size: 2, name: crash-vol}}
  server:
    type: OS::Nova::Server
    properties:
      name: crash-server
      image: cirros
      flavor: m1.tiny
      networks: [{port: {get_resource: port}}]
  attach:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: server}, volume_id: {get_resource: vol}}
outputs:
  net_name: {value: {get_attr: [net, name]}}
  cidr: {value: {get_attr: [subnet, cidr]}}
  server_name: {value: {get_attr: [server, name]}}
  size: {value: {get_attr: [vol, size]}}
"""

# The server's create always fails (the sim is armed for "doomed"); it waits for the kept
# volume, so the volume is created before the failure whatever the order of the steps.
FAILS_AT_THE_SERVER = """
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net, properties: {name: crash-net}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.30.0.0/24}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}}]
  vol:
    type: OS::Cinder::Volume
    deletion_policy: Retain
    properties: {size: 1, name: kept-vol}
  doomed:
    type: OS::Nova::Server
    depends_on: vol
    properties:
      name: crash-server
      image: cirros
      flavor: m1.tiny
      networks: [{port: {get_resource: port}}]
"""

# A group of volumes and two policies: the crashing worker runs a resize (an update).
SCALED_VOLUMES = """
heat_template_version: wallaby
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      desired_capacity: 2
      max_size: 4
      resource:
        type: OS::Cinder::Volume
        properties: {size: 1}
  grow:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: asg}
      scaling_adjustment: 2
  shrink:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: exact_capacity
      auto_scaling_group_id: {get_resource: asg}
      scaling_adjustment: 1
outputs:
  size: {value: {get_attr: [asg, current_size]}}
  sizes: {value: {get_attr: [asg, outputs_list, size]}}
"""

NO_HOST = "No valid host was found"

# The crashing worker: one step at a time, so that its k-th write is always the same
# write; dead sessions expire fast; no garbage collector.
CRASHER_SESSION_TIMEOUT_S = 1.0
CRASHER = WorkerSettings(
    capacity=8,
    step_threads=16,
    claim_grace_s=0.2,
    stop_timeout_s=20.0,
    runner=RunnerSettings(
        parallelism=1, poll_interval_s=0.02, guard_wait_s=CRASHER_SESSION_TIMEOUT_S
    ),
)
CRASHER_CONFIG = "[worker]\nparallelism = 1\n[gc]\nenabled = false\n"

AT_ONCE = 3  # crash-and-rescue runs in flight together


@dataclass(frozen=True, slots=True)
class Variant:
    template: str
    expected: BuildStatus
    failing: str | None = None  # the resource whose every create fails
    delete: bool = False  # built undisturbed first; the crashing worker runs the delete
    resize: str | None = None  # built undisturbed first; the crashing worker runs this
    # policy's resize
    # A create then takes a few polls, and its physical id is recorded before it is ready
    # (one more write per resource). How many polls depends on timing: only the writes
    # are counted then, not the cloud calls.
    latency_s: float = 0.0


VARIANTS = {
    "create": Variant(NETWORKED_SERVER, BuildStatus.CREATE_COMPLETE),
    "create_slow": Variant(NETWORKED_SERVER, BuildStatus.CREATE_COMPLETE, latency_s=0.3),
    "rollback": Variant(FAILS_AT_THE_SERVER, BuildStatus.ROLLBACK_COMPLETE, failing="doomed"),
    "delete": Variant(NETWORKED_SERVER, BuildStatus.DELETE_COMPLETE, delete=True),
    "grow": Variant(SCALED_VOLUMES, BuildStatus.UPDATE_COMPLETE, resize="grow"),
    "shrink": Variant(SCALED_VOLUMES, BuildStatus.UPDATE_COMPLETE, resize="shrink"),
}
WRITES, CALLS = "crash_after_zk_writes", "crash_after_cloud_calls"
CASES = [
    ("create", WRITES),
    ("create", CALLS),
    ("create_slow", WRITES),
    ("rollback", WRITES),
    ("rollback", CALLS),
    ("delete", WRITES),
    ("delete", CALLS),
    ("grow", WRITES),
    ("grow", CALLS),
    ("shrink", WRITES),
    ("shrink", CALLS),
]


@dataclass(frozen=True)
class Ending:
    """How a build ended, in terms that an undisturbed run and a crashed one share."""

    status: str
    reason: str
    note: dict[str, Any] | None
    outputs: dict[str, Any] | None
    progress: tuple[int, int]  # done, total
    recorded: dict[str, str]  # each resource's recorded status
    history: dict[str, list[str]]  # from the events: the build's ("") and each resource's
    created: dict[str, int]  # resources the sim ever created, per step
    live: list[str]  # live resource names in the sim
    duplicates: list[str]
    leaks: list[str]
    died: bool = True  # the crashing worker killed itself
    crasher_calls: int | None = None  # cloud calls the crashing worker made


@dataclass
class Tally:
    """Counts a worker's fenced writes and cloud calls, as the crash switches do."""

    writes: int = 0
    calls: int = 0
    calls_at_write: list[int] = field(default_factory=list)  # calls made by write k+1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self) -> None:
        with self._lock:
            self.writes += 1
            self.calls_at_write.append(self.calls)

    def call(self) -> None:
        with self._lock:
            self.calls += 1


@contextmanager
def counting_worker(
    hosts: str, sim_db: Path, tally: Tally, *, latency_s: float
) -> Iterator[Worker]:
    """An in-process worker set up as the crashing ones are, that counts instead of dying."""
    session = Session.open(settings_for(hosts, session_timeout_s=CRASHER_SESSION_TIMEOUT_S))
    sim = SimProvider(sim_db, latency_s=latency_s, caller="counted")
    signals = SignalProvider(SignalBook(session.client, session.layout), endpoint=SIGNAL_ENDPOINT)
    worker = Worker(
        session,
        Providers([HeatProvider(), signals, sim]),
        CRASHER,
        worker_id="counted",
        count_write=tally.write,
        count_call=tally.call,
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(graceful=False)
        session.close()
        sim.close()


def _history(store: BuildStore, build_id: str) -> dict[str, list[str]]:
    history: dict[str, list[str]] = {}
    for _, event in store.events(build_id):
        path = history.setdefault(event.resource or "", [str(event.old)])
        if event.new != path[-1]:  # a request recorded, not a change of status
            path.append(event.new)
    return history


def _ending(store: BuildStore, sim: SimProvider, state: BuildState, build_id: str) -> Ending:
    live = sorted(r.resource_name for r in sim.live_resources(build_id))
    note = None
    if state.note is not None:
        note = {k: v for k, v in state.note.items() if k not in ("worker", "at")}
    return Ending(
        status=str(state.status),
        reason=state.reason,
        note=note,
        outputs=state.outputs,
        progress=(state.done, state.total),
        recorded=statuses(store, build_id),
        history=_history(store, build_id),
        created={line.resource_name: line.created for line in sim.audit(build_id)},
        live=live,
        duplicates=[line.resource_name for line in sim.duplicates(build_id)],
        leaks=[r.resource_name for r in sim.leaks({(build_id, name) for name in live})],
    )


def _clear(store: BuildStore) -> None:
    """Its tree gone once a run's ending is read (every worker of it stopped): here, while
    the other runs in flight wait on their sessions, not in the test's tear-down after
    them all (a store's tree holds the queue's 1,024 shards)."""
    assert remove_tree(store.client, store.layout.root)


@dataclass(frozen=True)
class Case:
    """One variant and one crash switch, in this test's chroot and directory."""

    variant: Variant
    switch: str  # crash_after_zk_writes | crash_after_cloud_calls
    zk_hosts: str
    directory: Path
    registry: ResourceTypeRegistry

    @property
    def counts_calls(self) -> bool:
        """Whether the cloud calls are the same in every run (no polls to count)."""
        return self.variant.latency_s == 0

    @property
    def first(self) -> bool:
        """Whether the build is made undisturbed first (the crash is in a later request)."""
        return self.variant.delete or self.variant.resize is not None

    def request(self, store: BuildStore, build_id: str) -> None:
        if self.variant.resize is not None:
            assert resize(store, self.registry, build_id, self.variant.resize).resized
        else:
            Requests(store).delete(build_id)

    def place(self, label: str) -> tuple[str, Path]:
        """A chroot and a sim file of the label's own (the sim is armed as the variant says)."""
        with open_store(self.zk_hosts) as store:
            store.client.ensure_path(f"/{label}")
        db = self.directory / f"{label}.db"
        if self.variant.failing is not None:
            with SimProvider(db) as sim:
                sim.arm(self.variant.failing, "create", times=None, message=NO_HOST)
        return f"{self.zk_hosts}/{label}", db

    def create_undisturbed(self, store: BuildStore, hosts: str, db: Path) -> str:
        with running_worker(hosts, db, worker_id="creator"):
            build_id = submit(store, self.registry, self.variant.template)
            assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        return build_id

    def baseline(self) -> tuple[Ending, Tally]:
        """The undisturbed run, and what the worker that ran it wrote and called."""
        hosts, db = self.place("baseline")
        tally = Tally()
        with open_store(hosts) as store:
            build_id = self.create_undisturbed(store, hosts, db) if self.first else None
            with counting_worker(hosts, db, tally, latency_s=self.variant.latency_s):
                if build_id is None:
                    build_id = submit(store, self.registry, self.variant.template)
                else:
                    self.request(store, build_id)
                state = wait_terminal(store, build_id)
            with SimProvider(db) as sim:
                ending = _ending(store, sim, state, build_id)
                recorded_calls = len(sim.calls(caller="counted"))
            _clear(store)
        assert recorded_calls == tally.calls  # every counted call reached the sim, once
        return ending, tally

    def crash_and_rescue(self, k: int, *, in_range: bool) -> Ending:
        """Run the build on a worker that dies at ``k``; rescue it; how it ended."""
        label = f"{self.switch}-{k}"
        hosts, db = self.place(label)
        with open_store(hosts) as store:
            build_id = self.create_undisturbed(store, hosts, db) if self.first else ""
            crasher = WorkerProcess(
                self.directory,
                hosts,
                db,
                name=label,
                session_timeout_s=CRASHER_SESSION_TIMEOUT_S,
                latency_s=self.variant.latency_s,
                extra=f"{CRASHER_CONFIG}[testing]\n{self.switch} = {k}\n",
            )
            with crasher:
                if self.first:
                    self.request(store, build_id)
                else:
                    build_id = submit(store, self.registry, self.variant.template)
                if in_range:
                    assert_eventually(
                        lambda: crasher.process.poll() is not None,
                        timeout_s=30,
                        message=f"the worker with {self.switch} = {k} kills itself",
                    )
                else:
                    wait_terminal(store, build_id, timeout_s=30)
                assert crasher.process is not None
                code = crasher.process.poll()
                pid = crasher.process.pid
            died = code == -signal.SIGKILL
            with running_worker(hosts, db, worker_id="rescuer", latency_s=self.variant.latency_s):
                state = wait_terminal(store, build_id, timeout_s=30)
            with SimProvider(db) as sim:
                ending = _ending(store, sim, state, build_id)
                crasher_calls = len(sim.calls(pid=pid)) if self.counts_calls else None
            _clear(store)
        return replace(ending, died=died, crasher_calls=crasher_calls)


@pytest.mark.parametrize(("variant", "switch"), CASES)
def test_build_ends_as_undisturbed_whatever_step_its_worker_is_killed_at(
    variant: str,
    switch: str,
    zk_hosts: str,
    tmp_path: Path,
    registry: ResourceTypeRegistry,
) -> None:
    case = Case(VARIANTS[variant], switch, zk_hosts, tmp_path, registry)
    undisturbed, tally = case.baseline()
    assert undisturbed.status == str(case.variant.expected), undisturbed
    assert undisturbed.duplicates == []
    assert undisturbed.leaks == []
    if case.variant.failing is not None:
        assert undisturbed.live == ["vol"]  # kept: deletion_policy Retain
    elif case.variant.delete:
        assert undisturbed.live == []
    elif case.variant.resize == "grow":
        assert undisturbed.live == ["asg/0", "asg/1", "asg/2", "asg/3"]
        assert undisturbed.outputs is not None
        assert undisturbed.outputs["size"]["value"] == 4
    elif case.variant.resize == "shrink":
        assert undisturbed.live == ["asg/1"]  # the oldest went
        assert undisturbed.outputs is not None
        assert len(undisturbed.outputs["sizes"]["value"]) == 1
    else:
        assert undisturbed.live == sorted(undisturbed.recorded)
    count = tally.writes if switch == WRITES else tally.calls
    assert count > 0

    def expected_calls(k: int) -> int | None:
        """The cloud calls the crashing worker makes before it dies at k."""
        if not case.counts_calls:
            return None
        if k > count:
            return tally.calls
        if switch == WRITES:
            return tally.calls_at_write[k - 1]
        return k - 1  # killed as its k-th call starts: the sim never sees it

    # Every k the undisturbed run reaches, and one past the last, where nobody dies.
    ks = range(1, count + 2)
    expected = {
        k: replace(undisturbed, died=k <= count, crasher_calls=expected_calls(k)) for k in ks
    }
    with ThreadPoolExecutor(AT_ONCE) as pool:
        futures = {k: pool.submit(case.crash_and_rescue, k, in_range=k <= count) for k in ks}
    endings: dict[int, Ending | str] = {}
    for k, future in futures.items():
        try:
            endings[k] = future.result()
        except Exception as exc:  # reported with every other k, not instead of them
            endings[k] = f"{type(exc).__name__}: {exc}"
    assert endings == expected


# -- ZooKeeper restarted under running builds ------------------------------------------


def _owner(store: BuildStore, build_id: str) -> str:
    lease, _ = store.lease_data(build_id)
    return str(lease.get("worker_id", ""))


def _has_a_complete_resource(store: BuildStore, build_id: str) -> bool:
    return "CREATE_COMPLETE" in statuses(store, build_id).values()


def _check_sim(
    db: Path, expected: dict[str, BuildStatus], recorded: dict[str, dict[str, str]]
) -> None:
    """One live resource per step: all of a complete build's, a rolled back one's kept
    volume; nothing else."""
    with SimProvider(db) as sim:
        assert sim.duplicates() == []
        live = {
            build_id: sorted(r.resource_name for r in sim.live_resources(build_id))
            for build_id in expected
        }
        wanted = {
            build_id: sorted(recorded[build_id])
            if status is BuildStatus.CREATE_COMPLETE
            else ["vol"]
            for build_id, status in expected.items()
        }
        assert live == wanted
        kept = {(build_id, name) for build_id, names in live.items() for name in names}
        assert sim.leaks(kept) == []


def test_builds_in_flight_on_two_workers_end_as_expected_across_a_zookeeper_restart(
    zookeeper: ZooKeeperServer, zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """Same data directory, so sessions (and claims) survive: the workers carry on."""
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim:
        sim.arm("doomed", "create", times=None, message=NO_HOST)
    # Three builds at most per worker: six builds keep both busy.
    config = "[worker]\ncapacity = 3\n[gc]\nenabled = false\n"
    workers = [
        WorkerProcess(
            tmp_path, zk_hosts, db, name=name, session_timeout_s=10.0, latency_s=0.5, extra=config
        )
        for name in ("w1", "w2")
    ]
    with open_store(zk_hosts) as store, workers[0], workers[1]:
        expected = {submit(store, registry, NETWORKED_SERVER): BuildStatus.CREATE_COMPLETE}
        expected |= {submit(store, registry, FAILS_AT_THE_SERVER): BuildStatus.ROLLBACK_COMPLETE}
        for _ in range(2):
            expected[submit(store, registry, NETWORKED_SERVER)] = BuildStatus.CREATE_COMPLETE
            expected[submit(store, registry, FAILS_AT_THE_SERVER)] = BuildStatus.ROLLBACK_COMPLETE
        assert_eventually(
            lambda: all(_has_a_complete_resource(store, b) for b in expected),
            timeout_s=30,
            message="every build has started",
        )
        owners = {_owner(store, build_id) for build_id in expected}
        in_flight = [b for b in expected if not store.state(b)[0].status.is_terminal]
        drop_connections(zookeeper)
        endings = {b: wait_terminal(store, b, timeout_s=30).status for b in expected}
        recorded = {build_id: statuses(store, build_id) for build_id in expected}
    assert owners == {w.worker_id for w in workers}
    assert in_flight == list(expected)  # the restart came in the middle of every build
    assert endings == expected
    _check_sim(db, expected, recorded)


def test_steps_that_gave_up_waiting_for_zookeeper_do_not_strand_their_build(
    zookeeper: ZooKeeperServer, zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The restart outlasts how long a step may wait for the connection (``guard_wait_s``)
    but not the session, so the steps give the build up (a lease check in flight fails
    with ConnectionLoss, or the wait runs out). The worker still holds the build's claim
    when it reconnects: it must carry on with the build, or let another worker do so.

    (Through ``cool.conf`` the wait equals the session timeout; the same happens there
    when ZooKeeper is down longer than that and re-arms the sessions when it is back.)
    """
    db = tmp_path / "sim.db"
    impatient = replace(FAST, runner=replace(FAST.runner, guard_wait_s=0.2))
    with (
        open_store(zk_hosts) as store,
        running_worker(
            zk_hosts, db, settings=impatient, latency_s=0.5, session_timeout_s=20.0
        ) as worker,
    ):
        build_id = submit(store, registry, NETWORKED_SERVER)
        assert_eventually(lambda: _has_a_complete_resource(store, build_id), timeout_s=20)
        session_id = worker.session.session_id
        drop_connections(zookeeper)  # down for about a second: longer than 0.2 s
        assert_eventually(lambda: worker.session.connection is Connection.CONNECTED, timeout_s=20)
        state = wait_terminal(store, build_id, timeout_s=20)
        assert worker.session.session_id == session_id  # the session survived
        recorded = statuses(store, build_id)
    assert state.status is BuildStatus.CREATE_COMPLETE
    _check_sim(db, {build_id: BuildStatus.CREATE_COMPLETE}, {build_id: recorded})
