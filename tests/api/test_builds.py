"""Reading and acting on builds: paging, filters, project scoping, policy, events."""

from __future__ import annotations

import threading
import time

from kazoo.client import KazooClient

from cool.model import BuildStatus
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.store.records import BuildState
from tests.api.helpers import VALUE_TEMPLATE, ZK_ROOT, Caller, error_codes
from tests.zk import assert_eventually


def _submit(caller: Caller, name: str = "") -> str:
    fields = {"name": name} if name else {}
    result = caller.submit(VALUE_TEMPLATE, **fields)
    assert result.status_code == 202, result.text
    return result.json["build"]["id"]


def _finish(
    client: KazooClient, build_id: str, status: BuildStatus = BuildStatus.CREATE_COMPLETE
) -> None:
    """Mark a build finished the way a worker leaves it (no worker runs in these tests)."""
    layout = Layout(ZK_ROOT)
    store = BuildStore(client, layout)
    state, version = store.state(build_id)
    done = BuildState(
        status,
        reason="done",
        done=state.total,
        total=state.total,
        outputs={"said": {"value": "hi", "description": ""}},
    )
    transaction = client.transaction()
    transaction.set_data(layout.state(build_id), codec.dumps(done.to_dict()), version=version)
    transaction.delete(layout.pending_build(build_id))
    transaction.commit()


def test_list_pages_newest_first_with_marker(alice: Caller) -> None:
    ids = [_submit(alice, f"b{i}") for i in range(5)]
    first = alice.get("/v1/builds", params={"limit": "2"})
    assert first.status_code == 200
    assert [b["id"] for b in first.json["builds"]] == ids[::-1][:2]
    (link,) = first.json["links"]
    assert link["rel"] == "next"
    second = alice.get("/v1/builds", params={"limit": "2", "marker": ids[3]})
    assert [b["id"] for b in second.json["builds"]] == [ids[2], ids[1]]
    last = alice.get("/v1/builds", params={"limit": "2", "marker": ids[1]})
    assert [b["id"] for b in last.json["builds"]] == [ids[0]]
    assert last.json["links"] == []


def test_list_huge_limit_is_lowered_to_the_maximum(alice: Caller) -> None:
    _submit(alice)
    result = alice.get("/v1/builds", params={"limit": str(10**30)})
    assert result.status_code == 200
    assert len(result.json["builds"]) == 1


def test_list_filters_by_status_and_name(alice: Caller, kazoo_client: KazooClient) -> None:
    done = _submit(alice, "done")
    queued = _submit(alice, "queued")
    _finish(kazoo_client, done)
    complete = alice.get("/v1/builds", params={"status": "CREATE_COMPLETE"})
    assert [b["id"] for b in complete.json["builds"]] == [done]
    both = alice.get("/v1/builds", params={"status": "create_complete,CREATE_QUEUED"})
    assert {b["id"] for b in both.json["builds"]} == {done, queued}
    named = alice.get("/v1/builds", params={"name": "queued"})
    assert [b["id"] for b in named.json["builds"]] == [queued]
    bad = alice.get("/v1/builds", params={"status": "DONE"})
    assert bad.status_code == 400
    assert bad.json["errors"][0]["source"] == {"parameter": "status"}


def test_list_shows_only_the_callers_project(alice: Caller, bob: Caller) -> None:
    mine = _submit(alice)
    theirs = _submit(bob)
    assert [b["id"] for b in alice.get("/v1/builds").json["builds"]] == [mine]
    assert [b["id"] for b in bob.get("/v1/builds").json["builds"]] == [theirs]


def test_list_all_projects_is_for_admins(alice: Caller, bob: Caller, ada: Caller) -> None:
    ids = {_submit(alice), _submit(bob)}
    result = ada.get("/v1/builds", params={"all_projects": "true"})
    assert result.status_code == 200
    assert {b["id"] for b in result.json["builds"]} == ids
    refused = alice.get("/v1/builds", params={"all_projects": "true"})
    assert refused.status_code == 403
    assert error_codes(refused) == ["cool.auth.forbidden"]


def test_build_of_another_project_is_a_404_for_every_action(alice: Caller, bob: Caller) -> None:
    build_id = _submit(alice)
    for method, path in [
        ("GET", f"/v1/builds/{build_id}"),
        ("GET", f"/v1/builds/{build_id}/resources"),
        ("GET", f"/v1/builds/{build_id}/events"),
        ("POST", f"/v1/builds/{build_id}/cancel"),
        ("DELETE", f"/v1/builds/{build_id}"),
    ]:
        result = bob.request(method, path)
        assert result.status_code == 404, (method, path, result.text)
        assert error_codes(result) == ["cool.build.not_found"]
    assert alice.get(f"/v1/builds/{build_id}").json["build"]["status"] == "CREATE_QUEUED"


def test_reader_reads_but_may_not_submit_cancel_or_delete(alice: Caller, rita: Caller) -> None:
    build_id = _submit(alice)
    assert rita.get(f"/v1/builds/{build_id}").status_code == 200
    assert rita.get(f"/v1/builds/{build_id}/resources").status_code == 200
    assert rita.get("/v1/builds").status_code == 200
    for result in (
        rita.submit(VALUE_TEMPLATE),
        rita.post(f"/v1/builds/{build_id}/cancel"),
        rita.delete(f"/v1/builds/{build_id}"),
    ):
        assert result.status_code == 403, result.text
        assert error_codes(result) == ["cool.auth.forbidden"]


def test_admin_reads_any_project_and_lists_workers(alice: Caller, ada: Caller) -> None:
    build_id = _submit(alice)
    assert ada.get(f"/v1/builds/{build_id}").status_code == 200
    workers = ada.get("/v1/workers")
    assert workers.status_code == 200
    assert workers.json == {"workers": []}
    assert alice.get("/v1/workers").status_code == 403


def test_unauthenticated_and_wrong_password_are_401(anonymous: Caller, wsgi) -> None:
    result = anonymous.get("/v1/builds")
    assert result.status_code == 401
    assert error_codes(result) == ["cool.auth.unauthenticated"]
    assert result.headers["www-authenticate"].startswith("Basic")
    wrong_password = anonymous.get(
        "/v1/builds", headers={"Authorization": "Basic YWxpY2U6bm9wZQ=="}
    )  # alice:nope
    assert wrong_password.status_code == 401


def test_user_without_a_project_is_a_403(wsgi) -> None:
    result = Caller(wsgi, "nobody").get("/v1/builds")
    assert result.status_code == 403


def test_identity_headers_sent_by_a_caller_are_ignored(alice: Caller, bob: Caller) -> None:
    theirs = _submit(bob)
    spoofed = alice.get(
        f"/v1/builds/{theirs}", headers={"X-Project-Id": "p-two", "X-Roles": "admin"}
    )
    assert spoofed.status_code == 404
    # Found in review: oslo.context also reads OpenStack-System-Scope; it is dropped too.
    scoped = alice.get("/v1/builds", headers={"OpenStack-System-Scope": "all"})
    assert scoped.status_code == 200


def test_cancel_then_cancel_a_finished_build_is_a_409(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    build_id = _submit(alice)
    first = alice.post(f"/v1/builds/{build_id}/cancel")
    assert first.status_code == 202, first.text
    _finish(kazoo_client, build_id, BuildStatus.CANCEL_COMPLETE)
    again = alice.post(f"/v1/builds/{build_id}/cancel")
    assert again.status_code == 409
    assert error_codes(again) == ["cool.build.conflict"]


def test_delete_of_a_finished_build_puts_it_back_for_a_worker(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    build_id = _submit(alice)
    _finish(kazoo_client, build_id)
    result = alice.delete(f"/v1/builds/{build_id}")
    assert result.status_code == 202
    assert result.json["build"]["status"] == "DELETE_IN_PROGRESS"
    assert kazoo_client.exists(Layout(ZK_ROOT).pending_build(build_id))
    assert alice.delete(f"/v1/builds/{build_id}").status_code == 202  # harmless twice


def test_build_shows_outputs_and_resources_in_plan_order(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    build_id = _submit(alice)
    _finish(kazoo_client, build_id)
    build = alice.get(f"/v1/builds/{build_id}").json["build"]
    assert build["status"] == "CREATE_COMPLETE"
    assert build["outputs"] == {"said": {"value": "hi", "description": ""}}
    resources = alice.get(f"/v1/builds/{build_id}/resources").json["resources"]
    assert [(r["name"], r["status"]) for r in resources] == [("v", "PENDING")]


def test_events_page_by_marker(alice: Caller) -> None:
    build_id = _submit(alice)
    alice.post(f"/v1/builds/{build_id}/cancel")
    events = alice.get(f"/v1/builds/{build_id}/events").json["events"]
    assert [e["reason"] for e in events] == ["submitted", "cancel requested"]
    after = alice.get(f"/v1/builds/{build_id}/events", params={"marker": str(events[0]["id"])})
    assert [e["id"] for e in after.json["events"]] == [events[1]["id"]]
    one = alice.get(f"/v1/builds/{build_id}/events", params={"limit": "1"})
    assert len(one.json["events"]) == 1
    assert one.json["links"][0]["rel"] == "next"


def _waiting(client: KazooClient, build_id: str) -> bool:
    """Whether a long-poll has its watch on the build's events (kazoo files watches
    under the full path, the chroot included)."""
    path = f"{client.chroot}{ZK_ROOT}/builds/{build_id[-2:]}/{build_id}/events"
    return bool(client._child_watchers.get(path))


def test_events_long_poll_wakes_on_a_new_event(alice: Caller, api_client: KazooClient) -> None:
    build_id = _submit(alice)
    (first,) = alice.get(f"/v1/builds/{build_id}/events").json["events"]
    answered: dict[str, object] = {}

    def poll() -> None:
        started = time.monotonic()
        result = alice.get(
            f"/v1/builds/{build_id}/events", params={"marker": str(first["id"]), "wait": "30"}
        )
        answered["after_s"] = time.monotonic() - started
        answered["events"] = result.json["events"]

    poller = threading.Thread(target=poll)
    poller.start()
    # Only once the poll waits on its watch does anything happen to the build.
    assert_eventually(lambda: _waiting(api_client, build_id), message="the poll waits")
    assert "events" not in answered
    assert alice.post(f"/v1/builds/{build_id}/cancel").status_code == 202
    poller.join(35)
    assert [e["reason"] for e in answered["events"]] == ["cancel requested"]  # type: ignore[union-attr]
    assert answered["after_s"] < 20, answered  # woken by the watch, not by the 30 s wait
    assert not _waiting(api_client, build_id)  # and its watch is gone


def test_events_long_poll_of_a_finished_build_answers_at_once(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    build_id = _submit(alice)
    _finish(kazoo_client, build_id)
    started = time.monotonic()
    result = alice.get(f"/v1/builds/{build_id}/events", params={"marker": "999", "wait": "30"})
    assert result.status_code == 200
    assert result.json["events"] == []
    assert time.monotonic() - started < 20


def test_events_long_poll_leaves_no_watch_behind(alice: Caller, api_client: KazooClient) -> None:
    build_id = _submit(alice)
    for _ in range(3):
        alice.get(f"/v1/builds/{build_id}/events", params={"marker": "999", "wait": "0.05"})
    assert api_client.chroot  # the case review found broken: watches filed under the chroot
    assert not _waiting(api_client, build_id)


def test_create_failed_is_finished_only_without_rollback(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    """Found by a flaky end-to-end test: CREATE_FAILED is seen for a moment before a
    rollback starts, so clients read `finished`, not the status alone."""
    rolling = _submit(alice)
    kept = alice.submit(VALUE_TEMPLATE, rollback=False).json["build"]["id"]
    for build_id in (rolling, kept):
        _finish(kazoo_client, build_id, BuildStatus.CREATE_FAILED)
    assert alice.get(f"/v1/builds/{rolling}").json["build"]["finished"] is False
    assert alice.get(f"/v1/builds/{kept}").json["build"]["finished"] is True
    done = _submit(alice)
    _finish(kazoo_client, done)
    assert alice.get(f"/v1/builds/{done}").json["build"]["finished"] is True
    assert alice.get(f"/v1/builds/{_submit(alice)}").json["build"]["finished"] is False


def test_filtered_list_reads_a_bounded_number_of_builds_per_page(
    zk_hosts: str,
    tmp_path,
    api_client: KazooClient,
    registry,
) -> None:
    """Found in review: a filter matching nothing read every build of the project in
    one request. It reads at most 5 x max_limit, then links to where it stopped."""
    from falcon import testing
    from prometheus_client import CollectorRegistry

    from cool.api import app
    from tests.api.helpers import make_conf

    conf = make_conf(zk_hosts, tmp_path, api={"max_limit": 1, "default_limit": 1})
    caller = Caller(
        testing.TestClient(
            app.build(conf, api_client, registry=registry, metrics_registry=CollectorRegistry())
        ),
        "alice",
    )
    ids = [_submit(caller) for _ in range(7)]
    first = caller.get("/v1/builds", params={"status": "DELETE_FAILED"})
    assert first.status_code == 200
    assert first.json["builds"] == []
    (link,) = first.json["links"]
    assert f"marker={sorted(ids, reverse=True)[4]}" in link["href"]  # read 5, stopped
    marker = link["href"].split("marker=")[1]
    rest = caller.get("/v1/builds", params={"status": "DELETE_FAILED", "marker": marker})
    assert rest.json == {"builds": [], "links": []}  # the last 2: nothing more
