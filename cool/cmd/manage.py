"""``cool-manage``: operator commands that act on the whole deployment.

``cool-manage gc [--dry-run] [--config-file cool.conf]`` runs one garbage
collection pass now, with ``[gc]`` of the configuration: it shows each
finished build that goes (or would go, with ``--dry-run``) and why. It does
not take part in the workers' GC election: pruning is safe alongside the
elected collector, because every deletion re-checks that its build is still
finished (a build both try to prune is deleted once, and refused to the other).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from oslo_config import cfg

from cool import config
from cool.clouds.openstack.credentials import gc_trusts
from cool.errors import CoolError
from cool.gc import GarbageCollector, PruneReport, gc_settings
from cool.store.session import Session

LOG = logging.getLogger("cool.manage")

HEADERS = ("build id", "project", "status", "finished at", "reason")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cool-manage", description="Operator commands for a cool deployment."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    gc = commands.add_parser(
        "gc",
        help="prune finished builds now ([gc] retention and max_finished)",
        description="Run one garbage collection pass: prune finished builds older than "
        "[gc] retention and, above [gc] max_finished finished builds, the oldest.",
    )
    gc.add_argument(
        "--dry-run", action="store_true", help="show what would be pruned, and delete nothing"
    )
    gc.add_argument(
        "--config-file",
        action="append",
        default=[],
        metavar="PATH",
        help="cool.conf to read (may be repeated; default: oslo.config's search path)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    conf = cfg.ConfigOpts()
    config.register(conf)
    conf(
        [f"--config-file={path}" for path in args.config_file],
        project="cool",
        prog="cool-manage",
    )
    return _gc(conf, dry_run=args.dry_run)


def _gc(conf: cfg.ConfigOpts, *, dry_run: bool) -> int:
    settings = gc_settings(conf)
    try:
        session = Session.open(config.zookeeper_settings(conf))
    except CoolError as exc:
        print(f"cool-manage: {exc}", file=sys.stderr)
        return 1
    try:
        collector = GarbageCollector(
            session, settings, identifier="cool-manage", trusts=gc_trusts(conf)
        )
        report = collector.run_once(dry_run=dry_run)
    except CoolError as exc:
        print(f"cool-manage: garbage collection failed: {exc}", file=sys.stderr)
        return 1
    finally:
        session.close()
    print(render(report, retention_s=settings.retention_s, max_finished=settings.max_finished))
    return 0


def render(report: PruneReport, *, retention_s: float, max_finished: int) -> str:
    """The report as an operator reads it: limits, a table, a summary."""
    lines = [
        f"{_count(report.finished, 'finished build')}; retention {_duration(retention_s)}, "
        f"max_finished {max_finished}"
    ]
    pruned = set(report.pruned)
    refused = {r.build_id: r.why for r in report.refused}
    rows = [
        (
            c.build_id,
            c.project_id or "?",
            str(c.status),
            _when(c.finished_at),
            str(c.reason) if c.build_id not in refused else f"kept: {refused[c.build_id]}",
        )
        for c in report.candidates
        if report.dry_run or c.build_id in pruned or c.build_id in refused
    ]
    if rows:
        lines.append(table(HEADERS, rows))
    if report.dry_run:
        lines.append(
            f"would prune {_count(len(report.candidates), 'build')} (dry run: nothing was deleted)"
            if report.candidates
            else "nothing to prune"
        )
    else:
        lines.append(
            f"pruned {_count(len(report.pruned), 'build')} in "
            f"{_count(report.transactions, 'transaction')}, "
            f"{report.elapsed_s:.2f} s"
            + (f"; kept {len(report.refused)} that changed meanwhile" if report.refused else "")
        )
    if report.trusts_deleted or report.trusts_waiting:
        lines.append(
            f"Keystone trusts of pruned builds: {report.trusts_deleted} deleted, "
            f"{report.trusts_waiting} still to delete"
        )
    if report.znodes_before is not None:
        after = (
            f" -> {report.znodes_after}"
            if not report.dry_run and report.znodes_after is not None
            else ""
        )
        lines.append(f"ZooKeeper znodes: {report.znodes_before}{after}")
    return "\n".join(lines)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table, like openstackclient's."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([rule, line(headers), rule, *(line(r) for r in rows), rule])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


if __name__ == "__main__":
    sys.exit(main())
