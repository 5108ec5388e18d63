"""The API benchmark's pieces: the submit-shaped baseline, cool-api's configuration
for each auth strategy, and a closed-loop HTTP load with one connection per thread.

The baseline is what the same ZooKeeper does for one client that makes a
submit's transaction and nothing else, one at a time: the nine creates of
``BuildStore.submit_once`` (``cool/store/builds.py``), with the payloads a
submit of :data:`TEMPLATE` stores, under a layout of its own. Shard and
project directories exist beforehand, so only the transaction is timed.

The load is closed: each of ``concurrency`` threads keeps one keep-alive
``http.client`` connection and sends its next request when the previous
answer is read. A run ends after ``count`` requests or ``max_s`` seconds,
whichever comes first.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

from bench._workers import cpu_s, machine_cpu
from cool.model import BuildStatus, Plan
from cool.store import codec
from cool.store.layout import Layout, new_build_id
from cool.store.records import BuildMeta, BuildState, Event
from harness.keystone.server import KeystoneServer

HOST = "127.0.0.1"
USER = "bench"
PROJECT = "bench"
PASSWORD = "bench-password-0123456789"
SERVICE_USER = "cool-bench"
API_WORKERS = 2  # cool.conf's defaults, written out: the figures depend on them
API_THREADS = 32

# A small build: two utility resources, one reading the other.
TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"word": {"type": "string", "default": "hello"}},
    "resources": {
        "none": {"type": "OS::Heat::None"},
        "value": {
            "type": "OS::Heat::Value",
            "properties": {"value": {"get_param": "word"}},
            "depends_on": "none",
        },
    },
    "outputs": {"said": {"value": {"get_attr": ["value", "value"]}}},
}
SUBMIT_BODY = json.dumps({"template": TEMPLATE}).encode()


# -- timings ---------------------------------------------------------------------------


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted, non-empty values."""
    rank = max(int(fraction * len(ordered) + 0.999999) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def percentile_ms(sorted_s: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted durations in seconds, in ms."""
    if not sorted_s:
        return float("nan")
    return nearest_rank(sorted_s, fraction) * 1e3


@dataclass(frozen=True, slots=True)
class Sequential:
    """Calls made one after another by one client."""

    seconds: float
    latencies_s: tuple[float, ...]  # each call's, sorted

    @property
    def count(self) -> int:
        return len(self.latencies_s)

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        return percentile_ms(self.latencies_s, fraction)


def timed(call: Callable[[], object], count: int) -> Sequential:
    """``count`` calls of ``call``, one after another, each timed."""
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return Sequential(time.perf_counter() - start, tuple(sorted(latencies)))


# -- the raw baseline ------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ALL_SHARDS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)


def prepare_root(client: KazooClient, root: str, shards: Iterable[str] = ALL_SHARDS) -> None:
    """The top-level containers and the shard directories, of builds and of the queue
    (by default all 1,024, as a deployment has them after its first few thousand
    builds: a submit's ``ensure_path`` of its shard is then a read, never a create)."""
    layout = Layout(root)
    for path in layout.top_level():
        client.ensure_path(path)
    shards = list(shards)
    creating = [client.create_async(layout.shard_dir(shard)) for shard in shards]
    creating += [client.create_async(layout.pending_shard(shard)) for shard in shards]
    for result in creating:
        with contextlib.suppress(NodeExistsError):
            result.get(timeout=30)


def raw_submits(
    client: KazooClient, root: str, plan: Plan, count: int, *, all_shards: bool = True
) -> Sequential:
    """``count`` sequential submit-shaped transactions under ``root`` (after 20 more
    to warm up); ``all_shards=False`` makes only the shards it uses."""
    layout = Layout(root)
    now = time.time()
    build_ids = [new_build_id() for _ in range(count + 20)]
    meta = BuildMeta(
        build_id=build_ids[0],
        project_id=PROJECT,
        user_id=USER,
        name=build_ids[0],
        created_at=now,
        deadline=now + 3600,
        timeout_mins=60,
        rollback=True,
        request_id="req-00000000-0000-0000-0000-000000000000",
    )
    record = codec.dumps_compressed({"meta": meta.to_dict(), "plan": plan.to_dict()})
    state = codec.dumps(
        BuildState(
            BuildStatus.CREATE_QUEUED, reason="submitted", total=len(plan.resources), updated_at=now
        ).to_dict()
    )
    event = codec.dumps(
        Event(
            at=now,
            resource=None,
            old=None,
            new=str(BuildStatus.CREATE_QUEUED),
            reason="submitted",
            request_id=meta.request_id,
        ).to_dict()
    )
    summary = codec.dumps({"name": meta.name, "created_at": now, "user_id": USER})
    prepare_root(client, root, ALL_SHARDS if all_shards else {Layout.shard(b) for b in build_ids})
    for bucket in sorted({layout.project_bucket(PROJECT, b) for b in build_ids}):
        client.ensure_path(bucket)

    unused = iter(build_ids)

    def submit() -> None:
        build_id = next(unused)
        transaction = client.transaction()
        transaction.create(layout.build(build_id), record)
        transaction.create(layout.state(build_id), state)
        transaction.create(layout.lease(build_id), b"")
        transaction.create(layout.control(build_id), b"")
        transaction.create(layout.resources(build_id), b"")
        transaction.create(layout.events(build_id), b"")
        transaction.create(layout.event_prefix(build_id), event, sequence=True)
        transaction.create(layout.pending_build(build_id), b"")
        transaction.create(layout.project_build(PROJECT, build_id), summary)
        results = transaction.commit()
        if any(isinstance(result, Exception) for result in results):
            raise RuntimeError(f"a raw submit transaction failed: {results!r}")

    timed(submit, 20)  # warm up the connection and the server's JIT
    return timed(submit, count)


# -- cool-api's configuration ----------------------------------------------------------


def _common(strategy: str, hosts: str, root: str) -> str:
    # Continues the [api] section ApiProcess writes (bind_host, bind_port).
    return (
        f"auth_strategy = {strategy}\nworkers = {API_WORKERS}\nthreads = {API_THREADS}\n"
        f"[zookeeper]\nhosts = {hosts}\nroot = {root}\n"
    )


def basic_config(directory: Path, hosts: str, root: str) -> str:
    """http_basic, with one user in a bcrypt htpasswd file at bcrypt's default cost."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt()).decode()
    htpasswd = directory / "htpasswd"
    htpasswd.write_text(f"{USER}:{hashed}\n")
    return (
        _common("http_basic", hosts, root)
        + f"[http_basic]\nhtpasswd_file = {htpasswd}\nuser = {USER}:{PROJECT}:member\n"
    )


@dataclass(frozen=True, slots=True)
class KeystoneCaller:
    config: str  # cool-api's configuration for auth_strategy = keystone
    token: str  # a member's project-scoped token


def keystone_caller(keystone: KeystoneServer, hosts: str, root: str) -> KeystoneCaller:
    """A project, a member of it with a token, and cool's service user, in ``keystone``."""
    suffix = os.urandom(4).hex()
    project_id = keystone.create_project(f"bench-{suffix}")
    keystone.create_user(f"bench-{suffix}", PASSWORD, project_id, ["member"])
    service_user = f"{SERVICE_USER}-{suffix}"
    keystone.create_service_user(service_user, PASSWORD)
    config = _common("keystone", hosts, root) + (
        "[keystone_authtoken]\n"
        f"www_authenticate_uri = {keystone.base_url}\nauth_url = {keystone.base_url}\n"
        f"auth_type = password\nusername = {service_user}\npassword = {PASSWORD}\n"
        "project_name = service\nuser_domain_id = default\nproject_domain_id = default\n"
        "interface = public\n"
    )
    return KeystoneCaller(config, keystone.token(f"bench-{suffix}", PASSWORD, project_id))


def basic_headers() -> dict[str, str]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def token_headers(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token}


# -- the load --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One kind of request; request ``i`` goes to ``paths[i % len(paths)]``."""

    method: str
    paths: Sequence[str]
    expect: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def submit_call(headers: dict[str, str]) -> Call:
    return Call(
        "POST",
        ("/v1/builds",),
        202,
        SUBMIT_BODY,
        {"Content-Type": "application/json", **headers},
    )


@dataclass(frozen=True, slots=True)
class LoadRun:
    concurrency: int
    latencies_s: tuple[float, ...]  # of the requests answered as expected, sorted
    seconds: float  # all threads released -> the last one done
    failures: int
    first_failure: str
    client_cpu_s: float  # this process: the load's threads (and whatever else it runs)
    api_cpu_s: tuple[float, ...]  # each of cool-api's processes (the gunicorn master first)
    zookeeper_cpu_s: float
    machine_busy: float  # the whole machine's CPU use over the run, 0..1 (other load too)
    locations: tuple[str, ...]  # Location headers of the answers (submits: the builds)

    @property
    def count(self) -> int:
        return len(self.latencies_s)

    @property
    def total_api_cpu_s(self) -> float:
        return sum(self.api_cpu_s)

    @property
    def workers_busy(self) -> tuple[float, ...]:
        """Each gunicorn worker's CPU over the run's time (1.0: one core, its GIL's limit)."""
        return tuple(cpu / self.seconds for cpu in self.api_cpu_s[1:]) if self.seconds else ()

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        return percentile_ms(self.latencies_s, fraction)

    def per_request_ms(self, cpu_s: float) -> float:
        return cpu_s / self.count * 1e3 if self.count else float("nan")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its children (a gunicorn master and its workers)."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                pids.append(int(entry.name))
    return pids


def _cpu_of(pids: Sequence[int]) -> list[float]:
    out = []
    for pid in pids:
        try:
            out.append(cpu_s(pid))
        except OSError:  # gone (a worker restarted): counts for nothing from now on
            out.append(0.0)
    return out


def _self_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def run_load(
    port: int,
    call: Call,
    *,
    concurrency: int,
    count: int,
    max_s: float,
    api_pids: Sequence[int] = (),
    zookeeper_pid: int | None = None,
) -> LoadRun:
    """At most ``count`` requests in at most ``max_s`` s, from ``concurrency`` threads."""
    issued = itertools.count()
    barrier = threading.Barrier(concurrency + 1)
    latencies: list[float] = []
    locations: list[str] = []
    failures: list[str] = []
    deadline = [float("inf")]

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            connection.connect()  # outside the timed part
            barrier.wait(30)
        except (OSError, threading.BrokenBarrierError) as exc:
            failures.append(f"a client did not start: {type(exc).__name__}: {exc}")
            barrier.abort()
            connection.close()
            return
        try:
            while (i := next(issued)) < count and time.perf_counter() < deadline[0]:
                started = time.perf_counter()
                try:
                    connection.request(
                        call.method, call.paths[i % len(call.paths)], call.body, call.headers
                    )
                    response = connection.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    connection.close()  # reconnects on the next request
                    continue
                took = time.perf_counter() - started
                if response.status != call.expect:
                    failures.append(f"{response.status}: {body[:300]!r}")
                    continue
                latencies.append(took)
                if (location := response.getheader("Location")) is not None:
                    locations.append(location)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    api_before = _cpu_of(api_pids)
    zookeeper_before = cpu_s(zookeeper_pid) if zookeeper_pid else 0.0
    self_before = _self_cpu_s()
    machine_before = machine_cpu()
    deadline[0] = time.perf_counter() + max_s  # read by the clients once released
    try:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(30)
        started = time.perf_counter()
        for thread in threads:
            thread.join(max_s + 60)  # each request has its own 30 s timeout
    except BaseException:  # Ctrl-C: no new request, then let the clients go
        deadline[0] = 0.0
        barrier.abort()
        for thread in threads:
            thread.join(35)
        raise
    seconds = time.perf_counter() - started
    machine_after = machine_cpu()
    busy = (machine_after[0] - machine_before[0]) / max(machine_after[1] - machine_before[1], 1)
    return LoadRun(
        concurrency=concurrency,
        latencies_s=tuple(sorted(latencies)),
        seconds=seconds,
        failures=len(failures),
        first_failure=failures[0] if failures else "",
        client_cpu_s=_self_cpu_s() - self_before,
        api_cpu_s=tuple(
            max(after - before, 0.0)
            for after, before in zip(_cpu_of(api_pids), api_before, strict=True)
        ),
        zookeeper_cpu_s=(cpu_s(zookeeper_pid) - zookeeper_before) if zookeeper_pid else 0.0,
        machine_busy=busy,
        locations=tuple(locations),
    )


def warm_up(
    port: int, call: Call, *, fresh: int = 8, rounds: int = 2, count: int = 32
) -> list[LoadRun]:
    """Requests on fresh connections, so that every gunicorn worker has checked the
    credentials once (bcrypt, or Keystone's validation) and imported what it serves.

    First ``fresh`` connections one after another (each lands on either worker), so
    that the workers' first checks do not race: two keystonemiddlewares logging in
    at once make the local Keystone's SQLite answer 500 ("database is locked").
    Then ``rounds`` of ``count`` requests on 8 connections at once.
    """
    runs = [run_load(port, call, concurrency=1, count=2, max_s=30.0) for _ in range(fresh)]
    runs += [run_load(port, call, concurrency=8, count=count, max_s=30.0) for _ in range(rounds)]
    return runs
