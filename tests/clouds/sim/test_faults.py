"""The simulated cloud's failures: by a seeded rate, or on purpose (armed switches)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cool.clouds.base import ProviderError, ResourceFailedError
from cool.clouds.sim.provider import FailureMode, SimProvider
from cool.errors import ConfigurationError
from tests.clouds.helpers import NET, FakeClock, create_net, ctx


def _outcomes(sim: SimProvider, count: int) -> list[str]:
    """For each create: "ok", or the kind of error it raised."""
    results = []
    for i in range(count):
        try:
            sim.create(ctx(f"r{i}", "OS::Neutron::Net"), {})
        except ProviderError as exc:
            results.append(f"{type(exc).__name__} retryable={exc.retryable}")
        else:
            results.append("ok")
    return results


def test_sim_failure_rate_is_seeded_and_creates_nothing(
    make_sim: Callable[..., SimProvider],
) -> None:
    first = _outcomes(make_sim(failure_rate=0.3, seed=7), 200)
    second = _outcomes(make_sim(failure_rate=0.3, seed=7, caller="again"), 200)
    assert first == second
    assert set(first) == {"ok", "ProviderError retryable=True"}
    assert 30 < first.count("ProviderError retryable=True") < 90
    sim = make_sim()
    assert len(sim.live_resources()) == 2 * first.count("ok")
    failed = [c for c in sim.calls(action="create") if c.outcome != "ok"]
    assert len(failed) == 2 * (200 - first.count("ok"))
    assert all("503" in c.outcome for c in failed)


def test_sim_failure_rate_as_error_status_fails_on_observe(
    make_sim: Callable[..., SimProvider], clock: FakeClock
) -> None:
    sim = make_sim(failure_rate=1.0, failure_mode="error_status", latency_s=1.0)
    step = ctx("web", "OS::Nova::Server")
    physical_id = sim.create(step, {"flavor": "f", "image": "i"})
    assert sim.observe(step, physical_id).failed is None  # BUILD first
    clock.advance(1.0)
    observed = sim.observe(step, physical_id)
    assert not observed.ready
    assert observed.failed == "simulated failure: the OS::Nova::Server went to ERROR"
    sim.delete(step, physical_id)  # an ERROR resource can be deleted
    clock.advance(1.0)
    assert sim.is_deleted(step, physical_id)


def test_sim_failure_rate_as_lost_reply_creates_and_raises(
    make_sim: Callable[..., SimProvider],
) -> None:
    sim = make_sim(failure_rate=1.0, failure_mode=FailureMode.LOST_REPLY)
    step = ctx("web", "OS::Neutron::Net")
    with pytest.raises(ProviderError, match="lost reply") as raised:
        sim.create(step, {})
    assert raised.value.retryable
    assert len(sim.find(step)) == 1  # adoption finds what the lost reply hid


def test_sim_refuses_bad_failure_settings(make_sim: Callable[..., SimProvider]) -> None:
    with pytest.raises(ConfigurationError):
        make_sim(failure_rate=1.5)
    with pytest.raises(ConfigurationError):
        make_sim(failure_rate=0.1, failure_mode="lost_reply", failure_actions=("observe",))


@pytest.mark.parametrize(
    ("mode", "retryable", "expected"),
    [
        ("raise", False, ResourceFailedError),
        ("raise", True, ProviderError),
        ("lost_reply", False, ProviderError),
    ],
)
def test_sim_switch_on_create_raises(
    sim: SimProvider, mode: str, retryable: bool, expected: type[Exception]
) -> None:
    sim.arm("net", "create", mode=mode, message="No valid host was found", retryable=retryable)
    with pytest.raises(expected, match="No valid host was found") as raised:
        create_net(sim)
    assert raised.value.retryable == (retryable or mode == "lost_reply")
    assert len(sim.find(ctx("net", NET))) == (1 if mode == "lost_reply" else 0)
    create_net(sim)  # times=1: the switch is spent
    assert sim.calls(action="create")[0].outcome == "No valid host was found"


def test_sim_switch_on_create_as_error_status(sim: SimProvider) -> None:
    sim.arm("net", "create", mode="error_status", message="quota exceeded")
    physical_id = create_net(sim)
    assert sim.observe(ctx("net", NET), physical_id).failed == "quota exceeded"


@pytest.mark.parametrize("mode", ["raise", "error_status"])
def test_sim_switch_on_observe(sim: SimProvider, mode: str) -> None:
    physical_id = create_net(sim)
    sim.arm("net", "observe", mode=mode, message="broken")
    if mode == "raise":
        with pytest.raises(ResourceFailedError, match="broken"):
            sim.observe(ctx("net", NET), physical_id)
        assert sim.observe(ctx("net", NET), physical_id).ready
    else:
        for _ in range(2):  # ERROR stays
            assert sim.observe(ctx("net", NET), physical_id).failed == "broken"


@pytest.mark.parametrize(
    ("mode", "deleted"), [("raise", False), ("error_status", False), ("lost_reply", True)]
)
def test_sim_switch_on_delete(sim: SimProvider, mode: str, deleted: bool) -> None:
    physical_id = create_net(sim)
    step = ctx("net", NET)
    sim.arm("net", "delete", mode=mode, message="in use", retryable=True)
    if mode == "error_status":
        sim.delete(step, physical_id)
        with pytest.raises(ResourceFailedError, match="in use"):
            sim.is_deleted(step, physical_id)
    else:
        with pytest.raises(ProviderError, match="in use"):
            sim.delete(step, physical_id)
        assert sim.is_deleted(step, physical_id) is deleted
    sim.delete(step, physical_id)  # the next delete works
    assert sim.is_deleted(step, physical_id)


@pytest.mark.parametrize("action", ["find", "is_deleted"])
def test_sim_switch_on_lookups(sim: SimProvider, action: str) -> None:
    physical_id = create_net(sim)
    sim.arm("net", action, retryable=True)
    call = {
        "find": lambda: sim.find(ctx("net", NET)),
        "is_deleted": lambda: sim.is_deleted(ctx("net", NET), physical_id),
    }[action]
    with pytest.raises(ProviderError, match=f"simulated failure of {action}"):
        call()
    call()  # spent


def test_sim_switches_match_build_and_count_down(sim: SimProvider) -> None:
    sim.arm("net", build_id="B1", times=2)
    sim.create(ctx("net", NET, "B2"), {})  # another build: untouched
    for _ in range(2):
        with pytest.raises(ResourceFailedError):
            sim.create(ctx("net", NET, "B1"), {})
    sim.create(ctx("net", NET, "B1"), {})
    forever = sim.arm("net", times=None)
    for _ in range(3):
        with pytest.raises(ResourceFailedError):
            create_net(sim)
    sim.disarm(forever)
    create_net(sim)
    with pytest.raises(ValueError, match="cannot fail"):
        sim.arm("net", "find", mode="error_status")
    with pytest.raises(ValueError, match="times"):
        sim.arm("net", times=0)
