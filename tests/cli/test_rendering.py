"""How the CLI words what the API says: pure functions, no server."""

from __future__ import annotations

from cool.cli.client import ApiError, ApiProblem, _problems, _why
from cool.cli.follow import event_line, note_lines, output_value
from cool.cli.remote import describe


def test_an_event_is_one_line_with_time_resource_change_and_reason() -> None:
    event = {
        "id": 7,
        "at": "2026-12-01T16:05:56.341Z",
        "resource": "web",
        "old_status": "CREATE_IN_PROGRESS",
        "new_status": "CREATE_COMPLETE",
        "reason": "created",
    }
    assert event_line(event) == "16:05:56.341 web CREATE_IN_PROGRESS -> CREATE_COMPLETE: created"
    first = {"at": "2026-12-01T16:05:55.000Z", "resource": None, "new_status": "CREATE_QUEUED"}
    assert event_line(first) == "16:05:55.000 build CREATE_QUEUED"


def test_a_note_says_what_failed_and_why() -> None:
    note = {
        "resource": "web",
        "type": "OS::Nova::Server",
        "action": "CREATE",
        "error": "No valid host was found",
        "worker": "w-1",
        "at": "2026-12-01T16:05:56.341Z",
    }
    assert note_lines(note, None) == [
        "CREATE of web (OS::Nova::Server) failed",
        "  error: No valid host was found",
        "  worker: w-1",
        "  at: 2026-12-01T16:05:56.341Z",
    ]
    deadline = {"resource": None, "action": "CREATE", "error": "the build did not finish"}
    assert note_lines(deadline, None)[:2] == ["CREATE failed", "  error: the build did not finish"]
    assert note_lines(None, "cancelled") == ["cancelled"]


def test_an_output_shows_its_value() -> None:
    assert output_value({"value": [1, 2], "description": "d"}) == [1, 2]
    assert output_value("bare") == "bare"


def test_template_problems_are_located_in_the_file_and_others_are_one_line() -> None:
    text = "heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Nope}\n"
    located = ApiProblem(
        400,
        "cool.template.unsupported_resource_type",
        "Invalid template",
        "resource type 'OS::Nope' is not supported",
        {"pointer": "/resources/a/type", "line": 3, "column": 15},
    )
    field = ApiProblem(
        400, "cool.request.unknown_field", "Bad request", "unknown field 'x'", {"pointer": "/x"}
    )
    shown = describe(ApiError(400, [located, field], "req-1"), "t.yaml", text).splitlines()
    assert shown == [
        "t.yaml:3:15: cool.template.unsupported_resource_type: resource type 'OS::Nope' is "
        "not supported [/resources/a/type]",
        "    a: {type: OS::Nope}",
        "                ^",
        "cool.request.unknown_field: unknown field 'x' [/x]",
    ]


def test_a_foreign_error_body_still_makes_one_problem() -> None:
    (problem,) = _problems(502, "<html>Bad Gateway</html>", "Bad Gateway")
    assert (problem.status, problem.code, problem.detail) == (502, "http.502", "Bad Gateway")
    (entry,) = _problems(404, {"errors": [{"code": "cool.build.not_found", "detail": "no"}]}, "x")
    assert (entry.code, entry.detail, entry.status) == ("cool.build.not_found", "no", 404)


def test_a_connection_error_is_said_in_the_sockets_words() -> None:
    long = (
        "Unable to establish connection to http://127.0.0.1:1/v1: HTTPConnectionPool(...): "
        'Max retries exceeded (Caused by NewConnectionError("...: Failed to establish a new '
        'connection: [Errno 111] Connection refused"))'
    )
    assert _why(Exception(long)) == "Connection refused"
    assert _why(Exception("short")) == "short"


def test_a_build_is_expected_to_end_as_its_action_should() -> None:
    from cool.cli.follow import expected_end, succeeded

    assert expected_end({"status": "CREATE_IN_PROGRESS"}) == {"CREATE_COMPLETE"}
    assert expected_end({"status": "DELETE_IN_PROGRESS"}) == {"DELETE_COMPLETE"}
    assert expected_end({"status": "UPDATE_IN_PROGRESS"}) == {"UPDATE_COMPLETE"}
    # a submit --wait whose build someone else deleted did not succeed
    deleted = {"status": "DELETE_COMPLETE"}
    assert not succeeded(deleted, frozenset({"CREATE_COMPLETE"}))
    assert succeeded(deleted, frozenset({"DELETE_COMPLETE"}))


def test_a_heat_environment_file_gives_its_defaults_then_its_values(tmp_path) -> None:
    from cool.cli.validate import load_parameter_file

    env = tmp_path / "env.yaml"
    env.write_text(
        "parameter_defaults: {size: 1, name: base}\n"
        "parameters: {size: 3}\n"
        "resource_registry: {'OS::X': x.yaml}\n"
    )
    assert load_parameter_file(str(env)) == {"size": 3, "name": "base"}
    plain = tmp_path / "values.yaml"
    plain.write_text("size: 2\n")
    assert load_parameter_file(str(plain)) == {"size": 2}


def test_attributes_in_a_table_are_one_short_line_each_and_whole_in_json() -> None:
    from cool.cli.remote import shown_attributes

    attributes = {
        "name": "web",
        "first_address": "10.0.0.5",
        "show": {"id": "abc", "name": "web", "networks": {"private": ["10.0.0.5"]}, "x": "y" * 80},
        "networks": {"private": ["10.0.0.5"]},
    }
    table = shown_attributes(attributes, "table").splitlines()
    assert [line.split(":")[0] for line in table] == ["first_address", "name", "networks", "show"]
    assert table[0] == "first_address: 10.0.0.5"
    assert table[2] == 'networks: {"private": ["10.0.0.5"]}'
    assert table[3].startswith('show: {"id": "abc", ')
    assert table[3].endswith("…")
    assert max(len(line) for line in table) <= 60
    assert shown_attributes(attributes, "json") == attributes
    assert shown_attributes(attributes, "yaml") == attributes
    # Other text formats (value, csv, shell) are for scripts: nothing cut.
    assert '"x": "' + "y" * 80 in shown_attributes(attributes, "value")
    assert shown_attributes({}, "table") == ""
    assert shown_attributes(None, "table") == ""


def _resource_event(name: str, old: str, new: str) -> dict:
    return {"id": 1, "resource": name, "old_status": old, "new_status": new}


def test_a_teardown_counts_resources_torn_down_from_zero() -> None:
    """A delete (or rollback) is not 16/16 from its first second: the bar counts what
    is torn down (or retained) out of what was there to tear down."""
    from cool.cli.follow import _View

    created = {"status": "DELETE_IN_PROGRESS", "progress": {"done": 3, "total": 4}}
    view = _View(created)
    view.track(
        [
            {"name": "a", "status": "CREATE_COMPLETE"},
            {"name": "b", "status": "CREATE_COMPLETE"},
            {"name": "kept", "status": "CREATE_COMPLETE"},
            {"name": "never", "status": "PENDING"},  # never created: nothing to tear down
        ]
    )
    assert view.counts() == (0, 3)
    view.apply(_resource_event("a", "CREATE_COMPLETE", "DELETE_IN_PROGRESS"))
    assert view.counts() == (0, 3)
    view.apply(_resource_event("a", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"))
    view.apply(_resource_event("kept", "CREATE_COMPLETE", "RETAINED"))
    assert view.counts() == (2, 3)
    view.build = {**created, "status": "DELETE_COMPLETE", "finished": True}
    view.apply(_resource_event("b", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"))
    assert view.counts() == (3, 3)
    # a create counts what the build says it has done; its rollback, from zero
    view = _View({"status": "CREATE_IN_PROGRESS", "progress": {"done": 1, "total": 2}})
    view.track([{"name": "a", "status": "CREATE_COMPLETE"}, {"name": "b", "status": "PENDING"}])
    assert view.counts() == (1, 2)
    view.build = {"status": "ROLLBACK_IN_PROGRESS", "progress": {"done": 1, "total": 2}}
    assert view.counts() == (0, 1)
    view.build = {"status": "CANCEL_COMPLETE", "progress": {"done": 1, "total": 2}}
    view.apply(_resource_event("a", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"))
    assert view.counts() == (1, 1)


def _rendered(console, renderable) -> list[str]:
    lines = console.render_lines(renderable, console.options, pad=False)
    return ["".join(segment.text for segment in line) for line in lines]


def test_the_live_line_fits_80_columns_with_its_bar() -> None:
    import io

    from rich.console import Console

    from cool.cli.follow import live_progress

    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    progress = live_progress(console, frozenset({"CREATE_COMPLETE"}))
    working = "db_port, router_interface, web_port, web_server_group, db_server"
    task = progress.add_task("build", total=16, status="ROLLBACK_IN_PROGRESS", working=working)
    progress.update(task, completed=6, since=None, until=None)
    [line] = _rendered(console, progress.get_renderable())
    assert len(line) <= 80
    assert "━" in line
    assert " 6/16 " in line
    assert "db_port, router_" in line
    assert line.rstrip().endswith("…")


def test_an_event_line_in_a_terminal_is_one_line_cut_to_its_width() -> None:
    import io

    from rich.console import Console

    from cool.cli.follow import Follower, live_progress

    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    follower = Follower(None, console, console.file)  # type: ignore[arg-type]
    event = {
        "at": "2026-12-01T16:05:56.341Z",
        "resource": None,
        "old_status": "CREATE_QUEUED",
        "new_status": "CREATE_IN_PROGRESS",
        "reason": "claimed by vm-21527-d521bfef-0123456789abcdef (resumed)",
    }
    follower._emit(event, live_progress(console, frozenset({"CREATE_COMPLETE"})))
    [line] = console.file.getvalue().splitlines()
    assert len(line) <= 80
    assert line.startswith("16:05:56.341 build CREATE_QUEUED -> CREATE_IN_PROGRESS: claimed by")
    assert line.endswith("…")
