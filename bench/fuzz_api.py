"""Fuzz a real cool-api with schemathesis for a while, by hand (docs/reliability.md,
"Fuzzing the API"): a ZooKeeper and cool-api (http_basic) on loopback, every check of
tests/api/test_openapi.py for ``--minutes``, then the figures as JSON.

    python -m bench.fuzz_api --minutes 10
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import sys
import tempfile
import time
from pathlib import Path

from harness.zookeeper import ZooKeeperServer
from tests.api.test_openapi import (
    GROWTH_BOUND_BYTES,
    fuzz,
    html_or_server_errors,
    process_group_rss_bytes,
    serving_api,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz_api", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max-examples", type=int, default=1000, help="per operation and phase")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cool-fuzz-") as temp:
        directory = Path(temp)
        zookeeper = ZooKeeperServer(force_sync=False)
        zookeeper.start()
        try:
            with serving_api(directory, zookeeper.hosts) as api:
                assert api.process is not None
                before = process_group_rss_bytes(api.process.pid)
                started = time.monotonic()
                result, entries = fuzz(
                    api.url,
                    directory,
                    max_examples=args.max_examples,
                    max_time_s=int(args.minutes * 60),
                )
                after = process_group_rss_bytes(api.process.pid)
        finally:
            zookeeper.stop()
    statuses = collections.Counter(entry["response"]["status"] for entry in entries)
    bad = html_or_server_errors(entries)
    figures = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started),
        "requests": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
        "schemathesis_exit": result.returncode,
        "summary": [line for line in result.stdout.splitlines() if "generated" in line],
        "server_errors_or_html": bad[:20],
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "growth_bound_mb": GROWTH_BOUND_BYTES / 2**20,
    }
    print(result.stdout[-6000:], file=sys.stderr)
    print(json.dumps(figures, indent=2))
    ok = result.returncode == 0 and not bad and after - before < GROWTH_BOUND_BYTES
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
