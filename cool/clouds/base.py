"""What a cloud provider is to the worker.

A provider executes resource types. Every call is idempotent in effect:
resources are named and tagged deterministically from the build id and the
resource name (:class:`StepContext`), so a worker that takes over a step
whose outcome is unknown asks :meth:`Provider.find` before it creates
anything (it *adopts* what it finds). Providers never touch ZooKeeper.

Errors say whether trying again can help (``retryable``); the worker's retry
policy (tenacity) decides how often and how long.

**Fencing tokens.** Every call carries the claim's epoch
(:attr:`StepContext.epoch`, the lease version, which only grows). A worker
frozen inside a create (SIGSTOPped, partitioned) may wake after its claim moved
on and land that create late. A provider whose cloud can enforce a fencing
token should: keep, per build, the highest epoch presented, refuse a create
(or delete) that presents a lower one with :class:`StaleClaimError`, atomically
with the side effect, and say so with ``fences_creates = True`` (the sim does,
:mod:`cool.clouds.sim.fencing`). For a provider that cannot (OpenStack's APIs
take no such token), the runner looks each step's tags up again before it
records a terminal status and deletes what it does not own (DESIGN.md
section 5): that costs one ``find`` per resource, which fenced providers skip. It
skips too the types whose ``find`` matches endpoints rather than the step's marks
(:func:`finds_by_mark`): a late create of such a link is not swept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cool.errors import CoolError
from cool.model import NESTED_SEPARATOR

TAG_BUILD = "cool-build"
TAG_RESOURCE = "cool-resource"
MAX_CLOUD_NAME = 255  # what Neutron, Nova and Cinder take for a name
_DIGEST_CHARS = 16


class ProviderError(CoolError):
    """A cloud call failed; ``retryable`` says whether the same call may succeed later."""

    code = "cool.provider.error"
    title = "Cloud error"

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ResourceBusyError(ProviderError):
    """The cloud refuses the call for now because the resource (or one it belongs to) is
    busy changing (Octavia's PENDING_* load balancers): retried for as long as such a
    change may take (:class:`cool.worker.retry.RetryPolicy` ``busy_deadline_s``), not
    a few attempts as other transient errors are."""

    code = "cool.provider.busy"

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class ResourceFailedError(ProviderError):
    """The cloud reports the resource itself failed (ERROR status): not retryable."""

    code = "cool.provider.resource_failed"


class ResourceExistsError(ProviderError):
    """The cloud already has a resource by that name (HTTP 409). If it carries the
    step's tags it is ours (a create whose reply was lost): adopt it."""

    code = "cool.provider.exists"


class StaleClaimError(ProviderError):
    """The cloud refused a call whose fencing token (claim epoch) is older than one it
    has seen for the build: the claim moved on. The worker treats it as its claim lost."""

    code = "cool.provider.stale_claim"


class ResourceGoneError(ProviderError):
    """The resource does not exist (any more). A delete treats this as done."""

    code = "cool.provider.not_found"


@dataclass(frozen=True, slots=True)
class StepContext:
    """Who a cloud call is for: the names and tags that make it idempotent."""

    build_id: str
    resource_name: str
    resource_type: str
    project_id: str
    build_name: str = ""
    trust_id: str = ""  # the submitter's Keystone trust, when the build has one
    # The step's properties, references resolved: what links (a router interface,
    # an association) are found by, and what a create converges to.
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False)
    epoch: int = 0  # the claim's fencing token (the lease version); 0: none (tools, tests)
    # HOT ``external_id``: the resource is someone else's, adopted by that id. A
    # provider only reads it: no tag, no mark, no change of any kind.
    external_id: str | None = None
    # What the step's references name that this build made: physical id -> type. A
    # reference to one is an id known to exist, so a provider need not look it up.
    made: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def cloud_name(self) -> str:
        """The deterministic name of the cloud resource (when the template gives none).

        A nested stack's resource (``web/0/server``) is named ``web.0.server``: a name
        must stay valid for every cloud API, and some refuse ``/`` (Nova key pair names
        allow only letters, digits, ``_``, ``-``, ``.`` and space before microversion
        2.92). The tags keep the full name, so two names that map alike stay apart.
        A name past :data:`MAX_CLOUD_NAME` (a 255-character resource name) keeps its
        start and ends with a digest of the exact resource name, deterministically.
        """
        name = f"cool-{self.build_id.lower()}-{self.resource_name.replace(NESTED_SEPARATOR, '.')}"
        if len(name) <= MAX_CLOUD_NAME:
            return name
        digest = hashlib.sha256(self.resource_name.encode()).hexdigest()[:_DIGEST_CHARS]
        return f"{name[: MAX_CLOUD_NAME - _DIGEST_CHARS - 1]}-{digest}"

    @property
    def tags(self) -> dict[str, str]:
        return {TAG_BUILD: self.build_id, TAG_RESOURCE: self.resource_name}


@dataclass(frozen=True, slots=True)
class Found:
    """A cloud resource that carries a step's tags."""

    physical_id: str
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Observed:
    """What polling a resource tells: ready, failed (with why), or still building.

    ``reference`` is what ``get_resource`` gives for it, when that is not its
    physical id (as in Heat: a key pair's name, a random string's value).
    """

    ready: bool
    failed: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    reference: str | None = None


# Link types whose OpenStack find matches the link's endpoints (a router and a subnet,
# a floating IP and a port, a server and a volume, a router and its gateway network, a
# QoS policy and its one rule of a kind, a Keystone user or group and its roles), not
# marks of the step: the same link made by another build is found too. (Their clouds
# keep no tags on a link.)
ENDPOINT_FOUND_TYPES = frozenset(
    {
        "OS::Neutron::RouterInterface",
        "OS::Neutron::RouterGateway",
        "OS::Neutron::QoSBandwidthLimitRule",
        "OS::Neutron::QoSDscpMarkingRule",
        "OS::Neutron::FloatingIPAssociation",
        "OS::Nova::FloatingIPAssociation",
        "OS::Cinder::VolumeAttachment",
        "OS::Keystone::UserRoleAssignment",
        "OS::Keystone::GroupRoleAssignment",
    }
)


def finds_by_mark(provider: object, resource_type: str) -> bool:
    """Whether ``find`` returns only what carries the step's own marks (its build's and
    resource's tags or names) for this type. A provider says so with a
    ``finds_by_mark(resource_type)`` method; without one, every type but
    :data:`ENDPOINT_FOUND_TYPES` is. The re-check before a terminal status deletes what
    ``find`` returns that the ledger does not own: for a type found by its endpoints,
    that could be another build's identical link, so the re-check skips such types."""
    method = getattr(provider, "finds_by_mark", None)
    if callable(method):
        return bool(method(resource_type))
    return resource_type not in ENDPOINT_FOUND_TYPES


def fences_creates(provider: object) -> bool:
    """Whether a provider refuses stale creates itself (see "Fencing tokens" above)."""
    return bool(getattr(provider, "fences_creates", False))


class Provider(Protocol):
    """Executes the resource types it supports (``types``)."""

    name: str

    def supports(self, resource_type: str) -> bool: ...

    def create(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        """Start creating the resource; its physical id. Tags it with ``ctx.tags``."""
        ...

    def find(self, ctx: StepContext) -> list[Found]:
        """Every live resource tagged for this step, oldest first."""
        ...

    def observe(self, ctx: StepContext, physical_id: str) -> Observed:
        """Poll a resource; raises ResourceGoneError when it does not exist."""
        ...

    def delete(self, ctx: StepContext, physical_id: str) -> None:
        """Start deleting; a resource already gone is not an error."""
        ...

    def is_deleted(self, ctx: StepContext, physical_id: str) -> bool:
        """Has a delete finished?"""
        ...
