"""``/healthcheck``: oslo.middleware's healthcheck, with ZooKeeper reachability.

A process that cannot reach ZooKeeper answers every build request with 503,
so it reports itself unhealthy and a load balancer sends callers elsewhere.
The probe is an oslo.middleware healthcheck plugin (entry point
``oslo.middleware.healthcheck``: ``cool_zookeeper``); the app hands it the
store through the middleware's configuration mapping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from oslo_middleware.healthcheck import pluginbase

from cool.errors import CoolError
from cool.store.builds import BuildStore

LOG = logging.getLogger(__name__)

PROBES = "cool_probe"  # the key of the probe in the middleware's configuration


class ZooKeeperProbe(pluginbase.HealthcheckBaseExtension):
    NAME = "cool_zookeeper"

    def __init__(self, oslo_conf: Any, conf: dict[str, Any]) -> None:
        super().__init__(oslo_conf, conf)
        self.probe: Callable[[], str] = conf[PROBES]

    @staticmethod
    def check_for(store: BuildStore) -> Callable[[], str]:
        """A probe: "" when ZooKeeper answers a read now, else why not."""

        def probe() -> str:
            try:
                store.ensure_reachable()
            except CoolError as exc:
                return exc.message
            return ""

        return probe

    def healthcheck(self, server_port: int) -> pluginbase.HealthcheckResult:
        problem = self.probe()
        if problem:
            LOG.warning("healthcheck: %s", problem)
            return pluginbase.HealthcheckResult(available=False, reason=problem)
        return pluginbase.HealthcheckResult(available=True, reason="OK")
