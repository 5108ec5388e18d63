"""What the chaos run checks at the end, and how it prints it.

Read through the API (every build, its resources and events) and from the sim's
file (live rows, duplicates) and the logs, then judged:

- stuck: a build not finished at the end (must be 0);
- unexpected: a final status other than the one its kind expects (0);
- duplicates: a step with more than one live sim resource (0);
- leaks: a live sim resource that no build's ledger owns (its build and step
  name no record with that physical id), or whose build is DELETE_COMPLETE,
  ROLLBACK_COMPLETE or CANCEL_COMPLETE while its record is not RETAINED (0).
  The ledger is the whole tree (``nested=true``); a nested stack's own resource
  has no sim row (cool.clouds.nested), so it is never counted as lost or leaked;
- API answers: any 5xx but a JSON 503 in the API-SIG format (0);
- log lines at ERROR, and tracebacks, in cool-api's and the workers' logs (0);
- takeovers after a drain that took a session timeout or longer (0: a drain
  hands its builds over at once).

Also measured: writes refused by fencing (the workers' "fenced write refused" and
"lease moved on" lines), and takeovers: the time from a worker's death (SIGKILL,
SIGSTOP, SIGTERM) to the "resumed by" event of each build it held, per fault.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench._api import nearest_rank
from bench.chaos.api import ApiClient, ApiGaveUpError
from bench.chaos.builds import Build
from cool.clouds.sim.provider import SimProvider

TORN_DOWN = frozenset({"DELETE_COMPLETE", "ROLLBACK_COMPLETE", "CANCEL_COMPLETE"})
# The level field of cool's log lines ("<date> <time> <pid> ERROR ...") and gunicorn's
# ("[<date>] [<pid>] [ERROR] ..."), and tracebacks; not the word in a message.
_LOG_PROBLEM = re.compile(
    r"^\S+ \S+ \d+ (ERROR|CRITICAL) |^\[[^]]*\] \[\d+\] \[(ERROR|CRITICAL)\]"
    r"|Traceback \(most recent call last\)"
)
# A worker's "claim lost (...)" lines: refused by ZooKeeper's fence (a write, or the check
# before a cloud call), and refused by the cloud's (the sim's fencing token).
_FENCED_ZOOKEEPER = re.compile(r"claim lost \((fenced write refused|the lease moved on)")
_FENCED_CLOUD = re.compile(r"claim lost \(simulated refusal")
_LISTED = 20  # violations of one kind printed in full
_UNREADABLE_LIMIT = 3  # builds in a row the API could not give


def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (as the API benchmark takes it), or None without values."""
    if not values:
        return None
    return nearest_rank(sorted(values), fraction)


@dataclass(slots=True)
class Report:
    settings: dict[str, Any]
    submitted: int = 0
    terminal: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    cancel_too_late: int = 0
    stuck: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    submit_errors: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    live_resources: int = 0
    fenced_refusals: dict[str, int] = field(default_factory=lambda: {"zookeeper": 0, "cloud": 0})
    takeovers: dict[str, list[float]] = field(default_factory=dict)
    slow_drains: list[str] = field(default_factory=list)
    api_statuses: dict[str, int] = field(default_factory=dict)
    api_connection_errors: dict[str, int] = field(default_factory=dict)
    bad_5xx: list[str] = field(default_factory=list)
    log_problems: list[str] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    fault_errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    build_list: list[dict[str, Any]] = field(default_factory=list)  # one line per build

    def violations(self) -> dict[str, list[str]]:
        found = {
            "stuck builds": self.stuck,
            "unexpected final status": self.unexpected,
            "builds not submitted": self.submit_errors,
            "sim duplicates": self.duplicates,
            "sim leaks": self.leaks,
            "API 5xx other than a JSON 503": self.bad_5xx,
            "ERROR or Traceback in the logs": self.log_problems,
            "drain takeovers of a session timeout or more": self.slow_drains,
            "faults that could not be applied": self.fault_errors,
        }
        return {what: items for what, items in found.items() if items}

    def takeover_figures(self) -> dict[str, dict[str, float | int | None]]:
        timeout = float(self.settings["session_timeout_s"])
        figures = {}
        for cause, values in sorted(self.takeovers.items()):
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            top = max(values) if values else None
            figures[cause] = {
                "count": len(values),
                "p50_s": _round(p50),
                "p99_s": _round(p99),
                "max_s": _round(top),
                "max_over_session_timeout": _round(top / timeout if top is not None else None),
            }
        return figures

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "builds": {
                "submitted": self.submitted,
                "terminal": self.terminal,
                "by_status": self.by_status,
                "by_kind": self.by_kind,
                "cancel_completed_first": self.cancel_too_late,
            },
            "sim": {"live_resources": self.live_resources},
            "fenced_refusals": self.fenced_refusals,
            "takeovers": self.takeover_figures(),
            "api": {
                "statuses": self.api_statuses,
                "connection_errors": self.api_connection_errors,
            },
            "faults": self.faults,
            "seconds": self.seconds,
            "violations": self.violations(),
            "ok": not self.violations(),
            "build_list": self.build_list,
        }


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


# -- gathering -------------------------------------------------------------------------


def judge_builds(report: Report, client: ApiClient, builds: Sequence[Build]) -> dict[str, Any]:
    """Read every build back; fill in statuses, stuck and unexpected. Returns the ledgers
    (build id -> {resource name -> record}) and events (build id -> events)."""
    ledgers: dict[str, dict[str, dict[str, Any]]] = {}
    events: dict[str, list[dict[str, Any]]] = {}
    by_status: collections.Counter[str] = collections.Counter()
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    unreadable = 0
    for build in builds:
        if not build.build_id:
            report.submit_errors.append(f"{build.name} ({build.kind}): {build.submit_error}")
            continue
        report.submitted += 1
        if unreadable >= _UNREADABLE_LIMIT:  # the API is gone: do not wait for each build
            report.stuck.append(f"{build.build_id} {build.name}: not read (the API is down)")
            continue
        try:
            answer = client.call("GET", f"/v1/builds/{build.build_id}")
            # The whole tree: a nested stack's members have sim rows too.
            path = f"/v1/builds/{build.build_id}/resources?nested=true"
            resources = client.call("GET", path)
            events[build.build_id] = client.pages(f"/v1/builds/{build.build_id}/events", "events")
        except ApiGaveUpError as exc:
            unreadable += 1
            report.stuck.append(f"{build.build_id} {build.name}: unreadable: {exc}")
            continue
        unreadable = 0
        final = answer.body["build"]
        build.final = final
        status = final["status"]
        report.build_list.append(
            {
                "id": build.build_id, "name": build.name, "kind": build.kind,
                "shape": build.shape, "rollback": build.rollback, "status": status,
                "action_answer": build.action_status,
            }
        )  # fmt: skip
        by_status[status] += 1
        by_kind[build.kind][status] += 1
        ledgers[build.build_id] = {r["name"]: r for r in resources.body["resources"]}
        what = f"{build.build_id} {build.name} ({build.kind}, {build.shape})"
        if not final["finished"]:
            last = events[build.build_id][-3:]
            report.stuck.append(
                f"{what}: {status} ({final['reason']}); last events: "
                + "; ".join(f"{e['resource']} {e['new_status']} {e['reason']}" for e in last)
            )
            continue
        report.terminal += 1
        if status not in build.expected():
            note = final.get("note") or {}
            report.unexpected.append(
                f"{what}: {status}, expected {'/'.join(sorted(build.expected()))} "
                f"({final['reason']}; note: {note.get('error') if note else None}; "
                f"action answered {build.action_status})"
            )
        elif build.kind == "cancel" and status == "CREATE_COMPLETE":
            report.cancel_too_late += 1
    report.by_status = dict(sorted(by_status.items()))
    report.by_kind = {kind: dict(sorted(c.items())) for kind, c in sorted(by_kind.items())}
    return {"ledgers": ledgers, "events": events}


def judge_sim(
    report: Report, sim_db: Path, builds: Sequence[Build], ledgers: dict[str, Any]
) -> None:
    statuses = {b.build_id: str(b.final.get("status", "")) for b in builds if b.build_id}
    with SimProvider(sim_db) as sim:
        report.duplicates = [
            f"build {line.build_id} ({statuses.get(line.build_id, '?')}) step "
            f"{line.resource_name}: {line.live} live of {line.created} created"
            for line in sim.duplicates()
        ]
        live = sim.live_resources()
    report.live_resources = len(live)
    for resource in live:
        status = statuses.get(resource.build_id, "no such build")
        record = ledgers.get(resource.build_id, {}).get(resource.resource_name)
        what = (
            f"{resource.type} {resource.physical_id} (build {resource.build_id} {status}, "
            f"step {resource.resource_name}"
        )
        if record is None or record.get("physical_id") != resource.physical_id:
            owner = record.get("physical_id") if record else None
            report.leaks.append(f"{what}): no ledger owns it (the record names {owner})")
        elif status in TORN_DOWN and record.get("status") != "RETAINED":
            report.leaks.append(f"{what}): live, the record says {record.get('status')}")


def judge_logs(report: Report, logs: Sequence[Path]) -> None:
    for path in logs:
        text = path.read_text("utf-8", "replace")
        report.fenced_refusals["zookeeper"] += len(_FENCED_ZOOKEEPER.findall(text))
        report.fenced_refusals["cloud"] += len(_FENCED_CLOUD.findall(text))
        for number, line in enumerate(text.splitlines(), 1):
            if _LOG_PROBLEM.search(line):
                report.log_problems.append(f"{path.name}:{number}: {line[:300]}")


def judge_takeovers(
    report: Report,
    events: dict[str, list[dict[str, Any]]],
    deaths: dict[str, list[tuple[float, str]]],
) -> None:
    """Each "resumed by" event whose previous holder died by a fault: death -> resume."""
    timeout = float(report.settings["session_timeout_s"])
    found: dict[str, list[float]] = collections.defaultdict(list)
    for build_id, items in events.items():
        for i, event in enumerate(items):
            if not str(event.get("reason", "")).startswith("resumed by"):
                continue
            resumed_at = _at(event["at"])
            before = [e for e in items[:i] if e.get("worker")]
            if not before:
                continue
            holder = before[-1]["worker"]
            last_seen = _at(before[-1]["at"])
            causes = [
                (at, kind)
                for at, kind in deaths.get(holder, [])
                if last_seen - 1.0 <= at <= resumed_at  # it did nothing after the fault
            ]
            if not causes:
                found["other"].append(resumed_at - last_seen)
                continue
            at, kind = causes[-1]
            found[kind].append(resumed_at - at)
            if kind == "drain" and resumed_at - at >= timeout:
                report.slow_drains.append(
                    f"build {build_id}: resumed {resumed_at - at:.1f} s after its worker "
                    f"{holder} was drained (session timeout {timeout:g} s)"
                )
    report.takeovers = dict(found)


# -- printing ---------------------------------------------------------------------------


def render(report: Report) -> None:
    console = Console(width=max(Console().width, 132))
    table = Table(title=f"chaos run, seed {report.settings['seed']}", show_lines=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_column("must be", justify="right")
    rows: list[tuple[str, Any, str]] = [
        ("builds submitted", report.submitted, ""),
        ("builds terminal", report.terminal, str(report.submitted)),
        *((f"  {status}", n, "") for status, n in report.by_status.items()),
        ("  cancels that came after the create completed", report.cancel_too_late, ""),
        ("stuck (not terminal)", len(report.stuck), "0"),
        ("final status not the expected one", len(report.unexpected), "0"),
        ("builds not submitted", len(report.submit_errors), "0"),
        ("sim resources live at the end", report.live_resources, ""),
        ("sim duplicates", len(report.duplicates), "0"),
        ("sim leaks", len(report.leaks), "0"),
        (
            "writes refused by fencing: ZooKeeper / cloud (worker logs)",
            f"{report.fenced_refusals['zookeeper']} / {report.fenced_refusals['cloud']}",
            "",
        ),
    ]
    for cause, f in report.takeover_figures().items():
        rows.append(
            (
                f"takeovers after {cause}: p50 / p99 / max s (max / session timeout)",
                f"{f['count']}: {f['p50_s']} / {f['p99_s']} / {f['max_s']} "
                f"({f['max_over_session_timeout']})",
                "< 1 for drain" if cause == "drain" else "",
            )
        )
    rows += [
        *((f"API answers {status}", n, "") for status, n in sorted(report.api_statuses.items())),
        *(
            (f"API connection errors, retried: {kind}", n, "")
            for kind, n in sorted(report.api_connection_errors.items())
        ),
        ("API 5xx other than a JSON 503", len(report.bad_5xx), "0"),
        ("ERROR or Traceback lines in the logs", len(report.log_problems), "0"),
        ("faults applied", len(report.faults), ""),
        ("faults that could not be applied", len(report.fault_errors), "0"),
    ]
    for what, value, must in rows:
        table.add_row(what, str(value), must)
    console.print(table)
    for what, items in report.violations().items():
        console.print(f"[bold red]VIOLATION[/]: {what} ({len(items)})", highlight=False)
        for item in items[:_LISTED]:
            console.print(f"  {item}", highlight=False, markup=False)
        if len(items) > _LISTED:
            console.print(f"  ... and {len(items) - _LISTED} more (see the JSON)")
