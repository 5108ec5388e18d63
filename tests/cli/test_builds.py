"""Every build command of the CLI against the local system (real API, workers, ZooKeeper)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from harness.system.local import LocalSystem
from harness.zookeeper import free_port
from tests.cli.conftest import (
    EXAMPLES,
    REPO,
    Result,
    cool_command,
    cool_env,
    run_cool,
    run_cool_process,
)
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow

Cool = Callable[..., Result]
MULTI_TIER = EXAMPLES / "multi-tier.yaml"


def _template(tmp_path: Path, resources: dict[str, Any], outputs: dict | None = None) -> Path:
    path = tmp_path / "template.yaml"
    body: dict[str, Any] = {"heat_template_version": "2021-04-16", "resources": resources}
    if outputs:
        body["outputs"] = outputs
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def _slow(tmp_path: Path, seconds: float) -> Path:
    """Its first resource takes ``seconds`` to create (and none to delete)."""
    waits = {"create": seconds, "delete": 0}
    return _template(
        tmp_path,
        {
            "first": {"type": "OS::Heat::TestResource", "properties": {"action_wait_secs": waits}},
            "second": {
                "type": "OS::Heat::TestResource",
                "properties": {"value": {"get_attr": ["first", "output"]}, "wait_secs": 0.1},
            },
        },
        {"said": {"value": {"get_attr": ["second", "output"]}}},
    )


def _submit(cool: Cool, path: Path, *args: str) -> dict[str, Any]:
    result = cool("submit", path, "-f", "json", *args)
    assert result.rc == 0, result.err
    return json.loads(result.out)


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.out + result.err


def test_submit_wait_builds_the_multi_tier_example_and_ends_with_its_outputs(
    system: LocalSystem,
) -> None:
    result = run_cool_process(system, "submit", MULTI_TIER, "--wait", "-f", "json")
    assert result.rc == 0, result.err
    build = json.loads(result.out)
    assert build["status"] == "CREATE_COMPLETE"
    assert build["finished"] is True
    assert build["progress"] == {"done": 16, "total": 16}
    assert build["outputs"]["web_url"]["value"].startswith("http://100.64.")
    # the live part, on stderr: every event, the bar's last state, the verdict
    assert f"build {build['id']} submitted" in result.err
    assert "web_volume_attachment CREATE_IN_PROGRESS -> CREATE_COMPLETE" in result.err
    assert "16/16" in result.err
    assert f"build {build['id']} CREATE_COMPLETE in " in result.err


def test_submit_wait_of_a_failing_build_exits_1_with_the_note(
    system: LocalSystem, tmp_path: Path
) -> None:
    path = _template(
        tmp_path,
        {
            "fine": {"type": "OS::Heat::Value", "properties": {"value": 1}},
            "broken": {
                "type": "OS::Heat::TestResource",
                "properties": {"fail": True},
                "depends_on": ["fine"],
            },
        },
    )
    result = run_cool_process(system, "submit", path, "--wait")
    assert result.rc == 1, result.err
    _no_traceback(result)
    assert "ROLLBACK_COMPLETE" in result.out
    assert "CREATE of broken (OS::Heat::TestResource) failed" in result.err
    assert "error: " in result.err


def test_submit_reports_every_template_problem_located_in_the_file(
    cool: Cool, tmp_path: Path
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "heat_template_version: 2018-08-31\n"
        "parameters:\n"
        "  n: {type: number}\n"
        "resources:\n"
        "  a:\n"
        "    type: OS::Heat::Value\n"
        "    properties:\n"
        "      value: {get_attr: [b, foo]}\n"
        "      extra: 1\n"
    )
    result = cool("submit", path, "-P", "n=abc")
    assert result.rc == 1
    _no_traceback(result)
    lines = [line for line in result.err.splitlines() if line.startswith(str(path))]
    assert lines[0].startswith(f"{path}:3:3: cool.parameter.invalid_value: ")
    assert lines[1].startswith(f"{path}:8:26: cool.template.unknown_resource: ")
    assert lines[2].startswith(f"{path}:9:7: cool.template.unknown_property: ")
    assert lines[3].startswith(f"{path}: 3 problems found (HTTP 400, request req-")
    assert "                           ^" in result.err  # the caret under column 26


def test_submit_sends_parameters_name_timeout_and_rollback(cool: Cool, tmp_path: Path) -> None:
    path = EXAMPLES / "utility-chain.yaml"
    params = tmp_path / "params.yaml"
    params.write_text("parameters:\n  who: file\n  delay: 0\n")
    build = _submit(
        cool,
        path,
        "--parameter-file",
        params,
        "-P",
        "who=cli",
        "--name",
        "greeting",
        "--timeout",
        "7",
        "--no-rollback",
        "--wait",
    )
    assert build["name"] == "greeting"
    assert build["timeout_mins"] == 7
    assert build["rollback"] is False
    assert build["status"] == "CREATE_COMPLETE"
    assert "cli" in json.dumps(build["outputs"])  # -P wins over the file


def test_the_same_idempotency_key_gives_the_same_build(cool: Cool) -> None:
    path = EXAMPLES / "utility-chain.yaml"
    first = _submit(cool, path, "--idempotency-key", "cli-key-1", "-P", "delay=0")
    again = _submit(cool, path, "--idempotency-key", "cli-key-1", "-P", "delay=0")
    assert again["id"] == first["id"]
    other = _submit(cool, path, "-P", "delay=0")
    assert other["id"] != first["id"]


def test_status_list_resources_outputs_and_events_in_tables_and_json(cool: Cool) -> None:
    build = _submit(cool, MULTI_TIER, "--wait")
    build_id = build["id"]

    table = cool("status", build_id)
    assert table.rc == 0
    assert "| status       | CREATE_COMPLETE" in table.out
    assert "| progress     | 16/16" in table.out
    shown = json.loads(cool("status", build_id, "-f", "json").out)
    assert shown["outputs"] == build["outputs"]

    listed = json.loads(cool("list", "-f", "json").out)
    assert build_id in [row["ID"] for row in listed]
    assert build_id in cool("list").out

    resources = json.loads(cool("resources", build_id, "-f", "json").out)
    assert len(resources) == 16
    assert {r["Status"] for r in resources} == {"CREATE_COMPLETE"}
    web = next(r for r in resources if r["Name"] == "web")
    assert web["Type"] == "OS::Nova::Server"
    assert web["Physical ID"]
    assert "web_port" in web["Depends On"]
    long = json.loads(cool("resources", build_id, "--long", "-f", "json").out)
    assert next(r for r in long if r["Name"] == "web")["Attempts"] == 1
    assert isinstance(next(r for r in long if r["Name"] == "web")["Attributes"]["show"], dict)
    long_table = cool("resources", build_id, "--long").out
    assert " show: {" in long_table  # one `key: value` line each, not a JSON dump
    assert '"show": {' not in long_table
    assert "OS::Nova::Server" in cool("resources", build_id).out

    outputs = json.loads(cool("outputs", build_id, "-f", "json").out)
    assert {o["Output"]: o["Value"] for o in outputs} == {
        name: value["value"] for name, value in build["outputs"].items()
    }
    value = cool("outputs", build_id, "-f", "value", "-c", "Value").out.split()
    assert build["outputs"]["web_url"]["value"] in value

    events = json.loads(cool("events", build_id, "-f", "json").out)
    assert events[0]["New Status"] == "CREATE_QUEUED"
    assert events[-1]["New Status"] == "CREATE_COMPLETE"
    assert [e["ID"] for e in events] == sorted(e["ID"] for e in events)
    assert "web_volume_attachment" in cool("events", build_id).out


def test_list_filters_by_status_and_lists_all_projects(cool: Cool, tmp_path: Path) -> None:
    failing = _template(
        tmp_path, {"x": {"type": "OS::Heat::TestResource", "properties": {"fail": True}}}
    )
    result = cool("submit", failing, "--no-rollback", "--wait", "-f", "json")
    assert result.rc == 1  # --wait on a build that failed
    failed = json.loads(result.out)
    assert failed["status"] == "CREATE_FAILED"
    only_failed = json.loads(cool("list", "--status", "CREATE_FAILED", "-f", "json").out)
    assert failed["id"] in [row["ID"] for row in only_failed]
    assert {row["Status"] for row in only_failed} == {"CREATE_FAILED"}
    everyone = json.loads(cool("list", "--all-projects", "-f", "json").out)
    assert {row["Project"] for row in everyone} == {"demo"}
    assert len(json.loads(cool("list", "--limit", "1", "-f", "json").out)) == 1


def test_cancel_wait_ends_cancelled_and_a_second_cancel_is_a_409(
    cool: Cool, tmp_path: Path
) -> None:
    build = _submit(cool, _slow(tmp_path, 3))
    cancelled = cool("cancel", build["id"], "--wait", "-f", "json")
    assert cancelled.rc == 0, cancelled.err
    assert json.loads(cancelled.out)["status"] == "CANCEL_COMPLETE"
    assert "CREATE_QUEUED: submitted" not in cancelled.err  # from the cancel on
    assert "cancel" in cancelled.err
    again = cool("cancel", build["id"])
    assert again.rc == 1
    assert again.out == ""
    assert again.err.startswith("cool.build.conflict: ")
    assert "(HTTP 409, request req-" in again.err
    assert len(again.err.strip().splitlines()) == 1


def test_cancel_says_it_was_accepted_and_how_soon_it_stops(cool: Cool, tmp_path: Path) -> None:
    """Without --wait the build is still CREATE_IN_PROGRESS when the answer comes: the
    CLI says the cancel was accepted, and what happens next."""
    build = _submit(cool, _slow(tmp_path, 3))
    cancelled = cool("cancel", build["id"])
    assert cancelled.rc == 0, cancelled.err
    assert cancelled.err.startswith(f"cancel requested for build {build['id']}: "), cancelled.err
    assert "within one step" in cancelled.err
    assert "deletes what it built" in cancelled.err
    assert "| status " in cancelled.out  # the build as it is now, below
    assert_eventually(
        lambda: (
            json.loads(cool("status", build["id"], "-f", "json").out)["status"] == "CANCEL_COMPLETE"
        ),
        timeout_s=60,
        message="the cancelled build ends CANCEL_COMPLETE",
    )


def test_cancel_without_rollback_says_what_it_built_stays(cool: Cool, tmp_path: Path) -> None:
    """With rollback off a cancel keeps what was built: the CLI must not promise a delete."""
    build = _submit(cool, _slow(tmp_path, 3), "--no-rollback")
    cancelled = cool("cancel", build["id"])
    assert cancelled.rc == 0, cancelled.err
    assert "keeps what it built (rollback is off)" in cancelled.err, cancelled.err
    assert "deletes what it built" not in cancelled.err


def test_delete_wait_deletes_every_resource(cool: Cool) -> None:
    build = _submit(cool, MULTI_TIER, "--wait")
    deleted = cool("delete", build["id"], "--wait", "-f", "json")
    assert deleted.rc == 0, deleted.err
    assert json.loads(deleted.out)["status"] == "DELETE_COMPLETE"
    shown = deleted.err.splitlines()
    assert "CREATE_COMPLETE -> DELETE_IN_PROGRESS: delete requested" in shown[0]
    assert not [line for line in shown if "PENDING -> CREATE_IN_PROGRESS" in line]
    assert "resumed by" not in deleted.err  # a new claim for a delete is no takeover
    assert "DELETE_IN_PROGRESS -> DELETE_IN_PROGRESS: claimed by " in deleted.err
    resources = json.loads(cool("resources", build["id"], "-f", "json").out)
    kept = {r["Name"] for r in resources if r["Status"] == "RETAINED"}
    assert kept == {"db_volume"}  # deletion_policy: Retain
    assert {r["Status"] for r in resources if r["Name"] not in kept} == {"DELETE_COMPLETE"}


def test_workers_lists_the_two_workers(cool: Cool, system: LocalSystem) -> None:
    workers = json.loads(cool("workers", "-f", "json").out)
    pids = {system.daemons()[name].pid for name in system.worker_names()}
    assert {w["PID"] for w in workers} == pids
    assert "Capacity" in cool("workers").out


def test_validate_remote_answers_as_the_server_does(cool: Cool, tmp_path: Path) -> None:
    ok = cool("validate", "--remote", EXAMPLES / "single-server.yaml", "-f", "json")
    assert ok.rc == 0, ok.err
    assert [row["Resource"] for row in json.loads(ok.out)] == ["key", "server"]
    params = json.loads(
        cool("validate", "--remote", "--show-parameters", MULTI_TIER, "-f", "json").out
    )
    assert "flavor" in [p["Name"] for p in params]
    broken = tmp_path / "broken.yaml"
    broken.write_text("heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Nope}\n")
    refused = cool("validate", "--remote", broken)
    assert refused.rc == 1
    assert refused.err.startswith(f"{broken}:3:")
    assert "cool.template.unsupported_resource_type" in refused.err


def test_an_unknown_build_is_one_line_without_a_traceback(cool: Cool) -> None:
    for command in ("status", "resources", "outputs", "events", "cancel", "delete"):
        result = cool(command, "01M8SD3SVY8QATMQJB7CV0TFN9")
        assert result.rc == 1, command
        assert result.err.startswith("cool.build.not_found: "), (command, result.err)
        assert len(result.err.strip().splitlines()) == 1, (command, result.err)
    garbage = cool("status", "../../etc")  # sent as ..%2F..%2Fetc: no route, no build
    assert garbage.rc == 1
    assert garbage.err.startswith("cool.request.not_found: ")
    assert len(garbage.err.strip().splitlines()) == 1


def test_a_wrong_password_is_a_401_in_one_line(
    system: LocalSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clouds = tmp_path / "clouds.yaml"
    text = system.clouds_yaml.read_text().replace(system.password, "not-the-password")
    clouds.write_text(text)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.setenv("OS_CLOUD", "cool-local")
    result = run_cool("list")
    assert result.rc == 1
    assert result.err.startswith("cool.auth.unauthenticated: "), result.err


def test_an_unreachable_api_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("OS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("COOL_URL", raising=False)
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cool("--cool-url", url, "list")
    assert result.rc == 1
    assert result.err.strip() == f"cannot reach cool at {url}: Connection refused"
    nowhere = run_cool("list")
    assert nowhere.rc == 1
    assert nowhere.err.startswith("no cloud to talk to: set OS_CLOUD")


def test_follow_sees_another_worker_take_over_a_build(
    cool: Cool, system: LocalSystem, tmp_path: Path
) -> None:
    build = _submit(cool, _slow(tmp_path, 8))
    build_id = build["id"]

    def claimer() -> str | None:
        events = json.loads(cool("events", build_id, "-f", "json").out)
        claims = [e["Worker"] for e in events if e["Reason"].startswith("claimed by")]
        return claims[-1] if claims else None

    assert_eventually(claimer, timeout_s=30, message="a worker claims the build")
    first = claimer()
    workers = json.loads(cool("workers", "-f", "json").out)
    pid = next(w["PID"] for w in workers if w["ID"] == first)
    victim = next(n for n, d in system.daemons().items() if d.pid == pid)
    system.daemons()[victim].kill()

    follow = run_cool_process(system, "events", build_id, "--follow", "-f", "json")
    assert follow.rc == 0, follow.err
    streamed = [json.loads(line) for line in follow.out.splitlines()]
    claims = [e["worker"] for e in streamed if (e["reason"] or "").startswith("claimed by")]
    assert claims == [first]
    resumed = [e for e in streamed if (e["reason"] or "").startswith("resumed by")]
    assert len(resumed) == 1
    assert resumed[0]["worker"] != first
    assert resumed[0]["new_status"] == "CREATE_IN_PROGRESS"
    assert resumed[0]["reason"] == f"resumed by {resumed[0]['worker']} (claim 2)"
    assert streamed[-1]["new_status"] == "CREATE_COMPLETE"
    assert "said" in follow.err  # the outputs table ends a follow
    resources = json.loads(cool("resources", build_id, "--long", "-f", "json").out)
    assert {r["Attempts"] for r in resources if r["Name"] == "first"} <= {1, 2}


def test_ctrl_c_stops_following_and_leaves_the_build_alone(
    cool: Cool, system: LocalSystem, tmp_path: Path
) -> None:
    build = _submit(cool, _slow(tmp_path, 20))
    process = subprocess.Popen(
        cool_command("events", build["id"], "--follow"),
        env=cool_env(system),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        # As in a terminal: a test run started in the background (nohup, `&` in a
        # script) passes SIGINT on ignored, and Python then never raises KeyboardInterrupt.
        preexec_fn=_sigint_as_in_a_terminal,  # noqa: PLW1509 - one signal(), no lock
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()  # following has begun
        assert "CREATE_QUEUED" in first_line
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130
    assert f"Resume with: cool events {build['id']} --follow" in err
    assert "Traceback" not in err
    state = json.loads(cool("status", build["id"], "-f", "json").out)
    # not cancelled: still on its way, or done if this machine is slow enough
    assert state["status"] in ("CREATE_QUEUED", "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    cool("cancel", build["id"])  # leave the workers free (a 409 if it is done)


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_a_cloud_that_is_not_in_clouds_yaml_spares_offline_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("OS_CLOUD", "nosuch")
    offline = run_cool("validate", EXAMPLES / "single-server.yaml", "-f", "value", "-c", "Resource")
    assert offline.rc == 0, offline.err
    assert offline.out.split() == ["key", "server"]
    remote = run_cool("list")
    assert remote.rc == 1
    assert remote.err.strip() == (
        "cannot load the cloud's configuration: Cloud nosuch was not found."
    )


def test_outputs_are_shown_as_they_are_not_as_markup(cool: Cool, tmp_path: Path) -> None:
    """rich reads '[...]' as markup: an output like this one crashed the live view."""
    odd = "[/etc] a[/b] ssh [bastion] host"
    path = _template(
        tmp_path,
        {"v": {"type": "OS::Heat::Value", "properties": {"value": odd}}},
        {"odd": {"value": {"get_attr": ["v", "value"]}}},
    )
    build = _submit(cool, path, "--wait")
    assert build["outputs"]["odd"]["value"] == odd
    followed = cool("events", build["id"], "--follow")
    assert followed.rc == 0, followed.err
    assert odd in followed.err


def test_the_autoscaling_example_grows_when_its_scale_up_url_is_posted(
    system: LocalSystem,
) -> None:
    """The README's tour: the example's scale_up_url, POSTed with nothing else (no user,
    no token but the URL's), adds a server; the build says so when the update is done."""
    result = run_cool_process(
        system, "submit", EXAMPLES / "autoscaling.yaml", "--wait", "-f", "json"
    )
    assert result.rc == 0, result.err
    build = json.loads(result.out)
    assert build["outputs"]["size"]["value"] == 2
    answer = requests.post(build["outputs"]["scale_up_url"]["value"], timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["resized"] is True

    def updated() -> dict[str, Any] | None:
        shown = run_cool_process(system, "status", build["id"], "-f", "json")
        assert shown.rc == 0, shown.err
        now = json.loads(shown.out)
        return now if now["status"] == "UPDATE_COMPLETE" else None

    done = assert_eventually(updated, timeout_s=60, message="the group is resized")
    assert done["outputs"]["size"]["value"] == 3
    listed = json.loads(run_cool_process(system, "outputs", build["id"], "-f", "json").out)
    assert {row["Output"]: row["Value"] for row in listed}["size"] == 3
    assert done["finished"] is True
