"""Following a build live: events as they happen (the API's long-poll, woken by a
ZooKeeper watch), a bar of resources done out of total, the resources being
worked on and the time since the build began; the end is the outputs or the
failure note.

Events go to ``out`` (stdout: they are the command's output); the live bar and
the summary go to the console (stderr), drawn only on a terminal. Ctrl-C stops
following and leaves the build alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
)
from rich.table import Column, Table
from rich.text import Text

from cool.cli.client import ApiError, ApiUnreachableError, CoolClient
from cool.cli.remote import RemoteMixin
from cool.errors import CoolError

# A long-poll's wait: answered at once when an event comes, so only how often an
# idle build costs a request. Below [api] max_event_wait (60 s by default).
POLL_WAIT_S = 25.0
# cool-api unreachable or answering 502/503/504 (restarting, ZooKeeper away): keep
# trying this long before giving up (with the resume hint).
PATIENCE_S = 300.0
_BACKOFF_S = (0.5, 5.0)  # an empty answer long before the wait: all long-poll slots taken
_SUCCESS = frozenset({"CREATE_COMPLETE", "DELETE_COMPLETE", "UPDATE_COMPLETE"})
# A teardown (delete, rollback, a cancel's rollback) counts resources torn down, of those
# that were there to tear down (a PENDING one never was).
_TEARDOWN_PREFIXES = ("DELETE_", "ROLLBACK_")
_TORN_DOWN = frozenset({"DELETE_COMPLETE", "RETAINED"})
_NEVER_CREATED = frozenset({"PENDING"})
# The bar's width: 40 on a wide terminal, less on a narrow one, never under 10, so
# that the whole live line (mark, status, bar, m/n, time, names) fits on one line.
_BAR_WIDTH = (10, 40)
_BAR_SPARE = 60  # the columns the rest of the line wants before the names


def parse_time(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def succeeded(build: dict[str, Any], expect: frozenset[str] = _SUCCESS) -> bool:
    return build.get("status") in expect


def expected_end(build: dict[str, Any]) -> frozenset[str]:
    """How a build being followed should end: as a delete if it is being deleted."""
    status = str(build.get("status", ""))
    if status.startswith("DELETE_"):
        return frozenset({"DELETE_COMPLETE"})
    if status.startswith("UPDATE_"):  # a scaling policy's resize
        return frozenset({"UPDATE_COMPLETE"})
    return frozenset({"CREATE_COMPLETE"})


def output_value(output: Any) -> Any:
    """An output is ``{"value": ..., "description": ...}``; its value."""
    return output.get("value") if isinstance(output, dict) else output


def event_line(event: dict[str, Any]) -> str:
    """``12:01:02.345 web CREATE_IN_PROGRESS -> CREATE_COMPLETE: created``"""
    at = (event.get("at") or "")[11:23]
    who = event.get("resource") or "build"
    old = event.get("old_status")
    change = f"{old} -> {event.get('new_status')}" if old else str(event.get("new_status"))
    reason = f": {event['reason']}" if event.get("reason") else ""
    return f"{at} {who} {change}{reason}"


def note_lines(note: dict[str, Any] | None, reason: str | None) -> list[str]:
    """The failure note, as a person reads it: what failed, and why."""
    if not note:
        return [reason] if reason else []
    resource = note.get("resource")
    action = note.get("action") or "CREATE"
    head = f"{action} of {resource} ({note.get('type')}) failed" if resource else f"{action} failed"
    lines = [head, f"  error: {note.get('error')}"]
    if note.get("worker"):
        lines.append(f"  worker: {note['worker']}")
    if note.get("at"):
        lines.append(f"  at: {note['at']}")
    return lines


class _Mark(SpinnerColumn):
    """A spinner while the build goes on; how it ended once it has."""

    def __init__(self, expect: frozenset[str], unicode: bool) -> None:
        super().__init__(spinner_name="dots" if unicode else "line")
        self.expect = expect
        self.marks = ("✔", "✘") if unicode else ("+", "x")

    def render(self, task: Task) -> Text:
        if task.fields.get("until"):
            ok = task.fields.get("status") in self.expect
            return Text(self.marks[0] if ok else self.marks[1], style="green" if ok else "red")
        return super().render(task)


class _Elapsed(ProgressColumn):
    """Since the build was created (wall clock), frozen once it finished."""

    def render(self, task: Task) -> Text:
        since = task.fields.get("since") or time.time()
        until = task.fields.get("until") or time.time()
        seconds = max(0, int(until - since))
        return Text(f"{seconds // 60}:{seconds % 60:02d}", style="progress.elapsed")


@dataclass
class _View:
    """What is known of the build, updated from events and reads."""

    build: dict[str, Any]
    since: float | None = None  # what the elapsed time counts from: the build's creation
    statuses: dict[str, str] = field(default_factory=dict)  # each resource's, as last seen
    tearing_down: bool = False  # once seen, kept: a cancel's rollback ends CANCEL_COMPLETE

    def track(self, resources: list[dict[str, Any]]) -> None:
        """The resources as read when following begins."""
        for resource in resources:
            self.statuses[resource["name"]] = str(resource.get("status", ""))

    def apply(self, event: dict[str, Any]) -> None:
        name = event.get("resource")
        if not name:
            return
        self.statuses[name] = str(event.get("new_status", ""))

    def counts(self) -> tuple[int, int | None]:
        """(done, total) for the bar: resources built, as the build counts them; in a
        teardown, resources torn down (or retained) of those there were to tear down."""
        self.tearing_down |= str(self.build.get("status", "")).startswith(_TEARDOWN_PREFIXES)
        if self.tearing_down:
            there = [s for s in self.statuses.values() if s not in _NEVER_CREATED]
            return sum(s in _TORN_DOWN for s in there), len(there)
        progress = self.build.get("progress") or {}
        return progress.get("done", 0), progress.get("total") or None

    def fields(self) -> dict[str, Any]:
        finished = self.build.get("finished")
        working = ", ".join(
            sorted(n for n, s in self.statuses.items() if s.endswith("_IN_PROGRESS"))
            if not finished
            else ()
        )
        return {
            "status": self.build.get("status", ""),
            "working": working,
            "since": self.since or parse_time(self.build.get("created_at")),
            "until": parse_time(self.build.get("updated_at")) if finished else None,
        }


class Follower:
    def __init__(
        self,
        client: CoolClient,
        console: Console,
        out: TextIO,
        *,
        json_lines: bool = False,
        show_outputs: bool = True,
        wait_s: float = POLL_WAIT_S,
        patience_s: float = PATIENCE_S,
    ) -> None:
        """``show_outputs=False`` when the command shows the build itself afterwards;
        ``patience_s``: how long cool-api may be unavailable before following stops."""
        self.client = client
        self.console = console
        self.out = out
        self.json_lines = json_lines
        self.show_outputs = show_outputs
        self.wait_s = wait_s
        self.patience_s = patience_s
        self.expect = _SUCCESS

    def follow(
        self,
        build_id: str,
        *,
        marker: int | None = None,
        since: float | None = None,
        expect: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Until the build is finished; the build as it ended. Events after ``marker``;
        the time shown counts from ``since`` (default: the build's creation);
        ``expect``: the statuses that count as success (default: from the build)."""
        view = _View(self._call(self.client.build, build_id), since)
        self.expect = expect or expected_end(view.build)
        # The whole tree: a teardown counts nested stacks' resources too.
        view.track(self._call(self.client.resources, build_id, nested=True))
        progress = live_progress(self.console, self.expect)
        done, total = view.counts()
        task = progress.add_task("build", total=total, completed=done, **view.fields())
        pause = _BACKOFF_S[0]
        with progress:
            while True:
                finished = bool(view.build.get("finished"))
                asked = time.monotonic()
                events = self._call(
                    self.client.events,
                    build_id,
                    marker=marker,
                    wait_s=0 if finished else self.wait_s,
                )
                answered_empty = not events and time.monotonic() - asked < self.wait_s / 2
                for event in events:
                    marker = int(event["id"])
                    view.apply(event)
                    self._emit(event, progress)
                view.build = self._call(self.client.build, build_id)
                done, total = view.counts()
                progress.update(task, total=total, completed=done, **view.fields())
                if finished and not events:
                    break
                if answered_empty and not finished and not view.build.get("finished"):
                    time.sleep(pause)  # no long-poll slot was free: do not spin
                    pause = min(pause * 2, _BACKOFF_S[1])
                else:
                    pause = _BACKOFF_S[0]
            progress.update(task, completed=done)
            progress.stop_task(task)
        self.summarise(view.build, since)
        return view.build

    def _emit(self, event: dict[str, Any], progress: Progress) -> None:
        line = json.dumps(event, sort_keys=True) if self.json_lines else event_line(event)
        if self.console.is_terminal and (self.out is self.console.file or self.out.isatty()):
            # One line each, cut to the terminal's width: wrapped, they push the bar away
            # (`cool events ID` shows them whole).
            progress.console.print(
                Text(line), no_wrap=True, overflow="ellipsis", crop=True, highlight=False
            )
        else:
            self.out.write(line + "\n")
            self.out.flush()

    def summarise(self, build: dict[str, Any], since: float | None = None) -> None:
        """The end: outputs of a build that succeeded, the note of one that did not."""
        status = build.get("status")
        elapsed = ""
        since = since or parse_time(build.get("created_at"))
        until = parse_time(build.get("updated_at"))
        if since and until:
            elapsed = f" in {until - since:.1f} s"
        line = Text(f"build {build['id']} {status}{elapsed}")
        if succeeded(build, self.expect):
            line.stylize("green")
            self.console.print(line)
            outputs = build.get("outputs") or {}
            if outputs and status == "CREATE_COMPLETE" and self.show_outputs:
                table = Table("Output", "Value", title=None, show_header=True)
                for name, output in sorted(outputs.items()):
                    value = output_value(output)
                    shown = value if isinstance(value, str) else json.dumps(value)
                    table.add_row(Text(name), Text(shown))  # values are not markup
                self.console.print(table)
            return
        line.stylize("red")
        expected = " or ".join(sorted(self.expect))
        line.append(f" (expected {expected})")
        self.console.print(line)
        for line in note_lines(build.get("note"), build.get("reason")):
            self.console.print(line, markup=False, highlight=False)

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``method``, tried again while cool-api is unavailable (up to ``patience_s``)."""
        deadline = time.monotonic() + self.patience_s
        pause = 1.0
        said = False
        while True:
            try:
                return method(*args, **kwargs)
            except (ApiUnreachableError, ApiError) as exc:
                if not exc.retryable or time.monotonic() + pause > deadline:
                    raise
                if not said:
                    self.console.print(Text(f"cool-api unavailable ({exc}); trying again"))
                    said = True
            time.sleep(pause)
            pause = min(pause * 2, 15.0)


def live_progress(console: Console, expect: frozenset[str]) -> Progress:
    """The live line, fitted to the console's width: the bar narrows on a narrow
    terminal and the names of the resources being worked on are cut, never wrapped."""
    bar_width = min(max(console.width - _BAR_SPARE, _BAR_WIDTH[0]), _BAR_WIDTH[1])
    return Progress(
        _Mark(expect, unicode=_unicode(console)),
        TextColumn("[bold]{task.fields[status]}"),
        BarColumn(bar_width=bar_width),
        MofNCompleteColumn(),
        _Elapsed(),
        TextColumn(
            "{task.fields[working]}",
            markup=False,  # names are not markup
            table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
        ),
        console=console,
        expand=True,  # the names take what the other columns leave, and no more
        redirect_stdout=False,
        redirect_stderr=False,
    )


def _unicode(console: Console) -> bool:
    return console.encoding.lower().replace("-", "").startswith("utf")


def resume_hint(build_id: str) -> str:
    return (
        f"stopped following; build {build_id} goes on. Resume with: cool events {build_id} --follow"
    )


# -- for the commands that follow (submit, cancel, delete --wait; events --follow)

# Exit codes: 0 done; 1 refused or failed; 130 following stopped by Ctrl-C.
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class FollowingCommand(RemoteMixin):
    """Commands that may follow a build to its end (``--wait``, ``--follow``)."""

    exit_code = 0

    def follow(
        self,
        build_id: str,
        *,
        events_to_stdout: bool = False,
        json_lines: bool = False,
        show_outputs: bool = False,
        marker: int | None = None,
        since: float | None = None,
        expect: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Events go to stderr unless they are the command's output (``cool events``):
        stdout is for the build that ``--wait`` shows at the end. The exit code is 1
        unless the build ends in ``expect`` (default: as its action should)."""
        console = Console(file=self.app.stderr, stderr=True, highlight=False)
        follower = Follower(
            self.client,
            console,
            self.app.stdout if events_to_stdout else self.app.stderr,
            json_lines=json_lines,
            show_outputs=show_outputs,
        )
        try:
            build = follower.follow(build_id, marker=marker, since=since, expect=expect)
        except KeyboardInterrupt:
            self.app.stderr.write("\n" + resume_hint(build_id) + "\n")
            self.exit_code = EXIT_INTERRUPTED
            raise FollowInterruptedError from None
        except (ApiError, ApiUnreachableError) as exc:
            self.app.stderr.write(resume_hint(build_id) + "\n")
            raise self.reported(exc) from None
        if not succeeded(build, follower.expect):
            self.exit_code = EXIT_FAILED
        return build


class FollowInterruptedError(CoolError):
    """Ctrl-C while following: already said; the exit code is 130."""

    code = "cool.cli.interrupted"
    title = "Interrupted"

    def __init__(self, message: str = "interrupted while following the build") -> None:
        super().__init__(message)
