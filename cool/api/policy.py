"""Who may do what: oslo.policy rules registered in code, overridable by policy.yaml.

Three personas, scoped to the caller's project as in the rest of OpenStack
(Keystone's default roles imply each other: admin > member > reader):

- a **reader** of a project sees its builds, their resources and events;
- a **member** also submits, cancels and deletes them;
- an **admin** (``role:admin``, the cloud administrator) sees every
  project's builds and the workers.

A build of another project is a 404, never a 403: :meth:`Authorizer.build`
answers 403 only to a caller who could at least read the build.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from oslo_config import cfg
from oslo_context.context import RequestContext
from oslo_policy import policy

from cool.errors import BuildNotFoundError, PolicyNotAuthorizedError

ADMIN = "role:admin"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
PROJECT_MEMBER = "role:member and project_id:%(project_id)s"

BUILDS = "/v1/builds"
BUILD = "/v1/builds/{build_id}"

_BASE = [
    policy.RuleDefault("admin", ADMIN, description="The cloud administrator."),
    policy.RuleDefault(
        "project_reader", PROJECT_READER, description="A reader of the target's project."
    ),
    policy.RuleDefault(
        "project_member", PROJECT_MEMBER, description="A member of the target's project."
    ),
]


def _rule(name: str, check: str, description: str, *operations: tuple[str, str]) -> Any:
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=check,
        description=description,
        operations=[{"method": method, "path": path} for method, path in operations],
        scope_types=["project"],
    )


_RULES = [
    _rule("cool:build:create", "rule:project_member", "Submit a build.", ("POST", BUILDS)),
    _rule(
        "cool:build:validate",
        "rule:project_reader",
        "Validate a template (a dry run: nothing is stored).",
        ("POST", "/v1/validate"),
    ),
    _rule("cool:build:list", "rule:project_reader", "List a project's builds.", ("GET", BUILDS)),
    _rule(
        "cool:build:list_all_projects",
        "rule:admin",
        "List the builds of every project (?all_projects=true).",
        ("GET", BUILDS),
    ),
    _rule(
        "cool:build:get",
        "rule:admin or rule:project_reader",
        "Show a build: status, note, progress, outputs.",
        ("GET", BUILD),
    ),
    _rule(
        "cool:build:resources",
        "rule:admin or rule:project_reader",
        "List a build's resources.",
        ("GET", f"{BUILD}/resources"),
    ),
    _rule(
        "cool:build:events",
        "rule:admin or rule:project_reader",
        "List (and long-poll) a build's events.",
        ("GET", f"{BUILD}/events"),
    ),
    _rule(
        "cool:build:cancel",
        "rule:admin or rule:project_member",
        "Cancel a build in progress.",
        ("POST", f"{BUILD}/cancel"),
    ),
    _rule(
        "cool:build:delete",
        "rule:admin or rule:project_member",
        "Delete a build: tear down what it built.",
        ("DELETE", BUILD),
    ),
    _rule(
        "cool:build:signal",
        "rule:admin or rule:project_reader",
        "Signal a build's wait condition handle with a Keystone token (the Heat API's "
        "resource signal). A server signals with the handle's own token instead, at "
        "/v1/signals/{build_id}/{handle}, which needs no Keystone user. Readers, as in "
        "Heat: they can read the handle's token anyway.",
        ("POST", "/v1/{project_id}/stacks/{stack_name}/{stack_id}/resources/{resource}/signal"),
    ),
    _rule("cool:worker:list", "rule:admin", "List live workers.", ("GET", "/v1/workers")),
]


def list_rules() -> list[policy.RuleDefault]:
    """For oslopolicy-sample-generator (entry point ``oslo.policy.policies``: cool)."""
    return [*_BASE, *_RULES]


def make_enforcer(conf: cfg.ConfigOpts) -> policy.Enforcer:
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer


_DECISIONS = 4096  # remembered decisions (callers x rules x targets), oldest dropped first


def _frozen(values: Mapping[str, Any]) -> Hashable:
    """Every credential and target value, whatever its type, as one key."""
    return json.dumps(values, sort_keys=True, default=str)


def get_enforcer() -> policy.Enforcer:
    """For oslopolicy-checker and friends (entry point ``oslo.policy.enforcer``: cool)."""
    conf = cfg.ConfigOpts()
    conf([], project="cool")
    return make_enforcer(conf)


class Authorizer:
    """oslo.policy's decisions, remembered for ``cache_ttl_s``.

    A decision depends only on the rule, the caller's credentials and the
    target, and checking one costs more than the rest of a read (oslo.policy
    inspects each check's signature on every call, and looks for a changed
    policy file): the same caller asking the same thing again within the TTL
    gets the same answer without asking again. A changed ``policy.yaml``
    therefore applies within ``cache_ttl_s``; 0 asks oslo.policy every time.
    """

    def __init__(
        self,
        enforcer: policy.Enforcer,
        *,
        cache_ttl_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enforcer = enforcer
        self.cache_ttl_s = cache_ttl_s
        self.clock = clock
        self._decisions: OrderedDict[Hashable, tuple[float, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def allows(self, rule: str, context: RequestContext, target: dict[str, Any]) -> bool:
        if self.cache_ttl_s <= 0:
            return self._decide(rule, context, target)
        key = (rule, _frozen(context.to_policy_values()), _frozen(target))
        now = self.clock()
        with self._lock:
            cached = self._decisions.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        decision = self._decide(rule, context, target)
        with self._lock:
            self._decisions[key] = (now + self.cache_ttl_s, decision)
            self._decisions.move_to_end(key)
            while len(self._decisions) > _DECISIONS:
                self._decisions.popitem(last=False)
        return decision

    def _decide(self, rule: str, context: RequestContext, target: dict[str, Any]) -> bool:
        try:
            return bool(self.enforcer.authorize(rule, target, context, do_raise=False))
        except policy.InvalidScope:
            return False

    def require(self, rule: str, context: RequestContext, project_id: str | None = None) -> None:
        """An action on the caller's own project (or ``project_id``): 403 when refused."""
        target = {"project_id": project_id or context.project_id}
        if not self.allows(rule, context, target):
            raise PolicyNotAuthorizedError(f"policy does not allow {rule}")

    def build(self, rule: str, context: RequestContext, project_id: str, build_id: str) -> None:
        """An action on one build: 404 unless the caller may at least read it, then 403."""
        target = {"project_id": project_id}
        if self.allows(rule, context, target):
            return
        if rule != "cool:build:get" and self.allows("cool:build:get", context, target):
            raise PolicyNotAuthorizedError(f"policy does not allow {rule} on this build")
        raise BuildNotFoundError(f"no build {build_id!r}")
