"""Connecting to ZooKeeper: one client per process, retry policy declared once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

from cool.errors import StoreUnavailableError

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ZooKeeperSettings:
    hosts: str = "127.0.0.1:2181"
    root: str = "/cool"
    session_timeout_s: float = 10.0
    connect_timeout_s: float = 15.0


# Reconnecting never gives up (the session may still be alive on the server);
# a single command is retried a few times, quickly, across connection blips.
CONNECTION_RETRY = {"max_tries": -1, "delay": 0.1, "backoff": 2, "max_delay": 2.0}
COMMAND_RETRY = {"max_tries": 5, "delay": 0.05, "backoff": 2, "max_delay": 1.0}


def make_client(settings: ZooKeeperSettings) -> KazooClient:
    """A client, not yet started."""
    return KazooClient(
        hosts=settings.hosts,
        timeout=settings.session_timeout_s,
        connection_retry=KazooRetry(**CONNECTION_RETRY),
        command_retry=KazooRetry(**COMMAND_RETRY),
        randomize_hosts=True,
    )


def connect(settings: ZooKeeperSettings) -> KazooClient:
    """A started client, or StoreUnavailableError when ZooKeeper does not answer in time."""
    client = make_client(settings)
    try:
        client.start(timeout=settings.connect_timeout_s)
    except KazooTimeoutError as exc:
        client.close()
        raise StoreUnavailableError(
            f"cannot connect to ZooKeeper at {settings.hosts} within "
            f"{settings.connect_timeout_s:g} s"
        ) from exc
    LOG.info(
        "connected to ZooKeeper at %s (session timeout %.1f s)",
        settings.hosts,
        settings.session_timeout_s,
    )
    return client
