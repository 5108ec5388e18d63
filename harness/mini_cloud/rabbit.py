"""A private RabbitMQ node for one mini cloud, run as the current user (never the system's).

Nova and Cinder need a broker. The Debian package's ``/usr/sbin/rabbitmq-server``
switches to the ``rabbitmq`` user when run as root and uses ``/var/lib/rabbitmq``;
the real script in ``/usr/lib/rabbitmq/bin`` is run instead, with every place
it writes in the cloud's directory (``RABBITMQ_MNESIA_BASE``, ``LOG_BASE``,
its own ``HOME`` for the Erlang cookie), its own node name and ports::

    <base_dir>/rabbitmq/rabbitmq.conf, enabled_plugins   (no plugins)
    <base_dir>/rabbitmq/mnesia/, log/
    <base_dir>/rabbitmq/rabbitmq.log, epmd.log

Erlang registers nodes with ``epmd`` and starts a shared, daemonized one when
none answers; a private one runs in the foreground on its own port
(``ERL_EPMD_PORT``), so that it stops with the cloud. ``RUNNING_UNDER_SYSTEMD``
makes the script ``exec`` the VM instead of waiting on it, so that the VM
itself carries the parent-death signal and gets SIGTERM (a clean stop).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from pathlib import Path

from harness.daemons import Daemon
from harness.mini_cloud.config import CloudLayout
from harness.mini_cloud.errors import MiniCloudNotInstalledError
from harness.mini_cloud.processes import spawn, wait_for
from harness.zookeeper import HOST

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
INSTALL_HINT = "apt-get install rabbitmq-server"


def find_epmd() -> Path:
    for candidate in sorted(Path("/usr/lib/erlang").glob("erts-*/bin/epmd")):
        return candidate
    path = Path("/usr/bin/epmd")
    if path.is_file():
        return path
    raise MiniCloudNotInstalledError(f"no epmd (Erlang) here: {INSTALL_HINT}")


class RabbitNode:
    """One RabbitMQ node and its epmd, in ``<base_dir>/rabbitmq``."""

    def __init__(self, layout: CloudLayout) -> None:
        self.layout = layout
        self.directory = layout.service_dir("rabbitmq")
        self.daemons: list[Daemon] = []

    @property
    def log_path(self) -> Path:
        return self.directory / "rabbitmq.log"

    def start(self) -> list[Daemon]:
        """Start epmd and the node (not waiting for them: see :meth:`wait_ready`)."""
        if not RABBITMQ_SERVER.is_file():
            raise MiniCloudNotInstalledError(f"{RABBITMQ_SERVER} is missing: {INSTALL_HINT}")
        ports = self.layout.ports
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "rabbitmq.conf").write_text(
            f"""\
listeners.tcp.default = {HOST}:{ports.amqp}
disk_free_limit.absolute = 50MB
log.console = true
log.console.level = warning
log.file = false
"""
        )
        (self.directory / "enabled_plugins").write_text("[].\n")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OS_", "RABBITMQ_"))},
            "HOME": str(self.directory),
            "ERL_EPMD_ADDRESS": HOST,
            "ERL_EPMD_PORT": str(ports.epmd),
        }
        epmd = spawn(
            "epmd",
            [find_epmd(), "-port", str(ports.epmd), "-address", HOST],
            log=self.directory / "epmd.log",
            cwd=self.directory,
            env=env,
        )
        self.daemons.append(epmd)
        wait_for(
            "epmd",
            lambda: _listening(ports.epmd),
            deadline=time.monotonic() + 10.0,
            daemons=[epmd],
        )
        rabbit_env = {
            **env,
            "RABBITMQ_NODENAME": f"cool-{uuid.uuid4().hex[:8]}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": HOST,
            "RABBITMQ_NODE_PORT": str(ports.amqp),
            "RABBITMQ_DIST_PORT": str(ports.rabbit_dist),
            "RABBITMQ_MNESIA_BASE": str(self.directory / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.directory / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.directory / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.directory / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.directory / "rabbitmq.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RUNNING_UNDER_SYSTEMD": "1",
        }
        self.daemons.append(
            spawn(
                "rabbitmq",
                [RABBITMQ_SERVER],
                log=self.log_path,
                cwd=self.directory,
                env=rabbit_env,
            )
        )
        return self.daemons

    def wait_ready(self, deadline: float) -> None:
        """Until the node accepts AMQP connections (it listens once the broker is up)."""
        wait_for(
            "RabbitMQ's AMQP port",
            lambda: _listening(self.layout.ports.amqp),
            deadline=deadline,
            daemons=self.daemons,
        )


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1.0):
        return True
    return False
