"""The ending every benchmark command shares (bench/_report.py): the header, the table,
each problem on stderr, the exit status, and a Ctrl-C or SIGTERM that stops cleanly.

The "benchmark" here is a function: nothing is started, nothing is timed.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

import pytest

from bench._report import (
    INTERRUPTED,
    describe_machine,
    exit_status,
    header,
    run_and_report,
    run_command,
)


@dataclass
class _Results:
    load_before: float = 0.5
    load_after: float = 2.3
    problems: list[str] = field(default_factory=list)


def _render(results: _Results) -> str:
    return "| a | b |\n|---|---|\n| 1 | 2 |"


def test_the_header_names_the_machine_the_setup_the_load_and_the_seconds() -> None:
    line = header("ZooKeeper forceSync=yes; best of 2", _Results(), 1234.4)

    assert line == (
        f"{describe_machine()}; ZooKeeper forceSync=yes; best of 2; "
        "load average 0.5 before, 2.3 after; 1,234 s in all\n"
    )
    assert re.fullmatch(r"\d+ cores \(.+\), \w+ 3\.\d+\.\d+, .+", describe_machine())


def test_results_without_problems_print_header_then_table_and_exit_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = run_and_report(_Results, setup=lambda _: "a setup", render=_render)

    out, err = capsys.readouterr()
    assert code == 0
    assert re.fullmatch(
        r".+; a setup; load average 0\.5 before, 2\.3 after; \d+ s in all\n\n"
        r"\| a \| b \|\n\|---\|---\|\n\| 1 \| 2 \|\n",
        out,
    )
    assert err == ""


def test_each_problem_is_a_wrong_line_on_stderr_and_the_exit_is_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = run_and_report(
        lambda: _Results(problems=["build b1 ended CREATE_FAILED", "sim: 2 live resources"]),
        setup=lambda _: "a setup",
        render=_render,
    )

    out, err = capsys.readouterr()
    assert code == 1
    assert err == "WRONG: build b1 ended CREATE_FAILED\nWRONG: sim: 2 live resources\n"
    assert "WRONG" not in out
    assert out.endswith("| 1 | 2 |\n")


def test_a_label_and_a_stream_of_its_own_for_the_commands_that_say_problem(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert exit_status(["left behind"], label="PROBLEM", file=sys.stdout) == 1
    assert exit_status([], label="PROBLEM") == 0

    out, err = capsys.readouterr()
    assert (out, err) == ("PROBLEM: left behind\n", "")


def test_report_gets_the_results_and_the_seconds_and_its_status_is_the_exit() -> None:
    seen: list[tuple[str, float]] = []

    def report(results: str, seconds: float) -> int:
        seen.append((results, seconds))
        return 3

    assert run_command(lambda: "measured", report) == 3
    assert len(seen) == 1
    assert seen[0][0] == "measured"
    assert 0 <= seen[0][1] < 60


def test_a_ctrl_c_stops_what_was_started_says_so_and_exits_130(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stopped: list[str] = []
    reported: list[None] = []

    def measure() -> None:
        try:
            raise KeyboardInterrupt
        finally:
            stopped.append("servers")

    def report(results: None, _seconds: float) -> int:
        reported.append(results)
        return 0

    code = run_command(measure, report)

    out, err = capsys.readouterr()
    assert code == 130
    assert stopped == ["servers"]
    assert reported == []  # no half report
    assert err == f"{INTERRUPTED}\n"
    assert out == ""


def test_a_sigterm_unwinds_through_finally_exits_143_and_the_handler_is_given_back() -> None:
    # Should run_command not install its handler, this one takes the SIGTERM instead of
    # the default action (which would end pytest) and the test fails on its assertions.
    caught: list[int] = []

    def fallback(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGTERM, fallback)
    stopped: list[str] = []

    def measure() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)  # the bound: the handler raises as soon as the signal lands
        finally:
            stopped.append("servers")

    try:
        with pytest.raises(SystemExit) as exited:
            run_command(measure, lambda _results, _seconds: 0)
        assert signal.getsignal(signal.SIGTERM) is fallback
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exited.value.code == 128 + signal.SIGTERM
    assert stopped == ["servers"]
    assert caught == []
