"""The memories and the check slots that keep bcrypt from starving cool-api (pure logic)."""

from __future__ import annotations

import threading
import time

from cool.api.password_checks import CheckSlots, Remembered
from tests.zk import assert_eventually


def test_remembered_until_its_time_is_up() -> None:
    memory = Remembered()
    memory.add(b"k", until=10.0)
    assert (b"k", 9.9) in memory
    assert (b"k", 10.0) not in memory
    assert (b"other", 0.0) not in memory


def test_remembered_forgets_the_oldest_past_its_size() -> None:
    memory = Remembered(size=2)
    for key in (b"a", b"b", b"c"):
        memory.add(key, until=10.0)
    assert (b"a", 0.0) not in memory
    assert (b"b", 0.0) in memory
    assert (b"c", 0.0) in memory
    memory.clear()
    assert (b"c", 0.0) not in memory


def test_a_full_queue_refuses_at_once() -> None:
    slots = CheckSlots(1, waiting=1, wait_s=30)
    held = threading.Event()
    release = threading.Event()
    results: list[bool] = []

    def hold() -> None:
        with slots.slot() as slot:
            results.append(slot)
            held.set()
            release.wait(30)

    def wait() -> None:
        with slots.slot() as slot:
            results.append(slot)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    waiter = threading.Thread(target=wait)
    waiter.start()
    assert_eventually(lambda: slots._waiting == 1, message="the second check waits")
    start = time.monotonic()
    with slots.slot() as slot:
        assert slot is False  # one checking, one waiting: no room
    assert time.monotonic() - start < 1
    release.set()
    holder.join(10)
    waiter.join(10)
    assert results == [True, True]  # the one that waited got its turn


def test_a_wait_for_a_slot_is_bounded() -> None:
    slots = CheckSlots(1, waiting=4, wait_s=0.2)
    with slots.slot() as first:
        assert first is True
        start = time.monotonic()
        with slots.slot() as second:
            assert second is False
        assert time.monotonic() - start < 5
    with slots.slot() as again:
        assert again is True
