"""A scaling policy's signal: ``POST`` to its ``alarm_url`` (cool.api.signals' route,
with the policy's token in the query), or the Heat API's resource signal.

The policy's token is a capability for this one policy of this one build, as Heat's
pre-signed alarm URL is: an alarm service (Aodh) or ``curl -X POST`` needs nothing
else. The resize itself is recorded by :mod:`cool.store.scaling` and run by a worker;
the answer comes at once: 200, and whether the group is being resized, or why not (a
cooldown, a build not complete, a size that would not change: Heat's NoActionRequired,
which it answers 200 to as well).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from cool.api.services import Services
from cool.errors import ResizeRefusedError
from cool.model import Plan
from cool.store.scaling import Outcome, Recipe, Resizes
from cool.template.compile import check
from cool.template.environment import Source

LOG = logging.getLogger(__name__)


def resize(
    services: Services, build_id: str, policy: str, body: Any, *, request_id: str = ""
) -> Outcome:
    """Record the signal's resize (or nothing), and log what it did."""
    outcome = Resizes(services.store).signal(
        build_id,
        policy,
        body,
        compile_plan=lambda recipe, members: _compile(services, recipe, members),
        max_members=services.limits.max_total_resources,
        request_id=request_id,
    )
    LOG.info(
        "build %s: scaling policy %s signalled: %s%s",
        build_id,
        policy,
        "" if outcome.resized else "nothing done: ",
        outcome.reason,
    )
    return outcome


def shown(outcome: Outcome) -> dict[str, Any]:
    return {
        "resized": outcome.resized,
        "reason": outcome.reason,
        "status": str(outcome.state.status),
    }


def _compile(services: Services, recipe: Recipe, members: Mapping[str, Sequence[str]]) -> Plan:
    """The build's template compiled again, the group's members named. It compiled when
    the build was submitted: a problem now is the new size (over [template]
    max_total_resources), or cool or its configuration changed."""
    report = check(
        recipe.template,
        services.registry,
        recipe.parameters,
        services.limits,
        environments=tuple(Source(name, text) for name, text in recipe.environments),
        files=recipe.files,
        members=members,
    )
    if report.problems or report.plan is None:
        problems = "; ".join(p.message for p in report.problems[:3])
        raise ResizeRefusedError(
            f"the resized build's template does not compile, so its group is not resized: "
            f"{problems or 'no plan'}"
        )
    return report.plan
