"""``cool workers``: the live cool-worker processes and how busy each is."""

from __future__ import annotations

import argparse
from typing import Any

from cliff.lister import Lister

from cool.cli.client import ApiError, ApiUnreachableError
from cool.cli.remote import RemoteMixin


class Workers(RemoteMixin, Lister):
    """List the workers registered in ZooKeeper (admins)."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[list[Any]]]:
        try:
            workers = self.client.workers()
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc) from None
        rows = [
            [
                w["id"],
                w.get("host"),
                w.get("pid"),
                w.get("load"),
                w.get("capacity"),
                w.get("started_at"),
            ]
            for w in workers
        ]
        return ["ID", "Host", "PID", "Load", "Capacity", "Started At"], rows
