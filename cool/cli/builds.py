"""``cool submit | status | list | resources | outputs | cancel | delete``."""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

from cliff.lister import Lister
from cliff.show import ShowOne

from cool.cli.bundle import bundle
from cool.cli.client import ApiError, ApiUnreachableError
from cool.cli.diagnostics import ReportedError
from cool.cli.follow import (
    EXIT_INTERRUPTED,
    FollowingCommand,
    FollowInterruptedError,
    note_lines,
    output_value,
)
from cool.cli.remote import RemoteMixin, add_build_id, shown, shown_attributes
from cool.cli.validate import add_template_arguments, gather_values

_BUILD_FIELDS = (
    "id",
    "name",
    "status",
    "finished",
    "reason",
    "progress",
    "outputs",
    "note",
    "created_at",
    "updated_at",
    "deadline",
    "timeout_mins",
    "rollback",
    "project_id",
    "user_id",
    "request_id",
)


def build_columns(build: dict[str, Any], formatter: str) -> tuple[list[str], list[Any]]:
    values = []
    for name in _BUILD_FIELDS:
        value = build.get(name)
        if formatter not in ("json", "yaml"):
            if name == "progress" and isinstance(value, dict):
                value = f"{value.get('done', 0)}/{value.get('total', 0)}"
            elif name == "note" and value:
                value = "\n".join(note_lines(value, None))
            elif name == "outputs" and isinstance(value, dict):
                value = "\n".join(
                    f"{k}: {shown(output_value(v), formatter)}" for k, v in sorted(value.items())
                )
        values.append(shown(value, formatter))
    return list(_BUILD_FIELDS), values


class _ShowBuild(FollowingCommand, ShowOne):
    def run(self, parsed_args: argparse.Namespace) -> int:
        try:
            result = super().run(parsed_args)
        except FollowInterruptedError:
            return EXIT_INTERRUPTED
        return result or self.exit_code


class Submit(_ShowBuild):
    """Submit a template to build; with --wait, follow it to its end.

    The exit code with --wait is 1 unless the build completed.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_template_arguments(parser)
        parser.add_argument("--name", help="the build's name (its id when absent)")
        parser.add_argument(
            "--timeout", metavar="MIN", type=int, help="minutes the build may take to complete"
        )
        parser.add_argument(
            "--no-rollback",
            action="store_true",
            help="keep what was built when the build fails (default: delete it)",
        )
        parser.add_argument(
            "--idempotency-key",
            metavar="KEY",
            help="submitting again with the same key gives the same build, never a second one "
            "(a key of its own is sent with every submit otherwise)",
        )
        parser.add_argument("--wait", action="store_true", help="follow the build to its end")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[Any]]:
        path = parsed_args.template
        bundled = bundle(path, parsed_args.environment)
        request: dict[str, Any] = bundled.fields()
        values = gather_values(parsed_args)
        if values:
            request["parameters"] = values
        if parsed_args.name:
            request["name"] = parsed_args.name
        if parsed_args.timeout is not None:
            request["timeout_mins"] = parsed_args.timeout
        if parsed_args.no_rollback:
            request["rollback"] = False
        key = parsed_args.idempotency_key or str(uuid.uuid4())
        lost = (
            f"the submit may have been stored: run the same command with "
            f"--idempotency-key {key} to get its build, never a second one"
        )
        try:
            build = self.client.submit(request, idempotency_key=key)
        except ApiUnreachableError as exc:
            raise ReportedError(f"{exc}; {lost}") from None
        except ApiError as exc:
            if exc.status >= 500:
                self.app.stderr.write(lost + "\n")
            raise self.reported(exc, path, bundled.original, bundled.sources) from None
        except KeyboardInterrupt:
            self.app.stderr.write("\n" + lost + "\n")
            raise
        if parsed_args.wait:
            self.app.stderr.write(f"build {build['id']} submitted\n")
            build = self.follow(build["id"], expect=frozenset({"CREATE_COMPLETE"}))
        return build_columns(build, parsed_args.formatter)


class Status(_ShowBuild):
    """Show a build: status, progress, outputs, failure note."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_build_id(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[Any]]:
        try:
            build = self.client.build(parsed_args.build_id)
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc) from None
        return build_columns(build, parsed_args.formatter)


class Cancel(_ShowBuild):
    """Cancel a build being created: what was built is deleted."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_build_id(parser)
        parser.add_argument("--wait", action="store_true", help="follow the build to its end")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[Any]]:
        asked = time.time()
        try:
            # --wait shows what happens from now on, not the build's history
            marker = self.client.last_event_id(parsed_args.build_id) if parsed_args.wait else None
            build = self.client.cancel(parsed_args.build_id)
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc) from None
        if parsed_args.wait:
            cancelled = frozenset({"CANCEL_COMPLETE"})
            build = self.follow(build["id"], marker=marker, since=asked, expect=cancelled)
        else:
            # The answer shows the build as it still is (CREATE_IN_PROGRESS, claimed):
            # say that the cancel was accepted, and what comes of it.
            # With rollback off (submit --no-rollback) a cancel keeps what was built.
            then = (
                "deletes what it built"
                if build.get("rollback", True)
                else "keeps what it built (rollback is off)"
            )
            self.app.stderr.write(
                f"cancel requested for build {build['id']}: it stops within one step, "
                f"{then} and ends CANCEL_COMPLETE (follow it with "
                f"`cool events {build['id']} --follow`, or cancel with --wait)\n"
            )
        return build_columns(build, parsed_args.formatter)


class Delete(_ShowBuild):
    """Delete what a build built (the build itself stays listed until pruned)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_build_id(parser)
        parser.add_argument("--wait", action="store_true", help="follow the delete to its end")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[Any]]:
        asked = time.time()
        try:
            # --wait shows what happens from now on, not the build's history
            marker = self.client.last_event_id(parsed_args.build_id) if parsed_args.wait else None
            build = self.client.delete(parsed_args.build_id)
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc) from None
        if parsed_args.wait:
            deleted = frozenset({"DELETE_COMPLETE"})
            build = self.follow(build["id"], marker=marker, since=asked, expect=deleted)
        return build_columns(build, parsed_args.formatter)


class ListBuilds(RemoteMixin, Lister):
    """List the project's builds, newest first."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument(
            "--status",
            action="append",
            metavar="STATUS",
            help="only builds in this status (repeat, or comma-separate, for more)",
        )
        parser.add_argument(
            "--all-projects", action="store_true", help="every project's builds (admins)"
        )
        parser.add_argument(
            "--limit", type=int, default=0, metavar="N", help="at most N builds (default: all)"
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[list[Any]]]:
        statuses = [s for given in parsed_args.status or () for s in given.split(",") if s]
        columns = ["ID", "Name", "Status", "Progress", "Created At", "Updated At"]
        if parsed_args.all_projects:
            columns.insert(2, "Project")
        try:
            rows = []
            for build in self.client.builds(
                statuses=statuses, all_projects=parsed_args.all_projects, limit=parsed_args.limit
            ):
                counts = build.get("progress") or {}
                row = [
                    build["id"],
                    build.get("name"),
                    build.get("status"),
                    f"{counts.get('done', 0)}/{counts.get('total', 0)}",
                    build.get("created_at"),
                    build.get("updated_at"),
                ]
                if parsed_args.all_projects:
                    row.insert(2, build.get("project_id"))
                rows.append(row)
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc) from None
        return columns, rows


class Resources(RemoteMixin, Lister):
    """List a build's resources in build order, with their status and cloud id.

    Only the template's own, as Heat's resource-list; --nested lists the resources of
    nested stacks (template resources, OS::Heat::Stack, ResourceGroup members) too,
    each named under its parent (web/0/server), with Parent and Nested columns.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_build_id(parser)
        parser.add_argument(
            "--long", action="store_true", help="also attributes, attempts, worker and errors"
        )
        parser.add_argument(
            "--nested",
            action="store_true",
            help="also the resources of nested stacks, with their parent",
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[list[Any]]]:
        nested = parsed_args.nested
        try:
            resources = self.client.resources(parsed_args.build_id, nested=nested)
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc) from None
        columns = ["Name", "Type", "Status", "Physical ID", "Level", "Depends On"]
        if nested:
            columns[1:1] = ["Parent", "Nested"]
        extra = ["Attempts", "Worker", "Error", "Attributes"] if parsed_args.long else []
        fmt = parsed_args.formatter
        rows = []
        for r in resources:
            depends = r.get("depends_on") or []
            row = [
                r["name"],
                *([r.get("parent") or "", r.get("nested") or ""] if nested else []),
                r.get("type"),
                r.get("status"),
                r.get("physical_id") or "",
                r.get("level"),
                depends if fmt in ("json", "yaml") else ", ".join(depends),
            ]
            if extra:
                row += [
                    r.get("attempts"),
                    r.get("worker") or "",
                    r.get("error") or "",
                    shown_attributes(r.get("attributes"), fmt),
                ]
            rows.append(row)
        return columns + extra, rows


class Outputs(RemoteMixin, Lister):
    """List a build's outputs (complete once the build is CREATE_COMPLETE)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_build_id(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[list[Any]]]:
        try:
            build = self.client.build(parsed_args.build_id)
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc) from None
        outputs = build.get("outputs") or {}
        fmt = parsed_args.formatter
        rows = [
            [
                name,
                shown(output_value(v), fmt),
                v.get("description", "") if isinstance(v, dict) else "",
            ]
            for name, v in sorted(outputs.items())
        ]
        return ["Output", "Value", "Description"], rows
