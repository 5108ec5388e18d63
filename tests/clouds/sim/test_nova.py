"""Nova's types on the simulated cloud: key pairs known by name, as Nova knows them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cool.clouds.base import ProviderError, StepContext
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import FakeClock, ctx, in_threads

KEY, SERVER = "OS::Nova::KeyPair", "OS::Nova::Server"


def _key(sim: SimProvider, build_id: str, name: str | None = None, project: str = "demo") -> str:
    properties = {} if name is None else {"name": name}
    return sim.create(StepContext(build_id, "key", KEY, project), properties)


def _server(sim: SimProvider, key_name: str, name: str = "server") -> str:
    properties = {"flavor": "m1.tiny", "image": "cirros", "key_name": key_name}
    return sim.create(ctx(name, SERVER), properties)


def test_sim_key_pair_name_is_unique_in_a_project(sim: SimProvider) -> None:
    first = _key(sim, "B1", "shared")
    with pytest.raises(ProviderError, match="Key pair 'shared' already exists") as raised:
        _key(sim, "B2", "shared")
    assert not raised.value.retryable  # Nova's 409: trying again cannot help
    assert sim.find(StepContext("B2", "key", KEY, "demo")) == []  # nothing half-made
    assert "already exists" in sim.calls(action="create", build_id="B2")[-1].outcome
    _key(sim, "B3", "shared", project="other")  # another project's name
    sim.delete(StepContext("B1", "key", KEY, "demo"), first)
    _key(sim, "B2", "shared")  # free again once deleted


def test_sim_key_pair_name_is_free_while_its_delete_takes_time(
    make_sim: Callable[..., SimProvider], clock: FakeClock
) -> None:
    sim = make_sim(latency_s=5.0)
    first = _key(sim, "B1", "slow")
    sim.delete(StepContext("B1", "key", KEY, "demo"), first)  # DELETING for 5 s
    _key(sim, "B2", "slow")  # Nova deletes a key pair at once
    clock.advance(5.0)
    assert [r.build_id for r in sim.live_resources() if r.type == KEY] == ["B2"]


def test_sim_key_pairs_named_after_their_step_never_clash(sim: SimProvider) -> None:
    steps = [StepContext(f"01HXBUILD{n:02d}", "key", KEY, "demo") for n in range(20)]
    for n, step in enumerate(steps):
        properties = {"name": ""} if n % 2 else {}  # no name, or a name resolved to nothing
        physical_id = sim.create(step, properties)
        assert sim.observe(step, physical_id).reference == step.cloud_name
    assert len({r.name for r in sim.live_resources()}) == len(steps)


def test_sim_key_pair_whose_reply_was_lost_is_found_not_created_again(sim: SimProvider) -> None:
    step = StepContext("B1", "key", KEY, "demo")
    sim.arm("key", "create", mode="lost_reply")
    with pytest.raises(ProviderError, match="armed switch") as raised:
        sim.create(step, {})
    assert raised.value.retryable
    with pytest.raises(ProviderError, match="already exists") as conflict:
        sim.create(step, {})  # a blind retry: Nova's 409, as for any name
    assert not conflict.value.retryable
    assert len(sim.find(step)) == 1  # what a retried create must do first: adopt it


def test_sim_key_pair_names_are_unique_across_threads(sim: SimProvider) -> None:
    errors = in_threads(lambda n: _key(sim, f"B{n}", "contended"), 8)
    assert len(errors) == 7
    assert all("Key pair 'contended' already exists" in str(e) for e in errors), errors
    assert len(sim.live_resources()) == 1


def test_sim_server_takes_a_key_pair_by_name(sim: SimProvider) -> None:
    key_id = _key(sim, "B1", "demo-key")
    server = _server(sim, "demo-key")
    assert sim.observe(ctx("server", SERVER), server).attributes["key_name"] == "demo-key"
    assert sim.observe(StepContext("B1", "key", KEY, "demo"), key_id).reference == "demo-key"


@pytest.mark.parametrize("key_name", ["ops-key", "another-projects-key"])
def test_sim_server_key_name_unknown_to_the_sim_is_pretended(
    sim: SimProvider, key_name: str
) -> None:
    _key(sim, "B1", "another-projects-key", project="other")  # not visible from "demo"
    server = _server(sim, key_name)
    assert sim.observe(ctx("server", SERVER), server).attributes["key_name"] == key_name


def test_sim_server_key_name_refuses_an_id_or_a_deleted_key_pair(sim: SimProvider) -> None:
    key_id = _key(sim, "B1", "demo-key")
    with pytest.raises(ProviderError, match="a key pair's id, not its name") as raised:
        _server(sim, key_id)
    assert not raised.value.retryable
    sim.delete(StepContext("B1", "key", KEY, "demo"), key_id)
    with pytest.raises(ProviderError, match=r"Invalid key_name provided: 'demo-key'.*deleted"):
        _server(sim, "demo-key")
    assert sim.find(ctx("server", SERVER)) == []
    _key(sim, "B2", "demo-key")  # the name is held again
    _server(sim, "demo-key")
