"""The import rules of STYLE.md, as pyproject.toml's import-linter contracts state them:
kept by the tree, and broken by an import planted in a copy of it (so a break fails CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the ``cool`` found first on the path from ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_rules_are_kept_by_the_tree() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        (
            "template/parse.py",
            "import kazoo\n",
            [
                "Only cool.store imports kazoo",
                "- cool.template.parse -> kazoo",
                "cool.template and cool.model do no I/O",
            ],
        ),
        (
            # The CLI's exception is cool.cli.connection's config loader, not all of cool.cli.
            "cli/builds.py",
            "import openstack.config\n",
            ["Only cool.clouds imports openstacksdk", "- cool.cli.builds -> openstack"],
        ),
        (
            # A lazy import is an import too (cool/local/ dodged the rule that way).
            "gc.py",
            "def _dodge() -> None:\n    import harness.zookeeper  # noqa: PLC0415\n",
            ["Nothing in cool imports the checkout's harness", "cool.gc -> harness"],
        ),
    ],
)
def test_import_rules_fail_on_a_planted_import(
    tmp_path: Path, module: str, planted: str, broken: list[str]
) -> None:
    shutil.copytree(ROOT / "cool", tmp_path / "cool", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / "cool" / module).open("a") as source:
        source.write(planted)
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    output = " ".join(result.stdout.split())  # contract names wrap at the terminal's width
    for words in broken:
        assert words in output, result.stdout
    assert "BROKEN" in output
