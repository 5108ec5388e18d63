"""The CLI's errors in cool's one tree: what the API said, and whether to try again."""

from __future__ import annotations

import pytest

from cool.cli.client import ApiError, ApiProblem, ApiUnreachableError
from cool.cli.diagnostics import ReportedError
from cool.cli.follow import FollowInterruptedError
from cool.errors import CoolError


def _problem(status: int) -> ApiProblem:
    return ApiProblem(status, "cool.store.unavailable", "Service unavailable", "ZooKeeper away")


@pytest.mark.parametrize(("status", "retryable"), [(502, True), (503, True), (504, True)])
def test_client_errors_an_unavailable_api_is_worth_trying_again(
    status: int, retryable: bool
) -> None:
    error = ApiError(status, [_problem(status)], "req-1")
    assert isinstance(error, CoolError)
    assert (error.status, error.retryable) == (status, retryable)
    assert (str(error), error.problems, error.request_id) == (
        "ZooKeeper away",
        [_problem(status)],
        "req-1",
    )


@pytest.mark.parametrize("status", [400, 404, 409, 500])
def test_client_errors_a_refusal_is_final(status: int) -> None:
    error = ApiError(status, [], None)
    assert (error.status, error.retryable, str(error)) == (status, False, f"HTTP {status}")
    assert error.code == "cool.cli.api_refused"


def test_client_errors_no_answer_at_all_is_worth_trying_again() -> None:
    error = ApiUnreachableError("cannot reach cool at http://127.0.0.1:1: refused")
    assert isinstance(error, CoolError)
    assert (error.retryable, error.status, error.code) == (True, 503, "cool.cli.api_unreachable")
    assert str(error) == "cannot reach cool at http://127.0.0.1:1: refused"


def test_client_errors_the_cli_signals_carry_their_message() -> None:
    assert str(ReportedError("t.yaml: 2 problems found")) == "t.yaml: 2 problems found"
    assert isinstance(FollowInterruptedError(), CoolError)  # raised with no argument
