"""kazoo's handler with a poll(2) select: the same answers as kazoo's own selector_select
(pure logic on socket pairs), and a real ZooKeeper session through it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
from kazoo.handlers.utils import selector_select

from cool.store.client import ZooKeeperSettings, connect
from cool.store.poll_handler import PollHandler


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _both(rlist: list, wlist: list, timeout: float | None) -> tuple[list, list, list]:
    """PollHandler's answer, checked against kazoo's selector_select."""
    ours = PollHandler().select(rlist, wlist, [], timeout)
    theirs = selector_select(rlist, wlist, [], timeout)
    assert ours == tuple(theirs)
    return ours


def test_nothing_to_read_until_the_peer_writes(pair) -> None:
    a, b = pair
    assert _both([a], [], 0) == ([], [], [])
    b.send(b"x")
    assert _both([a, b], [], 0) == ([a], [], [])
    assert _both([a], [], None) == ([a], [], [])  # no timeout: returns once ready
    a.recv(1)
    assert _both([a], [], 0.01) == ([], [], [])


def test_a_socket_with_room_is_writable(pair) -> None:
    a, _ = pair
    assert _both([], [a], 0) == ([], [a], [])
    # asked for both (kazoo never does): writable once (selector_select lists it twice)
    assert PollHandler().select([a], [a], [], 0) == ([], [a], [])


def test_a_hang_up_reads_as_readable_so_the_recv_that_follows_sees_it(pair) -> None:
    a, b = pair
    b.close()
    assert PollHandler().select([a], [], [], 0) == ([a], [], [])
    assert a.recv(1) == b""


def test_bad_arguments_are_refused_as_kazoo_refuses_them(pair) -> None:
    a, _ = pair
    handler = PollHandler()
    for select_ in (handler.select, selector_select):
        with pytest.raises(ValueError, match="non-negative"):
            select_([a], [], [], -1)
        with pytest.raises(TypeError, match="number"):
            select_([a], [], [], "1")
    closed = socket.socket()
    closed.close()  # fileno() is -1
    for select_ in (handler.select, selector_select):
        with pytest.raises(TypeError, match="Invalid file descriptor"):
            select_([closed], [], [], 0)


def test_a_descriptor_closed_under_its_socket_is_refused_not_ready(pair) -> None:
    """kazoo's selector cannot register it; poll(2) says POLLNVAL: an error for both,
    never "ready" (the wake-up socket read as ready for ever would spin the loop)."""
    a, _ = pair
    gone = socket.socket(fileno=os.dup(a.fileno()))
    os.close(gone.fileno())  # the descriptor is gone; the object still says its number
    try:
        for select_ in (PollHandler().select, selector_select):
            with pytest.raises(ValueError, match="Invalid event mask or fd"):
                select_([gone], [], [], 0)
    finally:
        gone.detach()


def test_a_session_runs_through_it(zk_hosts: str) -> None:
    client = connect(ZooKeeperSettings(hosts=zk_hosts, root="/"))
    try:
        assert isinstance(client.handler, PollHandler)
        client.ensure_path("/poll-handler")
        client.set("/poll-handler", b"read back")
        assert client.get("/poll-handler")[0] == b"read back"
    finally:
        client.stop()
        client.close()
