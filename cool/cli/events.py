"""``cool events ID [--follow]``: a build's events; live, with --follow."""

from __future__ import annotations

import argparse
from typing import Any

from cliff.lister import Lister

from cool.cli.client import ApiError, ApiUnreachableError
from cool.cli.follow import EXIT_INTERRUPTED, FollowingCommand, FollowInterruptedError
from cool.cli.remote import add_build_id

# Parent: the resource whose nested stack holds the event's resource ("" at the top).
_COLUMNS = ["ID", "At", "Resource", "Parent", "Old Status", "New Status", "Reason", "Worker"]


class Events(FollowingCommand, Lister):
    """List a build's events in order; with --follow, stream them until it ends.

    Following shows a live progress bar (on a terminal) and ends with the
    outputs or the failure note; its exit code is 1 unless the build
    completed. Ctrl-C stops following and leaves the build alone. With -f json
    the streamed events are JSON lines.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_build_id(parser)
        parser.add_argument(
            "--follow", action="store_true", help="stream events as they happen, until the end"
        )
        return parser

    def run(self, parsed_args: argparse.Namespace) -> int:
        if not parsed_args.follow:
            return super().run(parsed_args)
        try:
            self.follow(
                parsed_args.build_id,
                events_to_stdout=True,
                json_lines=parsed_args.formatter == "json",
                show_outputs=True,
            )
        except FollowInterruptedError:
            return EXIT_INTERRUPTED
        return self.exit_code

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[list[Any]]]:
        try:
            events = list(self.client.all_events(parsed_args.build_id))
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc) from None
        rows = [
            [
                e["id"],
                e.get("at"),
                e.get("resource") or "",
                e.get("parent") or "",
                e.get("old_status") or "",
                e.get("new_status"),
                e.get("reason") or "",
                e.get("worker") or "",
            ]
            for e in events
        ]
        return _COLUMNS, rows
