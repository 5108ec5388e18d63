"""The API for any WSGI server: ``gunicorn 'cool.api.wsgi:init_application()'``.

``cool-api`` is the supported way to run it (it also checks the bind address
and sets up metrics for several processes); this factory is for operators
who serve WSGI apps their own way (uWSGI, mod_wsgi). The configuration files
come from ``COOL_CONFIG_FILES`` (comma-separated), read when the factory is
called, never at import.
"""

from __future__ import annotations

import atexit
import logging
import os
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg

from cool import config
from cool.api import app, opts
from cool.store.client import make_client

LOG = logging.getLogger(__name__)


def load_config(args: Sequence[str] = (), *, files: Sequence[str] | None = None) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    opts.register(conf)
    conf(list(args), project="cool", prog="cool-api", default_config_files=files)
    return conf


def connect_lazily(conf: cfg.ConfigOpts) -> Any:
    """A kazoo client that connects in the background: until it does (and whenever
    ZooKeeper is away) requests answer 503 instead of the process failing to start.

    It waits up to ``[zookeeper] connect_timeout`` for the first connection
    first, so a (re)started API with ZooKeeper at hand serves its first
    requests instead of answering them 503.
    """
    client = make_client(config.zookeeper_settings(conf))
    connected = client.start_async()
    LOG.info("connecting to ZooKeeper at %s", conf.zookeeper.hosts)
    # Bounded below gunicorn's 30-second worker timeout, whatever connect_timeout says.
    if not connected.wait(min(conf.zookeeper.connect_timeout, 20.0)) or not client.connected:
        LOG.warning("not connected to ZooKeeper yet: answering 503 until connected")
    return client


def init_application() -> Any:
    files = [f for f in os.environ.get("COOL_CONFIG_FILES", "").split(",") if f]
    conf = load_config(files=files or None)
    client = connect_lazily(conf)
    atexit.register(client.stop)
    return app.build(conf, client)
