"""The API served by gunicorn, configured from ``cool.conf`` (see ``cool-api``)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication
from oslo_config import cfg
from prometheus_client import multiprocess

from cool.api import app, auth
from cool.api.wsgi import connect_lazily, load_config
from cool.clouds import openstack_credentials

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
        super().__init__()

    def load_config(self) -> None:
        api = self.conf.api
        host = api.bind_host
        bind = f"[{host}]:{api.bind_port}" if ":" in host else f"{host}:{api.bind_port}"
        settings = {
            "bind": [bind],
            "workers": api.workers,
            "worker_class": "gthread",
            "threads": api.threads,
            # A long-poll holds a request up to max_event_wait: never kill it for that.
            "timeout": int(api.max_event_wait) + 30,
            "graceful_timeout": 30,
            # Ids of any length get the API's own 404, not gunicorn's 414 (1 MiB cap).
            "limit_request_line": 0,
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
        return app.build(self.conf, self.client)

    def _when_ready(self, server: Any) -> None:
        for listener in server.LISTENERS:
            print(f"cool-api listening on http://{listener}", flush=True)

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self.client is not None:
            self.client.stop()
            self.client.close()

    @staticmethod
    def _child_exit(_server: Any, worker: Any) -> None:
        multiprocess.mark_process_dead(worker.pid)
