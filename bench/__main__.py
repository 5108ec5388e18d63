"""``python -m bench``: every benchmark that finishes in minutes, or one by name.

    python -m bench                  # the benchmarks of minutes, one after another (~10 min)
    python -m bench --quick          # the same, each with --quick (smoke runs, ~1.5 min)
    python -m bench --list           # every benchmark, with what it measures
    python -m bench engine --quick   # one by name; what follows the name goes to it

Run together, each benchmark runs in a process of its own (its ZooKeeper, its
workers, its memory and CPU figures are its own), one after another; the
command exits 1 if any did. The long ones run only by name: ``chaos``
(correctness under faults; 4 minutes by default, hours for the long run),
``openstack`` (needs the mini cloud: 2 GB and minutes to install and start)
and ``fuzz_api`` (10 minutes by default). Each is also ``python -m bench.<name>``.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    module: str  # the module whose main(argv) runs it
    summary: str
    in_all: bool  # run by a bare ``python -m bench``


COMMANDS = (
    Command(
        "validate_templates",
        "bench.validate_templates",
        "template validation, 100 to 5,000 resources (~10 s)",
        True,
    ),
    Command(
        "gc", "bench.gc", "the garbage collector on a backlog of finished builds (~2.5 min)", True
    ),
    Command(
        "engine",
        "bench.engine",
        "raw ZooKeeper, builds, worker scaling, takeover and memory (~2.5 min)",
        True,
    ),
    Command(
        "dispatch",
        "bench.dispatch",
        "builds a second with 100 and with 50,000 builds queued (~3 min)",
        True,
    ),
    Command(
        "large",
        "bench.large",
        "a 10,000-resource build against a 1,000-resource one (~1.5 min)",
        True,
    ),
    Command("delete", "bench.delete", "delete of a 1,000-resource build against its create", True),
    Command("api", "bench.api", "submits and reads through cool-api, both auth strategies", True),
    Command(
        "store",
        "bench.store",
        "submit, get and list on an empty store, one the GC keeps and 100,000 builds (~4 min)",
        True,
    ),
    Command(
        "chaos",
        "bench.chaos.run",
        "builds through the API while workers, ZooKeeper and cool-api are hurt (by name)",
        False,
    ),
    Command(
        "openstack",
        "bench.openstack.run",
        "cool on the mini OpenStack cloud against an openstacksdk script (by name)",
        False,
    ),
    Command("fuzz_api", "bench.fuzz_api", "schemathesis against a real cool-api (by name)", False),
)
BY_NAME = {command.name: command for command in COMMANDS}
INTERRUPT_WAIT_S = 60.0  # a benchmark's own clean-up after a Ctrl-C, at most


def listing() -> str:
    width = max(len(name) for name in BY_NAME)
    return "\n".join(f"{c.name:<{width}}  {c.summary}" for c in COMMANDS)


def run_one(name: str, argv: Sequence[str]) -> int:
    """One benchmark in this process, as ``python -m bench.<name> argv`` would run it."""
    main = importlib.import_module(BY_NAME[name].module).main
    return int(main(list(argv)) or 0)


def run_all(*, quick: bool) -> int:
    """Every benchmark of the "all" set, each in a process of its own; 1 if any failed."""
    results: list[tuple[str, int, float]] = []
    for command in (c for c in COMMANDS if c.in_all):
        argv = [sys.executable, "-m", command.module, *(["--quick"] if quick else [])]
        print(f"\n## {command.name}: {command.summary}\n", flush=True)
        started = time.monotonic()
        process = subprocess.Popen(argv)
        try:
            code = process.wait()
        except KeyboardInterrupt:
            # The terminal's Ctrl-C reached the benchmark too: let it stop what it started.
            try:
                process.wait(INTERRUPT_WAIT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise
        results.append((command.name, code, time.monotonic() - started))
    print("\n| benchmark | exit | seconds |\n|---|---:|---:|")
    for name, code, seconds in results:
        print(f"| {name} | {code} | {seconds:,.0f} |")
    return 1 if any(code for _, code, _ in results) else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-"):
        name, rest = argv[0], argv[1:]
        if name not in BY_NAME:
            print(f"python -m bench: no benchmark {name!r}; known:\n{listing()}", file=sys.stderr)
            return 2
        return run_one(name, rest)
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog="benchmarks (python -m bench NAME --help for each one's options):\n" + listing(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    parser.add_argument("--quick", action="store_true", help="run each with --quick")
    args = parser.parse_args(argv)
    if args.list:
        print(listing())
        return 0
    return run_all(quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
