"""The memories and the check slots that keep bcrypt from starving cool-api (pure logic)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

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
    assert_eventually(lambda: slots.held == 2, message="the second check waits")
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


def _hold(slots: CheckSlots, user: str, release: threading.Event) -> threading.Thread:
    """A thread that holds (or waits for) a slot for ``user`` until ``release``."""

    def run() -> None:
        with slots.slot(user):
            release.wait(30)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_one_user_flooding_leaves_a_slot_to_another() -> None:
    slots = CheckSlots(2, waiting=8, wait_s=30)
    release = threading.Event()
    flood = [_hold(slots, "carol", release) for _ in range(2)]  # one checks, one waits
    try:
        assert_eventually(lambda: slots.held == 2, message="carol's share is taken")
        start = time.monotonic()
        with slots.slot("carol") as more:
            assert more is False  # past carol's share: refused at once
        with slots.slot("dave") as other:
            assert other is True  # the slot carol's share leaves
        assert time.monotonic() - start < 5
    finally:
        release.set()
        for thread in flood:
            thread.join(10)
    assert slots.held == 0


def test_many_users_share_the_places() -> None:
    slots = CheckSlots(2, waiting=2, wait_s=30)
    release = threading.Event()
    holders = [_hold(slots, f"user-{i}", release) for i in range(4)]
    try:
        assert_eventually(lambda: slots.held == 4, message="every place is taken")
        with slots.slot("dave") as late:
            assert late is False
    finally:
        release.set()
        for thread in holders:
            thread.join(10)


def test_parallel_first_requests_of_one_user_share_one_check(tmp_path: Path) -> None:
    """A client's parallel first requests (one credential, not yet remembered) wait for
    the one check in flight; before, past the user's share of check slots they got 503."""
    import bcrypt

    from cool.api.auth import HtpasswdAuth

    htpasswd = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(b"right", bcrypt.gensalt(rounds=12)).decode()
    htpasswd.write_text(f"demo:{hashed}\n")
    auth = HtpasswdAuth(
        lambda _environ, _start: [],
        htpasswd_file=str(htpasswd),
        users={"demo": ("p1", ["member"])},
        checks=2,
    )
    answers: list[bool | None] = []
    threads = [
        threading.Thread(target=lambda: answers.append(auth._verified("demo", b"right")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == [True] * 8
