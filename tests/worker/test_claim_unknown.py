"""A claim whose reply is lost: the worker finds its own claim again and runs the build."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.fence import UnknownClaim, claim, settle_claim
from cool.store.records import BuildState
from tests.worker.helpers import (
    FAST,
    open_store,
    running_worker,
    submit,
    through,
    wait_terminal,
)
from tests.zk import ConnectionProxy, assert_eventually, start_client, stop_client

pytestmark = pytest.mark.slow

TEMPLATE = """
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net, properties: {name: n}}
"""


def _run_with_the_claim_reply_lost(
    zk_proxy: ConnectionProxy,
    zk_hosts: str,
    db: Path,
    registry: ResourceTypeRegistry,
    **options: Any,
) -> tuple[BuildState, dict[str, Any]]:
    """A worker "w" behind the proxy runs a build whose claim reply is lost, its session
    living on throughout: the build's final state and its lease."""
    with (
        open_store(zk_hosts) as store,
        running_worker(
            through(zk_proxy, zk_hosts), db, worker_id="w", session_timeout_s=30, **options
        ) as worker,
    ):
        session_id = worker.session.session_id
        lost = zk_proxy.lose_reply(b"/claims/")
        build_id = submit(store, registry, TEMPLATE)
        assert lost.wait(20), "the claim's reply was not lost"
        state = wait_terminal(store, build_id, timeout_s=15)
        assert worker.session.session_id == session_id  # the session lived on throughout
        lease, _ = store.lease_data(build_id)
    return state, lease


def test_claim_committed_but_unanswered_is_found_again_and_run(
    zk_proxy: ConnectionProxy, zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The claim transaction commits, its reply is lost (the connection is cut before
    it is relayed), the session lives on: without finding its claim again the worker
    would leave the build claimed by nobody that runs it, until its session ends."""
    state, lease = _run_with_the_claim_reply_lost(zk_proxy, zk_hosts, tmp_path / "sim.db", registry)
    assert state.status is BuildStatus.CREATE_COMPLETE
    assert lease["worker_id"] == "w"
    assert lease["claims"] == 1  # found again, not claimed a second time


def test_claim_unanswered_is_ours_only_if_our_attempt_committed(
    zk_proxy: ConnectionProxy, zk_hosts: str, registry: ResourceTypeRegistry
) -> None:
    """Found again: a Fence at the lease's version. Refused (another worker's claim came
    first): None, although the reply was lost just the same."""
    client = start_client(through(zk_proxy, zk_hosts), timeout_s=30)
    rival = start_client(zk_hosts, timeout_s=30)
    try:
        with open_store(zk_hosts) as store:
            layout = store.layout
            ours, theirs = (submit(store, registry, TEMPLATE) for _ in range(2))
            lost = zk_proxy.lose_reply(b"/claims/")
            fence = claim(client, layout, ours, "w")
            assert lost.is_set()
            assert fence is not None
            assert fence.epoch == store.lease_data(ours)[1]
            fence.guard(5.0)  # the claim checks out as ours

            assert claim(rival, layout, theirs, "rival") is not None
            lost = zk_proxy.lose_reply(b"/claims/")
            assert claim(client, layout, theirs, "w") is None
            assert lost.is_set()
            assert store.lease_data(theirs)[0]["worker_id"] == "rival"
    finally:
        stop_client(client)
        stop_client(rival)


def test_claim_still_unknown_after_the_first_look_is_settled_by_the_dispatcher(
    zk_proxy: ConnectionProxy, zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The first look gives up at once (claim_recover_s 0: as if the connection stayed
    away past it, while the server kept the session): before, the claim node of our
    session stood, nobody ran the build and nobody else could claim it."""
    settings = dataclasses.replace(FAST, claim_recover_s=0.0)
    state, lease = _run_with_the_claim_reply_lost(
        zk_proxy, zk_hosts, tmp_path / "sim.db", registry, settings=settings
    )
    assert state.status is BuildStatus.CREATE_COMPLETE
    assert lease["claims"] == 1  # resumed, not claimed a second time


def test_settle_claim_adopts_ours_and_releases_a_claim_node_not_at_our_lease(
    zk_proxy: ConnectionProxy, zk_hosts: str, registry: ResourceTypeRegistry
) -> None:
    client = start_client(through(zk_proxy, zk_hosts), timeout_s=30)
    try:
        with open_store(zk_hosts) as store:
            layout = store.layout
            ours, other = (submit(store, registry, TEMPLATE) for _ in range(2))
            unknown: list[UnknownClaim] = []
            for build_id in (ours, other):
                lost = zk_proxy.lose_reply(b"/claims/")
                assert (
                    claim(client, layout, build_id, "w", recover_s=0, on_unknown=unknown.append)
                    is None
                )
                assert lost.is_set()
            assert [u.build_id for u in unknown] == [ours, other]
            _, fence = assert_eventually(
                lambda: (r := settle_claim(client, layout, unknown[0]))[0] and r, timeout_s=20
            )
            assert fence is not None
            assert fence.epoch == store.lease_data(ours)[1]
            fence.guard(5.0)
            # A claim node of ours whose lease does not name the attempt: released.
            stranger = dataclasses.replace(unknown[1], attempt="not-this-one")
            assert_eventually(lambda: settle_claim(client, layout, stranger)[0], timeout_s=20)
            assert client.exists(layout.claim(other)) is None
            assert store.lease_data(other)[0]["claims"] == 1  # checked, not moved
    finally:
        stop_client(client)


def test_claim_whose_first_read_is_unanswered_claims_nothing_and_raises_nothing(
    zk_proxy: ConnectionProxy, zk_hosts: str, registry: ResourceTypeRegistry
) -> None:
    """The lease read that opens a claim loses its reply (a chaos run's pause or leader
    kill): before, kazoo's ConnectionLoss escaped claim() and the dispatcher logged a
    traceback. It wrote nothing, so it is simply not a claim: None, and the next
    dispatch tries again."""
    client = start_client(through(zk_proxy, zk_hosts), timeout_s=30)
    try:
        with open_store(zk_hosts) as store:
            build_id = submit(store, registry, TEMPLATE)
            lost = zk_proxy.lose_reply(b"/lease")
            assert claim(client, store.layout, build_id, "w") is None
            assert lost.is_set()
            assert client.exists(store.layout.claim(build_id)) is None
            assert store.lease_data(build_id)[0].get("claims", 0) == 0
            assert_eventually(lambda: client.connected, timeout_s=20)
            assert claim(client, store.layout, build_id, "w") is not None  # the next try
    finally:
        stop_client(client)
