"""The wheel holds cool/ and only cool/; each folder of cool/ is a regular package."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parent.parent


def _module_folders(top: str) -> set[str]:
    return {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / top).rglob("*.py")
        if "__pycache__" not in path.parts
    }


def test_the_wheel_holds_cool_and_not_the_harness() -> None:
    # pyproject.toml's find (namespaces on, as setuptools has it for pyproject.toml)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packaged = set(find_namespace_packages(str(ROOT), include=include))
    assert packaged == _module_folders("cool")
    assert not {"harness", "bench", "tests"} & {name.split(".")[0] for name in packaged}


def test_every_folder_of_cool_is_a_regular_package() -> None:
    # A folder without __init__.py still imports (a namespace package), but import-linter
    # and pkgutil do not see it: cool/template had none, and its import rules went unchecked.
    missing = {name for name in _module_folders("cool") if not _init(name).is_file()}
    assert missing == set()


def _init(package: str) -> Path:
    return ROOT.joinpath(*package.split("."), "__init__.py")
