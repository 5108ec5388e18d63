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
