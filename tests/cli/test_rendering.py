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
