"""The one error tree of cool.

Every error cool raises on purpose derives from :class:`CoolError`. Each
carries a stable machine-readable ``code`` (used in the API's error entries),
an HTTP ``status`` for the API to answer with, and ``retryable`` so callers
know whether trying again can help without inspecting the class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cool.template.problems import Problem


class CoolError(Exception):
    code: str = "cool.error"
    status: int = 500
    title: str = "Internal error"
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(CoolError):
    """The operator's configuration or plugins are inconsistent."""

    code = "cool.config.invalid"
    title = "Invalid configuration"


class TemplateInvalidError(CoolError):
    """A template, or the parameters given for it, were refused.

    Holds *every* problem found, each with its own code and location, so a
    user fixes them all in one round trip.
    """

    code = "cool.template.invalid"
    status = 400
    title = "Invalid template"

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("TemplateInvalidError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        first = self.problems[0]
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{first.message}{suffix}")


class TemplateTooLargeError(TemplateInvalidError):
    """The template text is over the configured size limit (HTTP 413)."""

    code = "cool.template.too_large"
    status = 413
    title = "Template too large"


class BuildNotFoundError(CoolError):
    """No such build (or not one the caller may see: the API never says which)."""

    code = "cool.build.not_found"
    status = 404
    title = "Build not found"


class BuildRequestInvalidError(CoolError):
    """A build request outside what the deployment allows (a timeout over the maximum)."""

    code = "cool.build.invalid"
    status = 400
    title = "Invalid build request"


class BuildConflictError(CoolError):
    """The request does not fit the build's state (for example cancelling a finished build)."""

    code = "cool.build.conflict"
    status = 409
    title = "Conflict"


class StoreUnavailableError(CoolError):
    """ZooKeeper cannot be reached now; the same request may succeed later."""

    code = "cool.store.unavailable"
    status = 503
    title = "Service unavailable"
    retryable = True


class ClaimLostError(CoolError):
    """This worker no longer owns the build: its lease moved on, or its session ended.

    Whoever sees it stops working on the build at once and writes nothing.
    """

    code = "cool.worker.claim_lost"


class CommitUnknownError(CoolError):
    """The connection dropped during a write: it may or may not have been applied.

    The caller re-reads what is recorded and carries on from there.
    """

    code = "cool.store.commit_unknown"
    retryable = True
