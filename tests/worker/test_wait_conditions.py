"""Wait conditions on real workers and a real ZooKeeper: signals count once each, are
durable across a takeover, fail the build with the server's reason, and time out with
a note naming the handle. The test plays the server: it reads the handle's token from
the build's records and signals as the API does (cool.store.signals)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from cool.clouds.base import ProviderError, StepContext
from cool.errors import (
    RequestInvalidError,
    RequestTooLargeError,
    SignalLimitError,
    SignalNotFoundError,
)
from cool.model import BuildStatus, ResourceStatus
from cool.resources.heat_signals import WAIT_CONDITION
from cool.resources.registry import ResourceTypeRegistry
from cool.resources.schema import Range
from cool.store import signals
from cool.store.builds import BuildStore
from cool.store.control import Requests
from cool.store.fence import claim
from cool.store.layout import Layout
from cool.store.signals import SignalBook
from cool.worker.signals import SignalProvider
from tests.worker.helpers import open_store, running_worker, submit, wait_terminal
from tests.worker.processes import SIGNAL_ENDPOINT
from tests.zk import assert_eventually

TEMPLATE = """
heat_template_version: 2016-10-14
parameters:
  count: {type: number, default: 2}
  timeout: {type: number, default: 60}
  before: {type: number, default: 0}
resources:
  handle:
    type: OS::Heat::WaitConditionHandle
  server:
    type: OS::Heat::TestResource
    properties:
      value: {get_attr: [handle, curl_cli]}
      wait_secs: {get_param: before}
  wait:
    type: OS::Heat::WaitCondition
    depends_on: server
    properties:
      handle: {get_resource: handle}
      count: {get_param: count}
      timeout: {get_param: timeout}
outputs:
  data: {value: {get_attr: [wait, data]}}
  curl: {value: {get_attr: [handle, curl_cli]}}
  endpoint: {value: {get_attr: [handle, endpoint]}}
"""


def _record(store: BuildStore, build_id: str, name: str) -> Any:
    found = store.resources(build_id).get(name)
    return found[0] if found else None


def _token(store: BuildStore, build_id: str) -> str:
    def complete() -> str | None:
        record = _record(store, build_id, "handle")
        if record is not None and record.status is ResourceStatus.CREATE_COMPLETE:
            return str(record.attributes["token"])
        return None

    return assert_eventually(complete, timeout_s=30, message="the handle is created")


def _waiting(store: BuildStore, build_id: str) -> None:
    assert_eventually(
        lambda: (r := _record(store, build_id, "wait")) is not None and r.physical_id,
        timeout_s=30,
        message="the wait condition waits",
    )


# Heat's handle that a stack update re-keys is, at create, a handle like the other.
@pytest.mark.parametrize(
    "handle_type", ["OS::Heat::WaitConditionHandle", "OS::Heat::UpdateWaitConditionHandle"]
)
def test_signals_complete_the_wait_and_their_data_is_its_attribute(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry, handle_type: str
) -> None:
    template = TEMPLATE.replace("OS::Heat::WaitConditionHandle", handle_type)
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        book = SignalBook(store.client, store.layout)
        build_id = submit(store, registry, template)
        token = _token(store, build_id)
        _waiting(store, build_id)
        sent = book.send(build_id, "handle", {"id": "a", "data": "x"}, token=token)
        assert (sent.id, sent.status, sent.reason) == ("a", "SUCCESS", "Signal 1 received")
        second = book.send(build_id, "handle", {}, token=token)  # Heat's defaults
        assert second.id == "2"
        state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.CREATE_COMPLETE, state.note
    outputs = {k: v["value"] for k, v in (state.outputs or {}).items()}
    assert outputs["data"] == '{"a": "x", "2": null}'
    endpoint = f"{SIGNAL_ENDPOINT}/v1/signals/{build_id}/handle"
    assert outputs["endpoint"] == endpoint
    assert outputs["curl"] == (
        f"curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: application/json' "
        f"-H 'Accept: application/json' {endpoint}"
    )


def test_a_failure_signal_fails_the_build_with_the_servers_reason(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        book = SignalBook(store.client, store.layout)
        build_id = submit(store, registry, TEMPLATE, rollback=False)
        token = _token(store, build_id)
        book.send(build_id, "handle", {"status": "SUCCESS"}, token=token)
        book.send(build_id, "handle", {"status": "FAILURE", "reason": "disk full"}, token=token)
        state = wait_terminal(store, build_id)
        # A finished build takes no more signals: its handle's token is worthless now.
        with pytest.raises(SignalNotFoundError):
            book.send(build_id, "handle", {}, token=token)
    assert state.status is BuildStatus.CREATE_FAILED
    assert state.note is not None
    assert state.note["resource"] == "wait"
    assert state.note["error"] == "WaitConditionFailure: disk full"


def test_a_wait_that_times_out_fails_with_a_note_naming_the_handle(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        book = SignalBook(store.client, store.layout)
        build_id = submit(store, registry, TEMPLATE, {"timeout": 1}, rollback=False)
        book.send(build_id, "handle", {"reason": "one is up"}, token=_token(store, build_id))
        state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.CREATE_FAILED
    assert state.note is not None
    assert state.note["error"] == (
        "WaitConditionTimeout: 1 of 2 received - one is up (handle handle, after 1 s)"
    )


def test_signals_before_during_and_after_a_takeover_count_once_each(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """Three signals are needed; "a" comes twice. Had the repeat counted, the wait would
    have completed without "c", and its data would not hold it."""
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store:
        book = SignalBook(store.client, store.layout)
        with running_worker(zk_hosts, db, worker_id="first"):
            build_id = submit(store, registry, TEMPLATE, {"count": 3, "before": 1})
            token = _token(store, build_id)
            book.send(build_id, "handle", {"id": "a", "data": 1}, token=token)  # before
            _waiting(store, build_id)
            book.send(build_id, "handle", {"id": "b", "data": 2}, token=token)  # during
        # The first worker is gone (not handed over: its claim simply ends); no owner.
        book.send(build_id, "handle", {"id": "a", "data": 3}, token=token)
        assert not store.state(build_id)[0].status.is_terminal
        with running_worker(zk_hosts, db, worker_id="second"):
            assert_eventually(
                lambda: store.lease_data(build_id)[0]["worker_id"] == "second",
                timeout_s=30,
                message="the second worker took the build over",
            )
            book.send(build_id, "handle", {"id": "c", "data": 4}, token=token)  # after
            state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.CREATE_COMPLETE, state.note
    assert (state.outputs or {})["data"]["value"] == '{"a": 3, "b": 2, "c": 4}'


def test_a_wrong_or_missing_token_and_an_unknown_handle_are_all_not_found(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        book = SignalBook(store.client, store.layout)
        build_id = submit(store, registry, TEMPLATE, {"timeout": 30})
        token = _token(store, build_id)
        for handle, guess in [
            ("handle", token[:-1] + ("A" if token[-1] != "A" else "B")),
            ("handle", None),
            ("wait", token),
            ("nothing", token),
            ("../state", token),
        ]:
            with pytest.raises(SignalNotFoundError):
                book.send(build_id, handle, {}, token=guess)
        with pytest.raises(SignalNotFoundError):
            book.send("01ARZ3NDEKTSV4RRFFQ69G5FAV", "handle", {}, token=token)
        assert book.read(build_id, "handle").signals == ()  # type: ignore[union-attr]
        # Deleted with the build: the handle and its signals are gone.
        book.send(build_id, "handle", {"id": "last"}, token=token)
        book.send(build_id, "handle", {"id": "more"}, token=token)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        Requests(store).delete(build_id)
        assert_eventually(
            lambda: store.state(build_id)[0].status is BuildStatus.DELETE_COMPLETE,
            timeout_s=30,
            message="the build is deleted",
        )
        assert book.read(build_id, "handle") is None


def test_concurrent_senders_lose_no_signal_and_the_limits_hold(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signals, "MAX_SIGNALS", 12)
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        book = SignalBook(store.client, store.layout)
        build_id = submit(store, registry, TEMPLATE, {"count": 13, "timeout": 60})
        token = _token(store, build_id)
        with ThreadPoolExecutor(6) as pool:
            sent = list(
                pool.map(
                    lambda i: book.send(build_id, "handle", {"id": f"s{i}"}, token=token),
                    range(12),
                )
            )
        assert sorted(s.id for s in sent) == sorted(f"s{i}" for i in range(12))
        held = book.read(build_id, "handle")
        assert held is not None
        assert len(held.signals) == 12
        with pytest.raises(SignalLimitError):
            book.send(build_id, "handle", {"id": "one too many"}, token=token)
        book.send(build_id, "handle", {"id": "s0", "data": "again"}, token=token)  # a repeat
        with pytest.raises(RequestTooLargeError):
            book.send(build_id, "handle", {"id": "s1", "data": "x" * 9000}, token=token)
        with pytest.raises(RequestInvalidError) as invalid:
            book.send(build_id, "handle", {"status": "DONE", "x": 1, "id": [1]}, token=token)
        assert [p.pointer for p in invalid.value.problems] == ["/x", "/status", "/id"]


def test_a_handle_without_a_configured_endpoint_fails_with_a_note_saying_so() -> None:
    provider = SignalProvider(SignalBook(None, Layout()), endpoint="")
    ctx = StepContext("01ARZ3NDEKTSV4RRFFQ69G5FAV", "handle", "OS::Heat::WaitConditionHandle", "p")
    with pytest.raises(ProviderError, match=r"set \[signal\] endpoint"):
        provider.create(ctx, {})


def test_a_cancel_during_a_wait_is_honoured_at_once_not_after_the_timeout(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The wait let go only at its timeout (ten minutes here): a wait has nothing in the
    cloud to finish, so a cancel (or delete) request stops it at once."""
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, TEMPLATE, {"timeout": 600}, rollback=False)
        _token(store, build_id)
        _waiting(store, build_id)
        Requests(store).cancel(build_id)
        state = wait_terminal(store, build_id, timeout_s=30)
    assert state.status is BuildStatus.CANCEL_COMPLETE, state.note


def test_many_senders_at_once_all_land(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """Senders competed for the handle's version and gave up with 503 under load."""
    count = signals.MAX_SIGNALS
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        book = SignalBook(store.client, store.layout)
        build_id = submit(store, registry, TEMPLATE, {"count": count, "timeout": 120})
        token = _token(store, build_id)
        with ThreadPoolExecutor(32) as pool:
            sent = list(
                pool.map(
                    lambda i: book.send(build_id, "handle", {"id": f"s{i}"}, token=token),
                    range(count),
                )
            )
        assert len({s.id for s in sent}) == count
        state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.CREATE_COMPLETE, state.note
    assert len(json.loads((state.outputs or {})["data"]["value"])) == count


def test_a_build_takes_a_bounded_number_of_handles(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    many = f"""
heat_template_version: 2016-10-14
resources:
  handles:
    type: OS::Heat::ResourceGroup
    properties:
      count: {signals.MAX_HANDLES + 1}
      resource_def: {{type: OS::Heat::WaitConditionHandle}}
"""
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, many, rollback=False)
        state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.CREATE_FAILED
    assert state.note is not None
    assert f"at most {signals.MAX_HANDLES} wait condition handles" in str(state.note["error"])


def test_a_wait_conditions_count_is_bounded_by_what_a_handle_holds() -> None:
    assert WAIT_CONDITION.properties["count"].constraints == (Range(1, signals.MAX_SIGNALS),)


class _Interleaved:
    """The real client, with one other opening run in full right after this one has
    counted the handles: the interleaving two parallel steps can have."""

    def __init__(self, client: Any, between: Any) -> None:
        self._client = client
        self._between = between

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def exists(self, path: str, *args: Any, **kwargs: Any) -> Any:
        counted = self._client.exists(path, *args, **kwargs)
        between, self._between = self._between, None
        if between is not None and path.endswith("/signals"):
            between()
        return counted


def test_two_openings_that_both_saw_room_for_one_do_not_both_land(
    zk_hosts: str, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store:
        build_id = submit(store, registry, TEMPLATE)
        fence = claim(store.client, store.layout, build_id, "w")
        assert fence is not None
        book = SignalBook(store.client, store.layout)
        for n in range(signals.MAX_HANDLES - 1):
            book.open(build_id, f"h{n}", f"t{n:032d}", fence.epoch)

        def other() -> None:  # the last room, taken while the first had counted
            book.open(build_id, "other", "o" * 32, fence.epoch)

        with pytest.raises(SignalLimitError):
            SignalBook(_Interleaved(store.client, other), store.layout).open(
                build_id, "late", "l" * 32, fence.epoch
            )
        handles = store.client.get_children(store.layout.signals(build_id))
    assert len(handles) == signals.MAX_HANDLES
    assert "other" in handles


def test_a_condition_waits_only_on_a_handle_of_its_own_kind(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """Heat checks an AWS condition's Handle is an AWS handle: one given an OS::Heat
    handle (or a scaling policy) fails at once, not after its Timeout."""
    template = """
heat_template_version: 2013-05-23
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: AWS::CloudFormation::WaitCondition
    properties: {Handle: {get_resource: handle}, Timeout: 600}
"""
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, template, rollback=False)
        state = wait_terminal(store, build_id, timeout_s=30)
    assert state.status is BuildStatus.CREATE_FAILED
    assert state.note is not None
    assert "is not a valid wait condition handle" in str(state.note["error"])
