"""Which kazoo errors mean what: the outcome of a request unknown, or ZooKeeper unavailable."""

from __future__ import annotations

import pytest
from kazoo.exceptions import (
    ConnectionLoss,
    NoNodeError,
    OperationTimeoutError,
    SessionExpiredError,
)
from kazoo.handlers.threading import KazooTimeoutError

from cool.errors import StoreUnavailableError
from cool.store.client import NotConnectedError
from cool.store.outcomes import UNAVAILABLE, UNKNOWN_OUTCOME, unavailable_as_error


def test_an_unknown_outcome_is_a_request_unanswered_while_the_session_may_live() -> None:
    assert set(UNKNOWN_OUTCOME) == {ConnectionLoss, OperationTimeoutError, KazooTimeoutError}
    # The session's end means more (its ephemeral nodes are gone): told apart by the fence.
    assert not issubclass(SessionExpiredError, UNKNOWN_OUTCOME)
    # Never sent, but a ConnectionLoss: a caller to whom that matters catches it first.
    assert issubclass(NotConnectedError, UNKNOWN_OUTCOME)


def test_unavailable_is_an_unknown_outcome_or_the_session_ended() -> None:
    assert set(UNAVAILABLE) == {*UNKNOWN_OUTCOME, SessionExpiredError}


@pytest.mark.parametrize("error", [*UNAVAILABLE, NotConnectedError])
def test_unavailable_as_error_makes_each_a_store_unavailable_error(
    error: type[Exception],
) -> None:
    with (
        pytest.raises(StoreUnavailableError, match=error.__name__) as caught,
        unavailable_as_error(),
    ):
        raise error()
    assert isinstance(caught.value.__cause__, error)


def test_unavailable_as_error_leaves_other_errors_alone() -> None:
    with pytest.raises(NoNodeError), unavailable_as_error():
        raise NoNodeError()
