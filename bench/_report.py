"""What every benchmark command does around its measurements: progress on stderr,
the machine it ran on, and the ending (a Ctrl-C or SIGTERM that stops everything
it started, the header, the table, each problem, the exit status).

stdout is the report, Markdown to paste into docs/benchmarks.md; everything said
along the way goes to stderr, so that the report stays clean.
"""

from __future__ import annotations

import os
import platform
import signal
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Protocol, TextIO, TypeVar

INTERRUPTED = "interrupted: every process it started is stopped"
INTERRUPTED_EXIT = 130  # what a shell reports for a command ended by SIGINT

R = TypeVar("R")


class Measured(Protocol):
    """Results that carry the machine's load around the run and what was wrong."""

    @property
    def load_before(self) -> float: ...  # the 1-minute load average

    @property
    def load_after(self) -> float: ...

    @property
    def problems(self) -> Sequence[str]: ...


M = TypeVar("M", bound=Measured)


def log(message: str) -> None:
    """A progress line on stderr, at once (a long run shows where it is)."""
    print(message, file=sys.stderr, flush=True)


def describe_machine() -> str:
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def header(setup: str, results: Measured, seconds: float) -> str:
    """The line above the tables: the machine, the benchmark's own ``setup``, how loaded
    the machine was (it is shared: the figures mean little without it) and how long."""
    return (
        f"{describe_machine()}; {setup}; load average {results.load_before:.1f} before, "
        f"{results.load_after:.1f} after; {seconds:,.0f} s in all\n"
    )


def exit_status(
    problems: Sequence[str], *, label: str = "WRONG", file: TextIO | None = None
) -> int:
    """Each problem on a line of its own (stderr unless ``file``); 1 if there was any."""
    for problem in problems:
        print(f"{label}: {problem}", file=file or sys.stderr)
    return 1 if problems else 0


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: nothing survives


def run_command(measure: Callable[[], R], report: Callable[[R, float], int]) -> int:
    """``measure()``, then ``report(results, seconds)``, which prints them and returns
    the exit status.

    A SIGTERM unwinds ``measure`` as a Ctrl-C does, through the ``finally`` blocks that
    stop what it started, and exits 143; a Ctrl-C ends with one line, not a traceback,
    and 130. The SIGTERM handler is the caller's again once this returns.
    """
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    started = time.monotonic()
    try:
        results = measure()
    except KeyboardInterrupt:
        log(INTERRUPTED)
        return INTERRUPTED_EXIT
    finally:
        if previous is not None:  # None: set outside Python, not restorable
            signal.signal(signal.SIGTERM, previous)
    return report(results, time.monotonic() - started)


def run_and_report(
    measure: Callable[[], M], *, setup: Callable[[M], str], render: Callable[[M], str]
) -> int:
    """:func:`run_command` for results that carry their load and problems: the
    :func:`header` with ``setup(results)``, ``render(results)``, each problem as
    ``WRONG: ...`` on stderr, and 1 if there was any."""

    def report(results: M, seconds: float) -> int:
        print(header(setup(results), results, seconds))
        print(render(results))
        return exit_status(results.problems)

    return run_command(measure, report)
