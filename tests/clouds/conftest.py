"""Fixtures of the cloud provider tests: a fake clock and sim providers on a temporary file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sim(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., SimProvider]]:
    made: list[SimProvider] = []

    def make(**kwargs: Any) -> SimProvider:
        kwargs.setdefault("clock", clock)
        sim = SimProvider(tmp_path / "sim.db", **kwargs)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


@pytest.fixture
def sim(make_sim: Callable[..., SimProvider]) -> SimProvider:
    return make_sim()
