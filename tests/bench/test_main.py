"""The single entry, ``python -m bench``: the list, and one benchmark run by name through
it with tiny settings (the delete benchmark at 20 resources, as tests/bench/test_delete.py)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from bench.__main__ import COMMANDS, main


def _bench(*argv: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *argv],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def test_list_names_every_benchmark_each_with_a_main() -> None:
    listed = _bench("--list", timeout_s=60)

    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == [c.name for c in COMMANDS]
    assert {"validate_templates", "gc", "engine", "delete", "api", "chaos", "openstack"} <= set(
        names
    )
    for command in COMMANDS:
        assert callable(importlib.import_module(command.module).main), command.name


def test_the_long_benchmarks_are_not_run_by_a_bare_bench() -> None:
    assert {c.name for c in COMMANDS if not c.in_all} == {"chaos", "openstack", "fuzz_api"}


def test_an_unknown_name_is_refused_with_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nope"]) == 2
    err = capsys.readouterr().err
    assert "no benchmark 'nope'" in err
    assert "engine" in err


def test_one_benchmark_runs_by_name_with_the_rest_of_the_arguments() -> None:
    run = _bench("delete", "--resources", "20", timeout_s=180)

    assert run.returncode == 0, run.stderr[-4000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith(("| chain", "| fan-out"))]
    assert [row.split("|")[1:3] for row in rows] == [[" chain ", " 20 "], [" fan-out ", " 20 "]]
