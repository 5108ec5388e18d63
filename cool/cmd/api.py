"""``cool-api --config-file cool.conf``: the API under gunicorn.

gunicorn's asyncio worker reads requests; complete ones run in a pool of
threads (a long-poll of events holds a thread, not a process). Each worker
process builds the app after the fork, with its own ZooKeeper session. With
``auth_strategy = noauth`` it refuses to listen on anything but loopback.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence

LOG = logging.getLogger("cool.api")


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s",
    )
    # Before prometheus_client is imported anywhere: its counters then live in
    # files every worker process shares, and a scrape adds them up.
    metrics_dir = tempfile.mkdtemp(prefix="cool-api-metrics-")
    previous = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        # Deferred on purpose: prometheus_client picks its storage when first imported.
        from cool.api import server  # noqa: PLC0415
        from cool.errors import CoolError  # noqa: PLC0415

        conf = server.load_config(args)
        api = conf.api
        if api.auth_strategy == "noauth" and not is_loopback_host(api.bind_host):
            LOG.error(
                "auth_strategy = noauth is for development only: refusing to listen on %s; "
                "bind to 127.0.0.1 or choose keystone or http_basic",
                api.bind_host,
            )
            return 2
        if api.auth_strategy == "noauth":
            LOG.warning("auth_strategy = noauth: every caller is trusted (development only)")
        try:
            server.check(conf)
            server.Server(conf).run()
        except CoolError as exc:
            LOG.error("cannot start: %s", exc)
            return 1
        return 0
    finally:
        # Called in-process (tests), the caller's environment is left as it was.
        if previous is None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        else:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = previous
        shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
