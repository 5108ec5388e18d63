"""``cool-worker --config-file cool.conf``: claim and run builds until told to stop.

SIGTERM or SIGINT: stop claiming, let each build reach a checkpoint, hand it
over (its claim released, so another worker continues at once) and leave.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from oslo_config import cfg
from prometheus_client import REGISTRY

from cool import config
from cool.clouds.heat import HeatProvider
from cool.clouds.openstack.credentials import CloudCredentials, gc_trusts
from cool.clouds.registry import Providers
from cool.clouds.sim.provider import SimProvider
from cool.errors import CoolError
from cool.gc import GarbageCollector, gc_settings
from cool.store.session import Session
from cool.store.signals import SignalBook
from cool.store.slots import CallSlots
from cool.worker.service import Worker, new_worker_id
from cool.worker.signals import SignalProvider

LOG = logging.getLogger("cool.worker")

testing_group = cfg.OptGroup(
    "testing",
    title="Fault injection (tests only)",
    help="Switches the chaos tests use to kill a worker at an exact point. Never set them "
    "in production.",
)
testing_opts = [
    cfg.IntOpt(
        "crash_after_zk_writes",
        default=0,
        min=0,
        help="SIGKILL this worker right after its N-th ZooKeeper write (0: never).",
    ),
    cfg.IntOpt(
        "crash_after_cloud_calls",
        default=0,
        min=0,
        help="SIGKILL this worker just before its N-th cloud call reaches the cloud, so "
        "that N-1 calls happened (0: never).",
    ),
]


def _crash_after(n: int) -> Callable[[], None]:
    """A counter that kills the process, without cleanup, on its n-th call."""
    if n <= 0:
        return lambda: None
    counter = itertools.count(1)
    lock = threading.Lock()

    def tick() -> None:
        with lock:
            if next(counter) == n:
                os.kill(os.getpid(), signal.SIGKILL)

    return tick


def list_testing_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(testing_group, testing_opts)]


def build_providers(conf: cfg.ConfigOpts, session: Session, worker_id: str) -> Providers:
    signals = SignalProvider(
        SignalBook(session.client, session.layout), endpoint=conf.signal.endpoint or ""
    )
    if conf.worker.provider == "openstack":
        # Imported here: openstacksdk is a fifth of a worker's start, and a worker of
        # the sim (every test's, the local system's) never calls it.
        from cool.clouds.openstack.limits import CallLimiter  # noqa: PLC0415
        from cool.clouds.openstack.provider import OpenStackProvider  # noqa: PLC0415

        group = conf.openstack
        cluster = None
        if group.max_calls_per_cloud:
            cluster = CallSlots(
                session.client,
                session.layout,
                max_leases=group.max_calls_per_cloud,
                identifier=worker_id,
            )
        limiter = CallLimiter(group.max_calls_per_worker, cluster=cluster)
        openstack = OpenStackProvider(
            CloudCredentials(conf).session,
            region_name=group.region_name,
            interface=group.interface,
            limiter=limiter,
            neutron_tags=group.neutron_tags,
        )
        return Providers([HeatProvider(), signals, openstack])
    sim = SimProvider(
        conf.sim.database, latency_s=conf.sim.latency, failure_rate=conf.sim.failure_rate
    )
    return Providers([HeatProvider(), signals, sim])


def main(argv: Sequence[str] | None = None) -> int:
    conf = cfg.ConfigOpts()
    config.register(conf)
    conf.register_group(testing_group)
    conf.register_opts(testing_opts, group=testing_group)
    conf(list(sys.argv[1:] if argv is None else argv), project="cool", prog="cool-worker")
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(process)d %(levelname)s %(name)s [%(threadName)s] %(message)s",
    )
    try:
        session = Session.open(config.zookeeper_settings(conf))
        worker_id = new_worker_id()
        worker = Worker(
            session,
            build_providers(conf, session, worker_id),
            config.worker_settings(conf),
            worker_id=worker_id,
            count_write=_crash_after(conf.testing.crash_after_zk_writes),
            count_call=_crash_after(conf.testing.crash_after_cloud_calls),
        )
        worker.start()
        collector = None
        if conf.gc.enabled:
            collector = GarbageCollector(
                session,
                gc_settings(conf),
                identifier=worker.worker_id,
                registry=REGISTRY,
                trusts=gc_trusts(conf),
            )
            collector.start()
    except CoolError as exc:
        LOG.error("cannot start: %s", exc)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        LOG.info("signal %s: stopping after handing builds over", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"cool-worker {worker.worker_id} ready", flush=True)
    stop.wait()
    # Every step has a bound, ZooKeeper reachable or not: the collector's thread,
    # the runners (stop_timeout_s), each later step and the session's close
    # (leave_timeout_s). What outlives them is ephemeral and ends with the session.
    leave_s = worker.settings.leave_timeout_s
    if collector is not None:
        collector.stop(leave_s)  # resigns: another worker's collector takes over at once
    worker.stop(graceful=True)
    if not session.close(leave_s):
        # kazoo's exit hook would join the threads that did not stop: leave now.
        logging.shutdown()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
