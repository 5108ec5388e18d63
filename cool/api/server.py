"""The API served by gunicorn's asyncio worker, configured from ``cool.conf`` (see
``cool-api``)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication
from oslo_config import cfg
from prometheus_client import multiprocess

from cool.api import app, auth
from cool.api.asgi import WsgiOnAsgi
from cool.api.wsgi import connect_lazily, load_config
from cool.clouds.openstack import credentials as openstack_credentials

__all__ = ["Server", "check", "load_config"]


def check(conf: cfg.ConfigOpts) -> None:
    """Refuse a bad auth configuration in the master, with its reason, rather than
    have every worker fail to boot (ConfigurationError): the auth strategy, and the
    trusts an openstack provider needs (which need Keystone auth)."""
    auth.wrap(lambda _environ, _start_response: [], conf)
    openstack_credentials.api_trusts(conf)


class Server(BaseApplication):  # type: ignore[misc]
    """cool-api's gunicorn: settings from cool.conf, the app built after the fork."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.client: Any = None
        self.served: WsgiOnAsgi | None = None
        super().__init__()

    def load_config(self) -> None:
        api = self.conf.api
        host = api.bind_host
        bind = f"[{host}]:{api.bind_port}" if ":" in host else f"{host}:{api.bind_port}"
        settings = {
            "bind": [bind],
            "workers": api.workers,
            # An event loop reads requests; only complete ones reach api.threads
            # threads (cool.api.asgi). See docs/operators.md, "How cool-api faces
            # the network".
            "worker_class": "cool.api.worker.Worker",
            "threads": 1,
            "worker_connections": api.max_connections,
            "keepalive": api.idle_timeout,
            "limit_request_line": api.max_request_line,
            "limit_request_field_size": api.max_header_size,
            "limit_request_fields": api.max_headers,
            "asgi_lifespan": "off",
            # The event loop tells the master it is alive whatever the threads do.
            "timeout": 30,
            "graceful_timeout": 30,
            "control_socket_disable": True,
            "errorlog": "-",
            "proc_name": "cool-api",
            "child_exit": self._child_exit,
            "worker_exit": self._worker_exit,
            "when_ready": self._when_ready,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        self.client = connect_lazily(self.conf)
        self.served = WsgiOnAsgi(
            app.build(self.conf, self.client),
            threads=self.conf.api.threads,
            max_body_bytes=self.conf.oslo_middleware.max_request_body_size,
            body_timeout_s=self.conf.api.body_timeout,
            max_buffered_bytes=self.conf.api.max_buffered_bytes,
        )
        return self.served

    def _when_ready(self, server: Any) -> None:
        for listener in server.LISTENERS:
            # A TCP listener prints as "http://host:port" already.
            print(f"cool-api listening on {listener}", flush=True)

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self.served is not None:
            self.served.close()
        if self.client is not None:
            self.client.stop()
            self.client.close()

    @staticmethod
    def _child_exit(_server: Any, worker: Any) -> None:
        multiprocess.mark_process_dead(worker.pid)
