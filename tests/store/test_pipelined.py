"""Pipelined reads against a real ZooKeeper: in order, a missing node read as None."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from cool.errors import StoreUnavailableError
from cool.store.pipelined import IN_FLIGHT, children, many
from tests.zk import start_client, stop_client


def test_many_reads_more_paths_than_are_in_flight_at_once_in_order(
    kazoo_client: KazooClient,
) -> None:
    count = IN_FLIGHT + 44  # two rounds
    transaction = kazoo_client.transaction()
    for i in range(0, count, 2):  # every other node exists
        transaction.create(f"/n/{i:04d}", str(i).encode())
    kazoo_client.ensure_path("/n")
    assert not any(isinstance(r, Exception) for r in transaction.commit())
    paths = [f"/n/{i:04d}" for i in range(count)]

    got = many(kazoo_client, "get", paths)

    assert len(got) == count
    assert [g[0] if g else None for g in got] == [
        str(i).encode() if i % 2 == 0 else None for i in range(count)
    ]
    exists = many(kazoo_client, "exists", paths[:4])
    assert [stat is not None for stat in exists] == [True, False, True, False]
    assert many(kazoo_client, "get_children", ["/n", "/none"])[1] is None


def test_children_of_a_node_that_is_not_there_are_none(kazoo_client: KazooClient) -> None:
    kazoo_client.ensure_path("/a/b")
    assert children(kazoo_client, "/a") == ["b"]
    assert children(kazoo_client, "/missing") == []


def test_reads_on_a_closed_session_say_the_store_is_unavailable(zk_hosts: str) -> None:
    client = start_client(zk_hosts)
    stop_client(client)
    for read in (lambda: many(client, "get", ["/a"]), lambda: children(client, "/")):
        with pytest.raises(StoreUnavailableError):
            read()
