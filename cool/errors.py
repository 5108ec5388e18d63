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


class ResizeRefusedError(BuildConflictError):
    """A scaling policy's resize that cannot be planned (too many members, a template
    that no longer compiles): nothing was changed."""

    code = "cool.build.resize_refused"
    title = "Resize refused"


class IdempotencyKeyReusedError(CoolError):
    """An Idempotency-Key already used for a different request (IETF httpapi draft: 422)."""

    code = "cool.build.idempotency_key_reused"
    status = 422
    title = "Idempotency-Key reused"


class BuildNameExistsError(BuildConflictError):
    """A live build of the project has this name already (Heat's StackExists). A
    name is freed when its build is DELETE_COMPLETE, or pruned."""

    code = "cool.build.name_exists"
    title = "Build name exists"

    def __init__(self, message: str, build_id: str | None = None) -> None:
        super().__init__(message)
        self.build_id = build_id  # the build that holds the name, when known


class RequestInvalidError(CoolError):
    """A request the API cannot take (its body, its query): one entry per problem.

    Each problem is a :class:`RequestProblem` (the pointer locates it in the
    JSON body, the parameter names a query parameter or header, as the API-SIG
    error format's ``source`` does), or a template :class:`Problem` found in
    the same request: a caller fixes everything in one round trip.
    """

    code = "cool.request.invalid"
    status = 400
    title = "Invalid request"

    def __init__(self, problems: Sequence[RequestProblem | Problem]) -> None:
        if not problems:
            raise ValueError("RequestInvalidError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(getattr(p, "detail", None) or p.message for p in problems))


class RequestProblem:
    """One thing wrong with a request (not its template: see TemplateInvalidError)."""

    __slots__ = ("code", "detail", "parameter", "pointer")

    def __init__(
        self, code: str, detail: str, *, pointer: str | None = None, parameter: str | None = None
    ) -> None:
        self.code = code
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter

    def __repr__(self) -> str:
        return f"RequestProblem({self.code!r}, {self.detail!r})"


class UnsupportedMediaTypeError(CoolError):
    code = "cool.request.unsupported_media_type"
    status = 415
    title = "Unsupported media type"


class RequestTooLargeError(CoolError):
    code = "cool.request.too_large"
    status = 413
    title = "Request Entity Too Large"  # as oslo.middleware's own 413 is titled


class SignalNotFoundError(CoolError):
    """No open wait condition handle for that build, name and token: wrong, stale
    (its build no longer creating) or revoked. The API never says which."""

    code = "cool.signal.not_found"
    status = 404
    title = "Not found"


class SignalLimitError(CoolError):
    """A handle holds as many signals (or bytes of them) as it may."""

    code = "cool.signal.limit"
    status = 409
    title = "Conflict"


class NotAuthenticatedError(CoolError):
    code = "cool.auth.unauthenticated"
    status = 401
    title = "Unauthorized"


class PolicyNotAuthorizedError(CoolError):
    """oslo.policy said no to a caller who may see the build (else it is a 404)."""

    code = "cool.auth.forbidden"
    status = 403
    title = "Forbidden"


class DelegationRefusedError(CoolError):
    """Keystone would not let the caller delegate to cool what a build needs (a trust).

    For example a token from an application credential, or a trust-scoped one:
    Keystone lets neither make trusts. The caller may do nothing about it with
    this token, hence 403.
    """

    code = "cool.auth.delegation_refused"
    status = 403
    title = "Forbidden"


class KeystoneUnavailableError(CoolError):
    """Keystone cannot be reached, or failed (5xx), now; the same request may succeed later."""

    code = "cool.keystone.unavailable"
    status = 503
    title = "Service unavailable"
    retryable = True


class StoreUnavailableError(CoolError):
    """ZooKeeper cannot be reached now; the same request may succeed later."""

    code = "cool.store.unavailable"
    status = 503
    title = "Service unavailable"
    retryable = True


class SubmitOutcomeUnknownError(StoreUnavailableError):
    """A submit was sent to ZooKeeper and no answer came: the build may exist.

    Its id is known: GET it to find out, or retry with the same Idempotency-Key.
    """

    code = "cool.store.commit_unknown"

    def __init__(self, build_id: str) -> None:
        super().__init__(
            f"ZooKeeper did not answer in time: build {build_id} may or may not have been "
            f"stored (and may still appear). GET /v1/builds/{build_id} tells; retry with "
            "the same Idempotency-Key to get it or a new one, never a second"
        )
        self.build_id = build_id


class ClaimLostError(CoolError):
    """This worker no longer owns the build: its lease moved on, or its session ended.

    Whoever sees it stops working on the build at once and writes nothing.
    """

    code = "cool.worker.claim_lost"


class LeadershipLostError(CoolError):
    """This process no longer holds the GC election: it must stop pruning."""

    code = "cool.gc.leadership_lost"


class CommitUnknownError(CoolError):
    """The connection dropped during a write: it may or may not have been applied.

    The caller re-reads what is recorded and carries on from there.
    """

    code = "cool.store.commit_unknown"
    retryable = True


class RecordTooLargeError(CoolError):
    """A ZooKeeper write would exceed what one request may carry: refused before it is
    sent (ZooKeeper drops the connection of a client that sends a packet over its
    limit, and the client would resend it forever)."""

    code = "cool.store.record_too_large"

    def __init__(self, record: str, size: int, limit: int) -> None:
        super().__init__(
            f"{record} would be {size:,} bytes, over the {limit:,}-byte limit of one "
            "ZooKeeper write; it was not written"
        )
        self.record = record
        self.size = size
        self.limit = limit


class ResolutionTooLargeError(CoolError):
    """Resolving a template's functions would produce more than its budget allows.

    Raised while the value is produced, before it exists: at validation it becomes
    a located problem (400); at run time it fails the build with a note.
    """

    code = "cool.template.resolution_too_large"
    status = 400
    title = "Invalid template"
