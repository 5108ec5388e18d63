"""Shared fixtures. Servers (ZooKeeper, Keystone) are started by fixtures in later suites."""

from __future__ import annotations

from pathlib import Path

import pytest

from cool.resources.registry import ResourceTypeRegistry

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def registry() -> ResourceTypeRegistry:
    """Every resource type installed, loaded through the stevedore entry points."""
    return ResourceTypeRegistry.load()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO / "examples"
