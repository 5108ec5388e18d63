"""The simulated cloud's fencing tokens, and calls held on purpose (a frozen worker's)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cool.clouds.base import StaleClaimError, StepContext
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import NET, ctx
from tests.zk import assert_eventually


def _at(epoch: int, name: str = "net") -> StepContext:
    return dataclasses.replace(ctx(name, NET), epoch=epoch)


def test_sim_refuses_a_create_or_delete_older_than_a_token_it_has_seen(
    sim: SimProvider,
) -> None:
    old_id = sim.create(_at(1), {})
    assert sim.find(_at(3, "other")) == []  # a newer owner's call, on any resource of the build
    with pytest.raises(StaleClaimError, match=r"fencing token 1, but build .* is now at 3"):
        sim.create(_at(1), {})
    with pytest.raises(StaleClaimError):
        sim.delete(_at(2), old_id)
    assert [r.physical_id for r in sim.live_resources()] == [old_id]  # nothing happened
    refused = [c for c in sim.calls() if c.outcome != "ok"]
    assert [c.action for c in refused] == ["create", "delete"]
    assert not StaleClaimError("x").retryable
    sim.find(_at(2))  # a stale read changes nothing: not refused
    sim.create(_at(0, "tool"), {})  # no token (tools, tests): not fenced
    sim.delete(_at(3), old_id)  # the owner's own


def test_sim_without_fencing_accepts_stale_tokens_as_a_plain_cloud_does(
    make_sim: Callable[..., SimProvider],
) -> None:
    sim = make_sim(fencing=False)
    assert not sim.fences_creates
    sim.create(_at(5), {})
    sim.create(_at(1), {})
    assert len(sim.live_resources()) == 2


def test_sim_hold_keeps_a_call_waiting_outside_the_file_until_released(
    make_sim: Callable[..., SimProvider], tmp_path: Path
) -> None:
    sim = make_sim(clock=time.time)
    release = tmp_path / "go"
    sim.hold("net", "create", release=release)
    made: list[str] = []
    held = threading.Thread(target=lambda: made.append(sim.create(_at(1), {})))
    held.start()
    try:
        assert_eventually(lambda: sim.armed() == [], message="the call reached the hold")
        other = make_sim(clock=time.time, caller="other")
        other.create(_at(1, "free"), {})  # the file is not locked by the held call
        assert made == []
        assert held.is_alive()
        assert sim.calls(resource_name="net") == []  # not landed, not recorded
    finally:
        release.touch()
        held.join(30)
    assert len(made) == 1
    assert [c.outcome for c in sim.calls(resource_name="net")] == ["ok"]


def test_sim_held_create_of_a_stale_owner_is_refused_when_it_lands(
    make_sim: Callable[..., SimProvider], tmp_path: Path
) -> None:
    sim = make_sim(clock=time.time)
    release = tmp_path / "go"
    sim.hold("net", "create", release=release)
    errors: list[BaseException] = []

    def late_create() -> None:
        try:
            sim.create(_at(1), {})
        except StaleClaimError as exc:
            errors.append(exc)

    zombie = threading.Thread(target=late_create)
    zombie.start()
    assert_eventually(lambda: sim.armed() == [], message="the zombie's create is held")
    new_id = sim.create(_at(2), {})  # the new owner, meanwhile
    release.touch()
    zombie.join(30)
    assert len(errors) == 1
    assert [r.physical_id for r in sim.live_resources()] == [new_id]
    assert sim.duplicates() == []
