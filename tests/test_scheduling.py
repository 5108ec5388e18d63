"""The suite's two processes (tests/scheduling.py): the cloud's tests stay together.

Nothing fails when grouping silently stops (xdist's own marks did, under
pytest 9.2): a second session cloud just starts. So a small suite laid out
like this one is run here with the test command's options, and it checks
where each test ran.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CONFTEST = "from tests.conftest import pytest_xdist_make_scheduler  # noqa: F401\n"
TESTS = """
import os
import time

import pytest


@pytest.mark.parametrize("i", range(6))
def test_one(i):
    time.sleep(0.1)
    with open({log!r}, "a") as log:
        log.write(f"{{__name__}} {{os.environ['PYTEST_XDIST_WORKER']}}\\n")
"""


def test_the_cloud_tests_run_in_one_process_and_the_others_in_both(tmp_path: Path) -> None:
    log = tmp_path / "where.log"
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for package in ("tests/openstack", "tests/other"):
        directory = tmp_path / package
        directory.mkdir(parents=True)
        (directory / f"test_{directory.name}.py").write_text(TESTS.format(log=str(log)))
    options = ["-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider"]  # as test.sh
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *options],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    where: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        module, worker = line.split()
        where.setdefault(module, set()).add(worker)
    assert len(where["test_openstack"]) == 1, where
    assert where["test_other"] | where["test_openstack"] == {"gw0", "gw1"}, where
